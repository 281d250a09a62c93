//! The threads of the process, bounded whatever the number of cores, so
//! that `tributary run` fits the unit's `TasksMax=` (every thread is a
//! task): tokio's default is one worker per core and up to 512 blocking
//! threads, which a machine with many cores or a busy round of fetches
//! would take past any sensible limit (and a refused thread is a failed
//! fetch, or a runtime that cannot start).
//!
//! The budget: the main thread, at most [`MAX_WORKERS`] async workers (the
//! network and timers need few), at most [`MAX_BLOCKING`] blocking threads
//! (parsing and cleaning documents, store writes, name lookups, static
//! files, retention: twice the default fetch concurrency, so that store
//! writes and name lookups seldom wait behind documents being parsed; more
//! would only run CPU work the cores cannot run at once anyway), and the
//! store's checkpoint thread: [`MAX_THREADS`] in all.

/// Async worker threads at most (fewer on machines with fewer cores).
pub const MAX_WORKERS: usize = 4;

/// Blocking-pool threads at most.
pub const MAX_BLOCKING: usize = 32;

/// Threads of `tributary run` at most: main, workers, blocking pool and
/// the store's checkpoint thread.
pub const MAX_THREADS: usize = 1 + MAX_WORKERS + MAX_BLOCKING + 1;

// The unit's TasksMax=64 leaves room beyond the budget for `ExecReload`'s
// check and commands run in the unit's cgroup.
const _: () = assert!(MAX_THREADS <= 40);

/// Worker threads for a machine with `cores` cores: one per core, at
/// least one and at most [`MAX_WORKERS`].
pub fn workers(cores: usize) -> usize {
    cores.clamp(1, MAX_WORKERS)
}

/// The multi-threaded runtime of `run` and `fetch`, within the budget.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers(cores))
        .max_blocking_threads(MAX_BLOCKING)
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_does_not_grow_with_the_cores() {
        assert_eq!(workers(0), 1);
        assert_eq!(workers(2), 2);
        assert_eq!(workers(256), MAX_WORKERS);
    }
}
