//! FORMAT (the .NET format strings tools use, under en-US) and STR.

use crate::messages::SqlMessage;
use crate::value::convert::numeric;
use crate::value::datetime::{DAY_NAMES, DateTime, MONTH_NAMES};
use crate::value::{SqlType, Value};

use super::{arity, float_arg, int_arg, text_arg};
use crate::eval::Typed;

pub(super) fn call(name: &str, args: &[Typed]) -> Result<Option<Typed>, SqlMessage> {
    let result = match name {
        "FORMAT" => {
            arity("format", args.len(), 2, 3)?;
            let ty = SqlType::NVarChar(Some(4000));
            let Some(pattern) = text_arg(&args[1])? else {
                return Ok(Some((ty, Value::Null)));
            };
            let text = match &args[0].1 {
                Value::DateTime(dt) => format_datetime(*dt, &pattern),
                Value::Null | Value::String(_) | Value::Binary(_) | Value::Guid(_) => None,
                other => {
                    let f = match other {
                        Value::Int(n) => *n as f64,
                        Value::Bit(b) => f64::from(u8::from(*b)),
                        Value::Decimal(d) => numeric::to_f64(*d),
                        Value::Float(f) => *f,
                        _ => 0.0,
                    };
                    let integer = match other {
                        Value::Int(n) => Some(*n),
                        _ => None,
                    };
                    format_number(f, integer, &pattern)
                }
            };
            (ty, text.map_or(Value::Null, Value::String))
        }
        "STR" => {
            arity("str", args.len(), 1, 3)?;
            let length = match args.get(1) {
                Some(a) => int_arg(a)?,
                None => Some(10),
            };
            let decimals = match args.get(2) {
                Some(a) => int_arg(a)?,
                None => Some(0),
            };
            let width = length.unwrap_or(10).clamp(1, 8000) as usize;
            let ty = SqlType::VarChar(Some(width as u32));
            let value = match (float_arg(&args[0])?, length, decimals) {
                (Some(f), Some(len), Some(dec)) if len > 0 && dec >= 0 => {
                    Value::String(str_text(f, width, dec.min(16) as usize))
                }
                _ => Value::Null,
            };
            (ty, value)
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

/// STR: right-justified in `width`, `decimals` places (fewer if they do not fit), `*`s when the
/// integer part does not fit.
fn str_text(f: f64, width: usize, decimals: usize) -> String {
    let integral = format!("{:.0}", f.abs().trunc()).len() + usize::from(f < 0.0);
    if integral > width {
        return "*".repeat(width);
    }
    let room = width.saturating_sub(integral + 1);
    let places = decimals.min(room);
    let text = format!("{:.*}", places, round_half_away(f, places));
    if text.len() > width {
        return "*".repeat(width);
    }
    format!("{text:>width$}")
}

fn round_half_away(f: f64, places: usize) -> f64 {
    let factor = 10f64.powi(places as i32);
    (f * factor).round() / factor
}

fn group_thousands(int: &str) -> String {
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234.5` with `places` decimals and optional grouping, sign kept.
fn fixed(f: f64, places: usize, grouped: bool) -> String {
    let text = format!("{:.*}", places, round_half_away(f.abs(), places));
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let int = if grouped {
        group_thousands(int)
    } else {
        int.to_owned()
    };
    let sign = if f < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

fn format_number(f: f64, integer: Option<i64>, pattern: &str) -> Option<String> {
    let mut chars = pattern.chars();
    let kind = chars.next()?;
    let rest: String = chars.collect();
    let precision: Option<usize> = if rest.is_empty() {
        None
    } else if rest.bytes().all(|b| b.is_ascii_digit()) && rest.len() <= 2 {
        rest.parse().ok()
    } else {
        return format_custom_number(f, pattern);
    };
    Some(match kind.to_ascii_uppercase() {
        'N' => fixed(f, precision.unwrap_or(2), true),
        'F' => fixed(f, precision.unwrap_or(2), false),
        'C' => {
            let body = fixed(f.abs(), precision.unwrap_or(2), true);
            if f < 0.0 {
                format!("(${body})")
            } else {
                format!("${body}")
            }
        }
        'P' => format!("{}%", fixed(f * 100.0, precision.unwrap_or(2), true)),
        'D' => {
            let n = integer?;
            let digits = format!(
                "{:0>width$}",
                n.unsigned_abs(),
                width = precision.unwrap_or(1)
            );
            if n < 0 { format!("-{digits}") } else { digits }
        }
        'X' => {
            let n = integer?;
            let hex = if kind == 'x' {
                format!("{n:x}")
            } else {
                format!("{n:X}")
            };
            format!("{hex:0>width$}", width = precision.unwrap_or(1))
        }
        'E' => {
            let sci = format!("{:.*e}", precision.unwrap_or(6), f);
            let (m, e) = sci.split_once('e')?;
            let e: i32 = e.parse().ok()?;
            let sign = if e < 0 { '-' } else { '+' };
            let letter = if kind == 'e' { 'e' } else { 'E' };
            format!("{m}{letter}{sign}{:03}", e.unsigned_abs())
        }
        'G' => match integer {
            Some(n) => n.to_string(),
            None => numeric::float_g(f, precision.unwrap_or(15)),
        },
        _ => return format_custom_number(f, pattern),
    })
}

/// Custom numeric formats: `0` digits, `#` optional digits, `,` grouping, `.` point, other
/// characters literal.
fn format_custom_number(f: f64, pattern: &str) -> Option<String> {
    let (int_pat, frac_pat) = pattern.split_once('.').unwrap_or((pattern, ""));
    let is_digit = |c: char| c == '0' || c == '#';
    if !int_pat.chars().any(is_digit) && !frac_pat.chars().any(is_digit) {
        return Some(pattern.to_owned());
    }
    let max_places = frac_pat.chars().filter(|&c| is_digit(c)).count();
    let min_places = frac_pat.chars().filter(|&c| c == '0').count();
    let text = format!("{:.*}", max_places, round_half_away(f.abs(), max_places));
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut frac = frac.to_owned();
    while frac.len() > min_places && frac.ends_with('0') {
        frac.pop();
    }
    let min_int = int_pat.chars().filter(|&c| c == '0').count();
    let int = if int == "0" && min_int == 0 { "" } else { int };
    let int = format!("{int:0>min_int$}");
    let int = if int_pat.contains(',') {
        group_thousands(&int)
    } else {
        int
    };
    let prefix: String = int_pat
        .chars()
        .take_while(|&c| !is_digit(c) && c != ',')
        .collect();
    let suffix: String = frac_pat.chars().filter(|&c| !is_digit(c)).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    let body = if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    };
    Some(format!("{sign}{prefix}{body}{suffix}"))
}

fn format_datetime(dt: DateTime, pattern: &str) -> Option<String> {
    let pattern = match pattern {
        "d" => "M/d/yyyy",
        "D" => "dddd, MMMM d, yyyy",
        "t" => "h:mm tt",
        "T" => "h:mm:ss tt",
        "g" => "M/d/yyyy h:mm tt",
        "G" => "M/d/yyyy h:mm:ss tt",
        "f" => "dddd, MMMM d, yyyy h:mm tt",
        "F" => "dddd, MMMM d, yyyy h:mm:ss tt",
        "s" => "yyyy-MM-ddTHH:mm:ss",
        "u" => "yyyy-MM-dd HH:mm:ssZ",
        "o" | "O" => "yyyy-MM-ddTHH:mm:ss.fffffff",
        "M" | "m" => "MMMM d",
        "Y" | "y" => "MMMM yyyy",
        other if other.chars().count() == 1 => return None,
        other => other,
    };
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        match c {
            'y' => {
                let y = dt.year();
                out.push_str(&match run {
                    1 => (y % 100).to_string(),
                    2 => format!("{:02}", y % 100),
                    n => format!("{y:0n$}"),
                });
            }
            'M' => {
                let m = dt.month();
                out.push_str(&match run {
                    1 => m.to_string(),
                    2 => format!("{m:02}"),
                    3 => MONTH_NAMES[(m - 1) as usize][..3].to_owned(),
                    _ => MONTH_NAMES[(m - 1) as usize].to_owned(),
                });
            }
            'd' => {
                let d = dt.day();
                let name = DAY_NAMES[dt.weekday_index() as usize];
                out.push_str(&match run {
                    1 => d.to_string(),
                    2 => format!("{d:02}"),
                    3 => name[..3].to_owned(),
                    _ => name.to_owned(),
                });
            }
            'H' | 'h' | 'm' | 's' => {
                let n = match c {
                    'H' => dt.hour(),
                    'h' => match dt.hour() % 12 {
                        0 => 12,
                        h => h,
                    },
                    'm' => dt.minute(),
                    _ => dt.second(),
                };
                out.push_str(&if run >= 2 {
                    format!("{n:02}")
                } else {
                    n.to_string()
                });
            }
            'f' | 'F' => {
                let digits = format!("{:07}", dt.fraction());
                let mut part = digits[..run.min(7)].to_owned();
                if c == 'F' {
                    part = part.trim_end_matches('0').to_owned();
                }
                out.push_str(&part);
            }
            't' => {
                let am_pm = if dt.hour() < 12 { "AM" } else { "PM" };
                out.push_str(if run == 1 { &am_pm[..1] } else { am_pm });
            }
            '\'' | '"' => {
                let end = chars[i + 1..].iter().position(|&x| x == c)?;
                out.extend(&chars[i + 1..i + 1 + end]);
                i += end + 2;
                continue;
            }
            '\\' => {
                out.push(*chars.get(i + 1)?);
                i += 2;
                continue;
            }
            other => {
                for _ in 0..run {
                    out.push(other);
                }
            }
        }
        i += run;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(
            format_number(1234.567, None, "N2").as_deref(),
            Some("1,234.57")
        );
        assert_eq!(
            format_number(1234.0, Some(1234), "N0").as_deref(),
            Some("1,234")
        );
        assert_eq!(format_number(5.0, Some(5), "D3").as_deref(), Some("005"));
        assert_eq!(format_number(255.0, Some(255), "X").as_deref(), Some("FF"));
        assert_eq!(format_number(0.1234, None, "P1").as_deref(), Some("12.3%"));
        assert_eq!(format_number(-2.5, None, "C").as_deref(), Some("($2.50)"));
        assert_eq!(
            format_number(1234.5, None, "#,##0.00").as_deref(),
            Some("1,234.50")
        );
        assert_eq!(format_number(7.0, Some(7), "0000").as_deref(), Some("0007"));
        assert_eq!(format_number(1.5, None, "0.##").as_deref(), Some("1.5"));
    }

    #[test]
    fn dates() {
        let dt = DateTime::from_parts(2024, 5, 1, 14, 5, 9, 1_230_000).unwrap();
        let f = |p: &str| format_datetime(dt, p);
        assert_eq!(
            f("yyyy-MM-dd HH:mm:ss").as_deref(),
            Some("2024-05-01 14:05:09")
        );
        assert_eq!(f("yyyyMMdd").as_deref(), Some("20240501"));
        assert_eq!(f("d").as_deref(), Some("5/1/2024"));
        assert_eq!(f("dddd, MMM d").as_deref(), Some("Wednesday, May 1"));
        assert_eq!(f("hh:mm tt").as_deref(), Some("02:05 PM"));
        assert_eq!(f("HH:mm:ss.fff").as_deref(), Some("14:05:09.123"));
        assert_eq!(f("'at' H").as_deref(), Some("at 14"));
        assert_eq!(f("q"), None);
    }

    #[test]
    fn str_function() {
        assert_eq!(str_text(123.456, 10, 2), "    123.46");
        assert_eq!(str_text(123.456, 10, 0), "       123");
        assert_eq!(str_text(12345.0, 3, 0), "***");
        assert_eq!(str_text(-1.5, 5, 1), " -1.5");
    }
}
