//! Regions whose creator died: reclaiming one name (Create of a crashed set's name), the sweep
//! of a user's dead regions (the daemon's periodic sweep), and finding a set's creators.
//!
//! Liveness is the creator's `flock` only (see [`super::object`]): a named region whose lock
//! nobody holds belongs to a dead process, however young or old it is. A region of another uid
//! is never touched, even by root.

use super::object::{SHM_DIR, remove_if_dead, shm_path};
use crate::naming::PREFIX;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// What [`reclaim_if_dead`] found under a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reclaim {
    /// Nothing (any more) under the name.
    Missing,
    /// Its creator was dead; the name was removed.
    Removed,
    /// Its creator is alive (or another process is removing it at this moment).
    Alive,
    /// It belongs to another user: never touched.
    Foreign {
        /// The owner's uid.
        uid: u32,
    },
}

/// Removes the region `name` (with its leading `/`) if its creator is dead and it belongs to
/// this process's effective uid.
pub fn reclaim_if_dead(name: &str) -> Reclaim {
    let path = shm_path(name);
    let me = rustix::process::geteuid().as_raw();
    let fd = match rustix::fs::open(
        path.as_str(),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Reclaim::Missing,
        Err(_) => {
            return match rustix::fs::lstat(path.as_str()) {
                Err(Errno::NOENT) => Reclaim::Missing,
                Ok(st) if st.st_uid != me => Reclaim::Foreign { uid: st.st_uid },
                // Ours but not openable (a mode the creator chose, a symlink): leave it.
                _ => Reclaim::Alive,
            };
        }
    };
    match rustix::fs::fstat(&fd) {
        Ok(st) if st.st_uid != me => return Reclaim::Foreign { uid: st.st_uid },
        Ok(st) if !rustix::fs::FileType::from_raw_mode(st.st_mode).is_file() => {
            return Reclaim::Alive;
        }
        Ok(_) => {}
        Err(_) => return Reclaim::Alive,
    }
    if remove_if_dead(name, &fd) {
        return Reclaim::Removed;
    }
    match rustix::fs::lstat(path.as_str()) {
        Err(Errno::NOENT) => Reclaim::Missing,
        _ => Reclaim::Alive,
    }
}

/// The names (with their leading `/`) of the regions in /dev/shm whose file name starts with
/// `prefix` (a `/`-less prefix such as `vdisim.1000.`).
pub fn list_regions(prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(SHM_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.starts_with(prefix))
        .map(|n| format!("/{n}"))
        .collect();
    names.sort();
    names
}

/// The sweep: removes every region of user `uid` in /dev/shm whose creator is dead (nobody
/// holds its lock) and that this process's uid owns. Returns the names removed.
///
/// Live regions are left alone whatever their age; a young region cannot be mistaken for a
/// dead one, because a region gets its name only once its creator holds the lock.
pub fn cleanup_stale(uid: u32) -> Vec<String> {
    list_regions(&format!("{PREFIX}{uid}."))
        .into_iter()
        .filter(|name| reclaim_if_dead(name) == Reclaim::Removed)
        .collect()
}

/// The uids that have a control region for `set_name` in /dev/shm (the server learns only the
/// set name from the T-SQL; region names also carry the client's uid).
pub fn find_creator_uids(set_name: &str) -> Result<Vec<u32>, crate::naming::NameError> {
    crate::naming::validate_set_name(set_name)?;
    let suffix = format!(".{}.ctl", crate::naming::encode_set_name(set_name));
    let mut uids = Vec::new();
    for name in list_regions(PREFIX) {
        let Some(uid) = name[1 + PREFIX.len()..].strip_suffix(&suffix) else {
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
