//! Article identity: when two entries are the same page. An entry joins
//! an article already stored (from another feed, or another URL of the
//! same feed) when either key matches, tried in this order:
//!
//! 1. its **canonical URL** (the link without tracking parameters,
//!    fragment or default port: `clean::canonical_url`);
//! 2. its **content hash** (normalized title and text), but only when it
//!    has both a title of its own and text: two untitled or empty items
//!    are not the same page because they are equally empty.
//!
//! The store looks the keys up (`store::articles`); articles carried only
//! by feeds that take no part in merging (`dedup = false`) are never
//! joined.

use crate::model::Entry;

/// How an entry joined an existing article (`entries.match_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchReason {
    /// Same canonical URL.
    CanonicalUrl,
    /// Same title and text.
    ContentHash,
}

impl MatchReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchReason::CanonicalUrl => "canonical_url",
            MatchReason::ContentHash => "content_hash",
        }
    }
}

/// The keys under which `e` may be an article already stored, in the order
/// they are tried (see the module docs); `hash` is its content hash as
/// stored.
pub fn keys<'a>(e: &'a Entry, hash: &'a str) -> Vec<(MatchReason, &'a str)> {
    let mut keys = Vec::with_capacity(2);
    if let Some(c) = &e.canonical_url {
        keys.push((MatchReason::CanonicalUrl, c.as_str()));
    }
    if !e.published_title().is_empty() && !e.content_text.is_empty() {
        keys.push((MatchReason::ContentHash, hash));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyKind;

    fn entry(title: &str, url: Option<&str>, text: &str) -> Entry {
        Entry {
            key: "k".into(),
            key_kind: KeyKind::Guid,
            guid: None,
            url: url.map(String::from),
            canonical_url: url.map(String::from),
            title: title.into(),
            title_derived: false,
            title_original: None,
            authors: vec![],
            summary_html: None,
            content_html: None,
            content_text: text.into(),
            content_hash: 0,
            story_print: None,
            published: chrono::Utc::now(),
            published_from_feed: true,
            updated: None,
            categories: vec![],
            enclosures: vec![],
            raw_hash: 0,
            content_elided: false,
            item_hash: None,
        }
    }

    #[test]
    fn the_link_first_then_the_content_of_a_titled_entry_with_text() {
        let e = entry("Bridge reopens", Some("https://a.example/1"), "Text.");
        assert_eq!(
            keys(&e, "h"),
            [
                (MatchReason::CanonicalUrl, "https://a.example/1"),
                (MatchReason::ContentHash, "h")
            ]
        );
        let linkless = entry("Bridge reopens", None, "Text.");
        assert_eq!(keys(&linkless, "h"), [(MatchReason::ContentHash, "h")]);
        // Equally empty is not the same page.
        assert!(keys(&entry("", None, "Text."), "h").is_empty());
        assert!(keys(&entry("Bridge reopens", None, ""), "h").is_empty());
        let mut derived = entry("Text.", None, "Text.");
        derived.title_derived = true;
        assert!(
            keys(&derived, "h").is_empty(),
            "a title made by Tributary is not the publisher's"
        );
    }
}
