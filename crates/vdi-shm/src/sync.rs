//! Crate-private synchronisation facade (the tokio/crossbeam `loom` pattern).
//!
//! Production uses std atomics and the Linux futex with *shared* scope, so a wake crosses process
//! boundaries. Under `cfg(loom)` the atomics are loom's and the futex is modelled as a
//! Mutex + Condvar "kernel": `wait` locks, re-checks the word and sleeps on the condvar; `wake`
//! locks and notifies. A waiter that nobody wakes therefore deadlocks, and loom reports it.
//!
//! Ring slots are the one place where the two builds differ in kind: in production a slot word
//! is an `AtomicU64` in the mapping (so a hostile peer's concurrent write is never UB); under
//! loom it is a `loom::cell::UnsafeCell<u64>`, so reading a slot the consumer has already
//! released (or writing one not yet released) is reported by loom as a data race.

#![allow(dead_code)]

use std::time::Duration;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// One spin-loop hint (loom: a yield so that spin loops stay finite in the model).
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Gives the rest of the time slice away.
#[inline]
pub(crate) fn yield_now() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// What a futex wait ended with. Callers treat every variant as "re-check your condition".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FutexWait {
    /// Woken (or a spurious return).
    Woken,
    /// The word no longer held the expected value.
    Mismatch,
    /// The timeout elapsed.
    TimedOut,
}

/// A word of a ring slot (see the module docs).
#[cfg(not(loom))]
#[repr(transparent)]
#[derive(Debug, Default)]
pub struct SlotCell(AtomicU64);

#[cfg(not(loom))]
impl SlotCell {
    /// A zeroed slot word.
    pub fn new(v: u64) -> SlotCell {
        SlotCell(AtomicU64::new(v))
    }

    #[inline]
    pub(crate) fn load(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn store(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed)
    }
}

/// A word of a ring slot (see the module docs).
#[cfg(loom)]
#[derive(Debug)]
pub struct SlotCell(loom::cell::UnsafeCell<u64>);

#[cfg(loom)]
impl SlotCell {
    /// A slot word holding `v`.
    pub fn new(v: u64) -> SlotCell {
        SlotCell(loom::cell::UnsafeCell::new(v))
    }

    #[inline]
    pub(crate) fn load(&self) -> u64 {
        // SAFETY: loom checks this access against every concurrent one; an overlap is reported
        // as a data race, which is exactly what the model is looking for.
        self.0.with(|p| unsafe { *p })
    }

    #[inline]
    pub(crate) fn store(&self, v: u64) {
        // SAFETY: as in `load`; loom reports a concurrent access.
        self.0.with_mut(|p| unsafe { *p = v })
    }
}

#[cfg(loom)]
impl Default for SlotCell {
    fn default() -> SlotCell {
        SlotCell::new(0)
    }
}

#[cfg(not(loom))]
pub(crate) mod futex {
    //! The real futex, shared scope (no FUTEX_PRIVATE_FLAG) so that waits cross processes.
    use super::{AtomicU32, Duration, FutexWait};
    use rustix::io::Errno;
    use rustix::thread::futex;

    /// Sleeps while `*word == expected`, for at most `timeout`.
    pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> FutexWait {
        let ts = timeout.map(|d| rustix::time::Timespec {
            tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: i64::from(d.subsec_nanos()),
        });
        match futex::wait(word, futex::Flags::empty(), expected, ts.as_ref()) {
            Ok(()) => FutexWait::Woken,
            Err(Errno::AGAIN) => FutexWait::Mismatch,
            Err(Errno::TIMEDOUT) => FutexWait::TimedOut,
            // EINTR and anything unexpected: the caller re-checks its condition.
            Err(_) => FutexWait::Woken,
        }
    }

    /// Wakes up to `n` waiters sleeping on `word`, in any process.
    pub(crate) fn wake(word: &AtomicU32, n: u32) {
        // An error can only mean the word is not mapped, which cannot happen for a reference;
        // a failed wake is re-covered by the waiters' periodic wake-ups anyway.
        let _ = futex::wake(word, futex::Flags::empty(), n);
    }
}

#[cfg(loom)]
pub(crate) mod futex {
    //! The futex "kernel" for loom: one Mutex + Condvar for every word.
    //!
    //! Timeouts are not modelled (loom has no clock): a timed wait blocks until woken, so a
    //! model that relies on a timeout to make progress deadlocks, which is the point.
    use super::{AtomicU32, Duration, FutexWait, Ordering};
    use loom::sync::{Condvar, Mutex};

    struct Kernel {
        lock: Mutex<()>,
        cv: Condvar,
    }

    loom::lazy_static! {
        static ref KERNEL: Kernel = Kernel { lock: Mutex::new(()), cv: Condvar::new() };
    }

    pub(crate) fn wait(word: &AtomicU32, expected: u32, _timeout: Option<Duration>) -> FutexWait {
        let guard = KERNEL.lock.lock().unwrap();
        if word.load(Ordering::SeqCst) != expected {
            return FutexWait::Mismatch;
        }
        let _guard = KERNEL.cv.wait(guard).unwrap();
        FutexWait::Woken
    }

    pub(crate) fn wake(_word: &AtomicU32, _n: u32) {
        let _guard = KERNEL.lock.lock().unwrap();
        KERNEL.cv.notify_all();
    }
}
