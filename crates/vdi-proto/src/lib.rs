//! Sans-IO core of vdisim: the VDI constants and layouts, the configuration rules, the client and
//! server state machines of the Virtual Device Interface, the rule table and transcripts.
//!
//! Nothing here does I/O, spawns threads or reads a clock: time is passed in by the caller.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod consts;
pub mod error;
pub mod ids;
pub mod layout;
pub mod rules;
pub mod server;
pub mod sim;
pub mod time;
pub mod transcript;
pub mod wire;

pub use client::{
    ClientPhase, ClientSet, ClientSnapshot, CommandHandle, DeliveredCommand, DeviceHandle,
    SecondaryView,
};
pub use config::{Direction, MediaMode, ServerChoice};
pub use consts::{VdCode, VdcCode, vdf, win32};
pub use error::{VdError, VdResult};
pub use ids::{CmdId, DeviceIndex};
pub use layout::{VdConfig, VdcCommand, VdsCommand};
pub use rules::{RULES, Rule, RuleInfo, RuleKind};
pub use server::{Completion, SendRequest, ServerOptions, ServerPhase, ServerSet};
pub use time::Tick;
pub use transcript::{Event, EventKind, Method, Side};
pub use wire::{ToClient, ToServer, WireCommand, WireCompletion};
