//! Memory bounds, counted rather than timed: a global allocator that keeps
//! the live and peak bytes of this test binary, so each bound is
//! deterministic. The tests run one at a time (a lock), since the counts
//! are process-wide.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use tributary::config::Config;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as given by the caller, from `alloc` above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as given by the caller.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the peak bytes allocated above
/// what was live when it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) - base)
}

/// A config of `n` feeds as people write them: a name and a URL each,
/// some with tags.
fn config_text(n: usize) -> String {
    let mut text = String::from("[store]\npath = \"t.db\"\n\n[fetch]\nper_host = 4\n");
    for i in 0..n {
        text.push_str(&format!(
            "\n[[feeds]]\nname = \"feed-{i:06}\"\nurl = \"https://host{}.example.org/feeds/{i:06}.xml\"\n",
            i % 500
        ));
        if i % 10 == 0 {
            text.push_str("tags = [\"news\", \"tech\"]\n");
        }
    }
    text.push_str("\n[server]\nenabled = false\n");
    text
}

#[test]
fn a_config_costs_a_bounded_amount_per_feed() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let n = 10_000;
    let text = config_text(n);
    let (config, peak) = peak_during(|| Config::parse(&text, Path::new("/etc/t/t.toml")).unwrap());
    assert_eq!(config.feeds.len(), n);
    let kept = LIVE.load(Ordering::Relaxed);
    drop(config);
    let held = kept - LIVE.load(Ordering::Relaxed);
    let (per_byte, per_feed) = (peak as f64 / text.len() as f64, held / n);
    eprintln!(
        "{} bytes of TOML: peak {peak} bytes while parsing ({per_byte:.1} per byte of TOML), {held} held ({per_feed} per feed)",
        text.len()
    );
    // Was 28 bytes of memory per byte of TOML (the whole document's tree).
    assert!(per_byte < 6.0, "{per_byte:.1} bytes per byte of TOML");
    assert!(
        per_feed <= 340,
        "{per_feed} bytes per feed held by the config"
    );
}
