//! Name resolution and the views' shapes.

use super::table::check::{assert_typed, cell, names};
use super::*;
use crate::value::{SqlType, Value};

fn name(parts: &[&str]) -> ObjectName {
    ObjectName::new(parts.iter().copied())
}

fn view(parts: &[&str], current: &str) -> Table {
    system_table(&name(parts), current, &ServerSnapshot::sample())
        .expect("a system object")
        .expect("builds")
}

#[test]
fn sys_databases_has_sql_server_2022s_columns_in_order() {
    let t = view(&["sys", "databases"], "master");
    let cols = names(&t);
    assert_eq!(cols.len(), 89);
    assert_eq!(
        &cols[..8],
        [
            "name",
            "database_id",
            "source_database_id",
            "owner_sid",
            "create_date",
            "compatibility_level",
            "collation_name",
            "user_access"
        ]
    );
    assert_eq!(cols[13], "state_desc");
    assert_eq!(cols[21], "recovery_model_desc");
    assert_eq!(cols[53], "log_reuse_wait_desc");
    assert_eq!(
        &cols[86..],
        [
            "is_data_retention_enabled",
            "is_ledger_on",
            "is_change_feed_enabled"
        ]
    );
    let ty = |c: &str| t.columns[t.column_index(c).unwrap()].ty;
    assert_eq!(ty("name"), crate::value::SYSNAME);
    assert_eq!(ty("database_id"), SqlType::Int);
    assert_eq!(ty("state"), SqlType::TinyInt);
    assert_eq!(ty("recovery_model_desc"), SqlType::NVarChar(Some(60)));
    assert_eq!(ty("create_date"), SqlType::DateTime);
    assert_eq!(ty("owner_sid"), SqlType::VarBinary(Some(85)));
    assert_eq!(ty("service_broker_guid"), SqlType::UniqueIdentifier);
    assert!(!t.columns[0].nullable && !t.columns[1].nullable);
    assert_typed(&t);
}

#[test]
fn sys_databases_rows_follow_the_snapshot() {
    let t = view(&["sys", "databases"], "master");
    let names: Vec<&Value> = (0..t.rows.len()).map(|r| cell(&t, r, "name")).collect();
    assert_eq!(
        names,
        [
            "master", "tempdb", "model", "msdb", "pubs", "archive", "staging"
        ]
        .map(Value::text)
        .iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(cell(&t, 4, "recovery_model_desc"), &Value::text("FULL"));
    assert_eq!(cell(&t, 4, "recovery_model"), &Value::Int(1));
    assert_eq!(
        cell(&t, 4, "log_reuse_wait_desc"),
        &Value::text("LOG_BACKUP")
    );
    assert_eq!(cell(&t, 5, "recovery_model_desc"), &Value::text("SIMPLE"));
    assert_eq!(cell(&t, 5, "is_read_only"), &Value::Bit(true));
    assert_eq!(cell(&t, 6, "state"), &Value::Int(1));
    assert_eq!(cell(&t, 6, "state_desc"), &Value::text("RESTORING"));
    assert_eq!(cell(&t, 6, "collation_name"), &Value::Null);
    assert_eq!(cell(&t, 4, "compatibility_level"), &Value::Int(160));
    assert_eq!(cell(&t, 4, "user_access_desc"), &Value::text("MULTI_USER"));
    assert_eq!(cell(&t, 0, "owner_sid"), &Value::Binary(vec![1]));
}

#[test]
fn names_resolve_as_sql_server_resolves_them() {
    let snap = ServerSnapshot::sample();
    let found = |parts: &[&str], current: &str| {
        views::resolve(&name(parts), current, &snap).map(|r| (r.object.name, r.database))
    };
    for parts in [
        &["sys", "databases"][..],
        &["SYS", "Databases"],
        &["master", "sys", "databases"],
        &["pubs", "sys", "databases"],
        &["", "master", "sys", "databases"],
        &["VDISIM01", "master", "sys", "databases"],
    ] {
        assert_eq!(
            found(parts, "pubs").map(|f| f.0),
            Some("databases"),
            "{parts:?}"
        );
    }
    assert_eq!(
        found(&["msdb", "dbo", "backupset"], "master"),
        Some(("backupset", "msdb".into()))
    );
    assert_eq!(
        found(&["msdb", "", "backupset"], "master"),
        Some(("backupset", "msdb".into()))
    );
    assert_eq!(
        found(&["backupset"], "msdb"),
        Some(("backupset", "msdb".into()))
    );
    assert_eq!(
        found(&["dbo", "BackupSet"], "MSDB"),
        Some(("backupset", "MSDB".into()))
    );
    assert_eq!(
        found(&["sysdatabases"], "pubs").map(|f| f.0),
        Some("sysdatabases")
    );
    assert_eq!(
        found(&["master", "", "sysdatabases"], "pubs").map(|f| f.0),
        Some("sysdatabases")
    );
    assert_eq!(
        found(&["master", "dbo", "sysdatabases"], "pubs").map(|f| f.0),
        Some("sysdatabases")
    );
    assert_eq!(
        found(&["INFORMATION_SCHEMA", "tables"], "pubs").map(|f| f.0),
        Some("TABLES")
    );
    assert_eq!(
        found(&["sys", "tables"], "pubs").map(|f| f.0),
        Some("tables")
    );
    // Not system objects, or not reachable that way: the caller reports 208.
    assert_eq!(found(&["databases"], "master"), None);
    assert_eq!(found(&["dbo", "databases"], "master"), None);
    assert_eq!(found(&["backupset"], "master"), None);
    assert_eq!(found(&["master", "dbo", "backupset"], "master"), None);
    assert_eq!(found(&["sys", "backupset"], "msdb"), None);
    assert_eq!(found(&["nosuchdb", "sys", "databases"], "master"), None);
    assert_eq!(
        found(&["OTHERSRV", "master", "sys", "databases"], "master"),
        None
    );
    assert_eq!(found(&["sys", "nosuchview"], "master"), None);
    assert_eq!(found(&["a", "b", "c", "d", "e"], "master"), None);
}

#[test]
fn a_database_that_is_not_online_cannot_be_read_through() {
    let snap = ServerSnapshot::sample();
    let err = system_table(
        &name(&["staging", "sys", "database_files"]),
        "master",
        &snap,
    );
    assert_eq!(err.unwrap().unwrap_err().number, 927);
    let mut offline = snap.clone();
    offline.databases[5].state = DatabaseState::Offline;
    let err = system_table(&name(&["archive", "sys", "tables"]), "master", &offline)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (err.number, err.text.as_str()),
        (
            942,
            "Database 'archive' cannot be opened because it is offline."
        )
    );
    let err = system_table(&name(&["staging", "sys", "objects"]), "master", &snap)
        .unwrap()
        .unwrap_err();
    assert_eq!((err.number, err.level), (927, 14));
    assert_eq!(
        err.text,
        "Database 'staging' cannot be opened. It is in the middle of a restore."
    );
    // A server-wide view named without the database still works from anywhere.
    assert!(
        system_table(&name(&["sys", "databases"]), "master", &snap)
            .unwrap()
            .is_ok()
    );
}

