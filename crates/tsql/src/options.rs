//! The WITH options of BACKUP and RESTORE: names, value shapes, which statement takes which,
//! which exclude each other, and the numeric rules.

use crate::ast::{
    BackupOptions, FileMove, RecoveryOption, RestoreOptions, SqlDateTime, TransferOptions,
};
use crate::messages::{self, SqlMessage};

/// The largest BUFFERCOUNT accepted (our choice; SQL Server's limit is memory).
pub const MAX_BUFFER_COUNT: u32 = 4096;
/// The STATS interval when `STATS` has no value.
pub const DEFAULT_STATS: u8 = 10;
/// The most VIRTUAL_DEVICE clauses in one statement.
pub const MAX_DEVICES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionName {
    BlockSize,
    MaxTransferSize,
    BufferCount,
    Format,
    NoFormat,
    Init,
    NoInit,
    Skip,
    NoSkip,
    Compression,
    NoCompression,
    Checksum,
    NoChecksum,
    ContinueAfterError,
    StopOnError,
    CopyOnly,
    Differential,
    Stats,
    Name,
    Description,
    MediaName,
    Replace,
    Recovery,
    NoRecovery,
    Standby,
    Move,
    File,
    StopAt,
    Unload,
    NoUnload,
    Rewind,
    NoRewind,
    NoTruncate,
    Snapshot,
}

/// What follows an option's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Flag,
    /// `= n`
    Integer,
    /// `[= n]`
    OptionalInteger,
    /// `= 'text'`
    Text,
    /// `'logical' TO 'physical'`
    Move,
}

/// The statement a WITH list belongs to; decides which options are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionContext {
    BackupDatabase,
    BackupLog,
    /// RESTORE DATABASE or RESTORE LOG
    Restore,
    VerifyOnly,
    /// HEADERONLY, FILELISTONLY
    Information,
    LabelOnly,
}

impl OptionContext {
    /// The statement word used in 155 "is not a recognized … option".
    pub fn statement_word(self) -> &'static str {
        match self {
            OptionContext::BackupDatabase | OptionContext::BackupLog => "BACKUP",
            _ => "RESTORE",
        }
    }
}

const ALL: &[(OptionName, &str)] = &[
    (OptionName::BlockSize, "BLOCKSIZE"),
    (OptionName::MaxTransferSize, "MAXTRANSFERSIZE"),
    (OptionName::BufferCount, "BUFFERCOUNT"),
    (OptionName::Format, "FORMAT"),
    (OptionName::NoFormat, "NOFORMAT"),
    (OptionName::Init, "INIT"),
    (OptionName::NoInit, "NOINIT"),
    (OptionName::Skip, "SKIP"),
    (OptionName::NoSkip, "NOSKIP"),
    (OptionName::Compression, "COMPRESSION"),
    (OptionName::NoCompression, "NO_COMPRESSION"),
    (OptionName::Checksum, "CHECKSUM"),
    (OptionName::NoChecksum, "NO_CHECKSUM"),
    (OptionName::ContinueAfterError, "CONTINUE_AFTER_ERROR"),
    (OptionName::StopOnError, "STOP_ON_ERROR"),
    (OptionName::CopyOnly, "COPY_ONLY"),
    (OptionName::Differential, "DIFFERENTIAL"),
    (OptionName::Stats, "STATS"),
    (OptionName::Name, "NAME"),
    (OptionName::Description, "DESCRIPTION"),
    (OptionName::MediaName, "MEDIANAME"),
    (OptionName::Replace, "REPLACE"),
    (OptionName::Recovery, "RECOVERY"),
    (OptionName::NoRecovery, "NORECOVERY"),
    (OptionName::Standby, "STANDBY"),
    (OptionName::Move, "MOVE"),
    (OptionName::File, "FILE"),
    (OptionName::StopAt, "STOPAT"),
    (OptionName::Unload, "UNLOAD"),
    (OptionName::NoUnload, "NOUNLOAD"),
    (OptionName::Rewind, "REWIND"),
    (OptionName::NoRewind, "NOREWIND"),
    (OptionName::NoTruncate, "NO_TRUNCATE"),
    (OptionName::Snapshot, "SNAPSHOT"),
];

impl OptionName {
    pub fn from_word(word: &str) -> Option<Self> {
        ALL.iter()
            .find(|(_, k)| k.eq_ignore_ascii_case(word))
            .map(|(n, _)| *n)
    }

