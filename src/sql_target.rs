//! Where a client sends its T-SQL: the vdisim server found as sqlcmd finds it (`-S`, then
//! `$SQLCMDSERVER`, then `$VDISIM_SERVER` or the default socket), or with `--in-process` a
//! private server inside this process.

use std::path::PathBuf;
use std::sync::Arc;

use vdi_server::daemon::protocol::{BatchRequest, LoginRequest};
use vdi_server::daemon::{Client, ClientError};
use vdi_server::db::Catalog;
use vdi_server::engine::{Engine, EngineConfig, OutputSink};
use vdi_server::jobs::VdiJobRunner;

/// A server that runs T-SQL.
#[derive(Clone)]
pub enum SqlTarget {
    /// An engine in this process (its jobs still use real shared memory).
    InProcess(Arc<Engine>),
    /// The daemon behind a socket.
    Daemon {
        socket: PathBuf,
        user: String,
        password: String,
    },
    /// A sqlcmd-like program (`--sqlcmd`): `PROGRAM [-S server] -U user -P pw -b -Q sql`.
    External {
        program: PathBuf,
        server: Option<String>,
        user: String,
        password: String,
    },
}

impl std::fmt::Debug for SqlTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SqlTarget::InProcess(_) => f.write_str("SqlTarget::InProcess"),
            SqlTarget::Daemon {
                socket,
                user,
                password,
            } => f
                .debug_struct("SqlTarget::Daemon")
                .field("socket", socket)
                .field("user", user)
                .field("password", &if password.is_empty() { "" } else { "(set)" })
                .finish(),
            SqlTarget::External {
                program, server, ..
            } => f
                .debug_struct("SqlTarget::External")
                .field("program", program)
                .field("server", server)
                .finish_non_exhaustive(),
        }
    }
}

impl SqlTarget {
    /// The volume directory of this server's snapshots (docs/snapshots.md).
    pub fn volumes(&self) -> PathBuf {
        match self {
            SqlTarget::InProcess(_) => vdi_server::jobs::JobOptions::default().volumes,
            SqlTarget::Daemon { socket, .. } => vdi_server::jobs::volumes_beside(socket),
            // A server reached through another program (over TDS): vdisim cannot tell where
            // its socket is, so `--volumes` names the directory; this is the default daemon's.
            SqlTarget::External { .. } => vdi_server::jobs::JobOptions::default().volumes,
        }
    }

    /// An in-process server with the default databases and real BACKUP/RESTORE jobs.
    pub fn in_process() -> SqlTarget {
        let engine = Engine::new(
            Catalog::with_defaults(),
            EngineConfig {
                jobs: Arc::new(VdiJobRunner::shared_memory()),
                ..EngineConfig::default()
            },
        );
        SqlTarget::InProcess(engine)
    }

