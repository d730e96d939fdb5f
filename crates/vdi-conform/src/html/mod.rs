//! The HTML report (`vdisim conform --html DIR`, `vdisim replay … --html FILE`): a static
//! site that works from `file://` with nothing external. `index.html` sums the run up and
//! lists every case (filterable by verdict and area); `cases/<id>.html` shows a case's
//! summary, its Expected/Actual pairs, the client's output and, per client run, the timeline
//! of what crossed the link, drawn as inline SVG.

mod assets;
pub mod svg;
pub mod timeline;

use crate::catalogue::Case;
use crate::report::{RunMeta, Summary};
use crate::run::{CaseResult, StepRecord, Verdict};
use crate::transcript::RunLog;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Text made safe for HTML and XML (element text and quoted attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// The page of a case, relative to the report's directory.
pub fn case_file(id: &str) -> String {
    format!("cases/{}.html", id.replace('/', "__"))
}

const VERDICTS: [Verdict; 6] = [
    Verdict::Fail,
    Verdict::Error,
    Verdict::Warn,
    Verdict::Skip,
    Verdict::Info,
    Verdict::Pass,
];

/// A verdict as text with its shape.
fn badge(v: Verdict) -> String {
    format!(
        r#"<span class="verdict v-{0}"><span class="shape"></span>{0}</span>"#,
        v.name()
    )
}

fn page(title: &str, kind: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
         <meta name=\"generator\" content=\"vdisim {}\"/><title>{}</title><style>{}</style></head>\
         <body data-page=\"{kind}\">{body}<script>{}</script></body></html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(title),
        assets::CSS,
        assets::JS
    )
}

