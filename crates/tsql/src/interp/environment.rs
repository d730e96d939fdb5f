//! What expressions and queries see while a batch runs: its variables, the session's
//! system variables, the catalog through the host's snapshot, and temporary tables.

use super::lower;
use super::statements::{Flow, Outcome, Run};
use crate::ast::Expr;
use crate::ast::{ObjectName, Query};
use crate::catalog::{FunctionContext, ServerSnapshot, SessionInfo};
use crate::eval::Environment;
use crate::messages::SqlMessage;
use crate::output::OutputSink;
use crate::value::{DateTime, SqlType, Table, Value};

impl Run<'_> {
    /// The host's snapshot, taken once per statement.
    pub(crate) fn snapshot(&mut self) -> &ServerSnapshot {
        if self.snapshot.is_none() {
            self.snapshot = Some(self.host.snapshot());
        }
        self.snapshot.as_ref().expect("just filled")
    }

    /// Whether `name` is an msdb table vdisim keeps empty, which DELETE may name.
    pub(crate) fn is_deletable_empty(&mut self, name: &ObjectName) -> bool {
        let database = self.host.session().database;
        crate::catalog::deletable_empty_table(name, &database, self.snapshot())
    }

    /// The session as the catalog's functions see it.
    pub(crate) fn session_info(&self) -> SessionInfo {
        let s = self.host.session();
        let mut info = SessionInfo::new(
            i16::try_from(s.spid).unwrap_or(i16::MAX),
            &s.login,
            &s.database,
            self.host.now().0,
        );
        info.host_name = s.host_name;
        info.program_name = s.program_name;
        info.open_transaction_count = i32::try_from(self.state.transaction_count).unwrap_or(0);
        info
    }

    pub(crate) fn evaluate(&mut self, expr: &Expr) -> Result<(SqlType, Value), SqlMessage> {
        let line = self.line;
        crate::eval::evaluate(expr, &mut Scope::new(self)).map_err(|m| super::stamp(m, line))
    }

    /// A condition: NULL counts as false.
    pub(crate) fn condition(&mut self, expr: &Expr) -> Result<bool, SqlMessage> {
        let line = self.line;
        crate::eval::condition(expr, &mut Scope::new(self))
            .map(|b| b == Some(true))
            .map_err(|m| super::stamp(m, line))
    }

    /// An assignment's conversion to a declared type.
    pub(crate) fn convert(
        &self,
        value: Value,
        from: SqlType,
        to: SqlType,
    ) -> Result<Value, SqlMessage> {
        crate::value::convert::implicit(&value, from, to).map_err(|m| super::stamp(m, self.line))
    }

    pub(crate) fn run_query(&mut self, query: &Query) -> Result<Table, SqlMessage> {
        let line = self.line;
        let result =
            crate::query::run(query, &mut Scope::new(self)).map_err(|m| super::stamp(m, line))?;
        Ok(result.table)
    }

    pub(crate) fn select(&mut self, query: &Query, sink: &mut dyn OutputSink) -> Outcome {
        let line = self.line;
        let result =
            crate::query::run(query, &mut Scope::new(self)).map_err(|m| super::stamp(m, line))?;
        let rows = result.table.rows.len();
        self.state.row_count = i64::try_from(rows).unwrap_or(i64::MAX);
        for message in result.messages {
            sink.message(super::stamp(message, line));
        }
        let assigns = matches!(&query.body, crate::ast::QueryBody::Select(select)
            if select.items.iter().any(|i| matches!(i, crate::ast::SelectItem::Assign { .. })));
        if assigns {
            // Already converted to each variable's type by the query.
            for (name, value) in result.assignments {
                if let Some(v) = self.variables.get_mut(&super::lower(&name)) {
                    v.value = value;
                }
            }
            return Ok(Flow::Next);
        }
        if let crate::ast::QueryBody::Select(select) = &query.body
            && let Some(into) = &select.into
        {
            self.select_into(into, result.table)?;
        } else {
            sink.result_set(result.table);
        }
        if !self.state.options.nocount {
            sink.rows_affected(rows as u64);
        }
        Ok(Flow::Next)
    }
}

/// The evaluator's view of a running batch.
struct Scope<'r, 'a> {
    run: &'r mut Run<'a>,
    /// The server's state, read at most once per evaluation.
    snapshot: std::cell::OnceCell<ServerSnapshot>,
}

impl<'r, 'a> Scope<'r, 'a> {
    fn new(run: &'r mut Run<'a>) -> Self {
        let snapshot = std::cell::OnceCell::new();
        if let Some(s) = run.snapshot.take() {
            let _ = snapshot.set(s);
        }
        Scope { run, snapshot }
    }

    fn snapshot(&self) -> &ServerSnapshot {
        self.snapshot.get_or_init(|| self.run.host.snapshot())
    }

    fn with_context<T>(&self, f: impl FnOnce(&FunctionContext<'_>) -> T) -> T {
        let session = self.run.session_info();
        let snapshot = self.snapshot();
        let mut context = FunctionContext::for_session(snapshot, &session);
        // Under EXECUTE AS the server's list still has the login that connected.
        if let Some(connected) = snapshot.session(session.session_id) {
            context.original_login = &connected.login_name;
        }
        f(&context)
    }
}

impl Drop for Scope<'_, '_> {
    fn drop(&mut self) {
        // Keep the snapshot for the rest of the statement.
        if let Some(s) = self.snapshot.take() {
            self.run.snapshot = Some(s);
        }
    }
}

impl Environment for Scope<'_, '_> {
    fn variable(&self, name: &str) -> Option<(SqlType, Value)> {
        self.run
            .variables
            .get(&lower(name))
            .filter(|v| !v.is_table())
            .map(|v| (v.ty, v.value.clone()))
    }