    pub fn keyword(self) -> &'static str {
        ALL.iter().find(|(n, _)| *n == self).map_or("?", |(_, k)| k)
    }

    pub fn shape(self) -> Shape {
        use OptionName::*;
        match self {
            BlockSize | MaxTransferSize | BufferCount | File => Shape::Integer,
            Stats => Shape::OptionalInteger,
            Name | Description | MediaName | Standby | StopAt => Shape::Text,
            Move => Shape::Move,
            _ => Shape::Flag,
        }
    }

    /// Options in the same group exclude each other.
    fn conflict_group(self) -> Option<u8> {
        use OptionName::*;
        Some(match self {
            Format | NoFormat => 1,
            Init | NoInit => 2,
            Skip | NoSkip => 3,
            Compression | NoCompression => 4,
            Checksum | NoChecksum => 5,
            ContinueAfterError | StopOnError => 6,
            Recovery | NoRecovery | Standby => 7,
            Unload | NoUnload => 8,
            Rewind | NoRewind => 9,
            CopyOnly | Differential => 10,
            _ => return None,
        })
    }

    /// Whether the statement kind takes this option.
    pub fn allowed_in(self, context: OptionContext) -> bool {
        use OptionContext as C;
        use OptionName::*;
        let transfer = matches!(self, BlockSize | MaxTransferSize | BufferCount);
        let media = matches!(
            self,
            Checksum
                | NoChecksum
                | ContinueAfterError
                | StopOnError
                | MediaName
                | Unload
                | NoUnload
                | Rewind
                | NoRewind
        );
        if transfer || media || self == Snapshot {
            return true;
        }
        match context {
            C::BackupDatabase | C::BackupLog => {
                let common = matches!(
                    self,
                    Format
                        | NoFormat
                        | Init
                        | NoInit
                        | Skip
                        | NoSkip
                        | Compression
                        | NoCompression
                        | CopyOnly
                        | Stats
                        | Name
                        | Description
                );
                common
                    || (context == C::BackupDatabase && self == Differential)
                    || (context == C::BackupLog
                        && matches!(self, NoRecovery | Standby | NoTruncate))
            }
            C::Restore => matches!(
                self,
                Stats | Replace | Recovery | NoRecovery | Standby | Move | File | StopAt
            ),
            C::VerifyOnly => matches!(self, Stats | Move | File),
            C::Information => self == File,
            C::LabelOnly => false,
        }
    }
}

/// The value written after an option's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    None,
    /// Already range-checked for the option.
    Integer(u32),
    Text(String),
    Move(FileMove),
    /// A variable given for the value (with its `@`); the interpreter substitutes it, so the
    /// option's field keeps its default here.
    Variable(String),
}

/// Checks a numeric option value against VDI/SQL Server rules.
pub fn validate_integer(name: OptionName, value: i64, line: u32) -> Result<u32, SqlMessage> {
    let (min, max) = match name {
        OptionName::BlockSize => (512, 65_536),
        OptionName::MaxTransferSize => (65_536, 4_194_304),
        OptionName::BufferCount => (1, i64::from(MAX_BUFFER_COUNT)),
        OptionName::Stats => (1, 100),
        _ => (1, i64::from(i32::MAX)),
    };
    if !(min..=max).contains(&value) {
        return Err(messages::value_out_of_range(line, value, name.keyword()));
    }
    let value = u32::try_from(value).map_err(|_| messages::arithmetic_overflow_int(line))?;
    match name {
        OptionName::BlockSize if !value.is_power_of_two() => {
            Err(messages::block_size_not_power_of_two(line, value))
        }
        OptionName::MaxTransferSize if !value.is_multiple_of(65_536) => {
            Err(messages::max_transfer_size_not_multiple(line, value))
        }
        _ => Ok(value),
    }
}

/// Tracks the options seen so far in one WITH list and reports repeats and conflicts.
#[derive(Debug, Default)]
pub struct OptionList {
    items: Vec<(OptionName, OptionValue)>,
}

impl OptionList {
    pub fn push(
        &mut self,
        name: OptionName,
        value: OptionValue,
        line: u32,
    ) -> Result<(), SqlMessage> {
        for (seen, _) in &self.items {
            if *seen == name && name != OptionName::Move {
                return Err(messages::duplicate_option(line, name.keyword()));
            }
            if *seen != name
                && name.conflict_group().is_some()
                && name.conflict_group() == seen.conflict_group()
            {
                return Err(messages::conflicting_options(
                    line,
                    name.keyword(),
                    seen.keyword(),
                ));
            }
        }
        self.items.push((name, value));
        Ok(())
    }

    /// 3032 listing every option the statement kind does not take.
    pub fn check_allowed(&self, context: OptionContext, line: u32) -> Result<(), SqlMessage> {
        let rejected: Vec<&str> = self
            .items
            .iter()
            .filter(|(n, _)| !n.allowed_in(context))
            .map(|(n, _)| n.keyword())
            .collect();
        if rejected.is_empty() {
            Ok(())
        } else {
            Err(messages::options_not_supported(line, &rejected.join(", ")))
        }
    }

