//! SQL Server's types and values.
//!
//! A [`Value`] is what an expression evaluates to; its [`SqlType`] is known separately (from a
//! column, a variable's declaration, a CAST or type inference), because SQL Server's rules
//! (integer division, `+` as addition or concatenation, declared widths in result sets) depend
//! on the declared type, not only on the value.
//!
//! Submodules: [`convert`] (CAST/CONVERT and implicit conversions, with SQL Server's errors),
//! [`compare`] (ordering and equality under the server's case-insensitive collation),
//! [`datetime`] (the calendar), [`format`] (text as sqlcmd prints each type).

pub mod compare;
pub mod convert;
pub mod datetime;
pub mod format;

use serde::{Deserialize, Serialize};

pub use datetime::DateTime;

/// `nvarchar(max)` and friends: the length a `(max)` type declares.
pub const MAX_LENGTH: Option<u32> = None;

/// A SQL Server data type as declared (column, variable, parameter, CAST target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlType {
    Bit,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    /// `decimal(p, s)` / `numeric(p, s)`: 1 ≤ p ≤ 38, 0 ≤ s ≤ p.
    Decimal {
        precision: u8,
        scale: u8,
    },
    /// `float` (8 bytes).
    Float,
    /// `real` (4 bytes).
    Real,
    /// `money`: a decimal with 4 places, 8 bytes.
    Money,
    /// `char(n)`, 1 ≤ n ≤ 8000.
    Char(u32),
    /// `varchar(n)`, `None` for `varchar(max)`.
    VarChar(Option<u32>),
    /// `nchar(n)`, 1 ≤ n ≤ 4000.
    NChar(u32),
    /// `nvarchar(n)`, `None` for `nvarchar(max)`. `sysname` is `nvarchar(128)` NOT NULL.
    NVarChar(Option<u32>),
    Binary(u32),
    /// `varbinary(n)`, `None` for `varbinary(max)`.
    VarBinary(Option<u32>),
    Date,
    /// `time(s)`, fractional-second scale 0–7.
    Time(u8),
    /// `datetime`: 1753–9999, 1/300 s.
    DateTime,
    SmallDateTime,
    /// `datetime2(s)`, scale 0–7.
    DateTime2(u8),
    /// `datetimeoffset(s)`.
    DateTimeOffset(u8),
    UniqueIdentifier,
    SqlVariant,
}

/// `sysname`: the type of every name column in the catalog views.
pub const SYSNAME: SqlType = SqlType::NVarChar(Some(128));

