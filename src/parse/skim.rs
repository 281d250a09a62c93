//! Known entries left out by their bytes, before feed-rs reads a document.
//!
//! A feed that changed usually changed by a few entries: the other forty
//! or fifty are byte for byte what the store already holds. Reading them
//! again costs most of a re-fetch (feed-rs builds every entry in full,
//! then cleaning sees each one). So each entry's bytes are hashed where the
//! bounding scan ([`super::limits`]) found them; the caller stores that
//! hash with the entry ([`crate::model::Entry::item_hash`]), and on the
//! next fetch the entries whose hash it knows are cut out of the document
//! before it is parsed. feed-rs then reads the channel head and the new
//! entries only.
//!
//! An entry's hash covers what its meaning depends on besides its own
//! bytes: the start tags of the elements around it (namespace prefixes,
//! `xml:base`), the URL the document came from, and a `seed` the caller
//! bumps when cleaning changes. What it cannot cover, the caller checks
//! after parsing (the site address the head declares, and identities a new
//! entry shares with a left-out one; see `refresh::process_with`).
//!
//! Documents with a DTD are never cut: an internal entity declared in the
//! head could change what an entry's bytes stand for.

use std::hash::Hasher;

use super::limits::EntrySpan;

/// Hashes of each entry's bytes in context, in document order.
pub(super) fn hashes(doc: &str, spans: &[EntrySpan], base: Option<&str>, seed: u64) -> Vec<u64> {
    spans
        .iter()
        .map(|s| {
            let mut h = xxhash_rust::xxh3::Xxh3::with_seed(seed);
            h.write(base.unwrap_or("").as_bytes());
            h.write_u8(0xff);
            for c in &s.context {
                h.write(doc[c.clone()].as_bytes());
                h.write_u8(0xff);
            }
            h.write(doc[s.at.clone()].as_bytes());
            h.finish()
        })
        .collect()
}

/// Whether `doc` may be cut at all: no DTD before the first entry.
pub(super) fn cuttable(doc: &str, spans: &[EntrySpan]) -> bool {
    let head = spans.first().map_or(doc, |s| &doc[..s.at.start]);
    !head.contains("<!DOCTYPE") && !head.contains("<!doctype")
}

