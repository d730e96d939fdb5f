//! The buffer area allocator (RequestBuffers / AllocateBuffer / FreeBuffer), sans-IO.
//!
//! Everything is an offset into the buffer region's data area. Each buffer is
//! `[prefix zone][data]`: the data offset is aligned to the requested power of two (at least
//! the set's base alignment) and the client's prefix zone sits immediately before it.
//!
//! Buffer handles (GetBufferHandle / MapBufferHandle) are process-independent `u32`s:
//! bits 31..24 are a tag derived from the buffer region generation (never 0), bits 23..0 the
//! data offset in units of [`HANDLE_UNIT`]. A handle is valid only within its set and
//! generation; decoding checks the tag, the alignment and the bounds.

use std::collections::BTreeMap;
use vdi_proto::{Rule, VdError};

/// Granularity of handle offsets (the smallest block size).
pub const HANDLE_UNIT: u64 = 512;
const HANDLE_OFFSET_BITS: u32 = 24;
/// Largest data area a handle can address (8 GiB).
pub const MAX_HANDLE_AREA: u64 = HANDLE_UNIT << HANDLE_OFFSET_BITS;

/// Why an allocation or a free failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BufferError {
    /// Not enough contiguous free space (VD_E_MEMORY).
    #[error("no free space for {size} bytes")]
    NoSpace {
        /// Requested data bytes.
        size: u32,
    },
    /// Size 0, or an alignment that is not a power of two (VD_E_INVALID).
    #[error("invalid size {size} or alignment {alignment}")]
    BadRequest {
        /// Requested size.
        size: u32,
        /// Requested alignment.
        alignment: u32,
    },
    /// Not the data offset of a live buffer (VD_E_INVALID).
    #[error("offset {0} is not an allocated buffer")]
    NotAllocated(u64),
}

impl BufferError {
    /// The server-side VD_E_* error.
    pub fn to_vd_error(self) -> VdError {
        match self {
            BufferError::NoSpace { .. } => VdError::new(Rule::SrvBufferMemory),
            _ => VdError::new(Rule::SrvBufferInvalid),
        }
    }
}

fn align_up(v: u64, align: u64) -> Option<u64> {
    Some(v.checked_add(align - 1)? & !(align - 1))
}

/// One allocation: the block `[start, end)` whose data begins at `data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    start: u64,
    end: u64,
    size: u32,
}

/// First-fit allocator with coalescing over `[0, area_size)`.
#[derive(Clone, Debug)]
pub struct BufferArea {
    area_size: u64,
    prefix_zone: u32,
    base_alignment: u32,
    /// Free extents: start → end.
    free: BTreeMap<u64, u64>,
    /// Live buffers by data offset.
    live: BTreeMap<u64, Block>,
}

impl BufferArea {
    /// An empty area. `base_alignment` (a power of two, e.g. the negotiated alignment) is the
    /// minimum alignment of every data offset; `prefix_zone` bytes precede every buffer.
    pub fn new(area_size: u64, base_alignment: u32, prefix_zone: u32) -> BufferArea {
        let base_alignment = base_alignment.max(1).next_power_of_two();
        let mut free = BTreeMap::new();
        if area_size > 0 {
            free.insert(0, area_size);
        }
        BufferArea {
            area_size,
            prefix_zone,
            base_alignment,
            free,
            live: BTreeMap::new(),
        }
    }

    /// Bytes a set must reserve so that `count` buffers of `size` at `alignment` surely fit in
    /// an area with `base_alignment` (RequestBuffers sums these until EndConfiguration).
    pub fn reserve_size(
        size: u32,
        alignment: u32,
        count: u32,
        prefix_zone: u32,
        base_alignment: u32,
    ) -> Result<u64, BufferError> {
        if size == 0 || (alignment != 0 && !alignment.is_power_of_two()) {
            return Err(BufferError::BadRequest { size, alignment });
        }
        let align = u64::from(alignment.max(base_alignment.max(1).next_power_of_two()));
        let per = align_up(u64::from(prefix_zone) + u64::from(size), align)
            .and_then(|v| v.checked_add(align))
            .ok_or(BufferError::BadRequest { size, alignment })?;
        per.checked_mul(u64::from(count))
            .ok_or(BufferError::BadRequest { size, alignment })
    }

    /// Total size of the area.
    pub fn area_size(&self) -> u64 {
        self.area_size
    }

    /// The prefix zone placed before each buffer.
    pub fn prefix_zone(&self) -> u32 {
        self.prefix_zone
    }

