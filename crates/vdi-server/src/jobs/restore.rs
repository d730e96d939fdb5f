//! RESTORE (and VERIFYONLY, HEADERONLY, FILELISTONLY, LABELONLY) through a virtual device set.
//!
//! Every device is read with Read commands of seeded sizes between BLOCKSIZE and
//! MAXTRANSFERSIZE (multiples of BLOCKSIZE) until the client reports the end of the data; each
//! stripe is parsed and verified as it arrives, the stripes are reassembled by sequence number,
//! and the rebuilt database is checked against the backed-up state before it replaces anything.

use super::faults::{FaultPoint, ReadSize};
use super::messages as job_messages;
use super::session::{DeviceSession, JobOptions, SessionSpec, device_error, injected_abort};
use crate::db::{Database, RestoreState};
use crate::engine::jobs::{JobContext, JobResult, check_restore, check_restore_target, fail};
use crate::engine::sink::OutputSink;
use crate::stream::format::{LOG_ENTRY_LEN, PAGE_ENTRY_LEN};
use crate::stream::{RestoreAssembler, StreamError, StripeHeaders, StripeReader};
use crate::tsql::messages;
use crate::tsql::{RecoveryOption, RestoreKind, RestoreStatement, ResultSet, SqlMessage};
use crate::vdi::link::ServerConnector;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use vdi_proto::config::MediaMode;
use vdi_proto::{CmdId, SendRequest, VdcCode, win32};

/// Databases restored WITH NORECOVERY, waiting for more backups (a differential, logs) or a
/// final RESTORE … WITH RECOVERY.
pub type Restoring = Mutex<HashMap<String, RestoreState>>;

pub(super) fn run(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    sink: &mut dyn OutputSink,
    connector: Arc<dyn ServerConnector>,
    options: &JobOptions,
    restoring: &Restoring,
) -> JobResult {
    let started = std::time::Instant::now();
    let line = ctx.line();
    let operation = stmt.operation();
    let terminate = |mut errors: Vec<SqlMessage>| {
        errors.push(messages::terminating_abnormally(line, operation));
        errors
    };
    if let Err(errors) = check_restore(ctx, stmt) {
        return fail(sink, errors);
    }
    let target = stmt.database.clone().map(|t| t.to_lowercase());
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
            return fail(sink, terminate(vec![super::messages::stopped(line, true)]));
        }
        Err(errors) => return fail(sink, terminate(errors)),
    };
    let headers_only = matches!(
        stmt.kind,
        RestoreKind::HeaderOnly | RestoreKind::FileListOnly | RestoreKind::LabelOnly
    );
    let mut stats = match stmt.options.stats {
        Some(step) if !headers_only => Some(Stats::new(line, u32::from(step.max(1)))),
        _ => None,
    };
    let read = read_all(
        ctx,
        &stmt.devices,
        session,
        options,
        headers_only,
        &mut |readers: &[Device]| {
            if let Some(stats) = &mut stats {
                stats.update(sink, readers);
            }
        },
    );
    if read.is_ok()
        && let Some(stats) = &mut stats
    {
        stats.finish(sink);
    }
    let stripes = match read {
        Ok(s) => s,
        Err(errors) => return fail(sink, terminate(errors)),
    };
    if headers_only {
        let Some(headers) = stripes.into_iter().next().and_then(|r| r.headers()) else {
            return fail(
                sink,
                terminate(vec![messages::not_a_backup_set(line, &stmt.devices[0])]),
            );
        };
        let result_set = header_result_set(stmt.kind, &headers, &stmt.devices);
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
    let files: Vec<(String, u64)> = super::backup::file_pages(&image);
    let total: u64 = files.iter().map(|(_, p)| p).sum();
    let elapsed = started.elapsed();
    if stmt.kind == RestoreKind::VerifyOnly {
        // Reading every record regenerated and compared its content: the set is valid.
        sink.message(messages::backup_set_valid(line, 1));
        return JobResult::Succeeded;
    }
    // A differential or log continuing a NORECOVERY sequence restores into the database being
    // restored; only a restore that starts a sequence may be refused for overwriting.
    let continuing = target.as_ref().is_some_and(|t| {
        restoring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(t)
    });
    if !continuing && let Err(errors) = check_restore_target(ctx, stmt, Some(&image.meta.database))
    {
        return fail(sink, errors);
    }
    let target = target.expect("RESTORE DATABASE/LOG names its database");
    let mut pending = restoring.lock().unwrap_or_else(|p| p.into_inner());
    let mut state = match stmt.kind {
        RestoreKind::Log => match pending.remove(&target) {
            Some(state) => state,
            None => {
                return fail(
                    sink,
                    terminate(vec![messages::no_files_ready_to_rollforward(line)]),
                );
            }
        },
        _ if image.meta.kind != crate::db::BackupKind::Full => match pending.remove(&target) {
            Some(state) => state,
            None => {
                return fail(
                    sink,
                    terminate(vec![messages::no_files_ready_to_rollforward(line)]),
                );
            }
        },
        _ => RestoreState::new(),
    };
    if let Err(e) = state.apply(&image) {
        if stmt.kind != RestoreKind::Database || image.meta.kind != crate::db::BackupKind::Full {
            pending.insert(target.clone(), state); // A wrong log leaves the restore sequence as it was.
        }
        return fail(sink, terminate(vec![job_messages::chain_refused(line, &e)]));
    }
    for (file, pages) in &files {
        sink.message(messages::processed_pages(
            line,
            *pages,
            stmt.database.as_deref().unwrap_or(""),
            file,
            1,
        ));
    }
    if matches!(
        stmt.options.recovery,
        Some(RecoveryOption::NoRecovery | RecoveryOption::Standby(_))
    ) {
        pending.insert(target, state);
    } else {
        drop(pending);
        if let Err(errors) = install(ctx, stmt, state) {
            return fail(sink, terminate(errors));
        }
    }
    if let Err(e) = ctx.record_restore(stmt, &image.meta, elapsed, total * 8192) {
        ctx.log(&format!("msdb history not written: {e}"));
    }
    sink.message(messages::successfully_processed(
        line, operation, total, elapsed,
    ));
    JobResult::Succeeded
}

