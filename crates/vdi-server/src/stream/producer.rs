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

use xxhash_rust::xxh3::xxh3_64;

use super::error::ProduceError;
use super::format::*;
use crate::db::page::{self, FS_CHUNK, PAGE_SIZE};
use crate::db::{BackupImage, FileKind};

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

/// Where the producer stands in the logical stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    section: usize,
    item: usize,
    offset: u64,
}

/// One record to write.
#[derive(Debug, Clone, Copy)]
enum Spec {
    Begin(FileRef),
    End(FileRef),
    Pages {
        start: usize,
        n: usize,
    },
    Log {
        start: usize,
        n: usize,
    },
    Fs {
        container: u16,
        file: usize,
        offset: u64,
        len: usize,
    },
    EndOfBackup,
}

impl Spec {
    fn raw_len(&self) -> usize {
        match *self {
            Spec::Begin(_) => FILE_BEGIN_LEN,
            Spec::End(_) => FILE_END_LEN,
            Spec::Pages { n, .. } => n * PAGE_ENTRY_LEN,
            Spec::Log { n, .. } => n * LOG_ENTRY_LEN,
            Spec::Fs { len, .. } => FS_HEADER_LEN + len,
            Spec::EndOfBackup => END_LEN,
        }
    }

    fn kind(&self) -> RecordKind {
        match self {
            Spec::Begin(_) => RecordKind::FileBegin,
            Spec::End(_) => RecordKind::FileEnd,
            Spec::Pages { .. } => RecordKind::Pages,
            Spec::Log { .. } => RecordKind::Log,
            Spec::Fs { .. } => RecordKind::FsData,
            Spec::EndOfBackup => RecordKind::End,
        }
    }
}

/// Reusable buffers for writing transfers; one per writing thread.
#[derive(Debug)]
pub struct Scratch {
    compressed: Vec<u8>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            compressed: vec![0; lz4_flex::block::get_maximum_output_size(MAX_RECORD_RAW)],
        }
    }
}

/// Immutable description of one backup: the image, the options and the encoded header
/// templates. Shared by every writer.
#[derive(Debug)]
pub struct BackupSource {
    image: BackupImage,
    options: BackupOptions,
    media: MediaHeader,
    set: SetHeader,
    sections: Vec<Section>,
    record_flags: u8,
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

impl BackupSource {
    fn new(image: BackupImage, options: BackupOptions) -> Result<Self, ProduceError> {
        options.validate()?;
        let meta = &image.meta;
        let containers = u16::try_from(image.filestream.len())
            .map_err(|_| ProduceError::InvalidOptions("too many FILESTREAM containers"))?;
        let flags = (u16::from(options.compression) * FLAG_COMPRESSION)
            | (u16::from(options.checksum) * FLAG_CHECKSUM);
        let id = |salt: u64| {
            page::mix(&[
                salt,
                meta.content_key,
                meta.first_lsn,
                meta.last_lsn,
                u64::from(meta.kind.code()),
                options.seed,
                u64::from(options.devices),
            ])
        };
        let mut media_set_id = [0u8; 16];
        media_set_id[..8].copy_from_slice(&id(1).to_le_bytes());
        media_set_id[8..].copy_from_slice(&id(2).to_le_bytes());
        let media = MediaHeader {
            format_version: FORMAT_VERSION,
            block_size: options.block_size,
            max_transfer: options.max_transfer,
            media_set_id,
            family_count: options.devices,
            family_index: 0,
            flags,
        };
        let set = SetHeader {
            format_version: FORMAT_VERSION,
            kind: meta.kind,
            recovery: meta.recovery,
            device_count: options.devices,
            stripe_index: 0,
            flags,
            block_size: options.block_size,
            max_transfer: options.max_transfer,
            first_lsn: meta.first_lsn,
            last_lsn: meta.last_lsn,
            checkpoint_lsn: meta.checkpoint_lsn,
            differential_base_lsn: meta.differential_base_lsn,
            page_count: image.pages.len() as u64,
            db_pages: meta.db_pages,
            seed: meta.seed,
            content_key: meta.content_key,
            log_file_bytes: meta.log_file_bytes,
            log_record_count: image.log.len() as u64,
            filestream_bytes: image.filestream_bytes(),
            media_set_id,
            state_hash: meta.state_hash,
            database: meta.database.clone(),
            backup_name: options.backup_name.clone(),
            description: options.description.clone(),
            files: meta.files.clone(),
        };
        set.validate().map_err(ProduceError::InvalidOptions)?;
        let expected_containers = if meta.kind == crate::db::BackupKind::Full {
            set.container_count()
        } else {
            0
        };
        if image.filestream.len() != expected_containers {
            return Err(ProduceError::InvalidOptions(
                "file list does not match the FILESTREAM containers",
            ));
        }
        if set.encoded_len() > MAX_SET_HEADER_LEN
            || set.files.iter().any(|f| {
                f.logical_name.len() > usize::from(u16::MAX)
                    || f.physical_name.len() > usize::from(u16::MAX)
            })
        {
            return Err(ProduceError::InvalidOptions("backup-set header too large"));
        }
        let in_order = image.pages.windows(2).all(|w| w[0].page < w[1].page)
            && image.pages.last().is_none_or(|p| p.page < meta.db_pages)
            && image.log.windows(2).all(|w| w[0].lsn < w[1].lsn)
            && image.log.iter().all(|r| {
                r.page < meta.db_pages && r.lsn >= meta.first_lsn && r.lsn < meta.last_lsn
            });
        if !in_order {
            return Err(ProduceError::InvalidOptions("backup image is not ordered"));
        }
        let mut record_flags = 0;
        if options.checksum {
            record_flags |= RECORD_CHECKSUMS;
        }
        Ok(BackupSource {
            sections: sections(meta.kind, containers),
            image,
            options,
            media,
            set,
            record_flags,
        })
    }

