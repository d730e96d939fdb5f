//! BACKUP through a virtual device set: what SQL Server drives over the devices.
//!
//! Per device: the stripe header, data transfers taken dynamically from one producer by
//! whichever device has room (at most maxIODepth outstanding each), a Flush on every device
//! after each FILESTREAM container, the stripe trailer, a filemark on tape, then VDC_Complete
//! when negotiated (else the final Flush), and CloseDevice. Error completions follow the
//! IO-ERROR protocol of vdi-facts §6.

use super::faults::FaultPoint;
use super::messages as job_messages;
use super::session::{
    DeviceSession, JobOptions, SessionSpec, device_error, injected_abort, is_media_full,
};
use crate::db::{self, BackupImage};
use crate::engine::jobs::{JobContext, JobResult, check_backup, fail};
use crate::engine::sink::OutputSink;
use crate::stream::{BackupOptions, BackupProducer};
use crate::tsql::messages;
use crate::tsql::{BackupKind, BackupStatement, SqlMessage};
use crate::vdi::link::ServerConnector;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use vdi_proto::config::MediaMode;
use vdi_proto::{CmdId, SendRequest, VdcCode, win32};

/// A command still to send on one device, in order.
#[derive(Clone, Copy, Debug)]
enum Next {
    /// Bytes already in a buffer (a transfer, or one given back by IO-ERROR to resend).
    Write {
        buffer: u64,
        len: u32,
        /// Position in the device's stream of writes: a write given back by IO-ERROR goes out
        /// again before every later one.
        order: u64,
    },
    Control(VdcCode),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Header,
    Data,
    Trailer,
    Mark,
    Final,
    Sent,
}

struct Device {
    phase: Phase,
    queue: VecDeque<Next>,
    /// Byte position on the media (disk mode).
    position: u64,
    /// In IO-ERROR: ClearError goes out once nothing is outstanding.
    io_error: bool,
    clear_sent: bool,
    /// The next write's `order`.
    next_order: u64,
}

struct InFlight {
    buffer: u64,
    len: u32,
    order: u64,
}

/// The harness's extra mid-stream Flushes: progress percentages still to pass.
struct FlushPlan {
    thresholds: VecDeque<u32>,
}

impl FlushPlan {
    fn new(flushes: u32) -> FlushPlan {
        FlushPlan {
            thresholds: (1..=flushes).map(|k| k * 100 / (flushes + 1)).collect(),
        }
    }
}

pub(super) fn run(
    ctx: &JobContext<'_>,
    stmt: &BackupStatement,
    sink: &mut dyn OutputSink,
    connector: Arc<dyn ServerConnector>,
    options: &JobOptions,
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
    let _guard = match ctx.serialize_operation(&stmt.database) {
        Ok(g) => g,
        Err(m) => return fail(sink, terminate(vec![m])),
    };
    let kind = match (stmt.kind, stmt.options.differential) {
        (BackupKind::Log, _) => db::BackupKind::Log,
        (BackupKind::Database, true) => db::BackupKind::Differential,
        (BackupKind::Database, false) => db::BackupKind::Full,
    };
    let image = match ctx.update_database(&stmt.database, |d| d.prepare_backup(kind)) {
        Ok(Ok(image)) => image,
        Ok(Err(e)) => {
            return fail(
                sink,
                terminate(vec![job_messages::backup_refused(line, &e)]),
            );
        }
        Err(e) => {
            return fail(
                sink,
                terminate(vec![messages::catalog_io_failed(line, &e.to_string())]),
            );
        }
    };
    let spec =
        SessionSpec::from_statement(line, &stmt.devices, &stmt.options.transfer, false, options);
    let session = match DeviceSession::open(connector, options, &spec, &|| ctx.is_cancelled()) {
        Ok(s) => s,
        Err(errors) => return fail(sink, terminate(errors)),
    };
    ctx.log(&format!(
        "{:?} of {} to {} device(s), block {}, transfer {}, {} buffers, {:?} mode",
        operation,
        stmt.database,
        stmt.devices.len(),
        spec.block_size,
        spec.max_transfer,
        spec.buffer_count,
        session.mode
    ));
    let producer_options = BackupOptions {
        block_size: spec.block_size,
        max_transfer: spec.max_transfer,
        devices: stmt.devices.len() as u16,
        compression: stmt.options.compression.unwrap_or(false) || options.faults.force_compression,
        checksum: stmt.options.checksum.unwrap_or(false) || options.faults.force_checksum,
        seed: options.seed ^ image.meta.state_hash,
        backup_name: stmt.options.name.clone().unwrap_or_default(),
        description: stmt.options.description.clone().unwrap_or_default(),
    };
    let meta = image.meta.clone();
    let files = file_pages(&image);
    let producer = match BackupProducer::new(image, producer_options) {
        Ok(p) => p,
        Err(e) => {
            session.abort();
            return fail(
                sink,
                terminate(vec![job_messages::internal(line, &e.to_string())]),
            );
        }
    };
    let elapsed = match stream(ctx, stmt, sink, session, producer, options) {
        Ok(elapsed) => elapsed,
        Err(errors) => return fail(sink, terminate(errors)),
    };
    if let Err(e) = ctx.update_database(&stmt.database, |d| d.commit_backup(&meta)) {
        return fail(
            sink,
            terminate(vec![messages::catalog_io_failed(line, &e.to_string())]),
        );
    }
    for (file, pages) in &files {
        sink.message(messages::processed_pages(
            line,
            *pages,
            &meta.database,
            file,
            1,
        ));
    }
    let total: u64 = files.iter().map(|(_, p)| p).sum();
    sink.message(messages::successfully_processed(
        line, operation, total, elapsed,
    ));
    ctx.log(&format!(
        "{operation:?} of {} succeeded: {total} pages in {elapsed:?}",
        stmt.database
    ));
    JobResult::Succeeded
}

