//! The lexer: T-SQL text to tokens, each with its 1-based line and column.
//!
//! Lexing fails only on text that cannot be split into tokens at all: an unclosed string or
//! quoted identifier (105), an unclosed block comment (113) or an over-long identifier (103).
//! Any other odd character becomes a [`TokenKind::Other`] token for the parser to reject.

use serde::Serialize;

use crate::messages::{self, SqlMessage};

/// The longest identifier SQL Server accepts, in characters.
pub const MAX_IDENTIFIER_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TokenKind {
    /// A regular identifier or keyword (including `#temp` and `##temp`); compare with
    /// [`Token::is_word`].
    Word,
    /// `[name]`, with `]]` unescaped.
    BracketedIdentifier(String),
    /// `"name"`, with `""` unescaped.
    QuotedIdentifier(String),
    /// `'text'` or `N'text'`, with `''` unescaped.
    String { value: String, unicode: bool },
    /// Decimal digits; the value is parsed where it is used, so overflow is reported there.
    Integer,
    /// Digits with a decimal point: `1.5`, `.5`, `1.`.
    Decimal,
    /// A number with an exponent: `1e3`, `1.5E-2`.
    Float,
    /// `0x0A0B` (possibly just `0x`).
    Binary,
    /// `$12.50`.
    Money,
    /// `@@NAME`.
    SystemVariable,
    /// `@name`.
    Variable,
    /// One of `= , ; ( ) . * + - / % & | ^ ~ < > :`.
    Symbol(char),
    /// A two-character operator: `<> != <= >= !< !> += -= *= /= %= &= |= ^= ::`.
    Operator(&'static str),
    /// Any other character.
    Other(char),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub kind: TokenKind,
    /// The source text of the token, as written.
    pub text: String,
    pub line: u32,
    pub column: u32,
}

/// SQL Server's reserved keywords ("Reserved keywords (Transact-SQL)"), sorted for binary
/// search. A reserved keyword out of place is reported with 156 instead of 102, and cannot be
/// used as an unquoted name.
const RESERVED: &[&str] = &[
    "ADD",
    "ALL",
    "ALTER",
    "AND",
    "ANY",
    "AS",
    "ASC",
    "AUTHORIZATION",
    "BACKUP",
    "BEGIN",
    "BETWEEN",
    "BREAK",
    "BROWSE",
    "BULK",
    "BY",
    "CASCADE",
    "CASE",
    "CHECK",
    "CHECKPOINT",
    "CLOSE",
    "CLUSTERED",
    "COALESCE",
    "COLLATE",
    "COLUMN",
    "COMMIT",
    "COMPUTE",
    "CONSTRAINT",
    "CONTAINS",
    "CONTAINSTABLE",
    "CONTINUE",
    "CONVERT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "CURSOR",
    "DATABASE",
    "DBCC",
    "DEALLOCATE",
    "DECLARE",
    "DEFAULT",
    "DELETE",
    "DENY",
    "DESC",
    "DISK",
    "DISTINCT",
    "DISTRIBUTED",
    "DOUBLE",
    "DROP",
    "DUMP",
    "ELSE",
    "END",
    "ERRLVL",
    "ESCAPE",
    "EXCEPT",
    "EXEC",
    "EXECUTE",
    "EXISTS",
    "EXIT",
    "EXTERNAL",
    "FETCH",
    "FILE",
    "FILLFACTOR",
    "FOR",
    "FOREIGN",
    "FREETEXT",
    "FREETEXTTABLE",
    "FROM",
    "FULL",
    "FUNCTION",
    "GOTO",
    "GRANT",
    "GROUP",
    "HAVING",
    "HOLDLOCK",
    "IDENTITY",
    "IDENTITYCOL",
    "IDENTITY_INSERT",
    "IF",
    "IN",
    "INDEX",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "KEY",
    "KILL",
    "LEFT",
    "LIKE",
    "LINENO",
    "LOAD",
    "MERGE",
    "NATIONAL",
    "NOCHECK",
    "NONCLUSTERED",
    "NOT",
    "NULL",
    "NULLIF",
    "OF",
    "OFF",
    "OFFSETS",
    "ON",
    "OPEN",
    "OPENDATASOURCE",
    "OPENQUERY",
    "OPENROWSET",
    "OPENXML",
    "OPTION",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PERCENT",
    "PIVOT",
    "PLAN",
    "PRECISION",
    "PRIMARY",
    "PRINT",
    "PROC",
    "PROCEDURE",
    "PUBLIC",
    "RAISERROR",
    "READ",
    "READTEXT",
    "RECONFIGURE",
    "REFERENCES",
    "REPLICATION",
    "RESTORE",
    "RESTRICT",
    "RETURN",
    "REVERT",
    "REVOKE",
    "RIGHT",
    "ROLLBACK",
    "ROWCOUNT",
    "ROWGUIDCOL",
    "RULE",
    "SAVE",
    "SCHEMA",
    "SECURITYAUDIT",
    "SELECT",
    "SEMANTICKEYPHRASETABLE",
    "SEMANTICSIMILARITYDETAILSTABLE",
    "SEMANTICSIMILARITYTABLE",
    "SESSION_USER",
    "SET",
    "SETUSER",
    "SHUTDOWN",
    "SOME",
    "STATISTICS",
    "SYSTEM_USER",
    "TABLE",
    "TABLESAMPLE",
    "TEXTSIZE",
    "THEN",
    "TO",
    "TOP",
    "TRAN",
    "TRANSACTION",
    "TRIGGER",
    "TRUNCATE",
    "TRY_CONVERT",
    "TSEQUAL",
    "UNION",
    "UNIQUE",
    "UNPIVOT",
    "UPDATE",
    "UPDATETEXT",
    "USE",
    "USER",
    "VALUES",
    "VARYING",
    "VIEW",
    "WAITFOR",
    "WHEN",
    "WHERE",
    "WHILE",
    "WITH",
    "WRITETEXT",
];

/// Whether `word` is a T-SQL reserved keyword (case-insensitive).
pub fn is_reserved(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    RESERVED.binary_search(&upper.as_str()).is_ok()
}

impl Token {
    /// Whether this is the unquoted word `keyword`, ignoring case.
    pub fn is_word(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    pub fn is_symbol(&self, symbol: char) -> bool {
        self.kind == TokenKind::Symbol(symbol)
    }

    /// Whether this is the two-character operator `op`.
    pub fn is_operator(&self, op: &str) -> bool {
        matches!(self.kind, TokenKind::Operator(o) if o == op)
    }

    /// A reserved keyword, written without quotes or brackets.
    pub fn is_reserved_keyword(&self) -> bool {
        self.kind == TokenKind::Word && is_reserved(&self.text)
    }

    /// The name this token stands for, if it can be a name: an unreserved word, or a bracketed
    /// or quoted identifier.
    pub fn identifier(&self) -> Option<&str> {
        match &self.kind {
            TokenKind::Word if !is_reserved(&self.text) => Some(&self.text),
            TokenKind::BracketedIdentifier(v) | TokenKind::QuotedIdentifier(v) => Some(v),
            _ => None,
        }
    }

    /// The text SQL Server quotes in "Incorrect syntax near '…'": the value for quoted tokens.
    pub fn near_text(&self) -> &str {
        match &self.kind {
            TokenKind::BracketedIdentifier(v)
            | TokenKind::QuotedIdentifier(v)
            | TokenKind::String { value: v, .. } => v,
            _ => &self.text,
        }
    }

    /// The syntax error SQL Server reports for this token: 156 for a reserved keyword, else 102.
    pub fn syntax_error(&self) -> SqlMessage {
        if self.is_reserved_keyword() {
            messages::incorrect_syntax_keyword(self.line, &self.text)
        } else {
            messages::incorrect_syntax(self.line, self.near_text())
        }
    }
}

struct Cursor {
    chars: Vec<char>,
    pos: usize,
    line: u32,
    column: u32,
}

impl Cursor {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    fn text_from(&self, start: usize) -> String {
        self.chars[start..self.pos].iter().collect()
    }

    fn bump_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
    }

    /// Reads up to `close`, treating a doubled `close` as one literal character. The opening
    /// character has already been consumed. `None` when the input ends first.
    fn quoted(&mut self, close: char) -> Option<String> {
        let mut value = String::new();
        loop {
            let c = self.bump()?;
            if c == close {
                if self.peek() == Some(close) {
                    self.bump();
                    value.push(close);
                } else {
                    return Some(value);
                }
            } else {
                value.push(c);
            }
        }
    }
}

fn is_identifier_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '#'
}

