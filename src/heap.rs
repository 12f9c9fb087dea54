//! [`give_back`]: returns the heap's free pages to the system between the stages of a load (glibc keeps them in its per-thread arenas otherwise).

/// Releases the free pages of every allocator arena to the system, where the allocator is
/// glibc's (elsewhere it does nothing). A load frees a great deal between stages (the parser's
/// buffers after the read, every trace tree after the walk), on threads whose arenas the next
/// stage, on another thread, does not reuse; without this those pages stay resident and count
/// in the load's peak. Costs a walk of the arenas' free lists: a few milliseconds.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[expect(unsafe_code, reason = "glibc has no safe binding for malloc_trim")]
    // SAFETY: `malloc_trim` takes no pointers and only changes the allocator's own state, under
    // its own locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
