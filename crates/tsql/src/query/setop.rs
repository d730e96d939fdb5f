//! UNION [ALL], EXCEPT and INTERSECT: columns take the first query's names and the common type
//! of each position; duplicates go (except with UNION ALL) in a sorted pass, as SQL Server's
//! distinct sort leaves them; ORDER BY names output columns only (104).

use crate::ast::{Expr, Query, QueryBody, SelectItem, SetOperator};
use crate::eval::types::common_type;
use crate::eval::{Evaluator, RowScope, errors};
use crate::messages::SqlMessage;
use crate::value::compare::compare_rows;
use crate::value::convert;
use crate::value::{Column, Value};

use super::Output;
use super::order::{self, OrderKey};

fn no_order(body: &QueryBody) -> Query {
    Query {
        body: body.clone(),
        order_by: Vec::new(),
        offset: None,
        fetch: None,
        for_xml: None,
    }
}

/// The select-list expressions of a body's first SELECT (for ORDER BY matching).
fn first_select_exprs(body: &QueryBody) -> Vec<Option<&Expr>> {
    match body {
        QueryBody::Select(s) => s
            .items
            .iter()
            .map(|i| match i {
                SelectItem::Expr { expr, .. } => Some(expr),
                _ => None,
            })
            .collect(),
        QueryBody::SetOperation { left, .. } => first_select_exprs(left),
        QueryBody::With { body, .. } => first_select_exprs(body),
    }
}

fn body_output(
    ev: &mut Evaluator,
    body: &QueryBody,
    outer: Option<&RowScope>,
) -> Result<Output, SqlMessage> {
    let output = super::execute(ev, &no_order(body), outer)?;
    if output.assigns {
        return Err(errors::assignment_in_set_operation());
    }
    Ok(output)
}

fn distinct_sorted(mut rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    rows.sort_by(|a, b| compare_rows(a, b));
    rows.dedup_by(|a, b| compare_rows(a, b).is_eq());
    rows
}

fn contains(sorted: &[Vec<Value>], row: &[Value]) -> bool {
    sorted
        .binary_search_by(|probe| compare_rows(probe, row))
        .is_ok()
}

/// Evaluates a set operation tree without the outer ORDER BY.
fn combine(
    ev: &mut Evaluator,
    body: &QueryBody,
    outer: Option<&RowScope>,
) -> Result<Output, SqlMessage> {
    let QueryBody::SetOperation {
        op,
        all,
        left,
        right,
    } = body
    else {
        return body_output(ev, body, outer);
    };
    let l = combine(ev, left, outer)?;
    let r = combine(ev, right, outer)?;
    if l.columns.len() != r.columns.len() {
        return Err(errors::set_operation_column_count());
    }
    let untyped = |o: &Output, i: usize| o.untyped.get(i).copied().unwrap_or(false);
    let columns: Vec<Column> = l
        .columns
        .iter()
        .zip(&r.columns)
        .enumerate()
        .map(|(i, (a, b))| {
            let ty = match (untyped(&l, i), untyped(&r, i)) {
                (true, false) => b.ty,
                (false, true) => a.ty,
                _ => common_type(a.ty, b.ty),
            };
            Column::new(a.name.clone(), ty, a.nullable || b.nullable)
        })
        .collect();
    let both_untyped: Vec<bool> = (0..columns.len())
        .map(|i| untyped(&l, i) && untyped(&r, i))
        .collect();
    let lift = |out: Output| -> Result<Vec<Vec<Value>>, SqlMessage> {
        out.rows
            .into_iter()
            .map(|row| {
                row.iter()
                    .zip(&out.columns)
                    .zip(&columns)
                    .map(|((v, from), to)| convert::implicit(v, from.ty, to.ty))
                    .collect()
            })
            .collect()
    };
    let null_eliminated = l.null_eliminated || r.null_eliminated;
    let left_rows = lift(l)?;
    let right_rows = lift(r)?;
    let rows = match op {
        SetOperator::Union if *all => {
            let mut rows = left_rows;
            rows.extend(right_rows);
            rows
        }
        SetOperator::Union => {
            let mut rows = left_rows;
            rows.extend(right_rows);
            distinct_sorted(rows)
        }
        SetOperator::Except => {
            let right = distinct_sorted(right_rows);
            distinct_sorted(left_rows)
                .into_iter()
                .filter(|row| !contains(&right, row))
                .collect()
        }
        SetOperator::Intersect => {
            let right = distinct_sorted(right_rows);
            distinct_sorted(left_rows)
                .into_iter()
                .filter(|row| contains(&right, row))
                .collect()
        }
    };
    Ok(Output {
        columns,
        rows,
        assigns: false,
        assignments: Vec::new(),
        null_eliminated,
        untyped: both_untyped,
    })
}

pub(super) fn run(
    ev: &mut Evaluator,
    body: &QueryBody,
    query: &Query,
    outer: Option<&RowScope>,
) -> Result<Output, SqlMessage> {
    let mut output = combine(ev, body, outer)?;
    let select_exprs = first_select_exprs(body);
    let keys = order::resolve(
        &query.order_by,
        &output.columns,
        &select_exprs,
        Some(errors::order_by_not_in_set_operation()),
    )?;
    let descending: Vec<bool> = keys.iter().map(|(_, d)| *d).collect();
    let index = |k: &OrderKey| match k {
        OrderKey::Output(i) => *i,
        OrderKey::Expr(_) => 0,
    };
    let mut keyed: Vec<(Vec<Value>, Vec<Value>)> = output
        .rows
        .into_iter()
        .map(|row| {
            let k = keys.iter().map(|(k, _)| row[index(k)].clone()).collect();
            (k, row)
        })
        .collect();
    if !keys.is_empty() {
        keyed.sort_by(|a, b| order::compare_keys(&a.0, &b.0, &descending));
    }
    let scope = outer.copied().unwrap_or(RowScope::EMPTY);
    let kept = order::limit(ev, keyed, |r| &r.0, &descending, None, query, &scope)?;
    output.rows = kept.into_iter().map(|(_, row)| row).collect();
    Ok(output)
}
