//! POSIX shared-memory regions: creation, opening with checks, mapping, unlinking, cleanup.
//!
//! * The **control region** is created by the client at Create ([`ControlRegion::create`]) and
//!   opened by the server ([`ControlRegion::open`]).
//! * The **buffer region** is created by the server at EndConfiguration
//!   ([`BufferRegion::create`]); its name, size and generation are recorded in the control
//!   header ([`ControlRegion::publish_buffer`]) and the client maps it after GetConfiguration
//!   ([`BufferRegion::open`]).
//!
//! Objects are created with `O_CREAT|O_EXCL`, then `fchmod`-ed to exactly 0600 (or 0660 in
//! [`Access::Group`] mode) so that the umask cannot change the result (vdi-facts §7). The
//! creator holds `flock(LOCK_EX)` on its fd for its whole life and unlinks the object when the
//! region is dropped; [`cleanup_stale`] removes objects whose creator died.
//!
//! Mappings are `memmap2::MmapRaw`; the structures in them are made only of atomics and are
//! handed out as shared references (never `&mut`), so a peer writing concurrently is not UB.
//! A peer that *shrinks* the object after we mapped it would make accesses fault (SIGBUS);
//! that cannot be validated away and is a known limitation of POSIX shared memory.

use crate::channel::DeviceChannel;
use crate::error::RegionError;
use crate::event::{Event, EventCount};
use crate::layout::{
    BUFFER_DATA_OFFSET, BUFFER_MAGIC, BufferHeader, CONTROL_MAGIC, ControlGeometry, ControlHeader,
    DeviceBlock, LAYOUT_VERSION, read_name, write_name,
};
use crate::naming::{NAME_FIELD_BYTES, PREFIX, RegionKind, region_name};
use crate::ring::{COMMAND_WORDS, COMPLETION_WORDS, CommandRing, CompletionRing, RawRing};
use crate::sync::{AtomicU32, Ordering, SlotCell};
use memmap2::{MmapOptions, MmapRaw};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{FlockOperation, Mode, flock};
use rustix::io::Errno;
use rustix::shm;
use std::mem::{align_of, size_of};
use vdi_proto::{DeviceIndex, VdConfig};

/// Who may open a region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// Mode 0600; openers must have the creator's uid.
    #[default]
    Owner,
    /// Mode 0660 (the mssql-group setup of vdi-facts §7); openers of another uid must be in the
    /// object's group.
    Group,
}

impl Access {
    fn mode(self) -> u32 {
        match self {
            Access::Owner => 0o600,
            Access::Group => 0o660,
        }
    }
}

/// Types made only of atomics (or padding around them): every bit pattern is valid and all
/// mutation goes through `&self`, so they may be viewed in memory a peer writes concurrently.
///
/// # Safety
/// Implementors must consist solely of `AtomicU32`/`AtomicU64` fields (possibly in arrays and
/// [`crate::padded::Padded`]), with `#[repr(C)]` or `#[repr(transparent)]`.
unsafe trait AtomicsOnly: Sized {}
// SAFETY: every field is an AtomicU32/AtomicU64 or a Padded/array of them; repr(C).
unsafe impl AtomicsOnly for ControlHeader {}
// SAFETY: as above.
unsafe impl AtomicsOnly for DeviceBlock {}
// SAFETY: as above.
unsafe impl AtomicsOnly for BufferHeader {}
// SAFETY: SlotCell is repr(transparent) over AtomicU64 outside loom (regions are not built
// under loom).
unsafe impl AtomicsOnly for SlotCell {}

/// An open shared-memory object and its mapping.
#[derive(Debug)]
struct ShmObject {
    name: String,
    fd: OwnedFd,
    map: MmapRaw,
    /// The creator unlinks on drop and holds the flock token (through `fd`).
    owner: bool,
}

fn io<'a>(op: &'static str, name: &'a str) -> impl Fn(Errno) -> RegionError + 'a {
    move |errno| RegionError::Io {
        op,
        name: name.to_string(),
        errno,
    }
}

