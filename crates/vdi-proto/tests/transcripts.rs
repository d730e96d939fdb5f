//! Snapshots of whole transcripts: the exact sequence of calls, commands, completions and state
//! changes for the scenarios a vendor most often gets wrong.

use std::task::Poll;
use vdi_proto::config::ServerChoice;
use vdi_proto::sim::{BackupSpec, Pair, run_backup, run_restore};
use vdi_proto::{
    DeviceHandle, DeviceIndex, SendRequest, ServerOptions, VdConfig, VdcCode, vdf, win32,
};

const SET: &str = "{A1}";

fn small(devices: u16) -> BackupSpec {
    BackupSpec {
        devices,
        bytes: 3 * 65536 + 4096,
        ..BackupSpec::default()
    }
}

fn snapshot(name: &str, pair: &Pair) {
    insta::assert_snapshot!(name, pair.transcript_lines().join("\n"));
}

/// A pair with one device open on both sides, in the given direction.
fn active_pair(features: u32) -> (Pair, DeviceHandle) {
    let mut pair = Pair::new(ServerOptions::default(), 10);
    let cfg = VdConfig::with_devices(1);
    pair.client(|c, t| c.create(t, SET, &cfg)).unwrap();
    pair.server(|s, t| s.open(t, SET, Some(cfg))).unwrap();
    let choice = ServerChoice {
        features,
        block_size: 512,
        alignment: 0,
        max_transfer_size: 65536,
        timeout_ms: 0,
    };
    pair.server(|s, t| s.begin_configuration(t, choice))
        .unwrap();
    pair.server(|s, t| s.request_buffers(t, 65536, 0, 4))
        .unwrap();
    pair.server(|s, t| s.end_configuration(t, &[SET.to_string()]))
        .unwrap();
    pair.deliver();
    assert!(pair.client(|c, t| c.get_configuration(t)).is_ready());
    let dev = pair.client(|c, t| c.open_device(t, SET)).unwrap();
    pair.server(|s, t| s.open_device(t)).unwrap();
    pair.deliver();
    (pair, dev)
}

fn write(offset: u64) -> SendRequest {
    SendRequest {
        code: VdcCode::Write,
        size: 65536,
        position: 0,
        buffer_offset: offset,
        context: 0,
    }
}

fn take(pair: &mut Pair, dev: DeviceHandle) -> vdi_proto::DeliveredCommand {
    match pair.client(|c, t| c.get_command(t, dev)) {
        Poll::Ready(Ok(cmd)) => cmd,
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_device_backup() {
    let out = run_backup(small(1));
    assert_eq!(out.stripes[0].len() as u64, small(1).bytes);
    snapshot("one_device_backup", &out.pair);
}

#[test]
fn restore_ending_in_handle_eof() {
    let spec = BackupSpec {
        bytes: 2 * 65536 + 512,
        ..small(1)
    };
    let backup = run_backup(spec);
    let out = run_restore(spec, &backup.stripes);
    assert_eq!(out.first_mismatch, None);
    let lines = out.pair.transcript_lines();
    assert!(
        lines.iter().any(|l| l.contains("ERROR_HANDLE_EOF")),
        "the stream ends with EOF"
    );
    snapshot("restore_ending_in_handle_eof", &out.pair);
}

#[test]
fn three_device_striped_backup() {
    let out = run_backup(small(3));
    assert_eq!(out.completes, 3);
    snapshot("three_device_striped_backup", &out.pair);
}

#[test]
fn three_mid_stream_flushes_then_complete() {
    let spec = BackupSpec {
        mid_stream_flushes: 3,
        bytes: 4 * 65536,
        ..small(1)
    };
    let out = run_backup(spec);
    // The 3 mid-stream Flushes, the final one, then VDC_Complete (decision 43).
    assert_eq!((out.flushes, out.completes), (4, 1));
    snapshot("three_mid_stream_flushes_then_complete", &out.pair);
}

#[test]
fn client_abort_mid_stream() {
    let (mut pair, dev) = active_pair(vdf::WRITE_MEDIA);
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), write(512)))
        .unwrap();
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), write(66048)))
        .unwrap();
    pair.deliver();
    let cmd = take(&mut pair, dev);
    pair.client(|c, t| c.complete_command(t, dev, cmd.handle, win32::ERROR_SUCCESS, 65536, 0))
        .unwrap();
    let _second = take(&mut pair, dev);
    pair.client(|c, t| c.signal_abort(t)).unwrap();
    pair.deliver();
    let _ = pair.client(|c, t| c.get_command(t, dev));
    pair.client(|c, t| c.close(t)).unwrap();
    pair.deliver();
    drain_completions(&mut pair);
    snapshot("client_abort_mid_stream", &pair);
}

#[test]
fn server_abort_mid_stream() {
    let (mut pair, dev) = active_pair(vdf::WRITE_MEDIA);
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), write(512)))
        .unwrap();
    pair.deliver();
    let cmd = take(&mut pair, dev);
    pair.server(|s, t| s.signal_abort(t)).unwrap();
    pair.deliver();
    let late = pair.client(|c, t| c.complete_command(t, dev, cmd.handle, 0, 65536, 0));
    assert_eq!(late.unwrap_err().code, vdi_proto::VdCode::Abort);
    pair.client(|c, t| c.close(t)).unwrap();
    pair.deliver();
    drain_completions(&mut pair);
    snapshot("server_abort_mid_stream", &pair);
}

#[test]
fn close_with_devices_open() {
    let (mut pair, dev) = active_pair(vdf::WRITE_MEDIA);
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), write(512)))
        .unwrap();
    pair.deliver();
    let _held = take(&mut pair, dev);
    let err = pair.client(|c, t| c.close(t)).unwrap_err();
    assert_eq!(err.code, vdi_proto::VdCode::Open);
    pair.deliver();
    drain_completions(&mut pair);
    let stale = pair.client(|c, t| c.get_command(t, dev));
    assert!(matches!(stale, Poll::Ready(Err(e)) if e.code == vdi_proto::VdCode::Protocol));
    snapshot("close_with_devices_open", &pair);
}

#[test]
fn io_error_then_clear_error() {
    let (mut pair, dev) = active_pair(vdf::WRITE_MEDIA);
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), write(512)))
        .unwrap();
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), write(66048)))
        .unwrap();
    pair.deliver();
    let cmd = take(&mut pair, dev);
    pair.client(|c, t| c.complete_command(t, dev, cmd.handle, win32::ERROR_END_OF_MEDIA, 1024, 0))
        .unwrap();
    pair.deliver();
    assert!(pair.client(|c, t| c.get_command(t, dev)).is_pending());
    pair.deliver();
    drain_completions(&mut pair);
    pair.server(|s, t| {
        s.send_command(t, DeviceIndex(0), SendRequest::control(VdcCode::ClearError))
    })
    .unwrap();
    pair.deliver();
    let clear = take(&mut pair, dev);
    pair.client(|c, t| c.complete_command(t, dev, clear.handle, win32::ERROR_SUCCESS, 0, 0))
        .unwrap();
    pair.deliver();
    pair.server(|s, t| s.send_command(t, DeviceIndex(0), write(512)))
        .unwrap();
    pair.deliver();
    let again = take(&mut pair, dev);
    assert_eq!(again.code, VdcCode::Write);
    drain_completions(&mut pair);
    snapshot("io_error_then_clear_error", &pair);
}

fn drain_completions(pair: &mut Pair) {
    while pair.server.poll_completion().is_some() {}
}
