//! Scenario hooks for the conformance harness (`vdisim conform`): named, parametrised faults at
//! the VDI command level, and a trace of what crossed the link.
//!
//! With `JobFaults::default()` and no trace, the jobs behave exactly as without this module.
//! Time-based faults (`delay_before_configuration`, `pause`) sleep for real: the client is a
//! foreign process whose clock cannot be controlled; the harness documents its bounds.

use crate::vdi::link::{ServerBuffers, ServerConnector, ServerLink};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use vdi_proto::{CmdId, DeviceIndex, ToClient, ToServer, VdConfig, VdResult, VdcCode, vdf};
use vdi_shm::PeerFault;
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome};

/// Where in a job a server abort (or crash) happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultPoint {
    /// After Open, before GetConfiguration (the client waits in GetConfiguration).
    Opened,
    /// After EndConfiguration, before the server's OpenDevice calls.
    Configured,
    /// Every device open and the buffers allocated, before the first command.
    DevicesOpen,
    /// After this many completions came back.
    AfterCompletions(u32),
    /// Backup: every data transfer done, before the end of the stream (the final Flush, then
    /// VDC_Complete when negotiated) goes out.
    BeforeFinal,
    /// Backup: right after the first Flush was sent (the client holds it or is about to).
    FlushSent,
    /// Every command completed, before CloseDevice.
    AfterFinal,
}

/// The sizes of RESTORE's reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadSize {
    /// Seeded random multiples of BLOCKSIZE up to MAXTRANSFERSIZE (the normal behaviour).
    #[default]
    Random,
    /// Always BLOCKSIZE.
    Block,
    /// Always MAXTRANSFERSIZE.
    Max,
    /// Always this many blocks (capped at MAXTRANSFERSIZE).
    Blocks(u32),
}

/// What a crash at `JobFaults::abort_at` is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crash {
    /// No crash: an orderly SignalAbort and Msg 3013.
    #[default]
    No,
    /// The set is aborted and the statement ends with a severe error (59019); the process
    /// lives on (a server in the harness's own process cannot die).
    Emulated,
    /// The server process kills itself with SIGKILL: no abort, no message, nothing cleaned
    /// up. Only for a server that is a child process of the harness (`vdisim __conform-server`).
    KillProcess,
    /// Not a crash: the statement is cancelled, as an ATTENTION cancels it (what a driver
    /// sends when its query timeout expires): the set is aborted and the statement ends with
    /// 3204 "The backup or restore was aborted.", as a cancelled BACKUP does.
    Cancel,
}

/// Kills this process with SIGKILL (what `Crash::KillProcess` does at its fault point).
pub fn kill_this_process() -> ! {
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    // SIGKILL cannot be caught; this is only reached if the kill itself failed.
    std::process::abort()
}

/// Faults and overrides of one job. `Default` is the normal job.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFaults {
    /// Sleep between Open and GetConfiguration (the client's GetConfiguration times out).
    pub delay_before_configuration: Duration,
    /// After this many commands were sent, stop sending for this long (GetCommand times out).
    pub pause: Option<(u32, Duration)>,
    /// Backup: this many extra Flushes on every device, spread over the data.
    pub mid_stream_flushes: u32,
    /// Do not grant VDC_Complete even when the client asks (an older server): the client's
    /// configuration lacks VDF_CompleteEnabled and the backup ends with a Flush.
    pub refuse_complete: bool,
    /// Backup with VDC_Complete negotiated: end every device with VDC_Complete alone, no final
    /// Flush before it (vdisim's end before issue 19). SQL Server, and vdisim by default, send
    /// a final Flush on every device, then VDC_Complete (docs/decisions.md #43).
    #[serde(default)]
    pub complete_without_final_flush: bool,
    /// SignalAbort and fail the statement at this point.
    pub abort_at: Option<FaultPoint>,
    /// With `abort_at`: a crash instead of an orderly abort.
    pub crash: Crash,
    /// Backup: after this many data commands, send this command to device 0 (an optional or
    /// unknown command; an error completion puts the device into IO-ERROR, then ClearError).
    pub inject: Option<(u32, VdcCode)>,
    /// CloseDevice right after each device's last command, without waiting for completions.
    pub close_devices_early: bool,
    /// RESTORE's read sizes.
    pub read_size: ReadSize,
    /// RESTORE: flip one byte in the middle of the data of this (1-based) successful Read, as
    /// damaged media would, before the server checks it.
    #[serde(default)]
    pub corrupt_read: Option<u32>,
    /// BUFFERCOUNT when the statement gives none.
    pub buffer_count: Option<u32>,
    /// The server's alignment choice for BeginConfiguration (0: BLOCKSIZE).
    pub alignment: u32,
    /// Backup: compress the stream even without WITH COMPRESSION.
    pub force_compression: bool,
    /// Backup: checksum the stream even without WITH CHECKSUM.
    pub force_checksum: bool,
    /// Snapshot backup: wait this long once the database is frozen, before part 2 of the
    /// metadata (a slow storage stack; the conformance harness kills the client in it).
    #[serde(default)]
    pub freeze_hold: Option<Duration>,
}

