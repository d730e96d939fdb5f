//! `sys.databases`, `sys.sysdatabases`, `sys.database_recovery_status` and
//! `sys.database_mirroring`: one row per database.

use crate::catalog::model::{DatabaseInfo, DatabaseState, RecoveryModel, UserAccess};
use crate::catalog::snapshot::ServerSnapshot;
use crate::catalog::table::*;
use crate::value::{SYSNAME, Table, Value};

/// SQL Server 2022's on-disk database version (DATABASEPROPERTYEX 'Version',
/// sysdatabases.version).
pub const DATABASE_VERSION: i32 = 957;

/// SQL Server 2022 RTM's `sys.databases`, in its column order.
pub const DATABASES: &[Spec] = &[
    ("name", SYSNAME, false),
    ("database_id", INT, false),
    ("source_database_id", INT, true),
    ("owner_sid", SID, true),
    ("create_date", DATETIME, false),
    ("compatibility_level", TINYINT, false),
    ("collation_name", SYSNAME, true),
    ("user_access", TINYINT, true),
    ("user_access_desc", DESC, true),
    ("is_read_only", BIT, true),
    ("is_auto_close_on", BIT, false),
    ("is_auto_shrink_on", BIT, true),
    ("state", TINYINT, true),
    ("state_desc", DESC, true),
    ("is_in_standby", BIT, true),
    ("is_cleanly_shutdown", BIT, true),
    ("is_supplemental_logging_enabled", BIT, true),
    ("snapshot_isolation_state", TINYINT, true),
    ("snapshot_isolation_state_desc", DESC, true),
    ("is_read_committed_snapshot_on", BIT, true),
    ("recovery_model", TINYINT, true),
    ("recovery_model_desc", DESC, true),
    ("page_verify_option", TINYINT, true),
    ("page_verify_option_desc", DESC, true),
    ("is_auto_create_stats_on", BIT, true),
    ("is_auto_create_stats_incremental_on", BIT, true),
    ("is_auto_update_stats_on", BIT, true),
    ("is_auto_update_stats_async_on", BIT, true),
    ("is_ansi_null_default_on", BIT, true),
    ("is_ansi_nulls_on", BIT, true),
    ("is_ansi_padding_on", BIT, true),
    ("is_ansi_warnings_on", BIT, true),
    ("is_arithabort_on", BIT, true),
    ("is_concat_null_yields_null_on", BIT, true),
    ("is_numeric_roundabort_on", BIT, true),
    ("is_quoted_identifier_on", BIT, true),
    ("is_recursive_triggers_on", BIT, true),
    ("is_cursor_close_on_commit_on", BIT, true),
    ("is_local_cursor_default", BIT, true),
    ("is_fulltext_enabled", BIT, true),
    ("is_trustworthy_on", BIT, true),
    ("is_db_chaining_on", BIT, true),
    ("is_parameterization_forced", BIT, true),
    ("is_master_key_encrypted_by_server", BIT, false),
    ("is_query_store_on", BIT, true),
    ("is_published", BIT, false),
    ("is_subscribed", BIT, false),
    ("is_merge_published", BIT, false),
    ("is_distributor", BIT, false),
    ("is_sync_with_backup", BIT, false),
    ("service_broker_guid", GUID, false),
    ("is_broker_enabled", BIT, false),
    ("log_reuse_wait", TINYINT, true),
    ("log_reuse_wait_desc", DESC, true),
    ("is_date_correlation_on", BIT, false),
    ("is_cdc_enabled", BIT, false),
    ("is_encrypted", BIT, true),
    ("is_honor_broker_priority_on", BIT, true),
    ("replica_id", GUID, true),
    ("group_database_id", GUID, true),
    ("resource_pool_id", INT, true),
    ("default_language_lcid", SMALLINT, true),
    ("default_language_name", nvarchar(128), true),
    ("default_fulltext_language_lcid", INT, true),
    ("default_fulltext_language_name", nvarchar(128), true),
    ("is_nested_triggers_on", BIT, true),
    ("is_transform_noise_words_on", BIT, true),
    ("two_digit_year_cutoff", SMALLINT, true),
    ("containment", TINYINT, false),
    ("containment_desc", DESC, false),
    ("target_recovery_time_in_seconds", INT, true),
    ("delayed_durability", INT, true),
    ("delayed_durability_desc", DESC, true),
    ("is_memory_optimized_elevate_to_snapshot_on", BIT, true),
    ("is_federation_member", BIT, true),
    ("is_remote_data_archive_enabled", BIT, true),
    ("is_mixed_page_allocation_on", BIT, true),
    ("is_temporal_history_retention_enabled", BIT, true),
    ("catalog_collation_type", INT, false),
    ("catalog_collation_type_desc", DESC, true),
    ("physical_database_name", nvarchar(128), true),
    ("is_result_set_caching_on", BIT, true),
    ("is_accelerated_database_recovery_on", BIT, true),
    ("is_tempdb_spill_to_remote_store", BIT, true),
    ("is_stale_page_detection_on", BIT, true),
    ("is_memory_optimized_enabled", BIT, true),
    ("is_data_retention_enabled", BIT, true),
    ("is_ledger_on", BIT, true),
    ("is_change_feed_enabled", BIT, true),
];

