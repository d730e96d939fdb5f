//! Numbers as text and exact decimals: parsing strings the way CAST does, decimal rescaling
//! with SQL Server's rounding (half away from zero), and the `%g`-style text of float.

use crate::value::Decimal;

/// The largest precision of `decimal`.
pub const MAX_PRECISION: u8 = 38;

/// 10^n for n ≤ 38.
#[must_use]
pub fn pow10(n: u32) -> i128 {
    10i128.pow(n.min(38))
}

/// The number of decimal digits of |m| (0 has none).
#[must_use]
pub fn digit_count(m: i128) -> u32 {
    let mut m = m.unsigned_abs();
    let mut n = 0;
    while m > 0 {
        m /= 10;
        n += 1;
    }
    n
}

/// Whether `d` fits `decimal(precision, d.scale)`.
#[must_use]
pub fn fits(d: Decimal, precision: u8) -> bool {
    digit_count(d.mantissa) <= u32::from(precision)
}

/// Divides by 10^n, rounding half away from zero.
#[must_use]
pub fn div_pow10_round(m: i128, n: u32) -> i128 {
    if n == 0 {
        return m;
    }
    if n > 38 {
        return 0;
    }
    let p = pow10(n);
    let q = m / p;
    let r = (m % p).unsigned_abs();
    if r * 2 >= p.unsigned_abs() {
        q + m.signum()
    } else {
        q
    }
}

/// The same number at another scale: rounded when the scale shrinks, `None` when the mantissa
/// no longer fits 38 digits.
#[must_use]
pub fn rescale(d: Decimal, scale: u8) -> Option<Decimal> {
    let mantissa = if scale >= d.scale {
        d.mantissa
            .checked_mul(pow10(u32::from(scale - d.scale)))
            .filter(|m| digit_count(*m) <= 38)?
    } else {
        div_pow10_round(d.mantissa, u32::from(d.scale - scale))
    };
    Some(Decimal { mantissa, scale })
}

/// Truncates toward zero to an integer.
#[must_use]
pub fn truncate(d: Decimal) -> i128 {
    d.mantissa / pow10(u32::from(d.scale))
}

#[must_use]
pub fn to_f64(d: Decimal) -> f64 {
    d.mantissa as f64 / 10f64.powi(i32::from(d.scale))
}

/// A float as a decimal of the given scale, rounded; `None` if too large for 38 digits.
#[must_use]
pub fn from_f64(v: f64, scale: u8) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    let scaled = (v * 10f64.powi(i32::from(scale))).round();
    if scaled.abs() >= 1e38 {
        return None;
    }
    Some(Decimal {
        mantissa: scaled as i128,
        scale,
    })
}

