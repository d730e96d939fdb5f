//! The reference client: a vendor-style VDI client that stores each stripe in a file.
//!
//! It does what a careful backup product does: asks for VDC_Complete, serves every device on
//! its own thread, writes each stripe to `<dir>/<stripe>.vbak`, makes the data durable (fsync)
//! before it acknowledges a Flush or VDC_Complete, retries VD_E_TIMEOUT, waits for VD_E_CLOSE
//! on every device before Close, and answers Reads from the files, reporting
//! ERROR_HANDLE_EOF at the end. The `Faults` switches turn it into the broken clients the
//! conformance harness uses to test itself.

mod snapshot;

pub use snapshot::SnapshotFiles;
use snapshot::copy_file;

use crate::{ClientVirtualDevice, ClientVirtualDeviceSet, Command};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use vdi_proto::{VdCode, VdConfig, VdError, VdcCode, vdf, win32};

/// The media mode the client asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MediaKind {
    /// Sequential (VDF_LikePipe).
    #[default]
    Pipe,
    /// VDF_LikeTape: filemarks and positioning.
    Tape,
    /// VDF_LikeDisk: every transfer carries its byte position.
    Disk,
}

impl MediaKind {
    /// The feature bits of the mode.
    pub fn features(self) -> u32 {
        match self {
            MediaKind::Pipe => vdf::LIKE_PIPE,
            MediaKind::Tape => vdf::LIKE_TAPE,
            MediaKind::Disk => vdf::LIKE_DISK,
        }
    }
}

/// Deliberate misbehaviour, for testing the harness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Treat the first Flush as the end of the backup: close the stripe files there and
    /// discard everything written after it.
    pub flush_is_end: bool,
    /// Never ask for VDC_Complete.
    pub no_complete: bool,
    /// Close the set as soon as the first device sees a Flush, before VD_E_CLOSE.
    pub close_early: bool,
    /// Give up on the first VD_E_TIMEOUT (of GetConfiguration or, with SignalAbort, of
    /// GetCommand) instead of retrying.
    pub ignore_timeout: bool,
    /// Report 512 bytes fewer than stored for every Write.
    pub short_write: bool,
    /// Flip one byte of the first Read of every device.
    pub corrupt: bool,
    /// Hold VDC_Snapshot this long before taking the snapshot (a slow storage array).
    pub snapshot_hold: Option<Duration>,
    /// Hold VDC_PrepareToFreeze this long before completing it (before the freeze).
    pub prepare_hold: Option<Duration>,
    /// Complete VDC_Snapshot at once, before taking the snapshot: nothing is captured (the
    /// copy would come after the thaw, when the image is withdrawn).
    pub snapshot_early: bool,
}

/// How to run.
#[derive(Clone, Debug)]
pub struct ReferenceOptions {
    /// Number of devices (stripes).
    pub devices: u16,
    /// The media mode.
    pub media: MediaKind,
    /// Ask for VDC_Complete (off under `Faults::no_complete`).
    pub request_complete: bool,
    /// GetConfiguration wait per attempt, in ms (retried while the statement runs).
    pub configuration_timeout_ms: i64,
    /// GetCommand wait per attempt, in ms (VD_E_TIMEOUT is retried).
    pub command_timeout_ms: i64,
    /// Give up waiting for commands after this long without one.
    pub idle_limit: Duration,
    /// Misbehaviour switches.
    pub faults: Faults,
    /// Write the set's transcript here (besides `VDISIM_TRANSCRIPT`), for in-process runs.
    pub transcript: Option<PathBuf>,
    /// VDConfig `prefixZoneSize`: bytes the server keeps free before every buffer (0: none).
    pub prefix_zone_size: u32,
    /// VDConfig `alignment`: the client's minimum buffer alignment (0: the server's choice).
    pub alignment: u32,
    /// Who may read the stripe files a backup writes: the owner only (0600), or its group too
    /// (0640), whatever the umask.
    pub media_access: MediaAccess,
    /// Snapshot mode: where the frozen image is and where the client keeps its copy.
    pub snapshot: Option<SnapshotFiles>,
}

