//! Static types: literals, the result type of two types meeting (CASE, COALESCE, UNION,
//! comparisons), and the precision/scale rules of decimal arithmetic ("Precision, scale, and
//! length (Transact-SQL)").

use crate::ast::Literal;
use crate::messages::SqlMessage;
use crate::value::convert::numeric::{self, MAX_PRECISION};
use crate::value::{Decimal, SqlType, Value};

/// The precision and scale an exact numeric type has as a decimal (int is decimal(10,0)).
#[must_use]
pub fn as_decimal_type(ty: SqlType) -> Option<(u8, u8)> {
    Some(match ty {
        SqlType::Bit => (1, 0),
        SqlType::TinyInt => (3, 0),
        SqlType::SmallInt => (5, 0),
        SqlType::Int => (10, 0),
        SqlType::BigInt => (19, 0),
        SqlType::Money => (19, 4),
        SqlType::Decimal { precision, scale } => (precision, scale),
        _ => return None,
    })
}

#[must_use]
pub fn decimal(precision: u8, scale: u8) -> SqlType {
    let precision = precision.clamp(1, MAX_PRECISION);
    SqlType::Decimal {
        precision,
        scale: scale.min(precision),
    }
}

/// A string literal's type: varchar(n)/nvarchar(n), `(max)` past 8000 bytes / 4000 characters.
#[must_use]
pub fn string_literal_type(value: &str, unicode: bool) -> SqlType {
    let n = value.chars().count().max(1);
    if unicode {
        SqlType::NVarChar((n <= 4000).then_some(n as u32))
    } else {
        SqlType::VarChar((n <= 8000).then_some(n as u32))
    }
}

/// A literal's type and value.
pub fn literal(lit: &Literal) -> Result<(SqlType, Value), SqlMessage> {
    Ok(match lit {
        Literal::Null => (SqlType::Int, Value::Null),
        Literal::Integer(n) => {
            if i32::try_from(*n).is_ok() {
                (SqlType::Int, Value::Int(*n))
            } else {
                // SQL Server types an integer constant beyond int as numeric(p, 0).
                let digits = numeric::digit_count(i128::from(*n)).max(1) as u8;
                (
                    decimal(digits, 0),
                    Value::Decimal(Decimal {
                        mantissa: i128::from(*n),
                        scale: 0,
                    }),
                )
            }
        }
        Literal::Decimal(text) => {
            let d = numeric::parse_decimal(text)
                .filter(|d| d.mantissa != i128::MAX)
                .ok_or_else(|| number_out_of_range(text))?;
            let digits = numeric::digit_count(d.mantissa) as u8;
            let precision = digits.max(d.scale).max(1);
            if precision > MAX_PRECISION {
                return Err(number_out_of_range(text));
            }
            (decimal(precision, d.scale), Value::Decimal(d))
        }
        Literal::Float(f) => (SqlType::Float, Value::Float(*f)),
        Literal::String { value, unicode } => (
            string_literal_type(value, *unicode),
            Value::String(value.clone()),
        ),
        Literal::Binary(bytes) => {
            let n = bytes.len().max(1);
            (
                SqlType::VarBinary((n <= 8000).then_some(n as u32)),
                Value::Binary(bytes.clone()),
            )
        }
        Literal::Money(text) => {
            let d = numeric::parse_money(text)
                .filter(|d| d.mantissa.unsigned_abs() <= i64::MAX as u128)
                .ok_or_else(|| {
                    SqlMessage::new(
                        151,
                        15,
                        1,
                        0,
                        format!("'{text}' is an invalid money value."),
                    )
                })?;
            (SqlType::Money, Value::Decimal(d))
        }
    })
}

/// 1007
fn number_out_of_range(text: &str) -> SqlMessage {
    SqlMessage::new(
        1007,
        15,
        1,
        0,
        format!(
            "The number '{text}' is out of the range for numeric representation (maximum precision 38)."
        ),
    )
}

fn length(ty: SqlType) -> Option<u32> {
    match ty {
        SqlType::Char(n) | SqlType::NChar(n) | SqlType::Binary(n) => Some(n),
        SqlType::VarChar(n) | SqlType::NVarChar(n) | SqlType::VarBinary(n) => n,
        _ => None,
    }
}

fn is_max(ty: SqlType) -> bool {
    matches!(
        ty,
        SqlType::VarChar(None) | SqlType::NVarChar(None) | SqlType::VarBinary(None)
    )
}

/// The type two expressions share where SQL Server combines them (CASE branches, COALESCE,
/// UNION columns, both sides of a comparison): the type of higher precedence, widened to hold
/// both (longest string, decimal holding both integral and fractional digits).
#[must_use]
pub fn common_type(a: SqlType, b: SqlType) -> SqlType {
    if a == b {
        return a;
    }
    let (hi, lo) = if b.precedence() > a.precedence() {
        (b, a)
    } else {
        (a, b)
    };
    if hi.is_string() && lo.is_string() || hi.is_binary() && lo.is_binary() {
        let max = is_max(a) || is_max(b);
        let n = length(a).unwrap_or(1).max(length(b).unwrap_or(1));
        let variable = !matches!(
            (a, b),
            (
                SqlType::Char(_) | SqlType::NChar(_),
                SqlType::Char(_) | SqlType::NChar(_)
            ) | (SqlType::Binary(_), SqlType::Binary(_))
        );
        let unicode = a.is_unicode() || b.is_unicode();
        return match (hi.is_binary(), unicode, variable) {
            (true, _, true) => SqlType::VarBinary((!max).then_some(n.min(8000))),
            (true, _, false) => SqlType::Binary(n.min(8000)),
            (false, true, true) => SqlType::NVarChar((!max && n <= 4000).then_some(n)),
            (false, true, false) => SqlType::NChar(n.min(4000)),
            (false, false, true) => SqlType::VarChar((!max).then_some(n.min(8000))),
            (false, false, false) => SqlType::Char(n.min(8000)),
        };
    }
    if matches!(hi, SqlType::Decimal { .. })
        && let (Some((p1, s1)), Some((p2, s2))) = (as_decimal_type(a), as_decimal_type(b))
    {
        let scale = s1.max(s2);
        let integral = (p1 - s1).max(p2 - s2);
        let precision = (integral + scale).min(MAX_PRECISION);
        return decimal(precision, scale.min(precision));
    }
    match (a, b) {
        (SqlType::DateTime2(x), SqlType::DateTime2(y))
        | (SqlType::Time(x), SqlType::Time(y))
        | (SqlType::DateTimeOffset(x), SqlType::DateTimeOffset(y)) => match hi {
            SqlType::DateTime2(_) => SqlType::DateTime2(x.max(y)),
            SqlType::Time(_) => SqlType::Time(x.max(y)),
            _ => SqlType::DateTimeOffset(x.max(y)),
        },
        _ => hi,
    }
}

