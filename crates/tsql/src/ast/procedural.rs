//! Batches as programs: variables, control flow, procedures, transactions, SET options.

use serde::Serialize;

use super::Statement;
use super::expr::{BinaryOp, Expr, ObjectName};
use crate::value::SqlType;

/// `DECLARE @name type [= value]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableDeclaration {
    /// With the `@`, as written.
    pub name: String,
    pub ty: SqlType,
    pub initial: Option<Expr>,
}

/// `SET @v = x`, `SET @v += x`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetVariable {
    pub name: String,
    pub op: Option<BinaryOp>,
    pub value: Expr,
}

/// The value of a `SET option …` statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SetOptionValue {
    On,
    Off,
    /// `SET LANGUAGE us_english`, `SET DATEFORMAT mdy`, `SET DEADLOCK_PRIORITY LOW`,
    /// `SET TRANSACTION ISOLATION LEVEL READ COMMITTED` (the words after the option).
    Word(String),
    /// `SET LOCK_TIMEOUT 1000`, `SET TEXTSIZE 2147483647`, `SET ROWCOUNT 0`.
    Number(Expr),
}

/// `SET NOCOUNT ON`, `SET ANSI_NULLS, QUOTED_IDENTIFIER ON`, … Option names are upper-cased.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetOption {
    pub options: Vec<String>,
    pub value: SetOptionValue,
}

/// One argument of `EXEC proc …`: a constant, a variable, or a bare name (which SQL Server
/// takes as a string, and the parser gives as a string literal).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecArgument {
    /// `@name = value`: the parameter name with its `@`.
    pub name: Option<String>,
    pub value: Expr,
    /// `@v OUTPUT`
    pub output: bool,
    /// `DEFAULT` given as the value (`value` is then NULL).
    pub default: bool,
}

/// `EXEC [@ret =] proc [args]`, `EXEC ('dynamic sql')`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Exec {
    Procedure {
        /// `@rc = ` before the procedure name.
        return_variable: Option<String>,
        /// `msdb.dbo.sp_delete_backuphistory`, `sp_executesql`, …; `EXEC @p` (the procedure
        /// named by a variable) is the one part `@p`.
        procedure: ObjectName,
        args: Vec<ExecArgument>,
    },
    /// `EXEC (expr [+ expr …])`: the string is parsed and run as a batch of its own.
    Dynamic(Expr),
}

/// `RAISERROR (msg, severity, state [, args …]) [WITH LOG|NOWAIT|SETERROR]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Raiserror {
    pub message: Expr,
    pub severity: Expr,
    pub state: Expr,
    pub args: Vec<Expr>,
    /// Upper-cased WITH options.
    pub options: Vec<String>,
}

/// `THROW number, message, state` or a bare `THROW` (rethrow, only inside CATCH).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throw {
    pub error: Option<(Expr, Expr, Expr)>,
}

/// `BEGIN TRAN[SACTION] [name [WITH MARK ['description']]]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BeginTransaction {
    /// A name or a variable holding one.
    pub name: Option<Expr>,
    /// `WITH MARK` was given: the description, if any.
    pub mark: Option<Option<Expr>>,
}

/// `WAITFOR DELAY 'hh:mm:ss[.mmm]'` or `WAITFOR TIME 'hh:mm:ss'`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum WaitFor {
    Delay(Expr),
    Time(Expr),
}

/// `IF cond stmt [ELSE stmt]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct If {
    pub condition: Expr,
    pub then: Box<Statement>,
    pub otherwise: Option<Box<Statement>>,
}

/// `WHILE cond stmt`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct While {
    pub condition: Expr,
    pub body: Box<Statement>,
}

/// `BEGIN TRY … END TRY BEGIN CATCH … END CATCH`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TryCatch {
    pub body: Vec<Statement>,
    pub handler: Vec<Statement>,
}

/// `DBCC NAME [(args)] [WITH options]`: SQLPERF(LOGSPACE), CHECKDB, VDISIM_WORKLOAD…
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dbcc {
    /// Upper-cased.
    pub command: String,
    /// Arguments; a bare word such as LOGSPACE is a string literal here.
    pub args: Vec<Expr>,
    /// Upper-cased WITH options (NO_INFOMSGS, ALL_ERRORMSGS, …).
    pub options: Vec<String>,
}

/// `DECLARE name CURSOR [LOCAL|GLOBAL] [FORWARD_ONLY|SCROLL] [STATIC|KEYSET|DYNAMIC|FAST_FORWARD]
/// [READ_ONLY|SCROLL_LOCKS|OPTIMISTIC] FOR select`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeclareCursor {
    pub name: String,
    /// Upper-cased option words, in statement order.
    pub options: Vec<String>,
    pub query: super::query::Query,
}

/// `FETCH [NEXT|PRIOR|FIRST|LAST|ABSOLUTE n|RELATIVE n FROM] cursor [INTO @a, …]`
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fetch {
    /// Upper-cased: `NEXT` when not written.
    pub direction: String,
    /// The row number of ABSOLUTE and RELATIVE.
    pub offset: Option<Expr>,
    /// A cursor name, or a cursor variable with its `@`.
    pub cursor: String,
    /// Variables with their `@`.
    pub into: Vec<String>,
}
