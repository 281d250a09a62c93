//! Entry identity: the key that makes re-fetching a feed never add a row.
//!
//! The ladder, per entry: **guid** (RSS guid, Atom id, JSON Feed id) →
//! **link** (canonical form) → **hash** of title and content. Two ways a
//! feed's guids can lie are handled:
//! - a guid repeated inside one document (templating bugs, "guid = site
//!   URL"): those entries are keyed by guid plus link (or content hash), so
//!   distinct items stay distinct and the key is still stable across fetches;
//! - guids that change on every fetch: detected by the store (a new guid
//!   with a known link and title) which then switches the feed to
//!   [`IdentityMode::Link`], where the ladder starts at the link, once
//!   [`switches_to_links`] says the changes are many enough.
//!
//! A link repeated inside one document (every item pointing at the home
//! page) likewise gets the content hash appended.

use std::collections::HashMap;

use crate::model::{Entry, IdentityMode, KeyKind};

/// Entries of one fetch seen under new guids (same link and title as a
/// stored entry) that switch the feed to link identity: one could be a
/// publisher's correction, two in one fetch is a feed that regenerates
/// its guids.
pub const GUID_CHANGES_TO_SWITCH: usize = 2;

/// Whether a fetch in which `guid_changes` entries changed guid switches
/// its feed to [`IdentityMode::Link`].
pub fn switches_to_links(guid_changes: usize) -> bool {
    guid_changes >= GUID_CHANGES_TO_SWITCH
}

/// What key assignment noticed about a document.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyReport {
    /// Entries whose guid appeared more than once in the document.
    pub repeated_guids: usize,
    /// Entries whose link appeared more than once (when keyed by link).
    pub repeated_links: usize,
    /// Entries dropped because an identical entry (same key) came earlier
    /// in the same document.
    pub exact_duplicates: usize,
}

/// Assigns `key` and `key_kind` to every entry of one document; entries
/// that are exact repeats of an earlier one in the same document are
/// removed.
pub fn assign_keys(entries: &mut Vec<Entry>, mode: IdentityMode) -> KeyReport {
    let mut report = KeyReport::default();
    let mut guid_count: HashMap<&str, usize> = HashMap::new();
    let mut link_count: HashMap<&str, usize> = HashMap::new();
    for e in entries.iter() {
        if let Some(g) = e.guid.as_deref() {
            *guid_count.entry(g).or_default() += 1;
        }
        if let Some(l) = link_of(e) {
            *link_count.entry(l).or_default() += 1;
        }
    }
    let keys: Vec<(String, KeyKind)> = entries
        .iter()
        .map(|e| {
            let hash = format!("{:016x}", e.content_hash);
            let by_link = |report: &mut KeyReport| -> Option<(String, KeyKind)> {
                let l = link_of(e)?;
                if link_count[l] > 1 {
                    report.repeated_links += 1;
                    Some((format!("link:{l}|{hash}"), KeyKind::Link))
                } else {
                    Some((format!("link:{l}"), KeyKind::Link))
                }
            };
            let by_guid = |report: &mut KeyReport| -> Option<(String, KeyKind)> {
                let g = e.guid.as_deref()?;
                if guid_count[g] > 1 {
                    report.repeated_guids += 1;
                    let suffix = link_of(e)
                        .filter(|l| link_count[l] == 1)
                        .map_or(hash.clone(), str::to_string);
                    Some((format!("guid:{g}|{suffix}"), KeyKind::Guid))
                } else {
                    Some((format!("guid:{g}"), KeyKind::Guid))
                }
            };
            let found = match mode {
                IdentityMode::Guid => by_guid(&mut report).or_else(|| by_link(&mut report)),
                IdentityMode::Link => by_link(&mut report).or_else(|| by_guid(&mut report)),
            };
            found.unwrap_or_else(|| (format!("hash:{hash}"), KeyKind::Hash))
        })
        .collect();
    let mut seen: HashMap<String, ()> = HashMap::with_capacity(keys.len());
    let mut keep = Vec::with_capacity(entries.len());
    for (e, (key, kind)) in entries.drain(..).zip(keys) {
        if seen.insert(key.clone(), ()).is_some() {
            report.exact_duplicates += 1;
            continue;
        }
        keep.push(Entry {
            key,
            key_kind: kind,
            ..e
        });
    }
    *entries = keep;
    report
}

