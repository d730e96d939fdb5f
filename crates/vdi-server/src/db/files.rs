//! The database's files as SQL Server sees them: which pages each data file holds, the file
//! list a backup records (RESTORE FILELISTONLY, MOVE, FILE/FILEGROUP), and the metadata a
//! restore rebuilds from it.
//!
//! Page content lives in one array per database; the data files (`Rows`, in `file_id` order)
//! own consecutive extents of it, sized as CREATE DATABASE sized them, the last one taking what
//! is left. FILESTREAM files map to the FILESTREAM containers in order.

use serde::{Deserialize, Serialize};
use tsql::catalog::{DatabaseFile, DatabaseInfo, FileState, FileType, Filegroup, FilegroupType};

use super::image::hex_guid;
use super::{Database, FileKind, Guid, Lsn, page::PAGE_SIZE};

/// One file of a database, as a backup records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlFile {
    pub file_id: i32,
    pub kind: FileKind,
    pub logical_name: String,
    pub physical_name: String,
    /// `None` for log files.
    pub filegroup: Option<String>,
    /// The filegroup's `data_space_id`; 0 for log files.
    pub filegroup_id: i32,
    pub size_bytes: u64,
    /// In pages; -1 for unlimited.
    pub max_size_pages: i32,
    pub growth: i32,
    pub is_percent_growth: bool,
    #[serde(with = "hex_guid")]
    pub unique_id: Guid,
    pub create_lsn: Lsn,
    pub read_only: bool,
    /// Data files: the first page of the file's extent and its length.
    pub first_page: u64,
    pub page_count: u64,
    /// FILESTREAM files: the container.
    pub container: Option<u16>,
    /// Whether the backup holds the file's content.
    pub present: bool,
    /// Data files: a fingerprint of the file's pages (versions) as backed up; a restore of the
    /// file must rebuild exactly this.
    pub content_hash: u64,
}

/// One filegroup, as a backup records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqlFilegroup {
    pub id: i32,
    pub name: String,
    pub filestream: bool,
    pub is_default: bool,
    pub read_only: bool,
    #[serde(with = "hex_guid::option")]
    pub guid: Option<Guid>,
}

/// A data file left out of a piecemeal restore: offline since `since`, the point at which its
/// database was recovered, to which a later restore of the file must roll it forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineFile {
    pub file_id: i32,
    pub since: Lsn,
}

impl SqlFile {
    /// The page range of a data file (empty for the others).
    #[must_use]
    pub fn pages(&self) -> std::ops::Range<u64> {
        match self.kind {
            FileKind::Data => self.first_page..self.first_page + self.page_count,
            _ => 0..0,
        }
    }
}

impl Database {
    /// The files and filegroups of the database, from its catalog metadata (or, without any,
    /// a primary data file, a log file and the FILESTREAM containers), every file present.
    #[must_use]
    pub fn sql_files(&self) -> (Vec<SqlFile>, Vec<SqlFilegroup>) {
        let (files, groups) = match &self.sql {
            Some(info) => (info.files.clone(), info.filegroups.clone()),
            None => (
                vec![
                    DatabaseFile::new(
                        1,
                        FileType::Rows,
                        &self.name,
                        &format!("{}.mdf", self.name),
                        self.data_bytes(),
                    ),
                    DatabaseFile::new(
                        2,
                        FileType::Log,
                        &format!("{}_log", self.name),
                        &format!("{}_log.ldf", self.name),
                        self.log_file_bytes,
                    ),
                ],
                vec![Filegroup::primary()],
            ),
        };
        let mut data: Vec<&DatabaseFile> = files
            .iter()
            .filter(|f| f.file_type == FileType::Rows)
            .collect();
        data.sort_by_key(|f| f.file_id);
        let extents = extents(&data, self.page_count());
        let group = |id: i32| groups.iter().find(|g| g.data_space_id == id);
        let mut out = Vec::new();
        let mut containers = 0u16;
        let mut sorted: Vec<&DatabaseFile> = files.iter().collect();
        sorted.sort_by_key(|f| f.file_id);
        for f in sorted {
            let kind = match f.file_type {
                FileType::Rows => FileKind::Data,
                FileType::Log => FileKind::Log,
                FileType::Filestream => FileKind::Filestream,
            };
            let (first_page, page_count) = extents
                .iter()
                .find(|(id, ..)| *id == f.file_id)
                .map_or((0, 0), |(_, first, n)| (*first, *n));
            let container = (kind == FileKind::Filestream
                && usize::from(containers) < self.filestream.len())
            .then(|| {
                containers += 1;
                containers - 1
            });
            let size_bytes = match kind {
                FileKind::Data => page_count * PAGE_SIZE as u64,
                FileKind::Log => self.log_file_bytes,
                FileKind::Filestream => {
                    container.map_or(0, |c| self.filestream[usize::from(c)].size_bytes())
                }
            };
            out.push(SqlFile {
                file_id: f.file_id,
                kind,
                logical_name: f.name.clone(),
                physical_name: f.physical_name.clone(),
                filegroup: group(f.data_space_id)
                    .filter(|_| kind != FileKind::Log)
                    .map(|g| g.name.clone()),
                filegroup_id: if kind == FileKind::Log {
                    0
                } else {
                    f.data_space_id
                },
                size_bytes,
                max_size_pages: f.max_size_pages,
                growth: f.growth,
                is_percent_growth: f.is_percent_growth,
                unique_id: f.file_guid,
                create_lsn: f.create_lsn.map_or(0, |l| l as Lsn),
                read_only: f.is_read_only,
                first_page,
                page_count,
                container,
                present: true,
                content_hash: self.extent_hash(first_page..first_page + page_count),
            });
        }
        // FILESTREAM containers the catalog has no file for (the `FILESTREAM n` extension).
        let next_id = out.iter().map(|f| f.file_id).max().unwrap_or(2);
        for c in containers..self.filestream.len() as u16 {
            let name = format!("{}_fs{c}", self.name);
            out.push(SqlFile {
                file_id: next_id + 1 + i32::from(c - containers),
                kind: FileKind::Filestream,
                physical_name: name.clone(),
                logical_name: name,
                filegroup: Some("PRIMARY".to_owned()),
                filegroup_id: 1,
                size_bytes: self.filestream[usize::from(c)].size_bytes(),
                max_size_pages: -1,
                growth: 0,
                is_percent_growth: false,
                unique_id: tsql::catalog::model::derived_guid(&self.name, 0xF5 + u64::from(c)),
                create_lsn: 0,
                read_only: false,
                first_page: 0,
                page_count: 0,
                container: Some(c),
                present: true,
                content_hash: 0,
            });
        }
        let out_groups = groups
            .iter()
            .map(|g| SqlFilegroup {
                id: g.data_space_id,
                name: g.name.clone(),
                filestream: g.filegroup_type == FilegroupType::Filestream,
                is_default: g.is_default,
                read_only: g.is_read_only,
                guid: g.filegroup_guid,
            })
            .collect();
        (out, out_groups)
    }

