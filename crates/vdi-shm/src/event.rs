//! Cross-process wake-ups on futex words in the shared region.
//!
//! * [`Event`]: a single-waiter, crossbeam-`Parker`-style word (EMPTY / PARKED / NOTIFIED).
//!   `unpark` is a swap to NOTIFIED and issues the futex wake only if the waiter was PARKED, so
//!   a busy stream never enters the kernel on the notifying side.
//! * [`EventCount`]: a multi-waiter sequence word (for set-state changes: several threads may
//!   sit in GetConfiguration, and the server waits on it for completions). Bit 0 says that
//!   somebody may be asleep on the word; `notify_all` bumps the sequence (bits 1..), clears the
//!   bit, and enters the kernel only if it was set, so a busy stream with a spinning peer makes
//!   no futex call on the notifying side either.
//! * [`wait_until`]: the loop every blocking call uses: spin briefly (bounded, configurable),
//!   then park in slices of at most [`WaitConfig::liveness_interval`] (100 ms), checking the
//!   peer's liveness after every slice that timed out. It returns [`WaitOutcome`].
//!
//! Every word may have been scribbled on by a hostile peer: unknown values are treated as a
//! spurious wake-up, never as an error or a panic.

use crate::sync::{AtomicU32, Ordering, futex, spin_hint, yield_now};
use std::time::Duration;

/// Bit 0 of an [`EventCount`] word: somebody may be asleep on it.
const WAITERS: u32 = 1;

const EMPTY: u32 = 0;
const PARKED: u32 = 1;
const NOTIFIED: u32 = 2;

/// How long a blocking call may wait, built from the SDK's millisecond argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Check once and return (`timeout == 0`).
    Poll,
    /// Wait at most this many milliseconds.
    Millis(u32),
    /// Wait until the condition holds, the set aborts or the peer dies (`INFINITE`, negative).
    Forever,
}

impl Timeout {
    /// The SDK's convention: negative waits for ever, 0 polls, anything else is milliseconds
    /// (values beyond `u32::MAX` ms, about 49 days, also wait for ever).
    pub fn from_sdk_ms(ms: i64) -> Timeout {
        match ms {
            0 => Timeout::Poll,
            m if m < 0 || m >= i64::from(u32::MAX) => Timeout::Forever,
            m => Timeout::Millis(m as u32),
        }
    }

    /// The Windows `DWORD` convention: `INFINITE` (0xFFFFFFFF) waits for ever.
    pub fn from_dword_ms(ms: u32) -> Timeout {
        match ms {
            0 => Timeout::Poll,
            u32::MAX => Timeout::Forever,
            m => Timeout::Millis(m),
        }
    }
}

/// Tuning of [`wait_until`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitConfig {
    /// Spin steps before parking (crossbeam `Backoff` style: step `i` spins `2^min(i,6)` times,
    /// steps past 6 yield). 0 = always park.
    pub spin_steps: u32,
    /// Longest single sleep; the peer's liveness is checked at least this often.
    pub liveness_interval: Duration,
}

impl WaitConfig {
    /// Spin then park: 10 steps (~127 spins and a few yields), liveness every 100 ms.
    pub const SPIN_THEN_PARK: WaitConfig = WaitConfig {
        spin_steps: 10,
        liveness_interval: Duration::from_millis(100),
    };
    /// Park at once (used by benches and models).
    pub const ALWAYS_PARK: WaitConfig = WaitConfig {
        spin_steps: 0,
        liveness_interval: Duration::from_millis(100),
    };
}

impl Default for WaitConfig {
    fn default() -> WaitConfig {
        WaitConfig::SPIN_THEN_PARK
    }
}

/// What [`wait_until`] ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome<T> {
    /// The poll function produced a value.
    Ready(T),
    /// The timeout elapsed without a value (the state is unchanged: VD_E_TIMEOUT).
    TimedOut,
    /// The liveness check failed: the caller aborts the set (VD_E_ABORT).
    PeerDead,
}

/// A single-waiter parking word (crossbeam `Parker` over a shared futex word).
///
/// Exactly one thread (in one process) may `park` on a given word at a time; any number of
/// threads in any process may `unpark`.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    word: &'a AtomicU32,
}

