//! The statements the front end understands. Options the user left out are `None`, so the engine
//! applies its own defaults.

use serde::Serialize;

use crate::messages::Operation;

/// One parsed statement and the batch line it starts on (the line SQL Server reports for errors
/// raised while the statement runs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub line: u32,
    pub kind: StatementKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StatementKind {
    Backup(BackupStatement),
    Restore(RestoreStatement),
    CreateDatabase(CreateDatabaseStatement),
    DropDatabase(DropDatabaseStatement),
    /// `ALTER DATABASE name SET RECOVERY FULL|SIMPLE`
    AlterDatabaseRecovery {
        database: String,
        model: RecoveryModel,
    },
    /// `SELECT @@VERSION` / `SELECT @@SERVERNAME`
    SelectSystemVariable(SystemVariable),
    /// `SELECT name FROM sys.databases [ORDER BY name [ASC|DESC]]`
    SelectDatabaseNames {
        order: Option<SortOrder>,
    },
    /// `USE name`
    Use {
        database: String,
    },
    /// `PRINT 'text'` / `PRINT @@VERSION`
    Print(PrintValue),
    /// `WAITFOR DELAY 'hh:mm:ss'`; parsed only, the engine decides whether to wait.
    WaitForDelay {
        milliseconds: u64,
    },
    /// `DBCC VDISIM_WORKLOAD ('database', pages)` (vdisim's extension).
    Workload {
        database: String,
        pages: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BackupKind {
    Database,
    Log,
}

/// `BACKUP DATABASE|LOG database TO VIRTUAL_DEVICE = '…' [, …] [WITH …]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupStatement {
    pub kind: BackupKind,
    pub database: String,
    /// 1 to 64 distinct names; the first is the virtual device set name.
    pub devices: Vec<String>,
    pub options: BackupOptions,
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

/// `RESTORE DATABASE|LOG name [FROM …] [WITH …]` or
/// `RESTORE VERIFYONLY|HEADERONLY|FILELISTONLY|LABELONLY FROM … [WITH …]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreStatement {
    pub kind: RestoreKind,
    /// Present exactly for `Database` and `Log`.
    pub database: Option<String>,
    /// 0 to 64 distinct names; the first is the virtual device set name. Empty only for
    /// `RESTORE DATABASE|LOG name [WITH RECOVERY …]` without FROM, which only recovers.
    pub devices: Vec<String>,
    pub options: RestoreOptions,
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

/// The WITH options of a BACKUP. Paired switches (FORMAT/NOFORMAT …) are `Some(true)` for the
/// first form, `Some(false)` for the NO form and `None` when not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackupOptions {
    pub transfer: TransferOptions,
    pub format: Option<bool>,
    pub init: Option<bool>,
    pub skip: Option<bool>,
    pub compression: Option<bool>,
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
    pub unload: Option<bool>,
    pub rewind: Option<bool>,
    /// Only on BACKUP LOG: NORECOVERY or STANDBY (a tail-log backup).
    pub recovery: Option<RecoveryOption>,
    /// Only on BACKUP LOG.
    pub no_truncate: bool,
}

/// `MOVE 'logical' TO 'path'`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMove {
    pub logical_name: String,
    pub physical_name: String,
}

/// A validated STOPAT value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SqlDateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millisecond: u16,
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
    pub stop_at: Option<SqlDateTime>,
    pub media_name: Option<String>,
    pub unload: Option<bool>,
    pub rewind: Option<bool>,
}

/// `CREATE DATABASE name [SIZE = n [MB|GB]] [RECOVERY FULL|SIMPLE] [FILESTREAM n]`; the clauses
/// after the name are vdisim's own extension, in any order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateDatabaseStatement {
    pub name: String,
    pub size_mb: Option<u64>,
    pub recovery: Option<RecoveryModel>,
    /// The number of FILESTREAM-style containers.
    pub filestream_containers: Option<u32>,
}

/// `DROP DATABASE [IF EXISTS] name [, name …]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropDatabaseStatement {
    pub if_exists: bool,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RecoveryModel {
    Full,
    Simple,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SystemVariable {
    Version,
    ServerName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SortOrder {
    Ascending,
    Descending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PrintValue {
    Text(String),
    Variable(SystemVariable),
}
