//! The catalogue: every case with a stable ID, its rule, the spec section, its tier, and the
//! scenario (client runs and server faults) that exercises it.
//!
//! IDs never change meaning; new cases get new IDs. `CATALOGUE_VERSION` goes up when a case's
//! scenario changes, so that a replay can tell it is running another scenario.

pub use crate::selection::{glob_match, select};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use vdi_proto::VdcCode;
use vdi_server::jobs::{Crash, FaultPoint, JobFaults, ReadSize};

/// Version of the catalogue's scenarios (recorded in transcripts).
pub const CATALOGUE_VERSION: u32 = 3;

/// How much a case matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tier {
    /// A documented requirement: not meeting it is FAIL.
    Must,
    /// Practice the field shows matters: not meeting it is WARN (FAIL under `--strict`'s exit code).
    Should,
    /// Informational.
    Info,
}

impl Tier {
    /// `MUST`, `SHOULD`, `INFO`.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Must => "MUST",
            Tier::Should => "SHOULD",
            Tier::Info => "INFO",
        }
    }
}

/// What the client is asked to do (the `{op}` placeholder).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `BACKUP DATABASE … WITH FORMAT`.
    Backup,
    /// `BACKUP DATABASE … WITH DIFFERENTIAL`.
    BackupDiff,
    /// `BACKUP LOG`.
    BackupLog,
    /// `RESTORE DATABASE … WITH REPLACE` (recovery).
    Restore,
    /// `RESTORE DATABASE … WITH REPLACE, NORECOVERY`.
    RestoreNoRecovery,
    /// `RESTORE LOG` (recovery).
    RestoreLog,
    /// `RESTORE LOG … WITH NORECOVERY`.
    RestoreLogNoRecovery,
    /// `RESTORE VERIFYONLY`.
    VerifyOnly,
    /// `BACKUP LOG … WITH NORECOVERY`: a tail-log backup that leaves the database restoring.
    BackupLogTail,
    /// `BACKUP DATABASE … FILEGROUP = 'PRIMARY'`: a file backup.
    BackupFilegroup,
    /// `RESTORE DATABASE … FILEGROUP = 'PRIMARY' … WITH NORECOVERY`.
    RestoreFilegroupNoRecovery,
    /// `RESTORE LOG … WITH STOPAT = '{stopat}'` (recovery): a point-in-time restore.
    RestoreLogStopAt,
    /// `BACKUP DATABASE … WITH SNAPSHOT` (one device; docs/snapshots.md).
    SnapshotBackup,
    /// `RESTORE DATABASE … WITH SNAPSHOT, REPLACE`: VDC_MountSnapshot.
    SnapshotRestore,
}

impl Op {
    /// The value of `{op}`.
    pub fn name(self) -> &'static str {
        match self {
            Op::Backup => "backup",
            Op::BackupDiff => "backup-diff",
            Op::BackupLog => "backup-log",
            Op::Restore => "restore",
            Op::RestoreNoRecovery => "restore-norecovery",
            Op::RestoreLog => "restore-log",
            Op::RestoreLogNoRecovery => "restore-log-norecovery",
            Op::VerifyOnly => "verifyonly",
            Op::BackupLogTail => "backup-log-tail",
            Op::BackupFilegroup => "backup-filegroup",
            Op::RestoreFilegroupNoRecovery => "restore-filegroup-norecovery",
            Op::RestoreLogStopAt => "restore-log-stopat",
            Op::SnapshotBackup => "snapshot-backup",
            Op::SnapshotRestore => "snapshot-restore",
        }
    }

    /// Whether the client writes media (a BACKUP).
    pub fn is_backup(self) -> bool {
        matches!(
            self,
            Op::Backup
                | Op::BackupDiff
                | Op::BackupLog
                | Op::BackupLogTail
                | Op::BackupFilegroup
                | Op::SnapshotBackup
        )
    }
}

/// The media mode the client is asked to use (the `{mode}` placeholder).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// VDF_LikePipe.
    Pipe,
    /// VDF_LikeTape.
    Tape,
    /// VDF_LikeDisk.
    Disk,
}

impl Mode {
    /// The value of `{mode}`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Pipe => "pipe",
            Mode::Tape => "tape",
            Mode::Disk => "disk",
        }
    }
}

/// What a client run must end in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// The statement succeeds and the client reports success.
    Success,
    /// The server fails the statement (an injected abort or crash): the client must end within
    /// the time limit and should report the failure.
    ServerFails,
}

/// Where the server of a client run lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerSide {
    /// A daemon in the harness's process (every case but the real crashes).
    #[default]
    InProcess,
    /// A daemon in a child process that can really die (`vdisim __conform-server`).
    ChildProcess,
}

/// One client run of a case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Step {
    /// What the client does.
    pub op: Op,
    /// Which media directory it uses (backups write media `n`, restores read it).
    pub media: usize,
    /// The server's faults for this run.
    pub faults: JobFaults,
    /// What it must end in.
    pub expect: Expect,
    /// The tier of `expect` (SHOULD for the timeout cases: giving up on VD_E_TIMEOUT).
    pub tier: Tier,
    /// Change the database before this run (for differential and log backups).
    pub workload_before: bool,
    /// Where the server runs.
    pub server: ServerSide,
    /// `{devices}` of this run when it differs from the case's (a restore with fewer devices
    /// than the backup wrote).
    pub devices: Option<u16>,
    /// The server's `--max-freeze` for this run (time-scaled); `None`: its default (60 s).
    #[serde(default)]
    pub max_freeze: Option<Duration>,
    /// The harness kills the client (SIGKILL, its process group) as soon as the server has
    /// frozen the database for a snapshot.
    #[serde(default)]
    pub kill_client_frozen: bool,
}

