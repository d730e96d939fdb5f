//! The sqlcmd-driven SDK client (`tests/cpp/sqlcmd_client.cpp`) against a real `vdisim server`
//! daemon, with vdisim's `sqlcmd` first on PATH, as a vendor would run an unchanged binary:
//! BACKUP DATABASE then RESTORE … WITH REPLACE (the server verifies the restore), and a Close
//! with the device still open (VD_E_OPEN, the BACKUP fails with 3013).

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use vdi_proto::VdCode;

#[test]
fn sqlcmd_client_compiles() {
    let dir = scratch("sqlcmd-compile");
    compile("tests/cpp/sqlcmd_client.cpp", &dir, &[]);
    remove_scratch(&dir);
}

#[test]
fn sqlcmd_client_backs_up_and_restores_through_the_daemon() {
    let dir = scratch("sqlcmd");
    let exe = compile("tests/cpp/sqlcmd_client.cpp", &dir, &[]);
    let vdisim = vdisim_binary();
    let bin = sqlcmd_bin(&dir, &vdisim);
    let socket = dir.join("sqlservr.sock");
    let password = "Vendor-Pw1";
    let daemon = start_vendor_daemon(&vdisim, &socket, password);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let file = dir.join("vendordb.bak");
    for (mode, done) in [
        ("backup", "BACKUP DATABASE successfully processed"),
        ("restore", "RESTORE DATABASE successfully processed"),
    ] {
        let out = program(&exe)
            .arg(mode)
            .arg("vendordb")
            .arg(&file)
            .env("PATH", &path)
            .env("VDISIM_SERVER", &socket)
            .env("VDISIM_SA_PASSWORD", password)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{mode} failed:\n{stdout}");
        let keys = parse_keys(&stdout.lines().map(str::to_string).collect::<Vec<_>>());
        assert_keys(
            &keys,
            &[
                ("end", code(VdCode::Close)),
                ("close", "0".into()),
                ("sqlcmd_exit", "0".into()),
            ],
        );
        assert!(
            stdout.contains(done),
            "{mode}: no '{done}' from sqlcmd:\n{stdout}"
        );
    }
    drop(daemon);
    remove_scratch(&dir);
}

/// The same unchanged C++ client, its `sqlcmd` on PATH a small script that runs `-Q` through
/// Microsoft's ODBC Driver 18 (mssql-python, `Encrypt=yes;TrustServerCertificate=yes`) to the
/// daemon's TDS port (`$VDISIM_TDS`): it backs up and restores through libsqlvdi.so over TDS.
/// Skipped, with the reason printed, when `scripts/install-test-deps.sh` has not made
/// `target/tds-venv`.
#[test]
fn sqlcmd_client_backs_up_and_restores_over_tds_with_odbc_driver_18() {
    let repo = Path::new(CRATE_DIR).join("../..");
    let python = repo.join("target/tds-venv/bin/python");
    if !python.exists() {
        println!(
            "SKIPPED: {} is missing: run scripts/install-test-deps.sh for ODBC Driver 18 (mssql-python)",
            python.display()
        );
        return;
    }
    let dir = scratch("sqlcmd-odbc");
    let exe = compile("tests/cpp/sqlcmd_client.cpp", &dir, &[]);
    let vdisim = vdisim_binary();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.join("sqlcmd-calls.log");
    let wrapper = bin.join("sqlcmd");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nVDISIM_SQLCMD_DRIVER=odbc exec '{}' '{}' \"$@\"\n",
            calls.display(),
            python.display(),
            repo.join("tests/tds/sqlcmd.py").display()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&wrapper, permissions).unwrap();
    let socket = dir.join("sqlservr.sock");
    let log_path = dir.join("server.log");
    let password = "Vendor-Pw1";
    let daemon = Daemon(
        Command::new(&vdisim)
            .arg("server")
            .arg("--socket")
            .arg(&socket)
            .args([
                "--database",
                "vendordb:8",
                "--sa-password",
                password,
                "--tds",
                "127.0.0.1:0",
            ])
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .expect("start vdisim server"),
    );
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let port = loop {
        if let Some(addr) = log()
            .lines()
            .find_map(|l| l.split("TDS ready on ").nth(1).map(str::to_owned))
        {
            break addr.rsplit(':').next().unwrap().trim().to_owned();
        }
        assert!(Instant::now() < deadline, "no TDS port logged:\n{}", log());
        std::thread::sleep(Duration::from_millis(20));
    };
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let file = dir.join("vendordb.bak");
    for (mode, done) in [
        ("backup", "BACKUP DATABASE successfully processed"),
        ("restore", "RESTORE DATABASE successfully processed"),
    ] {
        let out = program(&exe)
            .arg(mode)
            .arg("vendordb")
            .arg(&file)
            .env("PATH", &path)
            .env("VDISIM_TDS", format!("127.0.0.1,{port}"))
            // No socket: the T-SQL can only arrive over TDS.
            .env("VDISIM_SERVER", dir.join("no-such.sock"))
            .env("VDISIM_SA_PASSWORD", password)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{mode} failed:\n{stdout}\n{}", log());
        let keys = parse_keys(&stdout.lines().map(str::to_string).collect::<Vec<_>>());
        assert_keys(
            &keys,
            &[
                ("end", code(VdCode::Close)),
                ("close", "0".into()),
                ("sqlcmd_exit", "0".into()),
            ],
        );
        assert!(
            stdout.contains(done),
            "{mode}: no '{done}' from sqlcmd:\n{stdout}"
        );
    }
    let calls = std::fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(calls.lines().count(), 2, "{calls}");
    let server_log = log();
    assert!(
        server_log.contains("library 'ODBC'") && server_log.contains(", TLS: logged in"),
        "not ODBC over TLS:\n{server_log}"
    );
    drop(daemon);
    remove_scratch(&dir);
}