impl ShmObject {
    fn create(name: &str, size: u64, access: Access) -> Result<ShmObject, RegionError> {
        let fd = shm::open(
            name,
            shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| match e {
            Errno::EXIST => RegionError::Exists(name.to_string()),
            Errno::ACCESS | Errno::PERM => RegionError::Security {
                name: name.to_string(),
                reason: format!("cannot create: {e}"),
            },
            e => io("shm_open", name)(e),
        })?;
        // From here on a failure must not leave the object behind.
        let cleanup = |e: RegionError| {
            let _ = shm::unlink(name);
            e
        };
        // Blocking: a concurrent `cleanup_stale` may hold the lock for a moment while it looks
        // at this fresh object (and leaves it alone because it is young and unpublished).
        flock(&fd, FlockOperation::LockExclusive)
            .map_err(io("flock", name))
            .map_err(cleanup)?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(access.mode()))
            .map_err(io("fchmod", name))
            .map_err(cleanup)?;
        rustix::fs::ftruncate(&fd, size)
            .map_err(io("ftruncate", name))
            .map_err(cleanup)?;
        let map = Self::map(name, &fd, size).map_err(cleanup)?;
        Ok(ShmObject {
            name: name.to_string(),
            fd,
            map,
            owner: true,
        })
    }

    fn open(name: &str, access: Access, min_size: u64) -> Result<ShmObject, RegionError> {
        let security = |reason: String| RegionError::Security {
            name: name.to_string(),
            reason,
        };
        let fd = shm::open(name, shm::OFlags::RDWR, Mode::empty()).map_err(|e| match e {
            Errno::NOENT => RegionError::NotFound(name.to_string()),
            Errno::ACCESS | Errno::PERM => security(format!("access denied: {e}")),
            e => io("shm_open", name)(e),
        })?;
        let st = rustix::fs::fstat(&fd).map_err(io("fstat", name))?;
        let mode = st.st_mode & 0o7777;
        let me = rustix::process::geteuid().as_raw();
        if mode & 0o007 != 0 {
            return Err(security(format!("mode {mode:o} is world-accessible")));
        }
        if st.st_uid != me {
            let in_group = rustix::process::getegid().as_raw() == st.st_gid
                || rustix::process::getgroups()
                    .map(|gs| gs.iter().any(|g| g.as_raw() == st.st_gid))
                    .unwrap_or(false);
            if access != Access::Group || mode & 0o060 != 0o060 || !in_group {
                return Err(security(format!(
                    "owned by uid {} (mode {mode:o}), this process is uid {me}",
                    st.st_uid
                )));
            }
        }
        let size = u64::try_from(st.st_size).unwrap_or(0);
        if size < min_size {
            return Err(RegionError::Geometry {
                name: name.to_string(),
                what: format!("object is {size} bytes, smaller than {min_size}"),
            });
        }
        let map = Self::map(name, &fd, size)?;
        Ok(ShmObject {
            name: name.to_string(),
            fd,
            map,
            owner: false,
        })
    }

    fn map(name: &str, fd: &OwnedFd, size: u64) -> Result<MmapRaw, RegionError> {
        let len = usize::try_from(size)
            .map_err(|_| RegionError::InvalidParams(format!("size {size}")))?;
        MmapOptions::new()
            .len(len)
            .map_raw(fd)
            .map_err(|e| RegionError::Io {
                op: "mmap",
                name: name.to_string(),
                errno: Errno::from_io_error(&e).unwrap_or(Errno::IO),
            })
    }

    fn len(&self) -> u64 {
        self.map.len() as u64
    }

    /// A reference to the `T` at `offset`, if it lies in the mapping and is aligned.
    fn at<T: AtomicsOnly>(&self, offset: u64) -> Option<&T> {
        self.slice_at::<T>(offset, 1).and_then(|s| s.first())
    }

    /// [`ShmObject::slice_at`] without its checks, for the hot path.
    ///
    /// # Safety
    /// `slice_at::<T>(offset, count)` must have returned `Some` on this object before: the
    /// mapping neither moves nor shrinks while `self` lives, so the range is still in bounds and
    /// aligned.
    unsafe fn slice_at_checked_before<T: AtomicsOnly>(&self, offset: u64, count: usize) -> &[T] {
        let ptr = self.map.as_ptr().wrapping_add(offset as usize);
        // SAFETY: the caller guarantees that `slice_at` accepted this very range, so every
        // condition it checked (in bounds, aligned, AtomicsOnly) still holds.
        unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), count) }
    }

    /// `count` consecutive `T`s at `offset`, if they lie in the mapping and are aligned.
    fn slice_at<T: AtomicsOnly>(&self, offset: u64, count: usize) -> Option<&[T]> {
        let bytes = (count as u64).checked_mul(size_of::<T>() as u64)?;
        if offset.checked_add(bytes)? > self.len() {
            return None;
        }
        let ptr = self.map.as_ptr().wrapping_add(offset as usize);
        if !(ptr as usize).is_multiple_of(align_of::<T>()) {
            return None;
        }
        // SAFETY: the range [offset, offset + bytes) is inside the live mapping (checked above)
        // and aligned for T; T is AtomicsOnly, so every bit pattern is a valid T and all writes
        // (ours and the peer's) go through atomics behind shared references. The mapping
        // lives as long as `self`, which bounds the returned lifetime.
        Some(unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), count) })
    }

    /// Whether the creator still holds its flock (only meaningful for an opener).
    fn creator_alive(&self) -> bool {
        self.owner || crate::liveness::lock_holder_alive(self.fd.as_fd())
    }
}

impl Drop for ShmObject {
    fn drop(&mut self) {
        if self.owner {
            let _ = shm::unlink(self.name.as_str());
        }
    }
}

/// What the client asks for at Create.
#[derive(Clone, Debug)]
pub struct ControlParams {
    /// The set name (validated by `naming`).
    pub set_name: String,
    /// Names of the devices, `device_count` of them (each ≤ 256 bytes).
    pub device_names: Vec<String>,
    /// Entries per ring: a power of two ≥ maxIODepth (default 16).
    pub ring_capacity: u32,
    /// The configuration passed to Create.
    pub requested: VdConfig,
    /// Who may open the set.
    pub access: Access,
}

