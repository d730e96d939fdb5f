//! Regions over real /dev/shm objects in one process: round trips and hostile headers.
#![cfg(not(loom))]

use rustix::fs::Mode;
use std::sync::atomic::{AtomicU32, Ordering};
use vdi_proto::VdCode;
use vdi_proto::{CmdId, DeviceIndex, VdConfig, VdcCode};
use vdi_shm::error::{RegionError, Side};
use vdi_shm::layout::CONTROL_MAGIC;
use vdi_shm::naming::{BufferNonce, RegionKind, region_name};
use vdi_shm::region::{
    Access, BufferInfo, BufferRegion, ControlParams, ControlRegion, find_creator_uids,
};
use vdi_shm::ring::{CommandDesc, CommandLimits, Delivered, Popped};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(label: &str) -> String {
    format!(
        "{{hostile-{}-{}-{label}}}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

fn nonce() -> BufferNonce {
    BufferNonce::random().unwrap()
}

fn params(set: &str, devices: u32) -> ControlParams {
    let mut cfg = VdConfig::with_devices(devices);
    cfg.max_io_depth = 4;
    ControlParams {
        set_name: set.to_string(),
        device_names: (0..devices)
            .map(|i| {
                if i == 0 {
                    set.to_string()
                } else {
                    format!("{set}{i}")
                }
            })
            .collect(),
        ring_capacity: 16,
        requested: cfg,
        access: Access::Owner,
    }
}

fn exists(name: &str) -> bool {
    std::path::Path::new(&format!("/dev/shm{name}")).exists()
}

#[test]
fn create_open_round_trip_and_unlink_on_drop() {
    let set = unique("rt");
    let client = ControlRegion::create(&params(&set, 2)).unwrap();
    let name = client.name().to_string();
    assert!(exists(&name));
    assert_eq!(
        ControlRegion::create(&params(&set, 2)).unwrap_err(),
        RegionError::Exists(name.clone())
    );
    let server = ControlRegion::open(uid(), &set, Access::Owner).unwrap();
    assert!(!server.is_creator());
    assert!(server.creator_alive());
    assert_eq!(server.set_name().as_deref(), Some(set.as_str()));
    assert_eq!(server.device_name(DeviceIndex(1)), Some(format!("{set}1")));
    assert_eq!(server.requested_config().device_count, 2);
    assert_eq!(server.creator_pid(), std::process::id());

    // Server configures and publishes a buffer region.
    let buffer = BufferRegion::create(uid(), &set, 1, nonce(), 1 << 20, Access::Owner).unwrap();
    let mut chosen = server.requested_config();
    chosen.max_transfer_size = 65536;
    server.set_negotiated_config(&chosen);
    server.publish_buffer(&buffer.info());
    server.publish_state(2);
    assert_eq!(client.set_state().load(Ordering::SeqCst), 2);
    assert_eq!(client.negotiated_config().max_transfer_size, 65536);
    let info = client.buffer_info().unwrap().unwrap();
    let mapped = BufferRegion::open(&info, Access::Owner).unwrap();
    assert!(mapped.creator_alive());

    // A command carrying data, through the real mapping.
    assert!(buffer.write(4096, b"hello"));
    let dev = server.device(DeviceIndex(1)).unwrap();
    let id = CmdId {
        slot: 0,
        generation: 1,
    };
    dev.commands()
        .push(&CommandDesc::new(id, VdcCode::Write, 5, 0, 4096))
        .unwrap();
    let limits = CommandLimits {
        buffer_area: mapped.data_size(),
        max_transfer: 65536,
    };
    match client
        .device(DeviceIndex(1))
        .unwrap()
        .commands()
        .pop(&limits)
        .unwrap()
    {
        Popped::Item(Delivered::Command(c)) => {
            let mut got = [0u8; 5];
            assert!(mapped.read(c.buffer_offset, &mut got));
            assert_eq!(&got, b"hello");
        }
        other => panic!("{other:?}"),
    }
    assert!(client.device(DeviceIndex(2)).is_none());

    // Abort closes every ring and is sticky.
    assert!(client.signal_abort());
    assert!(!server.signal_abort());
    assert!(server.is_aborted());
    assert!(
        server
            .device(DeviceIndex(0))
            .unwrap()
            .commands()
            .is_closed()
    );

    let buffer_name = buffer.info().name;
    drop(mapped);
    drop(buffer);
    assert!(!exists(&buffer_name));
    drop(server);
    assert!(exists(&name), "only the creator unlinks");
    drop(client);
    assert!(!exists(&name));
}

#[test]
fn bad_parameters_are_refused() {
    let set = unique("params");
    let mut p = params(&set, 1);
    p.ring_capacity = 3;
    assert!(matches!(
        ControlRegion::create(&p),
        Err(RegionError::InvalidParams(_))
    ));
    let mut p = params(&set, 1);
    p.ring_capacity = 2; // below maxIODepth 4
    assert!(matches!(
        ControlRegion::create(&p),
        Err(RegionError::InvalidParams(_))
    ));
    let mut p = params(&set, 1);
    p.set_name = "a\\b".into();
    let e = ControlRegion::create(&p).unwrap_err();
    assert_eq!(e.to_vd_error(Side::Client).code, VdCode::Invalid);
    assert!(!exists(
        &region_name(uid(), &set, RegionKind::Control).unwrap()
    ));
}

#[test]
fn hostile_control_headers_are_typed_errors() {
    let set = unique("hdr");
    let client = ControlRegion::create(&params(&set, 1)).unwrap();
    let h = client.raw_header();
    let open = || ControlRegion::open(uid(), &set, Access::Owner);

    h.magic.store(0, Ordering::SeqCst);
    assert!(matches!(open(), Err(RegionError::NotReady(_))));
    h.magic.store(0x1234, Ordering::SeqCst);
    assert!(matches!(
        open(),
        Err(RegionError::BadMagic { found: 0x1234, .. })
    ));
    h.magic.store(CONTROL_MAGIC, Ordering::SeqCst);

    h.layout_version.store(99, Ordering::SeqCst);
    assert!(matches!(
        open(),
        Err(RegionError::VersionMismatch { found: 99, .. })
    ));
    h.layout_version
        .store(vdi_shm::layout::LAYOUT_VERSION, Ordering::SeqCst);

    for (field, bad) in [
        (&h.device_count, 2u32),
        (&h.device_count, 0),
        (&h.device_count, u32::MAX),
        (&h.ring_capacity, 3),
        (&h.ring_capacity, 1 << 30),
        (&h.header_size, 8),
        (&h.command_desc_size, 8),
    ] {
        let good = field.load(Ordering::SeqCst);
        field.store(bad, Ordering::SeqCst);
        assert!(matches!(open(), Err(RegionError::Geometry { .. })), "{bad}");
        field.store(good, Ordering::SeqCst);
    }
    let good = h.device_stride.load(Ordering::SeqCst);
    h.device_stride.store(u64::MAX, Ordering::SeqCst);
    assert!(matches!(open(), Err(RegionError::Geometry { .. })));
    h.device_stride.store(good, Ordering::SeqCst);
    h.total_size.store(1 << 40, Ordering::SeqCst);
    assert!(matches!(open(), Err(RegionError::Geometry { .. })));
    let fixed = ControlRegion::open(uid(), &set, Access::Owner);
    assert!(fixed.is_err());

    // Corrupt names and buffer records after a successful open: typed errors, no panic.
    let h = client.raw_header();
    h.total_size
        .store(client.geometry().total_size, Ordering::SeqCst);
    let server = open().unwrap();
    h.set_name_len.store(10_000, Ordering::SeqCst);
    assert_eq!(server.set_name(), None);
    h.set_name_len.store(set.len() as u32, Ordering::SeqCst);
    server.publish_buffer(&BufferInfo {
        name: "/../../etc/shadow".into(),
        size: 1 << 20,
        generation: 1,
    });
    assert!(client.buffer_info().is_err());
    let e = BufferRegion::open(
        &BufferInfo {
            name: "/../../etc/shadow".into(),
            size: 1 << 20,
            generation: 1,
        },
        Access::Owner,
    );
    assert!(matches!(e, Err(RegionError::Geometry { .. })));
}

#[test]
fn hostile_buffer_headers_are_typed_errors() {
    let set = unique("buf");
    let buffer = BufferRegion::create(uid(), &set, 3, nonce(), 1 << 16, Access::Owner).unwrap();
    let info = buffer.info();
    let h = buffer.raw_header();
    h.data_size.store(1 << 30, Ordering::SeqCst);
    assert!(matches!(
        BufferRegion::open(&info, Access::Owner),
        Err(RegionError::Geometry { .. })
    ));
    h.data_size.store(1 << 16, Ordering::SeqCst);
    let mut wrong = info.clone();
    wrong.generation = 4;
    assert!(BufferRegion::open(&wrong, Access::Owner).is_err());
    h.magic.store(7, Ordering::SeqCst);
    assert!(matches!(
        BufferRegion::open(&info, Access::Owner),
        Err(RegionError::BadMagic { .. })
    ));
    assert!(BufferRegion::create(uid(), &set, 0, nonce(), 1, Access::Owner).is_err());
    // Out-of-bounds data access is refused, not UB.
    assert!(!buffer.write((1 << 16) - 2, b"abc"));
    assert!(buffer.data_ptr(u64::MAX, 2).is_none());
}

#[test]
fn world_accessible_regions_are_refused() {
    let set = unique("mode");
    let client = ControlRegion::create(&params(&set, 1)).unwrap();
    let fd = rustix::shm::open(client.name(), rustix::shm::OFlags::RDWR, Mode::empty()).unwrap();
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o666)).unwrap();
    let e = ControlRegion::open(uid(), &set, Access::Owner).unwrap_err();
    assert!(matches!(e, RegionError::Security { .. }), "{e}");
    assert_eq!(e.to_vd_error(Side::Server).code, VdCode::Security);
    assert!(matches!(
        ControlRegion::open(uid(), &unique("absent"), Access::Owner),
        Err(RegionError::NotFound(_))
    ));
}

#[test]
fn the_server_finds_the_client_uid_from_the_set_name() {
    let set = unique("find");
    assert_eq!(find_creator_uids(&set).unwrap(), Vec::<u32>::new());
    let ctl = ControlRegion::create(&params(&set, 1)).unwrap();
    assert_eq!(find_creator_uids(&set).unwrap(), vec![uid()]);
    // A prefix of the name is another set.
    assert_eq!(
        find_creator_uids(&set[..set.len() - 1]).unwrap(),
        Vec::<u32>::new()
    );
    assert!(find_creator_uids("a\\b").is_err());
    drop(ctl);
    assert_eq!(find_creator_uids(&set).unwrap(), Vec::<u32>::new());
}
