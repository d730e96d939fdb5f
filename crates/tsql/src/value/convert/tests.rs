use super::*;
use crate::value::DateTime;

const VC: SqlType = SqlType::VarChar(Some(30));
const NVC: SqlType = SqlType::NVarChar(Some(30));

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn dec(m: i128, scale: u8) -> Value {
    Value::Decimal(Decimal { mantissa: m, scale })
}

fn num(p: u8, scale: u8) -> SqlType {
    SqlType::Decimal {
        precision: p,
        scale,
    }
}

fn err(value: Value, from: SqlType, to: SqlType) -> (u32, String) {
    let e = cast(&value, from, to).expect_err("conversion should fail");
    (e.number, e.text)
}

#[test]
fn strings_to_integers() {
    assert_eq!(cast(&s(" 42 "), VC, SqlType::Int), Ok(Value::Int(42)));
    assert_eq!(cast(&s(""), VC, SqlType::Int), Ok(Value::Int(0)));
    assert_eq!(
        err(s("abc"), VC, SqlType::Int),
        (
            245,
            "Conversion failed when converting the varchar value 'abc' to data type int.".into()
        )
    );
    assert_eq!(err(s("1.5"), NVC, SqlType::Int).0, 245);
    assert!(
        err(s("1.5"), NVC, SqlType::Int)
            .1
            .contains("nvarchar value '1.5'")
    );
    assert_eq!(
        err(s("3000000000"), VC, SqlType::Int),
        (
            248,
            "The conversion of the varchar value '3000000000' overflowed an int column.".into()
        )
    );
    assert_eq!(err(s("300"), VC, SqlType::TinyInt).0, 244);
    assert!(err(s("99999"), VC, SqlType::SmallInt).1.contains("INT2"));
    assert_eq!(err(s("99999999999999999999"), VC, SqlType::BigInt).0, 8115);
}

#[test]
fn numbers_to_integers() {
    assert_eq!(
        cast(&dec(-199, 2), num(3, 2), SqlType::Int),
        Ok(Value::Int(-1))
    );
    assert_eq!(
        cast(&Value::Float(2.9), SqlType::Float, SqlType::Int),
        Ok(Value::Int(2))
    );
    assert_eq!(
        err(Value::Int(300), SqlType::Int, SqlType::TinyInt),
        (
            220,
            "Arithmetic overflow error for data type tinyint, value = 300.".into()
        )
    );
    assert_eq!(
        err(Value::Int(3_000_000_000), SqlType::BigInt, SqlType::Int).1,
        "Arithmetic overflow error converting expression to data type int."
    );
    assert_eq!(
        err(dec(30_000_000_000, 0), num(11, 0), SqlType::Int).1,
        "Arithmetic overflow error converting numeric to data type int."
    );
    assert_eq!(
        err(Value::Float(1e30), SqlType::Float, SqlType::BigInt).0,
        8115
    );
    assert_eq!(
        cast(
            &Value::Binary(vec![0, 0, 1, 0]),
            SqlType::VarBinary(Some(4)),
            SqlType::Int
        ),
        Ok(Value::Int(256))
    );
    assert_eq!(
        cast(
            &Value::Binary(vec![0xFF, 0xFF]),
            SqlType::Binary(2),
            SqlType::SmallInt
        ),
        Ok(Value::Int(-1))
    );
}

#[test]
fn decimals() {
    assert_eq!(cast(&s("1.25"), VC, num(3, 1)), Ok(dec(13, 1)));
    assert_eq!(
        cast(&Value::Int(5), SqlType::Int, num(5, 2)),
        Ok(dec(500, 2))
    );
    assert_eq!(
        err(s("abc"), VC, num(5, 2)),
        (
            8114,
            "Error converting data type varchar to numeric.".into()
        )
    );
    assert_eq!(
        err(s("12345"), VC, num(3, 0)),
        (
            8115,
            "Arithmetic overflow error converting varchar to data type numeric.".into()
        )
    );
    assert_eq!(
        err(dec(12345, 2), num(7, 2), num(3, 2)).1,
        "Arithmetic overflow error converting numeric to data type numeric."
    );
    assert_eq!(
        cast(&Value::Float(0.125), SqlType::Float, num(5, 2)),
        Ok(dec(13, 2))
    );
    assert_eq!(
        cast(&s("$1,000.5"), VC, SqlType::Money),
        Ok(dec(10_005_000, 4))
    );
    assert_eq!(err(s("x"), VC, SqlType::Money).0, 235);
}

