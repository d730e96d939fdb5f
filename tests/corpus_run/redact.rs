//! What changes between runs, taken out of the output before it is compared.

use regex::{Captures, Regex};
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The redactions of one corpus file. GUIDs are numbered in order of appearance, so that a
/// reader can still see which values are the same.
pub struct Redactor {
    /// Device-set names the runner made up, and what to show instead (longest first).
    renames: Vec<(String, String)>,
    guids: Vec<String>,
    /// The dates of "now" (yesterday, today, tomorrow, UTC): the ones a run writes.
    today: Vec<(i64, u32, u32)>,
    now_unix: i64,
}

static GUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b").unwrap()
});
/// `2026-12-03 08:17:08.123`, `2026-12-03T08:17:08`, a date alone.
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)?").unwrap()
});
/// `Dec  3 2026  8:17AM` (CONVERT style 0 and 100).
static TEXT_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d{4})(?: +\d{1,2}:\d{2}(?::\d{2}(?::\d{3})?)?[AP]M)?",
    )
    .unwrap()
});
/// `in 0.123 seconds (45.6 MB/sec)`
static RATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"in \d+\.\d+ seconds \(\d+\.\d+ MB/sec\)").unwrap());
/// The crate version in the `@@VERSION` text.
static VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bvdisim \d+\.\d+\.\d+\S*").unwrap());
static UNIX_TIME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b1\d{9}\b").unwrap());
/// Ola Hallengren's CommandExecute: `Duration: 00:00:01` (DATEDIFF counts second boundaries).
static DURATION_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^Duration: [\d.:]+$").unwrap());

/// A snapshot's measured freeze (59023): `was frozen for 12 ms for the snapshot`.
static FREEZE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"frozen for \d+ ms for the snapshot").unwrap());

/// Result-set columns whose values depend on timing or on the process: their digits are
/// masked (DATEDIFF(SECOND, start, finish) is 0 or 1 depending on where the second turns).
const TIMING_COLUMNS: &[&str] = &[
    "Duration",
    "RunningTime",
    "EstimatedTimeToGo",
    "MinutesAsleep",
    "HostProcessId",
    "host_process_id",
    "finish_unix",
];

/// The character spans of the columns of a sqlcmd dash line (`---- -----`).
fn column_spans(dashes: &[char]) -> Option<Vec<(usize, usize)>> {
    if dashes.first() != Some(&'-') || dashes.iter().any(|c| *c != '-' && *c != ' ') {
        return None;
    }
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in dashes.iter().enumerate() {
        match (c, start) {
            ('-', None) => start = Some(i),
            (' ', Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, dashes.len()));
    }
    Some(spans)
}

/// Masks the digits of the `TIMING_COLUMNS` in every result set of `text`.
fn mask_timing_columns(text: &str) -> String {
    let mut lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let mut i = 0;
    while i + 1 < lines.len() {
        let Some(spans) = column_spans(&lines[i + 1]) else {
            i += 1;
            continue;
        };
        let header = &lines[i];
        let masked: Vec<(usize, usize)> = spans
            .into_iter()
            .filter(|&(a, b)| {
                let name: String = header.iter().skip(a).take(b - a).collect();
                TIMING_COLUMNS
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(name.trim()))
            })
            .collect();
        let mut row = i + 2;
        while row < lines.len() && !lines[row].is_empty() {
            for &(a, b) in &masked {
                for c in lines[row].iter_mut().take(b).skip(a) {
                    if c.is_ascii_digit() {
                        *c = 'n';
                    }
                }
            }
            row += 1;
        }
        i = row;
    }
    let mut out: String = lines
        .iter()
        .map(|l| l.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Every digit as `n`: same width, so tables keep their layout.
fn mask(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { 'n' } else { c })
        .collect()
}

