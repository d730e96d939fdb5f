//! Helpers for the cross-process tests: re-executing the test binary in a child role, unique
//! set names, and the client/server loops written the way vdi-client/vdi-server will.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use vdi_proto::VdConfig;
use vdi_shm::channel::Received;
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome, wait_until};
use vdi_shm::region::{Access, ControlParams, ControlRegion};
use vdi_shm::ring::{CommandLimits, Delivered};

/// Env var selecting a child role.
pub const ROLE: &str = "VDI_SHM_TEST_ROLE";
/// Env var carrying the set name to a child.
pub const SET: &str = "VDI_SHM_TEST_SET";
/// Env var carrying the client's uid to a child.
pub const UID: &str = "VDI_SHM_TEST_UID";

/// Set states used by the tests (the real values belong to vdi-proto).
pub const STATE_CONFIGURED: u32 = 2;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique_set(label: &str) -> String {
    format!(
        "{{xproc-{}-{}-{label}}}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

pub fn params(set: &str, devices: u32) -> ControlParams {
    let mut cfg = VdConfig::with_devices(devices);
    cfg.max_io_depth = 4;
    ControlParams {
        set_name: set.to_string(),
        device_names: (0..devices)
            .map(|i| {
                if i == 0 {
                    set.to_string()
                } else {
                    format!("{set}{i}")
                }
            })
            .collect(),
        ring_capacity: 16,
        requested: cfg,
        access: Access::Owner,
    }
}

/// Re-executes this test binary running only `entry` with `role`.
pub fn spawn_child(entry: &str, role: &str, set: &str, extra: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([entry, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(SET, set)
        .env(UID, uid().to_string())
        .stdout(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().expect("re-exec the test binary")
}

/// Reads the child's stdout until a line equal to `token` (panics on EOF).
pub fn wait_line(out: &mut BufReader<ChildStdout>, token: &str) {
    let mut line = String::new();
    loop {
        line.clear();
        let n = out.read_line(&mut line).unwrap();
        assert!(n > 0, "child exited before printing {token}");
        // libtest may have printed "test child_entry ... " on the same line.
        if line.trim_end().ends_with(token) {
            return;
        }
    }
}

/// Opens the control region, retrying while the creator initialises.
pub fn open_control(uid: u32, set: &str) -> ControlRegion {
    for _ in 0..500 {
        match ControlRegion::open(uid, set, Access::Owner) {
            Ok(r) => return r,
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    panic!("control region of {set} never appeared");
}

#[derive(Debug, PartialEq, Eq)]
pub enum Got {
    Command(vdi_shm::ring::Command),
    CloseMarker,
    Aborted,
}

/// GetCommand on device 0 through `DeviceChannel::receive_command` over the real mapping.
pub fn get_command(
    ctl: &ControlRegion,
    limits: &CommandLimits,
    timeout: Timeout,
    cfg: &WaitConfig,
    alive: impl FnMut() -> bool,
) -> WaitOutcome<Got> {
    let chan = ctl.channel(vdi_proto::DeviceIndex(0)).unwrap();
    match chan.receive_command(limits, timeout, cfg, alive) {
        Received::Item(Delivered::Command(c)) => WaitOutcome::Ready(Got::Command(c)),
        Received::Item(Delivered::CloseMarker) => WaitOutcome::Ready(Got::CloseMarker),
        Received::Aborted | Received::Closed => WaitOutcome::Ready(Got::Aborted),
        Received::TimedOut => WaitOutcome::TimedOut,
        Received::PeerDead => WaitOutcome::PeerDead,
        other => panic!("GetCommand: {other:?}"),
    }
}

/// GetConfiguration's wait: until the set state reaches `state`.
pub fn wait_state(
    ctl: &ControlRegion,
    state: u32,
    timeout: Timeout,
    alive: impl FnMut() -> bool,
) -> WaitOutcome<()> {
    wait_until(
        &ctl.state_events(),
        timeout,
        &WaitConfig::ALWAYS_PARK,
        || (ctl.is_aborted() || ctl.set_state().load(Ordering::SeqCst) >= state).then_some(()),
        alive,
    )
}

/// True if no /dev/shm entry mentions `set`'s encoded name.
pub fn no_region_left(set: &str) -> bool {
    let encoded = vdi_shm::naming::encode_set_name(set);
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().contains(&encoded))
}
