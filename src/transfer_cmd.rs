//! `vdisim backup` and `vdisim restore`: the reference client as a command.

use crate::sql_target::SqlTarget;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use vdi_client::reference::{self, ClientRun, Direction, MediaAccess, MediaKind, ReferenceOptions};

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
    /// Number of virtual devices (stripes), 1 to 64.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    devices: u16,
    /// The media mode the client asks for.
    #[arg(long, value_enum, default_value = "pipe")]
    mode: Mode,
    /// Do not ask for VDC_Complete (the last command is then a Flush).
    #[arg(long)]
    no_complete: bool,
    /// The server, as sqlcmd -S takes it (., localhost, unix:PATH); none: an in-process server.
    #[arg(long, short = 'S')]
    server: Option<String>,
    /// Login.
    #[arg(long, short = 'U', default_value = "sa")]
    user: String,
    /// Password ($VDISIM_SA_PASSWORD when not given).
    #[arg(long, short = 'P', env = "VDISIM_SA_PASSWORD", default_value = "")]
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
    /// The virtual device set's name, as vendors with a fixed name use it (other devices are
    /// NAME_1, NAME_2, …) [default: a new GUID, as the SDK samples make].
    #[arg(long, value_name = "NAME")]
    set: Option<String>,
}

impl Common {
    fn set_name(&self) -> String {
        self.set.clone().unwrap_or_else(reference::new_set_name)
    }
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    common: Common,
    /// Directory for the stripe files (created if missing).
    #[arg(long)]
    to: PathBuf,
    /// BACKUP LOG instead of BACKUP DATABASE.
    #[arg(long)]
    log: bool,
    /// A differential backup.
    #[arg(long, conflicts_with = "log")]
    differential: bool,
    /// Let the file's group read the stripe files (0640; a directory created for them 0750).
    /// Without it they are 0600 (0700), whatever the umask.
    #[arg(long)]
    group: bool,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    common: Common,
    /// Directory holding the stripe files.
    #[arg(long)]
    from: PathBuf,
    /// Overwrite an existing database (WITH REPLACE).
    #[arg(long)]
    replace: bool,
    /// RESTORE LOG instead of RESTORE DATABASE.
    #[arg(long)]
    log: bool,
    /// Leave the database restoring (WITH NORECOVERY).
    #[arg(long)]
    norecovery: bool,
    /// RESTORE VERIFYONLY instead of restoring.
    #[arg(long, conflicts_with_all = ["replace", "log", "norecovery"])]
    verify_only: bool,
}

fn options(common: &Common) -> ReferenceOptions {
    ReferenceOptions {
        devices: common.devices,
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

pub fn backup(args: &BackupArgs) -> Result<ExitCode, String> {
    let access = if args.group {
        MediaAccess::Group
    } else {
        MediaAccess::Owner
    };
    create_media_dir(&args.to, access)
        .map_err(|e| format!("cannot create {}: {e}", args.to.display()))?;
    let target = SqlTarget::from_args(
        args.common.server.as_deref(),
        &args.common.user,
        &args.common.password,
    )?;
    let set = args.common.set_name();
    let what = if args.log { "LOG" } else { "DATABASE" };
    let mut with = vec!["FORMAT".to_string()];
    if args.differential {
        with.push("DIFFERENTIAL".into());
    }
    let sql = format!(
        "BACKUP {what} [{}] TO {}{}",
        args.common.db,
        device_clause(&set, args.common.devices),
        with_clause(with, &args.common.with)
    );
    transfer(
        &target,
        &set,
        Direction::Backup,
        &args.to,
        &ReferenceOptions {
            media_access: access,
            ..options(&args.common)
        },
        sql,
    )
}

/// Creates the stripe directory if it is missing, with exactly `access`'s mode whatever the
/// umask (an existing directory is the user's business and keeps its mode).
fn create_media_dir(dir: &Path, access: MediaAccess) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(access.dir_mode())
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(access.dir_mode()))
}

pub fn restore(args: &RestoreArgs) -> Result<ExitCode, String> {
    let target = SqlTarget::from_args(
        args.common.server.as_deref(),
        &args.common.user,
        &args.common.password,
    )?;
    let set = args.common.set_name();
    let mut with = Vec::new();
    if args.replace {
        with.push("REPLACE".to_string());
    }
    if args.norecovery {
        with.push("NORECOVERY".into());
    }
    let devices = device_clause(&set, args.common.devices);
    let sql = if args.verify_only {
        format!(
            "RESTORE VERIFYONLY FROM {devices}{}",
            with_clause(with, &args.common.with)
        )
    } else {
        let what = if args.log { "LOG" } else { "DATABASE" };
        format!(
            "RESTORE {what} [{}] FROM {devices}{}",
            args.common.db,
            with_clause(with, &args.common.with)
        )
    };
    transfer(
        &target,
        &set,
        Direction::Restore,
        &args.from,
        &options(&args.common),
        sql,
    )
}

/// Runs the client against `target` and prints what the server said; exit 1 if either side failed.
pub fn transfer(
    target: &SqlTarget,
    set: &str,
    direction: Direction,
    dir: &Path,
    options: &ReferenceOptions,
    sql: String,
) -> Result<ExitCode, String> {
    let (run, output) = run_transfer(target, set, direction, dir, options, sql);
    let output = output?;
    print!("{}", output.render("VDISIM"));
    let server_failed = !output.error_numbers().is_empty();
    let mib_s = run.bytes as f64 / (1 << 20) as f64 / run.elapsed.as_secs_f64().max(1e-6);
    eprintln!(
        "vdisim: {} {} bytes over {} device(s) in {:.3} s ({mib_s:.1} MB/s); {} Flush, {} VDC_Complete{}",
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
        if run.clean() {
            ""
        } else {
            "; the transfer did not end cleanly"
        }
    );
    Ok(if server_failed || !run.clean() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The reference client against `target`, with a progress bar on a terminal.
pub fn run_transfer(
    target: &SqlTarget,
    set: &str,
    direction: Direction,
    dir: &Path,
    options: &ReferenceOptions,
    sql: String,
) -> (
    ClientRun,
    Result<vdi_server::engine::sink::CollectSink, String>,
) {
    let progress = Arc::new(AtomicU64::new(0));
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(if direction == Direction::Backup {
        "backing up"
    } else {
        "restoring"
    });
    bar.enable_steady_tick(Duration::from_millis(100));
    let ticker = {
        let (bar, progress) = (bar.clone(), progress.clone());
        std::thread::spawn(move || {
            while !bar.is_finished() {
                bar.set_position(progress.load(std::sync::atomic::Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let target = target.clone();
    let (run, output) = reference::run(set, direction, dir, options, progress, move || {
        target.run(&sql)
    });
    bar.finish_and_clear();
    let _ = ticker.join();
    (run, output)
}