impl Redactor {
    pub fn new() -> Redactor {
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let day = now_unix.div_euclid(86_400);
        Redactor {
            renames: Vec::new(),
            guids: Vec::new(),
            today: (day - 1..=day + 1).map(civil_from_days).collect(),
            now_unix,
        }
    }

    /// Shows `made_up` (a device name the runner chose) as `shown`.
    pub fn rename(&mut self, made_up: &str, shown: &str) {
        self.renames.push((made_up.to_owned(), shown.to_owned()));
        self.renames.sort_by_key(|r| std::cmp::Reverse(r.0.len()));
    }

    fn is_now(&self, y: i64, m: u32, d: u32) -> bool {
        self.today.contains(&(y, m, d))
    }

    pub fn apply(&mut self, text: &str) -> String {
        // Dates first: masking keeps their length, so the timing columns' spans still fit (a
        // multi-line value, such as a batch's text, runs across those spans).
        let text = ISO_DATE.replace_all(text, |c: &Captures| {
            let (y, m, d) = (
                c[1].parse().unwrap(),
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
            );
            if self.is_now(y, m, d) {
                mask(&c[0])
            } else {
                c[0].to_owned()
            }
        });
        let text = TEXT_DATE.replace_all(&text, |c: &Captures| {
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let m = MONTHS.iter().position(|x| *x == &c[1]).unwrap() as u32 + 1;
            let (y, d) = (c[3].parse().unwrap(), c[2].trim().parse().unwrap());
            if self.is_now(y, m, d) {
                mask(&c[0])
            } else {
                c[0].to_owned()
            }
        });
        let mut text = mask_timing_columns(&text);
        for (from, to) in &self.renames {
            text = text.replace(from.as_str(), to);
        }
        let text = GUID.replace_all(&text, |c: &Captures| {
            let guid = c[0].to_uppercase();
            let n = match self.guids.iter().position(|g| *g == guid) {
                Some(i) => i + 1,
                None => {
                    self.guids.push(guid);
                    self.guids.len()
                }
            };
            format!("<guid-{n}>")
        });
        let text = RATE.replace_all(&text, "in <t> seconds (<rate> MB/sec)");
        let text = FREEZE.replace_all(&text, "frozen for <n> ms for the snapshot");
        let text = VERSION.replace_all(&text, "vdisim <version>");
        let text = DURATION_LINE.replace_all(&text, |c: &Captures| mask(&c[0]));
        let text = UNIX_TIME.replace_all(&text, |c: &Captures| {
            let t: i64 = c[0].parse().unwrap();
            if (t - self.now_unix).abs() < 3 * 86_400 {
                mask(&c[0])
            } else {
                c[0].to_owned()
            }
        });
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for day in [-1, 0, 1, 10_957, 20_790, 20_820] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn masks_now_but_keeps_fixed_dates() {
        let mut r = Redactor::new();
        let (y, m, d) = r.today[1];
        let now = format!("{y:04}-{m:02}-{d:02} 08:17:08.123");
        r.rename("{ABC}_1", "dev1");
        let out = r.apply(&format!(
            "{now} 2026-01-15 10:30:00 {{ABC}}_1 5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d 5A4B3C2D-1E0F-4A9B-8C7D-6E5F4A3B2C1D in 0.010 seconds (12.5 MB/sec)"
        ));
        assert_eq!(
            out,
            "nnnn-nn-nn nn:nn:nn.nnn 2026-01-15 10:30:00 dev1 <guid-1> <guid-1> in <t> seconds (<rate> MB/sec)"
        );
    }

    #[test]
    fn masks_timing_columns_only() {
        let table = "Name Duration Size\n---- -------- ----\nx           1   42\ny          12    7\n\n(2 rows affected)\nDuration: 00:00:01\n";
        assert_eq!(
            Redactor::new().apply(table),
            "Name Duration Size\n---- -------- ----\nx           n   42\ny          nn    7\n\n(2 rows affected)\nDuration: nn:nn:nn\n"
        );
    }
}
