//! Close from C++ (vdi-facts §3.3): on a never-created and on a closed set VD_E_PROTOCOL;
//! with a device open VD_E_OPEN and the server sees the abort; the old device and command
//! pointers return errors without crashing; Create again on the same object works.

mod common;

use common::*;
use vdi_proto::{VdCode, win32};

#[test]
fn close_semantics_through_the_cpp_classes() {
    let dir = scratch("close");
    let exe = compile("tests/cpp/close_semantics.cpp", &dir, &[]);
    let name = format!("libsqlvdi-close-{}", std::process::id());
    let second = format!("{name}-again");
    let server = {
        let name = name.clone();
        std::thread::spawn(move || serve_until_abort(&name, 2))
    };
    let mut cmd = program(&exe);
    cmd.arg(&name).arg(&second);
    let (status, keys) = Running::spawn(cmd).finish();
    let report = server.join().expect("server thread");
    assert!(status.success(), "{status:?}: {keys:?}");

    let protocol = code(VdCode::Protocol);
    let invalid = code(VdCode::Invalid);
    assert_keys(
        &keys,
        &[
            ("close_never_created", protocol.clone()),
            ("create", "0".into()),
            ("get_configuration", "0".into()),
            ("open_device", "0".into()),
            // One device, and it is open: "all devices are open".
            ("open_device_again", code(VdCode::Open)),
            ("open_device_again_null", "1".into()),
            ("get_first", "0".into()),
            ("first_is_write", "1".into()),
            ("complete_first", "0".into()),
            ("complete_first_again", invalid.clone()),
            ("complete_forged", invalid.clone()),
            ("complete_null", invalid.clone()),
            ("get_null", invalid.clone()),
            ("get_second", "0".into()),
            ("close_with_device_open", code(VdCode::Open)),
            ("stale_get", protocol.clone()),
            ("stale_get_cleared", "1".into()),
            ("stale_complete", protocol.clone()),
            ("close_closed", protocol.clone()),
            ("create_with_returned_config", code(VdCode::NotSupported)),
            ("create_again", "0".into()),
            ("stale_get_after_create", protocol.clone()),
            ("stale_complete_after_create", protocol.clone()),
            ("close_again", "0".into()),
            ("done", "1".into()),
        ],
    );
    assert!(
        report.aborted,
        "the server did not see the abort: {report:?}"
    );
    // The first Write was completed before Close: its ERROR_SUCCESS reaches the server first.
    assert_eq!(
        report.codes.first(),
        Some(&win32::ERROR_SUCCESS),
        "{:?}",
        report.codes
    );
    assert!(
        report.codes.contains(&win32::ERROR_OPERATION_ABORTED),
        "the held Write was not completed as aborted: {:?}",
        report.codes
    );
    remove_scratch(&dir);
}

#[test]
fn deleting_a_set_with_a_device_open_aborts_it_for_the_server() {
    let dir = scratch("delete-open");
    let exe = compile("tests/cpp/close_semantics.cpp", &dir, &[]);
    let name = format!("libsqlvdi-delete-{}", std::process::id());
    let server = {
        let name = name.clone();
        std::thread::spawn(move || serve_until_abort(&name, 1))
    };
    let mut cmd = program(&exe);
    cmd.arg("--delete-open").arg(&name);
    let mut client = Running::spawn(cmd);
    client.expect_key("deleted");
    // The program is still running: what the server saw came from the destructor.
    let report = server.join().expect("server thread");
    client.send_line("go");
    let (status, keys) = client.finish();
    assert!(status.success(), "{status:?}: {keys:?}");
    assert_keys(
        &keys,
        &[
            ("create", "0".into()),
            ("get_configuration", "0".into()),
            ("open_device", "0".into()),
            ("get_command", "0".into()),
            ("deleted", "1".into()),
            ("exiting", "1".into()),
        ],
    );
    assert!(
        report.aborted,
        "the server did not see the client leave: {report:?}"
    );
    assert_eq!(
        report.codes,
        vec![win32::ERROR_OPERATION_ABORTED],
        "the held Write completes as aborted"
    );
    remove_scratch(&dir);
}
