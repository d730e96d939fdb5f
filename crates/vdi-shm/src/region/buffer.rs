//! The buffer region: the data area both sides reach in place, created by the server under an
//! unguessable name ([`crate::naming::BufferNonce`]).

use super::BufferInfo;
use super::object::{Access, ShmObject, shm_path};
use crate::error::RegionError;
use crate::layout::{BUFFER_DATA_OFFSET, BUFFER_MAGIC, BufferHeader, LAYOUT_VERSION};
use crate::naming::{BufferNonce, PREFIX, RegionKind, region_name};
use crate::sync::Ordering;
use std::mem::size_of;

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
    /// `set_name` of user `client_uid`, named with `nonce`, with a data area of `data_size`
    /// bytes. The region is complete before its name appears. A name that is already taken was
    /// not made by this server: [`RegionError::Squatted`], and nothing is written to it.
    pub fn create(
        client_uid: u32,
        set_name: &str,
        generation: u32,
        nonce: BufferNonce,
        data_size: u64,
        access: Access,
    ) -> Result<BufferRegion, RegionError> {
        if generation == 0 {
            return Err(RegionError::InvalidParams("buffer generation 0".into()));
        }
        let name = region_name(client_uid, set_name, RegionKind::Buffer(nonce))?;
        let total = BUFFER_DATA_OFFSET
            .checked_add(data_size)
            .ok_or_else(|| RegionError::InvalidParams(format!("data size {data_size}")))?;
        let obj = ShmObject::create_unlinked(&name, total, access)?;
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
        obj.link().map_err(|e| match e {
            RegionError::Exists(name) => {
                let owner = rustix::fs::lstat(shm_path(&name).as_str())
                    .map(|st| st.st_uid)
                    .ok();
                RegionError::Squatted { name, owner }
            }
            e => e,
        })?;
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

    /// The creator's pid, as its header records it (the client checks it is its server's).
    pub fn creator_pid(&self) -> u32 {
        self.obj
            .at::<BufferHeader>(0)
            .map_or(0, |h| h.creator_pid.load(Ordering::Relaxed))
    }

    /// Removes the region's name when its creator died without doing so (the client calls
    /// this when it closes a set whose server crashed). True if it was removed.
    pub fn unlink_if_orphaned(&self) -> bool {
        self.obj.unlink_if_orphaned()
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
