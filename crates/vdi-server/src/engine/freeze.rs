//! Databases frozen for a snapshot: a VDI `BACKUP … WITH SNAPSHOT` between VDC_PrepareToFreeze
//! (or its first metadata) and VDC_Snapshot, or SQL Server 2022's `ALTER DATABASE … SET
//! SUSPEND_FOR_SNAPSHOT_BACKUP = ON` until `BACKUP … WITH METADATA_ONLY` (docs/snapshots.md).
//!
//! While a database is frozen, every statement that would write to it (`DBCC VDISIM_WORKLOAD`,
//! ALTER DATABASE, DROP DATABASE) waits for the thaw; `sys.dm_exec_requests` shows it
//! suspended on `LCK_M_X`, blocked by the freezing session (decision 64). The freeze window is
//! measured from the freeze to the thaw.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Engine;
use super::sink::CancelToken;
use crate::tsql::catalog::{RequestInfo, RequestStatus};

/// Why a database is frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezeKind {
    /// A VDI snapshot BACKUP holds it until VDC_Snapshot completes.
    Vdi,
    /// `SUSPEND_FOR_SNAPSHOT_BACKUP = ON`: until `BACKUP … WITH METADATA_ONLY` or `= OFF`.
    Suspend {
        /// `(MODE = COPY_ONLY)`: the backup that thaws it does not start a differential base.
        copy_only: bool,
    },
}

/// One frozen database.
#[derive(Debug, Clone)]
pub struct Frozen {
    /// The database's name as the catalog spells it.
    pub database: String,
    /// The session that froze it.
    pub session: u64,
    pub kind: FreezeKind,
    /// When the freeze began.
    pub since: Instant,
}

/// The frozen databases of one engine, by lower-case name.
#[derive(Debug, Default)]
pub(crate) struct Freezes {
    frozen: Mutex<HashMap<String, Frozen>>,
    thawed: Condvar,
}

/// How often a blocked writer looks at its cancel token while it waits.
const WAIT_SLICE: Duration = Duration::from_millis(20);

impl Engine {
    /// Freezes `database` for `session`. `Err` holds the freeze already in place.
    pub fn freeze(&self, database: &str, session: u64, kind: FreezeKind) -> Result<(), Frozen> {
        let mut frozen = self
            .freezes
            .frozen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = frozen.get(&database.to_lowercase()) {
            return Err(f.clone());
        }
        frozen.insert(
            database.to_lowercase(),
            Frozen {
                database: database.to_owned(),
                session,
                kind,
                since: Instant::now(),
            },
        );
        drop(frozen);
        // SQL Server's error-log line (3197) when it freezes I/O for a snapshot.
        self.log_line(&format!(
            "I/O is frozen on database {database}. No user action is required. However, if I/O is not resumed promptly, you could cancel the backup."
        ));
        Ok(())
    }

    /// Thaws `database`: writers blocked on it go on. Returns the freeze with how long it held,
    /// or `None` when the database was not frozen.
    pub fn thaw(&self, database: &str) -> Option<(Frozen, Duration)> {
        let removed = self
            .freezes
            .frozen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&database.to_lowercase());
        self.freezes.thawed.notify_all();
        let frozen = removed?;
        let held = frozen.since.elapsed();
        // SQL Server's error-log line (3198), with the window vdisim measured.
        self.log_line(&format!(
            "I/O was resumed on database {}. No user action is required. (frozen for {} ms)",
            frozen.database,
            held.as_millis()
        ));
        Some((frozen, held))
    }

    /// The freeze on `database`, if any.
    #[must_use]
    pub fn frozen(&self, database: &str) -> Option<Frozen> {
        self.freezes
            .frozen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&database.to_lowercase())
            .cloned()
    }

    /// Every freeze in place (for `sys.dm_server_suspend_status` and the daemon's shutdown).
    #[must_use]
    pub fn all_frozen(&self) -> Vec<Frozen> {
        self.freezes
            .frozen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// Blocks a statement of `session` that writes to `database` while another session holds
    /// it frozen, showing the wait in `sys.dm_exec_requests`. `false`: cancelled meanwhile.
    pub(crate) fn wait_until_writable(
        &self,
        database: &str,
        session: u64,
        command: &str,
        cancel: &CancelToken,
    ) -> bool {
        let key = database.to_lowercase();
        let mut frozen = self
            .freezes
            .frozen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut shown = false;
        let started = Instant::now();
        loop {
            let blocker = match frozen.get(&key) {
                Some(f) if f.session != session => f.session,
                _ => break,
            };
            if cancel.is_cancelled() || self.is_shutting_down() {
                drop(frozen);
                if shown {
                    self.set_request(session, None);
                }
                return false;
            }
            let session_id = i16::try_from(session).unwrap_or(i16::MAX);
            let mut request =
                RequestInfo::new(session_id, command, database, super::datetime_now());
            request.status = RequestStatus::Suspended;
            request.wait_type = Some("LCK_M_X".to_owned());
            request.last_wait_type = "LCK_M_X".to_owned();
            request.wait_time = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
            request.blocking_session_id = i16::try_from(blocker).ok();
            drop(frozen);
            self.set_request(session, Some(request));
            shown = true;
            frozen = self
                .freezes
                .frozen
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            frozen = self
                .freezes
                .thawed
                .wait_timeout(frozen, WAIT_SLICE)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(frozen);
        if shown {
            self.set_request(session, None);
        }
        true
    }
}
