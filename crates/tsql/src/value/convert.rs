//! CAST, CONVERT and implicit conversions between every [`SqlType`], with SQL Server's rules:
//! which conversions are allowed (529 explicit, 257 implicit, 206 operand clash), the errors of
//! a value that does not convert (245, 248, 244, 8114, 8115, 220, 241, 242, 295, 8169, 235),
//! rounding and truncation (CAST truncates strings and binaries silently; numbers that do not
//! fit a character type give `*` or 8115).
//!
//! Value forms: integers of every integer type are [`Value::Int`], `decimal` and `money` are
//! [`Value::Decimal`] (money at scale 4), `float` and `real` are [`Value::Float`], every date
//! and time type is a [`Value::DateTime`] (`date` at midnight, `time` on day 0), GUIDs are
//! [`Value::Guid`] with their bytes in text order, and a `sql_variant` holds its base value
//! (its base type is read back from the value's form, see [`variant_base_type`]).

pub mod numeric;
pub mod temporal;
pub mod text;

use crate::eval::errors;
use crate::messages::SqlMessage;
use crate::value::{Decimal, SqlType, Value};

/// `varchar(max)`'s and `varbinary(max)`'s cap here: values longer than this are cut, so no
/// expression can make the process allocate without bound.
pub const MAX_LOB_BYTES: usize = 16 << 20;

/// The type's bare name in messages: `varchar`, `int`, `numeric`, `datetime2` …
#[must_use]
pub fn base_name(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Bit => "bit",
        SqlType::TinyInt => "tinyint",
        SqlType::SmallInt => "smallint",
        SqlType::Int => "int",
        SqlType::BigInt => "bigint",
        SqlType::Decimal { .. } => "numeric",
        SqlType::Float => "float",
        SqlType::Real => "real",
        SqlType::Money => "money",
        SqlType::Char(_) => "char",
        SqlType::VarChar(_) => "varchar",
        SqlType::NChar(_) => "nchar",
        SqlType::NVarChar(_) => "nvarchar",
        SqlType::Binary(_) => "binary",
        SqlType::VarBinary(_) => "varbinary",
        SqlType::Date => "date",
        SqlType::Time(_) => "time",
        SqlType::DateTime => "datetime",
        SqlType::SmallDateTime => "smalldatetime",
        SqlType::DateTime2(_) => "datetime2",
        SqlType::DateTimeOffset(_) => "datetimeoffset",
        SqlType::UniqueIdentifier => "uniqueidentifier",
        SqlType::SqlVariant => "sql_variant",
    }
}

/// The base type of a value held in a `sql_variant`, from its form.
#[must_use]
pub fn variant_base_type(value: &Value) -> SqlType {
    match value {
        Value::Null | Value::Int(_) => match value {
            Value::Int(n) if i32::try_from(*n).is_err() => SqlType::BigInt,
            _ => SqlType::Int,
        },
        Value::Bit(_) => SqlType::Bit,
        Value::Decimal(d) => SqlType::Decimal {
            precision: 38,
            scale: d.scale.min(38),
        },
        Value::Float(_) => SqlType::Float,
        Value::String(s) => SqlType::NVarChar(Some(s.chars().count().clamp(1, 4000) as u32)),
        Value::Binary(b) => SqlType::VarBinary(Some(b.len().clamp(1, 8000) as u32)),
        Value::DateTime(_) => SqlType::DateTime,
        Value::Guid(_) => SqlType::UniqueIdentifier,
    }
}

fn is_exact_numeric(ty: SqlType) -> bool {
    ty.is_integer() || matches!(ty, SqlType::Decimal { .. } | SqlType::Money)
}

/// date, time, datetime2 and datetimeoffset: the types that do not convert to numbers.
fn is_new_temporal(ty: SqlType) -> bool {
    matches!(
        ty,
        SqlType::Date | SqlType::Time(_) | SqlType::DateTime2(_) | SqlType::DateTimeOffset(_)
    )
}

