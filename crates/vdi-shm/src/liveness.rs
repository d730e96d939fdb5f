//! Peer liveness: a pidfd watch, and the creator's `flock` token.
//!
//! * [`PeerWatch`] opens a pidfd for the peer's pid (recorded in the control header); the pidfd
//!   becomes readable when the process exits, which a zero-timeout `poll` detects without a
//!   signal or a race with pid reuse after the watch was opened.
//! * Every region's creator holds `flock(LOCK_EX)` on its region fd for its whole life; the
//!   kernel drops it when the process dies. [`lock_holder_alive`] probes it from another open
//!   file description (used by `cleanup_stale` and by an opener checking its creator).

use rustix::event::{PollFd, PollFlags, poll};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{FlockOperation, flock};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, pidfd_open};

/// Watches one process through a pidfd.
#[derive(Debug)]
pub struct PeerWatch {
    pid: u32,
    pidfd: Option<OwnedFd>,
}

impl PeerWatch {
    /// Starts watching `pid`. A pid that no longer exists gives a watch that reports dead.
    pub fn from_pid(pid: u32) -> Result<PeerWatch, Errno> {
        let raw = i32::try_from(pid).map_err(|_| Errno::INVAL)?;
        let Some(p) = Pid::from_raw(raw) else {
            return Err(Errno::INVAL);
        };
        match pidfd_open(p, PidfdFlags::empty()) {
            Ok(fd) => Ok(PeerWatch {
                pid,
                pidfd: Some(fd),
            }),
            Err(Errno::SRCH) => Ok(PeerWatch { pid, pidfd: None }),
            Err(e) => Err(e),
        }
    }

    /// The watched pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the process is still running (a zero-timeout poll: readable means exited).
    pub fn is_alive(&self) -> bool {
        let Some(fd) = &self.pidfd else {
            return false;
        };
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        let zero = rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        match poll(&mut fds, Some(&zero)) {
            Ok(0) => true,
            Ok(_) => !fds[0]
                .revents()
                .intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR),
            // EINTR or anything odd: do not declare a live peer dead.
            Err(_) => true,
        }
    }
}

/// Probes the creator's `flock` on the object behind `fd` (which must be this process's own
/// open file description, *not* the creator's). True while some other description holds it.
pub fn lock_holder_alive(fd: impl AsFd) -> bool {
    match flock(&fd, FlockOperation::NonBlockingLockShared) {
        Ok(()) => {
            let _ = flock(&fd, FlockOperation::Unlock);
            false
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_is_alive_and_a_reaped_child_is_dead() {
        let me = PeerWatch::from_pid(std::process::id()).unwrap();
        assert!(me.is_alive());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let watch = PeerWatch::from_pid(child.id()).unwrap();
        child.wait().unwrap();
        assert!(!watch.is_alive());
        assert!(PeerWatch::from_pid(0).is_err());
    }
}
