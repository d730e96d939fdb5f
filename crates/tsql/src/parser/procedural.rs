//! Batches as programs: DECLARE, SET (variables and options), IF, WHILE, blocks, TRY/CATCH,
//! RAISERROR, THROW and transactions.

use super::expr::compound_assignment;
use super::types::TypeContext;
use super::{Parsed, Parser};
use crate::ast::{
    BeginTransaction, Expr, If, Raiserror, SetOption, SetOptionValue, SetVariable, StatementKind,
    Throw, TryCatch, VariableDeclaration, While,
};
use crate::lexer::{Token, TokenKind};
use crate::messages;

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
        if self.at_cursor_declaration() {
            return self.declare_cursor();
        }
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
        // COMMIT … WITH (DELAYED_DURABILITY = ON): durability is not emulated.
        if commit && self.at_word("WITH") && self.peek_at(1).is_some_and(|t| t.is_symbol('(')) {
            self.pos += 1;
            self.skip_parenthesized()?;
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
}
