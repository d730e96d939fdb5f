//! The server set's state machine (IServerVirtualDeviceSet2 / IServerVirtualDevice, vdi-facts
//! §3.4, §6, §8.1–8.3).
//!
//! SendCommand failures still produce a completion (the SDK runs the callback with a mapped
//! code), so a caller drains `poll_completion` in one place, as a completion agent would.

mod table;

use crate::config::{Direction, ServerChoice, negotiated_config};
use crate::consts::{VdcCode, win32};
use crate::error::{VdError, VdResult};
use crate::ids::{CmdId, DeviceIndex};
use crate::layout::VdConfig;
use crate::rules::Rule;
use crate::time::Tick;
use crate::transcript::{Event, EventKind, Method, Recorder, Side};
use crate::wire::{ToClient, ToServer, WireCommand, WireCompletion};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use table::CommandTable;

/// The server set's states (SPEC-0s1f as transcribed in vdi-facts §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServerPhase {
    /// Not open.
    Dne,
    /// Open found the client's set.
    Connected,
    /// BeginConfiguration done.
    Configurable,
    /// EndConfiguration done; devices may be opened.
    Initializing,
    /// At least one device is open.
    Active,
    /// Every device was closed with CloseDevice.
    NormallyTerminated,
    /// Either side aborted.
    Abort,
}

/// Knobs a vendor-facing profile may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerOptions {
    /// Commands outstanding per device before SendCommand returns VD_E_QUEUE_FULL.
    pub io_depth: u32,
    /// Largest buffer area EndConfiguration may allocate, in bytes (VD_E_MEMORY beyond).
    pub max_buffer_area: u64,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            io_depth: crate::consts::MAX_IO_DEPTH,
            max_buffer_area: 2 << 30,
        }
    }
}

/// A command the server asks SendCommand to queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendRequest {
    /// What to do.
    pub code: VdcCode,
    /// The size field.
    pub size: u32,
    /// The position field.
    pub position: u64,
    /// Offset of the data buffer in the buffer area (Read/Write).
    pub buffer_offset: u64,
    /// The completion context: returned untouched with the completion.
    pub context: u64,
}

impl SendRequest {
    /// A command with no buffer (Flush, ClearError, Complete, tape commands …).
    pub fn control(code: VdcCode) -> SendRequest {
        SendRequest {
            code,
            size: 0,
            position: 0,
            buffer_offset: 0,
            context: 0,
        }
    }
}

/// A finished command, as the completion routine receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The command's id, if SendCommand accepted it.
    pub id: Option<CmdId>,
    /// The device.
    pub device: DeviceIndex,
    /// The command as sent.
    pub request: SendRequest,
    /// The Win32 completion code.
    pub completion_code: u32,
    /// Bytes transferred (Read/Write).
    pub bytes_transferred: u32,
    /// Position returned (GetPosition/SetPosition).
    pub position: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DeviceState {
    Active,
    /// An error completion arrived; only ClearError may be sent.
    IoError {
        clear_held: Option<CmdId>,
    },
    Closed,
}

#[derive(Debug)]
struct ServerDevice {
    name: String,
    opened: bool,
    state: DeviceState,
    outstanding: u32,
}

/// The server side of one virtual device set.
#[derive(Debug)]
pub struct ServerSet {
    phase: ServerPhase,
    options: ServerOptions,
    set_name: String,
    requested: VdConfig,
    choice: Option<ServerChoice>,
    direction: Option<Direction>,
    config: Option<VdConfig>,
    buffer_bytes: u64,
    devices: Vec<ServerDevice>,
    table: CommandTable,
    completions: VecDeque<Completion>,
    outbox: VecDeque<ToClient>,
    last_progress: Tick,
    recorder: Recorder,
}

impl ServerSet {
    /// A server set object in DNE.
    pub fn new(options: ServerOptions) -> ServerSet {
        ServerSet {
            phase: ServerPhase::Dne,
            options,
            set_name: String::new(),
            requested: VdConfig::default(),
            choice: None,
            direction: None,
            config: None,
            buffer_bytes: 0,
            devices: Vec::new(),
            table: CommandTable::default(),
            completions: VecDeque::new(),
            outbox: VecDeque::new(),
            last_progress: Tick::ZERO,
            recorder: Recorder::new(Side::Server, false),
        }
    }

    // ---- getters ----

    /// The set's phase.
    pub fn phase(&self) -> ServerPhase {
        self.phase
    }

