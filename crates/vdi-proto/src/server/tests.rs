//! Every documented return value of the server methods, named after its rule.

use super::*;
use crate::client::ClientSet;
use crate::consts::{VdCode, vdf};
use crate::sim::Pair;
use std::task::Poll;

const SET: &str = "set";

fn choice(features: u32) -> ServerChoice {
    ServerChoice {
        features,
        block_size: 512,
        alignment: 0,
        max_transfer_size: 65536,
        timeout_ms: 0,
    }
}

fn names(n: u16) -> Vec<String> {
    (0..n)
        .map(|i| {
            if i == 0 {
                SET.to_string()
            } else {
                format!("{SET}{i}")
            }
        })
        .collect()
}

/// A connected pair with `n` devices opened on both sides and `timeout_ms` as serverTimeOut.
fn active(n: u16, timeout_ms: u32) -> Pair {
    let mut pair = Pair::new(ServerOptions::default(), 1);
    let cfg = VdConfig {
        device_count: u32::from(n),
        server_time_out: timeout_ms,
        ..VdConfig::default()
    };
    pair.client(|c, t| c.create(t, SET, &cfg)).unwrap();
    pair.server(|s, t| s.open(t, SET, Some(cfg))).unwrap();
    pair.server(|s, t| s.begin_configuration(t, choice(vdf::WRITE_MEDIA)))
        .unwrap();
    pair.server(|s, t| s.request_buffers(t, 65536, 0, 4 * u32::from(n)))
        .unwrap();
    pair.server(|s, t| s.end_configuration(t, &names(n)))
        .unwrap();
    pair.deliver();
    assert!(pair.client(|c, t| c.get_configuration(t)).is_ready());
    for name in names(n) {
        pair.client(|c, t| c.open_device(t, &name)).unwrap();
        pair.server(|s, t| s.open_device(t)).unwrap();
    }
    pair.deliver();
    pair
}

fn flush() -> SendRequest {
    SendRequest::control(VdcCode::Flush)
}

#[test]
fn vdi_srv_open_001_to_003() {
    let mut s = ServerSet::new(ServerOptions::default());
    let err = s.open(Tick(0), SET, None).unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Invalid, Rule::SrvOpenNoSet));
    s.open(Tick(1), SET, Some(VdConfig::with_devices(1)))
        .unwrap();
    assert_eq!(s.phase(), ServerPhase::Connected);
    assert_eq!(s.poll_transmit(), Some(ToClient::Connected));
    let err = s
        .open(Tick(2), SET, Some(VdConfig::with_devices(1)))
        .unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Protocol, Rule::SrvOpenTwice));
}

#[test]
fn vdi_srv_config_001_to_008() {
    let mut s = ServerSet::new(ServerOptions {
        max_buffer_area: 1 << 20,
        ..ServerOptions::default()
    });
    let requested = VdConfig {
        device_count: 2,
        features: vdf::REQUEST_COMPLETE,
        prefix_zone_size: 512,
        ..VdConfig::default()
    };
    assert_eq!(
        s.end_configuration(Tick(0), &names(2)).unwrap_err().rule,
        Rule::SrvEndConfigState
    );
    assert_eq!(
        s.request_buffers(Tick(0), 65536, 0, 1).unwrap_err().rule,
        Rule::SrvRequestBuffersState
    );
    s.open(Tick(0), SET, Some(requested)).unwrap();
    assert_eq!(s.get_configuration(Tick(1)).unwrap(), requested);
    let err = s
        .begin_configuration(
            Tick(1),
            ServerChoice {
                block_size: 100,
                ..choice(vdf::WRITE_MEDIA)
            },
        )
        .unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Invalid, Rule::CfgBlockSize));
    s.begin_configuration(Tick(2), choice(vdf::WRITE_MEDIA))
        .unwrap();
    assert_eq!(s.phase(), ServerPhase::Configurable);
    let err = s
        .begin_configuration(Tick(2), choice(vdf::WRITE_MEDIA))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Protocol, Rule::SrvBeginConfigState)
    );
    // 32 MiB of buffers is more than the 1 MiB this server may allocate.
    s.request_buffers(Tick(3), 1 << 20, 0, 32).unwrap();
    let err = s.end_configuration(Tick(4), &names(2)).unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Memory, Rule::SrvEndConfigMemory)
    );
    assert_eq!(
        s.phase(),
        ServerPhase::Configurable,
        "stays Configurable after VD_E_MEMORY"
    );
    let mut s = ServerSet::new(ServerOptions::default());
    s.open(Tick(0), SET, Some(requested)).unwrap();
    s.begin_configuration(Tick(1), choice(vdf::WRITE_MEDIA))
        .unwrap();
    s.request_buffers(Tick(2), 65536, 0, 8).unwrap();
    // Each buffer needs its 512-byte prefix zone, rounded up to the 512-byte alignment.
    assert_eq!(s.buffer_area_bytes(), 8 * (65536 + 512) + 512);
    let cfg = s.end_configuration(Tick(3), &names(2)).unwrap();
    assert_eq!(s.phase(), ServerPhase::Initializing);
    assert_eq!(
        cfg.features,
        vdf::REQUEST_COMPLETE | vdf::WRITE_MEDIA | vdf::COMPLETE_ENABLED
    );
    assert_eq!(cfg.buffer_area_size as u64, s.buffer_area_bytes());
    assert_eq!(
        s.end_configuration(Tick(4), &names(2)).unwrap_err().rule,
        Rule::SrvEndConfigState
    );
}

