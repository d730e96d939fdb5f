//! What backup tools send besides BACKUP and RESTORE, through `vdisim sqlcmd` against a real
//! daemon, where the engine is involved: the space DMVs follow the emulated log, a session's
//! SQL text, EXECUTE AS and REVERT, KILL, msdb's suspect_pages, xp_fileexist.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, PW, Server, code, ok, rows, stdout};

fn number(server: &Server, query: &str) -> f64 {
    let r = rows(server, query);
    r[0][0]
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{query}: {r:?}"))
}

fn backup(server: &Server, args: &[&str], name: &str) {
    let out = Command::new(BIN)
        .arg("backup")
        .args(["-S", &format!("unix:{}", server.socket.display())])
        .args(["-U", "sa", "-P", PW])
        .args(args)
        .arg("--to")
        .arg(server.dir.join(name))
        .output()
        .unwrap();
    ok(&out);
}

#[test]
fn space_dmvs_follow_the_emulated_log_and_data() {
    let server = Server::start("space-dmvs");
    let used = || {
        number(
            &server,
            "SELECT used_log_space_in_bytes FROM AdventureWorks.sys.dm_db_log_space_usage",
        )
    };
    let since_log_backup = || {
        number(
            &server,
            "SELECT log_since_last_log_backup_mb FROM sys.dm_db_log_stats(DB_ID('AdventureWorks'))",
        )
    };
    backup(&server, &["--db", "AdventureWorks"], "full");
    let before = used();
    ok(&server.sa(&["-Q", "DBCC VDISIM_WORKLOAD('AdventureWorks', 200)"]));
    let after = used();
    assert!(after > before, "{before} -> {after}");
    assert!(since_log_backup() > 0.0);
    // No log backup yet: 1900-01-01, as SQL Server shows it.
    assert_eq!(
        rows(
            &server,
            "SELECT YEAR(log_backup_time) FROM sys.dm_db_log_stats(DB_ID('AdventureWorks'))"
        ),
        [["1900"]]
    );
    backup(&server, &["--db", "AdventureWorks", "--log"], "log");
    assert!(used() < after, "the log backup truncates the log");
    assert_eq!(
        rows(
            &server,
            "SELECT CASE WHEN log_backup_time > '2000-01-01' THEN 'recent' END FROM sys.dm_db_log_stats(DB_ID('AdventureWorks'))"
        ),
        [["recent"]]
    );
    // The data pages in use, in whole extents, against the files' sizes.
    let r = rows(
        &server,
        "USE pubs; SELECT SUM(allocated_extent_page_count), SUM(total_page_count), SUM(modified_extent_page_count) FROM sys.dm_db_file_space_usage",
    );
    let cell = |i: usize| r[0][i].trim().parse::<i64>().unwrap();
    assert!(cell(0) > 0 && cell(0) <= cell(1), "{r:?}");
    assert!(cell(2) <= cell(0), "{r:?}");
    let used_pages = number(
        &server,
        "USE pubs; SELECT SUM(FILEPROPERTY(name, 'SpaceUsed')) FROM sys.database_files WHERE type = 0",
    );
    assert!(used_pages > 0.0 && used_pages <= cell(0) as f64);
    // sp_spaceused: the database's size is its files' size.
    let out = ok(&server.sa(&["-W", "-Q", "USE pubs; EXEC sp_spaceused"]));
    assert!(
        out.contains("database_name database_size unallocated space"),
        "{out}"
    );
    assert!(out.contains("reserved data index_size unused"), "{out}");
}

#[test]
fn a_sessions_sql_text_is_its_batch() {
    let server = Server::start("sql-text");
    let r = rows(
        &server,
        "SELECT t.text FROM sys.dm_exec_connections c CROSS APPLY sys.dm_exec_sql_text(c.most_recent_sql_handle) t WHERE c.session_id = @@SPID",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0][0].contains("FROM sys.dm_exec_connections c CROSS APPLY"),
        "{r:?}"
    );
    assert_eq!(
        rows(
            &server,
            "SELECT COUNT(*) FROM sys.dm_tran_locks WHERE resource_type = 'DATABASE' AND request_session_id = @@SPID"
        ),
        [["1"]]
    );
}

