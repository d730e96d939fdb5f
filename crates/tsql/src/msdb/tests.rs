use super::*;
use crate::catalog::civil::datetime;
use crate::catalog::snapshot::ServerSnapshot;
use crate::catalog::table::check::{assert_typed, cell, names};
use crate::catalog::table::{lsn, whole};
use crate::value::{SqlType, Value};

fn full_backup(msdb: &mut Msdb, day: u32, devices: &[&str]) -> i32 {
    let snap = ServerSnapshot::sample();
    let db = snap.database("pubs").unwrap();
    let mut rec = BackupRecord::for_database(
        db,
        BackupType::Database,
        devices,
        datetime(2024, 5, day, 10, 0, 0),
        datetime(2024, 5, day, 10, 5, 0),
    );
    rec.first_lsn = 37_000_000_010_400_001;
    rec.last_lsn = 37_000_000_012_800_001;
    rec.checkpoint_lsn = 37_000_000_010_400_001;
    rec.database_backup_lsn = 0;
    rec.name = Some(format!("pubs full {day}"));
    rec.server_name = "VDISIM01".into();
    rec.machine_name = "VDISIM01".into();
    rec.backup_set_uuid[0] = day as u8;
    rec.media.media_uuid[0] = day as u8;
    msdb.record_backup(rec)
}

#[test]
fn a_backup_fills_backupset_mediaset_families_files_and_filegroups() {
    let mut msdb = Msdb::new();
    let id = full_backup(&mut msdb, 1, &["vd_a", "vd_b"]);
    assert_eq!(id, 1);

    let set = msdb.table("backupset").unwrap();
    assert_typed(&set);
    assert_eq!(set.columns.len(), 65);
    assert_eq!(
        &names(&set)[..3],
        ["backup_set_id", "backup_set_uuid", "media_set_id"]
    );
    assert_eq!(names(&set).last(), Some(&"compression_algorithm"));
    let ty = |c: &str| set.columns[set.column_index(c).unwrap()].ty;
    for c in [
        "first_lsn",
        "last_lsn",
        "checkpoint_lsn",
        "database_backup_lsn",
        "differential_base_lsn",
        "fork_point_lsn",
    ] {
        assert_eq!(
            ty(c),
            SqlType::Decimal {
                precision: 25,
                scale: 0
            },
            "{c}"
        );
    }
    assert_eq!(
        ty("backup_size"),
        SqlType::Decimal {
            precision: 20,
            scale: 0
        }
    );
    assert_eq!(ty("backup_set_uuid"), SqlType::UniqueIdentifier);
    assert_eq!(ty("type"), SqlType::Char(1));
    assert_eq!(cell(&set, 0, "type"), &Value::text("D"));
    assert_eq!(
        cell(&set, 0, "first_lsn"),
        &lsn(Some(37_000_000_010_400_001))
    );
    assert_eq!(cell(&set, 0, "backup_size"), &whole((8 + 8 + 4 + 2) << 20));
    assert_eq!(cell(&set, 0, "last_family_number"), &Value::Int(2));
    assert_eq!(cell(&set, 0, "recovery_model"), &Value::text("FULL"));
    assert_eq!(cell(&set, 0, "name"), &Value::text("pubs full 1"));
    assert_eq!(cell(&set, 0, "is_copy_only"), &Value::Bit(false));
    assert_eq!(cell(&set, 0, "differential_base_lsn"), &Value::Null);

    let media = msdb.table("backupmediaset").unwrap();
    assert_typed(&media);
    assert_eq!(cell(&media, 0, "media_family_count"), &Value::Int(2));

    let fam = msdb.table("backupmediafamily").unwrap();
    assert_typed(&fam);
    assert_eq!(
        names(&fam),
        [
            "media_set_id",
            "family_sequence_number",
            "media_family_id",
            "media_count",
            "logical_device_name",
            "physical_device_name",
            "device_type",
            "physical_block_size",
            "mirror"
        ]
    );
    assert_eq!(fam.rows.len(), 2);
    assert_eq!(cell(&fam, 1, "physical_device_name"), &Value::text("vd_b"));
    assert_eq!(cell(&fam, 1, "family_sequence_number"), &Value::Int(2));
    assert_eq!(cell(&fam, 0, "device_type"), &Value::Int(7));

    let files = msdb.table("backupfile").unwrap();
    assert_typed(&files);
    assert_eq!(files.rows.len(), 4);
    assert_eq!(cell(&files, 1, "file_type"), &Value::text("L"));
    assert_eq!(cell(&files, 1, "filegroup_name"), &Value::Null);
    assert_eq!(
        cell(&files, 3, "filegroup_name"),
        &Value::text("FG_ARCHIVE")
    );
    assert_eq!(cell(&files, 0, "physical_drive"), &Value::text("/"));
    let groups = msdb.table("backupfilegroup").unwrap();
    assert_typed(&groups);
    assert_eq!(groups.rows.len(), 2);
    assert_eq!(cell(&groups, 1, "type"), &Value::text("FG"));
}

