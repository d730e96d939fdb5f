//! Where script lines come from: `-Q`/`-q` text, `-i` files, `:r` files (nested), the
//! `SQLCMDINI` start-up script and standard input, read one line at a time.

use std::collections::VecDeque;
use std::io::{self, BufRead};
use std::path::Path;

/// How deep `:r` may nest (a file that reads itself stops here instead of for ever).
const MAX_DEPTH: usize = 64;

/// One source of lines.
struct Source {
    /// The file's name as given, for messages (`None`: a query or standard input).
    name: Option<String>,
    lines: Lines,
    /// The number of the last line read.
    line: u32,
}

enum Lines {
    Memory(VecDeque<String>),
    /// Standard input, locked one line at a time (the password prompt reads it too).
    Stdin,
}

/// The kind of source a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `-Q`/`-q` text.
    Query,
    /// An `-i`, `:r` or start-up file.
    File,
    Stdin,
}

/// A line and where it came from.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub file: Option<String>,
    pub number: u32,
    /// Read from standard input (interactive prompts and numbering apply).
    pub from_stdin: bool,
}

/// The stack of sources: the innermost `:r` file is read first.
pub struct Input {
    stack: Vec<Source>,
}

impl Input {
    pub fn new() -> Input {
        Input { stack: Vec::new() }
    }

    /// Queues `text` (a `-Q`/`-q` query) to be read after the current sources.
    pub fn push_back_text(&mut self, text: &str) {
        self.stack.insert(
            0,
            Source {
                name: None,
                lines: Lines::Memory(split_lines(text)),
                line: 0,
            },
        );
    }

    /// Queues a file's lines after the current sources (`-i`, in order).
    pub fn push_back_file(&mut self, path: &Path, name: &str) -> Result<(), String> {
        let lines = read_file(path, name)?;
        self.stack.insert(
            0,
            Source {
                name: Some(name.to_owned()),
                lines: Lines::Memory(lines),
                line: 0,
            },
        );
        Ok(())
    }

    /// Queues standard input after the current sources.
    pub fn push_back_stdin(&mut self) {
        self.stack.insert(
            0,
            Source {
                name: None,
                lines: Lines::Stdin,
                line: 0,
            },
        );
    }

    /// `:r`: the file's lines come next, before the rest of the current source.
    pub fn include(&mut self, path: &Path, name: &str) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!(
                "Sqlcmd: Error: :r {name}: files read with :r are nested more than {MAX_DEPTH} deep."
            ));
        }
        let lines = read_file(path, name)?;
        self.stack.push(Source {
            name: Some(name.to_owned()),
            lines: Lines::Memory(lines),
            line: 0,
        });
        Ok(())
    }

    /// Where the next line would come from (`None`: nowhere, the input is exhausted).
    pub fn next_kind(&self) -> Option<Kind> {
        self.stack.last().map(|s| match (&s.lines, &s.name) {
            (Lines::Stdin, _) => Kind::Stdin,
            (Lines::Memory(_), Some(_)) => Kind::File,
            (Lines::Memory(_), None) => Kind::Query,
        })
    }

    /// The next line, `None` when every source is exhausted.
    pub fn next_line(&mut self) -> Result<Option<Line>, String> {
        while let Some(source) = self.stack.last_mut() {
            let text = match &mut source.lines {
                Lines::Memory(lines) => lines.pop_front(),
                Lines::Stdin => {
                    let mut bytes = Vec::new();
                    match io::stdin().lock().read_until(b'\n', &mut bytes) {
                        Ok(0) => None,
                        Ok(_) => {
                            let mut text = String::from_utf8_lossy(&bytes).into_owned();
                            if source.line == 0 {
                                text = text.trim_start_matches('\u{feff}').to_owned();
                            }
                            trim_newline(&mut text);
                            Some(text)
                        }
                        Err(e) => {
                            return Err(format!(
                                "Sqlcmd: Error: cannot read standard input: {}",
                                reason(&e)
                            ));
                        }
                    }
                }
            };
            match text {
                Some(text) => {
                    source.line += 1;
                    return Ok(Some(Line {
                        text,
                        file: source.name.clone(),
                        number: source.line,
                        from_stdin: matches!(source.lines, Lines::Stdin),
                    }));
                }
                None => {
                    self.stack.pop();
                }
            }
        }
        Ok(None)
    }
}

fn trim_newline(text: &mut String) {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
}

fn split_lines(text: &str) -> VecDeque<String> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
        .collect()
}

/// A file's lines: UTF-8 (with or without a byte order mark) or UTF-16 with one, as sqlcmd
/// reads input files.
pub fn read_file(path: &Path, name: &str) -> Result<VecDeque<String>, String> {
    let bytes = std::fs::read(path).map_err(|e| file_error(name, &e))?;
    let text = match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8_lossy(&bytes).into_owned(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = split_lines(text);
    // A final line break does not start another (empty) line.
    if lines.back().is_some_and(String::is_empty) {
        lines.pop_back();
    }
    Ok(lines)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]])).collect();
    String::from_utf16_lossy(&units)
}

/// sqlcmd's message for a file it cannot open.
pub fn file_error(name: &str, e: &io::Error) -> String {
    format!(
        "Sqlcmd: Error: Error occurred while opening or operating on file {name} (Reason: {}).",
        reason(e)
    )
}

/// An I/O error's text without Rust's ` (os error N)` suffix.
pub fn reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_files_come_first_then_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("inner.sql");
        std::fs::write(&inner, "\u{feff}b1\r\nb2\r\n").unwrap();
        let mut input = Input::new();
        input.push_back_text("a1\na2");
        assert_eq!(input.next_line().unwrap().unwrap().text, "a1");
        input.include(&inner, "inner.sql").unwrap();
        let line = input.next_line().unwrap().unwrap();
        assert_eq!(
            (line.text.as_str(), line.file.as_deref(), line.number),
            ("b1", Some("inner.sql"), 1)
        );
        assert_eq!(input.next_line().unwrap().unwrap().text, "b2");
        assert_eq!(input.next_line().unwrap().unwrap().text, "a2");
        assert!(input.next_line().unwrap().is_none());
    }

    #[test]
    fn utf16_files_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u.sql");
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "PRINT 'é'\n".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read_file(&path, "u.sql").unwrap(), ["PRINT 'é'"]);
        let err = read_file(&dir.path().join("nope.sql"), "nope.sql").unwrap_err();
        assert_eq!(
            err,
            "Sqlcmd: Error: Error occurred while opening or operating on file nope.sql (Reason: No such file or directory)."
        );
    }
}
