//! Loom models of the rings + events as the client and server use them. Slot words are loom
//! `UnsafeCell`s here, so reading a slot after releasing it (or writing one the consumer has
//! not released) is reported as a data race.
#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU32, Ordering};
use loom::thread;
use vdi_proto::{CmdId, VdcCode};
use vdi_shm::channel::{DeviceChannel, Received};
use vdi_shm::event::{Event, Timeout, WaitConfig};
use vdi_shm::ring::{
    CommandDesc, CommandLimits, CompletionDesc, Delivered, LocalRing, Popped, PushError,
};

const LIMITS: CommandLimits = CommandLimits {
    buffer_area: 1 << 20,
    max_transfer: 1 << 16,
};

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
    let n = runs.load(std::sync::atomic::Ordering::Relaxed);
    println!("explored {n} interleavings");
}

fn id(n: u32) -> CmdId {
    CmdId {
        slot: n,
        generation: 1,
    }
}

fn cmd(n: u32) -> CommandDesc {
    CommandDesc::new(id(n), VdcCode::Write, 512, 0, u64::from(n) * 4096)
}

/// One device as both sides see it (heap-backed, as the region would be).
struct Device {
    commands: LocalRing,
    completions: LocalRing,
    command_event: AtomicU32,
    completion_event: AtomicU32,
    abort: AtomicU32,
    client_closed: AtomicU32,
    epoch: AtomicU32,
}

fn device(capacity: u32) -> Arc<Device> {
    Arc::new(Device {
        commands: LocalRing::commands(capacity),
        completions: LocalRing::completions(capacity),
        command_event: AtomicU32::new(0),
        completion_event: AtomicU32::new(0),
        abort: AtomicU32::new(0),
        client_closed: AtomicU32::new(0),
        epoch: AtomicU32::new(0),
    })
}

impl Device {
    /// The production helpers over this device.
    fn chan(&self) -> DeviceChannel<'_> {
        DeviceChannel::new(
            self.commands.command_ring(),
            self.completions.completion_ring(),
            &self.command_event,
            &self.completion_event,
            &self.abort,
        )
    }
}

#[derive(Debug, PartialEq)]
enum Got {
    Command(u32),
    CloseMarker,
    Closed,
    Aborted,
}

/// GetCommand through the production helper `DeviceChannel::receive_command`.
fn get_command(d: &Device) -> Got {
    match d
        .chan()
        .receive_command(&LIMITS, Timeout::Forever, &WaitConfig::ALWAYS_PARK, || true)
    {
        Received::Item(Delivered::Command(c)) => Got::Command(c.id.slot),
        Received::Item(Delivered::CloseMarker) => Got::CloseMarker,
        Received::Closed => Got::Closed,
        Received::Aborted => Got::Aborted,
        other => panic!("GetCommand ended with {other:?}"),
    }
}

/// Producer and consumer over a ring of one slot: every slot is reused, so a read after
/// release or a write before release is a loom data race.
#[test]
fn spsc_slot_reuse_is_race_free() {
    model(|| {
        let d = device(1);
        let p = d.clone();
        let producer = thread::spawn(move || {
            for n in 1..=2 {
                loop {
                    match p.commands.command_ring().push(&cmd(n)) {
                        Ok(()) => break,
                        Err(PushError::Full) => thread::yield_now(),
                        Err(e) => panic!("{e}"),
                    }
                }
                Event::new(&p.command_event).unpark();
            }
        });
        assert_eq!(get_command(&d), Got::Command(1));
        assert_eq!(get_command(&d), Got::Command(2));
        producer.join().unwrap();
    });
}

/// The same model with a pop that releases the slot before copying it: loom must report the
/// race, which proves the slot model can fail.
#[test]
#[should_panic(expected = "Causality violation")]
fn early_release_is_caught_as_a_data_race() {
    model(|| {
        let d = device(1);
        let p = d.clone();
        let producer = thread::spawn(move || {
            for n in 1..=2 {
                while let Err(PushError::Full) = p.commands.command_ring().push(&cmd(n)) {
                    thread::yield_now();
                }
            }
        });
        let mut got = 0;
        while got < 2 {
            match d.commands.command_ring().pop_releasing_early_for_model() {
                Some(_) => got += 1,
                None => thread::yield_now(),
            }
        }
        producer.join().unwrap();
    });
}

