use super::*;
use crate::value::DateTime;

#[test]
fn every_option_round_trips_through_its_keyword() {
    for (name, keyword) in ALL {
        assert_eq!(OptionName::from_word(&keyword.to_lowercase()), Some(*name));
        assert_eq!(name.keyword(), *keyword);
    }
    assert_eq!(OptionName::from_word("COMPRESS"), None);
}

#[test]
fn block_size_rules() {
    for ok in [512, 1024, 4096, 65_536] {
        assert_eq!(
            validate_integer(OptionName::BlockSize, ok, 1),
            Ok(ok as u32)
        );
    }
    let number = |v| {
        validate_integer(OptionName::BlockSize, v, 1)
            .unwrap_err()
            .number
    };
    assert_eq!(number(256), 3250);
    assert_eq!(number(131_072), 3250);
    assert_eq!(number(1000), 3253);
}

#[test]
fn max_transfer_size_rules() {
    assert!(validate_integer(OptionName::MaxTransferSize, 65_536, 1).is_ok());
    assert!(validate_integer(OptionName::MaxTransferSize, 4_194_304, 1).is_ok());
    let number = |v| {
        validate_integer(OptionName::MaxTransferSize, v, 1)
            .unwrap_err()
            .number
    };
    assert_eq!(number(4_259_840), 3250);
    assert_eq!(number(100_000), 3217);
}

#[test]
fn counts_and_stats_ranges() {
    assert!(validate_integer(OptionName::BufferCount, 1, 1).is_ok());
    assert!(validate_integer(OptionName::BufferCount, 4096, 1).is_ok());
    assert!(validate_integer(OptionName::BufferCount, 0, 1).is_err());
    assert!(validate_integer(OptionName::BufferCount, 4097, 1).is_err());
    assert!(validate_integer(OptionName::Stats, 100, 1).is_ok());
    assert!(validate_integer(OptionName::Stats, 101, 1).is_err());
    assert!(validate_integer(OptionName::File, 0, 1).is_err());
    assert!(validate_integer(OptionName::File, -3, 1).is_err());
    assert!(validate_integer(OptionName::RetainDays, 0, 1).is_ok());
    assert!(validate_integer(OptionName::RetainDays, -1, 1).is_err());
}

#[test]
fn statement_kinds_take_their_options() {
    use OptionContext as C;
    use OptionName as N;
    assert!(N::Differential.allowed_in(C::BackupDatabase));
    assert!(!N::Differential.allowed_in(C::BackupLog));
    assert!(!N::Differential.allowed_in(C::RestoreDatabase));
    assert!(!N::Replace.allowed_in(C::BackupDatabase));
    assert!(N::Replace.allowed_in(C::RestoreDatabase));
    assert!(N::NoRecovery.allowed_in(C::BackupLog));
    assert!(!N::Recovery.allowed_in(C::BackupLog));
    assert!(!N::NoRecovery.allowed_in(C::BackupDatabase));
    assert!(N::Move.allowed_in(C::VerifyOnly));
    assert!(!N::Stats.allowed_in(C::Information));
    assert!(!N::File.allowed_in(C::LabelOnly));
    assert!(N::BlockSize.allowed_in(C::LabelOnly));
    assert!(N::Partial.allowed_in(C::RestoreDatabase));
    assert!(!N::Partial.allowed_in(C::RestoreLog));
    assert!(N::LoadHistory.allowed_in(C::VerifyOnly));
    assert!(!N::LoadHistory.allowed_in(C::RestoreDatabase));
    assert!(N::StopAtMark.allowed_in(C::RestoreLog));
    assert!(
        !N::Password.allowed_in(C::BackupDatabase),
        "discontinued for BACKUP"
    );
    assert!(N::Password.allowed_in(C::Information));
    assert!(N::RetainDays.allowed_in(C::BackupLog));
}

#[test]
fn every_option_but_file_snapshot_is_usable_somewhere() {
    use OptionContext as C;
    let contexts = [
        C::BackupDatabase,
        C::BackupLog,
        C::RestoreDatabase,
        C::RestoreLog,
        C::VerifyOnly,
        C::Information,
        C::LabelOnly,
    ];
    for (name, keyword) in ALL {
        let usable = contexts.iter().any(|c| name.allowed_in(*c));
        assert_eq!(usable, *name != OptionName::FileSnapshot, "{keyword}");
    }
}

