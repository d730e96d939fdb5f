//! The connection to the server: login with sqlcmd's login timeout (`-l`), and batches with
//! its query timeout (`-t`), which cancels the batch as a driver's attention does and leaves
//! the session usable. The server is the daemon's Unix socket or a TDS endpoint
//! (`-S host,port`); both deliver the same messages, result sets and counts to the printer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use vdi_server::daemon::protocol::{BatchRequest, LoginRequest};
use vdi_server::daemon::{Client, ClientError};
use vdi_server::engine::OutputSink;
use vdi_server::tsql::SqlMessage;

use super::server::Address;
use crate::tds_client::{ConnectError, ConnectOptions, Encrypt, TdsClient};

/// Whom to log in as, where.
#[derive(Debug, Clone)]
pub struct Target {
    pub address: Address,
    pub login: LoginRequest,
    /// TDS only: `-N`, `-C` and `-a`.
    pub tds: TdsSettings,
}

/// How a TDS connection is made (`-N`, `-C`, `-a`).
#[derive(Debug, Clone, Copy)]
pub struct TdsSettings {
    pub encrypt: Encrypt,
    pub trust_server_certificate: bool,
    pub packet_size: u32,
}

impl Default for TdsSettings {
    fn default() -> Self {
        TdsSettings {
            encrypt: Encrypt::default(),
            trust_server_certificate: false,
            packet_size: 4096,
        }
    }
}

/// Why a login did not succeed.
#[derive(Debug)]
pub enum ConnectFailure {
    /// The server refused the login: its messages (18456, 4060) in the `Msg` form.
    Refused {
        server_name: String,
        messages: Vec<SqlMessage>,
    },
    /// sqlcmd's own one-line error.
    Error(String),
}

#[derive(Debug)]
enum Connection {
    Unix(Client),
    Tds(Box<TdsClient>),
}

/// A logged-in session.
#[derive(Debug)]
pub struct Session {
    connection: Connection,
    pub target: Target,
}

/// How a batch ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// `-t` expired and the batch was cancelled.
    pub timed_out: bool,
}

const LOGIN_TIMEOUT: &str = "Sqlcmd: Error: vdisim : Login timeout expired.";

impl Session {
    /// Logs in, waiting at most `login_timeout` seconds (0: for ever) for the server.
    pub fn connect(target: Target, login_timeout: u32) -> Result<Session, ConnectFailure> {
        let timeout = (login_timeout > 0).then(|| Duration::from_secs(u64::from(login_timeout)));
        let connection = match &target.address {
            Address::Unix(socket) => Connection::Unix(connect_unix(socket, &target, timeout)?),
            Address::Tds(endpoint) => {
                let options = ConnectOptions {
                    encrypt: target.tds.encrypt,
                    trust_server_certificate: target.tds.trust_server_certificate,
                    packet_size: target.tds.packet_size,
                    user: target.login.user.clone(),
                    password: target.login.password.clone(),
                    database: target.login.database.clone().unwrap_or_default(),
                    app: target.login.app.clone().unwrap_or_default(),
                    timeout,
                };
                let client = TdsClient::connect(endpoint, &options)
                    .map_err(|e| tds_failure(e, &endpoint.to_string()))?;
                Connection::Tds(Box::new(client))
            }
        };
        Ok(Session { connection, target })
    }

    /// The server's name, for `Msg …, Server X` lines.
    pub fn server_name(&self) -> &str {
        match &self.connection {
            Connection::Unix(client) => &client.login_info().server_name,
            Connection::Tds(client) => client.server_name(),
        }
    }

    /// Runs `text` once. With a `timeout` (seconds, 0: none) the batch is cancelled when it
    /// expires (an attention) and `timed_out` is set, which the sink checks to drop what still
    /// arrives.
    pub fn run(
        &mut self,
        text: &str,
        sink: &mut dyn OutputSink,
        timeout: u32,
        timed_out: &Arc<AtomicBool>,
    ) -> Result<Outcome, String> {
        timed_out.store(false, Ordering::SeqCst);
        match &mut self.connection {
            Connection::Unix(client) => run_unix(client, text, sink, timeout, timed_out),
            Connection::Tds(client) => {
                let deadline =
                    (timeout > 0).then(|| Instant::now() + Duration::from_secs(u64::from(timeout)));
                let fired = Arc::clone(timed_out);
                let finished = client
                    .execute(text, sink, deadline, &mut || {
                        fired.store(true, Ordering::SeqCst);
                    })
                    .map_err(|e| {
                        format!(
                            "Sqlcmd: Error: vdisim : Communication link failure: {}.",
                            super::input::reason(&e)
                        )
                    })?;
                Ok(Outcome {
                    timed_out: timed_out.load(Ordering::SeqCst) && finished.cancelled,
                })
            }
        }
    }
}

