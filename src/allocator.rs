//! Process-wide settings of the C allocator, applied once at the start of
//! each binary.
//!
//! glibc's malloc gives each thread that allocates concurrently an arena of
//! its own, up to eight per core. Tributary's threads (the async workers
//! and the blocking pool that parses and writes) each allocate and free
//! documents of hundreds of kilobytes, so every arena ends up holding its
//! own high-water mark of freed memory: on the benchmark's cold phase that
//! was 13 MiB of the peak resident set (67 against 54 MiB at two arenas)
//! for no measurable gain in speed on two cores.

/// Arenas glibc may create (`M_ARENA_MAX`).
pub const ARENAS: i32 = 2;

/// Applies the settings; does nothing on other C libraries.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before
    // the program starts its threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}