fn is_old_temporal(ty: SqlType) -> bool {
    matches!(ty, SqlType::DateTime | SqlType::SmallDateTime)
}

/// Whether CAST/CONVERT allows `from` → `to` at all (SQL Server's conversion chart).
#[must_use]
pub fn explicit_allowed(from: SqlType, to: SqlType) -> bool {
    if from == SqlType::SqlVariant || to == SqlType::SqlVariant {
        return true;
    }
    let numeric = |t: SqlType| t.is_numeric();
    let guid = |t: SqlType| t == SqlType::UniqueIdentifier;
    !((is_new_temporal(from) && numeric(to))
        || (numeric(from) && is_new_temporal(to))
        || (from == SqlType::Date && matches!(to, SqlType::Time(_)))
        || (matches!(from, SqlType::Time(_)) && to == SqlType::Date)
        || (guid(from) && (numeric(to) || to.is_datetime()))
        || ((numeric(from) || from.is_datetime()) && guid(to))
        || (from.is_binary() && matches!(to, SqlType::Float | SqlType::Real))
        || (from.is_binary() && is_new_temporal(to))
        || (is_new_temporal(from) && to.is_binary()))
}

/// Checks an implicit conversion (assignment, comparison, arithmetic): 206 when no conversion
/// exists, 257 when only an explicit one does.
pub fn check_implicit(from: SqlType, to: SqlType) -> Result<(), SqlMessage> {
    if !explicit_allowed(from, to) {
        return Err(errors::operand_type_clash(&from.sql_name(), &to.sql_name()));
    }
    let explicit_only = (from.is_string() && to.is_binary())
        || (is_old_temporal(from) && to.is_numeric())
        || (from == SqlType::SqlVariant && to != SqlType::SqlVariant)
        || (from.is_binary() && is_old_temporal(to))
        || (is_old_temporal(from) && to.is_binary());
    if explicit_only {
        return Err(errors::implicit_conversion_not_allowed(
            base_name(from),
            base_name(to),
        ));
    }
    Ok(())
}

/// An implicit conversion.
pub fn implicit(value: &Value, from: SqlType, to: SqlType) -> Result<Value, SqlMessage> {
    if from == to {
        return Ok(value.clone());
    }
    check_implicit(from, to)?;
    convert(value, from, to, None)
}

/// `CAST(value AS to)`.
pub fn cast(value: &Value, from: SqlType, to: SqlType) -> Result<Value, SqlMessage> {
    convert(value, from, to, None)
}

/// `CONVERT(to, value [, style])`.
pub fn convert(
    value: &Value,
    from: SqlType,
    to: SqlType,
    style: Option<i64>,
) -> Result<Value, SqlMessage> {
    if !explicit_allowed(from, to) {
        return Err(errors::explicit_conversion_not_allowed(
            &from.sql_name(),
            &to.sql_name(),
        ));
    }
    if value.is_null() {
        return Ok(Value::Null);
    }
    let from = if from == SqlType::SqlVariant {
        variant_base_type(value)
    } else {
        from
    };
    match to {
        SqlType::SqlVariant => Ok(value.clone()),
        SqlType::Bit => to_bit(value, from),
        t if t.is_integer() => to_integer(value, from, t),
        SqlType::Decimal { precision, scale } => to_decimal(value, from, precision, scale),
        SqlType::Money => to_money(value, from),
        SqlType::Float | SqlType::Real => to_float(value, from, to),
        t if t.is_string() => to_string(value, from, t, style),
        t if t.is_binary() => to_binary(value, from, t, style),
        t if t.is_datetime() => temporal::to_temporal(value, from, t, style),
        _ => to_guid(value, from),
    }
}

/// A value's text for conversion errors (`'abc'` in 245), cut as SQL Server cuts it.
fn shown(s: &str) -> String {
    s.chars().take(4000).collect()
}

