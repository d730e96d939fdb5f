//! `vdisim server` and `vdisim sqlcmd` as real processes, as a vendor's scripts run them.

mod common;

use common::*;

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn select_version_and_the_default_databases() {
    let server = Server::start("select");
    let out = server.sa(&["-Q", "SELECT @@VERSION"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("Microsoft SQL Server 2022"), "{text}");
    assert!(text.contains("vdisim"), "{text}");
    assert!(text.ends_with("\n(1 row affected)\n"), "{text}");

    let out = server.sa(&["-Q", "SELECT name FROM sys.databases", "-h", "-1", "-W"]);
    assert_eq!(code(&out), 0);
    let names: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        names,
        [
            "master",
            "tempdb",
            "model",
            "msdb",
            // In database_id order: the defaults, then --database Extra:2.
            "AdventureWorks",
            "pubs",
            "Extra",
            "",
            "(7 rows affected)"
        ]
    );
    let out = server.sa(&[
        "-Q",
        "SELECT name FROM sys.databases ORDER BY name",
        "-s",
        "|",
    ]);
    // name is sysname: sqlcmd pads it to 128 characters.
    let header = format!("{:<128}\n{}\nAdventureWorks ", "name", "-".repeat(128));
    assert!(stdout(&out).starts_with(&header), "{}", stdout(&out));
}

#[test]
fn create_then_drop_a_database() {
    let server = Server::start("create");
    let list = || stdout(&server.sa(&["-Q", "SELECT name FROM sys.databases", "-h-1", "-W"]));
    let out = server.sa(&["-b", "-Q", "CREATE DATABASE Payroll SIZE = 4 MB"]);
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));
    assert!(list().lines().any(|l| l == "Payroll"));
    let out = server.sa(&["-b", "-Q", "CREATE DATABASE payroll"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).starts_with("Msg 1801, Level 16, State 3, Server VDISIM, Line 1\n"));
    let out = server.sa(&["-b", "-Q", "DROP DATABASE Payroll"]);
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));
    assert!(!list().lines().any(|l| l == "Payroll"));
}

#[test]
fn unknown_database_is_911_and_b_decides_the_exit_code() {
    let server = Server::start("911");
    for (switch, expected) in [(None, 0), (Some("-b"), 1)] {
        let mut args = vec!["-Q", "PRINT 'first'\nUSE Nowhere"];
        args.extend(switch);
        let out = server.sa(&args);
        assert_eq!(code(&out), expected, "{switch:?}");
        assert_eq!(
            stdout(&out),
            "first\nMsg 911, Level 16, State 1, Server VDISIM, Line 2\nDatabase 'Nowhere' does not exist. Make sure that the name is entered correctly.\n"
        );
    }
    // The login database of -d.
    let out = server.sa(&["-d", "Nowhere", "-Q", "PRINT 'x'"]);
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).contains("Msg 4060, Level 11"),
        "{}",
        stdout(&out)
    );
    let out = server.sa(&["-d", "pubs", "-Q", "DROP DATABASE pubs"]);
    assert!(stdout(&out).contains("Msg 3702"), "{}", stdout(&out));
}

#[test]
fn syntax_error_with_and_without_b() {
    let server = Server::start("syntax");
    let expected =
        "Msg 102, Level 15, State 1, Server VDISIM, Line 1\nIncorrect syntax near '+'.\n";
    let out = server.sa(&["-Q", "SELECT 1 +"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, expected));
    let out = server.sa(&["-b", "-Q", "SELECT 1 +"]);
    assert_eq!((code(&out), stdout(&out).as_str()), (1, expected));
    // A batch that starts with an unknown word runs it as a procedure, as SQL Server does.
    let out = server.sa(&["-Q", "SELEKT 1"]);
    assert_eq!(
        stdout(&out),
        "Msg 2812, Level 16, State 62, Server VDISIM, Line 1\nCould not find stored procedure 'SELEKT'.\n"
    );
    // -V raises the severity that counts: level 15 is below 16.
    let out = server.sa(&["-b", "-V", "16", "-Q", "SELECT 1 +"]);
    assert_eq!(code(&out), 0);
    // -m hides errors below its level; -m -1 gives informational messages a header too.
    let out = server.sa(&["-m", "16", "-Q", "SELECT 1 +"]);
    assert_eq!(stdout(&out), "");
    let out = server.sa(&["-m-1", "-Q", "PRINT 'x'"]);
    assert_eq!(
        stdout(&out),
        "Msg 0, Level 0, State 1, Server VDISIM, Line 1\nx\n"
    );
}

