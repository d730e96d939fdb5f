//! Damage to a backup stream is always detected, with the right error, stripe and offset.

use std::sync::OnceLock;

use proptest::prelude::*;
use vdi_server::db::{BackupImage, BackupKind, Database, RecoveryModel};
use vdi_server::stream::{
    BackupOptions, BackupProducer, RestoreAssembler, StreamError, StripeReader, assemble,
};

const BLOCK: usize = 512;

/// A backup written transfer by transfer, remembering where each transfer landed.
struct Fixture {
    image: BackupImage,
    stripes: Vec<Vec<u8>>,
    /// (stripe, offset, len, first_seq)
    transfers: Vec<(usize, usize, usize, u64)>,
}

fn make_fixture(devices: u16, compression: bool, checksum: bool) -> Fixture {
    let mut db = Database::new("corrupt", 42, 640 * 1024, RecoveryModel::Full, 1);
    db.run_workload(50, 1);
    let image = db.prepare_backup(BackupKind::Full).unwrap();
    let opts = BackupOptions {
        block_size: BLOCK as u32,
        max_transfer: 65536,
        devices,
        compression,
        checksum,
        seed: 9,
        backup_name: "nightly".into(),
        description: "corruption fixture".into(),
    };
    let mut p = BackupProducer::new(image.clone(), opts).unwrap();
    let mut buf = vec![0u8; 65536];
    let mut stripes = Vec::new();
    for s in 0..devices {
        let n = p.stripe_header(s, &mut buf).unwrap();
        stripes.push(buf[..n].to_vec());
    }
    let mut rng = fastrand::Rng::with_seed(5);
    let mut transfers = Vec::new();
    loop {
        let s = rng.u16(0..devices);
        let Some(t) = p.fill_next(s, &mut buf).unwrap() else {
            break;
        };
        let st = &mut stripes[usize::from(s)];
        transfers.push((usize::from(s), st.len(), t.len, t.first_seq));
        st.extend_from_slice(&buf[..t.len]);
    }
    for s in 0..devices {
        let n = p.stripe_trailer(s, &mut buf).unwrap();
        stripes[usize::from(s)].extend_from_slice(&buf[..n]);
    }
    Fixture {
        image,
        stripes,
        transfers,
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| make_fixture(3, false, false))
}

fn fixture_cc() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| make_fixture(2, true, true))
}

fn restore(stripes: &[Vec<u8>]) -> Result<BackupImage, StreamError> {
    let refs: Vec<&[u8]> = stripes.iter().map(Vec::as_slice).collect();
    assemble(&refs)
}

#[test]
fn fixtures_restore_cleanly() {
    for f in [fixture(), fixture_cc()] {
        assert_eq!(restore(&f.stripes).unwrap(), f.image);
        assert!(f.transfers.len() > 8);
        assert!(f.stripes.iter().all(|s| s.len() % BLOCK == 0));
    }
}

#[test]
fn truncated_tail_is_detected_where_it_ends() {
    let f = fixture();
    for cut in [1, 7, 64, BLOCK, BLOCK + 40] {
        let mut s = f.stripes.clone();
        let len = s[1].len() - cut;
        s[1].truncate(len);
        assert_eq!(
            restore(&s),
            Err(StreamError::Truncated {
                stripe: 1,
                offset: len as u64
            }),
            "cut {cut}"
        );
    }
}

#[test]
fn trailing_data_is_detected() {
    let f = fixture();
    let mut s = f.stripes.clone();
    let len = s[2].len();
    s[2].extend_from_slice(&[0u8; BLOCK]);
    assert_eq!(
        restore(&s),
        Err(StreamError::TrailingData {
            stripe: 2,
            offset: len as u64
        })
    );
}

#[test]
fn swapped_stripes_are_detected() {
    let f = fixture();
    let mut s = f.stripes.clone();
    s.swap(0, 2);
    assert_eq!(
        restore(&s),
        Err(StreamError::WrongFamily {
            stripe: 0,
            offset: 0,
            found: 2
        })
    );
}

#[test]
fn missing_stripe_is_detected() {
    let f = fixture();
    let mut a = RestoreAssembler::new();
    for d in [0u16, 2] {
        let mut r = StripeReader::new(d);
        r.feed(&f.stripes[usize::from(d)]).unwrap();
        a.add(r.finish().unwrap()).unwrap();
    }
    assert_eq!(
        a.finish(),
        Err(StreamError::MissingFamily {
            family: 1,
            family_count: 3
        })
    );
}

#[test]
fn same_stripe_twice_is_detected() {
    let f = fixture();
    let mut a = RestoreAssembler::new();
    let read = |d: u16| {
        let mut r = StripeReader::new(d);
        r.feed(&f.stripes[usize::from(d)]).unwrap();
        r.finish().unwrap()
    };
    a.add(read(0)).unwrap();
    assert_eq!(
        a.add(read(0)),
        Err(StreamError::DuplicateFamily {
            stripe: 0,
            family: 0
        })
    );
}

#[test]
fn stripe_of_another_backup_is_detected() {
    let f = fixture();
    let other = make_fixture(3, true, false);
    let mut s = f.stripes.clone();
    s[1] = other.stripes[1].clone();
    assert!(matches!(
        restore(&s),
        Err(StreamError::MediaSetMismatch { stripe: 1, .. })
    ));
}

