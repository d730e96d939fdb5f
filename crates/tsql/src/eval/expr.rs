//! The evaluator proper: every [`Expr`] variant, three-valued predicates, CASE, CAST/CONVERT
//! and subqueries.

use std::cmp::Ordering;

use crate::ast::{BinaryOp, Expr, Query, UnaryOp};
use crate::messages::SqlMessage;
use crate::value::compare::compare_values;
use crate::value::convert;
use crate::value::{SqlType, Value};

use super::types::{self, common_type};
use super::{Evaluator, RowScope, Typed, arith, errors, like};

fn bit(b: Option<bool>) -> Typed {
    (SqlType::Bit, b.map_or(Value::Null, Value::Bit))
}

fn is_predicate(expr: &Expr) -> bool {
    match expr {
        Expr::Binary { op, .. } => matches!(
            op,
            BinaryOp::And
                | BinaryOp::Or
                | BinaryOp::Equal
                | BinaryOp::NotEqual
                | BinaryOp::Less
                | BinaryOp::LessOrEqual
                | BinaryOp::Greater
                | BinaryOp::GreaterOrEqual
                | BinaryOp::NotLess
                | BinaryOp::NotGreater
        ),
        Expr::Unary {
            op: UnaryOp::Not, ..
        }
        | Expr::IsNull { .. }
        | Expr::Like { .. }
        | Expr::Between { .. }
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Quantified { .. }
        | Expr::Exists(_) => true,
        _ => false,
    }
}

