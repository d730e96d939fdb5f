//! Arguments of the catalog's functions and procedures, and the few conversions they need.
//!
//! These conversions cover what system functions and procedures are given in practice
//! (strings, integers, ISO dates); the general CAST rules live in `value::convert`.

use super::civil;
use crate::messages::SqlMessage;
use crate::value::{DateTime, SqlType, Value};

/// One evaluated argument of `EXEC proc …`: `@name = value` or positional.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcArg {
    /// With its `@`; `None` for a positional argument.
    pub name: Option<String>,
    pub ty: SqlType,
    pub value: Value,
}

impl ProcArg {
    /// A positional argument.
    pub fn positional(ty: SqlType, value: Value) -> Self {
        ProcArg {
            name: None,
            ty,
            value,
        }
    }

    /// A named argument (`name` with or without its `@`).
    pub fn named(name: &str, ty: SqlType, value: Value) -> Self {
        let name = if name.starts_with('@') {
            name.to_owned()
        } else {
            format!("@{name}")
        };
        ProcArg {
            name: Some(name),
            ty,
            value,
        }
    }
}

/// Binds `args` to a procedure's parameters (names with `@`, in declaration order), as
/// SQL Server does: positional first, then named. Unknown names get Msg 8145; a positional
/// argument after a named one gets Msg 119; too many get Msg 8144.
pub fn bind<'a>(
    procedure: &str,
    params: &[&str],
    args: &'a [ProcArg],
) -> Result<Vec<Option<&'a Value>>, SqlMessage> {
    let mut bound: Vec<Option<&Value>> = vec![None; params.len()];
    let mut seen_named = false;
    for (i, a) in args.iter().enumerate() {
        match &a.name {
            None if seen_named => {
                return Err(SqlMessage::new(
                    119,
                    15,
                    1,
                    0,
                    format!(
                        "Must pass parameter number {} and subsequent parameters as '@name = value'. After the form '@name = value' has been used, all subsequent parameters must be passed in the form '@name = value'.",
                        i + 1
                    ),
                ));
            }
            None => {
                let slot = bound.get_mut(i).ok_or_else(|| {
                    SqlMessage::new(
                        8144,
                        16,
                        2,
                        0,
                        format!(
                            "Procedure or function {procedure} has too many arguments specified."
                        ),
                    )
                })?;
                *slot = Some(&a.value);
            }
            Some(name) => {
                seen_named = true;
                let Some(p) = params.iter().position(|p| p.eq_ignore_ascii_case(name)) else {
                    return Err(SqlMessage::new(
                        8145,
                        16,
                        2,
                        0,
                        format!("{name} is not a parameter for procedure {procedure}."),
                    ));
                };
                bound[p] = Some(&a.value);
            }
        }
    }
    Ok(bound)
}

/// Msg 201: a required parameter was not supplied.
#[must_use]
pub fn missing_parameter(procedure: &str, parameter: &str) -> SqlMessage {
    SqlMessage::new(
        201,
        16,
        4,
        0,
        format!(
            "Procedure or function '{procedure}' expects parameter '{parameter}', which was not supplied."
        ),
    )
}

/// Msg 174: a built-in function called with the wrong number of arguments.
#[must_use]
pub fn wrong_argument_count(function: &str, expected: &str) -> SqlMessage {
    SqlMessage::new(
        174,
        15,
        1,
        0,
        format!("The {function} function requires {expected} argument(s)."),
    )
}

/// The text of a value given where a name is expected (`DB_ID(N'pubs')`, `@dbname`):
/// strings as they are, numbers in their decimal form; `None` for NULL.
#[must_use]
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bit(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        Value::Decimal(d) => {
            let digits = d.mantissa.unsigned_abs().to_string();
            let sign = if d.mantissa < 0 { "-" } else { "" };
            let scale = usize::from(d.scale);
            if scale == 0 {
                Some(format!("{sign}{digits}"))
            } else {
                let padded = format!("{digits:0>width$}", width = scale + 1);
                let (int, frac) = padded.split_at(padded.len() - scale);
                Some(format!("{sign}{int}.{frac}"))
            }
        }
        Value::Float(f) => Some(f.to_string()),
        Value::Binary(_) | Value::DateTime(_) | Value::Guid(_) => None,
    }
}

/// Msg 245-style failure converting a string argument to int.
fn int_conversion_failed(text: &str, ty: SqlType) -> SqlMessage {
    SqlMessage::new(
        245,
        16,
        1,
        0,
        format!(
            "Conversion failed when converting the {} value '{text}' to data type int.",
            ty.sql_name()
        ),
    )
}

/// An integer argument (`DB_NAME(5)`, `DB_NAME('5')`); `None` for NULL.
pub fn as_int(ty: SqlType, v: &Value) -> Result<Option<i64>, SqlMessage> {
    Ok(match v {
        Value::Null => None,
        Value::Int(i) => Some(*i),
        Value::Bit(b) => Some(i64::from(*b)),
        Value::Decimal(d) => Some((d.mantissa / 10i128.pow(u32::from(d.scale))) as i64),
        Value::Float(f) => Some(f.trunc() as i64),
        Value::String(s) => Some(s.trim().parse().map_err(|_| int_conversion_failed(s, ty))?),
        Value::Binary(b) => {
            let mut n: i64 = 0;
            for byte in b.iter().rev().take(8).rev() {
                n = (n << 8) | i64::from(*byte);
            }
            Some(n)
        }
        Value::DateTime(_) | Value::Guid(_) => return Err(int_conversion_failed("?", ty)),
    })
}

