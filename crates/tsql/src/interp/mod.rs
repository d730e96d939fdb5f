//! The batch interpreter: variables, control flow, transactions, TRY/CATCH, dynamic SQL and
//! queries, with the statements that act outside the language handed to a [`Host`].
//!
//! SQL Server's error rules, as followed here (XACT_ABORT OFF unless set):
//! - a batch that does not compile runs nothing: a syntax error (level 15), or a variable that
//!   is used but never declared (137), found by a pass over the whole batch first;
//! - a name that cannot be bound when the statement runs (207, 208, 209, 4104) aborts the
//!   batch, and TRY/CATCH of the same batch does not catch it;
//! - a conversion error (245, 8114, 241 …) aborts the batch, but CATCH catches it;
//! - any other error ends the statement only, and the batch goes on;
//! - inside TRY, an error of level 11–19 moves to CATCH and is not sent to the client;
//! - with XACT_ABORT ON every run-time error aborts the batch.

mod check;
mod environment;
mod errors;
mod procedures;
mod raise;
mod statements;
mod tables;
#[cfg(test)]
mod tests;
mod waitfor;

use std::collections::HashMap;

use crate::ast::Statement;
pub use crate::catalog::ProcArg;
use crate::catalog::ServerSnapshot;
use crate::messages::SqlMessage;
use crate::output::{CancelToken, OutputSink};
use crate::value::{DateTime, SqlType, Table, Value};

pub use errors::ErrorInfo;
pub use tables::TempTable;

/// Who the session is, for the server functions and the views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionContext {
    pub spid: i32,
    pub login: String,
    /// The current database, as the server spells it.
    pub database: String,
    pub host_name: String,
    pub program_name: String,
}

/// What the interpreter needs from the server around it.
pub trait Host {
    /// The live state the catalog views and server functions read.
    fn snapshot(&self) -> ServerSnapshot;
    fn session(&self) -> SessionContext;
    /// Local and UTC time now (time is passed in, so tests can fix it).
    fn now(&self) -> (DateTime, DateTime);
    fn random_u128(&mut self) -> u128;
    /// Runs a statement with effects outside the language (BACKUP, RESTORE, DDL, USE, DBCC,
    /// CHECKPOINT, WAITFOR, logins, users …) with its variables already substituted. Its
    /// messages, result sets and counts go to `sink` as they happen.
    fn execute(&mut self, statement: &Statement, sink: &mut dyn OutputSink, cancel: &CancelToken);
    /// A procedure the interpreter does not implement itself (`sp_delete_backuphistory`,
    /// `sp_addsrvrolemember` …): `None` if the host does not know it either (2812).
    fn procedure(
        &mut self,
        name: &str,
        args: &[ProcArg],
        line: u32,
        sink: &mut dyn OutputSink,
    ) -> Option<()>;
    /// A transaction that carried `WITH MARK` committed: the mark goes into the database's log.
    fn mark_committed(&mut self, mark: &TransactionMark);
    /// A transaction `WITH MARK` began: the host may note where its work starts in the log
    /// (`mark.begin_lsn`), for RESTORE … STOPBEFOREMARK.
    fn mark_begun(&mut self, _mark: &mut TransactionMark) {}
}

/// `BEGIN TRAN name WITH MARK 'description'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionMark {
    pub name: String,
    pub description: Option<String>,
    /// The database the transaction ran in.
    pub database: String,
    /// Where the transaction's work began in that database's log, if the host noted it.
    pub begin_lsn: Option<u64>,
}

/// The SET options of a session, as `@@OPTIONS` and behaviour need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    pub nocount: bool,
    pub xact_abort: bool,
    pub language: String,
    pub date_format: String,
    pub date_first: u8,
    pub lock_timeout: i64,
    pub text_size: i64,
    /// Every ON/OFF option by upper-cased name, as last set.
    pub switches: HashMap<String, bool>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            nocount: false,
            xact_abort: false,
            language: "us_english".to_owned(),
            date_format: "mdy".to_owned(),
            date_first: 7,
            lock_timeout: -1,
            text_size: 2_147_483_647,
            switches: HashMap::new(),
        }
    }
}

/// What lives as long as the session: options, the transaction, temporary tables and the
/// last statement's @@ERROR and @@ROWCOUNT.
#[derive(Debug, Clone, Default)]
pub struct SessionState {
    pub options: SessionOptions,
    /// `@@TRANCOUNT`.
    pub transaction_count: u32,
    /// The mark of the outermost open transaction, if it has one.
    pub pending_mark: Option<TransactionMark>,
    pub error: i32,
    pub row_count: i64,
    /// `#name` tables, by lower-cased name.
    pub temp_tables: HashMap<String, TempTable>,
    /// The last identity value inserted (`@@IDENTITY`, `SCOPE_IDENTITY()`).
    pub identity: Option<i64>,
    /// Stop a batch after this many statements (loops count each time round); `None`: no
    /// limit. For fuzzing, where `WHILE 1 = 1` must end.
    pub statement_limit: Option<u64>,
    /// Statements run by the current batch, for `statement_limit`.
    pub statements_run: u64,
}

/// How a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// Whether any error (level > 10) reached the client.
    pub error: bool,
    /// The highest level among those errors, 0 if none.
    pub max_level: u8,
    /// Whether the batch stopped early because it was cancelled.
    pub cancelled: bool,
}

/// Runs one parsed batch.
///
/// `statements` come from [`crate::parse_batch`]; a parse error is the caller's to send.
pub fn run_batch(
    statements: &[Statement],
    state: &mut SessionState,
    host: &mut dyn Host,
    sink: &mut dyn OutputSink,
    cancel: &CancelToken,
) -> BatchOutcome {
    let mut tracking = errors::TrackingSink::new(sink);
    state.statements_run = 0;
    if let Err(message) = check::declared_variables(statements, &[]) {
        tracking.message(message);
        return tracking.outcome(false);
    }
    let mut run = statements::Run::new(state, host, cancel, HashMap::new());
    let cancelled = run.batch(statements, &mut tracking);
    tracking.outcome(cancelled)
}

/// A variable of a batch: its declared type and current value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Variable {
    pub ty: SqlType,
    pub value: Value,
    /// A table variable's rows (`DECLARE @t TABLE`).
    pub table: Option<Table>,
    /// A table variable's column definitions (defaults, IDENTITY).
    pub definitions: Vec<crate::ast::ColumnDefinition>,
    /// A table variable's next IDENTITY value.
    pub next_identity: Option<i64>,
}

impl Variable {
    /// A scalar variable.
    pub(crate) fn scalar(ty: SqlType, value: Value) -> Self {
        Variable {
            ty,
            value,
            table: None,
            definitions: Vec::new(),
            next_identity: None,
        }
    }
}

/// The version a session reports for `SELECT @@SPID`-style tests.
pub(crate) fn lower(name: &str) -> String {
    name.to_lowercase()
}

/// A message with the line of the statement that raised it, unless it already has one.
pub(crate) fn stamp(message: SqlMessage, line: u32) -> SqlMessage {
    if message.line == 0 {
        message.at_line(line)
    } else {
        message
    }
}
