//! `vdisim demo`: the main job. An in-process fake SQL Server with the default databases backs
//! AdventureWorks up through real shared memory to four stripe files, restores it WITH REPLACE
//! and checks that the database is byte for byte what was backed up. `--simulator` runs the same
//! kind of stream through the protocol core's deterministic simulator instead.

use clap::Args;
use std::process::ExitCode;
use std::time::Instant;
use vdi_proto::sim::{BackupSpec, run_backup, run_restore};
use vdi_proto::{EventKind, Side};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run through the protocol core's deterministic simulator instead of the real server.
    #[arg(long)]
    simulator: bool,
    /// The database the real server backs up and restores.
    #[arg(long, default_value = "AdventureWorks")]
    database: String,
    /// Size of the simulator's synthetic stream, in MiB.
    #[arg(long, default_value_t = 64)]
    size_mib: u64,
    /// Number of virtual devices (stripes), 1 to 64.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    devices: u16,
    /// Flushes in the middle of the stream (as FILESTREAM databases cause).
    #[arg(long, default_value_t = 3)]
    flushes: u32,
    /// Seed of the data pattern and of the restore's read sizes.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Also print every transcript line.
    #[arg(long)]
    transcript: bool,
}

pub fn run(args: &DemoArgs) -> Result<ExitCode, String> {
    if args.simulator {
        return run_simulator(args);
    }
    crate::demo_server::run(&args.database, args.devices)
}

fn run_simulator(args: &DemoArgs) -> Result<ExitCode, String> {
    let spec = BackupSpec {
        devices: args.devices,
        bytes: args.size_mib << 20,
        block_size: 65536,
        max_transfer: 1 << 20,
        mid_stream_flushes: args.flushes,
        request_complete: true,
        seed: args.seed,
    };
    crate::out::outln!(
        "vdisim demo: {} MiB over {} virtual device(s), {} mid-stream flush(es), VDC_Complete requested",
        args.size_mib,
        args.devices,
        args.flushes
    );
    crate::out::outln!(
        "(deterministic simulator of the protocol core; without --simulator the demo runs the real server over shared memory)"
    );

    let started = Instant::now();
    let backup = run_backup(spec);
    let backup_secs = started.elapsed().as_secs_f64();
    let stored: u64 = backup.stripes.iter().map(|s| s.len() as u64).sum();
    report("BACKUP", &backup.pair, stored, backup_secs, backup.commands);
    crate::out::outln!(
        "  flushes seen by the client: {}, VDC_Complete: {}",
        backup.flushes,
        backup.completes
    );

    let started = Instant::now();
    let restore = run_restore(spec, &backup.stripes);
    let restore_secs = started.elapsed().as_secs_f64();
    report(
        "RESTORE",
        &restore.pair,
        restore.bytes,
        restore_secs,
        restore.reads,
    );

    if args.transcript {
        for line in backup
            .pair
            .transcript_lines()
            .iter()
            .chain(&restore.pair.transcript_lines())
        {
            crate::out::outln!("    {line}");
        }
    }
    let misuse: Vec<_> = backup
        .pair
        .client
        .rule_hits()
        .iter()
        .chain(restore.pair.client.rule_hits())
        .collect();
    match restore.first_mismatch {
        None if stored == spec.bytes && misuse.is_empty() => {
            crate::out::outln!(
                "verification: OK, {} pages ({} bytes) restored byte for byte",
                spec.bytes / 8192,
                spec.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
        None if !misuse.is_empty() => Err(format!("the client broke protocol rules: {misuse:?}")),
        None => Err(format!(
            "backup stored {stored} bytes, expected {}",
            spec.bytes
        )),
        Some(offset) => Err(format!(
            "verification FAILED: first differing byte at stream offset {offset}"
        )),
    }
}

fn report(what: &str, pair: &vdi_proto::sim::Pair, bytes: u64, secs: f64, commands: u64) {
    let events = pair.transcript();
    let count = |side: Side, f: fn(&EventKind) -> bool| {
        events
            .iter()
            .filter(|e| e.side == side && f(&e.kind))
            .count()
    };
    let mib_s = bytes as f64 / (1 << 20) as f64 / secs.max(1e-9);
    crate::out::outln!(
        "{what}: {} pages, {bytes} bytes, {commands} commands, {secs:.3} s ({mib_s:.1} MB/sec)",
        bytes / 8192
    );
    crate::out::outln!(
        "  transcript: {} events (client calls {}, server calls {}, state changes {}, completions {})",
        events.len(),
        count(Side::Client, |k| matches!(k, EventKind::Call { .. })),
        count(Side::Server, |k| matches!(k, EventKind::Call { .. })),
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::State { .. }))
            .count(),
        count(Side::Server, |k| matches!(k, EventKind::Completion { .. })),
    );
    for line in pair.transcript_lines().iter().rev().take(4).rev() {
        crate::out::outln!("    … {line}");
    }
}
