//! `Padded<T>`: a value alone on its own 128-byte line (crossbeam `CachePadded`, but `repr(C)`
//! so that two processes agree on the layout).

use std::ops::Deref;

/// Cache-line size used for every futex word and ring index (128: adjacent-line prefetch on
/// x86_64 and the line size of aarch64 big cores, as crossbeam does).
pub const CACHE_LINE: usize = 128;

/// A value padded and aligned to [`CACHE_LINE`] bytes.
#[derive(Debug, Default)]
#[repr(C, align(128))]
pub struct Padded<T>(pub T);

impl<T> Padded<T> {
    /// Wraps a value.
    pub fn new(v: T) -> Padded<T> {
        Padded(v)
    }
}

impl<T> Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