    fn system_variable(&self, name: &str) -> Option<(SqlType, Value)> {
        let state = &self.run.state;
        let int = |n: i64| Some((SqlType::Int, Value::Int(n)));
        match name.to_ascii_uppercase().trim_start_matches('@') {
            "ERROR" => int(i64::from(state.error)),
            "ROWCOUNT" => int(state.row_count),
            "TRANCOUNT" => int(i64::from(state.transaction_count)),
            "IDENTITY" => Some((
                SqlType::Decimal {
                    precision: 38,
                    scale: 0,
                },
                state.identity.map_or(Value::Null, |n| {
                    Value::Decimal(crate::value::Decimal {
                        mantissa: i128::from(n),
                        scale: 0,
                    })
                }),
            )),
            "NESTLEVEL" => int(0),
            "LOCK_TIMEOUT" => int(state.options.lock_timeout),
            "TEXTSIZE" => int(state.options.text_size),
            "DATEFIRST" => Some((
                SqlType::TinyInt,
                Value::Int(i64::from(state.options.date_first)),
            )),
            "LANGUAGE" => Some((
                SqlType::NVarChar(Some(128)),
                Value::text(state.options.language.clone()),
            )),
            "FETCH_STATUS" => int(-1),
            "OPTIONS" => int(options_bits(&state.options)),
            _ => self.with_context(|c| crate::catalog::functions::system_variable(name, c)),
        }
    }

    fn server_function(
        &mut self,
        schema: Option<&str>,
        name: &str,
        args: &[(SqlType, Value)],
    ) -> Option<Result<(SqlType, Value), SqlMessage>> {
        let upper = name.to_ascii_uppercase();
        if upper == "XACT_STATE" {
            let n = i64::from(self.run.state.transaction_count > 0);
            return Some(Ok((SqlType::SmallInt, Value::Int(n))));
        }
        let qualified = match schema {
            Some(s) => format!("{s}.{name}"),
            None => name.to_owned(),
        };
        self.with_context(|c| crate::catalog::functions::call(&qualified, args, c))
    }

    fn caught_error(&self) -> Option<SqlMessage> {
        self.run.caught.last().map(|e| {
            let mut m = SqlMessage::new(
                u32::try_from(e.number).unwrap_or(0),
                u8::try_from(e.severity).unwrap_or(16),
                u8::try_from(e.state).unwrap_or(1),
                u32::try_from(e.line).unwrap_or(0),
                e.message.clone(),
            );
            m.procedure.clone_from(&e.procedure);
            m
        })
    }

    fn table(&mut self, name: &ObjectName) -> Result<Table, SqlMessage> {
        if let Some((_, table)) = self
            .run
            .shadow_tables
            .iter()
            .rev()
            .find(|(n, _)| n.name().eq_ignore_ascii_case(name.name()) && name.parts.len() == 1)
        {
            return Ok(table.clone());
        }
        if let Some(table) = self.run.local_table(name) {
            return Ok(table);
        }
        if name.parts.len() == 1 && name.name().starts_with('@') {
            return Err(super::errors::must_declare_table_variable(
                self.run.line,
                name.name(),
            ));
        }
        let line = self.run.line;
        let database = self.run.host.session().database;
        match crate::catalog::system_table(name, &database, self.snapshot()) {
            Some(result) => result,
            None => Err(crate::messages::invalid_object(line, &name.display())),
        }
    }

    fn table_function(
        &mut self,
        name: &ObjectName,
        args: &[(SqlType, Value)],
    ) -> Result<Table, SqlMessage> {
        let line = self.run.line;
        let database = self.run.host.session().database;
        match crate::catalog::system_function_table(name, args, &database, self.snapshot()) {
            Some(result) => result.map_err(|m| super::stamp(m, line)),
            None => Err(crate::messages::invalid_object(line, &name.display())),
        }
    }

    fn now(&self) -> DateTime {
        self.run.host.now().0
    }

    fn utc_now(&self) -> DateTime {
        self.run.host.now().1
    }

    fn random_u128(&mut self) -> u128 {
        self.run.host.random_u128()
    }
}

/// `@@OPTIONS`: the bits of the user options that are on.
fn options_bits(options: &super::SessionOptions) -> i64 {
    const BITS: &[(&str, i64)] = &[
        ("DISABLE_DEF_CNST_CHK", 1),
        ("IMPLICIT_TRANSACTIONS", 2),
        ("CURSOR_CLOSE_ON_COMMIT", 4),
        ("ANSI_WARNINGS", 8),
        ("ANSI_PADDING", 16),
        ("ANSI_NULLS", 32),
        ("ARITHABORT", 64),
        ("ARITHIGNORE", 128),
        ("QUOTED_IDENTIFIER", 256),
        ("NOCOUNT", 512),
        ("ANSI_NULL_DFLT_ON", 1024),
        ("ANSI_NULL_DFLT_OFF", 2048),
        ("CONCAT_NULL_YIELDS_NULL", 4096),
        ("NUMERIC_ROUNDABORT", 8192),
        ("XACT_ABORT", 16384),
    ];
    BITS.iter()
        .filter(|(name, _)| options.switches.get(*name).copied().unwrap_or(false))
        .map(|(_, bit)| bit)
        .sum()
}
