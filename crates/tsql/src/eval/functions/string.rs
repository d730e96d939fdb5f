//! String functions. Searches (REPLACE, CHARINDEX) follow the case-insensitive collation;
//! results never grow past 8000 bytes (4000 characters) for non-`(max)` types or 16 MiB for
//! `(max)` ones, so REPLICATE and friends cannot exhaust memory.

use crate::messages::SqlMessage;
use crate::value::compare::fold_char;
use crate::value::convert::{self, MAX_LOB_BYTES, declared_length, text};
use crate::value::{SqlType, Value};

use super::{arity, bad_argument, int_arg, max_if_max, string_kind, text_arg};
use crate::eval::{Typed, errors, like};

/// The character string type a function over `ty` keeps (char(n) → varchar(n)).
fn varying(ty: SqlType) -> SqlType {
    match ty {
        SqlType::Char(n) => SqlType::VarChar(Some(n)),
        SqlType::NChar(n) => SqlType::NVarChar(Some(n)),
        t if t.is_string() => t,
        // Other types read as their text: at most 30 characters (dates, numbers), GUIDs 36.
        SqlType::UniqueIdentifier => SqlType::NVarChar(Some(36)),
        t if t.is_binary() => SqlType::VarChar(declared_length(t).map(|n| n as u32)),
        _ => SqlType::VarChar(Some(30)),
    }
}

/// The number of characters a type's values can produce, as a limit for results.
fn char_limit(ty: SqlType) -> usize {
    match ty {
        SqlType::NVarChar(None) | SqlType::VarChar(None) | SqlType::VarBinary(None) => {
            MAX_LOB_BYTES
        }
        t if t.is_unicode() => 4000,
        _ => 8000,
    }
}

fn string(ty: SqlType, s: Option<String>) -> Typed {
    (
        ty,
        s.map_or(Value::Null, |s| Value::String(convert::fit_string(&s, ty))),
    )
}

/// Position (in chars) of `needle` in `hay` from char index `from`, case-insensitively.
fn find_ci(hay: &[char], needle: &[char], from: usize) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| {
        hay[i..i + needle.len()]
            .iter()
            .zip(needle)
            .all(|(a, b)| fold_char(*a) == fold_char(*b))
    })
}

fn trim_with<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let set: Vec<char> = chars.map_or_else(|| vec![' '], |c| c.chars().collect());
    let is_trimmed = |c: char| set.contains(&c);
    let s = if left {
        s.trim_start_matches(is_trimmed)
    } else {
        s
    };
    if right {
        s.trim_end_matches(is_trimmed)
    } else {
        s
    }
}

/// Counts characters without trailing spaces (LEN).
fn len_chars(s: &str) -> i64 {
    s.trim_end_matches(' ').chars().count() as i64
}

/// The bytes a value occupies (DATALENGTH).
fn data_length(ty: SqlType, v: &Value) -> i64 {
    match v {
        Value::String(s) if ty.is_unicode() => 2 * s.encode_utf16().count() as i64,
        Value::String(s) => s.chars().count() as i64,
        Value::Binary(b) => b.len() as i64,
        Value::Guid(_) => 16,
        _ => match ty {
            SqlType::Bit | SqlType::TinyInt => 1,
            SqlType::SmallInt => 2,
            SqlType::Int | SqlType::Real | SqlType::SmallDateTime => 4,
            SqlType::BigInt | SqlType::Float | SqlType::Money | SqlType::DateTime => 8,
            SqlType::Decimal { precision, .. } => match precision {
                1..=9 => 5,
                10..=19 => 9,
                20..=28 => 13,
                _ => 17,
            },
            SqlType::Date => 3,
            SqlType::Time(s) => 3 + i64::from(s > 2) + i64::from(s > 4),
            SqlType::DateTime2(s) => 6 + i64::from(s > 2) + i64::from(s > 4),
            SqlType::DateTimeOffset(s) => 8 + i64::from(s > 2) + i64::from(s > 4),
            _ => 8,
        },
    }
}

fn length_type(ty: SqlType) -> SqlType {
    if matches!(
        ty,
        SqlType::VarChar(None) | SqlType::NVarChar(None) | SqlType::VarBinary(None)
    ) {
        SqlType::BigInt
    } else {
        SqlType::Int
    }
}

fn int(ty: SqlType, n: Option<i64>) -> Typed {
    (ty, n.map_or(Value::Null, Value::Int))
}

