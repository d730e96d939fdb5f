//! BACKUP and RESTORE: one or more tests per statement form and per WITH option, valid and
//! invalid.

use super::*;

const BK: &str = "BACKUP DATABASE db TO VIRTUAL_DEVICE = 'set'";
const RS: &str = "RESTORE DATABASE db FROM VIRTUAL_DEVICE = 'set'";

fn backup_with(options: &str) -> BackupOptions {
    backup(&format!("{BK} WITH {options}")).options
}

fn restore_with(options: &str) -> RestoreOptions {
    restore(&format!("{RS} WITH {options}")).options
}

// ---- BACKUP ------------------------------------------------------------------------------

#[test]
fn backup_database_minimal() {
    let b = backup("backup database Sales to virtual_device = 'vds1'");
    assert_eq!(b.kind, BackupKind::Database);
    assert_eq!(b.database, "Sales");
    assert_eq!(b.devices, ["vds1"]);
    assert_eq!(b.set_name(), "vds1");
    assert_eq!(b.options, BackupOptions::default());
    assert_eq!(b.operation(), Operation::BackupDatabase);
}

#[test]
fn backup_log_and_names_in_every_form() {
    let b = backup("BACKUP LOG [my db]] x] TO VIRTUAL_DEVICE = N'ü'");
    assert_eq!(b.kind, BackupKind::Log);
    assert_eq!(b.database, "my db] x");
    assert_eq!(b.devices, ["ü"]);
    assert_eq!(b.operation(), Operation::BackupLog);
    assert_eq!(
        backup("BACKUP DATABASE 'a b' TO VIRTUAL_DEVICE='s'").database,
        "a b"
    );
    assert_eq!(
        backup("BACKUP DATABASE \"q\" TO VIRTUAL_DEVICE='s'").database,
        "q"
    );
}

#[test]
fn backup_striped_devices_keep_their_order() {
    let b = backup(
        "BACKUP DATABASE db TO VIRTUAL_DEVICE='s', VIRTUAL_DEVICE='s1',\nVIRTUAL_DEVICE=N's2'",
    );
    assert_eq!(b.devices, ["s", "s1", "s2"]);
    assert_eq!(b.set_name(), "s");
}

