//! Operators: arithmetic on every numeric type with SQL Server's result types (integer division,
//! decimal precision and scale, overflow 8115/220, divide by zero 8134), `+` as concatenation,
//! `datetime` ± days, and the bitwise operators.

use std::cmp::Ordering;

use crate::ast::{BinaryOp, UnaryOp};
use crate::messages::SqlMessage;
use crate::value::convert::{self, base_name, check_integer, numeric};
use crate::value::datetime::TICKS_PER_DAY;
use crate::value::{DateTime, Decimal, SqlType, Value};

use super::types::{DecimalOp, as_decimal_type, decimal, decimal_result};
use super::{Typed, errors};

#[must_use]
pub fn is_comparison(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Equal
            | BinaryOp::NotEqual
            | BinaryOp::Less
            | BinaryOp::LessOrEqual
            | BinaryOp::Greater
            | BinaryOp::GreaterOrEqual
            | BinaryOp::NotLess
            | BinaryOp::NotGreater
    )
}

#[must_use]
pub fn comparison_holds(op: BinaryOp, o: Ordering) -> bool {
    match op {
        BinaryOp::Equal => o == Ordering::Equal,
        BinaryOp::NotEqual => o != Ordering::Equal,
        BinaryOp::Less => o == Ordering::Less,
        BinaryOp::LessOrEqual | BinaryOp::NotGreater => o != Ordering::Greater,
        BinaryOp::Greater => o == Ordering::Greater,
        BinaryOp::GreaterOrEqual | BinaryOp::NotLess => o != Ordering::Less,
        _ => false,
    }
}

/// The operator's name in 8117 and 402.
fn operator_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "add",
        BinaryOp::Subtract => "subtract",
        BinaryOp::Multiply => "multiply",
        BinaryOp::Divide => "divide",
        BinaryOp::Modulo => "modulo",
        BinaryOp::BitAnd => "boolean AND",
        BinaryOp::BitOr => "boolean OR",
        BinaryOp::BitXor => "boolean XOR",
        _ => "comparison",
    }
}

pub fn unary(op: UnaryOp, (ty, v): Typed) -> Result<Typed, SqlMessage> {
    match op {
        UnaryOp::Plus | UnaryOp::Not => Ok((ty, v)),
        UnaryOp::Negate => {
            let invalid = || errors::operand_invalid_for_operator(base_name(ty), "minus");
            if !ty.is_numeric() || ty == SqlType::Bit {
                return Err(invalid());
            }
            let out = match v {
                Value::Int(n) => check_integer(-i128::from(n), ty)?,
                Value::Decimal(d) => Value::Decimal(Decimal {
                    mantissa: -d.mantissa,
                    scale: d.scale,
                }),
                Value::Float(f) => Value::Float(-f),
                other => other,
            };
            Ok((ty, out))
        }
        UnaryOp::BitNot => {
            if !ty.is_integer() {
                return Err(errors::operand_invalid_for_operator(base_name(ty), "~"));
            }
            let out = match v {
                Value::Int(n) if ty == SqlType::TinyInt => Value::Int(!n & 0xFF),
                Value::Int(n) => Value::Int(!n),
                Value::Bit(b) => Value::Bit(!b),
                other => other,
            };
            Ok((ty, out))
        }
    }
}

