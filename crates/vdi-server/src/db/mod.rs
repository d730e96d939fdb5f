//! Synthetic databases: deterministic page content, LSNs, log records and backup chains.
//!
//! A [`Database`] stores only per-page versions and LSNs; the bytes of a page are re-derived
//! from (content key, page number, version) by [`page::fill_page`]. A 1 GiB database therefore
//! costs 1.5 MiB of memory (12 bytes per 8 KiB page).

mod backup;
mod catalog;
mod chain;
mod digest;
mod files;
mod image;
pub mod page;
mod space;

pub use backup::{BackupError, BackupRequest};
pub use catalog::{Catalog, CatalogError, MAX_DATABASE_BYTES};
pub use chain::{Applied, ChainError, RestoreState, StopTarget};
pub use digest::{DatabaseDigest, Difference};
pub use files::{OfflineFile, SqlFile, SqlFilegroup, apply_layout};
pub use image::{
    BackupImage, BackupInfo, BackupKind, BackupMeta, FileInfo, FileKind, Guid, PageEntry,
};

use serde::{Deserialize, Serialize};
use tsql::catalog::DatabaseInfo;
use tsql::value::DateTime;

use page::PAGE_SIZE;

/// A log sequence number. Changes get consecutive LSNs; ranges are half-open `[first, last)`.
pub type Lsn = u64;

/// The first LSN a new database hands out.
pub const INITIAL_LSN: Lsn = 1000;

/// FULL keeps log records for log backups (once a full backup started the chain); SIMPLE does
/// not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecoveryModel {
    /// Log backups possible.
    Full,
    /// No log backups.
    Simple,
}

impl RecoveryModel {
    /// The code used in the stream headers.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            RecoveryModel::Full => 1,
            RecoveryModel::Simple => 3,
        }
    }

    /// The inverse of [`RecoveryModel::code`].
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(RecoveryModel::Full),
            3 => Some(RecoveryModel::Simple),
            _ => None,
        }
    }
}

/// One change: page `page` got version `version` at `lsn`, at `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// LSN of the change.
    pub lsn: Lsn,
    /// Page changed.
    pub page: u64,
    /// The page's new version.
    pub version: u32,
    /// When the change was made (what STOPAT compares).
    #[serde(default = "epoch")]
    pub time: DateTime,
}

/// 0001-01-01 00:00: the time of changes made before times were recorded.
#[must_use]
pub fn epoch() -> DateTime {
    DateTime { days: 0, ticks: 0 }
}

/// A FILESTREAM file: content derives from (content key, container, file index, version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsFile {
    /// Size in bytes.
    pub size: u64,
    /// Content version.
    pub version: u32,
}

/// A FILESTREAM container: a set of files numbered from 0.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FsContainer {
    /// The files, by index.
    pub files: Vec<FsFile>,
}

impl FsContainer {
    /// Total bytes in the container.
    #[must_use]
    pub fn size_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// A synthetic database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Database {
    name: String,
    seed: u64,
    content_key: u64,
    recovery: RecoveryModel,
    page_versions: Vec<u32>,
    page_lsns: Vec<Lsn>,
    log_file_bytes: u64,
    filestream: Vec<FsContainer>,
    next_lsn: Lsn,
    /// Records kept for log backups (only in FULL once a full backup has begun).
    log: Vec<LogRecord>,
    /// Records from this LSN on are being kept.
    log_retained_from: Option<Lsn>,
    /// The first LSN of the next log backup; `None` until a full backup completes.
    log_backup_point: Option<Lsn>,
    /// Checkpoint LSN of the last completed full backup.
    differential_base: Option<Lsn>,
    /// What the catalog views show: id, state, files, filegroups, users (`None` only in a
    /// file written before this field existed; the catalog fills it in on load).
    #[serde(default)]
    sql: Option<DatabaseInfo>,
    /// Marked transactions (`BEGIN TRAN name WITH MARK`), oldest first.
    #[serde(default)]
    marks: Vec<Mark>,
    /// Pages found damaged (a restore that continued after errors); DBCC CHECKDB reports
    /// them.
    #[serde(default)]
    damaged_pages: Vec<u64>,
    /// The time changes are stamped with (set by the engine before it changes anything).
    #[serde(default = "epoch")]
    clock: DateTime,
    /// The next log backup is the first of its chain.
    #[serde(default)]
    log_chain_begins: bool,
    /// Data files a piecemeal restore left out (RECOVERY_PENDING), and since when.
    #[serde(default)]
    offline_files: Vec<files::OfflineFile>,
    /// The file list a restore gives the database's catalog metadata once it has some.
    #[serde(default)]
    pending_layout: Option<(Vec<SqlFile>, Vec<SqlFilegroup>)>,
    /// The LSN of the last checkpoint a backup took (a log backup's CheckpointLSN).
    #[serde(default)]
    last_checkpoint: Option<Lsn>,
}