fn device_list(n: usize) -> String {
    (0..n)
        .map(|i| format!("VIRTUAL_DEVICE='d{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn sixty_four_devices_are_allowed_and_sixty_five_are_3205() {
    let ok = backup(&format!("BACKUP DATABASE db TO {}", device_list(64)));
    assert_eq!(ok.devices.len(), 64);
    let e = err(&format!("BACKUP DATABASE db TO {}", device_list(65)));
    assert_eq!((e.number, e.level), (3205, 16));
    let e = err(&format!("RESTORE DATABASE db FROM {}", device_list(65)));
    assert_eq!(e.number, 3205);
}

#[test]
fn device_names_are_checked_when_the_statement_runs() {
    // Duplicates, empty and long names parse; the job refuses them (3201, 3044, 3057).
    let b =
        backup("BACKUP DATABASE db TO VIRTUAL_DEVICE='a', VIRTUAL_DEVICE='b', VIRTUAL_DEVICE='a'");
    assert_eq!(b.devices, ["a", "b", "a"]);
    assert_eq!(
        backup("BACKUP DATABASE db TO VIRTUAL_DEVICE=''").devices,
        [""]
    );
}

#[test]
fn other_device_types_are_kept_for_the_run_time_checks() {
    let b = backup("BACKUP DATABASE db TO DISK = 'x.bak', VIRTUAL_DEVICE = 'v'");
    assert_eq!(b.devices, ["v"]);
    assert_eq!(
        b.other_devices,
        [OtherDevice {
            kind: DeviceType::Disk,
            name: "x.bak".into()
        }]
    );
    let r = restore("RESTORE DATABASE db FROM url = 'x', TAPE = N'\\\\.\\tape0', MyDevice");
    let kinds: Vec<DeviceType> = r.other_devices.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        [DeviceType::Url, DeviceType::Tape, DeviceType::Logical]
    );
    assert_eq!(r.other_devices[2].name, "MyDevice");
    let b = backup("BACKUP LOG db TO @device");
    assert_eq!(b.variables, [slot(Slot::OtherDevice(0), "@device")]);
    // 64 devices of any kind.
    let mixed = format!("BACKUP DATABASE db TO {}, DISK='d'", device_list(64));
    assert_eq!(err_number(&mixed), 3205);
}

#[test]
fn backup_syntax_errors() {
    assert_eq!(err_number("BACKUP TABLE db TO VIRTUAL_DEVICE='a'"), 156);
    assert_eq!(err_number("BACKUP DATABASE db VIRTUAL_DEVICE='a'"), 102);
    assert_eq!(err_number("BACKUP DATABASE db TO VIRTUAL_DEVICE 'a'"), 102);
    assert_eq!(err_number("BACKUP DATABASE db TO VIRTUAL_DEVICE = a"), 102);
    assert_eq!(
        err_number("BACKUP DATABASE select TO VIRTUAL_DEVICE='a'"),
        156
    );
    assert_eq!(err_number("BACKUP DATABASE db TO VIRTUAL_DEVICE='a',"), 102);
    let e = err("BACKUP DATABASE db TO");
    assert_eq!(
        (e.number, e.text.as_str()),
        (156, "Incorrect syntax near the keyword 'TO'.")
    );
}

#[test]
fn backup_transfer_options() {
    let o = backup_with("BLOCKSIZE = 65536, MAXTRANSFERSIZE = 1048576, BUFFERCOUNT = 10");
    assert_eq!(
        o.transfer,
        TransferOptions {
            block_size: Some(65536),
            max_transfer_size: Some(1_048_576),
            buffer_count: Some(10),
        }
    );
}

#[test]
fn bad_numeric_values() {
    assert_eq!(err_number(&format!("{BK} WITH BLOCKSIZE = 1000")), 3253);
    assert_eq!(err_number(&format!("{BK} WITH BLOCKSIZE = 256")), 3250);
    assert_eq!(err_number(&format!("{BK} WITH BLOCKSIZE = -512")), 3250);
    assert_eq!(
        err_number(&format!("{BK} WITH BLOCKSIZE = 99999999999999999999")),
        8115
    );
    assert_eq!(
        err_number(&format!("{BK} WITH MAXTRANSFERSIZE = 65537")),
        3217
    );
    assert_eq!(
        err_number(&format!("{BK} WITH MAXTRANSFERSIZE = 8388608")),
        3250
    );
    assert_eq!(err_number(&format!("{BK} WITH BUFFERCOUNT = 0")), 3250);
    assert_eq!(err_number(&format!("{BK} WITH STATS = 0")), 3250);
    assert_eq!(err_number(&format!("{BK} WITH STATS = 101")), 3250);
    assert_eq!(err_number(&format!("{RS} WITH FILE = 0")), 3250);
    assert_eq!(err_number(&format!("{BK} WITH BLOCKSIZE 512")), 102);
    assert_eq!(err_number(&format!("{BK} WITH BLOCKSIZE = 'x'")), 102);
    let e = err(&format!("{BK} WITH BLOCKSIZE = 100"));
    assert_eq!(
        e.text,
        "The value '100' is not within range for the BLOCKSIZE parameter."
    );
}

#[test]
fn backup_switches() {
    let o = backup_with(
        "FORMAT, INIT, SKIP, COMPRESSION, CHECKSUM, CONTINUE_AFTER_ERROR, UNLOAD, REWIND, COPY_ONLY",
    );
    assert_eq!(o.format, Some(true));
    assert_eq!(o.init, Some(true));
    assert_eq!(o.skip, Some(true));
    assert_eq!(o.compression, Some(true));
    assert_eq!(o.checksum, Some(true));
    assert_eq!(o.continue_after_error, Some(true));
    assert_eq!(o.unload, Some(true));
    assert_eq!(o.rewind, Some(true));
    assert!(o.copy_only);
    let o = backup_with(
        "noformat, noinit, noskip, no_compression, no_checksum, stop_on_error, nounload, norewind",
    );
    assert_eq!(o.format, Some(false));
    assert_eq!(o.init, Some(false));
    assert_eq!(o.skip, Some(false));
    assert_eq!(o.compression, Some(false));
    assert_eq!(o.checksum, Some(false));
    assert_eq!(o.continue_after_error, Some(false));
    assert_eq!(o.unload, Some(false));
    assert_eq!(o.rewind, Some(false));
    assert!(!o.copy_only);
}

#[test]
fn backup_texts_and_stats() {
    let o = backup_with("NAME = N'Full', DESCRIPTION = 'nightly', MEDIANAME = media1, STATS");
    assert_eq!(o.name.as_deref(), Some("Full"));
    assert_eq!(o.description.as_deref(), Some("nightly"));
    assert_eq!(o.media_name.as_deref(), Some("media1"));
    assert_eq!(o.stats, Some(10));
    assert_eq!(backup_with("STATS = 5").stats, Some(5));
    assert_eq!(err_number(&format!("{BK} WITH DESCRIPTION = nightly")), 102);
}

#[test]
fn differential_backup() {
    let b = backup(&format!("{BK} WITH DIFFERENTIAL"));
    assert!(b.options.differential);
    assert_eq!(b.operation(), Operation::BackupDatabaseDifferential);
    let e = err("BACKUP LOG db TO VIRTUAL_DEVICE='a' WITH DIFFERENTIAL");
    assert_eq!(e.number, 3032);
    assert!(e.text.contains("(DIFFERENTIAL)"));
    // SQL Server accepts COPY_ONLY with DIFFERENTIAL and ignores COPY_ONLY.
    let o = backup_with("COPY_ONLY, DIFFERENTIAL");
    assert!(o.copy_only && o.differential);
}

#[test]
fn tail_log_backup_options() {
    let b = backup("BACKUP LOG db TO VIRTUAL_DEVICE='a' WITH NORECOVERY, NO_TRUNCATE");
    assert_eq!(b.options.recovery, Some(RecoveryOption::NoRecovery));
    assert!(b.options.no_truncate);
    let b = backup("BACKUP LOG db TO VIRTUAL_DEVICE='a' WITH STANDBY = 'undo.ldf'");
    assert_eq!(
        b.options.recovery,
        Some(RecoveryOption::Standby("undo.ldf".into()))
    );
    assert_eq!(err_number(&format!("{BK} WITH NORECOVERY")), 3032);
    assert_eq!(
        err_number("BACKUP LOG db TO VIRTUAL_DEVICE='a' WITH RECOVERY"),
        3032
    );
}

#[test]
fn restore_only_options_on_backup_are_3032_listing_all() {
    let e = err(&format!("{BK} WITH REPLACE, INIT, FILE = 1"));
    assert_eq!(e.number, 3032);
    assert_eq!(
        e.text,
        "One or more of the options (REPLACE, FILE) are not supported for this statement. Review the documentation for supported options."
    );
}

#[test]
fn unknown_options_are_155() {
    let e = err(&format!("{BK} WITH COMPRESS"));
    assert_eq!(e.number, 155);
    assert_eq!(e.text, "'COMPRESS' is not a recognized BACKUP option.");
    let e = err(&format!("{RS} WITH FOO = 1"));
    assert_eq!(e.text, "'FOO' is not a recognized RESTORE option.");
    assert_eq!(err_number(&format!("{BK} WITH")), 156);
    assert_eq!(err_number(&format!("{BK} WITH INIT,")), 102);
    assert_eq!(err_number(&format!("{BK} WITH 'INIT'")), 102);
}

#[test]
fn conflicts_are_3031() {
    for (a, b) in [
        ("FORMAT", "NOFORMAT"),
        ("INIT", "NOINIT"),
        ("SKIP", "NOSKIP"),
        ("COMPRESSION", "NO_COMPRESSION"),
        ("CHECKSUM", "NO_CHECKSUM"),
        ("CONTINUE_AFTER_ERROR", "STOP_ON_ERROR"),
        ("UNLOAD", "NOUNLOAD"),
        ("REWIND", "NOREWIND"),
    ] {
        let e = err(&format!("{BK} WITH {a}, {b}"));
        assert_eq!(e.number, 3031, "{a} {b}");
        assert_eq!(
            e.text,
            format!(
                "Option '{b}' conflicts with option(s) '{a}'. Remove the conflicting option and reissue the statement."
            )
        );
    }
    assert_eq!(err_number(&format!("{RS} WITH RECOVERY, NORECOVERY")), 3031);
    assert_eq!(
        err_number(&format!("{RS} WITH STANDBY = 'u', RECOVERY")),
        3031
    );
}

#[test]
fn repeated_options_are_59003() {
    let e = err(&format!("{BK} WITH BLOCKSIZE = 512, BLOCKSIZE = 512"));
    assert_eq!(e.number, 59003);
    assert!(e.text.contains("'BLOCKSIZE'"));
}

#[test]
fn snapshot_is_parsed_and_refuses_what_it_cannot_honour() {
    assert!(backup_with("SNAPSHOT, COPY_ONLY").snapshot);
    assert!(!backup_with("COPY_ONLY").snapshot);
    assert!(restore_with("SNAPSHOT, REPLACE, NORECOVERY").snapshot);
    let e = err(&format!("{BK} WITH SNAPSHOT, DIFFERENTIAL, COMPRESSION"));
    assert_eq!((e.number, e.level), (3032, 16));
    assert!(e.text.contains("(DIFFERENTIAL, COMPRESSION)"), "{}", e.text);
}

#[test]
fn semantic_errors_carry_the_statement_line() {
    let e = parse_batch(&format!("PRINT 'x'\n\n{BK}\nWITH INIT,\nBLOCKSIZE = 3"), 1).unwrap_err();
    assert_eq!((e.number, e.line), (3250, 3));
}

// ---- RESTORE ------------------------------------------------------------------------------

#[test]
fn restore_database_with_options() {
    let r = restore(&format!(
        "{RS} WITH REPLACE, NORECOVERY, MOVE 'db' TO '/data/db.mdf', MOVE N'db_log' TO N'/data/db.ldf', FILE = 2, STATS = 25, CHECKSUM"
    ));
    assert_eq!(r.kind, RestoreKind::Database);
    assert_eq!(r.database.as_deref(), Some("db"));
    assert_eq!(r.set_name(), Some("set"));
    assert_eq!(r.operation(), Operation::RestoreDatabase);
    let o = &r.options;
    assert!(o.replace);
    assert_eq!(o.recovery, Some(RecoveryOption::NoRecovery));
    assert_eq!(
        o.moves,
        [
            FileMove {
                logical_name: "db".into(),
                physical_name: "/data/db.mdf".into()
            },
            FileMove {
                logical_name: "db_log".into(),
                physical_name: "/data/db.ldf".into()
            }
        ]
    );
    assert_eq!(o.file, Some(2));
    assert_eq!(o.stats, Some(25));
    assert_eq!(o.checksum, Some(true));
}

#[test]
fn restore_log_with_stopat_and_standby() {
    let r = restore(
        "RESTORE LOG db FROM VIRTUAL_DEVICE='s' WITH STOPAT = '2026-11-25 08:00:00', STANDBY = '/u'",
    );
    assert_eq!(r.kind, RestoreKind::Log);
    assert_eq!(r.operation(), Operation::RestoreLog);
    let Some(StopPoint::At(at)) = r.options.stop else {
        panic!("{:?}", r.options.stop);
    };
    assert_eq!(
        (at.year(), at.month(), at.day(), at.hour()),
        (2026, 11, 25, 8)
    );
    assert_eq!(
        r.options.recovery,
        Some(RecoveryOption::Standby("/u".into()))
    );
    assert_eq!(err_number(&format!("{RS} WITH STOPAT = 'soon'")), 241);
    assert_eq!(err_number(&format!("{RS} WITH STOPAT = 5")), 102);
}

#[test]
fn restore_with_recovery_only_has_no_devices() {
    let r = restore("RESTORE DATABASE db WITH RECOVERY");
    assert!(r.devices.is_empty());
    assert_eq!(r.set_name(), None);
    assert_eq!(r.options.recovery, Some(RecoveryOption::Recovery));
    assert!(restore("RESTORE LOG db").devices.is_empty());
    assert_eq!(err_number("RESTORE VERIFYONLY WITH FILE = 1"), 156);
}

#[test]
fn restore_information_kinds() {
    for (word, kind) in [
        ("VERIFYONLY", RestoreKind::VerifyOnly),
        ("HEADERONLY", RestoreKind::HeaderOnly),
        ("FILELISTONLY", RestoreKind::FileListOnly),
        ("LABELONLY", RestoreKind::LabelOnly),
    ] {
        let r = restore(&format!(
            "RESTORE {word} FROM VIRTUAL_DEVICE = 'v' WITH BLOCKSIZE = 4096"
        ));
        assert_eq!(r.kind, kind);
        assert_eq!(r.database, None);
        assert_eq!(r.options.transfer.block_size, Some(4096));
    }
    assert_eq!(
        restore("RESTORE VERIFYONLY FROM VIRTUAL_DEVICE='v' WITH FILE = 1, STATS, MOVE 'a' TO 'b'")
            .options
            .file,
        Some(1)
    );
    assert_eq!(
        restore("RESTORE HEADERONLY FROM VIRTUAL_DEVICE='v' WITH FILE = 3")
            .options
            .file,
        Some(3)
    );
    assert_eq!(
        err_number("RESTORE LABELONLY FROM VIRTUAL_DEVICE='v' WITH FILE = 1"),
        3032
    );
    assert_eq!(
        err_number("RESTORE VERIFYONLY FROM VIRTUAL_DEVICE='v' WITH REPLACE"),
        3032
    );
    assert_eq!(
        err_number("RESTORE HEADERONLY FROM VIRTUAL_DEVICE='v' WITH STATS"),
        3032
    );
    assert_eq!(
        err_number("RESTORE VERIFYONLY db FROM VIRTUAL_DEVICE='v'"),
        102
    );
}

#[test]
fn restore_only_options_are_rejected_on_backup_and_vice_versa() {
    assert_eq!(err_number(&format!("{RS} WITH DIFFERENTIAL")), 3032);
    assert_eq!(err_number(&format!("{RS} WITH INIT")), 3032);
    assert_eq!(err_number(&format!("{RS} WITH COMPRESSION")), 3032);
    assert_eq!(err_number(&format!("{BK} WITH MOVE 'a' TO 'b'")), 3032);
    assert_eq!(
        err_number(&format!("{BK} WITH STOPAT = '2026-01-01'")),
        3032
    );
}

#[test]
fn restore_media_options() {
    let o = restore_with("MEDIANAME = 'm', UNLOAD, NOREWIND, CONTINUE_AFTER_ERROR, NO_CHECKSUM");
    assert_eq!(o.media_name.as_deref(), Some("m"));
    assert_eq!(o.unload, Some(true));
    assert_eq!(o.rewind, Some(false));
    assert_eq!(o.continue_after_error, Some(true));
    assert_eq!(o.checksum, Some(false));
}

#[test]
fn restore_move_needs_to_and_strings() {
    assert_eq!(err_number(&format!("{RS} WITH MOVE 'a' 'b'")), 102);
    assert_eq!(err_number(&format!("{RS} WITH MOVE a TO 'b'")), 102);
    assert_eq!(err_number(&format!("{RS} WITH MOVE 'a' TO")), 156);
}

#[test]
fn restore_syntax_errors() {
    assert_eq!(err_number("RESTORE TABLE t FROM VIRTUAL_DEVICE='a'"), 156);
    assert_eq!(err_number("RESTORE DATABASE db TO VIRTUAL_DEVICE='a'"), 156);
    assert_eq!(err_number("RESTORE HEADERONLY"), 102);
}

// ---- variables ---------------------------------------------------------------------------

fn slot(slot: Slot, variable: &str) -> VariableSlot {
    VariableSlot {
        slot,
        variable: variable.into(),
    }
}

#[test]
fn backup_with_variables_records_slots_and_keeps_defaults() {
    let b = backup(
        "BACKUP DATABASE @db TO VIRTUAL_DEVICE = @dev, VIRTUAL_DEVICE = 'b', VIRTUAL_DEVICE = @dev2 \
         WITH NAME = @name, DESCRIPTION = @d, BLOCKSIZE = @bs, STATS = @s, INIT",
    );
    assert_eq!(b.database, "");
    assert_eq!(b.devices, ["", "b", ""]);
    assert_eq!(
        b.variables,
        [
            slot(Slot::Database, "@db"),
            slot(Slot::Device(0), "@dev"),
            slot(Slot::Device(2), "@dev2"),
            slot(Slot::Option("NAME".into()), "@name"),
            slot(Slot::Option("DESCRIPTION".into()), "@d"),
            slot(Slot::Option("BLOCKSIZE".into()), "@bs"),
            slot(Slot::Option("STATS".into()), "@s"),
        ]
    );
    assert_eq!(b.options.name, None);
    assert_eq!(b.options.description, None);
    assert_eq!(b.options.transfer.block_size, None);
    assert_eq!(b.options.stats, None);
    assert_eq!(b.options.init, Some(true));
    assert_eq!(
        backup("BACKUP LOG db TO VIRTUAL_DEVICE = @a, VIRTUAL_DEVICE = @a").devices,
        ["", ""]
    );
    // The statement's option rules still apply to options given by variable.
    assert_eq!(
        err_number(&format!("{BK} WITH NAME = @a, NAME = @b")),
        59003
    );
    assert_eq!(err_number(&format!("{BK} WITH FILE = @f")), 3032);
    assert_eq!(backup(BK).variables, []);
}

#[test]
fn restore_with_variables() {
    let r = restore(
        "RESTORE DATABASE @db FROM VIRTUAL_DEVICE = @d WITH STOPAT = @t, FILE = @f, \
         MOVE @logical TO '/data/x.mdf', MOVE 'log' TO @physical, STANDBY = @undo",
    );
    assert_eq!(r.database.as_deref(), Some(""));
    assert_eq!(r.devices, [""]);
    assert_eq!(r.options.stop, None);
    assert_eq!(r.options.file, None);
    assert_eq!(
        r.options.recovery,
        Some(RecoveryOption::Standby(String::new())),
        "STANDBY is given; its file comes from the variable"
    );
    assert_eq!(
        r.options.moves,
        [
            FileMove {
                logical_name: String::new(),
                physical_name: "/data/x.mdf".into()
            },
            FileMove {
                logical_name: "log".into(),
                physical_name: String::new()
            }
        ]
    );
    assert_eq!(
        r.variables,
        [
            slot(Slot::Database, "@db"),
            slot(Slot::Device(0), "@d"),
            slot(Slot::Option("STOPAT".into()), "@t"),
            slot(Slot::Option("FILE".into()), "@f"),
            slot(
                Slot::Move {
                    index: 0,
                    physical: false
                },
                "@logical"
            ),
            slot(
                Slot::Move {
                    index: 1,
                    physical: true
                },
                "@physical"
            ),
            slot(Slot::Option("STANDBY".into()), "@undo"),
        ]
    );
    let r = restore("RESTORE HEADERONLY FROM VIRTUAL_DEVICE = @d");
    assert_eq!(r.variables, [slot(Slot::Device(0), "@d")]);
    assert_eq!(
        err_number("RESTORE DATABASE db FROM VIRTUAL_DEVICE = @d WITH STOPAT @t"),
        102
    );
}
