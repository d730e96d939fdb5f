//! Reports: a block per case for people (with colour on a terminal), a closing list of what
//! did not pass, JSON and JUnit for machines (`json`, `junit`), and the exit code.

mod json;
mod junit;

pub use json::{JSON_SCHEMA_VERSION, JsonCase, JsonReport, MergeError, json, merge};
pub use junit::junit;

use crate::run::{CaseResult, ClientOutput, Verdict};
use serde::{Deserialize, Serialize};

/// Counts per verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
    /// INFO cases (observations; they never fail).
    #[serde(default)]
    pub info: usize,
    /// Cases the harness could not set up or exercise (no verdict on the client).
    #[serde(default)]
    pub errors: usize,
}

impl Summary {
    /// Counts `results`.
    pub fn of(results: &[CaseResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            s.count(r.verdict);
        }
        s
    }

    /// Counts one verdict.
    pub fn count(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Warn => self.warned += 1,
            Verdict::Skip => self.skipped += 1,
            Verdict::Info => self.info += 1,
            Verdict::Error => self.errors += 1,
        }
    }

    /// The closing line: `N passed, N failed, N skipped` (`, N warnings`, `, N infos` and
    /// `, N harness errors` when any).
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        );
        if self.warned > 0 {
            line.push_str(&format!(", {} warnings", self.warned));
        }
        if self.info > 0 {
            line.push_str(&format!(", {} infos", self.info));
        }
        if self.errors > 0 {
            line.push_str(&format!(", {} harness errors", self.errors));
        }
        line
    }

    /// 1 when a MUST failed (or, with `strict`, a SHOULD warned); else 3 when the harness
    /// could not run or exercise a case; else 0.
    pub fn exit_code(&self, strict: bool) -> u8 {
        if self.failed > 0 || (strict && self.warned > 0) {
            1
        } else if self.errors > 0 {
            3
        } else {
            0
        }
    }
}

/// What a report says about the run as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMeta {
    pub seed: u64,
    /// The client as given to `--client`.
    pub client: String,
    pub catalogue_version: u32,
    /// When the run started, UTC (`2025-01-31T23:59:59Z`; empty: unknown).
    #[serde(default)]
    pub started_at: String,
    /// How long it took.
    #[serde(default)]
    pub duration_ms: u64,
    /// The `--partition` this run was (`count:1/3`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

/// `unix_secs` as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_text(unix_secs: u64) -> String {
    let (days, rem) = ((unix_secs / 86_400) as i64, unix_secs % 86_400);
    // Civil from days (H. Hinnant's algorithm), for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The inverse of [`utc_text`].
pub fn parse_utc(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// Now, as [`utc_text`] gives it.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_text(secs)
}

/// Terminal colour for the human report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// The verdict's name, coloured when `color`.
    pub fn verdict(&self, v: Verdict) -> String {
        let code = match v {
            Verdict::Pass => "32",
            Verdict::Fail => "1;31",
            Verdict::Warn => "33",
            Verdict::Skip => "2",
            Verdict::Info => "36",
            Verdict::Error => "1;35",
        };
        let name = format!("{:<4}", v.name());
        if self.color {
            format!("\x1b[{code}m{name}\x1b[0m")
        } else {
            name
        }
    }

    fn label(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// A case's block: `VERDICT TIER ID (time)`, then for a non-pass the rule, the Expected/Actual
/// pairs and the client's output; for INFO the observation.
pub fn human(r: &CaseResult) -> String {
    human_styled(r, Style::default())
}

/// [`human`] with colour.
pub fn human_styled(r: &CaseResult, style: Style) -> String {
    let mut text = format!(
        "{} {:<6} {} ({:.2} s)",
        style.verdict(r.verdict),
        r.tier.name(),
        r.id,
        r.duration_ms as f64 / 1000.0
    );
    if r.verdict == Verdict::Info {
        for a in &r.actual {
            text.push_str(&format!("\n       Observed: {a}"));
        }
    } else if r.verdict != Verdict::Pass {
        text.push_str(&format!(
            "\n       rule {} (vdi-facts §{})",
            r.rule, r.section
        ));
        for (e, a) in r.expected.iter().zip(&r.actual) {
            text.push_str(&format!(
                "\n       {} {e}\n       {}   {a}",
                style.label("Expected:"),
                style.label("Actual:")
            ));
        }
        for line in output_lines(&r.client_output) {
            text.push_str(&format!("\n       {line}"));
        }
    }
    text
}

/// The client's output of every run that printed something, as indented lines:
/// `Output of run 1 (backup; exit code 2):` then `  stderr| …` and `  stdout| …`.
pub fn output_lines(outputs: &[ClientOutput]) -> Vec<String> {
    let mut lines = Vec::new();
    for o in outputs.iter().filter(|o| !o.is_empty()) {
        lines.push(format!("Output of run {} ({}; {}):", o.run, o.op, o.ended));
        for (stream, text) in [("stderr", &o.stderr), ("stdout", &o.stdout)] {
            for l in text.lines() {
                lines.push(format!("  {stream}| {l}"));
            }
        }
    }
    lines
}

/// The list a report ends with: every FAIL, WARN and ERROR in catalogue order with its first
/// Expected/Actual pair (empty when there is none).
pub fn closing_list(results: &[CaseResult], style: Style) -> String {
    let listed: Vec<&CaseResult> = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error))
        .collect();
    if listed.is_empty() {
        return String::new();
    }
    let s = Summary::of(results);
    let mut counts = Vec::new();
    for (n, what) in [
        (s.failed, "failed"),
        (s.warned, "warned"),
        (s.errors, "harness error(s)"),
    ] {
        if n > 0 {
            counts.push(format!("{n} {what}"));
        }
    }
    let mut text = style.label(&format!("Not passed ({}):", counts.join(", ")));
    for r in listed {
        text.push_str(&format!("\n  {} {}", style.verdict(r.verdict), r.id));
        if let (Some(e), Some(a)) = (r.expected.first(), r.actual.first()) {
            let more = r.expected.len() - 1;
            text.push_str(&format!("\n       Expected: {e}\n       Actual:   {a}"));
            if more > 0 {
                text.push_str(&format!("\n       (and {more} more)"));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_and_back() {
        for (secs, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_796_285_517, "2026-12-03T08:11:57Z"),
            (4_107_542_399, "2100-02-28T23:59:59Z"),
        ] {
            assert_eq!(utc_text(secs), text);
            assert_eq!(parse_utc(text), Some(secs));
        }
        assert_eq!(parse_utc("2026-12-03 08:11:57"), None);
    }
}
