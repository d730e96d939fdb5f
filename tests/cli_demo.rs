//! The CLI as a user runs it: real processes.

use std::process::Command;

fn vdisim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vdisim"))
}

#[test]
fn demo_backs_up_restores_and_verifies_through_shared_memory() {
    let out = vdisim()
        .args(["demo", "--database", "pubs", "--devices", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("BACKUP DATABASE successfully processed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("RESTORE DATABASE successfully processed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("verification: OK, 512 pages restored"),
        "{stdout}"
    );
}

#[test]
fn simulator_demo_backs_up_restores_and_verifies() {
    let out = vdisim()
        .args([
            "demo",
            "--simulator",
            "--size-mib",
            "8",
            "--devices",
            "3",
            "--flushes",
            "2",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("verification: OK, 1024 pages (8388608 bytes)"),
        "{stdout}"
    );
    assert!(
        // 2 mid-stream Flushes and the final one on each of 3 devices (decision 43).
        stdout.contains("flushes seen by the client: 9, VDC_Complete: 3"),
        "{stdout}"
    );
}

#[test]
fn demo_rejects_a_bad_device_count_as_a_usage_error() {
    let out = vdisim().args(["demo", "--devices", "65"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rules_lists_the_whole_table() {
    let out = vdisim().args(["rules", "--json"]).output().unwrap();
    assert!(out.status.success());
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert_eq!(rules.len(), vdi_proto::RULES.len());
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "VDI-CLOSE-003" && r["code"] == "Open")
    );
}

#[test]
fn backup_and_restore_commands_round_trip_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    let out = vdisim()
        .args([
            "backup",
            "--in-process",
            "--db",
            "pubs",
            "--devices",
            "2",
            "--mode",
            "disk",
            "--to",
        ])
        .arg(&media)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("BACKUP DATABASE successfully processed"),
        "{stdout}"
    );
    assert!(media.join("stripe-00.vbak").exists() && media.join("stripe-01.vbak").exists());
    // A separate process has its own in-process server: restore the backup as a new database.
    let out = vdisim()
        .args([
            "restore",
            "--in-process",
            "--db",
            "pubs_copy",
            "--devices",
            "2",
            "--mode",
            "disk",
            "--from",
        ])
        .arg(&media)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("RESTORE DATABASE successfully processed"),
        "{stdout}"
    );
}
