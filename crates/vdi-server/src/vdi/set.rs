//! The server-side virtual device set (IServerVirtualDeviceSet2 / IServerVirtualDevice) and its
//! agent.
//!
//! The caller waiting for completions ([`ServerVirtualDeviceSet::next_completion`]) takes them
//! straight from the rings, so a round trip costs two wake-ups (the client's GetCommand, then
//! this caller), as a raw ping-pong does. The agent thread only ticks: the 2 × serverTimeOut
//! watchdog, the client's liveness and set-level changes while nobody waits.

use super::link::{ServerBuffers, ServerConnector, ServerLink};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use vdi_proto::config::ServerChoice;
use vdi_proto::{
    Completion, DeviceIndex, Rule, SendRequest, ServerOptions, ServerPhase, ServerSet, Tick,
    ToServer, VdConfig, VdError, VdResult,
};
use vdi_shm::buffers::BufferArea;
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome};
use vdi_shm::tick::TickClock;

#[derive(Debug)]
struct State {
    proto: ServerSet,
    link: Option<Arc<dyn ServerLink>>,
    buffers: Option<Arc<dyn ServerBuffers>>,
    area: Option<BufferArea>,
    devices: usize,
    /// Finished commands not yet taken, in the order the core finished them.
    ready: VecDeque<Completion>,
}

/// Room reserved for unread completions: no allocation per command until a caller leaves more
/// than this many unread (each device has at most maxIODepth outstanding).
const COMPLETION_CAPACITY: usize = 1024;

/// How often the agent wakes for the watchdog and the client's liveness.
const AGENT_TICK: Duration = Duration::from_millis(100);

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Coarse: the server core keeps no transcript, and its watchdog counts seconds.
    clock: TickClock,
    wait: WaitConfig,
    /// Set by `close` to stop the agent.
    stop_agent: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> Tick {
        self.clock.now()
    }
}

impl State {
    /// Moves everything the client sent into the core, then sends what the core produced and
    /// queues finished commands in `ready`.
    fn pump(&mut self, now: Tick) {
        if let Some(link) = self.link.clone() {
            // Completions first: a client pushes its last completions before it closes the set.
            let mut fault = self.drain_completions(&*link, now);
            loop {
                match link.poll_set() {
                    Ok(Some(msg)) => {
                        if msg == ToServer::ClientClosed {
                            fault |= self.drain_completions(&*link, now);
                        }
                        self.proto.handle_message(now, msg);
                    }
                    Ok(None) => break,
                    Err(_) => {
                        fault = true;
                        break;
                    }
                }
            }
            if fault {
                self.proto.handle_peer_failure(now, true);
                link.send(&vdi_proto::ToClient::Abort);
            }
            self.proto.handle_timeout(now);
        }
        self.flush();
    }

    /// Takes every completion waiting in the rings; true on a malformed entry.
    fn drain_completions(&mut self, link: &dyn ServerLink, now: Tick) -> bool {
        for d in 0..self.devices {
            loop {
                match link.poll_device(DeviceIndex(d as u16)) {
                    Ok(Some(msg)) => self.proto.handle_message(now, msg),
                    Ok(None) => break,
                    Err(_) => return true,
                }
            }
        }
        false
    }

    fn flush(&mut self) {
        while let Some(msg) = self.proto.poll_transmit() {
            if let Some(link) = &self.link {
                link.send(&msg);
            }
        }
        while let Some(done) = self.proto.poll_completion() {
            self.ready.push_back(done);
        }
        while self.proto.poll_event().is_some() {}
    }
}

/// The fake sqlservr's side of one virtual device set.
#[derive(Debug)]
pub struct ServerVirtualDeviceSet {
    shared: Arc<Shared>,
    connector: Arc<dyn ServerConnector>,
    agent: Option<JoinHandle<()>>,
}

/// A device of a server set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerVirtualDevice {
    /// Its index.
    pub index: DeviceIndex,
}

impl ServerVirtualDeviceSet {
    /// A set object in DNE that finds client sets through `connector`.
    pub fn new(
        connector: Arc<dyn ServerConnector>,
        options: ServerOptions,
    ) -> ServerVirtualDeviceSet {
        ServerVirtualDeviceSet::with_wait(connector, options, WaitConfig::default())
    }

