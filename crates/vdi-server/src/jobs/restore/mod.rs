//! RESTORE (and VERIFYONLY, HEADERONLY, FILELISTONLY, LABELONLY) through a virtual device set.
//!
//! Every device is read with Read commands of seeded sizes between BLOCKSIZE and
//! MAXTRANSFERSIZE (multiples of BLOCKSIZE) until the client reports the end of the data; each
//! stripe is parsed and verified as it arrives, the stripes are reassembled by sequence number,
//! and the rebuilt database is checked against the backed-up state before it replaces anything.
//! The checks on the backup set come in SQL Server's order: the media (MEDIANAME 4037, FILE
//! 4038, CHECKSUM 3187), the kind of backup (3135), the target (3154, 3159), the restore
//! sequence (3117, 3118), the plan (MOVE: 3234, 4353, 3176, then 3119), the point in time
//! (3145), then the chain itself (3136, 4305, 4326, 4335, 4338).

mod headers;
mod plan;
mod read;

use super::messages as job_messages;
use super::session::{DeviceSession, JobOptions, SessionSpec};
use crate::db::{Applied, BackupImage, BackupKind, Database, RestoreState};
use crate::engine::jobs::{JobContext, JobResult, check_restore, check_restore_target, fail};
use crate::engine::sink::OutputSink;
use crate::stream::{RestoreAssembler, StreamError, StripeReader};
use crate::tsql::messages;
use crate::tsql::{RecoveryOption, RestoreKind, RestoreStatement, SqlMessage, StopPoint};
use crate::vdi::link::ServerConnector;
use headers::header_result_set;
use read::read_all;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A database in the middle of a restore sequence: restored WITH NORECOVERY or STANDBY (or
/// taken offline by a tail-log backup), waiting for more backups or a final RECOVERY.
#[derive(Debug)]
pub struct Pending {
    pub state: RestoreState,
    /// Restored WITH STANDBY: the catalog holds a read-only copy meanwhile, and the views show
    /// it ONLINE with `is_in_standby = 1` rather than RESTORING.
    pub standby: bool,
}

/// The databases in the middle of a restore sequence, by lower-case name.
pub type Restoring = Mutex<HashMap<String, Pending>>;

pub(super) fn run(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
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
    if let Err(errors) = check_restore(ctx, stmt) {
        return fail(sink, errors);
    }
    if let Err(m) = plan::check_statement(stmt, line) {
        return fail(sink, terminate(vec![m]));
    }
    if stmt.devices.is_empty() {
        return recover_only(ctx, stmt, sink, restoring);
    }
    let _guard = match &stmt.database {
        Some(db) => match ctx.serialize_operation(db) {
            Ok(g) => Some(g),
            Err(m) => return fail(sink, terminate(vec![m])),
        },
        None => None,
    };
    let spec =
        SessionSpec::from_statement(line, &stmt.devices, &stmt.options.transfer, true, options);
    let session = match DeviceSession::open(connector, options, &spec, &|| ctx.is_cancelled()) {
        Ok(s) => s,
        // Stopped by the shutdown while it waited for the client: say so, not 3201.
        Err(_) if ctx.engine().is_shutting_down() => {
            return fail(sink, terminate(vec![job_messages::stopped(line, true)]));
        }
        Err(errors) => return fail(sink, terminate(errors)),
    };
    let headers_only = matches!(
        stmt.kind,
        RestoreKind::HeaderOnly | RestoreKind::FileListOnly | RestoreKind::LabelOnly
    );
    let mut stats = Stats::new(stmt.options.stats, line);
    let mut progress = |read: u64, expected: Option<u64>| {
        if let Some(expected) = expected {
            let percent = (read.saturating_mul(100) / expected).min(99) as u32;
            ctx.report_progress(percent);
            stats.report(percent, &mut |m| sink.message(m));
        }
    };
    let stripes = match read_all(
        ctx,
        &stmt.devices,
        session,
        options,
        headers_only,
        &mut progress,
    ) {
        Ok(s) => s,
        Err(errors) => return fail(sink, terminate(errors)),
    };
    let Some(headers) = stripes.first().and_then(StripeReader::headers) else {
        return fail(
            sink,
            terminate(vec![messages::not_a_backup_set(line, &stmt.devices[0])]),
        );
    };
    if let Err(m) = plan::check_media(stmt, &headers, line) {
        return fail(sink, terminate(vec![m]));
    }
    if headers_only {
        // HEADERONLY and FILELISTONLY describe the whole media set, so they need every family,
        // as a restore does; LABELONLY describes the media it was given.
        let families = usize::from(headers.media.family_count);
        if stmt.kind != RestoreKind::LabelOnly && stmt.devices.len() < families {
            let missing = messages::media_families_missing(line, families, stmt.devices.len());
            return fail(sink, terminate(vec![missing]));
        }
        let result_set = header_result_set(stmt.kind, &headers, &stmt.devices, ctx);
        let rows = result_set.rows.len() as u64;
        sink.result_set(result_set);
        sink.rows_affected(rows);
        return JobResult::Succeeded;
    }
    let image = match assemble(stripes) {
        Ok(image) => image,
        Err(e) => {
            return fail(
                sink,
                terminate(job_messages::stream_damage(line, &stmt.devices, &e)),
            );
        }
    };
    stats.finish(&mut |m| sink.message(m));
    if stmt.kind == RestoreKind::VerifyOnly {
        // Reading every record regenerated and compared its content: the set is valid.
        if stmt.options.load_history
            && let Err(e) = ctx.record_restore(stmt, &image.meta, image_bytes(&image))
        {
            ctx.log(&format!("msdb history not written: {e}"));
        }
        sink.message(messages::backup_set_valid(line, 1));
        return JobResult::Succeeded;
    }
    restore_image(ctx, stmt, sink, restoring, image)
}

/// Applies a read and verified backup (or a mounted snapshot's image) to its target's restore
/// sequence.
pub(in crate::jobs) fn restore_image(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    sink: &mut dyn OutputSink,
    restoring: &Restoring,
    image: BackupImage,
) -> JobResult {
    let line = ctx.line();
    let operation = stmt.operation();
    let terminate = |mut errors: Vec<SqlMessage>| {
        errors.push(messages::terminating_abnormally(line, operation));
        errors
    };
    let name = stmt.database.clone().unwrap_or_default();
    let target = name.to_lowercase();
    if let Err(m) = plan::check_kind(stmt, &image.meta, &stmt.devices[0], line) {
        return fail(sink, terminate(vec![m]));
    }
    // A differential or log continuing a restore sequence restores into the database being
    // restored; only a restore that starts a sequence may be refused for overwriting.
    let continuing = restoring
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains_key(&target);
    let selected = match plan::resolve_files(stmt, &image.meta, &stmt.devices[0], line) {
        // A file backup restored without a file list restores the files it holds.
        Ok(None)
            if image.meta.kind == BackupKind::Full
                && !image.meta.info.partial
                && !stmt.options.partial =>
        {
            image.meta.info.file_scope.clone()
        }
        Ok(selected) => selected,
        Err(m) => return fail(sink, terminate(vec![m])),
    };
    // Only a whole or partial restore of a data backup overwrites the database (a file
    // restore goes into a restore sequence); differentials and logs need a sequence in
    // progress (3117 below).
    let file_restore = selected.is_some() && !stmt.options.partial;
    if !continuing
        && !file_restore
        && image.meta.kind == BackupKind::Full
        && let Err(errors) = check_restore_target(ctx, stmt, Some(&image.meta.database))
    {
        return fail(sink, errors);
    }
    if let Err(errors) = plan::check_moves(stmt, &image.meta, line) {
        return fail(sink, terminate(errors));
    }
    if let Err(m) = plan::check_point_in_time(stmt, &image.meta, line) {
        return fail(sink, terminate(vec![m]));
    }
    let stop = match plan::stop_target(stmt, line) {
        Ok(stop) => stop,
        Err(m) => return fail(sink, terminate(vec![m])),
    };
    let recovery_asked = !matches!(
        stmt.options.recovery,
        Some(RecoveryOption::NoRecovery | RecoveryOption::Standby(_))
    );
    let mut pending = restoring.lock().unwrap_or_else(|p| p.into_inner());
    let previous = pending.remove(&target);
    let started = match start_state(ctx, stmt, &image, previous, selected.as_deref()) {
        Ok(state) => state,
        Err(errors) => return fail(sink, terminate(errors)),
    };
    let mut state = started.state;
    // RESTORE LOG … WITH RECOVERY that would leave restored files behind fails first (4318).
    if image.meta.kind == BackupKind::Log
        && recovery_asked
        && let Some(e) = state.log_leaves_files_behind(&image)
    {
        pending.insert(
            target.clone(),
            Pending {
                state,
                standby: false,
            },
        );
        return fail(sink, terminate(job_messages::chain_refused(line, &e)));
    }
    let result = match (&selected, stmt.options.partial) {
        (Some(ids), true) => state
            .apply_partial(&image, ids)
            .map(|()| Applied::BeforeStop),
        (Some(ids), false) if started.file_restore => {
            state.apply_files(&image, ids).map(|()| Applied::Complete)
        }
        (None, true) => state
            .apply_partial(&image, &[])
            .map(|()| Applied::BeforeStop),
        _ => state.apply_until(&image, stop.as_ref()),
    };
    let mut applied = match result {
        Ok(applied) => applied,
        Err(e) => {
            if image.meta.kind != BackupKind::Full || started.file_restore {
                // A wrong log leaves the restore sequence as it was.
                pending.insert(
                    target.clone(),
                    Pending {
                        state: started.before,
                        standby: false,
                    },
                );
            }
            return fail(sink, terminate(job_messages::chain_refused(line, &e)));
        }
    };
    if stmt.options.partial && stop.is_none() {
        applied = Applied::Complete;
    }
    if image.meta.kind == BackupKind::Full {
        let moves: Vec<(String, String)> = stmt
            .options
            .moves
            .iter()
            .map(|m| (m.logical_name.clone(), m.physical_name.clone()))
            .collect();
        state.relocate(&moves);
    }
    for (file, pages) in super::backup::file_pages(&image) {
        sink.message(messages::processed_pages(line, pages, &name, &file, 1));
    }
    if applied == Applied::BeforeStop {
        sink.message(match stmt.options.stop {
            Some(StopPoint::At(_)) => messages::stop_point_not_reached(line),
            _ => messages::mark_not_reached(line),
        });
    }
    let files_behind = state.has_files_behind();
    if files_behind && recovery_asked {
        sink.message(messages::restore_needs_more_steps(line));
    }
    let stays_restoring = applied == Applied::BeforeStop
        || files_behind
        || matches!(stmt.options.recovery, Some(RecoveryOption::NoRecovery));
    let standby = matches!(stmt.options.recovery, Some(RecoveryOption::Standby(_)));
    if stays_restoring || standby {
        if standby && applied != Applied::BeforeStop {
            // The database is readable between the restores of a STANDBY sequence.
            let copy = state.clone();
            if let Err(errors) = install(ctx, stmt, copy, true) {
                return fail(sink, terminate(errors));
            }
        }
        pending.insert(
            target,
            Pending {
                state,
                standby: standby && applied != Applied::BeforeStop,
            },
        );
    } else {
        drop(pending);
        if let Err(errors) = install(ctx, stmt, state, false) {
            return fail(sink, terminate(errors));
        }
    }
    let bytes = image_bytes(&image);
    if let Err(e) = ctx.record_restore(stmt, &image.meta, bytes) {
        ctx.log(&format!("msdb history not written: {e}"));
    }
    sink.message(messages::successfully_processed(
        line,
        operation,
        bytes / 8192,
        ctx.elapsed(),
    ));
    JobResult::Succeeded
}

/// The restore sequence a backup set goes into.
struct Started {
    state: RestoreState,
    /// The sequence before this restore (kept when the restore fails).
    before: RestoreState,
    /// A file or filegroup restore (no PARTIAL) into an existing sequence or database.
    file_restore: bool,
}

/// Finds or starts the restore sequence: a full backup starts a new one, a file restore needs
/// a database that is restoring (a tail-log backup) or whose files are offline (a piecemeal
/// restore's later steps, 3159 otherwise), a differential or log one in progress (3117, or
/// 3118 when the database does not exist).
fn start_state(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    image: &BackupImage,
    previous: Option<Pending>,
    selected: Option<&[i32]>,
) -> Result<Started, Vec<SqlMessage>> {
    let line = ctx.line();
    let name = stmt.database.clone().unwrap_or_default();
    let file_restore = selected.is_some() && !stmt.options.partial;
    if file_restore {
        let state = match previous {
            Some(p) => p.state,
            None => {
                let db = ctx.snapshot(&name);
                let offline = |db: &Database| {
                    let ids: Vec<i32> = db.offline_files().iter().map(|o| o.file_id).collect();
                    selected.is_some_and(|s| !s.is_empty() && s.iter().all(|id| ids.contains(id)))
                };
                match db {
                    Some(db) if offline(&db) => RestoreState::from_offline_files(db),
                    Some(db) => {
                        return Err(vec![messages::tail_of_log_not_backed_up(line, db.name())]);
                    }
                    None => {
                        return Err(vec![messages::restore_cannot_create_database(line, &name)]);
                    }
                }
            }
        };
        return Ok(Started {
            before: state.clone(),
            state,
            file_restore,
        });
    }
    if image.meta.kind == BackupKind::Full {
        return Ok(Started {
            state: RestoreState::new(),
            before: RestoreState::new(),
            file_restore,
        });
    }
    match previous {
        Some(p) => Ok(Started {
            before: p.state.clone(),
            state: p.state,
            file_restore,
        }),
        None => {
            let m = if ctx.catalog().backup_target(&name).is_some() {
                messages::no_files_ready_to_rollforward(line)
            } else {
                messages::restore_cannot_create_database(line, &name)
            };
            Err(vec![m])
        }
    }
}

/// Bytes the restore processed: 8 KiB for every page, log page and FILESTREAM page.
fn image_bytes(image: &BackupImage) -> u64 {
    super::backup::file_pages(image)
        .iter()
        .map(|(_, p)| p * 8192)
        .sum()
}

/// RESTORE DATABASE|LOG x WITH RECOVERY without FROM: finish a restore sequence.
fn recover_only(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    sink: &mut dyn OutputSink,
    restoring: &Restoring,
) -> JobResult {
    let line = ctx.line();
    let terminate =
        |m: SqlMessage| vec![m, messages::terminating_abnormally(line, stmt.operation())];
    let target = stmt.database.clone().unwrap_or_default();
    let pending = restoring
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&target.to_lowercase());
    match pending {
        Some(pending) => match install(ctx, stmt, pending.state, false) {
            Ok(()) => {
                sink.message(messages::successfully_processed(
                    line,
                    stmt.operation(),
                    0,
                    std::time::Duration::from_millis(1),
                ));
                JobResult::Succeeded
            }
            Err(errors) => fail(sink, errors),
        },
        None if ctx.catalog().backup_target(&target).is_some() => {
            fail(sink, terminate(messages::already_fully_recovered(line)))
        }
        None => fail(
            sink,
            terminate(messages::database_does_not_exist(line, &target)),
        ),
    }
}

