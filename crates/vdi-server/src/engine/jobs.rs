//! BACKUP and RESTORE: the seam between the session engine and the virtual device set.
//!
//! The engine hands every BACKUP/RESTORE statement to the server's [`VdiJobs`]. A job reports
//! through the sink as SQL Server does (progress, 4035/3014 on success; the specific errors then
//! 3013 on failure) and returns whether it succeeded. [`NoVdiJobs`] is the implementation used
//! until the server-side device set is wired in: it runs every check that needs no device, then
//! fails with 3201 + 3013. The checks are public ([`check_backup`], [`check_restore`],
//! [`check_restore_target`]) so the real implementation runs exactly the same ones.

use std::sync::MutexGuard;

use super::Engine;
use super::sink::{CancelToken, OutputSink};
use crate::db::{Catalog, CatalogError, Database, RecoveryModel};
use crate::tsql::messages;
use crate::tsql::{BackupKind, BackupStatement, RestoreKind, RestoreStatement, SqlMessage};

/// Whether a job succeeded. Its messages have already gone to the sink either way.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobResult {
    Succeeded,
    Failed,
}

/// What a BACKUP or RESTORE job may see and touch while it runs.
#[derive(Debug)]
pub struct JobContext<'a> {
    engine: &'a Engine,
    line: u32,
    session_id: u64,
    user: &'a str,
    cancel: &'a CancelToken,
    started: std::time::Instant,
}

impl<'a> JobContext<'a> {
    pub(crate) fn new(
        engine: &'a Engine,
        line: u32,
        session_id: u64,
        user: &'a str,
        cancel: &'a CancelToken,
    ) -> Self {
        JobContext {
            engine,
            line,
            session_id,
            user,
            cancel,
            started: std::time::Instant::now(),
        }
    }

    /// The engine the job runs in.
    #[must_use]
    pub fn engine(&self) -> &'a Engine {
        self.engine
    }

    /// How long the job has run.
    #[must_use]
    pub fn elapsed(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// The batch line of the statement: the line every message of the job carries.
    #[must_use]
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The server name, as in `@@SERVERNAME`.
    #[must_use]
    pub fn server_name(&self) -> &str {
        self.engine.server_name()
    }

    /// The login running the statement.
    #[must_use]
    pub fn user(&self) -> &str {
        self.user
    }

    /// The id of the session running the statement (as in the daemon's log).
    #[must_use]
    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// True once the client cancelled the batch, disconnected, or the server is shutting down.
    /// A job polls this between commands and then aborts the device set.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled() || self.engine.is_shutting_down()
    }

    /// The catalog, locked. Hold the guard briefly: every session waits on it.
    pub fn catalog(&self) -> MutexGuard<'_, Catalog> {
        self.engine.lock_catalog()
    }

    /// A copy of a database as it is now (BACKUP streams from a copy so the catalog stays
    /// unlocked). `None` if it does not exist.
    #[must_use]
    pub fn snapshot(&self, name: &str) -> Option<Database> {
        self.catalog().backup_target(name).cloned()
    }

    /// Changes a database in place under the catalog lock (e.g. `begin_backup` to take the
    /// checkpoint, `commit_backup` after success) and persists it.
    pub fn update_database<R>(
        &self,
        name: &str,
        change: impl FnOnce(&mut Database) -> R,
    ) -> Result<R, CatalogError> {
        let mut catalog = self.catalog();
        let db = catalog
            .backup_target_mut(name)
            .ok_or_else(|| CatalogError::NotFound {
                name: name.to_owned(),
            })?;
        let result = change(db);
        catalog.save(name)?;
        Ok(result)
    }

    /// Installs a verified restored database, creating it or (with `replace`) replacing the
    /// existing one of the same name.
    pub fn install_restored(&self, db: Database, replace: bool) -> Result<(), CatalogError> {
        self.catalog().install_restored(db, replace)
    }

    /// Whether a session other than this one has `name` as its current database (RESTORE
    /// needs exclusive access: 3101).
    #[must_use]
    pub fn in_use_by_other_sessions(&self, name: &str) -> bool {
        self.engine.sessions_using(name, Some(self.session_id)) > 0
    }

    /// Marks `name` as having a BACKUP or RESTORE running until the guard drops. A second one
    /// on the same database gets `Err(3023)` (SQL Server serialises them); DROP DATABASE of it
    /// gets 3702 meanwhile. Call after the pre-checks, before opening the device set.
    pub fn serialize_operation(&self, name: &str) -> Result<OperationGuard<'a>, SqlMessage> {
        if self.engine.begin_operation(name, self.session_id) {
            Ok(OperationGuard {
                engine: self.engine,
                name: name.to_lowercase(),
            })
        } else {
            Err(messages::operation_must_be_serialized(self.line))
        }
    }

    /// Writes one line to the server log (stderr of `vdisim server`).
    pub fn log(&self, text: &str) {
        self.engine
            .log_line(&format!("session {}: {text}", self.session_id));
    }
}

