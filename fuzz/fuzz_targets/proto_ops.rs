//! Arbitrary interleavings of client calls, server calls and message deliveries on the sans-IO
//! core, checked against the reference model of `crates/vdi-proto/tests/prop_state_machine.rs`:
//!
//! - every call returns the code its rule documents, and the code the state table fixes for
//!   the phase it was made in;
//! - the client's phase only changes as its own calls say, or to Abort / NormallyTerminated
//!   when the peer caused it;
//! - no command is delivered after abort;
//! - every command is completed exactly once (by the client, or as aborted), per server
//!   incarnation;
//! - device and command handles from before Close stay invalid;
//! - nothing panics.
//!
//! Messages travel through two in-order queues the harness owns, so deliveries interleave
//! freely with calls. As over shared memory, a set-level message (abort, close) may overtake
//! per-device messages; per-device order is kept.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::collections::{HashSet, VecDeque};
use std::task::Poll;
use vdi_proto::config::ServerChoice;
use vdi_proto::sim::Pair;
use vdi_proto::{
    ClientPhase, CmdId, CommandHandle, DeviceHandle, DeviceIndex, SendRequest, ServerOptions,
    ServerPhase, ToClient, ToServer, VdCode, VdConfig, VdError, VdcCode, vdf, win32,
};

const SET: &str = "set";
const MAX_DEVICES: u8 = 3;
const MAX_OPS: usize = 200;

