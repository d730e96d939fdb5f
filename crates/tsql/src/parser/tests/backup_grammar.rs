//! The rest of SQL Server 2022's BACKUP/RESTORE grammar: files and filegroups, every WITH
//! option added for issue 16, marks and the date forms of STOPAT.

use super::*;
use crate::value::DateTime;

const BK: &str = "BACKUP DATABASE db TO VIRTUAL_DEVICE = 'set'";
const RS: &str = "RESTORE DATABASE db FROM VIRTUAL_DEVICE = 'set'";
const RL: &str = "RESTORE LOG db FROM VIRTUAL_DEVICE = 'set'";

#[test]
fn file_and_filegroup_backups() {
    let b = backup(
        "BACKUP DATABASE Sales FILE = 'SalesData1', FILEGROUP = N'Archive', FILE = SalesData2 \
         TO VIRTUAL_DEVICE = 'v'",
    );
    assert_eq!(b.files.files, ["SalesData1", "SalesData2"]);
    assert_eq!(b.files.filegroups, ["Archive"]);
    assert!(!b.files.read_write_filegroups && !b.files.is_whole_database());
    let b = backup(
        "BACKUP DATABASE Sales READ_WRITE_FILEGROUPS, FILEGROUP = 'ro' TO VIRTUAL_DEVICE = 'v'",
    );
    assert!(b.files.read_write_filegroups);
    assert_eq!(b.files.filegroups, ["ro"]);
    assert!(backup(BK).files.is_whole_database());
    let b = backup("BACKUP DATABASE db FILEGROUP = @fg TO VIRTUAL_DEVICE = 'v'");
    assert_eq!(
        b.variables,
        [VariableSlot {
            slot: Slot::Filegroup(0),
            variable: "@fg".into()
        }]
    );
    // A log backup has no file list; PAGE is for RESTORE.
    assert_eq!(
        err_number("BACKUP LOG db FILE = 'x' TO VIRTUAL_DEVICE = 'v'"),
        156
    );
    assert_eq!(
        err_number("BACKUP DATABASE db PAGE = '1:2' TO VIRTUAL_DEVICE = 'v'"),
        102
    );
}

#[test]
fn file_filegroup_and_page_restores() {
    let r = restore(
        "RESTORE DATABASE Sales FILEGROUP = 'PRIMARY', FILEGROUP = 'fg2' FROM VIRTUAL_DEVICE = 'v' \
         WITH PARTIAL, NORECOVERY",
    );
    assert_eq!(r.files.filegroups, ["PRIMARY", "fg2"]);
    assert!(r.options.partial);
    let r = restore(
        "RESTORE DATABASE db PAGE = '1:57, 1:202' FROM VIRTUAL_DEVICE = 'v' WITH NORECOVERY",
    );
    assert_eq!(r.files.pages.as_deref(), Some("1:57, 1:202"));
    let r = restore("RESTORE LOG db FILE = 'f1' FROM VIRTUAL_DEVICE = 'v'");
    assert_eq!(r.files.files, ["f1"]);
    let r =
        restore("RESTORE DATABASE db READ_WRITE_FILEGROUPS FROM VIRTUAL_DEVICE = 'v' WITH PARTIAL");
    assert!(r.files.read_write_filegroups);
    assert_eq!(err_number(&format!("{RL} WITH PARTIAL")), 3032);
}

