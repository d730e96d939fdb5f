//! The registry of system objects, name resolution, and the views by area.

pub mod connections;
pub mod databases;
pub mod dmf;
pub mod dmv;
pub mod files;
pub mod msdb_extra;
pub mod objects;
pub mod security;
pub mod server;
pub mod space;
pub mod types;

use super::model::{DatabaseInfo, DatabaseState};
use super::snapshot::ServerSnapshot;
use crate::ast::expr::ObjectName;
use crate::messages::SqlMessage;
use crate::value::Table;

/// Where a system object lives and how it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `sys.x`, the same rows from every database.
    Server,
    /// `sys.x`, rows of the database it is named through (or the current one).
    Database,
    /// A SQL Server 2000 compatibility view (`sysdatabases`): `sys.`, `dbo.` or no schema.
    Compat,
    /// `INFORMATION_SCHEMA.x`, database-scoped.
    InformationSchema,
    /// `msdb.dbo.x`.
    Msdb,
}

/// What a view is built from: the snapshot and the database it is seen through.
#[derive(Debug, Clone, Copy)]
pub struct ViewContext<'a> {
    pub snapshot: &'a ServerSnapshot,
    pub database: &'a DatabaseInfo,
}

type Builder = fn(&ViewContext<'_>) -> Table;

/// One system object.
#[derive(Debug, Clone, Copy)]
pub struct SystemObject {
    pub name: &'static str,
    pub kind: Kind,
    /// Negative for sys and INFORMATION_SCHEMA views, as SQL Server's are.
    pub object_id: i32,
    build: Builder,
}

macro_rules! objects {
    ($( $name:literal, $kind:ident, $id:literal, $build:expr; )*) => {
        /// Every system object vdisim serves.
        pub static OBJECTS: &[SystemObject] = &[
            $( SystemObject { name: $name, kind: Kind::$kind, object_id: $id, build: $build }, )*
        ];
    };
}

objects! {
    "databases", Server, -1001, |c| databases::databases(c.snapshot);
    "sysdatabases", Compat, -1002, |c| databases::sysdatabases(c.snapshot);
    "database_recovery_status", Server, -1003, |c| databases::database_recovery_status(c.snapshot);
    "database_mirroring", Server, -1004, |c| databases::database_mirroring(c.snapshot);
    "configurations", Server, -1005, objects::configurations;
    "master_files", Server, -1006, |c| files::master_files(c.snapshot);
    "server_principals", Server, -1007, |c| security::server_principals(c.snapshot);
    "sql_logins", Server, -1008, |c| security::sql_logins(c.snapshot);
    "server_role_members", Server, -1009, |c| security::server_role_members(c.snapshot);
    "dm_exec_requests", Server, -1010, |c| dmv::dm_exec_requests(c.snapshot);
    "dm_exec_sessions", Server, -1011, |c| dmv::dm_exec_sessions(c.snapshot);
    "sysprocesses", Compat, -1012, |c| dmv::sysprocesses(c.snapshot);
    "availability_groups", Server, -1013, |_| dmv::availability_groups();
    "availability_replicas", Server, -1014, |_| dmv::availability_replicas();
    "dm_hadr_database_replica_states", Server, -1015, |_| dmv::dm_hadr_database_replica_states();
    "dm_hadr_availability_replica_states", Server, -1016, |_| dmv::dm_hadr_availability_replica_states();
    "dm_os_host_info", Server, -1017, |_| server::dm_os_host_info();
    "backup_devices", Server, -1018, |_| server::backup_devices();
    "dm_database_encryption_keys", Server, -1019, |_| server::dm_database_encryption_keys();
    "dm_exec_connections", Server, -1020, |c| connections::dm_exec_connections(c.snapshot);
    "dm_tran_locks", Server, -1021, |c| connections::dm_tran_locks(c.snapshot);
    "endpoints", Server, -1022, |_| connections::endpoints();
    "dm_db_log_space_usage", Database, -1109, space::dm_db_log_space_usage;
    "dm_db_file_space_usage", Database, -1110, space::dm_db_file_space_usage;
    "database_files", Database, -1104, files::database_files;
    "filegroups", Database, -1105, files::filegroups;
    "database_principals", Database, -1106, security::database_principals;
    "database_role_members", Database, -1107, security::database_role_members;
    "types", Database, -1108, types::types;
    "schemas", Database, -1101, objects::schemas;
    "objects", Database, -1102, objects::objects;
    "tables", Database, -1103, objects::tables;
    "TABLES", InformationSchema, -1201, objects::information_schema_tables;
    "COLUMNS", InformationSchema, -1202, objects::information_schema_columns;
    "SCHEMATA", InformationSchema, -1203, objects::information_schema_schemata;
    "backupset", Msdb, 1_000_001, |c| msdb_table(c, "backupset");
    "backupmediaset", Msdb, 1_000_002, |c| msdb_table(c, "backupmediaset");
    "backupmediafamily", Msdb, 1_000_003, |c| msdb_table(c, "backupmediafamily");
    "backupfile", Msdb, 1_000_004, |c| msdb_table(c, "backupfile");
    "backupfilegroup", Msdb, 1_000_005, |c| msdb_table(c, "backupfilegroup");
    "restorehistory", Msdb, 1_000_006, |c| msdb_table(c, "restorehistory");
    "restorefile", Msdb, 1_000_007, |c| msdb_table(c, "restorefile");
    "restorefilegroup", Msdb, 1_000_008, |c| msdb_table(c, "restorefilegroup");
    "log_shipping_primary_databases", Msdb, 1_000_009, |_| msdb_extra::log_shipping_primary_databases();
    "log_shipping_secondary_databases", Msdb, 1_000_010, |_| msdb_extra::log_shipping_secondary_databases();
    "suspect_pages", Msdb, 1_000_011, |_| msdb_extra::suspect_pages();
}

/// msdb tables a `DELETE` may name; vdisim keeps them empty, so it removes nothing.
pub const DELETABLE_EMPTY: &[&str] = &["suspect_pages"];

fn msdb_table(c: &ViewContext<'_>, name: &str) -> Table {
    c.snapshot.msdb.table(name).unwrap_or_default()
}

/// A name resolved to a system object and the database it is seen through.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub object: &'static SystemObject,
    /// The database named in the name or else the current one.
    pub database: String,
    /// Whether the name named the database explicitly.
    pub explicit_database: bool,
}