fn meta_list(meta: &RunMeta) -> String {
    let mut s = String::from(r#"<dl class="meta">"#);
    let mut row = |k: &str, v: String| {
        let _ = write!(s, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    };
    row("Client", meta.client.clone());
    row("Seed", meta.seed.to_string());
    row("Catalogue", format!("version {}", meta.catalogue_version));
    if !meta.started_at.is_empty() {
        row("Started", format!("{} (UTC)", meta.started_at));
    }
    row("Took", format!("{:.1} s", meta.duration_ms as f64 / 1000.0));
    if let Some(p) = &meta.partition {
        row("Partition", p.clone());
    }
    s.push_str("</dl>");
    s
}

/// The index page: the summary, what did not pass, and the table of every case.
pub fn index_page(results: &[CaseResult], meta: &RunMeta) -> String {
    let summary = Summary::of(results);
    let mut b = String::new();
    b.push_str("<header><h1>vdisim conform report</h1>");
    b.push_str(&meta_list(meta));
    b.push_str(r#"<ul class="counts" id="counts">"#);
    for (v, n) in [
        (Verdict::Pass, summary.passed),
        (Verdict::Fail, summary.failed),
        (Verdict::Warn, summary.warned),
        (Verdict::Skip, summary.skipped),
        (Verdict::Info, summary.info),
        (Verdict::Error, summary.errors),
    ] {
        let _ = write!(
            b,
            r#"<li data-verdict="{}"><b>{n}</b>{}</li>"#,
            v.name(),
            badge(v)
        );
    }
    let _ = write!(
        b,
        r#"</ul><p class="summary-line mono">{}</p></header><main>"#,
        escape(&summary.line())
    );
    let listed: Vec<&CaseResult> = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn | Verdict::Error))
        .collect();
    if !listed.is_empty() {
        b.push_str(r#"<h2>Not passed</h2><table class="pairs" id="not-passed"><tbody>"#);
        for r in listed {
            let _ = write!(
                b,
                r#"<tr><td>{} <a href="{}">{}</a></td><td>{}</td></tr>"#,
                badge(r.verdict),
                case_file(&r.id),
                escape(&r.id),
                r.actual.first().map(|a| escape(a)).unwrap_or_default()
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str(
        r#"<h2>Cases</h2><form id="filters" class="filters" hidden="hidden"><span>Show:</span>"#,
    );
    for v in VERDICTS {
        let _ = write!(
            b,
            r#"<label><input type="checkbox" name="verdict" value="{0}" checked="checked"/> {1}</label>"#,
            v.name(),
            badge(v)
        );
    }
    let mut areas: Vec<&str> = results.iter().map(|r| r.area.as_str()).collect();
    areas.dedup();
    let mut sorted = areas.clone();
    sorted.sort_unstable();
    sorted.dedup();
    b.push_str(r#"<label>Area <select name="area"><option value="">all</option>"#);
    for a in &sorted {
        let _ = write!(b, r#"<option value="{0}">{0}</option>"#, escape(a));
    }
    b.push_str(r#"</select></label><span id="shown" class="note"></span></form>"#);
    b.push_str(
        r#"<table id="cases"><thead><tr><th>Case</th><th>Tier</th><th>Verdict</th><th class="num">Duration</th></tr></thead><tbody>"#,
    );
    for r in results {
        let _ = write!(
            b,
            r#"<tr data-verdict="{}" data-area="{}"{}><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td class="num">{:.2} s</td></tr>"#,
            r.verdict.name(),
            escape(&r.area),
            if matches!(r.verdict, Verdict::Fail | Verdict::Error) {
                r#" class="not-pass""#
            } else {
                ""
            },
            case_file(&r.id),
            escape(&r.id),
            r.tier.name(),
            badge(r.verdict),
            r.duration_ms as f64 / 1000.0
        );
    }
    b.push_str("</tbody></table></main>");
    page("vdisim conform report", "index", &b)
}

/// What a case page shows.
#[derive(Debug)]
pub struct CaseView<'a> {
    pub case: &'a Case,
    pub result: &'a CaseResult,
    pub runs: &'a [RunLog],
    pub meta: &'a RunMeta,
    /// The index page, relative to the case page (`None`: a page on its own).
    pub index: Option<&'a str>,
}

/// A case's page.
pub fn case_page(view: &CaseView<'_>) -> String {
    let (case, r) = (view.case, view.result);
    let mut b = String::new();
    if let Some(index) = view.index {
        let _ = write!(b, r#"<nav><a href="{index}">← all cases</a></nav>"#);
    }
    let _ = write!(
        b,
        r#"<header><h1><span class="mono">{}</span> {}</h1><p>{}</p><dl class="meta"><dt>Tier</dt><dd>{}</dd><dt>Rule</dt><dd>{}</dd><dt>Section</dt><dd>vdi-facts §{}</dd><dt>Took</dt><dd>{:.2} s</dd><dt>Client</dt><dd>{}</dd><dt>Seed</dt><dd>{}</dd></dl></header><main>"#,
        escape(&r.id),
        badge(r.verdict),
        escape(&case.summary),
        case.tier.name(),
        escape(&r.rule),
        escape(&r.section),
        r.duration_ms as f64 / 1000.0,
        escape(&view.meta.client),
        view.meta.seed
    );
    if !r.expected.is_empty() {
        b.push_str(
            r#"<h2>Expected and actual</h2><table class="pairs" id="pairs"><thead><tr><th>Expected</th><th>Actual</th></tr></thead><tbody>"#,
        );
        for (e, a) in r.expected.iter().zip(&r.actual) {
            let _ = write!(
                b,
                r#"<tr><td class="exp">{}</td><td>{}</td></tr>"#,
                escape(e),
                escape(a)
            );
        }
        b.push_str("</tbody></table>");
    }
    let printed: Vec<_> = r.client_output.iter().filter(|o| !o.is_empty()).collect();
    if !printed.is_empty() {
        b.push_str(r#"<h2>The client's output</h2><div id="client-output">"#);
        for o in printed {
            let _ = write!(
                b,
                "<h3>Run {} ({}; {})</h3>",
                o.run,
                escape(&o.op),
                escape(&o.ended)
            );
            for (name, text) in [("stderr", &o.stderr), ("stdout", &o.stdout)] {
                if !text.is_empty() {
                    let _ = write!(
                        b,
                        r#"<pre class="{name}" aria-label="{name}">{}</pre>"#,
                        escape(text)
                    );
                }
            }
        }
        b.push_str("</div>");
    }
    b.push_str(r#"<h2>What the case does</h2><pre class="explain">"#);
    b.push_str(&escape(&crate::explain::explain(case, None)));
    b.push_str("</pre>");
    if !view.runs.is_empty() {
        b.push_str(r#"<h2>Timelines</h2>"#);
        b.push_str(LEGEND);
    }
    for (i, log) in view.runs.iter().enumerate() {
        let t = timeline::build(log);
        let n = i + 1;
        let title = format!(
            "Run {n} of {}: {} over {} device(s)",
            view.runs.len(),
            log.op,
            t.devices
        );
        let _ = write!(b, r#"<h3 id="run-{n}">{}</h3>"#, escape(&title));
        let faults = crate::explain::faults_text(&log.faults);
        if !faults.is_empty() {
            let _ = write!(
                b,
                r#"<p class="note">The server {}.</p>"#,
                escape(&faults.join("; "))
            );
        }
        let _ = write!(
            b,
            r#"<div class="scroll">{}</div><pre class="pin" id="record-{n}">Hover over an event for its transcript records; click one to pin them here.</pre>"#,
            svg::render(&t, n, &title)
        );
        if t.folded_records > 0 {
            let _ = write!(
                b,
                r#"<p class="note">{} transcript records inside folded blocks are left out here; the transcript (--transcripts) has them all.</p>"#,
                t.folded_records
            );
        }
    }
    if let Some(path) = &r.transcript {
        let _ = write!(
            b,
            r#"<p class="note">Transcript: <span class="mono">{}</span></p>"#,
            escape(&path.display().to_string())
        );
    }
    b.push_str("</main>");
    page(&format!("{} — vdisim conform", r.id), "case", &b)
}

const LEGEND: &str = r##"<div class="legend"><span><svg width="22" height="14"><path d="M2 2L8 7L2 12Z" fill="#0969da"/></svg> command sent</span><span><svg width="14" height="14"><circle cx="7" cy="7" r="2.5" fill="#1f2328"/></svg> taken with GetCommand</span><span><svg width="14" height="14"><rect x="4" y="4" width="6" height="6" fill="#1a7f37"/></svg> completed</span><span><svg width="14" height="14"><path d="M3 3l8 8m0 -8l-8 8" stroke="#cf222e" stroke-width="2"/></svg> completed with an error</span><span><svg width="26" height="14"><path d="M1 2H18L24 7L18 12H1Z" fill="#fff8c5" stroke="#bf8700"/></svg> Flush</span><span><svg width="26" height="14"><rect x="1" y="1" width="24" height="12" rx="2" fill="#d2f4dc" stroke="#1a7f37"/><rect x="3" y="3" width="20" height="8" rx="1" fill="none" stroke="#1a7f37"/></svg> VDC_Complete</span><span><svg width="26" height="14"><rect x="5" y="0" width="20" height="11" fill="#eef6ff" stroke="#54aeff"/><rect x="1" y="3" width="20" height="11" fill="#ddf4ff" stroke="#54aeff"/></svg> identical transfers folded</span><span><svg width="14" height="14"><path d="M9 0l-5 8h4l-2 6l6 -9h-4l2 -5z" fill="#fb8f44" stroke="#bc4c00"/></svg> fault injected</span><span><svg width="14" height="14"><circle cx="7" cy="7" r="6" fill="#cf222e"/></svg> abort</span><span><svg width="14" height="14"><path d="M7 1l6 11h-12z" fill="#cf222e"/></svg> misuse (its rule)</span></div>"##;

/// A report being written: case pages as cases finish, the index at the end.
#[derive(Debug)]
pub struct HtmlReport {
    dir: PathBuf,
    meta: Mutex<RunMeta>,
    spent: Mutex<Duration>,
    errors: Mutex<Vec<String>>,
}

/// What writing the report took.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HtmlStats {
    pub files: usize,
    pub bytes: u64,
    /// Time spent building and writing the pages (not running the cases).
    pub spent: Duration,
}

impl HtmlReport {
    /// Makes `dir` and `dir/cases`. `meta` is the run's (its duration is filled in at the end).
    pub fn create(dir: &Path, meta: RunMeta) -> std::io::Result<HtmlReport> {
        std::fs::create_dir_all(dir.join("cases"))?;
        Ok(HtmlReport {
            dir: dir.to_path_buf(),
            meta: Mutex::new(meta),
            spent: Mutex::new(Duration::ZERO),
            errors: Mutex::new(Vec::new()),
        })
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes a finished case's page (on the thread that ran it).
    pub fn write_case(&self, case: &Case, result: &CaseResult, records: &[StepRecord]) {
        let started = Instant::now();
        let meta = Self::lock(&self.meta).clone();
        let runs = RunLog::of(case, records);
        let html = case_page(&CaseView {
            case,
            result,
            runs: &runs,
            meta: &meta,
            index: Some("../index.html"),
        });
        let path = self.dir.join(case_file(&case.id));
        if let Err(e) = std::fs::write(&path, html) {
            Self::lock(&self.errors).push(format!("{}: {e}", path.display()));
        }
        *Self::lock(&self.spent) += started.elapsed();
    }

    /// Writes the index and says what the report took.
    pub fn finish(&self, results: &[CaseResult], meta: &RunMeta) -> Result<HtmlStats, String> {
        let started = Instant::now();
        let path = self.dir.join("index.html");
        std::fs::write(&path, index_page(results, meta))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let spent = *Self::lock(&self.spent) + started.elapsed();
        if let Some(e) = Self::lock(&self.errors).first() {
            return Err(e.clone());
        }
        let mut stats = HtmlStats {
            spent,
            ..HtmlStats::default()
        };
        for p in
            std::iter::once(path).chain(results.iter().map(|r| self.dir.join(case_file(&r.id))))
        {
            if let Ok(m) = std::fs::metadata(&p) {
                stats.files += 1;
                stats.bytes += m.len();
            }
        }
        Ok(stats)
    }
}
