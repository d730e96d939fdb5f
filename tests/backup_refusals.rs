//! Every refusal of BACKUP and RESTORE with SQL Server's number, as the client sees it through
//! `vdisim sqlcmd` against a real daemon, snapshotted; and what a successful RESTORE … STATS
//! prints.

mod bk;
mod common;

use std::fmt::Write as _;

use bk::*;
use common::Server;

/// Statements refused before any device is opened (no client needed).
const BEFORE_THE_DEVICES: &[(&str, &str)] = &[
    ("tempdb", "BACKUP DATABASE tempdb TO VIRTUAL_DEVICE = 'v'"),
    (
        "restore tempdb",
        "RESTORE DATABASE tempdb FROM VIRTUAL_DEVICE = 'v'",
    ),
    ("log of master", "BACKUP LOG master TO VIRTUAL_DEVICE = 'v'"),
    (
        "differential of master",
        "BACKUP DATABASE master TO VIRTUAL_DEVICE = 'v' WITH DIFFERENTIAL",
    ),
    (
        "restore master outside single-user mode",
        "RESTORE DATABASE master FROM VIRTUAL_DEVICE = 'v' WITH REPLACE",
    ),
    (
        "empty device name",
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = ''",
    ),
    (
        "device name of 129 characters",
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = '{long}'",
    ),
    (
        "the same device twice",
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'a', VIRTUAL_DEVICE = 'b', VIRTUAL_DEVICE = 'a'",
    ),
    (
        "VIRTUAL_DEVICE mixed with DISK",
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'a', DISK = '/tmp/pubs.bak'",
    ),
    (
        "VIRTUAL_DEVICE mixed with URL",
        "RESTORE DATABASE pubs FROM URL = 'https://x/y.bak', VIRTUAL_DEVICE = 'a'",
    ),
    (
        "DISK alone",
        "BACKUP DATABASE pubs TO DISK = '/tmp/pubs.bak'",
    ),
    ("a logical device", "BACKUP DATABASE pubs TO NightlyDevice"),
    ("65 devices", "BACKUP DATABASE pubs TO {65}"),
    (
        "BLOCKSIZE not a power of 2",
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'v' WITH BLOCKSIZE = 1000",
    ),
    (
        "MAXTRANSFERSIZE not a multiple of 64 KB",
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'v' WITH MAXTRANSFERSIZE = 100000",
    ),
    (
        "BLOCKSIZE from a variable",
        "DECLARE @b int = 3000; BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'v' WITH BLOCKSIZE = @b",
    ),
    (
        "SNAPSHOT on two devices",
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'v', VIRTUAL_DEVICE = 'w' WITH SNAPSHOT",
    ),
    (
        "log in SIMPLE recovery",
        "BACKUP LOG pubs TO VIRTUAL_DEVICE = 'v'",
    ),
    (
        "log without a full backup",
        "BACKUP LOG AdventureWorks TO VIRTUAL_DEVICE = 'v'",
    ),
    (
        "differential without a base",
        "BACKUP DATABASE AdventureWorks TO VIRTUAL_DEVICE = 'v' WITH DIFFERENTIAL",
    ),
    (
        "missing database",
        "BACKUP DATABASE Nowhere TO VIRTUAL_DEVICE = 'v'",
    ),
    (
        "mark on RESTORE DATABASE",
        "RESTORE DATABASE pubs FROM VIRTUAL_DEVICE = 'v' WITH STOPATMARK = 'm'",
    ),
    (
        "STANDBY without a file",
        "RESTORE DATABASE pubs FROM VIRTUAL_DEVICE = 'v' WITH STANDBY = ''",
    ),
    (
        "recovery of a recovered database",
        "RESTORE DATABASE pubs WITH RECOVERY",
    ),
    (
        "STOPAT that is no date",
        "RESTORE LOG pubs FROM VIRTUAL_DEVICE = 'v' WITH STOPAT = 'yesterday'",
    ),
    (
        "inside a transaction",
        "BEGIN TRAN; BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'v'; ROLLBACK",
    ),
];

fn expand(sql: &str) -> String {
    let devices: Vec<String> = (0..65)
        .map(|i| format!("VIRTUAL_DEVICE = 'd{i}'"))
        .collect();
    sql.replace("{long}", &"x".repeat(129))
        .replace("{65}", &devices.join(", "))
}

#[test]
fn refusals_before_the_devices_are_opened() {
    let server = Server::start("refusals");
    let mut out = String::new();
    for (label, sql_text) in BEFORE_THE_DEVICES {
        let text = sql(&server, &expand(sql_text));
        assert!(!msg_numbers(&text).is_empty(), "{label}: {text}");
        writeln!(out, "## {label}\n{}\n=>\n{}", sql_text, redact(&text)).unwrap();
    }
    insta::assert_snapshot!("before_the_devices", out);
}

