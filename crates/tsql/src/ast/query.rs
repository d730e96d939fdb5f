//! SELECT.

use serde::Serialize;

use super::expr::{Expr, ObjectName};

/// A whole query: `SELECT …`, `SELECT … UNION [ALL] SELECT …`, with its ORDER BY.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    pub body: QueryBody,
    pub order_by: Vec<OrderItem>,
    /// `OFFSET n ROWS [FETCH NEXT m ROWS ONLY]`
    pub offset: Option<Expr>,
    pub fetch: Option<Expr>,
    /// `FOR XML PATH[('element')] [, TYPE]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub for_xml: Option<ForXml>,
}

/// `FOR XML PATH`: each row as an element named `element` (none for `PATH('')`), each named
/// column as a child element and each unnamed one as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForXml {
    pub element: String,
    /// `, TYPE`: the result is `xml` (vdisim gives it as `nvarchar(max)`).
    pub type_directive: bool,
    /// `, ROOT('name')`
    pub root: Option<String>,
    /// Read back with `.value(…)`: the XML's text, without markup or escapes.
    pub text_value: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum QueryBody {
    Select(Box<Select>),
    /// `left UNION [ALL] | EXCEPT | INTERSECT right`
    SetOperation {
        op: SetOperator,
        all: bool,
        left: Box<QueryBody>,
        right: Box<QueryBody>,
    },
    /// `WITH cte AS (…) [, …] body`: the common table expressions are visible in `body` (and
    /// each in the ones after it, and in itself when recursive).
    With {
        ctes: Vec<CommonTableExpression>,
        body: Box<QueryBody>,
    },
}

/// `name [(col, …)] AS (query)` of a `WITH` clause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommonTableExpression {
    pub name: String,
    pub columns: Vec<String>,
    pub query: Box<Query>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SetOperator {
    Union,
    Except,
    Intersect,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Select {
    pub distinct: bool,
    pub top: Option<Top>,
    pub items: Vec<SelectItem>,
    /// `INTO #temp` / `INTO table`.
    pub into: Option<ObjectName>,
    /// Comma-separated sources (each possibly a join tree); several mean a cross join.
    pub from: Vec<TableRef>,
    pub selection: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Top {
    pub count: Expr,
    pub percent: bool,
    pub with_ties: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SelectItem {
    /// `*` or `t.*`
    Wildcard { qualifier: Option<ObjectName> },
    /// `expr [AS] alias`, `alias = expr`
    Expr { expr: Expr, alias: Option<String> },
    /// `@v = expr` (or `@v += expr` …): a variable assignment; a SELECT made only of these
    /// returns no result set.
    Assign {
        variable: String,
        op: Option<super::expr::BinaryOp>,
        expr: Expr,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TableRef {
    /// A table or view: `sys.databases d`, `msdb..backupset AS b WITH (NOLOCK)`.
    Named {
        name: ObjectName,
        alias: Option<String>,
    },
    /// `(SELECT …) AS alias [(col, …)]`
    Derived {
        query: Box<Query>,
        alias: String,
        columns: Vec<String>,
    },
    /// A table-valued function: `sys.fn_something(args) [AS] alias`.
    Function {
        name: ObjectName,
        args: Vec<Expr>,
        alias: Option<String>,
    },
    /// `(VALUES (…), (…)) AS alias (col, …)`
    Values {
        rows: Vec<Vec<Expr>>,
        alias: String,
        columns: Vec<String>,
    },
    Join {
        left: Box<TableRef>,
        right: Box<TableRef>,
        kind: JoinKind,
        /// Absent for CROSS JOIN and the APPLY forms.
        on: Option<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Cross,
    CrossApply,
    OuterApply,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderItem {
    pub expr: Expr,
    pub descending: bool,
}
