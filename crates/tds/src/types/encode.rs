//! TYPE_INFO and values of the server's result sets and output parameters.
//!
//! NOT NULL columns use SQL Server's fixed-length types (INT4, BIT, FLT8 …), nullable ones the
//! N types (INTN, BITN, FLTN …), as SQL Server does. `(max)` types are PLP. A client older
//! than TDS 7.3 gets date, time, datetime2 and datetimeoffset as nvarchar text.

use tsql::value::convert::{cast, variant_base_type};
use tsql::value::format::sqlcmd_text;
use tsql::value::{Decimal, SqlType, Value};

use super::temporal::{put_date, put_datetime, put_smalldatetime, put_time, time_len};
use super::{COLLATION, Dialect, MAX_MARKER, PLP_NULL, code};
use crate::wire::cp1252_encode;

/// The most one sql_variant may hold.
const VARIANT_MAX: u32 = 8016;

/// How one column (or output parameter) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireColumn {
    pub ty: SqlType,
    pub nullable: bool,
    /// The type actually sent (the declared one, or nvarchar for new dates to old clients).
    sent: SqlType,
}

impl WireColumn {
    #[must_use]
    pub fn new(ty: SqlType, nullable: bool, dialect: Dialect) -> Self {
        let sent = match ty {
            SqlType::Date
            | SqlType::Time(_)
            | SqlType::DateTime2(_)
            | SqlType::DateTimeOffset(_)
                if !dialect.has_dates() =>
            {
                SqlType::NVarChar(Some(ty.display_width() as u32))
            }
            other => other,
        };
        WireColumn { ty, nullable, sent }
    }

    /// Whether a NULL can be written for this column (fixed-length types cannot hold one).
    #[must_use]
    pub fn is_fixed(&self) -> bool {
        !self.nullable
            && matches!(
                self.sent,
                SqlType::TinyInt
                    | SqlType::SmallInt
                    | SqlType::Int
                    | SqlType::BigInt
                    | SqlType::Bit
                    | SqlType::Float
                    | SqlType::Real
                    | SqlType::Money
                    | SqlType::DateTime
                    | SqlType::SmallDateTime
            )
    }