    /// The client's requested configuration (after Open).
    pub fn requested(&self) -> &VdConfig {
        &self.requested
    }

    /// The negotiated configuration (after EndConfiguration).
    pub fn configuration(&self) -> Option<&VdConfig> {
        self.config.as_ref()
    }

    /// Backup or restore (after BeginConfiguration).
    pub fn direction(&self) -> Option<Direction> {
        self.direction
    }

    /// The options this set runs with.
    pub fn options(&self) -> &ServerOptions {
        &self.options
    }

    /// Commands sent and not yet completed on a device.
    pub fn outstanding(&self, device: DeviceIndex) -> u32 {
        self.devices.get(device.get()).map_or(0, |d| d.outstanding)
    }

    /// Commands outstanding on every device together.
    pub fn outstanding_total(&self) -> u32 {
        self.devices.iter().map(|d| d.outstanding).sum()
    }

    /// Whether a device is in the IO-ERROR state.
    pub fn in_io_error(&self, device: DeviceIndex) -> bool {
        self.devices
            .get(device.get())
            .is_some_and(|d| matches!(d.state, DeviceState::IoError { .. }))
    }

    /// Whether a device was closed with CloseDevice.
    pub fn is_device_closed(&self, device: DeviceIndex) -> bool {
        self.devices
            .get(device.get())
            .is_some_and(|d| d.state == DeviceState::Closed)
    }

    /// Every peer-fault or misuse rule hit so far.
    pub fn rule_hits(&self) -> &[Rule] {
        self.recorder.rule_hits()
    }

    /// Turns transcript recording on or off.
    pub fn set_transcript(&mut self, enabled: bool) {
        self.recorder.set_enabled(enabled);
    }

    // ---- outputs ----

