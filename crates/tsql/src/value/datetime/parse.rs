//! Date and time strings as SQL Server reads them under `us_english` (DATEFORMAT mdy):
//! `2024-05-01 10:30:00`, `2024-05-01T10:30:00.123Z`, `20240501`, `05/01/2024`,
//! `Apr 15, 2020 12:00 AM`, `15 April 2020`, `10:30`, `10 PM`, `2024-05-01 10:30 +02:00` …
//!
//! The parser only splits and reads the fields; whether the date exists and fits the target
//! type is the caller's question (SQL Server answers 241 or 242 depending on the type).

/// The fields of a date/time string. Missing parts are `None` (the caller defaults them to
/// 1900-01-01 and midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParsedDateTime {
    /// (year, month, day) as written; not yet checked against the calendar.
    pub date: Option<(i32, u32, u32)>,
    /// (hour, minute, second, 100 ns ticks), already range-checked.
    pub time: Option<(u32, u32, u32, u64)>,
    /// How many fractional-second digits were written (`datetime` accepts at most 3).
    pub fraction_digits: u8,
    /// `+hh:mm` / `-hh:mm` / `Z`, in minutes.
    pub offset_minutes: Option<i32>,
    /// The date was numeric with month and day in DATEFORMAT order (`05/01/2024`), so a
    /// day-first CONVERT style (103, 104, 105) swaps them.
    pub day_month_ambiguous: bool,
}

/// Reads a date/time string; `None` if SQL Server would not recognise it.
#[must_use]
pub fn parse_datetime(text: &str) -> Option<ParsedDateTime> {
    let text = text.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
    let mut out = ParsedDateTime::default();
    if text.is_empty() {
        return Some(out);
    }
    if text.len() > 100 {
        return None;
    }
    if let Some(parsed) = iso8601(text) {
        return Some(parsed);
    }
    let mut date_tokens: Vec<&str> = Vec::new();
    let mut time_text: Option<String> = None;
    let mut meridiem: Option<bool> = None;
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        let upper = token.to_ascii_uppercase();
        if upper == "AM" || upper == "PM" {
            if meridiem.is_some() {
                return None;
            }
            meridiem = Some(upper == "PM");
        } else if (token.starts_with('+') || token.starts_with('-')) && token.contains(':') {
            out.offset_minutes = Some(offset(token)?);
        } else if token.contains(':') || is_hour_with_meridiem(&upper, tokens.get(i + 1)) {
            if time_text.is_some() {
                return None;
            }
            let (body, m) = split_meridiem(&upper);
            if m.is_some() {
                meridiem = m;
            }
            time_text = Some(body.to_owned());
        } else {
            date_tokens.push(token);
        }
        i += 1;
    }
    if let Some(time) = time_text {
        let (h, mi, s, ticks, digits) = time_of_day(&time, meridiem)?;
        out.time = Some((h, mi, s, ticks));
        out.fraction_digits = digits;
    } else if meridiem.is_some() {
        return None;
    }
    if !date_tokens.is_empty() {
        let (parsed, ambiguous) = date(&date_tokens)?;
        out.date = Some(parsed);
        out.day_month_ambiguous = ambiguous;
    }
    Some(out)
}

/// `10AM`, `10 AM`: an hour with a meridiem and no colon.
fn is_hour_with_meridiem(upper: &str, next: Option<&&str>) -> bool {
    let (body, m) = split_meridiem(upper);
    let is_hour = !body.is_empty() && body.len() <= 2 && body.bytes().all(|b| b.is_ascii_digit());
    is_hour
        && (m.is_some()
            || next.is_some_and(|n| n.eq_ignore_ascii_case("AM") || n.eq_ignore_ascii_case("PM")))
}

fn split_meridiem(upper: &str) -> (&str, Option<bool>) {
    if let Some(body) = upper.strip_suffix("AM") {
        (body, Some(false))
    } else if let Some(body) = upper.strip_suffix("PM") {
        (body, Some(true))
    } else {
        (upper, None)
    }
}

/// `YYYY-MM-DDThh:mm:ss[.fffffff][Z|±hh:mm]`
fn iso8601(text: &str) -> Option<ParsedDateTime> {
    let (date_text, rest) = text.split_once(['T', 't'])?;
    let b = date_text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&date_text[0..4])?;
    let month = digits(&date_text[5..7])?;
    let day = digits(&date_text[8..10])?;
    let (time_text, offset_minutes) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, Some(0))
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        (&rest[..pos], Some(offset(&rest[pos..])?))
    } else {
        (rest, None)
    };
    // ISO 8601 requires hours, minutes and seconds.
    if time_text.split(':').count() != 3 {
        return None;
    }
    let (h, mi, s, ticks, digits) = time_of_day(time_text, None)?;
    Some(ParsedDateTime {
        date: Some((year as i32, month, day)),
        time: Some((h, mi, s, ticks)),
        fraction_digits: digits,
        offset_minutes,
        day_month_ambiguous: false,
    })
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `+hh:mm` / `-hh:mm`, within ±14:00.
fn offset(text: &str) -> Option<i32> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m) = (digits(h)?, digits(m)?);
    if h > 14 || m > 59 || (h == 14 && m > 0) {
        return None;
    }
    Some(sign * (h * 60 + m) as i32)
}

