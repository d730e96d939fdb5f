//! Built-in function tests through the parser: values as sqlcmd prints them, declared types,
//! and SQL Server's errors.

use crate::eval::testenv::{TestEnv, fails, scalar, scalar_in, shown};
use crate::messages::SqlMessage;
use crate::value::{SqlType, Value};

fn ty(expr: &str) -> SqlType {
    scalar(expr).unwrap_or_else(|e| panic!("{expr}: {e}")).0
}

#[test]
fn null_handling() {
    assert_eq!(shown("ISNULL(NULL, 'x')"), "x");
    assert_eq!(
        ty("ISNULL(CAST(NULL AS varchar(2)), 'xyz')"),
        SqlType::VarChar(Some(2))
    );
    assert_eq!(shown("ISNULL(CAST(NULL AS varchar(2)), 'xyz')"), "xy");
    assert_eq!(fails("ISNULL(CAST(NULL AS int), 'x')"), 245);
    assert_eq!(shown("COALESCE(NULL, NULL, 3)"), "3");
    assert_eq!(
        ty("COALESCE(NULL, 1, 2.5)"),
        SqlType::Decimal {
            precision: 11,
            scale: 1
        }
    );
    assert_eq!(shown("NULLIF(1, 1)"), "NULL");
    assert_eq!(shown("NULLIF(1, 2)"), "1");
    assert_eq!(shown("IIF(1 > 2, 'a', 'b')"), "b");
    assert_eq!(shown("CHOOSE(2, 'a', 'b', 'c')"), "b");
    assert_eq!(shown("CHOOSE(4, 'a', 'b', 'c')"), "NULL");
    // Only the chosen branch runs.
    assert_eq!(shown("COALESCE(1, 1 / 0)"), "1");
    assert_eq!(shown("IIF(1 = 1, 1, 1 / 0)"), "1");
}

#[test]
fn string_functions() {
    assert_eq!(shown("LEN('abc  ')"), "3");
    assert_eq!(shown("LEN(N'')"), "0");
    assert_eq!(ty("LEN(CAST('a' AS varchar(max)))"), SqlType::BigInt);
    assert_eq!(shown("DATALENGTH(N'abc')"), "6");
    assert_eq!(shown("DATALENGTH('abc  ')"), "5");
    assert_eq!(shown("DATALENGTH(1)"), "4");
    assert_eq!(shown("UPPER('abc') + LOWER('DEF')"), "ABCdef");
    assert_eq!(shown("'[' + LTRIM('  a  ') + ']'"), "[a  ]");
    assert_eq!(shown("'[' + RTRIM('  a  ') + ']'"), "[  a]");
    assert_eq!(shown("'[' + TRIM('  a  ') + ']'"), "[a]");
    assert_eq!(shown("SUBSTRING('abcdef', 2, 3)"), "bcd");
    assert_eq!(shown("SUBSTRING('abcdef', 0, 3)"), "ab");
    assert_eq!(shown("SUBSTRING('abc', 5, 3)"), "");
    assert_eq!(fails("SUBSTRING('abc', 1, -1)"), 536);
    assert_eq!(shown("LEFT('abcdef', 2) + RIGHT('abcdef', 2)"), "abef");
    assert_eq!(shown("LEFT('ab', 5)"), "ab");
    assert_eq!(fails("LEFT('ab', -1)"), 536);
    assert_eq!(shown("REPLACE('aBcabc', 'B', 'x')"), "axcaxc");
    assert_eq!(ty("REPLACE('abc', 'b', 'x')"), SqlType::VarChar(Some(8000)));
    assert_eq!(shown("REPLICATE('ab', 3)"), "ababab");
    assert_eq!(shown("REPLICATE('ab', -1)"), "NULL");
    assert_eq!(shown("LEN(REPLICATE('x', 100000))"), "8000");
    assert_eq!(
        shown("LEN(REPLICATE(CAST('x' AS varchar(max)), 100000))"),
        "100000"
    );
    assert_eq!(shown("DATALENGTH(SPACE(3))"), "3");
    assert_eq!(shown("CHARINDEX('C', 'abcabc')"), "3");
    assert_eq!(shown("CHARINDEX('c', 'abcabc', 4)"), "6");
    assert_eq!(shown("CHARINDEX('z', 'abc')"), "0");
    assert_eq!(shown("PATINDEX('%[0-9]%', 'ab12')"), "3");
    assert_eq!(shown("STUFF('abcdef', 2, 3, 'XY')"), "aXYef");
    assert_eq!(shown("STUFF('abc', 5, 1, 'x')"), "NULL");
    assert_eq!(shown("REVERSE('abc')"), "cba");
    assert_eq!(shown("CONCAT('a', NULL, 1, 'b')"), "a1b");
    assert_eq!(shown("CONCAT_WS(',', 'a', NULL, 'b')"), "a,b");
    assert_eq!(fails("CONCAT('a')"), 189);
    assert_eq!(shown("QUOTENAME('my]db')"), "[my]]db]");
    assert_eq!(shown("QUOTENAME('it''s', '''')"), "'it''s'");
    assert_eq!(ty("QUOTENAME('x')"), SqlType::NVarChar(Some(258)));
    assert_eq!(shown("STR(123.456, 8, 2)"), "  123.46");
    assert_eq!(shown("ASCII('A')"), "65");
    assert_eq!(shown("CHAR(65)"), "A");
    assert_eq!(shown("UNICODE(N'é')"), "233");
    assert_eq!(shown("LEN(123)"), "3");
    assert_eq!(shown("TRANSLATE('abc', 'ab', 'xy')"), "xyc");
}

