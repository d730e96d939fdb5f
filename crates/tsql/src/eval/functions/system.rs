//! System functions: NEWID, ISNUMERIC, the ERROR_* functions of a CATCH block,
//! SCOPE_IDENTITY, GREATEST/LEAST, SQL_VARIANT_PROPERTY, and fallbacks for SCHEMA_NAME,
//! SCHEMA_ID, TYPE_NAME and TYPE_ID when the environment does not answer them itself.

use crate::messages::SqlMessage;
use crate::value::compare::sort_cmp;
use crate::value::convert::{self, base_name, numeric};
use crate::value::{SYSNAME, SqlType, Value};

use super::{arity, int_arg, shared_type, text_arg};
use crate::eval::types::decimal;
use crate::eval::{Evaluator, Typed};

/// The schemas every database has.
const SCHEMAS: &[(i64, &str)] = &[
    (1, "dbo"),
    (2, "guest"),
    (3, "INFORMATION_SCHEMA"),
    (4, "sys"),
];

/// system_type_id → name, for TYPE_NAME / TYPE_ID.
const TYPES: &[(i64, &str)] = &[
    (34, "image"),
    (35, "text"),
    (36, "uniqueidentifier"),
    (40, "date"),
    (41, "time"),
    (42, "datetime2"),
    (43, "datetimeoffset"),
    (48, "tinyint"),
    (52, "smallint"),
    (56, "int"),
    (58, "smalldatetime"),
    (59, "real"),
    (60, "money"),
    (61, "datetime"),
    (62, "float"),
    (98, "sql_variant"),
    (99, "ntext"),
    (104, "bit"),
    (106, "decimal"),
    (108, "numeric"),
    (122, "smallmoney"),
    (127, "bigint"),
    (165, "varbinary"),
    (167, "varchar"),
    (173, "binary"),
    (175, "char"),
    (189, "timestamp"),
    (231, "nvarchar"),
    (239, "nchar"),
    (241, "xml"),
    (256, "sysname"),
];

/// ISNUMERIC: 1 for anything that converts to some numeric type (money's `$` and commas and
/// float's exponents included), 0 otherwise.
fn is_numeric(s: &str) -> bool {
    let t = s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\r' | '\n'));
    if t.is_empty() {
        return false;
    }
    if matches!(t, "$" | "+" | "-" | "." | ",") {
        return true;
    }
    numeric::parse_float(t).is_some() || numeric::parse_money(t).is_some()
}

/// NEWID: a version 4 GUID from the environment's randomness.
fn new_guid(random: u128) -> [u8; 16] {
    let mut bytes = random.to_be_bytes();
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    bytes
}

