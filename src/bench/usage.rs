//! What a phase cost this process: CPU time from `getrusage` (user +
//! system, microsecond resolution) and peak resident memory from
//! `/proc/self/status` (`VmHWM`, the high-water mark of `VmRSS`).
//!
//! The high-water mark is process-wide and only ever grows, so each phase
//! runs in a child process of its own (see `bench`): its peak is then the
//! phase's peak, and the corpus held by the server in the parent never
//! counts. (Resetting the mark with `echo 5 > /proc/self/clear_refs` would
//! also work on Linux, but the parent's corpus — hundreds of megabytes —
//! would still be resident in the same process.)

/// CPU seconds used by this process so far: (user, system).
pub fn cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage only writes into the struct we pass.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) != 0 {
            return (0.0, 0.0);
        }
        u
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}

/// Peak resident set size of this process in bytes (`VmHWM`), or 0 where
/// `/proc` is not available.
pub fn peak_rss_bytes() -> u64 {
    status_kib("VmHWM:") * 1024
}

/// Current resident set size in bytes (`VmRSS`).
pub fn rss_bytes() -> u64 {
    status_kib("VmRSS:") * 1024
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_follow_the_work_done() {
        // CPU: a loop that runs for at least 50 ms of wall time must show
        // as user time (the clock ticks in microseconds).
        let (user0, _) = cpu_seconds();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(50) {
            for i in 0..10_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        let (user1, sys1) = cpu_seconds();
        assert!(user1 > user0, "user time did not move: {user0} → {user1}");
        assert!(sys1 >= 0.0);
        // Memory: 64 MiB touched raises the peak by about that much.
        let before = peak_rss_bytes();
        assert!(rss_bytes() > 1 << 20, "no VmRSS from /proc/self/status");
        let block = std::hint::black_box(vec![1u8; 64 << 20]);
        let after = peak_rss_bytes();
        assert!(rss_bytes() <= after);
        assert!(
            after >= before + (48 << 20),
            "peak {before} → {after} after touching 64 MiB"
        );
        drop(block);
    }
}
