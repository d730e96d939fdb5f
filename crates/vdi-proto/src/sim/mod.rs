//! A deterministic simulator: a client set and a server set joined by in-memory queues, a
//! simulated buffer area and a virtual clock (quinn-proto's `Pair`).
//!
//! Tests, snapshots and `vdisim demo` use it; every protocol bug gets a `Pair` repro first.

mod scenario;

pub use scenario::{BackupOutcome, BackupSpec, RestoreOutcome, run_backup, run_restore};

use crate::client::ClientSet;
use crate::server::{ServerOptions, ServerSet};
use crate::time::Tick;
use crate::transcript::Event;

/// Client and server wired together, with a shared buffer area and a virtual clock.
#[derive(Debug)]
pub struct Pair {
    /// The client side.
    pub client: ClientSet,
    /// The server side.
    pub server: ServerSet,
    /// The simulated shared buffer area.
    pub area: Vec<u8>,
    now: Tick,
    step_us: u64,
    transcript: Vec<Event>,
    next_seq: u64,
}

impl Pair {
    /// A fresh pair with transcripts on; every call or delivery advances the clock `step_us`.
    pub fn new(options: ServerOptions, step_us: u64) -> Pair {
        let mut client = ClientSet::new();
        let mut server = ServerSet::new(options);
        client.set_transcript(true);
        server.set_transcript(true);
        Pair {
            client,
            server,
            area: Vec::new(),
            now: Tick::ZERO,
            step_us,
            transcript: Vec::new(),
            next_seq: 0,
        }
    }

    /// The virtual time.
    pub fn now(&self) -> Tick {
        self.now
    }

    /// Moves the virtual clock forward and lets the server's watchdog see it.
    pub fn advance(&mut self, us: u64) {
        self.now = self.now.plus_micros(us);
        self.server.handle_timeout(self.now);
        self.collect();
    }

    /// Runs `f` on the client at the current time.
    pub fn client<T>(&mut self, f: impl FnOnce(&mut ClientSet, Tick) -> T) -> T {
        self.now = self.now.plus_micros(self.step_us);
        let out = f(&mut self.client, self.now);
        self.collect();
        out
    }

    /// Runs `f` on the server at the current time.
    pub fn server<T>(&mut self, f: impl FnOnce(&mut ServerSet, Tick) -> T) -> T {
        self.now = self.now.plus_micros(self.step_us);
        let out = f(&mut self.server, self.now);
        self.collect();
        out
    }

    /// Delivers every queued message in both directions until both sides are quiet.
    /// Returns how many messages moved.
    pub fn deliver(&mut self) -> usize {
        let mut moved = 0;
        loop {
            let mut any = false;
            while let Some(msg) = self.server.poll_transmit() {
                self.client.handle_message(self.now, msg);
                any = true;
                moved += 1;
            }
            while let Some(msg) = self.client.poll_transmit() {
                self.server.handle_message(self.now, msg);
                any = true;
                moved += 1;
            }
            self.collect();
            if !any {
                return moved;
            }
        }
    }

    /// The merged transcript so far (both sides, in the order things happened).
    pub fn transcript(&self) -> &[Event] {
        &self.transcript
    }

    /// The transcript as compact lines, one per event.
    pub fn transcript_lines(&self) -> Vec<String> {
        self.transcript.iter().map(Event::summary).collect()
    }

    fn collect(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.push(e);
        }
        while let Some(e) = self.server.poll_event() {
            self.push(e);
        }
    }

    fn push(&mut self, mut e: Event) {
        e.seq = self.next_seq;
        self.next_seq += 1;
        self.transcript.push(e);
    }
}
