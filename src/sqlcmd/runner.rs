//! A sqlcmd run: start-up (variables, outputs, inputs, login), then the script one line at a
//! time — T-SQL into the statement cache, commands at once, the cache sent on `GO` — and the
//! exit code.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use vdi_server::daemon::protocol::LoginRequest;
use vdi_server::tsql::{RenderOptions, Value};

use super::Tool;
use super::help;
use super::input::{Input, Kind, Line};
use super::lines::{Carry, Command, classify, scan};
use super::options::Options;
use super::printer::{BatchReport, MessageOptions, Outputs, Printer, WriteFailure};
use super::server::resolve_server;
use super::session::{ConnectFailure, Session, Target};
use super::vars::{Headers, Settings, Variables, parse_setvar};

/// `:on error`, or `-b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnError {
    /// Batch errors are printed and the script goes on; a script error (a command's syntax,
    /// an undefined variable, a missing `:r` file) stops it with exit code 1.
    Default,
    /// `-b` or `:on error exit`: any error stops the script with exit code 1.
    Exit,
    /// `:on error ignore`: errors are printed and the script goes on.
    Ignore,
}

/// The run ends with this exit code.
#[derive(Debug)]
struct Stop(u8);

type Step = Result<(), Stop>;

/// `:exit(query)`'s codes when there is no value (sqlcmd's -100, -101, -102, low byte).
const EXIT_ERROR: u8 = 156;
const EXIT_NO_ROWS: u8 = 155;
const EXIT_NOT_NUMERIC: u8 = 154;

struct Runner {
    opts: Options,
    vars: Variables,
    settings: Settings,
    input: Input,
    outputs: Outputs,
    session: Option<Session>,
    /// The statement cache: lines of the batch being written.
    buffer: Vec<String>,
    carry: Carry,
    on_error: OnError,
    /// Standard input is a terminal and the script comes from it.
    interactive: bool,
    /// Set by the query timer of the running batch.
    timed_out: Arc<AtomicBool>,
}

/// Runs sqlcmd (or osql, isql) with parsed options.
pub fn run(opts: Options) -> ExitCode {
    match Runner::start(opts) {
        Ok(mut runner) => {
            let code = match runner.script() {
                Ok(()) => 0,
                Err(Stop(code)) => code,
            };
            ExitCode::from(code)
        }
        Err(Stop(code)) => ExitCode::from(code),
    }
}

/// Prints a start-up error (before any output file is open) and stops with exit code 1.
fn fail(message: &str) -> Stop {
    println!("{message}");
    Stop(1)
}

impl Runner {
    fn start(opts: Options) -> Result<Runner, Stop> {
        let sqlcmd = opts.tool == Tool::Sqlcmd;
        let environment = opts.disable_commands.is_none();
        let mut vars = Variables::new(sqlcmd && environment).map_err(|m| fail(&m))?;
        for (name, value) in &opts.switch_vars {
            vars.set(name, value);
        }
        for (name, value) in &opts.variables {
            vars.setvar(name, Some(value)).map_err(|m| fail(&m))?;
        }
        let settings = Settings::from_vars(&vars).map_err(|m| fail(&m))?;
        let mut input = Input::new();
        if sqlcmd && environment {
            let ini = vars.get("SQLCMDINI").unwrap_or_default();
            if !ini.is_empty() {
                input
                    .push_back_file(Path::new(&ini), &ini)
                    .map_err(|m| fail(&m))?;
            }
        }
        let stdin_terminal = std::io::stdin().is_terminal();
        let mut interactive = false;
        if let Some(query) = &opts.query {
            input.push_back_text(query);
            if !opts.query_exits {
                input.push_back_stdin();
                interactive = stdin_terminal;
            }
        } else if !opts.inputs.is_empty() {
            for file in &opts.inputs {
                let name = file.display().to_string();
                input.push_back_file(file, &name).map_err(|m| fail(&m))?;
            }
        } else {
            input.push_back_stdin();
            interactive = stdin_terminal;
        }
        if let Some(clean) = opts.list_servers {
            println!(
                "{}",
                if clean {
                    "(local)"
                } else {
                    "\nServers:\n    (local)"
                }
            );
            return Err(Stop(0));
        }
        let outputs = Outputs::new(opts.output.as_deref(), opts.redirect, opts.unicode_output)
            .map_err(|m| fail(&m))?;
        let target = login_target(&opts, &vars, stdin_terminal).map_err(|m| fail(&m))?;
        let mut runner = Runner {
            on_error: if opts.exit_on_error {
                OnError::Exit
            } else {
                OnError::Default
            },
            opts,
            vars,
            settings,
            input,
            outputs,
            session: None,
            buffer: Vec::new(),
            carry: Carry::Code,
            interactive,
            timed_out: Arc::new(AtomicBool::new(false)),
        };
        match Session::connect(target, runner.settings.login_timeout) {
            Ok(session) => runner.session = Some(session),
            Err(failure) => {
                runner.report_connect_failure(failure);
                return Err(Stop(1));
            }
        }
        Ok(runner)
    }

