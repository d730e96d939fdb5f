//! The whole product as a vendor runs it: `vdisim server` as a daemon, the reference client
//! (`vdisim backup|restore`) as separate processes talking T-SQL to the daemon and serving the
//! virtual devices over shared memory.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn client(server: &Server, verb: &str, args: &[&str], media: &Path) -> Output {
    let flag = if verb == "backup" { "--to" } else { "--from" };
    Command::new(BIN)
        .arg(verb)
        .args([
            "-S",
            &format!("unix:{}", server.socket.display()),
            "-U",
            "sa",
            "-P",
            PW,
        ])
        .args(args)
        .arg(flag)
        .arg(media)
        .output()
        .unwrap()
}

fn round_trip(server: &Server, db: &str, devices: &str, mode: &str, extra_backup: &[&str]) {
    let media = server.dir.join(format!("media-{db}-{devices}-{mode}"));
    let mut args = vec!["--db", db, "--devices", devices, "--mode", mode];
    args.extend_from_slice(extra_backup);
    let text = ok(&client(server, "backup", &args, &media));
    assert!(
        text.contains("BACKUP DATABASE successfully processed"),
        "{text}"
    );
    let text = ok(&client(
        server,
        "restore",
        &[
            "--db",
            db,
            "--devices",
            devices,
            "--mode",
            mode,
            "--replace",
        ],
        &media,
    ));
    assert!(
        text.contains("RESTORE DATABASE successfully processed"),
        "{text}"
    );
}

#[test]
fn backup_and_restore_over_1_4_and_64_devices() {
    let server = Server::start("stripes");
    round_trip(&server, "pubs", "1", "pipe", &[]);
    round_trip(&server, "pubs", "4", "pipe", &[]);
    round_trip(
        &server,
        "pubs",
        "64",
        "pipe",
        &["--with", "MAXTRANSFERSIZE=65536"],
    );
}

#[test]
fn each_media_mode_and_without_complete() {
    let server = Server::start("modes");
    round_trip(&server, "Extra", "2", "tape", &[]);
    round_trip(&server, "Extra", "2", "disk", &[]);
    // AdventureWorks-style FILESTREAM containers give mid-stream Flushes; without VDC_Complete the
    // last command is a Flush.
    round_trip(
        &server,
        "Extra",
        "1",
        "pipe",
        &["--no-complete", "--with", "COMPRESSION, CHECKSUM"],
    );
}

#[test]
fn damaged_media_fails_with_the_right_message_and_leaves_the_database_alone() {
    let server = Server::start("damage");
    let media = server.dir.join("media");
    ok(&client(
        &server,
        "backup",
        &[
            "--db",
            "Extra",
            "--devices",
            "2",
            "--with",
            "MAXTRANSFERSIZE=65536",
        ],
        &media,
    ));
    let stripe = |i: u16| media.join(format!("stripe-{i:02}.vbak"));
    let original = [
        std::fs::read(stripe(0)).unwrap(),
        std::fs::read(stripe(1)).unwrap(),
    ];
    let restore = || {
        client(
            &server,
            "restore",
            &["--db", "Extra", "--devices", "2", "--replace"],
            &media,
        )
    };

    // How the data splits between stripes depends on which device asks first, so the
    // damage goes into the larger one.
    let big = usize::from(original[1].len() > original[0].len());
    assert!(
        original[big].len() > 200_000,
        "a stripe carries data: {} and {} bytes",
        original[0].len(),
        original[1].len()
    );
    // A flipped bit.
    let mut flipped = original[big].clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x04;
    std::fs::write(stripe(big as u16), &flipped).unwrap();
    let out = restore();
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("RESTORE DATABASE is terminating abnormally."),
        "{text}"
    );
    assert!(text.contains("byte offset"), "{text}");

    // A truncated tail.
    std::fs::write(
        stripe(big as u16),
        &original[big][..original[big].len() - 4096],
    )
    .unwrap();
    let text = stdout(&restore());
    assert!(
        text.contains("Msg 3266") || text.contains("Msg 3189") || text.contains("Msg 3183"),
        "{text}"
    );

    // Two stripes swapped.
    std::fs::write(stripe(0), &original[1]).unwrap();
    std::fs::write(stripe(1), &original[0]).unwrap();
    let text = stdout(&restore());
    assert!(text.contains("Msg 3241"), "{text}");

    // The database still works: a restore of the intact media succeeds.
    std::fs::write(stripe(0), &original[0]).unwrap();
    std::fs::write(stripe(1), &original[1]).unwrap();
    ok(&restore());
}

