//! Snapshot backups through VDI (issue 20) against a real `vdisim server` with the reference
//! client as a process (`vdisim backup|restore --snapshot DIR`): the round trip compared byte
//! for byte, logs rolled forward on a NORECOVERY snapshot restore, writers blocked by the
//! freeze (and shown waiting), a client that refuses VDC_Snapshot, one killed while the
//! database is frozen, `--max-freeze`, a tampered capture, and SQL Server 2022's T-SQL
//! snapshot (SUSPEND_FOR_SNAPSHOT_BACKUP, then METADATA_ONLY).

mod bk;
mod common;

use bk::{digest, msg_numbers, rows, sql};
use common::{BIN, PW, Server};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const DB: &str = "AdventureWorks";

/// `vdisim backup|restore ARGS -S unix:<socket> -U sa -P <pw> --quiet`
fn client(server: &Server, verb: &str, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg(verb)
        .args(args)
        .arg("-S")
        .arg(format!("unix:{}", server.socket.display()))
        .args(["-U", "sa", "-P", PW, "--quiet"]);
    c
}

fn run(mut c: Command) -> (i32, String) {
    let out: Output = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn snapshot_backup(server: &Server, dir: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["--db", DB, "--snapshot", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(client(server, "backup", &args))
}

fn snapshot_restore(server: &Server, dir: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["--db", DB, "--snapshot", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(client(server, "restore", &args))
}

/// Waits (at most `bound`) until `ready` holds; panics with `what` otherwise.
fn wait_for(bound: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + bound;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A snapshot backup held at VDC_Snapshot for `hold` seconds, running in the background.
fn held_backup(server: &Server, dir: &Path, hold: &str) -> Child {
    held_at(server, dir, "--snapshot-hold", hold)
}

/// A snapshot backup held at one of its steps (`--snapshot-hold`, `--prepare-hold`).
fn held_at(server: &Server, dir: &Path, step: &str, hold: &str) -> Child {
    client(
        server,
        "backup",
        &["--db", DB, "--snapshot", dir.to_str().unwrap(), step, hold],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

fn frozen_lines(server: &Server) -> usize {
    server
        .log()
        .matches("I/O is frozen on database AdventureWorks")
        .count()
}

fn resumed_lines(server: &Server) -> usize {
    server
        .log()
        .matches("I/O was resumed on database AdventureWorks")
        .count()
}

fn volume_image(server: &Server) -> PathBuf {
    server
        .dir
        .join("volumes")
        .join(DB.to_lowercase())
        .join("database.img")
}

#[test]
fn snapshot_round_trip_then_log_roll_forward() {
    let server = Server::start("snap-trip");
    let dir = server.dir.join("snap");
    let before = digest(&server, DB);
    let (code, text) = snapshot_backup(&server, &dir, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(msg_numbers(&text).is_empty(), "{text}");
    assert!(text.contains("was frozen for"), "{text}");
    assert!(
        text.contains("BACKUP DATABASE successfully processed 0 pages"),
        "{text}"
    );
    assert!(dir.join("snapshot.img").is_file() && dir.join("stripe-00.vbak").is_file());
    // The image exists only while the database is frozen.
    assert!(!volume_image(&server).exists());
    assert_eq!((frozen_lines(&server), resumed_lines(&server)), (1, 1));
    let history = rows(
        &server,
        &format!("SELECT is_snapshot, type FROM msdb.dbo.backupset WHERE database_name = '{DB}'"),
    );
    assert_eq!(history, vec![vec!["1".to_string(), "D".to_string()]]);

    // Work after the snapshot, captured by a log backup.
    sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 40)"));
    let log = server.dir.join("log");
    let (code, text) = run(client(
        &server,
        "backup",
        &["--db", DB, "--log", "--to", log.to_str().unwrap()],
    ));
    assert_eq!(code, 0, "{text}");
    let after_log = digest(&server, DB);
    assert_ne!(after_log, before);

    // The snapshot alone gives back the database as it was frozen, byte for byte.
    let (code, text) = snapshot_restore(&server, &dir, &["--replace"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("RESTORE DATABASE successfully processed"),
        "{text}"
    );
    assert_eq!(digest(&server, DB), before);

    // NORECOVERY, then the log on top: the database as it was after the work.
    let (code, text) = snapshot_restore(&server, &dir, &["--replace", "--norecovery"]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = run(client(
        &server,
        "restore",
        &["--db", DB, "--log", "--from", log.to_str().unwrap()],
    ));
    assert_eq!(code, 0, "{text}");
    assert_eq!(digest(&server, DB), after_log);
}

#[test]
fn a_tampered_or_missing_capture_is_refused() {
    let server = Server::start("snap-tamper");
    let dir = server.dir.join("snap");
    let (code, text) = snapshot_backup(&server, &dir, &[]);
    assert_eq!(code, 0, "{text}");
    let captured = dir.join("snapshot.img");
    let mut bytes = std::fs::read(&captured).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&captured, &bytes).unwrap();
    let (code, text) = snapshot_restore(&server, &dir, &["--replace"]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(msg_numbers(&text), vec![3189, 59024, 3013], "{text}");
    assert!(text.contains("SHA-256"), "{text}");
    // A capture that was never taken: the client cannot present anything at the mount.
    std::fs::remove_file(&captured).unwrap();
    let _ = std::fs::remove_file(volume_image(&server));
    let (code, text) = snapshot_restore(&server, &dir, &["--replace"]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(msg_numbers(&text), vec![3203, 3013], "{text}");
}

#[test]
fn writers_wait_for_the_thaw_and_show_the_wait() {
    let server = Server::start("snap-block");
    let dir = server.dir.join("snap");
    let mut backup = held_backup(&server, &dir, "3");
    wait_for(Duration::from_secs(30), "the freeze", || {
        frozen_lines(&server) == 1
    });
    let socket = server.socket.clone();
    let writer = std::thread::spawn(move || {
        let out = Command::new(BIN)
            .args(["sqlcmd", "-S"])
            .arg(format!("unix:{}", socket.display()))
            .args(["-U", "sa", "-P", PW, "-Q"])
            .arg(format!("DBCC VDISIM_WORKLOAD('{DB}', 5)"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    });
    let mut seen = Vec::new();
    wait_for(Duration::from_secs(30), "the writer's wait", || {
        seen = rows(
            &server,
            "SELECT command, status, wait_type, blocking_session_id FROM sys.dm_exec_requests WHERE command = 'DBCC'",
        );
        !seen.is_empty()
    });
    assert_eq!(seen[0][..3], ["DBCC", "suspended", "LCK_M_X"], "{seen:?}");
    // The writer is still waiting while the database is frozen.
    assert_eq!(resumed_lines(&server), 0);
    assert!(!writer.is_finished());
    let status = backup.wait().unwrap();
    assert!(status.success());
    let written = writer.join().unwrap();
    assert!(written.contains("(5 rows affected)"), "{written}");
    assert_eq!(resumed_lines(&server), 1);
}

#[test]
fn a_client_that_refuses_the_snapshot_fails_the_backup_and_thaws() {
    let server = Server::start("snap-refuse");
    // A client not written for snapshots answers VDC_Snapshot with ERROR_NOT_SUPPORTED.
    let media = server.dir.join("plain");
    let transcript = server.dir.join("refused.jsonl");
    let mut c = client(
        &server,
        "backup",
        &[
            "--db",
            DB,
            "--to",
            media.to_str().unwrap(),
            "--with",
            "SNAPSHOT",
        ],
    );
    c.env("VDISIM_TRANSCRIPT", &transcript);
    let (code, text) = run(c);
    assert_eq!(code, 1, "{text}");
    // It never asked for VDF_SnapshotPrepare, so it gets no VDC_PrepareToFreeze.
    let commands = render_transcript(&transcript);
    assert!(!commands.contains("PrepareToFreeze"), "{commands}");
    assert!(
        commands.contains("completion dev0 Snapshot -> 50"),
        "{commands}"
    );
    assert_eq!(msg_numbers(&text), vec![3202, 3013], "{text}");
    assert!(text.contains("50("), "{text}");
    assert_eq!((frozen_lines(&server), resumed_lines(&server)), (1, 1));
    let out = sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 3)"));
    assert!(out.contains("(3 rows affected)"), "{out}");
    // SQL Server's rules for SNAPSHOT: one device, no DIFFERENTIAL.
    let out = sql(
        &server,
        &format!(
            "BACKUP DATABASE {DB} TO VIRTUAL_DEVICE = 'a', VIRTUAL_DEVICE = 'b' WITH SNAPSHOT"
        ),
    );
    assert_eq!(msg_numbers(&out), vec![3032, 3013], "{out}");
    let out = sql(
        &server,
        &format!("BACKUP DATABASE {DB} TO VIRTUAL_DEVICE = 'a' WITH SNAPSHOT, DIFFERENTIAL"),
    );
    assert_eq!(msg_numbers(&out), vec![3032], "{out}");
}

#[test]
fn a_client_killed_while_frozen_thaws_the_database() {
    let server = Server::start("snap-kill");
    let dir = server.dir.join("snap");
    let mut backup = held_backup(&server, &dir, "60");
    wait_for(Duration::from_secs(30), "the freeze", || {
        frozen_lines(&server) == 1
    });
    backup.kill().unwrap();
    let _ = backup.wait();
    let killed = Instant::now();
    // Writes resume within a generous bound, and the job reports the failure.
    let out = sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 3)"));
    assert!(out.contains("(3 rows affected)"), "{out}");
    assert!(
        killed.elapsed() < Duration::from_secs(20),
        "writes resumed only after {:?}",
        killed.elapsed()
    );
    wait_for(Duration::from_secs(20), "the job's end", || {
        server
            .log()
            .contains("job BACKUP DATABASE AdventureWorks: failed")
    });
    assert_eq!(resumed_lines(&server), 1);
    assert!(!volume_image(&server).exists());
}

#[test]
fn max_freeze_aborts_a_snapshot_held_too_long() {
    let server = Server::start_with("snap-max", &["--max-freeze", "1"]);
    let dir = server.dir.join("snap");
    let (code, text) = snapshot_backup(&server, &dir, &["--snapshot-hold", "4"]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(msg_numbers(&text), vec![59025, 3013], "{text}");
    assert!(text.contains("limit of 1000 ms (--max-freeze)"), "{text}");
    // The measured window is at least the limit and bounded well below the client's hold.
    let held: u64 = text
        .split("frozen for ")
        .nth(1)
        .and_then(|t| t.split(" ms").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!((1000..4000).contains(&held), "{text}");
    assert!(!dir.join("snapshot.img").exists());
    let out = sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 3)"));
    assert!(out.contains("(3 rows affected)"), "{out}");
}

#[test]
fn tsql_snapshot_suspend_then_metadata_only() {
    let server = Server::start("snap-tsql");
    let before = digest(&server, DB);
    let out = sql(
        &server,
        &format!("ALTER DATABASE {DB} SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON"),
    );
    assert!(out.contains("acquired suspend locks"), "{out}");
    assert!(
        out.contains("successfully suspended for snapshot backup"),
        "{out}"
    );
    let out = sql(
        &server,
        &format!("ALTER DATABASE {DB} SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON"),
    );
    assert_eq!(msg_numbers(&out), vec![3081, 5069], "{out}");
    // The storage snapshot: the test plays the array and copies the presented image.
    let dir = server.dir.join("snap");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(volume_image(&server), dir.join("snapshot.img")).unwrap();
    let metadata = server.dir.join("meta");
    let (code, text) = run(client(
        &server,
        "backup",
        &[
            "--db",
            DB,
            "--to",
            metadata.to_str().unwrap(),
            "--with",
            "METADATA_ONLY",
        ],
    ));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("released suspend locks"), "{text}");
    assert!(text.contains("successfully resumed in session"), "{text}");
    assert!(!volume_image(&server).exists());
    let out = sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 3)"));
    assert!(out.contains("(3 rows affected)"), "{out}");
    let out = sql(
        &server,
        &format!("ALTER DATABASE {DB} SET SUSPEND_FOR_SNAPSHOT_BACKUP = OFF"),
    );
    assert_eq!(msg_numbers(&out), vec![3082, 5069], "{out}");
    // RESTORE … WITH METADATA_ONLY with the files the storage kept.
    std::fs::copy(metadata.join("stripe-00.vbak"), dir.join("stripe-00.vbak")).unwrap();
    let (code, text) = snapshot_restore(&server, &dir, &["--replace"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(digest(&server, DB), before);
}

#[test]
fn max_freeze_resumes_a_tsql_suspend_held_too_long() {
    let server = Server::start_with("snap-tsql-max", &["--max-freeze", "1"]);
    let out = sql(
        &server,
        &format!("ALTER DATABASE {DB} SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON (MODE = COPY_ONLY)"),
    );
    assert!(msg_numbers(&out).is_empty(), "{out}");
    assert!(volume_image(&server).exists());
    wait_for(Duration::from_secs(30), "the limit", || {
        server
            .log()
            .contains("longer than --max-freeze (1000 ms): resumed")
    });
    assert!(!volume_image(&server).exists());
    let out = sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 3)"));
    assert!(out.contains("(3 rows affected)"), "{out}");
    let out = sql(
        &server,
        &format!("ALTER DATABASE {DB} SET SUSPEND_FOR_SNAPSHOT_BACKUP = OFF"),
    );
    assert_eq!(msg_numbers(&out), vec![3082, 5069], "{out}");
}

/// A client transcript (`VDISIM_TRANSCRIPT`) without times, ids or sizes: calls, states,
/// commands and completions in order.
fn render_transcript(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
        let device = v["device"]
            .as_u64()
            .map_or(String::new(), |d| format!(" dev{d}"));
        out.push(match s("event").as_str() {
            "call" => format!(
                "C {}{device} -> {} [{}]",
                s("method"),
                s("result"),
                s("rule")
            ),
            "state" => format!("  state{device} {} -> {}", s("from"), s("to")),
            "command" => format!("  command{device} {}", s("code")),
            "completion" => format!("  completion{device} {} -> {}", s("code"), v["completion"]),
            "rule" => format!("  rule{device} {}", s("rule")),
            other => format!("  {other}"),
        });
    }
    out.join("\n")
}

#[test]
fn transcripts_of_a_snapshot_backup_and_restore() {
    let server = Server::start("snap-transcript");
    let dir = server.dir.join("snap");
    let transcript = server.dir.join("backup.jsonl");
    let mut c = client(
        &server,
        "backup",
        &["--db", DB, "--snapshot", dir.to_str().unwrap()],
    );
    c.env("VDISIM_TRANSCRIPT", &transcript);
    let (code, text) = run(c);
    assert_eq!(code, 0, "{text}");
    insta::assert_snapshot!("snapshot_backup_transcript", render_transcript(&transcript));
    let transcript = server.dir.join("restore.jsonl");
    let mut c = client(
        &server,
        "restore",
        &["--db", DB, "--snapshot", dir.to_str().unwrap(), "--replace"],
    );
    c.env("VDISIM_TRANSCRIPT", &transcript);
    let (code, text) = run(c);
    assert_eq!(code, 0, "{text}");
    insta::assert_snapshot!(
        "snapshot_restore_transcript",
        render_transcript(&transcript)
    );
}

#[test]
fn tsql_group_suspend_through_server_configuration() {
    let server = Server::start("snap-group");
    let out = sql(
        &server,
        "ALTER SERVER CONFIGURATION SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON (GROUP = (pubs, PUBS))",
    );
    assert_eq!(msg_numbers(&out), vec![3092], "{out}");
    let out = sql(
        &server,
        "ALTER SERVER CONFIGURATION SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON (GROUP = (pubs, AdventureWorks), MODE = COPY_ONLY)",
    );
    assert!(msg_numbers(&out).is_empty(), "{out}");
    assert_eq!(out.matches("successfully suspended").count(), 2, "{out}");
    let image = |db: &str| server.dir.join("volumes").join(db).join("database.img");
    assert!(image("pubs").exists() && image("adventureworks").exists());
    // One database of the group thawed by its METADATA_ONLY backup.
    let media = server.dir.join("pubs-meta");
    let (code, text) = run(client(
        &server,
        "backup",
        &[
            "--db",
            "pubs",
            "--to",
            media.to_str().unwrap(),
            "--with",
            "METADATA_ONLY",
        ],
    ));
    assert_eq!(code, 0, "{text}");
    assert!(!image("pubs").exists() && image("adventureworks").exists());
    let out = sql(
        &server,
        "ALTER SERVER CONFIGURATION SET SUSPEND_FOR_SNAPSHOT_BACKUP = OFF",
    );
    assert!(msg_numbers(&out).is_empty(), "{out}");
    assert!(
        out.contains("Database 'AdventureWorks' originally suspended"),
        "{out}"
    );
    assert!(!image("adventureworks").exists());
    let out = sql(
        &server,
        "ALTER SERVER CONFIGURATION SET SUSPEND_FOR_SNAPSHOT_BACKUP = OFF",
    );
    assert_eq!(msg_numbers(&out), vec![3082], "{out}");
}

#[test]
fn a_client_killed_before_the_freeze_leaves_nothing_frozen() {
    let server = Server::start("snap-kill-prepare");
    let dir = server.dir.join("snap");
    let mut backup = held_at(&server, &dir, "--prepare-hold", "60");
    wait_for(Duration::from_secs(30), "the snapshot job", || {
        server.log().contains("snapshot BACKUP of AdventureWorks")
    });
    // Give the client time to be inside VDC_PrepareToFreeze (it holds it for a minute).
    std::thread::sleep(Duration::from_millis(300));
    backup.kill().unwrap();
    let _ = backup.wait();
    wait_for(Duration::from_secs(20), "the job's end", || {
        server
            .log()
            .contains("job BACKUP DATABASE AdventureWorks: failed")
    });
    assert_eq!((frozen_lines(&server), resumed_lines(&server)), (0, 0));
    let out = sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 3)"));
    assert!(out.contains("(3 rows affected)"), "{out}");
    // The name and the database are usable again at once.
    let (code, text) = snapshot_backup(&server, &server.dir.join("again"), &[]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn snapshot_restored_under_a_new_name_with_move_then_a_differential() {
    let server = Server::start("snap-move");
    let dir = server.dir.join("snap");
    let (code, text) = run(client(
        &server,
        "backup",
        &["--db", "pubs", "--snapshot", dir.to_str().unwrap()],
    ));
    assert_eq!(code, 0, "{text}");
    // The snapshot is the differential base.
    sql(&server, "DBCC VDISIM_WORKLOAD('pubs', 30)");
    let diff = server.dir.join("diff");
    let (code, text) = run(client(
        &server,
        "backup",
        &[
            "--db",
            "pubs",
            "--differential",
            "--to",
            diff.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 0, "{text}");
    let wanted = digest(&server, "pubs");
    // MOVE is checked against the snapshot's files.
    let restore = |moves: &str, extra: &[&str]| {
        let mut args = vec![
            "--db",
            "pubs_copy",
            "--snapshot",
            dir.to_str().unwrap(),
            "--with",
            moves,
        ];
        args.extend_from_slice(extra);
        run(client(&server, "restore", &args))
    };
    let (code, text) = restore("MOVE 'nope' TO '/data/x.mdf'", &[]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(msg_numbers(&text), vec![3234, 3119, 3013], "{text}");
    let (code, text) = restore(
        "MOVE 'pubs' TO '/data/pubs_copy.mdf', MOVE 'pubs_log' TO '/data/pubs_copy_log.ldf'",
        &["--norecovery"],
    );
    assert_eq!(code, 0, "{text}");
    let (code, text) = run(client(
        &server,
        "restore",
        &["--db", "pubs_copy", "--from", diff.to_str().unwrap()],
    ));
    assert_eq!(code, 0, "{text}");
    assert_eq!(digest(&server, "pubs_copy"), wanted);
    let files = rows(
        &server,
        "SELECT physical_name FROM sys.master_files WHERE database_id = DB_ID('pubs_copy') ORDER BY file_id",
    );
    assert_eq!(
        files,
        vec![
            vec!["/data/pubs_copy.mdf".to_string()],
            vec!["/data/pubs_copy_log.ldf".to_string()]
        ]
    );
}