impl<'a> Event<'a> {
    /// Wraps a word of the shared region (or of a heap block under loom / in unit tests).
    pub fn new(word: &'a AtomicU32) -> Event<'a> {
        Event { word }
    }

    /// Sleeps until notified or `timeout` elapses. Returns true when a notification was consumed.
    /// A false return may also be a spurious wake-up; callers re-check their condition.
    pub fn park(&self, timeout: Option<Duration>) -> bool {
        if self
            .word
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return true;
        }
        match self
            .word
            .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) | Err(PARKED) => {}
            Err(NOTIFIED) => {
                self.word.swap(EMPTY, Ordering::SeqCst);
                return true;
            }
            Err(_garbage) => {
                // A peer scribbled on the word: repair it and report a spurious wake-up.
                self.word.store(EMPTY, Ordering::SeqCst);
                return false;
            }
        }
        let _ = futex::wait(self.word, PARKED, timeout);
        self.word.swap(EMPTY, Ordering::SeqCst) == NOTIFIED
    }

    /// Wakes the parked waiter, or makes its next `park` return at once.
    pub fn unpark(&self) {
        // A swap, not a CAS: it must publish (release) whatever the notifier wrote before.
        if self.word.swap(NOTIFIED, Ordering::SeqCst) == PARKED {
            futex::wake(self.word, 1);
        }
    }

    /// A deliberately broken `unpark` that forgets the futex wake, so the loom models can show
    /// that they catch a lost wake-up. Never use it outside a model.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn unpark_without_wake_for_model(&self) {
        self.word.swap(NOTIFIED, Ordering::SeqCst);
    }
}

/// A multi-waiter event count: waiters sleep on the sequence number they observed before
/// checking their condition; `notify_all` increments it and wakes them all.
///
/// The word is `sequence << 1 | waiters`. A waiter sets `waiters` (only while the sequence is
/// still the one it observed) before it sleeps; a notifier that finds the bit clear knows that
/// nobody can be asleep on the old value, so it skips the futex wake.
#[derive(Clone, Copy, Debug)]
pub struct EventCount<'a> {
    word: &'a AtomicU32,
}

impl<'a> EventCount<'a> {
    /// Wraps a word of the shared region.
    pub fn new(word: &'a AtomicU32) -> EventCount<'a> {
        EventCount { word }
    }

    /// The key to pass to [`EventCount::wait`]; take it *before* checking the condition.
    pub fn prepare(&self) -> u32 {
        self.word.load(Ordering::SeqCst)
    }

    /// Sleeps until the count moves past `key` (or `timeout`, or a spurious wake-up).
    pub fn wait(&self, key: u32, timeout: Option<Duration>) {
        let asleep = key | WAITERS;
        let current = self.word.load(Ordering::SeqCst);
        if current | WAITERS != asleep {
            return; // Notified since `key` was taken: check the condition again.
        }
        if current & WAITERS == 0
            && self
                .word
                .compare_exchange(current, asleep, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
        {
            return; // Changed meanwhile (a notify, or another waiter set the bit): re-check.
        }
        let _ = futex::wait(self.word, asleep, timeout);
    }

    /// Publishes a change of the watched condition to every waiter, in every process.
    pub fn notify_all(&self) {
        let before = self
            .word
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| {
                Some(w.wrapping_add(2) & !WAITERS)
            })
            .unwrap_or_else(|w| w);
        if before & WAITERS != 0 {
            futex::wake(self.word, i32::MAX as u32);
        }
    }
}

/// Something [`wait_until`] can sleep on.
pub trait Waitable {
    /// Called before every check of the condition; the value is passed to `block`.
    fn prepare(&self) -> u32;
    /// Sleeps until notified, `timeout`, or a spurious wake-up.
    fn block(&self, key: u32, timeout: Option<Duration>);
}

impl Waitable for Event<'_> {
    fn prepare(&self) -> u32 {
        0
    }
    fn block(&self, _key: u32, timeout: Option<Duration>) {
        self.park(timeout);
    }
}

impl Waitable for EventCount<'_> {
    fn prepare(&self) -> u32 {
        EventCount::prepare(self)
    }
    fn block(&self, key: u32, timeout: Option<Duration>) {
        self.wait(key, timeout);
    }
}