/// The mode of the stripe files (and of a directory the backup creates for them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MediaAccess {
    /// Files 0600, a new directory 0700.
    #[default]
    Owner,
    /// Files 0640, a new directory 0750 (`vdisim backup --group`).
    Group,
}

impl MediaAccess {
    /// The stripe files' mode.
    pub fn file_mode(self) -> u32 {
        match self {
            MediaAccess::Owner => 0o600,
            MediaAccess::Group => 0o640,
        }
    }

    /// The mode of a directory created for the stripes.
    pub fn dir_mode(self) -> u32 {
        match self {
            MediaAccess::Owner => 0o700,
            MediaAccess::Group => 0o750,
        }
    }
}

impl Default for ReferenceOptions {
    fn default() -> Self {
        ReferenceOptions {
            devices: 1,
            media: MediaKind::Pipe,
            request_complete: true,
            configuration_timeout_ms: 1000,
            command_timeout_ms: 1000,
            idle_limit: Duration::from_secs(600),
            faults: Faults::default(),
            transcript: None,
            prefix_zone_size: 0,
            alignment: 0,
            media_access: MediaAccess::Owner,
            snapshot: None,
        }
    }
}

/// Backup (Writes into the files) or restore (Reads from them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// BACKUP.
    Backup,
    /// RESTORE, VERIFYONLY …
    Restore,
}

/// What happened on the client's side.
#[derive(Debug, Default)]
pub struct ClientRun {
    /// Bytes written to or read from the files.
    pub bytes: u64,
    /// Flushes and Completes seen.
    pub flushes: u32,
    /// VDC_Complete commands seen.
    pub completes: u32,
    /// How each device's command loop ended.
    pub endings: Vec<Result<(), VdError>>,
    /// What Close returned.
    pub close: Option<Result<(), VdError>>,
    /// GetConfiguration's error, if the transfer never started.
    pub configuration: Option<VdError>,
    /// Misuse or peer-fault rules the client library recorded.
    pub rules: Vec<vdi_proto::Rule>,
    /// Wall time from Create to Close.
    pub elapsed: Duration,
    /// Snapshot mode: from the completion of VDC_PrepareToFreeze (the freeze) to that of
    /// VDC_Snapshot (the thaw), as the client saw it.
    pub freeze: Option<Duration>,
}

impl ClientRun {
    /// Whether every device ended with VD_E_CLOSE and Close succeeded.
    pub fn clean(&self) -> bool {
        self.configuration.is_none()
            && self
                .endings
                .iter()
                .all(|e| matches!(e, Err(e) if e.code == VdCode::Close))
            && matches!(self.close, Some(Ok(())))
    }
}

/// The file of stripe `i` in `dir`.
pub fn stripe_path(dir: &Path, i: u16) -> PathBuf {
    dir.join(format!("stripe-{i:02}.vbak"))
}

/// The device names a statement must give: the set name, then `<set>_1`, `<set>_2`, …
pub fn device_names(set_name: &str, devices: u16) -> Vec<String> {
    (0..devices)
        .map(|i| {
            if i == 0 {
                set_name.to_string()
            } else {
                format!("{set_name}_{i}")
            }
        })
        .collect()
}

/// A new set name in the SDK samples' GUID style.
///
/// Seeded from std's per-process random hash keys (from the OS), the process id, a counter
/// and the time. With fastrand's own seed (a hash of the monotonic clock and the thread id),
/// two client processes started together by a clean CI run once drew the same name and one
/// of the two BACKUPs failed.
pub fn new_set_name() -> String {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = RandomState::new().hash_one((
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now(),
    ));
    let mut rng = fastrand::Rng::with_seed(seed);
    let a = rng.u32(..);
    let b = rng.u16(..);
    let c = 0x4000 | (rng.u16(..) & 0x0FFF);
    let d = 0x8000 | (rng.u16(..) & 0x3FFF);
    let e = rng.u64(..) & 0xFFFF_FFFF_FFFF;
    format!("{{{a:08X}-{b:04X}-{c:04X}-{d:04X}-{e:012X}}}")
}

