//! Media directories: one `stripe-NN.vbak` file per device. A backup is written into a hidden
//! staging directory and moved into place only when it succeeded, so a failed backup leaves
//! nothing that looks like a backup and `--overwrite` leaves no stale stripe of an older,
//! wider media set. A restore reads the stripe count from the stripes' media headers.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use vdi_client::reference::{MediaAccess, stripe_path};

/// The staging directory's name, before the process id.
const STAGING_PREFIX: &str = ".vdisim-partial-";

/// A backup being written: the stripes go to `staging` until [`Staging::commit`].
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    staging: PathBuf,
    overwrite: bool,
    committed: bool,
}

/// Checks `dir` for a backup (created with `access`'s mode if missing; refused if not empty
/// unless `overwrite`) and makes the staging directory inside it.
pub fn prepare_backup(dir: &Path, overwrite: bool, access: MediaAccess) -> Result<Staging, String> {
    create_dir(dir, access).map_err(|e| {
        format!(
            "cannot create the media directory {}: {}",
            dir.display(),
            reason(&e)
        )
    })?;
    let mut entries: Vec<String> = fs::read_dir(dir)
        .map_err(|e| {
            format!(
                "cannot read the media directory {}: {}",
                dir.display(),
                reason(&e)
            )
        })?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    if !entries.is_empty() && !overwrite {
        let shown: Vec<&str> = entries.iter().take(3).map(String::as_str).collect();
        let more = if entries.len() > 3 { ", …" } else { "" };
        return Err(format!(
            "the media directory {} is not empty (it holds {}{more}); pass --overwrite to replace the media set in it, or choose an empty directory",
            dir.display(),
            shown.join(", ")
        ));
    }
    let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    create_dir(&staging, access)
        .map_err(|e| format!("cannot create {}: {}", staging.display(), reason(&e)))?;
    Ok(Staging {
        dir: dir.to_owned(),
        staging,
        overwrite,
        committed: false,
    })
}

impl Staging {
    /// Where the client writes the stripes.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Puts the `devices` new stripes in place (after removing every stripe file there under
    /// `--overwrite`).
    pub fn commit(mut self, devices: u16) -> Result<(), String> {
        if self.overwrite {
            for (_, path) in stripe_files(&self.dir)? {
                fs::remove_file(&path).map_err(|e| {
                    format!(
                        "cannot remove the old stripe {}: {}",
                        path.display(),
                        reason(&e)
                    )
                })?;
            }
        }
        for i in 0..devices {
            let (from, to) = (stripe_path(&self.staging, i), stripe_path(&self.dir, i));
            fs::rename(&from, &to).map_err(|e| {
                format!(
                    "cannot move {} to {}: {}",
                    from.display(),
                    to.display(),
                    reason(&e)
                )
            })?;
        }
        self.committed = true;
        let _ = fs::remove_dir_all(&self.staging);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// Creates `dir` if it is missing, with exactly `access`'s mode whatever the umask (an
/// existing directory is the user's business and keeps its mode).
fn create_dir(dir: &Path, access: MediaAccess) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(access.dir_mode())
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(access.dir_mode()))
}

/// The `stripe-NN.vbak` files in `dir`, by stripe number.
fn stripe_files(dir: &Path) -> Result<Vec<(u16, PathBuf)>, String> {
    let mut files: Vec<(u16, PathBuf)> = fs::read_dir(dir)
        .map_err(|e| {
            format!(
                "cannot read the media directory {}: {}",
                dir.display(),
                reason(&e)
            )
        })?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let number = name.strip_prefix("stripe-")?.strip_suffix(".vbak")?;
            Some((number.parse().ok()?, entry.path()))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// What a media directory holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSet {
    /// The stripe (device) count of the media set.
    pub devices: u16,
    /// The stripes' bytes, for the progress display.
    pub bytes: u64,
}

