//! Data types as written: `int`, `nvarchar(128)`, `decimal(25, 0)`, `varbinary(max)`,
//! `character varying(10)`, `sysname`.

use super::{Parsed, Parser};
use crate::lexer::TokenKind;
use crate::messages;
use crate::value::SqlType;

/// Where a type is written; decides the default length and the error for a bad type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeContext {
    /// The n-th (from 1) variable of a DECLARE or parameter of a declaration list.
    Variable(usize),
    /// The n-th (from 1) column of a table definition.
    Column(usize),
    /// The target of CAST or CONVERT.
    Conversion,
}

impl TypeContext {
    fn ordinal(self) -> usize {
        match self {
            TypeContext::Variable(n) | TypeContext::Column(n) => n,
            TypeContext::Conversion => 1,
        }
    }
}

/// The shape of a type's parenthesized arguments.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// No arguments.
    Fixed(SqlType),
    /// `(n)` or `(max)`: a string or binary type with its maximum length.
    Length {
        max: u32,
        allows_max: bool,
        make: fn(Option<u32>) -> SqlType,
    },
    /// `(p[, s])`
    Decimal,
    /// `(n)`: 1–24 is real, 25–53 float.
    Float,
    /// `(s)`, fractional seconds 0–7.
    Scale(fn(u8) -> SqlType),
}

fn char_type(n: Option<u32>) -> SqlType {
    SqlType::Char(n.unwrap_or(1))
}
fn varchar_type(n: Option<u32>) -> SqlType {
    SqlType::VarChar(n)
}
fn nchar_type(n: Option<u32>) -> SqlType {
    SqlType::NChar(n.unwrap_or(1))
}
fn nvarchar_type(n: Option<u32>) -> SqlType {
    SqlType::NVarChar(n)
}
fn binary_type(n: Option<u32>) -> SqlType {
    SqlType::Binary(n.unwrap_or(1))
}
fn varbinary_type(n: Option<u32>) -> SqlType {
    SqlType::VarBinary(n)
}

const fn length(max: u32, allows_max: bool, make: fn(Option<u32>) -> SqlType) -> Shape {
    Shape::Length {
        max,
        allows_max,
        make,
    }
}

/// The shape of a one-word type name (lower case), or `None` for an unknown type.
///
/// text, ntext and image read as their (max) successors, xml as nvarchar(max), and
/// timestamp/rowversion as binary(8): vdisim has no separate types for them.
fn shape(name: &str) -> Option<Shape> {
    use SqlType as T;
    Some(match name {
        "bit" => Shape::Fixed(T::Bit),
        "tinyint" => Shape::Fixed(T::TinyInt),
        "smallint" => Shape::Fixed(T::SmallInt),
        "int" | "integer" => Shape::Fixed(T::Int),
        "bigint" => Shape::Fixed(T::BigInt),
        "decimal" | "dec" | "numeric" => Shape::Decimal,
        "float" => Shape::Float,
        "real" => Shape::Fixed(T::Real),
        "money" | "smallmoney" => Shape::Fixed(T::Money),
        "char" | "character" => length(8000, false, char_type),
        "varchar" => length(8000, true, varchar_type),
        "nchar" => length(4000, false, nchar_type),
        "nvarchar" => length(4000, true, nvarchar_type),
        "binary" => length(8000, false, binary_type),
        "varbinary" => length(8000, true, varbinary_type),
        "date" => Shape::Fixed(T::Date),
        "time" => Shape::Scale(T::Time),
        "datetime" => Shape::Fixed(T::DateTime),
        "smalldatetime" => Shape::Fixed(T::SmallDateTime),
        "datetime2" => Shape::Scale(T::DateTime2),
        "datetimeoffset" => Shape::Scale(T::DateTimeOffset),
        "uniqueidentifier" => Shape::Fixed(T::UniqueIdentifier),
        "sql_variant" => Shape::Fixed(T::SqlVariant),
        "sysname" => Shape::Fixed(crate::value::SYSNAME),
        "text" => Shape::Fixed(T::VarChar(None)),
        "ntext" | "xml" => Shape::Fixed(T::NVarChar(None)),
        "image" => Shape::Fixed(T::VarBinary(None)),
        "timestamp" | "rowversion" => Shape::Fixed(T::Binary(8)),
        _ => return None,
    })
}

/// Two- and three-word type names, with the one-word name they mean.
const PHRASES: &[(&[&str], &str)] = &[
    (&["DOUBLE", "PRECISION"], "float"),
    (&["NATIONAL", "CHARACTER", "VARYING"], "nvarchar"),
    (&["NATIONAL", "CHAR", "VARYING"], "nvarchar"),
    (&["NATIONAL", "CHARACTER"], "nchar"),
    (&["NATIONAL", "CHAR"], "nchar"),
    (&["CHARACTER", "VARYING"], "varchar"),
    (&["CHAR", "VARYING"], "varchar"),
    (&["NCHAR", "VARYING"], "nvarchar"),
    (&["BINARY", "VARYING"], "varbinary"),
];

