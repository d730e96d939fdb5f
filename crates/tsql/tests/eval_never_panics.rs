//! Random expressions, queries and conversions never panic the evaluator: every input ends in a
//! value or a SQL Server message, within bounded time and memory.

use proptest::prelude::*;
use tsql::ast::{ObjectName, StatementKind};
use tsql::eval::{Environment, Typed};
use tsql::messages::SqlMessage;
use tsql::value::{Column, DateTime, Decimal, SqlType, Table, Value, compare, convert, format};

/// A session with two variables and one small table.
struct Env {
    seed: u128,
}

impl Environment for Env {
    fn variable(&self, name: &str) -> Option<Typed> {
        match name.to_ascii_lowercase().as_str() {
            "@i" => Some((SqlType::Int, Value::Int(7))),
            "@s" => Some((SqlType::NVarChar(Some(20)), Value::text("pubs"))),
            _ => None,
        }
    }

    fn system_variable(&self, name: &str) -> Option<Typed> {
        (name == "@@SPID").then_some((SqlType::SmallInt, Value::Int(51)))
    }

    fn server_function(
        &mut self,
        _schema: Option<&str>,
        _name: &str,
        _args: &[Typed],
    ) -> Option<Result<Typed, SqlMessage>> {
        None
    }

    fn table(&mut self, name: &ObjectName) -> Result<Table, SqlMessage> {
        if !name.name().eq_ignore_ascii_case("t") {
            return Err(tsql::messages::invalid_object(0, &name.display()));
        }
        let mut t = Table::new(vec![
            Column::new("a", SqlType::Int, true),
            Column::new("b", SqlType::VarChar(Some(10)), true),
            Column::new("c", SqlType::DateTime, true),
        ]);
        for i in 0..4 {
            t.push(vec![
                if i == 2 { Value::Null } else { Value::Int(i) },
                Value::text(["x", "Y", "", "zz"][i as usize]),
                Value::DateTime(DateTime::from_days(738_000 + i as i32)),
            ]);
        }
        Ok(t)
    }

    fn now(&self) -> DateTime {
        DateTime::from_days(738_000)
    }

    fn utc_now(&self) -> DateTime {
        DateTime::from_days(738_000)
    }

    fn random_u128(&mut self) -> u128 {
        self.seed = self
            .seed
            .wrapping_mul(0x5851_f42d_4c95_7f2d)
            .wrapping_add(1);
        self.seed
    }
}

const ATOMS: &[&str] = &[
    "1",
    "0",
    "-1",
    "2147483647",
    "9223372036854775807",
    "1.5",
    "0.001",
    "1e308",
    "NULL",
    "'abc'",
    "N'x'",
    "''",
    "'2024-05-01'",
    "'12'",
    "0x0A",
    "$3.50",
    "@i",
    "@s",
    "@@SPID",
    "a",
    "b",
    "c",
    "t.a",
    "GETDATE()",
    "NEWID()",
    "'%a_[b-c]%'",
    "'['",
    "'99999999999999999999'",
];

const BINARY: &[&str] = &["+", "-", "*", "/", "%", "&", "|", "^"];
const COMPARE: &[&str] = &["=", "<>", "<", ">=", "LIKE", "NOT LIKE"];
const FUNCTIONS: &[&str] = &[
    "LEN",
    "UPPER",
    "LTRIM",
    "REVERSE",
    "ABS",
    "FLOOR",
    "SQRT",
    "YEAR",
    "ISNUMERIC",
    "ISDATE",
    "DATALENGTH",
    "SIGN",
    "QUOTENAME",
    "SPACE",
    "EOMONTH",
];
const FUNCTIONS2: &[&str] = &[
    "ISNULL",
    "COALESCE",
    "NULLIF",
    "LEFT",
    "RIGHT",
    "REPLICATE",
    "CHARINDEX",
    "ROUND",
    "POWER",
    "CONCAT",
    "GREATEST",
    "PATINDEX",
];
const TYPES: &[&str] = &[
    "int",
    "tinyint",
    "bigint",
    "bit",
    "varchar(5)",
    "nvarchar(max)",
    "numeric(5,2)",
    "float",
    "money",
    "datetime",
    "date",
    "time",
    "datetime2(3)",
    "uniqueidentifier",
    "varbinary(4)",
    "char(3)",
    "smalldatetime",
];

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(ATOMS).prop_map(str::to_owned);
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(BINARY), inner.clone())
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (prop::sample::select(FUNCTIONS), inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (
                prop::sample::select(FUNCTIONS2),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            (inner.clone(), prop::sample::select(TYPES))
                .prop_map(|(a, t)| format!("CAST({a} AS {t})")),
            (inner.clone(), prop::sample::select(TYPES), 0..130i32)
                .prop_map(|(a, t, s)| format!("TRY_CONVERT({t}, {a}, {s})")),
            (
                inner.clone(),
                prop::sample::select(COMPARE),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(a, op, b, c)| format!("CASE WHEN {a} {op} {b} THEN {c} END")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("DATEADD(day, {a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} IN ({b}, 1)")),
            inner
                .clone()
                .prop_map(|a| format!("(SELECT MAX({a}) FROM t)")),
        ]
    })
}

