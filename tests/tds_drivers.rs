//! Real SQL Server drivers against `vdisim server`'s TDS port: FreeTDS `tsql`, python-tds
//! (pytds), Microsoft's ODBC Driver 18 (through PyPI mssql-python) with Encrypt=yes, no and
//! strict, and tiberius. `scripts/install-test-deps.sh` installs the first three (CI runs it);
//! a missing driver fails its test with a message naming the script, unless
//! VDISIM_SKIP_DRIVERS=1.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde_json::Value as Json;
use vdi_client::reference::{self, Direction, ReferenceOptions};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> Option<PathBuf> {
    let py = repo().join("target/tds-venv/bin/python");
    if py.exists() {
        return Some(py);
    }
    assert!(
        std::env::var_os("VDISIM_SKIP_DRIVERS").is_some(),
        "python-tds and mssql-python are not installed: run scripts/install-test-deps.sh (or set VDISIM_SKIP_DRIVERS=1)"
    );
    None
}

/// A server with TLS from PEM files (so ODBC's strict mode can pin the certificate).
fn tls_server(tag: &str) -> (Server, PathBuf) {
    let dir = temp_dir(&format!("{tag}-pem"));
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let server = Server::start_with(
        tag,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--database",
            "sales:8",
        ],
    );
    (server, cert)
}

/// driver.py's JSON for one scenario.
fn driver(py: &Path, name: &str, server: &Server, encrypt: &str, args: &[&str]) -> Json {
    let port = server.tds_addr().port().to_string();
    let out = Command::new(py)
        .arg(repo().join("tests/tds/driver.py"))
        .args([name, &port, PW, encrypt])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "{name} {args:?}: no JSON\nstdout: {stdout}\nstderr: {}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            server.log()
        )
    })
}

fn check_basic(result: &Json, context: &str) {
    let version = result["version"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("Microsoft SQL Server 2022"),
        "{context}: {result}"
    );
    let databases: Vec<&str> = result["databases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Json::as_str)
        .collect();
    assert!(
        databases.contains(&"master") && databases.contains(&"sales"),
        "{context}: {result}"
    );
    // The RPC's typed parameters reach the engine as DECLAREd variables.
    assert_eq!(
        result["param"]["rows"],
        serde_json::json!([[42, "forty-one"]]),
        "{context}: {result}"
    );
    let error = result["error"]["text"].as_str().unwrap_or_default();
    assert!(
        error.contains("Incorrect syntax near"),
        "{context}: {result}"
    );
    let missing = result["error911"]["text"].as_str().unwrap_or_default();
    assert!(
        missing.contains("Database 'nosuchdb' does not exist"),
        "{context}: {result}"
    );
}

#[test]
fn pytds_connects_queries_and_reports_errors() {
    let Some(py) = python() else { return };
    let (server, _) = tls_server("pytds-basic");
    let result = driver(&py, "pytds", &server, "off", &["basic"]);
    check_basic(&result, "pytds");
    // pytds gives the numbers: 156 (syntax) and 3013 (the last of 911 + 3013).
    assert_eq!(result["error"]["number"], 156, "{result}");
    assert_eq!(result["error911"]["number"], 3013, "{result}");
}

#[test]
fn odbc_driver_18_with_encrypt_yes_no_and_strict() {
    let Some(py) = python() else { return };
    let (server, cert) = tls_server("odbc-basic");
    let strict = format!("strict:{}", cert.display());
    for encrypt in ["yes", "no", strict.as_str()] {
        let result = driver(&py, "odbc", &server, encrypt, &["basic"]);
        check_basic(&result, &format!("ODBC Encrypt={encrypt}"));
    }
    let log = server.log();
    for tls in [
        "library 'ODBC'",
        "TLS for the login only",
        "TLS (TDS 8.0 strict)",
        ", TLS: logged in",
    ] {
        assert!(log.contains(tls), "{tls} missing:\n{log}");
    }
}

#[test]
fn freetds_tsql_runs_batches_and_prints_errors_with_numbers() {
    if which("tsql").is_none() {
        assert!(
            std::env::var_os("VDISIM_SKIP_DRIVERS").is_some(),
            "FreeTDS tsql is not installed: run scripts/install-test-deps.sh"
        );
        return;
    }
    let (server, _) = tls_server("tsql");
    let out = tsql(
        &server,
        "SELECT @@VERSION\ngo\nSELECT name FROM sys.databases\ngo\nUSE nosuchdb\ngo\nUSE sales\ngo\nPRINT 'in ' + DB_NAME()\ngo\n",
    );
    assert!(out.contains("Microsoft SQL Server 2022"), "{out}");
    assert!(out.contains("sales"), "{out}");
    assert!(out.contains("Msg 911"), "{out}");
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.exists())
}

