//! A hostile server process writes impossible descriptors and indices into the shared rings;
//! the client's GetCommand gets a typed fault that maps to VD_E_ABORT, never UB or a panic.
#![cfg(not(loom))]

mod common;

use common::*;
use std::io::BufReader;
use std::sync::atomic::Ordering;
use vdi_proto::{DeviceIndex, Rule, VdCode};
use vdi_shm::channel::Received;
use vdi_shm::error::{PeerFault, Side};
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome, wait_until};
use vdi_shm::liveness::PeerWatch;
use vdi_shm::region::ControlRegion;
use vdi_shm::ring::{CommandDesc, CommandLimits};

#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    assert_eq!(role, "hostile-server");
    let set = std::env::var(SET).unwrap();
    let uid: u32 = std::env::var(UID).unwrap().parse().unwrap();
    let ctl = open_control(uid, &set);
    ctl.set_server_pid(std::process::id());
    let chan = ctl.channel(DeviceIndex(0)).unwrap();
    // 1. A descriptor with an unknown command code.
    let bad = CommandDesc {
        id: 1 << 32,
        code: 99,
        ..CommandDesc::default()
    };
    chan.send_command(&bad).unwrap();
    // 2. After the client says it saw that, indices that claim 1000 entries.
    let dev = ctl.device(DeviceIndex(0)).unwrap();
    let client = PeerWatch::from_pid(ctl.creator_pid()).unwrap();
    let out = wait_until(
        &dev.completion_event(),
        Timeout::Millis(10_000),
        &WaitConfig::ALWAYS_PARK,
        || (dev.client_state().load(Ordering::SeqCst) == 1).then_some(()),
        || client.is_alive(),
    );
    assert_eq!(out, WaitOutcome::Ready(()));
    let block = ctl.raw_device_block(DeviceIndex(0)).unwrap();
    block.command_tail.store(1000, Ordering::SeqCst);
    chan.wake_client();
    // Wait for the client to finish before exiting.
    let _ = wait_until(
        &dev.completion_event(),
        Timeout::Millis(10_000),
        &WaitConfig::ALWAYS_PARK,
        || (dev.client_state().load(Ordering::SeqCst) == 2).then_some(()),
        || client.is_alive(),
    );
}

#[test]
fn garbage_from_another_process_is_a_typed_fault() {
    let set = unique_set("hostile");
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    let mut child = spawn_child("child_entry", "hostile-server", &set, &[]);
    let _out = BufReader::new(child.stdout.take().unwrap());
    let chan = ctl.channel(DeviceIndex(0)).unwrap();
    let dev = ctl.device(DeviceIndex(0)).unwrap();
    let limits = CommandLimits {
        buffer_area: 1 << 20,
        max_transfer: 1 << 16,
    };
    let cfg = WaitConfig::SPIN_THEN_PARK;
    let got = chan.receive_command(&limits, Timeout::Millis(20_000), &cfg, || true);
    assert_eq!(got, Received::Fault(PeerFault::BadCode(99)));
    let e = PeerFault::BadCode(99).to_vd_error(Side::Client);
    assert_eq!((e.code, e.rule), (VdCode::Abort, Rule::ClientBadMessage));

    dev.client_state().store(1, Ordering::SeqCst);
    dev.completion_event().unpark();
    let got = chan.receive_command(&limits, Timeout::Millis(20_000), &cfg, || true);
    assert!(
        matches!(
            got,
            Received::Fault(PeerFault::BadIndex {
                tail: 1000,
                capacity: 16,
                ..
            })
        ),
        "{got:?}"
    );
    // The client aborts the set, which the hostile peer cannot undo.
    ctl.signal_abort();
    dev.client_state().store(2, Ordering::SeqCst);
    dev.completion_event().unpark();
    assert!(child.wait().unwrap().success());
    assert!(ctl.is_aborted());
    drop(ctl);
    assert!(no_region_left(&set));
}
