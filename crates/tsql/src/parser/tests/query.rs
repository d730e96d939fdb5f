//! SELECT: items, TOP, INTO, FROM and joins, WHERE/GROUP BY/HAVING, ORDER BY, OFFSET/FETCH,
//! set operations and common table expressions.

use super::*;

fn query(sql: &str) -> Query {
    match one(sql) {
        StatementKind::Select(q) => q,
        other => panic!("{sql}: {other:?}"),
    }
}

fn col(name: &str) -> Expr {
    Expr::Column(ObjectName::new(name.split('.')))
}

fn named(name: &str, alias: Option<&str>) -> TableRef {
    TableRef::Named {
        name: ObjectName::new(name.split('.')),
        alias: alias.map(str::to_owned),
    }
}

fn item(expr: Expr, alias: Option<&str>) -> SelectItem {
    SelectItem::Expr {
        expr,
        alias: alias.map(str::to_owned),
    }
}

#[test]
fn select_without_from() {
    let s = select_of("SELECT 1");
    assert_eq!(s.items, [item(Expr::integer(1), None)]);
    assert!(s.from.is_empty());
    let s = select_of("SELECT SERVERPROPERTY('ProductVersion') AS v, @@SPID spid, 'x' AS 'y'");
    assert_eq!(s.items.len(), 3);
    assert!(matches!(&s.items[0], SelectItem::Expr { alias: Some(a), .. } if a == "v"));
    assert!(matches!(&s.items[1], SelectItem::Expr { alias: Some(a), .. } if a == "spid"));
    assert!(matches!(&s.items[2], SelectItem::Expr { alias: Some(a), .. } if a == "y"));
}

#[test]
fn select_item_forms() {
    let s = select_of(
        "SELECT *, d.*, master.sys.databases.*, n = name, 'label' = 1, name [db name], 2 \"two\"",
    );
    assert_eq!(
        s.items,
        [
            SelectItem::Wildcard { qualifier: None },
            SelectItem::Wildcard {
                qualifier: Some(ObjectName::new(["d"]))
            },
            SelectItem::Wildcard {
                qualifier: Some(ObjectName::new(["master", "sys", "databases"]))
            },
            item(col("name"), Some("n")),
            item(Expr::integer(1), Some("label")),
            item(col("name"), Some("db name")),
            item(Expr::integer(2), Some("two")),
        ]
    );
    let s = select_of("SELECT @v = name, @n += 1 FROM sys.databases");
    assert_eq!(
        s.items,
        [
            SelectItem::Assign {
                variable: "@v".into(),
                op: None,
                expr: col("name")
            },
            SelectItem::Assign {
                variable: "@n".into(),
                op: Some(BinaryOp::Add),
                expr: Expr::integer(1)
            },
        ]
    );
    assert_eq!(err_number("SELECT 1 AS"), 156);
    assert_eq!(err_number("SELECT 1,"), 102);
    assert_eq!(err_number("SELECT FROM t"), 156);
}

#[test]
fn distinct_top_into() {
    let s = select_of(
        "SELECT DISTINCT TOP (10) PERCENT WITH TIES name INTO #names FROM sys.databases ORDER BY name",
    );
    assert!(s.distinct);
    assert_eq!(
        s.top,
        Some(Top {
            count: Expr::integer(10),
            percent: true,
            with_ties: true
        })
    );
    assert_eq!(s.into, Some(ObjectName::new(["#names"])));
    let s = select_of("SELECT TOP 1 @x = name FROM t");
    assert_eq!(s.top.unwrap().count, Expr::integer(1));
    let s = select_of("SELECT TOP (@n) name FROM t");
    assert_eq!(s.top.unwrap().count, Expr::Variable("@n".into()));
    assert_eq!(err_number("SELECT TOP @n name FROM t"), 102);
    assert!(!select_of("SELECT ALL name FROM t").distinct);
}

#[test]
fn from_with_aliases_hints_and_names() {
    let s = select_of(
        "SELECT * FROM msdb..backupset AS b WITH (NOLOCK), msdb.dbo.backupmediafamily f (nolock), [sys].[databases] d, #t, ##g, @tv t",
    );
    assert_eq!(
        s.from,
        [
            named("msdb..backupset", Some("b")),
            named("msdb.dbo.backupmediafamily", Some("f")),
            named("sys.databases", Some("d")),
            named("#t", None),
            named("##g", None),
            named("@tv", Some("t")),
        ]
    );
    let s = select_of("SELECT * FROM t WITH (INDEX(ix), NOLOCK) WHERE 1 = 1");
    assert_eq!(s.from, [named("t", None)]);
    assert!(s.selection.is_some());
}