impl Parser<'_> {
    /// A data type.
    pub(super) fn data_type(&mut self, context: TypeContext) -> Parsed<SqlType> {
        Ok(self.data_type_nullability(context)?.0)
    }

    /// A data type, and whether it is NOT NULL unless said otherwise (sysname is).
    pub(super) fn data_type_nullability(
        &mut self,
        context: TypeContext,
    ) -> Parsed<(SqlType, bool)> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let line = token.line;
        let phrase = PHRASES
            .iter()
            .find(|(words, _)| words.iter().enumerate().all(|(i, w)| self.at_word_at(i, w)));
        let (written, name) = if let Some((words, name)) = phrase {
            self.pos += words.len();
            (words.join(" ").to_ascii_lowercase(), (*name).to_owned())
        } else {
            let first = match &token.kind {
                TokenKind::Word if !token.is_reserved_keyword() => token.text.clone(),
                TokenKind::BracketedIdentifier(v) | TokenKind::QuotedIdentifier(v) => v.clone(),
                _ => return Err(self.unexpected()),
            };
            self.pos += 1;
            if self.eat_symbol('.') {
                // A schema-qualified type: sys.X is the system type X; others are unknown.
                let second = self.name()?;
                let written = format!("{first}.{second}");
                if first.eq_ignore_ascii_case("sys") {
                    (written, second.to_ascii_lowercase())
                } else {
                    return Err(unknown_type(line, context, &written));
                }
            } else {
                let lower = first.to_ascii_lowercase();
                (first, lower)
            }
        };
        let Some(shape) = shape(&name) else {
            return Err(unknown_type(line, context, &written));
        };
        let not_null = name == "sysname";
        let ty = match shape {
            Shape::Fixed(ty) => {
                if self.at_symbol('(') {
                    return Err(messages::width_not_allowed(line, context.ordinal(), &name));
                }
                ty
            }
            Shape::Length {
                max,
                allows_max,
                make,
            } => self.length(context, &name, max, allows_max, make)?,
            Shape::Decimal => self.decimal(context)?,
            Shape::Float => self.float(context)?,
            Shape::Scale(make) => {
                let scale = match self.type_arguments(1)?.as_slice() {
                    [] => 7,
                    [(s, line)] if *s <= 7 => *s as u8,
                    [(s, line)] => return Err(messages::invalid_scale(*line, *s)),
                    _ => return Err(self.unexpected()),
                };
                make(scale)
            }
        };
        Ok((ty, not_null))
    }

    /// `[(n)]` / `[(n, m)]`: up to `most` non-negative integers with their lines.
    fn type_arguments(&mut self, most: usize) -> Parsed<Vec<(u64, u32)>> {
        let mut args = Vec::new();
        if !self.eat_symbol('(') {
            return Ok(args);
        }
        loop {
            match self.peek() {
                Some(t) if t.kind == TokenKind::Integer => {
                    let value = t.text.parse::<u64>().unwrap_or(u64::MAX);
                    args.push((value, t.line));
                    self.pos += 1;
                }
                _ => return Err(self.unexpected()),
            }
            if args.len() == most || !self.eat_symbol(',') {
                break;
            }
        }
        self.expect_symbol(')')?;
        Ok(args)
    }

    fn length(
        &mut self,
        context: TypeContext,
        name: &str,
        max: u32,
        allows_max: bool,
        make: fn(Option<u32>) -> SqlType,
    ) -> Parsed<SqlType> {
        if self.at_symbol('(') && self.at_word_at(1, "MAX") {
            if !allows_max {
                self.pos += 1;
                return Err(self.unexpected());
            }
            self.pos += 2;
            self.expect_symbol(')')?;
            return Ok(make(None));
        }
        let n = match self.type_arguments(1)?.as_slice() {
            [] if context == TypeContext::Conversion => 30,
            [] => 1,
            [(0, line)] => return Err(messages::invalid_length(*line, 0)),
            [(n, line)] if *n > u64::from(max) => {
                let (what, subject) = match context {
                    TypeContext::Conversion => ("convert specification", name),
                    _ => ("type", name),
                };
                return Err(messages::size_exceeds_maximum(
                    *line, *n, what, subject, max,
                ));
            }
            [(n, _)] => *n as u32,
            _ => return Err(self.unexpected()),
        };
        Ok(make(Some(n)))
    }

    fn decimal(&mut self, context: TypeContext) -> Parsed<SqlType> {
        const MAX_PRECISION: u8 = 38;
        let (precision, scale) = match self.type_arguments(2)?.as_slice() {
            [] => (18, 0),
            [(p, line)] | [(p, line), _] if *p == 0 => {
                return Err(messages::invalid_length(*line, 0));
            }
            [(p, line)] | [(p, line), _] if *p > u64::from(MAX_PRECISION) => {
                return Err(messages::precision_too_large(
                    *line,
                    context.ordinal(),
                    *p,
                    MAX_PRECISION,
                ));
            }
            [(p, _)] => (*p as u8, 0),
            [(p, _), (s, line)] if *s > *p => {
                return Err(messages::scale_above_precision(
                    *line,
                    context.ordinal(),
                    *s,
                    *p as u8,
                ));
            }
            [(p, _), (s, _)] => (*p as u8, *s as u8),
            _ => return Err(self.unexpected()),
        };
        Ok(SqlType::Decimal { precision, scale })
    }

    fn float(&mut self, context: TypeContext) -> Parsed<SqlType> {
        const MAX_PRECISION: u8 = 53;
        match self.type_arguments(1)?.as_slice() {
            [] => Ok(SqlType::Float),
            [(0, line)] => Err(messages::invalid_length(*line, 0)),
            [(n, _)] if *n <= 24 => Ok(SqlType::Real),
            [(n, _)] if *n <= u64::from(MAX_PRECISION) => Ok(SqlType::Float),
            [(n, line)] => Err(messages::precision_too_large(
                *line,
                context.ordinal(),
                *n,
                MAX_PRECISION,
            )),
            _ => Err(self.unexpected()),
        }
    }
}

/// 2715 for a declaration or column, 243 for CAST/CONVERT.
fn unknown_type(line: u32, context: TypeContext, written: &str) -> crate::SqlMessage {
    match context {
        TypeContext::Variable(n) => messages::unknown_data_type(line, n, written, 3),
        TypeContext::Column(n) => messages::unknown_data_type(line, n, written, 6),
        TypeContext::Conversion => messages::type_not_defined(line, written),
    }
}
