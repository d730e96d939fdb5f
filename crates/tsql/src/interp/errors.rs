//! How errors travel through a batch: what each one ends, the sinks that count or catch
//! them, and the interpreter's own messages.

use super::BatchOutcome;
use crate::messages::SqlMessage;
use crate::output::OutputSink;
use crate::resultset::ResultSet;

/// What an error ends, by SQL Server's rules (see the module docs of `interp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    /// The statement only; the batch goes on.
    Statement,
    /// The batch; CATCH catches it.
    Batch,
    /// The batch, and CATCH of the same batch does not see it (a name that cannot be bound).
    Compile,
}

/// Run-time errors that SQL Server treats as failing compilation of the statement.
const COMPILE_ERRORS: &[u32] = &[207, 208, 209, 4104, 195, 1087, 8120, 4108, 4109];

/// Conversion errors: they abort the batch.
const BATCH_ERRORS: &[u32] = &[245, 241, 242, 295, 8114, 8169, 9803, 235, 257, 529, 8115];

pub(crate) fn severity_of(message: &SqlMessage, xact_abort: bool) -> Severity {
    if COMPILE_ERRORS.contains(&message.number) {
        Severity::Compile
    } else if xact_abort || BATCH_ERRORS.contains(&message.number) || message.level > 16 {
        Severity::Batch
    } else {
        Severity::Statement
    }
}

/// The error a CATCH block sees through ERROR_NUMBER() and friends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInfo {
    pub number: i32,
    pub severity: i32,
    pub state: i32,
    pub line: i32,
    pub message: String,
    pub procedure: Option<String>,
}

impl From<&SqlMessage> for ErrorInfo {
    fn from(m: &SqlMessage) -> Self {
        ErrorInfo {
            number: i32::try_from(m.number).unwrap_or(i32::MAX),
            severity: i32::from(m.level),
            state: i32::from(m.state),
            line: i32::try_from(m.line).unwrap_or(i32::MAX),
            message: m.text.clone(),
            procedure: m.procedure.clone(),
        }
    }
}

/// Counts the errors that reach the client.
pub(crate) struct TrackingSink<'a> {
    inner: &'a mut dyn OutputSink,
    errors: u32,
    max_level: u8,
}

impl<'a> TrackingSink<'a> {
    pub(crate) fn new(inner: &'a mut dyn OutputSink) -> Self {
        TrackingSink {
            inner,
            errors: 0,
            max_level: 0,
        }
    }

    pub(crate) fn outcome(&self, cancelled: bool) -> BatchOutcome {
        BatchOutcome {
            error: self.errors > 0,
            max_level: self.max_level,
            cancelled,
        }
    }
}

