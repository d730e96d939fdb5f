//! Snapshot backups and restores through a virtual device (vdi-facts §8.4; docs/snapshots.md).
//!
//! vdisim has no volumes to snapshot, so it keeps a **volume directory** (`JobOptions::volumes`,
//! by default `volumes/` beside the daemon's socket). While a database is frozen for a
//! snapshot, its frozen image is the file `<volumes>/<database>/database.img`; it exists only
//! during the freeze, so a client that "snapshots" before the freeze or after it thawed finds
//! nothing (or a stale copy the restore then refuses). At RESTORE … WITH SNAPSHOT the client
//! answers VDC_MountSnapshot by putting the captured file back at
//! `<volumes>/<target database>/database.img`; the server checks it byte for byte (SHA-256)
//! against the metadata and then the database state against the backup's LSNs.
//!
//! The metadata a snapshot BACKUP writes (VDC_Write) and a snapshot RESTORE reads (VDC_Read)
//! is a sequence of frames, each padded to the block size: the magic `VDISNAP1`, a
//! little-endian u32 part number, a u32 length, then that many bytes of JSON.

mod backup;
mod io;
mod restore;
mod tsql;

pub(super) use backup::run as backup;
pub(super) use restore::run as restore;

use crate::db::BackupMeta;
use crate::tsql::SqlMessage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The magic of a metadata frame.
pub const FRAME_MAGIC: &[u8; 8] = b"VDISNAP1";
/// The file a frozen database is presented as in its volume directory.
pub const IMAGE_FILE: &str = "database.img";
/// How long a database may stay frozen by default before the server aborts the snapshot.
pub const DEFAULT_MAX_FREEZE: std::time::Duration = std::time::Duration::from_secs(60);

const USER_ERROR: u8 = 16;

/// Part 1, written before the freeze: what is about to be snapshotted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Prologue {
    pub database: String,
    pub server: String,
    /// The files SQL Server would freeze: logical and physical names.
    pub files: Vec<(String, String)>,
}

/// Part 2, written while frozen: what the snapshot must contain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Frozen {
    /// The backup's headers (LSNs, state hash, file list).
    pub meta: BackupMeta,
    /// SHA-256 (hex) of the image file presented during the freeze.
    pub image_sha256: String,
    /// Its length in bytes.
    pub image_bytes: u64,
    /// Where it was presented.
    pub image_path: String,
    /// The image is the database as frozen, before the backup's checkpoint: a restore replays
    /// the checkpoint (a full backup at this clock, COPY_ONLY or not) on the mounted image and
    /// must arrive at `meta`'s LSNs and state.
    pub clock: crate::tsql::value::DateTime,
    pub copy_only: bool,
}

/// The directory a database's image is presented in.
#[must_use]
pub fn volume_dir(volumes: &Path, database: &str) -> PathBuf {
    volumes.join(database.to_lowercase())
}

/// The image file of a database.
#[must_use]
pub fn image_path(volumes: &Path, database: &str) -> PathBuf {
    volume_dir(volumes, database).join(IMAGE_FILE)
}

/// SHA-256 in lower-case hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One frame, padded with zeros to a multiple of `block`.
#[must_use]
pub fn encode_frame(part: u32, json: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len() + 16 + block);
    out.extend_from_slice(FRAME_MAGIC);
    out.extend_from_slice(&part.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(json);
    let block = block.max(1);
    out.resize(out.len().div_ceil(block) * block, 0);
    out
}