/// What crossed the link, as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    /// The server opened the client's set; what the client asked for in Create.
    Opened {
        devices: u32,
        features: u32,
        /// The set's key (its name; `instance NUL name` for a named instance).
        #[serde(default)]
        set: String,
        #[serde(default)]
        prefix_zone_size: u32,
        #[serde(default)]
        alignment: u32,
    },
    /// EndConfiguration: what the client's GetConfiguration returns.
    Configured {
        features: u32,
        block_size: u32,
        max_transfer_size: u32,
        buffer_area_size: u32,
        alignment: u32,
    },
    /// The client opened a device.
    DeviceOpened { device: u16 },
    /// A command sent.
    Command {
        device: u16,
        code: VdcCode,
        size: u32,
        position: u64,
        /// Offset of its data buffer in the buffer area (Read and Write).
        #[serde(default)]
        buffer: u64,
    },
    /// The server wrote or checked bytes of the buffer area (recorded only when the client
    /// asked for a prefix zone or an alignment, so that the harness can check that the server
    /// stays out of the prefix zones).
    BufferTouched { offset: u64, len: u64 },
    /// A completion received.
    Completion {
        device: u16,
        code: VdcCode,
        completion: u32,
        bytes: u32,
    },
    /// CloseDevice sent.
    CloseDevice { device: u16 },
    /// The server signalled abort.
    ServerAbort,
    /// The server closed the set.
    ServerClosed,
    /// The client signalled abort.
    ClientAbort,
    /// The client closed its set.
    ClientClosed,
    /// The peer broke the shared-memory protocol or died.
    PeerFault { detail: String },
}

/// A trace event and when it happened: microseconds since the trace was made (the harness
/// draws each case's timeline from these).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedEvent {
    pub t_us: u64,
    #[serde(flatten)]
    pub event: TraceEvent,
}

/// A job's trace, shared with whoever armed the job.
#[derive(Debug)]
pub struct JobTrace {
    origin: Instant,
    events: Mutex<Vec<TimedEvent>>,
    /// Also written here, a JSON line per event as it happens: a server that is killed
    /// leaves its trace behind.
    file: Option<Mutex<std::fs::File>>,
}

impl Default for JobTrace {
    fn default() -> JobTrace {
        JobTrace {
            origin: Instant::now(),
            events: Mutex::default(),
            file: None,
        }
    }
}

impl JobTrace {
    /// A trace that also appends every event (a [`TimedEvent`] line) to `file` at once.
    pub fn to_file(file: std::fs::File) -> JobTrace {
        JobTrace {
            file: Some(Mutex::new(file)),
            ..JobTrace::default()
        }
    }

    /// Appends an event.
    pub fn push(&self, event: TraceEvent) {
        let event = TimedEvent {
            t_us: self.origin.elapsed().as_micros() as u64,
            event,
        };
        if let Some(file) = &self.file
            && let Ok(line) = serde_json::to_string(&event)
        {
            use std::io::Write;
            let mut f = file.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = writeln!(f, "{line}");
        }
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }

    /// Takes every event recorded so far.
    pub fn take(&self) -> Vec<TraceEvent> {
        self.take_timed().into_iter().map(|e| e.event).collect()
    }

    /// Takes every event recorded so far, with its time.
    pub fn take_timed(&self) -> Vec<TimedEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Wraps a connector so that the links it opens record a trace and apply link-level faults.
pub(super) fn wrap(
    inner: Arc<dyn ServerConnector>,
    faults: &JobFaults,
    trace: Option<Arc<JobTrace>>,
) -> Arc<dyn ServerConnector> {
    if trace.is_none() && !faults.refuse_complete {
        return inner;
    }
    Arc::new(FaultConnector {
        inner,
        refuse_complete: faults.refuse_complete,
        trace,
    })
}

#[derive(Debug)]
struct FaultConnector {
    inner: Arc<dyn ServerConnector>,
    refuse_complete: bool,
    trace: Option<Arc<JobTrace>>,
}

impl ServerConnector for FaultConnector {
    fn open(&self, instance: Option<&str>, set_name: &str) -> VdResult<Arc<dyn ServerLink>> {
        let link = self.inner.open(instance, set_name)?;
        let requested = link.requested();
        let link = FaultLink {
            inner: link,
            refuse_complete: self.refuse_complete,
            trace: self.trace.clone(),
            codes: Mutex::new(HashMap::new()),
        };
        link.record(TraceEvent::Opened {
            devices: requested.device_count,
            features: requested.features,
            set: crate::vdi::shm::set_key(instance, set_name),
            prefix_zone_size: requested.prefix_zone_size,
            alignment: requested.alignment,
        });
        Ok(Arc::new(link))
    }
}

#[derive(Debug)]
struct FaultLink {
    inner: Arc<dyn ServerLink>,
    refuse_complete: bool,
    trace: Option<Arc<JobTrace>>,
    codes: Mutex<HashMap<CmdId, VdcCode>>,
}

impl FaultLink {
    fn record(&self, event: TraceEvent) {
        if let Some(t) = &self.trace {
            t.push(event);
        }
    }

    fn observe(&self, msg: &Result<Option<ToServer>, PeerFault>) {
        if self.trace.is_none() {
            return;
        }
        match msg {
            Ok(Some(ToServer::DeviceOpened { device })) => {
                self.record(TraceEvent::DeviceOpened {
                    device: device.get() as u16,
                });
            }
            Ok(Some(ToServer::Completion { device, completion })) => {
                let code = self
                    .codes
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&completion.id)
                    .unwrap_or(VdcCode::GetError);
                self.record(TraceEvent::Completion {
                    device: device.get() as u16,
                    code,
                    completion: completion.code,
                    bytes: completion.bytes,
                });
            }
            Ok(Some(ToServer::Abort)) => self.record(TraceEvent::ClientAbort),
            Ok(Some(ToServer::ClientClosed)) => self.record(TraceEvent::ClientClosed),
            Ok(None) => {}
            Err(e) => self.record(TraceEvent::PeerFault {
                detail: e.to_string(),
            }),
        }
    }
}

impl ServerLink for FaultLink {
    fn requested(&self) -> VdConfig {
        self.inner.requested()
    }

    fn poll_set(&self) -> Result<Option<ToServer>, PeerFault> {
        let msg = self.inner.poll_set();
        self.observe(&msg);
        msg
    }

    fn poll_device(&self, device: DeviceIndex) -> Result<Option<ToServer>, PeerFault> {
        let msg = self.inner.poll_device(device);
        self.observe(&msg);
        msg
    }

    fn create_buffers(&self, data_size: u64) -> VdResult<Arc<dyn ServerBuffers>> {
        let buffers = self.inner.create_buffers(data_size)?;
        let requested = self.inner.requested();
        match &self.trace {
            Some(trace) if requested.prefix_zone_size > 0 || requested.alignment > 0 => {
                Ok(Arc::new(TouchTrace {
                    inner: buffers,
                    trace: trace.clone(),
                }))
            }
            _ => Ok(buffers),
        }
    }

