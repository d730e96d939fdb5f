//! The catalog: defaults, create/drop, replace-on-restore, persistence.

use vdi_server::db::{BackupKind, Catalog, CatalogError, RecoveryModel, RestoreState};

#[test]
fn defaults_are_cheap_and_as_documented() {
    let c = Catalog::with_defaults();
    let names: Vec<&str> = c.list().map(|d| d.name()).collect();
    assert_eq!(names, ["AdventureWorks", "pubs"]);
    let aw = c.get("adventureworks").unwrap();
    assert_eq!(aw.data_bytes(), 256 << 20);
    assert_eq!(aw.recovery(), RecoveryModel::Full);
    assert_eq!(aw.filestream().len(), 2);
    assert!(aw.filestream().iter().all(|c| !c.files.is_empty()));
    let pubs = c.get("PUBS").unwrap();
    assert_eq!(pubs.data_bytes(), 4 << 20);
    assert_eq!(pubs.recovery(), RecoveryModel::Simple);
    assert_eq!(aw.files().len(), 4);
    assert_eq!(
        aw.files()[1].physical_name,
        "/var/opt/mssql/data/AdventureWorks_log.ldf"
    );
}

#[test]
fn create_drop_and_errors() {
    let mut c = Catalog::new();
    c.create("Sales", 1 << 20, RecoveryModel::Full, 0).unwrap();
    let e = c
        .create("sales", 1 << 20, RecoveryModel::Full, 0)
        .unwrap_err();
    assert!(matches!(e, CatalogError::AlreadyExists { .. }));
    assert_eq!(e.msg_number(), Some(1801));
    assert!(c.create("", 1, RecoveryModel::Full, 0).is_err());
    c.drop_database("SALES").unwrap();
    assert!(c.get("Sales").is_none());
    assert_eq!(
        c.drop_database("Sales").unwrap_err().msg_number(),
        Some(911)
    );
}

#[test]
fn restore_replaces_only_with_replace() {
    let mut c = Catalog::new();
    let db = c.create("inv", 256 * 1024, RecoveryModel::Full, 1).unwrap();
    db.run_workload(10, 1);
    let image = db.prepare_backup(BackupKind::Full).unwrap();
    let before = db.clone();
    c.get_mut("inv").unwrap().run_workload(10, 2);
    let mut r = RestoreState::new();
    r.apply(&image).unwrap();
    let restored = r.recover().unwrap();
    let e = c.install_restored(restored.clone(), false).unwrap_err();
    assert_eq!(e.msg_number(), Some(3154));
    c.install_restored(restored, true).unwrap();
    assert_eq!(c.get("inv").unwrap().compare(&before), Ok(()));
    // Restore under another name keeps the content.
    let mut r = RestoreState::new();
    r.apply(&image).unwrap();
    let mut copy = r.recover().unwrap();
    copy.set_name("inv_copy");
    c.install_restored(copy, false).unwrap();
    assert_eq!(c.get("inv_copy").unwrap().compare(&before), Ok(()));
}

#[test]
fn persistence_round_trip() {
    let dir = std::env::temp_dir().join(format!("vdisim-catalog-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let mut c = Catalog::open(&dir).unwrap();
        assert!(
            c.get("pubs").is_some(),
            "defaults created in an empty directory"
        );
        let db = c
            .create("odd name/1", 128 * 1024, RecoveryModel::Full, 1)
            .unwrap();
        let img = db.prepare_backup(BackupKind::Full).unwrap();
        db.commit_backup(&img.meta);
        db.run_workload(9, 1);
        c.save("odd name/1").unwrap();
        c.drop_database("pubs").unwrap();
    }
    let c = Catalog::open(&dir).unwrap();
    assert!(c.get("pubs").is_none());
    let db = c.get("ODD NAME/1").unwrap();
    assert_eq!(db.retained_log().len(), 9);
    assert!(db.log_backup_point().is_some());
    let mut fresh = vdi_server::db::Database::new(
        "odd name/1",
        xxhash_rust::xxh3::xxh3_64(b"odd name/1"),
        128 * 1024,
        RecoveryModel::Full,
        1,
    );
    fresh.run_workload(9, 1);
    assert_eq!(db.compare(&fresh), Ok(()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn oversized_and_corrupt_databases_are_refused() {
    let mut c = Catalog::new();
    let e = c
        .create(
            "huge",
            vdi_server::db::MAX_DATABASE_BYTES + 1,
            RecoveryModel::Full,
            0,
        )
        .unwrap_err();
    assert!(matches!(e, CatalogError::TooLarge { .. }));
    let dir = std::env::temp_dir().join(format!("vdisim-catalog-corrupt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.vdb.json"), b"{\"name\": 1}").unwrap();
    assert!(matches!(
        Catalog::open(&dir),
        Err(CatalogError::Corrupt { .. })
    ));
    // Well-formed JSON with inconsistent tables is refused too.
    let db = vdi_server::db::Database::new("t", 1, 64 * 1024, RecoveryModel::Full, 0);
    let mut v: serde_json::Value = serde_json::to_value(&db).unwrap();
    v["page_lsns"] = serde_json::json!([0]);
    std::fs::write(dir.join("bad.vdb.json"), v.to_string()).unwrap();
    assert!(matches!(
        Catalog::open(&dir),
        Err(CatalogError::Corrupt { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