fn is_identifier_part(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '$' | '#')
}

/// Splits `text` into tokens; the first line of `text` is numbered `first_line`.
pub fn tokenize(text: &str, first_line: u32) -> Result<Vec<Token>, SqlMessage> {
    let mut cur = Cursor {
        chars: text.chars().collect(),
        pos: 0,
        line: first_line,
        column: 1,
    };
    let mut tokens = Vec::new();
    while let Some(c) = cur.peek() {
        let (start, line, column) = (cur.pos, cur.line, cur.column);
        let next = cur.peek_at(1);
        let kind = if c.is_whitespace() {
            cur.bump();
            continue;
        } else if c == '-' && next == Some('-') {
            cur.bump_while(|c| c != '\n');
            continue;
        } else if c == '/' && next == Some('*') {
            block_comment(&mut cur, line)?;
            continue;
        } else if c == '\'' || (matches!(c, 'N' | 'n') && next == Some('\'')) {
            let unicode = c != '\'';
            if unicode {
                cur.bump();
            }
            cur.bump();
            let after_quote = cur.pos;
            match cur.quoted('\'') {
                Some(value) => TokenKind::String { value, unicode },
                None => {
                    return Err(messages::unclosed_quotation(
                        line,
                        &cur.text_from(after_quote),
                    ));
                }
            }
        } else if c == '[' || c == '"' {
            let close = if c == '[' { ']' } else { '"' };
            cur.bump();
            let after_quote = cur.pos;
            let Some(value) = cur.quoted(close) else {
                return Err(messages::unclosed_quotation(
                    line,
                    &cur.text_from(after_quote),
                ));
            };
            if value.chars().count() > MAX_IDENTIFIER_LEN {
                return Err(messages::identifier_too_long(line, &value));
            }
            if c == '[' {
                TokenKind::BracketedIdentifier(value)
            } else {
                TokenKind::QuotedIdentifier(value)
            }
        } else if c == '@' && next == Some('@') {
            cur.bump();
            cur.bump();
            cur.bump_while(is_identifier_part);
            TokenKind::SystemVariable
        } else if c == '@' && next.is_some_and(is_identifier_part) {
            cur.bump();
            cur.bump_while(is_identifier_part);
            TokenKind::Variable
        } else if c == '0' && matches!(next, Some('x' | 'X')) {
            cur.bump();
            cur.bump();
            cur.bump_while(|c| c.is_ascii_hexdigit());
            TokenKind::Binary
        } else if c.is_ascii_digit() || (c == '.' && starts_number(&cur, &tokens)) {
            number(&mut cur)
        } else if c == '$' && (next.is_some_and(|n| n.is_ascii_digit()) || next == Some('.')) {
            cur.bump();
            cur.bump_while(|c| c.is_ascii_digit());
            if cur.peek() == Some('.') {
                cur.bump();
                cur.bump_while(|c| c.is_ascii_digit());
            }
            TokenKind::Money
        } else if is_identifier_start(c) {
            cur.bump_while(is_identifier_part);
            let word = cur.text_from(start);
            if word.chars().count() > MAX_IDENTIFIER_LEN {
                return Err(messages::identifier_too_long(line, &word));
            }
            TokenKind::Word
        } else if let Some(op) = next.and_then(|n| operator(c, n)) {
            cur.bump();
            cur.bump();
            TokenKind::Operator(op)
        } else {
            cur.bump();
            if SYMBOLS.contains(c) {
                TokenKind::Symbol(c)
            } else {
                TokenKind::Other(c)
            }
        };
        tokens.push(Token {
            kind,
            text: cur.text_from(start),
            line,
            column,
        });
    }
    Ok(tokens)
}