    /// UserType (u32), Flags (u16), TYPE_INFO: what COLMETADATA and RETURNVALUE carry.
    pub fn put_metadata(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&0u32.to_le_bytes());
        // fNullable, fCaseSen clear (CI collation), updatable "unknown" (0x08).
        let flags: u16 = u16::from(self.nullable) | 0x0008;
        out.extend_from_slice(&flags.to_le_bytes());
        self.put_type_info(out);
    }

    pub fn put_type_info(&self, out: &mut Vec<u8>) {
        let fixed = self.is_fixed();
        let nullable_code = |fixed_code: u8, n_code: u8, len: u8, out: &mut Vec<u8>| {
            if fixed {
                out.push(fixed_code);
            } else {
                out.extend_from_slice(&[n_code, len]);
            }
        };
        match self.sent {
            SqlType::TinyInt => nullable_code(code::INT1, code::INTN, 1, out),
            SqlType::SmallInt => nullable_code(code::INT2, code::INTN, 2, out),
            SqlType::Int => nullable_code(code::INT4, code::INTN, 4, out),
            SqlType::BigInt => nullable_code(code::INT8, code::INTN, 8, out),
            SqlType::Bit => nullable_code(code::BIT, code::BITN, 1, out),
            SqlType::Float => nullable_code(code::FLT8, code::FLTN, 8, out),
            SqlType::Real => nullable_code(code::FLT4, code::FLTN, 4, out),
            SqlType::Money => nullable_code(code::MONEY, code::MONEYN, 8, out),
            SqlType::DateTime => nullable_code(code::DATETIME, code::DATETIMN, 8, out),
            SqlType::SmallDateTime => nullable_code(code::DATETIM4, code::DATETIMN, 4, out),
            SqlType::Decimal { precision, scale } => {
                out.extend_from_slice(&[code::NUMERICN, decimal_len(precision), precision, scale]);
            }
            SqlType::UniqueIdentifier => out.extend_from_slice(&[code::GUID, 16]),
            SqlType::Date => out.push(code::DATEN),
            SqlType::Time(s) => out.extend_from_slice(&[code::TIMEN, s]),
            SqlType::DateTime2(s) => out.extend_from_slice(&[code::DATETIME2N, s]),
            SqlType::DateTimeOffset(s) => out.extend_from_slice(&[code::DATETIMEOFFSETN, s]),
            SqlType::Char(n) => chars(out, code::BIGCHAR, Some(n)),
            SqlType::VarChar(n) => chars(out, code::BIGVARCHR, n),
            SqlType::NChar(n) => chars(out, code::NCHAR, Some(n.saturating_mul(2))),
            SqlType::NVarChar(n) => chars(out, code::NVARCHAR, n.map(|n| n.saturating_mul(2))),
            SqlType::Binary(n) => binary(out, code::BIGBINARY, Some(n)),
            SqlType::VarBinary(n) => binary(out, code::BIGVARBIN, n),
            SqlType::SqlVariant => {
                out.push(code::SSVARIANT);
                out.extend_from_slice(&VARIANT_MAX.to_le_bytes());
            }
        }
    }

    /// Whether values of this column are PLP.
    #[must_use]
    pub fn is_plp(&self) -> bool {
        matches!(
            self.sent,
            SqlType::VarChar(None) | SqlType::NVarChar(None) | SqlType::VarBinary(None)
        )
    }

    /// Writes a value. NULL in a fixed-length column cannot be written: it is an error.
    pub fn put_value(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
        let value = coerce(value, self.ty)?;
        if value.is_null() {
            return self.put_null(out);
        }
        if self.sent != self.ty {
            // A new date type sent as nvarchar to an old client.
            return put_chars(&sqlcmd_text(&value, self.ty), self.sent, out);
        }
        let fixed = self.is_fixed();
        let len_prefix = |len: u8, out: &mut Vec<u8>| {
            if !fixed {
                out.push(len);
            }
        };
        match (self.ty, &value) {
            (SqlType::TinyInt, Value::Int(n)) => {
                len_prefix(1, out);
                out.push(*n as u8);
            }
            (SqlType::SmallInt, Value::Int(n)) => {
                len_prefix(2, out);
                out.extend_from_slice(&(*n as i16).to_le_bytes());
            }
            (SqlType::Int, Value::Int(n)) => {
                len_prefix(4, out);
                out.extend_from_slice(&(*n as i32).to_le_bytes());
            }
            (SqlType::BigInt, Value::Int(n)) => {
                len_prefix(8, out);
                out.extend_from_slice(&n.to_le_bytes());
            }
            (SqlType::Bit, Value::Bit(b)) => {
                len_prefix(1, out);
                out.push(u8::from(*b));
            }
            (SqlType::Float, Value::Float(f)) => {
                len_prefix(8, out);
                out.extend_from_slice(&f.to_le_bytes());
            }
            (SqlType::Real, Value::Float(f)) => {
                len_prefix(4, out);
                out.extend_from_slice(&(*f as f32).to_le_bytes());
            }
            (SqlType::Money, Value::Decimal(d)) => {
                len_prefix(8, out);
                let units = rescale(*d, 4) as i64;
                out.extend_from_slice(&((units >> 32) as i32).to_le_bytes());
                out.extend_from_slice(&(units as u32).to_le_bytes());
            }
            (SqlType::DateTime, Value::DateTime(dt)) => {
                len_prefix(8, out);
                put_datetime(out, *dt);
            }
            (SqlType::SmallDateTime, Value::DateTime(dt)) => {
                len_prefix(4, out);
                put_smalldatetime(out, *dt);
            }
            (SqlType::Decimal { precision, scale }, Value::Decimal(d)) => {
                let mantissa = rescale(*d, scale);
                let len = decimal_len(precision);
                out.push(len);
                out.push(u8::from(mantissa >= 0));
                out.extend_from_slice(
                    &mantissa.unsigned_abs().to_le_bytes()[..usize::from(len - 1)],
                );
            }
            (SqlType::UniqueIdentifier, Value::Guid(g)) => {
                out.push(16);
                out.extend_from_slice(&guid_to_wire(g));
            }
            (SqlType::Date, Value::DateTime(dt)) => {
                out.push(3);
                put_date(out, dt.days);
            }
            (SqlType::Time(s), Value::DateTime(dt)) => {
                out.push(time_len(s) as u8);
                put_time(out, dt.ticks, s);
            }
            (SqlType::DateTime2(s), Value::DateTime(dt)) => {
                out.push(time_len(s) as u8 + 3);
                put_time(out, dt.ticks, s);
                put_date(out, dt.days);
            }
            (SqlType::DateTimeOffset(s), Value::DateTime(dt)) => {
                // vdisim's values carry no offset: the local time is UTC, offset +00:00.
                out.push(time_len(s) as u8 + 5);
                put_time(out, dt.ticks, s);
                put_date(out, dt.days);
                out.extend_from_slice(&0i16.to_le_bytes());
            }
            (ty, Value::String(s)) if ty.is_string() => put_chars(s, ty, out)?,
            (ty, Value::Binary(b)) if ty.is_binary() => put_bytes(b, ty, out)?,
            (SqlType::SqlVariant, v) => put_variant(v, out)?,
            (ty, v) => return Err(format!("cannot send {v:?} as {}", ty.sql_name())),
        }
        Ok(())
    }

    fn put_null(&self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.is_fixed() {
            return Err(format!(
                "NULL in the NOT NULL {} column",
                self.ty.sql_name()
            ));
        }
        if self.is_plp() {
            out.extend_from_slice(&PLP_NULL.to_le_bytes());
        } else if self.sent.is_string() || self.sent.is_binary() {
            out.extend_from_slice(&MAX_MARKER.to_le_bytes());
        } else if self.sent == SqlType::SqlVariant {
            out.extend_from_slice(&0u32.to_le_bytes());
        } else {
            out.push(0);
        }
        Ok(())
    }
}

