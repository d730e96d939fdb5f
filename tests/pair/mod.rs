//! Shared pieces of the tests that pair the client library with the server-side set (they live
//! in the root package, which depends on both; `vdi-server` itself never sees `vdi-client`):
//! a scripted server engine and a well-behaved client, both driving the real libraries over
//! real shared memory.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use vdi_client::{
    ClientVirtualDevice, ClientVirtualDeviceSet, VdCode, VdConfig, VdError, VdcCode, vdf, win32,
};
use vdi_proto::{DeviceIndex, SendRequest, ServerOptions, ServerPhase};
use vdi_server::vdi::ServerVirtualDeviceSet;
use vdi_server::vdi::link::ServerConnector;
use vdi_server::vdi::shm::ShmServerConnector;

pub const MTS: u32 = 64 * 1024;
pub const DEPTH: u32 = 4;

pub fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{{e2e-{tag}-{}-{n}}}", std::process::id())
}

/// Byte `offset` of device `device`'s stripe.
pub fn pattern(device: u16, offset: u64) -> u8 {
    ((offset ^ (u64::from(device) << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 29) as u8
}

pub fn device_names(name: &str, n: u16) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i == 0 {
                name.to_string()
            } else {
                format!("{name}_{i}")
            }
        })
        .collect()
}

/// What the scripted server does.
#[derive(Clone, Copy, Debug)]
pub struct ServerScript {
    pub devices: u16,
    /// Bytes per device.
    pub bytes: u64,
    /// BACKUP (Write) or RESTORE (Read).
    pub restore: bool,
    pub flushes: u32,
    /// SignalAbort after this many completions.
    pub abort_after: Option<usize>,
    /// How long to wait for any one completion before giving up.
    pub patience: Duration,
}

impl ServerScript {
    pub fn backup(devices: u16, bytes: u64) -> ServerScript {
        ServerScript {
            devices,
            bytes,
            restore: false,
            flushes: 0,
            abort_after: None,
            patience: Duration::from_secs(30),
        }
    }
    pub fn restore(devices: u16, bytes: u64) -> ServerScript {
        ServerScript {
            restore: true,
            ..ServerScript::backup(devices, bytes)
        }
    }
}

/// What the scripted server observed.
#[derive(Debug, Default)]
pub struct ServerReport {
    pub codes: Vec<u32>,
    pub aborted: bool,
    /// For a restore: whether every device's data matched the pattern.
    pub verified: bool,
    pub restored_bytes: u64,
}

enum Step {
    Data { offset: u64, len: u32 },
    Control(VdcCode),
}

/// Runs the server side of a backup or restore of the client set `name` over shared memory.
pub fn run_server(name: &str, script: ServerScript) -> ServerReport {
    run_server_on(Arc::new(ShmServerConnector::from_env()), name, script)
}

