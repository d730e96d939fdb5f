//! Where sqlcmd's output goes (`-o`, `:out`, `:error`, `-r`, `-u`) and how a batch's messages,
//! result sets and row counts are printed as they arrive.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use vdi_server::engine::{OutputSink, rows_affected_line};
use vdi_server::tsql::{RenderOptions, ResultSet, SqlMessage, Value};

use super::input::file_error;
use super::lines::Dest;

/// One output stream.
enum Stream {
    Stdout,
    Stderr,
    File(BufWriter<File>),
}

/// A stream and whether it is written as UTF-16LE (`-u` applies to files only).
struct Target {
    stream: Stream,
    utf16: bool,
}

impl Target {
    fn write(&mut self, text: &str) -> io::Result<()> {
        match &mut self.stream {
            Stream::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(text.as_bytes())?;
                out.flush()
            }
            Stream::Stderr => io::stderr().lock().write_all(text.as_bytes()),
            Stream::File(file) => {
                if self.utf16 {
                    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
                    file.write_all(&bytes)?;
                } else {
                    file.write_all(text.as_bytes())?;
                }
                file.flush()
            }
        }
    }
}

/// What a write failure means for the run.
#[derive(Debug)]
pub enum WriteFailure {
    /// Standard output was closed (`sqlcmd … | head`): stop quietly.
    ClosedStdout,
    Other(String),
}

/// The output streams of a sqlcmd run.
pub struct Outputs {
    out: Target,
    /// `:error`'s choice; `None`: errors go with `-r`, else with the results.
    err: Option<Target>,
    /// `:perftrace`'s choice; `None`: standard output.
    perf: Option<Target>,
    /// `-r0` (errors to stderr) or `-r1` (all messages).
    redirect: Option<u8>,
    unicode: bool,
    failure: Option<WriteFailure>,
}

impl Outputs {
    /// Standard output, or the `-o` file (created or truncated).
    pub fn new(
        output: Option<&Path>,
        redirect: Option<u8>,
        unicode: bool,
    ) -> Result<Outputs, String> {
        let out = match output {
            Some(path) => open(&Dest::File(path.display().to_string()), unicode)?,
            None => Target {
                stream: Stream::Stdout,
                utf16: false,
            },
        };
        Ok(Outputs {
            out,
            err: None,
            perf: None,
            redirect,
            unicode,
            failure: None,
        })
    }

    /// `:out`.
    pub fn set_out(&mut self, dest: &Dest) -> Result<(), String> {
        self.out = open(dest, self.unicode)?;
        Ok(())
    }

    /// `:error`.
    pub fn set_err(&mut self, dest: &Dest) -> Result<(), String> {
        self.err = Some(open(dest, self.unicode)?);
        Ok(())
    }

    /// `:perftrace`.
    pub fn set_perf(&mut self, dest: &Dest) -> Result<(), String> {
        self.perf = Some(open(dest, self.unicode)?);
        Ok(())
    }

    /// Results and informational messages.
    pub fn out(&mut self, text: &str) {
        let result = self.out.write(text);
        self.note(result, matches!(self.out.stream, Stream::Stdout));
    }

    /// An informational message (PRINT): stderr under `-r1`.
    pub fn info(&mut self, text: &str) {
        if self.redirect == Some(1) {
            let _ = io::stderr().lock().write_all(text.as_bytes());
        } else {
            self.out(text);
        }
    }

    /// An error (a server error or sqlcmd's own): `:error`'s stream, else stderr under `-r`,
    /// else with the results.
    pub fn error(&mut self, text: &str) {
        if let Some(err) = &mut self.err {
            let result = err.write(text);
            let stdout = matches!(err.stream, Stream::Stdout);
            self.note(result, stdout);
        } else if self.redirect.is_some() {
            let _ = io::stderr().lock().write_all(text.as_bytes());
        } else {
            self.out(text);
        }
    }

    /// `-p` statistics: `:perftrace`'s stream, else standard output.
    pub fn perf(&mut self, text: &str) {
        match &mut self.perf {
            Some(perf) => {
                let result = perf.write(text);
                let stdout = matches!(perf.stream, Stream::Stdout);
                self.note(result, stdout);
            }
            None => {
                let result = io::stdout().lock().write_all(text.as_bytes());
                self.note(result, true);
            }
        }
    }

