//! One SELECT: FROM → WHERE → GROUP BY/aggregates → HAVING → window functions → select list →
//! DISTINCT → ORDER BY → TOP/OFFSET, or the variable assignments of `SELECT @v = …`.

use crate::ast::{Expr, Query, Select, SelectItem};
use crate::eval::{Evaluator, RowScope, SourceColumn, errors, nullable};
use crate::messages::SqlMessage;
use crate::value::compare::compare_rows;
use crate::value::convert;
use crate::value::{Column, Value};

use super::group::{self, Clause};
use super::order::{self, OrderKey};
use super::window::{self, Item};
use super::{Output, from};

/// What an output column shows.
enum Projection<'q> {
    Source(usize),
    Expr(&'q Expr),
}

pub(super) fn run(
    ev: &mut Evaluator,
    select: &Select,
    query: &Query,
    outer: Option<&RowScope>,
) -> Result<Output, SqlMessage> {
    let assigns = select
        .items
        .iter()
        .any(|i| matches!(i, SelectItem::Assign { .. }));
    if assigns
        && select
            .items
            .iter()
            .any(|i| !matches!(i, SelectItem::Assign { .. }))
    {
        return Err(errors::assignment_with_retrieval());
    }
    let relation = from::build(ev, &select.from, outer)?;
    let columns = relation.columns;
    let type_scope = RowScope::new(&columns, &[]).with_outer(outer);

    // Bind WHERE before reading rows.
    if let Some(condition) = &select.selection {
        if group::has_aggregate(condition) {
            return Err(errors::aggregate_in_where());
        }
        if group::has_window(condition) {
            return Err(errors::window_function_misplaced());
        }
        ev.typing(|ev| ev.truth(condition, &type_scope))?;
    }
    let mut rows = Vec::new();
    for row in relation.rows {
        let keep = match &select.selection {
            Some(condition) => {
                let scope = RowScope::new(&columns, &row).with_outer(outer);
                ev.truth(condition, &scope)? == Some(true)
            }
            None => true,
        };
        if keep {
            rows.push(row);
        }
    }

    let mut aggregates = Vec::new();
    let mut windows = Vec::new();
    for item in &select.items {
        match item {
            SelectItem::Expr { expr, .. } | SelectItem::Assign { expr, .. } => {
                group::collect(expr, &mut aggregates, &mut windows)?;
            }
            SelectItem::Wildcard { .. } => {}
        }
    }
    if let Some(h) = &select.having {
        let mut having_windows = Vec::new();
        group::collect(h, &mut aggregates, &mut having_windows)?;
        if !having_windows.is_empty() {
            return Err(errors::window_function_misplaced());
        }
    }
    for o in &query.order_by {
        group::collect(&o.expr, &mut aggregates, &mut windows)?;
    }
    for g in &select.group_by {
        if group::has_aggregate(g) || group::has_window(g) {
            return Err(errors::aggregate_in_group_by());
        }
    }
    let grouped = !select.group_by.is_empty() || !aggregates.is_empty() || select.having.is_some();

    // Output columns and what each shows.
    let mut out_columns = Vec::new();
    let mut projections = Vec::new();
    let mut select_exprs: Vec<Option<&Expr>> = Vec::new();
    for item in &select.items {
        match item {
            SelectItem::Wildcard { qualifier } => {
                if columns.is_empty() {
                    return Err(SqlMessage::new(
                        263,
                        16,
                        1,
                        0,
                        "Must specify table to select from.",
                    ));
                }
                let mut any = false;
                for (i, c) in columns.iter().enumerate() {
                    let wanted = qualifier
                        .as_ref()
                        .is_none_or(|q| c.matches_qualifier(&q.parts));
                    if wanted {
                        any = true;
                        out_columns.push(c.column.clone());
                        projections.push(Projection::Source(i));
                        select_exprs.push(None);
                    }
                }
                if !any {
                    let q = qualifier.as_ref().map(|q| q.display()).unwrap_or_default();
                    return Err(errors::multipart_not_bound(&q));
                }
            }
            SelectItem::Expr { expr, alias } => {
                let ty = ev.type_of(expr, &type_scope)?;
                let name = match (alias, expr) {
                    (Some(a), _) => a.clone(),
                    (None, Expr::Column(n)) => n.name().to_owned(),
                    _ => String::new(),
                };
                out_columns.push(Column::new(name, ty, nullable(expr, &type_scope)));
                projections.push(Projection::Expr(expr));
                select_exprs.push(Some(expr));
            }
            SelectItem::Assign { expr, .. } => {
                ev.type_of(expr, &type_scope)?;
            }
        }
    }

    // Group.
    let mut null_eliminated = false;
    let mut items: Vec<Item> = Vec::new();
    if grouped {
        let grouped_columns = grouped_columns(&select.group_by, &type_scope);
        check_all_grouped(
            select,
            query,
            &columns,
            &grouped_columns,
            &out_columns,
            &type_scope,
        )?;
        let groups = make_groups(ev, &select.group_by, &columns, rows, outer)?;
        for group_rows in groups {
            let refs: Vec<group::RowRef> =
                group_rows.iter().map(|r| (r.as_slice(), &[][..])).collect();
            let mut computed = Vec::with_capacity(aggregates.len());
            for &call in &aggregates {
                let (value, skipped) = group::compute(ev, call, &columns, &refs, outer)?;
                null_eliminated |= skipped;
                computed.push((crate::eval::node_key(call), value));
            }
            let row = group_rows
                .into_iter()
                .next()
                .unwrap_or_else(|| vec![Value::Null; columns.len()]);
            let item = Item { row, computed };
            if let Some(h) = &select.having {
                let scope = RowScope::new(&columns, &item.row)
                    .with_computed(&item.computed)
                    .with_outer(outer);
                if ev.truth(h, &scope)? != Some(true) {
                    continue;
                }
            }
            items.push(item);
        }
    } else {
        items = rows
            .into_iter()
            .map(|row| Item {
                row,
                computed: Vec::new(),
            })
            .collect();
    }
    window::compute(ev, &windows, &columns, &mut items, outer)?;

    // ORDER BY keys.
    let only_output = select.distinct.then(errors::order_by_not_in_distinct);
    let order_keys = order::resolve(&query.order_by, &out_columns, &select_exprs, only_output)?;
    for (key, _) in &order_keys {
        if let OrderKey::Expr(e) = key {
            ev.type_of(e, &type_scope)?;
        }
    }
    let descending: Vec<bool> = order_keys.iter().map(|(_, d)| *d).collect();
    let top_scope = outer.copied().unwrap_or(RowScope::EMPTY);

    if assigns {
        let keyed = key_items(ev, items, &order_keys, &projections, &columns, outer, false)?;
        let sorted = sort(keyed, &descending, !query.order_by.is_empty());
        let kept = order::limit(
            ev,
            sorted,
            |r| &r.keys,
            &descending,
            select.top.as_ref(),
            query,
            &top_scope,
        )?;
        let assignments = assign(ev, select, &kept, &columns, outer)?;
        return Ok(Output {
            columns: Vec::new(),
            rows: Vec::new(),
            assigns: true,
            assignments,
            null_eliminated,
            untyped: Vec::new(),
        });
    }

    let mut keyed = key_items(ev, items, &order_keys, &projections, &columns, outer, true)?;
    for row in &mut keyed {
        for (value, column) in row.values.iter_mut().zip(&out_columns) {
            fit(value, column)?;
        }
    }
    if select.distinct {
        keyed.sort_by(|a, b| compare_rows(&a.values, &b.values));
        keyed.dedup_by(|a, b| compare_rows(&a.values, &b.values).is_eq());
    }
    let sorted = sort(keyed, &descending, !query.order_by.is_empty());
    let kept = order::limit(
        ev,
        sorted,
        |r| &r.keys,
        &descending,
        select.top.as_ref(),
        query,
        &top_scope,
    )?;
    Ok(Output {
        columns: out_columns,
        rows: kept.into_iter().map(|r| r.values).collect(),
        assigns: false,
        assignments: Vec::new(),
        null_eliminated,
        untyped: select_exprs
            .iter()
            .map(|e| e.is_some_and(crate::eval::is_null_literal))
            .collect(),
    })
}

