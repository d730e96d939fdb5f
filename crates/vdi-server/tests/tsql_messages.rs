//! Snapshots of what a client sees: the rendered errors of invalid statements (parse-time and
//! run-time, through the engine), the parsed AST
//! of valid ones, and every catalogue message the engine can send.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use vdi_server::db::Catalog;
use vdi_server::engine::{CollectSink, Engine, EngineConfig};
use vdi_server::tsql::messages::{self, Operation};
use vdi_server::tsql::{Batch, Statement, parse_batch};

const SERVER: &str = "VDISIM";

fn devices(n: usize) -> String {
    (0..n)
        .map(|i| format!("VIRTUAL_DEVICE = 'vds{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn invalid_cases() -> Vec<(&'static str, String)> {
    let bk = "BACKUP DATABASE Sales TO VIRTUAL_DEVICE = 'vds'";
    let rs = "RESTORE DATABASE Sales FROM VIRTUAL_DEVICE = 'vds'";
    vec![
        ("misspelt statement", "BAKUP DATABASE Sales TO VIRTUAL_DEVICE = 'vds'".into()),
        ("wrong keyword after BACKUP", "BACKUP TABLE Sales TO VIRTUAL_DEVICE = 'vds'".into()),
        ("FROM instead of TO", "BACKUP DATABASE Sales FROM VIRTUAL_DEVICE = 'vds'".into()),
        ("TO instead of FROM", "RESTORE DATABASE Sales TO VIRTUAL_DEVICE = 'vds'".into()),
        ("missing =", "BACKUP DATABASE Sales TO VIRTUAL_DEVICE 'vds'".into()),
        ("device name not a string", "BACKUP DATABASE Sales TO VIRTUAL_DEVICE = vds".into()),
        ("reserved word as database name", "BACKUP DATABASE table TO VIRTUAL_DEVICE = 'vds'".into()),
        ("statement ends after TO", "BACKUP DATABASE Sales TO".into()),
        ("statement ends after WITH", format!("{bk} WITH")),
        ("trailing comma in WITH", format!("{bk} WITH INIT,")),
        ("DISK device", "BACKUP DATABASE pubs TO DISK = '/tmp/sales.bak'".into()),
        ("VIRTUAL_DEVICE with DISK", "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'v', DISK = '/tmp/x'".into()),
        ("65 devices", format!("BACKUP DATABASE Sales TO {}", devices(65))),
        (
            "duplicate device",
            "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'vds', VIRTUAL_DEVICE = N'vds'".into(),
        ),
        ("empty device name", "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = ''".into()),
        ("tempdb", "BACKUP DATABASE tempdb TO VIRTUAL_DEVICE = 'vds'".into()),
        ("log of master", "BACKUP LOG master TO VIRTUAL_DEVICE = 'vds'".into()),
        ("BLOCKSIZE not a power of two", format!("{bk} WITH BLOCKSIZE = 1000")),
        ("BLOCKSIZE too small", format!("{bk} WITH BLOCKSIZE = 256")),
        ("BLOCKSIZE too large", format!("{bk} WITH BLOCKSIZE = 131072")),
        ("BLOCKSIZE negative", format!("{bk} WITH BLOCKSIZE = -512")),
        ("BLOCKSIZE overflows int", format!("{bk} WITH BLOCKSIZE = 4294967296000000000000")),
        ("MAXTRANSFERSIZE not a multiple of 64 KB", format!("{bk} WITH MAXTRANSFERSIZE = 100000")),
        ("MAXTRANSFERSIZE above 4 MB", format!("{bk} WITH MAXTRANSFERSIZE = 8388608")),
        ("BUFFERCOUNT zero", format!("{bk} WITH BUFFERCOUNT = 0")),
        ("BUFFERCOUNT too large", format!("{bk} WITH BUFFERCOUNT = 100000")),
        ("STATS above 100", format!("{bk} WITH STATS = 101")),
        ("FILE zero", format!("{rs} WITH FILE = 0")),
        ("unknown BACKUP option", format!("{bk} WITH COMPRESS")),
        ("unknown RESTORE option", format!("{rs} WITH MOVEFILE 'a' TO 'b'")),
        ("REPLACE on BACKUP", format!("{bk} WITH INIT, REPLACE")),
        ("DIFFERENTIAL on RESTORE", format!("{rs} WITH DIFFERENTIAL")),
        (
            "DIFFERENTIAL on BACKUP LOG",
            "BACKUP LOG Sales TO VIRTUAL_DEVICE = 'vds' WITH DIFFERENTIAL".into(),
        ),
        ("RECOVERY with NORECOVERY", format!("{rs} WITH RECOVERY, NORECOVERY")),
        ("COMPRESSION with NO_COMPRESSION", format!("{bk} WITH COMPRESSION, NO_COMPRESSION")),
        ("option given twice", format!("{bk} WITH BUFFERCOUNT = 4, BUFFERCOUNT = 8")),
        ("SNAPSHOT with DIFFERENTIAL", format!("{bk} WITH SNAPSHOT, DIFFERENTIAL")),
        ("bad STOPAT", format!("{rs} WITH STOPAT = '2026-02-30 10:00'")),
        ("bad EXPIREDATE", format!("{bk} WITH EXPIREDATE = 'someday'")),
        ("bad AFTER of a mark", format!("{rs} WITH STOPATMARK = 'm' AFTER 'noon'")),
        ("STOPAT with STOPATMARK", format!("{rs} WITH STOPAT = '2026-01-01', STOPATMARK = 'm'")),
        ("METADATA_ONLY on RESTORE LOG", "RESTORE LOG Sales FROM VIRTUAL_DEVICE = 'vds' WITH METADATA_ONLY".into()),
        ("PASSWORD on BACKUP", format!("{bk} WITH PASSWORD = 'secret'")),
        ("PARTIAL on RESTORE LOG", "RESTORE LOG Sales FROM VIRTUAL_DEVICE = 'vds' WITH PARTIAL".into()),
        ("unknown compression algorithm", format!("{bk} WITH COMPRESSION (ALGORITHM = ZSTD)")),
        ("FILE on BACKUP LOG", "BACKUP LOG Sales FILE = 'f' TO VIRTUAL_DEVICE = 'vds'".into()),
        ("unclosed string", "PRINT 'it''s never closed".into()),
        ("unclosed bracket", "USE [Sales".into()),
        ("unclosed comment", "SELECT @@VERSION /* never closed".into()),
        (
            "error on line 3 of a batch",
            "USE master;\nSELECT @@SERVERNAME\nBACKUP DATABASE Sales TOO VIRTUAL_DEVICE = 'vds'".into(),
        ),
        (
            "option error in a statement starting on line 3",
            "PRINT 'start'\n\nBACKUP DATABASE Sales\n  TO VIRTUAL_DEVICE = 'vds'\n  WITH BLOCKSIZE = 3".into(),
        ),
        ("trailing junk", "SELECT @@VERSION\nGARBAGE junk".into()),
        ("unknown system variable", "SELECT @@NOSUCHTHING".into()),
        ("unknown table", "SELECT name FROM sys.no_such_view".into()),
        ("unknown column", "SELECT owner FROM sys.databases".into()),
        ("bad WAITFOR time", "WAITFOR DELAY '25:00:00'".into()),
        ("CREATE DATABASE with zero size", "CREATE DATABASE Sales SIZE = 0 MB".into()),
        ("permanent user table", "INSERT INTO t VALUES (1)".into()),
        ("undeclared variable", "BACKUP DATABASE @db TO VIRTUAL_DEVICE = 'vds'".into()),
        ("conversion failure", "SELECT CAST('pubs' AS int)".into()),
        ("unknown procedure", "EXEC dbo.sp_no_such_thing".into()),
        ("identifier too long", format!("USE {}", "x".repeat(130))),
    ]
}

fn shown(sql: &str) -> String {
    if sql.chars().count() > 160 {
        let head: String = sql.chars().take(160).collect();
        format!("{head}… ({} characters)", sql.chars().count())
    } else {
        sql.to_owned()
    }
}

/// Runs a batch on a fresh engine (no device sets: a BACKUP that passes its checks fails with
/// 3201) and renders its messages as sqlcmd prints them.
fn run_batch(sql: &str) -> (bool, String) {
    let engine = Engine::new(Catalog::with_defaults(), EngineConfig::default());
    let mut session = engine.login("sa", "", None).expect("login");
    let mut sink = CollectSink::new();
    let batch = Batch {
        text: sql.to_owned(),
        first_line: 1,
        repeat: 1,
    };
    let outcome = session.execute_batch(&batch, &mut sink);
    let rendered: Vec<String> = sink
        .messages()
        .filter(|m| m.is_error())
        .map(|m| m.render(SERVER))
        .collect();
    (outcome.error, rendered.join("\n"))
}

#[test]
fn tsql_invalid_statements_render_like_sqlcmd() {
    let mut out = String::new();
    for (i, (label, sql)) in invalid_cases().iter().enumerate() {
        let (error, rendered) = run_batch(sql);
        assert!(error, "case {label} ran without an error");
        writeln!(
            out,
            "## {:02} {label}\n{}\n=>\n{rendered}\n",
            i + 1,
            shown(sql)
        )
        .unwrap();
    }
    insta::assert_snapshot!("invalid_statements", out);
}

#[derive(Serialize)]
struct Parsed {
    sql: &'static str,
    statements: Vec<Statement>,
}

const VALID: &[&str] = &[
    "BACKUP DATABASE Sales TO VIRTUAL_DEVICE = '{0D0F5BA0-B21A-4519-A961-A6E2292A17CA}'",
    "BACKUP DATABASE [Sales DB] TO VIRTUAL_DEVICE = N'vds', VIRTUAL_DEVICE = N'vds1'\n  WITH BLOCKSIZE = 65536, BUFFERCOUNT = 10, MAXTRANSFERSIZE = 65536",
    "backup database Sales to virtual_device='vds' with format, init, skip, compression, checksum, stats = 5, name = N'Full', description = 'nightly', medianame = 'm1'",
    "BACKUP DATABASE Sales TO VIRTUAL_DEVICE = 'vds' WITH DIFFERENTIAL, STATS",
    "BACKUP DATABASE Sales TO VIRTUAL_DEVICE = 'vds' WITH COPY_ONLY, NO_COMPRESSION, CONTINUE_AFTER_ERROR, NOUNLOAD, NOREWIND",
    "BACKUP LOG Sales TO VIRTUAL_DEVICE = 'vds' WITH NORECOVERY, NO_TRUNCATE",
    "RESTORE DATABASE Sales FROM VIRTUAL_DEVICE = 'vds' WITH REPLACE, MAXTRANSFERSIZE = 1048576",
    "RESTORE DATABASE Sales FROM VIRTUAL_DEVICE = 'vds'\nWITH NORECOVERY,\n  MOVE 'Sales' TO '/var/opt/mssql/data/Sales2.mdf',\n  MOVE 'Sales_log' TO '/var/opt/mssql/data/Sales2.ldf'",
    "RESTORE LOG Sales FROM VIRTUAL_DEVICE = 'vds' WITH FILE = 2, STOPAT = '2026-11-25T08:30:00.125', STANDBY = '/tmp/undo.dat'",
    "RESTORE DATABASE Sales WITH RECOVERY",
    "BACKUP DATABASE @db TO VIRTUAL_DEVICE = @dev, DISK = '/tmp/sales.bak', LogicalDev WITH COPY_ONLY, DIFFERENTIAL",
    "BACKUP DATABASE Sales FILEGROUP = 'Archive', FILE = N'Sales2' TO VIRTUAL_DEVICE = 'vds' WITH COMPRESSION (ALGORITHM = QAT_DEFLATE), RETAINDAYS = 7, MEDIADESCRIPTION = 'weekly'",
    "BACKUP DATABASE Sales READ_WRITE_FILEGROUPS TO VIRTUAL_DEVICE = 'vds' WITH ENCRYPTION (ALGORITHM = AES_256, SERVER CERTIFICATE = BackupCert), EXPIREDATE = 'Apr 15, 2030 12:00 AM'",
    "RESTORE DATABASE Sales FILEGROUP = 'PRIMARY' FROM VIRTUAL_DEVICE = 'vds' WITH PARTIAL, NORECOVERY, NEW_BROKER, RESTRICTED_USER, FILESTREAM (DIRECTORY_NAME = fs)",
    "RESTORE DATABASE Sales FROM VIRTUAL_DEVICE = 'vds' WITH RECOVERY, KEEP_REPLICATION, KEEP_CDC",
    "RESTORE LOG Sales FROM VIRTUAL_DEVICE = 'vds' WITH STOPATMARK = 'nightly' AFTER '2026-11-25 08:00', NORECOVERY",
    "RESTORE LOG Sales FROM VIRTUAL_DEVICE = 'vds' WITH STOPBEFOREMARK = 'lsn:1042'",
    "RESTORE VERIFYONLY FROM VIRTUAL_DEVICE = 'vds' WITH LOADHISTORY, PASSWORD = 'p', MEDIAPASSWORD = 'mp'",
    "RESTORE VERIFYONLY FROM VIRTUAL_DEVICE = 'vds' WITH CHECKSUM, STATS = 20",
    "RESTORE HEADERONLY FROM VIRTUAL_DEVICE = 'vds'; RESTORE FILELISTONLY FROM VIRTUAL_DEVICE = 'vds'; RESTORE LABELONLY FROM VIRTUAL_DEVICE = 'vds'",
    "CREATE DATABASE Sales SIZE = 64 MB RECOVERY FULL FILESTREAM 2",
    "DROP DATABASE IF EXISTS Sales, [Old Sales]\nALTER DATABASE Sales SET RECOVERY SIMPLE",
    "SELECT @@VERSION; SELECT @@SERVERNAME\nSELECT name FROM sys.databases ORDER BY name",
    "USE Sales\nPRINT N'done'\nWAITFOR DELAY '00:00:02'",
];

#[test]
fn tsql_valid_statements_parse_to_these_asts() {
    let parsed: Vec<Parsed> = VALID
        .iter()
        .map(|sql| Parsed {
            sql,
            statements: parse_batch(sql, 1).unwrap_or_else(|e| panic!("{sql}: {e}")),
        })
        .collect();
    insta::assert_json_snapshot!("valid_statements", parsed);
}

#[test]
fn tsql_catalogue_messages_render_like_sqlcmd() {
    let ms = |n: u64| Duration::from_millis(n);
    let all = [
        messages::database_does_not_exist(1, "Nope"),
        messages::database_already_exists(1, "Sales"),
        messages::cannot_drop_database(1, "Nope"),
        messages::alter_database_failed(1),
        messages::changed_database_context(1, "Sales"),
        messages::login_failed(1, "sa"),
        messages::exclusive_access_denied(1),
        messages::terminating_abnormally(1, Operation::BackupDatabase),
        messages::terminating_abnormally(1, Operation::BackupLog),
        messages::terminating_abnormally(1, Operation::RestoreDatabase),
        messages::terminating_abnormally(1, Operation::RestoreLog),
        messages::terminating_abnormally(1, Operation::RestoreVerifyOnly),
        messages::terminating_abnormally(1, Operation::RestoreHeaderOnly),
        messages::terminating_abnormally(1, Operation::RestoreFileListOnly),
        messages::terminating_abnormally(1, Operation::RestoreLabelOnly),
        messages::successfully_processed(1, Operation::BackupDatabase, 298, ms(34)),
        messages::successfully_processed(1, Operation::BackupDatabaseDifferential, 40, ms(12)),
        messages::successfully_processed(1, Operation::BackupLog, 2, ms(5)),
        messages::successfully_processed(1, Operation::RestoreDatabase, 298, ms(1500)),
        messages::successfully_processed(1, Operation::RestoreLog, 0, Duration::ZERO),
        messages::processed_pages(1, 296, "Sales", "Sales", 1),
        messages::processed_pages(1, 2, "Sales", "Sales_log", 1),
        messages::percent_processed(1, 10),
        messages::backup_set_valid(1, 1),
        messages::cannot_open_device(1, "vds", 0x8077_0003),
        messages::cannot_open_device(1, "vds", 2),
        messages::write_failed(1, "vds", 995),
        messages::read_failed(1, "vds1", 38),
        messages::operation_aborted(1),
        messages::backup_of_other_database(1, "Sales"),
        messages::tail_of_log_not_backed_up(1, "Sales"),
        messages::restore_page_error(1, 1, 153, "Sales"),
        messages::backup_set_damaged(1),
        messages::media_family_incorrectly_formed(1, "vds"),
        messages::not_a_backup_set(1, "vds"),
        messages::media_families_missing(1, 4, 3),
        messages::backup_data_incorrectly_formatted(1, "vds"),
        messages::logical_file_not_in_backup(1, "Salez", "Sales"),
        messages::log_too_recent(1, 37_000_000_012_800_001u64, 36_000_000_010_400_001u64),
        messages::log_too_early(1, 35_000_000_009_600_001u64, 36_000_000_010_400_001u64),
        messages::preceding_restore_recovered(1),
        messages::no_files_ready_to_rollforward(1),
        messages::log_backup_in_simple_recovery(1),
        messages::no_current_database_backup(1),
        messages::differential_without_base(1, "Sales"),
        messages::cannot_drop_in_use(1, "Sales"),
        messages::cannot_drop_system(1, "msdb"),
        messages::cannot_open_login_database("Nope"),
        messages::cannot_alter_database(1, "Nope"),
        messages::already_fully_recovered(1),
        messages::block_size_not_power_of_two(1),
        messages::invalid_parameter_value(1, "MAXTRANSFERSIZE"),
        messages::zero_length_device_name(1),
        messages::device_name_too_long(1, 128),
        messages::device_named_twice(1, "vds"),
        messages::devices_of_different_classes(1),
        messages::backup_device_does_not_exist(1, "LogicalDev"),
        messages::device_type_not_supported(1, "DISK"),
        messages::tempdb_not_allowed(1),
        messages::master_log_backup(1),
        messages::master_full_backup_only(1),
        messages::master_restore_needs_single_user(1),
        messages::restore_cannot_create_database(1, "Nope"),
        messages::database_in_restore(1, "Sales"),
        messages::database_in_standby(1, "Sales"),
        messages::file_not_part_of_database(1, "Salez", "Sales"),
        messages::filegroup_not_part_of_database(1, "Archiv", "Sales"),
        messages::no_files_selected(1),
        messages::filegroup_not_in_backup(1, "Archive"),
        messages::file_not_in_backup(1, "Sales2", 1, "vds"),
        messages::partial_restore_misused(1),
        messages::conflicting_file_relocations(1, "Sales"),
        messages::file_claimed_twice(1, "/data/x.mdf", ("Sales", 1), ("Sales_log", 2)),
        messages::restore_planning_problems(1),
        messages::stop_point_not_reached(1),
        messages::mark_not_reached(1),
        messages::point_in_time_log_only(1),
        messages::stop_at_in_simple_recovery(1),
        messages::stop_at_needs_tail(1, "Sales"),
        messages::standby_file_invalid(1),
        messages::log_too_early_for_recovery(1, "Sales2", 1042, 1040),
        messages::log_not_restored(1),
        messages::media_name_mismatch(1, "weekly", "nightly", "vds"),
        messages::backup_set_position_not_found(1, 2, "vds"),
        messages::no_checksums_in_backup(1),
        messages::restore_needs_more_steps(1),
        messages::backup_set_created_by(1, "vds", "BACKUP LOG"),
        messages::mark_not_valid_lsn(1),
        messages::catalog_io_failed(1, "disk full"),
        messages::devices_not_connected(1, "vds"),
        messages::operation_must_be_serialized(1),
    ];
    let out: Vec<String> = all.iter().map(|m| m.render(SERVER)).collect();
    insta::assert_snapshot!("catalogue", out.join("\n\n"));
}
