//! `vdisim conform` (the conformance harness), `vdisim conform merge` (shard reports into one)
//! and `vdisim replay` (re-drive one transcript).
//!
//! The report goes to stdout: a block per case in catalogue order, the list of what did not
//! pass, then the closing `N passed, …` line last. Progress and diagnostics go to stderr.

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vdi_conform::catalogue::{self, Case};
use vdi_conform::client::ClientKind;
use vdi_conform::html::{self, CaseView, HtmlReport};
use vdi_conform::report::{self, JsonReport, RunMeta, Style, Summary};
use vdi_conform::run::{self, CaseResult, Progress, RunConfig, StepRecord, Verdict};
use vdi_conform::selection::{self, Partition};
use vdi_conform::transcript;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ConformArgs {
    #[command(subcommand)]
    command: Option<ConformCommand>,
    /// The client: `builtin`, `builtin:<variant>` (flush-is-end, no-complete, close-early,
    /// ignore-timeout, short-write, corrupt), `builtin-process`, or a command template with
    /// {op} {db} {dir} {server} {devices} {mode} {prefix} {alignment}, run through `sh -c`.
    #[arg(long, required_unless_present_any = ["list", "explain"])]
    client: Option<String>,
    /// List the selected cases (ID, tier, rule, section, summary) and run nothing.
    #[arg(long)]
    list: bool,
    /// Print what the matching cases do and check (with --client: the commands a template
    /// runs), and run nothing.
    #[arg(long, value_name = "CASE")]
    explain: Option<String>,
    /// Run only cases whose ID matches one of these patterns: a glob (`*`, `?`) or, without
    /// either, a plain substring.
    #[arg(long = "cases", value_name = "PATTERN")]
    cases: Vec<String>,
    /// Leave out cases whose ID matches one of these patterns (as --cases).
    #[arg(long = "skip", value_name = "PATTERN")]
    skip: Vec<String>,
    /// Run shard k of n of the selection (`k/n`, `count:k/n` round robin, `hash:k/n` by ID),
    /// for a CI matrix; `vdisim conform merge` puts the shards' JSON reports together again.
    #[arg(long, value_name = "K/N", value_parser = Partition::parse)]
    partition: Option<Partition>,
    /// Exit 1 when a SHOULD case warns, too (JUnit reports warnings as failures).
    #[arg(long)]
    strict: bool,
    /// Print only the cases that did not pass, and the closing line.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Colour the verdicts: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Write the JSON report here.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write the JUnit XML report here.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write one JSON-lines transcript per case into this directory.
    #[arg(long, value_name = "DIR")]
    transcripts: Option<PathBuf>,
    /// Write the HTML report into this directory: index.html and a page per case with its
    /// timelines (a static site that works from file://).
    #[arg(long, value_name = "DIR")]
    html: Option<PathBuf>,
    /// Seed of every random choice (read sizes, media set ids).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Cases run at once (default: the number of CPUs).
    #[arg(long)]
    jobs: Option<usize>,
    /// Time limit of one client run, in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Multiply every injected delay (configuration delays, command pauses) and the harness's
    /// own waits by this factor, e.g. 2 for a client with 2-second GetCommand waits.
    #[arg(long, value_name = "F", default_value_t = 1.0, value_parser = parse_time_scale)]
    time_scale: f64,
}

#[derive(Subcommand, Debug)]
enum ConformCommand {
    /// Merge the JSON reports of `--partition` shards into one JSON and one JUnit report.
    Merge(MergeArgs),
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// The shards' JSON reports.
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write the merged JUnit XML report here.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Exit 1 when a SHOULD case warned, too (JUnit reports warnings as failures).
    #[arg(long)]
    strict: bool,
    /// Colour the verdicts: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// The style of the report on stdout.
    fn style(self) -> Style {
        let color = match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        Style { color }
    }
}

fn parse_time_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 && f <= 100.0 => Ok(f),
        _ => Err(format!("{s:?} is not a factor in (0, 100]")),
    }
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A transcript written by `vdisim conform --transcripts`.
    transcript: PathBuf,
    /// The client (as for `vdisim conform`) to run the case again with. Without it (with
    /// --html), the recorded transcript is drawn as it is.
    #[arg(long, required_unless_present = "html")]
    client: Option<String>,
    /// Write the case's page (its Expected/Actual, the client's output, the timelines) to
    /// this HTML file: of the recorded transcript, or of the new run with --client.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Time limit of one client run, in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

