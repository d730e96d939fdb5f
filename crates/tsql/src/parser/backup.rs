//! BACKUP and RESTORE to and from virtual devices. A variable may stand for the database, a
//! device name or an option value; it is recorded as a [`VariableSlot`] and the field keeps
//! its default for the interpreter to fill.

use super::{Parsed, Parser};
use crate::ast::{
    BackupKind, BackupStatement, FileMove, RestoreKind, RestoreStatement, Slot, VariableSlot,
};
use crate::lexer::TokenKind;
use crate::messages;
use crate::options::{
    self, MAX_DEVICES, OptionContext, OptionList, OptionName, OptionValue, Shape,
};

impl Parser<'_> {
    pub(super) fn backup(&mut self, line: u32) -> Parsed<BackupStatement> {
        self.expect_word("BACKUP")?;
        let kind = if self.eat_word("DATABASE") {
            BackupKind::Database
        } else if self.eat_word("LOG") {
            BackupKind::Log
        } else {
            return Err(self.unexpected());
        };
        let mut variables = Vec::new();
        let database = self.database_or_variable(&mut variables)?;
        self.expect_word("TO")?;
        let devices = self.devices(line, &mut variables)?;
        let context = match kind {
            BackupKind::Database => OptionContext::BackupDatabase,
            BackupKind::Log => OptionContext::BackupLog,
        };
        let list = self.with_options(context, line, &mut variables)?;
        Ok(BackupStatement {
            kind,
            database,
            devices,
            options: list.into_backup_options(),
            variables,
        })
    }

    pub(super) fn restore(&mut self, line: u32) -> Parsed<RestoreStatement> {
        self.expect_word("RESTORE")?;
        let kinds = [
            ("DATABASE", RestoreKind::Database),
            ("LOG", RestoreKind::Log),
            ("VERIFYONLY", RestoreKind::VerifyOnly),
            ("HEADERONLY", RestoreKind::HeaderOnly),
            ("FILELISTONLY", RestoreKind::FileListOnly),
            ("LABELONLY", RestoreKind::LabelOnly),
        ];
        let Some(kind) = kinds.iter().find(|(w, _)| self.at_word(w)).map(|(_, k)| *k) else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        let mut variables = Vec::new();
        let recovers = matches!(kind, RestoreKind::Database | RestoreKind::Log);
        let database = if recovers {
            Some(self.database_or_variable(&mut variables)?)
        } else {
            None
        };
        // RESTORE DATABASE|LOG name [WITH RECOVERY] may omit FROM: it only recovers.
        let devices = if self.eat_word("FROM") {
            self.devices(line, &mut variables)?
        } else if recovers {
            Vec::new()
        } else {
            return Err(self.unexpected());
        };
        let context = match kind {
            RestoreKind::Database | RestoreKind::Log => OptionContext::Restore,
            RestoreKind::VerifyOnly => OptionContext::VerifyOnly,
            RestoreKind::HeaderOnly | RestoreKind::FileListOnly => OptionContext::Information,
            RestoreKind::LabelOnly => OptionContext::LabelOnly,
        };
        let list = self.with_options(context, line, &mut variables)?;
        let stop_at = match list.stop_at_text() {
            Some(text) => Some(
                options::parse_datetime(text)
                    .ok_or_else(|| messages::datetime_conversion_failed(line))?,
            ),
            None => None,
        };
        let mut options = list.into_restore_options();
        options.stop_at = stop_at;
        Ok(RestoreStatement {
            kind,
            database,
            devices,
            options,
            variables,
        })
    }

    /// A variable's name if the current token is one (and consumes it).
    fn eat_variable(&mut self) -> Option<String> {
        let token = self.peek().filter(|t| t.kind == TokenKind::Variable)?;
        self.pos += 1;
        Some(token.text.clone())
    }

    fn database_or_variable(&mut self, variables: &mut Vec<VariableSlot>) -> Parsed<String> {
        if let Some(variable) = self.eat_variable() {
            variables.push(VariableSlot {
                slot: Slot::Database,
                variable,
            });
            return Ok(String::new());
        }
        self.name_or_string()
    }

    /// `VIRTUAL_DEVICE = 'name'|@v [, …]`: 1 to 64 distinct names.
    fn devices(&mut self, line: u32, variables: &mut Vec<VariableSlot>) -> Parsed<Vec<String>> {
        let mut devices: Vec<String> = Vec::new();
        let mut from_variables = Vec::new();
        loop {
            let Some(token) = self.peek() else {
                return Err(self.unexpected());
            };
            if ["DISK", "TAPE", "URL"].iter().any(|w| token.is_word(w)) {
                return Err(messages::device_type_not_supported(
                    token.line,
                    &token.text.to_ascii_uppercase(),
                ));
            }
            self.expect_word("VIRTUAL_DEVICE")?;
            self.expect_symbol('=')?;
            if let Some(variable) = self.eat_variable() {
                variables.push(VariableSlot {
                    slot: Slot::Device(devices.len()),
                    variable,
                });
                from_variables.push(devices.len());
                devices.push(String::new());
            } else {
                devices.push(self.string()?);
            }
            if !self.eat_symbol(',') {
                break;
            }
        }
        if devices.len() > MAX_DEVICES {
            return Err(messages::too_many_devices(line));
        }
        // Names held in variables are unknown until the interpreter substitutes them.
        for (i, device) in devices.iter().enumerate() {
            let literal = |j: &usize| !from_variables.contains(j);
            if literal(&i) && (0..i).any(|j| literal(&j) && devices[j] == *device) {
                return Err(messages::duplicate_device(line, device));
            }
        }
        Ok(devices)
    }

    /// `[WITH option [, option …]]`, checked for repeats, conflicts and the statement kind.
    fn with_options(
        &mut self,
        context: OptionContext,
        line: u32,
        variables: &mut Vec<VariableSlot>,
    ) -> Parsed<OptionList> {
        let mut list = OptionList::default();
        if !self.eat_word("WITH") {
            return Ok(list);
        }
        let mut moves = 0;
        loop {
            let Some(token) = self.peek() else {
                return Err(self.unexpected());
            };
            if token.kind != TokenKind::Word {
                return Err(self.unexpected());
            }
            let Some(name) = OptionName::from_word(&token.text) else {
                if token.is_reserved_keyword() {
                    return Err(token.syntax_error());
                }
                return Err(messages::unrecognized_option(
                    token.line,
                    &token.text,
                    context.statement_word(),
                ));
            };
            self.pos += 1;
            if name == OptionName::Snapshot {
                return Err(messages::snapshot_not_supported(line));
            }
            let value = self.option_value(name, line, moves, variables)?;
            if name == OptionName::Move {
                moves += 1;
            }
            list.push(name, value, line)?;
            if !self.eat_symbol(',') {
                break;
            }
        }
        list.check_allowed(context, line)?;
        Ok(list)
    }

    fn option_value(
        &mut self,
        name: OptionName,
        line: u32,
        move_index: usize,
        variables: &mut Vec<VariableSlot>,
    ) -> Parsed<OptionValue> {
        let shape = name.shape();
        let takes_value = match shape {
            Shape::Flag | Shape::Move => false,
            Shape::OptionalInteger => self.eat_symbol('='),
            Shape::Integer | Shape::Text => {
                self.expect_symbol('=')?;
                true
            }
        };
        if takes_value && let Some(variable) = self.eat_variable() {
            variables.push(VariableSlot {
                slot: Slot::Option(name.keyword().to_owned()),
                variable: variable.clone(),
            });
            return Ok(OptionValue::Variable(variable));
        }
        match shape {
            Shape::Flag => Ok(OptionValue::None),
            Shape::OptionalInteger if !takes_value => Ok(OptionValue::None),
            Shape::Integer | Shape::OptionalInteger => {
                let value = self.integer()?;
                Ok(OptionValue::Integer(options::validate_integer(
                    name, value, line,
                )?))
            }
            Shape::Text => {
                let named = matches!(name, OptionName::Name | OptionName::MediaName);
                let text = if named {
                    self.name_or_string()?
                } else {
                    self.string()?
                };
                Ok(OptionValue::Text(text))
            }
            Shape::Move => {
                let mut name_or_variable = |p: &mut Self, physical: bool| -> Parsed<String> {
                    match p.eat_variable() {
                        Some(variable) => {
                            variables.push(VariableSlot {
                                slot: Slot::Move {
                                    index: move_index,
                                    physical,
                                },
                                variable,
                            });
                            Ok(String::new())
                        }
                        None => p.string(),
                    }
                };
                let logical_name = name_or_variable(self, false)?;
                self.expect_word("TO")?;
                let physical_name = name_or_variable(self, true)?;
                Ok(OptionValue::Move(FileMove {
                    logical_name,
                    physical_name,
                }))
            }
        }
    }
}
