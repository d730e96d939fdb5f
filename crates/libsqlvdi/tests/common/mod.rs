//! Shared pieces of the libsqlvdi tests: finding the built `libsqlvdi.so`, compiling C and C++
//! programs against our headers with the system compiler, running them, and a minimal scripted
//! server (the real server-side set of vdi-server over shared memory) on a thread.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};
use vdi_proto::{SendRequest, ServerOptions, ServerPhase, VdCode, VdcCode, vdf, win32};
use vdi_server::vdi::ServerVirtualDeviceSet;
use vdi_server::vdi::shm::ShmServerConnector;

pub const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The directory holding the built `libsqlvdi.so` (built now if the test run did not).
pub fn lib_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(find_or_build_lib).clone()
}

fn find_or_build_lib() -> PathBuf {
    // Integration tests live in <target>/<profile>/deps. `cargo test` builds this package's
    // cdylib there before running them (it is not always copied up to <target>/<profile>,
    // which may hold an older `cargo build`), so take the newest of the two.
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    let profile = deps.parent().expect("profile dir").to_path_buf();
    let newest = [&deps, &profile]
        .into_iter()
        .filter_map(|dir| {
            let modified = std::fs::metadata(dir.join("libsqlvdi.so"))
                .and_then(|m| m.modified())
                .ok()?;
            Some((modified, dir.clone()))
        })
        .max();
    if let Some((_, dir)) = newest {
        return dir;
    }
    let release = profile.file_name().is_some_and(|n| n == "release");
    let target = profile.parent().expect("target dir");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "-p", "libsqlvdi", "--lib"])
        .arg("--manifest-path")
        .arg(Path::new(CRATE_DIR).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target);
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p libsqlvdi failed");
    assert!(
        profile.join("libsqlvdi.so").is_file(),
        "no libsqlvdi.so in {profile:?}"
    );
    profile
}

pub fn lib_path() -> PathBuf {
    lib_dir().join("libsqlvdi.so")
}

/// A fresh scratch directory for one test.
pub fn scratch(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("libsqlvdi-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes a test's scratch directory (only reached when the test passed; a failing test
/// leaves its programs and files behind for inspection).
pub fn remove_scratch(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// Compiles `source` (relative to the crate, `.cpp` with g++ -std=c++11, `.c` with gcc
/// -std=c11) against `include/` and links it with `-lsqlvdi`. Panics with the compiler's
/// output on failure.
pub fn compile(source: &str, dir: &Path, extra: &[&str]) -> PathBuf {
    let src = Path::new(CRATE_DIR).join(source);
    let stem = src.file_stem().unwrap().to_string_lossy().to_string();
    let exe = dir.join(&stem);
    let cpp = src.extension().is_some_and(|e| e == "cpp");
    let mut cmd = Command::new(if cpp { "g++" } else { "gcc" });
    cmd.arg(if cpp { "-std=c++11" } else { "-std=c11" })
        .args(["-Wall", "-Wextra", "-Werror", "-g"])
        .arg("-I")
        .arg(Path::new(CRATE_DIR).join("include"))
        .args(extra)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(lib_dir())
        .args(["-lsqlvdi", "-lpthread"]);
    let out = cmd.output().expect("run the compiler");
    assert!(
        out.status.success(),
        "compiling {source} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// A command running `exe` with our library first on the loader path.
pub fn program(exe: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env("LD_LIBRARY_PATH", lib_dir())
        .env_remove("VDISIM_TIMEOUT_UNIT")
        .env_remove("VDISIM_SHM_MODE");
    cmd
}

/// A running child whose stdout lines arrive on a channel (so the test can react to them).
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the program");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Writes a line to the program's stdin.
    pub fn send_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("stdin is piped");
        writeln!(stdin, "{line}").expect("write to the program");
        stdin.flush().unwrap();
    }

    /// Waits for a line `key=value` and returns the value.
    pub fn expect_key(&mut self, key: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let prefix = format!("{key}=");
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Some(v) = line.strip_prefix(&prefix) {
                        return v.to_string();
                    }
                }
                Err(_) => panic!("no {key}= line; saw {:?}", self.seen),
            }
        }
    }

    /// Waits for the exit and returns the status and every `key=value` line.
    pub fn finish(mut self) -> (std::process::ExitStatus, HashMap<String, String>) {
        let status = wait_with_deadline(&mut self.child, Duration::from_secs(60));
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (status, parse_keys(&self.seen))
    }
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the program did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn parse_keys(lines: &[String]) -> HashMap<String, String> {
    lines
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Runs to completion and returns the output (for programs that need no server).
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run the program")
}

/// The SDK's `int` for a code, as the programs print it.
pub fn code(c: VdCode) -> String {
    c.linux_code().to_string()
}

/// Asserts `key=value` lines, with the whole output in the message.
pub fn assert_keys(keys: &HashMap<String, String>, expected: &[(&str, String)]) {
    for (k, v) in expected {
        assert_eq!(
            keys.get(*k),
            Some(v),
            "{k}: expected {v}; all keys: {keys:?}"
        );
    }
}

// ---- a minimal scripted server -------------------------------------------------------------

pub const MTS: u32 = 64 * 1024;
pub const DEPTH: u32 = 4;

/// Deterministic data of `len` bytes.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 57) as u8 ^ (i as u8))
        .collect()
}

