//! The shared-memory link: the client's half of vdisim's cross-process transport.
//!
//! The client creates the control region at Create; the server's Open, EndConfiguration,
//! commands, CloseDevice, abort and Close arrive as set-state bits, ring entries and the abort
//! word; completions go back through each device's completion ring.

use crate::link::{BufferMemory, ClientLink, Connector};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use vdi_proto::{DeviceIndex, SecondaryView, ToClient, ToServer, VdConfig, VdResult};
use vdi_shm::buffers::BufferHandle;
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome, wait_until_hinted};
use vdi_shm::liveness::PeerWatch;
use vdi_shm::region::{Access, BufferRegion, ControlParams, ControlRegion};
use vdi_shm::ring::{CommandLimits, CompletionDesc, Delivered, Popped};
use vdi_shm::words;
use vdi_shm::{PeerFault, RegionError, Side};

/// The key a set is known by, shared with the server (from `vdi-link`).
pub use vdi_link::set_key;

/// Makes and joins sets in POSIX shared memory.
#[derive(Clone, Debug)]
pub struct ShmConnector {
    /// 0600 (owner) or 0660 (group) regions.
    pub access: Access,
    /// Entries per ring.
    pub ring_capacity: u32,
}

impl ShmConnector {
    /// `VDISIM_SHM_MODE=group` gives 0660 regions (the mssql-group setup); 0600 otherwise.
    pub fn from_env() -> ShmConnector {
        let access = match std::env::var("VDISIM_SHM_MODE").as_deref() {
            Ok("group") => Access::Group,
            _ => Access::Owner,
        };
        ShmConnector {
            access,
            ring_capacity: vdi_shm::ring::DEFAULT_CAPACITY,
        }
    }
}

impl Connector for ShmConnector {
    fn create(
        &self,
        instance: Option<&str>,
        name: &str,
        requested: &VdConfig,
    ) -> VdResult<Arc<dyn ClientLink>> {
        let params = ControlParams {
            set_name: set_key(instance, name),
            device_names: vec![String::new(); requested.device_count as usize],
            ring_capacity: self.ring_capacity,
            requested: *requested,
            access: self.access,
        };
        let control = ControlRegion::create(&params).map_err(|e| e.to_vd_error(Side::Client))?;
        Ok(Arc::new(ShmClientLink::new(control, self.access, 0)))
    }

    fn open_secondary(
        &self,
        instance: Option<&str>,
        name: &str,
    ) -> (SecondaryView, Option<Arc<dyn ClientLink>>) {
        let uid = rustix::process::geteuid().as_raw();
        let Ok(control) = ControlRegion::open(uid, &set_key(instance, name), self.access) else {
            return (SecondaryView::Missing, None);
        };
        if control.is_aborted() {
            return (SecondaryView::Aborted, None);
        }
        let bits = control
            .set_state()
            .load(std::sync::atomic::Ordering::SeqCst);
        if bits & words::set::CLIENT_CONFIGURED == 0 {
            return (SecondaryView::NotReady, None);
        }
        let link = ShmClientLink::new(control, self.access, words::set::CONNECTED);
        match link.read_configuration() {
            Ok((config, devices)) => {
                let link: Arc<dyn ClientLink> = Arc::new(link);
                (SecondaryView::Ready { config, devices }, Some(link))
            }
            Err(_) => (SecondaryView::NotReady, None),
        }
    }
}

/// The client's end of one set in shared memory.
#[derive(Debug)]
pub struct ShmClientLink {
    control: ControlRegion,
    access: Access,
    /// Set-state bits already turned into messages. Written only under `seen_lock`; read
    /// without it, so that the hot path learns "nothing new" with two loads and no lock.
    seen_bits: AtomicU32,
    seen_abort: AtomicBool,
    seen_lock: Mutex<()>,
    server: Mutex<Option<PeerWatch>>,
    /// Mapped once, at the configuration.
    buffers: OnceLock<Arc<ShmBuffers>>,
}

impl ShmClientLink {
    fn new(control: ControlRegion, access: Access, seen_bits: u32) -> ShmClientLink {
        ShmClientLink {
            control,
            access,
            seen_bits: AtomicU32::new(seen_bits),
            seen_abort: AtomicBool::new(false),
            seen_lock: Mutex::new(()),
            server: Mutex::new(None),
            buffers: OnceLock::new(),
        }
    }