/// A marked transaction in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub name: String,
    pub description: Option<String>,
    /// The LSN of the mark's commit: the first LSN after the transaction's work
    /// (STOPATMARK stops here, the transaction included).
    pub lsn: Lsn,
    /// The first LSN of the transaction's work (STOPBEFOREMARK stops here); `lsn` for a mark
    /// recorded before this field existed.
    #[serde(default)]
    pub begin_lsn: Option<Lsn>,
    pub time: DateTime,
}

impl Mark {
    /// Where STOPBEFOREMARK stops.
    #[must_use]
    pub fn before_lsn(&self) -> Lsn {
        self.begin_lsn.unwrap_or(self.lsn).min(self.lsn)
    }
}

impl Database {
    /// Creates a database of `size_bytes` (rounded up to whole pages, at least one page) with
    /// `filestream_containers` containers whose files are chosen deterministically from `seed`.
    #[must_use]
    pub fn new(
        name: &str,
        seed: u64,
        size_bytes: u64,
        recovery: RecoveryModel,
        filestream_containers: u16,
    ) -> Self {
        let pages = size_bytes.div_ceil(PAGE_SIZE as u64).max(1) as usize;
        let mut rng = fastrand::Rng::with_seed(seed ^ 0xF5F5_0000);
        let filestream = (0..filestream_containers)
            .map(|_| FsContainer {
                files: (0..rng.u32(3..=6))
                    .map(|_| FsFile {
                        size: rng.u64(0..=256 * 1024),
                        version: 1,
                    })
                    .collect(),
            })
            .collect();
        Database {
            name: name.to_owned(),
            seed,
            content_key: page::content_key(name, seed),
            recovery,
            page_versions: vec![1; pages],
            page_lsns: vec![0; pages],
            log_file_bytes: (pages as u64 * PAGE_SIZE as u64 / 4).max(512 * 1024),
            filestream,
            next_lsn: INITIAL_LSN,
            log: Vec::new(),
            log_retained_from: None,
            log_backup_point: None,
            differential_base: None,
            sql: None,
            marks: Vec::new(),
            damaged_pages: Vec::new(),
            clock: epoch(),
            log_chain_begins: false,
            offline_files: Vec::new(),
            pending_layout: None,
            last_checkpoint: None,
        }
    }

    /// Rebuilds a database from restored content; it has no backup history.
    pub(crate) fn from_restored(
        meta: &BackupMeta,
        page_versions: Vec<u32>,
        page_lsns: Vec<Lsn>,
        filestream: Vec<FsContainer>,
    ) -> Self {
        Database {
            name: meta.database.clone(),
            seed: meta.seed,
            content_key: meta.content_key,
            recovery: meta.recovery,
            page_versions,
            page_lsns,
            log_file_bytes: meta.log_file_bytes,
            filestream,
            next_lsn: meta.last_lsn,
            log: Vec::new(),
            log_retained_from: None,
            log_backup_point: None,
            differential_base: None,
            sql: None,
            marks: Vec::new(),
            damaged_pages: Vec::new(),
            clock: epoch(),
            log_chain_begins: false,
            offline_files: Vec::new(),
            pending_layout: None,
            last_checkpoint: None,
        }
    }

    /// The SQL metadata (set by the catalog when the database joins it).
    ///
    /// # Panics
    /// If called before the catalog gave the database its metadata.
    #[must_use]
    pub fn sql_info(&self) -> &DatabaseInfo {
        self.sql
            .as_ref()
            .expect("catalog assigns SQL metadata on insert")
    }

    /// The SQL metadata, for changes (ALTER DATABASE, CREATE USER …).
    ///
    /// # Panics
    /// As [`Database::sql_info`].
    pub fn sql_info_mut(&mut self) -> &mut DatabaseInfo {
        self.sql
            .as_mut()
            .expect("catalog assigns SQL metadata on insert")
    }

    /// Whether the catalog has given it metadata yet.
    #[must_use]
    pub fn has_sql_info(&self) -> bool {
        self.sql.is_some()
    }

    /// Sets the SQL metadata; the name and recovery model follow the database's own, and a
    /// restored database's files are the ones its backup recorded.
    pub fn set_sql_info(&mut self, mut info: DatabaseInfo) {
        if let Some((files, groups)) = self.pending_layout.take() {
            apply_layout(&mut info, &files, &groups);
        }
        info.name.clone_from(&self.name);
        if info.recovery_model != tsql::catalog::RecoveryModel::BulkLogged {
            info.recovery_model = match self.recovery {
                RecoveryModel::Full => tsql::catalog::RecoveryModel::Full,
                RecoveryModel::Simple => tsql::catalog::RecoveryModel::Simple,
            };
        }
        self.sql = Some(info);
    }