    fn report_connect_failure(&mut self, failure: ConnectFailure) {
        match failure {
            ConnectFailure::Refused {
                server_name,
                messages,
            } => {
                for m in messages {
                    self.outputs.error(&format!("{}\n", m.render(&server_name)));
                }
            }
            ConnectFailure::Error(message) => self.outputs.error(&format!("{message}\n")),
        }
    }

    /// Reads and runs the script to its end.
    fn script(&mut self) -> Step {
        loop {
            self.prompt();
            let line = match self.input.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(message) => {
                    self.outputs.error(&format!("{message}\n"));
                    return Err(Stop(1));
                }
            };
            let step = self.line(line);
            self.check_output()?;
            step?;
        }
        // The last batch runs without a GO.
        self.run_buffer(1)?;
        self.check_output()
    }

    /// `1> `, `2> `: on a terminal; for osql and isql before every script line unless `-n`.
    fn prompt(&mut self) {
        let show = match self.input.next_kind() {
            Some(Kind::Stdin) => self.interactive || self.numbered(),
            Some(Kind::File) => self.numbered() && !self.interactive,
            _ => false,
        };
        if show {
            let text = format!("{}> ", self.buffer.len() + 1);
            self.outputs.prompt(&text);
        }
    }

    fn numbered(&self) -> bool {
        self.opts.tool != Tool::Sqlcmd && !self.opts.no_numbering
    }

    /// Stops quietly when standard output was closed, with exit code 1 on other write errors.
    fn check_output(&mut self) -> Step {
        match self.outputs.take_failure() {
            None => Ok(()),
            Some(WriteFailure::ClosedStdout) => Err(Stop(0)),
            Some(WriteFailure::Other(message)) => {
                eprintln!("{message}");
                Err(Stop(1))
            }
        }
    }

    fn substitution(&self) -> bool {
        !self.opts.no_substitution
    }

    fn line(&mut self, line: Line) -> Step {
        let interactive = self.interactive && line.from_stdin;
        let mut text = line.text.clone();
        let is_setvar = self.carry == Carry::Code
            && text
                .trim_start()
                .get(..7)
                .is_some_and(|w| w.eq_ignore_ascii_case(":setvar"));
        if self.substitution() && !is_setvar {
            match self.vars.substitute(&text) {
                Ok(t) => text = t,
                Err(name) => {
                    return self.script_error(
                        &format!("'{name}' scripting variable not defined."),
                        interactive,
                    );
                }
            }
        }
        if self.carry == Carry::Code {
            match classify(&text, self.opts.tool, &self.opts.terminator) {
                Err(word) => {
                    let message = syntax_error(&line, &word);
                    return self.script_error(&message, interactive);
                }
                Ok(Some(command)) => return self.command(command, &line, interactive),
                Ok(None) => {}
            }
        }
        self.carry = scan(&text, self.carry);
        self.buffer.push(text);
        Ok(())
    }

    /// Prints a script error; stops with exit code 1 unless the line was typed at the prompt
    /// or `:on error ignore` is in force.
    fn script_error(&mut self, message: &str, interactive: bool) -> Step {
        self.outputs.error(&format!("{message}\n"));
        if interactive || self.on_error == OnError::Ignore {
            Ok(())
        } else {
            Err(Stop(1))
        }
    }

    fn command(&mut self, command: Command, line: &Line, interactive: bool) -> Step {
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

    /// `GO [n]` (and the end of the script): sends the statement cache `repeat` times.
    fn run_buffer(&mut self, repeat: u32) -> Step {
        let text = self.buffer.join("\n");
        self.buffer.clear();
        self.carry = Carry::Code;
        if text.trim().is_empty() {
            return Ok(());
        }
        for _ in 0..repeat {
            let report = self.run_text(&text)?;
            if let Some(number) = report.state_127 {
                return Err(Stop(number.to_le_bytes()[0]));
            }
            if report.error && self.on_error == OnError::Exit {
                return Err(Stop(1));
            }
        }
        Ok(())
    }

    /// Sends one batch and prints its output.
    fn run_text(&mut self, text: &str) -> Result<BatchReport, Stop> {
        if self.opts.echo {
            self.outputs.out(&format!("{text}\n"));
        }
        let Some(session) = self.session.as_mut() else {
            self.outputs
                .error("Sqlcmd: Error: vdisim : not connected; :connect to a server first.\n");
            return Err(Stop(1));
        };
        let render = render_options(&self.settings, &self.opts);
        let mut printer = Printer {
            outputs: &mut self.outputs,
            render,
            messages: MessageOptions {
                server_name: session.server_name().to_owned(),
                error_level: self.settings.error_level,
                min_error_severity: self.opts.min_error_severity,
            },
            report: BatchReport::default(),
            timed_out: Arc::clone(&self.timed_out),
        };
        let started = Instant::now();
        let outcome = session.run(
            text,
            &mut printer,
            self.settings.query_timeout,
            &self.timed_out,
        );
        let mut report = printer.report;
        match outcome {
            Ok(outcome) if outcome.timed_out => {
                self.outputs.error("Timeout expired\n");
                report.error = true;
                report.any_error = true;
            }
            Ok(_) => {}
            Err(message) => {
                self.outputs.error(&format!("{message}\n"));
                return Err(Stop(1));
            }
        }
        if let Some(colon) = self.opts.statistics {
            let text = statistics(colon, started.elapsed().as_secs_f64() * 1000.0);
            self.outputs.perf(&text);
        }
        self.check_output()?;
        Ok(report)
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
        let socket = match resolve_server(Some(&parsed.server)) {
            Ok(socket) => socket,
            Err(message) => return self.script_error(&message, interactive),
        };
        let current = self.session.as_ref().map(|s| s.target.login.clone());
        let user = parsed
            .user
            .or_else(|| current.as_ref().map(|l| l.user.clone()))
            .unwrap_or_else(|| "sa".to_owned());
        let password = parsed
            .password
            .or_else(|| current.as_ref().map(|l| l.password.clone()))
            .unwrap_or_default();
        let target = Target {
            socket,
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

/// sqlcmd's message for a command it cannot parse.
fn syntax_error(line: &Line, word: &str) -> String {
    match &line.file {
        Some(file) => format!(
            "Sqlcmd: Error: Syntax error at line {} near command '{word}' in file '{file}'.",
            line.number
        ),
        None => format!(
            "Sqlcmd: Error: Syntax error at line {} near command '{word}'.",
            line.number
        ),
    }
}

/// The login the command line, the variables and the environment give.
fn login_target(opts: &Options, vars: &Variables, terminal: bool) -> Result<Target, String> {
    let sqlcmd = opts.tool == Tool::Sqlcmd;
    let environment = opts.disable_commands.is_none();
    let env = |name: &str| {
        environment
            .then(|| std::env::var(name).ok())
            .flatten()
            .filter(|v| !v.is_empty())
    };
    let from_vars = |name: &str| {
        sqlcmd
            .then(|| vars.get(name))
            .flatten()
            .filter(|v| !v.is_empty())
    };
    let server = opts
        .server
        .clone()
        .or_else(|| from_vars("SQLCMDSERVER"))
        .or_else(|| env("OSQLSERVER"));
    let socket = resolve_server(server.as_deref())?;
    let user = opts
        .user
        .clone()
        .or_else(|| from_vars("SQLCMDUSER"))
        .or_else(|| env("OSQLUSER"));
    let password = opts
        .password
        .clone()
        .or_else(|| sqlcmd.then(|| env("SQLCMDPASSWORD")).flatten())
        .or_else(|| env("OSQLPASSWORD"));
    let password = match password {
        Some(p) => p,
        // sqlcmd asks for the password of a -U login when none is given.
        None if opts.user.is_some() && terminal => read_password().unwrap_or_default(),
        None => String::new(),
    };
    let database = opts
        .database
        .clone()
        .or_else(|| from_vars("SQLCMDDBNAME"))
        .map(|d| d.trim_start_matches('[').trim_end_matches(']').to_owned());
    Ok(Target {
        socket,
        login: LoginRequest {
            user: user.unwrap_or_else(|| "sa".to_owned()),
            password,
            database,
            app: Some(opts.tool.name().to_owned()),
        },
    })
}

/// `Password: ` on the terminal, read without echo.
fn read_password() -> Option<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::Write;
    let stdin = std::io::stdin();
    print!("Password: ");
    let _ = std::io::stdout().flush();
    let saved = tcgetattr(&stdin).ok()?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    let _ = tcsetattr(&stdin, OptionalActions::Now, &saved);
    println!();
    read.ok()?;
    Some(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn render_options(settings: &Settings, opts: &Options) -> RenderOptions {
    RenderOptions {
        headers: settings.headers != Headers::Never,
        rows_per_header: match settings.headers {
            Headers::Every(n) => n,
            _ => 0,
        },
        trim: opts.trim,
        separator: settings.column_separator.clone(),
        variable_width: settings.variable_width,
        fixed_width: settings.fixed_width,
        control_characters: opts.control_characters,
        screen_width: settings.screen_width,
    }
}

/// `-p` after a batch (one transaction, in sqlcmd's terms).
fn statistics(colon: bool, ms: f64) -> String {
    let rate = if ms > 0.0 { 1000.0 / ms } else { 0.0 };
    if colon {
        format!("4096:1:{ms:.0}:{ms:.2}:{rate:.2}\n")
    } else {
        format!(
            "Network packet size (bytes): 4096\n1 xact[s]:\nClock Time (ms.): total {ms:>9.0}  avg {ms:>9.2} ({rate:.2} xacts per sec.)\n"
        )
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
