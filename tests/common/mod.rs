//! What the root package's process tests share: a `vdisim server` child process and output
//! helpers.
#![allow(dead_code)]

use std::fs;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

pub const PW: &str = "Str0ng!pw";
pub const BIN: &str = env!("CARGO_BIN_EXE_vdisim");

pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = std::env::temp_dir().join(format!(
        "vdisim-sqlcmd-{tag}-{}-{nanos:x}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `vdisim server` child process on a socket in its own temporary directory.
pub struct Server {
    pub child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
}

impl Server {
    pub fn start(tag: &str) -> Server {
        Server::start_with(tag, &[])
    }

    pub fn start_with(tag: &str, extra: &[&str]) -> Server {
        let dir = temp_dir(tag);
        let socket = dir.join("sqlservr.sock");
        let log = fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(BIN)
            .args(["server", "--socket"])
            .arg(&socket)
            .args([
                "--sa-password",
                PW,
                "--database",
                "Extra:2",
                "--tds",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = Server { child, dir, socket };
        server.wait_ready();
        server
    }

    /// Starts a new daemon on the same socket and directory after the old one died (a stale
    /// socket left by a killed daemon must be replaced).
    pub fn restart(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_some(),
            "restart of a live daemon"
        );
        let log = fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        self.child = Command::new(BIN)
            .args(["server", "--socket"])
            .arg(&self.socket)
            .args([
                "--sa-password",
                PW,
                "--database",
                "Extra:2",
                "--tds",
                "127.0.0.1:0",
            ])
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.wait_ready();
    }

    /// Started through `sh -c "umask 000; exec vdisim server …"`.
    pub fn start_with_umask_000(tag: &str, socket: &Path) -> Server {
        let dir = temp_dir(tag);
        let log = fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask 000; exec '{BIN}' server --socket '{}' --sa-password '{PW}' --tds 127.0.0.1:0",
                socket.display()
            ))
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            dir,
            socket: socket.to_owned(),
        };
        server.wait_ready();
        server
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while UnixStream::connect(&self.socket).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("server exited early ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "server not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The TDS address the server logged last (`--tds 127.0.0.1:0` picks the port).
    pub fn tds_addr(&self) -> std::net::SocketAddr {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(addr) = self
                .log()
                .lines()
                .filter_map(|l| l.split("TDS ready on ").nth(1))
                .next_back()
            {
                return addr.trim().parse().unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "no TDS port logged:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// `vdisim sqlcmd -S unix:<socket> ARGS…`
    pub fn sqlcmd(&self, args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        command
            .arg("sqlcmd")
            .arg("-S")
            .arg(format!("unix:{}", self.socket.display()))
            .args(args);
        command.output().unwrap()
    }

    /// `vdisim sqlcmd -S unix:<socket> -U sa -P <pw> ARGS…`
    pub fn sa(&self, args: &[&str]) -> Output {
        let mut all = vec!["-U", "sa", "-P", PW];
        all.extend_from_slice(args);
        self.sqlcmd(&all)
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

/// The output of a command that must succeed (its stderr in the panic message otherwise).
pub fn ok(out: &Output) -> String {
    let text = stdout(out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The rows of a `-h -1 -W -s "|"` query as sa, split into cells; the query must succeed.
pub fn rows(server: &Server, query: &str) -> Vec<Vec<String>> {
    let out = server.sa(&[
        "-h",
        "-1",
        "-W",
        "-s",
        "|",
        "-Q",
        &format!("SET NOCOUNT ON; {query}"),
    ]);
    let text = ok(&out);
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with("Changed database context"))
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}
