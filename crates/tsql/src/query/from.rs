//! The FROM clause: tables from the environment, derived tables, VALUES, table functions, and
//! joins (inner, outer, cross, APPLY) by nested loops. In type-only mode every source has its
//! columns and no rows.

use crate::ast::{Expr, JoinKind, ObjectName, TableRef};
use crate::eval::types::common_type;
use crate::eval::{Evaluator, RowScope, SourceColumn, errors};
use crate::messages::SqlMessage;
use crate::value::convert;
use crate::value::{Column, SqlType, Table, Value};

/// Rows with the columns that name them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Relation {
    pub columns: Vec<SourceColumn>,
    pub rows: Vec<Vec<Value>>,
    /// The exposed name of each source joined in, for 1013.
    pub sources: Vec<Vec<String>>,
}

impl Relation {
    /// The single empty row of a SELECT without FROM.
    pub fn unit() -> Self {
        Relation {
            columns: Vec::new(),
            rows: vec![Vec::new()],
            sources: Vec::new(),
        }
    }

    fn from_table(table: Table, qualifier: &[String]) -> Self {
        Relation {
            columns: table
                .columns
                .into_iter()
                .map(|c| SourceColumn::new(qualifier, c))
                .collect(),
            rows: table.rows,
            sources: vec![qualifier.to_vec()],
        }
    }
}

/// The comma-separated FROM items, cross-joined.
pub(crate) fn build(
    ev: &mut Evaluator,
    from: &[TableRef],
    outer: Option<&RowScope>,
) -> Result<Relation, SqlMessage> {
    let mut result: Option<Relation> = None;
    for item in from {
        let next = source(ev, item, outer)?;
        result = Some(match result {
            None => next,
            Some(left) => join(ev, left, next, JoinKind::Cross, None, outer)?,
        });
    }
    let relation = result.unwrap_or_else(Relation::unit);
    check_exposed_names(&relation)?;
    Ok(relation)
}

/// 1013: two sources with the same exposed name.
fn check_exposed_names(relation: &Relation) -> Result<(), SqlMessage> {
    let exposed = |t: &[String]| t.last().map(|s| s.to_ascii_lowercase());
    for (i, a) in relation.sources.iter().enumerate() {
        if let Some(b) = relation.sources[..i]
            .iter()
            .find(|b| exposed(b) == exposed(a))
        {
            return Err(errors::duplicate_exposed_names(&b.join("."), &a.join(".")));
        }
    }
    Ok(())
}

fn qualifier(name: &ObjectName, alias: Option<&String>) -> Vec<String> {
    match alias {
        Some(a) => vec![a.clone()],
        None => name.parts.clone(),
    }
}

fn source(
    ev: &mut Evaluator,
    item: &TableRef,
    outer: Option<&RowScope>,
) -> Result<Relation, SqlMessage> {
    match item {
        TableRef::Named { name, alias } => {
            let cte = match name.parts.as_slice() {
                [single] => super::cte::lookup(ev, single),
                _ => None,
            };
            let mut table = match cte {
                Some(result) => result?,
                None => ev.env.table(name)?,
            };
            if ev.type_only {
                table.rows.clear();
            }
            Ok(Relation::from_table(
                table,
                &qualifier(name, alias.as_ref()),
            ))
        }
        TableRef::Derived {
            query,
            alias,
            columns,
        } => {
            super::check_nested_order_by(query)?;
            let output = super::execute(ev, query, outer)?;
            if output.assigns {
                return Err(errors::assignment_with_retrieval());
            }
            let mut cols = output.columns;
            rename(&mut cols, columns, alias)?;
            let table = Table {
                columns: cols,
                rows: output.rows,
            };
            Ok(Relation::from_table(table, std::slice::from_ref(alias)))
        }
        TableRef::Function { name, args, alias } => {
            let scope = outer.copied().unwrap_or(RowScope::EMPTY);
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push(ev.eval(a, &scope)?);
            }
            let mut table = match builtin_table_function(name, &values)? {
                Some(t) => t,
                None => ev.env.table_function(name, &values)?,
            };
            if ev.type_only {
                table.rows.clear();
            }
            Ok(Relation::from_table(
                table,
                &qualifier(name, alias.as_ref()),
            ))
        }
        TableRef::Values {
            rows,
            alias,
            columns,
        } => values(ev, rows, alias, columns, outer),
        TableRef::Join {
            left,
            right,
            kind,
            on,
        } => {
            let l = source(ev, left, outer)?;
            if matches!(kind, JoinKind::CrossApply | JoinKind::OuterApply) {
                return apply(ev, l, right, *kind, outer);
            }
            let r = source(ev, right, outer)?;
            join(ev, l, r, *kind, on.as_ref(), outer)
        }
    }
}

