use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::time::{Duration, Instant};

use super::protocol::LoginRequest;
use super::*;
use crate::db::Catalog;
use crate::engine::{CollectSink, EngineConfig};

const PW: &str = "pw";

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "vdisim-daemon-test-{tag}-{}-{:x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn start(dir: &Path) -> DaemonHandle {
    let engine = Engine::new(
        Catalog::with_defaults(),
        EngineConfig {
            sa_password: Some(PW.into()),
            ..EngineConfig::default()
        },
    );
    Daemon::start(DaemonConfig::new(dir.join("s.sock"), engine)).unwrap()
}

fn login(password: &str) -> LoginRequest {
    LoginRequest {
        user: "sa".into(),
        password: password.into(),
        database: None,
        app: Some("test".into()),
    }
}

fn batch(text: &str) -> BatchRequest {
    BatchRequest {
        text: text.into(),
        first_line: 1,
        repeat: 1,
    }
}

#[test]
fn serves_batches_and_refuses_a_wrong_password() {
    let dir = temp_dir("serve");
    let daemon = start(&dir);
    let mut client = Client::connect(daemon.socket_path(), &login(PW)).unwrap();
    assert_eq!(client.login_info().server_name, "VDISIM");
    assert_eq!(client.login_info().database, "master");
    let mut sink = CollectSink::new();
    let done = client
        .execute(
            &batch("SELECT name FROM sys.databases\nUSE nowhere"),
            &mut sink,
        )
        .unwrap();
    assert!(done.error);
    assert_eq!(sink.error_numbers(), [911]);
    let rendered = sink.render("VDISIM");
    assert!(rendered.contains("AdventureWorks"), "{rendered}");

    match Client::connect(daemon.socket_path(), &login("bad")) {
        Err(ClientError::LoginFailed {
            server_name,
            messages,
        }) => {
            assert_eq!(server_name, "VDISIM");
            assert_eq!(messages.len(), 1);
            assert_eq!((messages[0].number, messages[0].level), (18456, 14));
        }
        other => panic!("expected a login failure, got {other:?}"),
    }
    // The first connection is unaffected.
    let done = client
        .execute(&batch("PRINT 'still here'"), &mut sink)
        .unwrap();
    assert!(!done.error);
    daemon.shutdown();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn socket_is_private_and_removed_at_shutdown() {
    let dir = temp_dir("mode");
    let daemon = start(&dir);
    let path = daemon.socket_path().to_owned();
    let meta = fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // Nothing but the socket is left in the directory (the staging directory is gone).
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    daemon.shutdown();
    assert!(!path.exists());
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_second_daemon_is_refused_and_a_stale_socket_replaced() {
    let dir = temp_dir("twice");
    let first = start(&dir);
    let engine = Engine::new(Catalog::new(), EngineConfig::default());
    let second = Daemon::start(DaemonConfig::new(first.socket_path(), Arc::clone(&engine)));
    assert!(
        matches!(second, Err(DaemonError::AlreadyRunning { .. })),
        "{second:?}"
    );
    let path = first.socket_path().to_owned();
    first.shutdown();

    // A socket nobody listens on is stale.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    // A child forked by another test at this moment holds the listener until its exec.
    let deadline = Instant::now() + Duration::from_secs(30);
    while UnixStream::connect(&path).is_ok() {
        assert!(Instant::now() < deadline, "the socket stays live");
        std::thread::sleep(Duration::from_millis(10));
    }
    let third = Daemon::start(DaemonConfig::new(&path, Arc::clone(&engine))).unwrap();
    assert!(Client::connect(&path, &login("any")).is_ok());
    third.shutdown();

    // A regular file is not ours to delete.
    fs::write(&path, "precious").unwrap();
    let fourth = Daemon::start(DaemonConfig::new(&path, engine));
    assert!(matches!(fourth, Err(DaemonError::NotASocket { .. })));
    assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cancel_and_disconnect_stop_a_running_batch() {
    let dir = temp_dir("cancel");
    let daemon = start(&dir);
    let mut client = Client::connect(daemon.socket_path(), &login(PW)).unwrap();
    let mut cancel = client.cancel_handle().unwrap();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        cancel.cancel().unwrap();
    });
    let started = Instant::now();
    let mut sink = CollectSink::new();
    let done = client
        .execute(&batch("WAITFOR DELAY '00:10'\nPRINT 'late'"), &mut sink)
        .unwrap();
    canceller.join().unwrap();
    assert!(done.cancelled);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(sink.messages().count(), 0);
    // The next batch is not affected by the earlier cancel.
    let done = client.execute(&batch("PRINT 'next'"), &mut sink).unwrap();
    assert!(!done.cancelled);
    assert_eq!(sink.messages().count(), 1);

    // Shutdown does not wait ten minutes for a client stuck in WAITFOR.
    let socket = daemon.socket_path().to_owned();
    let waiter = std::thread::spawn(move || {
        let mut c = Client::connect(&socket, &login(PW)).unwrap();
        c.execute(&batch("WAITFOR DELAY '00:10'"), &mut CollectSink::new())
    });
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    daemon.shutdown();
    assert!(started.elapsed() < Duration::from_secs(5));
    let _ = waiter.join().unwrap();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn many_connections_at_once() {
    let dir = temp_dir("many");
    let daemon = start(&dir);
    let socket = daemon.socket_path().to_owned();
    let started = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(&socket, &login(PW)).unwrap();
                let mut sink = CollectSink::new();
                let text = format!("CREATE DATABASE db{i}\nWAITFOR DELAY '00:00:01'");
                assert!(!c.execute(&batch(&text), &mut sink).unwrap().error);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Eight 1 s waits ran side by side, not one after another (8 s).
    assert!(started.elapsed() < Duration::from_secs(7));
    assert_eq!(daemon.engine().lock_catalog().list().count(), 10);
    daemon.shutdown();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn garbage_gets_a_protocol_error() {
    use std::io::{BufRead, Write};
    let dir = temp_dir("garbage");
    let daemon = start(&dir);
    let mut stream = UnixStream::connect(daemon.socket_path()).unwrap();
    stream
        .write_all(b"{\"batch\":{\"text\":\"SELECT 1\"}}\n")
        .unwrap();
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    assert!(line.starts_with("{\"protocol_error\""), "{line}");
    daemon.shutdown();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn job_progress_reaches_the_client_while_the_job_runs() {
    use crate::engine::tests::{BlockingJobs, engine_with};

    /// Cancels the batch as soon as the 50 percent message arrives: if progress only arrived
    /// with the end of the batch, the job would run into its 30 s limit and fail with 3189.
    struct CancelOnProgress {
        cancel: CancelHandle,
        seen: Vec<u32>,
    }
    impl OutputSink for CancelOnProgress {
        fn message(&mut self, message: SqlMessage) {
            if message.number == 3211 {
                self.cancel.cancel().unwrap();
            }
            self.seen.push(message.number);
        }
        fn result_set(&mut self, _: ResultSet) {}
        fn rows_affected(&mut self, _: u64) {}
    }

    let dir = temp_dir("progress");
    let jobs = Arc::new(BlockingJobs::default());
    jobs.hold.store(true, Ordering::SeqCst);
    let engine = engine_with(jobs);
    let daemon = Daemon::start(DaemonConfig::new(dir.join("s.sock"), engine)).unwrap();
    let mut client = Client::connect(daemon.socket_path(), &login("Secret#1")).unwrap();
    let mut sink = CancelOnProgress {
        cancel: client.cancel_handle().unwrap(),
        seen: Vec::new(),
    };
    let done = client
        .execute(
            &batch("BACKUP DATABASE AdventureWorks TO VIRTUAL_DEVICE = 'v' WITH STATS = 50"),
            &mut sink,
        )
        .unwrap();
    assert!(done.error);
    assert_eq!(sink.seen, [3211, 3204, 3013]);
    daemon.shutdown();
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_socket_path_near_the_address_limit_still_gets_mode_0600() {
    let base = temp_dir("long");
    // `<dir>/x` fits in a socket address (at most 107 bytes), `<dir>/.sXXXXXXXX/s` does not.
    let used = base.as_os_str().len() + 1;
    let dir = base.join("d".repeat(104usize.saturating_sub(used)));
    fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("x");
    assert!(socket.as_os_str().len() <= 107);
    assert!(dir.join(".s00000000/s").as_os_str().len() > 107);
    let engine = Engine::new(Catalog::new(), EngineConfig::default());
    let daemon = Daemon::start(DaemonConfig::new(&socket, engine)).unwrap();
    let mode = fs::symlink_metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(Client::connect(&socket, &login("x")).is_ok());
    daemon.shutdown();
    assert!(!socket.exists());
    fs::remove_dir_all(base).unwrap();
}