#[test]
fn full_differential_and_log_chain_in_order_and_out_of_order() {
    let server = Server::start("chain");
    let full = server.dir.join("full");
    let diff = server.dir.join("diff");
    let log1 = server.dir.join("log1");
    let log2 = server.dir.join("log2");
    let workload = || {
        let out = server.sa(&["-b", "-Q", "DBCC VDISIM_WORKLOAD('AdventureWorks', 200)"]);
        assert_eq!(code(&out), 0, "{}", stdout(&out));
    };
    ok(&client(
        &server,
        "backup",
        &["--db", "AdventureWorks"],
        &full,
    ));
    workload();
    ok(&client(
        &server,
        "backup",
        &["--db", "AdventureWorks", "--differential"],
        &diff,
    ));
    ok(&client(
        &server,
        "backup",
        &["--db", "AdventureWorks", "--log"],
        &log1,
    ));
    workload();
    ok(&client(
        &server,
        "backup",
        &["--db", "AdventureWorks", "--log"],
        &log2,
    ));

    let restore = |args: &[&str], media: &Path| client(&server, "restore", args, media);
    let norecovery_log = ["--db", "AdventureWorks", "--log", "--norecovery"];
    let expect_msg = |out: Output, number: &str| {
        let text = stdout(&out);
        assert!(
            !out.status.success() && text.contains(&format!("Msg {number},")),
            "{text}"
        );
    };
    // Full, then the logs: log2 before log1 is too recent, log1 twice is too early.
    ok(&restore(
        &["--db", "AdventureWorks", "--replace", "--norecovery"],
        &full,
    ));
    expect_msg(restore(&norecovery_log, &log2), "4305");
    ok(&restore(&norecovery_log, &log1));
    expect_msg(restore(&norecovery_log, &log1), "4326");
    let text = ok(&restore(&["--db", "AdventureWorks", "--log"], &log2));
    assert!(
        text.contains("RESTORE LOG successfully processed"),
        "{text}"
    );
    // Full, differential, then the logs: the first log backup after the differential reaches
    // past it (every backup writes log records), so it applies, as in SQL Server.
    ok(&restore(
        &["--db", "AdventureWorks", "--replace", "--norecovery"],
        &full,
    ));
    ok(&restore(&["--db", "AdventureWorks", "--norecovery"], &diff));
    ok(&restore(&norecovery_log, &log1));
    expect_msg(restore(&norecovery_log, &log1), "4326");
    ok(&restore(&["--db", "AdventureWorks", "--log"], &log2));
}

#[test]
fn the_daemon_survives_a_client_killed_mid_backup() {
    let server = Server::start("killed");
    let media = server.dir.join("killed");
    let mut child = Command::new(BIN)
        .args([
            "backup",
            "-S",
            &format!("unix:{}", server.socket.display()),
            "-U",
            "sa",
            "-P",
            PW,
        ])
        .args([
            "--db",
            "AdventureWorks",
            "--devices",
            "2",
            "--with",
            "MAXTRANSFERSIZE=65536",
            "--to",
        ])
        .arg(&media)
        .spawn()
        .unwrap();
    // Kill it once data is flowing (into the staging directory the backup moves into place
    // when it succeeds).
    let staged = || {
        std::fs::read_dir(&media)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("stripe-00.vbak"))
            .find(|p| p.exists())
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while staged().map_or(0, |p| std::fs::metadata(p).map_or(0, |m| m.len())) < 1 << 20 {
        assert!(
            Instant::now() < deadline,
            "the backup never started:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let started = Instant::now();
    while !server.log().contains("failed") && !server.log().contains("abnormally") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server never noticed:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Nothing that looks like a backup is left, and the next job runs normally.
    assert!(!media.join("stripe-00.vbak").exists());
    round_trip(&server, "pubs", "1", "pipe", &[]);
}

/// The summary line the reference client prints on stderr: (flushes, completes).
fn flushes_and_completes(out: &Output) -> (u32, u32) {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains(" Flush, "))
        .unwrap_or_else(|| panic!("no summary in {err}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "Flush,").unwrap();
    (
        words[at - 1].trim_start_matches(';').parse().unwrap(),
        words[at + 1].parse().unwrap(),
    )
}

#[test]
fn three_mid_stream_flushes_with_and_without_complete() {
    let server = Server::start("flushes");
    let out = server.sa(&[
        "-b",
        "-Q",
        "CREATE DATABASE Streams SIZE = 4 MB FILESTREAM 3",
    ]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let media = server.dir.join("streams");
    // With VDC_Complete: a Flush after each of the 3 containers, the final Flush, then Complete
    // (decision 43).
    let out = client(&server, "backup", &["--db", "Streams"], &media);
    ok(&out);
    assert_eq!(flushes_and_completes(&out), (4, 1));
    // Without: the same 3, then the final Flush is the end.
    let out = client(
        &server,
        "backup",
        &["--db", "Streams", "--no-complete", "--overwrite"],
        &media,
    );
    ok(&out);
    assert_eq!(flushes_and_completes(&out), (4, 0));
    ok(&client(
        &server,
        "restore",
        &["--db", "Streams", "--replace"],
        &media,
    ));
}

#[test]
fn sixteen_concurrent_jobs_against_one_daemon_all_verify() {
    let server = Server::start("load");
    for i in 0..16 {
        let out = server.sa(&["-b", "-Q", &format!("CREATE DATABASE Load{i} SIZE = 2 MB")]);
        assert_eq!(code(&out), 0, "{}", stdout(&out));
    }
    let run_all = |verb: &'static str, extra: &'static [&'static str]| {
        let children: Vec<_> = (0..16)
            .map(|i| {
                let media = server.dir.join(format!("load-{i}"));
                let flag = if verb == "backup" { "--to" } else { "--from" };
                Command::new(BIN)
                    .arg(verb)
                    .args([
                        "-S",
                        &format!("unix:{}", server.socket.display()),
                        "-U",
                        "sa",
                        "-P",
                        PW,
                    ])
                    .args([
                        "--db",
                        &format!("Load{i}"),
                        "--devices",
                        &(1 + i % 3).to_string(),
                    ])
                    .args(extra)
                    .arg(flag)
                    .arg(media)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            ok(&out);
        }
    };
    run_all("backup", &[]);
    run_all("restore", &["--replace"]);
}
