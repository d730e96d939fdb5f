//! A recursive-descent parser over the lexer's tokens.
//!
//! Syntax errors (level 15) carry the line of the offending token; at the end of the batch,
//! the line of the last token, which SQL Server also names. Errors found while checking a
//! well-formed statement (level 16: bad option values, too many devices) carry the line the
//! statement starts on, where SQL Server reports errors raised while a statement runs.
//!
//! Submodules by statement family: [`expr`] and [`functions`] (expressions and conditions),
//! [`types`] (data types), [`query`] (SELECT), [`procedural`] (variables, SET options,
//! control flow, transactions, errors), [`exec`] (EXEC, WAITFOR, DBCC), [`ddl`] (databases),
//! [`security`] (logins, users, permissions), [`dml`] (tables), [`backup`] (BACKUP/RESTORE).

mod backup;
mod ddl;
mod dml;
mod exec;
mod expr;
mod functions;
mod procedural;
mod query;
mod security;
mod types;

#[cfg(test)]
mod tests;

use crate::ast::{ObjectName, Statement, StatementKind};
use crate::lexer::{Token, TokenKind, tokenize};
use crate::messages::{self, SqlMessage};

/// Parses one batch (the text between two `GO` lines) into its statements.
///
/// `first_line` is the number given to the first line of `text`: pass 1 for SQL Server's
/// batch-relative numbering (what sqlcmd prints), or [`crate::Batch::first_line`] for
/// script-relative numbering. A batch holding only comments gives no statements.
pub fn parse_batch(text: &str, first_line: u32) -> Result<Vec<Statement>, SqlMessage> {
    let tokens = tokenize(text, first_line)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        first_line,
        depth: 0,
        loops: 0,
    };
    parser.batch()
}

type Parsed<T> = Result<T, SqlMessage>;

/// How deep statements and expressions may nest before 191; keeps the parser's recursion far
/// from the end of a thread's stack.
const MAX_DEPTH: u32 = 48;

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    first_line: u32,
    /// Current nesting of statements, expressions and queries.
    depth: u32,
    /// Enclosing WHILE loops (BREAK and CONTINUE need one).
    loops: u32,
}

impl<'t> Parser<'t> {
    // ---- tokens --------------------------------------------------------------------------

    fn peek(&self) -> Option<&'t Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, offset: usize) -> Option<&'t Token> {
        self.tokens.get(self.pos + offset)
    }

