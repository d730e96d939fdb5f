//! Byte layouts of the backup stream (documented in docs/stream-format.md). All integers are
//! little-endian.

use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use crate::db::{BackupInfo, BackupKind, FileInfo, FileKind, RecoveryModel, page::PAGE_SIZE};

/// Format version written and accepted (2: log entries carry their time, and the set header
/// ends with the SQL-visible description of the backup).
pub const FORMAT_VERSION: u16 = 2;

/// Media header magic.
pub const MEDIA_MAGIC: [u8; 8] = *b"VDSMEDIA";
/// Backup-set header magic.
pub const SET_MAGIC: [u8; 8] = *b"VDSBKSET";
/// Trailer magic.
pub const TRAILER_MAGIC: [u8; 8] = *b"VDSTRAIL";
/// The end marker inside the trailer.
pub const END_MARKER: [u8; 8] = *b"VDSEND\r\n";
/// Record magic.
pub const RECORD_MAGIC: [u8; 4] = *b"VREC";

/// Media header length (before padding to the block size).
pub const MEDIA_HEADER_LEN: usize = 64;
/// Fixed part of the backup-set header.
pub const SET_FIXED_LEN: usize = 160;
/// Upper bound of a backup-set header (before padding).
pub const MAX_SET_HEADER_LEN: usize = 64 * 1024;
/// Trailer length (before padding to the block size).
pub const TRAILER_LEN: usize = 64;
/// Record header length.
pub const RECORD_HEADER_LEN: usize = 40;
/// One page entry in a page-run record: 24-byte entry header plus the page.
pub const PAGE_ENTRY_LEN: usize = 24 + PAGE_SIZE;
/// One log record entry.
pub const LOG_ENTRY_LEN: usize = 32;
/// Header of a FILESTREAM data record.
pub const FS_HEADER_LEN: usize = 32;
/// Most pages in one record.
pub const MAX_PAGES_PER_RECORD: usize = 32;
/// Most log entries in one record.
pub const MAX_LOG_PER_RECORD: usize = 8192;
/// Most FILESTREAM bytes in one record.
pub const MAX_FS_PER_RECORD: usize = 256 * 1024;
/// Largest uncompressed payload of any record.
pub const MAX_RECORD_RAW: usize = MAX_PAGES_PER_RECORD * PAGE_ENTRY_LEN;
/// Most characters in a database or backup name.
pub const MAX_NAME_CHARS: usize = 128;
/// Most characters in a backup description.
pub const MAX_DESCRIPTION_CHARS: usize = 255;

/// Media/set flag: records may be LZ4-compressed.
pub const FLAG_COMPRESSION: u16 = 1;
/// Media/set flag: pages carry CRC32 checksums.
pub const FLAG_CHECKSUM: u16 = 2;
/// Record flag: the payload is LZ4-block compressed.
pub const RECORD_COMPRESSED: u8 = 1;
/// Record flag: page entries / FILESTREAM data carry CRC32 checksums.
pub const RECORD_CHECKSUMS: u8 = 2;

/// Record kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RecordKind {
    /// Start of a file (data, log, container).
    FileBegin = 1,
    /// End of a file, with item and byte counts.
    FileEnd = 2,
    /// A run of pages.
    Pages = 3,
    /// Log records.
    Log = 4,
    /// A piece of one FILESTREAM file.
    FsData = 5,
    /// The last record of the backup, with totals.
    End = 6,
}

impl RecordKind {
    /// Decodes a kind byte.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => RecordKind::FileBegin,
            2 => RecordKind::FileEnd,
            3 => RecordKind::Pages,
            4 => RecordKind::Log,
            5 => RecordKind::FsData,
            6 => RecordKind::End,
            _ => return None,
        })
    }
}

pub(crate) fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}
pub(crate) fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

fn hex16<S: serde::Serializer>(v: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
    let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
    s.serialize_str(&hex)
}

/// Rounds `n` up to a multiple of `to` (a power of two).
#[must_use]
pub fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

/// The media header (LABELONLY).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaHeader {
    /// Format version.
    pub format_version: u16,
    /// Block size of the media set.
    pub block_size: u32,
    /// MAXTRANSFERSIZE used when writing.
    pub max_transfer: u32,
    /// Identifies the media set; equal on every family.
    #[serde(serialize_with = "hex16")]
    pub media_set_id: [u8; 16],
    /// Number of families (devices) in the media set.
    pub family_count: u16,
    /// This stripe's family index, from 0.
    pub family_index: u16,
    /// `FLAG_COMPRESSION | FLAG_CHECKSUM`.
    pub flags: u16,
}

