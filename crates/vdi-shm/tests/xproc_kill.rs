//! A peer killed with SIGKILL while the other side waits: the waiter sees PeerDead within the
//! liveness bound (measured and printed; asserted < 5 s so it never flakes), and
//! `cleanup_stale` removes a dead creator's regions.
#![cfg(not(loom))]

mod common;

use common::*;
use std::io::BufReader;
use std::time::{Duration, Instant};
use vdi_proto::{CmdId, DeviceIndex, VdcCode};
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome, wait_until};
use vdi_shm::liveness::PeerWatch;
use vdi_shm::region::{ControlRegion, cleanup_stale};
use vdi_shm::ring::{CommandDesc, CommandLimits, Popped};

const BOUND: Duration = Duration::from_secs(5);

#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let set = std::env::var(SET).unwrap();
    let uid: u32 = std::env::var(UID).unwrap().parse().unwrap();
    match role.as_str() {
        // Opens the set as the server, says so, then hangs until killed.
        "idle-server" => {
            let ctl = open_control(uid, &set);
            ctl.set_server_pid(std::process::id());
            println!("READY");
            idle_until_orphaned();
        }
        // Creates the set as the client, says so, then hangs until killed.
        "idle-client" => {
            let _ctl = ControlRegion::create(&params(&set, 1)).unwrap();
            println!("READY");
            idle_until_orphaned();
        }
        // Opens the set, says so, then signals abort from its own process and exits.
        "aborting-server" => {
            let ctl = open_control(uid, &set);
            ctl.set_server_pid(std::process::id());
            println!("READY");
            std::thread::sleep(Duration::from_millis(200));
            assert!(ctl.signal_abort());
        }
        other => panic!("unknown role {other}"),
    }
}

/// Hangs until killed, or exits if the parent test process died (no orphans left behind).
fn idle_until_orphaned() -> ! {
    let parent = std::os::unix::process::parent_id();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(0);
        }
    }
}

/// Kills `child` after `delay` from another thread; returns the kill instant.
fn kill_later(mut child: std::process::Child, delay: Duration) -> std::thread::JoinHandle<Instant> {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let at = Instant::now();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        at
    })
}

fn client_with_idle_server(label: &str) -> (String, ControlRegion, std::process::Child) {
    let set = unique_set(label);
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    let mut child = spawn_child("child_entry", "idle-server", &set, &[]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    wait_line(&mut out, "READY");
    assert_ne!(ctl.server_pid(), 0);
    (set, ctl, child)
}

#[test]
fn server_killed_while_client_waits_in_get_command() {
    let (set, ctl, child) = client_with_idle_server("getcmd");
    let server = PeerWatch::from_pid(ctl.server_pid()).unwrap();
    let killer = kill_later(child, Duration::from_millis(300));
    let limits = CommandLimits {
        buffer_area: 0,
        max_transfer: 0,
    };
    let out = get_command(
        &ctl,
        &limits,
        Timeout::Forever,
        &WaitConfig::SPIN_THEN_PARK,
        || server.is_alive(),
    );
    let detected = Instant::now();
    let latency = detected - killer.join().unwrap();
    println!("GetCommand saw the dead server {latency:?} after SIGKILL");
    assert_eq!(out, WaitOutcome::PeerDead);
    assert!(latency < BOUND, "{latency:?}");
    drop(ctl);
    assert!(no_region_left(&set));
}

#[test]
fn server_killed_while_client_threads_wait_in_get_configuration() {
    let (set, ctl, child) = client_with_idle_server("getconfig");
    let server = PeerWatch::from_pid(ctl.server_pid()).unwrap();
    let killer = kill_later(child, Duration::from_millis(300));
    // Several threads wait on the set-state event count at once; every one must notice.
    let detected: Vec<(WaitOutcome<()>, Instant)> = std::thread::scope(|s| {
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let out = wait_state(&ctl, STATE_CONFIGURED, Timeout::Forever, || {
                        server.is_alive()
                    });
                    (out, Instant::now())
                })
            })
            .collect();
        waiters.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let killed = killer.join().unwrap();
    for (out, at) in detected {
        let latency = at - killed;
        println!(
            "GetConfiguration (one of 3 threads) saw the dead server {latency:?} after SIGKILL"
        );
        assert_eq!(out, WaitOutcome::PeerDead);
        assert!(latency < BOUND, "{latency:?}");
    }
    drop(ctl);
    assert!(no_region_left(&set));
}