pub fn binary(op: BinaryOp, l: Typed, r: Typed) -> Result<Typed, SqlMessage> {
    let (lt, rt) = (l.0, r.0);
    if op == BinaryOp::Add {
        if lt.is_string() && rt.is_string() {
            return Ok(concat(l, r));
        }
        if lt.is_binary() && rt.is_binary() {
            return Ok(concat_binary(l, r));
        }
        if (lt.is_string() && rt.is_binary()) || (lt.is_binary() && rt.is_string()) {
            let string_ty = if lt.is_string() { lt } else { rt };
            let to_string = |(t, v): Typed| -> Result<Typed, SqlMessage> {
                if t.is_string() {
                    Ok((t, v))
                } else {
                    Ok((string_ty, convert::implicit(&v, t, string_ty)?))
                }
            };
            return Ok(concat(to_string(l)?, to_string(r)?));
        }
    }
    let old_datetime = |t: SqlType| matches!(t, SqlType::DateTime | SqlType::SmallDateTime);
    if old_datetime(lt) || old_datetime(rt) {
        return datetime_arith(op, l, r);
    }
    if lt.is_datetime() || rt.is_datetime() {
        return Err(
            if lt.is_datetime() && rt.is_datetime() || !is_additive(op) {
                let bad = if lt.is_datetime() { lt } else { rt };
                errors::operand_invalid_for_operator(base_name(bad), operator_name(op))
            } else {
                errors::operand_type_clash(&lt.sql_name(), &rt.sql_name())
            },
        );
    }
    // Strings meet numbers as the number's type ('1' + 1 = 2).
    let (l, r) = match (
        lt.is_string() || lt.is_binary(),
        rt.is_string() || rt.is_binary(),
    ) {
        (true, true) => {
            return Err(errors::operand_invalid_for_operator(
                base_name(lt),
                operator_name(op),
            ));
        }
        (true, false) => ((rt, convert::implicit(&l.1, lt, rt)?), r),
        (false, true) => (l, (lt, convert::implicit(&r.1, rt, lt)?)),
        (false, false) => (l, r),
    };
    let (lt, rt) = (l.0, r.0);
    for t in [lt, rt] {
        if !t.is_numeric() || (t == SqlType::Bit && lt == rt) {
            return Err(errors::operand_invalid_for_operator(
                base_name(t),
                operator_name(op),
            ));
        }
    }
    if matches!(op, BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor) {
        return bitwise(op, l, r);
    }
    let float = |t: SqlType| matches!(t, SqlType::Float | SqlType::Real);
    if float(lt) || float(rt) {
        if op == BinaryOp::Modulo {
            return Err(errors::incompatible_in_operator(
                base_name(lt),
                base_name(rt),
                "modulo",
            ));
        }
        return float_arith(op, l, r);
    }
    if matches!(lt, SqlType::Decimal { .. }) || matches!(rt, SqlType::Decimal { .. }) {
        return decimal_arith(op, l, r);
    }
    if lt == SqlType::Money || rt == SqlType::Money {
        return money_arith(op, l, r);
    }
    integer_arith(op, l, r)
}

fn is_additive(op: BinaryOp) -> bool {
    matches!(op, BinaryOp::Add | BinaryOp::Subtract)
}

fn string_length(ty: SqlType) -> Option<u32> {
    match ty {
        SqlType::Char(n) | SqlType::NChar(n) | SqlType::Binary(n) => Some(n),
        SqlType::VarChar(n) | SqlType::NVarChar(n) | SqlType::VarBinary(n) => n,
        _ => Some(1),
    }
}

/// `'a' + N'b'`: NULL if either is NULL; the type holds both lengths (capped at 8000 bytes).
fn concat((lt, lv): Typed, (rt, rv): Typed) -> Typed {
    let unicode = lt.is_unicode() || rt.is_unicode();
    let length = match (string_length(lt), string_length(rt)) {
        (Some(a), Some(b)) => Some((a + b).min(if unicode { 4000 } else { 8000 })),
        _ => None,
    };
    let ty = if unicode {
        SqlType::NVarChar(length)
    } else {
        SqlType::VarChar(length)
    };
    let value = match (lv, rv) {
        (Value::String(a), Value::String(b)) => Value::String(convert::fit_string(&(a + &b), ty)),
        _ => Value::Null,
    };
    (ty, value)
}

fn concat_binary((lt, lv): Typed, (rt, rv): Typed) -> Typed {
    let length = match (string_length(lt), string_length(rt)) {
        (Some(a), Some(b)) => Some((a + b).min(8000)),
        _ => None,
    };
    let ty = SqlType::VarBinary(length);
    let value = match (lv, rv) {
        (Value::Binary(mut a), Value::Binary(b)) => {
            a.extend_from_slice(&b);
            Value::Binary(convert::fit_binary(a, ty, false))
        }
        _ => Value::Null,
    };
    (ty, value)
}

fn bitwise(op: BinaryOp, (lt, lv): Typed, (rt, rv): Typed) -> Result<Typed, SqlMessage> {
    if !lt.is_integer() || !rt.is_integer() {
        return Err(errors::incompatible_in_operator(
            base_name(lt),
            base_name(rt),
            operator_name(op),
        ));
    }
    let ty = if lt.precedence() >= rt.precedence() {
        lt
    } else {
        rt
    };
    let as_int = |v: &Value| match v {
        Value::Int(n) => Some(*n),
        Value::Bit(b) => Some(i64::from(*b)),
        _ => None,
    };
    let (Some(a), Some(b)) = (as_int(&lv), as_int(&rv)) else {
        return Ok((ty, Value::Null));
    };
    let n = match op {
        BinaryOp::BitAnd => a & b,
        BinaryOp::BitOr => a | b,
        _ => a ^ b,
    };
    Ok((
        ty,
        if ty == SqlType::Bit {
            Value::Bit(n & 1 == 1)
        } else {
            Value::Int(n)
        },
    ))
}

