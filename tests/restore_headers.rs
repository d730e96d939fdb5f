//! RESTORE HEADERONLY, FILELISTONLY and LABELONLY against a real daemon, from media of 1, 4
//! and 64 devices written by the reference client: SQL Server 2022's full result sets, and how
//! the device set ends after the headers were read (decision 49).

mod bk;
mod common;

use bk::*;
use common::Server;
use vdi_client::reference::{Direction, ReferenceOptions};

const BACKUP: &str = "BACKUP DATABASE pubs TO {devices} WITH NAME = N'pubs full', \
     DESCRIPTION = 'nightly', MEDIANAME = 'weekly', MEDIADESCRIPTION = 'the weekly set', \
     CHECKSUM, COMPRESSION, RETAINDAYS = 7";

fn info(server: &Server, media: &std::path::Path, devices: u16, what: &str) -> String {
    let ran = with_options(
        server,
        Direction::Restore,
        media,
        &format!("RESTORE {what} FROM {{devices}}"),
        ReferenceOptions {
            devices,
            ..ReferenceOptions::default()
        },
        &["-W", "-s", "|"],
    );
    assert!(ran.run.clean(), "{what}: {:?}\n{}", ran.run, ran.text);
    assert!(ran.errors().is_empty(), "{}", ran.text);
    redact(&transpose(&ran.text))
}

#[test]
fn headeronly_filelistonly_and_labelonly_from_1_4_and_64_devices() {
    let server = Server::start("headers");
    for devices in [1u16, 4, 64] {
        let media = server.dir.join(format!("media-{devices}"));
        backup(&server, &media, devices, BACKUP).ok();
        let header = info(&server, &media, devices, "HEADERONLY");
        let files = info(&server, &media, devices, "FILELISTONLY");
        let label = info(&server, &media, devices, "LABELONLY");
        insta::assert_snapshot!(format!("headeronly_{devices}"), header);
        insta::assert_snapshot!(format!("filelistonly_{devices}"), files);
        insta::assert_snapshot!(format!("labelonly_{devices}"), label);
    }
}

#[test]
fn the_headers_describe_each_kind_of_backup_and_agree_with_msdb() {
    let server = Server::start("headers-chain");
    let dir = |n: &str| server.dir.join(n);
    let work = |n: u32| {
        sql(
            &server,
            &format!("DBCC VDISIM_WORKLOAD('AdventureWorks', {n})"),
        )
    };
    backup(
        &server,
        &dir("full"),
        2,
        "BACKUP DATABASE AdventureWorks TO {devices}",
    )
    .ok();
    work(30);
    backup(
        &server,
        &dir("diff"),
        1,
        "BACKUP DATABASE AdventureWorks TO {devices} WITH DIFFERENTIAL, COPY_ONLY",
    )
    .ok();
    backup(
        &server,
        &dir("log"),
        1,
        "BACKUP LOG AdventureWorks TO {devices} WITH COPY_ONLY",
    )
    .ok();
    let field = |text: &str, name: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .to_owned()
    };
    let full = info(&server, &dir("full"), 2, "HEADERONLY");
    let diff = info(&server, &dir("diff"), 1, "HEADERONLY");
    let log = info(&server, &dir("log"), 1, "HEADERONLY");
    assert_eq!(field(&full, "BackupType"), "1");
    assert_eq!(
        field(&diff, "BackupTypeDescription"),
        "Database Differential"
    );
    assert_eq!(
        field(&diff, "IsCopyOnly"),
        "0",
        "COPY_ONLY is ignored for a differential"
    );
    assert_eq!(field(&log, "BackupType"), "2");
    assert_eq!(field(&log, "IsCopyOnly"), "1");
    assert_eq!(
        field(&diff, "DifferentialBaseLSN"),
        field(&full, "CheckpointLSN")
    );
    assert_eq!(
        field(&log, "DatabaseBackupLSN"),
        field(&full, "CheckpointLSN")
    );
    assert_eq!(field(&log, "FirstLSN"), field(&full, "FirstLSN"));
    // A log backup names the database's last checkpoint: the differential's, taken after the
    // full backup that started the chain.
    assert_eq!(field(&log, "CheckpointLSN"), field(&diff, "CheckpointLSN"));
    assert_ne!(field(&log, "CheckpointLSN"), field(&log, "FirstLSN"));
    let sets = rows(
        &server,
        "SELECT type, first_lsn, last_lsn, checkpoint_lsn, database_backup_lsn, is_copy_only \
         FROM msdb.dbo.backupset ORDER BY backup_set_id",
    );
    for (row, header) in sets.iter().zip([&full, &diff, &log]) {
        assert_eq!(row[1], field(header, "FirstLSN"), "{row:?}");
        assert_eq!(row[2], field(header, "LastLSN"), "{row:?}");
        assert_eq!(row[3], field(header, "CheckpointLSN"), "{row:?}");
        assert_eq!(row[4], field(header, "DatabaseBackupLSN"), "{row:?}");
        assert_eq!(row[5], field(header, "IsCopyOnly"), "{row:?}");
    }
    // FILELISTONLY names every file, as MOVE needs them.
    let files = info(&server, &dir("full"), 2, "FILELISTONLY");
    assert!(files.contains("LogicalName: AdventureWorks\n"), "{files}");
    assert!(
        files.contains("Type: L\n") && files.contains("Type: S\n"),
        "{files}"
    );
}

#[test]
fn after_the_headers_the_set_ends_normally_or_as_the_server_option_says() {
    let server = Server::start_with("headers-abort", &["--headers-only-end", "abort"]);
    let media = server.dir.join("m");
    backup(&server, &media, 2, "BACKUP DATABASE pubs TO {devices}").ok();
    let ran = restore(&server, &media, 2, "RESTORE HEADERONLY FROM {devices}");
    assert!(ran.errors().is_empty(), "{}", ran.text);
    assert!(ran.text.contains("pubs"), "{}", ran.text);
    assert!(!ran.run.clean(), "the client sees the abort: {:?}", ran.run);
    // A RESTORE that reads everything still ends normally.
    let ran = restore(&server, &media, 2, "RESTORE VERIFYONLY FROM {devices}");
    assert!(
        ran.text.contains("The backup set on file 1 is valid."),
        "{}",
        ran.text
    );
    assert!(ran.run.clean(), "{:?}", ran.run);
}

#[test]
fn headeronly_and_filelistonly_need_every_family_labelonly_does_not() {
    let server = Server::start("headers-families");
    let media = server.dir.join("media-4");
    backup(&server, &media, 4, BACKUP).ok();
    for what in ["HEADERONLY", "FILELISTONLY"] {
        let ran = restore(
            &server,
            &media,
            2,
            &format!("RESTORE {what} FROM {{devices}}"),
        );
        assert_eq!(ran.errors(), vec![3132, 3013], "{what}: {}", ran.text);
        assert!(
            ran.text
                .contains("The media set has 4 media families but only 2 are provided."),
            "{}",
            ran.text
        );
    }
    let ran = restore(&server, &media, 1, "RESTORE LABELONLY FROM {devices}");
    assert!(ran.errors().is_empty(), "{}", ran.text);
    assert!(ran.text.contains("weekly"), "{}", ran.text);
}