impl MediaHeader {
    /// Writes the 64-byte header into `out[..64]`.
    pub fn encode(&self, out: &mut [u8]) {
        let b = &mut out[..MEDIA_HEADER_LEN];
        b.fill(0);
        b[0..8].copy_from_slice(&MEDIA_MAGIC);
        put_u16(b, 8, self.format_version);
        put_u16(b, 10, MEDIA_HEADER_LEN as u16);
        put_u32(b, 12, self.block_size);
        b[16..32].copy_from_slice(&self.media_set_id);
        put_u16(b, 32, self.family_count);
        put_u16(b, 34, self.family_index);
        put_u16(b, 36, self.flags);
        put_u32(b, 40, self.max_transfer);
        let h = xxh3_64(&b[..56]);
        put_u64(b, 56, h);
    }

    /// Decodes and validates 64 bytes; errors are (kind, reason) for the caller to locate.
    pub(crate) fn decode(b: &[u8]) -> Result<Self, HeaderFault> {
        if b[0..8] != MEDIA_MAGIC {
            return Err(HeaderFault::Magic);
        }
        if xxh3_64(&b[..56]) != get_u64(b, 56) {
            return Err(HeaderFault::Checksum);
        }
        let format_version = get_u16(b, 8);
        if format_version != FORMAT_VERSION {
            return Err(HeaderFault::Version(format_version));
        }
        let h = MediaHeader {
            format_version,
            block_size: get_u32(b, 12),
            max_transfer: get_u32(b, 40),
            media_set_id: b[16..32].try_into().unwrap_or([0; 16]),
            family_count: get_u16(b, 32),
            family_index: get_u16(b, 34),
            flags: get_u16(b, 36),
        };
        if get_u16(b, 10) as usize != MEDIA_HEADER_LEN
            || b[38..40] != [0; 2]
            || b[44..56] != [0; 12]
        {
            return Err(HeaderFault::Field("reserved fields not zero"));
        }
        check_sizes(h.block_size, h.max_transfer).map_err(HeaderFault::Field)?;
        if h.family_count == 0 || h.family_count > 64 || h.family_index >= h.family_count {
            return Err(HeaderFault::Field("family count or index out of range"));
        }
        if h.flags & !(FLAG_COMPRESSION | FLAG_CHECKSUM) != 0 {
            return Err(HeaderFault::Field("unknown flags"));
        }
        Ok(h)
    }
}

/// Checks BLOCKSIZE and MAXTRANSFERSIZE.
pub(crate) fn check_sizes(block_size: u32, max_transfer: u32) -> Result<(), &'static str> {
    if !block_size.is_power_of_two() || !(512..=65536).contains(&block_size) {
        return Err("block size must be a power of two from 512 to 65536");
    }
    if !max_transfer.is_multiple_of(65536) || !(65536..=4 * 1024 * 1024).contains(&max_transfer) {
        return Err("max transfer size must be a multiple of 64 KiB from 64 KiB to 4 MiB");
    }
    Ok(())
}

/// Why a header did not decode (located by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderFault {
    Magic,
    Checksum,
    Version(u16),
    Field(&'static str),
}

