//! Data types in DECLARE, CAST and table columns, with SQL Server's defaults and errors.

use super::*;

fn declared(ty: &str) -> SqlType {
    match one(&format!("DECLARE @v {ty}")) {
        StatementKind::Declare(d) => d[0].ty,
        other => panic!("{other:?}"),
    }
}

fn cast(ty: &str) -> SqlType {
    match select_of(&format!("SELECT CAST(1 AS {ty})"))
        .items
        .as_slice()
    {
        [
            SelectItem::Expr {
                expr: Expr::Cast { ty, .. },
                ..
            },
        ] => *ty,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_type_and_alias() {
    use SqlType as T;
    for (name, ty) in [
        ("bit", T::Bit),
        ("tinyint", T::TinyInt),
        ("smallint", T::SmallInt),
        ("int", T::Int),
        ("INTEGER", T::Int),
        ("bigint", T::BigInt),
        (
            "decimal",
            T::Decimal {
                precision: 18,
                scale: 0,
            },
        ),
        (
            "numeric(25, 0)",
            T::Decimal {
                precision: 25,
                scale: 0,
            },
        ),
        (
            "dec(5,2)",
            T::Decimal {
                precision: 5,
                scale: 2,
            },
        ),
        (
            "numeric(10)",
            T::Decimal {
                precision: 10,
                scale: 0,
            },
        ),
        ("float", T::Float),
        ("float(24)", T::Real),
        ("float(53)", T::Float),
        ("double precision", T::Float),
        ("real", T::Real),
        ("money", T::Money),
        ("smallmoney", T::Money),
        ("char", T::Char(1)),
        ("char(10)", T::Char(10)),
        ("character(2)", T::Char(2)),
        ("varchar(8000)", T::VarChar(Some(8000))),
        ("varchar(max)", T::VarChar(None)),
        ("character varying(5)", T::VarChar(Some(5))),
        ("char varying(5)", T::VarChar(Some(5))),
        ("nchar(3)", T::NChar(3)),
        ("national character(3)", T::NChar(3)),
        ("nvarchar", T::NVarChar(Some(1))),
        ("nvarchar(MAX)", T::NVarChar(None)),
        ("national char varying(9)", T::NVarChar(Some(9))),
        ("binary(16)", T::Binary(16)),
        ("varbinary(max)", T::VarBinary(None)),
        ("date", T::Date),
        ("time", T::Time(7)),
        ("time(3)", T::Time(3)),
        ("datetime", T::DateTime),
        ("smalldatetime", T::SmallDateTime),
        ("datetime2", T::DateTime2(7)),
        ("datetime2(0)", T::DateTime2(0)),
        ("datetimeoffset(2)", T::DateTimeOffset(2)),
        ("uniqueidentifier", T::UniqueIdentifier),
        ("sql_variant", T::SqlVariant),
        ("sysname", T::NVarChar(Some(128))),
        ("sys.sysname", T::NVarChar(Some(128))),
        ("[int]", T::Int),
    ] {
        assert_eq!(declared(name), ty, "{name}");
    }
}

#[test]
fn string_lengths_default_to_1_declared_and_30_converted() {
    assert_eq!(declared("varchar"), SqlType::VarChar(Some(1)));
    assert_eq!(cast("varchar"), SqlType::VarChar(Some(30)));
    assert_eq!(cast("nchar"), SqlType::NChar(30));
    assert_eq!(cast("binary"), SqlType::Binary(30));
}

#[test]
fn unknown_types() {
    let e = err("DECLARE @a int, @b foo");
    assert_eq!(
        (e.number, e.level, e.state, e.text.as_str()),
        (
            2715,
            16,
            3,
            "Column, parameter, or variable #2: Cannot find data type foo."
        )
    );
    let e = err("CREATE TABLE #t (a int, b dbo.MyType)");
    assert_eq!(
        (e.number, e.state, e.text.as_str()),
        (
            2715,
            6,
            "Column, parameter, or variable #2: Cannot find data type dbo.MyType."
        )
    );
    assert_eq!(err_number("DECLARE @a SELECT"), 156);
}

#[test]
fn bad_lengths_precisions_and_scales() {
    let e = err("DECLARE @a\nvarchar(0)");
    assert_eq!(
        (e.number, e.line, e.text.as_str()),
        (
            1001,
            2,
            "Line 2: Length or precision specification 0 is invalid."
        )
    );
    let e = err("DECLARE @a varchar(8001)");
    assert_eq!(
        (e.number, e.text.as_str()),
        (
            131,
            "The size (8001) given to the type 'varchar' exceeds the maximum allowed for any data type (8000)."
        )
    );
    let e = err("SELECT CONVERT(nvarchar(4001), 1)");
    assert_eq!(
        e.text,
        "The size (4001) given to the convert specification 'nvarchar' exceeds the maximum allowed for any data type (4000)."
    );
    let e = err("DECLARE @a int(4)");
    assert_eq!(
        (e.number, e.text.as_str()),
        (
            2716,
            "Column, parameter, or variable #1: Cannot specify a column width on data type int."
        )
    );
    let e = err("DECLARE @a decimal(39, 2)");
    assert_eq!(
        (e.number, e.text.as_str()),
        (
            2750,
            "Column or parameter #1: Specified column precision 39 is greater than the maximum precision of 38."
        )
    );
    let e = err("DECLARE @a decimal(3, 5)");
    assert_eq!(
        (e.number, e.text.as_str()),
        (
            2751,
            "Column or parameter #1: Specified column scale 5 is greater than the specified precision of 3."
        )
    );
    assert_eq!(err_number("DECLARE @a float(54)"), 2750);
    assert_eq!(err_number("DECLARE @a float(0)"), 1001);
    let e = err("DECLARE @a datetime2(8)");
    assert_eq!(
        (e.number, e.text.as_str()),
        (1002, "Line 1: Specified scale 8 is invalid.")
    );
    assert_eq!(err_number("DECLARE @a char(max)"), 102);
    assert_eq!(err_number("DECLARE @a varchar(x)"), 102);
}
