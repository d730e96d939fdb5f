//! Where a running batch sends its output; the types live in `tsql::output`.

pub use crate::tsql::output::{CancelToken, CollectSink, Output, OutputSink, rows_affected_line};