#[derive(Arbitrary, Debug)]
struct Input {
    io_depth: u8,
    transcript: bool,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum BadCreate {
    EmptyName,
    Backslash,
    Nul,
    LongName,
    ZeroDevices,
    TooManyDevices,
    ServerOnlyFeature,
    MachineInstance,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum CompletionKind {
    Success,
    IoDevice,
    Aborted,
    Other(u32),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Op {
    // ---- client ----
    Create {
        devices: u8,
        timeout_ms: u8,
    },
    CreateBad(BadCreate),
    GetConfiguration,
    OpenDevice(u8),
    OpenUnknownDevice,
    GetCommand(u8),
    GetCommandTimedOut(u8),
    Complete {
        device: u8,
        pick: u8,
        code: CompletionKind,
        bytes: u16,
        extra: bool,
    },
    CompleteOnWrongDevice {
        device: u8,
        pick: u8,
    },
    CompleteTwice(u8),
    CompleteStale(u8),
    ClientAbort,
    Close,
    UseOldDevice(u8),
    ClientPeerFailure {
        malformed: bool,
    },
    // ---- server ----
    ServerOpen,
    ServerBegin {
        restore: bool,
        bad: bool,
    },
    ServerRequestBuffers {
        size: u16,
        count: u8,
    },
    ServerEnd {
        wrong_names: bool,
    },
    ServerOpenDevice,
    ServerConfigureAll {
        restore: bool,
    },
    ServerSend {
        device: u8,
        code: u8,
        size: u16,
        offset: u16,
    },
    ServerCloseDevice(u8),
    ServerAbort,
    ServerClose,
    ServerPeerFailure {
        malformed: bool,
    },
    Advance {
        ms: u16,
    },
    // ---- transport ----
    DeliverAll,
    DeliverToClient {
        overtake: bool,
    },
    DeliverToServer {
        overtake: bool,
    },
}

/// A command the application holds: its handle, code and size.
#[derive(Clone, Copy, Debug)]
struct Held {
    handle: CommandHandle,
    code: VdcCode,
    size: u32,
}

struct Harness {
    pair: Pair,
    io_depth: u32,
    to_client: VecDeque<ToClient>,
    to_server: VecDeque<ToServer>,
    /// The model's client phase (the client's own calls move it; the peer may abort it).
    model: ClientPhase,
    device_count: u8,
    devices: Vec<Option<DeviceHandle>>,
    /// Devices whose GetCommand returned VD_E_CLOSE.
    closed: HashSet<u8>,
    held: Vec<Vec<Held>>,
    done_by_client: Vec<(u8, CommandHandle)>,
    old_devices: Vec<DeviceHandle>,
    old_commands: Vec<CommandHandle>,
    /// Commands keyed by (server incarnation, id): a new server restarts its ids.
    sent: HashSet<(u32, CmdId)>,
    completed: HashSet<(u32, CmdId)>,
    incarnation: u32,
    server_used: bool,
    /// The client observed abort (its phase was Abort) since this incarnation began.
    aborted_seen: bool,
}

fn check_documented(e: &VdError, what: &str) {
    assert_eq!(
        Some(e.code),
        e.rule.info().code,
        "{what}: {:?} returned with rule {} ({:?})",
        e.code,
        e.rule,
        e.rule.info().summary
    );
}

fn device_name(i: u8) -> String {
    if i == 0 {
        SET.to_string()
    } else {
        format!("{SET}{i}")
    }
}

impl Harness {
    fn new(io_depth: u32, transcript: bool) -> Harness {
        let options = ServerOptions {
            io_depth,
            ..ServerOptions::default()
        };
        let mut pair = Pair::new(options, 1);
        pair.client.set_transcript(transcript);
        pair.server.set_transcript(transcript);
        Harness {
            pair,
            io_depth,
            to_client: VecDeque::new(),
            to_server: VecDeque::new(),
            model: ClientPhase::Dne,
            device_count: 0,
            devices: Vec::new(),
            closed: HashSet::new(),
            held: Vec::new(),
            done_by_client: Vec::new(),
            old_devices: Vec::new(),
            old_commands: Vec::new(),
            sent: HashSet::new(),
            completed: HashSet::new(),
            incarnation: 0,
            server_used: false,
            aborted_seen: false,
        }
    }

    fn phase(&self) -> ClientPhase {
        self.pair.client.phase()
    }

    /// Moves what both machines want sent into the harness's queues and accounts every
    /// completion the server reports.
    fn pull(&mut self) {
        while let Some(m) = self.pair.server.poll_transmit() {
            self.to_client.push_back(m);
        }
        while let Some(m) = self.pair.client.poll_transmit() {
            self.to_server.push_back(m);
        }
        while let Some(done) = self.pair.server.poll_completion() {
            if let Some(id) = done.id {
                let key = (self.incarnation, id);
                assert!(
                    self.sent.contains(&key),
                    "completion of a command never sent: {id}"
                );
                assert!(self.completed.insert(key), "command {id} completed twice");
            }
        }
        // Drop transcript events as they come (Pair keeps its own copy only via deliver()).
        while self.pair.client.poll_event().is_some() {}
        while self.pair.server.poll_event().is_some() {}
    }

    fn deliver_to_client(&mut self, overtake: bool) {
        let at = if overtake {
            self.to_client
                .iter()
                .position(|m| matches!(m, ToClient::Abort | ToClient::ServerClosed))
                .unwrap_or(0)
        } else {
            0
        };
        if let Some(msg) = self.to_client.remove(at) {
            self.pair.client(|c, t| c.handle_message(t, msg));
        }
    }

    fn deliver_to_server(&mut self, overtake: bool) {
        let at = if overtake {
            self.to_server
                .iter()
                .position(|m| matches!(m, ToServer::Abort | ToServer::ClientClosed))
                .unwrap_or(0)
        } else {
            0
        };
        if let Some(msg) = self.to_server.remove(at) {
            self.pair.server(|s, t| s.handle_message(t, msg));
        }
    }

    fn deliver_all(&mut self) {
        loop {
            self.pull();
            if self.to_client.is_empty() && self.to_server.is_empty() {
                return;
            }
            while !self.to_client.is_empty() {
                self.deliver_to_client(false);
            }
            while !self.to_server.is_empty() {
                self.deliver_to_server(false);
            }
        }
    }

    fn device(&self, d: u8) -> Option<(u8, DeviceHandle)> {
        if self.device_count == 0 {
            return None;
        }
        let d = d % self.device_count;
        self.devices
            .get(usize::from(d))
            .copied()
            .flatten()
            .map(|h| (d, h))
    }

    /// Winds the current server down (the old client's transport is gone) so that every
    /// command it sent is accounted for, then starts a new server incarnation.
    fn new_server(&mut self) {
        let _ = self.pair.server(|s, t| s.signal_abort(t));
        let _ = self.pair.server(|s, t| s.close(t));
        self.pull();
        let options = *self.pair.server.options();
        self.pair.server = vdi_proto::ServerSet::new(options);
        self.pair.server.set_transcript(false);
        self.to_client.clear();
        self.to_server.clear();
        self.incarnation += 1;
        self.server_used = false;
    }

    fn apply(&mut self, op: Op) {
        let before = self.phase();
        if before == ClientPhase::Abort {
            self.aborted_seen = true;
        }
        match op {
            Op::Create {
                devices,
                timeout_ms,
            } => {
                let count = devices % MAX_DEVICES + 1;
                let mut cfg = VdConfig::with_devices(u32::from(count));
                cfg.server_time_out = u32::from(timeout_ms % 4) * 50;
                cfg.max_io_depth = self.io_depth;
                let got = self.pair.client(|c, t| c.create(t, SET, &cfg));
                if before == ClientPhase::Dne {
                    got.expect("Create from DNE");
                    self.new_server();
                    self.device_count = count;
                    self.devices = vec![None; usize::from(count)];
                    self.held = vec![Vec::new(); usize::from(count)];
                    self.closed.clear();
                    self.done_by_client.clear();
                    self.aborted_seen = false;
                    self.model = ClientPhase::Configurable;
                } else {
                    let e = got.expect_err("Create twice");
                    check_documented(&e, "Create");
                    assert_eq!(e.code, VdCode::Protocol, "Create in {before:?}");
                }
            }
            Op::CreateBad(bad) => {
                let long = "n".repeat(vdi_proto::client::MAX_SET_NAME_LEN + 1);
                let mut cfg = VdConfig::with_devices(1);
                let (instance, name, want) = match bad {
                    BadCreate::EmptyName => (None, "", VdCode::Invalid),
                    BadCreate::Backslash => (None, "a\\b", VdCode::Invalid),
                    BadCreate::Nul => (None, "a\0b", VdCode::Invalid),
                    BadCreate::LongName => (None, long.as_str(), VdCode::Invalid),
                    BadCreate::ZeroDevices => {
                        cfg.device_count = 0;
                        (None, SET, VdCode::NotSupported)
                    }
                    BadCreate::TooManyDevices => {
                        cfg.device_count = 65;
                        (None, SET, VdCode::NotSupported)
                    }
                    BadCreate::ServerOnlyFeature => {
                        cfg.features = vdf::WRITE_MEDIA;
                        (None, SET, VdCode::NotSupported)
                    }
                    BadCreate::MachineInstance => (Some("host\\inst"), SET, VdCode::InstanceName),
                };
                let got = self
                    .pair
                    .client(|c, t| c.create_ex(t, instance, name, &cfg));
                let e = got.expect_err("a bad Create must fail");
                check_documented(&e, "Create");
                if before == ClientPhase::Dne || bad_is_instance(bad) {
                    assert_eq!(e.code, want, "{bad:?} in {before:?}");
                } else {
                    assert_eq!(e.code, VdCode::Protocol, "{bad:?} in {before:?}");
                }
                assert_eq!(self.phase(), before, "a failed Create changed the phase");
            }
            Op::GetConfiguration => {
                let configured = self.pair.client.configuration().is_some();
                let got = self.pair.client(|c, t| c.get_configuration(t));
                match (before, got) {
                    (ClientPhase::Dne, Poll::Ready(Err(e))) => {
                        check_documented(&e, "GetConfiguration");
                        assert_eq!(e.code, VdCode::Protocol);
                    }
                    (ClientPhase::Abort, Poll::Ready(Err(e))) => {
                        check_documented(&e, "GetConfiguration");
                        assert_eq!(e.code, VdCode::Abort);
                    }
                    (ClientPhase::Configurable, Poll::Pending) if !configured => {}
                    (ClientPhase::Configurable, Poll::Ready(Ok(_))) if configured => {
                        self.model = ClientPhase::Initializing;
                    }
                    (
                        ClientPhase::Initializing
                        | ClientPhase::Active
                        | ClientPhase::NormallyTerminated,
                        Poll::Ready(Ok(_)),
                    ) => {}
                    (phase, got) => panic!("GetConfiguration in {phase:?} gave {got:?}"),
                }
            }
            Op::GetCommandTimedOut(d) => {
                if let Some((_, h)) = self.device(d) {
                    let e = self.pair.client(|c, t| c.get_command_timed_out(t, h));
                    check_documented(&e, "GetCommand timeout");
                    assert_eq!(e.code, VdCode::Timeout);
                    assert_eq!(self.phase(), before, "a timeout changed the phase");
                }
            }
            Op::OpenDevice(d) => self.open_device(before, Some(d)),
            Op::OpenUnknownDevice => self.open_device(before, None),
            Op::GetCommand(d) => {
                let Some((d, h)) = self.device(d) else { return };
                let got = self.pair.client(|c, t| c.get_command(t, h));
                match got {
                    Poll::Ready(Ok(cmd)) => {
                        assert!(
                            before != ClientPhase::Abort && !self.aborted_seen,
                            "a command was delivered after abort"
                        );
                        assert!(!self.closed.contains(&d), "a command after VD_E_CLOSE");
                        let key = (self.incarnation, cmd.handle.id());
                        assert!(self.sent.contains(&key), "delivered a command never sent");
                        assert_eq!(cmd.handle.device(), DeviceIndex(u16::from(d)));
                        self.held[usize::from(d)].push(Held {
                            handle: cmd.handle,
                            code: cmd.code,
                            size: cmd.size,
                        });
                    }
                    Poll::Ready(Err(e)) => {
                        check_documented(&e, "GetCommand");
                        let want = if before == ClientPhase::Abort {
                            Some(VdCode::Abort)
                        } else if self.closed.contains(&d) {
                            Some(VdCode::Protocol)
                        } else {
                            None
                        };
                        if let Some(want) = want {
                            assert_eq!(e.code, want, "GetCommand in {before:?}");
                        } else {
                            assert_eq!(e.code, VdCode::Close, "GetCommand in {before:?}");
                            self.closed.insert(d);
                            self.held[usize::from(d)].clear();
                        }
                    }
                    Poll::Pending => {
                        assert_ne!(before, ClientPhase::Abort, "GetCommand pending in Abort");
                        assert!(
                            !self.closed.contains(&d),
                            "GetCommand pending after VD_E_CLOSE"
                        );
                    }
                }
            }
            Op::Complete {
                device,
                pick,
                code,
                bytes,
                extra,
            } => {
                let Some((d, h)) = self.device(device) else {
                    return;
                };
                let list = &mut self.held[usize::from(d)];
                if list.is_empty() {
                    return;
                }
                let cmd = list.remove(usize::from(pick) % list.len());
                let completion = match code {
                    CompletionKind::Success => win32::ERROR_SUCCESS,
                    CompletionKind::IoDevice => win32::ERROR_IO_DEVICE,
                    CompletionKind::Aborted => win32::ERROR_OPERATION_ABORTED,
                    CompletionKind::Other(c) => c,
                };
                let limit = if cmd.code.transfers_data() {
                    u64::from(cmd.size)
                } else {
                    u64::MAX
                };
                let bytes = if extra {
                    u64::from(cmd.size) + 1 + u64::from(bytes)
                } else {
                    u64::from(bytes)
                };
                let too_many = cmd.code.transfers_data() && bytes > limit;
                let got = self
                    .pair
                    .client(|c, t| c.complete_command(t, h, cmd.handle, completion, bytes, 0));
                match (before, got) {
                    (ClientPhase::Active, Ok(())) if !too_many => {
                        self.done_by_client.push((d, cmd.handle));
                    }
                    (ClientPhase::Active, Err(e)) if too_many => {
                        check_documented(&e, "CompleteCommand");
                        assert_eq!(e.code, VdCode::Invalid);
                        // Still held: the application may complete it properly.
                        self.held[usize::from(d)].push(cmd);
                    }
                    (ClientPhase::Abort, Err(e)) => {
                        check_documented(&e, "CompleteCommand");
                        assert_eq!(e.code, VdCode::Abort);
                    }
                    (ClientPhase::NormallyTerminated, Err(e)) => {
                        check_documented(&e, "CompleteCommand");
                        assert_eq!(e.code, VdCode::Protocol);
                    }
                    (phase, got) => {
                        panic!("CompleteCommand of a held command in {phase:?}: {got:?}")
                    }
                }
            }
            Op::CompleteOnWrongDevice { device, pick } => {
                if self.device_count < 2 {
                    return;
                }
                let d = device % self.device_count;
                let other = (d + 1) % self.device_count;
                let (Some(h), Some(cmd)) = (
                    self.devices[usize::from(other)],
                    self.held[usize::from(d)]
                        .get(usize::from(pick) % self.held[usize::from(d)].len().max(1))
                        .copied(),
                ) else {
                    return;
                };
                let got = self
                    .pair
                    .client(|c, t| c.complete_command(t, h, cmd.handle, 0, 0, 0));
                let e = got.expect_err("completing another device's command must fail");
                check_documented(&e, "CompleteCommand on the wrong device");
                match before {
                    ClientPhase::Abort => assert_eq!(e.code, VdCode::Abort),
                    ClientPhase::Active if !self.closed.contains(&other) => {
                        assert_eq!(e.code, VdCode::Invalid)
                    }
                    _ => {}
                }
            }
            Op::CompleteTwice(pick) => {
                if self.done_by_client.is_empty() {
                    return;
                }
                let (d, cmd) = self.done_by_client[usize::from(pick) % self.done_by_client.len()];
                let Some(h) = self.devices[usize::from(d)] else {
                    return;
                };
                let got = self
                    .pair
                    .client(|c, t| c.complete_command(t, h, cmd, 0, 0, 0));
                let e = got.expect_err("a second CompleteCommand must fail");
                check_documented(&e, "CompleteCommand twice");
                match before {
                    ClientPhase::Abort => assert_eq!(e.code, VdCode::Abort),
                    ClientPhase::Active if !self.closed.contains(&d) => {
                        assert_eq!(e.code, VdCode::Invalid)
                    }
                    _ => {}
                }
            }
            Op::CompleteStale(pick) => {
                let Some(&cmd) = self
                    .old_commands
                    .get(usize::from(pick) % self.old_commands.len().max(1))
                else {
                    return;
                };
                let Some((_, h)) = self.device(cmd.device().0 as u8) else {
                    return;
                };
                let got = self
                    .pair
                    .client(|c, t| c.complete_command(t, h, cmd, 0, 0, 0));
                let e = got.expect_err("a command from before Close must not complete");
                check_documented(&e, "CompleteCommand stale");
            }
            Op::ClientAbort => {
                let got = self.pair.client(|c, t| c.signal_abort(t));
                if before == ClientPhase::Dne {
                    let e = got.expect_err("SignalAbort in DNE");
                    check_documented(&e, "SignalAbort");
                    assert_eq!(e.code, VdCode::Protocol);
                } else {
                    got.expect("SignalAbort");
                    self.model = ClientPhase::Abort;
                }
            }
            Op::Close => {
                let open = (0..self.device_count)
                    .any(|i| self.devices[usize::from(i)].is_some() && !self.closed.contains(&i));
                let got = self.pair.client(|c, t| c.close(t));
                match (before, got) {
                    (ClientPhase::Dne, Err(e)) => {
                        check_documented(&e, "Close");
                        assert_eq!(e.code, VdCode::Protocol);
                    }
                    (ClientPhase::Dne, Ok(())) => panic!("Close in DNE succeeded"),
                    (ClientPhase::Abort, got) => got.expect("Close after abort"),
                    (phase, Err(e)) if open => {
                        check_documented(&e, "Close");
                        assert_eq!(e.code, VdCode::Open, "Close in {phase:?} with devices open");
                    }
                    (phase, got) if open => panic!("Close in {phase:?} with devices open: {got:?}"),
                    (_, got) => got.expect("Close with every device closed"),
                }
                if before != ClientPhase::Dne {
                    self.old_devices.extend(self.devices.drain(..).flatten());
                    self.old_commands
                        .extend(self.held.drain(..).flatten().map(|c| c.handle));
                    self.old_commands
                        .extend(self.done_by_client.drain(..).map(|(_, c)| c));
                    self.device_count = 0;
                    self.closed.clear();
                    self.model = ClientPhase::Dne;
                }
            }
            Op::UseOldDevice(pick) => {
                let Some(&h) = self
                    .old_devices
                    .get(usize::from(pick) % self.old_devices.len().max(1))
                else {
                    return;
                };
                let got = self.pair.client(|c, t| c.get_command(t, h));
                match got {
                    Poll::Ready(Err(e)) => {
                        check_documented(&e, "GetCommand on a stale device");
                        assert_eq!(e.code, VdCode::Protocol);
                    }
                    other => panic!("a stale device gave {other:?}"),
                }
                if let Some(&cmd) = self.old_commands.last() {
                    let e = self
                        .pair
                        .client(|c, t| c.complete_command(t, h, cmd, 0, 0, 0))
                        .expect_err("CompleteCommand on a stale device");
                    check_documented(&e, "CompleteCommand on a stale device");
                    assert_eq!(e.code, VdCode::Protocol);
                }
            }
            Op::ClientPeerFailure { malformed } => {
                self.pair.client(|c, t| c.handle_peer_failure(t, malformed));
            }
            Op::ServerOpen => {
                if self.pair.server.phase() == ServerPhase::Dne && self.server_used {
                    return; // A closed server set object is not reused for the same client set.
                }
                let found = (before != ClientPhase::Dne).then(|| *self.pair.client.requested());
                let was = self.pair.server.phase();
                let got = self.pair.server(|s, t| s.open(t, SET, found));
                match got {
                    Ok(()) => {
                        assert_eq!(was, ServerPhase::Dne);
                        self.server_used = true;
                    }
                    Err(e) => {
                        check_documented(&e, "server Open");
                        let want = if was == ServerPhase::Dne {
                            VdCode::Invalid
                        } else {
                            VdCode::Protocol
                        };
                        assert_eq!(e.code, want);
                    }
                }
            }
            Op::ServerBegin { restore, bad } => {
                let choice = choice(restore, bad);
                if let Err(e) = self.pair.server(|s, t| s.begin_configuration(t, choice)) {
                    check_documented(&e, "BeginConfiguration");
                }
            }
            Op::ServerRequestBuffers { size, count } => {
                let size = u32::from(size) * 16;
                let count = u32::from(count % 8) + 1;
                if let Err(e) = self
                    .pair
                    .server(|s, t| s.request_buffers(t, size, 0, count))
                {
                    check_documented(&e, "RequestBuffers");
                }
            }
            Op::ServerEnd { wrong_names } => {
                let n = self.pair.server.requested().device_count.min(64) as u8;
                let n = if wrong_names { n.wrapping_add(1) } else { n };
                let names: Vec<String> = (0..n).map(device_name).collect();
                if let Err(e) = self.pair.server(|s, t| s.end_configuration(t, &names)) {
                    check_documented(&e, "EndConfiguration");
                }
            }
            Op::ServerOpenDevice => {
                if let Err(e) = self.pair.server(|s, t| s.open_device(t)) {
                    check_documented(&e, "server OpenDevice");
                }
            }
            Op::ServerConfigureAll { restore } => {
                if before == ClientPhase::Dne || self.server_used {
                    return;
                }
                let cfg = *self.pair.client.requested();
                self.pair
                    .server(|s, t| s.open(t, SET, Some(cfg)))
                    .expect("Open");
                self.server_used = true;
                self.pair
                    .server(|s, t| s.begin_configuration(t, choice(restore, false)))
                    .expect("BeginConfiguration");
                self.pair
                    .server(|s, t| s.request_buffers(t, 65536, 0, 4))
                    .expect("RequestBuffers");
                let names: Vec<String> = (0..cfg.device_count as u8).map(device_name).collect();
                self.pair
                    .server(|s, t| s.end_configuration(t, &names))
                    .expect("EndConfiguration");
                for _ in 0..cfg.device_count {
                    self.pair
                        .server(|s, t| s.open_device(t))
                        .expect("server OpenDevice");
                }
            }
            Op::ServerSend {
                device,
                code,
                size,
                offset,
            } => {
                let code = VdcCode::from_u32(u32::from(code % 20)).unwrap_or(VdcCode::Flush);
                let request = SendRequest {
                    code,
                    size: u32::from(size),
                    position: 0,
                    buffer_offset: u64::from(offset) * 512,
                    context: 0,
                };
                let device = DeviceIndex(u16::from(device % (MAX_DEVICES + 1)));
                let server_phase = self.pair.server.phase();
                match self.pair.server(|s, t| s.send_command(t, device, request)) {
                    Ok(id) => {
                        assert_eq!(
                            server_phase,
                            ServerPhase::Active,
                            "SendCommand outside Active"
                        );
                        assert!(self.sent.insert((self.incarnation, id)), "id {id} reused");
                    }
                    Err(e) => {
                        check_documented(&e, "SendCommand");
                        if server_phase == ServerPhase::Abort {
                            assert_eq!(e.code, VdCode::Abort);
                        }
                    }
                }
            }
            Op::ServerCloseDevice(d) => {
                let device = DeviceIndex(u16::from(d % (MAX_DEVICES + 1)));
                let server_phase = self.pair.server.phase();
                if let Err(e) = self.pair.server(|s, t| s.close_device(t, device)) {
                    check_documented(&e, "CloseDevice");
                    if server_phase == ServerPhase::Abort {
                        assert_eq!(e.code, VdCode::Abort);
                    }
                }
            }
            Op::ServerAbort => {
                let server_phase = self.pair.server.phase();
                match self.pair.server(|s, t| s.signal_abort(t)) {
                    Ok(()) => assert_ne!(server_phase, ServerPhase::Dne),
                    Err(e) => {
                        check_documented(&e, "server SignalAbort");
                        assert_eq!(server_phase, ServerPhase::Dne);
                    }
                }
            }
            Op::ServerClose => {
                if let Err(e) = self.pair.server(|s, t| s.close(t)) {
                    check_documented(&e, "server Close");
                }
                assert_eq!(
                    self.pair.server.outstanding_total(),
                    0,
                    "commands left after server Close"
                );
            }
            Op::ServerPeerFailure { malformed } => {
                self.pair.server(|s, t| s.handle_peer_failure(t, malformed));
            }
            Op::Advance { ms } => self.pair.advance(u64::from(ms) * 1000),
            Op::DeliverAll => self.deliver_all(),
            Op::DeliverToClient { overtake } => {
                self.pull();
                self.deliver_to_client(overtake);
            }
            Op::DeliverToServer { overtake } => {
                self.pull();
                self.deliver_to_server(overtake);
            }
        }
        self.pull();
        self.check_phase(before);
    }

    fn open_device(&mut self, before: ClientPhase, pick: Option<u8>) {
        let (index, name) = match pick {
            Some(d) if self.device_count > 0 => {
                let i = d % self.device_count;
                (Some(i), device_name(i))
            }
            _ => (None, "no such device".to_string()),
        };
        let got = self.pair.client(|c, t| c.open_device(t, &name));
        let opened =
            |h: &Harness, i: u8| h.devices.get(usize::from(i)).is_some_and(Option::is_some);
        let all_open = self.device_count > 0 && (0..self.device_count).all(|i| opened(self, i));
        let want = match before {
            ClientPhase::Abort => Err(VdCode::Abort),
            ClientPhase::Initializing | ClientPhase::Active if all_open => Err(VdCode::Open),
            ClientPhase::Initializing | ClientPhase::Active => match index {
                None => Err(VdCode::Invalid),
                Some(i) if opened(self, i) => Err(VdCode::Protocol),
                Some(_) => Ok(()),
            },
            _ => Err(VdCode::Protocol),
        };
        match (got, want) {
            (Ok(h), Ok(())) => {
                let i = index.expect("a known name");
                assert_eq!(h.index(), DeviceIndex(u16::from(i)));
                self.devices[usize::from(i)] = Some(h);
                self.model = ClientPhase::Active;
            }
            (Err(e), Err(code)) => {
                check_documented(&e, "OpenDevice");
                assert_eq!(e.code, code, "OpenDevice {name:?} in {before:?}");
            }
            (got, want) => {
                panic!("OpenDevice {name:?} in {before:?}: got {got:?}, want {want:?}")
            }
        }
    }

    /// The model predicts every phase change except the ones only the peer can cause.
    fn check_phase(&mut self, before: ClientPhase) {
        let now = self.phase();
        if now == self.model {
            return;
        }
        match now {
            ClientPhase::Abort => {
                assert_ne!(self.model, ClientPhase::Dne, "a closed set aborted");
                self.model = ClientPhase::Abort;
            }
            ClientPhase::NormallyTerminated => {
                assert!(
                    matches!(
                        self.model,
                        ClientPhase::Active | ClientPhase::NormallyTerminated
                    ),
                    "normal termination from {:?} (before the step: {before:?})",
                    self.model
                );
                self.model = ClientPhase::NormallyTerminated;
            }
            other => panic!(
                "client phase {other:?}, model {:?} (before: {before:?})",
                self.model
            ),
        }
    }

    /// Winds everything down: after abort and Close every command must be accounted for.
    fn teardown(mut self) {
        let _ = self.pair.client(|c, t| c.signal_abort(t));
        let _ = self.pair.client(|c, t| c.close(t));
        self.deliver_all();
        let _ = self.pair.server(|s, t| s.signal_abort(t));
        let _ = self.pair.server(|s, t| s.close(t));
        self.pull();
        let missing: Vec<_> = self.sent.difference(&self.completed).collect();
        assert!(missing.is_empty(), "commands never completed: {missing:?}");
    }
}

fn bad_is_instance(bad: BadCreate) -> bool {
    // The instance name is checked before the state (CreateEx's own argument check).
    matches!(bad, BadCreate::MachineInstance)
}

fn choice(restore: bool, bad: bool) -> ServerChoice {
    ServerChoice {
        features: if restore {
            vdf::READ_MEDIA
        } else {
            vdf::WRITE_MEDIA
        },
        block_size: if bad { 100 } else { 512 },
        alignment: 0,
        max_transfer_size: 65536,
        timeout_ms: 0,
    }
}

fuzz_target!(|input: Input| {
    let io_depth = u32::from(input.io_depth % 4) + 1;
    let mut h = Harness::new(io_depth, input.transcript);
    for op in input.ops.into_iter().take(MAX_OPS) {
        h.apply(op);
    }
    h.teardown();
});
