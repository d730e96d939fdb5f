//! `vdisim conform` and `vdisim replay` as a vendor runs them: exit codes, the last stdout
//! line, reports on disk, the reference client as real processes through a template, replay.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_vdisim");

fn conform(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("conform")
        .args(args)
        .output()
        .unwrap()
}

fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn exit_codes_and_the_summary_line() {
    let ok = conform(&["--client", "builtin", "--cases", "stripe/backup/devices-2"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(last_line(&ok), "1 passed, 0 failed, 0 skipped");
    assert!(stderr(&ok).contains("PASS MUST   stripe/backup/devices-2"));

    let failed = conform(&[
        "--client",
        "builtin:flush-is-end",
        "--cases",
        "flush/mid-1/complete-granted/devices-1",
    ]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(last_line(&failed), "0 passed, 1 failed, 0 skipped");
    let err = stderr(&failed);
    assert!(
        err.contains("Expected: ") && err.contains("Actual: "),
        "{err}"
    );

    let warned = [
        "--client",
        "builtin:no-complete",
        "--cases",
        "complete/requested/devices-1",
    ];
    let out = conform(&warned);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(last_line(&out), "0 passed, 0 failed, 0 skipped, 1 warnings");
    let strict: Vec<&str> = warned.iter().copied().chain(["--strict"]).collect();
    assert_eq!(conform(&strict).status.code(), Some(1));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--client", "builtin:nonsense"][..],
        &["--client", "builtin", "--cases", "no/such/case"],
        &["--client", "my-client --no-placeholders"],
        &["--cases", "stripe/*"],
    ] {
        let out = conform(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let out = Command::new(BIN)
        .args([
            "replay",
            "/nonexistent/transcript.jsonl",
            "--client",
            "builtin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_prints_the_catalogue() {
    let out = conform(&["--list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("abort/server/opened/backup"));
    let n: usize = last_line(&out)
        .strip_suffix(" cases")
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 150);
}

/// The reference client as real processes through the command template, with reports on disk.
#[test]
fn builtin_process_template_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("report.xml");
    let out = conform(&[
        "--client",
        "builtin-process",
        "--cases",
        "stripe/restore/devices-3",
        "--cases",
        "abort/server/mid-stream/backup",
        "--cases",
        "media/tape/backup/devices-2",
        "--cases",
        "chain/full-log/devices-1",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--jobs",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(last_line(&out), "4 passed, 0 failed, 0 skipped");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["summary"]["passed"], 4);
    assert_eq!(report["cases"].as_array().unwrap().len(), 4);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"chain\""), "{xml}");
}

/// A vendor-style shell client that finds `sqlcmd` on PATH and the server in $VDISIM_SERVER:
/// it cannot serve devices, so every case fails, but it ran and was judged.
#[test]
fn template_clients_get_sqlcmd_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("client.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         test -n \"$VDISIM_SERVER\" || exit 3\n\
         test -n \"$VDISIM_TRANSCRIPT\" || exit 4\n\
         command -v sqlcmd >/dev/null || exit 5\n\
         sqlcmd -S \"$2\" -Q \"SELECT 1\" >/dev/null || exit 6\n\
         exit 42\n",
    )
    .unwrap();
    let template = format!("sh {} {{op}} {{server}} {{dir}}", script.display());
    let out = conform(&["--client", &template, "--cases", "stripe/backup/devices-1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no BACKUP or RESTORE reached the server (exit code 42)"),
        "{err}"
    );
}

#[test]
fn replay_re_drives_a_recorded_case() {
    let dir = tempfile::tempdir().unwrap();
    let out = conform(&[
        "--client",
        "builtin",
        "--cases",
        "restore/read-random/devices-1",
        "--transcripts",
        dir.path().to_str().unwrap(),
        "--seed",
        "9",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let transcript = dir.path().join("restore__read-random__devices-1.jsonl");
    assert!(Path::new(&transcript).exists());
    let out = Command::new(BIN)
        .args([
            "replay",
            transcript.to_str().unwrap(),
            "--client",
            "builtin",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the server sent the recorded command stream"),
        "{}",
        stderr(&out)
    );
    assert_eq!(last_line(&out), "1 passed, 0 failed, 0 skipped");
}

/// The crash cases with the real binary: the server is `vdisim __conform-server`, a child
/// process that kills itself; the reference client passes both in process and as processes.
/// `--time-scale` is accepted, and a factor that is not positive is a usage error.
#[test]
fn crash_cases_run_a_real_server_process() {
    for client in ["builtin", "builtin-process"] {
        let out = conform(&[
            "--client",
            client,
            "--cases",
            "crash/backup/mid-stream/devices-1",
            "--cases",
            "crash/restore/mid-stream/devices-4",
            "--cases",
            "prefix/zone-1000/alignment-4096/devices-3/restore",
            "--time-scale",
            "2",
        ]);
        assert_eq!(out.status.code(), Some(0), "{client}: {}", stderr(&out));
        assert_eq!(last_line(&out), "3 passed, 0 failed, 0 skipped");
    }
    let out = conform(&["--client", "builtin", "--time-scale", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Without its environment the hidden subcommand refuses to run.
    let out = Command::new(BIN).arg("__conform-server").output().unwrap();
    assert_ne!(out.status.code(), Some(0));
}

/// The reference client as processes, with `common` options for both commands (where
/// `--client builtin-process` has `--mode {mode}` and the placeholders for prefix zones).
fn reference_template(common: &str) -> String {
    format!(
        "case {{op}} in \
         backup) exec {BIN} backup {common} --to {{dir}};; \
         restore) exec {BIN} restore {common} --from {{dir}} --replace;; \
         verifyonly) exec {BIN} restore {common} --from {{dir}} --verify-only;; \
         *) exit 77;; esac"
    )
}

/// A client that opens its set in pipe mode whatever it is told (the reference client as
/// processes, with `--mode pipe` hard-wired) fails the tape and disk cases.
#[test]
fn a_pipe_only_client_fails_the_tape_and_disk_cases() {
    let template = reference_template("-S {server} --db {db} --devices {devices} --mode pipe");
    let cases = [
        "media/tape/backup/devices-1",
        "media/disk/restore/devices-2",
        "media/tape/abort-mid-stream",
        "create/mode-disk",
    ];
    let mut args = vec!["--client", &template, "--jobs", "2"];
    for c in &cases {
        args.extend(["--cases", c]);
    }
    let out = conform(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    for c in cases {
        assert!(text.contains(&format!("FAIL MUST   {c}")), "{c}: {text}");
    }
    assert!(
        text.contains("Actual:   run 2 (restore): Create asked for pipe mode (features 0x"),
        "{text}"
    );
    assert!(!text.contains("Some("), "{text}");
}

/// A client whose statements ask for MAXTRANSFERSIZE = 4 MiB sends its whole stream in few
/// transfers; every fault point that counts transfers or completions must still come before
/// the end of it. Nothing here is the client's fault, and nothing goes unexercised.
#[test]
fn a_4_mib_transfer_client_meets_every_counted_fault_point() {
    let template = reference_template(
        "-S {server} --db {db} --devices {devices} --mode {mode} --with MAXTRANSFERSIZE=4194304",
    );
    let out = conform(&[
        "--client",
        &template,
        "--cases",
        "crash/*",
        "--cases",
        "abort/*/mid-stream/*",
        "--cases",
        "ioerror/discard-then-clearerror/*",
        "--cases",
        "info/exit-after-abort",
        "--jobs",
        "2",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("FAIL") && !text.contains("ERROR"), "{text}");
    assert!(!text.contains("not exercised"), "{text}");
    assert!(
        last_line(&out).starts_with("18 passed, 0 failed, 0 skipped, 1 infos"),
        "{text}"
    );
}
