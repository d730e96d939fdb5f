//! The immutable side of a backup: what each record holds and how records are packed into
//! transfers and written. Shared by every writer thread.

use xxhash_rust::xxh3::{Xxh3Default, xxh3_64};

use super::error::ProduceError;
use super::format::*;
use super::producer::BackupOptions;
use crate::db::page::{self, FS_CHUNK, PAGE_SIZE};
use crate::db::{BackupImage, FileKind};

/// Where the producer stands in the logical stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub(super) section: usize,
    item: usize,
    offset: u64,
}

/// One record to write.
#[derive(Debug, Clone, Copy)]
pub(super) enum Spec {
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
    pub(super) image: BackupImage,
    pub(super) options: BackupOptions,
    media: MediaHeader,
    set: SetHeader,
    pub(super) sections: Vec<Section>,
    record_flags: u8,
}

impl BackupSource {
    pub(super) fn new(image: BackupImage, options: BackupOptions) -> Result<Self, ProduceError> {
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
            info: meta.info.clone(),
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

    pub(super) fn header_len(&self) -> usize {
        let b = self.options.block_size as usize;
        round_up(MEDIA_HEADER_LEN, b) + round_up(self.set.encoded_len(), b)
    }

    pub(super) fn write_headers(&self, stripe: u16, out: &mut [u8]) {
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
    pub(super) fn normalize(&self, c: &mut Cursor) {
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
    pub(super) fn pack(&self, cursor: &mut Cursor, mut emit: impl FnMut(&Spec)) -> (u32, bool) {
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
    pub(super) fn write_record(
        &self,
        spec: &Spec,
        seq: u64,
        out: &mut [u8],
        scratch: &mut Scratch,
    ) -> (usize, u64) {
        let raw_len = spec.raw_len();
        let (head, rest) = out.split_at_mut(RECORD_HEADER_LEN);
        let payload = &mut rest[..raw_len];
        let mut flags = self.record_flags;
        let mut stored_len = raw_len;
        let compressible = matches!(
            spec,
            Spec::Pages { .. } | Spec::Log { .. } | Spec::Fs { .. }
        );
        let compress = self.options.compression && compressible && raw_len >= 256;
        // Stored uncompressed, the payload can be hashed as it is generated (page by page,
        // while each page is still in L1) instead of in a second pass over the whole MiB.
        let mut inline_hash = (!compress).then(Xxh3Default::new);
        self.write_payload(spec, seq, payload, inline_hash.as_mut());
        if compress {
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
            payload_hash: match (&inline_hash, flags & RECORD_COMPRESSED) {
                (Some(h), 0) => {
                    debug_assert_eq!(h.digest(), xxh3_64(&rest[..stored_len]));
                    h.digest()
                }
                _ => xxh3_64(&rest[..stored_len]),
            },
            header_hash: 0,
        };
        let h = header.encode(head);
        (RECORD_HEADER_LEN + padded, h)
    }

    /// Generates the payload of `spec` into `p`; `hash`, when given, is fed every byte of `p`
    /// in order (its digest is then `xxh3_64(p)`).
    fn write_payload(&self, spec: &Spec, seq: u64, p: &mut [u8], hash: Option<&mut Xxh3Default>) {
        let Some(hash) = hash else {
            return self.generate_payload(spec, seq, p, None);
        };
        if matches!(spec, Spec::Pages { .. }) {
            self.generate_payload(spec, seq, p, Some(hash));
        } else {
            self.generate_payload(spec, seq, p, None);
            hash.update(p);
        }
    }

    /// The payload bytes; the page arm feeds `hash` page entry by page entry.
    fn generate_payload(
        &self,
        spec: &Spec,
        seq: u64,
        p: &mut [u8],
        mut hash: Option<&mut Xxh3Default>,
    ) {
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
                    if let Some(h) = hash.as_deref_mut() {
                        h.update(e);
                    }
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
                    put_u64(e, 24, u64::try_from(r.time.total_ticks()).unwrap_or(0));
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