/// `h[:mm[:ss[.fffffff|:mmm]]]` with an optional meridiem: (h, m, s, ticks, fraction digits).
fn time_of_day(text: &str, meridiem: Option<bool>) -> Option<(u32, u32, u32, u64, u8)> {
    let (main, fraction) = match text.split_once('.') {
        Some((main, f)) => (main, Some(f)),
        None => (text, None),
    };
    let fields: Vec<&str> = main.split(':').collect();
    if fields.len() > 4 || fields.iter().any(|f| f.is_empty() || f.len() > 2) {
        // `hh:mi:ss:mmm` allows three digits in the last field.
        if !(fields.len() == 4 && fields[3].len() <= 3 && !fields[3].is_empty()) {
            return None;
        }
    }
    let mut hour = digits(fields[0])?;
    let minute = fields.get(1).map_or(Some(0), |f| digits(f))?;
    let second = fields.get(2).map_or(Some(0), |f| digits(f))?;
    let mut ticks = 0u64;
    let mut fraction_digits = 0u8;
    if let Some(ms) = fields.get(3) {
        if fraction.is_some() {
            return None;
        }
        ticks = u64::from(digits(ms)?) * 10_000;
        fraction_digits = 3;
    }
    if let Some(f) = fraction {
        if !f.bytes().all(|b| b.is_ascii_digit()) || f.len() > 9 || fields.len() < 2 {
            return None;
        }
        fraction_digits = f.len() as u8;
        // Digits beyond the seventh round (datetime2(7) keeps 100 ns).
        let mut padded: String = f.chars().take(8).collect();
        while padded.len() < 8 {
            padded.push('0');
        }
        let eight: u64 = padded.parse().ok()?;
        ticks = (eight + 5) / 10;
    }
    if let Some(pm) = meridiem {
        if hour == 0 || hour > 12 {
            // `0 AM`/`13:00 PM`: SQL Server accepts hour 0 with AM and 13+ without change.
            if hour > 12 && !pm {
                return None;
            }
        } else if hour == 12 {
            hour = if pm { 12 } else { 0 };
        } else if pm {
            hour += 12;
        }
    }
    if hour > 23 || minute > 59 || second > 59 || ticks > 10_000_000 {
        return None;
    }
    Some((hour, minute, second, ticks, fraction_digits))
}

/// A two-digit year, with SQL Server's default cutoff (2049).
fn full_year(text: &str, value: u32) -> Option<i32> {
    match text.len() {
        1 | 2 => Some(if value < 50 {
            2000 + value
        } else {
            1900 + value
        } as i32),
        4 => Some(value as i32),
        _ => None,
    }
}

fn month_by_name(token: &str) -> Option<u32> {
    let lower = token.to_ascii_lowercase();
    if lower.len() < 3 {
        return None;
    }
    super::MONTH_NAMES
        .iter()
        .position(|name| {
            let name = name.to_ascii_lowercase();
            lower == name || lower == name[..3]
        })
        .map(|i| i as u32 + 1)
}

/// The date tokens: numeric with separators, unseparated digits, or with a month name.
fn date(tokens: &[&str]) -> Option<((i32, u32, u32), bool)> {
    if tokens.len() == 1 {
        let token = tokens[0];
        if let Some(sep) = token.chars().find(|c| matches!(c, '/' | '-' | '.')) {
            let fields: Vec<&str> = token.split(sep).collect();
            if fields.iter().any(|f| month_by_name(f).is_some()) {
                return named_month(&fields).map(|d| (d, false));
            }
            let parsed = separated(&fields)?;
            return Some((parsed, fields[0].len() <= 2));
        }
        if token.bytes().all(|b| b.is_ascii_digit()) {
            return unseparated(token).map(|d| (d, false));
        }
    }
    named_month(tokens).map(|d| (d, false))
}

/// `mm/dd/yyyy`, `m-d-yy`, `yyyy-mm-dd`, `yyyy/mm/dd`, `mm.dd.yyyy`.
fn separated(fields: &[&str]) -> Option<(i32, u32, u32)> {
    let [a, b, c] = fields else { return None };
    let (na, nb, nc) = (digits(a)?, digits(b)?, digits(c)?);
    if a.len() == 4 {
        if b.len() > 2 || c.len() > 2 {
            return None;
        }
        return Some((na as i32, nb, nc));
    }
    if a.len() > 2 || b.len() > 2 {
        return None;
    }
    Some((full_year(c, nc)?, na, nb))
}

