//! Typed stream errors. Every error detected while reading a stripe names the stripe (device
//! index) and the byte offset within that stripe where the damage was detected.

/// Which header a header error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// The media header at offset 0.
    Media,
    /// The backup-set header after the media header.
    BackupSet,
    /// A data record's header.
    Record,
    /// The stripe trailer.
    Trailer,
}

/// Errors of the BACKUP producer (misuse by the engine, or impossible options).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProduceError {
    /// The options cannot be used.
    #[error("invalid backup options: {0}")]
    InvalidOptions(&'static str),
    /// A stripe index at or above the device count.
    #[error("stripe {stripe} out of range (device count {devices})")]
    NoSuchStripe {
        /// The stripe asked for.
        stripe: u16,
        /// The device count.
        devices: u16,
    },
    /// The buffer is too small for what was asked.
    #[error("buffer of {len} bytes is too small, need {need}")]
    BufferTooSmall {
        /// Bytes given.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
    /// Calls out of order on a stripe (data before header, anything after the trailer, trailer
    /// before the data is exhausted or while transfers are outstanding).
    #[error("stripe {stripe}: {reason}")]
    OutOfOrder {
        /// The stripe.
        stripe: u16,
        /// What was wrong.
        reason: &'static str,
    },
}

/// Errors found while reading or assembling a backup stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// A magic number is wrong: this is not (or no longer) our stream.
    #[error("device {stripe}: bad magic in {what:?} at offset {offset}")]
    BadMagic {
        /// Device index.
        stripe: u16,
        /// Byte offset in the stripe.
        offset: u64,
        /// Where a magic was expected.
        what: HeaderKind,
    },
    /// A format version this reader does not know.
    #[error("device {stripe}: unsupported format version {version} at offset {offset}")]
    UnsupportedVersion {
        /// Device index.
        stripe: u16,
        /// Byte offset in the stripe.
        offset: u64,
        /// The version found.
        version: u16,
    },
    /// A header's own checksum does not match.
    #[error("device {stripe}: {what:?} header checksum mismatch at offset {offset}")]
    HeaderChecksum {
        /// Device index.
        stripe: u16,
        /// Byte offset in the stripe.
        offset: u64,
        /// Which header.
        what: HeaderKind,
    },
    /// A header field is out of range or inconsistent.
    #[error("device {stripe}: bad {what:?} header at offset {offset}: {reason}")]
    BadHeader {
        /// Device index.
        stripe: u16,
        /// Byte offset in the stripe.
        offset: u64,
        /// Which header.
        what: HeaderKind,
        /// What is wrong.
        reason: &'static str,
    },
    /// The stripe carries another media family than the device it was read from: stripes given
    /// in the wrong order or swapped.
    #[error("device {stripe}: holds media family {found} (stripes swapped?) at offset {offset}")]
    WrongFamily {
        /// Device index.
        stripe: u16,
        /// Byte offset in the stripe.
        offset: u64,
        /// The family index found in the media header.
        found: u16,
    },
    /// Padding that should be zero is not.
    #[error("device {stripe}: non-zero padding at offset {offset}")]
    NonZeroPadding {
        /// Device index.
        stripe: u16,
        /// Byte offset of the first non-zero byte.
        offset: u64,
    },
    /// A record's payload checksum does not match.
    #[error("device {stripe}: checksum mismatch in record {seq} at offset {offset}")]
    ChecksumMismatch {
        /// Device index.
        stripe: u16,
        /// Byte offset of the record.
        offset: u64,
        /// Record sequence number.
        seq: u64,
    },
    /// A page's (or FILESTREAM chunk's) CHECKSUM does not match.
    #[error(
        "device {stripe}: page checksum mismatch for page {page} in record {seq} at offset {offset}"
    )]
    PageChecksum {
        /// Device index.
        stripe: u16,
        /// Byte offset of the record.
        offset: u64,
        /// Record sequence number.
        seq: u64,
        /// Page number (or FILESTREAM file offset).
        page: u64,
    },
    /// Page or FILESTREAM bytes differ from what the database holds at that version.
    #[error("device {stripe}: content of page {page} in record {seq} at offset {offset} is wrong")]
    ContentMismatch {
        /// Device index.
        stripe: u16,
        /// Byte offset of the record.
        offset: u64,
        /// Record sequence number.
        seq: u64,
        /// Page number (or FILESTREAM file offset).
        page: u64,
    },
    /// A compressed payload does not decompress to its stated size.
    #[error("device {stripe}: record {seq} at offset {offset} does not decompress")]
    Decompress {
        /// Device index.
        stripe: u16,
        /// Byte offset of the record.
        offset: u64,
        /// Record sequence number.
        seq: u64,
    },
    /// A record is malformed.
    #[error("device {stripe}: bad record {seq} at offset {offset}: {reason}")]
    BadRecord {
        /// Device index.
        stripe: u16,
        /// Byte offset of the record.
        offset: u64,
        /// Record sequence number.
        seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A sequence number seen twice (within a stripe or across stripes), or going backwards.
    #[error("device {stripe}: duplicate record {seq} at offset {offset}")]
    DuplicateSequence {
        /// Device index.
        stripe: u16,
        /// Byte offset of the second occurrence.
        offset: u64,
        /// Record sequence number.
        seq: u64,
    },
    /// A sequence number that no stripe holds.
    #[error("record {seq} is missing from every device")]
    MissingSequence {
        /// The first missing sequence number.
        seq: u64,
    },
    /// The records, in sequence order, do not form a valid backup.
    #[error("device {stripe}: record {seq} at offset {offset} out of place: {reason}")]
    Structure {
        /// Device index.
        stripe: u16,
        /// Byte offset of the record.
        offset: u64,
        /// Record sequence number.
        seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The trailer's statistics do not match the stripe.
    #[error("device {stripe}: trailer at offset {offset} does not match the data ({field})")]
    TrailerMismatch {
        /// Device index.
        stripe: u16,
        /// Byte offset of the trailer.
        offset: u64,
        /// The field that differs.
        field: &'static str,
    },
    /// The stripe ended before its trailer.
    #[error("device {stripe}: stream truncated at offset {offset}")]
    Truncated {
        /// Device index.
        stripe: u16,
        /// Bytes received.
        offset: u64,
    },
    /// Bytes after the trailer.
    #[error("device {stripe}: data after the end of the stripe at offset {offset}")]
    TrailingData {
        /// Device index.
        stripe: u16,
        /// Byte offset of the first extra byte.
        offset: u64,
    },
    /// A stripe of another media set, or with a differing backup-set header.
    #[error("device {stripe}: belongs to another media set or backup set ({reason})")]
    MediaSetMismatch {
        /// Device index.
        stripe: u16,
        /// Byte offset of the header that differs.
        offset: u64,
        /// What differs.
        reason: &'static str,
    },
    /// The same family given twice.
    #[error("device {stripe}: media family {family} given twice")]
    DuplicateFamily {
        /// Device index.
        stripe: u16,
        /// The family.
        family: u16,
    },
    /// A family of the media set was not provided.
    #[error("media family {family} of {family_count} is missing")]
    MissingFamily {
        /// The first missing family.
        family: u16,
        /// Families in the media set.
        family_count: u16,
    },
    /// No stripe at all.
    #[error("no stripes to restore from")]
    NoStripes,
}

impl StreamError {
    /// The device index the error is about, if any.
    #[must_use]
    pub fn stripe(&self) -> Option<u16> {
        use StreamError::*;
        match self {
            BadMagic { stripe, .. }
            | UnsupportedVersion { stripe, .. }
            | HeaderChecksum { stripe, .. }
            | BadHeader { stripe, .. }
            | WrongFamily { stripe, .. }
            | NonZeroPadding { stripe, .. }
            | ChecksumMismatch { stripe, .. }
            | PageChecksum { stripe, .. }
            | ContentMismatch { stripe, .. }
            | Decompress { stripe, .. }
            | BadRecord { stripe, .. }
            | DuplicateSequence { stripe, .. }
            | Structure { stripe, .. }
            | TrailerMismatch { stripe, .. }
            | Truncated { stripe, .. }
            | TrailingData { stripe, .. }
            | MediaSetMismatch { stripe, .. }
            | DuplicateFamily { stripe, .. } => Some(*stripe),
            MissingSequence { .. } | MissingFamily { .. } | NoStripes => None,
        }
    }

    /// The byte offset within the stripe where the error was detected, if any.
    #[must_use]
    pub fn offset(&self) -> Option<u64> {
        use StreamError::*;
        match self {
            BadMagic { offset, .. }
            | UnsupportedVersion { offset, .. }
            | HeaderChecksum { offset, .. }
            | BadHeader { offset, .. }
            | WrongFamily { offset, .. }
            | NonZeroPadding { offset, .. }
            | ChecksumMismatch { offset, .. }
            | PageChecksum { offset, .. }
            | ContentMismatch { offset, .. }
            | Decompress { offset, .. }
            | BadRecord { offset, .. }
            | DuplicateSequence { offset, .. }
            | Structure { offset, .. }
            | TrailerMismatch { offset, .. }
            | Truncated { offset, .. }
            | TrailingData { offset, .. }
            | MediaSetMismatch { offset, .. } => Some(*offset),
            DuplicateFamily { .. } | MissingSequence { .. } | MissingFamily { .. } | NoStripes => {
                None
            }
        }
    }
}
