//! The real demo: in-process server, real shared memory, the reference client, stripe files.

use crate::sql_target::SqlTarget;
use crate::transfer::{DisplayOptions, Job, Meter, device_clause, run_transfer};
use std::process::ExitCode;
use vdi_client::reference::{self, Direction, ReferenceOptions};

pub fn run(database: &str, devices: u16) -> Result<ExitCode, String> {
    let target = SqlTarget::in_process();
    let SqlTarget::InProcess(engine) = &target else {
        unreachable!("in_process() is in-process")
    };
    let (pages, before) = {
        let catalog = engine.lock_catalog();
        let db = catalog
            .get(database)
            .ok_or_else(|| format!("no database {database}"))?;
        (db.page_count(), db.state_hash())
    };
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let options = ReferenceOptions {
        devices,
        ..ReferenceOptions::default()
    };
    crate::out::outln!(
        "vdisim demo: BACKUP DATABASE {database} ({pages} pages) to {devices} virtual devices over shared memory, then RESTORE WITH REPLACE"
    );

    let set = reference::new_set_name();
    let sql = format!(
        "BACKUP DATABASE [{database}] TO {} WITH FORMAT, STATS = 25",
        device_clause(&set, devices)
    );
    let (backup, output) = run_transfer(
        target.connect()?,
        &set,
        Direction::Backup,
        dir.path(),
        &options,
        sql,
        job(format!("backing up {database}"), None),
    );
    let output = output?;
    crate::out::out!("{}", indent(&output.render("VDISIM")));
    if !output.error_numbers().is_empty() || !backup.clean() {
        return Err(format!("the backup failed (client: {:?})", backup.endings));
    }
    report(
        "backup",
        backup.bytes,
        backup.elapsed,
        backup.flushes,
        backup.completes,
    );

    let set = reference::new_set_name();
    let sql = format!(
        "RESTORE DATABASE [{database}] FROM {} WITH REPLACE",
        device_clause(&set, devices)
    );
    let (restore, output) = run_transfer(
        target.connect()?,
        &set,
        Direction::Restore,
        dir.path(),
        &options,
        sql,
        job(format!("restoring {database}"), Some(backup.bytes)),
    );
    let output = output?;
    crate::out::out!("{}", indent(&output.render("VDISIM")));
    if !output.error_numbers().is_empty() || !restore.clean() {
        return Err(format!(
            "the restore failed (client: {:?})",
            restore.endings
        ));
    }
    report("restore", restore.bytes, restore.elapsed, 0, 0);

    let after = engine.lock_catalog().get(database).map(|d| d.state_hash());
    let misuse: Vec<_> = backup.rules.iter().chain(&restore.rules).collect();
    if after != Some(before) {
        return Err(
            "verification FAILED: the restored database differs from the backed-up one".into(),
        );
    }
    if !misuse.is_empty() {
        return Err(format!("the client broke protocol rules: {misuse:?}"));
    }
    crate::out::outln!(
        "verification: OK, {pages} pages restored and compared byte for byte; every stripe's records, checksums and page contents verified"
    );
    Ok(ExitCode::SUCCESS)
}

/// The progress display of a demo step (STATS messages are printed, not hidden).
fn job(label: String, total: Option<u64>) -> Job {
    Job {
        label,
        meter: Meter::new(total),
        display: DisplayOptions {
            quiet: false,
            interval: std::time::Duration::from_secs(5),
        },
        hidden_stats: false,
    }
}

fn report(what: &str, bytes: u64, elapsed: std::time::Duration, flushes: u32, completes: u32) {
    let mib_s = bytes as f64 / (1 << 20) as f64 / elapsed.as_secs_f64().max(1e-6);
    let extra = if what == "backup" {
        format!(", {flushes} Flush and {completes} VDC_Complete seen by the client")
    } else {
        String::new()
    };
    crate::out::outln!(
        "{what}: {bytes} bytes through shared memory in {:.3} s ({mib_s:.1} MB/s){extra}",
        elapsed.as_secs_f64()
    );
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  | {l}\n")).collect()
}
