//! The T-SQL that backup tools send around a backup, through `vdisim sqlcmd` and the reference
//! client against a real daemon: msdb history, catalog views, sp_executesql, logins and
//! permissions, DBCC.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use common::{BIN, PW, Server, code, ok, rows, stdout};
use vdi_client::reference::{self, Direction, ReferenceOptions};

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

#[test]
fn msdb_records_a_full_differential_and_log_chain_as_smo_reads_it() {
    let server = Server::start("msdb-chain");
    let media = |n: &str| server.dir.join(n);
    let workload = || ok(&server.sa(&["-Q", "DBCC VDISIM_WORKLOAD('AdventureWorks', 40)"]));
    ok(&client(
        &server,
        "backup",
        &["--db", "AdventureWorks", "--devices", "2"],
        &media("full"),
    ));
    workload();
    ok(&client(
        &server,
        "backup",
        &[
            "--db",
            "AdventureWorks",
            "--differential",
            "--with",
            "NAME = N'nightly diff'",
        ],
        &media("diff"),
    ));
    workload();
    ok(&client(
        &server,
        "backup",
        &["--db", "AdventureWorks", "--log"],
        &media("log"),
    ));

    // The join SMO's restore planner makes: backup sets, their media sets and families.
    let sets = rows(
        &server,
        "SELECT bkps.backup_set_id, bkps.type, bkps.first_lsn, bkps.last_lsn, bkps.checkpoint_lsn,
                bkps.database_backup_lsn, bkps.name, bmf.physical_device_name, bmf.device_type,
                bmf.family_sequence_number
         FROM msdb.dbo.backupset AS bkps
         INNER JOIN msdb.dbo.backupmediaset AS bms ON bms.media_set_id = bkps.media_set_id
         INNER JOIN msdb.dbo.backupmediafamily AS bmf ON bmf.media_set_id = bms.media_set_id
         WHERE bkps.database_name = N'AdventureWorks'
         ORDER BY bkps.backup_set_id, bmf.family_sequence_number",
    );
    let types: Vec<&str> = sets.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        types,
        ["D", "D", "I", "L"],
        "two stripes of the full: {sets:?}"
    );
    assert!(
        sets.iter().all(|r| r[8] == "7"),
        "virtual devices: {sets:?}"
    );
    assert_eq!((sets[0][9].as_str(), sets[1][9].as_str()), ("1", "2"));
    assert!(
        sets[0][7].starts_with('{') && sets[1][7].ends_with("_1"),
        "{sets:?}"
    );
    let full_checkpoint = &sets[0][4];
    assert_eq!(
        &sets[2][5], full_checkpoint,
        "the differential's base is the full"
    );
    assert_eq!(&sets[3][5], full_checkpoint, "the log hangs on the full");
    assert_eq!(sets[2][6], "nightly diff");
    let lsn = |s: &str| s.parse::<u128>().unwrap();
    assert!(
        lsn(&sets[3][3]) > lsn(&sets[2][3]),
        "the log reaches past the differential"
    );

    // What tools ask next: the latest full, and the log chain after it.
    let latest = rows(
        &server,
        "SELECT TOP (1) backup_set_id FROM msdb..backupset
         WHERE database_name = 'AdventureWorks' AND type = 'D' ORDER BY backup_finish_date DESC",
    );
    assert_eq!(latest, [["1"]]);
    let logs = rows(
        &server,
        "SELECT COUNT(*) FROM msdb.dbo.backupset b
         WHERE b.type = 'L' AND b.first_lsn <= (SELECT MAX(last_lsn) FROM msdb.dbo.backupset
                                                WHERE type = 'I')",
    );
    assert_eq!(logs, [["1"]]);

    // A restore is recorded against the backup set it read.
    ok(&client(
        &server,
        "restore",
        &["--db", "AdventureWorks", "--devices", "2", "--replace"],
        &media("full"),
    ));
    let restores = rows(
        &server,
        "SELECT r.destination_database_name, r.restore_type, r.replace, b.type
         FROM msdb.dbo.restorehistory r JOIN msdb.dbo.backupset b ON b.backup_set_id = r.backup_set_id",
    );
    assert_eq!(restores, [["AdventureWorks", "D", "1", "D"]]);

    // sp_delete_backuphistory removes what finished before the date.
    ok(&server.sa(&[
        "-Q",
        "EXEC msdb.dbo.sp_delete_backuphistory @oldest_date = '9999-12-31'",
    ]));
    assert_eq!(
        rows(&server, "SELECT COUNT(*) FROM msdb.dbo.backupset"),
        [["0"]]
    );
}