impl SqlType {
    /// Integer types, smallest first.
    #[must_use]
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            SqlType::Bit | SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt
        )
    }

    #[must_use]
    pub fn is_string(self) -> bool {
        matches!(
            self,
            SqlType::Char(_) | SqlType::VarChar(_) | SqlType::NChar(_) | SqlType::NVarChar(_)
        )
    }

    #[must_use]
    pub fn is_unicode(self) -> bool {
        matches!(self, SqlType::NChar(_) | SqlType::NVarChar(_))
    }

    #[must_use]
    pub fn is_binary(self) -> bool {
        matches!(self, SqlType::Binary(_) | SqlType::VarBinary(_))
    }

    #[must_use]
    pub fn is_datetime(self) -> bool {
        matches!(
            self,
            SqlType::Date
                | SqlType::Time(_)
                | SqlType::DateTime
                | SqlType::SmallDateTime
                | SqlType::DateTime2(_)
                | SqlType::DateTimeOffset(_)
        )
    }

    #[must_use]
    pub fn is_numeric(self) -> bool {
        self.is_integer()
            || matches!(
                self,
                SqlType::Decimal { .. } | SqlType::Float | SqlType::Real | SqlType::Money
            )
    }

    /// SQL Server's data type precedence (higher wins in implicit conversions), from
    /// "Data type precedence (Transact-SQL)".
    #[must_use]
    pub fn precedence(self) -> u8 {
        match self {
            SqlType::SqlVariant => 24,
            SqlType::DateTimeOffset(_) => 22,
            SqlType::DateTime2(_) => 21,
            SqlType::DateTime => 20,
            SqlType::SmallDateTime => 19,
            SqlType::Date => 18,
            SqlType::Time(_) => 17,
            SqlType::Float => 16,
            SqlType::Real => 15,
            SqlType::Decimal { .. } => 14,
            SqlType::Money => 13,
            SqlType::BigInt => 11,
            SqlType::Int => 10,
            SqlType::SmallInt => 9,
            SqlType::TinyInt => 8,
            SqlType::Bit => 7,
            SqlType::UniqueIdentifier => 5,
            SqlType::NVarChar(_) => 4,
            SqlType::NChar(_) => 3,
            SqlType::VarChar(_) => 2,
            SqlType::Char(_) => 1,
            SqlType::VarBinary(_) => 0,
            SqlType::Binary(_) => 0,
        }
    }

    /// The type's name as `sys.types` and error messages spell it, e.g. `nvarchar(128)`,
    /// `varbinary(max)`, `numeric(25,0)`.
    #[must_use]
    pub fn sql_name(self) -> String {
        fn len(n: Option<u32>) -> String {
            n.map_or_else(|| "max".to_owned(), |n| n.to_string())
        }
        match self {
            SqlType::Bit => "bit".into(),
            SqlType::TinyInt => "tinyint".into(),
            SqlType::SmallInt => "smallint".into(),
            SqlType::Int => "int".into(),
            SqlType::BigInt => "bigint".into(),
            SqlType::Decimal { precision, scale } => format!("numeric({precision},{scale})"),
            SqlType::Float => "float".into(),
            SqlType::Real => "real".into(),
            SqlType::Money => "money".into(),
            SqlType::Char(n) => format!("char({n})"),
            SqlType::VarChar(n) => format!("varchar({})", len(n)),
            SqlType::NChar(n) => format!("nchar({n})"),
            SqlType::NVarChar(n) => format!("nvarchar({})", len(n)),
            SqlType::Binary(n) => format!("binary({n})"),
            SqlType::VarBinary(n) => format!("varbinary({})", len(n)),
            SqlType::Date => "date".into(),
            SqlType::Time(s) => format!("time({s})"),
            SqlType::DateTime => "datetime".into(),
            SqlType::SmallDateTime => "smalldatetime".into(),
            SqlType::DateTime2(s) => format!("datetime2({s})"),
            SqlType::DateTimeOffset(s) => format!("datetimeoffset({s})"),
            SqlType::UniqueIdentifier => "uniqueidentifier".into(),
            SqlType::SqlVariant => "sql_variant".into(),
        }
    }

    /// The column width sqlcmd pads a value of this type to (without `-W`/`-y`/`-Y`): the
    /// declared character length for strings, twice the bytes plus `0x` for binaries, and the
    /// widest text of the type otherwise. `(max)` types use sqlcmd's default cap of 256
    /// characters (`-y 256`).
    #[must_use]
    pub fn display_width(self) -> usize {
        const MAX_VAR: usize = 256;
        let chars = |n: Option<u32>| n.map_or(MAX_VAR, |n| n as usize);
        match self {
            SqlType::Bit => 1,
            SqlType::TinyInt => 3,
            SqlType::SmallInt => 6,
            SqlType::Int => 11,
            SqlType::BigInt => 20,
            SqlType::Decimal { precision, scale } => {
                usize::from(precision) + 1 + usize::from(scale > 0)
            }
            SqlType::Float => 24,
            SqlType::Real => 14,
            SqlType::Money => 21,
            SqlType::Char(n) | SqlType::NChar(n) => n as usize,
            SqlType::VarChar(n) | SqlType::NVarChar(n) => chars(n),
            SqlType::Binary(n) => 2 + 2 * n as usize,
            SqlType::VarBinary(n) => n.map_or(MAX_VAR, |n| 2 + 2 * n as usize),
            SqlType::Date => 10,
            SqlType::Time(s) => 8 + if s > 0 { 1 + usize::from(s) } else { 0 },
            SqlType::DateTime => 23,
            SqlType::SmallDateTime => 19,
            SqlType::DateTime2(s) => 19 + if s > 0 { 1 + usize::from(s) } else { 0 },
            SqlType::DateTimeOffset(s) => 26 + if s > 0 { 1 + usize::from(s) } else { 0 },
            SqlType::UniqueIdentifier => 36,
            SqlType::SqlVariant => 8000,
        }
    }
}

/// An exact decimal: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Decimal {
    pub mantissa: i128,
    pub scale: u8,
}

/// A value. Strings of every string type are [`Value::String`]; integers of every integer
/// type are [`Value::Int`]; the declared [`SqlType`] says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Null,
    Bit(bool),
    Int(i64),
    Decimal(Decimal),
    Float(f64),
    String(String),
    Binary(Vec<u8>),
    /// date, time, datetime, smalldatetime and datetime2 (offset ignored).
    DateTime(DateTime),
    Guid([u8; 16]),
}

impl Value {
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A string value (convenience for the catalog views).
    pub fn text(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A string, or NULL for `None`.
    pub fn opt_text(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::String(s.into()))
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bit(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

/// One column of a table or result set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// As the client sees it; empty for an unnamed expression (`SELECT 1`).
    pub name: String,
    pub ty: SqlType,
    pub nullable: bool,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: SqlType, nullable: bool) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable,
        }
    }
}

/// An in-memory table: a catalog view's rows, a derived table, a query's result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    #[must_use]
    pub fn new(columns: Vec<Column>) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// The index of a column, by SQL Server's case-insensitive comparison.
    #[must_use]
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Adds a row; it must have one value per column.
    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len(), "row width");
        self.rows.push(row);
    }
}