/// `doc` without the entries `cut` marks. `items` is, for JSON, the inside
/// of the `items` array, which is rebuilt from the kept entries (commas
/// included); XML entries are simply left out.
pub(super) fn without(
    doc: &str,
    spans: &[EntrySpan],
    cut: &[bool],
    items: Option<&std::ops::Range<usize>>,
) -> String {
    let mut out = String::with_capacity(doc.len() / 4);
    match items {
        Some(items) => {
            out.push_str(&doc[..items.start]);
            let kept = spans.iter().zip(cut).filter(|(_, c)| !**c);
            for (i, (s, _)) in kept.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&doc[s.at.clone()]);
            }
            out.push_str(&doc[items.end..]);
        }
        None => {
            let mut from = 0;
            for (s, _) in spans.iter().zip(cut).filter(|(_, c)| **c) {
                out.push_str(&doc[from..s.at.start]);
                from = s.at.end;
            }
            out.push_str(&doc[from..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use crate::parse::{parse_skimming, ParsedFeed, Skim};

    fn read(doc: &str, base: &str, known: &HashSet<u64>) -> ParsedFeed {
        let is_known = |h: u64| known.contains(&h);
        let skim = Skim {
            seed: 7,
            known: &is_known,
        };
        parse_skimming(doc.as_bytes(), None, Some(base), Some(&skim)).unwrap()
    }

    fn titles(p: &ParsedFeed) -> Vec<&str> {
        p.entries
            .iter()
            .filter_map(|e| e.title.as_deref())
            .collect()
    }

    const BASE: &str = "https://f.example/feed";

    /// The same entries in RSS 2.0, RSS 1.0, Atom and JSON Feed, with a
    /// head that says `head` (which changes between fetches).
    fn docs(head: &str, titles: &[&str]) -> Vec<String> {
        let rss2: String = titles
            .iter()
            .map(|t| format!("<item><guid>{t}</guid><title>{t}</title></item>\n"))
            .collect();
        let rss1: String = titles
            .iter()
            .map(|t| format!("<item rdf:about=\"https://f.example/{t}\"><title>{t}</title><link>https://f.example/{t}</link></item>\n"))
            .collect();
        let atom: String = titles
            .iter()
            .map(|t| format!("<entry><id>urn:{t}</id><title>{t}</title><updated>2026-11-20T10:00:00Z</updated></entry>\n"))
            .collect();
        let json: Vec<String> = titles
            .iter()
            .map(|t| {
                format!(
                    "{{\"id\": \"{t}\", \"title\": \"{t}\", \"content_text\": \"[{t}], {{x}}\"}}"
                )
            })
            .collect();
        vec![
            format!("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>{head}</title>\n{rss2}</channel></rss>"),
            format!("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:about=\"https://f.example/\"><title>{head}</title><link>https://f.example/</link></channel>\n{rss1}</rdf:RDF>"),
            format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{head}</title><id>urn:f</id><updated>2026-11-20T10:00:00Z</updated>\n{atom}</feed>"),
            format!("{{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"{head}\", \"items\": [\n  {}\n], \"home_page_url\": \"https://f.example/\"}}", json.join(",\n  ")),
        ]
    }

    #[test]
    fn known_entries_are_left_out_in_every_format_and_the_rest_reads_as_before() {
        let before = docs("Monday", &["a", "b", "c"]);
        let after = docs("Tuesday", &["new", "a", "b", "c"]);
        for (old, new) in before.iter().zip(&after) {
            let first = read(old, BASE, &HashSet::new());
            assert_eq!(titles(&first), ["a", "b", "c"], "{old}");
            assert_eq!(first.item_hashes.len(), 3);
            assert!(first.skipped.is_empty());

            let known: HashSet<u64> = first.item_hashes.iter().copied().collect();
            let second = read(new, BASE, &known);
            assert_eq!(titles(&second), ["new"], "{new}");
            assert_eq!(second.skipped, first.item_hashes);
            assert_eq!(second.meta.title.as_deref(), Some("Tuesday"));
            // What was read matches a full read of the same document.
            let full = read(new, BASE, &HashSet::new());
            assert_eq!(full.entries[0], second.entries[0]);
            assert_eq!(full.item_hashes[0], second.item_hashes[0]);
            assert_eq!(full.meta, second.meta);
        }
    }

    #[test]
    fn an_entrys_hash_covers_its_bytes_its_surroundings_and_the_documents_address() {
        let hashes = |doc: &str, base: &str| read(doc, base, &HashSet::new()).item_hashes;
        let rss = docs("Monday", &["a", "b"]).remove(0);
        let h = hashes(&rss, BASE);
        assert_eq!(h.len(), 2);
        assert_ne!(h[0], h[1]);
        assert_eq!(hashes(&rss.replace("Monday", "Tuesday"), BASE), h);
        assert_ne!(hashes(&rss, "https://other.example/feed"), h);
        // A namespace or base declared on the root changes what the
        // entries' bytes mean.
        let declared = rss.replace(
            "<rss version=\"2.0\">",
            "<rss version=\"2.0\" xml:base=\"https://f.example/x/\">",
        );
        assert_ne!(hashes(&declared, BASE), h);
        let edited = rss.replace("<title>b</title>", "<title>b!</title>");
        let e = hashes(&edited, BASE);
        assert_eq!((e[0] == h[0], e[1] == h[1]), (true, false));
    }

    #[test]
    fn documents_with_a_dtd_or_too_many_entries_are_read_whole_or_safely() {
        let rss = docs("Monday", &["a", "b"]).remove(0);
        let known: HashSet<u64> = read(&rss, BASE, &HashSet::new())
            .item_hashes
            .into_iter()
            .collect();
        let dtd = rss.replace(
            "<rss version",
            "<!DOCTYPE rss [<!ENTITY x \"y\">]>\n<rss version",
        );
        let p = read(&dtd, BASE, &known);
        assert_eq!((titles(&p), p.skipped.len()), (vec!["a", "b"], 0));

        let many: Vec<String> = (0..crate::parse::MAX_ENTRIES + 2)
            .map(|i| format!("e{i}"))
            .collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let big = docs("Monday", &refs).remove(2);
        let first = read(&big, BASE, &HashSet::new());
        assert_eq!(first.entries_dropped, 2);
        assert_eq!(first.item_hashes.len(), crate::parse::MAX_ENTRIES);
        let known: HashSet<u64> = first.item_hashes[1..].iter().copied().collect();
        let again = read(&big, BASE, &known);
        assert_eq!(titles(&again), ["e0"]);
        assert_eq!(again.entries_dropped, 2);
    }
}