    /// AllocateBuffer: returns the data offset (aligned; the prefix zone is at
    /// `offset - prefix_zone`).
    pub fn allocate(&mut self, size: u32, alignment: u32) -> Result<u64, BufferError> {
        if size == 0 || (alignment != 0 && !alignment.is_power_of_two()) {
            return Err(BufferError::BadRequest { size, alignment });
        }
        let align = u64::from(alignment.max(self.base_alignment));
        let prefix = u64::from(self.prefix_zone);
        let mut found = None;
        for (&start, &end) in &self.free {
            let Some(data) = align_up(start + prefix, align) else {
                continue;
            };
            let Some(data_end) = data.checked_add(u64::from(size)) else {
                continue;
            };
            if data_end <= end {
                found = Some((start, end, data, data_end));
                break;
            }
        }
        let (start, end, data, data_end) = found.ok_or(BufferError::NoSpace { size })?;
        self.free.remove(&start);
        let block_start = data - prefix;
        if block_start > start {
            self.free.insert(start, block_start);
        }
        if data_end < end {
            self.free.insert(data_end, end);
        }
        self.live.insert(
            data,
            Block {
                start: block_start,
                end: data_end,
                size,
            },
        );
        Ok(data)
    }

    /// FreeBuffer: gives a buffer back by its data offset.
    pub fn free(&mut self, data_offset: u64) -> Result<(), BufferError> {
        let block = self
            .live
            .remove(&data_offset)
            .ok_or(BufferError::NotAllocated(data_offset))?;
        let (mut start, mut end) = (block.start, block.end);
        if let Some((&prev_start, &prev_end)) = self.free.range(..start).next_back()
            && prev_end == start
        {
            self.free.remove(&prev_start);
            start = prev_start;
        }
        if let Some(next_end) = self.free.remove(&end) {
            end = next_end;
        }
        self.free.insert(start, end);
        Ok(())
    }

    /// IsSharedBuffer: whether `offset` lies in a live buffer's data.
    pub fn is_shared_buffer(&self, offset: u64) -> bool {
        self.containing(offset).is_some()
    }

    /// The live buffer (data offset, size) containing `offset`.
    pub fn containing(&self, offset: u64) -> Option<(u64, u32)> {
        let (&data, block) = self.live.range(..=offset).next_back()?;
        (offset < block.end).then_some((data, block.size))
    }

    /// Number of live buffers.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// Free bytes (possibly fragmented).
    pub fn free_bytes(&self) -> u64 {
        self.free.iter().map(|(s, e)| e - s).sum()
    }
}

/// A process-independent buffer handle (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferHandle(pub u32);

/// Why a handle is refused (VD_E_INVALID).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// The offset cannot be expressed as a handle (unaligned or beyond 8 GiB).
    #[error("offset {0} cannot be a buffer handle")]
    Unrepresentable(u64),
    /// From another set or generation.
    #[error("handle {0:#x} belongs to another set or generation")]
    WrongGeneration(u32),
    /// Outside the data area.
    #[error("handle {0:#x} points outside the buffer area")]
    OutOfBounds(u32),
}

impl HandleError {
    /// GetBufferHandle of a non-buffer (VDI-BUFFER-003) or MapBufferHandle of a bad handle
    /// (VDI-BUFFER-005); both VD_E_INVALID.
    pub fn to_vd_error(self) -> VdError {
        match self {
            HandleError::Unrepresentable(_) => VdError::new(Rule::BufferHandleBadAddress),
            _ => VdError::new(Rule::MapBufferBadHandle),
        }
    }
}

fn tag(generation: u32) -> u32 {
    generation % 255 + 1
}

impl BufferHandle {
    /// GetBufferHandle: the handle of the buffer at `data_offset` in buffer generation
    /// `generation`.
    pub fn encode(data_offset: u64, generation: u32) -> Result<BufferHandle, HandleError> {
        if !data_offset.is_multiple_of(HANDLE_UNIT) || data_offset >= MAX_HANDLE_AREA {
            return Err(HandleError::Unrepresentable(data_offset));
        }
        Ok(BufferHandle(
            (tag(generation) << HANDLE_OFFSET_BITS) | (data_offset / HANDLE_UNIT) as u32,
        ))
    }