#[test]
fn math_functions() {
    assert_eq!(shown("ABS(-5)"), "5");
    assert_eq!(fails("ABS(CAST(-2147483648 AS int))"), 8115);
    assert_eq!(shown("ABS(-2147483648)"), "2147483648");
    assert_eq!(shown("ABS(-1.50)"), "1.50");
    assert_eq!(shown("CEILING(1.2)"), "2");
    assert_eq!(shown("FLOOR(-1.2)"), "-2");
    assert_eq!(
        ty("CEILING(1.2)"),
        SqlType::Decimal {
            precision: 2,
            scale: 0
        }
    );
    assert_eq!(shown("ROUND(123.456, 2)"), "123.460");
    assert_eq!(shown("ROUND(123.456, -1)"), "120.000");
    assert_eq!(shown("ROUND(123.456, 1, 1)"), "123.400");
    assert_eq!(shown("ROUND(1234, -2)"), "1200");
    assert_eq!(fails("ROUND(9.9, 0)"), 8115);
    assert_eq!(shown("ROUND(2.5E0, 0)"), "3.0");
    assert_eq!(shown("POWER(2, 10)"), "1024");
    assert_eq!(ty("POWER(2, 10)"), SqlType::Int);
    assert_eq!(shown("SQRT(16)"), "4.0");
    assert_eq!(fails("SQRT(-1)"), 3623);
    assert_eq!(shown("SIGN(-3)"), "-1");
    assert_eq!(shown("PI()"), "3.1415926535897931");
    assert_eq!(shown("LOG10(1000)"), "3.0");
    assert_eq!(shown("SQUARE(3)"), "9.0");
}

#[test]
fn date_functions() {
    let d = "CAST('2024-05-01 10:30:15.123' AS datetime)";
    assert_eq!(
        shown(&format!("DATEADD(day, 1, {d})")),
        "2024-05-02 10:30:15.123"
    );
    assert_eq!(
        shown(&format!("DATEADD(mm, -3, {d})")),
        "2024-02-01 10:30:15.123"
    );
    assert_eq!(
        shown(&format!("DATEADD(ms, 1, {d})")),
        "2024-05-01 10:30:15.123"
    );
    assert_eq!(ty("DATEADD(day, 1, '2024-05-01')"), SqlType::DateTime);
    assert_eq!(
        ty("DATEADD(day, 1, CAST('2024-05-01' AS date))"),
        SqlType::Date
    );
    assert_eq!(fails("DATEADD(hour, 1, CAST('2024-05-01' AS date))"), 9810);
    assert_eq!(fails("DATEADD(year, 9000, GETDATE())"), 517);
    assert_eq!(
        shown("DATEADD(hour, 25, CAST('23:00' AS time(0)))"),
        "00:00:00"
    );
    assert_eq!(shown("DATEDIFF(day, '2024-01-01', '2024-03-01')"), "60");
    assert_eq!(shown("DATEDIFF(year, '2023-12-31', '2024-01-01')"), "1");
    assert_eq!(fails("DATEDIFF(ms, '1900-01-01', '2024-01-01')"), 535);
    assert_eq!(
        shown("DATEDIFF_BIG(ms, '1900-01-01', '1900-01-02')"),
        "86400000"
    );
    assert_eq!(shown(&format!("DATEPART(hour, {d})")), "10");
    assert_eq!(shown(&format!("DATEPART(weekday, {d})")), "4");
    assert_eq!(shown(&format!("DATENAME(month, {d})")), "May");
    assert_eq!(shown(&format!("DATENAME(dw, {d})")), "Wednesday");
    assert_eq!(
        shown(&format!("YEAR({d}) * 10000 + MONTH({d}) * 100 + DAY({d})")),
        "20240501"
    );
    assert_eq!(shown("EOMONTH('2024-02-10')"), "2024-02-29");
    assert_eq!(shown("EOMONTH('2024-01-31', 1)"), "2024-02-29");
    assert_eq!(shown("DATEFROMPARTS(2024, 5, 1)"), "2024-05-01");
    assert_eq!(fails("DATEFROMPARTS(2024, 2, 30)"), 289);
    assert_eq!(
        shown("DATETIMEFROMPARTS(2024, 5, 1, 10, 30, 0, 5)"),
        "2024-05-01 10:30:00.007"
    );
    assert_eq!(
        shown("DATETRUNC(month, CAST('2024-05-17 10:00' AS datetime2(0)))"),
        "2024-05-01 00:00:00"
    );
    assert_eq!(shown("ISDATE('2024-05-01')"), "1");
    assert_eq!(shown("ISDATE('1600-05-01')"), "0");
    assert_eq!(shown("ISDATE('nope')"), "0");
    assert_eq!(shown("SYSDATETIME()"), "2024-05-01 10:30:00.1234567");
    assert_eq!(shown("GETUTCDATE()"), "2024-05-01 08:30:00.123");
    assert_eq!(ty("SYSUTCDATETIME()"), SqlType::DateTime2(7));
    assert_eq!(ty("SYSDATETIMEOFFSET()"), SqlType::DateTimeOffset(7));
    assert_eq!(shown("CURRENT_TIMESTAMP"), "2024-05-01 10:30:00.123");
}

