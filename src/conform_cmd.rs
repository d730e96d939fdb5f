//! `vdisim conform` (the conformance harness) and `vdisim replay` (re-drive one transcript).

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use vdi_conform::catalogue::{self, select};
use vdi_conform::client::ClientKind;
use vdi_conform::report::{self, Summary};
use vdi_conform::run::{self, RunConfig, Verdict};
use vdi_conform::transcript;

#[derive(Args, Debug)]
pub struct ConformArgs {
    /// The client: `builtin`, `builtin:<variant>` (flush-is-end, no-complete, close-early,
    /// ignore-timeout, short-write, corrupt), `builtin-process`, or a command template with
    /// {op} {db} {dir} {server} {devices} {mode}, run through `sh -c`.
    #[arg(long, required_unless_present = "list")]
    client: Option<String>,
    /// List the selected cases (ID, tier, rule, section, summary) and run nothing.
    #[arg(long)]
    list: bool,
    /// Run only cases whose ID matches one of these globs (`*`, `?`).
    #[arg(long = "cases", value_name = "GLOB")]
    cases: Vec<String>,
    /// Leave out cases whose ID matches one of these globs.
    #[arg(long = "skip", value_name = "GLOB")]
    skip: Vec<String>,
    /// Exit 1 when a SHOULD case warns, too (JUnit reports warnings as failures).
    #[arg(long)]
    strict: bool,
    /// Write the JSON report here.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write the JUnit XML report here.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write one JSON-lines transcript per case into this directory.
    #[arg(long, value_name = "DIR")]
    transcripts: Option<PathBuf>,
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
    /// The client (as for `vdisim conform`).
    #[arg(long)]
    client: String,
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

pub fn conform(args: &ConformArgs) -> Result<ExitCode, String> {
    let all = catalogue::catalogue();
    let cases = select(&all, &args.cases, &args.skip);
    if cases.is_empty() {
        return usage("no case matches --cases/--skip (see vdisim conform --list)".into());
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
    let exe = vdisim_exe()?;
    let client_text = args.client.clone().unwrap_or_default();
    let client = match ClientKind::parse(&client_text, &exe) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let mut config = RunConfig::new(client, exe);
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
    let started = Instant::now();
    let results = run::run_cases(&cases, &config, &|r| {
        bar.suspend(|| eprintln!("{}", report::human(r)));
        bar.inc(1);
    });
    bar.finish_and_clear();
    let summary = Summary::of(&results);
    eprintln!(
        "vdisim conform: {} case(s) in {:.1} s against {client_text}",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.json {
        let json = report::json(&results, args.seed, &client_text);
        let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        let xml = report::junit(&results, args.strict)?;
        std::fs::write(path, xml).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!("{}", summary.line());
    Ok(ExitCode::from(summary.exit_code(args.strict)))
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
    let exe = vdisim_exe()?;
    let client = match ClientKind::parse(&args.client, &exe) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let mut config = RunConfig::new(client, exe);
    config.seed = recorded.header.seed;
    config.step_limit = Duration::from_secs(args.timeout.max(1));
    eprintln!(
        "vdisim replay: case {} with seed {} ({} recorded run(s))",
        case.id,
        config.seed,
        recorded.server.len()
    );
    let (result, records) = run::run_case(case, &config);
    let mut same = true;
    for (i, (old, new)) in recorded.server.iter().zip(&records).enumerate() {
        let (old, new) = (
            transcript::command_streams(old),
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
            eprintln!(
                "vdisim replay: run {} device {device} differs at command {at}: recorded {:?}, now {:?}",
                i + 1,
                a.and_then(|s| s.get(at)),
                b.and_then(|s| s.get(at))
            );
        }
    }
    if same {
        eprintln!("vdisim replay: the server sent the recorded command stream");
    }
    eprintln!("{}", report::human(&result));
    let summary = Summary::of(std::slice::from_ref(&result));
    println!("{}", summary.line());
    Ok(ExitCode::from(u8::from(result.verdict == Verdict::Fail)))
}
