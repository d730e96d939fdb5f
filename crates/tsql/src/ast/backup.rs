//! BACKUP and RESTORE statements: SQL Server 2022's whole grammar. Options the user left out
//! are `None` (or `false`), so the engine applies its own defaults; what each option does in
//! vdisim is listed in docs/backup-restore.md.

use serde::Serialize;

use crate::messages::Operation;
use crate::value::DateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BackupKind {
    Database,
    Log,
}

/// A backup device that is not a virtual device: vdisim refuses it when the statement runs
/// (3206 for a logical device, 3011 when mixed with VIRTUAL_DEVICE, otherwise 59007).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherDevice {
    pub kind: DeviceType,
    /// The physical name (DISK, TAPE, URL) or the logical device's name.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DeviceType {
    Disk,
    Tape,
    Url,
    /// `TO name` / `TO @v`: a device created with sp_addumpdevice.
    Logical,
}

impl DeviceType {
    #[must_use]
    pub fn keyword(self) -> &'static str {
        match self {
            DeviceType::Disk => "DISK",
            DeviceType::Tape => "TAPE",
            DeviceType::Url => "URL",
            DeviceType::Logical => "LOGICAL",
        }
    }
}

/// `FILE = …`, `FILEGROUP = …`, `READ_WRITE_FILEGROUPS` and (RESTORE) `PAGE = '…'` after the
/// database name: which part of the database a backup or restore covers. Empty: all of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileSelection {
    /// Logical file names, in statement order.
    pub files: Vec<String>,
    /// Filegroup names, in statement order.
    pub filegroups: Vec<String>,
    /// `READ_WRITE_FILEGROUPS`: a partial backup or restore.
    pub read_write_filegroups: bool,
    /// RESTORE only: `PAGE = 'file:page, …'` as written.
    pub pages: Option<String>,
}

impl FileSelection {
    /// Whether the statement covers the whole database.
    #[must_use]
    pub fn is_whole_database(&self) -> bool {
        self.files.is_empty()
            && self.filegroups.is_empty()
            && !self.read_write_filegroups
            && self.pages.is_none()
    }
}

/// `BACKUP DATABASE|LOG database [files] TO device [, …] [WITH …]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupStatement {
    pub kind: BackupKind,
    pub database: String,
    /// The VIRTUAL_DEVICE names, in order; the first is the virtual device set name. Names
    /// are checked when the statement runs (3044 empty, 3057 too long, 3201 twice).
    pub devices: Vec<String>,
    /// Every other device the statement names.
    pub other_devices: Vec<OtherDevice>,
    /// BACKUP DATABASE only.
    pub files: FileSelection,
    pub options: BackupOptions,
    /// Variables written in place of names or option values; the interpreter substitutes
    /// them before the statement runs.
    pub variables: Vec<VariableSlot>,
}

impl BackupStatement {
    /// The virtual device set to open: the first device name.
    pub fn set_name(&self) -> &str {
        self.devices.first().map_or("", String::as_str)
    }

    /// The operation named in 3013/3014 messages.
    pub fn operation(&self) -> Operation {
        match (self.kind, self.options.differential) {
            (BackupKind::Log, _) => Operation::BackupLog,
            (BackupKind::Database, true) => Operation::BackupDatabaseDifferential,
            (BackupKind::Database, false) => Operation::BackupDatabase,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RestoreKind {
    Database,
    Log,
    VerifyOnly,
    HeaderOnly,
    FileListOnly,
    LabelOnly,
}

/// `RESTORE DATABASE|LOG name [files] [FROM …] [WITH …]` or
/// `RESTORE VERIFYONLY|HEADERONLY|FILELISTONLY|LABELONLY FROM … [WITH …]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreStatement {
    pub kind: RestoreKind,
    /// Present exactly for `Database` and `Log`.
    pub database: Option<String>,
    /// The VIRTUAL_DEVICE names, as for [`BackupStatement::devices`]. Empty only for
    /// `RESTORE DATABASE|LOG name [WITH RECOVERY …]` without FROM, which only recovers.
    pub devices: Vec<String>,
    /// Every other device the statement names.
    pub other_devices: Vec<OtherDevice>,
    /// RESTORE DATABASE|LOG only.
    pub files: FileSelection,
    pub options: RestoreOptions,
    /// As for [`BackupStatement::variables`].
    pub variables: Vec<VariableSlot>,
}

/// A variable standing where BACKUP or RESTORE takes a name or an option value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableSlot {
    pub slot: Slot,
    /// With the `@`.
    pub variable: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Slot {
    Database,
    /// The n-th VIRTUAL_DEVICE (0-based).
    Device(usize),
    /// The n-th other device (0-based).
    OtherDevice(usize),
    /// The n-th `FILE =` of the file list.
    File(usize),
    /// The n-th `FILEGROUP =` of the file list.
    Filegroup(usize),
    /// `PAGE = @v`.
    Page,
    /// A WITH option that takes a value (`NAME`, `DESCRIPTION`, `STOPAT`, `STOPATMARK`, `AFTER`
    /// (of a mark), `BLOCKSIZE` …), upper-cased. The parser leaves the option's value at its
    /// default.
    Option(String),
    /// The logical (`physical: false`) or physical name of `options.moves[index]` in
    /// `MOVE @logical TO @physical`; the parser leaves that name empty.
    Move {
        index: usize,
        physical: bool,
    },
}

impl RestoreStatement {
    /// The virtual device set to open, if the statement reads a backup at all.
    pub fn set_name(&self) -> Option<&str> {
        self.devices.first().map(String::as_str)
    }

    pub fn operation(&self) -> Operation {
        match self.kind {
            RestoreKind::Database => Operation::RestoreDatabase,
            RestoreKind::Log => Operation::RestoreLog,
            RestoreKind::VerifyOnly => Operation::RestoreVerifyOnly,
            RestoreKind::HeaderOnly => Operation::RestoreHeaderOnly,
            RestoreKind::FileListOnly => Operation::RestoreFileListOnly,
            RestoreKind::LabelOnly => Operation::RestoreLabelOnly,
        }
    }
}

/// BLOCKSIZE, MAXTRANSFERSIZE and BUFFERCOUNT, already validated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TransferOptions {
    /// A power of two from 512 to 65536.
    pub block_size: Option<u32>,
    /// A multiple of 65536 from 65536 to 4194304.
    pub max_transfer_size: Option<u32>,
    /// 1 to [`crate::options::MAX_BUFFER_COUNT`].
    pub buffer_count: Option<u32>,
}

/// What the database is left in after a restore (or a tail-log backup).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RecoveryOption {
    Recovery,
    NoRecovery,
    /// `STANDBY = 'undo file'`
    Standby(String),
}

