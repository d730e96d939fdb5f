//! The T-SQL front end on arbitrary text: `split_batches`, then `parse_batch` on every batch.
//!
//! Checks: no panic; batches cover the script in order and quote it exactly; every error is an
//! error-level message with a Msg number, a text, and a line that exists in the input; every
//! statement sits on a line of its batch.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vdi_server::tsql::{SqlMessage, parse_batch, split_batches};

/// Words that take the parser deep into BACKUP/RESTORE, queries, procedural statements and
/// DDL; the input mixes them with raw text.
const WORDS: &[&str] = &[
    "BACKUP",
    "RESTORE",
    "DATABASE",
    "LOG",
    "VERIFYONLY",
    "HEADERONLY",
    "FILELISTONLY",
    "LABELONLY",
    "TO",
    "FROM",
    "WITH",
    "VIRTUAL_DEVICE",
    "DISK",
    "=",
    ",",
    ";",
    "(",
    ")",
    ".",
    "'vds'",
    "N'vds1'",
    "[db]",
    "\"db\"",
    "db",
    "@@VERSION",
    "512",
    "65536",
    "4194304",
    "BLOCKSIZE",
    "MAXTRANSFERSIZE",
    "BUFFERCOUNT",
    "STATS",
    "FILE",
    "MOVE",
    "STOPAT",
    "'2026-01-01T10:00:00'",
    "STANDBY",
    "RECOVERY",
    "NORECOVERY",
    "REPLACE",
    "DIFFERENTIAL",
    "COPY_ONLY",
    "INIT",
    "FORMAT",
    "COMPRESSION",
    "CHECKSUM",
    "NAME",
    "DESCRIPTION",
    "CREATE",
    "DROP",
    "ALTER",
    "SET",
    "FULL",
    "SIMPLE",
    "SIZE",
    "MB",
    "IF",
    "EXISTS",
    "SELECT",
    "name",
    "sys.databases",
    "ORDER BY",
    "USE",
    "PRINT",
    "WAITFOR DELAY",
    "'00:00:00.01'",
    "@db",
    "@dev",
    "DECLARE",
    "sysname",
    "nvarchar(max)",
    "SET NOCOUNT ON",
    "IF",
    "ELSE",
    "BEGIN",
    "END",
    "TRY",
    "CATCH",
    "WHILE",
    "EXEC",
    "sp_executesql",
    "RAISERROR",
    "THROW",
    "TRAN",
    "COMMIT",
    "ROLLBACK",
    "WITH MARK",
    "TOP (1)",
    "*",
    "JOIN",
    "LEFT JOIN",
    "CROSS APPLY",
    "ON",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IS NULL",
    "LIKE",
    "IN",
    "BETWEEN",
    "EXISTS",
    "CASE WHEN",
    "THEN",
    "CAST(",
    "AS",
    "CONVERT(",
    "DATEADD(day,",
    "COUNT(*)",
    "GROUP BY",
    "UNION ALL",
    "OVER (PARTITION BY",
    "+",
    "<>",
    ">=",
    "+=",
    "1.5",
    "0x0A",
    "$1",
    "1e3",
    "#t",
    "msdb..backupset",
    "INSERT INTO",
    "VALUES",
    "UPDATE",
    "DELETE",
    "CREATE TABLE",
    "LOG ON",
    "FILENAME",
    "FILEGROUP",
    "MODIFY FILE",
    "SINGLE_USER",
    "ROLLBACK IMMEDIATE",
    "CREATE LOGIN",
    "PASSWORD",
    "GRANT",
    "DBCC",
    "\nGO\n",
    "\nGO 2\n",
    "-- c\n",
    "/*",
    "*/",
    "'",
    "[",
    "]",
    "\"",
    "\n",
    "\r\n",
    "\t",
    " ",
];

#[derive(Arbitrary, Debug)]
enum Piece<'a> {
    Word(u8),
    Text(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    pieces: Vec<Piece<'a>>,
}

fn line_count(text: &str) -> u32 {
    text.split('\n').count() as u32
}

fn check_message(m: &SqlMessage, first_line: u32, last_line: u32, text: &str) {
    assert_ne!(m.number, 0, "no Msg number: {m:?}");
    assert!(m.is_error(), "not an error: {m:?}");
    assert!(!m.text.is_empty(), "no text: {m:?}");
    assert!(
        (first_line..=last_line).contains(&m.line),
        "line {} outside {first_line}..={last_line}: {m:?} for {text:?}",
        m.line
    );
    assert!(
        m.render("S")
            .starts_with(&format!("Msg {}, Level ", m.number))
    );
}

fuzz_target!(|input: Input| {
    let mut script = String::new();
    for piece in input.pieces.iter().take(400) {
        match piece {
            Piece::Word(i) => {
                script.push_str(WORDS[usize::from(*i) % WORDS.len()]);
                script.push(' ');
            }
            Piece::Text(t) => script.push_str(t),
        }
    }
    let lines: Vec<&str> = script.split('\n').collect();
    let total = line_count(&script);
    let mut previous_end = 0;
    for batch in split_batches(&script) {
        assert!(batch.first_line > previous_end, "batches out of order");
        assert!(batch.repeat >= 1);
        let last = batch.first_line + line_count(&batch.text) - 1;
        assert!(last <= total, "batch past the end of the script");
        assert_eq!(
            lines[(batch.first_line - 1) as usize..last as usize].join("\n"),
            batch.text,
            "a batch does not quote the script"
        );
        previous_end = last;
        match parse_batch(&batch.text, batch.first_line) {
            Ok(statements) => {
                for s in statements {
                    assert!(
                        (batch.first_line..=last).contains(&s.line),
                        "statement line {} outside {}..={last}",
                        s.line,
                        batch.first_line
                    );
                }
            }
            Err(m) => check_message(&m, batch.first_line, last, &batch.text),
        }
    }
    // The parser alone, on the whole text, from an arbitrary first line.
    if let Err(m) = parse_batch(&script, 7) {
        check_message(&m, 7, 7 + total - 1, &script);
    }
});
