//! The CPU cost of one command round trip with nobody waiting: on one thread, over real shared
//! memory, the server sends a Flush, the client's GetCommand (timeout 0) takes it, its
//! CompleteCommand answers, and the server takes the completion. Beside it, the same messages
//! over the same kind of rings with nothing else (`raw_rings`: push, validated pop, push,
//! validated pop). The difference is what the state machines, locks and clock reads of both
//! sides cost per command; `vdisim bench`'s two-process round trip adds the cache-line
//! transfers and the wake-ups on top. Run it under `valgrind --tool=callgrind` with
//! `--profile-time` for instruction counts.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vdi_client::{ClientVirtualDeviceSet, VdConfig, VdcCode, vdf, win32};
use vdi_proto::{CmdId, DeviceIndex, SendRequest};
use vdi_server::vdi::shm::open_one_device_set;
use vdi_shm::event::WaitConfig;
use vdi_shm::region::{Access, ControlParams, ControlRegion};
use vdi_shm::ring::{CommandDesc, CommandLimits, CompletionDesc, Delivered, Popped};

fn vdisim(c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let name = format!("lockstep-{}", std::process::id());
    let client = ClientVirtualDeviceSet::new();
    let config = VdConfig {
        device_count: 1,
        features: vdf::LIKE_PIPE,
        ..VdConfig::default()
    };
    client.create(&name, &config).expect("Create");
    let (mut server, server_device) =
        open_one_device_set(&name, WaitConfig::default()).expect("server set");
    let mut got = VdConfig::default();
    client
        .get_configuration(10_000, &mut got)
        .expect("GetConfiguration");
    let device = client.open_device(&name).expect("OpenDevice");
    c.bench_function("vdisim", |b| {
        b.iter(|| {
            server
                .send_command(server_device, SendRequest::control(VdcCode::Flush))
                .expect("SendCommand");
            let cmd = device.get_command(0).expect("GetCommand");
            device
                .complete_command(&cmd, win32::ERROR_SUCCESS, 0, 0)
                .expect("CompleteCommand");
            let done = server.try_completion().expect("completion");
            black_box(done.completion_code)
        })
    });
    server.close_device(server_device).expect("CloseDevice");
    let _ = device.get_command(1000); // the close marker
    server.close().expect("server Close");
    client.close().expect("Close");
}

fn raw_rings(c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let name = format!("lockstep-raw-{}", std::process::id());
    let region = ControlRegion::create(&ControlParams {
        set_name: name.clone(),
        device_names: vec![name],
        ring_capacity: 16,
        requested: VdConfig::with_devices(1),
        access: Access::Owner,
    })
    .expect("control region");
    let dev = region.device(DeviceIndex(0)).expect("device 0");
    let limits = CommandLimits {
        buffer_area: 0,
        max_transfer: 65536,
    };
    let id = CmdId::from_u64(1 << 32).expect("an id");
    c.bench_function("raw_rings", |b| {
        b.iter(|| {
            let cmd = CommandDesc::new(id, VdcCode::Flush, 0, 0, 0);
            dev.commands().push(&cmd).expect("push");
            let Ok(Popped::Item(Delivered::Command(got))) = dev.commands().pop(&limits) else {
                panic!("no command");
            };
            let done = CompletionDesc::new(got.id, win32::ERROR_SUCCESS, 0, 0);
            dev.completions().push(&done).expect("push");
            let Ok(Popped::Item(c)) = dev.completions().pop() else {
                panic!("no completion");
            };
            black_box(c.completion_code)
        })
    });
}

fn round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("command_round_trip_one_thread");
    vdisim(&mut g);
    raw_rings(&mut g);
    g.finish();
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
