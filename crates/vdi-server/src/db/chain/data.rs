//! Data backups in a restore sequence: a full (or partial) backup starts one, a differential
//! continues it, and a file or filegroup restore replaces some files of a database that then
//! roll forward on their own.

use super::{Applied, Behind, ChainError, RestoreState, StopTarget};
use crate::db::page::PAGE_SIZE;
use crate::db::{BackupImage, BackupKind, Database, FileKind, Lsn, epoch};

impl RestoreState {
    pub(super) fn apply_unchecked(
        &mut self,
        image: &BackupImage,
        stop: Option<&StopTarget>,
    ) -> Result<Applied, ChainError> {
        let meta = &image.meta;
        match meta.kind {
            BackupKind::Full if meta.info.file_scope.is_some() => {
                // A file or partial backup restored as a whole: the files it holds.
                let applied = data_stop(image, stop)?;
                let files = meta.info.file_scope.clone().unwrap_or_default();
                self.apply_partial(image, &files)?;
                Ok(applied)
            }
            BackupKind::Full => {
                let applied = data_stop(image, stop)?;
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
                self.start(image, versions, lsns);
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
                let applied = data_stop(image, stop)?;
                if meta.db_pages != db.page_count()
                    || image.pages.iter().any(|p| p.page >= meta.db_pages)
                {
                    return Err(ChainError::Inconsistent {
                        reason: "differential pages outside the data file",
                    });
                }
                let time = meta.info.start.unwrap_or_else(epoch);
                db.apply_pages(&image.pages);
                db.set_next_lsn(meta.last_lsn);
                db.set_clock(time);
                self.point = meta.last_lsn;
                self.point_time = time;
                self.differential_applied = true;
                Ok(applied)
            }
            BackupKind::Log => self.apply_log(image, stop),
        }
    }

    /// A new sequence from a data backup's pages (`versions`, `lsns` cover every page; pages
    /// not in the backup are at version 0).
    fn start(&mut self, image: &BackupImage, versions: Vec<u32>, lsns: Vec<Lsn>) {
        let meta = &image.meta;
        let time = meta.info.start.unwrap_or_else(epoch);
        let mut db = Database::from_restored(meta, versions, lsns, image.filestream.clone());
        db.set_clock(time);
        *self = RestoreState {
            db: Some(db),
            full_checkpoint: meta.checkpoint_lsn,
            point: meta.last_lsn,
            point_time: time,
            layout: Some((meta.info.files.clone(), meta.info.filegroups.clone())),
            ..RestoreState::default()
        };
    }

    /// RESTORE DATABASE … [FILEGROUP = …] WITH PARTIAL: a new sequence holding the primary
    /// filegroup and `files` (data `file_id`s) of a full or partial backup; the other data
    /// files stay out (their pages at version 0) until restored later.
    pub fn apply_partial(&mut self, image: &BackupImage, files: &[i32]) -> Result<(), ChainError> {
        let meta = &image.meta;
        let info = &meta.info;
        let data_files: Vec<_> = info
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Data)
            .collect();
        let primary_present = data_files
            .iter()
            .filter(|f| f.filegroup_id == 1)
            .all(|f| f.present);
        if meta.kind != BackupKind::Full || !primary_present {
            return Err(ChainError::PartialWithoutPrimary);
        }
        let restored: Vec<i32> = data_files
            .iter()
            .filter(|f| f.present && (f.filegroup_id == 1 || files.contains(&f.file_id)))
            .map(|f| f.file_id)
            .collect();
        let pages = meta.db_pages as usize;
        let mut versions = vec![0u32; pages];
        let mut lsns = vec![0; pages];
        let ranges: Vec<_> = data_files
            .iter()
            .filter(|f| restored.contains(&f.file_id))
            .map(|f| f.pages())
            .collect();
        for p in &image.pages {
            if p.page >= meta.db_pages {
                return Err(ChainError::Inconsistent {
                    reason: "a page outside the data files",
                });
            }
            if ranges.iter().any(|r| r.contains(&p.page)) {
                versions[p.page as usize] = p.version;
                lsns[p.page as usize] = p.lsn;
            }
        }
        self.start(image, versions, lsns);
        self.missing = data_files
            .iter()
            .map(|f| f.file_id)
            .filter(|id| !restored.contains(id))
            .collect();
        self.check_state(image)
    }

    /// RESTORE DATABASE … FILE = / FILEGROUP = (no PARTIAL): replaces `files` of the
    /// sequence's database with the backup's; they are then behind the rest of the database
    /// and roll forward on their own until they reach its point.
    pub fn apply_files(&mut self, image: &BackupImage, files: &[i32]) -> Result<(), ChainError> {
        let meta = &image.meta;
        let db = self.db.as_mut().ok_or(ChainError::NothingToRollForward)?;
        if db.content_key() != meta.content_key {
            return Err(ChainError::DifferentDatabase {
                database: db.name().to_owned(),
            });
        }
        if meta.kind != BackupKind::Full || meta.db_pages != db.page_count() {
            return Err(ChainError::Inconsistent {
                reason: "a file restore needs a full, file or partial backup of the same size",
            });
        }
        let chosen: Vec<_> = meta
            .info
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Data && files.contains(&f.file_id))
            .collect();
        let ranges: Vec<_> = chosen.iter().map(|f| f.pages()).collect();
        let pages: Vec<_> = image
            .pages
            .iter()
            .filter(|p| ranges.iter().any(|r| r.contains(&p.page)))
            .copied()
            .collect();
        db.apply_pages(&pages);
        for f in &chosen {
            let found = db.extent_hash(f.pages());
            if found != f.content_hash {
                return Err(ChainError::StateMismatch {
                    expected: f.content_hash,
                    found,
                });
            }
        }
        self.missing.retain(|id| !files.contains(id));
        let target = self.point;
        let behind = Behind {
            files: chosen
                .iter()
                .map(|f| (f.file_id, f.logical_name.clone(), f.pages()))
                .collect(),
            point: meta.last_lsn,
            target,
        };
        self.behind = (behind.point < target).then_some(behind);
        Ok(())
    }
}

/// What a data backup means for a point-in-time restore: one taken after the STOPAT time
/// cannot be part of the sequence (4338); otherwise the database must stay restoring until
/// the log reaches the point.
fn data_stop(image: &BackupImage, stop: Option<&StopTarget>) -> Result<Applied, ChainError> {
    let backup_time = image.meta.info.start.unwrap_or_else(epoch);
    match stop {
        Some(StopTarget::Time(t) | StopTarget::Mark { after: Some(t), .. }) if backup_time > *t => {
            Err(ChainError::StopBeforeBackup)
        }
        Some(_) => Ok(Applied::BeforeStop),
        None => Ok(Applied::Complete),
    }
}
