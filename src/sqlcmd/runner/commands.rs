//! The script commands that act at once: `:setvar`, `:r`, `:exit(query)`, `:connect` …

use std::path::Path;

use vdi_server::daemon::protocol::LoginRequest;
use vdi_server::tsql::Value;

use super::{
    EXIT_ERROR, EXIT_NO_ROWS, EXIT_NOT_NUMERIC, OnError, Runner, Step, Stop, syntax_error,
};
use crate::sqlcmd::help;
use crate::sqlcmd::input::Line;
use crate::sqlcmd::lines::{Carry, Command};
use crate::sqlcmd::server::resolve_address;
use crate::sqlcmd::session::{Session, Target, TdsSettings};
use crate::sqlcmd::vars::{Settings, parse_setvar};

impl Runner {
    pub(super) fn command(&mut self, command: Command, line: &Line, interactive: bool) -> Step {
        match command {
            Command::Go(repeat) => self.run_buffer(repeat),
            Command::SetVar(args) => {
                let Some((name, value)) = parse_setvar(&args) else {
                    return self.script_error(&syntax_error(line, ":setvar"), interactive);
                };
                match self.vars.setvar(&name, value.as_deref()) {
                    Ok(()) => {
                        // Values were checked as they were set.
                        self.settings = Settings::from_vars(&self.vars)
                            .unwrap_or_else(|_| self.settings.clone());
                        Ok(())
                    }
                    Err(message) => self.script_error(&message, interactive),
                }
            }
            Command::ListVar => {
                let listing = self.vars.listing();
                self.outputs.out(&listing);
                Ok(())
            }
            Command::Read(name) => match self.input.include(Path::new(&name), &name) {
                Ok(()) => Ok(()),
                Err(message) => self.script_error(&message, interactive),
            },
            Command::OnError(exit) => {
                self.on_error = if exit { OnError::Exit } else { OnError::Ignore };
                Ok(())
            }
            Command::Exit(None) | Command::Quit => Err(Stop(0)),
            Command::Exit(Some(query)) => self.exit_with(&query),
            Command::Out(dest) => {
                let result = self.outputs.set_out(&dest);
                self.redirected(result, interactive)
            }
            Command::Error(dest) => {
                let result = self.outputs.set_err(&dest);
                self.redirected(result, interactive)
            }
            Command::Perftrace(dest) => {
                let result = self.outputs.set_perf(&dest);
                self.redirected(result, interactive)
            }
            Command::Connect(args) => self.reconnect(&args, line, interactive),
            Command::Help => {
                self.outputs.out(help::COMMANDS);
                Ok(())
            }
            Command::Reset => {
                self.buffer.clear();
                self.carry = Carry::Code;
                Ok(())
            }
            Command::List => {
                let listing: String = self.buffer.iter().map(|l| format!("{l}\n")).collect();
                self.outputs.out(&listing);
                Ok(())
            }
            Command::Ed | Command::Shell(_) => {
                let message = if self.opts.disable_commands.is_some() {
                    "Sqlcmd: Warning: ED and !!<command> commands, startup script, and environment variables are disabled."
                } else {
                    "Sqlcmd: Warning: ED and !!<command> commands are disabled: vdisim's sqlcmd runs no editor and no operating system command."
                };
                self.outputs.error(&format!("{message}\n"));
                if self.opts.disable_commands == Some(true) {
                    return Err(Stop(1));
                }
                Ok(())
            }
            Command::ServerList => self.script_error(
                "Sqlcmd: Error: :ServerList is not supported on Linux.",
                interactive,
            ),
            Command::Xml(mode) if mode.trim().eq_ignore_ascii_case("off") => Ok(()),
            Command::Xml(_) => self.script_error(
                "Sqlcmd: Error: :XML ON is not supported on Linux.",
                interactive,
            ),
        }
    }

    fn redirected(&mut self, result: Result<(), String>, interactive: bool) -> Step {
        match result {
            Ok(()) => Ok(()),
            Err(message) => self.script_error(&message, interactive),
        }
    }

    /// `:exit()` and `:exit(query)`: runs the cache (with the query) and stops with the
    /// query's value as exit code.
    fn exit_with(&mut self, query: &str) -> Step {
        let mut text = self.buffer.join("\n");
        self.buffer.clear();
        if query.is_empty() {
            if text.trim().is_empty() {
                return Err(Stop(0));
            }
            let report = self.run_text(&text)?;
            return Err(Stop(u8::from(
                report.error && self.on_error == OnError::Exit,
            )));
        }
        if !text.trim().is_empty() {
            text.push('\n');
        }
        text.push_str(query);
        let report = self.run_text(&text)?;
        let code = if report.any_error {
            EXIT_ERROR
        } else if !report.rows_seen {
            EXIT_NO_ROWS
        } else {
            report
                .last_value
                .as_ref()
                .and_then(integer_value)
                .map_or(EXIT_NOT_NUMERIC, |v| v.to_le_bytes()[0])
        };
        Err(Stop(code))
    }

