//! The client library and the server-side set over real shared memory: backup and restore
//! command streams, byte-compared, with the server on another thread.

use std::sync::Arc;
use std::time::Duration;
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig, VdcCode, vdf, win32};
use vdi_proto::{SendRequest, ServerOptions};
use vdi_server::vdi::ServerVirtualDeviceSet;
use vdi_server::vdi::shm::ShmServerConnector;

const MTS: u32 = 64 * 1024;

fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{{e2e-{tag}-{}-{n}}}", std::process::id())
}

fn pattern(offset: u64) -> u8 {
    (offset.wrapping_mul(0x9E37_79B9) >> 13) as u8
}

/// Server side of a one-device backup of `bytes`; returns the completion codes it saw.
fn serve_backup(name: String, bytes: u64, flushes: u32) -> Vec<u32> {
    let mut set = ServerVirtualDeviceSet::new(
        Arc::new(ShmServerConnector::from_env()),
        ServerOptions::default(),
    );
    set.open(None, &name).expect("open");
    let requested = set.get_configuration().unwrap();
    set.begin_configuration(vdf::WRITE_MEDIA, 512, 0, MTS, 10_000)
        .unwrap();
    set.request_buffers(MTS, 0, 4).unwrap();
    let config = set.end_configuration(std::slice::from_ref(&name)).unwrap();
    assert_eq!(
        config.features & vdf::COMPLETE_ENABLED != 0,
        requested.features & vdf::REQUEST_COMPLETE != 0
    );
    let (dev, _) = set.open_device().unwrap();
    let buffers = set.buffers().unwrap();
    let mut free: Vec<u64> = (0..4)
        .map(|_| set.allocate_buffer(MTS, 0).unwrap())
        .collect();
    let mut codes = Vec::new();
    let mut offset = 0u64;
    let chunks = bytes.div_ceil(u64::from(MTS));
    let flush_every = (chunks / (u64::from(flushes) + 1)).max(1);
    let mut sent = 0u64;
    let mut flushes_sent = 0;
    while offset < bytes || set.outstanding(dev.index) > 0 {
        while offset < bytes && !free.is_empty() {
            let buf = free.pop().unwrap();
            let len = (bytes - offset).min(u64::from(MTS)) as usize;
            let data: Vec<u8> = (0..len as u64).map(|i| pattern(offset + i)).collect();
            assert!(buffers.write(buf, &data));
            set.send_command(
                dev,
                SendRequest {
                    code: VdcCode::Write,
                    size: len as u32,
                    position: 0,
                    buffer_offset: buf,
                    context: buf,
                },
            )
            .unwrap();
            offset += len as u64;
            sent += 1;
            if sent.is_multiple_of(flush_every) && offset < bytes && flushes_sent < flushes {
                flushes_sent += 1;
                set.send_command(dev, SendRequest::control(VdcCode::Flush))
                    .unwrap();
            }
        }
        let done = set
            .completions()
            .recv_timeout(Duration::from_secs(10))
            .expect("a completion");
        codes.push(done.completion_code);
        if done.request.code == VdcCode::Write {
            free.push(done.request.context);
        }
    }
    let last = if config.features & vdf::COMPLETE_ENABLED != 0 {
        VdcCode::Complete
    } else {
        VdcCode::Flush
    };
    set.send_command(dev, SendRequest::control(last)).unwrap();
    let done = set
        .completions()
        .recv_timeout(Duration::from_secs(10))
        .unwrap();
    codes.push(done.completion_code);
    set.close_device(dev).unwrap();
    set.close().unwrap();
    codes
}

#[test]
fn one_device_backup_over_shared_memory() {
    let name = unique("backup");
    let bytes = 4 * 1024 * 1024 + 4096;
    let client = ClientVirtualDeviceSet::new();
    let cfg = VdConfig {
        device_count: 1,
        features: vdf::REQUEST_COMPLETE,
        ..VdConfig::default()
    };
    client.create(&name, &cfg).unwrap();
    let server = {
        let name = name.clone();
        std::thread::spawn(move || serve_backup(name, bytes, 3))
    };
    let mut got = VdConfig::default();
    client.get_configuration(10_000, &mut got).unwrap();
    assert_eq!(got.max_transfer_size, MTS);
    let dev = client.open_device(&name).unwrap();
    let mut stored = Vec::new();
    let (mut flushes, mut completes) = (0, 0);
    loop {
        match dev.get_command(10_000) {
            Ok(cmd) => {
                match cmd.code() {
                    VdcCode::Write => {
                        let mut buf = vec![0; cmd.size() as usize];
                        assert!(cmd.read_data(&mut buf));
                        stored.extend_from_slice(&buf);
                    }
                    VdcCode::Flush => flushes += 1,
                    VdcCode::Complete => completes += 1,
                    other => panic!("unexpected {other}"),
                }
                let bytes = if cmd.code() == VdcCode::Write {
                    u64::from(cmd.size())
                } else {
                    0
                };
                dev.complete_command(&cmd, win32::ERROR_SUCCESS, bytes, 0)
                    .unwrap();
            }
            Err(e) => {
                assert_eq!(e.code, VdCode::Close, "{e}");
                break;
            }
        }
    }
    client.close().unwrap();
    let codes = server.join().unwrap();
    assert!(
        codes.iter().all(|c| *c == win32::ERROR_SUCCESS),
        "{codes:?}"
    );
    assert_eq!(stored.len() as u64, bytes);
    assert!(
        stored
            .iter()
            .enumerate()
            .all(|(i, b)| *b == pattern(i as u64)),
        "data differs"
    );
    assert_eq!((flushes, completes), (3, 1));
    assert!(client.rule_hits().is_empty(), "{:?}", client.rule_hits());
}