/// The frames of a metadata stream: (part, JSON) in order. `Err` names what is wrong.
pub fn decode_frames(mut data: &[u8], block: usize) -> Result<Vec<(u32, Vec<u8>)>, String> {
    let block = block.max(1);
    let mut frames = Vec::new();
    while data.len() >= 16 && data[..8] == FRAME_MAGIC[..] {
        let part = u32::from_le_bytes(data[8..12].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(data[12..16].try_into().expect("4 bytes")) as usize;
        if data.len() < 16 + len {
            return Err(format!("frame {part} is cut short"));
        }
        frames.push((part, data[16..16 + len].to_vec()));
        let used = (16 + len).div_ceil(block) * block;
        data = &data[used.min(data.len())..];
    }
    if frames.is_empty() {
        return Err("no snapshot metadata on the device".into());
    }
    if data.iter().any(|b| *b != 0) {
        return Err("data after the snapshot metadata".into());
    }
    Ok(frames)
}

/// Writes `bytes` as the image file (0600, its directory 0700), replacing any older one.
pub fn present_image(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let tmp = path.with_extension("partial");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Under the freeze: takes the backup's checkpoint on the live database, describes the backup
/// set, and presents the frozen database's image at `path`. `Err`: the messages to report.
pub(super) fn freeze_image(
    ctx: &crate::engine::jobs::JobContext<'_>,
    stmt: &crate::tsql::BackupStatement,
    database: &str,
    copy_only: bool,
    path: &Path,
) -> Result<Frozen, Vec<SqlMessage>> {
    let line = ctx.line();
    let now = crate::engine::datetime_now();
    let request = crate::db::BackupRequest {
        kind: crate::db::BackupKind::Full,
        copy_only,
        ..crate::db::BackupRequest::default()
    };
    let prepared = ctx.update_database(database, |d| {
        // The image is the database as frozen; the clock only matters to the checkpoint.
        let bytes = serde_json::to_vec(&*d);
        d.set_clock(now);
        d.prepare(&request).map(|image| (image.meta, bytes))
    });
    let (mut meta, bytes) = match prepared {
        Ok(Ok((meta, Ok(bytes)))) => (meta, bytes),
        Ok(Ok((_, Err(e)))) => {
            return Err(vec![super::messages::internal(line, &e.to_string())]);
        }
        Ok(Err(e)) => return Err(vec![super::messages::backup_refused(line, &e)]),
        Err(e) => {
            return Err(vec![crate::tsql::messages::catalog_io_failed(
                line,
                &e.to_string(),
            )]);
        }
    };
    super::backup::describe::describe(ctx, stmt, &mut meta, now);
    if let Err(e) = present_image(path, &bytes) {
        return Err(vec![cannot_open_file(line, path, &e)]);
    }
    Ok(Frozen {
        meta,
        image_sha256: sha256_hex(&bytes),
        image_bytes: bytes.len() as u64,
        image_path: path.display().to_string(),
        clock: now,
        copy_only,
    })
}

/// The full backup a mounted image stands for: the backup's checkpoint replayed on it, which
/// must reproduce the recorded LSNs and state. `Err` says what differs.
pub(super) fn replay(mounted: &[u8], frozen: &Frozen) -> Result<crate::db::BackupImage, String> {
    let sha = sha256_hex(mounted);
    if sha != frozen.image_sha256 {
        return Err(format!(
            "the image has {} bytes with SHA-256 {sha}, the snapshot froze {} bytes with SHA-256 {}",
            mounted.len(),
            frozen.image_bytes,
            frozen.image_sha256
        ));
    }
    let mut db: crate::db::Database =
        serde_json::from_slice(mounted).map_err(|e| format!("the image cannot be read: {e}"))?;
    db.set_clock(frozen.clock);
    let request = crate::db::BackupRequest {
        kind: crate::db::BackupKind::Full,
        copy_only: frozen.copy_only,
        ..crate::db::BackupRequest::default()
    };
    let image = db.prepare(&request).map_err(|e| e.to_string())?;
    let (m, want) = (&image.meta, &frozen.meta);
    if (m.state_hash, m.checkpoint_lsn, m.last_lsn)
        != (want.state_hash, want.checkpoint_lsn, want.last_lsn)
    {
        return Err(format!(
            "the image is at LSN {} (state {:016x}), the snapshot at LSN {} (state {:016x})",
            m.last_lsn, m.state_hash, want.last_lsn, want.state_hash
        ));
    }
    Ok(crate::db::BackupImage {
        meta: frozen.meta.clone(),
        ..image
    })
}

/// 3032 for a snapshot statement naming more than one device (decision 63).
pub fn one_device_only(line: u32) -> SqlMessage {
    crate::tsql::messages::options_not_supported(line, "SNAPSHOT")
}

/// 59025 (ours): the freeze held longer than `--max-freeze` and the server aborted it.
pub fn freeze_too_long(line: u32, database: &str, held_ms: u128, limit_ms: u128) -> SqlMessage {
    SqlMessage::new(
        59025,
        USER_ERROR,
        1,
        line,
        format!(
            "The snapshot of database '{database}' was aborted: the database stayed frozen for {held_ms} ms, longer than the server's limit of {limit_ms} ms (--max-freeze). Writes to the database have resumed."
        ),
    )
}

/// 59023 (ours, level 10): the freeze window a snapshot held.
pub fn freeze_window(line: u32, database: &str, held_ms: u128, limit_ms: u128) -> SqlMessage {
    SqlMessage::new(
        59023,
        10,
        1,
        line,
        format!(
            "Database '{database}' was frozen for {held_ms} ms for the snapshot (limit {limit_ms} ms)."
        ),
    )
}

/// 59024 (ours): the files presented at VDC_MountSnapshot (or before RESTORE … WITH
/// METADATA_ONLY) are not the ones captured at VDC_Snapshot.
pub fn mounted_files_differ(line: u32, database: &str, detail: &str) -> SqlMessage {
    SqlMessage::new(
        59024,
        USER_ERROR,
        1,
        line,
        format!(
            "The files presented for the snapshot of database '{database}' are not the files frozen at the snapshot: {detail}."
        ),
    )
}

/// 5120: the presented image cannot be opened.
pub fn cannot_open_file(line: u32, path: &Path, e: &std::io::Error) -> SqlMessage {
    let code = e.raw_os_error().unwrap_or(0);
    SqlMessage::new(
        5120,
        USER_ERROR,
        101,
        line,
        format!(
            "Unable to open the physical file \"{}\". Operating system error {code}: \"{code}({e})\".",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_pad_to_the_block() {
        let mut data = encode_frame(1, b"{\"a\":1}", 512);
        assert_eq!(data.len(), 512);
        data.extend(encode_frame(2, &vec![b'x'; 600], 512));
        assert_eq!(data.len(), 512 + 1024);
        let frames = decode_frames(&data, 512).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], (1, b"{\"a\":1}".to_vec()));
        assert_eq!(frames[1].1.len(), 600);
        assert!(decode_frames(&[0u8; 512], 512).is_err());
        data[700] = b'?';
        assert!(decode_frames(&data[..530], 512).is_err());
    }
}
