//! `BACKUP DATABASE … TO VIRTUAL_DEVICE = '…' WITH SNAPSHOT` (vdi-facts §8.4): the prologue
//! as VDC_Write, VDC_PrepareToFreeze when the client asked for VDF_SnapshotPrepare, the
//! freeze (the database's image presented in the volume directory), the frozen state as more
//! VDC_Write, then VDC_Snapshot. Its success thaws the database and closes the device; an error
//! completion, an abort, the client's death, a cancel or `--max-freeze` thaw it too and fail the
//! BACKUP.

use super::io::{self, Failed, Outcome, Stop};
use super::{Prologue, encode_frame, freeze_too_long, freeze_window, one_device_only};
use crate::engine::jobs::{JobContext, JobResult, check_backup, fail};
use crate::engine::sink::OutputSink;
use crate::engine::{Engine, FreezeKind};
use crate::jobs::messages as job_messages;
use crate::jobs::restore::Restoring;
use crate::jobs::session::{DeviceSession, JobOptions, SessionSpec, device_error};
use crate::tsql::messages;
use crate::tsql::{BackupKind, BackupStatement, SqlMessage};
use crate::vdi::link::ServerConnector;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vdi_proto::{VdcCode, vdf, win32};

/// Thaws the database and withdraws its presented image however the job ends.
pub(super) struct Thaw<'a> {
    engine: &'a Engine,
    database: String,
    image: Option<PathBuf>,
    done: Option<Duration>,
}

impl<'a> Thaw<'a> {
    pub(super) fn new(engine: &'a Engine, database: &str, image: Option<PathBuf>) -> Self {
        Thaw {
            engine,
            database: database.to_owned(),
            image,
            done: None,
        }
    }

    /// Thaws now; returns how long the database was frozen.
    pub(super) fn thaw(&mut self) -> Duration {
        if let Some(held) = self.done {
            return held;
        }
        if let Some(path) = self.image.take() {
            let _ = std::fs::remove_file(path);
        }
        let held = self
            .engine
            .thaw(&self.database)
            .map_or(Duration::ZERO, |(_, held)| held);
        self.done = Some(held);
        held
    }
}

impl Drop for Thaw<'_> {
    fn drop(&mut self) {
        self.thaw();
    }
}

pub(crate) fn run(
    ctx: &JobContext<'_>,
    stmt: &BackupStatement,
    sink: &mut dyn OutputSink,
    connector: Arc<dyn ServerConnector>,
    options: &JobOptions,
    restoring: &Restoring,
) -> JobResult {
    let line = ctx.line();
    let operation = stmt.operation();
    let terminate = |mut errors: Vec<SqlMessage>| {
        errors.push(messages::terminating_abnormally(line, operation));
        errors
    };
    if let Err(errors) = check_backup(ctx, stmt) {
        return fail(sink, errors);
    }
    if stmt.kind != BackupKind::Database || stmt.devices.len() != 1 {
        return fail(sink, terminate(vec![one_device_only(line)]));
    }
    let key = stmt.database.to_lowercase();
    if restoring
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains_key(&key)
    {
        let m = messages::database_in_restore(line, &stmt.database);
        return fail(sink, terminate(vec![m]));
    }
    if let Some(f) = ctx.engine().frozen(&stmt.database)
        && matches!(f.kind, FreezeKind::Suspend { .. })
    {
        return super::tsql::metadata_only(ctx, stmt, sink, connector, options, f);
    }
    let _guard = match ctx.serialize_operation(&stmt.database) {
        Ok(g) => g,
        Err(m) => return fail(sink, terminate(vec![m])),
    };
    let Some(db) = ctx.snapshot(&stmt.database) else {
        let m = messages::database_does_not_exist(line, &stmt.database);
        return fail(sink, terminate(vec![m]));
    };
    let database = db.name().to_owned();
    let spec =
        SessionSpec::from_statement(line, &stmt.devices, &stmt.options.transfer, false, options);
    let mut session = match DeviceSession::open(connector, options, &spec, &|| ctx.is_cancelled()) {
        Ok(s) => s,
        Err(_) if ctx.engine().is_shutting_down() => {
            return fail(sink, terminate(vec![job_messages::stopped(line, true)]));
        }
        Err(errors) => return fail(sink, terminate(errors)),
    };
    ctx.log(&format!(
        "snapshot BACKUP of {database} to {}: features {:#x}, max freeze {} ms",
        stmt.devices[0],
        session.config.features,
        options.max_freeze.as_millis()
    ));
    match freeze_and_snapshot(ctx, stmt, &mut session, options, &db, &database) {
        Ok(done) => finish(ctx, stmt, sink, session, options, done),
        Err(errors) => {
            session.abort();
            fail(sink, terminate(errors))
        }
    }
}

/// What the frozen part of the job produced.
pub(super) struct Snapshotted {
    pub meta: crate::db::BackupMeta,
    pub held: Duration,
}

