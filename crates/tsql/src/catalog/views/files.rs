//! `sys.master_files` (every database), `sys.database_files` and `sys.filegroups` (the
//! database they are seen through).

use super::ViewContext;
use crate::catalog::model::{DatabaseFile, DatabaseInfo, FileState};
use crate::catalog::snapshot::ServerSnapshot;
use crate::catalog::table::*;
use crate::value::{SYSNAME, Table, Value};

/// The columns `sys.master_files` and `sys.database_files` share, after `database_id`.
const FILE_COLUMNS: &[Spec] = &[
    ("file_id", INT, false),
    ("file_guid", GUID, true),
    ("type", TINYINT, false),
    ("type_desc", DESC, true),
    ("data_space_id", INT, false),
    ("name", SYSNAME, false),
    ("physical_name", nvarchar(260), false),
    ("state", TINYINT, true),
    ("state_desc", DESC, true),
    ("size", INT, false),
    ("max_size", INT, false),
    ("growth", INT, false),
    ("is_media_read_only", BIT, false),
    ("is_read_only", BIT, false),
    ("is_sparse", BIT, false),
    ("is_percent_growth", BIT, false),
    ("is_name_reserved", BIT, false),
    ("is_persistent_log_buffer", BIT, false),
    ("create_lsn", LSN, true),
    ("drop_lsn", LSN, true),
    ("read_only_lsn", LSN, true),
    ("read_write_lsn", LSN, true),
    ("differential_base_lsn", LSN, true),
    ("differential_base_guid", GUID, true),
    ("differential_base_time", DATETIME, true),
    ("redo_start_lsn", LSN, true),
    ("redo_start_fork_guid", GUID, true),
    ("redo_target_lsn", LSN, true),
    ("redo_target_fork_guid", GUID, true),
    ("backup_lsn", LSN, true),
];

fn file_values(db: &DatabaseInfo, f: &DatabaseFile) -> Vec<Value> {
    // The redo columns are only set while a restore is rolling the file forward.
    let restoring = matches!(f.state, FileState::Restoring | FileState::RecoveryPending);
    let redo_start = if restoring {
        lsn(f.backup_lsn.or(f.create_lsn))
    } else {
        Value::Null
    };
    let redo_fork = if restoring {
        guid(Some(db.recovery_fork_guid))
    } else {
        Value::Null
    };
    vec![
        int(f.file_id),
        guid(Some(f.file_guid)),
        int(f.file_type.code()),
        text(f.file_type.desc()),
        int(f.data_space_id),
        text(f.name.clone()),
        text(f.physical_name.clone()),
        int(f.state.code()),
        text(f.state.desc()),
        int(f.size_pages),
        int(f.max_size_pages),
        int(f.growth),
        bit(false),
        bit(f.is_read_only),
        bit(false),
        bit(f.is_percent_growth),
        bit(false),
        bit(false),
        lsn(f.create_lsn),
        Value::Null,
        Value::Null,
        Value::Null,
        lsn(f.differential_base_lsn),
        guid(f.differential_base_guid),
        opt_datetime(f.differential_base_time),
        redo_start.clone(),
        redo_fork.clone(),
        redo_start,
        redo_fork,
        lsn(f.backup_lsn),
    ]
}

/// `sys.master_files`: every file of every database.
#[must_use]
pub fn master_files(snap: &ServerSnapshot) -> Table {
    let mut specs = vec![("database_id", INT, false)];
    specs.extend_from_slice(FILE_COLUMNS);
    specs.push(("credential_id", INT, true));
    let mut t = table(&specs);
    for db in snap.databases_by_id() {
        for f in &db.files {
            let mut row = vec![int(db.database_id)];
            row.extend(file_values(db, f));
            row.push(Value::Null);
            t.push(row);
        }
    }
    t
}

/// `sys.database_files`: the files of the database it is seen through.
#[must_use]
pub fn database_files(c: &ViewContext<'_>) -> Table {
    let mut t = table(FILE_COLUMNS);
    for f in &c.database.files {
        t.push(file_values(c.database, f));
    }
    t
}

/// `sys.filegroups`: sys.data_spaces' columns and the filegroup ones.
#[must_use]
pub fn filegroups(c: &ViewContext<'_>) -> Table {
    let mut t = table(&[
        ("name", SYSNAME, false),
        ("data_space_id", INT, false),
        ("type", char(2), false),
        ("type_desc", DESC, true),
        ("is_default", BIT, true),
        ("is_system", BIT, true),
        ("filegroup_guid", GUID, true),
        ("log_filegroup_id", INT, true),
        ("is_read_only", BIT, true),
        ("is_autogrow_all_files", BIT, true),
    ]);
    for g in &c.database.filegroups {
        t.push(vec![
            text(g.name.clone()),
            int(g.data_space_id),
            text(g.filegroup_type.code()),
            text(g.filegroup_type.desc()),
            bit(g.is_default),
            bit(false),
            guid(g.filegroup_guid),
            Value::Null,
            bit(g.is_read_only),
            bit(false),
        ]);
    }
    t
}
