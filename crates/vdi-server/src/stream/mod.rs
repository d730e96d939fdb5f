//! The backup stream: per-stripe media and backup-set headers, data records spread dynamically
//! over the stripes, and a trailer per stripe. The layout is documented in
//! `docs/stream-format.md`.
//!
//! BACKUP side: [`BackupProducer`]. RESTORE side: one [`StripeReader`] per device, then a
//! [`RestoreAssembler`] that checks the stripes against each other and rebuilds the
//! [`crate::db::BackupImage`]. HEADERONLY/FILELISTONLY/LABELONLY: [`read_headers`].

mod assembler;
mod error;
pub mod format;
mod memory;
mod producer;
mod reader;
mod source;

pub use assembler::{RestoreAssembler, assemble};
pub use error::{HeaderKind, ProduceError, StreamError};
pub use format::{MediaHeader, SetHeader, StripeHeaders, Trailer};
pub use memory::{MemoryBackupStats, backup_to_memory};
pub use producer::{BackupOptions, BackupProducer, BackupProgress, Transfer, TransferPlan};
pub use reader::{DecodedRecord, ParsedStripe, RecordBody, StripeReader, read_headers};
pub use source::{BackupSource, Scratch};
