//! A client of the daemon: what `vdisim sqlcmd` (and any in-process caller) uses.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::protocol::{
    BatchDone, BatchRequest, LoginOk, LoginRequest, MAX_LINE_BYTES, Request, Response, encode,
};
use crate::engine::OutputSink;
use crate::tsql::SqlMessage;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No daemon listens on the socket (or it cannot be reached).
    #[error("cannot connect to {}: {source}", path.display())]
    Connect { path: PathBuf, source: io::Error },
    /// The server refused the login; the messages say why (18456, 4060).
    #[error("login failed")]
    LoginFailed {
        server_name: String,
        messages: Vec<SqlMessage>,
    },
    /// The server accepted the connection but did not answer the login in time.
    #[error("login timeout expired")]
    LoginTimeout,
    #[error("connection to the server lost: {0}")]
    Io(#[from] io::Error),
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// A logged-in connection to a daemon.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    login: LoginOk,
}

impl Client {
    /// Connects to the daemon at `socket` and logs in.
    pub fn connect(socket: &Path, login: &LoginRequest) -> Result<Client, ClientError> {
        Client::connect_within(socket, login, None)
    }

    /// Connects and logs in, giving up with [`ClientError::LoginTimeout`] when the server has
    /// not answered the login within `timeout` (sqlcmd's `-l`; `None` waits for ever).
    pub fn connect_within(
        socket: &Path,
        login: &LoginRequest,
        timeout: Option<Duration>,
    ) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(socket).map_err(|source| ClientError::Connect {
            path: socket.to_owned(),
            source,
        })?;
        stream.set_read_timeout(timeout)?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        // A server that refuses the connection (17809: too many connections) may close it
        // before reading the login: its reply is still there to read.
        let sent = writer.write_all(&encode(&Request::Login(login.clone())));
        let mut refused = Vec::new();
        loop {
            let response = match (read_response(&mut reader), &sent) {
                (Ok(r), _) => r,
                (Err(ClientError::Io(e)), _)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ClientError::LoginTimeout);
                }
                (Err(_), Err(e)) => {
                    return Err(ClientError::Io(io::Error::new(e.kind(), e.to_string())));
                }
                (Err(e), Ok(())) => return Err(e),
            };
            match response {
                Response::LoginOk(ok) => {
                    reader.get_ref().set_read_timeout(None)?;
                    return Ok(Client {
                        reader,
                        writer,
                        login: ok,
                    });
                }
                Response::Message(m) => refused.push(m.into()),
                Response::LoginFailed(failed) => {
                    return Err(ClientError::LoginFailed {
                        server_name: failed.server_name,
                        messages: refused,
                    });
                }
                Response::ProtocolError(e) => return Err(ClientError::Protocol(e.text)),
                other => {
                    return Err(ClientError::Protocol(format!(
                        "unexpected reply to login: {other:?}"
                    )));
                }
            }
        }
    }

    /// What the server said at login (its name, version, the current database).
    #[must_use]
    pub fn login_info(&self) -> &LoginOk {
        &self.login
    }

    /// Runs a batch, passing its output to `sink` as it arrives.
    pub fn execute(
        &mut self,
        batch: &BatchRequest,
        sink: &mut dyn OutputSink,
    ) -> Result<BatchDone, ClientError> {
        self.writer
            .write_all(&encode(&Request::Batch(batch.clone())))?;
        loop {
            match read_response(&mut self.reader)? {
                Response::Message(m) => sink.message(m.into()),
                Response::ResultSet(rs) => sink.result_set(rs),
                Response::RowsAffected(n) => sink.rows_affected(n),
                Response::BatchDone(done) => return Ok(done),
                Response::ProtocolError(e) => return Err(ClientError::Protocol(e.text)),
                other => {
                    return Err(ClientError::Protocol(format!(
                        "unexpected event in a batch: {other:?}"
                    )));
                }
            }
        }
    }

    /// Asks the server to stop the running batch (from another thread, via a cloned stream).
    pub fn cancel_handle(&self) -> io::Result<CancelHandle> {
        Ok(CancelHandle(self.writer.try_clone()?))
    }
}

/// Sends `cancel` on a client's connection.
#[derive(Debug)]
pub struct CancelHandle(UnixStream);

impl CancelHandle {
    pub fn cancel(&mut self) -> io::Result<()> {
        self.0.write_all(&encode(&Request::Cancel {}))
    }
}

/// Reads one line (at most [`MAX_LINE_BYTES`]); `Ok(None)` at a clean end of stream.
pub(crate) fn read_line(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX) + 1;
    reader.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.len() > MAX_LINE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("line longer than {MAX_LINE_BYTES} bytes"),
        ));
    }
    if line.last() != Some(&b'\n') {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some(line))
}

fn read_response(reader: &mut impl BufRead) -> Result<Response, ClientError> {
    let line = read_line(reader)?.ok_or_else(|| {
        ClientError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ))
    })?;
    serde_json::from_slice(&line).map_err(|e| ClientError::Protocol(e.to_string()))
}

/// Logs in to the daemon at `socket`, runs `sql` as one batch and collects its output: what a
/// client program does when it hands its BACKUP or RESTORE to the server.
pub fn run_batch(
    socket: &Path,
    user: &str,
    password: &str,
    app: &str,
    sql: &str,
) -> Result<crate::engine::sink::CollectSink, String> {
    let login = LoginRequest {
        user: user.to_owned(),
        password: password.to_owned(),
        database: None,
        app: Some(app.to_owned()),
    };
    let mut client = Client::connect(socket, &login)
        .map_err(|e| format!("cannot reach the server at {}: {e}", socket.display()))?;
    let mut sink = crate::engine::sink::CollectSink::new();
    let batch = BatchRequest {
        text: sql.to_owned(),
        first_line: 1,
        repeat: 1,
    };
    client
        .execute(&batch, &mut sink)
        .map_err(|e| e.to_string())?;
    Ok(sink)
}
