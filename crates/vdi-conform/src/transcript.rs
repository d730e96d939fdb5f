//! Per-case transcripts (`--transcripts DIR`): what crossed the link as the server saw it and the
//! client library's own events, per client run; read back by `vdisim replay`.

use crate::catalogue::{CATALOGUE_VERSION, Case};
use crate::run::{CaseResult, ClientOutput, RunConfig, StepRecord, Verdict};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vdi_proto::transcript::Event;
use vdi_server::jobs::{JobFaults, TimedEvent, TraceEvent};

/// The first line of a conformance transcript.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TranscriptHeader {
    pub vdisim_conform: u32,
    pub catalogue: u32,
    pub case: String,
    pub seed: u64,
    pub client: String,
}

/// The file name of a case's transcript.
pub fn transcript_name(id: &str) -> String {
    format!("{}.jsonl", id.replace('/', "__"))
}

/// One client run, as a transcript keeps it and a case page draws it.
#[derive(Clone, Debug, Default)]
pub struct RunLog {
    /// What the client was asked to do (`{op}`).
    pub op: String,
    /// The server's faults for the run.
    pub faults: JobFaults,
    /// What crossed the link as the server saw it, with times (microseconds since the run's
    /// trace began).
    pub server: Vec<TimedEvent>,
    /// The client library's own events (times on the client's clock).
    pub client: Vec<Event>,
}

impl RunLog {
    /// The runs of `case` from what the harness recorded.
    pub fn of(case: &Case, records: &[StepRecord]) -> Vec<RunLog> {
        records
            .iter()
            .zip(&case.steps)
            .map(|(r, step)| RunLog {
                op: step.op.name().to_string(),
                faults: step.faults.clone(),
                server: r
                    .trace
                    .iter()
                    .zip(r.trace_us.iter().copied().chain(std::iter::repeat(0)))
                    .map(|(event, t_us)| TimedEvent {
                        t_us,
                        event: event.clone(),
                    })
                    .collect(),
                client: r
                    .client_lines
                    .iter()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect(),
            })
            .collect()
    }

    /// The server's events without their times.
    pub fn server_events(&self) -> Vec<TraceEvent> {
        self.server.iter().map(|e| e.event.clone()).collect()
    }
}

/// The verdict a transcript ends with.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RecordedResult {
    pub verdict: Option<Verdict>,
    #[serde(default)]
    pub expected: Vec<String>,
    #[serde(default)]
    pub actual: Vec<String>,
    #[serde(default)]
    pub client_output: Vec<ClientOutput>,
}

pub(crate) fn write_transcript(
    dir: &Path,
    case: &Case,
    config: &RunConfig,
    records: &[StepRecord],
    result: &CaseResult,
) -> std::io::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let path = dir.join(transcript_name(&case.id));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let header = TranscriptHeader {
        vdisim_conform: 1,
        catalogue: CATALOGUE_VERSION,
        case: case.id.clone(),
        seed: config.seed,
        client: config.client_label.clone(),
    };
    writeln!(out, "{}", serde_json::to_string(&header)?)?;
    for (i, (r, step)) in records.iter().zip(&case.steps).enumerate() {
        writeln!(
            out,
            "{}",
            serde_json::json!({"step": i, "op": step.op.name(), "faults": step.faults})
        )?;
        for (n, e) in r.trace.iter().enumerate() {
            let t_us = r.trace_us.get(n).copied().unwrap_or(0);
            writeln!(
                out,
                "{}",
                serde_json::json!({"step": i, "t_us": t_us, "server": e})
            )?;
        }
        for l in &r.client_lines {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
                writeln!(out, "{}", serde_json::json!({"step": i, "client": v}))?;
            }
        }
    }
    let recorded = RecordedResult {
        verdict: Some(result.verdict),
        expected: result.expected.clone(),
        actual: result.actual.clone(),
        client_output: result.client_output.clone(),
    };
    writeln!(out, "{}", serde_json::to_string(&recorded)?)?;
    out.flush()?;
    Ok(path)
}

/// A parsed conformance transcript.
#[derive(Clone, Debug)]
pub struct Transcript {
    pub header: TranscriptHeader,
    /// Per client run, what both sides recorded.
    pub runs: Vec<RunLog>,
    /// The verdict it ends with (`None`: the file was cut short).
    pub result: Option<RecordedResult>,
}

/// One line of a transcript after the header.
#[derive(Deserialize)]
struct Line {
    step: Option<usize>,
    #[serde(default)]
    t_us: u64,
    op: Option<String>,
    faults: Option<JobFaults>,
    server: Option<TraceEvent>,
    client: Option<Event>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// Reads a transcript written with `--transcripts`.
pub fn read_transcript(path: &Path) -> Result<Transcript, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: TranscriptHeader = lines
        .next()
        .ok_or("the transcript is empty")
        .and_then(|l| {
            serde_json::from_str(l).map_err(|_| "the first line is not a vdisim conform header")
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut runs: Vec<RunLog> = Vec::new();
    let mut result = None;
    for (n, text) in lines.enumerate() {
        let at = |e: serde_json::Error| format!("{}:{}: {e}", path.display(), n + 2);
        let line: Line = serde_json::from_str(text).map_err(at)?;
        let Some(step) = line.step else {
            if line.rest.contains_key("verdict") {
                result = Some(serde_json::from_str(text).map_err(at)?);
            }
            continue;
        };
        if runs.len() <= step {
            runs.resize_with(step + 1, RunLog::default);
        }
        let run = &mut runs[step];
        if let Some(op) = line.op {
            run.op = op;
        }
        if let Some(faults) = line.faults {
            run.faults = faults;
        }
        if let Some(event) = line.server {
            run.server.push(TimedEvent {
                t_us: line.t_us,
                event,
            });
        }
        if let Some(event) = line.client {
            run.client.push(event);
        }
    }
    Ok(Transcript {
        header,
        runs,
        result,
    })
}

/// The commands the server sent, per device (the part of a transcript the seed decides). Reads
/// sent after the one answered with the end of the data are cut: how many were already in
/// flight depends on the client's speed, as with SQL Server.
pub fn command_streams(events: &[TraceEvent]) -> Vec<Vec<String>> {
    let mut streams: Vec<Vec<String>> = Vec::new();
    let mut completed: Vec<usize> = Vec::new();
    let mut cut: Vec<Option<usize>> = Vec::new();
    for e in events {
        match e {
            TraceEvent::Command {
                device,
                code,
                size,
                position,
                ..
            } => {
                let d = usize::from(*device);
                if streams.len() <= d {
                    streams.resize_with(d + 1, Vec::new);
                }
                streams[d].push(format!("{code} size={size} pos={position}"));
            }
            TraceEvent::Completion {
                device, completion, ..
            } => {
                let d = usize::from(*device);
                if completed.len() <= d {
                    completed.resize(d + 1, 0);
                    cut.resize(d + 1, None);
                }
                completed[d] += 1;
                if cut[d].is_none() && vdi_proto::win32::is_end_of_data(*completion) {
                    cut[d] = Some(completed[d]);
                }
            }
            _ => {}
        }
    }
    for (d, stream) in streams.iter_mut().enumerate() {
        if let Some(Some(n)) = cut.get(d) {
            stream.truncate(*n);
        }
    }
    streams
}
