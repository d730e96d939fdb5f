//! RESTORE: an incremental parser and verifier for one stripe.
//!
//! [`StripeReader::feed`] takes chunks of any size (1 byte, unaligned, whole transfers). Every
//! record is verified as soon as it is complete (header hash, payload hash, decompression, page
//! CRCs, and every page and FILESTREAM byte against the content the database had at that
//! version) and kept only in decoded, compact form, so a restore needs memory for page numbers
//! and versions, not for data.

use xxhash_rust::xxh3::xxh3_64;

use super::error::{HeaderKind, StreamError};
use super::format::*;
use crate::db::page::{self, FS_CHUNK, PAGE_SIZE};
use crate::db::{FileKind, LogRecord, PageEntry};
use tsql::value::DateTime;

/// A verified record in decoded form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRecord {
    /// Global sequence number.
    pub seq: u64,
    /// Byte offset of the record in its stripe.
    pub offset: u64,
    /// What it holds.
    pub body: RecordBody,
}

/// The decoded payload of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordBody {
    /// Start of a file.
    FileBegin {
        /// Data, log, container.
        kind: FileKind,
        /// Container index.
        index: u16,
        /// File size in bytes.
        size: u64,
    },
    /// End of a file.
    FileEnd {
        /// Data, log, container.
        kind: FileKind,
        /// Container index.
        index: u16,
        /// Pages, log records or FILESTREAM files in the file's section.
        items: u64,
        /// Bytes in the file's section.
        bytes: u64,
    },
    /// Page entries (bytes verified).
    Pages(Vec<PageEntry>),
    /// Log records.
    Log(Vec<LogRecord>),
    /// A piece of a FILESTREAM file (bytes verified).
    Fs {
        /// Container index.
        container: u16,
        /// File index within the container.
        file: u32,
        /// File version.
        version: u32,
        /// File size.
        file_size: u64,
        /// Offset of this piece in the file.
        offset: u64,
        /// Length of this piece.
        len: u64,
    },
    /// The last record, with totals.
    End {
        /// Records in the backup (this record's seq + 1).
        records: u64,
        /// Pages in the backup.
        pages: u64,
        /// Log records in the backup.
        log_records: u64,
        /// FILESTREAM bytes in the backup.
        fs_bytes: u64,
    },
}

/// A fully read and verified stripe.
#[derive(Debug, Clone)]
pub struct ParsedStripe {
    /// The device it was read from.
    pub device: u16,
    /// Its headers.
    pub headers: StripeHeaders,
    /// Its records, in stripe order.
    pub records: Vec<DecodedRecord>,
    /// Its trailer.
    pub trailer: Trailer,
    /// Offset of the trailer.
    pub trailer_offset: u64,
    /// Total bytes of the stripe.
    pub len: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Media,
    MediaPad,
    SetHeader,
    RecordMagic,
    RecordHeader,
    RecordBody(RecordHeader),
    Padding,
    Trailer,
    TrailerPad,
    Done,
}

enum Step {
    /// The unit is consumed; `state` and `need` describe the next one.
    Consumed,
    /// The same unit continues: it is `n` bytes long in total.
    Need(usize),
}

/// Incremental parser of one stripe. See the module documentation.
#[derive(Debug)]
pub struct StripeReader {
    device: u16,
    check_family: bool,
    headers_only: bool,
    offset: u64,
    need: usize,
    state: State,
    buf: Vec<u8>,
    error: Option<StreamError>,
    media: Option<MediaHeader>,
    set: Option<SetHeader>,
    data_start: u64,
    last_seq: Option<u64>,
    record_count: u64,
    /// Raw (decompressed) payload bytes of the records read so far, for progress.
    content_bytes: u64,
    records_hash: u64,
    records: Vec<DecodedRecord>,
    trailer: Option<(Trailer, u64)>,
    raw: Vec<u8>,
    scratch: Vec<u8>,
}

impl StripeReader {
    /// A reader for the stripe read from device `device`; it must carry media family `device`.
    #[must_use]
    pub fn new(device: u16) -> Self {
        StripeReader {
            device,
            check_family: true,
            headers_only: false,
            offset: 0,
            need: MEDIA_HEADER_LEN,
            state: State::Media,
            buf: Vec::new(),
            error: None,
            media: None,
            set: None,
            data_start: 0,
            last_seq: None,
            record_count: 0,
            content_bytes: 0,
            records_hash: 0,
            records: Vec::new(),
            trailer: None,
            raw: Vec::new(),
            scratch: vec![0; PAGE_SIZE.max(FS_CHUNK)],
        }
    }