/// `yyyymmdd`, `yymmdd`, or a bare `yyyy`.
fn unseparated(token: &str) -> Option<(i32, u32, u32)> {
    let n = |range: std::ops::Range<usize>| digits(&token[range]);
    match token.len() {
        8 => Some((n(0..4)? as i32, n(4..6)?, n(6..8)?)),
        6 => Some((full_year(&token[0..2], n(0..2)?)?, n(2..4)?, n(4..6)?)),
        4 => Some((n(0..4)? as i32, 1, 1)),
        _ => None,
    }
}

/// `Apr 15 2020`, `April 15, 2020`, `15 April 2020`, `2020 April 15`, `Apr 2020`.
fn named_month(tokens: &[&str]) -> Option<(i32, u32, u32)> {
    let mut month = None;
    let mut numbers: Vec<&str> = Vec::new();
    for token in tokens {
        if let Some(m) = month_by_name(token) {
            if month.replace(m).is_some() {
                return None;
            }
        } else if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            numbers.push(token);
        } else {
            return None;
        }
    }
    let month = month?;
    match numbers.as_slice() {
        [y] if y.len() == 4 => Some((digits(y)? as i32, month, 1)),
        [a, b] => {
            let (day, year) = if a.len() == 4 { (b, a) } else { (a, b) };
            if day.len() > 2 {
                return None;
            }
            Some((full_year(year, digits(year)?)?, month, digits(day)?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date_of(s: &str) -> (i32, u32, u32) {
        parse_datetime(s)
            .and_then(|p| p.date)
            .unwrap_or_else(|| panic!("{s}"))
    }

    fn time_of(s: &str) -> (u32, u32, u32, u64) {
        parse_datetime(s)
            .and_then(|p| p.time)
            .unwrap_or_else(|| panic!("{s}"))
    }

    #[test]
    fn numeric_dates() {
        for s in [
            "2024-05-01",
            "20240501",
            "05/01/2024",
            "5/1/2024",
            "05-01-2024",
            "05.01.2024",
            "2024/05/01",
            "5/1/24",
            "240501",
        ] {
            assert_eq!(date_of(s), (2024, 5, 1), "{s}");
        }
        assert_eq!(date_of("1/2/49").0, 2049);
        assert_eq!(date_of("1/2/50").0, 1950);
        assert_eq!(date_of("2024"), (2024, 1, 1));
    }

    #[test]
    fn month_names() {
        for s in [
            "Apr 15, 2020",
            "April 15 2020",
            "15 April 2020",
            "15-Apr-2020",
            "apr 15 2020",
            "2020 April 15",
        ] {
            assert_eq!(date_of(s), (2020, 4, 15), "{s}");
        }
        assert_eq!(date_of("May  1 2024 10:30AM"), (2024, 5, 1));
    }

    #[test]
    fn times() {
        assert_eq!(time_of("2024-05-01 10:30:00"), (10, 30, 0, 0));
        assert_eq!(time_of("2024-05-01T10:30:00.123"), (10, 30, 0, 1_230_000));
        assert_eq!(time_of("Apr 15, 2020 12:00 AM"), (0, 0, 0, 0));
        assert_eq!(time_of("May  1 2024 10:30PM"), (22, 30, 0, 0));
        assert_eq!(time_of("10 PM"), (22, 0, 0, 0));
        assert_eq!(time_of("10:30"), (10, 30, 0, 0));
        assert_eq!(time_of("10:30:05:5"), (10, 30, 5, 50_000));
        assert_eq!(time_of("10:30:05.1234567"), (10, 30, 5, 1_234_567));
        assert_eq!(parse_datetime("10:30").unwrap().date, None);
        assert_eq!(
            parse_datetime("2024-05-01 10:30:00.1234")
                .unwrap()
                .fraction_digits,
            4
        );
    }

    #[test]
    fn offsets() {
        let p = parse_datetime("2024-05-01T10:30:00Z").unwrap();
        assert_eq!(p.offset_minutes, Some(0));
        let p = parse_datetime("2024-05-01T10:30:00+02:00").unwrap();
        assert_eq!(p.offset_minutes, Some(120));
        let p = parse_datetime("2024-05-01 10:30:00 -05:30").unwrap();
        assert_eq!(p.offset_minutes, Some(-330));
    }

    #[test]
    fn rejects() {
        for s in [
            "abc",
            "2024-13",
            "2024-05-01T10:30",
            "25:00",
            "10:60",
            "1/2",
            "2024-05-01 10:30 AM PM",
            "13:00 AM",
            "Foo 1 2020",
            "1.5",
            "123456789",
        ] {
            assert_eq!(parse_datetime(s), None, "{s}");
        }
        assert!(parse_datetime("").is_some());
    }
}