#[test]
fn wrong_password_is_18456_and_exit_code_1() {
    let server = Server::start("login");
    let out = server.sqlcmd(&["-U", "sa", "-P", "wrong", "-Q", "SELECT @@VERSION"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "Msg 18456, Level 14, State 1, Server VDISIM, Line 1\nLogin failed for user 'sa'.\n"
    );
    assert!(server.log().contains("login failed for user 'sa'"));
}

#[test]
fn multi_batch_input_file_with_go() {
    let server = Server::start("script");
    let script = server.dir.join("script.sql");
    fs::write(
        &script,
        "\u{feff}-- a vendor's setup script\r\nCREATE DATABASE Nightly RECOVERY SIMPLE\r\nGO\r\nUSE Nightly\r\nGO\r\nPRINT 'twice'\r\nGO 2\r\n\r\nPRINT 'before'\r\nSELECT name FROM nowhere.sys.tables\r\nGO\r\nPRINT 'runs without -b'\r\n",
    )
    .unwrap();
    let out = server.sa(&["-i", script.to_str().unwrap()]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        // The missing object is found when its statement runs (deferred name resolution), so
        // the PRINT before it runs; the rest of that batch does not.
        "Changed database context to 'Nightly'.\ntwice\ntwice\nbefore\nMsg 208, Level 16, State 1, Server VDISIM, Line 3\nInvalid object name 'nowhere.sys.tables'.\nruns without -b\n"
    );
    // With -b the script stops after the failing batch.
    fs::write(&script, "PRINT 'one'\nGO\nUSE Missing\nGO\nPRINT 'never'\n").unwrap();
    let out = server.sa(&["-b", "-i", script.to_str().unwrap()]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.starts_with("one\nMsg 911,"), "{text}");
    assert!(!text.contains("never"), "{text}");
    // A missing input file.
    let out = server.sa(&["-i", "/nonexistent/x.sql"]);
    assert_eq!(code(&out), 1);
}

#[test]
fn backup_of_a_missing_database_is_911_then_3013() {
    let server = Server::start("backup");
    let out = server.sa(&[
        "-b",
        "-Q",
        "BACKUP DATABASE Ghost TO VIRTUAL_DEVICE = 'vendor_set_1' WITH STATS = 10",
    ]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "Msg 911, Level 16, State 1, Server VDISIM, Line 1\nDatabase 'Ghost' does not exist. Make sure that the name is entered correctly.\nMsg 3013, Level 16, State 1, Server VDISIM, Line 1\nBACKUP DATABASE is terminating abnormally.\n"
    );
    let log = server.log();
    assert!(log.contains("job BACKUP DATABASE Ghost"), "{log}");
    assert!(
        log.contains("batch 1 (1 line(s), repeat 1): error"),
        "{log}"
    );
}

#[test]
fn a_sqlcmd_symlink_runs_unchanged_popen_style_commands() {
    // Nobody creates the set: BACKUP gives up after the (shortened) open timeout.
    let server = Server::start_with("symlink", &["--open-timeout", "0.2"]);
    let bin_dir = server.dir.join("bin");
    fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, bin_dir.join("sqlcmd")).unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tds_port = server.tds_addr().port();
    for server_name in [
        ".".to_owned(),
        "localhost".to_owned(),
        "(local)".to_owned(),
        // A port or tcp: speaks TDS (-C trusts the generated certificate).
        format!("localhost,{tds_port}"),
        format!("tcp:127.0.0.1,{tds_port}"),
    ] {
        // What a vendor's client does: popen("sqlcmd -S . -U sa -P pw -Q \"…\"").
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "sqlcmd -S '{server_name}' -U sa -P '{PW}' -C -N -l 30 -t 0 -b -Q \"BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'set_{{0001}}'\""
            ))
            .env("PATH", &path)
            .env("VDISIM_SERVER", &server.socket)
            .output()
            .unwrap();
        let text = stdout(&out);
        assert_eq!(code(&out), 1, "{server_name}: {text}");
        assert!(
            text.starts_with("Msg 3201, Level 16, State 1, Server VDISIM, Line 1\nCannot open backup device 'set_{0001}'."),
            "{server_name}: {text}"
        );
        assert!(
            text.ends_with("BACKUP DATABASE is terminating abnormally.\n"),
            "{text}"
        );
    }
    let out = Command::new(bin_dir.join("sqlcmd"))
        .args([
            "-S",
            ".",
            "-U",
            "sa",
            "-P",
            PW,
            "-h",
            "-1",
            "-Q",
            "SELECT @@SERVERNAME",
        ])
        .env("VDISIM_SERVER", &server.socket)
        .output()
        .unwrap();
    // @@SERVERNAME is nvarchar(128): sqlcmd pads the value to that width.
    assert_eq!(
        stdout(&out),
        format!("{:<128}\n\n(1 row affected)\n", "VDISIM")
    );
}

