//! Databases (CREATE with files and filegroups, ALTER), logins, users, roles, permissions,
//! and tables (CREATE/DROP TABLE, INSERT, UPDATE, DELETE, TRUNCATE).

use super::*;

fn create_database(sql: &str) -> CreateDatabaseStatement {
    match one(sql) {
        StatementKind::CreateDatabase(c) => c,
        other => panic!("{sql}: {other:?}"),
    }
}

fn alter_action(sql: &str) -> AlterDatabaseAction {
    match one(sql) {
        StatementKind::AlterDatabase { action, .. } => action,
        other => panic!("{sql}: {other:?}"),
    }
}

const MB: u64 = 1024 * 1024;

#[test]
fn create_database_with_files_and_filegroups() {
    let c = create_database(
        "CREATE DATABASE Sales CONTAINMENT = NONE
         ON PRIMARY
           (NAME = N'Sales', FILENAME = N'/data/Sales.mdf', SIZE = 8192KB, MAXSIZE = UNLIMITED, FILEGROWTH = 65536KB),
           (NAME = Sales2, FILENAME = '/data/Sales2.ndf'),
         FILEGROUP Archive DEFAULT
           (NAME = SalesArchive, FILENAME = '/data/a.ndf', SIZE = 10, FILEGROWTH = 10%),
         FILEGROUP Docs CONTAINS FILESTREAM (NAME = Docs, FILENAME = '/data/docs')
         LOG ON (NAME = N'Sales_log', FILENAME = N'/data/Sales_log.ldf', SIZE = 1GB, MAXSIZE = 2TB)
         COLLATE SQL_Latin1_General_CP1_CI_AS
         WITH TRUSTWORTHY ON, DB_CHAINING OFF, FILESTREAM (NON_TRANSACTED_ACCESS = OFF)",
    );
    assert_eq!(c.name, "Sales");
    assert_eq!(c.primary_files.len(), 2);
    assert_eq!(
        c.primary_files[0],
        FileSpec {
            logical_name: "Sales".into(),
            physical_name: Some("/data/Sales.mdf".into()),
            size: Some(FileSize::Bytes(8192 * 1024)),
            max_size: Some(FileSize::Unlimited),
            growth: Some(FileSize::Bytes(64 * MB)),
            new_name: None,
        }
    );
    assert_eq!(c.filegroups.len(), 2);
    assert_eq!(c.filegroups[0].name, "Archive");
    assert!(c.filegroups[0].default && !c.filegroups[0].filestream);
    assert_eq!(
        c.filegroups[0].files[0].size,
        Some(FileSize::Bytes(10 * MB))
    );
    assert_eq!(c.filegroups[0].files[0].growth, Some(FileSize::Percent(10)));
    assert!(c.filegroups[1].filestream);
    assert_eq!(c.log_files.len(), 1);
    assert_eq!(c.log_files[0].size, Some(FileSize::Bytes(1024 * MB)));
    assert_eq!(
        c.log_files[0].max_size,
        Some(FileSize::Bytes(2 * 1024 * 1024 * MB))
    );
    assert_eq!(c.collation.as_deref(), Some("SQL_Latin1_General_CP1_CI_AS"));
    assert!(!c.for_attach);
}

#[test]
fn create_database_short_forms() {
    let c = create_database(
        "CREATE DATABASE d ON (NAME = d, FILENAME = '/d.mdf') LOG ON (NAME = l, FILENAME = '/d.ldf'), (NAME = l2, FILENAME = '/d2.ldf')",
    );
    assert_eq!((c.primary_files.len(), c.log_files.len()), (1, 2));
    let c = create_database("CREATE DATABASE d ON (FILENAME = '/d.mdf') FOR ATTACH");
    assert!(c.for_attach);
    // vdisim's own clauses still work, beside the standard ones.
    let c = create_database(
        "CREATE DATABASE d ON (NAME = d, FILENAME = '/d.mdf') SIZE = 2 GB RECOVERY SIMPLE",
    );
    assert_eq!(
        (c.size_mb, c.recovery),
        (Some(2048), Some(RecoveryModel::Simple))
    );
    assert_eq!(
        err_number("CREATE DATABASE d ON (NAME = d, BOGUS = 1)"),
        102
    );
    assert_eq!(
        err_number("CREATE DATABASE d ON (NAME = d, FILEGROWTH = 10 %"),
        102
    );
    assert_eq!(
        err_number("CREATE DATABASE d ON (NAME = d, SIZE = 10%)"),
        102
    );
    assert_eq!(err_number("CREATE DATABASE d LOG ON"), 156);
}