/// Whether the database's contents can be read (collation and similar columns are NULL
/// otherwise, as SQL Server shows them).
fn is_open(db: &DatabaseInfo) -> bool {
    matches!(db.state, DatabaseState::Online | DatabaseState::Emergency)
}

fn is_one_of(db: &DatabaseInfo, names: &[&str]) -> bool {
    names.iter().any(|n| db.name.eq_ignore_ascii_case(n))
}

/// `sys.databases`.
#[must_use]
pub fn databases(snap: &ServerSnapshot) -> Table {
    let mut t = table(DATABASES);
    for db in snap.databases_by_id() {
        let open = is_open(db);
        let system = db.is_system();
        let snapshot_isolation = is_one_of(db, &["master", "msdb"]);
        let collation = if open {
            text(db.collation.clone())
        } else {
            Value::Null
        };
        t.push(vec![
            text(db.name.clone()),
            int(db.database_id),
            Value::Null,
            binary(&snap.owner_sid(db)),
            datetime(db.create_date),
            int(db.compatibility_level),
            collation,
            int(db.user_access.code()),
            text(db.user_access.desc()),
            bit(db.is_read_only),
            bit(db.is_auto_close_on),
            bit(db.is_auto_shrink_on),
            int(db.state.code()),
            text(db.state.desc()),
            bit(db.is_in_standby),
            bit(false),
            bit(false),
            int(u8::from(snapshot_isolation)),
            text(if snapshot_isolation { "ON" } else { "OFF" }),
            bit(false),
            int(db.recovery_model.code()),
            text(db.recovery_model.desc()),
            int(2),
            text("CHECKSUM"),
            bit(true),
            bit(false),
            bit(true),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(!system),
            bit(is_one_of(db, &["msdb"])),
            bit(is_one_of(db, &["master", "tempdb", "msdb"])),
            bit(false),
            bit(false),
            bit(!system),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            guid(Some(db.service_broker_guid)),
            bit(db.is_broker_enabled),
            int(db.log_reuse_wait.code()),
            text(db.log_reuse_wait.desc()),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            int(0),
            text("NONE"),
            int(if is_one_of(db, &["master"]) { 0 } else { 60 }),
            int(0),
            text("DISABLED"),
            bit(false),
            bit(false),
            bit(false),
            bit(system),
            bit(true),
            int(0),
            text("DATABASE_DEFAULT"),
            text(db.name.clone()),
            bit(false),
            bit(false),
            bit(false),
            bit(false),
            bit(true),
            bit(false),
            bit(false),
            bit(false),
        ]);
    }
    t
}

/// `sysdatabases.status` bits for a database's options and state.
#[must_use]
pub fn sysdatabases_status(db: &DatabaseInfo) -> i64 {
    let mut status = 65_536; // CHECKSUM page verification
    if db.is_auto_close_on {
        status |= 1;
    }
    status |= match db.recovery_model {
        RecoveryModel::Simple => 8,
        RecoveryModel::BulkLogged => 4,
        RecoveryModel::Full => 0,
    };
    status |= match db.state {
        DatabaseState::Restoring => 32,
        DatabaseState::Recovering => 128,
        DatabaseState::RecoveryPending | DatabaseState::Suspect => 256,
        DatabaseState::Offline => 512,
        DatabaseState::Emergency => 32_768,
        DatabaseState::Online => 0,
    };
    if db.is_read_only {
        status |= 1024;
    }
    status |= match db.user_access {
        UserAccess::RestrictedUser => 2048,
        UserAccess::SingleUser => 4096,
        UserAccess::MultiUser => 0,
    };
    if db.is_auto_shrink_on {
        status |= 4_194_304;
    }
    status
}