/// The backup-set header (HEADERONLY, FILELISTONLY).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetHeader {
    /// Format version.
    pub format_version: u16,
    /// Full, differential or log.
    pub kind: BackupKind,
    /// Recovery model at backup time.
    pub recovery: RecoveryModel,
    /// Number of devices (= family count).
    pub device_count: u16,
    /// This stripe's index.
    pub stripe_index: u16,
    /// `FLAG_COMPRESSION | FLAG_CHECKSUM`.
    pub flags: u16,
    /// BLOCKSIZE.
    pub block_size: u32,
    /// MAXTRANSFERSIZE.
    pub max_transfer: u32,
    /// First LSN (inclusive).
    pub first_lsn: u64,
    /// Last LSN (exclusive).
    pub last_lsn: u64,
    /// Checkpoint LSN.
    pub checkpoint_lsn: u64,
    /// Differential base LSN.
    pub differential_base_lsn: u64,
    /// Pages in this backup.
    pub page_count: u64,
    /// Pages in the data file.
    pub db_pages: u64,
    /// The database's seed.
    pub seed: u64,
    /// The database's content key.
    pub content_key: u64,
    /// Log file size in bytes.
    pub log_file_bytes: u64,
    /// Log records in this backup.
    pub log_record_count: u64,
    /// FILESTREAM bytes in this backup.
    pub filestream_bytes: u64,
    /// Equal to the media header's.
    #[serde(serialize_with = "hex16")]
    pub media_set_id: [u8; 16],
    /// The database's state hash after restoring this backup (see
    /// `Database::state_hash`).
    pub state_hash: u64,
    /// Database name.
    pub database: String,
    /// BACKUP ... WITH NAME.
    pub backup_name: String,
    /// BACKUP ... WITH DESCRIPTION.
    pub description: String,
    /// The database's files.
    pub files: Vec<FileInfo>,
    /// What HEADERONLY shows beyond the content's description (JSON in the header).
    pub info: BackupInfo,
}

impl SetHeader {
    /// The extension block: the JSON of `info`.
    fn extension(&self) -> Vec<u8> {
        serde_json::to_vec(&self.info).unwrap_or_else(|_| b"{}".to_vec())
    }