fn usage(message: String) -> Result<ExitCode, String> {
    eprintln!("vdisim: {message}");
    Ok(ExitCode::from(2))
}

fn vdisim_exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find the vdisim binary: {e}"))
}

/// Writes `text` to `path`, naming the path in the error.
fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The report on stdout as cases come in, the progress bar on stderr, and the HTML pages.
struct Printer {
    quiet: bool,
    style: Style,
    bar: ProgressBar,
    out: Mutex<std::io::Stdout>,
    html: Option<HtmlReport>,
}

impl Progress for Printer {
    fn finished(&self, case: &Case, result: &CaseResult, records: &[StepRecord]) {
        if let Some(html) = &self.html {
            html.write_case(case, result, records);
        }
        self.bar.inc(1);
    }

    fn report(&self, _case: &Case, result: &CaseResult) {
        if self.quiet && result.verdict == Verdict::Pass {
            return;
        }
        let text = report::human_styled(result, self.style);
        self.bar.suspend(|| {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        });
    }
}

pub fn conform(args: &ConformArgs) -> Result<ExitCode, String> {
    if let Some(ConformCommand::Merge(m)) = &args.command {
        return merge(m);
    }
    let all = catalogue::catalogue();
    let unmatched = selection::unmatched(&all, &args.cases);
    if !unmatched.is_empty() {
        return usage(format!(
            "--cases {} matches no case (see vdisim conform --list)",
            unmatched.join(", ")
        ));
    }
    let mut cases = catalogue::select(&all, &args.cases, &args.skip);
    if let Some(p) = &args.partition {
        cases = p.apply(&cases);
    }
    if cases.is_empty() {
        return usage(
            "no case is selected by --cases/--skip/--partition (see vdisim conform --list)".into(),
        );
    }
    let exe = vdisim_exe()?;
    let client = match args.client.as_deref().map(|c| ClientKind::parse(c, &exe)) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return usage(e),
        None => None,
    };
    let client_label = args.client.clone().unwrap_or_default();
    if let Some(pattern) = &args.explain {
        let explained: Vec<&Case> = catalogue::select(&all, std::slice::from_ref(pattern), &[])
            .into_iter()
            .filter(|c| cases.iter().any(|s| s.id == c.id))
            .collect();
        if explained.is_empty() {
            return usage(format!("--explain {pattern} matches no selected case"));
        }
        let client = client.unwrap_or(ClientKind::Builtin(Default::default()));
        let label = if client_label.is_empty() {
            "builtin"
        } else {
            &client_label
        };
        for (i, c) in explained.iter().enumerate() {
            if i > 0 {
                println!();
            }
            print!(
                "{}",
                vdi_conform::explain::explain(c, Some((&client, label)))
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.list {
        for c in &cases {
            println!(
                "{:<58} {:<6} {:<20} §{:<28} {}",
                c.id,
                c.tier.name(),
                c.rule,
                c.section,
                c.summary
            );
        }
        println!("{} cases", cases.len());
        return Ok(ExitCode::SUCCESS);
    }
    let Some(client) = client else {
        return usage("--client is required".into());
    };
    let mut config = RunConfig::new(client, exe);
    config.client_label = client_label.clone();
    config.seed = args.seed;
    config.jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    config.transcripts = args.transcripts.clone();
    config.step_limit = Duration::from_secs(args.timeout.max(1));
    config.time_scale = args.time_scale;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(cases.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut meta = RunMeta {
        seed: args.seed,
        client: client_label.clone(),
        catalogue_version: catalogue::CATALOGUE_VERSION,
        started_at: report::utc_now(),
        duration_ms: 0,
        partition: args.partition.map(|p| p.to_string()),
    };
    let html = match &args.html {
        Some(dir) => Some(
            HtmlReport::create(dir, meta.clone()).map_err(|e| format!("{}: {e}", dir.display()))?,
        ),
        None => None,
    };
    let printer = Printer {
        quiet: args.quiet,
        style: args.color.style(),
        bar,
        out: Mutex::new(std::io::stdout()),
        html,
    };
    let started = Instant::now();
    let results = run::run_cases(&cases, &config, &printer);
    printer.bar.finish_and_clear();
    meta.duration_ms = started.elapsed().as_millis() as u64;
    if let (Some(html), Some(dir)) = (&printer.html, &args.html) {
        let stats = html.finish(&results, &meta)?;
        eprintln!(
            "vdisim conform: HTML report {} ({} files, {:.1} MB, written in {:.2} s)",
            dir.join("index.html").display(),
            stats.files,
            stats.bytes as f64 / 1e6,
            stats.spent.as_secs_f64()
        );
    }
    write_reports(
        &results,
        &meta,
        args.json.as_deref(),
        args.junit.as_deref(),
        args.strict,
    )?;
    let summary = Summary::of(&results);
    if !args.quiet {
        println!(
            "vdisim conform: {} case(s) in {:.1} s against {client_label} (seed {}, catalogue {}{})",
            results.len(),
            meta.duration_ms as f64 / 1000.0,
            meta.seed,
            meta.catalogue_version,
            meta.partition
                .as_deref()
                .map_or_else(String::new, |p| format!(", partition {p}"))
        );
        let list = report::closing_list(&results, printer.style);
        if !list.is_empty() {
            println!("{list}");
        }
    }
    println!("{}", summary.line());
    Ok(ExitCode::from(summary.exit_code(args.strict)))
}

fn write_reports(
    results: &[CaseResult],
    meta: &RunMeta,
    json: Option<&Path>,
    junit: Option<&Path>,
    strict: bool,
) -> Result<(), String> {
    if let Some(path) = json {
        let report = report::json(results, meta);
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        write_file(path, &(text + "\n"))?;
    }
    if let Some(path) = junit {
        write_file(path, &report::junit(results, strict, meta)?)?;
    }
    Ok(())
}

fn merge(args: &MergeArgs) -> Result<ExitCode, String> {
    let mut reports: Vec<JsonReport> = Vec::new();
    for path in &args.reports {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return usage(format!("{}: {e}", path.display())),
        };
        match serde_json::from_str(&text) {
            Ok(r) => reports.push(r),
            Err(e) => {
                return usage(format!(
                    "{}: not a vdisim conform JSON report: {e}",
                    path.display()
                ));
            }
        }
    }
    let shards: Vec<String> = reports
        .iter()
        .filter_map(|r| r.meta.partition.clone())
        .collect();
    let merged = match report::merge(&reports) {
        Ok(m) => m,
        Err(e) => return usage(e.to_string()),
    };
    if let Some(missing) = missing_shards(&shards) {
        eprintln!("vdisim conform merge: {missing}");
    }
    let results = merged.results();
    write_reports(
        &results,
        &merged.meta,
        args.json.as_deref(),
        args.junit.as_deref(),
        args.strict,
    )?;
    let style = args.color.style();
    println!(
        "vdisim conform merge: {} report(s), {} case(s) against {} (seed {}, catalogue {})",
        reports.len(),
        results.len(),
        merged.meta.client,
        merged.meta.seed,
        merged.meta.catalogue_version
    );
    let list = report::closing_list(&results, style);
    if !list.is_empty() {
        println!("{list}");
    }
    println!("{}", merged.summary.line());
    Ok(ExitCode::from(merged.summary.exit_code(args.strict)))
}

/// A note when the shards' partitions (`count:k/n`) do not cover 1..=n.
fn missing_shards(shards: &[String]) -> Option<String> {
    let parsed: Vec<Partition> = shards
        .iter()
        .filter_map(|s| Partition::parse(s).ok())
        .collect();
    let total = parsed.first()?.total;
    let missing: Vec<String> = (1..=total)
        .filter(|k| !parsed.iter().any(|p| p.shard == *k && p.total == total))
        .map(|k| format!("{k}/{total}"))
        .collect();
    (!missing.is_empty()).then(|| format!("shard(s) {} not among the reports", missing.join(", ")))
}

pub fn replay(args: &ReplayArgs) -> Result<ExitCode, String> {
    let recorded = match transcript::read_transcript(&args.transcript) {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let all = catalogue::catalogue();
    let Some(case) = all.iter().find(|c| c.id == recorded.header.case) else {
        return usage(format!(
            "case {} is not in this catalogue (version {})",
            recorded.header.case,
            catalogue::CATALOGUE_VERSION
        ));
    };
    if recorded.header.catalogue != catalogue::CATALOGUE_VERSION {
        eprintln!(
            "vdisim replay: the transcript is of catalogue version {}, this is version {}; the scenario may differ",
            recorded.header.catalogue,
            catalogue::CATALOGUE_VERSION
        );
    }
    let Some(client_text) = &args.client else {
        // Draw the recorded run.
        let path = args.html.as_deref().unwrap_or(Path::new("replay.html"));
        let meta = RunMeta {
            seed: recorded.header.seed,
            client: recorded.header.client.clone(),
            catalogue_version: recorded.header.catalogue,
            ..RunMeta::default()
        };
        let recorded_result = recorded.result.clone().unwrap_or_default();
        let result = CaseResult {
            verdict: recorded_result.verdict.unwrap_or(Verdict::Error),
            expected: recorded_result.expected,
            actual: recorded_result.actual,
            client_output: recorded_result.client_output,
            transcript: Some(args.transcript.clone()),
            ..run::run_case_result(case, &[])
        };
        write_page(path, case, &result, &recorded.runs, &meta)?;
        eprintln!(
            "vdisim replay: the recorded case {} ({}) drawn in {}",
            case.id,
            result.verdict.name(),
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let exe = vdisim_exe()?;
    let client = match ClientKind::parse(client_text, &exe) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let mut config = RunConfig::new(client, exe);
    config.client_label = client_text.clone();
    config.seed = recorded.header.seed;
    config.step_limit = Duration::from_secs(args.timeout.max(1));
    eprintln!(
        "vdisim replay: case {} with seed {} ({} recorded run(s))",
        case.id,
        config.seed,
        recorded.runs.len()
    );
    let started_at = report::utc_now();
    let (result, records) = run::run_case(case, &config);
    let mut same = true;
    for (i, (old, new)) in recorded.runs.iter().zip(&records).enumerate() {
        let (old, new) = (
            transcript::command_streams(&old.server_events()),
            transcript::command_streams(&new.trace),
        );
        if old != new {
            same = false;
            let device = (0..old.len().max(new.len()))
                .find(|&d| old.get(d) != new.get(d))
                .unwrap_or(0);
            let (a, b) = (old.get(device), new.get(device));
            let at = (0..)
                .find(|&k| a.and_then(|s| s.get(k)) != b.and_then(|s| s.get(k)))
                .unwrap_or(0);
            let said = |c: Option<&String>| c.map_or("nothing".to_string(), |c| c.clone());
            eprintln!(
                "vdisim replay: run {} device {device} differs at command {at}: recorded {}, now {}",
                i + 1,
                said(a.and_then(|s| s.get(at))),
                said(b.and_then(|s| s.get(at)))
            );
        }
    }
    if same {
        eprintln!("vdisim replay: the server sent the recorded command stream");
    }
    if let Some(path) = &args.html {
        let meta = RunMeta {
            seed: config.seed,
            client: client_text.clone(),
            catalogue_version: catalogue::CATALOGUE_VERSION,
            started_at,
            duration_ms: result.duration_ms,
            partition: None,
        };
        let runs = transcript::RunLog::of(case, &records);
        write_page(path, case, &result, &runs, &meta)?;
        eprintln!("vdisim replay: the new run drawn in {}", path.display());
    }
    println!("{}", report::human(&result));
    let summary = Summary::of(std::slice::from_ref(&result));
    println!("{}", summary.line());
    Ok(ExitCode::from(summary.exit_code(false)))
}

/// One case's page on its own.
fn write_page(
    path: &Path,
    case: &Case,
    result: &CaseResult,
    runs: &[transcript::RunLog],
    meta: &RunMeta,
) -> Result<(), String> {
    let page = html::case_page(&CaseView {
        case,
        result,
        runs,
        meta,
        index: None,
    });
    write_file(path, &page)
}
