//! Shared-memory transport for vdisim: the *mechanism* layer under the VDI state machines.
//!
//! This crate knows nothing about VDI states; `vdi-client` and `vdi-server` compose
//! `vdi-proto`'s state machines with these pieces:
//!
//! | module | what | used by |
//! |---|---|---|
//! | [`naming`] | `region_name(uid, set_name, RegionKind)`: safe, injective shm names; the buffer's random [`naming::BufferNonce`] | both |
//! | [`region`] | [`region::ControlRegion`] (client creates at Create, server opens), [`region::BufferRegion`] (server creates at EndConfiguration under an unguessable name, client maps), permission and header checks, reclaiming a dead creator's regions ([`region::reclaim_if_dead`], the sweep [`region::cleanup_stale`]) | both |
//! | [`channel`] | [`channel::DeviceChannel`]: `send_command` / `receive_command` / `send_completion` / `receive_completion` / `drain_completions`, the blocking calls written once | both |
//! | [`ring`] | per-device [`ring::CommandRing`] (server → client) and [`ring::CompletionRing`] (client → server), validated pops, closed mark for drain-on-abort | both |
//! | [`event`] | [`event::Event`] (Parker over a shared futex word), [`event::EventCount`] (multi-waiter), [`event::wait_until`] with [`event::Timeout`] and 100 ms liveness slices, and [`event::wait_until_hinted`], which spins on a cheap sign of news before its costly poll | both |
//! | [`liveness`] | [`liveness::PeerWatch`] (pidfd) and the creator's flock token | both |
//! | [`buffers`] | sans-IO buffer-area allocator, [`buffers::BufferHandle`] | server (allocator), client (handles) |
//! | [`tick`] | [`tick::TickClock`]: the `now` both sides pass to the protocol core (coarse unless a transcript is recorded) | both |
//! | `ceiling` | two-process raw ceilings (ping-pong, 1 MiB handoff) for benches | benches, `vdisim bench` |
//! | [`memory`] | `release_free_memory`: hands malloc's free pages back to the system | the daemon |
//!
//! # A blocking call, end to end
//!
//! GetCommand on the client is `ctl.channel(dev)?.receive_command(&limits, timeout, &cfg,
//! alive)`, which is `wait_until(command_event, …)` with a poll that returns `Aborted` once the
//! abort word is set, the command or close marker popped from the command ring (validated
//! against `limits`), or a [`error::PeerFault`]; `alive` is a [`liveness::PeerWatch`] on the
//! server pid, called every 100 ms. The server's SendCommand is `send_command` (push, then
//! unpark). Completions mirror this with `send_completion` / `receive_completion`, and the
//! server's abort path is `drain_completions`.
//!
//! **Ordering rule for `poll` functions**: read a flag word (abort, the client's closed flag)
//! *before* popping the ring, and treat "flag set and ring empty" as the end. Checking the
//! flag after an empty pop can miss an entry pushed just before the flag was set (the loom
//! model `close_with_device_open_is_observed_by_the_server` found exactly that).
//!
//! The server learns only the set name from the T-SQL; region names also carry the client's
//! uid, which [`region::find_creator_uids`] recovers from /dev/shm.
//!
//! SignalAbort ([`region::ControlRegion::signal_abort`]) sets the sticky abort word, closes
//! every ring (a push after that fails, everything pushed before can still be drained: each
//! command is accounted exactly once) and wakes every waiter.
//!
//! # Errors
//! [`error::PeerFault`] (hostile or corrupt peer memory) maps to VD_E_ABORT on the client
//! (VDI-PEER-002) and VD_E_PROTOCOL on the server (VDI-SRV-PEER-002);
//! [`error::RegionError`] maps to VD_E_INVALID / VD_E_BUSY / VD_E_SECURITY …;
//! [`naming::NameError`] to VD_E_INVALID (VDI-CREATE-004).
//!
//! # Model checking
//! The ring and event code is compiled against a crate-private `sync` facade. Under
//! `RUSTFLAGS="--cfg loom"` it uses loom's atomics, slot words become loom `UnsafeCell`s and
//! the futex is a loom Mutex + Condvar, so the same code is model-checked by `tests/loom_*.rs`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p vdi-shm --release --test 'loom_*'
//! ```
//!
//! The regions (mmap, layout) are not built under loom.
//!
//! # Known limits
//! * A peer that shrinks (ftruncates) a region after we mapped it makes our accesses fault
//!   (SIGBUS); size is checked at open, but POSIX shm cannot prevent a later truncate.
//! * Buffer offsets honour any power-of-two alignment relative to the data area, which starts
//!   page-aligned (64 KiB into the object); the *address* alignment is therefore guaranteed up
//!   to the page size (4 KiB), not up to 64 KiB.
//! * Under loom, timeouts and liveness checks are not modelled (loom has no clock); the models
//!   use `Timeout::Forever` and rely on wake-ups alone.
#![warn(missing_docs)]

pub mod buffers;
#[cfg(not(loom))]
pub mod ceiling;
pub mod channel;
pub mod counting_alloc;
pub mod error;
pub mod event;
#[cfg(not(loom))]
pub mod layout;
pub mod liveness;
pub mod memory;
pub mod naming;
pub mod padded;
#[cfg(not(loom))]
pub mod region;
pub mod ring;
mod sync;
#[cfg(not(loom))]
pub mod tick;

pub use channel::{DeviceChannel, Received};
pub use error::{PeerFault, RegionError, Side};
pub use event::{
    Event, EventCount, Timeout, WaitConfig, WaitOutcome, wait_until, wait_until_hinted,
};
pub use ring::{
    Command, CommandDesc, CommandLimits, CommandRing, Completion, CompletionDesc, CompletionRing,
    Delivered, LocalRing, Popped, PushError,
};
pub mod words;
