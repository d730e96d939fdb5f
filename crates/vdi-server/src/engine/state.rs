//! The engine's state as the catalog views see it, the clock, and the files msdb's history
//! and the logins persist in under `--data-dir`.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Engine, EngineConfig, Security};
use crate::tsql::catalog::{
    DatabaseInfo, DatabaseState, ServerInfo, ServerSnapshot, SessionStatus,
};
use crate::tsql::msdb::Msdb;
use crate::tsql::value::DateTime;

pub(crate) const MSDB_FILE: &str = "msdb.json";
pub(crate) const SECURITY_FILE: &str = "security.json";

/// Days from 0001-01-01 to 1970-01-01.
const UNIX_EPOCH_DAYS: i64 = 719_162;

/// The server's clock: UTC (the emulated server runs in UTC, so local time is UTC too).
#[must_use]
pub fn datetime_now() -> DateTime {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    DateTime {
        days: i32::try_from(UNIX_EPOCH_DAYS + (secs / 86_400) as i64).unwrap_or(i32::MAX),
        ticks: (secs % 86_400) * 10_000_000 + u64::from(since.subsec_nanos() / 100),
    }
}

/// The offset of local time from UTC, in minutes: always 0, see [`datetime_now`].
#[must_use]
pub fn local_timezone_offset() -> i32 {
    0
}

/// msdb's history and the logins from the data directory, or fresh ones. `--sa-password`
/// always sets sa's password.
pub(super) fn load(
    data_dir: Option<&Path>,
    config: &EngineConfig,
    now: DateTime,
) -> (Security, Msdb) {
    let mut security: Security = read_json(data_dir, SECURITY_FILE)
        .unwrap_or_else(|| Security::new(config.sa_password.as_deref(), now));
    security.set_sa_password(config.sa_password.as_deref());
    let msdb = read_json(data_dir, MSDB_FILE).unwrap_or_default();
    (security, msdb)
}

fn read_json<T: DeserializeOwned>(dir: Option<&Path>, file: &str) -> Option<T> {
    let path = dir?.join(file);
    let text = std::fs::read_to_string(&path).ok()?;
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(e) => {
            eprintln!(
                "vdisim: {} cannot be read ({e}); starting without it",
                path.display()
            );
            None
        }
    }
}

/// Writes `value` to `dir/file` atomically (a temporary file renamed over it), mode 0600.
pub(crate) fn save_json<T: Serialize>(
    dir: Option<&Path>,
    file: &str,
    value: &T,
) -> Result<(), String> {
    let Some(dir) = dir else {
        return Ok(());
    };
    let path = dir.join(file);
    let tmp = dir.join(format!("{file}.tmp"));
    let text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    write_private(&tmp, text.as_bytes()).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

impl Engine {
    /// Everything the catalog views and server functions read, as it is now.
    pub(crate) fn snapshot(&self) -> ServerSnapshot {
        let mut server = ServerInfo::new(self.server_name(), None, self.start_time);
        server.version_text = self.version().to_owned();
        server.process_id = i32::try_from(std::process::id()).unwrap_or(1);
        let mut snapshot = ServerSnapshot::new(server);
        snapshot.databases = self.lock_system_databases().clone();
        {
            let catalog = self.lock_catalog();
            let mut user: Vec<_> = catalog
                .list()
                .map(|db| {
                    let mut info = db.sql_info().clone();
                    info.space = db.space_usage();
                    info
                })
                .collect();
            user.sort_by_key(|d| d.database_id);
            snapshot.databases.extend(user);
        }
        for name in self.config.jobs.restoring_databases() {
            match snapshot
                .databases
                .iter_mut()
                .find(|d| d.name.eq_ignore_ascii_case(&name))
            {
                Some(db) => db.state = DatabaseState::Restoring,
                None => {
                    let id = self.lock_catalog().next_database_id();
                    let mut db = DatabaseInfo::new(id, &name, self.start_time);
                    db.state = DatabaseState::Restoring;
                    snapshot.databases.push(db);
                }
            }
        }
        for db in &mut snapshot.databases {
            if self.has_operation(&db.name) {
                db.log_reuse_wait = crate::tsql::catalog::LogReuseWait::ActiveBackupOrRestore;
            }
        }
        snapshot.logins = self.lock_security().logins().to_vec();
        for live in self.live_sessions() {
            let mut info = live.info;
            if let Some(request) = live.request {
                info.status = SessionStatus::Running;
                snapshot.requests.push(request);
            }
            snapshot.sessions.push(info);
        }
        snapshot.msdb = self.lock_msdb().clone();
        snapshot
    }
}
