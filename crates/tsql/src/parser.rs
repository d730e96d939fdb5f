//! A recursive-descent parser over the lexer's tokens.
//!
//! Syntax errors (level 15) carry the line of the offending token; at the end of the batch,
//! the line of the last token, which SQL Server also names. Errors found while checking a
//! well-formed statement (level 16: bad option values, too many devices) carry the line the
//! statement starts on, where SQL Server reports errors raised while a statement runs.

use crate::ast::{
    BackupKind, BackupStatement, CreateDatabaseStatement, DropDatabaseStatement, FileMove,
    PrintValue, RecoveryModel, RestoreKind, RestoreStatement, SortOrder, Statement, StatementKind,
    SystemVariable,
};
use crate::lexer::{Token, TokenKind, tokenize};
use crate::messages::{self, SqlMessage};
use crate::options::{
    self, MAX_DEVICES, OptionContext, OptionList, OptionName, OptionValue, Shape,
};

/// Parses one batch (the text between two `GO` lines) into its statements.
///
/// `first_line` is the number given to the first line of `text`: pass 1 for SQL Server's
/// batch-relative numbering (what sqlcmd prints), or [`crate::Batch::first_line`] for
/// script-relative numbering. A batch holding only comments gives no statements.
pub fn parse_batch(text: &str, first_line: u32) -> Result<Vec<Statement>, SqlMessage> {
    let tokens = tokenize(text, first_line)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        first_line,
    };
    parser.statements()
}

/// Words that start a statement; a statement may follow another without a `;`.
const STATEMENT_STARTS: &[&str] = &[
    "BACKUP", "RESTORE", "CREATE", "DROP", "ALTER", "SELECT", "USE", "PRINT", "WAITFOR", "DBCC",
];

