//! The message catalogue: every message the fake server sends to a client.
//!
//! The engine builds messages only through the constructors here, so every number, level, state
//! and text lives in one place (and in `docs/sql-messages.md`). Every constructor takes the
//! batch line the message refers to first.

use std::fmt::{self, Display};
use std::time::Duration;

use serde::Serialize;

mod backup;
pub use backup::*;

/// One message as SQL Server sends it: an error (level > 10) or an informational message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlMessage {
    pub number: u32,
    pub level: u8,
    pub state: u8,
    pub line: u32,
    pub text: String,
    pub procedure: Option<String>,
}

impl SqlMessage {
    pub fn new(number: u32, level: u8, state: u8, line: u32, text: impl Into<String>) -> Self {
        SqlMessage {
            number,
            level,
            state,
            line,
            text: text.into(),
            procedure: None,
        }
    }

    /// The same message reported at another line.
    #[must_use]
    pub fn at_line(mut self, line: u32) -> Self {
        self.line = line;
        self
    }

    /// Errors have a severity level above 10; levels 0..=10 are informational.
    pub fn is_error(&self) -> bool {
        self.level > 10
    }

    /// The message exactly as sqlcmd prints it, without a trailing newline.
    ///
    /// Errors get sqlcmd's header line; informational messages print as their bare text.
    pub fn render(&self, server_name: &str) -> String {
        if !self.is_error() {
            return self.text.clone();
        }
        let procedure = match &self.procedure {
            Some(p) => format!(", Procedure {p}"),
            None => String::new(),
        };
        format!(
            "Msg {}, Level {}, State {}, Server {}{}, Line {}\n{}",
            self.number, self.level, self.state, server_name, procedure, self.line, self.text
        )
    }
}

impl Display for SqlMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Msg {}, Level {}, State {}, Line {}: {}",
            self.number, self.level, self.state, self.line, self.text
        )
    }
}

impl std::error::Error for SqlMessage {}

/// The operation named in messages 3013 and 3014.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Operation {
    BackupDatabase,
    BackupDatabaseDifferential,
    BackupLog,
    RestoreDatabase,
    RestoreLog,
    RestoreVerifyOnly,
    RestoreHeaderOnly,
    RestoreFileListOnly,
    RestoreLabelOnly,
}

impl Operation {
    /// The name SQL Server puts in "… is terminating abnormally." (3013).
    pub fn terminating_name(self) -> &'static str {
        match self {
            Operation::BackupDatabase | Operation::BackupDatabaseDifferential => "BACKUP DATABASE",
            Operation::BackupLog => "BACKUP LOG",
            Operation::RestoreDatabase => "RESTORE DATABASE",
            Operation::RestoreLog => "RESTORE LOG",
            Operation::RestoreVerifyOnly => "VERIFY DATABASE",
            Operation::RestoreHeaderOnly => "RESTORE HEADERONLY",
            Operation::RestoreFileListOnly => "RESTORE FILELIST",
            Operation::RestoreLabelOnly => "RESTORE LABELONLY",
        }
    }

    /// The name SQL Server puts in "… successfully processed N pages …" (3014).
    pub fn success_name(self) -> &'static str {
        match self {
            Operation::BackupDatabaseDifferential => "BACKUP DATABASE WITH DIFFERENTIAL",
            other => other.terminating_name(),
        }
    }
}

const BATCH_SYNTAX: u8 = 15;
const USER_ERROR: u8 = 16;
const INFO: u8 = 0;

fn msg(number: u32, level: u8, state: u8, line: u32, text: String) -> SqlMessage {
    SqlMessage::new(number, level, state, line, text)
}

