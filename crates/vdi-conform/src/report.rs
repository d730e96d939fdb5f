//! Reports: a line per case for people, JSON and JUnit for machines, and the exit code.

use crate::run::{CaseResult, ClientOutput, Verdict};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Version of the JSON report's layout (2: `client_output`).
pub const JSON_SCHEMA_VERSION: u32 = 2;

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
            match r.verdict {
                Verdict::Pass => s.passed += 1,
                Verdict::Fail => s.failed += 1,
                Verdict::Warn => s.warned += 1,
                Verdict::Skip => s.skipped += 1,
                Verdict::Info => s.info += 1,
                Verdict::Error => s.errors += 1,
            }
        }
        s
    }

    /// The last stdout line: `N passed, N failed, N skipped` (`, N warnings`, `, N infos` and
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

/// One human line (plus Expected/Actual lines for a non-pass).
pub fn human(r: &CaseResult) -> String {
    let mut text = format!(
        "{:<4} {:<6} {} ({:.2} s)",
        r.verdict.name(),
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
            text.push_str(&format!("\n       Expected: {e}\n       Actual:   {a}"));
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

/// The JSON report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JsonReport {
    pub schema_version: u32,
    pub catalogue_version: u32,
    pub seed: u64,
    pub client: String,
    pub summary: Summary,
    pub cases: Vec<JsonCase>,
}

/// One case in the JSON report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JsonCase {
    pub id: String,
    pub tier: crate::catalogue::Tier,
    pub rule: String,
    pub section: String,
    pub verdict: Verdict,
    /// Expected lines joined by newlines; null on PASS.
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub duration_ms: u64,
    pub transcript: Option<String>,
    /// What each client run printed (the last lines of stdout and stderr).
    #[serde(default)]
    pub client_output: Vec<ClientOutput>,
}

/// Builds the JSON report.
pub fn json(results: &[CaseResult], seed: u64, client: &str) -> JsonReport {
    let joined = |lines: &[String]| (!lines.is_empty()).then(|| lines.join("\n"));
    JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        catalogue_version: crate::catalogue::CATALOGUE_VERSION,
        seed,
        client: client.to_string(),
        summary: Summary::of(results),
        cases: results
            .iter()
            .map(|r| JsonCase {
                id: r.id.clone(),
                tier: r.tier,
                rule: r.rule.clone(),
                section: r.section.clone(),
                verdict: r.verdict,
                expected: joined(&r.expected),
                actual: joined(&r.actual),
                duration_ms: r.duration_ms,
                transcript: r.transcript.as_ref().map(|p| p.display().to_string()),
                client_output: r.client_output.clone(),
            })
            .collect(),
    }
}

/// The JUnit XML: one testsuite per area, one testcase per case (`name` = the case ID,
/// `classname` = `vdisim.conform.<area>`). FAIL is a failure; WARN is a failure under
/// `strict`, else a pass with the warning in system-out; SKIP is skipped.
pub fn junit(results: &[CaseResult], strict: bool) -> Result<String, String> {
    let mut report = Report::new("vdisim conform");
    let mut areas: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        areas.entry(r.area.as_str()).or_default().push(r);
    }
    let mut total = Duration::ZERO;
    for (area, cases) in areas {
        let mut suite = TestSuite::new(area);
        let mut suite_time = Duration::ZERO;
        for r in cases {
            let text = r
                .expected
                .iter()
                .zip(&r.actual)
                .map(|(e, a)| format!("Expected: {e}\nActual: {a}"))
                .collect::<Vec<_>>()
                .join("\n");
            let message = format!("{} {} [{}]", r.verdict.name(), r.tier.name(), r.rule);
            let status = match r.verdict {
                Verdict::Pass | Verdict::Info => TestCaseStatus::success(),
                Verdict::Warn if !strict => TestCaseStatus::success(),
                Verdict::Fail | Verdict::Warn => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(message.clone());
                    s.set_type(r.verdict.name());
                    s.set_description(text.clone());
                    s
                }
                Verdict::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(text.clone());
                    s
                }
                Verdict::Error => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(message.clone());
                    s.set_type(r.verdict.name());
                    s.set_description(text.clone());
                    s
                }
            };
            let mut case = TestCase::new(r.id.clone(), status);
            case.set_classname(format!("vdisim.conform.{}", area.replace('/', ".")));
            let time = Duration::from_millis(r.duration_ms);
            case.set_time(time);
            let output = output_lines(&r.client_output).join("\n");
            match r.verdict {
                Verdict::Warn if !strict => {
                    case.set_system_out(format!("{message}\n{text}\n{output}").trim_end());
                }
                Verdict::Fail | Verdict::Warn | Verdict::Skip if !output.is_empty() => {
                    case.set_system_out(output);
                }
                _ => {}
            }
            if r.verdict == Verdict::Info {
                case.set_system_out(format!("INFO: {}", r.actual.join("\n")));
            }
            suite_time += time;
            suite.add_test_case(case);
        }
        suite.set_time(suite_time);
        total += suite_time;
        report.add_test_suite(suite);
    }
    report.set_time(total);
    report.to_string().map_err(|e| e.to_string())
}
