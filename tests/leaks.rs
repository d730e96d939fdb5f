//! Leaks: many Create/Close cycles and many backups must not grow the process's file
//! descriptors, mappings or the regions in /dev/shm.

use std::sync::Arc;
use vdi_client::reference::{self, Direction, ReferenceOptions};
use vdi_client::{ClientVirtualDeviceSet, VdConfig};
use vdi_server::db::{Catalog, RecoveryModel};
use vdi_server::engine::sink::CollectSink;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::VdiJobRunner;

#[derive(Debug, PartialEq, Eq)]
struct Usage {
    fds: usize,
    maps: usize,
    regions: usize,
}

fn usage() -> Usage {
    let count = |dir: &str| std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    let mine = std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(&format!("leak-{}", std::process::id())))
        .count();
    Usage {
        fds: count("/proc/self/fd"),
        maps: std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .count(),
        regions: mine,
    }
}

#[test]
fn thousand_create_close_cycles_and_two_hundred_backups_leak_nothing() {
    // Warm up once so that lazily created process-wide things exist before the first count.
    let set = ClientVirtualDeviceSet::new();
    set.create(
        &format!("{{leak-{}-warm}}", std::process::id()),
        &VdConfig::with_devices(2),
    )
    .unwrap();
    set.close().unwrap();
    let before = usage();
    for i in 0..1000 {
        let set = ClientVirtualDeviceSet::new();
        set.create(
            &format!("{{leak-{}-{i}}}", std::process::id()),
            &VdConfig::with_devices(2),
        )
        .unwrap();
        set.close().unwrap();
    }
    assert_eq!(usage(), before, "after 1000 Create/Close cycles");

    let mut catalog = Catalog::new();
    catalog
        .create("tiny", 256 << 10, RecoveryModel::Simple, 0)
        .unwrap();
    let engine = Engine::new(
        catalog,
        EngineConfig {
            jobs: Arc::new(VdiJobRunner::shared_memory()),
            ..EngineConfig::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let backup = |i: usize| {
        let set_name = format!("{{leak-{}-b{i}}}", std::process::id());
        let engine = engine.clone();
        let sql = format!(
            "BACKUP DATABASE tiny TO VIRTUAL_DEVICE='{set_name}' WITH FORMAT, MAXTRANSFERSIZE=65536"
        );
        let (run, out) = reference::run(
            &set_name,
            Direction::Backup,
            dir.path(),
            &ReferenceOptions::default(),
            Default::default(),
            move || {
                let mut session = engine.login("sa", "", None).unwrap();
                let mut sink = CollectSink::new();
                session.execute_script(&sql, &mut sink, false);
                sink
            },
        );
        assert!(
            run.clean() && out.error_numbers().is_empty(),
            "{}",
            out.render("VDISIM")
        );
    };
    backup(0);
    let before = usage();
    for i in 1..=200 {
        backup(i);
    }
    let after = usage();
    // Threads come and go; allow the allocator a few arenas but nothing per backup.
    assert_eq!(
        (after.fds, after.regions),
        (before.fds, before.regions),
        "after 200 backups"
    );
    assert!(
        after.maps <= before.maps + 8,
        "mappings grew from {} to {}",
        before.maps,
        after.maps
    );
}
