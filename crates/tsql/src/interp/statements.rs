//! Running statements: control flow, variables, transactions, errors.

use std::collections::HashMap;

use super::errors::{self, ErrorInfo, Severity, StatementSink};
use super::{Host, SessionState, TransactionMark, Variable, lower, stamp};
use crate::ast::*;
use crate::catalog::ServerSnapshot;
use crate::messages::{self, SqlMessage};
use crate::output::{CancelToken, OutputSink};
use crate::value::{SqlType, Table, Value};

/// How a statement ended, for the statements around it.
#[derive(Debug)]
pub(crate) enum Flow {
    Next,
    Break,
    Continue,
    /// RETURN, or an error that ends the batch.
    Stop,
    /// An error inside TRY: CATCH handles it.
    Throw(ErrorInfo),
    /// GOTO: on to the label, in this statement list or an enclosing one.
    Goto(String),
}

/// Where a GOTO's label is in a statement list.
pub(crate) fn label_index(statements: &[Statement], label: &str) -> Option<usize> {
    statements
        .iter()
        .position(|s| matches!(&s.kind, StatementKind::Label(l) if l.eq_ignore_ascii_case(label)))
}

pub(crate) type Outcome = Result<Flow, SqlMessage>;

/// One run of a batch (or of a dynamic batch inside it): its variables and where it is.
pub(crate) struct Run<'a> {
    pub(crate) state: &'a mut SessionState,
    pub(crate) host: &'a mut dyn Host,
    pub(crate) cancel: &'a CancelToken,
    pub(crate) variables: HashMap<String, Variable>,
    /// How many TRY blocks enclose the statement running now.
    pub(crate) try_depth: u32,
    /// The errors the enclosing CATCH blocks handle, innermost last.
    pub(crate) caught: Vec<ErrorInfo>,
    /// The server's state, read once per statement.
    pub(crate) snapshot: Option<ServerSnapshot>,
    /// The line of the statement running now.
    pub(crate) line: u32,
    /// Tables that stand in for others while UPDATE and DELETE find their rows.
    pub(crate) shadow_tables: Vec<(ObjectName, Table)>,
    /// An error a dynamic batch threw inside TRY, for the EXEC that ran it to pass on.
    pub(crate) pending_throw: Option<ErrorInfo>,
    /// How many errors statements have raised, to know whether @@ERROR is to be cleared.
    pub(crate) errors_raised: u64,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        state: &'a mut SessionState,
        host: &'a mut dyn Host,
        cancel: &'a CancelToken,
        variables: HashMap<String, Variable>,
    ) -> Self {
        Run {
            state,
            host,
            cancel,
            variables,
            try_depth: 0,
            caught: Vec::new(),
            snapshot: None,
            line: 0,
            shadow_tables: Vec::new(),
            pending_throw: None,
            errors_raised: 0,
        }
    }

    /// Sets @@ERROR for the statement running now.
    pub(crate) fn set_error(&mut self, number: i32) {
        self.state.error = number;
        self.errors_raised += 1;
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Runs statements in order; returns whether the batch was cancelled.
    pub(crate) fn batch(&mut self, statements: &[Statement], sink: &mut dyn OutputSink) -> bool {
        let mut i = 0;
        while let Some(statement) = statements.get(i) {
            if self.cancelled() {
                return true;
            }
            i += 1;
            match self.statement(statement, sink) {
                Flow::Stop => break,
                // A label inside a block that does not enclose the GOTO: not followed.
                Flow::Goto(label) => match label_index(statements, &label) {
                    Some(j) => i = j + 1,
                    None => break,
                },
                // An error thrown outside any TRY was already sent (see `fail`).
                Flow::Next | Flow::Break | Flow::Continue | Flow::Throw(_) => {}
            }
        }
        self.cancelled()
    }

    /// Runs a list inside a block, stopping at the first flow change; a GOTO to one of its
    /// own labels goes on from there.
    pub(crate) fn block(&mut self, statements: &[Statement], sink: &mut dyn OutputSink) -> Flow {
        let mut i = 0;
        while let Some(statement) = statements.get(i) {
            if self.cancelled() {
                return Flow::Stop;
            }
            i += 1;
            match self.statement(statement, sink) {
                Flow::Next => {}
                Flow::Goto(label) => match label_index(statements, &label) {
                    Some(j) => i = j + 1,
                    None => return Flow::Goto(label),
                },
                other => return other,
            }
        }
        Flow::Next
    }

    pub(crate) fn statement(&mut self, statement: &Statement, sink: &mut dyn OutputSink) -> Flow {
        self.state.statements_run += 1;
        if self
            .state
            .statement_limit
            .is_some_and(|limit| self.state.statements_run > limit)
        {
            return Flow::Stop;
        }
        self.line = statement.line;
        self.snapshot = None;
        let errors_before = self.errors_raised;
        match self.execute(statement, sink) {
            Ok(flow) => {
                // @@ERROR is the last statement's: 0 unless this one raised (it is read while
                // the statement runs, so it is cleared only now).
                if self.errors_raised == errors_before {
                    self.state.error = 0;
                }
                flow
            }
            Err(message) => self.fail(message, sink),
        }
    }

    /// An error raised by the statement running now: sent or thrown to CATCH, and the flow
    /// that follows from it.
    pub(crate) fn fail(&mut self, message: SqlMessage, sink: &mut dyn OutputSink) -> Flow {
        let message = stamp(message, self.line);
        self.set_error(i32::try_from(message.number).unwrap_or(i32::MAX));
        let severity = errors::severity_of(&message, self.state.options.xact_abort);
        if self.try_depth > 0 && severity != Severity::Compile && (11..=19).contains(&message.level)
        {
            return Flow::Throw(ErrorInfo::from(&message));
        }
        sink.message(message);
        match severity {
            Severity::Statement => Flow::Next,
            Severity::Batch | Severity::Compile => Flow::Stop,
        }
    }

    fn execute(&mut self, statement: &Statement, sink: &mut dyn OutputSink) -> Outcome {
        let line = statement.line;
        match &statement.kind {
            StatementKind::Select(query) => self.select(query, sink),
            StatementKind::Declare(declarations) => {
                for d in declarations {
                    let value = match &d.initial {
                        Some(e) => {
                            let (ty, v) = self.evaluate(e)?;
                            self.convert(v, ty, d.ty)?
                        }
                        None => Value::Null,
                    };
                    self.variables
                        .insert(lower(&d.name), Variable::scalar(d.ty, value));
                }
                Ok(Flow::Next)
            }
            StatementKind::DeclareTable { name, columns } => {
                let table = super::tables::TempTable::new(name, columns);
                self.variables.insert(
                    lower(name),
                    Variable {
                        ty: SqlType::SqlVariant,
                        value: Value::Null,
                        table: Some(table.rows),
                        definitions: table.definitions,
                        next_identity: table.next_identity,
                    },
                );
                Ok(Flow::Next)
            }
            StatementKind::SetVariable(set) => {
                let expr = match set.op {
                    Some(op) => Expr::Binary {
                        op,
                        left: Box::new(Expr::Variable(set.name.clone())),
                        right: Box::new(set.value.clone()),
                    },
                    None => set.value.clone(),
                };
                let (ty, value) = self.evaluate(&expr)?;
                self.assign(&set.name, ty, value)?;
                self.state.row_count = 1;
                Ok(Flow::Next)
            }
            StatementKind::SetOption(option) => {
                self.set_option(option, sink)?;
                Ok(Flow::Next)
            }
            StatementKind::PrintExpr(e) => {
                let (ty, value) = self.evaluate(e)?;
                let text = match value {
                    Value::Null => String::new(),
                    v => crate::resultset::value_text(&v, ty),
                };
                sink.message(messages::print_output(line, &text));
                Ok(Flow::Next)
            }
            StatementKind::If(branch) => {
                if self.condition(&branch.condition)? {
                    Ok(self.statement(&branch.then, sink))
                } else if let Some(otherwise) = &branch.otherwise {
                    Ok(self.statement(otherwise, sink))
                } else {
                    Ok(Flow::Next)
                }
            }
            StatementKind::While(w) => self.while_loop(w, sink),
            StatementKind::Break => Ok(Flow::Break),
            StatementKind::Continue => Ok(Flow::Continue),
            StatementKind::Return(_) => Ok(Flow::Stop),
            StatementKind::Goto(label) => Ok(Flow::Goto(label.clone())),
            StatementKind::Label(_) => Ok(Flow::Next),
            StatementKind::Block(body) => Ok(self.block(body, sink)),
            StatementKind::TryCatch(tc) => Ok(self.try_catch(tc, sink)),
            StatementKind::Raiserror(r) => self.raiserror(r, sink),
            StatementKind::Throw(t) => self.throw(t, sink),
            StatementKind::Exec(exec) => {
                self.exec(exec, sink, None)?;
                Ok(match self.pending_throw.take() {
                    Some(error) => Flow::Throw(error),
                    None => Flow::Next,
                })
            }
            StatementKind::BeginTransaction(begin) => {
                self.begin_transaction(begin)?;
                Ok(Flow::Next)
            }
            StatementKind::Commit => {
                if self.state.transaction_count == 0 {
                    return Err(errors::commit_without_begin(line));
                }
                self.state.transaction_count -= 1;
                if self.state.transaction_count == 0
                    && let Some(mark) = self.state.pending_mark.take()
                {
                    self.host.mark_committed(&mark);
                }
                Ok(Flow::Next)
            }
            StatementKind::Rollback => {
                if self.state.transaction_count == 0 {
                    return Err(errors::rollback_without_begin(line));
                }
                self.state.transaction_count = 0;
                self.state.pending_mark = None;
                Ok(Flow::Next)
            }
            StatementKind::SaveTransaction(_) => {
                if self.state.transaction_count == 0 {
                    return Err(SqlMessage::new(
                        628,
                        16,
                        0,
                        line,
                        "Cannot issue SAVE TRANSACTION when there is no active transaction.",
                    ));
                }
                Ok(Flow::Next)
            }
            StatementKind::CreateTable(_)
            | StatementKind::DropTable { .. }
            | StatementKind::Insert(_)
            | StatementKind::Update(_)
            | StatementKind::Delete(_) => self.table_statement(statement, sink),
            StatementKind::Backup(backup) => {
                if self.state.transaction_count > 0 {
                    sink_fail_in_transaction(sink, line, backup.operation());
                    return Ok(Flow::Next);
                }
                let mut resolved = backup.clone();
                if let Err(m) = self.substitute_backup(&mut resolved) {
                    return fail_substitution(sink, m, backup.operation());
                }
                self.host_statement(
                    &Statement {
                        line,
                        kind: StatementKind::Backup(resolved),
                    },
                    sink,
                )
            }
            StatementKind::Restore(restore) => {
                if self.state.transaction_count > 0 {
                    sink_fail_in_transaction(sink, line, restore.operation());
                    return Ok(Flow::Next);
                }
                let mut resolved = restore.clone();
                if let Err(m) = self.substitute_restore(&mut resolved) {
                    return fail_substitution(sink, m, restore.operation());
                }
                self.host_statement(
                    &Statement {
                        line,
                        kind: StatementKind::Restore(resolved),
                    },
                    sink,
                )
            }
            StatementKind::CreateDatabase(_)
            | StatementKind::DropDatabase(_)
            | StatementKind::AlterDatabase { .. }
                if self.state.transaction_count > 0 =>
            {
                let verb = match &statement.kind {
                    StatementKind::CreateDatabase(_) => "CREATE DATABASE",
                    StatementKind::DropDatabase(_) => "DROP DATABASE",
                    _ => "ALTER DATABASE",
                };
                Err(SqlMessage::new(
                    226,
                    16,
                    6,
                    line,
                    format!("{verb} statement not allowed within multi-statement transaction."),
                ))
            }
            StatementKind::WaitFor(wait) => {
                let milliseconds = self.wait_milliseconds(wait)?;
                self.host_statement(
                    &Statement {
                        line,
                        kind: StatementKind::WaitForDelay { milliseconds },
                    },
                    sink,
                )
            }
            StatementKind::Dbcc(dbcc) => {
                let mut resolved = dbcc.clone();
                for arg in &mut resolved.args {
                    // `DBCC CHECKDB (pubs)` and `([pubs])` name a database; they are no columns.
                    if let Expr::Column(name) = arg
                        && name.parts.len() == 1
                    {
                        *arg = Expr::string(name.name());
                        continue;
                    }
                    let (ty, value) = self.evaluate(arg)?;
                    *arg = value_literal(&value, ty);
                }
                self.host_statement(
                    &Statement {
                        line,
                        kind: StatementKind::Dbcc(resolved),
                    },
                    sink,
                )
            }
            _ => self.host_statement(statement, sink),
        }
    }

    /// Hands a statement to the host; inside TRY its last error moves to CATCH.
    pub(crate) fn host_statement(
        &mut self,
        statement: &Statement,
        sink: &mut dyn OutputSink,
    ) -> Outcome {
        let mut statement_sink = StatementSink::new(sink, self.try_depth > 0);
        self.host
            .execute(statement, &mut statement_sink, self.cancel);
        self.state.row_count = 0;
        match statement_sink.last_error {
            Some(error) => {
                self.set_error(i32::try_from(error.number).unwrap_or(i32::MAX));
                if self.try_depth > 0 && (11..=19).contains(&error.level) {
                    Ok(Flow::Throw(ErrorInfo::from(&error)))
                } else if error.level > 16 {
                    // Resource and system errors (17 and above) end the batch.
                    Ok(Flow::Stop)
                } else {
                    Ok(Flow::Next)
                }
            }
            None => Ok(Flow::Next),
        }
    }

    fn while_loop(&mut self, w: &While, sink: &mut dyn OutputSink) -> Outcome {
        loop {
            if self.cancelled() {
                return Ok(Flow::Stop);
            }
            if !self.condition(&w.condition)? {
                return Ok(Flow::Next);
            }
            match self.statement(&w.body, sink) {
                Flow::Break => return Ok(Flow::Next),
                Flow::Next | Flow::Continue => {}
                other => return Ok(other),
            }
        }
    }

    fn try_catch(&mut self, tc: &TryCatch, sink: &mut dyn OutputSink) -> Flow {
        self.try_depth += 1;
        let flow = self.block(&tc.body, sink);
        self.try_depth -= 1;
        match flow {
            Flow::Throw(error) => {
                self.caught.push(error);
                let flow = self.block(&tc.handler, sink);
                self.caught.pop();
                flow
            }
            other => other,
        }
    }

    fn begin_transaction(&mut self, begin: &BeginTransaction) -> Result<(), SqlMessage> {
        let name = match &begin.name {
            Some(e) => Some(self.evaluate_text(e)?),
            None => None,
        };
        if self.state.transaction_count == 0
            && let (Some(mark), Some(name)) = (&begin.mark, &name)
        {
            let description = match mark {
                Some(e) => Some(self.evaluate_text(e)?),
                None => None,
            };
            let mut mark = TransactionMark {
                name: name.clone(),
                description,
                database: self.host.session().database,
                begin_lsn: None,
            };
            self.host.mark_begun(&mut mark);
            self.state.pending_mark = Some(mark);
        }
        self.state.transaction_count += 1;
        Ok(())
    }

    fn set_option(
        &mut self,
        option: &SetOption,
        sink: &mut dyn OutputSink,
    ) -> Result<(), SqlMessage> {
        let options = &mut self.state.options;
        for name in &option.options {
            match (&option.value, name.as_str()) {
                (SetOptionValue::On | SetOptionValue::Off, _) => {
                    let on = matches!(option.value, SetOptionValue::On);
                    match name.as_str() {
                        "NOCOUNT" => options.nocount = on,
                        "XACT_ABORT" => options.xact_abort = on,
                        _ => {}
                    }
                    options.switches.insert(name.clone(), on);
                }
                (SetOptionValue::Word(word), "LANGUAGE") => {
                    options.language = word.clone();
                    sink.message(SqlMessage::new(
                        5703,
                        0,
                        1,
                        self.line,
                        format!("Changed language setting to {word}."),
                    ));
                }
                (SetOptionValue::Word(word), "DATEFORMAT") => {
                    options.date_format = word.to_lowercase();
                }
                (SetOptionValue::Word(_), _) => {}
                (SetOptionValue::Number(_), _) => {}
            }
        }
        if let SetOptionValue::Number(e) = &option.value {
            let (ty, value) = self.evaluate(e)?;
            let number = match self.convert(value, ty, SqlType::BigInt)? {
                Value::Int(n) => n,
                _ => 0,
            };
            for name in &option.options {
                let options = &mut self.state.options;
                match name.as_str() {
                    "LOCK_TIMEOUT" => options.lock_timeout = number,
                    "TEXTSIZE" => options.text_size = number,
                    "DATEFIRST" => options.date_first = u8::try_from(number).unwrap_or(7),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The statement's effect on `@name`, converted to its declared type.
    pub(crate) fn assign(
        &mut self,
        name: &str,
        ty: SqlType,
        value: Value,
    ) -> Result<(), SqlMessage> {
        let key = lower(name);
        let Some(declared) = self.variables.get(&key).map(|v| v.ty) else {
            return Err(messages::must_declare_variable(self.line, name));
        };
        let value = self.convert(value, ty, declared)?;
        if let Some(v) = self.variables.get_mut(&key) {
            v.value = value;
        }
        Ok(())
    }

    /// Text of a value, for names given through variables.
    pub(crate) fn evaluate_text(&mut self, e: &Expr) -> Result<String, SqlMessage> {
        let (ty, value) = self.evaluate(e)?;
        Ok(match value {
            Value::Null => String::new(),
            v => crate::resultset::value_text(&v, ty),
        })
    }

    pub(crate) fn evaluate_int(&mut self, e: &Expr) -> Result<i64, SqlMessage> {
        let (ty, value) = self.evaluate(e)?;
        match self.convert(value, ty, SqlType::BigInt)? {
            Value::Int(n) => Ok(n),
            _ => Ok(0),
        }
    }

    fn variable_text(&self, name: &str) -> Result<Option<String>, SqlMessage> {
        let v = self
            .variables
            .get(&lower(name))
            .ok_or_else(|| messages::must_declare_variable(self.line, name))?;
        Ok(match &v.value {
            Value::Null => None,
            value => Some(crate::resultset::value_text(value, v.ty)),
        })
    }

    fn substitute_backup(&mut self, backup: &mut BackupStatement) -> Result<(), SqlMessage> {
        for slot in std::mem::take(&mut backup.variables) {
            let text = self.variable_text(&slot.variable)?;
            backup.substitute(&slot.slot, text, self.line)?;
        }
        Ok(())
    }

    fn substitute_restore(&mut self, restore: &mut RestoreStatement) -> Result<(), SqlMessage> {
        for slot in std::mem::take(&mut restore.variables) {
            let text = self.variable_text(&slot.variable)?;
            restore.substitute(&slot.slot, text, self.line)?;
        }
        Ok(())
    }
}

/// A variable's value a BACKUP or RESTORE cannot take (3250, 3253, 241 …): the message,
/// then the operation's 3013, as when the statement runs. An undeclared variable (137) still
/// ends the batch.
fn fail_substitution(
    sink: &mut dyn OutputSink,
    m: SqlMessage,
    operation: messages::Operation,
) -> Outcome {
    if m.number == 137 {
        return Err(m);
    }
    let line = m.line;
    sink.message(m);
    sink.message(messages::terminating_abnormally(line, operation));
    Ok(Flow::Next)
}

/// BACKUP or RESTORE inside a user transaction: 3021, then the operation's 3013.
fn sink_fail_in_transaction(sink: &mut dyn OutputSink, line: u32, operation: messages::Operation) {
    sink.message(errors::backup_in_transaction(line));
    sink.message(messages::terminating_abnormally(line, operation));
}

/// A value as a literal expression (DBCC arguments are handed over evaluated).
fn value_literal(value: &Value, ty: SqlType) -> Expr {
    match value {
        Value::Null => Expr::Literal(Literal::Null),
        Value::Int(n) if ty.is_integer() => Expr::integer(*n),
        other => Expr::string(crate::resultset::value_text(other, ty)),
    }
}