/// The text SQL Server shows for an operating-system error code, as "code(text)".
///
/// HRESULT-style codes (0x8000_0000 and above, e.g. VD_E_*) print in hex, Win32 codes in decimal.
pub fn os_error(code: u32) -> String {
    let text = match code {
        0 => "The operation completed successfully.",
        2 => "The system cannot find the file specified.",
        5 => "Access is denied.",
        32 => "The process cannot access the file because it is being used by another process.",
        6 => "The handle is invalid.",
        38 => "Reached the end of the file.",
        50 => "The request is not supported.",
        87 => "The parameter is incorrect.",
        112 => "There is not enough space on the disk.",
        995 => {
            "The I/O operation has been aborted because of either a thread exit or an application request."
        }
        1117 => "The request could not be performed because of an I/O device error.",
        1460 => "This operation returned because the timeout period expired.",
        _ => "failed to retrieve text for this error. Reason: 15105",
    };
    if code >= 0x8000_0000 {
        format!("0x{code:08x}({text})")
    } else {
        format!("{code}({text})")
    }
}

// ---- syntax (level 15) -------------------------------------------------------------------

/// 102: a token that does not fit the grammar.
pub fn incorrect_syntax(line: u32, near: &str) -> SqlMessage {
    msg(
        102,
        BATCH_SYNTAX,
        1,
        line,
        format!("Incorrect syntax near '{near}'."),
    )
}

/// 103: an identifier longer than 128 characters.
pub fn identifier_too_long(line: u32, identifier: &str) -> SqlMessage {
    let start: String = identifier.chars().take(128).collect();
    msg(
        103,
        BATCH_SYNTAX,
        4,
        line,
        format!("The identifier that starts with '{start}' is too long. Maximum length is 128."),
    )
}

/// 105: a string, `[identifier]` or `"identifier"` that never ends.
pub fn unclosed_quotation(line: u32, rest: &str) -> SqlMessage {
    msg(
        105,
        BATCH_SYNTAX,
        1,
        line,
        format!("Unclosed quotation mark after the character string '{rest}'."),
    )
}

/// 113: a `/*` comment that never ends.
pub fn missing_end_comment(line: u32) -> SqlMessage {
    msg(
        113,
        BATCH_SYNTAX,
        1,
        line,
        "Missing end comment mark '*/'.".to_owned(),
    )
}

/// 137: a `@variable` (or an unknown `@@function`) where a value is needed.
pub fn must_declare_variable(line: u32, variable: &str) -> SqlMessage {
    msg(
        137,
        BATCH_SYNTAX,
        2,
        line,
        format!("Must declare the scalar variable \"{variable}\"."),
    )
}

/// 148: a WAITFOR DELAY time string that is not `hh:mm[:ss[.mmm]]`.
pub fn incorrect_time_syntax(line: u32, time: &str) -> SqlMessage {
    msg(
        148,
        BATCH_SYNTAX,
        1,
        line,
        format!("Incorrect time syntax in time string '{time}' used with WAITFOR."),
    )
}

/// 155: an unknown WITH option; `statement` is "BACKUP" or "RESTORE".
pub fn unrecognized_option(line: u32, option: &str, statement: &str) -> SqlMessage {
    msg(
        155,
        BATCH_SYNTAX,
        1,
        line,
        format!("'{option}' is not a recognized {statement} option."),
    )
}

/// 156: a reserved keyword that does not fit the grammar.
pub fn incorrect_syntax_keyword(line: u32, keyword: &str) -> SqlMessage {
    msg(
        156,
        BATCH_SYNTAX,
        1,
        line,
        format!("Incorrect syntax near the keyword '{keyword}'."),
    )
}

// ---- the parser's checks of well-formed syntax ---------------------------------------------

/// 131: a string or binary length above the type's maximum; `what` is SQL Server's word for
/// the place ("type", "column", "convert specification") and `name` the type or column.
pub fn size_exceeds_maximum(line: u32, size: u64, what: &str, name: &str, max: u32) -> SqlMessage {
    msg(
        131,
        BATCH_SYNTAX,
        2,
        line,
        format!(
            "The size ({size}) given to the {what} '{name}' exceeds the maximum allowed for any data type ({max})."
        ),
    )
}

/// 135: BREAK outside a WHILE loop.
pub fn break_outside_while(line: u32) -> SqlMessage {
    msg(
        135,
        BATCH_SYNTAX,
        1,
        line,
        "Cannot use a BREAK statement outside the scope of a WHILE statement.".to_owned(),
    )
}