#[test]
fn refusals_after_the_backup_set_was_read() {
    let server = Server::start("refusals-read");
    let dir = |n: &str| server.dir.join(n);
    let aw = "AdventureWorks";
    backup(
        &server,
        &dir("pubs"),
        2,
        "BACKUP DATABASE pubs TO {devices} WITH MEDIANAME = 'weekly'",
    )
    .ok();
    backup(
        &server,
        &dir("full"),
        1,
        &format!("BACKUP DATABASE {aw} TO {{devices}}"),
    )
    .ok();
    sql(&server, &format!("DBCC VDISIM_WORKLOAD('{aw}', 20)"));
    backup(
        &server,
        &dir("log1"),
        1,
        &format!("BACKUP LOG {aw} TO {{devices}}"),
    )
    .ok();
    sql(&server, &format!("DBCC VDISIM_WORKLOAD('{aw}', 20)"));
    backup(
        &server,
        &dir("log2"),
        1,
        &format!("BACKUP LOG {aw} TO {{devices}}"),
    )
    .ok();
    let cases: Vec<(&str, &str, u16, String)> = vec![
        ("fewer stripes than the media set", "pubs", 1, "RESTORE DATABASE pubs FROM {devices} WITH REPLACE".into()),
        ("another database without REPLACE", "pubs", 2, format!("RESTORE DATABASE {aw} FROM {{devices}}")),
        ("the tail not backed up", "full", 1, format!("RESTORE DATABASE {aw} FROM {{devices}}")),
        ("MEDIANAME that differs", "pubs", 2, "RESTORE VERIFYONLY FROM {devices} WITH MEDIANAME = 'daily'".into()),
        ("FILE = 2 of a one-set medium", "pubs", 2, "RESTORE HEADERONLY FROM {devices} WITH FILE = 2".into()),
        ("CHECKSUM of a backup without", "pubs", 2, "RESTORE VERIFYONLY FROM {devices} WITH CHECKSUM".into()),
        ("a log backup through RESTORE DATABASE", "log1", 1, format!("RESTORE DATABASE {aw} FROM {{devices}} WITH REPLACE")),
        ("a log with nothing restored", "log1", 1, format!("RESTORE LOG {aw} FROM {{devices}}")),
        ("a log of a database that does not exist", "log1", 1, "RESTORE LOG Nowhere FROM {devices}".into()),
        ("STOPAT in SIMPLE recovery", "pubs", 2, "RESTORE DATABASE pubs FROM {devices} WITH REPLACE, STOPAT = '2030-01-01'".into()),
        ("MOVE of a file the backup lacks", "pubs", 2, "RESTORE DATABASE pubs FROM {devices} WITH REPLACE, MOVE 'nope' TO '/x/a.mdf'".into()),
        ("the same file moved twice", "pubs", 2, "RESTORE DATABASE pubs FROM {devices} WITH REPLACE, MOVE 'pubs' TO '/x/a.mdf', MOVE 'pubs' TO '/x/b.mdf'".into()),
        ("two files moved to one place", "pubs", 2, "RESTORE DATABASE pubs FROM {devices} WITH REPLACE, MOVE 'pubs' TO '/x/a.mdf', MOVE 'pubs_log' TO '/x/a.mdf'".into()),
        ("a page restore", "full", 1, format!("RESTORE DATABASE {aw} PAGE = '1:57' FROM {{devices}} WITH NORECOVERY")),
    ];
    let mut out = String::new();
    for (label, media, devices, statement) in &cases {
        let ran = restore(&server, &dir(media), *devices, statement);
        assert!(!ran.errors().is_empty(), "{label}: {}", ran.text);
        writeln!(out, "## {label}\n{statement}\n=>\n{}", redact(&ran.text)).unwrap();
    }
    // The chain: a gap, then a log applied twice.
    let chain = [
        (
            "full",
            format!("RESTORE DATABASE {aw} FROM {{devices}} WITH REPLACE, NORECOVERY"),
        ),
        (
            "log2",
            format!("RESTORE LOG {aw} FROM {{devices}} WITH NORECOVERY"),
        ),
        (
            "log1",
            format!("RESTORE LOG {aw} FROM {{devices}} WITH NORECOVERY"),
        ),
        (
            "log1",
            format!("RESTORE LOG {aw} FROM {{devices}} WITH NORECOVERY"),
        ),
        ("full", format!("BACKUP DATABASE {aw} TO {{devices}}")),
    ];
    for (media, statement) in &chain {
        let ran = if statement.starts_with("BACKUP") {
            backup(&server, &dir("again"), 1, statement)
        } else {
            restore(&server, &dir(media), 1, statement)
        };
        writeln!(
            out,
            "## chain: {media}\n{statement}\n=>\n{}",
            redact(&ran.text)
        )
        .unwrap();
    }
    insta::assert_snapshot!("after_the_backup_set_was_read", out);
}

#[test]
fn restore_with_stats_reports_progress_and_every_file() {
    let server = Server::start("stats");
    let media = server.dir.join("aw");
    backup(
        &server,
        &media,
        2,
        "BACKUP DATABASE AdventureWorks TO {devices} WITH STATS = 25",
    )
    .ok();
    let text = restore(
        &server,
        &media,
        2,
        "RESTORE DATABASE AdventureWorks FROM {devices} WITH REPLACE, STATS = 25",
    )
    .ok();
    insta::assert_snapshot!("restore_stats", redact(&text));
}
