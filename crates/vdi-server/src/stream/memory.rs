//! A whole backup into memory: for tests, benches and file-based backups.

use super::error::ProduceError;
use super::producer::{BackupOptions, BackupProducer};
use crate::db::BackupImage;

/// What [`backup_to_memory`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryBackupStats {
    /// Transfers written.
    pub transfers: u64,
    /// Transfers after which a Flush was due.
    pub flush_points: u64,
    /// Transfers per stripe.
    pub per_stripe: Vec<u64>,
}

/// Runs a whole backup into memory, choosing the stripe of each transfer with a seeded RNG
/// (the dynamic distribution of a real engine). For tests, benches and file-based backups.
pub fn backup_to_memory(
    image: BackupImage,
    options: BackupOptions,
    distribution_seed: u64,
) -> Result<(Vec<Vec<u8>>, MemoryBackupStats), ProduceError> {
    let devices = options.devices;
    let max_transfer = options.max_transfer as usize;
    let mut producer = BackupProducer::new(image, options)?;
    let mut rng = fastrand::Rng::with_seed(distribution_seed);
    let mut stripes: Vec<Vec<u8>> = Vec::with_capacity(usize::from(devices));
    let mut buf = vec![0u8; producer.header_len().max(max_transfer)];
    for s in 0..devices {
        let n = producer.stripe_header(s, &mut buf)?;
        stripes.push(buf[..n].to_vec());
    }
    let mut stats = MemoryBackupStats {
        per_stripe: vec![0; usize::from(devices)],
        ..MemoryBackupStats::default()
    };
    loop {
        let s = rng.u16(0..devices);
        let Some(t) = producer.fill_next(s, &mut buf)? else {
            break;
        };
        stripes[usize::from(s)].extend_from_slice(&buf[..t.len]);
        stats.transfers += 1;
        stats.flush_points += u64::from(t.flush_after);
        stats.per_stripe[usize::from(s)] += 1;
    }
    for s in 0..devices {
        let n = producer.stripe_trailer(s, &mut buf)?;
        stripes[usize::from(s)].extend_from_slice(&buf[..n]);
    }
    Ok((stripes, stats))
}
