//! The messages the two state machines exchange.
//!
//! The deterministic simulator moves them through in-memory queues; the shared-memory transport
//! encodes them as header words, ring descriptors and futex wakes. Per-device messages keep their
//! order; set-level messages (abort, close) may overtake them, and both machines cope with that.

use crate::consts::VdcCode;
use crate::ids::{CmdId, DeviceIndex};
use crate::layout::VdConfig;
use serde::{Deserialize, Serialize};

/// A command as it travels from the server to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCommand {
    /// Generational id of the command.
    pub id: CmdId,
    /// What to do.
    pub code: VdcCode,
    /// Bytes to transfer (Read/Write), or a count (SkipMarks, SkipBlocks, Load), or the whence
    /// of a SetPosition under VDF_RandomAccess.
    pub size: u32,
    /// Device position (SetPosition, and Read/Write under VDF_RandomAccess).
    pub position: u64,
    /// Offset of the data buffer within the buffer area.
    pub buffer_offset: u64,
}

/// A completion as it travels from the client to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCompletion {
    /// The command being completed.
    pub id: CmdId,
    /// The Win32 completion code.
    pub code: u32,
    /// Bytes actually transferred (Read/Write only).
    pub bytes: u32,
    /// The resulting position (GetPosition, SetPosition).
    pub position: u64,
}

/// Server → client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToClient {
    /// The server opened the set (Open).
    Connected,
    /// The server finished configuring (EndConfiguration): the configuration and device names.
    Configured {
        /// What GetConfiguration returns.
        config: VdConfig,
        /// Device names in index order; the first is the set name.
        devices: Vec<String>,
    },
    /// A command for one device.
    Command {
        /// The device.
        device: DeviceIndex,
        /// The command.
        command: WireCommand,
    },
    /// CloseDevice: after every earlier command of this device.
    CloseDevice {
        /// The device.
        device: DeviceIndex,
    },
    /// The server signalled abort (or aborted itself).
    Abort,
    /// The server closed the set.
    ServerClosed,
}

/// Client → server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToServer {
    /// The client opened a device.
    DeviceOpened {
        /// The device.
        device: DeviceIndex,
    },
    /// A command was completed.
    Completion {
        /// The device the command belongs to.
        device: DeviceIndex,
        /// The completion.
        completion: WireCompletion,
    },
    /// The client signalled abort.
    Abort,
    /// The client closed (released) the set.
    ClientClosed,
}
