//! `vdisim backup` and `vdisim restore`: the reference client as a command.

mod media;
mod progress;

use crate::sql_target::{Connection, SqlTarget};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use vdi_client::reference::{self, ClientRun, Direction, MediaAccess, MediaKind, ReferenceOptions};
use vdi_server::engine::OutputSink;
use vdi_server::engine::sink::CollectSink;
use vdi_server::tsql::{ResultSet, SqlMessage};

pub use progress::{DisplayOptions, Meter};

/// The server's "N percent processed." (STATS).
const PERCENT_PROCESSED: u32 = 3211;

/// The after-help of both commands: exit codes, environment, an example.
macro_rules! after_help {
    ($example:literal) => {
        concat!(
            "Exit codes:\n",
            "  0  the server reported success and every device ended cleanly\n",
            "  1  the server reported an error, the transfer did not end cleanly, or the server, the\n",
            "     login or the media directory was not usable (one line on stderr says which and\n",
            "     what to do)\n",
            "  2  the command line is wrong\n\n",
            "Environment:\n",
            "  VDISIM_SA_PASSWORD  the password when -P is not given\n",
            "  SQLCMDSERVER        the server when -S is not given\n",
            "  VDISIM_SERVER       the local server's socket [default: /tmp/vdisim-<uid>/sqlservr.sock]\n",
            "  VDISIM_TRANSCRIPT   record every VDI call of the client in this JSON-lines file\n\n",
            "Example:\n  ",
            $example
        )
    };
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Mode {
    Pipe,
    Tape,
    Disk,
}

/// Options both commands share.
#[derive(Args, Debug)]
pub struct Common {
    /// The database.
    #[arg(long)]
    db: String,
    /// Number of virtual devices (stripes), 1 to 64 [backup default: 1; restore default: the
    /// stripe count of the media set in --from].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    devices: Option<u16>,
    /// The media mode the client asks for.
    #[arg(long, value_enum, default_value = "pipe")]
    mode: Mode,
    /// Do not ask for VDC_Complete (the last command is then a Flush).
    #[arg(long)]
    no_complete: bool,
    /// The server, as sqlcmd -S takes it (., localhost, unix:PATH) [default: $SQLCMDSERVER,
    /// else $VDISIM_SERVER, else /tmp/vdisim-<uid>/sqlservr.sock].
    #[arg(long, short = 'S')]
    server: Option<String>,
    /// Start a private in-process server with the default databases instead of using the
    /// running vdisim server.
    #[arg(long, conflicts_with_all = ["server", "sqlcmd"])]
    in_process: bool,
    /// Send the statement by running PROGRAM as sqlcmd (`PROGRAM [-S server] -U user -P pw -b
    /// -Q sql`), as sqlcmd-driven vendor clients do: e.g. a script around an ODBC or pytds
    /// connection to the TDS port. -S is passed on as given.
    #[arg(long, value_name = "PROGRAM")]
    sqlcmd: Option<PathBuf>,
    /// Login.
    #[arg(long, short = 'U', default_value = "sa")]
    user: String,
    /// Password.
    #[arg(
        long,
        short = 'P',
        env = "VDISIM_SA_PASSWORD",
        hide_env = true,
        default_value = "",
        hide_default_value = true
    )]
    password: String,
    /// Extra WITH options appended to the statement (e.g. "COMPRESSION, STATS=10").
    #[arg(long)]
    with: Option<String>,
    /// VDConfig prefixZoneSize: bytes the server must keep free before every buffer.
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    prefix_zone: u32,
    /// VDConfig alignment: the minimum buffer alignment the client needs (0: none).
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    alignment: u32,
    /// No progress display and no closing summary (errors and the server's messages are
    /// still printed).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Seconds between progress lines when stderr is not a terminal.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = parse_interval)]
    progress_interval: f64,
    /// The virtual device set's name, as vendors with a fixed name use it (other devices are
    /// NAME_1, NAME_2, …) [default: a new GUID, as the SDK samples make].
    #[arg(long, value_name = "NAME")]
    set: Option<String>,
    /// A snapshot backup or restore (WITH SNAPSHOT; docs/snapshots.md): the metadata goes to
    /// DIR/stripe-00.vbak and the captured database image to DIR/snapshot.img.
    #[arg(long, value_name = "DIR")]
    snapshot: Option<PathBuf>,
    /// The server's snapshot volume directory [default: `volumes/` beside its socket].
    #[arg(long, value_name = "DIR")]
    volumes: Option<PathBuf>,
    /// Testing aid: hold VDC_Snapshot this many seconds before taking the snapshot.
    #[arg(long, value_name = "SECONDS", hide = true)]
    snapshot_hold: Option<f64>,
    /// Testing aid: hold VDC_PrepareToFreeze this many seconds (before the freeze).
    #[arg(long, value_name = "SECONDS", hide = true)]
    prepare_hold: Option<f64>,
}

