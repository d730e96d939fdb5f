//! DECLARE, SET, control flow, EXEC, RAISERROR/THROW, transactions, DBCC, statement
//! separation.

use super::*;

fn all(sql: &str) -> Vec<StatementKind> {
    parse_batch(sql, 1)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|s| s.kind)
        .collect()
}

fn set_option(sql: &str) -> SetOption {
    match one(sql) {
        StatementKind::SetOption(o) => o,
        other => panic!("{sql}: {other:?}"),
    }
}

fn exec(sql: &str) -> Exec {
    match one(sql) {
        StatementKind::Exec(e) => e,
        other => panic!("{sql}: {other:?}"),
    }
}

fn string(value: &str) -> Expr {
    Expr::Literal(Literal::String {
        value: value.into(),
        unicode: false,
    })
}

#[test]
fn declare_several_with_initial_values() {
    assert_eq!(
        one("DECLARE @db sysname = N'pubs', @n AS int, @d datetime2(3) = GETDATE()"),
        StatementKind::Declare(vec![
            VariableDeclaration {
                name: "@db".into(),
                ty: SqlType::NVarChar(Some(128)),
                initial: Some(Expr::string("pubs")),
            },
            VariableDeclaration {
                name: "@n".into(),
                ty: SqlType::Int,
                initial: None,
            },
            VariableDeclaration {
                name: "@d".into(),
                ty: SqlType::DateTime2(3),
                initial: Some(Expr::Function {
                    schema: None,
                    name: "GETDATE".into(),
                    args: vec![],
                    star: false,
                    distinct: false,
                    over: None,
                    within_group: Vec::new()
                }),
            },
        ])
    );
    assert_eq!(err_number("DECLARE x int"), 102);
    assert_eq!(err_number("DECLARE @x"), 102);
    assert_eq!(err_number("DECLARE @c CURSOR FOR SELECT 1"), 156);
}

#[test]
fn declare_table_variable() {
    let StatementKind::DeclareTable { name, columns } = one(
        "DECLARE @t TABLE (id int IDENTITY(1,1) PRIMARY KEY, name sysname, note nvarchar(max) NULL DEFAULT N'')",
    ) else {
        panic!()
    };
    assert_eq!(name, "@t");
    assert_eq!(columns.len(), 3);
    assert_eq!(columns[0].identity, Some((1, 1)));
    assert!(!columns[0].nullable);
    assert!(!columns[1].nullable, "sysname is NOT NULL by default");
    assert!(columns[2].nullable);
    assert_eq!(columns[2].default, Some(Expr::string("")));
    assert_eq!(err_number("DECLARE @a int, @t TABLE (x int)"), 156);
}

#[test]
fn set_variables() {
    assert_eq!(
        one("SET @n = @n + 1"),
        StatementKind::SetVariable(SetVariable {
            name: "@n".into(),
            op: None,
            value: Expr::Binary {
                op: BinaryOp::Add,
                left: Box::new(Expr::Variable("@n".into())),
                right: Box::new(Expr::integer(1)),
            },
        })
    );
    for (op, binary) in [
        ("+=", BinaryOp::Add),
        ("-=", BinaryOp::Subtract),
        ("*=", BinaryOp::Multiply),
        ("/=", BinaryOp::Divide),
        ("%=", BinaryOp::Modulo),
        ("&=", BinaryOp::BitAnd),
        ("|=", BinaryOp::BitOr),
        ("^=", BinaryOp::BitXor),
    ] {
        let StatementKind::SetVariable(s) = one(&format!("SET @s {op} 2")) else {
            panic!()
        };
        assert_eq!(s.op, Some(binary), "{op}");
    }
    assert!(matches!(
        one("SET @c = (SELECT COUNT(*) FROM sys.databases)"),
        StatementKind::SetVariable(SetVariable {
            value: Expr::Subquery(_),
            ..
        })
    ));
    assert_eq!(err_number("SET @x 1"), 102);
}

