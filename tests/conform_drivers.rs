//! `vdisim conform` and driver-based clients: every case's server also listens for TDS
//! (`{tds}`, `$VDISIM_TDS`), and part of the catalogue runs with a client whose T-SQL goes
//! through a real driver (python-tds from `target/tds-venv`, installed by
//! `scripts/install-test-deps.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_vdisim");

fn conform(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("conform")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn last_line(out: &Output) -> String {
    stdout(out).lines().last().unwrap_or_default().to_owned()
}

#[test]
fn every_case_server_listens_for_tds_too() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("client.sh");
    // The placeholder and the environment name the same endpoint, and vdisim's own sqlcmd
    // reaches the case's server through it (TDS, TLS with -C).
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         test -n \"$VDISIM_TDS\" || exit 3\n\
         test \"$VDISIM_TDS\" = \"$2\" || exit 4\n\
         case \"$2\" in 127.0.0.1,[0-9]*) ;; *) exit 5;; esac\n\
         sqlcmd -S \"$2\" -C -h -1 -Q \"SELECT DB_NAME(DB_ID('conform'))\" | grep -q conform || exit 6\n\
         echo reached >> \"$3\"\n\
         exit 42\n",
    )
    .unwrap();
    let reached = dir.path().join("reached.log");
    let template = format!(
        "sh {} {{op}} {{tds}} {}",
        script.display(),
        reached.display()
    );
    // An in-process case server, and a crash case's child-process server.
    for case in ["stripe/backup/devices-1", "crash/backup/opened/devices-1"] {
        let out = conform(&["--client", &template, "--cases", case]);
        assert_ne!(out.status.code(), Some(2), "{case}: {}", stdout(&out));
    }
    let reached = std::fs::read_to_string(&reached).unwrap_or_default();
    assert_eq!(reached.lines().count(), 2, "{reached}");
    let explained = conform(&[
        "--client",
        &template,
        "--explain",
        "stripe/backup/devices-1",
    ]);
    assert!(
        stdout(&explained).contains("'127.0.0.1,PORT'"),
        "{}",
        stdout(&explained)
    );
}

fn venv_python() -> Option<PathBuf> {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tds-venv/bin/python");
    if py.exists() {
        return Some(py);
    }
    println!(
        "SKIPPED: {} is missing: run scripts/install-test-deps.sh to install python-tds",
        py.display()
    );
    None
}

/// A `sqlcmd` that sends `-Q` through a driver (`tests/tds/sqlcmd.py`), logging each call.
fn driver_sqlcmd(dir: &Path, py: &Path, driver: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tds/sqlcmd.py");
    let calls = dir.join("calls.log");
    let wrapper = dir.join("sqlcmd");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nVDISIM_SQLCMD_DRIVER={driver} exec '{}' '{}' \"$@\"\n",
            calls.display(),
            py.display(),
            script.display()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&wrapper, permissions).unwrap();
    wrapper
}

/// Part of the catalogue with the reference client serving the devices and its T-SQL sent
/// through python-tds to the case's TDS port: backups, restores, striping, a server abort, a
/// statement cancelled as a driver timeout cancels it, a RESTORE of damaged media the server refuses, a
/// server process that dies.
#[test]
fn part_of_the_catalogue_through_python_tds() {
    let Some(py) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlcmd = driver_sqlcmd(dir.path(), &py, "pytds");
    let common = format!(
        "--sqlcmd '{}' -S {{tds}} --db {{db}} --devices {{devices}} --mode {{mode}} -q",
        sqlcmd.display()
    );
    let template = format!(
        "case {{op}} in \
         backup) exec {BIN} backup {common} --to {{dir}};; \
         restore) exec {BIN} restore {common} --from {{dir}} --replace;; \
         verifyonly) exec {BIN} restore {common} --from {{dir}} --verify-only;; \
         *) exit 77;; esac"
    );
    let cases = [
        "stripe/backup/devices-1",
        "stripe/restore/devices-4",
        "abort/server/mid-stream/backup",
        "abort/cancel/driver-timeout/backup",
        "restore/damaged-media/devices-1",
        "crash/backup/mid-stream/devices-1",
    ];
    let mut args = vec!["--client", template.as_str(), "--jobs", "2"];
    for case in &cases {
        args.extend(["--cases", case]);
    }
    let out = conform(&args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(last_line(&out), "6 passed, 0 failed, 0 skipped", "{text}");
    // Every statement went through the driver to a TDS port.
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert!(calls.lines().count() >= 8, "{calls}");
    assert!(
        calls
            .lines()
            .all(|l| l.starts_with("-S 127.0.0.1,") && l.contains(" -b -Q ")),
        "{calls}"
    );
}
