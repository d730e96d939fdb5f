//! The statements the first parser knew, in the forms the new one gives them.

use super::*;

// ---- databases and the rest -------------------------------------------------------------

#[test]
fn create_database_forms() {
    assert_eq!(
        one("CREATE DATABASE db"),
        StatementKind::CreateDatabase(CreateDatabaseStatement {
            name: "db".into(),
            size_mb: None,
            recovery: None,
            filestream_containers: None,
            ..CreateDatabaseStatement::default()
        })
    );
    assert_eq!(
        one("create database [big] FILESTREAM 2 SIZE = 2 GB RECOVERY SIMPLE"),
        StatementKind::CreateDatabase(CreateDatabaseStatement {
            name: "big".into(),
            size_mb: Some(2048),
            recovery: Some(RecoveryModel::Simple),
            filestream_containers: Some(2),
            ..CreateDatabaseStatement::default()
        })
    );
    let StatementKind::CreateDatabase(c) = one("CREATE DATABASE d SIZE = 10MB RECOVERY FULL")
    else {
        panic!()
    };
    assert_eq!(
        (c.size_mb, c.recovery),
        (Some(10), Some(RecoveryModel::Full))
    );
}

#[test]
fn create_database_errors() {
    assert_eq!(err_number("CREATE DATABASE d SIZE = 0"), 59006);
    assert_eq!(err_number("CREATE DATABASE d FILESTREAM 17"), 59006);
    assert_eq!(err_number("CREATE DATABASE d SIZE = 1 SIZE = 2"), 59003);
    assert_eq!(err_number("CREATE DATABASE d RECOVERY BULK_LOGGED"), 102);
    assert_eq!(err_number("CREATE TABLE t"), 102);
    assert_eq!(err_number("CREATE PROCEDURE p AS SELECT 1"), 156);
    assert_eq!(err_number("CREATE DATABASE"), 156);
    assert_eq!(err_number("CREATE DATABASE d FOO"), 102);
}

#[test]
fn drop_and_alter_database() {
    assert_eq!(
        one("DROP DATABASE a, [b]"),
        StatementKind::DropDatabase(DropDatabaseStatement {
            if_exists: false,
            names: vec!["a".into(), "b".into()],
        })
    );
    assert_eq!(
        one("DROP DATABASE IF EXISTS a"),
        StatementKind::DropDatabase(DropDatabaseStatement {
            if_exists: true,
            names: vec!["a".into()],
        })
    );
    assert_eq!(
        one("ALTER DATABASE db SET RECOVERY SIMPLE"),
        StatementKind::AlterDatabase {
            database: Some("db".into()),
            action: AlterDatabaseAction::Recovery(RecoveryModel::Simple)
        }
    );
    assert_eq!(err_number("ALTER DATABASE db SET RECOVERY"), 102);
    assert_eq!(err_number("DROP DATABASE"), 156);
}

fn select_items(sql: &str) -> Select {
    match one(sql) {
        StatementKind::Select(Query {
            body: QueryBody::Select(select),
            ..
        }) => *select,
        other => panic!("not a plain select: {other:?}"),
    }
}

#[test]
fn the_old_special_selects_are_queries() {
    let s = select_items("SELECT @@version");
    assert_eq!(
        s.items,
        [SelectItem::Expr {
            expr: Expr::SystemVariable("@@VERSION".into()),
            alias: None
        }]
    );
    let s = select_items("SELECT [name] FROM master.sys.[databases] ORDER BY name DESC");
    assert_eq!(
        s.from,
        [TableRef::Named {
            name: ObjectName::new(["master", "sys", "databases"]),
            alias: None
        }]
    );
    let StatementKind::Select(q) = one("SELECT name FROM sys.databases ORDER BY Name") else {
        panic!()
    };
    assert_eq!(
        q.order_by,
        [OrderItem {
            expr: Expr::Column(ObjectName::new(["Name"])),
            descending: false
        }]
    );
    // Unknown tables, columns and @@ names are the executor's: they parse.
    one("SELECT name FROM sys.tables");
    one("SELECT @@FOO");
    one("SELECT * FROM sys.databases");
    assert_eq!(err_number("SELECT"), 156);
}

