//! `ClientVirtualDeviceSet`: the protocol core's client set, driven over a link.

use crate::device::ClientVirtualDevice;
use crate::link::{ClientLink, Connector};
use crate::timeout::TimeoutUnit;
use crate::transcript::TranscriptFile;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use vdi_proto::transcript::Method;
use vdi_proto::{ClientSet, DeviceIndex, SecondaryView, ToClient, VdConfig, VdError, VdResult};
use vdi_shm::PeerFault;
use vdi_shm::event::{WaitConfig, WaitOutcome};
use vdi_shm::tick::TickClock;

/// How a set object reaches its server.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Makes or finds the transport (shared memory unless a test supplies another).
    pub connector: Arc<dyn Connector>,
    /// Spinning and liveness checks of blocking calls.
    pub wait: WaitConfig,
    /// The unit of the application's timeouts (`VDISIM_TIMEOUT_UNIT`).
    pub timeout_unit: TimeoutUnit,
}

impl ClientOptions {
    /// Shared memory, the documented millisecond timeouts unless `VDISIM_TIMEOUT_UNIT` says
    /// otherwise, spin-then-park waits.
    pub fn from_env() -> ClientOptions {
        ClientOptions {
            connector: Arc::new(crate::shm::ShmConnector::from_env()),
            wait: WaitConfig::default(),
            timeout_unit: TimeoutUnit::from_env(),
        }
    }
}

/// Everything a set and its devices share, behind one lock.
#[derive(Debug)]
pub(crate) struct SetState {
    pub(crate) proto: ClientSet,
    pub(crate) link: Option<Arc<dyn ClientLink>>,
    transcript: Option<TranscriptFile>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<SetState>,
    pub(crate) clock: TickClock,
    pub(crate) options: ClientOptions,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SetState> {
        // A panic in another thread while it held the lock leaves the state consistent enough
        // to report errors; never propagate the poison into the application.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SetState {
    /// Moves everything waiting in the link into the core (set-level, and `device`'s own).
    pub(crate) fn pump(&mut self, now: vdi_proto::Tick, device: Option<DeviceIndex>) {
        let Some(link) = self.link.clone() else {
            return;
        };
        loop {
            match link.poll_set() {
                Ok(Some(msg)) => {
                    if msg == ToClient::ServerClosed {
                        // The server queued every CloseDevice before it closed the set: take
                        // them in first, so that a normal end is not mistaken for an abort.
                        for d in 0..self.proto.device_count() {
                            self.drain_device(&*link, now, DeviceIndex(d as u16));
                        }
                    }
                    self.proto.handle_message(now, msg);
                }
                Ok(None) => break,
                Err(fault) => {
                    self.peer_fault(&*link, now, fault);
                    break;
                }
            }
        }
        if let Some(device) = device {
            self.drain_device(&*link, now, device);
        }
        self.flush();
    }

    fn drain_device(&mut self, link: &dyn ClientLink, now: vdi_proto::Tick, device: DeviceIndex) {
        loop {
            match link.poll_device(device) {
                Ok(Some(msg)) => self.proto.handle_message(now, msg),
                Ok(None) => return,
                Err(fault) => return self.peer_fault(link, now, fault),
            }
        }
    }

    /// The server's memory was malformed: abort the set for both sides.
    fn peer_fault(&mut self, link: &dyn ClientLink, now: vdi_proto::Tick, fault: PeerFault) {
        let rule = fault.to_vd_error(vdi_shm::Side::Client).rule;
        self.proto.handle_peer_fault(now, rule);
        link.send(&vdi_proto::ToServer::Abort);
    }

    /// Sends what the core wants sent and writes its transcript events.
    pub(crate) fn flush(&mut self) {
        if let Some(link) = &self.link {
            while let Some(msg) = self.proto.poll_transmit() {
                link.send(&msg);
            }
        } else {
            while self.proto.poll_transmit().is_some() {}
        }
        while let Some(event) = self.proto.poll_event() {
            if let Some(t) = &mut self.transcript {
                t.write(&event);
            }
        }
    }
}

/// The SDK's `ClientVirtualDeviceSet`. Usable from any thread; clone-free (devices share it).
#[derive(Debug)]
pub struct ClientVirtualDeviceSet {
    shared: Arc<Shared>,
}

impl Default for ClientVirtualDeviceSet {
    fn default() -> Self {
        ClientVirtualDeviceSet::new()
    }
}

impl ClientVirtualDeviceSet {
    /// A set object in DNE (`new ClientVirtualDeviceSet()`), configured from the environment.
    pub fn new() -> ClientVirtualDeviceSet {
        ClientVirtualDeviceSet::with_options(ClientOptions::from_env())
    }