/// Where the buffer region is (recorded in the control header by the server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferInfo {
    /// The shm name.
    pub name: String,
    /// Size of the object.
    pub size: u64,
    /// Its generation (≥ 1).
    pub generation: u32,
}

/// The control region of a set (client-created, server-opened).
#[derive(Debug)]
pub struct ControlRegion {
    obj: ShmObject,
    /// Validated at create/open and never re-read from shared memory.
    geometry: ControlGeometry,
    uid: u32,
}

impl ControlRegion {
    /// Client, at Create: creates, initialises and publishes the control region of `set_name`
    /// for the current uid.
    pub fn create(params: &ControlParams) -> Result<ControlRegion, RegionError> {
        let uid = rustix::process::geteuid().as_raw();
        let name = region_name(uid, &params.set_name, RegionKind::Control)?;
        let device_count = params.device_names.len() as u32;
        if device_count != params.requested.device_count {
            return Err(RegionError::InvalidParams(format!(
                "{device_count} device names for deviceCount {}",
                params.requested.device_count
            )));
        }
        if params.ring_capacity < params.requested.max_io_depth {
            return Err(RegionError::InvalidParams(format!(
                "ring capacity {} below maxIODepth {}",
                params.ring_capacity, params.requested.max_io_depth
            )));
        }
        if params
            .device_names
            .iter()
            .any(|n| n.len() > NAME_FIELD_BYTES)
        {
            return Err(RegionError::InvalidParams("device name too long".into()));
        }
        let geometry = ControlGeometry::new(device_count, params.ring_capacity)
            .map_err(RegionError::InvalidParams)?;
        let obj = ShmObject::create(&name, geometry.total_size, params.access)?;
        let region = ControlRegion { obj, geometry, uid };
        region.check_ranges().map_err(RegionError::InvalidParams)?;
        let h = region.header();
        let r = Ordering::Relaxed;
        h.layout_version.store(LAYOUT_VERSION, r);
        h.header_size.store(size_of::<ControlHeader>() as u32, r);
        h.total_size.store(geometry.total_size, r);
        h.device_count.store(device_count, r);
        h.ring_capacity.store(geometry.ring_capacity, r);
        h.command_desc_size.store((COMMAND_WORDS * 8) as u32, r);
        h.completion_desc_size
            .store((COMPLETION_WORDS * 8) as u32, r);
        h.device_table_offset.store(geometry.device_table_offset, r);
        h.device_stride.store(geometry.device_stride, r);
        h.command_slots_offset
            .store(geometry.command_slots_offset, r);
        h.completion_slots_offset
            .store(geometry.completion_slots_offset, r);
        h.creator_pid.store(std::process::id(), r);
        h.creator_uid.store(uid, r);
        for (w, v) in h.requested_config.iter().zip(params.requested.to_words()) {
            w.store(v, r);
        }
        write_name(&h.set_name_len, &h.set_name, params.set_name.as_bytes());
        for (i, dev_name) in params.device_names.iter().enumerate() {
            let block = region.block(i as u32).ok_or_else(|| {
                RegionError::InvalidParams("device table outside the mapping".into())
            })?;
            write_name(&block.name_len, &block.name, dev_name.as_bytes());
        }
        // SYNC POINT: everything above becomes visible to an opener that Acquire-loads magic.
        h.magic.store(CONTROL_MAGIC, Ordering::Release);
        Ok(region)
    }

    /// Server, at Open: maps the control region of `set_name` created by user `creator_uid`,
    /// checks owner, mode, magic, version, sizes and geometry.
    pub fn open(
        creator_uid: u32,
        set_name: &str,
        access: Access,
    ) -> Result<ControlRegion, RegionError> {
        let name = region_name(creator_uid, set_name, RegionKind::Control)?;
        let obj = ShmObject::open(&name, access, size_of::<ControlHeader>() as u64)?;
        let h: &ControlHeader = obj.at(0).ok_or_else(|| RegionError::Geometry {
            name: name.clone(),
            what: "header does not fit".into(),
        })?;
        let magic = h.magic.load(Ordering::Acquire);
        if magic == 0 {
            return Err(RegionError::NotReady(name));
        }
        if magic != CONTROL_MAGIC {
            return Err(RegionError::BadMagic { name, found: magic });
        }
        let version = h.layout_version.load(Ordering::Relaxed);
        if version != LAYOUT_VERSION {
            return Err(RegionError::VersionMismatch {
                name,
                found: version,
                expected: LAYOUT_VERSION,
            });
        }
        let geometry =
            Self::check_geometry(h, obj.len()).map_err(|what| RegionError::Geometry {
                name: name.clone(),
                what,
            })?;
        let uid = h.creator_uid.load(Ordering::Relaxed);
        let region = ControlRegion { obj, geometry, uid };
        region
            .check_ranges()
            .map_err(|what| RegionError::Geometry { name, what })?;
        Ok(region)
    }