#[test]
fn duplicated_transfer_in_a_stripe_is_detected() {
    let f = fixture();
    let &(stripe, off, len, first_seq) = &f.transfers[3];
    let mut s = f.stripes.clone();
    let copy = s[stripe][off..off + len].to_vec();
    s[stripe].splice(off + len..off + len, copy);
    assert_eq!(
        restore(&s),
        Err(StreamError::DuplicateSequence {
            stripe: stripe as u16,
            offset: (off + len) as u64,
            seq: first_seq
        })
    );
}

#[test]
fn duplicated_record_across_stripes_is_detected() {
    let f = fixture();
    let read = |d: usize| {
        let mut r = StripeReader::new(d as u16);
        r.feed(&f.stripes[d]).unwrap();
        r.finish().unwrap()
    };
    let s0 = read(0);
    let mut s1 = read(1);
    let dup = s0.records[2].clone();
    s1.records.push(dup.clone());
    let mut a = RestoreAssembler::new();
    a.add(s0).unwrap();
    a.add(s1).unwrap();
    a.add(read(2)).unwrap();
    assert_eq!(
        a.finish(),
        Err(StreamError::DuplicateSequence {
            stripe: 1,
            offset: dup.offset,
            seq: dup.seq
        })
    );
}

#[test]
fn removed_transfer_is_detected() {
    let f = fixture();
    let &(stripe, off, len, _) = &f.transfers[4];
    let mut s = f.stripes.clone();
    s[stripe].drain(off..off + len);
    let err = restore(&s).unwrap_err();
    assert!(
        matches!(err, StreamError::TrailerMismatch { stripe: st, .. } if usize::from(st) == stripe),
        "{err:?}"
    );
}

#[test]
fn flipped_payload_bit_gives_checksum_mismatch_at_the_record() {
    let f = fixture();
    let &(stripe, off, _, first_seq) = &f.transfers[2];
    let mut s = f.stripes.clone();
    s[stripe][off + 40 + 100] ^= 0x10;
    assert_eq!(
        restore(&s),
        Err(StreamError::ChecksumMismatch {
            stripe: stripe as u16,
            offset: off as u64,
            seq: first_seq
        })
    );
}

/// A page changed and every hash over it recomputed (what a buggy producer, not damage, would
/// write): the hashes agree, and the page-by-page check against the database finds the page.
#[test]
fn a_wrong_page_with_consistent_hashes_gives_content_mismatch() {
    use vdi_server::stream::format::RecordKind;
    use xxhash_rust::xxh3::xxh3_64;
    let f = fixture();
    let &(stripe, off, _, first_seq) = f
        .transfers
        .iter()
        .find(|&&(s, off, _, _)| f.stripes[s][off + 4] == RecordKind::Pages as u8)
        .expect("a transfer that starts with a page record");
    let mut s = f.stripes.clone();
    let rec = &mut s[stripe][off..];
    let stored_len = u32::from_le_bytes(rec[16..20].try_into().unwrap()) as usize;
    // The second page entry's content (an entry is 24 bytes of header, then the page).
    let entry = 24 + 8192;
    let page = u64::from_le_bytes(rec[40 + entry..40 + entry + 8].try_into().unwrap());
    rec[40 + entry + 24 + 100] ^= 0x10;
    let payload_hash = xxh3_64(&rec[40..40 + stored_len]);
    rec[24..32].copy_from_slice(&payload_hash.to_le_bytes());
    let header_hash = xxh3_64(&rec[..32]);
    rec[32..40].copy_from_slice(&header_hash.to_le_bytes());
    assert_eq!(
        restore(&s),
        Err(StreamError::ContentMismatch {
            stripe: stripe as u16,
            offset: off as u64,
            seq: first_seq,
            page,
        })
    );
}

fn check_flip(f: &Fixture, stripe: usize, pos: usize, bit: u8) -> Result<(), TestCaseError> {
    let mut s = f.stripes.clone();
    s[stripe][pos] ^= 1 << bit;
    match restore(&s) {
        Ok(_) => Err(TestCaseError::fail(format!(
            "flip at stripe {stripe} offset {pos} accepted"
        ))),
        Err(e) => {
            prop_assert_eq!(e.stripe(), Some(stripe as u16), "{:?}", e);
            let at = e.offset().expect("located") as usize;
            prop_assert!(
                at <= pos && pos - at < 65536,
                "flip at {} reported at {}: {:?}",
                pos,
                at,
                e
            );
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_flipped_bit_is_detected_and_located(stripe in 0usize..3, frac in 0.0f64..1.0, bit in 0u8..8) {
        let f = fixture();
        let pos = ((f.stripes[stripe].len() as f64) * frac) as usize;
        check_flip(f, stripe, pos, bit)?;
    }

    #[test]
    fn any_flipped_bit_is_detected_compressed_checksummed(stripe in 0usize..2, frac in 0.0f64..1.0, bit in 0u8..8) {
        let f = fixture_cc();
        let pos = ((f.stripes[stripe].len() as f64) * frac) as usize;
        check_flip(f, stripe, pos, bit)?;
    }
}

#[test]
fn flipped_bit_in_every_region_of_the_first_blocks() {
    // Media header, its padding, the set header and the first record, byte by byte (sampled).
    let f = fixture();
    for pos in (0..3 * BLOCK).step_by(7) {
        check_flip(f, 0, pos, (pos % 8) as u8).unwrap();
    }
    // The trailer block.
    let len = f.stripes[1].len();
    for pos in (len - BLOCK..len).step_by(5) {
        check_flip(f, 1, pos, (pos % 8) as u8).unwrap();
    }
}
