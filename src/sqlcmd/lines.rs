//! One script line at a time: is it T-SQL for the batch, the batch terminator, or a sqlcmd
//! command? Commands are recognised only at the start of a line that does not begin inside a
//! string, a quoted identifier or a block comment (so a `GO` or `:r` there stays T-SQL).

use super::Tool;

/// What a line ends inside of, carried to the next line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carry {
    Code,
    /// Nested block comment depth.
    Comment(u32),
    /// Inside a string or quoted identifier closed by this character.
    Quote(char),
}

/// The state after `line`, given the state before it.
pub fn scan(line: &str, mut carry: Carry) -> Carry {
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match carry {
            Carry::Code => match (c, next) {
                ('-', Some('-')) => return Carry::Code,
                ('/', Some('*')) => {
                    chars.next();
                    carry = Carry::Comment(1);
                }
                ('\'', _) => carry = Carry::Quote('\''),
                ('"', _) => carry = Carry::Quote('"'),
                ('[', _) => carry = Carry::Quote(']'),
                _ => {}
            },
            Carry::Comment(depth) => match (c, next) {
                ('/', Some('*')) => {
                    chars.next();
                    carry = Carry::Comment(depth + 1);
                }
                ('*', Some('/')) => {
                    chars.next();
                    carry = if depth == 1 {
                        Carry::Code
                    } else {
                        Carry::Comment(depth - 1)
                    };
                }
                _ => {}
            },
            Carry::Quote(close) if c == close => {
                if next == Some(close) {
                    chars.next();
                } else {
                    carry = Carry::Code;
                }
            }
            Carry::Quote(_) => {}
        }
    }
    carry
}

/// Where `:out`, `:error` and `:perftrace` send their output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Stdout,
    Stderr,
    File(String),
}

/// A sqlcmd command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The batch terminator (`GO [n]`).
    Go(u32),
    /// `:setvar`'s arguments, unparsed (they are not substituted).
    SetVar(String),
    ListVar,
    Read(String),
    /// `:on error exit` (true) or `ignore` (false).
    OnError(bool),
    /// `exit` (None), `exit()` (Some("")) or `exit(query)`.
    Exit(Option<String>),
    Quit,
    Out(Dest),
    Error(Dest),
    Perftrace(Dest),
    Connect(String),
    Help,
    Reset,
    List,
    Ed,
    Shell(String),
    ServerList,
    Xml(String),
}

/// A line's meaning when it starts outside strings and comments: `Ok(None)` for T-SQL,
/// `Err(word)` for a command sqlcmd would reject with a syntax error near `word`.
pub fn classify(line: &str, tool: Tool, terminator: &str) -> Result<Option<Command>, String> {
    let text = line.trim();
    let (word, rest) = split_word(text);
    if word.eq_ignore_ascii_case(terminator) {
        let code = rest.find("--").map_or(rest, |i| &rest[..i]).trim();
        if code.is_empty() {
            return Ok(Some(Command::Go(1)));
        }
        return match code.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(Some(Command::Go(n))),
            _ => Err(word.to_owned()),
        };
    }
    let colon = text.starts_with(':');
    if colon && tool != Tool::Sqlcmd {
        return Ok(None);
    }
    let body = if colon { text[1..].trim_start() } else { text };
    if let Some(shell) = body.strip_prefix("!!") {
        return Ok(Some(Command::Shell(shell.trim().to_owned())));
    }
    let (name, args) = split_word(body);
    let lower = name.to_ascii_lowercase();
    // The commands that work without a colon, for osql's scripts.
    let bare = match lower.as_str() {
        "quit" | "reset" | "ed" if args.is_empty() => Some(lower.as_str()),
        _ if lower == "exit" || lower.starts_with("exit(") => Some("exit"),
        _ => None,
    };
    if !colon {
        return match bare {
            Some("exit") => exit(body).map(Some).map_err(|()| name.to_owned()),
            Some("quit") => Ok(Some(Command::Quit)),
            Some("reset") => Ok(Some(Command::Reset)),
            Some("ed") => Ok(Some(Command::Ed)),
            _ => Ok(None),
        };
    }
    let bad = || format!(":{name}");
    let command = match lower.as_str() {
        _ if bare == Some("exit") => exit(body).map_err(|()| bad())?,
        "setvar" => Command::SetVar(args.to_owned()),
        "listvar" if args.is_empty() => Command::ListVar,
        "r" if !args.is_empty() => Command::Read(unquote(args)),
        "on" => {
            let (what, action) = split_word(args);
            match (
                what.to_ascii_lowercase().as_str(),
                action.to_ascii_lowercase().as_str(),
            ) {
                ("error", "exit") => Command::OnError(true),
                ("error", "ignore") => Command::OnError(false),
                _ => return Err(bad()),
            }
        }
        "quit" if args.is_empty() => Command::Quit,
        "out" if !args.is_empty() => Command::Out(dest(args)),
        "error" if !args.is_empty() => Command::Error(dest(args)),
        "perftrace" if !args.is_empty() => Command::Perftrace(dest(args)),
        "connect" if !args.is_empty() => Command::Connect(args.to_owned()),
        "help" => Command::Help,
        "reset" if args.is_empty() => Command::Reset,
        "list" if args.is_empty() => Command::List,
        "ed" if args.is_empty() => Command::Ed,
        "serverlist" => Command::ServerList,
        "xml" => Command::Xml(args.to_owned()),
        _ => return Err(bad()),
    };
    Ok(Some(command))
}