/// [`run_server`] over any transport.
pub fn run_server_on(
    connector: Arc<dyn ServerConnector>,
    name: &str,
    script: ServerScript,
) -> ServerReport {
    let mut set = ServerVirtualDeviceSet::new(connector, ServerOptions::default());
    let mut report = ServerReport::default();
    set.open(None, name).expect("server open");
    let requested = set.get_configuration().unwrap();
    let direction = if script.restore {
        vdf::READ_MEDIA
    } else {
        vdf::WRITE_MEDIA
    };
    set.begin_configuration(direction, 512, 0, MTS, 10_000)
        .unwrap();
    set.request_buffers(MTS, 0, DEPTH * u32::from(script.devices))
        .unwrap();
    let config = set
        .end_configuration(&device_names(name, script.devices))
        .unwrap();
    let complete = config.features & vdf::COMPLETE_ENABLED != 0;
    assert_eq!(complete, requested.features & vdf::REQUEST_COMPLETE != 0);
    // The client may abort as soon as it has its configuration: a setup call failing with
    // VD_E_ABORT is an abort the script observed, not a test failure.
    let setup = (|| {
        let devices = (0..script.devices)
            .map(|_| set.open_device().map(|(dev, _)| dev))
            .collect::<Result<Vec<_>, _>>()?;
        let free = (0..DEPTH * u32::from(script.devices))
            .map(|_| set.allocate_buffer(MTS, 0))
            .collect::<Result<Vec<u64>, _>>()?;
        Ok::<_, vdi_proto::VdError>((devices, free))
    })();
    let (devices, mut free) = match setup {
        Ok(setup) => setup,
        Err(e) if e.code == VdCode::Abort => {
            report.aborted = true;
            return report;
        }
        Err(e) => panic!("server setup: {e}"),
    };
    let buffers = set.buffers().unwrap();
    let mut plans: Vec<VecDeque<Step>> = (0..script.devices)
        .map(|_| {
            let mut plan = VecDeque::new();
            let chunks = script.bytes.div_ceil(u64::from(MTS)).max(1);
            for k in 0..chunks {
                let len = (script.bytes - k * u64::from(MTS)).min(u64::from(MTS)) as u32;
                plan.push_back(Step::Data {
                    offset: k * u64::from(MTS),
                    len,
                });
                if !script.restore
                    && script.flushes > 0
                    && (k + 1) % (chunks / u64::from(script.flushes + 1)).max(1) == 0
                    && k + 1 < chunks
                {
                    plan.push_back(Step::Control(VdcCode::Flush));
                }
            }
            if script.restore {
                // Reads continue past the end of the stripe until the client reports EOF.
                plan.push_back(Step::Data {
                    offset: script.bytes,
                    len: MTS,
                });
            } else {
                // The end as SQL Server sends it: a final Flush, then VDC_Complete (decision 43).
                plan.push_back(Step::Control(VdcCode::Flush));
                if complete {
                    plan.push_back(Step::Control(VdcCode::Complete));
                }
            }
            plan
        })
        .collect();
    let mut restored: Vec<Vec<u8>> = vec![Vec::new(); usize::from(script.devices)];
    let mut eof = vec![false; usize::from(script.devices)];
    let mut in_flight = std::collections::HashMap::new();
    loop {
        for (d, plan) in plans.iter_mut().enumerate() {
            let dev = devices[d];
            while !eof[d]
                && set.outstanding(dev.index) < DEPTH
                && set.phase() == ServerPhase::Active
            {
                let request = match plan.front() {
                    Some(Step::Data { offset, len }) => {
                        let Some(buf) = free.pop() else { break };
                        if !script.restore {
                            let data: Vec<u8> = (0..u64::from(*len))
                                .map(|i| pattern(d as u16, offset + i))
                                .collect();
                            assert!(buffers.write(buf, &data));
                        }
                        let code = if script.restore {
                            VdcCode::Read
                        } else {
                            VdcCode::Write
                        };
                        SendRequest {
                            code,
                            size: *len,
                            position: 0,
                            buffer_offset: buf,
                            context: *offset,
                        }
                    }
                    Some(Step::Control(code)) => SendRequest::control(*code),
                    None => break,
                };
                plan.pop_front();
                match set.send_command(dev, request) {
                    Ok(id) => {
                        if request.code.transfers_data() {
                            in_flight.insert(id, request.buffer_offset);
                        }
                    }
                    Err(_) => {
                        // The device is in IO-ERROR (its EOF completion is still on its way)
                        // or the set aborted: stop feeding it.
                        if request.code.transfers_data() {
                            free.push(request.buffer_offset);
                        }
                        eof[d] = true;
                        break;
                    }
                }
                if script.restore && plan.is_empty() {
                    // Keep reading in MTS steps until EOF.
                    let next = request.context + u64::from(request.size);
                    plan.push_back(Step::Data {
                        offset: next,
                        len: MTS,
                    });
                }
            }
        }
        let all_planned = plans.iter().zip(&eof).all(|(p, e)| p.is_empty() || *e);
        let outstanding: u32 = devices.iter().map(|d| set.outstanding(d.index)).sum();
        // Done when nothing is outstanding and every completion was taken off the channel.
        if (all_planned && outstanding == 0 && in_flight.is_empty())
            || set.phase() == ServerPhase::Abort
        {
            break;
        }
        let Some(done) = set.next_completion(script.patience) else {
            let per_device: Vec<u32> = devices.iter().map(|d| set.outstanding(d.index)).collect();
            panic!(
                "no completion within {:?}: phase {:?}, outstanding {per_device:?}, eof {eof:?}, free buffers {}",
                script.patience,
                set.phase(),
                free.len()
            );
        };
        report.codes.push(done.completion_code);
        if let Some(id) = done.id
            && let Some(buf) = in_flight.remove(&id)
        {
            free.push(buf);
            let d = done.device.get();
            if script.restore
                && matches!(
                    done.completion_code,
                    win32::ERROR_SUCCESS | win32::ERROR_HANDLE_EOF
                )
            {
                let mut got = vec![0; done.bytes_transferred as usize];
                assert!(buffers.read(buf, &mut got));
                let start = done.request.context as usize;
                if restored[d].len() < start + got.len() {
                    restored[d].resize(start + got.len(), 0);
                }
                restored[d][start..start + got.len()].copy_from_slice(&got);
                report.restored_bytes += got.len() as u64;
            }
            if script.restore && done.completion_code != win32::ERROR_SUCCESS {
                eof[d] = true;
            }
        }
        if script.abort_after.is_some_and(|n| report.codes.len() >= n) {
            set.signal_abort().unwrap();
        }
    }
    report.aborted = set.phase() == ServerPhase::Abort;
    if !report.aborted {
        for dev in &devices {
            set.close_device(*dev).unwrap();
        }
    }
    // Drain what the agent still delivers (aborted commands).
    while let Some(done) = set.next_completion(Duration::from_millis(50)) {
        report.codes.push(done.completion_code);
    }
    let _ = set.close();
    report.verified = script.restore
        && restored.iter().enumerate().all(|(d, data)| {
            data.len() as u64 == script.bytes
                && data
                    .iter()
                    .enumerate()
                    .all(|(i, b)| *b == pattern(d as u16, i as u64))
        });
    report
}

