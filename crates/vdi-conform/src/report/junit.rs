//! The JUnit XML report.

use super::{RunMeta, output_lines};
use crate::run::{CaseResult, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::time::Duration;

/// What failed, in one line: the first Expected/Actual pair (and how many more there are).
fn message(r: &CaseResult) -> String {
    let mut m = format!("{} {} [{}]", r.verdict.name(), r.tier.name(), r.rule);
    if let (Some(e), Some(a)) = (r.expected.first(), r.actual.first()) {
        m.push_str(&format!(": expected {e}; actual {a}"));
        if r.expected.len() > 1 {
            m.push_str(&format!(" (and {} more)", r.expected.len() - 1));
        }
    }
    m
}

/// The JUnit XML: one testsuite per area (with the run's seed, catalogue version and client
/// as properties), one testcase per case (`name` = the case ID, `classname` =
/// `vdisim.conform.<area>`). FAIL is a failure whose message says what failed; WARN is a
/// failure under `strict`, else a pass with the warning in system-out; SKIP is skipped; ERROR
/// (the harness's) is an error. The client's output of a case that did not pass is its
/// system-out.
pub fn junit(results: &[CaseResult], strict: bool, meta: &RunMeta) -> Result<String, String> {
    let mut report = Report::new("vdisim conform");
    let mut areas: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for r in results {
        areas.entry(r.area.as_str()).or_default().push(r);
    }
    let mut properties = vec![
        Property::new("seed", meta.seed.to_string()),
        Property::new("catalogue_version", meta.catalogue_version.to_string()),
        Property::new("client", meta.client.clone()),
    ];
    if let Some(p) = &meta.partition {
        properties.push(Property::new("partition", p.clone()));
    }
    let mut total = Duration::ZERO;
    for (area, cases) in areas {
        let mut suite = TestSuite::new(area);
        suite.add_properties(properties.clone());
        let mut suite_time = Duration::ZERO;
        for r in cases {
            let text = r
                .expected
                .iter()
                .zip(&r.actual)
                .map(|(e, a)| format!("Expected: {e}\nActual: {a}"))
                .collect::<Vec<_>>()
                .join("\n");
            let message = message(r);
            let failure = |kind| {
                let mut s = TestCaseStatus::non_success(kind);
                s.set_message(message.clone());
                s.set_type(r.verdict.name());
                s.set_description(text.clone());
                s
            };
            let status = match r.verdict {
                Verdict::Pass | Verdict::Info => TestCaseStatus::success(),
                Verdict::Warn if !strict => TestCaseStatus::success(),
                Verdict::Fail | Verdict::Warn => failure(NonSuccessKind::Failure),
                Verdict::Error => failure(NonSuccessKind::Error),
                Verdict::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(text.clone());
                    s
                }
            };
            let mut case = TestCase::new(r.id.clone(), status);
            case.set_classname(format!("vdisim.conform.{}", area.replace('/', ".")));
            let time = Duration::from_millis(r.duration_ms);
            case.set_time(time);
            let output = output_lines(&r.client_output).join("\n");
            match r.verdict {
                Verdict::Info => {
                    case.set_system_out(format!("INFO: {}", r.actual.join("\n")));
                }
                Verdict::Warn if !strict => {
                    case.set_system_out(format!("{message}\n{text}\n{output}").trim_end());
                }
                Verdict::Pass => {}
                _ if !output.is_empty() => {
                    case.set_system_out(output);
                }
                _ => {}
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
