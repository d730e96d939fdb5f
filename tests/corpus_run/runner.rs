//! One corpus file on one fresh daemon: the state its `needs` lines ask for, its batches with
//! their device sets, the rendered (redacted) output, and the counts.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use vdi_client::reference::{self, device_names, new_set_name};

use crate::corpus::{self, CorpusBatch, Direction, Kind, Need};
use crate::daemon::{Answer, Daemon, Session, TempDir};
use crate::redact::Redactor;

/// The longest a whole file may take.
const FILE_LIMIT: Duration = Duration::from_secs(300);
/// vdisim's own messages (59001–59099) for what it deliberately does not emulate; any other
/// 59xxx message is a bug report, and fails the test.
const DELIBERATE: &[(u32, &str)] = &[
    (59025, "the --max-freeze limit on a snapshot's freeze"),
    (59007, "DISK, TAPE and URL devices"),
    (59008, "backup and restore of system databases"),
    (59030, "permanent user tables"),
    (59031, "CREATE DATABASE … FOR ATTACH"),
    (59050, "joins past 1,000,000 rows"),
];

/// A backup stream a batch or the runner wrote, kept for later RESTOREs of the file.
struct Stream {
    db: String,
    kind: Kind,
    stripes: u16,
    copy_only: bool,
    dir: PathBuf,
    seq: usize,
}

/// One error message of a batch, for the report.
#[derive(Debug, Clone)]
pub struct Failure {
    pub file: String,
    pub index: usize,
    pub line: usize,
    pub source: String,
    pub number: u32,
    pub text: String,
}

/// What a file gave.
#[derive(Debug, Default)]
pub struct FileResult {
    pub name: String,
    pub batches: usize,
    pub clean: usize,
    /// Batches that got no answer (the daemon died or hung).
    pub lost: usize,
    /// Error number → how many messages.
    pub errors: BTreeMap<u32, usize>,
    pub failures: Vec<Failure>,
    /// Reasons to fail the test (59xxx messages, a daemon that died…).
    pub fatal: Vec<String>,
    /// Oddities of the client side worth a look, not part of the snapshot.
    pub client_notes: Vec<String>,
    pub snapshot: String,
    pub elapsed: Duration,
}

