//! Arbitrary bytes through the whole pure pipeline: decode, parse, clean,
//! key and fingerprint (`refresh::process`), then the invariants every
//! stored entry must hold whatever the input was.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
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
    let Ok(doc) = tributary::refresh::process(body, content_type, Some(&url), mode, now) else {
        return;
    };
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
