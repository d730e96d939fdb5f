//! Two-process ceilings for benchmarks: the raw mechanisms under the VDI transport, measured
//! between two real processes so that vdisim's figures can be judged against them in the same
//! run. Used by this crate's criterion bench (`benches/pingpong.rs`) and by `vdisim bench`.
//!
//! The parent is the "server" (it creates the buffer region and sends), the child the
//! "client" (it creates the control region, as a VDI client does). The parent spawns the child
//! with a `std::process::Command` of its choosing (the bench binary itself, or `vdisim` with a
//! hidden subcommand) and the environment [`Session::start`] adds; the child calls
//! [`child_main`] when it finds [`ROLE`] set.
//!
//! Roles:
//! * `echo`: pops commands from the ring, checksums Write data in place, completes with the
//!   checksum in `position`. Mode `verify` also compares it with the checksum the parent put in
//!   the command's `position` (restore-style verification) and fails the completion if it
//!   differs. Mode `park` waits with [`WaitConfig::ALWAYS_PARK`], otherwise spin-then-park.
//! * `raw`: bare futex ping-pong on two words (always a futex wait and a futex wake).
//! * `rawspin`: ping-pong on two words with [`Event`](crate::Event)s and the library's
//!   spin-then-park wait, without rings or state machines. It waits with
//!   [`wait_until_hinted`] (the word is its own news), the schedule vdisim's waits use.

use crate::event::{Timeout, WaitConfig, WaitOutcome, wait_until, wait_until_hinted};
use crate::region::{Access, BufferRegion, ControlParams, ControlRegion};
use crate::ring::{CommandDesc, CommandLimits, CompletionDesc, Delivered, Popped};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use vdi_proto::{CmdId, DeviceIndex, VdConfig, VdcCode};

/// Environment variable naming the child's role.
pub const ROLE: &str = "VDI_SHM_CEILING_ROLE";
const SET: &str = "VDI_SHM_CEILING_SET";
const MODE: &str = "VDI_SHM_CEILING_MODE";
const SLOTS: &str = "VDI_SHM_CEILING_SLOTS";
/// Transfer size of the handoff ceilings.
pub const MIB: usize = 1 << 20;
const CONFIGURED: u32 = 2;
const STOP: u32 = u32::MAX;
/// Completion code of a verification failure.
pub const MISMATCH: u32 = 0xBAD;

/// A checksum over a block (the parent and the child must use the same one).
pub type Checksum = fn(&[u8]) -> u64;

fn uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Fills `buf` with cheap, seed-dependent bytes (8 bytes per multiply).
pub fn fill(buf: &mut [u8], seed: u64) {
    for (i, chunk) in buf.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed ^ i as u64).wrapping_mul(0x9E37_79B9).to_le_bytes());
    }
}

