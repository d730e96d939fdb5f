//! Model-based test: random interleavings of client and server calls against a reference model.
//!
//! The reference model predicts the client's phase and the documented code of every set-level
//! call; the invariants check command accounting across both machines: no command is delivered
//! after abort, every command is completed exactly once (by the client or as aborted), and no
//! handle from before a Close works afterwards. Every client call goes through
//! [`Sut::client`]: a call refused with a misuse code (or a wait that timed out) must leave the
//! client set exactly as it was, so the next blocking call still blocks (issue 19, defect 1).

use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::collections::{HashMap, HashSet};
use std::task::Poll;
use vdi_proto::config::ServerChoice;
use vdi_proto::sim::Pair;
use vdi_proto::{
    ClientPhase, ClientSet, CmdId, CommandHandle, DeviceHandle, DeviceIndex, Rule, SendRequest,
    ServerOptions, ServerPhase, Tick, VdCode, VdConfig, VdError, VdResult, VdcCode, vdf, win32,
};

const DEVICES: u16 = 2;

fn name(i: u16) -> String {
    if i == 0 {
        "set".to_string()
    } else {
        format!("set{i}")
    }
}

#[derive(Clone, Debug)]
enum Step {
    Create,
    ServerConfigure,
    GetConfiguration,
    OpenDevice(u16),
    OpenUnknownDevice,
    WaitTimesOut(Option<u16>),
    ServerSend(u16),
    GetCommand(u16),
    Complete { device: u16, pick: usize, ok: bool },
    CompleteOnWrongDevice(u16),
    CompleteStale,
    ClientAbort,
    ServerAbort,
    ServerCloseDevice(u16),
    Close,
    UseOldDevice,
    Deliver,
}

#[derive(Clone, Debug, Default)]
struct Model {
    phase: Option<ClientPhase>,
    configured: bool,
    opened: [bool; DEVICES as usize],
    server_open: bool,
}

impl Model {
    fn phase(&self) -> ClientPhase {
        self.phase.unwrap_or(ClientPhase::Dne)
    }
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::default()).boxed()
    }

    fn transitions(_: &Model) -> BoxedStrategy<Step> {
        let dev = 0..DEVICES;
        prop_oneof![
            1 => Just(Step::Create),
            2 => Just(Step::ServerConfigure),
            2 => Just(Step::GetConfiguration),
            2 => dev.clone().prop_map(Step::OpenDevice),
            1 => Just(Step::OpenUnknownDevice),
            2 => prop::option::of(dev.clone()).prop_map(Step::WaitTimesOut),
            4 => dev.clone().prop_map(Step::ServerSend),
            4 => dev.clone().prop_map(Step::GetCommand),
            4 => (dev.clone(), 0..4usize, prop::bool::weighted(0.85)).prop_map(|(device, pick, ok)| Step::Complete { device, pick, ok }),
            1 => dev.clone().prop_map(Step::CompleteOnWrongDevice),
            1 => Just(Step::CompleteStale),
            1 => Just(Step::ClientAbort),
            1 => Just(Step::ServerAbort),
            2 => dev.prop_map(Step::ServerCloseDevice),
            1 => Just(Step::Close),
            1 => Just(Step::UseOldDevice),
            4 => Just(Step::Deliver),
        ]
        .boxed()
    }

    fn apply(mut m: Model, step: &Step) -> Model {
        use ClientPhase::*;
        match step {
            Step::Create if m.phase() == Dne => {
                m = Model {
                    phase: Some(Configurable),
                    ..Model::default()
                };
            }
            Step::ServerConfigure if m.phase() != Dne && !m.server_open => {
                m.server_open = true;
            }
            Step::GetConfiguration | Step::WaitTimesOut(None)
                if m.phase() == Configurable && m.configured =>
            {
                m.phase = Some(Initializing)
            }
            Step::OpenDevice(d)
                if matches!(m.phase(), Initializing | Active) && !m.opened[*d as usize] =>
            {
                m.opened[*d as usize] = true;
                m.phase = Some(Active);
            }
            Step::ClientAbort if m.phase() != Dne => m.phase = Some(Abort),
            Step::Deliver if m.server_open => m.configured = true,
            Step::Close if m.phase() != Dne => m = Model::default(),
            _ => {}
        }
        m
    }
}

