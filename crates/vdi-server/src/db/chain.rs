//! The restore side of a backup chain: full, then optionally a differential, then logs in order.

use super::{BackupImage, BackupKind, Database, Lsn, page::PAGE_SIZE};

/// Why a backup cannot be applied in the current restore sequence, with the engine's message
/// numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// Msg 4305: the log starts after the point the database has been restored to.
    #[error(
        "The log in this backup set begins at LSN {first_lsn}, which is too recent to apply to the database. An earlier log backup that includes LSN {point} can be restored."
    )]
    LogTooRecent {
        /// First LSN of the log backup.
        first_lsn: Lsn,
        /// Last LSN of the log backup.
        last_lsn: Lsn,
        /// Where the restored database stands.
        point: Lsn,
    },
    /// Msg 4326: the log ends before the point the database has been restored to.
    #[error(
        "The log in this backup set terminates at LSN {last_lsn}, which is too early to apply to the database. A more recent log backup that includes LSN {point} can be restored."
    )]
    LogTooEarly {
        /// First LSN of the log backup.
        first_lsn: Lsn,
        /// Last LSN of the log backup.
        last_lsn: Lsn,
        /// Where the restored database stands.
        point: Lsn,
    },
    /// Msg 3117: a differential or log backup without a full backup restored first.
    #[error(
        "The log or differential backup cannot be restored because no files are ready to rollforward."
    )]
    NothingToRollForward,
    /// Msg 3136: the differential is not based on the full backup that was restored, or logs
    /// have already been applied.
    #[error(
        "This differential backup cannot be restored because the database has not been restored to the correct earlier state. (differential base LSN {differential_base_lsn}, restored full backup checkpoint LSN {full_checkpoint_lsn})"
    )]
    DifferentialBaseMismatch {
        /// The differential's base.
        differential_base_lsn: Lsn,
        /// The checkpoint of the full backup that was restored.
        full_checkpoint_lsn: Lsn,
    },
    /// Msg 3154: the backup belongs to another database.
    #[error(
        "The backup set holds a backup of a database other than the existing '{database}' database."
    )]
    DifferentDatabase {
        /// The database being restored.
        database: String,
    },
    /// Msg 3013-class: after applying the backup the database is not in the state the backup
    /// recorded (a broken chain or a wrong image).
    #[error(
        "the restored state does not match the state recorded in the backup (expected {expected:#018x}, got {found:#018x})"
    )]
    StateMismatch {
        /// State hash recorded in the backup.
        expected: u64,
        /// State hash after applying it.
        found: u64,
    },
    /// Msg 3013-class: the image is internally inconsistent (wrong page count, page out of
    /// range).
    #[error("the backup image is inconsistent: {reason}")]
    Inconsistent {
        /// What is wrong.
        reason: &'static str,
    },
}

impl ChainError {
    /// SQL Server's message number for this error.
    #[must_use]
    pub fn msg_number(&self) -> u32 {
        match self {
            ChainError::LogTooRecent { .. } => 4305,
            ChainError::LogTooEarly { .. } => 4326,
            ChainError::NothingToRollForward => 3117,
            ChainError::DifferentialBaseMismatch { .. } => 3136,
            ChainError::DifferentDatabase { .. } => 3154,
            ChainError::Inconsistent { .. } | ChainError::StateMismatch { .. } => 3013,
        }
    }
}

/// A restore sequence in progress (RESTORE ... WITH NORECOVERY, repeatedly).
#[derive(Debug, Clone, Default)]
pub struct RestoreState {
    db: Option<Database>,
    full_checkpoint: Lsn,
    point: Lsn,
    logs_applied: u32,
    differential_applied: bool,
}

impl RestoreState {
    /// Nothing restored yet.
    #[must_use]
    pub fn new() -> Self {
        RestoreState::default()
    }

    /// The LSN the database has been rolled forward to, once a full backup is restored.
    #[must_use]
    pub fn point(&self) -> Option<Lsn> {
        self.db.as_ref().map(|_| self.point)
    }

    /// The database as restored so far.
    #[must_use]
    pub fn database(&self) -> Option<&Database> {
        self.db.as_ref()
    }