/// Pages per file of the backup, for the 4035 lines (FILESTREAM bytes count in 8 KiB pages).
pub(super) fn file_pages(image: &BackupImage) -> Vec<(String, u64)> {
    let log_pages = (image.log.len() * crate::stream::format::LOG_ENTRY_LEN) as u64;
    let log_pages = log_pages.div_ceil(8192);
    let mut fs = image
        .filestream
        .iter()
        .map(|c| c.size_bytes().div_ceil(8192));
    image
        .meta
        .files
        .iter()
        .filter_map(|f| {
            let pages = match f.kind {
                db::FileKind::Data if image.meta.kind != db::BackupKind::Log => {
                    image.pages.len() as u64
                }
                db::FileKind::Data => return None,
                db::FileKind::Log => log_pages.max(1),
                db::FileKind::Filestream => fs.next().unwrap_or(0),
            };
            Some((f.logical_name.clone(), pages))
        })
        .collect()
}

/// Drives every device until the whole backup is stored; `Err` holds the messages to report
/// (the set has been aborted then).
fn stream(
    ctx: &JobContext<'_>,
    stmt: &BackupStatement,
    sink: &mut dyn OutputSink,
    mut session: DeviceSession,
    mut producer: BackupProducer,
    options: &JobOptions,
) -> Result<std::time::Duration, Vec<SqlMessage>> {
    let line = ctx.line();
    let depth = session.config.max_io_depth.max(1);
    let max_transfer = session.config.max_transfer_size as usize;
    let mut scratch = vec![0u8; max_transfer.max(producer.header_len())];
    let mut devices: Vec<Device> = (0..session.devices.len())
        .map(|_| Device {
            phase: Phase::Header,
            // On tape, SQL Server asks where the medium stands before it writes (MTF needs
            // physical block addresses; vdi-facts §6 VDC_GetPosition).
            queue: if session.mode == MediaMode::Tape {
                VecDeque::from([Next::Control(VdcCode::GetPosition)])
            } else {
                VecDeque::new()
            },
            position: 0,
            io_error: false,
            clear_sent: false,
            next_order: 0,
        })
        .collect();
    let mut in_flight: HashMap<CmdId, InFlight> = HashMap::new();
    let stats = stmt.options.stats.map(u32::from);
    let mut reported_percent = 0;
    let faults = &options.faults;
    let mut plan = FlushPlan::new(faults.mid_stream_flushes);
    let (mut sent, mut data_sent, mut completed) = (0u32, 0u32, 0u32);
    let mut injected: Option<VdcCode> = None;
    let mut closed = vec![false; devices.len()];
    let final_code = if session.complete_enabled(faults) {
        VdcCode::Complete
    } else {
        VdcCode::Flush
    };
    let fail_with = |session: DeviceSession, errors: Vec<SqlMessage>| {
        session.abort();
        Err(errors)
    };

    loop {
        if ctx.is_cancelled() {
            return fail_with(session, vec![messages::operation_aborted(line)]);
        }
        // Send as much as every device can take.
        for d in 0..devices.len() {
            let dev_handle = session.devices[d];
            while session.set.outstanding(dev_handle.index) < depth {
                let Some(next) = next_command(
                    d,
                    &mut devices,
                    &mut session,
                    &mut producer,
                    &mut scratch,
                    final_code,
                    &mut plan,
                )?
                else {
                    break;
                };
                if faults.abort_at == Some(FaultPoint::BeforeFinal)
                    && matches!(next, Next::Control(c) if c == final_code)
                {
                    return fail_with(
                        session,
                        injected_abort(line, &stmt.devices[d], false, faults.crash),
                    );
                }
                let dev = &mut devices[d];
                let request = match next {
                    Next::Write { buffer, len, .. } => {
                        let position = if session.mode == MediaMode::Disk {
                            dev.position
                        } else {
                            0
                        };
                        SendRequest {
                            code: VdcCode::Write,
                            size: len,
                            position,
                            buffer_offset: buffer,
                            context: 0,
                        }
                    }
                    Next::Control(code) => SendRequest::control(code),
                };
                match session.set.send_command(dev_handle, request) {
                    Ok(id) => {
                        sent += 1;
                        if faults.abort_at == Some(FaultPoint::FlushSent)
                            && matches!(next, Next::Control(VdcCode::Flush))
                        {
                            return fail_with(
                                session,
                                injected_abort(line, &stmt.devices[d], false, faults.crash),
                            );
                        }
                        if let Next::Write { buffer, len, order } = next {
                            dev.position += u64::from(len);
                            in_flight.insert(id, InFlight { buffer, len, order });
                            data_sent += 1;
                            if let Some((after, code)) = faults.inject
                                && after == data_sent
                                && injected.is_none()
                            {
                                injected = Some(code);
                                devices[0].queue.push_front(Next::Control(code));
                            }
                        }
                        if let Some((after, pause)) = faults.pause
                            && after == sent
                        {
                            super::faults::sleep_unless(pause, &|| ctx.is_cancelled());
                        }
                        let dev = &devices[d];
                        if faults.close_devices_early
                            && dev.phase == Phase::Sent
                            && dev.queue.is_empty()
                            && !closed[d]
                            && session.set.close_device(dev_handle).is_ok()
                        {
                            closed[d] = true;
                        }
                    }
                    Err(e) => {
                        // The failure also arrives as a completion; put the command back first
                        // so that nothing is lost if the device recovers with ClearError.
                        dev.queue.push_front(next);
                        if e.code == vdi_proto::VdCode::Abort {
                            return fail_with(
                                session,
                                vec![device_error(
                                    line,
                                    &stmt.devices[d],
                                    false,
                                    win32::ERROR_OPERATION_ABORTED,
                                )],
                            );
                        }
                        break;
                    }
                }
            }
        }
        let outstanding: u32 = session
            .devices
            .iter()
            .map(|d| session.set.outstanding(d.index))
            .sum();
        if outstanding == 0
            && in_flight.is_empty()
            && devices
                .iter()
                .all(|d| d.phase == Phase::Sent && d.queue.is_empty())
        {
            break;
        }
        let waited =
            session.next_completion_unless(options.completion_patience, &|| ctx.is_cancelled());
        let Ok(waited) = waited else {
            return fail_with(session, vec![messages::operation_aborted(line)]);
        };
        let Some(done) = waited else {
            return fail_with(
                session,
                vec![device_error(line, &stmt.devices[0], false, 1460)],
            );
        };
        let d = done.device.get();
        let flight = done.id.and_then(|id| in_flight.remove(&id));
        completed += 1;
        if faults.abort_at == Some(FaultPoint::AfterCompletions(completed)) {
            return fail_with(
                session,
                injected_abort(line, &stmt.devices[d], false, faults.crash),
            );
        }
        match done.completion_code {
            win32::ERROR_IO_DEVICE if done.id.is_none() => {
                // SendCommand refused by a device in IO-ERROR (its error completion may still
                // be on the way): the send path already put the command back in the queue.
                devices[d].io_error = true;
            }
            code if code != win32::ERROR_SUCCESS
                && flight.is_none()
                && injected == Some(done.request.code) =>
            {
                // The client refused the injected command: IO-ERROR, then ClearError.
                devices[d].io_error = true;
            }
            win32::ERROR_SUCCESS => {
                if let Some(f) = &flight {
                    if done.bytes_transferred != f.len {
                        let msg = job_messages::short_write(
                            line,
                            &stmt.devices[d],
                            done.bytes_transferred,
                            f.len,
                        );
                        return fail_with(session, vec![msg]);
                    }
                    session.free.push(f.buffer);
                }
                if done.request.code == VdcCode::ClearError {
                    devices[d].io_error = false;
                    devices[d].clear_sent = false;
                }
            }
            win32::ERROR_END_OF_MEDIA if session.removable() && flight.is_some() => {
                // The end-of-media warning zone: what was written is kept, the rest is sent
                // again after ClearError (vdi-facts §6).
                let f = flight.expect("checked");
                let dev = &mut devices[d];
                dev.io_error = true;
                if done.bytes_transferred < f.len {
                    dev.position -= u64::from(f.len - done.bytes_transferred);
                    dev.queue.push_front(Next::Write {
                        buffer: f.buffer + u64::from(done.bytes_transferred),
                        len: f.len - done.bytes_transferred,
                        order: f.order,
                    });
                } else {
                    session.free.push(f.buffer);
                }
            }
            win32::ERROR_IO_DEVICE if devices[d].io_error => {
                // Queued behind the error and never delivered: send it again after ClearError.
                if let Some(f) = flight {
                    devices[d].position -= u64::from(f.len);
                    insert_resend(&mut devices[d].queue, f.buffer, f.len, f.order);
                } else {
                    devices[d]
                        .queue
                        .push_front(Next::Control(done.request.code));
                }
            }
            code if is_media_full(code) => {
                return fail_with(
                    session,
                    vec![device_error(line, &stmt.devices[d], false, code)],
                );
            }
            code => {
                return fail_with(
                    session,
                    vec![device_error(line, &stmt.devices[d], false, code)],
                );
            }
        }
        // ClearError once everything outstanding at the error came back.
        for (i, dev) in devices.iter_mut().enumerate() {
            let handle = session.devices[i];
            if dev.io_error
                && !dev.clear_sent
                && session.set.outstanding(handle.index) == 0
                && session
                    .set
                    .send_command(handle, SendRequest::control(VdcCode::ClearError))
                    .is_ok()
            {
                dev.clear_sent = true;
            }
        }
        if let Some(step) = stats {
            let percent = producer.progress().percent();
            while reported_percent + step <= percent.min(100) {
                reported_percent += step;
                sink.message(messages::percent_processed(line, reported_percent));
            }
        }
    }
    if faults.abort_at == Some(FaultPoint::AfterFinal) {
        return fail_with(
            session,
            injected_abort(line, &stmt.devices[0], false, faults.crash),
        );
    }
    let elapsed = session.elapsed();
    session.finish(&closed).map_err(|e| {
        vec![device_error(
            line,
            &stmt.devices[0],
            false,
            e.code.hresult(),
        )]
    })?;
    if stats.is_some() && reported_percent < 100 {
        sink.message(messages::percent_processed(line, 100));
    }
    Ok(elapsed)
}