impl FileResult {
    pub fn summary_line(&self) -> String {
        let errors = self
            .ranked_errors()
            .iter()
            .map(|(n, c)| format!("{n}×{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let lost = if self.lost > 0 {
            format!(", {} lost (no answer)", self.lost)
        } else {
            String::new()
        };
        format!(
            "{}: {} batches, {} without error{lost}; errors: {} ({:.1} s)",
            self.name,
            self.batches,
            self.clean,
            if errors.is_empty() { "none" } else { &errors },
            self.elapsed.as_secs_f64()
        )
    }

    /// Error numbers, commonest first.
    pub fn ranked_errors(&self) -> Vec<(u32, usize)> {
        let mut v: Vec<(u32, usize)> = self.errors.iter().map(|(n, c)| (*n, *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

struct FileRun {
    name: String,
    started: Instant,
    // Sessions before the daemon, so that they close first.
    main: Session,
    setup: Session,
    daemon: Daemon,
    /// The backup streams live here, outside the daemon's directory: they outlive a daemon
    /// that has to be replaced.
    media: TempDir,
    streams: Vec<Stream>,
    seq: usize,
    redactor: Redactor,
    /// Whether the last statement that changed a database's restore state was a RESTORE
    /// (true) or a BACKUP LOG (false): a RESTORING database the file's own restore sequence
    /// left is used as it is.
    restore_sequence: HashMap<String, bool>,
    /// The tool's session's current database (from "Changed database context" messages).
    main_db: String,
    /// Each corpus device name → the name it had in the newest BACKUP that wrote a stream: a
    /// later batch that looks it up (in msdb) finds what the tool would find.
    written_names: Vec<(String, String)>,
    result: FileResult,
}

/// Runs every batch of `text` (the file `name`) and returns the counts and the snapshot text.
pub fn run_file(name: &str, text: &str) -> FileResult {
    let batches = corpus::parse_file(name, text);
    let stem = name.trim_end_matches(".sql");
    let daemon = Daemon::start(stem);
    let main = daemon.connect("corpus");
    let setup = daemon.connect("corpus-setup");
    let media = TempDir::new(&format!("{stem}-media"));
    let mut run = FileRun {
        name: name.to_owned(),
        started: Instant::now(),
        main,
        setup,
        daemon,
        media,
        streams: Vec::new(),
        seq: 0,
        redactor: Redactor::new(),
        restore_sequence: HashMap::new(),
        main_db: "master".to_owned(),
        written_names: Vec::new(),
        result: FileResult {
            name: name.to_owned(),
            ..FileResult::default()
        },
    };
    for batch in &batches {
        run.batch(batch);
    }
    run.result.elapsed = run.started.elapsed();
    let FileRun {
        main,
        setup,
        mut daemon,
        mut result,
        ..
    } = run;
    drop((main, setup));
    if let Some(status) = daemon.exited() {
        result
            .fatal
            .push(format!("{name}: the daemon exited ({status}) at the end"));
    }
    result
}

/// The output as the snapshot shows it: trailing spaces (sqlcmd's padding) removed.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn error_messages(answer: &Answer) -> Vec<(u32, String)> {
    answer
        .sink
        .messages()
        .filter(|m| m.is_error())
        .map(|m| (m.number, m.text.clone()))
        .collect()
}

impl FileRun {
    fn next_dir(&mut self) -> PathBuf {
        self.seq += 1;
        let dir = self.media.0.join(format!("{:03}", self.seq));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn what(&self, batch: &CorpusBatch) -> String {
        format!("{} batch {} (line {})", self.name, batch.index, batch.line)
    }

    fn batch(&mut self, batch: &CorpusBatch) {
        let what = self.what(batch);
        let mut notes = String::new();
        let devices = corpus::device_literals(&batch.body);
        let stripes = u16::try_from(devices.len().max(1)).unwrap();
        let vdi = batch.needs.contains(&Need::Vdi) && !devices.is_empty();

        // The state the batch needs. RESTORING comes last: it picks the full that precedes
        // the stream the batch restores.
        let restoring: Vec<String> = batch
            .needs
            .iter()
            .filter_map(|n| match n {
                Need::Restoring(db) => Some(db.to_lowercase()),
                _ => None,
            })
            .collect();
        let mut batch_stream: Option<usize> = None;
        for need in &batch.needs {
            match need {
                Need::Absent(db) => {
                    self.leave_database(db, &mut notes);
                    self.setup_sql(&format!("DROP DATABASE IF EXISTS [{db}]"), &[], &mut notes);
                }
                Need::Login(login) => {
                    // 15025: the login exists already, which is what the batch needs.
                    self.setup_sql(
                        &format!("CREATE LOGIN [{login}] WITH PASSWORD = N'Corpus#Login1'"),
                        &[15025],
                        &mut notes,
                    );
                }
                Need::History(db) => {
                    self.ensure(db, Kind::Full, None, &mut notes);
                }
                Need::Chain(db) => {
                    for kind in [Kind::Full, Kind::Diff, Kind::Log] {
                        self.ensure(db, kind, None, &mut notes);
                    }
                }
                Need::Stream(db, Kind::Log) if restoring.contains(&db.to_lowercase()) => {
                    batch_stream = self.log_after_full(db, stripes, &mut notes);
                }
                Need::Stream(db, kind) => {
                    batch_stream = self.ensure(db, *kind, Some(stripes), &mut notes);
                }
                _ => {}
            }
        }
        for need in &batch.needs {
            if let Need::Restoring(db) = need {
                self.make_restoring(db, batch, batch_stream, &mut notes);
            }
        }

        let answer = if vdi {
            self.vdi_batch(batch, &devices, batch_stream, &mut notes)
        } else {
            let text = corpus::replace_devices(&batch.body, &self.written_names);
            self.main.run(&text)
        };
        for (db, restore) in corpus::restore_touches(&batch.body) {
            self.restore_sequence.insert(db, restore);
        }
        if let Ok(answer) = &answer {
            self.track_database(answer);
        }
        let answer = match answer {
            Ok(answer) if self.daemon.exited().is_none() => Some(answer),
            Ok(_) => {
                self.lost(&what, "the daemon exited after the batch", &mut notes);
                None
            }
            Err(e) => {
                self.lost(&what, &e, &mut notes);
                None
            }
        };
        if self.started.elapsed() > FILE_LIMIT {
            panic!("{}: longer than {FILE_LIMIT:?}", self.name);
        }
        self.record(batch, answer.as_ref(), &notes);
    }

    fn track_database(&mut self, answer: &Answer) {
        for m in answer.sink.messages() {
            if let Some(db) = m
                .text
                .strip_prefix("Changed database context to '")
                .and_then(|t| t.strip_suffix("'."))
            {
                self.main_db = db.to_owned();
            }
        }
    }

    /// A setup that needs `db` to itself (DROP, RESTORE) moves the tool's session out of it
    /// first, as a tool's next connection would start in master.
    fn leave_database(&mut self, db: &str, notes: &mut String) {
        if !self.main_db.eq_ignore_ascii_case(db) {
            return;
        }
        let what = format!("{}: USE [master] before a setup", self.name);
        match self.main.run("USE [master]") {
            Ok(answer) => {
                notes.push_str(&format!(
                    "-- runner: USE [master] on the tool's session (it was in {db})\n"
                ));
                self.track_database(&answer);
            }
            Err(e) => self.lost(&what, &e, notes),
        }
    }

    /// The session or the daemon is gone: record why, and run the rest of the file on a new
    /// daemon (the streams written so far stay usable).
    fn lost(&mut self, what: &str, error: &str, notes: &mut String) {
        // A daemon that aborts closes its sockets just before it exits.
        std::thread::sleep(Duration::from_millis(300));
        let died = self.daemon.exited();
        let log = self.daemon.log();
        let tail: Vec<&str> = log.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        self.result.fatal.push(format!(
            "{what}: {error}; the daemon {}; its log ends:\n    {}",
            match died {
                Some(status) => format!("exited ({status})"),
                None => "was still running".to_owned(),
            },
            tail.join("\n    ")
        ));
        notes.push_str(&format!(
            "-- runner: NO ANSWER ({}); the rest of the file runs on a new daemon\n",
            if died.is_some() {
                "the daemon died"
            } else {
                "the session was lost"
            }
        ));
        let stem = self.name.trim_end_matches(".sql").to_owned();
        let daemon = Daemon::start(&stem);
        self.main = daemon.connect("corpus");
        self.setup = daemon.connect("corpus-setup");
        drop(std::mem::replace(&mut self.daemon, daemon));
        self.restore_sequence.clear();
        self.main_db = "master".to_owned();
    }

    fn record(&mut self, batch: &CorpusBatch, answer: Option<&Answer>, notes: &str) {
        let result = &mut self.result;
        result.batches += 1;
        let Some(answer) = answer else {
            result.lost += 1;
            result.snapshot.push_str(&batch.source);
            result.snapshot.push('\n');
            result.snapshot.push_str(notes);
            result.snapshot.push('\n');
            return;
        };
        let rendered = answer.sink.render(&self.main.server_name);
        let output = self.redactor.apply(&tidy(&rendered));
        let errors = error_messages(answer);
        let result = &mut self.result;
        if errors.is_empty() {
            result.clean += 1;
        }
        for (number, text) in &errors {
            *result.errors.entry(*number).or_default() += 1;
            if (59_000..60_000).contains(number) && !DELIBERATE.iter().any(|(n, _)| n == number) {
                result.fatal.push(format!(
                    "{} batch {} (line {}): vdisim's own Msg {number}: {text}",
                    self.name, batch.index, batch.line
                ));
            }
            result.failures.push(Failure {
                file: self.name.clone(),
                index: batch.index,
                line: batch.line,
                source: batch.source.clone(),
                number: *number,
                text: self.redactor.apply(text),
            });
        }
        if let Some(run) = &answer.client_run
            && !run.rules.is_empty()
        {
            result.client_notes.push(format!(
                "{} batch {}: the client library recorded {:?}",
                self.name, batch.index, run.rules
            ));
        }
        let snapshot = &mut result.snapshot;
        snapshot.push_str(&batch.source);
        snapshot.push('\n');
        snapshot.push_str(notes);
        snapshot.push_str(&output);
        snapshot.push('\n');
    }

    fn vdi_batch(
        &mut self,
        batch: &CorpusBatch,
        devices: &[String],
        batch_stream: Option<usize>,
        notes: &mut String,
    ) -> Result<Answer, String> {
        let stripes = u16::try_from(devices.len()).unwrap();
        let set = new_set_name();
        let renames: Vec<(String, String)> = devices
            .iter()
            .cloned()
            .zip(device_names(&set, stripes))
            .collect();
        for (shown, made_up) in &renames {
            self.redactor.rename(made_up, shown);
        }
        let text = corpus::replace_devices(&batch.body, &renames);
        let transfer = corpus::transfer(&batch.body);
        let direction = transfer.as_ref().map_or(Direction::Backup, |t| t.direction);
        let media = match direction {
            Direction::Backup => self.next_dir(),
            Direction::Restore => match batch_stream {
                Some(i) => self.streams[i].dir.clone(),
                None => {
                    notes.push_str("-- runner: no stream to serve; the devices read empty files\n");
                    self.next_dir()
                }
            },
        };
        // A snapshot backup or restore: the reference client keeps its copy of the frozen
        // image beside the stripes and mounts it back (the contract of docs/snapshots.md).
        let snapshot = corpus::is_snapshot(&batch.body)
            .then(|| transfer.as_ref().and_then(|t| t.db.clone()))
            .flatten()
            .map(|db| reference::SnapshotFiles {
                volume_image: vdi_server::jobs::image_path(&self.daemon.volumes(), &db),
                captured: media.join("snapshot.img"),
            });
        let answer = self.main.run_with_devices(
            &text,
            &set,
            stripes,
            reference_direction(direction),
            &media,
            snapshot,
        )?;
        let written = answer.client_run.as_ref().is_some_and(|r| r.clean())
            && error_messages(&answer).is_empty();
        if direction == Direction::Backup && written {
            for (shown, made_up) in renames {
                self.written_names.retain(|(s, _)| *s != shown);
                self.written_names.push((shown, made_up));
            }
        }
        if let Some(t) = transfer
            && direction == Direction::Backup
            && written
            && let (Some(db), Some(kind)) = (t.db, t.kind)
        {
            self.seq += 1;
            self.streams.push(Stream {
                db,
                kind,
                stripes,
                copy_only: t.copy_only,
                dir: media,
                seq: self.seq,
            });
        }
        Ok(answer)
    }

    /// Runs a setup statement on the second session; a failure goes into the snapshot.
    fn setup_sql(&mut self, sql: &str, expected: &[u32], notes: &mut String) -> bool {
        let what = format!("{}: setup `{sql}`", self.name);
        match self.setup.run(sql) {
            Ok(answer) => self.setup_note(sql, &answer, expected, notes),
            Err(e) => {
                self.lost(&what, &e, notes);
                false
            }
        }
    }

    /// Notes a setup statement in the snapshot (with its output if it failed); one that gave
    /// only an `expected` error did nothing, and is not noted.
    fn setup_note(
        &mut self,
        sql: &str,
        answer: &Answer,
        expected: &[u32],
        notes: &mut String,
    ) -> bool {
        let shown = self.redactor.apply(sql);
        let all = error_messages(answer);
        let errors: Vec<&(u32, String)> =
            all.iter().filter(|(n, _)| !expected.contains(n)).collect();
        let client_ok = answer.client_run.as_ref().is_none_or(|r| r.clean());
        if errors.is_empty() && !all.is_empty() {
            true
        } else if errors.is_empty() && client_ok {
            notes.push_str(&format!("-- runner: {shown}\n"));
            true
        } else {
            notes.push_str(&format!("-- runner: {shown}: FAILED\n"));
            let rendered = self
                .redactor
                .apply(&tidy(&answer.sink.render(&self.setup.server_name)));
            for line in rendered.lines() {
                notes.push_str(&format!("--   {line}\n"));
            }
            false
        }
    }

    fn find(&self, db: &str, kind: Kind, stripes: Option<u16>, base: bool) -> Option<usize> {
        let db = db.to_lowercase();
        self.streams.iter().rposition(|s| {
            s.db == db
                && s.kind == kind
                && stripes.is_none_or(|n| n == s.stripes)
                && !(base && s.copy_only)
        })
    }

    /// A stream of `db` of this kind (and stripe count), written by the file or made now.
    fn ensure(
        &mut self,
        db: &str,
        kind: Kind,
        stripes: Option<u16>,
        notes: &mut String,
    ) -> Option<usize> {
        // History (and the base of a differential) wants a full that is not COPY_ONLY; a
        // stream to restore may be any.
        let base = stripes.is_none();
        if let Some(i) = self.find(db, kind, stripes, base) {
            return Some(i);
        }
        if kind != Kind::Full && self.find(db, Kind::Full, None, true).is_none() {
            self.backup(db, Kind::Full, 1, notes)?;
        }
        self.backup(db, kind, stripes.unwrap_or(1), notes)
    }

    /// A log stream to restore onto a RESTORING database: the first log backup after the
    /// newest full that has one (so that it applies to that full), or a new one.
    fn log_after_full(&mut self, db: &str, stripes: u16, notes: &mut String) -> Option<usize> {
        let key = db.to_lowercase();
        let found = self
            .streams
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, s)| s.db == key && s.kind == Kind::Full)
            .find_map(|(_, full)| {
                self.streams.iter().position(|s| {
                    s.db == key && s.kind == Kind::Log && s.stripes == stripes && s.seq > full.seq
                })
            });
        if found.is_some() {
            return found;
        }
        if self.find(db, Kind::Full, None, true).is_none() {
            self.backup(db, Kind::Full, 1, notes)?;
        }
        self.backup(db, Kind::Log, stripes, notes)
    }

    /// The runner's own BACKUP, served by the reference client. A differential or log backup
    /// follows some changes, as it would on a live database.
    fn backup(&mut self, db: &str, kind: Kind, stripes: u16, notes: &mut String) -> Option<usize> {
        if kind != Kind::Full {
            let workload = format!("DBCC VDISIM_WORKLOAD ('{db}', 8)");
            if !self.setup_sql(&workload, &[], notes) {
                return None;
            }
        }
        let set = new_set_name();
        let names = device_names(&set, stripes);
        for (i, name) in names.iter().enumerate() {
            self.redactor.rename(name, &format!("runner_dev{i}"));
        }
        let sql = format!(
            "BACKUP {} [{db}] TO {} WITH FORMAT{}",
            if kind == Kind::Log { "LOG" } else { "DATABASE" },
            device_list(&names),
            if kind == Kind::Diff {
                ", DIFFERENTIAL"
            } else {
                ""
            }
        );
        let dir = self.next_dir();
        let what = format!("{}: setup `{sql}`", self.name);
        let answer = match self.setup.run_with_devices(
            &sql,
            &set,
            stripes,
            reference::Direction::Backup,
            &dir,
            None,
        ) {
            Ok(answer) => answer,
            Err(e) => {
                self.lost(&what, &e, notes);
                return None;
            }
        };
        if !self.setup_note(&sql, &answer, &[], notes) {
            return None;
        }
        self.seq += 1;
        self.streams.push(Stream {
            db: db.to_lowercase(),
            kind,
            stripes,
            copy_only: false,
            dir,
            seq: self.seq,
        });
        Some(self.streams.len() - 1)
    }

    /// Leaves `db` RESTORING: as the file's own restore sequence left it, or by restoring the
    /// full that precedes the stream the batch restores, WITH NORECOVERY, REPLACE.
    fn make_restoring(
        &mut self,
        db: &str,
        batch: &CorpusBatch,
        batch_stream: Option<usize>,
        notes: &mut String,
    ) {
        let key = db.to_lowercase();
        let query = format!(
            "SELECT state_desc FROM sys.databases WHERE name = N'{}'",
            db.replace('\'', "''")
        );
        let state = match self.setup.scalar(&query) {
            Ok(state) => state,
            Err(e) => {
                self.lost(&format!("{}: setup `{query}`", self.name), &e, notes);
                None
            }
        };
        if state.as_deref() == Some("RESTORING") && self.restore_sequence.get(&key) == Some(&true) {
            return;
        }
        // The batch's own stream, if it is of this database and not a full.
        let before = batch_stream
            .filter(|&i| self.streams[i].db == key && self.streams[i].kind != Kind::Full)
            .map(|i| self.streams[i].seq);
        let full = self
            .streams
            .iter()
            .rposition(|s| s.db == key && s.kind == Kind::Full && before.is_none_or(|b| s.seq < b));
        let full = match full {
            Some(i) => i,
            None => match self.backup(db, Kind::Full, 1, notes) {
                Some(i) if before.is_none() => i,
                _ => {
                    notes.push_str(&format!(
                        "-- runner: no full backup of {db} to restore for batch {}\n",
                        batch.index
                    ));
                    return;
                }
            },
        };
        let (stripes, dir) = (self.streams[full].stripes, self.streams[full].dir.clone());
        self.leave_database(db, notes);
        let set = new_set_name();
        let names = device_names(&set, stripes);
        for (i, name) in names.iter().enumerate() {
            self.redactor.rename(name, &format!("runner_dev{i}"));
        }
        let sql = format!(
            "RESTORE DATABASE [{db}] FROM {} WITH NORECOVERY, REPLACE",
            device_list(&names)
        );
        let what = format!("{}: setup `{sql}`", self.name);
        match self.setup.run_with_devices(
            &sql,
            &set,
            stripes,
            reference::Direction::Restore,
            &dir,
            None,
        ) {
            Ok(answer) => {
                if self.setup_note(&sql, &answer, &[], notes) {
                    self.restore_sequence.insert(key, true);
                }
            }
            Err(e) => self.lost(&what, &e, notes),
        }
    }
}

fn device_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("VIRTUAL_DEVICE = N'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn reference_direction(d: Direction) -> reference::Direction {
    match d {
        Direction::Backup => reference::Direction::Backup,
        Direction::Restore => reference::Direction::Restore,
    }
}
