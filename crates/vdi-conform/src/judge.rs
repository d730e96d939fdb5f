//! Verdicts: what each client run and the link traffic must show, as Expected/Actual lines.

use crate::catalogue::{Case, Expect, Step, Tier};
use crate::client::{ClientOutcome, EXIT_UNSUPPORTED};
use crate::run::{CaseResult, StepRecord, Verdict};
use vdi_proto::VdcCode;
use vdi_server::engine::jobs::JobResult;
use vdi_server::jobs::{JobFaults, TraceEvent};

pub(crate) struct Judgement<'a> {
    result: &'a mut CaseResult,
    worst: Option<Tier>,
    /// The harness could not run or exercise part of the case (not the client's doing).
    harness_failed: bool,
}

impl Judgement<'_> {
    pub(crate) fn unmet(&mut self, tier: Tier, expected: String, actual: String) {
        // One line each, whatever the texts hold: reports join and split them on newlines.
        self.result.expected.push(expected.replace('\n', " "));
        self.result.actual.push(actual.replace('\n', " "));
        if tier != Tier::Info {
            self.worst = Some(self.worst.map_or(tier, |w| w.min(tier)));
        }
    }

    /// The harness's own failure: an ERROR unless the client failed something too.
    fn harness_error(&mut self, expected: String, actual: String) {
        self.unmet(Tier::Info, expected, actual);
        self.harness_failed = true;
    }
}

/// How a client run ended, in words.
pub fn describe_exit(o: &ClientOutcome) -> String {
    match o.exit {
        Some(code) => format!("exit code {code}"),
        None if o.timed_out => "killed at the time limit".into(),
        None => "killed by a signal".into(),
    }
}

/// Sets the verdict and the Expected/Actual lines of `result` from the records.
pub fn judge(case: &Case, records: &[StepRecord], result: &mut CaseResult) {
    let declined = records
        .iter()
        .zip(&case.steps)
        .enumerate()
        .find(|(_, (r, _))| {
            r.outcome.not_run.is_some() || r.outcome.exit == Some(EXIT_UNSUPPORTED)
        });
    if let Some((i, (r, step))) = declined {
        result.verdict = Verdict::Skip;
        let run = format!("run {} of {} ({})", i + 1, case.steps.len(), step.op.name());
        let devices = step.devices.unwrap_or(case.devices);
        let mut expected = format!(
            "{run}: the client supports {} over {devices} device(s) in {} mode",
            step.op.name(),
            case.mode.name()
        );
        if let Some(last) = case.steps.last()
            && last.op != step.op
        {
            expected.push_str(&format!(" (this {} case needs it first)", last.op.name()));
        }
        if case.prefix_zone > 0 || case.client_alignment > 0 {
            expected = format!(
                "{run}: the client can be asked for prefixZoneSize {} and alignment {}",
                case.prefix_zone, case.client_alignment
            );
        }
        result.expected.push(expected);
        result.actual.push(match &r.outcome.not_run {
            Some(why) => format!("{run}: not run: {why}"),
            None => format!("{run}: the client exited with {EXIT_UNSUPPORTED} (not supported)"),
        });
        return;
    }
    let mut j = Judgement {
        result,
        worst: None,
        harness_failed: false,
    };
    for (i, (r, step)) in records.iter().zip(&case.steps).enumerate() {
        let what = format!("run {} ({})", i + 1, step.op.name());
        let o = &r.outcome;
        if let Some(e) = &r.harness_error {
            j.harness_error(
                format!("{what}: the harness sets the run up"),
                format!("{what}: harness error: {e}"),
            );
            continue;
        }
        if o.timed_out {
            j.unmet(
                Tier::Must,
                format!("{what}: the client ends within {} s", o.elapsed.as_secs()),
                format!(
                    "{what}: still running after {} s; killed",
                    o.elapsed.as_secs()
                ),
            );
            continue;
        }
        let mut misuse: Vec<String> = o.misuse.iter().map(|r| r.info().id.to_string()).collect();
        misuse.dedup();
        if !misuse.is_empty() {
            let first = o.misuse[0].info();
            j.unmet(
                Tier::Must,
                format!("{what}: no misuse of the VDI API"),
                format!("{what}: {} ({})", misuse.join(", "), first.summary),
            );
        }
        match step.expect {
            Expect::Success => {
                if r.job != Some(JobResult::Succeeded) {
                    // Only a client that gave up (aborted or closed its set before the server
                    // finished) fails the step's own tier; anything else is a MUST failure.
                    // So does a snapshot that held the freeze past the server's limit (59025).
                    let tier = if gave_up(&r.trace) || froze_too_long(&r.errors) {
                        step.tier
                    } else {
                        Tier::Must
                    };
                    let why = match (&r.job, r.errors.first()) {
                        (None, _) => format!(
                            "no BACKUP or RESTORE reached the server ({})",
                            describe_exit(o)
                        ),
                        (Some(_), Some(e)) => format!("the statement failed: {e}"),
                        (Some(_), None) => "the statement failed".to_string(),
                    };
                    j.unmet(
                        tier,
                        format!("{what}: the statement succeeds"),
                        format!("{what}: {why}"),
                    );
                } else {
                    if o.exit != Some(0) {
                        j.unmet(
                            Tier::Must,
                            format!(
                                "{what}: the client reports the success (exit code 0) [CONF-EXIT-001]"
                            ),
                            format!("{what}: {}", describe_exit(o)),
                        );
                    }
                    if let Some((fault, why)) = unexercised(step, &r.trace) {
                        j.harness_error(
                            format!("{what}: the server {fault}"),
                            format!("{what}: {why}: the fault was not exercised (a harness error)"),
                        );
                    }
                }
            }
            Expect::ServerFails if r.crash.is_some() => {
                judge_crash(&what, step, r, &mut j);
            }
            Expect::ServerFails => {
                if r.job == Some(JobResult::Succeeded) {
                    let faults = crate::explain::faults_text(&step.faults);
                    j.harness_error(
                        format!(
                            "{what}: the statement fails ({})",
                            if faults.is_empty() {
                                "the case's scenario".to_string()
                            } else {
                                format!("the server {}", faults.join("; "))
                            }
                        ),
                        format!(
                            "{what}: the statement succeeded after {} command(s): the fault was not exercised (a harness error)",
                            commands_sent(&r.trace)
                        ),
                    );
                } else if o.exit == Some(0) {
                    j.unmet(
                        Tier::Should,
                        format!("{what}: the client reports the failed statement (non-zero exit) [CONF-EXIT-001]"),
                        format!("{what}: exit code 0"),
                    );
                }
            }
        }
    }
    for (check, tier) in &case.checks {
        crate::checks::check_trace(case, *check, *tier, records, &mut j);
    }
    let (worst, harness_failed) = (j.worst, j.harness_failed);
    result.verdict = match worst {
        // An INFO case reports; it never fails.
        _ if case.tier == Tier::Info && !harness_failed => Verdict::Info,
        // The client's own failures stand; otherwise the harness's failure is no verdict on it.
        Some(Tier::Must) => Verdict::Fail,
        _ if harness_failed => Verdict::Error,
        None => Verdict::Pass,
        Some(_) => Verdict::Warn,
    };
    if result.verdict == Verdict::Pass {
        // INFO observations stay in the report but do not change a pass.
        if result.expected.is_empty() {
            result.actual.clear();
        }
    }
}

