//! The calendar behind date and time values: the proleptic Gregorian calendar of SQL Server's
//! date types, date parts (DATEADD, DATEDIFF, DATEPART, DATENAME), and the rounding each type
//! applies to a time of day.

mod parse;

use serde::{Deserialize, Serialize};

pub use parse::{ParsedDateTime, parse_datetime};

/// A date and time of day with 100 ns precision (datetime2(7)'s), no time zone.
/// `days` counts from 0001-01-01 (day 0); `ticks` are 100 ns units since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DateTime {
    pub days: i32,
    pub ticks: u64,
}

pub const TICKS_PER_SECOND: u64 = 10_000_000;
pub const TICKS_PER_MINUTE: u64 = 60 * TICKS_PER_SECOND;
pub const TICKS_PER_HOUR: u64 = 60 * TICKS_PER_MINUTE;
pub const TICKS_PER_DAY: u64 = 24 * TICKS_PER_HOUR;

/// 1900-01-01, day 0 of `datetime`'s numeric form.
pub const DAY_1900: i32 = 693_595;
/// 9999-12-31, the last day of every date type.
pub const LAST_DAY: i32 = 3_652_058;
/// 1753-01-01, the first day of `datetime`.
pub const DATETIME_FIRST_DAY: i32 = 639_905;
/// 2079-06-06, the last day of `smalldatetime`.
pub const SMALLDATETIME_LAST_DAY: i32 = 759_130;

pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[must_use]
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

