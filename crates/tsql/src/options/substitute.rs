//! Variables in BACKUP and RESTORE: the interpreter hands each slot's value (as text) to
//! `substitute`, which checks it as the parser checks a literal (3250, 3253, 241 …).

use super::{OptionName, parse_datetime, validate_integer};
use crate::ast::{BackupStatement, RecoveryOption, RestoreStatement, Slot, StopPoint};
use crate::messages::{self, SqlMessage};

/// A numeric option's value from a variable's text.
fn integer(option: &str, text: &str, line: u32) -> Result<Option<u32>, SqlMessage> {
    let Some(name) = OptionName::from_word(option) else {
        return Ok(None);
    };
    let value: i64 = text
        .trim()
        .parse()
        .map_err(|_| messages::value_out_of_range(line, text, name.keyword()))?;
    validate_integer(name, value, line).map(Some)
}

impl BackupStatement {
    /// Puts a variable's value (`None` for NULL) where `slot` stands.
    pub fn substitute(
        &mut self,
        slot: &Slot,
        text: Option<String>,
        line: u32,
    ) -> Result<(), SqlMessage> {
        let value = text.clone().unwrap_or_default();
        let o = &mut self.options;
        match slot {
            Slot::Database => self.database = value,
            Slot::Device(i) => set(&mut self.devices, *i, value),
            Slot::OtherDevice(i) => {
                if let Some(d) = self.other_devices.get_mut(*i) {
                    d.name = value;
                }
            }
            Slot::File(i) => set(&mut self.files.files, *i, value),
            Slot::Filegroup(i) => set(&mut self.files.filegroups, *i, value),
            Slot::Page | Slot::Move { .. } => {}
            Slot::Option(option) => match option.as_str() {
                "NAME" => o.name = text,
                "DESCRIPTION" => o.description = text,
                "MEDIANAME" => o.media_name = text,
                "MEDIADESCRIPTION" => o.media_description = text,
                "STANDBY" => o.recovery = Some(RecoveryOption::Standby(value)),
                "EXPIREDATE" => {
                    o.expire_date = match text {
                        Some(t) => Some(parse_datetime(&t, line)?),
                        None => None,
                    }
                }
                "BLOCKSIZE" => o.transfer.block_size = integer(option, &value, line)?,
                "MAXTRANSFERSIZE" => {
                    o.transfer.max_transfer_size = integer(option, &value, line)?;
                }
                "BUFFERCOUNT" => o.transfer.buffer_count = integer(option, &value, line)?,
                "STATS" => {
                    o.stats = integer(option, &value, line)?.map(|n| n.min(100) as u8);
                }
                "RETAINDAYS" => o.retain_days = integer(option, &value, line)?,
                _ => {}
            },
        }
        Ok(())
    }
}

impl RestoreStatement {
    /// Puts a variable's value (`None` for NULL) where `slot` stands.
    pub fn substitute(
        &mut self,
        slot: &Slot,
        text: Option<String>,
        line: u32,
    ) -> Result<(), SqlMessage> {
        let value = text.clone().unwrap_or_default();
        let o = &mut self.options;
        match slot {
            Slot::Database => self.database = Some(value),
            Slot::Device(i) => set(&mut self.devices, *i, value),
            Slot::OtherDevice(i) => {
                if let Some(d) = self.other_devices.get_mut(*i) {
                    d.name = value;
                }
            }
            Slot::File(i) => set(&mut self.files.files, *i, value),
            Slot::Filegroup(i) => set(&mut self.files.filegroups, *i, value),
            Slot::Page => self.files.pages = Some(value),
            Slot::Move { index, physical } => {
                if let Some(m) = o.moves.get_mut(*index) {
                    if *physical {
                        m.physical_name = value;
                    } else {
                        m.logical_name = value;
                    }
                }
            }
            Slot::Option(option) => match option.as_str() {
                "STOPAT" => o.stop = Some(StopPoint::At(parse_datetime(&value, line)?)),
                "STOPATMARK" | "STOPBEFOREMARK" => {
                    if let Some(
                        StopPoint::AtMark { mark, .. } | StopPoint::BeforeMark { mark, .. },
                    ) = &mut o.stop
                    {
                        *mark = value;
                    }
                }
                "AFTER" => {
                    let time = parse_datetime(&value, line)?;
                    if let Some(
                        StopPoint::AtMark { after, .. } | StopPoint::BeforeMark { after, .. },
                    ) = &mut o.stop
                    {
                        *after = Some(time);
                    }
                }
                "MEDIANAME" => o.media_name = text,
                "PASSWORD" => o.password = text,
                "MEDIAPASSWORD" => o.media_password = text,
                "CREDENTIAL" => o.credential = text,
                "STANDBY" => o.recovery = Some(RecoveryOption::Standby(value)),
                "FILE" => o.file = integer(option, &value, line)?,
                "BLOCKSIZE" => o.transfer.block_size = integer(option, &value, line)?,
                "MAXTRANSFERSIZE" => {
                    o.transfer.max_transfer_size = integer(option, &value, line)?;
                }
                "BUFFERCOUNT" => o.transfer.buffer_count = integer(option, &value, line)?,
                "STATS" => {
                    o.stats = integer(option, &value, line)?.map(|n| n.min(100) as u8);
                }
                _ => {}
            },
        }
        Ok(())
    }
}

fn set(names: &mut [String], i: usize, value: String) {
    if let Some(n) = names.get_mut(i) {
        *n = value;
    }
}
