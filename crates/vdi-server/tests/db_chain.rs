//! Full, differential and log backups form chains that restore to the right state.

use vdi_server::db::{
    Applied, BackupError, BackupImage, BackupKind, BackupRequest, ChainError, Database,
    RecoveryModel, RestoreState, StopTarget,
};
use vdi_server::stream::{BackupOptions, assemble, backup_to_memory};
use vdi_server::tsql::value::DateTime;

/// Backs up through the stream and reads it back, so the chain is tested end to end.
fn through_stream(image: &BackupImage, devices: u16, seed: u64) -> BackupImage {
    let opts = BackupOptions {
        block_size: 512,
        max_transfer: 65536,
        devices,
        compression: seed.is_multiple_of(2),
        checksum: true,
        seed,
        ..BackupOptions::default()
    };
    let (stripes, _) = backup_to_memory(image.clone(), opts, seed).unwrap();
    let refs: Vec<&[u8]> = stripes.iter().map(Vec::as_slice).collect();
    let out = assemble(&refs).unwrap();
    assert_eq!(&out, image);
    out
}

fn backup(db: &mut Database, kind: BackupKind) -> BackupImage {
    let image = db.prepare_backup(kind).unwrap();
    db.commit_backup(&image.meta);
    image
}

#[test]
fn full_diff_log_log_restores_final_state() {
    let mut db = Database::new("chain", 11, 1 << 20, RecoveryModel::Full, 1);
    db.run_workload(30, 1);
    let full = through_stream(&backup(&mut db, BackupKind::Full), 2, 1);
    db.run_workload(40, 2);
    let diff = through_stream(&backup(&mut db, BackupKind::Differential), 3, 2);
    assert!(!diff.pages.is_empty() && diff.pages.len() <= 40);
    db.run_workload(25, 3);
    let log1 = through_stream(&backup(&mut db, BackupKind::Log), 1, 3);
    db.run_workload(25, 4);
    let log2 = through_stream(&backup(&mut db, BackupKind::Log), 2, 4);
    assert_eq!(log1.meta.last_lsn, log2.meta.first_lsn);
    assert_eq!(log2.log.len(), 25);

    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    assert!(
        r.database().unwrap().compare(&db).is_err(),
        "not yet rolled forward"
    );
    r.apply(&diff).unwrap();
    r.apply(&log1).unwrap();
    r.apply(&log2).unwrap();
    assert_eq!(r.point(), Some(log2.meta.last_lsn));
    let restored = r.recover().unwrap();
    assert_eq!(restored.compare(&db), Ok(()));

    // Full + logs only (skipping the differential) gives the same state: log1 covers the
    // differential's range because the log chain started at the full backup.
    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    let err = r.apply(&log2).unwrap_err();
    assert_eq!(err.msg_number(), 4305);
}

#[test]
fn logs_from_the_full_cover_everything() {
    let mut db = Database::new("chain2", 12, 512 * 1024, RecoveryModel::Full, 0);
    let full = backup(&mut db, BackupKind::Full);
    db.run_workload(10, 1);
    let _diff = backup(&mut db, BackupKind::Differential);
    db.run_workload(10, 2);
    let log1 = backup(&mut db, BackupKind::Log);
    assert_eq!(log1.meta.first_lsn, full.meta.first_lsn);
    assert_eq!(log1.log.len(), 20);
    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    r.apply(&log1).unwrap();
    assert_eq!(r.recover().unwrap().compare(&db), Ok(()));
}

#[test]
fn out_of_order_logs_are_too_recent_or_too_early() {
    let mut db = Database::new("order", 13, 256 * 1024, RecoveryModel::Full, 0);
    let full = backup(&mut db, BackupKind::Full);
    db.run_workload(5, 1);
    let log1 = backup(&mut db, BackupKind::Log);
    db.run_workload(5, 2);
    let log2 = backup(&mut db, BackupKind::Log);
    db.run_workload(5, 3);
    let log3 = backup(&mut db, BackupKind::Log);

    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    let point = r.point().unwrap();
    assert_eq!(
        r.apply(&log2),
        Err(ChainError::LogTooRecent {
            first_lsn: log2.meta.first_lsn,
            last_lsn: log2.meta.last_lsn,
            point
        })
    );
    r.apply(&log1).unwrap();
    let err = r.apply(&log1).unwrap_err();
    assert_eq!(
        err,
        ChainError::LogTooEarly {
            first_lsn: log1.meta.first_lsn,
            last_lsn: log1.meta.last_lsn,
            point: log1.meta.last_lsn
        }
    );
    assert_eq!(err.msg_number(), 4326);
    r.apply(&log2).unwrap();
    let e = r.apply(&log1).unwrap_err();
    assert_eq!(e.msg_number(), 4326);
    r.apply(&log3).unwrap();
    assert_eq!(r.recover().unwrap().compare(&db), Ok(()));
}

