//! The WITH options of BACKUP and RESTORE: names, value shapes, which statement takes which,
//! which exclude each other, and the numeric rules. What each option does in vdisim is listed
//! in docs/backup-restore.md.

mod datetime;
mod devices;
mod list;
mod substitute;
#[cfg(test)]
mod tests;

pub use datetime::{parse_datetime, parse_time_of_day};
pub use devices::check_devices;
pub use list::OptionList;

use crate::ast::{Compression, Encryption, FileMove};
use crate::messages::{self, SqlMessage};

/// The largest BUFFERCOUNT accepted (our choice; SQL Server's limit is memory).
pub const MAX_BUFFER_COUNT: u32 = 4096;
/// The STATS interval when `STATS` has no value.
pub const DEFAULT_STATS: u8 = 10;
/// The most backup devices in one statement.
pub const MAX_DEVICES: usize = 64;
/// The longest name of a device set (its first VIRTUAL_DEVICE), in bytes: the VDI set-name
/// limit (decision 10), so that a name no client could create is refused at once (3057)
/// instead of timing out.
pub const MAX_DEVICE_NAME_CHARS: usize = 128;
/// The longest name of the set's other devices, in bytes (decision 57).
pub const MAX_OTHER_DEVICE_NAME_BYTES: usize = 256;

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
    MediaDescription,
    RetainDays,
    ExpireDate,
    Password,
    MediaPassword,
    Encryption,
    Replace,
    Recovery,
    NoRecovery,
    Standby,
    Move,
    File,
    StopAt,
    StopAtMark,
    StopBeforeMark,
    Unload,
    NoUnload,
    Rewind,
    NoRewind,
    NoTruncate,
    Restart,
    Partial,
    KeepReplication,
    KeepCdc,
    EnableBroker,
    ErrorBrokerConversations,
    NewBroker,
    RestrictedUser,
    LoadHistory,
    Credential,
    Filestream,
    FileSnapshot,
    Snapshot,
    MetadataOnly,
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
    /// `= name | 'text'`
    NameOrText,
    /// `'logical' TO 'physical'`
    Move,
    /// `= 'mark' [AFTER 'datetime']`
    Mark,
    /// `[(ALGORITHM = name)]`
    Compression,
    /// `(ALGORITHM = name, SERVER CERTIFICATE|ASYMMETRIC KEY = name)`
    Encryption,
    /// `(DIRECTORY_NAME = name)`
    Filestream,
}