#[test]
fn vdi_srv_opendev_001_to_003() {
    let mut s = ServerSet::new(ServerOptions::default());
    s.open(Tick(0), SET, Some(VdConfig::with_devices(2)))
        .unwrap();
    assert_eq!(
        s.open_device(Tick(0)).unwrap_err().rule,
        Rule::SrvOpenDeviceState
    );
    s.begin_configuration(Tick(1), choice(vdf::READ_MEDIA))
        .unwrap();
    s.request_buffers(Tick(1), 65536, 0, 2).unwrap();
    s.end_configuration(Tick(2), &names(2)).unwrap();
    assert_eq!(
        s.open_device(Tick(3)).unwrap(),
        (DeviceIndex(0), SET.to_string())
    );
    assert_eq!(s.phase(), ServerPhase::Active);
    assert_eq!(s.open_device(Tick(3)).unwrap().0, DeviceIndex(1));
    let err = s.open_device(Tick(4)).unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Open, Rule::SrvOpenDeviceAll));
}

#[test]
fn vdi_srv_send_001_and_002_queue_depth() {
    let mut pair = active(1, 0);
    for _ in 0..4 {
        pair.server(|s, t| s.send_command(t, DeviceIndex(0), flush()))
            .unwrap();
    }
    let err = pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), flush()))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::QueueFull, Rule::SrvSendQueueFull)
    );
    let done = pair.server.poll_completion().unwrap();
    assert_eq!(
        (done.id, done.completion_code),
        (None, win32::ERROR_NO_SYSTEM_RESOURCES)
    );
}

#[test]
fn vdi_srv_send_004_to_006() {
    let mut pair = active(1, 0);
    let err = pair
        .server(|s, t| s.send_command(t, DeviceIndex(5), flush()))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Protocol, Rule::SrvSendProtocol)
    );
    assert_eq!(
        pair.server.poll_completion().unwrap().completion_code,
        win32::ERROR_INVALID_HANDLE
    );
    let too_big = SendRequest {
        code: VdcCode::Write,
        size: 1 << 20,
        position: 0,
        buffer_offset: 0,
        context: 0,
    };
    let err = pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), too_big))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Invalid, Rule::SrvSendBadCommand)
    );
    let _ = pair.server.poll_completion();
    pair.server(|s, t| s.signal_abort(t)).unwrap();
    let err = pair
        .server(|s, t| s.send_command(t, DeviceIndex(0), flush()))
        .unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Abort, Rule::SrvSendAborted));
    assert_eq!(
        pair.server.poll_completion().unwrap().completion_code,
        win32::ERROR_OPERATION_ABORTED
    );
}

#[test]
fn vdi_srv_ioerr_002_clear_error_waits_for_outstanding_commands() {
    let mut pair = active(1, 0);
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), flush()))
        .unwrap();
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), flush()))
        .unwrap();
    pair.deliver();
    // The client takes both, fails the first and keeps the second.
    let client_dev = first_device(&mut pair.client);
    let Poll::Ready(Ok(a)) = pair.client(|c, t| c.get_command(t, client_dev)) else {
        panic!()
    };
    let Poll::Ready(Ok(b)) = pair.client(|c, t| c.get_command(t, client_dev)) else {
        panic!()
    };
    pair.client(|c, t| c.complete_command(t, client_dev, a.handle, win32::ERROR_IO_DEVICE, 0, 0))
        .unwrap();
    pair.deliver();
    pair.server(|s, t| {
        s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::ClearError))
    })
    .unwrap();
    pair.deliver();
    assert!(
        pair.client(|c, t| c.get_command(t, client_dev))
            .is_pending(),
        "ClearError is held"
    );
    pair.client(|c, t| c.complete_command(t, client_dev, b.handle, 0, 0, 0))
        .unwrap();
    pair.deliver();
    let Poll::Ready(Ok(clear)) = pair.client(|c, t| c.get_command(t, client_dev)) else {
        panic!()
    };
    assert_eq!(clear.code, VdcCode::ClearError);
    assert!(pair.transcript().iter().any(|e| matches!(
        e.kind,
        EventKind::Rule {
            rule: Rule::SrvIoErrorClearHeld,
            ..
        }
    )));
}