    fn advance(&mut self) -> Option<&'t Token> {
        let token = self.tokens.get(self.pos)?;
        self.pos += 1;
        Some(token)
    }

    /// The line of the current token (or of the last one at the end of the batch).
    fn line(&self) -> u32 {
        self.peek()
            .or_else(|| self.tokens.last())
            .map_or(self.first_line, |t| t.line)
    }

    fn at_word(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(word))
    }

    fn at_word_at(&self, offset: usize, word: &str) -> bool {
        self.peek_at(offset).is_some_and(|t| t.is_word(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.at_word(word);
        if found {
            self.pos += 1;
        }
        found
    }

    /// Consumes `words` if the next tokens are exactly these words.
    fn eat_words(&mut self, words: &[&str]) -> bool {
        let found = words.iter().enumerate().all(|(i, w)| self.at_word_at(i, w));
        if found {
            self.pos += words.len();
        }
        found
    }

    fn at_symbol(&self, symbol: char) -> bool {
        self.peek().is_some_and(|t| t.is_symbol(symbol))
    }

    fn eat_symbol(&mut self, symbol: char) -> bool {
        let found = self.at_symbol(symbol);
        if found {
            self.pos += 1;
        }
        found
    }

    /// The syntax error at the current token, or at the last token when the batch has ended.
    fn unexpected(&self) -> SqlMessage {
        match self.peek().or_else(|| self.tokens.last()) {
            Some(token) => token.syntax_error(),
            None => messages::incorrect_syntax(self.first_line, ""),
        }
    }

    fn expect_word(&mut self, word: &str) -> Parsed<&'t Token> {
        match self.peek() {
            Some(token) if token.is_word(word) => {
                self.pos += 1;
                Ok(token)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn expect_symbol(&mut self, symbol: char) -> Parsed<()> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// Runs `f` one level deeper, or fails with 191 past [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        if self.depth >= MAX_DEPTH {
            return Err(messages::nested_too_deeply(self.line()));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    // ---- names and literals --------------------------------------------------------------

    /// A name: an unreserved word (including `#temp`), `[name]` or `"name"`.
    fn name(&mut self) -> Parsed<String> {
        match self.peek().and_then(Token::identifier) {
            Some(name) => {
                self.pos += 1;
                Ok(name.to_owned())
            }
            None => Err(self.unexpected()),
        }
    }

    /// A dotted name of 1 to 4 parts: `t`, `dbo.t`, `msdb.dbo.backupset`, `msdb..backupset`.
    fn object_name(&mut self) -> Parsed<ObjectName> {
        let mut parts = vec![self.name()?];
        while self.at_symbol('.') && parts.len() < 4 {
            self.pos += 1;
            if self.at_symbol('.') {
                parts.push(String::new());
            } else {
                parts.push(self.name()?);
            }
        }
        Ok(ObjectName { parts })
    }

    /// A table name, or a table variable `@t` (kept as a one-part name with its `@`).
    fn table_name(&mut self) -> Parsed<ObjectName> {
        match self.peek() {
            Some(t) if t.kind == TokenKind::Variable => {
                self.pos += 1;
                Ok(ObjectName::new([t.text.clone()]))
            }
            _ => self.object_name(),
        }
    }

    /// A name that may also be written as a string literal.
    fn name_or_string(&mut self) -> Parsed<String> {
        if let Some(Token {
            kind: TokenKind::String { value, .. },
            ..
        }) = self.peek()
        {
            self.pos += 1;
            return Ok(value.clone());
        }
        self.name()
    }

    /// A string literal (plain or N'…').
    fn string(&mut self) -> Parsed<String> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::String { value, .. },
                ..
            }) => {
                self.pos += 1;
                Ok(value.clone())
            }
            _ => Err(self.unexpected()),
        }
    }

    /// An optionally negative integer literal.
    fn integer(&mut self) -> Parsed<i64> {
        let negative = self.eat_symbol('-');
        match self.peek() {
            Some(t) if t.kind == TokenKind::Integer => {
                self.pos += 1;
                let value: i64 = t
                    .text
                    .parse()
                    .map_err(|_| messages::arithmetic_overflow_int(t.line))?;
                Ok(if negative { -value } else { value })
            }
            _ => Err(self.unexpected()),
        }
    }

    // ---- statements ----------------------------------------------------------------------

    fn batch(&mut self) -> Parsed<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            while self.eat_symbol(';') {}
            let Some(first) = self.peek() else {
                return Ok(statements);
            };
            let statement = if statements.is_empty() && self.at_bare_procedure() {
                // The first statement of a batch may name a procedure without EXEC.
                let kind = self.bare_procedure()?;
                Statement {
                    line: first.line,
                    kind,
                }
            } else {
                self.statement()?
            };
            statements.push(statement);
            self.end_of_statement()?;
        }
    }

    /// Statements up to (not including) `END`, for BEGIN…END, TRY and CATCH blocks.
    fn statements_until_end(&mut self) -> Parsed<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            while self.eat_symbol(';') {}
            if self.at_word("END") || self.peek().is_none() {
                return Ok(statements);
            }
            statements.push(self.statement()?);
            self.end_of_statement()?;
        }
    }

    /// After a statement: the batch ends, a `;` follows, or another statement starts. A
    /// reserved keyword is let through: the next statement reports it if it starts none.
    fn end_of_statement(&self) -> Parsed<()> {
        match self.peek() {
            None => Ok(()),
            Some(t) if t.is_symbol(';') => Ok(()),
            Some(t) if t.is_word("WITH") => Err(messages::with_needs_semicolon(t.line)),
            Some(t) if t.is_reserved_keyword() => Ok(()),
            Some(_) if self.at_label() => Ok(()),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn statement(&mut self) -> Parsed<Statement> {
        let Some(first) = self.peek() else {
            return Err(self.unexpected());
        };
        let line = first.line;
        let kind = self.nested(|p| p.statement_kind(line))?;
        Ok(Statement { line, kind })
    }

    fn statement_kind(&mut self, line: u32) -> Parsed<StatementKind> {
        let Some(first) = self.peek() else {
            return Err(self.unexpected());
        };
        if first.is_symbol('(') {
            // `(SELECT …) UNION (SELECT …)`
            return Ok(StatementKind::Select(self.query()?));
        }
        if first.kind != TokenKind::Word {
            return Err(self.unexpected());
        }
        if self.at_label() {
            // `label:`
            self.pos += 2;
            return Ok(StatementKind::Label(first.text.clone()));
        }
        match first.text.to_ascii_uppercase().as_str() {
            "SELECT" | "WITH" => Ok(StatementKind::Select(self.query()?)),
            "BACKUP" => self.backup(line).map(StatementKind::Backup),
            "RESTORE" => self.restore(line).map(StatementKind::Restore),
            "CREATE" => self.create(line),
            "DROP" => self.drop(),
            "ALTER" => self.alter(line),
            "USE" => {
                self.advance();
                let database = self.name()?;
                Ok(StatementKind::Use { database })
            }
            "PRINT" => {
                self.advance();
                Ok(StatementKind::PrintExpr(self.expr()?))
            }
            "WAITFOR" => self.waitfor(),
            "DBCC" => self.dbcc(),
            "CHECKPOINT" => {
                self.advance();
                if self.peek().is_some_and(|t| t.kind == TokenKind::Integer) {
                    self.advance();
                }
                Ok(StatementKind::Checkpoint)
            }
            "DECLARE" => self.declare(),
            "SET" => self.set(),
            "IF" => self.if_statement(),
            "WHILE" => self.while_statement(),
            "BREAK" | "CONTINUE" => self.break_continue(),
            "RETURN" => self.return_statement(),
            "BEGIN" => self.begin(),
            "RAISERROR" => self.raiserror(),
            "THROW" => self.throw(),
            "EXEC" | "EXECUTE" if self.at_word_at(1, "AS") => self.execute_as(),
            "EXEC" | "EXECUTE" => self.exec().map(StatementKind::Exec),
            "REVERT" => {
                self.advance();
                // `REVERT WITH COOKIE = @cookie`: the cookie is not checked.
                if self.eat_word("WITH") {
                    self.expect_word("COOKIE")?;
                    self.expect_symbol('=')?;
                    self.expr()?;
                }
                Ok(StatementKind::Revert)
            }
            "KILL" => self.kill(),
            "GOTO" => {
                self.advance();
                Ok(StatementKind::Goto(self.name()?))
            }
            "COMMIT" | "ROLLBACK" => self.commit_or_rollback(),
            "SAVE" => self.save_transaction(),
            "GRANT" | "DENY" | "REVOKE" => self.permission(),
            "INSERT" => self.insert(),
            "UPDATE" => self.update(),
            "DELETE" => self.delete(),
            "TRUNCATE" => self.truncate(),
            _ => Err(self.unexpected()),
        }
    }
}
