//! The client library and the server-side set over real shared memory, the server on its own
//! thread: backup and restore streams byte-compared, striping, Close and abort semantics.

mod pair;

use pair::*;
use std::sync::Arc;
use vdi_client::ClientOptions;
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig, win32};
use vdi_proto::Rule;
use vdi_server::vdi::inproc::InProcHub;
use vdi_server::vdi::link::ServerConnector;
use vdi_server::vdi::shm::ShmServerConnector;

fn backup_then_restore(t: &Transport, devices: u16, bytes: u64) {
    let name = unique("roundtrip");
    let server = {
        let (name, t) = (name.clone(), t.clone());
        std::thread::spawn(move || {
            // The client creates the set first; give it a moment by retrying Open.
            t.wait_for_set(&name);
            run_server_on(
                t.server(),
                &name,
                ServerScript {
                    flushes: 3,
                    ..ServerScript::backup(devices, bytes)
                },
            )
        })
    };
    let (set, report) = run_client_with(t.client(), &name, devices, true, None);
    set.close().unwrap();
    let server = server.join().unwrap();
    assert!(
        server.codes.iter().all(|c| *c == win32::ERROR_SUCCESS),
        "{:?}",
        server.codes
    );
    assert!(all_closed(&report), "{:?}", report.endings);
    assert_eq!(report.completes, u32::from(devices));
    for (d, stripe) in report.stripes.iter().enumerate() {
        assert!(
            *stripe == expected_stripe(d as u16, bytes),
            "stripe {d} differs"
        );
    }
    assert!(set.rule_hits().is_empty(), "{:?}", set.rule_hits());

    let name = unique("restore");
    let server = {
        let (name, t) = (name.clone(), t.clone());
        std::thread::spawn(move || {
            t.wait_for_set(&name);
            run_server_on(t.server(), &name, ServerScript::restore(devices, bytes))
        })
    };
    let (set, report) = run_client_with(t.client(), &name, devices, false, Some(report.stripes));
    assert!(all_closed(&report), "{:?}", report.endings);
    set.close().unwrap();
    let server = server.join().unwrap();
    assert!(
        server.verified,
        "restore did not verify: {} bytes",
        server.restored_bytes
    );
    assert!(
        server.codes.contains(&win32::ERROR_HANDLE_EOF),
        "{:?}",
        server.codes
    );
    assert!(all_closed(&report), "{:?}", report.endings);
}

fn one_device_backup_and_restore_of_64_mib(t: &Transport) {
    backup_then_restore(t, 1, 64 << 20);
}

fn four_device_striped_backup_and_restore(t: &Transport) {
    backup_then_restore(t, 4, 3 << 20);
}

fn close_with_a_device_open_returns_vd_e_open_and_aborts_the_server(t: &Transport) {
    let name = unique("close-open");
    let set = t.client();
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    let server = {
        let (name, t) = (name.clone(), t.clone());
        std::thread::spawn(move || {
            run_server_on(t.server(), &name, ServerScript::backup(1, 1 << 20))
        })
    };
    let mut cfg = VdConfig::default();
    set.get_configuration(30_000, &mut cfg).unwrap();
    let dev = set.open_device(&name).unwrap();
    let cmd = dev.get_command(30_000).unwrap();
    let err = set.close().unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Open, Rule::CloseDevicesOpen));
    let server = server.join().unwrap();
    assert!(server.aborted, "the server must see the abort");
    assert!(
        server.codes.contains(&win32::ERROR_OPERATION_ABORTED),
        "{:?}",
        server.codes
    );
    // The old device and command are dead handles now, and nothing crashes.
    let err = dev.get_command(0).unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Protocol, Rule::StaleDevice));
    let err = dev.complete_command(&cmd, 0, 0, 0).unwrap_err();
    assert_eq!(err.code, VdCode::Protocol);
    // Create again on the same object works.
    let again = unique("recreate");
    set.create(&again, &VdConfig::with_devices(1)).unwrap();
    set.close().unwrap();
}

fn close_of_a_set_that_is_not_open_is_vd_e_protocol(t: &Transport) {
    let set = t.client();
    let err = set.close().unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Protocol, Rule::CloseNotOpen));
    let name = unique("close-twice");
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    set.close().unwrap();
    assert_eq!(set.close().unwrap_err().rule, Rule::CloseNotOpen);
    assert!(!t.set_exists(&name), "Close removes the set");
}

