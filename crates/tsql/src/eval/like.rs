//! LIKE and PATINDEX patterns: `%`, `_`, `[abc]`, `[a-z]`, `[^x]` and an ESCAPE character,
//! compared under the case-insensitive, accent-sensitive collation. Matching is the classic
//! two-pointer walk with one backtrack point per `%`, so it takes at most
//! O(text × pattern) steps and never recurses.

use crate::value::compare::fold_char;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Char(char),
    Any,
    Many,
    Set { negated: bool, items: Vec<SetItem> },
}

#[derive(Debug, Clone, PartialEq)]
enum SetItem {
    One(char),
    Range(char, char),
}

fn same(a: char, b: char) -> bool {
    a == b || fold_char(a) == fold_char(b)
}

fn parse(pattern: &str, escape: Option<char>) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if Some(c) == escape && i + 1 < chars.len() {
            tokens.push(Token::Char(chars[i + 1]));
            i += 2;
            continue;
        }
        match c {
            '%' => {
                if tokens.last() != Some(&Token::Many) {
                    tokens.push(Token::Many);
                }
            }
            '_' => tokens.push(Token::Any),
            '[' => {
                // A set runs to the next `]`; without one, `[` is itself.
                let Some(end) = chars[i + 1..].iter().position(|&x| x == ']') else {
                    tokens.push(Token::Char('['));
                    i += 1;
                    continue;
                };
                let body = &chars[i + 1..i + 1 + end];
                let (negated, body) = match body.first() {
                    Some('^') => (true, &body[1..]),
                    _ => (false, body),
                };
                let mut items = Vec::new();
                let mut j = 0;
                while j < body.len() {
                    if j + 2 < body.len() && body[j + 1] == '-' {
                        items.push(SetItem::Range(body[j], body[j + 2]));
                        j += 3;
                    } else {
                        items.push(SetItem::One(body[j]));
                        j += 1;
                    }
                }
                tokens.push(Token::Set { negated, items });
                i += end + 2;
                continue;
            }
            other => tokens.push(Token::Char(other)),
        }
        i += 1;
    }
    tokens
}

fn in_range(c: char, lo: char, hi: char) -> bool {
    let (c, lo, hi) = (fold_char(c).0, fold_char(lo).0, fold_char(hi).0);
    lo <= c && c <= hi
}

fn matches_one(token: &Token, c: char) -> bool {
    match token {
        Token::Char(p) => same(*p, c),
        Token::Any => true,
        Token::Many => false,
        Token::Set { negated, items } => {
            let hit = items.iter().any(|item| match item {
                SetItem::One(x) => same(*x, c),
                SetItem::Range(lo, hi) => in_range(c, *lo, *hi),
            });
            hit != *negated
        }
    }
}

/// Whether `text` matches `pattern`. Non-Unicode comparisons ignore trailing spaces on both
/// sides, as SQL Server does for char/varchar.
#[must_use]
pub fn like_match(text: &str, pattern: &str, escape: Option<char>, unicode: bool) -> bool {
    let (text, pattern) = if unicode {
        (text, pattern)
    } else {
        (text.trim_end_matches(' '), pattern.trim_end_matches(' '))
    };
    let tokens = parse(pattern, escape);
    let chars: Vec<char> = text.chars().collect();
    match_tokens(&tokens, &chars)
}

fn match_tokens(tokens: &[Token], chars: &[char]) -> bool {
    let (mut t, mut c) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while c < chars.len() {
        if t < tokens.len() && tokens[t] == Token::Many {
            star = Some((t, c));
            t += 1;
        } else if t < tokens.len() && matches_one(&tokens[t], chars[c]) {
            t += 1;
            c += 1;
        } else if let Some((st, sc)) = star {
            t = st + 1;
            c = sc + 1;
            star = Some((st, sc + 1));
        } else {
            return false;
        }
    }
    tokens[t..].iter().all(|tok| *tok == Token::Many)
}

/// PATINDEX: the 1-based position of the first match of `%pattern%`-style patterns, 0 if none.
#[must_use]
pub fn pattern_index(text: &str, pattern: &str) -> usize {
    let tokens = parse(pattern, None);
    let chars: Vec<char> = text.chars().collect();
    let leading = tokens.first() == Some(&Token::Many);
    let core = if leading { &tokens[1..] } else { &tokens[..] };
    if !leading {
        return usize::from(match_tokens(&tokens, &chars));
    }
    // The first start from which the rest of the pattern matches.
    if core.is_empty() {
        return usize::from(!chars.is_empty());
    }
    (0..=chars.len())
        .find(|&start| match_tokens(core, &chars[start..]))
        .map_or(0, |start| start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, pattern: &str) -> bool {
        like_match(text, pattern, None, false)
    }

    #[test]
    fn wildcards() {
        assert!(m("master", "mas%"));
        assert!(m("MASTER", "%ter"));
        assert!(m("master", "m_ster"));
        assert!(!m("master", "m_ter"));
        assert!(m("", "%"));
        assert!(!m("", "_"));
        assert!(m("abc", "%%%c"));
        assert!(m("a%c", "a[%]c"));
        assert!(!m("abc", "a[%]c"));
    }

    #[test]
    fn sets() {
        assert!(m("b1", "[a-c][0-9]"));
        assert!(!m("d1", "[a-c][0-9]"));
        assert!(m("x", "[^a-c]"));
        assert!(!m("B", "[^a-c]"));
        assert!(m("-", "[-]"));
        assert!(m("[", "["));
    }

    #[test]
    fn escape_and_spaces() {
        assert!(like_match("50%", "50!%", Some('!'), false));
        assert!(!like_match("500", "50!%", Some('!'), false));
        assert!(like_match("a_b", "a\\_b", Some('\\'), false));
        assert!(m("abc  ", "abc"));
        assert!(!like_match("abc  ", "abc", None, true));
        assert!(!m("résumé", "resume"));
    }

    #[test]
    fn hostile_patterns_finish() {
        let text = "a".repeat(4000);
        let pattern = format!("{}b", "%a".repeat(200));
        assert!(!m(&text, &pattern));
    }

    #[test]
    fn patindex() {
        assert_eq!(pattern_index("abcdef", "%cd%"), 3);
        assert_eq!(pattern_index("abcdef", "%x%"), 0);
        assert_eq!(pattern_index("abc123", "%[0-9]%"), 4);
        assert_eq!(pattern_index("abc", "abc"), 1);
        assert_eq!(pattern_index("abc", "%c"), 3);
    }
}
