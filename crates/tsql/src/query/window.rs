//! Window functions over the rows (or groups) of a SELECT: ROW_NUMBER, RANK, DENSE_RANK, NTILE,
//! LAG, LEAD, FIRST_VALUE, LAST_VALUE, and aggregates with OVER (whole partition without ORDER
//! BY, running up to the current row's peers with it).

use std::cmp::Ordering;

use crate::ast::Expr;
use crate::eval::{Computed, Evaluator, RowScope, SourceColumn, Typed, errors, node_key};
use crate::messages::SqlMessage;
use crate::value::compare::sort_cmp;
use crate::value::convert::check_integer;
use crate::value::{SqlType, Value};

use super::group::{self, RowRef};

/// A row of the SELECT after grouping: its values and what was computed for it.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub row: Vec<Value>,
    pub computed: Vec<Computed>,
}

fn cmp_keys(a: &[Value], b: &[Value], descending: &[bool]) -> Ordering {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let o = sort_cmp(x, y);
        let o = if descending.get(i).copied().unwrap_or(false) {
            o.reverse()
        } else {
            o
        };
        if o.is_ne() {
            return o;
        }
    }
    Ordering::Equal
}

/// Computes every window call for every item, appending to the items' computed values.
pub(crate) fn compute(
    ev: &mut Evaluator,
    windows: &[&Expr],
    columns: &[SourceColumn],
    items: &mut [Item],
    outer: Option<&RowScope>,
) -> Result<(), SqlMessage> {
    for &call in windows {
        let Expr::Function {
            name,
            args,
            over: Some(spec),
            ..
        } = call
        else {
            continue;
        };
        let upper = name.to_ascii_uppercase();
        let needs_order = matches!(
            upper.as_str(),
            "ROW_NUMBER" | "RANK" | "DENSE_RANK" | "NTILE" | "LAG" | "LEAD"
        );
        if needs_order && spec.order_by.is_empty() {
            return Err(errors::window_function_needs_order(&upper));
        }
        // Keys per item.
        let mut keys: Vec<(Vec<Value>, Vec<Value>)> = Vec::with_capacity(items.len());
        for item in items.iter() {
            let scope = RowScope::new(columns, &item.row)
                .with_computed(&item.computed)
                .with_outer(outer);
            let mut p = Vec::with_capacity(spec.partition_by.len());
            for e in &spec.partition_by {
                p.push(ev.eval(e, &scope)?.1);
            }
            let mut o = Vec::with_capacity(spec.order_by.len());
            for item in &spec.order_by {
                o.push(ev.eval(&item.expr, &scope)?.1);
            }
            keys.push((p, o));
        }
        let descending: Vec<bool> = spec.order_by.iter().map(|o| o.descending).collect();
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| {
            cmp_keys(&keys[a].0, &keys[b].0, &[])
                .then_with(|| cmp_keys(&keys[a].1, &keys[b].1, &descending))
        });
        let type_scope = RowScope::new(columns, &[]).with_outer(outer);
        let arg_ty = match args.first() {
            Some(a) => Some(ev.type_of(a, &type_scope)?),
            None => None,
        };
        let mut results: Vec<Option<Typed>> = vec![None; items.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len()
                && cmp_keys(&keys[order[start]].0, &keys[order[end]].0, &[]).is_eq()
            {
                end += 1;
            }
            let partition = &order[start..end];
            let peers_end = |pos: usize| -> usize {
                let mut e = pos + 1;
                while e < partition.len()
                    && cmp_keys(&keys[partition[pos]].1, &keys[partition[e]].1, &descending).is_eq()
                {
                    e += 1;
                }
                e
            };
            let mut rank = 0i128;
            let mut dense = 0i128;
            for (pos, &index) in partition.iter().enumerate() {
                let new_peer_group = pos == 0
                    || cmp_keys(&keys[partition[pos - 1]].1, &keys[index].1, &descending).is_ne();
                if new_peer_group {
                    rank = pos as i128 + 1;
                    dense += 1;
                }
                let value: Typed = match upper.as_str() {
                    "ROW_NUMBER" => (SqlType::BigInt, Value::Int(pos as i64 + 1)),
                    "RANK" => (SqlType::BigInt, check_integer(rank, SqlType::BigInt)?),
                    "DENSE_RANK" => (SqlType::BigInt, check_integer(dense, SqlType::BigInt)?),
                    "NTILE" => {
                        let scope = RowScope::new(columns, &items[index].row).with_outer(outer);
                        let n = match args.first() {
                            Some(a) => match ev.eval(a, &scope)?.1 {
                                Value::Int(n) if n > 0 => n as usize,
                                _ => {
                                    return Err(SqlMessage::new(
                                        4110,
                                        16,
                                        1,
                                        0,
                                        "The argument type of the NTILE function must be positive.",
                                    ));
                                }
                            },
                            None => return Err(errors::argument_count("NTILE", 1)),
                        };
                        (
                            SqlType::BigInt,
                            Value::Int(ntile(pos, partition.len(), n) as i64),
                        )
                    }
                    "LAG" | "LEAD" | "FIRST_VALUE" | "LAST_VALUE" => {
                        let ty = arg_ty.unwrap_or(SqlType::Int);
                        let target = match upper.as_str() {
                            "FIRST_VALUE" => Some(0),
                            "LAST_VALUE" if spec.order_by.is_empty() => Some(partition.len() - 1),
                            "LAST_VALUE" => Some(peers_end(pos) - 1),
                            _ => {
                                let scope = RowScope::new(columns, &items[index].row)
                                    .with_computed(&items[index].computed)
                                    .with_outer(outer);
                                let offset = match args.get(1) {
                                    Some(a) => match ev.eval(a, &scope)?.1 {
                                        Value::Int(n) => n,
                                        _ => 1,
                                    },
                                    None => 1,
                                };
                                let at = if upper == "LAG" {
                                    pos as i64 - offset
                                } else {
                                    pos as i64 + offset
                                };
                                usize::try_from(at).ok().filter(|&at| at < partition.len())
                            }
                        };
                        match target {
                            Some(t) => {
                                let other = &items[partition[t]];
                                let scope = RowScope::new(columns, &other.row)
                                    .with_computed(&other.computed)
                                    .with_outer(outer);
                                let arg = args
                                    .first()
                                    .ok_or_else(|| errors::argument_count(&upper, 1))?;
                                (ty, ev.eval(arg, &scope)?.1)
                            }
                            None => match args.get(2) {
                                Some(default) => {
                                    let scope =
                                        RowScope::new(columns, &items[index].row).with_outer(outer);
                                    let (dt, dv) = ev.eval(default, &scope)?;
                                    (ty, crate::value::convert::implicit(&dv, dt, ty)?)
                                }
                                None => (ty, Value::Null),
                            },
                        }
                    }
                    _ => {
                        // An aggregate over the partition, or up to the current peers.
                        let upto = if spec.order_by.is_empty() {
                            partition.len()
                        } else {
                            peers_end(pos)
                        };
                        let rows: Vec<RowRef> = partition[..upto]
                            .iter()
                            .map(|&i| (items[i].row.as_slice(), items[i].computed.as_slice()))
                            .collect();
                        group::compute(ev, call, columns, &rows, outer)?.0
                    }
                };
                results[index] = Some(value);
            }
            start = end;
        }
        let key = node_key(call);
        for (item, value) in items.iter_mut().zip(results) {
            if let Some(v) = value {
                item.computed.push((key, v));
            }
        }
    }
    Ok(())
}

/// NTILE's bucket (1-based) for the row at `pos` of `count` rows in `n` buckets: the first
/// `count % n` buckets hold one row more.
fn ntile(pos: usize, count: usize, n: usize) -> usize {
    let base = count / n;
    let extra = count % n;
    let big = extra * (base + 1);
    if pos < big {
        pos / (base + 1) + 1
    } else {
        match (pos - big).checked_div(base) {
            Some(q) => extra + q + 1,
            None => pos + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ntile;

    #[test]
    fn ntile_buckets() {
        let buckets: Vec<usize> = (0..10).map(|p| ntile(p, 10, 3)).collect();
        assert_eq!(buckets, [1, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
        let buckets: Vec<usize> = (0..2).map(|p| ntile(p, 2, 5)).collect();
        assert_eq!(buckets, [1, 2]);
    }
}
