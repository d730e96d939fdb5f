//! The command line of sqlcmd (Microsoft's sqlcmd 17/18 for Linux): its switches, in its own
//! syntax (`-Q query` and `-Qquery`, `-h -1` and `-h-1`, `-r0`, `-k2`, `-v a=1 b=2`).

use std::path::PathBuf;

use vdi_server::tsql::resultset::ControlCharacters;

use super::Tool;
use super::vars::parse_assignment;

/// What the command line asks for.
#[derive(Debug, Clone)]
pub struct Options {
    pub tool: Tool,
    pub server: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub database: Option<String>,
    /// `-Q` (then exit) or `-q` (then go on reading standard input).
    pub query: Option<String>,
    pub query_exits: bool,
    pub inputs: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    /// `-u`: output files in UTF-16LE with a byte order mark.
    pub unicode_output: bool,
    /// `-b`: stop with exit code 1 after a batch with an error.
    pub exit_on_error: bool,
    /// `-V`: errors below this severity do not count for `-b` and the exit code.
    pub min_error_severity: i32,
    /// `-W`.
    pub trim: bool,
    /// `-r0` (errors to stderr) or `-r1` (every message to stderr).
    pub redirect: Option<u8>,
    /// `-e`: echo every batch before it runs.
    pub echo: bool,
    /// `-k[1|2]`.
    pub control_characters: ControlCharacters,
    /// `-x`: `$(name)` is sent as it is.
    pub no_substitution: bool,
    /// `-X` (Some(false)) or `-X1` (Some(true): exit at a disabled command).
    pub disable_commands: Option<bool>,
    /// `-c`: the batch terminator, `GO` by default.
    pub terminator: String,
    /// `-p` (Some(false)) or `-p1` (Some(true): colon format).
    pub statistics: Option<bool>,
    /// `-L` (Some(false)) or `-Lc` (Some(true): clean output).
    pub list_servers: Option<bool>,
    /// osql/isql `-n`: no `1>` numbering of script lines.
    pub no_numbering: bool,
    pub help: bool,
    pub version: bool,
    /// Built-in variables the switches set (`-h` sets SQLCMDHEADERS …), in order.
    pub switch_vars: Vec<(String, String)>,
    /// `-v name=value …`.
    pub variables: Vec<(String, String)>,
    /// `-C`: trust the server's certificate (TDS only).
    pub trust_server_certificate: bool,
    /// `-N[s|m|o]`: the encryption of a TDS connection (mandatory, as sqlcmd 18's default).
    pub encrypt: crate::tds_client::Encrypt,
}

impl Options {
    pub fn new(tool: Tool) -> Options {
        Options {
            tool,
            server: None,
            user: None,
            password: None,
            database: None,
            query: None,
            query_exits: false,
            inputs: Vec::new(),
            output: None,
            unicode_output: false,
            exit_on_error: false,
            min_error_severity: 0,
            trim: false,
            redirect: None,
            echo: false,
            control_characters: ControlCharacters::Keep,
            no_substitution: false,
            disable_commands: None,
            terminator: "GO".to_owned(),
            statistics: None,
            list_servers: None,
            no_numbering: false,
            help: false,
            version: false,
            switch_vars: Vec::new(),
            variables: Vec::new(),
            trust_server_certificate: false,
            encrypt: crate::tds_client::Encrypt::default(),
        }
    }
}

pub fn missing(flag: char) -> String {
    format!("Sqlcmd: '-{flag}': Missing argument. Enter '-?' for help.")
}

/// An integer switch value in `low..=high`, with sqlcmd's message otherwise.
pub fn ranged(flag: char, value: &str, low: i64, high: i64) -> Result<i64, String> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (low..=high).contains(n))
        .ok_or_else(|| {
            format!(
                "Sqlcmd: '-{flag} {value}': value must be greater than or equal to {low} and less than or equal to {high}."
            )
        })
}

