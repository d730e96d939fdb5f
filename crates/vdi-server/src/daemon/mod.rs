//! The daemon: serves the session engine on a Unix domain socket (`vdisim server`), or inside
//! a process ([`Daemon::start`]) for tests and `vdisim demo`.
//!
//! One thread accepts; each connection gets a thread that reads its login and then runs its
//! batches and writes the replies, and, once logged in, a second, small one that reads requests
//! (so a `cancel` or a disconnect reaches a running batch at once). Connections are capped
//! (`--max-connections`), logins have a deadline and a size limit, requests a size limit
//! (decision 55; `docs/daemon.md`). The wire protocol is in [`protocol`] and `docs/daemon.md`.

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

/// How many connections the daemon serves at once by default (`--max-connections`). A
/// connection costs about 40 KiB, two threads and one descriptor (docs/robustness.md).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// How long a new connection may take by default to send its whole login line.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest login line accepted (before login nothing bigger is buffered).
pub const MAX_LOGIN_LINE_BYTES: usize = 64 << 10;

/// A request at least this big makes the connection hand freed memory back to the system once
/// it has been served.
const LARGE_REQUEST_BYTES: usize = 1 << 20;

/// Stack of a connection's request-reading thread (it only reads and parses JSON lines).
const READER_STACK_BYTES: usize = 256 << 10;

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
    /// Connections served at once (logged in or not); one more is refused with Msg 17809.
    pub max_connections: usize,
    /// How long a connection may take to send its login.
    pub login_timeout: Duration,
}

impl DaemonConfig {
    #[must_use]
    pub fn new(socket_path: impl Into<PathBuf>, engine: Arc<Engine>) -> Self {
        DaemonConfig {
            socket_path: socket_path.into(),
            engine,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            login_timeout: DEFAULT_LOGIN_TIMEOUT,
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
        let max_connections = socket::connections_within_fd_limit(config.max_connections, 256);
        if max_connections < config.max_connections {
            config.engine.log_line(&format!(
                "the descriptor limit allows {max_connections} connections, not {}",
                config.max_connections
            ));
        }
        let shared = Arc::new(Shared {
            engine: config.engine,
            stopping: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
            active: Mutex::new(0),
            idle: Condvar::new(),
            next_connection: AtomicU64::new(1),
            max_connections,
            login_timeout: config.login_timeout,
            refusing: AtomicBool::new(false),
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

    /// Stops accepting, removes the socket, and cancels running statements: each fails with
    /// SQL Server's shutdown messages (6005, then 3013 for a BACKUP/RESTORE), which reach its
    /// client before the connection closes. Idle connections close at once; the daemon waits
    /// up to 10 s for busy ones.
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
        // No more requests: a connection's reader sees the end, its running batch (cancelled by
        // the shutdown) still writes its messages and batch_done, then the connection closes.
        shared.close_connections(std::net::Shutdown::Read);
        if !shared.wait_idle(DRAIN_TIMEOUT) {
            shared.close_connections(std::net::Shutdown::Both);
            let active = shared.wait_idle(Duration::from_secs(1));
            if !active {
                shared
                    .engine
                    .log_line("stopping with connection(s) still finishing");
            }
        }
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
    /// Every open connection, to close them at shutdown.
    connections: Mutex<HashMap<u64, Arc<UnixStream>>>,
    active: Mutex<usize>,
    idle: Condvar,
    next_connection: AtomicU64,
    max_connections: usize,
    login_timeout: Duration,
    /// Set while connections are refused for the cap (logged once per episode).
    refusing: AtomicBool,
}

impl Shared {
    fn log(&self, connection: u64, text: &str) {
        self.engine.log_line(&format!("conn {connection}: {text}"));
    }

    fn close_connections(&self, how: std::net::Shutdown) {
        for stream in self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            let _ = stream.shutdown(how);
        }
    }

    /// Waits up to `limit` for every connection to finish; true if they did.
    fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut active = self.active.lock().unwrap_or_else(PoisonError::into_inner);
        while *active > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            active = self
                .idle
                .wait_timeout(active, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

/// A connection's stream, shared by its threads (one descriptor per connection).
struct Stream(Arc<UnixStream>);

impl io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.0).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &UnixListener) {
    const POLL: Duration = Duration::from_millis(20);
    while !shared.stopping.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let active = *shared.active.lock().unwrap_or_else(PoisonError::into_inner);
                if active >= shared.max_connections {
                    refuse_connection(shared, stream);
                } else {
                    if shared.refusing.swap(false, Ordering::SeqCst) {
                        shared.engine.log_line("accepting connections again");
                    }
                    start_connection(shared, stream);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                shared.engine.log_line(&format!("accept failed: {e}"));
                std::thread::sleep(POLL);
            }
        }
    }
}

/// Past the cap: SQL Server's 17809 and `login_failed`, written without waiting (a client that
/// does not read cannot hold the accepting thread), then the connection is closed.
fn refuse_connection(shared: &Shared, stream: UnixStream) {
    if !shared.refusing.swap(true, Ordering::SeqCst) {
        shared.engine.log_line(&format!(
            "refusing connections: {} are open (--max-connections)",
            shared.max_connections
        ));
    }
    let _ = stream.set_nonblocking(true);
    let mut reply = encode(&Response::Message(
        too_many_connections(shared.max_connections).into(),
    ));
    reply.extend(encode(&Response::LoginFailed(protocol::LoginFailed {
        server_name: shared.engine.server_name().to_owned(),
    })));
    let _ = (&stream).write_all(&reply);
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// 17809 (level 20), as SQL Server words it when its user connections are used up.
fn too_many_connections(max: usize) -> SqlMessage {
    SqlMessage::new(
        17809,
        20,
        1,
        1,
        format!(
            "Could not connect because the maximum number of '{max}' user connections has \
             already been reached. The system administrator can use sp_configure to increase \
             the maximum value. The connection has been closed."
        ),
    )
}

fn start_connection(shared: &Arc<Shared>, stream: UnixStream) {
    let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
    let stream = Arc::new(stream);
    shared
        .connections
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, Arc::clone(&stream));
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

fn send(writer: &mut Stream, event: &Response) -> io::Result<()> {
    writer.write_all(&encode(event))
}

/// What the reading thread hands the executing thread.
enum Incoming {
    /// A batch, its cancel token, and whether its request was large.
    Batch(BatchRequest, CancelToken, bool),
    Invalid(String),
}

fn serve(shared: &Arc<Shared>, id: u64, stream: Arc<UnixStream>) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    let mut writer = Stream(Arc::clone(&stream));
    let mut reader = BufReader::new(Stream(Arc::clone(&stream)));
    let deadline = Instant::now() + shared.login_timeout;
    let line = match read_login_line(&mut reader, &stream, deadline) {
        Ok(Some(line)) => line,
        Ok(None) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
            let _ = refuse(&mut writer, "no login within the login timeout");
            return Err(io::Error::new(io::ErrorKind::TimedOut, "no login in time"));
        }
        Err(e) => {
            let _ = refuse(&mut writer, &e.to_string());
            return Err(e);
        }
    };
    stream.set_read_timeout(None)?;
    let login = match serde_json::from_slice::<Request>(&line) {
        Ok(Request::Login(login)) => login,
        Ok(_) => return refuse(&mut writer, "the first request must be a login"),
        Err(e) => return refuse(&mut writer, &format!("unreadable request: {e}")),
    };
    drop(line);
    if shared.engine.is_shutting_down() {
        send(
            &mut writer,
            &Response::Message(shutdown_in_progress().into()),
        )?;
        return send(
            &mut writer,
            &Response::LoginFailed(protocol::LoginFailed {
                server_name: shared.engine.server_name().to_owned(),
            }),
        );
    }
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
        .stack_size(READER_STACK_BYTES)
        .spawn(move || read_requests(reader, &tx))?;
    let result = run_batches(shared, id, &mut session, &mut writer, &rx);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = reader_thread.join();
    result
}

