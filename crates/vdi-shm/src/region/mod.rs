//! POSIX shared-memory regions: creation, opening with checks, mapping, unlinking, cleanup.
//!
//! * The **control region** is created by the client at Create ([`ControlRegion::create`]) and
//!   opened by the server ([`ControlRegion::open`]).
//! * The **buffer region** is created by the server at EndConfiguration
//!   ([`BufferRegion::create`]) under an unguessable name: the server announces the name in
//!   the control header first ([`ControlRegion::announce_buffer`]), then creates the region,
//!   then records its size and generation ([`ControlRegion::publish_buffer`]); the client maps
//!   it after GetConfiguration ([`BufferRegion::open`]).
//!
//! Objects are created anonymous, locked, `fchmod`-ed to exactly 0600 (or 0660 in
//! [`Access::Group`] mode, whatever the umask: vdi-facts §7), initialised, and only then linked
//! to their name ([`object`]). The creator holds `flock(LOCK_EX)` for its whole life and
//! removes the name when the region is dropped. When it dies first, the survivor removes what
//! it owned (decision 31); with no survivor, the next Create of the set's name or the sweep
//! ([`cleanup_stale`]) does (decision 53).
//!
//! Mappings are `memmap2::MmapRaw`; the structures in them are made only of atomics and are
//! handed out as shared references (never `&mut`), so a peer writing concurrently is not UB.
//! A peer that *shrinks* the object after we mapped it would make accesses fault (SIGBUS);
//! that cannot be validated away and is a known limitation of POSIX shared memory.

mod buffer;
mod object;
mod reclaim;

pub use buffer::{BufferLease, BufferRegion};
pub use object::Access;
pub use reclaim::{Reclaim, cleanup_stale, find_creator_uids, list_regions, reclaim_if_dead};

use crate::channel::DeviceChannel;
use crate::error::RegionError;
use crate::event::{Event, EventCount};
use crate::layout::{
    CONTROL_MAGIC, ControlGeometry, ControlHeader, DeviceBlock, LAYOUT_VERSION, read_name,
    write_name,
};
use crate::naming::{NAME_FIELD_BYTES, RegionKind, parse_buffer_name, region_name};
use crate::ring::{COMMAND_WORDS, COMPLETION_WORDS, CommandRing, CompletionRing, RawRing};
use crate::sync::{AtomicU32, Ordering, SlotCell};
use object::ShmObject;
use std::mem::size_of;
use vdi_proto::{DeviceIndex, VdConfig};

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
        let obj = ShmObject::create_unlinked(&name, geometry.total_size, params.access)?;
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
        region.link_reclaiming()?;
        Ok(region)
    }

    /// Publishes the new region under its name. A region already there whose creator died is
    /// removed first (decision 11: VD_E_BUSY only for a live set); one of another uid is never
    /// touched.
    fn link_reclaiming(&self) -> Result<(), RegionError> {
        let name = self.obj.name.as_str();
        for _ in 0..3 {
            match self.obj.link() {
                Err(RegionError::Exists(_)) => {}
                other => return other,
            }
            match reclaim_if_dead(name) {
                Reclaim::Missing | Reclaim::Removed => continue,
                Reclaim::Alive => break,
                Reclaim::Foreign { uid } => {
                    return Err(RegionError::Foreign {
                        name: name.to_string(),
                        uid,
                    });
                }
            }
        }
        Err(RegionError::Exists(name.to_string()))
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

    /// Server, before it creates the buffer region: records its name, so that the client can
    /// remove it should the server die before it could publish it (decision 31).
    pub fn announce_buffer(&self, name: &str) {
        let h = self.header();
        write_name(&h.buffer_name_len, &h.buffer_name, name.as_bytes());
    }

    /// Server: records the buffer region (then publishes a state change).
    pub fn publish_buffer(&self, info: &BufferInfo) {
        let h = self.header();
        write_name(&h.buffer_name_len, &h.buffer_name, info.name.as_bytes());
        h.buffer_size.store(info.size, Ordering::Relaxed);
        h.buffer_generation
            .store(info.generation, Ordering::Release);
    }

    /// The buffer region's name as the server announced or published it, if it is a name this
    /// set's buffer region may have (never anything else: a client removes what it names).
    pub fn announced_buffer_name(&self) -> Option<String> {
        let h = self.header();
        let name = read_name(&h.buffer_name_len, &h.buffer_name)?;
        let set_name = self.set_name()?;
        parse_buffer_name(self.uid, &set_name, &name).map(|_| name)
    }

    /// The buffer region recorded by the server: `Ok(None)` before there is one; an error if
    /// the record is corrupt or is not a name this set's buffer may have.
    pub fn buffer_info(&self) -> Result<Option<BufferInfo>, crate::error::PeerFault> {
        use crate::error::PeerFault::BadHeader;
        let h = self.header();
        let generation = h.buffer_generation.load(Ordering::Acquire);
        if generation == 0 {
            return Ok(None);
        }
        let name = self
            .announced_buffer_name()
            .ok_or(BadHeader("buffer_name"))?;
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
        self.obj.unlink();
    }

    /// Removes the region's name when its creator (the client) died without doing so: the
    /// server calls this when it closes a set whose client crashed. True if it was removed.
    /// A new set that took the name meanwhile is left alone.
    pub fn unlink_if_orphaned(&self) -> bool {
        self.obj.unlink_if_orphaned()
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