    fn check_geometry(h: &ControlHeader, object_len: u64) -> Result<ControlGeometry, String> {
        let r = Ordering::Relaxed;
        let header_size = h.header_size.load(r);
        if header_size as usize != size_of::<ControlHeader>() {
            return Err(format!("header size {header_size}"));
        }
        let cmd = h.command_desc_size.load(r);
        let cpl = h.completion_desc_size.load(r);
        if cmd as usize != COMMAND_WORDS * 8 || cpl as usize != COMPLETION_WORDS * 8 {
            return Err(format!("descriptor sizes {cmd}/{cpl}"));
        }
        let expected = ControlGeometry::new(h.device_count.load(r), h.ring_capacity.load(r))?;
        let found = ControlGeometry {
            device_count: expected.device_count,
            ring_capacity: expected.ring_capacity,
            device_table_offset: h.device_table_offset.load(r),
            device_stride: h.device_stride.load(r),
            command_slots_offset: h.command_slots_offset.load(r),
            completion_slots_offset: h.completion_slots_offset.load(r),
            total_size: h.total_size.load(r),
        };
        if found != expected {
            return Err(format!("header says {found:?}, expected {expected:?}"));
        }
        if expected.total_size != object_len {
            return Err(format!(
                "total size {} but the object is {object_len} bytes",
                expected.total_size
            ));
        }
        Ok(expected)
    }

    fn header(&self) -> &ControlHeader {
        // SAFETY: `check_ranges` passed the header's range through `slice_at` when this region
        // was created or opened (before any other use), and the mapping never changes after.
        unsafe { &self.obj.slice_at_checked_before::<ControlHeader>(0, 1)[0] }
    }

    fn block(&self, i: u32) -> Option<&DeviceBlock> {
        if i >= self.geometry.device_count {
            return None;
        }
        self.obj.at(self.geometry.device_offset(i))
    }

    /// The shm name.
    pub fn name(&self) -> &str {
        &self.obj.name
    }

    /// Whether this process created the region (the client).
    pub fn is_creator(&self) -> bool {
        self.obj.owner
    }

    /// The validated geometry.
    pub fn geometry(&self) -> ControlGeometry {
        self.geometry
    }

    /// The creator's uid (from the header; the owner was checked at open).
    pub fn creator_uid(&self) -> u32 {
        self.uid
    }

    /// The client's pid, as recorded.
    pub fn creator_pid(&self) -> u32 {
        self.header().creator_pid.load(Ordering::Relaxed)
    }

    /// Whether the creator still holds its flock token (always true for the creator itself).
    pub fn creator_alive(&self) -> bool {
        self.obj.creator_alive()
    }

    /// The server's pid (0 until the server opened the set).
    pub fn server_pid(&self) -> u32 {
        self.header().server_pid.load(Ordering::Acquire)
    }

    /// Server: records its pid (before publishing any state change).
    pub fn set_server_pid(&self, pid: u32) {
        self.header().server_pid.store(pid, Ordering::Release);
    }

    /// The set name recorded by the client (`None` if the peer corrupted it).
    pub fn set_name(&self) -> Option<String> {
        let h = self.header();
        read_name(&h.set_name_len, &h.set_name)
    }

    /// Device `i`'s name (`None` if out of range or corrupted).
    pub fn device_name(&self, i: DeviceIndex) -> Option<String> {
        let b = self.block(i.0.into())?;
        read_name(&b.name_len, &b.name)
    }

    /// Server, at EndConfiguration: records device `i`'s name (the VIRTUAL_DEVICE clause).
    /// False if `i` is out of range or the name does not fit the field.
    pub fn set_device_name(&self, i: DeviceIndex, name: &str) -> bool {
        match self.block(i.0.into()) {
            Some(b) if name.len() <= NAME_FIELD_BYTES => {
                write_name(&b.name_len, &b.name, name.as_bytes());
                true
            }
            _ => false,
        }
    }

    /// The configuration the client passed to Create.
    pub fn requested_config(&self) -> VdConfig {
        let mut w = [0u32; 11];
        for (o, a) in w.iter_mut().zip(&self.header().requested_config) {
            *o = a.load(Ordering::Relaxed);
        }
        VdConfig::from_words(w)
    }

    /// The configuration the server chose (read after observing the set state it published).
    pub fn negotiated_config(&self) -> VdConfig {
        let mut w = [0u32; 11];
        for (o, a) in w.iter_mut().zip(&self.header().negotiated_config) {
            *o = a.load(Ordering::Acquire);
        }
        VdConfig::from_words(w)
    }

    /// Server: writes the chosen configuration (then publishes a state change).
    pub fn set_negotiated_config(&self, cfg: &VdConfig) {
        for (a, v) in self.header().negotiated_config.iter().zip(cfg.to_words()) {
            a.store(v, Ordering::Release);
        }
    }

    /// Server: records the buffer region (then publishes a state change).
    pub fn publish_buffer(&self, info: &BufferInfo) {
        let h = self.header();
        write_name(&h.buffer_name_len, &h.buffer_name, info.name.as_bytes());
        h.buffer_size.store(info.size, Ordering::Relaxed);
        h.buffer_generation
            .store(info.generation, Ordering::Release);
    }

