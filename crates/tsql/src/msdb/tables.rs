//! msdb's history tables with SQL Server 2022's columns, types and nullability.

use super::{Msdb, physical_drive};
use crate::catalog::table::*;
use crate::value::{SYSNAME, Table, Value};

/// Microsoft's vendor id (0x1200) in backupset and backupmediaset.
const MICROSOFT_VENDOR_ID: i32 = 4608;

pub const BACKUPSET: &[Spec] = &[
    ("backup_set_id", INT, false),
    ("backup_set_uuid", GUID, false),
    ("media_set_id", INT, false),
    ("first_family_number", TINYINT, true),
    ("first_media_number", SMALLINT, true),
    ("last_family_number", TINYINT, true),
    ("last_media_number", SMALLINT, true),
    ("catalog_family_number", TINYINT, true),
    ("catalog_media_number", SMALLINT, true),
    ("position", INT, true),
    ("expiration_date", DATETIME, true),
    ("software_vendor_id", INT, true),
    ("name", nvarchar(128), true),
    ("description", nvarchar(255), true),
    ("user_name", nvarchar(128), true),
    ("software_major_version", TINYINT, true),
    ("software_minor_version", TINYINT, true),
    ("software_build_version", SMALLINT, true),
    ("time_zone", SMALLINT, true),
    ("mtf_minor_version", TINYINT, true),
    ("first_lsn", LSN, true),
    ("last_lsn", LSN, true),
    ("checkpoint_lsn", LSN, true),
    ("database_backup_lsn", LSN, true),
    ("database_creation_date", DATETIME, true),
    ("backup_start_date", DATETIME, true),
    ("backup_finish_date", DATETIME, true),
    ("type", char(1), true),
    ("sort_order", SMALLINT, true),
    ("code_page", SMALLINT, true),
    ("compatibility_level", TINYINT, true),
    ("database_version", INT, true),
    ("backup_size", SIZE, true),
    ("database_name", nvarchar(128), true),
    ("server_name", nvarchar(128), true),
    ("machine_name", nvarchar(128), true),
    ("flags", INT, true),
    ("unicode_locale", INT, true),
    ("unicode_compare_style", INT, true),
    ("collation_name", nvarchar(128), true),
    ("is_password_protected", BIT, true),
    ("recovery_model", DESC, true),
    ("has_bulk_logged_data", BIT, true),
    ("is_snapshot", BIT, true),
    ("is_readonly", BIT, true),
    ("is_single_user", BIT, true),
    ("has_backup_checksums", BIT, true),
    ("is_damaged", BIT, true),
    ("begins_log_chain", BIT, true),
    ("has_incomplete_metadata", BIT, true),
    ("is_force_offline", BIT, true),
    ("is_copy_only", BIT, true),
    ("first_recovery_fork_guid", GUID, true),
    ("last_recovery_fork_guid", GUID, true),
    ("fork_point_lsn", LSN, true),
    ("database_guid", GUID, true),
    ("family_guid", GUID, true),
    ("differential_base_lsn", LSN, true),
    ("differential_base_guid", GUID, true),
    ("compressed_backup_size", SIZE, true),
    ("key_algorithm", nvarchar(32), true),
    ("encryptor_thumbprint", SqlType::VarBinary(Some(20)), true),
    ("encryptor_type", nvarchar(32), true),
    ("last_valid_restore_time", DATETIME, true),
    ("compression_algorithm", nvarchar(32), true),
];

use crate::value::SqlType;

fn size(bytes: u64) -> Value {
    whole(i128::from(bytes))
}

