//! Caps on what one entry may store.
//!
//! The body cap bounds a document, not its fields: without these, a 10 MB
//! title would be stored (and indexed, and fingerprinted) as is, and a
//! 1 MB `description` could become gigabytes inside the HTML parser. Each
//! cap cuts at a character boundary; nothing is refused for being long.
//! What cleaning may add to what came in is bounded in `clean::growth`.

use xxhash_rust::xxh3::xxh3_128;

/// Longest title (entry or feed) kept, in characters; cut with "…".
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Longest feed description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// Largest HTML body (an entry's content or summary) sanitized, in bytes;
/// the rest is cut off first.
pub const MAX_HTML_BYTES: usize = 1024 * 1024;
/// Longest link or enclosure URL kept, in bytes (longer ones are dropped).
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Longest guid kept as written, in bytes; a longer one is replaced by
/// `sha:` and a hash of it (stable, so the entry keeps its identity).
pub const MAX_GUID_BYTES: usize = 1024;
/// Most authors, categories and enclosures kept per entry.
pub const MAX_LIST_ITEMS: usize = 50;
/// Longest author name or category kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// `s` cut to at most `max` characters, with "…" in place of the rest.
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some(_) => {
            let keep = s
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(0, |(i, _)| i);
            let mut out = s[..keep].trim_end().to_string();
            out.push('…');
            out
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary.
pub fn cut_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A guid short enough to be a key; long ones become a hash of themselves.
pub fn bounded_guid(g: &str) -> String {
    if g.len() <= MAX_GUID_BYTES {
        g.to_string()
    } else {
        format!("sha:{:032x}", xxh3_128(g.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_chars("héllo wörld", 20), "héllo wörld");
        assert_eq!(truncate_chars("héllo wörld", 7), "héllo…");
        assert_eq!(
            truncate_chars(&"é".repeat(5000), MAX_TITLE_CHARS)
                .chars()
                .count(),
            MAX_TITLE_CHARS
        );
        assert_eq!(cut_bytes("héllo", 2), "h");
        assert_eq!(cut_bytes("héllo", 3), "hé");
    }

    #[test]
    fn long_guids_become_stable_hashes() {
        let g = "x".repeat(MAX_GUID_BYTES + 1);
        assert_eq!(bounded_guid(&g), bounded_guid(&g));
        assert!(bounded_guid(&g).starts_with("sha:"));
        assert_ne!(bounded_guid(&g), bounded_guid(&format!("{g}y")));
        assert_eq!(bounded_guid("urn:a"), "urn:a");
    }
}