/// QUOTENAME's delimiters.
fn quote_name(s: &str, quote: char) -> Option<String> {
    if s.chars().count() > 128 {
        return None;
    }
    let (open, close) = match quote {
        '[' | ']' => ('[', ']'),
        '"' => ('"', '"'),
        '\'' => ('\'', '\''),
        '(' | ')' => ('(', ')'),
        '<' | '>' => ('<', '>'),
        '{' | '}' => ('{', '}'),
        '`' => ('`', '`'),
        _ => return None,
    };
    let doubled = s.replace(close, &format!("{close}{close}"));
    Some(format!("{open}{doubled}{close}"))
}

pub(super) fn call(name: &str, args: &[Typed]) -> Result<Option<Typed>, SqlMessage> {
    let first = args.first().map_or(SqlType::VarChar(Some(1)), |a| a.0);
    let result = match name {
        "LEN" => {
            arity("len", args.len(), 1, 1)?;
            int(
                length_type(first),
                text_arg(&args[0])?.map(|s| len_chars(&s)),
            )
        }
        "DATALENGTH" => {
            arity("datalength", args.len(), 1, 1)?;
            let (ty, v) = &args[0];
            let n = (!v.is_null()).then(|| data_length(*ty, v));
            int(length_type(*ty), n)
        }
        "UPPER" | "LOWER" => {
            arity(name, args.len(), 1, 1)?;
            let s = text_arg(&args[0])?.map(|s| {
                if name == "UPPER" {
                    s.to_uppercase()
                } else {
                    s.to_lowercase()
                }
            });
            string(varying(first), s)
        }
        "LTRIM" | "RTRIM" | "TRIM" => {
            arity(name, args.len(), 1, 2)?;
            // TRIM(chars FROM s) arrives as (chars, s); LTRIM/RTRIM(s, chars) as written.
            let (subject, chars) = match (name, args.len()) {
                ("TRIM", 2) => (&args[1], Some(&args[0])),
                (_, 2) => (&args[0], Some(&args[1])),
                _ => (&args[0], None),
            };
            let chars = match chars {
                Some(c) => text_arg(c)?,
                None => None,
            };
            let s = text_arg(subject)?.map(|s| {
                trim_with(&s, chars.as_deref(), name != "RTRIM", name != "LTRIM").to_owned()
            });
            string(varying(subject.0), s)
        }
        "SUBSTRING" => {
            arity("substring", args.len(), 3, 3)?;
            substring(args)?
        }
        "LEFT" | "RIGHT" => {
            arity(name, args.len(), 2, 2)?;
            let ty = varying(first);
            let n = int_arg(&args[1])?;
            if n.is_some_and(|n| n < 0) {
                return Err(errors::invalid_length(&name.to_ascii_lowercase()));
            }
            let s = match (text_arg(&args[0])?, n) {
                (Some(s), Some(n)) => {
                    let chars: Vec<char> = s.chars().collect();
                    let n = (n as usize).min(chars.len());
                    Some(if name == "LEFT" {
                        chars[..n].iter().collect()
                    } else {
                        chars[chars.len() - n..].iter().collect()
                    })
                }
                _ => None,
            };
            string(ty, s)
        }
        "REPLACE" => {
            arity("replace", args.len(), 3, 3)?;
            let unicode = args.iter().any(|a| a.0.is_unicode());
            let base = if unicode {
                SqlType::NVarChar(Some(4000))
            } else {
                SqlType::VarChar(Some(8000))
            };
            let ty = max_if_max(first, base);
            let s = match (
                text_arg(&args[0])?,
                text_arg(&args[1])?,
                text_arg(&args[2])?,
            ) {
                (Some(s), Some(find), Some(with)) => {
                    Some(replace_ci(&s, &find, &with, char_limit(ty)))
                }
                _ => None,
            };
            string(ty, s)
        }
        "REPLICATE" => {
            arity("replicate", args.len(), 2, 2)?;
            let ty = max_if_max(first, string_kind(first));
            let s = match (text_arg(&args[0])?, int_arg(&args[1])?) {
                (Some(s), Some(n)) if n >= 0 => {
                    let limit = char_limit(ty);
                    let unit = s.chars().count().max(1);
                    let times = (n as usize).min(limit / unit + 1);
                    let out: String = s.repeat(times).chars().take(limit).collect();
                    Some(out)
                }
                _ => None,
            };
            string(ty, s)
        }
        "SPACE" => {
            arity("space", args.len(), 1, 1)?;
            let s = int_arg(&args[0])?
                .filter(|n| *n >= 0)
                .map(|n| " ".repeat((n as usize).min(8000)));
            string(SqlType::VarChar(Some(8000)), s)
        }
        "CHARINDEX" => {
            arity("charindex", args.len(), 2, 3)?;
            let ty = length_type(args[1].0);
            let start = match args.get(2) {
                Some(a) => int_arg(a)?,
                None => Some(1),
            };
            let n = match (text_arg(&args[0])?, text_arg(&args[1])?, start) {
                (Some(find), Some(s), Some(start)) => {
                    let hay: Vec<char> = s.chars().collect();
                    let needle: Vec<char> = find.chars().collect();
                    let from = (start.max(1) - 1) as usize;
                    Some(find_ci(&hay, &needle, from).map_or(0, |i| i as i64 + 1))
                }
                (Some(_), Some(_), None) | (None, _, _) | (_, None, _) => None,
            };
            int(ty, n)
        }
        "PATINDEX" => {
            arity("patindex", args.len(), 2, 2)?;
            let n = match (text_arg(&args[0])?, text_arg(&args[1])?) {
                (Some(p), Some(s)) => Some(like::pattern_index(&s, &p) as i64),
                _ => None,
            };
            int(length_type(args[1].0), n)
        }
        "STUFF" => {
            arity("stuff", args.len(), 4, 4)?;
            let ty = max_if_max(first, string_kind(first));
            let s = match (
                text_arg(&args[0])?,
                int_arg(&args[1])?,
                int_arg(&args[2])?,
                text_arg(&args[3])?,
            ) {
                (Some(s), Some(start), Some(len), with) => {
                    let chars: Vec<char> = s.chars().collect();
                    if start < 1 || start as usize > chars.len() || len < 0 {
                        None
                    } else {
                        let at = start as usize - 1;
                        let end = (at + len as usize).min(chars.len());
                        let mut out: String = chars[..at].iter().collect();
                        out.push_str(with.as_deref().unwrap_or(""));
                        out.extend(&chars[end..]);
                        Some(out)
                    }
                }
                _ => None,
            };
            string(ty, s)
        }
        "REVERSE" => {
            arity("reverse", args.len(), 1, 1)?;
            string(
                varying(first),
                text_arg(&args[0])?.map(|s| s.chars().rev().collect()),
            )
        }
        "CONCAT" => {
            if args.len() < 2 {
                return Err(errors::argument_count_range("concat", 2, 254));
            }
            concat(args, None)?
        }
        "CONCAT_WS" => {
            if args.len() < 3 {
                return Err(errors::argument_count_range("concat_ws", 3, 254));
            }
            let sep = text_arg(&args[0])?;
            concat(&args[1..], Some(sep.unwrap_or_default()))?
        }
        "QUOTENAME" => {
            arity("quotename", args.len(), 1, 2)?;
            let quote = match args.get(1) {
                Some(q) => text_arg(q)?.and_then(|q| q.chars().next()),
                None => Some('['),
            };
            let s = match (text_arg(&args[0])?, quote) {
                (Some(s), Some(q)) => quote_name(&s, q),
                _ => None,
            };
            string(SqlType::NVarChar(Some(258)), s)
        }
        "ASCII" | "UNICODE" => {
            arity(name, args.len(), 1, 1)?;
            let n = text_arg(&args[0])?.and_then(|s| {
                let c = s.chars().next()?;
                Some(if name == "ASCII" {
                    i64::from(text::code_page_bytes(&c.to_string())[0])
                } else {
                    i64::from(c as u32)
                })
            });
            int(SqlType::Int, n)
        }
        "CHAR" | "NCHAR" => {
            arity(name, args.len(), 1, 1)?;
            let n = int_arg(&args[0])?;
            let c = n.and_then(|n| {
                if name == "CHAR" {
                    u8::try_from(n)
                        .ok()
                        .map(|b| text::from_code_page_bytes(&[b]))
                } else {
                    u32::try_from(n)
                        .ok()
                        .and_then(char::from_u32)
                        .map(|c| c.to_string())
                }
            });
            let ty = if name == "CHAR" {
                SqlType::Char(1)
            } else {
                SqlType::NChar(1)
            };
            string(ty, c)
        }
        "STRING_ESCAPE" => {
            arity("string_escape", args.len(), 2, 2)?;
            let s = text_arg(&args[0])?.map(|s| json_escape(&s));
            string(SqlType::NVarChar(Some(4000)), s)
        }
        "TRANSLATE" => {
            arity("translate", args.len(), 3, 3)?;
            let ty = varying(first);
            let s = match (
                text_arg(&args[0])?,
                text_arg(&args[1])?,
                text_arg(&args[2])?,
            ) {
                (Some(s), Some(from), Some(to)) => {
                    if from.chars().count() != to.chars().count() {
                        return Err(SqlMessage::new(
                            9828,
                            16,
                            1,
                            0,
                            "The second and third arguments of the TRANSLATE built-in function must contain an equal number of characters.",
                        ));
                    }
                    let map: Vec<(char, char)> = from.chars().zip(to.chars()).collect();
                    Some(
                        s.chars()
                            .map(|c| map.iter().find(|(f, _)| *f == c).map_or(c, |(_, t)| *t))
                            .collect(),
                    )
                }
                _ => None,
            };
            string(ty, s)
        }
        _ => return Ok(None),
    };
    Ok(Some(result))
}