fn first_device(client: &mut ClientSet) -> crate::client::DeviceHandle {
    client.device_handle_for_tests(0)
}

#[test]
fn vdi_srv_closedev_001_to_003() {
    let mut pair = active(2, 0);
    pair.server(|s, t| s.close_device(t, DeviceIndex(0)))
        .unwrap();
    let err = pair
        .server(|s, t| s.close_device(t, DeviceIndex(0)))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Close, Rule::SrvCloseDeviceTwice)
    );
    assert_eq!(pair.server.phase(), ServerPhase::Active);
    pair.server(|s, t| s.close_device(t, DeviceIndex(1)))
        .unwrap();
    assert_eq!(pair.server.phase(), ServerPhase::NormallyTerminated);
    let mut pair = active(1, 0);
    pair.server(|s, t| s.signal_abort(t)).unwrap();
    let err = pair
        .server(|s, t| s.close_device(t, DeviceIndex(0)))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Abort, Rule::SrvCloseDeviceAborted)
    );
}

#[test]
fn vdi_srv_abort_001_completes_outstanding_and_ignores_late_completions() {
    let mut pair = active(1, 0);
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), flush()))
        .unwrap();
    pair.deliver();
    let dev = first_device(&mut pair.client);
    let Poll::Ready(Ok(cmd)) = pair.client(|c, t| c.get_command(t, dev)) else {
        panic!()
    };
    pair.server(|s, t| s.signal_abort(t)).unwrap();
    assert_eq!(
        pair.server.poll_completion().unwrap().completion_code,
        win32::ERROR_OPERATION_ABORTED
    );
    // A completion the client had already recorded is ignored.
    pair.server.handle_message(
        pair.now(),
        ToServer::Completion {
            device: DeviceIndex(0),
            completion: WireCompletion {
                id: cmd.handle.id(),
                code: 0,
                bytes: 0,
                position: 0,
            },
        },
    );
    assert_eq!(pair.server.poll_completion(), None);
}

#[test]
fn vdi_srv_close_001_and_002() {
    let mut pair = active(1, 0);
    let err = pair.server(|s, t| s.close(t)).unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::Protocol, Rule::SrvCloseDevicesOpen)
    );
    assert_eq!(pair.server.phase(), ServerPhase::Dne);
    pair.deliver();
    assert_eq!(pair.client.phase(), crate::client::ClientPhase::Abort);
    let mut pair = active(1, 0);
    pair.server(|s, t| s.close_device(t, DeviceIndex(0)))
        .unwrap();
    pair.server(|s, t| s.close(t)).unwrap();
    pair.deliver();
    assert_ne!(pair.client.phase(), crate::client::ClientPhase::Abort);
}

#[test]
fn vdi_srv_timeout_001_two_intervals_without_progress() {
    let mut pair = active(1, 1000);
    assert_eq!(
        pair.server.poll_timeout(),
        None,
        "nothing pending, nothing to watch"
    );
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), flush()))
        .unwrap();
    let deadline = pair.server.poll_timeout().unwrap();
    assert_eq!(deadline.micros_since(pair.now()), 2_000_000);
    pair.advance(1_999_000);
    assert_eq!(pair.server.phase(), ServerPhase::Active);
    pair.advance(1_000);
    assert_eq!(pair.server.phase(), ServerPhase::Abort);
    assert!(pair.server.rule_hits().contains(&Rule::SrvTimeout));
    pair.deliver();
    assert_eq!(pair.client.phase(), crate::client::ClientPhase::Abort);
}

#[test]
fn vdi_srv_peer_002_forged_completion_aborts() {
    let mut pair = active(1, 0);
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), flush()))
        .unwrap();
    let forged = WireCompletion {
        id: CmdId {
            slot: 0,
            generation: 999,
        },
        code: 0,
        bytes: 0,
        position: 0,
    };
    pair.server.handle_message(
        pair.now(),
        ToServer::Completion {
            device: DeviceIndex(0),
            completion: forged,
        },
    );
    assert_eq!(pair.server.phase(), ServerPhase::Abort);
    assert!(pair.server.rule_hits().contains(&Rule::SrvBadCompletion));
}

#[test]
fn vdi_srv_peer_001_client_gone() {
    let mut pair = active(1, 0);
    pair.server.handle_peer_failure(pair.now(), false);
    assert_eq!(pair.server.phase(), ServerPhase::Abort);
    assert!(pair.server.rule_hits().contains(&Rule::SrvClientGone));
}
