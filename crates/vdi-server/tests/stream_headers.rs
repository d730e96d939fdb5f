//! HEADERONLY / FILELISTONLY / LABELONLY decoding, snapshotted.

use vdi_server::db::{BackupKind, Database, RecoveryModel};
use vdi_server::stream::{BackupOptions, BackupProducer, StreamError, read_headers};

fn small_backup_headers(stripe: u16) -> Vec<u8> {
    let mut db = Database::new("pubs", 0x7075_6273, 256 * 1024, RecoveryModel::Full, 1);
    db.run_workload(12, 7);
    let image = db.prepare_backup(BackupKind::Full).unwrap();
    let opts = BackupOptions {
        block_size: 512,
        max_transfer: 65536,
        devices: 2,
        compression: true,
        checksum: true,
        seed: 2026,
        backup_name: "pubs-Full".into(),
        description: "snapshot of the header layout".into(),
    };
    let mut p = BackupProducer::new(image, opts).unwrap();
    let mut buf = vec![0u8; p.header_len()];
    let n = p.stripe_header(stripe, &mut buf).unwrap();
    assert_eq!(n, buf.len());
    buf
}

#[test]
fn decoded_headers_snapshot() {
    let bytes = small_backup_headers(1);
    let h = read_headers(&bytes).unwrap();
    assert_eq!(h.len(), bytes.len());
    insta::assert_json_snapshot!("small_full_backup_stripe1_headers", h);
}

#[test]
fn headers_need_all_their_bytes() {
    let bytes = small_backup_headers(0);
    let short = &bytes[..bytes.len() - 1];
    assert_eq!(
        read_headers(short),
        Err(StreamError::Truncated {
            stripe: 0,
            offset: short.len() as u64
        })
    );
    // Headers followed by arbitrary bytes are still readable (the engine reads a whole first
    // transfer).
    let mut long = bytes.clone();
    long.extend_from_slice(&[0xAB; 100]);
    assert_eq!(read_headers(&long).unwrap(), read_headers(&bytes).unwrap());
}
