//! One test per cell of the client state table (vdi-facts §8.1: 7 calls × 6 states), named after
//! the rule that decides the cell, plus the other documented return values.

use super::*;
use crate::config::ServerChoice;
use crate::consts::vdf;
use crate::server::{SendRequest, ServerOptions};
use crate::sim::Pair;

const SET: &str = "{0D0F5BA0-B21A-4519-A961-A6E2292A17CA}";

/// A pair whose client is in `phase`, with its device handles and (in Active) a held command.
struct Fixture {
    pair: Pair,
    devices: Vec<DeviceHandle>,
    held: Option<CommandHandle>,
    /// A device handle from an earlier, closed incarnation of the set.
    stale: DeviceHandle,
    stale_cmd: CommandHandle,
}

fn configure_server(pair: &mut Pair, devices: u16) {
    let found = Some(*pair.client.requested());
    pair.server(|s, t| s.open(t, SET, found)).unwrap();
    let choice = ServerChoice {
        features: vdf::WRITE_MEDIA,
        block_size: 512,
        alignment: 0,
        max_transfer_size: 65536,
        timeout_ms: 0,
    };
    pair.server(|s, t| s.begin_configuration(t, choice))
        .unwrap();
    pair.server(|s, t| s.request_buffers(t, 65536, 0, 4))
        .unwrap();
    let names: Vec<String> = (0..devices)
        .map(|i| {
            if i == 0 {
                SET.into()
            } else {
                format!("{SET}{i}")
            }
        })
        .collect();
    pair.server(|s, t| s.end_configuration(t, &names)).unwrap();
    pair.deliver();
}

fn fixture(phase: ClientPhase, devices: u16) -> Fixture {
    let mut pair = Pair::new(ServerOptions::default(), 1);
    // An earlier incarnation, so that stale handles exist.
    let cfg = VdConfig::with_devices(u32::from(devices));
    pair.client(|c, t| c.create(t, SET, &cfg)).unwrap();
    configure_server(&mut pair, devices);
    assert!(pair.client(|c, t| c.get_configuration(t)).is_ready());
    let stale = pair.client(|c, t| c.open_device(t, SET)).unwrap();
    pair.server(|s, t| s.open_device(t)).unwrap();
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::Flush)))
        .unwrap();
    pair.deliver();
    let stale_cmd = match pair.client(|c, t| c.get_command(t, stale)) {
        Poll::Ready(Ok(cmd)) => cmd.handle,
        other => panic!("{other:?}"),
    };
    pair.client(|c, t| c.signal_abort(t)).unwrap();
    pair.client(|c, t| c.close(t)).unwrap();
    pair.deliver();
    pair.server(|s, t| s.close(t)).unwrap();
    pair.deliver();
    pair.server = crate::server::ServerSet::new(ServerOptions::default());

    let mut fx = Fixture {
        pair,
        devices: Vec::new(),
        held: None,
        stale,
        stale_cmd,
    };
    if phase == ClientPhase::Dne {
        return fx;
    }
    fx.pair.client(|c, t| c.create(t, SET, &cfg)).unwrap();
    if phase == ClientPhase::Configurable {
        return fx;
    }
    configure_server(&mut fx.pair, devices);
    assert!(fx.pair.client(|c, t| c.get_configuration(t)).is_ready());
    if phase == ClientPhase::Initializing {
        return fx;
    }
    fx.devices
        .push(fx.pair.client(|c, t| c.open_device(t, SET)).unwrap());
    fx.pair.server(|s, t| s.open_device(t)).unwrap();
    fx.pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::Flush)))
        .unwrap();
    fx.pair.deliver();
    let dev = fx.devices[0];
    match fx.pair.client(|c, t| c.get_command(t, dev)) {
        Poll::Ready(Ok(cmd)) => fx.held = Some(cmd.handle),
        other => panic!("{other:?}"),
    }
    match phase {
        ClientPhase::Active => {}
        ClientPhase::Abort => fx.pair.client(|c, t| c.signal_abort(t)).unwrap(),
        ClientPhase::NormallyTerminated => {
            let cmd = fx.held.unwrap();
            fx.pair
                .client(|c, t| c.complete_command(t, dev, cmd, 0, 0, 0))
                .unwrap();
            fx.pair.deliver();
            for d in 0..devices {
                fx.pair
                    .server(|s, t| s.close_device(t, DeviceIndex(d)))
                    .unwrap();
            }
            fx.pair.deliver();
            let got = fx.pair.client(|c, t| c.get_command(t, dev));
            assert!(matches!(got, Poll::Ready(Err(e)) if e.code == VdCode::Close));
        }
        _ => unreachable!(),
    }
    assert_eq!(fx.pair.client.phase(), phase);
    fx
}