#[test]
fn msdb_history_survives_a_restart_with_a_data_directory() {
    let data = common::temp_dir("msdb-data");
    let data_arg = data.to_str().unwrap().to_owned();
    let mut first = Server::start_with("msdb-restart", &["--data-dir", &data_arg]);
    ok(&client(
        &first,
        "backup",
        &["--db", "pubs"],
        &first.dir.join("m"),
    ));
    ok(&first.sa(&["-Q", "CREATE LOGIN agent WITH PASSWORD = 'Agent#2024'"]));
    first.signal("TERM");
    first.wait_exit();
    let server = Server::start_with("msdb-restart2", &["--data-dir", &data_arg]);
    assert_eq!(
        rows(
            &server,
            "SELECT database_name, type FROM msdb.dbo.backupset"
        ),
        [["pubs", "D"]]
    );
    let out = server.sqlcmd(&[
        "-U",
        "agent",
        "-P",
        "Agent#2024",
        "-Q",
        "SELECT SUSER_SNAME()",
    ]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("agent"));
}

#[test]
fn sp_executesql_binds_the_database_and_device_of_a_real_backup() {
    let server = Server::start("executesql");
    let media = server.dir.join("bound");
    std::fs::create_dir_all(&media).unwrap();
    let set = reference::new_set_name();
    let socket = server.socket.clone();
    let statement_set = set.clone();
    let (run, out) = reference::run(
        &set,
        Direction::Backup,
        &media,
        &ReferenceOptions::default(),
        Arc::new(AtomicU64::new(0)),
        move || {
            Command::new(BIN)
                .args(["sqlcmd", "-S", &format!("unix:{}", socket.display()), "-U", "sa", "-P", PW])
                .args(["-b", "-Q"])
                .arg(format!(
                    "EXEC sp_executesql N'BACKUP DATABASE @db TO VIRTUAL_DEVICE = @dev WITH NAME = @name',
                       N'@db sysname, @dev nvarchar(200), @name nvarchar(128)',
                       @db = N'pubs', @dev = N'{statement_set}', @name = N'bound by sp_executesql'"
                ))
                .output()
                .unwrap()
        },
    );
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}");
    assert!(
        text.contains("BACKUP DATABASE successfully processed"),
        "{text}"
    );
    assert!(run.clean() && run.bytes > 1 << 20, "{run:?}");
    assert_eq!(
        rows(
            &server,
            "SELECT name, database_name FROM msdb.dbo.backupset"
        ),
        [["bound by sp_executesql", "pubs"]]
    );
}

