//! Dates in BACKUP and RESTORE options (STOPAT, EXPIREDATE, a mark's AFTER) and WAITFOR's time
//! of day.

use crate::messages::SqlMessage;
use crate::value::{DateTime, SqlType, Value, convert};

/// A date as SQL Server converts a string to a date and time under us_english: ISO 8601,
/// `2024-05-01 10:30:00`, `20240501`, `05/01/2024 10:30 PM`, `Apr 15, 2020 12:00 AM`,
/// `15 April 2020` … Kept at datetime2(7) precision, so that a time read back from
/// `SYSDATETIME()` stops a restore exactly there. 241 when it is not a date.
pub fn parse_datetime(text: &str, line: u32) -> Result<DateTime, SqlMessage> {
    let value = convert::cast(
        &Value::String(text.to_owned()),
        SqlType::NVarChar(Some(4000)),
        SqlType::DateTime2(7),
    )
    .map_err(|m| m.at_line(line))?;
    match value {
        Value::DateTime(dt) => Ok(dt),
        _ => Err(crate::messages::datetime_conversion_failed(line)),
    }
}

/// `hh:mm[:ss[.fff]]`, hours below 24 (WAITFOR DELAY).
pub fn parse_time_of_day(text: &str) -> Option<(u8, u8, u8, u16)> {
    let (clock, fraction) = match text.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (text, None),
    };
    let mut parts = clock.split(':');
    let hour: u8 = digits(parts.next()?, 2)?;
    let minute: u8 = digits(parts.next()?, 2)?;
    let second: u8 = match parts.next() {
        Some(s) => digits(s, 2)?,
        None if fraction.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let millisecond = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 7 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded: String = f.chars().chain("000".chars()).take(3).collect();
            padded.parse().ok()?
        }
        Some(_) => return None,
    };
    Some((hour, minute, second, millisecond))
}

/// 1 to `max_len` ASCII digits.
fn digits<T: std::str::FromStr>(text: &str, max_len: usize) -> Option<T> {
    if text.is_empty() || text.len() > max_len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