impl Evaluator<'_> {
    pub(super) fn eval_node(&mut self, expr: &Expr, scope: &RowScope) -> Result<Typed, SqlMessage> {
        if is_predicate(expr) {
            return Ok(bit(self.truth(expr, scope)?));
        }
        match expr {
            Expr::Literal(lit) => {
                let (ty, value) = types::literal(lit)?;
                Ok((ty, if self.type_only { Value::Null } else { value }))
            }
            Expr::Variable(name) => self.variable(name),
            Expr::SystemVariable(name) => {
                let (ty, value) = self
                    .env
                    .system_variable(name)
                    .ok_or_else(|| errors::must_declare_variable(name))?;
                Ok((ty, if self.type_only { Value::Null } else { value }))
            }
            Expr::Column(name) => {
                let (column, value) = scope.column(name)?;
                Ok((column.ty, if self.type_only { Value::Null } else { value }))
            }
            Expr::Unary { op, operand } => {
                let v = self.eval(operand, scope)?;
                arith::unary(*op, v)
            }
            Expr::Binary { op, left, right } => {
                let mut l = self.eval(left, scope)?;
                let mut r = self.eval(right, scope)?;
                // A bare NULL takes the other side's type ('a' + NULL is a NULL varchar).
                if is_null_literal(left) {
                    l.0 = r.0;
                } else if is_null_literal(right) {
                    r.0 = l.0;
                }
                arith::binary(*op, l, r)
            }
            Expr::Subquery(query) => self.scalar_subquery(query, scope),
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => self.case(operand.as_deref(), branches, otherwise.as_deref(), scope),
            Expr::Cast { expr, ty, try_ } => self.cast(expr, *ty, None, *try_, scope),
            Expr::Convert {
                ty,
                expr,
                style,
                try_,
            } => self.cast(expr, *ty, style.as_deref(), *try_, scope),
            Expr::Function { .. } => self.function(expr, scope),
            Expr::DatePart(part) => Err(errors::invalid_column(part)),
            // Predicates were handled above.
            _ => Ok(bit(self.truth(expr, scope)?)),
        }
    }

    /// A search condition under three-valued logic.
    pub(crate) fn truth(
        &mut self,
        expr: &Expr,
        scope: &RowScope,
    ) -> Result<Option<bool>, SqlMessage> {
        match expr {
            Expr::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => {
                let l = self.truth(left, scope)?;
                if l == Some(false) && !self.type_only {
                    return Ok(Some(false));
                }
                let r = self.truth(right, scope)?;
                Ok(match (l, r) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                })
            }
            Expr::Binary {
                op: BinaryOp::Or,
                left,
                right,
            } => {
                let l = self.truth(left, scope)?;
                if l == Some(true) && !self.type_only {
                    return Ok(Some(true));
                }
                let r = self.truth(right, scope)?;
                Ok(match (l, r) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                })
            }
            Expr::Unary {
                op: UnaryOp::Not,
                operand,
            } => Ok(self.truth(operand, scope)?.map(|b| !b)),
            Expr::Binary { op, left, right } if arith::is_comparison(*op) => {
                let l = self.eval(left, scope)?;
                let r = self.eval(right, scope)?;
                let ordering = compare(&l, &r)?;
                Ok(ordering.map(|o| arith::comparison_holds(*op, o)))
            }
            Expr::IsNull { expr, negated } => {
                let (_, v) = self.eval(expr, scope)?;
                if self.type_only {
                    return Ok(None);
                }
                Ok(Some(v.is_null() != *negated))
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
            } => {
                let result = self.like(expr, pattern, escape.as_deref(), scope)?;
                Ok(result.map(|b| b != *negated))
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let v = self.eval(expr, scope)?;
                let lo = self.eval(low, scope)?;
                let hi = self.eval(high, scope)?;
                let above = compare(&v, &lo)?.map(|o| o != Ordering::Less);
                let below = compare(&v, &hi)?.map(|o| o != Ordering::Greater);
                let inside = match (above, below) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
                Ok(inside.map(|b| b != *negated))
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let v = self.eval(expr, scope)?;
                let mut items = Vec::with_capacity(list.len());
                for item in list {
                    items.push(self.eval(item, scope)?);
                }
                Ok(in_values(&v, items.iter())?.map(|b| b != *negated))
            }
            Expr::InSubquery {
                expr,
                query,
                negated,
            } => {
                let v = self.eval(expr, scope)?;
                let table = crate::query::subquery(self, query, scope)?;
                if table.columns.len() != 1 {
                    return Err(errors::subquery_many_columns());
                }
                let ty = table.columns[0].ty;
                let items: Vec<Typed> = table
                    .rows
                    .into_iter()
                    .map(|mut r| (ty, r.swap_remove(0)))
                    .collect();
                // The type check of the comparison happens even with no rows.
                compare(&v, &(ty, Value::Null))?;
                Ok(in_values(&v, items.iter())?.map(|b| b != *negated))
            }
            Expr::Quantified {
                left,
                op,
                all,
                query,
            } => {
                let v = self.eval(left, scope)?;
                let table = crate::query::subquery(self, query, scope)?;
                if table.columns.len() != 1 {
                    return Err(errors::subquery_many_columns());
                }
                let ty = table.columns[0].ty;
                compare(&v, &(ty, Value::Null))?;
                // ALL: false on any false, unknown on any unknown; ANY: the dual.
                let mut unknown = false;
                for mut row in table.rows {
                    let item = (ty, row.swap_remove(0));
                    match compare(&v, &item)?.map(|o| arith::comparison_holds(*op, o)) {
                        Some(hit) if hit != *all => return Ok(Some(hit)),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                if self.type_only || unknown {
                    return Ok(None);
                }
                Ok(Some(*all))
            }
            Expr::Exists(query) => {
                let table = crate::query::subquery(self, query, scope)?;
                if self.type_only {
                    return Ok(None);
                }
                Ok(Some(!table.rows.is_empty()))
            }
            other => {
                let (ty, v) = self.eval(other, scope)?;
                match convert::cast(&v, ty, SqlType::Bit)? {
                    Value::Bit(b) => Ok(Some(b)),
                    _ => Ok(None),
                }
            }
        }
    }

    fn like(
        &mut self,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<&Expr>,
        scope: &RowScope,
    ) -> Result<Option<bool>, SqlMessage> {
        let (ty, v) = self.eval(expr, scope)?;
        let (pty, p) = self.eval(pattern, scope)?;
        let escape = match escape {
            Some(e) => {
                let (ety, ev) = self.eval(e, scope)?;
                match convert::implicit(&ev, ety, SqlType::NVarChar(None))? {
                    Value::String(s) => {
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => Some(c),
                            _ => return Err(errors::invalid_escape(&s)),
                        }
                    }
                    _ => return Ok(None),
                }
            }
            None => None,
        };
        let text = to_text(&v, ty)?;
        let pat = to_text(&p, pty)?;
        let (Some(text), Some(pat)) = (text, pat) else {
            return Ok(None);
        };
        let unicode = ty.is_unicode() || pty.is_unicode();
        Ok(Some(like::like_match(&text, &pat, escape, unicode)))
    }

    fn scalar_subquery(&mut self, query: &Query, scope: &RowScope) -> Result<Typed, SqlMessage> {
        let table = crate::query::subquery(self, query, scope)?;
        if table.columns.len() != 1 {
            return Err(errors::subquery_many_columns());
        }
        let ty = table.columns[0].ty;
        let mut rows = table.rows.into_iter();
        let first = rows.next();
        if rows.next().is_some() {
            return Err(errors::subquery_returned_many());
        }
        Ok((ty, first.and_then(|mut r| r.pop()).unwrap_or(Value::Null)))
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        branches: &[(Expr, Expr)],
        otherwise: Option<&Expr>,
        scope: &RowScope,
    ) -> Result<Typed, SqlMessage> {
        let mut result_type: Option<SqlType> = None;
        for then in branches
            .iter()
            .map(|(_, t)| t)
            .chain(otherwise)
            .filter(|e| !is_null_literal(e))
        {
            let ty = self.type_of(then, scope)?;
            result_type = Some(result_type.map_or(ty, |r| common_type(r, ty)));
        }
        let result_type = result_type.unwrap_or(SqlType::Int);
        let subject = match operand {
            Some(e) => Some(self.eval(e, scope)?),
            None => None,
        };
        let mut chosen = otherwise;
        for (when, then) in branches {
            let hit = match &subject {
                Some(s) => {
                    let w = self.eval(when, scope)?;
                    compare(s, &w)? == Some(Ordering::Equal)
                }
                None => self.truth(when, scope)? == Some(true),
            };
            if hit && !self.type_only {
                chosen = Some(then);
                break;
            }
        }
        if self.type_only {
            return Ok((result_type, Value::Null));
        }
        let Some(chosen) = chosen else {
            return Ok((result_type, Value::Null));
        };
        let (ty, v) = self.eval(chosen, scope)?;
        Ok((result_type, convert::implicit(&v, ty, result_type)?))
    }

    fn cast(
        &mut self,
        expr: &Expr,
        to: SqlType,
        style: Option<&Expr>,
        try_: bool,
        scope: &RowScope,
    ) -> Result<Typed, SqlMessage> {
        let (from, v) = self.eval(expr, scope)?;
        let style = match style {
            Some(s) => {
                let (sty, sv) = self.eval(s, scope)?;
                match convert::implicit(&sv, sty, SqlType::Int)? {
                    Value::Int(n) => Some(n),
                    _ => None,
                }
            }
            None => None,
        };
        if !convert::explicit_allowed(from, to) {
            return Err(errors::explicit_conversion_not_allowed(
                &from.sql_name(),
                &to.sql_name(),
            ));
        }
        match convert::convert(&v, from, to, style) {
            Ok(v) => Ok((to, v)),
            Err(_) if try_ => Ok((to, Value::Null)),
            Err(e) => Err(e),
        }
    }
}

