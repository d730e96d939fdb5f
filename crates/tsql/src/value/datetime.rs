//! The calendar behind date and time values.

use serde::{Deserialize, Serialize};

/// A date and time of day with 100 ns precision (datetime2(7)'s), no time zone.
/// `days` counts from 0001-01-01 (day 0); `ticks` are 100 ns units since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DateTime {
    pub days: i32,
    pub ticks: u64,
}
