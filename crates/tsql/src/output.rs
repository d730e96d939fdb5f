//! Where a running batch sends its output, and how it learns that it should stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{ResultSet, SqlMessage};

/// Receives a batch's output in the order SQL Server sends it. Calls happen while the batch
/// runs, so a long statement (BACKUP … WITH STATS) can stream its progress.
pub trait OutputSink {
    /// An error or informational message (PRINT output is message 0, level 0).
    fn message(&mut self, message: SqlMessage);
    /// A complete result set.
    fn result_set(&mut self, result_set: ResultSet);
    /// "(n rows affected)" of a statement that changes rows without returning them.
    fn rows_affected(&mut self, count: u64);
}

/// One item of a batch's output, as [`CollectSink`] records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Message(SqlMessage),
    ResultSet(ResultSet),
    RowsAffected(u64),
}

/// A sink that keeps everything, for tests and in-process callers.
#[derive(Debug, Default)]
pub struct CollectSink {
    pub outputs: Vec<Output>,
}

impl CollectSink {
    #[must_use]
    pub fn new() -> Self {
        CollectSink::default()
    }

    /// The messages only, in order.
    pub fn messages(&self) -> impl Iterator<Item = &SqlMessage> {
        self.outputs.iter().filter_map(|o| match o {
            Output::Message(m) => Some(m),
            _ => None,
        })
    }

    /// The numbers of the error messages (level > 10), in order.
    #[must_use]
    pub fn error_numbers(&self) -> Vec<u32> {
        self.messages()
            .filter(|m| m.is_error())
            .map(|m| m.number)
            .collect()
    }

    /// Everything as sqlcmd would print it with default switches.
    #[must_use]
    pub fn render(&self, server_name: &str) -> String {
        let mut out = String::new();
        for o in &self.outputs {
            match o {
                Output::Message(m) => {
                    out.push_str(&m.render(server_name));
                    out.push('\n');
                }
                Output::ResultSet(rs) => {
                    out.push_str(&rs.render_sqlcmd(&crate::RenderOptions::default()));
                }
                Output::RowsAffected(n) => out.push_str(&rows_affected_line(*n)),
            }
        }
        out
    }
}

impl OutputSink for CollectSink {
    fn message(&mut self, message: SqlMessage) {
        self.outputs.push(Output::Message(message));
    }

    fn result_set(&mut self, result_set: ResultSet) {
        self.outputs.push(Output::ResultSet(result_set));
    }

    fn rows_affected(&mut self, count: u64) {
        self.outputs.push(Output::RowsAffected(count));
    }
}

/// sqlcmd's line for a rows-affected count: a blank line, then `(n rows affected)`.
#[must_use]
pub fn rows_affected_line(count: u64) -> String {
    let noun = if count == 1 { "row" } else { "rows" };
    format!("\n({count} {noun} affected)\n")
}

/// Set when whoever started a batch wants it stopped: the client sent an attention (cancel),
/// disconnected, or the server is shutting down. Long statements poll it.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    #[must_use]
    pub fn new() -> Self {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
