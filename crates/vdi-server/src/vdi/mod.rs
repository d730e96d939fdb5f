//! The server side of a virtual device set: what SQL Server's IServerVirtualDeviceSet2 does,
//! over vdisim's shared-memory transport.

pub mod inproc;
pub mod link;
mod set;
pub mod shm;

pub use set::{ServerVirtualDevice, ServerVirtualDeviceSet};
