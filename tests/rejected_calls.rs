//! A call answered with a misuse code (or a timeout) does nothing else (vdi-facts §8.1, §8.3;
//! issue 19, defect 1). For every state of the client table and every call it rejects there,
//! on a fresh set over real shared memory with the real server set:
//!
//! * the call returns its documented code;
//! * the client's phase and the server's view are unchanged (no completion, no abort);
//! * the next blocking call still waits its whole timeout, and the set still works after it.
//!
//! Timing bounds are one-sided and generous: a wait must last at least 90% of its timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};
use vdi_client::{
    ClientVirtualDevice, ClientVirtualDeviceSet, Command, VdCode, VdConfig, VdResult, VdcCode, vdf,
    win32,
};
use vdi_proto::{ClientPhase, SendRequest, ServerOptions, ServerPhase};
use vdi_server::vdi::shm::ShmServerConnector;
use vdi_server::vdi::{ServerVirtualDevice, ServerVirtualDeviceSet};

const TIMEOUT_MS: i64 = 300;
const MIN_WAIT: Duration = Duration::from_millis(TIMEOUT_MS as u64 * 9 / 10);
const DEVICES: u16 = 2;
const WRITE_SIZE: u32 = 4096;

fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{{rejected-{tag}-{}-{n}}}", std::process::id())
}

fn device_name(set: &str, d: u16) -> String {
    if d == 0 {
        set.to_string()
    } else {
        format!("{set}_{d}")
    }
}

/// The server side: opens and configures `name` for a BACKUP and opens its devices.
fn serve(name: &str, devices: u16) -> (ServerVirtualDeviceSet, Vec<ServerVirtualDevice>) {
    let connector = Arc::new(ShmServerConnector::from_env());
    let mut server = ServerVirtualDeviceSet::new(connector, ServerOptions::default());
    server.open(None, name).expect("server Open");
    server
        .begin_configuration(vdf::WRITE_MEDIA, 512, 0, 65536, 10_000)
        .unwrap();
    server
        .request_buffers(65536, 0, 4 * u32::from(devices))
        .unwrap();
    let names: Vec<String> = (0..devices).map(|d| device_name(name, d)).collect();
    server.end_configuration(&names).unwrap();
    let opened = (0..devices)
        .map(|_| server.open_device().expect("server OpenDevice").0)
        .collect();
    (server, opened)
}

fn send_write(server: &ServerVirtualDeviceSet, device: ServerVirtualDevice) {
    let buffer = server.allocate_buffer(WRITE_SIZE, 0).unwrap();
    let request = SendRequest {
        code: VdcCode::Write,
        size: WRITE_SIZE,
        position: 0,
        buffer_offset: buffer,
        context: 0,
    };
    server.send_command(device, request).expect("SendCommand");
}

/// Asserts that `call` gave VD_E_TIMEOUT after waiting at least [`MIN_WAIT`].
fn waits_out<T: std::fmt::Debug>(what: &str, call: impl FnOnce() -> VdResult<T>) {
    let started = Instant::now();
    let got = call();
    let waited = started.elapsed();
    assert_eq!(
        got.as_ref().err().map(|e| e.code),
        Some(VdCode::Timeout),
        "{what}: {got:?}"
    );
    assert!(
        waited >= MIN_WAIT,
        "{what} with a {TIMEOUT_MS} ms timeout returned after {waited:?}"
    );
}

/// One client set object, driven into a state of the table, with the handles misuse needs.
struct Fixture {
    name: String,
    client: ClientVirtualDeviceSet,
    server: Option<(ServerVirtualDeviceSet, Vec<ServerVirtualDevice>)>,
    devices: Vec<ClientVirtualDevice>,
    held: Vec<Command>,
    /// A device and a command of an earlier Create of the same object (ended by Close).
    old_device: ClientVirtualDevice,
    old_command: Command,
}