    /// [`ServerVirtualDeviceSet::new`] whose waits for completions spin and park as `wait`
    /// says (the default spins briefly, then parks).
    pub fn with_wait(
        connector: Arc<dyn ServerConnector>,
        options: ServerOptions,
        wait: WaitConfig,
    ) -> ServerVirtualDeviceSet {
        let state = State {
            proto: ServerSet::new(options),
            link: None,
            buffers: None,
            area: None,
            devices: 0,
            ready: VecDeque::with_capacity(COMPLETION_CAPACITY),
        };
        ServerVirtualDeviceSet {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                clock: TickClock::new(),
                wait,
                stop_agent: AtomicBool::new(false),
            }),
            connector,
            agent: None,
        }
    }

    /// The next finished command (the SDK's completion callback), in the order the core
    /// finished them; `None` when nothing finished within `timeout`.
    ///
    /// The caller itself takes completions from the rings, runs the watchdog and checks the
    /// client's liveness while it waits: no other thread has to wake up in between.
    pub fn next_completion(&self, timeout: Duration) -> Option<Completion> {
        let link = {
            let mut state = self.shared.lock();
            state.pump(self.shared.now());
            if let Some(done) = state.ready.pop_front() {
                return Some(done);
            }
            state.link.clone()?
        };
        let mut got = None;
        let outcome = link.wait(wait_timeout(timeout), &self.shared.wait, &mut || {
            let mut state = self.shared.lock();
            state.pump(self.shared.now());
            got = state.ready.pop_front();
            got.is_some()
        });
        match outcome {
            WaitOutcome::Ready(()) => got,
            WaitOutcome::TimedOut => None,
            WaitOutcome::PeerDead => {
                let mut state = self.shared.lock();
                state.proto.handle_peer_failure(self.shared.now(), false);
                state.flush();
                state.ready.pop_front()
            }
        }
    }

    /// A finished command if one is waiting (one look at the rings, no wait).
    pub fn try_completion(&self) -> Option<Completion> {
        let mut state = self.shared.lock();
        state.pump(self.shared.now());
        state.ready.pop_front()
    }

    /// The set's phase (after a look at what the client sent: its abort shows at once).
    pub fn phase(&self) -> ServerPhase {
        let mut state = self.shared.lock();
        state.pump(self.shared.now());
        state.proto.phase()
    }

    /// The negotiated configuration (after EndConfiguration).
    pub fn configuration(&self) -> Option<VdConfig> {
        self.shared.lock().proto.configuration().copied()
    }

    /// Commands outstanding on `device`.
    pub fn outstanding(&self, device: DeviceIndex) -> u32 {
        self.shared.lock().proto.outstanding(device)
    }

    /// `Open`: attaches to the client's set.
    pub fn open(&self, instance: Option<&str>, set_name: &str) -> VdResult<()> {
        let now = self.shared.now();
        let found = self.connector.open(instance, set_name);
        let mut state = self.shared.lock();
        let requested = found.as_ref().ok().map(|l| l.requested());
        let result = match (&found, state.proto.phase()) {
            // A set that exists but could not be opened (security) keeps its own code.
            (Err(e), ServerPhase::Dne) if e.code != vdi_proto::VdCode::Invalid => {
                let _ = state.proto.open(now, set_name, None);
                Err(*e)
            }
            _ => state.proto.open(now, set_name, requested),
        };
        if result.is_ok() {
            state.link = found.ok();
        }
        state.flush();
        result
    }

    /// The server's `GetConfiguration`: what the client asked for.
    pub fn get_configuration(&self) -> VdResult<VdConfig> {
        let now = self.shared.now();
        self.shared.lock().proto.get_configuration(now)
    }

    /// `BeginConfiguration`.
    pub fn begin_configuration(
        &self,
        features: u32,
        block_size: u32,
        alignment: u32,
        max_transfer_size: u32,
        timeout_ms: u32,
    ) -> VdResult<()> {
        let now = self.shared.now();
        let choice = ServerChoice {
            features,
            block_size,
            alignment,
            max_transfer_size,
            timeout_ms,
        };
        let mut state = self.shared.lock();
        let result = state.proto.begin_configuration(now, choice);
        state.flush();
        result
    }

    /// `RequestBuffers`.
    pub fn request_buffers(&self, size: u32, alignment: u32, count: u32) -> VdResult<()> {
        let now = self.shared.now();
        let mut state = self.shared.lock();
        state.proto.request_buffers(now, size, alignment, count)
    }

    /// `EndConfiguration`: creates the buffer area, publishes the configuration and the device
    /// names (the VIRTUAL_DEVICE clauses, the first being the set name), and starts the
    /// completion agent.
    pub fn end_configuration(&mut self, device_names: &[String]) -> VdResult<VdConfig> {
        let now = self.shared.now();
        let mut state = self.shared.lock();
        let Some(link) = state.link.clone() else {
            return state.proto.end_configuration(now, device_names);
        };
        let size = state.proto.buffer_area_bytes();
        if state.proto.phase() == ServerPhase::Configurable
            && state.buffers.is_none()
            && size <= state.proto.options().max_buffer_area
        {
            match link.create_buffers(size) {
                Ok(b) => state.buffers = Some(b),
                // A squatted region name keeps its own code: it is not a lack of memory.
                Err(e) if e.rule == Rule::SrvBufferSquatted => return Err(e),
                Err(_) => return Err(VdError::new(Rule::SrvEndConfigMemory)),
            }
        }
        let config = state.proto.end_configuration(now, device_names)?;
        state.devices = device_names.len();
        state.area = Some(BufferArea::new(
            u64::from(config.buffer_area_size),
            config.alignment,
            config.prefix_zone_size,
        ));
        state.flush();
        drop(state);
        let shared = self.shared.clone();
        self.agent = Some(
            std::thread::Builder::new()
                .name("vdi-set-agent".into())
                .spawn(move || run_agent(&shared, &link))
                .expect("spawn the completion agent"),
        );
        Ok(config)
    }

    /// The server's `OpenDevice`: the next unopened device.
    pub fn open_device(&self) -> VdResult<(ServerVirtualDevice, String)> {
        let now = self.shared.now();
        let mut state = self.shared.lock();
        let (index, name) = state.proto.open_device(now)?;
        Ok((ServerVirtualDevice { index }, name))
    }

    /// `AllocateBuffer`: a data offset in the buffer area (the prefix zone precedes it).
    pub fn allocate_buffer(&self, size: u32, alignment: u32) -> VdResult<u64> {
        let mut state = self.shared.lock();
        let area = state
            .area
            .as_mut()
            .ok_or(VdError::new(Rule::SrvOpenDeviceState))?;
        area.allocate(size, alignment).map_err(|e| e.to_vd_error())
    }

    /// `FreeBuffer`.
    pub fn free_buffer(&self, offset: u64) -> VdResult<()> {
        let mut state = self.shared.lock();
        let area = state
            .area
            .as_mut()
            .ok_or(VdError::new(Rule::SrvBufferInvalid))?;
        area.free(offset).map_err(|e| e.to_vd_error())
    }

    /// `IsSharedBuffer`.
    pub fn is_shared_buffer(&self, offset: u64) -> bool {
        self.shared
            .lock()
            .area
            .as_ref()
            .is_some_and(|a| a.is_shared_buffer(offset))
    }

    /// The buffer area, to fill Write buffers and read Read buffers.
    pub fn buffers(&self) -> Option<Arc<dyn ServerBuffers>> {
        self.shared.lock().buffers.clone()
    }

    /// `SendCommand`. A failure also appears as a completion (the SDK's callback).
    pub fn send_command(
        &self,
        device: ServerVirtualDevice,
        request: SendRequest,
    ) -> VdResult<vdi_proto::CmdId> {
        let now = self.shared.now();
        let mut state = self.shared.lock();
        let result = state.proto.send_command(now, device.index, request);
        state.flush();
        result
    }

    /// `CloseDevice`.
    pub fn close_device(&self, device: ServerVirtualDevice) -> VdResult<()> {
        let now = self.shared.now();
        let mut state = self.shared.lock();
        let result = state.proto.close_device(now, device.index);
        state.flush();
        result
    }

    /// The server's `SignalAbort`.
    pub fn signal_abort(&self) -> VdResult<()> {
        let now = self.shared.now();
        let mut state = self.shared.lock();
        let result = state.proto.signal_abort(now);
        state.flush();
        result
    }

    /// Waits until every outstanding command completed (or the set aborted), at most `timeout`.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let mut state = self.shared.lock();
                state.pump(self.shared.now());
                if state.proto.outstanding_total() == 0 || state.proto.phase() == ServerPhase::Abort
                {
                    return true;
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The server's `Close`: VD_E_PROTOCOL (and abort processing) while devices are open.
    pub fn close(&mut self) -> VdResult<()> {
        let now = self.shared.now();
        let result = {
            let mut state = self.shared.lock();
            state.pump(now);
            let result = state.proto.close(now);
            state.flush();
            result
        };
        if let Some(agent) = self.agent.take() {
            self.shared.stop_agent.store(true, Ordering::SeqCst);
            agent.thread().unpark();
            let _ = agent.join();
        }
        let mut state = self.shared.lock();
        state.buffers = None;
        if let Some(link) = state.link.take() {
            link.close();
        }
        result
    }
}

