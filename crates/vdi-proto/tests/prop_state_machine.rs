//! Model-based test: random interleavings of client and server calls against a reference model.
//!
//! The reference model predicts the client's phase and the documented code of every set-level
//! call; the invariants check command accounting across both machines: no command is delivered
//! after abort, every command is completed exactly once (by the client or as aborted), and no
//! handle from before a Close works afterwards.

use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::collections::{HashMap, HashSet};
use std::task::Poll;
use vdi_proto::config::ServerChoice;
use vdi_proto::sim::Pair;
use vdi_proto::{
    ClientPhase, CmdId, CommandHandle, DeviceHandle, DeviceIndex, SendRequest, ServerOptions,
    ServerPhase, VdCode, VdConfig, VdcCode, vdf, win32,
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
            Step::GetConfiguration if m.phase() == Configurable && m.configured => {
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

impl Sut {
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
                    .pair
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
                let got = sut.pair.client(|c, t| c.get_configuration(t));
                let expected = match phase_before {
                    ClientPhase::Dne => Some(Err(VdCode::Protocol)),
                    ClientPhase::Abort => Some(Err(VdCode::Abort)),
                    ClientPhase::Configurable if sut.pair.client.configuration().is_none() => None,
                    _ => Some(Ok(())),
                };
                match (got, expected) {
                    (Poll::Pending, None) => {}
                    (Poll::Ready(Ok(_)), Some(Ok(()))) => {}
                    (Poll::Ready(Err(e)), Some(Err(code))) => assert_eq!(e.code, code),
                    (got, want) => {
                        panic!("GetConfiguration in {phase_before:?}: got {got:?}, want {want:?}")
                    }
                }
            }
            Step::OpenDevice(d) => {
                let got = sut.pair.client(|c, t| c.open_device(t, &name(d)));
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
                if let Some(&h) = sut.devices.get(&d) {
                    match sut.pair.client(|c, t| c.get_command(t, h)) {
                        Poll::Ready(Ok(cmd)) => {
                            assert_ne!(
                                phase_before,
                                ClientPhase::Abort,
                                "a command was delivered after abort"
                            );
                            assert!(sut.sent.contains(&(sut.incarnation, cmd.handle.id())));
                            sut.held.entry(d).or_default().push(cmd.handle);
                        }
                        Poll::Ready(Err(e)) => {
                            if phase_before == ClientPhase::Abort {
                                assert_eq!(e.code, VdCode::Abort);
                            }
                            if e.code == VdCode::Close {
                                sut.closed.insert(d);
                                sut.held.remove(&d);
                            }
                        }
                        Poll::Pending => assert_ne!(phase_before, ClientPhase::Abort),
                    }
                }
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
                    let got = sut
                        .pair
                        .client(|c, t| c.complete_command(t, h, cmd, code, 0, 0));
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
                    let got = sut
                        .pair
                        .client(|c, t| c.complete_command(t, h, cmd, 0, 0, 0));
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
                    let got = sut
                        .pair
                        .client(|c, t| c.complete_command(t, h, cmd, 0, 0, 0));
                    assert!(
                        got.is_err(),
                        "a command from before Close must not complete"
                    );
                }
            }
            Step::ClientAbort => {
                let got = sut.pair.client(|c, t| c.signal_abort(t));
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
                let got = sut.pair.client(|c, t| c.close(t));
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
                    let got = sut.pair.client(|c, t| c.get_command(t, h));
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
        let _ = sut.pair.client(|c, t| c.signal_abort(t));
        let _ = sut.pair.client(|c, t| c.close(t));
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
