//! EXEC (procedures, with or without the keyword, and dynamic SQL), WAITFOR and DBCC.

use super::{Parsed, Parser};
use crate::ast::{Dbcc, Exec, ExecArgument, Expr, Literal, ObjectName, StatementKind, WaitFor};
use crate::lexer::TokenKind;
use crate::messages;
use crate::options;

impl Parser<'_> {
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
            && !self.at_label()
    }

    /// `name:`: a GOTO label starts the statement.
    pub(super) fn at_label(&self) -> bool {
        self.peek().is_some_and(|t| t.kind == TokenKind::Word)
            && self.peek_at(1).is_some_and(|t| t.is_symbol(':'))
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
    pub(super) fn workload(&mut self) -> Parsed<StatementKind> {
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
