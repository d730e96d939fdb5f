//! The server's CPU-bound pieces, each beside a same-run baseline:
//!
//! * `stream_produce_8MiB`: producing a whole backup stream into memory (page synthesis,
//!   records, xxh3 payload hashes) vs `xxh3_baseline` over the same number of bytes;
//! * `stream_read_8MiB`: parsing and verifying that stream (StripeReader) vs the same baseline;
//! * `tsql/parse_backup` vs `tsql/tokenize_baseline` on one BACKUP statement.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use vdi_server::db::{BackupKind, Database, RecoveryModel};
use vdi_server::stream::{BackupOptions, StripeReader, backup_to_memory};

fn options() -> BackupOptions {
    BackupOptions {
        block_size: 512,
        max_transfer: 1 << 20,
        devices: 1,
        ..BackupOptions::default()
    }
}

fn stream(c: &mut Criterion) {
    let db = Database::new("bench", 7, 8 << 20, RecoveryModel::Simple, 0);
    let mut image_db = db.clone();
    let image = image_db.prepare_backup(BackupKind::Full).unwrap();
    let stripe = backup_to_memory(image.clone(), options(), 1)
        .unwrap()
        .0
        .remove(0);
    let mut g = c.benchmark_group("stream_8MiB");
    g.sample_size(10)
        .throughput(Throughput::Bytes(stripe.len() as u64));
    g.bench_function("produce", |b| {
        b.iter(|| black_box(backup_to_memory(image.clone(), options(), 1).unwrap()))
    });
    g.bench_function("read_verify", |b| {
        b.iter(|| {
            let mut r = StripeReader::new(0);
            for chunk in stripe.chunks(1 << 20) {
                r.feed(chunk).unwrap();
            }
            black_box(r.finish().unwrap())
        })
    });
    g.bench_function("xxh3_baseline", |b| {
        b.iter(|| black_box(xxhash_rust::xxh3::xxh3_64(black_box(&stripe))))
    });
    g.finish();
}

fn tsql(c: &mut Criterion) {
    let sql = "BACKUP DATABASE [AdventureWorks] TO VIRTUAL_DEVICE = '{8A5C3E21-1B2C-4D3E-9F00-123456789ABC}', \
               VIRTUAL_DEVICE = '{8A5C3E21-1B2C-4D3E-9F00-123456789ABC}_1' \
               WITH FORMAT, COMPRESSION, CHECKSUM, STATS = 10, MAXTRANSFERSIZE = 1048576, BUFFERCOUNT = 8";
    let mut g = c.benchmark_group("tsql");
    g.bench_function("parse_backup", |b| {
        b.iter(|| black_box(vdi_server::tsql::parse_batch(black_box(sql), 1).unwrap()))
    });
    g.bench_function("tokenize_baseline", |b| {
        b.iter(|| black_box(vdi_server::tsql::lexer::tokenize(black_box(sql), 1).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, stream, tsql);
criterion_main!(benches);
