//! The `snapshot/` cases against the reference client in process and its snapshot variants:
//! each case passes with `builtin`; `builtin:snapshot-early` (completes VDC_Snapshot before it
//! captured anything) fails the round trips; `builtin:snapshot-slow` (holds VDC_Snapshot 3 s)
//! is aborted by the 1 s `--max-freeze` of `snapshot/freeze-limit-1s` and only warns there.
//! `snapshot/client-killed-frozen` kills the client, which the in-process client cannot be:
//! the harness runs it as `vdisim` processes, and without that binary (as here) the case is
//! SKIP; `tests/conform_cli.rs` runs it with the real binary.

use std::path::PathBuf;
use vdi_conform::catalogue::{catalogue, select};
use vdi_conform::report;
use vdi_conform::run::{self, RunConfig, Verdict};
use vdi_conform::{CaseResult, ClientKind};

fn run(client: &str) -> Vec<CaseResult> {
    let vdisim = PathBuf::from("/nonexistent/vdisim");
    let mut config = RunConfig::new(ClientKind::parse(client, &vdisim).unwrap(), vdisim);
    config.jobs = 3;
    let all = catalogue();
    let cases = select(&all, &["snapshot/".to_string()], &[]);
    assert_eq!(cases.len(), 4);
    run::run_cases(&cases, &config, &|_: &CaseResult| {})
}

fn verdict<'a>(results: &'a [CaseResult], id: &str) -> &'a CaseResult {
    results.iter().find(|r| r.id == id).unwrap()
}

const KILLED: &str = "snapshot/client-killed-frozen";

#[test]
fn the_reference_client_passes_every_snapshot_case() {
    for r in run("builtin") {
        if r.id == KILLED {
            assert_eq!(r.verdict, Verdict::Skip, "{}", report::human(&r));
            assert!(
                r.actual.iter().any(|a| a.contains("cannot be killed")),
                "{}",
                report::human(&r)
            );
            continue;
        }
        assert_eq!(r.verdict, Verdict::Pass, "{}", report::human(&r));
    }
}

#[test]
fn completing_the_snapshot_before_capturing_it_fails() {
    let results = run("builtin:snapshot-early");
    for id in [
        "snapshot/round-trip",
        "snapshot/capture-before-complete",
        "snapshot/freeze-limit-1s",
    ] {
        let r = verdict(&results, id);
        assert_eq!(r.verdict, Verdict::Fail, "{}", report::human(r));
        // The restore has nothing to mount: 3203 (ERROR_FILE_NOT_FOUND), then 3013.
        assert!(
            r.actual
                .iter()
                .any(|a| a.contains("run 2 (snapshot-restore)")),
            "{}",
            report::human(r)
        );
    }
}

#[test]
fn a_client_that_holds_the_freeze_past_the_limit_warns() {
    let results = run("builtin:snapshot-slow");
    let r = verdict(&results, "snapshot/freeze-limit-1s");
    assert_eq!(r.verdict, Verdict::Warn, "{}", report::human(r));
    assert!(
        r.actual.iter().any(|a| a.contains("59025")),
        "{}",
        report::human(r)
    );
    // Under the default 60 s limit a 3 s hold is slow but within the window.
    for id in ["snapshot/round-trip", "snapshot/capture-before-complete"] {
        let r = verdict(&results, id);
        assert_eq!(r.verdict, Verdict::Pass, "{}", report::human(r));
    }
}
