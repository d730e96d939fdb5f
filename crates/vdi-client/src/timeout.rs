//! The unit of the application's timeouts, and their decoding.

use vdi_shm::event::Timeout;

/// The unit the application's timeouts are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimeoutUnit {
    /// Milliseconds, as documented (the default).
    #[default]
    Millis,
    /// Seconds, as the Linux sample's comment reads it.
    Seconds,
}

impl TimeoutUnit {
    /// `VDISIM_TIMEOUT_UNIT=s` (or `seconds`) selects seconds.
    pub(crate) fn from_env() -> TimeoutUnit {
        match std::env::var("VDISIM_TIMEOUT_UNIT").as_deref() {
            Ok("s" | "sec" | "seconds") => TimeoutUnit::Seconds,
            _ => TimeoutUnit::Millis,
        }
    }

    /// Decodes an SDK timeout: 0 polls, negative or `INFINITE` (0xFFFFFFFF) waits for ever.
    pub(crate) fn timeout(self, value: i64) -> Timeout {
        if value == i64::from(u32::MAX) {
            return Timeout::Forever;
        }
        match self {
            TimeoutUnit::Millis => Timeout::from_sdk_ms(value),
            TimeoutUnit::Seconds => Timeout::from_sdk_ms(value.saturating_mul(1000)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_follow_the_sdk() {
        let ms = TimeoutUnit::Millis;
        assert_eq!(ms.timeout(0), Timeout::Poll);
        assert_eq!(ms.timeout(-1), Timeout::Forever);
        assert_eq!(ms.timeout(0xFFFF_FFFF), Timeout::Forever);
        assert_eq!(ms.timeout(90), Timeout::Millis(90));
        assert_eq!(TimeoutUnit::Seconds.timeout(90), Timeout::Millis(90_000));
    }
}