/// What the well-behaved client saw.
#[derive(Debug, Default)]
pub struct ClientReport {
    pub stripes: Vec<Vec<u8>>,
    pub flushes: u32,
    pub completes: u32,
    /// How each device's loop ended (VD_E_CLOSE normally).
    pub endings: Vec<VdError>,
}

/// Serves one device until GetCommand fails: stores Writes, answers Reads from `source`.
pub fn serve_device(
    dev: &ClientVirtualDevice,
    source: Option<&[u8]>,
) -> (Vec<u8>, u32, u32, VdError) {
    let (mut stored, mut flushes, mut completes, mut cursor) = (Vec::new(), 0, 0, 0usize);
    loop {
        let cmd = match dev.get_command(30_000) {
            Ok(cmd) => cmd,
            Err(e) => return (stored, flushes, completes, e),
        };
        let (code, bytes) = match cmd.code() {
            VdcCode::Write => {
                let mut buf = vec![0; cmd.size() as usize];
                assert!(cmd.read_data(&mut buf));
                stored.extend_from_slice(&buf);
                (win32::ERROR_SUCCESS, u64::from(cmd.size()))
            }
            VdcCode::Read => {
                let src = source.expect("a restore source");
                let n = (src.len() - cursor).min(cmd.size() as usize);
                assert_eq!(cmd.write_data(&src[cursor..cursor + n]), n);
                cursor += n;
                let code = if n < cmd.size() as usize {
                    win32::ERROR_HANDLE_EOF
                } else {
                    win32::ERROR_SUCCESS
                };
                (code, n as u64)
            }
            VdcCode::Flush => {
                flushes += 1;
                (win32::ERROR_SUCCESS, 0)
            }
            VdcCode::Complete => {
                completes += 1;
                (win32::ERROR_SUCCESS, 0)
            }
            VdcCode::ClearError => (win32::ERROR_SUCCESS, 0),
            _ => (win32::ERROR_NOT_SUPPORTED, 0),
        };
        if let Err(e) = dev.complete_command(&cmd, code, bytes, 0) {
            return (stored, flushes, completes, e);
        }
    }
}

/// A whole client over shared memory: Create, GetConfiguration, every device on its own
/// thread (Close is the caller's).
pub fn run_client(
    name: &str,
    devices: u16,
    request_complete: bool,
    sources: Option<Vec<Vec<u8>>>,
) -> (ClientVirtualDeviceSet, ClientReport) {
    run_client_with(
        ClientVirtualDeviceSet::new(),
        name,
        devices,
        request_complete,
        sources,
    )
}

/// [`run_client`] with a set object of any transport.
pub fn run_client_with(
    set: ClientVirtualDeviceSet,
    name: &str,
    devices: u16,
    request_complete: bool,
    sources: Option<Vec<Vec<u8>>>,
) -> (ClientVirtualDeviceSet, ClientReport) {
    let cfg = VdConfig {
        device_count: u32::from(devices),
        features: if request_complete {
            vdf::REQUEST_COMPLETE
        } else {
            0
        },
        ..VdConfig::default()
    };
    set.create(name, &cfg).unwrap();
    let report = serve_created(&set, name, devices, sources);
    (set, report)
}

/// The part of [`run_client`] after Create (the server must be started in between).
pub fn serve_created(
    set: &ClientVirtualDeviceSet,
    name: &str,
    devices: u16,
    sources: Option<Vec<Vec<u8>>>,
) -> ClientReport {
    let mut got = VdConfig::default();
    set.get_configuration(30_000, &mut got).unwrap();
    let handles: Vec<_> = device_names(name, devices)
        .iter()
        .map(|n| set.open_device(n).unwrap())
        .collect();
    let sources = Arc::new(sources);
    let threads: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(d, dev)| {
            let sources = sources.clone();
            std::thread::spawn(move || {
                let src = sources.as_ref().as_ref().map(|s| s[d].as_slice());
                serve_device(&dev, src)
            })
        })
        .collect();
    let mut report = ClientReport::default();
    for t in threads {
        let (stored, flushes, completes, ending) = t.join().unwrap();
        report.stripes.push(stored);
        report.flushes += flushes;
        report.completes += completes;
        report.endings.push(ending);
    }
    report
}

pub fn expected_stripe(device: u16, bytes: u64) -> Vec<u8> {
    (0..bytes).map(|i| pattern(device, i)).collect()
}

pub fn all_closed(report: &ClientReport) -> bool {
    report.endings.iter().all(|e| e.code == VdCode::Close)
}

pub fn index(d: u16) -> DeviceIndex {
    DeviceIndex(d)
}

/// Waits until the client created `name` (the server's Open needs the region).
pub fn wait_for_set(name: &str) {
    let uid = rustix::process::geteuid().as_raw();
    for _ in 0..2000 {
        if vdi_shm::region::ControlRegion::open(uid, name, Default::default()).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the client never created {name}");
}