    /// Data files left out of a piecemeal restore.
    #[must_use]
    pub fn offline_files(&self) -> &[OfflineFile] {
        &self.offline_files
    }

    /// After a restore recovered at `since`: exactly `ids` are offline (files already offline
    /// keep their time); the catalog shows them RECOVERY_PENDING and the others ONLINE.
    pub(crate) fn set_offline_files(&mut self, ids: &[i32], since: Lsn) {
        self.offline_files.retain(|o| ids.contains(&o.file_id));
        for &file_id in ids {
            if !self.offline_files.iter().any(|o| o.file_id == file_id) {
                self.offline_files.push(OfflineFile { file_id, since });
            }
        }
        let offline: Vec<i32> = self.offline_files.iter().map(|o| o.file_id).collect();
        if let Some(info) = &mut self.sql {
            for f in info
                .files
                .iter_mut()
                .filter(|f| f.file_type == FileType::Rows)
            {
                f.state = if offline.contains(&f.file_id) {
                    FileState::RecoveryPending
                } else {
                    FileState::Online
                };
            }
        }
    }

    /// The file list a restore recorded: applied to the catalog metadata now, or when the
    /// catalog gives the database its metadata.
    pub(crate) fn set_layout(&mut self, files: Vec<SqlFile>, groups: Vec<SqlFilegroup>) {
        match &mut self.sql {
            Some(info) => apply_layout(info, &files, &groups),
            None => self.pending_layout = Some((files, groups)),
        }
    }

    /// A fingerprint of the versions of the pages in `range`.
    #[must_use]
    pub fn extent_hash(&self, range: std::ops::Range<u64>) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::with_seed(self.content_key ^ range.start);
        let end = range.end.min(self.page_count()) as usize;
        let start = (range.start as usize).min(end);
        for v in &self.page_versions[start..end] {
            h.update(&v.to_le_bytes());
        }
        h.digest()
    }
}

/// `(file_id, first page, pages)` of each data file: declared sizes in order, the last file
/// taking the rest of the database (every file keeps at least one page while pages last).
fn extents(data: &[&DatabaseFile], total: u64) -> Vec<(i32, u64, u64)> {
    let mut out = Vec::new();
    let mut next = 0u64;
    for (i, f) in data.iter().enumerate() {
        let left = total.saturating_sub(next);
        let later = (data.len() - i - 1) as u64;
        let n = if i + 1 == data.len() {
            left
        } else {
            u64::from(f.size_pages.unsigned_abs())
                .min(left.saturating_sub(later))
                .max(u64::from(left > later))
        };
        out.push((f.file_id, next, n));
        next += n;
    }
    out
}

/// Rebuilds a restored database's catalog files and filegroups from the backup's list, with
/// the physical names the restore chose (MOVE). Files whose content was not restored (a
/// piecemeal restore) are RECOVERY_PENDING.
pub fn apply_layout(info: &mut DatabaseInfo, files: &[SqlFile], groups: &[SqlFilegroup]) {
    if files.is_empty() {
        return;
    }
    info.filegroups = groups
        .iter()
        .map(|g| Filegroup {
            data_space_id: g.id,
            name: g.name.clone(),
            filegroup_type: if g.filestream {
                FilegroupType::Filestream
            } else {
                FilegroupType::Rows
            },
            filegroup_guid: g.guid,
            is_default: g.is_default,
            is_read_only: g.read_only,
        })
        .collect();
    info.files = files
        .iter()
        .map(|f| {
            let file_type = match f.kind {
                FileKind::Data => FileType::Rows,
                FileKind::Log => FileType::Log,
                FileKind::Filestream => FileType::Filestream,
            };
            let mut d = DatabaseFile::new(
                f.file_id,
                file_type,
                &f.logical_name,
                &f.physical_name,
                f.size_bytes,
            );
            d.data_space_id = f.filegroup_id;
            d.file_guid = f.unique_id;
            d.max_size_pages = f.max_size_pages;
            d.growth = f.growth;
            d.is_percent_growth = f.is_percent_growth;
            d.is_read_only = f.read_only;
            d.state = if f.present {
                FileState::Online
            } else {
                FileState::RecoveryPending
            };
            d
        })
        .collect();
}