/// The statement a WITH list belongs to; decides which options are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionContext {
    BackupDatabase,
    BackupLog,
    RestoreDatabase,
    RestoreLog,
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
    (OptionName::MediaDescription, "MEDIADESCRIPTION"),
    (OptionName::RetainDays, "RETAINDAYS"),
    (OptionName::ExpireDate, "EXPIREDATE"),
    (OptionName::Password, "PASSWORD"),
    (OptionName::MediaPassword, "MEDIAPASSWORD"),
    (OptionName::Encryption, "ENCRYPTION"),
    (OptionName::Replace, "REPLACE"),
    (OptionName::Recovery, "RECOVERY"),
    (OptionName::NoRecovery, "NORECOVERY"),
    (OptionName::Standby, "STANDBY"),
    (OptionName::Move, "MOVE"),
    (OptionName::File, "FILE"),
    (OptionName::StopAt, "STOPAT"),
    (OptionName::StopAtMark, "STOPATMARK"),
    (OptionName::StopBeforeMark, "STOPBEFOREMARK"),
    (OptionName::Unload, "UNLOAD"),
    (OptionName::NoUnload, "NOUNLOAD"),
    (OptionName::Rewind, "REWIND"),
    (OptionName::NoRewind, "NOREWIND"),
    (OptionName::NoTruncate, "NO_TRUNCATE"),
    (OptionName::Restart, "RESTART"),
    (OptionName::Partial, "PARTIAL"),
    (OptionName::KeepReplication, "KEEP_REPLICATION"),
    (OptionName::KeepCdc, "KEEP_CDC"),
    (OptionName::EnableBroker, "ENABLE_BROKER"),
    (
        OptionName::ErrorBrokerConversations,
        "ERROR_BROKER_CONVERSATIONS",
    ),
    (OptionName::NewBroker, "NEW_BROKER"),
    (OptionName::RestrictedUser, "RESTRICTED_USER"),
    (OptionName::LoadHistory, "LOADHISTORY"),
    (OptionName::Credential, "CREDENTIAL"),
    (OptionName::Filestream, "FILESTREAM"),
    (OptionName::FileSnapshot, "FILE_SNAPSHOT"),
    (OptionName::Snapshot, "SNAPSHOT"),
    (OptionName::MetadataOnly, "METADATA_ONLY"),
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

    /// Every option, for tests and documentation.
    pub fn all() -> impl Iterator<Item = OptionName> {
        ALL.iter().map(|(n, _)| *n)
    }

    pub fn shape(self) -> Shape {
        use OptionName::*;
        match self {
            BlockSize | MaxTransferSize | BufferCount | File | RetainDays => Shape::Integer,
            Stats => Shape::OptionalInteger,
            Description | MediaDescription | Standby | StopAt | ExpireDate => Shape::Text,
            Name | MediaName | Password | MediaPassword | Credential => Shape::NameOrText,
            StopAtMark | StopBeforeMark => Shape::Mark,
            Move => Shape::Move,
            Compression => Shape::Compression,
            Encryption => Shape::Encryption,
            Filestream => Shape::Filestream,
            _ => Shape::Flag,
        }
    }

    /// SNAPSHOT and its 2022 alias METADATA_ONLY: a snapshot backup or restore (BACKUP DATABASE
    /// and RESTORE DATABASE only; docs/snapshots.md).
    pub fn is_snapshot(self) -> bool {
        matches!(self, OptionName::Snapshot | OptionName::MetadataOnly)
    }

    /// Options in the same group exclude each other (3031).
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
            StopAt | StopAtMark | StopBeforeMark => 10,
            EnableBroker | ErrorBrokerConversations | NewBroker => 11,
            _ => return None,
        })
    }

    /// Options that exclude each other outside the groups (3031): KEEP_REPLICATION and
    /// KEEP_CDC act when the database recovers, so NORECOVERY leaves them nothing to keep.
    fn excludes(self, other: OptionName) -> bool {
        use OptionName::*;
        let pair = |a, b| (self == a && other == b) || (self == b && other == a);
        pair(KeepReplication, NoRecovery) || pair(KeepCdc, NoRecovery)
    }

    /// Whether the two options cannot be given together (3031).
    pub fn conflicts_with(self, other: OptionName) -> bool {
        self != other
            && ((self.conflict_group().is_some()
                && self.conflict_group() == other.conflict_group())
                || self.excludes(other))
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
        if transfer || media {
            return true;
        }
        if self.is_snapshot() {
            return matches!(context, C::BackupDatabase | C::RestoreDatabase);
        }
        let backup = matches!(context, C::BackupDatabase | C::BackupLog);
        if backup {
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
                    | MediaDescription
                    | RetainDays
                    | ExpireDate
                    | Encryption
                    | Restart
                    | Credential
            );
            return common
                || (context == C::BackupDatabase && self == Differential)
                || (context == C::BackupLog && matches!(self, NoRecovery | Standby | NoTruncate));
        }
        // Every RESTORE kind reads password-protected media and URL devices.
        if matches!(self, MediaPassword | Credential) {
            return true;
        }
        match context {
            C::RestoreDatabase | C::RestoreLog => {
                matches!(
                    self,
                    Stats
                        | Replace
                        | Recovery
                        | NoRecovery
                        | Standby
                        | Move
                        | File
                        | StopAt
                        | StopAtMark
                        | StopBeforeMark
                        | Password
                        | KeepReplication
                        | KeepCdc
                        | EnableBroker
                        | ErrorBrokerConversations
                        | NewBroker
                        | RestrictedUser
                        | Restart
                        | Filestream
                ) || (context == C::RestoreDatabase && self == Partial)
            }
            C::VerifyOnly => matches!(self, Stats | Move | File | Password | LoadHistory),
            C::Information => matches!(self, File | Password),
            C::LabelOnly => false,
            C::BackupDatabase | C::BackupLog => false,
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
    /// `= 'mark'|@v [AFTER 'datetime'|@v]`: the mark (empty when a variable) and the AFTER
    /// text (`None` without AFTER; empty when a variable).
    Mark {
        mark: String,
        after: Option<String>,
    },
    Compression(Compression),
    Encryption(Encryption),
    /// A variable given for the value (with its `@`); the interpreter substitutes it, so the
    /// option's field keeps its default here.
    Variable(String),
}

/// Checks a numeric option value against VDI/SQL Server rules: 3250 out of range, 3253 a
/// BLOCKSIZE that is not a power of 2, 3217 a MAXTRANSFERSIZE that is not a multiple of 64 KB.
pub fn validate_integer(name: OptionName, value: i64, line: u32) -> Result<u32, SqlMessage> {
    let (min, max) = match name {
        OptionName::BlockSize => (512, 65_536),
        OptionName::MaxTransferSize => (65_536, 4_194_304),
        OptionName::BufferCount => (1, i64::from(MAX_BUFFER_COUNT)),
        OptionName::Stats => (1, 100),
        OptionName::RetainDays => (0, i64::from(i32::MAX)),
        _ => (1, i64::from(i32::MAX)),
    };
    if !(min..=max).contains(&value) {
        return Err(messages::value_out_of_range(line, value, name.keyword()));
    }
    let value = u32::try_from(value).map_err(|_| messages::arithmetic_overflow_int(line))?;
    match name {
        OptionName::BlockSize if !value.is_power_of_two() => {
            Err(messages::block_size_not_power_of_two(line))
        }
        OptionName::MaxTransferSize if !value.is_multiple_of(65_536) => Err(
            messages::invalid_parameter_value(line, OptionName::MaxTransferSize.keyword()),
        ),
        _ => Ok(value),
    }
}