    /// A prompt (`1> `): always the terminal's standard output.
    pub fn prompt(&mut self, text: &str) {
        let mut out = io::stdout().lock();
        let result = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        self.note(result, true);
    }

    fn note(&mut self, result: io::Result<()>, stdout: bool) {
        if let Err(e) = result {
            let failure = if stdout && e.kind() == io::ErrorKind::BrokenPipe {
                WriteFailure::ClosedStdout
            } else {
                WriteFailure::Other(format!(
                    "Sqlcmd: Error: cannot write the output: {}",
                    super::input::reason(&e)
                ))
            };
            self.failure.get_or_insert(failure);
        }
    }

    /// The first write failure since the last call.
    pub fn take_failure(&mut self) -> Option<WriteFailure> {
        self.failure.take()
    }
}

fn open(dest: &Dest, unicode: bool) -> Result<Target, String> {
    let stream = match dest {
        Dest::Stdout => Stream::Stdout,
        Dest::Stderr => Stream::Stderr,
        Dest::File(name) => {
            let mut file = File::create(name).map_err(|e| file_error(name, &e))?;
            if unicode {
                file.write_all(&[0xFF, 0xFE])
                    .map_err(|e| file_error(name, &e))?;
            }
            Stream::File(BufWriter::new(file))
        }
    };
    Ok(Target {
        stream,
        utf16: unicode && matches!(dest, Dest::File(_)),
    })
}

/// How messages are shown.
#[derive(Debug, Clone)]
pub struct MessageOptions {
    pub server_name: String,
    /// `-m`: errors below this level are hidden; -1 gives informational messages a header.
    pub error_level: i32,
    /// `-V`: errors below this severity do not count as failures.
    pub min_error_severity: i32,
}

/// What a batch did, as far as the exit code is concerned.
#[derive(Debug, Default, Clone)]
pub struct BatchReport {
    /// An error of level > 10 and ≥ `-V`.
    pub error: bool,
    /// Any error of level > 10 at all.
    pub any_error: bool,
    /// `RAISERROR(…, 127)`: sqlcmd exits with this message number.
    pub state_127: Option<u32>,
    /// The first column of the last row of the last result set, for `:exit(query)`.
    pub last_value: Option<Value>,
    /// A result set with rows was seen.
    pub rows_seen: bool,
}

/// The [`OutputSink`] of one batch: prints everything as it arrives, unless the batch timed
/// out (output after the attention is dropped, as a driver discards it).
pub struct Printer<'a> {
    pub outputs: &'a mut Outputs,
    pub render: RenderOptions,
    pub messages: MessageOptions,
    pub report: BatchReport,
    pub timed_out: Arc<AtomicBool>,
}

impl OutputSink for Printer<'_> {
    fn message(&mut self, message: SqlMessage) {
        if self.timed_out.load(Ordering::SeqCst) {
            return;
        }
        let is_error = message.is_error();
        if is_error {
            self.report.any_error = true;
            if i32::from(message.level) >= self.messages.min_error_severity {
                self.report.error = true;
            }
        }
        if message.state == 127 {
            self.report.state_127.get_or_insert(message.number);
        }
        let level = self.messages.error_level;
        if is_error && level > 0 && i32::from(message.level) < level {
            return;
        }
        let text = if level == -1 && !is_error {
            format!(
                "Msg {}, Level {}, State {}, Server {}, Line {}\n{}\n",
                message.number,
                message.level,
                message.state,
                self.messages.server_name,
                message.line,
                message.text
            )
        } else {
            format!("{}\n", message.render(&self.messages.server_name))
        };
        if is_error {
            self.outputs.error(&text);
        } else {
            self.outputs.info(&text);
        }
    }

    fn result_set(&mut self, result_set: ResultSet) {
        if self.timed_out.load(Ordering::SeqCst) {
            return;
        }
        if let Some(row) = result_set.rows.last() {
            self.report.rows_seen = true;
            self.report.last_value = row.first().cloned();
        }
        let text = result_set.render_sqlcmd(&self.render);
        self.outputs.out(&text);
    }

    fn rows_affected(&mut self, count: u64) {
        if self.timed_out.load(Ordering::SeqCst) {
            return;
        }
        self.outputs.out(&rows_affected_line(count));
    }
}
