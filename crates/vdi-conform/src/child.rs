//! The server of the crash cases as a real child process (`vdisim __conform-server`).
//!
//! A server in the harness's own process cannot die without taking the harness with it, and
//! a client judges its peer's liveness per process. So for the `crash/` cases the harness
//! re-executes a program (the vdisim binary, or a test binary) with a [`ChildSpec`] in
//! `$VDISIM_CONFORM_SERVER`; that process serves one database on the case's private socket
//! with the case's faults armed, and kills itself with SIGKILL at the armed point. It leaves
//! behind what the harness needs to judge the client: the link trace (a JSON line per event,
//! written as it happens) and the names of the sets it opened (to look for leftover
//! shared-memory regions).

use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use vdi_proto::VdResult;
use vdi_server::daemon::{Daemon, DaemonConfig};
use vdi_server::db::{Catalog, RecoveryModel};
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::{JobFaults, JobOptions, JobTrace, TimedEvent, VdiJobRunner};
use vdi_server::vdi::link::{ServerConnector, ServerLink};
use vdi_server::vdi::shm::ShmServerConnector;

/// The environment variable that carries the [`ChildSpec`] (JSON).
pub const SPEC_ENV: &str = "VDISIM_CONFORM_SERVER";

/// What the child server does.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChildSpec {
    pub socket: PathBuf,
    pub database: String,
    pub database_bytes: u64,
    pub block_size: u32,
    pub max_transfer: u32,
    pub seed: u64,
    pub faults: JobFaults,
    pub completion_patience_ms: u64,
    /// The link trace, a JSON line per event.
    pub trace: PathBuf,
    /// The names of the sets the server opened, a line each.
    pub sets: PathBuf,
    /// The child exits by itself after this long (its fault point may never be reached).
    pub lifetime_ms: u64,
    /// Where the child also listens for TDS (`{tds}` of a crash case).
    #[serde(default)]
    pub tds: Option<std::net::SocketAddr>,
}

/// How the harness starts a child server: this program with these arguments first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl ChildCommand {
    /// `vdisim __conform-server` (the hidden subcommand of the vdisim binary).
    pub fn vdisim(exe: &Path) -> ChildCommand {
        ChildCommand {
            program: exe.to_path_buf(),
            args: vec!["__conform-server".into()],
        }
    }

    /// A libtest binary re-executed to run only `test_name`, a test that calls
    /// [`serve_if_asked`] (how the harness's own tests get a child server without vdisim).
    pub fn test_binary(test_name: &str) -> std::io::Result<ChildCommand> {
        Ok(ChildCommand {
            program: std::env::current_exe()?,
            args: [
                "--exact",
                test_name,
                "--nocapture",
                "--test-threads=1",
                "-q",
            ]
            .into_iter()
            .map(OsString::from)
            .collect(),
        })
    }
}

/// In a process started by the harness (`$VDISIM_CONFORM_SERVER` set): runs the child server
/// and exits the process. Otherwise returns at once.
pub fn serve_if_asked() {
    let Ok(text) = std::env::var(SPEC_ENV) else {
        return;
    };
    let code = match serde_json::from_str::<ChildSpec>(&text) {
        Ok(spec) => match serve(&spec) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("vdisim conform child server: {e}");
                1
            }
        },
        Err(e) => {
            eprintln!("vdisim conform child server: bad {SPEC_ENV}: {e}");
            2
        }
    };
    std::process::exit(code);
}

/// Records the name of every set the server opens (appended and flushed at once: the process
/// may be killed the next moment).
#[derive(Debug)]
struct SetNameRecorder {
    inner: ShmServerConnector,
    file: Mutex<std::fs::File>,
}

impl ServerConnector for SetNameRecorder {
    fn open(&self, instance: Option<&str>, set_name: &str) -> VdResult<Arc<dyn ServerLink>> {
        let link = self.inner.open(instance, set_name)?;
        let key = vdi_server::vdi::shm::set_key(instance, set_name);
        let mut f = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writeln!(f, "{}", serde_json::Value::String(key));
        Ok(link)
    }
}

