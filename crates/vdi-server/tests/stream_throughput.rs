//! Throughput measurement of the producer and the reader. Ignored by default: it measures, it
//! does not assert speed. Run in release mode:
//! `cargo test --release -p vdi-server --test stream_throughput -- --ignored --nocapture`

use std::time::Instant;

use vdi_server::db::{BackupKind, Database, RecoveryModel};
use vdi_server::stream::{
    BackupOptions, BackupProducer, RestoreAssembler, StripeReader, backup_to_memory,
};

fn measure(compression: bool, checksum: bool) {
    let mut db = Database::new("bench", 1, 256 << 20, RecoveryModel::Full, 0);
    let image = db.prepare_backup(BackupKind::Full).unwrap();
    let opts = BackupOptions {
        block_size: 65536,
        max_transfer: 4 << 20,
        devices: 1,
        compression,
        checksum,
        ..BackupOptions::default()
    };
    let mut p = BackupProducer::new(image.clone(), opts.clone()).unwrap();
    let mut buf = vec![0u8; 4 << 20];
    p.stripe_header(0, &mut buf).unwrap();
    let start = Instant::now();
    let mut produced = 0usize;
    while let Some(t) = p.fill_next(0, &mut buf).unwrap() {
        produced += t.len;
    }
    let fill = start.elapsed();
    let stripe = backup_to_memory(image, opts, 0).unwrap().0.remove(0);
    let start = Instant::now();
    let mut r = StripeReader::new(0);
    for chunk in stripe.chunks(1 << 20) {
        r.feed(chunk).unwrap();
    }
    let mut a = RestoreAssembler::new();
    a.add(r.finish().unwrap()).unwrap();
    let image = a.finish().unwrap();
    let read = start.elapsed();
    assert_eq!(image.pages.len(), 32768);
    let gib = |bytes: usize, secs: f64| bytes as f64 / secs / (1u64 << 30) as f64;
    let logical = 256usize << 20;
    println!(
        "compression={compression} checksum={checksum}: stream {} MiB; fill_next {:.2} GiB/s of database ({:.2} GiB/s of stream); reader+verify {:.2} GiB/s of database",
        produced >> 20,
        gib(logical, fill.as_secs_f64()),
        gib(produced, fill.as_secs_f64()),
        gib(logical, read.as_secs_f64()),
    );
}

#[test]
#[ignore = "measurement, run with --release --ignored --nocapture"]
fn throughput() {
    for (c, k) in [(false, false), (false, true), (true, false), (true, true)] {
        measure(c, k);
    }
}
