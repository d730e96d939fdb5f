//! The front end never panics, and every error names a message number and a line that exists.

use proptest::prelude::*;
use vdi_server::tsql::lexer::tokenize;
use vdi_server::tsql::{SqlMessage, parse_batch, split_batches};

/// Fragments that drive the parser deep into BACKUP/RESTORE and the other statements.
const FRAGMENTS: &[&str] = &[
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
    "*",
    "-",
    "'vds'",
    "N'vds1'",
    "'a''b'",
    "[db]",
    "\"db\"",
    "db",
    "@db",
    "@@VERSION",
    "@@SERVERNAME",
    "0",
    "512",
    "1000",
    "65536",
    "4194304",
    "99999999999999999999",
    "BLOCKSIZE",
    "MAXTRANSFERSIZE",
    "BUFFERCOUNT",
    "STATS",
    "FILE",
    "MOVE",
    "STOPAT",
    "'2026-01-01'",
    "STANDBY",
    "RECOVERY",
    "NORECOVERY",
    "REPLACE",
    "DIFFERENTIAL",
    "COPY_ONLY",
    "INIT",
    "NOINIT",
    "FORMAT",
    "COMPRESSION",
    "NO_COMPRESSION",
    "SNAPSHOT",
    "NAME",
    "CREATE",
    "DROP",
    "ALTER",
    "SET",
    "FULL",
    "SIMPLE",
    "SIZE",
    "MB",
    "GB",
    "FILESTREAM",
    "IF",
    "EXISTS",
    "SELECT",
    "name",
    "sys",
    "databases",
    "ORDER",
    "BY",
    "DESC",
    "USE",
    "PRINT",
    "WAITFOR",
    "DELAY",
    "'00:00:01'",
    "GO",
    "-- c\n",
    "/* c */",
    "/*",
    "'",
    "[",
    "\"",
    "\n",
    "\r\n",
    "\t",
    "é",
];

fn sql_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(FRAGMENTS),
            prop::sample::select(&[" ", "", "\n"][..]),
        ),
        0..40,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(fragment, sep)| format!("{fragment}{sep}"))
            .collect()
    })
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~\n\r\t'\"\\[\\]@/*-]{0,80}",
        sql_soup()
    ]
}

fn line_count(text: &str) -> u32 {
    text.split('\n').count() as u32
}

fn check_message(message: &SqlMessage, text: &str, first_line: u32) {
    assert_ne!(message.number, 0, "{message:?}");
    assert!(message.is_error(), "{message:?}");
    assert!(!message.text.is_empty());
    let last_line = first_line + line_count(text) - 1;
    assert!(
        (first_line..=last_line).contains(&message.line),
        "line {} outside {first_line}..={last_line}: {message:?} for {text:?}",
        message.line
    );
    let rendered = message.render("S");
    let header = format!("Msg {}, Level ", message.number);
    assert!(rendered.starts_with(&header));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tsql_parse_batch_never_panics_and_errors_point_into_the_input(
        text in any_text(),
        first_line in 1u32..10_000,
    ) {
        let last_line = first_line + line_count(&text) - 1;
        match parse_batch(&text, first_line) {
            Ok(statements) => {
                for s in statements {
                    prop_assert!((first_line..=last_line).contains(&s.line));
                }
            }
            Err(message) => check_message(&message, &text, first_line),
        }
    }

    #[test]
    fn tsql_tokens_sit_inside_the_input(text in any_text(), first_line in 1u32..10_000) {
        match tokenize(&text, first_line) {
            Ok(tokens) => {
                let lines: Vec<&str> = text.split('\n').collect();
                for t in tokens {
                    let line = lines[(t.line - first_line) as usize];
                    prop_assert!(t.column >= 1);
                    prop_assert!((t.column as usize) <= line.chars().count());
                    prop_assert!(!t.text.is_empty());
                }
            }
            Err(message) => check_message(&message, &text, first_line),
        }
    }

    #[test]
    fn tsql_batches_cover_the_script_in_order(script in any_text()) {
        let total = line_count(&script);
        let mut previous_end = 0;
        for batch in split_batches(&script) {
            prop_assert!(batch.first_line > previous_end);
            prop_assert!(batch.repeat >= 1);
            let end = batch.first_line + line_count(&batch.text) - 1;
            prop_assert!(end <= total);
            prop_assert!(!batch.text.trim().is_empty());
            let lines: Vec<&str> = script.split('\n').collect();
            let original = lines[(batch.first_line - 1) as usize..end as usize].join("\n");
            prop_assert_eq!(&original, &batch.text);
            previous_end = end;
        }
    }
}
