//! The checks a case makes on what crossed the link, beside each run's outcome: the mode and
//! features asked for, every device served, the order of closes, the buffer layout of a
//! prefix zone, a statement's message, the set released, and the INFO observations.

use crate::catalogue::{Case, Check, Expect, Tier};
use crate::judge::Judgement;
use crate::run::StepRecord;
use vdi_proto::config::{MediaMode, media_mode};
use vdi_proto::vdf;
use vdi_server::jobs::TraceEvent;

fn opened(records: &[StepRecord]) -> Option<(u32, u32)> {
    records.iter().flat_map(|r| &r.trace).find_map(|e| match e {
        TraceEvent::Opened {
            devices, features, ..
        } => Some((*devices, *features)),
        _ => None,
    })
}

pub(crate) fn check_trace(
    case: &Case,
    check: Check,
    tier: Tier,
    records: &[StepRecord],
    j: &mut Judgement<'_>,
) {
    match check {
        Check::RequestsComplete => match opened(records) {
            Some((_, f)) if f & vdf::REQUEST_COMPLETE != 0 => {}
            Some(_) => j.unmet(
                tier,
                "Create asks for VDF_RequestComplete (0x2000) [KB3188454]".into(),
                "the client's features lack VDF_RequestComplete".into(),
            ),
            None => j.unmet(
                tier,
                "the client creates its set".into(),
                "the server never opened a set".into(),
            ),
        },
        Check::ModeRequested => {
            let want = match case.mode {
                crate::catalogue::Mode::Pipe => MediaMode::Pipe,
                crate::catalogue::Mode::Tape => MediaMode::Tape,
                crate::catalogue::Mode::Disk => MediaMode::Disk,
            };
            let mut any = false;
            for (i, (r, step)) in records.iter().zip(&case.steps).enumerate() {
                let what = format!("run {} ({})", i + 1, step.op.name());
                let Some(f) = r.trace.iter().find_map(|e| match e {
                    TraceEvent::Opened { features, .. } => Some(*features),
                    _ => None,
                }) else {
                    continue;
                };
                any = true;
                let got = media_mode(f).ok();
                if got != Some(want) {
                    j.unmet(
                        tier,
                        format!("{what}: Create asks for {} mode", case.mode.name()),
                        format!(
                            "{what}: Create asked for {} (features 0x{f:x})",
                            match got {
                                Some(MediaMode::Pipe) => "pipe mode",
                                Some(MediaMode::Tape) => "tape mode",
                                Some(MediaMode::Disk) => "disk mode",
                                None => "no valid mode",
                            }
                        ),
                    );
                }
            }
            if !any {
                j.unmet(
                    tier,
                    "the client creates its set".into(),
                    "the server never opened a set".into(),
                );
            }
        }
        Check::AllDevicesOpened => {
            let mut seen: Vec<u16> = records[0]
                .trace
                .iter()
                .filter_map(|e| match e {
                    // The transport tells the server nothing when a device opens; a device
                    // that completed a command was opened and served.
                    TraceEvent::DeviceOpened { device } | TraceEvent::Completion { device, .. } => {
                        Some(*device)
                    }
                    _ => None,
                })
                .collect();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() != usize::from(case.devices) {
                j.unmet(
                    tier,
                    format!("the client opens and serves all {} device(s)", case.devices),
                    format!("{} device(s) completed a command", seen.len()),
                );
            }
        }
        Check::BufferLayout => {
            for (i, r) in records.iter().enumerate() {
                if let Err((expected, actual)) = buffer_layout(case, &r.trace) {
                    j.unmet(
                        tier,
                        format!("run {}: {expected}", i + 1),
                        format!("run {}: {actual}", i + 1),
                    );
                }
            }
        }
        Check::FailsWithMsg(number) => {
            for (i, (r, step)) in records.iter().zip(&case.steps).enumerate() {
                if step.expect != Expect::ServerFails {
                    continue;
                }
                let what = format!("run {} ({})", i + 1, step.op.name());
                let prefix = format!("Msg {number}:");
                if !r.errors.iter().any(|e| e.starts_with(&prefix)) {
                    j.unmet(
                        tier,
                        format!("{what}: the statement fails with Msg {number}"),
                        format!(
                            "{what}: {}",
                            if r.errors.is_empty() {
                                "no error message".to_string()
                            } else {
                                r.errors.join(" | ")
                            }
                        ),
                    );
                }
                if r.outcome.exit == Some(0) {
                    j.unmet(
                        tier,
                        format!("{what}: the client reports the failed statement (non-zero exit) [CONF-EXIT-001]"),
                        format!("{what}: exit code 0"),
                    );
                }
            }
        }
        Check::SetReleased => {
            for (i, r) in records.iter().enumerate() {
                if !r.leftover_regions.is_empty() {
                    j.unmet(
                        tier,
                        format!("run {}: no region of the set stays in /dev/shm (the client closes its set)", i + 1),
                        format!("run {}: left {}", i + 1, r.leftover_regions.join(", ")),
                    );
                }
            }
        }
        Check::Observe(observation) => {
            let (what, seen) = crate::observe::observe(observation, records);
            j.unmet(Tier::Info, what, seen);
        }
        Check::ClosesAfterServer => {
            for (i, r) in records.iter().enumerate() {
                let mut closed = std::collections::HashSet::new();
                for e in &r.trace {
                    match e {
                        TraceEvent::CloseDevice { device } => {
                            closed.insert(*device);
                        }
                        TraceEvent::ServerAbort => break,
                        TraceEvent::ClientClosed | TraceEvent::ClientAbort
                            if closed.len() < usize::from(case.devices) =>
                        {
                            let what = if *e == TraceEvent::ClientClosed {
                                "closed"
                            } else {
                                "aborted"
                            };
                            j.unmet(
                                tier,
                                format!("run {}: Close only after VD_E_CLOSE on every device [VDI-CLOSE-007]", i + 1),
                                format!(
                                    "run {}: the client {what} its set when {} of {} device(s) were closed",
                                    i + 1,
                                    closed.len(),
                                    case.devices
                                ),
                            );
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Checks the server's buffers against the client's prefix zone and alignment: `Err` is an
/// (expected, actual) pair.
fn buffer_layout(case: &Case, trace: &[TraceEvent]) -> Result<(), (String, String)> {
    let asked = trace.iter().find_map(|e| match e {
        TraceEvent::Opened {
            prefix_zone_size,
            alignment,
            ..
        } => Some((*prefix_zone_size, *alignment)),
        _ => None,
    });
    let want = (case.prefix_zone, case.client_alignment);
    match asked {
        None => {
            return Err((
                "the client creates its set".into(),
                "the server never opened a set".into(),
            ));
        }
        Some(got) if got != want => {
            return Err((
                format!(
                    "the client asks for prefixZoneSize {} and alignment {} as told",
                    want.0, want.1
                ),
                format!("prefixZoneSize {}, alignment {}", got.0, got.1),
            ));
        }
        Some(_) => {}
    }
    let (prefix, client_alignment) = want;
    let (server_alignment, max_transfer) = trace
        .iter()
        .find_map(|e| match e {
            TraceEvent::Configured {
                alignment,
                max_transfer_size,
                ..
            } => Some((*alignment, *max_transfer_size)),
            _ => None,
        })
        .unwrap_or((0, case.max_transfer));
    let align = u64::from(client_alignment.max(server_alignment).max(1));
    let mut buffers: Vec<u64> = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Command {
                code: vdi_proto::VdcCode::Read | vdi_proto::VdcCode::Write,
                buffer,
                ..
            } => Some(*buffer),
            _ => None,
        })
        .collect();
    buffers.sort_unstable();
    buffers.dedup();
    if buffers.is_empty() {
        return Err((
            "the server sends Reads or Writes with buffers".into(),
            "no data command was sent".into(),
        ));
    }
    let expected = || {
        format!(
            "every buffer starts on a {align}-byte boundary with {prefix} prefix-zone bytes before it that the server never touches"
        )
    };
    if let Some(b) = buffers.iter().find(|&&b| b % align != 0) {
        return Err((expected(), format!("a buffer at offset {b}")));
    }
    if buffers[0] < u64::from(prefix) {
        return Err((
            expected(),
            format!(
                "the first buffer at offset {} has no room for its prefix zone",
                buffers[0]
            ),
        ));
    }
    let stride = u64::from(prefix) + u64::from(max_transfer);
    if let Some(w) = buffers.windows(2).find(|w| w[1] - w[0] < stride) {
        return Err((
            expected(),
            format!(
                "buffers at offsets {} and {} overlap the second one's prefix zone",
                w[0], w[1]
            ),
        ));
    }
    for e in trace {
        if let TraceEvent::BufferTouched { offset, len } = e {
            // The buffer at or before `offset` must hold the whole range.
            let i = buffers.partition_point(|&b| b <= *offset);
            let inside = i > 0 && offset + len <= buffers[i - 1] + u64::from(max_transfer);
            if !inside {
                return Err((
                    expected(),
                    format!(
                        "the server touched bytes {offset}..{} outside every data buffer",
                        offset + len
                    ),
                ));
            }
        }
    }
    Ok(())
}
