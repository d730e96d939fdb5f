//! Time as the caller passes it in: microseconds on a monotonic clock the core never reads.

use serde::{Deserialize, Serialize};

/// A point in time, in microseconds since an origin the caller chose.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Tick(pub u64);

impl Tick {
    /// The origin.
    pub const ZERO: Tick = Tick(0);

    /// A tick `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Tick {
        Tick(ms * 1000)
    }

    /// This tick moved `us` microseconds later.
    pub const fn plus_micros(self, us: u64) -> Tick {
        Tick(self.0.saturating_add(us))
    }

    /// This tick moved `ms` milliseconds later.
    pub const fn plus_millis(self, ms: u64) -> Tick {
        self.plus_micros(ms.saturating_mul(1000))
    }

    /// Microseconds from `earlier` to `self` (0 if `earlier` is later).
    pub const fn micros_since(self, earlier: Tick) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}