    /// The options the backup was planned with.
    #[must_use]
    pub fn options(&self) -> &BackupOptions {
        &self.options
    }

    fn header_len(&self) -> usize {
        let b = self.options.block_size as usize;
        round_up(MEDIA_HEADER_LEN, b) + round_up(self.set.encoded_len(), b)
    }

    fn write_headers(&self, stripe: u16, out: &mut [u8]) {
        let b = self.options.block_size as usize;
        out.fill(0);
        let mut media = self.media.clone();
        media.family_index = stripe;
        media.encode(out);
        let mut set = self.set.clone();
        set.stripe_index = stripe;
        let at = round_up(MEDIA_HEADER_LEN, b);
        set.encode(&mut out[at..]);
    }

    /// Skips sections that have nothing (left) to emit.
    fn normalize(&self, c: &mut Cursor) {
        while let Some(s) = self.sections.get(c.section) {
            let left = match *s {
                Section::Pages => c.item < self.image.pages.len(),
                Section::Log => c.item < self.image.log.len(),
                Section::Filestream(ci) => {
                    c.item < self.image.filestream[usize::from(ci)].files.len()
                }
                _ => return,
            };
            if left {
                return;
            }
            *c = Cursor {
                section: c.section + 1,
                item: 0,
                offset: 0,
            };
        }
    }