/// 136: CONTINUE outside a WHILE loop.
pub fn continue_outside_while(line: u32) -> SqlMessage {
    msg(
        136,
        BATCH_SYNTAX,
        1,
        line,
        "Cannot use a CONTINUE statement outside the scope of a WHILE statement.".to_owned(),
    )
}

/// 168: a float literal beyond the range of float (`1e400`).
pub fn float_out_of_range(line: u32, literal: &str) -> SqlMessage {
    msg(
        168,
        BATCH_SYNTAX,
        1,
        line,
        format!(
            "The floating point value '{literal}' is out of the range of computer representation (8 bytes)."
        ),
    )
}

/// 191: nesting deeper than the parser follows.
pub fn nested_too_deeply(line: u32) -> SqlMessage {
    msg(
        191,
        BATCH_SYNTAX,
        1,
        line,
        "Some part of your SQL statement is nested too deeply. Rewrite the query or break it up into smaller queries."
            .to_owned(),
    )
}

/// 195: an unknown SET option. State 5 when ON or OFF follows the name, 7 for a value.
pub fn unrecognized_set_option(line: u32, option: &str, state: u8) -> SqlMessage {
    msg(
        195,
        BATCH_SYNTAX,
        state,
        line,
        format!("'{option}' is not a recognized SET option."),
    )
}

/// 243: CAST or CONVERT to a type that does not exist.
pub fn type_not_defined(line: u32, type_name: &str) -> SqlMessage {
    msg(
        243,
        USER_ERROR,
        1,
        line,
        format!("Type {type_name} is not a defined system type."),
    )
}

/// 319: a WITH (common table expression) after a statement not ended by `;`.
pub fn with_needs_semicolon(line: u32) -> SqlMessage {
    msg(
        319,
        USER_ERROR,
        1,
        line,
        "Incorrect syntax near the keyword 'with'. If this statement is a common table expression, an xmlnamespaces clause or a change tracking context clause, the previous statement must be terminated with a semicolon."
            .to_owned(),
    )
}

/// 1001: a zero length or precision (`varchar(0)`, `float(0)`, `decimal(0)`).
pub fn invalid_length(line: u32, length: u64) -> SqlMessage {
    msg(
        1001,
        BATCH_SYNTAX,
        1,
        line,
        format!("Line {line}: Length or precision specification {length} is invalid."),
    )
}

/// 1002: a fractional-second scale above 7 (`datetime2(8)`).
pub fn invalid_scale(line: u32, scale: u64) -> SqlMessage {
    msg(
        1002,
        BATCH_SYNTAX,
        1,
        line,
        format!("Line {line}: Specified scale {scale} is invalid."),
    )
}

/// 1007: a numeric literal of more than 38 digits.
pub fn number_out_of_range(line: u32, literal: &str) -> SqlMessage {
    msg(
        1007,
        BATCH_SYNTAX,
        1,
        line,
        format!(
            "The number '{literal}' is out of the range for numeric representation (maximum precision 38)."
        ),
    )
}

/// 1023: a date-part argument that is not a date-part keyword (`DATEADD(@part, …)`).
pub fn invalid_parameter(line: u32, position: u32, function: &str) -> SqlMessage {
    msg(
        1023,
        BATCH_SYNTAX,
        1,
        line,
        format!("Invalid parameter {position} specified for {function}."),
    )
}

/// 2715: a DECLARE, parameter or column of an unknown type; `ordinal` counts from 1 in the
/// statement. State 3 for variables and parameters, 6 for table columns.
pub fn unknown_data_type(line: u32, ordinal: usize, type_name: &str, state: u8) -> SqlMessage {
    msg(
        2715,
        USER_ERROR,
        state,
        line,
        format!("Column, parameter, or variable #{ordinal}: Cannot find data type {type_name}."),
    )
}

/// 2716: a length on a type that takes none (`int(4)`).
pub fn width_not_allowed(line: u32, ordinal: usize, type_name: &str) -> SqlMessage {
    msg(
        2716,
        USER_ERROR,
        1,
        line,
        format!(
            "Column, parameter, or variable #{ordinal}: Cannot specify a column width on data type {type_name}."
        ),
    )
}

