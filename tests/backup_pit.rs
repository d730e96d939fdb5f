//! Point in time and marks against a real daemon: the emulated log records when each change
//! was made, so a restore stops exactly at the state of that moment (STOPAT in several date
//! forms, a variable, STOPATMARK and STOPBEFOREMARK with a mark name, 'lsn:n' and AFTER).

mod bk;
mod common;

use bk::*;
use common::Server;

const DB: &str = "AdventureWorks";

/// The server's time now, as `yyyy-mm-dd hh:mm:ss.fffffff`.
fn now(server: &Server) -> String {
    rows(server, "SELECT CONVERT(varchar(27), SYSDATETIME(), 121)")[0][0].clone()
}

fn workload(server: &Server, pages: u32) {
    let text = sql(server, &format!("DBCC VDISIM_WORKLOAD('{DB}', {pages})"));
    assert!(msg_numbers(&text).is_empty(), "{text}");
}

#[test]
fn stopat_three_points_in_one_log_backup_gives_the_state_of_each() {
    let server = Server::start("pit");
    let full = server.dir.join("full");
    backup(
        &server,
        &full,
        1,
        &format!("BACKUP DATABASE {DB} TO {{devices}}"),
    )
    .ok();
    let mut points = Vec::new();
    for pages in [30, 40, 50] {
        workload(&server, pages);
        points.push((now(&server), digest(&server, DB)));
    }
    workload(&server, 10);
    let log = server.dir.join("log");
    backup(&server, &log, 1, &format!("BACKUP LOG {DB} TO {{devices}}")).ok();
    let tail = server.dir.join("tail");
    backup(
        &server,
        &tail,
        1,
        &format!("BACKUP LOG {DB} TO {{devices}} WITH NORECOVERY"),
    )
    .ok();
    for (i, (time, expected)) in points.iter().enumerate() {
        restore(
            &server,
            &full,
            1,
            &format!("RESTORE DATABASE {DB} FROM {{devices}} WITH NORECOVERY, STOPAT = '{time}'"),
        )
        .ok();
        // The third point is given through a variable, the second in ISO 8601 form.
        let statement = match i {
            0 => format!("RESTORE LOG {DB} FROM {{devices}} WITH RECOVERY, STOPAT = N'{time}'"),
            1 => format!(
                "RESTORE LOG {DB} FROM {{devices}} WITH RECOVERY, STOPAT = '{}'",
                time.replacen(' ', "T", 1)
            ),
            _ => format!(
                "DECLARE @t datetime2 = '{time}'; RESTORE LOG {DB} FROM {{devices}} WITH STOPAT = @t, RECOVERY"
            ),
        };
        restore(&server, &log, 1, &statement).ok();
        assert_eq!(&digest(&server, DB), expected, "STOPAT {time}");
    }
    // A STOPAT after the end of the log: everything, and the database stays restoring.
    restore(
        &server,
        &full,
        1,
        &format!("RESTORE DATABASE {DB} FROM {{devices}} WITH REPLACE, NORECOVERY"),
    )
    .ok();
    let text = restore(
        &server,
        &log,
        1,
        &format!("RESTORE LOG {DB} FROM {{devices}} WITH STOPAT = '9999-12-31', RECOVERY"),
    )
    .ok();
    assert!(
        text.contains(
            "This backup set contains records that were logged before the designated point in time."
        ),
        "{text}"
    );
    let state = rows(
        &server,
        &format!("SELECT state_desc FROM sys.databases WHERE name = '{DB}'"),
    );
    assert_eq!(state, [["RESTORING"]]);
    // A STOPAT before the full backup.
    let ran = restore(
        &server,
        &full,
        1,
        &format!(
            "RESTORE DATABASE {DB} FROM {{devices}} WITH REPLACE, NORECOVERY, STOPAT = 'Jan 1, 2000 12:00 AM'"
        ),
    );
    assert_eq!(ran.errors(), [4338, 3013], "{}", ran.text);
}