/// RESTORE DATABASE x WITH RECOVERY without FROM: finish a NORECOVERY sequence.
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
    let state = restoring
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&target.to_lowercase());
    match state {
        Some(state) => match install(ctx, stmt, state) {
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
        None if ctx.catalog().get(&target).is_some() => {
            fail(sink, terminate(messages::already_fully_recovered(line)))
        }
        None => fail(
            sink,
            terminate(messages::database_does_not_exist(line, &target)),
        ),
    }
}

fn install(
    ctx: &JobContext<'_>,
    stmt: &RestoreStatement,
    state: RestoreState,
) -> Result<(), Vec<SqlMessage>> {
    let line = ctx.line();
    let mut db: Database = state
        .recover()
        .map_err(|e| vec![job_messages::chain_refused(line, &e)])?;
    if let Some(name) = &stmt.database {
        db.set_name(name);
    }
    // check_restore_target already decided whether this restore may overwrite its target.
    ctx.install_restored(db, true)
        .map_err(|e| vec![messages::catalog_io_failed(line, &e.to_string())])
}

fn assemble(stripes: Vec<StripeReader>) -> Result<crate::db::BackupImage, StreamError> {
    let mut assembler = RestoreAssembler::new();
    for reader in stripes {
        assembler.add(reader.finish()?)?;
    }
    assembler.finish()
}

struct Device {
    reader: StripeReader,
    /// Next byte to read (the media position in disk mode).
    offset: u64,
    done: bool,
    /// Commands to send before the reads (Rewind on tape, an injected command).
    queue: VecDeque<VdcCode>,
    /// In IO-ERROR after a refused command: nothing but ClearError goes out.
    io_error: bool,
    /// Commands sent whose completion the job has not handled yet. The set's own count can
    /// drop before the completion reaches the job, so ClearError waits for this one.
    pending: u32,
    clear_sent: bool,
    /// Reads that came back unserved behind the error, to send again in order after
    /// ClearError: (offset, size).
    resend: VecDeque<(u64, u32)>,
}

