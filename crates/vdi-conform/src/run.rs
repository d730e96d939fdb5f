//! Running cases: a private fake server per case, the case's faults armed before each client
//! run, the client run with a time limit, and the verdict.

use crate::catalogue::{CATALOGUE_VERSION, Case, Check, Expect, ServerSide, Step, Tier};
use crate::child::{ChildCommand, ChildServer, ChildSpec};
use crate::client::{self, ClientKind, ClientOutcome, EXIT_UNSUPPORTED, Invocation};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use vdi_proto::config::{MediaMode, media_mode};
use vdi_proto::vdf;
use vdi_server::daemon::{Daemon, DaemonConfig};
use vdi_server::db::{Catalog, RecoveryModel};
use vdi_server::engine::jobs::{JobContext, JobResult, VdiJobs};
use vdi_server::engine::sink::OutputSink;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::{JobFaults, JobOptions, JobTrace, TraceEvent, VdiJobRunner};
use vdi_server::tsql::{BackupStatement, RestoreStatement, ResultSet, SqlMessage};

/// The database every case backs up (1 MiB, full recovery).
pub const DATABASE: &str = "conform";
const DATABASE_BYTES: u64 = 1 << 20;

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
}

impl Verdict {
    /// `PASS`, `WARN`, `FAIL`, `SKIP`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
            Verdict::Info => "INFO",
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
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The client under test.
    pub client: ClientKind,
    /// The vdisim binary (what `sqlcmd` on the client's PATH runs).
    pub vdisim: PathBuf,
    /// Seed of every random choice (read sizes, media set ids).
    pub seed: u64,
    /// Cases run at once.
    pub jobs: usize,
    /// Where per-case transcripts go.
    pub transcripts: Option<PathBuf>,
    /// Time limit of one client run.
    pub step_limit: Duration,
    /// How the crash cases start their server as a child process.
    pub child_server: ChildCommand,
    /// Multiplies every injected delay and the harness's own waits (`--time-scale`).
    pub time_scale: f64,
}

impl RunConfig {
    /// Defaults for `client`; the crash cases' server is `vdisim __conform-server`.
    pub fn new(client: ClientKind, vdisim: PathBuf) -> RunConfig {
        RunConfig {
            client,
            child_server: ChildCommand::vdisim(&vdisim),
            vdisim,
            seed: 1,
            jobs: 1,
            transcripts: None,
            step_limit: Duration::from_secs(60),
            time_scale: 1.0,
        }
    }

    /// `d` multiplied by the time scale.
    pub fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.time_scale.max(0.0))
    }
}

/// The faults a step arms the server with: the catalogue's, with every delay multiplied by
/// `time_scale`.
pub fn armed_faults(step: &Step, time_scale: f64) -> JobFaults {
    let scale = |d: Duration| d.mul_f64(time_scale.max(0.0));
    let mut faults = step.faults.clone();
    faults.delay_before_configuration = scale(faults.delay_before_configuration);
    faults.pause = faults.pause.map(|(after, d)| (after, scale(d)));
    faults
}

/// How long a client may take to notice that the server process died (VD_E_ABORT and the
/// end of its run). The client library notices in about 0.1 s; the bound is for hangs.
pub const CRASH_NOTICE_BOUND: Duration = Duration::from_secs(10);