fn connect_unix(
    socket: &std::path::Path,
    target: &Target,
    timeout: Option<Duration>,
) -> Result<Client, ConnectFailure> {
    match Client::connect_within(socket, &target.login, timeout) {
        Ok(client) => Ok(client),
        Err(ClientError::LoginFailed {
            server_name,
            messages,
        }) => Err(ConnectFailure::Refused {
            server_name,
            messages,
        }),
        Err(ClientError::LoginTimeout) => Err(ConnectFailure::Error(LOGIN_TIMEOUT.to_owned())),
        Err(ClientError::Connect { path, source }) => Err(ConnectFailure::Error(format!(
            "Sqlcmd: Error: vdisim : A network-related or instance-specific error has occurred while establishing a connection to the vdisim server. Server is not found or not accessible: {} ({}). Start one with `vdisim server`; the socket is $VDISIM_SERVER, else /tmp/vdisim-<uid>/sqlservr.sock.",
            path.display(),
            super::input::reason(&source)
        ))),
        Err(e) => Err(ConnectFailure::Error(format!(
            "Sqlcmd: Error: vdisim : {e}."
        ))),
    }
}

/// What sqlcmd prints when a TDS connection fails, in the shape of ODBC sqlcmd's lines.
fn tds_failure(error: ConnectError, endpoint: &str) -> ConnectFailure {
    let line = |text: String| ConnectFailure::Error(format!("Sqlcmd: Error: vdisim : {text}"));
    match error {
        ConnectError::Refused {
            server_name,
            messages,
        } => ConnectFailure::Refused {
            server_name,
            messages,
        },
        ConnectError::LoginTimeout => ConnectFailure::Error(LOGIN_TIMEOUT.to_owned()),
        ConnectError::Network(detail) => line(format!(
            "TCP Provider: {detail}.\nSqlcmd: Error: vdisim : A network-related or instance-specific error has occurred while establishing a connection to {endpoint}. Server is not found or not accessible. Check if instance name is correct and if SQL Server (or vdisim server --tds) is listening there."
        )),
        ConnectError::Tls(detail) => line(format!(
            "SSL Provider: {detail}.\nSqlcmd: Error: vdisim : Client unable to establish connection. A self-signed certificate (vdisim server's generated one) is trusted with -C."
        )),
        ConnectError::EncryptionNotSupported => line(format!(
            "SSL Provider: the server {endpoint} does not support encryption.\nSqlcmd: Error: vdisim : Client unable to establish connection. Connect with -N o (Encrypt=optional), or give the server a certificate."
        )),
        ConnectError::Protocol(detail) => line(format!(
            "Protocol error in TDS stream: {detail}.\nSqlcmd: Error: vdisim : Communication link failure."
        )),
    }
}

fn run_unix(
    client: &mut Client,
    text: &str,
    sink: &mut dyn OutputSink,
    timeout: u32,
    timed_out: &Arc<AtomicBool>,
) -> Result<Outcome, String> {
    let request = BatchRequest {
        text: text.to_owned(),
        // SQL Server numbers lines from each batch's start, and so does sqlcmd's output.
        first_line: 1,
        repeat: 1,
    };
    let lost = |e: ClientError| format!("Sqlcmd: Error: vdisim : {e}.");
    if timeout == 0 {
        client.execute(&request, sink).map_err(lost)?;
        return Ok(Outcome::default());
    }
    let mut cancel = client.cancel_handle().map_err(|e| lost(e.into()))?;
    let (done, expired) = mpsc::channel::<()>();
    let limit = Duration::from_secs(u64::from(timeout));
    let fired = Arc::clone(timed_out);
    let timer = std::thread::spawn(move || {
        if expired.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
            fired.store(true, Ordering::SeqCst);
            let _ = cancel.cancel();
        }
    });
    let result = client.execute(&request, sink);
    drop(done);
    let _ = timer.join();
    let finished = result.map_err(lost)?;
    Ok(Outcome {
        // A batch that ended on its own just as the timer fired did not time out.
        timed_out: timed_out.load(Ordering::SeqCst) && finished.cancelled,
    })
}