impl Step {
    pub(crate) fn new(op: Op, media: usize) -> Step {
        Step {
            op,
            media,
            faults: JobFaults::default(),
            expect: Expect::Success,
            tier: Tier::Must,
            workload_before: false,
            server: ServerSide::InProcess,
            devices: None,
            max_freeze: None,
            kill_client_frozen: false,
        }
    }

    pub(crate) fn in_child_process(mut self) -> Step {
        self.server = ServerSide::ChildProcess;
        self
    }

    pub(crate) fn devices(mut self, devices: u16) -> Step {
        self.devices = Some(devices);
        self
    }

    pub(crate) fn faults(mut self, faults: JobFaults) -> Step {
        self.faults = faults;
        self
    }

    pub(crate) fn fails(mut self) -> Step {
        self.expect = Expect::ServerFails;
        self
    }

    pub(crate) fn tier(mut self, tier: Tier) -> Step {
        self.tier = tier;
        self
    }

    pub(crate) fn after_workload(mut self) -> Step {
        self.workload_before = true;
        self
    }
}

/// A check on what crossed the link, besides each run's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Check {
    /// The client asked for VDF_RequestComplete.
    RequestsComplete,
    /// The client's Create asked for the case's media mode.
    ModeRequested,
    /// The client opened every device.
    AllDevicesOpened,
    /// The client closed (or aborted) its set only after the server's CloseDevice on every device.
    ClosesAfterServer,
    /// The server's buffers honour the client's prefix zone and alignment: every buffer aligned,
    /// its prefix zone in front of it, and no byte the server touched inside a prefix zone.
    BufferLayout,
    /// A run that must fail does so with this SQL Server message, and the client exits non-zero.
    FailsWithMsg(u32),
    /// No region of the client's set stays in /dev/shm after a run.
    SetReleased,
    /// INFO: report an observation of the client's behaviour.
    Observe(Observation),
}

/// What an INFO case reports about the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observation {
    /// The device count, mode and feature bits of its Create, and its prefix zone and alignment.
    CreateRequest,
    /// The Flushes it was sent and how it completed them.
    FlushCompletions,
    /// The most commands it held at once on one device (sent and not yet completed).
    MostInFlight,
    /// How each device reported the end of the data on RESTORE (code, bytes of the last Read).
    EndOfData,
    /// The last command of the backup (VDC_Complete when negotiated, else Flush).
    FinalCommand,
    /// The exit code it gave after a server abort.
    ExitAfterAbort,
}

/// One case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Case {
    /// Stable ID, `area/…`.
    pub id: String,
    /// MUST, SHOULD or INFO.
    pub tier: Tier,
    /// The rule ID (`vdisim rules`, or a harness rule `CONF-…` in docs/conformance.md).
    pub rule: String,
    /// The section of vdi-facts.md.
    pub section: String,
    /// What the case shows.
    pub summary: String,
    /// `{devices}`.
    pub devices: u16,
    /// `{mode}`.
    pub mode: Mode,
    /// The server's BLOCKSIZE (when the statement gives none).
    pub block_size: u32,
    /// The server's MAXTRANSFERSIZE (when the statement gives none).
    pub max_transfer: u32,
    /// The prefix zone the client is asked for (`{prefix}`; 0: none).
    pub prefix_zone: u32,
    /// The alignment the client is asked for (`{alignment}`; 0: none).
    pub client_alignment: u32,
    /// The size of the database the case backs up.
    pub database_bytes: u64,
    /// The client runs, in order.
    pub steps: Vec<Step>,
    /// Checks on the link traffic, with their tiers.
    pub checks: Vec<(Check, Tier)>,
}

impl Case {
    /// The area: the ID up to the first `/` (`media/tape` and `media/disk` keep two parts).
    pub fn area(&self) -> String {
        area_of(&self.id)
    }
}

/// The area of a case ID: up to the first `/` (`media/tape` and `media/disk` keep two parts).
pub fn area_of(id: &str) -> String {
    let mut parts = id.split('/');
    let first = parts.next().unwrap_or_default();
    if first == "media" {
        format!("{first}/{}", parts.next().unwrap_or_default())
    } else {
        first.to_string()
    }
}

/// The database most cases back up: 1 MiB, full recovery.
pub const DATABASE_BYTES: u64 = 1 << 20;
/// The database of a case whose fault point counts commands: big enough that the point comes
/// before the end of the stream whatever MAXTRANSFERSIZE the client asks for (at most 4 MiB:
/// 32 MiB is 8 such transfers).
pub const COUNTED_FAULT_DATABASE_BYTES: u64 = 32 << 20;

/// Whether a run's fault strikes after a number of data commands or completions that a short
/// stream (one of 1 MiB in 4 MiB transfers) may not reach. RESTORE's injected commands come
/// after one-block reads, which any stream has enough of.
fn counts_transfers(step: &Step) -> bool {
    matches!(step.faults.abort_at, Some(FaultPoint::AfterCompletions(n)) if n > 1)
        || (step.faults.inject.is_some() && step.op.is_backup())
}