/// Runs one client: Create, then `statement` on its own thread (it sends the T-SQL and
/// returns when the statement finished), GetConfiguration, every device on its own thread,
/// Close. `progress` counts bytes as they move.
pub fn run<T: Send + 'static>(
    set_name: &str,
    direction: Direction,
    dir: &Path,
    options: &ReferenceOptions,
    progress: Arc<AtomicU64>,
    statement: impl FnOnce() -> T + Send + 'static,
) -> (ClientRun, T) {
    let started = Instant::now();
    let mut report = ClientRun::default();
    let set = Arc::new(ClientVirtualDeviceSet::new());
    if let Some(path) = &options.transcript
        && let Err(e) = set.set_transcript_path(path)
    {
        eprintln!("vdisim: cannot write transcript {}: {e}", path.display());
    }
    let request_complete = options.request_complete && !options.faults.no_complete;
    let config = VdConfig {
        device_count: u32::from(options.devices),
        features: options.media.features()
            | if request_complete {
                vdf::REQUEST_COMPLETE
            } else {
                0
            },
        prefix_zone_size: options.prefix_zone_size,
        alignment: options.alignment,
        ..VdConfig::default()
    };
    let config = VdConfig {
        features: config.features
            | if options.snapshot.is_some() {
                vdf::SNAPSHOT_PREPARE
            } else {
                0
            },
        ..config
    };
    if let Err(e) = set.create(set_name, &config) {
        report.configuration = Some(e);
        let out = statement();
        return (report, out);
    }
    let sql = std::thread::spawn(statement);
    let mut got = VdConfig::default();
    loop {
        match set.get_configuration(options.configuration_timeout_ms, &mut got) {
            Ok(()) => break,
            Err(e)
                if e.code == VdCode::Timeout
                    && !sql.is_finished()
                    && !options.faults.ignore_timeout =>
            {
                continue;
            }
            Err(e) => {
                if e.code == VdCode::Timeout {
                    // Giving up while the statement may still run: abort, then Close.
                    let _ = set.signal_abort();
                }
                report.configuration = Some(e);
                break;
            }
        }
    }
    if report.configuration.is_none() {
        let names = device_names(set_name, options.devices);
        let mut threads = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let device = match set.open_device(name) {
                Ok(d) => d,
                Err(e) => {
                    report.endings.push(Err(e));
                    continue;
                }
            };
            let worker = Worker {
                device,
                set: set.clone(),
                path: stripe_path(dir, i as u16),
                direction,
                options: options.clone(),
                progress: progress.clone(),
                first_device: i == 0,
            };
            threads.push(std::thread::spawn(move || worker.serve()));
        }
        for t in threads {
            let (ending, flushes, completes, bytes, freeze) = t.join().unwrap_or((
                Err(VdError::new(vdi_proto::Rule::ClientBadMessage)),
                0,
                0,
                0,
                None,
            ));
            report.freeze = report.freeze.or(freeze);
            report.endings.push(ending);
            report.flushes += flushes;
            report.completes += completes;
            report.bytes += bytes;
        }
    }
    report.close = Some(set.close());
    report.rules = set.rule_hits();
    let out = sql.join().expect("the statement thread does not panic");
    report.elapsed = started.elapsed();
    (report, out)
}

/// The freeze window a device saw.
fn freeze_of(media: &Option<Media>) -> Option<Duration> {
    media.as_ref().and_then(|m| m.freeze)
}

struct Worker {
    device: ClientVirtualDevice,
    set: Arc<ClientVirtualDeviceSet>,
    path: PathBuf,
    direction: Direction,
    options: ReferenceOptions,
    progress: Arc<AtomicU64>,
    first_device: bool,
}

