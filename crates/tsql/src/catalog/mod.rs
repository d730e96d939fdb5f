//! The catalog views and server functions, derived from a snapshot of the live server.
