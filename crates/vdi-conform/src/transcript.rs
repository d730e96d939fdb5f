//! Per-case transcripts (`--transcripts DIR`): what crossed the link as the server saw it and the
//! client library's own events, per client run; read back by `vdisim replay`.

use crate::catalogue::{CATALOGUE_VERSION, Case};
use crate::run::{CaseResult, RunConfig, StepRecord};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vdi_server::jobs::TraceEvent;

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
        for e in &r.trace {
            writeln!(out, "{}", serde_json::json!({"step": i, "server": e}))?;
        }
        for l in &r.client_lines {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(l) {
                writeln!(out, "{}", serde_json::json!({"step": i, "client": v}))?;
            }
        }
    }
    writeln!(
        out,
        "{}",
        serde_json::json!({"verdict": result.verdict, "expected": result.expected, "actual": result.actual})
    )?;
    out.flush()?;
    Ok(path)
}

/// A parsed conformance transcript: the header and, per client run, what the server sent.
#[derive(Clone, Debug)]
pub struct Transcript {
    pub header: TranscriptHeader,
    /// Per run, the server's events.
    pub server: Vec<Vec<TraceEvent>>,
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
    let mut server: Vec<Vec<TraceEvent>> = Vec::new();
    for (n, line) in lines.enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 2))?;
        if let (Some(step), Some(event)) = (v.get("step").and_then(|s| s.as_u64()), v.get("server"))
        {
            let step = step as usize;
            if server.len() <= step {
                server.resize_with(step + 1, Vec::new);
            }
            let event: TraceEvent = serde_json::from_value(event.clone())
                .map_err(|e| format!("{}:{}: {e}", path.display(), n + 2))?;
            server[step].push(event);
        }
    }
    Ok(Transcript { header, server })
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