/// `sys.sysdatabases` (also `master..sysdatabases`), the SQL Server 2000 compatibility view.
#[must_use]
pub fn sysdatabases(snap: &ServerSnapshot) -> Table {
    let mut t = table(&[
        ("name", SYSNAME, true),
        ("dbid", SMALLINT, true),
        ("sid", SID, true),
        ("mode", SMALLINT, true),
        ("status", INT, true),
        ("status2", INT, true),
        ("crdate", DATETIME, false),
        ("reserved", DATETIME, true),
        ("category", INT, true),
        ("cmptlevel", TINYINT, false),
        ("filename", nvarchar(260), true),
        ("version", SMALLINT, true),
    ]);
    for db in snap.databases_by_id() {
        let primary = db.files.iter().find(|f| f.file_id == 1);
        t.push(vec![
            text(db.name.clone()),
            int(db.database_id),
            binary(&snap.owner_sid(db)),
            int(0),
            int(sysdatabases_status(db)),
            // 536870912: full-text enabled, which user databases always are.
            int(if db.is_system() { 0 } else { 536_870_912 }),
            datetime(db.create_date),
            datetime(crate::catalog::civil::datetime(1900, 1, 1, 0, 0, 0)),
            int(0),
            int(db.compatibility_level),
            Value::opt_text(primary.map(|f| f.physical_name.clone())),
            if is_open(db) {
                int(DATABASE_VERSION)
            } else {
                Value::Null
            },
        ]);
    }
    t
}

/// `sys.database_recovery_status`: the GUIDs and log-backup LSN of each open database.
#[must_use]
pub fn database_recovery_status(snap: &ServerSnapshot) -> Table {
    let mut t = table(&[
        ("database_id", INT, false),
        ("database_guid", GUID, true),
        ("family_guid", GUID, true),
        ("last_log_backup_lsn", LSN, true),
        ("recovery_fork_guid", GUID, true),
        ("first_recovery_fork_guid", GUID, true),
        ("fork_point_lsn", LSN, true),
    ]);
    for db in snap.databases_by_id() {
        if !is_open(db) {
            t.push(vec![
                int(db.database_id),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ]);
            continue;
        }
        t.push(vec![
            int(db.database_id),
            guid(Some(db.database_guid)),
            guid(Some(db.family_guid)),
            lsn(db.last_log_backup_lsn),
            guid(Some(db.recovery_fork_guid)),
            guid(Some(db.recovery_fork_guid)),
            Value::Null,
        ]);
    }
    t
}

/// `sys.database_mirroring`: one row per database, all mirroring columns NULL (vdisim
/// mirrors nothing).
#[must_use]
pub fn database_mirroring(snap: &ServerSnapshot) -> Table {
    let specs: &[Spec] = &[
        ("database_id", INT, false),
        ("mirroring_guid", GUID, true),
        ("mirroring_state", TINYINT, true),
        ("mirroring_state_desc", DESC, true),
        ("mirroring_role", TINYINT, true),
        ("mirroring_role_desc", DESC, true),
        ("mirroring_role_sequence", INT, true),
        ("mirroring_safety_level", TINYINT, true),
        ("mirroring_safety_level_desc", DESC, true),
        ("mirroring_safety_sequence", INT, true),
        ("mirroring_partner_name", nvarchar(128), true),
        ("mirroring_partner_instance", nvarchar(128), true),
        ("mirroring_witness_name", nvarchar(128), true),
        ("mirroring_witness_state", TINYINT, true),
        ("mirroring_witness_state_desc", DESC, true),
        ("mirroring_failover_lsn", LSN, true),
        ("mirroring_connection_timeout", INT, true),
        ("mirroring_redo_queue", INT, true),
        ("mirroring_redo_queue_type", DESC, true),
        ("mirroring_end_of_log_lsn", LSN, true),
        ("mirroring_replication_lsn", LSN, true),
    ];
    let mut t = table(specs);
    for db in snap.databases_by_id() {
        let mut row = vec![Value::Null; specs.len()];
        row[0] = int(db.database_id);
        t.push(row);
    }
    t
}
