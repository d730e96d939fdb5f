use super::*;
use crate::catalog::ServerSnapshot;
use crate::catalog::table::check::{assert_typed, names};
use crate::resultset::RenderOptions;
use crate::value::{SqlType, Value};

fn run(name: &str, args: &[ProcArg], login: &str, db: &str) -> Outcome {
    let snap = ServerSnapshot::sample();
    let ctx = FunctionContext {
        snapshot: &snap,
        session_id: 51,
        login,
        original_login: login,
        current_database: db,
        host_name: "WS1",
        program_name: "tests",
    };
    call(name, args, &ctx).expect("a known procedure")
}

fn sets(name: &str, args: &[ProcArg], db: &str) -> Vec<Table> {
    let sets = run(name, args, "sa", db).expect("succeeds");
    for t in &sets {
        assert_typed(t);
    }
    sets
}

fn arg(v: &str) -> ProcArg {
    ProcArg::positional(SqlType::NVarChar(Some(128)), Value::text(v))
}

/// The result sets as `sqlcmd -W` prints them, blank line between sets.
fn render(sets: &[Table]) -> String {
    let opts = RenderOptions {
        trim: true,
        ..RenderOptions::default()
    };
    sets.iter()
        .map(|t| t.render_sqlcmd(&opts))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sp_helpdb_lists_every_database() {
    let s = sets("sp_helpdb", &[], "master");
    assert_eq!(s.len(), 1);
    assert_eq!(
        names(&s[0]),
        [
            "name",
            "db_size",
            "owner",
            "dbid",
            "created",
            "status",
            "compatibility_level"
        ]
    );
    insta::assert_snapshot!(render(&s));
}

#[test]
fn sp_helpdb_of_one_database_adds_its_files() {
    let s = sets(
        "sys.sp_helpdb",
        &[ProcArg::named(
            "dbname",
            SqlType::NVarChar(Some(4)),
            Value::text("pubs"),
        )],
        "master",
    );
    assert_eq!(s.len(), 2);
    assert_eq!(
        names(&s[1]),
        [
            "name",
            "fileid",
            "filename",
            "filegroup",
            "size",
            "maxsize",
            "growth",
            "usage"
        ]
    );
    insta::assert_snapshot!(render(&s));
    // A database in the middle of a restore shows only its summary.
    assert_eq!(sets("sp_helpdb", &[arg("staging")], "master").len(), 1);
    let err = run("sp_helpdb", &[arg("nosuch")], "sa", "master").unwrap_err();
    assert_eq!(
        (err.number, err.text.as_str()),
        (
            15010,
            "The database 'nosuch' does not exist. Supply a valid database name. To see available databases, use sys.databases."
        )
    );
}

#[test]
fn sp_helpfile_and_sp_helpfilegroup_describe_the_current_database() {
    let files = sets("sp_helpfile", &[], "pubs");
    assert_eq!(files[0].rows.len(), 4);
    let one = sets("sp_helpfile", &[arg("pubs_archive")], "pubs");
    assert_eq!(one[0].rows.len(), 1);
    assert_eq!(
        run("sp_helpfile", &[arg("nosuch")], "sa", "pubs")
            .unwrap_err()
            .number,
        15325
    );
    let groups = sets("sp_helpfilegroup", &[], "pubs");
    let group = sets("sp_helpfilegroup", &[arg("fg_archive")], "pubs");
    assert_eq!(group.len(), 2);
    assert_eq!(
        run("sp_helpfilegroup", &[arg("nosuch")], "sa", "pubs")
            .unwrap_err()
            .text,
        "The current database does not contain a filegroup 'nosuch'."
    );
    insta::assert_snapshot!(render(&[files, groups, group].concat()));
}

#[test]
fn sp_databases_lists_what_the_login_can_use() {
    let s = sets("sp_databases", &[], "master");
    insta::assert_snapshot!(render(&s));
    let op = run("sp_databases", &[], "backup_op", "pubs").unwrap();
    let listed: Vec<&Value> = op[0].rows.iter().map(|r| &r[0]).collect();
    assert_eq!(
        listed,
        [
            &Value::text("master"),
            &Value::text("msdb"),
            &Value::text("pubs"),
            &Value::text("tempdb")
        ]
    );
    assert_eq!(
        run("sp_databases", &[arg("x")], "sa", "master")
            .unwrap_err()
            .number,
        8144
    );
}

#[test]
fn sp_who_and_sp_who2() {
    let who = sets("sp_who", &[], "master");
    assert_eq!(
        names(&who[0]),
        [
            "spid",
            "ecid",
            "status",
            "loginame",
            "hostname",
            "blk",
            "dbname",
            "cmd",
            "request_id"
        ]
    );
    let who2 = sets("sp_who2", &[], "master");
    assert_eq!(names(&who2[0])[11], "SPID");
    insta::assert_snapshot!(render(&[who, who2].concat()));
    assert_eq!(
        sets("sp_who", &[arg("backup_op")], "master")[0].rows.len(),
        1
    );
    assert_eq!(sets("sp_who", &[arg("52")], "master")[0].rows.len(), 1);
    assert_eq!(
        sets(
            "sp_who",
            &[ProcArg::positional(SqlType::Int, Value::Int(51))],
            "master"
        )[0]
        .rows
        .len(),
        1
    );
    assert_eq!(sets("sp_who2", &[arg("active")], "master")[0].rows.len(), 2);
    let err = run("sp_who", &[arg("nobody")], "sa", "master").unwrap_err();
    assert_eq!(
        (err.number, err.text.as_str()),
        (
            15007,
            "'nobody' is not a valid login or you do not have permission."
        )
    );
}

#[test]
fn xp_msver_and_sp_helpsrvrolemember() {
    let all = sets("master.dbo.xp_msver", &[], "pubs");
    assert_eq!(
        names(&all[0]),
        ["Index", "Name", "Internal_Value", "Character_Value"]
    );
    assert_eq!(all[0].rows.len(), 20);
    let one = sets("xp_msver", &[arg("productversion")], "pubs");
    assert_eq!(
        one[0].rows,
        vec![vec![
            Value::Int(2),
            Value::text("ProductVersion"),
            Value::Int(1_048_576),
            Value::text("16.0.1000.6")
        ]]
    );
    let members = sets("sp_helpsrvrolemember", &[], "master");
    assert_eq!(
        members[0].rows,
        vec![vec![
            Value::text("sysadmin"),
            Value::text("sa"),
            Value::Binary(vec![1])
        ]]
    );
    assert!(
        sets("sp_helpsrvrolemember", &[arg("dbcreator")], "master")[0]
            .rows
            .is_empty()
    );
    assert_eq!(
        run("sp_helpsrvrolemember", &[arg("nosuch")], "sa", "master")
            .unwrap_err()
            .number,
        15412
    );
    insta::assert_snapshot!(render(&all));
}

#[test]
fn unknown_procedures_are_the_callers() {
    let snap = ServerSnapshot::sample();
    let session = snap.sessions[0].clone();
    let ctx = FunctionContext::for_session(&snap, &session);
    assert!(call("sp_executesql", &[], &ctx).is_none());
    assert!(call("sp_delete_backuphistory", &[], &ctx).is_none());
    assert!(call("[master]..[sp_who2]", &[], &ctx).is_some());
}
