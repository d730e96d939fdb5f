//! SQL Server 2022's T-SQL snapshot backup: `ALTER DATABASE … SET SUSPEND_FOR_SNAPSHOT_BACKUP
//! = ON [(MODE = COPY_ONLY)] | OFF`. The freeze it takes is the one a VDI snapshot takes
//! ([`super::freeze`]); `BACKUP DATABASE … WITH METADATA_ONLY` thaws it (the job runner), as
//! does `= OFF` (docs/snapshots.md).

use super::sink::OutputSink;
use super::{FreezeKind, Session, is_system_database};
use crate::tsql::SqlMessage;
use crate::tsql::ast::AlterDatabaseAction;
use crate::tsql::messages;

const OPTION: &str = "SUSPEND_FOR_SNAPSHOT_BACKUP";

/// Whether the ALTER DATABASE sets SUSPEND_FOR_SNAPSHOT_BACKUP.
pub(super) fn is_suspend(action: &AlterDatabaseAction) -> bool {
    matches!(action, AlterDatabaseAction::SetOther { option, .. } if option == OPTION)
}

/// 3083 (level 10): the suspend locks are taken.
pub fn acquired_suspend_locks(line: u32, database: &str, session: u64) -> SqlMessage {
    SqlMessage::new(
        3083,
        10,
        1,
        line,
        format!("Database '{database}' acquired suspend locks in session {session}."),
    )
}

/// 3084 (level 10): the suspend locks are released.
pub fn released_suspend_locks(line: u32, database: &str, session: u64) -> SqlMessage {
    SqlMessage::new(
        3084,
        10,
        1,
        line,
        format!("Database '{database}' released suspend locks in session {session}."),
    )
}

/// 3086 (level 10): the database is suspended.
pub fn suspended(line: u32, database: &str, session: u64) -> SqlMessage {
    SqlMessage::new(
        3086,
        10,
        1,
        line,
        format!(
            "Database '{database}' successfully suspended for snapshot backup in session {session}."
        ),
    )
}

/// 3087 (level 10): the database is resumed.
pub fn resumed(line: u32, database: &str, suspended_in: u64, session: u64) -> SqlMessage {
    SqlMessage::new(
        3087,
        10,
        1,
        line,
        format!(
            "Database '{database}' originally suspended for snapshot backup in session {suspended_in} successfully resumed in session {session}."
        ),
    )
}

/// 3081: already suspended (or frozen by a VDI snapshot).
pub fn previously_suspended(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3081,
        16,
        1,
        line,
        format!("Database '{database}' was previously suspended for snapshot backup."),
    )
}

/// 3082: not suspended.
pub fn not_suspended(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3082,
        16,
        1,
        line,
        format!("Database '{database}' is not suspended for snapshot backup."),
    )
}

/// 3082 for the server: nothing is suspended.
pub fn not_suspended_server(line: u32, server: &str) -> SqlMessage {
    SqlMessage::new(
        3082,
        16,
        1,
        line,
        format!("Server '{server}' is not suspended for snapshot backup."),
    )
}

/// 3092: a database named twice in the group.
pub fn specified_twice(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3092,
        16,
        1,
        line,
        format!(
            "Database '{database}' is specified multiple times in the group snapshot backup statement."
        ),
    )
}

/// 3094: no user database to suspend.
pub fn no_user_databases(line: u32, server: &str) -> SqlMessage {
    SqlMessage::new(
        3094,
        16,
        1,
        line,
        format!("Server '{server}' has no user databases to suspend for snapshot backup."),
    )
}

/// 3091: a database that cannot be suspended (the system databases).
pub fn not_allowed(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3091,
        16,
        1,
        line,
        format!("Database '{database}' is not allowed to be suspended for snapshot backup."),
    )
}

