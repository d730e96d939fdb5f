//! The server side of MS-TDS 7.4 (and TDS 8.0's strict encryption) for vdisim's fake
//! sqlservr, sans-IO in quinn-proto's manner: bytes in (`handle_*`), bytes and events out
//! (`poll_*`), time passed in, no sockets and no TLS library (the I/O layer brings those).
//!
//! A connection goes through:
//! 1. [`server::Handshake`]: PRELOGIN, the TLS handshake inside PRELOGIN packets
//!    ([`tls_frame`]), LOGIN7 ([`login7`]), then the login response;
//! 2. [`server::Established`]: a [`server::RequestReader`] for the thread reading the socket
//!    (so an ATTENTION is seen while a batch runs) and a [`response::ResponseWriter`] for the
//!    thread running requests through [`service::Service`] and an [`exec::Executor`].
//!
//! Everything a client sends is bounds-checked: hostile input is a [`TdsError`], never a panic
//! or an allocation larger than the configured limits. See `docs/tds.md`.

#![forbid(unsafe_code)]

pub mod client;
pub mod error;
pub mod exec;
pub mod login7;
pub mod packet;
pub mod prelogin;
pub mod procedures;
pub mod request;
pub mod response;
pub mod server;
pub mod service;
pub mod tls_frame;
pub mod token;
pub mod types;
mod wire;

pub use error::TdsError;
pub use exec::{ExecOutcome, Executor, Parameter};
pub use request::Request;
pub use server::{
    Established, Handshake, HandshakeConfig, HandshakeEvent, LoginAccepted, RequestReader,
};
pub use service::{Served, Service, Transmit};
pub use wire::{cp1252_decode, cp1252_encode, ucs2_decode};
