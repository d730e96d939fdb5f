//! The reader and the assembler never panic, whatever they are fed.

use std::sync::OnceLock;

use proptest::prelude::*;
use vdi_server::db::{BackupKind, Database, RecoveryModel};
use vdi_server::stream::format::{RecordHeader, RecordKind, Trailer, round_up};
use vdi_server::stream::{
    BackupOptions, BackupProducer, RestoreAssembler, StripeReader, backup_to_memory, read_headers,
};

const BLOCK: usize = 512;

fn valid() -> &'static Vec<Vec<u8>> {
    static V: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    V.get_or_init(|| {
        let mut db = Database::new("fuzz", 3, 128 * 1024, RecoveryModel::Full, 1);
        db.run_workload(20, 3);
        let image = db.prepare_backup(BackupKind::Full).unwrap();
        let opts = BackupOptions {
            block_size: BLOCK as u32,
            max_transfer: 65536,
            devices: 2,
            compression: true,
            checksum: true,
            ..BackupOptions::default()
        };
        backup_to_memory(image, opts, 1).unwrap().0
    })
}

/// Headers of a one-device log backup, to prepend to crafted records.
fn log_headers() -> &'static Vec<u8> {
    static H: OnceLock<Vec<u8>> = OnceLock::new();
    H.get_or_init(|| {
        let mut db = Database::new("craft", 4, 64 * 1024, RecoveryModel::Full, 0);
        let full = db.prepare_backup(BackupKind::Full).unwrap();
        db.commit_backup(&full.meta);
        db.run_workload(5, 4);
        let image = db.prepare_backup(BackupKind::Log).unwrap();
        let opts = BackupOptions {
            block_size: BLOCK as u32,
            max_transfer: 65536,
            compression: true,
            ..BackupOptions::default()
        };
        let mut p = BackupProducer::new(image, opts).unwrap();
        let mut buf = vec![0u8; 65536];
        let n = p.stripe_header(0, &mut buf).unwrap();
        buf[..n].to_vec()
    })
}

fn feed_chunks(
    device: u16,
    bytes: &[u8],
    chunks: &[usize],
) -> Option<vdi_server::stream::ParsedStripe> {
    let mut r = StripeReader::new(device);
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let n = chunks
            .get(i)
            .copied()
            .unwrap_or(4096)
            .clamp(1, bytes.len() - at);
        i += 1;
        if r.feed(&bytes[at..at + n]).is_err() {
            // Errors are sticky.
            assert!(r.feed(&[0]).is_err());
            return None;
        }
        at += n;
    }
    r.finish().ok()
}

/// One crafted record: kind code, flags, seq, payload; hashes made valid.
fn crafted_stripe(records: &[(u8, u8, u64, Vec<u8>)]) -> Vec<u8> {
    let mut s = log_headers().clone();
    let data_start = s.len();
    let mut count = 0u64;
    let mut sum = 0u64;
    for (kind, flags, seq, payload) in records {
        let Some(kind) = RecordKind::from_code(*kind) else {
            continue;
        };
        let compressed = flags & 1 != 0;
        let raw_len = if compressed {
            payload.len() as u32 + 16
        } else {
            payload.len() as u32
        };
        let h = RecordHeader {
            kind,
            flags: *flags & 3,
            seq: *seq,
            stored_len: payload.len() as u32,
            raw_len,
            payload_hash: xxhash_rust::xxh3::xxh3_64(payload),
            header_hash: 0,
        };
        let mut head = [0u8; 40];
        sum = sum.wrapping_add(h.encode(&mut head));
        count += 1;
        s.extend_from_slice(&head);
        s.extend_from_slice(payload);
        s.resize(round_up(s.len(), 8), 0);
    }
    s.resize(round_up(s.len(), BLOCK), 0);
    let t = Trailer {
        stripe_index: 0,
        record_count: count,
        data_bytes: (s.len() - data_start) as u64,
        records_hash: sum,
    };
    let mut tb = vec![0u8; BLOCK];
    t.encode(&mut tb);
    s.extend_from_slice(&tb);
    s
}

fn payload_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        (
            prop::sample::select(vec![16usize, 24, 32, 48, 72]),
            any::<u64>()
        )
            .prop_map(|(n, x)| {
                // Mostly-small integers so fields look plausible.
                (0..n)
                    .map(|i| {
                        if i % 8 == 0 {
                            (x >> (i % 64)) as u8 & 7
                        } else {
                            0
                        }
                    })
                    .collect()
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn reader_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096),
                                              chunks in prop::collection::vec(1usize..600, 0..20)) {
        let _ = feed_chunks(0, &bytes, &chunks);
        let _ = read_headers(&bytes);
    }

    #[test]
    fn reader_never_panics_on_mutated_streams(stripe in 0usize..2,
                                              edits in prop::collection::vec((0.0f64..1.0, any::<u8>()), 1..6),
                                              cut in 0.0f64..1.0,
                                              chunks in prop::collection::vec(1usize..70_000, 0..40)) {
        let mut s = valid()[stripe].clone();
        for (frac, byte) in edits {
            let at = ((s.len() as f64) * frac) as usize;
            s[at] = byte;
        }
        if cut > 0.9 {
            let keep = ((s.len() as f64) * (cut - 0.9) * 10.0) as usize;
            s.truncate(keep);
        }
        let parsed = feed_chunks(stripe as u16, &s, &chunks);
        let _ = read_headers(&s);
        if let Some(p) = parsed {
            let mut a = RestoreAssembler::new();
            if a.add(p).is_ok() {
                let _ = a.finish();
            }
        }
    }

    #[test]
    fn reader_and_assembler_never_panic_on_crafted_records(
        records in prop::collection::vec((1u8..=7, 0u8..4, 0u64..6, payload_strategy()), 0..8),
        chunks in prop::collection::vec(1usize..300, 0..10)) {
        let s = crafted_stripe(&records);
        if let Some(p) = feed_chunks(0, &s, &chunks) {
            let mut a = RestoreAssembler::new();
            a.add(p).unwrap();
            let _ = a.finish();
        }
    }
}

#[test]
fn crafted_valid_log_backup_is_accepted() {
    // The crafting helper itself produces streams the reader accepts: an empty log backup is
    // FileBegin(log) FileEnd(log) End; with the wrong counts it is refused.
    let begin = {
        let mut p = vec![0u8; 16];
        p[0] = 1;
        let size = read_headers(log_headers()).unwrap().set.files[1].size_bytes;
        p[8..16].copy_from_slice(&size.to_le_bytes());
        p
    };
    let end = {
        let mut p = vec![0u8; 24];
        p[0] = 1;
        p
    };
    let hdr = read_headers(log_headers()).unwrap();
    assert_eq!(hdr.set.log_record_count, 5);
    let mut log = Vec::new();
    let first = hdr.set.first_lsn;
    let _ = first;
    // Five records are announced in the header, so an empty log section must be refused.
    let mut total = vec![0u8; 32];
    total[0..8].copy_from_slice(&3u64.to_le_bytes());
    log.push((1u8, 0u8, 0u64, begin));
    log.push((2, 0, 1, end));
    log.push((6, 0, 2, total));
    let s = crafted_stripe(&log);
    let p = feed_chunks(0, &s, &[]).expect("structurally valid stripe");
    let mut a = RestoreAssembler::new();
    a.add(p).unwrap();
    let err = a.finish().unwrap_err();
    assert!(
        matches!(
            err,
            vdi_server::stream::StreamError::Structure { seq: 2, .. }
        ),
        "{err:?}"
    );
}
