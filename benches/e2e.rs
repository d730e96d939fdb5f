//! End to end: a whole BACKUP of a 16 MiB database through the engine, its VDI job and real
//! shared memory to an in-process client that checksums every byte in place
//! (`backup_16MiB/vdi_shared_memory`), beside the same-run baseline of producing the same
//! backup stream into memory with no transport at all (`backup_16MiB/stream_to_memory`).
//! `vdisim bench` measures the two-process figures; this bench tracks the in-process cost.

use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig, VdcCode, vdf, win32};
use vdi_server::db::{BackupKind, Catalog, RecoveryModel};
use vdi_server::engine::sink::CollectSink;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::VdiJobRunner;
use vdi_server::stream::{BackupOptions, backup_to_memory};

const DB_BYTES: u64 = 16 << 20;

fn client(name: String) -> std::thread::JoinHandle<u64> {
    let set = ClientVirtualDeviceSet::new();
    let config = VdConfig {
        device_count: 1,
        features: vdf::LIKE_PIPE | vdf::REQUEST_COMPLETE,
        ..VdConfig::default()
    };
    set.create(&name, &config).expect("Create");
    std::thread::spawn(move || {
        let mut got = VdConfig::default();
        set.get_configuration(30_000, &mut got)
            .expect("GetConfiguration");
        let dev = set.open_device(&name).expect("OpenDevice");
        let mut h = 0u64;
        loop {
            let cmd = match dev.get_command(30_000) {
                Ok(c) => c,
                Err(e) if e.code == VdCode::Close => break,
                Err(e) => panic!("GetCommand: {e:?}"),
            };
            let n = if cmd.code() == VdcCode::Write {
                cmd.with_data(|d| {
                    h ^= vdi_shm::ceiling::crc32(d);
                    d.len() as u64
                })
                .unwrap_or(0)
            } else {
                0
            };
            dev.complete_command(&cmd, win32::ERROR_SUCCESS, n, 0)
                .expect("CompleteCommand");
        }
        drop(dev);
        set.close().expect("Close");
        h
    })
}

fn main() {
    let mut catalog = Catalog::new();
    catalog
        .create("e2e", DB_BYTES, RecoveryModel::Simple, 0)
        .unwrap();
    let engine = Engine::new(
        catalog,
        EngineConfig {
            jobs: Arc::new(VdiJobRunner::shared_memory()),
            ..EngineConfig::default()
        },
    );
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("backup_16MiB");
    g.sample_size(10).throughput(Throughput::Bytes(DB_BYTES));
    let mut n = 0u32;
    g.bench_function("vdi_shared_memory", |b| {
        b.iter(|| {
            n += 1;
            let name = format!("e2e-bench-{}-{n}", std::process::id());
            let t = client(name.clone());
            let mut sink = CollectSink::new();
            let mut session = engine.login("sa", "", None).unwrap();
            session.execute_script(
                &format!(
                    "BACKUP DATABASE [e2e] TO VIRTUAL_DEVICE = '{name}' WITH FORMAT, MAXTRANSFERSIZE = 1048576"
                ),
                &mut sink,
                false,
            );
            assert!(sink.error_numbers().is_empty(), "{}", sink.render("VDISIM"));
            black_box(t.join().unwrap())
        })
    });
    let image = engine
        .lock_catalog()
        .get_mut("e2e")
        .unwrap()
        .prepare_backup(BackupKind::Full)
        .unwrap();
    g.bench_function("stream_to_memory", |b| {
        b.iter(|| {
            let options = BackupOptions {
                block_size: 512,
                max_transfer: 1 << 20,
                devices: 1,
                ..BackupOptions::default()
            };
            black_box(backup_to_memory(image.clone(), options, 1).unwrap())
        })
    });
    g.finish();
    c.final_summary();
}
