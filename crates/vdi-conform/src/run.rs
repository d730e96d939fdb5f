//! Running cases: a private fake server per case, the case's faults armed before each client
//! run, the client run with a time limit, and the verdict.

use crate::catalogue::{Case, Expect, Op, ServerSide, Step};
use crate::child::{ChildCommand, ChildServer, ChildSpec};
use crate::client::{self, ClientKind, ClientOutcome, EXIT_UNSUPPORTED, Invocation};
use crate::recording::Recording;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use vdi_server::daemon::{Daemon, DaemonConfig};
use vdi_server::db::{Catalog, RecoveryModel};
use vdi_server::engine::jobs::JobResult;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::{JobFaults, JobOptions, JobTrace, TraceEvent, VdiJobRunner};

pub use crate::result::{CaseResult, ClientOutput, Verdict};

/// The database every case backs up (`Case::database_bytes`, full recovery).
pub const DATABASE: &str = "conform";

/// How to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The client under test.
    pub client: ClientKind,
    /// How the reports name it: what was given to `--client`.
    pub client_label: String,
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
            client_label: client.label(),
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
    faults.freeze_hold = faults.freeze_hold.map(scale);
    faults
}

/// How long a client may take to notice that the server process died (VD_E_ABORT and the
/// end of its run). The client library notices in about 0.1 s; the bound is for hangs.
pub const CRASH_NOTICE_BOUND: Duration = Duration::from_secs(10);

/// What the caller of [`run_cases`] sees as the run goes.
pub trait Progress: Sync {
    /// A case finished, with what its runs recorded (in completion order, on the thread that
    /// ran it: for a progress bar, or work per case such as its HTML page).
    fn finished(&self, _case: &Case, _result: &CaseResult, _records: &[StepRecord]) {}

    /// The next case in catalogue order, as soon as every case before it was reported:
    /// whatever `--jobs` is, reports come out in one order.
    fn report(&self, case: &Case, result: &CaseResult);
}

/// A closure sees each result in catalogue order.
impl<F: Fn(&CaseResult) + Sync> Progress for F {
    fn report(&self, _case: &Case, result: &CaseResult) {
        self(result)
    }
}

/// Finished cases waiting for the ones before them.
struct InOrder {
    next: usize,
    waiting: Vec<Option<CaseResult>>,
}

