//! No heap allocation per command on the hot path (issue 10): once warmed up, SendCommand →
//! GetCommand → CompleteCommand → the completion seen by the server allocates nothing, on
//! either side. A counting global allocator counts every allocation of every thread of this
//! process (the server set, its agent, the client set), over real shared memory.

use std::sync::Arc;
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig, VdcCode, vdf, win32};
use vdi_proto::SendRequest;
use vdi_server::vdi::ServerVirtualDeviceSet;
use vdi_server::vdi::shm::open_one_device_set;
use vdi_shm::counting_alloc::CountingAlloc;
use vdi_shm::event::WaitConfig;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc::new();

fn round_trips(set: &ServerVirtualDeviceSet, dev: vdi_server::vdi::ServerVirtualDevice, n: u32) {
    for i in 0..n {
        // Alternate a control command and a data command (a Write of one buffer).
        let request = if i % 2 == 0 {
            SendRequest::control(VdcCode::Flush)
        } else {
            SendRequest {
                code: VdcCode::Write,
                size: 4096,
                position: 0,
                buffer_offset: 0,
                context: 0,
            }
        };
        set.send_command(dev, request).expect("SendCommand");
        let done = set
            .next_completion(std::time::Duration::MAX)
            .expect("completion");
        assert_eq!(done.completion_code, win32::ERROR_SUCCESS);
    }
}

#[test]
fn no_allocation_per_command_once_warmed_up() {
    let name = format!("alloc-hot-path-{}", std::process::id());
    let client = Arc::new(ClientVirtualDeviceSet::new());
    let config = VdConfig {
        device_count: 1,
        features: vdf::LIKE_PIPE,
        ..VdConfig::default()
    };
    client.create(&name, &config).expect("Create");
    let client_thread = {
        let (client, name) = (client.clone(), name.clone());
        std::thread::spawn(move || {
            let mut got = VdConfig::default();
            client
                .get_configuration(10_000, &mut got)
                .expect("GetConfiguration");
            let dev = client.open_device(&name).expect("OpenDevice");
            loop {
                match dev.get_command(10_000) {
                    Ok(cmd) => {
                        let n = cmd.with_data(|d| d.len()).unwrap_or(0) as u64;
                        dev.complete_command(&cmd, win32::ERROR_SUCCESS, n, 0)
                            .expect("CompleteCommand");
                    }
                    Err(e) if e.code == VdCode::Close => break,
                    Err(e) => panic!("GetCommand: {e:?}"),
                }
            }
            client.close().expect("Close");
        })
    };
    let (mut server, dev) = open_one_device_set(&name, WaitConfig::default()).expect("server set");
    let buffer = server.allocate_buffer(65536, 0).expect("AllocateBuffer");
    assert_eq!(buffer, 0, "the one buffer starts the area");

    round_trips(&server, dev, 2_000); // warm-up: every queue and map reaches its size
    // A wait that parks (nothing is outstanding), so that any lazily built waiting state is
    // built before counting.
    assert!(
        server
            .next_completion(std::time::Duration::from_millis(5))
            .is_none()
    );
    GLOBAL.start();
    round_trips(&server, dev, 2_000);
    let allocations = GLOBAL.stop();

    server.close_device(dev).expect("CloseDevice");
    client_thread.join().expect("client thread");
    server.close().expect("server Close");
    assert_eq!(
        allocations, 0,
        "heap allocations during 2000 warmed-up command round trips"
    );
}
