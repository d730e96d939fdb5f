//! The `snapshot/` cases: BACKUP … WITH SNAPSHOT (VDC_PrepareToFreeze, VDC_Snapshot) and
//! RESTORE … WITH SNAPSHOT (VDC_MountSnapshot) through the volume-directory contract of
//! docs/snapshots.md, and the freeze window against the server's `--max-freeze`.

use crate::catalogue::{Builder, Check, Mode, Op, Step, Tier};
use std::time::Duration;
use vdi_server::jobs::JobFaults;

/// How long the server of `snapshot/client-killed-frozen` holds the freeze before part 2 of
/// the metadata (time-scaled): the harness kills the client in it.
pub const KILL_FREEZE_HOLD: Duration = Duration::from_secs(2);

/// The small `--max-freeze` of `snapshot/freeze-limit-1s` (time-scaled): the reference
/// client holds the freeze for a few milliseconds (docs/snapshots.md).
pub const SMALL_MAX_FREEZE: Duration = Duration::from_secs(1);

/// Adds the `snapshot/` cases.
pub(crate) fn add(b: &mut Builder) {
    let with_limit = |op: Op, limit: Option<Duration>| {
        let mut step = Step::new(op, 0);
        step.max_freeze = limit;
        step
    };
    b.case(
        "snapshot/round-trip".into(),
        Tier::Must,
        "CONF-SNAP-001",
        "8.4; 6 VDC_Snapshot, VDC_MountSnapshot",
        "BACKUP … WITH SNAPSHOT: the client answers VDC_PrepareToFreeze, captures the frozen image at VDC_Snapshot; RESTORE … WITH SNAPSHOT: it mounts what it captured, which the server compares byte for byte".into(),
        1,
        Mode::Pipe,
        vec![
            with_limit(Op::SnapshotBackup, None),
            with_limit(Op::SnapshotRestore, None),
        ],
    )
    .checks
    .push((Check::SetReleased, Tier::Must));
    b.case(
        "snapshot/capture-before-complete".into(),
        Tier::Must,
        "CONF-SNAP-001",
        "8.4; 6 VDC_Snapshot",
        "the database changes after the thaw; the snapshot restored must be the frozen one, so the client must have captured it before it completed VDC_Snapshot".into(),
        1,
        Mode::Pipe,
        vec![
            with_limit(Op::SnapshotBackup, None),
            with_limit(Op::SnapshotRestore, None).after_workload(),
        ],
    );
    b.case(
        "snapshot/freeze-limit-1s".into(),
        Tier::Should,
        "CONF-SNAP-002",
        "8.4",
        "the server's --max-freeze is 1 s: the client should complete VDC_Snapshot within it; if the server aborts the freeze, the client must end and release its set".into(),
        1,
        Mode::Pipe,
        vec![
            with_limit(Op::SnapshotBackup, Some(SMALL_MAX_FREEZE)).tier(Tier::Should),
            with_limit(Op::SnapshotRestore, Some(SMALL_MAX_FREEZE)),
        ],
    )
    .checks
    .push((Check::SetReleased, Tier::Must));
    let mut killed = Step::new(Op::SnapshotBackup, 0)
        .faults(JobFaults {
            freeze_hold: Some(KILL_FREEZE_HOLD),
            ..JobFaults::default()
        })
        .fails();
    killed.kill_client_frozen = true;
    b.case(
        "snapshot/client-killed-frozen".into(),
        Tier::Must,
        "CONF-SNAP-003",
        "8.4; 6 VDC_Snapshot",
        "the client is killed (SIGKILL) while the database is frozen: the BACKUP fails with 3013, the database thaws, no region of the set stays; then a snapshot of the changed database round-trips".into(),
        1,
        Mode::Pipe,
        vec![
            killed,
            Step::new(Op::SnapshotBackup, 1).after_workload(),
            Step::new(Op::SnapshotRestore, 1),
        ],
    )
    .checks
    .extend([
        (Check::FailsWithMsg(3013), Tier::Must),
        (Check::SetReleased, Tier::Must),
    ]);
}