/// 2750: a decimal precision above 38 or a float precision above 53.
pub fn precision_too_large(line: u32, ordinal: usize, precision: u64, max: u8) -> SqlMessage {
    msg(
        2750,
        USER_ERROR,
        1,
        line,
        format!(
            "Column or parameter #{ordinal}: Specified column precision {precision} is greater than the maximum precision of {max}."
        ),
    )
}

/// 2751: a decimal scale above its precision.
pub fn scale_above_precision(line: u32, ordinal: usize, scale: u64, precision: u8) -> SqlMessage {
    msg(
        2751,
        USER_ERROR,
        1,
        line,
        format!(
            "Column or parameter #{ordinal}: Specified column scale {scale} is greater than the specified precision of {precision}."
        ),
    )
}

/// 4145: a value where IF, WHILE, WHERE, HAVING, ON or WHEN needs a condition.
pub fn non_boolean_condition(line: u32, near: &str) -> SqlMessage {
    msg(
        4145,
        BATCH_SYNTAX,
        1,
        line,
        format!(
            "An expression of non-boolean type specified in a context where a condition is expected, near '{near}'."
        ),
    )
}

// ---- names and objects ---------------------------------------------------------------------

/// 207
pub fn invalid_column(line: u32, column: &str) -> SqlMessage {
    msg(
        207,
        USER_ERROR,
        1,
        line,
        format!("Invalid column name '{column}'."),
    )
}

/// 208
pub fn invalid_object(line: u32, object: &str) -> SqlMessage {
    msg(
        208,
        USER_ERROR,
        1,
        line,
        format!("Invalid object name '{object}'."),
    )
}

/// 241: a STOPAT value that is not a date and time.
pub fn datetime_conversion_failed(line: u32) -> SqlMessage {
    msg(
        241,
        USER_ERROR,
        1,
        line,
        "Conversion failed when converting date and/or time from character string.".to_owned(),
    )
}

/// 8115: an integer literal too large for its option.
pub fn arithmetic_overflow_int(line: u32) -> SqlMessage {
    msg(
        8115,
        USER_ERROR,
        2,
        line,
        "Arithmetic overflow error converting expression to data type int.".to_owned(),
    )
}

/// 911
pub fn database_does_not_exist(line: u32, database: &str) -> SqlMessage {
    msg(
        911,
        USER_ERROR,
        1,
        line,
        format!(
            "Database '{database}' does not exist. Make sure that the name is entered correctly."
        ),
    )
}

/// 1801
pub fn database_already_exists(line: u32, database: &str) -> SqlMessage {
    msg(
        1801,
        USER_ERROR,
        3,
        line,
        format!("Database '{database}' already exists. Choose a different database name."),
    )
}

/// 3701 (level 11, as SQL Server sends it)
pub fn cannot_drop_database(line: u32, database: &str) -> SqlMessage {
    msg(
        3701,
        11,
        1,
        line,
        format!(
            "Cannot drop the database '{database}', because it does not exist or you do not have permission."
        ),
    )
}

/// 5069
pub fn alter_database_failed(line: u32) -> SqlMessage {
    msg(
        5069,
        USER_ERROR,
        1,
        line,
        "ALTER DATABASE statement failed.".to_owned(),
    )
}

/// The output of PRINT: message 0, level 0, so sqlcmd shows only the text.
pub fn print_output(line: u32, text: &str) -> SqlMessage {
    msg(0, INFO, 1, line, text.to_owned())
}

/// 5701 (informational): the reply to USE.
pub fn changed_database_context(line: u32, database: &str) -> SqlMessage {
    msg(
        5701,
        INFO,
        1,
        line,
        format!("Changed database context to '{database}'."),
    )
}

/// 18456 (level 14)
pub fn login_failed(line: u32, user: &str) -> SqlMessage {
    msg(
        18456,
        14,
        1,
        line,
        format!("Login failed for user '{user}'."),
    )
}

/// 3101
pub fn exclusive_access_denied(line: u32) -> SqlMessage {
    msg(
        3101,
        USER_ERROR,
        1,
        line,
        "Exclusive access could not be obtained because the database is in use.".to_owned(),
    )
}

