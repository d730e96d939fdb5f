//! msdb's backup and restore history: the data model, the operations BACKUP, RESTORE and
//! the history procedures perform, and the tables (`backupset`, `backupmediaset`,
//! `backupmediafamily`, `backupfile`, `backupfilegroup`, `restorehistory`, `restorefile`,
//! `restorefilegroup`) with SQL Server's columns.
//!
//! [`Msdb`] is plain serde data: the server persists it under `--data-dir` and hands a copy
//! to the catalog in its snapshot. Ids behave like SQL Server's identity columns: they
//! increase and are never reused, even after history is deleted.

pub mod procedures;
mod records;
mod tables;

pub use records::{
    BackupFileRecord, BackupFilegroupRecord, BackupRecord, BackupType, MediaRecord,
    RestoreFileRecord, RestoreRecord, RestoreType,
};

use serde::{Deserialize, Serialize};

use crate::catalog::model::Guid;
use crate::value::{DateTime, Table};

/// One media set (`backupmediaset`) with its families (`backupmediafamily`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaSet {
    pub media_set_id: i32,
    pub media: MediaRecord,
}

/// One backup set (`backupset`, with its `backupfile` and `backupfilegroup` rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSet {
    pub backup_set_id: i32,
    pub media_set_id: i32,
    pub record: BackupRecord,
}

/// One restore (`restorehistory`, with its `restorefile` and `restorefilegroup` rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreEntry {
    pub restore_history_id: i32,
    pub record: RestoreRecord,
}

/// msdb's backup and restore history.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Msdb {
    pub media_sets: Vec<MediaSet>,
    pub backup_sets: Vec<BackupSet>,
    pub restores: Vec<RestoreEntry>,
    last_media_set_id: i32,
    last_backup_set_id: i32,
    last_restore_history_id: i32,
}

/// The msdb tables [`Msdb::table`] serves, in documentation order.
pub const TABLE_NAMES: [&str; 8] = [
    "backupfile",
    "backupfilegroup",
    "backupmediafamily",
    "backupmediaset",
    "backupset",
    "restorefile",
    "restorefilegroup",
    "restorehistory",
];

impl Msdb {
    #[must_use]
    pub fn new() -> Self {
        Msdb::default()
    }

    /// Records a completed backup and returns its `backup_set_id`. The media set is reused
    /// when one with the same `media_uuid` exists (a backup appended to existing media),
    /// else a new one is created.
    pub fn record_backup(&mut self, record: BackupRecord) -> i32 {
        let media_set_id = match self
            .media_sets
            .iter()
            .find(|m| m.media.media_uuid == record.media.media_uuid)
        {
            Some(m) => m.media_set_id,
            None => {
                self.last_media_set_id += 1;
                self.media_sets.push(MediaSet {
                    media_set_id: self.last_media_set_id,
                    media: record.media.clone(),
                });
                self.last_media_set_id
            }
        };
        self.last_backup_set_id += 1;
        self.backup_sets.push(BackupSet {
            backup_set_id: self.last_backup_set_id,
            media_set_id,
            record,
        });
        self.last_backup_set_id
    }

    /// Records a completed restore (or a RESTORE VERIFYONLY) and returns its
    /// `restore_history_id`.
    pub fn record_restore(&mut self, record: RestoreRecord) -> i32 {
        self.last_restore_history_id += 1;
        self.restores.push(RestoreEntry {
            restore_history_id: self.last_restore_history_id,
            record,
        });
        self.last_restore_history_id
    }

    /// sp_delete_backuphistory: deletes the backup sets that finished before `oldest_date`,
    /// their files and filegroups, the restores of them (with their files and filegroups),
    /// and their media sets and families once no backup set is left on them. Returns how
    /// many backup sets went.
    pub fn delete_history(&mut self, oldest_date: DateTime) -> usize {
        let doomed: Vec<i32> = self
            .backup_sets
            .iter()
            .filter(|b| b.record.backup_finish_date < oldest_date)
            .map(|b| b.backup_set_id)
            .collect();
        self.delete_backup_sets(&doomed, |_| false)
    }