#[test]
fn joins_and_apply() {
    let s = select_of(
        "SELECT * FROM a INNER JOIN b ON a.x = b.x LEFT OUTER JOIN c ON c.y = b.y \
         RIGHT JOIN d ON 1 = 1 FULL JOIN e ON 1 = 1 CROSS JOIN f CROSS APPLY g(a.x) OUTER APPLY (SELECT 1 AS z) h JOIN i ON 1 = 1",
    );
    let mut kinds = Vec::new();
    let mut node = &s.from[0];
    while let TableRef::Join { left, kind, on, .. } = node {
        kinds.push((*kind, on.is_some()));
        node = left;
    }
    kinds.reverse();
    assert_eq!(
        kinds,
        [
            (JoinKind::Inner, true),
            (JoinKind::Left, true),
            (JoinKind::Right, true),
            (JoinKind::Full, true),
            (JoinKind::Cross, false),
            (JoinKind::CrossApply, false),
            (JoinKind::OuterApply, false),
            (JoinKind::Inner, true),
        ]
    );
    assert_eq!(*node, named("a", None));
    // A JOIN's right side may hold its own join, ON after ON.
    let s = select_of("SELECT * FROM a JOIN b JOIN c ON b.x = c.x ON a.x = b.x");
    let TableRef::Join { left, right, .. } = &s.from[0] else {
        panic!()
    };
    assert_eq!(**left, named("a", None));
    assert!(matches!(**right, TableRef::Join { .. }));
    // Parenthesized joins.
    let s = select_of("SELECT * FROM (a JOIN b ON 1 = 1) LEFT JOIN c ON 1 = 1");
    assert!(matches!(
        s.from[0],
        TableRef::Join {
            kind: JoinKind::Left,
            ..
        }
    ));
    assert_eq!(err_number("SELECT * FROM a JOIN b"), 102);
    assert_eq!(err_number("SELECT * FROM a JOIN b WHERE 1 = 1"), 156);
    assert_eq!(err_number("SELECT * FROM a LEFT b ON 1 = 1"), 102);
}

#[test]
fn derived_tables_values_and_functions() {
    let s = select_of("SELECT x FROM (SELECT 1 AS x) AS d (x)");
    assert!(matches!(
        &s.from[0],
        TableRef::Derived { alias, columns, .. } if alias == "d" && columns == &["x"]
    ));
    let s = select_of("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s)");
    let TableRef::Values {
        rows,
        alias,
        columns,
    } = &s.from[0]
    else {
        panic!()
    };
    assert_eq!((rows.len(), alias.as_str(), columns.len()), (2, "v", 2));
    let s = select_of("SELECT * FROM sys.fn_helpcollations() c");
    assert_eq!(
        s.from,
        [TableRef::Function {
            name: ObjectName::new(["sys", "fn_helpcollations"]),
            args: vec![],
            alias: Some("c".into())
        }]
    );
    assert_eq!(err_number("SELECT * FROM (SELECT 1 AS x)"), 102);
}

#[test]
fn where_group_having_order() {
    let q = query(
        "SELECT database_name, COUNT(*) AS n, MAX(backup_finish_date) FROM msdb.dbo.backupset \
         WHERE type = 'D' GROUP BY database_name HAVING COUNT(*) > 1 ORDER BY 2 DESC, database_name ASC",
    );
    let QueryBody::Select(s) = &q.body else {
        panic!()
    };
    assert!(s.selection.is_some());
    assert_eq!(s.group_by, [col("database_name")]);
    assert!(s.having.is_some());
    assert_eq!(
        q.order_by,
        [
            OrderItem {
                expr: Expr::integer(2),
                descending: true
            },
            OrderItem {
                expr: col("database_name"),
                descending: false
            }
        ]
    );
    assert_eq!(err_number("SELECT 1 WHERE"), 156);
    assert_eq!(err_number("SELECT name FROM t ORDER name"), 102);
}

