//! Reports parsed back (JSON; JUnit against the schema's required structure), transcripts
//! and their determinism (insta snapshots of the command streams for a seed).

use quick_xml::events::Event;
use std::collections::HashMap;
use std::path::PathBuf;
use vdi_conform::catalogue::{catalogue, select};
use vdi_conform::report::{self, JsonReport, RunMeta, Summary};
use vdi_conform::run::{self, RunConfig, Verdict};
use vdi_conform::transcript;
use vdi_conform::{CaseResult, ClientKind};

fn meta(seed: u64, client: &str) -> RunMeta {
    RunMeta {
        seed,
        client: client.into(),
        catalogue_version: vdi_conform::catalogue::CATALOGUE_VERSION,
        started_at: "2025-01-31T23:59:59Z".into(),
        duration_ms: 1234,
        partition: None,
    }
}

fn config(client: &str) -> RunConfig {
    let vdisim = PathBuf::from("/nonexistent/vdisim");
    let mut c = RunConfig::new(ClientKind::parse(client, &vdisim).unwrap(), vdisim);
    c.jobs = 4;
    c
}

fn run_with(config: &RunConfig, globs: &[&str]) -> Vec<CaseResult> {
    let all = catalogue();
    let include: Vec<String> = globs.iter().map(|s| s.to_string()).collect();
    let cases = select(&all, &include, &[]);
    run::run_cases(&cases, config, &|_: &CaseResult| {})
}

/// A mixed run: passes, a failure, a warning.
fn mixed() -> Vec<CaseResult> {
    let mut results = run_with(
        &config("builtin:flush-is-end"),
        &[
            "stripe/backup/devices-2",
            "flush/mid-1/complete-granted/devices-1",
        ],
    );
    results.extend(run_with(
        &config("builtin:no-complete"),
        &["create/requests-complete/tape"],
    ));
    results
}

#[test]
fn json_report_parses_back() {
    let results = mixed();
    let json = report::json(&results, &meta(7, "builtin:test"));
    let text = serde_json::to_string_pretty(&json).unwrap();
    let back: JsonReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back.schema_version, report::JSON_SCHEMA_VERSION);
    assert_eq!(
        back.summary,
        Summary {
            passed: 1,
            failed: 1,
            warned: 1,
            skipped: 0,
            info: 0,
            errors: 0,
        }
    );
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    for case in value["cases"].as_array().unwrap() {
        for key in [
            "id",
            "tier",
            "rule",
            "verdict",
            "expected",
            "actual",
            "duration_ms",
            "transcript",
        ] {
            assert!(case.get(key).is_some(), "{key} missing in {case}");
        }
    }
    let failed = back
        .cases
        .iter()
        .find(|c| c.verdict == Verdict::Fail)
        .unwrap();
    assert_eq!(failed.id, "flush/mid-1/complete-granted/devices-1");
    assert!(failed.expected.as_deref().unwrap().contains("succeeds"));
    assert!(failed.actual.as_deref().unwrap().contains("failed: Msg 3"));
    let passed = back
        .cases
        .iter()
        .find(|c| c.verdict == Verdict::Pass)
        .unwrap();
    assert!(passed.expected.is_none() && passed.actual.is_none());
}

#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: HashMap<String, String>,
    children: Vec<Element>,
    text: String,
}

fn parse_xml(xml: &str) -> Element {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Element::default()];
    let open = |e: &quick_xml::events::BytesStart<'_>| Element {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    String::from_utf8_lossy(&a.value).into_owned(),
                )
            })
            .collect(),
        ..Element::default()
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let el = open(&e);
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(el);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&String::from_utf8_lossy(&t)),
            Event::CData(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&String::from_utf8_lossy(&t)),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced XML");
    stack.pop().unwrap()
}

fn count(el: &Element, attr: &str) -> usize {
    el.attrs
        .get(attr)
        .unwrap_or_else(|| panic!("<{}> lacks {attr}", el.name))
        .parse()
        .unwrap()
}

