//! A snapshot client written in C++ against the SDK's headers (`tests/cpp/snapshot_client.cpp`)
//! against a real `vdisim server`, through vdisim's libsqlvdi.so and sqlcmd (issue 20):
//! VDF_SnapshotPrepare, VDC_PrepareToFreeze, VDC_Snapshot with the copy of the frozen image,
//! then RESTORE … WITH SNAPSHOT with VDC_MountSnapshot, compared with the database as frozen.

mod common;

use common::*;

use std::process::Command;
use vdi_proto::VdCode;

#[test]
fn cpp_snapshot_client_backs_up_and_mounts_through_the_daemon() {
    let dir = scratch("snapshot-cpp");
    let exe = compile("tests/cpp/snapshot_client.cpp", &dir, &[]);
    let vdisim = vdisim_binary();
    let bin = sqlcmd_bin(&dir, &vdisim);
    let socket = dir.join("sqlservr.sock");
    let password = "Vendor-Pw1";
    let _daemon = start_vendor_daemon(&vdisim, &socket, password);
    let sql = |query: &str| {
        let out = Command::new(&vdisim)
            .arg("sqlcmd")
            .arg("-S")
            .arg(format!("unix:{}", socket.display()))
            .args(["-U", "sa", "-P", password, "-h", "-1", "-W", "-Q", query])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let digest = || sql("SET NOCOUNT ON; DBCC VDISIM_DIGEST('vendordb') WITH NO_INFOMSGS");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let metadata = dir.join("vendordb.meta");
    let volume = dir.join("volumes").join("vendordb").join("database.img");
    let captured = dir.join("vendordb.snap");
    let frozen = digest();
    let mut outputs = Vec::new();
    for mode in ["backup", "restore"] {
        if mode == "restore" {
            // The image existed only while the database was frozen.
            assert!(!volume.exists());
            // Work after the snapshot, which the restore must undo.
            sql("DBCC VDISIM_WORKLOAD('vendordb', 25)");
            assert_ne!(digest(), frozen);
        }
        let out = program(&exe)
            .arg(mode)
            .arg("vendordb")
            .arg(&metadata)
            .arg(&volume)
            .arg(&captured)
            .env("PATH", &path)
            .env("VDISIM_SERVER", &socket)
            .env("VDISIM_SA_PASSWORD", password)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
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
        outputs.push((keys, stdout));
    }
    let (backup, text) = &outputs[0];
    assert_eq!(
        backup.get("prepare_to_freeze").map(String::as_str),
        Some("1")
    );
    assert!(
        backup["snapshot_copied"].parse::<i64>().unwrap() > 0,
        "{text}"
    );
    assert!(text.contains("was frozen for"), "{text}");
    assert!(
        text.contains("BACKUP DATABASE successfully processed"),
        "{text}"
    );
    let (restore, text) = &outputs[1];
    assert!(restore["mounted"].parse::<i64>().unwrap() > 0, "{text}");
    assert!(
        text.contains("RESTORE DATABASE successfully processed"),
        "{text}"
    );
    assert_eq!(digest(), frozen);
    remove_scratch(&dir);
}
