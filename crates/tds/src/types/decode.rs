//! The TYPE_INFO and value of an RPC parameter, as a `(SqlType, Value)`.

use tsql::value::{DateTime, Decimal, SqlType, Value};

use super::temporal::{read_date, read_datetime, read_smalldatetime, read_time, time_len};
use super::{MAX_MARKER, PLP_NULL, code};
use crate::error::{Result, TdsError};
use crate::wire::{Reader, cp1252_decode, ucs2_decode};

/// How a parameter's value is laid out, from its TYPE_INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// No length prefix: exactly this many bytes.
    Fixed(usize),
    /// A one-byte length, 0 for NULL.
    ByteLen,
    /// A two-byte length, 0xFFFF for NULL.
    UShortLen,
    /// A four-byte length, 0xFFFFFFFF (or 0 for sql_variant) for NULL.
    LongLen,
    Plp,
}

/// One decoded TYPE_INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    pub code: u8,
    pub ty: SqlType,
    layout: Layout,
    unicode: bool,
}

pub(crate) fn read_type_info(r: &mut Reader<'_>) -> Result<TypeInfo> {
    let type_code = r.u8()?;
    let fixed = |ty: SqlType, len: usize| (ty, Layout::Fixed(len));
    let (ty, layout) = match type_code {
        code::NULL => fixed(SqlType::Int, 0),
        code::INT1 => fixed(SqlType::TinyInt, 1),
        code::BIT => fixed(SqlType::Bit, 1),
        code::INT2 => fixed(SqlType::SmallInt, 2),
        code::INT4 => fixed(SqlType::Int, 4),
        code::INT8 => fixed(SqlType::BigInt, 8),
        code::FLT4 => fixed(SqlType::Real, 4),
        code::FLT8 => fixed(SqlType::Float, 8),
        code::MONEY => fixed(SqlType::Money, 8),
        code::MONEY4 => fixed(SqlType::Money, 4),
        code::DATETIME => fixed(SqlType::DateTime, 8),
        code::DATETIM4 => fixed(SqlType::SmallDateTime, 4),
        code::INTN => {
            let ty = match r.u8()? {
                1 => SqlType::TinyInt,
                2 => SqlType::SmallInt,
                4 => SqlType::Int,
                8 => SqlType::BigInt,
                n => return Err(r.error(format!("INTN of length {n}"))),
            };
            (ty, Layout::ByteLen)
        }
        code::BITN => {
            r.u8()?;
            (SqlType::Bit, Layout::ByteLen)
        }
        code::FLTN => {
            let ty = if r.u8()? == 4 {
                SqlType::Real
            } else {
                SqlType::Float
            };
            (ty, Layout::ByteLen)
        }
        code::MONEYN => {
            r.u8()?;
            (SqlType::Money, Layout::ByteLen)
        }
        code::DATETIMN => {
            let ty = if r.u8()? == 4 {
                SqlType::SmallDateTime
            } else {
                SqlType::DateTime
            };
            (ty, Layout::ByteLen)
        }
        code::GUID => {
            r.u8()?;
            (SqlType::UniqueIdentifier, Layout::ByteLen)
        }
        code::DECIMALN | code::NUMERICN => {
            let _len = r.u8()?;
            let precision = r.u8()?;
            let scale = r.u8()?;
            if !(1..=38).contains(&precision) || scale > precision {
                return Err(r.error(format!("decimal({precision},{scale})")));
            }
            (SqlType::Decimal { precision, scale }, Layout::ByteLen)
        }
        code::DATEN => (SqlType::Date, Layout::ByteLen),
        code::TIMEN | code::DATETIME2N | code::DATETIMEOFFSETN => {
            let scale = r.u8()?;
            if scale > 7 {
                return Err(r.error(format!("time scale {scale}")));
            }
            let ty = match type_code {
                code::TIMEN => SqlType::Time(scale),
                code::DATETIME2N => SqlType::DateTime2(scale),
                _ => SqlType::DateTimeOffset(scale),
            };
            (ty, Layout::ByteLen)
        }
        code::BIGVARCHR | code::BIGCHAR | code::NVARCHAR | code::NCHAR => {
            let max = r.u16_le()?;
            let _collation: [u8; 5] = r.array()?;
            let unicode = matches!(type_code, code::NVARCHAR | code::NCHAR);
            let chars = u32::from(max) / if unicode { 2 } else { 1 };
            let ty = match (type_code, max) {
                (code::BIGVARCHR, MAX_MARKER) => SqlType::VarChar(None),
                (code::NVARCHAR, MAX_MARKER) => SqlType::NVarChar(None),
                (code::BIGVARCHR, _) => SqlType::VarChar(Some(chars.max(1))),
                (code::NVARCHAR, _) => SqlType::NVarChar(Some(chars.max(1))),
                (code::BIGCHAR, _) => SqlType::Char(chars.max(1)),
                _ => SqlType::NChar(chars.max(1)),
            };
            let layout = if max == MAX_MARKER {
                Layout::Plp
            } else {
                Layout::UShortLen
            };
            return Ok(TypeInfo {
                code: type_code,
                ty,
                layout,
                unicode,
            });
        }
        code::BIGVARBIN | code::BIGBINARY => {
            let max = r.u16_le()?;
            let ty = match (type_code, max) {
                (code::BIGVARBIN, MAX_MARKER) => SqlType::VarBinary(None),
                (code::BIGVARBIN, n) => SqlType::VarBinary(Some(u32::from(n).max(1))),
                (_, n) => SqlType::Binary(u32::from(n).max(1)),
            };
            let layout = if max == MAX_MARKER {
                Layout::Plp
            } else {
                Layout::UShortLen
            };
            (ty, layout)
        }
        code::TEXT | code::NTEXT => {
            let _max = r.u32_le()?;
            let _collation: [u8; 5] = r.array()?;
            let unicode = type_code == code::NTEXT;
            let ty = if unicode {
                SqlType::NVarChar(None)
            } else {
                SqlType::VarChar(None)
            };
            return Ok(TypeInfo {
                code: type_code,
                ty,
                layout: Layout::LongLen,
                unicode,
            });
        }
        code::IMAGE => {
            let _max = r.u32_le()?;
            (SqlType::VarBinary(None), Layout::LongLen)
        }
        code::SSVARIANT => {
            let _max = r.u32_le()?;
            (SqlType::SqlVariant, Layout::LongLen)
        }
        code::XML => {
            if r.u8()? != 0 {
                r.b_varchar()?;
                r.b_varchar()?;
                r.us_varchar()?;
            }
            return Ok(TypeInfo {
                code: type_code,
                ty: SqlType::NVarChar(None),
                layout: Layout::Plp,
                unicode: true,
            });
        }
        other => {
            return Err(TdsError::Unsupported(format!(
                "parameter type 0x{other:02X}"
            )));
        }
    };
    Ok(TypeInfo {
        code: type_code,
        ty,
        layout,
        unicode: false,
    })
}

