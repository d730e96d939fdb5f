//! The real VDI client library: `ClientVirtualDeviceSet` and `ClientVirtualDevice` as the SDK
//! defines them, over vdisim's shared-memory transport, with strict misuse detection.
//!
//! Every call returns the documented VD_E_* code together with the rule ID that chose it
//! ([`vdi_proto::VdError`]). Misuse is always detected and recorded; `VDISIM_TRANSCRIPT=path`
//! (or [`ClientVirtualDeviceSet::set_transcript_path`]) writes the set's transcript as JSON lines.
//!
//! Timeouts are milliseconds: 0 polls, a negative value (or `INFINITE` cast to `i64` as
//! `0xFFFFFFFF`) waits for ever. `VDISIM_TIMEOUT_UNIT=s` reads them as seconds instead, for
//! clients written against the Linux sample's comment (docs/decisions.md #3).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub(crate) mod timeout;
pub use timeout::TimeoutUnit;
mod device;
/// The link interfaces, from `vdi-link` (kept here so `vdi_client::link::…` paths still work).
pub use vdi_link::client as link;
pub mod reference;
mod set;
pub mod shm;
mod transcript;

pub use device::{ClientVirtualDevice, Command};
pub use set::{ClientOptions, ClientVirtualDeviceSet};
pub use vdi_proto::{VdCode, VdConfig, VdError, VdResult, VdcCode, vdf, win32};
