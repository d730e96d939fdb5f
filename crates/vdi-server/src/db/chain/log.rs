//! Log backups in a restore sequence: the chain checks, point-in-time stops, and files that
//! roll forward on their own after a file restore.

use super::{Applied, ChainError, RestoreState, StopTarget};
use crate::db::{BackupImage, LogRecord, Lsn, epoch};

impl RestoreState {
    pub(super) fn apply_log(
        &mut self,
        image: &BackupImage,
        stop: Option<&StopTarget>,
    ) -> Result<Applied, ChainError> {
        let meta = &image.meta;
        let db = self.db.as_ref().ok_or(ChainError::NothingToRollForward)?;
        if db.content_key() != meta.content_key {
            return Err(ChainError::DifferentDatabase {
                database: db.name().to_owned(),
            });
        }
        if image.log.iter().any(|r| r.page >= db.page_count()) {
            return Err(ChainError::Inconsistent {
                reason: "log record for a page outside the data file",
            });
        }
        // Restored files behind the database roll forward first, and alone.
        let point = self.behind.as_ref().map_or(self.point, |b| b.point);
        let (first_lsn, last_lsn) = (meta.first_lsn, meta.last_lsn);
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
        if self.behind.is_some() {
            return Ok(self.roll_files_forward(image));
        }
        let stop_lsn = self.stop_lsn(image, stop)?;
        let end = stop_lsn.unwrap_or(last_lsn).max(point);
        let missing: Vec<_> = self
            .layout
            .iter()
            .flat_map(|(files, _)| files)
            .filter(|f| self.missing.contains(&f.file_id))
            .map(crate::db::SqlFile::pages)
            .collect();
        let records: Vec<LogRecord> = image
            .log
            .iter()
            .filter(|r| r.lsn >= point && r.lsn < end)
            .filter(|r| !missing.iter().any(|m| m.contains(&r.page)))
            .copied()
            .collect();
        let end_time = meta.info.last_valid_restore_time.unwrap_or_else(epoch);
        let time = records.last().map_or(self.point_time, |r| r.time);
        self.point_time = match (stop, stop_lsn) {
            (Some(StopTarget::Time(t)), Some(_)) => *t,
            (_, Some(_)) => time,
            _ => end_time.max(time),
        };
        let db = self.db.as_mut().ok_or(ChainError::NothingToRollForward)?;
        db.apply_log(&records, point);
        db.set_next_lsn(end);
        db.set_clock(self.point_time);
        self.point = end;
        self.logs_applied += 1;
        Ok(match (stop, stop_lsn) {
            (None, _) => Applied::Complete,
            (Some(_), Some(_)) => Applied::Stopped,
            (Some(_), None) => Applied::BeforeStop,
        })
    }

    /// The LSN to stop at (exclusive) when the stop target lies in this log.
    fn stop_lsn(
        &self,
        image: &BackupImage,
        stop: Option<&StopTarget>,
    ) -> Result<Option<Lsn>, ChainError> {
        let meta = &image.meta;
        let (point, last_lsn) = (self.point, meta.last_lsn);
        let end_time = meta.info.last_valid_restore_time.unwrap_or_else(epoch);
        Ok(match stop {
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
        })
    }

    /// Applies the log to the files behind, up to the database's point; they are current
    /// once they reach it.
    fn roll_files_forward(&mut self, image: &BackupImage) -> Applied {
        let Some(behind) = self.behind.as_mut() else {
            return Applied::Complete;
        };
        let end = image.meta.last_lsn.min(behind.target);
        let records: Vec<LogRecord> = image
            .log
            .iter()
            .filter(|r| r.lsn >= behind.point && r.lsn < end)
            .filter(|r| {
                behind
                    .files
                    .iter()
                    .any(|(_, _, range)| range.contains(&r.page))
            })
            .copied()
            .collect();
        if let Some(db) = self.db.as_mut() {
            db.apply_log(&records, behind.point);
        }
        behind.point = image.meta.last_lsn;
        if behind.point >= behind.target {
            self.behind = None;
        }
        self.logs_applied += 1;
        Applied::Complete
    }

    /// Whether this log would leave restored files behind (RESTORE LOG … WITH RECOVERY then
    /// fails with 4318 before applying anything).
    pub fn log_leaves_files_behind(&self, image: &BackupImage) -> Option<ChainError> {
        let behind = self.behind.as_ref()?;
        (image.meta.last_lsn < behind.target).then(|| ChainError::FilesBehind {
            file: behind
                .files
                .first()
                .map_or_else(String::new, |(_, name, _)| name.clone()),
            point: image.meta.last_lsn,
            end: image.meta.last_lsn,
        })
    }
}
