//! What a finished BACKUP or RESTORE writes to msdb, and the progress a running one shows in
//! `sys.dm_exec_requests`.

use std::time::Duration;

use super::datetime_now;
use super::jobs::JobContext;
use crate::db::{BackupKind as DbBackupKind, BackupMeta};
use crate::tsql::catalog::model::derived_guid;
use crate::tsql::catalog::{DatabaseInfo, RecoveryModel};
use crate::tsql::msdb::{BackupRecord, BackupType, MediaRecord, RestoreRecord, RestoreType};
use crate::tsql::value::DateTime;
use crate::tsql::{BackupStatement, RecoveryOption, RestoreKind, RestoreStatement};

/// `start` moved back by `elapsed`.
fn minus(end: DateTime, elapsed: Duration) -> DateTime {
    let ticks_per_day = 864_000_000_000u64;
    let total = i128::from(end.days) * i128::from(ticks_per_day) + i128::from(end.ticks)
        - i128::try_from(elapsed.as_nanos() / 100).unwrap_or(0);
    DateTime {
        days: i32::try_from(total.div_euclid(i128::from(ticks_per_day))).unwrap_or(0),
        ticks: u64::try_from(total.rem_euclid(i128::from(ticks_per_day))).unwrap_or(0),
    }
}

fn backup_type(meta: &BackupMeta) -> BackupType {
    match meta.kind {
        DbBackupKind::Full => BackupType::Database,
        DbBackupKind::Differential => BackupType::Differential,
        DbBackupKind::Log => BackupType::Log,
    }
}

