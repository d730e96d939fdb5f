//! BACKUP: turns a [`BackupImage`] into per-stripe byte streams, filling the engine's transfer
//! buffers in place.
//!
//! Two levels of API:
//! - [`BackupProducer::fill_next`] does everything for one transfer (simplest; call it under the
//!   engine's lock);
//! - [`BackupProducer::reserve`] (cheap, under the lock) + [`TransferPlan::write`] (generates the
//!   bytes, no lock needed, any thread) + [`BackupProducer::complete`] (stripe statistics), so
//!   several device threads can generate data in parallel.

use std::sync::Arc;

use super::error::ProduceError;
use super::format::*;
use super::source::{BackupSource, Cursor, Scratch, Spec};
use crate::db::BackupImage;
use crate::db::page::PAGE_SIZE;

/// BACKUP ... WITH options that shape the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOptions {
    /// BLOCKSIZE: a power of two from 512 to 65536.
    pub block_size: u32,
    /// MAXTRANSFERSIZE: a multiple of 64 KiB from 64 KiB to 4 MiB.
    pub max_transfer: u32,
    /// Number of devices (stripes), 1 to 64.
    pub devices: u16,
    /// WITH COMPRESSION.
    pub compression: bool,
    /// WITH CHECKSUM.
    pub checksum: bool,
    /// Seed of the media set id (the same seed gives byte-identical stripes).
    pub seed: u64,
    /// WITH NAME (at most 128 characters).
    pub backup_name: String,
    /// WITH DESCRIPTION (at most 255 characters).
    pub description: String,
}

impl BackupOptions {
    /// Checks the options as BACKUP would before configuring the devices.
    pub fn validate(&self) -> Result<(), ProduceError> {
        check_sizes(self.block_size, self.max_transfer).map_err(ProduceError::InvalidOptions)?;
        if self.devices == 0 || self.devices > 64 {
            return Err(ProduceError::InvalidOptions("device count must be 1 to 64"));
        }
        if self.backup_name.chars().count() > MAX_NAME_CHARS
            || self.description.chars().count() > MAX_DESCRIPTION_CHARS
        {
            return Err(ProduceError::InvalidOptions(
                "backup name or description too long",
            ));
        }
        Ok(())
    }
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions {
            block_size: 65536,
            max_transfer: 1024 * 1024,
            devices: 1,
            compression: false,
            checksum: false,
            seed: 0,
            backup_name: String::new(),
            description: String::new(),
        }
    }
}

/// One transfer handed out by [`BackupProducer::reserve`]: which records go into it.
#[derive(Debug, Clone)]
#[must_use]
pub struct TransferPlan {
    stripe: u16,
    start: Cursor,
    first_seq: u64,
    records: u32,
    flush_after: bool,
}

impl TransferPlan {
    /// The stripe (device) the transfer is for.
    #[must_use]
    pub fn stripe(&self) -> u16 {
        self.stripe
    }

    /// The engine should send a Flush after writing this transfer (end of a FILESTREAM
    /// container).
    #[must_use]
    pub fn flush_after(&self) -> bool {
        self.flush_after
    }

    /// Generates the transfer into `buf` (at least MAXTRANSFERSIZE bytes long). Hand the result
    /// to [`BackupProducer::complete`].
    pub fn write(
        &self,
        source: &BackupSource,
        scratch: &mut Scratch,
        buf: &mut [u8],
    ) -> Result<Transfer, ProduceError> {
        let cap = source.options.max_transfer as usize;
        if buf.len() < cap {
            return Err(ProduceError::BufferTooSmall {
                len: buf.len(),
                need: cap,
            });
        }
        let buf = &mut buf[..cap];
        let mut cursor = self.start;
        let mut pos = 0usize;
        let mut seq = self.first_seq;
        let mut hash_sum = 0u64;
        let (records, _) = source.pack(&mut cursor, |spec| {
            let (used, h) = source.write_record(spec, seq, &mut buf[pos..], scratch);
            pos += used;
            seq += 1;
            hash_sum = hash_sum.wrapping_add(h);
        });
        debug_assert_eq!(records, self.records);
        let len = round_up(pos, source.options.block_size as usize);
        buf[pos..len].fill(0);
        Ok(Transfer {
            stripe: self.stripe,
            len,
            records,
            first_seq: self.first_seq,
            flush_after: self.flush_after,
            records_hash: hash_sum,
        })
    }
}

