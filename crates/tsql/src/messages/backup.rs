//! BACKUP and RESTORE messages added with the whole grammar (issue 16): device names, system
//! databases, files and filegroups, MOVE, point in time. Numbers and texts are SQL Server's,
//! from Microsoft's "Database Engine events and errors" (docs/sql-messages.md).

use super::{INFO, SqlMessage, USER_ERROR, cannot_open_device, msg};

/// 3253: BLOCKSIZE in range but not a power of 2.
pub fn block_size_not_power_of_two(line: u32) -> SqlMessage {
    msg(
        3253,
        USER_ERROR,
        1,
        line,
        "The block size parameter must supply a value that is a power of 2.".to_owned(),
    )
}

/// 3217: a parameter whose value has the wrong shape (MAXTRANSFERSIZE not a multiple of 64 KB,
/// an unknown ALGORITHM).
pub fn invalid_parameter_value(line: u32, parameter: &str) -> SqlMessage {
    msg(
        3217,
        USER_ERROR,
        1,
        line,
        format!("Invalid value specified for {parameter} parameter."),
    )
}

/// 3044: `VIRTUAL_DEVICE = ''`.
pub fn zero_length_device_name(line: u32) -> SqlMessage {
    msg(
        3044,
        USER_ERROR,
        2,
        line,
        "Invalid zero-length device name. Reissue the BACKUP statement with a valid device name."
            .to_owned(),
    )
}

/// 3057: a device name longer than the limit.
pub fn device_name_too_long(line: u32, max: usize) -> SqlMessage {
    msg(
        3057,
        USER_ERROR,
        1,
        line,
        format!(
            "Invalid device name. The length of the device name provided exceeds supported limit (maximum length is:{max}). Reissue the BACKUP statement with a valid device name."
        ),
    )
}

/// 3201 with operating system error 32: the same device named twice (its second open finds the
/// first holding it).
pub fn device_named_twice(line: u32, device: &str) -> SqlMessage {
    cannot_open_device(line, device, 32)
}

/// 3011: VIRTUAL_DEVICE mixed with DISK, TAPE or URL.
pub fn devices_of_different_classes(line: u32) -> SqlMessage {
    msg(
        3011,
        USER_ERROR,
        1,
        line,
        "All backup devices must be of the same general class (for example, DISK and TAPE)."
            .to_owned(),
    )
}

/// 3206: a logical backup device (there are none: vdisim has no sp_addumpdevice).
pub fn backup_device_does_not_exist(line: u32, device: &str) -> SqlMessage {
    msg(
        3206,
        USER_ERROR,
        1,
        line,
        format!(
            "Backup device '{device}' does not exist. To view existing backup devices, use the sys.backup_devices catalog view. To create a new backup device use either sp_addumpdevice or SQL Server Management Studio."
        ),
    )
}

/// 3147: any BACKUP or RESTORE of tempdb.
pub fn tempdb_not_allowed(line: u32) -> SqlMessage {
    msg(
        3147,
        USER_ERROR,
        1,
        line,
        "Backup and restore operations are not allowed on database tempdb.".to_owned(),
    )
}

/// 4212: BACKUP LOG master.
pub fn master_log_backup(line: u32) -> SqlMessage {
    msg(
        4212,
        USER_ERROR,
        1,
        line,
        "Cannot back up the log of the master database. Use BACKUP DATABASE instead.".to_owned(),
    )
}

/// 3024: a differential (or file) backup of master.
pub fn master_full_backup_only(line: u32) -> SqlMessage {
    msg(
        3024,
        USER_ERROR,
        1,
        line,
        "You can only perform a full backup of the master database. Use BACKUP DATABASE to back up the entire master database.".to_owned(),
    )
}

/// 3108: RESTORE DATABASE master while the server is not in single-user mode.
pub fn master_restore_needs_single_user(line: u32) -> SqlMessage {
    msg(
        3108,
        USER_ERROR,
        1,
        line,
        "To restore the master database, the server must be running in single-user mode. For information on starting in single-user mode, see \"How to: Start an Instance of SQL Server (sqlservr.exe)\" in Books Online.".to_owned(),
    )
}

/// 3118: a log or differential restore (or a file restore without the primary file) of a
/// database that does not exist.
pub fn restore_cannot_create_database(line: u32, database: &str) -> SqlMessage {
    msg(
        3118,
        USER_ERROR,
        1,
        line,
        format!(
            "The database \"{database}\" does not exist. RESTORE can only create a database when restoring either a full backup or a file backup of the primary file."
        ),
    )
}

/// 927 (level 14): a BACKUP of a database in the middle of a restore sequence.
pub fn database_in_restore(line: u32, database: &str) -> SqlMessage {
    msg(
        927,
        14,
        2,
        line,
        format!("Database '{database}' cannot be opened. It is in the middle of a restore."),
    )
}

/// 3036: a BACKUP of a database left in STANDBY.
pub fn database_in_standby(line: u32, database: &str) -> SqlMessage {
    msg(
        3036,
        USER_ERROR,
        1,
        line,
        format!(
            "The database \"{database}\" is in warm-standby state (set by executing RESTORE WITH STANDBY) and cannot be backed up until the entire restore sequence is completed."
        ),
    )
}