/// Runs `cases` on `config.jobs` threads; `progress` sees each case finish and each result in
/// catalogue order. Results come back in catalogue order.
pub fn run_cases(cases: &[&Case], config: &RunConfig, progress: &dyn Progress) -> Vec<CaseResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; cases.len()]);
    let order = Mutex::new(InOrder {
        next: 0,
        waiting: (0..cases.len()).map(|_| None).collect(),
    });
    std::thread::scope(|s| {
        for _ in 0..config.jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let (result, records) = run_case(case, config);
                    progress.finished(case, &result, &records);
                    drop(records);
                    results.lock().unwrap_or_else(PoisonError::into_inner)[i] =
                        Some(result.clone());
                    // Report, under the lock, every case whose predecessors are all reported.
                    let mut order = order.lock().unwrap_or_else(PoisonError::into_inner);
                    let order = &mut *order;
                    order.waiting[i] = Some(result);
                    while let Some(Some(result)) =
                        order.waiting.get_mut(order.next).map(Option::take)
                    {
                        progress.report(cases[order.next], &result);
                        order.next += 1;
                    }
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
    /// When each of `trace` happened: microseconds since the run's trace began.
    pub trace_us: Vec<u64>,
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

/// The seed of step `step` of case `id`.
pub fn step_seed(seed: u64, id: &str, step: usize) -> u64 {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    seed ^ h ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A case's result with nothing judged yet.
fn new_result(case: &Case) -> CaseResult {
    CaseResult {
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
        client_output: Vec::new(),
    }
}

/// The result `records` earn `case` (what `run_case` does after running it).
pub fn run_case_result(case: &Case, records: &[StepRecord]) -> CaseResult {
    let mut result = new_result(case);
    crate::judge::judge(case, records, &mut result);
    result.client_output = ClientOutput::of(case, records);
    result
}

/// Runs one case: its result and every client run's record.
pub fn run_case(case: &Case, config: &RunConfig) -> (CaseResult, Vec<StepRecord>) {
    let started = Instant::now();
    let mut result = new_result(case);
    let records = match execute(case, config) {
        Ok(records) => {
            crate::judge::judge(case, &records, &mut result);
            records
        }
        Err(e) => {
            result.verdict = Verdict::Error;
            result.expected.push("the harness sets the case up".into());
            result.actual.push(format!("harness error: {e}"));
            Vec::new()
        }
    };
    result.duration_ms = started.elapsed().as_millis() as u64;
    result.client_output = ClientOutput::of(case, &records);
    if let Some(dir) = &config.transcripts {
        match crate::transcript::write_transcript(dir, case, config, &records, &result) {
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
        .create(DATABASE, case.database_bytes, RecoveryModel::Full, 0)
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
    // The same engine on TDS, for clients that send their T-SQL through a driver.
    let tds = crate::tds_port::start_tds(&engine)?;
    let tds_name = format!("127.0.0.1,{}", tds.local_addr().port());
    let mut records = Vec::new();
    // The server's time as each step began, before its workload: a point-in-time restore of a
    // log backup stops where that backup's step began, so none of its workload is applied.
    let mut began = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        began.push(stop_at_text(vdi_server::engine::datetime_now()));
        if step.workload_before {
            // Changes are stamped with the clock; a little later than the point above.
            std::thread::sleep(Duration::from_millis(5));
            let mut catalog = engine.lock_catalog();
            if let Some(db) = catalog.get_mut(DATABASE) {
                db.set_clock(vdi_server::engine::datetime_now());
                db.run_workload(16, step_seed(config.seed, &case.id, i));
            }
        }
        let stop_at = (step.op == Op::RestoreLogStopAt)
            .then(|| {
                case.steps
                    .iter()
                    .position(|s| s.op.is_backup() && s.media == step.media)
                    .map(|j| began[j].as_str())
            })
            .flatten();
        let place = StepPlace {
            root,
            bin: &bin,
            stop_at,
        };
        let server = CaseServer {
            socket: &socket,
            tds: &tds_name,
            engine: Some(&engine),
        };
        let record = run_step(case, step, i, config, &jobs, &place, &server);
        let stop = step_failed(step, &record);
        records.push(record);
        if stop {
            break;
        }
    }
    tds.shutdown();
    daemon.shutdown();
    Ok(records)
}

/// `YYYY-MM-DDTHH:MM:SS.fffffff`, as a STOPAT takes it.
fn stop_at_text(t: vdi_server::tsql::value::DateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.fraction()
    )
}

/// Where a step's client runs: the case's scratch directory, the `sqlcmd` directory, and the
/// point in time of a `restore-log-stopat` run.
struct StepPlace<'a> {
    root: &'a Path,
    bin: &'a Path,
    stop_at: Option<&'a str>,
}

/// Where a case's in-process server listens.
#[derive(Clone, Copy)]
struct CaseServer<'a> {
    socket: &'a Path,
    /// `127.0.0.1,PORT`
    tds: &'a str,
    /// The server itself (in process), for a step that acts on its state.
    engine: Option<&'a Engine>,
}

fn run_step(
    case: &Case,
    step: &Step,
    index: usize,
    config: &RunConfig,
    jobs: &Recording,
    place: &StepPlace<'_>,
    server: &CaseServer<'_>,
) -> StepRecord {
    if step.server == ServerSide::ChildProcess {
        return run_child_step(case, step, index, config, place);
    }
    let trace = Arc::new(JobTrace::default());
    jobs.runner.arm(JobOptions {
        default_block_size: case.block_size,
        default_max_transfer: case.max_transfer,
        seed: step_seed(config.seed, &case.id, index),
        faults: armed_faults(step, config.time_scale),
        trace: Some(trace.clone()),
        completion_patience: config.step_limit,
        // The snapshot contract's files live beside the case's socket (docs/snapshots.md).
        volumes: client::volumes_of(server.socket),
        max_freeze: step
            .max_freeze
            .map_or(vdi_server::jobs::DEFAULT_MAX_FREEZE, |limit| {
                config.scaled(limit)
            }),
        ..JobOptions::default()
    });
    *jobs.last.lock().unwrap_or_else(PoisonError::into_inner) = None;
    jobs.started.store(false, Ordering::SeqCst);
    let transcript = place.root.join(format!("client-{index}.jsonl"));
    let outcome = run_client(case, step, config, place, server, &transcript);
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
    let (trace_us, trace): (Vec<u64>, Vec<TraceEvent>) = trace
        .take_timed()
        .into_iter()
        .map(|e| (e.t_us, e.event))
        .unzip();
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
        trace_us,
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
    place: &StepPlace<'_>,
) -> StepRecord {
    let root = place.root;
    // The child listens for TDS on a port chosen here (free a moment ago).
    let tds = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .ok();
    let spec = ChildSpec {
        tds,
        socket: root.join(format!("child-{index}.sock")),
        database: DATABASE.into(),
        database_bytes: case.database_bytes,
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
    let tds_name = server
        .spec
        .tds
        .map(|a| format!("127.0.0.1,{}", a.port()))
        .unwrap_or_default();
    let outcome = run_client(
        case,
        step,
        config,
        place,
        &CaseServer {
            socket: &server.spec.socket,
            tds: &tds_name,
            engine: None,
        },
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
        trace: end.trace.iter().map(|e| e.event.clone()).collect(),
        trace_us: end.trace.iter().map(|e| e.t_us).collect(),
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

/// Runs the case's client for one step against the server on `socket`, with the step's media
/// directory (`{dir}`) created first.
fn run_client(
    case: &Case,
    step: &Step,
    config: &RunConfig,
    place: &StepPlace<'_>,
    server: &CaseServer<'_>,
    transcript: &Path,
) -> client::ClientOutcome {
    let dir = place.root.join(format!("media-{}", step.media));
    let _ = std::fs::create_dir_all(&dir);
    let frozen = |engine: &Engine| engine.frozen(DATABASE).is_some();
    let kill_when = server
        .engine
        .filter(|_| step.kill_client_frozen)
        .map(|engine| move || frozen(engine));
    client::run(
        &config.client,
        &Invocation {
            op: step.op,
            db: DATABASE,
            dir: &dir,
            socket: server.socket,
            tds: server.tds,
            devices: step.devices.unwrap_or(case.devices),
            mode: case.mode,
            transcript,
            bin_dir: place.bin,
            limit: config.step_limit,
            prefix_zone: case.prefix_zone,
            alignment: case.client_alignment,
            stop_at: place.stop_at,
            kill_when: kill_when.as_ref().map(|f| f as &(dyn Fn() -> bool + Sync)),
        },
    )
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