fn chars(out: &mut Vec<u8>, type_code: u8, max_bytes: Option<u32>) {
    out.push(type_code);
    let len = max_bytes.map_or(MAX_MARKER, |n| n.min(8000) as u16);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&COLLATION);
}

fn binary(out: &mut Vec<u8>, type_code: u8, max_bytes: Option<u32>) {
    out.push(type_code);
    let len = max_bytes.map_or(MAX_MARKER, |n| n.min(8000) as u16);
    out.extend_from_slice(&len.to_le_bytes());
}

/// Bytes of a DECIMALN/NUMERICN value (sign included) for a precision.
#[must_use]
pub fn decimal_len(precision: u8) -> u8 {
    match precision {
        0..=9 => 5,
        10..=19 => 9,
        20..=28 => 13,
        _ => 17,
    }
}

/// The mantissa at another scale, rounding half away from zero.
fn rescale(d: Decimal, scale: u8) -> i128 {
    if scale >= d.scale {
        d.mantissa
            .saturating_mul(10i128.saturating_pow(u32::from(scale - d.scale)))
    } else {
        let div = 10i128.pow(u32::from(d.scale - scale).min(38));
        let q = d.mantissa / div;
        let r = d.mantissa % div;
        if r.abs() * 2 >= div {
            q + d.mantissa.signum()
        } else {
            q
        }
    }
}

/// A GUID's bytes as SQL Server sends them: the first three groups little-endian.
#[must_use]
pub fn guid_to_wire(g: &[u8; 16]) -> [u8; 16] {
    let mut w = *g;
    w[0..4].reverse();
    w[4..6].reverse();
    w[6..8].reverse();
    w
}

fn put_chars(s: &str, ty: SqlType, out: &mut Vec<u8>) -> Result<(), String> {
    let mut bytes = if ty.is_unicode() {
        let mut b = Vec::with_capacity(s.len() * 2);
        crate::wire::put_ucs2(&mut b, s);
        b
    } else {
        cp1252_encode(s)
    };
    match ty {
        SqlType::Char(n) => bytes.resize(n as usize, b' '),
        SqlType::NChar(n) => {
            while bytes.len() < n as usize * 2 {
                bytes.extend_from_slice(&[b' ', 0]);
            }
        }
        _ => {}
    }
    put_sized(
        &bytes,
        matches!(ty, SqlType::VarChar(None) | SqlType::NVarChar(None)),
        out,
    )
}

fn put_bytes(b: &[u8], ty: SqlType, out: &mut Vec<u8>) -> Result<(), String> {
    let mut bytes = b.to_vec();
    if let SqlType::Binary(n) = ty {
        bytes.resize(n as usize, 0);
    }
    put_sized(&bytes, ty == SqlType::VarBinary(None), out)
}