/// FNV-1a over 8-byte words: a checksum with no dependency (the criterion bench's).
pub fn fnv64(buf: &[u8]) -> u64 {
    buf.chunks_exact(8).fold(0xcbf2_9ce4_8422_2325, |h, c| {
        (h ^ u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// CRC-32 (IEEE) with crc32fast's runtime-detected PCLMULQDQ/SSE4.2 path: keeps up with memory
/// bandwidth on this class of machine (the figures are in docs/performance.md).
pub fn crc32(buf: &[u8]) -> u64 {
    u64::from(crc32fast::hash(buf))
}

/// xxh3-64 as xxhash-rust builds it for the compile target (SSE2 on baseline x86-64).
pub fn xxh3(buf: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(buf)
}

/// Resizes a pipe (F_SETPIPE_SZ; best effort: the pipe ceiling reports what it got).
pub fn set_pipe_size(fd: impl rustix::fd::AsFd, size: usize) {
    let _ = rustix::pipe::fcntl_setpipe_size(fd, size);
}

// ---------------------------------------------------------------- child (client) side

/// The child's entry point: runs the role named by [`ROLE`] until the parent stops it.
pub fn child_main(checksum: Checksum) {
    let role = std::env::var(ROLE).unwrap_or_default();
    let set = std::env::var(SET).expect("ceiling child: set name");
    let slots: u32 = std::env::var(SLOTS)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let mode = std::env::var(MODE).unwrap_or_default();
    let mut cfg = VdConfig::with_devices(1);
    cfg.max_io_depth = slots;
    let ctl = ControlRegion::create(&ControlParams {
        set_name: set.clone(),
        device_names: vec![set.clone()],
        ring_capacity: 16,
        requested: cfg,
        access: Access::Owner,
    })
    .expect("ceiling child: control region");
    println!("READY");
    let out = wait_until(
        &ctl.state_events(),
        Timeout::Millis(30_000),
        &WaitConfig::ALWAYS_PARK,
        || (ctl.set_state().load(Ordering::SeqCst) >= CONFIGURED).then_some(()),
        || true,
    );
    assert_eq!(
        out,
        WaitOutcome::Ready(()),
        "ceiling child: never configured"
    );
    let dev = ctl.device(DeviceIndex(0)).expect("device 0");
    match role.as_str() {
        "raw" => {
            let (ping, pong) = (dev.server_state(), dev.client_state());
            let mut seen = 0;
            loop {
                while ping.load(Ordering::Acquire) == seen {
                    let _ = rustix::thread::futex::wait(
                        ping,
                        rustix::thread::futex::Flags::empty(),
                        seen,
                        None,
                    );
                }
                seen = ping.load(Ordering::Acquire);
                if seen == STOP {
                    return;
                }
                pong.store(seen, Ordering::Release);
                let _ = rustix::thread::futex::wake(pong, rustix::thread::futex::Flags::empty(), 1);
            }
        }
        "rawspin" => {
            let (ping, pong) = (dev.server_state(), dev.client_state());
            let mut seen = 0;
            loop {
                // The same spinning schedule as vdisim's waits, whose news is one word too.
                let got = wait_until_hinted(
                    &dev.command_event(),
                    Timeout::Millis(30_000),
                    &WaitConfig::SPIN_THEN_PARK,
                    || ping.load(Ordering::Acquire),
                    || {
                        let v = ping.load(Ordering::Acquire);
                        (v != seen).then_some(v)
                    },
                    || true,
                );
                let WaitOutcome::Ready(v) = got else {
                    panic!("ceiling child: {got:?}")
                };
                seen = v;
                if seen == STOP {
                    return;
                }
                pong.store(seen, Ordering::Release);
                dev.completion_event().unpark();
            }
        }
        _ => {
            let wait = if mode == "park" {
                WaitConfig::ALWAYS_PARK
            } else {
                WaitConfig::SPIN_THEN_PARK
            };
            let verify = mode == "verify";
            let info = ctl
                .buffer_info()
                .expect("buffer info")
                .expect("buffer region");
            let buffer = BufferRegion::open(&info, Access::Owner).expect("ceiling child: buffer");
            let limits = CommandLimits {
                buffer_area: buffer.data_size(),
                max_transfer: MIB as u32,
            };
            loop {
                let got = wait_until(
                    &dev.command_event(),
                    Timeout::Millis(30_000),
                    &wait,
                    || match dev.commands().pop(&limits) {
                        Ok(Popped::Item(d)) => Some(d),
                        _ => None,
                    },
                    || true,
                );
                let c = match got {
                    WaitOutcome::Ready(Delivered::Command(c)) => c,
                    WaitOutcome::Ready(Delivered::CloseMarker) => return,
                    other => panic!("ceiling child: {other:?}"),
                };
                let (mut h, mut code) = (0, 0);
                if c.size > 0 {
                    let data = buffer
                        .lease(c.buffer_offset, u64::from(c.size))
                        .expect("in bounds");
                    h = checksum(&data);
                    if verify && h != c.position {
                        code = MISMATCH;
                    }
                }
                dev.completions()
                    .push(&CompletionDesc::new(c.id, code, c.size, h))
                    .expect("completion ring");
                dev.completion_event().unpark();
            }
        }
    }
}

// ---------------------------------------------------------------- parent (server) side

/// The parent's end of one two-process ceiling.
#[derive(Debug)]
pub struct Session {
    child: Child,
    ctl: ControlRegion,
    buffer: BufferRegion,
    generation: u32,
    slots: u32,
    seq: u32,
}

static SESSIONS: AtomicU32 = AtomicU32::new(0);

impl Session {
    /// Spawns `command` as the child in `role`/`mode` with `slots` 1 MiB slots and connects.
    pub fn start(mut command: Command, role: &str, mode: &str, slots: u32) -> Session {
        let set = format!(
            "ceiling-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
        let mut child = command
            .env(ROLE, role)
            .env(SET, &set)
            .env(MODE, mode)
            .env(SLOTS, slots.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the ceiling child");
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        out.read_line(&mut line).expect("child output");
        assert_eq!(line.trim(), "READY", "ceiling child did not start");
        let ctl = ControlRegion::open(uid(), &set, Access::Owner).expect("open control");
        ctl.set_server_pid(std::process::id());
        let buffer = BufferRegion::create(
            uid(),
            &set,
            1,
            crate::naming::BufferNonce::random().expect("random nonce"),
            u64::from(slots.max(1)) * MIB as u64,
            Access::Owner,
        )
        .expect("create buffer region");
        ctl.publish_buffer(&buffer.info());
        ctl.publish_state(CONFIGURED);
        Session {
            child,
            ctl,
            buffer,
            generation: 1,
            slots: slots.max(1),
            seq: 0,
        }
    }

    /// Sends a command: a Write of `size` bytes from `slot` (or a Flush if 0), `position`
    /// carrying the expected checksum for `verify`.
    pub fn send(&mut self, slot: u32, size: u32, position: u64) {
        self.generation = self.generation.wrapping_add(1).max(1);
        let dev = self.ctl.device(DeviceIndex(0)).expect("device 0");
        let id = CmdId {
            slot,
            generation: self.generation,
        };
        let code = if size > 0 {
            VdcCode::Write
        } else {
            VdcCode::Flush
        };
        dev.commands()
            .push(&CommandDesc::new(
                id,
                code,
                size,
                position,
                u64::from(slot) * MIB as u64,
            ))
            .expect("command ring");
        dev.command_event().unpark();
    }

    /// Waits for the next completion.
    pub fn wait_completion(&self, cfg: &WaitConfig) -> crate::ring::Completion {
        let dev = self.ctl.device(DeviceIndex(0)).expect("device 0");
        match wait_until(
            &dev.completion_event(),
            Timeout::Millis(30_000),
            cfg,
            || match dev.completions().pop() {
                Ok(Popped::Item(c)) => Some(c),
                _ => None,
            },
            || true,
        ) {
            WaitOutcome::Ready(c) => c,
            other => panic!("ceiling parent: {other:?}"),
        }
    }

    /// One ring round trip (an empty command and its completion); returns its duration.
    pub fn ring_round_trip(&mut self, cfg: &WaitConfig) -> Duration {
        let t0 = Instant::now();
        self.send(0, 0, 0);
        self.wait_completion(cfg);
        t0.elapsed()
    }

    /// One ping-pong on the bare words: futex wake + futex wait for `raw`, the Event and
    /// spin-then-park wait for `rawspin`. Returns its duration.
    pub fn word_round_trip(&mut self, spin: bool) -> Duration {
        let dev = self.ctl.device(DeviceIndex(0)).expect("device 0");
        let (ping, pong) = (dev.server_state(), dev.client_state());
        self.seq = if self.seq + 1 == STOP {
            1
        } else {
            self.seq + 1
        };
        let n = self.seq;
        let t0 = Instant::now();
        ping.store(n, Ordering::Release);
        if spin {
            dev.command_event().unpark();
            let got = wait_until_hinted(
                &dev.completion_event(),
                Timeout::Millis(30_000),
                &WaitConfig::SPIN_THEN_PARK,
                || pong.load(Ordering::Acquire),
                || (pong.load(Ordering::Acquire) == n).then_some(()),
                || true,
            );
            assert_eq!(got, WaitOutcome::Ready(()));
        } else {
            let _ = rustix::thread::futex::wake(ping, rustix::thread::futex::Flags::empty(), 1);
            loop {
                let cur = pong.load(Ordering::Acquire);
                if cur == n {
                    break;
                }
                let _ = rustix::thread::futex::wait(
                    pong,
                    rustix::thread::futex::Flags::empty(),
                    cur,
                    None,
                );
            }
        }
        t0.elapsed()
    }

    /// Moves `blocks` 1 MiB blocks: the parent fills each (and checksums it), the child
    /// checksums it in place (and compares when `verify`), with every slot in flight. Returns
    /// the elapsed time. Panics if a checksum disagrees.
    pub fn handoff(&mut self, blocks: u64, checksum: Checksum, verify: bool) -> Duration {
        let t0 = Instant::now();
        let mut expected = VecDeque::with_capacity(self.slots as usize);
        for i in 0..blocks {
            if expected.len() as u32 == self.slots {
                self.check(&mut expected);
            }
            let slot = (i % u64::from(self.slots)) as u32;
            let h = {
                let mut data = self
                    .buffer
                    .lease(u64::from(slot) * MIB as u64, MIB as u64)
                    .expect("slot in bounds");
                self.seq = self.seq.wrapping_add(1);
                fill(&mut data, u64::from(self.seq) ^ i);
                if verify { checksum(&data) } else { 0 }
            };
            expected.push_back(h);
            self.send(slot, MIB as u32, h);
        }
        while !expected.is_empty() {
            self.check(&mut expected);
        }
        t0.elapsed()
    }

    fn check(&self, expected: &mut VecDeque<u64>) {
        let done = self.wait_completion(&WaitConfig::SPIN_THEN_PARK);
        let want = expected.pop_front().expect("one in flight");
        assert_eq!(done.completion_code, 0, "the child's verification failed");
        if want != 0 {
            assert_eq!(done.position, want, "checksums differ");
        }
    }

    /// Stops the child and waits for it.
    pub fn stop(mut self) {
        let dev = self.ctl.device(DeviceIndex(0)).expect("device 0");
        let _ = dev.commands().push(&CommandDesc::close_marker());
        dev.command_event().unpark();
        dev.server_state().store(STOP, Ordering::Release);
        let _ = rustix::thread::futex::wake(
            dev.server_state(),
            rustix::thread::futex::Flags::empty(),
            1,
        );
        assert!(
            self.child.wait().map(|s| s.success()).unwrap_or(false),
            "ceiling child failed"
        );
    }
}
