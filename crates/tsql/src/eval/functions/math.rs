//! Mathematical functions: ABS, CEILING, FLOOR, ROUND, POWER, SQRT, SIGN and the float ones,
//! each keeping SQL Server's result type (ROUND of a decimal stays a decimal and can overflow).

use crate::messages::SqlMessage;
use crate::value::convert::{self, base_name, check_integer, numeric};
use crate::value::{Decimal, SqlType, Value};

use super::{arity, bad_argument, float_arg, int_arg};
use crate::eval::types::decimal;
use crate::eval::{Evaluator, Typed, errors};

/// 3623
fn invalid_float_operation() -> SqlMessage {
    SqlMessage::new(
        3623,
        16,
        1,
        0,
        "An invalid floating point operation occurred.",
    )
}

/// A numeric argument: strings read as float, as SQL Server reads them for math functions.
fn numeric_arg(name: &str, (ty, v): &Typed) -> Result<Typed, SqlMessage> {
    if ty.is_numeric() && *ty != SqlType::Bit {
        Ok((*ty, v.clone()))
    } else if ty.is_string() || *ty == SqlType::Bit {
        Ok((SqlType::Float, convert::implicit(v, *ty, SqlType::Float)?))
    } else {
        Err(bad_argument(*ty, 1, name))
    }
}

fn float(f: Option<f64>) -> Result<Typed, SqlMessage> {
    match f {
        Some(f) if !f.is_finite() => Err(invalid_float_operation()),
        f => Ok((SqlType::Float, f.map_or(Value::Null, Value::Float))),
    }
}

/// Rounds (or truncates) a decimal to `places` digits after the point, keeping its scale.
fn round_decimal(d: Decimal, places: i64, truncate: bool) -> Option<Decimal> {
    let drop = i64::from(d.scale) - places;
    if drop <= 0 {
        return Some(d);
    }
    if drop > 38 {
        return Some(Decimal {
            mantissa: 0,
            scale: d.scale,
        });
    }
    let p = numeric::pow10(drop as u32);
    let kept = if truncate {
        d.mantissa / p
    } else {
        numeric::div_pow10_round(d.mantissa, drop as u32)
    };
    Some(Decimal {
        mantissa: kept.checked_mul(p)?,
        scale: d.scale,
    })
}

