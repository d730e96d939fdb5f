//! Names and calls in expressions: columns, function calls (with OVER and the date-part first
//! argument of DATEADD and friends), niladic functions, CASE, CAST and CONVERT.

use super::types::TypeContext;
use super::{Parsed, Parser};
use crate::ast::{Expr, Literal, ObjectName, WindowSpec};
use crate::lexer::{Token, TokenKind};
use crate::messages;

/// Functions whose first argument is a date-part keyword.
const DATE_PART_FUNCTIONS: &[&str] = &[
    "DATEADD",
    "DATEDIFF",
    "DATEDIFF_BIG",
    "DATEPART",
    "DATENAME",
    "DATETRUNC",
    "DATE_BUCKET",
];

/// Every date-part keyword and abbreviation, with its full name.
const DATE_PARTS: &[(&str, &str)] = &[
    ("YEAR", "YEAR"),
    ("YY", "YEAR"),
    ("YYYY", "YEAR"),
    ("QUARTER", "QUARTER"),
    ("QQ", "QUARTER"),
    ("Q", "QUARTER"),
    ("MONTH", "MONTH"),
    ("MM", "MONTH"),
    ("M", "MONTH"),
    ("DAYOFYEAR", "DAYOFYEAR"),
    ("DY", "DAYOFYEAR"),
    ("Y", "DAYOFYEAR"),
    ("DAY", "DAY"),
    ("DD", "DAY"),
    ("D", "DAY"),
    ("WEEK", "WEEK"),
    ("WK", "WEEK"),
    ("WW", "WEEK"),
    ("WEEKDAY", "WEEKDAY"),
    ("DW", "WEEKDAY"),
    ("W", "WEEKDAY"),
    ("HOUR", "HOUR"),
    ("HH", "HOUR"),
    ("MINUTE", "MINUTE"),
    ("MI", "MINUTE"),
    ("N", "MINUTE"),
    ("SECOND", "SECOND"),
    ("SS", "SECOND"),
    ("S", "SECOND"),
    ("MILLISECOND", "MILLISECOND"),
    ("MS", "MILLISECOND"),
    ("MICROSECOND", "MICROSECOND"),
    ("MCS", "MICROSECOND"),
    ("NANOSECOND", "NANOSECOND"),
    ("NS", "NANOSECOND"),
    ("TZOFFSET", "TZOFFSET"),
    ("TZ", "TZOFFSET"),
    ("ISO_WEEK", "ISO_WEEK"),
    ("ISOWK", "ISO_WEEK"),
    ("ISOWW", "ISO_WEEK"),
];

/// Functions written without parentheses.
const NILADIC: &[&str] = &[
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "SESSION_USER",
    "SYSTEM_USER",
    "USER",
];

/// Reserved keywords that are also function names when `(` follows.
const KEYWORD_FUNCTIONS: &[&str] = &[
    "COALESCE",
    "NULLIF",
    "LEFT",
    "RIGHT",
    "CONVERT",
    "TRY_CONVERT",
];

