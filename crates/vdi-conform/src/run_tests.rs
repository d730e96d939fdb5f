use super::*;
use crate::catalogue::catalogue;

fn case(id: &str) -> Case {
    catalogue().into_iter().find(|c| c.id == id).unwrap()
}

#[test]
fn the_time_scale_reaches_the_armed_delays() {
    let config = case("config/delay-1200ms/backup");
    let delay = |scale| armed_faults(&config.steps[0], scale).delay_before_configuration;
    assert_eq!(delay(1.0), Duration::from_millis(1200));
    assert_eq!(delay(2.0), Duration::from_millis(2400));
    assert_eq!(delay(0.5), Duration::from_millis(600));

    let timeout = case("timeout/command-pause-2500ms/devices-1/restore");
    let restore = &timeout.steps[1];
    assert_eq!(
        armed_faults(restore, 2.0).pause,
        Some((3, Duration::from_millis(5000)))
    );
    // Everything else is armed as catalogued.
    let mut unscaled = armed_faults(restore, 2.0);
    unscaled.pause = restore.faults.pause;
    assert_eq!(unscaled, restore.faults);
}

#[test]
fn the_time_scale_stretches_the_harness_waits() {
    let mut config = RunConfig::new(
        ClientKind::Builtin(Default::default()),
        PathBuf::from("/nonexistent/vdisim"),
    );
    assert_eq!(config.scaled(CRASH_NOTICE_BOUND), CRASH_NOTICE_BOUND);
    config.time_scale = 3.0;
    assert_eq!(config.scaled(CRASH_NOTICE_BOUND), CRASH_NOTICE_BOUND * 3);
}
