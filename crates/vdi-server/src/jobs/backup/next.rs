//! What a BACKUP sends next on each device: the per-device plan (header, data, trailer, filemark,
//! end of stream), the Flushes queued between, and writes given back by IO-ERROR.

use crate::jobs::messages as job_messages;
use crate::jobs::session::DeviceSession;
use crate::stream::BackupProducer;
use crate::tsql::SqlMessage;
use std::collections::VecDeque;
use vdi_proto::VdcCode;
use vdi_proto::config::MediaMode;

/// A command still to send on one device, in order.
#[derive(Clone, Copy, Debug)]
pub(super) enum Next {
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
pub(super) enum Phase {
    Header,
    Data,
    Trailer,
    Mark,
    Final,
    Sent,
}

pub(super) struct Device {
    pub(super) phase: Phase,
    pub(super) queue: VecDeque<Next>,
    /// Byte position on the media (disk mode).
    pub(super) position: u64,
    /// In IO-ERROR: ClearError goes out once nothing is outstanding.
    pub(super) io_error: bool,
    pub(super) clear_sent: bool,
    /// The next write's `order`.
    pub(super) next_order: u64,
}

/// The harness's extra mid-stream Flushes: progress percentages still to pass.
pub(super) struct FlushPlan {
    thresholds: VecDeque<u32>,
}

impl FlushPlan {
    pub(super) fn new(flushes: u32) -> FlushPlan {
        FlushPlan {
            thresholds: (1..=flushes).map(|k| k * 100 / (flushes + 1)).collect(),
        }
    }
}

/// The commands that end every device's stream (decision 43): the final Flush, then
/// VDC_Complete when it was negotiated, as SQL Server ends a backup. The harness's
/// `complete_without_final_flush` drops the Flush; without VDC_Complete the Flush is the end.
pub(super) fn end_of_stream(complete: bool, faults: &crate::jobs::JobFaults) -> &'static [VdcCode] {
    match (complete, faults.complete_without_final_flush) {
        (true, false) => &[VdcCode::Flush, VdcCode::Complete],
        (true, true) => &[VdcCode::Complete],
        (false, _) => &[VdcCode::Flush],
    }
}

/// A Flush on every device (after a FILESTREAM container, or the harness's extra ones), except
/// on a device whose end of stream has begun: nothing may follow its VDC_Complete, and its
/// final Flush covers everything written.
fn queue_mid_stream_flush(devices: &mut [Device]) {
    for dev in devices.iter_mut().filter(|d| d.phase != Phase::Sent) {
        dev.queue.push_back(Next::Control(VdcCode::Flush));
    }
}

/// Puts a write given back by IO-ERROR into the device's queue in stream order: before any
/// later write (one whose SendCommand was refused may already be back in the queue) and before
/// everything else not yet sent.
pub(super) fn insert_resend(queue: &mut VecDeque<Next>, buffer: u64, len: u32, order: u64) {
    let at = queue
        .iter()
        .position(|n| !matches!(n, Next::Write { order: o, .. } if *o < order))
        .unwrap_or(queue.len());
    queue.insert(at, Next::Write { buffer, len, order });
}

/// The next command for device `d`, generating data into a free buffer when needed.
pub(super) fn next_command(
    d: usize,
    devices: &mut [Device],
    session: &mut DeviceSession,
    producer: &mut BackupProducer,
    scratch: &mut [u8],
    end: &[VdcCode],
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
                                queue_mid_stream_flush(devices);
                            }
                            let percent = producer.progress().percent();
                            while plan.thresholds.front().is_some_and(|&p| percent >= p) {
                                plan.thresholds.pop_front();
                                queue_mid_stream_flush(devices);
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
                let (first, rest) = end.split_first().expect("the end has a command");
                let queue = &mut devices[d].queue;
                queue.extend(rest.iter().map(|&code| Next::Control(code)));
                return Ok(Some(Next::Control(*first)));
            }
            Phase::Sent => return Ok(None),
        }
    }
}