/// A value of a projected expression in its column's declared type.
fn fit(value: &mut Value, column: &Column) -> Result<(), SqlMessage> {
    if let (Value::String(s), true) = (&*value, column.ty.is_string())
        && convert::declared_length(column.ty).is_some_and(|n| s.chars().count() > n)
    {
        *value = Value::String(convert::fit_string(s, column.ty));
    }
    Ok(())
}

/// A row ready for ordering: its select-list values and sort keys, and the item it came from.
struct Keyed {
    values: Vec<Value>,
    keys: Vec<Value>,
    item: Item,
}

fn key_items(
    ev: &mut Evaluator,
    items: Vec<Item>,
    order_keys: &[(OrderKey, bool)],
    projections: &[Projection],
    columns: &[SourceColumn],
    outer: Option<&RowScope>,
    project: bool,
) -> Result<Vec<Keyed>, SqlMessage> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let scope = RowScope::new(columns, &item.row)
            .with_computed(&item.computed)
            .with_outer(outer);
        let mut values = Vec::with_capacity(projections.len());
        if project {
            for p in projections {
                values.push(match p {
                    Projection::Source(i) => item.row.get(*i).cloned().unwrap_or(Value::Null),
                    Projection::Expr(e) => ev.eval(e, &scope)?.1,
                });
            }
        }
        let mut keys = Vec::with_capacity(order_keys.len());
        for (key, _) in order_keys {
            keys.push(match key {
                OrderKey::Output(i) if project => values[*i].clone(),
                OrderKey::Output(i) => match &projections[*i] {
                    Projection::Source(c) => item.row.get(*c).cloned().unwrap_or(Value::Null),
                    Projection::Expr(e) => ev.eval(e, &scope)?.1,
                },
                OrderKey::Expr(e) => ev.eval(e, &scope)?.1,
            });
        }
        out.push(Keyed { values, keys, item });
    }
    Ok(out)
}

