//! One command at a time on the single device of a snapshot BACKUP or RESTORE: the metadata
//! is small, so it moves in MAXTRANSFERSIZE pieces with nothing else in flight.

use super::super::session::DeviceSession;
use crate::engine::jobs::JobContext;
use std::time::{Duration, Instant};
use vdi_proto::config::MediaMode;
use vdi_proto::{Completion, SendRequest, VdcCode, win32};

/// Why a command got no completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// The batch was cancelled or the server is shutting down.
    Cancelled,
    /// The client stayed silent for the job's completion patience.
    Silent,
    /// The freeze deadline (`--max-freeze`) passed.
    Deadline,
}

/// How a command ended.
#[derive(Debug)]
pub(super) enum Outcome {
    Done(Completion),
    Stopped(Stop),
}

/// Sends `request` on the set's only device and waits for its completion, at most until
/// `deadline`.
pub(super) fn command(
    ctx: &JobContext<'_>,
    session: &DeviceSession,
    request: SendRequest,
    patience: Duration,
    deadline: Option<Instant>,
) -> Outcome {
    // A refused SendCommand also arrives as a completion (ERROR_IO_DEVICE, aborted …), which
    // the wait below reports like any other.
    let _ = session.set.send_command(session.devices[0], request);
    let started = Instant::now();
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Outcome::Stopped(Stop::Deadline);
        }
        let left = patience.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Outcome::Stopped(Stop::Silent);
        }
        let slice = deadline.map_or(left, |d| left.min(d.saturating_duration_since(now)));
        match session.next_completion_unless(slice.min(Duration::from_millis(200)), &|| {
            ctx.is_cancelled()
        }) {
            Err(()) => return Outcome::Stopped(Stop::Cancelled),
            Ok(Some(done)) => return Outcome::Done(done),
            Ok(None) => {}
        }
    }
}

/// A control command (PrepareToFreeze, Snapshot, MountSnapshot).
pub(super) fn control(
    ctx: &JobContext<'_>,
    session: &DeviceSession,
    code: VdcCode,
    patience: Duration,
    deadline: Option<Instant>,
) -> Outcome {
    command(ctx, session, SendRequest::control(code), patience, deadline)
}

/// Why a transfer failed.
#[derive(Debug)]
pub(super) enum Failed {
    Stopped(Stop),
    /// The client's completion code.
    Code(u32),
    /// A Write completed with fewer bytes than sent: (written, asked).
    Short(u32, u32),
    /// No buffer to transfer through (a bug).
    NoBuffer,
}

/// Writes `data` with VDC_Write commands of at most MAXTRANSFERSIZE bytes each.
pub(super) fn write_all(
    ctx: &JobContext<'_>,
    session: &mut DeviceSession,
    position: &mut u64,
    data: &[u8],
    patience: Duration,
    deadline: Option<Instant>,
) -> Result<(), Failed> {
    let max = (session.config.max_transfer_size as usize).max(512);
    for chunk in data.chunks(max) {
        let buffer = *session.free.first().ok_or(Failed::NoBuffer)?;
        if !session.buffers.write(buffer, chunk) {
            return Err(Failed::NoBuffer);
        }
        let request = SendRequest {
            code: VdcCode::Write,
            size: chunk.len() as u32,
            position: if session.mode == MediaMode::Disk {
                *position
            } else {
                0
            },
            buffer_offset: buffer,
            context: 0,
        };
        match command(ctx, session, request, patience, deadline) {
            Outcome::Stopped(s) => return Err(Failed::Stopped(s)),
            Outcome::Done(done) if done.completion_code != win32::ERROR_SUCCESS => {
                return Err(Failed::Code(done.completion_code));
            }
            Outcome::Done(done) if done.bytes_transferred as usize != chunk.len() => {
                return Err(Failed::Short(done.bytes_transferred, chunk.len() as u32));
            }
            Outcome::Done(_) => *position += chunk.len() as u64,
        }
    }
    Ok(())
}

/// Reads the device to its end (ERROR_HANDLE_EOF, ERROR_NO_DATA_DETECTED,
/// ERROR_FILEMARK_DETECTED or a short read), at most `limit` bytes.
pub(super) fn read_to_end(
    ctx: &JobContext<'_>,
    session: &mut DeviceSession,
    patience: Duration,
    limit: usize,
) -> Result<Vec<u8>, Failed> {
    let size = session.config.max_transfer_size.max(512);
    let buffer = *session.free.first().ok_or(Failed::NoBuffer)?;
    let mut out = Vec::new();
    let mut position = 0u64;
    loop {
        let request = SendRequest {
            code: VdcCode::Read,
            size,
            position: if session.mode == MediaMode::Disk {
                position
            } else {
                0
            },
            buffer_offset: buffer,
            context: 0,
        };
        let done = match command(ctx, session, request, patience, None) {
            Outcome::Stopped(s) => return Err(Failed::Stopped(s)),
            Outcome::Done(done) => done,
        };
        let n = (done.bytes_transferred.min(size)) as usize;
        let end = matches!(
            done.completion_code,
            win32::ERROR_HANDLE_EOF
                | win32::ERROR_NO_DATA_DETECTED
                | win32::ERROR_FILEMARK_DETECTED
        );
        if done.completion_code != win32::ERROR_SUCCESS && !end {
            return Err(Failed::Code(done.completion_code));
        }
        if n > 0 {
            let mut chunk = vec![0u8; n];
            if !session.buffers.read(buffer, &mut chunk) {
                return Err(Failed::NoBuffer);
            }
            out.extend_from_slice(&chunk);
            position += n as u64;
        }
        if end {
            // The end-of-data code put the device in IO-ERROR (vdi-facts §6): ClearError
            // before anything else is sent to it (VDC_MountSnapshot).
            return match control(ctx, session, VdcCode::ClearError, patience, None) {
                Outcome::Done(d) if d.completion_code == win32::ERROR_SUCCESS => Ok(out),
                Outcome::Done(d) => Err(Failed::Code(d.completion_code)),
                Outcome::Stopped(s) => Err(Failed::Stopped(s)),
            };
        }
        if n < size as usize || out.len() > limit {
            return Ok(out);
        }
    }
}
