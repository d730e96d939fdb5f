//! The command lines of osql and isql, sqlcmd's predecessors, which old backup scripts still
//! call: their own switch sets, an 80-column screen, and `1>` numbering of script lines
//! unless `-n`. Neither knows scripting variables or `:` commands.

use std::path::PathBuf;

use super::Tool;
use super::options::{Cursor, Options, ranged};

/// Parses osql's or isql's command line (without the program name).
pub fn parse_legacy(tool: Tool, args: &[String]) -> Result<Options, String> {
    let name = tool.name();
    parse(tool, args).map_err(|e| e.replacen("Sqlcmd:", &format!("{name}:"), 1))
}

fn parse(tool: Tool, args: &[String]) -> Result<Options, String> {
    let mut o = Options::new(tool);
    o.no_substitution = true;
    // osql and isql wrap output at 80 columns unless -w says otherwise.
    o.switch_vars.push(("SQLCMDCOLWIDTH".into(), "80".into()));
    let mut cursor = Cursor::new(args);
    while let Some(switch) = cursor.switch() {
        let (flag, attached) = switch?;
        let mut var = |n: &str, v: String| o.switch_vars.push((n.to_owned(), v));
        match flag {
            'U' => o.user = Some(cursor.value(flag, attached)?),
            'P' => o.password = Some(cursor.value(flag, attached)?),
            'S' => o.server = Some(cursor.value(flag, attached)?),
            'd' => o.database = Some(cursor.value(flag, attached)?),
            'Q' | 'q' => {
                o.query = Some(cursor.value(flag, attached)?);
                o.query_exits = flag == 'Q';
            }
            'i' => o.inputs.push(PathBuf::from(cursor.value(flag, attached)?)),
            'o' => o.output = Some(PathBuf::from(cursor.value(flag, attached)?)),
            'h' => {
                let v = cursor.value(flag, attached)?;
                let n = ranged(flag, &v, -1, i64::from(i32::MAX))?;
                var("SQLCMDHEADERS", n.to_string());
            }
            's' => var("SQLCMDCOLSEP", cursor.value(flag, attached)?),
            'w' => {
                let v = cursor.value(flag, attached)?;
                var("SQLCMDCOLWIDTH", ranged(flag, &v, 9, 65535)?.to_string());
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
            'm' => {
                let v = cursor.value(flag, attached)?;
                var("SQLCMDERRORLEVEL", ranged(flag, &v, -1, 25)?.to_string());
            }
            'r' => {
                let v = cursor.optional(attached, &["0", "1"]).unwrap_or_default();
                o.redirect = Some(u8::from(v == "1"));
            }
            'c' => o.terminator = cursor.value(flag, attached)?,
            'a' | 'H' => {
                cursor.value(flag, attached)?;
            }
            // isql's -x is the largest text value shown, not "no substitution".
            'x' if tool == Tool::Isql => {
                cursor.value(flag, attached)?;
            }
            'n' => o.no_numbering = true,
            'b' => o.exit_on_error = true,
            'e' => o.echo = true,
            'p' => o.statistics = Some(false),
            'L' => o.list_servers = Some(attached.eq_ignore_ascii_case("c")),
            'u' if tool == Tool::Osql => o.unicode_output = true,
            // -I quoted identifiers (always on), -R regional settings, -O old behaviour.
            'I' | 'R' | 'O' => {}
            '?' => o.help = true,
            '\u{0}' => o.version = true,
            'E' => {
                return Err(
                    "Sqlcmd: '-E': vdisim supports SQL Server authentication only; use -U and -P."
                        .to_owned(),
                );
            }
            'D' if tool == Tool::Osql => {
                return Err(
                    "Sqlcmd: '-D': vdisim has no ODBC data sources; name the server with -S."
                        .to_owned(),
                );
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
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn osql_switches() {
        let o = parse_legacy(
            Tool::Osql,
            &args(&[
                "-S", "(local)", "-U", "sa", "-P", "x", "-d", "pubs", "-n", "-b", "-w", "200",
                "-Q", "q",
            ]),
        )
        .unwrap();
        assert_eq!(o.server.as_deref(), Some("(local)"));
        assert!(o.no_numbering && o.exit_on_error && o.no_substitution);
        assert_eq!(
            o.switch_vars.last(),
            Some(&("SQLCMDCOLWIDTH".into(), "200".into()))
        );
        let err = parse_legacy(Tool::Osql, &args(&["-E"])).unwrap_err();
        assert!(err.starts_with("osql: '-E'"), "{err}");
        let err = parse_legacy(Tool::Isql, &args(&["-k"])).unwrap_err();
        assert_eq!(err, "isql: '-k': Unknown Option. Enter '-?' for help.");
        assert!(parse_legacy(Tool::Isql, &args(&["-x", "4096"])).is_ok());
        assert!(parse_legacy(Tool::Osql, &args(&["-x"])).is_err());
    }
}
