//! A global allocator that counts allocations, for tests that prove a hot path allocates
//! nothing (`#[global_allocator] static A: CountingAlloc = CountingAlloc::new();`). It lives
//! here because implementing `GlobalAlloc` needs `unsafe`, which the project keeps in this crate.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Forwards to the system allocator and, while counting is on, counts allocations and
/// reallocations of every thread.
#[derive(Debug)]
pub struct CountingAlloc {
    allocations: AtomicU64,
    counting: AtomicBool,
}

impl CountingAlloc {
    /// Not counting yet.
    pub const fn new() -> CountingAlloc {
        CountingAlloc {
            allocations: AtomicU64::new(0),
            counting: AtomicBool::new(false),
        }
    }

    /// Starts counting from zero.
    pub fn start(&self) {
        self.allocations.store(0, Ordering::SeqCst);
        self.counting.store(true, Ordering::SeqCst);
    }

    /// Stops counting and returns the count.
    pub fn stop(&self) -> u64 {
        self.counting.store(false, Ordering::SeqCst);
        self.allocations.load(Ordering::SeqCst)
    }

    fn count(&self) {
        if self.counting.load(Ordering::Relaxed) {
            self.allocations.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Default for CountingAlloc {
    fn default() -> Self {
        CountingAlloc::new()
    }
}

// SAFETY: every method forwards to the system allocator with the caller's arguments unchanged;
// counting touches only atomics and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count();
        // SAFETY: the caller upholds GlobalAlloc::alloc's contract, which is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from System, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count();
        // SAFETY: as for dealloc; new_size obeys realloc's contract, which is System's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
