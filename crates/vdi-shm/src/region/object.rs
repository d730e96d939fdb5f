//! One POSIX shared-memory object: created anonymous and published atomically, or opened with
//! checks; mapped; and removed only when the name still refers to it.
//!
//! **Creation** never shows a half-made object under a name: the object is an anonymous tmpfs
//! file (`O_TMPFILE` in /dev/shm) that is locked (`flock(LOCK_EX)`, held by the creator for its
//! whole life), given its exact mode and size, mapped and initialised by the caller, and only
//! then hard-linked to its name (`linkat`, which fails if the name exists, as `O_EXCL`). A
//! creator killed before the link leaves nothing; after it, the name's object is locked for as
//! long as its creator lives. So "nobody holds the lock" means "the creator is dead", with no
//! window and no age rule (the sweep in [`super::reclaim`] relies on it).
//!
//! **Removal** by name checks that the name still refers to this very object (device and
//! inode), so a process never removes a successor's object that reused the name.

use crate::error::RegionError;
use crate::layout::{BufferHeader, ControlHeader, DeviceBlock};
use crate::sync::SlotCell;
use memmap2::{MmapOptions, MmapRaw};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, FlockOperation, Mode, OFlags, flock};
use rustix::io::Errno;
use rustix::shm;
use std::mem::{align_of, size_of};
use std::sync::atomic::{AtomicBool, Ordering};

/// Where POSIX shared memory lives on Linux (`shm_open` names are files here).
pub(crate) const SHM_DIR: &str = "/dev/shm";

