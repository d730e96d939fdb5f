//! The restore side of a backup chain: full, then optionally a differential, then logs in order,
//! each log possibly stopping at a point in time, a mark or an LSN.
//!
//! A log backup `[first, last)` applies when the database stands at a point `p` with
//! `first <= p < last`: it holds the change at `p` and at least one after it. It ends too early
//! (4326) when `last <= p`, which is also what restoring the same log twice gives, and begins
//! too recently (4305) when `first > p`, a gap in the chain.

use tsql::value::DateTime;

use super::{BackupImage, BackupKind, Database, Lsn, epoch, page::PAGE_SIZE};

/// Why a backup cannot be applied in the current restore sequence, with SQL Server's message
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
        "This differential backup cannot be restored because the database has not been restored to the correct earlier state."
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
    /// Msg 4335: the database already stands beyond the STOPAT time.
    #[error(
        "The specified STOPAT time is too early. All or part of the database is already rolled forward beyond that point."
    )]
    StopAtTooEarly,
    /// Msg 4338: a data backup taken after the STOPAT time.
    #[error(
        "The STOPAT clause specifies a point too early to allow this backup set to be restored. Choose a different stop point or use RESTORE DATABASE WITH RECOVERY to recover at the current point."
    )]
    StopBeforeBackup,
    /// Msg 4334: `'lsn:n'` names an LSN the database has already passed.
    #[error("The named mark does not identify a valid LSN.")]
    MarkNotValid,
    /// After applying the backup the database is not in the state the backup recorded (a
    /// broken chain or damaged media): Msg 3189 with vdisim's detail.
    #[error(
        "the restored state does not match the state recorded in the backup (expected {expected:#018x}, got {found:#018x})"
    )]
    StateMismatch {
        /// State hash recorded in the backup.
        expected: u64,
        /// State hash after applying it.
        found: u64,
    },
    /// The image is internally inconsistent (wrong page count, page out of range): Msg 3189
    /// with vdisim's detail.
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
            ChainError::StopAtTooEarly => 4335,
            ChainError::StopBeforeBackup => 4338,
            ChainError::MarkNotValid => 4334,
            ChainError::Inconsistent { .. } | ChainError::StateMismatch { .. } => 3189,
        }
    }

    /// Whether the media, not the order of the restores, is at fault.
    #[must_use]
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            ChainError::Inconsistent { .. } | ChainError::StateMismatch { .. }
        )
    }
}

/// Where a point-in-time restore stops (STOPAT, STOPATMARK, STOPBEFOREMARK).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopTarget {
    /// STOPAT: every change made at or before the time.
    Time(DateTime),
    /// STOPATMARK (`before: false`, the marked transaction included) or STOPBEFOREMARK
    /// (`before: true`) with a mark name, the first mark of that name at or after `after`.
    Mark {
        name: String,
        before: bool,
        after: Option<DateTime>,
    },
    /// `'lsn:n'`: up to the change at `n` (included unless `before`).
    Lsn { lsn: Lsn, before: bool },
}

/// How far a restore step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The whole backup (no stop target).
    Complete,
    /// The stop target lies in this backup: the database stands at it.
    Stopped,
    /// The stop target lies after this backup (Msg 4322 for a time, 4329 for a mark): the
    /// database must stay restoring.
    BeforeStop,
}

/// A restore sequence in progress (RESTORE ... WITH NORECOVERY, repeatedly).
#[derive(Debug, Clone)]
pub struct RestoreState {
    db: Option<Database>,
    full_checkpoint: Lsn,
    point: Lsn,
    /// The time the database stands at (what STOPAT compares against).
    point_time: DateTime,
    logs_applied: u32,
    differential_applied: bool,
    /// Started from a live database (a tail-log backup WITH NORECOVERY): recovering it
    /// without applying anything leaves its backup history as it was.
    live: bool,
}

impl Default for RestoreState {
    fn default() -> Self {
        RestoreState {
            db: None,
            full_checkpoint: 0,
            point: 0,
            point_time: epoch(),
            logs_applied: 0,
            differential_applied: false,
            live: false,
        }
    }
}

impl RestoreState {
    /// Nothing restored yet.
    #[must_use]
    pub fn new() -> Self {
        RestoreState::default()
    }