#[test]
fn options_refused_before_issue_16_are_accepted() {
    let o = restore(&format!(
        "{RS} WITH KEEP_REPLICATION, KEEP_CDC, RESTRICTED_USER, NEW_BROKER, RESTART, \
         FILESTREAM (DIRECTORY_NAME = fsdir), CREDENTIAL = cred, PASSWORD = 'p', MEDIAPASSWORD = 'mp'"
    ))
    .options;
    assert!(o.keep_replication && o.keep_cdc && o.restricted_user && o.restart);
    assert_eq!(o.broker, Some(BrokerOption::New));
    assert_eq!(o.filestream_directory.as_deref(), Some("fsdir"));
    assert_eq!(o.credential.as_deref(), Some("cred"));
    assert_eq!(o.password.as_deref(), Some("p"));
    assert_eq!(o.media_password.as_deref(), Some("mp"));
    assert!(
        restore("RESTORE VERIFYONLY FROM VIRTUAL_DEVICE = 'v' WITH LOADHISTORY")
            .options
            .load_history
    );
    assert_eq!(
        err_number(&format!("{RS} WITH ENABLE_BROKER, NEW_BROKER")),
        3031
    );
    let b = backup(&format!(
        "{BK} WITH RETAINDAYS = 7, MEDIADESCRIPTION = N'weekly', EXPIREDATE = '2030-01-01', RESTART"
    ))
    .options;
    assert_eq!(b.retain_days, Some(7));
    assert_eq!(b.media_description.as_deref(), Some("weekly"));
    assert_eq!(b.expire_date, DateTime::from_parts(2030, 1, 1, 0, 0, 0, 0));
    assert_eq!(err_number(&format!("{BK} WITH EXPIREDATE = 'never'")), 241);
    assert_eq!(err_number(&format!("{BK} WITH PASSWORD = 'x'")), 3032);
}

#[test]
fn compression_and_encryption_clauses() {
    let o = backup(&format!("{BK} WITH COMPRESSION (ALGORITHM = QAT_DEFLATE)")).options;
    assert_eq!(o.compression, Some(true));
    assert_eq!(o.compression_algorithm.as_deref(), Some("QAT_DEFLATE"));
    let o = backup(&format!("{BK} WITH COMPRESSION, STATS")).options;
    assert_eq!(o.compression_algorithm, None);
    assert_eq!(
        err_number(&format!("{BK} WITH COMPRESSION (ALGORITHM = ZSTD)")),
        3217
    );
    let o = backup(&format!(
        "{BK} WITH ENCRYPTION (ALGORITHM = AES_256, SERVER CERTIFICATE = BackupCert)"
    ))
    .options;
    let e = o.encryption.unwrap();
    assert_eq!(
        (
            e.algorithm.as_str(),
            e.encryptor_type.as_str(),
            e.encryptor.as_str()
        ),
        ("AES_256", "CERTIFICATE", "BackupCert")
    );
    let o = backup(&format!(
        "{BK} WITH ENCRYPTION (ALGORITHM = aes_128, SERVER ASYMMETRIC KEY = k)"
    ))
    .options;
    assert_eq!(o.encryption.unwrap().encryptor_type, "ASYMMETRIC KEY");
    assert_eq!(
        err_number(&format!("{BK} WITH ENCRYPTION (ALGORITHM = AES_256)")),
        102
    );
}

#[test]
fn marks_with_names_lsns_and_after() {
    let o = restore(&format!("{RL} WITH STOPATMARK = 'nightly'")).options;
    assert_eq!(
        o.stop,
        Some(StopPoint::AtMark {
            mark: "nightly".into(),
            after: None
        })
    );
    let o = restore(&format!(
        "{RL} WITH STOPBEFOREMARK = N'lsn:15000000040000037' AFTER 'Apr 15, 2020 12:00 AM', NORECOVERY"
    ))
    .options;
    assert_eq!(
        o.stop,
        Some(StopPoint::BeforeMark {
            mark: "lsn:15000000040000037".into(),
            after: DateTime::from_parts(2020, 4, 15, 0, 0, 0, 0)
        })
    );
    let r = restore(&format!("{RL} WITH STOPATMARK = @m AFTER @t"));
    assert_eq!(
        r.variables,
        [
            VariableSlot {
                slot: Slot::Option("STOPATMARK".into()),
                variable: "@m".into()
            },
            VariableSlot {
                slot: Slot::Option("AFTER".into()),
                variable: "@t".into()
            }
        ]
    );
    assert!(matches!(r.options.stop, Some(StopPoint::AtMark { .. })));
    assert_eq!(
        err_number(&format!("{RL} WITH STOPATMARK = 'm' AFTER 'not a date'")),
        241
    );
    assert_eq!(
        err_number(&format!(
            "{RL} WITH STOPAT = '2024-01-01', STOPBEFOREMARK = 'm'"
        )),
        3031
    );
}

