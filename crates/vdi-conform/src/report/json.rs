//! The JSON report, and the merge of shard reports (`vdisim conform merge`).

use super::{RunMeta, Summary};
use crate::catalogue::{Tier, catalogue};
use crate::run::{CaseResult, ClientOutput, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Version of the JSON report's layout (2: `client_output`, `area`, `started_at`,
/// `duration_ms`, `partition`, the ERROR verdict and `summary.errors`).
pub const JSON_SCHEMA_VERSION: u32 = 2;

/// The JSON report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JsonReport {
    pub schema_version: u32,
    #[serde(flatten)]
    pub meta: RunMeta,
    pub summary: Summary,
    pub cases: Vec<JsonCase>,
}

/// One case in the JSON report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JsonCase {
    pub id: String,
    /// The case's area (`stripe`, `media/tape`, …): a JUnit testsuite.
    #[serde(default)]
    pub area: String,
    pub tier: Tier,
    pub rule: String,
    pub section: String,
    pub verdict: Verdict,
    /// Expected lines joined by newlines (each line is one expectation); null on PASS.
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub duration_ms: u64,
    pub transcript: Option<String>,
    /// What each client run printed (the last lines of stdout and stderr).
    #[serde(default)]
    pub client_output: Vec<ClientOutput>,
}

/// Builds the JSON report.
pub fn json(results: &[CaseResult], meta: &RunMeta) -> JsonReport {
    let joined = |lines: &[String]| (!lines.is_empty()).then(|| lines.join("\n"));
    JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        meta: meta.clone(),
        summary: Summary::of(results),
        cases: results
            .iter()
            .map(|r| JsonCase {
                id: r.id.clone(),
                area: r.area.clone(),
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

impl JsonReport {
    /// The cases as results again (for JUnit and HTML of a merged report).
    pub fn results(&self) -> Vec<CaseResult> {
        let lines = |text: &Option<String>| {
            text.as_deref()
                .map(|t| t.split('\n').map(str::to_string).collect())
                .unwrap_or_default()
        };
        self.cases
            .iter()
            .map(|c| CaseResult {
                id: c.id.clone(),
                area: if c.area.is_empty() {
                    crate::catalogue::area_of(&c.id)
                } else {
                    c.area.clone()
                },
                tier: c.tier,
                rule: c.rule.clone(),
                section: c.section.clone(),
                verdict: c.verdict,
                expected: lines(&c.expected),
                actual: lines(&c.actual),
                duration_ms: c.duration_ms,
                transcript: c.transcript.as_ref().map(PathBuf::from),
                client_output: c.client_output.clone(),
            })
            .collect()
    }
}

/// Why shard reports cannot be merged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("no report to merge")]
    Nothing,
    #[error("{what} differs between the reports: {first} and {other}")]
    Differs {
        what: &'static str,
        first: String,
        other: String,
    },
    #[error("case {0} is in more than one report")]
    Duplicate(String),
}

/// Merges shard reports (`--partition k/n` runs of one selection) into one: the cases in
/// catalogue order, the summary recounted, started at the earliest start and lasting until
/// the latest end. The seed, the client and the catalogue version must agree.
pub fn merge(reports: &[JsonReport]) -> Result<JsonReport, MergeError> {
    let first = reports.first().ok_or(MergeError::Nothing)?;
    for r in &reports[1..] {
        for (what, a, b) in [
            (
                "the seed",
                first.meta.seed.to_string(),
                r.meta.seed.to_string(),
            ),
            (
                "the client",
                first.meta.client.clone(),
                r.meta.client.clone(),
            ),
            (
                "the catalogue version",
                first.meta.catalogue_version.to_string(),
                r.meta.catalogue_version.to_string(),
            ),
        ] {
            if a != b {
                return Err(MergeError::Differs {
                    what,
                    first: a,
                    other: b,
                });
            }
        }
    }
    let order: HashMap<String, usize> = catalogue()
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let mut seen = HashSet::new();
    let mut cases: Vec<JsonCase> = Vec::new();
    for c in reports.iter().flat_map(|r| &r.cases) {
        if !seen.insert(c.id.clone()) {
            return Err(MergeError::Duplicate(c.id.clone()));
        }
        cases.push(c.clone());
    }
    // Stable: cases of another catalogue keep their order, after the known ones.
    cases.sort_by_key(|c| order.get(&c.id).copied().unwrap_or(usize::MAX));
    let mut summary = Summary::default();
    for c in &cases {
        summary.count(c.verdict);
    }
    let spans: Vec<(u64, u64)> = reports
        .iter()
        .filter_map(|r| {
            let start = super::parse_utc(&r.meta.started_at)?;
            Some((start * 1000, start * 1000 + r.meta.duration_ms))
        })
        .collect();
    let start = spans.iter().map(|s| s.0).min();
    let end = spans.iter().map(|s| s.1).max();
    let meta = RunMeta {
        started_at: start.map_or_else(String::new, |s| super::utc_text(s / 1000)),
        duration_ms: match (start, end) {
            (Some(s), Some(e)) => e - s,
            _ => reports
                .iter()
                .map(|r| r.meta.duration_ms)
                .max()
                .unwrap_or(0),
        },
        partition: None,
        ..first.meta.clone()
    };
    Ok(JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        meta,
        summary,
        cases,
    })
}
