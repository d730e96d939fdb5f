//! Ordering and equality under the server's collation, SQL_Latin1_General_CP1_CI_AS:
//! case-insensitive, accent-sensitive, trailing spaces ignored. Strings compare first by their
//! letters without accents (punctuation before digits before letters), then by accents, so
//! `a < á < b` and `'ABC' = 'abc  '`.
//!
//! Values compared here already share a type (the caller converts both sides to the type of
//! higher precedence first); numbers of different forms still compare by value.

use std::cmp::Ordering;

use crate::value::{Decimal, Value};

use super::convert::numeric;

/// The letter without its accent (Latin-1), lower-cased, and the accent as a secondary weight.
fn weights(c: char) -> (char, u8) {
    let lower = if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        let mut l = c.to_lowercase();
        match (l.next(), l.next()) {
            (Some(one), None) => one,
            _ => c,
        }
    };
    let (base, accent) = match lower {
        'à' => ('a', 1),
        'á' => ('a', 2),
        'â' => ('a', 3),
        'ã' => ('a', 4),
        'ä' => ('a', 5),
        'å' => ('a', 6),
        'æ' => ('a', 7),
        'ç' => ('c', 1),
        'è' => ('e', 1),
        'é' => ('e', 2),
        'ê' => ('e', 3),
        'ë' => ('e', 4),
        'ì' => ('i', 1),
        'í' => ('i', 2),
        'î' => ('i', 3),
        'ï' => ('i', 4),
        'ð' => ('d', 1),
        'ñ' => ('n', 1),
        'ò' => ('o', 1),
        'ó' => ('o', 2),
        'ô' => ('o', 3),
        'õ' => ('o', 4),
        'ö' => ('o', 5),
        'ø' => ('o', 6),
        'ù' => ('u', 1),
        'ú' => ('u', 2),
        'û' => ('u', 3),
        'ü' => ('u', 4),
        'ý' => ('y', 1),
        'ÿ' => ('y', 2),
        'þ' => ('t', 1),
        'š' => ('s', 1),
        'ž' => ('z', 1),
        'œ' => ('o', 7),
        other => (other, 0),
    };
    (base, accent)
}

/// Punctuation and spaces sort before digits, digits before letters.
fn primary(c: char) -> (u8, u32) {
    let class = if c.is_alphabetic() {
        2
    } else if c.is_numeric() {
        1
    } else {
        0
    };
    (class, c as u32)
}

/// Folds a character for case-insensitive equality (accents kept).
#[must_use]
pub fn fold_char(c: char) -> (char, u8) {
    weights(c)
}

/// Compares two strings under the collation.
#[must_use]
pub fn compare_strings(a: &str, b: &str) -> Ordering {
    let a = a.trim_end_matches(' ');
    let b = b.trim_end_matches(' ');
    let first = a
        .chars()
        .map(|c| primary(weights(c).0))
        .cmp(b.chars().map(|c| primary(weights(c).0)));
    first.then_with(|| {
        a.chars()
            .map(|c| weights(c).1)
            .cmp(b.chars().map(|c| weights(c).1))
    })
}

/// Equality under the collation.
#[must_use]
pub fn strings_equal(a: &str, b: &str) -> bool {
    compare_strings(a, b) == Ordering::Equal
}

/// Binary strings compare byte by byte; trailing zero bytes do not matter.
fn compare_binary(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |x: &[u8]| -> usize { x.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1) };
    a[..trim(a)].cmp(&b[..trim(b)])
}

/// uniqueidentifier's odd order: the last six bytes first, then the groups right to left.
fn compare_guid(a: &[u8; 16], b: &[u8; 16]) -> Ordering {
    let key = |g: &[u8; 16]| -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..6].copy_from_slice(&g[10..16]);
        k[6..8].copy_from_slice(&g[8..10]);
        k[8..10].copy_from_slice(&g[6..8]);
        k[10..12].copy_from_slice(&g[4..6]);
        k[12..16].copy_from_slice(&g[0..4]);
        k
    };
    key(a).cmp(&key(b))
}

fn compare_decimals(a: Decimal, b: Decimal) -> Ordering {
    let scale = a.scale.max(b.scale);
    match (numeric::rescale(a, scale), numeric::rescale(b, scale)) {
        (Some(x), Some(y)) => x.mantissa.cmp(&y.mantissa),
        _ => numeric::to_f64(a).total_cmp(&numeric::to_f64(b)),
    }
}