#[test]
fn create_database_with_three_files_in_two_filegroups_shows_in_the_catalog_views() {
    let server = Server::start("files");
    ok(&server.sa(&[
        "-b",
        "-Q",
        "CREATE DATABASE Sales ON PRIMARY
           (NAME = Sales_data, FILENAME = '/var/opt/mssql/data/Sales.mdf', SIZE = 16MB, FILEGROWTH = 10%),
         FILEGROUP Archive
           (NAME = Sales_archive, FILENAME = '/var/opt/mssql/data/Sales_archive.ndf', SIZE = 8MB, MAXSIZE = UNLIMITED)
         LOG ON (NAME = Sales_log, FILENAME = '/var/opt/mssql/data/Sales_log.ldf', SIZE = 4MB)",
    ]));
    let files = rows(
        &server,
        "SELECT f.file_id, f.name, f.type_desc, f.physical_name, f.size, ISNULL(g.name, '-')
         FROM sys.master_files f LEFT JOIN Sales.sys.filegroups g ON g.data_space_id = f.data_space_id
         WHERE f.database_id = DB_ID('Sales') ORDER BY f.file_id",
    );
    assert_eq!(
        files,
        [
            [
                "1",
                "Sales_data",
                "ROWS",
                "/var/opt/mssql/data/Sales.mdf",
                "2048",
                "PRIMARY"
            ],
            [
                "2",
                "Sales_log",
                "LOG",
                "/var/opt/mssql/data/Sales_log.ldf",
                "512",
                "-"
            ],
            [
                "3",
                "Sales_archive",
                "ROWS",
                "/var/opt/mssql/data/Sales_archive.ndf",
                "1024",
                "Archive"
            ],
        ]
    );
    let own = rows(
        &server,
        "USE Sales; SELECT name, type_desc, is_percent_growth, max_size FROM sys.database_files ORDER BY file_id",
    );
    assert_eq!(own[0], ["Sales_data", "ROWS", "1", "-1"]);
    assert_eq!(own.len(), 3);
    // ALTER DATABASE changes them.
    ok(&server.sa(&[
        "-b",
        "-Q",
        "ALTER DATABASE Sales ADD FILEGROUP Hot;
         ALTER DATABASE Sales ADD FILE (NAME = Sales_hot, FILENAME = '/d/Sales_hot.ndf', SIZE = 1MB) TO FILEGROUP Hot;
         ALTER DATABASE Sales SET RECOVERY BULK_LOGGED;
         ALTER DATABASE Sales SET SINGLE_USER WITH ROLLBACK IMMEDIATE",
    ]));
    assert_eq!(
        rows(
            &server,
            "SELECT recovery_model_desc, user_access_desc, (SELECT COUNT(*) FROM sys.master_files m WHERE m.database_id = d.database_id)
             FROM sys.databases d WHERE name = 'Sales'"
        ),
        [["BULK_LOGGED", "SINGLE_USER", "4"]]
    );
    // The primary files' logical names are the backup's (FILELISTONLY, MOVE).
    let media = server.dir.join("sales");
    ok(&server.sa(&["-Q", "ALTER DATABASE Sales SET MULTI_USER"]));
    ok(&client(&server, "backup", &["--db", "Sales"], &media));
    let text = ok(&client(
        &server,
        "restore",
        &[
            "--db",
            "Sales2",
            "--with",
            "MOVE 'Sales_data' TO '/d/s2.mdf', MOVE 'Sales_log' TO '/d/s2.ldf'",
        ],
        &media,
    ));
    assert!(
        text.contains("RESTORE DATABASE successfully processed"),
        "{text}"
    );
}

#[test]
fn logins_without_permission_get_sql_servers_messages() {
    let server = Server::start("perms");
    ok(&server.sa(&[
        "-b",
        "-Q",
        "CREATE LOGIN operator WITH PASSWORD = 'Op#12345', CHECK_POLICY = OFF",
    ]));
    let as_operator =
        |query: &str| server.sqlcmd(&["-U", "operator", "-P", "Op#12345", "-Q", query]);
    let out = as_operator("BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'nobody'");
    assert_eq!(
        stdout(&out),
        "Msg 262, Level 14, State 1, Server VDISIM, Line 1\nBACKUP DATABASE permission denied in database 'pubs'.\nMsg 3013, Level 16, State 1, Server VDISIM, Line 1\nBACKUP DATABASE is terminating abnormally.\n"
    );
    let out = as_operator("RESTORE DATABASE pubs FROM VIRTUAL_DEVICE = 'nobody'");
    assert!(
        stdout(&out).starts_with("Msg 3110, Level 14"),
        "{}",
        stdout(&out)
    );
    let out = as_operator("CREATE DATABASE NotMine");
    assert!(stdout(&out).contains("CREATE DATABASE permission denied in database 'master'."));
    let out = as_operator("CREATE LOGIN other WITH PASSWORD = 'x'");
    assert!(stdout(&out).starts_with("Msg 15247"), "{}", stdout(&out));
    let out = as_operator("USE pubs");
    assert!(
        stdout(&out).starts_with("Msg 916, Level 14"),
        "{}",
        stdout(&out)
    );

    // A user in db_backupoperator passes BACKUP's check (and then waits for its devices).
    ok(&server.sa(&[
        "-b",
        "-Q",
        "USE pubs; CREATE USER operator FOR LOGIN operator; ALTER ROLE db_backupoperator ADD MEMBER operator",
    ]));
    assert_eq!(
        rows(
            &server,
            "SELECT IS_SRVROLEMEMBER('sysadmin', 'operator'), (SELECT COUNT(*) FROM pubs.sys.database_role_members)"
        )[0][0],
        "0"
    );
    let media = server.dir.join("op");
    let out = Command::new(BIN)
        .args(["backup", "-S", &format!("unix:{}", server.socket.display())])
        .args(["-U", "operator", "-P", "Op#12345", "--db", "pubs", "--to"])
        .arg(&media)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    // sysadmin through ALTER SERVER ROLE.
    ok(&server.sa(&["-b", "-Q", "ALTER SERVER ROLE sysadmin ADD MEMBER operator"]));
    assert_eq!(code(&as_operator("CREATE DATABASE Mine")), 0);
}

