//! The server's half of the shared-memory transport.

use super::link::{ServerBuffers, ServerConnector, ServerLink};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use vdi_proto::{DeviceIndex, ToClient, ToServer, VdConfig, VdResult, WireCompletion};
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome, wait_until_hinted};
use vdi_shm::naming::{BufferNonce, RegionKind, region_name};
use vdi_shm::region::{Access, BufferRegion, ControlRegion};
use vdi_shm::ring::{CommandDesc, Popped};
use vdi_shm::{PeerFault, Side, words};

/// A bare server set over shared memory, opened on the client's set `set_name` and configured
/// for writing with one device and one 64 KiB buffer requested; its device is opened. What the
/// round-trip benches and the per-command allocation test drive, without the T-SQL engine.
pub fn open_one_device_set(
    set_name: &str,
    wait: WaitConfig,
) -> VdResult<(super::ServerVirtualDeviceSet, super::ServerVirtualDevice)> {
    let mut set = super::ServerVirtualDeviceSet::with_wait(
        Arc::new(ShmServerConnector::from_env()),
        vdi_proto::ServerOptions::default(),
        wait,
    );
    set.open(None, set_name)?;
    set.begin_configuration(vdi_proto::vdf::WRITE_MEDIA, 512, 0, 65536, 60_000)?;
    set.request_buffers(65536, 0, 1)?;
    set.end_configuration(&[set_name.to_string()])?;
    let (device, _) = set.open_device()?;
    Ok((set, device))
}

/// The key a set is known by, shared with the client library (from `vdi-link`).
pub use vdi_link::set_key;

/// Opens client sets in POSIX shared memory.
#[derive(Clone, Debug)]
pub struct ShmServerConnector {
    /// The uid whose sets this server opens (the client's user).
    pub client_uid: u32,
    /// 0600 or 0660 regions.
    pub access: Access,
    /// Test hook: names every buffer region with this nonce instead of a random one, so that a
    /// test can squat the name first. Never set outside tests.
    #[doc(hidden)]
    pub fixed_buffer_nonce: Option<BufferNonce>,
}

impl ShmServerConnector {
    /// Sets of the current user, in the mode `VDISIM_SHM_MODE` selects.
    pub fn from_env() -> ShmServerConnector {
        let access = match std::env::var("VDISIM_SHM_MODE").as_deref() {
            Ok("group") => Access::Group,
            _ => Access::Owner,
        };
        ShmServerConnector {
            client_uid: rustix::process::geteuid().as_raw(),
            access,
            fixed_buffer_nonce: None,
        }
    }
}

impl ServerConnector for ShmServerConnector {
    fn open(&self, instance: Option<&str>, set_name: &str) -> VdResult<Arc<dyn ServerLink>> {
        let control =
            ControlRegion::open(self.client_uid, &set_key(instance, set_name), self.access)
                .map_err(|e| e.to_vd_error(Side::Server))?;
        if !control.creator_alive() {
            // A crashed client's set: remove it, and wait for a live one as for a missing set
            // (its client may be creating it again right now).
            control.unlink_if_orphaned();
            return Err(vdi_proto::VdError::new(vdi_proto::Rule::SrvOpenNoSet));
        }
        control.set_server_pid(std::process::id());
        Ok(Arc::new(ShmServerLink {
            control,
            access: self.access,
            fixed_nonce: self.fixed_buffer_nonce,
            seen: Mutex::new(Seen::default()),
            buffers: Mutex::new(None),
        }))
    }
}

#[derive(Debug, Default)]
struct Seen {
    abort: bool,
    client_closed: bool,
}

/// The server's end of one set.
#[derive(Debug)]
pub struct ShmServerLink {
    control: ControlRegion,
    access: Access,
    fixed_nonce: Option<BufferNonce>,
    seen: Mutex<Seen>,
    buffers: Mutex<Option<Arc<ShmServerBuffers>>>,
}

impl ShmServerLink {
    fn set_bits(&self, bits: u32) {
        self.control.set_state().fetch_or(bits, Ordering::SeqCst);
        self.control.state_events().notify_all();
    }

    fn wake_all_devices(&self) {
        for i in 0..self.control.geometry().device_count {
            if let Some(dev) = self.control.device(DeviceIndex(i as u16)) {
                dev.command_event().unpark();
            }
        }
    }
}

impl ServerLink for ShmServerLink {
    fn requested(&self) -> VdConfig {
        self.control.requested_config()
    }