const SYMBOLS: &str = "=,;().*+-/%&|^~<>:";

const OPERATORS: &[&str] = &[
    "<>", "!=", "<=", ">=", "!<", "!>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "::",
];

fn operator(first: char, second: char) -> Option<&'static str> {
    OPERATORS.iter().copied().find(|op| {
        let mut chars = op.chars();
        chars.next() == Some(first) && chars.next() == Some(second)
    })
}

/// Whether a `.` starts a number (`.5`) rather than separating name parts (`t.col`).
fn starts_number(cur: &Cursor, tokens: &[Token]) -> bool {
    let digit_follows = cur.peek_at(1).is_some_and(|c| c.is_ascii_digit());
    let after_name = tokens
        .last()
        .is_some_and(|t| t.identifier().is_some() || t.is_symbol(')'));
    digit_follows && !after_name
}

/// `digits[.digits][e[+-]digits]`; an `e` without digits after it is not part of the number.
fn number(cur: &mut Cursor) -> TokenKind {
    cur.bump_while(|c| c.is_ascii_digit());
    let mut kind = TokenKind::Integer;
    if cur.peek() == Some('.') {
        cur.bump();
        cur.bump_while(|c| c.is_ascii_digit());
        kind = TokenKind::Decimal;
    }
    if matches!(cur.peek(), Some('e' | 'E')) {
        let sign = usize::from(matches!(cur.peek_at(1), Some('+' | '-')));
        if cur.peek_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
            for _ in 0..=sign {
                cur.bump();
            }
            cur.bump_while(|c| c.is_ascii_digit());
            kind = TokenKind::Float;
        }
    }
    kind
}

