//! msdb's backup and restore history.