#[test]
fn execute_as_changes_the_login_until_revert() {
    let server = Server::start("execute-as");
    ok(&server.sa(&[
        "-b",
        "-Q",
        "CREATE LOGIN operator WITH PASSWORD = 'Op#12345', CHECK_POLICY = OFF",
    ]));
    let out = server.sa(&[
        "-h",
        "-1",
        "-W",
        "-Q",
        "SET NOCOUNT ON; EXECUTE AS LOGIN = 'operator'; SELECT SUSER_SNAME() + '|' + ORIGINAL_LOGIN(); BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'nobody'; REVERT; SELECT SUSER_SNAME()",
    ]);
    let text = stdout(&out);
    assert!(text.starts_with("operator|sa\n"), "{text}");
    assert!(
        text.contains("BACKUP DATABASE permission denied in database 'pubs'."),
        "{text}"
    );
    assert!(text.ends_with("sa\n"), "{text}");
    let out = server.sa(&["-Q", "EXECUTE AS LOGIN = 'nobody_here'"]);
    assert!(
        stdout(&out).starts_with("Msg 15406, Level 16"),
        "{}",
        stdout(&out)
    );
    // Someone who is not sysadmin cannot become sa.
    let out = server.sqlcmd(&[
        "-U",
        "operator",
        "-P",
        "Op#12345",
        "-Q",
        "EXECUTE AS LOGIN = 'sa'",
    ]);
    assert!(stdout(&out).starts_with("Msg 15406"), "{}", stdout(&out));
}

#[test]
fn kill_stops_another_sessions_batch() {
    let server = Server::start("kill");
    let out = server.sa(&["-Q", "KILL 999"]);
    assert_eq!(
        stdout(&out),
        "Msg 6106, Level 16, State 2, Server VDISIM, Line 1\nProcess ID 999 is not an active process ID.\n"
    );
    let out = server.sa(&[
        "-Q",
        "DECLARE @k nvarchar(20) = N'KILL ' + CAST(@@SPID AS nvarchar(10)); EXEC (@k)",
    ]);
    assert!(stdout(&out).starts_with("Msg 6104"), "{}", stdout(&out));
    let socket = server.socket.clone();
    let started = Instant::now();
    let sleeper = std::thread::spawn(move || {
        Command::new(BIN)
            .args(["sqlcmd", "-S", &format!("unix:{}", socket.display())])
            .args(["-U", "sa", "-P", PW])
            .args(["-Q", "WAITFOR DELAY '00:00:20'; PRINT 'woke up'"])
            .output()
            .unwrap()
    });
    let mut spid = None;
    while spid.is_none() && started.elapsed() < Duration::from_secs(10) {
        let r = rows(
            &server,
            "SELECT c.session_id FROM sys.dm_exec_connections c CROSS APPLY sys.dm_exec_sql_text(c.most_recent_sql_handle) t WHERE t.text LIKE 'WAITFOR%' AND c.session_id <> @@SPID",
        );
        spid = r.first().map(|row| row[0].trim().to_owned());
        std::thread::sleep(Duration::from_millis(50));
    }
    let spid = spid.expect("the sleeping session shows");
    let out = server.sa(&["-Q", &format!("KILL {spid}")]);
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));
    let slept = sleeper.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(!stdout(&slept).contains("woke up"), "{}", stdout(&slept));
}

#[test]
fn msdb_suspect_pages_and_xp_fileexist() {
    let server = Server::start("msdb-extra");
    let out = server.sa(&[
        "-Q",
        "delete from msdb.dbo.suspect_pages where database_id in (select dbid from master.dbo.sysdatabases where name = N'pubs')",
    ]);
    assert_eq!(stdout(&out), "\n(0 rows affected)\n");
    assert_eq!(
        rows(
            &server,
            "EXEC master.dbo.xp_fileexist '/var/opt/mssql/data'"
        ),
        [["0", "1", "1"]]
    );
    assert_eq!(
        rows(
            &server,
            "EXEC master.dbo.xp_fileexist '/var/opt/mssql/data/pubs.mdf'"
        ),
        [["1", "0", "1"]]
    );
}