impl Drop for ServerVirtualDeviceSet {
    fn drop(&mut self) {
        if self.shared.lock().proto.phase() != ServerPhase::Dne {
            let _ = self.close();
        }
    }
}

/// The SDK's millisecond timeout for a `Duration` (rounded up; beyond `u32` ms: for ever).
fn wait_timeout(d: Duration) -> Timeout {
    if d.is_zero() {
        return Timeout::Poll;
    }
    match u32::try_from(d.as_micros().div_ceil(1000)) {
        Ok(ms) if ms < u32::MAX => Timeout::Millis(ms),
        _ => Timeout::Forever,
    }
}

/// The agent: every tick, takes what the client sent (completions land in `ready` for the
/// next caller), runs the 2 × serverTimeOut watchdog and checks that the client is alive,
/// until the set is closed. A caller waiting in `next_completion` does all of this itself.
fn run_agent(shared: &Shared, link: &Arc<dyn ServerLink>) {
    while !shared.stop_agent.load(Ordering::SeqCst) {
        std::thread::park_timeout(AGENT_TICK);
        let alive = link.client_alive();
        let now = shared.now();
        let mut state = shared.lock();
        state.pump(now);
        if !alive {
            state.proto.handle_peer_failure(now, false);
            state.flush();
        }
        if state.proto.phase() == ServerPhase::Dne {
            return;
        }
    }
}
