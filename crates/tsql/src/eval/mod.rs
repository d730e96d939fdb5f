//! Expression evaluation and the built-in scalar functions.

pub mod errors;
