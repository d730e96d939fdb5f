//! Expression tests through the parser: `SELECT expr`, its declared type and its value.

use super::testenv::{TestEnv, fails, run, scalar, scalar_in, shown};
use super::*;
use crate::value::{Decimal, SqlType, Value};

fn ty(expr: &str) -> SqlType {
    scalar(expr).unwrap_or_else(|e| panic!("{expr}: {e}")).0
}

fn num(p: u8, s: u8) -> SqlType {
    SqlType::Decimal {
        precision: p,
        scale: s,
    }
}

#[test]
fn literal_types() {
    assert_eq!(ty("1"), SqlType::Int);
    assert_eq!(ty("'abc'"), SqlType::VarChar(Some(3)));
    assert_eq!(ty("N'abc'"), SqlType::NVarChar(Some(3)));
    assert_eq!(ty("1.5"), num(2, 1));
    assert_eq!(ty("3000000000"), num(10, 0));
    assert_eq!(ty("0x0A0B"), SqlType::VarBinary(Some(2)));
    assert_eq!(ty("1e3"), SqlType::Float);
    assert_eq!(ty("NULL"), SqlType::Int);
    assert_eq!(shown("0x0A0B"), "0x0A0B");
    assert_eq!(shown("NULL"), "NULL");
}

#[test]
fn integer_arithmetic() {
    assert_eq!(shown("7 / 2"), "3");
    assert_eq!(shown("-7 / 2"), "-3");
    assert_eq!(shown("-7 % 3"), "-1");
    assert_eq!(shown("2 + 3 * 4"), "14");
    assert_eq!(fails("1 / 0"), 8134);
    assert_eq!(fails("1 % 0"), 8134);
    assert_eq!(fails("2147483647 + 1"), 8115);
    assert_eq!(ty("CAST(1 AS bigint) + 1"), SqlType::BigInt);
    assert_eq!(
        ty("CAST(1 AS tinyint) + CAST(1 AS tinyint)"),
        SqlType::TinyInt
    );
    assert_eq!(fails("CAST(200 AS tinyint) + CAST(100 AS tinyint)"), 220);
    assert_eq!(shown("5 & 3"), "1");
    assert_eq!(shown("5 | 3"), "7");
    assert_eq!(shown("5 ^ 3"), "6");
    assert_eq!(shown("~0"), "-1");
    assert_eq!(fails("CAST(1 AS bit) + CAST(1 AS bit)"), 8117);
}

#[test]
fn decimal_arithmetic() {
    assert_eq!(scalar("1.0 / 3").unwrap().0, num(13, 12));
    assert_eq!(shown("1.0 / 3"), ".333333333333");
    assert_eq!(shown("2.0 / 3"), ".666666666666");
    assert_eq!(shown("1.5 + 1"), "2.5");
    assert_eq!(ty("1.5 * 1.5"), num(5, 2));
    assert_eq!(shown("1.5 * 1.5"), "2.25");
    assert_eq!(shown("10.5 % 3"), "1.5");
    assert_eq!(fails("1.0 / 0"), 8134);
    assert_eq!(shown("$1.50 * 2"), "3.0000");
    assert_eq!(ty("1.5E0 + 1"), SqlType::Float);
    assert_eq!(shown("1E0 / 4"), "0.25");
    assert_eq!(fails("1.5E0 % 1"), 402);
}

#[test]
fn strings_and_plus() {
    assert_eq!(shown("'a' + 'b'"), "ab");
    assert_eq!(ty("'ab' + 'cde'"), SqlType::VarChar(Some(5)));
    assert_eq!(ty("'ab' + N'c'"), SqlType::NVarChar(Some(3)));
    assert_eq!(shown("'1' + 1"), "2");
    assert_eq!(ty("'1' + 1"), SqlType::Int);
    assert_eq!(fails("'a' + 1"), 245);
    assert_eq!(
        scalar("'a' + 1").unwrap_err().text,
        "Conversion failed when converting the varchar value 'a' to data type int."
    );
    assert_eq!(shown("'a' + NULL"), "NULL");
    assert_eq!(fails("'a' - 'b'"), 8117);
    assert_eq!(shown("0x01 + 0x02"), "0x0102");
}

#[test]
fn datetime_arithmetic() {
    assert_eq!(
        shown("CAST('2024-05-01' AS datetime) + 1"),
        "2024-05-02 00:00:00.000"
    );
    assert_eq!(
        shown("CAST('2024-05-01' AS datetime) - 0.5"),
        "2024-04-30 12:00:00.000"
    );
    assert_eq!(ty("GETDATE() - 1"), SqlType::DateTime);
    assert_eq!(
        shown("CAST('2024-05-03' AS datetime) - CAST('2024-05-01' AS datetime)"),
        "1900-01-03 00:00:00.000"
    );
    assert_eq!(fails("CAST('2024-05-01' AS date) + 1"), 206);
    assert_eq!(fails("CAST('2024-05-01' AS datetime) * 2"), 8117);
}