/// The system under test: a real pair, plus the bookkeeping the invariants need.
struct Sut {
    pair: Pair,
    devices: HashMap<u16, DeviceHandle>,
    held: HashMap<u16, Vec<CommandHandle>>,
    old_devices: Vec<DeviceHandle>,
    old_commands: Vec<CommandHandle>,
    /// Commands keyed by (server incarnation, id): ids restart with every new server set.
    sent: HashSet<(u32, CmdId)>,
    completed: HashSet<(u32, CmdId)>,
    incarnation: u32,
    /// Devices whose GetCommand returned VD_E_CLOSE.
    closed: HashSet<u16>,
    model: Model,
}

/// What a client call returned, as a refusal if it was one.
trait Outcome: std::fmt::Debug {
    fn refusal(&self) -> Option<VdError>;
}

impl<T: std::fmt::Debug> Outcome for VdResult<T> {
    fn refusal(&self) -> Option<VdError> {
        self.as_ref().err().copied()
    }
}

impl<T: std::fmt::Debug> Outcome for Poll<VdResult<T>> {
    fn refusal(&self) -> Option<VdError> {
        match self {
            Poll::Ready(Err(e)) => Some(*e),
            _ => None,
        }
    }
}

/// The two errors the table pairs with a state change: Close with devices open (VD_E_OPEN,
/// which aborts and releases the set) and GetCommand's VD_E_CLOSE (the device's normal end).
fn changes_state(e: &VdError) -> bool {
    e.rule == Rule::CloseDevicesOpen || e.code == VdCode::Close
}

impl Sut {
    /// Runs a client call. If it was refused, the set must be exactly as before the call.
    fn client<R: Outcome>(&mut self, f: impl FnOnce(&mut ClientSet, Tick) -> R) -> R {
        let before = self.pair.client.snapshot();
        let got = self.pair.client(f);
        if let Some(e) = got.refusal()
            && !changes_state(&e)
        {
            assert_eq!(
                self.pair.client.snapshot(),
                before,
                "a call refused with {e:?} changed the client set"
            );
        }
        got
    }

    /// GetConfiguration, checked against the model; true when it would block.
    fn get_configuration(&mut self, before: &Model, phase_before: ClientPhase) -> bool {
        let got = self.client(|c, t| c.get_configuration(t));
        let expected = match phase_before {
            ClientPhase::Dne => Some(Err(VdCode::Protocol)),
            ClientPhase::Abort => Some(Err(VdCode::Abort)),
            // Still blocking unless the model says the configuration arrived: a refused call in
            // between must not have changed that.
            ClientPhase::Configurable if !before.configured => None,
            _ => Some(Ok(())),
        };
        match (got, expected) {
            (Poll::Pending, None) => true,
            (Poll::Ready(Ok(_)), Some(Ok(()))) => false,
            (Poll::Ready(Err(e)), Some(Err(code))) => {
                assert_eq!(e.code, code);
                false
            }
            (got, want) => {
                panic!("GetConfiguration in {phase_before:?}: got {got:?}, want {want:?}")
            }
        }
    }

