//! Files and filegroups against a real daemon: a filegroup backup, an offline filegroup
//! restore after a tail-log backup, and a piecemeal restore WITH PARTIAL whose left-out
//! filegroup is restored later, each checked page for page (the stream reader regenerates and
//! compares every page; the digest compares every page version); MOVE validation.

mod bk;
mod common;

use bk::*;
use common::Server;

const CREATE: &str = "CREATE DATABASE Sales ON PRIMARY \
     (NAME = Sales, FILENAME = '/var/opt/mssql/data/Sales.mdf', SIZE = 2MB), \
     FILEGROUP Archive (NAME = Sales_archive, FILENAME = '/var/opt/mssql/data/Sales_archive.ndf', SIZE = 2MB) \
     LOG ON (NAME = Sales_log, FILENAME = '/var/opt/mssql/data/Sales_log.ldf', SIZE = 1MB)";

fn work(server: &Server, pages: u32) {
    let text = sql(server, &format!("DBCC VDISIM_WORKLOAD('Sales', {pages})"));
    assert!(msg_numbers(&text).is_empty(), "{text}");
}

struct Media {
    full: std::path::PathBuf,
    archive: std::path::PathBuf,
    log: std::path::PathBuf,
    tail: std::path::PathBuf,
}

/// A full backup, a filegroup backup of Archive, a log backup and a tail-log backup, with
/// work between them; returns the media and the digest at the tail.
fn backups(server: &Server) -> (Media, String) {
    let text = sql(server, CREATE);
    assert!(msg_numbers(&text).is_empty(), "{text}");
    let dir = |n: &str| server.dir.join(n);
    let m = Media {
        full: dir("full"),
        archive: dir("archive"),
        log: dir("log"),
        tail: dir("tail"),
    };
    backup(server, &m.full, 2, "BACKUP DATABASE Sales TO {devices}").ok();
    work(server, 60);
    let text = backup(
        server,
        &m.archive,
        1,
        "BACKUP DATABASE Sales FILEGROUP = 'Archive' TO {devices} WITH NAME = 'archive only'",
    )
    .ok();
    assert!(text.contains("file 'Sales_archive'"), "{text}");
    assert!(
        !text.contains("file 'Sales' on"),
        "only the filegroup: {text}"
    );
    work(server, 60);
    backup(server, &m.log, 1, "BACKUP LOG Sales TO {devices}").ok();
    work(server, 60);
    let digest = digest(server, "Sales");
    backup(
        server,
        &m.tail,
        1,
        "BACKUP LOG Sales TO {devices} WITH NORECOVERY",
    )
    .ok();
    (m, digest)
}

#[test]
fn a_filegroup_backup_restores_offline_and_rolls_forward_to_the_tail() {
    let server = Server::start("filegroups");
    let (m, at_tail) = backups(&server);
    let header = restore(&server, &m.archive, 1, "RESTORE HEADERONLY FROM {devices}").ok();
    assert!(header.contains("File or filegroup"), "{header}");
    let text = restore(
        &server,
        &m.archive,
        1,
        "RESTORE DATABASE Sales FILEGROUP = 'Archive' FROM {devices} WITH NORECOVERY",
    )
    .ok();
    assert!(text.contains("file 'Sales_archive'"), "{text}");
    // Too early for RECOVERY: the filegroup must reach the tail.
    let ran = restore(
        &server,
        &m.log,
        1,
        "RESTORE LOG Sales FROM {devices} WITH RECOVERY",
    );
    assert_eq!(ran.errors(), [4318, 3013], "{}", ran.text);
    restore(
        &server,
        &m.log,
        1,
        "RESTORE LOG Sales FROM {devices} WITH NORECOVERY",
    )
    .ok();
    restore(
        &server,
        &m.tail,
        1,
        "RESTORE LOG Sales FROM {devices} WITH RECOVERY",
    )
    .ok();
    assert_eq!(digest(&server, "Sales"), at_tail);
    let files = rows(
        &server,
        "SELECT name, state_desc FROM Sales.sys.database_files ORDER BY file_id",
    );
    assert_eq!(
        files,
        [
            ["Sales", "ONLINE"],
            ["Sales_log", "ONLINE"],
            ["Sales_archive", "ONLINE"]
        ]
    );
}

