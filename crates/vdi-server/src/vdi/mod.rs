//! The server side of a virtual device set: what SQL Server's IServerVirtualDeviceSet2 does,
//! over vdisim's shared-memory transport.

/// The in-memory transport, from `vdi-link` (kept here so `vdi_server::vdi::inproc::…` works).
pub use vdi_link::inproc;
/// The server's link interfaces, from `vdi-link`.
pub use vdi_link::server as link;
mod set;
pub mod shm;

pub use set::{ServerVirtualDevice, ServerVirtualDeviceSet};
