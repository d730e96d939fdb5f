//! Two devices served by two threads of a C++ client (the SDK's multi-threaded shape): a
//! striped backup byte-compared per stripe, a command completed on the wrong device, and the
//! buffer-handle calls on a real command buffer.

mod common;

use common::*;
use vdi_proto::{VdCode, win32};

#[test]
fn striped_backup_from_two_threads_and_cross_device_calls() {
    let dir = scratch("striped");
    let exe = compile("tests/cpp/striped_client.cpp", &dir, &["-pthread"]);
    let name = format!("libsqlvdi-striped-{}", std::process::id());
    let stripes = vec![pattern(3 * MTS as usize + 100), pattern(2 * MTS as usize)];
    let transcript = dir.join("transcript.jsonl");
    let server = {
        let (name, stripes) = (name.clone(), stripes.clone());
        std::thread::spawn(move || serve_striped_backup(&name, &stripes))
    };
    let mut cmd = program(&exe);
    cmd.arg(&name)
        .arg(dir.join("stripe"))
        .env("VDISIM_TRANSCRIPT", &transcript);
    let (status, keys) = Running::spawn(cmd).finish();
    let report = server.join().expect("server thread");
    assert!(status.success(), "{status:?}: {keys:?}");
    let invalid = code(VdCode::Invalid);
    assert_keys(
        &keys,
        &[
            ("create", "0".into()),
            ("get_configuration", "0".into()),
            ("open_device_0", "0".into()),
            ("open_device_1", "0".into()),
            ("open_device_all_open", code(VdCode::Open)),
            ("complete_on_wrong_device", invalid.clone()),
            ("get_buffer_handle", "0".into()),
            ("map_buffer_handle", "0".into()),
            ("mapped_same_address", "1".into()),
            ("get_buffer_handle_foreign", invalid.clone()),
            ("end_0", code(VdCode::Close)),
            ("end_1", code(VdCode::Close)),
            ("bytes_0", stripes[0].len().to_string()),
            ("bytes_1", stripes[1].len().to_string()),
            ("close", "0".into()),
            ("done", "1".into()),
        ],
    );
    assert!(!report.aborted);
    assert!(
        report.codes.iter().all(|c| *c == win32::ERROR_SUCCESS),
        "{:?}",
        report.codes
    );
    for (d, expected) in stripes.iter().enumerate() {
        let stored = std::fs::read(dir.join(format!("stripe.{d}"))).unwrap();
        assert!(stored == *expected, "stripe {d} differs");
    }
    // The misuse went through vdi-client, so its transcript names the rule.
    let lines = std::fs::read_to_string(&transcript).expect("VDISIM_TRANSCRIPT was written");
    assert!(lines.contains("VDI-COMPLETE-003"), "{lines}");
    remove_scratch(&dir);
}
