//! Opening and configuring the client's virtual device set the way SQL Server does, and the
//! per-device command bookkeeping both BACKUP and RESTORE share.

use super::faults::{self, Crash, FaultPoint, JobFaults, JobTrace};
use crate::tsql::SqlMessage;
use crate::tsql::messages;
use crate::vdi::link::{ServerBuffers, ServerConnector};
use crate::vdi::{ServerVirtualDevice, ServerVirtualDeviceSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vdi_proto::config::{MediaMode, media_mode};
use vdi_proto::{Completion, ServerOptions, VdCode, VdConfig, VdError, vdf, win32};

/// Knobs of the job runner (documented in docs/engine.md).
#[derive(Clone, Debug)]
pub struct JobOptions {
    /// How long BACKUP/RESTORE waits for the client to create its set (then Msg 3201).
    pub open_timeout: Duration,
    /// How long the job waits for any one completion before it gives up on the client
    /// (besides the client's own serverTimeOut watchdog).
    pub completion_patience: Duration,
    /// MAXTRANSFERSIZE when the statement gives none.
    pub default_max_transfer: u32,
    /// BLOCKSIZE when the statement gives none.
    pub default_block_size: u32,
    /// Seed of the restore's read sizes and of media set ids.
    pub seed: u64,
    /// Limits of the server-side set.
    pub server: ServerOptions,
    /// Scenario faults for the conformance harness (none by default).
    pub faults: JobFaults,
    /// Where to record what crossed the link (the harness's transcript); none by default.
    pub trace: Option<Arc<JobTrace>>,
    /// How RESTORE HEADERONLY, FILELISTONLY and LABELONLY end the device set once they have
    /// the headers (decision 59).
    pub headers_only_end: HeadersOnlyEnd,
    /// Where frozen databases are presented for snapshots and mounted snapshots are found
    /// (docs/snapshots.md); `volumes/` beside the daemon's socket by default.
    pub volumes: std::path::PathBuf,
    /// How long a snapshot may hold its database frozen before the server aborts it
    /// (`vdisim server --max-freeze`).
    pub max_freeze: Duration,
}

/// The volume directory of a daemon listening on `socket`: `volumes/` beside it.
#[must_use]
pub fn volumes_beside(socket: &std::path::Path) -> std::path::PathBuf {
    socket
        .parent()
        .unwrap_or_else(|| std::path::Path::new("."))
        .join("volumes")
}

/// How a RESTORE that needs only the headers ends the device set (decision 59).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeadersOnlyEnd {
    /// The Reads already sent complete, then CloseDevice on every device and Close: the
    /// client sees VD_E_CLOSE, as after any successful RESTORE.
    #[default]
    Close,
    /// SignalAbort as soon as every device's headers are in: the client sees VD_E_ABORT.
    Abort,
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions {
            open_timeout: Duration::from_secs(10),
            completion_patience: Duration::from_secs(300),
            default_max_transfer: 1024 * 1024,
            default_block_size: 512,
            seed: 0x5EED,
            server: ServerOptions::default(),
            faults: JobFaults::default(),
            trace: None,
            headers_only_end: HeadersOnlyEnd::default(),
            volumes: volumes_beside(&crate::daemon::default_socket_path()),
            max_freeze: super::snapshot::DEFAULT_MAX_FREEZE,
        }
    }
}

/// BUFFERCOUNT when the statement gives none: as many as the devices can have in flight, plus
/// a spare per device (our choice; see docs/engine.md).
pub fn default_buffer_count(devices: usize) -> u32 {
    (devices as u32) * (vdi_proto::consts::MAX_IO_DEPTH + 1)
}

/// An opened, configured device set with every device open and the buffers allocated.
pub struct DeviceSession {
    pub set: ServerVirtualDeviceSet,
    pub config: VdConfig,
    pub mode: MediaMode,
    pub devices: Vec<ServerVirtualDevice>,
    pub names: Vec<String>,
    pub buffers: Arc<dyn ServerBuffers>,
    pub free: Vec<u64>,
    started: Instant,
}

impl std::fmt::Debug for DeviceSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceSession")
            .field("names", &self.names)
            .field("config", &self.config)
            .finish()
    }
}

/// What configuring needs from the statement.
#[derive(Clone, Debug)]
pub struct SessionSpec<'a> {
    pub line: u32,
    pub device_names: &'a [String],
    pub restore: bool,
    pub block_size: u32,
    pub max_transfer: u32,
    pub buffer_count: u32,
}

