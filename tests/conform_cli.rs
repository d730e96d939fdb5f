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

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn exit_codes_and_the_summary_line() {
    let ok = conform(&["--client", "builtin", "--cases", "stripe/backup/devices-2"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(last_line(&ok), "1 passed, 0 failed, 0 skipped");
    assert!(stdout(&ok).contains("PASS MUST   stripe/backup/devices-2"));

    let failed = conform(&[
        "--client",
        "builtin:flush-is-end",
        "--cases",
        "flush/mid-1/complete-granted/devices-1",
    ]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(last_line(&failed), "0 passed, 1 failed, 0 skipped");
    let err = stdout(&failed);
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
    let err = stdout(&out);
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

/// The `snapshot/` cases with the real binary: both forms of the reference client pass every
/// one (the in-process client is killed as a `vdisim backup` process in
/// `snapshot/client-killed-frozen`), and a client that completes VDC_Snapshot before it
/// captured anything fails every case with a round trip.
#[test]
fn snapshot_cases_pass_with_the_reference_client() {
    for client in ["builtin", "builtin-process"] {
        let out = conform(&["--client", client, "--cases", "snapshot/", "--jobs", "2"]);
        assert_eq!(out.status.code(), Some(0), "{client}: {}", stderr(&out));
        assert_eq!(last_line(&out), "4 passed, 0 failed, 0 skipped");
    }
    let out = conform(&[
        "--client",
        "builtin:snapshot-early",
        "--cases",
        "snapshot/round-trip",
        "--cases",
        "snapshot/capture-before-complete",
        // Its killed run is a `vdisim backup` process; its final round trip is the variant's.
        "--cases",
        "snapshot/client-killed-frozen",
        "--jobs",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(last_line(&out), "0 passed, 3 failed, 0 skipped");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Msg 3203"), "{text}");
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

/// The IDs of the case lines of a report, in the order printed.
fn case_ids(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let verdict = words.next()?;
            ["PASS", "FAIL", "WARN", "SKIP", "INFO", "ERROR"]
                .contains(&verdict)
                .then(|| words.nth(1).map(str::to_string))
                .flatten()
        })
        .collect()
}

/// A slow case early in the catalogue finishes last with 8 jobs; the report still prints
/// the catalogue's order, and ends with its closing line on stdout.
#[test]
fn reports_come_in_catalogue_order_whatever_the_jobs() {
    let run = |jobs: &str| {
        conform(&[
            "--client",
            "builtin",
            "--cases",
            "config/delay-1200ms/backup",
            "--cases",
            "buffer/blocksize-512/*",
            "--jobs",
            jobs,
        ])
    };
    let (one, eight) = (run("1"), run("8"));
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    let expected = [
        "config/delay-1200ms/backup",
        "buffer/blocksize-512/maxtransfer-64k",
        "buffer/blocksize-512/maxtransfer-256k",
        "buffer/blocksize-512/maxtransfer-1024k",
        "buffer/blocksize-512/maxtransfer-4096k",
    ];
    assert_eq!(case_ids(&one), expected);
    assert_eq!(case_ids(&eight), expected);
    assert_eq!(last_line(&eight), "5 passed, 0 failed, 0 skipped");
}

/// --quiet prints the cases that did not pass and the closing line; the full report ends
/// with the list of what did not pass; colour only when asked for (or on a terminal).
#[test]
fn quiet_colour_and_the_closing_list() {
    let args = [
        "--client",
        "builtin:no-complete",
        "--cases",
        "complete/requested/devices-1",
        "--cases",
        "stripe/backup/devices-1",
        "--cases",
        "info/final-command",
    ];
    let full = conform(&args);
    let text = stdout(&full);
    let list = text.find("Not passed (1 warned):").expect(&text);
    assert!(
        text[list..].contains(
            "  WARN complete/requested/devices-1\n       Expected: Create asks for VDF_RequestComplete"
        ),
        "{text}"
    );
    assert!(!text.contains("\x1b["), "{text}");
    assert_eq!(
        last_line(&full),
        "1 passed, 0 failed, 0 skipped, 1 warnings, 1 infos"
    );

    let quiet: Vec<&str> = args.iter().copied().chain(["--quiet"]).collect();
    let out = conform(&quiet);
    let text = stdout(&out);
    assert_eq!(
        case_ids(&out),
        ["complete/requested/devices-1", "info/final-command"]
    );
    assert!(
        !text.contains("PASS") && !text.contains("Not passed"),
        "{text}"
    );
    assert_eq!(
        text.lines().last(),
        Some("1 passed, 0 failed, 0 skipped, 1 warnings, 1 infos")
    );

    let coloured: Vec<&str> = args.iter().copied().chain(["--color", "always"]).collect();
    let text = stdout(&conform(&coloured));
    assert!(text.contains("\x1b[33mWARN\x1b[0m"), "{text}");
    assert!(text.contains("\x1b[32mPASS\x1b[0m"), "{text}");
}

/// Patterns without `*` or `?` are substrings; one that matches nothing is a usage error,
/// with --list too.
#[test]
fn plain_substring_selection() {
    let out = conform(&["--list", "--cases", "devices-64"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("stripe/backup/devices-64"));
    assert!(!text.contains("devices-1 "));
    let out = conform(&["--list", "--cases", "devices-64", "--cases", "devices-65"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--cases devices-65 matches no case"));
}

/// The three shards of `--partition k/3` list every case once; shards run and merged give
/// the report of the whole selection.
#[test]
fn partitions_and_merge_rebuild_the_full_report() {
    let all: Vec<String> = stdout(&conform(&["--list"]))
        .lines()
        .filter_map(|l| l.split_whitespace().next().filter(|w| w.contains('/')))
        .map(str::to_string)
        .collect();
    let mut seen: Vec<String> = Vec::new();
    for k in 1..=3 {
        let p = format!("{k}/3");
        let out = conform(&["--list", "--partition", &p]);
        assert_eq!(out.status.code(), Some(0));
        seen.extend(
            stdout(&out)
                .lines()
                .filter_map(|l| l.split_whitespace().next().filter(|w| w.contains('/')))
                .map(str::to_string),
        );
    }
    seen.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(seen, expected, "every case exactly once");

    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let selection = [
        "--client",
        "builtin:flush-is-end",
        "--cases",
        "stripe/backup/devices-1",
        "--cases",
        "flush/mid-1/*",
        "--cases",
        "info/create-request",
        "--cases",
        "open/devices-2",
    ];
    let whole = path("whole.json");
    let args: Vec<&str> = selection
        .iter()
        .copied()
        .chain(["--json", &whole])
        .collect();
    assert_eq!(conform(&args).status.code(), Some(1));
    let mut shards = Vec::new();
    for k in 1..=3 {
        let (p, json) = (format!("{k}/3"), path(&format!("shard-{k}.json")));
        let args: Vec<&str> = selection
            .iter()
            .copied()
            .chain(["--partition", &p, "--json", &json])
            .collect();
        let out = conform(&args);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        shards.push(json);
    }
    let (merged, junit) = (path("merged.json"), path("merged.xml"));
    let mut args = vec!["merge", "--json", &merged, "--junit", &junit];
    args.extend(shards.iter().map(String::as_str));
    let out = conform(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(last_line(&out), "2 passed, 4 failed, 0 skipped, 1 infos");

    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (whole, merged) = (read(&whole), read(&merged));
    assert_eq!(whole["summary"], merged["summary"]);
    let key = |v: &serde_json::Value| -> Vec<(String, String, String)> {
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    c["verdict"].as_str().unwrap().to_string(),
                    c["expected"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(key(&whole), key(&merged));
    assert!(merged.get("partition").is_none());
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 7, "{xml}");
    assert!(
        xml.contains("<property name=\"seed\" value=\"1\"/>"),
        "{xml}"
    );

    // A shard given twice is refused.
    let out = conform(&["merge", &shards[0], &shards[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is in more than one report"));
}

/// --explain says what a case's server does, what each run must end in and what the
/// template's command line for each run is; it runs nothing.
#[test]
fn explain_prints_what_a_case_does() {
    let out = conform(&[
        "--explain",
        "crash/restore/mid-stream/devices-4",
        "--client",
        "acme --job {op} --stripes {devices} --to {dir}",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "crash/restore/mid-stream/devices-4  MUST",
        "Server: database conform (32 MiB, full recovery)",
        "Run 1 of 2: backup over 4 device(s), pipe mode",
        "Run 2 of 2: restore over 4 device(s), pipe mode",
        "the server kills its own process with SIGKILL (no abort, nothing cleaned up) after 6 completion(s)",
        "runs: acme --job 'restore' --stripes 4 --to 'SCRATCH/media-0'",
    ] {
        assert!(text.contains(want), "{want}:\n{text}");
    }
    let out = conform(&["--explain", "no/such/case"]);
    assert_eq!(out.status.code(), Some(2));
}