// ---- BACKUP / RESTORE: statement validation --------------------------------------------------

/// 3031: two options that exclude each other.
pub fn conflicting_options(line: u32, option: &str, conflicts_with: &str) -> SqlMessage {
    msg(
        3031,
        USER_ERROR,
        1,
        line,
        format!(
            "Option '{option}' conflicts with option(s) '{conflicts_with}'. Remove the conflicting option and reissue the statement."
        ),
    )
}

/// 3032: options that the statement kind does not take, comma separated.
pub fn options_not_supported(line: u32, options: &str) -> SqlMessage {
    msg(
        3032,
        USER_ERROR,
        2,
        line,
        format!(
            "One or more of the options ({options}) are not supported for this statement. Review the documentation for supported options."
        ),
    )
}

/// 3205
pub fn too_many_devices(line: u32) -> SqlMessage {
    msg(
        3205,
        USER_ERROR,
        2,
        line,
        "Too many backup devices specified for backup or restore; only 64 are allowed.".to_owned(),
    )
}

/// 3250: a numeric option outside its range.
pub fn value_out_of_range(line: u32, value: impl Display, parameter: &str) -> SqlMessage {
    msg(
        3250,
        USER_ERROR,
        1,
        line,
        format!("The value '{value}' is not within range for the {parameter} parameter."),
    )
}

/// 59003 (ours): the same option twice.
pub fn duplicate_option(line: u32, option: &str) -> SqlMessage {
    msg(
        59003,
        USER_ERROR,
        1,
        line,
        format!(
            "The option '{option}' is specified more than once. Specify each option only once."
        ),
    )
}

/// 59006 (ours): a value of one of vdisim's CREATE DATABASE extensions out of range.
pub fn extension_value_out_of_range(
    line: u32,
    option: &str,
    value: impl Display,
    min: u64,
    max: u64,
) -> SqlMessage {
    msg(
        59006,
        USER_ERROR,
        1,
        line,
        format!("The value {value} is not valid for {option}. vdisim allows {min} to {max}."),
    )
}

/// 59007 (ours): a DISK, TAPE or URL backup device.
pub fn device_type_not_supported(line: u32, device_type: &str) -> SqlMessage {
    msg(
        59007,
        USER_ERROR,
        1,
        line,
        format!(
            "Backup device type '{device_type}' is not supported by this server. vdisim only emulates VIRTUAL_DEVICE backup devices."
        ),
    )
}

// ---- BACKUP / RESTORE: execution --------------------------------------------------------------

/// 3013: the last message of a failed BACKUP or RESTORE.
pub fn terminating_abnormally(line: u32, operation: Operation) -> SqlMessage {
    msg(
        3013,
        USER_ERROR,
        1,
        line,
        format!(
            "{} is terminating abnormally.",
            operation.terminating_name()
        ),
    )
}

/// 3014 (informational): the success message a client waits for.
///
/// Seconds print with three decimals (at least 0.001, as the rate would otherwise be infinite);
/// MB/sec is pages × 8 KB / 1 MiB over those seconds.
pub fn successfully_processed(
    line: u32,
    operation: Operation,
    pages: u64,
    elapsed: Duration,
) -> SqlMessage {
    let millis = elapsed.as_millis().max(1);
    let seconds = millis as f64 / 1000.0;
    let megabytes = pages as f64 * 8192.0 / 1_048_576.0;
    msg(
        3014,
        INFO,
        1,
        line,
        format!(
            "{} successfully processed {pages} pages in {seconds:.3} seconds ({:.3} MB/sec).",
            operation.success_name(),
            megabytes / seconds
        ),
    )
}

/// 4035 (informational): pages of one database file.
pub fn processed_pages(
    line: u32,
    pages: u64,
    database: &str,
    file: &str,
    backup_set: u32,
) -> SqlMessage {
    msg(
        4035,
        INFO,
        1,
        line,
        format!(
            "Processed {pages} pages for database '{database}', file '{file}' on file {backup_set}."
        ),
    )
}

