//! Database DDL, security statements, and DML on temporary tables.

use serde::Serialize;

use super::expr::{Expr, ObjectName};
use super::query::Query;
use crate::value::SqlType;

/// A size as written in a file specification: `SIZE = 10MB`, `FILEGROWTH = 10%`,
/// `MAXSIZE = UNLIMITED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FileSize {
    /// Bytes (KB, MB, GB and TB suffixes applied; MB when none is written).
    Bytes(u64),
    Percent(u32),
    Unlimited,
}

/// `(NAME = logical, FILENAME = 'physical', SIZE = …, MAXSIZE = …, FILEGROWTH = …)`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSpec {
    pub logical_name: String,
    /// Absent only in ALTER DATABASE … MODIFY FILE.
    pub physical_name: Option<String>,
    pub size: Option<FileSize>,
    pub max_size: Option<FileSize>,
    pub growth: Option<FileSize>,
    /// MODIFY FILE (NAME = x, NEWNAME = y).
    pub new_name: Option<String>,
}

/// `FILEGROUP name [CONTAINS FILESTREAM] [DEFAULT] (file, …)`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilegroupSpec {
    pub name: String,
    pub filestream: bool,
    pub default: bool,
    pub files: Vec<FileSpec>,
}

/// `ALTER DATABASE name …`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AlterDatabaseAction {
    /// `SET RECOVERY FULL|SIMPLE|BULK_LOGGED`
    Recovery(super::RecoveryModel),
    /// `SET SINGLE_USER|RESTRICTED_USER|MULTI_USER [WITH ROLLBACK IMMEDIATE | ROLLBACK AFTER n
    /// [SECONDS] | NO_WAIT]`
    UserAccess {
        access: UserAccess,
        termination: Option<Termination>,
    },
    /// `SET OFFLINE|ONLINE|EMERGENCY [WITH …]`
    State {
        state: DatabaseStateChange,
        termination: Option<Termination>,
    },
    /// `SET READ_ONLY|READ_WRITE [WITH …]`
    ReadOnly {
        read_only: bool,
        termination: Option<Termination>,
    },
    /// Any other `SET option value` (AUTO_CLOSE OFF, PAGE_VERIFY CHECKSUM,
    /// COMPATIBILITY_LEVEL = 160, SUSPEND_FOR_SNAPSHOT_BACKUP = ON …): upper-cased option and
    /// value text.
    SetOther {
        option: String,
        value: String,
    },
    ModifyFile(FileSpec),
    /// `ADD FILE (…) [, (…)] [TO FILEGROUP fg]`
    AddFiles {
        files: Vec<FileSpec>,
        filegroup: Option<String>,
    },
    /// `ADD LOG FILE (…)`
    AddLogFiles(Vec<FileSpec>),
    /// `ADD FILEGROUP fg [CONTAINS FILESTREAM]`
    AddFilegroup {
        name: String,
        filestream: bool,
    },
    /// `REMOVE FILE name`
    RemoveFile(String),
    /// `MODIFY NAME = new`
    Rename(String),
    /// `MODIFY FILEGROUP fg DEFAULT|READ_ONLY|READ_WRITE|NAME = x`: upper-cased words.
    ModifyFilegroup {
        name: String,
        change: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UserAccess {
    SingleUser,
    RestrictedUser,
    MultiUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DatabaseStateChange {
    Online,
    Offline,
    Emergency,
}

/// `WITH ROLLBACK IMMEDIATE`, `WITH ROLLBACK AFTER n [SECONDS]`, `WITH NO_WAIT`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Termination {
    RollbackImmediate,
    RollbackAfter(u32),
    NoWait,
}

/// `CREATE LOGIN name WITH PASSWORD = '…' [, DEFAULT_DATABASE = db, CHECK_POLICY = OFF …]`
/// or `CREATE LOGIN [DOMAIN\user] FROM WINDOWS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateLogin {
    pub name: String,
    /// `None` for FROM WINDOWS / FROM CERTIFICATE.
    pub password: Option<String>,
    pub default_database: Option<String>,
    /// Other options, upper-cased `NAME=value` text, accepted and ignored.
    pub other_options: Vec<String>,
}

/// `ALTER SERVER ROLE role ADD|DROP MEMBER login`, `ALTER ROLE role ADD|DROP MEMBER user`,
/// `EXEC sp_addsrvrolemember` is a procedure, not this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlterRoleMembership {
    pub server_role: bool,
    pub role: String,
    pub member: String,
    pub add: bool,
}

/// `CREATE USER name [FOR|FROM LOGIN login | WITHOUT LOGIN] [WITH DEFAULT_SCHEMA = s]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateUser {
    pub name: String,
    pub login: Option<String>,
}

/// `GRANT|DENY|REVOKE permission[, …] [ON object] TO principal[, …]` (database or server
/// scope), kept as words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub action: PermissionAction,
    /// Upper-cased: `BACKUP DATABASE`, `BACKUP LOG`, `CREATE ANY DATABASE`, `VIEW SERVER STATE`.
    pub permissions: Vec<String>,
    pub on: Option<String>,
    pub principals: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PermissionAction {
    Grant,
    Deny,
    Revoke,
}

/// A column of `CREATE TABLE #t (…)` or `DECLARE @t TABLE (…)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDefinition {
    pub name: String,
    pub ty: SqlType,
    pub nullable: bool,
    pub default: Option<Expr>,
    /// `IDENTITY(seed, increment)`
    pub identity: Option<(i64, i64)>,
}

/// `CREATE TABLE #t (…)` (temporary tables only; a permanent table gets vdisim's message).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateTable {
    pub name: ObjectName,
    pub columns: Vec<ColumnDefinition>,
}

/// Where `INSERT` takes its rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum InsertSource {
    Values(Vec<Vec<Expr>>),
    Query(Box<Query>),
    /// `INSERT … EXEC proc …`: the procedure's first result set.
    Exec(Box<super::procedural::Exec>),
    DefaultValues,
}

/// `INSERT [INTO] #t|@t [(cols)] VALUES …|SELECT …|EXEC …`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insert {
    pub target: ObjectName,
    pub columns: Vec<String>,
    pub source: InsertSource,
}

/// `UPDATE #t|@t|alias SET col = expr, … [FROM …] [WHERE …]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    pub target: ObjectName,
    pub assignments: Vec<(String, Expr)>,
    pub from: Vec<super::query::TableRef>,
    pub selection: Option<Expr>,
}

/// `DELETE [FROM] #t|@t [WHERE …]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delete {
    pub target: ObjectName,
    pub selection: Option<Expr>,
}