    /// The next record if its payload fits in `avail` bytes, and the cursor after it.
    fn next_record(&self, c: &Cursor, avail: usize) -> Option<(Spec, Cursor)> {
        let section = *self.sections.get(c.section)?;
        let mut next = Cursor {
            section: c.section + 1,
            item: 0,
            offset: 0,
        };
        let spec = match section {
            Section::Begin(f) => Spec::Begin(f),
            Section::End(f) => Spec::End(f),
            Section::EndOfBackup => Spec::EndOfBackup,
            Section::Pages => {
                let left = self.image.pages.len() - c.item;
                let n = left.min(avail / PAGE_ENTRY_LEN).min(MAX_PAGES_PER_RECORD);
                if n < left {
                    next = Cursor {
                        item: c.item + n,
                        ..*c
                    };
                }
                Spec::Pages { start: c.item, n }
            }
            Section::Log => {
                let left = self.image.log.len() - c.item;
                let n = left.min(avail / LOG_ENTRY_LEN).min(MAX_LOG_PER_RECORD);
                if n < left {
                    next = Cursor {
                        item: c.item + n,
                        ..*c
                    };
                }
                Spec::Log { start: c.item, n }
            }
            Section::Filestream(ci) => {
                let files = &self.image.filestream[usize::from(ci)].files;
                let size = files[c.item].size;
                let left = size - c.offset;
                let room = avail.saturating_sub(FS_HEADER_LEN).min(MAX_FS_PER_RECORD);
                let len = if left <= room as u64 {
                    left as usize
                } else {
                    room / FS_CHUNK * FS_CHUNK
                };
                if avail < FS_HEADER_LEN || (len == 0 && left > 0) {
                    return None;
                }
                if (c.offset + len as u64) < size {
                    next = Cursor {
                        offset: c.offset + len as u64,
                        ..*c
                    };
                } else if c.item + 1 < files.len() {
                    next = Cursor {
                        item: c.item + 1,
                        offset: 0,
                        ..*c
                    };
                }
                Spec::Fs {
                    container: ci,
                    file: c.item,
                    offset: c.offset,
                    len,
                }
            }
        };
        if spec.raw_len() > avail
            || matches!(spec, Spec::Pages { n: 0, .. } | Spec::Log { n: 0, .. })
        {
            return None;
        }
        self.normalize(&mut next);
        Some((spec, next))
    }

    /// Packs records into one transfer starting at `cursor` (advanced past them), calling
    /// `emit` for each. Decisions depend only on the cursor, never on compression, so a dry
    /// run and the real write agree. Returns the record count and the flush flag.
    fn pack(&self, cursor: &mut Cursor, mut emit: impl FnMut(&Spec)) -> (u32, bool) {
        let cap = self.options.max_transfer as usize;
        let mut pos = 0usize;
        let mut records = 0u32;
        while cap - pos >= RECORD_HEADER_LEN + 8 {
            let avail = (cap - pos - RECORD_HEADER_LEN) & !7;
            let Some((spec, next)) = self.next_record(cursor, avail) else {
                break;
            };
            emit(&spec);
            records += 1;
            pos += RECORD_HEADER_LEN + round_up(spec.raw_len(), 8);
            *cursor = next;
            if let Spec::End(f) = spec
                && f.kind == FileKind::Filestream
            {
                return (records, true);
            }
        }
        (records, false)
    }

    /// Writes one record at the start of `out`; returns (bytes used, header hash).
    fn write_record(
        &self,
        spec: &Spec,
        seq: u64,
        out: &mut [u8],
        scratch: &mut Scratch,
    ) -> (usize, u64) {
        let raw_len = spec.raw_len();
        let (head, rest) = out.split_at_mut(RECORD_HEADER_LEN);
        let payload = &mut rest[..raw_len];
        self.write_payload(spec, seq, payload);
        let mut flags = self.record_flags;
        let mut stored_len = raw_len;
        let compressible = matches!(
            spec,
            Spec::Pages { .. } | Spec::Log { .. } | Spec::Fs { .. }
        );
        if self.options.compression && compressible && raw_len >= 256 {
            let c = lz4_flex::block::compress_into(payload, &mut scratch.compressed);
            if let Ok(c) = c
                && c < raw_len
            {
                rest[..c].copy_from_slice(&scratch.compressed[..c]);
                stored_len = c;
                flags |= RECORD_COMPRESSED;
            }
        }
        let padded = round_up(stored_len, 8);
        rest[stored_len..padded].fill(0);
        let header = RecordHeader {
            kind: spec.kind(),
            flags,
            seq,
            stored_len: stored_len as u32,
            raw_len: raw_len as u32,
            payload_hash: xxh3_64(&rest[..stored_len]),
            header_hash: 0,
        };
        let h = header.encode(head);
        (RECORD_HEADER_LEN + padded, h)
    }

