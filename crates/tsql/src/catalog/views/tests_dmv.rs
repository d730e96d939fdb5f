//! Space, I/O, connection and lock DMVs, the dynamic management functions, and msdb's empty
//! tables.

use super::tests::view;
use crate::ast::expr::ObjectName;
use crate::catalog::table::check::{assert_typed, cell, names};
use crate::catalog::{ServerSnapshot, deletable_empty_table, system_function_table};
use crate::value::{SqlType, Table, Value};

fn function(parts: &[&str], args: &[(SqlType, Value)], current: &str) -> Table {
    let t = system_function_table(
        &ObjectName::new(parts.iter().copied()),
        args,
        current,
        &ServerSnapshot::sample(),
    )
    .expect("a function")
    .expect("runs");
    assert_typed(&t);
    t
}

fn int(n: i64) -> (SqlType, Value) {
    (SqlType::Int, Value::Int(n))
}

const NULL: (SqlType, Value) = (SqlType::Int, Value::Null);

#[test]
fn log_space_usage_is_the_current_databases_log() {
    let t = view(&["sys", "dm_db_log_space_usage"], "pubs");
    assert_eq!(
        names(&t),
        [
            "database_id",
            "total_log_size_in_bytes",
            "used_log_space_in_bytes",
            "used_log_space_in_percent",
            "log_space_in_bytes_since_last_backup"
        ]
    );
    assert_eq!(t.rows.len(), 1);
    assert_eq!(cell(&t, 0, "database_id"), &Value::Int(5));
    assert_eq!(cell(&t, 0, "total_log_size_in_bytes"), &Value::Int(8 << 20));
    assert_eq!(cell(&t, 0, "used_log_space_in_bytes"), &Value::Int(2 << 20));
    assert_eq!(
        cell(&t, 0, "used_log_space_in_percent"),
        &Value::Float(25.0)
    );
    // Through another database's name: that database's log.
    let master = view(&["master", "sys", "dm_db_log_space_usage"], "pubs");
    assert_eq!(cell(&master, 0, "database_id"), &Value::Int(1));
}

#[test]
fn file_space_usage_has_a_row_per_data_file() {
    let t = view(&["sys", "dm_db_file_space_usage"], "pubs");
    assert_eq!(t.columns.len(), 11);
    assert_eq!(t.columns[10].name, "modified_extent_page_count");
    // Three data files; the 1,000 used pages fill the first (1,024 pages) in whole extents.
    assert_eq!(t.rows.len(), 3);
    assert_eq!(cell(&t, 0, "total_page_count"), &Value::Int(1024));
    assert_eq!(
        cell(&t, 0, "allocated_extent_page_count"),
        &Value::Int(1000)
    );
    assert_eq!(
        cell(&t, 0, "unallocated_extent_page_count"),
        &Value::Int(24)
    );
    assert_eq!(cell(&t, 0, "modified_extent_page_count"), &Value::Int(104));
    assert_eq!(cell(&t, 1, "allocated_extent_page_count"), &Value::Int(0));
    assert_eq!(cell(&t, 2, "filegroup_id"), &Value::Int(2));
}

#[test]
fn log_stats_by_database_id_or_the_current_one() {
    let t = function(&["sys", "dm_db_log_stats"], &[int(5)], "master");
    assert_eq!(t.columns.len(), 19);
    assert_eq!(t.rows.len(), 1);
    assert_eq!(cell(&t, 0, "recovery_model"), &Value::text("FULL"));
    assert_eq!(
        cell(&t, 0, "log_since_last_log_backup_mb"),
        &Value::Float(2.0)
    );
    assert_eq!(cell(&t, 0, "total_log_size_mb"), &Value::Float(8.0));
    assert_eq!(
        cell(&t, 0, "log_end_lsn"),
        &Value::text("00000025:00000081:0001")
    );
    assert_eq!(
        cell(&t, 0, "log_truncation_holdup_reason"),
        &Value::text("LOG_BACKUP")
    );
    // No log backup in msdb: 1900-01-01, which Ola Hallengren's NULLIF turns into NULL.
    assert_eq!(
        cell(&t, 0, "log_backup_time"),
        &Value::DateTime(crate::value::DateTime::from_parts(1900, 1, 1, 0, 0, 0, 0).unwrap())
    );
    let current = function(&["master", "sys", "dm_db_log_stats"], &[NULL], "pubs");
    assert_eq!(cell(&current, 0, "database_id"), &Value::Int(5));
    assert!(
        function(&["sys", "dm_db_log_stats"], &[int(99)], "pubs")
            .rows
            .is_empty()
    );
}

#[test]
fn functions_check_their_arguments_and_schema() {
    let snap = ServerSnapshot::sample();
    let call = |parts: &[&str], args: &[(SqlType, Value)]| {
        system_function_table(&ObjectName::new(parts.iter().copied()), args, "pubs", &snap)
    };
    let few = call(&["sys", "dm_io_virtual_file_stats"], &[NULL]);
    assert_eq!(few.unwrap().unwrap_err().number, 216);
    let many = call(&["sys", "dm_db_log_stats"], &[NULL, NULL]);
    assert_eq!(many.unwrap().unwrap_err().number, 8144);
    assert!(call(&["dm_db_log_stats"], &[NULL]).is_none());
    assert!(call(&["dbo", "dm_db_log_stats"], &[NULL]).is_none());
    assert!(call(&["nowhere", "sys", "dm_db_log_stats"], &[NULL]).is_none());
    assert!(call(&["sys", "dm_no_such_function"], &[]).is_none());
}