impl<'a> SessionSpec<'a> {
    /// The statement's BLOCKSIZE, MAXTRANSFERSIZE and BUFFERCOUNT, or the runner's defaults.
    pub fn from_statement(
        line: u32,
        device_names: &'a [String],
        transfer: &crate::tsql::TransferOptions,
        restore: bool,
        options: &JobOptions,
    ) -> SessionSpec<'a> {
        let buffer_count = transfer.buffer_count.unwrap_or_else(|| {
            options
                .faults
                .buffer_count
                .unwrap_or_else(|| default_buffer_count(device_names.len()))
        });
        SessionSpec {
            line,
            device_names,
            restore,
            block_size: transfer.block_size.unwrap_or(options.default_block_size),
            max_transfer: transfer
                .max_transfer_size
                .unwrap_or(options.default_max_transfer),
            buffer_count,
        }
    }
}

/// Maps a VDI failure during setup to SQL Server's 3201 for the set.
fn cannot_open(line: u32, device: &str, e: VdError) -> Vec<SqlMessage> {
    let mut out = vec![messages::cannot_open_device(line, device, e.code.hresult())];
    if e.rule == vdi_proto::Rule::SrvBufferSquatted {
        out.push(super::messages::buffer_region_squatted(line, device));
    }
    out
}

/// Why no client can ever create a set for these VIRTUAL_DEVICE names, if so: the first names
/// the set (Create's rules, decision 10), the others must fit a device name field. Such a
/// statement fails at once instead of waiting out the open timeout.
fn impossible_names(names: &[String]) -> Option<String> {
    let first = names.first()?;
    if vdi_proto::client::validate_set_name(first).is_err() {
        return Some(format!(
            "a set name is 1 to {} bytes without backslash or NUL, this one is {} bytes",
            vdi_proto::client::MAX_SET_NAME_LEN,
            first.len()
        ));
    }
    names[1..]
        .iter()
        .find(|n| n.is_empty() || n.len() > vdi_shm::naming::NAME_FIELD_BYTES || n.contains('\0'))
        .map(|n| {
            format!(
                "a device name is 1 to {} bytes without NUL, one is {} bytes",
                vdi_shm::naming::NAME_FIELD_BYTES,
                n.len()
            )
        })
}

/// The messages of a server abort (or crash, or cancel) injected by the harness at its fault
/// point.
/// `Crash::KillProcess` never returns: the process dies here, before the caller can abort or
/// close anything.
pub fn injected_abort(line: u32, device: &str, restore: bool, crash: Crash) -> Vec<SqlMessage> {
    if crash == Crash::KillProcess {
        faults::kill_this_process();
    }
    if crash == Crash::Emulated {
        vec![super::messages::crashed(line)]
    } else if crash == Crash::Cancel {
        vec![super::messages::stopped(line, false)]
    } else {
        vec![device_error(
            line,
            device,
            restore,
            win32::ERROR_OPERATION_ABORTED,
        )]
    }
}