/// Recovers the restored database into the catalog, with the options that change its
/// metadata (RESTRICTED_USER, the broker options, MOVE) applied. `standby`: a read-only
/// standby copy of a sequence that goes on.
fn install(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    state: RestoreState,
    standby: bool,
) -> Result<(), Vec<SqlMessage>> {
    let line = ctx.line();
    let mut db: Database = state
        .recover()
        .map_err(|e| job_messages::chain_refused(line, &e))?;
    if let Some(name) = &stmt.database {
        db.set_name(name);
    }
    let name = db.name().to_owned();
    // check_restore_target already decided whether this restore may overwrite its target.
    ctx.install_restored(db, true)
        .map_err(|e| vec![messages::catalog_io_failed(line, &e.to_string())])?;
    let _ = ctx.update_database(&name, |db| {
        if db.has_sql_info() {
            plan::apply_metadata(stmt, db.sql_info_mut(), standby);
        }
    });
    Ok(())
}

fn assemble(stripes: Vec<StripeReader>) -> Result<BackupImage, StreamError> {
    let mut assembler = RestoreAssembler::new();
    for reader in stripes {
        assembler.add(reader.finish()?)?;
    }
    assembler.finish()
}

/// RESTORE … STATS: `n percent processed.` every `step` percent, 100 at the end.
struct Stats {
    step: Option<u32>,
    reported: u32,
    line: u32,
}

impl Stats {
    fn new(step: Option<u8>, line: u32) -> Self {
        Stats {
            step: step.map(u32::from),
            reported: 0,
            line,
        }
    }

    fn report(&mut self, percent: u32, emit: &mut dyn FnMut(SqlMessage)) {
        let Some(step) = self.step else {
            return;
        };
        while self.reported + step <= percent.min(100) {
            self.reported += step;
            emit(messages::percent_processed(self.line, self.reported));
        }
    }

    fn finish(&mut self, emit: &mut dyn FnMut(SqlMessage)) {
        if self.step.is_some() {
            self.report(100, emit);
            if self.reported < 100 {
                self.reported = 100;
                emit(messages::percent_processed(self.line, 100));
            }
        }
    }
}
