//! Cursors: DECLARE … CURSOR, OPEN, FETCH, CLOSE, DEALLOCATE.

use super::{Parsed, Parser};
use crate::ast::{DeclareCursor, Fetch, StatementKind};
use crate::lexer::TokenKind;

/// Cursor options written before CURSOR (ISO syntax) or after it (T-SQL syntax).
const OPTIONS: &[&str] = &[
    "INSENSITIVE",
    "SCROLL",
    "LOCAL",
    "GLOBAL",
    "FORWARD_ONLY",
    "STATIC",
    "KEYSET",
    "DYNAMIC",
    "FAST_FORWARD",
    "READ_ONLY",
    "SCROLL_LOCKS",
    "OPTIMISTIC",
    "TYPE_WARNING",
];

impl Parser<'_> {
    /// Whether `DECLARE` is followed by a cursor's name (not a variable).
    pub(super) fn at_cursor_declaration(&self) -> bool {
        self.peek().and_then(|t| t.identifier()).is_some()
            && (1..4).any(|i| self.at_word_at(i, "CURSOR"))
    }

    /// `name [options] CURSOR [options] FOR select [FOR READ ONLY | FOR UPDATE [OF …]]`
    /// (DECLARE is read).
    pub(super) fn declare_cursor(&mut self) -> Parsed<StatementKind> {
        let name = self.name()?;
        let mut options = Vec::new();
        let mut seen_cursor = false;
        loop {
            if !seen_cursor && self.eat_word("CURSOR") {
                seen_cursor = true;
                continue;
            }
            let Some(option) = OPTIONS.iter().find(|o| self.at_word(o)) else {
                break;
            };
            self.pos += 1;
            options.push((*option).to_owned());
        }
        if !seen_cursor {
            return Err(self.unexpected());
        }
        self.expect_word("FOR")?;
        let query = self.query()?;
        if self.eat_word("FOR") {
            if self.eat_word("UPDATE") {
                if self.eat_word("OF") {
                    self.name()?;
                    while self.eat_symbol(',') {
                        self.name()?;
                    }
                }
            } else {
                self.expect_word("READ")?;
                self.expect_word("ONLY")?;
            }
        }
        Ok(StatementKind::DeclareCursor(DeclareCursor {
            name,
            options,
            query,
        }))
    }

    /// `[GLOBAL] name` or a cursor variable.
    fn cursor_name(&mut self) -> Parsed<String> {
        if let Some(t) = self.peek().filter(|t| t.kind == TokenKind::Variable) {
            self.pos += 1;
            return Ok(t.text.clone());
        }
        if self.at_word("GLOBAL") && self.peek_at(1).and_then(|t| t.identifier()).is_some() {
            self.pos += 1;
        }
        self.name()
    }

    /// OPEN, CLOSE and DEALLOCATE.
    pub(super) fn cursor_command(&mut self) -> Parsed<StatementKind> {
        let Some(verb) = self.advance() else {
            return Err(self.unexpected());
        };
        let name = self.cursor_name()?;
        Ok(if verb.is_word("OPEN") {
            StatementKind::OpenCursor(name)
        } else if verb.is_word("CLOSE") {
            StatementKind::CloseCursor(name)
        } else {
            StatementKind::DeallocateCursor(name)
        })
    }

    pub(super) fn fetch(&mut self) -> Parsed<StatementKind> {
        self.expect_word("FETCH")?;
        let mut direction = "NEXT".to_owned();
        let mut offset = None;
        let word = ["NEXT", "PRIOR", "FIRST", "LAST", "ABSOLUTE", "RELATIVE"]
            .iter()
            .find(|w| self.at_word(w));
        if let Some(word) = word {
            self.pos += 1;
            direction = (*word).to_owned();
            if matches!(*word, "ABSOLUTE" | "RELATIVE") {
                offset = Some(self.expr()?);
            }
            self.expect_word("FROM")?;
        } else {
            self.eat_word("FROM");
        }
        let cursor = self.cursor_name()?;
        let mut into = Vec::new();
        if self.eat_word("INTO") {
            loop {
                match self.peek() {
                    Some(t) if t.kind == TokenKind::Variable => {
                        self.pos += 1;
                        into.push(t.text.clone());
                    }
                    _ => return Err(self.unexpected()),
                }
                if !self.eat_symbol(',') {
                    break;
                }
            }
        }
        Ok(StatementKind::Fetch(Fetch {
            direction,
            offset,
            cursor,
            into,
        }))
    }
}
