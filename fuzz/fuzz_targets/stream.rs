//! The backup-stream reader and the RESTORE assembler, on arbitrary bytes and on valid backups
//! with arbitrary mutations (bit flips, byte writes, inserts, deletes, truncation, stripes
//! swapped, duplicated, dropped or spliced into each other).
//!
//! Checks: no panic; errors are sticky and name a stripe that was given and an offset inside
//! it; a mutated backup is never accepted as the original: it is refused, or the mutations
//! cancelled out and the bytes are identical (and then it restores the original image).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vdi_server::db::{BackupImage, BackupKind, Database, RecoveryModel};
use vdi_server::stream::{
    BackupOptions, RestoreAssembler, StreamError, StripeReader, backup_to_memory, read_headers,
};

struct Fixture {
    stripes: Vec<Vec<u8>>,
    image: BackupImage,
}

/// Small valid backups: a compressed, checksummed full backup over two devices, a log backup
/// on one device, and a differential over three.
fn fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let mut db = Database::new("fuzz", 5, 4 * 8192, RecoveryModel::Full, 0);
        db.run_workload(3, 1);
        let full = db.prepare_backup(BackupKind::Full).expect("full backup");
        db.commit_backup(&full.meta);
        db.run_workload(2, 2);
        let log = db.prepare_backup(BackupKind::Log).expect("log backup");
        db.commit_backup(&log.meta);
        db.run_workload(2, 3);
        let diff = db
            .prepare_backup(BackupKind::Differential)
            .expect("differential backup");
        let make = |image: BackupImage, devices: u16, compression: bool, checksum: bool| {
            let options = BackupOptions {
                block_size: 512,
                max_transfer: 65536,
                devices,
                compression,
                checksum,
                seed: 9,
                ..BackupOptions::default()
            };
            let (stripes, _) = backup_to_memory(image.clone(), options, 3).expect("backup");
            Fixture { stripes, image }
        };
        vec![
            make(full, 2, true, true),
            make(log, 1, false, false),
            make(diff, 3, false, true),
        ]
    })
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    Flip {
        stripe: u8,
        at: u32,
        bit: u8,
    },
    Set {
        stripe: u8,
        at: u32,
        byte: u8,
    },
    Insert {
        stripe: u8,
        at: u32,
        bytes: Vec<u8>,
    },
    Delete {
        stripe: u8,
        at: u32,
        len: u16,
    },
    Truncate {
        stripe: u8,
        at: u32,
    },
    Swap {
        a: u8,
        b: u8,
    },
    Duplicate {
        from: u8,
        to: u8,
    },
    Drop {
        stripe: u8,
    },
    Splice {
        from: u8,
        from_at: u32,
        to: u8,
        to_at: u32,
        len: u16,
    },
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw {
        device: u8,
        bytes: Vec<u8>,
        chunks: Vec<u16>,
    },
    Mutated {
        fixture: u8,
        mutations: Vec<Mutation>,
        chunks: Vec<u16>,
    },
}

fn pick(len: usize, i: u8) -> Option<usize> {
    (len > 0).then(|| usize::from(i) % len)
}

fn at(len: usize, at: u32) -> usize {
    if len == 0 { 0 } else { at as usize % (len + 1) }
}

fn apply(stripes: &mut Vec<Vec<u8>>, m: &Mutation) {
    let n = stripes.len();
    match *m {
        Mutation::Flip { stripe, at: a, bit } => {
            if let Some(s) = pick(n, stripe).map(|i| &mut stripes[i])
                && !s.is_empty()
            {
                let i = a as usize % s.len();
                s[i] ^= 1 << (bit % 8);
            }
        }
        Mutation::Set {
            stripe,
            at: a,
            byte,
        } => {
            if let Some(s) = pick(n, stripe).map(|i| &mut stripes[i])
                && !s.is_empty()
            {
                let i = a as usize % s.len();
                s[i] = byte;
            }
        }
        Mutation::Insert {
            stripe,
            at: a,
            ref bytes,
        } => {
            if let Some(s) = pick(n, stripe).map(|i| &mut stripes[i]) {
                let i = at(s.len(), a);
                let bytes = &bytes[..bytes.len().min(4096)];
                s.splice(i..i, bytes.iter().copied());
            }
        }
        Mutation::Delete { stripe, at: a, len } => {
            if let Some(s) = pick(n, stripe).map(|i| &mut stripes[i]) {
                let i = at(s.len(), a);
                let end = (i + usize::from(len)).min(s.len());
                s.drain(i..end);
            }
        }
        Mutation::Truncate { stripe, at: a } => {
            if let Some(s) = pick(n, stripe).map(|i| &mut stripes[i]) {
                let i = at(s.len(), a);
                s.truncate(i);
            }
        }
        Mutation::Swap { a, b } => {
            if let (Some(a), Some(b)) = (pick(n, a), pick(n, b)) {
                stripes.swap(a, b);
            }
        }
        Mutation::Duplicate { from, to } => {
            if let (Some(a), Some(b)) = (pick(n, from), pick(n, to)) {
                stripes[b] = stripes[a].clone();
            }
        }
        Mutation::Drop { stripe } => {
            if let Some(i) = pick(n, stripe) {
                stripes.remove(i);
            }
        }
        Mutation::Splice {
            from,
            from_at,
            to,
            to_at,
            len,
        } => {
            if let (Some(a), Some(b)) = (pick(n, from), pick(n, to)) {
                let src = &stripes[a];
                let i = at(src.len(), from_at);
                let piece = src[i..(i + usize::from(len)).min(src.len())].to_vec();
                let dst = &mut stripes[b];
                let j = at(dst.len(), to_at);
                let end = (j + piece.len()).min(dst.len());
                dst.splice(j..end, piece);
            }
        }
    }
}

