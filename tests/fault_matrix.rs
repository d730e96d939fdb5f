//! The fault matrix: a real daemon and a real client process, one of them killed with SIGKILL at
//! each protocol state. The survivor must see the failure within 2 s (VD_E_ABORT on the client,
//! Msg 3013 on the T-SQL side), no region of the set may stay in /dev/shm, a daemon that
//! survived serves the next BACKUP normally, and a daemon started after one was killed replaces
//! the stale socket, serves the next BACKUP and leaves no socket when it stops.
//!
//! The test binary re-executes itself (`FAULT_ROLE`) to play the client process.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig, VdcCode, vdf, win32};
use vdi_server::daemon::Client;
use vdi_server::daemon::protocol::{BatchRequest, LoginRequest};
use vdi_server::engine::sink::CollectSink;

const ROLE: &str = "FAULT_ROLE";

/// Where a client stops and waits to be killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// Created, the server not configured yet.
    Configurable,
    /// GetConfiguration returned, no device open.
    Initializing,
    /// Holding a Write (backup) or Read (restore) command.
    MidTransfer,
    /// Holding a Flush.
    Flush,
    /// Holding VDC_Complete.
    Complete,
}

impl Stop {
    fn parse(s: &str) -> Stop {
        match s {
            "configurable" => Stop::Configurable,
            "initializing" => Stop::Initializing,
            "transfer" => Stop::MidTransfer,
            "flush" => Stop::Flush,
            _ => Stop::Complete,
        }
    }
}

/// The client process: serves the set until it reaches `stop`, prints READY, then waits.
fn client_role(set_name: &str, stop: Stop, media: &Path, restore: bool) -> ! {
    let set = ClientVirtualDeviceSet::new();
    let features = if stop == Stop::Flush {
        0
    } else {
        vdf::REQUEST_COMPLETE
    };
    set.create(
        set_name,
        &VdConfig {
            device_count: 1,
            features,
            ..VdConfig::default()
        },
    )
    .unwrap();
    let ready = || {
        println!("READY");
        loop {
            std::thread::sleep(Duration::from_secs(60));
        }
    };
    if stop == Stop::Configurable {
        ready();
    }
    let mut cfg = VdConfig::default();
    set.get_configuration(20_000, &mut cfg).unwrap();
    if stop == Stop::Initializing {
        ready();
    }
    let dev = set.open_device(set_name).unwrap();
    let data = if restore {
        std::fs::read(media).unwrap()
    } else {
        Vec::new()
    };
    let _held = serve_until(&dev, stop, &data);
    ready()
}

fn play_role_if_child() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let mut parts = role.split(',');
    let set = parts.next().unwrap().to_string();
    let stop = Stop::parse(parts.next().unwrap());
    let restore = parts.next() == Some("restore");
    let media = std::env::var("FAULT_MEDIA").unwrap_or_default();
    client_role(&set, stop, Path::new(&media), restore);
}

fn spawn_client(
    test: &str,
    set: &str,
    stop: &str,
    restore: bool,
    media: &Path,
) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(
            ROLE,
            format!(
                "{set},{stop},{}",
                if restore { "restore" } else { "backup" }
            ),
        )
        .env("FAULT_MEDIA", media)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    (child, out)
}

fn wait_ready(out: &mut impl BufRead) {
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the client ended before it was ready"
        );
        if line.contains("READY") {
            return;
        }
    }
}

/// Sends `sql` to the daemon on a thread; the result arrives on the returned handle.
fn send_sql(server: &Server, sql: String) -> std::thread::JoinHandle<(CollectSink, Instant)> {
    let socket = server.socket.clone();
    std::thread::spawn(move || {
        let login = LoginRequest {
            user: "sa".into(),
            password: PW.into(),
            database: None,
            app: None,
        };
        let mut client = Client::connect(&socket, &login).unwrap();
        let mut sink = CollectSink::new();
        let _ = client.execute(
            &BatchRequest {
                text: sql,
                first_line: 1,
                repeat: 1,
            },
            &mut sink,
        );
        (sink, Instant::now())
    })
}

fn regions_of(name: &str) -> Vec<String> {
    let encoded = vdi_shm::naming::encode_set_name(name);
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.contains(&encoded))
        .collect()
}

