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
pub const BROKEN_VARIANTS: [&str; 8] = [
    "flush-is-end",
    "no-complete",
    "close-early",
    "ignore-timeout",
    "short-write",
    "corrupt",
    "snapshot-early",
    "snapshot-slow",
];

/// How long `builtin:snapshot-slow` holds VDC_Snapshot before taking the snapshot: well past
/// the 1 s `--max-freeze` of `snapshot/freeze-limit-1s`.
pub const SNAPSHOT_SLOW_HOLD: Duration = Duration::from_secs(3);

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
                "snapshot-early" => f.snapshot_early = true,
                "snapshot-slow" => f.snapshot_hold = Some(SNAPSHOT_SLOW_HOLD),
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

impl ClientKind {
    /// The `--client` value that gives this client (a template is itself).
    pub fn label(&self) -> String {
        match self {
            ClientKind::Builtin(f) => {
                let variant = [
                    (f.flush_is_end, "flush-is-end"),
                    (f.no_complete, "no-complete"),
                    (f.close_early, "close-early"),
                    (f.ignore_timeout, "ignore-timeout"),
                    (f.short_write, "short-write"),
                    (f.corrupt, "corrupt"),
                    (f.snapshot_early, "snapshot-early"),
                    (f.snapshot_hold.is_some(), "snapshot-slow"),
                ]
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, name)| name)
                .collect::<Vec<_>>()
                .join("+");
                if variant.is_empty() {
                    "builtin".into()
                } else {
                    format!("builtin:{variant}")
                }
            }
            ClientKind::Template(t) => t.clone(),
        }
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
         backup-log-tail) exec {exe} backup {common} --to {{dir}} --log --with NORECOVERY;; \
         backup-filegroup) exec {exe} backup {common} --to {{dir}} --filegroup PRIMARY;; \
         restore-filegroup-norecovery) exec {exe} restore {common} --from {{dir}} --filegroup PRIMARY --norecovery;; \
         restore-log-stopat) exec {exe} restore {common} --from {{dir}} --log --with \"STOPAT = '$VDISIM_CONFORM_STOPAT'\";; \
         snapshot-backup) exec {exe} backup -S {{server}} --db {{db}} --snapshot {{dir}} --volumes {{volumes}};; \
         snapshot-restore) exec {exe} restore -S {{server}} --db {{db}} --snapshot {{dir}} --volumes {{volumes}} --replace;; \
         *) exit {EXIT_UNSUPPORTED};; esac"
    )
}

/// Quotes a value for `sh`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What one client run is asked to do.
#[derive(Clone)]
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
    /// The point in time of a `restore-log-stopat` run (`{stopat}`, `VDISIM_CONFORM_STOPAT`):
    /// ISO 8601 with seven fractional digits, in the server's time.
    pub stop_at: Option<&'a str>,
    /// The case's TDS endpoint as `host,port` (`{tds}`, `$VDISIM_TDS`): the same server for a
    /// driver-based client (ODBC, FreeTDS, pytds …).
    pub tds: &'a str,
    /// Kill the client (SIGKILL, its process group) as soon as this says so (polled): a
    /// client that dies at a chosen moment. The in-process client cannot be killed; it runs
    /// as `vdisim backup|restore` processes instead.
    pub kill_when: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl std::fmt::Debug for Invocation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("op", &self.op)
            .field("db", &self.db)
            .field("dir", &self.dir)
            .field("socket", &self.socket)
            .field("devices", &self.devices)
            .field("mode", &self.mode)
            .field("kill_when", &self.kill_when.is_some())
            .finish_non_exhaustive()
    }
}

/// The environment variable that gives a template client the case's TDS endpoint.
pub const TDS_ENV: &str = "VDISIM_TDS";

/// How many lines of each of a client's streams the reports keep (the last ones).
pub const OUTPUT_TAIL_LINES: usize = 20;
/// And at most this many bytes of each.
pub const OUTPUT_TAIL_BYTES: usize = 4096;