    /// The headers, once read.
    #[must_use]
    pub fn headers(&self) -> Option<StripeHeaders> {
        Some(StripeHeaders {
            media: self.media.clone()?,
            set: self.set.clone()?,
        })
    }

    /// Bytes accepted so far.
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.offset + self.buf.len() as u64
    }

    /// Raw payload bytes of the records read so far (page, log and FILESTREAM content after
    /// decompression), for RESTORE's `STATS` percentages.
    #[must_use]
    pub fn content_bytes(&self) -> u64 {
        self.content_bytes
    }

    /// True once the trailer (and its padding) has been read.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    /// Feeds the next bytes of the stripe. After an error every call returns the same error.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), StreamError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        loop {
            if self.headers_only && self.state == State::RecordMagic {
                return Ok(());
            }
            if self.state == State::Done && !input.is_empty() {
                let e = StreamError::TrailingData {
                    stripe: self.device,
                    offset: self.offset,
                };
                self.error = Some(e.clone());
                return Err(e);
            }
            let result = if !self.buf.is_empty() && self.buf.len() >= self.need {
                let unit = std::mem::take(&mut self.buf);
                let r = self.step(&unit[..self.need]);
                self.buf = unit;
                match r {
                    Ok(Step::Consumed) => {
                        self.offset += self.buf.len() as u64;
                        self.buf.clear();
                        Ok(())
                    }
                    Ok(Step::Need(n)) => {
                        self.need = n;
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            } else if self.buf.is_empty() && input.len() >= self.need {
                let n = self.need;
                match self.step(&input[..n]) {
                    Ok(Step::Consumed) => {
                        self.offset += n as u64;
                        input = &input[n..];
                        Ok(())
                    }
                    Ok(Step::Need(m)) => {
                        self.need = m;
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            } else if input.is_empty() {
                return Ok(());
            } else {
                let take = (self.need - self.buf.len()).min(input.len());
                self.buf.extend_from_slice(&input[..take]);
                input = &input[take..];
                Ok(())
            };
            if let Err(e) = result {
                self.error = Some(e.clone());
                return Err(e);
            }
        }
    }

    /// Ends the stripe: fails with `Truncated` unless the trailer has been read.
    pub fn finish(self) -> Result<ParsedStripe, StreamError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let truncated = StreamError::Truncated {
            stripe: self.device,
            offset: self.offset + self.buf.len() as u64,
        };
        if self.state != State::Done {
            return Err(truncated);
        }
        let (Some(media), Some(set), Some((trailer, trailer_offset))) =
            (self.media, self.set, self.trailer)
        else {
            return Err(truncated);
        };
        Ok(ParsedStripe {
            device: self.device,
            headers: StripeHeaders { media, set },
            records: self.records,
            trailer,
            trailer_offset,
            len: self.offset,
        })
    }

    fn block(&self) -> usize {
        self.media.as_ref().map_or(512, |m| m.block_size as usize)
    }

    fn check_zero(&self, unit: &[u8]) -> Result<(), StreamError> {
        match unit.iter().position(|&b| b != 0) {
            None => Ok(()),
            Some(i) => Err(StreamError::NonZeroPadding {
                stripe: self.device,
                offset: self.offset + i as u64,
            }),
        }
    }

    fn header_fault(&self, what: HeaderKind, f: HeaderFault) -> StreamError {
        let (stripe, offset) = (self.device, self.offset);
        match f {
            HeaderFault::Magic => StreamError::BadMagic {
                stripe,
                offset,
                what,
            },
            HeaderFault::Checksum => StreamError::HeaderChecksum {
                stripe,
                offset,
                what,
            },
            HeaderFault::Version(version) => StreamError::UnsupportedVersion {
                stripe,
                offset,
                version,
            },
            HeaderFault::Field(reason) => StreamError::BadHeader {
                stripe,
                offset,
                what,
                reason,
            },
        }
    }

    fn set_next(&mut self, state: State, need: usize) -> Step {
        self.state = state;
        self.need = need;
        Step::Consumed
    }

    fn step(&mut self, unit: &[u8]) -> Result<Step, StreamError> {
        match self.state {
            State::Media => {
                let m = MediaHeader::decode(unit)
                    .map_err(|f| self.header_fault(HeaderKind::Media, f))?;
                if self.check_family && m.family_index != self.device {
                    return Err(StreamError::WrongFamily {
                        stripe: self.device,
                        offset: self.offset,
                        found: m.family_index,
                    });
                }
                let b = m.block_size as usize;
                self.media = Some(m);
                Ok(self.set_next(State::MediaPad, b - MEDIA_HEADER_LEN))
            }
            State::MediaPad => {
                self.check_zero(unit)?;
                Ok(self.set_next(State::SetHeader, 16))
            }
            State::SetHeader => self.step_set_header(unit),
            State::RecordMagic => {
                if unit.iter().all(|&b| b == 0) {
                    let b = self.block() as u64;
                    let rem = (b - (self.offset + 8) % b) % b;
                    return Ok(if rem == 0 {
                        self.set_next(State::RecordMagic, 8)
                    } else {
                        self.set_next(State::Padding, rem as usize)
                    });
                }
                if unit[0..4] == RECORD_MAGIC {
                    self.state = State::RecordHeader;
                    return Ok(Step::Need(RECORD_HEADER_LEN));
                }
                if unit[0..8] == TRAILER_MAGIC {
                    self.state = State::Trailer;
                    return Ok(Step::Need(TRAILER_LEN));
                }
                Err(StreamError::BadMagic {
                    stripe: self.device,
                    offset: self.offset,
                    what: HeaderKind::Record,
                })
            }
            State::RecordHeader => {
                let max_transfer = self.media.as_ref().map_or(0, |m| m.max_transfer);
                let h = RecordHeader::decode(unit, max_transfer)
                    .map_err(|f| self.header_fault(HeaderKind::Record, f))?;
                self.state = State::RecordBody(h);
                Ok(Step::Need(
                    RECORD_HEADER_LEN + round_up(h.stored_len as usize, 8),
                ))
            }
            State::RecordBody(h) => {
                self.step_record(h, unit)?;
                self.content_bytes += u64::from(h.raw_len);
                Ok(self.set_next(State::RecordMagic, 8))
            }
            State::Padding => {
                self.check_zero(unit)?;
                Ok(self.set_next(State::RecordMagic, 8))
            }
            State::Trailer => {
                self.step_trailer(unit)?;
                let b = self.block();
                Ok(self.set_next(State::TrailerPad, b - TRAILER_LEN))
            }
            State::TrailerPad => {
                self.check_zero(unit)?;
                Ok(self.set_next(State::Done, 1))
            }
            State::Done => Err(StreamError::TrailingData {
                stripe: self.device,
                offset: self.offset,
            }),
        }
    }

    fn step_set_header(&mut self, unit: &[u8]) -> Result<Step, StreamError> {
        let b = self.block();
        if unit.len() == 16 {
            let len = SetHeader::peek_len(unit)
                .map_err(|f| self.header_fault(HeaderKind::BackupSet, f))?;
            return Ok(Step::Need(round_up(len, b)));
        }
        let set =
            SetHeader::decode(unit).map_err(|f| self.header_fault(HeaderKind::BackupSet, f))?;
        let len = set.encoded_len();
        if let Some(i) = unit[len..].iter().position(|&x| x != 0) {
            return Err(StreamError::NonZeroPadding {
                stripe: self.device,
                offset: self.offset + (len + i) as u64,
            });
        }
        let Some(media) = &self.media else {
            return Err(
                self.header_fault(HeaderKind::BackupSet, HeaderFault::Field("no media header"))
            );
        };
        let consistent = set.block_size == media.block_size
            && set.max_transfer == media.max_transfer
            && set.device_count == media.family_count
            && set.stripe_index == media.family_index
            && set.flags == media.flags
            && set.media_set_id == media.media_set_id;
        if !consistent {
            return Err(StreamError::MediaSetMismatch {
                stripe: self.device,
                offset: self.offset,
                reason: "backup-set header disagrees with the media header",
            });
        }
        self.set = Some(set);
        self.data_start = self.offset + unit.len() as u64;
        Ok(self.set_next(State::RecordMagic, 8))
    }

    fn step_trailer(&mut self, unit: &[u8]) -> Result<(), StreamError> {
        let t = Trailer::decode(unit).map_err(|f| self.header_fault(HeaderKind::Trailer, f))?;
        let mismatch = |field| StreamError::TrailerMismatch {
            stripe: self.device,
            offset: self.offset,
            field,
        };
        if !self.offset.is_multiple_of(self.block() as u64) {
            return Err(mismatch("alignment"));
        }
        if Some(t.stripe_index) != self.media.as_ref().map(|m| m.family_index) {
            return Err(mismatch("stripe_index"));
        }
        if t.record_count != self.record_count {
            return Err(mismatch("record_count"));
        }
        if t.data_bytes != self.offset - self.data_start {
            return Err(mismatch("data_bytes"));
        }
        if t.records_hash != self.records_hash {
            return Err(mismatch("records_hash"));
        }
        self.trailer = Some((t, self.offset));
        Ok(())
    }

    fn step_record(&mut self, h: RecordHeader, unit: &[u8]) -> Result<(), StreamError> {
        let (stripe, offset, seq) = (self.device, self.offset, h.seq);
        let stored = &unit[RECORD_HEADER_LEN..RECORD_HEADER_LEN + h.stored_len as usize];
        if let Some(i) = unit[RECORD_HEADER_LEN + stored.len()..]
            .iter()
            .position(|&b| b != 0)
        {
            return Err(StreamError::NonZeroPadding {
                stripe,
                offset: offset + (RECORD_HEADER_LEN + stored.len() + i) as u64,
            });
        }
        if xxh3_64(stored) != h.payload_hash {
            return Err(StreamError::ChecksumMismatch {
                stripe,
                offset,
                seq,
            });
        }
        if self.last_seq.is_some_and(|last| seq <= last) {
            return Err(StreamError::DuplicateSequence {
                stripe,
                offset,
                seq,
            });
        }
        let set = self.set.as_ref().expect("records follow the set header");
        let bad = |reason| StreamError::BadRecord {
            stripe,
            offset,
            seq,
            reason,
        };
        let set_checksum = set.flags & FLAG_CHECKSUM != 0;
        if (h.flags & RECORD_CHECKSUMS != 0) != set_checksum {
            return Err(bad("checksum flag disagrees with the backup set"));
        }
        if h.flags & RECORD_COMPRESSED != 0 && set.flags & FLAG_COMPRESSION == 0 {
            return Err(bad("compressed record in an uncompressed backup"));
        }
        let mut raw_buf = std::mem::take(&mut self.raw);
        let payload: &[u8] = if h.flags & RECORD_COMPRESSED != 0 {
            raw_buf.resize(h.raw_len as usize, 0);
            match lz4_flex::block::decompress_into(stored, &mut raw_buf) {
                Ok(n) if n == h.raw_len as usize => &raw_buf,
                _ => {
                    self.raw = raw_buf;
                    return Err(StreamError::Decompress {
                        stripe,
                        offset,
                        seq,
                    });
                }
            }
        } else {
            stored
        };
        let body = self.decode_body(h, payload);
        self.raw = raw_buf;
        let body = body?;
        self.last_seq = Some(seq);
        self.record_count += 1;
        self.records_hash = self.records_hash.wrapping_add(h.header_hash);
        self.records.push(DecodedRecord { seq, offset, body });
        Ok(())
    }

    fn decode_body(&mut self, h: RecordHeader, p: &[u8]) -> Result<RecordBody, StreamError> {
        let (stripe, offset, seq) = (self.device, self.offset, h.seq);
        let bad = |reason| StreamError::BadRecord {
            stripe,
            offset,
            seq,
            reason,
        };
        let set = self.set.as_ref().expect("records follow the set header");
        let checksums = h.flags & RECORD_CHECKSUMS != 0;
        let file_ref = |p: &[u8]| -> Result<(FileKind, u16), StreamError> {
            let kind = FileKind::from_code(p[0]).ok_or(bad("unknown file kind"))?;
            if p[1] != 0 || get_u32(p, 4) != 0 {
                return Err(bad("reserved bytes not zero"));
            }
            Ok((kind, get_u16(p, 2)))
        };
        match h.kind {
            RecordKind::FileBegin => {
                if p.len() != FILE_BEGIN_LEN {
                    return Err(bad("wrong payload length"));
                }
                let (kind, index) = file_ref(p)?;
                Ok(RecordBody::FileBegin {
                    kind,
                    index,
                    size: get_u64(p, 8),
                })
            }
            RecordKind::FileEnd => {
                if p.len() != FILE_END_LEN {
                    return Err(bad("wrong payload length"));
                }
                let (kind, index) = file_ref(p)?;
                Ok(RecordBody::FileEnd {
                    kind,
                    index,
                    items: get_u64(p, 8),
                    bytes: get_u64(p, 16),
                })
            }
            RecordKind::End => {
                if p.len() != END_LEN {
                    return Err(bad("wrong payload length"));
                }
                Ok(RecordBody::End {
                    records: get_u64(p, 0),
                    pages: get_u64(p, 8),
                    log_records: get_u64(p, 16),
                    fs_bytes: get_u64(p, 24),
                })
            }
            RecordKind::Log => {
                if p.is_empty() || !p.len().is_multiple_of(LOG_ENTRY_LEN) {
                    return Err(bad("wrong payload length"));
                }
                let mut out = Vec::with_capacity(p.len() / LOG_ENTRY_LEN);
                let mut prev = None;
                for e in p.chunks_exact(LOG_ENTRY_LEN) {
                    let time = DateTime::from_total_ticks(i128::from(get_u64(e, 24)));
                    let r = LogRecord {
                        lsn: get_u64(e, 0),
                        page: get_u64(e, 8),
                        version: get_u32(e, 16),
                        time: time.unwrap_or_else(crate::db::epoch),
                    };
                    if get_u32(e, 20) != 0
                        || time.is_none()
                        || r.page >= set.db_pages
                        || r.lsn < set.first_lsn
                        || r.lsn >= set.last_lsn
                        || prev.is_some_and(|p| r.lsn <= p)
                    {
                        return Err(bad("log record out of range or order"));
                    }
                    prev = Some(r.lsn);
                    out.push(r);
                }
                Ok(RecordBody::Log(out))
            }
            RecordKind::Pages => {
                if p.is_empty() || !p.len().is_multiple_of(PAGE_ENTRY_LEN) {
                    return Err(bad("wrong payload length"));
                }
                let key = set.content_key;
                let db_pages = set.db_pages;
                let mut out = Vec::with_capacity(p.len() / PAGE_ENTRY_LEN);
                for e in p.chunks_exact(PAGE_ENTRY_LEN) {
                    let entry = PageEntry {
                        page: get_u64(e, 0),
                        lsn: get_u64(e, 8),
                        version: get_u32(e, 16),
                    };
                    let crc = get_u32(e, 20);
                    let bytes = &e[24..];
                    if entry.page >= db_pages {
                        return Err(bad("page number outside the data file"));
                    }
                    if checksums {
                        if crc32fast::hash(bytes) != crc {
                            return Err(StreamError::PageChecksum {
                                stripe,
                                offset,
                                seq,
                                page: entry.page,
                            });
                        }
                    } else if crc != 0 {
                        return Err(bad("page checksum present without CHECKSUM"));
                    }
                    let expect = &mut self.scratch[..PAGE_SIZE];
                    page::fill_page(key, entry.page, entry.version, expect);
                    if expect != bytes {
                        return Err(StreamError::ContentMismatch {
                            stripe,
                            offset,
                            seq,
                            page: entry.page,
                        });
                    }
                    out.push(entry);
                }
                Ok(RecordBody::Pages(out))
            }
            RecordKind::FsData => {
                if p.len() < FS_HEADER_LEN {
                    return Err(bad("wrong payload length"));
                }
                let (head, data) = p.split_at(FS_HEADER_LEN);
                let container = get_u16(head, 0);
                let file = get_u32(head, 4);
                let version = get_u32(head, 8);
                let crc = get_u32(head, 12);
                let file_size = get_u64(head, 16);
                let foff = get_u64(head, 24);
                let len = data.len() as u64;
                if usize::from(container) >= set.container_count()
                    || get_u16(head, 2) != 0
                    || !foff.is_multiple_of(FS_CHUNK as u64)
                    || foff.checked_add(len).is_none_or(|end| end > file_size)
                {
                    return Err(bad("FILESTREAM piece out of range"));
                }
                if checksums {
                    if crc32fast::hash(data) != crc {
                        return Err(StreamError::PageChecksum {
                            stripe,
                            offset,
                            seq,
                            page: foff,
                        });
                    }
                } else if crc != 0 {
                    return Err(bad("checksum present without CHECKSUM"));
                }
                let fkey = page::fs_file_key(set.content_key, container, file);
                let first_chunk = foff / FS_CHUNK as u64;
                for (i, chunk) in data.chunks(FS_CHUNK).enumerate() {
                    let expect = &mut self.scratch[..chunk.len()];
                    page::fill_fs_chunk(fkey, version, first_chunk + i as u64, expect);
                    if expect != chunk {
                        return Err(StreamError::ContentMismatch {
                            stripe,
                            offset,
                            seq,
                            page: foff + (i * FS_CHUNK) as u64,
                        });
                    }
                }
                Ok(RecordBody::Fs {
                    container,
                    file,
                    version,
                    file_size,
                    offset: foff,
                    len,
                })
            }
        }
    }
}

/// Decodes the headers at the start of a stripe (HEADERONLY, FILELISTONLY, LABELONLY). `bytes`
/// must hold at least the headers (see [`StripeHeaders::len`]; the first MAXTRANSFERSIZE bytes
/// always do). Errors name stripe 0.
pub fn read_headers(bytes: &[u8]) -> Result<StripeHeaders, StreamError> {
    let mut r = StripeReader::new(0);
    r.check_family = false;
    r.headers_only = true;
    r.feed(bytes)?;
    r.headers().ok_or(StreamError::Truncated {
        stripe: 0,
        offset: bytes.len() as u64,
    })
}
