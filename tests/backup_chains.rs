//! LSN chains as SQL Server computes them, against a real daemon with the reference client:
//! a full, a differential and three log backups, with and without activity between them,
//! restored in order; every out-of-order, gap, duplicate and wrong-state variant refused with
//! SQL Server's message; tail-log backups, STANDBY, and the system databases.

mod bk;
mod common;

use bk::*;
use common::Server;

const DB: &str = "AdventureWorks";

struct Chain {
    full: std::path::PathBuf,
    diff: std::path::PathBuf,
    logs: Vec<std::path::PathBuf>,
    digest: String,
}

fn chain(server: &Server, tag: &str, activity: bool) -> Chain {
    let dir = |n: &str| server.dir.join(format!("{tag}-{n}"));
    let work = |seed: u32| {
        if activity {
            sql(
                server,
                &format!("DBCC VDISIM_WORKLOAD('{DB}', {})", 20 + seed),
            );
        }
    };
    let full = dir("full");
    backup(
        server,
        &full,
        2,
        &format!("BACKUP DATABASE {DB} TO {{devices}}"),
    )
    .ok();
    work(1);
    let diff = dir("diff");
    backup(
        server,
        &diff,
        1,
        &format!("BACKUP DATABASE {DB} TO {{devices}} WITH DIFFERENTIAL"),
    )
    .ok();
    let mut logs = Vec::new();
    for i in 0..3 {
        work(2 + i);
        let log = dir(&format!("log{i}"));
        backup(server, &log, 1, &format!("BACKUP LOG {DB} TO {{devices}}")).ok();
        logs.push(log);
    }
    Chain {
        full,
        diff,
        logs,
        digest: digest(server, DB),
    }
}

fn restore_db(server: &Server, media: &std::path::Path, devices: u16, with: &str) -> Ran {
    restore(
        server,
        media,
        devices,
        &format!("RESTORE DATABASE {DB} FROM {{devices}} WITH {with}"),
    )
}

fn restore_log(server: &Server, media: &std::path::Path, with: &str) -> Ran {
    restore(
        server,
        media,
        1,
        &format!("RESTORE LOG {DB} FROM {{devices}} WITH {with}"),
    )
}

#[test]
fn full_differential_and_three_logs_restore_in_order_with_and_without_activity() {
    let server = Server::start("chains");
    for activity in [false, true] {
        let c = chain(&server, if activity { "busy" } else { "idle" }, activity);
        // Full + logs.
        restore_db(&server, &c.full, 2, "REPLACE, NORECOVERY").ok();
        for log in &c.logs[..2] {
            restore_log(&server, log, "NORECOVERY").ok();
        }
        restore_log(&server, &c.logs[2], "RECOVERY").ok();
        assert_eq!(digest(&server, DB), c.digest, "activity {activity}");
        // Full + differential + logs: the first log after the differential reaches past it.
        restore_db(&server, &c.full, 2, "REPLACE, NORECOVERY").ok();
        restore_db(&server, &c.diff, 1, "NORECOVERY").ok();
        for log in &c.logs {
            restore_log(&server, log, "NORECOVERY").ok();
        }
        let text = sql(&server, &format!("RESTORE DATABASE {DB} WITH RECOVERY"));
        assert!(msg_numbers(&text).is_empty(), "{text}");
        assert_eq!(digest(&server, DB), c.digest, "activity {activity}");
    }
}