/// How a client run ended.
#[derive(Clone, Debug, Default)]
pub struct ClientOutcome {
    /// The exit code (`None`: killed by a signal or still running at the limit).
    pub exit: Option<i32>,
    /// Killed at the time limit.
    pub timed_out: bool,
    /// Why the harness did not run the client at all (the case does not apply to it).
    pub not_run: Option<String>,
    /// The last lines of its stdout (the built-in client: the server's messages, as sqlcmd
    /// prints them).
    pub stdout: String,
    /// The last lines of its stderr (the built-in client: how its transfer ended).
    pub stderr: String,
    /// Misuse rules the in-process client library recorded (template clients: from their
    /// transcript).
    pub misuse: Vec<vdi_proto::Rule>,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs the client once.
pub fn run(kind: &ClientKind, inv: &Invocation<'_>) -> ClientOutcome {
    match kind {
        ClientKind::Builtin(_) if inv.kill_when.is_some() => {
            // A thread of the harness cannot be killed: the reference client runs as processes
            // (the vdisim binary behind the `sqlcmd` link), as `builtin-process` runs it.
            match std::fs::read_link(inv.bin_dir.join("sqlcmd")) {
                Ok(vdisim) if vdisim.exists() => {
                    run_template(&builtin_process_template(&vdisim), inv)
                }
                _ => ClientOutcome {
                    not_run: Some(
                        "the in-process client cannot be killed, and there is no vdisim binary to run it as a process".into(),
                    ),
                    ..ClientOutcome::default()
                },
            }
        }
        ClientKind::Builtin(faults) => run_builtin(*faults, inv),
        ClientKind::Template(t) => run_template(t, inv),
    }
}

/// The T-SQL the reference client sends for `op`.
pub fn statement(op: Op, db: &str, set: &str, devices: u16, stop_at: Option<&str>) -> String {
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
        Op::BackupLogTail => format!("BACKUP LOG [{db}] TO {clause} WITH FORMAT, NORECOVERY"),
        Op::BackupFilegroup => {
            format!("BACKUP DATABASE [{db}] FILEGROUP = N'PRIMARY' TO {clause} WITH FORMAT")
        }
        Op::RestoreFilegroupNoRecovery => {
            format!("RESTORE DATABASE [{db}] FILEGROUP = N'PRIMARY' FROM {clause} WITH NORECOVERY")
        }
        Op::RestoreLogStopAt => format!(
            "RESTORE LOG [{db}] FROM {clause} WITH STOPAT = N'{}'",
            stop_at.unwrap_or_default()
        ),
        Op::SnapshotBackup => format!("BACKUP DATABASE [{db}] TO {clause} WITH SNAPSHOT"),
        Op::SnapshotRestore => {
            format!("RESTORE DATABASE [{db}] FROM {clause} WITH SNAPSHOT, REPLACE")
        }
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
        snapshot: matches!(inv.op, Op::SnapshotBackup | Op::SnapshotRestore).then(|| {
            reference::SnapshotFiles {
                volume_image: vdi_server::jobs::image_path(&volumes_of(inv.socket), inv.db),
                captured: inv.dir.join("snapshot.img"),
            }
        }),
        ..ReferenceOptions::default()
    };
    let set = reference::new_set_name();
    let sql = statement(inv.op, inv.db, &set, inv.devices, inv.stop_at);
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
            outcome.stderr = tail(&describe_run(&run, inv.devices));
            match output {
                Ok(sink) => outcome.stdout = tail(&sink.render("VDISIM")),
                Err(e) => outcome.stderr = tail(&format!("{}\n{e}", outcome.stderr)),
            }
        }
        Err(_) => outcome.timed_out = true,
    }
    outcome.elapsed = started.elapsed();
    outcome
}

fn run_sql(socket: &Path, sql: &str) -> Result<CollectSink, String> {
    vdi_server::daemon::run_batch(socket, "sa", "", "vdisim conform", sql)
}

/// The snapshot volume directory of the case server on `socket` (`{volumes}`,
/// `$VDISIM_CONFORM_VOLUMES`): `volumes/` beside it (docs/snapshots.md).
pub fn volumes_of(socket: &Path) -> PathBuf {
    vdi_server::jobs::volumes_beside(socket)
}

/// The environment variable that gives a template client the case's volume directory.
pub const VOLUMES_ENV: &str = "VDISIM_CONFORM_VOLUMES";

/// Substitutes the placeholders (each value shell-quoted).
pub fn expand(template: &str, inv: &Invocation<'_>) -> String {
    let server = format!("unix:{}", inv.socket.display());
    template
        .replace(
            "{volumes}",
            &shell_quote(&volumes_of(inv.socket).to_string_lossy()),
        )
        .replace("{op}", &shell_quote(inv.op.name()))
        .replace("{db}", &shell_quote(inv.db))
        .replace("{dir}", &shell_quote(&inv.dir.to_string_lossy()))
        .replace("{server}", &shell_quote(&server))
        .replace("{tds}", &shell_quote(inv.tds))
        .replace("{devices}", &inv.devices.to_string())
        .replace("{prefix}", &inv.prefix_zone.to_string())
        .replace("{alignment}", &inv.alignment.to_string())
        .replace("{mode}", &shell_quote(inv.mode.name()))
        .replace("{stopat}", &shell_quote(inv.stop_at.unwrap_or_default()))
}