    /// Encoded length before padding to the block size.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        self.encoded_len_with(self.extension().len())
    }

    fn encoded_len_with(&self, extension: usize) -> usize {
        let strings = self.database.len() + self.backup_name.len() + self.description.len();
        let files: usize = self
            .files
            .iter()
            .map(|f| 16 + f.logical_name.len() + f.physical_name.len())
            .sum();
        round_up(SET_FIXED_LEN + strings + files + 4 + extension, 8) + 8
    }

    /// Number of FILESTREAM containers in the file list.
    #[must_use]
    pub fn container_count(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.kind == FileKind::Filestream)
            .count()
    }

    /// Writes the header into `out[..encoded_len()]`.
    pub fn encode(&self, out: &mut [u8]) {
        let extension = self.extension();
        let len = self.encoded_len_with(extension.len());
        let b = &mut out[..len];
        b.fill(0);
        b[0..8].copy_from_slice(&SET_MAGIC);
        put_u16(b, 8, self.format_version);
        put_u32(b, 12, len as u32);
        b[16] = self.kind.code();
        b[17] = self.recovery.code();
        put_u16(b, 18, self.device_count);
        put_u16(b, 20, self.stripe_index);
        put_u16(b, 22, self.flags);
        put_u32(b, 24, self.block_size);
        put_u32(b, 28, self.max_transfer);
        for (i, v) in [
            self.first_lsn,
            self.last_lsn,
            self.checkpoint_lsn,
            self.differential_base_lsn,
            self.page_count,
            self.db_pages,
            self.seed,
            self.content_key,
            self.log_file_bytes,
            self.log_record_count,
            self.filestream_bytes,
        ]
        .into_iter()
        .enumerate()
        {
            put_u64(b, 32 + 8 * i, v);
        }
        b[120..136].copy_from_slice(&self.media_set_id);
        put_u16(b, 136, self.database.len() as u16);
        put_u16(b, 138, self.backup_name.len() as u16);
        put_u16(b, 140, self.description.len() as u16);
        put_u16(b, 142, self.files.len() as u16);
        put_u64(b, 144, self.state_hash);
        let mut at = SET_FIXED_LEN;
        for s in [&self.database, &self.backup_name, &self.description] {
            b[at..at + s.len()].copy_from_slice(s.as_bytes());
            at += s.len();
        }
        for f in &self.files {
            b[at] = f.kind.code();
            put_u16(b, at + 2, f.index);
            put_u16(b, at + 4, f.logical_name.len() as u16);
            put_u16(b, at + 6, f.physical_name.len() as u16);
            put_u64(b, at + 8, f.size_bytes);
            at += 16;
            for s in [&f.logical_name, &f.physical_name] {
                b[at..at + s.len()].copy_from_slice(s.as_bytes());
                at += s.len();
            }
        }
        put_u32(b, at, extension.len() as u32);
        at += 4;
        b[at..at + extension.len()].copy_from_slice(&extension);
        let h = xxh3_64(&b[..len - 8]);
        put_u64(b, len - 8, h);
    }

    /// Reads the total header length from the first 16 bytes (after checking magic and
    /// version), so the reader knows how much to collect.
    pub(crate) fn peek_len(b: &[u8]) -> Result<usize, HeaderFault> {
        if b[0..8] != SET_MAGIC {
            return Err(HeaderFault::Magic);
        }
        let v = get_u16(b, 8);
        if v != FORMAT_VERSION {
            return Err(HeaderFault::Version(v));
        }
        let len = get_u32(b, 12) as usize;
        if !(SET_FIXED_LEN + 8..=MAX_SET_HEADER_LEN).contains(&len) || !len.is_multiple_of(8) {
            return Err(HeaderFault::Field("header length out of range"));
        }
        Ok(len)
    }

    /// Decodes a whole header of `peek_len` bytes.
    pub(crate) fn decode(b: &[u8]) -> Result<Self, HeaderFault> {
        let len = Self::peek_len(b)?;
        if b.len() < len {
            return Err(HeaderFault::Field("header length out of range"));
        }
        let b = &b[..len];
        if xxh3_64(&b[..len - 8]) != get_u64(b, len - 8) {
            return Err(HeaderFault::Checksum);
        }
        let field = HeaderFault::Field;
        let kind = BackupKind::from_code(b[16]).ok_or(field("unknown backup kind"))?;
        let recovery = RecoveryModel::from_code(b[17]).ok_or(field("unknown recovery model"))?;
        if get_u16(b, 10) != 0 || b[152..160] != [0; 8] {
            return Err(field("reserved fields not zero"));
        }
        let mut at = SET_FIXED_LEN;
        let mut take = |n: usize| -> Result<String, HeaderFault> {
            if at + n > len - 8 {
                return Err(field("strings overrun the header"));
            }
            let s = std::str::from_utf8(&b[at..at + n])
                .map_err(|_| field("string is not UTF-8"))?
                .to_owned();
            at += n;
            Ok(s)
        };
        let database = take(get_u16(b, 136) as usize)?;
        let backup_name = take(get_u16(b, 138) as usize)?;
        let description = take(get_u16(b, 140) as usize)?;
        let file_count = get_u16(b, 142) as usize;
        let mut files = Vec::new();
        for _ in 0..file_count {
            if at + 16 > len - 8 {
                return Err(field("file list overruns the header"));
            }
            let kind = FileKind::from_code(b[at]).ok_or(field("unknown file kind"))?;
            if b[at + 1] != 0 {
                return Err(field("reserved fields not zero"));
            }
            let index = get_u16(b, at + 2);
            let (ln, pn) = (get_u16(b, at + 4) as usize, get_u16(b, at + 6) as usize);
            let size_bytes = get_u64(b, at + 8);
            at += 16;
            let mut take = |n: usize| -> Result<String, HeaderFault> {
                if at + n > len - 8 {
                    return Err(field("file list overruns the header"));
                }
                let s = std::str::from_utf8(&b[at..at + n])
                    .map_err(|_| field("string is not UTF-8"))?
                    .to_owned();
                at += n;
                Ok(s)
            };
            let logical_name = take(ln)?;
            let physical_name = take(pn)?;
            files.push(FileInfo {
                kind,
                index,
                logical_name,
                physical_name,
                size_bytes,
            });
        }
        if at + 4 > len - 8 {
            return Err(field("extension overruns the header"));
        }
        let extension_len = get_u32(b, at) as usize;
        at += 4;
        if at + extension_len > len - 8 {
            return Err(field("extension overruns the header"));
        }
        let info: BackupInfo = serde_json::from_slice(&b[at..at + extension_len])
            .map_err(|_| field("extension is not valid"))?;
        at += extension_len;
        if round_up(at, 8) + 8 != len || b[at..len - 8].iter().any(|&x| x != 0) {
            return Err(field("header length does not match its content"));
        }
        let u = |i: usize| get_u64(b, 32 + 8 * i);
        let h = SetHeader {
            format_version: get_u16(b, 8),
            kind,
            recovery,
            device_count: get_u16(b, 18),
            stripe_index: get_u16(b, 20),
            flags: get_u16(b, 22),
            block_size: get_u32(b, 24),
            max_transfer: get_u32(b, 28),
            first_lsn: u(0),
            last_lsn: u(1),
            checkpoint_lsn: u(2),
            differential_base_lsn: u(3),
            page_count: u(4),
            db_pages: u(5),
            seed: u(6),
            content_key: u(7),
            log_file_bytes: u(8),
            log_record_count: u(9),
            filestream_bytes: u(10),
            media_set_id: b[120..136].try_into().unwrap_or([0; 16]),
            state_hash: get_u64(b, 144),
            database,
            backup_name,
            description,
            files,
            info,
        };
        h.validate().map_err(field)?;
        Ok(h)
    }

    /// Checks internal consistency (shared by producer and reader).
    pub(crate) fn validate(&self) -> Result<(), &'static str> {
        check_sizes(self.block_size, self.max_transfer)?;
        if self.device_count == 0
            || self.device_count > 64
            || self.stripe_index >= self.device_count
        {
            return Err("device count or stripe index out of range");
        }
        if self.flags & !(FLAG_COMPRESSION | FLAG_CHECKSUM) != 0 {
            return Err("unknown flags");
        }
        if self.first_lsn > self.last_lsn {
            return Err("first LSN after last LSN");
        }
        if self.page_count > self.db_pages || self.db_pages > u64::from(u32::MAX) {
            return Err("page counts out of range");
        }
        if self.database.is_empty()
            || self.database.chars().count() > MAX_NAME_CHARS
            || self.backup_name.chars().count() > MAX_NAME_CHARS
            || self.description.chars().count() > MAX_DESCRIPTION_CHARS
        {
            return Err("name or description too long");
        }
        let kinds: Vec<FileKind> = self.files.iter().map(|f| f.kind).collect();
        if kinds.len() < 2 || kinds[0] != FileKind::Data || kinds[1] != FileKind::Log {
            return Err("file list must start with the data and log files");
        }
        for (i, f) in self.files.iter().enumerate().skip(2) {
            if f.kind != FileKind::Filestream || usize::from(f.index) != i - 2 {
                return Err("FILESTREAM containers must follow in order");
            }
        }
        if self.files[0].size_bytes != self.db_pages * PAGE_SIZE as u64 {
            return Err("data file size does not match the page count");
        }
        Ok(())
    }
}

