//! `vdisim server`: the fake sqlservr as a foreground daemon on a Unix domain socket.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use vdi_server::daemon::{
    DEFAULT_LOGIN_TIMEOUT, DEFAULT_MAX_CONNECTIONS, Daemon, DaemonConfig, default_socket_path,
};
use vdi_server::db::{Catalog, RecoveryModel};
use vdi_server::engine::{DEFAULT_SERVER_NAME, Engine, EngineConfig, utc_timestamp};

/// The environment variable read when `--sa-password` is not given.
const SA_PASSWORD_ENV: &str = "VDISIM_SA_PASSWORD";

#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// The socket to listen on [default: $VDISIM_SERVER, else /tmp/vdisim-<uid>/sqlservr.sock].
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Keep databases in this directory (created if missing) instead of in memory only.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Also create this database (SIZE in MB, or with a KB/MB/GB suffix) unless it exists.
    #[arg(long = "database", value_name = "NAME:SIZE", value_parser = parse_database_spec)]
    databases: Vec<(String, u64)>,
    /// The sa password [default: $VDISIM_SA_PASSWORD; if neither is set, any password is
    /// accepted and the socket's 0600 mode is the only access control].
    #[arg(long, value_name = "PW")]
    sa_password: Option<String>,
    /// The name in @@SERVERNAME and in every `Msg …, Server X` line.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SERVER_NAME)]
    server_name: String,
    /// Seconds BACKUP/RESTORE waits for the client to create its virtual device set before
    /// failing with Msg 3201.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    open_timeout: f64,
    /// Seconds a snapshot BACKUP (or a T-SQL suspend's METADATA_ONLY backup) may hold its
    /// database frozen before the server aborts the snapshot and thaws it (docs/snapshots.md).
    #[arg(long, value_name = "SECONDS",
          default_value_t = vdi_server::jobs::DEFAULT_MAX_FREEZE.as_secs_f64())]
    max_freeze: f64,
    /// Where frozen databases are presented for snapshots and mounted snapshots are read
    /// [default: `volumes/` beside the socket].
    #[arg(long, value_name = "DIR")]
    volumes: Option<PathBuf>,
    /// How RESTORE HEADERONLY, FILELISTONLY and LABELONLY end the device set once they have
    /// read the headers: `close` (the Reads already sent complete, then CloseDevice and Close:
    /// the client sees VD_E_CLOSE) or `abort` (SignalAbort: the client sees VD_E_ABORT).
    #[arg(long, value_name = "HOW", default_value = "close", value_parser = ["close", "abort"])]
    headers_only_end: String,
    #[command(flatten)]
    tds: crate::tds_args::TdsArgs,
    /// Connections served at once, logged in or not; one more gets Msg 17809 and is closed.
    /// Meant to cover every endpoint of the server (the Unix socket, and TDS when it listens).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Seconds a new connection may take to send its login before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_LOGIN_TIMEOUT.as_secs_f64())]
    login_timeout: f64,
}

fn parse_database_spec(spec: &str) -> Result<(String, u64), String> {
    let (name, size) = spec
        .rsplit_once(':')
        .ok_or_else(|| format!("expected NAME:SIZE, got {spec:?}"))?;
    if name.is_empty() {
        return Err("the database name is empty".into());
    }
    let size = size.trim();
    let upper = size.to_ascii_uppercase();
    let (digits, unit) = match upper.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => upper.split_at(i),
        None => (upper.as_str(), "MB"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("bad size {size:?} (e.g. 64, 64MB, 2GB)"))?;
    let multiplier: u64 = match unit.trim() {
        "KB" | "KIB" | "K" => 1 << 10,
        "MB" | "MIB" | "M" => 1 << 20,
        "GB" | "GIB" | "G" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} (use KB, MB or GB)")),
    };
    let bytes = n
        .checked_mul(multiplier)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("bad size {size:?}"))?;
    Ok((name.to_owned(), bytes))
}