/// 3211 (informational): STATS progress.
pub fn percent_processed(line: u32, percent: u32) -> SqlMessage {
    msg(3211, INFO, 1, line, format!("{percent} percent processed."))
}

/// 3262 (informational): RESTORE VERIFYONLY succeeded.
pub fn backup_set_valid(line: u32, backup_set: u32) -> SqlMessage {
    msg(
        3262,
        INFO,
        1,
        line,
        format!("The backup set on file {backup_set} is valid."),
    )
}

/// 3201: the virtual device set could not be opened (e.g. no client created it).
pub fn cannot_open_device(line: u32, device: &str, os_error_code: u32) -> SqlMessage {
    msg(
        3201,
        USER_ERROR,
        1,
        line,
        format!(
            "Cannot open backup device '{device}'. Operating system error {}.",
            os_error(os_error_code)
        ),
    )
}

/// 3202: a write to a device failed.
pub fn write_failed(line: u32, device: &str, os_error_code: u32) -> SqlMessage {
    msg(
        3202,
        USER_ERROR,
        1,
        line,
        format!("Write on \"{device}\" failed: {}", os_error(os_error_code)),
    )
}

/// 3203: a read from a device failed.
pub fn read_failed(line: u32, device: &str, os_error_code: u32) -> SqlMessage {
    msg(
        3203,
        USER_ERROR,
        1,
        line,
        format!("Read on \"{device}\" failed: {}", os_error(os_error_code)),
    )
}

/// 3204: the client aborted the operation (SignalAbort, or it died).
pub fn operation_aborted(line: u32) -> SqlMessage {
    msg(
        3204,
        USER_ERROR,
        1,
        line,
        "The backup or restore was aborted.".to_owned(),
    )
}

/// 3154
pub fn backup_of_other_database(line: u32, database: &str) -> SqlMessage {
    msg(
        3154,
        USER_ERROR,
        4,
        line,
        format!(
            "The backup set holds a backup of a database other than the existing '{database}' database."
        ),
    )
}

/// 3159
pub fn tail_of_log_not_backed_up(line: u32, database: &str) -> SqlMessage {
    msg(
        3159,
        USER_ERROR,
        1,
        line,
        format!(
            "The tail of the log for the database \"{database}\" has not been backed up. Use BACKUP LOG WITH NORECOVERY to backup the log if it contains work you do not want to lose. Use the WITH REPLACE or WITH STOPAT clause of the RESTORE statement to just overwrite the contents of the log."
        ),
    )
}

/// 3183: a damaged page in the backup stream.
pub fn restore_page_error(line: u32, file_id: u32, page_id: u64, database: &str) -> SqlMessage {
    msg(
        3183,
        USER_ERROR,
        2,
        line,
        format!(
            "RESTORE detected an error on page ({file_id}:{page_id}) in database \"{database}\" as read from the backup set."
        ),
    )
}

/// 3189
pub fn backup_set_damaged(line: u32) -> SqlMessage {
    msg(
        3189,
        USER_ERROR,
        1,
        line,
        "Damage to the backup set was detected.".to_owned(),
    )
}

/// 3241
pub fn media_family_incorrectly_formed(line: u32, device: &str) -> SqlMessage {
    msg(
        3241,
        USER_ERROR,
        0,
        line,
        format!(
            "The media family on device '{device}' is incorrectly formed. SQL Server cannot process this media family."
        ),
    )
}

/// 3242
pub fn not_a_backup_set(line: u32, device: &str) -> SqlMessage {
    msg(
        3242,
        USER_ERROR,
        2,
        line,
        format!("The file on device '{device}' is not a valid Microsoft Tape Format backup set."),
    )
}

/// 3132
pub fn media_families_missing(line: u32, families: usize, provided: usize) -> SqlMessage {
    msg(
        3132,
        USER_ERROR,
        1,
        line,
        format!(
            "The media set has {families} media families but only {provided} are provided. All members must be provided."
        ),
    )
}