/// Reads a value laid out as `info` says.
pub(crate) fn read_value(r: &mut Reader<'_>, info: &TypeInfo) -> Result<Value> {
    let bytes: Vec<u8> = match info.layout {
        Layout::Fixed(0) => return Ok(Value::Null),
        Layout::Fixed(n) => r.bytes(n)?.to_vec(),
        Layout::ByteLen => match r.u8()? {
            0 => return Ok(Value::Null),
            n => r.bytes(usize::from(n))?.to_vec(),
        },
        Layout::UShortLen => match r.u16_le()? {
            MAX_MARKER => return Ok(Value::Null),
            n => r.bytes(usize::from(n))?.to_vec(),
        },
        Layout::LongLen => match r.u32_le()? {
            u32::MAX => return Ok(Value::Null),
            0 if info.ty == SqlType::SqlVariant => return Ok(Value::Null),
            n => r.bytes(n as usize)?.to_vec(),
        },
        Layout::Plp => match read_plp(r)? {
            None => return Ok(Value::Null),
            Some(b) => b,
        },
    };
    scalar(info.ty, info.unicode, &bytes).ok_or_else(|| {
        TdsError::malformed(
            "RPC parameter",
            format!("{} value of {} byte(s)", info.ty.sql_name(), bytes.len()),
        )
    })
}

/// PLP chunks. Only bytes actually present are kept: the announced total is not trusted.
fn read_plp(r: &mut Reader<'_>) -> Result<Option<Vec<u8>>> {
    let total = r.u64_le()?;
    if total == PLP_NULL {
        return Ok(None);
    }
    let mut out = Vec::new();
    loop {
        let chunk = r.u32_le()? as usize;
        if chunk == 0 {
            return Ok(Some(out));
        }
        out.extend_from_slice(r.bytes(chunk)?);
    }
}

