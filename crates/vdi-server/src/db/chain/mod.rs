//! The restore side of a backup chain: full, then optionally a differential, then logs in order,
//! each log possibly stopping at a point in time, a mark or an LSN.
//!
//! A log backup `[first, last)` applies when the database stands at a point `p` with
//! `first <= p < last`: it holds the change at `p` and at least one after it. It ends too early
//! (4326) when `last <= p`, which is also what restoring the same log twice gives, and begins
//! too recently (4305) when `first > p`, a gap in the chain.

mod data;
mod log;

use std::ops::Range;

use tsql::value::DateTime;

use super::{BackupImage, Database, Lsn, SqlFile, SqlFilegroup, epoch};

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
    /// Msg 4318: WITH RECOVERY on a log that leaves restored files behind the database.
    #[error(
        "File '{file}' has been rolled forward to LSN {point}. This log terminates at LSN {end}, which is too early to apply the WITH RECOVERY option. Reissue the RESTORE LOG statement WITH NORECOVERY."
    )]
    FilesBehind {
        /// A restored file still behind.
        file: String,
        /// Where the file stands after this log.
        point: Lsn,
        /// Where the log ends.
        end: Lsn,
    },
    /// Msg 4333: RECOVERY while restored files have not been rolled forward to the database's
    /// point.
    #[error("The database cannot be recovered because the log was not restored.")]
    LogNotRestored,
    /// Msg 3103: WITH PARTIAL from a backup without the primary filegroup.
    #[error(
        "A partial restore sequence cannot be initiated by this command. To initiate a partial restore sequence, use the WITH PARTIAL clause of the RESTORE statement and provide a backup set which includes a full copy of at least the primary data file. The WITH PARTIAL clause of the RESTORE statement may not be used for any other purpose."
    )]
    PartialWithoutPrimary,
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
            ChainError::FilesBehind { .. } => 4318,
            ChainError::LogNotRestored => 4333,
            ChainError::PartialWithoutPrimary => 3103,
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
    /// Files restored from an older backup than the rest of the database (a file restore),
    /// rolled forward on their own until they reach the database's point.
    behind: Option<Behind>,
    /// A piecemeal restore: data files whose content was not restored (pages at version 0).
    missing: Vec<i32>,
    /// The file list the recovered database gets (from the data backup, after MOVE).
    layout: Option<(Vec<SqlFile>, Vec<SqlFilegroup>)>,
    /// Restores offline files into an online database: only they change.
    files_only: bool,
}

/// Restored files that are behind the rest of the database.
#[derive(Debug, Clone)]
struct Behind {
    /// The files' `file_id`s and page ranges.
    files: Vec<(i32, String, Range<u64>)>,
    /// Where they stand.
    point: Lsn,
    /// Where the rest of the database stands: the files are current once they reach it.
    target: Lsn,
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
            behind: None,
            missing: Vec::new(),
            layout: None,
            files_only: false,
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
    /// NORECOVERY leaves the database restoring at the end of its log; a piecemeal-restored
    /// database restores its offline files into itself).
    #[must_use]
    pub fn from_database(db: Database) -> Self {
        RestoreState {
            full_checkpoint: db.differential_base().unwrap_or(0),
            point: db.log_backup_point().unwrap_or_else(|| db.next_lsn()),
            point_time: db.clock(),
            live: true,
            db: Some(db),
            ..RestoreState::default()
        }
    }

    /// A sequence that restores the offline files of an online database (the later steps of
    /// a piecemeal restore): they must reach the point where the database was recovered.
    #[must_use]
    pub fn from_offline_files(db: Database) -> Self {
        let offline = db.offline_files();
        RestoreState {
            point: offline.iter().map(|o| o.since).min().unwrap_or(0),
            point_time: db.clock(),
            missing: offline.iter().map(|o| o.file_id).collect(),
            live: true,
            files_only: true,
            db: Some(db),
            ..RestoreState::default()
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
        self.check_state(image)?;
        Ok(applied)
    }

    /// After a whole backup: the database is in the state the backup recorded; with files
    /// missing or behind, every current file is (the backup records each file's content).
    fn check_state(&mut self, image: &BackupImage) -> Result<(), ChainError> {
        let Some(db) = self.db.as_ref() else {
            return Ok(());
        };
        let scoped =
            image.meta.info.file_scope.is_some() && image.meta.kind != super::BackupKind::Log;
        if self.missing.is_empty() && self.behind.is_none() && !scoped {
            let found = db.state_hash();
            if found != image.meta.state_hash {
                *self = RestoreState::new();
                return Err(ChainError::StateMismatch {
                    expected: image.meta.state_hash,
                    found,
                });
            }
            return Ok(());
        }
        let behind: Vec<i32> = self
            .behind
            .as_ref()
            .map(|b| b.files.iter().map(|(id, ..)| *id).collect())
            .unwrap_or_default();
        for f in image
            .meta
            .info
            .files
            .iter()
            .filter(|f| f.page_count > 0 && f.present)
        {
            if self.missing.contains(&f.file_id) || behind.contains(&f.file_id) {
                continue;
            }
            if scoped
                && !image
                    .meta
                    .info
                    .file_scope
                    .as_ref()
                    .is_some_and(|s| s.contains(&f.file_id))
            {
                continue;
            }
            let found = db.extent_hash(f.pages());
            if found != f.content_hash {
                *self = RestoreState::new();
                return Err(ChainError::StateMismatch {
                    expected: f.content_hash,
                    found,
                });
            }
        }
        Ok(())
    }

    /// RESTORE ... WITH RECOVERY: the database as restored, with the restored full backup as
    /// its differential base and, in FULL recovery, its log chain going on from here. Files a
    /// piecemeal restore left out stay offline (RECOVERY_PENDING) until restored.
    pub fn recover(self) -> Result<Database, ChainError> {
        if self.behind.is_some() {
            return Err(ChainError::LogNotRestored);
        }
        let mut db = self.db.ok_or(ChainError::NothingToRollForward)?;
        if !self.files_only && (!self.live || self.logs_applied > 0 || self.differential_applied) {
            db.resume_after_restore(self.full_checkpoint, self.point);
        }
        db.set_offline_files(&self.missing, self.point);
        if let Some((mut files, groups)) = self.layout {
            for f in &mut files {
                f.present = !self.missing.contains(&f.file_id);
            }
            db.set_layout(files, groups);
        }
        Ok(db)
    }

    /// MOVE: the physical names the restored files get.
    pub fn relocate(&mut self, moves: &[(String, String)]) {
        if let Some((files, _)) = &mut self.layout {
            for f in files {
                if let Some((_, to)) = moves
                    .iter()
                    .find(|(from, _)| from.eq_ignore_ascii_case(&f.logical_name))
                {
                    f.physical_name.clone_from(to);
                }
            }
        }
    }

    /// Whether restored files are still behind the rest of the database.
    #[must_use]
    pub fn has_files_behind(&self) -> bool {
        self.behind.is_some()
    }
}