/// The stripe file and the tape/disk position state.
struct Media {
    file: File,
    /// Bytes since the start of the file.
    position: u64,
    /// A restore finished reading (EOF reported).
    read_corrupted: bool,
    /// flush_is_end: stop storing after the first Flush.
    sealed: bool,
    /// When VDC_PrepareToFreeze completed (the freeze began).
    frozen_at: Option<Instant>,
    /// From the freeze to the completion of VDC_Snapshot.
    freeze: Option<Duration>,
}

impl Worker {
    fn open_media(&self) -> std::io::Result<Media> {
        let file = match self.direction {
            Direction::Backup => {
                use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
                let mode = self.options.media_access.file_mode();
                let file = OpenOptions::new()
                    .create(true)
                    .write(true)
                    .read(true)
                    .truncate(true)
                    .mode(mode)
                    .open(&self.path)?;
                // Exactly this mode, whatever the umask or an older file's mode.
                file.set_permissions(std::fs::Permissions::from_mode(mode))?;
                file
            }
            Direction::Restore => OpenOptions::new().read(true).open(&self.path)?,
        };
        Ok(Media {
            file,
            position: 0,
            read_corrupted: false,
            sealed: false,
            frozen_at: None,
            freeze: None,
        })
    }

    /// Serves commands until GetCommand fails; returns that ending, the counts and the freeze
    /// window seen.
    #[allow(clippy::type_complexity)]
    fn serve(self) -> (Result<(), VdError>, u32, u32, u64, Option<Duration>) {
        let (mut flushes, mut completes, mut bytes) = (0, 0, 0);
        let mut media = self.open_media().ok();
        let mut idle_since = Instant::now();
        loop {
            let cmd = match self.device.get_command(self.options.command_timeout_ms) {
                Ok(cmd) => cmd,
                Err(e) if e.code == VdCode::Timeout => {
                    if self.options.faults.ignore_timeout
                        || idle_since.elapsed() > self.options.idle_limit
                    {
                        let _ = self.set.signal_abort();
                        return (Err(e), flushes, completes, bytes, freeze_of(&media));
                    }
                    continue;
                }
                Err(e) => return (Err(e), flushes, completes, bytes, freeze_of(&media)),
            };
            idle_since = Instant::now();
            let (code, transferred, position) = match &mut media {
                Some(m) => self.execute(m, &cmd, &mut flushes, &mut completes),
                None => (win32::ERROR_INVALID_HANDLE, 0, 0),
            };
            bytes += transferred;
            self.progress.fetch_add(transferred, Ordering::Relaxed);
            let reported = if self.options.faults.short_write && cmd.code() == VdcCode::Write {
                transferred.saturating_sub(512)
            } else {
                transferred
            };
            if let Err(e) = self.device.complete_command(&cmd, code, reported, position) {
                return (Err(e), flushes, completes, bytes, freeze_of(&media));
            }
            if let Some(m) = &mut media {
                match cmd.code() {
                    VdcCode::PrepareToFreeze => m.frozen_at = Some(Instant::now()),
                    VdcCode::Snapshot => m.freeze = m.frozen_at.map(|t| t.elapsed()),
                    _ => {}
                }
            }
            if self.options.faults.close_early && self.first_device && cmd.code() == VdcCode::Flush
            {
                let _ = self.set.close();
            }
        }
    }