/// Prologue, PrepareToFreeze, freeze, frozen metadata, VDC_Snapshot, thaw.
fn freeze_and_snapshot(
    ctx: &JobContext<'_>,
    stmt: &BackupStatement,
    session: &mut DeviceSession,
    options: &JobOptions,
    db: &crate::db::Database,
    database: &str,
) -> Result<Snapshotted, Vec<SqlMessage>> {
    let line = ctx.line();
    let device = stmt.devices[0].as_str();
    let patience = options.completion_patience;
    let block = session.config.block_size.max(512) as usize;
    let mut position = 0u64;
    let failed = |f: Failed, held: Option<Duration>| -> Vec<SqlMessage> {
        match f {
            Failed::Stopped(Stop::Deadline) => vec![freeze_too_long(
                line,
                database,
                held.unwrap_or(options.max_freeze).as_millis(),
                options.max_freeze.as_millis(),
            )],
            Failed::Stopped(Stop::Cancelled) => {
                vec![job_messages::stopped(line, ctx.engine().is_shutting_down())]
            }
            Failed::Stopped(Stop::Silent) => vec![device_error(line, device, false, 1460)],
            Failed::Code(code) => vec![device_error(line, device, false, code)],
            Failed::Short(written, asked) => {
                vec![job_messages::short_write(line, device, written, asked)]
            }
            Failed::NoBuffer => vec![job_messages::internal(line, "no buffer for the metadata")],
        }
    };
    let prologue = Prologue {
        database: database.to_owned(),
        server: ctx.server_name().to_owned(),
        files: db
            .files()
            .into_iter()
            .map(|f| (f.logical_name, f.physical_name))
            .collect(),
    };
    let json = serde_json::to_vec(&prologue).unwrap_or_default();
    io::write_all(
        ctx,
        session,
        &mut position,
        &encode_frame(1, &json, block),
        patience,
        None,
    )
    .map_err(|f| failed(f, None))?;
    if session.config.features & vdf::SNAPSHOT_PREPARE != 0 {
        match io::control(ctx, session, VdcCode::PrepareToFreeze, patience, None) {
            Outcome::Done(done) if done.completion_code == win32::ERROR_SUCCESS => {}
            Outcome::Done(done) => return Err(failed(Failed::Code(done.completion_code), None)),
            Outcome::Stopped(s) => return Err(failed(Failed::Stopped(s), None)),
        }
    }
    // The freeze: from here every write to the database waits.
    if let Err(f) = ctx
        .engine()
        .freeze(database, ctx.session_id(), FreezeKind::Vdi)
    {
        return Err(vec![crate::engine::snapshot_sql::previously_suspended(
            line,
            &f.database,
        )]);
    }
    let image_path = super::image_path(&options.volumes, database);
    let mut thaw = Thaw::new(ctx.engine(), database, Some(image_path.clone()));
    let deadline = Instant::now() + options.max_freeze;
    let copy_only = stmt.options.copy_only;
    let frozen = super::freeze_image(ctx, stmt, database, copy_only, &image_path)?;
    ctx.log(&format!(
        "{database} frozen for a snapshot; image presented at {} ({} bytes)",
        image_path.display(),
        frozen.image_bytes
    ));
    if let Some(hold) = options.faults.freeze_hold {
        std::thread::sleep(hold);
    }
    let json = serde_json::to_vec(&frozen).unwrap_or_default();
    let frame = encode_frame(2, &json, block);
    let held_now = |thaw: &Thaw<'_>| {
        ctx.engine()
            .frozen(&thaw.database)
            .map(|f| f.since.elapsed())
    };
    io::write_all(
        ctx,
        session,
        &mut position,
        &frame,
        patience,
        Some(deadline),
    )
    .map_err(|f| failed(f, held_now(&thaw)))?;
    match io::control(ctx, session, VdcCode::Snapshot, patience, Some(deadline)) {
        Outcome::Done(done) if done.completion_code == win32::ERROR_SUCCESS => {}
        Outcome::Done(done) => return Err(failed(Failed::Code(done.completion_code), None)),
        Outcome::Stopped(s) => {
            let held = held_now(&thaw);
            return Err(failed(Failed::Stopped(s), held));
        }
    }
    let held = thaw.thaw();
    Ok(Snapshotted {
        meta: frozen.meta,
        held,
    })
}

/// After VDC_Snapshot: close the device (VD_E_CLOSE), record the backup, say so.
pub(super) fn finish(
    ctx: &JobContext<'_>,
    stmt: &BackupStatement,
    sink: &mut dyn OutputSink,
    session: DeviceSession,
    options: &JobOptions,
    done: Snapshotted,
) -> JobResult {
    let line = ctx.line();
    let elapsed = session.elapsed();
    if let Err(e) = session.finish(&[false]) {
        let errors = vec![
            device_error(line, &stmt.devices[0], false, e.code.hresult()),
            messages::terminating_abnormally(line, stmt.operation()),
        ];
        return fail(sink, errors);
    }
    let meta = done.meta;
    if let Err(e) = ctx.update_database(&stmt.database, |d| d.commit_backup(&meta)) {
        let errors = vec![
            messages::catalog_io_failed(line, &e.to_string()),
            messages::terminating_abnormally(line, stmt.operation()),
        ];
        return fail(sink, errors);
    }
    if let Err(e) = ctx.record_backup(stmt, &meta, elapsed, 0) {
        ctx.log(&format!("msdb history not written: {e}"));
    }
    let held = done.held.as_millis();
    let limit = options.max_freeze.as_millis();
    sink.message(freeze_window(line, &meta.database, held, limit));
    sink.message(messages::successfully_processed(
        line,
        stmt.operation(),
        0,
        elapsed,
    ));
    ctx.log(&format!(
        "snapshot BACKUP of {} succeeded: frozen for {held} ms (limit {limit} ms)",
        meta.database
    ));
    JobResult::Succeeded
}