    /// The next message for the client.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ToClient> {
        self.outbox.pop_front()
    }

    /// The next finished command for the completion routine.
    #[must_use]
    pub fn poll_completion(&mut self) -> Option<Completion> {
        self.completions.pop_front()
    }

    /// The next transcript event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.recorder.pop()
    }

    /// When `handle_timeout` must next be called (the 2 × serverTimeOut watchdog), if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Tick> {
        let timeout_ms = self.config.map_or(0, |c| c.server_time_out);
        let watching = matches!(self.phase, ServerPhase::Initializing | ServerPhase::Active);
        (watching && timeout_ms != 0 && self.outstanding_total() > 0)
            .then(|| self.last_progress.plus_millis(2 * u64::from(timeout_ms)))
    }

    // ---- commands (the SDK's server methods) ----

    /// `Open`: `found` is the client's requested configuration when a set of that name exists.
    pub fn open(&mut self, now: Tick, set_name: &str, found: Option<VdConfig>) -> VdResult<()> {
        let result = match (self.phase, found) {
            (ServerPhase::Dne, Some(cfg)) => Ok(cfg),
            (ServerPhase::Dne, None) => Err(VdError::new(Rule::SrvOpenNoSet)),
            _ => Err(VdError::new(Rule::SrvOpenTwice)),
        };
        let cfg = self.finish_call(now, Method::Open, None, result, Rule::SrvOpenOk)?;
        self.set_name = set_name.to_owned();
        self.requested = cfg;
        self.devices.clear();
        self.table = CommandTable::default();
        self.buffer_bytes = 0;
        self.choice = None;
        self.config = None;
        self.outbox.push_back(ToClient::Connected);
        self.set_phase(now, ServerPhase::Connected);
        Ok(())
    }

    /// The server's `GetConfiguration`: what the client asked for.
    pub fn get_configuration(&mut self, now: Tick) -> VdResult<VdConfig> {
        let result = match self.phase {
            ServerPhase::Dne => Err(VdError::new(Rule::SrvBeginConfigState)),
            _ => Ok(self.requested),
        };
        self.finish_call(
            now,
            Method::ServerGetConfiguration,
            None,
            result,
            Rule::SrvGetConfigOk,
        )
    }

    /// `BeginConfiguration`.
    pub fn begin_configuration(&mut self, now: Tick, choice: ServerChoice) -> VdResult<()> {
        let result = match self.phase {
            ServerPhase::Abort => Err(VdError::new(Rule::SrvSendAborted)),
            ServerPhase::Connected => choice.validate(),
            _ => Err(VdError::new(Rule::SrvBeginConfigState)),
        };
        let direction = self.finish_call(
            now,
            Method::BeginConfiguration,
            None,
            result,
            Rule::SrvBeginConfigOk,
        )?;
        self.choice = Some(choice);
        self.direction = Some(direction);
        self.set_phase(now, ServerPhase::Configurable);
        Ok(())
    }

    /// `RequestBuffers`: `count` buffers of `size` data bytes; the prefix zone and alignment are
    /// added here. Before EndConfiguration the requests are summed.
    pub fn request_buffers(
        &mut self,
        now: Tick,
        size: u32,
        alignment: u32,
        count: u32,
    ) -> VdResult<()> {
        let result = match (self.phase, self.choice) {
            (ServerPhase::Abort, _) => Err(VdError::new(Rule::SrvSendAborted)),
            (ServerPhase::Configurable, Some(choice)) => {
                let align = u64::from(alignment.max(choice.effective_alignment(&self.requested)));
                if !align.is_power_of_two() || size == 0 {
                    Err(VdError::new(Rule::SrvBufferInvalid))
                } else {
                    let stride = (u64::from(self.requested.prefix_zone_size) + u64::from(size))
                        .div_ceil(align)
                        * align;
                    Ok(stride * u64::from(count) + align)
                }
            }
            _ => Err(VdError::new(Rule::SrvRequestBuffersState)),
        };
        let bytes = self.finish_call(
            now,
            Method::RequestBuffers,
            None,
            result,
            Rule::SrvRequestBuffersOk,
        )?;
        self.buffer_bytes += bytes;
        Ok(())
    }

    /// Bytes the buffer area needs for the requests so far.
    pub fn buffer_area_bytes(&self) -> u64 {
        self.buffer_bytes
    }

    /// `EndConfiguration`: `device_names` are the VIRTUAL_DEVICE names (the first is the set's).
    pub fn end_configuration(&mut self, now: Tick, device_names: &[String]) -> VdResult<VdConfig> {
        let result = match (self.phase, self.choice) {
            (ServerPhase::Abort, _) => Err(VdError::new(Rule::SrvSendAborted)),
            (ServerPhase::Configurable, Some(_))
                if self.buffer_bytes > self.options.max_buffer_area =>
            {
                Err(VdError::new(Rule::SrvEndConfigMemory))
            }
            (ServerPhase::Configurable, Some(_))
                if device_names.len() != self.requested.device_count as usize
                    || device_names.first().is_some_and(|n| *n != self.set_name) =>
            {
                Err(VdError::new(Rule::SrvBufferInvalid))
            }
            (ServerPhase::Configurable, Some(choice)) => {
                let area = u32::try_from(self.buffer_bytes).unwrap_or(u32::MAX);
                Ok(negotiated_config(&self.requested, &choice, area))
            }
            _ => Err(VdError::new(Rule::SrvEndConfigState)),
        };
        let config = self.finish_call(
            now,
            Method::EndConfiguration,
            None,
            result,
            Rule::SrvEndConfigOk,
        )?;
        self.config = Some(config);
        self.devices = device_names
            .iter()
            .map(|name| ServerDevice {
                name: name.clone(),
                opened: false,
                state: DeviceState::Active,
                outstanding: 0,
            })
            .collect();
        self.outbox.push_back(ToClient::Configured {
            config,
            devices: device_names.to_vec(),
        });
        self.set_phase(now, ServerPhase::Initializing);
        Ok(config)
    }

    /// The server's `OpenDevice`: the next unopened device.
    pub fn open_device(&mut self, now: Tick) -> VdResult<(DeviceIndex, String)> {
        let result = match self.phase {
            ServerPhase::Abort => Err(VdError::new(Rule::SrvSendAborted)),
            ServerPhase::Initializing | ServerPhase::Active => self
                .devices
                .iter()
                .position(|d| !d.opened)
                .map(|i| DeviceIndex(i as u16))
                .ok_or(VdError::new(Rule::SrvOpenDeviceAll)),
            _ => Err(VdError::new(Rule::SrvOpenDeviceState)),
        };
        let device = self.finish_call(
            now,
            Method::ServerOpenDevice,
            None,
            result,
            Rule::SrvOpenDeviceOk,
        )?;
        self.devices[device.get()].opened = true;
        if self.phase == ServerPhase::Initializing {
            self.set_phase(now, ServerPhase::Active);
        }
        Ok((device, self.devices[device.get()].name.clone()))
    }

    /// `SendCommand`. On failure the completion still appears in `poll_completion`, with the
    /// code the SDK maps the failure to.
    pub fn send_command(
        &mut self,
        now: Tick,
        device: DeviceIndex,
        request: SendRequest,
    ) -> VdResult<CmdId> {
        let result = self.check_send(device, &request);
        let dev_no = Some(device.0);
        match result {
            Err(e) => {
                let completion_code = match e.rule {
                    Rule::SrvSendQueueFull => win32::ERROR_NO_SYSTEM_RESOURCES,
                    Rule::SrvSendIoError => win32::ERROR_IO_DEVICE,
                    Rule::SrvSendAborted => win32::ERROR_OPERATION_ABORTED,
                    _ => win32::ERROR_INVALID_HANDLE,
                };
                self.record_call(
                    now,
                    Method::SendCommand,
                    dev_no,
                    None,
                    Err(e),
                    Rule::SrvSendOk,
                );
                self.completions.push_back(Completion {
                    id: None,
                    device,
                    request,
                    completion_code,
                    bytes_transferred: 0,
                    position: 0,
                });
                Err(e)
            }
            Ok(()) => {
                if self.outstanding_total() == 0 {
                    self.last_progress = now; // The watchdog starts when work becomes pending.
                }
                let id = self.table.insert(device, request);
                self.record_call(
                    now,
                    Method::SendCommand,
                    dev_no,
                    Some(id),
                    Ok(()),
                    Rule::SrvSendOk,
                );
                let dev = &mut self.devices[device.get()];
                dev.outstanding += 1;
                let command = WireCommand {
                    id,
                    code: request.code,
                    size: request.size,
                    position: request.position,
                    buffer_offset: request.buffer_offset,
                };
                if let DeviceState::IoError { clear_held } = &mut dev.state
                    && dev.outstanding > 1
                {
                    // ClearError waits until everything outstanding at the error has completed.
                    *clear_held = Some(id);
                    self.recorder.record(
                        now,
                        EventKind::Rule {
                            rule: Rule::SrvIoErrorClearHeld,
                            device: dev_no,
                        },
                    );
                } else {
                    self.transmit_command(now, device, command);
                }
                Ok(id)
            }
        }
    }

    fn check_send(&self, device: DeviceIndex, request: &SendRequest) -> VdResult<()> {
        if self.phase == ServerPhase::Abort {
            return Err(VdError::new(Rule::SrvSendAborted));
        }
        let Some(dev) = self.devices.get(device.get()) else {
            return Err(VdError::new(Rule::SrvSendProtocol));
        };
        if !dev.opened || self.phase != ServerPhase::Active {
            return Err(VdError::new(Rule::SrvSendProtocol));
        }
        match dev.state {
            DeviceState::Closed => return Err(VdError::new(Rule::SrvSendProtocol)),
            DeviceState::IoError { clear_held } => {
                if request.code != VdcCode::ClearError {
                    return Err(VdError::new(Rule::SrvSendIoError));
                }
                if clear_held.is_some() {
                    return Err(VdError::new(Rule::SrvSendQueueFull));
                }
            }
            DeviceState::Active => {}
        }
        if dev.outstanding >= self.options.io_depth {
            return Err(VdError::new(Rule::SrvSendQueueFull));
        }
        if request.code.transfers_data() {
            let area = self.config.map_or(0, |c| u64::from(c.buffer_area_size));
            let max = self.config.map_or(0, |c| c.max_transfer_size);
            let end = request.buffer_offset.checked_add(u64::from(request.size));
            if request.size > max || end.is_none_or(|end| end > area) {
                return Err(VdError::new(Rule::SrvSendBadCommand));
            }
        }
        Ok(())
    }

    fn transmit_command(&mut self, now: Tick, device: DeviceIndex, command: WireCommand) {
        self.recorder.record(
            now,
            EventKind::Command {
                device: device.0,
                id: command.id,
                code: command.code,
                size: command.size,
                position: command.position,
            },
        );
        self.outbox.push_back(ToClient::Command { device, command });
    }

    /// `CloseDevice`: the client sees VD_E_CLOSE after every command sent before.
    pub fn close_device(&mut self, now: Tick, device: DeviceIndex) -> VdResult<()> {
        let result = match (self.phase, self.devices.get(device.get())) {
            (ServerPhase::Abort, _) => Err(VdError::new(Rule::SrvCloseDeviceAborted)),
            (_, Some(d)) if d.state == DeviceState::Closed => {
                Err(VdError::new(Rule::SrvCloseDeviceTwice))
            }
            (ServerPhase::Initializing | ServerPhase::Active, Some(_)) => Ok(()),
            _ => Err(VdError::new(Rule::SrvOpenDeviceState)),
        };
        self.finish_call(
            now,
            Method::CloseDevice,
            Some(device.0),
            result,
            Rule::SrvCloseDeviceOk,
        )?;
        let dev = &mut self.devices[device.get()];
        if let DeviceState::IoError {
            clear_held: Some(id),
        } = dev.state
        {
            // A held ClearError is never delivered now; it completes as aborted.
            if let Some(request) = self.table.remove(id) {
                dev.outstanding -= 1;
                self.completions.push_back(Completion {
                    id: Some(id),
                    device,
                    request: request.1,
                    completion_code: win32::ERROR_OPERATION_ABORTED,
                    bytes_transferred: 0,
                    position: 0,
                });
            }
        }
        dev.state = DeviceState::Closed;
        self.outbox.push_back(ToClient::CloseDevice { device });
        self.recorder.record(
            now,
            EventKind::State {
                device: Some(device.0),
                from: "Open".into(),
                to: "Closed".into(),
            },
        );
        if self.devices.iter().all(|d| d.state == DeviceState::Closed) {
            self.set_phase(now, ServerPhase::NormallyTerminated);
        }
        Ok(())
    }

    /// The server's `SignalAbort`.
    pub fn signal_abort(&mut self, now: Tick) -> VdResult<()> {
        let result = match self.phase {
            ServerPhase::Dne => Err(VdError::new(Rule::SrvOpenDeviceState)),
            _ => Ok(()),
        };
        self.finish_call(
            now,
            Method::ServerSignalAbort,
            None,
            result,
            Rule::SrvAbortOk,
        )?;
        if self.phase != ServerPhase::Abort {
            self.outbox.push_back(ToClient::Abort);
            self.enter_abort(now);
        }
        Ok(())
    }

    /// The server's `Close`: VD_E_PROTOCOL (plus abort processing) while devices are open.
    pub fn close(&mut self, now: Tick) -> VdResult<()> {
        let devices_open = self
            .devices
            .iter()
            .any(|d| d.opened && d.state != DeviceState::Closed);
        let result = match self.phase {
            ServerPhase::Dne => Err(VdError::new(Rule::SrvOpenDeviceState)),
            ServerPhase::Abort => Ok(()),
            _ if devices_open => Err(VdError::new(Rule::SrvCloseDevicesOpen)),
            _ => Ok(()),
        };
        if self.phase == ServerPhase::Dne {
            return self.finish_call(now, Method::ServerClose, None, result, Rule::SrvCloseOk);
        }
        // Commands still outstanding (even after every CloseDevice) complete as aborted.
        let unfinished = self.outstanding_total() > 0
            || !matches!(
                self.phase,
                ServerPhase::NormallyTerminated | ServerPhase::Abort
            );
        if result.is_err() || unfinished {
            if self.phase != ServerPhase::Abort {
                self.outbox.push_back(ToClient::Abort);
            }
            self.enter_abort(now);
        }
        let outcome = self.finish_call(now, Method::ServerClose, None, result, Rule::SrvCloseOk);
        self.outbox.push_back(ToClient::ServerClosed);
        self.set_phase(now, ServerPhase::Dne);
        outcome
    }

    // ---- inputs ----

    /// A message from the client.
    pub fn handle_message(&mut self, now: Tick, msg: ToServer) {
        match msg {
            ToServer::DeviceOpened { .. } => {}
            ToServer::Completion { device, completion } => {
                self.handle_completion(now, device, completion)
            }
            ToServer::Abort => self.enter_abort(now),
            ToServer::ClientClosed => {
                // After normal termination the client may go, unless commands still wait.
                let finished =
                    self.phase == ServerPhase::NormallyTerminated && self.outstanding_total() == 0;
                if !finished && !matches!(self.phase, ServerPhase::Dne | ServerPhase::Abort) {
                    self.recorder.record(
                        now,
                        EventKind::Rule {
                            rule: Rule::SrvClientGone,
                            device: None,
                        },
                    );
                    self.enter_abort(now);
                }
            }
        }
    }

    /// The transport found the client dead, or its shared memory malformed.
    pub fn handle_peer_failure(&mut self, now: Tick, malformed: bool) {
        if matches!(self.phase, ServerPhase::Dne | ServerPhase::Abort) {
            return;
        }
        let rule = if malformed {
            Rule::SrvBadCompletion
        } else {
            Rule::SrvClientGone
        };
        self.recorder
            .record(now, EventKind::Rule { rule, device: None });
        self.enter_abort(now);
    }

    /// Time passed: aborts after 2 × serverTimeOut with work pending and none completing.
    pub fn handle_timeout(&mut self, now: Tick) {
        if self.poll_timeout().is_some_and(|deadline| now >= deadline) {
            self.recorder.record(
                now,
                EventKind::Rule {
                    rule: Rule::SrvTimeout,
                    device: None,
                },
            );
            self.outbox.push_back(ToClient::Abort);
            self.enter_abort(now);
        }
    }

    fn handle_completion(&mut self, now: Tick, device: DeviceIndex, completion: WireCompletion) {
        if matches!(self.phase, ServerPhase::Abort | ServerPhase::Dne) {
            return; // Completions after abort are ignored.
        }
        let Some((owner, request)) = self.table.get(completion.id) else {
            return self.handle_peer_failure(now, true);
        };
        let too_many = request.code.transfers_data() && completion.bytes > request.size;
        if owner != device || too_many {
            return self.handle_peer_failure(now, true);
        }
        self.table.remove(completion.id);
        self.last_progress = now;
        self.recorder.record(
            now,
            EventKind::Completion {
                device: device.0,
                id: completion.id,
                code: request.code,
                completion: completion.code,
                bytes: completion.bytes,
            },
        );
        self.completions.push_back(Completion {
            id: Some(completion.id),
            device,
            request,
            completion_code: completion.code,
            bytes_transferred: if request.code.transfers_data() {
                completion.bytes
            } else {
                0
            },
            position: completion.position,
        });
        let dev = &mut self.devices[device.get()];
        dev.outstanding -= 1;
        match dev.state {
            DeviceState::Active if completion.code != win32::ERROR_SUCCESS => {
                dev.state = DeviceState::IoError { clear_held: None };
                self.recorder.record(
                    now,
                    EventKind::Rule {
                        rule: Rule::SrvIoErrorEnter,
                        device: Some(device.0),
                    },
                );
            }
            DeviceState::IoError { .. }
                if request.code == VdcCode::ClearError
                    && completion.code == win32::ERROR_SUCCESS =>
            {
                dev.state = DeviceState::Active;
                self.recorder.record(
                    now,
                    EventKind::Rule {
                        rule: Rule::SrvIoErrorCleared,
                        device: Some(device.0),
                    },
                );
            }
            DeviceState::IoError {
                clear_held: Some(id),
            } if dev.outstanding == 1 => {
                dev.state = DeviceState::IoError { clear_held: None };
                if let Some((_, clear)) = self.table.get(id) {
                    let command = WireCommand {
                        id,
                        code: clear.code,
                        size: 0,
                        position: 0,
                        buffer_offset: 0,
                    };
                    self.transmit_command(now, device, command);
                }
            }
            _ => {}
        }
    }

    // ---- helpers ----

    fn enter_abort(&mut self, now: Tick) {
        if matches!(self.phase, ServerPhase::Dne | ServerPhase::Abort) {
            return;
        }
        for (id, device, request) in self.table.drain() {
            self.completions.push_back(Completion {
                id: Some(id),
                device,
                request,
                completion_code: win32::ERROR_OPERATION_ABORTED,
                bytes_transferred: 0,
                position: 0,
            });
        }
        for dev in &mut self.devices {
            dev.outstanding = 0;
        }
        self.set_phase(now, ServerPhase::Abort);
    }

    fn set_phase(&mut self, now: Tick, to: ServerPhase) {
        if self.phase != to {
            self.recorder.state(now, None, self.phase, to);
            self.phase = to;
        }
    }

    fn record_call(
        &mut self,
        now: Tick,
        method: Method,
        device: Option<u16>,
        command: Option<CmdId>,
        result: VdResult<()>,
        ok_rule: Rule,
    ) {
        self.recorder
            .call(now, method, device, command, &result, ok_rule);
    }

    fn finish_call<T>(
        &mut self,
        now: Tick,
        method: Method,
        device: Option<u16>,
        result: VdResult<T>,
        ok_rule: Rule,
    ) -> VdResult<T> {
        self.recorder
            .call(now, method, device, None, &result, ok_rule);
        result
    }
}

#[cfg(test)]
mod tests;