fn schema_fits(kind: Kind, schema: Option<&str>) -> bool {
    let is = |s: &str| schema.is_some_and(|x| x.eq_ignore_ascii_case(s));
    let default = schema.is_none_or(str::is_empty);
    match kind {
        Kind::Server | Kind::Database => is("sys"),
        Kind::Compat => default || is("sys") || is("dbo"),
        Kind::InformationSchema => is("INFORMATION_SCHEMA"),
        Kind::Msdb => default || is("dbo"),
    }
}

/// Resolves a one- to four-part name to a system object.
#[must_use]
pub fn resolve(
    name: &ObjectName,
    current_database: &str,
    snapshot: &ServerSnapshot,
) -> Option<Resolved> {
    let parts = &name.parts;
    let n = parts.len();
    if n == 0 || n > 4 {
        return None;
    }
    if n == 4
        && !parts[0].is_empty()
        && !parts[0].eq_ignore_ascii_case(&snapshot.server.server_name())
    {
        return None;
    }
    let object_name = parts[n - 1].as_str();
    let schema = (n >= 2).then(|| parts[n - 2].as_str());
    let named_db = (n >= 3)
        .then(|| parts[n - 3].as_str())
        .filter(|s| !s.is_empty());
    let database = named_db.unwrap_or(current_database);
    let object = OBJECTS.iter().find(|o| {
        o.name.eq_ignore_ascii_case(object_name)
            && schema_fits(o.kind, schema)
            && (o.kind != Kind::Msdb || database.eq_ignore_ascii_case("msdb"))
    })?;
    // A name through a database that does not exist is an invalid object (208), as in SQL
    // Server.
    if object.kind != Kind::Msdb {
        snapshot.database(database)?;
    }
    Some(Resolved {
        object,
        database: database.to_owned(),
        explicit_database: named_db.is_some(),
    })
}

/// The message SQL Server gives when a database that is not online is used.
#[must_use]
pub fn unavailable(db: &DatabaseInfo) -> Option<SqlMessage> {
    let name = &db.name;
    let (number, text) = match db.state {
        DatabaseState::Online | DatabaseState::Emergency => return None,
        DatabaseState::Restoring => (
            927,
            format!("Database '{name}' cannot be opened. It is in the middle of a restore."),
        ),
        DatabaseState::Offline => (
            942,
            format!("Database '{name}' cannot be opened because it is offline."),
        ),
        DatabaseState::Recovering => (
            922,
            format!("Database '{name}' is being recovered. Waiting until recovery is finished."),
        ),
        DatabaseState::RecoveryPending | DatabaseState::Suspect => (
            926,
            format!(
                "Database '{name}' cannot be opened. It has been marked SUSPECT by recovery. See the SQL Server errorlog for more information."
            ),
        ),
    };
    Some(SqlMessage::new(number, 14, 1, 0, text))
}

/// Builds a resolved object's table.
pub fn build(resolved: &Resolved, snapshot: &ServerSnapshot) -> Result<Table, SqlMessage> {
    // msdb's tables work even when a bare snapshot lists no msdb database.
    let fallback;
    let database = match snapshot.database(&resolved.database) {
        Some(db) => db,
        None => {
            fallback = DatabaseInfo::system("msdb", snapshot.server.start_time)
                .ok_or_else(|| crate::messages::invalid_object(0, resolved.object.name))?;
            &fallback
        }
    };
    let scoped = matches!(
        resolved.object.kind,
        Kind::Database | Kind::InformationSchema | Kind::Msdb
    );
    if (scoped || resolved.explicit_database)
        && let Some(msg) = unavailable(database)
    {
        return Err(msg);
    }
    Ok((resolved.object.build)(&ViewContext { snapshot, database }))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dmv;
