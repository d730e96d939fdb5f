//! `vdisim bench`: vdisim's throughput, latency, idle CPU and memory, each measured in the same
//! run as the ceiling it is judged against (issue 10; docs/performance.md).
//!
//! Every two-process figure uses two real processes: this one plays the server (the in-process
//! engine with its real VDI jobs, or a bare `ServerVirtualDeviceSet`) and a re-executed
//! `vdisim __bench-child` plays the client. The ceilings' child code is `vdi_shm::ceiling`.

use clap::Args;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vdi_client::{ClientOptions, ClientVirtualDevice, ClientVirtualDeviceSet};
use vdi_proto::{SendRequest, VdCode, VdConfig, VdcCode, vdf, win32};
use vdi_server::db::{BackupImage, BackupKind, Catalog, RecoveryModel};
use vdi_server::engine::sink::CollectSink;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::{JobOptions, VdiJobRunner};
use vdi_server::stream::{
    BackupOptions, BackupProducer, RestoreAssembler, StripeReader, backup_to_memory,
};
use vdi_server::vdi::ServerVirtualDeviceSet;
use vdi_server::vdi::shm::open_one_device_set;
use vdi_shm::ceiling::{self, MIB, Session};
use vdi_shm::event::WaitConfig;

/// The checksum every client-side figure and ceiling uses (see docs/performance.md).
pub fn checksum(buf: &[u8]) -> u64 {
    ceiling::crc32(buf)
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Smaller data sets and fewer repetitions (a smoke run, ~15 s).
    #[arg(long)]
    quick: bool,
    /// Measure only these groups (comma-separated: ceilings, backup1, restore, backup4,
    /// backup64, roundtrip, idle, tds), e.g. to profile one of them; the others print as
    /// skipped.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

/// The hidden client side of the two-process figures.
#[derive(Args, Debug)]
pub struct ChildArgs {
    /// ceiling | pipe | backup | restore | echo | idle
    #[arg(long, default_value = "ceiling")]
    role: String,
    #[arg(long, default_value = "")]
    set: String,
    #[arg(long, default_value_t = 1)]
    devices: u16,
    /// spin | park
    #[arg(long, default_value = "spin")]
    wait: String,
}

struct Plan {
    db_bytes: u64,
    trials: usize,
    memcpy_set: usize,
    handoff_blocks: u64,
    roundtrips: usize,
}

#[derive(Clone, Debug)]
struct Figure {
    name: &'static str,
    value: f64,
    unit: &'static str,
    ceiling_name: &'static str,
    ceiling_value: f64,
}

impl Figure {
    fn ratio(&self) -> f64 {
        if self.ceiling_value == 0.0 {
            0.0
        } else {
            self.value / self.ceiling_value
        }
    }
}

const DB: &str = "vdisim_bench";

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// How many samples (µs) exceeded `limit_us`, per second of the samples' total time.
fn over_per_second(samples: &[f64], limit_us: f64) -> f64 {
    let total_s = samples.iter().sum::<f64>() / 1e6;
    let over = samples.iter().filter(|&&v| v > limit_us).count();
    if total_s > 0.0 {
        over as f64 / total_s
    } else {
        f64::NAN
    }
}

fn gbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64().max(1e-9) / 1e9
}

fn child_command(role: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("own executable"));
    c.arg("__bench-child").arg("--role").arg(role);
    c
}

/// A spawned client and its stdout lines.
struct Client {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Client {
    fn spawn(role: &str, set: &str, devices: u16, wait: &str) -> Client {
        let mut child = child_command(role)
            .args([
                "--set",
                set,
                "--devices",
                &devices.to_string(),
                "--wait",
                wait,
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the bench client");
        let out = BufReader::new(child.stdout.take().expect("piped"));
        Client { child, out }
    }

    fn expect(&mut self, word: &str) -> Vec<(String, f64)> {
        let mut line = String::new();
        self.out.read_line(&mut line).expect("client output");
        let mut parts = line.split_whitespace();
        assert_eq!(parts.next(), Some(word), "bench client said {line:?}");
        parts
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((k.to_string(), v.parse().ok()?))
            })
            .collect()
    }