const KIB: u32 = 1024;
const DEFAULT_TRANSFER: u32 = 64 * KIB;

pub(crate) struct Builder {
    pub(crate) cases: Vec<Case>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn case(
        &mut self,
        id: String,
        tier: Tier,
        rule: &str,
        section: &str,
        summary: String,
        devices: u16,
        mode: Mode,
        steps: Vec<Step>,
    ) -> &mut Case {
        self.cases.push(Case {
            id,
            tier,
            rule: rule.into(),
            section: section.into(),
            summary,
            devices,
            mode,
            block_size: 512,
            max_transfer: DEFAULT_TRANSFER,
            prefix_zone: 0,
            client_alignment: 0,
            database_bytes: DATABASE_BYTES,
            steps,
            checks: Vec::new(),
        });
        self.cases.last_mut().expect("just pushed")
    }
}

fn backup_verify(faults: JobFaults) -> Vec<Step> {
    vec![
        Step::new(Op::Backup, 0).faults(faults),
        Step::new(Op::VerifyOnly, 0),
    ]
}

fn backup_restore(restore_faults: JobFaults) -> Vec<Step> {
    vec![
        Step::new(Op::Backup, 0),
        Step::new(Op::Restore, 0).faults(restore_faults),
    ]
}

/// A run whose `failing` step must fail: a BACKUP, or a RESTORE of a backup made first. With
/// the operation's name for the case ID.
fn failing_run(restore: bool, failing: impl Fn(Op) -> Step) -> (&'static str, Vec<Step>) {
    if restore {
        (
            "restore",
            vec![Step::new(Op::Backup, 0), failing(Op::Restore)],
        )
    } else {
        ("backup", vec![failing(Op::Backup)])
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Every case, in catalogue order.
pub fn catalogue() -> Vec<Case> {
    let mut b = Builder { cases: Vec::new() };
    let none = JobFaults::default;
    const DEVICES: [u16; 8] = [1, 2, 3, 4, 8, 16, 32, 64];

    // stripe: backup and restore over 1..64 devices.
    for n in DEVICES {
        b.case(
            format!("stripe/backup/devices-{n}"),
            Tier::Must,
            "VDI-GETCMD-002",
            "4.2; 4.4",
            format!(
                "BACKUP over {n} device(s) ends in VD_E_CLOSE on every device and reads back intact"
            ),
            n,
            Mode::Pipe,
            backup_verify(none()),
        );
        b.case(
            format!("stripe/restore/devices-{n}"),
            Tier::Must,
            "CONF-DATA-001",
            "4.3; 4.4",
            format!("RESTORE over {n} device(s) gives back every byte"),
            n,
            Mode::Pipe,
            backup_restore(none()),
        );
    }

    // open: every device opened.
    for n in DEVICES {
        b.case(
            format!("open/devices-{n}"),
            Tier::Must,
            "VDI-OPEN-001",
            "3.3 OpenDevice; 4.4",
            format!("the client opens and serves all {n} device(s) at once"),
            n,
            Mode::Pipe,
            vec![Step::new(Op::Backup, 0)],
        )
        .checks
        .push((Check::AllDevicesOpened, Tier::Must));
    }

    // create: the mode and VDF_RequestComplete.
    for mode in [Mode::Pipe, Mode::Tape, Mode::Disk] {
        b.case(
            format!("create/mode-{}", mode.name()),
            Tier::Must,
            "VDI-CFG-002",
            "1.3; 5.1",
            format!("Create asks for {} mode as told", mode.name()),
            1,
            mode,
            vec![Step::new(Op::Backup, 0)],
        )
        .checks
        .push((Check::ModeRequested, Tier::Must));
        b.case(
            format!("create/requests-complete/{}", mode.name()),
            Tier::Should,
            "VDI-CFG-009",
            "1.3; 6 VDC_Complete (KB3188454)",
            format!("Create asks for VDF_RequestComplete ({} mode)", mode.name()),
            1,
            mode,
            vec![Step::new(Op::Backup, 0)],
        )
        .checks
        .push((Check::RequestsComplete, Tier::Should));
    }

    // config: GetConfiguration timeouts retried; server alignment choices.
    for delay in [1200, 2500] {
        for (op, steps) in [
            (
                "backup",
                vec![
                    Step::new(Op::Backup, 0)
                        .faults(JobFaults {
                            delay_before_configuration: ms(delay),
                            ..none()
                        })
                        .tier(Tier::Should),
                    Step::new(Op::VerifyOnly, 0),
                ],
            ),
            (
                "restore",
                vec![
                    Step::new(Op::Backup, 0),
                    Step::new(Op::Restore, 0)
                        .faults(JobFaults {
                            delay_before_configuration: ms(delay),
                            ..none()
                        })
                        .tier(Tier::Should),
                ],
            ),
        ] {
            b.case(
                format!("config/delay-{delay}ms/{op}"),
                Tier::Should,
                "VDI-CONFIG-005",
                "3.3 GetConfiguration; 8.3",
                format!(
                    "the server configures the set {delay} ms after Open; the client retries VD_E_TIMEOUT"
                ),
                1,
                Mode::Pipe,
                steps,
            );
        }
    }
    for alignment in [4096, 65536] {
        b.case(
            format!("config/server-alignment-{alignment}"),
            Tier::Must,
            "VDI-CFG-006",
            "3.4 BeginConfiguration; 5",
            format!("the server aligns buffers to {alignment} bytes"),
            2,
            Mode::Pipe,
            backup_verify(JobFaults {
                alignment,
                ..none()
            }),
        );
    }

    // buffer: BLOCKSIZE × MAXTRANSFERSIZE, BUFFERCOUNT, stream formats.
    for block in [512, 1024, 4096, 16384, 65536] {
        for transfer in [64 * KIB, 256 * KIB, 1024 * KIB, 4096 * KIB] {
            let case = b.case(
                format!("buffer/blocksize-{block}/maxtransfer-{}k", transfer / KIB),
                Tier::Must,
                "VDI-CFG-007",
                "3.4 BeginConfiguration; 5",
                format!("BLOCKSIZE {block} with MAXTRANSFERSIZE {transfer}"),
                1,
                Mode::Pipe,
                backup_verify(none()),
            );
            case.block_size = block;
            case.max_transfer = transfer;
        }
    }
    for (count, devices) in [
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 1),
        (8, 1),
        (16, 1),
        (64, 1),
        (1, 4),
    ] {
        b.case(
            format!("buffer/buffercount-{count}/devices-{devices}"),
            Tier::Must,
            "VDI-SRV-BUFFER-001",
            "4.4; 5",
            format!("BUFFERCOUNT {count} shared by {devices} device(s)"),
            devices,
            Mode::Pipe,
            backup_verify(JobFaults {
                buffer_count: Some(count),
                ..none()
            }),
        );
    }
    for (name, compression, checksum) in [
        ("compression", true, false),
        ("checksum", false, true),
        ("compression-checksum", true, true),
    ] {
        for devices in [1, 4] {
            b.case(
                format!("buffer/{name}/devices-{devices}"),
                Tier::Must,
                "CONF-DATA-001",
                "4.3; 1.1 Compression",
                format!("a {name} stream over {devices} device(s) round-trips"),
                devices,
                Mode::Pipe,
                backup_restore(none())
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        if i == 0 {
                            s.faults(JobFaults {
                                force_compression: compression,
                                force_checksum: checksum,
                                ..none()
                            })
                        } else {
                            s
                        }
                    })
                    .collect(),
            );
        }
    }

    // flush: 0..N mid-stream Flushes × VDC_Complete granted or not.
    for flushes in [0, 1, 2, 3, 5, 8] {
        for refused in [false, true] {
            for devices in [1, 4] {
                let grant = if refused { "refused" } else { "granted" };
                b.case(
                    format!("flush/mid-{flushes}/complete-{grant}/devices-{devices}"),
                    Tier::Must,
                    "CONF-DATA-001",
                    "6 VDC_Flush; KB3188454",
                    format!(
                        "{flushes} mid-stream Flush(es), VDC_Complete {grant}: nothing written after a Flush is lost"
                    ),
                    devices,
                    Mode::Pipe,
                    backup_verify(JobFaults {
                        mid_stream_flushes: flushes,
                        refuse_complete: refused,
                        ..none()
                    }),
                );
            }
        }
    }

    // complete: asked for, and finishing without it.
    for devices in [1, 4, 16] {
        b.case(
            format!("complete/requested/devices-{devices}"),
            Tier::Should,
            "VDI-CFG-009",
            "6 VDC_Complete (KB3188454)",
            format!("the client asks for VDC_Complete ({devices} device(s))"),
            devices,
            Mode::Pipe,
            backup_verify(none()),
        )
        .checks
        .push((Check::RequestsComplete, Tier::Should));
        b.case(
            format!("complete/not-granted/devices-{devices}"),
            Tier::Must,
            "CONF-DATA-001",
            "6 VDC_Flush; VDC_Complete",
            format!("an older server grants no VDC_Complete: the final Flush ends the backup ({devices} device(s))"),
            devices,
            Mode::Pipe,
            backup_verify(JobFaults {
                refuse_complete: true,
                ..none()
            }),
        );
    }

    // close: Close only after VD_E_CLOSE; a server closing devices early.
    for flushes in [0, 1, 3] {
        for devices in [1, 4] {
            let case = b.case(
                format!("close/after-vd-e-close/mid-{flushes}/devices-{devices}"),
                Tier::Should,
                "VDI-CLOSE-007",
                "3.3 Close; 4.2",
                format!(
                    "the client closes its set only after VD_E_CLOSE on every device ({flushes} mid-stream Flush(es))"
                ),
                devices,
                Mode::Pipe,
                vec![Step::new(Op::Backup, 0).faults(JobFaults {
                    mid_stream_flushes: flushes,
                    ..none()
                })],
            );
            case.checks.push((Check::ClosesAfterServer, Tier::Should));
        }
    }
    for devices in [1, 4] {
        b.case(
            format!("close/server-closes-early/devices-{devices}"),
            Tier::Must,
            "VDI-SRV-CLOSEDEV-001",
            "3.4 CloseDevice; decisions 14",
            format!("CloseDevice right after the last command, before its completion ({devices} device(s))"),
            devices,
            Mode::Pipe,
            backup_verify(JobFaults {
                close_devices_early: true,
                ..none()
            }),
        );
        b.case(
            format!("close/server-closes-early/restore/devices-{devices}"),
            Tier::Must,
            "VDI-SRV-CLOSEDEV-001",
            "3.4 CloseDevice; decisions 14",
            format!(
                "RESTORE: CloseDevice as soon as a device reports the end of its data, without waiting for the reads queued behind it ({devices} device(s))"
            ),
            devices,
            Mode::Pipe,
            backup_restore(JobFaults {
                close_devices_early: true,
                ..none()
            }),
        );
    }

    // abort: a server abort at every state, and crashes.
    let points: [(&str, FaultPoint); 7] = [
        ("opened", FaultPoint::Opened),
        ("configured", FaultPoint::Configured),
        ("devices-open", FaultPoint::DevicesOpen),
        ("first-completion", FaultPoint::AfterCompletions(1)),
        ("mid-stream", FaultPoint::AfterCompletions(6)),
        ("before-final", FaultPoint::BeforeFinal),
        ("after-final", FaultPoint::AfterFinal),
    ];
    for (name, point) in points {
        for restore in [false, true] {
            if restore && point == FaultPoint::BeforeFinal {
                continue; // RESTORE sends no final Flush or VDC_Complete.
            }
            let faults = JobFaults {
                abort_at: Some(point),
                ..none()
            };
            let (op, steps) = failing_run(restore, |op| {
                Step::new(op, 0).faults(faults.clone()).fails()
            });
            b.case(
                format!("abort/server/{name}/{op}"),
                Tier::Must,
                "VDI-GETCMD-004",
                "8.2",
                format!(
                    "the server signals abort ({name}); the client ends and reports the failure"
                ),
                1,
                Mode::Pipe,
                steps,
            );
        }
    }
    for restore in [false, true] {
        let faults = JobFaults {
            abort_at: Some(FaultPoint::AfterCompletions(6)),
            ..none()
        };
        let (op, steps) = failing_run(restore, |op| {
            Step::new(op, 0).faults(faults.clone()).fails()
        });
        b.case(
            format!("abort/server/mid-stream/devices-4/{op}"),
            Tier::Must,
            "VDI-GETCMD-004",
            "8.2",
            "the server signals abort mid-stream with 4 devices busy".into(),
            4,
            Mode::Pipe,
            steps,
        );
    }
    for (name, point, restore) in [
        ("devices-open", FaultPoint::DevicesOpen, false),
        ("mid-stream", FaultPoint::AfterCompletions(6), false),
        ("before-final", FaultPoint::BeforeFinal, false),
        ("mid-stream", FaultPoint::AfterCompletions(6), true),
    ] {
        let faults = JobFaults {
            abort_at: Some(point),
            crash: Crash::Emulated,
            ..none()
        };
        let (op, steps) = failing_run(restore, |op| {
            Step::new(op, 0).faults(faults.clone()).fails()
        });
        b.case(
            format!("abort/crash/{name}/{op}"),
            Tier::Must,
            "VDI-PEER-001",
            "8.2; 8.3",
            format!("the server crashes ({name}); the client ends and reports the failure"),
            2,
            Mode::Pipe,
            steps,
        );
    }

    // A driver's query timeout mid-BACKUP: the statement is cancelled as an ATTENTION
    // cancels it (issue 17's field failure, a 30-second default command timeout).
    let faults = JobFaults {
        abort_at: Some(FaultPoint::AfterCompletions(6)),
        crash: Crash::Cancel,
        ..none()
    };
    b.case(
        "abort/cancel/driver-timeout/backup".into(),
        Tier::Must,
        "VDI-GETCMD-004",
        "8.2",
        "the statement is cancelled mid-stream as a driver's query timeout cancels it (ATTENTION): the set is aborted, the client sees VD_E_ABORT, ends and reports the failure".into(),
        1,
        Mode::Pipe,
        vec![Step::new(Op::Backup, 0).faults(faults).fails()],
    );

    // crash: the server is a real child process that kills itself with SIGKILL.
    for (name, point, restore, devices, flushes) in [
        ("opened", FaultPoint::Opened, false, 1, 0),
        ("devices-open", FaultPoint::DevicesOpen, false, 2, 0),
        ("mid-stream", FaultPoint::AfterCompletions(6), false, 1, 0),
        ("mid-stream", FaultPoint::AfterCompletions(6), false, 4, 0),
        ("during-flush", FaultPoint::FlushSent, false, 1, 1),
        ("during-flush", FaultPoint::FlushSent, false, 4, 1),
        ("before-final", FaultPoint::BeforeFinal, false, 2, 0),
        ("mid-stream", FaultPoint::AfterCompletions(6), true, 1, 0),
        ("mid-stream", FaultPoint::AfterCompletions(6), true, 4, 0),
        ("devices-open", FaultPoint::DevicesOpen, true, 2, 0),
    ] {
        let faults = JobFaults {
            abort_at: Some(point),
            crash: Crash::KillProcess,
            mid_stream_flushes: flushes,
            ..none()
        };
        let (op, steps) = failing_run(restore, |op| {
            Step::new(op, 0)
                .faults(faults.clone())
                .fails()
                .in_child_process()
        });
        b.case(
            format!("crash/{op}/{name}/devices-{devices}"),
            Tier::Must,
            "VDI-PEER-001",
            "8.2; 8.3",
            format!(
                "the server process dies (SIGKILL, {name}); the client sees VD_E_ABORT, reports the failure, and leaves nothing in /dev/shm"
            ),
            devices,
            Mode::Pipe,
            steps,
        );
    }

    // timeout: pauses between commands longer than a GetCommand wait.
    for (pause, after, devices) in [(1200, 1, 1), (2500, 3, 1), (1200, 2, 4)] {
        let faults = JobFaults {
            pause: Some((after, ms(pause))),
            ..none()
        };
        b.case(
            format!("timeout/command-pause-{pause}ms/devices-{devices}/backup"),
            Tier::Should,
            "VDI-GETCMD-003",
            "3.3 GetCommand; 8.3",
            format!(
                "no command for {pause} ms after command {after}; the client retries VD_E_TIMEOUT"
            ),
            devices,
            Mode::Pipe,
            vec![
                Step::new(Op::Backup, 0)
                    .faults(faults.clone())
                    .tier(Tier::Should),
                Step::new(Op::VerifyOnly, 0),
            ],
        );
        b.case(
            format!("timeout/command-pause-{pause}ms/devices-{devices}/restore"),
            Tier::Should,
            "VDI-GETCMD-003",
            "3.3 GetCommand; 8.3",
            format!(
                "no Read for {pause} ms after command {after}; the client retries VD_E_TIMEOUT"
            ),
            devices,
            Mode::Pipe,
            vec![
                Step::new(Op::Backup, 0),
                Step::new(Op::Restore, 0).faults(faults).tier(Tier::Should),
            ],
        );
    }

    // ioerror: an optional or unknown command, refused with an error → IO-ERROR → ClearError.
    for (name, code) in [
        ("discard", VdcCode::Discard),
        ("skipblocks", VdcCode::SkipBlocks),
        ("fileinfobegin", VdcCode::FileInfoBegin),
        ("geterror", VdcCode::GetError),
    ] {
        for devices in [1, 4] {
            b.case(
                format!("ioerror/{name}-then-clearerror/devices-{devices}"),
                Tier::Must,
                "VDI-IOERR-002",
                "6 error protocol",
                format!(
                    "an unexpected {name} command mid-stream: after an error completion the client serves ClearError and the backup goes on"
                ),
                devices,
                Mode::Pipe,
                backup_verify(JobFaults {
                    inject: Some((3, code)),
                    ..none()
                }),
            );
            b.case(
                format!("ioerror/restore/{name}-then-clearerror/devices-{devices}"),
                Tier::Must,
                "VDI-IOERR-002",
                "6 error protocol",
                format!(
                    "an unexpected {name} command in the middle of a RESTORE: after an error completion the client serves ClearError, then the reads sent again, and the restore verifies"
                ),
                devices,
                Mode::Pipe,
                backup_restore(JobFaults {
                    inject: Some((2, code)),
                    read_size: ReadSize::Block,
                    ..none()
                }),
            );
        }
    }

    // restore: read sizes and the end of the data.
    for (name, size) in [
        ("block", ReadSize::Block),
        ("max", ReadSize::Max),
        ("blocks-3", ReadSize::Blocks(3)),
        ("blocks-7", ReadSize::Blocks(7)),
        ("random", ReadSize::Random),
    ] {
        for devices in [1, 3] {
            let case = b.case(
                format!("restore/read-{name}/devices-{devices}"),
                Tier::Must,
                "CONF-DATA-001",
                "4.3",
                format!("RESTORE reads in {name} sizes, unrelated to the backup's writes"),
                devices,
                Mode::Pipe,
                backup_restore(JobFaults {
                    read_size: size,
                    ..none()
                }),
            );
            case.max_transfer = 256 * KIB;
        }
    }
    for devices in [1, 8] {
        b.case(
            format!("restore/eof/devices-{devices}"),
            Tier::Must,
            "CONF-EOF-001",
            "4.3; 6 VDC_Read",
            format!("each of {devices} device(s) reports ERROR_HANDLE_EOF at the end of its data"),
            devices,
            Mode::Pipe,
            vec![Step::new(Op::Backup, 0), Step::new(Op::VerifyOnly, 0)],
        );
    }

    // media: tape and disk.
    for mode in [Mode::Tape, Mode::Disk] {
        let area = format!("media/{}", mode.name());
        for devices in [1, 2, 4] {
            b.case(
                format!("{area}/backup/devices-{devices}"),
                Tier::Must,
                "VDI-CFG-002",
                "5.1; 6",
                format!("{} mode BACKUP over {devices} device(s)", mode.name()),
                devices,
                mode,
                backup_verify(none()),
            );
            b.case(
                format!("{area}/restore/devices-{devices}"),
                Tier::Must,
                "CONF-DATA-001",
                "5.1; 4.3",
                format!("{} mode RESTORE over {devices} device(s)", mode.name()),
                devices,
                mode,
                backup_restore(none()),
            );
        }
        b.case(
            format!("{area}/flush-3/complete-not-granted"),
            Tier::Must,
            "CONF-DATA-001",
            "6 VDC_Flush (LikeDisk end of file)",
            format!(
                "{} mode with 3 mid-stream Flushes and no VDC_Complete",
                mode.name()
            ),
            1,
            mode,
            backup_verify(JobFaults {
                mid_stream_flushes: 3,
                refuse_complete: true,
                ..none()
            }),
        );
        b.case(
            format!("{area}/abort-mid-stream"),
            Tier::Must,
            "VDI-GETCMD-004",
            "8.2",
            format!("{} mode: the server aborts mid-stream", mode.name()),
            1,
            mode,
            vec![
                Step::new(Op::Backup, 0)
                    .faults(JobFaults {
                        abort_at: Some(FaultPoint::AfterCompletions(6)),
                        ..none()
                    })
                    .fails(),
            ],
        );
    }
    // A client that opened its set in pipe mode has not been tested on tape or disk.
    for case in b.cases.iter_mut().filter(|c| c.id.starts_with("media/")) {
        case.checks.push((Check::ModeRequested, Tier::Must));
    }

    // prefix: the client asks for a prefix zone and an alignment; the server honours both.
    for (prefix, alignment, server_alignment, devices, restore) in [
        (512, 0, 0, 1, false),
        (1000, 0, 0, 1, false),
        (4096, 0, 0, 4, false),
        (65536, 0, 0, 2, false),
        (0, 4096, 0, 1, false),
        (0, 65536, 0, 2, false),
        (512, 1024, 4096, 1, false),
        (4096, 65536, 0, 1, true),
        (1000, 4096, 0, 3, true),
    ] {
        let op = if restore { "restore" } else { "backup" };
        let steps = if restore {
            backup_restore(JobFaults {
                alignment: server_alignment,
                ..none()
            })
        } else {
            backup_verify(JobFaults {
                alignment: server_alignment,
                ..none()
            })
        };
        let server = if server_alignment > 0 {
            format!("/server-alignment-{server_alignment}")
        } else {
            String::new()
        };
        let case = b.case(
            format!("prefix/zone-{prefix}/alignment-{alignment}{server}/devices-{devices}/{op}"),
            Tier::Must,
            "VDI-SRV-BUFFER-001",
            "5 prefixZoneSize, alignment; 3.4 AllocateBuffer",
            format!(
                "the client asks for a {prefix}-byte prefix zone and {alignment}-byte alignment: every buffer is aligned, its prefix zone precedes it, the server never touches it, and the data round-trips"
            ),
            devices,
            Mode::Pipe,
            steps,
        );
        case.prefix_zone = prefix;
        case.client_alignment = alignment;
        case.checks.push((Check::BufferLayout, Tier::Must));
    }

    // restore with fewer devices than the media set has families: Msg 3132.
    for (backup, restore) in [(2, 1), (4, 2), (4, 3), (8, 4)] {
        let case = b.case(
            format!("restore/fewer-devices/backup-{backup}/restore-{restore}"),
            Tier::Must,
            "CONF-EXIT-001",
            "4.2 step 9; 4.4",
            format!(
                "RESTORE names {restore} of the {backup} media families: the statement fails (Msg 3132); the client reports it, does not hang, and releases its set"
            ),
            backup,
            Mode::Pipe,
            vec![
                Step::new(Op::Backup, 0),
                Step::new(Op::Restore, 0).devices(restore).fails(),
            ],
        );
        case.checks.push((Check::FailsWithMsg(3132), Tier::Must));
        case.checks.push((Check::SetReleased, Tier::Must));
    }

    // restore of damaged media: the server finds the damage, the client must report it.
    for devices in [1, 4] {
        let case = b.case(
            format!("restore/damaged-media/devices-{devices}"),
            Tier::Must,
            "CONF-EXIT-001",
            "4.3; 4.4",
            format!(
                "a byte of the data read back is damaged ({devices} device(s)): the server detects it and the RESTORE fails (Msg 3189, then 3013); the client reports the failure, does not hang, and releases its set"
            ),
            devices,
            Mode::Pipe,
            vec![
                Step::new(Op::Backup, 0),
                Step::new(Op::Restore, 0)
                    .faults(JobFaults {
                        corrupt_read: Some(3),
                        read_size: ReadSize::Block,
                        ..none()
                    })
                    .fails(),
            ],
        );
        case.checks.push((Check::FailsWithMsg(3189), Tier::Must));
        case.checks.push((Check::SetReleased, Tier::Must));
    }

    // info: observations that never fail.
    for (name, observation, devices, steps) in [
        (
            "create-request",
            Observation::CreateRequest,
            2,
            vec![Step::new(Op::Backup, 0)],
        ),
        (
            "flush-completions",
            Observation::FlushCompletions,
            1,
            vec![Step::new(Op::Backup, 0).faults(JobFaults {
                mid_stream_flushes: 3,
                ..none()
            })],
        ),
        (
            "most-in-flight",
            Observation::MostInFlight,
            4,
            vec![Step::new(Op::Backup, 0)],
        ),
        (
            "end-of-data",
            Observation::EndOfData,
            2,
            vec![Step::new(Op::Backup, 0), Step::new(Op::VerifyOnly, 0)],
        ),
        (
            "final-command",
            Observation::FinalCommand,
            1,
            vec![Step::new(Op::Backup, 0)],
        ),
        (
            "exit-after-abort",
            Observation::ExitAfterAbort,
            1,
            vec![
                Step::new(Op::Backup, 0)
                    .faults(JobFaults {
                        abort_at: Some(FaultPoint::AfterCompletions(3)),
                        ..none()
                    })
                    .fails(),
            ],
        ),
    ] {
        b.case(
            format!("info/{name}"),
            Tier::Info,
            "CONF-INFO-001",
            "-",
            format!("reports {name} (an observation; never fails)"),
            devices,
            Mode::Pipe,
            steps,
        )
        .checks
        .push((Check::Observe(observation), Tier::Info));
    }

    // chain: full, differential and log backups restored in sequence.
    type Chain = (&'static str, &'static [(Op, Op)]);
    const CHAINS: [Chain; 4] = [
        (
            "full-diff",
            &[
                (Op::Backup, Op::RestoreNoRecovery),
                (Op::BackupDiff, Op::Restore),
            ],
        ),
        (
            "full-log",
            &[
                (Op::Backup, Op::RestoreNoRecovery),
                (Op::BackupLog, Op::RestoreLog),
            ],
        ),
        (
            "full-diff-log",
            &[
                (Op::Backup, Op::RestoreNoRecovery),
                (Op::BackupDiff, Op::RestoreNoRecovery),
                (Op::BackupLog, Op::RestoreLog),
            ],
        ),
        (
            "full-log-log",
            &[
                (Op::Backup, Op::RestoreNoRecovery),
                (Op::BackupLog, Op::RestoreLogNoRecovery),
                (Op::BackupLog, Op::RestoreLog),
            ],
        ),
    ];
    for (name, chain) in CHAINS {
        for devices in [1, 2] {
            let mut steps: Vec<Step> = chain
                .iter()
                .enumerate()
                .map(|(i, (backup, _))| {
                    let s = Step::new(*backup, i);
                    if i > 0 { s.after_workload() } else { s }
                })
                .collect();
            steps.extend(
                chain
                    .iter()
                    .enumerate()
                    .map(|(i, (_, restore))| Step::new(*restore, i)),
            );
            b.case(
                format!("chain/{name}/devices-{devices}"),
                Tier::Must,
                "CONF-CHAIN-001",
                "4.3",
                format!("{name} backups restored in sequence ({devices} device(s))"),
                devices,
                Mode::Pipe,
                steps,
            );
        }
    }

    // chain/ with SQL Server's other restore paths: a tail-log backup, a point-in-time restore
    // (STOPAT just before the second log backup's workload: none of it may be applied) and a
    // filegroup backup restored offline after a tail-log backup.
    type RestorePath = (&'static str, &'static str, Vec<Step>);
    let paths: [RestorePath; 3] = [
        (
            "tail-log",
            "a full backup, then a tail-log backup WITH NORECOVERY, restored in sequence",
            vec![
                Step::new(Op::Backup, 0),
                Step::new(Op::BackupLogTail, 1).after_workload(),
                Step::new(Op::RestoreNoRecovery, 0),
                Step::new(Op::RestoreLog, 1),
            ],
        ),
        (
            "point-in-time",
            "a full and two log backups, the second restored WITH STOPAT before its changes",
            vec![
                Step::new(Op::Backup, 0),
                Step::new(Op::BackupLog, 1).after_workload(),
                Step::new(Op::BackupLog, 2).after_workload(),
                Step::new(Op::RestoreNoRecovery, 0),
                Step::new(Op::RestoreLogNoRecovery, 1),
                Step::new(Op::RestoreLogStopAt, 2),
            ],
        ),
        (
            "filegroup",
            "a filegroup backup restored offline, then the tail of the log",
            vec![
                Step::new(Op::Backup, 0),
                Step::new(Op::BackupFilegroup, 1).after_workload(),
                Step::new(Op::BackupLogTail, 2).after_workload(),
                Step::new(Op::RestoreFilegroupNoRecovery, 1),
                Step::new(Op::RestoreLog, 2),
            ],
        ),
    ];
    for (name, what, steps) in paths {
        for devices in [1, 2] {
            b.case(
                format!("chain/{name}/devices-{devices}"),
                Tier::Must,
                "CONF-CHAIN-001",
                "4.3",
                format!("{what} ({devices} device(s))"),
                devices,
                Mode::Pipe,
                steps.clone(),
            );
        }
    }

    crate::catalogue_snapshot::add(&mut b);

    for case in &mut b.cases {
        if case.steps.iter().any(counts_transfers) {
            case.database_bytes = COUNTED_FAULT_DATABASE_BYTES;
        }
    }
    b.cases
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    #[test]
    fn ids_are_unique_and_the_catalogue_is_large_enough() {
        let cases = catalogue();
        let ids: HashSet<_> = cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), cases.len());
        assert!(cases.len() >= 150, "{} cases", cases.len());
        let mut areas = BTreeMap::new();
        for c in &cases {
            *areas.entry(c.area()).or_insert(0) += 1;
        }
        for area in [
            "close",
            "create",
            "config",
            "open",
            "stripe",
            "flush",
            "complete",
            "ioerror",
            "abort",
            "timeout",
            "crash",
            "prefix",
            "info",
            "restore",
            "media/tape",
            "media/disk",
            "chain",
            "buffer",
        ] {
            assert!(areas.contains_key(area), "no case in {area}: {areas:?}");
        }
    }

    #[test]
    fn every_rule_is_known() {
        for c in catalogue() {
            assert!(
                c.rule.starts_with("CONF-") || vdi_proto::Rule::from_id(&c.rule).is_some(),
                "{}: {}",
                c.id,
                c.rule
            );
        }
    }
}
