//! The `#[repr(C)]`, offset-based layout of the two regions (no pointers in shared memory).
//!
//! ```text
//! control region (client-created)            buffer region (server-created)
//! +--------------------------------+         +---------------------------+
//! | ControlHeader                  |         | BufferHeader              |
//! |   identity, geometry, names,   |         +--- data_offset (64 KiB) --+
//! |   requested / negotiated cfg   |         | data area (buffers with   |
//! |   set_state | state_events |   |         |  their prefix zones)      |
//! |   abort  (own 128-byte lines)  |         +---------------------------+
//! +--- device_table_offset --------+
//! | device 0: DeviceBlock          |   DeviceBlock: name, client/server state words,
//! |   command slots  [cap × 40 B]  |   command/completion events, ring head/tail
//! |   completion slots [cap × 24 B]|   (every futex word and index on its own line)
//! +--- + device_stride ------------+
//! | device 1 …                     |
//! ```
//!
//! Every field is an atomic, so the whole layout is valid for any bit pattern and may be
//! shared with a peer that writes concurrently; a reference to it is never `&mut`.
//! Publishing follows iceoryx2: the creator writes everything, then stores `magic` with
//! Release; an opener Acquire-loads `magic` and checks version, sizes and geometry.

use crate::naming::NAME_FIELD_BYTES;
use crate::padded::{CACHE_LINE, Padded};
use crate::ring::{COMMAND_WORDS, COMPLETION_WORDS, MAX_CAPACITY};
use crate::sync::{AtomicU32, AtomicU64};
use std::mem::{offset_of, size_of};

/// `"VDISIMC1"`: a published control region.
pub const CONTROL_MAGIC: u64 = u64::from_le_bytes(*b"VDISIMC1");
/// `"VDISIMB1"`: a published buffer region.
pub const BUFFER_MAGIC: u64 = u64::from_le_bytes(*b"VDISIMB1");
/// Bumped on any change of these structs or of the ring/event/naming protocols (3: buffer
/// regions have unguessable names, announced in the control header before they exist).
pub const LAYOUT_VERSION: u32 = 3;
/// Largest device count (as VDI).
pub const MAX_DEVICES: u32 = vdi_proto::consts::MAX_DEVICES;
/// Offset of the data area in the buffer region (the largest VDI alignment).
pub const BUFFER_DATA_OFFSET: u64 = 64 * 1024;

const NAME_WORDS: usize = NAME_FIELD_BYTES / 8;

/// The control region's header.
#[repr(C)]
#[derive(Debug)]
pub struct ControlHeader {
    /// [`CONTROL_MAGIC`] once published (0 while the creator initialises).
    pub magic: AtomicU64,
    /// [`LAYOUT_VERSION`].
    pub layout_version: AtomicU32,
    /// `size_of::<ControlHeader>()`.
    pub header_size: AtomicU32,
    /// Size of the whole object.
    pub total_size: AtomicU64,
    /// Devices in the set.
    pub device_count: AtomicU32,
    /// Entries per ring (power of two).
    pub ring_capacity: AtomicU32,
    /// `size_of::<CommandDesc>()`.
    pub command_desc_size: AtomicU32,
    /// `size_of::<CompletionDesc>()`.
    pub completion_desc_size: AtomicU32,
    /// Offset of device 0's record.
    pub device_table_offset: AtomicU64,
    /// Bytes per device record.
    pub device_stride: AtomicU64,
    /// Offset of the command slots within a device record.
    pub command_slots_offset: AtomicU64,
    /// Offset of the completion slots within a device record.
    pub completion_slots_offset: AtomicU64,
    /// The client's pid.
    pub creator_pid: AtomicU32,
    /// The client's uid.
    pub creator_uid: AtomicU32,
    /// The configuration the client passed to Create (`VdConfig::to_words`).
    pub requested_config: [AtomicU32; 11],
    /// Bytes of `set_name` in use.
    pub set_name_len: AtomicU32,
    /// The set name (UTF-8).
    pub set_name: [AtomicU64; NAME_WORDS],
    /// The server's pid (0 until it opened the set).
    pub server_pid: AtomicU32,
    /// Generation of the current buffer region (0 = none yet).
    pub buffer_generation: AtomicU32,
    /// The configuration the server chose (`VdConfig::to_words`).
    pub negotiated_config: [AtomicU32; 11],
    /// Bytes of `buffer_name` in use (set when the server announces the name, before the
    /// region exists; `buffer_generation` says when it does).
    pub buffer_name_len: AtomicU32,
    /// Size of the buffer region object.
    pub buffer_size: AtomicU64,
    /// The buffer region's shm name.
    pub buffer_name: [AtomicU64; NAME_WORDS],
    /// The set state (values owned by vdi-proto).
    pub set_state: Padded<AtomicU32>,
    /// Event count bumped on every set-state change (multi-waiter).
    pub state_events: Padded<AtomicU32>,
    /// Sticky abort word: non-zero once either side signalled abort.
    pub abort: Padded<AtomicU32>,
}