/// Waits until `poll` returns `Some`, the timeout elapses, or `alive` reports the peer dead.
///
/// `poll` must encode every reason to stop (a command, the close marker, the abort word, a
/// closed flag); it is called after every wake-up. `alive` is called at least every
/// `cfg.liveness_interval` while waiting (never under loom, which has no clock).
pub fn wait_until<T>(
    on: &impl Waitable,
    timeout: Timeout,
    cfg: &WaitConfig,
    poll: impl FnMut() -> Option<T>,
    alive: impl FnMut() -> bool,
) -> WaitOutcome<T> {
    let mut calls = 0u32;
    let always_new = || {
        calls = calls.wrapping_add(1);
        calls
    };
    spin_then_park(on, timeout, cfg, Checks::PerStep, always_new, poll, alive)
}

/// [`wait_until`] for a `poll` that is costly (a lock, a state machine) beside a cheap sign of
/// news: while spinning, `news` is read after every pause, and `poll` runs only when `news`
/// returned something other than what it returned before the last poll. `news` must change
/// whenever the peer may have delivered something, e.g. a ring's producer index or an event
/// count's sequence. A change `news` misses costs only latency: the parking phase polls after
/// every wake-up and every slice regardless.
///
/// Checking after every pause rather than once per backoff step keeps a late delivery from
/// waiting out a whole step (32 pauses are about 1 µs here).
pub fn wait_until_hinted<T, N: PartialEq>(
    on: &impl Waitable,
    timeout: Timeout,
    cfg: &WaitConfig,
    news: impl FnMut() -> N,
    poll: impl FnMut() -> Option<T>,
    alive: impl FnMut() -> bool,
) -> WaitOutcome<T> {
    spin_then_park(on, timeout, cfg, Checks::PerPause, news, poll, alive)
}

/// How often the spinning phase looks for news.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checks {
    PerStep,
    PerPause,
}

fn spin_then_park<T, N: PartialEq>(
    on: &impl Waitable,
    timeout: Timeout,
    cfg: &WaitConfig,
    checks: Checks,
    mut news: impl FnMut() -> N,
    mut poll: impl FnMut() -> Option<T>,
    mut alive: impl FnMut() -> bool,
) -> WaitOutcome<T> {
    if timeout == Timeout::Poll {
        return poll().map_or(WaitOutcome::TimedOut, WaitOutcome::Ready);
    }
    let mut seen: Option<N> = None;
    let mut look = || {
        let now = news();
        if seen.as_ref() == Some(&now) {
            return None;
        }
        seen = Some(now);
        poll()
    };
    for step in 0..cfg.spin_steps {
        if let Some(v) = look() {
            return WaitOutcome::Ready(v);
        }
        if step < 6 {
            for _ in 0..(1u32 << step) {
                spin_hint();
                if checks == Checks::PerPause
                    && let Some(v) = look()
                {
                    return WaitOutcome::Ready(v);
                }
            }
        } else {
            yield_now();
        }
    }
    let clock = Clock::start(timeout);
    loop {
        let key = on.prepare();
        if let Some(v) = poll() {
            return WaitOutcome::Ready(v);
        }
        let slice = match clock.remaining() {
            Remaining::Expired => return WaitOutcome::TimedOut,
            Remaining::Some(left) => left.min(cfg.liveness_interval),
            Remaining::Unbounded => cfg.liveness_interval,
        };
        on.block(key, Some(slice));
        if clock.should_check_liveness(cfg.liveness_interval) && !alive() {
            // One last look: the peer may have delivered before it died.
            return match poll() {
                Some(v) => WaitOutcome::Ready(v),
                None => WaitOutcome::PeerDead,
            };
        }
    }
}

#[cfg_attr(loom, allow(dead_code))]
enum Remaining {
    Expired,
    Some(Duration),
    Unbounded,
}

/// Deadline bookkeeping; under loom there is no clock and only `Poll` can expire.
struct Clock {
    timeout: Timeout,
    #[cfg(not(loom))]
    start: std::time::Instant,
    #[cfg(not(loom))]
    last_liveness: std::cell::Cell<std::time::Instant>,
}

