//! Back up, read back in random chunk sizes, rebuild, compare digests.

use vdi_server::db::{BackupKind, Database, RecoveryModel, RestoreState};
use vdi_server::stream::{BackupOptions, RestoreAssembler, StripeReader, backup_to_memory};

fn feed_in_chunks(device: u16, bytes: &[u8], seed: u64) -> vdi_server::stream::ParsedStripe {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut r = StripeReader::new(device);
    let mut at = 0;
    while at < bytes.len() {
        let n = match rng.u8(0..4) {
            0 => 1,
            1 => rng.usize(1..64),
            2 => rng.usize(1..70_000),
            _ => 512 * rng.usize(1..300),
        }
        .min(bytes.len() - at);
        r.feed(&bytes[at..at + n]).expect("valid stream");
        at += n;
    }
    r.finish().expect("complete stripe")
}

fn roundtrip(devices: u16, compression: bool, checksum: bool, seed: u64) {
    let mut db = Database::new("rt", seed, 3 << 20, RecoveryModel::Full, 2);
    db.run_workload(200, seed);
    let image = db.prepare_backup(BackupKind::Full).unwrap();
    let opts = BackupOptions {
        block_size: 4096,
        max_transfer: 65536 * 2,
        devices,
        compression,
        checksum,
        seed,
        ..BackupOptions::default()
    };
    let (stripes, stats) = backup_to_memory(image.clone(), opts, seed).unwrap();
    assert_eq!(
        stats.flush_points, 2,
        "one flush point per FILESTREAM container"
    );
    let mut a = RestoreAssembler::new();
    for (d, s) in stripes.iter().enumerate() {
        assert_eq!(s.len() % 4096, 0);
        a.add(feed_in_chunks(d as u16, s, seed + d as u64)).unwrap();
    }
    let restored = a.finish().unwrap();
    assert_eq!(restored, image);
    let mut state = RestoreState::new();
    state.apply(&restored).unwrap();
    let db2 = state.recover().unwrap();
    assert_eq!(db.compare(&db2), Ok(()));
    assert_eq!(db.digest().combined(), db2.digest().combined());
}

#[test]
fn roundtrip_1_3_8_stripes_all_options() {
    for devices in [1, 3, 8] {
        for (compression, checksum) in [(false, false), (true, false), (false, true), (true, true)]
        {
            roundtrip(
                devices,
                compression,
                checksum,
                u64::from(devices) * 10 + u64::from(compression) * 2 + u64::from(checksum),
            );
        }
    }
}

mod any_options {
    use proptest::prelude::*;
    use vdi_server::db::{BackupKind, Database, RecoveryModel, RestoreState};
    use vdi_server::stream::{BackupOptions, assemble, backup_to_memory};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

        /// Any legal options, any backup kind, any number of devices: the chain restores to the
        /// source's state.
        #[test]
        fn roundtrip_any_options(block_shift in 9u32..=16, transfer_units in 1u32..=4,
                                 devices in prop_oneof![1u16..=8, Just(64u16)],
                                 compression: bool, checksum: bool, seed: u64,
                                 containers in 0u16..=2) {
            let mut db = Database::new("any", seed, 200 * 1024, RecoveryModel::Full, containers);
            let opts = BackupOptions {
                block_size: 1 << block_shift,
                max_transfer: 65536 * transfer_units,
                devices,
                compression,
                checksum,
                seed,
                backup_name: "x".repeat((seed % 129) as usize),
                description: "d".repeat((seed % 256) as usize),
            };
            let mut chain = Vec::new();
            for (i, kind) in [BackupKind::Full, BackupKind::Differential, BackupKind::Log]
                .into_iter()
                .enumerate()
            {
                db.run_workload(10, seed.wrapping_add(i as u64));
                let image = db.prepare_backup(kind).unwrap();
                db.commit_backup(&image.meta);
                let (stripes, _) = backup_to_memory(image.clone(), opts.clone(), seed).unwrap();
                prop_assert_eq!(stripes.len(), usize::from(devices));
                for s in &stripes {
                    prop_assert_eq!(s.len() % opts.block_size as usize, 0);
                }
                let refs: Vec<&[u8]> = stripes.iter().map(Vec::as_slice).collect();
                let back = assemble(&refs).unwrap();
                prop_assert_eq!(&back, &image);
                chain.push(back);
            }
            let mut r = RestoreState::new();
            for image in &chain {
                r.apply(image).unwrap();
            }
            prop_assert_eq!(r.recover().unwrap().compare(&db), Ok(()));
        }
    }
}

#[test]
fn one_byte_at_a_time_and_block_multiples() {
    let mut db = Database::new("bytes", 8, 96 * 1024, RecoveryModel::Full, 1);
    db.run_workload(9, 8);
    let image = db.prepare_backup(BackupKind::Full).unwrap();
    let opts = BackupOptions {
        block_size: 512,
        max_transfer: 65536,
        devices: 2,
        compression: true,
        checksum: true,
        ..BackupOptions::default()
    };
    let (stripes, _) = backup_to_memory(image.clone(), opts, 4).unwrap();
    // Byte by byte.
    let mut a = RestoreAssembler::new();
    for (d, s) in stripes.iter().enumerate() {
        let mut r = StripeReader::new(d as u16);
        for b in s {
            assert!(!r.is_complete());
            r.feed(std::slice::from_ref(b)).unwrap();
        }
        assert!(r.is_complete());
        assert_eq!(r.bytes_read(), s.len() as u64);
        a.add(r.finish().unwrap()).unwrap();
    }
    assert_eq!(a.finish().unwrap(), image);
    // As RESTORE reads: multiples of the block size from BLOCKSIZE to MAXTRANSFERSIZE.
    let mut rng = fastrand::Rng::with_seed(1);
    let mut a = RestoreAssembler::new();
    for (d, s) in stripes.iter().enumerate() {
        let mut r = StripeReader::new(d as u16);
        let mut at = 0;
        while !r.is_complete() {
            let n = (512 * rng.usize(1..=128)).min(s.len() - at);
            r.feed(&s[at..at + n]).unwrap();
            at += n;
        }
        assert_eq!(at, s.len());
        a.add(r.finish().unwrap()).unwrap();
    }
    assert_eq!(a.finish().unwrap(), image);
}
