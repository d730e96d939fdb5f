//! The reference client's snapshot mode (docs/snapshots.md).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use vdi_proto::win32;

/// Snapshot mode (`vdisim backup|restore --snapshot DIR`; docs/snapshots.md): the client asks
/// for VDF_SnapshotPrepare, answers VDC_PrepareToFreeze, "takes" the snapshot at VDC_Snapshot
/// by copying the image the server presents during the freeze to `captured`, and answers
/// VDC_MountSnapshot by copying `captured` back to where the server mounts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotFiles {
    /// The server's image of the frozen database (BACKUP) or where it mounts the snapshot
    /// (RESTORE): `<volumes>/<database>/database.img`.
    pub volume_image: PathBuf,
    /// The client's copy: `<DIR>/snapshot.img`.
    pub captured: PathBuf,
}

/// Copies `from` to `to` (0600, its directory created 0700), durably: ERROR_SUCCESS, or
/// ERROR_FILE_NOT_FOUND (2) when there is nothing to copy, ERROR_IO_DEVICE otherwise.
pub(super) fn copy_file(from: &Path, to: &Path) -> u32 {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let data = match std::fs::read(from) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return 2,
        Err(_) => return win32::ERROR_IO_DEVICE,
    };
    let written = (|| -> std::io::Result<()> {
        if let Some(dir) = to.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(to)?;
        f.write_all(&data)?;
        f.sync_all()
    })();
    if written.is_ok() {
        win32::ERROR_SUCCESS
    } else {
        win32::ERROR_IO_DEVICE
    }
}