    /// A set object with explicit options (tests use an in-memory connector).
    pub fn with_options(options: ClientOptions) -> ClientVirtualDeviceSet {
        let transcript = TranscriptFile::from_env();
        let mut proto = ClientSet::new();
        proto.set_transcript(transcript.is_some());
        let clock = TickClock::new();
        clock.set_precise(transcript.is_some());
        let state = SetState {
            proto,
            link: None,
            transcript,
        };
        ClientVirtualDeviceSet {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                clock,
                options,
            }),
        }
    }

    /// Writes the transcript to `path` from now on (JSON lines, appended).
    pub fn set_transcript_path(&self, path: &Path) -> std::io::Result<()> {
        let file = TranscriptFile::open(path)?;
        let mut state = self.shared.lock();
        state.proto.set_transcript(true);
        state.transcript = Some(file);
        self.shared.clock.set_precise(true);
        Ok(())
    }

    /// Every misuse or peer-fault rule this set has hit (also across Close).
    pub fn rule_hits(&self) -> Vec<vdi_proto::Rule> {
        self.shared.lock().proto.rule_hits().to_vec()
    }

    /// The set's phase in the §8.1 table.
    pub fn phase(&self) -> vdi_proto::ClientPhase {
        self.shared.lock().proto.phase()
    }

    /// `Create`.
    pub fn create(&self, name: &str, config: &VdConfig) -> VdResult<()> {
        self.create_impl(Method::Create, None, name, config)
    }

    /// `CreateEx`: `instance` None or empty is the default instance.
    pub fn create_ex(&self, instance: Option<&str>, name: &str, config: &VdConfig) -> VdResult<()> {
        self.create_impl(Method::CreateEx, instance, name, config)
    }

    fn create_impl(
        &self,
        method: Method,
        instance: Option<&str>,
        name: &str,
        config: &VdConfig,
    ) -> VdResult<()> {
        let now = self.shared.clock.now();
        let connector = self.shared.options.connector.clone();
        let mut state = self.shared.lock();
        let result = state
            .proto
            .create_with(now, method, instance, name, config, || {
                connector.create(instance.filter(|i| !i.is_empty()), name, config)
            });
        // Only a Create that succeeded brings a transport. A refused one (VD_E_PROTOCOL: the
        // set exists) must leave the set's own link alone: dropping it unlinked the set's
        // shared memory and left GetConfiguration with nothing to wait on.
        let result = result.map(|link| state.link = Some(link));
        state.flush();
        result
    }

    /// `GetConfiguration`: waits up to `timeout` (ms; 0 polls, negative waits for ever).
    pub fn get_configuration(&self, timeout: i64, config: &mut VdConfig) -> VdResult<()> {
        let got = self.wait_for(
            None,
            timeout,
            |state, now| state.proto.get_configuration(now),
            |state, now| state.proto.get_configuration_timed_out(now),
        )?;
        *config = got;
        let state = self.shared.lock();
        if let Some(link) = &state.link
            && !state.proto.is_secondary()
        {
            link.mark_configured_by_client();
        }
        Ok(())
    }

    /// `OpenDevice`.
    pub fn open_device(&self, name: &str) -> VdResult<ClientVirtualDevice> {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        state.pump(now, None);
        let link = state.link.clone();
        let result = state.proto.open_device_with(now, name, |index| {
            link.as_ref().is_none_or(|l| l.claim_device(index))
        });
        state.flush();
        let handle = result?;
        let link = state.link.clone().expect("an open device has a link");
        Ok(ClientVirtualDevice::new(self.shared.clone(), handle, link))
    }

    /// `SignalAbort`.
    pub fn signal_abort(&self) -> VdResult<()> {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        let result = state.proto.signal_abort(now);
        state.flush();
        result
    }

    /// `Close`: releases the set whatever it returns (except VD_E_PROTOCOL when not open).
    pub fn close(&self) -> VdResult<()> {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        state.pump(now, None);
        let result = state.proto.close(now);
        state.flush();
        if result.map_or_else(|e| e.rule != vdi_proto::Rule::CloseNotOpen, |()| true)
            && let Some(link) = state.link.take()
        {
            link.close();
        }
        if let Some(t) = &mut state.transcript {
            t.flush();
        }
        result
    }

    /// `OpenInSecondary`.
    pub fn open_in_secondary(&self, set_name: &str) -> VdResult<()> {
        self.open_in_secondary_ex(None, set_name)
    }

    /// `OpenInSecondaryEx`.
    pub fn open_in_secondary_ex(&self, instance: Option<&str>, set_name: &str) -> VdResult<()> {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        let (view, link) = if state.proto.phase() == vdi_proto::ClientPhase::Dne {
            self.shared
                .options
                .connector
                .open_secondary(instance.filter(|i| !i.is_empty()), set_name)
        } else {
            (SecondaryView::NotReady, None)
        };
        let result = state.proto.open_in_secondary(now, set_name, view);
        if result.is_ok() {
            state.link = link;
        }
        state.flush();
        result
    }

    /// `GetBufferHandle`: a handle another process of the set can map.
    pub fn get_buffer_handle(&self, buffer: *const u8) -> VdResult<u32> {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        let memory = state.link.as_ref().and_then(|l| l.buffers());
        let handle = memory.and_then(|m| m.offset_of(buffer).and_then(|o| m.handle_of(o)));
        let result = state
            .proto
            .check_buffer_call(now, Method::GetBufferHandle, handle.is_some());
        state.flush();
        result.map(|()| handle.unwrap_or_default())
    }

    /// `MapBufferHandle`: the address, in this process, of a buffer another process named.
    pub fn map_buffer_handle(&self, handle: u32) -> VdResult<*mut u8> {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        let memory = state.link.as_ref().and_then(|l| l.buffers());
        let address = memory.and_then(|m| m.offset_of_handle(handle).and_then(|o| m.address(o, 1)));
        let result = state
            .proto
            .check_buffer_call(now, Method::MapBufferHandle, address.is_some());
        state.flush();
        result.map(|()| address.unwrap_or(std::ptr::null_mut()))
    }

    /// Copies bytes of the buffer a handle names (from another process's GetBufferHandle) into
    /// `dst`, without touching a raw pointer: the safe companion of MapBufferHandle.
    pub fn read_buffer_by_handle(&self, handle: u32, dst: &mut [u8]) -> VdResult<()> {
        let now = self.shared.clock.now();
        let mut state = self.shared.lock();
        let memory = state.link.as_ref().and_then(|l| l.buffers());
        let ok = memory
            .as_ref()
            .and_then(|m| m.offset_of_handle(handle).map(|o| (m, o)))
            .is_some_and(|(m, o)| m.read(o, dst));
        let result = state
            .proto
            .check_buffer_call(now, Method::MapBufferHandle, ok);
        state.flush();
        result
    }

    /// The common blocking loop of GetConfiguration (and, through the device, GetCommand).
    fn wait_for<T>(
        &self,
        device: Option<DeviceIndex>,
        timeout: i64,
        mut attempt: impl FnMut(&mut SetState, vdi_proto::Tick) -> Poll<VdResult<T>>,
        timed_out: impl FnOnce(&mut SetState, vdi_proto::Tick) -> VdError,
    ) -> VdResult<T> {
        wait_for(&self.shared, device, timeout, &mut attempt, timed_out)
    }
}