#[test]
fn a_piecemeal_restore_brings_the_primary_filegroup_first_and_archive_later() {
    let server = Server::start("piecemeal");
    let (m, at_tail) = backups(&server);
    restore(
        &server,
        &m.full,
        2,
        "RESTORE DATABASE Sales FILEGROUP = 'PRIMARY' FROM {devices} WITH PARTIAL, NORECOVERY, REPLACE",
    )
    .ok();
    restore(
        &server,
        &m.log,
        1,
        "RESTORE LOG Sales FROM {devices} WITH NORECOVERY",
    )
    .ok();
    restore(
        &server,
        &m.tail,
        1,
        "RESTORE LOG Sales FROM {devices} WITH RECOVERY",
    )
    .ok();
    let files = rows(
        &server,
        "SELECT name, state_desc FROM Sales.sys.database_files ORDER BY file_id",
    );
    assert_eq!(
        files,
        [
            ["Sales", "ONLINE"],
            ["Sales_log", "ONLINE"],
            ["Sales_archive", "RECOVERY_PENDING"]
        ]
    );
    assert_ne!(digest(&server, "Sales"), at_tail, "Archive is not back yet");
    // Archive later, from the full backup, rolled forward through the same logs.
    restore(
        &server,
        &m.full,
        2,
        "RESTORE DATABASE Sales FILEGROUP = 'Archive' FROM {devices} WITH NORECOVERY",
    )
    .ok();
    restore(
        &server,
        &m.log,
        1,
        "RESTORE LOG Sales FROM {devices} WITH NORECOVERY",
    )
    .ok();
    restore(
        &server,
        &m.tail,
        1,
        "RESTORE LOG Sales FROM {devices} WITH RECOVERY",
    )
    .ok();
    assert_eq!(digest(&server, "Sales"), at_tail);
    let offline = rows(&server, "DBCC VDISIM_DIGEST('Sales') WITH NO_INFOMSGS");
    assert_eq!(offline[0][3], "0");
}

#[test]
fn file_lists_and_move_are_checked_against_the_backup() {
    let server = Server::start("files-refused");
    let text = sql(&server, CREATE);
    assert!(msg_numbers(&text).is_empty(), "{text}");
    let full = server.dir.join("full");
    backup(&server, &full, 1, "BACKUP DATABASE Sales TO {devices}").ok();
    let refused = |statement: &str| {
        let ran = backup(&server, &server.dir.join("x"), 1, statement);
        ran.errors()
    };
    assert_eq!(
        refused("BACKUP DATABASE Sales FILE = 'Nope' TO {devices}"),
        [3235, 3013]
    );
    assert_eq!(
        refused("BACKUP DATABASE Sales FILEGROUP = 'Nope' TO {devices}"),
        [3027, 3013]
    );
    assert_eq!(
        refused("BACKUP DATABASE Sales FILE = 'Sales_log' TO {devices}"),
        [3219, 3013]
    );
    let restored = |with: &str| {
        restore(
            &server,
            &full,
            1,
            &format!("RESTORE DATABASE Copy FROM {{devices}} WITH {with}"),
        )
    };
    let ran = restored("MOVE 'Nope' TO '/x/a.mdf'");
    assert_eq!(ran.errors(), [3234, 3119, 3013], "{}", ran.text);
    let ran = restored("MOVE 'Sales' TO '/x/a.mdf', MOVE 'Sales' TO '/x/b.mdf'");
    assert_eq!(ran.errors(), [4353, 3119, 3013], "{}", ran.text);
    let ran = restored("MOVE 'Sales' TO '/x/a.mdf', MOVE 'Sales_archive' TO '/x/a.mdf'");
    assert_eq!(ran.errors(), [3176, 3119, 3013], "{}", ran.text);
    let ran = restore(
        &server,
        &full,
        1,
        "RESTORE DATABASE Sales FILEGROUP = 'Nope' FROM {devices} WITH NORECOVERY",
    );
    assert_eq!(ran.errors(), [3190, 3013], "{}", ran.text);
    // MOVE places every file; the copy lists the new names.
    restored(
        "MOVE 'Sales' TO '/x/c.mdf', MOVE 'Sales_archive' TO '/x/c_archive.ndf', MOVE 'Sales_log' TO '/x/c.ldf'",
    )
    .ok();
    let files = rows(
        &server,
        "SELECT name, physical_name FROM Copy.sys.database_files ORDER BY file_id",
    );
    assert_eq!(
        files,
        [
            ["Sales", "/x/c.mdf"],
            ["Sales_log", "/x/c.ldf"],
            ["Sales_archive", "/x/c_archive.ndf"]
        ]
    );
    assert_eq!(digest(&server, "Copy"), digest(&server, "Sales"));
}
