//! Regions of dead creators are reclaimed (by the next Create of the name, by the sweep),
//! those of live creators and of other users never are, and a squatted buffer name is refused
//! without touching the squatter's object (decisions 11, 31, 49, 50).
#![cfg(not(loom))]

mod common;

use common::*;
use std::io::BufReader;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;
use vdi_shm::error::{RegionError, Side};
use vdi_shm::naming::{BufferNonce, RegionKind, region_name};
use vdi_shm::region::{
    Access, BufferRegion, ControlRegion, Reclaim, cleanup_stale, reclaim_if_dead,
};

#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let set = std::env::var(SET).unwrap();
    match role.as_str() {
        // Creates the set as a client would, says so, then hangs until killed.
        "client" => {
            let _ctl = ControlRegion::create(&params(&set, 1)).unwrap();
            println!("READY");
            idle_until_orphaned();
        }
        // Creates a buffer region for the set as a server would, then hangs until killed.
        "server" => {
            let nonce = BufferNonce::random().unwrap();
            let b = BufferRegion::create(uid(), &set, 1, nonce, 1 << 16, Access::Owner).unwrap();
            println!("NAME {}", b.info().name);
            println!("READY");
            idle_until_orphaned();
        }
        other => panic!("unknown role {other}"),
    }
}

fn idle_until_orphaned() -> ! {
    let parent = std::os::unix::process::parent_id();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(0);
        }
    }
}

fn start(role: &str, set: &str) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut child = spawn_child("child_entry", role, set, &[]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    wait_line(&mut out, "READY");
    (child, out)
}

fn kill(mut child: std::process::Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn path(name: &str) -> String {
    format!("/dev/shm{name}")
}

#[test]
fn create_reclaims_the_name_of_a_dead_creator() {
    let set = unique_set("dead");
    let (child, _out) = start("client", &set);
    let name = region_name(uid(), &set, RegionKind::Control).unwrap();
    let old_ino = std::fs::metadata(path(&name)).unwrap().ino();
    kill(child);
    // The name is still taken by the dead client's region ...
    assert!(std::fs::metadata(path(&name)).is_ok());
    // ... and Create takes it over: VD_E_BUSY is only for a live owner.
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    assert_eq!(ctl.creator_pid(), std::process::id());
    assert_ne!(std::fs::metadata(path(&name)).unwrap().ino(), old_ino);
    drop(ctl);
    assert!(no_region_left(&set));
}

#[test]
fn create_of_a_live_creators_name_is_busy_and_leaves_it_alone() {
    let set = unique_set("live");
    let (child, _out) = start("client", &set);
    let e = ControlRegion::create(&params(&set, 1)).unwrap_err();
    assert!(matches!(e, RegionError::Exists(_)), "{e}");
    assert_eq!(e.to_vd_error(Side::Client).code, vdi_proto::VdCode::Busy);
    let theirs = open_control(uid(), &set);
    assert_ne!(theirs.creator_pid(), std::process::id());
    assert!(theirs.creator_alive());
    assert!(
        !theirs.unlink_if_orphaned(),
        "a live creator's region is kept"
    );
    assert_eq!(
        cleanup_stale(uid())
            .iter()
            .filter(|n| **n == theirs.name())
            .count(),
        0
    );
    assert_eq!(reclaim_if_dead(theirs.name()), Reclaim::Alive);
    kill(child);
    assert!(theirs.unlink_if_orphaned());
    assert!(no_region_left(&set));
}

#[test]
fn a_server_still_holding_a_dead_set_never_removes_its_successor() {
    let set = unique_set("successor");
    let (child, _out) = start("client", &set);
    let stale_view = open_control(uid(), &set);
    kill(child);
    // A new client of the same name reclaims it while the old server view is still open.
    let fresh = ControlRegion::create(&params(&set, 1)).unwrap();
    // The old view's clean-up finds a dead creator, but the name is the successor's now.
    assert!(!stale_view.unlink_if_orphaned());
    assert!(std::fs::metadata(path(fresh.name())).is_ok());
    let reopened = ControlRegion::open(uid(), &set, Access::Owner).unwrap();
    assert_eq!(reopened.creator_pid(), std::process::id());
    drop((reopened, stale_view, fresh));
    assert!(no_region_left(&set));
}

#[test]
fn the_sweep_removes_a_dead_servers_buffer_region_and_keeps_live_ones() {
    let set = unique_set("sweep");
    let (child, _out) = start("server", &set);
    let live = BufferRegion::create(
        uid(),
        &set,
        1,
        BufferNonce::random().unwrap(),
        1 << 16,
        Access::Owner,
    )
    .unwrap();
    kill(child);
    let removed = cleanup_stale(uid());
    let ours: Vec<_> = removed
        .iter()
        .filter(|n| n.contains(&set_part(&set)))
        .collect();
    assert_eq!(ours.len(), 1, "{removed:?}");
    assert_ne!(ours[0], &live.info().name);
    assert!(std::fs::metadata(path(&live.info().name)).is_ok());
    drop(live);
    assert!(no_region_left(&set));
}

fn set_part(set: &str) -> String {
    vdi_shm::naming::encode_set_name(set)
}

#[test]
fn a_squatted_buffer_name_is_refused_and_the_squatters_object_is_untouched() {
    let set = unique_set("squat");
    let nonce = BufferNonce::random().unwrap();
    let name = region_name(uid(), &set, RegionKind::Buffer(nonce)).unwrap();
    std::fs::write(path(&name), b"the squatter's bytes").unwrap();
    let e = BufferRegion::create(uid(), &set, 1, nonce, 1 << 16, Access::Owner).unwrap_err();
    assert!(matches!(e, RegionError::Squatted { .. }), "{e}");
    assert!(
        e.to_string().contains("was not created by this server"),
        "{e}"
    );
    let vd = e.to_vd_error(Side::Server);
    assert_eq!(vd.code, vdi_proto::VdCode::Security);
    assert_eq!(vd.rule, vdi_proto::Rule::SrvBufferSquatted);
    assert_eq!(std::fs::read(path(&name)).unwrap(), b"the squatter's bytes");
    std::fs::remove_file(path(&name)).unwrap();
}

#[test]
fn a_region_of_another_uid_is_never_touched() {
    if uid() != 0 {
        println!("skipped: needs root to make an object of another uid");
        return;
    }
    let set = unique_set("foreign");
    let name = region_name(uid(), &set, RegionKind::Control).unwrap();
    std::fs::write(path(&name), b"not yours").unwrap();
    std::fs::set_permissions(path(&name), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(path(&name), Some(65534), Some(65534)).unwrap();
    // Create neither reclaims nor reports it busy: it says whose it is.
    let e = ControlRegion::create(&params(&set, 1)).unwrap_err();
    assert_eq!(
        e,
        RegionError::Foreign {
            name: name.clone(),
            uid: 65534
        }
    );
    assert_eq!(
        e.to_vd_error(Side::Client).code,
        vdi_proto::VdCode::Security
    );
    // Nobody holds its lock, yet neither the sweep nor a reclaim removes it.
    assert_eq!(reclaim_if_dead(&name), Reclaim::Foreign { uid: 65534 });
    assert!(!cleanup_stale(uid()).contains(&name));
    assert_eq!(std::fs::read(path(&name)).unwrap(), b"not yours");
    std::fs::remove_file(path(&name)).unwrap();
}
