//! Typed identities: devices by index, commands by generational id.

use serde::{Deserialize, Serialize};

/// A device's index within its set (0 is the device named like the set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceIndex(pub u16);

impl DeviceIndex {
    /// The index as a `usize` for slicing.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// A command's identity: a slot in the server's command table plus the slot's generation.
///
/// The generation changes every time the slot is reused, so a duplicate, stale or forged
/// completion never matches a live command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CmdId {
    /// Index into the command table.
    pub slot: u32,
    /// Generation of the slot when the command was issued; never 0 for a live command.
    pub generation: u32,
}

impl CmdId {
    /// Packs the id into one word (the form stored in shared memory).
    pub fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.slot)
    }

    /// Unpacks a word written by [`CmdId::to_u64`]; generation 0 is never a live command.
    pub fn from_u64(v: u64) -> Option<CmdId> {
        let id = CmdId {
            slot: v as u32,
            generation: (v >> 32) as u32,
        };
        (id.generation != 0).then_some(id)
    }
}

impl std::fmt::Display for CmdId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.slot, self.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmd_id_round_trips_and_rejects_generation_zero() {
        let id = CmdId {
            slot: 7,
            generation: 0xABCD,
        };
        assert_eq!(CmdId::from_u64(id.to_u64()), Some(id));
        assert_eq!(CmdId::from_u64(7), None);
    }
}
