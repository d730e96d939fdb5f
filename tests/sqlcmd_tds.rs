//! `vdisim sqlcmd -S host,port` speaks TDS (the client side of `crates/tds`, TLS with rustls):
//! the same script through the daemon's Unix socket and through its TDS port prints the same
//! messages, result sets and row counts, and ends with the same exit code.

mod common;

use common::*;
use std::process::{Command, Output};

const SCRIPT: &str = r#"SET NOCOUNT OFF
SELECT CAST(1 AS tinyint) AS t, CAST(-2 AS smallint) AS s, 2147483647 AS i, CAST(9007199254740993 AS bigint) AS b, CAST(1 AS bit) AS bt
SELECT N'héllo' AS n, 'plain' AS v, CAST(REPLICATE('x', 300) AS varchar(max)) AS vmax, CAST(NULL AS nvarchar(10)) AS nul
GO
SELECT CAST(12.345 AS decimal(10,3)) AS d, CAST(2.5 AS float) AS f, CAST('2024-02-29T12:34:56.1234567' AS datetime2) AS dt2, CAST('2024-02-29' AS date) AS dd, CAST('2024-02-29T01:02:03.997' AS datetime) AS dtm
SELECT CAST('6F9619FF-8B86-D011-B42D-00C04FC964FF' AS uniqueidentifier) AS g, CAST(0x0102FF AS varbinary(10)) AS vb
GO
PRINT 'between'
SELECT * FROM nosuchtable
GO
RAISERROR('informational %d', 10, 1, 42)
RAISERROR('an error', 16, 2)
SELECT name FROM sys.databases WHERE database_id > 4 ORDER BY name
GO
SET NOCOUNT ON
SELECT 1 AS one
SET NOCOUNT OFF
GO 2
USE pubs
GO
SELECT DB_NAME() AS db
GO
BACKUP DATABASE nosuchdb TO DISK = '/dev/null'
GO
:exit(SELECT 7)
"#;

/// `vdisim sqlcmd -S SERVER -U sa -P PW ARGS…`
fn sqlcmd(server: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["sqlcmd", "-S", server, "-U", "sa", "-P", PW])
        .args(args)
        .output()
        .unwrap()
}

fn tds_name(server: &Server) -> String {
    format!("127.0.0.1,{}", server.tds_addr().port())
}

