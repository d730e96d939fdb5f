//! The jobs a case's engine runs: the real job runner, with each job's result and error
//! messages kept for the verdict.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};
use vdi_server::engine::jobs::{JobContext, JobResult, VdiJobs};
use vdi_server::engine::sink::OutputSink;
use vdi_server::jobs::VdiJobRunner;
use vdi_server::tsql::{BackupStatement, RestoreStatement, ResultSet, SqlMessage};

/// The jobs the case's engine runs: the real job runner, recording each job's result.
#[derive(Debug)]
pub(crate) struct Recording {
    pub(crate) runner: VdiJobRunner,
    /// A BACKUP or RESTORE started since the step began.
    pub(crate) started: std::sync::atomic::AtomicBool,
    pub(crate) last: Mutex<Option<(JobResult, Vec<String>)>>,
}

struct ErrorTap<'a> {
    inner: &'a mut dyn OutputSink,
    errors: Vec<String>,
}

impl OutputSink for ErrorTap<'_> {
    fn message(&mut self, message: SqlMessage) {
        if message.level > 10 {
            self.errors
                .push(format!("Msg {}: {}", message.number, message.text));
        }
        self.inner.message(message);
    }
    fn result_set(&mut self, result_set: ResultSet) {
        self.inner.result_set(result_set);
    }
    fn rows_affected(&mut self, count: u64) {
        self.inner.rows_affected(count);
    }
}

impl Recording {
    fn record(
        &self,
        f: impl FnOnce(&mut dyn OutputSink) -> JobResult,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        self.started.store(true, Ordering::SeqCst);
        let mut tap = ErrorTap {
            inner: sink,
            errors: Vec::new(),
        };
        let result = f(&mut tap);
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((result, tap.errors));
        result
    }
}

impl VdiJobs for Recording {
    fn backup(
        &self,
        ctx: &JobContext<'_>,
        stmt: &BackupStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        self.record(|s| self.runner.backup(ctx, stmt, s), sink)
    }

    fn restore(
        &self,
        ctx: &JobContext<'_>,
        stmt: &RestoreStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        self.record(|s| self.runner.restore(ctx, stmt, s), sink)
    }
}