#[test]
fn datefirst_moves_weekdays() {
    let mut env = TestEnv::new();
    env.date_first = Some(1);
    let wednesday = "CAST('2024-05-01' AS date)";
    let part = |env: &mut TestEnv, e: &str| scalar_in(env, e).unwrap().1;
    assert_eq!(
        part(&mut env, &format!("DATEPART(dw, {wednesday})")),
        Value::Int(3)
    );
    assert_eq!(
        part(&mut env, &format!("DATETRUNC(week, {wednesday})")),
        scalar("CAST('2024-04-29' AS date)").unwrap().1
    );
    // DATEDIFF(week) counts Sunday boundaries whatever DATEFIRST says.
    assert_eq!(
        part(&mut env, "DATEDIFF(week, '2024-05-04', '2024-05-05')"),
        Value::Int(1)
    );
}

#[test]
fn format_function() {
    assert_eq!(shown("FORMAT(1234.5, 'N2')"), "1,234.50");
    assert_eq!(
        shown("FORMAT(CAST('2024-05-01' AS date), 'yyyyMMdd')"),
        "20240501"
    );
    assert_eq!(
        shown("FORMAT(GETDATE(), 'yyyy-MM-dd HH:mm:ss')"),
        "2024-05-01 10:30:00"
    );
    assert_eq!(shown("FORMAT(5, 'D3')"), "005");
    assert_eq!(ty("FORMAT(1, 'N')"), SqlType::NVarChar(Some(4000)));
}

#[test]
fn system_functions() {
    let mut env = TestEnv::new();
    let (t, v) = scalar_in(&mut env, "NEWID()").unwrap();
    assert_eq!(t, SqlType::UniqueIdentifier);
    let (_, w) = scalar_in(&mut env, "NEWID()").unwrap();
    assert_ne!(v, w);
    assert_eq!(shown("ISNUMERIC('1e5') + ISNUMERIC('abc') * 10"), "1");
    assert_eq!(shown("ERROR_NUMBER()"), "NULL");
    env.caught = Some(SqlMessage::new(245, 16, 1, 3, "Conversion failed"));
    assert_eq!(
        scalar_in(&mut env, "ERROR_NUMBER()").unwrap().1,
        Value::Int(245)
    );
    assert_eq!(
        scalar_in(&mut env, "ERROR_LINE()").unwrap().1,
        Value::Int(3)
    );
    assert_eq!(
        scalar_in(&mut env, "ERROR_MESSAGE()").unwrap(),
        (
            SqlType::NVarChar(Some(4000)),
            Value::text("Conversion failed")
        )
    );
    assert_eq!(shown("SCOPE_IDENTITY()"), "7");
    assert_eq!(shown("SCHEMA_NAME()"), "dbo");
    assert_eq!(shown("SCHEMA_NAME(4)"), "sys");
    assert_eq!(shown("TYPE_NAME(56)"), "int");
    assert_eq!(shown("TYPE_ID('nvarchar')"), "231");
    assert_eq!(shown("GREATEST(1, 5, 3)"), "5");
    assert_eq!(shown("LEAST('b', 'a', NULL)"), "a");
    assert_eq!(shown("SQL_VARIANT_PROPERTY(1.5, 'BaseType')"), "numeric");
    assert_eq!(shown("SQL_VARIANT_PROPERTY(N'ab', 'MaxLength')"), "4");
    assert_eq!(shown("PARSENAME('srv.db.dbo.[my.table]', 1)"), "my.table");
    assert_eq!(shown("PARSENAME('db..t', 2)"), "NULL");
    assert_eq!(shown("PARSENAME('db..t', 3)"), "db");
    assert_eq!(shown("PARSENAME('a.b.c.d.e', 1)"), "NULL");
    assert_eq!(
        shown("COLLATIONPROPERTY('SQL_Latin1_General_CP1_CI_AS', 'LCID')"),
        "1033"
    );
    assert_eq!(
        shown("CONVERT(nvarchar(40), CONNECTIONPROPERTY('net_transport'))"),
        "TCP"
    );
    assert_eq!(shown("FULLTEXTSERVICEPROPERTY('IsFullTextInstalled')"), "0");
}