fn le_int(bytes: &[u8]) -> Option<i64> {
    Some(match bytes.len() {
        1 => i64::from(bytes[0]),
        2 => i64::from(i16::from_le_bytes(bytes.try_into().ok()?)),
        4 => i64::from(i32::from_le_bytes(bytes.try_into().ok()?)),
        8 => i64::from_le_bytes(bytes.try_into().ok()?),
        _ => return None,
    })
}

fn scalar(ty: SqlType, unicode: bool, b: &[u8]) -> Option<Value> {
    Some(match ty {
        SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
            Value::Int(le_int(b)?)
        }
        SqlType::Bit => Value::Bit(*b.first()? != 0),
        SqlType::Real | SqlType::Float => Value::Float(match b.len() {
            4 => f64::from(f32::from_le_bytes(b.try_into().ok()?)),
            8 => f64::from_le_bytes(b.try_into().ok()?),
            _ => return None,
        }),
        SqlType::Money => {
            let units = match b.len() {
                4 => i64::from(i32::from_le_bytes(b.try_into().ok()?)),
                8 => {
                    let high = i64::from(i32::from_le_bytes(b[..4].try_into().ok()?));
                    let low = i64::from(u32::from_le_bytes(b[4..].try_into().ok()?));
                    (high << 32) | low
                }
                _ => return None,
            };
            Value::Decimal(Decimal {
                mantissa: i128::from(units),
                scale: 4,
            })
        }
        SqlType::Decimal { scale, .. } => {
            let (&sign, magnitude) = b.split_first()?;
            if magnitude.len() > 16 {
                return None;
            }
            let mut m = [0u8; 16];
            m[..magnitude.len()].copy_from_slice(magnitude);
            let magnitude = i128::try_from(u128::from_le_bytes(m)).ok()?;
            Value::Decimal(Decimal {
                mantissa: if sign == 0 { -magnitude } else { magnitude },
                scale,
            })
        }
        SqlType::UniqueIdentifier => {
            let wire: [u8; 16] = b.try_into().ok()?;
            Value::Guid(super::encode::guid_to_wire(&wire))
        }
        SqlType::DateTime => Value::DateTime(if b.len() == 4 {
            read_smalldatetime(b)?
        } else {
            read_datetime(b)?
        }),
        SqlType::SmallDateTime => Value::DateTime(if b.len() == 8 {
            read_datetime(b)?
        } else {
            read_smalldatetime(b)?
        }),
        SqlType::Date => Value::DateTime(DateTime::from_days(read_date(b)?)),
        SqlType::Time(s) => {
            (b.len() == time_len(s)).then_some(())?;
            Value::DateTime(DateTime {
                days: 0,
                ticks: read_time(b, s)?,
            })
        }
        SqlType::DateTime2(s) => {
            let t = time_len(s);
            (b.len() == t + 3).then_some(())?;
            Value::DateTime(DateTime {
                days: read_date(&b[t..])?,
                ticks: read_time(&b[..t], s)?,
            })
        }
        SqlType::DateTimeOffset(s) => {
            let t = time_len(s);
            (b.len() == t + 5).then_some(())?;
            let utc = DateTime {
                days: read_date(&b[t..t + 3])?,
                ticks: read_time(&b[..t], s)?,
            };
            let offset = i16::from_le_bytes(b[t + 3..].try_into().ok()?);
            // Values carry the local time (the offset itself is not kept).
            let local = utc.total_ticks() + i128::from(offset) * 60 * 10_000_000;
            Value::DateTime(DateTime::from_total_ticks(local)?)
        }
        t if t.is_string() => Value::String(if unicode || t.is_unicode() {
            ucs2_decode(b)
        } else {
            cp1252_decode(b)
        }),
        t if t.is_binary() => Value::Binary(b.to_vec()),
        SqlType::SqlVariant => return variant(b),
        _ => return None,
    })
}

