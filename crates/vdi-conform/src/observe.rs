//! INFO observations: what a client did, read from the link trace. They are reported in the
//! case's `actual` line and never change a verdict.

use crate::catalogue::Observation;
use crate::run::StepRecord;
use std::collections::BTreeMap;
use vdi_proto::{VdcCode, vdf, win32};
use vdi_server::jobs::TraceEvent;

/// (what is observed, what was seen).
pub fn observe(observation: Observation, records: &[StepRecord]) -> (String, String) {
    let first = records.first().map(|r| r.trace.as_slice()).unwrap_or(&[]);
    let last = records.last().map(|r| r.trace.as_slice()).unwrap_or(&[]);
    match observation {
        Observation::CreateRequest => (
            "observed: what the client asks for in Create".into(),
            create_request(first),
        ),
        Observation::FlushCompletions => (
            "observed: the Flushes the client was sent and how it completed them".into(),
            flush_completions(first),
        ),
        Observation::MostInFlight => (
            "observed: the most commands the client held at once per device (the server sends up to 4)"
                .into(),
            most_in_flight(first),
        ),
        Observation::EndOfData => (
            "observed: how each device reported the end of the data on RESTORE".into(),
            end_of_data(last),
        ),
        Observation::FinalCommand => (
            "observed: the last command of the backup on each device".into(),
            final_command(first),
        ),
        Observation::ExitAfterAbort => (
            "observed: the client's exit code after a server abort".into(),
            match records.first().map(|r| &r.outcome) {
                Some(o) if o.timed_out => "still running at the time limit".into(),
                Some(o) => match o.exit {
                    Some(code) => format!("exit code {code}"),
                    None => "killed by a signal".into(),
                },
                None => "the client did not run".into(),
            },
        ),
    }
}

fn create_request(trace: &[TraceEvent]) -> String {
    trace
        .iter()
        .find_map(|e| match e {
            TraceEvent::Opened {
                devices,
                features,
                prefix_zone_size,
                alignment,
                ..
            } => {
                let mut names = Vec::new();
                for (bit, name) in [
                    (vdf::REQUEST_COMPLETE, "VDF_RequestComplete"),
                    (vdf::REMOVABLE, "VDF_Removable"),
                    (vdf::RANDOM_ACCESS, "VDF_RandomAccess"),
                    (vdf::DISCARD, "VDF_Discard"),
                ] {
                    if features & bit != 0 {
                        names.push(name);
                    }
                }
                Some(format!(
                    "{devices} device(s), features 0x{features:x} [{}], prefixZoneSize {prefix_zone_size}, alignment {alignment}",
                    names.join(", ")
                ))
            }
            _ => None,
        })
        .unwrap_or_else(|| "the server never opened a set".into())
}

fn flush_completions(trace: &[TraceEvent]) -> String {
    let sent = trace
        .iter()
        .filter(|e| {
            matches!(
                e,
                TraceEvent::Command {
                    code: VdcCode::Flush,
                    ..
                }
            )
        })
        .count();
    let mut codes: BTreeMap<u32, usize> = BTreeMap::new();
    for e in trace {
        if let TraceEvent::Completion {
            code: VdcCode::Flush,
            completion,
            ..
        } = e
        {
            *codes.entry(*completion).or_default() += 1;
        }
    }
    let codes: Vec<String> = codes
        .iter()
        .map(|(code, n)| format!("{n} × {}", code_name(*code)))
        .collect();
    format!(
        "{sent} Flush(es) sent, completed: {}",
        if codes.is_empty() {
            "none".to_string()
        } else {
            codes.join(", ")
        }
    )
}

fn most_in_flight(trace: &[TraceEvent]) -> String {
    let mut now: BTreeMap<u16, i64> = BTreeMap::new();
    let mut most: BTreeMap<u16, i64> = BTreeMap::new();
    for e in trace {
        match e {
            TraceEvent::Command { device, .. } => {
                let n = now.entry(*device).or_default();
                *n += 1;
                let m = most.entry(*device).or_default();
                *m = (*m).max(*n);
            }
            TraceEvent::Completion { device, .. } => {
                *now.entry(*device).or_default() -= 1;
            }
            _ => {}
        }
    }
    if most.is_empty() {
        return "no command was sent".into();
    }
    most.iter()
        .map(|(d, m)| format!("device {d}: {m}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn end_of_data(trace: &[TraceEvent]) -> String {
    let mut ends: BTreeMap<u16, (u32, u32)> = BTreeMap::new();
    for e in trace {
        if let TraceEvent::Completion {
            device,
            code: VdcCode::Read,
            completion,
            bytes,
        } = e
            && win32::is_end_of_data(*completion)
        {
            ends.entry(*device).or_insert((*completion, *bytes));
        }
    }
    if ends.is_empty() {
        return "no device reported the end of its data".into();
    }
    ends.iter()
        .map(|(d, (code, bytes))| format!("device {d}: {} with {bytes} byte(s)", code_name(*code)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn final_command(trace: &[TraceEvent]) -> String {
    let mut last: BTreeMap<u16, VdcCode> = BTreeMap::new();
    for e in trace {
        if let TraceEvent::Command { device, code, .. } = e {
            last.insert(*device, *code);
        }
    }
    if last.is_empty() {
        return "no command was sent".into();
    }
    last.iter()
        .map(|(d, code)| format!("device {d}: {code}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn code_name(code: u32) -> String {
    let name = match code {
        win32::ERROR_SUCCESS => "ERROR_SUCCESS",
        win32::ERROR_HANDLE_EOF => "ERROR_HANDLE_EOF",
        win32::ERROR_NOT_SUPPORTED => "ERROR_NOT_SUPPORTED",
        win32::ERROR_IO_DEVICE => "ERROR_IO_DEVICE",
        win32::ERROR_OPERATION_ABORTED => "ERROR_OPERATION_ABORTED",
        _ => return code.to_string(),
    };
    format!("{name} ({code})")
}