/// The argument list being read, one switch at a time.
pub struct Cursor<'a> {
    args: &'a [String],
    next: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(args: &'a [String]) -> Cursor<'a> {
        Cursor { args, next: 0 }
    }

    /// The next switch: its letter and the text attached to it (`-h-1` → ('h', "-1")).
    pub fn switch(&mut self) -> Option<Result<(char, &'a str), String>> {
        let arg = self.args.get(self.next)?;
        self.next += 1;
        if arg == "--help" {
            return Some(Ok(('?', "")));
        }
        if arg == "--version" {
            return Some(Ok(('\u{0}', "")));
        }
        let mut chars = arg.chars();
        match (chars.next(), chars.next()) {
            (Some('-'), Some(flag)) => Some(Ok((flag, chars.as_str()))),
            _ => Some(Err(format!(
                "Sqlcmd: '{arg}': Unexpected argument. Enter '-?' for help."
            ))),
        }
    }

    /// The switch's value: the attached text, else the next argument.
    pub fn value(&mut self, flag: char, attached: &str) -> Result<String, String> {
        if !attached.is_empty() {
            return Ok(attached.to_owned());
        }
        let value = self.args.get(self.next).ok_or_else(|| missing(flag))?;
        self.next += 1;
        Ok(value.clone())
    }

    /// An optional value that must be one of `choices` (`-r 1`, `-N m`): taken from the next
    /// argument only when it is one of them.
    pub fn optional(&mut self, attached: &str, choices: &[&str]) -> Option<String> {
        if !attached.is_empty() {
            return Some(attached.to_owned());
        }
        let next = self.args.get(self.next)?;
        if choices.iter().any(|c| c.eq_ignore_ascii_case(next)) {
            self.next += 1;
            return Some(next.clone());
        }
        None
    }

    /// The arguments after `-v`: `name=value` items up to the next switch (`name` `=value`
    /// split by the shell is joined again).
    pub fn assignments(&mut self, attached: &str) -> Result<Vec<(String, String)>, String> {
        let mut items = Vec::new();
        let mut pending: Vec<String> = Vec::new();
        if !attached.is_empty() {
            pending.push(attached.to_owned());
        }
        while let Some(arg) = self.args.get(self.next) {
            if arg.starts_with('-') {
                break;
            }
            self.next += 1;
            pending.push(arg.clone());
        }
        let mut i = 0;
        while i < pending.len() {
            let mut item = pending[i].clone();
            while !item.contains('=') && pending.get(i + 1).is_some_and(|n| n.starts_with('=')) {
                i += 1;
                item.push_str(&pending[i]);
            }
            if item.ends_with('=') && !item[..item.len() - 1].contains('=') {
                // `name= value`
                if let Some(value) = pending.get(i + 1).filter(|v| !v.contains('=')) {
                    i += 1;
                    item.push_str(value);
                }
            }
            let (name, value) = parse_assignment(&item).ok_or_else(|| {
                format!("Sqlcmd: '-v {item}': Invalid argument. Enter '-?' for help.")
            })?;
            items.push((name, value));
            i += 1;
        }
        if items.is_empty() {
            return Err(missing('v'));
        }
        Ok(items)
    }
}

