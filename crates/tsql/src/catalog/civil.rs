//! A tiny proleptic-Gregorian helper for the catalog's own dates (sample snapshots, sp_helpdb's
//! `created` text, msdb comparisons). The full calendar lives in `value::datetime`; this copy
//! keeps the catalog independent of it.

use crate::value::DateTime;

/// 100 ns ticks in one second.
pub const TICKS_PER_SECOND: u64 = 10_000_000;
const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SECOND;

/// Days from 0001-01-01 to `year-month-day` (Howard Hinnant's days_from_civil, shifted).
#[must_use]
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // 1970-01-01 is day 719_162 after 0001-01-01; Hinnant's epoch offset is 719_468.
    era * 146_097 + doe - 719_468 + 719_162
}

/// The inverse of [`days_from_civil`]: `(year, month, day)`.
#[must_use]
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days - 719_162 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

/// A date and time of day, whole seconds.
#[must_use]
pub fn datetime(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime {
    DateTime {
        days: days_from_civil(year, month, day),
        ticks: u64::from(hour * 3600 + minute * 60 + second) * TICKS_PER_SECOND,
    }
}

/// `t` plus a number of 100 ns ticks (negative goes back), carrying into days.
#[must_use]
pub fn add_ticks(t: DateTime, ticks: i64) -> DateTime {
    let total =
        i128::from(t.days) * i128::from(TICKS_PER_DAY) + i128::from(t.ticks) + i128::from(ticks);
    let day = i128::from(TICKS_PER_DAY);
    DateTime {
        days: total.div_euclid(day) as i32,
        ticks: total.rem_euclid(day) as u64,
    }
}

/// `Mon dd yyyy`, as sp_helpdb's `created` column shows a date (`Oct  8 2022` style, day
/// padded to two characters).
#[must_use]
pub fn short_date(t: DateTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d) = civil_from_days(t.days);
    format!("{} {d:>2} {y}", MONTHS[m as usize - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(days_from_civil(1, 1, 1), 0);
        assert_eq!(days_from_civil(1970, 1, 1), 719_162);
        assert_eq!(days_from_civil(1900, 1, 1), 693_595);
        assert_eq!(civil_from_days(0), (1, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(
            civil_from_days(days_from_civil(9999, 12, 31)),
            (9999, 12, 31)
        );
    }

    #[test]
    fn round_trip_every_day_of_a_leap_century() {
        for days in days_from_civil(1999, 1, 1)..days_from_civil(2101, 1, 1) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn ticks_carry_into_days() {
        let t = datetime(2022, 12, 31, 23, 59, 59);
        let next = add_ticks(t, TICKS_PER_SECOND as i64);
        assert_eq!(next, datetime(2023, 1, 1, 0, 0, 0));
        assert_eq!(add_ticks(next, -(TICKS_PER_SECOND as i64)), t);
        assert_eq!(short_date(t), "Dec 31 2022");
        assert_eq!(short_date(datetime(2022, 10, 8, 0, 0, 0)), "Oct  8 2022");
    }
}