    /// Records a marked transaction committed now, at the current end of the log, whose work
    /// began at `begin_lsn` (`None`: at the end of the log too).
    pub fn add_mark(
        &mut self,
        name: &str,
        description: Option<&str>,
        time: DateTime,
        begin_lsn: Option<Lsn>,
    ) {
        self.marks.push(Mark {
            name: name.to_owned(),
            description: description.map(str::to_owned),
            lsn: self.next_lsn,
            begin_lsn: Some(begin_lsn.unwrap_or(self.next_lsn).min(self.next_lsn)),
            time,
        });
    }

    /// Sets the time the next changes are stamped with (the engine's clock).
    pub fn set_clock(&mut self, now: DateTime) {
        self.clock = self.clock.max(now);
    }

    /// The time the last change was stamped with.
    #[must_use]
    pub fn clock(&self) -> DateTime {
        self.clock
    }

    #[must_use]
    pub fn marks(&self) -> &[Mark] {
        &self.marks
    }

    /// Marks a page damaged (DBCC CHECKDB then fails).
    pub fn damage_page(&mut self, page: u64) {
        if !self.damaged_pages.contains(&page) {
            self.damaged_pages.push(page);
        }
    }

    /// DBCC CHECKDB: `Err` names the first damaged page.
    pub fn check_consistency(&self) -> Result<(), String> {
        match self.damaged_pages.first() {
            Some(page) => Err(format!(
                "Page (1:{page}) could not be processed. See other errors for details."
            )),
            None => Ok(()),
        }
    }

