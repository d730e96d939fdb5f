//! The client set's state machine (vdi-facts §3.3 and the table of §8.1).
//!
//! It holds the set-level phase and, per device, the commands received but not yet handed out,
//! the commands handed out but not yet completed, and the IO-ERROR flag. Every call records an
//! event with the rule that decided its result. Blocking, waking and time-outs belong to the
//! caller: a call that would wait returns `Poll::Pending`.

mod device;
mod snapshot;

use crate::config::validate_client_request;
use crate::consts::{VdCode, VdcCode, win32};
use crate::error::{VdError, VdResult};
use crate::ids::{CmdId, DeviceIndex};
use crate::layout::VdConfig;
use crate::rules::Rule;
use crate::time::Tick;
use crate::transcript::{Event, EventKind, Method, Recorder, Side};
use crate::wire::{ToClient, ToServer, WireCompletion};
use device::{ClientDevice, DevicePhase, Pending};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::task::Poll;

pub use snapshot::ClientSnapshot;

/// Longest set name accepted, in bytes (our choice; see docs/decisions.md).
pub const MAX_SET_NAME_LEN: usize = 128;

/// The client set's states (vdi-facts §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClientPhase {
    /// Does not exist: never created, or closed.
    Dne,
    /// Created; waiting for the server to configure.
    Configurable,
    /// GetConfiguration returned; devices may be opened.
    Initializing,
    /// At least one device is open.
    Active,
    /// Every device returned VD_E_CLOSE.
    NormallyTerminated,
    /// Either side aborted; only Close is useful.
    Abort,
}

/// A device as the application holds it. Stale after Close (its epoch no longer matches).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeviceHandle {
    epoch: u32,
    index: DeviceIndex,
}

impl DeviceHandle {
    /// The device's index within the set.
    pub fn index(&self) -> DeviceIndex {
        self.index
    }
}

/// A command as the application holds it, until it completes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommandHandle {
    epoch: u32,
    device: DeviceIndex,
    id: CmdId,
}

impl CommandHandle {
    /// The command's generational id.
    pub fn id(&self) -> CmdId {
        self.id
    }

    /// The device the command was delivered on.
    pub fn device(&self) -> DeviceIndex {
        self.device
    }
}

/// A command handed to the application by GetCommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveredCommand {
    /// What to pass back to CompleteCommand.
    pub handle: CommandHandle,
    /// The command code.
    pub code: VdcCode,
    /// The size field.
    pub size: u32,
    /// The position field.
    pub position: u64,
    /// Where the data buffer starts in the buffer area.
    pub buffer_offset: u64,
}

/// What a secondary process finds when it looks the set up (vdi-facts §3.3 OpenInSecondary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecondaryView {
    /// No set with that name.
    Missing,
    /// The set exists but the primary has not completed GetConfiguration yet.
    NotReady,
    /// The set is aborted.
    Aborted,
    /// The set is configured.
    Ready {
        /// The negotiated configuration.
        config: VdConfig,
        /// The device names, in index order.
        devices: Vec<String>,
    },
}

/// The client side of one virtual device set.
#[derive(Debug)]
pub struct ClientSet {
    phase: ClientPhase,
    epoch: u32,
    name: String,
    requested: VdConfig,
    configured: Option<VdConfig>,
    secondary: bool,
    devices: Vec<ClientDevice>,
    outbox: VecDeque<ToServer>,
    recorder: Recorder,
}

impl Default for ClientSet {
    fn default() -> Self {
        ClientSet::new()
    }
}

impl ClientSet {
    /// A set object in DNE, as `new ClientVirtualDeviceSet()` gives.
    pub fn new() -> ClientSet {
        ClientSet {
            phase: ClientPhase::Dne,
            epoch: 0,
            name: String::new(),
            requested: VdConfig::default(),
            configured: None,
            secondary: false,
            devices: Vec::new(),
            outbox: VecDeque::new(),
            recorder: Recorder::new(Side::Client, false),
        }
    }

    // ---- getters ----

    /// The set's phase.
    pub fn phase(&self) -> ClientPhase {
        self.phase
    }

    /// The set name given to Create (empty in DNE).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configuration the application asked for.
    pub fn requested(&self) -> &VdConfig {
        &self.requested
    }

