//! Query tests through the parser against the test environment's tables:
//! t(id int, name varchar(10), grp char(1)) with rows (1 alpha a) (2 Beta b) (3 NULL a)
//! (4 delta NULL) (5 alpha b), and sys.databases(name, database_id, recovery_model_desc).

use crate::eval::testenv::{TestEnv, run};
use crate::value::format::sqlcmd_text;
use crate::value::{Column, SqlType, Value};

/// The rows as sqlcmd text, one string per row, cells joined by `|`.
fn rows(sql: &str) -> Vec<String> {
    let result = run(&mut TestEnv::new(), sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let table = result.table;
    table
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&table.columns)
                .map(|(v, c)| sqlcmd_text(v, c.ty))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

fn columns(sql: &str) -> Vec<Column> {
    run(&mut TestEnv::new(), sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .table
        .columns
}

fn error(sql: &str) -> (u32, String) {
    match run(&mut TestEnv::new(), sql) {
        Ok(r) => panic!("{sql} returned {:?}", r.table),
        Err(e) => (e.number, e.text),
    }
}

#[test]
fn select_without_from() {
    assert_eq!(rows("SELECT 1, 'a' AS x, N'b' y"), ["1|a|b"]);
    let cols = columns("SELECT 1, 'a' AS x, GETDATE() AS now");
    assert_eq!(cols[0], Column::new("", SqlType::Int, false));
    assert_eq!(cols[1], Column::new("x", SqlType::VarChar(Some(1)), false));
    assert_eq!(cols[2], Column::new("now", SqlType::DateTime, false));
    assert_eq!(rows("SELECT GETDATE()"), ["2024-05-01 10:30:00.123"]);
    assert_eq!(rows("SELECT @@VERSION"), ["Microsoft SQL Server 2022"]);
    assert_eq!(error("SELECT *").0, 263);
}

#[test]
fn where_order_and_names() {
    assert_eq!(
        rows("SELECT id FROM t WHERE name = 'ALPHA' ORDER BY id DESC"),
        ["5", "1"]
    );
    assert_eq!(
        rows("SELECT name FROM t ORDER BY name"),
        ["NULL", "alpha", "alpha", "Beta", "delta"]
    );
    assert_eq!(rows("SELECT name FROM t ORDER BY name DESC, id")[4], "NULL");
    assert_eq!(
        rows("SELECT id, name AS n FROM t ORDER BY n, 1 DESC")[1..3],
        ["5|alpha", "1|alpha"]
    );
    assert_eq!(
        rows("SELECT TOP (2) id FROM t ORDER BY id DESC"),
        ["5", "4"]
    );
    assert_eq!(
        rows("SELECT id FROM t ORDER BY id OFFSET 3 ROWS"),
        ["4", "5"]
    );
    assert_eq!(
        rows("SELECT id FROM t ORDER BY id OFFSET 1 ROWS FETCH NEXT 2 ROWS ONLY"),
        ["2", "3"]
    );
    assert_eq!(
        rows("SELECT TOP 1 WITH TIES name FROM t WHERE name IS NOT NULL ORDER BY name"),
        ["alpha", "alpha"]
    );
    assert_eq!(
        rows("SELECT TOP 50 PERCENT id FROM t ORDER BY id"),
        ["1", "2", "3"]
    );
    // `d.*` built by hand (the parser reads `d.` as the start of a longer name).
    let mut q = match crate::parse_batch(
        "SELECT ID, t.name, * FROM t CROSS JOIN sys.databases d WHERE 1 = 0",
        1,
    )
    .unwrap()
    .remove(0)
    .kind
    {
        crate::ast::StatementKind::Select(q) => q,
        other => panic!("{other:?}"),
    };
    if let crate::ast::QueryBody::Select(s) = &mut q.body {
        s.items[2] = crate::ast::SelectItem::Wildcard {
            qualifier: Some(crate::ast::ObjectName::new(["d"])),
        };
    }
    let cols = crate::query::run(&q, &mut TestEnv::new())
        .unwrap()
        .table
        .columns;
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["ID", "name", "name", "database_id", "recovery_model_desc"]
    );
    assert_eq!(
        cols[1],
        Column::new("name", SqlType::VarChar(Some(10)), true)
    );
    assert_eq!(columns("SELECT * FROM t").len(), 3);
}

#[test]
fn name_errors() {
    assert_eq!(
        error("SELECT nope FROM t"),
        (207, "Invalid column name 'nope'.".into())
    );
    assert_eq!(error("SELECT id FROM t WHERE nope = 1").0, 207);
    assert_eq!(error("SELECT id FROM empty WHERE nope = 1").0, 207);
    assert_eq!(
        error("SELECT name FROM t, sys.databases"),
        (209, "Ambiguous column name 'name'.".into())
    );
    assert_eq!(
        error("SELECT x.id FROM t"),
        (
            4104,
            "The multi-part identifier \"x.id\" could not be bound.".into()
        )
    );
    assert_eq!(error("SELECT t.id FROM t AS a").0, 4104);
    assert_eq!(
        error("SELECT 1 FROM nosuch"),
        (208, "Invalid object name 'nosuch'.".into())
    );
    assert_eq!(error("SELECT 1 FROM t, t").0, 1013);
    assert_eq!(error("SELECT id FROM t ORDER BY 4").0, 108);
}

#[test]
fn joins() {
    let sql = "SELECT a.id, b.id FROM t a JOIN t b ON a.name = b.name AND a.id < b.id";
    assert_eq!(rows(sql), ["1|5"]);
    let sql =
        "SELECT a.id, b.id FROM t a LEFT JOIN t b ON a.name = b.name AND a.id < b.id ORDER BY a.id";
    assert_eq!(rows(sql), ["1|5", "2|NULL", "3|NULL", "4|NULL", "5|NULL"]);
    let sql = "SELECT a.id, b.id FROM t a RIGHT JOIN t b ON a.id = b.id + 4";
    assert_eq!(rows(sql), ["5|1", "NULL|2", "NULL|3", "NULL|4", "NULL|5"]);
    let sql = "SELECT COUNT(*) FROM t a FULL JOIN t b ON a.id = b.id + 4";
    assert_eq!(rows(sql), ["9"]);
    assert_eq!(rows("SELECT COUNT(*) FROM t, sys.databases"), ["25"]);
    let cols = columns("SELECT b.id FROM t a LEFT JOIN t b ON 1 = 0");
    assert!(cols[0].nullable);
    let sql = "SELECT t.id, x.n FROM t CROSS APPLY (SELECT t.id * 10 AS n) x WHERE t.id < 3";
    assert_eq!(rows(sql), ["1|10", "2|20"]);
    let sql = "SELECT t.id, x.n FROM t OUTER APPLY (SELECT TOP 1 d.database_id AS n FROM sys.databases d WHERE d.database_id = t.id + 3) x ORDER BY t.id";
    assert_eq!(rows(sql), ["1|4", "2|5", "3|NULL", "4|NULL", "5|NULL"]);
    assert_eq!(error("SELECT 1 FROM t JOIN t b ON t.nope = b.id").0, 207);
}

#[test]
fn grouping() {
    let sql = "SELECT grp, COUNT(*), COUNT(name), MAX(name), MIN(id), SUM(id), AVG(id) FROM t GROUP BY grp";
    assert_eq!(
        rows(sql),
        [
            "NULL|1|1|delta|4|4|4",
            "a|2|1|alpha|1|4|2",
            "b|2|2|Beta|2|7|3"
        ]
    );
    let cols = columns(sql);
    assert_eq!(cols[1], Column::new("", SqlType::Int, false));
    assert_eq!(cols[5].ty, SqlType::Int);
    assert_eq!(
        rows("SELECT COUNT(*), COUNT(DISTINCT name) FROM t"),
        ["5|3"]
    );
    assert_eq!(rows("SELECT COUNT(*), MAX(x) FROM empty"), ["0|NULL"]);
    assert_eq!(
        rows("SELECT grp FROM t GROUP BY grp HAVING COUNT(*) > 1 ORDER BY grp"),
        ["a", "b"]
    );
    assert_eq!(
        rows("SELECT grp, COUNT(*) AS c FROM t GROUP BY grp ORDER BY c DESC, grp"),
        ["a|2", "b|2", "NULL|1"]
    );
    assert_eq!(
        rows("SELECT UPPER(grp) g FROM t WHERE grp IS NOT NULL GROUP BY UPPER(grp)"),
        ["A", "B"]
    );
    assert_eq!(
        rows("SELECT STRING_AGG(name, ',') FROM t WHERE id < 3"),
        ["alpha,Beta"]
    );
    assert_eq!(
        rows("SELECT SUM(CAST(id AS numeric(5,2))), AVG(CAST(id AS float)) FROM t"),
        ["15.00|3.0"]
    );
    assert_eq!(
        error("SELECT grp, name FROM t GROUP BY grp"),
        (8120, "Column 't.name' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause.".into())
    );
    assert_eq!(
        error("SELECT id FROM t GROUP BY grp HAVING name = 'x'").0,
        8120
    );
    assert_eq!(
        error("SELECT COUNT(*) FROM t GROUP BY grp HAVING name = 'x'").0,
        8121
    );
    assert_eq!(error("SELECT id FROM t WHERE COUNT(*) > 1").0, 147);
    assert_eq!(error("SELECT MAX(COUNT(*)) FROM t").0, 130);
    assert_eq!(error("SELECT SUM(name) FROM t").0, 8117);
    let result = run(&mut TestEnv::new(), "SELECT MAX(name) FROM t").unwrap();
    assert_eq!(result.messages[0].number, 8153);
}

#[test]
fn subqueries() {
    assert_eq!(rows("SELECT (SELECT MAX(id) FROM t)"), ["5"]);
    assert_eq!(rows("SELECT (SELECT id FROM t WHERE 1 = 0)"), ["NULL"]);
    assert_eq!(error("SELECT (SELECT id FROM t)").0, 512);
    assert_eq!(error("SELECT (SELECT id, name FROM t)").0, 116);
    assert_eq!(
        rows(
            "SELECT id FROM t WHERE id IN (SELECT database_id FROM sys.databases WHERE recovery_model_desc = 'FULL')"
        ),
        ["3", "5"]
    );
    assert_eq!(
        rows(
            "SELECT id FROM t WHERE id NOT IN (SELECT database_id FROM sys.databases WHERE database_id > 2)"
        ),
        ["1", "2"]
    );
    assert_eq!(
        rows(
            "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM sys.databases d WHERE d.database_id = t.id * 2)"
        ),
        ["1", "2"]
    );
    assert_eq!(
        rows("SELECT id, (SELECT COUNT(*) FROM t b WHERE b.grp = t.grp) FROM t WHERE id < 3"),
        ["1|2", "2|2"]
    );
    assert_eq!(
        rows(
            "SELECT id FROM t WHERE id > ALL (SELECT database_id FROM sys.databases WHERE database_id < 4)"
        ),
        ["4", "5"]
    );
    assert_eq!(
        rows(
            "SELECT id FROM t WHERE id = ANY (SELECT database_id FROM sys.databases WHERE database_id > 3)"
        ),
        ["4", "5"]
    );
    assert_eq!(
        rows("SELECT x.n FROM (SELECT id * 2 AS n FROM t) AS x WHERE x.n > 6"),
        ["8", "10"]
    );
    assert_eq!(
        error("SELECT * FROM (SELECT id FROM t ORDER BY id) x").0,
        1033
    );
    assert_eq!(error("SELECT * FROM (SELECT 1) x").0, 8155);
}

#[test]
fn distinct_and_set_operations() {
    assert_eq!(
        rows("SELECT DISTINCT name FROM t"),
        ["NULL", "alpha", "Beta", "delta"]
    );
    assert_eq!(
        rows("SELECT DISTINCT grp FROM t ORDER BY grp DESC"),
        ["b", "a", "NULL"]
    );
    assert_eq!(error("SELECT DISTINCT grp FROM t ORDER BY id").0, 145);
    assert_eq!(rows("SELECT 1 UNION SELECT 2 UNION SELECT 1"), ["1", "2"]);
    assert_eq!(
        rows("SELECT 1 AS a UNION ALL SELECT 1 ORDER BY a"),
        ["1", "1"]
    );
    assert_eq!(
        rows("SELECT id FROM t EXCEPT SELECT database_id FROM sys.databases WHERE database_id < 4"),
        ["4", "5"]
    );
    assert_eq!(
        rows(
            "SELECT id FROM t INTERSECT SELECT database_id FROM sys.databases WHERE database_id < 3"
        ),
        ["1", "2"]
    );
    assert_eq!(
        columns("SELECT NULL UNION SELECT 'abc'")[0].ty,
        SqlType::VarChar(Some(3))
    );
    assert_eq!(
        columns("SELECT 1 UNION SELECT 2.5")[0].ty,
        SqlType::Decimal {
            precision: 11,
            scale: 1
        }
    );
    assert_eq!(error("SELECT 1 UNION SELECT 1, 2").0, 205);
    assert_eq!(error("SELECT 'a' UNION SELECT 1").0, 245);
    assert_eq!(
        error("SELECT id FROM t UNION SELECT 1 ORDER BY name").0,
        104
    );
    assert_eq!(
        rows("SELECT id FROM t WHERE id < 3 UNION ALL SELECT 9 ORDER BY 1 DESC"),
        ["9", "2", "1"]
    );
}

#[test]
fn window_functions() {
    let sql = "SELECT id, ROW_NUMBER() OVER (ORDER BY id DESC) FROM t ORDER BY id";
    assert_eq!(rows(sql), ["1|5", "2|4", "3|3", "4|2", "5|1"]);
    let sql = "SELECT id, RANK() OVER (ORDER BY name), DENSE_RANK() OVER (ORDER BY name) FROM t ORDER BY id";
    assert_eq!(rows(sql), ["1|2|2", "2|4|3", "3|1|1", "4|5|4", "5|2|2"]);
    let sql = "SELECT id, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY id) rn FROM t WHERE grp IS NOT NULL ORDER BY grp, rn";
    assert_eq!(rows(sql), ["1|1", "3|2", "2|1", "5|2"]);
    let sql =
        "SELECT id, SUM(id) OVER (PARTITION BY grp), SUM(id) OVER (ORDER BY id) FROM t ORDER BY id";
    assert_eq!(rows(sql), ["1|4|1", "2|7|3", "3|4|6", "4|4|10", "5|7|15"]);
    let sql = "SELECT id, LAG(id) OVER (ORDER BY id), LEAD(id, 2, 0) OVER (ORDER BY id) FROM t WHERE id < 4";
    assert_eq!(rows(sql), ["1|NULL|3", "2|1|0", "3|2|0"]);
    assert_eq!(
        columns("SELECT ROW_NUMBER() OVER (ORDER BY id) FROM t")[0].ty,
        SqlType::BigInt
    );
    assert_eq!(
        error("SELECT ROW_NUMBER() OVER (PARTITION BY id) FROM t").0,
        4112
    );
    assert_eq!(
        error("SELECT id FROM t WHERE ROW_NUMBER() OVER (ORDER BY id) = 1").0,
        4108
    );
    let sql = "SELECT grp, COUNT(*), RANK() OVER (ORDER BY COUNT(*) DESC, grp) FROM t GROUP BY grp";
    assert_eq!(rows(sql), ["NULL|1|3", "a|2|1", "b|2|2"]);
}

#[test]
fn values_ctes_and_table_functions() {
    assert_eq!(
        rows("SELECT v.a + v.b FROM (VALUES (1, 2), (3, 4)) AS v(a, b)"),
        ["3", "7"]
    );
    assert_eq!(
        columns("SELECT * FROM (VALUES (1), (2.5), (NULL)) v(x)")[0].ty,
        SqlType::Decimal {
            precision: 11,
            scale: 1
        }
    );
    assert_eq!(error("SELECT * FROM (VALUES (1), (2, 3)) v(x)").0, 10709);
    assert_eq!(error("SELECT * FROM (VALUES (1, 2)) v(x)").0, 8158);
    let sql = "WITH c AS (SELECT id FROM t WHERE id > 3) SELECT COUNT(*) FROM c";
    assert_eq!(rows(sql), ["2"]);
    let sql =
        "WITH n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT SUM(i) FROM n";
    assert_eq!(rows(sql), ["15"]);
    let sql = "WITH n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n";
    assert_eq!(error(sql).0, 530);
    assert_eq!(
        rows("SELECT value FROM STRING_SPLIT('a,b,,c', ',')"),
        ["a", "b", "", "c"]
    );
    assert_eq!(
        rows("SELECT SUM(value) FROM GENERATE_SERIES(1, 10)"),
        ["55"]
    );
}

#[test]
fn assignments() {
    let mut env = TestEnv::new();
    env.declare("@s", SqlType::VarChar(Some(100)), Value::text(""));
    env.declare("@n", SqlType::Int, Value::Null);
    let result = run(
        &mut env,
        "SELECT @s = @s + name + ';', @n = id FROM t WHERE name IS NOT NULL ORDER BY id",
    )
    .unwrap();
    assert!(result.assigns);
    assert!(result.table.columns.is_empty());
    assert_eq!(
        result.assignments,
        [
            ("@s".to_owned(), Value::text("alpha;Beta;delta;alpha;")),
            ("@n".to_owned(), Value::Int(5))
        ]
    );
    let result = run(&mut env, "SELECT @n = id FROM t WHERE 1 = 0").unwrap();
    assert!(result.assignments.is_empty());
    let result = run(&mut env, "SELECT @n = '12'").unwrap();
    assert_eq!(result.assignments, [("@n".to_owned(), Value::Int(12))]);
    assert_eq!(
        run(&mut env, "SELECT @n = 1, id FROM t")
            .unwrap_err()
            .number,
        141
    );
    assert_eq!(run(&mut env, "SELECT @nope = 1").unwrap_err().number, 137);
    assert_eq!(run(&mut env, "SELECT @n = 'x'").unwrap_err().number, 245);
    let result = run(&mut env, "SELECT @n += 5").unwrap();
    assert_eq!(result.assignments, [("@n".to_owned(), Value::Null)]);
}

#[test]
fn row_limit_stops_runaway_joins() {
    let sql =
        "SELECT COUNT(*) FROM GENERATE_SERIES(1, 1001) a CROSS JOIN GENERATE_SERIES(1, 1000) b";
    assert_eq!(error(sql).0, 59050);
}
