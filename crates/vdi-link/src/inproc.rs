//! An in-memory transport: the client library and the server-side set in one process, joined
//! by queues instead of shared memory. The end-to-end test bodies run over it and over shared
//! memory, so a behaviour that differs between them is a transport bug, not a protocol one.

use crate::client::{BufferMemory, ClientLink, Connector};
use crate::server::{ServerBuffers, ServerConnector, ServerLink};
use crate::set_key;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use vdi_proto::{
    DeviceIndex, Rule, SecondaryView, ToClient, ToServer, VdConfig, VdError, VdResult,
};
use vdi_shm::PeerFault;
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome};

/// The sets of one in-memory "machine": hand clones of it to both sides as their connector.
#[derive(Clone, Debug, Default)]
pub struct InProcHub {
    sets: Arc<Mutex<HashMap<String, Arc<InProcSet>>>>,
}

impl InProcHub {
    /// A hub with no sets.
    pub fn new() -> InProcHub {
        InProcHub::default()
    }

    /// Whether a set of that name exists (the client created it and has not closed it).
    pub fn contains(&self, name: &str) -> bool {
        self.lock().contains_key(name)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<InProcSet>>> {
        self.sets.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, Default)]
struct Queues {
    to_client_set: VecDeque<ToClient>,
    to_client_device: Vec<VecDeque<ToClient>>,
    to_server_set: VecDeque<ToServer>,
    to_server_device: Vec<VecDeque<ToServer>>,
    claimed: Vec<bool>,
    configured: Option<(VdConfig, Vec<String>)>,
    client_configured: bool,
    aborted: bool,
    buffers: Option<Arc<HeapBuffers>>,
    /// Bumped on every change; waiters sleep until it moves.
    generation: u64,
}

#[derive(Debug)]
struct InProcSet {
    name: String,
    requested: VdConfig,
    queues: Mutex<Queues>,
    changed: Condvar,
}

impl InProcSet {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn change(&self, f: impl FnOnce(&mut Queues)) {
        let mut q = self.lock();
        f(&mut q);
        q.generation += 1;
        self.changed.notify_all();
    }

    /// Waits until `ready`, the timeout, or nothing at all: there is no peer that can die.
    fn wait(&self, timeout: Timeout, ready: &mut dyn FnMut() -> bool) -> WaitOutcome<()> {
        let deadline = match timeout {
            Timeout::Poll => Some(Instant::now()),
            Timeout::Millis(ms) => Some(Instant::now() + Duration::from_millis(u64::from(ms))),
            Timeout::Forever => None,
        };
        loop {
            let seen = self.lock().generation;
            if ready() {
                return WaitOutcome::Ready(());
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return WaitOutcome::TimedOut;
            }
            let slice = deadline.map_or(Duration::from_millis(100), |d| {
                (d - now).min(Duration::from_millis(100))
            });
            let q = self.lock();
            if q.generation == seen {
                let _ = self.changed.wait_timeout(q, slice);
            }
        }
    }
}

/// A buffer area in the heap.
#[derive(Debug)]
struct HeapBuffers {
    bytes: Mutex<Vec<u8>>,
}

impl HeapBuffers {
    fn range(&self, offset: u64, len: usize) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(len)?;
        (end <= self.bytes.lock().unwrap_or_else(|p| p.into_inner()).len()).then_some(start..end)
    }
}

impl ServerBuffers for HeapBuffers {
    fn size(&self) -> u64 {
        self.bytes.lock().unwrap_or_else(|p| p.into_inner()).len() as u64
    }

    fn write(&self, offset: u64, src: &[u8]) -> bool {
        let Some(r) = self.range(offset, src.len()) else {
            return false;
        };
        self.bytes.lock().unwrap_or_else(|p| p.into_inner())[r].copy_from_slice(src);
        true
    }