#[test]
fn alter_database_set() {
    let db = |sql: &str| match one(sql) {
        StatementKind::AlterDatabase { database, .. } => database,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        db("ALTER DATABASE [pubs] SET RECOVERY FULL"),
        Some("pubs".into())
    );
    assert_eq!(db("ALTER DATABASE CURRENT SET RECOVERY FULL"), None);
    assert_eq!(
        alter_action("ALTER DATABASE d SET RECOVERY BULK_LOGGED"),
        AlterDatabaseAction::Recovery(RecoveryModel::BulkLogged)
    );
    assert_eq!(
        alter_action("ALTER DATABASE d SET SINGLE_USER WITH ROLLBACK IMMEDIATE"),
        AlterDatabaseAction::UserAccess {
            access: UserAccess::SingleUser,
            termination: Some(Termination::RollbackImmediate)
        }
    );
    assert_eq!(
        alter_action("ALTER DATABASE d SET RESTRICTED_USER WITH ROLLBACK AFTER 30 SECONDS"),
        AlterDatabaseAction::UserAccess {
            access: UserAccess::RestrictedUser,
            termination: Some(Termination::RollbackAfter(30))
        }
    );
    assert_eq!(
        alter_action("ALTER DATABASE d SET MULTI_USER"),
        AlterDatabaseAction::UserAccess {
            access: UserAccess::MultiUser,
            termination: None
        }
    );
    assert_eq!(
        alter_action("ALTER DATABASE d SET OFFLINE WITH NO_WAIT"),
        AlterDatabaseAction::State {
            state: DatabaseStateChange::Offline,
            termination: Some(Termination::NoWait)
        }
    );
    assert!(matches!(
        alter_action("ALTER DATABASE d SET ONLINE"),
        AlterDatabaseAction::State {
            state: DatabaseStateChange::Online,
            ..
        }
    ));
    assert!(matches!(
        alter_action("ALTER DATABASE d SET EMERGENCY"),
        AlterDatabaseAction::State {
            state: DatabaseStateChange::Emergency,
            ..
        }
    ));
    assert!(matches!(
        alter_action("ALTER DATABASE d SET READ_ONLY"),
        AlterDatabaseAction::ReadOnly {
            read_only: true,
            ..
        }
    ));
    assert!(matches!(
        alter_action("ALTER DATABASE d SET READ_WRITE"),
        AlterDatabaseAction::ReadOnly {
            read_only: false,
            ..
        }
    ));
    for (sql, option, value) in [
        ("SET AUTO_CLOSE OFF", "AUTO_CLOSE", "OFF"),
        ("SET PAGE_VERIFY CHECKSUM", "PAGE_VERIFY", "CHECKSUM"),
        (
            "SET COMPATIBILITY_LEVEL = 160",
            "COMPATIBILITY_LEVEL",
            "160",
        ),
        (
            "SET TARGET_RECOVERY_TIME = 60 SECONDS",
            "TARGET_RECOVERY_TIME",
            "60 SECONDS",
        ),
        ("SET ENABLE_BROKER", "ENABLE_BROKER", ""),
        (
            "SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON (MODE = COPY_ONLY)",
            "SUSPEND_FOR_SNAPSHOT_BACKUP",
            "ON (MODE = COPY_ONLY)",
        ),
    ] {
        assert_eq!(
            alter_action(&format!("ALTER DATABASE d {sql}")),
            AlterDatabaseAction::SetOther {
                option: option.into(),
                value: value.into()
            },
            "{sql}"
        );
    }
    // Several options run as one statement each, with the WITH applying to all.
    let StatementKind::Block(parts) =
        one("ALTER DATABASE d SET SINGLE_USER, READ_ONLY WITH ROLLBACK IMMEDIATE")
    else {
        panic!()
    };
    assert_eq!(parts.len(), 2);
    assert_eq!(err_number("ALTER DATABASE d SET RECOVERY BULK_LOG"), 102);
    assert_eq!(
        err_number("ALTER DATABASE d SET SINGLE_USER WITH ROLLBACK"),
        156
    );
    assert_eq!(
        err_number("ALTER DATABASE d SET SINGLE_USER WITH ROLLBACK SOON"),
        102
    );
    assert_eq!(err_number("ALTER DATABASE d"), 102);
}

