//! Loom models of the wake-up protocol (the production `Event` / `EventCount` / `wait_until`
//! code, with the futex modelled as a Mutex + Condvar kernel).
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU32, Ordering};
use loom::thread;
use std::time::Duration;
use vdi_shm::event::{Event, EventCount, Timeout, WaitConfig, WaitOutcome, wait_until};

/// Runs a loom model and prints how many interleavings it explored.
fn model(f: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::AtomicUsize;
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    b.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    println!(
        "explored {} interleavings",
        runs.load(std::sync::atomic::Ordering::Relaxed)
    );
}

struct Shared {
    word: AtomicU32,
    flag: AtomicU32,
}

fn shared() -> Arc<Shared> {
    Arc::new(Shared {
        word: AtomicU32::new(0),
        flag: AtomicU32::new(0),
    })
}

fn wait_for_flag(s: &Shared, cfg: &WaitConfig) -> WaitOutcome<()> {
    wait_until(
        &Event::new(&s.word),
        Timeout::Forever,
        cfg,
        || (s.flag.load(Ordering::Acquire) == 1).then_some(()),
        || true,
    )
}

#[test]
fn event_wake_is_never_lost() {
    model(|| {
        let s = shared();
        let s2 = s.clone();
        let t = thread::spawn(move || {
            s2.flag.store(1, Ordering::Release);
            Event::new(&s2.word).unpark();
        });
        assert_eq!(
            wait_for_flag(&s, &WaitConfig::ALWAYS_PARK),
            WaitOutcome::Ready(())
        );
        t.join().unwrap();
    });
}

#[test]
fn event_wake_is_never_lost_with_spinning() {
    model(|| {
        let s = shared();
        let s2 = s.clone();
        let t = thread::spawn(move || {
            s2.flag.store(1, Ordering::Release);
            Event::new(&s2.word).unpark();
        });
        let cfg = WaitConfig {
            spin_steps: 2,
            liveness_interval: Duration::from_millis(100),
        };
        assert_eq!(wait_for_flag(&s, &cfg), WaitOutcome::Ready(()));
        t.join().unwrap();
    });
}

#[test]
fn repeated_notifications_each_wake_the_waiter() {
    model(|| {
        let s = shared();
        let s2 = s.clone();
        let t = thread::spawn(move || {
            for _ in 0..2 {
                s2.flag.fetch_add(1, Ordering::Release);
                Event::new(&s2.word).unpark();
            }
        });
        let mut seen = 0;
        while seen < 2 {
            let out = wait_until(
                &Event::new(&s.word),
                Timeout::Forever,
                &WaitConfig::ALWAYS_PARK,
                || {
                    let v = s.flag.load(Ordering::Acquire);
                    (v > seen).then_some(v)
                },
                || true,
            );
            match out {
                WaitOutcome::Ready(v) => seen = v,
                other => panic!("{other:?}"),
            }
        }
        t.join().unwrap();
    });
}

/// The same model with a waker that forgets the futex wake: loom must find the deadlock,
/// which proves the model can fail.
#[test]
#[should_panic(expected = "deadlock")]
fn broken_waker_is_caught_as_a_deadlock() {
    model(|| {
        let s = shared();
        let s2 = s.clone();
        let t = thread::spawn(move || {
            s2.flag.store(1, Ordering::Release);
            Event::new(&s2.word).unpark_without_wake_for_model();
        });
        let _ = wait_for_flag(&s, &WaitConfig::ALWAYS_PARK);
        t.join().unwrap();
    });
}

#[test]
fn eventcount_wakes_every_waiter() {
    model(|| {
        let s = shared();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || {
                    wait_until(
                        &EventCount::new(&s.word),
                        Timeout::Forever,
                        &WaitConfig::ALWAYS_PARK,
                        || (s.flag.load(Ordering::Acquire) == 1).then_some(()),
                        || true,
                    )
                })
            })
            .collect();
        s.flag.store(1, Ordering::Release);
        EventCount::new(&s.word).notify_all();
        for w in waiters {
            assert_eq!(w.join().unwrap(), WaitOutcome::Ready(()));
        }
    });
}
