use super::*;
use crate::catalog::snapshot::ServerSnapshot;

fn with_ctx<T>(login: &str, db: &str, f: impl FnOnce(&FunctionContext<'_>) -> T) -> T {
    let snap = ServerSnapshot::sample();
    let ctx = FunctionContext {
        snapshot: &snap,
        session_id: 52,
        login,
        original_login: login,
        current_database: db,
        host_name: "WS1",
        program_name: "VendorBackup",
    };
    f(&ctx)
}

fn s(v: &str) -> Typed {
    (SqlType::NVarChar(Some(128)), Value::text(v))
}

fn i(v: i64) -> Typed {
    (SqlType::Int, Value::Int(v))
}

fn ok(name: &str, args: &[Typed], ctx: &FunctionContext<'_>) -> Typed {
    call(name, args, ctx)
        .expect("known function")
        .expect("succeeds")
}

#[test]
fn serverproperty_answers_what_tools_ask() {
    with_ctx("sa", "master", |ctx| {
        assert_eq!(
            ok("SERVERPROPERTY", &[s("ProductVersion")], ctx),
            s("16.0.1000.6")
        );
        assert_eq!(
            ok("serverproperty", &[s("productmajorversion")], ctx),
            s("16")
        );
        assert_eq!(
            ok("SERVERPROPERTY", &[s("ProductMinorVersion")], ctx),
            s("0")
        );
        assert_eq!(ok("SERVERPROPERTY", &[s("ProductLevel")], ctx), s("RTM"));
        assert_eq!(
            ok("SERVERPROPERTY", &[s("Edition")], ctx),
            s("Developer Edition (64-bit)")
        );
        assert_eq!(ok("SERVERPROPERTY", &[s("EngineEdition")], ctx), i(3));
        assert_eq!(
            ok("SERVERPROPERTY", &[s("EditionID")], ctx),
            (SqlType::BigInt, Value::Int(-2_117_995_310))
        );
        assert_eq!(
            ok("SERVERPROPERTY", &[s("MachineName")], ctx),
            s("VDISIM01")
        );
        assert_eq!(ok("SERVERPROPERTY", &[s("ServerName")], ctx), s("VDISIM01"));
        assert_eq!(
            ok("SERVERPROPERTY", &[s("InstanceName")], ctx),
            (SqlType::SqlVariant, Value::Null)
        );
        assert_eq!(ok("SERVERPROPERTY", &[s("IsClustered")], ctx), i(0));
        assert_eq!(ok("SERVERPROPERTY", &[s("IsHadrEnabled")], ctx), i(0));
        assert_eq!(
            ok("SERVERPROPERTY", &[s("Collation")], ctx),
            s("SQL_Latin1_General_CP1_CI_AS")
        );
        assert_eq!(
            ok("SERVERPROPERTY", &[s("ProductUpdateLevel")], ctx).1,
            Value::Null
        );
        assert_eq!(
            ok("SERVERPROPERTY", &[s("NoSuchProperty")], ctx).1,
            Value::Null
        );
        assert_eq!(
            ok(
                "SERVERPROPERTY",
                &[(SqlType::VarChar(Some(1)), Value::Null)],
                ctx
            )
            .1,
            Value::Null
        );
        let err = call("SERVERPROPERTY", &[], ctx).unwrap().unwrap_err();
        assert_eq!(
            (err.number, err.text.as_str()),
            (174, "The serverproperty function requires 1 argument(s).")
        );
    });
}

#[test]
fn a_named_instance_reports_its_name() {
    let mut snap = ServerSnapshot::sample();
    snap.server = crate::catalog::ServerInfo::new("HOST", Some("SQL22"), snap.server.start_time);
    let session = snap.sessions[0].clone();
    let ctx = FunctionContext::for_session(&snap, &session);
    assert_eq!(
        ok("SERVERPROPERTY", &[s("ServerName")], &ctx),
        s("HOST\\SQL22")
    );
    assert_eq!(ok("SERVERPROPERTY", &[s("InstanceName")], &ctx), s("SQL22"));
    assert_eq!(
        system_variable("@@SERVERNAME", &ctx),
        Some(s("HOST\\SQL22"))
    );
    assert_eq!(system_variable("@@SERVICENAME", &ctx), Some(s("SQL22")));
}

#[test]
fn db_id_db_name_and_databasepropertyex() {
    with_ctx("sa", "pubs", |ctx| {
        assert_eq!(ok("DB_ID", &[], ctx), i(5));
        assert_eq!(ok("db_id", &[s("MSDB")], ctx), i(4));
        assert_eq!(
            ok("DB_ID", &[s("nosuch")], ctx),
            (SqlType::Int, Value::Null)
        );
        assert_eq!(ok("DB_NAME", &[], ctx), s("pubs"));
        assert_eq!(ok("DB_NAME", &[i(1)], ctx), s("master"));
        assert_eq!(ok("DB_NAME", &[s("4")], ctx), s("msdb"));
        assert_eq!(ok("DB_NAME", &[i(99)], ctx).1, Value::Null);
        assert_eq!(
            call("DB_NAME", &[s("x")], ctx).unwrap().unwrap_err().number,
            245
        );
        let prop = |db: &str, p: &str| ok("DATABASEPROPERTYEX", &[s(db), s(p)], ctx);
        assert_eq!(prop("pubs", "Recovery"), s("FULL"));
        assert_eq!(prop("archive", "Recovery"), s("SIMPLE"));
        assert_eq!(prop("pubs", "Status"), s("ONLINE"));
        assert_eq!(prop("staging", "Status"), s("RESTORING"));
        assert_eq!(prop("archive", "Updateability"), s("READ_ONLY"));
        assert_eq!(prop("pubs", "Updateability"), s("READ_WRITE"));
        assert_eq!(prop("pubs", "UserAccess"), s("MULTI_USER"));
        assert_eq!(prop("pubs", "IsInStandBy"), i(0));
        assert_eq!(prop("pubs", "Collation"), s("SQL_Latin1_General_CP1_CI_AS"));
        assert_eq!(prop("staging", "Collation").1, Value::Null);
        assert_eq!(prop("pubs", "Version"), i(957));
        assert_eq!(prop("pubs", "IsAutoClose"), i(0));
        assert_eq!(prop("nosuch", "Status").1, Value::Null);
        assert_eq!(prop("pubs", "Bogus").1, Value::Null);
        assert_eq!(
            call("DATABASEPROPERTYEX", &[s("pubs")], ctx)
                .unwrap()
                .unwrap_err()
                .number,
            174
        );
        let err = call("DB_NAME", &[i(1), i(2)], ctx).unwrap().unwrap_err();
        assert_eq!(
            (err.number, err.text.as_str()),
            (189, "The db_name function requires 0 to 1 arguments.")
        );
    });
}

#[test]
fn system_variables() {
    with_ctx("sa", "pubs", |ctx| {
        let (ty, v) = system_variable("@@VERSION", ctx).unwrap();
        assert_eq!(ty, SqlType::NVarChar(Some(300)));
        let Value::String(text) = v else { panic!() };
        assert!(text.starts_with("Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) \n\tOct  8 2022 05:58:25 \n\tCopyright (C) 2022 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux ("), "{text}");
        assert!(text.contains("vdisim") && text.ends_with(") <X64>"));
        assert_eq!(
            system_variable("@@spid", ctx),
            Some((SqlType::SmallInt, Value::Int(52)))
        );
        assert_eq!(system_variable("@@LANGUAGE", ctx), Some(s("us_english")));
        assert_eq!(
            system_variable("@@SERVICENAME", ctx),
            Some(s("MSSQLSERVER"))
        );
        assert_eq!(
            system_variable("@@MICROSOFTVERSION", ctx),
            Some(i(0x1000_03E8))
        );
        assert_eq!(system_variable("@@MAX_CONNECTIONS", ctx), Some(i(32_767)));
        assert!(
            matches!(system_variable("@@DBTS", ctx), Some((SqlType::VarBinary(Some(8)), Value::Binary(b))) if b.len() == 8)
        );
        assert_eq!(system_variable("@@ERROR", ctx), None);
        assert_eq!(system_variable("@@ROWCOUNT", ctx), None);
        assert_eq!(system_variable("@@TRANCOUNT", ctx), None);
    });
}

#[test]
fn logins_users_and_roles() {
    with_ctx("backup_op", "pubs", |ctx| {
        assert_eq!(ok("SUSER_SNAME", &[], ctx), s("backup_op"));
        assert_eq!(ok("SUSER_NAME", &[], ctx), s("backup_op"));
        assert_eq!(ok("ORIGINAL_LOGIN", &[], ctx), s("backup_op"));
        assert_eq!(ok("SYSTEM_USER", &[], ctx), s("backup_op"));
        assert_eq!(ok("USER_NAME", &[], ctx), s("backup_op"));
        assert_eq!(ok("CURRENT_USER", &[], ctx), s("backup_op"));
        assert_eq!(ok("HOST_NAME", &[], ctx), s("WS1"));
        assert_eq!(ok("APP_NAME", &[], ctx), s("VendorBackup"));
        assert_eq!(ok("SUSER_ID", &[], ctx), i(267));
        assert_eq!(ok("SUSER_NAME", &[i(1)], ctx), s("sa"));
        assert_eq!(ok("SUSER_NAME", &[i(3)], ctx), s("sysadmin"));
        assert_eq!(
            ok(
                "SUSER_SNAME",
                &[(SqlType::VarBinary(Some(85)), Value::Binary(vec![1]))],
                ctx
            ),
            s("sa")
        );
        let (_, sid) = ok("SUSER_SID", &[], ctx);
        assert!(matches!(sid, Value::Binary(ref b) if b.len() == 16));
        assert_eq!(ok("IS_SRVROLEMEMBER", &[s("sysadmin")], ctx), i(0));
        assert_eq!(ok("IS_SRVROLEMEMBER", &[s("sysadmin"), s("sa")], ctx), i(1));
        assert_eq!(ok("IS_SRVROLEMEMBER", &[s("public")], ctx), i(1));
        assert_eq!(
            ok("IS_SRVROLEMEMBER", &[s("nosuchrole")], ctx).1,
            Value::Null
        );
        assert_eq!(
            ok("IS_SRVROLEMEMBER", &[s("sysadmin"), s("nobody")], ctx).1,
            Value::Null
        );
        assert_eq!(ok("IS_MEMBER", &[s("db_backupoperator")], ctx), i(1));
        assert_eq!(ok("IS_MEMBER", &[s("db_owner")], ctx), i(0));
        assert_eq!(ok("IS_MEMBER", &[s("nosuch")], ctx).1, Value::Null);
        assert_eq!(ok("IS_ROLEMEMBER", &[s("db_backupoperator")], ctx), i(1));
        assert_eq!(ok("IS_ROLEMEMBER", &[s("db_owner"), s("dbo")], ctx), i(1));
        assert_eq!(ok("HAS_DBACCESS", &[s("pubs")], ctx), i(1));
        assert_eq!(ok("HAS_DBACCESS", &[s("archive")], ctx), i(0));
        assert_eq!(ok("HAS_DBACCESS", &[s("msdb")], ctx), i(1));
        assert_eq!(ok("HAS_DBACCESS", &[s("nosuch")], ctx).1, Value::Null);
        let perms =
            |db: &str, class: &str, p: &str| ok("HAS_PERMS_BY_NAME", &[s(db), s(class), s(p)], ctx);
        assert_eq!(perms("pubs", "DATABASE", "BACKUP DATABASE"), i(1));
        assert_eq!(perms("pubs", "DATABASE", "ALTER"), i(0));
        assert_eq!(perms("archive", "DATABASE", "BACKUP LOG"), i(0));
        assert_eq!(perms("nosuch", "DATABASE", "BACKUP LOG").1, Value::Null);
    });
    with_ctx("sa", "pubs", |ctx| {
        assert_eq!(ok("USER_NAME", &[], ctx), s("dbo"));
        assert_eq!(ok("IS_MEMBER", &[s("db_owner")], ctx), i(1));
        assert_eq!(ok("IS_SRVROLEMEMBER", &[s("SYSADMIN")], ctx), i(1));
        assert_eq!(ok("HAS_DBACCESS", &[s("staging")], ctx), i(0));
        assert_eq!(
            ok(
                "HAS_PERMS_BY_NAME",
                &[
                    (SqlType::Int, Value::Null),
                    s("SERVER"),
                    s("VIEW SERVER STATE")
                ],
                ctx
            ),
            i(1)
        );
    });
}

#[test]
fn files_objects_and_the_preferred_replica() {
    with_ctx("sa", "pubs", |ctx| {
        assert_eq!(
            ok("FILE_ID", &[s("pubs_log")], ctx),
            (SqlType::SmallInt, Value::Int(2))
        );
        assert_eq!(ok("FILE_IDEX", &[s("PUBS_ARCHIVE")], ctx), i(4));
        assert_eq!(ok("FILE_NAME", &[i(3)], ctx), s("pubs_data2"));
        assert_eq!(ok("FILEGROUP_NAME", &[i(2)], ctx), s("FG_ARCHIVE"));
        assert_eq!(ok("FILEGROUP_ID", &[s("primary")], ctx), i(1));
        assert_eq!(ok("FILE_ID", &[s("nosuch")], ctx).1, Value::Null);
        // pubs uses 1,000 of its first file's 1,024 pages and 2 MB of its 8 MB log.
        assert_eq!(
            ok("FILEPROPERTY", &[s("pubs"), s("SpaceUsed")], ctx),
            i(1000)
        );
        assert_eq!(
            ok("FILEPROPERTY", &[s("pubs_data2"), s("spaceused")], ctx),
            i(0)
        );
        assert_eq!(
            ok("FILEPROPERTY", &[s("pubs_log"), s("SpaceUsed")], ctx),
            i(256)
        );
        assert_eq!(
            ok("FILEPROPERTY", &[s("pubs_log"), s("IsLogFile")], ctx),
            i(1)
        );
        assert_eq!(
            ok("FILEPROPERTY", &[s("pubs"), s("IsPrimaryFile")], ctx),
            i(1)
        );
        assert_eq!(
            ok("FILEPROPERTY", &[s("pubs"), s("Nonsense")], ctx).1,
            Value::Null
        );
        assert_eq!(
            ok("FILEPROPERTY", &[s("nosuch"), s("SpaceUsed")], ctx).1,
            Value::Null
        );
        assert_eq!(
            ok("sys.fn_hadr_backup_is_preferred_replica", &[s("pubs")], ctx),
            (SqlType::Bit, Value::Bit(true))
        );
        assert_eq!(
            ok(
                "master.sys.fn_hadr_backup_is_preferred_replica",
                &[s("pubs")],
                ctx
            )
            .1,
            Value::Bit(true)
        );
        let id = ok("OBJECT_ID", &[s("msdb.dbo.backupset")], ctx);
        assert!(matches!(id.1, Value::Int(_)));
        assert_eq!(ok("OBJECT_ID", &[s("[msdb]..[backupset]")], ctx), id);
        assert_eq!(ok("OBJECT_ID", &[s("sys.databases")], ctx), i(-1001));
        assert_eq!(ok("OBJECT_ID", &[s("dbo.nosuch")], ctx).1, Value::Null);
        assert_eq!(ok("OBJECT_NAME", &[i(-1001)], ctx), s("databases"));
        assert!(call("NOT_A_CATALOG_FUNCTION", &[], ctx).is_none());
        assert!(call("LEN", &[s("x")], ctx).is_none());
    });
}

#[test]
fn object_names_split_like_the_parser() {
    assert_eq!(
        split_object_name("[msdb]..[back.up]").parts,
        ["msdb", "", "back.up"]
    );
    assert_eq!(split_object_name("\"a\".b").parts, ["a", "b"]);
    assert_eq!(split_object_name("[a]]b]").parts, ["a]b"]);
}

#[test]
fn schemas_by_id_and_name() {
    with_ctx("sa", "pubs", |ctx| {
        assert_eq!(ok("SCHEMA_NAME", &[], ctx), s("dbo"));
        assert_eq!(ok("SCHEMA_NAME", &[i(4)], ctx), s("sys"));
        assert_eq!(ok("SCHEMA_ID", &[s("INFORMATION_SCHEMA")], ctx), i(3));
        assert_eq!(ok("SCHEMA_ID", &[s("nosuch")], ctx).1, Value::Null);
        assert_eq!(ok("USER_ID", &[s("guest")], ctx), i(2));
        assert_eq!(ok("DATABASE_PRINCIPAL_ID", &[], ctx), i(1));
    });
}
