//! RESTORE: checks the stripes against each other, puts the records back in sequence order,
//! checks the structure of the backup and rebuilds its [`BackupImage`].

use super::error::StreamError;
use super::format::{FileRef, Section, round_up, sections};
use super::format::{LOG_ENTRY_LEN, MEDIA_HEADER_LEN};
use super::reader::{DecodedRecord, ParsedStripe, RecordBody, StripeReader};
use crate::db::page::PAGE_SIZE;
use crate::db::{BackupImage, BackupMeta, FileKind, FsContainer, FsFile};

/// Collects the parsed stripes of one media set.
#[derive(Debug, Default)]
pub struct RestoreAssembler {
    stripes: Vec<ParsedStripe>,
}

/// Reads every stripe (index = device) whole and assembles the backup.
pub fn assemble(stripes: &[&[u8]]) -> Result<BackupImage, StreamError> {
    let mut a = RestoreAssembler::new();
    for (device, bytes) in stripes.iter().enumerate() {
        let mut r = StripeReader::new(device as u16);
        r.feed(bytes)?;
        a.add(r.finish()?)?;
    }
    a.finish()
}

impl RestoreAssembler {
    /// No stripes yet.
    #[must_use]
    pub fn new() -> Self {
        RestoreAssembler::default()
    }

    /// Adds a fully read stripe; checks it belongs to the same media set and backup set as the
    /// stripes added before.
    pub fn add(&mut self, stripe: ParsedStripe) -> Result<(), StreamError> {
        if let Some(first) = self.stripes.first() {
            let (a, b) = (&first.headers, &stripe.headers);
            if a.media.media_set_id != b.media.media_set_id
                || a.media.family_count != b.media.family_count
                || a.media.block_size != b.media.block_size
            {
                return Err(StreamError::MediaSetMismatch {
                    stripe: stripe.device,
                    offset: 0,
                    reason: "media header of another media set",
                });
            }
            let mut set = b.set.clone();
            set.stripe_index = a.set.stripe_index;
            if set != a.set {
                return Err(StreamError::MediaSetMismatch {
                    stripe: stripe.device,
                    offset: round_up(MEDIA_HEADER_LEN, b.media.block_size as usize) as u64,
                    reason: "backup-set header differs from the other stripes'",
                });
            }
            let family = b.media.family_index;
            if self
                .stripes
                .iter()
                .any(|s| s.headers.media.family_index == family)
            {
                return Err(StreamError::DuplicateFamily {
                    stripe: stripe.device,
                    family,
                });
            }
        }
        self.stripes.push(stripe);
        Ok(())
    }

    /// Checks that every family is present, every sequence number appears exactly once and the
    /// records form a valid backup; returns the backup's content.
    pub fn finish(self) -> Result<BackupImage, StreamError> {
        let first = self.stripes.first().ok_or(StreamError::NoStripes)?;
        let family_count = first.headers.media.family_count;
        for family in 0..family_count {
            if !self
                .stripes
                .iter()
                .any(|s| s.headers.media.family_index == family)
            {
                return Err(StreamError::MissingFamily {
                    family,
                    family_count,
                });
            }
        }
        let mut order: Vec<(u64, u16, &DecodedRecord)> = self
            .stripes
            .iter()
            .flat_map(|s| s.records.iter().map(move |r| (r.seq, s.device, r)))
            .collect();
        order.sort_unstable_by_key(|&(seq, device, r)| (seq, device, r.offset));
        for (i, &(seq, device, r)) in order.iter().enumerate() {
            let expected = i as u64;
            if seq < expected {
                return Err(StreamError::DuplicateSequence {
                    stripe: device,
                    offset: r.offset,
                    seq,
                });
            }
            if seq > expected {
                return Err(StreamError::MissingSequence { seq: expected });
            }
        }
        let set = &first.headers.set;
        Walk {
            records: order.iter().map(|&(_, d, r)| (d, r)).collect(),
            at: 0,
        }
        .build(set)
    }
}

struct Walk<'a> {
    records: Vec<(u16, &'a DecodedRecord)>,
    at: usize,
}

