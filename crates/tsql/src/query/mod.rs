//! SELECT over in-memory tables: FROM and joins, WHERE, GROUP BY and aggregates, HAVING,
//! window functions, DISTINCT, ORDER BY, TOP and OFFSET/FETCH, UNION/EXCEPT/INTERSECT, and
//! subqueries (scalar, IN, EXISTS, correlated).
//!
//! [`run`] is the interpreter's entry: it returns a typed [`Table`] (SQL Server's declared
//! column types and nullability; unnamed expressions have an empty name), or, for
//! `SELECT @v = …`, the values to assign. Names bind with SQL Server's errors before any row
//! is read (207, 209, 4104, 8120 …), so an empty table still reports them.
//!
//! `SELECT … INTO` is returned like a plain SELECT: the interpreter creates the table from the
//! result.

mod cte;
mod from;
mod group;
mod order;
mod select;
mod setop;
mod window;
mod xml;

pub(crate) use cte::CteBinding;

use crate::ast::{Query, QueryBody};
use crate::eval::{Environment, Evaluator, RowScope, errors};
use crate::messages::SqlMessage;
use crate::value::{Column, Table, Value};

/// The most rows a join, APPLY or recursive CTE may produce (59050 past it), so a hostile
/// query cannot exhaust memory.
pub const MAX_ROWS: usize = 1_000_000;

/// The outcome of a query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    /// The result set; no columns and no rows for a SELECT that only assigns variables.
    pub table: Table,
    /// `SELECT @v = …`: each variable's final value (the last row's), already converted to the
    /// variable's declared type, in first-assignment order. The caller sets them. Empty when
    /// the SELECT returned no rows (the variables keep their values, as in SQL Server).
    pub assignments: Vec<(String, Value)>,
    /// Whether this was an assigning SELECT (no result set is sent, only a row count).
    pub assigns: bool,
    /// Informational messages to print after the rows (8153 when an aggregate skipped NULLs).
    pub messages: Vec<SqlMessage>,
}

/// Runs a query against the environment.
pub fn run(query: &Query, env: &mut dyn Environment) -> Result<QueryResult, SqlMessage> {
    let mut ev = Evaluator::new(env);
    let output = execute(&mut ev, query, None)?;
    Ok(output.into_result())
}

/// Runs a query as a subquery of a row (correlated references resolve in `scope`).
pub fn run_in(
    query: &Query,
    scope: &RowScope,
    env: &mut dyn Environment,
) -> Result<QueryResult, SqlMessage> {
    let mut ev = Evaluator::new(env);
    let output = execute(&mut ev, query, Some(scope))?;
    Ok(output.into_result())
}

/// What a query body produces.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub assigns: bool,
    pub assignments: Vec<(String, Value)>,
    pub null_eliminated: bool,
    /// Columns that are a bare NULL (no type of their own in UNION).
    pub untyped: Vec<bool>,
}

impl Output {
    fn into_result(self) -> QueryResult {
        let messages = if self.null_eliminated {
            vec![null_eliminated()]
        } else {
            Vec::new()
        };
        QueryResult {
            table: Table {
                columns: self.columns,
                rows: self.rows,
            },
            assignments: self.assignments,
            assigns: self.assigns,
            messages,
        }
    }
}

/// 8153 (informational).
fn null_eliminated() -> SqlMessage {
    SqlMessage::new(
        8153,
        10,
        1,
        0,
        "Warning: Null value is eliminated by an aggregate or other SET operation.",
    )
}

/// Executes a whole query (body, ORDER BY, OFFSET/FETCH).
pub(crate) fn execute(
    ev: &mut Evaluator,
    query: &Query,
    outer: Option<&RowScope>,
) -> Result<Output, SqlMessage> {
    let output = match &query.body {
        QueryBody::Select(select) => select::run(ev, select, query, outer),
        QueryBody::With { ctes, body } => cte::run(ev, ctes, body, query, outer),
        body => setop::run(ev, body, query, outer),
    }?;
    Ok(match &query.for_xml {
        Some(xml) => xml::serialize(output, xml),
        None => output,
    })
}

/// A subquery inside an expression: its table (columns only, in type-only mode).
pub(crate) fn subquery(
    ev: &mut Evaluator,
    query: &Query,
    scope: &RowScope,
) -> Result<Table, SqlMessage> {
    check_nested_order_by(query)?;
    let output = execute(ev, query, Some(scope))?;
    if output.assigns {
        return Err(errors::assignment_with_retrieval());
    }
    Ok(Table {
        columns: output.columns,
        rows: output.rows,
    })
}

/// 1033: ORDER BY in a derived table or subquery needs TOP or OFFSET.
pub(crate) fn check_nested_order_by(query: &Query) -> Result<(), SqlMessage> {
    let has_top = matches!(&query.body, QueryBody::Select(s) if s.top.is_some());
    if !query.order_by.is_empty() && !has_top && query.offset.is_none() && query.for_xml.is_none() {
        return Err(errors::order_by_in_subquery());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
