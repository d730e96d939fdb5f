//! `vdisim conform --html DIR` and `vdisim replay … --html FILE` as a vendor gets them: the
//! index's counts and links, a failing case's page, the timeline's SVG parsed (lanes, Flush and
//! Complete marks in order), no external reference anywhere, and headless Chromium loading the
//! pages from file:// without a console error (screenshots kept as test artefacts).

use quick_xml::events::Event;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vdisim");

fn conform(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("conform")
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// An element of a parsed page.
#[derive(Debug, Default, Clone)]
struct El {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<El>,
    text: String,
}

impl El {
    fn attr(&self, k: &str) -> &str {
        self.attrs.get(k).map_or("", String::as_str)
    }

    fn classes(&self) -> Vec<&str> {
        self.attr("class").split_whitespace().collect()
    }

    /// Every element below this one (depth first), itself included.
    fn all(&self) -> Vec<&El> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.all());
        }
        out
    }

    fn find_id(&self, id: &str) -> Option<&El> {
        self.all().into_iter().find(|e| e.attr("id") == id)
    }

    /// The text of this element and everything in it.
    fn all_text(&self) -> String {
        let mut s = self.text.clone();
        for c in &self.children {
            s.push_str(&c.all_text());
        }
        s
    }
}

/// Parses a page as XML: the pages are written well-formed, so a tag left open or a stray
/// `<` fails here.
fn parse(xml: &str) -> El {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![El::default()];
    let open = |e: &quick_xml::events::BytesStart<'_>| El {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.normalized_value(quick_xml::XmlVersion::default())
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect(),
        ..El::default()
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
            Event::Text(t) => {
                let t = t.decode().unwrap().into_owned();
                stack.last_mut().unwrap().text.push_str(&t);
            }
            Event::GeneralRef(r) => {
                let name = r.decode().unwrap().into_owned();
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::unescape(&format!("&{name};"))
                        .unwrap()
                        .into_owned(),
                };
                stack.last_mut().unwrap().text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced page");
    stack.pop().unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One run of a client that passes, fails a MUST, warns a SHOULD, skips and reports: the
/// reference client as processes, always in pipe mode (media/tape FAILs), never asking for
/// VDC_Complete (a SHOULD WARN), with no {prefix}/{alignment} (the prefix case is SKIP).
fn mixed_report(dir: &Path) -> Output {
    let common = "-S {server} --db {db} --devices {devices} --mode pipe --no-complete";
    let template = format!(
        "case {{op}} in backup) exec {BIN} backup {common} --to {{dir}};; \
         verifyonly) exec {BIN} restore {common} --from {{dir}} --verify-only;; \
         *) exit 77;; esac"
    );
    conform(&[
        "--client",
        &template,
        "--cases",
        "stripe/backup/devices-1",
        "--cases",
        "media/tape/backup/devices-1",
        "--cases",
        "create/requests-complete/pipe",
        "--cases",
        "prefix/zone-512/alignment-0/devices-1/backup",
        "--cases",
        "info/create-request",
        "--html",
        dir.to_str().unwrap(),
        "--jobs",
        "2",
    ])
}

#[test]
fn the_index_counts_and_links_and_a_failing_page_shows_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = mixed_report(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("HTML report"),
        "the run says where the report is: {}",
        text(&out)
    );
    let index = parse(&read(&dir.path().join("index.html")));
    let counts: BTreeMap<String, String> = index
        .find_id("counts")
        .expect("counts")
        .children
        .iter()
        .map(|li| {
            (
                li.attr("data-verdict").to_string(),
                li.children[0].text.clone(),
            )
        })
        .collect();
    let expected: BTreeMap<String, String> = [
        ("PASS", "1"),
        ("FAIL", "1"),
        ("WARN", "1"),
        ("SKIP", "1"),
        ("INFO", "1"),
        ("ERROR", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(counts, expected);
    // The summary names the client, the seed, the catalogue and when the run took place.
    let meta = index
        .all()
        .into_iter()
        .find(|e| e.attr("class") == "meta")
        .unwrap();
    let meta = meta.all_text();
    for want in ["--mode pipe", "Seed1", "Catalogueversion", "(UTC)", "Took"] {
        assert!(
            meta.replace(' ', "").contains(&want.replace(' ', "")),
            "{want}: {meta}"
        );
    }
    // One row per case, each linking to a page that exists, with the verdict in text.
    let rows: Vec<&El> = index
        .find_id("cases")
        .unwrap()
        .all()
        .into_iter()
        .filter(|e| e.name == "tr" && !e.attr("data-verdict").is_empty())
        .collect();
    assert_eq!(rows.len(), 5);
    let mut pages = BTreeMap::new();
    for row in rows {
        let link = row.all().into_iter().find(|e| e.name == "a").unwrap();
        let href = link.attr("href");
        assert!(href.starts_with("cases/"), "{href}");
        assert!(dir.path().join(href).is_file(), "{href}");
        assert!(row.all_text().contains(row.attr("data-verdict")));
        pages.insert(row.attr("data-verdict").to_string(), dir.path().join(href));
    }
    let failing = read(&pages["FAIL"]);
    let page = parse(&failing);
    let pairs = page
        .find_id("pairs")
        .expect("an Expected/Actual table")
        .all_text();
    assert!(
        pairs.contains("run 1 (backup): Create asks for tape mode")
            && pairs.contains("run 1 (backup): Create asked for pipe mode"),
        "{pairs}"
    );
    let output = page
        .find_id("client-output")
        .expect("the client's output")
        .all_text();
    assert!(
        output.contains("Run 1 (backup; exit code 0)") && output.contains("Processed 128 pages"),
        "{output}"
    );
    // A page links back to the index.
    assert!(failing.contains(r#"href="../index.html""#));
}

/// The events of each lane of an SVG timeline, by lane number, in drawing order (top down).
fn lanes(svg: &El) -> BTreeMap<usize, Vec<(u32, u64, String)>> {
    let mut lanes: BTreeMap<usize, Vec<(u32, u64, String)>> = BTreeMap::new();
    for ev in svg
        .all()
        .into_iter()
        .filter(|e| e.classes().contains(&"ev"))
    {
        lanes
            .entry(ev.attr("data-lane").parse().unwrap())
            .or_default()
            .push((
                ev.attr("data-y").parse().unwrap(),
                ev.attr("data-t-us").parse().unwrap(),
                ev.attr("data-kind").to_string(),
            ));
    }
    for l in lanes.values_mut() {
        l.sort();
    }
    lanes
}

#[test]
fn the_timeline_of_a_4_device_backup_has_its_lanes_and_flush_then_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = conform(&[
        "--client",
        "builtin",
        "--cases",
        "flush/mid-1/complete-granted/devices-4",
        "--html",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let page = read(
        &dir.path()
            .join("cases/flush__mid-1__complete-granted__devices-4.html"),
    );
    // The SVG alone, as a drawing program would take it.
    let start = page.find("<svg xmlns").unwrap();
    let end = page[start..].find("</svg>").unwrap() + start + "</svg>".len();
    let svg = parse(&page[start..end]);
    let svg = &svg.children[0];
    assert_eq!(svg.name, "svg");
    assert_eq!(svg.attr("xmlns"), "http://www.w3.org/2000/svg");
    let device_lanes: Vec<&str> = svg
        .all()
        .into_iter()
        .filter(|e| e.classes().contains(&"lane-device"))
        .map(|e| e.attr("data-lane"))
        .collect();
    assert_eq!(
        device_lanes,
        ["device 0", "device 1", "device 2", "device 3"]
    );
    let lanes = lanes(svg);
    for device in 1..=4 {
        let marks: Vec<&(u32, u64, String)> = lanes[&device]
            .iter()
            .filter(|(_, _, k)| k == "flush" || k == "complete")
            .collect();
        let kinds: Vec<&str> = marks.iter().map(|m| m.2.as_str()).collect();
        // The mid-stream Flush (and any final one) before VDC_Complete, which ends the backup.
        assert!(kinds.len() >= 2, "device {}: {kinds:?}", device - 1);
        assert_eq!(
            kinds.last(),
            Some(&"complete"),
            "device {}: {kinds:?}",
            device - 1
        );
        assert!(kinds[..kinds.len() - 1].iter().all(|k| *k == "flush"));
        assert!(
            marks.windows(2).all(|w| w[0].1 <= w[1].1),
            "device {}: marks out of time order: {marks:?}",
            device - 1
        );
        // Data went before the first Flush on every device.
        let first_flush = lanes[&device].iter().position(|e| e.2 == "flush").unwrap();
        assert!(
            lanes[&device][..first_flush]
                .iter()
                .any(|e| e.2 == "write" || e.2 == "write-run"),
            "device {}: {:?}",
            device - 1,
            lanes[&device]
        );
    }
    // Every event carries its transcript records in its tooltip.
    let titles: Vec<String> = svg
        .all()
        .into_iter()
        .filter(|e| e.classes().contains(&"ev"))
        .map(|e| e.children[0].text.clone())
        .collect();
    assert!(titles.iter().all(|t| t.contains("{\"")), "{titles:?}");
}

/// Every file of a report: no URL that leaves it, no external script, style or image.
fn assert_self_contained(dir: &Path) {
    let mut files = vec![dir.join("index.html")];
    for e in std::fs::read_dir(dir.join("cases")).unwrap() {
        files.push(e.unwrap().path());
    }
    for f in files {
        let page = read(&f);
        let lower = page.to_lowercase();
        // The SVG namespace is an identifier, not a reference.
        let stripped = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for bad in [
            "http://", "https://", "src=", "<link", "@import", "url(", "<img", "<iframe", "ftp:",
        ] {
            assert!(!stripped.contains(bad), "{}: has {bad}", f.display());
        }
        for href in page.split("href=\"").skip(1) {
            let target = &href[..href.find('"').unwrap()];
            assert!(
                !target.contains(':') && !target.starts_with("//"),
                "{}: {target}",
                f.display()
            );
            if let Some(file) = target.split('#').next().filter(|t| !t.is_empty()) {
                let base = f.parent().unwrap();
                assert!(
                    base.join(file).is_file(),
                    "{}: {target} is missing",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn no_page_references_anything_outside_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = conform(&[
        "--client",
        "builtin:close-early",
        "--cases",
        "close/after-vd-e-close/mid-1/devices-4",
        "--cases",
        "crash/backup/during-flush/devices-4",
        "--cases",
        "timeout/command-pause-1200ms/devices-1/backup",
        "--html",
        dir.path().to_str().unwrap(),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    assert_self_contained(dir.path());
}

/// `vdisim replay T --html FILE` draws a recorded transcript (no client needed) and, with
/// --client, the run it re-drives.
#[test]
fn replay_draws_a_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let transcripts = dir.path().join("t");
    let out = conform(&[
        "--client",
        "builtin:flush-is-end",
        "--cases",
        "flush/mid-2/complete-refused/devices-1",
        "--transcripts",
        transcripts.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = transcripts.join("flush__mid-2__complete-refused__devices-1.jsonl");
    let page = dir.path().join("recorded.html");
    let out = Command::new(BIN)
        .args([
            "replay",
            t.to_str().unwrap(),
            "--html",
            page.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let html = read(&page);
    let doc = parse(&html);
    assert!(doc.find_id("pairs").unwrap().all_text().contains("Msg 3"));
    assert!(doc.find_id("timeline-1").is_some() && doc.find_id("timeline-2").is_some());
    let flushes = html.matches(r#"data-kind="flush""#).count();
    assert!(
        flushes >= 3,
        "two mid-stream Flushes and the final one: {flushes}"
    );
    assert!(!html.contains("../index.html"));

    let again = dir.path().join("again.html");
    let out = Command::new(BIN)
        .args([
            "replay",
            t.to_str().unwrap(),
            "--client",
            "builtin:flush-is-end",
            "--html",
            again.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("the server sent the recorded command stream"));
    assert!(read(&again).contains(r#"<span class="verdict v-FAIL">"#));
}

/// Where test artefacts go: `target/test-artefacts/conform-html`.
fn artefacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artefacts/conform-html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What Chromium printed.
struct Printed {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium with `args` on `url`, with a profile of its own and its output in
/// files (a full pipe would stall it), and gives up (a failure) after two minutes.
fn chromium(args: &[&str], url: &str) -> Printed {
    let scratch = tempfile::tempdir().unwrap();
    let (out, err) = (scratch.path().join("out"), scratch.path().join("err"));
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.path().join("profile").display()
        ))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish with {url} within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Printed {
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    }
}

/// Whether Chromium is there; outside CI a test that needs it is skipped with a reason.
fn have_chromium() -> bool {
    let found = Command::new("chromium")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but there is no chromium: scripts/install-test-deps.sh installs it"
        );
        eprintln!("SKIPPED: no chromium on PATH (scripts/install-test-deps.sh installs it)");
    }
    found
}

#[test]
fn chromium_loads_the_pages_without_console_errors() {
    if !have_chromium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = mixed_report(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let failing = dir.path().join("cases/media__tape__backup__devices-1.html");
    let shots = artefacts();
    for (name, page) in [
        ("index", dir.path().join("index.html")),
        ("failing-case", failing),
    ] {
        let url = format!("file://{}", page.display());
        let shot = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let out = chromium(
            &[
                &format!("--screenshot={}", shot.display()),
                "--window-size=1400,1600",
            ],
            &url,
        );
        let log = out.stderr;
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "{name}: console messages: {console:#?}");
        let png =
            std::fs::read(&shot).unwrap_or_else(|e| panic!("{name}: no screenshot: {e}\n{log}"));
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}");
        // The script ran to its end and saw no error.
        let out = chromium(&["--dump-dom"], &url);
        let dom = out.stdout;
        let body = &dom[dom.find("<body").expect("a body")..];
        let body = &body[..body.find('>').unwrap()];
        assert!(
            body.contains(r#"data-ready="1""#),
            "{name}: the script did not finish: {body}"
        );
        assert!(!body.contains("data-errors"), "{name}: {body}");
        if name == "index" {
            // The filters are shown once the script runs, and count the rows.
            assert!(dom.contains(">5 shown<"), "{name}: the filters did not run");
        }
    }
}
