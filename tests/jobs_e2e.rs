//! The session engine with the real BACKUP/RESTORE jobs, driving the real client library over
//! shared memory: T-SQL in, verified databases and SQL Server's messages out.

use std::sync::Arc;
use std::thread;
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig, VdcCode, vdf, win32};
use vdi_server::db::Catalog;
use vdi_server::engine::sink::CollectSink;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::VdiJobRunner;

fn engine() -> Arc<Engine> {
    let mut catalog = Catalog::new();
    catalog
        .create("sales", 6 << 20, vdi_server::db::RecoveryModel::Full, 2)
        .unwrap();
    catalog
        .create("other", 1 << 20, vdi_server::db::RecoveryModel::Simple, 0)
        .unwrap();
    Engine::new(
        catalog,
        EngineConfig {
            jobs: Arc::new(VdiJobRunner::shared_memory()),
            ..EngineConfig::default()
        },
    )
}

fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{{jobs-{tag}-{}-{n}}}", std::process::id())
}

/// Runs `sql` on the engine in a thread while this thread serves the set's devices:
/// Writes are stored per device, Reads are answered from `media`.
fn run(
    engine: &Arc<Engine>,
    set: &str,
    devices: u16,
    sql: String,
    media: Option<Vec<Vec<u8>>>,
) -> (CollectSink, Vec<Vec<u8>>, u32) {
    let client = ClientVirtualDeviceSet::new();
    let cfg = VdConfig {
        device_count: u32::from(devices),
        features: vdf::REQUEST_COMPLETE,
        ..VdConfig::default()
    };
    client.create(set, &cfg).unwrap();
    let engine = engine.clone();
    let sql_thread = thread::spawn(move || {
        let mut session = engine.login("sa", "", None).unwrap();
        let mut sink = CollectSink::new();
        session.execute_script(&sql, &mut sink, false);
        sink
    });
    let mut got = VdConfig::default();
    let mut stripes = vec![Vec::new(); usize::from(devices)];
    let mut flushes = 0;
    if client.get_configuration(20_000, &mut got).is_ok() {
        let names: Vec<String> = (0..devices)
            .map(|i| {
                if i == 0 {
                    set.to_string()
                } else {
                    format!("{set}_{i}")
                }
            })
            .collect();
        let handles: Vec<_> = names
            .iter()
            .map(|n| client.open_device(n).unwrap())
            .collect();
        let mut cursors = vec![0usize; usize::from(devices)];
        let mut open: Vec<bool> = vec![true; handles.len()];
        while open.iter().any(|o| *o) {
            for (d, dev) in handles.iter().enumerate() {
                if !open[d] {
                    continue;
                }
                let cmd = match dev.get_command(10) {
                    Ok(cmd) => cmd,
                    Err(e) if e.code == VdCode::Timeout => continue,
                    Err(_) => {
                        open[d] = false;
                        continue;
                    }
                };
                let (code, bytes) = match cmd.code() {
                    VdcCode::Write => {
                        let mut buf = vec![0; cmd.size() as usize];
                        assert!(cmd.read_data(&mut buf));
                        stripes[d].extend_from_slice(&buf);
                        (win32::ERROR_SUCCESS, u64::from(cmd.size()))
                    }
                    VdcCode::Read => {
                        let src = &media.as_ref().unwrap()[d];
                        let n = (src.len() - cursors[d]).min(cmd.size() as usize);
                        cmd.write_data(&src[cursors[d]..cursors[d] + n]);
                        cursors[d] += n;
                        (
                            if n < cmd.size() as usize {
                                win32::ERROR_HANDLE_EOF
                            } else {
                                win32::ERROR_SUCCESS
                            },
                            n as u64,
                        )
                    }
                    VdcCode::Flush => {
                        flushes += 1;
                        (win32::ERROR_SUCCESS, 0)
                    }
                    _ => (win32::ERROR_SUCCESS, 0),
                };
                dev.complete_command(&cmd, code, bytes, 0).unwrap();
            }
        }
    }
    let _ = client.close();
    (sql_thread.join().unwrap(), stripes, flushes)
}

fn rendered(sink: &CollectSink) -> String {
    sink.render("VDISIM")
}

