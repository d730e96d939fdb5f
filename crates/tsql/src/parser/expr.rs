//! Expressions and search conditions, with SQL Server's precedence: `~` and unary signs,
//! then `* / %`, then `+ - & ^ |`, then comparisons, `NOT`, `AND`, and `OR` with the
//! predicates (`BETWEEN`, `IN`, `LIKE`, `ALL`/`ANY`/`SOME`).
//!
//! A value expression ([`Parser::expr`]) has no comparisons: `SELECT 1 = 1` is 102 near `=`,
//! as in SQL Server. A search condition ([`Parser::condition`]) must be a predicate, or 4145.

use super::{Parsed, Parser};
use crate::ast::{BinaryOp, Expr, Literal, UnaryOp};
use crate::lexer::{Token, TokenKind};
use crate::messages;

/// The most digits of a numeric literal (decimal(38)).
const MAX_DIGITS: usize = 38;

/// Whether an expression is a condition (true/false/unknown) rather than a value.
pub(super) fn is_predicate(expr: &Expr) -> bool {
    match expr {
        Expr::Binary { op, .. } => matches!(
            op,
            BinaryOp::Equal
                | BinaryOp::NotEqual
                | BinaryOp::Less
                | BinaryOp::LessOrEqual
                | BinaryOp::Greater
                | BinaryOp::GreaterOrEqual
                | BinaryOp::NotLess
                | BinaryOp::NotGreater
                | BinaryOp::And
                | BinaryOp::Or
        ),
        Expr::Unary {
            op: UnaryOp::Not, ..
        }
        | Expr::IsNull { .. }
        | Expr::Like { .. }
        | Expr::Between { .. }
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Quantified { .. }
        | Expr::Exists(_) => true,
        _ => false,
    }
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    }
}

/// The compound assignment operators (`+=` …) and the operation each applies.
pub(super) fn compound_assignment(token: &Token) -> Option<BinaryOp> {
    let TokenKind::Operator(op) = token.kind else {
        return None;
    };
    Some(match op {
        "+=" => BinaryOp::Add,
        "-=" => BinaryOp::Subtract,
        "*=" => BinaryOp::Multiply,
        "/=" => BinaryOp::Divide,
        "%=" => BinaryOp::Modulo,
        "&=" => BinaryOp::BitAnd,
        "|=" => BinaryOp::BitOr,
        "^=" => BinaryOp::BitXor,
        _ => return None,
    })
}

fn comparison(token: &Token) -> Option<BinaryOp> {
    match token.kind {
        TokenKind::Symbol('=') => Some(BinaryOp::Equal),
        TokenKind::Symbol('<') => Some(BinaryOp::Less),
        TokenKind::Symbol('>') => Some(BinaryOp::Greater),
        TokenKind::Operator("<>" | "!=") => Some(BinaryOp::NotEqual),
        TokenKind::Operator("<=") => Some(BinaryOp::LessOrEqual),
        TokenKind::Operator(">=") => Some(BinaryOp::GreaterOrEqual),
        TokenKind::Operator("!<") => Some(BinaryOp::NotLess),
        TokenKind::Operator("!>") => Some(BinaryOp::NotGreater),
        _ => None,
    }
}

/// `0x0A0B` → bytes; an odd number of digits has an implied leading zero.
fn hex_bytes(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text[2..]
        .chars()
        .filter_map(|c| c.to_digit(16))
        .map(|d| d as u8)
        .collect();
    let mut bytes = Vec::with_capacity(digits.len().div_ceil(2));
    let (head, rest) = digits.split_at(digits.len() % 2);
    if let [d] = head {
        bytes.push(*d);
    }
    bytes.extend(rest.chunks(2).map(|pair| pair[0] << 4 | pair[1]));
    bytes
}