fn substring(args: &[Typed]) -> Result<Typed, SqlMessage> {
    let (ty, v) = &args[0];
    let start = int_arg(&args[1])?;
    let length = int_arg(&args[2])?;
    if length.is_some_and(|n| n < 0) {
        return Err(errors::invalid_length("substring"));
    }
    if !(ty.is_string() || ty.is_binary() || v.is_null() || matches!(ty, SqlType::Int)) {
        return Err(bad_argument(*ty, 1, "substring"));
    }
    let out_ty = if ty.is_binary() {
        SqlType::VarBinary(declared_length(*ty).map(|n| n as u32))
    } else {
        varying(*ty)
    };
    let (Some(start), Some(length)) = (start, length) else {
        return Ok((out_ty, Value::Null));
    };
    // Positions before 1 still count against the length.
    let from = start.max(1);
    let to = start.saturating_add(length).max(from);
    let range = |len: usize| -> (usize, usize) {
        let a = ((from - 1) as usize).min(len);
        let b = ((to - 1).max(0) as usize).min(len);
        (a, b.max(a))
    };
    let value = match v {
        Value::Null => Value::Null,
        Value::Binary(b) => {
            let (a, z) = range(b.len());
            Value::Binary(b[a..z].to_vec())
        }
        other => match super::super::expr::to_text(other, *ty)? {
            Some(s) => {
                let chars: Vec<char> = s.chars().collect();
                let (a, z) = range(chars.len());
                Value::String(chars[a..z].iter().collect())
            }
            None => Value::Null,
        },
    };
    Ok((out_ty, value))
}