    /// Checks the internal consistency of a deserialised database.
    pub fn validate(&self) -> Result<(), &'static str> {
        let pages = self.page_versions.len() as u64;
        if pages == 0 || self.page_lsns.len() as u64 != pages {
            return Err("page tables have different lengths");
        }
        if self.name.is_empty() {
            return Err("empty name");
        }
        if self
            .log
            .iter()
            .any(|r| r.page >= pages || r.lsn >= self.next_lsn)
            || self.page_lsns.iter().any(|&l| l >= self.next_lsn)
        {
            return Err("log or page LSNs out of range");
        }
        Ok(())
    }

    /// The database name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the database (RESTORE under another name); content is unaffected.
    pub fn set_name(&mut self, name: &str) {
        name.clone_into(&mut self.name);
        if let Some(sql) = &mut self.sql {
            name.clone_into(&mut sql.name);
        }
    }

    /// The seed given at creation.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The key all content derives from.
    #[must_use]
    pub fn content_key(&self) -> u64 {
        self.content_key
    }

    /// FULL or SIMPLE.
    #[must_use]
    pub fn recovery(&self) -> RecoveryModel {
        self.recovery
    }

    /// ALTER DATABASE ... SET RECOVERY. Switching to SIMPLE breaks the log chain; after switching
    /// back to FULL a full backup is needed before BACKUP LOG works again.
    pub fn set_recovery(&mut self, recovery: RecoveryModel) {
        if let Some(sql) = &mut self.sql {
            sql.recovery_model = match recovery {
                RecoveryModel::Full => tsql::catalog::RecoveryModel::Full,
                RecoveryModel::Simple => tsql::catalog::RecoveryModel::Simple,
            };
        }
        if recovery == RecoveryModel::Simple {
            self.log.clear();
            self.log_retained_from = None;
            self.log_backup_point = None;
        }
        self.recovery = recovery;
    }

    /// Number of data pages.
    #[must_use]
    pub fn page_count(&self) -> u64 {
        self.page_versions.len() as u64
    }

    /// Size of the data file in bytes.
    #[must_use]
    pub fn data_bytes(&self) -> u64 {
        self.page_count() * PAGE_SIZE as u64
    }

    /// Size of the log file in bytes.
    #[must_use]
    pub fn log_file_bytes(&self) -> u64 {
        self.log_file_bytes
    }

    /// The version of page `page`, if it exists.
    #[must_use]
    pub fn page_version(&self, page: u64) -> Option<u32> {
        self.page_versions.get(page as usize).copied()
    }

    /// Writes the current content of `page` into `out` (`PAGE_SIZE` bytes).
    ///
    /// # Panics
    /// If the page does not exist or `out` is not one page long.
    pub fn read_page(&self, page: u64, out: &mut [u8]) {
        page::fill_page(
            self.content_key,
            page,
            self.page_versions[page as usize],
            out,
        );
    }

    /// The FILESTREAM containers.
    #[must_use]
    pub fn filestream(&self) -> &[FsContainer] {
        &self.filestream
    }

    /// The LSN the next change will get.
    #[must_use]
    pub fn next_lsn(&self) -> Lsn {
        self.next_lsn
    }

    /// The log records currently kept for the next log backup.
    #[must_use]
    pub fn retained_log(&self) -> &[LogRecord] {
        &self.log
    }

    /// The file list (FILELISTONLY).
    #[must_use]
    pub fn files(&self) -> Vec<FileInfo> {
        // The primary data file and the first log file carry the names the catalog shows
        // (CREATE DATABASE … ON (NAME = …)), so MOVE and FILELISTONLY agree with it.
        let named = |kind: tsql::catalog::FileType| {
            self.sql
                .as_ref()
                .and_then(|s| s.files.iter().find(|f| f.file_type == kind))
                .map(|f| (f.name.clone(), f.physical_name.clone()))
        };
        let (data_name, data_path) = named(tsql::catalog::FileType::Rows)
            .unwrap_or_else(|| (self.name.clone(), format!("{}.mdf", self.name)));
        let (log_name, log_path) = named(tsql::catalog::FileType::Log).unwrap_or_else(|| {
            (
                format!("{}_log", self.name),
                format!("{}_log.ldf", self.name),
            )
        });
        let mut files = vec![
            FileInfo {
                kind: FileKind::Data,
                index: 0,
                logical_name: data_name,
                physical_name: data_path,
                size_bytes: self.data_bytes(),
            },
            FileInfo {
                kind: FileKind::Log,
                index: 0,
                logical_name: log_name,
                physical_name: log_path,
                size_bytes: self.log_file_bytes,
            },
        ];
        for (i, c) in self.filestream.iter().enumerate() {
            files.push(FileInfo {
                kind: FileKind::Filestream,
                index: i as u16,
                logical_name: format!("{}_fs{i}", self.name),
                physical_name: format!("{}_fs{i}", self.name),
                size_bytes: c.size_bytes(),
            });
        }
        files
    }

    /// Changes `n_pages` randomly chosen pages (a page may be picked twice), one LSN each.
    /// Returns the LSN range `[first, last)` of the changes.
    pub fn modify(&mut self, n_pages: usize, rng: &mut fastrand::Rng) -> (Lsn, Lsn) {
        let first = self.next_lsn;
        let pages = self.page_versions.len() as u64;
        for _ in 0..n_pages {
            let page = rng.u64(0..pages);
            let version = self.page_versions[page as usize].wrapping_add(1).max(1);
            self.page_versions[page as usize] = version;
            let lsn = self.next_lsn;
            self.next_lsn += 1;
            self.page_lsns[page as usize] = lsn;
            if self.log_retained_from.is_some() {
                self.log.push(LogRecord {
                    lsn,
                    page,
                    version,
                    time: self.clock,
                });
            }
        }
        (first, self.next_lsn)
    }

    /// A seeded workload of `changes` page changes.
    pub fn run_workload(&mut self, changes: usize, seed: u64) -> (Lsn, Lsn) {
        let mut rng = fastrand::Rng::with_seed(seed);
        self.modify(changes, &mut rng)
    }

    pub(crate) fn apply_pages(&mut self, pages: &[PageEntry]) {
        for p in pages {
            self.page_versions[p.page as usize] = p.version;
            self.page_lsns[p.page as usize] = p.lsn;
        }
    }

    pub(crate) fn apply_log(&mut self, records: &[LogRecord], from: Lsn) {
        for r in records.iter().filter(|r| r.lsn >= from) {
            self.page_versions[r.page as usize] = r.version;
            self.page_lsns[r.page as usize] = r.lsn;
        }
    }

    pub(crate) fn set_next_lsn(&mut self, lsn: Lsn) {
        self.next_lsn = lsn;
    }

    /// A cheap fingerprint of the logical state: the content key, every page version and every
    /// FILESTREAM file's size and version. Content is a function of these, so equal hashes mean
    /// equal content (up to hash collisions) without generating a single page.
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::with_seed(self.content_key);
        let mut chunk = [0u8; 4096];
        for versions in self.page_versions.chunks(chunk.len() / 4) {
            for (out, v) in chunk.chunks_exact_mut(4).zip(versions) {
                out.copy_from_slice(&v.to_le_bytes());
            }
            h.update(&chunk[..versions.len() * 4]);
        }
        for c in &self.filestream {
            h.update(&(c.files.len() as u64).to_le_bytes());
            for f in &c.files {
                h.update(&f.size.to_le_bytes());
                h.update(&f.version.to_le_bytes());
            }
        }
        h.digest()
    }

    /// Computes the digest of every page and FILESTREAM file.
    #[must_use]
    pub fn digest(&self) -> DatabaseDigest {
        DatabaseDigest::of(self)
    }

    /// Compares content with another database: `Err` names the first difference.
    pub fn compare(&self, other: &Database) -> Result<(), Difference> {
        match self.digest().first_difference(&other.digest()) {
            None => Ok(()),
            Some(d) => Err(d),
        }
    }

    pub(crate) fn page_versions(&self) -> &[u32] {
        &self.page_versions
    }
}
