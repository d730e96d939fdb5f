//! Producer behaviour: determinism, the parallel API, flush points, misuse errors.

use std::sync::{Arc, Mutex};

use vdi_server::db::{BackupKind, Database, RecoveryModel};
use vdi_server::stream::{
    BackupOptions, BackupProducer, ProduceError, Scratch, assemble, backup_to_memory,
};

fn image(containers: u16) -> vdi_server::db::BackupImage {
    let mut db = Database::new("prod", 77, 1 << 20, RecoveryModel::Full, containers);
    db.run_workload(30, 1);
    db.prepare_backup(BackupKind::Full).unwrap()
}

fn opts(devices: u16, compression: bool) -> BackupOptions {
    BackupOptions {
        block_size: 1024,
        max_transfer: 131072,
        devices,
        compression,
        checksum: true,
        seed: 3,
        ..BackupOptions::default()
    }
}

#[test]
fn same_inputs_give_identical_bytes() {
    let a = backup_to_memory(image(1), opts(3, true), 10).unwrap().0;
    let b = backup_to_memory(image(1), opts(3, true), 10).unwrap().0;
    assert_eq!(a, b);
    let c = backup_to_memory(image(1), opts(3, true), 11).unwrap().0;
    assert_ne!(a, c, "another distribution gives other stripes");
}

#[test]
fn compression_shrinks_the_stream() {
    let plain: usize = backup_to_memory(image(0), opts(1, false), 1)
        .unwrap()
        .0
        .iter()
        .map(Vec::len)
        .sum();
    let packed: usize = backup_to_memory(image(0), opts(1, true), 1)
        .unwrap()
        .0
        .iter()
        .map(Vec::len)
        .sum();
    assert!(
        packed * 10 < plain * 7,
        "compressed {packed} vs plain {plain}"
    );
}

#[test]
fn transfers_are_block_multiples_within_max_transfer_and_flush_after_containers() {
    let (stripes, stats) = backup_to_memory(image(3), opts(4, false), 2).unwrap();
    assert_eq!(stats.flush_points, 3);
    assert!(stats.per_stripe.iter().all(|&n| n > 0));
    let refs: Vec<&[u8]> = stripes.iter().map(Vec::as_slice).collect();
    assert!(assemble(&refs).is_ok());
}

#[test]
fn parallel_writers_produce_a_valid_backup() {
    let o = opts(4, true);
    let producer = Arc::new(Mutex::new(
        BackupProducer::new(image(2), o.clone()).unwrap(),
    ));
    let source = producer.lock().unwrap().source();
    let mut handles = Vec::new();
    for stripe in 0..4u16 {
        let producer = Arc::clone(&producer);
        let source = Arc::clone(&source);
        let max = o.max_transfer as usize;
        handles.push(std::thread::spawn(move || {
            let mut out = vec![0u8; producer.lock().unwrap().header_len()];
            let n = producer
                .lock()
                .unwrap()
                .stripe_header(stripe, &mut out)
                .unwrap();
            out.truncate(n);
            let mut scratch = Scratch::default();
            let mut buf = vec![0u8; max];
            loop {
                let plan = producer.lock().unwrap().reserve(stripe).unwrap();
                let Some(plan) = plan else { break };
                // Generation happens outside the lock.
                let t = plan.write(&source, &mut scratch, &mut buf).unwrap();
                out.extend_from_slice(&buf[..t.len]);
                producer.lock().unwrap().complete(&t).unwrap();
            }
            let mut tb = vec![0u8; 1024];
            let n = producer
                .lock()
                .unwrap()
                .stripe_trailer(stripe, &mut tb)
                .unwrap();
            out.extend_from_slice(&tb[..n]);
            out
        }));
    }
    let stripes: Vec<Vec<u8>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let refs: Vec<&[u8]> = stripes.iter().map(Vec::as_slice).collect();
    assert_eq!(assemble(&refs).unwrap(), image(2));
}

#[test]
fn misuse_is_refused() {
    let mut p = BackupProducer::new(image(0), opts(2, false)).unwrap();
    let mut buf = vec![0u8; 131072];
    assert!(matches!(
        p.fill_next(0, &mut buf),
        Err(ProduceError::OutOfOrder { .. })
    ));
    assert!(matches!(
        p.stripe_header(2, &mut buf),
        Err(ProduceError::NoSuchStripe { .. })
    ));
    p.stripe_header(0, &mut buf).unwrap();
    assert!(matches!(
        p.stripe_header(0, &mut buf),
        Err(ProduceError::OutOfOrder { .. })
    ));
    assert!(matches!(
        p.fill_next(0, &mut buf[..1000]),
        Err(ProduceError::BufferTooSmall { .. })
    ));
    assert!(matches!(
        p.stripe_trailer(0, &mut buf),
        Err(ProduceError::OutOfOrder { .. })
    ));
    let bad = BackupOptions {
        block_size: 1000,
        ..opts(1, false)
    };
    assert!(matches!(
        BackupProducer::new(image(0), bad),
        Err(ProduceError::InvalidOptions(_))
    ));
    let bad = BackupOptions {
        max_transfer: 65536 + 512,
        ..opts(1, false)
    };
    assert!(BackupProducer::new(image(0), bad).is_err());
    let bad = BackupOptions {
        devices: 65,
        ..opts(1, false)
    };
    assert!(BackupProducer::new(image(0), bad).is_err());
}

#[test]
fn progress_counts_what_was_handed_out() {
    let img = image(1);
    let pages = img.pages.len() as u64;
    let fs = img.filestream_bytes();
    let mut p = BackupProducer::new(img, opts(1, false)).unwrap();
    let mut buf = vec![0u8; 131072];
    p.stripe_header(0, &mut buf).unwrap();
    assert_eq!(p.progress().percent(), 0);
    let mut last = 0;
    let mut steps = 0;
    while p.fill_next(0, &mut buf).unwrap().is_some() {
        let pct = p.progress().percent();
        assert!(pct >= last);
        last = pct;
        steps += 1;
    }
    assert!(steps > 4);
    let done = p.progress();
    assert_eq!((done.pages_done, done.pages_total), (pages, pages));
    assert_eq!((done.fs_bytes_done, done.fs_bytes_total), (fs, fs));
    assert_eq!(done.percent(), 100);
}