fn last_call_rule(pair: &Pair) -> Rule {
    pair.transcript()
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::Call { rule, .. } => Some(*rule),
            _ => None,
        })
        .expect("a call was recorded")
}

/// Asserts the outcome of a call: the code, the rule (also in the transcript) and the new phase.
fn expect(fx: &Fixture, got: VdResult<()>, want: Option<Rule>, phase: ClientPhase) {
    match want {
        None => assert!(got.is_ok(), "expected NOERROR, got {got:?}"),
        Some(rule) => {
            let err = got.expect_err("expected an error");
            assert_eq!(err.rule, rule, "{err}");
            assert_eq!(Some(err.code), rule.info().code);
            assert_eq!(last_call_rule(&fx.pair), rule);
        }
    }
    assert_eq!(fx.pair.client.phase(), phase);
}

fn call_create(fx: &mut Fixture) -> VdResult<()> {
    fx.pair
        .client(|c, t| c.create(t, SET, &VdConfig::with_devices(1)))
}

fn call_get_configuration(fx: &mut Fixture) -> VdResult<()> {
    match fx.pair.client(|c, t| c.get_configuration(t)) {
        Poll::Ready(r) => r.map(|_| ()),
        Poll::Pending => Err(fx.pair.client(|c, t| c.get_configuration_timed_out(t))),
    }
}

fn call_open_device(fx: &mut Fixture) -> VdResult<()> {
    fx.pair.client(|c, t| c.open_device(t, SET)).map(|_| ())
}

fn device_or_stale(fx: &Fixture) -> DeviceHandle {
    fx.devices.first().copied().unwrap_or(fx.stale)
}

fn call_get_command(fx: &mut Fixture) -> VdResult<()> {
    let dev = device_or_stale(fx);
    match fx.pair.client(|c, t| c.get_command(t, dev)) {
        Poll::Ready(r) => r.map(|_| ()),
        Poll::Pending => Err(fx.pair.client(|c, t| c.get_command_timed_out(t, dev))),
    }
}

fn call_complete_command(fx: &mut Fixture) -> VdResult<()> {
    let dev = device_or_stale(fx);
    let cmd = fx.held.unwrap_or(fx.stale_cmd);
    fx.pair
        .client(|c, t| c.complete_command(t, dev, cmd, 0, 0, 0))
}

fn call_signal_abort(fx: &mut Fixture) -> VdResult<()> {
    fx.pair.client(|c, t| c.signal_abort(t))
}

fn call_close(fx: &mut Fixture) -> VdResult<()> {
    fx.pair.client(|c, t| c.close(t))
}

macro_rules! cell {
    ($name:ident: $call:ident in $state:ident => $rule:expr, $after:ident) => {
        #[test]
        fn $name() {
            let mut fx = fixture(ClientPhase::$state, 1);
            let got = $call(&mut fx);
            expect(&fx, got, $rule, ClientPhase::$after);
        }
    };
}

