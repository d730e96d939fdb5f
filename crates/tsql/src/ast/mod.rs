//! The statements the front end understands. Options the user left out are `None`, so the engine
//! applies its own defaults.

pub mod backup;
pub mod ddl;
pub mod expr;
pub mod procedural;
pub mod query;

use serde::Serialize;

pub use backup::*;
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
    /// `ALTER DATABASE name|CURRENT action`
    AlterDatabase {
        /// `None` for `ALTER DATABASE CURRENT`.
        database: Option<String>,
        action: AlterDatabaseAction,
    },
    /// Any query; a SELECT made only of `@v = …` items assigns and returns nothing.
    Select(Query),
    /// `USE name`
    Use {
        database: String,
    },
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
    /// `ALTER SERVER CONFIGURATION SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON [(GROUP = (db, …),
    /// MODE = COPY_ONLY)] | OFF` (SQL Server 2022). An empty group: every user database.
    SuspendForSnapshot {
        on: bool,
        group: Vec<String>,
        copy_only: bool,
    },
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
    /// `GOTO label`
    Goto(String),
    /// `label:`
    Label(String),
    /// `EXECUTE AS LOGIN|USER = 'name'`: the session runs as that principal until REVERT.
    ExecuteAs {
        /// LOGIN (a server principal) rather than USER (a database one).
        login: bool,
        name: String,
    },
    /// `REVERT`
    Revert,
    /// `KILL session_id [WITH STATUSONLY]`
    Kill {
        session_id: i64,
        status_only: bool,
    },
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