/// Parses sqlcmd's command line (without the program name).
pub fn parse_sqlcmd(args: &[String]) -> Result<Options, String> {
    let mut o = Options::new(Tool::Sqlcmd);
    let mut widths_given = false;
    let mut cursor = Cursor::new(args);
    while let Some(switch) = cursor.switch() {
        let (flag, attached) = switch?;
        let mut var = |name: &str, value: String| o.switch_vars.push((name.to_owned(), value));
        match flag {
            'S' => {
                let v = cursor.value(flag, attached)?;
                var("SQLCMDSERVER", v.clone());
                o.server = Some(v);
            }
            'U' => {
                let v = cursor.value(flag, attached)?;
                var("SQLCMDUSER", v.clone());
                o.user = Some(v);
            }
            'P' => o.password = Some(cursor.value(flag, attached)?),
            'd' => {
                let v = cursor.value(flag, attached)?;
                var("SQLCMDDBNAME", v.clone());
                o.database = Some(v);
            }
            'Q' | 'q' => {
                o.query = Some(cursor.value(flag, attached)?);
                o.query_exits = flag == 'Q';
            }
            'i' => o.inputs.extend(
                cursor
                    .value(flag, attached)?
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(PathBuf::from),
            ),
            'o' => o.output = Some(PathBuf::from(cursor.value(flag, attached)?)),
            'u' => o.unicode_output = true,
            's' => var("SQLCMDCOLSEP", cursor.value(flag, attached)?),
            'h' => {
                let v = cursor.value(flag, attached)?;
                let n = v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n == -1 || (1..=i64::from(i32::MAX)).contains(n));
                let n = n.ok_or_else(|| {
                    format!("Sqlcmd: '-h {v}': header value must be either -1 or a value between 1 and 2147483647.")
                })?;
                var("SQLCMDHEADERS", n.to_string());
            }
            'w' => {
                let v = cursor.value(flag, attached)?;
                let n = v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (9..=65535).contains(n));
                let n = n.ok_or_else(|| {
                    format!("Sqlcmd: '-w {v}': value must be greater than 8 and less than 65536.")
                })?;
                var("SQLCMDCOLWIDTH", n.to_string());
            }
            'y' | 'Y' => {
                let v = cursor.value(flag, attached)?;
                let n = ranged(flag, &v, 0, 8000)?;
                widths_given = true;
                let name = if flag == 'y' {
                    "SQLCMDMAXVARTYPEWIDTH"
                } else {
                    "SQLCMDMAXFIXEDTYPEWIDTH"
                };
                var(name, n.to_string());
            }
            'l' | 't' => {
                let v = cursor.value(flag, attached)?;
                let n = ranged(flag, &v, 0, 65534)?;
                let name = if flag == 'l' {
                    "SQLCMDLOGINTIMEOUT"
                } else {
                    "SQLCMDSTATTIMEOUT"
                };
                var(name, n.to_string());
            }
            'a' => {
                let v = cursor.value(flag, attached)?;
                let n = v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (512..=32767).contains(n));
                let n = n.ok_or_else(|| {
                    format!(
                        "Sqlcmd: '-a {v}': Packet size has to be a number between 512 and 32767."
                    )
                })?;
                var("SQLCMDPACKETSIZE", n.to_string());
            }
            'H' => var("SQLCMDWORKSTATION", cursor.value(flag, attached)?),
            'm' => {
                let v = cursor.value(flag, attached)?;
                let n = ranged(flag, &v, -1, 25)?;
                var("SQLCMDERRORLEVEL", n.to_string());
            }
            'V' => {
                let v = cursor.value(flag, attached)?;
                o.min_error_severity = i32::try_from(ranged(flag, &v, 0, 25)?).unwrap_or(0);
            }
            'v' => o.variables.extend(cursor.assignments(attached)?),
            'c' => {
                let v = cursor.value(flag, attached)?;
                if v.trim().is_empty() || v.contains(char::is_whitespace) {
                    return Err(format!(
                        "Sqlcmd: '-c {v}': Invalid argument. Enter '-?' for help."
                    ));
                }
                o.terminator = v;
            }
            'b' => o.exit_on_error = true,
            'W' => o.trim = true,
            'e' => o.echo = true,
            'x' => o.no_substitution = true,
            'X' => o.disable_commands = Some(attached == "1"),
            'r' => {
                let v = cursor.optional(attached, &["0", "1"]).unwrap_or_default();
                o.redirect = Some(u8::from(v == "1"));
            }
            'k' => {
                let v = cursor.optional(attached, &["1", "2"]).unwrap_or_default();
                o.control_characters = if v == "2" {
                    ControlCharacters::RunToSpace
                } else {
                    ControlCharacters::EachToSpace
                };
            }
            'p' => o.statistics = Some(attached == "1"),
            'L' => o.list_servers = Some(attached.eq_ignore_ascii_case("c")),
            '?' => o.help = true,
            '\u{0}' => o.version = true,
            // Accepted: connection details without effect here (-M multisubnet failover, -I
            // quoted identifiers (always on), -A dedicated admin connection, -g column
            // encryption, -j raw errors, -R client regional settings: the client's locale is
            // the server's).
            'M' | 'I' | 'A' | 'g' | 'j' | 'R' => {}
            // TDS only (`-S host,port`): trust the certificate; the encryption mode.
            'C' => o.trust_server_certificate = true,
            'N' => {
                const MODES: [&str; 8] = [
                    "s",
                    "m",
                    "o",
                    "strict",
                    "mandatory",
                    "optional",
                    "disable",
                    "true",
                ];
                use crate::tds_client::Encrypt;
                o.encrypt = match cursor
                    .optional(attached, &MODES)
                    .map(|m| m.to_ascii_lowercase())
                    .as_deref()
                {
                    Some("s" | "strict") => Encrypt::Strict,
                    Some("o" | "optional" | "disable") => Encrypt::Optional,
                    _ => Encrypt::Mandatory,
                };
            }
            'K' | 'f' | 'F' => {
                cursor.value(flag, attached)?;
            }
            'E' => {
                return Err(
                    "Sqlcmd: '-E': vdisim supports SQL Server authentication only; use -U and -P (or $SQLCMDUSER and $SQLCMDPASSWORD)."
                        .to_owned(),
                );
            }
            'G' => {
                return Err(
                    "Sqlcmd: '-G': vdisim has no Microsoft Entra (Azure AD) authentication; use -U and -P."
                        .to_owned(),
                );
            }
            'D' => {
                return Err(
                    "Sqlcmd: '-D': vdisim's sqlcmd has no ODBC data sources; name the server with -S."
                        .to_owned(),
                );
            }
            'z' | 'Z' => {
                return Err(format!(
                    "Sqlcmd: '-{flag}': vdisim's sqlcmd does not change passwords; run ALTER LOGIN in a batch, or restart vdisim server with --sa-password."
                ));
            }
            _ => {
                return Err(format!(
                    "Sqlcmd: '-{flag}': Unknown Option. Enter '-?' for help."
                ));
            }
        }
    }
    if o.query.is_some() && !o.inputs.is_empty() {
        return Err("Sqlcmd: The -Q/-q and -i options are mutually exclusive.".to_owned());
    }
    if o.trim && widths_given {
        return Err("Sqlcmd: The -W and the -y/-Y options are mutually exclusive.".to_owned());
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn var(o: &Options, name: &str) -> Option<String> {
        o.switch_vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn parses_the_switches_scripts_use() {
        let o = parse_sqlcmd(&args(&[
            "-S", ".", "-Usa", "-P", "pw", "-Q", "SELECT 1", "-b", "-h", "-1", "-W", "-s,", "-C",
            "-N", "-l", "30", "-t", "0", "-d", "pubs", "-r1", "-V", "16",
        ]))
        .unwrap();
        assert_eq!(o.server.as_deref(), Some("."));
        assert_eq!(o.user.as_deref(), Some("sa"));
        assert_eq!(o.password.as_deref(), Some("pw"));
        assert_eq!(o.query.as_deref(), Some("SELECT 1"));
        assert!(o.query_exits && o.exit_on_error && o.trim);
        assert_eq!(var(&o, "SQLCMDHEADERS").as_deref(), Some("-1"));
        assert_eq!(var(&o, "SQLCMDCOLSEP").as_deref(), Some(","));
        assert_eq!(var(&o, "SQLCMDLOGINTIMEOUT").as_deref(), Some("30"));
        assert_eq!(o.database.as_deref(), Some("pubs"));
        assert_eq!((o.redirect, o.min_error_severity), (Some(1), 16));
        let o = parse_sqlcmd(&args(&[
            "-i",
            "a.sql,b.sql",
            "-i",
            "c.sql",
            "-N",
            "m",
            "-h-1",
            "-k2",
        ]))
        .unwrap();
        assert_eq!(o.inputs.len(), 3);
        assert_eq!(o.control_characters, ControlCharacters::RunToSpace);
    }

    #[test]
    fn v_takes_several_assignments() {
        let o = parse_sqlcmd(&args(&[
            "-v", "db=pubs", "n=1", "col", "=name", "-v", "x= y", "-Q", "q",
        ]))
        .unwrap();
        assert_eq!(
            o.variables,
            [
                ("db".into(), "pubs".into()),
                ("n".into(), "1".into()),
                ("col".into(), "name".into()),
                ("x".into(), "y".into())
            ]
        );
        assert!(
            parse_sqlcmd(&args(&["-v"]))
                .unwrap_err()
                .contains("Missing argument")
        );
        assert!(
            parse_sqlcmd(&args(&["-v", "novalue"]))
                .unwrap_err()
                .contains("Invalid argument")
        );
    }

    #[test]
    fn refuses_unknown_incomplete_and_out_of_range_switches() {
        let err = |list: &[&str]| parse_sqlcmd(&args(list)).unwrap_err();
        assert!(err(&["-T"]).contains("'-T': Unknown Option"));
        assert!(err(&["-S"]).contains("Missing argument"));
        assert!(err(&["query"]).contains("Unexpected argument"));
        assert!(err(&["-Q", "x", "-i", "f"]).contains("mutually exclusive"));
        assert!(err(&["-E"]).contains("SQL Server authentication only"));
        assert!(err(&["-w", "5"]).contains("greater than 8"));
        assert!(err(&["-h", "0"]).contains("-1 or a value between 1"));
        assert!(err(&["-t", "70000"]).contains("less than or equal to 65534"));
        assert!(err(&["-W", "-y", "10"]).contains("mutually exclusive"));
        assert!(err(&["-Z", "new"]).contains("does not change passwords"));
        assert!(parse_sqlcmd(&args(&["--help"])).unwrap().help);
        assert!(parse_sqlcmd(&args(&["-?"])).unwrap().help);
    }
}
