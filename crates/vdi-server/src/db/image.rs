//! The logical content of one backup, independent of how it is laid out on the media.
//!
//! `Database::prepare_backup` produces a [`BackupImage`], the stream producer serialises it, the
//! restore assembler rebuilds an equal one, and [`crate::db::RestoreState`] applies it.

use serde::{Deserialize, Serialize};

use super::{FsContainer, LogRecord, Lsn, RecoveryModel};

/// What a backup contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BackupKind {
    /// Every page and every FILESTREAM file.
    Full,
    /// The pages changed since the differential base (the last full backup).
    Differential,
    /// The log records since the previous log backup.
    Log,
}

impl BackupKind {
    /// The code used in the stream headers.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            BackupKind::Full => 1,
            BackupKind::Differential => 2,
            BackupKind::Log => 3,
        }
    }

    /// The inverse of [`BackupKind::code`].
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(BackupKind::Full),
            2 => Some(BackupKind::Differential),
            3 => Some(BackupKind::Log),
            _ => None,
        }
    }
}

/// The kind of a database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileKind {
    /// The `.mdf` data file.
    Data,
    /// The `.ldf` log file.
    Log,
    /// A FILESTREAM container (a directory).
    Filestream,
}

impl FileKind {
    /// The code used in the stream.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            FileKind::Data => 0,
            FileKind::Log => 1,
            FileKind::Filestream => 2,
        }
    }

    /// The inverse of [`FileKind::code`].
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(FileKind::Data),
            1 => Some(FileKind::Log),
            2 => Some(FileKind::Filestream),
            _ => None,
        }
    }
}

/// One row of RESTORE FILELISTONLY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Data, log or FILESTREAM.
    pub kind: FileKind,
    /// 0 for data and log; the container number for FILESTREAM.
    pub index: u16,
    /// The logical name (`<db>`, `<db>_log`, `<db>_fs<i>`).
    pub logical_name: String,
    /// The physical name (`<db>.mdf`, `<db>_log.ldf`, `<db>_fs<i>`).
    pub physical_name: String,
    /// Size in bytes.
    pub size_bytes: u64,
}

/// Everything about a backup except its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupMeta {
    /// The database that was backed up.
    pub database: String,
    /// Full, differential or log.
    pub kind: BackupKind,
    /// The recovery model at backup time.
    pub recovery: RecoveryModel,
    /// The database's seed.
    pub seed: u64,
    /// The key all page content derives from (survives a restore under another name).
    pub content_key: u64,
    /// First LSN covered (inclusive).
    pub first_lsn: Lsn,
    /// End of the backup (exclusive): a restore of this backup leaves the database here.
    pub last_lsn: Lsn,
    /// The checkpoint taken by a full or differential backup (`first_lsn` for a log backup).
    pub checkpoint_lsn: Lsn,
    /// Differential: the checkpoint of its base. Full: the previous full's checkpoint or 0.
    /// Log: 0.
    pub differential_base_lsn: Lsn,
    /// Size of the data file in pages.
    pub db_pages: u64,
    /// Size of the log file in bytes.
    pub log_file_bytes: u64,
    /// The file list (data, log, containers).
    pub files: Vec<FileInfo>,
    /// [`crate::db::Database::state_hash`] of the state this backup restores to (with its
    /// chain); [`crate::db::RestoreState`] checks it after applying the backup.
    pub state_hash: u64,
}

/// A page as it appears in a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEntry {
    /// Page number in the data file.
    pub page: u64,
    /// Content version.
    pub version: u32,
    /// LSN of the last change to the page (0 if never changed).
    pub lsn: Lsn,
}

/// The logical content of one backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupImage {
    /// Headers.
    pub meta: BackupMeta,
    /// Full: every page in order. Differential: changed pages in order. Log: empty.
    pub pages: Vec<PageEntry>,
    /// Log: records in LSN order. Otherwise empty.
    pub log: Vec<LogRecord>,
    /// Full: every container. Otherwise empty.
    pub filestream: Vec<FsContainer>,
}

impl BackupImage {
    /// Number of FILESTREAM bytes in the image.
    #[must_use]
    pub fn filestream_bytes(&self) -> u64 {
        self.filestream.iter().map(FsContainer::size_bytes).sum()
    }
}
