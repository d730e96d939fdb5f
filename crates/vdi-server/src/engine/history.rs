//! What a finished BACKUP or RESTORE writes to msdb, and the progress a running one shows in
//! `sys.dm_exec_requests`.

use std::time::Duration;

use super::datetime_now;
use super::jobs::JobContext;
use crate::db::{BackupKind as DbBackupKind, BackupMeta, FileKind};
use crate::tsql::catalog::DatabaseInfo;
use crate::tsql::catalog::model::derived_guid;
use crate::tsql::msdb::{BackupRecord, BackupType, RestoreFileRecord, RestoreRecord, RestoreType};
use crate::tsql::value::DateTime;
use crate::tsql::{BackupStatement, RecoveryOption, RestoreKind, RestoreStatement, StopPoint};

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

/// The msdb record of a backup set as its header describes it (what RESTORE records when
/// this msdb has not seen the backup, and the base of what BACKUP records).
fn record_from_meta(
    db: &DatabaseInfo,
    meta: &BackupMeta,
    devices: &[&str],
    start: DateTime,
    finish: DateTime,
    bytes: u64,
) -> BackupRecord {
    let info = &meta.info;
    let mut record = BackupRecord::for_database(db, backup_type(meta), devices, start, finish);
    if info.backup_set_guid != [0; 16] {
        record.backup_set_uuid = info.backup_set_guid;
    }
    record.first_lsn = u128::from(meta.first_lsn);
    record.last_lsn = u128::from(meta.last_lsn);
    record.checkpoint_lsn = u128::from(meta.checkpoint_lsn);
    record.database_backup_lsn = u128::from(info.database_backup_lsn);
    if meta.kind == DbBackupKind::Differential {
        record.differential_base_lsn = Some(u128::from(meta.differential_base_lsn));
        record.differential_base_guid = info.differential_base_guid;
    }
    record.is_copy_only = info.copy_only;
    record.expiration_date = info.expiration;
    record.last_valid_restore_time = info.last_valid_restore_time;
    record.begins_log_chain = info.begins_log_chain;
    record.is_force_offline = info.force_offline;
    record.backup_size = bytes;
    record.compressed_backup_size = bytes;
    record.media.name.clone_from(&info.media_name);
    record.media.description.clone_from(&info.media_description);
    record.key_algorithm = info.encryption.as_ref().map(|a| a.to_ascii_lowercase());
    if info.encryption.is_some() {
        record.encryptor_type = Some("CERTIFICATE".to_owned());
        record.media.is_encrypted = true;
    }
    if !info.user_name.is_empty() {
        record.user_name.clone_from(&info.user_name);
    }
    record
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
    pub(crate) fn database_info_or_default(&self, name: &str) -> DatabaseInfo {
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
        let mut record = record_from_meta(&db, meta, &devices, start, finish, bytes);
        record.name.clone_from(&stmt.options.name);
        record.description.clone_from(&stmt.options.description);
        record.media.media_uuid = derived_guid(
            &format!("{}{:?}", stmt.database, finish),
            u64::from(finish.ticks as u32),
        );
        if let Some(block) = stmt.options.transfer.block_size {
            record.media.physical_block_size = i32::try_from(block).unwrap_or(512);
        }
        if stmt.options.compression == Some(true) {
            record.media.is_compressed = true;
            record.compression_algorithm = Some(
                stmt.options
                    .compression_algorithm
                    .clone()
                    .unwrap_or_else(|| "MS_XPRESS".to_owned()),
            );
        }
        if let Some(e) = &stmt.options.encryption {
            record.encryptor_type = Some(e.encryptor_type.clone());
        }
        record.user_name = self.user().to_owned();
        record.server_name = self.server_name().to_owned();
        record.machine_name = self.server_name().to_owned();
        record.has_backup_checksums = stmt.options.checksum == Some(true);
        record.is_snapshot = stmt.options.snapshot;
        if meta.kind == DbBackupKind::Log {
            for file in &mut record.files {
                file.is_present = file.file_type == crate::tsql::catalog::FileType::Log;
            }
        }
        self.engine().lock_msdb().record_backup(record);
        if meta.kind == DbBackupKind::Log && !meta.info.copy_only {
            let _ = self.update_database(&stmt.database, |d| {
                if d.has_sql_info() {
                    d.sql_info_mut().last_log_backup_lsn = Some(u128::from(meta.last_lsn));
                }
            });
        }
        self.engine().save_msdb()
    }

    /// Writes a finished RESTORE (or a VERIFYONLY WITH LOADHISTORY) to msdb's restorehistory,
    /// recording the backup set first if this msdb has never seen it, as SQL Server does, and
    /// persists the history.
    pub fn record_restore(
        &self,
        stmt: &RestoreStatement,
        meta: &BackupMeta,
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
                let start = meta.info.start.unwrap_or(finish);
                let end = meta.info.finish.unwrap_or(finish);
                let mut record = record_from_meta(&db, meta, &devices, start, end, bytes);
                record.server_name = if meta.info.server_name.is_empty() {
                    self.server_name().to_owned()
                } else {
                    meta.info.server_name.clone()
                };
                self.engine().lock_msdb().record_backup(record)
            }
        };
        let restore_type = match (stmt.kind, meta.kind) {
            (RestoreKind::VerifyOnly, _) => RestoreType::VerifyOnly,
            (RestoreKind::Log, _) | (_, DbBackupKind::Log) => RestoreType::Log,
            (_, DbBackupKind::Differential) => RestoreType::Differential,
            _ if !stmt.files.filegroups.is_empty() => RestoreType::Filegroup,
            _ if !stmt.files.files.is_empty() => RestoreType::File,
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
        match &stmt.options.stop {
            Some(StopPoint::At(t)) => record.stop_at = Some(*t),
            Some(StopPoint::AtMark { mark, after }) => {
                record.stop_at_mark_name = Some(mark.clone());
                record.stop_before = Some(false);
                record.stop_at = *after;
            }
            Some(StopPoint::BeforeMark { mark, after }) => {
                record.stop_at_mark_name = Some(mark.clone());
                record.stop_before = Some(true);
                record.stop_at = *after;
            }
            None => {}
        }
        if stmt.kind != RestoreKind::VerifyOnly {
            for (i, f) in meta.files.iter().enumerate() {
                if f.kind == FileKind::Filestream {
                    continue;
                }
                let destination_physical_name = stmt
                    .options
                    .moves
                    .iter()
                    .find(|m| m.logical_name.eq_ignore_ascii_case(&f.logical_name))
                    .map_or_else(|| f.physical_name.clone(), |m| m.physical_name.clone());
                record.files.push(RestoreFileRecord {
                    file_number: i32::try_from(i + 1).unwrap_or(i32::MAX),
                    destination_physical_name,
                });
            }
        }
        record.filegroups.clone_from(&stmt.files.filegroups);
        self.engine().lock_msdb().record_restore(record);
        self.engine().save_msdb()
    }
}