pub fn run(args: &ServerArgs) -> Result<ExitCode, String> {
    // Memory a connection used for a large request goes back to the system (decision 55).
    vdi_shm::memory::bound_retained_memory();
    let mut catalog = match &args.data_dir {
        Some(dir) => Catalog::open(dir).map_err(|e| e.to_string())?,
        None => Catalog::with_defaults(),
    };
    for (name, bytes) in &args.databases {
        if catalog.get(name).is_none() {
            catalog
                .create(name, *bytes, RecoveryModel::Full, 0)
                .map_err(|e| format!("--database {name}: {e}"))?;
        }
    }
    let sa_password = args
        .sa_password
        .clone()
        .or_else(|| std::env::var(SA_PASSWORD_ENV).ok())
        .filter(|p| !p.is_empty());
    let log = |text: &str| eprintln!("{} {text}", utc_timestamp());
    if sa_password.is_none() {
        log("no sa password set (--sa-password or $VDISIM_SA_PASSWORD): any password is accepted");
    }
    let names: Vec<String> = catalog.list().map(|db| db.name().to_owned()).collect();
    let socket = args.socket.clone().unwrap_or_else(default_socket_path);
    let volumes = args
        .volumes
        .clone()
        .unwrap_or_else(|| vdi_server::jobs::volumes_beside(&socket));
    let max_freeze = Duration::from_secs_f64(args.max_freeze.max(0.001));
    log(&format!(
        "snapshots: volumes {}, max freeze {} ms",
        volumes.display(),
        max_freeze.as_millis()
    ));
    let engine = Engine::new(
        catalog,
        EngineConfig {
            server_name: args.server_name.clone(),
            sa_password,
            log_to_stderr: true,
            jobs: Arc::new(vdi_server::jobs::VdiJobRunner::new(
                Arc::new(vdi_server::vdi::shm::ShmServerConnector::from_env()),
                vdi_server::jobs::JobOptions {
                    open_timeout: std::time::Duration::from_secs_f64(args.open_timeout.max(0.0)),
                    headers_only_end: if args.headers_only_end == "abort" {
                        vdi_server::jobs::HeadersOnlyEnd::Abort
                    } else {
                        vdi_server::jobs::HeadersOnlyEnd::Close
                    },
                    volumes: volumes.clone(),
                    max_freeze,
                    ..Default::default()
                },
            )),
            ..EngineConfig::default()
        },
    );

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    let config = DaemonConfig {
        max_connections: args.max_connections as usize,
        login_timeout: Duration::from_secs_f64(args.login_timeout.max(0.001)),
        ..DaemonConfig::new(&socket, Arc::clone(&engine))
    };
    let daemon = Daemon::start(config).map_err(|e| e.to_string())?;
    // The TDS listener serves the same engine (docs/tds.md), under the same connection cap.
    let tds = crate::tds_args::start(&args.tds, args.max_connections as usize, &engine, &log)?;
    // Regions of crashed sets that no survivor removed.
    let sweeper =
        vdi_server::vdi::shm::Sweeper::start(vdi_server::vdi::shm::SWEEP_INTERVAL, move |t| log(t))
            .map_err(|e| format!("cannot start the shared-memory sweep: {e}"))?;
    log(&format!(
        "vdisim server {} ready: databases {}; Ctrl-C or SIGTERM stops it",
        args.server_name,
        names.join(", ")
    ));
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    log("signal received, shutting down");
    if let Some(tds) = tds {
        tds.shutdown();
    }
    daemon.shutdown();
    // A T-SQL suspend still held: its presented image goes with the server.
    for frozen in engine.all_frozen() {
        let _ = std::fs::remove_file(vdi_server::jobs::image_path(&volumes, &frozen.database));
    }
    drop(sweeper);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_specs() {
        assert_eq!(
            parse_database_spec("sales:64"),
            Ok(("sales".into(), 64 << 20))
        );
        assert_eq!(parse_database_spec("a:b:2GB"), Ok(("a:b".into(), 2 << 30)));
        assert_eq!(parse_database_spec("x:512kb"), Ok(("x".into(), 512 << 10)));
        assert!(parse_database_spec("sales").is_err());
        assert!(parse_database_spec(":5").is_err());
        assert!(parse_database_spec("x:0").is_err());
        assert!(parse_database_spec("x:5TB").is_err());
    }
}