    /// MapBufferHandle: the data offset, if the handle belongs to `generation` and lies inside
    /// an area of `area_size` bytes.
    pub fn decode(self, generation: u32, area_size: u64) -> Result<u64, HandleError> {
        if self.0 >> HANDLE_OFFSET_BITS != tag(generation) {
            return Err(HandleError::WrongGeneration(self.0));
        }
        let offset = u64::from(self.0 & ((1 << HANDLE_OFFSET_BITS) - 1)) * HANDLE_UNIT;
        if offset >= area_size {
            return Err(HandleError::OutOfBounds(self.0));
        }
        Ok(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vdi_proto::VdCode;

    #[test]
    fn aligned_with_prefix_and_coalescing() {
        let mut a = BufferArea::new(1 << 20, 4096, 512);
        let x = a.allocate(65536, 0).unwrap();
        assert_eq!(x % 4096, 0);
        assert!(x >= 512);
        let y = a.allocate(1000, 65536).unwrap();
        assert_eq!(y % 65536, 0);
        assert!(y >= x + 65536 + 512);
        assert!(a.is_shared_buffer(x));
        assert!(a.is_shared_buffer(x + 65535));
        assert!(!a.is_shared_buffer(x + 65536));
        assert!(!a.is_shared_buffer(x - 1)); // the prefix zone is not the buffer
        assert_eq!(a.containing(y + 10), Some((y, 1000)));
        a.free(x).unwrap();
        a.free(y).unwrap();
        assert_eq!(a.free(y), Err(BufferError::NotAllocated(y)));
        assert_eq!(a.free_bytes(), 1 << 20);
        assert_eq!(a.free.len(), 1, "fully coalesced");
    }

    #[test]
    fn exhaustion_and_bad_requests() {
        let mut a = BufferArea::new(8192, 512, 0);
        a.allocate(4096, 0).unwrap();
        a.allocate(4096, 0).unwrap();
        let e = a.allocate(1, 0).unwrap_err();
        assert_eq!(e.to_vd_error().code, VdCode::Memory);
        let e = a.allocate(0, 0).unwrap_err();
        assert_eq!(e.to_vd_error().code, VdCode::Invalid);
        assert!(a.allocate(512, 3).is_err());
        assert!(BufferArea::new(0, 512, 0).allocate(1, 0).is_err());
    }

    #[test]
    fn reserve_size_always_fits() {
        for (size, align, count, prefix) in
            [(65536, 4096, 4, 512), (1000, 0, 7, 0), (1, 65536, 3, 4096)]
        {
            let total = BufferArea::reserve_size(size, align, count, prefix, 512).unwrap();
            let mut a = BufferArea::new(total, 512, prefix);
            for _ in 0..count {
                a.allocate(size, align).unwrap();
            }
        }
        assert!(BufferArea::reserve_size(u32::MAX, 1 << 31, u32::MAX, 0, 0).is_err()); // overflow, no panic
        assert!(BufferArea::reserve_size(0, 0, 1, 0, 0).is_err());
    }

    /// Random allocate/free sequences: buffers never overlap (prefix zones included), stay in
    /// the area, honour the alignment, and freeing everything coalesces back to one extent.
    #[test]
    fn random_sequences_keep_the_invariants() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let area_size = 4 << 20;
        let prefix = 512;
        let mut a = BufferArea::new(area_size, 4096, prefix);
        let mut live: Vec<(u64, u32, u32)> = Vec::new();
        for _ in 0..20_000 {
            if live.is_empty() || next(3) != 0 {
                let size = 1 + next(256 * 1024) as u32;
                let alignment = [0, 512, 4096, 65536][next(4) as usize];
                if let Ok(off) = a.allocate(size, alignment) {
                    assert!(off.is_multiple_of(u64::from(alignment.max(4096))));
                    assert!(off >= u64::from(prefix));
                    assert!(off + u64::from(size) <= area_size);
                    let (start, end) = (off - u64::from(prefix), off + u64::from(size));
                    for &(o, sz, _) in &live {
                        let (s2, e2) = (o - u64::from(prefix), o + u64::from(sz));
                        assert!(end <= s2 || e2 <= start, "overlap");
                    }
                    assert_eq!(a.containing(off + u64::from(size) - 1), Some((off, size)));
                    live.push((off, size, alignment));
                }
            } else {
                let i = next(live.len() as u64) as usize;
                let (off, _, _) = live.swap_remove(i);
                a.free(off).unwrap();
                assert!(!a.is_shared_buffer(off));
            }
            assert_eq!(a.live_count(), live.len());
        }
        for (off, _, _) in live.drain(..) {
            a.free(off).unwrap();
        }
        assert_eq!(a.free_bytes(), area_size);
        assert_eq!(a.free.len(), 1);
    }

    #[test]
    fn handles_round_trip_and_validate() {
        let h = BufferHandle::encode(1 << 20, 7).unwrap();
        assert_eq!(h.decode(7, 2 << 20), Ok(1 << 20));
        assert_eq!(h.decode(8, 2 << 20), Err(HandleError::WrongGeneration(h.0)));
        assert_eq!(h.decode(7, 1 << 20), Err(HandleError::OutOfBounds(h.0)));
        assert!(BufferHandle::encode(100, 7).is_err());
        assert!(BufferHandle::encode(MAX_HANDLE_AREA, 7).is_err());
        assert!(
            BufferHandle(0).decode(0, 1 << 30).is_err(),
            "0 is never a handle"
        );
        let e = HandleError::WrongGeneration(1).to_vd_error();
        assert_eq!(e.code, VdCode::Invalid);
    }
}
