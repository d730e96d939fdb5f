//! The daemon: serves the session engine on a Unix domain socket (`vdisim server`), or inside
//! a process ([`Daemon::start`]) for tests and `vdisim demo`.
//!
//! One thread accepts; each connection gets two threads: one reads requests (so a `cancel` or a
//! disconnect reaches a running batch at once), one runs the batches and writes the replies.
//! The wire protocol is in [`protocol`] and `docs/daemon.md`.

pub mod client;
pub mod protocol;
mod socket;
pub mod tds;

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::{CancelToken, Engine, OutputSink, Session};
use crate::tsql::{Batch, ResultSet, SqlMessage};
use protocol::{
    BatchDone, BatchRequest, LoginOk, PROTOCOL_VERSION, ProtocolError, Request, Response, encode,
};

pub use client::{CancelHandle, Client, ClientError, run_batch};

/// The environment variable that overrides the default socket path (daemon and sqlcmd alike).
pub const SOCKET_ENV: &str = "VDISIM_SERVER";

/// The socket's file name inside the default directory.
pub const SOCKET_FILE_NAME: &str = "sqlservr.sock";

/// How long a new connection may take to send its login.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long shutdown waits for connections to finish their current statement.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// `/tmp/vdisim-<uid>`: the default socket's directory (mode 0700).
#[must_use]
pub fn default_socket_dir() -> PathBuf {
    PathBuf::from(format!(
        "/tmp/vdisim-{}",
        rustix::process::getuid().as_raw()
    ))
}

/// `$VDISIM_SERVER` if set and not empty, else `/tmp/vdisim-<uid>/sqlservr.sock`.
#[must_use]
pub fn default_socket_path() -> PathBuf {
    match std::env::var_os(SOCKET_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => default_socket_dir().join(SOCKET_FILE_NAME),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("another vdisim server is already listening on {}", path.display())]
    AlreadyRunning { path: PathBuf },
    #[error("{} exists and is not a socket; not touching it", path.display())]
    NotASocket { path: PathBuf },
    #[error("refusing to use the directory {}: {reason}", path.display())]
    UnsafeDirectory { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// What [`Daemon::start`] needs.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub socket_path: PathBuf,
    pub engine: Arc<Engine>,
}

impl DaemonConfig {
    #[must_use]
    pub fn new(socket_path: impl Into<PathBuf>, engine: Arc<Engine>) -> Self {
        DaemonConfig {
            socket_path: socket_path.into(),
            engine,
        }
    }
}

/// Starts servers; see [`DaemonHandle`].
#[derive(Debug)]
pub struct Daemon;

impl Daemon {
    /// Creates the socket (mode 0600; its directory is created with mode 0700 if missing, and
    /// the default directory is checked to be ours and 0700) and starts accepting connections.
    pub fn start(config: DaemonConfig) -> Result<DaemonHandle, DaemonError> {
        let path = config.socket_path;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            socket::prepare_directory(dir, dir == default_socket_dir())?;
        }
        let (listener, id) = socket::bind(&path)?;
        listener
            .set_nonblocking(true)
            .map_err(|source| DaemonError::Io {
                path: path.clone(),
                source,
            })?;
        let shared = Arc::new(Shared {
            engine: config.engine,
            stopping: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
            active: Mutex::new(0),
            idle: Condvar::new(),
            next_connection: AtomicU64::new(1),
        });
        shared
            .engine
            .log_line(&format!("listening on {}", path.display()));
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("vdisim-accept".into())
                .spawn(move || accept_loop(&shared, &listener))
                .map_err(|source| DaemonError::Io {
                    path: path.clone(),
                    source,
                })?
        };
        Ok(DaemonHandle {
            shared,
            socket_path: path,
            socket_id: id,
            accept: Some(accept),
        })
    }
}

/// A running server. Dropping it shuts it down.
#[derive(Debug)]
pub struct DaemonHandle {
    shared: Arc<Shared>,
    socket_path: PathBuf,
    socket_id: socket::FileId,
    accept: Option<JoinHandle<()>>,
}

impl DaemonHandle {
    #[must_use]
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    #[must_use]
    pub fn engine(&self) -> &Arc<Engine> {
        &self.shared.engine
    }