/// A header probe's offset: the probe reads the media header, not the stripe.
const PROBE: u64 = u64::MAX;

struct InFlight {
    buffer: u64,
    offset: u64,
    size: u32,
}

/// Reads every device to the end of its data (or just the headers), feeding each stripe's
/// reader in order. Reads complete in order per device, so the bytes arrive in order.
fn read_all(
    ctx: &JobContext<'_>,
    names: &[String],
    mut session: DeviceSession,
    options: &JobOptions,
    headers_only: bool,
    progress: &mut dyn FnMut(&[Device]),
) -> Result<Vec<StripeReader>, Vec<SqlMessage>> {
    let line = ctx.line();
    let block = session.config.block_size;
    let blocks_per_read = (session.config.max_transfer_size / block).max(1);
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let depth = session.config.max_io_depth.max(1);
    let tape = session.mode == MediaMode::Tape;
    let mut devices: Vec<Device> = (0..session.devices.len())
        .map(|d| Device {
            reader: StripeReader::new(d as u16),
            offset: 0,
            done: false,
            queue: if tape {
                VecDeque::from([VdcCode::Rewind, VdcCode::GetPosition])
            } else {
                VecDeque::new()
            },
            io_error: false,
            pending: 0,
            clear_sent: false,
            resend: VecDeque::new(),
        })
        .collect();
    let mut in_flight: HashMap<CmdId, InFlight> = HashMap::new();
    let mut chunk = vec![0u8; session.config.max_transfer_size as usize];
    let abort = |session: DeviceSession, errors: Vec<SqlMessage>| {
        session.abort();
        Err(errors)
    };
    // Disk mode reads the media header at position 0 first, then reads the stripe from the
    // start again, as SQL Server does during media validation.
    let mut header_probe: Vec<bool> = vec![session.mode == MediaMode::Disk; devices.len()];
    let faults = &options.faults;
    let (mut sent, mut reads_sent, mut completed) = (0u32, 0u32, 0u32);
    let mut reads_done = 0u32;
    let mut injected: Option<VdcCode> = None;
    let mut inject_pending = false;
    let mut closed = vec![false; devices.len()];
    loop {
        if ctx.is_cancelled() {
            let shutting_down = ctx.engine().is_shutting_down();
            return abort(session, vec![super::messages::stopped(line, shutting_down)]);
        }
        for (d, dev) in devices.iter_mut().enumerate() {
            let handle = session.devices[d];
            while !dev.done && !dev.io_error && session.set.outstanding(handle.index) < depth {
                if let Some(code) = dev.queue.pop_front() {
                    match session.set.send_command(handle, SendRequest::control(code)) {
                        Ok(_) => dev.pending += 1,
                        Err(e) if e.code == vdi_proto::VdCode::Abort => dev.done = true,
                        Err(_) => {
                            // IO-ERROR (its completion is on the way): wait for it.
                            dev.queue.push_front(code);
                            dev.io_error = true;
                        }
                    }
                    continue;
                }
                let Some(buffer) = session.free.pop() else {
                    break;
                };
                let probing = header_probe[d];
                let resent = if probing {
                    None
                } else {
                    dev.resend.front().copied()
                };
                let size = if probing {
                    block
                } else if let Some((_, size)) = resent {
                    size
                } else {
                    match faults.read_size {
                        ReadSize::Random => block * rng.u32(1..=blocks_per_read),
                        ReadSize::Block => block,
                        ReadSize::Max => block * blocks_per_read,
                        ReadSize::Blocks(n) => block * n.clamp(1, blocks_per_read),
                    }
                };
                let offset = if probing {
                    PROBE
                } else {
                    resent.map_or(dev.offset, |(offset, _)| offset)
                };
                let position = match session.mode {
                    MediaMode::Disk if probing => 0,
                    MediaMode::Disk => offset,
                    _ => 0,
                };
                let request = SendRequest {
                    code: VdcCode::Read,
                    size,
                    position,
                    buffer_offset: buffer,
                    context: 0,
                };
                match session.set.send_command(handle, request) {
                    Ok(id) => {
                        sent += 1;
                        dev.pending += 1;
                        if let Some((after, pause)) = faults.pause
                            && after == sent
                        {
                            super::faults::sleep_unless(pause, &|| ctx.is_cancelled());
                        }
                        in_flight.insert(
                            id,
                            InFlight {
                                buffer,
                                offset,
                                size,
                            },
                        );
                        if probing {
                            header_probe[d] = false;
                        } else if resent.is_some() {
                            dev.resend.pop_front();
                        } else {
                            dev.offset += u64::from(size);
                            reads_sent += 1;
                            if let Some((after, code)) = faults.inject
                                && after == reads_sent
                                && injected.is_none()
                            {
                                injected = Some(code);
                                inject_pending = true;
                            }
                        }
                    }
                    Err(e) => {
                        session.free.push(buffer);
                        if e.code == vdi_proto::VdCode::Abort {
                            dev.done = true;
                        } else {
                            // IO-ERROR: after the end of the data (the EOF completion will say
                            // so) or after a refused command (ClearError follows).
                            dev.io_error = true;
                        }
                    }
                }
            }
        }
        if inject_pending && let Some(code) = injected {
            // Device 0 gets it next, behind the reads already queued there.
            inject_pending = false;
            devices[0].queue.push_front(code);
            continue;
        }
        let outstanding: u32 = session
            .devices
            .iter()
            .map(|d| session.set.outstanding(d.index))
            .sum();
        if outstanding == 0 && in_flight.is_empty() && devices.iter().all(|d| d.done) {
            break;
        }
        let waited =
            session.next_completion_unless(options.completion_patience, &|| ctx.is_cancelled());
        let Ok(waited) = waited else {
            let shutting_down = ctx.engine().is_shutting_down();
            return abort(session, vec![super::messages::stopped(line, shutting_down)]);
        };
        let Some(done) = waited else {
            return abort(session, vec![device_error(line, &names[0], true, 1460)]);
        };
        let d = done.device.get();
        if done.id.is_some() {
            devices[d].pending = devices[d].pending.saturating_sub(1);
        }
        completed += 1;
        if matches!(faults.abort_at, Some(FaultPoint::AfterCompletions(n)) if n == completed) {
            return abort(session, injected_abort(line, &names[d], true, faults.crash));
        }
        let Some(flight) = done.id.and_then(|id| in_flight.remove(&id)) else {
            // A control command (Rewind, GetPosition, ClearError, an injected one) or a
            // failed send.
            let dev = &mut devices[d];
            match (done.completion_code, done.request.code) {
                (win32::ERROR_SUCCESS, VdcCode::ClearError) => {
                    dev.io_error = false;
                    dev.clear_sent = false;
                }
                (win32::ERROR_SUCCESS, _) => {}
                // The client refused the injected command: IO-ERROR, then ClearError.
                (_, code) if done.id.is_some() && injected == Some(code) => dev.io_error = true,
                // Queued behind the error and never delivered: send it again after ClearError.
                (win32::ERROR_IO_DEVICE, code) if dev.io_error && done.id.is_some() => {
                    dev.queue.push_front(code);
                }
                (_, VdcCode::Rewind | VdcCode::GetPosition) if done.id.is_some() => {
                    return abort(
                        session,
                        vec![device_error(line, &names[d], true, done.completion_code)],
                    );
                }
                _ => {}
            }
            clear_errors(&mut session, &mut devices);
            continue;
        };
        session.free.push(flight.buffer);
        let code = done.completion_code;
        let end_of_data = win32::is_end_of_data(code);
        if code == win32::ERROR_SUCCESS || end_of_data {
            let n = done.bytes_transferred as usize;
            // Check the bytes where the client wrote them (zero-copy) when the area is mapped.
            let buffers = session.buffers.clone();
            let lease = buffers.lease(flight.buffer, n as u64);
            if lease.is_none() && !session.buffers.read(flight.buffer, &mut chunk[..n]) {
                return abort(
                    session,
                    vec![job_messages::internal(
                        line,
                        "buffer outside the shared area",
                    )],
                );
            }
            let mut data: &[u8] = lease.as_deref().unwrap_or(&chunk[..n]);
            reads_done += 1;
            if faults.corrupt_read == Some(reads_done) && n > 0 {
                // Damaged media: the bytes the server checks differ from what was written.
                let mut damaged = data.to_vec();
                damaged[n / 2] ^= 0x20;
                chunk[..n].copy_from_slice(&damaged);
                data = &chunk[..n];
            }
            if flight.offset == u64::MAX {
                // The header probe: check the media is ours before reading it all.
                if let Err(e) = crate::stream::read_headers(data)
                    .map(|_| ())
                    .or_else(|e| match e {
                        StreamError::Truncated { .. } => Ok(()),
                        e => Err(e),
                    })
                {
                    return abort(session, job_messages::stream_damage(line, names, &e));
                }
            } else if let Err(e) = devices[d].reader.feed(data) {
                return abort(session, job_messages::stream_damage(line, names, &e));
            } else {
                progress(&devices);
            }
            if headers_only && devices[d].reader.headers().is_some() {
                devices[d].done = true;
            }
        }
        match code {
            win32::ERROR_SUCCESS => {}
            _ if end_of_data => {
                devices[d].done = true;
                // The early-CloseDevice fault: close now, with the reads queued behind the
                // end of the data still outstanding.
                if faults.close_devices_early
                    && session.set.close_device(session.devices[d]).is_ok()
                {
                    closed[d] = true;
                }
            }
            // Reads queued behind the end of the data come back unserved.
            win32::ERROR_IO_DEVICE if devices[d].done => {}
            // Reads queued behind a refused command: send them again, in order, after
            // ClearError.
            win32::ERROR_IO_DEVICE if devices[d].io_error => {
                if flight.offset == PROBE {
                    header_probe[d] = true;
                } else {
                    devices[d].resend.push_back((flight.offset, flight.size));
                }
            }
            code => return abort(session, vec![device_error(line, &names[d], true, code)]),
        }
        clear_errors(&mut session, &mut devices);
        if headers_only
            && devices
                .iter()
                .all(|dev| dev.done || dev.reader.headers().is_some())
        {
            break;
        }
    }
    if faults.abort_at == Some(FaultPoint::AfterFinal) {
        return abort(session, injected_abort(line, &names[0], true, faults.crash));
    }
    if headers_only {
        session.abort();
    } else if let Err(e) = session.finish(&closed) {
        return Err(vec![device_error(line, &names[0], true, e.code.hresult())]);
    }
    Ok(devices.into_iter().map(|d| d.reader).collect())
}