/// Opens the client set `name` once the client created it.
pub fn open_server(name: &str) -> ServerVirtualDeviceSet {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let set = ServerVirtualDeviceSet::new(
            Arc::new(ShmServerConnector::from_env()),
            ServerOptions::default(),
        );
        if set.open(None, name).is_ok() {
            return set;
        }
        assert!(Instant::now() < deadline, "the client never created {name}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Configures `devices` devices (named like the set, then `<name>_1`, …) for BACKUP (`write`)
/// or RESTORE and returns the buffers.
fn configure(set: &mut ServerVirtualDeviceSet, name: &str, write: bool, devices: u32) -> Vec<u64> {
    set.get_configuration().expect("server GetConfiguration");
    let direction = if write {
        vdf::WRITE_MEDIA
    } else {
        vdf::READ_MEDIA
    };
    set.begin_configuration(direction, 512, 0, MTS, 20_000)
        .unwrap();
    set.request_buffers(MTS, 0, DEPTH * devices).unwrap();
    let names: Vec<String> = (0..devices).map(|d| device_name(name, d)).collect();
    set.end_configuration(&names).unwrap();
    (0..DEPTH * devices)
        .map(|_| set.allocate_buffer(MTS, 0).unwrap())
        .collect()
}

/// The name of device `d` of set `name`.
pub fn device_name(name: &str, d: u32) -> String {
    if d == 0 {
        name.to_string()
    } else {
        format!("{name}_{d}")
    }
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct ServerReport {
    pub codes: Vec<u32>,
    pub aborted: bool,
    /// RESTORE: the bytes the client returned, in stream order.
    pub restored: Vec<u8>,
    /// The server set, kept open after CloseDevice: it is closed when the report is dropped,
    /// after the client finished.
    pub server: Option<ServerVirtualDeviceSet>,
}

/// BACKUP of `data` to one device: Writes of up to MTS bytes (DEPTH outstanding), then
/// VDC_Flush, then CloseDevice.
pub fn serve_backup(name: &str, data: &[u8]) -> ServerReport {
    serve_striped_backup(name, &[data.to_vec()])
}

/// BACKUP striped over one device per entry of `stripes`: each device gets its stripe as
/// Writes of up to MTS bytes (DEPTH outstanding per device), then VDC_Flush, then CloseDevice.
pub fn serve_striped_backup(name: &str, stripes: &[Vec<u8>]) -> ServerReport {
    let mut set = open_server(name);
    let mut free = configure(&mut set, name, true, stripes.len() as u32);
    let devices: Vec<_> = stripes
        .iter()
        .map(|_| set.open_device().unwrap().0)
        .collect();
    let buffers = set.buffers().unwrap();
    let mut plans: Vec<VecDeque<SendRequest>> = stripes
        .iter()
        .map(|data| {
            let mut plan: VecDeque<SendRequest> = data
                .chunks(MTS as usize)
                .enumerate()
                .map(|(k, chunk)| SendRequest {
                    code: VdcCode::Write,
                    size: chunk.len() as u32,
                    position: 0,
                    buffer_offset: 0,
                    context: (k * MTS as usize) as u64,
                })
                .collect();
            plan.push_back(SendRequest::control(VdcCode::Flush));
            plan
        })
        .collect();
    let mut report = ServerReport::default();
    let mut in_flight = vec![0u32; stripes.len()];
    loop {
        for (d, plan) in plans.iter_mut().enumerate() {
            while in_flight[d] < DEPTH && set.phase() == ServerPhase::Active {
                let Some(mut req) = plan.pop_front() else {
                    break;
                };
                if req.code.transfers_data() {
                    req.buffer_offset = free.pop().expect("a free buffer");
                    let at = req.context as usize;
                    let chunk = &stripes[d][at..at + req.size as usize];
                    assert!(buffers.write(req.buffer_offset, chunk));
                } else if in_flight[d] > 0 {
                    // Controls go after every data command of the device completed.
                    plan.push_front(req);
                    break;
                }
                set.send_command(devices[d], req).expect("SendCommand");
                in_flight[d] += 1;
            }
        }
        let idle = plans.iter().all(VecDeque::is_empty) && in_flight.iter().all(|n| *n == 0);
        if idle || set.phase() == ServerPhase::Abort {
            break;
        }
        let done = set
            .next_completion(Duration::from_secs(30))
            .expect("a completion within 30 s");
        in_flight[done.device.get()] -= 1;
        report.codes.push(done.completion_code);
        if done.request.code.transfers_data() {
            free.push(done.request.buffer_offset);
        }
    }
    report.aborted = set.phase() == ServerPhase::Abort;
    if !report.aborted {
        for device in devices {
            set.close_device(device).unwrap();
        }
    }
    report.server = Some(set);
    report
}

/// RESTORE from one device: Reads of MTS bytes until the client answers ERROR_HANDLE_EOF.
pub fn serve_restore(name: &str) -> ServerReport {
    let mut set = open_server(name);
    let mut free = configure(&mut set, name, false, 1);
    let (device, _) = set.open_device().unwrap();
    let buffers = set.buffers().unwrap();
    let mut report = ServerReport::default();
    let mut offset = 0u64;
    // One Read at a time keeps the stream order obvious.
    loop {
        let buf = free.pop().unwrap();
        let req = SendRequest {
            code: VdcCode::Read,
            size: MTS,
            position: 0,
            buffer_offset: buf,
            context: offset,
        };
        set.send_command(device, req).expect("SendCommand");
        let done = set
            .next_completion(Duration::from_secs(30))
            .expect("a completion within 30 s");
        free.push(buf);
        report.codes.push(done.completion_code);
        if matches!(
            done.completion_code,
            win32::ERROR_SUCCESS | win32::ERROR_HANDLE_EOF
        ) {
            let mut got = vec![0; done.bytes_transferred as usize];
            assert!(buffers.read(buf, &mut got));
            report.restored.extend_from_slice(&got);
            offset += u64::from(done.bytes_transferred);
        }
        if done.completion_code != win32::ERROR_SUCCESS || set.phase() != ServerPhase::Active {
            break;
        }
    }
    report.aborted = set.phase() == ServerPhase::Abort;
    if !report.aborted {
        set.close_device(device).unwrap();
    }
    report.server = Some(set);
    report
}

/// Configures a BACKUP, sends `writes` Writes, then waits (up to 30 s) for the client to
/// abort the set; returns what it saw.
pub fn serve_until_abort(name: &str, writes: usize) -> ServerReport {
    let mut set = open_server(name);
    let mut free = configure(&mut set, name, true, 1);
    let (device, _) = set.open_device().unwrap();
    let buffers = set.buffers().unwrap();
    let data = pattern(MTS as usize);
    for k in 0..writes {
        let buf = free.pop().unwrap();
        assert!(buffers.write(buf, &data));
        let req = SendRequest {
            code: VdcCode::Write,
            size: MTS,
            position: 0,
            buffer_offset: buf,
            context: k as u64,
        };
        set.send_command(device, req).expect("SendCommand");
    }
    let mut report = ServerReport::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(done) = set.next_completion(Duration::from_millis(20)) {
            report.codes.push(done.completion_code);
        }
        if set.phase() == ServerPhase::Abort {
            break;
        }
    }
    // Aborted commands are completed by the agent: collect them too.
    while let Some(done) = set.next_completion(Duration::from_millis(100)) {
        report.codes.push(done.completion_code);
    }
    report.aborted = set.phase() == ServerPhase::Abort;
    report
}

/// The root package's `vdisim` binary in this test's profile directory, brought up to date
/// (a no-op under `cargo test --workspace`, which built it already).
pub fn vdisim_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "--bin", "vdisim"])
        .arg("--manifest-path")
        .arg(Path::new(CRATE_DIR).join("../../Cargo.toml"))
        .env("CARGO_TARGET_DIR", profile.parent().unwrap());
    if profile.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    assert!(
        cmd.status().unwrap().success(),
        "cargo build --bin vdisim failed"
    );
    profile.join("vdisim")
}

/// A `vdisim server` child, stopped with SIGTERM (a clean shutdown removes its socket).
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

/// `vdisim server` on `socket` with a `vendordb` database and the sa password `password`
/// (no TDS), once its socket exists.
pub fn start_vendor_daemon(vdisim: &Path, socket: &Path, password: &str) -> Daemon {
    let daemon = Daemon(
        Command::new(vdisim)
            .arg("server")
            .arg("--socket")
            .arg(socket)
            .args([
                "--database",
                "vendordb:8",
                "--sa-password",
                password,
                "--no-tds",
            ])
            .stderr(Stdio::null())
            .spawn()
            .expect("start vdisim server"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "the daemon did not create its socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon
}

/// A `bin` directory in `dir` whose `sqlcmd` is the vdisim binary, for a client's PATH.
pub fn sqlcmd_bin(dir: &Path, vdisim: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(vdisim, bin.join("sqlcmd")).unwrap();
    bin
}
