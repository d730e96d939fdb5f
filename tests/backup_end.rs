//! How a BACKUP ends (issue 19, defect 2; decision 43): as SQL Server ends it, with a final
//! VDC_Flush on every device and then, when negotiated, VDC_Complete; nothing after it but
//! VD_E_CLOSE. The real client library and the real BACKUP job, over real shared memory.

use std::sync::Arc;
use std::thread;
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig, VdcCode, vdf, win32};
use vdi_server::db::{Catalog, RecoveryModel};
use vdi_server::engine::sink::CollectSink;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::{JobFaults, JobOptions, VdiJobRunner};
use vdi_server::vdi::shm::ShmServerConnector;

/// `streams` has FILESTREAM containers (mid-stream Flushes), `plain` has none.
fn engine(faults: JobFaults) -> Arc<Engine> {
    let mut catalog = Catalog::new();
    catalog
        .create("streams", 4 << 20, RecoveryModel::Full, 2)
        .unwrap();
    catalog
        .create("plain", 2 << 20, RecoveryModel::Simple, 0)
        .unwrap();
    let options = JobOptions {
        faults,
        ..JobOptions::default()
    };
    let connector = Arc::new(ShmServerConnector::from_env());
    Engine::new(
        catalog,
        EngineConfig {
            jobs: Arc::new(VdiJobRunner::new(connector, options)),
            ..EngineConfig::default()
        },
    )
}

fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{{end-{tag}-{}-{n}}}", std::process::id())
}

fn device_name(set: &str, d: u16) -> String {
    if d == 0 {
        set.to_string()
    } else {
        format!("{set}_{d}")
    }
}

/// Backs `db` up over `devices` devices with a client asking for `features`; returns, per
/// device, every command code it was sent, in order, and how its GetCommand loop ended.
fn backup(
    engine: &Arc<Engine>,
    db: &str,
    devices: u16,
    features: u32,
) -> Vec<(Vec<VdcCode>, VdCode)> {
    let set = unique(db);
    let client = ClientVirtualDeviceSet::new();
    let config = VdConfig {
        device_count: u32::from(devices),
        features,
        ..VdConfig::default()
    };
    client.create(&set, &config).unwrap();
    let targets: Vec<String> = (0..devices)
        .map(|d| format!("VIRTUAL_DEVICE='{}'", device_name(&set, d)))
        .collect();
    let sql = format!(
        "BACKUP DATABASE {db} TO {} WITH FORMAT, MAXTRANSFERSIZE=65536",
        targets.join(", ")
    );
    let sql_thread = {
        let engine = engine.clone();
        thread::spawn(move || {
            let mut session = engine.login("sa", "", None).unwrap();
            let mut sink = CollectSink::new();
            session.execute_script(&sql, &mut sink, false);
            sink
        })
    };
    let mut negotiated = VdConfig::default();
    client.get_configuration(20_000, &mut negotiated).unwrap();
    assert_eq!(
        negotiated.features & vdf::COMPLETE_ENABLED != 0,
        features & vdf::REQUEST_COMPLETE != 0
    );
    let handles: Vec<_> = (0..devices)
        .map(|d| client.open_device(&device_name(&set, d)).unwrap())
        .collect();
    let seen = thread::scope(|s| {
        let threads: Vec<_> = handles
            .iter()
            .map(|dev| {
                s.spawn(move || {
                    let mut codes = Vec::new();
                    loop {
                        match dev.get_command(20_000) {
                            Ok(cmd) => {
                                codes.push(cmd.code());
                                let bytes = if cmd.code() == VdcCode::Write {
                                    u64::from(cmd.size())
                                } else {
                                    0
                                };
                                dev.complete_command(&cmd, win32::ERROR_SUCCESS, bytes, 0)
                                    .unwrap();
                            }
                            Err(e) => return (codes, e.code),
                        }
                    }
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    });
    client.close().unwrap();
    let out = sql_thread.join().unwrap();
    assert!(out.error_numbers().is_empty(), "{}", out.render("VDISIM"));
    seen
}

/// Every device's stream ended with exactly `tail`, then VD_E_CLOSE.
fn assert_each_ends_with(seen: &[(Vec<VdcCode>, VdCode)], tail: &[VdcCode]) {
    for (d, (codes, ending)) in seen.iter().enumerate() {
        assert_eq!(*ending, VdCode::Close, "device {d}: {codes:?}");
        assert!(
            codes.ends_with(tail),
            "device {d} ended with {:?}, not {tail:?}",
            &codes[codes.len().saturating_sub(tail.len() + 1)..]
        );
        let completes = codes.iter().filter(|c| **c == VdcCode::Complete).count();
        let expected = tail.iter().filter(|c| **c == VdcCode::Complete).count();
        assert_eq!(completes, expected, "device {d}: {codes:?}");
    }
}

const FLUSH_THEN_COMPLETE: [VdcCode; 2] = [VdcCode::Flush, VdcCode::Complete];

#[test]
fn with_complete_negotiated_every_device_gets_a_final_flush_then_complete() {
    let engine = engine(JobFaults::default());
    for devices in [1, 4] {
        for db in ["plain", "streams"] {
            let seen = backup(&engine, db, devices, vdf::REQUEST_COMPLETE);
            assert_each_ends_with(&seen, &FLUSH_THEN_COMPLETE);
            if db == "streams" {
                // The FILESTREAM containers' Flushes come before the final one.
                assert!(
                    seen.iter()
                        .all(|(c, _)| { c.iter().filter(|x| **x == VdcCode::Flush).count() >= 3 })
                );
            }
        }
    }
}

#[test]
fn on_tape_the_filemark_comes_before_the_final_flush_and_complete() {
    let engine = engine(JobFaults::default());
    let seen = backup(&engine, "plain", 2, vdf::LIKE_TAPE | vdf::REQUEST_COMPLETE);
    assert_each_ends_with(
        &seen,
        &[VdcCode::WriteMark, VdcCode::Flush, VdcCode::Complete],
    );
}

#[test]
fn without_complete_the_final_flush_is_the_end() {
    let engine = engine(JobFaults::default());
    let seen = backup(&engine, "plain", 2, vdf::LIKE_PIPE);
    assert_each_ends_with(&seen, &[VdcCode::Write, VdcCode::Flush]);
}

#[test]
fn the_old_end_complete_with_no_final_flush_is_a_fault_knob() {
    let engine = engine(JobFaults {
        complete_without_final_flush: true,
        ..JobFaults::default()
    });
    let seen = backup(&engine, "plain", 2, vdf::REQUEST_COMPLETE);
    // The trailer's Write, then VDC_Complete: no Flush anywhere in a backup without FILESTREAM.
    assert_each_ends_with(&seen, &[VdcCode::Write, VdcCode::Complete]);
    assert!(
        seen.iter().all(|(c, _)| !c.contains(&VdcCode::Flush)),
        "{seen:?}"
    );
}
