//! The fake sqlservr: everything SQL Server does on its side of a VDI backup or restore.
#![forbid(unsafe_code)]

pub mod daemon;
pub mod db;
pub mod engine;
pub mod jobs;
pub mod stream;
pub mod vdi;

/// The T-SQL language and catalog, re-exported so `vdi_server::tsql::…` paths keep working.
pub use tsql;
