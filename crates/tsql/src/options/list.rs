//! One WITH list as it is read: repeats (59003), conflicts (3031), the options the statement
//! does not take (3032), then the typed options of the AST.

use super::{DEFAULT_STATS, OptionContext, OptionName, OptionValue, parse_datetime};
use crate::ast::{
    BackupOptions, BrokerOption, RecoveryOption, RestoreOptions, StopPoint, TransferOptions,
};
use crate::messages::{self, SqlMessage};

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
            if name.conflicts_with(*seen) {
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

    /// SNAPSHOT (or METADATA_ONLY) with an option a snapshot cannot honour: DIFFERENTIAL (VDI
    /// snapshots are never differential, vdi-facts §8.4), COMPRESSION or ENCRYPTION (nothing is
    /// streamed to compress or encrypt) get 3032 naming them (decision 63).
    pub fn check_snapshot(&self, line: u32) -> Result<(), SqlMessage> {
        if !self.items.iter().any(|(n, _)| n.is_snapshot()) {
            return Ok(());
        }
        let rejected: Vec<&str> = self
            .items
            .iter()
            .filter(|(n, _)| {
                matches!(
                    n,
                    OptionName::Differential | OptionName::Compression | OptionName::Encryption
                )
            })
            .map(|(n, _)| n.keyword())
            .collect();
        if rejected.is_empty() {
            Ok(())
        } else {
            Err(messages::options_not_supported(line, &rejected.join(", ")))
        }
    }

    /// The dates of STOPAT, EXPIREDATE and AFTER, converted as SQL Server converts a string
    /// to a date under us_english (241 when they are not dates). Run after `check_allowed`.
    pub fn check_dates(&self, line: u32) -> Result<(), SqlMessage> {
        for (name, value) in &self.items {
            let text = match (name, value) {
                (OptionName::StopAt | OptionName::ExpireDate, OptionValue::Text(t)) => t,
                (
                    _,
                    OptionValue::Mark {
                        after: Some(after), ..
                    },
                ) if !after.is_empty() => after,
                _ => continue,
            };
            parse_datetime(text, line)?;
        }
        Ok(())
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
                Compression => {
                    o.compression = Some(true);
                    if let OptionValue::Compression(c) = value {
                        o.compression_algorithm = c.algorithm;
                    }
                }
                NoCompression => o.compression = Some(false),
                Checksum | NoChecksum => o.checksum = Some(name == Checksum),
                ContinueAfterError | StopOnError => {
                    o.continue_after_error = Some(name == ContinueAfterError);
                }
                Unload | NoUnload => o.unload = Some(name == Unload),
                Rewind | NoRewind => o.rewind = Some(name == Rewind),
                CopyOnly => o.copy_only = true,
                Differential => o.differential = true,
                NoTruncate => o.no_truncate = true,
                Restart => o.restart = true,
                Stats => o.stats = Some(stats_value(&value)),
                Name => o.name = text,
                Description => o.description = text,
                MediaName => o.media_name = text,
                MediaDescription => o.media_description = text,
                RetainDays => {
                    if let OptionValue::Integer(n) = value {
                        o.retain_days = Some(n);
                    }
                }
                ExpireDate => o.expire_date = text.and_then(|t| parse_datetime(&t, 0).ok()),
                Encryption => {
                    if let OptionValue::Encryption(e) = value {
                        o.encryption = Some(e);
                    }
                }
                NoRecovery => o.recovery = Some(RecoveryOption::NoRecovery),
                Standby => o.recovery = text.map(RecoveryOption::Standby),
                Snapshot | MetadataOnly => o.snapshot = true,
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
                // The option is given; its value comes from the variable. A stop point needs
                // its kind known now, so it gets a placeholder the interpreter fills in.
                o.stop = match name {
                    StopAtMark => Some(StopPoint::AtMark {
                        mark: String::new(),
                        after: None,
                    }),
                    StopBeforeMark => Some(StopPoint::BeforeMark {
                        mark: String::new(),
                        after: None,
                    }),
                    _ => o.stop,
                };
                if name == Standby {
                    o.recovery = Some(RecoveryOption::Standby(String::new()));
                }
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
                (Password, OptionValue::Text(t)) => o.password = Some(t),
                (MediaPassword, OptionValue::Text(t)) => o.media_password = Some(t),
                (Credential, OptionValue::Text(t)) => o.credential = Some(t),
                (Filestream, OptionValue::Text(t)) => o.filestream_directory = Some(t),
                (StopAt, OptionValue::Text(t)) => {
                    o.stop = parse_datetime(&t, 0).ok().map(StopPoint::At);
                }
                (StopAtMark | StopBeforeMark, OptionValue::Mark { mark, after }) => {
                    let after = after.and_then(|a| parse_datetime(&a, 0).ok());
                    o.stop = Some(if name == StopAtMark {
                        StopPoint::AtMark { mark, after }
                    } else {
                        StopPoint::BeforeMark { mark, after }
                    });
                }
                (Partial, _) => o.partial = true,
                (KeepReplication, _) => o.keep_replication = true,
                (KeepCdc, _) => o.keep_cdc = true,
                (EnableBroker, _) => o.broker = Some(BrokerOption::Enable),
                (ErrorBrokerConversations, _) => {
                    o.broker = Some(BrokerOption::ErrorConversations);
                }
                (NewBroker, _) => o.broker = Some(BrokerOption::New),
                (RestrictedUser, _) => o.restricted_user = true,
                (LoadHistory, _) => o.load_history = true,
                (Restart, _) => o.restart = true,
                (Snapshot | MetadataOnly, _) => o.snapshot = true,
                _ => {}
            }
        }
        o
    }
}

fn stats_value(value: &OptionValue) -> u8 {
    match value {
        OptionValue::Integer(n) => u8::try_from(*n).unwrap_or(100),
        _ => DEFAULT_STATS,
    }
}
