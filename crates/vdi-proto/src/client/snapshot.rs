//! The client set's state as one value, so that a test can say "this call changed nothing".

use super::device::ClientDevice;
use super::{ClientPhase, ClientSet};
use crate::layout::VdConfig;
use crate::wire::ToServer;

/// Everything about a client set that a call can change: the phase, the set's identity and
/// configuration, every device (its phase, the commands waiting for GetCommand and those the
/// application holds, IO-ERROR) and the messages not yet sent to the server. The rule hits and
/// transcript events are left out: recording a refused call is the one thing it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSnapshot {
    phase: ClientPhase,
    epoch: u32,
    name: String,
    requested: VdConfig,
    configured: Option<VdConfig>,
    secondary: bool,
    devices: Vec<ClientDevice>,
    unsent: Vec<ToServer>,
}

impl ClientSnapshot {
    /// The phase at the time of the snapshot.
    pub fn phase(&self) -> ClientPhase {
        self.phase
    }
}

impl ClientSet {
    /// The set's state now (see [`ClientSnapshot`]). A call answered with a misuse code, or a
    /// wait that timed out, must leave it equal (vdi-facts §8.1, §8.3).
    pub fn snapshot(&self) -> ClientSnapshot {
        ClientSnapshot {
            phase: self.phase,
            epoch: self.epoch,
            name: self.name.clone(),
            requested: self.requested,
            configured: self.configured,
            secondary: self.secondary,
            devices: self.devices.clone(),
            unsent: self.outbox.iter().cloned().collect(),
        }
    }
}
