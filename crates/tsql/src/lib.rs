//! The T-SQL front end of the fake server: batches, lexer, parser, message catalogue and
//! result sets.
//!
//! The engine's path through it:
//! 1. [`split_batches`] cuts a script on `GO` lines;
//! 2. [`parse_batch`] turns each batch into [`Statement`]s or one [`SqlMessage`];
//! 3. the engine runs the statements and reports through [`messages`] constructors and
//!    [`ResultSet`]s; [`SqlMessage::render`] and [`ResultSet::render_sqlcmd`] give sqlcmd's
//!    output.
//!
//! Message numbers, texts and which ones are our own choice are listed in
//! `docs/sql-messages.md`.

pub mod ast;
pub mod batches;
pub mod catalog;
pub mod eval;
pub mod interp;
pub mod lexer;
pub mod messages;
pub mod msdb;
pub mod options;
pub mod output;
mod parser;
pub mod query;
pub mod resultset;
pub mod value;

pub use ast::{
    BackupKind, BackupOptions, BackupStatement, CreateDatabaseStatement, DropDatabaseStatement,
    FileMove, RecoveryModel, RecoveryOption, RestoreKind, RestoreOptions, RestoreStatement,
    Statement, StatementKind, StopPoint, TransferOptions,
};
pub use batches::{Batch, split_batches};
pub use messages::{Operation, SqlMessage};
pub use output::{CancelToken, CollectSink, Output, OutputSink};
pub use parser::parse_batch;
pub use resultset::{RenderOptions, ResultSet};
pub use value::{Column, SqlType, Table, Value};