fn sort(mut rows: Vec<Keyed>, descending: &[bool], ordered: bool) -> Vec<Keyed> {
    if ordered {
        rows.sort_by(|a, b| order::compare_keys(&a.keys, &b.keys, descending));
    }
    rows
}

/// `SELECT @v = …` row by row, each assignment seeing the ones before it.
fn assign(
    ev: &mut Evaluator,
    select: &Select,
    rows: &[Keyed],
    columns: &[SourceColumn],
    outer: Option<&RowScope>,
) -> Result<Vec<(String, Value)>, SqlMessage> {
    let mut order: Vec<String> = Vec::new();
    for row in rows {
        let scope = RowScope::new(columns, &row.item.row)
            .with_computed(&row.item.computed)
            .with_outer(outer);
        for item in &select.items {
            let SelectItem::Assign { variable, op, expr } = item else {
                continue;
            };
            let (declared, _) = ev
                .env
                .variable(variable)
                .ok_or_else(|| errors::must_declare_variable(variable))?;
            let mut value = ev.eval(expr, &scope)?;
            if let Some(op) = op {
                let current = ev.variable(variable)?;
                value = crate::eval::binary_op(*op, current, value)?;
            }
            let converted = convert::implicit(&value.1, value.0, declared)?;
            if !order.iter().any(|n| n.eq_ignore_ascii_case(variable)) {
                order.push(variable.clone());
            }
            ev.assigned.push((variable.clone(), (declared, converted)));
        }
    }
    Ok(order
        .into_iter()
        .map(|name| {
            let value = ev
                .assigned
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|(_, (_, v))| v.clone())
                .unwrap_or(Value::Null);
            (name, value)
        })
        .collect())
}

/// Source columns named directly in GROUP BY.
fn grouped_columns(group_by: &[Expr], scope: &RowScope) -> Vec<usize> {
    group_by
        .iter()
        .filter_map(|g| match g {
            Expr::Column(name) => match scope.resolve(name) {
                Ok((0, i)) => Some(i),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// 8120/8121/8127 for every column outside aggregates and GROUP BY.
fn check_all_grouped(
    select: &Select,
    query: &Query,
    columns: &[SourceColumn],
    grouped_columns: &[usize],
    out_columns: &[Column],
    scope: &RowScope,
) -> Result<(), SqlMessage> {
    for g in &select.group_by {
        // Binding errors in GROUP BY itself come first.
        if let Expr::Column(name) = g {
            scope.resolve(name)?;
        }
    }
    for item in &select.items {
        match item {
            SelectItem::Wildcard { qualifier } => {
                for (i, c) in columns.iter().enumerate() {
                    let wanted = qualifier
                        .as_ref()
                        .is_none_or(|q| c.matches_qualifier(&q.parts));
                    if wanted && !grouped_columns.contains(&i) {
                        return Err(group::ungrouped(c, Clause::Select));
                    }
                }
            }
            SelectItem::Expr { expr, .. } | SelectItem::Assign { expr, .. } => {
                group::check_grouped(
                    expr,
                    &select.group_by,
                    grouped_columns,
                    scope,
                    Clause::Select,
                )?;
            }
        }
    }
    if let Some(h) = &select.having {
        group::check_grouped(h, &select.group_by, grouped_columns, scope, Clause::Having)?;
    }
    for o in &query.order_by {
        let is_output = match &o.expr {
            Expr::Literal(_) => true,
            Expr::Column(n) if n.parts.len() == 1 => out_columns
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(n.name())),
            _ => false,
        };
        if !is_output {
            group::check_grouped(
                &o.expr,
                &select.group_by,
                grouped_columns,
                scope,
                Clause::OrderBy,
            )?;
        }
    }
    Ok(())
}

/// Rows split into groups by their GROUP BY values, groups in key order; without GROUP BY,
/// one group of every row (even none).
fn make_groups(
    ev: &mut Evaluator,
    group_by: &[Expr],
    columns: &[SourceColumn],
    rows: Vec<Vec<Value>>,
    outer: Option<&RowScope>,
) -> Result<Vec<Vec<Vec<Value>>>, SqlMessage> {
    if group_by.is_empty() {
        return Ok(if ev.type_only { Vec::new() } else { vec![rows] });
    }
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows {
        let scope = RowScope::new(columns, &row).with_outer(outer);
        let mut key = Vec::with_capacity(group_by.len());
        for g in group_by {
            key.push(ev.eval(g, &scope)?.1);
        }
        keyed.push((key, row));
    }
    keyed.sort_by(|a, b| compare_rows(&a.0, &b.0));
    let mut groups: Vec<Vec<Vec<Value>>> = Vec::new();
    let mut last: Option<Vec<Value>> = None;
    for (key, row) in keyed {
        match &last {
            Some(k) if compare_rows(k, &key).is_eq() => {
                if let Some(g) = groups.last_mut() {
                    g.push(row);
                }
            }
            _ => {
                groups.push(vec![row]);
                last = Some(key);
            }
        }
    }
    Ok(groups)
}
