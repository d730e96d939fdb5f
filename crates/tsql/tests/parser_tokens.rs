//! Random token streams never panic the parser, and what it says about them is well formed:
//! statements sit on lines of the batch, and errors are error-level messages with a number, a
//! text and a line of the batch.

use proptest::prelude::*;
use tsql::{SqlMessage, parse_batch};

/// Keywords of every statement family, symbols and literals the parser meets.
const VOCABULARY: &[&str] = &[
    // statements
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "ASC",
    "DESC",
    "TOP",
    "PERCENT",
    "WITH",
    "TIES",
    "DISTINCT",
    "INTO",
    "UNION",
    "ALL",
    "EXCEPT",
    "INTERSECT",
    "OFFSET",
    "ROWS",
    "FETCH",
    "NEXT",
    "ONLY",
    "OPTION",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "CROSS",
    "APPLY",
    "ON",
    "AS",
    "VALUES",
    "NOLOCK",
    "DECLARE",
    "SET",
    "TABLE",
    "IF",
    "ELSE",
    "WHILE",
    "BREAK",
    "CONTINUE",
    "RETURN",
    "BEGIN",
    "END",
    "TRY",
    "CATCH",
    "TRAN",
    "TRANSACTION",
    "COMMIT",
    "ROLLBACK",
    "SAVE",
    "MARK",
    "PRINT",
    "RAISERROR",
    "THROW",
    "EXEC",
    "EXECUTE",
    "OUTPUT",
    "DEFAULT",
    "WAITFOR",
    "DELAY",
    "TIME",
    "USE",
    "CHECKPOINT",
    "DBCC",
    "CHECKDB",
    "VDISIM_WORKLOAD",
    "CREATE",
    "ALTER",
    "DROP",
    "DATABASE",
    "LOGIN",
    "USER",
    "ROLE",
    "SERVER",
    "MEMBER",
    "ADD",
    "GRANT",
    "DENY",
    "REVOKE",
    "TO",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "PRIMARY",
    "KEY",
    "IDENTITY",
    "FILE",
    "FILEGROUP",
    "LOG",
    "NAME",
    "FILENAME",
    "SIZE",
    "MAXSIZE",
    "FILEGROWTH",
    "UNLIMITED",
    "MODIFY",
    "REMOVE",
    "RECOVERY",
    "SIMPLE",
    "SINGLE_USER",
    "ROLLBACK",
    "IMMEDIATE",
    "OFFLINE",
    "BACKUP",
    "RESTORE",
    "VIRTUAL_DEVICE",
    "STOPAT",
    "NORECOVERY",
    "MOVE",
    "BLOCKSIZE",
    "NOCOUNT",
    "XACT_ABORT",
    "LANGUAGE",
    "DEADLOCK_PRIORITY",
    "ISOLATION",
    "LEVEL",
    "READ",
    "COMMITTED",
    "CURSOR",
    "OPEN",
    "CLOSE",
    "DEALLOCATE",
    "FAST_FORWARD",
    "STATISTICS",
    "IO",
    // expressions
    "AND",
    "OR",
    "NOT",
    "IS",
    "NULL",
    "LIKE",
    "ESCAPE",
    "BETWEEN",
    "IN",
    "EXISTS",
    "ANY",
    "SOME",
    "CASE",
    "WHEN",
    "THEN",
    "CAST",
    "TRY_CAST",
    "CONVERT",
    "COALESCE",
    "IIF",
    "DATEADD",
    "DATEDIFF",
    "day",
    "OVER",
    "PARTITION",
    "COLLATE",
    "CURRENT_TIMESTAMP",
    "COUNT",
    "GETDATE",
    "sys",
    "databases",
    "msdb",
    "dbo",
    "backupset",
    "name",
    "#t",
    "##g",
    "x",
    "[a b]",
    "\"q\"",
    // types
    "int",
    "bigint",
    "decimal",
    "nvarchar",
    "varchar",
    "max",
    "sysname",
    "datetime2",
    "float",
    "foo",
    // symbols and operators
    "(",
    ")",
    ",",
    ";",
    ".",
    "..",
    "*",
    "=",
    "+",
    "-",
    "/",
    "%",
    "&",
    "|",
    "^",
    "~",
    "<",
    ">",
    "<>",
    "!=",
    "<=",
    ">=",
    "!<",
    "!>",
    "+=",
    "-=",
    "::",
    // literals and variables
    "0",
    "1",
    "42",
    "2147483648",
    "1.5",
    ".5",
    "1e3",
    "0x0A",
    "$1.5",
    "'x'",
    "N'y'",
    "''",
    "'00:00:01'",
    "'2026-01-01'",
    "@v",
    "@db",
    "@@VERSION",
    "@@SPID",
];

fn script(indices: &[(usize, bool)]) -> String {
    let mut text = String::new();
    for &(i, newline) in indices {
        text.push_str(VOCABULARY[i % VOCABULARY.len()]);
        text.push(if newline { '\n' } else { ' ' });
    }
    text
}

fn check(text: &str, first_line: u32) -> Result<(), TestCaseError> {
    let last_line = first_line + text.split('\n').count() as u32 - 1;
    match parse_batch(text, first_line) {
        Ok(statements) => {
            for s in statements {
                prop_assert!(
                    (first_line..=last_line).contains(&s.line),
                    "statement line {} outside {first_line}..={last_line}",
                    s.line
                );
            }
        }
        Err(SqlMessage {
            number,
            level,
            line,
            text: message,
            ..
        }) => {
            prop_assert!(number != 0);
            prop_assert!(level > 10, "not an error: Msg {number} level {level}");
            prop_assert!(!message.is_empty());
            prop_assert!(
                (first_line..=last_line).contains(&line),
                "Msg {number} at line {line} outside {first_line}..={last_line}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_token_streams_never_panic(
        tokens in prop::collection::vec((0..VOCABULARY.len(), prop::bool::weighted(0.1)), 0..60),
        first_line in 1u32..20,
    ) {
        check(&script(&tokens), first_line)?;
    }

    /// Streams that start like real statements get further into the grammar.
    #[test]
    fn statement_prefixes_with_random_tails(
        prefix in prop::sample::select(vec![
            "SELECT", "SELECT TOP (1)", "SELECT * FROM", "DECLARE @v", "SET", "IF", "EXEC",
            "BEGIN TRY", "CREATE DATABASE d ON", "ALTER DATABASE d SET", "BACKUP DATABASE",
            "RESTORE DATABASE d FROM", "INSERT INTO #t", "UPDATE #t SET", "WITH c AS (",
            "SELECT CASE", "SELECT CAST(1 AS", "GRANT",
        ]),
        tokens in prop::collection::vec((0..VOCABULARY.len(), prop::bool::weighted(0.1)), 0..40),
    ) {
        check(&format!("{prefix} {}", script(&tokens)), 1)?;
    }

    /// Arbitrary text (not only vocabulary) never panics the lexer or the parser.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text, 1)?;
    }
}