#[test]
fn the_same_script_prints_the_same_through_the_socket_and_tds() {
    let server = Server::start("sqlcmd-tds-same");
    let script = server.dir.join("same.sql");
    std::fs::write(&script, SCRIPT).unwrap();
    let script = script.to_str().unwrap();
    let unix = sqlcmd(
        &format!("unix:{}", server.socket.display()),
        &["-i", script],
    );
    let unix_text = stdout(&unix);
    assert_eq!(code(&unix), 7, "{unix_text}");
    assert!(unix_text.contains("Msg 208, Level 16, State 1, Server VDISIM, Line 2"));
    assert!(unix_text.contains("2024-02-29 12:34:56.1234567"));
    let tds = tds_name(&server);
    // Every encryption mode: -N o (TLS for the login only), -N m (the default), -N s (TDS 8.0).
    for mode in ["-No", "-Nm", "-Ns"] {
        for name in [tds.clone(), format!("tcp:{tds}")] {
            let out = sqlcmd(&name, &["-C", mode, "-i", script]);
            assert_eq!(stdout(&out), unix_text, "{name} {mode}");
            assert_eq!(code(&out), 7, "{name} {mode}");
            assert!(
                out.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // -b stops at the first batch with an error, with exit code 1, on both paths.
    let unix = sqlcmd(
        &format!("unix:{}", server.socket.display()),
        &["-b", "-i", script],
    );
    let over_tds = sqlcmd(&tds, &["-C", "-b", "-i", script]);
    assert_eq!(code(&unix), 1);
    assert_eq!(code(&over_tds), 1);
    assert_eq!(stdout(&over_tds), stdout(&unix));
    let log = server.log();
    assert!(log.contains("app 'sqlcmd', library 'vdisim'"), "{log}");
    assert!(log.contains("TLS (TDS 8.0 strict)"), "{log}");
    assert!(log.contains("TLS for the login only"), "{log}");
}

#[test]
fn a_query_timeout_cancels_over_tds_and_the_session_goes_on() {
    let server = Server::start("sqlcmd-tds-timeout");
    let script = "WAITFOR DELAY '00:00:05'\nGO\nSELECT 2 AS two\nGO\n";
    let path = server.dir.join("t.sql");
    std::fs::write(&path, script).unwrap();
    let path = path.to_str().unwrap();
    let started = std::time::Instant::now();
    let over_tds = sqlcmd(&tds_name(&server), &["-C", "-t", "1", "-i", path]);
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    let unix = sqlcmd(
        &format!("unix:{}", server.socket.display()),
        &["-t", "1", "-i", path],
    );
    assert_eq!(stdout(&over_tds), stdout(&unix));
    assert!(
        stdout(&over_tds).starts_with("Timeout expired\ntwo"),
        "{}",
        stdout(&over_tds)
    );
    assert_eq!(code(&over_tds), 0);
    // Under -b a timeout stops the script with exit code 1.
    let over_tds = sqlcmd(&tds_name(&server), &["-C", "-b", "-t", "1", "-i", path]);
    assert_eq!(code(&over_tds), 1);
    assert_eq!(stdout(&over_tds), "Timeout expired\n");
}

#[test]
fn tds_login_failures_print_what_the_socket_prints_or_sqlcmd_s_lines() {
    let server = Server::start("sqlcmd-tds-login");
    let tds = tds_name(&server);
    let socket = format!("unix:{}", server.socket.display());
    for args in [
        vec!["-P", "wrong", "-Q", "SELECT 1"],
        vec!["-d", "nosuchdb", "-Q", "SELECT 1"],
    ] {
        let mut over_tds = vec!["-C"];
        over_tds.extend_from_slice(&args);
        let a = sqlcmd(&tds, &over_tds);
        let b = sqlcmd(&socket, &args);
        assert_eq!(code(&a), 1);
        assert_eq!(stdout(&a), stdout(&b), "{args:?}");
        assert!(stdout(&a).contains("Msg 18456, Level 14"), "{}", stdout(&a));
    }
    // Without -C the generated (self-signed) certificate is not trusted, as with sqlcmd 18.
    let out = sqlcmd(&tds, &["-Q", "SELECT 1"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(
        text.starts_with("Sqlcmd: Error: vdisim : SSL Provider: "),
        "{text}"
    );
    assert!(text.contains("trusted with -C"), "{text}");
    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = sqlcmd(
        &format!("127.0.0.1,{port}"),
        &["-C", "-l", "5", "-Q", "SELECT 1"],
    );
    assert_eq!(code(&out), 1);
    assert!(
        stdout(&out).starts_with("Sqlcmd: Error: vdisim : TCP Provider: "),
        "{}",
        stdout(&out)
    );
    // A TDS server that never answers: the login timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let out = sqlcmd(
        &format!("127.0.0.1,{port}"),
        &["-C", "-l", "1", "-Q", "SELECT 1"],
    );
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "Sqlcmd: Error: vdisim : Login timeout expired.\n"
    );
}

/// `sqlcmd -C` as a program for `vdisim backup|restore --sqlcmd`.
fn sqlcmd_wrapper(server: &Server) -> std::path::PathBuf {
    let wrapper = server.dir.join("sqlcmd-tds");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec '{BIN}' sqlcmd -C \"$@\"\n"),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&wrapper, permissions).unwrap();
    wrapper
}

/// BACKUP and RESTORE whose T-SQL goes through `vdisim sqlcmd -S host,port` (TDS, TLS), the
/// reference client serving 2 devices: progress messages and the server's verdicts arrive,
/// and a failed statement is exit code 1 (`-b`).
#[test]
fn backup_and_restore_through_sqlcmd_over_tds() {
    let server = Server::start("sqlcmd-tds-backup");
    let wrapper = sqlcmd_wrapper(&server);
    let media = server.dir.join("media");
    let tds = tds_name(&server);
    let transfer = |verb: &str, extra: &[&str]| {
        Command::new(BIN)
            .arg(verb)
            .args(["--sqlcmd", wrapper.to_str().unwrap(), "-S", &tds, "-P", PW])
            .args(["--db", "Extra", "-q"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = transfer(
        "backup",
        &[
            "--devices",
            "2",
            "--with",
            "STATS = 25",
            "--to",
            media.to_str().unwrap(),
        ],
    );
    let text = stdout(&out);
    assert_eq!(
        code(&out),
        0,
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("25 percent processed."), "{text}");
    assert!(
        text.contains("BACKUP DATABASE successfully processed"),
        "{text}"
    );
    let out = transfer("restore", &["--from", media.to_str().unwrap(), "--replace"]);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(
        text.contains("RESTORE DATABASE successfully processed"),
        "{text}"
    );
    // RESTORE over an existing database without REPLACE fails: the server's error, exit 1.
    let out = transfer("restore", &["--from", media.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("Msg 3159"), "{}", stdout(&out));
    assert!(server.log().contains("app 'sqlcmd', library 'vdisim'"));
}

/// `sqlcmd -t` over TDS while a VDI client holds the BACKUP's first Write: the attention
/// aborts the device set (VD_E_ABORT), sqlcmd prints `Timeout expired`, and its session runs
/// the next batch.
#[test]
fn a_sqlcmd_timeout_over_tds_cancels_a_running_backup() {
    use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig};
    let server = Server::start("sqlcmd-tds-cancel");
    let set_name = vdi_client::reference::new_set_name();
    let set = ClientVirtualDeviceSet::new();
    set.create(
        &set_name,
        &VdConfig {
            device_count: 1,
            ..VdConfig::default()
        },
    )
    .unwrap();
    let script = server.dir.join("cancel.sql");
    std::fs::write(
        &script,
        format!(
            "BACKUP DATABASE Extra TO VIRTUAL_DEVICE = '{set_name}' WITH STATS = 1\nGO\nSELECT @@SERVERNAME AS after\nGO\n"
        ),
    )
    .unwrap();
    let tds = tds_name(&server);
    let statement = std::thread::spawn(move || {
        sqlcmd(&tds, &["-C", "-t", "2", "-i", script.to_str().unwrap()])
    });
    let mut config = VdConfig::default();
    set.get_configuration(20_000, &mut config).unwrap();
    let device = set.open_device(&set_name).unwrap();
    let first = device.get_command(20_000).unwrap();
    let out = statement.join().unwrap();
    let completed = device.complete_command(&first, 0, u64::from(first.size()), 0);
    let next = device.get_command(20_000);
    assert!(
        [completed.err(), next.err()]
            .into_iter()
            .flatten()
            .any(|e| e.code == VdCode::Abort),
        "the VDI client did not see VD_E_ABORT\n{}",
        server.log()
    );
    let _ = set.close();
    let text = stdout(&out);
    assert!(text.starts_with("Timeout expired\n"), "{text}");
    assert!(text.contains("after"), "the session goes on: {text}");
    assert_eq!(code(&out), 0, "{text}");
}