#[test]
fn dbcc_checkdb_passes_a_restored_database_and_fails_a_damaged_one() {
    let server = Server::start("checkdb");
    let media = server.dir.join("m");
    ok(&client(&server, "backup", &["--db", "pubs"], &media));
    ok(&client(&server, "restore", &["--db", "pubs_copy"], &media));
    let out = server.sa(&["-Q", "DBCC CHECKDB('pubs_copy') WITH NO_INFOMSGS"]);
    assert_eq!((code(&out), stdout(&out)), (0, String::new()));
    let out = server.sa(&["-Q", "DBCC CHECKDB('pubs_copy')"]);
    assert!(
        stdout(&out).contains(
            "CHECKDB found 0 allocation errors and 0 consistency errors in database 'pubs_copy'."
        ),
        "{}",
        stdout(&out)
    );
    ok(&server.sa(&["-Q", "DBCC VDISIM_DAMAGE('pubs_copy', 7)"]));
    let out = server.sa(&["-b", "-Q", "DBCC CHECKDB('pubs_copy') WITH NO_INFOMSGS"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("Msg 8928"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Page (1:7)"), "{}", stdout(&out));
    // Restoring it again from good media heals it.
    ok(&client(
        &server,
        "restore",
        &["--db", "pubs_copy", "--replace"],
        &media,
    ));
    let out = server.sa(&["-b", "-Q", "DBCC CHECKDB('pubs_copy') WITH NO_INFOMSGS"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let space = rows(&server, "DBCC SQLPERF(LOGSPACE)");
    assert!(space.iter().any(|r| r[0] == "pubs_copy"), "{space:?}");
}

#[test]
fn backup_inside_a_transaction_and_marks() {
    let server = Server::start("tran");
    let out = server.sa(&[
        "-Q",
        "BEGIN TRAN; BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'x'; SELECT @@TRANCOUNT; ROLLBACK",
    ]);
    let text = stdout(&out);
    assert!(
        text.starts_with("Msg 3021, Level 16, State 0, Server VDISIM, Line 1\nCannot perform a backup or restore operation within a transaction.\nMsg 3013"),
        "{text}"
    );
    assert!(text.contains("          1\n"), "{text}");
    let out = server.sa(&[
        "-b",
        "-Q",
        "USE AdventureWorks; BEGIN TRAN PriceChange WITH MARK 'before the price change'; COMMIT",
    ]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn a_running_backup_shows_in_dm_exec_requests() {
    let server = Server::start_with("requests", &["--open-timeout", "4"]);
    let socket = server.socket.clone();
    // No client ever creates this set: the BACKUP waits for it, as it waits for a slow agent.
    let waiting = std::thread::spawn(move || {
        Command::new(BIN)
            .args([
                "sqlcmd",
                "-S",
                &format!("unix:{}", socket.display()),
                "-U",
                "sa",
                "-P",
                PW,
            ])
            .args([
                "-Q",
                "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'agent_not_started_yet'",
            ])
            .output()
            .unwrap()
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
    let mut seen = Vec::new();
    while seen.is_empty() && std::time::Instant::now() < deadline {
        seen = rows(
            &server,
            "SELECT r.command, DB_NAME(r.database_id), r.status, s.login_name
             FROM sys.dm_exec_requests r JOIN sys.dm_exec_sessions s ON s.session_id = r.session_id
             WHERE r.command LIKE 'BACKUP%'",
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0][0], "BACKUP DATABASE");
    assert_eq!(seen[0][1], "pubs");
    assert_eq!(seen[0][3], "sa");
    let out = waiting.join().unwrap();
    assert!(stdout(&out).contains("Msg 3201"), "{}", stdout(&out));
    assert_eq!(
        rows(
            &server,
            "SELECT COUNT(*) FROM sys.dm_exec_requests WHERE command LIKE 'BACKUP%'"
        ),
        [["0"]],
        "the request ends with the statement"
    );
}