#[test]
fn differential_must_match_its_base() {
    let mut db = Database::new("base", 14, 256 * 1024, RecoveryModel::Simple, 0);
    let full1 = backup(&mut db, BackupKind::Full);
    db.run_workload(5, 1);
    let _full2 = backup(&mut db, BackupKind::Full);
    db.run_workload(5, 2);
    let diff = backup(&mut db, BackupKind::Differential);
    let mut r = RestoreState::new();
    assert_eq!(r.apply(&diff), Err(ChainError::NothingToRollForward));
    r.apply(&full1).unwrap();
    let err = r.apply(&diff).unwrap_err();
    assert!(matches!(err, ChainError::DifferentialBaseMismatch { .. }));
    assert_eq!(err.msg_number(), 3136);
}

#[test]
fn backup_errors_are_typed() {
    let mut simple = Database::new("s", 1, 64 * 1024, RecoveryModel::Simple, 0);
    let e = simple.prepare_backup(BackupKind::Log).unwrap_err();
    assert_eq!(e.msg_number(), 4208);
    assert!(matches!(e, BackupError::LogBackupInSimpleRecovery { .. }));
    let e = simple.prepare_backup(BackupKind::Differential).unwrap_err();
    assert_eq!(e.msg_number(), 3035);

    let mut full = Database::new("f", 1, 64 * 1024, RecoveryModel::Full, 0);
    let e = full.prepare_backup(BackupKind::Log).unwrap_err();
    assert_eq!(e.msg_number(), 4214);
    // A prepared but never committed full backup does not start the chain.
    let _ = full.prepare_backup(BackupKind::Full).unwrap();
    assert_eq!(
        full.prepare_backup(BackupKind::Log)
            .unwrap_err()
            .msg_number(),
        4214
    );
    let img = full.prepare_backup(BackupKind::Full).unwrap();
    full.commit_backup(&img.meta);
    assert!(full.prepare_backup(BackupKind::Log).is_ok());
    // Switching to SIMPLE breaks the chain; back in FULL a new full backup is needed.
    full.set_recovery(RecoveryModel::Simple);
    full.set_recovery(RecoveryModel::Full);
    assert_eq!(
        full.prepare_backup(BackupKind::Log)
            .unwrap_err()
            .msg_number(),
        4214
    );
}

#[test]
fn log_backup_truncates_the_log_and_simple_keeps_none() {
    let mut db = Database::new("trunc", 2, 64 * 1024, RecoveryModel::Full, 0);
    db.run_workload(5, 1);
    assert!(
        db.retained_log().is_empty(),
        "no log kept before the first full backup"
    );
    backup(&mut db, BackupKind::Full);
    db.run_workload(7, 2);
    assert_eq!(db.retained_log().len(), 7);
    let log = backup(&mut db, BackupKind::Log);
    assert_eq!(log.log.len(), 7);
    assert!(db.retained_log().is_empty());
    let mut s = Database::new("simple", 2, 64 * 1024, RecoveryModel::Simple, 0);
    backup(&mut s, BackupKind::Full);
    s.run_workload(7, 2);
    assert!(s.retained_log().is_empty());
}

#[test]
fn digest_names_the_first_differing_page() {
    let a = Database::new("d", 5, 64 * 1024, RecoveryModel::Simple, 1);
    let mut b = a.clone();
    let mut rng = fastrand::Rng::with_seed(3);
    b.modify(1, &mut rng);
    let changed = (0..b.page_count())
        .find(|&p| b.page_version(p) != a.page_version(p))
        .unwrap();
    assert_eq!(
        a.compare(&b),
        Err(vdi_server::db::Difference::Page { page: changed })
    );
    assert_ne!(a.digest().combined(), b.digest().combined());
}