    /// The server's configuration, once it arrived.
    pub fn configuration(&self) -> Option<&VdConfig> {
        self.configured.as_ref()
    }

    /// Whether this object was opened with OpenInSecondary.
    pub fn is_secondary(&self) -> bool {
        self.secondary
    }

    /// The number of devices (0 before Create).
    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// The device a handle names, if the handle is current.
    pub fn device_name(&self, dev: DeviceHandle) -> Option<&str> {
        self.device(dev).map(|d| d.name.as_str())
    }

    /// Commands the application holds (delivered, not completed) on a device.
    pub fn held_commands(&self, dev: DeviceHandle) -> usize {
        self.device(dev).map_or(0, |d| d.held.len())
    }

    /// Every misuse or peer-fault rule hit so far.
    pub fn rule_hits(&self) -> &[Rule] {
        self.recorder.rule_hits()
    }

    /// Turns transcript recording on or off.
    pub fn set_transcript(&mut self, enabled: bool) {
        self.recorder.set_enabled(enabled);
    }

    // ---- outputs ----

    /// The next message for the server.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ToServer> {
        self.outbox.pop_front()
    }

    /// The next transcript event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.recorder.pop()
    }

    // ---- commands (the SDK's methods) ----

    /// `Create` (vdi-facts §3.3).
    pub fn create(&mut self, now: Tick, name: &str, cfg: &VdConfig) -> VdResult<()> {
        self.create_with(now, Method::Create, None, name, cfg, || Ok(()))
    }

    /// `CreateEx`: NULL or empty `instance` is the default instance; a `machine\` prefix is refused.
    pub fn create_ex(
        &mut self,
        now: Tick,
        instance: Option<&str>,
        name: &str,
        cfg: &VdConfig,
    ) -> VdResult<()> {
        self.create_with(now, Method::CreateEx, instance, name, cfg, || Ok(()))
    }

    /// Create or CreateEx with a transport step: `attach` runs after every check passed and
    /// before the set changes state; its error (a name in use, a security failure) is the
    /// call's result and leaves the set in DNE. What `attach` made (the transport) comes back
    /// only from a call that succeeded: a rejected Create has nothing to hand over, so the
    /// caller cannot replace the transport of the set it already has.
    pub fn create_with<T>(
        &mut self,
        now: Tick,
        method: Method,
        instance: Option<&str>,
        name: &str,
        cfg: &VdConfig,
        attach: impl FnOnce() -> VdResult<T>,
    ) -> VdResult<T> {
        let result = validate_instance_name(instance)
            .and_then(|()| self.check_create(name, cfg))
            .and_then(|()| attach())
            .inspect(|_| self.apply_create(name, cfg));
        let attached = self.finish_call(now, method, None, None, result, Rule::CreateOk)?;
        self.set_phase(now, ClientPhase::Configurable);
        Ok(attached)
    }

    fn check_create(&self, name: &str, cfg: &VdConfig) -> VdResult<()> {
        if self.phase != ClientPhase::Dne {
            return Err(VdError::new(Rule::CreateTwice));
        }
        validate_set_name(name)?;
        validate_client_request(cfg).map_err(|e| VdError {
            code: VdCode::NotSupported,
            rule: e.rule,
        })?;
        Ok(())
    }

    fn apply_create(&mut self, name: &str, cfg: &VdConfig) {
        self.epoch = self.epoch.wrapping_add(1);
        self.name = name.to_owned();
        self.requested = *cfg;
        self.configured = None;
        self.secondary = false;
        self.devices = (0..cfg.device_count)
            .map(|_| ClientDevice::default())
            .collect();
    }

    /// `GetConfiguration`: `Pending` while the server has not configured the set yet.
    pub fn get_configuration(&mut self, now: Tick) -> Poll<VdResult<VdConfig>> {
        let result = match (self.phase, self.configured) {
            (ClientPhase::Dne, _) => Err(VdError::new(Rule::ConfigNotCreated)),
            (ClientPhase::Abort, _) => Err(VdError::new(Rule::ConfigAborted)),
            (ClientPhase::Configurable, None) => return Poll::Pending,
            (ClientPhase::Configurable, Some(cfg)) => {
                self.record_call(
                    now,
                    Method::GetConfiguration,
                    None,
                    None,
                    Ok(()),
                    Rule::ConfigOk,
                );
                self.set_phase(now, ClientPhase::Initializing);
                return Poll::Ready(Ok(cfg));
            }
            (_, Some(cfg)) => Ok(cfg),
            (_, None) => Err(VdError::new(Rule::ConfigNotCreated)),
        };
        Poll::Ready(self.finish_call(
            now,
            Method::GetConfiguration,
            None,
            None,
            result,
            Rule::ConfigAgain,
        ))
    }

    /// The caller's wait in GetConfiguration ran out: VD_E_TIMEOUT, state unchanged.
    pub fn get_configuration_timed_out(&mut self, now: Tick) -> VdError {
        let err = VdError::new(Rule::ConfigTimeout);
        self.record_call(
            now,
            Method::GetConfiguration,
            None,
            None,
            Err(err),
            Rule::ConfigOk,
        );
        err
    }

    /// `OpenDevice` by name.
    pub fn open_device(&mut self, now: Tick, name: &str) -> VdResult<DeviceHandle> {
        self.open_device_with(now, name, |_| true)
    }

    /// OpenDevice with a transport step: `claim` runs once the device passed every check and
    /// returns false when another process of the set already opened it (VD_E_PROTOCOL).
    pub fn open_device_with(
        &mut self,
        now: Tick,
        name: &str,
        claim: impl FnOnce(DeviceIndex) -> bool,
    ) -> VdResult<DeviceHandle> {
        let result = self.open_device_inner(name).and_then(|h| {
            if claim(h.index) {
                Ok(h)
            } else {
                Err(VdError::new(Rule::OpenAlreadyOpen))
            }
        });
        let device = result.as_ref().ok().map(|h| h.index.0);
        let handle =
            self.finish_call(now, Method::OpenDevice, device, None, result, Rule::OpenOk)?;
        self.set_device_phase(now, handle.index, DevicePhase::Open);
        self.outbox.push_back(ToServer::DeviceOpened {
            device: handle.index,
        });
        if self.phase == ClientPhase::Initializing {
            self.set_phase(now, ClientPhase::Active);
        }
        Ok(handle)
    }

    fn open_device_inner(&mut self, name: &str) -> VdResult<DeviceHandle> {
        match self.phase {
            ClientPhase::Abort => return Err(VdError::new(Rule::OpenAborted)),
            ClientPhase::Initializing | ClientPhase::Active => {}
            _ => return Err(VdError::new(Rule::OpenWrongState)),
        }
        if self
            .devices
            .iter()
            .all(|d| d.phase != DevicePhase::Unopened)
        {
            return Err(VdError::new(Rule::OpenAllOpen));
        }
        let index = self
            .devices
            .iter()
            .position(|d| d.name == name)
            .ok_or(VdError::new(Rule::OpenUnknownName))?;
        if self.devices[index].phase != DevicePhase::Unopened {
            return Err(VdError::new(Rule::OpenAlreadyOpen));
        }
        Ok(DeviceHandle {
            epoch: self.epoch,
            index: DeviceIndex(index as u16),
        })
    }

    /// `GetCommand`: the next command of the device, `Pending` while there is none yet.
    ///
    /// In IO-ERROR, queued commands other than ClearError are completed with ERROR_IO_DEVICE here,
    /// without reaching the application (vdi-facts §6).
    pub fn get_command(
        &mut self,
        now: Tick,
        dev: DeviceHandle,
    ) -> Poll<VdResult<DeliveredCommand>> {
        let index = match self.check_device_call(
            dev,
            Rule::GetCommandAborted,
            Rule::GetCommandWrongState,
        ) {
            Ok(index) => index,
            Err(e) => {
                return Poll::Ready(self.finish_call(
                    now,
                    Method::GetCommand,
                    Some(dev.index.0),
                    None,
                    Err(e),
                    Rule::GetCommandOk,
                ));
            }
        };
        match self.devices[index].phase {
            DevicePhase::Open => {}
            DevicePhase::Closed => {
                let e = VdError::new(Rule::GetCommandAfterClose);
                return Poll::Ready(self.finish_call(
                    now,
                    Method::GetCommand,
                    Some(dev.index.0),
                    None,
                    Err(e),
                    Rule::GetCommandOk,
                ));
            }
            DevicePhase::Unopened => {
                let e = VdError::new(Rule::GetCommandWrongState);
                return Poll::Ready(self.finish_call(
                    now,
                    Method::GetCommand,
                    Some(dev.index.0),
                    None,
                    Err(e),
                    Rule::GetCommandOk,
                ));
            }
        }
        loop {
            let Some(next) = self.devices[index].pending.pop_front() else {
                return Poll::Pending;
            };
            match next {
                Pending::Command(cmd)
                    if self.devices[index].io_error && cmd.code != VdcCode::ClearError =>
                {
                    let completion = WireCompletion {
                        id: cmd.id,
                        code: win32::ERROR_IO_DEVICE,
                        bytes: 0,
                        position: 0,
                    };
                    self.outbox.push_back(ToServer::Completion {
                        device: dev.index,
                        completion,
                    });
                    self.recorder.record(
                        now,
                        EventKind::Rule {
                            rule: Rule::IoErrorSwallow,
                            device: Some(dev.index.0),
                        },
                    );
                }
                Pending::Command(cmd) => {
                    if cmd.code == VdcCode::ClearError {
                        self.recorder.record(
                            now,
                            EventKind::Rule {
                                rule: Rule::IoErrorClearDelivered,
                                device: Some(dev.index.0),
                            },
                        );
                    }
                    self.devices[index].held.push(cmd);
                    let handle = CommandHandle {
                        epoch: self.epoch,
                        device: dev.index,
                        id: cmd.id,
                    };
                    self.record_call(
                        now,
                        Method::GetCommand,
                        Some(dev.index.0),
                        Some(cmd.id),
                        Ok(()),
                        Rule::GetCommandOk,
                    );
                    self.recorder.record(
                        now,
                        EventKind::Command {
                            device: dev.index.0,
                            id: cmd.id,
                            code: cmd.code,
                            size: cmd.size,
                            position: cmd.position,
                        },
                    );
                    return Poll::Ready(Ok(DeliveredCommand {
                        handle,
                        code: cmd.code,
                        size: cmd.size,
                        position: cmd.position,
                        buffer_offset: cmd.buffer_offset,
                    }));
                }
                Pending::Close => return Poll::Ready(Err(self.deliver_close(now, index))),
            }
        }
    }

    fn deliver_close(&mut self, now: Tick, index: usize) -> VdError {
        let device = DeviceIndex(index as u16);
        let held = std::mem::take(&mut self.devices[index].held);
        if !held.is_empty() {
            // The server closed the device under commands the application still holds: they are
            // handed back as aborted, and the application is told through the rule.
            for cmd in held {
                let completion = WireCompletion {
                    id: cmd.id,
                    code: win32::ERROR_OPERATION_ABORTED,
                    bytes: 0,
                    position: 0,
                };
                self.outbox
                    .push_back(ToServer::Completion { device, completion });
            }
            self.recorder.record(
                now,
                EventKind::Rule {
                    rule: Rule::GetCommandCloseWithHeld,
                    device: Some(device.0),
                },
            );
        }
        let err = VdError::new(Rule::GetCommandClose);
        self.record_call(
            now,
            Method::GetCommand,
            Some(device.0),
            None,
            Err(err),
            Rule::GetCommandOk,
        );
        self.set_device_phase(now, device, DevicePhase::Closed);
        if self.phase == ClientPhase::Active && self.all_devices_finished() {
            self.set_phase(now, ClientPhase::NormallyTerminated);
        }
        err
    }

    /// The caller's wait in GetCommand ran out: VD_E_TIMEOUT, state unchanged.
    pub fn get_command_timed_out(&mut self, now: Tick, dev: DeviceHandle) -> VdError {
        let err = VdError::new(Rule::GetCommandTimeout);
        self.record_call(
            now,
            Method::GetCommand,
            Some(dev.index.0),
            None,
            Err(err),
            Rule::GetCommandOk,
        );
        err
    }

    /// `CompleteCommand`, called on device `dev` for command `cmd`.
    pub fn complete_command(
        &mut self,
        now: Tick,
        dev: DeviceHandle,
        cmd: CommandHandle,
        completion_code: u32,
        bytes_transferred: u64,
        position: u64,
    ) -> VdResult<()> {
        let result = self.complete_inner(dev, cmd, bytes_transferred);
        let taken = self.finish_call(
            now,
            Method::CompleteCommand,
            Some(dev.index.0),
            Some(cmd.id),
            result,
            Rule::CompleteOk,
        )?;
        let index = dev.index.get();
        let bytes = if taken.code.transfers_data() {
            bytes_transferred as u32
        } else {
            0
        };
        self.recorder.record(
            now,
            EventKind::Completion {
                device: dev.index.0,
                id: cmd.id,
                code: taken.code,
                completion: completion_code,
                bytes,
            },
        );
        let completion = WireCompletion {
            id: cmd.id,
            code: completion_code,
            bytes,
            position,
        };
        self.outbox.push_back(ToServer::Completion {
            device: dev.index,
            completion,
        });
        let device = &mut self.devices[index];
        if completion_code != win32::ERROR_SUCCESS {
            device.io_error = true;
        } else if taken.code == VdcCode::ClearError {
            device.io_error = false;
        }
        Ok(())
    }

    fn complete_inner(
        &mut self,
        dev: DeviceHandle,
        cmd: CommandHandle,
        bytes: u64,
    ) -> VdResult<crate::wire::WireCommand> {
        let index = self.check_device_call(dev, Rule::CompleteAborted, Rule::CompleteWrongState)?;
        match self.devices[index].phase {
            DevicePhase::Open => {}
            DevicePhase::Closed => return Err(VdError::new(Rule::CompleteAfterClose)),
            DevicePhase::Unopened => return Err(VdError::new(Rule::CompleteWrongState)),
        }
        if cmd.epoch != self.epoch {
            return Err(VdError::new(Rule::CompleteNotActive));
        }
        if cmd.device != dev.index {
            let elsewhere = self
                .devices
                .get(cmd.device.get())
                .is_some_and(|d| d.held.iter().any(|c| c.id == cmd.id));
            let rule = if elsewhere {
                Rule::CompleteWrongDevice
            } else {
                Rule::CompleteNotActive
            };
            return Err(VdError::new(rule));
        }
        let held = &mut self.devices[index].held;
        let pos = held
            .iter()
            .position(|c| c.id == cmd.id)
            .ok_or(VdError::new(Rule::CompleteNotActive))?;
        if held[pos].code.transfers_data() && bytes > u64::from(held[pos].size) {
            return Err(VdError::new(Rule::CompleteTooManyBytes));
        }
        Ok(held.swap_remove(pos))
    }

    /// `SignalAbort`.
    pub fn signal_abort(&mut self, now: Tick) -> VdResult<()> {
        let result = match self.phase {
            ClientPhase::Dne => Err(VdError::new(Rule::AbortNotCreated)),
            ClientPhase::Abort => {
                self.record_call(
                    now,
                    Method::SignalAbort,
                    None,
                    None,
                    Ok(()),
                    Rule::AbortAgain,
                );
                return Ok(());
            }
            _ => Ok(()),
        };
        self.finish_call(now, Method::SignalAbort, None, None, result, Rule::AbortOk)?;
        self.outbox.push_back(ToServer::Abort);
        self.enter_abort(now);
        Ok(())
    }

    /// `Close` (vdi-facts §3.3): releases the set whatever it returns, except in DNE.
    pub fn close(&mut self, now: Tick) -> VdResult<()> {
        let result = match self.phase {
            ClientPhase::Dne => Err(VdError::new(Rule::CloseNotOpen)),
            ClientPhase::Abort => Ok(Rule::CloseAfterAbort),
            _ if self.devices.iter().any(|d| d.phase == DevicePhase::Open) => {
                if self.devices.iter().any(|d| !d.held.is_empty()) {
                    self.recorder.record(
                        now,
                        EventKind::Rule {
                            rule: Rule::CloseWithHeldCommands,
                            device: None,
                        },
                    );
                }
                Err(VdError::new(Rule::CloseDevicesOpen))
            }
            _ => Ok(Rule::CloseOk),
        };
        if let Err(e) = result
            && e.rule == Rule::CloseNotOpen
        {
            return self.finish_call(now, Method::Close, None, None, Err(e), Rule::CloseOk);
        }
        let server_still_working = self.phase != ClientPhase::Abort && !self.all_devices_finished();
        match result {
            Err(_) => {
                // VD_E_OPEN: abort internally so the server winds down, then release anyway.
                self.outbox.push_back(ToServer::Abort);
                self.enter_abort(now);
            }
            Ok(_) if server_still_working && !self.secondary => {
                self.recorder.record(
                    now,
                    EventKind::Rule {
                        rule: Rule::CloseBeforeServer,
                        device: None,
                    },
                );
            }
            Ok(_) => {}
        }
        let ok_rule = *result.as_ref().unwrap_or(&Rule::CloseOk);
        let outcome = self.finish_call(now, Method::Close, None, None, result.map(|_| ()), ok_rule);
        if !self.secondary {
            self.outbox.push_back(ToServer::ClientClosed);
        }
        self.release(now);
        outcome
    }

    /// `OpenInSecondary`: this object joins a set a primary created in another process.
    pub fn open_in_secondary(
        &mut self,
        now: Tick,
        set_name: &str,
        view: SecondaryView,
    ) -> VdResult<()> {
        let result = match (self.phase, view) {
            (ClientPhase::Dne, SecondaryView::Ready { config, devices }) => {
                self.epoch = self.epoch.wrapping_add(1);
                self.name = set_name.to_owned();
                self.requested = config;
                self.configured = Some(config);
                self.secondary = true;
                self.devices = devices.into_iter().map(ClientDevice::named).collect();
                Ok(())
            }
            (ClientPhase::Dne, SecondaryView::Aborted) => Err(VdError::new(Rule::SecondaryAborted)),
            _ => Err(VdError::new(Rule::SecondaryNotReady)),
        };
        self.finish_call(
            now,
            Method::OpenInSecondary,
            None,
            None,
            result,
            Rule::SecondaryOk,
        )?;
        self.set_phase(now, ClientPhase::Initializing);
        Ok(())
    }

    /// Checks a GetBufferHandle/MapBufferHandle call against the set's state and records it.
    /// `valid` is the transport's verdict on the address or handle.
    pub fn check_buffer_call(&mut self, now: Tick, method: Method, valid: bool) -> VdResult<()> {
        let (ok_rule, bad_rule) = match method {
            Method::MapBufferHandle => (Rule::MapBufferOk, Rule::MapBufferBadHandle),
            _ => (Rule::BufferHandleOk, Rule::BufferHandleBadAddress),
        };
        let result = match self.phase {
            ClientPhase::Dne => Err(VdError::new(Rule::BufferHandleNotOpen)),
            _ if !valid => Err(VdError::new(bad_rule)),
            _ => Ok(()),
        };
        self.finish_call(now, method, None, None, result, ok_rule)
    }

    // ---- inputs ----

    /// A message from the server.
    pub fn handle_message(&mut self, now: Tick, msg: ToClient) {
        if self.phase == ClientPhase::Dne {
            return; // Nothing listens after Close.
        }
        match msg {
            ToClient::Connected => {}
            ToClient::Configured { config, devices } => {
                if self.configured.is_none() && devices.len() == self.devices.len() {
                    for (device, name) in self.devices.iter_mut().zip(devices) {
                        device.name = name;
                    }
                    self.configured = Some(config);
                } else if self.configured.is_none() {
                    self.peer_fault(now);
                }
            }
            ToClient::Command { device, command } => {
                if self.phase == ClientPhase::Abort {
                    return; // No command is delivered after abort.
                }
                match self.devices.get_mut(device.get()) {
                    Some(d) if !d.server_closed => d.pending.push_back(Pending::Command(command)),
                    _ => self.peer_fault(now),
                }
            }
            ToClient::CloseDevice { device } => match self.devices.get_mut(device.get()) {
                Some(d) if !d.server_closed => {
                    d.server_closed = true;
                    d.pending.push_back(Pending::Close);
                }
                _ => self.peer_fault(now),
            },
            ToClient::Abort => self.enter_abort(now),
            ToClient::ServerClosed => {
                if !self.devices.iter().all(|d| d.server_closed) {
                    self.recorder.record(
                        now,
                        EventKind::Rule {
                            rule: Rule::ClientServerGone,
                            device: None,
                        },
                    );
                    self.enter_abort(now);
                }
            }
        }
    }

    /// The transport found the server dead or its shared memory malformed.
    pub fn handle_peer_failure(&mut self, now: Tick, malformed: bool) {
        let rule = if malformed {
            Rule::ClientBadMessage
        } else {
            Rule::ClientServerGone
        };
        self.handle_peer_fault(now, rule);
    }

    /// The transport found a fault of the server's side, reported as `rule` (VDI-PEER-*).
    pub fn handle_peer_fault(&mut self, now: Tick, rule: Rule) {
        if matches!(self.phase, ClientPhase::Dne | ClientPhase::Abort) {
            return;
        }
        self.recorder
            .record(now, EventKind::Rule { rule, device: None });
        self.enter_abort(now);
    }

    fn peer_fault(&mut self, now: Tick) {
        self.handle_peer_failure(now, true);
    }

    // ---- helpers ----

    fn device(&self, dev: DeviceHandle) -> Option<&ClientDevice> {
        (dev.epoch == self.epoch && self.phase != ClientPhase::Dne)
            .then(|| self.devices.get(dev.index.get()))
            .flatten()
    }

    /// Common checks of GetCommand and CompleteCommand: a current handle, then the set state.
    fn check_device_call(
        &self,
        dev: DeviceHandle,
        aborted: Rule,
        wrong_state: Rule,
    ) -> VdResult<usize> {
        if dev.epoch != self.epoch
            || self.phase == ClientPhase::Dne
            || dev.index.get() >= self.devices.len()
        {
            return Err(VdError::new(Rule::StaleDevice));
        }
        match self.phase {
            ClientPhase::Abort => Err(VdError::new(aborted)),
            ClientPhase::Active | ClientPhase::NormallyTerminated => Ok(dev.index.get()),
            _ => Err(VdError::new(wrong_state)),
        }
    }

    fn all_devices_finished(&self) -> bool {
        self.devices
            .iter()
            .all(|d| d.server_closed && d.phase != DevicePhase::Open)
    }

    fn enter_abort(&mut self, now: Tick) {
        if matches!(self.phase, ClientPhase::Dne | ClientPhase::Abort) {
            return;
        }
        for device in &mut self.devices {
            device.pending.clear();
            device.held.clear();
        }
        self.set_phase(now, ClientPhase::Abort);
    }

    fn release(&mut self, now: Tick) {
        self.set_phase(now, ClientPhase::Dne);
        self.epoch = self.epoch.wrapping_add(1);
        self.devices.clear();
        self.configured = None;
        self.secondary = false;
        self.name.clear();
    }

    fn set_phase(&mut self, now: Tick, to: ClientPhase) {
        if self.phase != to {
            self.recorder.state(now, None, self.phase, to);
            self.phase = to;
        }
    }

    fn set_device_phase(&mut self, now: Tick, index: DeviceIndex, to: DevicePhase) {
        let device = &mut self.devices[index.get()];
        self.recorder.state(now, Some(index.0), device.phase, to);
        device.phase = to;
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
        command: Option<CmdId>,
        result: VdResult<T>,
        ok_rule: Rule,
    ) -> VdResult<T> {
        self.recorder
            .call(now, method, device, command, &result, ok_rule);
        result
    }
}

/// Set names: any character but backslash (CreateFileMapping's rule), not empty, bounded.
pub fn validate_set_name(name: &str) -> VdResult<()> {
    if name.is_empty()
        || name.len() > MAX_SET_NAME_LEN
        || name.contains('\\')
        || name.contains('\0')
    {
        return Err(VdError::new(Rule::CreateBadName));
    }
    Ok(())
}

/// Instance names: NULL or empty is the default instance; a `machine\` prefix is refused.
pub fn validate_instance_name(instance: Option<&str>) -> VdResult<()> {
    match instance {
        Some(name)
            if name.contains('\\') || name.contains('\0') || name.len() > MAX_SET_NAME_LEN =>
        {
            Err(VdError::new(Rule::CreateBadInstance))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
impl ClientSet {
    /// The current handle of device `index` (tests only; applications get handles from OpenDevice).
    pub(crate) fn device_handle_for_tests(&self, index: u16) -> DeviceHandle {
        DeviceHandle {
            epoch: self.epoch,
            index: DeviceIndex(index),
        }
    }
}
