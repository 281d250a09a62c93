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
//!
//! Blocks of 256 KiB and more (a document's body, its parse, a group's
//! buffers) are mapped for themselves and given back to the system when
//! freed (`M_MMAP_THRESHOLD`). glibc otherwise raises that threshold each
//! time such a block is freed, up to 32 MiB, after which large blocks come
//! from the arenas and their freed space stays resident: with two
//! documents processed at once, a cold round's peak resident set was
//! 64–66 MiB with the moving threshold and 57–59 MiB with a fixed one, for
//! a few percent more system time (the pages are mapped and zeroed again).

/// Arenas glibc may create (`M_ARENA_MAX`).
pub const ARENAS: i32 = 2;

/// Blocks at least this large are mapped for themselves (`M_MMAP_THRESHOLD`).
pub const MAP_FROM: i32 = 256 * 1024;

/// Applies the settings; does nothing on other C libraries.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before
    // the program starts its threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_FROM);
    }
}