    /// GetCommand on device `d` if this client opened it; true when it would block.
    fn get_command(&mut self, d: u16, phase_before: ClientPhase) -> bool {
        let Some(&h) = self.devices.get(&d) else {
            return false;
        };
        match self.client(|c, t| c.get_command(t, h)) {
            Poll::Ready(Ok(cmd)) => {
                assert_ne!(
                    phase_before,
                    ClientPhase::Abort,
                    "a command was delivered after abort"
                );
                assert!(self.sent.contains(&(self.incarnation, cmd.handle.id())));
                self.held.entry(d).or_default().push(cmd.handle);
                false
            }
            Poll::Ready(Err(e)) => {
                if phase_before == ClientPhase::Abort {
                    assert_eq!(e.code, VdCode::Abort);
                }
                if e.code == VdCode::Close {
                    self.closed.insert(d);
                    self.held.remove(&d);
                }
                false
            }
            Poll::Pending => {
                assert_ne!(phase_before, ClientPhase::Abort);
                true
            }
        }
    }

    /// The caller's wait ran out: VD_E_TIMEOUT, and the set exactly as before (§8.3).
    fn time_out(&mut self, handle: Option<(u16, DeviceHandle)>) {
        let snapshot = self.pair.client.snapshot();
        let err = match handle {
            None => self.pair.client(|c, t| c.get_configuration_timed_out(t)),
            Some((_, h)) => self.pair.client(|c, t| c.get_command_timed_out(t, h)),
        };
        assert_eq!(err.code, VdCode::Timeout);
        assert_eq!(
            self.pair.client.snapshot(),
            snapshot,
            "a timeout changed the set"
        );
    }

    fn drain_completions(&mut self) {
        while let Some(done) = self.pair.server.poll_completion() {
            if let Some(id) = done.id {
                let key = (self.incarnation, id);
                assert!(
                    self.sent.contains(&key),
                    "completion for a command never sent: {id}"
                );
                assert!(self.completed.insert(key), "command {id} completed twice");
            }
        }
    }
}

struct Test;

impl StateMachineTest for Test {
    type SystemUnderTest = Sut;
    type Reference = Reference;

    fn init_test(_: &Model) -> Sut {
        Sut {
            pair: Pair::new(ServerOptions::default(), 1),
            devices: HashMap::new(),
            held: HashMap::new(),
            old_devices: Vec::new(),
            old_commands: Vec::new(),
            sent: HashSet::new(),
            completed: HashSet::new(),
            incarnation: 0,
            closed: HashSet::new(),
            model: Model::default(),
        }
    }