#[test]
fn stopat_takes_every_us_english_date_form() {
    for text in [
        "2024-05-01 10:30:00",
        "2024-05-01T10:30:00.123",
        "20240501 10:30",
        "05/01/2024 10:30 AM",
        "May 1, 2024 10:30 AM",
        "1 May 2024 10:30",
    ] {
        let o = restore(&format!("{RL} WITH STOPAT = N'{text}'")).options;
        let Some(StopPoint::At(at)) = o.stop else {
            panic!("{text}: {:?}", o.stop);
        };
        assert_eq!(
            (at.year(), at.month(), at.day(), at.hour(), at.minute()),
            (2024, 5, 1, 10, 30),
            "{text}"
        );
    }
}

#[test]
fn snapshot_and_metadata_only_are_database_options() {
    assert!(backup(&format!("{BK} WITH METADATA_ONLY")).options.snapshot);
    assert!(
        restore(&format!("{RS} WITH SNAPSHOT, NORECOVERY"))
            .options
            .snapshot
    );
    assert_eq!(err_number(&format!("{RL} WITH SNAPSHOT")), 3032);
    assert_eq!(
        err_number("BACKUP LOG db TO VIRTUAL_DEVICE = 'set' WITH SNAPSHOT"),
        3032
    );
    assert_eq!(err_number(&format!("{BK} WITH FILE_SNAPSHOT")), 3032);
}

#[test]
fn variables_are_checked_as_literals_when_substituted() {
    let mut b = backup(&format!(
        "{BK} WITH BLOCKSIZE = @b, RETAINDAYS = @r, EXPIREDATE = @e"
    ));
    let slots = std::mem::take(&mut b.variables);
    b.substitute(&slots[0].slot, Some("1000".into()), 3)
        .unwrap_err();
    let e = b
        .substitute(&slots[0].slot, Some("1000".into()), 3)
        .unwrap_err();
    assert_eq!((e.number, e.line), (3253, 3));
    b.substitute(&slots[0].slot, Some("4096".into()), 3)
        .unwrap();
    assert_eq!(b.options.transfer.block_size, Some(4096));
    b.substitute(&slots[1].slot, Some("30".into()), 3).unwrap();
    assert_eq!(b.options.retain_days, Some(30));
    assert_eq!(
        b.substitute(&slots[2].slot, Some("soon".into()), 3)
            .unwrap_err()
            .number,
        241
    );
    let mut r = restore(&format!("{RL} WITH STOPAT = @t"));
    let slot = r.variables[0].slot.clone();
    r.substitute(&slot, Some("Apr 15, 2020 12:00 AM".into()), 1)
        .unwrap();
    assert_eq!(
        r.options.stop,
        Some(StopPoint::At(
            DateTime::from_parts(2020, 4, 15, 0, 0, 0, 0).unwrap()
        ))
    );
}

#[test]
fn server_configuration_suspends_a_group() {
    let statements = crate::parser::parse_batch(
        "ALTER SERVER CONFIGURATION SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON (GROUP = (a, [b]), MODE = COPY_ONLY)",
        1,
    )
    .unwrap();
    assert_eq!(
        statements[0].kind,
        crate::ast::StatementKind::SuspendForSnapshot {
            on: true,
            group: vec!["a".into(), "b".into()],
            copy_only: true
        }
    );
    let off = crate::parser::parse_batch(
        "ALTER SERVER CONFIGURATION SET SUSPEND_FOR_SNAPSHOT_BACKUP = OFF",
        1,
    )
    .unwrap();
    assert!(matches!(
        off[0].kind,
        crate::ast::StatementKind::SuspendForSnapshot { on: false, .. }
    ));
}
