//! What RESTORE checks before it applies a backup set, and what it changes in the restored
//! database's metadata afterwards.

use crate::db::{BackupKind, BackupMeta, FileKind, RecoveryModel, StopTarget};
use crate::stream::StripeHeaders;
use crate::stream::format::FLAG_CHECKSUM;
use crate::tsql::ast::BrokerOption;
use crate::tsql::catalog::model::derived_guid;
use crate::tsql::catalog::{DatabaseInfo, UserAccess};
use crate::tsql::messages;
use crate::tsql::{RecoveryOption, RestoreKind, RestoreStatement, SqlMessage, StopPoint};

/// Checks that need nothing but the statement: `STANDBY = ''` (3170), and a mark without
/// AFTER on RESTORE DATABASE (4340: only RESTORE LOG can stop at a mark alone).
pub(super) fn check_statement(stmt: &RestoreStatement, line: u32) -> Result<(), SqlMessage> {
    if let Some(RecoveryOption::Standby(file)) = &stmt.options.recovery
        && file.trim().is_empty()
    {
        return Err(messages::standby_file_invalid(line));
    }
    let mark_alone = matches!(
        stmt.options.stop,
        Some(StopPoint::AtMark { after: None, .. } | StopPoint::BeforeMark { after: None, .. })
    );
    if stmt.kind == RestoreKind::Database && mark_alone {
        return Err(messages::point_in_time_log_only(line));
    }
    Ok(())
}

/// Checks against the media: MEDIANAME (4037), FILE = n (4038: every vdisim medium holds
/// one backup set, at position 1), CHECKSUM of a backup without checksums (3187).
pub(super) fn check_media(
    stmt: &RestoreStatement,
    headers: &StripeHeaders,
    line: u32,
) -> Result<(), SqlMessage> {
    let device = stmt.devices.first().map_or("", String::as_str);
    if let Some(given) = &stmt.options.media_name {
        let media = headers.set.info.media_name.clone().unwrap_or_default();
        if !given.eq_ignore_ascii_case(&media) {
            return Err(messages::media_name_mismatch(line, given, &media, device));
        }
    }
    if let Some(position) = stmt.options.file
        && position != 1
        && stmt.kind != RestoreKind::LabelOnly
    {
        return Err(messages::backup_set_position_not_found(
            line, position, device,
        ));
    }
    if stmt.options.checksum == Some(true) && headers.set.flags & FLAG_CHECKSUM == 0 {
        return Err(messages::no_checksums_in_backup(line));
    }
    Ok(())
}

/// RESTORE LOG takes only log backups and RESTORE DATABASE only data backups (3135).
pub(super) fn check_kind(
    stmt: &RestoreStatement,
    meta: &BackupMeta,
    device: &str,
    line: u32,
) -> Result<(), SqlMessage> {
    let is_log = meta.kind == BackupKind::Log;
    if (stmt.kind == RestoreKind::Log) == is_log {
        return Ok(());
    }
    let created_by = match meta.kind {
        BackupKind::Log => "BACKUP LOG",
        BackupKind::Differential => "BACKUP DATABASE WITH DIFFERENTIAL",
        BackupKind::Full => "BACKUP DATABASE",
    };
    Err(messages::backup_set_created_by(line, device, created_by))
}