/// A run whose server process killed itself: the client must notice within the bound,
/// report the failure, and leave no region of its set behind.
fn judge_crash(what: &str, step: &Step, r: &StepRecord, j: &mut Judgement<'_>) {
    let Some(crash) = &r.crash else { return };
    let o = &r.outcome;
    if !crash.server_killed {
        let point = step.faults.abort_at.map_or_else(String::new, |p| {
            format!(" ({})", crate::explain::point_text(p))
        });
        if ended_normally(&r.trace) {
            // The stream ended before the crash point: nothing the client did or could do.
            j.harness_error(
                format!("{what}: the server process reaches its crash point{point}"),
                format!(
                    "{what}: the statement ended normally after {} command(s), before the crash point: the crash was not exercised (a harness error)",
                    commands_sent(&r.trace)
                ),
            );
            return;
        }
        j.unmet(
            Tier::Info,
            format!("{what}: the server process reaches its crash point{point}"),
            format!(
                "{what}: the server never got there (the client's run ended the statement first); the crash was not exercised"
            ),
        );
    }
    if o.exit == Some(0) {
        j.unmet(
            Tier::Must,
            format!(
                "{what}: the client reports the failure of a server that died (non-zero exit) [CONF-EXIT-001]"
            ),
            format!("{what}: exit code 0"),
        );
    }
    if let Some(after) = crash.noticed_after
        && after > crash.notice_bound
    {
        j.unmet(
            Tier::Must,
            format!(
                "{what}: the client sees VD_E_ABORT and ends within {:.0} s of the server's death [VDI-PEER-001]",
                crash.notice_bound.as_secs_f64()
            ),
            format!("{what}: it ended {:.1} s after", after.as_secs_f64()),
        );
    }
    if !crash.leftover_regions.is_empty() {
        j.unmet(
            Tier::Must,
            format!(
                "{what}: no shared-memory region of the set stays in /dev/shm once the client ended (decisions 31)"
            ),
            format!("{what}: left {}", crash.leftover_regions.join(", ")),
        );
    }
}

/// How many commands the server sent.
fn commands_sent(trace: &[TraceEvent]) -> usize {
    trace
        .iter()
        .filter(|e| matches!(e, TraceEvent::Command { .. }))
        .count()
}

/// Whether the server ended the set normally: it closed it without an abort from either side
/// or a fault of the peer.
fn ended_normally(trace: &[TraceEvent]) -> bool {
    trace.contains(&TraceEvent::ServerClosed)
        && !trace.iter().any(|e| {
            matches!(
                e,
                TraceEvent::ServerAbort | TraceEvent::ClientAbort | TraceEvent::PeerFault { .. }
            )
        })
}