/// RESTORE … WITH STATS = n: "N percent processed." every n percent of the backup's content
/// (pages, log records, FILESTREAM bytes, from the backup-set header) as it is read.
struct Stats {
    line: u32,
    step: u32,
    reported: u32,
}

impl Stats {
    fn new(line: u32, step: u32) -> Stats {
        Stats {
            line,
            step,
            reported: 0,
        }
    }

    fn update(&mut self, sink: &mut dyn OutputSink, devices: &[Device]) {
        let Some(set) = devices
            .iter()
            .find_map(|d| d.reader.headers())
            .map(|h| h.set)
        else {
            return;
        };
        let total = set.page_count * PAGE_ENTRY_LEN as u64
            + set.log_record_count * LOG_ENTRY_LEN as u64
            + set.filestream_bytes;
        let done: u64 = devices.iter().map(|d| d.reader.content_bytes()).sum();
        // 100 is said once everything has been read.
        let percent = done
            .saturating_mul(100)
            .checked_div(total)
            .map_or(0, |p| p.min(99) as u32);
        self.report_up_to(sink, percent);
    }

    fn finish(&mut self, sink: &mut dyn OutputSink) {
        self.report_up_to(sink, 100);
        if self.reported < 100 {
            self.reported = 100;
            sink.message(messages::percent_processed(self.line, 100));
        }
    }