#[test]
fn out_of_order_gap_duplicate_and_wrong_state_restores_are_refused() {
    let server = Server::start("chain-refusals");
    let c = chain(&server, "c", true);
    let errors = |ran: Ran| ran.errors();
    // Nothing restored yet: the database is online, so no files are ready to roll forward.
    assert_eq!(
        errors(restore_log(&server, &c.logs[0], "NORECOVERY")),
        [3117, 3013]
    );
    assert_eq!(
        errors(restore_db(&server, &c.diff, 1, "NORECOVERY")),
        [3117, 3013]
    );
    // A log or differential of a database that does not exist cannot create it.
    let ran = restore(&server, &c.logs[0], 1, "RESTORE LOG Nowhere FROM {devices}");
    assert_eq!(ran.errors(), [3118, 3013], "{}", ran.text);
    // The tail of the log was not backed up.
    assert_eq!(
        errors(restore_db(&server, &c.full, 2, "NORECOVERY")),
        [3159, 3013]
    );
    // A data backup through RESTORE LOG, a log backup through RESTORE DATABASE.
    let ran = restore(
        &server,
        &c.full,
        2,
        &format!("RESTORE LOG {DB} FROM {{devices}}"),
    );
    assert_eq!(ran.errors(), [3135, 3013], "{}", ran.text);
    restore_db(&server, &c.full, 2, "REPLACE, NORECOVERY").ok();
    let ran = restore(
        &server,
        &c.logs[0],
        1,
        &format!("RESTORE DATABASE {DB} FROM {{devices}}"),
    );
    assert_eq!(ran.errors(), [3135, 3013], "{}", ran.text);
    // A gap, then in order, then a duplicate and an earlier log.
    assert_eq!(
        errors(restore_log(&server, &c.logs[1], "NORECOVERY")),
        [4305, 3013]
    );
    restore_log(&server, &c.logs[0], "NORECOVERY").ok();
    assert_eq!(
        errors(restore_log(&server, &c.logs[0], "NORECOVERY")),
        [4326, 3013]
    );
    // A differential after a log.
    assert_eq!(
        errors(restore_db(&server, &c.diff, 1, "NORECOVERY")),
        [3136, 3013]
    );
    restore_log(&server, &c.logs[1], "NORECOVERY").ok();
    restore_log(&server, &c.logs[2], "RECOVERY").ok();
    assert_eq!(digest(&server, DB), c.digest);
    // Recovered: the sequence is over.
    assert_eq!(
        errors(restore_log(&server, &c.logs[2], "RECOVERY")),
        [3117, 3013]
    );
    let text = sql(&server, &format!("RESTORE DATABASE {DB} WITH RECOVERY"));
    assert_eq!(msg_numbers(&text), [3153, 3013], "{text}");
}

#[test]
fn a_tail_log_backup_with_norecovery_lets_the_restore_overwrite_the_database() {
    let server = Server::start("tail");
    let c = chain(&server, "c", true);
    sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 15)"));
    let after_tail = digest(&server, DB);
    let tail = server.dir.join("tail");
    backup(
        &server,
        &tail,
        1,
        &format!("BACKUP LOG {DB} TO {{devices}} WITH NORECOVERY, NO_TRUNCATE"),
    )
    .ok();
    let state = rows(
        &server,
        &format!("SELECT state_desc FROM sys.databases WHERE name = '{DB}'"),
    );
    assert_eq!(state, [["RESTORING"]]);
    // A database in a restore sequence cannot be backed up.
    let ran = backup(
        &server,
        &server.dir.join("x"),
        1,
        &format!("BACKUP DATABASE {DB} TO {{devices}}"),
    );
    assert_eq!(ran.errors(), [927, 3013], "{}", ran.text);
    // No REPLACE needed: the tail is backed up.
    restore_db(&server, &c.full, 2, "NORECOVERY").ok();
    for log in &c.logs {
        restore_log(&server, log, "NORECOVERY").ok();
    }
    let text = restore_log(&server, &tail, "RECOVERY").ok();
    assert!(
        text.contains("RESTORE LOG successfully processed"),
        "{text}"
    );
    assert_eq!(digest(&server, DB), after_tail);
    // The HEADERONLY of the tail says so.
    let header = restore(&server, &tail, 1, "RESTORE HEADERONLY FROM {devices}").ok();
    assert!(
        header.contains("BACKUP LOG") || header.contains(DB),
        "{header}"
    );
}

