//! Single-process costs of the transport's building blocks, each beside a same-run baseline:
//!
//! * `ring/command_push_pop` (validated SPSC ring of 16) vs `ring/vecdeque_baseline`;
//! * `event/unpark_then_poll` (Parker word, nobody parked: no syscall) vs
//!   `event/atomic_swap_baseline`;
//! * `checksum_1MiB/{crc32,xxh3,fnv64}` vs `checksum_1MiB/memcpy_baseline`: the client-side
//!   checksum choice of docs/performance.md.

/// Regions and real atomics are not built under `cfg(loom)`.
#[cfg(not(loom))]
mod primitives {
    use criterion::{Criterion, Throughput, criterion_group};
    use std::hint::black_box;
    use std::sync::atomic::{AtomicU32, Ordering};
    use vdi_proto::{CmdId, VdcCode};
    use vdi_shm::ring::{CommandDesc, CommandLimits, LocalRing, Popped};

    fn ring(c: &mut Criterion) {
        let mut g = c.benchmark_group("ring");
        let local = LocalRing::commands(16);
        let ring = local.command_ring();
        let limits = CommandLimits {
            buffer_area: 1 << 30,
            max_transfer: 1 << 20,
        };
        let desc = CommandDesc::new(
            CmdId {
                slot: 1,
                generation: 7,
            },
            VdcCode::Write,
            65536,
            0,
            65536,
        );
        g.bench_function("command_push_pop", |b| {
            b.iter(|| {
                ring.push(black_box(&desc)).unwrap();
                match ring.pop(&limits).unwrap() {
                    Popped::Item(d) => black_box(d),
                    _ => unreachable!(),
                };
            })
        });
        let mut q = std::collections::VecDeque::with_capacity(16);
        g.bench_function("vecdeque_baseline", |b| {
            b.iter(|| {
                q.push_back(black_box(desc));
                black_box(q.pop_front());
            })
        });
        g.finish();
    }

    fn event(c: &mut Criterion) {
        let mut g = c.benchmark_group("event");
        let word = AtomicU32::new(0);
        let ev = vdi_shm::Event::new(&word);
        g.bench_function("unpark_then_poll", |b| {
            b.iter(|| {
                ev.unpark();
                black_box(ev.park(Some(std::time::Duration::ZERO)));
            })
        });
        let plain = AtomicU32::new(0);
        g.bench_function("atomic_swap_baseline", |b| {
            b.iter(|| {
                plain.swap(1, Ordering::SeqCst);
                black_box(plain.swap(0, Ordering::SeqCst));
            })
        });
        g.finish();
    }

    fn checksum(c: &mut Criterion) {
        use vdi_shm::ceiling::{MIB, crc32, fill, fnv64, xxh3};
        let mut g = c.benchmark_group("checksum_1MiB");
        g.throughput(Throughput::Bytes(MIB as u64));
        let mut buf = vec![0u8; MIB];
        fill(&mut buf, 1);
        for (name, f) in [
            ("crc32", crc32 as fn(&[u8]) -> u64),
            ("xxh3", xxh3),
            ("fnv64", fnv64),
        ] {
            g.bench_function(name, |b| b.iter(|| black_box(f(black_box(&buf)))));
        }
        let mut dst = vec![0u8; MIB];
        g.bench_function("memcpy_baseline", |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&buf));
                black_box(&dst);
            })
        });
        g.finish();
    }

    criterion_group!(group, ring, event, checksum);

    pub fn run() {
        group();
        Criterion::default().configure_from_args().final_summary();
    }
}

fn main() {
    #[cfg(not(loom))]
    primitives::run();
}