// Create
cell!(vdi_create_001_create_in_dne: call_create in Dne => None, Configurable);
cell!(vdi_create_002_create_in_configurable: call_create in Configurable => Some(Rule::CreateTwice), Configurable);
cell!(vdi_create_002_create_in_initializing: call_create in Initializing => Some(Rule::CreateTwice), Initializing);
cell!(vdi_create_002_create_in_active: call_create in Active => Some(Rule::CreateTwice), Active);
cell!(vdi_create_002_create_in_normally_terminated: call_create in NormallyTerminated => Some(Rule::CreateTwice), NormallyTerminated);
cell!(vdi_create_002_create_in_abort: call_create in Abort => Some(Rule::CreateTwice), Abort);
// GetConfiguration
cell!(vdi_config_003_get_configuration_in_dne: call_get_configuration in Dne => Some(Rule::ConfigNotCreated), Dne);
cell!(vdi_config_005_get_configuration_in_configurable_times_out: call_get_configuration in Configurable => Some(Rule::ConfigTimeout), Configurable);
cell!(vdi_config_002_get_configuration_in_initializing: call_get_configuration in Initializing => None, Initializing);
cell!(vdi_config_002_get_configuration_in_active: call_get_configuration in Active => None, Active);
cell!(vdi_config_002_get_configuration_in_normally_terminated: call_get_configuration in NormallyTerminated => None, NormallyTerminated);
cell!(vdi_config_004_get_configuration_in_abort: call_get_configuration in Abort => Some(Rule::ConfigAborted), Abort);
// OpenDevice
cell!(vdi_open_005_open_device_in_dne: call_open_device in Dne => Some(Rule::OpenWrongState), Dne);
cell!(vdi_open_005_open_device_in_configurable: call_open_device in Configurable => Some(Rule::OpenWrongState), Configurable);
cell!(vdi_open_001_open_device_in_initializing: call_open_device in Initializing => None, Active);
cell!(vdi_open_002_open_device_in_active_all_open: call_open_device in Active => Some(Rule::OpenAllOpen), Active);
cell!(vdi_open_005_open_device_in_normally_terminated: call_open_device in NormallyTerminated => Some(Rule::OpenWrongState), NormallyTerminated);
cell!(vdi_open_006_open_device_in_abort: call_open_device in Abort => Some(Rule::OpenAborted), Abort);
// GetCommand (no current device handle exists before Active: the handle is a stale one)
cell!(vdi_close_006_get_command_in_dne: call_get_command in Dne => Some(Rule::StaleDevice), Dne);
cell!(vdi_close_006_get_command_in_configurable: call_get_command in Configurable => Some(Rule::StaleDevice), Configurable);
cell!(vdi_close_006_get_command_in_initializing: call_get_command in Initializing => Some(Rule::StaleDevice), Initializing);
cell!(vdi_getcmd_003_get_command_in_active_times_out: call_get_command in Active => Some(Rule::GetCommandTimeout), Active);
cell!(vdi_getcmd_006_get_command_in_normally_terminated: call_get_command in NormallyTerminated => Some(Rule::GetCommandAfterClose), NormallyTerminated);
cell!(vdi_getcmd_004_get_command_in_abort: call_get_command in Abort => Some(Rule::GetCommandAborted), Abort);
// CompleteCommand
cell!(vdi_close_006_complete_command_in_dne: call_complete_command in Dne => Some(Rule::StaleDevice), Dne);
cell!(vdi_close_006_complete_command_in_configurable: call_complete_command in Configurable => Some(Rule::StaleDevice), Configurable);
cell!(vdi_close_006_complete_command_in_initializing: call_complete_command in Initializing => Some(Rule::StaleDevice), Initializing);
cell!(vdi_complete_001_complete_command_in_active: call_complete_command in Active => None, Active);
cell!(vdi_complete_007_complete_command_in_normally_terminated: call_complete_command in NormallyTerminated => Some(Rule::CompleteAfterClose), NormallyTerminated);
cell!(vdi_complete_006_complete_command_in_abort: call_complete_command in Abort => Some(Rule::CompleteAborted), Abort);
// SignalAbort
cell!(vdi_abort_003_signal_abort_in_dne: call_signal_abort in Dne => Some(Rule::AbortNotCreated), Dne);
cell!(vdi_abort_001_signal_abort_in_configurable: call_signal_abort in Configurable => None, Abort);
cell!(vdi_abort_001_signal_abort_in_initializing: call_signal_abort in Initializing => None, Abort);
cell!(vdi_abort_001_signal_abort_in_active: call_signal_abort in Active => None, Abort);
cell!(vdi_abort_001_signal_abort_in_normally_terminated: call_signal_abort in NormallyTerminated => None, Abort);
cell!(vdi_abort_002_signal_abort_in_abort: call_signal_abort in Abort => None, Abort);
// Close
cell!(vdi_close_002_close_in_dne: call_close in Dne => Some(Rule::CloseNotOpen), Dne);
cell!(vdi_close_001_close_in_configurable: call_close in Configurable => None, Dne);
cell!(vdi_close_001_close_in_initializing: call_close in Initializing => None, Dne);
cell!(vdi_close_003_close_in_active_with_device_open: call_close in Active => Some(Rule::CloseDevicesOpen), Dne);
cell!(vdi_close_001_close_in_normally_terminated: call_close in NormallyTerminated => None, Dne);
cell!(vdi_close_004_close_in_abort: call_close in Abort => None, Dne);

