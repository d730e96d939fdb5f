//! Server-wide views backup tools read besides the main ones: `sys.dm_os_host_info`,
//! `sys.backup_devices` (none: vdisim has only virtual devices) and
//! `sys.dm_database_encryption_keys` (none: nothing is encrypted).

use crate::catalog::table::*;
use crate::value::{SYSNAME, SqlType, Table, Value};

/// `sys.dm_os_host_info`: one row, a Linux host.
#[must_use]
pub fn dm_os_host_info() -> Table {
    let mut t = table(&[
        ("host_platform", nvarchar(256), false),
        ("host_distribution", nvarchar(256), false),
        ("host_release", nvarchar(256), false),
        ("host_service_pack_level", nvarchar(256), false),
        ("host_sku", INT, true),
        ("os_language_version", INT, false),
        ("host_architecture", nvarchar(256), false),
    ]);
    t.push(vec![
        text("Linux"),
        text("vdisim"),
        text(env!("CARGO_PKG_VERSION")),
        text(""),
        Value::Null,
        int(0),
        text("X64"),
    ]);
    t
}

/// `sys.backup_devices`: empty.
#[must_use]
pub fn backup_devices() -> Table {
    table(&[
        ("name", SYSNAME, false),
        ("type", TINYINT, true),
        ("type_desc", DESC, true),
        ("physical_name", nvarchar(260), true),
    ])
}

/// `sys.dm_database_encryption_keys`: empty.
#[must_use]
pub fn dm_database_encryption_keys() -> Table {
    table(&[
        ("database_id", INT, false),
        ("encryption_state", INT, true),
        ("create_date", DATETIME, false),
        ("regenerate_date", DATETIME, false),
        ("modify_date", DATETIME, false),
        ("set_date", DATETIME, false),
        ("opened_date", DATETIME, false),
        ("key_algorithm", nvarchar(32), false),
        ("key_length", INT, false),
        ("encryptor_thumbprint", SqlType::VarBinary(Some(32)), true),
        ("encryptor_type", nvarchar(32), true),
        ("percent_complete", SqlType::Real, false),
        ("encryption_state_desc", nvarchar(32), true),
        ("encryption_scan_state", INT, true),
        ("encryption_scan_state_desc", nvarchar(32), true),
        ("encryption_scan_modify_date", DATETIME, true),
    ])
}