/// Runs `cases` on `config.jobs` threads; `on_done` sees each result as it finishes. Results
/// come back in catalogue order.
pub fn run_cases(
    cases: &[&Case],
    config: &RunConfig,
    on_done: &(dyn Fn(&CaseResult) + Sync),
) -> Vec<CaseResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; cases.len()]);
    std::thread::scope(|s| {
        for _ in 0..config.jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let result = run_case(case, config).0;
                    on_done(&result);
                    results.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

/// What one client run did, as both sides saw it.
#[derive(Clone, Debug, Default)]
pub struct StepRecord {
    pub outcome: ClientOutcome,
    /// The job's result (`None`: no BACKUP/RESTORE reached the server).
    pub job: Option<JobResult>,
    /// The job's error messages.
    pub errors: Vec<String>,
    /// What crossed the link.
    pub trace: Vec<TraceEvent>,
    /// The client library's transcript lines.
    pub client_lines: Vec<String>,
    /// A run against a child-process server: how the crash went.
    pub crash: Option<CrashRecord>,
    /// The harness could not set the run up (it did not run).
    pub harness_error: Option<String>,
    /// Regions of the client's set still in /dev/shm once the run ended.
    pub leftover_regions: Vec<String>,
}

/// What happened around a real server crash.
#[derive(Clone, Debug, Default)]
pub struct CrashRecord {
    /// The server process died by SIGKILL (it reached its crash point).
    pub server_killed: bool,
    /// From the server's death to the client's end (`None`: the server did not die, or the
    /// client ran into its time limit).
    pub noticed_after: Option<Duration>,
    /// Regions of the client's set still in /dev/shm after the client ended.
    pub leftover_regions: Vec<String>,
    /// The client's set was ever opened by the server.
    pub set_opened: bool,
    /// The longest `noticed_after` that passes (`CRASH_NOTICE_BOUND`, time-scaled).
    pub notice_bound: Duration,
}

/// The jobs the case's engine runs: the real job runner, recording each job's result.
#[derive(Debug)]
struct Recording {
    runner: VdiJobRunner,
    /// A BACKUP or RESTORE started since the step began.
    started: std::sync::atomic::AtomicBool,
    last: Mutex<Option<(JobResult, Vec<String>)>>,
}

struct ErrorTap<'a> {
    inner: &'a mut dyn OutputSink,
    errors: Vec<String>,
}

impl OutputSink for ErrorTap<'_> {
    fn message(&mut self, message: SqlMessage) {
        if message.level > 10 {
            self.errors
                .push(format!("Msg {}: {}", message.number, message.text));
        }
        self.inner.message(message);
    }
    fn result_set(&mut self, result_set: ResultSet) {
        self.inner.result_set(result_set);
    }
    fn rows_affected(&mut self, count: u64) {
        self.inner.rows_affected(count);
    }
}

impl Recording {
    fn record(
        &self,
        f: impl FnOnce(&mut dyn OutputSink) -> JobResult,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        self.started.store(true, Ordering::SeqCst);
        let mut tap = ErrorTap {
            inner: sink,
            errors: Vec::new(),
        };
        let result = f(&mut tap);
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((result, tap.errors));
        result
    }
}

impl VdiJobs for Recording {
    fn backup(
        &self,
        ctx: &JobContext<'_>,
        stmt: &BackupStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        self.record(|s| self.runner.backup(ctx, stmt, s), sink)
    }

    fn restore(
        &self,
        ctx: &JobContext<'_>,
        stmt: &RestoreStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        self.record(|s| self.runner.restore(ctx, stmt, s), sink)
    }
}

/// The seed of step `step` of case `id`.
pub fn step_seed(seed: u64, id: &str, step: usize) -> u64 {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    seed ^ h ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Runs one case: its result and every client run's record.
pub fn run_case(case: &Case, config: &RunConfig) -> (CaseResult, Vec<StepRecord>) {
    let started = Instant::now();
    let mut result = CaseResult {
        id: case.id.clone(),
        area: case.area(),
        tier: case.tier,
        rule: case.rule.clone(),
        section: case.section.clone(),
        verdict: Verdict::Pass,
        expected: Vec::new(),
        actual: Vec::new(),
        duration_ms: 0,
        transcript: None,
    };
    let records = match execute(case, config) {
        Ok(records) => {
            judge(case, &records, &mut result);
            records
        }
        Err(e) => {
            result.verdict = Verdict::Fail;
            result.expected.push("the harness sets the case up".into());
            result.actual.push(format!("harness error: {e}"));
            Vec::new()
        }
    };
    result.duration_ms = started.elapsed().as_millis() as u64;
    if let Some(dir) = &config.transcripts {
        match write_transcript(dir, case, config, &records, &result) {
            Ok(path) => result.transcript = Some(path),
            Err(e) => eprintln!(
                "vdisim conform: cannot write the transcript of {}: {e}",
                case.id
            ),
        }
    }
    (result, records)
}

fn execute(case: &Case, config: &RunConfig) -> Result<Vec<StepRecord>, String> {
    let scratch = tempfile::Builder::new()
        .prefix("vdisim-conform-")
        .tempdir()
        .map_err(|e| format!("cannot make a scratch directory: {e}"))?;
    let root = scratch.path();
    let bin =
        client::sqlcmd_dir(root, &config.vdisim).map_err(|e| format!("cannot link sqlcmd: {e}"))?;
    let mut catalog = Catalog::new();
    catalog
        .create(DATABASE, DATABASE_BYTES, RecoveryModel::Full, 0)
        .map_err(|e| e.to_string())?;
    let jobs = Arc::new(Recording {
        runner: VdiJobRunner::shared_memory(),
        started: Default::default(),
        last: Mutex::new(None),
    });
    let engine = Engine::new(
        catalog,
        EngineConfig {
            jobs: jobs.clone(),
            ..EngineConfig::default()
        },
    );
    let socket = root.join("sqlservr.sock");
    let daemon = Daemon::start(DaemonConfig::new(&socket, engine.clone()))
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let mut records = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        if step.workload_before {
            let mut catalog = engine.lock_catalog();
            if let Some(db) = catalog.get_mut(DATABASE) {
                db.run_workload(16, step_seed(config.seed, &case.id, i));
            }
        }
        let record = run_step(case, step, i, config, &jobs, root, &bin, &socket);
        let stop = step_failed(step, &record);
        records.push(record);
        if stop {
            break;
        }
    }
    daemon.shutdown();
    Ok(records)
}

