//! The session engine: runs T-SQL batches against the server's catalog.
//!
//! One [`Engine`] per server holds what all connections share (the catalog, the server name,
//! `@@VERSION`, the sa password, the BACKUP/RESTORE implementation); each connection logs in
//! to get a [`Session`] (current database, user) and runs batches through
//! [`Session::execute_batch`], which streams messages and result sets to an [`OutputSink`].
//!
//! Error handling follows SQL Server with `XACT_ABORT OFF`:
//! - a batch that does not parse (level 15) runs no statement at all: SQL Server compiles the
//!   whole batch first;
//! - an error while a statement runs (levels 11–16: 911, 1801, 3701, 3013 …) ends that statement
//!   only, and the batch goes on with the next statement, as SQL Server does for these
//!   severities;
//! - an error above level 16 (none is raised yet) would end the batch;
//! - a cancelled batch (client attention, disconnect, shutdown) stops between statements.
//!
//! `GO n` ([`Batch::repeat`]) runs the batch n times, parsing it each time, as sqlcmd sends it
//! n times.

pub mod jobs;
pub mod sink;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::db::{Catalog, CatalogError, RecoveryModel as DbRecoveryModel};
use crate::tsql::messages;
use crate::tsql::resultset::columns;
use crate::tsql::{
    Batch, CreateDatabaseStatement, DropDatabaseStatement, PrintValue, RecoveryModel, ResultSet,
    SortOrder, SqlMessage, Statement, StatementKind, SystemVariable, parse_batch,
};

pub use jobs::{
    JobContext, JobResult, NoVdiJobs, OperationGuard, VdiJobs, check_backup, check_restore,
    check_restore_target, fail,
};
pub use messages::cannot_open_login_database;
pub use sink::{CancelToken, CollectSink, Output, OutputSink, rows_affected_line};

/// The server name of `@@SERVERNAME` and of every `Msg …, Server X` line.
pub const DEFAULT_SERVER_NAME: &str = "VDISIM";

/// The only login.
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