fn link_of(e: &Entry) -> Option<&str> {
    e.canonical_url.as_deref().or(e.url.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::content_hash;
    use chrono::Utc;

    fn entry(guid: Option<&str>, link: Option<&str>, title: &str) -> Entry {
        Entry {
            key: String::new(),
            key_kind: KeyKind::Hash,
            guid: guid.map(str::to_string),
            url: link.map(str::to_string),
            canonical_url: link.map(str::to_string),
            title: title.to_string(),
            title_derived: false,
            title_original: None,
            authors: vec![],
            summary_html: None,
            content_html: None,
            content_text: String::new(),
            content_hash: content_hash(title, ""),
            story_print: None,
            published: Utc::now(),
            published_from_feed: false,
            updated: None,
            categories: vec![],
            enclosures: vec![],
            raw_hash: 0,
            content_elided: false,
            item_hash: None,
        }
    }

    fn keys(v: &[Entry]) -> Vec<&str> {
        v.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn ladder_guid_then_link_then_hash() {
        let mut v = vec![
            entry(Some("g1"), Some("https://e.com/1"), "a"),
            entry(None, Some("https://e.com/2"), "b"),
            entry(None, None, "c"),
        ];
        assign_keys(&mut v, IdentityMode::Guid);
        assert_eq!(v[0].key, "guid:g1");
        assert_eq!(v[1].key, "link:https://e.com/2");
        assert_eq!(v[1].key_kind, KeyKind::Link);
        assert_eq!(v[2].key, format!("hash:{:016x}", content_hash("c", "")));
    }

    #[test]
    fn repeated_guid_degrades_to_guid_plus_link() {
        let mut v = vec![
            entry(Some("same"), Some("https://e.com/1"), "a"),
            entry(Some("same"), Some("https://e.com/2"), "b"),
        ];
        let r = assign_keys(&mut v, IdentityMode::Guid);
        assert_eq!(r.repeated_guids, 2);
        assert_eq!(
            keys(&v),
            vec!["guid:same|https://e.com/1", "guid:same|https://e.com/2"]
        );
    }

    #[test]
    fn keys_are_stable_under_reordering() {
        let mk = || {
            vec![
                entry(Some("same"), Some("https://e.com/1"), "a"),
                entry(Some("same"), None, "b"),
                entry(None, Some("https://e.com/home"), "c"),
                entry(None, Some("https://e.com/home"), "d"),
                entry(None, None, "e"),
            ]
        };
        let mut a = mk();
        assign_keys(&mut a, IdentityMode::Guid);
        let mut b = mk();
        b.reverse();
        assign_keys(&mut b, IdentityMode::Guid);
        let mut ka: Vec<_> = keys(&a).into_iter().map(String::from).collect();
        let mut kb: Vec<_> = keys(&b).into_iter().map(String::from).collect();
        ka.sort();
        kb.sort();
        assert_eq!(ka, kb);
        assert_eq!(ka.len(), 5);
    }

    #[test]
    fn exact_repeats_in_one_document_are_dropped() {
        let mut v = vec![entry(None, None, "x"), entry(None, None, "x")];
        let r = assign_keys(&mut v, IdentityMode::Guid);
        assert_eq!(v.len(), 1);
        assert_eq!(r.exact_duplicates, 1);
    }

    #[test]
    fn link_mode_prefers_links() {
        let mut v = vec![entry(Some("random-123"), Some("https://e.com/1"), "a")];
        assign_keys(&mut v, IdentityMode::Link);
        assert_eq!(v[0].key, "link:https://e.com/1");
    }
}