/// A sql_variant's inner value: base type, property bytes, data.
fn variant(b: &[u8]) -> Option<Value> {
    let (&base, rest) = b.split_first()?;
    let (&props_len, rest) = rest.split_first()?;
    let props = rest.get(..usize::from(props_len))?;
    let data = &rest[usize::from(props_len)..];
    let ty = match base {
        code::INT1 => SqlType::TinyInt,
        code::INT2 => SqlType::SmallInt,
        code::INT4 => SqlType::Int,
        code::INT8 => SqlType::BigInt,
        code::BIT => SqlType::Bit,
        code::FLT4 => SqlType::Real,
        code::FLT8 => SqlType::Float,
        code::MONEY | code::MONEY4 => SqlType::Money,
        code::DATETIME => SqlType::DateTime,
        code::DATETIM4 => SqlType::SmallDateTime,
        code::GUID => SqlType::UniqueIdentifier,
        code::DATEN => SqlType::Date,
        code::TIMEN => SqlType::Time(*props.first()?),
        code::DATETIME2N => SqlType::DateTime2(*props.first()?),
        code::DATETIMEOFFSETN => SqlType::DateTimeOffset(*props.first()?),
        code::DECIMALN | code::NUMERICN => SqlType::Decimal {
            precision: *props.first()?,
            scale: *props.get(1)?,
        },
        code::BIGVARCHR | code::BIGCHAR => SqlType::VarChar(Some(8000)),
        code::NVARCHAR | code::NCHAR => SqlType::NVarChar(Some(4000)),
        code::BIGVARBIN | code::BIGBINARY => SqlType::VarBinary(Some(8000)),
        _ => return None,
    };
    if matches!(ty, SqlType::Time(s) | SqlType::DateTime2(s) | SqlType::DateTimeOffset(s) if s > 7)
    {
        return None;
    }
    scalar(ty, false, data)
}

#[cfg(test)]
mod tests {
    use super::super::Dialect;
    use super::super::encode::WireColumn;
    use super::*;

    /// What the server encodes, a client would send the same way: decode must invert encode.
    #[test]
    fn decode_inverts_encode() {
        let cases = [
            (SqlType::Int, Value::Int(-5)),
            (SqlType::BigInt, Value::Int(1 << 40)),
            (SqlType::Bit, Value::Bit(true)),
            (SqlType::Float, Value::Float(2.25)),
            (
                SqlType::Money,
                Value::Decimal(Decimal {
                    mantissa: -123_456,
                    scale: 4,
                }),
            ),
            (
                SqlType::Decimal {
                    precision: 20,
                    scale: 3,
                },
                Value::Decimal(Decimal {
                    mantissa: 99_999_999_999,
                    scale: 3,
                }),
            ),
            (SqlType::NVarChar(Some(20)), Value::text("héllo")),
            (SqlType::VarChar(Some(20)), Value::text("caf€")),
            (SqlType::NVarChar(None), Value::text("long")),
            (SqlType::VarBinary(Some(4)), Value::Binary(vec![1, 2, 3])),
            (SqlType::UniqueIdentifier, Value::Guid(*b"0123456789abcdef")),
            (SqlType::Date, Value::DateTime(DateTime::from_days(738_000))),
            (
                SqlType::DateTime2(7),
                Value::DateTime(DateTime {
                    days: 738_000,
                    ticks: 1_234_567,
                }),
            ),
            (
                SqlType::Time(7),
                Value::DateTime(DateTime { days: 0, ticks: 7 }),
            ),
            (SqlType::Int, Value::Null),
            (SqlType::NVarChar(None), Value::Null),
        ];
        for (ty, value) in cases {
            let c = WireColumn::new(ty, true, Dialect::default());
            let mut bytes = Vec::new();
            c.put_type_info(&mut bytes);
            c.put_value(&value, &mut bytes).unwrap();
            let mut r = Reader::new(&bytes, "test");
            let info = read_type_info(&mut r).unwrap();
            assert_eq!(info.ty, ty);
            assert_eq!(read_value(&mut r, &info).unwrap(), value, "{ty:?}");
            assert!(r.is_empty());
        }
    }

    #[test]
    fn hostile_plp_lengths_do_not_allocate() {
        let mut bytes = vec![code::NVARCHAR, 0xFF, 0xFF, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&(u64::MAX - 1).to_le_bytes());
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut r = Reader::new(&bytes, "test");
        let info = read_type_info(&mut r).unwrap();
        assert!(read_value(&mut r, &info).is_err());
    }
}
