//! What the client library needs from a transport, and how it finds one.
//!
//! A link carries the protocol core's messages (`ToClient`, `ToServer`) between the client set
//! and the server: over shared memory between processes (`vdi_client::shm`, on [`vdi_shm`]),
//! or in memory for tests ([`crate::inproc`]).
//! Set-level messages (configuration, abort, close) and per-device messages (commands and the
//! close marker) arrive on separate channels, as they do in shared memory.

use std::fmt::Debug;
use std::sync::Arc;
use vdi_proto::{DeviceIndex, SecondaryView, ToClient, ToServer, VdConfig, VdResult};
use vdi_shm::error::PeerFault;
use vdi_shm::event::{Timeout, WaitConfig, WaitOutcome};

/// One set's connection to its server.
pub trait ClientLink: Send + Sync + Debug {
    /// The next set-level message (Connected, Configured, Abort, ServerClosed), oldest first.
    fn poll_set(&self) -> Result<Option<ToClient>, PeerFault>;

    /// The next message of `device` (a Command or the CloseDevice marker), oldest first.
    fn poll_device(&self, device: DeviceIndex) -> Result<Option<ToClient>, PeerFault>;

    /// Delivers a message to the server. A message the server can no longer take (the set is
    /// aborted) is dropped: the abort path already accounts for it.
    fn send(&self, msg: &ToServer);

    /// Sleeps until `ready` returns true, `timeout` passes, or the server is found dead.
    /// Wakes on news for `device` (or for the set when `None`); `ready` is re-checked after
    /// every wake-up and at least every 100 ms.
    fn wait(
        &self,
        device: Option<DeviceIndex>,
        timeout: Timeout,
        cfg: &WaitConfig,
        ready: &mut dyn FnMut() -> bool,
    ) -> WaitOutcome<()>;

    /// Claims `device` for this process; false when another process of the set holds it.
    fn claim_device(&self, device: DeviceIndex) -> bool;

    /// The buffer area, once the server configured the set.
    fn buffers(&self) -> Option<Arc<dyn BufferMemory>>;

    /// Marks the primary's GetConfiguration done (secondaries may open the set from now on).
    fn mark_configured_by_client(&self);

    /// Releases the transport (unmaps; the creator removes the shared objects).
    fn close(&self);
}

/// The buffer area as the client reaches it.
pub trait BufferMemory: Send + Sync + Debug {
    /// Size of the data area.
    fn size(&self) -> u64;
    /// Copies `dst.len()` bytes at `offset` out of the area.
    fn read(&self, offset: u64, dst: &mut [u8]) -> bool;
    /// Copies `src` into the area at `offset`.
    fn write(&self, offset: u64, src: &[u8]) -> bool;
    /// The address of `offset` in this process (for the C ABI), if in bounds.
    fn address(&self, offset: u64, len: u64) -> Option<*mut u8>;
    /// The offset of an address of this process, if it lies in the area.
    fn offset_of(&self, ptr: *const u8) -> Option<u64>;
    /// GetBufferHandle: a process-independent handle for the buffer at `offset`.
    fn handle_of(&self, offset: u64) -> Option<u32>;
    /// MapBufferHandle: the offset a handle names, if valid in this set.
    fn offset_of_handle(&self, handle: u32) -> Option<u64>;
    /// In-place access to `len` bytes at `offset` (the zero-copy path), if the memory is a
    /// mapped region and the range is in bounds.
    fn lease(&self, _offset: u64, _len: u64) -> Option<vdi_shm::region::BufferLease<'_>> {
        None
    }
}

/// Finds or creates sets: shared memory in production, in-memory pairs in tests.
pub trait Connector: Send + Sync + Debug {
    /// Create/CreateEx: makes the set's transport. Errors carry the rule (name in use, security).
    fn create(
        &self,
        instance: Option<&str>,
        name: &str,
        requested: &VdConfig,
    ) -> VdResult<Arc<dyn ClientLink>>;

    /// OpenInSecondary: what the set looks like, and a link when it can be joined.
    fn open_secondary(
        &self,
        instance: Option<&str>,
        name: &str,
    ) -> (SecondaryView, Option<Arc<dyn ClientLink>>);
}
