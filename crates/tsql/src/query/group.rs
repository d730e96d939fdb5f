//! Aggregates: finding them in the select list, HAVING and ORDER BY; checking that every other
//! column is grouped (8120, 8121, 8127); and computing COUNT, SUM, AVG, MIN, MAX, STRING_AGG,
//! STDEV/VAR and CHECKSUM_AGG over a group's rows.

use crate::ast::Expr;
use crate::eval::{Computed, Evaluator, RowScope, SourceColumn, Typed, aggregate_type, errors};
use crate::messages::SqlMessage;
use crate::value::compare::sort_cmp;
use crate::value::convert::{self, base_name, check_integer, numeric};
use crate::value::{Decimal, SqlType, Value};

/// The sub-expressions of an expression, subqueries excluded (they are scopes of their own).
pub(crate) fn children(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::Literal(_)
        | Expr::Variable(_)
        | Expr::SystemVariable(_)
        | Expr::Column(_)
        | Expr::DatePart(_)
        | Expr::Exists(_)
        | Expr::Subquery(_) => Vec::new(),
        Expr::Unary { operand, .. } => vec![operand],
        Expr::Binary { left, right, .. } => vec![left, right],
        Expr::IsNull { expr, .. } | Expr::Cast { expr, .. } => vec![expr],
        Expr::InSubquery { expr, .. } => vec![expr],
        Expr::Quantified { left, .. } => vec![left],
        Expr::Like {
            expr,
            pattern,
            escape,
            ..
        } => {
            let mut v: Vec<&Expr> = vec![expr, pattern];
            v.extend(escape.as_deref());
            v
        }
        Expr::Between {
            expr, low, high, ..
        } => vec![expr, low, high],
        Expr::InList { expr, list, .. } => {
            let mut v: Vec<&Expr> = vec![expr];
            v.extend(list);
            v
        }
        Expr::Case {
            operand,
            branches,
            otherwise,
        } => {
            let mut v: Vec<&Expr> = operand.as_deref().into_iter().collect();
            for (w, t) in branches {
                v.push(w);
                v.push(t);
            }
            v.extend(otherwise.as_deref());
            v
        }
        Expr::Convert { expr, style, .. } => {
            let mut v: Vec<&Expr> = vec![expr];
            v.extend(style.as_deref());
            v
        }
        Expr::Function {
            args,
            over,
            within_group,
            ..
        } => {
            let mut v: Vec<&Expr> = args.iter().collect();
            v.extend(within_group.iter().map(|o| &o.expr));
            if let Some(w) = over {
                v.extend(&w.partition_by);
                v.extend(w.order_by.iter().map(|o| &o.expr));
            }
            v
        }
    }
}

pub(crate) fn is_aggregate_call(expr: &Expr) -> bool {
    matches!(expr, Expr::Function { name, over: None, schema: None, .. }
        if crate::eval::is_aggregate_name(name))
}

pub(crate) fn is_window_call(expr: &Expr) -> bool {
    matches!(expr, Expr::Function { over: Some(_), .. })
}

/// Collects the aggregate and window calls of an expression (130 for an aggregate inside an
/// aggregate).
pub(crate) fn collect<'q>(
    expr: &'q Expr,
    aggregates: &mut Vec<&'q Expr>,
    windows: &mut Vec<&'q Expr>,
) -> Result<(), SqlMessage> {
    if is_aggregate_call(expr) {
        let mut inner = Vec::new();
        let mut inner_windows = Vec::new();
        for c in children(expr) {
            collect(c, &mut inner, &mut inner_windows)?;
        }
        if !inner.is_empty() || !inner_windows.is_empty() {
            return Err(errors::nested_aggregate());
        }
        aggregates.push(expr);
        return Ok(());
    }
    if is_window_call(expr) {
        windows.push(expr);
    }
    for c in children(expr) {
        collect(c, aggregates, windows)?;
    }
    Ok(())
}

/// Whether an expression holds an aggregate or window call outside subqueries.
pub(crate) fn has_aggregate(expr: &Expr) -> bool {
    is_aggregate_call(expr) || children(expr).into_iter().any(has_aggregate)
}

pub(crate) fn has_window(expr: &Expr) -> bool {
    is_window_call(expr) || children(expr).into_iter().any(has_window)
}

/// Where an ungrouped column was found, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clause {
    Select,
    Having,
    OrderBy,
}

/// Checks that every column outside aggregates is grouped.
pub(crate) fn check_grouped(
    expr: &Expr,
    group_by: &[Expr],
    grouped_columns: &[usize],
    scope: &RowScope,
    clause: Clause,
) -> Result<(), SqlMessage> {
    if group_by.iter().any(|g| g == expr) || is_aggregate_call(expr) {
        return Ok(());
    }
    if let Expr::Column(name) = expr {
        let (depth, index) = scope.resolve(name)?;
        if depth > 0 || grouped_columns.contains(&index) {
            return Ok(());
        }
        return Err(ungrouped(&scope.columns[index], clause));
    }
    for c in children(expr) {
        check_grouped(c, group_by, grouped_columns, scope, clause)?;
    }
    Ok(())
}