    fn apply(mut sut: Sut, after: &Model, step: Step) -> Sut {
        // The runner hands over the model *after* the step; the prediction needs the one before.
        let before = &std::mem::replace(&mut sut.model, after.clone());
        let phase_before = sut.pair.client.phase();
        if !matches!(
            phase_before,
            ClientPhase::Abort | ClientPhase::NormallyTerminated
        ) {
            assert_eq!(
                phase_before,
                before.phase(),
                "client phase diverged from the model before {step:?}"
            );
        }
        match step {
            Step::Create => {
                let got = sut
                    .client(|c, t| c.create(t, "set", &VdConfig::with_devices(u32::from(DEVICES))));
                if phase_before == ClientPhase::Dne {
                    got.unwrap();
                    sut.drain_completions();
                    sut.pair.server = vdi_proto::ServerSet::new(ServerOptions::default());
                    sut.incarnation += 1;
                } else {
                    assert_eq!(got.unwrap_err().code, VdCode::Protocol);
                }
            }
            Step::ServerConfigure => {
                if phase_before != ClientPhase::Dne && sut.pair.server.phase() == ServerPhase::Dne {
                    let cfg = *sut.pair.client.requested();
                    sut.pair.server(|s, t| s.open(t, "set", Some(cfg))).unwrap();
                    let choice = ServerChoice {
                        features: vdf::WRITE_MEDIA,
                        block_size: 512,
                        alignment: 0,
                        max_transfer_size: 65536,
                        timeout_ms: 0,
                    };
                    sut.pair
                        .server(|s, t| s.begin_configuration(t, choice))
                        .unwrap();
                    sut.pair
                        .server(|s, t| s.request_buffers(t, 65536, 0, 8))
                        .unwrap();
                    let names: Vec<String> = (0..DEVICES).map(name).collect();
                    sut.pair
                        .server(|s, t| s.end_configuration(t, &names))
                        .unwrap();
                    for _ in 0..DEVICES {
                        sut.pair.server(|s, t| s.open_device(t)).unwrap();
                    }
                }
            }
            Step::GetConfiguration => {
                sut.get_configuration(before, phase_before);
            }
            Step::OpenDevice(d) => {
                let got = sut.client(|c, t| c.open_device(t, &name(d)));
                match got {
                    Ok(h) => {
                        assert!(matches!(
                            phase_before,
                            ClientPhase::Initializing | ClientPhase::Active
                        ));
                        assert!(!before.opened[d as usize]);
                        sut.devices.insert(d, h);
                    }
                    Err(e) => {
                        let want = match phase_before {
                            ClientPhase::Abort => VdCode::Abort,
                            ClientPhase::Initializing | ClientPhase::Active
                                if before.opened.iter().all(|o| *o) =>
                            {
                                VdCode::Open
                            }
                            _ => VdCode::Protocol,
                        };
                        assert_eq!(e.code, want, "OpenDevice in {phase_before:?}");
                    }
                }
            }
            Step::OpenUnknownDevice => {
                let got = sut.client(|c, t| c.open_device(t, "no such device"));
                let want = match phase_before {
                    ClientPhase::Abort => VdCode::Abort,
                    ClientPhase::Initializing | ClientPhase::Active
                        if before.opened.iter().all(|o| *o) =>
                    {
                        VdCode::Open
                    }
                    ClientPhase::Initializing | ClientPhase::Active => VdCode::Invalid,
                    _ => VdCode::Protocol,
                };
                assert_eq!(
                    got.unwrap_err().code,
                    want,
                    "unknown device in {phase_before:?}"
                );
            }
            Step::WaitTimesOut(device) => {
                // A blocking call that would wait, and whose wait then runs out: VD_E_TIMEOUT
                // and nothing else (§8.3); the same call still blocks afterwards.
                // GetConfiguration, or GetCommand on a device this client opened.
                let target = match device {
                    None => Some(None),
                    Some(d) => sut.devices.get(&d).map(|&h| Some((d, h))),
                };
                if let Some(handle) = target {
                    let pending = match handle {
                        None => sut.get_configuration(before, phase_before),
                        Some((d, _)) => sut.get_command(d, phase_before),
                    };
                    if pending {
                        sut.time_out(handle);
                        let still = match handle {
                            None => sut.get_configuration(before, phase_before),
                            Some((d, _)) => sut.get_command(d, phase_before),
                        };
                        assert!(still, "after a timeout the same call no longer blocks");
                    }
                }
            }
            Step::ServerSend(d) => {
                let got = sut.pair.server(|s, t| {
                    s.send_command(t, DeviceIndex(d), SendRequest::control(VdcCode::Flush))
                });
                if let Ok(id) = got {
                    assert!(
                        sut.sent.insert((sut.incarnation, id)),
                        "id {id} reused while live"
                    );
                }
            }
            Step::GetCommand(d) => {
                sut.get_command(d, phase_before);
            }
            Step::Complete { device, pick, ok } => {
                if let (Some(&h), Some(list)) =
                    (sut.devices.get(&device), sut.held.get_mut(&device))
                    && !list.is_empty()
                {
                    let cmd = list.remove(pick % list.len());
                    let code = if ok {
                        win32::ERROR_SUCCESS
                    } else {
                        win32::ERROR_IO_DEVICE
                    };
                    let got = sut.client(|c, t| c.complete_command(t, h, cmd, code, 0, 0));
                    match phase_before {
                        ClientPhase::Active => got.unwrap(),
                        ClientPhase::Abort => assert_eq!(got.unwrap_err().code, VdCode::Abort),
                        ClientPhase::NormallyTerminated => {
                            assert_eq!(got.unwrap_err().code, VdCode::Protocol)
                        }
                        other => panic!("held a command in {other:?}"),
                    }
                }
            }
            Step::CompleteOnWrongDevice(d) => {
                let other = (d + 1) % DEVICES;
                if let (Some(&h), Some(cmd)) = (
                    sut.devices.get(&other),
                    sut.held.get(&d).and_then(|l| l.first().copied()),
                ) {
                    let got = sut.client(|c, t| c.complete_command(t, h, cmd, 0, 0, 0));
                    assert!(
                        got.is_err(),
                        "completing device {d}'s command on device {other} must fail"
                    );
                }
            }
            Step::CompleteStale => {
                if let (Some(&cmd), Some(&h)) =
                    (sut.old_commands.last(), sut.devices.values().next())
                {
                    let got = sut.client(|c, t| c.complete_command(t, h, cmd, 0, 0, 0));
                    assert!(
                        got.is_err(),
                        "a command from before Close must not complete"
                    );
                }
            }
            Step::ClientAbort => {
                let got = sut.client(|c, t| c.signal_abort(t));
                if phase_before == ClientPhase::Dne {
                    assert_eq!(got.unwrap_err().code, VdCode::Protocol);
                } else {
                    got.unwrap();
                }
            }
            Step::ServerAbort => {
                let _ = sut.pair.server(|s, t| s.signal_abort(t));
            }
            Step::ServerCloseDevice(d) => {
                let _ = sut.pair.server(|s, t| s.close_device(t, DeviceIndex(d)));
            }
            Step::Close => {
                // Devices this client opened and that have not returned VD_E_CLOSE.
                let open = sut.devices.keys().any(|d| !sut.closed.contains(d));
                let got = sut.client(|c, t| c.close(t));
                match phase_before {
                    ClientPhase::Dne => assert_eq!(got.unwrap_err().code, VdCode::Protocol),
                    ClientPhase::Abort => got.unwrap(),
                    _ if open => assert_eq!(got.unwrap_err().code, VdCode::Open),
                    _ => got.unwrap(),
                }
                sut.closed.clear();
                if phase_before != ClientPhase::Dne {
                    sut.old_devices.extend(sut.devices.drain().map(|(_, h)| h));
                    sut.old_commands
                        .extend(sut.held.drain().flat_map(|(_, l)| l));
                    // The server notices the client is gone; its close ends its side too.
                    sut.pair.deliver();
                    let _ = sut.pair.server(|s, t| s.close(t));
                }
            }
            Step::UseOldDevice => {
                if let Some(&h) = sut.old_devices.last() {
                    let got = sut.client(|c, t| c.get_command(t, h));
                    assert!(
                        matches!(got, Poll::Ready(Err(e)) if e.code == VdCode::Protocol),
                        "stale device gave {got:?}"
                    );
                }
            }
            Step::Deliver => {
                sut.pair.deliver();
            }
        }
        sut.drain_completions();
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        // The model predicts every phase except the ones only the peer can cause.
        let phase = sut.pair.client.phase();
        let peer_caused = matches!(phase, ClientPhase::Abort | ClientPhase::NormallyTerminated);
        if !peer_caused {
            assert_eq!(phase, model.phase(), "client phase");
        }
        assert!(sut.completed.is_subset(&sut.sent));
    }

    fn teardown(mut sut: Sut, _: Model) {
        // Wind everything down: after abort and Close every command must be accounted for.
        let _ = sut.client(|c, t| c.signal_abort(t));
        let _ = sut.client(|c, t| c.close(t));
        sut.pair.deliver();
        let _ = sut.pair.server(|s, t| s.signal_abort(t));
        let _ = sut.pair.server(|s, t| s.close(t));
        sut.drain_completions();
        let missing: Vec<_> = sut.sent.difference(&sut.completed).collect();
        assert!(missing.is_empty(), "commands never completed: {missing:?}");
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn client_and_server_agree_with_the_model(sequential 1..60 => Test);
}
