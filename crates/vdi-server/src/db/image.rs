//! The logical content of one backup, independent of how it is laid out on the media.
//!
//! `Database::prepare_backup` produces a [`BackupImage`], the stream producer serialises it, the
//! restore assembler rebuilds an equal one, and [`crate::db::RestoreState`] applies it.

use serde::{Deserialize, Serialize};

use tsql::value::DateTime;

use super::{FsContainer, LogRecord, Lsn, Mark, RecoveryModel};

/// A `uniqueidentifier`.
pub type Guid = [u8; 16];

/// What a backup contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum BackupKind {
    /// Every page and every FILESTREAM file (of the files in scope).
    #[default]
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
    /// What RESTORE HEADERONLY and msdb show about the backup (the stream carries it in the
    /// set header's extension).
    #[serde(default)]
    pub info: BackupInfo,
}

/// The SQL-visible description of a backup set: dates, GUIDs, flags, the marks in a log
/// backup. None of it is needed to rebuild the content.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BackupInfo {
    /// The checkpoint LSN of the full backup the chain hangs on (for a full backup: the
    /// previous full backup's); 0 when there is none.
    pub database_backup_lsn: Lsn,
    /// COPY_ONLY: the backup changes neither the differential base nor the log chain.
    pub copy_only: bool,
    /// When the backup took its checkpoint (a log backup: when it read the end of the log).
    pub start: Option<DateTime>,
    /// When the headers were written (the finish time proper is known only to msdb).
    pub finish: Option<DateTime>,
    /// EXPIREDATE or RETAINDAYS.
    pub expiration: Option<DateTime>,
    pub media_name: Option<String>,
    pub media_description: Option<String>,
    pub user_name: String,
    pub server_name: String,
    pub database_creation_date: Option<DateTime>,
    pub collation: String,
    pub compatibility_level: u8,
    #[serde(with = "hex_guid")]
    pub database_guid: Guid,
    #[serde(with = "hex_guid")]
    pub family_guid: Guid,
    #[serde(with = "hex_guid")]
    pub recovery_fork_guid: Guid,
    #[serde(with = "hex_guid")]
    pub backup_set_guid: Guid,
    #[serde(with = "hex_guid::option")]
    pub differential_base_guid: Option<Guid>,
    pub is_read_only: bool,
    pub is_single_user: bool,
    /// The first log backup of a chain.
    pub begins_log_chain: bool,
    /// A tail-log backup WITH NORECOVERY (or STANDBY): the database was left restoring.
    pub force_offline: bool,
    /// A log backup taken WITH NORECOVERY, STANDBY or NO_TRUNCATE (SQL Server's tail-log
    /// backups).
    pub tail: bool,
    /// A log backup: the latest time a restore of it can stop at.
    pub last_valid_restore_time: Option<DateTime>,
    /// A log backup: the marked transactions whose mark lies in its LSN range.
    pub marks: Vec<Mark>,
    /// ENCRYPTION (ALGORITHM = …): the algorithm name; the data itself is not encrypted.
    pub encryption: Option<String>,
    /// FILE = / FILEGROUP =: the data files the backup holds (`None`: every file).
    pub file_scope: Option<Vec<i32>>,
    /// READ_WRITE_FILEGROUPS: a partial backup.
    pub partial: bool,
    /// The database's files as the backup saw them (RESTORE FILELISTONLY, MOVE).
    pub files: Vec<super::SqlFile>,
    pub filegroups: Vec<super::SqlFilegroup>,
}

impl BackupInfo {
    /// HEADERONLY's BackupType: 1 database, 2 log, 4 file or filegroup, 5 differential
    /// database, 6 differential file, 7 partial, 8 differential partial.
    #[must_use]
    pub fn backup_type(&self, kind: BackupKind) -> i16 {
        match (kind, self.partial, self.file_scope.is_some()) {
            (BackupKind::Log, ..) => 2,
            (BackupKind::Full, true, _) => 7,
            (BackupKind::Full, false, true) => 4,
            (BackupKind::Full, false, false) => 1,
            (BackupKind::Differential, true, _) => 8,
            (BackupKind::Differential, false, true) => 6,
            (BackupKind::Differential, false, false) => 5,
        }
    }
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

/// GUIDs as 32 hex digits in the header's JSON.
pub(super) mod hex_guid {
    use super::Guid;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(g: &Guid, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(g))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Guid, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| serde::de::Error::custom("not a GUID"))
    }

    fn hex(g: &Guid) -> String {
        g.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn parse(text: &str) -> Option<Guid> {
        let mut g = [0u8; 16];
        if text.len() != 32 {
            return None;
        }
        for (i, b) in g.iter_mut().enumerate() {
            *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(g)
    }

    pub mod option {
        use super::Guid;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(g: &Option<Guid>, s: S) -> Result<S::Ok, S::Error> {
            match g {
                Some(g) => s.serialize_str(&super::hex(g)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Guid>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => super::parse(&text)
                    .map(Some)
                    .ok_or_else(|| serde::de::Error::custom("not a GUID")),
                None => Ok(None),
            }
        }
    }
}