    fn write_payload(&self, spec: &Spec, seq: u64, p: &mut [u8]) {
        let image = &self.image;
        let checksum = self.options.checksum;
        match *spec {
            Spec::Begin(f) => {
                p.fill(0);
                p[0] = f.kind.code();
                put_u16(p, 2, f.index);
                put_u64(p, 8, self.file_size(f));
            }
            Spec::End(f) => {
                p.fill(0);
                p[0] = f.kind.code();
                put_u16(p, 2, f.index);
                let (items, bytes) = self.file_totals(f);
                put_u64(p, 8, items);
                put_u64(p, 16, bytes);
            }
            Spec::EndOfBackup => {
                put_u64(p, 0, seq + 1);
                put_u64(p, 8, image.pages.len() as u64);
                put_u64(p, 16, image.log.len() as u64);
                put_u64(p, 24, image.filestream_bytes());
            }
            Spec::Pages { start, n } => {
                let key = image.meta.content_key;
                for (entry, e) in image.pages[start..start + n]
                    .iter()
                    .zip(p.chunks_exact_mut(PAGE_ENTRY_LEN))
                {
                    put_u64(e, 0, entry.page);
                    put_u64(e, 8, entry.lsn);
                    put_u32(e, 16, entry.version);
                    let bytes = &mut e[24..];
                    page::fill_page(key, entry.page, entry.version, bytes);
                    let crc = if checksum { crc32fast::hash(bytes) } else { 0 };
                    put_u32(e, 20, crc);
                }
            }
            Spec::Log { start, n } => {
                for (r, e) in image.log[start..start + n]
                    .iter()
                    .zip(p.chunks_exact_mut(LOG_ENTRY_LEN))
                {
                    put_u64(e, 0, r.lsn);
                    put_u64(e, 8, r.page);
                    put_u32(e, 16, r.version);
                    put_u32(e, 20, 0);
                }
            }
            Spec::Fs {
                container,
                file,
                offset,
                len,
            } => {
                let f = image.filestream[usize::from(container)].files[file];
                let (head, data) = p.split_at_mut(FS_HEADER_LEN);
                head.fill(0);
                put_u16(head, 0, container);
                put_u32(head, 4, file as u32);
                put_u32(head, 8, f.version);
                put_u64(head, 16, f.size);
                put_u64(head, 24, offset);
                let fkey = page::fs_file_key(image.meta.content_key, container, file as u32);
                let first_chunk = offset / FS_CHUNK as u64;
                for (i, chunk) in data[..len].chunks_mut(FS_CHUNK).enumerate() {
                    page::fill_fs_chunk(fkey, f.version, first_chunk + i as u64, chunk);
                }
                if checksum {
                    let crc = crc32fast::hash(&data[..len]);
                    put_u32(head, 12, crc);
                }
            }
        }
    }

    fn file_size(&self, f: FileRef) -> u64 {
        match f.kind {
            FileKind::Data => self.image.meta.db_pages * PAGE_SIZE as u64,
            FileKind::Log => self.image.meta.log_file_bytes,
            FileKind::Filestream => self.image.filestream[usize::from(f.index)].size_bytes(),
        }
    }

    fn file_totals(&self, f: FileRef) -> (u64, u64) {
        match f.kind {
            FileKind::Data => {
                let n = self.image.pages.len() as u64;
                (n, n * PAGE_SIZE as u64)
            }
            FileKind::Log => {
                let n = self.image.log.len() as u64;
                (n, n * LOG_ENTRY_LEN as u64)
            }
            FileKind::Filestream => {
                let c = &self.image.filestream[usize::from(f.index)];
                (c.files.len() as u64, c.size_bytes())
            }
        }
    }
}

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
    let mut producer = BackupProducer::new(image, options)?;
    let mut rng = fastrand::Rng::with_seed(distribution_seed);
    let mut stripes: Vec<Vec<u8>> = Vec::with_capacity(usize::from(devices));
    let mut buf = vec![
        0u8;
        producer
            .header_len()
            .max(producer.source.options.max_transfer as usize)
    ];
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