    /// `:connect server [-l timeout] [-U user [-P password]]`.
    fn reconnect(&mut self, args: &str, line: &Line, interactive: bool) -> Step {
        let Some(parsed) = parse_connect(args) else {
            return self.script_error(&syntax_error(line, ":connect"), interactive);
        };
        let address = match resolve_address(Some(&parsed.server)) {
            Ok(address) => address,
            Err(message) => return self.script_error(&message, interactive),
        };
        let current = self.session.as_ref().map(|s| s.target.login.clone());
        let tds = self.session.as_ref().map_or(
            TdsSettings {
                encrypt: self.opts.encrypt,
                trust_server_certificate: self.opts.trust_server_certificate,
                ..TdsSettings::default()
            },
            |s| s.target.tds,
        );
        let user = parsed
            .user
            .or_else(|| current.as_ref().map(|l| l.user.clone()))
            .unwrap_or_else(|| "sa".to_owned());
        let password = parsed
            .password
            .or_else(|| current.as_ref().map(|l| l.password.clone()))
            .unwrap_or_default();
        let target = Target {
            address,
            tds,
            login: LoginRequest {
                user: user.clone(),
                password,
                database: None,
                app: Some(self.opts.tool.name().to_owned()),
            },
        };
        self.session = None;
        let timeout = parsed.timeout.unwrap_or(self.settings.login_timeout);
        match Session::connect(target, timeout) {
            Ok(session) => {
                self.session = Some(session);
                self.vars.set("SQLCMDSERVER", &parsed.server);
                self.vars.set("SQLCMDUSER", &user);
                Ok(())
            }
            Err(failure) => {
                self.report_connect_failure(failure);
                if interactive || self.on_error == OnError::Ignore {
                    Ok(())
                } else {
                    Err(Stop(1))
                }
            }
        }
    }
}

/// `:exit(query)`'s value as a 4-byte integer, if it is numeric.
fn integer_value(value: &Value) -> Option<i32> {
    let wide: i64 = match value {
        Value::Int(n) => *n,
        Value::Bit(b) => i64::from(*b),
        Value::Decimal(d) => {
            let scale = 10i128.checked_pow(u32::from(d.scale))?;
            i64::try_from(d.mantissa / scale).ok()?
        }
        Value::Float(f) if f.is_finite() => f.trunc() as i64,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    // Only the low 32 bits make the integer, as sqlcmd's conversion to a long does.
    Some(wide as i32)
}

struct ConnectArgs {
    server: String,
    timeout: Option<u32>,
    user: Option<String>,
    password: Option<String>,
}

/// The arguments of `:connect`.
fn parse_connect(args: &str) -> Option<ConnectArgs> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (server, rest) = words.split_first()?;
    let mut parsed = ConnectArgs {
        server: (*server).to_owned(),
        timeout: None,
        user: None,
        password: None,
    };
    let mut i = 0;
    while i < rest.len() {
        let word = rest[i];
        let flag = word.strip_prefix('-')?.chars().next()?;
        let attached = &word[1 + flag.len_utf8()..];
        let mut value = || -> Option<String> {
            if attached.is_empty() {
                i += 1;
                rest.get(i).map(|v| (*v).to_owned())
            } else {
                Some(attached.to_owned())
            }
        };
        match flag {
            'l' => parsed.timeout = Some(value()?.parse().ok()?),
            'U' => parsed.user = Some(value()?),
            'P' => parsed.password = Some(value()?),
            'F' => {
                value()?;
            }
            'N' | 'C' => {}
            _ => return None,
        }
        i += 1;
    }
    Some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_arguments() {
        let c = parse_connect(". -l 5 -U sa -Ppw").unwrap();
        assert_eq!(
            (
                c.server.as_str(),
                c.timeout,
                c.user.as_deref(),
                c.password.as_deref()
            ),
            (".", Some(5), Some("sa"), Some("pw"))
        );
        assert!(parse_connect("").is_none());
        assert!(parse_connect(". -Q x").is_none());
        assert!(parse_connect(". -l").is_none());
    }

    #[test]
    fn exit_values() {
        assert_eq!(integer_value(&Value::Int(300)), Some(300));
        assert_eq!(integer_value(&Value::text(" 7 ")), Some(7));
        assert_eq!(integer_value(&Value::text("x")), None);
        assert_eq!(integer_value(&Value::Float(2.9)), Some(2));
        assert_eq!(integer_value(&Value::Null), None);
        assert_eq!(300i32.to_le_bytes()[0], 44);
    }
}