pub fn backupset(msdb: &Msdb) -> Table {
    let mut t = table(BACKUPSET);
    for b in &msdb.backup_sets {
        let r = &b.record;
        let families = r.media.devices.len().max(1) as i64;
        let [major, minor, build] = [16, 0, 1000];
        t.push(vec![
            int(b.backup_set_id),
            guid(Some(r.backup_set_uuid)),
            int(b.media_set_id),
            int(1),
            int(1),
            int(families),
            int(1),
            int(1),
            int(1),
            int(r.position),
            opt_datetime(r.expiration_date),
            int(MICROSOFT_VENDOR_ID),
            Value::opt_text(r.name.clone()),
            Value::opt_text(r.description.clone()),
            text(r.user_name.clone()),
            int(major),
            int(minor),
            int(build),
            int(0),
            int(0),
            lsn(Some(r.first_lsn)),
            lsn(Some(r.last_lsn)),
            lsn(Some(r.checkpoint_lsn)),
            lsn(Some(r.database_backup_lsn)),
            datetime(r.database_creation_date),
            datetime(r.backup_start_date),
            datetime(r.backup_finish_date),
            text(r.backup_type.code()),
            int(52),
            int(0),
            int(r.compatibility_level),
            int(crate::catalog::views::databases::DATABASE_VERSION),
            size(r.backup_size),
            text(r.database_name.clone()),
            text(r.server_name.clone()),
            text(r.machine_name.clone()),
            int(r.flags()),
            int(1033),
            int(196_609),
            text(r.collation_name.clone()),
            bit(r.media.is_password_protected),
            text(r.recovery_model.backupset_desc()),
            bit(r.has_bulk_logged_data),
            bit(r.is_snapshot),
            bit(r.is_readonly),
            bit(r.is_single_user),
            bit(r.has_backup_checksums),
            bit(r.is_damaged),
            bit(r.begins_log_chain),
            bit(r.has_incomplete_metadata),
            bit(r.is_force_offline),
            bit(r.is_copy_only),
            guid(Some(r.first_recovery_fork_guid)),
            guid(Some(r.last_recovery_fork_guid)),
            lsn(r.fork_point_lsn),
            guid(Some(r.database_guid)),
            guid(Some(r.family_guid)),
            lsn(r.differential_base_lsn),
            guid(r.differential_base_guid),
            size(r.compressed_backup_size),
            Value::opt_text(r.key_algorithm.clone()),
            Value::Null,
            Value::opt_text(r.encryptor_type.clone()),
            opt_datetime(r.last_valid_restore_time),
            Value::opt_text(r.compression_algorithm.clone()),
        ]);
    }
    t
}

pub fn backupmediaset(msdb: &Msdb) -> Table {
    let mut t = table(&[
        ("media_set_id", INT, false),
        ("media_uuid", GUID, true),
        ("media_family_count", TINYINT, true),
        ("name", nvarchar(128), true),
        ("description", nvarchar(255), true),
        ("software_name", nvarchar(128), true),
        ("software_vendor_id", INT, true),
        ("MTF_major_version", TINYINT, true),
        ("mirror_count", TINYINT, true),
        ("is_password_protected", BIT, true),
        ("is_compressed", BIT, true),
        ("is_encrypted", BIT, true),
    ]);
    for m in &msdb.media_sets {
        let media = &m.media;
        t.push(vec![
            int(m.media_set_id),
            guid(Some(media.media_uuid)),
            int(media.devices.len().min(255) as i64),
            Value::opt_text(media.name.clone()),
            Value::opt_text(media.description.clone()),
            text(media.software_name.clone()),
            int(MICROSOFT_VENDOR_ID),
            int(1),
            int(1),
            bit(media.is_password_protected),
            bit(media.is_compressed),
            bit(media.is_encrypted),
        ]);
    }
    t
}

pub fn backupmediafamily(msdb: &Msdb) -> Table {
    let mut t = table(&[
        ("media_set_id", INT, false),
        ("family_sequence_number", TINYINT, false),
        ("media_family_id", GUID, true),
        ("media_count", INT, true),
        ("logical_device_name", nvarchar(128), true),
        ("physical_device_name", nvarchar(260), true),
        ("device_type", TINYINT, true),
        ("physical_block_size", INT, true),
        ("mirror", TINYINT, false),
    ]);
    for m in &msdb.media_sets {
        for (i, device) in m.media.devices.iter().enumerate() {
            let seq = i as i64 + 1;
            let mut family_id = m.media.media_uuid;
            family_id[15] ^= seq as u8;
            t.push(vec![
                int(m.media_set_id),
                int(seq),
                guid(Some(family_id)),
                int(1),
                Value::Null,
                text(device.clone()),
                int(m.media.device_type),
                int(m.media.physical_block_size),
                int(0),
            ]);
        }
    }
    t
}