/// 3266
pub fn backup_data_incorrectly_formatted(line: u32, device: &str) -> SqlMessage {
    msg(
        3266,
        USER_ERROR,
        1,
        line,
        format!(
            "The backup data at the end of \"{device}\" is incorrectly formatted. Backup sets on the media might be damaged and unusable. To determine the backup sets on the media, use RESTORE HEADERONLY. To determine the usability of the backup sets, run RESTORE VERIFYONLY. If all of the backup sets are incomplete, reformat the media using BACKUP WITH FORMAT, which destroys all the backup sets."
        ),
    )
}

/// 3234: a MOVE names a logical file the backup does not have.
pub fn logical_file_not_in_backup(line: u32, logical: &str, database: &str) -> SqlMessage {
    msg(
        3234,
        USER_ERROR,
        2,
        line,
        format!(
            "Logical file '{logical}' is not part of database '{database}'. Use RESTORE FILELISTONLY to list the logical file names."
        ),
    )
}

/// 4305
pub fn log_too_recent(line: u32, begins_at: impl Display, needed: impl Display) -> SqlMessage {
    msg(
        4305,
        USER_ERROR,
        1,
        line,
        format!(
            "The log in this backup set begins at LSN {begins_at}, which is too recent to apply to the database. An earlier log backup that includes LSN {needed} can be restored."
        ),
    )
}

/// 4326
pub fn log_too_early(line: u32, ends_at: impl Display, needed: impl Display) -> SqlMessage {
    msg(
        4326,
        USER_ERROR,
        1,
        line,
        format!(
            "The log in this backup set terminates at LSN {ends_at}, which is too early to apply to the database. A more recent log backup that includes LSN {needed} can be restored."
        ),
    )
}

/// 4306
pub fn preceding_restore_recovered(line: u32) -> SqlMessage {
    msg(
        4306,
        USER_ERROR,
        1,
        line,
        "The preceding restore operation did not specify WITH NORECOVERY or WITH STANDBY. Restart the restore sequence, specifying WITH NORECOVERY or WITH STANDBY for all but the final step.".to_owned(),
    )
}

/// 3117
pub fn no_files_ready_to_rollforward(line: u32) -> SqlMessage {
    msg(
        3117,
        USER_ERROR,
        1,
        line,
        "The log or differential backup cannot be restored because no files are ready to rollforward.".to_owned(),
    )
}

/// 4208
pub fn log_backup_in_simple_recovery(line: u32) -> SqlMessage {
    msg(
        4208,
        USER_ERROR,
        1,
        line,
        "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. Use BACKUP DATABASE or change the recovery model using ALTER DATABASE.".to_owned(),
    )
}

/// 4214
pub fn no_current_database_backup(line: u32) -> SqlMessage {
    msg(
        4214,
        USER_ERROR,
        1,
        line,
        "BACKUP LOG cannot be performed because there is no current database backup.".to_owned(),
    )
}

/// 3035
pub fn differential_without_base(line: u32, database: &str) -> SqlMessage {
    msg(
        3035,
        USER_ERROR,
        1,
        line,
        format!(
            "Cannot perform a differential backup for database \"{database}\", because a current database backup does not exist. Perform a full database backup by reissuing BACKUP DATABASE, omitting the WITH DIFFERENTIAL option."
        ),
    )
}

/// 3702: DROP DATABASE of a database some session is using (including the dropping one).
pub fn cannot_drop_in_use(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3702,
        16,
        4,
        line,
        format!("Cannot drop database \"{database}\" because it is currently in use."),
    )
}

/// 3708: DROP DATABASE of master, tempdb, model or msdb.
pub fn cannot_drop_system(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3708,
        16,
        1,
        line,
        format!("Cannot drop the database '{database}' because it is a system database."),
    )
}

/// 4060: the database given at login (`sqlcmd -d`) does not exist; 18456 follows.
pub fn cannot_open_login_database(database: &str) -> SqlMessage {
    SqlMessage::new(
        4060,
        11,
        1,
        1,
        format!("Cannot open database \"{database}\" requested by the login. The login failed."),
    )
}

/// 5011: ALTER DATABASE of a database that does not exist; 5069 follows.
pub fn cannot_alter_database(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        5011,
        14,
        5,
        line,
        format!(
            "User does not have permission to alter database '{database}', the database does not exist, or the database is not in a state that allows access checks."
        ),
    )
}