/// Where an error points must exist: a stripe that was given, an offset inside it.
fn check_error(e: &StreamError, stripes: &[Vec<u8>]) {
    if let Some(s) = e.stripe() {
        let s = usize::from(s);
        assert!(
            s < stripes.len(),
            "{e:?} names stripe {s} of {}",
            stripes.len()
        );
        if let Some(offset) = e.offset() {
            assert!(
                offset <= stripes[s].len() as u64,
                "{e:?}: offset beyond the stripe's {} bytes",
                stripes[s].len()
            );
        }
    }
}

/// Reads every stripe in chunks and assembles them, as RESTORE does.
fn restore(stripes: &[Vec<u8>], chunks: &[u16]) -> Result<BackupImage, StreamError> {
    let mut assembler = RestoreAssembler::new();
    let mut next = 0usize;
    for (device, bytes) in stripes.iter().enumerate() {
        let mut reader = StripeReader::new(device as u16);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let size = chunks
                .get(next % chunks.len().max(1))
                .map_or(rest.len(), |&c| usize::from(c).max(1));
            next += 1;
            let (now, later) = rest.split_at(size.min(rest.len()));
            if let Err(e) = reader.feed(now) {
                assert_eq!(reader.feed(&[0]), Err(e.clone()), "errors are sticky");
                return Err(e);
            }
            rest = later;
        }
        assembler.add(reader.finish()?)?;
    }
    assembler.finish()
}

fuzz_target!(|input: Input| {
    match input {
        Input::Raw {
            device,
            bytes,
            chunks,
        } => {
            let stripes = vec![bytes];
            let device = usize::from(device % 4);
            let mut padded: Vec<Vec<u8>> = vec![Vec::new(); device];
            padded.push(stripes[0].clone());
            if let Err(e) = read_headers(&stripes[0]) {
                check_error(&e, &stripes);
            }
            // The bytes as the stripe of device `device` (the devices before it are empty).
            let mut reader = StripeReader::new(device as u16);
            let fed = reader.feed(&padded[device]);
            match fed.and_then(|()| reader.finish()) {
                Ok(parsed) => {
                    let mut a = RestoreAssembler::new();
                    if a.add(parsed).is_ok() {
                        let _ = a.finish();
                    }
                }
                Err(e) => check_error(&e, &padded),
            }
            if let Err(e) = restore(&stripes, &chunks) {
                check_error(&e, &stripes);
            }
        }
        Input::Mutated {
            fixture,
            mutations,
            chunks,
        } => {
            let all = fixtures();
            let fixture = &all[usize::from(fixture) % all.len()];
            let mut stripes = fixture.stripes.clone();
            for m in mutations.iter().take(8) {
                apply(&mut stripes, m);
            }
            for s in &stripes {
                if let Err(e) = read_headers(s) {
                    check_error(&e, std::slice::from_ref(s));
                }
            }
            match restore(&stripes, &chunks) {
                Ok(image) => {
                    assert!(
                        stripes == fixture.stripes,
                        "a mutated backup was accepted: {mutations:?}"
                    );
                    assert!(
                        image == fixture.image,
                        "the original backup restored differently"
                    );
                }
                Err(e) => check_error(&e, &stripes),
            }
        }
    }
});