impl OutputSink for TrackingSink<'_> {
    fn message(&mut self, message: SqlMessage) {
        if message.is_error() {
            self.errors += 1;
            self.max_level = self.max_level.max(message.level);
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

/// Wraps the sink of one statement: passes everything on but remembers the last error, so
/// the interpreter learns whether a host statement failed. Inside TRY it holds errors back
/// (CATCH sees the last one; the client sees none).
pub(crate) struct StatementSink<'a> {
    inner: &'a mut dyn OutputSink,
    hold_errors: bool,
    pub(crate) last_error: Option<SqlMessage>,
}

impl<'a> StatementSink<'a> {
    pub(crate) fn new(inner: &'a mut dyn OutputSink, hold_errors: bool) -> Self {
        StatementSink {
            inner,
            hold_errors,
            last_error: None,
        }
    }
}

impl OutputSink for StatementSink<'_> {
    fn message(&mut self, message: SqlMessage) {
        if message.is_error() {
            self.last_error = Some(message.clone());
            if self.hold_errors && message.level <= 19 {
                return;
            }
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

// ---- the interpreter's messages --------------------------------------------------------

pub(crate) fn procedure_not_found(line: u32, name: &str) -> SqlMessage {
    SqlMessage::new(
        2812,
        16,
        62,
        line,
        format!("Could not find stored procedure '{name}'."),
    )
}

pub(crate) fn commit_without_begin(line: u32) -> SqlMessage {
    SqlMessage::new(
        3902,
        16,
        1,
        line,
        "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.",
    )
}

pub(crate) fn rollback_without_begin(line: u32) -> SqlMessage {
    SqlMessage::new(
        3903,
        16,
        1,
        line,
        "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.",
    )
}

pub(crate) fn backup_in_transaction(line: u32) -> SqlMessage {
    SqlMessage::new(
        3021,
        16,
        0,
        line,
        "Cannot perform a backup or restore operation within a transaction.",
    )
}

pub(crate) fn variable_already_declared(line: u32, name: &str) -> SqlMessage {
    SqlMessage::new(
        134,
        15,
        1,
        line,
        format!(
            "The variable name '{name}' has already been declared. Variable names must be unique within a query batch or stored procedure."
        ),
    )
}

pub(crate) fn must_declare_table_variable(line: u32, name: &str) -> SqlMessage {
    SqlMessage::new(
        1087,
        15,
        2,
        line,
        format!("Must declare the table variable \"{name}\"."),
    )
}

pub(crate) fn parameter_not_supplied(line: u32, procedure: &str, parameter: &str) -> SqlMessage {
    SqlMessage::new(
        201,
        16,
        4,
        line,
        format!(
            "Procedure or function '{procedure}' expects parameter '{parameter}', which was not supplied."
        ),
    )
}

pub(crate) fn too_many_arguments(line: u32, procedure: &str) -> SqlMessage {
    SqlMessage::new(
        8144,
        16,
        2,
        line,
        format!("Procedure or function {procedure} has too many arguments specified."),
    )
}

pub(crate) fn statement_must_be_unicode(line: u32) -> SqlMessage {
    SqlMessage::new(
        214,
        16,
        2,
        line,
        "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.",
    )
}

pub(crate) fn params_must_be_unicode(line: u32) -> SqlMessage {
    SqlMessage::new(
        214,
        16,
        3,
        line,
        "Procedure expects parameter '@params' of type 'ntext/nchar/nvarchar'.",
    )
}

pub(crate) fn parameterized_query_missing(line: u32, params: &str, parameter: &str) -> SqlMessage {
    SqlMessage::new(
        8178,
        16,
        1,
        line,
        format!(
            "The parameterized query '({params})' expects the parameter '{parameter}', which was not supplied."
        ),
    )
}

pub(crate) fn throw_number_out_of_range(line: u32, number: i64) -> SqlMessage {
    SqlMessage::new(
        35100,
        16,
        10,
        line,
        format!(
            "Error number {number} in the THROW statement is outside the valid range. Specify an error number in the valid range of 50000 to 2147483647."
        ),
    )
}

pub(crate) fn rethrow_outside_catch(line: u32) -> SqlMessage {
    SqlMessage::new(
        10704,
        15,
        1,
        line,
        "To rethrow an error, a THROW statement must be used inside a CATCH block. Insert the THROW statement inside a CATCH block, or add error parameters to the THROW statement.",
    )
}

pub(crate) fn severity_needs_log(line: u32) -> SqlMessage {
    SqlMessage::new(
        2754,
        16,
        1,
        line,
        "Error severity levels greater than 18 can only be specified by members of the sysadmin role, using the WITH LOG option.",
    )
}

pub(crate) fn object_exists(line: u32, name: &str) -> SqlMessage {
    SqlMessage::new(
        2714,
        16,
        6,
        line,
        format!("There is already an object named '{name}' in the database."),
    )
}

pub(crate) fn cannot_drop_table(line: u32, name: &str) -> SqlMessage {
    SqlMessage::new(
        3701,
        11,
        5,
        line,
        format!(
            "Cannot drop the table '{name}', because it does not exist or you do not have permission."
        ),
    )
}

pub(crate) fn insert_column_count(line: u32) -> SqlMessage {
    SqlMessage::new(
        213,
        16,
        1,
        line,
        "Column name or number of supplied values does not match table definition.",
    )
}

pub(crate) fn null_not_allowed(line: u32, column: &str, table: &str) -> SqlMessage {
    SqlMessage::new(
        515,
        16,
        2,
        line,
        format!(
            "Cannot insert the value NULL into column '{column}', table '{table}'; column does not allow nulls. INSERT fails."
        ),
    )
}

pub(crate) fn permanent_table_not_emulated(line: u32, name: &str) -> SqlMessage {
    SqlMessage::new(
        59030,
        16,
        1,
        line,
        format!(
            "vdisim does not emulate user tables: '{name}' cannot be created or changed. Temporary tables (#name) and table variables work."
        ),
    )
}

pub(crate) fn invalid_object(line: u32, name: &str) -> SqlMessage {
    crate::messages::invalid_object(line, name)
}

/// 132
pub(crate) fn label_already_declared(line: u32, label: &str) -> SqlMessage {
    SqlMessage::new(
        132,
        15,
        1,
        line,
        format!(
            "The label '{label}' has already been declared. Label names must be unique within a query batch or stored procedure."
        ),
    )
}

/// 133
pub(crate) fn label_not_declared(line: u32, label: &str) -> SqlMessage {
    SqlMessage::new(
        133,
        15,
        1,
        line,
        format!(
            "A GOTO statement references the label '{label}' but the label has not been declared."
        ),
    )
}