type Parsed<T> = Result<T, SqlMessage>;

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    first_line: u32,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<&'t Token> {
        self.tokens.get(self.pos)
    }

    fn advance(&mut self) -> Option<&'t Token> {
        let token = self.tokens.get(self.pos)?;
        self.pos += 1;
        Some(token)
    }

    fn at_word(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.at_word(word);
        if found {
            self.pos += 1;
        }
        found
    }

    fn eat_symbol(&mut self, symbol: char) -> bool {
        let found = self.peek().is_some_and(|t| t.is_symbol(symbol));
        if found {
            self.pos += 1;
        }
        found
    }

    /// The syntax error at the current token, or at the last token when the batch has ended.
    fn unexpected(&self) -> SqlMessage {
        match self.peek().or_else(|| self.tokens.last()) {
            Some(token) => token.syntax_error(),
            None => messages::incorrect_syntax(self.first_line, ""),
        }
    }

    fn expect_word(&mut self, word: &str) -> Parsed<&'t Token> {
        match self.peek() {
            Some(token) if token.is_word(word) => {
                self.pos += 1;
                Ok(token)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn expect_symbol(&mut self, symbol: char) -> Parsed<()> {
        if self.eat_symbol(symbol) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn statements(&mut self) -> Parsed<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            while self.eat_symbol(';') {}
            let Some(first) = self.peek() else {
                return Ok(statements);
            };
            let kind = self.statement()?;
            statements.push(Statement {
                line: first.line,
                kind,
            });
            match self.peek() {
                None => return Ok(statements),
                Some(t) if t.is_symbol(';') => {}
                Some(t) if STATEMENT_STARTS.iter().any(|w| t.is_word(w)) => {}
                Some(_) => return Err(self.unexpected()),
            }
        }
    }

    fn statement(&mut self) -> Parsed<StatementKind> {
        let Some(first) = self.peek() else {
            return Err(self.unexpected());
        };
        let line = first.line;
        if first.kind != TokenKind::Word {
            return Err(self.unexpected());
        }
        match first.text.to_ascii_uppercase().as_str() {
            "BACKUP" => self.backup(line).map(StatementKind::Backup),
            "RESTORE" => self.restore(line).map(StatementKind::Restore),
            "CREATE" => self.create_database(line),
            "DROP" => self.drop_database(),
            "ALTER" => self.alter_database(),
            "SELECT" => self.select(),
            "USE" => {
                self.advance();
                let database = self.name()?;
                Ok(StatementKind::Use { database })
            }
            "PRINT" => self.print(),
            "WAITFOR" => self.waitfor(),
            "DBCC" => self.workload(),
            _ => Err(self.unexpected()),
        }
    }

    /// `DBCC VDISIM_WORKLOAD ('database', pages)`: vdisim's extension that changes `pages`
    /// pages of a database (and logs them), so backup chains can be built from T-SQL.
    fn workload(&mut self) -> Parsed<StatementKind> {
        self.expect_word("DBCC")?;
        self.expect_word("VDISIM_WORKLOAD")?;
        self.expect_symbol('(')?;
        let database = self.name_or_string()?;
        self.expect_symbol(',')?;
        let line = self.peek().map_or(self.first_line, |t| t.line);
        let pages = self.integer()?;
        self.expect_symbol(')')?;
        let pages = u32::try_from(pages)
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or_else(|| messages::value_out_of_range(line, pages, "VDISIM_WORKLOAD pages"))?;
        Ok(StatementKind::Workload { database, pages })
    }

    /// A database name: an unreserved word, `[name]` or `"name"`.
    fn name(&mut self) -> Parsed<String> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        if let Some(name) = token.identifier() {
            self.pos += 1;
            return Ok(name.to_owned());
        }
        if token.kind == TokenKind::Variable {
            return Err(messages::must_declare_variable(token.line, &token.text));
        }
        Err(self.unexpected())
    }

    /// A name that may also be written as a string literal (BACKUP and RESTORE).
    fn name_or_string(&mut self) -> Parsed<String> {
        if let Some(Token {
            kind: TokenKind::String { value, .. },
            ..
        }) = self.peek()
        {
            self.pos += 1;
            return Ok(value.clone());
        }
        self.name()
    }

    /// A string literal (plain or N'…'); a variable gets 137.
    fn string(&mut self) -> Parsed<String> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::String { value, .. },
                ..
            }) => {
                self.pos += 1;
                Ok(value.clone())
            }
            Some(t) if t.kind == TokenKind::Variable => {
                Err(messages::must_declare_variable(t.line, &t.text))
            }
            _ => Err(self.unexpected()),
        }
    }

    /// An optionally negative integer literal.
    fn integer(&mut self) -> Parsed<i64> {
        let negative = self.eat_symbol('-');
        match self.peek() {
            Some(t) if t.kind == TokenKind::Integer => {
                self.pos += 1;
                let value: i64 = t
                    .text
                    .parse()
                    .map_err(|_| messages::arithmetic_overflow_int(t.line))?;
                Ok(if negative { -value } else { value })
            }
            Some(t) if t.kind == TokenKind::Variable => {
                Err(messages::must_declare_variable(t.line, &t.text))
            }
            _ => Err(self.unexpected()),
        }
    }

    // ---- BACKUP / RESTORE ---------------------------------------------------------------

    fn backup(&mut self, line: u32) -> Parsed<BackupStatement> {
        self.expect_word("BACKUP")?;
        let kind = if self.eat_word("DATABASE") {
            BackupKind::Database
        } else if self.eat_word("LOG") {
            BackupKind::Log
        } else {
            return Err(self.unexpected());
        };
        let database = self.name_or_string()?;
        self.expect_word("TO")?;
        let devices = self.devices(line)?;
        let context = match kind {
            BackupKind::Database => OptionContext::BackupDatabase,
            BackupKind::Log => OptionContext::BackupLog,
        };
        let list = self.with_options(context, line)?;
        Ok(BackupStatement {
            kind,
            database,
            devices,
            options: list.into_backup_options(),
            variables: Vec::new(),
        })
    }

    fn restore(&mut self, line: u32) -> Parsed<RestoreStatement> {
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
        let recovers = matches!(kind, RestoreKind::Database | RestoreKind::Log);
        let database = if recovers {
            Some(self.name_or_string()?)
        } else {
            None
        };
        // RESTORE DATABASE|LOG name [WITH RECOVERY] may omit FROM: it only recovers.
        let devices = if self.eat_word("FROM") {
            self.devices(line)?
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
        let list = self.with_options(context, line)?;
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
            variables: Vec::new(),
        })
    }

    /// `VIRTUAL_DEVICE = 'name' [, VIRTUAL_DEVICE = 'name' …]`: 1 to 64 distinct names.
    fn devices(&mut self, line: u32) -> Parsed<Vec<String>> {
        let mut devices: Vec<String> = Vec::new();
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
            devices.push(self.string()?);
            if !self.eat_symbol(',') {
                break;
            }
        }
        if devices.len() > MAX_DEVICES {
            return Err(messages::too_many_devices(line));
        }
        for (i, device) in devices.iter().enumerate() {
            if devices[..i].contains(device) {
                return Err(messages::duplicate_device(line, device));
            }
        }
        Ok(devices)
    }

    /// `[WITH option [, option …]]`, checked for repeats, conflicts and the statement kind.
    fn with_options(&mut self, context: OptionContext, line: u32) -> Parsed<OptionList> {
        let mut list = OptionList::default();
        if !self.eat_word("WITH") {
            return Ok(list);
        }
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
            let value = self.option_value(name, line)?;
            list.push(name, value, line)?;
            if !self.eat_symbol(',') {
                break;
            }
        }
        list.check_allowed(context, line)?;
        Ok(list)
    }

    fn option_value(&mut self, name: OptionName, line: u32) -> Parsed<OptionValue> {
        match name.shape() {
            Shape::Flag => Ok(OptionValue::None),
            Shape::Integer => {
                self.expect_symbol('=')?;
                let value = self.integer()?;
                Ok(OptionValue::Integer(options::validate_integer(
                    name, value, line,
                )?))
            }
            Shape::OptionalInteger => {
                if !self.eat_symbol('=') {
                    return Ok(OptionValue::None);
                }
                let value = self.integer()?;
                Ok(OptionValue::Integer(options::validate_integer(
                    name, value, line,
                )?))
            }
            Shape::Text => {
                self.expect_symbol('=')?;
                let named = matches!(name, OptionName::Name | OptionName::MediaName);
                let text = if named {
                    self.name_or_string()?
                } else {
                    self.string()?
                };
                Ok(OptionValue::Text(text))
            }
            Shape::Move => {
                let logical_name = self.string()?;
                self.expect_word("TO")?;
                let physical_name = self.string()?;
                Ok(OptionValue::Move(FileMove {
                    logical_name,
                    physical_name,
                }))
            }
        }
    }

    // ---- databases ------------------------------------------------------------------------

    fn create_database(&mut self, line: u32) -> Parsed<StatementKind> {
        self.expect_word("CREATE")?;
        self.expect_word("DATABASE")?;
        let name = self.name()?;
        let mut create = CreateDatabaseStatement {
            name,
            primary_files: Vec::new(),
            filegroups: Vec::new(),
            log_files: Vec::new(),
            collation: None,
            for_attach: false,
            size_mb: None,
            recovery: None,
            filestream_containers: None,
        };
        loop {
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
                create.recovery = Some(self.recovery_model()?);
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
                return Ok(StatementKind::CreateDatabase(create));
            }
        }
    }

    fn recovery_model(&mut self) -> Parsed<RecoveryModel> {
        if self.eat_word("FULL") {
            Ok(RecoveryModel::Full)
        } else if self.eat_word("SIMPLE") {
            Ok(RecoveryModel::Simple)
        } else {
            Err(self.unexpected())
        }
    }

    fn drop_database(&mut self) -> Parsed<StatementKind> {
        self.expect_word("DROP")?;
        self.expect_word("DATABASE")?;
        let if_exists = if self.at_word("IF") {
            self.advance();
            self.expect_word("EXISTS")?;
            true
        } else {
            false
        };
        let mut names = vec![self.name()?];
        while self.eat_symbol(',') {
            names.push(self.name()?);
        }
        Ok(StatementKind::DropDatabase(DropDatabaseStatement {
            if_exists,
            names,
        }))
    }

    fn alter_database(&mut self) -> Parsed<StatementKind> {
        self.expect_word("ALTER")?;
        self.expect_word("DATABASE")?;
        let database = self.name()?;
        self.expect_word("SET")?;
        self.expect_word("RECOVERY")?;
        let model = self.recovery_model()?;
        Ok(StatementKind::AlterDatabaseRecovery { database, model })
    }

    // ---- SELECT, PRINT, WAITFOR -------------------------------------------------------------

    fn system_variable(&mut self) -> Parsed<SystemVariable> {
        let Some(token) = self.advance() else {
            return Err(self.unexpected());
        };
        if token.text.eq_ignore_ascii_case("@@VERSION") {
            Ok(SystemVariable::Version)
        } else if token.text.eq_ignore_ascii_case("@@SERVERNAME") {
            Ok(SystemVariable::ServerName)
        } else {
            Err(messages::must_declare_variable(token.line, &token.text))
        }
    }

    fn select(&mut self) -> Parsed<StatementKind> {
        self.expect_word("SELECT")?;
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        match &token.kind {
            TokenKind::SystemVariable => {
                Ok(StatementKind::SelectSystemVariable(self.system_variable()?))
            }
            TokenKind::Variable => Err(messages::must_declare_variable(token.line, &token.text)),
            _ => {
                let column_token = token;
                let column = self.name()?;
                self.expect_word("FROM")?;
                self.database_catalog()?;
                if !column.eq_ignore_ascii_case("name") {
                    return Err(messages::invalid_column(column_token.line, &column));
                }
                let order = self.order_by_name()?;
                Ok(StatementKind::SelectDatabaseNames { order })
            }
        }
    }

    /// `[master.]sys.databases`; any other table gets 208.
    fn database_catalog(&mut self) -> Parsed<()> {
        let first = self.peek();
        let mut parts = vec![self.name()?];
        while self.eat_symbol('.') {
            parts.push(self.name()?);
        }
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        let known = match lower.as_slice() {
            [schema, table] => schema == "sys" && table == "databases",
            [db, schema, table] => db == "master" && schema == "sys" && table == "databases",
            _ => false,
        };
        if known {
            Ok(())
        } else {
            let line = first.map_or(self.first_line, |t| t.line);
            Err(messages::invalid_object(line, &parts.join(".")))
        }
    }

    fn order_by_name(&mut self) -> Parsed<Option<SortOrder>> {
        if !self.eat_word("ORDER") {
            return Ok(None);
        }
        self.expect_word("BY")?;
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let column = self.name()?;
        if !column.eq_ignore_ascii_case("name") {
            return Err(messages::invalid_column(token.line, &column));
        }
        if self.eat_word("DESC") {
            Ok(Some(SortOrder::Descending))
        } else {
            self.eat_word("ASC");
            Ok(Some(SortOrder::Ascending))
        }
    }

    fn print(&mut self) -> Parsed<StatementKind> {
        self.expect_word("PRINT")?;
        match self.peek() {
            Some(t) if t.kind == TokenKind::SystemVariable => Ok(StatementKind::Print(
                PrintValue::Variable(self.system_variable()?),
            )),
            Some(t) if t.kind == TokenKind::Integer => {
                self.pos += 1;
                Ok(StatementKind::Print(PrintValue::Text(t.text.clone())))
            }
            _ => Ok(StatementKind::Print(PrintValue::Text(self.string()?))),
        }
    }

    fn waitfor(&mut self) -> Parsed<StatementKind> {
        self.expect_word("WAITFOR")?;
        self.expect_word("DELAY")?;
        let Some(token) = self.peek() else {
            return Err(self.unexpected());
        };
        let text = self.string()?;
        let (h, m, s, ms) = options::parse_time_of_day(text.trim())
            .ok_or_else(|| messages::incorrect_time_syntax(token.line, &text))?;
        let milliseconds =
            ((u64::from(h) * 60 + u64::from(m)) * 60 + u64::from(s)) * 1000 + u64::from(ms);
        Ok(StatementKind::WaitForDelay { milliseconds })
    }
}
