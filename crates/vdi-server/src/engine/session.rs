//! One logged-in connection: its current database, its session state (SET options,
//! transaction count, temporary tables), and the batches it runs.

use std::sync::Arc;
use std::time::Instant;

use super::sink::{CancelToken, OutputSink};
use super::{BatchOutcome, Engine};
use crate::tsql::interp::{self, SessionState};
use crate::tsql::{Batch, parse_batch};

/// One logged-in connection.
#[derive(Debug)]
pub struct Session {
    pub(super) engine: Arc<Engine>,
    pub(super) id: u64,
    pub(super) user: String,
    pub(super) database: String,
    pub(super) state: SessionState,
    /// When the running batch began (`sys.dm_exec_requests.start_time`).
    pub(super) batch_started: Option<Instant>,
    /// The logins EXECUTE AS switched away from, the latest last (REVERT goes back).
    pub(super) impersonation: Vec<String>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.engine.unregister(self.id);
    }
}

impl Session {
    pub(super) fn new(engine: Arc<Engine>, id: u64, user: String, database: String) -> Self {
        Session {
            engine,
            id,
            user,
            database,
            state: SessionState::default(),
            batch_started: None,
            impersonation: Vec::new(),
        }
    }

    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The login.
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

    /// The session's SET options, transaction count and temporary tables.
    #[must_use]
    pub fn state(&self) -> &SessionState {
        &self.state
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

    /// Runs a batch (`batch.repeat` times). `cancel` stops it between statements, and long
    /// statements (WAITFOR, BACKUP, RESTORE) poll it.
    pub fn execute_batch_cancellable(
        &mut self,
        batch: &Batch,
        sink: &mut dyn OutputSink,
        cancel: &CancelToken,
    ) -> BatchOutcome {
        let mut total = BatchOutcome::default();
        self.batch_started = Some(Instant::now());
        self.engine.batch_started(self.id, &batch.text, cancel);
        for _ in 0..batch.repeat.max(1) {
            if cancel.is_cancelled() || self.engine.is_shutting_down() {
                total.cancelled = true;
                break;
            }
            let outcome = match parse_batch(&batch.text, batch.first_line) {
                Ok(statements) => {
                    let mut state = std::mem::take(&mut self.state);
                    let outcome = interp::run_batch(&statements, &mut state, self, sink, cancel);
                    self.state = state;
                    outcome
                }
                Err(message) => {
                    let level = message.level;
                    sink.message(message);
                    BatchOutcome {
                        error: true,
                        max_level: level,
                        cancelled: false,
                    }
                }
            };
            total.error |= outcome.error;
            total.max_level = total.max_level.max(outcome.max_level);
            if outcome.cancelled {
                total.cancelled = true;
                break;
            }
        }
        self.batch_started = None;
        self.engine.batch_ended(self.id);
        total
    }
}