/// The JUnit XSD's required structure: `testsuites` of `testsuite` (name, tests, failures,
/// errors, time) of `testcase` (name, classname, time); a failure carries message and type;
/// the counts agree with the children.
fn check_junit(xml: &str, strict: bool) -> (usize, usize, usize) {
    let doc = parse_xml(xml);
    assert_eq!(doc.children.len(), 1);
    let root = &doc.children[0];
    assert_eq!(root.name, "testsuites");
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for suite in &root.children {
        assert_eq!(suite.name, "testsuite");
        assert!(!suite.attrs["name"].is_empty());
        assert!(suite.attrs.contains_key("time"));
        let cases: Vec<&Element> = suite
            .children
            .iter()
            .filter(|c| c.name == "testcase")
            .collect();
        assert_eq!(count(suite, "tests"), cases.len());
        assert_eq!(count(suite, "errors"), 0);
        let mut suite_failures = 0;
        for case in &cases {
            assert!(!case.attrs["name"].is_empty());
            assert!(
                case.attrs["classname"].starts_with("vdisim.conform."),
                "{:?}",
                case.attrs
            );
            assert!(case.attrs.contains_key("time"));
            for child in &case.children {
                match child.name.as_str() {
                    "failure" => {
                        suite_failures += 1;
                        assert!(child.attrs.contains_key("message"));
                        assert!(child.attrs.contains_key("type"));
                        assert!(child.text.contains("Expected: "), "{}", child.text);
                        assert!(child.text.contains("Actual: "), "{}", child.text);
                    }
                    "skipped" => skipped += 1,
                    // Warnings go to system-out unless strict (then they are failures); INFO
                    // observations and the client's output always do.
                    "system-out" => {
                        assert!(!strict || !child.text.starts_with("WARN"), "{}", child.text)
                    }
                    other => panic!("unexpected <{other}> in a testcase"),
                }
            }
        }
        assert_eq!(count(suite, "failures"), suite_failures);
        tests += cases.len();
        failures += suite_failures;
    }
    assert_eq!(count(root, "tests"), tests);
    assert_eq!(count(root, "failures"), failures);
    (tests, failures, skipped)
}

#[test]
fn junit_report_has_the_required_structure() {
    let results = mixed();
    let xml = report::junit(&results, false, &meta(1, "builtin")).unwrap();
    assert_eq!(check_junit(&xml, false), (3, 1, 0));
    let doc = parse_xml(&xml);
    let suites: Vec<&str> = doc.children[0]
        .children
        .iter()
        .map(|s| s.attrs["name"].as_str())
        .collect();
    assert_eq!(suites, ["create", "flush", "stripe"]);
    // Every suite says which run it is.
    for suite in &doc.children[0].children {
        let properties = suite
            .children
            .iter()
            .find(|c| c.name == "properties")
            .expect("properties");
        let named: HashMap<&str, &str> = properties
            .children
            .iter()
            .map(|p| (p.attrs["name"].as_str(), p.attrs["value"].as_str()))
            .collect();
        assert_eq!(named["seed"], "1");
        assert_eq!(named["client"], "builtin");
        assert_eq!(
            named["catalogue_version"],
            vdi_conform::catalogue::CATALOGUE_VERSION.to_string()
        );
    }
    // A failure's message says what failed, not only that it did.
    let failure = doc.children[0]
        .children
        .iter()
        .flat_map(|s| &s.children)
        .flat_map(|c| &c.children)
        .find(|c| c.name == "failure")
        .unwrap();
    assert!(
        failure.attrs["message"].starts_with(
            "FAIL MUST [CONF-DATA-001]: expected run 2 (verifyonly): the statement succeeds; actual run 2 (verifyonly): the statement failed: Msg 3266: "
        ),
        "{:?}",
        failure.attrs
    );
    // Under --strict the warning is a failure too.
    let xml = report::junit(&results, true, &meta(1, "builtin")).unwrap();
    assert_eq!(check_junit(&xml, true), (3, 2, 0));
}

