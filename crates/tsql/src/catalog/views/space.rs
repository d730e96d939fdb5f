//! Space and I/O: `sys.dm_db_log_space_usage`, `sys.dm_db_file_space_usage` (views of the
//! current database) and the functions `sys.dm_db_log_stats`, `sys.dm_io_virtual_file_stats`
//! and `sys.dm_os_volume_stats`. The numbers are the engine's: the data pages a database
//! holds, the pages changed since its differential base, and the log kept for the next log
//! backup ([`SpaceUsage`](crate::catalog::model::SpaceUsage)).

use super::ViewContext;
use crate::catalog::model::{DatabaseFile, DatabaseInfo, FileType, Lsn};
use crate::catalog::snapshot::ServerSnapshot;
use crate::catalog::table::*;
use crate::msdb::BackupType;
use crate::value::{DateTime, SqlType, Table, Value};

const PAGE: u64 = 8192;
const MB: f64 = 1024.0 * 1024.0;
/// vdisim's log is shown as four virtual log files.
const VLFS: u64 = 4;
/// The size vdisim gives the volume its files are on (`sys.dm_os_volume_stats`): 64 GiB.
pub const VOLUME_BYTES: u64 = 64 << 30;

/// A count as a `bigint` value.
fn big(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Megabytes as a `float` value.
fn mb(bytes: u64) -> Value {
    Value::Float(bytes as f64 / MB)
}

/// The bytes of a database's files of one kind.
fn file_bytes(db: &DatabaseInfo, kind: FileType) -> u64 {
    db.files
        .iter()
        .filter(|f| f.file_type == kind)
        .map(DatabaseFile::size_bytes)
        .sum()
}

/// The log in use, never more than the log files hold and at least one record's worth.
fn log_used(db: &DatabaseInfo) -> u64 {
    let total = file_bytes(db, FileType::Log);
    db.space.log_used_bytes.clamp(64.min(total), total)
}

/// The data pages in use by each data file: the database's used pages, filling the files in
/// order.
fn used_pages_by_file(db: &DatabaseInfo) -> Vec<(&DatabaseFile, u64)> {
    let mut left = db.space.used_data_pages;
    db.files
        .iter()
        .filter(|f| f.file_type == FileType::Rows)
        .map(|f| {
            let pages = f.size_bytes() / PAGE;
            let used = left.min(pages);
            left -= used;
            (f, used)
        })
        .collect()
}

/// The pages of a file in use (FILEPROPERTY's `SpaceUsed`): its share of the database's
/// used data pages, or for a log file the log in use.
#[must_use]
pub fn file_used_pages(db: &DatabaseInfo, file: &DatabaseFile) -> u64 {
    if file.file_type == FileType::Log {
        let total = file_bytes(db, FileType::Log).max(1);
        return (log_used(db) * file.size_bytes() / total).div_ceil(PAGE);
    }
    used_pages_by_file(db)
        .into_iter()
        .find(|(f, _)| f.file_id == file.file_id)
        .map_or(0, |(_, used)| used)
}

/// A database's files, or only file `file_id`.
fn files_of(db: &DatabaseInfo, file_id: Option<i64>) -> impl Iterator<Item = &DatabaseFile> {
    db.files
        .iter()
        .filter(move |f| file_id.is_none_or(|id| i64::from(f.file_id) == id))
}

/// `sys.dm_db_log_space_usage`: the current database's log.
#[must_use]
pub fn dm_db_log_space_usage(c: &ViewContext<'_>) -> Table {
    let db = c.database;
    let mut t = table(&[
        ("database_id", INT, true),
        ("total_log_size_in_bytes", BIGINT, true),
        ("used_log_space_in_bytes", BIGINT, true),
        ("used_log_space_in_percent", SqlType::Real, true),
        ("log_space_in_bytes_since_last_backup", BIGINT, true),
    ]);
    let total = file_bytes(db, FileType::Log);
    let used = log_used(db);
    t.push(vec![
        int(db.database_id),
        big(total),
        big(used),
        Value::Float(used as f64 * 100.0 / total.max(1) as f64),
        big(used),
    ]);
    t
}

/// `sys.dm_db_file_space_usage`: one row per data file of the current database.
#[must_use]
pub fn dm_db_file_space_usage(c: &ViewContext<'_>) -> Table {
    let db = c.database;
    let mut t = table(&[
        ("database_id", SMALLINT, true),
        ("file_id", SMALLINT, true),
        ("filegroup_id", SMALLINT, true),
        ("total_page_count", BIGINT, true),
        ("allocated_extent_page_count", BIGINT, true),
        ("unallocated_extent_page_count", BIGINT, true),
        ("version_store_reserved_page_count", BIGINT, true),
        ("user_object_reserved_page_count", BIGINT, true),
        ("internal_object_reserved_page_count", BIGINT, true),
        ("mixed_extent_page_count", BIGINT, true),
        ("modified_extent_page_count", BIGINT, true),
    ]);
    let mut modified = db.space.modified_data_pages;
    for (f, used) in used_pages_by_file(db) {
        let total = f.size_bytes() / PAGE;
        // Whole extents of eight pages, as SQL Server allocates them.
        let allocated = used.div_ceil(8).saturating_mul(8).min(total);
        let changed = modified
            .min(used)
            .div_ceil(8)
            .saturating_mul(8)
            .min(allocated);
        modified = modified.saturating_sub(used);
        t.push(vec![
            int(db.database_id),
            int(f.file_id),
            int(f.data_space_id),
            big(total),
            big(allocated),
            big(total - allocated),
            big(0),
            big(allocated),
            big(0),
            big(0),
            big(changed),
        ]);
    }
    t
}

/// An LSN as `dm_db_log_stats` prints it: `vlf:block:slot` in hex (`0000002A:00000080:0001`).
fn lsn_text(lsn: Option<Lsn>) -> Value {
    lsn.map_or(Value::Null, |l| {
        let vlf = l / 1_000_000_000_000_000;
        let block = (l / 100_000) % 10_000_000_000;
        let slot = l % 100_000;
        Value::String(format!("{vlf:08X}:{block:08X}:{slot:04X}"))
    })
}

/// The start of the database's newest log backup in msdb.
fn last_log_backup(snap: &ServerSnapshot, db: &DatabaseInfo) -> Option<(DateTime, Lsn)> {
    snap.msdb
        .backups_of(&db.name)
        .filter(|b| b.record.backup_type == BackupType::Log)
        .map(|b| (b.record.backup_start_date, b.record.last_lsn))
        .max_by_key(|(d, _)| *d)
}

/// `sys.dm_db_log_stats(database_id)`: one row for the database (none for an unknown one);
/// `log_backup_time` is 1900-01-01 when it has no log backup, as in SQL Server.
#[must_use]
pub fn dm_db_log_stats(snap: &ServerSnapshot, db: Option<&DatabaseInfo>) -> Table {
    let mut t = table(&[
        ("database_id", INT, false),
        ("recovery_model", DESC, true),
        ("log_min_lsn", nvarchar(24), true),
        ("log_end_lsn", nvarchar(24), true),
        ("current_vlf_sequence_number", BIGINT, true),
        ("current_vlf_size_mb", SqlType::Float, true),
        ("total_vlf_count", BIGINT, true),
        ("total_log_size_mb", SqlType::Float, true),
        ("active_vlf_count", BIGINT, true),
        ("active_log_size_mb", SqlType::Float, true),
        ("log_truncation_holdup_reason", DESC, true),
        ("log_backup_time", DATETIME, true),
        ("log_backup_lsn", nvarchar(24), true),
        ("log_since_last_log_backup_mb", SqlType::Float, true),
        ("log_checkpoint_lsn", nvarchar(24), true),
        ("log_since_last_checkpoint_mb", SqlType::Float, true),
        ("log_recovery_lsn", nvarchar(24), true),
        ("log_recovery_size_mb", SqlType::Float, true),
        ("recovery_vlf_count", BIGINT, true),
    ]);
    let Some(db) = db else {
        return t;
    };
    let total = file_bytes(db, FileType::Log);
    let used = log_used(db);
    let active_vlfs = used.div_ceil((total / VLFS).max(1)).clamp(1, VLFS);
    let backup = last_log_backup(snap, db);
    let backup_lsn = backup.map(|(_, l)| l).or(db.last_log_backup_lsn);
    let end = db.space.end_lsn;
    t.push(vec![
        int(db.database_id),
        text(db.recovery_model.desc()),
        lsn_text(backup_lsn.or(end)),
        lsn_text(end),
        big(active_vlfs),
        mb(total / VLFS),
        big(VLFS),
        mb(total),
        big(active_vlfs),
        mb(used),
        text(db.log_reuse_wait.desc()),
        opt_datetime(
            backup
                .map(|(d, _)| d)
                .or(DateTime::from_parts(1900, 1, 1, 0, 0, 0, 0)),
        ),
        lsn_text(Some(backup_lsn.unwrap_or(0))),
        mb(used),
        lsn_text(end),
        mb(0),
        lsn_text(end),
        mb(0),
        big(1),
    ]);
    t
}

/// `sys.dm_io_virtual_file_stats(database_id, file_id)`: one row per file; `NULL` for either
/// means all. The engine keeps no I/O counters: the reads and writes are zero, the size on
/// disk is the file's size.
#[must_use]
pub fn dm_io_virtual_file_stats(
    snap: &ServerSnapshot,
    database_id: Option<i64>,
    file_id: Option<i64>,
) -> Table {
    let mut t = table(&[
        ("database_id", SMALLINT, false),
        ("file_id", SMALLINT, false),
        ("sample_ms", BIGINT, false),
        ("num_of_reads", BIGINT, false),
        ("num_of_bytes_read", BIGINT, false),
        ("io_stall_read_ms", BIGINT, false),
        ("io_stall_queued_read_ms", BIGINT, false),
        ("num_of_writes", BIGINT, false),
        ("num_of_bytes_written", BIGINT, false),
        ("io_stall_write_ms", BIGINT, false),
        ("io_stall_queued_write_ms", BIGINT, false),
        ("io_stall", BIGINT, false),
        ("size_on_disk_bytes", BIGINT, false),
        ("file_handle", SqlType::VarBinary(Some(8)), false),
    ]);
    for db in snap
        .databases
        .iter()
        .filter(|d| database_id.is_none_or(|id| i64::from(d.database_id) == id))
    {
        for f in files_of(db, file_id) {
            let mut row = vec![int(db.database_id), int(f.file_id)];
            row.extend(std::iter::repeat_n(big(0), 10));
            row.push(big(f.size_bytes()));
            row.push(binary(&f.file_guid[..8]));
            t.push(row);
        }
    }
    t
}

/// `sys.dm_os_volume_stats(database_id, file_id)`: the volume a file is on. vdisim's files
/// are not on disk; every one is shown on a 64 GiB `/` volume whose free space is what the
/// databases' files leave.
#[must_use]
pub fn dm_os_volume_stats(snap: &ServerSnapshot, database_id: i64, file_id: i64) -> Table {
    let mut t = table(&[
        ("database_id", INT, false),
        ("file_id", INT, false),
        ("volume_mount_point", nvarchar(256), true),
        ("volume_id", nvarchar(256), true),
        ("logical_volume_name", nvarchar(256), true),
        ("file_system_type", nvarchar(256), true),
        ("total_bytes", BIGINT, false),
        ("available_bytes", BIGINT, false),
        ("supports_compression", TINYINT, true),
        ("supports_alternate_streams", TINYINT, true),
        ("supports_sparse_files", TINYINT, true),
        ("is_read_only", TINYINT, true),
        ("is_compressed", TINYINT, true),
        ("incurs_seek_penalty", TINYINT, true),
    ]);
    let Some(db) = snap
        .databases
        .iter()
        .find(|d| i64::from(d.database_id) == database_id)
    else {
        return t;
    };
    let in_use: u64 = snap
        .databases
        .iter()
        .flat_map(|d| &d.files)
        .map(DatabaseFile::size_bytes)
        .sum();
    for f in files_of(db, Some(file_id)) {
        t.push(vec![
            int(db.database_id),
            int(f.file_id),
            text("/"),
            text("/"),
            text(""),
            text("ext4"),
            big(VOLUME_BYTES),
            big(VOLUME_BYTES.saturating_sub(in_use)),
            int(0),
            int(0),
            int(1),
            int(0),
            int(0),
            Value::Null,
        ]);
    }
    t
}