/// `COMPRESSION [(ALGORITHM = name)]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compression {
    /// `MS_XPRESS` (the default) or `QAT_DEFLATE`, upper-cased.
    pub algorithm: Option<String>,
}

/// `ENCRYPTION (ALGORITHM = …, SERVER CERTIFICATE = … | SERVER ASYMMETRIC KEY = …)`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Encryption {
    /// AES_128, AES_192, AES_256 or TRIPLE_DES_3KEY, upper-cased.
    pub algorithm: String,
    /// `Certificate` or `Asymmetric Key` (as HEADERONLY's EncryptorType shows it).
    pub encryptor_type: String,
    pub encryptor: String,
}

/// The WITH options of a BACKUP. Paired switches (FORMAT/NOFORMAT …) are `Some(true)` for the
/// first form, `Some(false)` for the NO form and `None` when not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackupOptions {
    pub transfer: TransferOptions,
    pub format: Option<bool>,
    pub init: Option<bool>,
    pub skip: Option<bool>,
    pub compression: Option<bool>,
    /// `COMPRESSION (ALGORITHM = …)`.
    pub compression_algorithm: Option<String>,
    pub checksum: Option<bool>,
    /// CONTINUE_AFTER_ERROR = `Some(true)`, STOP_ON_ERROR = `Some(false)`.
    pub continue_after_error: Option<bool>,
    pub copy_only: bool,
    /// Only on BACKUP DATABASE.
    pub differential: bool,
    /// `STATS` alone is `Some(10)`; always 1 to 100.
    pub stats: Option<u8>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub media_name: Option<String>,
    pub media_description: Option<String>,
    /// RETAINDAYS: days from now until the backup set expires.
    pub retain_days: Option<u32>,
    /// EXPIREDATE.
    pub expire_date: Option<DateTime>,
    pub encryption: Option<Encryption>,
    pub unload: Option<bool>,
    pub rewind: Option<bool>,
    /// RESTART (accepted and ignored, as by SQL Server since 2008).
    pub restart: bool,
    /// Only on BACKUP LOG: NORECOVERY or STANDBY (a tail-log backup).
    pub recovery: Option<RecoveryOption>,
    /// Only on BACKUP LOG.
    pub no_truncate: bool,
    /// SNAPSHOT or METADATA_ONLY (BACKUP DATABASE only): a snapshot backup through VDI, or
    /// the end of a T-SQL snapshot backup when the database is suspended (docs/snapshots.md).
    pub snapshot: bool,
}

/// `MOVE 'logical' TO 'path'`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMove {
    pub logical_name: String,
    pub physical_name: String,
}

/// Where a point-in-time restore stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum StopPoint {
    /// `STOPAT = 'datetime'`
    At(DateTime),
    /// `STOPATMARK = 'mark' | 'lsn:n' [AFTER 'datetime']`
    AtMark {
        mark: String,
        after: Option<DateTime>,
    },
    /// `STOPBEFOREMARK = 'mark' | 'lsn:n' [AFTER 'datetime']`
    BeforeMark {
        mark: String,
        after: Option<DateTime>,
    },
}

/// ENABLE_BROKER, ERROR_BROKER_CONVERSATIONS, NEW_BROKER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BrokerOption {
    Enable,
    ErrorConversations,
    New,
}

/// The WITH options of any RESTORE. Which ones a kind accepts is checked by the parser.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RestoreOptions {
    pub transfer: TransferOptions,
    pub checksum: Option<bool>,
    pub continue_after_error: Option<bool>,
    pub stats: Option<u8>,
    pub replace: bool,
    pub recovery: Option<RecoveryOption>,
    /// In statement order; may be empty.
    pub moves: Vec<FileMove>,
    /// The backup set position, 1 or more.
    pub file: Option<u32>,
    pub stop: Option<StopPoint>,
    pub media_name: Option<String>,
    pub password: Option<String>,
    pub media_password: Option<String>,
    pub unload: Option<bool>,
    pub rewind: Option<bool>,
    /// PARTIAL: the first step of a piecemeal restore.
    pub partial: bool,
    pub keep_replication: bool,
    pub keep_cdc: bool,
    pub broker: Option<BrokerOption>,
    pub restricted_user: bool,
    /// VERIFYONLY: record the backup set in msdb.
    pub load_history: bool,
    /// RESTART (accepted and ignored).
    pub restart: bool,
    /// CREDENTIAL (for URL devices; accepted and ignored).
    pub credential: Option<String>,
    /// `FILESTREAM (DIRECTORY_NAME = name)`.
    pub filestream_directory: Option<String>,
    /// SNAPSHOT or METADATA_ONLY (RESTORE DATABASE only): the data files come from the
    /// client's snapshot, only the metadata from the device (docs/snapshots.md).
    pub snapshot: bool,
}