    fn send(&self, msg: &ToClient) {
        match msg {
            ToClient::Configured { config, devices } if self.refuse_complete => {
                let mut config = *config;
                config.features &= !vdf::COMPLETE_ENABLED;
                self.record_configured(&config);
                self.inner.send(&ToClient::Configured {
                    config,
                    devices: devices.clone(),
                });
                return;
            }
            ToClient::Configured { config, .. } => self.record_configured(config),
            ToClient::Command { device, command } => {
                if self.trace.is_some() {
                    self.codes
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(command.id, command.code);
                }
                self.record(TraceEvent::Command {
                    device: device.get() as u16,
                    code: command.code,
                    size: command.size,
                    position: command.position,
                    buffer: if matches!(command.code, VdcCode::Read | VdcCode::Write) {
                        command.buffer_offset
                    } else {
                        0
                    },
                });
            }
            ToClient::CloseDevice { device } => self.record(TraceEvent::CloseDevice {
                device: device.get() as u16,
            }),
            ToClient::Abort => self.record(TraceEvent::ServerAbort),
            ToClient::ServerClosed => self.record(TraceEvent::ServerClosed),
            ToClient::Connected => {}
        }
        self.inner.send(msg);
    }

    fn wait(
        &self,
        timeout: Timeout,
        cfg: &WaitConfig,
        ready: &mut dyn FnMut() -> bool,
    ) -> WaitOutcome<()> {
        self.inner.wait(timeout, cfg, ready)
    }

    fn client_alive(&self) -> bool {
        self.inner.client_alive()
    }

    fn close(&self) {
        self.inner.close();
    }
}

impl FaultLink {
    fn record_configured(&self, config: &VdConfig) {
        self.record(TraceEvent::Configured {
            features: config.features,
            block_size: config.block_size,
            max_transfer_size: config.max_transfer_size,
            buffer_area_size: config.buffer_area_size,
            alignment: config.alignment,
        });
    }
}

/// The buffer area, recording every range the server writes or checks.
#[derive(Debug)]
struct TouchTrace {
    inner: Arc<dyn ServerBuffers>,
    trace: Arc<JobTrace>,
}

impl TouchTrace {
    fn touched(&self, offset: u64, len: u64) {
        self.trace.push(TraceEvent::BufferTouched { offset, len });
    }
}

impl ServerBuffers for TouchTrace {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn write(&self, offset: u64, src: &[u8]) -> bool {
        self.touched(offset, src.len() as u64);
        self.inner.write(offset, src)
    }

    fn read(&self, offset: u64, dst: &mut [u8]) -> bool {
        self.touched(offset, dst.len() as u64);
        self.inner.read(offset, dst)
    }

    fn lease(&self, offset: u64, len: u64) -> Option<vdi_shm::region::BufferLease<'_>> {
        self.touched(offset, len);
        self.inner.lease(offset, len)
    }
}

/// Sleeps `total` in short steps, stopping early when `cancelled`.
pub(super) fn sleep_unless(total: Duration, cancelled: &dyn Fn() -> bool) {
    let step = Duration::from_millis(20);
    let deadline = std::time::Instant::now() + total;
    while !cancelled() {
        let now = std::time::Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep(step.min(deadline - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_events_round_trip_as_one_json_object() {
        let trace = JobTrace::default();
        trace.push(TraceEvent::ServerAbort);
        trace.push(TraceEvent::CloseDevice { device: 3 });
        let events = trace.take_timed();
        assert!(events[0].t_us <= events[1].t_us);
        for e in &events {
            let line = serde_json::to_string(e).unwrap();
            assert!(
                line.contains("\"t_us\":") && line.contains("\"event\":"),
                "{line}"
            );
            let back: TimedEvent = serde_json::from_str(&line).unwrap();
            assert_eq!(&back, e);
            // A reader of plain events ignores the time.
            let plain: TraceEvent = serde_json::from_str(&line).unwrap();
            assert_eq!(plain, e.event);
        }
        assert!(trace.take().is_empty());
    }
}