/// Puts a write given back by IO-ERROR into the device's queue in stream order: before any
/// later write (one whose SendCommand was refused may already be back in the queue) and before
/// everything else not yet sent.
fn insert_resend(queue: &mut VecDeque<Next>, buffer: u64, len: u32, order: u64) {
    let at = queue
        .iter()
        .position(|n| !matches!(n, Next::Write { order: o, .. } if *o < order))
        .unwrap_or(queue.len());
    queue.insert(at, Next::Write { buffer, len, order });
}

/// The next command for device `d`, generating data into a free buffer when needed.
fn next_command(
    d: usize,
    devices: &mut [Device],
    session: &mut DeviceSession,
    producer: &mut BackupProducer,
    scratch: &mut [u8],
    final_code: VdcCode,
    plan: &mut FlushPlan,
) -> Result<Option<Next>, Vec<SqlMessage>> {
    if devices[d].io_error {
        return Ok(None); // Only ClearError may go out now.
    }
    if let Some(next) = devices[d].queue.pop_front() {
        return Ok(Some(next));
    }
    let stripe = d as u16;
    let internal = |e: crate::stream::ProduceError| vec![job_messages::internal(0, &e.to_string())];
    loop {
        match devices[d].phase {
            Phase::Header => {
                // The headers take one block each; with a large BLOCKSIZE they may exceed
                // MAXTRANSFERSIZE and go out as several Writes.
                let max = session.config.max_transfer_size as usize;
                let chunks = producer.header_len().div_ceil(max);
                if session.free.len() < chunks {
                    return Ok(None);
                }
                let len = producer.stripe_header(stripe, scratch).map_err(internal)?;
                devices[d].phase = Phase::Data;
                let mut writes = Vec::with_capacity(chunks);
                for chunk in scratch[..len].chunks(max) {
                    let buffer = session.free.pop().expect("counted above");
                    if !session.buffers.write(buffer, chunk) {
                        return Err(vec![job_messages::internal(
                            0,
                            "buffer outside the shared area",
                        )]);
                    }
                    writes.push(Next::Write {
                        buffer,
                        len: chunk.len() as u32,
                        order: devices[d].next_order,
                    });
                    devices[d].next_order += 1;
                }
                let first = writes.remove(0);
                for (i, w) in writes.into_iter().enumerate() {
                    devices[d].queue.insert(i, w);
                }
                return Ok(Some(first));
            }
            Phase::Data | Phase::Trailer => {
                let Some(buffer) = session.free.pop() else {
                    return Ok(None);
                };
                // Produce straight into the shared buffer (zero-copy); into scratch, then copy,
                // only when the transport has no mapped region.
                let buffers = session.buffers.clone();
                let mut lease = buffers.lease(buffer, u64::from(session.config.max_transfer_size));
                let target: &mut [u8] = match lease.as_deref_mut() {
                    Some(shared) => shared,
                    None => &mut *scratch,
                };
                let len = match devices[d].phase {
                    Phase::Data => match producer.fill_next(stripe, target).map_err(internal)? {
                        Some(t) => {
                            if t.flush_after {
                                for dev in devices.iter_mut() {
                                    dev.queue.push_back(Next::Control(VdcCode::Flush));
                                }
                            }
                            let percent = producer.progress().percent();
                            while plan.thresholds.front().is_some_and(|&p| percent >= p) {
                                plan.thresholds.pop_front();
                                for dev in devices.iter_mut() {
                                    dev.queue.push_back(Next::Control(VdcCode::Flush));
                                }
                            }
                            t.len
                        }
                        None => {
                            session.free.push(buffer);
                            devices[d].phase = Phase::Trailer;
                            continue;
                        }
                    },
                    _ => {
                        devices[d].phase = if session.mode == MediaMode::Tape {
                            Phase::Mark
                        } else {
                            Phase::Final
                        };
                        producer.stripe_trailer(stripe, target).map_err(internal)?
                    }
                };
                if lease.is_none() && !session.buffers.write(buffer, &scratch[..len]) {
                    return Err(vec![job_messages::internal(
                        0,
                        "buffer outside the shared area",
                    )]);
                }
                let order = devices[d].next_order;
                devices[d].next_order += 1;
                return Ok(Some(Next::Write {
                    buffer,
                    len: len as u32,
                    order,
                }));
            }
            Phase::Mark => {
                devices[d].phase = Phase::Final;
                return Ok(Some(Next::Control(VdcCode::WriteMark)));
            }
            Phase::Final => {
                devices[d].phase = Phase::Sent;
                return Ok(Some(Next::Control(final_code)));
            }
            Phase::Sent => return Ok(None),
        }
    }
}