#[test]
fn backup_then_restore_with_replace_over_three_devices() {
    let engine = engine();
    let set = unique("full");
    let sql = format!(
        "BACKUP DATABASE sales TO VIRTUAL_DEVICE='{set}', VIRTUAL_DEVICE='{set}_1', VIRTUAL_DEVICE='{set}_2' WITH FORMAT, MAXTRANSFERSIZE=131072, STATS=25"
    );
    let (out, stripes, flushes) = run(&engine, &set, 3, sql, None);
    let text = rendered(&out);
    assert!(out.error_numbers().is_empty(), "{text}");
    assert!(
        text.contains("BACKUP DATABASE successfully processed"),
        "{text}"
    );
    assert!(
        text.contains("Processed") && text.contains("file 'sales'"),
        "{text}"
    );
    assert!(text.contains("100 percent processed."), "{text}");
    // Two FILESTREAM containers: a Flush after each one on every device.
    assert!(flushes >= 6, "flushes {flushes}");
    assert!(stripes.iter().all(|s| !s.is_empty()));

    let set = unique("restore");
    let sql = format!(
        "RESTORE DATABASE sales FROM VIRTUAL_DEVICE='{set}', VIRTUAL_DEVICE='{set}_1', VIRTUAL_DEVICE='{set}_2' WITH REPLACE"
    );
    let (out, _, _) = run(&engine, &set, 3, sql, Some(stripes.clone()));
    let text = rendered(&out);
    assert!(out.error_numbers().is_empty(), "{text}");
    assert!(
        text.contains("RESTORE DATABASE successfully processed"),
        "{text}"
    );

    // Without REPLACE over another existing database: 3154, and it is left alone.
    let other = engine.lock_catalog().get("other").unwrap().state_hash();
    let set = unique("noreplace");
    let sql = format!(
        "RESTORE DATABASE other FROM VIRTUAL_DEVICE='{set}', VIRTUAL_DEVICE='{set}_1', VIRTUAL_DEVICE='{set}_2'"
    );
    let (out, _, _) = run(&engine, &set, 3, sql, Some(stripes.clone()));
    assert_eq!(out.error_numbers(), vec![3154, 3013], "{}", rendered(&out));
    assert_eq!(
        engine.lock_catalog().get("other").unwrap().state_hash(),
        other
    );

    // A flipped byte is detected, reported with its device and offset, and nothing changes.
    let mut damaged = stripes.clone();
    damaged[1][70_000] ^= 0x10;
    let before = engine.lock_catalog().get("sales").unwrap().state_hash();
    let set = unique("damaged");
    let sql = format!(
        "RESTORE DATABASE sales FROM VIRTUAL_DEVICE='{set}', VIRTUAL_DEVICE='{set}_1', VIRTUAL_DEVICE='{set}_2' WITH REPLACE"
    );
    let (out, _, _) = run(&engine, &set, 3, sql, Some(damaged));
    let text = rendered(&out);
    assert!(out.error_numbers().contains(&3013), "{text}");
    assert!(
        text.contains(&format!("{set}_1")) && text.contains("byte offset"),
        "{text}"
    );
    assert_eq!(
        engine.lock_catalog().get("sales").unwrap().state_hash(),
        before
    );
}

#[test]
fn verifyonly_and_headeronly() {
    let engine = engine();
    let set = unique("verify-src");
    let (out, stripes, _) = run(
        &engine,
        &set,
        1,
        format!("BACKUP DATABASE sales TO VIRTUAL_DEVICE='{set}' WITH NAME='nightly'"),
        None,
    );
    assert!(out.error_numbers().is_empty(), "{}", rendered(&out));
    let set = unique("verify");
    let (out, _, _) = run(
        &engine,
        &set,
        1,
        format!("RESTORE VERIFYONLY FROM VIRTUAL_DEVICE='{set}'"),
        Some(stripes.clone()),
    );
    assert!(
        rendered(&out).contains("The backup set on file 1 is valid."),
        "{}",
        rendered(&out)
    );
    let set = unique("header");
    let (out, _, _) = run(
        &engine,
        &set,
        1,
        format!("RESTORE HEADERONLY FROM VIRTUAL_DEVICE='{set}'"),
        Some(stripes),
    );
    let text = rendered(&out);
    assert!(text.contains("nightly") && text.contains("sales"), "{text}");
}