    /// sp_delete_database_backuphistory: deletes every backup set of `database_name` (with
    /// its files, filegroups and restores), every restore whose destination was that
    /// database, and the media sets left empty. Returns how many backup sets went.
    pub fn delete_database_history(&mut self, database_name: &str) -> usize {
        let doomed: Vec<i32> = self
            .backup_sets
            .iter()
            .filter(|b| b.record.database_name.eq_ignore_ascii_case(database_name))
            .map(|b| b.backup_set_id)
            .collect();
        self.delete_backup_sets(&doomed, |r| {
            r.destination_database_name
                .eq_ignore_ascii_case(database_name)
        })
    }

    fn delete_backup_sets(
        &mut self,
        doomed: &[i32],
        also_restore: impl Fn(&RestoreRecord) -> bool,
    ) -> usize {
        let touched_media: Vec<i32> = self
            .backup_sets
            .iter()
            .filter(|b| doomed.contains(&b.backup_set_id))
            .map(|b| b.media_set_id)
            .collect();
        self.restores
            .retain(|r| !doomed.contains(&r.record.backup_set_id) && !also_restore(&r.record));
        let before = self.backup_sets.len();
        self.backup_sets
            .retain(|b| !doomed.contains(&b.backup_set_id));
        let remaining = &self.backup_sets;
        self.media_sets.retain(|m| {
            !touched_media.contains(&m.media_set_id)
                || remaining.iter().any(|b| b.media_set_id == m.media_set_id)
        });
        before - self.backup_sets.len()
    }

    /// The backup set with this id.
    #[must_use]
    pub fn backup_set(&self, backup_set_id: i32) -> Option<&BackupSet> {
        self.backup_sets
            .iter()
            .find(|b| b.backup_set_id == backup_set_id)
    }

    /// The backup set with this `backup_set_uuid` (RESTORE's link back to history).
    #[must_use]
    pub fn backup_set_by_uuid(&self, uuid: &Guid) -> Option<&BackupSet> {
        self.backup_sets
            .iter()
            .find(|b| &b.record.backup_set_uuid == uuid)
    }

    /// The media set with this id.
    #[must_use]
    pub fn media_set(&self, media_set_id: i32) -> Option<&MediaSet> {
        self.media_sets
            .iter()
            .find(|m| m.media_set_id == media_set_id)
    }

    /// The backup sets of a database, oldest first.
    pub fn backups_of<'a>(
        &'a self,
        database_name: &'a str,
    ) -> impl Iterator<Item = &'a BackupSet> + 'a {
        self.backup_sets
            .iter()
            .filter(move |b| b.record.database_name.eq_ignore_ascii_case(database_name))
    }

    /// One of msdb's history tables by name (case-insensitive, no schema), or `None`.
    #[must_use]
    pub fn table(&self, name: &str) -> Option<Table> {
        let name = name.to_ascii_lowercase();
        Some(match name.as_str() {
            "backupset" => tables::backupset(self),
            "backupmediaset" => tables::backupmediaset(self),
            "backupmediafamily" => tables::backupmediafamily(self),
            "backupfile" => tables::backupfile(self),
            "backupfilegroup" => tables::backupfilegroup(self),
            "restorehistory" => tables::restorehistory(self),
            "restorefile" => tables::restorefile(self),
            "restorefilegroup" => tables::restorefilegroup(self),
            _ => return None,
        })
    }
}

/// Splits a physical path into msdb's drive column and the full name: `C:\` for Windows
/// paths, `/` for POSIX ones, empty otherwise.
#[must_use]
pub fn physical_drive(path: &str) -> String {
    let b = path.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        format!("{}:\\", char::from(b[0]))
    } else if path.starts_with('/') {
        "/".to_owned()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests;