#[test]
fn restore_checks_the_recorded_state() {
    let mut db = Database::new("state", 15, 128 * 1024, RecoveryModel::Full, 1);
    let full = backup(&mut db, BackupKind::Full);
    assert_eq!(full.meta.state_hash, db.state_hash());
    db.run_workload(6, 1);
    let log = backup(&mut db, BackupKind::Log);
    // A log image missing one record no longer reaches the recorded state.
    let mut broken = log.clone();
    broken.log.pop();
    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    let err = r.apply(&broken).unwrap_err();
    assert!(matches!(err, ChainError::StateMismatch { .. }), "{err:?}");
    assert_eq!(r.point(), None, "the failed restore sequence is abandoned");
    r.apply(&full).unwrap();
    r.apply(&log).unwrap();
    assert_eq!(r.recover().unwrap().state_hash(), db.state_hash());
}

#[test]
fn a_log_backup_right_after_a_full_backup_restores() {
    let mut db = Database::new("idle", 21, 128 * 1024, RecoveryModel::Full, 0);
    let full = backup(&mut db, BackupKind::Full);
    // No activity: every log backup still ends after the previous backup's end, because
    // every backup writes log records of its own.
    let log1 = through_stream(&backup(&mut db, BackupKind::Log), 1, 5);
    let log2 = backup(&mut db, BackupKind::Log);
    assert!(log1.log.is_empty() && log2.log.is_empty());
    assert!(log1.meta.first_lsn <= full.meta.last_lsn);
    assert!(log1.meta.last_lsn > full.meta.last_lsn);
    assert_eq!(log2.meta.first_lsn, log1.meta.last_lsn);
    assert!(log2.meta.last_lsn > log2.meta.first_lsn);
    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    r.apply(&log1).unwrap();
    assert_eq!(r.apply(&log1).unwrap_err().msg_number(), 4326, "twice");
    r.apply(&log2).unwrap();
    assert_eq!(r.recover().unwrap().compare(&db), Ok(()));
}

#[test]
fn chains_with_and_without_activity_restore_in_order_and_refuse_the_rest() {
    for activity in [false, true] {
        let mut db = Database::new("chain3", 22, 256 * 1024, RecoveryModel::Full, 0);
        let work = |db: &mut Database, seed| {
            if activity {
                db.run_workload(9, seed);
            }
        };
        work(&mut db, 1);
        let full = backup(&mut db, BackupKind::Full);
        work(&mut db, 2);
        let diff = backup(&mut db, BackupKind::Differential);
        let mut logs = Vec::new();
        for seed in 3..6 {
            work(&mut db, seed);
            logs.push(backup(&mut db, BackupKind::Log));
        }
        // In order, with and without the differential.
        for with_diff in [false, true] {
            let mut r = RestoreState::new();
            r.apply(&full).unwrap();
            if with_diff {
                r.apply(&diff).unwrap();
                // The first log starts at the full backup and reaches past the differential.
                assert!(logs[0].meta.first_lsn <= diff.meta.last_lsn);
            }
            for log in &logs {
                r.apply(log).unwrap();
            }
            assert_eq!(r.recover().unwrap().compare(&db), Ok(()), "{activity}");
        }
        // A gap, a duplicate, and a log from before the point.
        let mut r = RestoreState::new();
        r.apply(&full).unwrap();
        assert_eq!(r.apply(&logs[1]).unwrap_err().msg_number(), 4305);
        r.apply(&logs[0]).unwrap();
        r.apply(&logs[1]).unwrap();
        assert_eq!(r.apply(&logs[1]).unwrap_err().msg_number(), 4326);
        assert_eq!(r.apply(&logs[0]).unwrap_err().msg_number(), 4326);
        assert_eq!(r.apply(&diff).unwrap_err().msg_number(), 3136);
        r.apply(&logs[2]).unwrap();
        // Nothing restored: wrong state.
        assert_eq!(
            RestoreState::new().apply(&logs[0]),
            Err(ChainError::NothingToRollForward)
        );
    }
}