    fn finish(mut self) {
        assert!(
            self.child.wait().is_ok_and(|s| s.success()),
            "bench client failed"
        );
    }
}

fn field(fields: &[(String, f64)], k: &str) -> f64 {
    fields.iter().find(|(n, _)| n == k).map_or(0.0, |(_, v)| *v)
}

// ------------------------------------------------------------------------------ ceilings

fn memcpy_gbps(set: usize) -> f64 {
    let half = set / 2;
    let src: Vec<u8> = (0..half).map(|i| i as u8).collect();
    let mut dst = vec![0u8; half];
    let blocks = half / MIB;
    let rounds = 4;
    dst.copy_from_slice(&src); // fault every page in before timing
    let t0 = Instant::now();
    for r in 0..rounds {
        for b in 0..blocks {
            let s = &src[b * MIB..(b + 1) * MIB];
            let d = (b + r) % blocks;
            dst[d * MIB..(d + 1) * MIB].copy_from_slice(s);
        }
    }
    std::hint::black_box(&dst);
    gbps((rounds * blocks * MIB) as u64, t0.elapsed())
}

fn handoff_gbps(blocks: u64, verify: bool) -> f64 {
    let mode = if verify { "verify" } else { "spin" };
    let mut s = Session::start(child_command("ceiling"), "echo", mode, 2);
    s.handoff(16, checksum, verify); // warm-up
    let d = s.handoff(blocks, checksum, verify);
    s.stop();
    gbps(blocks * MIB as u64, d)
}

fn pipe_gbps(blocks: u64) -> f64 {
    let mut child = child_command("pipe")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the pipe reader");
    let mut stdin = child.stdin.take().expect("piped");
    ceiling::set_pipe_size(&stdin, MIB);
    let mut buf = vec![0u8; MIB];
    let t0 = Instant::now();
    for i in 0..blocks {
        ceiling::fill(&mut buf, i);
        stdin.write_all(&buf).expect("pipe write");
    }
    drop(stdin);
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut out)
        .expect("pipe reader output");
    let d = t0.elapsed();
    assert!(child.wait().is_ok_and(|s| s.success()));
    gbps(blocks * MIB as u64, d)
}

fn pingpong_us(n: usize, spin: bool) -> Vec<f64> {
    let role = if spin { "rawspin" } else { "raw" };
    let mut s = Session::start(child_command("ceiling"), role, "", 1);
    for _ in 0..n / 10 {
        s.word_round_trip(spin);
    }
    let mut v: Vec<f64> = (0..n)
        .map(|_| s.word_round_trip(spin).as_secs_f64() * 1e6)
        .collect();
    s.stop();
    v.sort_by(f64::total_cmp);
    v
}

// ------------------------------------------------------------------------------ vdisim

fn engine(db_bytes: u64) -> Arc<Engine> {
    let mut catalog = Catalog::new();
    catalog
        .create(DB, db_bytes, RecoveryModel::Simple, 0)
        .expect("bench database");
    Engine::new(
        catalog,
        EngineConfig {
            jobs: Arc::new(VdiJobRunner::shared_memory()),
            ..EngineConfig::default()
        },
    )
}

fn run_sql(engine: &Arc<Engine>, sql: &str) {
    let mut sink = CollectSink::new();
    let mut session = engine.login("sa", "", None).expect("login");
    session.execute_script(sql, &mut sink, false);
    assert!(
        sink.error_numbers().is_empty(),
        "{sql}: {}",
        sink.render("VDISIM")
    );
}

fn devices_clause(set: &str, devices: u16) -> String {
    crate::transfer::device_clause(set, devices)
}

fn set_name(tag: &str) -> String {
    format!(
        "vdisim-bench-{}-{tag}-{}",
        std::process::id(),
        fastish_counter()
    )
}