fn a_second_set_with_the_same_name_is_busy(t: &Transport) {
    let name = unique("busy");
    let a = t.client();
    a.create(&name, &VdConfig::with_devices(1)).unwrap();
    let b = t.client();
    let err = b.create(&name, &VdConfig::with_devices(1)).unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Busy, Rule::CreateNameInUse));
    a.close().unwrap();
    b.create(&name, &VdConfig::with_devices(1)).unwrap();
    b.close().unwrap();
}

fn get_configuration_times_out_without_a_server_and_state_is_unchanged(t: &Transport) {
    let name = unique("timeout");
    let set = t.client();
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    let mut cfg = VdConfig::default();
    let err = set.get_configuration(50, &mut cfg).unwrap_err();
    assert_eq!((err.code, err.rule), (VdCode::Timeout, Rule::ConfigTimeout));
    assert_eq!(set.phase(), vdi_proto::ClientPhase::Configurable);
    let err = set.get_configuration(0, &mut cfg).unwrap_err();
    assert_eq!(err.code, VdCode::Timeout, "0 polls");
    set.close().unwrap();
}

fn client_abort_in_configurable_and_initializing_stops_the_server(t: &Transport) {
    // Configurable: the server finds an aborted set.
    let name = unique("abort-configurable");
    let set = t.client();
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    set.signal_abort().unwrap();
    let mut cfg = VdConfig::default();
    assert_eq!(
        set.get_configuration(0, &mut cfg).unwrap_err().code,
        VdCode::Abort
    );
    set.close().unwrap();

    // Initializing: the server is configured, then the client aborts.
    let name = unique("abort-initializing");
    let set = t.client();
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    let server = {
        let (name, t) = (name.clone(), t.clone());
        std::thread::spawn(move || {
            run_server_on(t.server(), &name, ServerScript::backup(1, 1 << 20))
        })
    };
    set.get_configuration(30_000, &mut cfg).unwrap();
    set.signal_abort().unwrap();
    assert_eq!(set.open_device(&name).unwrap_err().code, VdCode::Abort);
    let report = server.join().unwrap();
    assert!(report.aborted);
    set.close().unwrap();
}

fn client_abort_mid_stream_completes_outstanding_commands_as_aborted(t: &Transport) {
    let name = unique("abort-active");
    let set = t.client();
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    let server = {
        let (name, t) = (name.clone(), t.clone());
        std::thread::spawn(move || {
            run_server_on(t.server(), &name, ServerScript::backup(1, 8 << 20))
        })
    };
    let mut cfg = VdConfig::default();
    set.get_configuration(30_000, &mut cfg).unwrap();
    let dev = set.open_device(&name).unwrap();
    for _ in 0..3 {
        let cmd = dev.get_command(30_000).unwrap();
        dev.complete_command(&cmd, win32::ERROR_SUCCESS, u64::from(cmd.size()), 0)
            .unwrap();
    }
    let held = dev.get_command(30_000).unwrap();
    set.signal_abort().unwrap();
    assert_eq!(dev.get_command(1000).unwrap_err().code, VdCode::Abort);
    assert_eq!(
        dev.complete_command(&held, 0, 0, 0).unwrap_err().code,
        VdCode::Abort
    );
    let report = server.join().unwrap();
    assert!(report.aborted);
    assert!(
        report.codes.contains(&win32::ERROR_OPERATION_ABORTED),
        "{:?}",
        report.codes
    );
    set.close().unwrap();
}

fn server_abort_mid_stream_reaches_get_command(t: &Transport) {
    let name = unique("server-abort");
    let server = {
        let (name, t) = (name.clone(), t.clone());
        std::thread::spawn(move || {
            t.wait_for_set(&name);
            run_server_on(
                t.server(),
                &name,
                ServerScript {
                    abort_after: Some(5),
                    ..ServerScript::backup(2, 8 << 20)
                },
            )
        })
    };
    let (set, report) = run_client_with(t.client(), &name, 2, true, None);
    assert!(
        report.endings.iter().all(|e| e.code == VdCode::Abort),
        "{:?}",
        report.endings
    );
    assert!(server.join().unwrap().aborted);
    set.close().unwrap();
}

/// The two transports the same test bodies run over.
#[derive(Clone, Debug)]
enum Transport {
    Shm,
    InProc(InProcHub),
}

impl Transport {
    fn client(&self) -> ClientVirtualDeviceSet {
        match self {
            Transport::Shm => ClientVirtualDeviceSet::new(),
            Transport::InProc(hub) => ClientVirtualDeviceSet::with_options(ClientOptions {
                connector: Arc::new(hub.clone()),
                ..ClientOptions::from_env()
            }),
        }
    }

