//! Reading every device of a RESTORE: Read commands of seeded sizes between BLOCKSIZE and
//! MAXTRANSFERSIZE, the IO-ERROR protocol, and the stripe readers fed in order.

use super::super::faults::{FaultPoint, ReadSize};
use super::super::messages as job_messages;
use super::super::session::{
    DeviceSession, HeadersOnlyEnd, JobOptions, device_error, injected_abort,
};
use crate::engine::jobs::JobContext;
use crate::stream::{StreamError, StripeReader};
use crate::tsql::SqlMessage;
use crate::tsql::messages;
use std::collections::{HashMap, VecDeque};
use vdi_proto::config::MediaMode;
use vdi_proto::{CmdId, SendRequest, VdcCode, win32};

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
/// `progress` gets the bytes of content (pages, log records, FILESTREAM data) read so far and,
/// once a stripe's headers are read, how many the whole backup holds.
pub(super) fn read_all(
    ctx: &JobContext<'_>,
    names: &[String],
    mut session: DeviceSession,
    options: &JobOptions,
    headers_only: bool,
    progress: &mut dyn FnMut(u64, Option<u64>),
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
    let mut expected = None;
    loop {
        if ctx.is_cancelled() {
            let shutting_down = ctx.engine().is_shutting_down();
            return abort(session, vec![job_messages::stopped(line, shutting_down)]);
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
                            super::super::faults::sleep_unless(pause, &|| ctx.is_cancelled());
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
            return abort(session, vec![messages::operation_aborted(line)]);
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
                if expected.is_none() {
                    expected = devices[d].reader.headers().map(|h| expected_bytes(&h.set));
                }
                let content: u64 = devices.iter().map(|d| d.reader.content_bytes()).sum();
                progress(content, expected);
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
        // Decision 59: by default the reads already sent come back and the set ends normally;
        // the abort variant ends it as soon as every header is in.
        if headers_only
            && options.headers_only_end == HeadersOnlyEnd::Abort
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
    if headers_only && options.headers_only_end == HeadersOnlyEnd::Abort {
        session.abort();
    } else if let Err(e) = session.finish(&closed) {
        return Err(vec![device_error(line, &names[0], true, e.code.hresult())]);
    }
    Ok(devices.into_iter().map(|d| d.reader).collect())
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

/// The bytes of content the stripes of a backup hold together: its pages, log records and
/// FILESTREAM data (headers and record overhead aside), for RESTORE … STATS.
fn expected_bytes(set: &crate::stream::format::SetHeader) -> u64 {
    use crate::stream::format::{LOG_ENTRY_LEN, PAGE_ENTRY_LEN};
    (set.page_count * PAGE_ENTRY_LEN as u64
        + set.log_record_count * LOG_ENTRY_LEN as u64
        + set.filestream_bytes)
        .max(1)
}
