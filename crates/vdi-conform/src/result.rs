//! What a case comes to: its verdict, its Expected/Actual lines, and what the client printed.

use crate::catalogue::{Case, Tier};
use crate::run::StepRecord;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A case's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    Skip,
    /// An INFO case: an observation, never a failure.
    Info,
    /// The harness could not set the case up or exercise it: no verdict on the client.
    Error,
}

impl Verdict {
    /// `PASS`, `WARN`, `FAIL`, `SKIP`, `INFO`, `ERROR`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
            Verdict::Info => "INFO",
            Verdict::Error => "ERROR",
        }
    }
}

/// The result of one case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub area: String,
    pub tier: Tier,
    pub rule: String,
    pub section: String,
    pub verdict: Verdict,
    /// What was expected, one line per unmet expectation (empty on PASS).
    pub expected: Vec<String>,
    /// What happened, matching `expected` line by line.
    pub actual: Vec<String>,
    pub duration_ms: u64,
    /// The transcript file, with `--transcripts`.
    pub transcript: Option<PathBuf>,
    /// What each client run printed (the last lines), in run order.
    pub client_output: Vec<ClientOutput>,
}

/// What one client run printed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientOutput {
    /// The run's number in its case, from 1.
    pub run: usize,
    /// What it was asked to do (`{op}`).
    pub op: String,
    /// How it ended: `exit code 2`, `killed at the time limit`, `not run: …`.
    pub ended: String,
    /// The last lines of its stdout.
    pub stdout: String,
    /// The last lines of its stderr.
    pub stderr: String,
}

impl ClientOutput {
    /// The output of each run of `case`.
    pub fn of(case: &Case, records: &[StepRecord]) -> Vec<ClientOutput> {
        records
            .iter()
            .zip(&case.steps)
            .enumerate()
            .map(|(i, (r, step))| ClientOutput {
                run: i + 1,
                op: step.op.name().into(),
                ended: match &r.outcome.not_run {
                    Some(why) => format!("not run: {why}"),
                    None => crate::judge::describe_exit(&r.outcome),
                },
                stdout: r.outcome.stdout.clone(),
                stderr: r.outcome.stderr.clone(),
            })
            .collect()
    }

    /// Whether the run printed anything.
    pub fn is_empty(&self) -> bool {
        self.stdout.is_empty() && self.stderr.is_empty()
    }
}