/// `@@VERSION`: SQL Server's shape, so version sniffers see 2022, and vdisim's name in it.
#[must_use]
pub fn default_version() -> String {
    format!(
        "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) - vdisim {} emulating SQL Server for VDI testing (not a real SQL Server)",
        env!("CARGO_PKG_VERSION")
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
            .field("sa_password", &self.sa_password.as_ref().map(|_| "…"))
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

/// What all connections of one server share.
pub struct Engine {
    catalog: Mutex<Catalog>,
    config: EngineConfig,
    /// Current database (lower case) of every live session, by session id.
    current_databases: Mutex<HashMap<u64, String>>,
    /// Databases (lower case) with a BACKUP/RESTORE running, and the session running it.
    operations: Mutex<HashMap<String, u64>>,
    next_session: AtomicU64,
    shutting_down: AtomicBool,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Engine {
    #[must_use]
    pub fn new(catalog: Catalog, config: EngineConfig) -> Arc<Engine> {
        Arc::new(Engine {
            catalog: Mutex::new(catalog),
            config,
            current_databases: Mutex::new(HashMap::new()),
            operations: Mutex::new(HashMap::new()),
            next_session: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
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
        self.catalog.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// Logs in as `user`. `database` is the initial database (`sqlcmd -d`), master if `None`.
    /// Failure: the messages SQL Server sends (4060 and/or 18456); the connection must close.
    pub fn login(
        self: &Arc<Self>,
        user: &str,
        password: &str,
        database: Option<&str>,
    ) -> Result<Session, Vec<SqlMessage>> {
        let password_ok = self
            .config
            .sa_password
            .as_deref()
            .is_none_or(|expected| expected == password);
        if !user.eq_ignore_ascii_case(SA_LOGIN) || !password_ok {
            return Err(vec![messages::login_failed(1, user)]);
        }
        let database = match database.filter(|d| !d.is_empty()) {
            None => DEFAULT_DATABASE.to_owned(),
            Some(name) => match self.canonical_database_name(name) {
                Some(canonical) => canonical,
                None => {
                    return Err(vec![
                        cannot_open_login_database(name),
                        messages::login_failed(1, user),
                    ]);
                }
            },
        };
        let id = self.next_session.fetch_add(1, Ordering::SeqCst);
        self.register_current(id, &database);
        Ok(Session {
            engine: Arc::clone(self),
            id,
            user: SA_LOGIN.to_owned(),
            database,
        })
    }

    /// The name as the server spells it, if the database exists.
    fn canonical_database_name(&self, name: &str) -> Option<String> {
        if let Some(system) = SYSTEM_DATABASES
            .iter()
            .find(|s| s.eq_ignore_ascii_case(name))
        {
            return Some((*system).to_owned());
        }
        self.lock_catalog().get(name).map(|db| db.name().to_owned())
    }

    fn register_current(&self, session: u64, database: &str) {
        self.current_databases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session, database.to_lowercase());
    }

    fn unregister(&self, session: u64) {
        self.current_databases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&session);
    }

    /// Claims `name` for a BACKUP/RESTORE; false if one is already running on it.
    fn begin_operation(&self, name: &str, session: u64) -> bool {
        let mut operations = self
            .operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = name.to_lowercase();
        if operations.contains_key(&key) {
            return false;
        }
        operations.insert(key, session);
        true
    }

    fn end_operation(&self, key: &str) {
        self.operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// Whether a BACKUP or RESTORE is running on `name`.
    #[must_use]
    pub fn has_operation(&self, name: &str) -> bool {
        self.operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&name.to_lowercase())
    }

    /// How many sessions (other than `except`) have `name` as their current database.
    #[must_use]
    pub fn sessions_using(&self, name: &str, except: Option<u64>) -> usize {
        let name = name.to_lowercase();
        self.current_databases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(id, db)| Some(**id) != except && **db == name)
            .count()
    }
}

/// How a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// Whether any error (level > 10) was sent.
    pub error: bool,
    /// The highest level among the errors sent, 0 if none.
    pub max_level: u8,
    /// Whether the batch stopped early because it was cancelled.
    pub cancelled: bool,
}

/// One logged-in connection.
#[derive(Debug)]
pub struct Session {
    engine: Arc<Engine>,
    id: u64,
    user: String,
    database: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.engine.unregister(self.id);
    }
}

enum Flow {
    Next,
    StopBatch,
}

impl Session {
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    #[must_use]
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The current database (`DB_NAME()`).
    #[must_use]
    pub fn database(&self) -> &str {
        &self.database
    }

    #[must_use]
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Runs a whole script: splits it on `GO` lines and runs each batch with SQL Server's
    /// batch-relative line numbers. Stops after the first batch with an error when
    /// `stop_on_error` (sqlcmd's `-b`). Returns whether any batch had an error.
    pub fn execute_script(
        &mut self,
        script: &str,
        sink: &mut dyn OutputSink,
        stop_on_error: bool,
    ) -> bool {
        let mut error = false;
        for mut batch in crate::tsql::split_batches(script) {
            batch.first_line = 1;
            let outcome = self.execute_batch(&batch, sink);
            error |= outcome.error;
            if (outcome.error && stop_on_error) || outcome.cancelled {
                break;
            }
        }
        error
    }

    /// Runs a batch that cannot be cancelled except by server shutdown.
    pub fn execute_batch(&mut self, batch: &Batch, sink: &mut dyn OutputSink) -> BatchOutcome {
        self.execute_batch_cancellable(batch, sink, &CancelToken::new())
    }

    /// Runs a batch (`batch.repeat` times); `cancel` stops it between statements, and long
    /// statements (WAITFOR, BACKUP, RESTORE) poll it.
    pub fn execute_batch_cancellable(
        &mut self,
        batch: &Batch,
        sink: &mut dyn OutputSink,
        cancel: &CancelToken,
    ) -> BatchOutcome {
        let mut tracking = sink::TrackingSink::new(sink);
        let mut cancelled = false;
        'runs: for _ in 0..batch.repeat.max(1) {
            let statements = match parse_batch(&batch.text, batch.first_line) {
                Ok(statements) => statements,
                Err(message) => {
                    tracking.message(message);
                    continue;
                }
            };
            for statement in &statements {
                if cancel.is_cancelled() || self.engine.is_shutting_down() {
                    cancelled = true;
                    break 'runs;
                }
                if let Flow::StopBatch = self.execute_statement(statement, &mut tracking, cancel) {
                    break;
                }
            }
        }
        BatchOutcome {
            error: tracking.errors > 0,
            max_level: tracking.max_level,
            cancelled,
        }
    }

    fn execute_statement(
        &mut self,
        statement: &Statement,
        sink: &mut sink::TrackingSink<'_>,
        cancel: &CancelToken,
    ) -> Flow {
        let line = statement.line;
        sink.statement_max_level = 0;
        match &statement.kind {
            StatementKind::CreateDatabase(create) => self.create_database(line, create, sink),
            StatementKind::DropDatabase(drop) => self.drop_database(line, drop, sink),
            StatementKind::AlterDatabaseRecovery { database, model } => {
                self.alter_recovery(line, database, *model, sink);
            }
            StatementKind::SelectSystemVariable(variable) => {
                let width = match variable {
                    SystemVariable::Version => 300,
                    SystemVariable::ServerName => 128,
                };
                let mut rs = ResultSet::new(vec![tsql::Column::new(
                    "",
                    tsql::SqlType::NVarChar(Some(width)),
                    true,
                )]);
                rs.push(vec![self.system_variable(*variable).into()]);
                sink.result_set(rs);
                sink.rows_affected(1);
            }
            StatementKind::SelectDatabaseNames { order } => {
                let rs = self.database_names(*order);
                let rows = rs.rows.len() as u64;
                sink.result_set(rs);
                sink.rows_affected(rows);
            }
            StatementKind::Use { database } => self.use_database(line, database, sink),
            StatementKind::Print(value) => {
                let text = match value {
                    PrintValue::Text(text) => text.clone(),
                    PrintValue::Variable(variable) => self.system_variable(*variable),
                };
                sink.message(messages::print_output(line, &text));
            }
            StatementKind::WaitForDelay { milliseconds } => {
                self.wait(Duration::from_millis(*milliseconds), cancel);
            }
            StatementKind::Workload { database, pages } => {
                let mut catalog = self.engine.lock_catalog();
                let Some(db) = catalog.get_mut(database) else {
                    drop(catalog);
                    sink.message(messages::database_does_not_exist(line, database));
                    return Flow::Next;
                };
                let seed = db.next_lsn();
                db.run_workload(*pages as usize, seed);
                let name = db.name().to_owned();
                if let Err(e) = catalog.save(&name) {
                    drop(catalog);
                    sink.message(messages::catalog_io_failed(line, &e.to_string()));
                    return Flow::Next;
                }
                drop(catalog);
                sink.rows_affected(u64::from(*pages));
            }
            StatementKind::Backup(backup) => {
                let started = Instant::now();
                let ctx = JobContext::new(&self.engine, line, self.id, &self.user, cancel);
                let result = self.engine.config.jobs.backup(&ctx, backup, sink);
                self.log_job(
                    &format!(
                        "{} {} to {} device(s) (set '{}')",
                        backup.operation().terminating_name(),
                        backup.database,
                        backup.devices.len(),
                        backup.set_name()
                    ),
                    result,
                    started,
                );
            }
            StatementKind::Restore(restore) => {
                let started = Instant::now();
                let ctx = JobContext::new(&self.engine, line, self.id, &self.user, cancel);
                let result = self.engine.config.jobs.restore(&ctx, restore, sink);
                self.log_job(
                    &format!(
                        "{} {} from {} device(s) (set '{}')",
                        restore.operation().terminating_name(),
                        restore.database.as_deref().unwrap_or("-"),
                        restore.devices.len(),
                        restore.set_name().unwrap_or("-")
                    ),
                    result,
                    started,
                );
            }
            // The interpreter replaces this dispatcher; until then the new statements are
            // not run.
            _ => {}
        }
        if sink.statement_max_level > 16 {
            Flow::StopBatch
        } else {
            Flow::Next
        }
    }

    fn log_job(&self, what: &str, result: JobResult, started: Instant) {
        let outcome = match result {
            JobResult::Succeeded => "succeeded",
            JobResult::Failed => "failed",
        };
        self.engine.log_line(&format!(
            "session {}: job {what}: {outcome} in {} ms",
            self.id,
            started.elapsed().as_millis()
        ));
    }

    fn system_variable(&self, variable: SystemVariable) -> String {
        match variable {
            SystemVariable::Version => self.engine.version().to_owned(),
            SystemVariable::ServerName => self.engine.server_name().to_owned(),
        }
    }

    fn create_database(
        &self,
        line: u32,
        create: &CreateDatabaseStatement,
        sink: &mut dyn OutputSink,
    ) {
        if is_system_database(&create.name) {
            sink.message(messages::database_already_exists(line, &create.name));
            return;
        }
        let size_mb = create.size_mb.unwrap_or(DEFAULT_CREATE_SIZE_MB);
        let recovery = match create.recovery.unwrap_or(RecoveryModel::Full) {
            RecoveryModel::Full | RecoveryModel::BulkLogged => DbRecoveryModel::Full,
            RecoveryModel::Simple => DbRecoveryModel::Simple,
        };
        let containers = u16::try_from(create.filestream_containers.unwrap_or(0)).unwrap_or(0);
        let result = self
            .engine
            .lock_catalog()
            .create(
                &create.name,
                size_mb.saturating_mul(1 << 20),
                recovery,
                containers,
            )
            .map(|_| ());
        if let Err(e) = result {
            sink.message(catalog_error(line, &e));
        }
    }

    fn drop_database(&self, line: u32, drop: &DropDatabaseStatement, sink: &mut dyn OutputSink) {
        for name in &drop.names {
            if is_system_database(name) {
                sink.message(messages::cannot_drop_system(line, name));
                continue;
            }
            if self.engine.sessions_using(name, None) > 0 || self.engine.has_operation(name) {
                sink.message(messages::cannot_drop_in_use(line, name));
                continue;
            }
            let dropped = self.engine.lock_catalog().drop_database(name);
            match dropped {
                Ok(_) => {}
                Err(CatalogError::NotFound { .. }) if drop.if_exists => {}
                Err(CatalogError::NotFound { .. }) => {
                    sink.message(messages::cannot_drop_database(line, name));
                }
                Err(e) => sink.message(catalog_error(line, &e)),
            }
        }
    }

    fn alter_recovery(
        &self,
        line: u32,
        database: &str,
        model: RecoveryModel,
        sink: &mut dyn OutputSink,
    ) {
        if is_system_database(database) {
            // master, tempdb, model and msdb have no catalog entry; accept the change silently.
            return;
        }
        let model = match model {
            RecoveryModel::Full | RecoveryModel::BulkLogged => DbRecoveryModel::Full,
            RecoveryModel::Simple => DbRecoveryModel::Simple,
        };
        let mut catalog = self.engine.lock_catalog();
        let Some(db) = catalog.get_mut(database) else {
            sink.message(messages::cannot_alter_database(line, database));
            sink.message(messages::alter_database_failed(line));
            return;
        };
        db.set_recovery(model);
        if let Err(e) = catalog.save(database) {
            sink.message(catalog_error(line, &e));
        }
    }

    fn database_names(&self, order: Option<SortOrder>) -> ResultSet {
        let mut names: Vec<String> = SYSTEM_DATABASES.iter().map(|s| (*s).to_owned()).collect();
        names.extend(
            self.engine
                .lock_catalog()
                .list()
                .map(|db| db.name().to_owned()),
        );
        match order {
            None => {}
            Some(SortOrder::Ascending) => names.sort_by_key(|n| n.to_lowercase()),
            Some(SortOrder::Descending) => {
                names.sort_by_key(|n| std::cmp::Reverse(n.to_lowercase()));
            }
        }
        let mut rs = ResultSet::new(vec![tsql::Column::new(
            columns::SYS_DATABASES[0],
            tsql::value::SYSNAME,
            false,
        )]);
        for name in names {
            rs.push(vec![name.into()]);
        }
        rs
    }

    fn use_database(&mut self, line: u32, database: &str, sink: &mut dyn OutputSink) {
        match self.engine.canonical_database_name(database) {
            Some(name) => {
                self.engine.register_current(self.id, &name);
                sink.message(messages::changed_database_context(line, &name));
                self.database = name;
            }
            None => sink.message(messages::database_does_not_exist(line, database)),
        }
    }

    /// WAITFOR DELAY: really waits (up to the engine's limit), waking early on cancellation.
    fn wait(&self, delay: Duration, cancel: &CancelToken) {
        const SLICE: Duration = Duration::from_millis(20);
        let deadline = Instant::now() + delay.min(self.engine.config.waitfor_limit);
        loop {
            let now = Instant::now();
            if now >= deadline || cancel.is_cancelled() || self.engine.is_shutting_down() {
                return;
            }
            std::thread::sleep(SLICE.min(deadline - now));
        }
    }
}

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
