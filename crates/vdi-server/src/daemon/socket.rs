//! Creating the listening socket: mode 0600 whatever the umask, never over a live daemon, and
//! removed at shutdown only if it is still ours.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use super::DaemonError;

/// The socket file's identity, so shutdown never removes a successor's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(path: &Path) -> io::Result<FileId> {
        let m = fs::symlink_metadata(path)?;
        Ok(FileId {
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> DaemonError + '_ {
    move |source| DaemonError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates `dir` (and its missing parents), each with mode 0700 set explicitly so the umask
/// can neither loosen nor empty it. With `private`, an existing directory must belong to us and
/// is made 0700.
pub(crate) fn prepare_directory(dir: &Path, private: bool) -> Result<(), DaemonError> {
    let mut missing = Vec::new();
    let mut probe = dir;
    while !probe.as_os_str().is_empty() && !probe.exists() {
        missing.push(probe);
        probe = probe.parent().unwrap_or(Path::new(""));
    }
    for created in missing.iter().rev() {
        match fs::create_dir(created) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(created)(e)),
        }
        fs::set_permissions(created, fs::Permissions::from_mode(0o700))
            .map_err(io_error(created))?;
    }
    if !missing.is_empty() {
        return Ok(());
    }
    if private {
        let m = fs::metadata(dir).map_err(io_error(dir))?;
        let uid = rustix::process::getuid().as_raw();
        if m.uid() != uid {
            return Err(DaemonError::UnsafeDirectory {
                path: dir.to_owned(),
                reason: format!("it belongs to uid {}, not to this user ({uid})", m.uid()),
            });
        }
        if m.mode() & 0o777 != 0o700 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_error(dir))?;
        }
    }
    Ok(())
}

/// Removes a stale socket at `path`; refuses if a daemon answers there or the path is not a
/// socket.
fn clear_stale(path: &Path) -> Result<(), DaemonError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(DaemonError::NotASocket {
            path: path.to_owned(),
        });
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(DaemonError::AlreadyRunning {
            path: path.to_owned(),
        }),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(path)(e)),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Binds the socket in a private staging directory, sets mode 0600, then links it into place,
/// so the socket is never reachable with a looser mode and never replaces another daemon's
/// (the link fails if the name exists).
///
/// The staging path (`<dir>/.s<8 hex>/s`) can be a few bytes longer than the socket's own. If
/// it is too long for a socket address (108 bytes), or the file system refuses the link, the
/// socket is bound in place and its mode set right after (bind also refuses an existing name).
pub(crate) fn bind(path: &Path) -> Result<(UnixListener, FileId), DaemonError> {
    clear_stale(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let staging = dir.join(format!(".s{:08x}", fastrand::u32(..)));
    fs::create_dir(&staging).map_err(io_error(&staging))?;
    let result = bind_in(&staging, path);
    let _ = fs::remove_dir_all(&staging);
    match result {
        Err(DaemonError::Io { .. }) => bind_in_place(path),
        other => other,
    }
}

fn bind_in_place(path: &Path) -> Result<(UnixListener, FileId), DaemonError> {
    let listener = UnixListener::bind(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AddrInUse {
            DaemonError::AlreadyRunning {
                path: path.to_owned(),
            }
        } else {
            io_error(path)(e)
        }
    })?;
    let id = FileId::of(path).map_err(io_error(path))?;
    if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(0o600)) {
        remove_if_ours(path, id);
        return Err(io_error(path)(e));
    }
    Ok((listener, id))
}

fn bind_in(staging: &Path, path: &Path) -> Result<(UnixListener, FileId), DaemonError> {
    fs::set_permissions(staging, fs::Permissions::from_mode(0o700)).map_err(io_error(staging))?;
    let temp: PathBuf = staging.join("s");
    let listener = UnixListener::bind(&temp).map_err(io_error(&temp))?;
    fs::set_permissions(&temp, fs::Permissions::from_mode(0o600)).map_err(io_error(&temp))?;
    match fs::hard_link(&temp, path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(DaemonError::AlreadyRunning {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(io_error(path)(e)),
    }
    let id = FileId::of(path).map_err(io_error(path))?;
    Ok((listener, id))
}

/// Removes the socket file if it is still the one we created.
pub(crate) fn remove_if_ours(path: &Path, id: FileId) {
    if FileId::of(path).is_ok_and(|now| now == id) {
        let _ = fs::remove_file(path);
    }
}

/// Raises this process's soft descriptor limit to its hard limit (a daemon with many
/// connections needs one descriptor each) and returns how many connections fit in it, keeping
/// `reserve` descriptors for everything else.
pub(crate) fn connections_within_fd_limit(wanted: usize, reserve: u64) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if setrlimit(Resource::Nofile, limit).is_err() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    match limit.current {
        Some(n) => usize::try_from(n.saturating_sub(reserve))
            .unwrap_or(usize::MAX)
            .clamp(1, wanted.max(1)),
        None => wanted,
    }
}
