//! `vdisim sqlcmd` (and the binary run as `sqlcmd`): the sqlcmd switches scripts use, talking to
//! the local vdisim daemon. Output and exit codes follow sqlcmd; see `docs/daemon.md`.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use vdi_server::daemon::protocol::{BatchRequest, LoginRequest};
use vdi_server::daemon::{Client, ClientError, default_socket_path};
use vdi_server::engine::{OutputSink, rows_affected_line};
use vdi_server::tsql::{RenderOptions, ResultSet, SqlMessage, split_batches};

/// `vdisim sqlcmd ARGS…`: every argument is passed through to sqlcmd's own parser.
#[derive(clap::Args, Debug)]
#[command(disable_help_flag = true)]
pub struct SqlcmdArgs {
    /// sqlcmd's switches: -S -U -P -Q|-q|-i -b -V -m -h -W -s -d -o -r -e; `-?` lists them.
    #[arg(num_args = 0.., allow_hyphen_values = true, trailing_var_arg = true)]
    pub args: Vec<OsString>,
}

const USAGE: &str = "usage: sqlcmd [-S server] [-U login] [-P password] [-d database]
              (-Q \"query\" | -q \"query\" | -i file[,file…])
              [-b] [-V severity] [-m level] [-h headers] [-W] [-s separator] [-o file] [-r[0|1]] [-e]
  -S  ., localhost, (local), 127.0.0.1, the host name (optionally tcp:/np:/lpc:, ,port,
      \\instance), or unix:PATH; all but unix:PATH reach $VDISIM_SERVER or
      /tmp/vdisim-<uid>/sqlservr.sock
  -b  exit 1 and stop after the batch in which an error of severity > 10 (and >= -V) occurred
  accepted and ignored: -C -N[mode] -M -I -x -X[1] -u -A -k[1|2] -l secs -t secs -a size
      -H host -K intent -f codepage -w width -y width -Y width -v var=value…
  Without -Q/-q/-i the script is read from standard input.";

#[derive(Debug, Default)]
struct Options {
    server: Option<String>,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    query: Option<String>,
    inputs: Vec<PathBuf>,
    output: Option<PathBuf>,
    exit_on_error: bool,
    min_error_severity: u8,
    /// `-m`: errors below this level are not printed; `-m -1` prints every message with its
    /// `Msg` header, informational ones included.
    display_level: Option<i32>,
    headers: bool,
    trim: bool,
    separator: Option<String>,
    /// `-r0`: errors to stderr; `-r1`: all messages to stderr.
    redirect: Option<u8>,
    echo: bool,
    help: bool,
}

/// Runs sqlcmd with `args` (without the program name).
pub fn run(args: &[OsString]) -> ExitCode {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match parse(&args) {
        Ok(opts) => opts,
        Err(message) => {
            println!("{message}");
            return ExitCode::FAILURE;
        }
    };
    if opts.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match execute(&opts) {
        Ok(code) => code,
        Err(message) => {
            println!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn missing(flag: char) -> String {
    format!("Sqlcmd: '-{flag}': Missing argument. Enter '-?' for help.")
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        headers: true,
        ..Options::default()
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let mut chars = arg.chars();
        let (Some('-'), Some(flag)) = (chars.next(), chars.next()) else {
            return Err(format!(
                "Sqlcmd: '{arg}': Unexpected argument. Enter '-?' for help."
            ));
        };
        let attached = chars.as_str();
        let mut value = || -> Result<String, String> {
            if !attached.is_empty() {
                Ok(attached.to_owned())
            } else if i < args.len() {
                i += 1;
                Ok(args[i - 1].clone())
            } else {
                Err(missing(flag))
            }
        };
        match flag {
            'S' => o.server = Some(value()?),
            'U' => o.user = Some(value()?),
            'P' => o.password = Some(value()?),
            'd' => o.database = Some(value()?),
            'Q' | 'q' => o.query = Some(value()?),
            'i' => o.inputs.extend(
                value()?
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(PathBuf::from),
            ),
            'o' => o.output = Some(PathBuf::from(value()?)),
            's' => o.separator = Some(value()?),
            'h' => {
                let v = value()?;
                let n: i64 = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("Sqlcmd: '-h {v}': Invalid argument."))?;
                o.headers = n != -1;
            }
            'V' => {
                let v = value()?;
                o.min_error_severity = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("Sqlcmd: '-V {v}': Invalid argument."))?;
            }
            'm' => {
                let v = value()?;
                o.display_level = Some(
                    v.trim()
                        .parse()
                        .map_err(|_| format!("Sqlcmd: '-m {v}': Invalid argument."))?,
                );
            }
            'b' => o.exit_on_error = true,
            'W' => o.trim = true,
            'e' => o.echo = true,
            '?' => o.help = true,
            'r' => {
                let v = if attached.is_empty()
                    && matches!(args.get(i).map(String::as_str), Some("0" | "1"))
                {
                    i += 1;
                    args[i - 1].clone()
                } else {
                    attached.to_owned()
                };
                o.redirect = Some(if v == "1" { 1 } else { 0 });
            }
            // Accepted and ignored: security, timeouts, sizes and display widths that mean
            // nothing on a local socket.
            'C' | 'M' | 'I' | 'x' | 'u' | 'A' | 'X' | 'k' => {}
            'N' => {
                const MODES: [&str; 7] =
                    ["s", "m", "o", "strict", "mandatory", "optional", "disable"];
                if attached.is_empty()
                    && args
                        .get(i)
                        .is_some_and(|v| MODES.contains(&v.to_ascii_lowercase().as_str()))
                {
                    i += 1;
                }
            }
            'l' | 't' | 'a' | 'H' | 'K' | 'f' | 'w' | 'y' | 'Y' => {
                value()?;
            }
            'v' => {
                if attached.is_empty() {
                    let before = i;
                    while i < args.len() && !args[i].starts_with('-') && args[i].contains('=') {
                        i += 1;
                    }
                    if i == before {
                        return Err(missing('v'));
                    }
                }
            }
            'E' => {
                return Err(
                    "Sqlcmd: '-E': vdisim supports SQL Server authentication only; use -U and -P."
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

/// Where `-S` leads: `Ok(socket)` for the local daemon.
pub(crate) fn resolve_server(server: Option<&str>) -> Result<PathBuf, String> {
    let server = server.map(str::trim).unwrap_or("");
    if server.is_empty() {
        return Ok(default_socket_path());
    }
    if let Some(path) = strip_prefix_ignore_case(server, "unix:") {
        return Ok(PathBuf::from(path));
    }
    let mut host = server;
    for protocol in ["tcp:", "np:", "lpc:", "admin:"] {
        if let Some(rest) = strip_prefix_ignore_case(host, protocol) {
            host = rest;
        }
    }
    let host = host.split(',').next().unwrap_or("");
    let host = host.split('\\').next().unwrap_or("").trim();
    let this_host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let local = [".", "(local)", "localhost", "127.0.0.1", "::1", "[::1]"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(host))
        || (!this_host.is_empty() && this_host.eq_ignore_ascii_case(host));
    if local {
        Ok(default_socket_path())
    } else {
        Err(format!(
            "Sqlcmd: Error: vdisim : Server '{server}' is not this machine. vdisim's sqlcmd reaches only the local vdisim server (-S ., -S localhost or -S unix:PATH)."
        ))
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The script's batches, from -Q, the -i files in order, or standard input.
fn read_batches(opts: &Options) -> Result<Vec<vdi_server::tsql::Batch>, String> {
    if let Some(query) = &opts.query {
        return Ok(split_batches(query));
    }
    let mut batches = Vec::new();
    if opts.inputs.is_empty() {
        let mut script = String::new();
        io::stdin()
            .read_to_string(&mut script)
            .map_err(|e| format!("Sqlcmd: Error: cannot read standard input: {e}"))?;
        return Ok(split_batches(strip_bom(&script)));
    }
    for file in &opts.inputs {
        let script = std::fs::read(file).map_err(|e| {
            format!(
                "Sqlcmd: Error: Error occurred while opening or operating on file {} (Reason: {e}).",
                file.display()
            )
        })?;
        batches.extend(split_batches(strip_bom(&String::from_utf8_lossy(&script))));
    }
    Ok(batches)
}

fn strip_bom(s: &str) -> &str {
    s.strip_prefix('\u{feff}').unwrap_or(s)
}

fn execute(opts: &Options) -> Result<ExitCode, String> {
    let socket = resolve_server(
        opts.server
            .clone()
            .or_else(|| std::env::var("SQLCMDSERVER").ok())
            .as_deref(),
    )?;
    let batches = read_batches(opts)?;
    let mut out: Box<dyn Write> = match &opts.output {
        Some(path) => Box::new(File::create(path).map_err(|e| {
            format!(
                "Sqlcmd: Error: Error occurred while opening or operating on file {} (Reason: {e}).",
                path.display()
            )
        })?),
        None => Box::new(io::stdout()),
    };
    let login = LoginRequest {
        user: opts
            .user
            .clone()
            .or_else(|| std::env::var("SQLCMDUSER").ok())
            .unwrap_or_else(|| "sa".to_owned()),
        password: opts
            .password
            .clone()
            .or_else(|| std::env::var("SQLCMDPASSWORD").ok())
            .unwrap_or_default(),
        database: opts
            .database
            .as_deref()
            .map(|d| d.trim_start_matches('[').trim_end_matches(']').to_owned()),
        app: Some("sqlcmd".to_owned()),
    };
    let mut client = match Client::connect(&socket, &login) {
        Ok(client) => client,
        Err(ClientError::LoginFailed {
            server_name,
            messages,
        }) => {
            for m in messages {
                let _ = writeln!(out, "{}", m.render(&server_name));
            }
            let _ = out.flush();
            return Ok(ExitCode::FAILURE);
        }
        Err(ClientError::Connect { path, source }) => {
            return Err(format!(
                "Sqlcmd: Error: vdisim : A network-related or instance-specific error has occurred while establishing a connection to the vdisim server. Server is not found or not accessible: {} ({source}). Start one with `vdisim server`; the socket is $VDISIM_SERVER, else /tmp/vdisim-<uid>/sqlservr.sock.",
                path.display()
            ));
        }
        Err(e) => return Err(format!("Sqlcmd: Error: vdisim : {e}")),
    };
    let server_name = client.login_info().server_name.clone();
    let mut stderr = io::stderr();
    let mut printer = Printer {
        out: &mut *out,
        err: &mut stderr,
        server_name,
        render: RenderOptions {
            headers: opts.headers,
            trim: opts.trim,
            separator: opts.separator.clone().unwrap_or_else(|| " ".to_owned()),
            ..RenderOptions::default()
        },
        redirect: opts.redirect,
        min_error_severity: opts.min_error_severity,
        display_level: opts.display_level,
        error_seen: false,
        io_error: None,
    };
    for batch in batches {
        if opts.echo {
            printer.write_out(&format!("{}\n", batch.text));
        }
        let request = BatchRequest {
            text: batch.text,
            // SQL Server numbers lines from each batch's start, and so does sqlcmd's output.
            first_line: 1,
            repeat: batch.repeat,
        };
        printer.error_seen = false;
        if let Err(e) = client.execute(&request, &mut printer) {
            printer.write_out(&format!("Sqlcmd: Error: vdisim : {e}\n"));
            let _ = printer.out.flush();
            return Ok(ExitCode::FAILURE);
        }
        if let Some(e) = printer.io_error.take() {
            return Err(format!("Sqlcmd: Error: cannot write the output: {e}"));
        }
        if opts.exit_on_error && printer.error_seen {
            let _ = printer.out.flush();
            return Ok(ExitCode::FAILURE);
        }
    }
    printer
        .out
        .flush()
        .map_err(|e| format!("Sqlcmd: Error: cannot write the output: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a batch's output as sqlcmd does, as it arrives.
struct Printer<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    server_name: String,
    render: RenderOptions,
    redirect: Option<u8>,
    min_error_severity: u8,
    display_level: Option<i32>,
    error_seen: bool,
    io_error: Option<io::Error>,
}

impl Printer<'_> {
    fn write_out(&mut self, text: &str) {
        if let Err(e) = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
        {
            self.io_error.get_or_insert(e);
        }
    }

    fn write_err(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
    }
}

impl OutputSink for Printer<'_> {
    fn message(&mut self, message: SqlMessage) {
        let counts = message.is_error() && message.level >= self.min_error_severity;
        self.error_seen |= counts;
        let text = match self.display_level {
            Some(-1) if !message.is_error() => format!(
                "Msg {}, Level {}, State {}, Server {}, Line {}\n{}\n",
                message.number,
                message.level,
                message.state,
                self.server_name,
                message.line,
                message.text
            ),
            Some(level) if message.is_error() && i32::from(message.level) < level => return,
            _ => format!("{}\n", message.render(&self.server_name)),
        };
        let to_stderr = match self.redirect {
            Some(1) => true,
            Some(_) => message.is_error(),
            None => false,
        };
        if to_stderr {
            self.write_err(&text);
        } else {
            self.write_out(&text);
        }
    }

    fn result_set(&mut self, result_set: ResultSet) {
        let text = result_set.render_sqlcmd(&self.render);
        self.write_out(&text);
    }

    fn rows_affected(&mut self, count: u64) {
        self.write_out(&rows_affected_line(count));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_switches_scripts_use() {
        let o = parse(&args(&[
            "-S", ".", "-Usa", "-P", "pw", "-Q", "SELECT 1", "-b", "-h", "-1", "-W", "-s,", "-C",
            "-N", "-l", "30", "-t", "0", "-d", "pubs", "-r1", "-V", "16",
        ]))
        .unwrap();
        assert_eq!(o.server.as_deref(), Some("."));
        assert_eq!(o.user.as_deref(), Some("sa"));
        assert_eq!(o.password.as_deref(), Some("pw"));
        assert_eq!(o.query.as_deref(), Some("SELECT 1"));
        assert!(o.exit_on_error && o.trim && !o.headers);
        assert_eq!(o.separator.as_deref(), Some(","));
        assert_eq!(o.database.as_deref(), Some("pubs"));
        assert_eq!((o.redirect, o.min_error_severity), (Some(1), 16));
        let o = parse(&args(&[
            "-i",
            "a.sql,b.sql",
            "-i",
            "c.sql",
            "-N",
            "m",
            "-h-1",
        ]))
        .unwrap();
        assert_eq!(o.inputs.len(), 3);
        assert!(!o.headers);
    }

    #[test]
    fn refuses_unknown_and_incomplete_switches() {
        assert!(
            parse(&args(&["-Z"]))
                .unwrap_err()
                .contains("'-Z': Unknown Option")
        );
        assert!(
            parse(&args(&["-S"]))
                .unwrap_err()
                .contains("Missing argument")
        );
        assert!(parse(&args(&["query"])).is_err());
        assert!(parse(&args(&["-Q", "x", "-i", "f"])).is_err());
        assert!(parse(&args(&["-E"])).is_err());
    }

    #[test]
    fn local_server_names_reach_the_default_socket() {
        let default = default_socket_path();
        for s in [
            ".",
            "localhost",
            "(local)",
            "localhost,1433",
            "tcp:localhost",
            "TCP:127.0.0.1,1433",
            ".\\SQLEXPRESS",
        ] {
            assert_eq!(resolve_server(Some(s)), Ok(default.clone()), "{s}");
        }
        assert_eq!(
            resolve_server(Some("unix:/tmp/x.sock")),
            Ok(PathBuf::from("/tmp/x.sock"))
        );
        assert!(resolve_server(Some("db.example.com")).is_err());
    }
}
