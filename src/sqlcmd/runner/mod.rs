//! A sqlcmd run: start-up (variables, outputs, inputs, login), then the script one line at a
//! time — T-SQL into the statement cache, commands at once, the cache sent on `GO` — and the
//! exit code.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use vdi_server::tsql::RenderOptions;

use super::Tool;
use super::input::{Input, Kind, Line};
use super::lines::{Carry, classify, scan};
use super::options::Options;
use super::printer::{BatchReport, MessageOptions, Outputs, Printer, WriteFailure};
use super::session::Session;
use super::vars::{Headers, Settings, Variables};

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

mod commands;
mod start;

impl Runner {
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