    fn transfer(&self) -> TransferOptions {
        let mut t = TransferOptions::default();
        for (name, value) in &self.items {
            if let OptionValue::Integer(v) = value {
                match name {
                    OptionName::BlockSize => t.block_size = Some(*v),
                    OptionName::MaxTransferSize => t.max_transfer_size = Some(*v),
                    OptionName::BufferCount => t.buffer_count = Some(*v),
                    _ => {}
                }
            }
        }
        t
    }

    pub fn into_backup_options(self) -> BackupOptions {
        use OptionName::*;
        let mut o = BackupOptions {
            transfer: self.transfer(),
            ..BackupOptions::default()
        };
        for (name, value) in self.items {
            if matches!(value, OptionValue::Variable(_)) {
                continue;
            }
            let text = match &value {
                OptionValue::Text(t) => Some(t.clone()),
                _ => None,
            };
            match name {
                Format | NoFormat => o.format = Some(name == Format),
                Init | NoInit => o.init = Some(name == Init),
                Skip | NoSkip => o.skip = Some(name == Skip),
                Compression | NoCompression => o.compression = Some(name == Compression),
                Checksum | NoChecksum => o.checksum = Some(name == Checksum),
                ContinueAfterError | StopOnError => {
                    o.continue_after_error = Some(name == ContinueAfterError);
                }
                Unload | NoUnload => o.unload = Some(name == Unload),
                Rewind | NoRewind => o.rewind = Some(name == Rewind),
                CopyOnly => o.copy_only = true,
                Differential => o.differential = true,
                NoTruncate => o.no_truncate = true,
                Stats => o.stats = Some(stats_value(&value)),
                Name => o.name = text,
                Description => o.description = text,
                MediaName => o.media_name = text,
                NoRecovery => o.recovery = Some(RecoveryOption::NoRecovery),
                Standby => o.recovery = text.map(RecoveryOption::Standby),
                _ => {}
            }
        }
        o
    }

    pub fn into_restore_options(self) -> RestoreOptions {
        use OptionName::*;
        let mut o = RestoreOptions {
            transfer: self.transfer(),
            ..RestoreOptions::default()
        };
        for (name, value) in self.items {
            if matches!(value, OptionValue::Variable(_)) {
                continue;
            }
            match (name, value) {
                (Checksum | NoChecksum, _) => o.checksum = Some(name == Checksum),
                (ContinueAfterError | StopOnError, _) => {
                    o.continue_after_error = Some(name == ContinueAfterError);
                }
                (Unload | NoUnload, _) => o.unload = Some(name == Unload),
                (Rewind | NoRewind, _) => o.rewind = Some(name == Rewind),
                (Stats, value) => o.stats = Some(stats_value(&value)),
                (Replace, _) => o.replace = true,
                (Recovery, _) => o.recovery = Some(RecoveryOption::Recovery),
                (NoRecovery, _) => o.recovery = Some(RecoveryOption::NoRecovery),
                (Standby, OptionValue::Text(t)) => o.recovery = Some(RecoveryOption::Standby(t)),
                (Move, OptionValue::Move(m)) => o.moves.push(m),
                (File, OptionValue::Integer(n)) => o.file = Some(n),
                (MediaName, OptionValue::Text(t)) => o.media_name = Some(t),
                _ => {}
            }
        }
        o
    }

    /// The STOPAT value, parsed separately because it is typed.
    pub fn stop_at_text(&self) -> Option<&str> {
        self.items.iter().find_map(|(n, v)| match (n, v) {
            (OptionName::StopAt, OptionValue::Text(t)) => Some(t.as_str()),
            _ => None,
        })
    }
}

fn stats_value(value: &OptionValue) -> u8 {
    match value {
        OptionValue::Integer(n) => u8::try_from(*n).unwrap_or(100),
        _ => DEFAULT_STATS,
    }
}

/// Parses a STOPAT value: `YYYY-MM-DD[( |T)hh:mm[:ss[.fff]]]` or `YYYYMMDD[ hh:mm[:ss[.fff]]]`.
pub fn parse_datetime(text: &str) -> Option<SqlDateTime> {
    let text = text.trim();
    let (date, time) = match text.find([' ', 'T']) {
        Some(i) => (&text[..i], Some(text[i + 1..].trim_start())),
        None => (text, None),
    };
    let (year, month, day) = if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        (&date[..4], &date[4..6], &date[6..])
    } else {
        let mut parts = date.split('-');
        let parts = (parts.next()?, parts.next()?, parts.next()?, parts.next());
        if parts.3.is_some() || parts.0.len() != 4 {
            return None;
        }
        (parts.0, parts.1, parts.2)
    };
    let year: u16 = digits(year, 4)?;
    let month: u8 = digits(month, 2)?;
    let day: u8 = digits(day, 2)?;
    if !(1753..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let (hour, minute, second, millisecond) = match time {
        None => (0, 0, 0, 0),
        Some(t) => parse_time_of_day(t)?,
    };
    Some(SqlDateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        millisecond,
    })
}