#[test]
fn repeats_and_conflicts() {
    let mut list = OptionList::default();
    list.push(OptionName::Init, OptionValue::None, 1).unwrap();
    assert_eq!(
        list.push(OptionName::Init, OptionValue::None, 1)
            .unwrap_err()
            .number,
        59003
    );
    let err = list
        .push(OptionName::NoInit, OptionValue::None, 1)
        .unwrap_err();
    assert_eq!(err.number, 3031);
    assert!(
        err.text
            .starts_with("Option 'NOINIT' conflicts with option(s) 'INIT'.")
    );
    let mv = |l: &str| {
        OptionValue::Move(FileMove {
            logical_name: l.into(),
            physical_name: "p".into(),
        })
    };
    list.push(OptionName::Move, mv("a"), 1).unwrap();
    list.push(OptionName::Move, mv("b"), 1).unwrap();
    // COPY_ONLY with DIFFERENTIAL is no conflict: SQL Server ignores COPY_ONLY then.
    list.push(OptionName::CopyOnly, OptionValue::None, 1)
        .unwrap();
    list.push(OptionName::Differential, OptionValue::None, 1)
        .unwrap();
    let mut stops = OptionList::default();
    stops
        .push(
            OptionName::StopAt,
            OptionValue::Text("2024-01-01".into()),
            1,
        )
        .unwrap();
    let mark = OptionValue::Mark {
        mark: "m".into(),
        after: None,
    };
    assert_eq!(
        stops
            .push(OptionName::StopAtMark, mark, 1)
            .unwrap_err()
            .number,
        3031
    );
}

fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, fraction: u64) -> DateTime {
    DateTime::from_parts(y, mo, d, h, mi, s, fraction).unwrap()
}

#[test]
fn datetimes_in_every_us_english_form() {
    let cases = [
        (
            "2026-11-25 09:30:15.25",
            dt(2026, 11, 25, 9, 30, 15, 2_500_000),
        ),
        ("2024-05-01T10:30:00", dt(2024, 5, 1, 10, 30, 0, 0)),
        (
            "2024-05-01T10:30:00.1234567",
            dt(2024, 5, 1, 10, 30, 0, 1_234_567),
        ),
        ("20240229", dt(2024, 2, 29, 0, 0, 0, 0)),
        ("20240229 23:59", dt(2024, 2, 29, 23, 59, 0, 0)),
        ("Apr 15, 2020 12:00 AM", dt(2020, 4, 15, 0, 0, 0, 0)),
        ("April 15, 2020 1:05 PM", dt(2020, 4, 15, 13, 5, 0, 0)),
        ("15 April 2020", dt(2020, 4, 15, 0, 0, 0, 0)),
        ("05/01/2024 10:30 PM", dt(2024, 5, 1, 22, 30, 0, 0)),
        ("2024-05-01 10:30:00 +02:00", dt(2024, 5, 1, 10, 30, 0, 0)),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_datetime(text, 1), Ok(expected), "{text}");
    }
    for bad in ["2023-02-29", "2026-13-01", "yesterday", "2026-01-01 24:00"] {
        let err = parse_datetime(bad, 7).unwrap_err();
        assert_eq!((err.number, err.line), (241, 7), "{bad}");
    }
}

#[test]
fn times_of_day() {
    assert_eq!(parse_time_of_day("00:00:05"), Some((0, 0, 5, 0)));
    assert_eq!(parse_time_of_day("1:02"), Some((1, 2, 0, 0)));
    assert_eq!(parse_time_of_day("00:00:01.5"), Some((0, 0, 1, 500)));
    assert_eq!(parse_time_of_day("00:60:00"), None);
    assert_eq!(parse_time_of_day("5"), None);
    assert_eq!(parse_time_of_day("00:00.5"), None);
}

#[test]
fn keep_replication_and_keep_cdc_exclude_norecovery_in_either_order() {
    for keep in [OptionName::KeepReplication, OptionName::KeepCdc] {
        let mut list = OptionList::default();
        list.push(keep, OptionValue::None, 1).unwrap();
        let err = list
            .push(OptionName::NoRecovery, OptionValue::None, 1)
            .unwrap_err();
        assert_eq!(err.number, 3031, "{}", err.text);
        let mut list = OptionList::default();
        list.push(OptionName::NoRecovery, OptionValue::None, 1)
            .unwrap();
        let err = list.push(keep, OptionValue::None, 1).unwrap_err();
        assert!(
            err.text.starts_with(&format!(
                "Option '{}' conflicts with option(s) 'NORECOVERY'.",
                keep.keyword()
            )),
            "{}",
            err.text
        );
        // With RECOVERY or STANDBY they are fine.
        let mut list = OptionList::default();
        list.push(OptionName::Standby, OptionValue::Text("u".into()), 1)
            .unwrap();
        list.push(keep, OptionValue::None, 1).unwrap();
    }
}