    /// Stops accepting, removes the socket, cancels running statements, closes every connection
    /// and waits (up to 10 s) for their threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        let shared = &self.shared;
        shared.stopping.store(true, Ordering::SeqCst);
        socket::remove_if_ours(&self.socket_path, self.socket_id);
        shared.engine.shut_down();
        let _ = accept.join();
        for stream in shared
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        let mut active = shared.active.lock().unwrap_or_else(PoisonError::into_inner);
        while *active > 0 {
            let now = Instant::now();
            if now >= deadline {
                shared.engine.log_line(&format!(
                    "stopping with {active} connection(s) still finishing"
                ));
                break;
            }
            active = shared
                .idle
                .wait_timeout(active, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(active);
        shared.engine.log_line("stopped");
    }
}

impl Drop for DaemonHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Debug)]
struct Shared {
    engine: Arc<Engine>,
    stopping: AtomicBool,
    /// A clone of every open connection, to close them at shutdown.
    connections: Mutex<HashMap<u64, UnixStream>>,
    active: Mutex<usize>,
    idle: Condvar,
    next_connection: AtomicU64,
}

impl Shared {
    fn log(&self, connection: u64, text: &str) {
        self.engine.log_line(&format!("conn {connection}: {text}"));
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &UnixListener) {
    const POLL: Duration = Duration::from_millis(20);
    while !shared.stopping.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => start_connection(shared, stream),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                shared.engine.log_line(&format!("accept failed: {e}"));
                std::thread::sleep(POLL);
            }
        }
    }
}

fn start_connection(shared: &Arc<Shared>, stream: UnixStream) {
    let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
    let registered = stream.try_clone();
    let Ok(registered) = registered else {
        shared.log(id, "cannot clone the connection; closing it");
        return;
    };
    shared
        .connections
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, registered);
    *shared.active.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    let thread_shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name(format!("vdisim-conn-{id}"))
        .spawn(move || {
            let shared = thread_shared;
            if let Err(e) = serve(&shared, id, stream) {
                shared.log(id, &format!("closed: {e}"));
            } else {
                shared.log(id, "disconnected");
            }
            finish_connection(&shared, id);
        });
    if spawned.is_err() {
        shared.log(id, "cannot start a thread; closing the connection");
        finish_connection(shared, id);
    }
}

fn finish_connection(shared: &Shared, id: u64) {
    shared
        .connections
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&id);
    let mut active = shared.active.lock().unwrap_or_else(PoisonError::into_inner);
    *active -= 1;
    shared.idle.notify_all();
}

fn send(writer: &mut UnixStream, event: &Response) -> io::Result<()> {
    writer.write_all(&encode(event))
}

/// What the reading thread hands the executing thread.
enum Incoming {
    Batch(BatchRequest, CancelToken),
    Invalid(String),
}

fn serve(shared: &Arc<Shared>, id: u64, stream: UnixStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    reader.get_ref().set_read_timeout(Some(LOGIN_TIMEOUT))?;
    let Some(line) = client::read_line(&mut reader)? else {
        return Ok(());
    };
    let login = match serde_json::from_slice::<Request>(&line) {
        Ok(Request::Login(login)) => login,
        Ok(_) => return refuse(&mut writer, "the first request must be a login"),
        Err(e) => return refuse(&mut writer, &format!("unreadable request: {e}")),
    };
    reader.get_ref().set_read_timeout(None)?;
    let app = login.app.as_deref().unwrap_or("unknown client");
    let mut session =
        match shared
            .engine
            .login(&login.user, &login.password, login.database.as_deref())
        {
            Ok(session) => session,
            Err(messages) => {
                shared.log(
                    id,
                    &format!("login failed for user '{}' ({app})", login.user),
                );
                for m in messages {
                    send(&mut writer, &Response::Message(m.into()))?;
                }
                return send(
                    &mut writer,
                    &Response::LoginFailed(protocol::LoginFailed {
                        server_name: shared.engine.server_name().to_owned(),
                    }),
                );
            }
        };
    shared.log(
        id,
        &format!(
            "login '{}' ({app}), session {}, database {}",
            session.user(),
            session.id(),
            session.database()
        ),
    );
    send(
        &mut writer,
        &Response::LoginOk(LoginOk {
            server_name: shared.engine.server_name().to_owned(),
            version: shared.engine.version().to_owned(),
            database: session.database().to_owned(),
            protocol: PROTOCOL_VERSION,
        }),
    )?;

    let (tx, rx) = mpsc::channel();
    let reader_thread = std::thread::Builder::new()
        .name(format!("vdisim-conn-{id}-read"))
        .spawn(move || read_requests(reader, &tx))?;
    let result = run_batches(shared, id, &mut session, &mut writer, &rx);
    let _ = writer.shutdown(std::net::Shutdown::Both);
    let _ = reader_thread.join();
    result
}

