//! BACKUP and RESTORE: SQL Server 2022's grammar. A variable may stand for the database, a
//! device, a file or filegroup name or an option value; it is recorded as a [`VariableSlot`]
//! and the field keeps its default for the interpreter to fill.

use super::{Parsed, Parser};
use crate::ast::{
    BackupKind, BackupStatement, Compression, DeviceType, Encryption, FileMove, FileSelection,
    OtherDevice, RestoreKind, RestoreStatement, Slot, VariableSlot,
};
use crate::lexer::TokenKind;
use crate::messages;
use crate::options::{
    self, MAX_DEVICES, OptionContext, OptionList, OptionName, OptionValue, Shape,
};

/// The devices after TO or FROM.
struct Devices {
    virtual_devices: Vec<String>,
    other: Vec<OtherDevice>,
}

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
        let files = if kind == BackupKind::Database {
            self.file_selection(false, &mut variables)?
        } else {
            FileSelection::default()
        };
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
            devices: devices.virtual_devices,
            other_devices: devices.other,
            files,
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
        let (database, files) = if recovers {
            let database = self.database_or_variable(&mut variables)?;
            (Some(database), self.file_selection(true, &mut variables)?)
        } else {
            (None, FileSelection::default())
        };
        // RESTORE DATABASE|LOG name [WITH RECOVERY] may omit FROM: it only recovers.
        let devices = if self.eat_word("FROM") {
            self.devices(line, &mut variables)?
        } else if recovers {
            Devices {
                virtual_devices: Vec::new(),
                other: Vec::new(),
            }
        } else {
            return Err(self.unexpected());
        };
        let context = match kind {
            RestoreKind::Database => OptionContext::RestoreDatabase,
            RestoreKind::Log => OptionContext::RestoreLog,
            RestoreKind::VerifyOnly => OptionContext::VerifyOnly,
            RestoreKind::HeaderOnly | RestoreKind::FileListOnly => OptionContext::Information,
            RestoreKind::LabelOnly => OptionContext::LabelOnly,
        };
        let list = self.with_options(context, line, &mut variables)?;
        Ok(RestoreStatement {
            kind,
            database,
            devices: devices.virtual_devices,
            other_devices: devices.other,
            files,
            options: list.into_restore_options(),
            variables,
        })
    }

    /// A variable's name if the current token is one (and consumes it).
    fn eat_variable(&mut self) -> Option<String> {
        let token = self.peek().filter(|t| t.kind == TokenKind::Variable)?;
        self.pos += 1;
        Some(token.text.clone())
    }

    /// A name or string, or a variable recorded for `slot`.
    fn value_or_variable(
        &mut self,
        slot: Slot,
        variables: &mut Vec<VariableSlot>,
        name_allowed: bool,
    ) -> Parsed<String> {
        if let Some(variable) = self.eat_variable() {
            variables.push(VariableSlot { slot, variable });
            return Ok(String::new());
        }
        if name_allowed {
            self.name_or_string()
        } else {
            self.string()
        }
    }

    fn database_or_variable(&mut self, variables: &mut Vec<VariableSlot>) -> Parsed<String> {
        self.value_or_variable(Slot::Database, variables, true)
    }

    /// `FILE = x | FILEGROUP = x [, …]`, `READ_WRITE_FILEGROUPS [, FILEGROUP = x …]` and, in a
    /// RESTORE, `PAGE = 'file:page, …'`, before TO or FROM.
    fn file_selection(
        &mut self,
        restore: bool,
        variables: &mut Vec<VariableSlot>,
    ) -> Parsed<FileSelection> {
        let mut files = FileSelection::default();
        let starts = |p: &Self| {
            p.at_word("READ_WRITE_FILEGROUPS")
                || ["FILE", "FILEGROUP", "PAGE"]
                    .iter()
                    .any(|w| p.at_word(w) && p.peek_at(1).is_some_and(|t| t.is_symbol('=')))
        };
        if !starts(self) {
            return Ok(files);
        }
        loop {
            if self.eat_word("READ_WRITE_FILEGROUPS") {
                files.read_write_filegroups = true;
            } else if self.eat_word("FILEGROUP") {
                self.expect_symbol('=')?;
                let slot = Slot::Filegroup(files.filegroups.len());
                let name = self.value_or_variable(slot, variables, true)?;
                files.filegroups.push(name);
            } else if self.eat_word("FILE") {
                self.expect_symbol('=')?;
                let slot = Slot::File(files.files.len());
                let name = self.value_or_variable(slot, variables, true)?;
                files.files.push(name);
            } else if restore && files.pages.is_none() && self.eat_word("PAGE") {
                self.expect_symbol('=')?;
                files.pages = Some(self.value_or_variable(Slot::Page, variables, false)?);
            } else {
                return Err(self.unexpected());
            }
            if !self.eat_symbol(',') {
                return Ok(files);
            }
        }
    }

    /// `VIRTUAL_DEVICE|DISK|TAPE|URL = 'name'|@v` or a logical device `name|@v`, 1 to 64 of
    /// them. Names are checked when the statement runs.
    fn devices(&mut self, line: u32, variables: &mut Vec<VariableSlot>) -> Parsed<Devices> {
        let mut devices = Devices {
            virtual_devices: Vec::new(),
            other: Vec::new(),
        };
        loop {
            let Some(token) = self.peek() else {
                return Err(self.unexpected());
            };
            let typed = [
                ("VIRTUAL_DEVICE", None),
                ("DISK", Some(DeviceType::Disk)),
                ("TAPE", Some(DeviceType::Tape)),
                ("URL", Some(DeviceType::Url)),
            ]
            .into_iter()
            .find(|(w, _)| token.is_word(w) && self.peek_at(1).is_some_and(|t| t.is_symbol('=')));
            match typed {
                Some((_, kind)) => {
                    self.pos += 2;
                    let slot = match kind {
                        None => Slot::Device(devices.virtual_devices.len()),
                        Some(_) => Slot::OtherDevice(devices.other.len()),
                    };
                    let name = self.value_or_variable(slot, variables, false)?;
                    match kind {
                        None => devices.virtual_devices.push(name),
                        Some(kind) => devices.other.push(OtherDevice { kind, name }),
                    }
                }
                None => {
                    if token.kind == TokenKind::Word && token.is_reserved_keyword() {
                        return Err(token.syntax_error());
                    }
                    let slot = Slot::OtherDevice(devices.other.len());
                    let name = self.value_or_variable(slot, variables, true)?;
                    devices.other.push(OtherDevice {
                        kind: DeviceType::Logical,
                        name,
                    });
                }
            }
            if !self.eat_symbol(',') {
                break;
            }
        }
        if devices.virtual_devices.len() + devices.other.len() > MAX_DEVICES {
            return Err(messages::too_many_devices(line));
        }
        Ok(devices)
    }

    /// `[WITH option [, option …]]`, checked for repeats, conflicts, the statement kind and,
    /// last, the dates it holds.
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
        list.check_snapshot(line)?;
        list.check_dates(line)?;
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
            Shape::Flag | Shape::Move | Shape::Compression | Shape::Encryption => false,
            Shape::Filestream => false,
            Shape::OptionalInteger => self.eat_symbol('='),
            Shape::Integer | Shape::Text | Shape::NameOrText | Shape::Mark => {
                self.expect_symbol('=')?;
                true
            }
        };
        if takes_value && let Some(variable) = self.eat_variable() {
            variables.push(VariableSlot {
                slot: Slot::Option(name.keyword().to_owned()),
                variable: variable.clone(),
            });
            if shape == Shape::Mark {
                let after = self.mark_after(variables)?;
                return Ok(OptionValue::Mark {
                    mark: String::new(),
                    after,
                });
            }
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
            Shape::Text => Ok(OptionValue::Text(self.string()?)),
            Shape::NameOrText => Ok(OptionValue::Text(self.name_or_string()?)),
            Shape::Mark => {
                let mark = self.string()?;
                let after = self.mark_after(variables)?;
                Ok(OptionValue::Mark { mark, after })
            }
            Shape::Compression => {
                let mut algorithm = None;
                if self.eat_symbol('(') {
                    self.expect_word("ALGORITHM")?;
                    self.expect_symbol('=')?;
                    algorithm = Some(self.algorithm(line, &["MS_XPRESS", "QAT_DEFLATE"])?);
                    self.expect_symbol(')')?;
                }
                Ok(OptionValue::Compression(Compression { algorithm }))
            }
            Shape::Encryption => {
                self.expect_symbol('(')?;
                self.expect_word("ALGORITHM")?;
                self.expect_symbol('=')?;
                let algorithm =
                    self.algorithm(line, &["AES_128", "AES_192", "AES_256", "TRIPLE_DES_3KEY"])?;
                self.expect_symbol(',')?;
                self.expect_word("SERVER")?;
                let encryptor_type = if self.eat_word("CERTIFICATE") {
                    "CERTIFICATE"
                } else if self.eat_words(&["ASYMMETRIC", "KEY"]) {
                    "ASYMMETRIC KEY"
                } else {
                    return Err(self.unexpected());
                };
                self.expect_symbol('=')?;
                let encryptor = self.name_or_string()?;
                self.expect_symbol(')')?;
                Ok(OptionValue::Encryption(Encryption {
                    algorithm,
                    encryptor_type: encryptor_type.to_owned(),
                    encryptor,
                }))
            }
            Shape::Filestream => {
                self.expect_symbol('(')?;
                self.expect_word("DIRECTORY_NAME")?;
                self.expect_symbol('=')?;
                let directory = self.name_or_string()?;
                self.expect_symbol(')')?;
                Ok(OptionValue::Text(directory))
            }
            Shape::Move => {
                let mut name_or_variable = |p: &mut Self, physical: bool| -> Parsed<String> {
                    let slot = Slot::Move {
                        index: move_index,
                        physical,
                    };
                    p.value_or_variable(slot, variables, false)
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

    /// `[AFTER 'datetime'|@v]` after a mark: the text (empty for a variable).
    fn mark_after(&mut self, variables: &mut Vec<VariableSlot>) -> Parsed<Option<String>> {
        if !self.eat_word("AFTER") {
            return Ok(None);
        }
        let slot = Slot::Option("AFTER".to_owned());
        self.value_or_variable(slot, variables, false).map(Some)
    }

    /// An algorithm name out of `known` (upper-cased); 3217 for any other.
    fn algorithm(&mut self, line: u32, known: &[&str]) -> Parsed<String> {
        let name = self.name_or_string()?.to_ascii_uppercase();
        if known.contains(&name.as_str()) {
            Ok(name)
        } else {
            Err(messages::invalid_parameter_value(line, "ALGORITHM"))
        }
    }
}
