//! Permissions: exact modes regardless of the umask, and another uid is refused.
#![cfg(not(loom))]

mod common;

use common::*;
use std::io::BufReader;
use std::os::unix::fs::PermissionsExt;
use vdi_proto::VdCode;
use vdi_shm::error::{RegionError, Side};
use vdi_shm::region::{Access, ControlRegion};

const NOBODY: u32 = 65534;

fn mode_of(shm_name: &str) -> u32 {
    std::fs::metadata(format!("/dev/shm{shm_name}"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let set = std::env::var(SET).unwrap();
    match role.as_str() {
        "umask" => {
            for mask in [0o077, 0o277, 0o777] {
                rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask));
                let mut p = params(&format!("{set}-{mask:o}"), 1);
                let owner = ControlRegion::create(&p).unwrap();
                p.set_name = format!("{set}-{mask:o}-group");
                p.access = Access::Group;
                let group = ControlRegion::create(&p).unwrap();
                println!(
                    "MODES {mask:o} {:o} {:o}",
                    mode_of(owner.name()),
                    mode_of(group.name())
                );
            }
            println!("DONE");
        }
        "nobody" => {
            let creator: u32 = std::env::var(UID).unwrap().parse().unwrap();
            // SAFETY: plain libc credential calls in a child process that only runs this
            // test; glibc applies them to every thread.
            unsafe {
                assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
                assert_eq!(libc::setgid(NOBODY), 0);
                assert_eq!(libc::setuid(NOBODY), 0);
            }
            assert_eq!(rustix::process::geteuid().as_raw(), NOBODY);
            if std::env::var("VDI_SHM_TEST_GROUP_OK").is_ok() {
                // The group set-up of vdi-facts §7: a 0660 region of our group opens.
                let name = format!("{set}-shared");
                ControlRegion::open(creator, &name, Access::Group).unwrap();
                let err = ControlRegion::open(creator, &name, Access::Owner).unwrap_err();
                assert!(matches!(err, RegionError::Security { .. }), "{err}");
                println!("GROUP-OPENED");
            }
            for (name, access) in [
                (set.clone(), Access::Owner),
                (format!("{set}-group"), Access::Group),
            ] {
                let err = ControlRegion::open(creator, &name, access).unwrap_err();
                assert!(matches!(err, RegionError::Security { .. }), "{err}");
                assert_eq!(err.to_vd_error(Side::Server).code, VdCode::Security);
                println!("REFUSED {err}");
            }
            println!("DONE");
        }
        other => panic!("unknown role {other}"),
    }
}

fn run_child(role: &str, set: &str) -> Vec<String> {
    let mut child = spawn_child("child_entry", role, set, &[]);
    let out = BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = std::io::BufRead::lines(out).map_while(Result::ok).collect();
    assert!(
        child.wait().unwrap().success(),
        "child {role} failed: {lines:?}"
    );
    lines
}

#[test]
fn modes_are_exact_under_any_umask() {
    let set = unique_set("umask");
    let lines = run_child("umask", &set);
    let modes: Vec<&String> = lines.iter().filter(|l| l.contains("MODES")).collect();
    assert_eq!(modes.len(), 3, "{lines:?}");
    for l in modes {
        println!("{l}");
        let parts: Vec<&str> = l.split("MODES ").nth(1).unwrap().split(' ').collect();
        assert_eq!(parts[1], "600", "{l}");
        assert_eq!(parts[2], "660", "{l}");
    }
    assert!(no_region_left(&set));
}

#[test]
fn default_mode_is_0600() {
    let set = unique_set("mode");
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    assert_eq!(mode_of(ctl.name()), 0o600);
}

#[test]
fn another_uid_cannot_open_the_set() {
    if uid() != 0 {
        println!("SKIPPED: not root, cannot drop a child to nobody");
        return;
    }
    let set = unique_set("uid");
    let owner = ControlRegion::create(&params(&set, 1)).unwrap();
    let mut p = params(&format!("{set}-group"), 1);
    p.access = Access::Group;
    let group = ControlRegion::create(&p).unwrap();
    let lines = run_child("nobody", &set);
    let refused = lines.iter().filter(|l| l.contains("REFUSED")).count();
    assert_eq!(refused, 2, "{lines:?}");
    drop((owner, group));
    assert!(no_region_left(&set));
}

#[test]
fn group_mode_lets_a_group_member_of_another_uid_in() {
    if uid() != 0 {
        println!("SKIPPED: not root, cannot drop a child to nobody");
        return;
    }
    let set = unique_set("grp");
    let owner = ControlRegion::create(&params(&set, 1)).unwrap();
    let mut p = params(&format!("{set}-group"), 1);
    p.access = Access::Group;
    let group = ControlRegion::create(&p).unwrap();
    let mut p = params(&format!("{set}-shared"), 1);
    p.access = Access::Group;
    let shared = ControlRegion::create(&p).unwrap();
    // Put the shared region in nobody's group, as an admin would with the mssql group.
    let fd = rustix::shm::open(
        shared.name(),
        rustix::shm::OFlags::RDWR,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    rustix::fs::fchown(&fd, None, Some(rustix::fs::Gid::from_raw(NOBODY))).unwrap();
    let mut child = spawn_child(
        "child_entry",
        "nobody",
        &set,
        &[("VDI_SHM_TEST_GROUP_OK", "1".to_string())],
    );
    let out = BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = std::io::BufRead::lines(out).map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success(), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("GROUP-OPENED")),
        "{lines:?}"
    );
    drop((owner, group, shared));
    assert!(no_region_left(&set));
}

#[test]
fn a_region_owned_by_another_uid_is_refused_even_to_root() {
    if uid() != 0 {
        println!("SKIPPED: not root, cannot chown a region");
        return;
    }
    let set = unique_set("chown");
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    let fd = rustix::shm::open(
        ctl.name(),
        rustix::shm::OFlags::RDWR,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    rustix::fs::fchown(&fd, Some(rustix::fs::Uid::from_raw(NOBODY)), None).unwrap();
    // Root bypasses the mode bits; the owner check is what refuses.
    let err = ControlRegion::open(0, &set, Access::Owner).unwrap_err();
    assert!(matches!(err, RegionError::Security { .. }), "{err}");
    let err = ControlRegion::open(0, &set, Access::Group).unwrap_err();
    assert!(matches!(err, RegionError::Security { .. }), "{err}");
}
