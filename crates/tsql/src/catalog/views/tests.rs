//! Files, security and session views.

use crate::ast::expr::ObjectName;
use crate::catalog::table::check::{assert_typed, cell, names};
use crate::catalog::{ServerSnapshot, system_table};
use crate::value::{SqlType, Table, Value};

pub(super) fn view(parts: &[&str], current: &str) -> Table {
    let t = system_table(
        &ObjectName::new(parts.iter().copied()),
        current,
        &ServerSnapshot::sample(),
    )
    .expect("a system object")
    .expect("builds");
    assert_typed(&t);
    t
}

fn column<'a>(t: &'a Table, name: &str) -> Vec<&'a Value> {
    let i = t.column_index(name).unwrap();
    t.rows.iter().map(|r| &r[i]).collect()
}

#[test]
fn master_files_lists_every_file_of_every_database() {
    let t = view(&["sys", "master_files"], "pubs");
    let cols = names(&t);
    assert_eq!(cols.len(), 32);
    assert_eq!(
        &cols[..8],
        [
            "database_id",
            "file_id",
            "file_guid",
            "type",
            "type_desc",
            "data_space_id",
            "name",
            "physical_name"
        ]
    );
    assert_eq!(cols[31], "credential_id");
    assert_eq!(t.columns[t.column_index("size").unwrap()].ty, SqlType::Int);
    // 4 system databases, pubs (4 files), archive and staging (2 each).
    assert_eq!(t.rows.len(), 4 * 2 + 4 + 2 + 2);
    let pubs: Vec<&Vec<Value>> = t.rows.iter().filter(|r| r[0] == Value::Int(5)).collect();
    assert_eq!(pubs.len(), 4);
    assert_eq!(pubs[1][4], Value::text("LOG"));
    assert_eq!(pubs[1][5], Value::Int(0));
    assert_eq!(pubs[0][10], Value::Int(1024)); // 8 MB in pages
    assert_eq!(pubs[1][11], Value::Int(268_435_456));
    assert_eq!(pubs[3][11], Value::Int(12_800));
    assert_eq!(pubs[3][5], Value::Int(2));
    assert_eq!(pubs[3][16], Value::Bit(true)); // is_percent_growth
    let staging = t.rows.iter().find(|r| r[0] == Value::Int(7)).unwrap();
    assert_eq!(staging[9], Value::text("RESTORING"));
    let msdb = t.rows.iter().find(|r| r[0] == Value::Int(4)).unwrap();
    assert_eq!(msdb[6], Value::text("MSDBData"));
}

#[test]
fn database_files_and_filegroups_follow_the_database_named() {
    let t = view(&["sys", "database_files"], "pubs");
    assert_eq!(names(&t)[0], "file_id");
    assert_eq!(t.columns.len(), 30);
    assert_eq!(
        column(&t, "name"),
        ["pubs", "pubs_log", "pubs_data2", "pubs_archive"]
            .map(Value::text)
            .iter()
            .collect::<Vec<_>>()
    );
    let t = view(&["archive", "sys", "database_files"], "pubs");
    assert_eq!(t.rows.len(), 2);
    let g = view(&["sys", "filegroups"], "pubs");
    assert_eq!(
        names(&g),
        [
            "name",
            "data_space_id",
            "type",
            "type_desc",
            "is_default",
            "is_system",
            "filegroup_guid",
            "log_filegroup_id",
            "is_read_only",
            "is_autogrow_all_files"
        ]
    );
    assert_eq!(
        column(&g, "name"),
        [&Value::text("PRIMARY"), &Value::text("FG_ARCHIVE")]
    );
    assert_eq!(cell(&g, 0, "type"), &Value::text("FG"));
    assert_eq!(cell(&g, 0, "is_default"), &Value::Bit(true));
    assert_eq!(cell(&g, 0, "filegroup_guid"), &Value::Null);
    assert!(matches!(cell(&g, 1, "filegroup_guid"), Value::Guid(_)));
    let err = system_table(
        &ObjectName::new(["staging", "sys", "filegroups"]),
        "pubs",
        &ServerSnapshot::sample(),
    )
    .unwrap()
    .unwrap_err();
    assert_eq!(err.number, 927);
}

#[test]
fn principals_and_role_members() {
    let sp = view(&["sys", "server_principals"], "master");
    assert_eq!(
        names(&sp),
        [
            "name",
            "principal_id",
            "sid",
            "type",
            "type_desc",
            "is_disabled",
            "create_date",
            "modify_date",
            "default_database_name",
            "default_language_name",
            "credential_id",
            "owning_principal_id",
            "is_fixed_role"
        ]
    );
    assert_eq!(
        column(&sp, "name")[..4],
        [
            &Value::text("sa"),
            &Value::text("public"),
            &Value::text("sysadmin"),
            &Value::text("securityadmin")
        ]
    );
    let op = sp
        .rows
        .iter()
        .find(|r| r[0] == Value::text("backup_op"))
        .unwrap();
    assert_eq!(
        (&op[3], &op[4], &op[8]),
        (
            &Value::text("S"),
            &Value::text("SQL_LOGIN"),
            &Value::text("pubs")
        )
    );
    assert_eq!(cell(&sp, 1, "is_fixed_role"), &Value::Bit(false));
    assert_eq!(cell(&sp, 2, "is_fixed_role"), &Value::Bit(true));

    let logins = view(&["sys", "sql_logins"], "master");
    assert_eq!(logins.rows.len(), 2);
    assert_eq!(
        names(&logins)[13..],
        [
            "is_policy_checked",
            "is_expiration_checked",
            "password_hash"
        ]
    );

    let srm = view(&["sys", "server_role_members"], "master");
    assert_eq!(srm.rows, vec![vec![Value::Int(3), Value::Int(1)]]);

    let dp = view(&["pubs", "sys", "database_principals"], "master");
    assert_eq!(dp.columns.len(), 15);
    let user = dp
        .rows
        .iter()
        .find(|r| r[0] == Value::text("backup_op"))
        .unwrap();
    assert_eq!(
        (&user[1], &user[2], &user[3]),
        (&Value::Int(5), &Value::text("S"), &Value::text("SQL_USER"))
    );
    assert_eq!(user[11], Value::text("INSTANCE"));
    let role = dp
        .rows
        .iter()
        .find(|r| r[0] == Value::text("db_backupoperator"))
        .unwrap();
    assert_eq!(
        (&role[1], &role[2], &role[9]),
        (&Value::Int(16389), &Value::text("R"), &Value::Bit(true))
    );
    let dbo = dp.rows.iter().find(|r| r[0] == Value::text("dbo")).unwrap();
    assert_eq!(dbo[8], Value::Binary(vec![1]));

    let drm = view(&["sys", "database_role_members"], "pubs");
    assert_eq!(
        drm.rows,
        vec![
            vec![Value::Int(16384), Value::Int(1)],
            vec![Value::Int(16389), Value::Int(5)]
        ]
    );
}

