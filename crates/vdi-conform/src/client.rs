//! The client under test: the built-in reference client (in process, optionally broken on
//! purpose) or a vendor's command template run as a real process.

use crate::catalogue::{Mode, Op};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use vdi_client::reference::{self, Direction, Faults, MediaKind, ReferenceOptions};
use vdi_server::engine::sink::CollectSink;

/// The exit code with which a client says it does not support an operation or mode (SKIP).
pub const EXIT_UNSUPPORTED: i32 = 77;

/// Which client runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// The reference client in this process, with its misbehaviour switches.
    Builtin(Faults),
    /// A command template run through `sh -c` with the placeholders substituted.
    Template(String),
}

/// The broken variants of the reference client: `builtin:<name>`.
pub const BROKEN_VARIANTS: [&str; 6] = [
    "flush-is-end",
    "no-complete",
    "close-early",
    "ignore-timeout",
    "short-write",
    "corrupt",
];

impl ClientKind {
    /// Parses `--client`: `builtin`, `builtin:<variant>`, `builtin-process` (the reference
    /// client as `vdisim backup|restore` processes), or a command template.
    pub fn parse(value: &str, vdisim: &Path) -> Result<ClientKind, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("--client is empty".into());
        }
        if value == "builtin" {
            return Ok(ClientKind::Builtin(Faults::default()));
        }
        if value == "builtin-process" {
            return Ok(ClientKind::Template(builtin_process_template(vdisim)));
        }
        if let Some(variant) = value.strip_prefix("builtin:") {
            let mut f = Faults::default();
            match variant {
                "flush-is-end" => f.flush_is_end = true,
                "no-complete" => f.no_complete = true,
                "close-early" => f.close_early = true,
                "ignore-timeout" => f.ignore_timeout = true,
                "short-write" => f.short_write = true,
                "corrupt" => f.corrupt = true,
                other => {
                    return Err(format!(
                        "unknown builtin variant {other:?}; known: {}",
                        BROKEN_VARIANTS.join(", ")
                    ));
                }
            }
            return Ok(ClientKind::Builtin(f));
        }
        if !value.contains("{op}") {
            return Err("the client template must contain {op}".into());
        }
        Ok(ClientKind::Template(value.to_string()))
    }
}

/// `vdisim backup|restore` as a template (what `--client builtin-process` runs).
pub fn builtin_process_template(vdisim: &Path) -> String {
    let exe = shell_quote(&vdisim.to_string_lossy());
    let common = "-S {server} --db {db} --devices {devices} --mode {mode} --prefix-zone {prefix} --alignment {alignment}";
    format!(
        "case {{op}} in \
         backup) exec {exe} backup {common} --to {{dir}};; \
         backup-diff) exec {exe} backup {common} --to {{dir}} --differential;; \
         backup-log) exec {exe} backup {common} --to {{dir}} --log;; \
         restore) exec {exe} restore {common} --from {{dir}} --replace;; \
         restore-norecovery) exec {exe} restore {common} --from {{dir}} --replace --norecovery;; \
         restore-log) exec {exe} restore {common} --from {{dir}} --log;; \
         restore-log-norecovery) exec {exe} restore {common} --from {{dir}} --log --norecovery;; \
         verifyonly) exec {exe} restore {common} --from {{dir}} --verify-only;; \
         *) exit {EXIT_UNSUPPORTED};; esac"
    )
}

/// Quotes a value for `sh`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What one client run is asked to do.
#[derive(Clone, Debug)]
pub struct Invocation<'a> {
    pub op: Op,
    pub db: &'a str,
    pub dir: &'a Path,
    pub socket: &'a Path,
    pub devices: u16,
    pub mode: Mode,
    /// Where the client library writes its transcript.
    pub transcript: &'a Path,
    /// A directory holding `sqlcmd` (put first on PATH).
    pub bin_dir: &'a Path,
    /// Kill the client after this long.
    pub limit: Duration,
    /// VDConfig prefixZoneSize the client is asked for (`{prefix}`; 0: none).
    pub prefix_zone: u32,
    /// VDConfig alignment the client is asked for (`{alignment}`; 0: none).
    pub alignment: u32,
}