/// Polls `attempt` (with the link pumped) until it is ready, the timeout passes or the server
/// dies. Shared by GetConfiguration and GetCommand.
pub(crate) fn wait_for<T>(
    shared: &Shared,
    device: Option<DeviceIndex>,
    timeout: i64,
    attempt: &mut dyn FnMut(&mut SetState, vdi_proto::Tick) -> Poll<VdResult<T>>,
    timed_out: impl FnOnce(&mut SetState, vdi_proto::Tick) -> VdError,
) -> VdResult<T> {
    let mut try_once = |result: &mut Option<VdResult<T>>| {
        let now = shared.clock.now();
        let mut state = shared.lock();
        state.pump(now, device);
        let got = attempt(&mut state, now);
        state.flush();
        if let Poll::Ready(r) = got {
            *result = Some(r);
        }
    };
    let mut result = None;
    try_once(&mut result);
    if let Some(r) = result {
        return r;
    }
    let link = shared.lock().link.clone();
    let Some(link) = link else {
        // No transport (the set was closed meanwhile): one more attempt reports the state.
        // A set that still waits has a link (Create and OpenInSecondary attach one only when
        // they succeed); without one a timeout here would come at once, not after `timeout`.
        try_once(&mut result);
        debug_assert!(result.is_some(), "a pending set without a transport");
        return result.unwrap_or_else(|| Err(timed_out(&mut shared.lock(), shared.clock.now())));
    };
    let timeout = shared.options.timeout_unit.timeout(timeout);
    let outcome = link.wait(device, timeout, &shared.options.wait, &mut || {
        try_once(&mut result);
        result.is_some()
    });
    match (outcome, result) {
        (_, Some(r)) => r,
        (WaitOutcome::PeerDead, None) => {
            let now = shared.clock.now();
            let mut state = shared.lock();
            state.proto.handle_peer_failure(now, false);
            let got = attempt(&mut state, now);
            state.flush();
            match got {
                Poll::Ready(r) => r,
                Poll::Pending => Err(VdError::new(vdi_proto::Rule::ClientServerGone)),
            }
        }
        _ => {
            let now = shared.clock.now();
            let mut state = shared.lock();
            let err = timed_out(&mut state, now);
            state.flush();
            Err(err)
        }
    }
}
