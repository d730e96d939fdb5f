//! One device's two rings, two events and the set's abort word, with the blocking calls
//! written once, the way the client and the server must use them.
//!
//! These helpers encode the ordering rules the loom models check:
//! * a sender pushes, *then* unparks the receiver;
//! * a receiver's poll reads flag words (abort, "client closed") *before* popping the ring,
//!   so an entry pushed before a flag was raised is never lost;
//! * on abort the client stops taking commands at once (VD_E_ABORT, nothing delivered), while
//!   the server drains every completion that landed before the rings were closed, so each
//!   command is accounted exactly once.

use crate::error::PeerFault;
use crate::event::{Event, Timeout, WaitConfig, WaitOutcome, wait_until};
use crate::ring::{
    CommandDesc, CommandLimits, CommandRing, Completion, CompletionDesc, CompletionRing, Delivered,
    Popped, PushError,
};
use crate::sync::{AtomicU32, Ordering};

/// What a blocking receive ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received<T> {
    /// An entry.
    Item(T),
    /// The set is aborted (client: VD_E_ABORT; server: complete the rest as aborted).
    Aborted,
    /// The ring is closed and empty.
    Closed,
    /// The caller's stop condition held and the ring is empty (server: the client closed).
    Stopped,
    /// The timeout elapsed (VD_E_TIMEOUT; the state is unchanged).
    TimedOut,
    /// The peer died (abort the set: VD_E_ABORT).
    PeerDead,
    /// The peer wrote something impossible (abort the set).
    Fault(PeerFault),
}

impl<T> Received<T> {
    fn from_outcome(out: WaitOutcome<Received<T>>) -> Received<T> {
        match out {
            WaitOutcome::Ready(r) => r,
            WaitOutcome::TimedOut => Received::TimedOut,
            WaitOutcome::PeerDead => Received::PeerDead,
        }
    }
}

/// One device as both sides use it.
#[derive(Clone, Copy, Debug)]
pub struct DeviceChannel<'a> {
    commands: CommandRing<'a>,
    completions: CompletionRing<'a>,
    command_event: Event<'a>,
    completion_event: Event<'a>,
    abort: &'a AtomicU32,
}