pub fn backupfile(msdb: &Msdb) -> Table {
    let mut t = table(&[
        ("backup_set_id", INT, false),
        ("first_family_number", TINYINT, true),
        ("first_media_number", SMALLINT, true),
        ("filegroup_name", nvarchar(128), true),
        ("page_size", INT, true),
        ("file_number", NUM10, false),
        ("backed_up_page_count", NUM10, true),
        ("file_type", char(1), true),
        ("source_file_block_size", NUM10, true),
        ("file_size", SIZE, true),
        ("logical_name", nvarchar(128), true),
        ("physical_drive", nvarchar(260), true),
        ("physical_name", nvarchar(260), true),
        ("state", TINYINT, true),
        ("state_desc", nvarchar(64), true),
        ("create_lsn", LSN, true),
        ("drop_lsn", LSN, true),
        ("file_guid", GUID, true),
        ("read_only_lsn", LSN, true),
        ("read_write_lsn", LSN, true),
        ("differential_base_lsn", LSN, true),
        ("differential_base_guid", GUID, true),
        ("backup_size", SIZE, true),
        ("filegroup_guid", GUID, true),
        ("is_readonly", BIT, true),
        ("is_present", BIT, true),
    ]);
    for b in &msdb.backup_sets {
        for f in &b.record.files {
            t.push(vec![
                int(b.backup_set_id),
                int(1),
                int(1),
                Value::opt_text(f.filegroup_name.clone()),
                int(8192),
                whole(i128::from(f.file_id)),
                whole(i128::from(f.backed_up_page_count)),
                text(f.file_type.backup_letter().to_string()),
                whole(512),
                size(f.file_size),
                text(f.logical_name.clone()),
                text(physical_drive(&f.physical_name)),
                text(f.physical_name.clone()),
                int(f.state.code()),
                text(f.state.desc()),
                lsn(Some(f.create_lsn)),
                Value::Null,
                guid(Some(f.file_guid)),
                lsn(f.read_only_lsn),
                lsn(f.read_write_lsn),
                lsn(f.differential_base_lsn),
                guid(f.differential_base_guid),
                size(if f.is_present { f.backup_size } else { 0 }),
                guid(f.filegroup_guid),
                bit(f.is_readonly),
                bit(f.is_present),
            ]);
        }
    }
    t
}

pub fn backupfilegroup(msdb: &Msdb) -> Table {
    let mut t = table(&[
        ("backup_set_id", INT, false),
        ("name", SYSNAME, false),
        ("filegroup_id", INT, false),
        ("filegroup_guid", GUID, true),
        ("type", char(2), false),
        ("type_desc", DESC, false),
        ("is_default", BIT, false),
        ("is_readonly", BIT, false),
        ("log_filegroup_guid", GUID, true),
    ]);
    for b in &msdb.backup_sets {
        for g in &b.record.filegroups {
            t.push(vec![
                int(b.backup_set_id),
                text(g.name.clone()),
                int(g.filegroup_id),
                guid(g.filegroup_guid),
                text(g.filegroup_type.code()),
                text(g.filegroup_type.desc()),
                bit(g.is_default),
                bit(g.is_readonly),
                Value::Null,
            ]);
        }
    }
    t
}

pub fn restorehistory(msdb: &Msdb) -> Table {
    let mut t = table(&[
        ("restore_history_id", INT, false),
        ("restore_date", DATETIME, true),
        ("destination_database_name", nvarchar(128), true),
        ("user_name", nvarchar(128), true),
        ("backup_set_id", INT, false),
        ("restore_type", char(1), true),
        ("replace", BIT, true),
        ("recovery", BIT, true),
        ("restart", BIT, true),
        ("stop_at", DATETIME, true),
        ("device_count", TINYINT, true),
        ("stop_at_mark_name", nvarchar(128), true),
        ("stop_before", BIT, true),
    ]);
    for r in &msdb.restores {
        let rec = &r.record;
        t.push(vec![
            int(r.restore_history_id),
            datetime(rec.restore_date),
            text(rec.destination_database_name.clone()),
            text(rec.user_name.clone()),
            int(rec.backup_set_id),
            text(rec.restore_type.code()),
            bit(rec.replace),
            bit(rec.recovery),
            bit(rec.restart),
            opt_datetime(rec.stop_at),
            int(rec.device_count),
            Value::opt_text(rec.stop_at_mark_name.clone()),
            rec.stop_before.map_or(Value::Null, bit),
        ]);
    }
    t
}

pub fn restorefile(msdb: &Msdb) -> Table {
    let mut t = table(&[
        ("restore_history_id", INT, false),
        ("file_number", NUM10, true),
        ("destination_phys_drive", nvarchar(260), true),
        ("destination_phys_name", nvarchar(260), true),
    ]);
    for r in &msdb.restores {
        for f in &r.record.files {
            t.push(vec![
                int(r.restore_history_id),
                whole(i128::from(f.file_number)),
                text(physical_drive(&f.destination_physical_name)),
                text(f.destination_physical_name.clone()),
            ]);
        }
    }
    t
}

pub fn restorefilegroup(msdb: &Msdb) -> Table {
    let mut t = table(&[
        ("restore_history_id", INT, false),
        ("filegroup_name", nvarchar(128), true),
    ]);
    for r in &msdb.restores {
        for g in &r.record.filegroups {
            t.push(vec![int(r.restore_history_id), text(g.clone())]);
        }
    }
    t
}