impl DeviceSession {
    /// Open (waiting for the client's Create), GetConfiguration, BeginConfiguration,
    /// RequestBuffers, EndConfiguration, then every OpenDevice and the buffer pool.
    pub fn open(
        connector: Arc<dyn ServerConnector>,
        options: &JobOptions,
        spec: &SessionSpec<'_>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<DeviceSession, Vec<SqlMessage>> {
        let set_name = &spec.device_names[0];
        let line = spec.line;
        let f = &options.faults;
        let connector = faults::wrap(connector, f, options.trace.clone());
        let mut set = ServerVirtualDeviceSet::new(connector, options.server);
        let inject_abort = |set: &ServerVirtualDeviceSet, point: FaultPoint| {
            if f.abort_at == Some(point) {
                let messages = injected_abort(line, set_name, spec.restore, f.crash);
                let _ = set.signal_abort();
                Err(messages)
            } else {
                Ok(())
            }
        };
        if let Some(reason) = impossible_names(spec.device_names) {
            let e = VdError::new(vdi_proto::Rule::CreateBadName);
            let mut out = cannot_open(line, set_name, e);
            out.push(super::messages::impossible_device_name(line, &reason));
            return Err(out);
        }
        let deadline = Instant::now() + options.open_timeout;
        loop {
            match set.open(None, set_name) {
                Ok(()) => break,
                Err(e)
                    if e.code == VdCode::Invalid && Instant::now() < deadline && !cancelled() =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(cannot_open(line, set_name, e)),
            }
        }
        inject_abort(&set, FaultPoint::Opened)?;
        faults::sleep_unless(f.delay_before_configuration, cancelled);
        let requested = set
            .get_configuration()
            .map_err(|e| cannot_open(line, set_name, e))?;
        if requested.device_count as usize != spec.device_names.len() {
            // The client created a set with another device count than the statement names.
            let _ = set.signal_abort();
            return Err(cannot_open(
                line,
                set_name,
                VdError::new(vdi_proto::Rule::CfgDeviceCount),
            ));
        }
        let mode = media_mode(requested.features).unwrap_or(MediaMode::Pipe);
        let direction = if spec.restore {
            vdf::READ_MEDIA
        } else {
            vdf::WRITE_MEDIA
        };
        set.begin_configuration(
            direction,
            spec.block_size,
            f.alignment,
            spec.max_transfer,
            options.open_timeout.as_millis() as u32,
        )
        .map_err(|e| cannot_open(line, set_name, e))?;
        set.request_buffers(spec.max_transfer, 0, spec.buffer_count)
            .map_err(|e| cannot_open(line, set_name, e))?;
        let config = set
            .end_configuration(spec.device_names)
            .map_err(|e| cannot_open(line, set_name, e))?;
        inject_abort(&set, FaultPoint::Configured)?;
        let mut devices = Vec::with_capacity(spec.device_names.len());
        for _ in spec.device_names {
            devices.push(
                set.open_device()
                    .map_err(|e| cannot_open(line, set_name, e))?
                    .0,
            );
        }
        let buffers = set.buffers().ok_or_else(|| {
            cannot_open(
                line,
                set_name,
                VdError::new(vdi_proto::Rule::SrvEndConfigMemory),
            )
        })?;
        let mut free = Vec::with_capacity(spec.buffer_count as usize);
        for _ in 0..spec.buffer_count {
            free.push(
                set.allocate_buffer(spec.max_transfer, 0)
                    .map_err(|e| cannot_open(line, set_name, e))?,
            );
        }
        inject_abort(&set, FaultPoint::DevicesOpen)?;
        Ok(DeviceSession {
            set,
            config,
            mode,
            devices,
            names: spec.device_names.to_vec(),
            buffers,
            free,
            started: Instant::now(),
        })
    }

    /// Whether VDC_Complete was negotiated (and not withheld by `JobFaults::refuse_complete`).
    pub fn complete_enabled(&self, faults: &JobFaults) -> bool {
        self.config.features & vdf::COMPLETE_ENABLED != 0 && !faults.refuse_complete
    }

    /// Whether the client declared removable media.
    pub fn removable(&self) -> bool {
        self.config.features & vdf::REMOVABLE != 0
    }

    /// Time since the devices opened.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The next completion, or `None` when the client stayed silent for `patience`.
    /// The next completion within `patience`, checking `cancelled` every 50 ms so an attention
    /// (or shutdown) aborts the set while the client holds its buffers. `Err(())`: cancelled.
    pub fn next_completion_unless(
        &self,
        patience: Duration,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Option<Completion>, ()> {
        const SLICE: Duration = Duration::from_millis(50);
        let deadline = std::time::Instant::now() + patience;
        loop {
            if cancelled() {
                return Err(());
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if let Some(done) = self.set.next_completion(left.min(SLICE)) {
                return Ok(Some(done));
            }
            if left <= SLICE {
                return Ok(None);
            }
        }
    }

    /// Ends the set normally: CloseDevice on every device (unless `closed` says a device was
    /// already closed), then Close.
    pub fn finish(mut self, closed: &[bool]) -> Result<(), VdError> {
        for (i, dev) in self.devices.iter().enumerate() {
            if !closed.get(i).copied().unwrap_or(false) {
                self.set.close_device(*dev)?;
            }
        }
        self.set.close()
    }

    /// Ends the set abnormally: SignalAbort, then Close.
    pub fn abort(mut self) {
        let _ = self.set.signal_abort();
        let _ = self.set.close();
    }
}

/// How a device failed, as SQL Server reports it.
pub fn device_error(line: u32, device: &str, restore: bool, completion_code: u32) -> SqlMessage {
    if restore {
        messages::read_failed(line, device, completion_code)
    } else {
        messages::write_failed(line, device, completion_code)
    }
}

/// Whether a Write completion says the media is full (the backup cannot continue).
pub fn is_media_full(code: u32) -> bool {
    matches!(
        code,
        win32::ERROR_DISK_FULL | win32::ERROR_EOM_OVERFLOW | win32::ERROR_HANDLE_DISK_FULL
    )
}