/// One device's fixed part; its ring slots follow it.
#[repr(C)]
#[derive(Debug)]
pub struct DeviceBlock {
    /// Bytes of `name` in use.
    pub name_len: AtomicU32,
    /// Reserved, 0.
    pub reserved: AtomicU32,
    /// The device name (UTF-8).
    pub name: [AtomicU64; NAME_WORDS],
    /// Client-side device state word (values owned by the client library).
    pub client_state: Padded<AtomicU32>,
    /// Server-side device state word (values owned by the server).
    pub server_state: Padded<AtomicU32>,
    /// The client parks here waiting for commands.
    pub command_event: Padded<AtomicU32>,
    /// The server parks here waiting for completions.
    pub completion_event: Padded<AtomicU32>,
    /// Command ring consumer index (client).
    pub command_head: Padded<AtomicU64>,
    /// Command ring producer index (server) + closed mark.
    pub command_tail: Padded<AtomicU64>,
    /// Completion ring consumer index (server).
    pub completion_head: Padded<AtomicU64>,
    /// Completion ring producer index (client) + closed mark.
    pub completion_tail: Padded<AtomicU64>,
}

/// The buffer region's header.
#[repr(C)]
#[derive(Debug)]
pub struct BufferHeader {
    /// [`BUFFER_MAGIC`] once published.
    pub magic: AtomicU64,
    /// [`LAYOUT_VERSION`].
    pub layout_version: AtomicU32,
    /// `size_of::<BufferHeader>()`.
    pub header_size: AtomicU32,
    /// Size of the whole object.
    pub total_size: AtomicU64,
    /// [`BUFFER_DATA_OFFSET`].
    pub data_offset: AtomicU64,
    /// Bytes of the data area.
    pub data_size: AtomicU64,
    /// The generation recorded in the control header.
    pub generation: AtomicU32,
    /// The server's pid.
    pub creator_pid: AtomicU32,
    /// The server's uid.
    pub creator_uid: AtomicU32,
    /// Reserved, 0.
    pub reserved: AtomicU32,
}

const _: () = {
    assert!(size_of::<ControlHeader>().is_multiple_of(CACHE_LINE));
    assert!(offset_of!(ControlHeader, magic) == 0);
    assert!(offset_of!(ControlHeader, requested_config) == 80);
    assert!(offset_of!(ControlHeader, set_name) == 128);
    assert!(offset_of!(ControlHeader, set_state) % CACHE_LINE == 0);
    assert!(offset_of!(ControlHeader, abort) % CACHE_LINE == 0);
    assert!(offset_of!(ControlHeader, abort) - offset_of!(ControlHeader, state_events) == 128);
    assert!(size_of::<DeviceBlock>().is_multiple_of(CACHE_LINE));
    assert!(offset_of!(DeviceBlock, command_event) % CACHE_LINE == 0);
    assert!(offset_of!(DeviceBlock, completion_tail) % CACHE_LINE == 0);
    assert!(size_of::<BufferHeader>() == 56);
    assert!((size_of::<BufferHeader>() as u64) <= BUFFER_DATA_OFFSET);
};