impl Common {
    fn set_name(&self) -> String {
        self.set.clone().unwrap_or_else(reference::new_set_name)
    }
}

fn parse_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.05..=3600.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{text:?} is not a number of seconds from 0.05 to 3600"
        )),
    }
}

#[derive(Args, Debug)]
#[command(after_help = after_help!("vdisim backup --db pubs --devices 4 --to /tmp/media -S . -P \"$PW\""))]
pub struct BackupArgs {
    #[command(flatten)]
    common: Common,
    /// Directory for the stripe files (created if missing; it must be empty unless
    /// --overwrite) [default with --snapshot: its DIR].
    #[arg(long, required_unless_present = "snapshot")]
    to: Option<PathBuf>,
    /// Replace the media set in --to: its stripe files are removed once the new backup
    /// succeeded (a failed backup leaves them as they were).
    #[arg(long)]
    overwrite: bool,
    /// BACKUP LOG instead of BACKUP DATABASE.
    #[arg(long)]
    log: bool,
    /// A differential backup.
    #[arg(long, conflicts_with = "log")]
    differential: bool,
    /// Back up only this filegroup (`FILEGROUP = 'NAME'`; repeat for several).
    #[arg(long = "filegroup", value_name = "NAME", conflicts_with = "log")]
    filegroups: Vec<String>,
    /// Let the file's group read the stripe files (0640; a directory created for them 0750).
    /// Without it they are 0600 (0700), whatever the umask.
    #[arg(long)]
    group: bool,
}

#[derive(Args, Debug)]
#[command(after_help = after_help!("vdisim restore --db pubs --from /tmp/media --replace -S . -P \"$PW\""))]
pub struct RestoreArgs {
    #[command(flatten)]
    common: Common,
    /// Directory holding the stripe files (its stripe count is read from them) [default with
    /// --snapshot: its DIR].
    #[arg(long, required_unless_present = "snapshot")]
    from: Option<PathBuf>,
    /// Overwrite an existing database (WITH REPLACE).
    #[arg(long)]
    replace: bool,
    /// RESTORE LOG instead of RESTORE DATABASE.
    #[arg(long)]
    log: bool,
    /// Leave the database restoring (WITH NORECOVERY).
    #[arg(long)]
    norecovery: bool,
    /// Restore only this filegroup (`FILEGROUP = 'NAME'`; repeat for several).
    #[arg(long = "filegroup", value_name = "NAME", conflicts_with = "log")]
    filegroups: Vec<String>,
    /// RESTORE VERIFYONLY instead of restoring.
    #[arg(long, conflicts_with_all = ["replace", "log", "norecovery", "filegroups"])]
    verify_only: bool,
}

/// The snapshot files of `--snapshot DIR` for `database` on `target`.
fn snapshot_files(common: &Common, target: &SqlTarget) -> Option<reference::SnapshotFiles> {
    let dir = common.snapshot.as_ref()?;
    let volumes = common.volumes.clone().unwrap_or_else(|| target.volumes());
    Some(reference::SnapshotFiles {
        volume_image: vdi_server::jobs::image_path(&volumes, &common.db),
        captured: dir.join("snapshot.img"),
    })
}

fn options(common: &Common, devices: u16) -> ReferenceOptions {
    let faults = reference::Faults {
        snapshot_hold: common
            .snapshot_hold
            .map(|s| Duration::from_secs_f64(s.max(0.0))),
        prepare_hold: common
            .prepare_hold
            .map(|s| Duration::from_secs_f64(s.max(0.0))),
        ..reference::Faults::default()
    };
    ReferenceOptions {
        faults,
        devices,
        media: match common.mode {
            Mode::Pipe => MediaKind::Pipe,
            Mode::Tape => MediaKind::Tape,
            Mode::Disk => MediaKind::Disk,
        },
        request_complete: !common.no_complete,
        prefix_zone_size: common.prefix_zone,
        alignment: common.alignment,
        ..ReferenceOptions::default()
    }
}

fn display(common: &Common) -> DisplayOptions {
    DisplayOptions {
        quiet: common.quiet,
        interval: Duration::from_secs_f64(common.progress_interval),
    }
}

/// The server the command line names, logged in to, with the snapshot files it implies.
fn connect(common: &Common) -> Result<(Connection, Option<reference::SnapshotFiles>), String> {
    let target = match &common.sqlcmd {
        Some(program) => SqlTarget::external(
            program.clone(),
            common.server.as_deref(),
            &common.user,
            &common.password,
        ),
        None => SqlTarget::from_args(
            common.server.as_deref(),
            common.in_process,
            &common.user,
            &common.password,
        )?,
    };
    let files = snapshot_files(common, &target);
    Ok((target.connect()?, files))
}