impl Clock {
    fn start(timeout: Timeout) -> Clock {
        Clock {
            timeout,
            #[cfg(not(loom))]
            start: std::time::Instant::now(),
            #[cfg(not(loom))]
            last_liveness: std::cell::Cell::new(std::time::Instant::now()),
        }
    }

    #[cfg(not(loom))]
    fn remaining(&self) -> Remaining {
        match self.timeout {
            Timeout::Poll => Remaining::Expired,
            Timeout::Forever => Remaining::Unbounded,
            Timeout::Millis(ms) => {
                let total = Duration::from_millis(u64::from(ms));
                match total.checked_sub(self.start.elapsed()) {
                    Some(left) if !left.is_zero() => Remaining::Some(left),
                    _ => Remaining::Expired,
                }
            }
        }
    }

    #[cfg(loom)]
    fn remaining(&self) -> Remaining {
        match self.timeout {
            Timeout::Poll => Remaining::Expired,
            _ => Remaining::Unbounded,
        }
    }

    /// True at most once per `interval` (always after a sleep that could have lasted it).
    #[cfg(not(loom))]
    fn should_check_liveness(&self, interval: Duration) -> bool {
        let now = std::time::Instant::now();
        if now.duration_since(self.last_liveness.get()) >= interval {
            self.last_liveness.set(now);
            true
        } else {
            false
        }
    }