#[allow(clippy::too_many_arguments)]
fn run_step(
    case: &Case,
    step: &Step,
    index: usize,
    config: &RunConfig,
    jobs: &Recording,
    root: &Path,
    bin: &Path,
    socket: &Path,
) -> StepRecord {
    if step.server == ServerSide::ChildProcess {
        return run_child_step(case, step, index, config, root, bin);
    }
    let trace = Arc::new(JobTrace::default());
    jobs.runner.arm(JobOptions {
        default_block_size: case.block_size,
        default_max_transfer: case.max_transfer,
        seed: step_seed(config.seed, &case.id, index),
        faults: armed_faults(step, config.time_scale),
        trace: Some(trace.clone()),
        completion_patience: config.step_limit,
        ..JobOptions::default()
    });
    *jobs.last.lock().unwrap_or_else(PoisonError::into_inner) = None;
    jobs.started.store(false, Ordering::SeqCst);
    let transcript = root.join(format!("client-{index}.jsonl"));
    let outcome = run_client(case, step, config, root, bin, socket, &transcript);
    // The job may still be winding down after a client that left early; a client that never
    // sent its statement gets a short grace period.
    let waited = Instant::now();
    let job = loop {
        if let Some(j) = jobs
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            break Some(j);
        }
        let patience = config.scaled(if jobs.started.load(Ordering::SeqCst) {
            Duration::from_secs(15)
        } else {
            Duration::from_millis(300)
        });
        if waited.elapsed() >= patience || outcome.exit == Some(EXIT_UNSUPPORTED) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let client_lines = std::fs::read_to_string(&transcript)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default();
    let (job, errors) = match job {
        Some((r, e)) => (Some(r), e),
        None => (None, Vec::new()),
    };
    let trace = trace.take();
    let leftover_regions = trace
        .iter()
        .filter_map(|e| match e {
            TraceEvent::Opened { set, .. } if !set.is_empty() => Some(set),
            _ => None,
        })
        .flat_map(|key| crate::child::leftover_regions(key))
        .collect();
    StepRecord {
        outcome,
        job,
        errors,
        trace,
        client_lines,
        crash: None,
        harness_error: None,
        leftover_regions,
    }
}

