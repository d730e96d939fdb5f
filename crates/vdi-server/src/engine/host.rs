//! The session as the interpreter's host: the statements that act on the server (BACKUP,
//! RESTORE, DDL, USE, DBCC, logins), the procedures that change it, and its live state.

use std::time::{Duration, Instant};

use super::sink::{CancelToken, OutputSink};
use super::{JobContext, JobResult, Session, datetime_now, security};
use crate::tsql::ast::{Dbcc, Expr, Literal, Statement, StatementKind};
use crate::tsql::catalog::{ProcArg, RequestInfo, ServerSnapshot};
use crate::tsql::interp::{Host, SessionContext, TransactionMark};
use crate::tsql::messages;
use crate::tsql::value::{DateTime, SqlType, Value};
use crate::tsql::{ResultSet, SqlMessage};

impl Host for Session {
    fn snapshot(&self) -> ServerSnapshot {
        self.engine.snapshot()
    }

    fn session(&self) -> SessionContext {
        SessionContext {
            spid: i32::try_from(self.id).unwrap_or(i32::MAX),
            login: self.user.clone(),
            database: self.database.clone(),
            host_name: String::new(),
            program_name: String::new(),
        }
    }

    fn now(&self) -> (DateTime, DateTime) {
        let now = datetime_now();
        (now, now)
    }

    fn random_u128(&mut self) -> u128 {
        let mut rng = fastrand::Rng::new();
        u128::from(rng.u64(..)) << 64 | u128::from(rng.u64(..))
    }

    fn execute(&mut self, statement: &Statement, sink: &mut dyn OutputSink, cancel: &CancelToken) {
        if self.engine.is_shutting_down() {
            cancel.cancel();
        }
        let line = statement.line;
        match &statement.kind {
            StatementKind::Backup(backup) => {
                let command = match backup.kind {
                    crate::tsql::BackupKind::Database => "BACKUP DATABASE",
                    crate::tsql::BackupKind::Log => "BACKUP LOG",
                };
                if let Err(m) = self.check_backup_permission(line, backup) {
                    sink.message(m);
                    sink.message(messages::terminating_abnormally(line, backup.operation()));
                    return;
                }
                self.run_job(
                    command,
                    &backup.database,
                    |session, ctx, sink| session.engine.config.jobs.backup(ctx, backup, sink),
                    line,
                    sink,
                    cancel,
                );
            }
            StatementKind::Restore(restore) => {
                if let Some(db) = &restore.database
                    && let Err(m) = self.check_restore_permission(line, db)
                {
                    sink.message(m);
                    sink.message(messages::terminating_abnormally(line, restore.operation()));
                    return;
                }
                let command = format!(
                    "RESTORE {}",
                    restore
                        .operation()
                        .terminating_name()
                        .trim_start_matches("RESTORE ")
                );
                let database = restore.database.clone().unwrap_or_default();
                self.run_job(
                    &command,
                    &database,
                    |session, ctx, sink| session.engine.config.jobs.restore(ctx, restore, sink),
                    line,
                    sink,
                    cancel,
                );
            }
            StatementKind::Use { database } => self.use_database(line, database, sink),
            StatementKind::WaitForDelay { milliseconds } => {
                self.wait(Duration::from_millis(*milliseconds), cancel);
            }
            StatementKind::Workload { database, pages } => {
                self.workload(line, database, *pages, sink, cancel);
            }
            StatementKind::Dbcc(dbcc) => {
                let writes = dbcc.command == "VDISIM_WORKLOAD" || dbcc.command == "VDISIM_DAMAGE";
                let target = match dbcc.args.first() {
                    Some(Expr::Literal(Literal::String { value, .. })) if writes => {
                        Some(value.clone())
                    }
                    _ => None,
                };
                if target.is_none_or(|db| self.wait_until_writable(&db, "DBCC", cancel)) {
                    self.dbcc(line, dbcc, sink, cancel);
                }
            }
            StatementKind::Checkpoint => {}
            StatementKind::ExecuteAs { login, name } => {
                if let Err(m) = self.execute_as(line, *login, name) {
                    sink.message(m);
                }
            }
            StatementKind::Revert => self.revert(),
            StatementKind::Kill {
                session_id,
                status_only,
            } => {
                if let Err(m) = self.kill(line, *session_id, *status_only) {
                    sink.message(m);
                }
            }
            StatementKind::AlterDatabase { database, action } => {
                let name = database.clone().unwrap_or_else(|| self.database.clone());
                if super::snapshot_sql::is_suspend(action) {
                    self.suspend_for_snapshot(line, &name, action, sink);
                } else if self.wait_until_writable(&name, "ALTER DATABASE", cancel) {
                    self.ddl(statement, sink);
                }
            }
            StatementKind::SuspendForSnapshot {
                on,
                group,
                copy_only,
            } => self.suspend_server_for_snapshot(line, *on, group, *copy_only, sink),
            StatementKind::DropDatabase(drop) => {
                let names = drop.names.clone();
                if names
                    .iter()
                    .all(|n| self.wait_until_writable(n, "DROP DATABASE", cancel))
                {
                    self.ddl(statement, sink);
                }
            }
            _ => self.ddl(statement, sink),
        }
    }

