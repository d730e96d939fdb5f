//! CREATE, ALTER and DROP: the statements' dispatch, and databases with their files and
//! filegroups. Logins, users and permissions are in [`super::security`], tables in
//! [`super::dml`].

use super::{Parsed, Parser};
use crate::ast::{
    AlterDatabaseAction, CreateDatabaseStatement, DatabaseStateChange, DropDatabaseStatement,
    FileSize, FileSpec, FilegroupSpec, RecoveryModel, Statement, StatementKind, Termination,
    UserAccess,
};
use crate::lexer::TokenKind;
use crate::messages;

/// Reserved keywords that may appear in the value of an `ALTER DATABASE … SET` option.
const VALUE_KEYWORDS: &[&str] = &["ON", "OFF", "FULL", "DEFAULT"];

impl Parser<'_> {
    pub(super) fn create(&mut self, line: u32) -> Parsed<StatementKind> {
        self.expect_word("CREATE")?;
        if self.eat_word("DATABASE") {
            self.create_database(line)
        } else if self.eat_word("LOGIN") {
            self.create_login()
        } else if self.eat_word("USER") {
            self.create_user()
        } else if self.eat_word("TABLE") {
            self.create_table()
        } else {
            Err(self.unexpected())
        }
    }

    pub(super) fn drop(&mut self) -> Parsed<StatementKind> {
        self.expect_word("DROP")?;
        if self.eat_word("DATABASE") {
            let if_exists = self.eat_words(&["IF", "EXISTS"]);
            let mut names = vec![self.name()?];
            while self.eat_symbol(',') {
                names.push(self.name()?);
            }
            Ok(StatementKind::DropDatabase(DropDatabaseStatement {
                if_exists,
                names,
            }))
        } else if self.eat_word("LOGIN") {
            Ok(StatementKind::DropLogin(self.name()?))
        } else if self.eat_word("USER") {
            self.eat_words(&["IF", "EXISTS"]);
            Ok(StatementKind::DropUser(self.name()?))
        } else if self.eat_word("TABLE") {
            let if_exists = self.eat_words(&["IF", "EXISTS"]);
            let mut names = vec![self.object_name()?];
            while self.eat_symbol(',') {
                names.push(self.object_name()?);
            }
            Ok(StatementKind::DropTable { if_exists, names })
        } else {
            Err(self.unexpected())
        }
    }

    pub(super) fn alter(&mut self, line: u32) -> Parsed<StatementKind> {
        self.expect_word("ALTER")?;
        if self.eat_word("DATABASE") {
            self.alter_database(line)
        } else if self.eat_word("LOGIN") {
            self.alter_login()
        } else if self.eat_words(&["SERVER", "ROLE"]) {
            self.role_membership(true)
        } else if self.eat_words(&["SERVER", "CONFIGURATION"]) {
            self.suspend_for_snapshot()
        } else if self.eat_word("ROLE") {
            self.role_membership(false)
        } else {
            Err(self.unexpected())
        }
    }

    /// `SET SUSPEND_FOR_SNAPSHOT_BACKUP = ON [(GROUP = (db [, …]) [, MODE = COPY_ONLY])] | OFF`
    /// after `ALTER SERVER CONFIGURATION`.
    fn suspend_for_snapshot(&mut self) -> Parsed<StatementKind> {
        self.expect_word("SET")?;
        self.expect_word("SUSPEND_FOR_SNAPSHOT_BACKUP")?;
        self.expect_symbol('=')?;
        let on = if self.eat_word("ON") {
            true
        } else {
            self.expect_word("OFF")?;
            false
        };
        let (mut group, mut copy_only) = (Vec::new(), false);
        if on && self.eat_symbol('(') {
            loop {
                if self.eat_word("GROUP") {
                    self.expect_symbol('=')?;
                    self.expect_symbol('(')?;
                    loop {
                        group.push(self.name()?);
                        if !self.eat_symbol(',') {
                            break;
                        }
                    }
                    self.expect_symbol(')')?;
                } else {
                    self.expect_word("MODE")?;
                    self.expect_symbol('=')?;
                    self.expect_word("COPY_ONLY")?;
                    copy_only = true;
                }
                if !self.eat_symbol(',') {
                    break;
                }
            }
            self.expect_symbol(')')?;
        }
        Ok(StatementKind::SuspendForSnapshot {
            on,
            group,
            copy_only,
        })
    }

    // ---- databases -----------------------------------------------------------------------

    fn create_database(&mut self, line: u32) -> Parsed<StatementKind> {
        let mut create = CreateDatabaseStatement {
            name: self.name()?,
            ..CreateDatabaseStatement::default()
        };
        loop {
            if self.eat_word("CONTAINMENT") {
                self.expect_symbol('=')?;
                self.name()?;
            } else if self.eat_word("ON") {
                self.database_files(&mut create)?;
            } else if self.eat_words(&["LOG", "ON"]) {
                create.log_files = self.file_specs()?;
            } else if self.eat_word("COLLATE") {
                create.collation = Some(self.name()?);
            } else if self.at_word("WITH")
                && self.peek_at(1).is_some_and(|t| t.kind == TokenKind::Word)
            {
                self.pos += 1;
                self.skip_option_list()?;
            } else if self.at_word("FOR")
                && (self.at_word_at(1, "ATTACH") || self.at_word_at(1, "ATTACH_REBUILD_LOG"))
            {
                self.pos += 2;
                create.for_attach = true;
            } else if !self.create_database_extension(line, &mut create)? {
                return Ok(StatementKind::CreateDatabase(create));
            }
        }
    }

    /// vdisim's own clauses: `SIZE = n [MB|GB|TB]`, `RECOVERY FULL|SIMPLE`, `FILESTREAM n`.
    fn create_database_extension(
        &mut self,
        line: u32,
        create: &mut CreateDatabaseStatement,
    ) -> Parsed<bool> {
        if self.eat_word("SIZE") {
            if create.size_mb.is_some() {
                return Err(messages::duplicate_option(line, "SIZE"));
            }
            self.eat_symbol('=');
            let value = self.integer()?;
            let unit = if self.eat_word("GB") {
                1024
            } else if self.eat_word("TB") {
                1024 * 1024
            } else {
                self.eat_word("MB");
                1
            };
            const MAX_MB: i64 = 1024 * 1024;
            let size = value.saturating_mul(unit);
            if !(1..=MAX_MB).contains(&size) {
                return Err(messages::extension_value_out_of_range(
                    line,
                    "SIZE (in MB)",
                    size,
                    1,
                    MAX_MB as u64,
                ));
            }
            create.size_mb = Some(size as u64);
        } else if self.eat_word("RECOVERY") {
            if create.recovery.is_some() {
                return Err(messages::duplicate_option(line, "RECOVERY"));
            }
            create.recovery = Some(if self.eat_word("FULL") {
                RecoveryModel::Full
            } else if self.eat_word("SIMPLE") {
                RecoveryModel::Simple
            } else {
                return Err(self.unexpected());
            });
        } else if self.eat_word("FILESTREAM") {
            if create.filestream_containers.is_some() {
                return Err(messages::duplicate_option(line, "FILESTREAM"));
            }
            self.eat_symbol('=');
            const MAX_CONTAINERS: i64 = 16;
            let value = self.integer()?;
            if !(0..=MAX_CONTAINERS).contains(&value) {
                return Err(messages::extension_value_out_of_range(
                    line,
                    "FILESTREAM",
                    value,
                    0,
                    MAX_CONTAINERS as u64,
                ));
            }
            create.filestream_containers = Some(value as u32);
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// `[PRIMARY] (file), … [, FILEGROUP fg [CONTAINS FILESTREAM] [DEFAULT] (file), …]`
    fn database_files(&mut self, create: &mut CreateDatabaseStatement) -> Parsed<()> {
        self.eat_word("PRIMARY");
        loop {
            if self.eat_word("FILEGROUP") {
                let name = self.name()?;
                let filestream = self.filegroup_contents()?;
                let default = self.eat_word("DEFAULT");
                let files = vec![self.file_spec()?];
                create.filegroups.push(FilegroupSpec {
                    name,
                    filestream,
                    default,
                    files,
                });
            } else {
                let spec = self.file_spec()?;
                match create.filegroups.last_mut() {
                    Some(group) => group.files.push(spec),
                    None => create.primary_files.push(spec),
                }
            }
            if !self.eat_symbol(',') {
                return Ok(());
            }
        }
    }

    /// `[CONTAINS FILESTREAM | CONTAINS MEMORY_OPTIMIZED_DATA]`: whether FILESTREAM.
    fn filegroup_contents(&mut self) -> Parsed<bool> {
        if !self.eat_word("CONTAINS") {
            return Ok(false);
        }
        if self.eat_word("FILESTREAM") {
            Ok(true)
        } else if self.eat_word("MEMORY_OPTIMIZED_DATA") {
            Ok(false)
        } else {
            Err(self.unexpected())
        }
    }

    /// `(file), (file), …`
    fn file_specs(&mut self) -> Parsed<Vec<FileSpec>> {
        let mut specs = vec![self.file_spec()?];
        while self.at_symbol(',') && self.peek_at(1).is_some_and(|t| t.is_symbol('(')) {
            self.pos += 1;
            specs.push(self.file_spec()?);
        }
        Ok(specs)
    }

    /// `(NAME = n, FILENAME = 'p', SIZE = 8MB, MAXSIZE = UNLIMITED, FILEGROWTH = 10%)`
    fn file_spec(&mut self) -> Parsed<FileSpec> {
        self.expect_symbol('(')?;
        let mut spec = FileSpec {
            logical_name: String::new(),
            physical_name: None,
            size: None,
            max_size: None,
            growth: None,
            new_name: None,
        };
        loop {
            let Some(token) = self.peek().filter(|t| t.kind == TokenKind::Word) else {
                return Err(self.unexpected());
            };
            let option = token.text.to_ascii_uppercase();
            self.pos += 1;
            if option == "OFFLINE" {
                // A file marked offline: accepted, not emulated.
            } else {
                self.expect_symbol('=')?;
                match option.as_str() {
                    "NAME" => spec.logical_name = self.name_or_string()?,
                    "NEWNAME" => spec.new_name = Some(self.name_or_string()?),
                    "FILENAME" => spec.physical_name = Some(self.string()?),
                    "SIZE" => spec.size = Some(self.file_size(false)?),
                    "MAXSIZE" => spec.max_size = Some(self.file_size(false)?),
                    "FILEGROWTH" => spec.growth = Some(self.file_size(true)?),
                    _ => {
                        self.pos -= 2;
                        return Err(self.unexpected());
                    }
                }
            }
            if !self.eat_symbol(',') {
                break;
            }
        }
        self.expect_symbol(')')?;
        Ok(spec)
    }

    /// `n [KB|MB|GB|TB]` (MB when no unit), `n%` where `percent` allows it, or `UNLIMITED`.
    fn file_size(&mut self, percent: bool) -> Parsed<FileSize> {
        if self.eat_word("UNLIMITED") {
            return Ok(FileSize::Unlimited);
        }
        let line = self.line();
        let value = self.integer()?;
        let value = u64::try_from(value).map_err(|_| messages::arithmetic_overflow_int(line))?;
        if percent && self.eat_symbol('%') {
            let value =
                u32::try_from(value).map_err(|_| messages::arithmetic_overflow_int(line))?;
            return Ok(FileSize::Percent(value));
        }
        let shift = if self.eat_word("KB") {
            10
        } else if self.eat_word("GB") {
            30
        } else if self.eat_word("TB") {
            40
        } else {
            self.eat_word("MB");
            20
        };
        Ok(FileSize::Bytes(value.saturating_mul(1 << shift)))
    }

    /// `WITH option [= value | (…)] [, …]` of CREATE DATABASE: accepted and ignored.
    pub(super) fn skip_option_list(&mut self) -> Parsed<()> {
        loop {
            self.name()?;
            if self.eat_symbol('=') || self.at_word("ON") || self.at_word("OFF") {
                if self.at_symbol('(') {
                    self.skip_parenthesized()?;
                } else if self.advance().is_none() {
                    return Err(self.unexpected());
                }
            }
            if self.at_symbol('(') {
                self.skip_parenthesized()?;
            }
            if !self.eat_symbol(',') {
                return Ok(());
            }
        }
    }

    fn alter_database(&mut self, line: u32) -> Parsed<StatementKind> {
        let database = if self.eat_word("CURRENT") {
            None
        } else {
            Some(self.name()?)
        };
        let actions = if self.eat_word("SET") {
            self.alter_database_set()?
        } else if self.eat_words(&["MODIFY", "FILE"]) {
            vec![AlterDatabaseAction::ModifyFile(self.file_spec()?)]
        } else if self.eat_words(&["MODIFY", "NAME"]) {
            self.expect_symbol('=')?;
            vec![AlterDatabaseAction::Rename(self.name()?)]
        } else if self.eat_words(&["MODIFY", "FILEGROUP"]) {
            let name = self.name()?;
            let change = if self.eat_word("NAME") {
                self.expect_symbol('=')?;
                format!("NAME = {}", self.name()?)
            } else {
                match self.advance() {
                    Some(t) if t.kind == TokenKind::Word => t.text.to_ascii_uppercase(),
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected());
                    }
                }
            };
            vec![AlterDatabaseAction::ModifyFilegroup { name, change }]
        } else if self.eat_words(&["ADD", "LOG", "FILE"]) {
            vec![AlterDatabaseAction::AddLogFiles(self.file_specs()?)]
        } else if self.eat_words(&["ADD", "FILE"]) {
            let files = self.file_specs()?;
            let filegroup = if self.eat_words(&["TO", "FILEGROUP"]) {
                Some(self.name()?)
            } else {
                None
            };
            vec![AlterDatabaseAction::AddFiles { files, filegroup }]
        } else if self.eat_words(&["ADD", "FILEGROUP"]) {
            let name = self.name()?;
            let filestream = self.filegroup_contents()?;
            vec![AlterDatabaseAction::AddFilegroup { name, filestream }]
        } else if self.eat_words(&["REMOVE", "FILE"]) {
            vec![AlterDatabaseAction::RemoveFile(self.name_or_string()?)]
        } else if self.eat_word("COLLATE") {
            vec![AlterDatabaseAction::SetOther {
                option: "COLLATE".to_owned(),
                value: self.name()?,
            }]
        } else {
            return Err(self.unexpected());
        };
        let mut statements: Vec<Statement> = actions
            .into_iter()
            .map(|action| Statement {
                line,
                kind: StatementKind::AlterDatabase {
                    database: database.clone(),
                    action,
                },
            })
            .collect();
        // Several options in one SET run as a block of one statement each.
        if statements.len() == 1 {
            Ok(statements.remove(0).kind)
        } else {
            Ok(StatementKind::Block(statements))
        }
    }

    /// `option [, option …] [WITH termination]` after SET.
    fn alter_database_set(&mut self) -> Parsed<Vec<AlterDatabaseAction>> {
        let mut actions = Vec::new();
        loop {
            actions.push(self.alter_database_option()?);
            if !self.eat_symbol(',') {
                break;
            }
        }
        let termination = if self.at_word("WITH") {
            self.pos += 1;
            Some(self.termination()?)
        } else {
            None
        };
        for action in &mut actions {
            match action {
                AlterDatabaseAction::UserAccess { termination: t, .. }
                | AlterDatabaseAction::State { termination: t, .. }
                | AlterDatabaseAction::ReadOnly { termination: t, .. } => *t = termination,
                _ => {}
            }
        }
        Ok(actions)
    }

    fn alter_database_option(&mut self) -> Parsed<AlterDatabaseAction> {
        let Some(token) = self.peek().filter(|t| t.kind == TokenKind::Word) else {
            return Err(self.unexpected());
        };
        let option = token.text.to_ascii_uppercase();
        self.pos += 1;
        let access = |access| AlterDatabaseAction::UserAccess {
            access,
            termination: None,
        };
        let state = |state| AlterDatabaseAction::State {
            state,
            termination: None,
        };
        let read_only = |read_only| AlterDatabaseAction::ReadOnly {
            read_only,
            termination: None,
        };
        Ok(match option.as_str() {
            "RECOVERY" => AlterDatabaseAction::Recovery(if self.eat_word("FULL") {
                RecoveryModel::Full
            } else if self.eat_word("SIMPLE") {
                RecoveryModel::Simple
            } else if self.eat_word("BULK_LOGGED") {
                RecoveryModel::BulkLogged
            } else {
                return Err(self.unexpected());
            }),
            "SINGLE_USER" => access(UserAccess::SingleUser),
            "RESTRICTED_USER" => access(UserAccess::RestrictedUser),
            "MULTI_USER" => access(UserAccess::MultiUser),
            "ONLINE" => state(DatabaseStateChange::Online),
            "OFFLINE" => state(DatabaseStateChange::Offline),
            "EMERGENCY" => state(DatabaseStateChange::Emergency),
            "READ_ONLY" => read_only(true),
            "READ_WRITE" => read_only(false),
            _ => AlterDatabaseAction::SetOther {
                option,
                value: self.option_value_text()?,
            },
        })
    }

    /// The tokens of an option's value up to `,`, `;`, WITH or the next statement, as
    /// upper-cased text (`= 160` → `160`, `= ON (MODE = COPY_ONLY)` → `ON (MODE = COPY_ONLY)`).
    fn option_value_text(&mut self) -> Parsed<String> {
        self.eat_symbol('=');
        let mut text = String::new();
        let mut depth = 0u32;
        while let Some(token) = self.peek() {
            let stops = depth == 0
                && (token.is_symbol(',')
                    || token.is_symbol(';')
                    || (token.is_reserved_keyword()
                        && !VALUE_KEYWORDS.iter().any(|k| token.is_word(k))));
            if stops || (depth == 0 && token.is_symbol(')')) {
                break;
            }
            if token.is_symbol('(') {
                depth += 1;
            } else if token.is_symbol(')') {
                depth -= 1;
            }
            let glue = !(text.is_empty()
                || text.ends_with('(')
                || token.is_symbol(')')
                || token.is_symbol(','));
            if glue {
                text.push(' ');
            }
            text.push_str(&token.near_text().to_ascii_uppercase());
            self.pos += 1;
        }
        if depth > 0 {
            return Err(self.unexpected());
        }
        Ok(text)
    }

    /// `ROLLBACK IMMEDIATE | ROLLBACK AFTER n [SECONDS] | NO_WAIT` (WITH is read).
    fn termination(&mut self) -> Parsed<Termination> {
        if self.eat_word("NO_WAIT") {
            return Ok(Termination::NoWait);
        }
        self.expect_word("ROLLBACK")?;
        if self.eat_word("IMMEDIATE") {
            return Ok(Termination::RollbackImmediate);
        }
        self.expect_word("AFTER")?;
        let line = self.line();
        let seconds = self.integer()?;
        let seconds =
            u32::try_from(seconds).map_err(|_| messages::arithmetic_overflow_int(line))?;
        self.eat_word("SECONDS");
        Ok(Termination::RollbackAfter(seconds))
    }
}