fn fastish_counter() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The bench database's backup image and the stream options a `BACKUP ... WITH FORMAT,
/// MAXTRANSFERSIZE = 1048576` to one device gets from the job: its default BLOCKSIZE and seed.
fn bench_stream(engine: &Arc<Engine>) -> (BackupImage, BackupOptions) {
    let image = engine
        .lock_catalog()
        .get_mut(DB)
        .expect("bench database")
        .prepare_backup(BackupKind::Full)
        .expect("backup image");
    let job = JobOptions::default();
    let options = BackupOptions {
        block_size: job.default_block_size,
        max_transfer: MIB as u32,
        devices: 1,
        seed: job.seed ^ image.meta.state_hash,
        ..BackupOptions::default()
    };
    (image, options)
}

/// The fake sqlservr's own production rate, with no VDI and no client: the BACKUP stream of
/// the bench database generated (pages built and hashed, records framed) into one reused
/// 1 MiB buffer, as the backup job generates into the shared buffers.
fn generate_gbps(engine: &Arc<Engine>) -> f64 {
    let (image, options) = bench_stream(engine);
    let mut producer = BackupProducer::new(image, options).expect("producer");
    let mut buf = vec![0u8; MIB];
    let t0 = Instant::now();
    let mut bytes = producer.stripe_header(0, &mut buf).expect("header") as u64;
    while let Some(t) = producer.fill_next(0, &mut buf).expect("fill") {
        bytes += t.len as u64;
        std::hint::black_box(&buf);
    }
    bytes += producer.stripe_trailer(0, &mut buf).expect("trailer") as u64;
    gbps(bytes, t0.elapsed())
}

/// The fake sqlservr's own checking rate for a RESTORE, with no VDI and no client: the bench
/// database's backup stream (made in memory first) fed to the stripe reader in 1 MiB pieces,
/// as the restore job feeds each Read, then assembled into the image it installs. Each piece
/// is first copied, untimed, into one reused buffer, so that the reader checks bytes in the
/// cache, as the restore job checks a Read buffer the client has just filled.
fn verify_gbps(engine: &Arc<Engine>) -> f64 {
    let (image, options) = bench_stream(engine);
    let stripe = backup_to_memory(image, options, 1)
        .expect("backup in memory")
        .0
        .remove(0);
    let mut hot = vec![0u8; MIB];
    let mut checking = Duration::ZERO;
    let mut reader = StripeReader::new(0);
    for piece in stripe.chunks(MIB) {
        hot[..piece.len()].copy_from_slice(piece);
        let t0 = Instant::now();
        reader.feed(&hot[..piece.len()]).expect("stream checks");
        checking += t0.elapsed();
    }
    let t0 = Instant::now();
    let mut assembler = RestoreAssembler::new();
    assembler
        .add(reader.finish().expect("stripe"))
        .expect("stripe");
    std::hint::black_box(assembler.finish().expect("image"));
    checking += t0.elapsed();
    gbps(stripe.len() as u64, checking)
}

/// One backup to a hashing client: (GB/s, client peak RSS MiB, buffer area MiB). Without
/// `buffer_count` the job takes its default BUFFERCOUNT (MAX_IO_DEPTH + 1 per device).
fn backup_once(engine: &Arc<Engine>, devices: u16, buffer_count: Option<u32>) -> (f64, f64, f64) {
    let set = set_name("b");
    let wait = std::env::var("VDISIM_BENCH_WAIT").unwrap_or_else(|_| "spin".into());
    let mut client = Client::spawn("backup", &set, devices, &wait);
    client.expect("READY");
    run_sql(
        engine,
        &format!(
            "BACKUP DATABASE [{DB}] TO {} WITH FORMAT, MAXTRANSFERSIZE = 1048576{}",
            devices_clause(&set, devices),
            buffer_count.map_or(String::new(), |n| format!(", BUFFERCOUNT = {n}"))
        ),
    );
    let r = client.expect("RESULT");
    client.finish();
    (
        field(&r, "bytes") / field(&r, "secs").max(1e-9) / 1e9,
        field(&r, "rss_kib") / 1024.0,
        field(&r, "area") / MIB as f64,
    )
}