fn integer_arith(op: BinaryOp, (lt, lv): Typed, (rt, rv): Typed) -> Result<Typed, SqlMessage> {
    let ty = if lt.precedence() >= rt.precedence() {
        lt
    } else {
        rt
    };
    let as_int = |v: &Value| match v {
        Value::Int(n) => Some(i128::from(*n)),
        Value::Bit(b) => Some(i128::from(*b)),
        _ => None,
    };
    let (Some(a), Some(b)) = (as_int(&lv), as_int(&rv)) else {
        return Ok((ty, Value::Null));
    };
    let n = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Subtract => a - b,
        BinaryOp::Multiply => a * b,
        BinaryOp::Divide | BinaryOp::Modulo if b == 0 => return Err(errors::divide_by_zero()),
        BinaryOp::Divide => a / b,
        _ => a % b,
    };
    Ok((ty, check_integer(n, ty)?))
}

fn float_arith(op: BinaryOp, (lt, lv): Typed, (rt, rv): Typed) -> Result<Typed, SqlMessage> {
    let ty = if lt == SqlType::Float || rt == SqlType::Float {
        SqlType::Float
    } else {
        SqlType::Real
    };
    let a = convert::cast(&lv, lt, SqlType::Float)?;
    let b = convert::cast(&rv, rt, SqlType::Float)?;
    let (Value::Float(a), Value::Float(b)) = (a, b) else {
        return Ok((ty, Value::Null));
    };
    let f = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Subtract => a - b,
        BinaryOp::Multiply => a * b,
        _ if b == 0.0 => return Err(errors::divide_by_zero()),
        _ => a / b,
    };
    let f = if ty == SqlType::Real {
        f64::from(f as f32)
    } else {
        f
    };
    if !f.is_finite() {
        return Err(errors::overflow_converting("expression", base_name(ty)));
    }
    Ok((ty, Value::Float(f)))
}