impl<'a> DeviceChannel<'a> {
    /// Assembles a channel (the region does this in `ControlRegion::channel`; tests and loom
    /// models do it over [`crate::ring::LocalRing`]s).
    pub fn new(
        commands: CommandRing<'a>,
        completions: CompletionRing<'a>,
        command_event: &'a AtomicU32,
        completion_event: &'a AtomicU32,
        abort: &'a AtomicU32,
    ) -> DeviceChannel<'a> {
        DeviceChannel {
            commands,
            completions,
            command_event: Event::new(command_event),
            completion_event: Event::new(completion_event),
            abort,
        }
    }

    /// The command ring.
    pub fn commands(&self) -> CommandRing<'a> {
        self.commands
    }

    /// The completion ring.
    pub fn completions(&self) -> CompletionRing<'a> {
        self.completions
    }

    /// Whether the set is aborted.
    pub fn is_aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst) != 0
    }

    /// Server, SendCommand / CloseDevice: push, then wake the client.
    pub fn send_command(&self, desc: &CommandDesc) -> Result<(), PushError> {
        self.commands.push(desc)?;
        self.command_event.unpark();
        Ok(())
    }

    /// Client, GetCommand: the next command or the close marker; `Aborted` as soon as the set
    /// is aborted (no command is delivered after that).
    pub fn receive_command(
        &self,
        limits: &CommandLimits,
        timeout: Timeout,
        cfg: &WaitConfig,
        alive: impl FnMut() -> bool,
    ) -> Received<Delivered> {
        let out = wait_until(
            &self.command_event,
            timeout,
            cfg,
            || {
                if self.is_aborted() {
                    return Some(Received::Aborted);
                }
                match self.commands.pop(limits) {
                    Ok(Popped::Item(d)) => Some(Received::Item(d)),
                    Ok(Popped::Closed) if self.is_aborted() => Some(Received::Aborted),
                    Ok(Popped::Closed) => Some(Received::Closed),
                    Ok(Popped::Empty) => None,
                    Err(f) => Some(Received::Fault(f)),
                }
            },
            alive,
        );
        Received::from_outcome(out)
    }

    /// Client, CompleteCommand: push, then wake the server.
    pub fn send_completion(&self, desc: &CompletionDesc) -> Result<(), PushError> {
        self.completions.push(desc)?;
        self.completion_event.unpark();
        Ok(())
    }

    /// Client, CompleteCommand with a generational handle: refused with
    /// [`PushError::Stale`] (no ring access) if `epoch` moved past `expected`.
    pub fn send_completion_if_current(
        &self,
        epoch: &AtomicU32,
        expected: u32,
        desc: &CompletionDesc,
    ) -> Result<(), PushError> {
        self.completions.push_if_current(epoch, expected, desc)?;
        self.completion_event.unpark();
        Ok(())
    }

    /// Server, completion agent: the next completion. Entries already pushed are returned
    /// even after an abort (drain); `Aborted` once the set is aborted and the ring is empty,
    /// `Stopped` once `stop()` (e.g. the client's closed flag) holds and the ring is empty.
    pub fn receive_completion(
        &self,
        timeout: Timeout,
        cfg: &WaitConfig,
        mut stop: impl FnMut() -> bool,
        alive: impl FnMut() -> bool,
    ) -> Received<Completion> {
        let out = wait_until(
            &self.completion_event,
            timeout,
            cfg,
            || {
                // Flags first, then the ring (see the module docs).
                let aborted = self.is_aborted();
                let stopped = stop();
                match self.completions.pop() {
                    Ok(Popped::Item(c)) => Some(Received::Item(c)),
                    // The closed mark is set after the abort word: seeing the mark makes the
                    // abort visible, so re-read it (the loom model 3 caught the stale read).
                    Ok(Popped::Closed) if aborted || self.is_aborted() => Some(Received::Aborted),
                    Ok(Popped::Closed) => Some(Received::Closed),
                    Ok(Popped::Empty) if aborted => Some(Received::Aborted),
                    Ok(Popped::Empty) if stopped => Some(Received::Stopped),
                    Ok(Popped::Empty) => None,
                    Err(f) => Some(Received::Fault(f)),
                }
            },
            alive,
        );
        Received::from_outcome(out)
    }

    /// Server, on abort: closes the completion ring (later client pushes fail) and returns
    /// every completion that landed before; the caller completes all other outstanding
    /// commands with ERROR_OPERATION_ABORTED.
    pub fn drain_completions(&self) -> Result<Vec<Completion>, PeerFault> {
        self.completions.close();
        let mut out = Vec::new();
        // At most `capacity` entries can be in the ring; the bound keeps a hostile index from
        // turning the drain into a long loop.
        for _ in 0..=self.completions.capacity() {
            match self.completions.pop()? {
                Popped::Item(c) => out.push(c),
                Popped::Closed | Popped::Empty => break,
            }
        }
        Ok(out)
    }

    /// This device's part of SignalAbort: closes both rings and wakes both sides. (The abort
    /// word itself is set once per set, before this, by the caller.)
    pub fn close_and_wake(&self) {
        self.commands.close();
        self.completions.close();
        self.command_event.unpark();
        self.completion_event.unpark();
    }

    /// Wakes the server's completion waiter without pushing (after raising a flag it checks).
    pub fn wake_server(&self) {
        self.completion_event.unpark();
    }

    /// Wakes the client's command waiter without pushing.
    pub fn wake_client(&self) {
        self.command_event.unpark();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::ring::LocalRing;
    use vdi_proto::{CmdId, VdcCode};

    struct Dev {
        commands: LocalRing,
        completions: LocalRing,
        words: [AtomicU32; 3],
    }

    fn dev() -> Dev {
        Dev {
            commands: LocalRing::commands(4),
            completions: LocalRing::completions(4),
            words: [AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)],
        }
    }

    impl Dev {
        fn chan(&self) -> DeviceChannel<'_> {
            DeviceChannel::new(
                self.commands.command_ring(),
                self.completions.completion_ring(),
                &self.words[0],
                &self.words[1],
                &self.words[2],
            )
        }
    }

    const LIMITS: CommandLimits = CommandLimits {
        buffer_area: 1 << 20,
        max_transfer: 1 << 16,
    };

    fn id(n: u32) -> CmdId {
        CmdId {
            slot: n,
            generation: 1,
        }
    }

    #[test]
    fn command_round_trip_timeout_and_abort() {
        let d = dev();
        let c = d.chan();
        let cfg = WaitConfig::SPIN_THEN_PARK;
        assert_eq!(
            c.receive_command(&LIMITS, Timeout::Millis(20), &cfg, || true),
            Received::TimedOut
        );
        c.send_command(&CommandDesc::new(id(1), VdcCode::Read, 512, 0, 0))
            .unwrap();
        assert!(matches!(
            c.receive_command(&LIMITS, Timeout::Poll, &cfg, || true),
            Received::Item(Delivered::Command(cmd)) if cmd.id == id(1)
        ));
        // A queued command is not delivered once the set is aborted.
        c.send_command(&CommandDesc::new(id(2), VdcCode::Read, 512, 0, 0))
            .unwrap();
        d.words[2].store(1, Ordering::SeqCst);
        c.close_and_wake();
        assert_eq!(
            c.receive_command(&LIMITS, Timeout::Forever, &cfg, || true),
            Received::Aborted
        );
        assert_eq!(
            c.send_command(&CommandDesc::close_marker()),
            Err(PushError::Closed)
        );
    }

    #[test]
    fn completions_drain_after_abort_and_stop_on_the_flag() {
        let d = dev();
        let c = d.chan();
        let cfg = WaitConfig::ALWAYS_PARK;
        c.send_completion(&CompletionDesc::new(id(1), 0, 512, 0))
            .unwrap();
        assert_eq!(
            c.receive_completion(Timeout::Poll, &cfg, || true, || true),
            Received::Item(CompletionDesc::new(id(1), 0, 512, 0).validate().unwrap())
        );
        assert_eq!(
            c.receive_completion(Timeout::Poll, &cfg, || true, || true),
            Received::Stopped
        );
        c.send_completion(&CompletionDesc::new(id(2), 0, 512, 0))
            .unwrap();
        d.words[2].store(1, Ordering::SeqCst);
        // Already-pushed completions still come out after the abort…
        assert!(matches!(
            c.receive_completion(Timeout::Poll, &cfg, || false, || true),
            Received::Item(done) if done.id == id(2)
        ));
        assert_eq!(
            c.receive_completion(Timeout::Poll, &cfg, || false, || true),
            Received::Aborted
        );
        // …and after the drain nothing more gets in.
        c.send_completion(&CompletionDesc::new(id(3), 0, 512, 0))
            .unwrap();
        let drained = c.drain_completions().unwrap();
        assert_eq!(drained.len(), 1);
        assert_eq!(
            c.send_completion(&CompletionDesc::new(id(4), 0, 512, 0)),
            Err(PushError::Closed)
        );
        let epoch = AtomicU32::new(7);
        assert_eq!(
            c.send_completion_if_current(&epoch, 6, &CompletionDesc::new(id(5), 0, 0, 0)),
            Err(PushError::Stale)
        );
    }

    #[test]
    fn peer_faults_and_dead_peers_surface() {
        let d = dev();
        let c = d.chan();
        d.completions.scribble_indices(0, 9);
        assert!(matches!(
            c.receive_completion(Timeout::Poll, &WaitConfig::ALWAYS_PARK, || false, || true),
            Received::Fault(PeerFault::BadIndex { .. })
        ));
        assert!(matches!(
            c.drain_completions(),
            Err(PeerFault::BadIndex { .. })
        ));
        let t0 = std::time::Instant::now();
        assert_eq!(
            c.receive_command(&LIMITS, Timeout::Forever, &WaitConfig::ALWAYS_PARK, || t0
                .elapsed()
                < std::time::Duration::from_millis(50)),
            Received::PeerDead
        );
    }
}
