//! Two-process benches over real shared memory, each next to a ceiling measured in the same
//! run:
//!
//! * `roundtrip/spin_then_park`, `roundtrip/always_park`: one command → one completion through
//!   the rings and `Event`s (server in this process, client in a child process), versus
//!   `roundtrip/raw_futex`: the same two processes bouncing two bare futex words.
//! * `handoff_1MiB/ring`: the server fills a 1 MiB buffer in the buffer region, sends a Write,
//!   the client hashes the bytes in place and completes (depth 4), versus
//!   `handoff_1MiB/fill_hash_ceiling`: filling and hashing the same bytes in one process.
//!
//! A summary with the ratios is printed at the end.

/// The benches need real shared memory, which is not built under `cfg(loom)`.
#[cfg(not(loom))]
mod two_process {

    use criterion::{Criterion, Throughput};
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, Instant};
    use vdi_proto::{CmdId, DeviceIndex, VdConfig, VdcCode};
    use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome, wait_until};
    use vdi_shm::region::{Access, BufferRegion, ControlParams, ControlRegion};
    use vdi_shm::ring::{CommandDesc, CommandLimits, CompletionDesc, Delivered, Popped};

    const ROLE: &str = "VDI_SHM_BENCH_ROLE";
    const SET: &str = "VDI_SHM_BENCH_SET";
    const MODE: &str = "VDI_SHM_BENCH_MODE";
    const MIB: usize = 1 << 20;
    const DEPTH: u32 = 4;
    const CONFIGURED: u32 = 2;
    const STOP: u32 = u32::MAX;

    static SUMMARY: Mutex<Vec<(String, f64)>> = Mutex::new(Vec::new());

    /// Records the mean time per iteration over everything criterion ran (warm-up included).
    fn record(name: &str, total: Duration, iters: u64) {
        SUMMARY
            .lock()
            .unwrap()
            .push((name.to_string(), total.as_secs_f64() / iters.max(1) as f64));
    }

    fn uid() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    fn fill(buf: &mut [u8], seed: u64) {
        for (i, chunk) in buf.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&(seed ^ i as u64).wrapping_mul(0x9E37_79B9).to_le_bytes());
        }
    }

    fn hash(buf: &[u8]) -> u64 {
        buf.chunks_exact(8).fold(0xcbf2_9ce4_8422_2325, |h, c| {
            (h ^ u64::from_le_bytes(c.try_into().unwrap())).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    // ---------------------------------------------------------------- child (client) side

    fn child(role: &str) {
        let set = std::env::var(SET).unwrap();
        let mut cfg = VdConfig::with_devices(1);
        cfg.max_io_depth = DEPTH;
        let ctl = ControlRegion::create(&ControlParams {
            set_name: set.clone(),
            device_names: vec![set.clone()],
            ring_capacity: 16,
            requested: cfg,
            access: Access::Owner,
        })
        .unwrap();
        println!("READY");
        let out = wait_until(
            &ctl.state_events(),
            Timeout::Millis(30_000),
            &WaitConfig::ALWAYS_PARK,
            || (ctl.set_state().load(Ordering::SeqCst) >= CONFIGURED).then_some(()),
            || true,
        );
        assert_eq!(out, WaitOutcome::Ready(()));
        let dev = ctl.device(DeviceIndex(0)).unwrap();
        match role {
            "raw" => {
                // Bare futex ping-pong on the two device state words.
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
                    let _ =
                        rustix::thread::futex::wake(pong, rustix::thread::futex::Flags::empty(), 1);
                }
            }
            _ => {
                let wait = if std::env::var(MODE).as_deref() == Ok("park") {
                    WaitConfig::ALWAYS_PARK
                } else {
                    WaitConfig::SPIN_THEN_PARK
                };
                let info = ctl.buffer_info().unwrap().unwrap();
                let buffer = BufferRegion::open(&info, Access::Owner).unwrap();
                let limits = CommandLimits {
                    buffer_area: buffer.data_size(),
                    max_transfer: MIB as u32,
                };
                loop {
                    let got = wait_until(
                        &dev.command_event(),
                        Timeout::Millis(30_000),
                        &wait,
                        || match dev.commands().pop(&limits).unwrap() {
                            Popped::Item(d) => Some(d),
                            _ => None,
                        },
                        || true,
                    );
                    let c = match got {
                        WaitOutcome::Ready(Delivered::Command(c)) => c,
                        WaitOutcome::Ready(Delivered::CloseMarker) => return,
                        other => panic!("bench client: {other:?}"),
                    };
                    let mut h = 0;
                    if c.size > 0 {
                        let ptr = buffer.data_ptr(c.buffer_offset, u64::from(c.size)).unwrap();
                        // SAFETY: the range is inside the mapping (data_ptr checked it) and, by the
                        // protocol, belongs to the client until it completes the command: the
                        // server does not write it meanwhile. This is how vendor code reads
                        // VDC_Command::buffer in place.
                        let data = unsafe { std::slice::from_raw_parts(ptr, c.size as usize) };
                        h = hash(data);
                    }
                    dev.completions()
                        .push(&CompletionDesc::new(c.id, 0, c.size, h))
                        .unwrap();
                    dev.completion_event().unpark();
                }
            }
        }
    }

    // ---------------------------------------------------------------- parent (server) side

    struct Session {
        child: Child,
        ctl: ControlRegion,
        buffer: BufferRegion,
        generation: u32,
    }

    static SESSIONS: AtomicU32 = AtomicU32::new(0);

    fn start(role: &str, mode: &str) -> Session {
        let set = format!(
            "bench-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(ROLE, role)
            .env(SET, &set)
            .env(MODE, mode)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "READY");
        let ctl = ControlRegion::open(uid(), &set, Access::Owner).unwrap();
        ctl.set_server_pid(std::process::id());
        let buffer =
            BufferRegion::create(uid(), &set, 1, u64::from(DEPTH) * MIB as u64, Access::Owner)
                .unwrap();
        ctl.publish_buffer(&buffer.info());
        ctl.publish_state(CONFIGURED);
        Session {
            child,
            ctl,
            buffer,
            generation: 1,
        }
    }

    impl Session {
        fn send(&mut self, slot: u32, size: u32) {
            self.generation = self.generation.wrapping_add(1).max(1);
            let dev = self.ctl.device(DeviceIndex(0)).unwrap();
            let id = CmdId {
                slot,
                generation: self.generation,
            };
            let offset = u64::from(slot) * MIB as u64;
            let code = if size > 0 {
                VdcCode::Write
            } else {
                VdcCode::Flush
            };
            dev.commands()
                .push(&CommandDesc::new(id, code, size, 0, offset))
                .unwrap();
            dev.command_event().unpark();
        }

        fn wait_completion(&self, cfg: &WaitConfig) -> vdi_shm::ring::Completion {
            let dev = self.ctl.device(DeviceIndex(0)).unwrap();
            match wait_until(
                &dev.completion_event(),
                Timeout::Millis(30_000),
                cfg,
                || match dev.completions().pop().unwrap() {
                    Popped::Item(c) => Some(c),
                    _ => None,
                },
                || true,
            ) {
                WaitOutcome::Ready(c) => c,
                other => panic!("bench server: {other:?}"),
            }
        }

        fn stop(mut self) {
            let dev = self.ctl.device(DeviceIndex(0)).unwrap();
            dev.commands().push(&CommandDesc::close_marker()).unwrap();
            dev.command_event().unpark();
            dev.server_state().store(STOP, Ordering::Release);
            let _ = rustix::thread::futex::wake(
                dev.server_state(),
                rustix::thread::futex::Flags::empty(),
                1,
            );
            assert!(self.child.wait().unwrap().success());
        }
    }

    fn bench_roundtrip(c: &mut Criterion) {
        let mut group = c.benchmark_group("roundtrip");
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for (name, mode, cfg) in [
            ("spin_then_park", "spin", WaitConfig::SPIN_THEN_PARK),
            ("always_park", "park", WaitConfig::ALWAYS_PARK),
        ] {
            let mut s = start("echo", mode);
            let (mut total, mut count) = (Duration::ZERO, 0u64);
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let t0 = Instant::now();
                    for _ in 0..iters {
                        s.send(0, 0);
                        s.wait_completion(&cfg);
                    }
                    let e = t0.elapsed();
                    total += e;
                    count += iters;
                    e
                })
            });
            record(&format!("roundtrip/{name}"), total, count);
            s.stop();
        }
        // Ceiling: the same two processes bouncing two bare futex words.
        let s = start("raw", "park");
        let dev = s.ctl.device(DeviceIndex(0)).unwrap();
        let (ping, pong) = (dev.server_state(), dev.client_state());
        let mut n = 0u32;
        let (mut total, mut count) = (Duration::ZERO, 0u64);
        group.bench_function("raw_futex", |b| {
            b.iter_custom(|iters| {
                let t0 = Instant::now();
                for _ in 0..iters {
                    n = if n + 1 == STOP { 1 } else { n + 1 };
                    ping.store(n, Ordering::Release);
                    let _ =
                        rustix::thread::futex::wake(ping, rustix::thread::futex::Flags::empty(), 1);
                    while pong.load(Ordering::Acquire) != n {
                        let cur = pong.load(Ordering::Acquire);
                        if cur != n {
                            let _ = rustix::thread::futex::wait(
                                pong,
                                rustix::thread::futex::Flags::empty(),
                                cur,
                                None,
                            );
                        }
                    }
                }
                let e = t0.elapsed();
                total += e;
                count += iters;
                e
            })
        });
        record("roundtrip/raw_futex", total, count);
        group.finish();
        s.stop();
    }

    fn bench_handoff(c: &mut Criterion) {
        let mut group = c.benchmark_group("handoff_1MiB");
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(4))
            .throughput(Throughput::Bytes(MIB as u64));
        let mut s = start("echo", "spin");
        let (mut total, mut count) = (Duration::ZERO, 0u64);
        let mut seq = 0u64;
        group.bench_function("ring", |b| {
            b.iter_custom(|iters| {
                let t0 = Instant::now();
                let mut expected = std::collections::VecDeque::new();
                for i in 0..iters {
                    if expected.len() as u32 == DEPTH {
                        let done = s.wait_completion(&WaitConfig::SPIN_THEN_PARK);
                        assert_eq!(Some(done.position), expected.pop_front());
                    }
                    let slot = (i % u64::from(DEPTH)) as u32;
                    let ptr = s
                        .buffer
                        .data_ptr(u64::from(slot) * MIB as u64, MIB as u64)
                        .unwrap();
                    // SAFETY: in bounds (checked by data_ptr); the slot's previous command was
                    // completed (at most DEPTH outstanding), so the client no longer reads it.
                    let data = unsafe { std::slice::from_raw_parts_mut(ptr, MIB) };
                    seq += 1;
                    fill(data, seq);
                    expected.push_back(hash(data));
                    s.send(slot, MIB as u32);
                }
                while let Some(h) = expected.pop_front() {
                    assert_eq!(s.wait_completion(&WaitConfig::SPIN_THEN_PARK).position, h);
                }
                let e = t0.elapsed();
                total += e;
                count += iters;
                e
            })
        });
        record("handoff_1MiB/ring", total, count);
        s.stop();
        let mut local = vec![0u8; MIB];
        let (mut total, mut count) = (Duration::ZERO, 0u64);
        group.bench_function("fill_hash_ceiling", |b| {
            b.iter_custom(|iters| {
                let t0 = Instant::now();
                for i in 0..iters {
                    fill(&mut local, i);
                    std::hint::black_box(hash(&local));
                }
                let e = t0.elapsed();
                total += e;
                count += iters;
                e
            })
        });
        record("handoff_1MiB/fill_hash_ceiling", total, count);
        group.finish();
    }

    pub fn main() {
        if let Ok(role) = std::env::var(ROLE) {
            child(&role);
            return;
        }
        let mut c = Criterion::default().configure_from_args();
        bench_roundtrip(&mut c);
        bench_handoff(&mut c);
        c.final_summary();

        let summary = SUMMARY.lock().unwrap();
        let get = |k: &str| summary.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        println!("\n=== vdi-shm summary (mean per iteration, this run) ===");
        for (name, secs) in summary.iter() {
            if name.starts_with("handoff") {
                println!("{name:32} {:9.1} µs  {:8.0} MiB/s", secs * 1e6, 1.0 / secs);
            } else {
                println!("{name:32} {:9.2} µs", secs * 1e6);
            }
        }
        if let Some(raw) = get("roundtrip/raw_futex") {
            for k in ["roundtrip/spin_then_park", "roundtrip/always_park"] {
                if let Some(v) = get(k) {
                    println!("{k:32} = {:.2} × raw futex round trip", v / raw);
                }
            }
        }
        if let (Some(ring), Some(ceil)) = (
            get("handoff_1MiB/ring"),
            get("handoff_1MiB/fill_hash_ceiling"),
        ) {
            println!(
                "handoff_1MiB/ring                = {:.2} × the fill+hash ceiling's throughput",
                ceil / ring
            );
        }
    }
}

fn main() {
    #[cfg(not(loom))]
    two_process::main();
}
