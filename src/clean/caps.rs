//! Caps on what one entry may store, and the guard that keeps hostile HTML
//! from making the sanitizer's parser do unbounded work.
//!
//! The body cap bounds a document, not its fields: without these, a 10 MB
//! title would be stored (and indexed, and fingerprinted) as is, and a
//! 1 MB `description` could become gigabytes inside the HTML parser. Each
//! cap cuts at a character boundary; nothing is refused for being long.
//!
//! HTML parsers (html5ever, under ammonia) do work per tag that grows with
//! the number of open elements, and re-open unclosed formatting elements
//! (`<b>`, `<a>`, `<font>`, …) after every block: 20 KB of
//! `<p><b id=1>…<b id=100>` followed by `<p>x` repeated became 3.5 MB and
//! 11 s of work, and 100,000 nested `<div>`s did not finish in 5 minutes.
//! [`html_is_tame`] estimates both costs in one linear scan; HTML that
//! fails it is kept as plain text (tags dropped, text escaped).

use xxhash_rust::xxh3::xxh3_128;

/// Longest title (entry or feed) kept, in characters; cut with "…".
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Longest feed description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// Largest HTML body (an entry's content or summary) sanitized, in bytes;
/// the rest is cut off first.
pub const MAX_HTML_BYTES: usize = 1024 * 1024;
/// Deepest element nesting sanitized as HTML; deeper HTML becomes text.
pub const MAX_HTML_DEPTH: usize = 256;
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

/// Elements an HTML parser re-opens after a block when left unclosed.
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Elements that never nest: void elements, and those whose end tag the
/// next sibling implies.
const FLAT: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead",
    "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp",
];

fn is_one_of(name: &str, list: &[&str]) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether `html` can be given to the HTML parser: elements nested at
/// most [`MAX_HTML_DEPTH`] deep, as many formatting elements left open,
/// and re-opened formatting elements fewer than half the input's bytes.
/// A parser re-opens the open formatting elements after any other tag
/// that may close elements (an end tag, or a start tag that ends a
/// paragraph), so each such tag counts them all. Open formatting elements
/// are kept the way parsers keep them (at most three identical ones, the
/// "Noah's Ark" rule). The scan does not know every implied end tag and
/// so over-counts, which errs on the safe side; ordinary HTML, even
/// sloppy, stays far inside all three.
pub fn html_is_tame(html: &str) -> bool {
    let budget = (html.len() / 2).max(10_000);
    let mut depth = 0usize;
    let mut reopened = 0usize;
    // Open formatting elements: (name, whole tag) in opening order.
    let mut formatting: Vec<(&str, &str)> = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            break;
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        let (closing, body) = match tag.strip_prefix('/') {
            Some(b) => (true, b),
            None => (false, tag),
        };
        let len = body.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if len == 0 {
            continue; // comments, doctypes, a stray '<'
        }
        let name = &body[..len];
        if is_one_of(name, FORMATTING) {
            if closing {
                if let Some(i) = formatting
                    .iter()
                    .rposition(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    formatting.remove(i);
                }
            } else {
                let mut same = formatting.iter().enumerate().filter(|(_, f)| f.1 == tag);
                if let Some((first, _)) = same.next() {
                    if same.count() >= 2 {
                        formatting.remove(first);
                    }
                }
                formatting.push((name, tag));
            }
        } else {
            reopened += formatting.len();
            if !is_one_of(name, FLAT) && !tag.ends_with('/') {
                if closing {
                    depth = depth.saturating_sub(1);
                } else {
                    depth += 1;
                }
            }
        }
        if depth > MAX_HTML_DEPTH || formatting.len() > MAX_HTML_DEPTH || reopened > budget {
            return false;
        }
    }
    true
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

    #[test]
    fn ordinary_html_is_tame() {
        // Long, and sloppy: an <i> left open in every paragraph.
        let article =
            "<p>Some <b>bold</b> and <a href=\"/x\">a link</a>.</p><ul><li>one<li>two</ul>\
                       <p>unclosed <i>italic<p>next<br><img src=x><div>box</div>"
                .repeat(5000);
        assert!(html_is_tame(&article));
        let nested = format!("{}x{}", "<div>".repeat(200), "</div>".repeat(200));
        assert!(html_is_tame(&nested));
    }

    #[test]
    fn deep_or_reopening_html_is_not() {
        let nested = format!("{}x{}", "<div>".repeat(300), "</div>".repeat(300));
        assert!(!html_is_tame(&nested));
        let mut reopen = String::from("<p>");
        for i in 0..100 {
            reopen.push_str(&format!("<b id={i}>"));
        }
        reopen.push_str(&"<p>x".repeat(5000));
        assert!(!html_is_tame(&reopen));
        let unclosed = format!("<p>{}", "<b class=x>".repeat(300));
        assert!(
            html_is_tame(&unclosed),
            "identical ones count at most three times"
        );
        let distinct: String = (0..300).map(|i| format!("<font size={i}>")).collect();
        assert!(!html_is_tame(&distinct));
    }
}