#[test]
fn abort_from_the_server_process_wakes_get_command() {
    let set = unique_set("abort");
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    let mut child = spawn_child("child_entry", "aborting-server", &set, &[]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    wait_line(&mut out, "READY");
    let server = PeerWatch::from_pid(ctl.server_pid()).unwrap();
    let dev = ctl.device(DeviceIndex(0)).unwrap();
    let limits = CommandLimits {
        buffer_area: 0,
        max_transfer: 0,
    };
    let t0 = Instant::now();
    let got = get_command(
        &ctl,
        &limits,
        Timeout::Forever,
        &WaitConfig::ALWAYS_PARK,
        || server.is_alive(),
    );
    println!(
        "GetCommand returned {got:?} {:?} after the wait began",
        t0.elapsed()
    );
    assert_eq!(got, WaitOutcome::Ready(Got::Aborted));
    assert!(ctl.is_aborted());
    // The abort closed the rings: a completion can no longer be pushed.
    assert!(dev.completions().is_closed());
    assert!(child.wait().unwrap().success());
    drop(ctl);
    assert!(no_region_left(&set));
}

#[test]
fn client_killed_while_server_waits_for_a_completion_then_cleanup() {
    let set = unique_set("completion");
    let mut child = spawn_child("child_entry", "idle-client", &set, &[]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    wait_line(&mut out, "READY");
    let ctl = open_control(uid(), &set);
    assert!(ctl.creator_alive());
    let client = PeerWatch::from_pid(ctl.creator_pid()).unwrap();
    let dev = ctl.device(DeviceIndex(0)).unwrap();
    dev.commands()
        .push(&CommandDesc::new(
            CmdId {
                slot: 0,
                generation: 1,
            },
            VdcCode::Flush,
            0,
            0,
            0,
        ))
        .unwrap();
    dev.command_event().unpark();
    let killer = kill_later(child, Duration::from_millis(300));
    // Both liveness tokens: the pidfd and the creator's flock.
    let out = wait_until(
        &dev.completion_event(),
        Timeout::Forever,
        &WaitConfig::SPIN_THEN_PARK,
        || match dev.completions().pop() {
            Ok(Popped::Item(c)) => Some(c),
            _ => None,
        },
        || client.is_alive() && ctl.creator_alive(),
    );
    let latency = Instant::now() - killer.join().unwrap();
    println!("the server saw the dead client {latency:?} after SIGKILL");
    assert_eq!(out, WaitOutcome::PeerDead);
    assert!(latency < BOUND, "{latency:?}");
    assert!(!ctl.creator_alive(), "the flock token died with the client");

    // The dead client's region is still in /dev/shm (nobody unlinked it) until cleanup.
    assert!(!no_region_left(&set));
    let removed = cleanup_stale(uid());
    assert!(
        removed.iter().any(|n| n == ctl.name()),
        "cleanup_stale removed {removed:?}"
    );
    assert!(
        no_region_left(&set),
        "a region of {set} is left in /dev/shm"
    );
}

#[test]
fn cleanup_stale_leaves_live_regions_alone() {
    let set = unique_set("live");
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    let removed = cleanup_stale(uid());
    assert!(!removed.iter().any(|n| n == ctl.name()), "{removed:?}");
    assert!(!no_region_left(&set));
    drop(ctl);
    assert!(no_region_left(&set));
}