    /// The buffer region recorded by the server: `Ok(None)` before there is one; an error if
    /// the record is corrupt or is not the name this set's buffer must have.
    pub fn buffer_info(&self) -> Result<Option<BufferInfo>, crate::error::PeerFault> {
        use crate::error::PeerFault::BadHeader;
        let h = self.header();
        let generation = h.buffer_generation.load(Ordering::Acquire);
        if generation == 0 {
            return Ok(None);
        }
        let name = read_name(&h.buffer_name_len, &h.buffer_name).ok_or(BadHeader("buffer_name"))?;
        let set_name = self.set_name().ok_or(BadHeader("set_name"))?;
        let expected = region_name(self.uid, &set_name, RegionKind::Buffer(generation))
            .map_err(|_| BadHeader("set_name"))?;
        if name != expected {
            return Err(BadHeader("buffer_name"));
        }
        Ok(Some(BufferInfo {
            name,
            size: h.buffer_size.load(Ordering::Relaxed),
            generation,
        }))
    }

    /// The set-state word (its values belong to vdi-proto).
    pub fn set_state(&self) -> &AtomicU32 {
        &self.header().set_state
    }

    /// The multi-waiter event count for set-state changes.
    pub fn state_events(&self) -> EventCount<'_> {
        EventCount::new(&self.header().state_events)
    }

    /// Stores a new set state and wakes every waiter in every process.
    pub fn publish_state(&self, state: u32) {
        self.header().set_state.store(state, Ordering::SeqCst);
        self.state_events().notify_all();
    }

    /// The set-level news a spinning waiter watches (see [`crate::event::wait_until_hinted`]):
    /// the event count's sequence, the set-state word and the abort word. The value changes
    /// whenever either side publishes a state change, a completion (the client bumps the event
    /// count after each) or an abort.
    pub fn set_news(&self) -> (u32, u32, bool) {
        (
            self.state_events().prepare(),
            self.set_state().load(Ordering::Acquire),
            self.is_aborted(),
        )
    }

    /// Whether either side signalled abort.
    pub fn is_aborted(&self) -> bool {
        self.header().abort.load(Ordering::SeqCst) != 0
    }

    /// SignalAbort's transport part: sets the sticky abort word, closes every ring (so no
    /// command or completion is accepted any more; already-pushed entries can still be
    /// drained) and wakes every waiter on both sides. Returns true for the first abort.
    pub fn signal_abort(&self) -> bool {
        let first = self.header().abort.swap(1, Ordering::SeqCst) == 0;
        for i in 0..self.geometry.device_count {
            if let Some(channel) = self.channel(DeviceIndex(i as u16)) {
                channel.close_and_wake();
            }
        }
        self.state_events().notify_all();
        first
    }

    /// Device `i` as a [`DeviceChannel`]: the blocking send/receive calls of both sides.
    pub fn channel(&self, i: DeviceIndex) -> Option<DeviceChannel<'_>> {
        let dev = self.device(i)?;
        Some(DeviceChannel::new(
            dev.commands,
            dev.completions,
            &dev.block.command_event,
            &dev.block.completion_event,
            &self.header().abort,
        ))
    }

    /// Device `i`'s rings, events and state words.
    pub fn device(&self, i: DeviceIndex) -> Option<DeviceView<'_>> {
        let idx = u32::from(i.0);
        if idx >= self.geometry.device_count {
            return None;
        }
        let (block, commands, completions) = self.device_ranges(idx);
        // SAFETY: `check_ranges` passed every device's three ranges through `slice_at`
        // when this region was created or opened, and the geometry never changes afterwards.
        // This runs several times per command, and the checks were a tenth of a round trip.
        let (block, cmd_slots, cpl_slots) = unsafe {
            (
                &self
                    .obj
                    .slice_at_checked_before::<DeviceBlock>(block.0, block.1)[0],
                self.obj
                    .slice_at_checked_before::<SlotCell>(commands.0, commands.1),
                self.obj
                    .slice_at_checked_before::<SlotCell>(completions.0, completions.1),
            )
        };
        Some(self.view(block, cmd_slots, cpl_slots))
    }

    /// Where device `idx`'s block, command slots and completion slots lie: (offset, count).
    fn device_ranges(&self, idx: u32) -> ((u64, usize), (u64, usize), (u64, usize)) {
        let g = &self.geometry;
        let base = g.device_offset(idx);
        let cap = g.ring_capacity as usize;
        (
            (base, 1),
            (base + g.command_slots_offset, cap * COMMAND_WORDS),
            (base + g.completion_slots_offset, cap * COMPLETION_WORDS),
        )
    }

    /// Checks the header's and every device's ranges against the mapping once (what lets
    /// `header` and `device` skip it).
    fn check_ranges(&self) -> Result<(), String> {
        if self.obj.slice_at::<ControlHeader>(0, 1).is_none() {
            return Err("the header lies outside the mapping".into());
        }
        for idx in 0..self.geometry.device_count {
            let (block, commands, completions) = self.device_ranges(idx);
            let fits = self.obj.slice_at::<DeviceBlock>(block.0, block.1).is_some()
                && self
                    .obj
                    .slice_at::<SlotCell>(commands.0, commands.1)
                    .is_some()
                && self
                    .obj
                    .slice_at::<SlotCell>(completions.0, completions.1)
                    .is_some();
            if !fits {
                return Err(format!("device {idx} lies outside the mapping"));
            }
        }
        Ok(())
    }

    fn view<'a>(
        &'a self,
        block: &'a DeviceBlock,
        cmd_slots: &'a [SlotCell],
        cpl_slots: &'a [SlotCell],
    ) -> DeviceView<'a> {
        let capacity = self.geometry.ring_capacity;
        DeviceView {
            block,
            commands: CommandRing(RawRing::new(
                &block.command_head,
                &block.command_tail,
                cmd_slots,
                capacity,
                COMMAND_WORDS,
            )),
            completions: CompletionRing(RawRing::new(
                &block.completion_head,
                &block.completion_tail,
                cpl_slots,
                capacity,
                COMPLETION_WORDS,
            )),
        }
    }

    /// Removes the region's name now (creator only); the mapping stays valid until dropped.
    /// Close calls this so that no name outlives the set even while device objects linger.
    pub fn unlink(&self) {
        if self.obj.owner {
            let _ = shm::unlink(self.obj.name.as_str());
        }
    }

    /// Removes the region's name when its creator (the client) died without doing so: the
    /// server calls this when it closes a set whose client crashed. True if it was removed.
    pub fn unlink_if_orphaned(&self) -> bool {
        !self.obj.creator_alive() && shm::unlink(self.obj.name.as_str()).is_ok()
    }

    /// Test hook: the raw header, to corrupt it as a hostile peer would.
    #[doc(hidden)]
    pub fn raw_header(&self) -> &ControlHeader {
        self.header()
    }

    /// Test hook: a device's raw block (ring indices, events), to corrupt it as a hostile
    /// peer would.
    #[doc(hidden)]
    pub fn raw_device_block(&self, i: DeviceIndex) -> Option<&DeviceBlock> {
        self.block(i.0.into())
    }
}

