//! A fixed set name through `libsqlvdi.so` (issue 21, decision 11): a process that Creates it
//! and dies by SIGKILL does not block it; the next process's Create succeeds. VD_E_BUSY is for
//! a live owner only.

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;
use vdi_proto::VdCode;

fn ctl_exists(name: &str) -> bool {
    let uid = rustix::process::geteuid().as_raw();
    let ctl =
        vdi_shm::naming::region_name(uid, name, vdi_shm::naming::RegionKind::Control).unwrap();
    std::path::Path::new(&format!("/dev/shm{ctl}")).exists()
}

#[test]
fn a_name_whose_creator_was_killed_can_be_created_again() {
    let dir = scratch("reclaim");
    let exe = compile("tests/cpp/reclaim_client.cpp", &dir, &[]);
    let name = format!("libsqlvdi-fixed-name-{}", std::process::id());

    let mut cmd = program(&exe);
    cmd.args(["die", &name]);
    let (status, keys) = Running::spawn(cmd).finish();
    assert_eq!(status.signal(), Some(9), "{status:?} {keys:?}");
    assert_keys(&keys, &[("create", "0".into())]);
    assert!(ctl_exists(&name), "the killed process's region is there");

    let mut cmd = program(&exe);
    cmd.args(["create", &name]);
    let (status, keys) = Running::spawn(cmd).finish();
    assert!(status.success(), "{status:?} {keys:?}");
    assert_keys(&keys, &[("create", "0".into()), ("close", "0".into())]);
    assert!(!ctl_exists(&name), "Close removed the new region");
    remove_scratch(&dir);
}

#[test]
fn a_name_held_by_a_live_process_is_busy() {
    let dir = scratch("busy");
    let exe = compile("tests/cpp/reclaim_client.cpp", &dir, &[]);
    let name = format!("libsqlvdi-held-name-{}", std::process::id());

    let mut cmd = program(&exe);
    cmd.args(["hold", &name]);
    let mut holder = Running::spawn(cmd);
    assert_eq!(holder.expect_key("create"), "0");

    let mut cmd = program(&exe);
    cmd.args(["create", &name]);
    let (status, keys) = Running::spawn(cmd).finish();
    assert!(status.success(), "{status:?} {keys:?}");
    assert_keys(&keys, &[("create", code(VdCode::Busy))]);

    holder.send_line("done");
    let (status, keys) = holder.finish();
    assert!(status.success(), "{status:?} {keys:?}");
    assert_keys(&keys, &[("close", "0".into())]);
    assert!(!ctl_exists(&name));
    remove_scratch(&dir);
}
