//! What the server-side set needs from a transport, and how it finds a client's set.

use std::fmt::Debug;
use std::sync::Arc;
use vdi_proto::{DeviceIndex, ToClient, ToServer, VdConfig, VdResult};
use vdi_shm::PeerFault;
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome};

/// The server's connection to one client set.
pub trait ServerLink: Send + Sync + Debug {
    /// The configuration the client passed to Create.
    fn requested(&self) -> VdConfig;

    /// The next set-level message from the client (Abort, ClientClosed).
    fn poll_set(&self) -> Result<Option<ToServer>, PeerFault>;

    /// The next completion of `device`.
    fn poll_device(&self, device: DeviceIndex) -> Result<Option<ToServer>, PeerFault>;

    /// Creates the buffer area (before `Configured` is sent).
    fn create_buffers(&self, data_size: u64) -> VdResult<Arc<dyn ServerBuffers>>;

    /// Delivers a message to the client.
    fn send(&self, msg: &ToClient);

    /// Sleeps until `ready`, a completion or set change may have arrived, or `timeout`.
    fn wait(
        &self,
        timeout: Timeout,
        cfg: &WaitConfig,
        ready: &mut dyn FnMut() -> bool,
    ) -> WaitOutcome<()>;

    /// Whether the primary client is still running.
    fn client_alive(&self) -> bool;

    /// Releases the transport.
    fn close(&self);
}

/// The buffer area as the server reaches it.
pub trait ServerBuffers: Send + Sync + Debug {
    /// Size of the data area.
    fn size(&self) -> u64;
    /// Copies `src` into the area at `offset`.
    fn write(&self, offset: u64, src: &[u8]) -> bool;
    /// Copies bytes out of the area at `offset`.
    fn read(&self, offset: u64, dst: &mut [u8]) -> bool;
    /// In-place access to `len` bytes at `offset` (the zero-copy path: a Write buffer filled
    /// where the client reads it, a Read buffer checked where the client wrote it), if the area
    /// is a mapped region and the range is in bounds.
    fn lease(&self, _offset: u64, _len: u64) -> Option<vdi_shm::region::BufferLease<'_>> {
        None
    }
}

/// Finds client sets by name.
pub trait ServerConnector: Send + Sync + Debug {
    /// Open: attaches to the set `set_name` of `instance`; VD_E_INVALID when there is none.
    fn open(&self, instance: Option<&str>, set_name: &str) -> VdResult<Arc<dyn ServerLink>>;
}