    fn procedure(
        &mut self,
        name: &str,
        args: &[ProcArg],
        line: u32,
        sink: &mut dyn OutputSink,
    ) -> Option<()> {
        let result = {
            let mut msdb = self.engine.lock_msdb();
            crate::tsql::msdb::procedures::call(name, args, &mut msdb)
        };
        if let Some(result) = result {
            match result {
                Ok(_) => {
                    if let Err(e) = self.engine.save_msdb() {
                        sink.message(messages::catalog_io_failed(line, &e));
                    }
                }
                Err(m) => sink.message(m.at_line(line)),
            }
            return Some(());
        }
        let text = |i: usize| -> Option<String> {
            args.iter()
                .filter(|a| a.name.is_none())
                .nth(i)
                .and_then(|a| match &a.value {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
        };
        let named = |n: &str| -> Option<String> {
            args.iter()
                .find(|a| a.name.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(n)))
                .and_then(|a| match &a.value {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
        };
        match name {
            "sp_addsrvrolemember" | "sp_dropsrvrolemember" => {
                let login = named("@loginame").or_else(|| text(0)).unwrap_or_default();
                let role = named("@rolename").or_else(|| text(1)).unwrap_or_default();
                self.server_role(line, &role, &login, name == "sp_addsrvrolemember", sink);
                Some(())
            }
            "sp_addrolemember" | "sp_droprolemember" => {
                let role = named("@rolename").or_else(|| text(0)).unwrap_or_default();
                let member = named("@membername").or_else(|| text(1)).unwrap_or_default();
                self.database_role(line, &role, &member, name == "sp_addrolemember", sink);
                Some(())
            }
            // Accepted and without effect: session context, connection reset, sp_configure
            // changes that a fake server does not act on.
            "sp_set_session_context" | "sp_reset_connection" | "sp_configure" => Some(()),
            _ => None,
        }
    }

    fn mark_begun(&mut self, mark: &mut TransactionMark) {
        mark.begin_lsn = self
            .engine
            .lock_catalog()
            .get(&mark.database)
            .map(crate::db::Database::next_lsn);
    }

    fn mark_committed(&mut self, mark: &TransactionMark) {
        let now = datetime_now();
        let mut catalog = self.engine.lock_catalog();
        if let Some(db) = catalog.get_mut(&mark.database) {
            db.add_mark(&mark.name, mark.description.as_deref(), now, mark.begin_lsn);
            let name = db.name().to_owned();
            let _ = catalog.save(&name);
        }
    }
}

impl Session {
    /// Waits while another session holds `database` frozen for a snapshot (see
    /// `Engine::wait_until_writable`); `false` when the batch was cancelled meanwhile.
    fn wait_until_writable(&self, database: &str, command: &str, cancel: &CancelToken) -> bool {
        self.engine
            .wait_until_writable(database, self.id, command, cancel)
    }

    /// Runs a BACKUP or RESTORE job, showing it in `sys.dm_exec_requests` while it runs.
    fn run_job(
        &mut self,
        command: &str,
        database: &str,
        job: impl FnOnce(&Session, &JobContext<'_>, &mut dyn OutputSink) -> JobResult,
        line: u32,
        sink: &mut dyn OutputSink,
        cancel: &CancelToken,
    ) {
        let started = Instant::now();
        let session_id = i16::try_from(self.id).unwrap_or(i16::MAX);
        let mut request = RequestInfo::new(session_id, command, database, datetime_now());
        request.wait_type = Some("BACKUPTHREAD".to_owned());
        self.engine.set_request(self.id, Some(request));
        let ctx = JobContext::new(&self.engine, line, self.id, &self.user, cancel);
        let result = job(self, &ctx, sink);
        self.engine.set_request(self.id, None);
        let outcome = match result {
            JobResult::Succeeded => "succeeded",
            JobResult::Failed => "failed",
        };
        self.engine.log_line(&format!(
            "session {}: job {command} {database}: {outcome} in {} ms",
            self.id,
            started.elapsed().as_millis()
        ));
    }

    fn login_info(&self) -> Option<crate::tsql::catalog::LoginInfo> {
        self.engine.lock_security().login(&self.user).cloned()
    }

    fn check_backup_permission(
        &self,
        line: u32,
        backup: &crate::tsql::BackupStatement,
    ) -> Result<(), SqlMessage> {
        let (Some(login), Some(db)) = (
            self.login_info(),
            self.engine.database_info(&backup.database),
        ) else {
            // A missing database is the job's to report (911).
            return Ok(());
        };
        if security::has_database_role(&login, &db, "db_backupoperator") {
            return Ok(());
        }
        let permission = match backup.kind {
            crate::tsql::BackupKind::Database => "BACKUP DATABASE",
            crate::tsql::BackupKind::Log => "BACKUP LOG",
        };
        Err(security::permission_denied(line, permission, &db.name))
    }

    fn check_restore_permission(&self, line: u32, database: &str) -> Result<(), SqlMessage> {
        let Some(login) = self.login_info() else {
            return Ok(());
        };
        if security::has_server_role(&login, "dbcreator") {
            return Ok(());
        }
        match self.engine.database_info(database) {
            Some(db) if security::has_database_role(&login, &db, "db_owner") => Ok(()),
            _ => Err(security::restore_denied(line, database)),
        }
    }

    fn use_database(&mut self, line: u32, database: &str, sink: &mut dyn OutputSink) {
        let Some(db) = self.engine.database_info(database) else {
            sink.message(messages::database_does_not_exist(line, database));
            return;
        };
        if let Some(login) = self.login_info()
            && !security::has_database_access(&login, &db)
        {
            sink.message(security::cannot_access_database(
                line,
                &login.name,
                &db.name,
            ));
            return;
        }
        self.engine.set_current_database(self.id, &db.name);
        sink.message(messages::changed_database_context(line, &db.name));
        self.database = db.name;
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

    /// `DBCC VDISIM_WORKLOAD`: waits while the database is frozen for a snapshot (checked
    /// again under the catalog lock, so no change slips in after a freeze began).
    fn workload(
        &self,
        line: u32,
        database: &str,
        pages: u32,
        sink: &mut dyn OutputSink,
        cancel: &CancelToken,
    ) {
        let mut catalog = loop {
            if !self.wait_until_writable(database, "DBCC", cancel) {
                return;
            }
            let catalog = self.engine.lock_catalog();
            match self.engine.frozen(database) {
                Some(f) if f.session != self.id => drop(catalog),
                _ => break catalog,
            }
        };
        let Some(db) = catalog.get_mut(database) else {
            drop(catalog);
            sink.message(messages::database_does_not_exist(line, database));
            return;
        };
        let seed = db.next_lsn();
        db.set_clock(super::datetime_now());
        db.run_workload(pages as usize, seed);
        let name = db.name().to_owned();
        if let Err(e) = catalog.save(&name) {
            drop(catalog);
            sink.message(messages::catalog_io_failed(line, &e.to_string()));
            return;
        }
        drop(catalog);
        sink.rows_affected(u64::from(pages));
    }

    /// DBCC: SQLPERF(LOGSPACE), CHECKDB, VDISIM_WORKLOAD; any other command is accepted with
    /// SQL Server's closing message.
    fn dbcc(&mut self, line: u32, dbcc: &Dbcc, sink: &mut dyn OutputSink, cancel: &CancelToken) {
        let text_arg = |i: usize| -> Option<String> {
            match dbcc.args.get(i) {
                Some(Expr::Literal(Literal::String { value, .. })) => Some(value.clone()),
                Some(Expr::Literal(Literal::Integer(n))) => Some(n.to_string()),
                Some(Expr::Column(name)) => Some(name.name().to_owned()),
                _ => None,
            }
        };
        let no_infomsgs = dbcc.options.iter().any(|o| o == "NO_INFOMSGS");
        match dbcc.command.as_str() {
            "VDISIM_WORKLOAD" => {
                let (Some(db), Some(pages)) = (text_arg(0), text_arg(1)) else {
                    sink.message(messages::incorrect_syntax(line, "VDISIM_WORKLOAD"));
                    return;
                };
                match pages
                    .parse::<u32>()
                    .ok()
                    .filter(|p| (1..=1_000_000).contains(p))
                {
                    Some(p) => self.workload(line, &db, p, sink, cancel),
                    None => sink.message(messages::value_out_of_range(
                        line,
                        pages,
                        "VDISIM_WORKLOAD pages",
                    )),
                }
                return;
            }
            // vdisim's own: a fingerprint of a database's content, so that tests can compare a
            // restored database with the original at a point in time.
            "VDISIM_DIGEST" => {
                let Some(name) = text_arg(0) else {
                    sink.message(messages::incorrect_syntax(line, "VDISIM_DIGEST"));
                    return;
                };
                let row = self.engine.lock_catalog().backup_target(&name).map(|db| {
                    vec![
                        Value::String(db.name().to_owned()),
                        Value::Int(i64::try_from(db.page_count()).unwrap_or(i64::MAX)),
                        Value::String(format!("{:016x}", db.state_hash())),
                        Value::Int(db.offline_files().len() as i64),
                    ]
                });
                let Some(row) = row else {
                    sink.message(messages::database_does_not_exist(line, &name));
                    return;
                };
                let mut rs = ResultSet::new(vec![
                    crate::tsql::Column::new("database_name", crate::tsql::value::SYSNAME, false),
                    crate::tsql::Column::new("pages", SqlType::BigInt, false),
                    crate::tsql::Column::new("digest", SqlType::VarChar(Some(16)), false),
                    crate::tsql::Column::new("offline_files", SqlType::Int, false),
                ]);
                rs.rows.push(row);
                sink.result_set(rs);
                sink.rows_affected(1);
            }
            // vdisim's own: marks a page of a database damaged, so DBCC CHECKDB finds it.
            "VDISIM_DAMAGE" => {
                let (Some(db), Some(page)) =
                    (text_arg(0), text_arg(1).and_then(|p| p.parse().ok()))
                else {
                    sink.message(messages::incorrect_syntax(line, "VDISIM_DAMAGE"));
                    return;
                };
                let mut catalog = self.engine.lock_catalog();
                match catalog.get_mut(&db) {
                    Some(d) if page < d.page_count() => {
                        d.damage_page(page);
                        let name = d.name().to_owned();
                        if let Err(e) = catalog.save(&name) {
                            drop(catalog);
                            sink.message(messages::catalog_io_failed(line, &e.to_string()));
                            return;
                        }
                    }
                    Some(_) => {
                        drop(catalog);
                        sink.message(messages::value_out_of_range(
                            line,
                            page,
                            "VDISIM_DAMAGE page",
                        ));
                        return;
                    }
                    None => {
                        drop(catalog);
                        sink.message(messages::database_does_not_exist(line, &db));
                        return;
                    }
                }
            }
            "SQLPERF" => {
                let mut rs = ResultSet::new(vec![
                    crate::tsql::Column::new("Database Name", crate::tsql::value::SYSNAME, false),
                    crate::tsql::Column::new("Log Size (MB)", SqlType::Real, false),
                    crate::tsql::Column::new("Log Space Used (%)", SqlType::Real, false),
                    crate::tsql::Column::new("Status", SqlType::Int, false),
                ]);
                let snapshot = self.engine.snapshot();
                for db in &snapshot.databases {
                    let log_pages: i64 = db
                        .files
                        .iter()
                        .filter(|f| f.file_type == crate::tsql::catalog::FileType::Log)
                        .map(|f| i64::from(f.size_pages))
                        .sum();
                    let used = self
                        .engine
                        .lock_catalog()
                        .get(&db.name)
                        .map_or(0.0, |d| d.log_space_used_percent());
                    rs.push(vec![
                        Value::text(db.name.clone()),
                        Value::Float(log_pages as f64 * 8.0 / 1024.0),
                        Value::Float(used),
                        Value::Int(0),
                    ]);
                }
                let rows = rs.rows.len() as u64;
                sink.result_set(rs);
                sink.rows_affected(rows);
            }
            "CHECKDB" => {
                let name = text_arg(0).unwrap_or_else(|| self.database.clone());
                let catalog = self.engine.lock_catalog();
                let problem = match catalog.get(&name) {
                    Some(db) => db.check_consistency(),
                    None if super::is_system_database(&name) => Ok(()),
                    None => {
                        drop(catalog);
                        sink.message(messages::database_does_not_exist(line, &name));
                        return;
                    }
                };
                drop(catalog);
                if let Err(detail) = problem {
                    sink.message(SqlMessage::new(
                        8928,
                        16,
                        1,
                        line,
                        format!(
                            "Object ID 0, index ID -1, partition ID 0, alloc unit ID 0 (type Unknown): {detail}"
                        ),
                    ));
                    sink.message(SqlMessage::new(
                        8989,
                        16,
                        1,
                        line,
                        format!(
                            "CHECKDB found 0 allocation errors and 1 consistency errors in database '{name}'."
                        ),
                    ));
                    sink.message(SqlMessage::new(
                        8958,
                        16,
                        1,
                        line,
                        format!(
                            "repair_allow_data_loss is the minimum repair level for the errors found by DBCC CHECKDB ({name})."
                        ),
                    ));
                    return;
                }
                if !no_infomsgs {
                    sink.message(SqlMessage::new(
                        8989,
                        0,
                        1,
                        line,
                        format!(
                            "CHECKDB found 0 allocation errors and 0 consistency errors in database '{name}'."
                        ),
                    ));
                }
            }
            _ => {}
        }
        if !no_infomsgs {
            sink.message(SqlMessage::new(
                2528,
                0,
                1,
                line,
                "DBCC execution completed. If DBCC printed error messages, contact your system administrator.",
            ));
        }
    }
}