/// A bare `NULL`, which has no type of its own where it meets other expressions.
#[must_use]
pub(crate) fn is_null_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Literal(crate::ast::Literal::Null))
}

/// A string view of a value for LIKE and the string functions; `None` for NULL.
pub(super) fn to_text(v: &Value, ty: SqlType) -> Result<Option<String>, SqlMessage> {
    if v.is_null() {
        return Ok(None);
    }
    match v {
        Value::String(s) => Ok(Some(s.clone())),
        _ => match convert::implicit(v, ty, SqlType::NVarChar(None))? {
            Value::String(s) => Ok(Some(s)),
            _ => Ok(None),
        },
    }
}

/// Compares two typed values after converting them to their common type; `None` is unknown.
pub(crate) fn compare(a: &Typed, b: &Typed) -> Result<Option<Ordering>, SqlMessage> {
    let (ta, va) = a;
    let (tb, vb) = b;
    let same_family = (ta.is_string() && tb.is_string())
        || (ta.is_numeric() && tb.is_numeric())
        || (ta.is_binary() && tb.is_binary())
        || ta == tb;
    if same_family {
        return Ok(compare_values(va, vb));
    }
    if ta.is_datetime() && tb.is_datetime() {
        // date/time types compare on the wider one; time and date do not meet.
        let common = common_type(*ta, *tb);
        let x = convert::implicit(va, *ta, common)?;
        let y = convert::implicit(vb, *tb, common)?;
        return Ok(compare_values(&x, &y));
    }
    if *ta == SqlType::SqlVariant || *tb == SqlType::SqlVariant {
        return compare_variants(a, b);
    }
    let common = common_type(*ta, *tb);
    let x = convert::implicit(va, *ta, common)?;
    let y = convert::implicit(vb, *tb, common)?;
    Ok(compare_values(&x, &y))
}

/// The family rank of a sql_variant's base type: values of different families compare by
/// family alone ("sql_variant (Transact-SQL)": date and time above approximate numeric above
/// exact numeric above Unicode (which holds char and varchar too) above binary above
/// uniqueidentifier).
fn variant_family(ty: SqlType) -> u8 {
    match ty {
        t if t.is_datetime() => 7,
        SqlType::Float | SqlType::Real => 6,
        t if t.is_numeric() => 5,
        t if t.is_string() => 4,
        t if t.is_binary() => 2,
        _ => 1,
    }
}

fn compare_variants(a: &Typed, b: &Typed) -> Result<Option<Ordering>, SqlMessage> {
    if a.1.is_null() || b.1.is_null() {
        return Ok(None);
    }
    let base = |(t, v): &Typed| {
        if *t == SqlType::SqlVariant {
            convert::variant_base_type(v)
        } else {
            *t
        }
    };
    let (x, y) = ((base(a), a.1.clone()), (base(b), b.1.clone()));
    let (fx, fy) = (variant_family(x.0), variant_family(y.0));
    if fx != fy {
        return Ok(Some(fx.cmp(&fy)));
    }
    compare(&x, &y)
}

/// `v IN (items)`: true on a match, unknown if no match but a NULL, false otherwise.
fn in_values<'a>(
    v: &Typed,
    items: impl Iterator<Item = &'a Typed>,
) -> Result<Option<bool>, SqlMessage> {
    let mut unknown = v.1.is_null();
    for item in items {
        match compare(v, item)? {
            Some(Ordering::Equal) => return Ok(Some(true)),
            Some(_) => {}
            None => unknown = true,
        }
    }
    Ok(if unknown { None } else { Some(false) })
}