/// `hh:mm[:ss[.fff]]`, hours below 24.
pub fn parse_time_of_day(text: &str) -> Option<(u8, u8, u8, u16)> {
    let (clock, fraction) = match text.split_once('.') {
        Some((c, f)) => (c, Some(f)),
        None => (text, None),
    };
    let mut parts = clock.split(':');
    let hour: u8 = digits(parts.next()?, 2)?;
    let minute: u8 = digits(parts.next()?, 2)?;
    let second: u8 = match parts.next() {
        Some(s) => digits(s, 2)?,
        None if fraction.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let millisecond = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 7 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded: String = f.chars().chain("000".chars()).take(3).collect();
            padded.parse().ok()?
        }
        Some(_) => return None,
    };
    Some((hour, minute, second, millisecond))
}

/// 1 to `max_len` ASCII digits.
fn digits<T: std::str::FromStr>(text: &str, max_len: usize) -> Option<T> {
    if text.is_empty() || text.len() > max_len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            validate_integer(OptionName::BlockSize, 256, 1)
                .unwrap_err()
                .number,
            3250
        );
        assert_eq!(
            validate_integer(OptionName::BlockSize, 131_072, 1)
                .unwrap_err()
                .number,
            3250
        );
        assert_eq!(
            validate_integer(OptionName::BlockSize, 1000, 1)
                .unwrap_err()
                .number,
            59004
        );
    }

    #[test]
    fn max_transfer_size_rules() {
        assert!(validate_integer(OptionName::MaxTransferSize, 65_536, 1).is_ok());
        assert!(validate_integer(OptionName::MaxTransferSize, 4_194_304, 1).is_ok());
        assert_eq!(
            validate_integer(OptionName::MaxTransferSize, 4_259_840, 1)
                .unwrap_err()
                .number,
            3250
        );
        assert_eq!(
            validate_integer(OptionName::MaxTransferSize, 100_000, 1)
                .unwrap_err()
                .number,
            59005
        );
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
    }

    #[test]
    fn statement_kinds_take_their_options() {
        use OptionContext as C;
        use OptionName as N;
        assert!(N::Differential.allowed_in(C::BackupDatabase));
        assert!(!N::Differential.allowed_in(C::BackupLog));
        assert!(!N::Differential.allowed_in(C::Restore));
        assert!(!N::Replace.allowed_in(C::BackupDatabase));
        assert!(N::Replace.allowed_in(C::Restore));
        assert!(N::NoRecovery.allowed_in(C::BackupLog));
        assert!(!N::Recovery.allowed_in(C::BackupLog));
        assert!(!N::NoRecovery.allowed_in(C::BackupDatabase));
        assert!(N::Move.allowed_in(C::VerifyOnly));
        assert!(!N::Stats.allowed_in(C::Information));
        assert!(!N::File.allowed_in(C::LabelOnly));
        assert!(N::BlockSize.allowed_in(C::LabelOnly));
    }

    #[test]
    fn every_option_but_snapshot_is_usable_somewhere() {
        use OptionContext as C;
        let contexts = [
            C::BackupDatabase,
            C::BackupLog,
            C::Restore,
            C::VerifyOnly,
            C::Information,
            C::LabelOnly,
        ];
        for (name, keyword) in ALL {
            let usable = contexts.iter().any(|c| name.allowed_in(*c));
            assert!(usable, "{keyword}");
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
    }

    #[test]
    fn datetimes() {
        let dt = parse_datetime("2026-11-25 09:30:15.25").unwrap();
        assert_eq!(
            (
                dt.year,
                dt.month,
                dt.day,
                dt.hour,
                dt.minute,
                dt.second,
                dt.millisecond
            ),
            (2026, 11, 25, 9, 30, 15, 250)
        );
        assert!(parse_datetime("2024-02-29T00:00").is_some());
        assert!(parse_datetime("20240229").is_some());
        assert!(parse_datetime("2023-02-29").is_none());
        assert!(parse_datetime("2026-13-01").is_none());
        assert!(parse_datetime("yesterday").is_none());
        assert!(parse_datetime("2026-01-01 24:00").is_none());
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
}