fn as_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Bit(b) => Some(Decimal {
            mantissa: i128::from(*b),
            scale: 0,
        }),
        Value::Int(n) => Some(Decimal {
            mantissa: i128::from(*n),
            scale: 0,
        }),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        other => as_decimal(other).map(numeric::to_f64),
    }
}

/// Compares two non-NULL values; `None` if either is NULL (three-valued logic: unknown).
#[must_use]
pub fn compare_values(a: &Value, b: &Value) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    Some(sort_cmp(a, b))
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bit(_) | Value::Int(_) | Value::Decimal(_) | Value::Float(_) => 1,
        Value::String(_) => 2,
        Value::Binary(_) => 3,
        Value::DateTime(_) => 4,
        Value::Guid(_) => 5,
    }
}

/// A total order for ORDER BY, GROUP BY and DISTINCT: NULL first, then by value.
#[must_use]
pub fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::String(x), Value::String(y)) => compare_strings(x, y),
        (Value::Binary(x), Value::Binary(y)) => compare_binary(x, y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Guid(x), Value::Guid(y)) => compare_guid(x, y),
        (Value::Float(_), _) | (_, Value::Float(_)) if rank(a) == 1 && rank(b) == 1 => {
            let (x, y) = (as_f64(a).unwrap_or(0.0), as_f64(b).unwrap_or(0.0));
            // -0.0 equals 0.0 in SQL.
            x.partial_cmp(&y).unwrap_or_else(|| x.total_cmp(&y))
        }
        _ if rank(a) == 1 && rank(b) == 1 => match (as_decimal(a), as_decimal(b)) {
            (Some(x), Some(y)) => compare_decimals(x, y),
            _ => Ordering::Equal,
        },
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Rows compared column by column with [`sort_cmp`].
#[must_use]
pub fn compare_rows(a: &[Value], b: &[Value]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| sort_cmp(x, y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::DateTime;

    #[test]
    fn case_insensitive_and_trailing_spaces() {
        assert!(strings_equal("ABC", "abc"));
        assert!(strings_equal("abc  ", "abc"));
        assert!(!strings_equal(" abc", "abc"));
        assert!(!strings_equal("resume", "résumé"));
        assert_eq!(compare_strings("a", "B"), Ordering::Less);
        assert_eq!(compare_strings("Zeta", "alpha"), Ordering::Greater);
    }

    #[test]
    fn accents_sort_next_to_their_letter() {
        assert_eq!(compare_strings("a", "á"), Ordering::Less);
        assert_eq!(compare_strings("á", "b"), Ordering::Less);
        assert_eq!(compare_strings("éa", "eb"), Ordering::Less);
    }

    #[test]
    fn punctuation_digits_letters() {
        assert_eq!(compare_strings("_x", "0"), Ordering::Less);
        assert_eq!(compare_strings("9", "a"), Ordering::Less);
        assert_eq!(compare_strings("db_1", "dba"), Ordering::Less);
    }

    #[test]
    fn numbers_compare_by_value() {
        let d = |m, s| {
            Value::Decimal(Decimal {
                mantissa: m,
                scale: s,
            })
        };
        assert_eq!(sort_cmp(&Value::Int(2), &d(150, 2)), Ordering::Greater);
        assert_eq!(sort_cmp(&d(10, 1), &Value::Int(1)), Ordering::Equal);
        assert_eq!(
            sort_cmp(&Value::Float(-0.0), &Value::Int(0)),
            Ordering::Equal
        );
        assert_eq!(sort_cmp(&Value::Bit(true), &Value::Int(1)), Ordering::Equal);
    }

    #[test]
    fn nulls() {
        assert_eq!(compare_values(&Value::Null, &Value::Null), None);
        assert_eq!(compare_values(&Value::Int(1), &Value::Null), None);
        assert_eq!(
            sort_cmp(&Value::Null, &Value::Int(i64::MIN)),
            Ordering::Less
        );
    }

    #[test]
    fn others() {
        assert_eq!(
            sort_cmp(&Value::Binary(vec![1, 0]), &Value::Binary(vec![1])),
            Ordering::Equal
        );
        let early = Value::DateTime(DateTime { days: 1, ticks: 5 });
        let late = Value::DateTime(DateTime { days: 2, ticks: 0 });
        assert_eq!(sort_cmp(&early, &late), Ordering::Less);
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        a[0] = 1; // first group
        b[15] = 1; // last group weighs most
        assert_eq!(sort_cmp(&Value::Guid(a), &Value::Guid(b)), Ordering::Less);
        assert_eq!(
            compare_rows(
                &[Value::Int(1), Value::Int(2)],
                &[Value::Int(1), Value::Int(3)]
            ),
            Ordering::Less
        );
    }
}