/// A client run against a server in a child process that kills itself at its fault point.
fn run_child_step(
    case: &Case,
    step: &Step,
    index: usize,
    config: &RunConfig,
    root: &Path,
    bin: &Path,
) -> StepRecord {
    let spec = ChildSpec {
        socket: root.join(format!("child-{index}.sock")),
        database: DATABASE.into(),
        database_bytes: DATABASE_BYTES,
        block_size: case.block_size,
        max_transfer: case.max_transfer,
        seed: step_seed(config.seed, &case.id, index),
        faults: armed_faults(step, config.time_scale),
        completion_patience_ms: config.step_limit.as_millis() as u64,
        trace: root.join(format!("child-{index}.trace.jsonl")),
        sets: root.join(format!("child-{index}.sets.jsonl")),
        lifetime_ms: (config.step_limit + config.scaled(CRASH_NOTICE_BOUND)).as_millis() as u64,
    };
    let server = match ChildServer::start(
        &config.child_server,
        spec,
        config.scaled(Duration::from_secs(15)),
    ) {
        Ok(s) => s,
        Err(e) => {
            return StepRecord {
                harness_error: Some(e),
                ..StepRecord::default()
            };
        }
    };
    let transcript = root.join(format!("client-{index}.jsonl"));
    let started = Instant::now();
    let outcome = run_client(
        case,
        step,
        config,
        root,
        bin,
        &server.spec.socket,
        &transcript,
    );
    let client_ended = started + outcome.elapsed;
    // The client has ended; a server that has not died by now never reached its crash point.
    let end = server.finish(config.scaled(Duration::from_secs(2)));
    let leftover_regions: Vec<String> = end
        .sets
        .iter()
        .flat_map(|key| crate::child::leftover_regions(key))
        .collect();
    let noticed_after = match end.died_at {
        Some(died) if end.killed && !outcome.timed_out => {
            Some(client_ended.saturating_duration_since(died))
        }
        _ => None,
    };
    let client_lines = std::fs::read_to_string(&transcript)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default();
    StepRecord {
        outcome,
        job: None,
        errors: Vec::new(),
        crash: Some(CrashRecord {
            server_killed: end.killed,
            noticed_after,
            leftover_regions: leftover_regions.clone(),
            set_opened: !end.sets.is_empty(),
            notice_bound: config.scaled(CRASH_NOTICE_BOUND),
        }),
        harness_error: None,
        leftover_regions,
        trace: end.trace,
        client_lines,
    }
}

fn step_failed(step: &Step, r: &StepRecord) -> bool {
    r.harness_error.is_some()
        || r.outcome.timed_out
        || r.outcome.exit == Some(EXIT_UNSUPPORTED)
        || match step.expect {
            Expect::Success => r.job != Some(JobResult::Succeeded) || r.outcome.exit != Some(0),
            Expect::ServerFails => false,
        }
}

struct Judgement<'a> {
    result: &'a mut CaseResult,
    worst: Option<Tier>,
}

impl Judgement<'_> {
    fn unmet(&mut self, tier: Tier, expected: String, actual: String) {
        self.result.expected.push(expected);
        self.result.actual.push(actual);
        if tier != Tier::Info {
            self.worst = Some(self.worst.map_or(tier, |w| w.min(tier)));
        }
    }
}

fn describe_exit(o: &ClientOutcome) -> String {
    match o.exit {
        Some(code) => format!("exit code {code}"),
        None if o.timed_out => "still running".into(),
        None => "killed by a signal".into(),
    }
}