fn serve(spec: &ChildSpec) -> Result<(), String> {
    let create = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
    let trace = Arc::new(JobTrace::to_file(create(&spec.trace)?));
    let connector = SetNameRecorder {
        inner: ShmServerConnector::from_env(),
        file: Mutex::new(create(&spec.sets)?),
    };
    let mut catalog = Catalog::new();
    catalog
        .create(&spec.database, spec.database_bytes, RecoveryModel::Full, 0)
        .map_err(|e| e.to_string())?;
    let runner = VdiJobRunner::new(
        Arc::new(connector),
        JobOptions {
            default_block_size: spec.block_size,
            default_max_transfer: spec.max_transfer,
            seed: spec.seed,
            faults: spec.faults.clone(),
            trace: Some(trace),
            completion_patience: Duration::from_millis(spec.completion_patience_ms),
            ..JobOptions::default()
        },
    );
    let engine = Engine::new(
        catalog,
        EngineConfig {
            jobs: Arc::new(runner),
            ..EngineConfig::default()
        },
    );
    let tds = match spec.tds {
        Some(addr) => Some(crate::tds_port::start_tds_on(&engine, addr)?),
        None => None,
    };
    let daemon = Daemon::start(DaemonConfig::new(&spec.socket, engine))
        .map_err(|e| format!("cannot start the server: {e}"))?;
    // The armed fault kills the process; this is the fallback when it is never reached.
    std::thread::sleep(Duration::from_millis(spec.lifetime_ms));
    if let Some(tds) = tds {
        tds.shutdown();
    }
    daemon.shutdown();
    Ok(())
}

/// A child server the harness started.
#[derive(Debug)]
pub struct ChildServer {
    pid: u32,
    /// When and how it ended, seen by a thread that waits for it.
    death: Arc<Mutex<Option<(Instant, ExitStatus)>>>,
    watcher: std::thread::JoinHandle<()>,
    pub spec: ChildSpec,
}

/// How a child server ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChildEnd {
    /// It killed itself with SIGKILL (reached its crash point).
    pub killed: bool,
    /// When it ended (`None`: still running when the harness stopped waiting and killed it).
    pub died_at: Option<Instant>,
    /// The link trace it left.
    pub trace: Vec<TimedEvent>,
    /// The keys of the sets it opened.
    pub sets: Vec<String>,
}

impl ChildServer {
    /// Starts `command` with `spec` and waits (up to `ready_within`) until its socket accepts.
    pub fn start(
        command: &ChildCommand,
        spec: ChildSpec,
        ready_within: Duration,
    ) -> Result<ChildServer, String> {
        let json = serde_json::to_string(&spec).map_err(|e| e.to_string())?;
        let mut child: Child = Command::new(&command.program)
            .args(&command.args)
            .env(SPEC_ENV, json)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the child server {}: {e}",
                    command.program.display()
                )
            })?;
        let pid = child.id();
        let death = Arc::new(Mutex::new(None));
        let seen = death.clone();
        let watcher = std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                *seen.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((Instant::now(), status));
            }
        });
        let server = ChildServer {
            pid,
            death,
            watcher,
            spec,
        };
        let deadline = Instant::now() + ready_within;
        loop {
            if std::os::unix::net::UnixStream::connect(&server.spec.socket).is_ok() {
                return Ok(server);
            }
            if let Some((_, status)) = *server.death.lock().unwrap_or_else(PoisonError::into_inner)
            {
                return Err(format!(
                    "the child server exited before it was ready ({status})"
                ));
            }
            if Instant::now() >= deadline {
                server.finish(Duration::ZERO);
                return Err(format!(
                    "the child server was not ready within {} s",
                    ready_within.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits up to `bound` for the child to end (killing it after that) and collects what it
    /// left behind.
    pub fn finish(self, bound: Duration) -> ChildEnd {
        let deadline = Instant::now() + bound;
        let ended = loop {
            let death = *self.death.lock().unwrap_or_else(PoisonError::into_inner);
            if death.is_some() || Instant::now() >= deadline {
                break death;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if ended.is_none()
            && let Some(pid) = rustix::process::Pid::from_raw(self.pid as i32)
        {
            // Our own child, not yet reaped (the watcher has not seen it end), so the pid is
            // still its own.
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
        let _ = self.watcher.join();
        use std::os::unix::process::ExitStatusExt;
        ChildEnd {
            killed: ended.and_then(|(_, s)| s.signal()) == Some(9),
            died_at: ended.map(|(at, _)| at),
            trace: read_lines(&self.spec.trace)
                .filter_map(|l| serde_json::from_str(&l).ok())
                .collect(),
            sets: read_lines(&self.spec.sets)
                .filter_map(|l| serde_json::from_str(&l).ok())
                .collect(),
        }
    }
}

fn read_lines(path: &Path) -> impl Iterator<Item = String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

/// The regions of the set `key` (this user's) still in /dev/shm.
pub fn leftover_regions(key: &str) -> Vec<String> {
    let uid = rustix::process::geteuid().as_raw();
    let Ok(control) = vdi_shm::naming::region_name(uid, key, vdi_shm::naming::RegionKind::Control)
    else {
        return Vec::new();
    };
    // `/vdisim.<uid>.<encoded>.ctl` → every region of the set starts with `vdisim.<uid>.<encoded>.`
    let stem = control
        .trim_start_matches('/')
        .trim_end_matches("ctl")
        .to_string();
    let mut left: Vec<String> = std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(&stem))
                .collect()
        })
        .unwrap_or_default();
    left.sort();
    left
}