fn as_exact(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(n) => Some(Decimal {
            mantissa: i128::from(*n),
            scale: 0,
        }),
        Value::Bit(b) => Some(Decimal {
            mantissa: i128::from(*b),
            scale: 0,
        }),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// Exact arithmetic at a result scale: division truncates, the rest round; `None` when the
/// intermediate does not fit 128 bits (the caller falls back to float).
fn exact_op(op: BinaryOp, a: Decimal, b: Decimal, scale: u8) -> Option<Result<i128, SqlMessage>> {
    let result = match op {
        BinaryOp::Add | BinaryOp::Subtract | BinaryOp::Modulo => {
            let s = a.scale.max(b.scale);
            let x = numeric::rescale(a, s)?.mantissa;
            let y = numeric::rescale(b, s)?.mantissa;
            let m = match op {
                BinaryOp::Add => x.checked_add(y)?,
                BinaryOp::Subtract => x.checked_sub(y)?,
                _ if y == 0 => return Some(Err(errors::divide_by_zero())),
                _ => x % y,
            };
            numeric::rescale(
                Decimal {
                    mantissa: m,
                    scale: s,
                },
                scale,
            )?
            .mantissa
        }
        BinaryOp::Multiply => {
            let m = a.mantissa.checked_mul(b.mantissa)?;
            numeric::rescale(
                Decimal {
                    mantissa: m,
                    scale: a.scale + b.scale,
                },
                scale,
            )?
            .mantissa
        }
        _ => {
            if b.mantissa == 0 {
                return Some(Err(errors::divide_by_zero()));
            }
            let shift = i32::from(scale) + i32::from(b.scale) - i32::from(a.scale);
            if shift < 0 {
                (a.mantissa / numeric::pow10(shift.unsigned_abs())) / b.mantissa
            } else if shift > 38 {
                return None;
            } else {
                a.mantissa.checked_mul(numeric::pow10(shift as u32))? / b.mantissa
            }
        }
    };
    Some(Ok(result))
}

fn decimal_arith(op: BinaryOp, (lt, lv): Typed, (rt, rv): Typed) -> Result<Typed, SqlMessage> {
    let kind = match op {
        BinaryOp::Add | BinaryOp::Subtract => DecimalOp::AddSubtract,
        BinaryOp::Multiply => DecimalOp::Multiply,
        BinaryOp::Divide => DecimalOp::Divide,
        _ => DecimalOp::Modulo,
    };
    let (p, s) = decimal_result(
        kind,
        as_decimal_type(lt).unwrap_or((38, 0)),
        as_decimal_type(rt).unwrap_or((38, 0)),
    );
    let ty = decimal(p, s);
    let (Some(a), Some(b)) = (as_exact(&lv), as_exact(&rv)) else {
        return Ok((ty, Value::Null));
    };
    let overflow = || errors::overflow_converting("expression", "numeric");
    let mantissa = match exact_op(op, a, b, s) {
        Some(result) => result?,
        None => {
            // Past 128 bits: compute in floating point (loses digits, never panics).
            let (x, y) = (numeric::to_f64(a), numeric::to_f64(b));
            let f = match op {
                BinaryOp::Multiply => x * y,
                _ => x / y,
            };
            numeric::from_f64(f, s).ok_or_else(overflow)?.mantissa
        }
    };
    let d = Decimal { mantissa, scale: s };
    if !numeric::fits(d, p) {
        return Err(overflow());
    }
    Ok((ty, Value::Decimal(d)))
}

fn money_arith(op: BinaryOp, (_, lv): Typed, (_, rv): Typed) -> Result<Typed, SqlMessage> {
    let ty = SqlType::Money;
    let (Some(a), Some(b)) = (as_exact(&lv), as_exact(&rv)) else {
        return Ok((ty, Value::Null));
    };
    let overflow = || errors::overflow_converting("expression", "money");
    let mantissa = match exact_op(op, a, b, 4) {
        Some(result) => result?,
        None => return Err(overflow()),
    };
    if i64::try_from(mantissa).is_err() {
        return Err(overflow());
    }
    Ok((ty, Value::Decimal(Decimal { mantissa, scale: 4 })))
}

/// A number of days as ticks (`GETDATE() - 1.5`).
fn days_as_ticks(v: &Value) -> Option<i128> {
    match v {
        Value::Float(f) => Some((f * TICKS_PER_DAY as f64).round() as i128),
        other => {
            let d = as_exact(other)?;
            let ticks = d.mantissa.checked_mul(i128::from(TICKS_PER_DAY))?;
            Some(numeric::div_pow10_round(ticks, u32::from(d.scale)))
        }
    }
}

/// `datetime` and `smalldatetime` with numbers (days) or each other (days since 1900).
fn datetime_arith(op: BinaryOp, (lt, lv): Typed, (rt, rv): Typed) -> Result<Typed, SqlMessage> {
    if !is_additive(op) {
        let bad = if lt.is_datetime() { lt } else { rt };
        return Err(errors::operand_invalid_for_operator(
            base_name(bad),
            operator_name(op),
        ));
    }
    let usable = |t: SqlType| {
        matches!(t, SqlType::DateTime | SqlType::SmallDateTime)
            || (t.is_numeric() && t != SqlType::Bit)
            || t.is_string()
    };
    if !usable(lt) || !usable(rt) {
        return Err(errors::operand_type_clash(&lt.sql_name(), &rt.sql_name()));
    }
    let ty = if lt == SqlType::SmallDateTime && rt != SqlType::DateTime
        || rt == SqlType::SmallDateTime && lt != SqlType::DateTime
    {
        SqlType::SmallDateTime
    } else {
        SqlType::DateTime
    };
    // Strings become datetimes; then every operand is ticks since 1900 (or days as ticks).
    let ticks = |t: SqlType, v: &Value| -> Result<Option<i128>, SqlMessage> {
        let v = if t.is_string() {
            convert::implicit(v, t, SqlType::DateTime)?
        } else {
            v.clone()
        };
        Ok(match v {
            Value::DateTime(dt) => Some(
                dt.total_ticks()
                    - i128::from(crate::value::datetime::DAY_1900) * i128::from(TICKS_PER_DAY),
            ),
            Value::Null => None,
            other => days_as_ticks(&other),
        })
    };
    let (Some(a), Some(b)) = (ticks(lt, &lv)?, ticks(rt, &rv)?) else {
        return Ok((ty, Value::Null));
    };
    let sum = if op == BinaryOp::Add { a + b } else { a - b };
    let base = i128::from(crate::value::datetime::DAY_1900) * i128::from(TICKS_PER_DAY);
    let overflow = || errors::dateadd_overflow(base_name(ty));
    let dt = DateTime::from_total_ticks(base + sum).ok_or_else(overflow)?;
    let fitted =
        convert::cast(&Value::DateTime(dt), SqlType::DateTime2(7), ty).map_err(|_| overflow())?;
    Ok((ty, fitted))
}