pub(super) fn call(
    ev: &mut Evaluator,
    name: &str,
    args: &[Typed],
) -> Result<Option<Typed>, SqlMessage> {
    let result = match name {
        "ABS" | "CEILING" | "FLOOR" | "SIGN" => {
            arity(name, args.len(), 1, 1)?;
            let (ty, v) = numeric_arg(name, &args[0])?;
            unary_numeric(name, ty, v)?
        }
        "ROUND" => {
            arity("round", args.len(), 2, 3)?;
            let (ty, v) = numeric_arg("round", &args[0])?;
            let places = int_arg(&args[1])?;
            let truncate = match args.get(2) {
                Some(a) => int_arg(a)?.is_some_and(|n| n != 0),
                None => false,
            };
            let Some(places) = places else {
                return Ok(Some((ty, Value::Null)));
            };
            let value = match v {
                Value::Int(n) if places < 0 => {
                    let d = Decimal {
                        mantissa: i128::from(n),
                        scale: 0,
                    };
                    let factor = numeric::pow10(places.unsigned_abs().min(38) as u32);
                    let rounded = if truncate {
                        d.mantissa / factor * factor
                    } else {
                        numeric::div_pow10_round(d.mantissa, places.unsigned_abs().min(38) as u32)
                            * factor
                    };
                    check_integer(rounded, ty)?
                }
                Value::Decimal(d) => {
                    let r = round_decimal(d, places, truncate)
                        .filter(|r| match ty {
                            SqlType::Decimal { precision, .. } => numeric::fits(*r, precision),
                            _ => true,
                        })
                        .ok_or_else(|| errors::overflow_converting("expression", base_name(ty)))?;
                    Value::Decimal(r)
                }
                Value::Float(f) => {
                    let factor = 10f64.powi(places.clamp(-308, 308) as i32);
                    let scaled = f * factor;
                    let r = if truncate {
                        scaled.trunc()
                    } else {
                        scaled.round()
                    };
                    Value::Float(r / factor)
                }
                other => other,
            };
            (ty, value)
        }
        "POWER" => {
            arity("power", args.len(), 2, 2)?;
            let (ty, _) = numeric_arg("power", &args[0])?;
            let out_ty = match ty {
                SqlType::Decimal { scale, .. } => decimal(38, scale),
                SqlType::Real => SqlType::Float,
                t => t,
            };
            let (Some(x), Some(y)) = (float_arg(&args[0])?, float_arg(&args[1])?) else {
                return Ok(Some((out_ty, Value::Null)));
            };
            let f = x.powf(y);
            if !f.is_finite() {
                return Err(if f.is_nan() {
                    invalid_float_operation()
                } else {
                    errors::overflow_converting("float", base_name(out_ty))
                });
            }
            (
                out_ty,
                convert::cast(&Value::Float(f), SqlType::Float, out_ty)?,
            )
        }
        "SQRT" | "SQUARE" | "EXP" | "LOG10" | "SIN" | "COS" | "TAN" | "ASIN" | "ACOS" | "ATAN"
        | "COT" | "DEGREES" | "RADIANS" => {
            arity(name, args.len(), 1, 1)?;
            let x = float_arg(&args[0])?;
            float(x.map(|x| match name {
                "SQRT" if x < 0.0 => f64::NAN,
                "SQRT" => x.sqrt(),
                "SQUARE" => x * x,
                "EXP" => x.exp(),
                "LOG10" if x <= 0.0 => f64::NAN,
                "LOG10" => x.log10(),
                "SIN" => x.sin(),
                "COS" => x.cos(),
                "TAN" => x.tan(),
                "ASIN" => x.asin(),
                "ACOS" => x.acos(),
                "ATAN" => x.atan(),
                "COT" => 1.0 / x.tan(),
                "DEGREES" => x.to_degrees(),
                _ => x.to_radians(),
            }))?
        }
        "LOG" => {
            arity("log", args.len(), 1, 2)?;
            let x = float_arg(&args[0])?;
            let base = match args.get(1) {
                Some(b) => float_arg(b)?,
                None => Some(std::f64::consts::E),
            };
            float(match (x, base) {
                (Some(x), Some(_)) if x <= 0.0 => Some(f64::NAN),
                (Some(x), Some(b)) => Some(x.ln() / b.ln()),
                _ => None,
            })?
        }
        "ATN2" => {
            arity("atn2", args.len(), 2, 2)?;
            match (float_arg(&args[0])?, float_arg(&args[1])?) {
                (Some(y), Some(x)) => float(Some(y.atan2(x)))?,
                _ => float(None)?,
            }
        }
        "PI" => {
            arity("pi", args.len(), 0, 0)?;
            float(Some(std::f64::consts::PI))?
        }
        "RAND" => {
            arity("rand", args.len(), 0, 1)?;
            if ev.type_only {
                (SqlType::Float, Value::Null)
            } else {
                let bits = ev.env.random_u128() >> 75;
                float(Some(bits as f64 / (1u64 << 53) as f64))?
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

fn unary_numeric(name: &str, ty: SqlType, v: Value) -> Result<Typed, SqlMessage> {
    let out_ty = match (name, ty) {
        ("CEILING" | "FLOOR", SqlType::Decimal { precision, scale }) => {
            decimal((precision - scale + 1).min(38), 0)
        }
        _ => ty,
    };
    let value = match v {
        Value::Int(n) => {
            let r = match name {
                "ABS" => i128::from(n).abs(),
                "SIGN" => i128::from(n.signum()),
                _ => i128::from(n),
            };
            check_integer(r, ty)?
        }
        Value::Decimal(d) => {
            let p = numeric::pow10(u32::from(d.scale));
            let m = d.mantissa;
            let out = match name {
                "ABS" => Decimal {
                    mantissa: m.abs(),
                    scale: d.scale,
                },
                "SIGN" => Decimal {
                    mantissa: m.signum() * p,
                    scale: d.scale,
                },
                "CEILING" => Decimal {
                    mantissa: m.div_euclid(p) + i128::from(m.rem_euclid(p) != 0),
                    scale: 0,
                },
                _ => Decimal {
                    mantissa: m.div_euclid(p),
                    scale: 0,
                },
            };
            let out = if ty == SqlType::Money {
                numeric::rescale(out, 4).unwrap_or(out)
            } else {
                out
            };
            Value::Decimal(out)
        }
        Value::Float(f) => Value::Float(match name {
            "ABS" => f.abs(),
            "SIGN" if f == 0.0 => 0.0,
            "SIGN" => f.signum(),
            "CEILING" => f.ceil(),
            _ => f.floor(),
        }),
        other => other,
    };
    Ok((out_ty, value))
}