fn run(sql: &str) {
    let Ok(statements) = tsql::parse_batch(sql, 1) else {
        return;
    };
    for s in statements {
        if let StatementKind::Select(q) = s.kind {
            let _ = tsql::query::run(&q, &mut Env { seed: 1 });
        }
    }
}

fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bit),
        any::<i64>().prop_map(Value::Int),
        (any::<i128>(), 0u8..=40).prop_map(|(m, s)| Value::Decimal(Decimal {
            mantissa: m % 10i128.pow(38),
            scale: s
        })),
        any::<f64>().prop_map(Value::Float),
        ".{0,40}".prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(Value::Binary),
        (0i32..=3_652_058, 0u64..864_000_000_000)
            .prop_map(|(days, ticks)| Value::DateTime(DateTime { days, ticks })),
        any::<[u8; 16]>().prop_map(Value::Guid),
    ]
}

fn any_type() -> impl Strategy<Value = SqlType> {
    prop_oneof![
        Just(SqlType::Bit),
        Just(SqlType::TinyInt),
        Just(SqlType::SmallInt),
        Just(SqlType::Int),
        Just(SqlType::BigInt),
        (1u8..=38, 0u8..=38).prop_map(|(p, s)| SqlType::Decimal {
            precision: p,
            scale: s.min(p)
        }),
        Just(SqlType::Float),
        Just(SqlType::Real),
        Just(SqlType::Money),
        (1u32..=20).prop_map(SqlType::Char),
        prop::option::of(1u32..=20).prop_map(SqlType::VarChar),
        prop::option::of(1u32..=20).prop_map(SqlType::NVarChar),
        (1u32..=20).prop_map(SqlType::Binary),
        Just(SqlType::Date),
        (0u8..=7).prop_map(SqlType::Time),
        Just(SqlType::DateTime),
        Just(SqlType::SmallDateTime),
        (0u8..=7).prop_map(SqlType::DateTime2),
        Just(SqlType::UniqueIdentifier),
        Just(SqlType::SqlVariant),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn expressions_never_panic(e in expr(), f in expr()) {
        run(&format!("SELECT {e}"));
        run(&format!("SELECT {e} AS x, COUNT(*) FROM t WHERE {f} > 0 GROUP BY {e} ORDER BY 1 DESC"));
        run(&format!("SELECT DISTINCT TOP (3) {e} FROM t a LEFT JOIN t b ON {f} = a.a UNION SELECT {f}"));
        run(&format!("WITH c(x) AS (SELECT {e} FROM t) SELECT x, ROW_NUMBER() OVER (PARTITION BY x ORDER BY x), LAG(x) OVER (ORDER BY x) FROM c WHERE EXISTS (SELECT 1 FROM t WHERE t.a = c.x OR {f} IS NULL)"));
        run(&format!("SELECT (SELECT TOP 1 {e} FROM t u WHERE u.b LIKE t.b), STRING_AGG(CAST({f} AS nvarchar(20)), ',') FROM t GROUP BY b HAVING COUNT(*) > 0 ORDER BY 1"));
    }

    #[test]
    fn conversions_never_panic(v in any_value(), from in any_type(), to in any_type(), style in prop::option::of(-1i64..200)) {
        let _ = convert::convert(&v, from, to, style);
        let _ = convert::implicit(&v, from, to);
        let _ = format::sqlcmd_text(&v, from);
        let _ = compare::sort_cmp(&v, &Value::Int(1));
    }

    #[test]
    fn strings_convert_without_panic(s in ".{0,60}", to in any_type()) {
        let _ = convert::cast(&Value::String(s.clone()), SqlType::VarChar(None), to);
        let _ = tsql::eval::like_match("abc", &s, Some('!'), false);
    }
}