/// Finds the media set in `dir` and checks it is whole: its stripe count (from the media
/// header of `stripe-00.vbak`) equal to `devices` if that is given, and a file for every
/// stripe. Whether the stripes' contents belong together is the server's to check (it says
/// so in SQL Server's messages), as it is for any client.
pub fn inspect_restore(dir: &Path, devices: Option<u16>) -> Result<MediaSet, String> {
    let shown = dir.display();
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(format!(
                "{shown} is not a directory; pass the media directory a backup wrote (its --to) as --from"
            ));
        }
        Err(e) => {
            return Err(format!(
                "the media directory {shown} cannot be read ({}); pass the directory a backup wrote (its --to) as --from",
                reason(&e)
            ));
        }
    }
    let files = stripe_files(dir)?;
    if files.is_empty() {
        return Err(format!(
            "the media directory {shown} holds no media set (no stripe-NN.vbak files); pass the directory a backup wrote (its --to) as --from"
        ));
    }
    let first = stripe_path(dir, 0);
    let count = match (read_media_header(&first), devices) {
        (Ok((_, count, _)), _) => count,
        // Damaged media: the server will say what is wrong with it.
        (Err(_), Some(d)) if first.exists() => d,
        (Err(e), _) => {
            return Err(format!(
                "cannot read the stripe count of the media set in {shown} from {} ({e}); pass --devices, or restore from a whole backup",
                first.display()
            ));
        }
    };
    let present: Vec<u16> = files.iter().map(|(n, _)| *n).collect();
    let missing: Vec<String> = (0..count)
        .filter(|n| !present.contains(n))
        .map(|n| stripe_path(Path::new(""), n).display().to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the media directory {shown} is incomplete: it holds {} of the {count} stripes of its media set ({} missing); copy the missing stripes back or restore from a whole backup",
            usize::from(count) - missing.len(),
            missing.join(", ")
        ));
    }
    if let Some(d) = devices
        && d != count
    {
        return Err(format!(
            "the media directory {shown} holds a {count}-stripe media set but --devices is {d}; leave --devices out (restore reads the count from the media) or pass --devices {count}"
        ));
    }
    let bytes = files
        .iter()
        .filter(|(n, _)| *n < count)
        .map(|(_, path)| fs::metadata(path).map(|m| m.len()).unwrap_or(0))
        .sum();
    Ok(MediaSet {
        devices: count,
        bytes,
    })
}

/// (media set id, family count, family index) from a stripe's media header.
fn read_media_header(path: &Path) -> Result<([u8; 16], u16, u16), String> {
    let mut file = fs::File::open(path).map_err(|e| reason(&e))?;
    // The headers fit in the first MAXTRANSFERSIZE (4 MiB at most) plus a block.
    let mut head = Vec::new();
    file.by_ref()
        .take((4 << 20) + (64 << 10))
        .read_to_end(&mut head)
        .map_err(|e| reason(&e))?;
    let headers = vdi_server::stream::read_headers(&head).map_err(|e| e.to_string())?;
    Ok((
        headers.media.media_set_id,
        headers.media.family_count,
        headers.media.family_index,
    ))
}

fn reason(e: &std::io::Error) -> String {
    crate::sqlcmd::reason(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_refused_a_non_empty_directory_and_staged_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("stripe-05.vbak"), b"old").unwrap();
        let err = prepare_backup(dir.path(), false, MediaAccess::Owner).unwrap_err();
        assert!(
            err.contains("is not empty (it holds stripe-05.vbak)"),
            "{err}"
        );
        let staging = prepare_backup(dir.path(), true, MediaAccess::Owner).unwrap();
        fs::write(stripe_path(staging.path(), 0), b"new").unwrap();
        staging.commit(1).unwrap();
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["stripe-00.vbak"]);
        // Dropped without commit: nothing is left.
        let staging = prepare_backup(&dir.path().join("fresh"), false, MediaAccess::Owner).unwrap();
        fs::write(stripe_path(staging.path(), 0), b"partial").unwrap();
        drop(staging);
        assert_eq!(fs::read_dir(dir.path().join("fresh")).unwrap().count(), 0);
    }

    #[test]
    fn restore_refuses_missing_and_foreign_media() {
        let dir = tempfile::tempdir().unwrap();
        let err = inspect_restore(&dir.path().join("nope"), None).unwrap_err();
        assert!(
            err.contains("cannot be read (No such file or directory)"),
            "{err}"
        );
        let err = inspect_restore(dir.path(), None).unwrap_err();
        assert!(err.contains("holds no media set"), "{err}");
        fs::write(dir.path().join("stripe-00.vbak"), b"not a backup").unwrap();
        let err = inspect_restore(dir.path(), None).unwrap_err();
        assert!(err.contains("cannot read the stripe count"), "{err}");
        // With --devices, damaged media goes to the server, which names the damage.
        assert_eq!(
            inspect_restore(dir.path(), Some(1)),
            Ok(MediaSet {
                devices: 1,
                bytes: 12
            })
        );
    }
}
