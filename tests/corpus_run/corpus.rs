//! Reading `tests/corpus/*.sql`: batches, their annotations, and what a batch's text says
//! about its BACKUP or RESTORE (the README's format).

use regex::Regex;
use std::sync::LazyLock;

/// One batch of a corpus file.
#[derive(Debug, Clone)]
pub struct CorpusBatch {
    /// 1-based position in the file.
    pub index: usize,
    /// 1-based line of the `-- source:` line in the file.
    pub line: usize,
    /// The whole `-- source: …` line.
    pub source: String,
    pub needs: Vec<Need>,
    /// The text sent: everything after the leading comment block.
    pub body: String,
}

/// The kinds of backup stream the `needs` tokens and the runner's bookkeeping know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Full,
    Diff,
    Log,
}

/// A `-- needs:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    Vdi,
    Stream(String, Kind),
    History(String),
    Chain(String),
    Restoring(String),
    Restored(String),
    Absent(String),
    Login(String),
    /// hadr, snapshot, concurrent, no-client: the batch just runs.
    RunAsIs,
}

fn parse_need(words: &[&str], at: &str) -> Need {
    let one = |what: &str| -> String {
        match words {
            [_, arg] => (*arg).to_owned(),
            _ => panic!("{at}: `needs: {what}` takes one argument: {words:?}"),
        }
    };
    match words.first().copied() {
        Some("vdi") if words.len() == 1 => Need::Vdi,
        Some("stream") => match words {
            [_, db, kind] => Need::Stream(
                (*db).to_owned(),
                match *kind {
                    "full" => Kind::Full,
                    "diff" => Kind::Diff,
                    "log" => Kind::Log,
                    other => panic!("{at}: unknown stream kind {other}"),
                },
            ),
            _ => panic!("{at}: `needs: stream <db> <kind>`: {words:?}"),
        },
        Some("history") => Need::History(one("history")),
        Some("chain") => Need::Chain(one("chain")),
        Some("restoring") => Need::Restoring(one("restoring")),
        Some("restored") => Need::Restored(one("restored")),
        Some("absent") => Need::Absent(one("absent")),
        Some("login") => Need::Login(one("login")),
        Some("hadr" | "snapshot" | "concurrent" | "no-client") if words.len() == 1 => Need::RunAsIs,
        _ => panic!("{at}: unknown needs token {words:?}"),
    }
}

fn is_comment_or_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with("--")
}

/// The batches of a corpus file: chunks between `GO` lines, without the chunks that hold only
/// comments (the file header).
pub fn parse_file(name: &str, text: &str) -> Vec<CorpusBatch> {
    let mut batches = Vec::new();
    let mut chunk: Vec<(usize, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line == "GO" {
            if let Some(batch) = parse_chunk(name, &chunk, batches.len() + 1) {
                batches.push(batch);
            }
            chunk.clear();
        } else {
            chunk.push((i + 1, line));
        }
    }
    assert!(
        chunk.iter().all(|(_, l)| is_comment_or_blank(l)),
        "{name}: text after the last GO line"
    );
    batches
}

fn parse_chunk(name: &str, chunk: &[(usize, &str)], index: usize) -> Option<CorpusBatch> {
    if chunk.iter().all(|(_, l)| is_comment_or_blank(l)) {
        return None;
    }
    let mut source = None;
    let mut needs = Vec::new();
    let mut rest = chunk;
    // The leading comment block (and blank lines around it).
    while let Some(((n, line), tail)) = rest.split_first() {
        if !is_comment_or_blank(line) {
            break;
        }
        let at = format!("{name}:{n}");
        if let Some(s) = line.strip_prefix("-- source:") {
            assert!(source.is_none(), "{at}: a second source line");
            assert!(!s.trim().is_empty(), "{at}: an empty source line");
            source = Some((*n, line.to_string()));
        } else if let Some(s) = line.strip_prefix("-- needs:") {
            let words: Vec<&str> = s.split_whitespace().collect();
            needs.push(parse_need(&words, &at));
        }
        rest = tail;
    }
    let (line, source) = source
        .unwrap_or_else(|| panic!("{name}:{}: a batch without a `-- source:` line", chunk[0].0));
    let body = rest.iter().map(|(_, l)| *l).collect::<Vec<_>>().join("\n");
    Some(CorpusBatch {
        index,
        line,
        source,
        needs,
        body,
    })
}

static DEVICE: LazyLock<Regex> = LazyLock::new(|| {
    // `VIRTUAL_DEVICE = N'name'`, also inside a string literal, where the quotes are doubled.
    Regex::new(r"(?i)\bVIRTUAL_DEVICE\s*=\s*N?'+([^']*)'").unwrap()
});

/// The distinct non-empty virtual device names a batch gives, in order of appearance.
pub fn device_literals(body: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in DEVICE.captures_iter(body) {
        let name = &c[1];
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// `body` with every quoted occurrence of each `from` name replaced by its `to` name.
pub fn replace_devices(body: &str, renames: &[(String, String)]) -> String {
    let mut text = body.to_owned();
    for (from, to) in renames {
        text = text.replace(&format!("'{from}'"), &format!("'{to}'"));
    }
    text
}

/// Which way a statement moves data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Backup,
    Restore,
}

/// What a batch's first BACKUP or RESTORE does, as far as the runner needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub direction: Direction,
    /// The database (lower case), when the text names it.
    pub db: Option<String>,
    /// The stream a BACKUP writes (None: a file or filegroup backup, or a RESTORE).
    pub kind: Option<Kind>,
    pub copy_only: bool,
}

static STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(BACKUP|RESTORE)\s+(DATABASE|LOG|HEADERONLY|FILELISTONLY|LABELONLY|VERIFYONLY)\b\s*(\[[^\]]*\]|@\w+|\w+)?(\s+(FILE|FILEGROUP|READ_WRITE_FILEGROUPS)\b)?",
    )
    .unwrap()
});
static DIFFERENTIAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bDIFFERENTIAL\b").unwrap());
static COPY_ONLY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\bCOPY_ONLY\b").unwrap());

/// A database name as written (`[pubs]`, `pubs`, or a parameter bound in the same batch).
fn database_name(body: &str, written: &str) -> Option<String> {
    if let Some(param) = written.strip_prefix('@') {
        let bound =
            Regex::new(&format!(r"(?i)@{}\s*=\s*N?'([^']*)'", regex::escape(param))).unwrap();
        return bound.captures(body).map(|c| c[1].to_lowercase());
    }
    let name = written.trim_start_matches('[').trim_end_matches(']');
    let keyword = ["to", "from", "with"]
        .iter()
        .any(|k| name.eq_ignore_ascii_case(k));
    (!keyword && !name.is_empty()).then(|| name.to_lowercase())
}

/// The first BACKUP or RESTORE of a batch.
static SNAPSHOT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bWITH\b[^;]*\b(SNAPSHOT|METADATA_ONLY)\b").unwrap());

/// Whether the statement is a snapshot backup or restore (WITH SNAPSHOT or METADATA_ONLY).
pub fn is_snapshot(body: &str) -> bool {
    SNAPSHOT.is_match(body)
}

pub fn transfer(body: &str) -> Option<Transfer> {
    let c = STATEMENT.captures(body)?;
    let direction = if c[1].eq_ignore_ascii_case("BACKUP") {
        Direction::Backup
    } else {
        Direction::Restore
    };
    let what = c[2].to_uppercase();
    let takes_name = what == "DATABASE" || what == "LOG";
    let db = c
        .get(3)
        .filter(|_| takes_name)
        .and_then(|m| database_name(body, m.as_str()));
    let kind = match (direction, what.as_str()) {
        (Direction::Backup, "LOG") => Some(Kind::Log),
        (Direction::Backup, "DATABASE") if c.get(4).is_some() => None,
        (Direction::Backup, "DATABASE") if DIFFERENTIAL.is_match(body) => Some(Kind::Diff),
        (Direction::Backup, "DATABASE") => Some(Kind::Full),
        _ => None,
    };
    Some(Transfer {
        direction,
        db,
        kind,
        copy_only: COPY_ONLY.is_match(body),
    })
}

static STATE_CHANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(RESTORE\s+(?:DATABASE|LOG)|BACKUP\s+LOG)\s+(\[[^\]]*\]|@\w+|\w+)").unwrap()
});

/// The databases whose state a batch's RESTORE DATABASE|LOG (true) or BACKUP LOG (false, it
/// may leave a tail-log RESTORING state) sets, in the order of the statements.
pub fn restore_touches(body: &str) -> Vec<(String, bool)> {
    STATE_CHANGE
        .captures_iter(body)
        .filter_map(|c| {
            let db = database_name(body, &c[2])?;
            Some((db, c[1].to_uppercase().starts_with("RESTORE")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_batches_and_annotations() {
        let text = "-- header\n\n-- source: a/b/c.sql:1 — x\n-- needs: vdi\n-- needs: stream pubs full\n-- note: n\nBACKUP DATABASE pubs TO VIRTUAL_DEVICE='d'\nGO\n\n-- source: a/b/c.sql:2 — y\n\n\tSELECT 1\n\nGO\n";
        let b = parse_file("t.sql", text);
        assert_eq!(b.len(), 2);
        assert_eq!(
            b[0].needs,
            [Need::Vdi, Need::Stream("pubs".into(), Kind::Full)]
        );
        assert_eq!(b[0].body, "BACKUP DATABASE pubs TO VIRTUAL_DEVICE='d'");
        assert_eq!(b[1].body, "\tSELECT 1\n");
        assert_eq!(b[1].line, 10);
    }

    #[test]
    fn finds_devices_in_statements_and_in_strings() {
        let body = "exec sp_executesql N'BACKUP DATABASE @d TO VIRTUAL_DEVICE=''a'',VIRTUAL_DEVICE=''b'';',N'@d nvarchar(9)',@d=N'AdventureWorks'";
        assert_eq!(device_literals(body), ["a", "b"]);
        assert_eq!(
            transfer(body),
            Some(Transfer {
                direction: Direction::Backup,
                db: Some("adventureworks".into()),
                kind: Some(Kind::Full),
                copy_only: false
            })
        );
        assert!(device_literals("BACKUP DATABASE x TO VIRTUAL_DEVICE=''").is_empty());
        let renamed = replace_devices(
            "TO VIRTUAL_DEVICE='s', VIRTUAL_DEVICE='s1'",
            &[("s".into(), "N".into()), ("s1".into(), "N_1".into())],
        );
        assert_eq!(renamed, "TO VIRTUAL_DEVICE='N', VIRTUAL_DEVICE='N_1'");
    }

    #[test]
    fn classifies_transfers() {
        let t = transfer("BACKUP DATABASE [pubs] FILE = N'pubs' TO VIRTUAL_DEVICE='x'").unwrap();
        assert_eq!(t.kind, None);
        let t = transfer("BACKUP DATABASE [A] TO VIRTUAL_DEVICE='x' WITH  DIFFERENTIAL ,").unwrap();
        assert_eq!(t.kind, Some(Kind::Diff));
        let t = transfer("restore filelistonly from virtual_device=N'x';").unwrap();
        assert_eq!((t.direction, t.db), (Direction::Restore, None));
        assert_eq!(
            restore_touches("RESTORE LOG [AW] FROM x; BACKUP LOG AW TO y"),
            [("aw".to_string(), true), ("aw".to_string(), false)]
        );
    }
}
