//! A C++ client written the way the Linux SDK documents one, compiled with g++ against our
//! `vdi.h`, linked with `-lsqlvdi` and run as its own process against vdisim's server-side
//! set on a thread of this test: a backup stored in a file, then a restore served from it,
//! byte-compared on both ends.

mod common;

use common::*;
use vdi_proto::{VdCode, win32};

/// 5 MiB plus a partial transfer, so the last Write and the EOF Read are short.
const BYTES: usize = 5 * 1024 * 1024 + 12_345;

#[test]
fn sdk_style_client_backs_up_and_restores_through_libsqlvdi() {
    let dir = scratch("sdk-client");
    let exe = compile("tests/cpp/sdk_client.cpp", &dir, &[]);
    let file = dir.join("backup.bak");
    let data = pattern(BYTES);

    // BACKUP: the program creates a set with a uuid name; the server opens it.
    let mut cmd = program(&exe);
    cmd.arg("backup").arg(&file);
    let mut client = Running::spawn(cmd);
    let name = client.expect_key("set");
    assert_eq!(name.len(), 36, "a uuid-style name: {name}");
    let server = {
        let data = data.clone();
        std::thread::spawn(move || serve_backup(&name, &data))
    };
    let (status, keys) = client.finish();
    let report = server.join().expect("server thread");
    assert!(status.success(), "client failed: {keys:?}");
    assert_keys(
        &keys,
        &[
            ("create", "0".into()),
            ("get_configuration", "0".into()),
            ("open_device", "0".into()),
            ("end", code(VdCode::Close)),
            ("close", "0".into()),
            ("bytes", BYTES.to_string()),
        ],
    );
    assert!(!report.aborted);
    assert!(
        report.codes.iter().all(|c| *c == win32::ERROR_SUCCESS),
        "{:?}",
        report.codes
    );
    let stored = std::fs::read(&file).unwrap();
    assert!(stored == data, "the backup file differs from the stream");

    // RESTORE from the file.
    let mut cmd = program(&exe);
    cmd.arg("restore").arg(&file);
    let mut client = Running::spawn(cmd);
    let name = client.expect_key("set");
    let server = std::thread::spawn(move || serve_restore(&name));
    let (status, keys) = client.finish();
    let report = server.join().expect("server thread");
    assert!(status.success(), "client failed: {keys:?}");
    assert_keys(
        &keys,
        &[("end", code(VdCode::Close)), ("close", "0".into())],
    );
    assert_eq!(report.codes.last(), Some(&win32::ERROR_HANDLE_EOF));
    assert!(
        report.restored == data,
        "restored {} bytes, expected {}",
        report.restored.len(),
        data.len()
    );
    remove_scratch(&dir);
}
