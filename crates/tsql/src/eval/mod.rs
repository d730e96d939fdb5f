//! Expression evaluation and the built-in scalar functions.