/// The result of one transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Transfer {
    /// The stripe (device) it belongs to.
    pub stripe: u16,
    /// Bytes to write: a multiple of the block size, at most MAXTRANSFERSIZE.
    pub len: usize,
    /// Records in the transfer.
    pub records: u32,
    /// Sequence number of its first record.
    pub first_seq: u64,
    /// Send a Flush after this transfer (a FILESTREAM container just ended).
    pub flush_after: bool,
    records_hash: u64,
}

#[derive(Debug, Clone, Default)]
struct StripeState {
    header_written: bool,
    trailer_written: bool,
    outstanding: u32,
    records: u64,
    data_bytes: u64,
    records_hash: u64,
}

/// Produces the stripes of one backup. See the module documentation.
#[derive(Debug)]
pub struct BackupProducer {
    source: Arc<BackupSource>,
    cursor: Cursor,
    next_seq: u64,
    stripes: Vec<StripeState>,
    scratch: Scratch,
    progress: BackupProgress,
}

/// How much of the backup has been handed out (for "Processed N pages" and "percent processed"
/// messages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackupProgress {
    /// Pages reserved so far.
    pub pages_done: u64,
    /// Pages in the backup.
    pub pages_total: u64,
    /// Log records reserved so far.
    pub log_records_done: u64,
    /// Log records in the backup.
    pub log_records_total: u64,
    /// FILESTREAM bytes reserved so far.
    pub fs_bytes_done: u64,
    /// FILESTREAM bytes in the backup.
    pub fs_bytes_total: u64,
}

impl BackupProgress {
    /// Percentage of the content handed out, 0 to 100 (by bytes).
    #[must_use]
    pub fn percent(&self) -> u32 {
        let page = PAGE_SIZE as u64;
        let log = LOG_ENTRY_LEN as u64;
        let done = self.pages_done * page + self.log_records_done * log + self.fs_bytes_done;
        let total = self.pages_total * page + self.log_records_total * log + self.fs_bytes_total;
        done.saturating_mul(100)
            .checked_div(total)
            .map_or(100, |p| p.min(100) as u32)
    }
}

impl BackupProducer {
    /// Plans a backup of `image` (from [`crate::db::Database::prepare_backup`]).
    pub fn new(image: BackupImage, options: BackupOptions) -> Result<Self, ProduceError> {
        let source = BackupSource::new(image, options)?;
        let devices = usize::from(source.options.devices);
        let progress = BackupProgress {
            pages_total: source.image.pages.len() as u64,
            log_records_total: source.image.log.len() as u64,
            fs_bytes_total: source.image.filestream_bytes(),
            ..BackupProgress::default()
        };
        let mut p = BackupProducer {
            source: Arc::new(source),
            cursor: Cursor::default(),
            next_seq: 0,
            stripes: vec![StripeState::default(); devices],
            scratch: Scratch::default(),
            progress,
        };
        p.source.normalize(&mut p.cursor);
        Ok(p)
    }

    /// The shared description, for [`TransferPlan::write`] on other threads.
    #[must_use]
    pub fn source(&self) -> Arc<BackupSource> {
        Arc::clone(&self.source)
    }

    /// Bytes of [`BackupProducer::stripe_header`] (media header and backup-set header, each
    /// padded to the block size).
    #[must_use]
    pub fn header_len(&self) -> usize {
        self.source.header_len()
    }

    /// Bytes of [`BackupProducer::stripe_trailer`] (one block).
    #[must_use]
    pub fn trailer_len(&self) -> usize {
        self.source.options.block_size as usize
    }

    /// True once every record has been handed out.
    #[must_use]
    pub fn is_exhausted(&self) -> bool {
        self.cursor.section >= self.source.sections.len()
    }

    /// What has been handed out so far.
    #[must_use]
    pub fn progress(&self) -> BackupProgress {
        self.progress
    }

    /// Records handed out so far.
    #[must_use]
    pub fn records_reserved(&self) -> u64 {
        self.next_seq
    }

    fn stripe_mut(&mut self, stripe: u16) -> Result<&mut StripeState, ProduceError> {
        let devices = self.source.options.devices;
        self.stripes
            .get_mut(usize::from(stripe))
            .ok_or(ProduceError::NoSuchStripe { stripe, devices })
    }

