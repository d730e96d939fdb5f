//! The conformance harness of vdisim (`vdisim conform`): a catalogue of cases with stable IDs
//! tied to the specification's rules, a runner that drives a vendor's client program against
//! a private fake server armed with each case's faults, verdicts with Expected/Actual lines,
//! human, JSON and JUnit reports, and per-case transcripts that `vdisim replay` re-drives.
//!
//! docs/conformance.md describes the catalogue, the verdicts and the bounds of the timing cases.

pub mod catalogue;
pub mod catalogue_snapshot;
pub mod checks;
pub mod child;
pub mod client;
pub mod explain;
pub mod html;
pub mod judge;
pub mod observe;
mod recording;
pub mod report;
pub mod result;
pub mod run;
pub mod selection;
mod tds_port;
pub mod transcript;

pub use catalogue::{Case, Tier, catalogue};
pub use client::ClientKind;
pub use run::{CaseResult, RunConfig, Verdict, run_cases};
