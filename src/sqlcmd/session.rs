//! The connection to the daemon: login with sqlcmd's login timeout (`-l`), and batches with
//! its query timeout (`-t`), which cancels the batch as a driver's attention does and leaves
//! the session usable.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use vdi_server::daemon::protocol::{BatchRequest, LoginRequest};
use vdi_server::daemon::{Client, ClientError};
use vdi_server::engine::OutputSink;
use vdi_server::tsql::SqlMessage;

/// Whom to log in as, where.
#[derive(Debug, Clone)]
pub struct Target {
    pub socket: PathBuf,
    pub login: LoginRequest,
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

/// A logged-in session.
#[derive(Debug)]
pub struct Session {
    client: Client,
    pub target: Target,
}

/// How a batch ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// `-t` expired and the batch was cancelled.
    pub timed_out: bool,
}

impl Session {
    /// Logs in, waiting at most `login_timeout` seconds (0: for ever) for the server.
    pub fn connect(target: Target, login_timeout: u32) -> Result<Session, ConnectFailure> {
        let timeout = (login_timeout > 0).then(|| Duration::from_secs(u64::from(login_timeout)));
        match Client::connect_within(&target.socket, &target.login, timeout) {
            Ok(client) => Ok(Session { client, target }),
            Err(ClientError::LoginFailed {
                server_name,
                messages,
            }) => Err(ConnectFailure::Refused {
                server_name,
                messages,
            }),
            Err(ClientError::LoginTimeout) => Err(ConnectFailure::Error(
                "Sqlcmd: Error: vdisim : Login timeout expired.".to_owned(),
            )),
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

    /// The server's name, for `Msg …, Server X` lines.
    pub fn server_name(&self) -> &str {
        &self.client.login_info().server_name
    }

    /// Runs `text` once. With a `timeout` (seconds, 0: none) a timer sends the attention when
    /// it expires and sets `timed_out`, which the sink checks to drop what still arrives.
    pub fn run(
        &mut self,
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
        timed_out.store(false, Ordering::SeqCst);
        let lost = |e: ClientError| format!("Sqlcmd: Error: vdisim : {e}.");
        if timeout == 0 {
            self.client.execute(&request, sink).map_err(lost)?;
            return Ok(Outcome::default());
        }
        let mut cancel = self.client.cancel_handle().map_err(|e| lost(e.into()))?;
        let (done, expired) = mpsc::channel::<()>();
        let limit = Duration::from_secs(u64::from(timeout));
        let fired = Arc::clone(timed_out);
        let timer = std::thread::spawn(move || {
            if expired.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
                fired.store(true, Ordering::SeqCst);
                let _ = cancel.cancel();
            }
        });
        let result = self.client.execute(&request, sink);
        drop(done);
        let _ = timer.join();
        let finished = result.map_err(lost)?;
        Ok(Outcome {
            // A batch that ended on its own just as the timer fired did not time out.
            timed_out: timed_out.load(Ordering::SeqCst) && finished.cancelled,
        })
    }
}
