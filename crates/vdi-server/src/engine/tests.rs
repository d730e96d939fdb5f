use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::tsql::{Batch, split_batches};

const PW: &str = "Secret#1";

fn engine() -> Arc<Engine> {
    Engine::new(
        Catalog::with_defaults(),
        EngineConfig {
            sa_password: Some(PW.into()),
            ..EngineConfig::default()
        },
    )
}

fn session(engine: &Arc<Engine>) -> Session {
    engine.login("sa", PW, None).expect("login")
}

/// Runs a script (split on GO, batch-relative lines as sqlcmd sends them) and renders it.
fn run(session: &mut Session, script: &str) -> (String, Vec<u32>, Vec<BatchOutcome>) {
    let mut sink = CollectSink::new();
    let mut outcomes = Vec::new();
    for mut batch in split_batches(script) {
        batch.first_line = 1;
        outcomes.push(session.execute_batch(&batch, &mut sink));
    }
    let rendered = sink.render(session.engine().server_name());
    (rendered, sink.error_numbers(), outcomes)
}

#[test]
fn system_variables_and_database_list() {
    let engine = engine();
    let mut s = session(&engine);
    let (out, errors, _) = run(
        &mut s,
        "SELECT @@SERVERNAME\nSELECT name FROM sys.databases\nGO\nSELECT name FROM master.sys.databases ORDER BY name DESC",
    );
    assert!(errors.is_empty());
    insta::assert_snapshot!(out);
    let (version, _, _) = run(&mut s, "SELECT @@VERSION");
    assert!(version.contains("Microsoft SQL Server 2022"), "{version}");
    assert!(version.contains("vdisim"), "{version}");
}

#[test]
fn create_use_drop_and_their_errors() {
    let engine = engine();
    let mut s = session(&engine);
    let (out, errors, outcomes) = run(
        &mut s,
        "CREATE DATABASE Sales SIZE = 2 MB RECOVERY SIMPLE
CREATE DATABASE sales
PRINT 'the batch goes on after a statement error'
GO
USE Nowhere
USE SALES
GO
DROP DATABASE Sales
USE master
DROP DATABASE Sales, Sales
DROP DATABASE IF EXISTS Sales
DROP DATABASE master
ALTER DATABASE Nowhere SET RECOVERY FULL",
    );
    insta::assert_snapshot!(out);
    assert_eq!(errors, [1801, 911, 3702, 3701, 3708, 5011, 5069]);
    assert!(outcomes.iter().all(|o| o.error));
    assert!(engine.lock_catalog().get("sales").is_none());
}

#[test]
fn a_syntax_error_runs_no_statement_of_its_batch() {
    let engine = engine();
    let mut s = session(&engine);
    let (out, errors, outcomes) = run(
        &mut s,
        "PRINT 'not printed'\nCREATE DATABASE x1\nSELEKT 1\nGO\nPRINT 'next batch runs'",
    );
    insta::assert_snapshot!(out);
    assert_eq!(errors, [102]);
    assert!(outcomes[0].error && !outcomes[1].error);
    assert!(engine.lock_catalog().get("x1").is_none());
}

#[test]
fn go_n_repeats_the_batch() {
    let engine = engine();
    let mut s = session(&engine);
    let (out, _, outcomes) = run(&mut s, "PRINT 'again'\nGO 3\nSELECT @@SERVERNAME\nGO 2");
    assert_eq!(out.matches("again\n").count(), 3);
    assert_eq!(out.matches("VDISIM").count(), 2);
    assert_eq!(outcomes.len(), 2);
}

#[test]
fn backup_and_restore_prechecks_without_device_sets() {
    let engine = engine();
    let mut s = session(&engine);
    let (out, errors, _) = run(
        &mut s,
        "BACKUP DATABASE NoSuchDb TO VIRTUAL_DEVICE = 'set1'
BACKUP LOG pubs TO VIRTUAL_DEVICE = 'set1'
BACKUP LOG AdventureWorks TO VIRTUAL_DEVICE = 'set1'
BACKUP DATABASE AdventureWorks TO VIRTUAL_DEVICE = 'set1' WITH DIFFERENTIAL
BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'set1', VIRTUAL_DEVICE = 'set1_1' WITH STATS = 10
BACKUP LOG master TO VIRTUAL_DEVICE = 'set1'
RESTORE DATABASE pubs FROM VIRTUAL_DEVICE = 'set2'
RESTORE DATABASE pubs FROM VIRTUAL_DEVICE = 'set2' WITH REPLACE
RESTORE DATABASE NewDb FROM VIRTUAL_DEVICE = 'set3'
RESTORE HEADERONLY FROM VIRTUAL_DEVICE = 'set4'
RESTORE DATABASE pubs WITH RECOVERY
RESTORE DATABASE Gone WITH RECOVERY",
    );
    insta::assert_snapshot!(out);
    assert_eq!(
        errors,
        [
            911, 3013, 4208, 3013, 4214, 3013, 3035, 3013, 3201, 3013, 4212, 3013, 3154, 3013,
            3201, 3013, 3201, 3013, 3201, 3013, 3153, 3013, 911, 3013
        ]
    );
}

