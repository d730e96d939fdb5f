//! The TDS front end: SQL Server's own protocol on TCP, so real drivers (ODBC Driver 18,
//! FreeTDS, pytds, tiberius …) reach the same engine as the Unix-socket daemon.
//!
//! The protocol is the sans-IO `tds` crate; this module brings sockets, threads and rustls.
//! One thread accepts; each connection gets a thread that runs its requests and one that reads
//! its socket (so an ATTENTION cancels a running BACKUP at once). See `docs/tds.md`.

mod channel;
mod conn;
pub mod tls;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::Engine;
pub use tds::prelogin::EncryptionPolicy;
pub use tls::{TlsError, TlsIdentity};

/// Where `vdisim server` listens for TDS unless told otherwise: loopback, SQL Server's port.
pub const DEFAULT_TDS_ADDR: &str = "127.0.0.1:1433";

/// Connections served at once unless `--max-connections` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// How shutdown waits for connections to finish their current statement.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What [`TdsListener::start`] needs.
#[derive(Debug, Clone)]
pub struct TdsConfig {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    /// `None`: no TLS (clients that require encryption are refused, as by a server without a
    /// certificate).
    pub tls: Option<Arc<TlsIdentity>>,
    /// SQL Server's Force Encryption: clients that cannot encrypt are refused.
    pub force_encryption: bool,
    pub max_connections: usize,
    /// The largest request (batch text, RPC with its parameters) a client may send.
    pub max_message: usize,
    pub login_timeout: Duration,
}

impl TdsConfig {
    #[must_use]
    pub fn new(addr: SocketAddr, engine: Arc<Engine>) -> Self {
        TdsConfig {
            addr,
            engine,
            tls: None,
            force_encryption: false,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_message: tds::packet::DEFAULT_MAX_MESSAGE,
            login_timeout: Duration::from_secs(30),
        }
    }

    fn encryption(&self) -> EncryptionPolicy {
        match (&self.tls, self.force_encryption) {
            (None, _) => EncryptionPolicy::Unavailable,
            (Some(_), false) => EncryptionPolicy::Optional,
            (Some(_), true) => EncryptionPolicy::Required,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TdsStartError {
    #[error(
        "cannot listen for TDS on {addr}: the port is already in use (a SQL Server or another vdisim?); choose another with --tds ADDR:PORT (port 0 picks a free one) or turn TDS off with --no-tds"
    )]
    AddrInUse { addr: SocketAddr },
    #[error("cannot listen for TDS on {addr}: {source}")]
    Io { addr: SocketAddr, source: io::Error },
}

/// Starts TDS listeners; see [`TdsHandle`].
#[derive(Debug)]
pub struct TdsListener;

impl TdsListener {
    pub fn start(config: TdsConfig) -> Result<TdsHandle, TdsStartError> {
        let addr = config.addr;
        let io_error = |source: io::Error| {
            if source.kind() == io::ErrorKind::AddrInUse {
                TdsStartError::AddrInUse { addr }
            } else {
                TdsStartError::Io { addr, source }
            }
        };
        let listener = TcpListener::bind(addr).map_err(io_error)?;
        let local_addr = listener.local_addr().map_err(io_error)?;
        listener.set_nonblocking(true).map_err(io_error)?;
        let shared = Arc::new(Shared {
            config,
            stopping: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
            active: Mutex::new(0),
            idle: Condvar::new(),
            next_connection: AtomicU64::new(1),
        });
        shared.config.engine.log_line(&format!(
            "TDS listening on {local_addr} (encryption {})",
            match shared.config.encryption() {
                EncryptionPolicy::Unavailable => "not available",
                EncryptionPolicy::Optional => "optional, strict (TDS 8.0) accepted",
                EncryptionPolicy::Required => "required, strict (TDS 8.0) accepted",
            }
        ));
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("vdisim-tds-accept".into())
                .spawn(move || accept_loop(&shared, &listener))
                .map_err(io_error)?
        };
        Ok(TdsHandle {
            shared,
            local_addr,
            accept: Some(accept),
        })
    }
}

/// A running TDS listener. Dropping it shuts it down.
#[derive(Debug)]
pub struct TdsHandle {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl TdsHandle {
    /// The address actually bound (the port chosen when 0 was asked for).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections open now.
    #[must_use]
    pub fn connections(&self) -> usize {
        *self
            .shared
            .active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops accepting, closes every connection (their running statements are cancelled by
    /// the engine's shutdown or the disconnect) and waits up to 10 s for their threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        let shared = &self.shared;
        shared.stopping.store(true, Ordering::SeqCst);
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
                break;
            }
            active = shared
                .idle
                .wait_timeout(active, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for TdsHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Debug)]
struct Shared {
    config: TdsConfig,
    stopping: AtomicBool,
    connections: Mutex<HashMap<u64, TcpStream>>,
    active: Mutex<usize>,
    idle: Condvar,
    next_connection: AtomicU64,
}

impl Shared {
    fn log(&self, connection: u64, text: &str) {
        self.config
            .engine
            .log_line(&format!("tds conn {connection}: {text}"));
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    const POLL: Duration = Duration::from_millis(20);
    while !shared.stopping.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => start_connection(shared, stream, peer),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                shared
                    .config
                    .engine
                    .log_line(&format!("TDS accept failed: {e}"));
                std::thread::sleep(POLL);
            }
        }
    }
}

fn start_connection(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
    {
        let mut active = shared.active.lock().unwrap_or_else(PoisonError::into_inner);
        if *active >= shared.config.max_connections {
            drop(active);
            shared.log(
                id,
                &format!(
                    "from {peer}: refused, {} connections already open (--max-connections)",
                    shared.config.max_connections
                ),
            );
            return;
        }
        *active += 1;
    }
    let registered = stream.try_clone();
    if let Ok(registered) = registered {
        shared
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, registered);
    }
    let thread_shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name(format!("vdisim-tds-{id}"))
        .spawn(move || {
            let shared = thread_shared;
            let ending = conn::serve(&shared, id, stream, peer);
            shared.log(id, &ending);
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