    /// Carries a command out on the media: (completion code, bytes, position).
    fn execute(
        &self,
        m: &mut Media,
        cmd: &Command,
        flushes: &mut u32,
        completes: &mut u32,
    ) -> (u32, u64, u64) {
        let disk = self.options.media == MediaKind::Disk;
        match cmd.code() {
            VdcCode::Write => {
                let mut data = vec![0u8; cmd.size() as usize];
                if !cmd.read_data(&mut data) {
                    return (win32::ERROR_INVALID_HANDLE, 0, 0);
                }
                if m.sealed {
                    return (win32::ERROR_SUCCESS, data.len() as u64, 0);
                }
                if disk && m.file.seek(SeekFrom::Start(cmd.position())).is_err() {
                    return (win32::ERROR_IO_DEVICE, 0, 0);
                }
                match m.file.write_all(&data) {
                    Ok(()) => {
                        m.position =
                            if disk { cmd.position() } else { m.position } + data.len() as u64;
                        (win32::ERROR_SUCCESS, data.len() as u64, 0)
                    }
                    Err(_) => (win32::ERROR_DISK_FULL, 0, 0),
                }
            }
            VdcCode::Read => {
                let mut data = vec![0u8; cmd.size() as usize];
                if disk && m.file.seek(SeekFrom::Start(cmd.position())).is_err() {
                    return (win32::ERROR_IO_DEVICE, 0, 0);
                }
                let mut filled = 0;
                while filled < data.len() {
                    match m.file.read(&mut data[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(_) => return (win32::ERROR_IO_DEVICE, 0, 0),
                    }
                }
                if self.options.faults.corrupt && !m.read_corrupted && filled > 100 {
                    data[filled / 2] ^= 0x01;
                    m.read_corrupted = true;
                }
                m.position += filled as u64;
                cmd.write_data(&data[..filled]);
                let code = if filled < data.len() {
                    win32::ERROR_HANDLE_EOF
                } else {
                    win32::ERROR_SUCCESS
                };
                (code, filled as u64, 0)
            }
            VdcCode::Flush => {
                *flushes += 1;
                if self.options.faults.flush_is_end {
                    m.sealed = true;
                }
                let synced = m.file.sync_data().is_ok();
                // Under VDF_LikeDisk a Flush also marks the end of the file (vdi-facts §6).
                if disk && !m.sealed {
                    let _ = m.file.set_len(m.position);
                }
                (
                    if synced {
                        win32::ERROR_SUCCESS
                    } else {
                        win32::ERROR_IO_DEVICE
                    },
                    0,
                    0,
                )
            }
            VdcCode::Complete => {
                *completes += 1;
                (
                    if m.file.sync_all().is_ok() {
                        win32::ERROR_SUCCESS
                    } else {
                        win32::ERROR_IO_DEVICE
                    },
                    0,
                    0,
                )
            }
            VdcCode::ClearError
            | VdcCode::Load
            | VdcCode::WriteMark
            | VdcCode::SkipMarks
            | VdcCode::SkipBlocks => (win32::ERROR_SUCCESS, 0, 0),
            VdcCode::Rewind => {
                m.position = 0;
                (
                    if m.file.seek(SeekFrom::Start(0)).is_ok() {
                        win32::ERROR_SUCCESS
                    } else {
                        win32::ERROR_IO_DEVICE
                    },
                    0,
                    0,
                )
            }
            VdcCode::GetPosition => (win32::ERROR_SUCCESS, 0, m.position),
            VdcCode::PrepareToFreeze if self.options.snapshot.is_some() => {
                if let Some(hold) = self.options.faults.prepare_hold {
                    std::thread::sleep(hold);
                }
                (win32::ERROR_SUCCESS, 0, 0)
            }
            VdcCode::Snapshot => match &self.options.snapshot {
                Some(_) if self.options.faults.snapshot_early => (win32::ERROR_SUCCESS, 0, 0),
                Some(files) => {
                    if let Some(hold) = self.options.faults.snapshot_hold {
                        std::thread::sleep(hold);
                    }
                    (copy_file(&files.volume_image, &files.captured), 0, 0)
                }
                None => (win32::ERROR_NOT_SUPPORTED, 0, 0),
            },
            VdcCode::MountSnapshot => match &self.options.snapshot {
                Some(files) => (copy_file(&files.captured, &files.volume_image), 0, 0),
                None => (win32::ERROR_NOT_SUPPORTED, 0, 0),
            },
            VdcCode::SetPosition => {
                let ok = m.file.seek(SeekFrom::Start(cmd.position())).is_ok();
                m.position = cmd.position();
                (
                    if ok {
                        win32::ERROR_SUCCESS
                    } else {
                        win32::ERROR_IO_DEVICE
                    },
                    0,
                    m.position,
                )
            }
            _ => (win32::ERROR_NOT_SUPPORTED, 0, 0),
        }
    }
}
