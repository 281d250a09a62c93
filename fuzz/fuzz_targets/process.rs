//! Arbitrary bytes through the whole pure pipeline: decode, parse, clean,
//! key and fingerprint (`refresh::process`), then the invariants every
//! stored entry must hold whatever the input was, and a resource oracle:
//! - output: the cleaned HTML of the document is at most
//!   `HTML_GROWTH` (5) times its decoded bytes plus `DOC_SLACK` (1 MiB) and
//!   7 bytes per body; everything stored per entry at most 8 times the
//!   decoded document plus twice `DOC_SLACK` and 256 bytes per entry;
//! - time: at most 2 µs per input byte plus 50 ms (the pipeline runs at
//!   well under 0.5 µs per byte even instrumented; a quadratic shape at
//!   the fuzzer's lengths blows through it). Measured in the thread's CPU
//!   time, not wall time: on a shared machine a preempted run of a
//!   157-byte feed "took" 95 ms. An input over the bound is timed once
//!   more and the shorter time counts: the first run of a path builds its
//!   lazy statics (regexes, tables), one-time work that is not per byte.
#![no_main]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use tributary::clean::{DOC_SLACK, HTML_GROWTH};
use tributary::model::IdentityMode;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the HTTP content type (its charset is evidence
    // for decoding) and the identity mode; the rest is the document.
    let (content_type, mode, body) = match data.split_first() {
        Some((b, rest)) => {
            let ct = match b % 4 {
                0 => None,
                1 => Some("application/rss+xml; charset=iso-8859-1"),
                2 => Some("text/xml; charset=utf-16"),
                _ => Some("application/feed+json"),
            };
            let mode = if b & 0x80 != 0 {
                IdentityMode::Link
            } else {
                IdentityMode::Guid
            };
            (ct, mode, rest)
        }
        None => (None, IdentityMode::Guid, data),
    };
    let url = url::Url::parse("https://feeds.example/dir/feed.xml").unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let run = || {
        let started = thread_cpu();
        let result = tributary::refresh::process(body, content_type, Some(&url), mode, now);
        (result, thread_cpu() - started)
    };
    let (result, mut took) = run();
    let allowed = Duration::from_micros(2 * body.len() as u64) + Duration::from_millis(50);
    if took > allowed {
        took = took.min(run().1);
    }
    assert!(
        took <= allowed,
        "{} bytes took {took:?} (allowed {allowed:?})",
        body.len()
    );
    let Ok(doc) = result else {
        return;
    };
    let decoded = tributary::parse::decode(body, content_type).len();
    let bodies = 2 * doc.entries.len();
    let html = doc.html_bytes();
    let html_bound = HTML_GROWTH * decoded + DOC_SLACK + 7 * bodies;
    assert!(
        html <= html_bound,
        "{html} bytes of HTML from {decoded} decoded bytes (bound {html_bound})"
    );
    let stored = doc.stored_bytes();
    let stored_bound = 8 * decoded + 2 * DOC_SLACK + 256 * doc.entries.len();
    assert!(
        stored <= stored_bound,
        "{stored} bytes stored from {decoded} decoded bytes (bound {stored_bound})"
    );
    for e in &doc.entries {
        assert!(!e.key.is_empty(), "every entry has a key");
        assert!(
            e.published <= now + chrono::Duration::days(1),
            "future dates are clamped"
        );
        for s in [&e.title, &e.content_text] {
            assert!(
                s.chars().all(|c| matches!(c, '\t' | '\n' | '\r')
                    || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')),
                "a character XML forbids survived: {s:?}"
            );
        }
        for u in e.url.iter().chain(e.canonical_url.iter()) {
            assert!(u.starts_with("http://") || u.starts_with("https://"), "{u}");
        }
    }
});

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