// ---- the other documented return values ----

#[test]
fn vdi_config_001_get_configuration_returns_the_servers_choice() {
    let mut fx = fixture(ClientPhase::Configurable, 2);
    assert!(fx.pair.client(|c, t| c.get_configuration(t)).is_pending());
    configure_server(&mut fx.pair, 2);
    let Poll::Ready(Ok(cfg)) = fx.pair.client(|c, t| c.get_configuration(t)) else {
        panic!()
    };
    assert_eq!(cfg.device_count, 2);
    assert_eq!(cfg.block_size, 512);
    assert_eq!(cfg.max_io_depth, 4);
    assert_ne!(cfg.features & vdf::WRITE_MEDIA, 0);
    assert_eq!(last_call_rule(&fx.pair), Rule::ConfigOk);
    assert_eq!(fx.pair.client.phase(), ClientPhase::Initializing);
}

#[test]
fn vdi_create_003_unsupported_configuration() {
    let mut c = ClientSet::new();
    let err = c
        .create(Tick(0), SET, &VdConfig::with_devices(65))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::NotSupported, Rule::CfgDeviceCount)
    );
    let cfg = VdConfig {
        device_count: 1,
        features: vdf::POSITION,
        ..VdConfig::default()
    };
    assert_eq!(
        c.create(Tick(0), SET, &cfg).unwrap_err().code,
        VdCode::NotSupported
    );
    let cfg = VdConfig {
        device_count: 1,
        features: vdf::WRITE_MEDIA,
        ..VdConfig::default()
    };
    assert_eq!(
        c.create(Tick(0), SET, &cfg).unwrap_err().rule,
        Rule::CfgServerBits
    );
    assert_eq!(c.phase(), ClientPhase::Dne);
}

#[test]
fn vdi_create_004_bad_names() {
    let mut c = ClientSet::new();
    let cfg = VdConfig::with_devices(1);
    for name in ["", "a\\b", &"x".repeat(MAX_SET_NAME_LEN + 1)] {
        assert_eq!(
            c.create(Tick(0), name, &cfg).unwrap_err().rule,
            Rule::CreateBadName,
            "{name:?}"
        );
    }
    // Everything but backslash is allowed, slashes and dots included.
    c.create(Tick(0), "../weird/{name}..", &cfg).unwrap();
}

#[test]
fn vdi_create_005_instance_with_machine_prefix() {
    let mut c = ClientSet::new();
    let cfg = VdConfig::with_devices(1);
    let err = c
        .create_ex(Tick(0), Some("HOST\\INST"), SET, &cfg)
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::InstanceName, Rule::CreateBadInstance)
    );
    c.create_ex(Tick(0), None, SET, &cfg).unwrap();
    c.close(Tick(1)).unwrap();
    c.create_ex(Tick(2), Some(""), SET, &cfg).unwrap();
}

#[test]
fn vdi_open_003_device_already_open_while_others_are_not() {
    let mut fx = fixture(ClientPhase::Initializing, 2);
    fx.pair.client(|c, t| c.open_device(t, SET)).unwrap();
    let err = fx.pair.client(|c, t| c.open_device(t, SET)).unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Protocol, Rule::OpenAlreadyOpen)
    );
    let second = format!("{SET}1");
    fx.pair.client(|c, t| c.open_device(t, &second)).unwrap();
    let err = fx
        .pair
        .client(|c, t| c.open_device(t, &second))
        .unwrap_err();
    assert_eq!(err.rule, Rule::OpenAllOpen);
}

#[test]
fn vdi_open_004_unknown_device_name() {
    let mut fx = fixture(ClientPhase::Initializing, 2);
    let err = fx.pair.client(|c, t| c.open_device(t, "nope")).unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Invalid, Rule::OpenUnknownName)
    );
}