fn run_template(template: &str, inv: &Invocation<'_>) -> ClientOutcome {
    let started = Instant::now();
    let mut outcome = ClientOutcome::default();
    if (inv.prefix_zone, inv.alignment) != (0, 0)
        && !template.contains("{prefix}")
        && !template.contains("{alignment}")
    {
        // The template cannot be told to ask for them: not applicable (SKIP).
        outcome.not_run = Some(
            "the template has no {prefix} or {alignment} placeholder, so it cannot be asked for a prefix zone or an alignment"
                .into(),
        );
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
        .env("VDISIM_CONFORM_STOPAT", inv.stop_at.unwrap_or_default())
        .env(TDS_ENV, inv.tds)
        .env(VOLUMES_ENV, volumes_of(inv.socket))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            outcome.stderr = format!("vdisim conform: cannot start sh: {e}");
            return outcome;
        }
    };
    let stdout = child.stdout.take().map(|s| spawn_tail_reader(Box::new(s)));
    let stderr = child.stderr.take().map(|s| spawn_tail_reader(Box::new(s)));
    let deadline = started + inv.limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                outcome.exit = status.code();
                break;
            }
            Ok(None) if inv.kill_when.is_some_and(|f| f()) => {
                kill_group(&mut child);
                outcome.exit = None;
                break;
            }
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(if inv.kill_when.is_some() {
                    1
                } else {
                    5
                }));
            }
            _ => {
                outcome.timed_out = true;
                kill_group(&mut child);
                break;
            }
        }
    }
    let collect = |reader: Option<std::thread::JoinHandle<String>>| {
        reader
            .and_then(|r| r.join().ok())
            .map(|text| tail(&text))
            .unwrap_or_default()
    };
    outcome.stdout = collect(stdout);
    outcome.stderr = collect(stderr);
    outcome.misuse = transcript_misuse(inv.transcript);
    outcome.elapsed = started.elapsed();
    outcome
}

/// SIGKILL to the client's process group, then reaps it.
fn kill_group(child: &mut std::process::Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
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

/// Reads a stream to its end on a thread, keeping only its last bytes (a chatty client cannot
/// fill the harness's memory).
fn spawn_tail_reader(mut r: Box<dyn Read + Send>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let keep = OUTPUT_TAIL_BYTES * 4;
        let mut kept: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > 2 * keep {
                        kept.drain(..kept.len() - keep);
                    }
                }
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}

/// The last [`OUTPUT_TAIL_LINES`] lines of `text` (at most [`OUTPUT_TAIL_BYTES`]), without
/// trailing blank lines or terminal control characters.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let mut out = lines[lines.len().saturating_sub(OUTPUT_TAIL_LINES)..].join("\n");
    if out.len() > OUTPUT_TAIL_BYTES {
        let mut cut = out.len() - OUTPUT_TAIL_BYTES;
        while !out.is_char_boundary(cut) {
            cut += 1;
        }
        out = format!("…{}", &out[cut..]);
    }
    out.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect()
}

/// What the built-in client says about its transfer on stderr (as `vdisim backup` does).
fn describe_run(run: &vdi_client::reference::ClientRun, devices: u16) -> String {
    let mut text = format!(
        "{} bytes over {devices} device(s); {} Flush, {} VDC_Complete",
        run.bytes, run.flushes, run.completes
    );
    if let Some(e) = &run.configuration {
        text.push_str(&format!("\nGetConfiguration: {e}"));
    }
    for (d, ending) in run.endings.iter().enumerate() {
        match ending {
            Err(e) if e.code == vdi_proto::VdCode::Close => {}
            Err(e) => text.push_str(&format!("\ndevice {d}: GetCommand ended with {e}")),
            Ok(()) => text.push_str(&format!("\ndevice {d}: left its command loop early")),
        }
    }
    match &run.close {
        Some(Ok(())) => {}
        Some(Err(e)) => text.push_str(&format!("\nClose: {e}")),
        None => text.push_str("\nthe set was not closed"),
    }
    text
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