impl Parser<'_> {
    pub(super) fn word_primary(&mut self, token: &Token) -> Parsed<Expr> {
        let upper = token.text.to_ascii_uppercase();
        let call = self.peek_at(1).is_some_and(|t| t.is_symbol('('));
        match upper.as_str() {
            "NULL" => {
                self.pos += 1;
                Ok(Expr::Literal(Literal::Null))
            }
            "CASE" => self.case(),
            "CAST" | "TRY_CAST" if call => self.cast(upper == "TRY_CAST"),
            "CONVERT" | "TRY_CONVERT" if call => self.convert(upper == "TRY_CONVERT"),
            _ if !call && NILADIC.contains(&upper.as_str()) => {
                self.pos += 1;
                Ok(Expr::Function {
                    schema: None,
                    name: upper,
                    args: Vec::new(),
                    star: false,
                    distinct: false,
                    over: None,
                    within_group: Vec::new(),
                })
            }
            _ if call && KEYWORD_FUNCTIONS.contains(&upper.as_str()) => {
                self.pos += 1;
                self.function_call(ObjectName::new([upper]))
            }
            _ if token.is_reserved_keyword() => Err(self.unexpected()),
            _ => self.name_primary(),
        }
    }

    /// A column reference, or a function call when `(` follows the name.
    pub(super) fn name_primary(&mut self) -> Parsed<Expr> {
        let name = self.object_name()?;
        if self.at_symbol('(') {
            self.function_call(name)
        } else {
            Ok(Expr::Column(name))
        }
    }

    /// The argument list (the name is read) and any OVER clause.
    pub(super) fn function_call(&mut self, name: ObjectName) -> Parsed<Expr> {
        let upper = name.name().to_ascii_uppercase();
        let schema = name.qualifier().map(str::to_owned);
        self.expect_symbol('(')?;
        let mut args = Vec::new();
        let mut star = false;
        let mut distinct = false;
        if !self.at_symbol(')') {
            if DATE_PART_FUNCTIONS.contains(&upper.as_str()) && schema.is_none() {
                args.push(self.date_part(&upper)?);
                while self.eat_symbol(',') {
                    args.push(self.expr()?);
                }
            } else if upper == "IIF" && schema.is_none() {
                args.push(self.condition()?);
                while self.eat_symbol(',') {
                    args.push(self.expr()?);
                }
            } else if self.eat_symbol('*') {
                star = true;
            } else {
                distinct = self.eat_word("DISTINCT");
                if !distinct {
                    self.eat_word("ALL");
                }
                args = self.expr_list()?;
            }
        }
        self.expect_symbol(')')?;
        let within_group = if self.eat_words(&["WITHIN", "GROUP"]) {
            self.expect_symbol('(')?;
            if !self.eat_words(&["ORDER", "BY"]) {
                return Err(self.unexpected());
            }
            let items = self.order_items()?;
            self.expect_symbol(')')?;
            items
        } else {
            Vec::new()
        };
        let over = if self.eat_word("OVER") {
            Some(self.window()?)
        } else {
            None
        };
        Ok(Expr::Function {
            schema,
            name: upper,
            args,
            star,
            distinct,
            over,
            within_group,
        })
    }

    pub(super) fn date_part(&mut self, function: &str) -> Parsed<Expr> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let written = match &token.kind {
            TokenKind::Word => token.text.as_str(),
            TokenKind::BracketedIdentifier(v) | TokenKind::QuotedIdentifier(v) => v.as_str(),
            TokenKind::Symbol(_) | TokenKind::Operator(_) | TokenKind::Other(_) => {
                return Err(self.unexpected());
            }
            _ => {
                let function = function.to_ascii_lowercase();
                return Err(messages::invalid_parameter(token.line, 1, &function));
            }
        };
        let upper = written.to_ascii_uppercase();
        let Some((_, full)) = DATE_PARTS.iter().find(|(k, _)| *k == upper) else {
            let function = function.to_ascii_lowercase();
            return Err(messages::unrecognized_option(
                token.line, written, &function,
            ));
        };
        self.pos += 1;
        Ok(Expr::DatePart((*full).to_owned()))
    }

    /// `( [PARTITION BY …] [ORDER BY …] )` after OVER.
    pub(super) fn window(&mut self) -> Parsed<WindowSpec> {
        self.expect_symbol('(')?;
        let partition_by = if self.eat_words(&["PARTITION", "BY"]) {
            self.expr_list()?
        } else {
            Vec::new()
        };
        let order_by = if self.eat_words(&["ORDER", "BY"]) {
            self.order_items()?
        } else {
            Vec::new()
        };
        self.expect_symbol(')')?;
        Ok(WindowSpec {
            partition_by,
            order_by,
        })
    }

    pub(super) fn case(&mut self) -> Parsed<Expr> {
        self.expect_word("CASE")?;
        let operand = if self.at_word("WHEN") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut branches = Vec::new();
        while self.eat_word("WHEN") {
            let when = if operand.is_some() {
                self.expr()?
            } else {
                self.condition()?
            };
            self.expect_word("THEN")?;
            branches.push((when, self.expr()?));
        }
        if branches.is_empty() {
            return Err(self.unexpected());
        }
        let otherwise = if self.eat_word("ELSE") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect_word("END")?;
        Ok(Expr::Case {
            operand,
            branches,
            otherwise,
        })
    }

    /// `CAST(x AS type)` / `TRY_CAST`.
    pub(super) fn cast(&mut self, try_: bool) -> Parsed<Expr> {
        self.pos += 2;
        let expr = Box::new(self.expr()?);
        self.expect_word("AS")?;
        let ty = self.data_type(TypeContext::Conversion)?;
        self.expect_symbol(')')?;
        Ok(Expr::Cast { expr, ty, try_ })
    }

    /// `CONVERT(type, x [, style])` / `TRY_CONVERT`.
    pub(super) fn convert(&mut self, try_: bool) -> Parsed<Expr> {
        self.pos += 2;
        let ty = self.data_type(TypeContext::Conversion)?;
        self.expect_symbol(',')?;
        let expr = Box::new(self.expr()?);
        let style = if self.eat_symbol(',') {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect_symbol(')')?;
        Ok(Expr::Convert {
            ty,
            expr,
            style,
            try_,
        })
    }
}
