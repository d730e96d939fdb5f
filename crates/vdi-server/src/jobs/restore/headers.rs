//! The result sets of RESTORE HEADERONLY, FILELISTONLY and LABELONLY.

use crate::stream::StripeHeaders;
use crate::tsql::{RestoreKind, ResultSet};

/// The result set of HEADERONLY, FILELISTONLY or LABELONLY from the first stripe's headers.
pub(super) fn header_result_set(
    kind: RestoreKind,
    h: &StripeHeaders,
    devices: &[String],
    _ctx: &crate::engine::jobs::JobContext<'_>,
) -> ResultSet {
    let set = &h.set;
    match kind {
        RestoreKind::FileListOnly => {
            let mut rs = ResultSet::with_text_columns(&[
                "LogicalName",
                "PhysicalName",
                "Type",
                "FileGroupName",
                "Size",
                "FileId",
            ]);
            for f in &set.files {
                let ty = match f.kind {
                    crate::db::FileKind::Data => "D",
                    crate::db::FileKind::Log => "L",
                    crate::db::FileKind::Filestream => "S",
                };
                let group = if ty == "L" { "NULL" } else { "PRIMARY" };
                rs.push_text_row(vec![
                    f.logical_name.clone(),
                    f.physical_name.clone(),
                    ty.into(),
                    group.into(),
                    f.size_bytes.to_string(),
                    (f.index + 1).to_string(),
                ]);
            }
            rs
        }
        RestoreKind::LabelOnly => {
            let mut rs = ResultSet::with_text_columns(&[
                "MediaName",
                "MediaSetId",
                "FamilyCount",
                "FamilySequenceNumber",
                "BlockSize",
            ]);
            let id: String = h
                .media
                .media_set_id
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect();
            rs.push_text_row(vec![
                "NULL".into(),
                id,
                h.media.family_count.to_string(),
                (h.media.family_index + 1).to_string(),
                h.media.block_size.to_string(),
            ]);
            rs
        }
        _ => {
            let mut rs = ResultSet::with_text_columns(&[
                "BackupName",
                "BackupDescription",
                "BackupType",
                "DatabaseName",
                "FirstLSN",
                "LastLSN",
                "CheckpointLSN",
                "DatabaseBackupLSN",
                "BackupSize",
                "DeviceCount",
            ]);
            let ty = match set.kind {
                crate::db::BackupKind::Full => 1,
                crate::db::BackupKind::Log => 2,
                crate::db::BackupKind::Differential => 5,
            };
            let null_if_empty = |s: &str| {
                if s.is_empty() {
                    "NULL".to_string()
                } else {
                    s.to_string()
                }
            };
            rs.push_text_row(vec![
                null_if_empty(&set.backup_name),
                null_if_empty(&set.description),
                ty.to_string(),
                set.database.clone(),
                set.first_lsn.to_string(),
                set.last_lsn.to_string(),
                set.checkpoint_lsn.to_string(),
                set.differential_base_lsn.to_string(),
                (set.page_count * 8192).to_string(),
                devices.len().to_string(),
            ]);
            rs
        }
    }
}