#[test]
fn offset_fetch_and_option() {
    let q = query(
        "SELECT name FROM t ORDER BY name OFFSET 10 ROWS FETCH NEXT 5 ROWS ONLY OPTION (RECOMPILE, MAXDOP 1)",
    );
    assert_eq!(q.offset, Some(Expr::integer(10)));
    assert_eq!(q.fetch, Some(Expr::integer(5)));
    let q = query("SELECT name FROM t ORDER BY name OFFSET @o ROW");
    assert_eq!(q.fetch, None);
    assert_eq!(err_number("SELECT name FROM t ORDER BY name OFFSET 1"), 102);
}

#[test]
fn set_operations() {
    let q = query(
        "SELECT 1 UNION ALL SELECT 2 UNION SELECT 3 EXCEPT SELECT 4 INTERSECT SELECT 5 ORDER BY 1",
    );
    // ((1 UNION ALL 2) UNION 3) EXCEPT (4 INTERSECT 5)
    let QueryBody::SetOperation {
        op, left, right, ..
    } = &q.body
    else {
        panic!()
    };
    assert_eq!(*op, SetOperator::Except);
    assert!(matches!(
        **right,
        QueryBody::SetOperation {
            op: SetOperator::Intersect,
            ..
        }
    ));
    let QueryBody::SetOperation { op, all, left, .. } = &**left else {
        panic!()
    };
    assert_eq!((*op, *all), (SetOperator::Union, false));
    assert!(matches!(
        **left,
        QueryBody::SetOperation {
            op: SetOperator::Union,
            all: true,
            ..
        }
    ));
    assert_eq!(q.order_by.len(), 1);
    let q = query("(SELECT 1) UNION (SELECT 2)");
    assert!(matches!(q.body, QueryBody::SetOperation { .. }));
}

#[test]
fn common_table_expressions() {
    let q = query(
        "WITH last (db, finished) AS (SELECT database_name, MAX(backup_finish_date) FROM msdb.dbo.backupset GROUP BY database_name), \
         n AS (SELECT 1 AS x) SELECT * FROM last JOIN n ON 1 = 1",
    );
    let QueryBody::With { ctes, body } = &q.body else {
        panic!()
    };
    assert_eq!(ctes.len(), 2);
    assert_eq!(ctes[0].name, "last");
    assert_eq!(ctes[0].columns, ["db", "finished"]);
    assert!(ctes[1].columns.is_empty());
    assert!(matches!(**body, QueryBody::Select(_)));
    assert_eq!(err_number("WITH c AS (SELECT 1) PRINT 1"), 156);
}

#[test]
fn subqueries_in_from_where_and_select() {
    let s = select_of(
        "SELECT d.name, (SELECT TOP 1 b.backup_finish_date FROM msdb.dbo.backupset b WHERE b.database_name = d.name ORDER BY b.backup_finish_date DESC) AS last \
         FROM sys.databases d WHERE d.database_id > 4 AND d.name NOT IN (SELECT name FROM #skip) AND EXISTS (SELECT 1)",
    );
    let SelectItem::Expr {
        expr: Expr::Subquery(sub),
        ..
    } = &s.items[1]
    else {
        panic!()
    };
    assert_eq!(sub.order_by.len(), 1);
}

#[test]
fn a_typical_tool_script() {
    let script = "SET NOCOUNT ON;
IF OBJECT_ID('tempdb..#dbs') IS NOT NULL DROP TABLE #dbs;
CREATE TABLE #dbs (name sysname, recovery nvarchar(60));
INSERT INTO #dbs (name, recovery)
SELECT name, recovery_model_desc FROM sys.databases WITH (NOLOCK) WHERE state_desc = N'ONLINE' AND name NOT IN ('tempdb');
DECLARE @db sysname, @sql nvarchar(max);
DECLARE @i int = 0;
WHILE EXISTS (SELECT 1 FROM #dbs)
BEGIN
    SELECT TOP (1) @db = name FROM #dbs ORDER BY name;
    IF sys.fn_hadr_backup_is_preferred_replica(@db) = 1
        PRINT N'Backing up ' + QUOTENAME(@db);
    DELETE FROM #dbs WHERE name = @db;
    SET @i += 1;
END
SELECT @i AS done;";
    let statements = parse_batch(script, 1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(statements.len(), 8);
    assert!(matches!(statements[1].kind, StatementKind::If(_)));
    assert_eq!(statements[5].line, 7);
    assert_eq!(statements[7].line, 16);
}