impl Fixture {
    /// A set object in DNE that already went through one Create … Close (VD_E_OPEN) cycle,
    /// so that it holds a device and a command from before.
    fn dne(tag: &str) -> Fixture {
        let client = ClientVirtualDeviceSet::new();
        let old = unique(&format!("{tag}-old"));
        client.create(&old, &VdConfig::with_devices(1)).unwrap();
        let (mut server, devices) = serve(&old, 1);
        client
            .get_configuration(10_000, &mut VdConfig::default())
            .unwrap();
        let old_device = client.open_device(&old).unwrap();
        send_write(&server, devices[0]);
        let old_command = old_device.get_command(10_000).unwrap();
        assert_eq!(client.close().unwrap_err().code, VdCode::Open);
        let _ = server.close();
        assert_eq!(client.phase(), ClientPhase::Dne);
        Fixture {
            name: unique(tag),
            client,
            server: None,
            devices: Vec::new(),
            held: Vec::new(),
            old_device,
            old_command,
        }
    }

    fn configurable(tag: &str) -> Fixture {
        let fx = Fixture::dne(tag);
        fx.create();
        fx
    }

    fn create(&self) {
        let config = VdConfig::with_devices(u32::from(DEVICES));
        self.client.create(&self.name, &config).unwrap();
        assert_eq!(self.client.phase(), ClientPhase::Configurable);
    }

    /// The server configures the set and the client's GetConfiguration returns.
    fn configure(&mut self) {
        self.server = Some(serve(&self.name, DEVICES));
        self.client
            .get_configuration(10_000, &mut VdConfig::default())
            .expect("GetConfiguration once the server configured the set");
        assert_eq!(self.client.phase(), ClientPhase::Initializing);
    }

    fn initializing(tag: &str) -> Fixture {
        let mut fx = Fixture::configurable(tag);
        fx.configure();
        fx
    }

    fn open(&mut self, d: u16) {
        let device = self
            .client
            .open_device(&device_name(&self.name, d))
            .unwrap();
        self.devices.push(device);
    }

    /// Device 0 open and holding a Write; device 1 not opened.
    fn active(tag: &str) -> Fixture {
        let mut fx = Fixture::initializing(tag);
        fx.open(0);
        send_write(fx.server(), fx.server_device(0));
        let command = fx.devices[0].get_command(10_000).unwrap();
        assert_eq!(command.code(), VdcCode::Write);
        fx.held.push(command);
        assert_eq!(fx.client.phase(), ClientPhase::Active);
        fx
    }

    /// Both devices opened, closed by the server and seen closed by the client.
    fn normally_terminated(tag: &str) -> Fixture {
        let mut fx = Fixture::initializing(tag);
        fx.open(0);
        fx.open(1);
        for d in 0..DEVICES {
            fx.server().close_device(fx.server_device(d)).unwrap();
        }
        for device in &fx.devices {
            assert_eq!(device.get_command(10_000).unwrap_err().code, VdCode::Close);
        }
        assert_eq!(fx.client.phase(), ClientPhase::NormallyTerminated);
        fx
    }

    fn aborted(tag: &str) -> Fixture {
        let fx = Fixture::active(tag);
        fx.client.signal_abort().unwrap();
        assert_eq!(fx.client.phase(), ClientPhase::Abort);
        fx
    }

    fn server(&self) -> &ServerVirtualDeviceSet {
        &self.server.as_ref().expect("a server").0
    }

    fn server_device(&self, d: u16) -> ServerVirtualDevice {
        self.server.as_ref().expect("a server").1[usize::from(d)]
    }