#[test]
fn marks_stop_before_or_after_the_marked_transaction() {
    let server = Server::start("marks");
    let full = server.dir.join("full");
    backup(
        &server,
        &full,
        1,
        &format!("BACKUP DATABASE {DB} TO {{devices}}"),
    )
    .ok();
    workload(&server, 20);
    let before = digest(&server, DB);
    let text = sql(
        &server,
        &format!(
            "USE {DB}; BEGIN TRAN nightly WITH MARK 'nightly batch'; DBCC VDISIM_WORKLOAD('{DB}', 25); COMMIT"
        ),
    );
    assert!(msg_numbers(&text).is_empty(), "{text}");
    let after = digest(&server, DB);
    let mark_time = now(&server);
    workload(&server, 20);
    let log = server.dir.join("log");
    backup(&server, &log, 1, &format!("BACKUP LOG {DB} TO {{devices}}")).ok();
    let lsns = rows(
        &server,
        "SELECT CONVERT(varchar(30), last_lsn) FROM msdb.dbo.backupset WHERE type = 'D'",
    );
    let full_end = &lsns[0][0];
    let cases = [
        ("STOPATMARK = 'nightly'".to_owned(), &after),
        ("STOPBEFOREMARK = 'nightly'".to_owned(), &before),
        (
            "STOPATMARK = 'nightly' AFTER '2000-01-01'".to_owned(),
            &after,
        ),
        (
            // Where the full backup ends: nothing of the log applies.
            format!("STOPBEFOREMARK = N'lsn:{full_end}'"),
            &digest_of_full(&server, &full),
        ),
    ];
    for (stop, expected) in cases {
        restore(
            &server,
            &full,
            1,
            &format!("RESTORE DATABASE {DB} FROM {{devices}} WITH REPLACE, NORECOVERY"),
        )
        .ok();
        restore(
            &server,
            &log,
            1,
            &format!("RESTORE LOG {DB} FROM {{devices}} WITH {stop}, RECOVERY"),
        )
        .ok();
        assert_eq!(&digest(&server, DB), expected, "{stop}");
    }
    // A mark after a later time is not in this log: all of it, still restoring (4329).
    restore(
        &server,
        &full,
        1,
        &format!("RESTORE DATABASE {DB} FROM {{devices}} WITH REPLACE, NORECOVERY"),
    )
    .ok();
    let later = format!("9999-01-01 {}", &mark_time[11..]);
    let text = restore(
        &server,
        &log,
        1,
        &format!("RESTORE LOG {DB} FROM {{devices}} WITH STOPATMARK = 'nightly' AFTER '{later}'"),
    )
    .ok();
    assert!(
        text.contains("This log file contains records logged before the designated mark."),
        "{text}"
    );
    // An LSN the database has already passed.
    restore(
        &server,
        &full,
        1,
        &format!("RESTORE DATABASE {DB} FROM {{devices}} WITH REPLACE, NORECOVERY"),
    )
    .ok();
    let ran = restore(
        &server,
        &log,
        1,
        &format!("RESTORE LOG {DB} FROM {{devices}} WITH STOPATMARK = 'lsn:1'"),
    );
    assert_eq!(ran.errors(), [4334, 3013], "{}", ran.text);
    // A mark alone is for RESTORE LOG only.
    let ran = restore(
        &server,
        &full,
        1,
        &format!("RESTORE DATABASE {DB} FROM {{devices}} WITH REPLACE, STOPATMARK = 'nightly'"),
    );
    assert_eq!(ran.errors(), [4340, 3013], "{}", ran.text);
}

/// The digest of the database as the full backup holds it.
fn digest_of_full(server: &Server, full: &std::path::Path) -> String {
    restore(server, full, 1, "RESTORE DATABASE PitCopy FROM {devices} WITH MOVE 'AdventureWorks' TO '/x/c.mdf', MOVE 'AdventureWorks_log' TO '/x/c.ldf'").ok();
    digest(server, "PitCopy")
}