/// `-12.50`, `0.50`: the text CAST gives.
#[must_use]
pub fn decimal_text(d: Decimal) -> String {
    let digits = d.mantissa.unsigned_abs().to_string();
    let scale = usize::from(d.scale);
    let sign = if d.mantissa < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// Strips leading and trailing blanks the way CAST does (spaces, tabs and line ends).
fn blank_trimmed(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// A decimal string (`-12.5`, `.5`, `5.`, ` +3 `): `None` when it is not one. Digits past 38
/// significant ones round away.
#[must_use]
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = blank_trimmed(s);
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > 38 {
        return Some(Decimal {
            mantissa: i128::MAX,
            scale: 0,
        });
    }
    // Keep at most 38 significant digits.
    let room = 38 - int.len();
    let kept = &frac[..frac.len().min(room)];
    let mut mantissa: i128 = 0;
    for b in int.bytes().chain(kept.bytes()) {
        mantissa = mantissa * 10 + i128::from(b - b'0');
    }
    if frac.len() > kept.len() && frac.as_bytes()[kept.len()] >= b'5' {
        mantissa += 1;
    }
    Some(Decimal {
        mantissa: if negative { -mantissa } else { mantissa },
        scale: kept.len() as u8,
    })
}

/// An integer string for CAST to an integer type: `Some(Ok(n))`, `Some(Err(()))` when it is
/// an integer too large for i64, `None` when it is not an integer. An empty or sign-only
/// string is 0, as in SQL Server.
#[must_use]
pub fn parse_integer(s: &str) -> Option<Result<i64, ()>> {
    let s = blank_trimmed(s);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i128 = 0;
    for b in digits.bytes() {
        n = n * 10 + i128::from(b - b'0');
        if n > i128::from(u64::MAX) {
            return Some(Err(()));
        }
    }
    let n = if negative { -n } else { n };
    Some(i64::try_from(n).map_err(|_| ()))
}

/// A float string (`1.5`, `-2e10`, `.5E-3`, empty is 0); `None` when it is not one.
#[must_use]
pub fn parse_float(s: &str) -> Option<f64> {
    let s = blank_trimmed(s);
    if s.is_empty() {
        return Some(0.0);
    }
    let valid = s
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && s.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A money string: like a decimal, also with a leading currency sign and thousands commas.
#[must_use]
pub fn parse_money(s: &str) -> Option<Decimal> {
    let s = blank_trimmed(s);
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let s = s.strip_prefix('$').unwrap_or(s);
    let cleaned: String = s.chars().filter(|&c| c != ',').collect();
    if cleaned.is_empty() {
        return Some(Decimal {
            mantissa: 0,
            scale: 4,
        });
    }
    if cleaned.starts_with(['+', '-']) {
        return None;
    }
    let d = rescale(parse_decimal(&cleaned)?, 4)?;
    Some(Decimal {
        mantissa: if negative { -d.mantissa } else { d.mantissa },
        scale: 4,
    })
}

/// C's `%.{digits}g` with Windows' three-digit exponent (`1.23457e+006`), as CONVERT style 0
/// prints float and real.
#[must_use]
pub fn float_g(v: f64, digits: usize) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    let digits = digits.max(1);
    let sci = format!("{:.*e}", digits - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= digits as i32 {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:03}", exp.unsigned_abs())
    } else {
        let decimals = (digits as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_owned()
    }
}

/// Scientific notation with a fixed number of mantissa digits (CONVERT styles 1 and 2).
#[must_use]
pub fn float_scientific(v: f64, digits: usize) -> String {
    let sci = format!("{:.*e}", digits.max(1) - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:03}", exp.unsigned_abs())
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Money as CONVERT prints it: style 0 two decimals, 1 with thousands commas, 2 four decimals.
#[must_use]
pub fn money_text(d: Decimal, style: i64) -> String {
    let d4 = rescale(d, 4).unwrap_or(d);
    match style {
        2 => decimal_text(d4),
        1 => {
            let d2 = rescale(d4, 2).unwrap_or(d4);
            let text = decimal_text(Decimal {
                mantissa: d2.mantissa.abs(),
                scale: 2,
            });
            let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
            let mut grouped = String::new();
            for (i, c) in int.chars().enumerate() {
                if i > 0 && (int.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            let sign = if d2.mantissa < 0 { "-" } else { "" };
            format!("{sign}{grouped}.{frac}")
        }
        _ => decimal_text(rescale(d4, 2).unwrap_or(d4)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(m: i128, s: u8) -> Decimal {
        Decimal {
            mantissa: m,
            scale: s,
        }
    }

    #[test]
    fn decimal_text_and_parse() {
        assert_eq!(decimal_text(dec(150, 2)), "1.50");
        assert_eq!(decimal_text(dec(-5, 2)), "-0.05");
        assert_eq!(decimal_text(dec(42, 0)), "42");
        assert_eq!(parse_decimal(" -12.50 "), Some(dec(-1250, 2)));
        assert_eq!(parse_decimal(".5"), Some(dec(5, 1)));
        assert_eq!(parse_decimal("5."), Some(dec(5, 0)));
        assert_eq!(parse_decimal("1e3"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("."), None);
        assert_eq!(parse_decimal("--1"), None);
    }

    #[test]
    fn rescale_rounds_half_away_from_zero() {
        assert_eq!(rescale(dec(125, 2), 1), Some(dec(13, 1)));
        assert_eq!(rescale(dec(-125, 2), 1), Some(dec(-13, 1)));
        assert_eq!(rescale(dec(124, 2), 1), Some(dec(12, 1)));
        assert_eq!(rescale(dec(12, 1), 3), Some(dec(1200, 3)));
        assert_eq!(rescale(dec(i128::MAX / 10, 0), 5), None);
        assert!(fits(dec(999, 1), 3));
        assert!(!fits(dec(1000, 1), 3));
        assert_eq!(truncate(dec(-199, 2)), -1);
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer(" 12 "), Some(Ok(12)));
        assert_eq!(parse_integer("-"), Some(Ok(0)));
        assert_eq!(parse_integer(""), Some(Ok(0)));
        assert_eq!(parse_integer("1.0"), None);
        assert_eq!(parse_integer("99999999999999999999999"), Some(Err(())));
        assert_eq!(parse_integer("a"), None);
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float(""), Some(0.0));
        assert_eq!(parse_float("abc"), None);
        assert_eq!(parse_float("1e999"), None);
        assert_eq!(float_g(123_456_789.123_456_79, 6), "1.23457e+008");
        assert_eq!(float_g(1234.123456789, 6), "1234.12");
        assert_eq!(float_g(0.1, 6), "0.1");
        assert_eq!(float_g(0.00001, 6), "1e-005");
        assert_eq!(float_g(100.0, 6), "100");
        assert_eq!(float_g(-2.5, 6), "-2.5");
        assert_eq!(
            float_scientific(123_456_789.123_456_79, 8),
            "1.2345679e+008"
        );
        assert_eq!(
            float_scientific(123_456_789.123_456_79, 16),
            "1.234567891234568e+008"
        );
    }

    #[test]
    fn money() {
        assert_eq!(parse_money("$1,234.5"), Some(dec(12_345_000, 4)));
        assert_eq!(parse_money("-$1"), Some(dec(-10_000, 4)));
        assert_eq!(parse_money("x"), None);
        assert_eq!(money_text(dec(12_345_678, 4), 0), "1234.57");
        assert_eq!(money_text(dec(12_345_678_900, 4), 1), "1,234,567.89");
        assert_eq!(money_text(dec(12_345_678, 4), 2), "1234.5678");
    }
}
