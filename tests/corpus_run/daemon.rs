//! A fresh `vdisim server` per corpus file, sessions on it, and every call into it bounded in
//! time, so that a hang fails the test instead of stopping it.

use std::fs;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use vdi_client::reference::{self, ClientRun, ReferenceOptions};
use vdi_server::daemon::Client;
use vdi_server::daemon::protocol::{BatchRequest, LoginRequest};
use vdi_server::engine::CollectSink;

pub const PASSWORD: &str = "Str0ng!pw";
const BIN: &str = env!("CARGO_BIN_EXE_vdisim");
/// The longest one batch (with its device set) may take.
pub const BATCH_LIMIT: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread and waits at most `limit` for it: a hang, or a panic there, is
/// an error here.
pub fn bounded<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => Ok(value),
        Err(RecvTimeoutError::Timeout) => Err(format!("no answer within {limit:?} (a hang)")),
        Err(RecvTimeoutError::Disconnected) => Err("the thread running it panicked".to_owned()),
    }
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "vdisim-corpus-{tag}-{}-{nanos:x}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A `vdisim server` child process with its own socket and directory.
pub struct Daemon {
    child: Child,
    dir: TempDir,
    socket: PathBuf,
}

impl Daemon {
    /// Where the daemon puts and mounts snapshot images (`docs/snapshots.md`).
    pub fn volumes(&self) -> PathBuf {
        vdi_server::jobs::volumes_beside(&self.socket)
    }

    pub fn start(tag: &str) -> Daemon {
        let dir = TempDir::new(&format!("{tag}-daemon"));
        let socket = dir.0.join("sqlservr.sock");
        let log = fs::File::create(dir.0.join("server.log")).unwrap();
        let child = Command::new(BIN)
            .args(["server", "--socket"])
            .arg(&socket)
            // A statement whose device set nobody creates (`needs: no-client`) gives up sooner.
            .args(["--sa-password", PASSWORD, "--open-timeout", "2", "--no-tds"])
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut daemon = Daemon { child, dir, socket };
        let deadline = Instant::now() + Duration::from_secs(60);
        while UnixStream::connect(&daemon.socket).is_err() {
            if let Some(status) = daemon.exited() {
                panic!("the daemon exited early ({status}):\n{}", daemon.log());
            }
            assert!(
                Instant::now() < deadline,
                "daemon not ready:\n{}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }

    /// The exit status, if the daemon is no longer running.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.0.join("server.log")).unwrap_or_default()
    }

    /// A new session as sa, in master.
    pub fn connect(&self, app: &str) -> Session {
        let login = LoginRequest {
            user: "sa".into(),
            password: PASSWORD.into(),
            database: None,
            app: Some(app.into()),
        };
        let socket = self.socket.clone();
        let client = bounded(BATCH_LIMIT, move || Client::connect(&socket, &login))
            .unwrap_or_else(|e| panic!("login: {e}"))
            .unwrap_or_else(|e| panic!("login to the daemon: {e}"));
        let server_name = client.login_info().server_name.clone();
        Session {
            client: Some(client),
            server_name,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What one batch gave back.
pub struct Answer {
    pub sink: CollectSink,
    /// The reference client's side, when the batch had a device set.
    pub client_run: Option<ClientRun>,
}

/// One logged-in connection; the client moves onto a worker thread for each call.
pub struct Session {
    client: Option<Client>,
    pub server_name: String,
}

impl Session {
    /// Runs `text` as one batch. An error means the session is lost (a hang, or the
    /// connection failed).
    pub fn run(&mut self, text: &str) -> Result<Answer, String> {
        let mut client = self.client.take().ok_or("the session was lost before")?;
        let request = batch(text);
        let (client, result) = bounded(BATCH_LIMIT, move || {
            let mut sink = CollectSink::new();
            let result = client.execute(&request, &mut sink).map(|_| sink);
            (client, result)
        })?;
        let sink = result.map_err(|e| e.to_string())?;
        self.client = Some(client);
        Ok(Answer {
            sink,
            client_run: None,
        })
    }

    /// Runs `text` while the reference client serves the device set `set` from or to `media`
    /// (and, for a snapshot backup or restore, the snapshot contract's files).
    pub fn run_with_devices(
        &mut self,
        text: &str,
        set: &str,
        devices: u16,
        direction: reference::Direction,
        media: &Path,
        snapshot: Option<reference::SnapshotFiles>,
    ) -> Result<Answer, String> {
        let mut client = self.client.take().ok_or("the session was lost before")?;
        let request = batch(text);
        let options = ReferenceOptions {
            devices,
            configuration_timeout_ms: 200,
            command_timeout_ms: 200,
            idle_limit: Duration::from_secs(30),
            snapshot,
            ..ReferenceOptions::default()
        };
        let (set, media) = (set.to_owned(), media.to_owned());
        let (run, (client, result)) = bounded(BATCH_LIMIT, move || {
            reference::run(
                &set,
                direction,
                &media,
                &options,
                Arc::new(AtomicU64::new(0)),
                move || {
                    let mut sink = CollectSink::new();
                    let result = client.execute(&request, &mut sink).map(|_| sink);
                    (client, result)
                },
            )
        })?;
        let sink = result.map_err(|e| e.to_string())?;
        self.client = Some(client);
        Ok(Answer {
            sink,
            client_run: Some(run),
        })
    }

    /// The first column of the first row of `query`'s first result set, as text.
    pub fn scalar(&mut self, query: &str) -> Result<Option<String>, String> {
        let answer = self.run(query)?;
        Ok(answer.sink.outputs.iter().find_map(|o| match o {
            vdi_server::engine::Output::ResultSet(rs) => {
                rs.rows.first().and_then(|row| match row.first() {
                    Some(vdi_server::tsql::Value::String(s)) => Some(s.clone()),
                    _ => None,
                })
            }
            _ => None,
        }))
    }
}

fn batch(text: &str) -> BatchRequest {
    BatchRequest {
        text: text.to_owned(),
        first_line: 1,
        repeat: 1,
    }
}