    /// Applies the next backup of the sequence. A full backup always starts a new sequence.
    /// After applying, the database must be in the state the backup recorded; if it is not,
    /// the restore sequence is abandoned (as after a failed RESTORE).
    pub fn apply(&mut self, image: &BackupImage) -> Result<(), ChainError> {
        self.apply_unchecked(image)?;
        let found = self.db.as_ref().map_or(0, Database::state_hash);
        if found != image.meta.state_hash {
            *self = RestoreState::new();
            return Err(ChainError::StateMismatch {
                expected: image.meta.state_hash,
                found,
            });
        }
        Ok(())
    }

    fn apply_unchecked(&mut self, image: &BackupImage) -> Result<(), ChainError> {
        let meta = &image.meta;
        match meta.kind {
            BackupKind::Full => {
                let pages = meta.db_pages as usize;
                if image.pages.len() != pages
                    || meta.db_pages.checked_mul(PAGE_SIZE as u64).is_none()
                {
                    return Err(ChainError::Inconsistent {
                        reason: "a full backup must hold every page once",
                    });
                }
                let mut versions = vec![0u32; pages];
                let mut lsns = vec![0; pages];
                for (i, p) in image.pages.iter().enumerate() {
                    if p.page != i as u64 {
                        return Err(ChainError::Inconsistent {
                            reason: "a full backup must hold every page once, in order",
                        });
                    }
                    versions[i] = p.version;
                    lsns[i] = p.lsn;
                }
                self.db = Some(Database::from_restored(
                    meta,
                    versions,
                    lsns,
                    image.filestream.clone(),
                ));
                self.full_checkpoint = meta.checkpoint_lsn;
                self.point = meta.last_lsn;
                self.logs_applied = 0;
                self.differential_applied = false;
                Ok(())
            }
            BackupKind::Differential => {
                let db = self.db.as_mut().ok_or(ChainError::NothingToRollForward)?;
                if db.content_key() != meta.content_key {
                    return Err(ChainError::DifferentDatabase {
                        database: db.name().to_owned(),
                    });
                }
                if self.differential_applied
                    || self.logs_applied > 0
                    || meta.differential_base_lsn != self.full_checkpoint
                {
                    return Err(ChainError::DifferentialBaseMismatch {
                        differential_base_lsn: meta.differential_base_lsn,
                        full_checkpoint_lsn: self.full_checkpoint,
                    });
                }
                if meta.db_pages != db.page_count()
                    || image.pages.iter().any(|p| p.page >= meta.db_pages)
                {
                    return Err(ChainError::Inconsistent {
                        reason: "differential pages outside the data file",
                    });
                }
                db.apply_pages(&image.pages);
                db.set_next_lsn(meta.last_lsn);
                self.point = meta.last_lsn;
                self.differential_applied = true;
                Ok(())
            }
            BackupKind::Log => {
                let db = self.db.as_mut().ok_or(ChainError::NothingToRollForward)?;
                if db.content_key() != meta.content_key {
                    return Err(ChainError::DifferentDatabase {
                        database: db.name().to_owned(),
                    });
                }
                let (first_lsn, last_lsn, point) = (meta.first_lsn, meta.last_lsn, self.point);
                if first_lsn > point {
                    return Err(ChainError::LogTooRecent {
                        first_lsn,
                        last_lsn,
                        point,
                    });
                }
                if last_lsn < point || (last_lsn == point && first_lsn < last_lsn) {
                    return Err(ChainError::LogTooEarly {
                        first_lsn,
                        last_lsn,
                        point,
                    });
                }
                if image.log.iter().any(|r| r.page >= db.page_count()) {
                    return Err(ChainError::Inconsistent {
                        reason: "log record for a page outside the data file",
                    });
                }
                db.apply_log(&image.log, point);
                db.set_next_lsn(last_lsn);
                self.point = last_lsn;
                self.logs_applied += 1;
                Ok(())
            }
        }
    }

    /// RESTORE ... WITH RECOVERY: the database as restored.
    pub fn recover(self) -> Result<Database, ChainError> {
        self.db.ok_or(ChainError::NothingToRollForward)
    }
}