/// Both headers at the start of a stripe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StripeHeaders {
    /// The media header.
    pub media: MediaHeader,
    /// The backup-set header.
    pub set: SetHeader,
}

impl StripeHeaders {
    /// Bytes the headers take on the media, padding included.
    #[must_use]
    pub fn len(&self) -> usize {
        let b = self.media.block_size as usize;
        round_up(MEDIA_HEADER_LEN, b) + round_up(self.set.encoded_len(), b)
    }

    /// Never empty; present for API symmetry with `len`.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A decoded record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Kind of record.
    pub kind: RecordKind,
    /// `RECORD_COMPRESSED | RECORD_CHECKSUMS`.
    pub flags: u8,
    /// Global sequence number.
    pub seq: u64,
    /// Payload bytes as stored.
    pub stored_len: u32,
    /// Payload bytes after decompression.
    pub raw_len: u32,
    /// xxh3-64 of the stored payload.
    pub payload_hash: u64,
    /// xxh3-64 of header bytes 0..32.
    pub header_hash: u64,
}

impl RecordHeader {
    /// Writes the header into `out[..40]`, computing its own hash; returns that hash.
    pub fn encode(&self, out: &mut [u8]) -> u64 {
        let b = &mut out[..RECORD_HEADER_LEN];
        b[0..4].copy_from_slice(&RECORD_MAGIC);
        b[4] = self.kind as u8;
        b[5] = self.flags;
        put_u16(b, 6, 0);
        put_u64(b, 8, self.seq);
        put_u32(b, 16, self.stored_len);
        put_u32(b, 20, self.raw_len);
        put_u64(b, 24, self.payload_hash);
        let h = xxh3_64(&b[..32]);
        put_u64(b, 32, h);
        h
    }