#[test]
fn ids_are_identities_and_media_is_shared_when_appended() {
    let mut msdb = Msdb::new();
    assert_eq!(full_backup(&mut msdb, 1, &["a"]), 1);
    assert_eq!(full_backup(&mut msdb, 2, &["b"]), 2);
    // Same media UUID as the first: a second backup set appended to media set 1.
    let snap = ServerSnapshot::sample();
    let mut rec = BackupRecord::for_database(
        snap.database("pubs").unwrap(),
        BackupType::Log,
        &["a"],
        datetime(2024, 5, 3, 0, 0, 0),
        datetime(2024, 5, 3, 0, 1, 0),
    );
    rec.media.media_uuid = msdb.media_set(1).unwrap().media.media_uuid;
    rec.position = 2;
    assert_eq!(msdb.record_backup(rec), 3);
    assert_eq!(msdb.backup_set(3).unwrap().media_set_id, 1);
    assert_eq!(msdb.media_sets.len(), 2);
    // A log backup lists every file but only the log is present.
    let files = msdb.table("backupfile").unwrap();
    let present: Vec<&Value> = files
        .rows
        .iter()
        .filter(|r| r[0] == Value::Int(3))
        .map(|r| &r[25])
        .collect();
    let log_only = [false, true, false, false].map(Value::Bit);
    assert_eq!(present, log_only.iter().collect::<Vec<_>>());
    msdb.delete_history(datetime(2024, 5, 10, 0, 0, 0));
    assert!(msdb.backup_sets.is_empty());
    assert_eq!(full_backup(&mut msdb, 4, &["c"]), 4);
    assert_eq!(msdb.media_sets[0].media_set_id, 3);
}

#[test]
fn restores_are_recorded_and_deleted_with_their_backup_sets() {
    let mut msdb = Msdb::new();
    let old = full_backup(&mut msdb, 1, &["a"]);
    let new = full_backup(&mut msdb, 5, &["b"]);
    let mut r = RestoreRecord::new(
        "pubs_copy",
        old,
        RestoreType::Database,
        datetime(2024, 5, 6, 0, 0, 0),
    );
    r.replace = true;
    r.recovery = false;
    r.stop_at = Some(datetime(2024, 5, 1, 10, 3, 0));
    r.files.push(RestoreFileRecord {
        file_number: 1,
        destination_physical_name: "C:\\data\\pubs_copy.mdf".into(),
    });
    r.filegroups.push("PRIMARY".into());
    assert_eq!(msdb.record_restore(r), 1);
    let r2 = RestoreRecord::new("pubs", new, RestoreType::Log, datetime(2024, 5, 6, 0, 0, 0));
    assert_eq!(msdb.record_restore(r2), 2);

    let hist = msdb.table("restorehistory").unwrap();
    assert_typed(&hist);
    assert_eq!(
        names(&hist),
        [
            "restore_history_id",
            "restore_date",
            "destination_database_name",
            "user_name",
            "backup_set_id",
            "restore_type",
            "replace",
            "recovery",
            "restart",
            "stop_at",
            "device_count",
            "stop_at_mark_name",
            "stop_before"
        ]
    );
    assert_eq!(cell(&hist, 0, "replace"), &Value::Bit(true));
    assert_eq!(cell(&hist, 0, "stop_before"), &Value::Null);
    assert_eq!(cell(&hist, 1, "restore_type"), &Value::text("L"));
    let files = msdb.table("restorefile").unwrap();
    assert_typed(&files);
    assert_eq!(
        cell(&files, 0, "destination_phys_drive"),
        &Value::text("C:\\")
    );
    assert_typed(&msdb.table("restorefilegroup").unwrap());

    // Everything that finished before May 3: backup set 1, its media and its restore.
    assert_eq!(msdb.delete_history(datetime(2024, 5, 3, 0, 0, 0)), 1);
    assert_eq!(
        msdb.backup_sets
            .iter()
            .map(|b| b.backup_set_id)
            .collect::<Vec<_>>(),
        [new]
    );
    assert_eq!(msdb.media_sets.len(), 1);
    assert_eq!(
        msdb.restores
            .iter()
            .map(|r| r.restore_history_id)
            .collect::<Vec<_>>(),
        [2]
    );
    assert!(msdb.table("restorefile").unwrap().rows.is_empty());
    assert_eq!(msdb.table("backupfile").unwrap().rows.len(), 4);
}