#[test]
fn copy_only_backups_change_neither_the_base_nor_the_chain() {
    let mut db = Database::new("copy", 23, 128 * 1024, RecoveryModel::Full, 0);
    let full = backup(&mut db, BackupKind::Full);
    db.run_workload(4, 1);
    let copy = |db: &mut Database, kind| {
        let image = db
            .prepare(&BackupRequest {
                kind,
                copy_only: true,
                ..BackupRequest::default()
            })
            .unwrap();
        db.commit_backup(&image.meta);
        image
    };
    let copy_full = copy(&mut db, BackupKind::Full);
    assert!(copy_full.meta.info.copy_only);
    assert_eq!(db.differential_base(), Some(full.meta.checkpoint_lsn));
    db.run_workload(4, 2);
    let copy_log = copy(&mut db, BackupKind::Log);
    assert_eq!(copy_log.meta.first_lsn, full.meta.first_lsn);
    let log = backup(&mut db, BackupKind::Log);
    assert_eq!(
        log.meta.first_lsn, full.meta.first_lsn,
        "the chain is unchanged"
    );
    assert_eq!(log.log.len(), 8);
    // COPY_ONLY is ignored for a differential, as SQL Server ignores it.
    let diff = copy(&mut db, BackupKind::Differential);
    assert!(!diff.meta.info.copy_only);
    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    r.apply(&log).unwrap();
    assert_eq!(r.recover().unwrap().compare(&db), Ok(()));
}

fn at(second: u64) -> DateTime {
    DateTime {
        days: 739_000,
        ticks: second * 10_000_000,
    }
}

#[test]
fn point_in_time_stops_exactly_at_the_state_of_that_time() {
    let mut db = Database::new("pit", 24, 256 * 1024, RecoveryModel::Full, 0);
    db.set_clock(at(10));
    let full = backup(&mut db, BackupKind::Full);
    let mut states = Vec::new();
    for (i, second) in [20u64, 30, 40].into_iter().enumerate() {
        db.set_clock(at(second));
        db.run_workload(6, i as u64);
        states.push(db.state_hash());
    }
    db.set_clock(at(50));
    let log = through_stream(&backup(&mut db, BackupKind::Log), 2, 9);
    assert!(log.log.iter().all(|r| r.time >= at(20)));
    for (i, stop) in [25u64, 35, 45].into_iter().enumerate() {
        let mut r = RestoreState::new();
        r.apply(&full).unwrap();
        let applied = r
            .apply_until(&log, Some(&StopTarget::Time(at(stop))))
            .unwrap();
        assert_eq!(applied, Applied::Stopped);
        assert_eq!(
            r.recover().unwrap().state_hash(),
            states[i],
            "STOPAT {stop}"
        );
    }
    // Beyond the end of the log: all of it, and the database must stay restoring.
    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    let applied = r
        .apply_until(&log, Some(&StopTarget::Time(at(60))))
        .unwrap();
    assert_eq!(applied, Applied::BeforeStop);
    // Before the full backup: too early for the data backup, and for the log.
    let mut r = RestoreState::new();
    let e = r
        .apply_until(&full, Some(&StopTarget::Time(at(5))))
        .unwrap_err();
    assert_eq!(e.msg_number(), 4338);
    r.apply(&full).unwrap();
    let e = r
        .apply_until(&log, Some(&StopTarget::Time(at(5))))
        .unwrap_err();
    assert_eq!(e.msg_number(), 4335);
}

#[test]
fn marks_stop_before_or_after_the_marked_transaction() {
    let mut db = Database::new("marks", 25, 256 * 1024, RecoveryModel::Full, 0);
    let full = backup(&mut db, BackupKind::Full);
    db.run_workload(5, 1);
    let before = db.state_hash();
    let begin = db.next_lsn();
    db.run_workload(5, 2);
    db.add_mark("nightly", Some("batch"), at(100), Some(begin));
    let after = db.state_hash();
    db.run_workload(5, 3);
    let log = through_stream(&backup(&mut db, BackupKind::Log), 1, 3);
    assert_eq!(log.meta.info.marks.len(), 1);
    let restore = |stop: StopTarget| {
        let mut r = RestoreState::new();
        r.apply(&full).unwrap();
        assert_eq!(r.apply_until(&log, Some(&stop)).unwrap(), Applied::Stopped);
        r.recover().unwrap().state_hash()
    };
    let mark = |before| StopTarget::Mark {
        name: "nightly".into(),
        before,
        after: None,
    };
    assert_eq!(restore(mark(false)), after);
    assert_eq!(restore(mark(true)), before);
    assert_eq!(
        restore(StopTarget::Lsn {
            lsn: begin,
            before: true
        }),
        before
    );
    // A mark that is not in this log: all of it, still restoring.
    let mut r = RestoreState::new();
    r.apply(&full).unwrap();
    let missing = StopTarget::Mark {
        name: "other".into(),
        before: false,
        after: None,
    };
    assert_eq!(
        r.apply_until(&log, Some(&missing)).unwrap(),
        Applied::BeforeStop
    );
}