/// A BACKUP or RESTORE in progress on one database; see [`JobContext::serialize_operation`].
#[derive(Debug)]
pub struct OperationGuard<'a> {
    engine: &'a Engine,
    name: String,
}

impl Drop for OperationGuard<'_> {
    fn drop(&mut self) {
        self.engine.end_operation(&self.name);
    }
}

/// The server's BACKUP/RESTORE implementation. Messages go to `sink` in SQL Server's order;
/// on failure the last one is 3013 (`messages::terminating_abnormally`).
pub trait VdiJobs: Send + Sync {
    fn backup(
        &self,
        ctx: &JobContext<'_>,
        stmt: &BackupStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult;

    fn restore(
        &self,
        ctx: &JobContext<'_>,
        stmt: &RestoreStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult;

    /// Where frozen databases are presented for snapshots (docs/snapshots.md); `None`: nowhere
    /// (a T-SQL snapshot then freezes without presenting an image).
    fn snapshot_volumes(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// How long a snapshot freeze may hold (`--max-freeze`); `None`: for ever.
    fn max_freeze(&self) -> Option<std::time::Duration> {
        None
    }

    /// Databases (lower case) in the middle of a NORECOVERY restore sequence: the catalog
    /// views show them RESTORING.
    fn restoring_databases(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Sends a job's error messages and reports failure.
pub fn fail(sink: &mut dyn OutputSink, messages: Vec<SqlMessage>) -> JobResult {
    for m in messages {
        sink.message(m);
    }
    JobResult::Failed
}

/// The errors of a failed check, ending with 3013 for the statement's operation.
fn terminate(
    line: u32,
    operation: messages::Operation,
    mut errors: Vec<SqlMessage>,
) -> Vec<SqlMessage> {
    errors.push(messages::terminating_abnormally(line, operation));
    errors
}

/// Everything about a BACKUP that can be checked before opening the device set, in this
/// order: the devices (3206, 3011, 59007, 3044, 3057, 3201), tempdb (3147), master (4212 for
/// its log, 3024 for anything but a full backup), the database exists (911), BACKUP LOG is
/// not in SIMPLE recovery (4208) and has a full backup to follow (4214), a differential has a
/// base (3035). `Err` holds the messages to send, 3013 last.
pub fn check_backup(ctx: &JobContext<'_>, stmt: &BackupStatement) -> Result<(), Vec<SqlMessage>> {
    let line = ctx.line();
    let fail = |m: SqlMessage| Err(terminate(line, stmt.operation(), vec![m]));
    if let Err(m) = crate::tsql::options::check_devices(&stmt.devices, &stmt.other_devices, line) {
        return fail(m);
    }
    let name = stmt.database.as_str();
    if name.eq_ignore_ascii_case("tempdb") {
        return fail(messages::tempdb_not_allowed(line));
    }
    if name.eq_ignore_ascii_case("master") {
        if stmt.kind == BackupKind::Log {
            return fail(messages::master_log_backup(line));
        }
        if stmt.options.differential || !stmt.files.is_whole_database() {
            return fail(messages::master_full_backup_only(line));
        }
    }
    let mut catalog = ctx.catalog();
    let Some(db) = catalog.backup_target_mut(name) else {
        return fail(messages::database_does_not_exist(line, name));
    };
    match stmt.kind {
        BackupKind::Log if db.recovery() == RecoveryModel::Simple => {
            fail(messages::log_backup_in_simple_recovery(line))
        }
        BackupKind::Log if db.log_backup_point().is_none() => {
            fail(messages::no_current_database_backup(line))
        }
        BackupKind::Database if stmt.options.differential && db.differential_base().is_none() => {
            fail(messages::differential_without_base(line, db.name()))
        }
        _ => Ok(()),
    }
}

/// The RESTORE checks that need neither the device set nor the backup's header: the devices
/// (as for BACKUP), tempdb (3147), master outside single-user mode (3108, always: vdisim never
/// runs single-user), exclusive access to the target (3101). Call [`check_restore_target`]
/// once the header names the backed-up database.
pub fn check_restore(ctx: &JobContext<'_>, stmt: &RestoreStatement) -> Result<(), Vec<SqlMessage>> {
    let line = ctx.line();
    let fail = |m: SqlMessage| Err(terminate(line, stmt.operation(), vec![m]));
    let reads = !stmt.devices.is_empty() || !stmt.other_devices.is_empty();
    if reads
        && let Err(m) =
            crate::tsql::options::check_devices(&stmt.devices, &stmt.other_devices, line)
    {
        return fail(m);
    }
    let Some(target) = restore_target(stmt) else {
        return Ok(());
    };
    if target.eq_ignore_ascii_case("tempdb") {
        return fail(messages::tempdb_not_allowed(line));
    }
    if target.eq_ignore_ascii_case("master") {
        return fail(messages::master_restore_needs_single_user(line));
    }
    if ctx.in_use_by_other_sessions(target) {
        return fail(messages::exclusive_access_denied(line));
    }
    Ok(())
}

/// Whether RESTORE DATABASE may overwrite its target. `backup_database` is the database named
/// in the backup set's header, `None` when not read yet (then an existing target counts as a
/// different database). Without REPLACE: an existing target holding another database → 3154;
/// the same database in FULL recovery with its log chain running (tail not backed up) → 3159,
/// unless the restore stops at a point in time (STOPAT and the marks).
pub fn check_restore_target(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    backup_database: Option<&str>,
) -> Result<(), Vec<SqlMessage>> {
    let line = ctx.line();
    // A restore without FROM only recovers; it overwrites nothing.
    if stmt.kind != RestoreKind::Database || stmt.options.replace || stmt.devices.is_empty() {
        return Ok(());
    }
    let Some(target) = restore_target(stmt) else {
        return Ok(());
    };
    let catalog = ctx.catalog();
    let Some(existing) = catalog.backup_target(target) else {
        return Ok(());
    };
    let same = backup_database.is_some_and(|b| b.eq_ignore_ascii_case(existing.name()));
    let error = if !same {
        messages::backup_of_other_database(line, existing.name())
    } else if existing.recovery() == RecoveryModel::Full
        && existing.log_backup_point().is_some()
        && stmt.options.stop.is_none()
    {
        messages::tail_of_log_not_backed_up(line, existing.name())
    } else {
        return Ok(());
    };
    Err(terminate(line, stmt.operation(), vec![error]))
}

fn restore_target(stmt: &RestoreStatement) -> Option<&str> {
    match stmt.kind {
        RestoreKind::Database | RestoreKind::Log => stmt.database.as_deref(),
        _ => None,
    }
}

/// The BACKUP/RESTORE implementation of a server without virtual device sets: every check,
/// then 3201 ("virtual device sets are not connected in this build") + 3013.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoVdiJobs;

impl VdiJobs for NoVdiJobs {
    fn backup(
        &self,
        ctx: &JobContext<'_>,
        stmt: &BackupStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        if let Err(errors) = check_backup(ctx, stmt) {
            return fail(sink, errors);
        }
        let line = ctx.line();
        fail(
            sink,
            terminate(
                line,
                stmt.operation(),
                vec![messages::devices_not_connected(line, stmt.set_name())],
            ),
        )
    }

    fn restore(
        &self,
        ctx: &JobContext<'_>,
        stmt: &RestoreStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        let line = ctx.line();
        let checks = check_restore(ctx, stmt).and_then(|()| check_restore_target(ctx, stmt, None));
        if let Err(errors) = checks {
            return fail(sink, errors);
        }
        let error = match (stmt.set_name(), restore_target(stmt)) {
            (Some(set), _) => messages::devices_not_connected(line, set),
            // RESTORE … WITH RECOVERY without FROM: nothing here is ever left restoring.
            (None, Some(db)) if ctx.catalog().get(db).is_some() => {
                messages::already_fully_recovered(line)
            }
            (None, target) => messages::database_does_not_exist(line, target.unwrap_or("")),
        };
        fail(sink, terminate(line, stmt.operation(), vec![error]))
    }
}
