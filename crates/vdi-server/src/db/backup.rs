//! The BACKUP side of a database: what each kind of backup holds and how a successful one
//! moves the differential base and the log chain, following SQL Server's rules.
//!
//! Every backup writes log records of its own in SQL Server (the checkpoint, the end of the
//! backup), so the LSN moves on even when nothing else changed: a log backup taken right after
//! a full backup always ends after the full backup's last LSN and therefore restores after it.
//! vdisim models this with one LSN for the checkpoint of a full or differential backup and one
//! for the end of every successful backup.

use super::{BackupImage, BackupKind, BackupMeta, Database, LogRecord, Lsn, PageEntry};
use super::{RecoveryModel, image::BackupInfo};

/// Errors of BACKUP, with the engine's message numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// Msg 4208.
    #[error(
        "The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. Use BACKUP DATABASE or change the recovery model using ALTER DATABASE."
    )]
    LogBackupInSimpleRecovery {
        /// Database name.
        database: String,
    },
    /// Msg 4214.
    #[error("BACKUP LOG cannot be performed because there is no current database backup.")]
    NoCurrentDatabaseBackupForLog {
        /// Database name.
        database: String,
    },
    /// Msg 3035.
    #[error(
        "Cannot perform a differential backup for database \"{database}\", because a current database backup does not exist. Perform a full database backup by reissuing BACKUP DATABASE, omitting the WITH DIFFERENTIAL option."
    )]
    NoBaseForDifferential {
        /// Database name.
        database: String,
    },
}

impl BackupError {
    /// SQL Server's message number for this error.
    #[must_use]
    pub fn msg_number(&self) -> u32 {
        match self {
            BackupError::LogBackupInSimpleRecovery { .. } => 4208,
            BackupError::NoCurrentDatabaseBackupForLog { .. } => 4214,
            BackupError::NoBaseForDifferential { .. } => 3035,
        }
    }
}

/// What a BACKUP statement asks of the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupRequest {
    pub kind: BackupKind,
    /// COPY_ONLY (ignored for differentials, as SQL Server ignores it).
    pub copy_only: bool,
    /// FILE = / FILEGROUP = (or the read-write filegroups of a partial backup): the data
    /// files to back up, by `file_id`; `None` for all of them.
    pub scope: Option<Vec<i32>>,
    /// READ_WRITE_FILEGROUPS.
    pub partial: bool,
}

impl BackupRequest {
    #[must_use]
    pub fn new(kind: BackupKind) -> Self {
        BackupRequest {
            kind,
            ..BackupRequest::default()
        }
    }
}

impl Database {
    /// Starts a backup: takes a checkpoint (full, differential) and returns what the backup
    /// contains. Call [`Database::commit_backup`] once the backup succeeded; a failed backup
    /// changes nothing but the LSN.
    pub fn prepare_backup(&mut self, kind: BackupKind) -> Result<BackupImage, BackupError> {
        self.prepare(&BackupRequest::new(kind))
    }