/// 3235: BACKUP … FILE = a name that is no file of the database.
pub fn file_not_part_of_database(line: u32, file: &str, database: &str) -> SqlMessage {
    msg(
        3235,
        USER_ERROR,
        1,
        line,
        format!(
            "The file \"{file}\" is not part of database \"{database}\". You can only list files that are members of this database."
        ),
    )
}

/// 3027: FILEGROUP = a name that is no filegroup of the database.
pub fn filegroup_not_part_of_database(line: u32, filegroup: &str, database: &str) -> SqlMessage {
    msg(
        3027,
        USER_ERROR,
        1,
        line,
        format!("The filegroup \"{filegroup}\" is not part of database \"{database}\"."),
    )
}

/// 3034: a file selection that selects no file.
pub fn no_files_selected(line: u32) -> SqlMessage {
    msg(
        3034,
        USER_ERROR,
        1,
        line,
        "No files were selected to be processed. You may have selected one or more filegroups that have no members.".to_owned(),
    )
}

/// 3190: RESTORE … FILEGROUP = a filegroup the backup set does not hold.
pub fn filegroup_not_in_backup(line: u32, filegroup: &str) -> SqlMessage {
    msg(
        3190,
        USER_ERROR,
        1,
        line,
        format!(
            "Filegroup '{filegroup}' cannot be restored because it does not exist in the backup set."
        ),
    )
}

/// 3144: RESTORE … FILE = a file the backup set does not hold.
pub fn file_not_in_backup(line: u32, file: &str, position: u32, device: &str) -> SqlMessage {
    msg(
        3144,
        USER_ERROR,
        1,
        line,
        format!(
            "File '{file}' was not backed up in file {position} on device '{device}'. The file cannot be restored from this backup set."
        ),
    )
}

/// 3103: WITH PARTIAL used other than to start a piecemeal restore from a full or partial
/// backup, or a restore of only some filegroups of a database that does not exist.
pub fn partial_restore_misused(line: u32) -> SqlMessage {
    msg(
        3103,
        USER_ERROR,
        1,
        line,
        "A partial restore sequence cannot be initiated by this command. To initiate a partial restore sequence, use the WITH PARTIAL clause of the RESTORE statement and provide a backup set which includes a full copy of at least the primary data file. The WITH PARTIAL clause of the RESTORE statement may not be used for any other purpose.".to_owned(),
    )
}

/// 4353: two MOVE clauses for the same logical file.
pub fn conflicting_file_relocations(line: u32, logical: &str) -> SqlMessage {
    msg(
        4353,
        USER_ERROR,
        1,
        line,
        format!(
            "Conflicting file relocations have been specified for file '{logical}'. Only a single WITH MOVE clause should be specified for any logical file name."
        ),
    )
}

/// 3176: two files restored to the same physical name.
pub fn file_claimed_twice(
    line: u32,
    physical: &str,
    first: (&str, i32),
    second: (&str, i32),
) -> SqlMessage {
    msg(
        3176,
        USER_ERROR,
        1,
        line,
        format!(
            "File '{physical}' is claimed by '{}'({}) and '{}'({}). The WITH MOVE clause can be used to relocate one or more files.",
            first.0, first.1, second.0, second.1
        ),
    )
}

/// 3119: follows the problems RESTORE found while planning (MOVE, files).
pub fn restore_planning_problems(line: u32) -> SqlMessage {
    msg(
        3119,
        USER_ERROR,
        1,
        line,
        "Problems were identified while planning for the RESTORE statement. Previous messages provide details.".to_owned(),
    )
}

/// 4322 (informational): STOPAT lies beyond this backup set.
pub fn stop_point_not_reached(line: u32) -> SqlMessage {
    msg(
        4322,
        INFO,
        1,
        line,
        "This backup set contains records that were logged before the designated point in time. The database is being left in the restoring state so that more roll forward can be performed.".to_owned(),
    )
}

/// 4329 (informational): the mark lies beyond this log backup.
pub fn mark_not_reached(line: u32) -> SqlMessage {
    msg(
        4329,
        INFO,
        1,
        line,
        "This log file contains records logged before the designated mark. The database is being left in the Restoring state so you can apply another log file.".to_owned(),
    )
}

/// 4340: STOPATMARK/STOPBEFOREMARK without AFTER on a RESTORE DATABASE.
pub fn point_in_time_log_only(line: u32) -> SqlMessage {
    msg(
        4340,
        USER_ERROR,
        1,
        line,
        "The point-in-time clause of this RESTORE statement is restricted for use by RESTORE LOG statements only. Omit the clause or use a clause that includes a timestamp.".to_owned(),
    )
}

/// 3145: STOPAT on a database in SIMPLE recovery.
pub fn stop_at_in_simple_recovery(line: u32) -> SqlMessage {
    msg(
        3145,
        USER_ERROR,
        1,
        line,
        "The STOPAT option is not supported for databases that use the SIMPLE recovery model."
            .to_owned(),
    )
}