#[test]
fn vdi_getcmd_001_and_002_commands_then_close_in_order() {
    let mut fx = fixture(ClientPhase::Active, 1);
    let dev = fx.devices[0];
    let held = fx.held.unwrap();
    fx.pair
        .client(|c, t| c.complete_command(t, dev, held, 0, 0, 0))
        .unwrap();
    fx.pair.deliver();
    fx.pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::Flush)))
        .unwrap();
    fx.pair
        .server(|s, t| s.close_device(t, DeviceIndex(0)))
        .unwrap();
    fx.pair.deliver();
    let Poll::Ready(Ok(cmd)) = fx.pair.client(|c, t| c.get_command(t, dev)) else {
        panic!()
    };
    assert_eq!(cmd.code, VdcCode::Flush);
    fx.pair
        .client(|c, t| c.complete_command(t, dev, cmd.handle, 0, 0, 0))
        .unwrap();
    let got = fx.pair.client(|c, t| c.get_command(t, dev));
    assert!(
        matches!(got, Poll::Ready(Err(e)) if e.rule == Rule::GetCommandClose),
        "{got:?}"
    );
    assert_eq!(fx.pair.client.phase(), ClientPhase::NormallyTerminated);
}

#[test]
fn vdi_getcmd_007_close_reached_with_commands_held() {
    let mut fx = fixture(ClientPhase::Active, 1);
    let dev = fx.devices[0];
    fx.pair
        .server(|s, t| s.close_device(t, DeviceIndex(0)))
        .unwrap();
    fx.pair.deliver();
    let got = fx.pair.client(|c, t| c.get_command(t, dev));
    assert!(matches!(got, Poll::Ready(Err(e)) if e.code == VdCode::Close));
    assert!(
        fx.pair
            .client
            .rule_hits()
            .contains(&Rule::GetCommandCloseWithHeld)
    );
    fx.pair.deliver();
    // The server got the held command back as aborted.
    let done = fx.pair.server.poll_completion().unwrap();
    assert_eq!(done.completion_code, win32::ERROR_OPERATION_ABORTED);
}

#[test]
fn vdi_complete_002_twice_and_forged() {
    let mut fx = fixture(ClientPhase::Active, 1);
    let dev = fx.devices[0];
    let held = fx.held.unwrap();
    fx.pair
        .client(|c, t| c.complete_command(t, dev, held, 0, 0, 0))
        .unwrap();
    let err = fx
        .pair
        .client(|c, t| c.complete_command(t, dev, held, 0, 0, 0))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Invalid, Rule::CompleteNotActive)
    );
    let forged = CommandHandle {
        id: CmdId {
            slot: 9,
            generation: 77,
        },
        ..held
    };
    let err = fx
        .pair
        .client(|c, t| c.complete_command(t, dev, forged, 0, 0, 0))
        .unwrap_err();
    assert_eq!(err.rule, Rule::CompleteNotActive);
    // A handle from the earlier incarnation of the set matches nothing either.
    let stale = fx.stale_cmd;
    let err = fx
        .pair
        .client(|c, t| c.complete_command(t, dev, stale, 0, 0, 0))
        .unwrap_err();
    assert_eq!(err.rule, Rule::CompleteNotActive);
}

#[test]
fn vdi_complete_003_command_of_another_device() {
    let mut fx = fixture(ClientPhase::Initializing, 2);
    let d0 = fx.pair.client(|c, t| c.open_device(t, SET)).unwrap();
    let d1 = fx
        .pair
        .client(|c, t| c.open_device(t, &format!("{SET}1")))
        .unwrap();
    fx.pair.server(|s, t| s.open_device(t)).unwrap();
    fx.pair.server(|s, t| s.open_device(t)).unwrap();
    fx.pair
        .server(|s, t| s.send_command(t, DeviceIndex(1), SendRequest::control(VdcCode::Flush)))
        .unwrap();
    fx.pair.deliver();
    let Poll::Ready(Ok(cmd)) = fx.pair.client(|c, t| c.get_command(t, d1)) else {
        panic!()
    };
    let err = fx
        .pair
        .client(|c, t| c.complete_command(t, d0, cmd.handle, 0, 0, 0))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Invalid, Rule::CompleteWrongDevice)
    );
    fx.pair
        .client(|c, t| c.complete_command(t, d1, cmd.handle, 0, 0, 0))
        .unwrap();
}