/// Sets the verdict and the Expected/Actual lines of `result` from the records.
pub fn judge(case: &Case, records: &[StepRecord], result: &mut CaseResult) {
    if records
        .iter()
        .any(|r| r.outcome.exit == Some(EXIT_UNSUPPORTED))
    {
        result.verdict = Verdict::Skip;
        result.expected.push(format!(
            "the client supports {} over {} device(s) in {} mode",
            records
                .iter()
                .zip(&case.steps)
                .find(|(r, _)| r.outcome.exit == Some(EXIT_UNSUPPORTED))
                .map_or("?", |(_, s)| s.op.name()),
            case.devices,
            case.mode.name()
        ));
        result.actual.push(format!(
            "the client exited with {EXIT_UNSUPPORTED} (not supported)"
        ));
        return;
    }
    let mut j = Judgement {
        result,
        worst: None,
    };
    for (i, (r, step)) in records.iter().zip(&case.steps).enumerate() {
        let what = format!("run {} ({})", i + 1, step.op.name());
        let o = &r.outcome;
        if let Some(e) = &r.harness_error {
            j.unmet(
                Tier::Must,
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
                    let tier = if gave_up(&r.trace) {
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
                } else if o.exit != Some(0) {
                    j.unmet(
                        Tier::Must,
                        format!(
                            "{what}: the client reports the success (exit code 0) [CONF-EXIT-001]"
                        ),
                        format!("{what}: {}", describe_exit(o)),
                    );
                }
            }
            Expect::ServerFails if r.crash.is_some() => {
                judge_crash(&what, r, &mut j);
            }
            Expect::ServerFails => {
                if r.job == Some(JobResult::Succeeded) {
                    j.unmet(
                        Tier::Info,
                        format!("{what}: the injected fault fails the statement"),
                        format!("{what}: the statement succeeded"),
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
        check_trace(case, *check, *tier, records, &mut j);
    }
    let worst = j.worst;
    result.verdict = match worst {
        // An INFO case reports; it never fails.
        _ if case.tier == Tier::Info => Verdict::Info,
        None => Verdict::Pass,
        Some(Tier::Must) => Verdict::Fail,
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
fn judge_crash(what: &str, r: &StepRecord, j: &mut Judgement<'_>) {
    let Some(crash) = &r.crash else { return };
    let o = &r.outcome;
    if !crash.server_killed {
        // Not the client's fault: it ended (or failed) before the crash point came.
        j.unmet(
            Tier::Info,
            format!("{what}: the server process reaches its crash point"),
            format!(
                "{what}: the server never got there (the statement ended first); the crash was not exercised"
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

fn opened(records: &[StepRecord]) -> Option<(u32, u32)> {
    records.iter().flat_map(|r| &r.trace).find_map(|e| match e {
        TraceEvent::Opened {
            devices, features, ..
        } => Some((*devices, *features)),
        _ => None,
    })
}

fn check_trace(
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
            match opened(records) {
                Some((_, f)) if media_mode(f).ok() == Some(want) => {}
                Some((_, f)) => j.unmet(
                    tier,
                    format!("Create asks for {} mode", case.mode.name()),
                    format!("features 0x{f:x} ({:?})", media_mode(f).ok()),
                ),
                None => j.unmet(
                    tier,
                    "the client creates its set".into(),
                    "the server never opened a set".into(),
                ),
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

fn write_transcript(
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
        client: match &config.client {
            ClientKind::Builtin(f) => format!("builtin {f:?}"),
            ClientKind::Template(t) => t.clone(),
        },
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

/// Runs the case's client for one step against the server on `socket`, with the step's media
/// directory (`{dir}`) created first.
fn run_client(
    case: &Case,
    step: &Step,
    config: &RunConfig,
    root: &Path,
    bin: &Path,
    socket: &Path,
    transcript: &Path,
) -> client::ClientOutcome {
    let dir = root.join(format!("media-{}", step.media));
    let _ = std::fs::create_dir_all(&dir);
    client::run(
        &config.client,
        &Invocation {
            op: step.op,
            db: DATABASE,
            dir: &dir,
            socket,
            devices: step.devices.unwrap_or(case.devices),
            mode: case.mode,
            transcript,
            bin_dir: bin,
            limit: config.step_limit,
            prefix_zone: case.prefix_zone,
            alignment: case.client_alignment,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::catalogue;

    fn case(id: &str) -> Case {
        catalogue().into_iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn the_time_scale_reaches_the_armed_delays() {
        let config = case("config/delay-1200ms/backup");
        let delay = |scale| armed_faults(&config.steps[0], scale).delay_before_configuration;
        assert_eq!(delay(1.0), Duration::from_millis(1200));
        assert_eq!(delay(2.0), Duration::from_millis(2400));
        assert_eq!(delay(0.5), Duration::from_millis(600));

        let timeout = case("timeout/command-pause-2500ms/devices-1/restore");
        let restore = &timeout.steps[1];
        assert_eq!(
            armed_faults(restore, 2.0).pause,
            Some((3, Duration::from_millis(5000)))
        );
        // Everything else is armed as catalogued.
        let mut unscaled = armed_faults(restore, 2.0);
        unscaled.pause = restore.faults.pause;
        assert_eq!(unscaled, restore.faults);
    }

    #[test]
    fn the_time_scale_stretches_the_harness_waits() {
        let mut config = RunConfig::new(
            ClientKind::Builtin(Default::default()),
            PathBuf::from("/nonexistent/vdisim"),
        );
        assert_eq!(config.scaled(CRASH_NOTICE_BOUND), CRASH_NOTICE_BOUND);
        config.time_scale = 3.0;
        assert_eq!(config.scaled(CRASH_NOTICE_BOUND), CRASH_NOTICE_BOUND * 3);
    }
}