#[test]
fn backup_of_a_missing_database_and_a_set_nobody_created() {
    let engine = engine();
    let mut session = engine.login("sa", "", None).unwrap();
    let mut sink = CollectSink::new();
    session.execute_script(
        "BACKUP DATABASE nope TO VIRTUAL_DEVICE='x'",
        &mut sink,
        false,
    );
    assert_eq!(sink.error_numbers(), vec![911, 3013]);

    let options = vdi_server::jobs::JobOptions {
        open_timeout: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let jobs = VdiJobRunner::new(
        Arc::new(vdi_server::vdi::shm::ShmServerConnector::from_env()),
        options,
    );
    let mut catalog = Catalog::new();
    catalog
        .create("sales", 1 << 20, vdi_server::db::RecoveryModel::Simple, 0)
        .unwrap();
    let engine = Engine::new(
        catalog,
        EngineConfig {
            jobs: Arc::new(jobs),
            ..EngineConfig::default()
        },
    );
    let mut session = engine.login("sa", "", None).unwrap();
    let mut sink = CollectSink::new();
    let set = unique("nobody");
    session.execute_script(
        &format!("BACKUP DATABASE sales TO VIRTUAL_DEVICE='{set}'"),
        &mut sink,
        false,
    );
    assert_eq!(
        sink.error_numbers(),
        vec![3201, 3013],
        "{}",
        sink.render("VDISIM")
    );
    assert!(sink.render("VDISIM").contains(&set));
}

#[test]
fn full_then_log_chain_in_and_out_of_order() {
    let engine = engine();
    let backup = |sql: String, set: &str| {
        let (out, stripes, _) = run(&engine, set, 1, sql, None);
        assert!(out.error_numbers().is_empty(), "{}", rendered(&out));
        stripes
    };
    let s = unique("f");
    let full = backup(format!("BACKUP DATABASE sales TO VIRTUAL_DEVICE='{s}'"), &s);
    engine
        .lock_catalog()
        .get_mut("sales")
        .unwrap()
        .run_workload(50, 1);
    let s = unique("l1");
    let log1 = backup(format!("BACKUP LOG sales TO VIRTUAL_DEVICE='{s}'"), &s);
    engine
        .lock_catalog()
        .get_mut("sales")
        .unwrap()
        .run_workload(50, 2);
    let s = unique("l2");
    let log2 = backup(format!("BACKUP LOG sales TO VIRTUAL_DEVICE='{s}'"), &s);
    let final_hash = engine.lock_catalog().get("sales").unwrap().state_hash();

    let restore = |sql: String, media: Vec<Vec<u8>>| {
        let s = unique("r");
        let sql = sql.replace("SET", &s);
        run(&engine, &s, 1, sql, Some(media)).0
    };
    let out = restore(
        "RESTORE DATABASE sales FROM VIRTUAL_DEVICE='SET' WITH REPLACE, NORECOVERY".into(),
        full,
    );
    assert!(out.error_numbers().is_empty(), "{}", rendered(&out));
    // log2 before log1: too recent.
    let out = restore(
        "RESTORE LOG sales FROM VIRTUAL_DEVICE='SET' WITH NORECOVERY".into(),
        log2.clone(),
    );
    assert!(out.error_numbers().contains(&4305), "{}", rendered(&out));
    let out = restore(
        "RESTORE LOG sales FROM VIRTUAL_DEVICE='SET' WITH NORECOVERY".into(),
        log1.clone(),
    );
    assert!(out.error_numbers().is_empty(), "{}", rendered(&out));
    // log1 again: too early.
    let out = restore(
        "RESTORE LOG sales FROM VIRTUAL_DEVICE='SET' WITH NORECOVERY".into(),
        log1,
    );
    assert!(out.error_numbers().contains(&4326), "{}", rendered(&out));
    let out = restore(
        "RESTORE LOG sales FROM VIRTUAL_DEVICE='SET' WITH RECOVERY".into(),
        log2,
    );
    assert!(out.error_numbers().is_empty(), "{}", rendered(&out));
    assert_eq!(
        engine.lock_catalog().get("sales").unwrap().state_hash(),
        final_hash
    );
}