/// Where everything lives in a control region of a given shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlGeometry {
    /// Devices.
    pub device_count: u32,
    /// Entries per ring.
    pub ring_capacity: u32,
    /// Offset of device 0.
    pub device_table_offset: u64,
    /// Bytes per device record.
    pub device_stride: u64,
    /// Command slots within a record.
    pub command_slots_offset: u64,
    /// Completion slots within a record.
    pub completion_slots_offset: u64,
    /// Size of the object.
    pub total_size: u64,
}

fn round_up(v: u64, to: u64) -> u64 {
    v.div_ceil(to) * to
}

impl ControlGeometry {
    /// The geometry for `device_count` devices with rings of `ring_capacity` entries.
    pub fn new(device_count: u32, ring_capacity: u32) -> Result<ControlGeometry, String> {
        if device_count == 0 || device_count > MAX_DEVICES {
            return Err(format!(
                "device count {device_count} not in 1..={MAX_DEVICES}"
            ));
        }
        if !ring_capacity.is_power_of_two() || ring_capacity > MAX_CAPACITY {
            return Err(format!(
                "ring capacity {ring_capacity} is not a power of two ≤ {MAX_CAPACITY}"
            ));
        }
        let line = CACHE_LINE as u64;
        let cap = u64::from(ring_capacity);
        let command_slots_offset = size_of::<DeviceBlock>() as u64;
        let completion_slots_offset =
            round_up(command_slots_offset + cap * COMMAND_WORDS as u64 * 8, line);
        let device_stride = round_up(
            completion_slots_offset + cap * COMPLETION_WORDS as u64 * 8,
            line,
        );
        let device_table_offset = round_up(size_of::<ControlHeader>() as u64, line);
        Ok(ControlGeometry {
            device_count,
            ring_capacity,
            device_table_offset,
            device_stride,
            command_slots_offset,
            completion_slots_offset,
            total_size: device_table_offset + u64::from(device_count) * device_stride,
        })
    }

    /// Offset of device `i`'s record.
    pub fn device_offset(&self, i: u32) -> u64 {
        self.device_table_offset + u64::from(i) * self.device_stride
    }
}

/// Writes `bytes` (≤ [`NAME_FIELD_BYTES`]) into a name field.
pub(crate) fn write_name(len: &AtomicU32, field: &[AtomicU64; NAME_WORDS], bytes: &[u8]) {
    use crate::sync::Ordering::Relaxed;
    let n = bytes.len().min(NAME_FIELD_BYTES);
    let mut chunks = bytes[..n].chunks(8);
    for word in field {
        let mut buf = [0u8; 8];
        if let Some(chunk) = chunks.next() {
            buf[..chunk.len()].copy_from_slice(chunk);
        }
        word.store(u64::from_le_bytes(buf), Relaxed);
    }
    len.store(n as u32, Relaxed);
}

/// Reads a name field; `None` if the length or the UTF-8 is corrupt.
pub(crate) fn read_name(len: &AtomicU32, field: &[AtomicU64; NAME_WORDS]) -> Option<String> {
    use crate::sync::Ordering::Relaxed;
    let n = len.load(Relaxed) as usize;
    if n > NAME_FIELD_BYTES {
        return None;
    }
    let mut bytes = Vec::with_capacity(NAME_FIELD_BYTES);
    for word in field {
        bytes.extend_from_slice(&word.load(Relaxed).to_le_bytes());
    }
    bytes.truncate(n);
    String::from_utf8(bytes).ok()
}
