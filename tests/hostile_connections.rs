//! Hostile and plentiful connections against a real `vdisim server` (issue 21, decision 55):
//! oversized lines, a trickled login, 1,000 idle connections and 1,000 logged-in idle
//! sessions, and the connection cap. Resource ceilings are generous (several times what
//! `docs/robustness.md` records), so they catch a leak or a thread explosion, never a slow
//! machine; the figures are printed.

mod common;

use common::{BIN, PW, temp_dir};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Daemon {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl Daemon {
    fn start(tag: &str, extra: &[&str]) -> Daemon {
        let dir = temp_dir(tag);
        let socket = dir.join("s.sock");
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(BIN)
            .args(["server", "--socket"])
            .arg(&socket)
            .args(["--sa-password", PW])
            // These figures are the Unix socket's; TDS's own listener is another test's.
            .arg("--no-tds")
            .args(extra)
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let d = Daemon { child, dir, socket };
        let deadline = Instant::now() + Duration::from_secs(60);
        while UnixStream::connect(&d.socket).is_err() {
            assert!(Instant::now() < deadline, "daemon not ready:\n{}", d.log());
            std::thread::sleep(Duration::from_millis(10));
        }
        while !d.log().contains(" ready: ") {
            assert!(Instant::now() < deadline, "daemon not ready:\n{}", d.log());
            std::thread::sleep(Duration::from_millis(10));
        }
        // Main, accepting and sweeping threads; the probe connection above has ended.
        d.wait_until("the probe connection ends", |u| u.threads <= 3);
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn usage(&self) -> Usage {
        usage_of(self.child.id())
    }

    /// Waits (up to 30 s, polling) until the daemon's usage satisfies `ok`.
    fn wait_until(&self, what: &str, ok: impl Fn(&Usage) -> bool) -> Usage {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let u = self.usage();
            if ok(&u) {
                return u;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: still {u:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// RSS (MiB), threads and descriptors of a process.
#[derive(Debug, Clone, Copy)]
struct Usage {
    rss_mib: u64,
    threads: u64,
    fds: u64,
}

fn usage_of(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    Usage {
        rss_mib: field("VmRSS:") / 1024,
        threads: field("Threads:"),
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count() as u64,
    }
}

/// Raises this process's descriptor limit; how many connections the test can hold.
fn connections_we_can_hold(wanted: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
    let have = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    wanted.min(have.saturating_sub(64) as usize)
}

fn login_line() -> Vec<u8> {
    format!("{{\"login\":{{\"user\":\"sa\",\"password\":\"{PW}\"}}}}\n").into_bytes()
}

fn logged_in(socket: &Path) -> (UnixStream, BufReader<UnixStream>) {
    let mut s = UnixStream::connect(socket).unwrap();
    s.write_all(&login_line()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("login_ok"), "{line}");
    (s, r)
}

/// Reads what the server says until it closes the connection (bounded).
fn read_to_close(s: &mut UnixStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn oversized_lines_are_refused_and_their_memory_is_returned() {
    let d = Daemon::start("oversize", &[]);
    let before = d.usage();
    // Before login: nothing past 64 KiB is buffered.
    let mut s = UnixStream::connect(&d.socket).unwrap();
    let _ = s.write_all(&vec![b'x'; 1 << 20]);
    let said = read_to_close(&mut s);
    assert!(
        said.contains("protocol_error") && said.contains("65536"),
        "{said}"
    );

    // After login: a line over the 16 MiB cap is refused and the connection closed.
    let (mut s, _r) = logged_in(&d.socket);
    let _ = s.write_all(&vec![b'x'; (16 << 20) + 2]);
    let said = read_to_close(&mut s);
    assert!(said.contains("line longer than 16777216 bytes"), "{said}");

    // What issue 21 measured: 20 logged-in connections each sending a 15 MiB line. The
    // memory comes back once they are gone.
    let mut held: Vec<_> = (0..20).map(|_| logged_in(&d.socket)).collect();
    let chunk = vec![b'x'; 1 << 20];
    for (s, _) in &mut held {
        for _ in 0..15 {
            s.write_all(&chunk).unwrap();
        }
    }
    let peak = d.wait_until("the 15 MiB lines arrive", |u| {
        u.rss_mib >= before.rss_mib + 200
    });
    drop(held);
    let after = d.wait_until("the connections close", |u| u.threads <= before.threads);
    let settled = d.wait_until("memory is returned", |u| u.rss_mib <= before.rss_mib + 48);
    println!(
        "oversized lines: RSS {} MiB before, {} MiB with 20 x 15 MiB lines, {} MiB after \
         (threads {} -> {}, fds {} -> {})",
        before.rss_mib,
        peak.rss_mib,
        settled.rss_mib,
        before.threads,
        after.threads,
        before.fds,
        after.fds
    );

    // Large batches that run: served, and their memory returned while the sessions stay.
    let mut sessions: Vec<_> = (0..8).map(|_| logged_in(&d.socket)).collect();
    let text = format!("SELECT 1 AS one -- {}", "x".repeat(6 << 20));
    let request = format!("{{\"batch\":{{\"text\":\"{text}\"}}}}\n");
    for (s, _) in &mut sessions {
        s.write_all(request.as_bytes()).unwrap();
    }
    for (_, r) in &mut sessions {
        let mut line = String::new();
        while !line.contains("batch_done") {
            line.clear();
            assert!(r.read_line(&mut line).unwrap() > 0, "the session closed");
        }
        assert!(line.contains("\"error\":false"), "{line}");
    }
    let served = d.wait_until("memory is returned after the batches", |u| {
        u.rss_mib <= before.rss_mib + 48
    });
    println!(
        "8 sessions after a 6 MiB batch each: RSS {} MiB, threads {}",
        served.rss_mib, served.threads
    );
}

#[test]
fn a_thousand_idle_connections_then_a_thousand_idle_sessions() {
    let n = connections_we_can_hold(1000);
    if n < 1000 {
        println!("descriptor limit: measuring {n} connections instead of 1000");
    }
    // Long enough that the first idle connections are still open when the last is accepted
    // on a loaded 2-core machine; short enough that the test waits little for the deadline.
    let d = Daemon::start("thousand", &["--login-timeout", "10"]);
    let base = d.usage();

    // Idle connections that never log in: one thread and one descriptor each ...
    let idle: Vec<UnixStream> = (0..n)
        .map(|_| UnixStream::connect(&d.socket).unwrap())
        .collect();
    let u = d.wait_until("every idle connection is served", |u| {
        u.threads >= base.threads + n as u64
    });
    println!(
        "{n} idle connections: RSS {} -> {} MiB, threads {} -> {}, fds {} -> {}",
        base.rss_mib, u.rss_mib, base.threads, u.threads, base.fds, u.fds
    );
    assert!(u.threads <= base.threads + n as u64 + 8, "{u:?}");
    assert!(u.fds <= base.fds + n as u64 + 8, "{u:?}");
    assert!(u.rss_mib <= base.rss_mib + 200, "{u:?}");
    // ... until the login deadline closes them all.
    let u = d.wait_until("the login deadline closes them", |u| {
        u.threads <= base.threads
    });
    assert!(u.fds <= base.fds + 2, "{u:?}");
    let mut first = &idle[0];
    let mut buf = [0u8; 256];
    let _ = first.set_read_timeout(Some(Duration::from_secs(10)));
    let got = first.read(&mut buf).unwrap_or(0);
    assert!(
        String::from_utf8_lossy(&buf[..got]).contains("login timeout"),
        "{:?}",
        String::from_utf8_lossy(&buf[..got])
    );
    drop(idle);

    // Logged-in idle sessions: two threads and one descriptor each.
    let base = d.usage();
    let sessions: Vec<_> = (0..n).map(|_| logged_in(&d.socket)).collect();
    let u = d.wait_until("every session is served", |u| {
        u.threads >= base.threads + 2 * n as u64
    });
    println!(
        "{n} logged-in idle sessions: RSS {} -> {} MiB, threads {} -> {}, fds {} -> {}",
        base.rss_mib, u.rss_mib, base.threads, u.threads, base.fds, u.fds
    );
    assert!(u.threads <= base.threads + 2 * n as u64 + 8, "{u:?}");
    assert!(u.fds <= base.fds + n as u64 + 8, "{u:?}");
    assert!(u.rss_mib <= base.rss_mib + 300, "{u:?}");
    drop(sessions);
    d.wait_until("the sessions end", |u| u.threads <= base.threads);
}

#[test]
fn past_the_cap_a_connection_gets_17809_and_a_freed_slot_is_reused() {
    let d = Daemon::start("cap", &["--max-connections", "20"]);
    let held: Vec<_> = (0..20).map(|_| logged_in(&d.socket)).collect();
    // The 21st: SQL Server's message, then the end of the connection.
    let login = vdi_server::daemon::protocol::LoginRequest {
        user: "sa".into(),
        password: PW.into(),
        database: None,
        app: None,
    };
    match vdi_server::daemon::Client::connect(&d.socket, &login) {
        Err(vdi_server::daemon::ClientError::LoginFailed { messages, .. }) => {
            assert_eq!(messages[0].number, 17809, "{messages:?}");
            assert!(
                messages[0]
                    .text
                    .contains("maximum number of '20' user connections"),
                "{messages:?}"
            );
        }
        other => panic!("the 21st connection was not refused: {other:?}"),
    }
    // sqlcmd shows it as SQL Server would, and exits 1.
    let out = Command::new(BIN)
        .args(["sqlcmd", "-S"])
        .arg(format!("unix:{}", d.socket.display()))
        .args(["-U", "sa", "-P", PW, "-Q", "SELECT 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Msg 17809, Level 20"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(d.log().contains("refusing connections: 20 are open"));
    // A freed slot is served again.
    drop(held);
    d.wait_until("the held connections end", |u| u.threads <= 3);
    let (_s, _r) = logged_in(&d.socket);
    assert!(d.log().contains("accepting connections again"));
}

#[test]
fn a_trickled_login_is_cut_at_the_deadline() {
    let d = Daemon::start("trickle", &["--login-timeout", "1"]);
    let mut s = UnixStream::connect(&d.socket).unwrap();
    let started = Instant::now();
    // One byte every 100 ms never completes a login in time: each read would be "in time".
    for b in b"{\"login\":{\"user\":\"sa\",\"password\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}}" {
        if s.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let said = read_to_close(&mut s);
    assert!(said.contains("no login within the login timeout"), "{said}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