fn put_sized(bytes: &[u8], plp: bool, out: &mut Vec<u8>) -> Result<(), String> {
    if plp {
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        // One chunk per 1 GB keeps the u32 chunk length valid.
        for chunk in bytes.chunks(1 << 30) {
            out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        return Ok(());
    }
    let len = u16::try_from(bytes.len())
        .ok()
        .filter(|&l| l != MAX_MARKER && l <= 8000)
        .ok_or_else(|| format!("a value of {} bytes does not fit the column", bytes.len()))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// sql_variant: total length, base type, property bytes, data (MS-TDS 2.2.5.5.4).
fn put_variant(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    let base = variant_base_type(value);
    let base = match base {
        SqlType::NVarChar(_) => SqlType::NVarChar(Some(4000)),
        SqlType::VarBinary(_) => SqlType::VarBinary(Some(8000)),
        other => other,
    };
    let mut body = Vec::new();
    let column = WireColumn::new(base, true, Dialect::default());
    let mut info = Vec::new();
    column.put_type_info(&mut info);
    let mut data = Vec::new();
    column.put_value(value, &mut data)?;
    // Variant data carries no length prefix of its own: drop the one the column wrote.
    let (type_byte, props) = (info[0], &info[1..]);
    let data = match base {
        SqlType::NVarChar(_) | SqlType::VarBinary(_) => &data[2..],
        SqlType::Int | SqlType::BigInt | SqlType::Bit | SqlType::Float => &data[1..],
        SqlType::Decimal { .. } | SqlType::UniqueIdentifier | SqlType::DateTime => &data[1..],
        _ => &data[..],
    };
    let (type_byte, props): (u8, Vec<u8>) = match base {
        SqlType::Int => (code::INT4, vec![]),
        SqlType::BigInt => (code::INT8, vec![]),
        SqlType::Bit => (code::BIT, vec![]),
        SqlType::Float => (code::FLT8, vec![]),
        SqlType::DateTime => (code::DATETIME, vec![]),
        SqlType::UniqueIdentifier => (code::GUID, vec![]),
        SqlType::Decimal { precision, scale } => (code::NUMERICN, vec![precision, scale]),
        _ => (type_byte, props.to_vec()),
    };
    body.push(type_byte);
    body.push(props.len() as u8);
    body.extend_from_slice(&props);
    body.extend_from_slice(data);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(())
}

/// The value in the form its type is written from (an integer for an int column, a decimal for
/// money …), converting with SQL Server's rules when the engine gave another form.
fn coerce(value: &Value, ty: SqlType) -> Result<Value, String> {
    let fits = match (ty, value) {
        (_, Value::Null) | (SqlType::SqlVariant, _) => true,
        (t, Value::Int(_)) if t.is_integer() && t != SqlType::Bit => true,
        (SqlType::Bit, Value::Bit(_))
        | (SqlType::Float | SqlType::Real, Value::Float(_))
        | (SqlType::Decimal { .. } | SqlType::Money, Value::Decimal(_))
        | (SqlType::UniqueIdentifier, Value::Guid(_)) => true,
        (t, Value::String(_)) => t.is_string(),
        (t, Value::Binary(_)) => t.is_binary(),
        (t, Value::DateTime(_)) => t.is_datetime(),
        _ => false,
    };
    if fits {
        return Ok(value.clone());
    }
    match (ty, value) {
        (SqlType::Bit, Value::Int(n)) => Ok(Value::Bit(*n != 0)),
        (SqlType::Float | SqlType::Real, Value::Int(n)) => Ok(Value::Float(*n as f64)),
        (SqlType::Decimal { .. } | SqlType::Money, Value::Int(n)) => Ok(Value::Decimal(Decimal {
            mantissa: i128::from(*n),
            scale: 0,
        })),
        _ => cast(value, variant_base_type(value), ty).map_err(|m| m.text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(ty: SqlType, nullable: bool, v: &Value) -> (Vec<u8>, Vec<u8>) {
        let c = WireColumn::new(ty, nullable, Dialect::default());
        let mut info = Vec::new();
        c.put_type_info(&mut info);
        let mut value = Vec::new();
        c.put_value(v, &mut value).unwrap();
        (info, value)
    }

    #[test]
    fn fixed_and_nullable_ints() {
        assert_eq!(
            encode(SqlType::Int, false, &Value::Int(7)),
            (vec![0x38], vec![7, 0, 0, 0])
        );
        assert_eq!(
            encode(SqlType::Int, true, &Value::Int(7)),
            (vec![0x26, 4], vec![4, 7, 0, 0, 0])
        );
        assert_eq!(encode(SqlType::Int, true, &Value::Null).1, vec![0]);
        let c = WireColumn::new(SqlType::Int, false, Dialect::default());
        assert!(c.put_value(&Value::Null, &mut Vec::new()).is_err());
    }

    #[test]
    fn strings_decimals_guids_and_plp() {
        let (info, value) = encode(SqlType::NVarChar(Some(10)), true, &Value::text("hé"));
        assert_eq!(info, [&[0xE7, 20, 0][..], &COLLATION].concat());
        assert_eq!(value, vec![4, 0, b'h', 0, 0xE9, 0]);
        let (_, value) = encode(SqlType::VarChar(None), true, &Value::text("ab"));
        assert_eq!(
            value,
            [
                &2u64.to_le_bytes()[..],
                &2u32.to_le_bytes(),
                b"ab",
                &0u32.to_le_bytes()
            ]
            .concat()
        );
        let (_, value) = encode(
            SqlType::Decimal {
                precision: 10,
                scale: 2,
            },
            true,
            &Value::Decimal(Decimal {
                mantissa: -12345,
                scale: 3,
            }),
        );
        assert_eq!(value, vec![9, 0, 0xD3, 0x04, 0, 0, 0, 0, 0, 0]); // -12.35 → 1235
        let mut g = [0u8; 16];
        g[0] = 1;
        g[4] = 2;
        let (_, value) = encode(SqlType::UniqueIdentifier, true, &Value::Guid(g));
        assert_eq!(&value[..6], &[16, 0, 0, 0, 1, 0]);
        let (_, value) = encode(SqlType::Char(4), false, &Value::text("a"));
        assert_eq!(value, vec![4, 0, b'a', b' ', b' ', b' ']);
    }

    #[test]
    fn every_type_encodes_null_and_a_value() {
        use tsql::value::DateTime;
        let types = [
            (SqlType::Bit, Value::Bit(true)),
            (SqlType::TinyInt, Value::Int(255)),
            (SqlType::SmallInt, Value::Int(-3)),
            (SqlType::BigInt, Value::Int(i64::MIN)),
            (SqlType::Float, Value::Float(1.5)),
            (SqlType::Real, Value::Float(1.5)),
            (
                SqlType::Money,
                Value::Decimal(Decimal {
                    mantissa: 15,
                    scale: 1,
                }),
            ),
            (SqlType::NChar(3), Value::text("x")),
            (SqlType::Binary(2), Value::Binary(vec![1])),
            (SqlType::VarBinary(None), Value::Binary(vec![1, 2])),
            (
                SqlType::Date,
                Value::DateTime(DateTime {
                    days: 738_000,
                    ticks: 0,
                }),
            ),
            (
                SqlType::Time(3),
                Value::DateTime(DateTime { days: 0, ticks: 5 }),
            ),
            (
                SqlType::DateTime,
                Value::DateTime(DateTime {
                    days: 738_000,
                    ticks: 5,
                }),
            ),
            (
                SqlType::SmallDateTime,
                Value::DateTime(DateTime {
                    days: 738_000,
                    ticks: 5,
                }),
            ),
            (
                SqlType::DateTime2(7),
                Value::DateTime(DateTime {
                    days: 738_000,
                    ticks: 5,
                }),
            ),
            (
                SqlType::DateTimeOffset(0),
                Value::DateTime(DateTime {
                    days: 738_000,
                    ticks: 5,
                }),
            ),
            (SqlType::SqlVariant, Value::Int(5)),
            (SqlType::SqlVariant, Value::text("v")),
        ];
        for (ty, v) in types {
            encode(ty, true, &v);
            encode(ty, true, &Value::Null);
            encode(ty, false, &v);
        }
        // Old clients get new date types as text.
        let c = WireColumn::new(
            SqlType::Date,
            true,
            Dialect {
                tds_version: crate::login7::version::TDS72,
            },
        );
        let mut info = Vec::new();
        c.put_type_info(&mut info);
        assert_eq!(info[0], code::NVARCHAR);
    }
}
