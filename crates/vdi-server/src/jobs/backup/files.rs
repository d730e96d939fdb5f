//! BACKUP DATABASE … FILE = / FILEGROUP = / READ_WRITE_FILEGROUPS: which data files a file or
//! partial backup holds.

use crate::db::{BackupRequest, Database, FileKind, RecoveryModel};
use crate::tsql::ast::FileSelection;
use crate::tsql::{SqlMessage, messages};

/// Fills `request.scope` and `request.partial` from the statement's file list: 3235 for an
/// unknown file, 3219 for a log file, 3027 for an unknown filegroup, 3034 when nothing is
/// selected, 3004 for a file backup of the primary filegroup in SIMPLE recovery.
pub(super) fn resolve(
    db: &Database,
    selection: &FileSelection,
    request: &mut BackupRequest,
    line: u32,
) -> Result<(), SqlMessage> {
    if selection.is_whole_database() {
        return Ok(());
    }
    let (files, groups) = db.sql_files();
    let mut ids: Vec<i32> = Vec::new();
    let mut add = |id: i32| {
        if !ids.contains(&id) {
            ids.push(id);
        }
    };
    for name in &selection.files {
        let file = files
            .iter()
            .find(|f| f.logical_name.eq_ignore_ascii_case(name))
            .ok_or_else(|| messages::file_not_part_of_database(line, name, db.name()))?;
        if file.kind == FileKind::Log {
            return Err(messages::file_cannot_be_selected(line, name));
        }
        add(file.file_id);
    }
    for name in &selection.filegroups {
        let group = groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| messages::filegroup_not_part_of_database(line, name, db.name()))?;
        files
            .iter()
            .filter(|f| f.filegroup_id == group.id && f.kind != FileKind::Log)
            .for_each(|f| add(f.file_id));
    }
    if selection.read_write_filegroups {
        for f in files.iter().filter(|f| f.kind != FileKind::Log) {
            let read_only = groups.iter().any(|g| g.id == f.filegroup_id && g.read_only);
            if !read_only && !f.read_only {
                add(f.file_id);
            }
        }
    }
    if ids.is_empty() {
        return Err(messages::no_files_selected(line));
    }
    let primary_in = files
        .iter()
        .any(|f| f.filegroup_id == 1 && ids.contains(&f.file_id));
    if !selection.read_write_filegroups && primary_in && db.recovery() == RecoveryModel::Simple {
        return Err(messages::primary_file_backup_in_simple(line));
    }
    request.scope = Some(ids);
    request.partial = selection.read_write_filegroups;
    Ok(())
}
