//! Batches as programs: DECLARE, SET, IF, WHILE, blocks, TRY/CATCH, RAISERROR, THROW, EXEC,
//! transactions, WAITFOR and DBCC.

use super::expr::compound_assignment;
use super::types::TypeContext;
use super::{Parsed, Parser};
use crate::ast::{
    BeginTransaction, Dbcc, Exec, ExecArgument, Expr, If, Literal, ObjectName, Raiserror,
    SetOption, SetOptionValue, SetVariable, StatementKind, Throw, TryCatch, VariableDeclaration,
    WaitFor, While,
};
use crate::lexer::{Token, TokenKind};
use crate::messages;
use crate::options;

/// SET options that take ON or OFF.
const ON_OFF_OPTIONS: &[&str] = &[
    "ANSI_DEFAULTS",
    "ANSI_NULL_DFLT_OFF",
    "ANSI_NULL_DFLT_ON",
    "ANSI_NULLS",
    "ANSI_PADDING",
    "ANSI_WARNINGS",
    "ARITHABORT",
    "ARITHIGNORE",
    "CONCAT_NULL_YIELDS_NULL",
    "CURSOR_CLOSE_ON_COMMIT",
    "FMTONLY",
    "FORCEPLAN",
    "IMPLICIT_TRANSACTIONS",
    "NO_BROWSETABLE",
    "NOCOUNT",
    "NOEXEC",
    "NUMERIC_ROUNDABORT",
    "PARSEONLY",
    "QUOTED_IDENTIFIER",
    "REMOTE_PROC_TRANSACTIONS",
    "SHOWPLAN_ALL",
    "SHOWPLAN_TEXT",
    "SHOWPLAN_XML",
    "XACT_ABORT",
];

/// SET options that take one value.
const VALUE_OPTIONS: &[&str] = &[
    "CONTEXT_INFO",
    "DATEFIRST",
    "DATEFORMAT",
    "DEADLOCK_PRIORITY",
    "FIPS_FLAGGER",
    "LANGUAGE",
    "LOCK_TIMEOUT",
    "QUERY_GOVERNOR_COST_LIMIT",
    "ROWCOUNT",
    "TEXTSIZE",
];

const ISOLATION_LEVELS: &[&[&str]] = &[
    &["READ", "UNCOMMITTED"],
    &["READ", "COMMITTED"],
    &["REPEATABLE", "READ"],
    &["SNAPSHOT"],
    &["SERIALIZABLE"],
];

const STATISTICS: &[&str] = &["IO", "TIME", "PROFILE", "XML"];

/// Whether a token can start a value (RETURN's and THROW's optional operands).
fn starts_value(token: Option<&Token>, next: Option<&Token>) -> bool {
    let Some(token) = token else {
        return false;
    };
    match &token.kind {
        TokenKind::Word => {
            token.is_word("NULL") || token.is_word("CASE") || next.is_some_and(|t| t.is_symbol('('))
        }
        TokenKind::Symbol(c) => matches!(c, '(' | '-' | '+' | '~'),
        TokenKind::Operator(_) | TokenKind::Other(_) => false,
        _ => true,
    }
}