/// Decimal arithmetic's result type before the 38-digit cap: (precision, scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalOp {
    AddSubtract,
    Multiply,
    Divide,
    Modulo,
}

/// The result type of `decimal(p1,s1) op decimal(p2,s2)`, scale reduced as SQL Server reduces
/// it when the precision passes 38.
#[must_use]
pub fn decimal_result(op: DecimalOp, (p1, s1): (u8, u8), (p2, s2): (u8, u8)) -> (u8, u8) {
    let (p1, s1, p2, s2) = (i32::from(p1), i32::from(s1), i32::from(p2), i32::from(s2));
    let (p, s) = match op {
        DecimalOp::AddSubtract => {
            let s = s1.max(s2);
            ((p1 - s1).max(p2 - s2) + s + 1, s)
        }
        DecimalOp::Multiply => (p1 + p2 + 1, s1 + s2),
        DecimalOp::Divide => {
            let s = 6.max(s1 + p2 + 1);
            (p1 - s1 + s2 + s, s)
        }
        DecimalOp::Modulo => {
            let s = s1.max(s2);
            ((p1 - s1).min(p2 - s2) + s, s)
        }
    };
    if p <= 38 {
        return (p.max(1) as u8, s as u8);
    }
    let integral = p - s;
    let s = match op {
        DecimalOp::AddSubtract | DecimalOp::Modulo => s.min(38 - integral.min(38)),
        _ if integral < 32 => s.min(38 - integral),
        _ if s < 6 => s,
        _ => 6,
    };
    (38, s.max(0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_types() {
        let t = |l: Literal| literal(&l).unwrap().0;
        assert_eq!(t(Literal::Integer(1)), SqlType::Int);
        assert_eq!(t(Literal::Integer(3_000_000_000)), decimal(10, 0));
        assert_eq!(t(Literal::Decimal("1.5".into())), decimal(2, 1));
        assert_eq!(t(Literal::Decimal("0.05".into())), decimal(2, 2));
        assert_eq!(t(Literal::Decimal("123.450".into())), decimal(6, 3));
        assert_eq!(
            t(Literal::String {
                value: "abc".into(),
                unicode: false
            }),
            SqlType::VarChar(Some(3))
        );
        assert_eq!(
            t(Literal::String {
                value: "abc".into(),
                unicode: true
            }),
            SqlType::NVarChar(Some(3))
        );
        assert_eq!(t(Literal::Binary(vec![1, 2])), SqlType::VarBinary(Some(2)));
        assert_eq!(t(Literal::Null), SqlType::Int);
        assert_eq!(t(Literal::Money("12.5".into())), SqlType::Money);
        assert_eq!(
            literal(&Literal::Decimal("1".repeat(40)))
                .unwrap_err()
                .number,
            1007
        );
    }

    #[test]
    fn common_types() {
        assert_eq!(
            common_type(SqlType::VarChar(Some(3)), SqlType::NVarChar(Some(2))),
            SqlType::NVarChar(Some(3))
        );
        assert_eq!(common_type(SqlType::Int, SqlType::BigInt), SqlType::BigInt);
        assert_eq!(common_type(SqlType::Int, decimal(2, 1)), decimal(11, 1));
        assert_eq!(
            common_type(SqlType::VarChar(Some(3)), SqlType::Int),
            SqlType::Int
        );
        assert_eq!(
            common_type(SqlType::DateTime, SqlType::VarChar(Some(10))),
            SqlType::DateTime
        );
        assert_eq!(
            common_type(SqlType::DateTime2(3), SqlType::DateTime2(7)),
            SqlType::DateTime2(7)
        );
        assert_eq!(
            common_type(SqlType::VarChar(None), SqlType::VarChar(Some(3))),
            SqlType::VarChar(None)
        );
    }

    #[test]
    fn decimal_results() {
        use DecimalOp::*;
        assert_eq!(decimal_result(AddSubtract, (2, 1), (10, 0)), (12, 1));
        assert_eq!(decimal_result(Multiply, (2, 1), (2, 1)), (5, 2));
        // 1.0 / 3 → numeric(8,6)
        assert_eq!(decimal_result(Divide, (2, 1), (10, 0)), (13, 12));
        assert_eq!(decimal_result(Divide, (38, 10), (38, 10)), (38, 6));
        assert_eq!(decimal_result(Multiply, (38, 10), (38, 10)), (38, 6));
        assert_eq!(decimal_result(AddSubtract, (38, 10), (38, 10)), (38, 9));
    }
}