/// A one-device backup of pubs to a file, for the restore cases.
fn backup_media(server: &Server) -> std::path::PathBuf {
    let dir = server.dir.join("media");
    let out = Command::new(BIN)
        .args([
            "backup",
            "-S",
            &format!("unix:{}", server.socket.display()),
            "-U",
            "sa",
            "-P",
            PW,
            "--db",
            "pubs",
            // Called again for the same server: the media is made afresh.
            "--overwrite",
            "--to",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("stripe-00.vbak")
}

fn kill_client_at(stop: &str, restore: bool) {
    let server = Server::start_with(&format!("kill-client-{stop}"), &["--open-timeout", "20"]);
    let media = backup_media(&server);
    let set = format!("{{fault-{stop}-{}-{}}}", std::process::id(), restore as u8);
    let test = "sigkill_of_the_client_at_every_state";
    let (mut child, mut out) = spawn_client(test, &set, stop, restore, &media);
    // Database pubs has no FILESTREAM: the only Flush is the last command when Complete is off.
    let sql = if restore {
        format!("RESTORE DATABASE pubs FROM VIRTUAL_DEVICE='{set}' WITH REPLACE")
    } else {
        format!("BACKUP DATABASE pubs TO VIRTUAL_DEVICE='{set}'")
    };
    let sql_thread = if stop == "configurable" {
        wait_ready(&mut out);
        None
    } else {
        // The set must exist before the statement is sent: the client prints nothing until
        // it has its configuration, so send first and wait for READY after.
        std::thread::sleep(Duration::from_millis(200));
        let t = send_sql(&server, sql.clone());
        wait_ready(&mut out);
        Some(t)
    };
    child.kill().unwrap();
    let killed = Instant::now();
    child.wait().unwrap();
    if let Some(t) = sql_thread {
        let (sink, finished) = t.join().unwrap();
        let detected = finished.saturating_duration_since(killed);
        assert!(
            sink.error_numbers().contains(&3013),
            "{stop}: {}",
            sink.render("VDISIM")
        );
        assert!(
            detected < Duration::from_secs(2),
            "{stop}: the server took {detected:?}"
        );
        eprintln!(
            "client killed {stop} ({}): T-SQL failed with 3013 after {detected:?}",
            if restore { "restore" } else { "backup" }
        );
    } else {
        // Nobody is attached yet: the statement sent now finds a dead client's set.
        let (sink, _) = send_sql(&server, sql).join().unwrap();
        assert!(
            sink.error_numbers().contains(&3013),
            "{}",
            sink.render("VDISIM")
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !regions_of(&set).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        regions_of(&set).is_empty(),
        "{stop}: left behind {:?}",
        regions_of(&set)
    );
    // The daemon serves the next BACKUP normally.
    backup_media(&server);
}

#[test]
fn sigkill_of_the_client_at_every_state() {
    play_role_if_child();
    for stop in [
        "configurable",
        "initializing",
        "transfer",
        "flush",
        "complete",
    ] {
        kill_client_at(stop, false);
    }
    kill_client_at("transfer", true);
}

/// Serves `dev` (Read data from `media`) until a command matching `stop` arrives, and returns it
/// uncompleted.
fn serve_until(
    dev: &vdi_client::ClientVirtualDevice,
    stop: Stop,
    media: &[u8],
) -> vdi_client::Command {
    let mut cursor = 0;
    loop {
        let cmd = dev.get_command(20_000).unwrap();
        let hold = match stop {
            Stop::MidTransfer => matches!(cmd.code(), VdcCode::Write | VdcCode::Read),
            Stop::Flush => cmd.code() == VdcCode::Flush,
            _ => cmd.code() == VdcCode::Complete,
        };
        if hold {
            return cmd;
        }
        let (code, bytes) = match cmd.code() {
            VdcCode::Read => {
                let n = (media.len() - cursor).min(cmd.size() as usize);
                cmd.write_data(&media[cursor..cursor + n]);
                cursor += n;
                let eof = n < cmd.size() as usize;
                let code = if eof {
                    win32::ERROR_HANDLE_EOF
                } else {
                    win32::ERROR_SUCCESS
                };
                (code, n as u64)
            }
            VdcCode::Write => (win32::ERROR_SUCCESS, u64::from(cmd.size())),
            _ => (win32::ERROR_SUCCESS, 0),
        };
        dev.complete_command(&cmd, code, bytes, 0).unwrap();
    }
}

/// Blocks in GetCommand until it fails, and returns the failure.
fn next_failure(dev: &vdi_client::ClientVirtualDevice) -> vdi_client::VdError {
    loop {
        if let Err(e) = dev.get_command(-1) {
            return e;
        }
    }
}

/// The daemon is SIGKILLed while this process, the client, is in `stop`. The client must get
/// VD_E_ABORT within 2 s (VD_E_TIMEOUT as asked in Configurable, where no server ever attached),
/// leave no region, and a new daemon on the same socket must serve the next BACKUP.
fn kill_daemon_at(stop: Stop, restore: bool) {
    let kind = if restore { "restore" } else { "backup" };
    let mut server = Server::start_with(&format!("kill-server-{stop:?}-{kind}"), &[]);
    let media = if restore {
        std::fs::read(backup_media(&server)).unwrap()
    } else {
        Vec::new()
    };
    let set_name = format!("{{fault-server-{stop:?}-{kind}-{}}}", std::process::id());
    let set = ClientVirtualDeviceSet::new();
    let features = if stop == Stop::Flush {
        0
    } else {
        vdf::REQUEST_COMPLETE
    };
    set.create(
        &set_name,
        &VdConfig {
            device_count: 1,
            features,
            ..VdConfig::default()
        },
    )
    .unwrap();
    let mut held = None;
    if stop != Stop::Configurable {
        let sql = if restore {
            format!("RESTORE DATABASE pubs FROM VIRTUAL_DEVICE='{set_name}' WITH REPLACE")
        } else {
            format!("BACKUP DATABASE pubs TO VIRTUAL_DEVICE='{set_name}'")
        };
        let _sql = send_sql(&server, sql);
        let mut cfg = VdConfig::default();
        set.get_configuration(20_000, &mut cfg).unwrap();
        if stop != Stop::Initializing {
            let dev = set.open_device(&set_name).unwrap();
            let cmd = serve_until(&dev, stop, &media);
            held = Some((dev, cmd));
        }
    }
    server.child.kill().unwrap();
    let killed = Instant::now();
    server.child.wait().unwrap();
    let err = match (&held, stop) {
        (Some((dev, cmd)), _) => {
            // Complete the held command (it cannot reach anyone), then wait for the next.
            let _ = dev.complete_command(cmd, 0, 0, 0);
            next_failure(dev)
        }
        (None, Stop::Configurable) => {
            // No server ever attached, so nothing can tell the client it died: the wait
            // must end with the timeout it asked for, and the set stay usable for Close.
            let mut cfg = VdConfig::default();
            set.get_configuration(1_500, &mut cfg).unwrap_err()
        }
        // Initializing: nothing waits yet; the next blocking call notices.
        (None, _) => next_failure(&set.open_device(&set_name).unwrap()),
    };
    let detected = killed.elapsed();
    let expected = if stop == Stop::Configurable {
        VdCode::Timeout
    } else {
        VdCode::Abort
    };
    assert_eq!(err.code, expected, "{stop:?} {kind}: {err}");
    // The timeout case waits what it asked for first.
    let asked = if stop == Stop::Configurable {
        Duration::from_millis(1_500)
    } else {
        Duration::ZERO
    };
    assert!(
        detected >= asked && detected < asked + Duration::from_secs(2),
        "{stop:?} {kind}: detected after {detected:?}"
    );
    eprintln!("daemon killed {stop:?} ({kind}): the client got {err} after {detected:?}");
    drop(held);
    set.close().ok();
    assert!(
        regions_of(&set_name).is_empty(),
        "{stop:?}: left behind {:?}",
        regions_of(&set_name)
    );
    // The killed daemon's socket is stale; a new daemon replaces it and serves a BACKUP, and
    // leaves no socket when it stops.
    assert!(server.socket.exists(), "a SIGKILLed daemon cannot unlink");
    server.restart();
    backup_media(&server);
    server.signal("TERM");
    assert!(server.wait_exit().success());
    assert!(
        !server.socket.exists(),
        "{stop:?}: the socket was left behind"
    );
}

#[test]
fn sigkill_of_the_daemon_at_every_state_is_vd_e_abort_within_2_seconds() {
    play_role_if_child();
    for stop in [
        Stop::Configurable,
        Stop::Initializing,
        Stop::MidTransfer,
        Stop::Flush,
        Stop::Complete,
    ] {
        kill_daemon_at(stop, false);
    }
    kill_daemon_at(Stop::MidTransfer, true);
}