/// `exit`, `exit()` or `exit(query)`; the query must end the line.
fn exit(body: &str) -> Result<Command, ()> {
    let rest = body[4..].trim();
    if rest.is_empty() {
        return Ok(Command::Exit(None));
    }
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or(())?;
    Ok(Command::Exit(Some(inner.trim().to_owned())))
}

fn split_word(text: &str) -> (&str, &str) {
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim()),
        None => (text, ""),
    }
}

fn unquote(text: &str) -> String {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .to_owned()
}

fn dest(args: &str) -> Dest {
    match args.trim().to_ascii_lowercase().as_str() {
        "stdout" => Dest::Stdout,
        "stderr" => Dest::Stderr,
        _ => Dest::File(unquote(args)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlcmd(line: &str) -> Result<Option<Command>, String> {
        classify(line, Tool::Sqlcmd, "GO")
    }

    #[test]
    fn terminators_with_counts_and_comments() {
        assert_eq!(sqlcmd("go"), Ok(Some(Command::Go(1))));
        assert_eq!(sqlcmd("  GO 3 -- thrice"), Ok(Some(Command::Go(3))));
        assert_eq!(sqlcmd("GO 0"), Err("GO".into()));
        assert_eq!(sqlcmd("GOTO done"), Ok(None));
        assert_eq!(
            classify("run", Tool::Sqlcmd, "run"),
            Ok(Some(Command::Go(1)))
        );
        assert_eq!(classify("GO", Tool::Sqlcmd, "run"), Ok(None));
    }

    #[test]
    fn colon_commands() {
        assert_eq!(
            sqlcmd(":setvar x 1"),
            Ok(Some(Command::SetVar("x 1".into())))
        );
        assert_eq!(
            sqlcmd(":R \"my file.sql\""),
            Ok(Some(Command::Read("my file.sql".into())))
        );
        assert_eq!(sqlcmd(":on error EXIT"), Ok(Some(Command::OnError(true))));
        assert_eq!(
            sqlcmd(":On Error ignore"),
            Ok(Some(Command::OnError(false)))
        );
        assert_eq!(sqlcmd(":out stderr"), Ok(Some(Command::Out(Dest::Stderr))));
        assert_eq!(
            sqlcmd(":error e.txt"),
            Ok(Some(Command::Error(Dest::File("e.txt".into()))))
        );
        assert_eq!(
            sqlcmd(":exit(SELECT 1)"),
            Ok(Some(Command::Exit(Some("SELECT 1".into()))))
        );
        assert_eq!(
            sqlcmd(":EXIT ( )"),
            Ok(Some(Command::Exit(Some(String::new()))))
        );
        assert_eq!(sqlcmd(":!! ls"), Ok(Some(Command::Shell("ls".into()))));
        assert_eq!(sqlcmd(":bogus"), Err(":bogus".into()));
        assert_eq!(sqlcmd(":on error maybe"), Err(":on".into()));
        assert_eq!(sqlcmd(":r"), Err(":r".into()));
    }

    #[test]
    fn bare_commands_for_osql_scripts() {
        assert_eq!(sqlcmd("exit"), Ok(Some(Command::Exit(None))));
        assert_eq!(
            sqlcmd("EXIT(SELECT 2)"),
            Ok(Some(Command::Exit(Some("SELECT 2".into()))))
        );
        assert_eq!(sqlcmd("quit"), Ok(Some(Command::Quit)));
        assert_eq!(sqlcmd("!!ls"), Ok(Some(Command::Shell("ls".into()))));
        assert_eq!(sqlcmd("exit now"), Err("exit".into()));
        assert_eq!(sqlcmd("quit it"), Ok(None));
        assert_eq!(sqlcmd("SELECT 1"), Ok(None));
        // osql knows no colon commands: the line is T-SQL.
        assert_eq!(classify(":setvar x 1", Tool::Osql, "GO"), Ok(None));
        assert_eq!(classify("QUIT", Tool::Osql, "GO"), Ok(Some(Command::Quit)));
    }

    #[test]
    fn strings_and_comments_carry_over_lines() {
        assert_eq!(scan("SELECT 'a", Carry::Code), Carry::Quote('\''));
        assert_eq!(scan("GO", Carry::Quote('\'')), Carry::Quote('\''));
        assert_eq!(scan("it''s'", Carry::Quote('\'')), Carry::Code);
        assert_eq!(scan("/* a /* b */", Carry::Code), Carry::Comment(1));
        assert_eq!(scan("*/ SELECT [x", Carry::Comment(1)), Carry::Quote(']'));
        assert_eq!(scan("-- it's", Carry::Code), Carry::Code);
    }
}