/// One device of a mapped set.
#[derive(Clone, Copy, Debug)]
pub struct DeviceView<'a> {
    block: &'a DeviceBlock,
    commands: CommandRing<'a>,
    completions: CompletionRing<'a>,
}

impl<'a> DeviceView<'a> {
    /// Server → client commands.
    pub fn commands(&self) -> CommandRing<'a> {
        self.commands
    }

    /// Client → server completions.
    pub fn completions(&self) -> CompletionRing<'a> {
        self.completions
    }

    /// The client parks here (GetCommand); the server unparks after a push.
    pub fn command_event(&self) -> Event<'a> {
        Event::new(&self.block.command_event)
    }

    /// The server parks here (completion agent); the client unparks after a push.
    pub fn completion_event(&self) -> Event<'a> {
        Event::new(&self.block.completion_event)
    }

    /// The client's device state word (e.g. open / closed; values owned by vdi-client).
    pub fn client_state(&self) -> &'a AtomicU32 {
        &self.block.client_state
    }

    /// The server's device state word (values owned by vdi-server).
    pub fn server_state(&self) -> &'a AtomicU32 {
        &self.block.server_state
    }
}

/// The buffer region (server-created at EndConfiguration, client-mapped after
/// GetConfiguration).
#[derive(Debug)]
pub struct BufferRegion {
    obj: ShmObject,
    data_size: u64,
    generation: u32,
    /// Ranges currently leased in this process (see [`BufferRegion::lease`]).
    leases: std::sync::Mutex<Vec<(u64, u64)>>,
}

/// A byte range of the buffer region's data area that the protocol hands to this side alone
/// (a Write buffer the server fills before SendCommand, a command's buffer the client holds
/// until CompleteCommand, a Read buffer the server checks after the completion).
///
/// It derefs to `[u8]`, mutably too (one [`BufferRegion::lease`] serves both), so data is produced
/// and consumed in place: VDI's zero-copy path. Leases are exclusive within the process (an
/// overlapping lease is refused). Across processes exclusivity is the protocol's: a peer that
/// breaks it (writes a range it handed over) can only garble the bytes this side sees, which
/// the checks downstream (stream hashes, the server's verification) report as damage.
#[derive(Debug)]
pub struct BufferLease<'a> {
    region: &'a BufferRegion,
    ptr: *mut u8,
    len: usize,
    offset: u64,
}