fn refuse(writer: &mut UnixStream, text: &str) -> io::Result<()> {
    send(
        writer,
        &Response::ProtocolError(ProtocolError {
            text: text.to_owned(),
        }),
    )
}

/// Reads requests until the client goes away; a cancel (or the disconnect) cancels the most
/// recently queued batch.
fn read_requests(mut reader: BufReader<UnixStream>, tx: &mpsc::Sender<Incoming>) {
    let mut latest = CancelToken::new();
    loop {
        let line = match client::read_line(&mut reader) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Incoming::Invalid(e.to_string()));
                break;
            }
        };
        match serde_json::from_slice::<Request>(&line) {
            Ok(Request::Batch(batch)) => {
                latest = CancelToken::new();
                if tx.send(Incoming::Batch(batch, latest.clone())).is_err() {
                    break;
                }
            }
            Ok(Request::Cancel {}) => latest.cancel(),
            Ok(Request::Login(_)) => {
                let _ = tx.send(Incoming::Invalid("already logged in".into()));
                break;
            }
            Err(e) => {
                let _ = tx.send(Incoming::Invalid(format!("unreadable request: {e}")));
                break;
            }
        }
    }
    latest.cancel();
}

fn run_batches(
    shared: &Shared,
    id: u64,
    session: &mut Session,
    writer: &mut UnixStream,
    rx: &mpsc::Receiver<Incoming>,
) -> io::Result<()> {
    let mut number = 0u64;
    for incoming in rx {
        let (request, cancel) = match incoming {
            Incoming::Batch(request, cancel) => (request, cancel),
            Incoming::Invalid(text) => {
                shared.log(id, &format!("protocol error: {text}"));
                return refuse(writer, &text);
            }
        };
        number += 1;
        let batch = Batch {
            text: request.text,
            first_line: request.first_line,
            repeat: request.repeat.max(1),
        };
        let started = Instant::now();
        let mut sink = WireSink {
            writer: &mut *writer,
            failed: None,
            cancel: &cancel,
        };
        let outcome = session.execute_batch_cancellable(&batch, &mut sink, &cancel);
        if let Some(e) = sink.failed {
            return Err(e);
        }
        let status = if outcome.cancelled {
            "cancelled"
        } else if outcome.error {
            "error"
        } else {
            "ok"
        };
        shared.log(
            id,
            &format!(
                "batch {number} ({} line(s), repeat {}): {status} in {} ms",
                batch.text.lines().count(),
                batch.repeat,
                started.elapsed().as_millis()
            ),
        );
        send(
            writer,
            &Response::BatchDone(BatchDone {
                error: outcome.error,
                cancelled: outcome.cancelled,
            }),
        )?;
    }
    Ok(())
}

/// Streams a batch's output to the client; a failed write cancels the batch.
struct WireSink<'a> {
    writer: &'a mut UnixStream,
    failed: Option<io::Error>,
    cancel: &'a CancelToken,
}

impl WireSink<'_> {
    fn emit(&mut self, event: &Response) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = send(self.writer, event) {
            self.failed = Some(e);
            self.cancel.cancel();
        }
    }
}

impl OutputSink for WireSink<'_> {
    fn message(&mut self, message: SqlMessage) {
        self.emit(&Response::Message(message.into()));
    }

    fn result_set(&mut self, result_set: ResultSet) {
        self.emit(&Response::ResultSet(result_set));
    }

    fn rows_affected(&mut self, count: u64) {
        self.emit(&Response::RowsAffected(count));
    }
}

#[cfg(test)]
mod tests;
