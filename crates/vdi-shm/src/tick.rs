//! The clock both sides pass to the protocol core, as its microsecond [`Tick`]s.
//!
//! The core reads time only to stamp transcript events and to run the 2 × serverTimeOut
//! watchdog, and every API call passes `now` in. A precise `CLOCK_MONOTONIC` read costs about
//! 35 ns in a VM (two per `Instant::elapsed`), which was a fifth of a command round trip.
//! So the clock is coarse (`CLOCK_MONOTONIC_COARSE`, the last scheduler tick: 1–4 ms old, and
//! about 8 ns to read) until somebody records a transcript, whose timestamps should be exact.
//! Both readings count from the same origin on the same clock, so a tick taken after the switch
//! is never earlier than one taken before it. Timeouts of blocking calls are measured by
//! [`crate::event::wait_until`] with `Instant`, not with these ticks.
//!
//! The clock is read through libc, not rustix: rustix finds the vDSO itself and faults under
//! valgrind, where a vendor may well run a program linked with libsqlvdi.

use std::sync::atomic::{AtomicBool, Ordering};
use vdi_proto::Tick;

/// Microseconds since the clock was made; coarse unless [`TickClock::set_precise`].
#[derive(Debug)]
pub struct TickClock {
    origin_us: u64,
    precise: AtomicBool,
}

impl Default for TickClock {
    fn default() -> TickClock {
        TickClock::new()
    }
}

impl TickClock {
    /// A clock whose origin is now.
    pub fn new() -> TickClock {
        TickClock {
            origin_us: read(libc::CLOCK_MONOTONIC),
            precise: AtomicBool::new(false),
        }
    }

    /// Reads the precise clock from now on (a transcript is being recorded), or the coarse one.
    pub fn set_precise(&self, precise: bool) {
        self.precise.store(precise, Ordering::Relaxed);
    }

    /// Now, as the core's tick.
    pub fn now(&self) -> Tick {
        let id = if self.precise.load(Ordering::Relaxed) {
            libc::CLOCK_MONOTONIC
        } else {
            libc::CLOCK_MONOTONIC_COARSE
        };
        // The coarse clock lags by up to one scheduler tick, so just after the origin it can
        // read earlier than it.
        Tick(read(id).saturating_sub(self.origin_us))
    }
}

/// Microseconds on clock `id` (0 if the kernel refuses it, which it does not for these two).
fn read(id: libc::clockid_t) -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec for the duration of the call, and `id` is one
    // of the two monotonic clocks every Linux since 2.6.32 provides.
    if unsafe { libc::clock_gettime(id, &mut t) } != 0 {
        return 0;
    }
    (t.tv_sec as u64)
        .saturating_mul(1_000_000)
        .saturating_add(t.tv_nsec as u64 / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn coarse_and_precise_ticks_advance_on_one_scale() {
        let clock = TickClock::new();
        let coarse = clock.now();
        std::thread::sleep(Duration::from_millis(30));
        let later = clock.now();
        // At least the sleep minus one scheduler tick of coarseness (at most 10 ms at HZ=100).
        assert!(
            later.micros_since(coarse) >= 20_000,
            "{coarse:?} → {later:?}"
        );
        clock.set_precise(true);
        let precise = clock.now();
        assert!(
            precise >= later,
            "switching to precise went back: {later:?} → {precise:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now().micros_since(precise) >= 2_000);
    }
}
