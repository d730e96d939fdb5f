//! ORDER BY (by output column, alias, ordinal or expression; NULLs first ascending), TOP (n)
//! [PERCENT] [WITH TIES], and OFFSET … FETCH.

use std::cmp::Ordering;

use crate::ast::{Expr, Literal, OrderItem, Query, Top};
use crate::eval::{Evaluator, RowScope, errors};
use crate::messages::SqlMessage;
use crate::value::compare::sort_cmp;
use crate::value::convert;
use crate::value::{Column, SqlType, Value};

/// Where an ORDER BY item's value comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OrderKey<'q> {
    /// An output column (ordinal, alias, or an expression of the select list).
    Output(usize),
    /// An expression evaluated against the row.
    Expr(&'q Expr),
}

/// Resolves ORDER BY items against the select list. `select_exprs` are the select list's
/// expressions by output column (None for `*` columns); `only_output` demands that every item
/// be an output column (DISTINCT: 145, set operations: 104).
pub(crate) fn resolve<'q>(
    order_by: &'q [OrderItem],
    columns: &[Column],
    select_exprs: &[Option<&Expr>],
    only_output: Option<SqlMessage>,
) -> Result<Vec<(OrderKey<'q>, bool)>, SqlMessage> {
    let mut keys = Vec::with_capacity(order_by.len());
    for item in order_by {
        let key = match &item.expr {
            Expr::Literal(Literal::Integer(n)) => {
                if *n < 1 || *n as usize > columns.len() {
                    return Err(errors::order_by_position_out_of_range(*n));
                }
                OrderKey::Output(*n as usize - 1)
            }
            expr => {
                let by_alias = match expr {
                    Expr::Column(name) if name.parts.len() == 1 => columns.iter().position(|c| {
                        !c.name.is_empty() && c.name.eq_ignore_ascii_case(name.name())
                    }),
                    _ => None,
                };
                let by_expr = || select_exprs.iter().position(|e| *e == Some(expr));
                match by_alias.or_else(by_expr) {
                    Some(i) => OrderKey::Output(i),
                    None => match &only_output {
                        Some(message) => return Err(message.clone()),
                        None => OrderKey::Expr(expr),
                    },
                }
            }
        };
        keys.push((key, item.descending));
    }
    Ok(keys)
}

/// Compares two rows' sort keys; NULL sorts first ascending and last descending.
pub(crate) fn compare_keys(a: &[Value], b: &[Value], descending: &[bool]) -> Ordering {
    for ((x, y), desc) in a.iter().zip(b).zip(descending) {
        let o = sort_cmp(x, y);
        let o = if *desc { o.reverse() } else { o };
        if o.is_ne() {
            return o;
        }
    }
    Ordering::Equal
}

/// How many rows TOP keeps (before ties), from its expression.
pub(crate) fn top_count(
    ev: &mut Evaluator,
    top: &Top,
    total: usize,
    scope: &RowScope,
) -> Result<usize, SqlMessage> {
    let (ty, v) = ev.eval(&top.count, scope)?;
    if top.percent {
        let percent = match convert::implicit(&v, ty, SqlType::Float)? {
            Value::Float(f) => f,
            _ => 100.0,
        };
        if !(0.0..=100.0).contains(&percent) {
            return Err(SqlMessage::new(
                1031,
                16,
                1,
                0,
                "Percent values must be between 0 and 100.",
            ));
        }
        return Ok((percent / 100.0 * total as f64).ceil() as usize);
    }
    match convert::implicit(&v, ty, SqlType::BigInt)? {
        Value::Int(n) if n < 0 => Err(errors::negative_top()),
        Value::Int(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(errors::negative_top()),
    }
}

/// Applies TOP (with ties by `keys`) and OFFSET/FETCH to sorted rows.
pub(crate) fn limit<T>(
    ev: &mut Evaluator,
    rows: Vec<T>,
    keys: impl Fn(&T) -> &[Value],
    descending: &[bool],
    top: Option<&Top>,
    query: &Query,
    scope: &RowScope,
) -> Result<Vec<T>, SqlMessage> {
    let mut rows = rows;
    if ev.type_only {
        return Ok(rows);
    }
    if let Some(top) = top {
        let mut n = top_count(ev, top, rows.len(), scope)?.min(rows.len());
        if top.with_ties {
            if query.order_by.is_empty() {
                return Err(SqlMessage::new(
                    1062,
                    16,
                    1,
                    0,
                    "The TOP N WITH TIES clause is not allowed without a corresponding ORDER BY clause.",
                ));
            }
            while n > 0
                && n < rows.len()
                && compare_keys(keys(&rows[n - 1]), keys(&rows[n]), descending).is_eq()
            {
                n += 1;
            }
        }
        rows.truncate(n);
    }
    if let Some(offset) = &query.offset {
        let (ty, v) = ev.eval(offset, scope)?;
        let skip = match convert::implicit(&v, ty, SqlType::BigInt)? {
            Value::Int(n) if n < 0 => return Err(errors::negative_offset()),
            Value::Int(n) => usize::try_from(n).unwrap_or(usize::MAX),
            _ => 0,
        };
        rows.drain(..skip.min(rows.len()));
        if let Some(fetch) = &query.fetch {
            let (ty, v) = ev.eval(fetch, scope)?;
            let take = match convert::implicit(&v, ty, SqlType::BigInt)? {
                Value::Int(n) if n <= 0 => return Err(errors::fetch_not_positive()),
                Value::Int(n) => usize::try_from(n).unwrap_or(usize::MAX),
                _ => usize::MAX,
            };
            rows.truncate(take);
        }
    }
    Ok(rows)
}