    /// [`Database::prepare_backup`] with the statement's options.
    pub fn prepare(&mut self, request: &BackupRequest) -> Result<BackupImage, BackupError> {
        let kind = request.kind;
        let copy_only = request.copy_only && kind != BackupKind::Differential;
        let (pages, log, filestream, first, checkpoint, base) = match kind {
            BackupKind::Full => {
                let checkpoint = self.take_checkpoint();
                if self.recovery == RecoveryModel::Full
                    && self.log_retained_from.is_none()
                    && !copy_only
                {
                    self.log_retained_from = Some(checkpoint);
                }
                let pages = self.pages_where(|_| true);
                let base = self.differential_base.unwrap_or(0);
                let fs = self.filestream.clone();
                (pages, Vec::new(), fs, checkpoint, checkpoint, base)
            }
            BackupKind::Differential => {
                let Some(base) = self.differential_base else {
                    return Err(BackupError::NoBaseForDifferential {
                        database: self.name.clone(),
                    });
                };
                let checkpoint = self.take_checkpoint();
                let pages = self.pages_where(|lsn| lsn > base);
                (pages, Vec::new(), Vec::new(), checkpoint, checkpoint, base)
            }
            BackupKind::Log => {
                if self.recovery == RecoveryModel::Simple {
                    return Err(BackupError::LogBackupInSimpleRecovery {
                        database: self.name.clone(),
                    });
                }
                let Some(first) = self.log_backup_point else {
                    return Err(BackupError::NoCurrentDatabaseBackupForLog {
                        database: self.name.clone(),
                    });
                };
                let last = self.next_lsn;
                let log: Vec<LogRecord> = self
                    .log
                    .iter()
                    .filter(|r| r.lsn >= first && r.lsn < last)
                    .copied()
                    .collect();
                // The checkpoint is the last one a data backup took, as SQL Server's log
                // backups name the database's last checkpoint.
                let checkpoint = self.last_checkpoint.unwrap_or(first);
                (Vec::new(), log, Vec::new(), first, checkpoint, 0)
            }
        };
        let (mut sql_files, filegroups) = self.sql_files();
        let scope = request.scope.clone().filter(|_| kind != BackupKind::Log);
        let (pages, filestream) = match &scope {
            None => (pages, filestream),
            Some(ids) => {
                let ranges: Vec<_> = sql_files
                    .iter()
                    .filter(|f| ids.contains(&f.file_id))
                    .map(super::SqlFile::pages)
                    .collect();
                let pages = pages
                    .into_iter()
                    .filter(|p| ranges.iter().any(|r| r.contains(&p.page)))
                    .collect();
                // FILESTREAM data goes only into whole-database and partial backups.
                let fs = if request.partial {
                    filestream
                } else {
                    Vec::new()
                };
                (pages, fs)
            }
        };
        for f in &mut sql_files {
            f.present = match (kind, &scope) {
                (BackupKind::Log, _) => f.kind == super::FileKind::Log,
                (_, None) => true,
                (_, Some(ids)) => {
                    f.kind == super::FileKind::Log
                        || ids.contains(&f.file_id)
                        || (request.partial && f.kind == super::FileKind::Filestream)
                }
            };
        }
        let mut stream_files = self.files();
        if filestream.is_empty() {
            stream_files.retain(|f| f.kind != super::FileKind::Filestream);
        }
        let last = self.next_lsn;
        let marks = if kind == BackupKind::Log {
            self.marks
                .iter()
                .filter(|m| m.lsn >= first && m.lsn < last)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let info = BackupInfo {
            database_backup_lsn: match kind {
                BackupKind::Differential => base,
                _ => self.differential_base.unwrap_or(0),
            },
            copy_only,
            start: Some(self.clock),
            marks,
            last_valid_restore_time: (kind == BackupKind::Log).then_some(self.clock),
            begins_log_chain: kind == BackupKind::Log && self.log_chain_begins,
            file_scope: scope,
            partial: request.partial && kind != BackupKind::Log,
            files: sql_files,
            filegroups,
            ..BackupInfo::default()
        };
        let meta = BackupMeta {
            database: self.name.clone(),
            kind,
            recovery: self.recovery,
            seed: self.seed,
            content_key: self.content_key,
            first_lsn: first,
            last_lsn: last,
            checkpoint_lsn: checkpoint,
            differential_base_lsn: base,
            db_pages: self.page_count(),
            log_file_bytes: self.log_file_bytes,
            files: stream_files,
            state_hash: self.state_hash(),
            info,
        };
        Ok(BackupImage {
            meta,
            pages,
            log,
            filestream,
        })
    }

    /// Records a successful backup: a full one becomes the differential base (and starts the
    /// log chain in FULL recovery); a log backup moves the chain on and truncates the log it
    /// contains. A COPY_ONLY backup changes neither. Every backup ends with a log record of
    /// its own, so the LSN moves on by one.
    pub fn commit_backup(&mut self, meta: &BackupMeta) {
        let copy_only = meta.info.copy_only;
        match meta.kind {
            BackupKind::Full if !copy_only => {
                self.differential_base = Some(meta.checkpoint_lsn);
                if self.recovery == RecoveryModel::Full && self.log_backup_point.is_none() {
                    self.log_backup_point = Some(meta.first_lsn);
                    self.log_chain_begins = true;
                }
            }
            BackupKind::Log if !copy_only => {
                self.log_backup_point = Some(meta.last_lsn);
                self.log.retain(|r| r.lsn >= meta.last_lsn);
                self.log_chain_begins = false;
            }
            _ => {}
        }
        self.next_lsn = self.next_lsn.max(meta.last_lsn) + 1;
    }

    /// The full backup's checkpoint the next differential will be based on.
    #[must_use]
    pub fn differential_base(&self) -> Option<Lsn> {
        self.differential_base
    }

    /// Where the next log backup starts, if the log chain is running.
    #[must_use]
    pub fn log_backup_point(&self) -> Option<Lsn> {
        self.log_backup_point
    }

    /// After a restore sequence recovered the database at `point` from a full backup whose
    /// checkpoint was `full_checkpoint`: that full backup is the differential base, and in
    /// FULL recovery the log chain goes on from the recovery point.
    pub(crate) fn resume_after_restore(&mut self, full_checkpoint: Lsn, point: Lsn) {
        self.differential_base = Some(full_checkpoint);
        if self.recovery == RecoveryModel::Full {
            self.log_retained_from = Some(point);
            self.log_backup_point = Some(point);
        }
    }

    fn take_checkpoint(&mut self) -> Lsn {
        let lsn = self.next_lsn;
        self.next_lsn += 1;
        self.last_checkpoint = Some(lsn);
        lsn
    }

    fn pages_where(&self, keep: impl Fn(Lsn) -> bool) -> Vec<PageEntry> {
        self.page_versions
            .iter()
            .zip(&self.page_lsns)
            .enumerate()
            .filter(|(_, (_, lsn))| keep(**lsn))
            .map(|(page, (&version, &lsn))| PageEntry {
                page: page as u64,
                version,
                lsn,
            })
            .collect()
    }
}