impl Parser<'_> {
    /// A value expression: select items, SET values, arguments.
    pub(super) fn expr(&mut self) -> Parsed<Expr> {
        self.nested(|p| p.additive(false))
    }

    /// A comma-separated list of value expressions.
    pub(super) fn expr_list(&mut self) -> Parsed<Vec<Expr>> {
        let mut list = vec![self.expr()?];
        while self.eat_symbol(',') {
            list.push(self.expr()?);
        }
        Ok(list)
    }

    /// A search condition (WHERE, HAVING, ON, WHEN, IF, WHILE).
    pub(super) fn condition(&mut self) -> Parsed<Expr> {
        let condition = self.nested(Self::or_condition)?;
        self.require_predicate(&condition)?;
        Ok(condition)
    }

    /// 4145 near the current token unless `expr` is a condition.
    fn require_predicate(&self, expr: &Expr) -> Parsed<()> {
        if is_predicate(expr) {
            return Ok(());
        }
        Err(match self.peek().or_else(|| self.tokens.last()) {
            Some(t) => messages::non_boolean_condition(t.line, t.near_text()),
            None => messages::non_boolean_condition(self.first_line, ""),
        })
    }

    fn or_condition(&mut self) -> Parsed<Expr> {
        let mut left = self.and_condition()?;
        while self.at_word("OR") {
            self.require_predicate(&left)?;
            self.pos += 1;
            let right = self.and_condition()?;
            self.require_predicate(&right)?;
            left = binary(BinaryOp::Or, left, right);
        }
        Ok(left)
    }

    fn and_condition(&mut self) -> Parsed<Expr> {
        let mut left = self.not_condition()?;
        while self.at_word("AND") {
            self.require_predicate(&left)?;
            self.pos += 1;
            let right = self.not_condition()?;
            self.require_predicate(&right)?;
            left = binary(BinaryOp::And, left, right);
        }
        Ok(left)
    }

    fn not_condition(&mut self) -> Parsed<Expr> {
        if self.eat_word("NOT") {
            let operand = self.nested(Self::not_condition)?;
            self.require_predicate(&operand)?;
            return Ok(Expr::Unary {
                op: UnaryOp::Not,
                operand: Box::new(operand),
            });
        }
        self.predicate()
    }

    /// A comparison or other predicate, a parenthesized condition, or (for the caller to
    /// reject) a plain value.
    fn predicate(&mut self) -> Parsed<Expr> {
        if self.eat_word("EXISTS") {
            self.expect_symbol('(')?;
            let query = self.query()?;
            self.expect_symbol(')')?;
            return Ok(Expr::Exists(Box::new(query)));
        }
        let left = self.additive(true)?;
        if is_predicate(&left) {
            return Ok(left);
        }
        let Some(token) = self.peek() else {
            return Ok(left);
        };
        if let Some(op) = comparison(token) {
            self.pos += 1;
            let quantifier = ["ALL", "ANY", "SOME"]
                .iter()
                .find(|w| self.at_word(w))
                .map(|w| *w == "ALL");
            if let Some(all) = quantifier {
                self.pos += 1;
                self.expect_symbol('(')?;
                let query = self.query()?;
                self.expect_symbol(')')?;
                return Ok(Expr::Quantified {
                    left: Box::new(left),
                    op,
                    all,
                    query: Box::new(query),
                });
            }
            let right = self.additive(false)?;
            return Ok(binary(op, left, right));
        }
        if self.eat_word("IS") {
            let negated = self.eat_word("NOT");
            self.expect_word("NULL")?;
            return Ok(Expr::IsNull {
                expr: Box::new(left),
                negated,
            });
        }
        let negated = self.at_word("NOT")
            && ["LIKE", "BETWEEN", "IN"]
                .iter()
                .any(|w| self.at_word_at(1, w));
        if negated {
            self.pos += 1;
        }
        let expr = Box::new(left);
        if self.eat_word("LIKE") {
            let pattern = Box::new(self.additive(false)?);
            let escape = if self.eat_word("ESCAPE") {
                Some(Box::new(self.additive(false)?))
            } else {
                None
            };
            return Ok(Expr::Like {
                expr,
                pattern,
                escape,
                negated,
            });
        }
        if self.eat_word("BETWEEN") {
            let low = Box::new(self.additive(false)?);
            self.expect_word("AND")?;
            let high = Box::new(self.additive(false)?);
            return Ok(Expr::Between {
                expr,
                low,
                high,
                negated,
            });
        }
        if self.eat_word("IN") {
            self.expect_symbol('(')?;
            if self.at_word("SELECT") || self.at_word("WITH") {
                let query = Box::new(self.query()?);
                self.expect_symbol(')')?;
                return Ok(Expr::InSubquery {
                    expr,
                    query,
                    negated,
                });
            }
            let list = self.expr_list()?;
            self.expect_symbol(')')?;
            return Ok(Expr::InList {
                expr,
                list,
                negated,
            });
        }
        Ok(*expr)
    }

    /// `+ - & ^ |`, left to right. `allow_condition` lets the leftmost operand be a
    /// parenthesized condition (only where a condition may stand).
    fn additive(&mut self, allow_condition: bool) -> Parsed<Expr> {
        let mut left = self.multiplicative(allow_condition)?;
        loop {
            let op = match self.peek().map(|t| &t.kind) {
                Some(TokenKind::Symbol('+')) => BinaryOp::Add,
                Some(TokenKind::Symbol('-')) => BinaryOp::Subtract,
                Some(TokenKind::Symbol('&')) => BinaryOp::BitAnd,
                Some(TokenKind::Symbol('|')) => BinaryOp::BitOr,
                Some(TokenKind::Symbol('^')) => BinaryOp::BitXor,
                _ => return Ok(left),
            };
            if is_predicate(&left) {
                return Err(self.unexpected());
            }
            self.pos += 1;
            let right = self.multiplicative(false)?;
            left = binary(op, left, right);
        }
    }

    fn multiplicative(&mut self, allow_condition: bool) -> Parsed<Expr> {
        let mut left = self.unary(allow_condition)?;
        loop {
            let op = match self.peek().map(|t| &t.kind) {
                Some(TokenKind::Symbol('*')) => BinaryOp::Multiply,
                Some(TokenKind::Symbol('/')) => BinaryOp::Divide,
                Some(TokenKind::Symbol('%')) => BinaryOp::Modulo,
                _ => return Ok(left),
            };
            if is_predicate(&left) {
                return Err(self.unexpected());
            }
            self.pos += 1;
            let right = self.unary(false)?;
            left = binary(op, left, right);
        }
    }

    fn unary(&mut self, allow_condition: bool) -> Parsed<Expr> {
        let op = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Symbol('-')) => UnaryOp::Negate,
            Some(TokenKind::Symbol('+')) => UnaryOp::Plus,
            Some(TokenKind::Symbol('~')) => UnaryOp::BitNot,
            _ => {
                let expr = self.primary(allow_condition)?;
                // The server's collation is case-insensitive throughout; COLLATE is accepted
                // and has no effect.
                if self.eat_word("COLLATE") {
                    self.name()?;
                }
                return Ok(expr);
            }
        };
        self.pos += 1;
        let operand = self.nested(|p| p.unary(false))?;
        Ok(Expr::Unary {
            op,
            operand: Box::new(operand),
        })
    }

    fn primary(&mut self, allow_condition: bool) -> Parsed<Expr> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let literal = match &token.kind {
            TokenKind::Integer => Some(integer_literal(token)?),
            TokenKind::Decimal => {
                let digits = token.text.chars().filter(char::is_ascii_digit).count();
                if digits > MAX_DIGITS {
                    return Err(messages::number_out_of_range(token.line, &token.text));
                }
                Some(Literal::Decimal(token.text.clone()))
            }
            TokenKind::Float => match token.text.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(Literal::Float(v)),
                _ => return Err(messages::float_out_of_range(token.line, &token.text)),
            },
            TokenKind::Binary => Some(Literal::Binary(hex_bytes(&token.text))),
            TokenKind::Money => Some(Literal::Money(token.text[1..].to_owned())),
            TokenKind::String { value, unicode } => Some(Literal::String {
                value: value.clone(),
                unicode: *unicode,
            }),
            _ => None,
        };
        if let Some(literal) = literal {
            self.pos += 1;
            return Ok(Expr::Literal(literal));
        }
        match &token.kind {
            TokenKind::Variable => {
                self.pos += 1;
                Ok(Expr::Variable(token.text.clone()))
            }
            TokenKind::SystemVariable => {
                self.pos += 1;
                Ok(Expr::SystemVariable(token.text.to_ascii_uppercase()))
            }
            TokenKind::Symbol('(') => self.parenthesized(allow_condition),
            TokenKind::Word => self.word_primary(token),
            TokenKind::BracketedIdentifier(_) | TokenKind::QuotedIdentifier(_) => {
                self.name_primary()
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `(SELECT … FOR XML PATH(…), TYPE).value('xpath', 'type')` (the `.` is next): the XML's
    /// text, converted to the type. Any XPath reads the whole text, as `'.'` and
    /// `'(./text())[1]'` do on the flat XML of FOR XML PATH('').
    fn xml_value(&mut self, mut query: crate::ast::Query) -> Parsed<Expr> {
        let Some(xml) = query.for_xml.as_mut().filter(|x| x.type_directive) else {
            return Err(self.unexpected());
        };
        xml.text_value = true;
        self.pos += 2;
        self.expect_symbol('(')?;
        self.string()?;
        self.expect_symbol(',')?;
        let line = self.peek().map_or(self.first_line, |t| t.line);
        let type_text = self.string()?;
        self.expect_symbol(')')?;
        let tokens = crate::lexer::tokenize(&type_text, line)?;
        let mut inner = Parser {
            tokens: &tokens,
            pos: 0,
            first_line: line,
            depth: 0,
            loops: 0,
        };
        let ty = inner.data_type(super::types::TypeContext::Conversion)?;
        Ok(Expr::Convert {
            ty,
            expr: Box::new(Expr::Subquery(Box::new(query))),
            style: None,
            try_: false,
        })
    }

    /// `(SELECT …)`, or a parenthesized value (or condition, where one may stand).
    fn parenthesized(&mut self, allow_condition: bool) -> Parsed<Expr> {
        self.pos += 1;
        if self.at_word("SELECT") || self.at_word("WITH") {
            let query = self.query()?;
            self.expect_symbol(')')?;
            if self.at_symbol('.') && self.at_word_at(1, "value") {
                return self.xml_value(query);
            }
            return Ok(Expr::Subquery(Box::new(query)));
        }
        let inner = if allow_condition {
            self.nested(Self::or_condition)?
        } else {
            self.nested(|p| p.additive(false))?
        };
        self.expect_symbol(')')?;
        Ok(inner)
    }
}

/// An integer literal: int when it fits, else numeric (as SQL Server types it).
fn integer_literal(token: &Token) -> Parsed<Literal> {
    let digits = token.text.trim_start_matches('0');
    if digits.len() > MAX_DIGITS {
        return Err(messages::number_out_of_range(token.line, &token.text));
    }
    match digits.parse::<i64>() {
        Ok(v) if v <= i64::from(i32::MAX) => Ok(Literal::Integer(v)),
        _ if digits.is_empty() => Ok(Literal::Integer(0)),
        _ => Ok(Literal::Decimal(token.text.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::hex_bytes;

    #[test]
    fn hex_literals() {
        assert_eq!(hex_bytes("0x"), Vec::<u8>::new());
        assert_eq!(hex_bytes("0x0A0b"), [0x0a, 0x0b]);
        assert_eq!(hex_bytes("0x123"), [0x01, 0x23]);
    }
}