#[test]
fn alter_database_files_and_filegroups() {
    assert_eq!(
        alter_action("ALTER DATABASE d MODIFY FILE (NAME = d_log, SIZE = 100MB, NEWNAME = d_log2)"),
        AlterDatabaseAction::ModifyFile(FileSpec {
            logical_name: "d_log".into(),
            physical_name: None,
            size: Some(FileSize::Bytes(100 * MB)),
            max_size: None,
            growth: None,
            new_name: Some("d_log2".into()),
        })
    );
    let AlterDatabaseAction::AddFiles { files, filegroup } = alter_action(
        "ALTER DATABASE d ADD FILE (NAME = a, FILENAME = '/a.ndf'), (NAME = b, FILENAME = '/b.ndf') TO FILEGROUP fg",
    ) else {
        panic!()
    };
    assert_eq!((files.len(), filegroup.as_deref()), (2, Some("fg")));
    assert!(matches!(
        alter_action("ALTER DATABASE d ADD LOG FILE (NAME = l2, FILENAME = '/l2.ldf')"),
        AlterDatabaseAction::AddLogFiles(ref f) if f.len() == 1
    ));
    assert_eq!(
        alter_action("ALTER DATABASE d ADD FILEGROUP fs CONTAINS FILESTREAM"),
        AlterDatabaseAction::AddFilegroup {
            name: "fs".into(),
            filestream: true
        }
    );
    assert_eq!(
        alter_action("ALTER DATABASE d REMOVE FILE b"),
        AlterDatabaseAction::RemoveFile("b".into())
    );
    assert_eq!(
        alter_action("ALTER DATABASE d MODIFY NAME = e"),
        AlterDatabaseAction::Rename("e".into())
    );
    assert_eq!(
        alter_action("ALTER DATABASE d MODIFY FILEGROUP fg DEFAULT"),
        AlterDatabaseAction::ModifyFilegroup {
            name: "fg".into(),
            change: "DEFAULT".into()
        }
    );
    assert_eq!(
        alter_action("ALTER DATABASE d MODIFY FILEGROUP fg READ_ONLY"),
        AlterDatabaseAction::ModifyFilegroup {
            name: "fg".into(),
            change: "READ_ONLY".into()
        }
    );
}

#[test]
fn logins_users_and_roles() {
    assert_eq!(
        one(
            "CREATE LOGIN backup_op WITH PASSWORD = N'S3cret!', DEFAULT_DATABASE = [master], CHECK_POLICY = OFF"
        ),
        StatementKind::CreateLogin(CreateLogin {
            name: "backup_op".into(),
            password: Some("S3cret!".into()),
            default_database: Some("master".into()),
            other_options: vec!["CHECK_POLICY=OFF".into()],
        })
    );
    assert!(matches!(
        one("CREATE LOGIN [DOMAIN\\svc] FROM WINDOWS WITH DEFAULT_DATABASE = master"),
        StatementKind::CreateLogin(CreateLogin { password: None, .. })
    ));
    assert_eq!(err_number("CREATE LOGIN x"), 102);
    assert_eq!(
        one("ALTER LOGIN sa DISABLE"),
        StatementKind::AlterLogin {
            name: "sa".into(),
            password: None,
            enable: Some(false)
        }
    );
    assert_eq!(
        one("ALTER LOGIN x WITH PASSWORD = 'new' OLD_PASSWORD = 'old', CHECK_POLICY = OFF"),
        StatementKind::AlterLogin {
            name: "x".into(),
            password: Some("new".into()),
            enable: None
        }
    );
    assert_eq!(one("DROP LOGIN x"), StatementKind::DropLogin("x".into()));
    assert_eq!(
        one("CREATE USER u FOR LOGIN backup_op WITH DEFAULT_SCHEMA = dbo"),
        StatementKind::CreateUser(CreateUser {
            name: "u".into(),
            login: Some("backup_op".into())
        })
    );
    assert_eq!(
        one("CREATE USER u WITHOUT LOGIN"),
        StatementKind::CreateUser(CreateUser {
            name: "u".into(),
            login: None
        })
    );
    assert_eq!(
        one("DROP USER IF EXISTS u"),
        StatementKind::DropUser("u".into())
    );
    assert_eq!(
        one("ALTER SERVER ROLE sysadmin ADD MEMBER [backup_op]"),
        StatementKind::AlterRoleMembership(AlterRoleMembership {
            server_role: true,
            role: "sysadmin".into(),
            member: "backup_op".into(),
            add: true
        })
    );
    assert_eq!(
        one("ALTER ROLE db_backupoperator DROP MEMBER u"),
        StatementKind::AlterRoleMembership(AlterRoleMembership {
            server_role: false,
            role: "db_backupoperator".into(),
            member: "u".into(),
            add: false
        })
    );
}