#[test]
fn restore_needs_exclusive_access_and_drop_refuses_a_database_in_use() {
    let engine = engine();
    let mut admin = session(&engine);
    let mut other = engine
        .login("SA", PW, Some("PUBS"))
        .expect("login into pubs");
    assert_eq!(other.database(), "pubs");
    let (out, errors, _) = run(
        &mut admin,
        "RESTORE DATABASE pubs FROM VIRTUAL_DEVICE = 's' WITH REPLACE\nDROP DATABASE pubs",
    );
    assert_eq!(errors, [3101, 3013, 3702], "{out}");
    run(&mut other, "USE master");
    drop(other);
    let (_, errors, _) = run(&mut admin, "DROP DATABASE pubs");
    assert!(errors.is_empty());
}

#[test]
fn recovery_model_changes_what_backup_log_says() {
    let engine = engine();
    let mut s = session(&engine);
    let (_, errors, _) = run(
        &mut s,
        "ALTER DATABASE pubs SET RECOVERY FULL\nBACKUP LOG pubs TO VIRTUAL_DEVICE = 'x'",
    );
    assert_eq!(errors, [4214, 3013]);
}

#[test]
fn login_failures() {
    let engine = engine();
    let wrong = engine.login("sa", "nope", None).unwrap_err();
    assert_eq!(wrong.iter().map(|m| m.number).collect::<Vec<_>>(), [18456]);
    assert_eq!(
        wrong[0].render("VDISIM"),
        "Msg 18456, Level 14, State 1, Server VDISIM, Line 1\nLogin failed for user 'sa'."
    );
    assert!(engine.login("bob", PW, None).is_err());
    let no_db = engine.login("sa", PW, Some("Nowhere")).unwrap_err();
    assert_eq!(
        no_db.iter().map(|m| m.number).collect::<Vec<_>>(),
        [4060, 18456]
    );
    let open = Engine::new(Catalog::new(), EngineConfig::default());
    assert!(open.login("sa", "anything", None).is_ok());
}

#[test]
fn waitfor_really_waits_and_stops_when_cancelled() {
    let engine = engine();
    let mut s = session(&engine);
    let batch = Batch {
        text: "WAITFOR DELAY '00:00:00.300'\nPRINT 'done'".into(),
        first_line: 1,
        repeat: 1,
    };
    let started = Instant::now();
    let mut sink = CollectSink::new();
    s.execute_batch(&batch, &mut sink);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(sink.messages().count(), 1);

    let long = Batch {
        text: "WAITFOR DELAY '01:00'\nPRINT 'not reached'".into(),
        first_line: 1,
        repeat: 1,
    };
    let cancel = CancelToken::new();
    let canceller = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            cancel.cancel();
        })
    };
    let mut sink = CollectSink::new();
    let outcome = s.execute_batch_cancellable(&long, &mut sink, &cancel);
    canceller.join().unwrap();
    assert!(outcome.cancelled);
    assert_eq!(sink.messages().count(), 0);
}

#[test]
fn timestamps_are_iso_utc() {
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(20_417), (2025, 11, 25));
    let ts = utc_timestamp();
    assert_eq!(ts.len(), 24, "{ts}");
    assert!(ts.ends_with('Z'));
}

/// A BACKUP that claims its database, reports 50 percent, then runs until cancelled (or, when
/// `hold` is false, finishes at once with 3014). Gives up after 30 s so a broken test fails
/// instead of hanging.
#[derive(Debug, Default)]
pub(crate) struct BlockingJobs {
    pub(crate) hold: std::sync::atomic::AtomicBool,
}

