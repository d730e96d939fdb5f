//! Expressions.

use serde::Serialize;

use super::query::Query;
use crate::value::SqlType;

/// A dotted name as written: `[srv].[db].[schema].[object]`, `db..table`, `alias.column`.
/// Parts are in source order; an omitted middle part (`db..table`) is an empty string.
/// Brackets and quotes are already removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ObjectName {
    pub parts: Vec<String>,
}

impl ObjectName {
    pub fn new(parts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        ObjectName {
            parts: parts.into_iter().map(Into::into).collect(),
        }
    }

    /// The last part (the object or column name).
    #[must_use]
    pub fn name(&self) -> &str {
        self.parts.last().map_or("", String::as_str)
    }

    /// The part before the last (schema of an object, table or alias of a column), if any
    /// and not empty.
    #[must_use]
    pub fn qualifier(&self) -> Option<&str> {
        let n = self.parts.len();
        (n >= 2)
            .then(|| self.parts[n - 2].as_str())
            .filter(|s| !s.is_empty())
    }

    /// For an object name: the database part (`db.schema.object` or `db..object`).
    #[must_use]
    pub fn database(&self) -> Option<&str> {
        let n = self.parts.len();
        (n >= 3)
            .then(|| self.parts[n - 3].as_str())
            .filter(|s| !s.is_empty())
    }

    /// The name as SQL Server quotes it in messages (`msdb.dbo.backupset`), parts joined by
    /// dots as written.
    #[must_use]
    pub fn display(&self) -> String {
        self.parts.join(".")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Literal {
    Null,
    /// An integer literal that fits in int. SQL Server types a larger integer literal as
    /// numeric(p, 0), not bigint, so those are [`Literal::Decimal`].
    Integer(i64),
    /// A literal with a decimal point (`1.5`, `.5`, `1.`), or an integer too large for int: the
    /// digits as written (at most 38), typed numeric(p, s).
    Decimal(String),
    /// `1e3`, `1.5E-2`: float.
    Float(f64),
    /// `'text'` (varchar) or `N'text'` (nvarchar).
    String {
        value: String,
        unicode: bool,
    },
    /// `0x0A0B`.
    Binary(Vec<u8>),
    /// `$12.50`: money.
    Money(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UnaryOp {
    /// `-x`
    Negate,
    /// `+x`
    Plus,
    /// `~x`
    BitNot,
    /// `NOT x`
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BinaryOp {
    /// `+`: addition, or concatenation when both sides are strings.
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    BitAnd,
    BitOr,
    BitXor,
    Equal,
    /// `<>` or `!=`
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    /// `!<`
    NotLess,
    /// `!>`
    NotGreater,
    And,
    Or,
}

/// `OVER (PARTITION BY … ORDER BY …)` of a ranking or aggregate window function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowSpec {
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<super::query::OrderItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Expr {
    Literal(Literal),
    /// `@name`, as written (with the `@`).
    Variable(String),
    /// `@@NAME`, upper-cased, with the `@@`.
    SystemVariable(String),
    /// `col`, `t.col`, `schema.table.col`, `db.schema.table.col`.
    Column(ObjectName),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `x IS [NOT] NULL`
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `x [NOT] LIKE pattern [ESCAPE 'c']`
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<Box<Expr>>,
        negated: bool,
    },
    /// `x [NOT] BETWEEN low AND high`
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    /// `x [NOT] IN (a, b, …)`
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `x [NOT] IN (SELECT …)`
    InSubquery {
        expr: Box<Expr>,
        query: Box<Query>,
        negated: bool,
    },
    /// `x op ALL|ANY|SOME (SELECT …)`; `all` is false for ANY and SOME, which are the same.
    Quantified {
        left: Box<Expr>,
        op: BinaryOp,
        all: bool,
        query: Box<Query>,
    },
    /// `EXISTS (SELECT …)`
    Exists(Box<Query>),
    /// `(SELECT …)` used as a value.
    Subquery(Box<Query>),
    /// `CASE [operand] WHEN … THEN … [ELSE …] END`
    Case {
        operand: Option<Box<Expr>>,
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// `CAST(x AS type)` / `TRY_CAST`
    Cast {
        expr: Box<Expr>,
        ty: SqlType,
        try_: bool,
    },
    /// `CONVERT(type, x [, style])` / `TRY_CONVERT`
    Convert {
        ty: SqlType,
        expr: Box<Expr>,
        style: Option<Box<Expr>>,
        try_: bool,
    },
    /// A function call: scalar (`LEN(x)`), aggregate (`COUNT(*)`, `MAX(DISTINCT x)`), or
    /// window (`ROW_NUMBER() OVER (…)`). `name` is upper-cased; a schema-qualified name
    /// (`sys.fn_hadr_backup_is_preferred_replica`) keeps its qualifier in `schema` (a database
    /// part before it is dropped). The niladic functions written without parentheses
    /// (`CURRENT_TIMESTAMP`, `CURRENT_USER`, `SESSION_USER`, `SYSTEM_USER`, `USER`) are calls
    /// with no arguments; `IIF`'s first argument is a condition.
    Function {
        schema: Option<String>,
        name: String,
        args: Vec<Expr>,
        /// `COUNT(*)`
        star: bool,
        /// `COUNT(DISTINCT x)`
        distinct: bool,
        over: Option<WindowSpec>,
        /// `STRING_AGG(…) WITHIN GROUP (ORDER BY …)`: the order of the aggregated values.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        within_group: Vec<super::query::OrderItem>,
    },
    /// `DATEADD(day, …)`, `DATEDIFF(minute, …)`, `DATEPART(yy, …)`: the date part keyword,
    /// which is not an expression. Only appears as such a function's first argument. The
    /// parser gives the full upper-case name for every abbreviation (`yy` → `YEAR`, `mi` →
    /// `MINUTE`, `isowk` → `ISO_WEEK`).
    DatePart(String),
}

impl Expr {
    pub fn string(value: impl Into<String>) -> Expr {
        Expr::Literal(Literal::String {
            value: value.into(),
            unicode: true,
        })
    }

    pub fn integer(value: i64) -> Expr {
        Expr::Literal(Literal::Integer(value))
    }
}
