//! Two-process benches over real shared memory, each next to a ceiling measured in the same
//! run (the two-process code is `vdi_shm::ceiling`, shared with `vdisim bench`):
//!
//! * `roundtrip/spin_then_park`, `roundtrip/always_park`: one command → one completion through
//!   the rings and `Event`s (server in this process, client in a child process), versus
//!   `roundtrip/raw_futex` (two bare futex words) and `roundtrip/raw_spin` (two words with the
//!   spin-then-park wait, no rings).
//! * `handoff_1MiB/ring`: the server fills a 1 MiB buffer in the buffer region, sends a Write,
//!   the client hashes the bytes in place and completes (depth 4), versus
//!   `handoff_1MiB/fill_hash_ceiling`: filling and hashing the same bytes in one process.
//!
//! A summary with the ratios is printed at the end.

/// The benches need real shared memory, which is not built under `cfg(loom)`.
#[cfg(not(loom))]
mod two_process {
    use criterion::{Criterion, Throughput};
    use std::sync::Mutex;
    use std::time::Duration;
    use vdi_shm::ceiling::{self, MIB, Session, fill, fnv64};
    use vdi_shm::event::WaitConfig;

    static SUMMARY: Mutex<Vec<(String, f64)>> = Mutex::new(Vec::new());

    /// Records the mean time per iteration over everything criterion ran (warm-up included).
    fn record(name: &str, total: Duration, iters: u64) {
        SUMMARY
            .lock()
            .unwrap()
            .push((name.to_string(), total.as_secs_f64() / iters.max(1) as f64));
    }

    fn start(role: &str, mode: &str, slots: u32) -> Session {
        Session::start(
            std::process::Command::new(std::env::current_exe().unwrap()),
            role,
            mode,
            slots,
        )
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
            let mut s = start("echo", mode, 4);
            let (mut total, mut count) = (Duration::ZERO, 0u64);
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let e: Duration = (0..iters).map(|_| s.ring_round_trip(&cfg)).sum();
                    total += e;
                    count += iters;
                    e
                })
            });
            record(&format!("roundtrip/{name}"), total, count);
            s.stop();
        }
        // Ceilings: the same two processes bouncing two bare words.
        for (name, role, spin) in [("raw_futex", "raw", false), ("raw_spin", "rawspin", true)] {
            let mut s = start(role, "", 1);
            let (mut total, mut count) = (Duration::ZERO, 0u64);
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let e: Duration = (0..iters).map(|_| s.word_round_trip(spin)).sum();
                    total += e;
                    count += iters;
                    e
                })
            });
            record(&format!("roundtrip/{name}"), total, count);
            s.stop();
        }
        group.finish();
    }

    fn bench_handoff(c: &mut Criterion) {
        let mut group = c.benchmark_group("handoff_1MiB");
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(4))
            .throughput(Throughput::Bytes(MIB as u64));
        let mut s = start("echo", "spin", 4);
        let (mut total, mut count) = (Duration::ZERO, 0u64);
        group.bench_function("ring", |b| {
            b.iter_custom(|iters| {
                let e = s.handoff(iters, fnv64, false);
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
                let t0 = std::time::Instant::now();
                for i in 0..iters {
                    fill(&mut local, i);
                    std::hint::black_box(fnv64(&local));
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
        if std::env::var(ceiling::ROLE).is_ok() {
            ceiling::child_main(fnv64);
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
        for (k, base) in [
            ("roundtrip/spin_then_park", "roundtrip/raw_spin"),
            ("roundtrip/always_park", "roundtrip/raw_futex"),
        ] {
            if let (Some(v), Some(raw)) = (get(k), get(base)) {
                println!("{k:32} = {:.2} × {base}", v / raw);
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