#[test]
fn use_print_waitfor() {
    assert_eq!(
        one("USE [master]"),
        StatementKind::Use {
            database: "master".into()
        }
    );
    assert_eq!(
        one("PRINT N'hello'"),
        StatementKind::PrintExpr(Expr::string("hello"))
    );
    assert_eq!(one("PRINT 42"), StatementKind::PrintExpr(Expr::integer(42)));
    assert_eq!(
        one("PRINT @@SERVERNAME"),
        StatementKind::PrintExpr(Expr::SystemVariable("@@SERVERNAME".into()))
    );
    assert_eq!(
        one("WAITFOR DELAY '00:01:02.5'"),
        StatementKind::WaitFor(WaitFor::Delay(Expr::Literal(Literal::String {
            value: "00:01:02.5".into(),
            unicode: false
        })))
    );
    let e = err("WAITFOR DELAY 'later'");
    assert_eq!(
        (e.number, e.text.as_str()),
        (
            148,
            "Incorrect time syntax in time string 'later' used with WAITFOR."
        )
    );
    assert!(matches!(
        one("WAITFOR TIME @t"),
        StatementKind::WaitFor(WaitFor::Time(Expr::Variable(_)))
    ));
    assert_eq!(err_number("WAITFOR TIME '25:00'"), 148);
    assert_eq!(err_number("USE"), 156);
}

#[test]
fn several_statements_per_batch() {
    let statements = parse_batch(
        "USE master;\nSELECT @@VERSION\n;;PRINT 'a' PRINT 'b'\n\nDROP DATABASE x;",
        1,
    )
    .unwrap();
    let lines: Vec<u32> = statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, [1, 2, 3, 3, 5]);
}

#[test]
fn empty_and_comment_only_batches_have_no_statements() {
    assert_eq!(parse_batch("", 1).unwrap(), []);
    assert_eq!(parse_batch("  -- nothing\n/* here */ ;", 1).unwrap(), []);
}

#[test]
fn trailing_junk_is_a_syntax_error_on_its_line() {
    let e = err("PRINT @@VERSION\n\nfoo");
    assert_eq!(
        (e.number, e.line, e.text.as_str()),
        (102, 3, "Incorrect syntax near 'foo'.")
    );
    let e = err("PRINT 'a' 'b'");
    assert_eq!(e.text, "Incorrect syntax near 'b'.");
    // After a select item, a bare word is its alias, as in SQL Server.
    let s = select_items("SELECT @@VERSION\n\nfoo");
    assert!(matches!(&s.items[0], SelectItem::Expr { alias: Some(a), .. } if a == "foo"));
}

#[test]
fn first_line_offsets_every_line() {
    let e = parse_batch("PRINT 'a'\nBOGUS", 10).unwrap_err();
    assert_eq!(e.line, 11);
    let s = parse_batch("\n\nUSE x", 10).unwrap();
    assert_eq!(s[0].line, 12);
}

#[test]
fn unsupported_statements_are_syntax_errors() {
    assert_eq!(err_number("MERGE INTO t USING s ON 1 = 1"), 156);
    assert_eq!(err_number("GOTO done"), 156);
    assert_eq!(err_number("PRINT 1 sp_who"), 102);
    assert_eq!(err_number("(1)"), 102);
}

#[test]
fn a_batch_may_start_with_a_procedure_name() {
    let StatementKind::Exec(Exec::Procedure { procedure, .. }) = one("sp_who") else {
        panic!()
    };
    assert_eq!(procedure, ObjectName::new(["sp_who"]));
    // Then GO alone (not a separator here) is a procedure call too, as SQL Server has it.
    assert!(matches!(one("GO"), StatementKind::Exec(_)));
}

#[test]
fn split_then_parse_a_script() {
    let script = "CREATE DATABASE a\nGO\n\nBACKUP DATABASE a TO VIRTUAL_DEVICE='s'\nWITH FOO\nGO";
    let batches = split_batches(script);
    assert_eq!(batches.len(), 2);
    let e = parse_batch(&batches[1].text, 1).unwrap_err();
    assert_eq!((e.number, e.line), (155, 3));
    let e = parse_batch(&batches[1].text, batches[1].first_line).unwrap_err();
    assert_eq!(e.line, 5);
}

#[test]
fn reserved_keyword_as_option_is_156() {
    let e = err("BACKUP DATABASE db TO VIRTUAL_DEVICE = 's' WITH SELECT");
    assert_eq!(e.text, "Incorrect syntax near the keyword 'SELECT'.");
}

#[test]
fn create_database_errors_carry_the_statement_line() {
    let e = err("PRINT 'x'\nCREATE\nDATABASE d\nFILESTREAM 99");
    assert_eq!((e.number, e.line), (59006, 2));
}

#[test]
fn print_output_is_informational_text() {
    let m = messages::print_output(4, "hello");
    assert_eq!((m.number, m.level, m.line), (0, 0, 4));
    assert_eq!(m.render("S"), "hello");
}
