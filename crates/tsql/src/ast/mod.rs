//! The statements the front end understands. Options the user left out are `None`, so the engine
//! applies its own defaults.

pub mod ddl;
pub mod expr;
pub mod procedural;
pub mod query;

use serde::Serialize;

use crate::messages::Operation;
pub use ddl::*;
pub use expr::*;
pub use procedural::*;
pub use query::*;

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
    /// `ALTER DATABASE name SET RECOVERY FULL|SIMPLE` (the old parser's form; the new one
    /// gives [`StatementKind::AlterDatabase`]).
    AlterDatabaseRecovery {
        database: String,
        model: RecoveryModel,
    },
    /// `ALTER DATABASE name|CURRENT action`
    AlterDatabase {
        /// `None` for `ALTER DATABASE CURRENT`.
        database: Option<String>,
        action: AlterDatabaseAction,
    },
    /// `SELECT @@VERSION` / `SELECT @@SERVERNAME` (the old parser's form; the new one gives
    /// [`StatementKind::Select`]).
    SelectSystemVariable(SystemVariable),
    /// `SELECT name FROM sys.databases [ORDER BY name [ASC|DESC]]` (old parser's form).
    SelectDatabaseNames {
        order: Option<SortOrder>,
    },
    /// Any query; a SELECT made only of `@v = …` items assigns and returns nothing.
    Select(Query),
    /// `USE name`
    Use {
        database: String,
    },
    /// `PRINT 'text'` / `PRINT @@VERSION` (old parser's form).
    Print(PrintValue),
    /// `PRINT expr`
    PrintExpr(Expr),
    /// `WAITFOR DELAY 'hh:mm:ss'`; parsed only, the engine decides whether to wait.
    WaitForDelay {
        milliseconds: u64,
    },
    /// `WAITFOR DELAY|TIME expr` (the new parser's form, which allows variables).
    WaitFor(WaitFor),
    /// `DBCC VDISIM_WORKLOAD ('database', pages)` (vdisim's extension).
    Workload {
        database: String,
        pages: u32,
    },
    /// Any other DBCC command.
    Dbcc(Dbcc),
    /// `CHECKPOINT [duration]`
    Checkpoint,
    Declare(Vec<VariableDeclaration>),
    /// `DECLARE @t TABLE (…)`
    DeclareTable {
        name: String,
        columns: Vec<ColumnDefinition>,
    },
    /// `DECLARE name CURSOR … FOR select`
    DeclareCursor(DeclareCursor),
    /// `OPEN cursor`
    OpenCursor(String),
    /// `FETCH … cursor [INTO …]`
    Fetch(Fetch),
    /// `CLOSE cursor`
    CloseCursor(String),
    /// `DEALLOCATE cursor`
    DeallocateCursor(String),
    SetVariable(SetVariable),
    SetOption(SetOption),
    If(If),
    While(While),
    Break,
    Continue,
    /// `RETURN [expr]`
    Return(Option<Expr>),
    /// `BEGIN … END`
    Block(Vec<Statement>),
    TryCatch(TryCatch),
    Raiserror(Raiserror),
    Throw(Throw),
    Exec(Exec),
    BeginTransaction(BeginTransaction),
    /// `COMMIT [TRAN[SACTION] [name]]` / `COMMIT WORK`; the name is not kept.
    Commit,
    /// `ROLLBACK [TRAN[SACTION] [name|@v]]` / `ROLLBACK WORK`; the name (a transaction's or a
    /// savepoint's) is not kept.
    Rollback,
    /// `SAVE TRAN[SACTION] name`
    SaveTransaction(Expr),
    CreateLogin(CreateLogin),
    /// `DROP LOGIN name`
    DropLogin(String),
    /// `ALTER LOGIN name ENABLE|DISABLE|WITH PASSWORD = '…'`: upper-cased rest, ignored.
    AlterLogin {
        name: String,
        password: Option<String>,
        enable: Option<bool>,
    },
    CreateUser(CreateUser),
    /// `DROP USER [IF EXISTS] name`
    DropUser(String),
    AlterRoleMembership(AlterRoleMembership),
    Permission(Permission),
    CreateTable(CreateTable),
    /// `DROP TABLE [IF EXISTS] #t [, …]`
    DropTable {
        if_exists: bool,
        names: Vec<ObjectName>,
    },
    Insert(Insert),
    Update(Update),
    Delete(Delete),
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
    /// The n-th device (0-based).
    Device(usize),
    /// A WITH option that takes a value (`NAME`, `DESCRIPTION`, `STOPAT`, `MEDIANAME`,
    /// `STOPATMARK` …), upper-cased. The parser leaves the option's value at its default.
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateDatabaseStatement {
    pub name: String,
    /// `ON [PRIMARY] (file, …)`: the primary filegroup's files, in order.
    pub primary_files: Vec<FileSpec>,
    /// `, FILEGROUP fg (file, …)` after the primary files.
    pub filegroups: Vec<FilegroupSpec>,
    /// `LOG ON (file, …)`.
    pub log_files: Vec<FileSpec>,
    /// `COLLATE name`.
    pub collation: Option<String>,
    /// `FOR ATTACH`: accepted and refused by the engine.
    pub for_attach: bool,
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
    BulkLogged,
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