impl JobContext<'_> {
    /// Shows how far the running job is (0–100) in `sys.dm_exec_requests`.
    pub fn report_progress(&self, percent: u32) {
        let elapsed = self.elapsed();
        let percent = percent.min(100);
        let remaining_ms = if percent == 0 {
            0
        } else {
            let total = elapsed.as_millis() * 100 / u128::from(percent);
            i64::try_from(total.saturating_sub(elapsed.as_millis())).unwrap_or(i64::MAX)
        };
        self.engine()
            .report_progress(self.session_id(), percent as f32, remaining_ms);
    }

    /// The database's catalog metadata, or a default one for a name the catalog lacks.
    fn database_info_or_default(&self, name: &str) -> DatabaseInfo {
        self.engine()
            .database_info(name)
            .unwrap_or_else(|| DatabaseInfo::new(0, name, datetime_now()))
    }

    /// Writes a finished BACKUP to msdb (backupset, backupmediaset, backupmediafamily,
    /// backupfile, backupfilegroup), as SQL Server does, and persists the history.
    pub fn record_backup(
        &self,
        stmt: &BackupStatement,
        meta: &BackupMeta,
        elapsed: Duration,
        bytes: u64,
    ) -> Result<(), String> {
        let db = self.database_info_or_default(&stmt.database);
        let finish = datetime_now();
        let start = minus(finish, elapsed);
        let devices: Vec<&str> = stmt.devices.iter().map(String::as_str).collect();
        let mut record =
            BackupRecord::for_database(&db, backup_type(meta), &devices, start, finish);
        record.first_lsn = u128::from(meta.first_lsn);
        record.last_lsn = u128::from(meta.last_lsn);
        record.checkpoint_lsn = u128::from(meta.checkpoint_lsn);
        // The checkpoint of the full backup the chain hangs on: for a full backup, the one
        // before it (what the stream records); for differential and log backups, the last full.
        record.database_backup_lsn = match meta.kind {
            DbBackupKind::Full => u128::from(meta.differential_base_lsn),
            _ => self
                .snapshot(&stmt.database)
                .and_then(|d| d.differential_base())
                .map_or(0, u128::from),
        };
        if meta.kind == DbBackupKind::Differential {
            record.differential_base_lsn = Some(u128::from(meta.differential_base_lsn));
        }
        record.is_copy_only = stmt.options.copy_only && meta.kind != DbBackupKind::Differential;
        record.backup_size = bytes;
        record.compressed_backup_size = bytes;
        record.name.clone_from(&stmt.options.name);
        record.description.clone_from(&stmt.options.description);
        record.media = MediaRecord::virtual_devices(
            derived_guid(
                &format!("{}{:?}", stmt.database, finish),
                u64::from(finish.ticks as u32),
            ),
            &devices,
        );
        record.media.name.clone_from(&stmt.options.media_name);
        if let Some(block) = stmt.options.transfer.block_size {
            record.media.physical_block_size = i32::try_from(block).unwrap_or(512);
        }
        if stmt.options.compression == Some(true) {
            record.media.is_compressed = true;
            record.compression_algorithm = Some("MS_XPRESS".to_owned());
        }
        record.user_name = self.user().to_owned();
        record.server_name = self.server_name().to_owned();
        record.machine_name = self.server_name().to_owned();
        record.has_backup_checksums = stmt.options.checksum == Some(true);
        record.begins_log_chain = meta.kind == DbBackupKind::Log
            && db.last_log_backup_lsn.is_none()
            && db.recovery_model != RecoveryModel::Simple;
        record.is_force_offline = matches!(stmt.options.recovery, Some(RecoveryOption::NoRecovery));
        self.engine().lock_msdb().record_backup(record);
        if meta.kind == DbBackupKind::Log {
            let _ = self.update_database(&stmt.database, |d| {
                d.sql_info_mut().last_log_backup_lsn = Some(u128::from(meta.last_lsn));
            });
        }
        self.engine().save_msdb()
    }

    /// Writes a finished RESTORE to msdb's restorehistory (recording the backup set first if
    /// this msdb has never seen it, as SQL Server does) and persists the history.
    pub fn record_restore(
        &self,
        stmt: &RestoreStatement,
        meta: &BackupMeta,
        _elapsed: Duration,
        bytes: u64,
    ) -> Result<(), String> {
        let destination = stmt.database.clone().unwrap_or_default();
        let finish = datetime_now();
        let kind = backup_type(meta);
        let known = {
            let msdb = self.engine().lock_msdb();
            msdb.backups_of(&meta.database)
                .filter(|set| {
                    set.record.backup_type == kind
                        && set.record.first_lsn == u128::from(meta.first_lsn)
                        && set.record.last_lsn == u128::from(meta.last_lsn)
                })
                .map(|set| set.backup_set_id)
                .last()
        };
        let backup_set_id = match known {
            Some(id) => id,
            None => {
                let db = self.database_info_or_default(&meta.database);
                let devices: Vec<&str> = stmt.devices.iter().map(String::as_str).collect();
                let mut record = BackupRecord::for_database(&db, kind, &devices, finish, finish);
                record.first_lsn = u128::from(meta.first_lsn);
                record.last_lsn = u128::from(meta.last_lsn);
                record.checkpoint_lsn = u128::from(meta.checkpoint_lsn);
                record.backup_size = bytes;
                record.compressed_backup_size = bytes;
                record.server_name = self.server_name().to_owned();
                self.engine().lock_msdb().record_backup(record)
            }
        };
        let restore_type = match (stmt.kind, meta.kind) {
            (RestoreKind::Log, _) | (_, DbBackupKind::Log) => RestoreType::Log,
            (_, DbBackupKind::Differential) => RestoreType::Differential,
            (RestoreKind::VerifyOnly, _) => RestoreType::VerifyOnly,
            _ => RestoreType::Database,
        };
        let mut record = RestoreRecord::new(&destination, backup_set_id, restore_type, finish);
        record.user_name = self.user().to_owned();
        record.replace = stmt.options.replace;
        record.recovery = !matches!(
            stmt.options.recovery,
            Some(RecoveryOption::NoRecovery | RecoveryOption::Standby(_))
        );
        record.device_count = u8::try_from(stmt.devices.len()).unwrap_or(u8::MAX);
        self.engine().lock_msdb().record_restore(record);
        self.engine().save_msdb()
    }
}
