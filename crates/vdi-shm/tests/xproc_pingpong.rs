//! Two real processes exchanging commands, data and completions over the mapping.
#![cfg(not(loom))]

mod common;

use common::*;
use std::io::BufReader;
use std::sync::atomic::Ordering;
use vdi_proto::{CmdId, DeviceIndex, VdcCode};
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome, wait_until};
use vdi_shm::liveness::PeerWatch;
use vdi_shm::region::{Access, BufferRegion, ControlRegion};
use vdi_shm::ring::{CommandDesc, CommandLimits, CompletionDesc, Popped, PushError};

const ROUNDS: u32 = 200;
const CHUNK: usize = 64 * 1024;
const DEPTH: u32 = 4;
const CLIENT_CLOSED: u32 = 1;

fn pattern(i: u32) -> Vec<u8> {
    (0..CHUNK)
        .map(|j| (j as u32).wrapping_mul(31).wrapping_add(i) as u8)
        .collect()
}

/// Child entry: does nothing unless re-executed with a role.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    assert_eq!(role, "server");
    let set = std::env::var(SET).unwrap();
    let uid: u32 = std::env::var(UID).unwrap().parse().unwrap();
    run_server(uid, &set);
}

/// The fake server: configure, then stream ROUNDS Write commands with data, window DEPTH.
fn run_server(uid: u32, set: &str) {
    let ctl = open_control(uid, set);
    ctl.set_server_pid(std::process::id());
    let buffer = BufferRegion::create(
        uid,
        set,
        1,
        vdi_shm::naming::BufferNonce::random().unwrap(),
        (DEPTH as u64) * CHUNK as u64,
        Access::Owner,
    )
    .unwrap();
    let mut cfg = ctl.requested_config();
    cfg.max_transfer_size = CHUNK as u32;
    cfg.max_io_depth = DEPTH;
    ctl.set_negotiated_config(&cfg);
    ctl.publish_buffer(&buffer.info());
    ctl.publish_state(STATE_CONFIGURED);

    let client = PeerWatch::from_pid(ctl.creator_pid()).unwrap();
    let dev = ctl.device(DeviceIndex(0)).unwrap();
    let (mut sent, mut done) = (0u32, 0u32);
    while done < ROUNDS {
        while sent < ROUNDS && sent - done < DEPTH {
            let slot = sent % DEPTH;
            let offset = u64::from(slot) * CHUNK as u64;
            assert!(buffer.write(offset, &pattern(sent)));
            let id = CmdId {
                slot,
                generation: sent / DEPTH + 1,
            };
            match dev.commands().push(&CommandDesc::new(
                id,
                VdcCode::Write,
                CHUNK as u32,
                0,
                offset,
            )) {
                Ok(()) => dev.command_event().unpark(),
                Err(PushError::Full) => break,
                Err(e) => panic!("{e}"),
            }
            sent += 1;
        }
        let out = wait_until(
            &dev.completion_event(),
            Timeout::Millis(10_000),
            &WaitConfig::SPIN_THEN_PARK,
            || match dev.completions().pop() {
                Ok(Popped::Item(c)) => Some(c),
                Ok(_) => None,
                Err(f) => panic!("{f}"),
            },
            || client.is_alive(),
        );
        match out {
            WaitOutcome::Ready(c) => {
                assert_eq!(c.completion_code, 0);
                assert_eq!(c.bytes_transferred, CHUNK as u32);
                assert_eq!(c.id.slot, done % DEPTH);
                done += 1;
            }
            other => panic!("server: {other:?}"),
        }
    }
    dev.commands().push(&CommandDesc::close_marker()).unwrap();
    dev.command_event().unpark();
    // Wait until the client saw the marker and said so.
    let out = wait_until(
        &dev.completion_event(),
        Timeout::Millis(10_000),
        &WaitConfig::ALWAYS_PARK,
        || (dev.client_state().load(Ordering::SeqCst) == CLIENT_CLOSED).then_some(()),
        || client.is_alive(),
    );
    assert_eq!(out, WaitOutcome::Ready(()));
}

#[test]
fn ping_pong_commands_data_and_completions_between_processes() {
    let set = unique_set("pingpong");
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    let mut child = spawn_child("child_entry", "server", &set, &[]);
    let _stdout = BufReader::new(child.stdout.take().unwrap());

    let configured = wait_state(&ctl, STATE_CONFIGURED, Timeout::Millis(20_000), || true);
    assert_eq!(configured, WaitOutcome::Ready(()));
    let server = PeerWatch::from_pid(ctl.server_pid()).unwrap();
    let cfg = ctl.negotiated_config();
    let info = ctl.buffer_info().unwrap().expect("buffer published");
    let buffer = BufferRegion::open(&info, Access::Owner).unwrap();
    let limits = CommandLimits {
        buffer_area: buffer.data_size(),
        max_transfer: cfg.max_transfer_size,
    };
    let dev = ctl.device(DeviceIndex(0)).unwrap();
    let mut got = vec![0u8; CHUNK];
    let mut n = 0u32;
    loop {
        match get_command(
            &ctl,
            &limits,
            Timeout::Millis(20_000),
            &WaitConfig::SPIN_THEN_PARK,
            || server.is_alive(),
        ) {
            WaitOutcome::Ready(Got::Command(c)) => {
                assert_eq!(c.code, VdcCode::Write);
                assert!(buffer.read(c.buffer_offset, &mut got[..c.size as usize]));
                assert!(got == pattern(n), "data of command {n} differs");
                dev.completions()
                    .push(&CompletionDesc::new(c.id, 0, c.size, 0))
                    .unwrap();
                dev.completion_event().unpark();
                n += 1;
            }
            WaitOutcome::Ready(Got::CloseMarker) => break,
            other => panic!("client: {other:?} after {n} commands"),
        }
    }
    assert_eq!(n, ROUNDS);
    dev.client_state().store(CLIENT_CLOSED, Ordering::SeqCst);
    dev.completion_event().unpark();
    assert!(child.wait().unwrap().success(), "server child failed");
    drop(buffer);
    drop(ctl);
    assert!(
        no_region_left(&set),
        "a region of {set} is left in /dev/shm"
    );
}