    fn poll_set(&self) -> Result<Option<ToServer>, PeerFault> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if !seen.abort && self.control.is_aborted() {
            seen.abort = true;
            return Ok(Some(ToServer::Abort));
        }
        let bits = self.control.set_state().load(Ordering::SeqCst);
        if !seen.client_closed && bits & words::set::CLIENT_CLOSED != 0 {
            seen.client_closed = true;
            return Ok(Some(ToServer::ClientClosed));
        }
        Ok(None)
    }

    fn poll_device(&self, device: DeviceIndex) -> Result<Option<ToServer>, PeerFault> {
        let Some(dev) = self.control.device(device) else {
            return Ok(None);
        };
        match dev.completions().pop()? {
            Popped::Item(c) => Ok(Some(ToServer::Completion {
                device,
                completion: WireCompletion {
                    id: c.id,
                    code: c.completion_code,
                    bytes: c.bytes_transferred,
                    position: c.position,
                },
            })),
            Popped::Empty | Popped::Closed => Ok(None),
        }
    }

    fn create_buffers(&self, data_size: u64) -> VdResult<Arc<dyn ServerBuffers>> {
        let set_name = self
            .control
            .set_name()
            .ok_or(vdi_proto::VdError::new(vdi_proto::Rule::SrvOpenNoSet))?;
        let nonce = match self.fixed_nonce {
            Some(nonce) => nonce,
            None => BufferNonce::random()
                .map_err(|_| vdi_proto::VdError::new(vdi_proto::Rule::SrvEndConfigMemory))?,
        };
        let uid = self.control.creator_uid();
        let name = region_name(uid, &set_name, RegionKind::Buffer(nonce))
            .map_err(|_| vdi_proto::VdError::new(vdi_proto::Rule::SrvOpenNoSet))?;
        // Announced before it exists: should this server die before it publishes the region,
        // the client still knows what to remove.
        self.control.announce_buffer(&name);
        let region = BufferRegion::create(uid, &set_name, 1, nonce, data_size, self.access)
            .map_err(|e| e.to_vd_error(Side::Server))?;
        region.prefault(data_size);
        self.control.publish_buffer(&region.info());
        let buffers = Arc::new(ShmServerBuffers { region });
        *self.buffers.lock().unwrap_or_else(|p| p.into_inner()) = Some(buffers.clone());
        Ok(buffers)
    }

    fn send(&self, msg: &ToClient) {
        match msg {
            ToClient::Connected => self.set_bits(words::set::CONNECTED),
            ToClient::Configured { config, devices } => {
                for (i, name) in devices.iter().enumerate() {
                    self.control.set_device_name(DeviceIndex(i as u16), name);
                }
                self.control.set_negotiated_config(config);
                self.set_bits(words::set::CONFIGURED);
            }
            ToClient::Command { device, command } => {
                let Some(dev) = self.control.device(*device) else {
                    return;
                };
                let desc = CommandDesc::new(
                    command.id,
                    command.code,
                    command.size,
                    command.position,
                    command.buffer_offset,
                );
                // Full cannot happen (the core keeps at most maxIODepth outstanding); Closed
                // means the set aborted and the abort path completes the command.
                if dev.commands().push(&desc).is_ok() {
                    dev.command_event().unpark();
                }
            }
            ToClient::CloseDevice { device } => {
                if let Some(dev) = self.control.device(*device)
                    && dev.commands().push(&CommandDesc::close_marker()).is_ok()
                {
                    dev.command_event().unpark();
                }
            }
            ToClient::Abort => {
                self.control.signal_abort();
            }
            ToClient::ServerClosed => {
                self.set_bits(words::set::SERVER_CLOSED);
                self.wake_all_devices();
            }
        }
    }

    fn wait(
        &self,
        timeout: Timeout,
        cfg: &WaitConfig,
        ready: &mut dyn FnMut() -> bool,
    ) -> WaitOutcome<()> {
        // The client bumps the event count after every completion it pushes and every
        // set-state change, so while spinning the costly `ready` runs only once a word moved.
        wait_until_hinted(
            &self.control.state_events(),
            timeout,
            cfg,
            || self.control.set_news(),
            || ready().then_some(()),
            || self.client_alive(),
        )
    }

    fn client_alive(&self) -> bool {
        self.control.creator_alive()
    }

    fn close(&self) {
        *self.buffers.lock().unwrap_or_else(|p| p.into_inner()) = None;
        // A client that died cannot remove its control region; the server does.
        self.control.unlink_if_orphaned();
    }
}

/// The buffer region this server created.
#[derive(Debug)]
struct ShmServerBuffers {
    region: BufferRegion,
}

impl ServerBuffers for ShmServerBuffers {
    fn size(&self) -> u64 {
        self.region.data_size()
    }

    fn write(&self, offset: u64, src: &[u8]) -> bool {
        self.region.write(offset, src)
    }

    fn read(&self, offset: u64, dst: &mut [u8]) -> bool {
        self.region.read(offset, dst)
    }

    fn lease(&self, offset: u64, len: u64) -> Option<vdi_shm::region::BufferLease<'_>> {
        self.region.lease(offset, len)
    }
}

/// How often [`Sweeper`] looks for regions whose creator died.
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// The daemon's periodic sweep (decision 53): every [`SWEEP_INTERVAL`], and once at start,
/// removes the regions of this uid whose creator is dead (a crashed client and server both
/// gone, or a set that no server ever opened). Live regions and other users' are never
/// touched. Stops when dropped.
#[derive(Debug)]
pub struct Sweeper {
    stop: Arc<(Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sweeper {
    /// Starts sweeping every `interval`; `log` hears of every region removed.
    pub fn start(
        interval: std::time::Duration,
        log: impl Fn(&str) + Send + 'static,
    ) -> std::io::Result<Sweeper> {
        let stop = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let flag = Arc::clone(&stop);
        let uid = rustix::process::geteuid().as_raw();
        let thread = std::thread::Builder::new()
            .name("vdisim-shm-sweep".into())
            .spawn(move || {
                let (lock, wake) = &*flag;
                let mut stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
                while !*stopped {
                    drop(stopped);
                    for name in vdi_shm::region::cleanup_stale(uid) {
                        log(&format!("removed {name}: its creator is dead"));
                    }
                    stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
                    stopped = wake
                        .wait_timeout(stopped, interval)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            })?;
        Ok(Sweeper {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        *self.stop.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
