//! Built-in function calls: dispatch by name, argument helpers, and the types of aggregates and
//! window functions (whose values the query computes beforehand).
//!
//! A name the evaluator does not know goes to [`Environment::server_function`]; if that does
//! not know it either, SQL Server's 195 (or 4121 for a schema-qualified name).

mod date;
mod format;
mod math;
mod string;
mod system;

use crate::ast::Expr;
use crate::messages::SqlMessage;
use crate::value::convert::{self, base_name};
use crate::value::{DateTime, SqlType, Value};

use super::types::{common_type, decimal};
use super::{Evaluator, RowScope, Typed, errors};

/// Aggregates: computed per group by the query, read here.
const AGGREGATES: &[&str] = &[
    "COUNT",
    "COUNT_BIG",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "STRING_AGG",
    "STDEV",
    "STDEVP",
    "VAR",
    "VARP",
    "CHECKSUM_AGG",
];

/// Ranking functions: only with OVER.
const RANKING: &[&str] = &["ROW_NUMBER", "RANK", "DENSE_RANK", "NTILE"];

#[must_use]
pub fn is_aggregate_name(name: &str) -> bool {
    AGGREGATES.iter().any(|a| a.eq_ignore_ascii_case(name))
}

#[must_use]
pub fn is_ranking_name(name: &str) -> bool {
    RANKING.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// The result type of an aggregate or ranking function over an argument type.
#[must_use]
pub fn aggregate_type(name: &str, arg: Option<SqlType>) -> SqlType {
    let arg = arg.unwrap_or(SqlType::Int);
    match name.to_ascii_uppercase().as_str() {
        "COUNT" | "CHECKSUM_AGG" => SqlType::Int,
        "COUNT_BIG" | "ROW_NUMBER" | "RANK" | "DENSE_RANK" | "NTILE" => SqlType::BigInt,
        "SUM" | "AVG" => match arg {
            SqlType::Bit | SqlType::TinyInt | SqlType::SmallInt | SqlType::Int => SqlType::Int,
            SqlType::BigInt => SqlType::BigInt,
            SqlType::Decimal { scale, .. } if name.eq_ignore_ascii_case("AVG") => {
                decimal(38, scale.max(6))
            }
            SqlType::Decimal { scale, .. } => decimal(38, scale),
            SqlType::Money => SqlType::Money,
            _ => SqlType::Float,
        },
        "STDEV" | "STDEVP" | "VAR" | "VARP" => SqlType::Float,
        "STRING_AGG" => match arg {
            SqlType::NVarChar(None) => SqlType::NVarChar(None),
            SqlType::VarChar(None) => SqlType::VarChar(None),
            t if t.is_unicode() => SqlType::NVarChar(Some(4000)),
            _ => SqlType::VarChar(Some(8000)),
        },
        _ => arg,
    }
}

/// Checks the number of arguments: 174 for a fixed count, 189 for a range.
fn arity(name: &str, got: usize, min: usize, max: usize) -> Result<(), SqlMessage> {
    if got >= min && got <= max {
        Ok(())
    } else if min == max {
        Err(errors::argument_count(name, min))
    } else {
        Err(errors::argument_count_range(name, min, max))
    }
}

/// An argument as a 64-bit integer; `None` for NULL.
fn int_arg((ty, v): &Typed) -> Result<Option<i64>, SqlMessage> {
    match convert::implicit(v, *ty, SqlType::BigInt)? {
        Value::Int(n) => Ok(Some(n)),
        _ => Ok(None),
    }
}

/// An argument as text; `None` for NULL.
fn text_arg((ty, v): &Typed) -> Result<Option<String>, SqlMessage> {
    super::expr::to_text(v, *ty)
}

/// An argument as a float; `None` for NULL.
fn float_arg((ty, v): &Typed) -> Result<Option<f64>, SqlMessage> {
    match convert::implicit(v, *ty, SqlType::Float)? {
        Value::Float(f) => Ok(Some(f)),
        _ => Ok(None),
    }
}

/// A date/time argument and its type (strings read as datetime2, as the date functions do).
fn date_arg((ty, v): &Typed) -> Result<(SqlType, Option<DateTime>), SqlMessage> {
    let ty = if ty.is_datetime() {
        *ty
    } else if ty.is_string() {
        SqlType::DateTime2(7)
    } else {
        SqlType::DateTime
    };
    match convert::implicit(v, typed_source(v, ty), ty)? {
        Value::DateTime(dt) => Ok((ty, Some(dt))),
        _ => Ok((ty, None)),
    }
}

/// The type a value is converted from, for date arguments given as strings or numbers.
fn typed_source(v: &Value, target: SqlType) -> SqlType {
    match v {
        Value::String(_) => SqlType::NVarChar(None),
        Value::Int(_) => SqlType::Int,
        Value::Decimal(_) => decimal(38, 10),
        Value::Float(_) => SqlType::Float,
        _ => target,
    }
}

/// The shared type of several expressions (COALESCE, IIF, CHOOSE, GREATEST).
fn shared_type(types: impl IntoIterator<Item = SqlType>) -> SqlType {
    types
        .into_iter()
        .reduce(common_type)
        .unwrap_or(SqlType::Int)
}

fn string_kind(ty: SqlType) -> SqlType {
    if ty.is_unicode() {
        SqlType::NVarChar(Some(4000))
    } else {
        SqlType::VarChar(Some(8000))
    }
}

/// A result type's `(max)` form when the input was `(max)`, else `limited`.
fn max_if_max(input: SqlType, limited: SqlType) -> SqlType {
    let is_max = matches!(
        input,
        SqlType::VarChar(None) | SqlType::NVarChar(None) | SqlType::VarBinary(None)
    );
    match (is_max, limited) {
        (true, SqlType::NVarChar(_)) => SqlType::NVarChar(None),
        (true, SqlType::VarChar(_)) => SqlType::VarChar(None),
        (true, SqlType::VarBinary(_)) => SqlType::VarBinary(None),
        _ => limited,
    }
}

impl Evaluator<'_> {
    pub(super) fn function(&mut self, expr: &Expr, scope: &RowScope) -> Result<Typed, SqlMessage> {
        let Expr::Function {
            schema,
            name,
            args,
            star,
            distinct: _,
            over,
            ..
        } = expr
        else {
            return Err(errors::not_builtin_function(""));
        };
        let upper = name.to_ascii_uppercase();
        if over.is_some() || is_aggregate_name(&upper) || is_ranking_name(&upper) {
            if let Some(value) = scope.computed_value(expr) {
                return Ok(value.clone());
            }
            if is_ranking_name(&upper) && over.is_none() {
                return Err(errors::window_function_needs_over(&upper));
            }
            if self.type_only {
                let arg = match args.first() {
                    Some(a) if !star => Some(self.type_of(a, scope)?),
                    _ => None,
                };
                return Ok((aggregate_type(&upper, arg), Value::Null));
            }
            return Err(if over.is_some() {
                errors::window_function_misplaced()
            } else {
                errors::aggregate_in_where()
            });
        }
        if let Some(schema) = schema {
            let values = self.eval_args(args, scope)?;
            return self
                .server_function(Some(schema), &upper, &values)
                .unwrap_or_else(|| Err(errors::unknown_qualified_function(schema, name)));
        }
        // Functions whose arguments are not all evaluated up front.
        match upper.as_str() {
            "ISNULL" | "COALESCE" | "NULLIF" | "IIF" | "CHOOSE" => {
                return self.conditional(&upper, args, scope);
            }
            "DATEADD" | "DATEDIFF" | "DATEDIFF_BIG" | "DATEPART" | "DATENAME" | "DATETRUNC"
            | "DATE_BUCKET" => return self.date_part_function(&upper, args, scope),
            _ => {}
        }
        let mut values = self.eval_args(args, scope)?;
        if matches!(upper.as_str(), "GREATEST" | "LEAST") {
            // A bare NULL takes the type of the others.
            let typed = args
                .iter()
                .zip(&values)
                .find(|(a, _)| !super::expr::is_null_literal(a))
                .map(|(_, v)| v.0);
            for (a, v) in args.iter().zip(values.iter_mut()) {
                if super::expr::is_null_literal(a) {
                    v.0 = typed.unwrap_or(v.0);
                }
            }
        }
        if let Some(result) = self.builtin(&upper, &values)? {
            return Ok(result);
        }
        self.server_function(None, &upper, &values)
            .unwrap_or_else(|| Err(errors::not_builtin_function(name)))
    }

    fn eval_args(&mut self, args: &[Expr], scope: &RowScope) -> Result<Vec<Typed>, SqlMessage> {
        args.iter().map(|a| self.eval(a, scope)).collect()
    }

    /// Routes to the environment (with NULL arguments in type-only mode).
    pub(super) fn server_function(
        &mut self,
        schema: Option<&str>,
        name: &str,
        args: &[Typed],
    ) -> Option<Result<Typed, SqlMessage>> {
        let result = self.env.server_function(schema, name, args)?;
        Some(result.map(|(ty, v)| (ty, if self.type_only { Value::Null } else { v })))
    }

    /// Every built-in evaluated from its argument values; `None` if the name is not one.
    fn builtin(&mut self, name: &str, args: &[Typed]) -> Result<Option<Typed>, SqlMessage> {
        if let Some(r) = string::call(name, args)? {
            return Ok(Some(r));
        }
        if let Some(r) = math::call(self, name, args)? {
            return Ok(Some(r));
        }
        if let Some(r) = date::call(self, name, args)? {
            return Ok(Some(r));
        }
        if let Some(r) = format::call(name, args)? {
            return Ok(Some(r));
        }
        system::call(self, name, args)
    }

    /// ISNULL, COALESCE, NULLIF, IIF, CHOOSE: only the chosen argument is evaluated.
    fn conditional(
        &mut self,
        name: &str,
        args: &[Expr],
        scope: &RowScope,
    ) -> Result<Typed, SqlMessage> {
        let types: Vec<Option<SqlType>> = args
            .iter()
            .map(|a| {
                let ty = self.type_of(a, scope)?;
                Ok((!super::expr::is_null_literal(a)).then_some(ty))
            })
            .collect::<Result<_, SqlMessage>>()?;
        let typed = |t: Option<SqlType>| t.unwrap_or(SqlType::Int);
        match name {
            "ISNULL" => {
                arity(name, args.len(), 2, 2)?;
                // ISNULL(NULL, x) takes x's type; otherwise the first argument's.
                let ty = typed(types[0].or(types[1]));
                let (t0, v0) = self.eval(&args[0], scope)?;
                if !v0.is_null() || self.type_only {
                    let (t1, _) = self.typing(|ev| ev.eval(&args[1], scope))?;
                    convert::check_implicit(t1, ty)?;
                    return Ok((ty, convert::implicit(&v0, t0, ty)?));
                }
                let (t1, v1) = self.eval(&args[1], scope)?;
                Ok((ty, convert::implicit(&v1, t1, ty)?))
            }
            "COALESCE" => {
                if args.len() < 2 {
                    return Err(SqlMessage::new(
                        4145,
                        15,
                        1,
                        0,
                        "The coalesce function requires at least two arguments.",
                    ));
                }
                let ty = shared_type(types.iter().flatten().copied());
                for arg in args {
                    let (t, v) = self.eval(arg, scope)?;
                    if !v.is_null() && !self.type_only {
                        return Ok((ty, convert::implicit(&v, t, ty)?));
                    }
                }
                Ok((ty, Value::Null))
            }
            "NULLIF" => {
                arity(name, args.len(), 2, 2)?;
                let a = self.eval(&args[0], scope)?;
                let b = self.eval(&args[1], scope)?;
                let equal = super::expr::compare(&a, &b)? == Some(std::cmp::Ordering::Equal);
                Ok((a.0, if equal { Value::Null } else { a.1 }))
            }
            "IIF" => {
                arity(name, args.len(), 3, 3)?;
                let ty = shared_type(types[1..].iter().flatten().copied());
                let chosen = if self.truth(&args[0], scope)? == Some(true) {
                    &args[1]
                } else {
                    &args[2]
                };
                let (t, v) = self.eval(chosen, scope)?;
                Ok((ty, convert::implicit(&v, t, ty)?))
            }
            _ => {
                // CHOOSE(index, a, b, …)
                if args.len() < 2 {
                    return Err(errors::argument_count_range("choose", 2, 254));
                }
                let ty = shared_type(types[1..].iter().flatten().copied());
                let index = int_arg(&self.eval(&args[0], scope)?)?;
                match index {
                    Some(i) if i >= 1 && (i as usize) < args.len() && !self.type_only => {
                        let (t, v) = self.eval(&args[i as usize], scope)?;
                        Ok((ty, convert::implicit(&v, t, ty)?))
                    }
                    _ => Ok((ty, Value::Null)),
                }
            }
        }
    }
}

/// The name and type of an argument for 8116.
fn bad_argument(ty: SqlType, position: usize, function: &str) -> SqlMessage {
    errors::argument_type_invalid(base_name(ty), position, function)
}

#[cfg(test)]
mod tests;