#[test]
fn standby_leaves_the_database_read_only_and_in_standby_between_log_restores() {
    let server = Server::start("standby");
    let c = chain(&server, "c", true);
    restore_db(
        &server,
        &c.full,
        2,
        "REPLACE, STANDBY = '/var/opt/mssql/undo_aw.dat'",
    )
    .ok();
    let flags = rows(
        &server,
        &format!(
            "SELECT state_desc, is_in_standby, is_read_only FROM sys.databases WHERE name = '{DB}'"
        ),
    );
    assert_eq!(flags, [["ONLINE", "1", "1"]]);
    let ran = backup(
        &server,
        &server.dir.join("x"),
        1,
        &format!("BACKUP DATABASE {DB} TO {{devices}}"),
    );
    assert_eq!(ran.errors(), [3036, 3013], "{}", ran.text);
    for log in &c.logs[..2] {
        restore_log(&server, log, "STANDBY = '/var/opt/mssql/undo_aw.dat'").ok();
    }
    restore_log(&server, &c.logs[2], "RECOVERY").ok();
    let flags = rows(
        &server,
        &format!(
            "SELECT state_desc, is_in_standby, is_read_only FROM sys.databases WHERE name = '{DB}'"
        ),
    );
    assert_eq!(flags, [["ONLINE", "0", "0"]]);
    assert_eq!(digest(&server, DB), c.digest);
    let text = sql(
        &server,
        &format!("RESTORE LOG {DB} FROM VIRTUAL_DEVICE = 'v' WITH STANDBY = ''"),
    );
    assert_eq!(msg_numbers(&text), [3170, 3013], "{text}");
}

#[test]
fn master_model_and_msdb_can_be_backed_up_and_model_and_msdb_restored() {
    let server = Server::start("system");
    for db in ["master", "model", "msdb"] {
        let media = server.dir.join(db);
        let text = backup(
            &server,
            &media,
            1,
            &format!("BACKUP DATABASE {db} TO {{devices}}"),
        )
        .ok();
        assert!(
            text.contains("BACKUP DATABASE successfully processed"),
            "{db}: {text}"
        );
        if db != "master" {
            let text = restore(
                &server,
                &media,
                1,
                &format!("RESTORE DATABASE {db} FROM {{devices}} WITH REPLACE"),
            )
            .ok();
            assert!(
                text.contains("RESTORE DATABASE successfully processed"),
                "{db}: {text}"
            );
        }
    }
    // model is in FULL recovery: its log chain starts with that full backup.
    backup(
        &server,
        &server.dir.join("model-log"),
        1,
        "BACKUP LOG model TO {devices}",
    )
    .ok();
    let sets = rows(
        &server,
        "SELECT database_name, type FROM msdb.dbo.backupset ORDER BY backup_set_id",
    );
    assert_eq!(
        sets,
        [
            ["master", "D"],
            ["model", "D"],
            ["msdb", "D"],
            ["model", "L"]
        ]
    );
}

#[test]
fn no_truncate_leaves_the_log_chain_where_it_was() {
    let server = Server::start("no-truncate");
    let c = chain(&server, "c", false);
    sql(&server, &format!("DBCC VDISIM_WORKLOAD('{DB}', 5)"));
    let side = server.dir.join("side");
    backup(
        &server,
        &side,
        1,
        &format!("BACKUP LOG {DB} TO {{devices}} WITH NO_TRUNCATE"),
    )
    .ok();
    // The next regular log backup starts where the chain stood, so it follows the last
    // regular one and holds the changes the NO_TRUNCATE backup also holds.
    let next = server.dir.join("next");
    backup(
        &server,
        &next,
        1,
        &format!("BACKUP LOG {DB} TO {{devices}}"),
    )
    .ok();
    let copy = rows(
        &server,
        &format!(
            "SELECT is_copy_only FROM msdb.dbo.backupset WHERE database_name = '{DB}' \
             AND type = 'L' ORDER BY backup_set_id"
        ),
    );
    assert_eq!(copy.last().map(|r| r[0].as_str()), Some("0"), "{copy:?}");
    assert_eq!(copy[copy.len() - 2][0], "1", "{copy:?}");
    let expected = digest(&server, DB);
    restore_db(&server, &c.full, 2, "NORECOVERY, REPLACE").ok();
    for log in &c.logs {
        restore_log(&server, log, "NORECOVERY").ok();
    }
    restore_log(&server, &next, "RECOVERY").ok();
    assert_eq!(digest(&server, DB), expected);
}