#[test]
fn skipped_cases_and_exit_codes() {
    let mut c = config("builtin");
    c.client = ClientKind::Template("exit 77 # {op}".into());
    let results = run_with(
        &c,
        &["stripe/backup/devices-1", "media/tape/backup/devices-1"],
    );
    let summary = Summary::of(&results);
    assert_eq!(summary.skipped, 2, "{results:?}");
    assert_eq!(summary.line(), "0 passed, 0 failed, 2 skipped");
    assert_eq!(summary.exit_code(true), 0);
    assert!(results.iter().all(|r| !r.expected.is_empty()));
    let xml = report::junit(&results, false, &meta(1, "builtin")).unwrap();
    assert_eq!(check_junit(&xml, false), (2, 0, 2));

    let mixed = Summary::of(&mixed());
    assert_eq!(mixed.line(), "1 passed, 1 failed, 0 skipped, 1 warnings");
    assert_eq!(mixed.exit_code(false), 1);
    let warn_only = Summary {
        passed: 3,
        warned: 1,
        ..Summary::default()
    };
    assert_eq!(warn_only.exit_code(false), 0);
    assert_eq!(warn_only.exit_code(true), 1);
}

/// The server's command streams of a case's transcript, one line per command.
fn streams(dir: &std::path::Path, id: &str) -> String {
    let t = transcript::read_transcript(&dir.join(transcript::transcript_name(id))).unwrap();
    assert_eq!(t.header.case, id);
    let mut out = String::new();
    for (i, run) in t.runs.iter().enumerate() {
        for (d, stream) in transcript::command_streams(&run.server_events())
            .iter()
            .enumerate()
        {
            for line in stream {
                out.push_str(&format!("run{} dev{d} {line}\n", i + 1));
            }
        }
    }
    out
}

#[test]
fn the_same_seed_gives_the_same_transcripts() {
    const CASES: [&str; 3] = [
        "restore/read-random/devices-1",
        "flush/mid-2/complete-refused/devices-1",
        "media/disk/restore/devices-1",
    ];
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, dir) in dirs.iter().enumerate() {
        let mut c = config("builtin");
        c.seed = if i < 2 { 42 } else { 43 };
        c.transcripts = Some(dir.path().to_path_buf());
        let results = run_with(&c, &CASES);
        assert!(results.iter().all(|r| r.verdict == Verdict::Pass));
        assert!(results.iter().all(|r| r.transcript.is_some()));
    }
    for id in CASES {
        let a = streams(dirs[0].path(), id);
        let b = streams(dirs[1].path(), id);
        assert_eq!(a, b, "{id}: same seed, different command stream");
        insta::assert_snapshot!(id.replace('/', "__"), a);
    }
    // Another seed changes the restore's read sizes.
    let id = "restore/read-random/devices-1";
    assert_ne!(streams(dirs[0].path(), id), streams(dirs[2].path(), id));
}

/// INFO cases count apart, carry their observation in `actual`, pass in JUnit, and never
/// change the exit code (not even under --strict).
#[test]
fn info_cases_report_observations() {
    let results = run_with(
        &config("builtin"),
        &[
            "info/create-request",
            "info/flush-completions",
            "stripe/backup/devices-1",
        ],
    );
    let summary = Summary::of(&results);
    assert_eq!(summary.line(), "1 passed, 0 failed, 0 skipped, 2 infos");
    assert_eq!(summary.exit_code(true), 0);
    let json = report::json(&results, &meta(1, "builtin"));
    let text = serde_json::to_string(&json).unwrap();
    let back: JsonReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back.summary.info, 2);
    let flushes = back
        .cases
        .iter()
        .find(|c| c.id == "info/flush-completions")
        .unwrap();
    assert_eq!(flushes.verdict, Verdict::Info);
    assert_eq!(
        flushes.actual.as_deref(),
        // The 3 mid-stream Flushes and the final one before VDC_Complete (decision 43).
        Some("4 Flush(es) sent, completed: 4 × ERROR_SUCCESS (0)")
    );
    let xml = report::junit(&results, true, &meta(1, "builtin")).unwrap();
    assert_eq!(check_junit(&xml, true), (3, 0, 0));
    assert!(xml.contains("INFO: 4 Flush(es) sent"), "{xml}");
}

