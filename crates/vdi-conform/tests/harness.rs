//! The harness tested against the reference client and its deliberately broken variants.
//!
//! The built-in client runs the whole catalogue once (about 20 s, most of it the timing cases'
//! pauses); each broken variant runs a representative subset of 41 cases, and the test asserts
//! the exact set of case IDs that must not pass. The subset's timing cases are the 2.5 s ones:
//! 1.5 s of margin over the reference client's 1 s waits, so that a loaded machine cannot make
//! `ignore-timeout` miss its timeout.

use std::collections::BTreeSet;
use std::path::PathBuf;
use vdi_conform::catalogue::{Tier, catalogue, select};
use vdi_conform::child::ChildCommand;
use vdi_conform::report::{self, Summary};
use vdi_conform::run::{self, RunConfig, Verdict};
use vdi_conform::{CaseResult, ClientKind};

fn config(client: &str) -> RunConfig {
    let vdisim = PathBuf::from("/nonexistent/vdisim"); // only template clients use sqlcmd
    let mut c = RunConfig::new(ClientKind::parse(client, &vdisim).unwrap(), vdisim);
    c.jobs = 4;
    // The crash cases' server: this test binary re-executed (see `conform_child_server`).
    c.child_server = ChildCommand::test_binary("conform_child_server").unwrap();
    c
}

/// Not a test: the child server of the crash cases when the harness re-executes this binary
/// with `$VDISIM_CONFORM_SERVER` set; returns at once otherwise.
#[test]
fn conform_child_server() {
    vdi_conform::child::serve_if_asked();
}

fn run(client: &str, globs: &[&str]) -> Vec<CaseResult> {
    let all = catalogue();
    let include: Vec<String> = globs.iter().map(|s| s.to_string()).collect();
    let cases = select(&all, &include, &[]);
    assert!(!cases.is_empty());
    run::run_cases(&cases, &config(client), &|_: &CaseResult| {})
}

/// The cases that neither passed nor only reported (INFO).
fn not_passing(results: &[CaseResult]) -> BTreeSet<(String, Verdict)> {
    results
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Info))
        .map(|r| (r.id.clone(), r.verdict))
        .collect()
}

fn explain(results: &[CaseResult]) -> String {
    results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(report::human)
        .collect::<Vec<_>>()
        .join("\n")
}

const SUBSET: [&str; 41] = [
    "stripe/backup/devices-1",
    "stripe/restore/devices-4",
    "stripe/backup/devices-64",
    "open/devices-3",
    "create/mode-disk",
    "create/requests-complete/pipe",
    "config/server-alignment-4096",
    "config/delay-2500ms/restore",
    "buffer/blocksize-4096/maxtransfer-1024k",
    "buffer/buffercount-1/devices-4",
    "buffer/compression-checksum/devices-4",
    "flush/mid-0/complete-granted/devices-1",
    "flush/mid-0/complete-refused/devices-4",
    "flush/mid-3/complete-granted/devices-4",
    "flush/mid-1/complete-refused/devices-1",
    "complete/requested/devices-4",
    "complete/not-granted/devices-1",
    "close/after-vd-e-close/mid-0/devices-1",
    "close/after-vd-e-close/mid-3/devices-4",
    "close/server-closes-early/devices-4",
    "abort/server/opened/backup",
    "abort/server/mid-stream/restore",
    "abort/server/after-final/backup",
    "abort/crash/mid-stream/backup",
    "ioerror/discard-then-clearerror/devices-4",
    "ioerror/restore/geterror-then-clearerror/devices-1",
    "close/server-closes-early/restore/devices-4",
    "restore/read-blocks-7/devices-3",
    "restore/eof/devices-8",
    "media/tape/restore/devices-2",
    "media/disk/flush-3/complete-not-granted",
    "media/disk/abort-mid-stream",
    "chain/full-diff-log/devices-2",
    "timeout/command-pause-2500ms/devices-1/backup",
    "abort/server/configured/restore",
    "abort/crash/mid-stream/restore",
    "crash/backup/mid-stream/devices-4",
    "crash/restore/mid-stream/devices-1",
    "prefix/zone-1000/alignment-4096/devices-3/restore",
    "restore/fewer-devices/backup-4/restore-2",
    "info/create-request",
];