    /// Runs one rejected call and checks it changed nothing the two sides can see.
    fn reject(&mut self, case: &Case) {
        let phase = self.client.phase();
        let server_phase = self.server.as_ref().map(|(s, _)| s.phase());
        let got = (case.call)(self);
        assert_eq!(
            got.err().map(|e| e.code),
            Some(case.want),
            "{:?}: {}",
            phase,
            case.what
        );
        assert_eq!(
            self.client.phase(),
            phase,
            "{}: the phase changed",
            case.what
        );
        if let Some((server, _)) = &self.server {
            assert_eq!(Some(server.phase()), server_phase, "{}", case.what);
            if !matches!(phase, ClientPhase::Abort) {
                assert!(
                    server.try_completion().is_none(),
                    "{}: the server got a completion",
                    case.what
                );
            }
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.client.close();
        if let Some((server, _)) = &mut self.server {
            let _ = server.close();
        }
    }
}

/// A call the table rejects in some state, and the code it must return there.
struct Case {
    what: &'static str,
    want: VdCode,
    call: fn(&mut Fixture) -> VdResult<()>,
}

fn case(what: &'static str, want: VdCode, call: fn(&mut Fixture) -> VdResult<()>) -> Case {
    Case { what, want, call }
}

fn not_a_buffer() -> *const u8 {
    static BYTE: u8 = 0;
    &BYTE
}

// ---- the calls, shared by several states ----

fn create_again(fx: &mut Fixture) -> VdResult<()> {
    let name = fx.name.clone();
    fx.client.create(&name, &VdConfig::with_devices(1))
}
fn create_other(fx: &mut Fixture) -> VdResult<()> {
    let name = format!("{}-other", fx.name);
    fx.client.create(&name, &VdConfig::with_devices(1))
}
fn create_ex_again(fx: &mut Fixture) -> VdResult<()> {
    let name = fx.name.clone();
    fx.client.create_ex(None, &name, &VdConfig::with_devices(1))
}
fn get_configuration(fx: &mut Fixture) -> VdResult<()> {
    fx.client
        .get_configuration(TIMEOUT_MS, &mut VdConfig::default())
}
fn poll_configuration(fx: &mut Fixture) -> VdResult<()> {
    fx.client.get_configuration(0, &mut VdConfig::default())
}
fn open_device_0(fx: &mut Fixture) -> VdResult<()> {
    let name = device_name(&fx.name, 0);
    fx.client.open_device(&name).map(drop)
}
fn open_unknown_device(fx: &mut Fixture) -> VdResult<()> {
    fx.client.open_device("no such device").map(drop)
}
fn get_command_0(fx: &mut Fixture) -> VdResult<()> {
    fx.devices[0].get_command(TIMEOUT_MS).map(drop)
}
fn poll_command_0(fx: &mut Fixture) -> VdResult<()> {
    fx.devices[0].get_command(0).map(drop)
}
fn complete_held(fx: &mut Fixture) -> VdResult<()> {
    fx.devices[0].complete_command(&fx.held[0], win32::ERROR_SUCCESS, 0, 0)
}
fn complete_old_on_0(fx: &mut Fixture) -> VdResult<()> {
    fx.devices[0].complete_command(&fx.old_command, win32::ERROR_SUCCESS, 0, 0)
}
fn get_command_old(fx: &mut Fixture) -> VdResult<()> {
    fx.old_device.get_command(TIMEOUT_MS).map(drop)
}
fn complete_old(fx: &mut Fixture) -> VdResult<()> {
    fx.old_device
        .complete_command(&fx.old_command, win32::ERROR_SUCCESS, 0, 0)
}
fn signal_abort(fx: &mut Fixture) -> VdResult<()> {
    fx.client.signal_abort()
}
fn close(fx: &mut Fixture) -> VdResult<()> {
    fx.client.close()
}
fn secondary(fx: &mut Fixture) -> VdResult<()> {
    let name = fx.name.clone();
    fx.client.open_in_secondary(&name)
}
fn buffer_handle(fx: &mut Fixture) -> VdResult<()> {
    fx.client.get_buffer_handle(not_a_buffer()).map(drop)
}
fn map_handle(fx: &mut Fixture) -> VdResult<()> {
    fx.client.map_buffer_handle(u32::MAX).map(drop)
}

/// Runs every case on a fresh fixture, then `next` (the state's next blocking call and a
/// check that the set still works).
fn each(cases: &[Case], fixture: fn(&str) -> Fixture, next: fn(&mut Fixture)) {
    assert!(!cases.is_empty());
    for case in cases {
        let mut fx = fixture("case");
        fx.reject(case);
        next(&mut fx);
    }
}

#[test]
fn rejected_in_dne() {
    each(
        &[
            case("GetConfiguration", VdCode::Protocol, get_configuration),
            case("OpenDevice", VdCode::Protocol, open_device_0),
            case("SignalAbort", VdCode::Protocol, signal_abort),
            case("Close", VdCode::Protocol, close),
            case(
                "GetCommand (earlier set)",
                VdCode::Protocol,
                get_command_old,
            ),
            case(
                "CompleteCommand (earlier set)",
                VdCode::Protocol,
                complete_old,
            ),
            case("GetBufferHandle", VdCode::Protocol, buffer_handle),
            case("MapBufferHandle", VdCode::Protocol, map_handle),
            case("OpenInSecondary (no such set)", VdCode::Protocol, |fx| {
                let name = format!("{}-missing", fx.name);
                fx.client.open_in_secondary(&name)
            }),
            case("Create (deviceCount 0)", VdCode::NotSupported, |fx| {
                let name = fx.name.clone();
                fx.client.create(&name, &VdConfig::with_devices(0))
            }),
            case("Create (backslash)", VdCode::Invalid, |fx| {
                let name = format!("{}\\x", fx.name);
                fx.client.create(&name, &VdConfig::with_devices(1))
            }),
        ],
        Fixture::dne,
        |fx| {
            fx.create();
            waits_out("GetConfiguration", || get_configuration(fx));
            fx.configure();
        },
    );
}

#[test]
fn rejected_in_configurable() {
    each(
        &[
            case("Create (same name)", VdCode::Protocol, create_again),
            case("Create (another name)", VdCode::Protocol, create_other),
            case("CreateEx", VdCode::Protocol, create_ex_again),
            case("OpenDevice", VdCode::Protocol, open_device_0),
            case(
                "OpenDevice (unknown name)",
                VdCode::Protocol,
                open_unknown_device,
            ),
            case(
                "GetCommand (earlier set)",
                VdCode::Protocol,
                get_command_old,
            ),
            case(
                "CompleteCommand (earlier set)",
                VdCode::Protocol,
                complete_old,
            ),
            case("OpenInSecondary", VdCode::Protocol, secondary),
            case("GetBufferHandle", VdCode::Invalid, buffer_handle),
            case("MapBufferHandle", VdCode::Invalid, map_handle),
            case(
                "GetConfiguration (poll)",
                VdCode::Timeout,
                poll_configuration,
            ),
        ],
        Fixture::configurable,
        |fx| {
            waits_out("GetConfiguration", || get_configuration(fx));
            assert_eq!(fx.client.phase(), ClientPhase::Configurable);
            // The set is intact: a server still finds and configures it.
            fx.configure();
        },
    );
}

#[test]
fn rejected_in_initializing() {
    each(
        &[
            case("Create", VdCode::Protocol, create_again),
            case(
                "OpenDevice (unknown name)",
                VdCode::Invalid,
                open_unknown_device,
            ),
            case(
                "GetCommand (earlier set)",
                VdCode::Protocol,
                get_command_old,
            ),
            case(
                "CompleteCommand (earlier set)",
                VdCode::Protocol,
                complete_old,
            ),
            case("OpenInSecondary", VdCode::Protocol, secondary),
            case("GetBufferHandle", VdCode::Invalid, buffer_handle),
            case("MapBufferHandle", VdCode::Invalid, map_handle),
        ],
        Fixture::initializing,
        |fx| {
            // No call blocks in Initializing; the next one that can is GetCommand.
            fx.open(0);
            waits_out("GetCommand", || get_command_0(fx));
            send_write(fx.server(), fx.server_device(0));
            assert_eq!(
                fx.devices[0].get_command(10_000).unwrap().size(),
                WRITE_SIZE
            );
        },
    );
}

#[test]
fn rejected_in_active() {
    each(
        &[
            case("Create", VdCode::Protocol, create_again),
            case("OpenDevice (open already)", VdCode::Protocol, open_device_0),
            case(
                "OpenDevice (unknown name)",
                VdCode::Invalid,
                open_unknown_device,
            ),
            case("OpenDevice (every device open)", VdCode::Open, |fx| {
                fx.open(1);
                fx.client.open_device("whatever").map(drop)
            }),
            case(
                "CompleteCommand (more bytes than its size)",
                VdCode::Invalid,
                |fx| {
                    let size = u64::from(fx.held[0].size());
                    fx.devices[0].complete_command(&fx.held[0], 0, size + 1, 0)
                },
            ),
            case(
                "CompleteCommand (earlier set)",
                VdCode::Invalid,
                complete_old_on_0,
            ),
            case("CompleteCommand (another device)", VdCode::Invalid, |fx| {
                fx.open(1);
                fx.devices[1].complete_command(&fx.held[0], win32::ERROR_SUCCESS, 0, 0)
            }),
            case(
                "GetCommand (earlier set)",
                VdCode::Protocol,
                get_command_old,
            ),
            case("OpenInSecondary", VdCode::Protocol, secondary),
            case("GetBufferHandle", VdCode::Invalid, buffer_handle),
            case("MapBufferHandle", VdCode::Invalid, map_handle),
            case("GetCommand (poll)", VdCode::Timeout, poll_command_0),
        ],
        Fixture::active,
        |fx| {
            waits_out("GetCommand", || get_command_0(fx));
            assert_eq!(fx.client.phase(), ClientPhase::Active);
            // The command the application held is still its own to complete.
            complete_held(fx).unwrap();
            let done = fx
                .server()
                .next_completion(Duration::from_secs(10))
                .unwrap();
            assert_eq!(done.completion_code, win32::ERROR_SUCCESS);
        },
    );
}

#[test]
fn rejected_in_normally_terminated() {
    each(
        &[
            case("Create", VdCode::Protocol, create_again),
            case("OpenDevice", VdCode::Protocol, open_device_0),
            case(
                "GetCommand (after VD_E_CLOSE)",
                VdCode::Protocol,
                get_command_0,
            ),
            case(
                "CompleteCommand (after VD_E_CLOSE)",
                VdCode::Protocol,
                complete_old_on_0,
            ),
            case(
                "GetCommand (earlier set)",
                VdCode::Protocol,
                get_command_old,
            ),
            case("OpenInSecondary", VdCode::Protocol, secondary),
        ],
        Fixture::normally_terminated,
        |fx| {
            // Nothing blocks here: GetCommand keeps answering at once, and Close ends the set.
            assert_eq!(get_command_0(fx).unwrap_err().code, VdCode::Protocol);
            assert_eq!(fx.client.phase(), ClientPhase::NormallyTerminated);
            fx.client.close().unwrap();
        },
    );
}

#[test]
fn rejected_in_abort() {
    each(
        &[
            case("Create", VdCode::Protocol, create_again),
            case("GetConfiguration", VdCode::Abort, get_configuration),
            case("OpenDevice", VdCode::Abort, |fx| {
                let name = device_name(&fx.name, 1);
                fx.client.open_device(&name).map(drop)
            }),
            case("GetCommand", VdCode::Abort, get_command_0),
            case("CompleteCommand", VdCode::Abort, complete_held),
            case("OpenInSecondary", VdCode::Protocol, secondary),
        ],
        Fixture::aborted,
        |fx| {
            assert_eq!(get_command_0(fx).unwrap_err().code, VdCode::Abort);
            assert_eq!(fx.client.phase(), ClientPhase::Abort);
            fx.client.close().unwrap();
        },
    );
}

#[test]
fn a_server_set_configured_later_is_still_found_after_every_rejection() {
    // All the Configurable rejections on one set in a row, then the server: what a client
    // that retries its mistakes sees.
    let mut fx = Fixture::configurable("row");
    for call in [
        create_again,
        create_other,
        open_device_0,
        secondary,
        buffer_handle,
        poll_configuration,
    ] {
        assert!(call(&mut fx).is_err());
    }
    waits_out("GetConfiguration", || get_configuration(&mut fx));
    fx.configure();
    assert_eq!(
        fx.server.as_ref().map(|(s, _)| s.phase()),
        Some(ServerPhase::Active)
    );
}