#[test]
fn set_options() {
    let o = set_option("SET NOCOUNT ON");
    assert_eq!(
        (o.options, o.value),
        (vec!["NOCOUNT".to_owned()], SetOptionValue::On)
    );
    let o = set_option("set ansi_nulls, quoted_identifier, ANSI_PADDING off");
    assert_eq!(
        o.options,
        ["ANSI_NULLS", "QUOTED_IDENTIFIER", "ANSI_PADDING"]
    );
    assert_eq!(o.value, SetOptionValue::Off);
    for option in [
        "XACT_ABORT",
        "ANSI_WARNINGS",
        "ANSI_NULL_DFLT_ON",
        "CONCAT_NULL_YIELDS_NULL",
        "ARITHABORT",
        "NUMERIC_ROUNDABORT",
        "IMPLICIT_TRANSACTIONS",
        "CURSOR_CLOSE_ON_COMMIT",
        "FMTONLY",
        "NOEXEC",
        "PARSEONLY",
        "NO_BROWSETABLE",
    ] {
        assert_eq!(set_option(&format!("SET {option} ON")).options, [option]);
    }
    let o = set_option("SET DEADLOCK_PRIORITY LOW");
    assert_eq!(o.value, SetOptionValue::Word("LOW".into()));
    let o = set_option("SET DEADLOCK_PRIORITY -5");
    assert!(matches!(o.value, SetOptionValue::Number(_)));
    let o = set_option("SET LOCK_TIMEOUT 1000");
    assert_eq!(o.value, SetOptionValue::Number(Expr::integer(1000)));
    let o = set_option("SET LANGUAGE us_english");
    assert_eq!(o.value, SetOptionValue::Word("us_english".into()));
    let o = set_option("SET LANGUAGE N'British English'");
    assert_eq!(o.value, SetOptionValue::Word("British English".into()));
    let o = set_option("SET DATEFORMAT ymd");
    assert_eq!(o.value, SetOptionValue::Word("YMD".into()));
    let o = set_option("SET DATEFIRST @f");
    assert_eq!(o.value, SetOptionValue::Number(Expr::Variable("@f".into())));
    let o = set_option("SET TEXTSIZE 2147483647");
    assert_eq!(o.options, ["TEXTSIZE"]);
    let o = set_option("SET ROWCOUNT 0");
    assert_eq!(o.value, SetOptionValue::Number(Expr::integer(0)));
    let o = set_option("SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
    assert_eq!(o.options, ["TRANSACTION ISOLATION LEVEL"]);
    assert_eq!(o.value, SetOptionValue::Word("READ UNCOMMITTED".into()));
    let o = set_option("SET TRANSACTION ISOLATION LEVEL SNAPSHOT");
    assert_eq!(o.value, SetOptionValue::Word("SNAPSHOT".into()));
    let o = set_option("SET STATISTICS IO, TIME ON");
    assert_eq!(o.options, ["STATISTICS IO", "STATISTICS TIME"]);
}

#[test]
fn unknown_set_options_are_195() {
    let e = err("SET ANSI_NULLS, BANANA, QUOTED_IDENTIFIER ON");
    assert_eq!(
        (e.number, e.level, e.state, e.text.as_str()),
        (195, 15, 5, "'BANANA' is not a recognized SET option.")
    );
    assert_eq!(err("SET BANANA 5").state, 7);
    assert_eq!(err_number("SET BANANA"), 102);
    assert_eq!(err_number("SET NOCOUNT"), 102);
    assert_eq!(err_number("SET NOCOUNT 1"), 102);
    assert_eq!(err_number("SET TRANSACTION ISOLATION LEVEL CHAOS"), 102);
}

#[test]
fn if_else_while_blocks() {
    let StatementKind::If(i) = one("IF @x = 1 PRINT 'a' ELSE BEGIN PRINT 'b'; PRINT 'c' END")
    else {
        panic!()
    };
    assert_eq!(i.then.kind, StatementKind::PrintExpr(string("a")));
    let Some(otherwise) = i.otherwise else {
        panic!()
    };
    let StatementKind::Block(block) = otherwise.kind else {
        panic!()
    };
    assert_eq!(block.len(), 2);
    // A semicolon may end the THEN statement before ELSE.
    assert!(matches!(
        one("IF 1 = 1 PRINT 'a'; ELSE PRINT 'b'"),
        StatementKind::If(If {
            otherwise: Some(_),
            ..
        })
    ));
    // ELSE belongs to the nearest IF.
    let StatementKind::If(outer) = one("IF 1 = 1 IF 2 = 2 PRINT 1 ELSE PRINT 2") else {
        panic!()
    };
    assert!(outer.otherwise.is_none());
    let kinds = all("IF 1 = 1 PRINT 'a'\nPRINT 'b'");
    assert_eq!(kinds.len(), 2);
    let StatementKind::While(w) =
        one("WHILE @i < 10 BEGIN SET @i += 1; IF @i = 5 BREAK; CONTINUE END")
    else {
        panic!()
    };
    assert!(matches!(w.body.kind, StatementKind::Block(ref b) if b.len() == 3));
    assert_eq!(err_number("BEGIN END"), 156);
    assert_eq!(err_number("BEGIN PRINT 1"), 102);
    assert_eq!(err_number("IF 1 = 1"), 102);
    assert_eq!(err_number("ELSE PRINT 1"), 156);
}

#[test]
fn break_and_continue_need_a_loop() {
    let e = err("PRINT 1\nBREAK");
    assert_eq!(
        (e.number, e.line, e.text.as_str()),
        (
            135,
            2,
            "Cannot use a BREAK statement outside the scope of a WHILE statement."
        )
    );
    assert_eq!(err_number("IF 1 = 1 CONTINUE"), 136);
}

#[test]
fn return_with_and_without_value() {
    assert_eq!(all("RETURN\nPRINT 1")[0], StatementKind::Return(None));
    assert_eq!(
        one("RETURN -1"),
        StatementKind::Return(Some(Expr::Unary {
            op: UnaryOp::Negate,
            operand: Box::new(Expr::integer(1))
        }))
    );
    assert_eq!(
        one("RETURN @@ERROR"),
        StatementKind::Return(Some(Expr::SystemVariable("@@ERROR".into())))
    );
    assert!(matches!(
        all("BEGIN RETURN END")[0],
        StatementKind::Block(ref b) if b[0].kind == StatementKind::Return(None)
    ));
}

#[test]
fn try_catch_raiserror_throw() {
    let StatementKind::TryCatch(t) = one(
        "BEGIN TRY\n  SELECT 1/0\nEND TRY\nBEGIN CATCH\n  RAISERROR (N'failed: %s', 16, 1, @msg) WITH NOWAIT, LOG;\n  THROW\nEND CATCH",
    ) else {
        panic!()
    };
    assert_eq!(t.body.len(), 1);
    assert_eq!(t.handler.len(), 2);
    let StatementKind::Raiserror(r) = &t.handler[0].kind else {
        panic!()
    };
    assert_eq!(r.message, Expr::string("failed: %s"));
    assert_eq!(r.args, [Expr::Variable("@msg".into())]);
    assert_eq!(r.options, ["NOWAIT", "LOG"]);
    assert_eq!(
        t.handler[1].kind,
        StatementKind::Throw(Throw { error: None })
    );
    assert_eq!(t.handler[1].line, 6);
    assert_eq!(
        one("THROW 50001, 'oops', 1"),
        StatementKind::Throw(Throw {
            error: Some((Expr::integer(50001), string("oops"), Expr::integer(1)))
        })
    );
    // BEGIN CATCH END CATCH may be empty; BEGIN TRY END TRY may not.
    one("BEGIN TRY PRINT 1 END TRY BEGIN CATCH END CATCH");
    assert_eq!(err_number("BEGIN TRY END TRY BEGIN CATCH END CATCH"), 156);
    assert_eq!(err_number("BEGIN TRY PRINT 1 END TRY"), 102);
    // THROW needs the statement before it ended by a semicolon.
    assert_eq!(
        err("PRINT 'a' THROW 50001, 'x', 1").text,
        "Incorrect syntax near 'THROW'."
    );
    assert_eq!(err_number("RAISERROR 50001 'old'"), 102);
    assert_eq!(err_number("RAISERROR ('x', 16, 1) WITH FOO"), 102);
}

#[test]
fn exec_forms() {
    assert_eq!(
        exec("EXEC sp_who"),
        Exec::Procedure {
            return_variable: None,
            procedure: ObjectName::new(["sp_who"]),
            args: vec![],
        }
    );
    let Exec::Procedure {
        return_variable,
        procedure,
        args,
    } = exec(
        "EXECUTE @rc = msdb.dbo.sp_delete_backuphistory @oldest_date = '2020-01-01', 5, @out OUTPUT, DEFAULT, master, -1",
    )
    else {
        panic!()
    };
    assert_eq!(return_variable.as_deref(), Some("@rc"));
    assert_eq!(
        procedure,
        ObjectName::new(["msdb", "dbo", "sp_delete_backuphistory"])
    );
    assert_eq!(args.len(), 6);
    assert_eq!(args[0].name.as_deref(), Some("@oldest_date"));
    assert_eq!(args[0].value, string("2020-01-01"));
    assert_eq!(args[1].value, Expr::integer(5));
    assert!(args[2].output);
    assert!(args[3].default);
    assert_eq!(
        args[4].value,
        Expr::string("master"),
        "a bare name is a string"
    );
    assert!(matches!(args[5].value, Expr::Unary { .. }));
    let Exec::Procedure { args, .. } =
        exec("EXEC sp_executesql N'SELECT @db', N'@db sysname', @db = N'pubs'")
    else {
        panic!()
    };
    assert_eq!(args.len(), 3);
    assert_eq!(args[1].value, Expr::string("@db sysname"));
    assert_eq!(args[2].name.as_deref(), Some("@db"));
    assert!(matches!(
        exec("EXEC ('SELECT ' + @x)"),
        Exec::Dynamic(Expr::Binary { .. })
    ));
    assert!(matches!(
        exec("EXEC (@sql)"),
        Exec::Dynamic(Expr::Variable(_))
    ));
    // Arguments are constants, variables or names, not expressions.
    assert_eq!(err("EXEC p @a + 1").text, "Incorrect syntax near '+'.");
    assert_eq!(err_number("EXEC p GETDATE()"), 102);
    let kinds = all("EXEC sp_who\nSELECT 1");
    assert_eq!(kinds.len(), 2);
    // Without EXEC, a procedure name only starts a batch.
    let Exec::Procedure { args, .. } = exec("sp_helpdb pubs") else {
        panic!()
    };
    assert_eq!(args[0].value, Expr::string("pubs"));
    assert_eq!(err_number("PRINT 1; sp_who"), 102);
}

#[test]
fn transactions() {
    assert_eq!(
        one("BEGIN TRAN"),
        StatementKind::BeginTransaction(BeginTransaction {
            name: None,
            mark: None
        })
    );
    assert_eq!(
        one("BEGIN TRANSACTION t1 WITH MARK N'before backup'"),
        StatementKind::BeginTransaction(BeginTransaction {
            name: Some(Expr::string("t1")),
            mark: Some(Some(Expr::string("before backup")))
        })
    );
    assert_eq!(
        one("BEGIN TRAN @t WITH MARK"),
        StatementKind::BeginTransaction(BeginTransaction {
            name: Some(Expr::Variable("@t".into())),
            mark: Some(None)
        })
    );
    assert!(matches!(
        one("BEGIN DISTRIBUTED TRANSACTION"),
        StatementKind::BeginTransaction(_)
    ));
    for sql in [
        "COMMIT",
        "COMMIT TRAN",
        "COMMIT TRANSACTION t1",
        "COMMIT WORK",
    ] {
        assert_eq!(one(sql), StatementKind::Commit, "{sql}");
    }
    for sql in ["ROLLBACK", "ROLLBACK TRAN @t", "ROLLBACK WORK"] {
        assert_eq!(one(sql), StatementKind::Rollback, "{sql}");
    }
    assert_eq!(
        one("SAVE TRAN s1"),
        StatementKind::SaveTransaction(Expr::string("s1"))
    );
    assert_eq!(err_number("SAVE TRAN"), 156);
    // The classic: without a semicolon THROW is the transaction's name.
    assert_eq!(all("ROLLBACK TRAN THROW").len(), 1);
}

#[test]
fn dbcc_and_checkpoint() {
    assert_eq!(
        one("DBCC SQLPERF(LOGSPACE)"),
        StatementKind::Dbcc(Dbcc {
            command: "SQLPERF".into(),
            args: vec![Expr::string("LOGSPACE")],
            options: vec![]
        })
    );
    assert_eq!(
        one("dbcc checkdb (N'pubs', NOINDEX) WITH NO_INFOMSGS, ALL_ERRORMSGS, MAXDOP = 2"),
        StatementKind::Dbcc(Dbcc {
            command: "CHECKDB".into(),
            args: vec![Expr::string("pubs"), Expr::string("NOINDEX")],
            options: vec![
                "NO_INFOMSGS".into(),
                "ALL_ERRORMSGS".into(),
                "MAXDOP=2".into()
            ]
        })
    );
    assert!(matches!(
        one("DBCC INPUTBUFFER(@@SPID)"),
        StatementKind::Dbcc(_)
    ));
    assert!(matches!(
        one("DBCC TRACEON(3604, -1)"),
        StatementKind::Dbcc(_)
    ));
    assert_eq!(
        one("DBCC VDISIM_WORKLOAD ('db', 5)"),
        StatementKind::Workload {
            database: "db".into(),
            pages: 5
        }
    );
    assert_eq!(err_number("DBCC VDISIM_WORKLOAD ('db', 0)"), 3250);
    assert_eq!(one("CHECKPOINT"), StatementKind::Checkpoint);
    assert_eq!(one("CHECKPOINT 10"), StatementKind::Checkpoint);
}

#[test]
fn statements_follow_each_other_without_semicolons() {
    let statements = parse_batch(
        "SET NOCOUNT ON\nDECLARE @x int SET @x = 1 SELECT @x PRINT @x\nEXEC sp_who;\nBEGIN TRAN COMMIT",
        1,
    )
    .unwrap();
    let lines: Vec<u32> = statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, [1, 2, 2, 2, 2, 3, 4, 4]);
}

#[test]
fn with_after_an_unterminated_statement_is_319() {
    let e = err("SELECT 1\nWITH c AS (SELECT 1 AS x) SELECT x FROM c");
    assert_eq!((e.number, e.level, e.line), (319, 16, 2));
    assert!(
        e.text
            .starts_with("Incorrect syntax near the keyword 'with'.")
    );
    assert_eq!(
        all("SELECT 1;\nWITH c AS (SELECT 1 AS x) SELECT x FROM c").len(),
        2
    );
}