#[test]
fn vdi_complete_004_more_bytes_than_size() {
    let mut fx = fixture(ClientPhase::Active, 1);
    let dev = fx.devices[0];
    let held = fx.held.unwrap();
    fx.pair
        .client(|c, t| c.complete_command(t, dev, held, 0, 0, 0))
        .unwrap();
    fx.pair.deliver();
    let write = SendRequest {
        code: VdcCode::Write,
        size: 4096,
        position: 0,
        buffer_offset: 0,
        context: 0,
    };
    fx.pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), write))
        .unwrap();
    fx.pair.deliver();
    let Poll::Ready(Ok(cmd)) = fx.pair.client(|c, t| c.get_command(t, dev)) else {
        panic!()
    };
    let err = fx
        .pair
        .client(|c, t| c.complete_command(t, dev, cmd.handle, 0, 4097, 0))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Invalid, Rule::CompleteTooManyBytes)
    );
    fx.pair
        .client(|c, t| c.complete_command(t, dev, cmd.handle, 0, 4096, 0))
        .unwrap();
}

#[test]
fn vdi_close_003_close_with_devices_open_aborts_the_server() {
    let mut fx = fixture(ClientPhase::Active, 1);
    let err = fx.pair.client(|c, t| c.close(t)).unwrap_err();
    assert_eq!(err.code, VdCode::Open);
    assert!(
        fx.pair
            .client
            .rule_hits()
            .contains(&Rule::CloseWithHeldCommands)
    );
    fx.pair.deliver();
    assert_eq!(fx.pair.server.phase(), crate::server::ServerPhase::Abort);
    let done = fx.pair.server.poll_completion().unwrap();
    assert_eq!(done.completion_code, win32::ERROR_OPERATION_ABORTED);
    // The old device handle is now stale and Create works again on the same object.
    let dev = fx.devices[0];
    let got = fx.pair.client(|c, t| c.get_command(t, dev));
    assert!(matches!(got, Poll::Ready(Err(e)) if e.rule == Rule::StaleDevice));
    fx.pair
        .client(|c, t| c.create(t, SET, &VdConfig::with_devices(1)))
        .unwrap();
    let got = fx.pair.client(|c, t| c.get_command(t, dev));
    assert!(matches!(got, Poll::Ready(Err(e)) if e.rule == Rule::StaleDevice));
}

#[test]
fn vdi_close_002_close_twice_does_nothing_more() {
    let mut fx = fixture(ClientPhase::Configurable, 1);
    fx.pair.client(|c, t| c.close(t)).unwrap();
    let before = fx.pair.client.poll_transmit();
    assert_eq!(before, Some(ToServer::ClientClosed));
    let err = fx.pair.client(|c, t| c.close(t)).unwrap_err();
    assert_eq!(err.rule, Rule::CloseNotOpen);
    assert_eq!(
        fx.pair.client.poll_transmit(),
        None,
        "a second Close sends nothing"
    );
}

#[test]
fn vdi_close_007_close_before_the_server_finished() {
    let mut fx = fixture(ClientPhase::Initializing, 1);
    fx.pair.client(|c, t| c.close(t)).unwrap();
    assert!(
        fx.pair
            .client
            .rule_hits()
            .contains(&Rule::CloseBeforeServer)
    );
    fx.pair.deliver();
    assert_eq!(fx.pair.server.phase(), crate::server::ServerPhase::Abort);
}

#[test]
fn vdi_ioerr_001_and_002_queued_commands_are_swallowed_until_clear_error() {
    let mut fx = fixture(ClientPhase::Active, 1);
    let dev = fx.devices[0];
    let held = fx.held.unwrap();
    // Two more commands are queued behind the one the client holds.
    for _ in 0..2 {
        fx.pair
            .server(|s, t| s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::Flush)))
            .unwrap();
    }
    fx.pair.deliver();
    fx.pair
        .client(|c, t| c.complete_command(t, dev, held, win32::ERROR_DISK_FULL, 0, 0))
        .unwrap();
    fx.pair.deliver();
    assert!(fx.pair.server.in_io_error(DeviceIndex(0)));
    // The next GetCommand swallows both queued commands and finds nothing for the application.
    assert!(fx.pair.client(|c, t| c.get_command(t, dev)).is_pending());
    fx.pair.deliver();
    let codes: Vec<u32> = std::iter::from_fn(|| fx.pair.server.poll_completion())
        .map(|c| c.completion_code)
        .collect();
    assert_eq!(
        codes,
        [
            win32::ERROR_DISK_FULL,
            win32::ERROR_IO_DEVICE,
            win32::ERROR_IO_DEVICE
        ]
    );
    // Only ClearError gets through, and a success returns the device to Active.
    let err = fx
        .pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::Flush)))
        .unwrap_err();
    assert_eq!(err.rule, Rule::SrvSendIoError);
    fx.pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::ClearError)))
        .unwrap();
    fx.pair.deliver();
    let Poll::Ready(Ok(cmd)) = fx.pair.client(|c, t| c.get_command(t, dev)) else {
        panic!()
    };
    assert_eq!(cmd.code, VdcCode::ClearError);
    fx.pair
        .client(|c, t| c.complete_command(t, dev, cmd.handle, 0, 0, 0))
        .unwrap();
    fx.pair.deliver();
    assert!(!fx.pair.server.in_io_error(DeviceIndex(0)));
}