fn expect_set(variant: &str, expected: &[(&str, Verdict)]) {
    let results = run(&format!("builtin:{variant}"), &SUBSET);
    assert_eq!(results.len(), SUBSET.len());
    // An INFO case reports, whatever the client does.
    let info = results
        .iter()
        .find(|r| r.id == "info/create-request")
        .unwrap();
    assert_eq!(info.verdict, Verdict::Info, "{}", report::human(info));
    assert!(
        info.actual
            .iter()
            .any(|a| a.contains("device(s), features")),
        "{info:?}"
    );
    let expected: BTreeSet<(String, Verdict)> = expected
        .iter()
        .map(|(id, v)| (id.to_string(), *v))
        .collect();
    assert_eq!(not_passing(&results), expected, "{}", explain(&results));
}

#[test]
fn the_builtin_client_passes_every_case() {
    let all = catalogue();
    let cases: Vec<_> = all.iter().collect();
    let results = run::run_cases(&cases, &config("builtin"), &|_: &CaseResult| {});
    assert_eq!(results.len(), all.len());
    let summary = Summary::of(&results);
    let info = all.iter().filter(|c| c.tier == Tier::Info).count();
    assert!(info >= 5);
    assert_eq!(
        (
            summary.failed,
            summary.warned,
            summary.skipped,
            summary.info
        ),
        (0, 0, 1, info),
        "{}",
        explain(&results)
    );
    // The one SKIP: the in-process client cannot be killed, and this test has no vdisim
    // binary to run it as a process (tests/conform_cli.rs runs that case).
    let skipped: Vec<_> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Skip)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(skipped, ["snapshot/client-killed-frozen"]);
    assert_eq!(summary.passed + info + 1, all.len());
}

#[test]
fn flush_is_end_loses_what_follows_a_mid_stream_flush() {
    use Verdict::Fail;
    expect_set(
        "flush-is-end",
        &[
            ("flush/mid-3/complete-granted/devices-4", Fail),
            ("flush/mid-1/complete-refused/devices-1", Fail),
            ("media/disk/flush-3/complete-not-granted", Fail),
        ],
    );
}

#[test]
fn no_complete_warns_where_vdc_complete_should_be_requested() {
    use Verdict::Warn;
    expect_set(
        "no-complete",
        &[
            ("create/requests-complete/pipe", Warn),
            ("complete/requested/devices-4", Warn),
        ],
    );
}

/// A client that takes the first Flush for the end of the backup fails wherever a Flush
/// arrives: since every backup ends with a final Flush (then VDC_Complete when negotiated, as
/// SQL Server ends it; decision 43), that is every case whose backup must succeed.
#[test]
fn close_early_fails_wherever_a_flush_arrives() {
    let passing = [
        "abort/server/opened/backup",
        "abort/crash/mid-stream/backup",
        "media/disk/abort-mid-stream",
        "info/create-request",
    ];
    // The server dies mid-stream: whether some device's final Flush (and so the early Close)
    // comes before the crash point depends on how the stripes were spread. Either verdict.
    let either = "crash/backup/mid-stream/devices-4";
    let results = run("builtin:close-early", &SUBSET);
    assert_eq!(results.len(), SUBSET.len());
    let mut got = not_passing(&results);
    got.retain(|(id, _)| id != either);
    let expected: BTreeSet<(String, Verdict)> = SUBSET
        .iter()
        .filter(|id| !passing.contains(id) && **id != either)
        .map(|id| (id.to_string(), Verdict::Fail))
        .collect();
    assert_eq!(got, expected, "{}", explain(&results));
}

#[test]
fn ignore_timeout_warns_on_the_timing_cases() {
    use Verdict::Warn;
    expect_set(
        "ignore-timeout",
        &[
            ("config/delay-2500ms/restore", Warn),
            ("timeout/command-pause-2500ms/devices-1/backup", Warn),
        ],
    );
}

/// Every case whose backup must succeed fails; only the server-abort backups pass.
#[test]
fn short_write_fails_every_backup_that_must_succeed() {
    let passing = [
        "abort/server/opened/backup",
        "abort/server/after-final/backup",
        "abort/crash/mid-stream/backup",
        "media/disk/abort-mid-stream",
        // The server refuses the first short Write before its crash point: a failed backup,
        // reported as such (the crash itself is then not exercised).
        "crash/backup/mid-stream/devices-4",
        "info/create-request",
    ];
    let expected: Vec<(&str, Verdict)> = SUBSET
        .iter()
        .filter(|id| !passing.contains(id))
        .map(|id| (*id, Verdict::Fail))
        .collect();
    expect_set("short-write", &expected);
}