pub(super) fn call(
    ev: &mut Evaluator,
    name: &str,
    args: &[Typed],
) -> Result<Option<Typed>, SqlMessage> {
    let result = match name {
        "NEWID" | "NEWSEQUENTIALID" => {
            arity("newid", args.len(), 0, 0)?;
            let value = if ev.type_only {
                Value::Null
            } else {
                Value::Guid(new_guid(ev.env.random_u128()))
            };
            (SqlType::UniqueIdentifier, value)
        }
        "ISNUMERIC" => {
            arity("isnumeric", args.len(), 1, 1)?;
            let (ty, v) = &args[0];
            let n = if v.is_null() {
                false
            } else if ty.is_numeric() {
                true
            } else if ty.is_string() {
                text_arg(&args[0])?.is_some_and(|s| is_numeric(&s))
            } else {
                false
            };
            (SqlType::Int, Value::Int(i64::from(n)))
        }
        "ERROR_NUMBER" | "ERROR_SEVERITY" | "ERROR_STATE" | "ERROR_LINE" | "ERROR_MESSAGE"
        | "ERROR_PROCEDURE" => {
            arity(&name.to_ascii_lowercase(), args.len(), 0, 0)?;
            let caught = if ev.type_only {
                None
            } else {
                ev.env.caught_error()
            };
            let int = |f: fn(&SqlMessage) -> i64| {
                (
                    SqlType::Int,
                    caught.as_ref().map_or(Value::Null, |m| Value::Int(f(m))),
                )
            };
            match name {
                "ERROR_NUMBER" => int(|m| i64::from(m.number)),
                "ERROR_SEVERITY" => int(|m| i64::from(m.level)),
                "ERROR_STATE" => int(|m| i64::from(m.state)),
                "ERROR_LINE" => int(|m| i64::from(m.line)),
                "ERROR_MESSAGE" => (
                    SqlType::NVarChar(Some(4000)),
                    caught.map_or(Value::Null, |m| Value::String(m.text)),
                ),
                _ => (
                    SYSNAME,
                    caught
                        .and_then(|m| m.procedure)
                        .map_or(Value::Null, Value::String),
                ),
            }
        }
        "SCOPE_IDENTITY" | "IDENT_CURRENT" => {
            if name == "SCOPE_IDENTITY" {
                arity("scope_identity", args.len(), 0, 0)?;
            } else if let Some(r) = ev.server_function(None, name, args) {
                return r.map(Some);
            }
            let ty = decimal(38, 0);
            let value = ev
                .env
                .system_variable("@@SCOPE_IDENTITY")
                .or_else(|| ev.env.system_variable("@@IDENTITY"))
                .filter(|_| !ev.type_only && name == "SCOPE_IDENTITY")
                .map_or(Ok(Value::Null), |(t, v)| convert::implicit(&v, t, ty))?;
            (ty, value)
        }
        "GREATEST" | "LEAST" => {
            if args.is_empty() {
                return Err(crate::eval::errors::argument_count_range(
                    &name.to_ascii_lowercase(),
                    1,
                    254,
                ));
            }
            let ty = shared_type(args.iter().map(|a| a.0));
            let mut best: Option<Value> = None;
            for (t, v) in args {
                let v = convert::implicit(v, *t, ty)?;
                if v.is_null() {
                    continue;
                }
                let better = best.as_ref().is_none_or(|b| {
                    let o = sort_cmp(&v, b);
                    if name == "GREATEST" {
                        o.is_gt()
                    } else {
                        o.is_lt()
                    }
                });
                if better {
                    best = Some(v);
                }
            }
            (ty, best.unwrap_or(Value::Null))
        }
        "SQL_VARIANT_PROPERTY" => {
            arity("sql_variant_property", args.len(), 2, 2)?;
            let (ty, v) = &args[0];
            let ty = if *ty == SqlType::SqlVariant {
                convert::variant_base_type(v)
            } else {
                *ty
            };
            let property = text_arg(&args[1])?.unwrap_or_default().to_ascii_lowercase();
            let value = if v.is_null() {
                Value::Null
            } else {
                match property.as_str() {
                    "basetype" => Value::String(base_name(ty).to_owned()),
                    "precision" => Value::Int(match ty {
                        SqlType::Decimal { precision, .. } => i64::from(precision),
                        SqlType::Int => 10,
                        SqlType::BigInt => 19,
                        SqlType::SmallInt => 5,
                        SqlType::TinyInt => 3,
                        SqlType::Float => 53,
                        SqlType::Real => 24,
                        SqlType::Money => 19,
                        SqlType::DateTime => 23,
                        _ => 0,
                    }),
                    "scale" => Value::Int(match ty {
                        SqlType::Decimal { scale, .. } => i64::from(scale),
                        SqlType::Money => 4,
                        SqlType::DateTime => 3,
                        SqlType::DateTime2(s) | SqlType::Time(s) => i64::from(s),
                        _ => 0,
                    }),
                    "maxlength" => Value::Int(match ty {
                        SqlType::NChar(n) => 2 * i64::from(n),
                        SqlType::NVarChar(n) => n.map_or(-1, |n| 2 * i64::from(n)),
                        SqlType::Char(n) | SqlType::Binary(n) => i64::from(n),
                        SqlType::VarChar(n) | SqlType::VarBinary(n) => n.map_or(-1, i64::from),
                        SqlType::Int | SqlType::Real | SqlType::SmallDateTime => 4,
                        SqlType::BigInt | SqlType::Float | SqlType::DateTime | SqlType::Money => 8,
                        SqlType::Decimal { .. } => 17,
                        SqlType::UniqueIdentifier => 16,
                        _ => 1,
                    }),
                    _ => Value::Null,
                }
            };
            (SqlType::SqlVariant, value)
        }
        "PARSENAME" => {
            arity("parsename", args.len(), 2, 2)?;
            let part = match (text_arg(&args[0])?, int_arg(&args[1])?) {
                (Some(name), Some(n)) => parse_name(&name, n),
                _ => None,
            };
            (SYSNAME, part.map_or(Value::Null, Value::String))
        }
        "COLLATIONPROPERTY" | "CONNECTIONPROPERTY" | "FULLTEXTSERVICEPROPERTY" => {
            if let Some(r) = ev.server_function(None, name, args) {
                return r.map(Some);
            }
            let texts: Vec<Option<String>> = args.iter().map(text_arg).collect::<Result<_, _>>()?;
            property_fallback(name, &texts)?
        }
        "SCHEMA_NAME" | "SCHEMA_ID" | "TYPE_NAME" | "TYPE_ID" => {
            if let Some(r) = ev.server_function(None, name, args) {
                return r.map(Some);
            }
            arity(&name.to_ascii_lowercase(), args.len(), 0, 1)?;
            lookup(name, args)?
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

/// PARSENAME: part `n` (1 = object … 4 = server) of a dotted name with `[…]` or `"…"` quoting;
/// `None` for a malformed name or part.
fn parse_name(name: &str, n: i64) -> Option<String> {
    if !(1..=4).contains(&n) {
        return None;
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' | '"' => {
                let close = if c == '[' { ']' } else { '"' };
                loop {
                    match chars.next()? {
                        x if x == close && chars.peek() == Some(&close) => {
                            chars.next();
                            current.push(close);
                        }
                        x if x == close => break,
                        x => current.push(x),
                    }
                }
            }
            '.' => parts.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    parts.push(current);
    if parts.len() > 4 {
        return None;
    }
    let index = parts.len().checked_sub(n as usize)?;
    parts.get(index).filter(|p| !p.is_empty()).cloned()
}

/// Answers for property functions the environment leaves alone: the server collation's
/// properties, a TCP connection, and no full-text search.
fn property_fallback(name: &str, args: &[Option<String>]) -> Result<Typed, SqlMessage> {
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .flatten()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let int = |n: i64| (SqlType::SqlVariant, Value::Int(n));
    let text = |s: &str| (SqlType::SqlVariant, Value::text(s));
    let null = (SqlType::SqlVariant, Value::Null);
    Ok(match name {
        "COLLATIONPROPERTY" => {
            arity("collationproperty", args.len(), 2, 2)?;
            if !arg(0).eq_ignore_ascii_case("SQL_Latin1_General_CP1_CI_AS") {
                null
            } else {
                match arg(1).as_str() {
                    "codepage" => int(1252),
                    "lcid" => int(1033),
                    "comparisonstyle" => int(196_609),
                    "version" => int(0),
                    _ => null,
                }
            }
        }
        "CONNECTIONPROPERTY" => {
            arity("connectionproperty", args.len(), 1, 1)?;
            match arg(0).as_str() {
                "net_transport" => text("TCP"),
                "protocol_type" => text("TSQL"),
                "auth_scheme" => text("SQL"),
                _ => null,
            }
        }
        _ => {
            arity("fulltextserviceproperty", args.len(), 1, 1)?;
            int(0)
        }
    })
}

/// The built-in answers of SCHEMA_NAME, SCHEMA_ID, TYPE_NAME and TYPE_ID.
fn lookup(name: &str, args: &[Typed]) -> Result<Typed, SqlMessage> {
    let by_id = |table: &[(i64, &str)], id: Option<i64>| -> Value {
        id.and_then(|id| table.iter().find(|(i, _)| *i == id))
            .map_or(Value::Null, |(_, n)| Value::String((*n).to_owned()))
    };
    let by_name = |table: &[(i64, &str)], n: Option<String>| -> Value {
        n.and_then(|n| table.iter().find(|(_, t)| t.eq_ignore_ascii_case(&n)))
            .map_or(Value::Null, |(i, _)| Value::Int(*i))
    };
    Ok(match name {
        "SCHEMA_NAME" => {
            let id = match args.first() {
                Some(a) => int_arg(a)?,
                None => Some(1),
            };
            (SYSNAME, by_id(SCHEMAS, id))
        }
        "SCHEMA_ID" => {
            let n = match args.first() {
                Some(a) => text_arg(a)?,
                None => Some("dbo".to_owned()),
            };
            (SqlType::Int, by_name(SCHEMAS, n))
        }
        "TYPE_NAME" => {
            let id = match args.first() {
                Some(a) => int_arg(a)?,
                None => None,
            };
            (SYSNAME, by_id(TYPES, id))
        }
        _ => {
            let n = match args.first() {
                Some(a) => text_arg(a)?,
                None => None,
            };
            (SqlType::Int, by_name(TYPES, n))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isnumeric_quirks() {
        for yes in ["1", " 1.5 ", "1e5", "$1,000", "-", "$", ".", "-.5"] {
            assert!(is_numeric(yes), "{yes}");
        }
        for no in ["", "abc", "1a", "e"] {
            assert!(!is_numeric(no), "{no}");
        }
    }

    #[test]
    fn guids_are_version_4() {
        let g = new_guid(u128::MAX);
        assert_eq!(g[6] >> 4, 4);
        assert_eq!(g[8] >> 6, 2);
    }
}
