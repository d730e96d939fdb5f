//! Each type's text as sqlcmd prints it in a result set (through the ODBC driver's character
//! conversion, which differs from CAST to varchar): `datetime` as `2024-05-01 10:30:00.000`,
//! `datetime2(7)` with seven fractional digits, `numeric`/`money` with their scale and no
//! leading zero before the point (`.50`), float with up to 17 significant digits (`1.0`,
//! `0.10000000000000001`, `1.0E+20`), binary as `0x0A0B`, GUIDs in upper case, NULL as `NULL`.

use crate::value::convert::{numeric, text, variant_base_type};
use crate::value::datetime::DateTime;
use crate::value::{SqlType, Value};

/// The text sqlcmd shows for a value of a declared type.
#[must_use]
pub fn sqlcmd_text(value: &Value, ty: SqlType) -> String {
    let ty = if ty == SqlType::SqlVariant {
        variant_base_type(value)
    } else {
        ty
    };
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Bit(b) => u8::from(*b).to_string(),
        Value::Int(n) => n.to_string(),
        Value::Decimal(d) => {
            let d = if ty == SqlType::Money {
                numeric::rescale(*d, 4).unwrap_or(*d)
            } else {
                *d
            };
            let text = numeric::decimal_text(d);
            // ODBC's numeric-to-char drops the zero before the point.
            if let Some(rest) = text.strip_prefix("0.") {
                format!(".{rest}")
            } else if let Some(rest) = text.strip_prefix("-0.") {
                format!("-.{rest}")
            } else {
                text
            }
        }
        Value::Float(f) if ty == SqlType::Real => float_text(f64::from(*f as f32), 7),
        Value::Float(f) => float_text(*f, 17),
        Value::String(s) => s.clone(),
        Value::Binary(b) => format!("0x{}", text::hex_upper(b)),
        Value::DateTime(dt) => datetime_text(*dt, ty),
        Value::Guid(g) => text::guid_text(g),
    }
}

/// A float with `digits` significant digits, trailing zeros dropped but one kept after the
/// point; scientific (`1.0E+20`) outside 1e-4 ..= 1e`digits`.
fn float_text(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0.0".to_owned();
    }
    let sci = format!("{:.*e}", digits - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let keep_one = |s: &str| -> String {
        let t = s.trim_end_matches('0');
        if t.ends_with('.') {
            format!("{t}0")
        } else {
            t.to_owned()
        }
    };
    if exp < -4 || exp >= digits as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}E{sign}{:02}", keep_one(mantissa), exp.unsigned_abs())
    } else {
        let decimals = (digits as i32 - 1 - exp).max(1) as usize;
        keep_one(&format!("{v:.decimals$}"))
    }
}

fn datetime_text(dt: DateTime, ty: SqlType) -> String {
    let style = match ty {
        SqlType::DateTime | SqlType::SmallDateTime | SqlType::Date | SqlType::Time(_) => 121,
        SqlType::DateTime2(_) | SqlType::DateTimeOffset(_) => 121,
        // A date/time value under another declared type: show it as datetime2.
        _ => {
            return text::datetime_text(dt, SqlType::DateTime2(7), Some(121), 0)
                .unwrap_or_default();
        }
    };
    text::datetime_text(dt, ty, Some(style), 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Decimal;

    fn dt() -> Value {
        Value::DateTime(DateTime::from_parts(2024, 5, 1, 10, 30, 0, 1_234_567).unwrap())
    }

    #[test]
    fn dates() {
        assert_eq!(
            sqlcmd_text(&dt(), SqlType::DateTime),
            "2024-05-01 10:30:00.123"
        );
        assert_eq!(
            sqlcmd_text(&dt(), SqlType::DateTime2(7)),
            "2024-05-01 10:30:00.1234567"
        );
        assert_eq!(
            sqlcmd_text(&dt(), SqlType::SmallDateTime),
            "2024-05-01 10:30:00"
        );
        assert_eq!(sqlcmd_text(&dt(), SqlType::Date), "2024-05-01");
        assert_eq!(sqlcmd_text(&dt(), SqlType::Time(7)), "10:30:00.1234567");
        assert_eq!(
            sqlcmd_text(&dt(), SqlType::DateTimeOffset(7)),
            "2024-05-01 10:30:00.1234567 +00:00"
        );
    }

    #[test]
    fn numbers() {
        let d = |m, s| {
            Value::Decimal(Decimal {
                mantissa: m,
                scale: s,
            })
        };
        let numeric = SqlType::Decimal {
            precision: 5,
            scale: 2,
        };
        assert_eq!(sqlcmd_text(&d(150, 2), numeric), "1.50");
        assert_eq!(sqlcmd_text(&d(50, 2), numeric), ".50");
        assert_eq!(sqlcmd_text(&d(-50, 2), numeric), "-.50");
        assert_eq!(sqlcmd_text(&d(15, 1), SqlType::Money), "1.5000");
        assert_eq!(sqlcmd_text(&Value::Bit(true), SqlType::Bit), "1");
        assert_eq!(sqlcmd_text(&Value::Int(-7), SqlType::Int), "-7");
        assert_eq!(sqlcmd_text(&Value::Float(1.0), SqlType::Float), "1.0");
        assert_eq!(
            sqlcmd_text(&Value::Float(std::f64::consts::PI), SqlType::Float),
            "3.1415926535897931"
        );
        assert_eq!(sqlcmd_text(&Value::Float(1e20), SqlType::Float), "1.0E+20");
        assert_eq!(sqlcmd_text(&Value::Float(0.5), SqlType::Float), "0.5");
        assert_eq!(sqlcmd_text(&Value::Float(0.1), SqlType::Real), "0.1");
        assert_eq!(sqlcmd_text(&Value::Float(0.0), SqlType::Float), "0.0");
    }

    #[test]
    fn others() {
        assert_eq!(sqlcmd_text(&Value::Null, SqlType::Int), "NULL");
        assert_eq!(
            sqlcmd_text(&Value::Binary(vec![10, 11]), SqlType::VarBinary(Some(2))),
            "0x0A0B"
        );
        let g = text::parse_guid("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap();
        assert_eq!(
            sqlcmd_text(&Value::Guid(g), SqlType::UniqueIdentifier),
            "6F9619FF-8B86-D011-B42D-00C04FC964FF"
        );
        assert_eq!(sqlcmd_text(&Value::Int(5), SqlType::SqlVariant), "5");
    }
}