#[must_use]
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`), for any year.
fn days_from_epoch(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// 0001-01-01 counted from 1970-01-01.
const EPOCH_OFFSET: i64 = -719_162;

/// The day number of a valid date in years 1–9999, or `None`.
#[must_use]
pub fn day_number(year: i32, month: u32, day: u32) -> Option<i32> {
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    i32::try_from(days_from_epoch(i64::from(year), month, day) - EPOCH_OFFSET).ok()
}

/// (year, month, day) of a day number (Hinnant's `civil_from_days`).
#[must_use]
pub fn civil(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + EPOCH_OFFSET + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

impl DateTime {
    /// Midnight of a day.
    #[must_use]
    pub fn from_days(days: i32) -> Self {
        DateTime { days, ticks: 0 }
    }

    /// A valid date and time, or `None`. `fraction` is in 100 ns ticks.
    #[must_use]
    pub fn from_parts(
        year: i32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        fraction: u64,
    ) -> Option<Self> {
        if hour > 23 || minute > 59 || second > 59 || fraction >= TICKS_PER_SECOND {
            return None;
        }
        let days = day_number(year, month, day)?;
        let ticks = u64::from(hour) * TICKS_PER_HOUR
            + u64::from(minute) * TICKS_PER_MINUTE
            + u64::from(second) * TICKS_PER_SECOND
            + fraction;
        Some(DateTime { days, ticks })
    }

    #[must_use]
    pub fn year(self) -> i32 {
        civil(self.days).0
    }

    #[must_use]
    pub fn month(self) -> u32 {
        civil(self.days).1
    }

    #[must_use]
    pub fn day(self) -> u32 {
        civil(self.days).2
    }

    #[must_use]
    pub fn hour(self) -> u32 {
        (self.ticks / TICKS_PER_HOUR) as u32
    }

    #[must_use]
    pub fn minute(self) -> u32 {
        (self.ticks / TICKS_PER_MINUTE % 60) as u32
    }

    #[must_use]
    pub fn second(self) -> u32 {
        (self.ticks / TICKS_PER_SECOND % 60) as u32
    }

    /// The fraction of the second, in 100 ns ticks.
    #[must_use]
    pub fn fraction(self) -> u64 {
        self.ticks % TICKS_PER_SECOND
    }

    /// 0 = Sunday … 6 = Saturday (0001-01-01 was a Monday).
    #[must_use]
    pub fn weekday_index(self) -> u32 {
        (i64::from(self.days) + 1).rem_euclid(7) as u32
    }

    /// Day of the year, 1-based.
    #[must_use]
    pub fn day_of_year(self) -> u32 {
        let year = self.year();
        let first = day_number(year, 1, 1).unwrap_or(self.days);
        (self.days - first + 1) as u32
    }

    /// Ticks since 0001-01-01 00:00.
    #[must_use]
    pub fn total_ticks(self) -> i128 {
        i128::from(self.days) * i128::from(TICKS_PER_DAY) + i128::from(self.ticks)
    }

    /// From ticks since 0001-01-01, if within years 1–9999.
    #[must_use]
    pub fn from_total_ticks(total: i128) -> Option<Self> {
        let per_day = i128::from(TICKS_PER_DAY);
        let days = i32::try_from(total.div_euclid(per_day)).ok()?;
        if !(0..=LAST_DAY).contains(&days) {
            return None;
        }
        Some(DateTime {
            days,
            ticks: total.rem_euclid(per_day) as u64,
        })
    }
}

/// A DATEADD/DATEDIFF/DATEPART date part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    Year,
    Quarter,
    Month,
    DayOfYear,
    Day,
    Week,
    Weekday,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
    TzOffset,
    IsoWeek,
}

impl DatePart {
    /// A date part by name or abbreviation, case-insensitively.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "year" | "yy" | "yyyy" => DatePart::Year,
            "quarter" | "qq" | "q" => DatePart::Quarter,
            "month" | "mm" | "m" => DatePart::Month,
            "dayofyear" | "dy" | "y" => DatePart::DayOfYear,
            "day" | "dd" | "d" => DatePart::Day,
            "week" | "wk" | "ww" => DatePart::Week,
            "weekday" | "dw" | "w" => DatePart::Weekday,
            "hour" | "hh" => DatePart::Hour,
            "minute" | "mi" | "n" => DatePart::Minute,
            "second" | "ss" | "s" => DatePart::Second,
            "millisecond" | "ms" => DatePart::Millisecond,
            "microsecond" | "mcs" => DatePart::Microsecond,
            "nanosecond" | "ns" => DatePart::Nanosecond,
            "tzoffset" | "tz" => DatePart::TzOffset,
            "iso_week" | "isowk" | "isoww" => DatePart::IsoWeek,
            _ => return None,
        })
    }

    /// The full name, as messages spell it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DatePart::Year => "year",
            DatePart::Quarter => "quarter",
            DatePart::Month => "month",
            DatePart::DayOfYear => "dayofyear",
            DatePart::Day => "day",
            DatePart::Week => "week",
            DatePart::Weekday => "weekday",
            DatePart::Hour => "hour",
            DatePart::Minute => "minute",
            DatePart::Second => "second",
            DatePart::Millisecond => "millisecond",
            DatePart::Microsecond => "microsecond",
            DatePart::Nanosecond => "nanosecond",
            DatePart::TzOffset => "tzoffset",
            DatePart::IsoWeek => "iso_week",
        }
    }

    /// Ticks in one unit of a time part; `None` for calendar parts.
    fn unit_ticks(self) -> Option<i128> {
        Some(match self {
            DatePart::Hour => i128::from(TICKS_PER_HOUR),
            DatePart::Minute => i128::from(TICKS_PER_MINUTE),
            DatePart::Second => i128::from(TICKS_PER_SECOND),
            DatePart::Millisecond => 10_000,
            DatePart::Microsecond => 10,
            DatePart::Nanosecond => 1,
            _ => return None,
        })
    }
}

/// The ISO 8601 week number of a day.
#[must_use]
pub fn iso_week(dt: DateTime) -> u32 {
    // The week belongs to the year of its Thursday.
    let monday_based = (dt.weekday_index() + 6) % 7;
    let thursday = DateTime::from_days(dt.days - monday_based as i32 + 3);
    (thursday.day_of_year() - 1) / 7 + 1
}

/// DATEPART's number for a date and time (US English: DATEFIRST 7, weeks start on Sunday).
#[must_use]
pub fn date_part(part: DatePart, dt: DateTime, offset_minutes: i32) -> i64 {
    date_part_first(part, dt, offset_minutes, 7)
}

/// Position in the week under `SET DATEFIRST first` (1 = Monday … 7 = Sunday), 0-based.
#[must_use]
pub fn weekday_from(dt: DateTime, first: u32) -> u32 {
    (dt.weekday_index() + 7 - first % 7) % 7
}

/// DATEPART under a DATEFIRST setting (weekday and week depend on it).
#[must_use]
pub fn date_part_first(part: DatePart, dt: DateTime, offset_minutes: i32, first: u32) -> i64 {
    let (year, month, day) = civil(dt.days);
    i64::from(match part {
        DatePart::Year => return i64::from(year),
        DatePart::Quarter => (month - 1) / 3 + 1,
        DatePart::Month => month,
        DatePart::DayOfYear => dt.day_of_year(),
        DatePart::Day => day,
        DatePart::Week => {
            let jan1 = DateTime::from_days(dt.days - dt.day_of_year() as i32 + 1);
            (dt.day_of_year() - 1 + weekday_from(jan1, first)) / 7 + 1
        }
        DatePart::Weekday => weekday_from(dt, first) + 1,
        DatePart::Hour => dt.hour(),
        DatePart::Minute => dt.minute(),
        DatePart::Second => dt.second(),
        DatePart::Millisecond => (dt.fraction() / 10_000) as u32,
        DatePart::Microsecond => (dt.fraction() / 10) as u32,
        DatePart::Nanosecond => return (dt.fraction() * 100) as i64,
        DatePart::TzOffset => return i64::from(offset_minutes),
        DatePart::IsoWeek => iso_week(dt),
    })
}

/// DATENAME's text: month and weekday names, numbers for the rest.
#[must_use]
pub fn date_name(part: DatePart, dt: DateTime, offset_minutes: i32) -> String {
    match part {
        DatePart::Month => MONTH_NAMES[(dt.month() - 1) as usize].to_owned(),
        DatePart::Weekday => DAY_NAMES[dt.weekday_index() as usize].to_owned(),
        DatePart::TzOffset => {
            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let m = offset_minutes.unsigned_abs();
            format!("{sign}{:02}:{:02}", m / 60, m % 60)
        }
        _ => date_part(part, dt, offset_minutes).to_string(),
    }
}

/// Adds whole months, keeping the day unless the month is shorter (Jan 31 + 1 month = Feb 28/29).
fn add_months(dt: DateTime, months: i64) -> Option<DateTime> {
    let (year, month, day) = civil(dt.days);
    let index = i64::from(year) * 12 + i64::from(month) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = (index.rem_euclid(12) + 1) as u32;
    if !(1..=9999).contains(&year) {
        return None;
    }
    let day = day.min(days_in_month(year, month));
    Some(DateTime {
        days: day_number(year, month, day)?,
        ticks: dt.ticks,
    })
}

/// DATEADD: `None` when the result leaves years 1–9999 (or the part cannot be added).
#[must_use]
pub fn date_add(part: DatePart, amount: i64, dt: DateTime) -> Option<DateTime> {
    match part {
        DatePart::Year => add_months(dt, amount.checked_mul(12)?),
        DatePart::Quarter => add_months(dt, amount.checked_mul(3)?),
        DatePart::Month => add_months(dt, amount),
        DatePart::DayOfYear | DatePart::Day | DatePart::Weekday => DateTime::from_total_ticks(
            dt.total_ticks() + i128::from(amount) * TICKS_PER_DAY as i128,
        ),
        DatePart::Week => DateTime::from_total_ticks(
            dt.total_ticks() + i128::from(amount) * 7 * TICKS_PER_DAY as i128,
        ),
        DatePart::Nanosecond => {
            // 100 ns resolution: round to the nearest tick, halves away from zero.
            let ticks = (i128::from(amount) + if amount < 0 { -50 } else { 50 }) / 100;
            DateTime::from_total_ticks(dt.total_ticks() + ticks)
        }
        DatePart::TzOffset | DatePart::IsoWeek => None,
        time => DateTime::from_total_ticks(
            dt.total_ticks() + i128::from(amount) * time.unit_ticks().unwrap_or(1),
        ),
    }
}

/// DATEDIFF: the number of `part` boundaries crossed from `start` to `end`.
#[must_use]
pub fn date_diff(part: DatePart, start: DateTime, end: DateTime) -> Option<i128> {
    let (y1, m1, _) = civil(start.days);
    let (y2, m2, _) = civil(end.days);
    let months = |y: i32, m: u32| i128::from(y) * 12 + i128::from(m);
    Some(match part {
        DatePart::Year => i128::from(y2) - i128::from(y1),
        DatePart::Quarter => {
            (i128::from(y2) * 4 + i128::from((m2 - 1) / 3))
                - (i128::from(y1) * 4 + i128::from((m1 - 1) / 3))
        }
        DatePart::Month => months(y2, m2) - months(y1, m1),
        DatePart::DayOfYear | DatePart::Day | DatePart::Weekday => {
            i128::from(end.days) - i128::from(start.days)
        }
        DatePart::Week => {
            // Weeks end on Saturday; day 0 + 1 is a Sunday boundary shift.
            let week = |d: i32| (i128::from(d) + 1).div_euclid(7);
            week(end.days) - week(start.days)
        }
        DatePart::TzOffset | DatePart::IsoWeek => return None,
        time => {
            let unit = time.unit_ticks()?;
            end.total_ticks().div_euclid(unit) - start.total_ticks().div_euclid(unit)
        }
    })
}

/// Rounds to `datetime`'s 1/300 s, carrying into the next day.
#[must_use]
pub fn round_datetime(dt: DateTime) -> DateTime {
    let units = (dt.ticks * 3 + 50_000) / 100_000;
    let ticks = (units * 100_000 + 1) / 3;
    normalize(dt.days, ticks)
}

/// Rounds to `smalldatetime`'s minute (30 seconds round up).
#[must_use]
pub fn round_smalldatetime(dt: DateTime) -> DateTime {
    // 29.998 s rounds down, 29.999 s up.
    let minutes = (dt.ticks + 30 * TICKS_PER_SECOND + 10_000) / TICKS_PER_MINUTE;
    normalize(dt.days, minutes * TICKS_PER_MINUTE)
}

/// Rounds the time of day to `scale` fractional digits (half up), carrying into the next day.
#[must_use]
pub fn round_scale(dt: DateTime, scale: u8) -> DateTime {
    let unit = 10u64.pow(u32::from(7 - scale.min(7)));
    let ticks = (dt.ticks + unit / 2) / unit * unit;
    normalize(dt.days, ticks)
}

fn normalize(days: i32, ticks: u64) -> DateTime {
    if ticks >= TICKS_PER_DAY {
        DateTime {
            days: days + 1,
            ticks: ticks - TICKS_PER_DAY,
        }
    } else {
        DateTime { days, ticks }
    }
}

/// `MON DD YYYY` style abbreviations.
#[must_use]
pub fn month_abbreviation(month: u32) -> &'static str {
    MONTH_NAMES
        .get(month.wrapping_sub(1) as usize)
        .map_or("", |n| &n[..3])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime {
        DateTime::from_parts(y, mo, d, h, mi, s, 0).unwrap()
    }

    #[test]
    fn landmarks() {
        assert_eq!(day_number(1, 1, 1), Some(0));
        assert_eq!(day_number(1900, 1, 1), Some(DAY_1900));
        assert_eq!(day_number(9999, 12, 31), Some(LAST_DAY));
        assert_eq!(day_number(1753, 1, 1), Some(DATETIME_FIRST_DAY));
        assert_eq!(day_number(2079, 6, 6), Some(SMALLDATETIME_LAST_DAY));
        assert_eq!(day_number(2023, 2, 29), None);
        assert_eq!(day_number(2024, 2, 29).map(civil), Some((2024, 2, 29)));
        assert_eq!(day_number(10000, 1, 1), None);
    }

    #[test]
    fn civil_round_trips_every_day() {
        for days in (0..=LAST_DAY).step_by(13) {
            let (y, m, d) = civil(days);
            assert_eq!(day_number(y, m, d), Some(days));
        }
    }

    #[test]
    fn weekdays() {
        // 2024-05-01 was a Wednesday; 0001-01-01 a Monday.
        let d = dt(2024, 5, 1, 0, 0, 0);
        assert_eq!(date_part(DatePart::Weekday, d, 0), 4);
        assert_eq!(date_name(DatePart::Weekday, d, 0), "Wednesday");
        assert_eq!(DateTime::from_days(0).weekday_index(), 1);
        // SET DATEFIRST 1: Monday is day 1, so Wednesday is 3.
        assert_eq!(date_part_first(DatePart::Weekday, d, 0, 1), 3);
        assert_eq!(date_part_first(DatePart::Week, d, 0, 1), 18);
    }

    #[test]
    fn parts() {
        let d = DateTime::from_parts(2024, 5, 1, 10, 30, 15, 1_234_567).unwrap();
        assert_eq!(date_part(DatePart::Year, d, 0), 2024);
        assert_eq!(date_part(DatePart::Quarter, d, 0), 2);
        assert_eq!(date_part(DatePart::DayOfYear, d, 0), 122);
        assert_eq!(date_part(DatePart::Week, d, 0), 18);
        assert_eq!(date_part(DatePart::IsoWeek, d, 0), 18);
        assert_eq!(date_part(DatePart::Millisecond, d, 0), 123);
        assert_eq!(date_part(DatePart::Microsecond, d, 0), 123_456);
        assert_eq!(date_part(DatePart::Nanosecond, d, 0), 123_456_700);
        assert_eq!(date_name(DatePart::Month, d, 0), "May");
        // 2021-01-01 (Friday) is in ISO week 53 of 2020, week 1 by DATEPART(week).
        let d = dt(2021, 1, 1, 0, 0, 0);
        assert_eq!(date_part(DatePart::IsoWeek, d, 0), 53);
        assert_eq!(date_part(DatePart::Week, d, 0), 1);
        assert_eq!(date_part(DatePart::Week, dt(2021, 1, 3, 0, 0, 0), 0), 2);
    }

    #[test]
    fn add_clamps_month_ends_and_range() {
        let jan31 = dt(2024, 1, 31, 12, 0, 0);
        assert_eq!(
            date_add(DatePart::Month, 1, jan31),
            Some(dt(2024, 2, 29, 12, 0, 0))
        );
        assert_eq!(
            date_add(DatePart::Year, -1, dt(2024, 2, 29, 0, 0, 0)),
            Some(dt(2023, 2, 28, 0, 0, 0))
        );
        assert_eq!(
            date_add(DatePart::Hour, 13, jan31),
            Some(dt(2024, 2, 1, 1, 0, 0))
        );
        assert_eq!(date_add(DatePart::Year, 8000, jan31), None);
        assert_eq!(date_add(DatePart::Day, i64::MAX, jan31), None);
        assert_eq!(date_add(DatePart::Year, i64::MAX, jan31), None);
    }

    #[test]
    fn diff_counts_boundaries() {
        let a = dt(2023, 12, 31, 23, 59, 59);
        let b = dt(2024, 1, 1, 0, 0, 0);
        for part in [
            DatePart::Year,
            DatePart::Quarter,
            DatePart::Month,
            DatePart::Day,
            DatePart::Hour,
            DatePart::Minute,
            DatePart::Second,
        ] {
            assert_eq!(date_diff(part, a, b), Some(1), "{part:?}");
        }
        assert_eq!(date_diff(DatePart::Millisecond, a, b), Some(1000));
        assert_eq!(date_diff(DatePart::Day, b, a), Some(-1));
        // Saturday → Sunday crosses a week boundary; Sunday → Saturday does not.
        let sat = dt(2024, 5, 4, 0, 0, 0);
        let sun = dt(2024, 5, 5, 0, 0, 0);
        assert_eq!(date_diff(DatePart::Week, sat, sun), Some(1));
        assert_eq!(
            date_diff(DatePart::Week, sun, dt(2024, 5, 11, 0, 0, 0)),
            Some(0)
        );
    }

    #[test]
    fn datetime_rounding() {
        let ms = |m: u64| DateTime {
            days: 10,
            ticks: m * 10_000,
        };
        let shown = |d: DateTime| (d.ticks + 5_000) / 10_000;
        assert_eq!(shown(round_datetime(ms(1))), 0);
        assert_eq!(shown(round_datetime(ms(2))), 3);
        assert_eq!(shown(round_datetime(ms(4))), 3);
        assert_eq!(shown(round_datetime(ms(5))), 7);
        assert_eq!(shown(round_datetime(ms(9))), 10);
        let last = DateTime {
            days: 10,
            ticks: TICKS_PER_DAY - 10_000,
        };
        assert_eq!(round_datetime(last), DateTime::from_days(11));
        assert_eq!(round_scale(last, 2), DateTime::from_days(11));
        assert_eq!(round_scale(last, 7), last);
    }

    #[test]
    fn smalldatetime_rounds_to_the_minute() {
        let at = |s: u64| DateTime {
            days: 1,
            ticks: 10 * TICKS_PER_MINUTE + s * TICKS_PER_SECOND,
        };
        assert_eq!(round_smalldatetime(at(29)).ticks, 10 * TICKS_PER_MINUTE);
        assert_eq!(round_smalldatetime(at(30)).ticks, 11 * TICKS_PER_MINUTE);
    }
}