    /// The negotiated configuration and device names, mapping the buffer region.
    fn read_configuration(&self) -> Result<(VdConfig, Vec<String>), PeerFault> {
        let config = self.control.negotiated_config();
        let count = self.control.geometry().device_count;
        if config.device_count != count {
            return Err(PeerFault::BadHeader("negotiated deviceCount"));
        }
        let devices = (0..count)
            .map(|i| {
                self.control
                    .device_name(DeviceIndex(i as u16))
                    .ok_or(PeerFault::BadHeader("device name"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(mapped) = self.buffers.get() {
            // A secondary maps the area when it opens the set, then sees CONFIGURED again.
            if mapped.region.data_size() < u64::from(config.buffer_area_size) {
                return Err(PeerFault::BadHeader(
                    "buffer region smaller than bufferAreaSize",
                ));
            }
            return Ok((config, devices));
        }
        let info = self
            .control
            .buffer_info()?
            .ok_or(PeerFault::BadHeader("buffer region missing"))?;
        let region = BufferRegion::open(&info, self.access).map_err(|e| match e {
            RegionError::Security { .. } => PeerFault::ForeignRegion("buffer"),
            _ => PeerFault::BadHeader("buffer region"),
        })?;
        // Made by our server, not by someone who took the name: its header says so.
        if region.creator_pid() != self.control.server_pid() {
            return Err(PeerFault::ForeignRegion("buffer"));
        }
        if region.data_size() < u64::from(config.buffer_area_size) {
            return Err(PeerFault::BadHeader(
                "buffer region smaller than bufferAreaSize",
            ));
        }
        // Only the area the configuration promised: a hostile server's oversized region
        // stays lazily mapped.
        region.prefault(u64::from(config.buffer_area_size));
        let _ = self.buffers.set(Arc::new(ShmBuffers {
            limits: CommandLimits {
                buffer_area: region.data_size(),
                max_transfer: config.max_transfer_size,
            },
            region,
        }));
        Ok((config, devices))
    }

    fn server_alive(&self) -> bool {
        let mut watch = self.server.lock().unwrap_or_else(|p| p.into_inner());
        if watch.is_none() {
            let pid = self.control.server_pid();
            if pid == 0 {
                return true; // No server attached yet: nothing can have died.
            }
            *watch = PeerWatch::from_pid(pid).ok();
        }
        watch.as_ref().is_none_or(PeerWatch::is_alive)
    }

    fn limits(&self) -> CommandLimits {
        self.buffers.get().map_or(
            CommandLimits {
                buffer_area: 0,
                max_transfer: 0,
            },
            |b| b.limits,
        )
    }
}

impl ClientLink for ShmClientLink {
    fn poll_set(&self) -> Result<Option<ToClient>, PeerFault> {
        use words::set::*;
        let bits = self.control.set_state().load(Ordering::SeqCst);
        let aborted = self.control.is_aborted();
        if bits & !self.seen_bits.load(Ordering::Acquire) == 0
            && aborted == self.seen_abort.load(Ordering::Acquire)
        {
            return Ok(None); // The hot path: nothing new, no lock taken.
        }
        let guard = self.seen_lock.lock().unwrap_or_else(|p| p.into_inner());
        let seen = self.seen_bits.load(Ordering::Acquire);
        let new = bits & !seen;
        let mark = |bit: u32| self.seen_bits.store(seen | bit, Ordering::Release);
        if new & CONNECTED != 0 {
            mark(CONNECTED);
            return Ok(Some(ToClient::Connected));
        }
        if new & CONFIGURED != 0 {
            mark(CONFIGURED);
            drop(guard);
            let (config, devices) = self.read_configuration()?;
            return Ok(Some(ToClient::Configured { config, devices }));
        }
        if aborted && !self.seen_abort.swap(true, Ordering::AcqRel) {
            return Ok(Some(ToClient::Abort));
        }
        if new & SERVER_CLOSED != 0 {
            mark(SERVER_CLOSED);
            return Ok(Some(ToClient::ServerClosed));
        }
        // Only bits that carry no message (the client's own) are new: remember them too.
        self.seen_bits.store(seen | bits, Ordering::Release);
        Ok(None)
    }

    fn poll_device(&self, device: DeviceIndex) -> Result<Option<ToClient>, PeerFault> {
        let Some(dev) = self.control.device(device) else {
            return Ok(None);
        };
        match dev.commands().pop(&self.limits())? {
            Popped::Item(Delivered::Command(c)) => Ok(Some(ToClient::Command {
                device,
                command: vdi_proto::WireCommand {
                    id: c.id,
                    code: c.code,
                    size: c.size,
                    position: c.position,
                    buffer_offset: c.buffer_offset,
                },
            })),
            Popped::Item(Delivered::CloseMarker) => Ok(Some(ToClient::CloseDevice { device })),
            Popped::Empty | Popped::Closed => Ok(None),
        }
    }

    fn send(&self, msg: &ToServer) {
        match msg {
            ToServer::DeviceOpened { .. } => {}
            ToServer::Completion { device, completion } => {
                let Some(dev) = self.control.device(*device) else {
                    return;
                };
                let desc = CompletionDesc::new(
                    completion.id,
                    completion.code,
                    completion.bytes,
                    completion.position,
                );
                // A closed ring means the set aborted: the server's abort path completed it.
                // vdisim's server waits on the set's event count (one waiter takes the
                // completions of every device), never on the device's completion event.
                if dev.completions().push(&desc).is_ok() {
                    self.control.state_events().notify_all();
                }
            }
            ToServer::Abort => {
                self.control.signal_abort();
            }
            ToServer::ClientClosed => self.set_bits(words::set::CLIENT_CLOSED),
        }
    }

    fn wait(
        &self,
        device: Option<DeviceIndex>,
        timeout: Timeout,
        cfg: &WaitConfig,
        ready: &mut dyn FnMut() -> bool,
    ) -> WaitOutcome<()> {
        let alive = || self.server_alive();
        let set_news = || self.control.set_news();
        // While spinning, the costly `ready` (the set's lock and state machine) runs only once
        // one of these words moved.
        match device.and_then(|d| self.control.device(d)) {
            Some(dev) => wait_until_hinted(
                &dev.command_event(),
                timeout,
                cfg,
                || (dev.commands().pushed(), set_news()),
                || ready().then_some(()),
                alive,
            ),
            None => wait_until_hinted(
                &self.control.state_events(),
                timeout,
                cfg,
                set_news,
                || ready().then_some(()),
                alive,
            ),
        }
    }

    fn claim_device(&self, device: DeviceIndex) -> bool {
        self.control.device(device).is_some_and(|d| {
            d.client_state()
                .compare_exchange(
                    words::device::UNOPENED,
                    words::device::OPENED,
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                )
                .is_ok()
        })
    }

    fn buffers(&self) -> Option<Arc<dyn BufferMemory>> {
        let b = self.buffers.get()?.clone();
        Some(b)
    }

    fn mark_configured_by_client(&self) {
        self.set_bits(words::set::CLIENT_CONFIGURED);
    }

    fn close(&self) {
        self.control.unlink();
        // A server that died cannot remove its buffer region; its client does (decision 31),
        // also when the server died before publishing it: the name was announced first.
        // True once nothing of the server's is left under the name (removed, or gone).
        let remove: Box<dyn Fn() -> bool + '_> = match self.control.announced_buffer_name() {
            Some(name) => Box::new(move || {
                !matches!(
                    vdi_shm::region::reclaim_if_dead(&name),
                    vdi_shm::region::Reclaim::Alive
                )
            }),
            None => match self.buffers.get() {
                Some(b) => Box::new(move || b.region.unlink_if_orphaned()),
                None => return,
            },
        };
        if !remove() && !self.server_closed() {
            self.remove_once_the_server_is_dead(remove.as_ref());
        }
    }
}

/// How long a client closing a set its server did not close waits for that server to be
/// gone: a server killed a moment ago still holds its region's lock until the kernel has
/// closed its files, which happens after the client can already see its socket close.
const DYING_SERVER_GRACE: std::time::Duration = std::time::Duration::from_millis(100);
/// And how long, once the server is dead, for its region's lock to be free.
const DEAD_SERVER_LOCK_BOUND: std::time::Duration = std::time::Duration::from_secs(1);

impl ShmClientLink {
    fn server_closed(&self) -> bool {
        self.control.set_state().load(Ordering::SeqCst) & words::set::SERVER_CLOSED != 0
    }

    /// The buffer region of a server that ended without closing the set: `remove` (true once
    /// nothing is left to remove) is retried until its creator is dead (decision 31). A
    /// server that stays alive keeps it (it removes it itself), so this gives up after
    /// [`DYING_SERVER_GRACE`].
    fn remove_once_the_server_is_dead(&self, remove: &dyn Fn() -> bool) {
        let started = std::time::Instant::now();
        let mut died_at = None;
        loop {
            if remove() {
                return;
            }
            let now = std::time::Instant::now();
            match died_at {
                None if self.server_alive() => {
                    if now - started > DYING_SERVER_GRACE {
                        return;
                    }
                }
                None => died_at = Some(now),
                Some(t) if now - t > DEAD_SERVER_LOCK_BOUND => return,
                Some(_) => {}
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    fn set_bits(&self, bits: u32) {
        self.control
            .set_state()
            .fetch_or(bits, std::sync::atomic::Ordering::SeqCst);
        self.control.state_events().notify_all();
    }
}

/// The mapped buffer region, as the client library reaches it.
#[derive(Debug)]
struct ShmBuffers {
    region: BufferRegion,
    limits: CommandLimits,
}

impl BufferMemory for ShmBuffers {
    fn size(&self) -> u64 {
        self.region.data_size()
    }

    fn read(&self, offset: u64, dst: &mut [u8]) -> bool {
        self.region.read(offset, dst)
    }

    fn write(&self, offset: u64, src: &[u8]) -> bool {
        self.region.write(offset, src)
    }

    fn address(&self, offset: u64, len: u64) -> Option<*mut u8> {
        self.region.data_ptr(offset, len)
    }

    fn lease(&self, offset: u64, len: u64) -> Option<vdi_shm::region::BufferLease<'_>> {
        self.region.lease(offset, len)
    }

    fn offset_of(&self, ptr: *const u8) -> Option<u64> {
        self.region.offset_of_ptr(ptr)
    }

    fn handle_of(&self, offset: u64) -> Option<u32> {
        BufferHandle::encode(offset, self.region.generation())
            .ok()
            .map(|h| h.0)
    }

    fn offset_of_handle(&self, handle: u32) -> Option<u64> {
        BufferHandle(handle)
            .decode(self.region.generation(), self.region.data_size())
            .ok()
    }
}
