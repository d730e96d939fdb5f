//! Values as character strings: date/time CONVERT styles, GUIDs, hexadecimal binaries, and the
//! code page of non-Unicode strings.

use crate::value::SqlType;
use crate::value::datetime::{DateTime, civil, month_abbreviation, round_datetime};

/// The fractional digits a date/time type shows by default (datetime: 3).
#[must_use]
pub fn fraction_scale(ty: SqlType) -> u8 {
    match ty {
        SqlType::Time(s) | SqlType::DateTime2(s) | SqlType::DateTimeOffset(s) => s.min(7),
        SqlType::DateTime => 3,
        _ => 0,
    }
}

/// `.fff…` with `scale` digits (empty for scale 0).
#[must_use]
pub fn fraction_text(dt: DateTime, scale: u8, separator: char) -> String {
    if scale == 0 {
        return String::new();
    }
    let ticks = if scale == 3 {
        // datetime's 1/300 s shows as rounded milliseconds.
        (dt.fraction() + 5_000) / 10_000 * 10_000
    } else {
        dt.fraction()
    };
    let digits = format!("{ticks:07}");
    format!("{separator}{}", &digits[..usize::from(scale).min(7)])
}

fn ymd(dt: DateTime) -> (i32, u32, u32) {
    civil(dt.days)
}

fn hms(dt: DateTime) -> String {
    format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second())
}

fn twelve_hour(dt: DateTime) -> (u32, &'static str) {
    let h = dt.hour();
    let meridiem = if h < 12 { "AM" } else { "PM" };
    let h12 = match h % 12 {
        0 => 12,
        h => h,
    };
    (h12, meridiem)
}

/// A datetime with milliseconds carried (so 23:59:59.999 in datetime2 prints as such, but
/// datetime's 1/300 s print rounded).
fn carried(dt: DateTime, ty: SqlType) -> DateTime {
    if ty == SqlType::DateTime {
        round_datetime(dt)
    } else {
        dt
    }
}

/// The text of a date/time value under a CONVERT style; `None` for a style SQL Server
/// refuses (281). `None` style is CAST's default.
#[must_use]
pub fn datetime_text(
    dt: DateTime,
    ty: SqlType,
    style: Option<i64>,
    offset_minutes: i32,
) -> Option<String> {
    let dt = carried(dt, ty);
    let scale = fraction_scale(ty);
    let (y, m, d) = ymd(dt);
    let yy = y.rem_euclid(100);
    let mon = month_abbreviation(m);
    let default_style = match ty {
        SqlType::DateTime | SqlType::SmallDateTime => 0,
        _ => 121,
    };
    let style = style.unwrap_or(default_style);
    let frac_full = fraction_text(dt, scale, '.');
    let ms = format!("{:03}", (dt.fraction() + 5_000) / 10_000 % 1000);
    let (h12, meridiem) = twelve_hour(dt);
    let text = match style {
        0 | 100 => format!("{mon} {d:>2} {y} {h12:>2}:{:02}{meridiem}", dt.minute()),
        1 => format!("{m:02}/{d:02}/{yy:02}"),
        101 => format!("{m:02}/{d:02}/{y:04}"),
        2 => format!("{yy:02}.{m:02}.{d:02}"),
        102 => format!("{y:04}.{m:02}.{d:02}"),
        3 => format!("{d:02}/{m:02}/{yy:02}"),
        103 => format!("{d:02}/{m:02}/{y:04}"),
        4 => format!("{d:02}.{m:02}.{yy:02}"),
        104 => format!("{d:02}.{m:02}.{y:04}"),
        5 => format!("{d:02}-{m:02}-{yy:02}"),
        105 => format!("{d:02}-{m:02}-{y:04}"),
        6 => format!("{d:02} {mon} {yy:02}"),
        106 => format!("{d:02} {mon} {y:04}"),
        7 => format!("{mon} {d:02}, {yy:02}"),
        107 => format!("{mon} {d:02}, {y:04}"),
        8 | 24 | 108 => hms(dt),
        9 | 109 => {
            let frac = if scale > 3 {
                fraction_text(dt, scale, '.')
            } else {
                format!(":{ms}")
            };
            format!(
                "{mon} {d:>2} {y} {h12:>2}:{:02}:{:02}{frac}{meridiem}",
                dt.minute(),
                dt.second()
            )
        }
        10 => format!("{m:02}-{d:02}-{yy:02}"),
        110 => format!("{m:02}-{d:02}-{y:04}"),
        11 => format!("{yy:02}/{m:02}/{d:02}"),
        111 => format!("{y:04}/{m:02}/{d:02}"),
        12 => format!("{yy:02}{m:02}{d:02}"),
        112 => format!("{y:04}{m:02}{d:02}"),
        13 | 113 => format!("{d:02} {mon} {y:04} {}:{ms}", hms(dt)),
        14 | 114 => format!("{}:{ms}", hms(dt)),
        20 | 120 => format!("{y:04}-{m:02}-{d:02} {}", hms(dt)),
        21 | 25 | 121 => match ty {
            SqlType::Date => format!("{y:04}-{m:02}-{d:02}"),
            SqlType::Time(_) => format!("{}{frac_full}", hms(dt)),
            SqlType::SmallDateTime => format!("{y:04}-{m:02}-{d:02} {}", hms(dt)),
            SqlType::DateTimeOffset(_) => format!(
                "{y:04}-{m:02}-{d:02} {}{frac_full} {}",
                hms(dt),
                offset_text(offset_minutes)
            ),
            _ => format!("{y:04}-{m:02}-{d:02} {}{frac_full}", hms(dt)),
        },
        22 => format!(
            "{m:02}/{d:02}/{yy:02} {h12:>2}:{:02}:{:02} {meridiem}",
            dt.minute(),
            dt.second()
        ),
        23 => format!("{y:04}-{m:02}-{d:02}"),
        126 | 127 => {
            let frac = if ty == SqlType::DateTime && dt.fraction() < 5_000 {
                String::new()
            } else {
                frac_full
            };
            let zone = match (style, ty) {
                (127, SqlType::DateTimeOffset(_)) => "Z".to_owned(),
                (126, SqlType::DateTimeOffset(_)) => offset_text(offset_minutes),
                _ => String::new(),
            };
            format!("{y:04}-{m:02}-{d:02}T{}{frac}{zone}", hms(dt))
        }
        _ => return None,
    };
    Some(text)
}