#[test]
fn no_server_is_a_connection_error_with_exit_code_1() {
    let dir = temp_dir("noserver");
    let out = Command::new(BIN)
        .args(["sqlcmd", "-S", ".", "-U", "sa", "-P", "x", "-Q", "SELECT 1"])
        .env("VDISIM_SERVER", dir.join("absent.sock"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).starts_with("Sqlcmd: Error: "),
        "{}",
        stdout(&out)
    );
    let out = Command::new(BIN)
        .args(["sqlcmd", "-S", "db.example.com", "-Q", "SELECT 1"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let out = Command::new(BIN).args(["sqlcmd", "-T"]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("'-T': Unknown Option"));
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sigterm_and_sigint_stop_the_daemon_and_remove_its_socket() {
    for signal in ["TERM", "INT"] {
        let mut server = Server::start(&format!("sig{signal}"));
        // A client in the middle of a long WAITFOR does not hold the shutdown up.
        let mut waiting = Command::new(BIN)
            .arg("sqlcmd")
            .arg("-S")
            .arg(format!("unix:{}", server.socket.display()))
            .args(["-U", "sa", "-P", PW, "-Q", "WAITFOR DELAY '00:10'"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        server.signal(signal);
        let status = server.wait_exit();
        assert!(status.success(), "{signal}: {status}\n{}", server.log());
        assert!(!server.socket.exists(), "{signal}: socket left behind");
        assert_eq!(
            fs::read_dir(&server.dir).unwrap().count(),
            1,
            "only the log is left"
        );
        let _ = waiting.wait();
        let mut rest = String::new();
        waiting
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut rest)
            .unwrap();
        assert!(server.log().contains("stopped"), "{}", server.log());
    }
}

#[test]
fn socket_is_0600_under_umask_000_and_a_second_daemon_is_refused() {
    let dir = temp_dir("umask");
    let socket = dir.join("new/private/sqlservr.sock");
    let server = Server::start_with_umask_000("umask-log", &socket);
    let meta = fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    for created in [dir.join("new"), dir.join("new/private")] {
        let mode = fs::metadata(&created).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", created.display());
    }
    let out = server.sa(&["-Q", "PRINT 'reachable'"]);
    assert_eq!(stdout(&out), "reachable\n");

    let second = Command::new(BIN)
        .args(["server", "--socket"])
        .arg(&socket)
        .arg("--no-tds")
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already listening"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // The refused daemon left the live one's socket alone.
    assert_eq!(stdout(&server.sa(&["-Q", "PRINT 'still'"])), "still\n");
    drop(server);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let dir = temp_dir("stale");
    let socket = dir.join("sqlservr.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    // A child that another test forks at this moment holds the listener until its exec.
    let deadline = Instant::now() + Duration::from_secs(30);
    while UnixStream::connect(&socket).is_ok() {
        assert!(Instant::now() < deadline, "the socket stays live");
        std::thread::sleep(Duration::from_millis(10));
    }
    let server = Server::start_with_umask_000("stale-log", &socket);
    assert_eq!(stdout(&server.sa(&["-Q", "PRINT 'fresh'"])), "fresh\n");
    drop(server);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn databases_persist_in_the_data_dir_across_restarts() {
    let data = temp_dir("data");
    let data_arg = data.to_str().unwrap();
    let mut first = Server::start_with("data1", &["--data-dir", data_arg]);
    let out = first.sa(&[
        "-b",
        "-Q",
        "CREATE DATABASE Kept RECOVERY SIMPLE\nDROP DATABASE pubs",
    ]);
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));
    first.signal("TERM");
    assert!(first.wait_exit().success());

    let second = Server::start_with("data2", &["--data-dir", data_arg]);
    let out = second.sa(&["-h", "-1", "-W", "-Q", "SELECT name FROM sys.databases"]);
    let names: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert!(names.contains(&"Kept".to_owned()), "{names:?}");
    assert!(names.contains(&"Extra".to_owned()), "{names:?}");
    assert!(!names.contains(&"pubs".to_owned()), "{names:?}");
    // Kept is in SIMPLE recovery after the restart, too.
    let out = second.sa(&["-Q", "BACKUP LOG Kept TO VIRTUAL_DEVICE = 'x'"]);
    assert!(stdout(&out).starts_with("Msg 4208,"), "{}", stdout(&out));
    drop(second);
    fs::remove_dir_all(data).unwrap();
}

#[test]
fn a_128_character_name_survives_backup_restore_and_a_restart_with_data_dir() {
    // Spaces, non-ASCII letters, a closing bracket and a slash: 128 characters whose file name
    // would be far longer than Linux allows if it were only escaped.
    let mut name: String = "Données ]/ 数据库 ".chars().cycle().take(127).collect();
    name.push('Z');
    assert_eq!(name.chars().count(), 128);
    let quoted = format!("[{}]", name.replace(']', "]]"));
    let literal = format!("N'{}'", name.replace('\'', "''"));
    let data = temp_dir("data128");
    let data_arg = data.to_str().unwrap();
    let mut first = Server::start_with("data128a", &["--data-dir", data_arg]);
    let out = first.sa(&["-b", "-Q", &format!("CREATE DATABASE {quoted}")]);
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));

    let media = first.dir.join("media");
    let server_arg = format!("unix:{}", first.socket.display());
    let client = |verb: &str, dir_flag: &str, extra: &[&str]| {
        let out = Command::new(BIN)
            .args([
                verb,
                "-S",
                &server_arg,
                "-U",
                "sa",
                "-P",
                PW,
                "--db",
                &name,
                "-q",
            ])
            .args([dir_flag, media.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{verb}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    client("backup", "--to", &[]);
    let out = first.sa(&["-b", "-Q", &format!("DROP DATABASE {quoted}")]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    client("restore", "--from", &[]);
    first.signal("TERM");
    assert!(first.wait_exit().success());

    let second = Server::start_with("data128b", &["--data-dir", data_arg]);
    let out = second.sa(&[
        "-h",
        "-1",
        "-W",
        "-Q",
        &format!("SELECT name, DB_ID({literal}) FROM sys.databases WHERE name = {literal}"),
    ]);
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{name} ")), "{text}");
    drop(second);
    fs::remove_dir_all(data).unwrap();
}