/// `--max-freeze` for a T-SQL suspend: a database still suspended by the same freeze when the
/// limit passes is resumed (and its presented image withdrawn), as for a VDI snapshot; the
/// METADATA_ONLY backup that comes later finds it no longer suspended (decision 68).
fn watch_suspend(
    engine: &std::sync::Arc<super::Engine>,
    database: &str,
    limit: std::time::Duration,
) {
    let Some(since) = engine.frozen(database).map(|f| f.since) else {
        return;
    };
    let engine = std::sync::Arc::downgrade(engine);
    let name = database.to_owned();
    let spawned = std::thread::Builder::new()
        .name("vdisim-max-freeze".into())
        .spawn(move || {
            let database = name;
            let deadline = since + limit;
            loop {
                let Some(engine) = engine.upgrade() else {
                    return;
                };
                match engine.frozen(&database) {
                    Some(f) if f.since == since => {}
                    _ => return,
                }
                if std::time::Instant::now() >= deadline {
                    if let Some(volumes) = engine.config.jobs.snapshot_volumes() {
                        let _ = std::fs::remove_file(crate::jobs::image_path(&volumes, &database));
                    }
                    if let Some((frozen, held)) = engine.thaw(&database) {
                        engine.log_line(&format!(
                            "{database}: suspended for snapshot backup in session {} for {} ms, longer than --max-freeze ({} ms): resumed",
                            frozen.session,
                            held.as_millis(),
                            limit.as_millis()
                        ));
                    }
                    return;
                }
                drop(engine);
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
    if let Err(e) = spawned {
        eprintln!("vdisim: cannot watch the suspend of {database}: {e}");
    }
}

impl Session {
    /// `ALTER DATABASE name SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON | OFF`.
    pub(super) fn suspend_for_snapshot(
        &mut self,
        line: u32,
        name: &str,
        action: &AlterDatabaseAction,
        sink: &mut dyn OutputSink,
    ) {
        let AlterDatabaseAction::SetOther { value, .. } = action else {
            return;
        };
        let value = value.to_ascii_uppercase();
        let on = value.starts_with("ON");
        let fail = |sink: &mut dyn OutputSink, m: SqlMessage| {
            sink.message(m);
            sink.message(messages::alter_database_failed(line));
        };
        if is_system_database(name) {
            return fail(sink, not_allowed(line, name));
        }
        let Some(canonical) = self
            .engine
            .lock_catalog()
            .get(name)
            .map(|d| d.name().to_owned())
        else {
            sink.message(messages::cannot_alter_database(line, name));
            sink.message(messages::alter_database_failed(line));
            return;
        };
        if on {
            let copy_only = value.replace(' ', "").contains("MODE=COPY_ONLY");
            if let Err(m) = self.suspend_one(line, &canonical, copy_only, sink) {
                fail(sink, m);
            }
            return;
        }
        if !self.resume_one(line, &canonical, sink) {
            fail(sink, not_suspended(line, &canonical));
        }
    }

    /// Suspends one database: 3083, the freeze, the presented image, the `--max-freeze` watch,
    /// 3086. `Err`: 3081 (after 3084), nothing suspended.
    fn suspend_one(
        &self,
        line: u32,
        canonical: &str,
        copy_only: bool,
        sink: &mut dyn OutputSink,
    ) -> Result<(), SqlMessage> {
        sink.message(acquired_suspend_locks(line, canonical, self.id));
        if self
            .engine
            .freeze(canonical, self.id, FreezeKind::Suspend { copy_only })
            .is_err()
        {
            sink.message(released_suspend_locks(line, canonical, self.id));
            return Err(previously_suspended(line, canonical));
        }
        if let Some(volumes) = self.engine.config.jobs.snapshot_volumes() {
            // The frozen image the storage snapshot captures (docs/snapshots.md).
            let bytes = self
                .engine
                .lock_catalog()
                .get(canonical)
                .and_then(|d| serde_json::to_vec(d).ok());
            let path = crate::jobs::image_path(&volumes, canonical);
            if let Some(bytes) = bytes
                && let Err(e) = crate::jobs::present_image(&path, &bytes)
            {
                self.engine.log_line(&format!(
                    "session {}: cannot present {}: {e}",
                    self.id,
                    path.display()
                ));
            }
        }
        if let Some(limit) = self.engine.config.jobs.max_freeze() {
            watch_suspend(&self.engine, canonical, limit);
        }
        sink.message(suspended(line, canonical, self.id));
        Ok(())
    }

    /// Resumes one database a T-SQL suspend holds (3084, 3087); `false` if none does.
    fn resume_one(&self, line: u32, canonical: &str, sink: &mut dyn OutputSink) -> bool {
        match self.engine.frozen(canonical) {
            Some(f) if matches!(f.kind, FreezeKind::Suspend { .. }) => {}
            _ => return false,
        }
        if let Some(volumes) = self.engine.config.jobs.snapshot_volumes() {
            let _ = std::fs::remove_file(crate::jobs::image_path(&volumes, canonical));
        }
        if let Some((frozen, held)) = self.engine.thaw(canonical) {
            self.engine.log_line(&format!(
                "session {}: {canonical} resumed after a {} ms snapshot freeze (suspended in session {})",
                self.id,
                held.as_millis(),
                frozen.session
            ));
            sink.message(released_suspend_locks(line, canonical, self.id));
            sink.message(resumed(line, canonical, frozen.session, self.id));
        }
        true
    }

    /// `ALTER SERVER CONFIGURATION SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON [(GROUP = (…))] | OFF`:
    /// the group (every user database without one) is suspended as a whole or not at all.
    pub(super) fn suspend_server_for_snapshot(
        &mut self,
        line: u32,
        on: bool,
        group: &[String],
        copy_only: bool,
        sink: &mut dyn OutputSink,
    ) {
        let server = self.engine.server_name().to_owned();
        if !on {
            let suspended: Vec<String> = self
                .engine
                .all_frozen()
                .into_iter()
                .filter(|f| matches!(f.kind, FreezeKind::Suspend { .. }))
                .map(|f| f.database)
                .collect();
            if suspended.is_empty() {
                sink.message(not_suspended_server(line, &server));
            }
            for db in suspended {
                self.resume_one(line, &db, sink);
            }
            return;
        }
        let mut names: Vec<String> = Vec::new();
        if group.is_empty() {
            names = self
                .engine
                .lock_catalog()
                .list()
                .map(|d| d.name().to_owned())
                .collect();
            if names.is_empty() {
                sink.message(no_user_databases(line, &server));
                return;
            }
        }
        for name in group {
            if is_system_database(name) {
                sink.message(not_allowed(line, name));
                return;
            }
            let Some(canonical) = self
                .engine
                .lock_catalog()
                .get(name)
                .map(|d| d.name().to_owned())
            else {
                sink.message(messages::database_does_not_exist(line, name));
                return;
            };
            if names.iter().any(|n| n.eq_ignore_ascii_case(&canonical)) {
                sink.message(specified_twice(line, &canonical));
                return;
            }
            names.push(canonical);
        }
        let mut done: Vec<String> = Vec::new();
        for db in &names {
            if let Err(m) = self.suspend_one(line, db, copy_only, sink) {
                sink.message(m);
                for d in &done {
                    self.resume_one(line, d, sink);
                }
                return;
            }
            done.push(db.clone());
        }
    }
}
