//! Conversions to the date and time types: from strings (with the day-first CONVERT styles),
//! from other date/time types (rounding to the target's precision, checking its range), and
//! `datetime`'s numeric form (days since 1900-01-01, fractions of a day).

use super::base_name;
use crate::eval::errors;
use crate::messages::SqlMessage;
use crate::value::datetime::{
    DATETIME_FIRST_DAY, DAY_1900, DateTime, LAST_DAY, SMALLDATETIME_LAST_DAY, TICKS_PER_DAY,
    day_number, parse_datetime, round_datetime, round_scale, round_smalldatetime,
};
use crate::value::{SqlType, Value};

/// `datetime` as a number: days since 1900-01-01 plus the fraction of the day.
#[must_use]
pub fn old_datetime_days(dt: DateTime) -> f64 {
    f64::from(dt.days - DAY_1900) + dt.ticks as f64 / TICKS_PER_DAY as f64
}

/// `datetime`'s 8 storage bytes (days since 1900, then 1/300 s), big-endian as CAST shows them.
#[must_use]
pub fn old_datetime_bytes(dt: DateTime, ty: SqlType) -> Vec<u8> {
    let days = dt.days - DAY_1900;
    if ty == SqlType::SmallDateTime {
        let minutes = (dt.ticks / 600_000_000) as u16;
        let mut out = (days as u16).to_be_bytes().to_vec();
        out.extend_from_slice(&minutes.to_be_bytes());
        return out;
    }
    let units = ((dt.ticks * 3 + 50_000) / 100_000) as u32;
    let mut out = days.to_be_bytes().to_vec();
    out.extend_from_slice(&units.to_be_bytes());
    out
}

/// Day-first numeric styles (dd/mm/yyyy and friends).
fn day_first(style: Option<i64>) -> bool {
    matches!(style, Some(3 | 4 | 5 | 103 | 104 | 105))
}

/// Puts a date/time into a target type: rounds and checks its range. `from_name` names the
/// source in 242.
fn fit(dt: DateTime, to: SqlType, from_name: &str) -> Result<Value, SqlMessage> {
    let out_of_range = || errors::datetime_out_of_range(from_name, base_name(to));
    let dt = match to {
        SqlType::Date => DateTime::from_days(dt.days),
        SqlType::Time(s) => DateTime {
            days: 0,
            ticks: round_scale(dt, s).ticks,
        },
        SqlType::DateTime => {
            let r = round_datetime(dt);
            if r.days < DATETIME_FIRST_DAY || r.days > LAST_DAY {
                return Err(out_of_range());
            }
            r
        }
        SqlType::SmallDateTime => {
            let r = round_smalldatetime(dt);
            if r.days < DAY_1900 || r.days > SMALLDATETIME_LAST_DAY {
                return Err(out_of_range());
            }
            r
        }
        SqlType::DateTime2(s) | SqlType::DateTimeOffset(s) => {
            let r = round_scale(dt, s);
            if r.days > LAST_DAY {
                return Err(out_of_range());
            }
            r
        }
        _ => dt,
    };
    Ok(Value::DateTime(dt))
}

/// The conversion of any value to a date/time type.
pub fn to_temporal(
    value: &Value,
    from: SqlType,
    to: SqlType,
    style: Option<i64>,
) -> Result<Value, SqlMessage> {
    match value {
        Value::String(s) => from_string(s, from, to, style),
        Value::DateTime(dt) => {
            let dt = match from {
                // time becomes 1900-01-01 at that time.
                SqlType::Time(_) => DateTime {
                    days: DAY_1900,
                    ticks: dt.ticks,
                },
                _ => *dt,
            };
            fit(dt, to, base_name(from))
        }
        Value::Int(_) | Value::Bit(_) | Value::Decimal(_) | Value::Float(_) => {
            let days = match value {
                Value::Int(n) => *n as f64,
                Value::Bit(b) => f64::from(u8::from(*b)),
                Value::Decimal(d) => super::numeric::to_f64(*d),
                Value::Float(f) => *f,
                _ => 0.0,
            };
            let overflow = || errors::overflow_converting("expression", base_name(to));
            let total = (days + f64::from(DAY_1900)) * TICKS_PER_DAY as f64;
            if !total.is_finite()
                || total < 0.0
                || total > (f64::from(LAST_DAY + 1)) * TICKS_PER_DAY as f64
            {
                return Err(overflow());
            }
            let dt = DateTime::from_total_ticks(total.round() as i128).ok_or_else(overflow)?;
            fit(dt, to, base_name(from)).map_err(|_| overflow())
        }
        Value::Binary(bytes) => {
            let read = |b: &[u8]| b.iter().fold(0i64, |n, &x| (n << 8) | i64::from(x));
            let dt = if to == SqlType::SmallDateTime && bytes.len() >= 4 {
                DateTime {
                    days: DAY_1900 + read(&bytes[..2]) as i32,
                    ticks: read(&bytes[2..4]) as u64 * 600_000_000,
                }
            } else if bytes.len() >= 8 {
                let days = read(&bytes[bytes.len() - 8..bytes.len() - 4]) as i32;
                let units = read(&bytes[bytes.len() - 4..]) as u64;
                DateTime {
                    days: DAY_1900.saturating_add(days),
                    ticks: (units * 100_000 + 1) / 3,
                }
            } else {
                return Err(SqlMessage::new(
                    210,
                    16,
                    1,
                    0,
                    "Conversion failed when converting datetime from binary/varbinary string.",
                ));
            };
            if dt.ticks >= TICKS_PER_DAY || !(0..=LAST_DAY).contains(&dt.days) {
                return Err(errors::datetime_out_of_range(
                    base_name(from),
                    base_name(to),
                ));
            }
            fit(dt, to, base_name(from))
        }
        Value::Guid(_) | Value::Null => Ok(Value::Null),
    }
}

fn from_string(
    s: &str,
    from: SqlType,
    to: SqlType,
    style: Option<i64>,
) -> Result<Value, SqlMessage> {
    let syntax = || {
        if to == SqlType::SmallDateTime {
            errors::smalldatetime_from_string()
        } else {
            errors::datetime_from_string()
        }
    };
    let parsed = parse_datetime(s).ok_or_else(syntax)?;
    let old = matches!(to, SqlType::DateTime | SqlType::SmallDateTime);
    if old && parsed.fraction_digits > 3 {
        return Err(syntax());
    }
    let (y, mut m, mut d) = parsed.date.unwrap_or((1900, 1, 1));
    if parsed.day_month_ambiguous && day_first(style) {
        std::mem::swap(&mut m, &mut d);
    }
    if !(1..=9999).contains(&y) {
        return Err(if old {
            errors::datetime_out_of_range(base_name(from), base_name(to))
        } else {
            syntax()
        });
    }
    let days = day_number(y, m, d).ok_or_else(|| {
        if old {
            errors::datetime_out_of_range(base_name(from), base_name(to))
        } else {
            syntax()
        }
    })?;
    let ticks = parsed.time.map_or(0, |(h, mi, sec, frac)| {
        u64::from(h) * 36_000_000_000
            + u64::from(mi) * 600_000_000
            + u64::from(sec) * 10_000_000
            + frac
    });
    let total = i128::from(days) * i128::from(TICKS_PER_DAY) + i128::from(ticks);
    let dt = DateTime::from_total_ticks(total).ok_or_else(syntax)?;
    fit(dt, to, base_name(from))
}