/// A derived table's column list, or its columns' own names (which must exist).
fn rename(cols: &mut [Column], names: &[String], alias: &str) -> Result<(), SqlMessage> {
    if !names.is_empty() {
        if names.len() != cols.len() {
            return Err(errors::column_list_mismatch(
                alias,
                cols.len() > names.len(),
            ));
        }
        for (c, n) in cols.iter_mut().zip(names) {
            c.name = n.clone();
        }
    }
    if let Some(i) = cols.iter().position(|c| c.name.is_empty()) {
        return Err(errors::derived_column_unnamed(i + 1, alias));
    }
    Ok(())
}

fn values(
    ev: &mut Evaluator,
    rows: &[Vec<Expr>],
    alias: &str,
    names: &[String],
    outer: Option<&RowScope>,
) -> Result<Relation, SqlMessage> {
    let width = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != width) {
        return Err(errors::values_rows_differ());
    }
    let scope = outer.copied().unwrap_or(RowScope::EMPTY);
    let mut types: Vec<Option<SqlType>> = vec![None; width];
    let mut nullable = vec![false; width];
    let mut evaluated = Vec::with_capacity(rows.len());
    for row in rows {
        let mut out = Vec::with_capacity(width);
        for (i, e) in row.iter().enumerate() {
            let (ty, v) = ev.eval(e, &scope)?;
            if !crate::eval::is_null_literal(e) {
                types[i] = Some(types[i].map_or(ty, |t| common_type(t, ty)));
            }
            nullable[i] |= crate::eval::nullable(e, &scope);
            out.push((ty, v));
        }
        evaluated.push(out);
    }
    let mut columns: Vec<Column> = (0..width)
        .map(|i| Column::new("", types[i].unwrap_or(SqlType::Int), nullable[i]))
        .collect();
    rename(&mut columns, names, alias)?;
    let mut table = Table::new(columns);
    if !ev.type_only {
        for row in evaluated {
            let mut out = Vec::with_capacity(width);
            for (i, (ty, v)) in row.into_iter().enumerate() {
                out.push(convert::implicit(&v, ty, table.columns[i].ty)?);
            }
            table.rows.push(out);
        }
    }
    Ok(Relation::from_table(table, &[alias.to_owned()]))
}

/// Nested-loop joins with three-valued ON conditions.
fn join(
    ev: &mut Evaluator,
    left: Relation,
    right: Relation,
    kind: JoinKind,
    on: Option<&Expr>,
    outer: Option<&RowScope>,
) -> Result<Relation, SqlMessage> {
    let mut sources = left.sources;
    sources.extend(right.sources);
    let mut columns = left.columns;
    let left_width = columns.len();
    let right_width = right.columns.len();
    let outer_left = matches!(kind, JoinKind::Left | JoinKind::Full);
    let outer_right = matches!(kind, JoinKind::Right | JoinKind::Full);
    for c in &right.columns {
        let mut c = c.clone();
        c.column.nullable |= outer_left;
        columns.push(c);
    }
    if outer_right {
        for c in &mut columns[..left_width] {
            c.column.nullable = true;
        }
    }
    // Bind the condition before any row: name errors even for empty inputs.
    if let Some(cond) = on {
        let scope = RowScope::new(&columns, &[]).with_outer(outer);
        ev.typing(|ev| ev.truth(cond, &scope))?;
    }
    let mut rows = Vec::new();
    let mut right_matched = vec![false; right.rows.len()];
    for l in &left.rows {
        let mut matched = false;
        for (j, r) in right.rows.iter().enumerate() {
            let mut row = Vec::with_capacity(left_width + right_width);
            row.extend_from_slice(l);
            row.extend_from_slice(r);
            let keep = match on {
                Some(cond) => {
                    let scope = RowScope::new(&columns, &row).with_outer(outer);
                    ev.truth(cond, &scope)? == Some(true)
                }
                None => true,
            };
            if keep {
                matched = true;
                right_matched[j] = true;
                rows.push(row);
                if rows.len() > super::MAX_ROWS {
                    return Err(errors::too_many_rows(super::MAX_ROWS));
                }
            }
        }
        if outer_left && !matched {
            let mut row = l.clone();
            row.extend(std::iter::repeat_n(Value::Null, right_width));
            rows.push(row);
        }
    }
    if outer_right {
        for (j, r) in right.rows.iter().enumerate() {
            if !right_matched[j] {
                let mut row: Vec<Value> = std::iter::repeat_n(Value::Null, left_width).collect();
                row.extend_from_slice(r);
                rows.push(row);
            }
        }
    }
    Ok(Relation {
        columns,
        rows,
        sources,
    })
}