#[test]
fn floats_and_bits() {
    assert_eq!(
        cast(&s("1e3"), VC, SqlType::Float),
        Ok(Value::Float(1000.0))
    );
    assert_eq!(
        err(s("abc"), VC, SqlType::Float).1,
        "Error converting data type varchar to float."
    );
    assert_eq!(cast(&s("TRUE"), VC, SqlType::Bit), Ok(Value::Bit(true)));
    assert_eq!(cast(&s("0"), VC, SqlType::Bit), Ok(Value::Bit(false)));
    assert_eq!(
        cast(&Value::Int(-5), SqlType::Int, SqlType::Bit),
        Ok(Value::Bit(true))
    );
    assert_eq!(err(s("yes"), VC, SqlType::Bit).0, 245);
}

#[test]
fn to_strings() {
    assert_eq!(
        cast(&Value::Int(123), SqlType::Int, SqlType::VarChar(Some(2))),
        Ok(s("*"))
    );
    assert_eq!(
        err(Value::Int(123), SqlType::Int, SqlType::NVarChar(Some(2))).1,
        "Arithmetic overflow error converting expression to data type nvarchar."
    );
    assert_eq!(
        cast(&s("abcdef"), VC, SqlType::VarChar(Some(3))),
        Ok(s("abc"))
    );
    assert_eq!(cast(&s("ab"), VC, SqlType::Char(4)), Ok(s("ab  ")));
    assert_eq!(cast(&dec(50, 2), num(3, 2), VC), Ok(s("0.50")));
    assert_eq!(
        cast(&Value::Float(1234.123456789), SqlType::Float, VC),
        Ok(s("1234.12"))
    );
    assert_eq!(cast(&Value::Bit(true), SqlType::Bit, VC), Ok(s("1")));
    assert_eq!(cast(&s("漢x"), SqlType::NVarChar(Some(2)), VC), Ok(s("?x")));
    assert_eq!(
        convert(
            &Value::Binary(vec![10, 11]),
            SqlType::VarBinary(Some(2)),
            VC,
            Some(1)
        ),
        Ok(s("0x0A0B"))
    );
    assert_eq!(
        convert(
            &Value::Binary(vec![10, 11]),
            SqlType::VarBinary(Some(2)),
            VC,
            Some(2)
        ),
        Ok(s("0A0B"))
    );
    assert_eq!(
        cast(
            &Value::Binary(b"abc".to_vec()),
            SqlType::VarBinary(Some(3)),
            VC
        ),
        Ok(s("abc"))
    );
}

#[test]
fn datetimes_from_strings() {
    let dt = |text: &str, ty| cast(&s(text), VC, ty);
    let expect = |y, mo, d, h, mi, sec, frac| {
        Ok(Value::DateTime(
            DateTime::from_parts(y, mo, d, h, mi, sec, frac).unwrap(),
        ))
    };
    assert_eq!(
        dt("2024-05-01 10:30:00", SqlType::DateTime),
        expect(2024, 5, 1, 10, 30, 0, 0)
    );
    assert_eq!(
        dt("2024-05-01T10:30:00.123", SqlType::DateTime2(7)),
        expect(2024, 5, 1, 10, 30, 0, 1_230_000)
    );
    assert_eq!(dt("", SqlType::DateTime), expect(1900, 1, 1, 0, 0, 0, 0));
    assert_eq!(
        dt("Jan 15, 2026 10:30:00 AM", SqlType::DateTime),
        expect(2026, 1, 15, 10, 30, 0, 0)
    );
    assert_eq!(
        dt("2024-05-01 10:30:00.002", SqlType::DateTime),
        expect(2024, 5, 1, 10, 30, 0, 33_333)
    );
    assert_eq!(
        dt("2024-05-01 10:30:00.1234", SqlType::DateTime)
            .unwrap_err()
            .number,
        241
    );
    assert_eq!(dt("garbage", SqlType::DateTime).unwrap_err().number, 241);
    assert_eq!(
        dt("garbage", SqlType::SmallDateTime).unwrap_err().number,
        295
    );
    assert_eq!(
        dt("1600-01-01", SqlType::DateTime).unwrap_err().text,
        "The conversion of a varchar data type to a datetime data type resulted in an out-of-range value."
    );
    assert_eq!(dt("2024-02-30", SqlType::DateTime).unwrap_err().number, 242);
    assert_eq!(dt("2024-02-30", SqlType::Date).unwrap_err().number, 241);
    assert_eq!(
        dt("1600-01-01", SqlType::Date),
        Ok(Value::DateTime(
            DateTime::from_parts(1600, 1, 1, 0, 0, 0, 0).unwrap()
        ))
    );
    assert_eq!(
        convert(&s("01/05/2024"), VC, SqlType::Date, Some(103)),
        Ok(Value::DateTime(
            DateTime::from_parts(2024, 5, 1, 0, 0, 0, 0).unwrap()
        ))
    );
}