impl std::ops::Deref for BufferLease<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+len` lies inside the mapping (checked by `data_ptr` when the lease
        // was made) and stays mapped while `region` lives; no other lease of this process
        // overlaps it (the registry refused overlaps), and by protocol the peer does not write
        // it while we hold it.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl std::ops::DerefMut for BufferLease<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes this the only access through this lease.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for BufferLease<'_> {
    fn drop(&mut self) {
        let mut leases = self.region.leases.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = leases.iter().position(|&(o, _)| o == self.offset) {
            leases.swap_remove(i);
        }
    }
}

impl BufferRegion {
    /// Server: creates the buffer region of generation `generation` (≥ 1) for the set
    /// `set_name` of user `client_uid`, with a data area of `data_size` bytes.
    pub fn create(
        client_uid: u32,
        set_name: &str,
        generation: u32,
        data_size: u64,
        access: Access,
    ) -> Result<BufferRegion, RegionError> {
        if generation == 0 {
            return Err(RegionError::InvalidParams("buffer generation 0".into()));
        }
        let name = region_name(client_uid, set_name, RegionKind::Buffer(generation))?;
        let total = BUFFER_DATA_OFFSET
            .checked_add(data_size)
            .ok_or_else(|| RegionError::InvalidParams(format!("data size {data_size}")))?;
        let obj = ShmObject::create(&name, total, access)?;
        let h: &BufferHeader = obj
            .at(0)
            .ok_or_else(|| RegionError::InvalidParams("mapping too small".into()))?;
        let r = Ordering::Relaxed;
        h.layout_version.store(LAYOUT_VERSION, r);
        h.header_size.store(size_of::<BufferHeader>() as u32, r);
        h.total_size.store(total, r);
        h.data_offset.store(BUFFER_DATA_OFFSET, r);
        h.data_size.store(data_size, r);
        h.generation.store(generation, r);
        h.creator_pid.store(std::process::id(), r);
        h.creator_uid.store(rustix::process::geteuid().as_raw(), r);
        h.magic.store(BUFFER_MAGIC, Ordering::Release);
        Ok(BufferRegion {
            obj,
            data_size,
            generation,
            leases: std::sync::Mutex::new(Vec::with_capacity(64)),
        })
    }

    /// Client: maps the buffer region the control header points to, checking that it is the
    /// one recorded there (name, size, generation) and well-formed.
    pub fn open(info: &BufferInfo, access: Access) -> Result<BufferRegion, RegionError> {
        let name = info.name.as_str();
        let geometry = |what: String| RegionError::Geometry {
            name: name.to_string(),
            what,
        };
        if !info.name.starts_with(&format!("/{PREFIX}")) || info.name[1..].contains('/') {
            return Err(geometry("not a vdisim buffer name".into()));
        }
        let obj = ShmObject::open(name, access, BUFFER_DATA_OFFSET)?;
        let h: &BufferHeader = obj
            .at(0)
            .ok_or_else(|| geometry("header does not fit".into()))?;
        let magic = h.magic.load(Ordering::Acquire);
        if magic == 0 {
            return Err(RegionError::NotReady(name.to_string()));
        }
        if magic != BUFFER_MAGIC {
            return Err(RegionError::BadMagic {
                name: name.to_string(),
                found: magic,
            });
        }
        let version = h.layout_version.load(Ordering::Relaxed);
        if version != LAYOUT_VERSION {
            return Err(RegionError::VersionMismatch {
                name: name.to_string(),
                found: version,
                expected: LAYOUT_VERSION,
            });
        }
        let r = Ordering::Relaxed;
        let total = h.total_size.load(r);
        let data_offset = h.data_offset.load(r);
        let data_size = h.data_size.load(r);
        let generation = h.generation.load(r);
        if h.header_size.load(r) as usize != size_of::<BufferHeader>()
            || data_offset != BUFFER_DATA_OFFSET
            || data_offset.checked_add(data_size) != Some(total)
            || total != obj.len()
            || total != info.size
            || generation != info.generation
        {
            return Err(geometry(format!(
                "total {total}, data {data_offset}+{data_size}, generation {generation}; \
                 object {} bytes, control header says {} bytes generation {}",
                obj.len(),
                info.size,
                info.generation
            )));
        }
        Ok(BufferRegion {
            obj,
            data_size,
            generation,
            leases: std::sync::Mutex::new(Vec::with_capacity(64)),
        })
    }

    /// What the control header must record for this region.
    pub fn info(&self) -> BufferInfo {
        BufferInfo {
            name: self.obj.name.clone(),
            size: self.obj.len(),
            generation: self.generation,
        }
    }

    /// Bytes of the data area.
    pub fn data_size(&self) -> u64 {
        self.data_size
    }

    /// Maps (and on first touch allocates) the first `len` bytes of the data area now, as SQL
    /// Server commits its buffers at configuration. Without it every 4 KiB page of a fresh
    /// buffer costs a page fault on each side in the middle of the stream (a 64-device set has
    /// 320 MiB of buffers, mostly touched once). Best effort: a kernel without
    /// MADV_POPULATE_WRITE (before 5.14) faults the pages in lazily as before.
    pub fn prefault(&self, len: u64) {
        let len = len.min(self.data_size);
        let (Ok(offset), Ok(len)) = (usize::try_from(BUFFER_DATA_OFFSET), usize::try_from(len))
        else {
            return;
        };
        if len > 0 {
            let _ = self
                .obj
                .map
                .advise_range(memmap2::Advice::PopulateWrite, offset, len);
        }
    }

    /// The generation.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Whether the creator (the server) still holds its flock token.
    pub fn creator_alive(&self) -> bool {
        self.obj.creator_alive()
    }

    /// Removes the region's name when its creator died without doing so (the client calls
    /// this when it closes a set whose server crashed). True if it was removed.
    pub fn unlink_if_orphaned(&self) -> bool {
        !self.obj.creator_alive() && shm::unlink(self.obj.name.as_str()).is_ok()
    }

    /// A raw pointer to `len` bytes at `offset` of the data area, if in bounds. The pointer
    /// is what the SDK hands to vendor code (`VDC_Command::buffer`); it stays valid while the
    /// region lives. Never turn it into `&mut [u8]` while the peer may write the range.
    pub fn data_ptr(&self, offset: u64, len: u64) -> Option<*mut u8> {
        let end = offset.checked_add(len)?;
        if end > self.data_size {
            return None;
        }
        Some(
            self.obj
                .map
                .as_mut_ptr()
                .wrapping_add((BUFFER_DATA_OFFSET + offset) as usize),
        )
    }

    /// Leases `len` bytes at `offset` for in-place access (see [`BufferLease`]): `None` if out
    /// of bounds or overlapping a lease this process holds. No allocation once 64 leases have
    /// been live at the same time.
    pub fn lease(&self, offset: u64, len: u64) -> Option<BufferLease<'_>> {
        let ptr = self.data_ptr(offset, len)?;
        let len = usize::try_from(len).ok()?;
        let end = offset + len as u64;
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        if leases.iter().any(|&(o, e)| offset < e && o < end) {
            return None;
        }
        leases.push((offset, end));
        Some(BufferLease {
            region: self,
            ptr,
            len,
            offset,
        })
    }

    /// The data offset of a pointer into the data area (GetBufferHandle's address check).
    pub fn offset_of_ptr(&self, ptr: *const u8) -> Option<u64> {
        let base = self.obj.map.as_ptr() as usize + BUFFER_DATA_OFFSET as usize;
        let off = (ptr as usize).checked_sub(base)? as u64;
        (off < self.data_size).then_some(off)
    }

    /// Copies `src` into the data area at `offset` (false if out of bounds).
    pub fn write(&self, offset: u64, src: &[u8]) -> bool {
        let Some(dst) = self.data_ptr(offset, src.len() as u64) else {
            return false;
        };
        // SAFETY: `dst..dst+len` is inside the mapping (checked by data_ptr) and cannot overlap
        // `src`, a Rust slice outside it. By protocol the range belongs to us while we write
        // (the command's buffer is owned by one side at a time); a hostile peer writing at
        // the same time can only garble bytes, which is why we use raw copies, not slices.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
        true
    }

    /// Copies `dst.len()` bytes from the data area at `offset` (false if out of bounds).
    pub fn read(&self, offset: u64, dst: &mut [u8]) -> bool {
        let Some(src) = self.data_ptr(offset, dst.len() as u64) else {
            return false;
        };
        // SAFETY: as in `write`, with the roles of the two ranges exchanged.
        unsafe { std::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
        true
    }

    /// Test hook: the raw header, to corrupt it as a hostile peer would.
    #[doc(hidden)]
    pub fn raw_header(&self) -> &BufferHeader {
        self.obj
            .at(0)
            .expect("buffer header lies inside the mapping")
    }
}

/// The uids that have a control region for `set_name` in /dev/shm (the server learns only the
/// set name from the T-SQL; region names also carry the client's uid).
pub fn find_creator_uids(set_name: &str) -> Result<Vec<u32>, crate::naming::NameError> {
    crate::naming::validate_set_name(set_name)?;
    let suffix = format!(".{}.ctl", crate::naming::encode_set_name(set_name));
    let mut uids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/dev/shm") else {
        return Ok(uids);
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        let Some(uid) = rest.strip_suffix(&suffix) else {
            continue;
        };
        // Only canonical decimal (no sign, no leading zeros).
        if let Ok(n) = uid.parse::<u32>()
            && n.to_string() == uid
        {
            uids.push(n);
        }
    }
    uids.sort_unstable();
    Ok(uids)
}

/// Removes every region of user `uid` in /dev/shm whose creator is dead (its flock can be
/// taken). Regions still being initialised (magic 0, younger than 10 s) are left alone.
/// Returns the names removed.
pub fn cleanup_stale(uid: u32) -> Vec<String> {
    let prefix = format!("{PREFIX}{uid}.");
    let Ok(entries) = std::fs::read_dir("/dev/shm") else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if !file_name.starts_with(&prefix) {
            continue;
        }
        let name = format!("/{file_name}");
        let Ok(fd) = shm::open(name.as_str(), shm::OFlags::RDWR, Mode::empty()) else {
            continue;
        };
        if flock(&fd, FlockOperation::NonBlockingLockExclusive).is_err() {
            continue; // the creator is alive
        }
        if is_young_and_unpublished(&fd) {
            continue;
        }
        if shm::unlink(name.as_str()).is_ok() {
            removed.push(name);
        }
    }
    removed
}

fn is_young_and_unpublished(fd: &OwnedFd) -> bool {
    let Ok(st) = rustix::fs::fstat(fd) else {
        return false;
    };
    let mut magic = [0u8; 8];
    let published = st.st_size >= 8
        && rustix::io::pread(fd, &mut magic, 0)
            .map(|n| n == 8)
            .unwrap_or(false)
        && u64::from_le_bytes(magic) != 0;
    if published {
        return false;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now - st.st_ctime < 10
}