#[test]
fn permissions() {
    assert_eq!(
        one("GRANT BACKUP DATABASE, BACKUP LOG TO u, [v]"),
        StatementKind::Permission(Permission {
            action: PermissionAction::Grant,
            permissions: vec!["BACKUP DATABASE".into(), "BACKUP LOG".into()],
            on: None,
            principals: vec!["u".into(), "v".into()],
        })
    );
    assert_eq!(
        one("DENY VIEW SERVER STATE TO x"),
        StatementKind::Permission(Permission {
            action: PermissionAction::Deny,
            permissions: vec!["VIEW SERVER STATE".into()],
            on: None,
            principals: vec!["x".into()],
        })
    );
    assert_eq!(
        one("REVOKE EXECUTE ON OBJECT::dbo.p FROM x CASCADE"),
        StatementKind::Permission(Permission {
            action: PermissionAction::Revoke,
            permissions: vec!["EXECUTE".into()],
            on: Some("OBJECT::dbo.p".into()),
            principals: vec!["x".into()],
        })
    );
    assert!(matches!(
        one("GRANT CONTROL ON DATABASE::pubs TO x WITH GRANT OPTION"),
        StatementKind::Permission(Permission { on: Some(ref o), .. }) if o == "DATABASE::pubs"
    ));
    assert!(matches!(
        one("GRANT SELECT ON sys.databases TO public"),
        StatementKind::Permission(Permission { ref principals, .. }) if principals == &["public"]
    ));
    assert_eq!(err_number("GRANT TO x"), 156);
    assert_eq!(err_number("GRANT SELECT FROM x"), 156);
}

#[test]
fn tables() {
    let StatementKind::CreateTable(t) = one(
        "CREATE TABLE #t (id int NOT NULL PRIMARY KEY CLUSTERED, name nvarchar(128) COLLATE Latin1_General_CI_AS NULL, \
         created datetime DEFAULT GETDATE(), n bigint IDENTITY, CONSTRAINT pk PRIMARY KEY (id), CHECK (id > 0))",
    ) else {
        panic!()
    };
    assert_eq!(t.name, ObjectName::new(["#t"]));
    assert_eq!(t.columns.len(), 4);
    assert!(!t.columns[0].nullable);
    assert!(t.columns[1].nullable);
    assert!(t.columns[2].default.is_some());
    assert_eq!(t.columns[3].identity, Some((1, 1)));
    assert_eq!(err_number("CREATE TABLE #t ()"), 102);
    assert_eq!(
        one("DROP TABLE IF EXISTS #a, dbo.b"),
        StatementKind::DropTable {
            if_exists: true,
            names: vec![ObjectName::new(["#a"]), ObjectName::new(["dbo", "b"])]
        }
    );
}

#[test]
fn insert_update_delete_truncate() {
    let StatementKind::Insert(i) = one("INSERT INTO #t (a, b) VALUES (1, 'x'), (2, 'y')") else {
        panic!()
    };
    assert_eq!(i.columns, ["a", "b"]);
    assert!(matches!(i.source, InsertSource::Values(ref rows) if rows.len() == 2));
    let StatementKind::Insert(i) = one("INSERT @t SELECT name FROM sys.databases") else {
        panic!()
    };
    assert_eq!(i.target, ObjectName::new(["@t"]));
    assert!(matches!(i.source, InsertSource::Query(_)));
    let StatementKind::Insert(i) = one("INSERT INTO #who EXEC sp_who2") else {
        panic!()
    };
    assert!(matches!(i.source, InsertSource::Exec(_)));
    let StatementKind::Insert(i) = one("INSERT INTO #t DEFAULT VALUES") else {
        panic!()
    };
    assert_eq!(i.source, InsertSource::DefaultValues);
    let StatementKind::Update(u) = one(
        "UPDATE t SET t.done = 1, n += 1, @v = x FROM #t t JOIN #u u ON t.id = u.id WHERE u.ok = 1",
    ) else {
        panic!()
    };
    assert_eq!(u.assignments.len(), 3);
    assert_eq!(u.assignments[0], ("done".into(), Expr::integer(1)));
    assert_eq!(
        u.assignments[1],
        (
            "n".into(),
            Expr::Binary {
                op: BinaryOp::Add,
                left: Box::new(Expr::Column(ObjectName::new(["n"]))),
                right: Box::new(Expr::integer(1))
            }
        )
    );
    assert_eq!(u.assignments[2].0, "@v");
    assert_eq!(u.from.len(), 1);
    assert!(u.selection.is_some());
    assert_eq!(
        one("DELETE #t WHERE id = 1"),
        StatementKind::Delete(Delete {
            target: ObjectName::new(["#t"]),
            selection: Some(Expr::Binary {
                op: BinaryOp::Equal,
                left: Box::new(Expr::Column(ObjectName::new(["id"]))),
                right: Box::new(Expr::integer(1))
            })
        })
    );
    assert_eq!(
        one("TRUNCATE TABLE #t"),
        StatementKind::Delete(Delete {
            target: ObjectName::new(["#t"]),
            selection: None
        })
    );
    assert_eq!(err_number("INSERT INTO #t"), 102);
    assert_eq!(err_number("UPDATE #t SET"), 156);
}
