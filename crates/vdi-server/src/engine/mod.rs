//! The session engine: runs T-SQL batches against the server's state.
//!
//! One [`Engine`] per server holds what all connections share: the catalog of databases,
//! msdb's history, the logins, the live sessions and requests, and the BACKUP/RESTORE
//! implementation. Each connection logs in to get a [`Session`]; its batches are parsed by
//! `tsql` and run by `tsql::interp`, which hands the statements with effects outside the
//! language back to the session ([`host`]). Error handling follows SQL Server (see
//! `tsql::interp`): a batch that does not compile runs nothing; run-time errors end the
//! statement or the batch by their kind; a cancelled batch stops between statements.
//!
//! `GO n` ([`Batch::repeat`]) runs the batch n times, parsing it each time, as sqlcmd sends
//! it n times.

mod context;
mod ddl;
mod freeze;
mod history;
mod host;
pub mod jobs;
pub mod security;
mod session;
pub mod sink;
pub mod snapshot_sql;
mod state;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::db::{Catalog, CatalogError};
use crate::tsql::SqlMessage;
use crate::tsql::catalog::{DatabaseInfo, RequestInfo, SessionInfo};
use crate::tsql::messages;
use crate::tsql::msdb::Msdb;

pub use freeze::{FreezeKind, Frozen};
pub use jobs::{
    JobContext, JobResult, NoVdiJobs, OperationGuard, VdiJobs, check_backup, check_restore,
    check_restore_target, fail,
};
pub use messages::cannot_open_login_database;
pub use security::Security;
pub use session::Session;
pub use sink::{CancelToken, CollectSink, Output, OutputSink, rows_affected_line};
pub use state::{datetime_now, local_timezone_offset};

/// The server name of `@@SERVERNAME` and of every `Msg …, Server X` line.
pub const DEFAULT_SERVER_NAME: &str = "VDISIM";

/// The login every server has.
pub const SA_LOGIN: &str = "sa";

/// Databases every SQL Server has: listed and usable with USE, but not held in the catalog.
pub const SYSTEM_DATABASES: [&str; 4] = ["master", "tempdb", "model", "msdb"];

/// Where a session starts.
pub const DEFAULT_DATABASE: &str = "master";

/// CREATE DATABASE without SIZE: SQL Server's model database is 8 MB.
pub const DEFAULT_CREATE_SIZE_MB: u64 = 8;

/// The longest WAITFOR DELAY actually waited (longer delays are cut to this).
pub const DEFAULT_WAITFOR_LIMIT: Duration = Duration::from_secs(3600);

#[must_use]
pub fn is_system_database(name: &str) -> bool {
    SYSTEM_DATABASES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
}

/// `@@VERSION`: SQL Server 2022's multi-line shape, so version sniffers see 2022, with
/// vdisim named as the platform.
#[must_use]
pub fn default_version() -> String {
    crate::tsql::catalog::snapshot::version_text(
        crate::tsql::catalog::snapshot::PRODUCT_VERSION,
        "Developer Edition (64-bit)",
    )
}

/// How to build an [`Engine`].
#[derive(Clone)]
pub struct EngineConfig {
    pub server_name: String,
    pub version: String,
    /// `None`: any password is accepted for sa (the socket's mode is the access control).
    pub sa_password: Option<String>,
    pub jobs: Arc<dyn VdiJobs>,
    pub waitfor_limit: Duration,
    /// One line per session, batch and job on stderr.
    pub log_to_stderr: bool,
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("server_name", &self.server_name)
            .field("version", &self.version)
            .field("sa_password", &self.sa_password.as_ref().map(|_| "(set)"))
            .field("waitfor_limit", &self.waitfor_limit)
            .field("log_to_stderr", &self.log_to_stderr)
            .finish_non_exhaustive()
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            server_name: DEFAULT_SERVER_NAME.to_owned(),
            version: default_version(),
            sa_password: None,
            jobs: Arc::new(NoVdiJobs),
            waitfor_limit: DEFAULT_WAITFOR_LIMIT,
            log_to_stderr: false,
        }
    }
}