/// 3153: `RESTORE DATABASE name WITH RECOVERY` (no FROM) on a database that is not restoring.
pub fn already_fully_recovered(line: u32) -> SqlMessage {
    SqlMessage::new(
        3153,
        16,
        1,
        line,
        "The database is already fully recovered.",
    )
}

/// 59010 (ours): the catalog (the data directory) could not be read or written.
pub fn catalog_io_failed(line: u32, detail: &str) -> SqlMessage {
    SqlMessage::new(
        59010,
        16,
        1,
        line,
        format!("vdisim could not update its catalog: {detail}"),
    )
}

/// 3201 with the OS error that this build has no virtual device sets to open.
pub fn devices_not_connected(line: u32, set_name: &str) -> SqlMessage {
    const NOT_SUPPORTED: u32 = 50;
    let mut message = cannot_open_device(line, set_name, NOT_SUPPORTED);
    message.text = format!(
        "Cannot open backup device '{set_name}'. Operating system error {NOT_SUPPORTED}(The request is not supported: virtual device sets are not connected in this build of vdisim.)."
    );
    message
}

/// 3023: a second BACKUP/RESTORE on a database that already has one running.
pub fn operation_must_be_serialized(line: u32) -> SqlMessage {
    SqlMessage::new(
        3023,
        16,
        2,
        line,
        "Backup, file manipulation operations (such as ALTER DATABASE ADD FILE) and encryption changes on a database must be serialized. Reissue the statement after the current backup or file manipulation operation is completed.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_renders_with_sqlcmd_header() {
        let m = incorrect_syntax(1, "FOO");
        assert_eq!(
            m.render("VDISIM"),
            "Msg 102, Level 15, State 1, Server VDISIM, Line 1\nIncorrect syntax near 'FOO'."
        );
        assert!(m.is_error());
    }

    #[test]
    fn procedure_goes_before_line() {
        let mut m = database_does_not_exist(7, "x");
        m.procedure = Some("sp_x".into());
        assert!(
            m.render("S")
                .starts_with("Msg 911, Level 16, State 1, Server S, Procedure sp_x, Line 7\n")
        );
    }

    #[test]
    fn informational_renders_as_text() {
        let m = percent_processed(1, 10);
        assert!(!m.is_error());
        assert_eq!(m.render("VDISIM"), "10 percent processed.");
    }

    #[test]
    fn level_ten_is_not_an_error_and_eleven_is() {
        assert!(!SqlMessage::new(1, 10, 1, 1, "x").is_error());
        assert!(cannot_drop_database(1, "x").is_error());
    }

    #[test]
    fn success_message_has_rate() {
        let m = successfully_processed(
            1,
            Operation::BackupDatabase,
            128,
            Duration::from_millis(500),
        );
        assert_eq!(
            m.text,
            "BACKUP DATABASE successfully processed 128 pages in 0.500 seconds (2.000 MB/sec)."
        );
        let d = successfully_processed(1, Operation::BackupDatabaseDifferential, 0, Duration::ZERO);
        assert_eq!(
            d.text,
            "BACKUP DATABASE WITH DIFFERENTIAL successfully processed 0 pages in 0.001 seconds (0.000 MB/sec)."
        );
    }

    #[test]
    fn terminating_names() {
        assert_eq!(
            terminating_abnormally(2, Operation::RestoreVerifyOnly).text,
            "VERIFY DATABASE is terminating abnormally."
        );
        assert_eq!(
            terminating_abnormally(2, Operation::BackupDatabaseDifferential).text,
            "BACKUP DATABASE is terminating abnormally."
        );
    }

    #[test]
    fn os_errors_format_hresults_in_hex() {
        assert_eq!(
            cannot_open_device(1, "set", 0x8077_0003).text,
            "Cannot open backup device 'set'. Operating system error 0x80770003(failed to retrieve text for this error. Reason: 15105)."
        );
        assert_eq!(
            write_failed(1, "d", 112).text,
            "Write on \"d\" failed: 112(There is not enough space on the disk.)"
        );
    }
}