/// The file of the shm name `name` (which starts with `/`).
pub(crate) fn shm_path(name: &str) -> String {
    format!("{SHM_DIR}{name}")
}

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
    pub(crate) fn mode(self) -> u32 {
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
pub(crate) unsafe trait AtomicsOnly: Sized {}
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
pub(crate) struct ShmObject {
    pub(crate) name: String,
    pub(crate) fd: OwnedFd,
    pub(crate) map: MmapRaw,
    /// The creator: it holds the flock token (through `fd`) and removes its name on drop.
    pub(crate) owner: bool,
    /// Whether the creator's object is (still) reachable under `name`.
    linked: AtomicBool,
}

pub(crate) fn io<'a>(op: &'static str, name: &'a str) -> impl Fn(Errno) -> RegionError + 'a {
    move |errno| RegionError::Io {
        op,
        name: name.to_string(),
        errno,
    }
}

impl ShmObject {
    /// Creator: an anonymous object of `size` bytes and exactly `access`'s mode, locked and
    /// mapped, to be published under `name` by [`ShmObject::link`] once initialised.
    pub(crate) fn create_unlinked(
        name: &str,
        size: u64,
        access: Access,
    ) -> Result<ShmObject, RegionError> {
        let fd = rustix::fs::open(
            SHM_DIR,
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(io("open(O_TMPFILE)", name))?;
        // Nobody else can reach the object yet: the lock is ours at once.
        flock(&fd, FlockOperation::LockExclusive).map_err(io("flock", name))?;
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(access.mode())).map_err(io("fchmod", name))?;
        rustix::fs::ftruncate(&fd, size).map_err(io("ftruncate", name))?;
        let map = Self::map(name, &fd, size)?;
        Ok(ShmObject {
            name: name.to_string(),
            fd,
            map,
            owner: true,
            linked: AtomicBool::new(false),
        })
    }

    /// Creator: publishes the object under its name. [`RegionError::Exists`] if the name is
    /// taken (the object stays anonymous and vanishes when dropped).
    pub(crate) fn link(&self) -> Result<(), RegionError> {
        let path = shm_path(&self.name);
        let source = format!("/proc/self/fd/{}", self.fd.as_raw_fd());
        rustix::fs::linkat(
            CWD,
            source.as_str(),
            CWD,
            path.as_str(),
            AtFlags::SYMLINK_FOLLOW,
        )
        .map_err(|e| match e {
            Errno::EXIST => RegionError::Exists(self.name.clone()),
            Errno::ACCESS | Errno::PERM => RegionError::Security {
                name: self.name.clone(),
                reason: format!("cannot create: {e}"),
            },
            e => io("linkat", &self.name)(e),
        })?;
        self.linked.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Opener: the object `name`, checked for owner, mode and size.
    pub(crate) fn open(
        name: &str,
        access: Access,
        min_size: u64,
    ) -> Result<ShmObject, RegionError> {
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
            linked: AtomicBool::new(false),
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

    pub(crate) fn len(&self) -> u64 {
        self.map.len() as u64
    }

    /// A reference to the `T` at `offset`, if it lies in the mapping and is aligned.
    pub(crate) fn at<T: AtomicsOnly>(&self, offset: u64) -> Option<&T> {
        self.slice_at::<T>(offset, 1).and_then(|s| s.first())
    }

    /// [`ShmObject::slice_at`] without its checks, for the hot path.
    ///
    /// # Safety
    /// `slice_at::<T>(offset, count)` must have returned `Some` on this object before: the
    /// mapping neither moves nor shrinks while `self` lives, so the range is still in bounds and
    /// aligned.
    pub(crate) unsafe fn slice_at_checked_before<T: AtomicsOnly>(
        &self,
        offset: u64,
        count: usize,
    ) -> &[T] {
        let ptr = self.map.as_ptr().wrapping_add(offset as usize);
        // SAFETY: the caller guarantees that `slice_at` accepted this very range, so every
        // condition it checked (in bounds, aligned, AtomicsOnly) still holds.
        unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), count) }
    }

    /// `count` consecutive `T`s at `offset`, if they lie in the mapping and are aligned.
    pub(crate) fn slice_at<T: AtomicsOnly>(&self, offset: u64, count: usize) -> Option<&[T]> {
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
    pub(crate) fn creator_alive(&self) -> bool {
        self.owner || crate::liveness::lock_holder_alive(self.fd.as_fd())
    }

    /// Creator: removes the name now (if it is still this object's); the mapping stays valid.
    pub(crate) fn unlink(&self) {
        if self.owner && self.linked.swap(false, Ordering::SeqCst) {
            unlink_if_same(&self.name, &self.fd);
        }
    }

    /// Opener: removes the name if the creator died (nobody holds its lock) and the name still
    /// refers to this object. True if it was removed.
    pub(crate) fn unlink_if_orphaned(&self) -> bool {
        !self.owner && remove_if_dead(&self.name, &self.fd)
    }
}

impl Drop for ShmObject {
    fn drop(&mut self) {
        self.unlink();
    }
}

/// Removes `name` if it is the object open as `fd` (same device and inode).
pub(crate) fn unlink_if_same(name: &str, fd: &OwnedFd) -> bool {
    let Ok(ours) = rustix::fs::fstat(fd) else {
        return false;
    };
    match rustix::fs::lstat(shm_path(name).as_str()) {
        Ok(st) if st.st_dev == ours.st_dev && st.st_ino == ours.st_ino => shm::unlink(name).is_ok(),
        _ => false,
    }
}

/// Removes `name`, open here as `fd` (another open file description than the creator's), if
/// its creator is dead: nobody holds the lock, and this process can take it exclusively.
/// Holding that lock while it checks and removes makes it the only remover; a successor (a new
/// object under the same name) is never touched. A held lock (a live creator, or another
/// remover at work) costs one probe; a short retry rides out another process's momentary
/// probe of a dead creator's lock.
pub(crate) fn remove_if_dead(name: &str, fd: &OwnedFd) -> bool {
    if crate::liveness::lock_holder_alive(fd) {
        return false;
    }
    for attempt in 0..5 {
        if flock(fd, FlockOperation::NonBlockingLockExclusive).is_ok() {
            let removed = unlink_if_same(name, fd);
            let _ = flock(fd, FlockOperation::Unlock);
            return removed;
        }
        if attempt < 4 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    false
}