/// A connection as the engine tracks it, for `sys.dm_exec_sessions`, `sp_who` and the
/// in-use checks of RESTORE and DROP DATABASE.
#[derive(Debug, Clone)]
pub(crate) struct LiveSession {
    pub info: SessionInfo,
    /// What it runs now, for `sys.dm_exec_requests`.
    pub request: Option<RequestInfo>,
    /// The running batch's cancel token, for KILL.
    pub cancel: Option<CancelToken>,
}

/// What all connections of one server share.
pub struct Engine {
    catalog: Mutex<Catalog>,
    config: EngineConfig,
    security: Mutex<Security>,
    msdb: Mutex<Msdb>,
    /// master, tempdb, model and msdb: not in the catalog, but their metadata can change.
    system_databases: Mutex<Vec<DatabaseInfo>>,
    sessions: Mutex<HashMap<u64, LiveSession>>,
    /// Databases (lower case) with a BACKUP/RESTORE running, and the session running it.
    operations: Mutex<HashMap<String, u64>>,
    /// Databases frozen for a snapshot backup.
    freezes: freeze::Freezes,
    next_session: AtomicU64,
    shutting_down: AtomicBool,
    start_time: crate::tsql::value::DateTime,
    /// Where msdb and the logins persist (`--data-dir`).
    data_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Engine {
    /// An engine over `catalog`; with a data directory, msdb's history and the logins are
    /// loaded from it (a file that cannot be read is reported on stderr and started afresh).
    #[must_use]
    pub fn new(mut catalog: Catalog, config: EngineConfig) -> Arc<Engine> {
        let start_time = datetime_now();
        let data_dir = catalog.data_dir().map(PathBuf::from);
        let (security, msdb) = state::load(data_dir.as_deref(), &config, start_time);
        catalog.assign_database_ids(start_time);
        let system_databases = SYSTEM_DATABASES
            .iter()
            .filter_map(|n| DatabaseInfo::system(n, start_time))
            .collect();
        Arc::new(Engine {
            catalog: Mutex::new(catalog),
            config,
            security: Mutex::new(security),
            msdb: Mutex::new(msdb),
            system_databases: Mutex::new(system_databases),
            sessions: Mutex::new(HashMap::new()),
            operations: Mutex::new(HashMap::new()),
            freezes: freeze::Freezes::default(),
            next_session: AtomicU64::new(51),
            shutting_down: AtomicBool::new(false),
            start_time,
            data_dir,
        })
    }

    #[must_use]
    pub fn server_name(&self) -> &str {
        &self.config.server_name
    }

    #[must_use]
    pub fn version(&self) -> &str {
        &self.config.version
    }

    /// The catalog, locked; hold the guard briefly.
    pub fn lock_catalog(&self) -> MutexGuard<'_, Catalog> {
        lock(&self.catalog)
    }

