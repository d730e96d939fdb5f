//! Per-device state of the client set.

use crate::wire::WireCommand;
use std::collections::VecDeque;

/// Where one device is in its life (the per-device reading of the §8.1 table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum DevicePhase {
    /// Not opened by this client yet.
    #[default]
    Unopened,
    /// Opened; commands flow.
    Open,
    /// GetCommand returned VD_E_CLOSE.
    Closed,
}

/// Something received from the server for a device, in arrival order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    Command(WireCommand),
    Close,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClientDevice {
    pub(crate) name: String,
    pub(crate) phase: DevicePhase,
    /// Received, not yet handed to the application.
    pub(crate) pending: VecDeque<Pending>,
    /// Handed to the application, not yet completed.
    pub(crate) held: Vec<WireCommand>,
    /// The application completed a command with an error and no ClearError succeeded since.
    pub(crate) io_error: bool,
    /// The server's CloseDevice arrived (it may still be queued behind commands).
    pub(crate) server_closed: bool,
}

impl ClientDevice {
    pub(crate) fn named(name: String) -> ClientDevice {
        ClientDevice {
            name,
            ..ClientDevice::default()
        }
    }
}