/// `+hh:mm`
#[must_use]
pub fn offset_text(offset_minutes: i32) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A GUID (bytes in text order) as SQL Server prints it: upper case, hyphenated.
#[must_use]
pub fn guid_text(bytes: &[u8; 16]) -> String {
    let hex = hex_upper(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Reads `6F9619FF-8B86-D011-B42D-00C04FC964FF` or `{…}`; characters after the 36th are
/// ignored, as SQL Server ignores them.
#[must_use]
pub fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let text = text.trim_matches(' ');
    let body = if let Some(rest) = text.strip_prefix('{') {
        rest.get(..37).filter(|b| b.ends_with('}'))?.get(..36)?
    } else {
        text.get(..36)?
    };
    let b = body.as_bytes();
    if [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: String = body.chars().filter(|&c| c != '-').collect();
    let bytes = parse_hex(&hex)?;
    bytes.try_into().ok()
}

/// A GUID in SQL Server's storage order (the first three groups little-endian), as
/// `CAST(guid AS binary(16))` shows it.
#[must_use]
pub fn guid_storage_bytes(text_order: &[u8; 16]) -> [u8; 16] {
    let mut out = *text_order;
    out[0..4].reverse();
    out[4..6].reverse();
    out[6..8].reverse();
    out
}

#[must_use]
pub fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Hex digits (an even number of them) as bytes.
#[must_use]
pub fn parse_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Windows-1252's characters in 0x80–0x9F, which a non-Unicode string can hold.
const CP1252_HIGH: [char; 27] = [
    '€', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 'Ž', '‘', '’', '“', '”', '•', '–',
    '—', '˜', '™', 'š', '›', 'œ', 'ž', 'Ÿ',
];

/// A Unicode string in SQL_Latin1_General_CP1's code page: characters it lacks become `?`.
#[must_use]
pub fn to_code_page(s: &str) -> String {
    s.chars()
        .map(|c| {
            let code = c as u32;
            if code < 0x80 || (0xA0..=0xFF).contains(&code) || CP1252_HIGH.contains(&c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The bytes of a non-Unicode string (one per character after [`to_code_page`]).
#[must_use]
pub fn code_page_bytes(s: &str) -> Vec<u8> {
    const HIGH_CODES: [u8; 27] = [
        0x80, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8E, 0x91, 0x92,
        0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9E, 0x9F,
    ];
    to_code_page(s)
        .chars()
        .map(|c| match CP1252_HIGH.iter().position(|&h| h == c) {
            Some(i) => HIGH_CODES[i],
            None => c as u32 as u8,
        })
        .collect()
}

/// Bytes read as a non-Unicode string.
#[must_use]
pub fn from_code_page_bytes(bytes: &[u8]) -> String {
    const HIGH_CODES: [u8; 27] = [
        0x80, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8E, 0x91, 0x92,
        0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9E, 0x9F,
    ];
    bytes
        .iter()
        .map(|&b| match HIGH_CODES.iter().position(|&h| h == b) {
            Some(i) => CP1252_HIGH[i],
            None if (0x80..0xA0).contains(&b) => '?',
            None => char::from(b),
        })
        .collect()
}

/// UTF-16LE bytes of a Unicode string.
#[must_use]
pub fn utf16_bytes(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// UTF-16LE bytes as a string (an odd last byte is dropped, bad surrogates become U+FFFD).
#[must_use]
pub fn from_utf16_bytes(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt() -> DateTime {
        DateTime::from_parts(2024, 5, 1, 9, 5, 7, 1_234_567).unwrap()
    }

    fn text(ty: SqlType, style: Option<i64>) -> String {
        datetime_text(dt(), ty, style, 0).unwrap()
    }

    #[test]
    fn datetime_styles() {
        let t = SqlType::DateTime;
        assert_eq!(text(t, None), "May  1 2024  9:05AM");
        assert_eq!(text(t, Some(101)), "05/01/2024");
        assert_eq!(text(t, Some(103)), "01/05/2024");
        assert_eq!(text(t, Some(112)), "20240501");
        assert_eq!(text(t, Some(120)), "2024-05-01 09:05:07");
        assert_eq!(text(t, Some(121)), "2024-05-01 09:05:07.123");
        assert_eq!(text(t, Some(126)), "2024-05-01T09:05:07.123");
        assert_eq!(text(t, Some(109)), "May  1 2024  9:05:07:123AM");
        assert_eq!(text(t, Some(113)), "01 May 2024 09:05:07:123");
        assert_eq!(text(t, Some(107)), "May 01, 2024");
        assert_eq!(text(t, Some(23)), "2024-05-01");
        assert_eq!(datetime_text(dt(), t, Some(130), 0), None);
    }

    #[test]
    fn datetime2_and_friends() {
        assert_eq!(
            text(SqlType::DateTime2(7), None),
            "2024-05-01 09:05:07.1234567"
        );
        assert_eq!(text(SqlType::DateTime2(0), None), "2024-05-01 09:05:07");
        assert_eq!(text(SqlType::Date, None), "2024-05-01");
        assert_eq!(text(SqlType::Time(3), None), "09:05:07.123");
        assert_eq!(
            text(SqlType::DateTimeOffset(7), None),
            "2024-05-01 09:05:07.1234567 +00:00"
        );
        assert_eq!(
            text(SqlType::DateTimeOffset(0), Some(127)),
            "2024-05-01T09:05:07Z"
        );
    }

    #[test]
    fn guids() {
        let g = parse_guid("6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap();
        assert_eq!(guid_text(&g), "6F9619FF-8B86-D011-B42D-00C04FC964FF");
        assert_eq!(
            parse_guid("{6f9619ff-8b86-d011-b42d-00c04fc964ff}"),
            Some(g)
        );
        assert_eq!(
            parse_guid("6F9619FF-8B86-D011-B42D-00C04FC964FFxyz"),
            Some(g)
        );
        assert_eq!(parse_guid("6F9619FF8B86D011B42D00C04FC964FF"), None);
        assert_eq!(
            hex_upper(&guid_storage_bytes(&g)),
            "FF19966F868B11D0B42D00C04FC964FF"
        );
    }

    #[test]
    fn code_page() {
        assert_eq!(to_code_page("café €漢"), "café €?");
        assert_eq!(code_page_bytes("é€"), [0xE9, 0x80]);
        assert_eq!(from_code_page_bytes(&[0x61, 0x80, 0x81]), "a€?");
        assert_eq!(from_utf16_bytes(&utf16_bytes("añ")), "añ");
        assert_eq!(parse_hex("0A0b"), Some(vec![10, 11]));
        assert_eq!(parse_hex("0A0"), None);
        assert_eq!(parse_hex("zz"), None);
    }
}