    #[cfg(loom)]
    fn should_check_liveness(&self, _interval: Duration) -> bool {
        false
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn sdk_timeouts() {
        assert_eq!(Timeout::from_sdk_ms(-1), Timeout::Forever);
        assert_eq!(Timeout::from_sdk_ms(i64::MIN), Timeout::Forever);
        assert_eq!(Timeout::from_sdk_ms(0), Timeout::Poll);
        assert_eq!(Timeout::from_sdk_ms(90), Timeout::Millis(90));
        assert_eq!(Timeout::from_dword_ms(u32::MAX), Timeout::Forever);
    }

    #[test]
    fn unpark_before_park_is_not_lost() {
        let w = AtomicU32::new(0);
        let e = Event::new(&w);
        e.unpark();
        assert!(e.park(Some(Duration::from_secs(5))));
        assert!(!e.park(Some(Duration::from_millis(1))));
    }

    #[test]
    fn garbage_word_is_a_spurious_wakeup() {
        let w = AtomicU32::new(0xDEAD_BEEF);
        let e = Event::new(&w);
        assert!(!e.park(Some(Duration::from_secs(5))));
        assert_eq!(w.load(Ordering::SeqCst), EMPTY);
    }

    /// An event word and a flag that another thread sets, then unparks the word, after 20 ms.
    fn flag_set_later() -> (Arc<AtomicU32>, Arc<AtomicU32>, std::thread::JoinHandle<()>) {
        let w = Arc::new(AtomicU32::new(0));
        let flag = Arc::new(AtomicU32::new(0));
        let (w2, f2) = (w.clone(), flag.clone());
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            f2.store(1, Ordering::SeqCst);
            Event::new(&w2).unpark();
        });
        (w, flag, t)
    }

    #[test]
    fn cross_thread_wake() {
        let (w, flag, t) = flag_set_later();
        let out = wait_until(
            &Event::new(&w),
            Timeout::Forever,
            &WaitConfig::ALWAYS_PARK,
            || (flag.load(Ordering::SeqCst) == 1).then_some(()),
            || true,
        );
        assert_eq!(out, WaitOutcome::Ready(()));
        t.join().unwrap();
    }

    #[test]
    fn timeout_and_poll() {
        let w = AtomicU32::new(0);
        let e = Event::new(&w);
        let cfg = WaitConfig::SPIN_THEN_PARK;
        let t0 = Instant::now();
        let out: WaitOutcome<()> = wait_until(&e, Timeout::Millis(50), &cfg, || None, || true);
        assert_eq!(out, WaitOutcome::TimedOut);
        assert!(t0.elapsed() >= Duration::from_millis(50));
        let out: WaitOutcome<()> = wait_until(&e, Timeout::Poll, &cfg, || None, || true);
        assert_eq!(out, WaitOutcome::TimedOut);
    }

    fn thread_cpu_time() -> Duration {
        let ts = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    #[test]
    fn an_idle_waiter_uses_almost_no_cpu() {
        let w = AtomicU32::new(0);
        let (cpu0, t0) = (thread_cpu_time(), Instant::now());
        let out: WaitOutcome<()> = wait_until(
            &Event::new(&w),
            Timeout::Millis(1000),
            &WaitConfig::SPIN_THEN_PARK,
            || None,
            || true,
        );
        let (cpu, wall) = (thread_cpu_time() - cpu0, t0.elapsed());
        println!("idle waiter: {cpu:?} CPU over {wall:?}");
        assert_eq!(out, WaitOutcome::TimedOut);
        // ~10 liveness wake-ups per second; a spinning waiter would burn the whole second.
        assert!(cpu < Duration::from_millis(50), "{cpu:?} CPU while idle");
    }

    #[test]
    fn dead_peer_is_reported_within_the_liveness_interval() {
        let w = AtomicU32::new(0);
        let t0 = Instant::now();
        let out: WaitOutcome<()> = wait_until(
            &Event::new(&w),
            Timeout::Forever,
            &WaitConfig::ALWAYS_PARK,
            || None,
            || t0.elapsed() < Duration::from_millis(150),
        );
        assert_eq!(out, WaitOutcome::PeerDead);
        assert!(t0.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn eventcount_wakes_every_waiter() {
        let w = Arc::new(AtomicU32::new(0));
        let state = Arc::new(AtomicU32::new(0));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let (w, s) = (w.clone(), state.clone());
                std::thread::spawn(move || {
                    wait_until(
                        &EventCount::new(&w),
                        Timeout::Millis(10_000),
                        &WaitConfig::ALWAYS_PARK,
                        || (s.load(Ordering::SeqCst) == 7).then_some(()),
                        || true,
                    )
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        state.store(7, Ordering::SeqCst);
        EventCount::new(&w).notify_all();
        for t in waiters {
            assert_eq!(t.join().unwrap(), WaitOutcome::Ready(()));
        }
    }

    #[test]
    fn hinted_spinning_polls_only_when_the_news_moves() {
        let w = AtomicU32::new(0);
        let polls = std::cell::Cell::new(0u32);
        let out: WaitOutcome<()> = wait_until_hinted(
            &Event::new(&w),
            Timeout::Millis(1),
            &WaitConfig::SPIN_THEN_PARK,
            || 0u32, // never moves
            || {
                polls.set(polls.get() + 1);
                None
            },
            || true,
        );
        assert_eq!(out, WaitOutcome::TimedOut);
        // One poll before the first pause of the spinning phase, then only the parking phase's
        // (one before each sleep, and at most a few sleeps fit into 1 ms).
        let spinning_polls = polls.get();
        assert!(
            (2..=6).contains(&spinning_polls),
            "{spinning_polls} polls: the spinning phase polled without news"
        );
    }

    #[test]
    fn hinted_wait_still_finds_what_its_news_missed() {
        // `news` never moves, so only the parking phase can see the value: it must.
        let (w, flag, t) = flag_set_later();
        let out = wait_until_hinted(
            &Event::new(&w),
            Timeout::Millis(10_000),
            &WaitConfig::SPIN_THEN_PARK,
            || (),
            || (flag.load(Ordering::SeqCst) == 1).then_some(()),
            || true,
        );
        assert_eq!(out, WaitOutcome::Ready(()));
        t.join().unwrap();
    }

    #[test]
    fn hinted_spinning_looks_for_news_after_every_pause() {
        // Six backoff steps spin 1 + 2 + … + 32 = 63 pauses and yield none. Looking once per
        // step would read `news` 6 times; looking after every pause reads it 6 + 63 times.
        let w = AtomicU32::new(0);
        let reads = std::cell::Cell::new(0u32);
        let out: WaitOutcome<()> = wait_until_hinted(
            &Event::new(&w),
            Timeout::Millis(1),
            &WaitConfig {
                spin_steps: 6,
                ..WaitConfig::SPIN_THEN_PARK
            },
            || reads.set(reads.get() + 1),
            || None,
            || true,
        );
        assert_eq!(out, WaitOutcome::TimedOut);
        assert_eq!(reads.get(), 6 + 63, "news reads while spinning");
    }
}
