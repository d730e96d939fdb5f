//! Expression evaluation and the built-in scalar functions.
//!
//! The interpreter implements [`Environment`] (variables, `@@` values, catalog functions,
//! tables, the clock) and calls [`evaluate`], [`condition`] or [`type_of`]; queries run through
//! [`crate::query::run`], which evaluates its expressions here against each row.
//!
//! Every value carries its static type: the type of an expression never depends on the row
//! (CASE converts the branch it takes to the type of all branches), so result-set columns get
//! SQL Server's declared types. Types are found by evaluating in *type-only* mode, where every
//! column and variable reads as NULL of its type and nothing with side effects runs.

mod arith;
pub mod errors;
mod expr;
mod functions;
mod like;
mod nullability;
mod scope;
pub mod types;

use crate::ast::{Expr, ObjectName};
use crate::messages::SqlMessage;
use crate::value::{DateTime, SqlType, Table, Value};

pub(crate) use arith::binary as binary_op;
pub(crate) use expr::is_null_literal;
pub use functions::{aggregate_type, is_aggregate_name, is_ranking_name};
pub use like::like_match;
pub use nullability::nullable;
pub use scope::{Computed, RowScope, SourceColumn, node_key};

/// A value with its static type.
pub type Typed = (SqlType, Value);

/// What the evaluator asks of the session that runs it. Names are as written, with their `@`
/// (`@v`, `@@SPID`); the implementation compares them case-insensitively.
pub trait Environment {
    /// A declared variable's type and value; `None` if not declared (137).
    fn variable(&self, name: &str) -> Option<Typed>;

    /// `@@SPID`, `@@VERSION`, `@@ROWCOUNT`, `@@IDENTITY` …, upper-cased with the `@@`;
    /// `None` if unknown (137). The evaluator also reads `@@DATEFIRST` (DATEPART weekday and
    /// week, DATETRUNC week; 7 when absent) and `SCOPE_IDENTITY()` reads `@@SCOPE_IDENTITY`,
    /// else `@@IDENTITY`.
    fn system_variable(&self, name: &str) -> Option<Typed>;

    /// A function the evaluator does not know itself (SERVERPROPERTY, DB_ID, OBJECT_ID,
    /// DATABASEPROPERTYEX, SUSER_SNAME, `sys.fn_hadr_backup_is_preferred_replica` …), name
    /// upper-cased. `None` means no such function (195). To learn a result type the evaluator
    /// may call it with NULL arguments, so it must have no side effects.
    fn server_function(
        &mut self,
        schema: Option<&str>,
        name: &str,
        args: &[Typed],
    ) -> Option<Result<Typed, SqlMessage>>;

    /// A table, view, catalog view, msdb table or temporary table for FROM; `Err` (208) if
    /// there is none.
    fn table(&mut self, name: &ObjectName) -> Result<Table, SqlMessage>;

    /// A table-valued function in FROM.
    fn table_function(&mut self, name: &ObjectName, args: &[Typed]) -> Result<Table, SqlMessage> {
        let _ = args;
        Err(crate::messages::invalid_object(0, &name.display()))
    }

    /// Local time (GETDATE, SYSDATETIME).
    fn now(&self) -> DateTime;

    /// UTC (GETUTCDATE, SYSUTCDATETIME).
    fn utc_now(&self) -> DateTime;

    /// Randomness for NEWID.
    fn random_u128(&mut self) -> u128;

    /// The error being handled, inside a CATCH block (ERROR_NUMBER, ERROR_MESSAGE …).
    fn caught_error(&self) -> Option<SqlMessage> {
        None
    }
}

/// Expressions nest at most this deep (SQL Server's 191 past its own limit).
const MAX_DEPTH: u32 = 256;

/// The evaluator: the environment, variables assigned by the running `SELECT @v = …`, and the
/// mode (values, or types only).
pub(crate) struct Evaluator<'e> {
    pub(crate) env: &'e mut dyn Environment,
    /// Values assigned so far by `SELECT @v = …` (read before the environment's).
    pub(crate) assigned: Vec<(String, Typed)>,
    pub(crate) type_only: bool,
    /// The common table expressions in scope, innermost last.
    pub(crate) ctes: Vec<crate::query::CteBinding>,
    depth: u32,
}

impl std::fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("type_only", &self.type_only)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

impl<'e> Evaluator<'e> {
    pub(crate) fn new(env: &'e mut dyn Environment) -> Self {
        Evaluator {
            env,
            assigned: Vec::new(),
            type_only: false,
            ctes: Vec::new(),
            depth: 0,
        }
    }

    /// Evaluates an expression against a row.
    pub(crate) fn eval(&mut self, expr: &Expr, scope: &RowScope) -> Result<Typed, SqlMessage> {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep());
        }
        self.depth += 1;
        let result = self.eval_node(expr, scope);
        self.depth -= 1;
        result
    }

    /// The static type of an expression (and the value NULL).
    pub(crate) fn type_of(&mut self, expr: &Expr, scope: &RowScope) -> Result<SqlType, SqlMessage> {
        let saved = self.type_only;
        self.type_only = true;
        let result = self.eval(expr, scope);
        self.type_only = saved;
        result.map(|(ty, _)| ty)
    }

    /// Runs `f` in type-only mode.
    pub(crate) fn typing<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, SqlMessage>,
    ) -> Result<T, SqlMessage> {
        let saved = self.type_only;
        self.type_only = true;
        let result = f(self);
        self.type_only = saved;
        result
    }

    /// A variable's type and value, assignments of the running SELECT first.
    pub(crate) fn variable(&self, name: &str) -> Result<Typed, SqlMessage> {
        let declared = self
            .env
            .variable(name)
            .ok_or_else(|| errors::must_declare_variable(name))?;
        if let Some((_, v)) = self
            .assigned
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Ok(v.clone());
        }
        Ok(if self.type_only {
            (declared.0, Value::Null)
        } else {
            declared
        })
    }
}

/// 191
fn too_deep() -> SqlMessage {
    SqlMessage::new(
        191,
        15,
        1,
        0,
        "Some part of your SQL statement is nested too deeply. Rewrite the query or break it up into smaller queries.",
    )
}

/// Evaluates an expression that refers to no columns (`SELECT 1 + 1`, `SET @v = …`).
pub fn evaluate(expr: &Expr, env: &mut dyn Environment) -> Result<Typed, SqlMessage> {
    Evaluator::new(env).eval(expr, &RowScope::EMPTY)
}

/// Evaluates an expression against a row of columns.
pub fn evaluate_in(
    expr: &Expr,
    scope: &RowScope,
    env: &mut dyn Environment,
) -> Result<Typed, SqlMessage> {
    Evaluator::new(env).eval(expr, scope)
}

/// A search condition (IF, WHILE, WHERE): `Some(true)`, `Some(false)` or unknown (`None`).
pub fn condition(expr: &Expr, env: &mut dyn Environment) -> Result<Option<bool>, SqlMessage> {
    Evaluator::new(env).truth(expr, &RowScope::EMPTY)
}

/// The static type of an expression with no columns, and whether it can be NULL.
pub fn type_of(expr: &Expr, env: &mut dyn Environment) -> Result<(SqlType, bool), SqlMessage> {
    let scope = RowScope::EMPTY;
    let ty = Evaluator::new(env).type_of(expr, &scope)?;
    Ok((ty, nullable(expr, &scope)))
}

#[cfg(test)]
pub(crate) mod testenv;
#[cfg(test)]
mod tests;