/// REPLACE under the case-insensitive collation, stopping at `limit` characters.
fn replace_ci(s: &str, find: &str, with: &str, limit: usize) -> String {
    let hay: Vec<char> = s.chars().collect();
    let needle: Vec<char> = find.chars().collect();
    if needle.is_empty() {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut count = 0usize;
    let mut i = 0;
    while i < hay.len() && count < limit {
        match find_ci(&hay, &needle, i) {
            Some(at) if at == i => {
                out.push_str(with);
                count += with.chars().count();
                i += needle.len();
            }
            Some(at) => {
                out.extend(&hay[i..at]);
                count += at - i;
                i = at;
            }
            None => {
                out.extend(&hay[i..]);
                break;
            }
        }
    }
    out
}

/// CONCAT / CONCAT_WS: NULLs count as empty (CONCAT) or are skipped (CONCAT_WS).
fn concat(args: &[Typed], separator: Option<String>) -> Result<Typed, SqlMessage> {
    let unicode = args.iter().any(|a| a.0.is_unicode());
    let any_max = args.iter().any(|a| {
        matches!(
            a.0,
            SqlType::VarChar(None) | SqlType::NVarChar(None) | SqlType::VarBinary(None)
        )
    });
    let total: usize = args
        .iter()
        .map(|a| declared_length(a.0).unwrap_or(30))
        .sum::<usize>()
        + separator
            .as_ref()
            .map_or(0, |s| s.chars().count() * args.len().saturating_sub(1));
    let cap = if unicode { 4000 } else { 8000 };
    let length = (!any_max && total <= cap).then_some(total.max(1) as u32);
    let ty = match (unicode, length) {
        (true, n) => SqlType::NVarChar(n),
        (false, n) => SqlType::VarChar(n),
    };
    let mut parts = Vec::new();
    for a in args {
        match text_arg(a)? {
            Some(s) => parts.push(s),
            None if separator.is_none() => parts.push(String::new()),
            None => {}
        }
    }
    let joined = parts.join(separator.as_deref().unwrap_or(""));
    Ok((ty, Value::String(convert::fit_string(&joined, ty))))
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