#[test]
fn deleting_a_databases_history() {
    let mut msdb = Msdb::new();
    full_backup(&mut msdb, 1, &["a"]);
    let snap = ServerSnapshot::sample();
    let other = BackupRecord::for_database(
        snap.database("archive").unwrap(),
        BackupType::Database,
        &["x"],
        datetime(2024, 5, 2, 0, 0, 0),
        datetime(2024, 5, 2, 0, 1, 0),
    );
    let other_id = msdb.record_backup(other);
    // A restore of archive's backup into pubs goes with pubs' history.
    msdb.record_restore(RestoreRecord::new(
        "PUBS",
        other_id,
        RestoreType::Database,
        datetime(2024, 5, 3, 0, 0, 0),
    ));
    assert_eq!(msdb.delete_database_history("Pubs"), 1);
    assert_eq!(msdb.backup_sets.len(), 1);
    assert!(msdb.restores.is_empty());
    assert_eq!(msdb.media_sets.len(), 1);
    assert_eq!(msdb.table("backupmediafamily").unwrap().rows.len(), 1);
}

#[test]
fn history_procedures() {
    use crate::catalog::args::ProcArg;
    let mut msdb = Msdb::new();
    full_backup(&mut msdb, 1, &["a"]);
    full_backup(&mut msdb, 9, &["b"]);
    let args = [ProcArg::named(
        "oldest_date",
        SqlType::VarChar(Some(10)),
        Value::text("2024-05-05"),
    )];
    assert_eq!(
        procedures::call("msdb.dbo.sp_delete_backuphistory", &args, &mut msdb)
            .unwrap()
            .unwrap(),
        Vec::<Table>::new()
    );
    assert_eq!(msdb.backup_sets.len(), 1);
    let err = procedures::call("sp_delete_backuphistory", &[], &mut msdb)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (err.number, err.text.as_str()),
        (
            201,
            "Procedure or function 'sp_delete_backuphistory' expects parameter '@oldest_date', which was not supplied."
        )
    );
    let bad = [ProcArg::positional(
        SqlType::VarChar(Some(3)),
        Value::text("bad"),
    )];
    assert_eq!(
        procedures::call("sp_delete_backuphistory", &bad, &mut msdb)
            .unwrap()
            .unwrap_err()
            .number,
        241
    );
    let db = [ProcArg::positional(
        SqlType::NVarChar(Some(128)),
        Value::text("pubs"),
    )];
    procedures::call("[msdb]..[sp_delete_database_backuphistory]", &db, &mut msdb)
        .unwrap()
        .unwrap();
    assert!(msdb.backup_sets.is_empty());
    assert!(procedures::call("sp_helpdb", &[], &mut msdb).is_none());
}

#[test]
fn flags_follow_the_bit_columns() {
    let snap = ServerSnapshot::sample();
    let mut rec = BackupRecord::for_database(
        snap.database("pubs").unwrap(),
        BackupType::Log,
        &["a"],
        datetime(2024, 5, 3, 0, 0, 0),
        datetime(2024, 5, 3, 0, 1, 0),
    );
    assert_eq!(rec.flags(), 0);
    rec.has_backup_checksums = true;
    rec.is_copy_only = true;
    assert_eq!(rec.flags(), 16 | 512);
    assert_eq!(
        BackupType::from_code("q"),
        Some(BackupType::DifferentialPartial)
    );
    assert_eq!(physical_drive("D:\\x.bak"), "D:\\");
    assert_eq!(physical_drive("vd_1"), "");
}

#[test]
fn the_snapshot_fills_server_and_user_names() {
    let snap = ServerSnapshot::sample();
    let rec = snap
        .backup_record(
            "PUBS",
            BackupType::Log,
            &["vd"],
            datetime(2024, 5, 1, 0, 0, 0),
            datetime(2024, 5, 1, 0, 0, 1),
            "backup_op",
        )
        .unwrap();
    assert_eq!(
        (
            rec.server_name.as_str(),
            rec.machine_name.as_str(),
            rec.user_name.as_str()
        ),
        ("VDISIM01", "VDISIM01", "backup_op")
    );
    assert_eq!(rec.database_name, "pubs");
    assert!(
        snap.backup_record(
            "nosuch",
            BackupType::Log,
            &[],
            datetime(2024, 5, 1, 0, 0, 0),
            datetime(2024, 5, 1, 0, 0, 0),
            "sa"
        )
        .is_none()
    );
    let mut msdb = Msdb::new();
    msdb.record_backup(rec);
    let set = msdb.table("backupset").unwrap();
    assert_eq!(cell(&set, 0, "server_name"), &Value::text("VDISIM01"));
    assert_eq!(cell(&set, 0, "type"), &Value::text("L"));
    // A log backup's size is its log file's.
    assert_eq!(cell(&set, 0, "backup_size"), &whole(8 << 20));
}