fn restore_once(engine: &Arc<Engine>) -> f64 {
    let capture = set_name("c");
    let mut client = Client::spawn("restore", &capture, 1, "spin");
    client.expect("READY");
    run_sql(
        engine,
        &format!(
            "BACKUP DATABASE [{DB}] TO {} WITH FORMAT, MAXTRANSFERSIZE = 1048576",
            devices_clause(&capture, 1)
        ),
    );
    client.expect("CAPTURED");
    let r = client.expect("READY");
    let restore_set = format!("{capture}-r");
    let _ = r;
    run_sql(
        engine,
        &format!(
            "RESTORE DATABASE [{DB}] FROM {} WITH REPLACE, MAXTRANSFERSIZE = 1048576",
            devices_clause(&restore_set, 1)
        ),
    );
    let r = client.expect("RESULT");
    client.finish();
    field(&r, "bytes") / field(&r, "secs").max(1e-9) / 1e9
}

fn close_server(mut s: ServerVirtualDeviceSet, dev: vdi_server::vdi::ServerVirtualDevice) {
    let _ = s.close_device(dev);
    let _ = s.close();
}

/// Command round trips (SendCommand → GetCommand → CompleteCommand → completion seen by the
/// server), sorted, in µs.
fn roundtrip_us(n: usize, wait: &str) -> Vec<f64> {
    let set = set_name("rt");
    let mut client = Client::spawn("echo", &set, 1, wait);
    client.expect("READY");
    // Both sides wait alike, as both sides of the raw ping-pong they are judged against do.
    let (s, dev) = open_one_device_set(&set, wait_config(wait)).expect("server set");
    client.expect("OPEN");
    let one = || {
        let t0 = Instant::now();
        s.send_command(dev, SendRequest::control(VdcCode::Flush))
            .expect("send");
        let done = s.next_completion(Duration::MAX).expect("completion");
        assert_eq!(done.completion_code, win32::ERROR_SUCCESS);
        t0.elapsed().as_secs_f64() * 1e6
    };
    for _ in 0..n / 10 {
        one();
    }
    let mut v: Vec<f64> = (0..n).map(|_| one()).collect();
    close_server(s, dev);
    client.expect("RESULT");
    client.finish();
    v.sort_by(f64::total_cmp);
    v
}

fn idle_cpu_percent() -> f64 {
    let set = set_name("idle");
    let mut client = Client::spawn("idle", &set, 1, "spin");
    client.expect("READY");
    let (s, dev) = open_one_device_set(&set, WaitConfig::default()).expect("server set");
    let r = client.expect("RESULT");
    close_server(s, dev);
    client.finish();
    field(&r, "cpu_ns") / (field(&r, "wall_ns").max(1.0)) * 100.0
}

// ------------------------------------------------------------------------------ report

fn machine() -> serde_json::Value {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    serde_json::json!({
        "cpu": cpu,
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "loadavg_start": read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    })
}