#[test]
fn virtual_file_stats_and_volume_stats() {
    let all = function(&["sys", "dm_io_virtual_file_stats"], &[NULL, NULL], "pubs");
    // Four system databases with two files each, pubs four, archive and staging two each.
    assert_eq!(all.rows.len(), 16);
    let one = function(
        &["sys", "dm_io_virtual_file_stats"],
        &[int(5), int(2)],
        "pubs",
    );
    assert_eq!(one.rows.len(), 1);
    assert_eq!(cell(&one, 0, "size_on_disk_bytes"), &Value::Int(8 << 20));
    assert_eq!(cell(&one, 0, "num_of_writes"), &Value::Int(0));
    let pubs = function(
        &["sys", "dm_io_virtual_file_stats"],
        &[int(5), NULL],
        "pubs",
    );
    assert_eq!(pubs.rows.len(), 4);
    let volume = function(&["sys", "dm_os_volume_stats"], &[int(5), int(1)], "pubs");
    assert_eq!(volume.rows.len(), 1);
    assert_eq!(cell(&volume, 0, "volume_mount_point"), &Value::text("/"));
    let Value::Int(free) = cell(&volume, 0, "available_bytes") else {
        panic!("bigint");
    };
    assert!(*free < 64 << 30);
}

#[test]
fn sql_text_follows_the_requests_handle() {
    let requests = view(&["sys", "dm_exec_requests"], "master");
    let backup = requests
        .rows
        .iter()
        .position(|r| r[4] == Value::text("BACKUP DATABASE"))
        .unwrap();
    let handle = cell(&requests, backup, "sql_handle").clone();
    let Value::Binary(bytes) = &handle else {
        panic!("a handle: {handle:?}");
    };
    assert_eq!(bytes[0], 2);
    // Session 51 has run nothing: no handle.
    let select = 1 - backup;
    assert_eq!(cell(&requests, select, "sql_handle"), &Value::Null);
    let text = function(
        &["sys", "dm_exec_sql_text"],
        &[(SqlType::VarBinary(Some(64)), handle)],
        "master",
    );
    assert_eq!(
        names(&text),
        ["dbid", "objectid", "number", "encrypted", "text"]
    );
    assert_eq!(
        cell(&text, 0, "text"),
        &Value::text("BACKUP DATABASE [pubs] TO VIRTUAL_DEVICE = 'vd'")
    );
    assert_eq!(cell(&text, 0, "dbid"), &Value::Int(5));
    let none = function(&["sys", "dm_exec_sql_text"], &[NULL], "master");
    assert!(none.rows.is_empty());
    let unknown = (
        SqlType::VarBinary(Some(64)),
        Value::Binary(vec![2, 0, 0, 0]),
    );
    assert!(
        function(&["sys", "dm_exec_sql_text"], &[unknown], "master")
            .rows
            .is_empty()
    );
}

#[test]
fn connections_endpoints_and_locks() {
    let c = view(&["sys", "dm_exec_connections"], "master");
    assert_eq!(c.columns.len(), 22);
    assert_eq!(c.rows.len(), 2);
    assert_eq!(cell(&c, 0, "net_transport"), &Value::text("TCP"));
    assert_eq!(cell(&c, 1, "session_id"), &Value::Int(52));
    assert_eq!(cell(&c, 0, "most_recent_sql_handle"), &Value::Null);
    // The connection id is the one sys.dm_exec_requests shows.
    let r = view(&["sys", "dm_exec_requests"], "master");
    let id = cell(&c, 1, "connection_id");
    assert!(r.rows.iter().any(|row| &row[11] == id));
    let e = view(&["sys", "endpoints"], "master");
    assert_eq!(e.rows.len(), 5);
    assert_eq!(cell(&e, 3, "name"), &Value::text("TSQL Default TCP"));
    let l = view(&["sys", "dm_tran_locks"], "master");
    assert_eq!(l.rows.len(), 2);
    assert_eq!(cell(&l, 0, "resource_type"), &Value::text("DATABASE"));
    assert_eq!(cell(&l, 0, "resource_database_id"), &Value::Int(5));
    assert_eq!(cell(&l, 1, "request_session_id"), &Value::Int(52));
}

#[test]
fn msdb_keeps_log_shipping_and_suspect_pages_empty() {
    for name in [
        "log_shipping_primary_databases",
        "log_shipping_secondary_databases",
        "suspect_pages",
    ] {
        let t = view(&["msdb", "dbo", name], "master");
        assert!(t.rows.is_empty(), "{name}");
    }
    let t = view(&["msdb", "dbo", "log_shipping_primary_databases"], "master");
    assert_eq!(t.columns[1].name, "primary_database");
    let snap = ServerSnapshot::sample();
    let name = |parts: &[&str]| ObjectName::new(parts.iter().copied());
    assert!(deletable_empty_table(
        &name(&["msdb", "dbo", "suspect_pages"]),
        "master",
        &snap
    ));
    assert!(deletable_empty_table(
        &name(&["suspect_pages"]),
        "msdb",
        &snap
    ));
    assert!(!deletable_empty_table(
        &name(&["suspect_pages"]),
        "master",
        &snap
    ));
    assert!(!deletable_empty_table(
        &name(&["msdb", "dbo", "backupset"]),
        "master",
        &snap
    ));
}
