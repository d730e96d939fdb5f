//! A second Create on a set that exists is refused with VD_E_PROTOCOL and does nothing else:
//! the set keeps its shared memory (a server can still open it) and GetConfiguration still
//! waits its whole timeout (issue 19, defect 1).

use std::time::{Duration, Instant};
use vdi_client::{ClientVirtualDeviceSet, VdCode, VdConfig};
use vdi_proto::{ClientPhase, Rule};
use vdi_shm::region::{Access, ControlRegion};

const TIMEOUT_MS: i64 = 300;

fn set_exists(name: &str) -> bool {
    ControlRegion::open(rustix::process::geteuid().as_raw(), name, Access::Owner).is_ok()
}

#[test]
fn a_refused_second_create_keeps_the_set_and_its_timeout() {
    let name = format!("{{create-twice-{}}}", std::process::id());
    let config = VdConfig::with_devices(1);
    let set = ClientVirtualDeviceSet::new();
    set.create(&name, &config).unwrap();
    assert!(set_exists(&name));

    for again in [name.clone(), format!("{name}-other")] {
        let err = set.create(&again, &config).unwrap_err();
        assert_eq!((err.code, err.rule), (VdCode::Protocol, Rule::CreateTwice));
        assert_eq!(set.phase(), ClientPhase::Configurable);
        assert!(set_exists(&name), "the refused Create removed the set");
        assert!(!set_exists(&format!("{name}-other")));

        let started = Instant::now();
        let err = set
            .get_configuration(TIMEOUT_MS, &mut VdConfig::default())
            .unwrap_err();
        let waited = started.elapsed();
        assert_eq!(err.code, VdCode::Timeout);
        // Generous: at least 90% of the timeout (the clock may start a little late, never early).
        assert!(
            waited >= Duration::from_millis(TIMEOUT_MS as u64 * 9 / 10),
            "GetConfiguration({TIMEOUT_MS}) returned after {waited:?}"
        );
        assert_eq!(set.phase(), ClientPhase::Configurable);
    }
    set.close().unwrap();
    assert!(!set_exists(&name));
}