#[test]
fn comparisons_and_three_valued_logic() {
    let yes = |c: &str| {
        shown(&format!(
            "CASE WHEN {c} THEN 'T' WHEN NOT ({c}) THEN 'F' ELSE 'U' END"
        ))
    };
    assert_eq!(yes("1 = 1"), "T");
    assert_eq!(yes("'abc' = 'ABC  '"), "T");
    assert_eq!(yes("'a' < 'B'"), "T");
    assert_eq!(yes("1 = NULL"), "U");
    assert_eq!(yes("NULL = NULL"), "U");
    assert_eq!(yes("NULL IS NULL"), "T");
    assert_eq!(yes("1 IS NOT NULL"), "T");
    assert_eq!(yes("1 = 1 OR 1 = NULL"), "T");
    assert_eq!(yes("1 = 0 AND 1 = NULL"), "F");
    assert_eq!(yes("1 = 1 AND 1 = NULL"), "U");
    assert_eq!(yes("'10' = 10"), "T");
    assert_eq!(yes("1.0 = 1"), "T");
    assert_eq!(yes("2 BETWEEN 1 AND 3"), "T");
    assert_eq!(yes("2 NOT BETWEEN 1 AND 3"), "F");
    assert_eq!(yes("2 IN (1, 2)"), "T");
    assert_eq!(yes("3 IN (1, NULL)"), "U");
    assert_eq!(yes("3 NOT IN (1, 2)"), "T");
    assert_eq!(yes("3 NOT IN (1, NULL)"), "U");
    assert_eq!(yes("CAST('2024-05-01' AS date) = '2024-05-01'"), "T");
    assert_eq!(yes("GETDATE() > '2020-01-01'"), "T");
    assert_eq!(fails("CASE WHEN 'a' = 1 THEN 1 END"), 245);
}

#[test]
fn like() {
    let yes = |c: &str| shown(&format!("IIF({c}, 1, 0)"));
    assert_eq!(yes("'master' LIKE 'MAS%'"), "1");
    assert_eq!(yes("'master' LIKE 'm_ster'"), "1");
    assert_eq!(yes("'b1' LIKE '[a-c][0-9]'"), "1");
    assert_eq!(yes("'x' LIKE '[^a-c]'"), "1");
    assert_eq!(yes("'50%' LIKE '50!%' ESCAPE '!'"), "1");
    assert_eq!(yes("'500' LIKE '50!%' ESCAPE '!'"), "0");
    assert_eq!(yes("'abc' NOT LIKE 'a%'"), "0");
    assert_eq!(fails("CASE WHEN 'a' LIKE 'a' ESCAPE 'xy' THEN 1 END"), 506);
}

#[test]
fn case_types_and_values() {
    assert_eq!(ty("CASE WHEN 1 = 1 THEN 1 ELSE 2.5 END"), num(11, 1));
    assert_eq!(shown("CASE WHEN 1 = 1 THEN 1 ELSE 2.5 END"), "1.0");
    assert_eq!(
        ty("CASE 1 WHEN 1 THEN 'a' ELSE 'abc' END"),
        SqlType::VarChar(Some(3))
    );
    assert_eq!(
        shown("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END"),
        "two"
    );
    assert_eq!(shown("CASE 3 WHEN 1 THEN 'one' END"), "NULL");
    assert_eq!(fails("CASE WHEN 1 = 1 THEN 'a' ELSE 1 END"), 245);
    assert_eq!(shown("CASE WHEN 1 = 0 THEN 'a' ELSE 1 END"), "1");
}