impl<'a> Walk<'a> {
    fn peek(&self) -> Option<&'a RecordBody> {
        self.records.get(self.at).map(|(_, r)| &r.body)
    }

    fn next(&mut self) -> Result<(u16, &'a DecodedRecord), StreamError> {
        let r = self
            .records
            .get(self.at)
            .copied()
            .ok_or(StreamError::MissingSequence {
                seq: self.records.len() as u64,
            })?;
        self.at += 1;
        Ok(r)
    }

    fn fault(&self, reason: &'static str) -> StreamError {
        match self.records.get(self.at.saturating_sub(1)) {
            Some(&(stripe, r)) => StreamError::Structure {
                stripe,
                offset: r.offset,
                seq: r.seq,
                reason,
            },
            None => StreamError::MissingSequence { seq: 0 },
        }
    }

    fn build(mut self, set: &super::format::SetHeader) -> Result<BackupImage, StreamError> {
        let mut image = BackupImage {
            meta: BackupMeta {
                database: set.database.clone(),
                kind: set.kind,
                recovery: set.recovery,
                seed: set.seed,
                content_key: set.content_key,
                first_lsn: set.first_lsn,
                last_lsn: set.last_lsn,
                checkpoint_lsn: set.checkpoint_lsn,
                differential_base_lsn: set.differential_base_lsn,
                db_pages: set.db_pages,
                log_file_bytes: set.log_file_bytes,
                files: set.files.clone(),
                state_hash: set.state_hash,
                info: set.info.clone(),
            },
            pages: Vec::new(),
            log: Vec::new(),
            filestream: Vec::new(),
        };
        // A file or partial backup holds the pages of some files only.
        let full = set.kind == crate::db::BackupKind::Full && set.info.file_scope.is_none();
        let containers = set.container_count() as u16;
        for section in sections(set.kind, containers) {
            match section {
                Section::Begin(f) => {
                    let (_, r) = self.next()?;
                    let expect_size = self.file_size(set, f);
                    match r.body {
                        RecordBody::FileBegin { kind, index, size }
                            if kind == f.kind && index == f.index =>
                        {
                            if size != expect_size {
                                return Err(self.fault("file size differs from the file list"));
                            }
                        }
                        _ => return Err(self.fault("expected the start of a file")),
                    }
                }
                Section::End(f) => {
                    let (_, r) = self.next()?;
                    let (want_items, want_bytes) = match f.kind {
                        FileKind::Data => {
                            let n = image.pages.len() as u64;
                            (n, n * PAGE_SIZE as u64)
                        }
                        FileKind::Log => {
                            let n = image.log.len() as u64;
                            (n, n * LOG_ENTRY_LEN as u64)
                        }
                        FileKind::Filestream => {
                            let c = &image.filestream[usize::from(f.index)];
                            (c.files.len() as u64, c.size_bytes())
                        }
                    };
                    match r.body {
                        RecordBody::FileEnd {
                            kind,
                            index,
                            items,
                            bytes,
                        } if kind == f.kind && index == f.index => {
                            if items != want_items || bytes != want_bytes {
                                return Err(self.fault("file end counts differ from the content"));
                            }
                            if f.kind == FileKind::Data && full && items != set.db_pages {
                                return Err(self.fault("full backup lacks pages"));
                            }
                        }
                        _ => return Err(self.fault("expected the end of a file")),
                    }
                }
                Section::Pages => {
                    while let Some(RecordBody::Pages(entries)) = self.peek() {
                        self.next()?;
                        for e in entries {
                            let ok = match image.pages.last() {
                                _ if full => e.page == image.pages.len() as u64,
                                None => true,
                                Some(prev) => e.page > prev.page,
                            };
                            if !ok {
                                return Err(self.fault("pages out of order or repeated"));
                            }
                            image.pages.push(*e);
                        }
                    }
                }
                Section::Log => {
                    while let Some(RecordBody::Log(records)) = self.peek() {
                        self.next()?;
                        for r in records {
                            if image.log.last().is_some_and(|p| r.lsn <= p.lsn) {
                                return Err(self.fault("log records out of order"));
                            }
                            image.log.push(*r);
                        }
                    }
                }
                Section::Filestream(c) => {
                    let mut container = FsContainer::default();
                    let mut done = 0u64;
                    while let Some(&RecordBody::Fs {
                        container: rc,
                        file,
                        version,
                        file_size,
                        offset,
                        len,
                    }) = self.peek()
                    {
                        self.next()?;
                        if rc != c {
                            return Err(self.fault("FILESTREAM data of another container"));
                        }
                        let n = container.files.len();
                        if file as usize == n
                            && container.files.last().is_none_or(|l| done == l.size)
                        {
                            if offset != 0 {
                                return Err(self.fault("FILESTREAM file does not start at 0"));
                            }
                            container.files.push(FsFile {
                                size: file_size,
                                version,
                            });
                        } else if n == 0
                            || file as usize != n - 1
                            || offset != done
                            || container.files[n - 1]
                                != (FsFile {
                                    size: file_size,
                                    version,
                                })
                        {
                            return Err(self.fault("FILESTREAM pieces out of order"));
                        }
                        done = offset + len;
                    }
                    if container.files.last().is_some_and(|l| done != l.size) {
                        return Err(self.fault("FILESTREAM file incomplete"));
                    }
                    image.filestream.push(container);
                }
                Section::EndOfBackup => {
                    let (_, r) = self.next()?;
                    let RecordBody::End {
                        records,
                        pages,
                        log_records,
                        fs_bytes,
                    } = r.body
                    else {
                        return Err(self.fault("expected the end of the backup"));
                    };
                    if records != self.records.len() as u64 || records != r.seq + 1 {
                        return Err(self.fault("records after the end of the backup"));
                    }
                    if pages != image.pages.len() as u64
                        || log_records != image.log.len() as u64
                        || fs_bytes != image.filestream_bytes()
                        || pages != set.page_count
                        || log_records != set.log_record_count
                        || fs_bytes != set.filestream_bytes
                    {
                        return Err(self.fault("end totals differ from the content"));
                    }
                }
            }
        }
        Ok(image)
    }

    fn file_size(&self, set: &super::format::SetHeader, f: FileRef) -> u64 {
        let idx = match f.kind {
            FileKind::Data => 0,
            FileKind::Log => 1,
            FileKind::Filestream => 2 + usize::from(f.index),
        };
        set.files.get(idx).map_or(u64::MAX, |fi| fi.size_bytes)
    }
}