#[test]
fn vdi_secondary_001_to_003() {
    let mut c = ClientSet::new();
    let err = c
        .open_in_secondary(Tick(0), SET, SecondaryView::Missing)
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Protocol, Rule::SecondaryNotReady)
    );
    let err = c
        .open_in_secondary(Tick(0), SET, SecondaryView::NotReady)
        .unwrap_err();
    assert_eq!(err.rule, Rule::SecondaryNotReady);
    let err = c
        .open_in_secondary(Tick(0), SET, SecondaryView::Aborted)
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Abort, Rule::SecondaryAborted)
    );
    let view = SecondaryView::Ready {
        config: VdConfig::with_devices(2),
        devices: vec![SET.into(), format!("{SET}1")],
    };
    c.open_in_secondary(Tick(1), SET, view.clone()).unwrap();
    assert_eq!(c.phase(), ClientPhase::Initializing);
    assert!(c.is_secondary());
    let err = c.open_in_secondary(Tick(2), SET, view).unwrap_err();
    assert_eq!(
        err.rule,
        Rule::SecondaryNotReady,
        "already opened in this client"
    );
    c.open_device(Tick(3), &format!("{SET}1")).unwrap();
}

#[test]
fn vdi_buffer_rules() {
    let mut c = ClientSet::new();
    let err = c
        .check_buffer_call(Tick(0), Method::GetBufferHandle, true)
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Protocol, Rule::BufferHandleNotOpen)
    );
    c.create(Tick(0), SET, &VdConfig::with_devices(1)).unwrap();
    assert_eq!(
        c.check_buffer_call(Tick(1), Method::GetBufferHandle, false)
            .unwrap_err()
            .rule,
        Rule::BufferHandleBadAddress
    );
    assert_eq!(
        c.check_buffer_call(Tick(1), Method::MapBufferHandle, false)
            .unwrap_err()
            .rule,
        Rule::MapBufferBadHandle
    );
    c.check_buffer_call(Tick(1), Method::MapBufferHandle, true)
        .unwrap();
}

#[test]
fn no_command_is_delivered_after_a_server_abort() {
    let mut fx = fixture(ClientPhase::Active, 1);
    let dev = fx.devices[0];
    fx.pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::Flush)))
        .unwrap();
    fx.pair.server(|s, t| s.signal_abort(t)).unwrap();
    fx.pair.deliver();
    let got = fx.pair.client(|c, t| c.get_command(t, dev));
    assert!(matches!(got, Poll::Ready(Err(e)) if e.rule == Rule::GetCommandAborted));
    let codes: Vec<u32> = std::iter::from_fn(|| fx.pair.server.poll_completion())
        .map(|c| c.completion_code)
        .collect();
    assert_eq!(codes, [win32::ERROR_OPERATION_ABORTED; 2]);
}

#[test]
fn hresults_match_the_headers() {
    assert_eq!(VdCode::Timeout.hresult(), 0x8077_0003);
    assert_eq!(VdCode::Timeout.linux_code(), -2_139_684_861);
    assert_eq!(VdCode::Busy.hresult(), 0x8077_000F);
    assert_eq!(VdCode::from_hresult(0x8077_000E), Some(VdCode::Close));
    assert_eq!(
        VdCode::from_linux_code(VdCode::Abort.linux_code()),
        Some(VdCode::Abort)
    );
    assert_eq!(
        VdCode::from_hresult(0x8077_0001),
        None,
        "code 1 is not defined"
    );
    assert_eq!(
        VdCode::from_hresult(0x8077_0008),
        None,
        "code 8 is not defined"
    );
    assert_eq!(VdcCode::from_u32(19), Some(VdcCode::Complete));
    assert_eq!(VdcCode::from_u32(0), None);
    assert_eq!(VdcCode::from_u32(20), None);
}
