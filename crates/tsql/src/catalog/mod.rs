//! The catalog views and server functions, derived from a snapshot of the live server.
//!
//! The server fills a [`ServerSnapshot`] from its live state; this module turns it into what
//! SQL Server 2022 shows:
//! - [`system_table`]: catalog views (`sys.databases`, …), `INFORMATION_SCHEMA` views and
//!   msdb's history tables as typed [`Table`]s, resolved by name as SQL Server resolves them;
//! - [`functions::call`] and [`functions::system_variable`]: SERVERPROPERTY, DB_ID,
//!   DATABASEPROPERTYEX, @@VERSION and friends;
//! - [`procedures::call`]: the read-only system procedures (sp_helpdb, sp_who, xp_msver, …).

pub mod args;
pub mod civil;
pub mod functions;
pub mod model;
pub mod principals;
pub mod procedures;
pub mod sessions;
pub mod snapshot;
pub mod table;
pub mod views;

pub use args::ProcArg;
pub use functions::FunctionContext;
pub use model::{
    DatabaseFile, DatabaseInfo, DatabaseState, FileState, FileType, Filegroup, FilegroupType, Guid,
    LogReuseWait, Lsn, RecoveryModel, SpaceUsage, TableInfo, UserAccess,
};
pub use principals::{
    DatabasePrincipal, DatabasePrincipalType, DatabasePrincipals, LoginInfo, LoginType,
};
pub use sessions::{RequestInfo, RequestStatus, SessionInfo, SessionStatus};
pub use snapshot::{ConfigOption, ServerInfo, ServerSnapshot};

use crate::ast::expr::ObjectName;
use crate::messages::SqlMessage;
use crate::value::Table;

/// A catalog view, `INFORMATION_SCHEMA` view or msdb table by name, as a typed table; `None`
/// when the name is not a system object vdisim knows (the caller reports Msg 208).
///
/// Names resolve as SQL Server resolves them, case-insensitively: `sys.databases`,
/// `master.sys.databases`, `[master].[sys].[databases]`, `SRV.master.sys.databases` (this
/// server's name only), `msdb.dbo.backupset`, `msdb..backupset`, `backupset` with msdb
/// current. Database-scoped views (`sys.database_files`, `sys.filegroups`,
/// `INFORMATION_SCHEMA.TABLES`, …) describe the named database or else `current_database`.
/// A database that is not online gives SQL Server's Msg 927/942/926.
#[must_use]
pub fn system_table(
    name: &ObjectName,
    current_database: &str,
    snapshot: &ServerSnapshot,
) -> Option<Result<Table, SqlMessage>> {
    let resolved = views::resolve(name, current_database, snapshot)?;
    Some(views::build(&resolved, snapshot))
}

/// A dynamic management function in FROM or APPLY (`sys.dm_db_log_stats(DB_ID())`,
/// `sys.dm_exec_sql_text(r.sql_handle)` …) as a typed table; `None` when the name is not one
/// (the caller reports Msg 208).
#[must_use]
pub fn system_function_table(
    name: &ObjectName,
    args: &[(crate::value::SqlType, crate::value::Value)],
    current_database: &str,
    snapshot: &ServerSnapshot,
) -> Option<Result<Table, SqlMessage>> {
    views::dmf::call(name, args, current_database, snapshot)
}

/// Whether `DELETE` may name this system table: an msdb table vdisim keeps empty
/// (`msdb.dbo.suspect_pages`), from which it removes nothing.
#[must_use]
pub fn deletable_empty_table(
    name: &ObjectName,
    current_database: &str,
    snapshot: &ServerSnapshot,
) -> bool {
    views::resolve(name, current_database, snapshot).is_some_and(|r| {
        r.object.kind == views::Kind::Msdb && views::DELETABLE_EMPTY.contains(&r.object.name)
    })
}

/// The object id of a system object (for OBJECT_ID), by the same resolution as
/// [`system_table`].
#[must_use]
pub fn system_object_id(
    name: &ObjectName,
    current_database: &str,
    snapshot: &ServerSnapshot,
) -> Option<i32> {
    views::resolve(name, current_database, snapshot).map(|r| r.object.object_id)
}

#[cfg(test)]
mod tests;