/// 32 pages: PRIMARY (file 1, 16 pages) and fg2 (file 3, 16 pages).
fn two_filegroups() -> Database {
    use vdi_server::tsql::catalog::{DatabaseFile, DatabaseInfo, FileType, Filegroup};
    let mut db = Database::new("fg", 31, 32 * 8192, RecoveryModel::Full, 0);
    let mut info = DatabaseInfo::new(5, "fg", at(0));
    info.files[0].size_pages = 16;
    let mut second = DatabaseFile::new(3, FileType::Rows, "fg_2", "/d/fg_2.ndf", 16 * 8192);
    second.data_space_id = 2;
    info.files.push(second);
    info.filegroups.push(Filegroup::secondary(2, "fg2"));
    db.set_sql_info(info);
    db
}

#[test]
fn a_filegroup_restore_rolls_forward_to_the_tail_and_a_piecemeal_restore_brings_it_back_later() {
    let mut db = two_filegroups();
    let (files, _) = db.sql_files();
    let data: Vec<_> = files.iter().filter(|f| f.page_count > 0).collect();
    assert_eq!(
        data.iter()
            .map(|f| (f.file_id, f.first_page, f.page_count))
            .collect::<Vec<_>>(),
        [(1, 0, 16), (3, 16, 16)]
    );
    let full = backup(&mut db, BackupKind::Full);
    db.run_workload(20, 1);
    let file_backup = {
        let image = db
            .prepare(&BackupRequest {
                kind: BackupKind::Full,
                scope: Some(vec![3]),
                ..BackupRequest::default()
            })
            .unwrap();
        db.commit_backup(&image.meta);
        image
    };
    assert!(file_backup.pages.iter().all(|p| (16..32).contains(&p.page)));
    assert_eq!(file_backup.meta.info.backup_type(BackupKind::Full), 4);
    let file_backup = through_stream(&file_backup, 2, 6);
    db.run_workload(20, 2);
    let log1 = backup(&mut db, BackupKind::Log);
    db.run_workload(20, 3);
    let tail = backup(&mut db, BackupKind::Log);

    // Offline file restore after the tail: fg2 from the file backup, then the logs.
    let mut r = RestoreState::from_database(db.clone());
    r.apply_files(&file_backup, &[3]).unwrap();
    assert!(r.has_files_behind());
    assert_eq!(
        r.clone().recover().unwrap_err().msg_number(),
        4333,
        "not rolled forward yet"
    );
    assert_eq!(r.log_leaves_files_behind(&log1).unwrap().msg_number(), 4318);
    r.apply(&log1).unwrap();
    r.apply(&tail).unwrap();
    assert!(!r.has_files_behind());
    assert_eq!(r.recover().unwrap().compare(&db), Ok(()));

    // Piecemeal: PRIMARY first, fg2 offline; then fg2 from the file backup and the logs.
    let mut r = RestoreState::new();
    r.apply_partial(&full, &[]).unwrap();
    r.apply(&log1).unwrap();
    r.apply(&tail).unwrap();
    let partial = r.recover().unwrap();
    assert_eq!(partial.offline_files().len(), 1);
    assert_eq!(partial.page_version(20), Some(0), "fg2 was not restored");
    assert_eq!(
        partial.extent_hash(0..16),
        db.extent_hash(0..16),
        "PRIMARY is current"
    );
    let mut r = RestoreState::from_offline_files(partial);
    r.apply_files(&file_backup, &[3]).unwrap();
    r.apply(&log1).unwrap();
    r.apply(&tail).unwrap();
    let whole = r.recover().unwrap();
    assert!(whole.offline_files().is_empty());
    assert_eq!(whole.compare(&db), Ok(()));
    // A partial restore needs the primary filegroup in the backup.
    assert_eq!(
        RestoreState::new()
            .apply_partial(&file_backup, &[3])
            .unwrap_err()
            .msg_number(),
        3103
    );
}