pub(crate) fn ungrouped(column: &SourceColumn, clause: Clause) -> SqlMessage {
    let name = column.display();
    match clause {
        Clause::Select => errors::not_in_group_by(&name),
        Clause::Having => errors::not_in_group_by_having(&name),
        Clause::OrderBy => errors::not_in_group_by_order(&name),
    }
}

/// 9829
fn string_agg_too_long() -> SqlMessage {
    SqlMessage::new(
        9829,
        16,
        1,
        0,
        "STRING_AGG aggregation result exceeded the limit of 8000 bytes. Use LOB types to avoid result truncation.",
    )
}

/// `WITHIN GROUP (ORDER BY …)`: the group's rows in that order (a stable sort).
fn order_within_group<'a>(
    ev: &mut Evaluator,
    order: &[crate::ast::OrderItem],
    columns: &[SourceColumn],
    rows: &[RowRef<'a>],
    outer: Option<&RowScope>,
) -> Result<Vec<RowRef<'a>>, SqlMessage> {
    let descending: Vec<bool> = order.iter().map(|o| o.descending).collect();
    let mut keyed = Vec::with_capacity(rows.len());
    for &(row, computed) in rows {
        let scope = RowScope::new(columns, row)
            .with_computed(computed)
            .with_outer(outer);
        let mut keys = Vec::with_capacity(order.len());
        for o in order {
            keys.push(ev.eval(&o.expr, &scope)?.1);
        }
        keyed.push((keys, (row, computed)));
    }
    keyed.sort_by(|a, b| super::order::compare_keys(&a.0, &b.0, &descending));
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}

/// A row an aggregate reads: its values and the values computed for it (aggregates inside a
/// window function's argument).
pub(crate) type RowRef<'a> = (&'a [Value], &'a [Computed]);

/// An aggregate over a group's rows: the value, and whether a NULL was skipped (8153).
pub(crate) fn compute(
    ev: &mut Evaluator,
    call: &Expr,
    columns: &[SourceColumn],
    rows: &[RowRef],
    outer: Option<&RowScope>,
) -> Result<(Typed, bool), SqlMessage> {
    let Expr::Function {
        name,
        args,
        star,
        distinct,
        within_group,
        ..
    } = call
    else {
        return Err(errors::not_builtin_function(""));
    };
    let upper = name.to_ascii_uppercase();
    let ordered;
    let rows = if within_group.is_empty() {
        rows
    } else {
        ordered = order_within_group(ev, within_group, columns, rows, outer)?;
        ordered.as_slice()
    };
    let type_scope = RowScope::new(columns, &[]).with_outer(outer);
    let arg_ty = match args.first() {
        Some(a) if !star => Some(ev.type_of(a, &type_scope)?),
        _ => None,
    };
    if matches!(upper.as_str(), "SUM" | "AVG")
        && arg_ty.is_some_and(|t| !t.is_numeric() || t == SqlType::Bit)
    {
        let t = arg_ty.unwrap_or(SqlType::Int);
        return Err(errors::operand_invalid_for_operator(
            base_name(t),
            &upper.to_ascii_lowercase(),
        ));
    }
    let ty = aggregate_type(&upper, arg_ty);
    if *star {
        let n = rows.len() as i128;
        return Ok(((ty, check_integer(n, ty)?), false));
    }
    let Some(arg) = args.first() else {
        return Err(errors::argument_count(&upper, 1));
    };
    let mut values = Vec::with_capacity(rows.len());
    let mut skipped = false;
    for (row, computed) in rows {
        let scope = RowScope::new(columns, row)
            .with_computed(computed)
            .with_outer(outer);
        let (_, v) = ev.eval(arg, &scope)?;
        if v.is_null() {
            skipped = true;
        } else {
            values.push(v);
        }
    }
    if *distinct {
        values.sort_by(sort_cmp);
        values.dedup_by(|a, b| sort_cmp(a, b).is_eq());
    }
    let arg_ty = arg_ty.unwrap_or(SqlType::Int);
    let value = match upper.as_str() {
        "COUNT" | "COUNT_BIG" => check_integer(values.len() as i128, ty)?,
        "MIN" | "MAX" => {
            let pick = if upper == "MIN" {
                values.into_iter().min_by(sort_cmp)
            } else {
                values.into_iter().max_by(sort_cmp)
            };
            pick.unwrap_or(Value::Null)
        }
        "SUM" | "AVG" => sum_or_average(&upper, &values, arg_ty, ty)?,
        "STRING_AGG" => {
            let separator = match args.get(1) {
                Some(s) => {
                    let scope = match rows.first() {
                        Some((r, _)) => RowScope::new(columns, r).with_outer(outer),
                        None => type_scope,
                    };
                    let (st, sv) = ev.eval(s, &scope)?;
                    match convert::implicit(&sv, st, SqlType::NVarChar(None))? {
                        Value::String(s) => s,
                        _ => String::new(),
                    }
                }
                None => return Err(errors::argument_count("string_agg", 2)),
            };
            if values.is_empty() {
                Value::Null
            } else {
                let mut parts = Vec::with_capacity(values.len());
                for v in &values {
                    if let Value::String(s) = convert::implicit(v, arg_ty, SqlType::NVarChar(None))?
                    {
                        parts.push(s);
                    }
                }
                let joined = parts.join(&separator);
                let limit = match ty {
                    SqlType::NVarChar(Some(n)) | SqlType::VarChar(Some(n)) => Some(n as usize),
                    _ => None,
                };
                if limit.is_some_and(|n| joined.chars().count() > n) {
                    return Err(string_agg_too_long());
                }
                Value::String(convert::fit_string(&joined, ty))
            }
        }
        "STDEV" | "STDEVP" | "VAR" | "VARP" => {
            let xs: Vec<f64> = values
                .iter()
                .filter_map(|v| match convert::implicit(v, arg_ty, SqlType::Float) {
                    Ok(Value::Float(f)) => Some(f),
                    _ => None,
                })
                .collect();
            let population = upper.ends_with('P');
            let n = xs.len() as f64;
            let needed = if population { 1.0 } else { 2.0 };
            if n < needed {
                Value::Null
            } else {
                let mean = xs.iter().sum::<f64>() / n;
                let ss: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
                let var = ss / if population { n } else { n - 1.0 };
                Value::Float(if upper.starts_with("STDEV") {
                    var.sqrt()
                } else {
                    var
                })
            }
        }
        _ => {
            // CHECKSUM_AGG
            let mut acc: i64 = 0;
            for v in &values {
                if let Value::Int(n) = convert::implicit(v, arg_ty, SqlType::Int)? {
                    acc ^= n;
                }
            }
            if values.is_empty() {
                Value::Null
            } else {
                Value::Int(acc)
            }
        }
    };
    Ok(((ty, value), skipped))
}

