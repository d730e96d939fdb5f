//! sqlcmd's scripting variables: the built-in `SQLCMD*` ones (set from the environment and the
//! switches), `-v name=value`, `:setvar`, any environment variable, and `$(name)` substitution.
//!
//! Precedence, lowest first: the environment, `-v`, `:setvar` (a later setting wins). Names are
//! case-insensitive. The read/write built-ins (`SQLCMDHEADERS`, `SQLCMDCOLSEP`, …) decide how
//! later batches run and print, so [`Settings`] is derived from them before every batch.

use std::collections::BTreeMap;

/// The built-in variables sqlcmd sets, with their defaults.
const BUILT_INS: &[(&str, &str)] = &[
    ("SQLCMDCOLSEP", " "),
    ("SQLCMDCOLWIDTH", "0"),
    ("SQLCMDDBNAME", ""),
    ("SQLCMDEDITOR", "vi"),
    ("SQLCMDERRORLEVEL", "0"),
    ("SQLCMDHEADERS", "0"),
    ("SQLCMDINI", ""),
    ("SQLCMDLOGINTIMEOUT", "8"),
    ("SQLCMDMAXFIXEDTYPEWIDTH", "0"),
    ("SQLCMDMAXVARTYPEWIDTH", "256"),
    ("SQLCMDPACKETSIZE", "4096"),
    ("SQLCMDSERVER", ""),
    ("SQLCMDSTATTIMEOUT", "0"),
    ("SQLCMDUSER", ""),
    ("SQLCMDWORKSTATION", ""),
];

/// Set once at start-up (from the environment or a switch); `:setvar` refuses them.
const READ_ONLY: &[&str] = &[
    "SQLCMDDBNAME",
    "SQLCMDINI",
    "SQLCMDPACKETSIZE",
    "SQLCMDPASSWORD",
    "SQLCMDSERVER",
    "SQLCMDUSER",
    "SQLCMDWORKSTATION",
];

/// The scripting variables of one sqlcmd run.
#[derive(Debug, Clone)]
pub struct Variables {
    /// Upper-cased name → (the name as first written, value).
    values: BTreeMap<String, (String, String)>,
    /// Whether `$(NAME)` may fall back to the process environment (not under `-X`).
    environment: bool,
}

impl Variables {
    /// The built-ins with their defaults, overridden by the `SQLCMD*` environment variables
    /// unless `environment` is false (`-X`).
    pub fn new(environment: bool) -> Result<Variables, String> {
        let mut vars = Variables {
            values: BTreeMap::new(),
            environment,
        };
        for (name, default) in BUILT_INS {
            vars.set(name, default);
        }
        if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            vars.set("SQLCMDWORKSTATION", host.trim());
        }
        if environment {
            for (name, _) in BUILT_INS {
                if let Ok(value) = std::env::var(name) {
                    Settings::check(name, &value).map_err(|_| {
                        format!(
                            "Sqlcmd: Error: The environment variable: '{name}' has invalid value: '{value}'."
                        )
                    })?;
                    vars.set(name, &value);
                }
            }
        }
        Ok(vars)
    }

    /// Sets a variable without any check (start-up: the switches and `-v`).
    pub fn set(&mut self, name: &str, value: &str) {
        let key = name.to_ascii_uppercase();
        let shown = self
            .values
            .get(&key)
            .map_or_else(|| name.to_owned(), |(n, _)| n.clone());
        self.values.insert(key, (shown, value.to_owned()));
    }

    /// `:setvar name [value]`: refuses the read-only built-ins and values a built-in cannot
    /// take; without a value the variable is dropped (a built-in goes back to its default).
    pub fn setvar(&mut self, name: &str, value: Option<&str>) -> Result<(), String> {
        let key = name.to_ascii_uppercase();
        if READ_ONLY.contains(&key.as_str()) {
            return Err(format!(
                "Sqlcmd: Error: The scripting variable: '{name}' is read-only."
            ));
        }
        match value {
            Some(value) => {
                Settings::check(&key, value)?;
                self.set(name, value);
            }
            None => match BUILT_INS.iter().find(|(n, _)| *n == key) {
                Some((_, default)) => self.set(name, default),
                None => {
                    self.values.remove(&key);
                }
            },
        }
        Ok(())
    }

    /// The value of `$(name)`: a sqlcmd variable, else an environment variable.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some((_, value)) = self.values.get(&name.to_ascii_uppercase()) {
            return Some(value.clone());
        }
        if !self.environment {
            return None;
        }
        std::env::var(name).ok().or_else(|| {
            std::env::vars()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    /// `:listvar`: every sqlcmd variable as `NAME = "value"`, by name.
    pub fn listing(&self) -> String {
        self.values
            .values()
            .map(|(name, value)| format!("{name} = \"{value}\"\n"))
            .collect()
    }

    /// Replaces every `$(name)` in `line` (one pass: values are not substituted again).
    /// `Err(name)` names the first variable that is not defined. Text that only looks like the
    /// start of a reference (`$(` without a closing parenthesis, or with a blank or quote in
    /// the name) is kept as it is.
    pub fn substitute(&self, line: &str) -> Result<String, String> {
        let mut out = String::with_capacity(line.len());
        let mut rest = line;
        while let Some(start) = rest.find("$(") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find(')') {
                Some(end) if is_variable_name(&after[..end]) => {
                    let name = &after[..end];
                    out.push_str(&self.get(name).ok_or_else(|| name.to_owned())?);
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push_str("$(");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// sqlcmd's rule for variable names: not empty, no blanks, no quotes, not a `$(…)`.
pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '$' | '(' | ')' | '='))
}

/// The arguments of `:setvar`: a name and an optional value, bare or in double quotes (a
/// doubled quote inside stands for one). `None` for a malformed line.
pub fn parse_setvar(args: &str) -> Option<(String, Option<String>)> {
    let args = args.trim();
    let (name, rest) = match args.find(char::is_whitespace) {
        Some(i) => (&args[..i], args[i..].trim_start()),
        None => (args, ""),
    };
    if !is_variable_name(name) {
        return None;
    }
    if rest.is_empty() {
        return Some((name.to_owned(), None));
    }
    let value = parse_value(rest)?;
    Some((name.to_owned(), Some(value)))
}

/// A bare word, or a double-quoted string with `""` for a quote; nothing may follow it.
fn parse_value(text: &str) -> Option<String> {
    let Some(quoted) = text.strip_prefix('"') else {
        return (!text.contains(char::is_whitespace)).then(|| text.to_owned());
    };
    let mut value = String::new();
    let mut chars = quoted.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                value.push('"');
            } else {
                return chars.all(char::is_whitespace).then_some(value);
            }
        } else {
            value.push(c);
        }
    }
    None
}

