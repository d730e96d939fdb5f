//! WAITFOR DELAY and TIME: how long to wait.

use super::statements::Run;
use crate::ast::WaitFor;
use crate::messages::{self, SqlMessage};
use crate::value::Value;

impl Run<'_> {
    pub(crate) fn wait_milliseconds(&mut self, wait: &WaitFor) -> Result<u64, SqlMessage> {
        let (e, is_time) = match wait {
            WaitFor::Delay(e) => (e, false),
            WaitFor::Time(e) => (e, true),
        };
        let (ty, value) = self.evaluate(e)?;
        let text = match value {
            Value::DateTime(d) => crate::resultset::value_text(&Value::DateTime(d), ty)
                .split(' ')
                .nth(1)
                .unwrap_or("00:00:00")
                .to_owned(),
            other => crate::resultset::value_text(&other, ty),
        };
        let bad = || messages::incorrect_time_syntax(self.line, &text);
        let millis = parse_clock(&text).ok_or_else(bad)?;
        if !is_time {
            return Ok(millis);
        }
        // WAITFOR TIME: until that time of day, today or tomorrow.
        let (now, _) = self.host.now();
        let now_ms = now.ticks / 10_000;
        Ok(if millis >= now_ms {
            millis - now_ms
        } else {
            millis + 86_400_000 - now_ms
        })
    }
}

/// `hh:mm[:ss[.fff]]` to milliseconds (WAITFOR's format, at most 24 hours).
fn parse_clock(text: &str) -> Option<u64> {
    let text = text.trim();
    let (clock, fraction) = match text.split_once('.') {
        Some((c, f)) => (c, f),
        None => (text, ""),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let hours = number(parts[0])?;
    let minutes = number(parts[1])?;
    let seconds = parts.get(2).map_or(Some(0), |s| number(s))?;
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let millis = if fraction.is_empty() {
        0
    } else if fraction.len() <= 3 && fraction.bytes().all(|b| b.is_ascii_digit()) {
        fraction.parse::<u64>().ok()? * 10u64.pow(3 - fraction.len() as u32)
    } else {
        return None;
    };
    Some(((hours * 60 + minutes) * 60 + seconds) * 1000 + millis)
}

#[cfg(test)]
mod clock_tests {
    use super::parse_clock;

    #[test]
    fn waitfor_clock_forms() {
        assert_eq!(parse_clock("00:00:03"), Some(3000));
        assert_eq!(parse_clock("00:01"), Some(60_000));
        assert_eq!(parse_clock("01:00:00.5"), Some(3_600_500));
        assert_eq!(parse_clock("24:00:00"), None);
        assert_eq!(parse_clock("abc"), None);
        assert_eq!(parse_clock("1:2:3:4"), None);
    }
}
