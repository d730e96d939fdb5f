//! Splitting a script into batches on `GO` lines, as sqlcmd does.
//!
//! A `GO` line is a line holding only `GO` (any case), optionally followed by a repeat count
//! and a `--` comment. `GO n` sets [`Batch::repeat`]: the engine runs the batch n times, as
//! sqlcmd does. `GO 0` or `GO x` is not a separator (the parser then rejects the `GO`). A `GO`
//! line inside a block comment, a string or a quoted identifier does not split the batch.
//! Batches holding only whitespace are dropped.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    pub text: String,
    /// The script line (1-based) on which `text` begins.
    pub first_line: u32,
    /// How many times to run the batch: the count after `GO`, else 1.
    pub repeat: u32,
}

/// What a line ends inside of, carried to the next line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carry {
    Code,
    /// Nested block comment depth.
    Comment(u32),
    /// Inside a string or quoted identifier closed by this character.
    Quote(char),
}

pub fn split_batches(script: &str) -> Vec<Batch> {
    let mut batches = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    let mut first_line = 1u32;
    let mut carry = Carry::Code;
    for (index, line) in script.split('\n').enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if carry == Carry::Code
            && let Some(repeat) = go_count(line)
        {
            push_batch(&mut batches, &lines, first_line, repeat);
            lines.clear();
            first_line = number.saturating_add(1);
            continue;
        }
        carry = scan_line(line, carry);
        lines.push(line);
    }
    push_batch(&mut batches, &lines, first_line, 1);
    batches
}

fn push_batch(batches: &mut Vec<Batch>, lines: &[&str], first_line: u32, repeat: u32) {
    let text = lines.join("\n");
    if !text.trim().is_empty() {
        batches.push(Batch {
            text,
            first_line,
            repeat,
        });
    }
}

/// `Some(count)` when the line is a batch separator.
fn go_count(line: &str) -> Option<u32> {
    let code = line.find("--").map_or(line, |i| &line[..i]);
    let mut words = code.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("GO") {
        return None;
    }
    let count = match words.next() {
        None => 1,
        Some(n) => n.parse::<u32>().ok().filter(|&n| n >= 1)?,
    };
    words.next().is_none().then_some(count)
}

fn scan_line(line: &str, mut carry: Carry) -> Carry {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match carry {
            Carry::Code => match (c, next) {
                ('-', Some('-')) => return Carry::Code,
                ('/', Some('*')) => {
                    carry = Carry::Comment(1);
                    i += 1;
                }
                ('\'', _) => carry = Carry::Quote('\''),
                ('"', _) => carry = Carry::Quote('"'),
                ('[', _) => carry = Carry::Quote(']'),
                _ => {}
            },
            Carry::Comment(depth) => match (c, next) {
                ('/', Some('*')) => {
                    carry = Carry::Comment(depth + 1);
                    i += 1;
                }
                ('*', Some('/')) => {
                    carry = if depth == 1 {
                        Carry::Code
                    } else {
                        Carry::Comment(depth - 1)
                    };
                    i += 1;
                }
                _ => {}
            },
            Carry::Quote(close) if c == close => {
                if next == Some(close) {
                    i += 1;
                } else {
                    carry = Carry::Code;
                }
            }
            Carry::Quote(_) => {}
        }
        i += 1;
    }
    carry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(script: &str) -> Vec<(String, u32, u32)> {
        split_batches(script)
            .into_iter()
            .map(|b| (b.text, b.first_line, b.repeat))
            .collect()
    }

    #[test]
    fn splits_on_go_lines() {
        assert_eq!(
            texts("SELECT 1\ngo\nPRINT 'a'\n  GO  \nPRINT 'b'"),
            [
                ("SELECT 1".into(), 1, 1),
                ("PRINT 'a'".into(), 3, 1),
                ("PRINT 'b'".into(), 5, 1)
            ]
        );
    }

    #[test]
    fn go_with_count_and_comment() {
        assert_eq!(
            texts("PRINT 'x'\nGO 3 -- three times\n"),
            [("PRINT 'x'".into(), 1, 3)]
        );
    }

    #[test]
    fn go_zero_or_words_do_not_split() {
        assert_eq!(texts("a\nGO 0\nb").len(), 1);
        assert_eq!(texts("a\nGO x\nb").len(), 1);
        assert_eq!(texts("a\nGOTO x\nb").len(), 1);
        assert_eq!(texts("a GO\nb").len(), 1);
    }

    #[test]
    fn empty_batches_are_dropped() {
        assert_eq!(texts("GO\n\nGO\n  \nGO"), []);
        assert_eq!(
            texts("\r\nPRINT 'a'\r\nGO\r\n"),
            [("\r\nPRINT 'a'\r".into(), 1, 1)]
        );
    }

    #[test]
    fn go_inside_comments_and_strings_does_not_split() {
        assert_eq!(texts("/* x\nGO\n*/ PRINT 'a'").len(), 1);
        assert_eq!(texts("/* /* */\nGO\n*/").len(), 1);
        assert_eq!(texts("PRINT 'a\nGO\nb'").len(), 1);
        assert_eq!(texts("PRINT 'it''s'\nGO\nPRINT 'b'").len(), 2);
        assert_eq!(texts("SELECT [a\nGO\n]").len(), 1);
        assert_eq!(texts("-- ' not a string\nGO\nPRINT 'b'").len(), 2);
    }
}
