//! Dates and times on the wire, from the 100 ns ticks of `tsql::value::DateTime`.

use tsql::value::DateTime;
use tsql::value::datetime::{DAY_1900, TICKS_PER_DAY};

/// 10^(7 - scale): ticks per unit of a time with this scale.
fn unit(scale: u8) -> u64 {
    10u64.pow(7 - u32::from(scale.min(7)))
}

/// TIME(n)'s byte length for a scale.
#[must_use]
pub(crate) fn time_len(scale: u8) -> usize {
    match scale {
        0..=2 => 3,
        3..=4 => 4,
        _ => 5,
    }
}

pub(crate) fn put_time(out: &mut Vec<u8>, ticks: u64, scale: u8) {
    let value = ticks / unit(scale);
    out.extend_from_slice(&value.to_le_bytes()[..time_len(scale)]);
}

pub(crate) fn put_date(out: &mut Vec<u8>, days: i32) {
    out.extend_from_slice(&(days.max(0) as u32).to_le_bytes()[..3]);
}

/// DATETIME: days since 1900-01-01 and 1/300 s since midnight.
pub(crate) fn put_datetime(out: &mut Vec<u8>, dt: DateTime) {
    let mut days = dt.days - DAY_1900;
    let mut three_hundredths = (u128::from(dt.ticks) * 300 + 5_000_000) / 10_000_000;
    if three_hundredths >= 300 * 86_400 {
        days += 1;
        three_hundredths = 0;
    }
    out.extend_from_slice(&days.to_le_bytes());
    out.extend_from_slice(&(three_hundredths as u32).to_le_bytes());
}

/// SMALLDATETIME: days since 1900-01-01 and minutes since midnight (rounded).
pub(crate) fn put_smalldatetime(out: &mut Vec<u8>, dt: DateTime) {
    let minute = 60 * 10_000_000;
    let mut days = dt.days - DAY_1900;
    let mut minutes = (dt.ticks + minute / 2) / minute;
    if minutes >= 1440 {
        days += 1;
        minutes = 0;
    }
    out.extend_from_slice(&(days.clamp(0, i32::from(u16::MAX)) as u16).to_le_bytes());
    out.extend_from_slice(&(minutes as u16).to_le_bytes());
}

pub(crate) fn read_time(bytes: &[u8], scale: u8) -> Option<u64> {
    let mut b = [0u8; 8];
    b.get_mut(..bytes.len())?.copy_from_slice(bytes);
    let ticks = u64::from_le_bytes(b).checked_mul(unit(scale))?;
    (ticks < TICKS_PER_DAY).then_some(ticks)
}

pub(crate) fn read_date(bytes: &[u8]) -> Option<i32> {
    let b: [u8; 3] = bytes.try_into().ok()?;
    let days = i32::from(b[0]) | i32::from(b[1]) << 8 | i32::from(b[2]) << 16;
    (days <= tsql::value::datetime::LAST_DAY).then_some(days)
}

pub(crate) fn read_datetime(bytes: &[u8]) -> Option<DateTime> {
    let days = i32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    let fraction = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let ticks = (u64::from(fraction) * 10_000_000 + 150) / 300;
    (ticks < TICKS_PER_DAY).then_some(DateTime {
        days: days.checked_add(DAY_1900)?,
        ticks,
    })
}

pub(crate) fn read_smalldatetime(bytes: &[u8]) -> Option<DateTime> {
    let days = u16::from_le_bytes(bytes.get(..2)?.try_into().ok()?);
    let minutes = u16::from_le_bytes(bytes.get(2..4)?.try_into().ok()?);
    (minutes < 1440).then_some(DateTime {
        days: DAY_1900 + i32::from(days),
        ticks: u64::from(minutes) * 60 * 10_000_000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_round_trips_at_its_precision() {
        let dt = DateTime {
            days: DAY_1900 + 45_000,
            ticks: 12 * 3600 * 10_000_000 + 3_330_000,
        };
        let mut out = Vec::new();
        put_datetime(&mut out, dt);
        let back = read_datetime(&out).unwrap();
        assert_eq!(back.days, dt.days);
        assert!(back.ticks.abs_diff(dt.ticks) <= 16_667);
    }

    #[test]
    fn time_lengths_follow_the_scale() {
        for (scale, len) in [(0, 3), (2, 3), (3, 4), (4, 4), (5, 5), (7, 5)] {
            let mut out = Vec::new();
            put_time(&mut out, TICKS_PER_DAY - 1, scale);
            assert_eq!(out.len(), len);
            assert!(read_time(&out, scale).unwrap() < TICKS_PER_DAY);
        }
    }
}
