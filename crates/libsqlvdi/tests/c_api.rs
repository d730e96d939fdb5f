//! The plain C API (`vdisim.h`) from a C program compiled with gcc: a backup against a server
//! thread, byte-compared, and the NULL and stale-handle calls with their documented codes.

mod common;

use common::*;
use vdi_proto::{VdCode, win32};

#[test]
fn c_program_backs_up_and_gets_documented_codes_for_misuse() {
    let dir = scratch("capi");
    let exe = compile("tests/c/capi_client.c", &dir, &[]);
    let name = format!("libsqlvdi-capi-{}", std::process::id());
    let file = dir.join("backup.bak");
    let data = pattern(1024 * 1024 + 7);
    let server = {
        let (name, data) = (name.clone(), data.clone());
        std::thread::spawn(move || serve_backup(&name, &data))
    };
    let mut cmd = program(&exe);
    cmd.arg(&name).arg(&file);
    let (status, keys) = Running::spawn(cmd).finish();
    let report = server.join().expect("server thread");
    assert!(status.success(), "{status:?}: {keys:?}");

    let invalid = code(VdCode::Invalid);
    let protocol = code(VdCode::Protocol);
    assert_keys(
        &keys,
        &[
            ("new_null", invalid.clone()),
            ("create_null_set", invalid.clone()),
            ("close_null_set", invalid.clone()),
            ("abort_null_set", invalid.clone()),
            ("get_null_device", invalid.clone()),
            ("get_null_device_cleared", "1".into()),
            ("complete_null_device", invalid.clone()),
            ("new", "0".into()),
            ("close_never_created", protocol.clone()),
            ("close_never_created_rule", "VDI-CLOSE-002".into()),
            ("create_null_name", invalid.clone()),
            ("create_null_config", invalid.clone()),
            ("create", "0".into()),
            ("get_configuration_null", invalid.clone()),
            ("get_configuration", "0".into()),
            ("open_device_null", invalid.clone()),
            ("open_device", "0".into()),
            ("get_null_out", invalid.clone()),
            ("complete_twice", invalid.clone()),
            ("complete_twice_rule", "VDI-COMPLETE-002".into()),
            ("complete_zero", invalid.clone()),
            ("complete_forged", invalid.clone()),
            ("end", code(VdCode::Close)),
            ("bytes", data.len().to_string()),
            ("close", "0".into()),
            ("stale_get", protocol.clone()),
            ("stale_complete", protocol.clone()),
            ("stale_rule", "VDI-CLOSE-006".into()),
            ("close_closed", protocol.clone()),
            (
                "message",
                "VD_E_TIMEOUT (0x80770003): the wait ran out of time".into(),
            ),
            ("message_len", "51".into()),
            ("message_truncated_len", "51".into()),
            ("message_truncated", "VD_E_TI".into()),
            ("done", "1".into()),
        ],
    );
    assert!(!report.aborted);
    assert!(
        report.codes.iter().all(|c| *c == win32::ERROR_SUCCESS),
        "{:?}",
        report.codes
    );
    assert!(
        std::fs::read(&file).unwrap() == data,
        "the stored stream differs"
    );
    remove_scratch(&dir);
}