/// CROSS/OUTER APPLY: the right side is built once per left row, seeing that row.
fn apply(
    ev: &mut Evaluator,
    left: Relation,
    right: &TableRef,
    kind: JoinKind,
    outer: Option<&RowScope>,
) -> Result<Relation, SqlMessage> {
    let left_width = left.columns.len();
    // The right side's columns, from a type-only build against the left's columns.
    let (right_columns, right_sources) = {
        let scope = RowScope::new(&left.columns, &[]).with_outer(outer);
        let typed = ev.typing(|ev| source(ev, right, Some(&scope)))?;
        (typed.columns, typed.sources)
    };
    let mut sources = left.sources.clone();
    sources.extend(right_sources);
    let mut columns = left.columns.clone();
    for c in &right_columns {
        let mut c = c.clone();
        c.column.nullable |= kind == JoinKind::OuterApply;
        columns.push(c);
    }
    let mut rows = Vec::new();
    if !ev.type_only {
        for l in &left.rows {
            let scope = RowScope::new(&left.columns, l).with_outer(outer);
            let r = source(ev, right, Some(&scope))?;
            if r.rows.is_empty() && kind == JoinKind::OuterApply {
                let mut row = l.clone();
                row.extend(std::iter::repeat_n(Value::Null, right_columns.len()));
                rows.push(row);
            }
            for rr in r.rows {
                let mut row = Vec::with_capacity(left_width + rr.len());
                row.extend_from_slice(l);
                row.extend(rr);
                rows.push(row);
            }
            if rows.len() > super::MAX_ROWS {
                return Err(errors::too_many_rows(super::MAX_ROWS));
            }
        }
    }
    Ok(Relation {
        columns,
        rows,
        sources,
    })
}

/// Table functions of the engine itself: STRING_SPLIT and GENERATE_SERIES.
fn builtin_table_function(
    name: &ObjectName,
    args: &[crate::eval::Typed],
) -> Result<Option<Table>, SqlMessage> {
    if name.parts.len() != 1 {
        return Ok(None);
    }
    let upper = name.name().to_ascii_uppercase();
    match upper.as_str() {
        "STRING_SPLIT" => {
            if !(2..=3).contains(&args.len()) {
                return Err(errors::argument_count_range("STRING_SPLIT", 2, 3));
            }
            let text = as_text(&args[0])?;
            let sep = as_text(&args[1])?;
            let ordinal = match args.get(2) {
                Some((t, v)) => matches!(convert::implicit(v, *t, SqlType::Int)?, Value::Int(1)),
                None => false,
            };
            if sep.as_ref().is_some_and(|s| s.chars().count() != 1) {
                return Err(SqlMessage::new(
                    214,
                    16,
                    1,
                    0,
                    "Procedure expects parameter 'separator' of type 'nchar(1)/nvarchar(1)'.",
                ));
            }
            let ty = if args[0].0.is_unicode() {
                SqlType::NVarChar(Some(4000))
            } else {
                SqlType::VarChar(Some(8000))
            };
            let mut columns = vec![Column::new("value", ty, true)];
            if ordinal {
                columns.push(Column::new("ordinal", SqlType::BigInt, false));
            }
            let mut table = Table::new(columns);
            if let (Some(text), Some(sep)) = (text, sep) {
                for (i, part) in text.split(sep.as_str()).enumerate() {
                    let mut row = vec![Value::String(part.to_owned())];
                    if ordinal {
                        row.push(Value::Int(i as i64 + 1));
                    }
                    table.rows.push(row);
                }
            }
            Ok(Some(table))
        }
        "GENERATE_SERIES" => {
            if !(2..=3).contains(&args.len()) {
                return Err(errors::argument_count_range("GENERATE_SERIES", 2, 3));
            }
            let int = |(t, v): &crate::eval::Typed| -> Result<Option<i64>, SqlMessage> {
                Ok(match convert::implicit(v, *t, SqlType::BigInt)? {
                    Value::Int(n) => Some(n),
                    _ => None,
                })
            };
            let (start, stop) = (int(&args[0])?, int(&args[1])?);
            let step = match args.get(2) {
                Some(a) => int(a)?,
                None => Some(if stop >= start { 1 } else { -1 }),
            };
            let mut table = Table::new(vec![Column::new("value", SqlType::Int, false)]);
            if let (Some(mut n), Some(stop), Some(step)) = (start, stop, step) {
                // Bounded: at most a million rows.
                while step != 0
                    && table.rows.len() < 1_000_000
                    && ((step > 0 && n <= stop) || (step < 0 && n >= stop))
                {
                    table.rows.push(vec![Value::Int(n)]);
                    n = match n.checked_add(step) {
                        Some(next) => next,
                        None => break,
                    };
                }
            }
            Ok(Some(table))
        }
        _ => Ok(None),
    }
}

fn as_text((t, v): &crate::eval::Typed) -> Result<Option<String>, SqlMessage> {
    Ok(match convert::implicit(v, *t, SqlType::NVarChar(None))? {
        Value::String(s) => Some(s),
        _ => None,
    })
}