    fn report_up_to(&mut self, sink: &mut dyn OutputSink, percent: u32) {
        while self.reported + self.step <= percent {
            self.reported += self.step;
            sink.message(messages::percent_processed(self.line, self.reported));
        }
    }
}

/// Sends ClearError to each device in IO-ERROR (and not at the end of its data) once nothing
/// is outstanding on it.
fn clear_errors(session: &mut DeviceSession, devices: &mut [Device]) {
    for (dev, handle) in devices.iter_mut().zip(&session.devices) {
        if dev.io_error
            && !dev.done
            && !dev.clear_sent
            && dev.pending == 0
            && session
                .set
                .send_command(*handle, SendRequest::control(VdcCode::ClearError))
                .is_ok()
        {
            dev.clear_sent = true;
            dev.pending += 1;
        }
    }
}

/// The result set of HEADERONLY, FILELISTONLY or LABELONLY from the first stripe's headers.
fn header_result_set(kind: RestoreKind, h: &StripeHeaders, devices: &[String]) -> ResultSet {
    let set = &h.set;
    match kind {
        RestoreKind::FileListOnly => {
            let mut rs = ResultSet::with_text_columns(&[
                "LogicalName",
                "PhysicalName",
                "Type",
                "FileGroupName",
                "Size",
                "FileId",
            ]);
            for f in &set.files {
                let ty = match f.kind {
                    crate::db::FileKind::Data => "D",
                    crate::db::FileKind::Log => "L",
                    crate::db::FileKind::Filestream => "S",
                };
                let group = if ty == "L" { "NULL" } else { "PRIMARY" };
                rs.push_text_row(vec![
                    f.logical_name.clone(),
                    f.physical_name.clone(),
                    ty.into(),
                    group.into(),
                    f.size_bytes.to_string(),
                    (f.index + 1).to_string(),
                ]);
            }
            rs
        }
        RestoreKind::LabelOnly => {
            let mut rs = ResultSet::with_text_columns(&[
                "MediaName",
                "MediaSetId",
                "FamilyCount",
                "FamilySequenceNumber",
                "BlockSize",
            ]);
            let id: String = h
                .media
                .media_set_id
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect();
            rs.push_text_row(vec![
                "NULL".into(),
                id,
                h.media.family_count.to_string(),
                (h.media.family_index + 1).to_string(),
                h.media.block_size.to_string(),
            ]);
            rs
        }
        _ => {
            let mut rs = ResultSet::with_text_columns(&[
                "BackupName",
                "BackupDescription",
                "BackupType",
                "DatabaseName",
                "FirstLSN",
                "LastLSN",
                "CheckpointLSN",
                "DatabaseBackupLSN",
                "BackupSize",
                "DeviceCount",
            ]);
            let ty = match set.kind {
                crate::db::BackupKind::Full => 1,
                crate::db::BackupKind::Log => 2,
                crate::db::BackupKind::Differential => 5,
            };
            let null_if_empty = |s: &str| {
                if s.is_empty() {
                    "NULL".to_string()
                } else {
                    s.to_string()
                }
            };
            rs.push_text_row(vec![
                null_if_empty(&set.backup_name),
                null_if_empty(&set.description),
                ty.to_string(),
                set.database.clone(),
                set.first_lsn.to_string(),
                set.last_lsn.to_string(),
                set.checkpoint_lsn.to_string(),
                set.differential_base_lsn.to_string(),
                (set.page_count * 8192).to_string(),
                devices.len().to_string(),
            ]);
            rs
        }
    }
}