    /// msdb's history, locked; hold the guard briefly.
    pub fn lock_msdb(&self) -> MutexGuard<'_, Msdb> {
        lock(&self.msdb)
    }

    pub(crate) fn lock_security(&self) -> MutexGuard<'_, Security> {
        lock(&self.security)
    }

    /// Writes msdb's history to the data directory (no-op in memory).
    pub fn save_msdb(&self) -> Result<(), String> {
        state::save_json(
            self.data_dir.as_deref(),
            state::MSDB_FILE,
            &*self.lock_msdb(),
        )
    }

    pub(crate) fn save_security(&self) -> Result<(), String> {
        state::save_json(
            self.data_dir.as_deref(),
            state::SECURITY_FILE,
            &*self.lock_security(),
        )
    }

    /// Makes every running statement see cancellation (WAITFOR returns, jobs abort).
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    #[must_use]
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Writes a line to stderr when logging is on, with a UTC timestamp.
    pub fn log_line(&self, text: &str) {
        if self.config.log_to_stderr {
            eprintln!("{} {text}", utc_timestamp());
        }
    }

    /// Logs in as `user`. `database` is the initial database (`sqlcmd -d`), else the login's
    /// default. Failure: the messages SQL Server sends (4060 and/or 18456); the connection
    /// must close.
    pub fn login(
        self: &Arc<Self>,
        user: &str,
        password: &str,
        database: Option<&str>,
    ) -> Result<Session, Vec<SqlMessage>> {
        self.login_as(user, password, database, "", "")
    }

    /// [`Engine::login`] with the client's host and program names (sp_who, HOST_NAME()).
    pub fn login_as(
        self: &Arc<Self>,
        user: &str,
        password: &str,
        database: Option<&str>,
        host_name: &str,
        program_name: &str,
    ) -> Result<Session, Vec<SqlMessage>> {
        let login = self.lock_security().authenticate(user, password).cloned();
        let Some(login) = login else {
            return Err(vec![messages::login_failed(1, user)]);
        };
        let requested = database
            .filter(|d| !d.is_empty())
            .map_or_else(|| login.default_database.clone(), str::to_owned);
        let database = match self.database_info(&requested) {
            Some(db) if security::has_database_access(&login, &db) => db.name,
            _ => {
                return Err(vec![
                    cannot_open_login_database(&requested),
                    messages::login_failed(1, user),
                ]);
            }
        };
        let id = self.next_session.fetch_add(1, Ordering::SeqCst);
        let mut info = SessionInfo::new(
            i16::try_from(id).unwrap_or(i16::MAX),
            &login.name,
            &database,
            datetime_now(),
        );
        info.host_name = host_name.to_owned();
        info.program_name = program_name.to_owned();
        lock(&self.sessions).insert(
            id,
            LiveSession {
                info,
                request: None,
                cancel: None,
            },
        );
        Ok(Session::new(Arc::clone(self), id, login.name, database))
    }

    /// The SQL metadata of a database, system or user.
    pub(crate) fn database_info(&self, name: &str) -> Option<DatabaseInfo> {
        if let Some(db) = lock(&self.system_databases)
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
        {
            return Some(db.clone());
        }
        self.lock_catalog()
            .get(name)
            .map(|db| db.sql_info().clone())
    }

    pub(crate) fn lock_system_databases(&self) -> MutexGuard<'_, Vec<DatabaseInfo>> {
        lock(&self.system_databases)
    }

    pub(crate) fn set_current_database(&self, session: u64, database: &str) {
        if let Some(s) = lock(&self.sessions).get_mut(&session) {
            s.info.database = database.to_owned();
        }
    }

    /// A batch starts: `sys.dm_exec_sql_text` shows its text (its first
    /// [`MAX_KEPT_SQL_TEXT`] bytes), and the session its start.
    pub(crate) fn batch_started(&self, session: u64, text: &str, cancel: &CancelToken) {
        if let Some(s) = lock(&self.sessions).get_mut(&session) {
            s.info.sql_text = Some(kept_sql_text(text).to_owned());
            s.info.last_request_start_time = datetime_now();
            s.cancel = Some(cancel.clone());
        }
    }

    /// The session's batch ended.
    pub(crate) fn batch_ended(&self, session: u64) {
        if let Some(s) = lock(&self.sessions).get_mut(&session) {
            s.info.last_request_end_time = Some(datetime_now());
            s.cancel = None;
        }
    }

    /// KILL: cancels the session's running batch, if any; false if there is no such
    /// session. With `status_only` nothing is cancelled.
    pub(crate) fn kill_session(&self, session: u64, status_only: bool) -> bool {
        let sessions = lock(&self.sessions);
        let Some(s) = sessions.get(&session) else {
            return false;
        };
        if !status_only && let Some(cancel) = &s.cancel {
            cancel.cancel();
        }
        true
    }

    pub(crate) fn set_request(&self, session: u64, request: Option<RequestInfo>) {
        if let Some(s) = lock(&self.sessions).get_mut(&session) {
            s.request = request;
        }
    }

    /// Updates the progress of the session's running request (`sys.dm_exec_requests`).
    pub(crate) fn report_progress(&self, session: u64, percent: f32, remaining_ms: i64) {
        if let Some(request) = lock(&self.sessions)
            .get_mut(&session)
            .and_then(|s| s.request.as_mut())
        {
            request.percent_complete = percent;
            request.estimated_completion_time = remaining_ms;
        }
    }

    pub(crate) fn live_sessions(&self) -> Vec<LiveSession> {
        let mut all: Vec<LiveSession> = lock(&self.sessions).values().cloned().collect();
        all.sort_by_key(|s| s.info.session_id);
        all
    }

    fn unregister(&self, session: u64) {
        lock(&self.sessions).remove(&session);
    }

    /// Claims `name` for a BACKUP/RESTORE; false if one is already running on it.
    fn begin_operation(&self, name: &str, session: u64) -> bool {
        let mut operations = lock(&self.operations);
        let key = name.to_lowercase();
        if operations.contains_key(&key) {
            return false;
        }
        operations.insert(key, session);
        true
    }

    fn end_operation(&self, key: &str) {
        lock(&self.operations).remove(key);
    }

    /// Whether a BACKUP or RESTORE is running on `name`.
    #[must_use]
    pub fn has_operation(&self, name: &str) -> bool {
        lock(&self.operations).contains_key(&name.to_lowercase())
    }

    /// How many sessions (other than `except`) have `name` as their current database.
    #[must_use]
    pub fn sessions_using(&self, name: &str, except: Option<u64>) -> usize {
        lock(&self.sessions)
            .iter()
            .filter(|(id, s)| Some(**id) != except && s.info.database.eq_ignore_ascii_case(name))
            .count()
    }
}

