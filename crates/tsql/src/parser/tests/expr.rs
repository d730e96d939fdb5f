//! Expressions: literals, precedence, predicates, functions, CASE, CAST/CONVERT, types.

use super::*;

/// The single expression of `SELECT <expr>`.
fn value(sql: &str) -> Expr {
    let select = select_of(&format!("SELECT {sql}"));
    match select.items.as_slice() {
        [SelectItem::Expr { expr, alias: None }] => expr.clone(),
        other => panic!("{sql}: {other:?}"),
    }
}

/// The WHERE condition of `SELECT 1 WHERE <cond>`.
fn cond(sql: &str) -> Expr {
    select_of(&format!("SELECT 1 WHERE {sql}"))
        .selection
        .unwrap_or_else(|| panic!("{sql}: no condition"))
}

fn col(name: &str) -> Expr {
    Expr::Column(ObjectName::new(name.split('.')))
}

fn bin(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

fn int(v: i64) -> Expr {
    Expr::integer(v)
}

fn lit(l: Literal) -> Expr {
    Expr::Literal(l)
}

#[test]
fn integer_literals_are_int_then_numeric() {
    assert_eq!(value("1"), int(1));
    assert_eq!(value("2147483647"), int(2_147_483_647));
    assert_eq!(
        value("2147483648"),
        lit(Literal::Decimal("2147483648".into()))
    );
    assert_eq!(
        value("-2147483648"),
        Expr::Unary {
            op: UnaryOp::Negate,
            operand: Box::new(lit(Literal::Decimal("2147483648".into())))
        }
    );
    assert_eq!(value("007"), int(7));
    let e = err(&format!("SELECT {}", "9".repeat(39)));
    assert_eq!((e.number, e.level), (1007, 15));
}

#[test]
fn other_literals() {
    assert_eq!(value("1.50"), lit(Literal::Decimal("1.50".into())));
    assert_eq!(value(".5"), lit(Literal::Decimal(".5".into())));
    assert_eq!(value("1e3"), lit(Literal::Float(1000.0)));
    assert_eq!(value("1.5E-2"), lit(Literal::Float(0.015)));
    assert_eq!(value("0x0A0b"), lit(Literal::Binary(vec![10, 11])));
    assert_eq!(value("0x"), lit(Literal::Binary(vec![])));
    assert_eq!(value("$12.50"), lit(Literal::Money("12.50".into())));
    assert_eq!(value("NULL"), lit(Literal::Null));
    assert_eq!(
        value("'it''s'"),
        lit(Literal::String {
            value: "it's".into(),
            unicode: false
        })
    );
    assert_eq!(value("N'ü'"), Expr::string("ü"));
    assert_eq!(err_number("SELECT 1e400"), 168);
}

#[test]
fn variables_and_columns() {
    assert_eq!(value("@x"), Expr::Variable("@x".into()));
    assert_eq!(value("@@spid"), Expr::SystemVariable("@@SPID".into()));
    assert_eq!(value("name"), col("name"));
    assert_eq!(value("[d].[name]"), col("d.name"));
    assert_eq!(
        value("msdb.dbo.backupset.name"),
        col("msdb.dbo.backupset.name")
    );
    assert_eq!(value("\"q\"").clone(), col("q"));
    assert_eq!(
        value("msdb..backupset.type"),
        Expr::Column(ObjectName::new(["msdb", "", "backupset", "type"]))
    );
}

#[test]
fn arithmetic_precedence() {
    // * binds tighter than +, and + - & | ^ share one level, left to right.
    assert_eq!(
        value("1 + 2 * 3"),
        bin(
            BinaryOp::Add,
            int(1),
            bin(BinaryOp::Multiply, int(2), int(3))
        )
    );
    assert_eq!(
        value("1 - 2 + 3"),
        bin(
            BinaryOp::Add,
            bin(BinaryOp::Subtract, int(1), int(2)),
            int(3)
        )
    );
    assert_eq!(
        value("1 | 2 & 3"),
        bin(
            BinaryOp::BitAnd,
            bin(BinaryOp::BitOr, int(1), int(2)),
            int(3)
        )
    );
    assert_eq!(
        value("(1 + 2) % 4 / 5"),
        bin(
            BinaryOp::Divide,
            bin(BinaryOp::Modulo, bin(BinaryOp::Add, int(1), int(2)), int(4)),
            int(5)
        )
    );
    assert_eq!(
        value("~1 ^ -@x"),
        bin(
            BinaryOp::BitXor,
            Expr::Unary {
                op: UnaryOp::BitNot,
                operand: Box::new(int(1))
            },
            Expr::Unary {
                op: UnaryOp::Negate,
                operand: Box::new(Expr::Variable("@x".into()))
            }
        )
    );
    assert_eq!(
        value("'a' + N'b'"),
        bin(
            BinaryOp::Add,
            lit(Literal::String {
                value: "a".into(),
                unicode: false
            }),
            Expr::string("b")
        )
    );
}

#[test]
fn comparisons_are_conditions_not_values() {
    for (text, op) in [
        ("=", BinaryOp::Equal),
        ("<>", BinaryOp::NotEqual),
        ("!=", BinaryOp::NotEqual),
        ("<", BinaryOp::Less),
        ("<=", BinaryOp::LessOrEqual),
        (">", BinaryOp::Greater),
        (">=", BinaryOp::GreaterOrEqual),
        ("!<", BinaryOp::NotLess),
        ("!>", BinaryOp::NotGreater),
    ] {
        assert_eq!(
            cond(&format!("a {text} 1")),
            bin(op, col("a"), int(1)),
            "{text}"
        );
    }
    let e = err("SELECT 1 = 1");
    assert_eq!(
        (e.number, e.text.as_str()),
        (102, "Incorrect syntax near '='.")
    );
    assert_eq!(err_number("SELECT (1 = 1)"), 102);
}

#[test]
fn not_and_or_precedence() {
    // NOT binds tighter than AND, which binds tighter than OR.
    let a = || bin(BinaryOp::Equal, col("a"), int(1));
    let b = || bin(BinaryOp::Equal, col("b"), int(2));
    let c = || bin(BinaryOp::Equal, col("c"), int(3));
    assert_eq!(
        cond("a = 1 OR b = 2 AND NOT c = 3"),
        bin(
            BinaryOp::Or,
            a(),
            bin(
                BinaryOp::And,
                b(),
                Expr::Unary {
                    op: UnaryOp::Not,
                    operand: Box::new(c())
                }
            )
        )
    );
    assert_eq!(
        cond("(a = 1 OR b = 2) AND c = 3"),
        bin(BinaryOp::And, bin(BinaryOp::Or, a(), b()), c())
    );
    assert_eq!(cond("((a = 1))"), a());
    assert_eq!(
        cond("(a + 1) * 2 > (b)"),
        bin(
            BinaryOp::Greater,
            bin(
                BinaryOp::Multiply,
                bin(BinaryOp::Add, col("a"), int(1)),
                int(2)
            ),
            col("b")
        )
    );
}

#[test]
fn predicates() {
    assert_eq!(
        cond("x IS NOT NULL"),
        Expr::IsNull {
            expr: Box::new(col("x")),
            negated: true
        }
    );
    assert_eq!(
        cond("name NOT LIKE 'a!%%' ESCAPE '!'"),
        Expr::Like {
            expr: Box::new(col("name")),
            pattern: Box::new(lit(Literal::String {
                value: "a!%%".into(),
                unicode: false
            })),
            escape: Some(Box::new(lit(Literal::String {
                value: "!".into(),
                unicode: false
            }))),
            negated: true
        }
    );
    assert_eq!(
        cond("x BETWEEN 1 AND 2 AND y = 3"),
        bin(
            BinaryOp::And,
            Expr::Between {
                expr: Box::new(col("x")),
                low: Box::new(int(1)),
                high: Box::new(int(2)),
                negated: false
            },
            bin(BinaryOp::Equal, col("y"), int(3))
        )
    );
    assert_eq!(
        cond("type NOT IN ('D', 'I')"),
        Expr::InList {
            expr: Box::new(col("type")),
            list: vec![
                lit(Literal::String {
                    value: "D".into(),
                    unicode: false
                }),
                lit(Literal::String {
                    value: "I".into(),
                    unicode: false
                })
            ],
            negated: true
        }
    );
    assert!(matches!(
        cond("database_id IN (SELECT database_id FROM sys.databases)"),
        Expr::InSubquery { negated: false, .. }
    ));
    assert!(matches!(
        cond("NOT EXISTS (SELECT 1 FROM msdb.dbo.backupset)"),
        Expr::Unary {
            op: UnaryOp::Not,
            ..
        }
    ));
    assert!(matches!(
        cond("x > ALL (SELECT 1)"),
        Expr::Quantified {
            all: true,
            op: BinaryOp::Greater,
            ..
        }
    ));
    assert!(matches!(
        cond("x = SOME (SELECT 1)"),
        Expr::Quantified { all: false, .. }
    ));
}

#[test]
fn a_value_where_a_condition_is_needed_is_4145() {
    let e = err("IF 1 PRINT 'x'");
    assert_eq!(
        (e.number, e.level, e.text.as_str()),
        (
            4145,
            15,
            "An expression of non-boolean type specified in a context where a condition is expected, near 'PRINT'."
        )
    );
    assert!(
        err("SELECT 1 WHERE x AND y = 1")
            .text
            .contains("near 'AND'")
    );
    assert_eq!(err_number("SELECT 1 FROM a JOIN b ON a.x"), 4145);
    assert_eq!(err_number("WHILE (@i) PRINT 1"), 4145);
}

#[test]
fn scalar_subqueries_and_case() {
    assert!(matches!(
        value("(SELECT MAX(backup_finish_date) FROM msdb.dbo.backupset)"),
        Expr::Subquery(_)
    ));
    assert_eq!(
        value("CASE WHEN a = 1 THEN 'x' ELSE 'y' END"),
        Expr::Case {
            operand: None,
            branches: vec![(
                bin(BinaryOp::Equal, col("a"), int(1)),
                lit(Literal::String {
                    value: "x".into(),
                    unicode: false
                })
            )],
            otherwise: Some(Box::new(lit(Literal::String {
                value: "y".into(),
                unicode: false
            })))
        }
    );
    assert_eq!(
        value("CASE state WHEN 0 THEN 1 WHEN 1 THEN 2 END"),
        Expr::Case {
            operand: Some(Box::new(col("state"))),
            branches: vec![(int(0), int(1)), (int(1), int(2))],
            otherwise: None
        }
    );
    assert_eq!(err_number("SELECT CASE END"), 156);
    assert_eq!(err_number("SELECT CASE WHEN 1 THEN 2 END"), 4145);
}

#[test]
fn functions() {
    let call = |name: &str, args: Vec<Expr>| Expr::Function {
        schema: None,
        name: name.into(),
        args,
        star: false,
        distinct: false,
        over: None,
        within_group: Vec::new(),
    };
    assert_eq!(
        value("db_id('pubs')"),
        call(
            "DB_ID",
            vec![lit(Literal::String {
                value: "pubs".into(),
                unicode: false
            })]
        )
    );
    assert_eq!(value("getdate()"), call("GETDATE", vec![]));
    assert_eq!(
        value("CURRENT_TIMESTAMP"),
        call("CURRENT_TIMESTAMP", vec![])
    );
    assert_eq!(value("SYSTEM_USER"), call("SYSTEM_USER", vec![]));
    assert_eq!(
        value("LEFT(name, 3)"),
        call("LEFT", vec![col("name"), int(3)])
    );
    assert_eq!(
        value("coalesce(@a, 0)"),
        call("COALESCE", vec![Expr::Variable("@a".into()), int(0)])
    );
    assert!(matches!(
        value("COUNT(*)"),
        Expr::Function { star: true, ref args, .. } if args.is_empty()
    ));
    assert!(matches!(
        value("count(DISTINCT database_name)"),
        Expr::Function { distinct: true, .. }
    ));
    assert_eq!(
        value("sys.fn_hadr_backup_is_preferred_replica(@db)"),
        Expr::Function {
            schema: Some("sys".into()),
            name: "FN_HADR_BACKUP_IS_PREFERRED_REPLICA".into(),
            args: vec![Expr::Variable("@db".into())],
            star: false,
            distinct: false,
            over: None,
            within_group: Vec::new()
        }
    );
    assert!(matches!(
        value("IIF(@x > 1, 'a', 'b')"),
        Expr::Function { ref name, ref args, .. } if name == "IIF" && args.len() == 3
    ));
    let Expr::Function { over: Some(w), .. } =
        value("ROW_NUMBER() OVER (PARTITION BY database_name ORDER BY backup_finish_date DESC)")
    else {
        panic!()
    };
    assert_eq!(w.partition_by, [col("database_name")]);
    assert!(w.order_by[0].descending);
}

#[test]
fn date_parts() {
    let Expr::Function { args, .. } = value("DATEADD(dd, -7, GETDATE())") else {
        panic!()
    };
    assert_eq!(args[0], Expr::DatePart("DAY".into()));
    let Expr::Function { args, .. } = value("datediff(MI, a, b)") else {
        panic!()
    };
    assert_eq!(args[0], Expr::DatePart("MINUTE".into()));
    let Expr::Function { args, .. } = value("DATEPART(isowk, a)") else {
        panic!()
    };
    assert_eq!(args[0], Expr::DatePart("ISO_WEEK".into()));
    let e = err("SELECT DATEADD(fortnight, 1, a)");
    assert_eq!(
        (e.number, e.text.as_str()),
        (155, "'fortnight' is not a recognized dateadd option.")
    );
    let e = err("SELECT DATEDIFF(@p, a, b)");
    assert_eq!(
        (e.number, e.text.as_str()),
        (1023, "Invalid parameter 1 specified for datediff.")
    );
}

#[test]
fn cast_and_convert() {
    assert_eq!(
        value("CAST(x AS nvarchar(128))"),
        Expr::Cast {
            expr: Box::new(col("x")),
            ty: SqlType::NVarChar(Some(128)),
            try_: false
        }
    );
    assert_eq!(
        value("TRY_CAST(x AS varchar)"),
        Expr::Cast {
            expr: Box::new(col("x")),
            ty: SqlType::VarChar(Some(30)),
            try_: true
        }
    );
    assert_eq!(
        value("CONVERT(varchar(23), GETDATE(), 121)"),
        Expr::Convert {
            ty: SqlType::VarChar(Some(23)),
            expr: Box::new(Expr::Function {
                schema: None,
                name: "GETDATE".into(),
                args: vec![],
                star: false,
                distinct: false,
                over: None,
                within_group: Vec::new()
            }),
            style: Some(Box::new(int(121))),
            try_: false
        }
    );
    assert!(matches!(
        value("TRY_CONVERT(int, '1')"),
        Expr::Convert {
            try_: true,
            ty: SqlType::Int,
            ..
        }
    ));
    let e = err("SELECT CAST(1 AS foo)");
    assert_eq!(
        (e.number, e.level, e.text.as_str()),
        (243, 16, "Type foo is not a defined system type.")
    );
}

#[test]
fn collate_is_accepted() {
    assert_eq!(
        cond("name COLLATE DATABASE_DEFAULT = @n"),
        bin(BinaryOp::Equal, col("name"), Expr::Variable("@n".into()))
    );
}

#[test]
fn deep_nesting_is_191_not_a_crash() {
    let deep = format!("SELECT {}1{}", "(".repeat(500), ")".repeat(500));
    assert_eq!(err_number(&deep), 191);
    let deep = format!("SELECT {}1", "- ".repeat(500));
    assert_eq!(err_number(&deep), 191);
    let deep = format!("{} PRINT 1", "IF 1 = 1 ".repeat(500));
    assert_eq!(err_number(&deep), 191);
    let ok = format!("SELECT {}1{}", "(".repeat(20), ")".repeat(20));
    assert_eq!(value(&ok[7..]), int(1));
}