/// 3173: a STOPAT past what the backed-up log holds, with the tail not backed up.
pub fn stop_at_needs_tail(line: u32, database: &str) -> SqlMessage {
    msg(
        3173,
        USER_ERROR,
        1,
        line,
        format!(
            "The STOPAT clause provided with this RESTORE statement indicates that the tail of the log contains changes that must be backed up to reach the target point in time. The tail of the log for the database \"{database}\" has not been backed up. Use BACKUP LOG WITH NORECOVERY to back up the log, or use the WITH REPLACE clause in your RESTORE statement to overwrite the tail of the log."
        ),
    )
}

/// 3170: `STANDBY = ''`.
pub fn standby_file_invalid(line: u32) -> SqlMessage {
    msg(
        3170,
        USER_ERROR,
        1,
        line,
        "The STANDBY filename is invalid.".to_owned(),
    )
}

/// 4318: WITH RECOVERY before the restored files reached the database's point.
pub fn log_too_early_for_recovery(line: u32, file: &str, point: u64, end: u64) -> SqlMessage {
    msg(
        4318,
        USER_ERROR,
        1,
        line,
        format!(
            "File '{file}' has been rolled forward to LSN {point}. This log terminates at LSN {end}, which is too early to apply the WITH RECOVERY option. Reissue the RESTORE LOG statement WITH NORECOVERY."
        ),
    )
}

/// 4333: RECOVERY of a file restore sequence that never got the log it needs.
pub fn log_not_restored(line: u32) -> SqlMessage {
    msg(
        4333,
        USER_ERROR,
        1,
        line,
        "The database cannot be recovered because the log was not restored.".to_owned(),
    )
}

/// 4037: RESTORE … WITH MEDIANAME that differs from the media's.
pub fn media_name_mismatch(line: u32, given: &str, media: &str, device: &str) -> SqlMessage {
    msg(
        4037,
        USER_ERROR,
        1,
        line,
        format!(
            "The user-specified MEDIANAME \"{given}\" does not match the MEDIANAME \"{media}\" of the device \"{device}\"."
        ),
    )
}

/// 4038: WITH FILE = n beyond the backup sets on the media (vdisim's media hold one).
pub fn backup_set_position_not_found(line: u32, position: u32, device: &str) -> SqlMessage {
    msg(
        4038,
        USER_ERROR,
        1,
        line,
        format!("Cannot find file ID {position} on device '{device}'."),
    )
}

/// 3187: RESTORE … WITH CHECKSUM of a backup written without checksums.
pub fn no_checksums_in_backup(line: u32) -> SqlMessage {
    msg(
        3187,
        USER_ERROR,
        1,
        line,
        "RESTORE WITH CHECKSUM cannot be specified because the backup set does not contain checksum information.".to_owned(),
    )
}

/// 4339 (informational): the restore worked but the database cannot be brought online yet.
pub fn restore_needs_more_steps(line: u32) -> SqlMessage {
    msg(
        4339,
        INFO,
        1,
        line,
        "This RESTORE statement successfully performed some actions, but the database could not be brought online because one or more RESTORE steps are needed. Previous messages indicate reasons why recovery cannot occur at this point.".to_owned(),
    )
}

/// 3135: RESTORE LOG from a data backup, or RESTORE DATABASE from a log backup.
pub fn backup_set_created_by(line: u32, device: &str, created_by: &str) -> SqlMessage {
    msg(
        3135,
        USER_ERROR,
        1,
        line,
        format!(
            "The backup set in file '{device}' was created by {created_by} and cannot be used for this restore operation."
        ),
    )
}

/// 4334: `STOPATMARK = 'lsn:…'` that is no LSN.
pub fn mark_not_valid_lsn(line: u32) -> SqlMessage {
    msg(
        4334,
        USER_ERROR,
        1,
        line,
        "The named mark does not identify a valid LSN.".to_owned(),
    )
}

/// 3004: a file backup of the primary filegroup in SIMPLE recovery.
pub fn primary_file_backup_in_simple(line: u32) -> SqlMessage {
    msg(
        3004,
        USER_ERROR,
        1,
        line,
        "The primary filegroup cannot be backed up as a file backup because the database is using the SIMPLE recovery model. Consider taking a partial backup by specifying READ_WRITE_FILEGROUPS.".to_owned(),
    )
}

/// 3219: a file that cannot be part of the operation (a log file in a file backup).
pub fn file_cannot_be_selected(line: u32, name: &str) -> SqlMessage {
    msg(
        3219,
        USER_ERROR,
        1,
        line,
        format!("The file or filegroup \"{name}\" cannot be selected for this operation."),
    )
}

/// 59022 (ours): RESTORE … PAGE = '…', which vdisim does not emulate.
pub fn page_restore_not_emulated(line: u32) -> SqlMessage {
    msg(
        59022,
        USER_ERROR,
        1,
        line,
        "vdisim does not emulate page restores (RESTORE … PAGE = '…'). Restore the file or filegroup that holds the pages instead.".to_owned(),
    )
}