/// How a client run ended.
#[derive(Clone, Debug, Default)]
pub struct ClientOutcome {
    /// The exit code (`None`: killed by a signal or still running at the limit).
    pub exit: Option<i32>,
    /// Killed at the time limit.
    pub timed_out: bool,
    /// The last lines of its output.
    pub output_tail: String,
    /// Misuse rules the in-process client library recorded (template clients: from their
    /// transcript).
    pub misuse: Vec<vdi_proto::Rule>,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs the client once.
pub fn run(kind: &ClientKind, inv: &Invocation<'_>) -> ClientOutcome {
    match kind {
        ClientKind::Builtin(faults) => run_builtin(*faults, inv),
        ClientKind::Template(t) => run_template(t, inv),
    }
}

/// The T-SQL the reference client sends for `op`.
pub fn statement(op: Op, db: &str, set: &str, devices: u16) -> String {
    let clause = reference::device_names(set, devices)
        .iter()
        .map(|n| format!("VIRTUAL_DEVICE = N'{}'", n.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    match op {
        Op::Backup => format!("BACKUP DATABASE [{db}] TO {clause} WITH FORMAT"),
        Op::BackupDiff => format!("BACKUP DATABASE [{db}] TO {clause} WITH FORMAT, DIFFERENTIAL"),
        Op::BackupLog => format!("BACKUP LOG [{db}] TO {clause} WITH FORMAT"),
        Op::Restore => format!("RESTORE DATABASE [{db}] FROM {clause} WITH REPLACE"),
        Op::RestoreNoRecovery => {
            format!("RESTORE DATABASE [{db}] FROM {clause} WITH REPLACE, NORECOVERY")
        }
        Op::RestoreLog => format!("RESTORE LOG [{db}] FROM {clause}"),
        Op::RestoreLogNoRecovery => format!("RESTORE LOG [{db}] FROM {clause} WITH NORECOVERY"),
        Op::VerifyOnly => format!("RESTORE VERIFYONLY FROM {clause}"),
    }
}

fn run_builtin(faults: Faults, inv: &Invocation<'_>) -> ClientOutcome {
    let started = Instant::now();
    let options = ReferenceOptions {
        devices: inv.devices,
        media: match inv.mode {
            Mode::Pipe => MediaKind::Pipe,
            Mode::Tape => MediaKind::Tape,
            Mode::Disk => MediaKind::Disk,
        },
        request_complete: true,
        configuration_timeout_ms: 1000,
        command_timeout_ms: 1000,
        // Bounded, so that a run the harness gave up on still ends by itself.
        idle_limit: inv.limit,
        faults,
        transcript: Some(inv.transcript.to_path_buf()),
        prefix_zone_size: inv.prefix_zone,
        alignment: inv.alignment,
    };
    let set = reference::new_set_name();
    let sql = statement(inv.op, inv.db, &set, inv.devices);
    let direction = if inv.op.is_backup() {
        Direction::Backup
    } else {
        Direction::Restore
    };
    let socket = inv.socket.to_path_buf();
    let dir = inv.dir.to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let progress = Arc::new(AtomicU64::new(0));
        let (run, output) = reference::run(&set, direction, &dir, &options, progress, move || {
            run_sql(&socket, &sql)
        });
        let _ = tx.send((run, output));
    });
    let mut outcome = ClientOutcome::default();
    match rx.recv_timeout(inv.limit) {
        Ok((run, output)) => {
            let server_ok = match &output {
                Ok(sink) => sink.error_numbers().is_empty(),
                Err(_) => false,
            };
            outcome.exit = Some(if server_ok && run.clean() { 0 } else { 1 });
            outcome.misuse = run
                .rules
                .iter()
                .copied()
                .filter(|r| r.info().kind == vdi_proto::RuleKind::Misuse)
                .collect();
            outcome.output_tail = match output {
                Ok(sink) => tail(&sink.render("VDISIM"), 6),
                Err(e) => e,
            };
        }
        Err(_) => outcome.timed_out = true,
    }
    outcome.elapsed = started.elapsed();
    outcome
}

fn run_sql(socket: &Path, sql: &str) -> Result<CollectSink, String> {
    vdi_server::daemon::run_batch(socket, "sa", "", "vdisim conform", sql)
}

/// Substitutes the placeholders (each value shell-quoted).
pub fn expand(template: &str, inv: &Invocation<'_>) -> String {
    let server = format!("unix:{}", inv.socket.display());
    template
        .replace("{op}", &shell_quote(inv.op.name()))
        .replace("{db}", &shell_quote(inv.db))
        .replace("{dir}", &shell_quote(&inv.dir.to_string_lossy()))
        .replace("{server}", &shell_quote(&server))
        .replace("{devices}", &inv.devices.to_string())
        .replace("{prefix}", &inv.prefix_zone.to_string())
        .replace("{alignment}", &inv.alignment.to_string())
        .replace("{mode}", &shell_quote(inv.mode.name()))
}

fn run_template(template: &str, inv: &Invocation<'_>) -> ClientOutcome {
    let started = Instant::now();
    let mut outcome = ClientOutcome::default();
    if (inv.prefix_zone, inv.alignment) != (0, 0)
        && !template.contains("{prefix}")
        && !template.contains("{alignment}")
    {
        // The template cannot be told to ask for them: not applicable (SKIP).
        outcome.exit = Some(EXIT_UNSUPPORTED);
        outcome.output_tail =
            "the template takes no {prefix} or {alignment}: a prefix-zone case does not apply"
                .into();
        return outcome;
    }
    let path = match std::env::var_os("PATH") {
        Some(p) => {
            let mut parts = vec![inv.bin_dir.to_path_buf()];
            parts.extend(std::env::split_paths(&p));
            std::env::join_paths(parts).unwrap_or_default()
        }
        None => inv.bin_dir.as_os_str().to_owned(),
    };
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(expand(template, inv))
        .env("PATH", path)
        .env(vdi_server::daemon::SOCKET_ENV, inv.socket)
        .env("VDISIM_TRANSCRIPT", inv.transcript)
        .env("VDISIM_CONFORM_OP", inv.op.name())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            outcome.output_tail = format!("cannot start sh: {e}");
            return outcome;
        }
    };
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut r| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    })
    .collect();
    let deadline = started + inv.limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                outcome.exit = status.code();
                break;
            }
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                outcome.timed_out = true;
                if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
                    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
        }
    }
    let text: String = readers
        .into_iter()
        .map(|r| r.join().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("");
    outcome.output_tail = tail(&text, 6);
    outcome.misuse = transcript_misuse(inv.transcript);
    outcome.elapsed = started.elapsed();
    outcome
}

/// The misuse rules in a client transcript (JSON lines of vdi-client).
pub fn transcript_misuse(path: &Path) -> Vec<vdi_proto::Rule> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<vdi_proto::transcript::Event>(l).ok())
        .filter(|e| e.side == vdi_proto::transcript::Side::Client)
        .filter_map(|e| match e.kind {
            vdi_proto::transcript::EventKind::Call { rule, .. }
            | vdi_proto::transcript::EventKind::Rule { rule, .. } => Some(rule),
            _ => None,
        })
        .filter(|r| r.info().kind == vdi_proto::RuleKind::Misuse)
        .collect()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A directory with `sqlcmd` → the vdisim binary, for the client's PATH.
pub fn sqlcmd_dir(root: &Path, vdisim: &Path) -> std::io::Result<PathBuf> {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin)?;
    let link = bin.join("sqlcmd");
    if !link.exists() {
        std::os::unix::fs::symlink(vdisim, &link)?;
    }
    Ok(bin)
}