    /// The server the command line names: `--in-process` starts a private one; otherwise
    /// `server` (`-S`), else `$SQLCMDSERVER`, else `$VDISIM_SERVER` or the default socket.
    pub fn from_args(
        server: Option<&str>,
        in_process: bool,
        user: &str,
        password: &str,
    ) -> Result<SqlTarget, String> {
        if in_process {
            return Ok(SqlTarget::in_process());
        }
        let named = server
            .map(str::to_owned)
            .or_else(|| std::env::var("SQLCMDSERVER").ok().filter(|s| !s.is_empty()));
        let socket = crate::sqlcmd::resolve_server(named.as_deref()).map_err(|e| {
            e.trim_start_matches("Sqlcmd: Error: vdisim : ")
                .replace("vdisim's sqlcmd reaches", "vdisim backup and restore reach")
        })?;
        Ok(SqlTarget::Daemon {
            socket,
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }

    /// The statement goes through `program`, run as sqlcmd (a real sqlcmd, or a script around a
    /// driver): `-S server` as given (when given), `-U`, `-P`, `-b`, `-Q`.
    pub fn external(
        program: PathBuf,
        server: Option<&str>,
        user: &str,
        password: &str,
    ) -> SqlTarget {
        SqlTarget::External {
            program,
            server: server.map(str::to_owned),
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    fn login(user: &str, password: &str) -> LoginRequest {
        LoginRequest {
            user: user.to_owned(),
            password: password.to_owned(),
            database: None,
            app: Some("vdisim".to_owned()),
        }
    }

    /// Logs in, so that an absent server or a refused login is one clear line before any
    /// device set exists; the statement then runs on this session.
    pub fn connect(&self) -> Result<Connection, String> {
        match self {
            SqlTarget::External {
                program,
                server,
                user,
                password,
            } => Ok(Connection::External {
                program: program.clone(),
                server: server.clone(),
                user: user.clone(),
                password: password.clone(),
            }),
            SqlTarget::InProcess(engine) => Ok(Connection::InProcess(Arc::clone(engine))),
            SqlTarget::Daemon {
                socket,
                user,
                password,
            } => Client::connect(socket, &SqlTarget::login(user, password))
                .map(|client| Connection::Daemon {
                    client: Box::new(client),
                    socket: socket.clone(),
                })
                .map_err(|e| self.describe_error(e)),
        }
    }

    /// One line saying what went wrong with the connection or the login, and what to do.
    fn describe_error(&self, error: ClientError) -> String {
        let SqlTarget::Daemon { socket, user, .. } = self else {
            return error.to_string();
        };
        let at = socket.display();
        match error {
            ClientError::Connect { source, .. } => format!(
                "no vdisim server is listening at {at} ({}); start one with `vdisim server`, name its socket with -S unix:PATH or $VDISIM_SERVER, or pass --in-process for a private server",
                crate::sqlcmd::reason(&source)
            ),
            ClientError::LoginFailed { messages, .. } => {
                if messages.iter().any(|m| m.number == 18456) {
                    format!(
                        "login failed for user '{user}' at the vdisim server at {at}: the password is wrong; pass the server's sa password with -P or $VDISIM_SA_PASSWORD"
                    )
                } else {
                    let texts: Vec<&str> = messages.iter().map(|m| m.text.as_str()).collect();
                    format!(
                        "the vdisim server at {at} refused the login of '{user}': {}",
                        texts.join(" ")
                    )
                }
            }
            ClientError::LoginTimeout => {
                format!("the vdisim server at {at} did not answer the login; is it stuck?")
            }
            other => format!("the vdisim server at {at}: {other}"),
        }
    }
}

/// A logged-in session of a [`SqlTarget`], for one statement (it moves to the statement's
/// thread).
#[derive(Debug)]
pub enum Connection {
    InProcess(Arc<Engine>),
    Daemon {
        client: Box<Client>,
        socket: PathBuf,
    },
    External {
        program: PathBuf,
        server: Option<String>,
        user: String,
        password: String,
    },
}

impl Connection {
    /// Runs a script, passing its output to `sink` as it arrives.
    pub fn run(self, sql: &str, sink: &mut dyn OutputSink) -> Result<(), String> {
        match self {
            Connection::InProcess(engine) => {
                let mut session = engine
                    .login("sa", "", None)
                    .map_err(|m| format!("the in-process server refused the login: {m:?}"))?;
                session.execute_script(sql, sink, false);
                Ok(())
            }
            Connection::Daemon { mut client, socket } => {
                let batch = BatchRequest {
                    text: sql.to_owned(),
                    first_line: 1,
                    repeat: 1,
                };
                client
                    .execute(&batch, sink)
                    .map(drop)
                    .map_err(|e| format!("the vdisim server at {}: {e}", socket.display()))
            }
            Connection::External {
                program,
                server,
                user,
                password,
            } => run_external(&program, server.as_deref(), &user, &password, sql, sink),
        }
    }
}

/// Runs `sql` through a sqlcmd-like program. Its output lines become informational messages
/// as they arrive (`N percent processed.` as message 3211, for the progress display); a
/// non-zero exit code is an error message naming it (with `-b`, any error of the batch).
fn run_external(
    program: &std::path::Path,
    server: Option<&str>,
    user: &str,
    password: &str,
    sql: &str,
    sink: &mut dyn OutputSink,
) -> Result<(), String> {
    use std::io::BufRead;
    use vdi_server::tsql::SqlMessage;
    let mut command = std::process::Command::new(program);
    if let Some(server) = server {
        command.args(["-S", server]);
    }
    let mut child = command
        .args(["-U", user, "-P", password, "-b", "-Q", sql])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot run {}: {}",
                program.display(),
                crate::sqlcmd::reason(&e)
            )
        })?;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let number = if line.ends_with(" percent processed.") {
                3211
            } else {
                0
            };
            sink.message(SqlMessage::new(number, 0, 1, 1, line));
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("{}: {}", program.display(), crate::sqlcmd::reason(&e)))?;
    if !status.success() {
        sink.message(SqlMessage::new(
            50_000,
            16,
            1,
            1,
            format!(
                "{} ended with {status}: the statement failed",
                program.display()
            ),
        ));
    }
    Ok(())
}