/// Msg 241: a string that is not a date and time.
#[must_use]
pub fn datetime_conversion_failed() -> SqlMessage {
    SqlMessage::new(
        241,
        16,
        1,
        0,
        "Conversion failed when converting date and/or time from character string.",
    )
}

/// A datetime argument (`@oldest_date = '2024-01-01'`); `None` for NULL. Strings in the ISO
/// forms `yyyy-mm-dd`, `yyyymmdd`, optionally followed by ` hh:mm[:ss[.fff]]` or
/// `Thh:mm[:ss[.fff]]`.
pub fn as_datetime(v: &Value) -> Result<Option<DateTime>, SqlMessage> {
    match v {
        Value::Null => Ok(None),
        Value::DateTime(t) => Ok(Some(*t)),
        Value::String(s) => parse_iso_datetime(s)
            .map(Some)
            .ok_or_else(datetime_conversion_failed),
        _ => Err(datetime_conversion_failed()),
    }
}

fn parse_iso_datetime(s: &str) -> Option<DateTime> {
    let s = s.trim();
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let (y, m, d): (i32, u32, u32) = if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit())
    {
        (
            date[..4].parse().ok()?,
            date[4..6].parse().ok()?,
            date[6..].parse().ok()?,
        )
    } else {
        let mut it = date.split('-');
        let y = it.next()?.parse().ok()?;
        let m = it.next()?.parse().ok()?;
        let d = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let mut t = civil::datetime(y, m, d, 0, 0, 0);
    if let Some(time) = time {
        let (hms, frac) = match time.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time, None),
        };
        let parts: Vec<&str> = hms.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return None;
        }
        let h: u32 = parts[0].parse().ok()?;
        let mi: u32 = parts[1].parse().ok()?;
        let sec: u32 = parts.get(2).map_or(Some(0), |p| p.parse().ok())?;
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        t = civil::datetime(y, m, d, h, mi, sec);
        if let Some(frac) = frac {
            if frac.is_empty() || frac.len() > 7 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let ticks: u64 = format!("{frac:0<7}").parse().ok()?;
            t.ticks += ticks;
        }
    }
    Some(t)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    let next = if m == 12 {
        civil::days_from_civil(y + 1, 1, 1)
    } else {
        civil::days_from_civil(y, m + 1, 1)
    };
    (next - civil::days_from_civil(y, m, 1)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_parse_and_bad_ones_fail_with_241() {
        let t = as_datetime(&Value::text("2024-05-01 10:30:15.5"))
            .unwrap()
            .unwrap();
        assert_eq!(
            t,
            civil::add_ticks(civil::datetime(2024, 5, 1, 10, 30, 15), 5_000_000)
        );
        assert_eq!(
            as_datetime(&Value::text("20240501")).unwrap(),
            Some(civil::datetime(2024, 5, 1, 0, 0, 0))
        );
        assert_eq!(
            as_datetime(&Value::text("2024-05-01T08:00")).unwrap(),
            Some(civil::datetime(2024, 5, 1, 8, 0, 0))
        );
        for bad in [
            "2023-02-29",
            "yesterday",
            "2024-13-01",
            "2024-05-01 25:00",
            "",
        ] {
            assert_eq!(
                as_datetime(&Value::text(bad)).unwrap_err().number,
                241,
                "{bad}"
            );
        }
        assert_eq!(as_datetime(&Value::Null).unwrap(), None);
    }

    #[test]
    fn binding_follows_sql_servers_rules() {
        let args = [
            ProcArg::positional(SqlType::Int, Value::Int(1)),
            ProcArg::named("@b", SqlType::Int, Value::Int(2)),
        ];
        let bound = bind("p", &["@a", "@b", "@c"], &args).unwrap();
        assert_eq!(
            bound,
            vec![Some(&Value::Int(1)), Some(&Value::Int(2)), None]
        );
        let bad = [ProcArg::named("@zz", SqlType::Int, Value::Int(1))];
        assert_eq!(bind("p", &["@a"], &bad).unwrap_err().number, 8145);
        let order = [
            ProcArg::named("@a", SqlType::Int, Value::Int(1)),
            ProcArg::positional(SqlType::Int, Value::Int(2)),
        ];
        assert_eq!(bind("p", &["@a", "@b"], &order).unwrap_err().number, 119);
        let many = [
            ProcArg::positional(SqlType::Int, Value::Int(1)),
            ProcArg::positional(SqlType::Int, Value::Int(2)),
        ];
        assert_eq!(bind("p", &["@a"], &many).unwrap_err().number, 8144);
    }

    #[test]
    fn text_and_int_conversions() {
        assert_eq!(as_text(&Value::Int(5)).as_deref(), Some("5"));
        assert_eq!(
            as_text(&Value::Decimal(crate::value::Decimal {
                mantissa: -1234,
                scale: 3
            }))
            .as_deref(),
            Some("-1.234")
        );
        assert_eq!(
            as_int(SqlType::VarChar(Some(3)), &Value::text(" 7 ")).unwrap(),
            Some(7)
        );
        assert_eq!(
            as_int(SqlType::VarChar(Some(3)), &Value::text("x"))
                .unwrap_err()
                .number,
            245
        );
    }
}
