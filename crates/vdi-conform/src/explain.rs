//! Cases in words: what a case's server does, what each run is asked, what is checked
//! (`vdisim conform --explain CASE`, the HTML case pages, and harness errors that name a fault).

use crate::catalogue::{Case, Check, Expect, Observation, ServerSide, Step, Tier};
use crate::client::{ClientKind, Invocation, expand};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;
use vdi_server::jobs::{Crash, FaultPoint, JobFaults, ReadSize};

/// Where a fault point lies, in words.
pub fn point_text(point: FaultPoint) -> String {
    match point {
        FaultPoint::Opened => "right after Open, before the configuration".into(),
        FaultPoint::Configured => "after the configuration, before the devices open".into(),
        FaultPoint::DevicesOpen => "with every device open, before the first command".into(),
        FaultPoint::AfterCompletions(n) => format!("after {n} completion(s)"),
        FaultPoint::BeforeFinal => "before the final Flush or VDC_Complete".into(),
        FaultPoint::FlushSent => "right after the first Flush was sent".into(),
        FaultPoint::AfterFinal => "after every command completed, before CloseDevice".into(),
    }
}

fn duration_text(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The faults and overrides a run's server is armed with, one phrase each (none: a normal job).
pub fn faults_text(f: &JobFaults) -> Vec<String> {
    let mut out = Vec::new();
    if !f.delay_before_configuration.is_zero() {
        out.push(format!(
            "configures the set {} after Open (GetConfiguration times out meanwhile)",
            duration_text(f.delay_before_configuration)
        ));
    }
    if let Some((after, d)) = f.pause {
        out.push(format!(
            "sends nothing for {} after command {after} (GetCommand times out meanwhile)",
            duration_text(d)
        ));
    }
    if f.mid_stream_flushes > 0 {
        out.push(format!(
            "sends {} extra Flush(es) to every device, spread over the data",
            f.mid_stream_flushes
        ));
    }
    if f.refuse_complete {
        out.push(
            "grants no VDC_Complete although asked (an older server): the backup ends with a Flush"
                .into(),
        );
    }
    if f.complete_without_final_flush {
        out.push(
            "sends VDC_Complete with no final Flush before it (vdisim's end before decision 43)"
                .into(),
        );
    }
    if let Some(point) = f.abort_at {
        let what = match f.crash {
            Crash::No => "signals abort",
            Crash::Emulated => {
                "crashes (emulated: an abort, and the statement ends with severe error 59019)"
            }
            Crash::KillProcess => {
                "kills its own process with SIGKILL (no abort, nothing cleaned up)"
            }
            Crash::Cancel => {
                "cancels the statement as an ATTENTION (a driver's query timeout) does: aborts the set, 3204"
            }
        };
        out.push(format!("{what} {}", point_text(point)));
    }
    if let Some((after, code)) = f.inject {
        out.push(format!(
            "sends {code} to device 0 after {after} data command(s) (the client must refuse it with an error, then serve ClearError)"
        ));
    }
    if f.close_devices_early {
        out.push(
            "calls CloseDevice right after each device's last command, before its completion"
                .into(),
        );
    }
    match f.read_size {
        ReadSize::Random => {}
        ReadSize::Block => out.push("reads one block at a time".into()),
        ReadSize::Max => out.push("reads MAXTRANSFERSIZE at a time".into()),
        ReadSize::Blocks(n) => out.push(format!("reads {n} blocks at a time")),
    }
    if let Some(n) = f.corrupt_read {
        out.push(format!(
            "flips a byte of Read {n}'s data before checking it (damaged media)"
        ));
    }
    if let Some(n) = f.buffer_count {
        out.push(format!("uses BUFFERCOUNT {n}"));
    }
    if f.alignment > 0 {
        out.push(format!("aligns its buffers to {} bytes", f.alignment));
    }
    if f.force_compression {
        out.push("compresses the stream".into());
    }
    if let Some(hold) = f.freeze_hold {
        out.push(format!(
            "holds the snapshot's freeze {} ms before part 2 of the metadata",
            hold.as_millis()
        ));
    }
    if f.force_checksum {
        out.push("checksums the stream".into());
    }
    out
}

/// What a check verifies, in words.
pub fn check_text(check: Check, case: &Case) -> String {
    match check {
        Check::RequestsComplete => "Create asks for VDF_RequestComplete".into(),
        Check::ModeRequested => format!("every Create asks for {} mode", case.mode.name()),
        Check::AllDevicesOpened => format!(
            "the client opens and serves all {} device(s)",
            case.devices
        ),
        Check::ClosesAfterServer => {
            "the client closes or aborts its set only after the server's CloseDevice on every device"
                .into()
        }
        Check::BufferLayout => format!(
            "every buffer is aligned to the larger of the client's ({}) and the server's alignment, with a {}-byte prefix zone in front that the server never touches",
            case.client_alignment, case.prefix_zone
        ),
        Check::FailsWithMsg(n) => format!(
            "the failing run's statement fails with Msg {n} and the client exits non-zero"
        ),
        Check::SetReleased => "no region of the client's set stays in /dev/shm".into(),
        Check::Observe(o) => format!(
            "reports (never fails): {}",
            match o {
                Observation::CreateRequest => "what Create asks for",
                Observation::FlushCompletions => "how the client completes Flushes",
                Observation::MostInFlight => "the most commands held at once per device",
                Observation::EndOfData => "how each device reports the end of the data",
                Observation::FinalCommand => "the last command of the backup per device",
                Observation::ExitAfterAbort => "the exit code after a server abort",
            }
        ),
    }
}

/// What a run must end in, in words.
pub fn expectation_text(step: &Step) -> String {
    match (step.expect, step.server) {
        (Expect::Success, _) if step.tier == Tier::Must => {
            "the statement succeeds and the client exits 0 (MUST)".into()
        }
        (Expect::Success, _) => format!(
            "the statement succeeds and the client exits 0 ({} if the client gave up, aborting or closing its set before the server finished; MUST otherwise)",
            step.tier.name()
        ),
        (Expect::ServerFails, ServerSide::ChildProcess) => {
            "the client sees the server die, exits non-zero within the notice bound and leaves nothing in /dev/shm (MUST)".into()
        }
        (Expect::ServerFails, ServerSide::InProcess) => {
            "the statement fails; the client ends and should exit non-zero (SHOULD)".into()
        }
    }
}

/// The whole explanation of `case`; with a client (and how it was given), also how that
/// client is run (a template's command lines expanded, `SCRATCH` for the scratch directory).
pub fn explain(case: &Case, client: Option<(&ClientKind, &str)>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}  {}", case.id, case.tier.name());
    let _ = writeln!(s, "  {}", case.summary);
    let _ = writeln!(s, "  rule {}, vdi-facts §{}", case.rule, case.section);
    let _ = writeln!(
        s,
        "Server: database {} ({} MiB, full recovery); BLOCKSIZE {} and MAXTRANSFERSIZE {} unless the statement sets them",
        crate::run::DATABASE,
        case.database_bytes >> 20,
        case.block_size,
        case.max_transfer
    );
    match client {
        Some((ClientKind::Builtin(_), label)) => {
            let _ = writeln!(s, "Client: {label} (the reference client, in this process)");
        }
        Some((ClientKind::Template(_), _)) => {
            let _ = writeln!(
                s,
                "Client: the template, each run through sh -c with the placeholders substituted (SCRATCH: the case's scratch directory)"
            );
        }
        None => {}
    }
    for (i, step) in case.steps.iter().enumerate() {
        let devices = step.devices.unwrap_or(case.devices);
        let _ = writeln!(
            s,
            "Run {} of {}: {} over {devices} device(s), {} mode, media directory {}{}",
            i + 1,
            case.steps.len(),
            step.op.name(),
            case.mode.name(),
            step.media,
            if step.workload_before {
                ", after a workload changed the database"
            } else {
                ""
            }
        );
        if step.server == ServerSide::ChildProcess {
            let _ = writeln!(
                s,
                "  the server is a child process (vdisim __conform-server)"
            );
        }
        for f in faults_text(&step.faults) {
            let _ = writeln!(s, "  the server {f}");
        }
        if step.kill_client_frozen {
            let _ = writeln!(
                s,
                "  the harness kills the client (SIGKILL, its process group) once the database is frozen; the built-in client runs as vdisim processes for it"
            );
        }
        if let Some(limit) = step.max_freeze {
            let _ = writeln!(
                s,
                "  the server aborts a snapshot frozen longer than {:.1} s (--max-freeze, time-scaled)",
                limit.as_secs_f64()
            );
        }
        let _ = writeln!(s, "  expected: {}", expectation_text(step));
        if let Some((ClientKind::Template(template), _)) = client {
            // The case's scratch directory is made when it runs; `SCRATCH` stands for it.
            let dir = format!("SCRATCH/media-{}", step.media);
            let inv = Invocation {
                op: step.op,
                db: crate::run::DATABASE,
                dir: Path::new(&dir),
                socket: Path::new("SCRATCH/sqlservr.sock"),
                devices,
                mode: case.mode,
                transcript: Path::new("SCRATCH/client.jsonl"),
                bin_dir: Path::new("SCRATCH/bin"),
                limit: Duration::ZERO,
                prefix_zone: case.prefix_zone,
                alignment: case.client_alignment,
                stop_at: (step.op == crate::catalogue::Op::RestoreLogStopAt)
                    .then_some("STOPAT-TIME"),
                tds: "127.0.0.1,PORT",
                kill_when: None,
            };
            if (case.prefix_zone, case.client_alignment) != (0, 0)
                && !template.contains("{prefix}")
                && !template.contains("{alignment}")
            {
                let _ = writeln!(
                    s,
                    "  not run: the template has no {{prefix}} or {{alignment}} placeholder (SKIP)"
                );
            } else {
                let _ = writeln!(s, "  runs: {}", expand(template, &inv));
            }
        }
    }
    let _ = writeln!(
        s,
        "Every run: the client ends within the time limit, and no misuse rule appears in its transcript (MUST)."
    );
    if !case.checks.is_empty() {
        let _ = writeln!(s, "Checks on what crossed the link:");
        for (check, tier) in &case.checks {
            let tier = if *tier == Tier::Info {
                "INFO"
            } else {
                tier.name()
            };
            let _ = writeln!(s, "  {} ({tier})", check_text(*check, case));
        }
    }
    let _ = writeln!(
        s,
        "Exit 77 from any run: SKIP (the client does not support what the run asks)."
    );
    s
}
