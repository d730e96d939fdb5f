//! What a backup says about itself (HEADERONLY, msdb), and what a tail-log backup WITH
//! NORECOVERY or STANDBY does to its database.

use super::super::restore::{Pending, Restoring};
use crate::db;
use crate::engine::jobs::JobContext;
use crate::tsql::catalog::model::derived_guid;
use crate::tsql::value::DateTime;
use crate::tsql::{BackupStatement, RecoveryOption};

/// The SQL-visible description of the backup: what HEADERONLY and msdb show.
pub(in crate::jobs) fn describe(
    ctx: &JobContext<'_>,
    stmt: &BackupStatement,
    meta: &mut db::BackupMeta,
    now: DateTime,
) {
    let info = ctx.database_info_or_default(&stmt.database);
    let o = &stmt.options;
    let i = &mut meta.info;
    i.finish = Some(now);
    i.expiration = match (o.retain_days, o.expire_date) {
        (Some(days), _) => Some(DateTime {
            days: now
                .days
                .saturating_add(i32::try_from(days).unwrap_or(i32::MAX)),
            ticks: now.ticks,
        }),
        (None, date) => date,
    };
    i.media_name.clone_from(&o.media_name);
    i.media_description.clone_from(&o.media_description);
    i.user_name = ctx.user().to_owned();
    i.server_name = ctx.server_name().to_owned();
    i.database_creation_date = Some(info.create_date);
    i.collation.clone_from(&info.collation);
    i.compatibility_level = info.compatibility_level;
    i.database_guid = info.database_guid;
    i.family_guid = info.family_guid;
    i.recovery_fork_guid = info.recovery_fork_guid;
    i.backup_set_guid = derived_guid(
        &format!("{}:{:?}", stmt.database, now),
        meta.last_lsn ^ u64::from(meta.kind.code()),
    );
    if meta.kind == db::BackupKind::Differential {
        i.differential_base_guid = Some(derived_guid(&stmt.database, meta.differential_base_lsn));
    }
    i.is_read_only = info.is_read_only;
    i.is_single_user = info.user_access == crate::tsql::catalog::UserAccess::SingleUser;
    let tail = matches!(
        o.recovery,
        Some(RecoveryOption::NoRecovery | RecoveryOption::Standby(_))
    );
    i.force_offline = meta.kind == db::BackupKind::Log && tail;
    i.tail = meta.kind == db::BackupKind::Log && (tail || o.no_truncate);
    i.encryption = o.encryption.as_ref().map(|e| e.algorithm.clone());
}

/// A tail-log backup WITH NORECOVERY (or STANDBY) leaves the database restoring: its log is
/// backed up to the end, and a RESTORE may overwrite it without REPLACE.
pub(super) fn take_offline(ctx: &JobContext<'_>, stmt: &BackupStatement, restoring: &Restoring) {
    let Some(db) = ctx.snapshot(&stmt.database) else {
        return;
    };
    let standby = matches!(stmt.options.recovery, Some(RecoveryOption::Standby(_)));
    restoring.lock().unwrap_or_else(|p| p.into_inner()).insert(
        stmt.database.to_lowercase(),
        Pending {
            state: db::RestoreState::from_database(db),
            standby,
        },
    );
    if standby {
        let _ = ctx.update_database(&stmt.database, |d| {
            if d.has_sql_info() {
                let info = d.sql_info_mut();
                info.is_in_standby = true;
                info.is_read_only = true;
            }
        });
    }
}