/// Model 2: GetCommand on one thread while another closes the channel (abort word + closed
/// mark + wake): the waiter returns Aborted/Closed, never hangs, never races on a slot.
#[test]
fn close_racing_get_command() {
    model(|| {
        let d = device(1);
        let p = d.clone();
        let producer = thread::spawn(move || {
            for n in 1..=2 {
                match p.chan().send_command(&cmd(n)) {
                    Ok(()) | Err(PushError::Full | PushError::Closed) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        });
        let c = d.clone();
        let closer = thread::spawn(move || {
            // SignalAbort: the abort word, then close_and_wake (ControlRegion::signal_abort).
            c.abort.store(1, Ordering::SeqCst);
            c.chan().close_and_wake();
        });
        let mut last = 0;
        loop {
            match get_command(&d) {
                Got::Command(n) => {
                    assert!(n > last, "commands out of order");
                    last = n;
                }
                Got::Aborted | Got::Closed => break,
                Got::CloseMarker => panic!("no close marker was sent"),
            }
        }
        producer.join().unwrap();
        closer.join().unwrap();
    });
}

/// Model 3: SignalAbort on one client thread racing CompleteCommand on another, while the
/// server's completion agent waits: every command is accounted exactly once, completed by the
/// client or aborted by the server's drain.
#[test]
fn abort_racing_completion_accounts_each_command_once() {
    model(|| {
        let d = device(2);
        let c = d.clone();
        let completer = thread::spawn(move || {
            let mut pushed = Vec::new();
            for n in 1..=2 {
                match c
                    .chan()
                    .send_completion(&CompletionDesc::new(id(n), 0, 512, 0))
                {
                    Ok(()) => pushed.push(n),
                    Err(PushError::Closed) => break,
                    Err(e) => panic!("{e}"),
                }
            }
            pushed
        });
        let a = d.clone();
        let aborter = thread::spawn(move || {
            a.abort.store(1, Ordering::SeqCst);
            a.chan().close_and_wake();
        });
        // The server's completion agent, then its drain on abort.
        let chan = d.chan();
        let mut completed = Vec::new();
        loop {
            match chan.receive_completion(
                Timeout::Forever,
                &WaitConfig::ALWAYS_PARK,
                || false,
                || true,
            ) {
                Received::Item(c) => completed.push(c.id.slot),
                Received::Aborted => break,
                other => panic!("{other:?}"),
            }
        }
        completed.extend(
            chan.drain_completions()
                .expect("no peer fault")
                .iter()
                .map(|c| c.id.slot),
        );
        let aborted: Vec<u32> = (1..=2).filter(|n| !completed.contains(n)).collect();
        let pushed = completer.join().unwrap();
        aborter.join().unwrap();
        assert_eq!(
            completed, pushed,
            "completed by the client exactly once, in order"
        );
        for n in 1..=2 {
            assert!(completed.contains(&n) ^ aborted.contains(&n));
        }
    });
}

/// Model 4: the client closes with a device open (sets its closed flag and wakes the server's
/// completion waiter); the server observes the flag, and every completion pushed before the
/// close is still seen. (`receive_completion` reads the flag before the ring: checking it
/// after an empty pop loses the completion, which this model caught in a first draft.)
#[test]
fn close_with_device_open_is_observed_by_the_server() {
    model(|| {
        let d = device(2);
        let c = d.clone();
        let client = thread::spawn(move || {
            c.chan()
                .send_completion(&CompletionDesc::new(id(1), 0, 512, 0))
                .unwrap();
            c.client_closed.store(1, Ordering::SeqCst);
            c.chan().wake_server();
        });
        let chan = d.chan();
        let mut completions = 0;
        loop {
            match chan.receive_completion(
                Timeout::Forever,
                &WaitConfig::ALWAYS_PARK,
                || d.client_closed.load(Ordering::SeqCst) != 0,
                || true,
            ) {
                Received::Item(_) => completions += 1,
                Received::Stopped => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(completions, 1);
        client.join().unwrap();
    });
}

/// Model 5: CloseDevice racing GetCommand: every command pushed before the close marker is
/// delivered, in order, before it.
#[test]
fn close_marker_comes_after_every_command() {
    model(|| {
        let d = device(4);
        let s = d.clone();
        let server = thread::spawn(move || {
            let chan = s.chan();
            chan.send_command(&cmd(1)).unwrap();
            // Push without a wake in between, then one wake for both.
            chan.commands().push(&cmd(2)).unwrap();
            chan.send_command(&CommandDesc::close_marker()).unwrap();
        });
        assert_eq!(get_command(&d), Got::Command(1));
        assert_eq!(get_command(&d), Got::Command(2));
        assert_eq!(get_command(&d), Got::CloseMarker);
        server.join().unwrap();
    });
}

/// Model 6a: a completion with a handle of an earlier epoch (after Close / abort) is refused
/// without touching the ring.
#[test]
fn stale_handle_is_refused_without_touching_the_slot() {
    model(|| {
        let d = device(1);
        let c = d.clone();
        let closer = thread::spawn(move || {
            c.completions.completion_ring().close();
            c.epoch.fetch_add(1, Ordering::SeqCst);
        });
        closer.join().unwrap();
        let r = d.completions.completion_ring().push_if_current(
            &d.epoch,
            0,
            &CompletionDesc::new(id(1), 0, 512, 0),
        );
        assert_eq!(r, Err(PushError::Stale));
        assert_eq!(d.completions.completion_ring().len(), Ok(0));
        for w in 0..3 {
            assert_eq!(d.completions.slot_word(w), 0, "slot untouched");
        }
    });
}

/// Model 6b: the same handle racing the close: either it completed before the close (and the
/// drain sees it exactly once) or it is refused (stale or closed).
#[test]
fn stale_handle_racing_close_is_exactly_once() {
    model(|| {
        let d = device(1);
        let c = d.clone();
        let completer = thread::spawn(move || {
            c.completions.completion_ring().push_if_current(
                &c.epoch,
                0,
                &CompletionDesc::new(id(1), 0, 512, 0),
            )
        });
        let ring = d.completions.completion_ring();
        ring.close();
        d.epoch.fetch_add(1, Ordering::SeqCst);
        let mut drained = 0;
        while let Popped::Item(_) = ring.pop().expect("no peer fault") {
            drained += 1;
        }
        let r = completer.join().unwrap();
        match r {
            Ok(()) => assert_eq!(drained, 1),
            Err(PushError::Stale | PushError::Closed) => assert_eq!(drained, 0),
            Err(e) => panic!("{e}"),
        }
    });
}

/// Model 7: the server's caller takes completions straight from the ring while it waits on the
/// set's event count (vdi-server's `next_completion`), while the set's agent may drain the
/// same ring into the shared ready queue at any moment (its tick). Every completion reaches the
/// caller exactly once and in order, and the caller never sleeps through one (loom's futex has
/// no timeout, so a lost wake-up is a deadlock here).
#[test]
fn waiting_caller_gets_every_completion_whoever_drains_the_ring() {
    use loom::sync::Mutex;
    use std::collections::VecDeque;
    use vdi_shm::event::{EventCount, WaitOutcome, wait_until};

    struct Set {
        dev: Arc<Device>,
        events: AtomicU32,
        /// The core's finished commands (vdi-server `State::ready`), behind the set's lock.
        ready: Mutex<VecDeque<u32>>,
    }

    impl Set {
        /// `State::pump` + `flush`: ring entries into `ready`, under the lock.
        fn pump(&self, ready: &mut VecDeque<u32>) {
            while let Ok(Popped::Item(c)) = self.dev.completions.completion_ring().pop() {
                ready.push_back(c.id.slot);
            }
        }
    }

    model(|| {
        let set = Arc::new(Set {
            dev: device(2),
            events: AtomicU32::new(0),
            ready: Mutex::new(VecDeque::new()),
        });
        let s = set.clone();
        let client = thread::spawn(move || {
            for n in 1..=2 {
                // ShmClientLink::send: push, wake the device's waiter, then the set's.
                s.dev
                    .chan()
                    .send_completion(&CompletionDesc::new(id(n), 0, 512, 0))
                    .unwrap();
                EventCount::new(&s.events).notify_all();
            }
        });
        let s = set.clone();
        let agent = thread::spawn(move || {
            let mut ready = s.ready.lock().unwrap();
            s.pump(&mut ready);
        });
        let mut got = Vec::new();
        while got.len() < 2 {
            let out = wait_until(
                &EventCount::new(&set.events),
                Timeout::Forever,
                &WaitConfig::ALWAYS_PARK,
                || {
                    let mut ready = set.ready.lock().unwrap();
                    set.pump(&mut ready);
                    ready.pop_front()
                },
                || true,
            );
            match out {
                WaitOutcome::Ready(n) => got.push(n),
                other => panic!("{other:?}"),
            }
        }
        client.join().unwrap();
        agent.join().unwrap();
        assert_eq!(got, vec![1, 2], "each completion once, in order");
        assert!(set.ready.lock().unwrap().is_empty());
    });
}
