//! Squatting a set's shared memory (issue 21, decision 54). Buffer regions have unguessable
//! names; these tests make the name known (the server's test hook, a hostile server) to check
//! what happens when an object someone else made sits there:
//!
//! - a BACKUP whose buffer region name is taken by another uid's object fails with Msg 3201
//!   (VD_E_SECURITY, 0x80770005) and 59020, the client exits 1, and the squatter's object is
//!   neither read nor written;
//! - a client whose server names a buffer region it did not make aborts (VDI-PEER-003) without
//!   reading it.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig};
use vdi_server::daemon::{Daemon, DaemonConfig};
use vdi_server::db::Catalog;
use vdi_server::engine::{Engine, EngineConfig};
use vdi_server::jobs::{JobOptions, VdiJobRunner};
use vdi_server::vdi::shm::ShmServerConnector;
use vdi_shm::naming::{BufferNonce, RegionKind, region_name};

const BIN: &str = env!("CARGO_BIN_EXE_vdisim");
const SQUAT: &[u8] = b"the squatter's own bytes, which nobody may overwrite";

fn uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Creates /dev/shm<name> holding [`SQUAT`], owned by `owner` (another uid when we are root).
fn squat(name: &str, owner: u32) -> String {
    let path = format!("/dev/shm{name}");
    std::fs::write(&path, SQUAT).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    if owner != uid() {
        std::os::unix::fs::chown(&path, Some(owner), Some(owner)).unwrap();
    }
    path
}

#[test]
fn a_squatted_buffer_name_fails_the_backup_with_the_documented_code_and_exposes_nothing() {
    let owner = if uid() == 0 { 65534 } else { uid() };
    if owner == uid() {
        println!("not root: the squatter is this uid (another uid needs root)");
    }
    let nonce = BufferNonce([0x5a; 16]);
    let engine = Engine::new(
        Catalog::with_defaults(),
        EngineConfig {
            jobs: Arc::new(VdiJobRunner::new(
                Arc::new(ShmServerConnector {
                    fixed_buffer_nonce: Some(nonce),
                    ..ShmServerConnector::from_env()
                }),
                JobOptions::default(),
            )),
            ..EngineConfig::default()
        },
    );
    let dir = std::env::temp_dir().join(format!("vdisim-squat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let daemon = Daemon::start(DaemonConfig::new(dir.join("s.sock"), engine)).unwrap();
    let set = format!("{{squatted-{}}}", std::process::id());
    let name = region_name(uid(), &set, RegionKind::Buffer(nonce)).unwrap();
    let path = squat(&name, owner);

    let out = Command::new(BIN)
        .arg("backup")
        .arg("-S")
        .arg(format!("unix:{}", daemon.socket_path().display()))
        .args(["--db", "pubs", "--set", &set, "--to"])
        .arg(dir.join("media"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    assert!(
        text.contains(&format!(
            "Cannot open backup device '{set}'. Operating system error 0x80770005"
        )),
        "{text}"
    );
    assert!(text.contains("Msg 59020"), "{text}");
    assert!(text.contains("was not created by this server"), "{text}");
    assert!(
        text.contains("BACKUP DATABASE is terminating abnormally."),
        "{text}"
    );
    // Untouched: same bytes, same size, same owner; and nothing else of the set is left.
    assert_eq!(std::fs::read(&path).unwrap(), SQUAT);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), owner);
    std::fs::remove_file(&path).unwrap();
    let prefix = vdi_shm::naming::set_prefix(uid(), &set).unwrap();
    assert_eq!(
        vdi_shm::region::list_regions(&prefix[1..]),
        Vec::<String>::new()
    );
    daemon.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_client_never_maps_a_buffer_region_its_server_did_not_make() {
    use vdi_shm::region::{Access, BufferInfo, ControlRegion};
    let set_name = format!("{{foreign-buffer-{}}}", std::process::id());
    let client = Arc::new(ClientVirtualDeviceSet::new());
    client
        .create(&set_name, &VdConfig::with_devices(1))
        .unwrap();
    // A hostile "server": it announces and publishes a buffer name whose object it did not
    // make (another uid's when we are root), then says the set is configured.
    let control = ControlRegion::open(uid(), &set_name, Access::Owner).unwrap();
    control.set_server_pid(std::process::id());
    let nonce = BufferNonce::random().unwrap();
    let name = region_name(uid(), &set_name, RegionKind::Buffer(nonce)).unwrap();
    let owner = if uid() == 0 { 65534 } else { uid() };
    let path = squat(&name, owner);
    let mut cfg = control.requested_config();
    cfg.buffer_area_size = 16;
    control.set_negotiated_config(&cfg);
    control.set_device_name(vdi_proto::DeviceIndex(0), &set_name);
    control.publish_buffer(&BufferInfo {
        name: name.clone(),
        size: SQUAT.len() as u64,
        generation: 1,
    });
    control.publish_state(vdi_shm::words::set::CONNECTED | vdi_shm::words::set::CONFIGURED);

    let mut got = VdConfig::default();
    let e = client.get_configuration(10_000, &mut got).unwrap_err();
    assert_eq!(e.code, VdCode::Abort, "{e:?}");
    assert!(
        client
            .rule_hits()
            .contains(&vdi_proto::Rule::ClientForeignRegion),
        "{:?}",
        client.rule_hits()
    );
    assert!(control.is_aborted(), "the client told the server");
    assert_eq!(std::fs::read(&path).unwrap(), SQUAT);
    client.close().unwrap();
    std::thread::sleep(Duration::from_millis(10));
    if owner != uid() {
        // Another user's object is never the client's to remove.
        assert!(std::path::Path::new(&path).exists());
        std::fs::remove_file(&path).unwrap();
    } else {
        // Its own uid's object under its set's buffer name, with no live creator: removed.
        let _ = std::fs::remove_file(&path);
    }
}