/// A fault of a run that must succeed which the stream never reached: (the fault, what
/// happened instead). Only faults that wait for a number of commands can be missed.
fn unexercised(step: &Step, trace: &[TraceEvent]) -> Option<(String, String)> {
    let sent = commands_sent(trace);
    if let Some((after, _)) = step.faults.pause
        && sent < after as usize
    {
        let fault = crate::explain::faults_text(&JobFaults {
            pause: step.faults.pause,
            ..JobFaults::default()
        });
        return Some((
            fault.join(""),
            format!("the server sent only {sent} command(s)"),
        ));
    }
    if let Some((after, code)) = step.faults.inject
        && step.op.is_backup()
        && !trace
            .iter()
            .any(|e| matches!(e, TraceEvent::Command { code: c, .. } if *c == code))
    {
        let data = trace
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    TraceEvent::Command {
                        code: VdcCode::Write,
                        ..
                    }
                )
            })
            .count();
        return Some((
            format!("sends {code} after {after} data command(s)"),
            format!("the stream had only {data} Write(s)"),
        ));
    }
    None
}

/// Whether the server aborted a snapshot for holding the freeze past `--max-freeze` (59025).
fn froze_too_long(errors: &[String]) -> bool {
    errors.iter().any(|e| e.starts_with("Msg 59025:"))
}

/// Whether the client aborted or closed its set before the server aborted or closed it.
fn gave_up(trace: &[TraceEvent]) -> bool {
    for e in trace {
        match e {
            TraceEvent::ClientAbort | TraceEvent::ClientClosed => return true,
            TraceEvent::ServerAbort | TraceEvent::ServerClosed | TraceEvent::CloseDevice { .. } => {
                return false;
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::catalogue;
    use crate::run::{CrashRecord, run_case_result};

    fn case(id: &str) -> Case {
        catalogue().into_iter().find(|c| c.id == id).unwrap()
    }

    fn command(device: u16) -> TraceEvent {
        TraceEvent::Command {
            device,
            code: VdcCode::Write,
            size: 65536,
            position: 0,
            buffer: 0,
        }
    }

    fn exited(code: i32) -> ClientOutcome {
        ClientOutcome {
            exit: Some(code),
            ..ClientOutcome::default()
        }
    }

    /// The server finished the statement before its crash point: a harness error, and the
    /// client's exit code 0 (right for a statement that succeeded) is not held against it.
    #[test]
    fn a_crash_the_stream_never_reached_is_a_harness_error() {
        let case = case("crash/backup/mid-stream/devices-1");
        let record = StepRecord {
            outcome: exited(0),
            crash: Some(CrashRecord::default()),
            trace: vec![command(0), command(0), TraceEvent::ServerClosed],
            ..StepRecord::default()
        };
        let result = run_case_result(&case, std::slice::from_ref(&record));
        assert_eq!(result.verdict, Verdict::Error, "{result:?}");
        assert_eq!(result.actual.len(), 1, "{result:?}");
        assert!(
            result.actual[0].contains("ended normally after 2 command(s)"),
            "{result:?}"
        );

        // A client that ended the statement itself (it aborted) is judged as before.
        let aborted = StepRecord {
            trace: vec![
                command(0),
                TraceEvent::ClientAbort,
                TraceEvent::ServerClosed,
            ],
            ..record
        };
        let result = run_case_result(&case, &[aborted]);
        assert_eq!(result.verdict, Verdict::Fail, "{result:?}");
        assert!(result.actual.iter().any(|a| a.ends_with("exit code 0")));
    }

    /// An in-process abort the statement never reached: a harness error naming the fault.
    #[test]
    fn an_abort_the_stream_never_reached_is_a_harness_error() {
        let case = case("abort/server/mid-stream/backup");
        let record = StepRecord {
            outcome: exited(0),
            job: Some(JobResult::Succeeded),
            trace: vec![command(0), TraceEvent::ServerClosed],
            ..StepRecord::default()
        };
        let result = run_case_result(&case, &[record]);
        assert_eq!(result.verdict, Verdict::Error, "{result:?}");
        assert_eq!(
            result.expected,
            [
                "run 1 (backup): the statement fails (the server signals abort after 6 completion(s))"
            ]
        );
    }

    /// A backup whose injected command never came: the client passed everything it was given,
    /// and the case is a harness error.
    #[test]
    fn an_injection_the_stream_never_reached_is_a_harness_error() {
        let case = case("ioerror/discard-then-clearerror/devices-1");
        let ok = |trace| StepRecord {
            outcome: exited(0),
            job: Some(JobResult::Succeeded),
            trace,
            ..StepRecord::default()
        };
        let records = [
            ok(vec![command(0), TraceEvent::ServerClosed]),
            ok(vec![TraceEvent::ServerClosed]),
        ];
        let result = run_case_result(&case, &records);
        assert_eq!(result.verdict, Verdict::Error, "{result:?}");
        assert!(result.actual[0].contains("only 1 Write(s)"), "{result:?}");
    }
}