    /// Writes the headers of `stripe` into `buf`; returns their length (a multiple of the block
    /// size). Must be the first thing written to the stripe.
    pub fn stripe_header(&mut self, stripe: u16, buf: &mut [u8]) -> Result<usize, ProduceError> {
        let st = self.stripe_mut(stripe)?;
        if st.header_written {
            return Err(ProduceError::OutOfOrder {
                stripe,
                reason: "header already written",
            });
        }
        let len = self.source.header_len();
        if buf.len() < len {
            return Err(ProduceError::BufferTooSmall {
                len: buf.len(),
                need: len,
            });
        }
        self.stripe_mut(stripe)?.header_written = true;
        self.source.write_headers(stripe, &mut buf[..len]);
        Ok(len)
    }

    /// Decides the records of the next transfer for `stripe` without generating them. `None`
    /// once the backup is exhausted.
    pub fn reserve(&mut self, stripe: u16) -> Result<Option<TransferPlan>, ProduceError> {
        let st = self.stripe_mut(stripe)?;
        if !st.header_written || st.trailer_written {
            return Err(ProduceError::OutOfOrder {
                stripe,
                reason: "data must come after the header and before the trailer",
            });
        }
        if self.is_exhausted() {
            return Ok(None);
        }
        let start = self.cursor;
        let progress = &mut self.progress;
        let (records, flush_after) = self.source.pack(&mut self.cursor, |spec| match *spec {
            Spec::Pages { n, .. } => progress.pages_done += n as u64,
            Spec::Log { n, .. } => progress.log_records_done += n as u64,
            Spec::Fs { len, .. } => progress.fs_bytes_done += len as u64,
            _ => {}
        });
        if records == 0 {
            // Unreachable with valid options: every record fits in 64 KiB.
            return Err(ProduceError::InvalidOptions(
                "a record does not fit in MAXTRANSFERSIZE",
            ));
        }
        let plan = TransferPlan {
            stripe,
            start,
            first_seq: self.next_seq,
            records,
            flush_after,
        };
        self.next_seq += u64::from(records);
        self.stripe_mut(stripe)?.outstanding += 1;
        Ok(Some(plan))
    }

    /// Accounts a written transfer to its stripe's trailer statistics.
    pub fn complete(&mut self, transfer: &Transfer) -> Result<(), ProduceError> {
        let stripe = transfer.stripe;
        let st = self.stripe_mut(stripe)?;
        if st.outstanding == 0 {
            return Err(ProduceError::OutOfOrder {
                stripe,
                reason: "no transfer outstanding",
            });
        }
        st.outstanding -= 1;
        st.records += u64::from(transfer.records);
        st.data_bytes += transfer.len as u64;
        st.records_hash = st.records_hash.wrapping_add(transfer.records_hash);
        Ok(())
    }

    /// Fills `buf` (at least MAXTRANSFERSIZE bytes) with the next transfer for `stripe`:
    /// reserve, write and complete in one call. `None` once the backup is exhausted; then write
    /// the stripe's trailer.
    pub fn fill_next(
        &mut self,
        stripe: u16,
        buf: &mut [u8],
    ) -> Result<Option<Transfer>, ProduceError> {
        let need = self.source.options.max_transfer as usize;
        if buf.len() < need {
            return Err(ProduceError::BufferTooSmall {
                len: buf.len(),
                need,
            });
        }
        let Some(plan) = self.reserve(stripe)? else {
            return Ok(None);
        };
        let source = Arc::clone(&self.source);
        let t = plan.write(&source, &mut self.scratch, buf)?;
        self.complete(&t)?;
        Ok(Some(t))
    }

    /// Writes the trailer of `stripe` (one block) once the backup is exhausted and the stripe
    /// has no transfer outstanding; returns its length.
    pub fn stripe_trailer(&mut self, stripe: u16, buf: &mut [u8]) -> Result<usize, ProduceError> {
        let exhausted = self.is_exhausted();
        let b = self.source.options.block_size as usize;
        let st = self.stripe_mut(stripe)?;
        let reason = if !st.header_written {
            Some("trailer before header")
        } else if st.trailer_written {
            Some("trailer already written")
        } else if !exhausted {
            Some("trailer before the backup is exhausted")
        } else if st.outstanding > 0 {
            Some("trailer while transfers are outstanding")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(ProduceError::OutOfOrder { stripe, reason });
        }
        if buf.len() < b {
            return Err(ProduceError::BufferTooSmall {
                len: buf.len(),
                need: b,
            });
        }
        st.trailer_written = true;
        let t = Trailer {
            stripe_index: stripe,
            record_count: st.records,
            data_bytes: st.data_bytes,
            records_hash: st.records_hash,
        };
        buf[..b].fill(0);
        t.encode(buf);
        Ok(b)
    }
}
