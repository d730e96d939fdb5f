//! The tool corpus (`tests/corpus/*.sql`, see its README) through a real daemon.
//!
//! Every file runs on a fresh `vdisim server`, its batches in order on one session, as the tool
//! sends them; the batches that name virtual devices are served by the reference client, with
//! fresh device-set names. The state a batch's `needs` lines ask for is made on a second
//! session first (`-- runner:` lines in the snapshot). Each file's output, rendered as
//! `vdisim sqlcmd` prints it and with what changes between runs redacted, is an insta snapshot
//! (`tests/corpus_run/snapshots`); device names are shown as the corpus spells them.
//!
//! Errors in the output are what the snapshots record, not test failures. The test fails on a
//! panic, a hang, a daemon that dies, or a vdisim message (59xxx) other than the deliberate
//! refusals. It prints each file's pass count and writes them, with every error message, to
//! `target/corpus-report.txt`. `CORPUS_ONLY=smo,walg` runs only those files.

#[path = "corpus_run/corpus.rs"]
mod corpus;
#[path = "corpus_run/daemon.rs"]
mod daemon;
#[path = "corpus_run/redact.rs"]
mod redact;
#[path = "corpus_run/runner.rs"]
mod runner;

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use runner::{FileResult, run_file};

/// Files run side by side on this many daemons.
const JOBS: usize = 2;

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let only: Option<Vec<String>> = std::env::var("CORPUS_ONLY").ok().map(|s| {
        s.split(',')
            .map(|f| f.trim().trim_end_matches(".sql").to_owned())
            .collect()
    });
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .filter(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            only.as_ref().is_none_or(|o| o.contains(&stem))
        })
        .collect();
    files.sort();
    files
}

/// Runs the files on `JOBS` threads; a panic in one (a hang, a dead daemon) fails the test.
fn run_all(files: Vec<PathBuf>) -> Vec<FileResult> {
    let queue = Arc::new(Mutex::new(files.into_iter().collect::<VecDeque<_>>()));
    let workers: Vec<_> = (0..JOBS)
        .map(|_| {
            let queue = queue.clone();
            std::thread::spawn(move || {
                let mut results = Vec::new();
                loop {
                    let Some(path) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    let text = std::fs::read_to_string(&path).unwrap();
                    // A panic (a file past its time limit, a daemon that cannot start) fails
                    // the test at the end; the other files still run, and every daemon is
                    // dropped (stopped) on the way.
                    let result =
                        std::panic::catch_unwind(AssertUnwindSafe(|| run_file(&name, &text)))
                            .unwrap_or_else(|panic| FileResult {
                                name: name.clone(),
                                fatal: vec![format!(
                                    "{name}: the run panicked: {}",
                                    panic_text(&panic)
                                )],
                                ..FileResult::default()
                            });
                    eprintln!("{}", result.summary_line());
                    results.push(result);
                }
                results
            })
        })
        .collect();
    let mut results: Vec<FileResult> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("a worker panicked outside a file's run"))
        .collect();
    results.sort_by(|a, b| a.name.cmp(&b.name));
    results
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "(no message)".to_owned())
}

fn report(results: &[FileResult]) -> String {
    let mut text = String::new();
    let batches: usize = results.iter().map(|r| r.batches).sum();
    let clean: usize = results.iter().map(|r| r.clean).sum();
    let lost: usize = results.iter().map(|r| r.lost).sum();
    let mut totals: BTreeMap<u32, usize> = BTreeMap::new();
    for r in results {
        for (n, c) in &r.errors {
            *totals.entry(*n).or_default() += c;
        }
    }
    let mut ranked: Vec<(u32, usize)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for r in results {
        writeln!(text, "{}", r.summary_line()).unwrap();
    }
    writeln!(
        text,
        "total: {batches} batches, {clean} without error, {lost} lost (no answer); errors: {}",
        ranked
            .iter()
            .map(|(n, c)| format!("{n}×{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    writeln!(text, "\nEvery error message, by number:").unwrap();
    for (number, count) in &ranked {
        let failures: Vec<_> = results
            .iter()
            .flat_map(|r| &r.failures)
            .filter(|f| f.number == *number)
            .collect();
        let mut batches: Vec<(&str, usize)> = failures
            .iter()
            .map(|f| (f.file.as_str(), f.index))
            .collect();
        batches.dedup();
        writeln!(
            text,
            "\nMsg {number}: {count} message(s) in {} batch(es)",
            batches.len()
        )
        .unwrap();
        for f in failures {
            writeln!(
                text,
                "  {} #{} (line {}) {}\n      {}",
                f.file,
                f.index,
                f.line,
                f.source.trim_start_matches("-- source: "),
                f.text.replace('\n', "\n      ")
            )
            .unwrap();
        }
    }
    let notes: Vec<&String> = results.iter().flat_map(|r| &r.client_notes).collect();
    if !notes.is_empty() {
        writeln!(text, "\nClient side:").unwrap();
        for n in notes {
            writeln!(text, "  {n}").unwrap();
        }
    }
    text
}

#[test]
fn corpus_through_a_real_daemon() {
    let files = corpus_files();
    assert!(!files.is_empty(), "no corpus files (CORPUS_ONLY?)");
    let results = run_all(files);

    let report = report(&results);
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let path = target.join("corpus-report.txt");
    std::fs::write(&path, &report).unwrap();
    eprintln!(
        "{}\n(report: {})",
        report
            .lines()
            .take(results.len() + 1)
            .collect::<Vec<_>>()
            .join("\n"),
        path.display()
    );

    let mut failed: Vec<String> = Vec::new();
    for r in &results {
        failed.extend(r.fatal.iter().cloned());
        if r.batches == 0 {
            // The run stopped before its first batch: nothing to compare.
            continue;
        }
        let stem = r.name.trim_end_matches(".sql");
        let snapshot = r.snapshot.clone();
        let checked = std::panic::catch_unwind(|| {
            insta::with_settings!({
                snapshot_path => "corpus_run/snapshots",
                prepend_module_to_snapshot => false,
                omit_expression => true,
                description => format!("tests/corpus/{} through vdisim server", r.name),
            }, {
                insta::assert_snapshot!(stem, snapshot);
            });
        });
        if checked.is_err() {
            failed.push(format!("{}: the output differs from its snapshot", r.name));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