/// `TO|FROM VIRTUAL_DEVICE='a', VIRTUAL_DEVICE='b' …`
pub fn device_clause(set: &str, devices: u16) -> String {
    reference::device_names(set, devices)
        .iter()
        .map(|n| format!("VIRTUAL_DEVICE = N'{}'", n.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_clause(mut options: Vec<String>, extra: &Option<String>) -> String {
    if let Some(extra) = extra {
        options.push(extra.clone());
    }
    if options.is_empty() {
        String::new()
    } else {
        format!(" WITH {}", options.join(", "))
    }
}

/// ` FILEGROUP = N'a', FILEGROUP = N'b'` after the database's name (empty for none).
fn filegroup_clause(filegroups: &[String]) -> String {
    filegroups
        .iter()
        .map(|g| format!(" FILEGROUP = N'{}'", g.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether the user's WITH options already ask for STATS.
fn asks_for_stats(extra: &Option<String>) -> bool {
    extra.as_deref().is_some_and(|w| {
        w.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|word| word.eq_ignore_ascii_case("STATS"))
    })
}

pub fn backup(args: &BackupArgs) -> Result<ExitCode, String> {
    let common = &args.common;
    let devices = common.devices.unwrap_or(1);
    let access = if args.group {
        MediaAccess::Group
    } else {
        MediaAccess::Owner
    };
    let (connection, snapshot) = connect(common)?;
    let to = args
        .to
        .clone()
        .or_else(|| common.snapshot.clone())
        .ok_or("--to DIR is missing")?;
    if snapshot.is_some() && (devices != 1 || args.log || args.differential) {
        return Err("--snapshot backs up a whole database to one device".into());
    }
    let staging = media::prepare_backup(&to, args.overwrite, access)?;
    let set = common.set_name();
    let what = if args.log { "LOG" } else { "DATABASE" };
    let mut with = vec![if snapshot.is_some() {
        "SNAPSHOT".to_string()
    } else {
        "FORMAT".to_string()
    }];
    if args.differential {
        with.push("DIFFERENTIAL".into());
    }
    // The server's percentages drive the progress display; the client asks for them when
    // the user did not, and does not print them then.
    let hidden_stats = snapshot.is_none() && !asks_for_stats(&common.with);
    if hidden_stats {
        with.push("STATS = 1".into());
    }
    let sql = format!(
        "BACKUP {what} [{}]{} TO {}{}",
        common.db.replace(']', "]]"),
        filegroup_clause(&args.filegroups),
        device_clause(&set, devices),
        with_clause(with, &common.with)
    );
    let job = Job {
        label: format!("backing up {}", common.db),
        meter: Meter::new(None),
        display: display(common),
        hidden_stats,
    };
    let (ok, code) = transfer(
        connection,
        &set,
        Direction::Backup,
        staging.path(),
        &ReferenceOptions {
            media_access: access,
            snapshot: snapshot.clone(),
            ..options(common, devices)
        },
        sql,
        job,
    )?;
    if ok {
        staging.commit(devices)?;
    } else {
        drop(staging);
        if let Some(files) = &snapshot {
            let _ = std::fs::remove_file(&files.captured);
        }
        eprintln!(
            "vdisim: the backup failed: no stripe was written to {}{}",
            to.display(),
            if args.overwrite {
                " (the media set already there is unchanged)"
            } else {
                ""
            }
        );
    }
    Ok(code)
}

pub fn restore(args: &RestoreArgs) -> Result<ExitCode, String> {
    let common = &args.common;
    let (connection, snapshot) = connect(common)?;
    let from = args
        .from
        .clone()
        .or_else(|| common.snapshot.clone())
        .ok_or("--from DIR is missing")?;
    let media = if snapshot.is_some() {
        let metadata = reference::stripe_path(&from, 0);
        let bytes = std::fs::metadata(&metadata)
            .map_err(|e| format!("cannot read {}: {e}", metadata.display()))?
            .len();
        media::MediaSet { devices: 1, bytes }
    } else {
        media::inspect_restore(&from, common.devices)?
    };
    let set = common.set_name();
    let mut with = Vec::new();
    if snapshot.is_some() {
        with.push("SNAPSHOT".to_string());
    }
    if args.replace {
        with.push("REPLACE".to_string());
    }
    if args.norecovery {
        with.push("NORECOVERY".into());
    }
    let devices = device_clause(&set, media.devices);
    let sql = if args.verify_only {
        format!(
            "RESTORE VERIFYONLY FROM {devices}{}",
            with_clause(with, &common.with)
        )
    } else {
        let what = if args.log { "LOG" } else { "DATABASE" };
        format!(
            "RESTORE {what} [{}]{} FROM {devices}{}",
            common.db.replace(']', "]]"),
            filegroup_clause(&args.filegroups),
            with_clause(with, &common.with)
        )
    };
    let job = Job {
        label: format!(
            "{} {}",
            if args.verify_only {
                "verifying"
            } else {
                "restoring"
            },
            common.db
        ),
        meter: Meter::new(Some(media.bytes)),
        display: display(common),
        hidden_stats: false,
    };
    let (_, code) = transfer(
        connection,
        &set,
        Direction::Restore,
        &from,
        &ReferenceOptions {
            snapshot,
            ..options(common, media.devices)
        },
        sql,
        job,
    )?;
    Ok(code)
}

/// How a transfer is shown.
pub struct Job {
    pub label: String,
    pub meter: Meter,
    pub display: DisplayOptions,
    /// STATS was added by the client for its progress display: its messages are not printed.
    pub hidden_stats: bool,
}

/// Runs the client on `connection`, prints what the server said and a summary; `(ok, exit
/// code)`, ok when neither side failed.
fn transfer(
    connection: Connection,
    set: &str,
    direction: Direction,
    dir: &Path,
    options: &ReferenceOptions,
    sql: String,
    job: Job,
) -> Result<(bool, ExitCode), String> {
    let quiet = job.display.quiet;
    let hidden_stats = job.hidden_stats;
    let (run, output) = run_transfer(connection, set, direction, dir, options, sql, job);
    let mut output = output?;
    if hidden_stats {
        output.outputs.retain(
            |o| !matches!(o, vdi_server::tsql::Output::Message(m) if m.number == PERCENT_PROCESSED),
        );
    }
    crate::out::print_or_ignore(&output.render("VDISIM"));
    let server_failed = !output.error_numbers().is_empty();
    if !quiet {
        let mib_s = run.bytes as f64 / (1 << 20) as f64 / run.elapsed.as_secs_f64().max(1e-6);
        eprintln!(
            "vdisim: {} {} bytes over {} device(s) in {:.3} s ({mib_s:.1} MB/s); {} Flush, {} VDC_Complete{}{}",
            if direction == Direction::Backup {
                "wrote"
            } else {
                "read"
            },
            run.bytes,
            options.devices,
            run.elapsed.as_secs_f64(),
            run.flushes,
            run.completes,
            match run.freeze {
                Some(f) => format!("; frozen for {} ms", f.as_millis()),
                None => String::new(),
            },
            if run.clean() {
                ""
            } else {
                "; the transfer did not end cleanly"
            }
        );
    }
    let ok = !server_failed && run.clean();
    Ok((
        ok,
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    ))
}

/// The statement's output, collected, with the server's percentages passed to the meter.
struct StatementSink {
    collect: CollectSink,
    percent: Arc<AtomicU32>,
}

impl OutputSink for StatementSink {
    fn message(&mut self, message: SqlMessage) {
        if message.number == PERCENT_PROCESSED
            && let Some(Ok(p)) = message
                .text
                .split_whitespace()
                .next()
                .map(str::parse::<u32>)
        {
            self.percent.store(p, Ordering::Relaxed);
        }
        self.collect.message(message);
    }

    fn result_set(&mut self, result_set: ResultSet) {
        self.collect.result_set(result_set);
    }

    fn rows_affected(&mut self, count: u64) {
        self.collect.rows_affected(count);
    }
}

/// The reference client, its statement sent on `connection`, with the progress display of
/// `job`.
pub fn run_transfer(
    connection: Connection,
    set: &str,
    direction: Direction,
    dir: &Path,
    options: &ReferenceOptions,
    sql: String,
    job: Job,
) -> (ClientRun, Result<CollectSink, String>) {
    let shown = progress::Display::start(job.label, job.meter.clone(), job.display);
    let percent = Arc::clone(&job.meter.percent);
    let (run, output) = reference::run(
        set,
        direction,
        dir,
        options,
        Arc::clone(&job.meter.bytes),
        move || {
            let mut sink = StatementSink {
                collect: CollectSink::new(),
                percent,
            };
            connection.run(&sql, &mut sink).map(|()| sink.collect)
        },
    );
    shown.finish();
    (run, output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_in_the_users_with_options_is_seen() {
        assert!(asks_for_stats(&Some("COMPRESSION, STATS=10".into())));
        assert!(asks_for_stats(&Some("stats".into())));
        assert!(!asks_for_stats(&Some("STATISTICS_NORECOMPUTE".into())));
        assert!(!asks_for_stats(&None));
    }
}