fn sum_or_average(
    name: &str,
    values: &[Value],
    arg_ty: SqlType,
    ty: SqlType,
) -> Result<Value, SqlMessage> {
    if values.is_empty() {
        return Ok(Value::Null);
    }
    let count = values.len() as i128;
    let overflow = || errors::overflow_converting("expression", base_name(ty));
    match ty {
        SqlType::Float => {
            let mut total = 0.0;
            for v in values {
                if let Value::Float(f) = convert::implicit(v, arg_ty, SqlType::Float)? {
                    total += f;
                }
            }
            let f = if name == "AVG" {
                total / count as f64
            } else {
                total
            };
            if !f.is_finite() {
                return Err(overflow());
            }
            Ok(Value::Float(f))
        }
        SqlType::Decimal { .. } | SqlType::Money => {
            let (precision, scale) = match ty {
                SqlType::Decimal { precision, scale } => (precision, scale),
                _ => (19, 4),
            };
            let arg_scale = match arg_ty {
                SqlType::Decimal { scale, .. } => scale,
                _ => 4,
            };
            let mut total: i128 = 0;
            for v in values {
                if let Value::Decimal(d) = v {
                    let d = numeric::rescale(*d, arg_scale).ok_or_else(overflow)?;
                    total = total.checked_add(d.mantissa).ok_or_else(overflow)?;
                }
            }
            let mut d = Decimal {
                mantissa: total,
                scale: arg_scale,
            };
            if name == "AVG" {
                let shifted = numeric::rescale(d, scale).ok_or_else(overflow)?;
                d = Decimal {
                    mantissa: shifted.mantissa / count,
                    scale,
                };
            }
            let d = numeric::rescale(d, scale).ok_or_else(overflow)?;
            let fits = if ty == SqlType::Money {
                i64::try_from(d.mantissa).is_ok()
            } else {
                numeric::fits(d, precision)
            };
            if !fits {
                return Err(overflow());
            }
            Ok(Value::Decimal(d))
        }
        _ => {
            let mut total: i128 = 0;
            for v in values {
                match v {
                    Value::Int(n) => total += i128::from(*n),
                    Value::Bit(b) => total += i128::from(*b),
                    _ => {}
                }
            }
            // Integer AVG truncates, as SQL Server's does.
            let n = if name == "AVG" { total / count } else { total };
            check_integer(n, ty)
        }
    }
}
