//! Common table expressions (`WITH name [(cols)] AS (…) …`), recursive ones included: the
//! anchor members run once, then the recursive members run against the rows of the previous
//! round until they return none, at most 100 rounds (SQL Server's default MAXRECURSION; 530).

use crate::ast::{CommonTableExpression, Query, QueryBody, SetOperator, TableRef};
use crate::eval::{Evaluator, RowScope, errors};
use crate::messages::SqlMessage;
use crate::value::convert;
use crate::value::{Table, Value};

use super::Output;

/// The default MAXRECURSION.
const MAX_RECURSION: usize = 100;

/// A CTE in scope: its definition, or (during recursion) the rows of the previous round.
#[derive(Debug, Clone)]
pub(crate) struct CteBinding {
    name: String,
    columns: Vec<String>,
    source: CteSource,
}

#[derive(Debug, Clone)]
enum CteSource {
    Query(Box<Query>),
    Rows(Table),
}

/// `WITH …`: binds the CTEs, runs the body with the query's ORDER BY and OFFSET, unbinds.
pub(super) fn run(
    ev: &mut Evaluator,
    ctes: &[CommonTableExpression],
    body: &QueryBody,
    query: &Query,
    outer: Option<&RowScope>,
) -> Result<Output, SqlMessage> {
    let depth = ev.ctes.len();
    for cte in ctes {
        ev.ctes.push(CteBinding {
            name: cte.name.clone(),
            columns: cte.columns.clone(),
            source: CteSource::Query(cte.query.clone()),
        });
    }
    let inner = Query {
        body: body.clone(),
        order_by: query.order_by.clone(),
        offset: query.offset.clone(),
        fetch: query.fetch.clone(),
        for_xml: None,
    };
    let result = super::execute(ev, &inner, outer);
    ev.ctes.truncate(depth);
    result
}

/// The table a single-part name refers to when it names a CTE in scope.
pub(crate) fn lookup(ev: &mut Evaluator, name: &str) -> Option<Result<Table, SqlMessage>> {
    let index = ev
        .ctes
        .iter()
        .rposition(|c| c.name.eq_ignore_ascii_case(name))?;
    let binding = ev.ctes[index].clone();
    Some(match &binding.source {
        CteSource::Rows(table) => Ok(table.clone()),
        CteSource::Query(query) => {
            // The CTE sees only the CTEs defined before it (and itself, if recursive).
            let saved = ev.ctes.split_off(index);
            let result = if references(&query.body, &binding.name) {
                recursive(ev, &binding, query)
            } else {
                materialize(ev, query, &binding.columns, &binding.name)
            };
            ev.ctes.extend(saved);
            result
        }
    })
}

fn materialize(
    ev: &mut Evaluator,
    query: &Query,
    names: &[String],
    alias: &str,
) -> Result<Table, SqlMessage> {
    super::check_nested_order_by(query)?;
    let output = super::execute(ev, query, None)?;
    if output.assigns {
        return Err(errors::assignment_with_retrieval());
    }
    let mut columns = output.columns;
    if !names.is_empty() {
        if names.len() != columns.len() {
            return Err(errors::column_list_mismatch(
                alias,
                columns.len() > names.len(),
            ));
        }
        for (c, n) in columns.iter_mut().zip(names) {
            c.name = n.clone();
        }
    }
    if let Some(i) = columns.iter().position(|c| c.name.is_empty()) {
        return Err(errors::derived_column_unnamed(i + 1, alias));
    }
    Ok(Table {
        columns,
        rows: output.rows,
    })
}

/// Whether a query body reads the named table (a recursive CTE).
fn references(body: &QueryBody, name: &str) -> bool {
    fn in_ref(r: &TableRef, name: &str) -> bool {
        match r {
            TableRef::Named { name: n, .. } => {
                n.parts.len() == 1 && n.name().eq_ignore_ascii_case(name)
            }
            TableRef::Derived { query, .. } => references(&query.body, name),
            TableRef::Join { left, right, .. } => in_ref(left, name) || in_ref(right, name),
            TableRef::Function { .. } | TableRef::Values { .. } => false,
        }
    }
    match body {
        QueryBody::Select(s) => s.from.iter().any(|r| in_ref(r, name)),
        QueryBody::SetOperation { left, right, .. } => {
            references(left, name) || references(right, name)
        }
        QueryBody::With { body, .. } => references(body, name),
    }
}

/// The UNION ALL members of a body, left to right.
fn members(body: &QueryBody) -> Vec<&QueryBody> {
    match body {
        QueryBody::SetOperation {
            op: SetOperator::Union,
            all: true,
            left,
            right,
        } => {
            let mut m = members(left);
            m.extend(members(right));
            m
        }
        other => vec![other],
    }
}

fn as_query(body: &QueryBody) -> Query {
    Query {
        body: body.clone(),
        order_by: Vec::new(),
        offset: None,
        fetch: None,
        for_xml: None,
    }
}

/// 530
fn recursion_exhausted() -> SqlMessage {
    SqlMessage::new(
        530,
        16,
        1,
        0,
        format!(
            "The statement terminated. The maximum recursion {MAX_RECURSION} has been exhausted before statement completion."
        ),
    )
}

fn recursive(ev: &mut Evaluator, binding: &CteBinding, query: &Query) -> Result<Table, SqlMessage> {
    let all = members(&query.body);
    let (recursive, anchors): (Vec<&QueryBody>, Vec<&QueryBody>) =
        all.into_iter().partition(|m| references(m, &binding.name));
    if anchors.is_empty() {
        return Err(SqlMessage::new(
            246,
            16,
            1,
            0,
            format!(
                "No anchor member was specified for recursive query \"{}\".",
                binding.name
            ),
        ));
    }
    let mut table: Option<Table> = None;
    for anchor in anchors {
        let part = materialize(ev, &as_query(anchor), &binding.columns, &binding.name)?;
        table = Some(match table {
            None => part,
            Some(mut t) => {
                t.rows.extend(part.rows);
                t
            }
        });
    }
    let mut result = table.unwrap_or_default();
    let mut working = result.rows.clone();
    let mut rounds = 0;
    while !working.is_empty() && !ev.type_only {
        if rounds == MAX_RECURSION {
            return Err(recursion_exhausted());
        }
        rounds += 1;
        let round_table = Table {
            columns: result.columns.clone(),
            rows: std::mem::take(&mut working),
        };
        ev.ctes.push(CteBinding {
            name: binding.name.clone(),
            columns: binding.columns.clone(),
            source: CteSource::Rows(round_table),
        });
        let mut produced = Vec::new();
        let mut failure = None;
        for member in &recursive {
            match super::execute(ev, &as_query(member), None) {
                Ok(out) => {
                    for row in out.rows {
                        let converted: Result<Vec<Value>, SqlMessage> = row
                            .iter()
                            .zip(&out.columns)
                            .zip(&result.columns)
                            .map(|((v, from), to)| convert::implicit(v, from.ty, to.ty))
                            .collect();
                        match converted {
                            Ok(r) => produced.push(r),
                            Err(e) => failure = Some(e),
                        }
                    }
                }
                Err(e) => failure = Some(e),
            }
        }
        ev.ctes.pop();
        if let Some(e) = failure {
            return Err(e);
        }
        if result.rows.len() + produced.len() > super::MAX_ROWS {
            return Err(errors::too_many_rows(super::MAX_ROWS));
        }
        result.rows.extend(produced.iter().cloned());
        working = produced;
    }
    Ok(result)
}