impl Parser<'_> {
    // ---- variables -----------------------------------------------------------------------

    pub(super) fn declare(&mut self) -> Parsed<StatementKind> {
        self.expect_word("DECLARE")?;
        let mut declarations = Vec::new();
        loop {
            let Some(token) = self.peek() else {
                return Err(self.unexpected());
            };
            if token.kind != TokenKind::Variable {
                return Err(self.unexpected());
            }
            self.pos += 1;
            self.eat_word("AS");
            if self.at_word("TABLE") && declarations.is_empty() {
                self.pos += 1;
                let columns = self.column_definitions()?;
                return Ok(StatementKind::DeclareTable {
                    name: token.text.clone(),
                    columns,
                });
            }
            let ty = self.data_type(TypeContext::Variable(declarations.len() + 1))?;
            let initial = if self.eat_symbol('=') {
                Some(self.expr()?)
            } else {
                None
            };
            declarations.push(VariableDeclaration {
                name: token.text.clone(),
                ty,
                initial,
            });
            if !self.eat_symbol(',') {
                return Ok(StatementKind::Declare(declarations));
            }
        }
    }

    pub(super) fn set(&mut self) -> Parsed<StatementKind> {
        self.expect_word("SET")?;
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        match token.kind {
            TokenKind::Variable => {
                self.pos += 1;
                let op = match self.peek() {
                    Some(t) if t.is_symbol('=') => None,
                    Some(t) if compound_assignment(t).is_some() => compound_assignment(t),
                    _ => return Err(self.unexpected()),
                };
                self.pos += 1;
                Ok(StatementKind::SetVariable(SetVariable {
                    name: token.text.clone(),
                    op,
                    value: self.expr()?,
                }))
            }
            TokenKind::Word => self.set_option().map(StatementKind::SetOption),
            _ => Err(self.unexpected()),
        }
    }

    fn set_option(&mut self) -> Parsed<SetOption> {
        if self.eat_words(&["TRANSACTION", "ISOLATION", "LEVEL"]) {
            let Some(level) = ISOLATION_LEVELS
                .iter()
                .find(|l| l.iter().enumerate().all(|(i, w)| self.at_word_at(i, w)))
            else {
                return Err(self.unexpected());
            };
            self.pos += level.len();
            return Ok(SetOption {
                options: vec!["TRANSACTION ISOLATION LEVEL".to_owned()],
                value: SetOptionValue::Word(level.join(" ")),
            });
        }
        if self.eat_word("STATISTICS") {
            let mut options = Vec::new();
            loop {
                let Some(which) = STATISTICS.iter().find(|w| self.at_word(w)) else {
                    return Err(self.unexpected());
                };
                self.pos += 1;
                options.push(format!("STATISTICS {which}"));
                if !self.eat_symbol(',') {
                    break;
                }
            }
            let value = self.on_off()?;
            return Ok(SetOption { options, value });
        }
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let upper = token.text.to_ascii_uppercase();
        if VALUE_OPTIONS.contains(&upper.as_str()) {
            self.pos += 1;
            let value = self.set_option_value(&upper)?;
            return Ok(SetOption {
                options: vec![upper],
                value,
            });
        }
        // A list of ON/OFF options: `SET ANSI_NULLS, QUOTED_IDENTIFIER ON`.
        let mut options = Vec::new();
        let mut unknown = None;
        loop {
            let Some(token) = self.peek() else {
                return Err(self.unexpected());
            };
            if token.kind != TokenKind::Word {
                return Err(self.unexpected());
            }
            let upper = token.text.to_ascii_uppercase();
            if !ON_OFF_OPTIONS.contains(&upper.as_str()) && unknown.is_none() {
                unknown = Some(token);
            }
            self.pos += 1;
            options.push(upper);
            if !self.eat_symbol(',') {
                break;
            }
        }
        if let Some(name) = unknown {
            let state = match self.peek() {
                None => return Err(self.unexpected()),
                Some(t) if t.is_word("ON") || t.is_word("OFF") => 5,
                Some(_) => 7,
            };
            return Err(messages::unrecognized_set_option(
                name.line, &name.text, state,
            ));
        }
        let value = self.on_off()?;
        Ok(SetOption { options, value })
    }

    fn on_off(&mut self) -> Parsed<SetOptionValue> {
        if self.eat_word("ON") {
            Ok(SetOptionValue::On)
        } else if self.eat_word("OFF") {
            Ok(SetOptionValue::Off)
        } else {
            Err(self.unexpected())
        }
    }

    fn set_option_value(&mut self, option: &str) -> Parsed<SetOptionValue> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let word = |text: &str| {
            if option == "LANGUAGE" {
                text.to_owned()
            } else {
                text.to_ascii_uppercase()
            }
        };
        let value = match &token.kind {
            TokenKind::Variable => SetOptionValue::Number(self.expr()?),
            TokenKind::String { value, .. } if option != "CONTEXT_INFO" => {
                self.pos += 1;
                SetOptionValue::Word(word(value))
            }
            TokenKind::Word
            | TokenKind::BracketedIdentifier(_)
            | TokenKind::QuotedIdentifier(_)
                if option != "CONTEXT_INFO" =>
            {
                self.pos += 1;
                SetOptionValue::Word(word(token.near_text()))
            }
            _ => SetOptionValue::Number(self.expr()?),
        };
        Ok(value)
    }

    // ---- control flow --------------------------------------------------------------------

    pub(super) fn if_statement(&mut self) -> Parsed<StatementKind> {
        self.expect_word("IF")?;
        let condition = self.condition()?;
        let then = Box::new(self.statement()?);
        // `IF … stmt; ELSE …` is allowed: look past semicolons for ELSE.
        let before = self.pos;
        while self.eat_symbol(';') {}
        let otherwise = if self.eat_word("ELSE") {
            Some(Box::new(self.statement()?))
        } else {
            self.pos = before;
            None
        };
        Ok(StatementKind::If(If {
            condition,
            then,
            otherwise,
        }))
    }

    pub(super) fn while_statement(&mut self) -> Parsed<StatementKind> {
        self.expect_word("WHILE")?;
        let condition = self.condition()?;
        self.loops += 1;
        let body = self.statement();
        self.loops -= 1;
        Ok(StatementKind::While(While {
            condition,
            body: Box::new(body?),
        }))
    }

    pub(super) fn break_continue(&mut self) -> Parsed<StatementKind> {
        let Some(token) = self.advance() else {
            return Err(self.unexpected());
        };
        let is_break = token.is_word("BREAK");
        if self.loops == 0 {
            return Err(if is_break {
                messages::break_outside_while(token.line)
            } else {
                messages::continue_outside_while(token.line)
            });
        }
        Ok(if is_break {
            StatementKind::Break
        } else {
            StatementKind::Continue
        })
    }

    pub(super) fn return_statement(&mut self) -> Parsed<StatementKind> {
        self.expect_word("RETURN")?;
        let value = if starts_value(self.peek(), self.peek_at(1)) {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(StatementKind::Return(value))
    }

    /// BEGIN … END, BEGIN TRY, BEGIN TRAN, BEGIN DISTRIBUTED TRAN.
    pub(super) fn begin(&mut self) -> Parsed<StatementKind> {
        self.expect_word("BEGIN")?;
        if self.eat_word("DISTRIBUTED") && !(self.at_word("TRAN") || self.at_word("TRANSACTION")) {
            return Err(self.unexpected());
        }
        if self.eat_word("TRAN") || self.eat_word("TRANSACTION") {
            return self.begin_transaction();
        }
        if self.eat_word("TRY") {
            return self.try_catch();
        }
        if self.at_word("END") {
            return Err(self.unexpected());
        }
        let statements = self.statements_until_end()?;
        self.expect_word("END")?;
        Ok(StatementKind::Block(statements))
    }

    fn try_catch(&mut self) -> Parsed<StatementKind> {
        if self.at_word("END") {
            return Err(self.unexpected());
        }
        let body = self.statements_until_end()?;
        self.expect_word("END")?;
        self.expect_word("TRY")?;
        self.expect_word("BEGIN")?;
        self.expect_word("CATCH")?;
        let handler = self.statements_until_end()?;
        self.expect_word("END")?;
        self.expect_word("CATCH")?;
        Ok(StatementKind::TryCatch(TryCatch { body, handler }))
    }

    /// A transaction or savepoint name: a name (as a string) or a variable holding one.
    fn transaction_name(&mut self) -> Option<Expr> {
        let token = self.peek()?;
        let name = match &token.kind {
            TokenKind::Variable => Expr::Variable(token.text.clone()),
            _ => Expr::string(token.identifier()?),
        };
        self.pos += 1;
        Some(name)
    }

    fn begin_transaction(&mut self) -> Parsed<StatementKind> {
        let name = self.transaction_name();
        let mark = if name.is_some() && self.eat_words(&["WITH", "MARK"]) {
            match self.peek().map(|t| &t.kind) {
                Some(TokenKind::String { .. } | TokenKind::Variable) => Some(Some(self.expr()?)),
                _ => Some(None),
            }
        } else {
            None
        };
        Ok(StatementKind::BeginTransaction(BeginTransaction {
            name,
            mark,
        }))
    }

    /// `COMMIT|ROLLBACK [TRAN[SACTION] [name] | WORK]`; the name is not kept.
    pub(super) fn commit_or_rollback(&mut self) -> Parsed<StatementKind> {
        let commit = self.at_word("COMMIT");
        self.pos += 1;
        if self.eat_word("TRAN") || self.eat_word("TRANSACTION") {
            self.transaction_name();
        } else {
            self.eat_word("WORK");
        }
        Ok(if commit {
            StatementKind::Commit
        } else {
            StatementKind::Rollback
        })
    }

    pub(super) fn save_transaction(&mut self) -> Parsed<StatementKind> {
        self.expect_word("SAVE")?;
        if !(self.eat_word("TRAN") || self.eat_word("TRANSACTION")) {
            return Err(self.unexpected());
        }
        match self.transaction_name() {
            Some(name) => Ok(StatementKind::SaveTransaction(name)),
            None => Err(self.unexpected()),
        }
    }

    // ---- errors --------------------------------------------------------------------------

    pub(super) fn raiserror(&mut self) -> Parsed<StatementKind> {
        self.expect_word("RAISERROR")?;
        self.expect_symbol('(')?;
        let message = self.expr()?;
        self.expect_symbol(',')?;
        let severity = self.expr()?;
        self.expect_symbol(',')?;
        let state = self.expr()?;
        let mut args = Vec::new();
        while self.eat_symbol(',') {
            args.push(self.expr()?);
        }
        self.expect_symbol(')')?;
        let mut options = Vec::new();
        if self.eat_word("WITH") {
            loop {
                let Some(option) = ["LOG", "NOWAIT", "SETERROR"]
                    .iter()
                    .find(|w| self.at_word(w))
                else {
                    return Err(self.unexpected());
                };
                self.pos += 1;
                options.push((*option).to_owned());
                if !self.eat_symbol(',') {
                    break;
                }
            }
        }
        Ok(StatementKind::Raiserror(Raiserror {
            message,
            severity,
            state,
            args,
            options,
        }))
    }

    pub(super) fn throw(&mut self) -> Parsed<StatementKind> {
        self.expect_word("THROW")?;
        if !starts_value(self.peek(), self.peek_at(1)) {
            return Ok(StatementKind::Throw(Throw { error: None }));
        }
        let number = self.expr()?;
        self.expect_symbol(',')?;
        let message = self.expr()?;
        self.expect_symbol(',')?;
        let state = self.expr()?;
        Ok(StatementKind::Throw(Throw {
            error: Some((number, message, state)),
        }))
    }

    // ---- EXEC ----------------------------------------------------------------------------

    pub(super) fn exec(&mut self) -> Parsed<Exec> {
        self.pos += 1;
        if self.eat_symbol('(') {
            let sql = self.expr()?;
            self.expect_symbol(')')?;
            // EXEC (…) AS LOGIN|USER = 'name': the context switch is not emulated.
            if self.at_word("AS") && (self.at_word_at(1, "LOGIN") || self.at_word_at(1, "USER")) {
                self.pos += 2;
                self.expect_symbol('=')?;
                self.string()?;
            }
            return Ok(Exec::Dynamic(sql));
        }
        let return_variable = match (self.peek(), self.peek_at(1)) {
            (Some(v), Some(eq)) if v.kind == TokenKind::Variable && eq.is_symbol('=') => {
                self.pos += 2;
                Some(v.text.clone())
            }
            _ => None,
        };
        self.procedure_call(return_variable)
    }

    /// A procedure name (or a variable holding one) and its arguments.
    fn procedure_call(&mut self, return_variable: Option<String>) -> Parsed<Exec> {
        let procedure = match self.peek() {
            Some(t) if t.kind == TokenKind::Variable => {
                self.pos += 1;
                ObjectName::new([t.text.clone()])
            }
            _ => self.object_name()?,
        };
        let args = self.exec_arguments()?;
        if self.at_word("WITH") && self.at_word_at(1, "RECOMPILE") {
            self.pos += 2;
        }
        Ok(Exec::Procedure {
            return_variable,
            procedure,
            args,
        })
    }

    /// Whether the batch starts with a procedure name (EXEC may be left out there).
    pub(super) fn at_bare_procedure(&self) -> bool {
        self.peek()
            .is_some_and(|t| t.identifier().is_some() && !t.is_word("THROW"))
    }

    pub(super) fn bare_procedure(&mut self) -> Parsed<StatementKind> {
        self.procedure_call(None).map(StatementKind::Exec)
    }

    fn at_exec_argument(&self) -> bool {
        let Some(token) = self.peek() else {
            return false;
        };
        match &token.kind {
            TokenKind::Word => {
                token.identifier().is_some() || token.is_word("DEFAULT") || token.is_word("NULL")
            }
            TokenKind::Symbol(c) => matches!(c, '-' | '+'),
            TokenKind::Operator(_) | TokenKind::Other(_) => false,
            _ => true,
        }
    }

    fn exec_arguments(&mut self) -> Parsed<Vec<ExecArgument>> {
        let mut args = Vec::new();
        if !self.at_exec_argument() {
            return Ok(args);
        }
        loop {
            let name = match (self.peek(), self.peek_at(1)) {
                (Some(v), Some(eq)) if v.kind == TokenKind::Variable && eq.is_symbol('=') => {
                    self.pos += 2;
                    Some(v.text.clone())
                }
                _ => None,
            };
            let default = self.eat_word("DEFAULT");
            let value = if default {
                Expr::Literal(Literal::Null)
            } else {
                self.exec_value()?
            };
            let output = self.eat_word("OUTPUT") || self.eat_word("OUT");
            args.push(ExecArgument {
                name,
                value,
                output,
                default,
            });
            if !self.eat_symbol(',') {
                return Ok(args);
            }
        }
    }

    /// A procedure argument: a constant (optionally signed), a variable, or a bare name,
    /// which SQL Server takes as a string. Expressions are not allowed.
    fn exec_value(&mut self) -> Parsed<Expr> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        match &token.kind {
            TokenKind::Word if token.is_word("NULL") => {
                self.pos += 1;
                Ok(Expr::Literal(Literal::Null))
            }
            TokenKind::Word
            | TokenKind::BracketedIdentifier(_)
            | TokenKind::QuotedIdentifier(_) => {
                let name = self.name()?;
                Ok(Expr::string(name))
            }
            TokenKind::Symbol('-' | '+') => {
                let negate = token.is_symbol('-');
                self.pos += 1;
                let operand = self.exec_value()?;
                Ok(if negate {
                    Expr::Unary {
                        op: crate::ast::UnaryOp::Negate,
                        operand: Box::new(operand),
                    }
                } else {
                    operand
                })
            }
            TokenKind::Symbol(_) | TokenKind::Operator(_) | TokenKind::Other(_) => {
                Err(self.unexpected())
            }
            _ => self.expr_operand(),
        }
    }

    /// One literal or variable token as an expression.
    fn expr_operand(&mut self) -> Parsed<Expr> {
        let start = self.pos;
        let value = self.expr()?;
        // Only the single token is an argument; anything longer is an expression.
        if self.pos != start + 1 {
            self.pos = start + 1;
            return Err(self.unexpected());
        }
        Ok(value)
    }

    // ---- WAITFOR, DBCC -------------------------------------------------------------------

    pub(super) fn waitfor(&mut self) -> Parsed<StatementKind> {
        self.expect_word("WAITFOR")?;
        let delay = if self.eat_word("DELAY") {
            true
        } else if self.eat_word("TIME") {
            false
        } else {
            return Err(self.unexpected());
        };
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let value = self.expr()?;
        if let Expr::Literal(Literal::String { value: text, .. }) = &value
            && options::parse_time_of_day(text.trim()).is_none()
        {
            return Err(messages::incorrect_time_syntax(token.line, text));
        }
        Ok(StatementKind::WaitFor(if delay {
            WaitFor::Delay(value)
        } else {
            WaitFor::Time(value)
        }))
    }

    pub(super) fn dbcc(&mut self) -> Parsed<StatementKind> {
        self.expect_word("DBCC")?;
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        if token.kind != TokenKind::Word {
            return Err(self.unexpected());
        }
        let command = token.text.to_ascii_uppercase();
        if command == "VDISIM_WORKLOAD" {
            return self.workload();
        }
        self.pos += 1;
        let mut args = Vec::new();
        if self.eat_symbol('(') {
            if !self.at_symbol(')') {
                loop {
                    args.push(self.dbcc_argument()?);
                    if !self.eat_symbol(',') {
                        break;
                    }
                }
            }
            self.expect_symbol(')')?;
        }
        let mut options = Vec::new();
        if self.eat_word("WITH") {
            loop {
                let Some(option) = self.peek().filter(|t| t.kind == TokenKind::Word) else {
                    return Err(self.unexpected());
                };
                self.pos += 1;
                let mut text = option.text.to_ascii_uppercase();
                if self.eat_symbol('=') {
                    let Some(value) = self.advance() else {
                        return Err(self.unexpected());
                    };
                    text = format!("{text}={}", value.text.to_ascii_uppercase());
                }
                options.push(text);
                if !self.eat_symbol(',') {
                    break;
                }
            }
        }
        Ok(StatementKind::Dbcc(Dbcc {
            command,
            args,
            options,
        }))
    }

    /// A DBCC argument; a bare word (LOGSPACE, NOINDEX) is a string.
    fn dbcc_argument(&mut self) -> Parsed<Expr> {
        let bare = self.peek().is_some_and(|t| {
            t.kind == TokenKind::Word
                && t.identifier().is_some()
                && !self
                    .peek_at(1)
                    .is_some_and(|n| n.is_symbol('(') || n.is_symbol('.'))
        });
        if bare {
            return Ok(Expr::string(self.name()?));
        }
        self.expr()
    }

    /// `DBCC VDISIM_WORKLOAD ('database', pages)`: vdisim's extension that changes `pages`
    /// pages of a database (and logs them), so backup chains can be built from T-SQL.
    fn workload(&mut self) -> Parsed<StatementKind> {
        self.expect_word("VDISIM_WORKLOAD")?;
        self.expect_symbol('(')?;
        let database = self.name_or_string()?;
        self.expect_symbol(',')?;
        let line = self.line();
        let pages = self.integer()?;
        self.expect_symbol(')')?;
        let pages = u32::try_from(pages)
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or_else(|| messages::value_out_of_range(line, pages, "VDISIM_WORKLOAD pages"))?;
        Ok(StatementKind::Workload { database, pages })
    }
}