/// One `-v` argument, `name=value` (the shell has already removed any quotes).
pub fn parse_assignment(arg: &str) -> Option<(String, String)> {
    let (name, value) = arg.split_once('=')?;
    let name = name.trim();
    is_variable_name(name).then(|| (name.to_owned(), value.trim().to_owned()))
}

/// `-h`: the headers once, every n rows, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headers {
    Once,
    Every(usize),
    Never,
}

/// How batches run and print, read from the read/write built-in variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub headers: Headers,
    pub column_separator: String,
    /// `-w`; 0: lines never wrap.
    pub screen_width: usize,
    /// `-y`; 0: unlimited.
    pub variable_width: usize,
    /// `-Y`; 0: unlimited.
    pub fixed_width: usize,
    /// `-m`: errors below this level are not printed; -1 prints every message with a header.
    pub error_level: i32,
    /// `-l` in seconds; 0 waits for ever.
    pub login_timeout: u32,
    /// `-t` in seconds; 0 waits for ever.
    pub query_timeout: u32,
}

impl Settings {
    /// The settings the variables hold now.
    pub fn from_vars(vars: &Variables) -> Result<Settings, String> {
        let value = |name: &str| vars.get(name).unwrap_or_default();
        let number = |name: &str| -> Result<i64, String> {
            let v = value(name);
            Settings::check(name, &v)?;
            Ok(v.trim().parse().unwrap_or(0))
        };
        let headers = match number("SQLCMDHEADERS")? {
            -1 => Headers::Never,
            0 => Headers::Once,
            n => Headers::Every(usize::try_from(n).unwrap_or(usize::MAX)),
        };
        let size = |name: &str| number(name).map(|n| usize::try_from(n).unwrap_or(0));
        let seconds = |name: &str| number(name).map(|n| u32::try_from(n).unwrap_or(0));
        Ok(Settings {
            headers,
            column_separator: value("SQLCMDCOLSEP"),
            screen_width: size("SQLCMDCOLWIDTH")?,
            variable_width: size("SQLCMDMAXVARTYPEWIDTH")?,
            fixed_width: size("SQLCMDMAXFIXEDTYPEWIDTH")?,
            error_level: i32::try_from(number("SQLCMDERRORLEVEL")?).unwrap_or(0),
            login_timeout: seconds("SQLCMDLOGINTIMEOUT")?,
            query_timeout: seconds("SQLCMDSTATTIMEOUT")?,
        })
    }

