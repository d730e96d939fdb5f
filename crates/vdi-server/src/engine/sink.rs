//! Where a running batch sends its output (the types live in `tsql::output`), and the
//! engine's error-tracking wrapper.

pub use crate::tsql::output::{CancelToken, CollectSink, Output, OutputSink, rows_affected_line};
use crate::tsql::{ResultSet, SqlMessage};

/// Wraps the caller's sink and remembers whether an error went through it.
pub(crate) struct TrackingSink<'a> {
    inner: &'a mut dyn OutputSink,
    pub(crate) errors: u32,
    pub(crate) max_level: u8,
    /// The highest error level since the current statement began.
    pub(crate) statement_max_level: u8,
}

impl<'a> TrackingSink<'a> {
    pub(crate) fn new(inner: &'a mut dyn OutputSink) -> Self {
        TrackingSink {
            inner,
            errors: 0,
            max_level: 0,
            statement_max_level: 0,
        }
    }
}

impl OutputSink for TrackingSink<'_> {
    fn message(&mut self, message: SqlMessage) {
        if message.is_error() {
            self.errors += 1;
            self.max_level = self.max_level.max(message.level);
            self.statement_max_level = self.statement_max_level.max(message.level);
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