/// MOVE: every logical name must be a file of the backup (3234), be moved once (4353), and no
/// two files may end up at the same physical name (3176); the problems, then 3119.
pub(super) fn check_moves(
    stmt: &RestoreStatement,
    meta: &BackupMeta,
    line: u32,
) -> Result<(), Vec<SqlMessage>> {
    let moves = &stmt.options.moves;
    if moves.is_empty() {
        return Ok(());
    }
    // The files as the database knew them (the stream's own list for older backups).
    let files: Vec<(&str, &str, i32, bool)> = if meta.info.files.is_empty() {
        meta.files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let fs = f.kind == FileKind::Filestream;
                (
                    f.logical_name.as_str(),
                    f.physical_name.as_str(),
                    i as i32 + 1,
                    fs,
                )
            })
            .collect()
    } else {
        meta.info
            .files
            .iter()
            .map(|f| {
                let fs = f.kind == FileKind::Filestream;
                (
                    f.logical_name.as_str(),
                    f.physical_name.as_str(),
                    f.file_id,
                    fs,
                )
            })
            .collect()
    };
    let mut problems = Vec::new();
    for (i, m) in moves.iter().enumerate() {
        let known = files
            .iter()
            .any(|(logical, ..)| logical.eq_ignore_ascii_case(&m.logical_name));
        if !known {
            problems.push(messages::logical_file_not_in_backup(
                line,
                &m.logical_name,
                &meta.database,
            ));
        } else if moves[..i]
            .iter()
            .any(|o| o.logical_name.eq_ignore_ascii_case(&m.logical_name))
        {
            problems.push(messages::conflicting_file_relocations(
                line,
                &m.logical_name,
            ));
        }
    }
    if problems.is_empty() {
        // Where each file ends up: its MOVE target, or where the backup says it was.
        let placed: Vec<(String, &str, i32)> = files
            .iter()
            .filter(|(.., fs)| !fs)
            .map(|(logical, physical, id, _)| {
                let target = moves
                    .iter()
                    .find(|m| m.logical_name.eq_ignore_ascii_case(logical))
                    .map_or((*physical).to_owned(), |m| m.physical_name.clone());
                (target, *logical, *id)
            })
            .collect();
        for (i, (path, logical, id)) in placed.iter().enumerate() {
            if let Some((_, first, first_id)) = placed[..i].iter().find(|(p, ..)| p == path) {
                problems.push(messages::file_claimed_twice(
                    line,
                    path,
                    (first, *first_id),
                    (logical, *id),
                ));
                break;
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    problems.push(messages::restore_planning_problems(line));
    Err(problems)
}

/// A point in time needs the FULL recovery model (3145).
pub(super) fn check_point_in_time(
    stmt: &RestoreStatement,
    meta: &BackupMeta,
    line: u32,
) -> Result<(), SqlMessage> {
    if stmt.options.stop.is_some() && meta.recovery == RecoveryModel::Simple {
        return Err(messages::stop_at_in_simple_recovery(line));
    }
    Ok(())
}

/// The statement's stop point for the restore sequence; `'lsn:n'` stands for an LSN (4334
/// when n is not a number).
pub(super) fn stop_target(
    stmt: &RestoreStatement,
    line: u32,
) -> Result<Option<StopTarget>, SqlMessage> {
    let (mark, after, before) = match &stmt.options.stop {
        None => return Ok(None),
        Some(StopPoint::At(t)) => return Ok(Some(StopTarget::Time(*t))),
        Some(StopPoint::AtMark { mark, after }) => (mark, after, false),
        Some(StopPoint::BeforeMark { mark, after }) => (mark, after, true),
    };
    let lsn = mark
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("lsn:"))
        .map(|_| mark[4..].trim());
    Ok(Some(match lsn {
        Some(digits) => StopTarget::Lsn {
            lsn: digits
                .parse()
                .map_err(|_| messages::mark_not_valid_lsn(line))?,
            before,
        },
        None => StopTarget::Mark {
            name: mark.clone(),
            before,
            after: *after,
        },
    }))
}

/// What the options change in the recovered database's metadata.
pub(super) fn apply_metadata(stmt: &RestoreStatement, info: &mut DatabaseInfo, standby: bool) {
    let o = &stmt.options;
    if o.restricted_user {
        info.user_access = UserAccess::RestrictedUser;
    }
    match o.broker {
        Some(BrokerOption::Enable) | Some(BrokerOption::ErrorConversations) => {
            info.is_broker_enabled = true;
        }
        Some(BrokerOption::New) => {
            info.is_broker_enabled = true;
            info.service_broker_guid =
                derived_guid(&info.name, info.service_broker_guid[0] as u64 + 0x9E);
        }
        None => {}
    }
    info.is_in_standby = standby;
    info.is_read_only = standby;
}

/// RESTORE … FILE = / FILEGROUP = / READ_WRITE_FILEGROUPS: the data files (`file_id`s of the
/// backup's file list) to restore; `None` without a file list. 3144 for a file the backup set
/// does not hold, 3190 for such a filegroup; 59022 for PAGE = (not emulated).
pub(super) fn resolve_files(
    stmt: &RestoreStatement,
    meta: &BackupMeta,
    device: &str,
    line: u32,
) -> Result<Option<Vec<i32>>, SqlMessage> {
    let selection = &stmt.files;
    if selection.pages.is_some() {
        return Err(messages::page_restore_not_emulated(line));
    }
    if selection.files.is_empty()
        && selection.filegroups.is_empty()
        && !selection.read_write_filegroups
    {
        return Ok(None);
    }
    let files = &meta.info.files;
    let groups = &meta.info.filegroups;
    let mut ids = Vec::new();
    for name in &selection.files {
        let file = files
            .iter()
            .find(|f| f.logical_name.eq_ignore_ascii_case(name) && f.present)
            .ok_or_else(|| messages::file_not_in_backup(line, name, 1, device))?;
        if file.kind == FileKind::Data && !ids.contains(&file.file_id) {
            ids.push(file.file_id);
        }
    }
    for name in &selection.filegroups {
        let group = groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| messages::filegroup_not_in_backup(line, name))?;
        let members: Vec<_> = files
            .iter()
            .filter(|f| f.filegroup_id == group.id && f.kind == FileKind::Data)
            .collect();
        if members.iter().any(|f| !f.present) || (members.is_empty() && !group.filestream) {
            return Err(messages::filegroup_not_in_backup(line, name));
        }
        for f in members {
            if !ids.contains(&f.file_id) {
                ids.push(f.file_id);
            }
        }
    }
    if selection.read_write_filegroups {
        for f in files
            .iter()
            .filter(|f| f.kind == FileKind::Data && f.present)
        {
            let read_only = groups.iter().any(|g| g.id == f.filegroup_id && g.read_only);
            if !read_only && !f.read_only && !ids.contains(&f.file_id) {
                ids.push(f.file_id);
            }
        }
    }
    Ok(Some(ids))
}
