//! Messages the engine needs that the T-SQL catalogue (`tsql::messages`) does not have yet.
//! Listed in `docs/daemon.md`; they belong in the catalogue and `docs/sql-messages.md`.

use crate::tsql::SqlMessage;
use crate::tsql::messages::cannot_open_device;

/// 3702: DROP DATABASE of a database some session is using (including the dropping one).
pub fn cannot_drop_in_use(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3702,
        16,
        4,
        line,
        format!("Cannot drop database \"{database}\" because it is currently in use."),
    )
}

/// 3708: DROP DATABASE of master, tempdb, model or msdb.
pub fn cannot_drop_system(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        3708,
        16,
        1,
        line,
        format!("Cannot drop the database '{database}' because it is a system database."),
    )
}

/// 4060: the database given at login (`sqlcmd -d`) does not exist; 18456 follows.
pub fn cannot_open_login_database(database: &str) -> SqlMessage {
    SqlMessage::new(
        4060,
        11,
        1,
        1,
        format!("Cannot open database \"{database}\" requested by the login. The login failed."),
    )
}

/// 5011: ALTER DATABASE of a database that does not exist; 5069 follows.
pub fn cannot_alter_database(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        5011,
        14,
        5,
        line,
        format!(
            "User does not have permission to alter database '{database}', the database does not exist, or the database is not in a state that allows access checks."
        ),
    )
}

/// 3153: `RESTORE DATABASE name WITH RECOVERY` (no FROM) on a database that is not restoring.
pub fn already_fully_recovered(line: u32) -> SqlMessage {
    SqlMessage::new(
        3153,
        16,
        1,
        line,
        "The database is already fully recovered.",
    )
}

/// 59100 (ours): BACKUP or RESTORE of a system database, which vdisim does not hold.
pub fn system_database_not_emulated(line: u32, database: &str) -> SqlMessage {
    SqlMessage::new(
        59100,
        16,
        1,
        line,
        format!(
            "Database '{database}' is a system database. vdisim lists it but does not emulate its backup or restore."
        ),
    )
}

/// 59101 (ours): the data directory could not be written.
pub fn catalog_io_failed(line: u32, detail: &str) -> SqlMessage {
    SqlMessage::new(
        59101,
        16,
        1,
        line,
        format!("vdisim could not update its data directory: {detail}"),
    )
}

/// 3201 with the OS error that this build has no virtual device sets to open.
pub fn devices_not_connected(line: u32, set_name: &str) -> SqlMessage {
    const NOT_SUPPORTED: u32 = 50;
    let mut message = cannot_open_device(line, set_name, NOT_SUPPORTED);
    message.text = format!(
        "Cannot open backup device '{set_name}'. Operating system error {NOT_SUPPORTED}(The request is not supported: virtual device sets are not connected in this build of vdisim.)."
    );
    message
}

/// 3023: a second BACKUP/RESTORE on a database that already has one running.
pub fn operation_must_be_serialized(line: u32) -> SqlMessage {
    SqlMessage::new(
        3023,
        16,
        2,
        line,
        "Backup, file manipulation operations (such as ALTER DATABASE ADD FILE) and encryption changes on a database must be serialized. Reissue the statement after the current backup or file manipulation operation is completed.",
    )
}