/// Every case that reads media back fails (the server detects the flipped byte).
#[test]
fn corrupt_fails_every_case_that_reads_media_back() {
    let reads_back_successfully = [
        "stripe/backup/devices-1",
        "stripe/restore/devices-4",
        "stripe/backup/devices-64",
        "config/server-alignment-4096",
        "config/delay-2500ms/restore",
        "buffer/blocksize-4096/maxtransfer-1024k",
        "buffer/buffercount-1/devices-4",
        "buffer/compression-checksum/devices-4",
        "flush/mid-0/complete-granted/devices-1",
        "flush/mid-0/complete-refused/devices-4",
        "flush/mid-3/complete-granted/devices-4",
        "flush/mid-1/complete-refused/devices-1",
        "complete/requested/devices-4",
        "complete/not-granted/devices-1",
        "close/server-closes-early/devices-4",
        "ioerror/discard-then-clearerror/devices-4",
        "ioerror/restore/geterror-then-clearerror/devices-1",
        "close/server-closes-early/restore/devices-4",
        "restore/read-blocks-7/devices-3",
        "restore/eof/devices-8",
        "media/tape/restore/devices-2",
        "media/disk/flush-3/complete-not-granted",
        "chain/full-diff-log/devices-2",
        "timeout/command-pause-2500ms/devices-1/backup",
        "prefix/zone-1000/alignment-4096/devices-3/restore",
        // The flipped byte fails the restore with a damage message, not 3132.
        "restore/fewer-devices/backup-4/restore-2",
    ];
    let expected: Vec<(&str, Verdict)> = reads_back_successfully
        .iter()
        .map(|id| (*id, Verdict::Fail))
        .collect();
    expect_set("corrupt", &expected);
}

#[test]
fn misuse_in_the_client_transcript_counts_against_it() {
    let results = run(
        "builtin:close-early",
        &["close/after-vd-e-close/mid-1/devices-1"],
    );
    let r = &results[0];
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        r.actual.iter().any(|a| a.contains("VDI-CLOSE-00")),
        "{}",
        report::human(r)
    );
    assert!(
        r.expected
            .iter()
            .any(|e| e.contains("no misuse of the VDI API")),
        "{}",
        report::human(r)
    );
}

#[test]
fn every_non_pass_has_expected_and_actual_lines() {
    let results = run(
        "builtin:flush-is-end",
        &["flush/mid-2/complete-granted/devices-1"],
    );
    let r = &results[0];
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(!r.expected.is_empty());
    assert_eq!(r.expected.len(), r.actual.len());
    assert!(
        r.actual[0].contains("the statement failed: Msg 3"),
        "{}",
        report::human(r)
    );
}

/// A client that ignores the server's death (here: never runs a statement and exits 0) fails
/// the crash case; a server that never reached its crash point is reported as an observation.
#[test]
fn a_client_that_reports_success_after_a_crash_fails() {
    let mut c = config("builtin");
    c.client = ClientKind::Template("true {op}".into());
    let all = catalogue();
    let cases = select(&all, &["crash/backup/mid-stream/devices-1".into()], &[]);
    let results = run::run_cases(&cases, &c, &|_: &CaseResult| {});
    let r = &results[0];
    assert_eq!(r.verdict, Verdict::Fail, "{}", report::human(r));
    assert!(
        r.actual.iter().any(|a| a.contains("exit code 0")),
        "{}",
        report::human(r)
    );
    assert!(
        r.actual
            .iter()
            .any(|a| a.contains("the server never got there")),
        "{}",
        report::human(r)
    );
}

/// Without a child server program the crash cases are harness errors: never a silent pass,
/// and never the client's failure.
#[test]
fn a_crash_case_without_its_child_server_is_a_harness_error() {
    let mut c = config("builtin");
    c.child_server = ChildCommand::vdisim(std::path::Path::new("/nonexistent/vdisim"));
    let all = catalogue();
    let cases = select(&all, &["crash/backup/opened/devices-1".into()], &[]);
    let results = run::run_cases(&cases, &c, &|_: &CaseResult| {});
    assert_eq!(results[0].verdict, Verdict::Error);
    assert_eq!(Summary::of(&results).exit_code(false), 3);
    assert!(
        results[0].actual[0].contains("harness error"),
        "{:?}",
        results[0]
    );
}