fn tsql(server: &Server, script: &str) -> String {
    tsql_at(&server.tds_addr().port().to_string(), script)
}

/// FreeTDS `tsql` against 127.0.0.1:`port`, fed `script`: what it printed (stdout, stderr).
fn tsql_at(port: &str, script: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("tsql")
        .args(["-H", "127.0.0.1", "-p", port, "-U", "sa", "-P", PW])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{script}exit\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// BACKUP served by the reference client (in this process, over shared memory) while a
/// driver runs the statement; then RESTORE the same way.
fn backup_and_restore_through(run: impl Fn(&str) -> (String, Vec<String>) + Send + Sync + 'static) {
    let run = Arc::new(run);
    let dir = temp_dir("tds-media");
    let options = ReferenceOptions::default();
    let steps = [
        (
            Direction::Backup,
            "BACKUP DATABASE sales TO VIRTUAL_DEVICE = '{set}' WITH STATS = 10",
            &[
                "percent processed",
                "BACKUP DATABASE successfully processed",
            ][..],
        ),
        (
            Direction::Restore,
            "RESTORE DATABASE sales FROM VIRTUAL_DEVICE = '{set}' WITH REPLACE",
            &["RESTORE DATABASE successfully processed"][..],
        ),
    ];
    for (direction, template, expected) in steps {
        let set = reference::new_set_name();
        let sql = template.replace("{set}", &set);
        let run = Arc::clone(&run);
        let (client, (error, messages)) = reference::run(
            &set,
            direction,
            &dir,
            &options,
            Arc::new(AtomicU64::new(0)),
            move || run(&sql),
        );
        assert!(
            error.is_empty(),
            "{direction:?} failed: {error}\n{messages:?}"
        );
        assert!(client.clean(), "{client:?}");
        let all = messages.join("\n");
        for text in expected {
            assert!(all.contains(text), "{direction:?}: no {text:?} in {all}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn python_runner(
    py: PathBuf,
    name: &'static str,
    server: &Server,
    encrypt: String,
) -> impl Fn(&str) -> (String, Vec<String>) + Send + Sync + 'static {
    let port = server.tds_addr().port().to_string();
    move |sql: &str| {
        let out = Command::new(&py)
            .arg(repo().join("tests/tds/driver.py"))
            .args([name, &port, PW, &encrypt, "run", sql])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let json: Json = serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|_| panic!("{stdout}{}", String::from_utf8_lossy(&out.stderr)));
        let error = if json["error"].is_null() {
            String::new()
        } else {
            json["error"].to_string()
        };
        let messages = json["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap_or_default().to_owned())
            .collect();
        (error, messages)
    }
}

/// FreeTDS `tsql` as a runner: the statement as one batch; an error is any `Msg` of
/// severity 11 or more, the messages are every line it printed (its message handler prints
/// INFO tokens such as `N percent processed.` as they come).
fn tsql_runner(server: &Server) -> impl Fn(&str) -> (String, Vec<String>) + Send + Sync + 'static {
    let port = server.tds_addr().port().to_string();
    move |sql: &str| {
        let text = tsql_at(&port, &format!("{sql}\ngo\n"));
        let error = text
            .lines()
            .filter(|l| {
                l.starts_with("Msg ")
                    && l.split("severity ")
                        .nth(1)
                        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                        .and_then(|n| n.parse::<u32>().ok())
                        .is_some_and(|n| n > 10)
            })
            .collect::<Vec<_>>()
            .join("\n");
        (error, text.lines().map(str::to_owned).collect())
    }
}

#[test]
fn freetds_tsql_backup_and_restore_with_the_reference_client() {
    if which("tsql").is_none() {
        assert!(std::env::var_os("VDISIM_SKIP_DRIVERS").is_some());
        return;
    }
    let (server, _) = tls_server("tsql-backup");
    backup_and_restore_through(tsql_runner(&server));
}

#[test]
fn freetds_tsql_runs_a_parameterised_query() {
    if which("tsql").is_none() {
        assert!(std::env::var_os("VDISIM_SKIP_DRIVERS").is_some());
        return;
    }
    let (server, _) = tls_server("tsql-params");
    // FreeTDS's tsql has no parameter binding of its own: the parameterised form every driver
    // sends underneath, sp_executesql with typed parameters.
    let out = tsql(
        &server,
        "EXEC sp_executesql N'SELECT @a + 1 AS answer, @b AS name', N'@a int, @b nvarchar(20)', @a = 41, @b = N'forty-one'\ngo\n",
    );
    assert!(out.contains("42"), "{out}");
    assert!(out.contains("forty-one"), "{out}");
}

#[test]
fn pytds_backup_and_restore_with_the_reference_client() {
    let Some(py) = python() else { return };
    let (server, _) = tls_server("pytds-backup");
    backup_and_restore_through(python_runner(py, "pytds", &server, "off".into()));
}

#[test]
fn odbc_backup_and_restore_with_the_reference_client() {
    let Some(py) = python() else { return };
    let (server, _) = tls_server("odbc-backup");
    backup_and_restore_through(python_runner(py, "odbc", &server, "yes".into()));
}

/// A driver's query timeout cuts a BACKUP while the client holds its first Write: the
/// server aborts the device set (the client sees VD_E_ABORT), the statement ends with
/// DONE_ATTN, and the same connection then runs another query.
fn cancel_mid_backup(py: &Path, name: &str, encrypt: &str) {
    use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig};
    let (server, _) = tls_server(&format!("{name}-cancel"));
    let set_name = reference::new_set_name();
    let set = ClientVirtualDeviceSet::new();
    set.create(
        &set_name,
        &VdConfig {
            device_count: 1,
            ..VdConfig::default()
        },
    )
    .unwrap();
    let sql = format!("BACKUP DATABASE sales TO VIRTUAL_DEVICE = '{set_name}' WITH STATS = 1");
    let (py, name2, encrypt2, port) = (
        py.to_owned(),
        name.to_owned(),
        encrypt.to_owned(),
        server.tds_addr().port().to_string(),
    );
    let statement = std::thread::spawn(move || {
        let out = Command::new(&py)
            .arg(repo().join("tests/tds/driver.py"))
            .args([&name2, &port, PW, &encrypt2, "run", &sql, "3"])
            .output()
            .unwrap();
        serde_json::from_str::<Json>(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap_or_default(),
        )
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
    });
    let mut config = VdConfig::default();
    set.get_configuration(20_000, &mut config).unwrap();
    let device = set.open_device(&set_name).unwrap();
    let first = device.get_command(20_000).unwrap();
    // Hold the first command: the statement cannot finish; the driver's timeout cancels it.
    let result = statement.join().unwrap();
    let completed = device.complete_command(&first, 0, u64::from(first.size()), 0);
    let next = device.get_command(20_000);
    let aborted = [completed.err(), next.err()]
        .into_iter()
        .flatten()
        .any(|e| e.code == VdCode::Abort);
    assert!(
        aborted,
        "the client did not see VD_E_ABORT\n{}",
        server.log()
    );
    assert!(!result["error"].is_null(), "{result}");
    assert_eq!(
        result["after"], "VDISIM",
        "the session is usable after the cancel: {result}"
    );
    let _ = set.close();
    assert!(
        server.log().contains("job BACKUP DATABASE sales"),
        "{}",
        server.log()
    );
}

#[test]
fn pytds_timeout_cancels_a_running_backup() {
    let Some(py) = python() else { return };
    cancel_mid_backup(&py, "pytds", "off");
}

#[test]
fn odbc_timeout_cancels_a_running_backup() {
    let Some(py) = python() else { return };
    cancel_mid_backup(&py, "odbc", "yes");
}

/// FreeTDS `tsql` with a query timeout (freetds.conf `timeout`) mid-BACKUP: tsql gives up on
/// the connection (its error 20003, then it closes the socket; tsql sends no ATTENTION), the
/// server takes the vanished client as a cancel and aborts the device set at once (the VDI
/// client, holding its first Write, sees VD_E_ABORT), and serves the next connection.
#[test]
fn freetds_tsql_timeout_aborts_a_running_backup() {
    use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig};
    if which("tsql").is_none() {
        assert!(
            std::env::var_os("VDISIM_SKIP_DRIVERS").is_some(),
            "FreeTDS tsql is not installed: run scripts/install-test-deps.sh"
        );
        return;
    }
    let (server, _) = tls_server("tsql-cancel");
    let conf = server.dir.join("freetds.conf");
    std::fs::write(
        &conf,
        format!(
            "[vdisim]\n\thost = 127.0.0.1\n\tport = {}\n\ttds version = 7.4\n\ttimeout = 2\n",
            server.tds_addr().port()
        ),
    )
    .unwrap();
    let set_name = reference::new_set_name();
    let set = ClientVirtualDeviceSet::new();
    set.create(
        &set_name,
        &VdConfig {
            device_count: 1,
            ..VdConfig::default()
        },
    )
    .unwrap();
    let script = format!(
        "BACKUP DATABASE sales TO VIRTUAL_DEVICE = '{set_name}' WITH STATS = 1\ngo\nexit\n"
    );
    let conf2 = conf.clone();
    let statement = std::thread::spawn(move || {
        use std::io::Write;
        let mut child = Command::new("tsql")
            .args(["-S", "vdisim", "-U", "sa", "-P", PW])
            .env("FREETDSCONF", &conf2)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut config = VdConfig::default();
    set.get_configuration(20_000, &mut config).unwrap();
    let device = set.open_device(&set_name).unwrap();
    // Hold the first Write: the statement cannot finish before tsql's timeout.
    let first = device.get_command(20_000).unwrap();
    let out = statement.join().unwrap();
    assert!(out.contains("Error 20003"), "tsql did not time out: {out}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !server.log().contains("job BACKUP DATABASE sales: failed") {
        assert!(std::time::Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
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
    assert!(
        server.log().contains("the client vanished"),
        "{}",
        server.log()
    );
    let after = tsql(&server, "SELECT @@SERVERNAME\ngo\n");
    assert!(after.contains("VDISIM"), "{after}");
}

/// The README's ODBC connection string, pointed at a server's port, connects with Microsoft's
/// ODBC Driver 18 (mssql-python takes it without `Driver=`).
#[test]
fn the_readme_odbc_connection_string_connects() {
    let Some(py) = python() else { return };
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("Driver={ODBC Driver 18 for SQL Server};Server=127.0.0.1,1433;"))
        .expect("the README shows an ODBC connection string");
    let server = Server::start("readme-odbc");
    let string = line
        .trim_start_matches("Driver={ODBC Driver 18 for SQL Server};")
        .replace("1433", &server.tds_addr().port().to_string())
        .replace("<--sa-password>", PW);
    let out = Command::new(py)
        .args([
            "-c",
            "import sys, mssql_python\n\
             c = mssql_python.connect(sys.argv[1], autocommit=True).cursor()\n\
             c.execute('SELECT @@VERSION')\n\
             print(c.fetchall()[0][0])",
            &string,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Microsoft SQL Server 2022"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(server.log().contains("library 'ODBC'"), "{}", server.log());
}