/// A batch's outcome, as the daemon reports it.
pub use crate::tsql::interp::BatchOutcome;

fn catalog_error(line: u32, error: &CatalogError) -> SqlMessage {
    match error {
        CatalogError::AlreadyExists { name } => messages::database_already_exists(line, name),
        CatalogError::NotFound { name } => messages::database_does_not_exist(line, name),
        CatalogError::ExistsWithoutReplace { name } => {
            messages::backup_of_other_database(line, name)
        }
        CatalogError::TooLarge { size_bytes, .. } => messages::extension_value_out_of_range(
            line,
            "SIZE (in MB)",
            size_bytes >> 20,
            1,
            crate::db::MAX_DATABASE_BYTES >> 20,
        ),
        other => messages::catalog_io_failed(line, &other.to_string()),
    }
}

/// `2026-11-25T08:01:02.345Z` for the current time.
#[must_use]
pub fn utc_timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// How much of a session's batch `sys.dm_exec_sql_text` keeps: an idle session must not hold
/// a 16 MiB batch for as long as it stays connected (decision 55's memory bound).
pub const MAX_KEPT_SQL_TEXT: usize = 64 * 1024;

/// The first [`MAX_KEPT_SQL_TEXT`] bytes of `text`, cut at a character boundary.
fn kept_sql_text(text: &str) -> &str {
    if text.len() <= MAX_KEPT_SQL_TEXT {
        return text;
    }
    let mut end = MAX_KEPT_SQL_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod kept_text_tests {
    use super::*;

    #[test]
    fn long_batches_are_kept_in_part_at_a_character_boundary() {
        assert_eq!(kept_sql_text("SELECT 1"), "SELECT 1");
        let long = "é".repeat(MAX_KEPT_SQL_TEXT);
        let kept = kept_sql_text(&long);
        assert!(kept.len() <= MAX_KEPT_SQL_TEXT && kept.len() > MAX_KEPT_SQL_TEXT - 2);
        assert!(long.starts_with(kept));
    }
}