/// A template that cannot be told about prefix zones skips the prefix cases.
#[test]
fn prefix_cases_skip_a_template_without_prefix_placeholders() {
    let mut c = config("builtin");
    c.client = ClientKind::Template("exit 0 # {op}".into());
    let results = run_with(&c, &["prefix/zone-512/alignment-0/devices-1/backup"]);
    assert_eq!(results[0].verdict, Verdict::Skip, "{results:?}");
}

/// A template with a typo fails every case; each report shows what the shell said.
#[test]
fn a_template_with_a_syntax_error_shows_its_output_in_every_report() {
    let mut c = config("builtin");
    c.client = ClientKind::Template("if then {op} --to {dir}".into());
    let results = run_with(&c, &["stripe/backup/devices-1"]);
    let r = &results[0];
    assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
    let said = r.client_output[0].stderr.clone();
    assert!(said.contains("Syntax error"), "{said:?}");
    assert_eq!(r.client_output[0].ended, "exit code 2");

    let human = report::human(r);
    assert!(
        human.contains("Output of run 1 (backup; exit code 2):")
            && human.contains(&format!("stderr| {}", said.lines().next().unwrap())),
        "{human}"
    );
    // Under Actual, not before it.
    assert!(human.find("Actual:").unwrap() < human.find("Output of run 1").unwrap());

    let json = serde_json::to_value(report::json(&results, &meta(1, "t"))).unwrap();
    let output = &json["cases"][0]["client_output"][0];
    assert_eq!(output["run"], 1);
    assert_eq!(output["op"], "backup");
    assert!(output["stderr"].as_str().unwrap().contains("Syntax error"));

    let xml = report::junit(&results, false, &meta(1, "builtin")).unwrap();
    let doc = parse_xml(&xml);
    let case = doc.children[0].children[0]
        .children
        .iter()
        .find(|c| c.name == "testcase")
        .unwrap();
    let out = case
        .children
        .iter()
        .find(|c| c.name == "system-out")
        .expect("system-out");
    assert!(out.text.contains("Syntax error"), "{}", out.text);
}

/// A restore case whose backup the client declines names the run that declined and what the
/// case needed it for; a prefix case the template cannot be told about says it was not run.
#[test]
fn skips_say_which_run_declined_and_why() {
    let mut c = config("builtin");
    c.client = ClientKind::Template("exit 77 # {op}".into());
    let results = run_with(&c, &["media/tape/restore/devices-2"]);
    let r = &results[0];
    assert_eq!(r.verdict, Verdict::Skip);
    assert_eq!(
        r.expected,
        [
            "run 1 of 2 (backup): the client supports backup over 2 device(s) in tape mode (this restore case needs it first)"
        ]
    );
    assert_eq!(
        r.actual,
        ["run 1 of 2 (backup): the client exited with 77 (not supported)"]
    );

    c.client = ClientKind::Template("exit 0 # {op}".into());
    let results = run_with(&c, &["prefix/zone-4096/alignment-65536/devices-1/restore"]);
    let r = &results[0];
    assert_eq!(r.verdict, Verdict::Skip);
    assert!(!r.actual[0].contains("77"), "{r:?}");
    assert!(
        r.actual[0].starts_with("run 1 of 2 (backup): not run: the template has no {prefix}"),
        "{r:?}"
    );
    assert!(r.client_output[0].ended.starts_with("not run: "));
}