pub fn run(args: &BenchArgs) -> Result<ExitCode, String> {
    let plan = if args.quick {
        Plan {
            db_bytes: 64 << 20,
            trials: 1,
            memcpy_set: 64 << 20,
            handoff_blocks: 256,
            roundtrips: 2_000,
        }
    } else {
        Plan {
            db_bytes: 256 << 20,
            trials: 3,
            memcpy_set: 256 << 20,
            handoff_blocks: 1024,
            roundtrips: 20_000,
        }
    };
    let mut machine = machine();
    let want = |group: &str| args.only.is_empty() || args.only.iter().any(|g| g == group);
    // A skipped figure is NaN and prints as skipped.
    let skipped = |v: Vec<f64>| if v.is_empty() { vec![f64::NAN] } else { v };
    eprintln!("vdisim bench: measuring ceilings …");
    let trials = |group: &str, f: &mut dyn FnMut() -> f64| {
        if !want(group) {
            return f64::NAN;
        }
        let mut v: Vec<f64> = (0..plan.trials).map(|_| f()).collect();
        median(&mut v)
    };
    let memcpy = trials("ceilings", &mut || memcpy_gbps(plan.memcpy_set));
    let handoff = trials("ceilings", &mut || handoff_gbps(plan.handoff_blocks, false));
    let handoff_verify = trials("ceilings", &mut || handoff_gbps(plan.handoff_blocks, true));
    let pipe = trials("ceilings", &mut || pipe_gbps(plan.handoff_blocks));
    let (raw_spin, raw_futex) = if want("ceilings") {
        (
            pingpong_us(plan.roundtrips, true),
            pingpong_us(plan.roundtrips, false),
        )
    } else {
        (skipped(vec![]), skipped(vec![]))
    };

    eprintln!("vdisim bench: measuring vdisim …");
    let engine = engine(plan.db_bytes);
    let generate = trials("backup1", &mut || generate_gbps(&engine));
    let backup1 = trials("backup1", &mut || backup_once(&engine, 1, None).0);
    let verify = trials("restore", &mut || verify_gbps(&engine));
    let restore1 = trials("restore", &mut || restore_once(&engine));
    let backup4 = trials("backup4", &mut || backup_once(&engine, 4, None).0);
    let mut rss = f64::NAN;
    let mut area = f64::NAN;
    let backup64 = trials("backup64", &mut || {
        let (g, r, a) = backup_once(&engine, 64, None);
        rss = f64::max(rss, r);
        area = a;
        g
    });
    // The same 64 stripes over the buffers one device gets by default: the data in flight
    // fits in the cache again, so this isolates what striping itself costs.
    let one_device_buffers = vdi_server::jobs::default_buffer_count(1);
    let backup64_few = trials("backup64", &mut || {
        backup_once(&engine, 64, Some(one_device_buffers)).0
    });
    let (spin, block) = if want("roundtrip") {
        (
            roundtrip_us(plan.roundtrips, "spin"),
            roundtrip_us(plan.roundtrips, "park"),
        )
    } else {
        (skipped(vec![]), skipped(vec![]))
    };
    let idle = if want("idle") {
        idle_cpu_percent()
    } else {
        f64::NAN
    };
    machine["loadavg_end"] = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
        .into();

    let med = |v: &[f64]| percentile(v, 0.5);
    let f = |name, value, unit, ceiling_name, ceiling_value| Figure {
        name,
        value,
        unit,
        ceiling_name,
        ceiling_value,
    };
    let mut figures = vec![
        f("memcpy_1mib_gbps", memcpy, "GB/s", "", 0.0),
        f(
            "handoff_1mib_gbps",
            handoff,
            "GB/s",
            "memcpy_1mib_gbps",
            memcpy,
        ),
        f(
            "handoff_verify_1mib_gbps",
            handoff_verify,
            "GB/s",
            "memcpy_1mib_gbps",
            memcpy,
        ),
        f("pipe_1mib_gbps", pipe, "GB/s", "handoff_1mib_gbps", handoff),
        f("pingpong_spin_median_us", med(&raw_spin), "us", "", 0.0),
        f("pingpong_futex_median_us", med(&raw_futex), "us", "", 0.0),
        f(
            "backup_1dev_gbps",
            backup1,
            "GB/s",
            "handoff_1mib_gbps",
            handoff,
        ),
        f(
            "generate_1mib_gbps",
            generate,
            "GB/s",
            "handoff_1mib_gbps",
            handoff,
        ),
        f(
            "backup_1dev_over_generation",
            backup1,
            "GB/s",
            "generate_1mib_gbps",
            generate,
        ),
        f(
            "backup_1dev_over_pipe",
            backup1,
            "GB/s",
            "pipe_1mib_gbps",
            pipe,
        ),
        f(
            "restore_1dev_gbps",
            restore1,
            "GB/s",
            "handoff_verify_1mib_gbps",
            handoff_verify,
        ),
        f(
            "verify_1mib_gbps",
            verify,
            "GB/s",
            "handoff_verify_1mib_gbps",
            handoff_verify,
        ),
        f(
            "restore_1dev_over_verification",
            restore1,
            "GB/s",
            "verify_1mib_gbps",
            verify,
        ),
        f(
            "backup_4dev_gbps",
            backup4,
            "GB/s",
            "backup_1dev_gbps",
            backup1,
        ),
        f(
            "backup_64dev_gbps",
            backup64,
            "GB/s",
            "backup_1dev_gbps",
            backup1,
        ),
        f(
            "backup_64dev_1dev_buffers_gbps",
            backup64_few,
            "GB/s",
            "backup_1dev_gbps",
            backup1,
        ),
        f(
            "roundtrip_spin_median_us",
            med(&spin),
            "us",
            "pingpong_spin_median_us",
            med(&raw_spin),
        ),
        f(
            "roundtrip_spin_p99_us",
            percentile(&spin, 0.99),
            "us",
            "pingpong_spin_p99_us",
            percentile(&raw_spin, 0.99),
        ),
        f(
            "roundtrip_spin_p999_us",
            percentile(&spin, 0.999),
            "us",
            "target_max_us",
            5.0,
        ),
        // The machine's own tail: what the raw ping-pong's slowest trips took in this run,
        // and how often per second of trips each side had one slower than 5 µs. A trip six
        // times longer catches six times as many of the machine's stalls (interrupts, vCPU
        // preemption), so equal rates mean the tail is the machine's, not vdisim's.
        f(
            "roundtrip_spin_p999_vs_pingpong",
            percentile(&spin, 0.999),
            "us",
            "pingpong_spin_p999_us",
            percentile(&raw_spin, 0.999),
        ),
        f(
            "roundtrip_spin_over_5us_per_s",
            over_per_second(&spin, 5.0),
            "1/s",
            "pingpong_spin_over_5us_per_s",
            over_per_second(&raw_spin, 5.0),
        ),
        f(
            "roundtrip_block_median_us",
            med(&block),
            "us",
            "pingpong_futex_median_us",
            med(&raw_futex),
        ),
        f(
            "roundtrip_block_p99_us",
            percentile(&block, 0.99),
            "us",
            "pingpong_futex_p99_us",
            percentile(&raw_futex, 0.99),
        ),
        f(
            "roundtrip_block_p999_us",
            percentile(&block, 0.999),
            "us",
            "pingpong_futex_p999_us",
            percentile(&raw_futex, 0.999),
        ),
        f("idle_cpu_percent", idle, "%", "target_max_percent", 1.0),
        f("rss_64dev_mib", rss, "MiB", "buffer_area_64dev_mib", area),
    ];
    if want("tds") {
        eprintln!("vdisim bench: measuring the TDS front end …");
        let (round_trips, connections) = if args.quick {
            (2_000, 256)
        } else {
            (20_000, 256)
        };
        for (name, value, unit, ceiling_name, ceiling_value) in
            crate::bench_tds::measure(round_trips, connections)?
        {
            figures.push(f(name, value, unit, ceiling_name, ceiling_value));
        }
    }
    figures.retain(|x| !x.value.is_nan());

    crate::out::outln!(
        "vdisim bench ({}; {} CPUs; load {} → {})",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cpus"],
        machine["loadavg_start"].as_str().unwrap_or("?"),
        machine["loadavg_end"].as_str().unwrap_or("?"),
    );
    crate::out::outln!(
        "{:<28} {:>10} {:<5}   {:<28} {:>10}   {:>6}",
        "figure",
        "value",
        "unit",
        "ceiling",
        "value",
        "ratio"
    );
    for x in &figures {
        if x.ceiling_name.is_empty() {
            crate::out::outln!("{:<28} {:>10.3} {:<5}", x.name, x.value, x.unit);
        } else {
            crate::out::outln!(
                "{:<28} {:>10.3} {:<5}   {:<28} {:>10.3}   {:>6.2}",
                x.name,
                x.value,
                x.unit,
                x.ceiling_name,
                x.ceiling_value,
                x.ratio()
            );
        }
    }
    if let Some(path) = &args.json {
        let results: Vec<_> = figures
            .iter()
            .map(|x| {
                serde_json::json!({
                    "name": x.name,
                    "value": x.value,
                    "unit": x.unit,
                    "ceiling_name": if x.ceiling_name.is_empty() { serde_json::Value::Null } else { x.ceiling_name.into() },
                    "ceiling_value": if x.ceiling_name.is_empty() { serde_json::Value::Null } else { x.ceiling_value.into() },
                    "ratio": if x.ceiling_name.is_empty() { serde_json::Value::Null } else { x.ratio().into() },
                })
            })
            .collect();
        let doc = serde_json::json!({
            "schema_version": 1,
            "machine": machine,
            "quick": args.quick,
            "results": results,
        });
        std::fs::write(
            path,
            serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())? + "\n",
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

// ------------------------------------------------------------------------------ the client side

fn rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// CPU time of every thread of this process, in ns (schedstat: finer than the tick counts).
fn cpu_ns() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .sum()
}

fn wait_config(wait: &str) -> WaitConfig {
    if wait == "park" {
        WaitConfig::ALWAYS_PARK
    } else {
        WaitConfig::SPIN_THEN_PARK
    }
}

fn client_set(wait: &str) -> ClientVirtualDeviceSet {
    let mut options = ClientOptions::from_env();
    options.wait = wait_config(wait);
    ClientVirtualDeviceSet::with_options(options)
}

fn create(set: &ClientVirtualDeviceSet, name: &str, devices: u16) -> VdConfig {
    let config = VdConfig {
        device_count: u32::from(devices),
        features: vdf::LIKE_PIPE | vdf::REQUEST_COMPLETE,
        ..VdConfig::default()
    };
    set.create(name, &config).expect("Create");
    crate::out::outln!("READY");
    let mut got = VdConfig::default();
    loop {
        match set.get_configuration(1000, &mut got) {
            Ok(()) => return got,
            Err(e) if e.code == VdCode::Timeout => continue,
            Err(e) => panic!("GetConfiguration: {e:?}"),
        }
    }
}

fn open_all(set: &ClientVirtualDeviceSet, name: &str, devices: u16) -> Vec<ClientVirtualDevice> {
    vdi_client::reference::device_names(name, devices)
        .iter()
        .map(|n| set.open_device(n).expect("OpenDevice"))
        .collect()
}

/// Serves one device until VD_E_CLOSE; `data` sees every Write's bytes in place and answers
/// every Read in place (returning how many bytes it produced). Returns the bytes moved.
fn serve(
    device: &ClientVirtualDevice,
    on_write: &mut dyn FnMut(&[u8]),
    on_read: &mut dyn FnMut(&mut [u8]) -> usize,
) -> u64 {
    let mut bytes = 0;
    loop {
        let cmd = match device.get_command(60_000) {
            Ok(c) => c,
            Err(e) if e.code == VdCode::Close => return bytes,
            Err(e) => panic!("GetCommand: {e:?}"),
        };
        let (code, n) = match cmd.code() {
            VdcCode::Write => {
                let n = cmd
                    .with_data(|d| {
                        on_write(d);
                        d.len()
                    })
                    .unwrap_or(0);
                (win32::ERROR_SUCCESS, n)
            }
            VdcCode::Read => {
                let n = cmd.with_data_mut(|d| on_read(d)).unwrap_or(0);
                let code = if n < cmd.size() as usize {
                    win32::ERROR_HANDLE_EOF
                } else {
                    win32::ERROR_SUCCESS
                };
                (code, n)
            }
            _ => (win32::ERROR_SUCCESS, 0),
        };
        bytes += n as u64;
        device
            .complete_command(&cmd, code, n as u64, 0)
            .expect("CompleteCommand");
    }
}

pub fn child(args: &ChildArgs) -> Result<ExitCode, String> {
    match args.role.as_str() {
        "ceiling" => ceiling::child_main(checksum),
        "pipe" => {
            let mut stdin = std::io::stdin().lock();
            let mut buf = vec![0u8; MIB];
            let mut h = 0u64;
            loop {
                let mut filled = 0;
                while filled < buf.len() {
                    match stdin.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) => return Err(e.to_string()),
                    }
                }
                if filled == 0 {
                    break;
                }
                h ^= checksum(&buf[..filled]);
            }
            crate::out::outln!("RESULT hash={}", h % 1_000_000);
        }
        "backup" => {
            let set = client_set(&args.wait);
            let config = create(&set, &args.set, args.devices);
            let devices = open_all(&set, &args.set, args.devices);
            let t0 = Instant::now();
            let bytes: u64 = std::thread::scope(|s| {
                let handles: Vec<_> = devices
                    .iter()
                    .map(|d| {
                        s.spawn(move || {
                            let mut h = 0u64;
                            let n = serve(d, &mut |data| h ^= checksum(data), &mut |_| 0);
                            std::hint::black_box(h);
                            n
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().expect("device")).sum()
            });
            let secs = t0.elapsed().as_secs_f64();
            drop(devices);
            set.close().map_err(|e| format!("Close: {e:?}"))?;
            crate::out::outln!(
                "RESULT bytes={bytes} secs={secs} rss_kib={} area={}",
                rss_kib(),
                config.buffer_area_size
            );
        }
        "restore" => {
            // Capture a backup in memory (not timed), then serve it back to RESTORE.
            let set = client_set(&args.wait);
            create(&set, &args.set, 1);
            let devices = open_all(&set, &args.set, 1);
            let mut stream = Vec::with_capacity(1 << 28);
            serve(
                &devices[0],
                &mut |data| stream.extend_from_slice(data),
                &mut |_| 0,
            );
            drop(devices);
            set.close().map_err(|e| format!("Close: {e:?}"))?;
            crate::out::outln!("CAPTURED");
            let name = format!("{}-r", args.set);
            let set = client_set(&args.wait);
            create(&set, &name, 1);
            let devices = open_all(&set, &name, 1);
            let t0 = Instant::now();
            let mut at = 0;
            let bytes = serve(&devices[0], &mut |_| {}, &mut |data| {
                let n = data.len().min(stream.len() - at);
                data[..n].copy_from_slice(&stream[at..at + n]);
                at += n;
                n
            });
            let secs = t0.elapsed().as_secs_f64();
            drop(devices);
            set.close().map_err(|e| format!("Close: {e:?}"))?;
            crate::out::outln!("RESULT bytes={bytes} secs={secs}");
        }
        "echo" => {
            let set = client_set(&args.wait);
            create(&set, &args.set, 1);
            let devices = open_all(&set, &args.set, 1);
            crate::out::outln!("OPEN");
            let n = serve(&devices[0], &mut |_| {}, &mut |_| 0);
            drop(devices);
            let _ = set.close();
            crate::out::outln!("RESULT bytes={n}");
        }
        "idle" => {
            let set = client_set(&args.wait);
            create(&set, &args.set, 1);
            let devices = open_all(&set, &args.set, 1);
            let (c0, t0) = (cpu_ns(), Instant::now());
            let got = devices[0].get_command(2000);
            let (cpu, wall) = (cpu_ns() - c0, t0.elapsed().as_nanos());
            assert!(
                matches!(got, Err(e) if e.code == VdCode::Timeout),
                "{got:?}"
            );
            crate::out::outln!("RESULT cpu_ns={cpu} wall_ns={wall}");
            drop(devices);
            let _ = set.signal_abort();
            let _ = set.close();
        }
        other => return Err(format!("unknown bench role {other}")),
    }
    Ok(ExitCode::SUCCESS)
}