/// The login line: at most [`MAX_LOGIN_LINE_BYTES`], all of it before `deadline` (a client
/// that trickles bytes gains nothing). `Ok(None)` if the client left without sending one.
fn read_login_line(
    reader: &mut BufReader<Stream>,
    stream: &UnixStream,
    deadline: Instant,
) -> io::Result<Option<Vec<u8>>> {
    use std::io::BufRead;
    let mut line = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if line.len() + take > MAX_LOGIN_LINE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("login line longer than {MAX_LOGIN_LINE_BYTES} bytes"),
            ));
        }
        line.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(Some(line));
        }
    }
}

/// 6005 (level 10, SQL Server's text): what a statement, or a login, meets while the server
/// stops.
fn shutdown_in_progress() -> SqlMessage {
    SqlMessage::new(6005, 10, 1, 1, "SHUTDOWN is in progress.")
}

fn refuse(writer: &mut Stream, text: &str) -> io::Result<()> {
    send(
        writer,
        &Response::ProtocolError(ProtocolError {
            text: text.to_owned(),
        }),
    )
}

/// Reads requests until the client goes away; a cancel (or the disconnect) cancels the most
/// recently queued batch.
fn read_requests(mut reader: BufReader<Stream>, tx: &mpsc::Sender<Incoming>) {
    let mut latest = CancelToken::new();
    loop {
        let line = match client::read_line(&mut reader) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Incoming::Invalid(e.to_string()));
                // The partial line may have been large (an oversized or unterminated one).
                vdi_shm::memory::release_free_memory();
                break;
            }
        };
        let large = line.len() >= LARGE_REQUEST_BYTES;
        let request = serde_json::from_slice::<Request>(&line);
        drop(line);
        match request {
            Ok(Request::Batch(batch)) => {
                latest = CancelToken::new();
                if tx
                    .send(Incoming::Batch(batch, latest.clone(), large))
                    .is_err()
                {
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
                if large {
                    vdi_shm::memory::release_free_memory();
                }
                break;
            }
        }
        if large {
            vdi_shm::memory::release_free_memory();
        }
    }
    latest.cancel();
}

fn run_batches(
    shared: &Shared,
    id: u64,
    session: &mut Session,
    writer: &mut Stream,
    rx: &mpsc::Receiver<Incoming>,
) -> io::Result<()> {
    let mut number = 0u64;
    for incoming in rx {
        let (request, cancel, large) = match incoming {
            Incoming::Batch(request, cancel, large) => (request, cancel, large),
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
            told_shutdown: false,
        };
        let outcome = session.execute_batch_cancellable(&batch, &mut sink, &cancel);
        // A batch that ran into the shutdown says so before the connection closes.
        if shared.engine.is_shutting_down() && !sink.told_shutdown {
            sink.message(shutdown_in_progress());
        }
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
        drop(batch);
        send(
            writer,
            &Response::BatchDone(BatchDone {
                error: outcome.error,
                cancelled: outcome.cancelled,
            }),
        )?;
        if large {
            vdi_shm::memory::release_free_memory();
        }
    }
    Ok(())
}

/// Streams a batch's output to the client; a failed write cancels the batch.
struct WireSink<'a> {
    writer: &'a mut Stream,
    failed: Option<io::Error>,
    cancel: &'a CancelToken,
    /// A 6005 already went out (from a job the shutdown stopped).
    told_shutdown: bool,
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
        self.told_shutdown |= message.number == 6005;
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