    /// Whether `value` suits the built-in `name` (other names take anything), with sqlcmd's
    /// message when it does not.
    pub fn check(name: &str, value: &str) -> Result<(), String> {
        let (low, high, rule): (i64, i64, &str) = match name.to_ascii_uppercase().as_str() {
            "SQLCMDHEADERS" => (
                -1,
                i64::from(i32::MAX),
                "-1 or a value between 0 and 2147483647",
            ),
            "SQLCMDCOLWIDTH" => (0, 65535, "0 or a value between 9 and 65535"),
            "SQLCMDMAXVARTYPEWIDTH" | "SQLCMDMAXFIXEDTYPEWIDTH" => {
                (0, 8000, "a value between 0 and 8000")
            }
            "SQLCMDLOGINTIMEOUT" | "SQLCMDSTATTIMEOUT" => (0, 65534, "a value between 0 and 65534"),
            "SQLCMDERRORLEVEL" => (-1, 25, "a value between -1 and 25"),
            "SQLCMDPACKETSIZE" => (512, 32767, "a value between 512 and 32767"),
            _ => return Ok(()),
        };
        let ok = value.trim().parse::<i64>().is_ok_and(|n| {
            (low..=high).contains(&n)
                && !(name.eq_ignore_ascii_case("SQLCMDCOLWIDTH") && (1..=8).contains(&n))
        });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "Sqlcmd: Error: The scripting variable: '{name}' has invalid value: '{value}'; it must be {rule}."
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Variables {
        let mut v = Variables::new(false).unwrap();
        v.set("db", "pubs");
        v
    }

    #[test]
    fn substitutes_defined_variables_once() {
        let mut v = vars();
        v.set("nested", "$(db)");
        assert_eq!(
            v.substitute("USE $(DB); -- $(nested)").unwrap(),
            "USE pubs; -- $(db)"
        );
        assert_eq!(
            v.substitute("SELECT '$(' + ')'").unwrap(),
            "SELECT '$(' + ')'"
        );
        assert_eq!(v.substitute("$(a b)").unwrap(), "$(a b)");
        assert_eq!(v.substitute("SELECT $(missing)"), Err("missing".to_owned()));
    }

    #[test]
    fn setvar_parses_quotes_and_refuses_read_only_names() {
        assert_eq!(parse_setvar("x 1"), Some(("x".into(), Some("1".into()))));
        assert_eq!(
            parse_setvar(r#"x "a ""b"" c""#),
            Some(("x".into(), Some(r#"a "b" c"#.into())))
        );
        assert_eq!(parse_setvar("x"), Some(("x".into(), None)));
        assert_eq!(parse_setvar("x a b"), None);
        assert_eq!(parse_setvar(r#"x "open"#), None);
        let mut v = vars();
        assert!(
            v.setvar("sqlcmdserver", Some("x"))
                .unwrap_err()
                .contains("read-only")
        );
        assert!(v.setvar("SQLCMDHEADERS", Some("abc")).is_err());
        v.setvar("SQLCMDHEADERS", Some("-1")).unwrap();
        assert_eq!(Settings::from_vars(&v).unwrap().headers, Headers::Never);
        v.setvar("SQLCMDHEADERS", None).unwrap();
        assert_eq!(Settings::from_vars(&v).unwrap().headers, Headers::Once);
        v.setvar("db", None).unwrap();
        assert_eq!(v.get("db"), None);
    }

    #[test]
    fn listvar_shows_names_as_written_in_order() {
        let mut v = vars();
        v.set("Zeta", "1");
        let listing = v.listing();
        assert!(listing.contains("SQLCMDCOLSEP = \" \"\n"), "{listing}");
        assert!(listing.ends_with("Zeta = \"1\"\n"), "{listing}");
        assert!(listing.contains("db = \"pubs\"\n"));
    }

    #[test]
    fn assignments_of_v() {
        assert_eq!(parse_assignment("a=b=c"), Some(("a".into(), "b=c".into())));
        assert_eq!(parse_assignment("a="), Some(("a".into(), String::new())));
        assert_eq!(parse_assignment("=x"), None);
        assert_eq!(parse_assignment("novalue"), None);
    }

    #[test]
    fn column_width_must_be_above_8() {
        assert!(Settings::check("SQLCMDCOLWIDTH", "8").is_err());
        assert!(Settings::check("SQLCMDCOLWIDTH", "9").is_ok());
        assert!(Settings::check("SQLCMDCOLWIDTH", "0").is_ok());
        assert!(Settings::check("other", "anything").is_ok());
    }
}