fn to_bit(value: &Value, from: SqlType) -> Result<Value, SqlMessage> {
    Ok(Value::Bit(match value {
        Value::Bit(b) => *b,
        Value::Int(n) => *n != 0,
        Value::Decimal(d) => d.mantissa != 0,
        Value::Float(f) => *f != 0.0,
        Value::String(s) => {
            let t = s.trim_matches(' ');
            if t.eq_ignore_ascii_case("true") {
                true
            } else if t.eq_ignore_ascii_case("false") {
                false
            } else {
                match numeric::parse_integer(t) {
                    Some(Ok(n)) => n != 0,
                    Some(Err(())) => true,
                    None => {
                        return Err(errors::conversion_failed(base_name(from), &shown(s), "bit"));
                    }
                }
            }
        }
        Value::Binary(b) => b.iter().any(|&x| x != 0),
        Value::DateTime(dt) => {
            let days = temporal::old_datetime_days(*dt);
            days != 0.0
        }
        Value::Guid(_) | Value::Null => return Ok(Value::Null),
    }))
}

/// The range of an integer type.
#[must_use]
pub fn integer_range(ty: SqlType) -> (i64, i64) {
    match ty {
        SqlType::Bit => (0, 1),
        SqlType::TinyInt => (0, 255),
        SqlType::SmallInt => (i64::from(i16::MIN), i64::from(i16::MAX)),
        SqlType::Int => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

/// An integer result checked against its type's range, with the overflow message of an
/// integer expression (220 for tinyint/smallint, 8115 otherwise).
pub fn check_integer(n: i128, ty: SqlType) -> Result<Value, SqlMessage> {
    let (lo, hi) = integer_range(ty);
    if n < i128::from(lo) || n > i128::from(hi) {
        return Err(match ty {
            SqlType::TinyInt | SqlType::SmallInt => errors::overflow_for_type(base_name(ty), n),
            _ => errors::overflow_converting("expression", base_name(ty)),
        });
    }
    Ok(Value::Int(n as i64))
}

fn to_integer(value: &Value, from: SqlType, to: SqlType) -> Result<Value, SqlMessage> {
    let (lo, hi) = integer_range(to);
    let in_range = |n: i128| n >= i128::from(lo) && n <= i128::from(hi);
    let name = base_name(to);
    match value {
        Value::Bit(b) => Ok(Value::Int(i64::from(*b))),
        Value::Int(n) => check_integer(i128::from(*n), to),
        Value::Decimal(d) => {
            let n = numeric::truncate(*d);
            if in_range(n) {
                Ok(Value::Int(n as i64))
            } else {
                Err(errors::overflow_converting(base_name(from), name))
            }
        }
        Value::Float(f) => {
            let t = f.trunc();
            if t.is_finite() && t >= lo as f64 && t <= hi as f64 && t.abs() < 9.2e18 {
                Ok(Value::Int(t as i64))
            } else {
                Err(errors::overflow_converting(base_name(from), name))
            }
        }
        Value::String(s) => match numeric::parse_integer(s) {
            Some(Ok(n)) if in_range(i128::from(n)) => Ok(Value::Int(n)),
            Some(_) => Err(match to {
                SqlType::Int => errors::string_overflows_int(base_name(from), &shown(s)),
                SqlType::TinyInt => {
                    errors::string_overflows_small_int(base_name(from), &shown(s), "INT1")
                }
                SqlType::SmallInt => {
                    errors::string_overflows_small_int(base_name(from), &shown(s), "INT2")
                }
                _ => errors::overflow_converting("expression", name),
            }),
            None => Err(errors::conversion_failed(base_name(from), &shown(s), name)),
        },
        Value::Binary(bytes) => {
            let width = match to {
                SqlType::TinyInt => 1,
                SqlType::SmallInt => 2,
                SqlType::Int => 4,
                _ => 8,
            };
            let tail = &bytes[bytes.len().saturating_sub(width)..];
            let mut n: i64 = 0;
            for &b in tail {
                n = (n << 8) | i64::from(b);
            }
            // Sign-extend from the type's width.
            let shift = 64 - 8 * width as u32;
            let n = if to == SqlType::TinyInt {
                n & 0xFF
            } else {
                (n << shift) >> shift
            };
            Ok(Value::Int(n))
        }
        Value::DateTime(dt) => {
            let days = temporal::old_datetime_days(*dt).round() as i128;
            check_integer(days, to)
        }
        Value::Guid(_) | Value::Null => Ok(Value::Null),
    }
}

/// A value as an exact decimal (before fitting it to a precision); `Err` carries the message.
fn exact(value: &Value, from: SqlType, to_name: &str) -> Result<Decimal, SqlMessage> {
    let d = |mantissa: i128, scale: u8| Decimal { mantissa, scale };
    Ok(match value {
        Value::Bit(b) => d(i128::from(*b), 0),
        Value::Int(n) => d(i128::from(*n), 0),
        Value::Decimal(x) => *x,
        Value::Float(f) => {
            // Keep 17 significant digits, as SQL Server does for float → decimal.
            let magnitude = if *f == 0.0 || !f.is_finite() {
                0
            } else {
                f.abs().log10().floor() as i32
            };
            let scale = 16i32.saturating_sub(magnitude).clamp(0, 38) as u8;
            numeric::from_f64(*f, scale)
                .ok_or_else(|| errors::overflow_converting(base_name(from), to_name))?
        }
        Value::String(s) => {
            if to_name == "money" {
                numeric::parse_money(s).ok_or_else(errors::money_syntax)?
            } else {
                numeric::parse_decimal(s)
                    .ok_or_else(|| errors::error_converting(base_name(from), to_name))?
            }
        }
        Value::Binary(_) | Value::Guid(_) | Value::Null => {
            return Err(errors::explicit_conversion_not_allowed(
                base_name(from),
                to_name,
            ));
        }
        Value::DateTime(dt) => {
            let days = temporal::old_datetime_days(*dt);
            numeric::from_f64(days, 9)
                .ok_or_else(|| errors::overflow_converting(base_name(from), to_name))?
        }
    })
}

fn to_decimal(value: &Value, from: SqlType, precision: u8, scale: u8) -> Result<Value, SqlMessage> {
    let overflow = || {
        let what = if from.is_string() {
            base_name(from)
        } else if is_exact_numeric(from) && !from.is_integer() {
            "numeric"
        } else {
            base_name(from)
        };
        errors::overflow_converting(what, "numeric")
    };
    let d = exact(value, from, "numeric")?;
    let d = numeric::rescale(d, scale).ok_or_else(overflow)?;
    if !numeric::fits(d, precision) {
        return Err(overflow());
    }
    Ok(Value::Decimal(d))
}

/// money's range: ±922,337,203,685,477.5807.
fn fits_money(d: Decimal) -> bool {
    d.mantissa >= i128::from(i64::MIN) && d.mantissa <= i128::from(i64::MAX)
}

fn to_money(value: &Value, from: SqlType) -> Result<Value, SqlMessage> {
    let d = exact(value, from, "money")?;
    let d = numeric::rescale(d, 4)
        .filter(|d| fits_money(*d))
        .ok_or_else(|| errors::overflow_converting("expression", "money"))?;
    Ok(Value::Decimal(d))
}

fn to_float(value: &Value, from: SqlType, to: SqlType) -> Result<Value, SqlMessage> {
    let f = match value {
        Value::Bit(b) => f64::from(u8::from(*b)),
        Value::Int(n) => *n as f64,
        Value::Decimal(d) => numeric::to_f64(*d),
        Value::Float(f) => *f,
        Value::String(s) => numeric::parse_float(s)
            .ok_or_else(|| errors::error_converting(base_name(from), base_name(to)))?,
        Value::DateTime(dt) => temporal::old_datetime_days(*dt),
        Value::Binary(_) | Value::Guid(_) | Value::Null => return Ok(Value::Null),
    };
    if to == SqlType::Real {
        let r = f as f32;
        if !r.is_finite() {
            return Err(errors::overflow_converting(base_name(from), "real"));
        }
        return Ok(Value::Float(f64::from(r)));
    }
    Ok(Value::Float(f))
}

/// The declared length of a character or binary type, `None` for `(max)`.
#[must_use]
pub fn declared_length(ty: SqlType) -> Option<usize> {
    match ty {
        SqlType::Char(n) | SqlType::NChar(n) | SqlType::Binary(n) => Some(n as usize),
        SqlType::VarChar(n) | SqlType::NVarChar(n) | SqlType::VarBinary(n) => n.map(|n| n as usize),
        _ => None,
    }
}

/// Cuts a string to a character type's length (padding `char`/`nchar` with spaces), and to
/// the code page for non-Unicode types.
#[must_use]
pub fn fit_string(s: &str, to: SqlType) -> String {
    let s = if to.is_unicode() {
        s.to_owned()
    } else {
        text::to_code_page(s)
    };
    let limit = declared_length(to).unwrap_or(MAX_LOB_BYTES);
    let mut out: String = if s.len() <= limit {
        s
    } else {
        s.chars().take(limit).collect()
    };
    if let SqlType::Char(n) | SqlType::NChar(n) = to {
        let have = out.chars().count();
        if have < n as usize {
            out.extend(std::iter::repeat_n(' ', n as usize - have));
        }
    }
    out
}

fn to_string(
    value: &Value,
    from: SqlType,
    to: SqlType,
    style: Option<i64>,
) -> Result<Value, SqlMessage> {
    let style_or_0 = style.unwrap_or(0);
    let number = |text: String| -> Result<Value, SqlMessage> {
        // Numbers never truncate: too long is `*` for char types and 8115 for Unicode.
        match declared_length(to) {
            Some(n) if text.chars().count() > n => {
                if to.is_unicode() || matches!(from, SqlType::Decimal { .. }) {
                    let what = if from.is_integer() {
                        "expression"
                    } else {
                        base_name(from)
                    };
                    Err(errors::overflow_converting(what, base_name(to)))
                } else {
                    Ok(Value::String(fit_string("*", to)))
                }
            }
            _ => Ok(Value::String(fit_string(&text, to))),
        }
    };
    match value {
        Value::String(s) => Ok(Value::String(fit_string(s, to))),
        Value::Bit(b) => number(u8::from(*b).to_string()),
        Value::Int(n) => number(n.to_string()),
        Value::Decimal(d) if from == SqlType::Money => number(numeric::money_text(*d, style_or_0)),
        Value::Decimal(d) => number(numeric::decimal_text(*d)),
        Value::Float(f) => {
            let text = match style_or_0 {
                1 => numeric::float_scientific(*f, 8),
                2 => numeric::float_scientific(*f, 16),
                3 => numeric::float_scientific(*f, 17),
                _ => numeric::float_g(*f, 6),
            };
            number(text)
        }
        Value::Binary(bytes) => {
            let s = match style_or_0 {
                1 => format!("0x{}", text::hex_upper(bytes)),
                2 => text::hex_upper(bytes),
                0 if to.is_unicode() => text::from_utf16_bytes(bytes),
                0 => text::from_code_page_bytes(bytes),
                other => return Err(errors::invalid_style_to_string(other, base_name(from))),
            };
            Ok(Value::String(fit_string(&s, to)))
        }
        Value::DateTime(dt) => {
            let s = text::datetime_text(*dt, from, style, 0)
                .ok_or_else(|| errors::invalid_style_to_string(style_or_0, base_name(from)))?;
            Ok(Value::String(fit_string(&s, to)))
        }
        Value::Guid(g) => number(text::guid_text(g)),
        Value::Null => Ok(Value::Null),
    }
}

/// The big-endian bytes of an integer of a given width.
fn int_bytes(n: i64, ty: SqlType) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let width = match ty {
        SqlType::Bit | SqlType::TinyInt => 1,
        SqlType::SmallInt => 2,
        SqlType::Int => 4,
        _ => 8,
    };
    bytes[8 - width..].to_vec()
}

fn to_binary(
    value: &Value,
    from: SqlType,
    to: SqlType,
    style: Option<i64>,
) -> Result<Value, SqlMessage> {
    let style = style.unwrap_or(0);
    // Numbers keep their low-order bytes when cut; strings keep their first bytes.
    let (bytes, keep_right) = match value {
        Value::Binary(b) => (b.clone(), false),
        Value::String(s) => match style {
            0 if from.is_unicode() => (text::utf16_bytes(s), false),
            0 => (text::code_page_bytes(s), false),
            1 | 2 => {
                let hex = if style == 1 {
                    s.strip_prefix("0x")
                        .or_else(|| s.strip_prefix("0X"))
                        .ok_or_else(|| {
                            errors::conversion_failed(base_name(from), &shown(s), base_name(to))
                        })?
                } else {
                    s.as_str()
                };
                let bytes = text::parse_hex(hex).ok_or_else(|| {
                    errors::conversion_failed(base_name(from), &shown(s), base_name(to))
                })?;
                (bytes, false)
            }
            other => {
                return Err(errors::unsupported_style(
                    other,
                    base_name(from),
                    base_name(to),
                ));
            }
        },
        Value::Bit(b) => (vec![u8::from(*b)], true),
        Value::Int(n) => (int_bytes(*n, from), true),
        Value::Decimal(d) if from == SqlType::Money => {
            (int_bytes(d.mantissa as i64, SqlType::BigInt), true)
        }
        Value::Decimal(d) => {
            let (precision, scale) = match from {
                SqlType::Decimal { precision, scale } => (precision, scale),
                _ => (38, d.scale),
            };
            let mut out = vec![precision, scale, u8::from(d.mantissa >= 0)];
            out.extend_from_slice(&d.mantissa.unsigned_abs().to_le_bytes());
            (out, true)
        }
        Value::Float(f) => (f.to_be_bytes().to_vec(), true),
        Value::DateTime(dt) => (temporal::old_datetime_bytes(*dt, from), true),
        Value::Guid(g) => (text::guid_storage_bytes(g).to_vec(), false),
        Value::Null => return Ok(Value::Null),
    };
    Ok(Value::Binary(fit_binary(bytes, to, keep_right)))
}

/// Cuts or pads bytes to a binary type: `binary(n)` pads with zeros on the right.
#[must_use]
pub fn fit_binary(mut bytes: Vec<u8>, to: SqlType, keep_right: bool) -> Vec<u8> {
    let limit = declared_length(to).unwrap_or(MAX_LOB_BYTES);
    if bytes.len() > limit {
        if keep_right {
            bytes.drain(..bytes.len() - limit);
        } else {
            bytes.truncate(limit);
        }
    }
    if let SqlType::Binary(n) = to {
        if keep_right && bytes.len() < n as usize {
            let mut padded = vec![0; n as usize - bytes.len()];
            padded.extend_from_slice(&bytes);
            bytes = padded;
        } else {
            bytes.resize(n as usize, 0);
        }
    }
    bytes
}

fn to_guid(value: &Value, from: SqlType) -> Result<Value, SqlMessage> {
    match value {
        Value::Guid(g) => Ok(Value::Guid(*g)),
        Value::String(s) => text::parse_guid(s)
            .map(Value::Guid)
            .ok_or_else(errors::guid_from_string),
        Value::Binary(b) => {
            let mut storage = [0u8; 16];
            let n = b.len().min(16);
            storage[..n].copy_from_slice(&b[..n]);
            // Storage order to text order is the same byte swap.
            Ok(Value::Guid(text::guid_storage_bytes(&storage)))
        }
        _ => Err(errors::explicit_conversion_not_allowed(
            base_name(from),
            "uniqueidentifier",
        )),
    }
}

#[cfg(test)]
mod tests;
