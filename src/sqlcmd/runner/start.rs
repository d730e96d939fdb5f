//! Start-up: the variables, the inputs, the outputs and the login.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use vdi_server::daemon::protocol::LoginRequest;

use super::{OnError, Runner, Stop, fail};
use crate::sqlcmd::Tool;
use crate::sqlcmd::input::Input;
use crate::sqlcmd::lines::Carry;
use crate::sqlcmd::options::Options;
use crate::sqlcmd::printer::Outputs;
use crate::sqlcmd::server::resolve_address;
use crate::sqlcmd::session::{ConnectFailure, Session, Target, TdsSettings};
use crate::sqlcmd::vars::{Settings, Variables};

impl Runner {
    pub(super) fn start(opts: Options) -> Result<Runner, Stop> {
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

    pub(super) fn report_connect_failure(&mut self, failure: ConnectFailure) {
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
    let address = resolve_address(server.as_deref())?;
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
    let packet_size = from_vars("SQLCMDPACKETSIZE")
        .and_then(|v| v.parse().ok())
        .unwrap_or(4096);
    Ok(Target {
        address,
        tds: TdsSettings {
            encrypt: opts.encrypt,
            trust_server_certificate: opts.trust_server_certificate,
            packet_size,
        },
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