    /// Decodes and validates the structure of 40 bytes (the payload is checked later).
    pub(crate) fn decode(b: &[u8], max_transfer: u32) -> Result<Self, HeaderFault> {
        if b[0..4] != RECORD_MAGIC {
            return Err(HeaderFault::Magic);
        }
        let header_hash = get_u64(b, 32);
        if xxh3_64(&b[..32]) != header_hash {
            return Err(HeaderFault::Checksum);
        }
        let field = HeaderFault::Field;
        let kind = RecordKind::from_code(b[4]).ok_or(field("unknown record kind"))?;
        let flags = b[5];
        if flags & !(RECORD_COMPRESSED | RECORD_CHECKSUMS) != 0 || get_u16(b, 6) != 0 {
            return Err(field("unknown record flags"));
        }
        let h = RecordHeader {
            kind,
            flags,
            seq: get_u64(b, 8),
            stored_len: get_u32(b, 16),
            raw_len: get_u32(b, 20),
            payload_hash: get_u64(b, 24),
            header_hash,
        };
        if h.raw_len as usize > MAX_RECORD_RAW
            || round_up(h.stored_len as usize, 8) + RECORD_HEADER_LEN > max_transfer as usize
        {
            return Err(field("record length out of range"));
        }
        let compressed = flags & RECORD_COMPRESSED != 0;
        if (compressed && h.stored_len >= h.raw_len) || (!compressed && h.stored_len != h.raw_len) {
            return Err(field("stored and raw lengths disagree"));
        }
        Ok(h)
    }
}

/// The stripe trailer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trailer {
    /// This stripe's index.
    pub stripe_index: u16,
    /// Records in this stripe.
    pub record_count: u64,
    /// Bytes between the end of the headers and the trailer (records and padding).
    pub data_bytes: u64,
    /// Wrapping sum of the header hashes of this stripe's records.
    pub records_hash: u64,
}

impl Trailer {
    /// Writes the 64-byte trailer into `out[..64]`.
    pub fn encode(&self, out: &mut [u8]) {
        let b = &mut out[..TRAILER_LEN];
        b.fill(0);
        b[0..8].copy_from_slice(&TRAILER_MAGIC);
        put_u16(b, 8, self.stripe_index);
        put_u64(b, 16, self.record_count);
        put_u64(b, 24, self.data_bytes);
        put_u64(b, 32, self.records_hash);
        b[40..48].copy_from_slice(&END_MARKER);
        let h = xxh3_64(&b[..56]);
        put_u64(b, 56, h);
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self, HeaderFault> {
        if b[0..8] != TRAILER_MAGIC {
            return Err(HeaderFault::Magic);
        }
        if xxh3_64(&b[..56]) != get_u64(b, 56) {
            return Err(HeaderFault::Checksum);
        }
        if b[40..48] != END_MARKER {
            return Err(HeaderFault::Field("end marker missing"));
        }
        if b[10..16] != [0; 6] || b[48..56] != [0; 8] {
            return Err(HeaderFault::Field("reserved fields not zero"));
        }
        Ok(Trailer {
            stripe_index: get_u16(b, 8),
            record_count: get_u64(b, 16),
            data_bytes: get_u64(b, 24),
            records_hash: get_u64(b, 32),
        })
    }
}

/// A file of the database as a unit of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRef {
    /// Data, log, container.
    pub kind: FileKind,
    /// Container index (0 otherwise).
    pub index: u16,
}

/// The logical order of a backup's records: the producer walks it, the assembler checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// One FileBegin record.
    Begin(FileRef),
    /// Page-run records.
    Pages,
    /// One FileEnd record.
    End(FileRef),
    /// Log records.
    Log,
    /// FILESTREAM data records of one container.
    Filestream(u16),
    /// The End record.
    EndOfBackup,
}

/// The sections of a backup of `kind` with `containers` FILESTREAM containers.
#[must_use]
pub fn sections(kind: BackupKind, containers: u16) -> Vec<Section> {
    let data = FileRef {
        kind: FileKind::Data,
        index: 0,
    };
    let log = FileRef {
        kind: FileKind::Log,
        index: 0,
    };
    let mut s = Vec::new();
    if kind != BackupKind::Log {
        s.extend([Section::Begin(data), Section::Pages, Section::End(data)]);
    }
    s.extend([Section::Begin(log), Section::Log, Section::End(log)]);
    if kind == BackupKind::Full {
        for c in 0..containers {
            let f = FileRef {
                kind: FileKind::Filestream,
                index: c,
            };
            s.extend([Section::Begin(f), Section::Filestream(c), Section::End(f)]);
        }
    }
    s.push(Section::EndOfBackup);
    s
}

/// Payload length of a FileBegin record.
pub const FILE_BEGIN_LEN: usize = 16;
/// Payload length of a FileEnd record.
pub const FILE_END_LEN: usize = 24;
/// Payload length of the End record.
pub const END_LEN: usize = 32;