    fn read(&self, offset: u64, dst: &mut [u8]) -> bool {
        let Some(r) = self.range(offset, dst.len()) else {
            return false;
        };
        dst.copy_from_slice(&self.bytes.lock().unwrap_or_else(|p| p.into_inner())[r]);
        true
    }
}

impl BufferMemory for HeapBuffers {
    fn size(&self) -> u64 {
        ServerBuffers::size(self)
    }

    fn read(&self, offset: u64, dst: &mut [u8]) -> bool {
        ServerBuffers::read(self, offset, dst)
    }

    fn write(&self, offset: u64, src: &[u8]) -> bool {
        ServerBuffers::write(self, offset, src)
    }

    fn address(&self, _offset: u64, _len: u64) -> Option<*mut u8> {
        None // Heap memory has no address another process could use.
    }

    fn offset_of(&self, _ptr: *const u8) -> Option<u64> {
        None
    }

    fn handle_of(&self, offset: u64) -> Option<u32> {
        u32::try_from(offset).ok()
    }

    fn offset_of_handle(&self, handle: u32) -> Option<u64> {
        (u64::from(handle) < ServerBuffers::size(self)).then_some(u64::from(handle))
    }
}

/// The client's end.
#[derive(Debug)]
struct ClientEnd {
    hub: InProcHub,
    set: Arc<InProcSet>,
    primary: bool,
}

impl ClientLink for ClientEnd {
    fn poll_set(&self) -> Result<Option<ToClient>, PeerFault> {
        Ok(self.set.lock().to_client_set.pop_front())
    }

    fn poll_device(&self, device: DeviceIndex) -> Result<Option<ToClient>, PeerFault> {
        Ok(self
            .set
            .lock()
            .to_client_device
            .get_mut(device.get())
            .and_then(VecDeque::pop_front))
    }

    fn send(&self, msg: &ToServer) {
        let msg = msg.clone();
        self.set.change(|q| match &msg {
            ToServer::DeviceOpened { .. } => {}
            ToServer::Completion { device, .. } if !q.aborted => {
                if let Some(queue) = q.to_server_device.get_mut(device.get()) {
                    queue.push_back(msg.clone());
                }
            }
            ToServer::Completion { .. } => {}
            ToServer::Abort => {
                q.aborted = true;
                q.to_server_set.push_back(ToServer::Abort);
            }
            ToServer::ClientClosed => q.to_server_set.push_back(ToServer::ClientClosed),
        });
        if msg == ToServer::ClientClosed && self.primary {
            self.hub.lock().remove(&self.set.name);
        }
    }

    fn wait(
        &self,
        _device: Option<DeviceIndex>,
        timeout: Timeout,
        _cfg: &WaitConfig,
        ready: &mut dyn FnMut() -> bool,
    ) -> WaitOutcome<()> {
        self.set.wait(timeout, ready)
    }

    fn claim_device(&self, device: DeviceIndex) -> bool {
        let mut q = self.set.lock();
        match q.claimed.get_mut(device.get()) {
            Some(c) if !*c => {
                *c = true;
                true
            }
            _ => false,
        }
    }

    fn buffers(&self) -> Option<Arc<dyn BufferMemory>> {
        let b = self.set.lock().buffers.clone()?;
        Some(b)
    }

    fn mark_configured_by_client(&self) {
        self.set.change(|q| q.client_configured = true);
    }

    fn close(&self) {}
}

/// The server's end.
#[derive(Debug)]
struct ServerEnd {
    set: Arc<InProcSet>,
}

impl ServerLink for ServerEnd {
    fn requested(&self) -> VdConfig {
        self.set.requested
    }

    fn poll_set(&self) -> Result<Option<ToServer>, PeerFault> {
        Ok(self.set.lock().to_server_set.pop_front())
    }

    fn poll_device(&self, device: DeviceIndex) -> Result<Option<ToServer>, PeerFault> {
        Ok(self
            .set
            .lock()
            .to_server_device
            .get_mut(device.get())
            .and_then(VecDeque::pop_front))
    }