impl VdiJobs for BlockingJobs {
    fn backup(
        &self,
        ctx: &JobContext<'_>,
        stmt: &crate::tsql::BackupStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        let line = ctx.line();
        let end = messages::terminating_abnormally(line, stmt.operation());
        if let Err(errors) = check_backup(ctx, stmt) {
            return fail(sink, errors);
        }
        let _guard = match ctx.serialize_operation(&stmt.database) {
            Ok(guard) => guard,
            Err(busy) => return fail(sink, vec![busy, end]),
        };
        sink.message(messages::percent_processed(line, 50));
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.hold.load(std::sync::atomic::Ordering::SeqCst) {
            if ctx.is_cancelled() {
                return fail(sink, vec![messages::operation_aborted(line), end]);
            }
            if Instant::now() > deadline {
                return fail(sink, vec![messages::backup_set_damaged(line), end]);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        sink.message(messages::successfully_processed(
            line,
            stmt.operation(),
            1,
            Duration::from_millis(1),
        ));
        JobResult::Succeeded
    }

    fn restore(
        &self,
        ctx: &JobContext<'_>,
        stmt: &crate::tsql::RestoreStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        NoVdiJobs.restore(ctx, stmt, sink)
    }
}

pub(crate) fn engine_with(jobs: Arc<dyn VdiJobs>) -> Arc<Engine> {
    Engine::new(
        Catalog::with_defaults(),
        EngineConfig {
            sa_password: Some(PW.into()),
            jobs,
            ..EngineConfig::default()
        },
    )
}

#[test]
fn a_running_job_serialises_backups_and_blocks_drop() {
    let jobs = Arc::new(BlockingJobs::default());
    jobs.hold.store(true, std::sync::atomic::Ordering::SeqCst);
    let engine = engine_with(Arc::clone(&jobs) as Arc<dyn VdiJobs>);
    let cancel = CancelToken::new();
    let first = {
        let engine = Arc::clone(&engine);
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            let mut s = session(&engine);
            let mut sink = CollectSink::new();
            let batch = Batch {
                text: "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'a'".into(),
                first_line: 1,
                repeat: 1,
            };
            let outcome = s.execute_batch_cancellable(&batch, &mut sink, &cancel);
            (outcome, sink)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !engine.has_operation("PUBS") {
        assert!(Instant::now() < deadline, "the job never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut other = session(&engine);
    let (out, errors, _) = run(
        &mut other,
        "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'b'\nDROP DATABASE pubs",
    );
    assert_eq!(errors, [3023, 3013, 3702], "{out}");

    cancel.cancel();
    let (outcome, sink) = first.join().unwrap();
    assert!(outcome.error);
    let numbers: Vec<u32> = sink.messages().map(|m| m.number).collect();
    assert_eq!(numbers, [3211, 3204, 3013]);
    assert!(!engine.has_operation("pubs"));

    jobs.hold.store(false, std::sync::atomic::Ordering::SeqCst);
    let (out, errors, _) = run(&mut other, "BACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'c'");
    assert!(errors.is_empty(), "{out}");
    assert!(out.contains("BACKUP DATABASE successfully processed 1 pages"));
}

#[test]
fn execute_script_stops_on_error_only_when_asked() {
    let engine = engine();
    let mut s = session(&engine);
    let mut sink = CollectSink::new();
    assert!(s.execute_script("USE nowhere\nGO\nPRINT 'after'", &mut sink, true));
    assert_eq!(sink.messages().count(), 1);
    let mut sink = CollectSink::new();
    assert!(s.execute_script("USE nowhere\nGO\nPRINT 'after'", &mut sink, false));
    assert_eq!(sink.messages().count(), 2);
}

/// Fails every BACKUP with a level-17 error (insufficient resources), which ends the batch.
#[derive(Debug)]
struct SevereJobs;

impl VdiJobs for SevereJobs {
    fn backup(
        &self,
        ctx: &JobContext<'_>,
        _: &crate::tsql::BackupStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        fail(
            sink,
            vec![SqlMessage::new(701, 17, 123, ctx.line(), "out of memory")],
        )
    }

    fn restore(
        &self,
        ctx: &JobContext<'_>,
        stmt: &crate::tsql::RestoreStatement,
        sink: &mut dyn OutputSink,
    ) -> JobResult {
        NoVdiJobs.restore(ctx, stmt, sink)
    }
}

#[test]
fn an_error_above_level_16_ends_the_batch() {
    let engine = engine_with(Arc::new(SevereJobs));
    let mut s = session(&engine);
    let (out, errors, outcomes) = run(
        &mut s,
        "USE nowhere\nBACKUP DATABASE pubs TO VIRTUAL_DEVICE = 'x'\nPRINT 'not reached'\nGO\nPRINT 'next batch'",
    );
    assert_eq!(errors, [911, 701]);
    assert!(!out.contains("not reached"), "{out}");
    assert!(out.ends_with("next batch\n"), "{out}");
    assert_eq!(outcomes[0].max_level, 17);
}