    /// A sequence that starts from a live database as it is now (a tail-log backup WITH
    /// NORECOVERY leaves the database restoring at the end of its log).
    #[must_use]
    pub fn from_database(db: Database) -> Self {
        RestoreState {
            full_checkpoint: db.differential_base().unwrap_or(0),
            point: db.next_lsn(),
            point_time: db.clock(),
            logs_applied: 0,
            differential_applied: false,
            live: true,
            db: Some(db),
        }
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
    /// After applying a whole backup, the database must be in the state the backup recorded;
    /// if it is not, the restore sequence is abandoned (as after a failed RESTORE).
    pub fn apply(&mut self, image: &BackupImage) -> Result<(), ChainError> {
        self.apply_until(image, None).map(|_| ())
    }

    /// [`RestoreState::apply`], stopping at `stop` if it lies in this backup.
    pub fn apply_until(
        &mut self,
        image: &BackupImage,
        stop: Option<&StopTarget>,
    ) -> Result<Applied, ChainError> {
        let applied = self.apply_unchecked(image, stop)?;
        if applied == Applied::Stopped {
            return Ok(applied);
        }
        let found = self.db.as_ref().map_or(0, Database::state_hash);
        if found != image.meta.state_hash {
            *self = RestoreState::new();
            return Err(ChainError::StateMismatch {
                expected: image.meta.state_hash,
                found,
            });
        }
        Ok(applied)
    }

    fn apply_unchecked(
        &mut self,
        image: &BackupImage,
        stop: Option<&StopTarget>,
    ) -> Result<Applied, ChainError> {
        let meta = &image.meta;
        let backup_time = meta.info.start.unwrap_or_else(epoch);
        // A data backup taken after the STOPAT time cannot be part of the sequence.
        let data_stop = |stop: Option<&StopTarget>| match stop {
            Some(StopTarget::Time(t)) | Some(StopTarget::Mark { after: Some(t), .. })
                if backup_time > *t =>
            {
                Err(ChainError::StopBeforeBackup)
            }
            Some(_) => Ok(Applied::BeforeStop),
            None => Ok(Applied::Complete),
        };
        match meta.kind {
            BackupKind::Full => {
                let applied = data_stop(stop)?;
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
                let mut db =
                    Database::from_restored(meta, versions, lsns, image.filestream.clone());
                db.set_clock(backup_time);
                *self = RestoreState {
                    db: Some(db),
                    full_checkpoint: meta.checkpoint_lsn,
                    point: meta.last_lsn,
                    point_time: backup_time,
                    logs_applied: 0,
                    differential_applied: false,
                    live: false,
                };
                Ok(applied)
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
                let applied = data_stop(stop)?;
                if meta.db_pages != db.page_count()
                    || image.pages.iter().any(|p| p.page >= meta.db_pages)
                {
                    return Err(ChainError::Inconsistent {
                        reason: "differential pages outside the data file",
                    });
                }
                db.apply_pages(&image.pages);
                db.set_next_lsn(meta.last_lsn);
                db.set_clock(backup_time);
                self.point = meta.last_lsn;
                self.point_time = backup_time;
                self.differential_applied = true;
                Ok(applied)
            }
            BackupKind::Log => self.apply_log(image, stop),
        }
    }

    fn apply_log(
        &mut self,
        image: &BackupImage,
        stop: Option<&StopTarget>,
    ) -> Result<Applied, ChainError> {
        let meta = &image.meta;
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
        if last_lsn <= point {
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
        let end_time = meta.info.last_valid_restore_time.unwrap_or_else(epoch);
        // The LSN to stop at (exclusive) when the target lies in this log.
        let stop_lsn = match stop {
            None => None,
            Some(StopTarget::Time(t)) => {
                if *t < self.point_time {
                    return Err(ChainError::StopAtTooEarly);
                }
                let first_after = image
                    .log
                    .iter()
                    .find(|r| r.lsn >= point && r.time > *t)
                    .map(|r| r.lsn);
                match first_after {
                    Some(lsn) => Some(lsn),
                    None if *t < end_time => Some(last_lsn),
                    None => None,
                }
            }
            Some(StopTarget::Mark {
                name,
                before,
                after,
            }) => meta
                .info
                .marks
                .iter()
                .find(|m| m.name == *name && after.is_none_or(|t| m.time >= t))
                .map(|m| if *before { m.before_lsn() } else { m.lsn }),
            Some(StopTarget::Lsn { lsn, before }) => {
                let stop = if *before { *lsn } else { lsn + 1 };
                if stop < point {
                    return Err(ChainError::MarkNotValid);
                }
                (stop < last_lsn).then_some(stop)
            }
        };
        let end = stop_lsn.unwrap_or(last_lsn).max(point);
        let records: Vec<_> = image
            .log
            .iter()
            .filter(|r| r.lsn >= point && r.lsn < end)
            .copied()
            .collect();
        db.apply_log(&records, point);
        db.set_next_lsn(end);
        let time = records.last().map_or(self.point_time, |r| r.time);
        self.point_time = match (stop, stop_lsn) {
            (Some(StopTarget::Time(t)), Some(_)) => *t,
            (_, Some(_)) => time,
            _ => end_time.max(time),
        };
        db.set_clock(self.point_time);
        self.point = end;
        self.logs_applied += 1;
        Ok(match (stop, stop_lsn) {
            (None, _) => Applied::Complete,
            (Some(_), Some(_)) => Applied::Stopped,
            (Some(_), None) => Applied::BeforeStop,
        })
    }

    /// RESTORE ... WITH RECOVERY: the database as restored, with the restored full backup as
    /// its differential base and, in FULL recovery, its log chain going on from here.
    pub fn recover(self) -> Result<Database, ChainError> {
        let mut db = self.db.ok_or(ChainError::NothingToRollForward)?;
        if !self.live || self.logs_applied > 0 || self.differential_applied {
            db.resume_after_restore(self.full_checkpoint, self.point);
        }
        Ok(db)
    }
}