    fn create_buffers(&self, data_size: u64) -> VdResult<Arc<dyn ServerBuffers>> {
        let len = usize::try_from(data_size).map_err(|_| VdError::new(Rule::SrvEndConfigMemory))?;
        let buffers = Arc::new(HeapBuffers {
            bytes: Mutex::new(vec![0; len]),
        });
        self.set.change(|q| q.buffers = Some(buffers.clone()));
        Ok(buffers)
    }

    fn send(&self, msg: &ToClient) {
        let msg = msg.clone();
        self.set.change(|q| match msg {
            ToClient::Command { device, .. } | ToClient::CloseDevice { device } => {
                if !q.aborted
                    && let Some(queue) = q.to_client_device.get_mut(device.get())
                {
                    queue.push_back(msg);
                }
            }
            ToClient::Configured {
                config,
                ref devices,
            } => {
                q.configured = Some((config, devices.clone()));
                q.to_client_set.push_back(msg);
            }
            ToClient::Abort => {
                q.aborted = true;
                q.to_client_set.push_back(msg);
            }
            other => q.to_client_set.push_back(other),
        });
    }

    fn wait(
        &self,
        timeout: Timeout,
        _cfg: &WaitConfig,
        ready: &mut dyn FnMut() -> bool,
    ) -> WaitOutcome<()> {
        self.set.wait(timeout, ready)
    }

    fn client_alive(&self) -> bool {
        true
    }

    fn close(&self) {}
}

impl Connector for InProcHub {
    fn create(
        &self,
        instance: Option<&str>,
        name: &str,
        requested: &VdConfig,
    ) -> VdResult<Arc<dyn ClientLink>> {
        let key = set_key(instance, name);
        let mut sets = self.lock();
        if sets.contains_key(&key) {
            return Err(VdError::new(Rule::CreateNameInUse));
        }
        let n = requested.device_count as usize;
        let queues = Queues {
            to_client_device: vec![VecDeque::new(); n],
            to_server_device: vec![VecDeque::new(); n],
            claimed: vec![false; n],
            ..Queues::default()
        };
        let set = Arc::new(InProcSet {
            name: key.clone(),
            requested: *requested,
            queues: Mutex::new(queues),
            changed: Condvar::new(),
        });
        sets.insert(key, set.clone());
        Ok(Arc::new(ClientEnd {
            hub: self.clone(),
            set,
            primary: true,
        }))
    }

    fn open_secondary(
        &self,
        instance: Option<&str>,
        name: &str,
    ) -> (SecondaryView, Option<Arc<dyn ClientLink>>) {
        let Some(set) = self.lock().get(&set_key(instance, name)).cloned() else {
            return (SecondaryView::Missing, None);
        };
        let q = set.lock();
        let view = match (&q.configured, q.aborted, q.client_configured) {
            (_, true, _) => SecondaryView::Aborted,
            (Some((config, devices)), false, true) => SecondaryView::Ready {
                config: *config,
                devices: devices.clone(),
            },
            _ => SecondaryView::NotReady,
        };
        drop(q);
        let link: Option<Arc<dyn ClientLink>> =
            matches!(view, SecondaryView::Ready { .. }).then(|| {
                Arc::new(ClientEnd {
                    hub: self.clone(),
                    set,
                    primary: false,
                }) as Arc<dyn ClientLink>
            });
        (view, link)
    }
}

impl ServerConnector for InProcHub {
    fn open(&self, instance: Option<&str>, set_name: &str) -> VdResult<Arc<dyn ServerLink>> {
        let set = self.lock().get(&set_key(instance, set_name)).cloned();
        match set {
            Some(set) => Ok(Arc::new(ServerEnd { set })),
            None => Err(VdError::new(Rule::SrvOpenNoSet)),
        }
    }
}
