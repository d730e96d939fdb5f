//! A clean stop (SIGTERM) of the daemon mid-statement fails the statement with SQL Server's
//! shutdown message (6005, then 3013 for a BACKUP/RESTORE) before the connection closes, and
//! a VIRTUAL_DEVICE name that can never name a set fails at once (issue 21).

mod common;

use common::*;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn regions_of(set: &str) -> Vec<String> {
    let uid = rustix::process::geteuid().as_raw();
    let prefix = vdi_shm::naming::set_prefix(uid, set).unwrap();
    vdi_shm::region::list_regions(&prefix[1..])
}

fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

fn output_of(mut child: std::process::Child) -> (Option<i32>, String) {
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code(), text)
}

#[test]
fn sigterm_mid_backup_fails_it_with_6005_and_3013_before_the_connection_closes() {
    let mut server = Server::start("stop-backup");
    let set = format!("{{stop-{}}}", std::process::id());
    let media = server.dir.join("media");
    let client = Command::new(BIN)
        .arg("backup")
        .arg("-S")
        .arg(format!("unix:{}", server.socket.display()))
        .args([
            "-U",
            "sa",
            "-P",
            PW,
            "--db",
            "AdventureWorks",
            "--set",
            &set,
        ])
        .args(["--with", "MAXTRANSFERSIZE=65536"])
        .arg("--to")
        .arg(&media)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The job runs once the server made its buffer region.
    assert!(
        wait_for(Duration::from_secs(60), || regions_of(&set)
            .iter()
            .any(|r| r.contains(".buf."))),
        "the backup never started:\n{}",
        server.log()
    );
    std::thread::sleep(Duration::from_millis(100));
    server.signal("TERM");
    let (code, text) = output_of(client);
    let status = server.wait_exit();
    assert!(status.success(), "{status}\n{}", server.log());
    assert_eq!(code, Some(1), "{text}");
    let shutdown = text
        .find("SHUTDOWN is in progress.")
        .unwrap_or_else(|| panic!("no 6005 in:\n{text}\n{}", server.log()));
    let terminating = text
        .find("Msg 3013, Level 16")
        .unwrap_or_else(|| panic!("no 3013 in:\n{text}"));
    assert!(shutdown < terminating, "{text}");
    assert!(
        text.contains("BACKUP DATABASE is terminating abnormally."),
        "{text}"
    );
    assert!(
        wait_for(Duration::from_secs(5), || regions_of(&set).is_empty()),
        "{:?}",
        regions_of(&set)
    );
}

#[test]
fn sigterm_while_a_backup_waits_for_its_set_and_during_waitfor() {
    let mut server = Server::start_with("stop-wait", &["--open-timeout", "120"]);
    let sqlcmd = |query: &str| {
        Command::new(BIN)
            .arg("sqlcmd")
            .arg("-S")
            .arg(format!("unix:{}", server.socket.display()))
            .args(["-U", "sa", "-P", PW, "-Q", query])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let backup = sqlcmd("BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'nobody-creates-this-set'");
    let waitfor = sqlcmd("WAITFOR DELAY '00:10'");
    assert!(wait_for(Duration::from_secs(60), || {
        server.log().matches("login 'sa'").count() >= 2
    }));
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    let (_, text) = output_of(backup);
    assert!(text.contains("SHUTDOWN is in progress."), "{text}");
    assert!(
        text.contains("BACKUP DATABASE is terminating abnormally."),
        "{text}"
    );
    assert!(!text.contains("Msg 3201"), "{text}");
    let (_, text) = output_of(waitfor);
    assert!(text.contains("SHUTDOWN is in progress."), "{text}");
    assert!(server.wait_exit().success());
}

#[test]
fn a_virtual_device_name_that_can_never_name_a_set_fails_at_once() {
    // With an open timeout of two minutes, only an immediate refusal ends these in time.
    let server = Server::start_with("doomed", &["--open-timeout", "120"]);
    let long = format!("{}..{}", "a".repeat(5000), "b".repeat(5000));
    let cases = [
        format!("BACKUP DATABASE pubs TO VIRTUAL_DEVICE = '{long}'"),
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'with\\backslash'".to_string(),
        format!(
            "RESTORE DATABASE pubs FROM VIRTUAL_DEVICE = 'fine', VIRTUAL_DEVICE = '{}'",
            "d".repeat(300)
        ),
    ];
    for (i, sql) in cases.iter().enumerate() {
        let started = Instant::now();
        let out = server.sa(&["-Q", sql]);
        let text = stdout(&out);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "waited for the open timeout"
        );
        if i == 1 {
            assert!(text.contains("Msg 3201, Level 16"), "{text}");
            assert!(
                text.contains("can never name a virtual device set"),
                "{text}"
            );
        } else {
            // Too long: SQL Server's own message for that (issue 16, decision 57).
            assert!(text.contains("Msg 3057, Level 16"), "{text}");
        }
        assert!(text.contains("terminating abnormally"), "{text}");
    }
}