#[test]
fn requests_show_backup_progress() {
    let t = view(&["sys", "dm_exec_requests"], "master");
    assert_eq!(
        &names(&t)[..5],
        [
            "session_id",
            "request_id",
            "start_time",
            "status",
            "command"
        ]
    );
    assert_eq!(
        t.columns[t.column_index("percent_complete").unwrap()].ty,
        SqlType::Real
    );
    assert_eq!(
        t.columns[t.column_index("estimated_completion_time").unwrap()].ty,
        SqlType::BigInt
    );
    let backup = t
        .rows
        .iter()
        .find(|r| r[4] == Value::text("BACKUP DATABASE"))
        .unwrap();
    let at = |c: &str| &backup[t.column_index(c).unwrap()];
    assert_eq!(at("session_id"), &Value::Int(52));
    assert_eq!(at("status"), &Value::text("suspended"));
    assert_eq!(at("percent_complete"), &Value::Float(42.5));
    assert_eq!(at("estimated_completion_time"), &Value::Int(81_000));
    assert_eq!(at("wait_type"), &Value::text("BACKUPTHREAD"));
    assert_eq!(at("database_id"), &Value::Int(5));
    assert_eq!(at("user_id"), &Value::Int(5));
    let select = t
        .rows
        .iter()
        .find(|r| r[4] == Value::text("SELECT"))
        .unwrap();
    assert_eq!(select[t.column_index("wait_type").unwrap()], Value::Null);
    assert_eq!(select[t.column_index("user_id").unwrap()], Value::Int(1));
}

#[test]
fn sessions_and_sysprocesses() {
    let s = view(&["sys", "dm_exec_sessions"], "master");
    assert_eq!(s.columns.len(), 52);
    assert_eq!(s.columns[51].name, "contained_availability_group_id");
    assert_eq!(
        column(&s, "login_name"),
        [&Value::text("sa"), &Value::text("backup_op")]
    );
    assert_eq!(column(&s, "program_name")[1], &Value::text("VendorBackup"));
    assert_eq!(column(&s, "database_id"), [&Value::Int(5), &Value::Int(5)]);
    let p = view(&["master", "dbo", "sysprocesses"], "pubs");
    assert_eq!(p.columns.len(), 33);
    let cmd = column(&p, "cmd");
    assert_eq!(cmd[1], &Value::text(format!("{:<32}", "BACKUP DATABASE")));
    assert_eq!(
        column(&p, "status")[1],
        &Value::text(format!("{:<30}", "suspended"))
    );
    assert_eq!(view(&["sysprocesses"], "pubs").rows.len(), 2);
}

#[test]
fn always_on_views_are_empty_with_their_columns() {
    for (v, first, count) in [
        ("availability_groups", "group_id", 18),
        ("availability_replicas", "replica_id", 22),
        ("dm_hadr_database_replica_states", "database_id", 38),
        ("dm_hadr_availability_replica_states", "replica_id", 18),
    ] {
        let t = view(&["sys", v], "master");
        assert!(t.rows.is_empty(), "{v}");
        assert_eq!(
            (t.columns[0].name.as_str(), t.columns.len()),
            (first, count),
            "{v}"
        );
    }
    let t = view(&["sys", "dm_hadr_database_replica_states"], "master");
    assert!(t.column_index("is_primary_replica").is_some());
}

#[test]
fn sys_types_lists_the_system_types() {
    let t = view(&["sys", "types"], "pubs");
    assert_eq!(t.rows.len(), 34);
    let row = |n: &str| {
        t.rows
            .iter()
            .find(|r| r[0] == Value::text(n))
            .unwrap()
            .clone()
    };
    assert_eq!(row("int")[1..3], [Value::Int(56), Value::Int(56)]);
    assert_eq!(row("sysname")[2], Value::Int(256));
    assert_eq!(row("sysname")[9], Value::Bit(false));
    assert_eq!(
        row("nvarchar")[8],
        Value::text("SQL_Latin1_General_CP1_CI_AS")
    );
    assert_eq!(row("int")[8], Value::Null);
    assert_eq!(row("geography")[11], Value::Bit(true));
}

#[test]
fn host_info_backup_devices_and_encryption_keys() {
    let host = view(&["sys", "dm_os_host_info"], "master");
    assert_eq!(host.rows[0][0], Value::text("Linux"));
    assert!(view(&["sys", "backup_devices"], "master").rows.is_empty());
    assert!(
        view(&["sys", "dm_database_encryption_keys"], "master")
            .rows
            .is_empty()
    );
}
