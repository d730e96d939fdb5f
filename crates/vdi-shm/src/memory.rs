//! Handing freed heap memory back to the system (it needs `unsafe`, which the project keeps in
//! this crate).
//!
//! glibc's malloc keeps freed memory in its arenas, one per thread up to 8 per core. After the
//! first large block is freed it raises its mmap threshold (up to 32 MiB) and its trim threshold
//! (twice that), so later large blocks come from the arenas and stay there once freed: a daemon
//! whose connections once received a few 6 MiB batches kept ~6 MiB per arena for good, which
//! `malloc_trim` does not return either (it leaves a thread arena's top alone).
//! [`bound_retained_memory`] fixes both thresholds, so blocks above 2 MiB are mapped and
//! unmapped on their own and an arena keeps at most 4 MiB of free space at its top;
//! [`release_free_memory`] returns the free pages inside the arenas after a large request.

/// Fixes malloc's thresholds for a long-running server (glibc; a no-op elsewhere): blocks of
/// 2 MiB and more get their own mapping, returned when freed, and an arena's free top beyond
/// 4 MiB is returned at once. Blocks below 2 MiB (the default 1 MiB transfers) stay in the
/// arenas as before. Call it once, early, from the server's `main`.
pub fn bound_retained_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes the allocator's tuning parameters, under its own lock;
        // both values are in the documented ranges.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 2 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20);
        }
    }
}

/// Returns the allocator's free memory to the system, where the C library can (glibc); a no-op
/// elsewhere. Costs a walk over malloc's arenas: call it after rare, large requests only.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only inspects and trims the allocator's own free lists, under
        // the allocator's locks; it has no preconditions and touches no memory we own.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tuning_and_release_are_callable_at_any_time() {
        super::bound_retained_memory();
        let big = vec![1u8; 8 << 20];
        drop(big);
        super::release_free_memory();
        super::release_free_memory();
    }
}