    fn server(&self) -> Arc<dyn ServerConnector> {
        match self {
            Transport::Shm => Arc::new(ShmServerConnector::from_env()),
            Transport::InProc(hub) => Arc::new(hub.clone()),
        }
    }

    fn set_exists(&self, name: &str) -> bool {
        match self {
            Transport::Shm => {
                let uid = rustix::process::geteuid().as_raw();
                let region =
                    vdi_shm::naming::region_name(uid, name, vdi_shm::naming::RegionKind::Control)
                        .unwrap();
                std::path::Path::new("/dev/shm").join(&region[1..]).exists()
            }
            Transport::InProc(hub) => hub.contains(name),
        }
    }

    /// Published, not merely present: the shared-memory object exists a moment before its
    /// header is written, and a server that opens it then finds no set.
    fn set_published(&self, name: &str) -> bool {
        match self {
            Transport::Shm => {
                let uid = rustix::process::geteuid().as_raw();
                vdi_shm::region::ControlRegion::open(uid, name, Default::default()).is_ok()
            }
            Transport::InProc(hub) => hub.contains(name),
        }
    }

    fn wait_for_set(&self, name: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self.set_published(name) {
            assert!(
                std::time::Instant::now() < deadline,
                "the client never created {name}"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

macro_rules! over {
    ($transport:ident, $make:expr) => {
        mod $transport {
            use super::*;
            #[test]
            fn one_device_backup_and_restore_of_64_mib() {
                super::one_device_backup_and_restore_of_64_mib(&$make);
            }
            #[test]
            fn four_device_striped_backup_and_restore() {
                super::four_device_striped_backup_and_restore(&$make);
            }
            #[test]
            fn close_with_a_device_open_returns_vd_e_open_and_aborts_the_server() {
                super::close_with_a_device_open_returns_vd_e_open_and_aborts_the_server(&$make);
            }
            #[test]
            fn close_of_a_set_that_is_not_open_is_vd_e_protocol() {
                super::close_of_a_set_that_is_not_open_is_vd_e_protocol(&$make);
            }
            #[test]
            fn a_second_set_with_the_same_name_is_busy() {
                super::a_second_set_with_the_same_name_is_busy(&$make);
            }
            #[test]
            fn get_configuration_times_out_without_a_server_and_state_is_unchanged() {
                super::get_configuration_times_out_without_a_server_and_state_is_unchanged(&$make);
            }
            #[test]
            fn client_abort_in_configurable_and_initializing_stops_the_server() {
                super::client_abort_in_configurable_and_initializing_stops_the_server(&$make);
            }
            #[test]
            fn client_abort_mid_stream_completes_outstanding_commands_as_aborted() {
                super::client_abort_mid_stream_completes_outstanding_commands_as_aborted(&$make);
            }
            #[test]
            fn server_abort_mid_stream_reaches_get_command() {
                super::server_abort_mid_stream_reaches_get_command(&$make);
            }
            #[test]
            fn close_while_another_thread_waits_in_get_command() {
                super::close_while_another_thread_waits_in_get_command(&$make);
            }
        }
    };
}

over!(shm, Transport::Shm);
over!(inproc, Transport::InProc(InProcHub::new()));

/// Close while another thread waits in GetCommand (as the loom model says): the waiter returns
/// promptly with an error code (VD_E_ABORT or VD_E_PROTOCOL), never hangs.
fn close_while_another_thread_waits_in_get_command(t: &Transport) {
    let name = unique("close-race");
    let set = Arc::new(t.client());
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    let server = {
        let (name, t) = (name.clone(), t.clone());
        std::thread::spawn(move || {
            run_server_on(t.server(), &name, ServerScript::backup(1, 1 << 20))
        })
    };
    let mut cfg = VdConfig::default();
    set.get_configuration(30_000, &mut cfg).unwrap();
    let dev = set.open_device(&name).unwrap();
    let held = dev.get_command(30_000).unwrap();
    let waiter = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        // Another thread holds the first command; this one waits for the next ones for ever.
        loop {
            match dev.get_command(-1) {
                Ok(_) => continue,
                Err(e) => return (e, started.elapsed()),
            }
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    let closed = set.close();
    assert_eq!(closed.unwrap_err().code, VdCode::Open);
    let (err, _) = waiter.join().unwrap();
    assert!(
        matches!(err.code, VdCode::Abort | VdCode::Protocol),
        "{err}"
    );
    drop(held);
    assert!(server.join().unwrap().aborted);
}

#[test]
fn instances_are_separate_endpoints_and_a_machine_prefix_is_refused() {
    let name = unique("instance");
    let set = ClientVirtualDeviceSet::new();
    let err = set
        .create_ex(Some("HOST\\INST"), &name, &VdConfig::with_devices(1))
        .unwrap_err();
    assert_eq!(
        (err.code, err.rule),
        (VdCode::InstanceName, Rule::CreateBadInstance)
    );
    set.create_ex(Some("INST2"), &name, &VdConfig::with_devices(1))
        .unwrap();
    let connector: Arc<dyn ServerConnector> = Arc::new(ShmServerConnector::from_env());
    // The default instance's server does not see a named instance's set, and vice versa.
    assert_eq!(
        connector.open(None, &name).unwrap_err().rule,
        Rule::SrvOpenNoSet
    );
    assert!(connector.open(Some("INST2"), &name).is_ok());
    set.close().unwrap();
    // NULL and empty both mean the default instance.
    set.create_ex(Some(""), &name, &VdConfig::with_devices(1))
        .unwrap();
    assert!(connector.open(None, &name).is_ok());
    set.close().unwrap();
}

#[test]
fn the_server_aborts_a_silent_client_after_two_server_timeouts() {
    let name = unique("silent");
    let set = ClientVirtualDeviceSet::new();
    let cfg = VdConfig {
        device_count: 1,
        server_time_out: 200,
        ..VdConfig::default()
    };
    set.create(&name, &cfg).unwrap();
    let server = {
        let name = name.clone();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let report = run_server(&name, ServerScript::backup(1, 4 << 20));
            (report, started.elapsed())
        })
    };
    let mut got = VdConfig::default();
    set.get_configuration(30_000, &mut got).unwrap();
    let dev = set.open_device(&name).unwrap();
    // Take one command and then fall silent, alive.
    let _held = dev.get_command(30_000).unwrap();
    let (report, elapsed) = server.join().unwrap();
    assert!(report.aborted, "the server must give up on a silent client");
    assert!(
        elapsed >= std::time::Duration::from_millis(400),
        "not before 2 x serverTimeOut: {elapsed:?}"
    );
    assert_eq!(dev.get_command(1000).unwrap_err().code, VdCode::Abort);
    set.close().unwrap();
}

#[test]
fn the_transcript_records_every_call_with_its_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let set = ClientVirtualDeviceSet::new();
    set.set_transcript_path(&path).unwrap();
    let name = unique("transcript");
    assert!(set.close().is_err());
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    let mut cfg = VdConfig::default();
    assert!(set.get_configuration(0, &mut cfg).is_err());
    set.close().unwrap();
    let events =
        vdi_proto::transcript::parse_json_lines(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let rules: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            vdi_proto::EventKind::Call { rule, .. } => Some(rule.id()),
            _ => None,
        })
        .collect();
    assert_eq!(
        rules,
        [
            "VDI-CLOSE-002",
            "VDI-CREATE-001",
            "VDI-CONFIG-005",
            "VDI-CLOSE-001"
        ]
    );
    assert_eq!(
        set.rule_hits(),
        vec![Rule::CloseNotOpen, Rule::CloseBeforeServer]
    );
}

#[test]
fn a_server_that_stops_sending_gives_timeouts_never_a_hang() {
    let name = unique("quiet-server");
    let set = ClientVirtualDeviceSet::new();
    set.create(&name, &VdConfig::with_devices(1)).unwrap();
    let mut server = vdi_server::vdi::ServerVirtualDeviceSet::new(
        Arc::new(ShmServerConnector::from_env()),
        Default::default(),
    );
    server.open(None, &name).unwrap();
    server
        .begin_configuration(vdi_client::vdf::WRITE_MEDIA, 512, 0, 65536, 1000)
        .unwrap();
    server.request_buffers(65536, 0, 4).unwrap();
    server
        .end_configuration(std::slice::from_ref(&name))
        .unwrap();
    server.open_device().unwrap();
    let mut cfg = VdConfig::default();
    set.get_configuration(1000, &mut cfg).unwrap();
    let dev = set.open_device(&name).unwrap();
    for timeout in [0, 50, 100] {
        let started = std::time::Instant::now();
        let err = dev.get_command(timeout).unwrap_err();
        assert_eq!(
            (err.code, err.rule),
            (VdCode::Timeout, Rule::GetCommandTimeout)
        );
        assert!(started.elapsed() >= std::time::Duration::from_millis(timeout as u64));
        assert_eq!(
            set.phase(),
            vdi_proto::ClientPhase::Active,
            "a timeout changes nothing"
        );
    }
    server.signal_abort().unwrap();
    assert_eq!(dev.get_command(-1).unwrap_err().code, VdCode::Abort);
    server.close().unwrap();
    set.close().unwrap();
}