#[test]
fn sysdatabases_and_recovery_status_and_mirroring() {
    let t = view(&["master", "dbo", "sysdatabases"], "pubs");
    assert_eq!(
        names(&t),
        [
            "name",
            "dbid",
            "sid",
            "mode",
            "status",
            "status2",
            "crdate",
            "reserved",
            "category",
            "cmptlevel",
            "filename",
            "version"
        ]
    );
    assert_typed(&t);
    // archive: SIMPLE (8), read-only (1024), CHECKSUM (65536).
    assert_eq!(cell(&t, 5, "status"), &Value::Int(8 | 1024 | 65_536));
    assert_eq!(cell(&t, 6, "status"), &Value::Int(32 | 65_536));
    assert_eq!(
        cell(&t, 4, "filename"),
        &Value::text("/var/opt/mssql/data/pubs.mdf")
    );

    let t = view(&["sys", "database_recovery_status"], "master");
    assert_eq!(
        names(&t),
        [
            "database_id",
            "database_guid",
            "family_guid",
            "last_log_backup_lsn",
            "recovery_fork_guid",
            "first_recovery_fork_guid",
            "fork_point_lsn"
        ]
    );
    assert_typed(&t);
    assert_eq!(
        cell(&t, 4, "last_log_backup_lsn"),
        &table::lsn(Some(37_000_000_012_800_001))
    );
    assert_eq!(cell(&t, 6, "database_guid"), &Value::Null);

    let t = view(&["sys", "database_mirroring"], "master");
    assert_eq!(t.columns.len(), 21);
    assert_eq!(t.rows.len(), 7);
    assert_eq!(cell(&t, 0, "mirroring_guid"), &Value::Null);
    assert_typed(&t);
}

#[test]
fn objects_schemas_and_information_schema() {
    let t = view(&["sys", "schemas"], "pubs");
    assert_eq!(names(&t), ["name", "schema_id", "principal_id"]);
    assert_typed(&t);
    let objs = view(&["msdb", "sys", "objects"], "pubs");
    assert_typed(&objs);
    assert!(objs.rows.iter().any(|r| r[0] == Value::text("backupset")));
    let pubs_objs = view(&["sys", "objects"], "pubs");
    assert!(pubs_objs.rows.is_empty());
    let tables = view(&["sys", "tables"], "msdb");
    assert_typed(&tables);
    assert_eq!(tables.columns.len(), 12 + 36);
    let cols = view(&["INFORMATION_SCHEMA", "COLUMNS"], "msdb");
    assert_typed(&cols);
    let first = cols
        .rows
        .iter()
        .find(|r| r[2] == Value::text("backupset"))
        .unwrap();
    assert_eq!(first[3], Value::text("backup_set_id"));
    assert_eq!(first[7], Value::text("int"));
    let lsn = cols
        .rows
        .iter()
        .find(|r| r[3] == Value::text("first_lsn"))
        .unwrap();
    assert_eq!(
        (&lsn[7], &lsn[10], &lsn[12]),
        (&Value::text("numeric"), &Value::Int(25), &Value::Int(0))
    );
    assert_typed(&view(&["INFORMATION_SCHEMA", "TABLES"], "msdb"));
    assert_typed(&view(&["INFORMATION_SCHEMA", "SCHEMATA"], "pubs"));
    let conf = view(&["sys", "configurations"], "pubs");
    assert_typed(&conf);
    assert!(
        conf.rows
            .iter()
            .any(|r| r[1] == Value::text("backup compression default") && r[5] == Value::Int(0))
    );
}

#[test]
fn every_registered_object_builds_a_typed_table_from_every_online_database() {
    let snap = ServerSnapshot::sample();
    for db in snap
        .databases
        .iter()
        .filter(|d| d.state == DatabaseState::Online)
    {
        for o in views::OBJECTS {
            let schema = match o.kind {
                views::Kind::InformationSchema => "INFORMATION_SCHEMA",
                views::Kind::Msdb => "dbo",
                _ => "sys",
            };
            let db_name = if o.kind == views::Kind::Msdb {
                "msdb"
            } else {
                db.name.as_str()
            };
            let t = system_table(&name(&[db_name, schema, o.name]), "master", &snap)
                .unwrap_or_else(|| panic!("{db_name}.{schema}.{} resolves", o.name))
                .unwrap();
            assert_typed(&t);
        }
    }
}