/// Skips a `/* … */` comment; comments nest, as in SQL Server.
fn block_comment(cur: &mut Cursor, line: u32) -> Result<(), SqlMessage> {
    let mut depth = 0u32;
    loop {
        match (cur.peek(), cur.peek_at(1)) {
            (Some('/'), Some('*')) => {
                cur.bump();
                cur.bump();
                depth += 1;
            }
            (Some('*'), Some('/')) => {
                cur.bump();
                cur.bump();
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
            (Some(_), _) => {
                cur.bump();
            }
            (None, _) => return Err(messages::missing_end_comment(line)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text, 1)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn words_numbers_and_symbols() {
        let toks = tokenize("BACKUP db TO x=65536,;().*", 1).unwrap();
        let texts: Vec<_> = toks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "BACKUP", "db", "TO", "x", "=", "65536", ",", ";", "(", ")", ".", "*"
            ]
        );
        assert_eq!(toks[5].kind, TokenKind::Integer);
        assert!(toks[0].is_word("backup"));
        assert!(toks[0].is_reserved_keyword());
        assert!(!toks[1].is_reserved_keyword());
    }

    #[test]
    fn lines_and_columns_are_one_based() {
        let toks = tokenize("a\n  bb\r\n\tc", 5).unwrap();
        let pos: Vec<_> = toks.iter().map(|t| (t.line, t.column)).collect();
        assert_eq!(pos, [(5, 1), (6, 3), (7, 2)]);
    }

    #[test]
    fn strings_with_escapes_and_unicode_prefix() {
        assert_eq!(
            kinds("'it''s' N'x' n''"),
            [
                TokenKind::String {
                    value: "it's".into(),
                    unicode: false
                },
                TokenKind::String {
                    value: "x".into(),
                    unicode: true
                },
                TokenKind::String {
                    value: String::new(),
                    unicode: true
                },
            ]
        );
    }

    #[test]
    fn n_followed_by_other_text_is_a_word() {
        assert_eq!(kinds("NOINIT N"), [TokenKind::Word, TokenKind::Word]);
    }

    #[test]
    fn bracketed_and_quoted_identifiers() {
        assert_eq!(
            kinds("[a]]b] \"c\"\"d\""),
            [
                TokenKind::BracketedIdentifier("a]b".into()),
                TokenKind::QuotedIdentifier("c\"d".into())
            ]
        );
    }

    #[test]
    fn variables() {
        let toks = tokenize("@@VERSION @db @", 1).unwrap();
        assert_eq!(toks[0].kind, TokenKind::SystemVariable);
        assert_eq!(toks[0].text, "@@VERSION");
        assert_eq!(toks[1].kind, TokenKind::Variable);
        assert_eq!(toks[2].kind, TokenKind::Other('@'));
    }

    #[test]
    fn comments_are_skipped_and_nest() {
        let toks = tokenize("a -- x\n/* b /* c */ d */ e", 1).unwrap();
        let texts: Vec<_> = toks.iter().map(|t| (t.text.as_str(), t.line)).collect();
        assert_eq!(texts, [("a", 1), ("e", 2)]);
    }

    #[test]
    fn unclosed_string_is_105_at_its_first_line() {
        let err = tokenize("PRINT 'ab\ncd", 1).unwrap_err();
        assert_eq!(err.number, 105);
        assert_eq!(err.line, 1);
        assert_eq!(
            err.text,
            "Unclosed quotation mark after the character string 'ab\ncd'."
        );
        assert_eq!(tokenize("x [abc", 3).unwrap_err().number, 105);
        assert_eq!(tokenize("x \"abc", 3).unwrap_err().line, 3);
    }

    #[test]
    fn unclosed_comment_is_113() {
        let err = tokenize("a\n/* /* */", 1).unwrap_err();
        assert_eq!((err.number, err.line), (113, 2));
    }

    #[test]
    fn long_identifiers_are_103() {
        let long = "a".repeat(129);
        assert_eq!(tokenize(&long, 1).unwrap_err().number, 103);
        assert_eq!(tokenize(&format!("[{long}]"), 1).unwrap_err().number, 103);
        assert!(tokenize(&"a".repeat(128), 1).is_ok());
    }

    #[test]
    fn other_characters_become_tokens() {
        assert_eq!(kinds("!"), [TokenKind::Other('!')]);
    }

    #[test]
    fn near_text_uses_values() {
        let toks = tokenize("'s' [b] w", 1).unwrap();
        let near: Vec<_> = toks.iter().map(Token::near_text).collect();
        assert_eq!(near, ["s", "b", "w"]);
        assert_eq!(toks[2].syntax_error().number, 102);
        assert_eq!(tokenize("FROM", 1).unwrap()[0].syntax_error().number, 156);
    }
}
