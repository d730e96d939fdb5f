//! Every BACKUP/RESTORE WITH option the parser knows has a row in the option table of
//! docs/backup-restore.md, so that a new option cannot land without saying what vdisim does
//! with it (issue 16).

use std::collections::BTreeSet;
use std::path::PathBuf;

use tsql::options::OptionName;

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/backup-restore.md")
}

/// The backticked keyword that opens the first cell of each table row (`| `KEYWORD` … |`).
fn documented_keywords(doc: &str) -> Vec<String> {
    doc.lines()
        .filter_map(|line| {
            let cell = line.trim_start().strip_prefix('|')?.trim_start();
            let rest = cell.strip_prefix('`')?;
            let end = rest.find('`')?;
            Some(rest[..end].to_owned())
        })
        .collect()
}

#[test]
fn every_option_has_a_row_in_the_option_table() {
    let path = doc_path();
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let rows: BTreeSet<String> = documented_keywords(&doc).into_iter().collect();
    let missing: Vec<&str> = OptionName::all()
        .map(OptionName::keyword)
        .filter(|k| !rows.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "options without a row in {} (add `| `KEYWORD` … |` with what vdisim does): {missing:?}",
        path.display()
    );
}

#[test]
fn every_option_row_names_a_known_option() {
    let doc = std::fs::read_to_string(doc_path()).expect("docs/backup-restore.md");
    let known: BTreeSet<&str> = OptionName::all().map(OptionName::keyword).collect();
    let rows = documented_keywords(&doc);
    let unknown: Vec<&String> = rows
        .iter()
        .filter(|k| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .filter(|k| !known.contains(k.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "rows for words that are not options: {unknown:?}"
    );
    let mut seen = BTreeSet::new();
    let repeated: Vec<&String> = rows
        .iter()
        .filter(|k| known.contains(k.as_str()))
        .filter(|k| !seen.insert(k.as_str()))
        .collect();
    assert!(repeated.is_empty(), "options with two rows: {repeated:?}");
}

#[test]
fn the_table_reader_sees_rows_and_only_rows() {
    let sample = "| `STATS` [= n] | BD |\n|---|---|\n`NAME` in prose\n  | `FILE` = n |\n";
    assert_eq!(documented_keywords(sample), ["STATS", "FILE"]);
}
