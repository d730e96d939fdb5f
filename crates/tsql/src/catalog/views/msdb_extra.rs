//! msdb tables vdisim keeps empty: log shipping (vdisim ships no logs) and `suspect_pages`
//! (no page is recorded as suspect; `DELETE` from it succeeds and removes nothing).

use crate::catalog::table::*;
use crate::value::{SYSNAME, Table};

/// `msdb.dbo.log_shipping_primary_databases`: empty.
#[must_use]
pub fn log_shipping_primary_databases() -> Table {
    table(&[
        ("primary_id", GUID, false),
        ("primary_database", SYSNAME, false),
        ("backup_directory", nvarchar(500), false),
        ("backup_share", nvarchar(500), false),
        ("backup_retention_period", INT, false),
        ("backup_job_id", GUID, false),
        ("monitor_server", SYSNAME, false),
        ("user_specified_monitor", BIT, true),
        ("monitor_server_security_mode", BIT, false),
        ("last_backup_file", nvarchar(500), true),
        ("last_backup_date", DATETIME, true),
        ("backup_compression", TINYINT, false),
    ])
}

/// `msdb.dbo.log_shipping_secondary_databases`: empty.
#[must_use]
pub fn log_shipping_secondary_databases() -> Table {
    table(&[
        ("secondary_database", SYSNAME, false),
        ("secondary_id", GUID, false),
        ("restore_delay", INT, false),
        ("restore_all", BIT, false),
        ("restore_mode", BIT, false),
        ("disconnect_users", BIT, false),
        ("block_size", INT, true),
        ("buffer_count", INT, true),
        ("max_transfer_size", INT, true),
        ("last_restored_file", nvarchar(500), true),
        ("last_restored_date", DATETIME, true),
    ])
}

/// `msdb.dbo.suspect_pages`: empty.
#[must_use]
pub fn suspect_pages() -> Table {
    table(&[
        ("database_id", INT, false),
        ("file_id", INT, false),
        ("page_id", BIGINT, false),
        ("event_type", INT, false),
        ("error_count", INT, false),
        ("last_update_date", DATETIME, false),
    ])
}