#[test]
fn datetimes_to_strings_and_numbers() {
    let v = Value::DateTime(DateTime::from_parts(2024, 5, 1, 13, 5, 0, 0).unwrap());
    assert_eq!(
        cast(&v, SqlType::DateTime, VC),
        Ok(s("May  1 2024  1:05PM"))
    );
    assert_eq!(
        convert(&v, SqlType::DateTime, VC, Some(120)),
        Ok(s("2024-05-01 13:05:00"))
    );
    assert_eq!(
        convert(&v, SqlType::DateTime, VC, Some(999))
            .unwrap_err()
            .number,
        281
    );
    // Past noon rounds to the next day.
    assert_eq!(
        cast(&v, SqlType::DateTime, SqlType::Int),
        Ok(Value::Int(45_412))
    );
    assert_eq!(
        cast(&Value::Int(1), SqlType::Int, SqlType::DateTime),
        Ok(Value::DateTime(
            DateTime::from_parts(1900, 1, 2, 0, 0, 0, 0).unwrap()
        ))
    );
    assert_eq!(
        cast(&v, SqlType::DateTime, SqlType::Date),
        Ok(Value::DateTime(
            DateTime::from_parts(2024, 5, 1, 0, 0, 0, 0).unwrap()
        ))
    );
    let early = Value::DateTime(DateTime::from_parts(1000, 1, 1, 0, 0, 0, 0).unwrap());
    assert_eq!(
        cast(&early, SqlType::DateTime2(7), SqlType::DateTime)
            .unwrap_err()
            .text,
        "The conversion of a datetime2 data type to a datetime data type resulted in an out-of-range value."
    );
}

#[test]
fn forbidden_conversions() {
    assert_eq!(
        err(Value::Int(1), SqlType::Int, SqlType::Date),
        (
            529,
            "Explicit conversion from data type int to date is not allowed.".into()
        )
    );
    assert_eq!(
        implicit(&Value::Int(1), SqlType::Int, SqlType::Date)
            .unwrap_err()
            .text,
        "Operand type clash: int is incompatible with date"
    );
    assert_eq!(
        check_implicit(SqlType::VarChar(Some(3)), SqlType::VarBinary(Some(3)))
            .unwrap_err()
            .text,
        "Implicit conversion from data type varchar to varbinary is not allowed. Use the CONVERT function to run this query."
    );
    assert!(check_implicit(SqlType::DateTime, SqlType::Int).is_err());
    assert!(check_implicit(SqlType::Int, SqlType::DateTime).is_ok());
    assert!(check_implicit(VC, SqlType::Int).is_ok());
}

#[test]
fn guids_and_binaries() {
    let text = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
    let g = cast(&s(text), VC, SqlType::UniqueIdentifier).unwrap();
    assert_eq!(
        cast(&g, SqlType::UniqueIdentifier, SqlType::VarChar(Some(36))),
        Ok(s(text))
    );
    let bin = cast(&g, SqlType::UniqueIdentifier, SqlType::Binary(16)).unwrap();
    assert_eq!(
        cast(&bin, SqlType::Binary(16), SqlType::UniqueIdentifier),
        Ok(g)
    );
    assert_eq!(err(s("nope"), VC, SqlType::UniqueIdentifier).0, 8169);
    assert_eq!(
        cast(&Value::Int(10), SqlType::Int, SqlType::VarBinary(Some(8))),
        Ok(Value::Binary(vec![0, 0, 0, 10]))
    );
    assert_eq!(
        cast(&Value::Int(258), SqlType::Int, SqlType::Binary(1)),
        Ok(Value::Binary(vec![2]))
    );
    assert_eq!(
        cast(&s("ab"), VC, SqlType::Binary(4)),
        Ok(Value::Binary(vec![b'a', b'b', 0, 0]))
    );
    assert_eq!(
        cast(&s("a"), NVC, SqlType::VarBinary(Some(8))),
        Ok(Value::Binary(vec![b'a', 0]))
    );
    assert_eq!(
        convert(&s("0x0A0B"), VC, SqlType::VarBinary(Some(8)), Some(1)),
        Ok(Value::Binary(vec![10, 11]))
    );
    assert_eq!(
        convert(&s("0A0B"), VC, SqlType::VarBinary(Some(8)), Some(2)),
        Ok(Value::Binary(vec![10, 11]))
    );
}

#[test]
fn nulls_convert_to_null() {
    assert_eq!(
        cast(&Value::Null, SqlType::Int, SqlType::DateTime),
        Ok(Value::Null)
    );
    assert_eq!(
        cast(&Value::Null, SqlType::Int, SqlType::Date)
            .unwrap_err()
            .number,
        529
    );
}