#[test]
fn cast_convert_and_try() {
    assert_eq!(ty("CAST(1 AS varchar)"), SqlType::VarChar(Some(30)));
    assert_eq!(shown("CAST('42' AS int)"), "42");
    assert_eq!(fails("CAST('x' AS int)"), 245);
    assert_eq!(shown("TRY_CAST('x' AS int)"), "NULL");
    assert_eq!(shown("TRY_CONVERT(int, '12')"), "12");
    assert_eq!(fails("TRY_CAST(1 AS date)"), 529);
    assert_eq!(
        shown("CONVERT(varchar(10), CAST('2024-05-01' AS datetime), 112)"),
        "20240501"
    );
    assert_eq!(
        shown("CONVERT(varchar, CAST('2024-05-01 10:30' AS datetime), 120)"),
        "2024-05-01 10:30:00"
    );
    assert_eq!(shown("CONVERT(varchar(8), 0x0A0B, 1)"), "0x0A0B");
    assert_eq!(
        shown("CONVERT(datetime, '01/05/2024', 103)"),
        "2024-05-01 00:00:00.000"
    );
    assert_eq!(shown("CAST(12.345 AS numeric(5,2))"), "12.35");
    assert_eq!(
        shown("CAST('2024-05-01T10:30:00.123' AS datetime2)"),
        "2024-05-01 10:30:00.1230000"
    );
    assert_eq!(fails("CAST('2024-99-01' AS datetime2)"), 241);
}

#[test]
fn variables() {
    let mut env = TestEnv::new();
    env.declare("@n", SqlType::Int, Value::Int(5));
    env.declare("@s", SqlType::NVarChar(Some(20)), Value::text("pubs"));
    assert_eq!(
        scalar_in(&mut env, "@N * 2").unwrap(),
        (SqlType::Int, Value::Int(10))
    );
    assert_eq!(scalar_in(&mut env, "DB_ID(@s)").unwrap().1, Value::Int(5));
    assert_eq!(scalar_in(&mut env, "@missing").unwrap_err().number, 137);
    assert_eq!(scalar_in(&mut env, "@@SPID").unwrap().1, Value::Int(52));
    assert_eq!(scalar_in(&mut env, "@@NOPE").unwrap_err().number, 137);
}

#[test]
fn public_api() {
    let mut env = TestEnv::new();
    let expr = crate::ast::Expr::integer(41);
    assert_eq!(
        evaluate(&expr, &mut env).unwrap(),
        (SqlType::Int, Value::Int(41))
    );
    assert_eq!(type_of(&expr, &mut env).unwrap(), (SqlType::Int, false));
    let null = crate::ast::Expr::Literal(crate::ast::Literal::Null);
    assert_eq!(condition(&null, &mut env).unwrap(), None);
    let statements = crate::parse_batch("IF 1 < 2 PRINT 'x'", 1).unwrap();
    let crate::ast::StatementKind::If(i) = &statements[0].kind else {
        panic!("not an IF");
    };
    assert_eq!(condition(&i.condition, &mut env).unwrap(), Some(true));
}

#[test]
fn functions_route_to_the_environment() {
    assert_eq!(fails("NO_SUCH_FUNCTION(1)"), 195);
    assert_eq!(
        scalar("NO_SUCH_FUNCTION(1)").unwrap_err().text,
        "'NO_SUCH_FUNCTION' is not a recognized built-in function name."
    );
    assert_eq!(
        shown("sys.fn_hadr_backup_is_preferred_replica('pubs')"),
        "1"
    );
    assert_eq!(fails("dbo.nope(1)"), 4121);
    assert_eq!(ty("DB_ID('pubs')"), SqlType::SmallInt);
}

#[test]
fn nesting_depth_is_bounded() {
    let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
    let mut env = TestEnv::new();
    let result = run(&mut env, &format!("SELECT {deep}"));
    assert!(result.is_err());
    let sum = (0..300).map(|_| "1").collect::<Vec<_>>().join(" + ");
    let r = run(&mut env, &format!("SELECT {sum}"));
    match r {
        Ok(r) => assert_eq!(r.table.rows[0][0], Value::Int(300)),
        Err(e) => assert!(matches!(e.number, 191 | 102), "{e}"),
    }
}

#[test]
fn sql_variants_compare_by_family_first() {
    let mut env = TestEnv::new();
    env.declare("@v", SqlType::SqlVariant, Value::text("16"));
    env.declare("@n", SqlType::SqlVariant, Value::Int(16));
    let truth = |env: &mut TestEnv, c: &str| scalar_in(env, &format!("IIF({c}, 1, 0)")).unwrap().1;
    // An nvarchar variant is below any exact number.
    assert_eq!(truth(&mut env, "@v >= 13"), Value::Int(0));
    assert_eq!(truth(&mut env, "@n >= 13"), Value::Int(1));
    assert_eq!(truth(&mut env, "@v = N'16'"), Value::Int(1));
    assert_eq!(truth(&mut env, "CAST(@v AS int) >= 13"), Value::Int(1));
}

#[test]
fn decimal_values_keep_scale() {
    assert_eq!(
        scalar("1.50").unwrap().1,
        Value::Decimal(Decimal {
            mantissa: 150,
            scale: 2
        })
    );
}
