//! Handing freed heap memory back to the system (it needs `unsafe`, which the project keeps in
//! this crate).
//!
//! glibc's malloc keeps freed memory in its arenas, and after the first large block is freed it
//! raises its mmap threshold (up to 32 MiB), so later large blocks come from the arenas too and
//! stay with the process after they are freed. A daemon connection that once received a 15 MiB
//! request would keep those megabytes for good. [`release_free_memory`] asks malloc to return
//! every free page (`malloc_trim(0)`); the daemon calls it after serving a large request.

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
    fn release_is_callable_at_any_time() {
        let big = vec![1u8; 8 << 20];
        drop(big);
        super::release_free_memory();
        super::release_free_memory();
    }
}
