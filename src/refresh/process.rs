//! The pure core of a refresh: a document's bytes → a [`Processed`] document of
//! cleaned, keyed entries (decode, parse, clean, key), skipping what the
//! store already holds. No I/O: it takes the bytes and `now`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use url::Url;

use crate::clean::{Attributes, Cleaner};
use crate::dedup::entry::{assign_keys, KeyReport};
use crate::model::{Entry, FeedMeta, IdentityMode, KnownEntries, KnownItem};
use crate::parse::{self, ParseError};

/// A parsed, cleaned, keyed document.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Feed-level facts.
    pub meta: FeedMeta,
    /// Entries ready to store.
    pub entries: Vec<Entry>,
    /// Keys of the known entries left out before parsing (see
    /// [`process_with`]): still in the document, unchanged.
    pub kept: Vec<String>,
    /// What key assignment noticed.
    pub keys: KeyReport,
    /// Entries left out because the document had more than
    /// [`parse::MAX_ENTRIES`].
    pub entries_dropped: usize,
    /// What cleaning left out to stay within the document's budget.
    pub cleaning: crate::clean::CleanReport,
    /// The attributes its HTML still carries beyond the sanitizing
    /// policy's (`class` and `id` for the rules' selectors, until
    /// `judge` has run the rules and takes them out).
    pub attributes: Attributes,
}

impl Processed {
    /// Bytes of cleaned HTML (contents and summaries) its entries hold:
    /// at most `HTML_GROWTH` times the decoded document, plus
    /// `DOC_SLACK` and 7 bytes per body (see `clean::growth`).
    pub fn html_bytes(&self) -> usize {
        self.entries
            .iter()
            .map(|e| {
                e.content_html.as_deref().map_or(0, str::len)
                    + e.summary_html.as_deref().map_or(0, str::len)
            })
            .sum()
    }

    /// Bytes of text its entries store: HTML, text, title, URLs, guid,
    /// names and enclosure URLs.
    pub fn stored_bytes(&self) -> usize {
        self.html_bytes()
            + self
                .entries
                .iter()
                .map(|e| {
                    e.title.len()
                        + e.content_text.len()
                        + [&e.url, &e.canonical_url, &e.guid]
                            .into_iter()
                            .flatten()
                            .map(String::len)
                            .sum::<usize>()
                        + e.authors
                            .iter()
                            .chain(&e.categories)
                            .map(String::len)
                            .sum::<usize>()
                        + e.enclosures.iter().map(|x| x.url.len()).sum::<usize>()
                })
                .sum::<usize>()
    }
}

/// Parses, cleans and keys one document (pure CPU work: no I/O).
/// `doc_url` is where it came from; `now` fills in missing dates.
pub fn process(
    body: &[u8],
    content_type: Option<&str>,
    doc_url: Option<&Url>,
    mode: IdentityMode,
    now: DateTime<Utc>,
) -> Result<Processed, ParseError> {
    process_with(
        body,
        content_type,
        doc_url,
        mode,
        now,
        &KnownEntries::default(),
        Attributes::Policy,
    )
}

/// Bumped whenever cleaning changes what it makes of the same raw entry,
/// so that stored entries are cleaned again rather than skipped.
const CLEAN_VERSION: u64 = 1;

/// [`process`], skipping what the store holds already:
/// - entries whose bytes it knows ([`KnownEntries::by_item`]) are left out
///   before the document is parsed (see `parse::skim`); their keys come
///   out in [`Processed::kept`];
/// - entries whose raw form it knows ([`KnownEntries::by_raw`]) skip the
///   costly part of cleaning (sanitizing, text, fingerprint). They come
///   out with [`Entry::content_elided`] set and the stored content hash,
///   so they key exactly as before.
///
/// A changed feed typically has one or two new entries among dozens it
/// had: this is most of the cost of re-fetching it.
///
/// Leaving entries out is undone (the document is read in full) where it
/// could change what the rest become: when the site address the entries
/// were cleaned against changed, or when a new entry shares a guid or a
/// link with a left-out one (key assignment looks at repeats across the
/// whole document).
///
/// `attributes`: what the cleaned HTML keeps beyond the policy (see
/// [`Processed::attributes`]).
pub fn process_with(
    body: &[u8],
    content_type: Option<&str>,
    doc_url: Option<&Url>,
    mode: IdentityMode,
    now: DateTime<Utc>,
    known: &KnownEntries,
    attributes: Attributes,
) -> Result<Processed, ParseError> {
    let by_item = |h: u64| known.by_item.contains_key(&h);
    let nothing = |_: u64| false;
    let mut skipping = !known.by_item.is_empty();
    loop {
        let skim = parse::Skim {
            // Keys depend on the identity mode: a switch reads all anew.
            seed: CLEAN_VERSION ^ ((mode as u64) << 32),
            known: if skipping { &by_item } else { &nothing },
        };
        let parsed =
            parse::parse_skimming(body, content_type, doc_url.map(Url::as_str), Some(&skim))?;
        let site = parsed
            .meta
            .site_url
            .as_deref()
            .and_then(|s| match doc_url {
                Some(d) => d.join(s).ok(),
                None => Url::parse(s).ok(),
            })
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        // An entry repeated byte for byte is one entry, as in key
        // assignment.
        let mut seen = HashSet::new();
        let left_out: Vec<&KnownItem> = parsed
            .skipped
            .iter()
            .filter(|h| seen.insert(**h))
            .filter_map(|h| known.by_item.get(h))
            .collect();
        if !left_out.is_empty() && site.as_ref().map(Url::as_str) != known.site_url.as_deref() {
            skipping = false;
            continue;
        }
        let cleaner = Cleaner::keeping(attributes);
        let item_hashes = &parsed.item_hashes;
        let mut entries: Vec<Entry> = parsed
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, mut raw)| {
                let raw_hash = raw_entry_hash(&raw, doc_url, site.as_ref());
                let stored = known.by_raw.get(&raw_hash).copied();
                if stored.is_some() {
                    raw.summary = None;
                    raw.content = None;
                }
                let mut e = cleaner.entry(raw, doc_url, site.as_ref(), now);
                if let Some(content_hash) = stored {
                    e.content_hash = content_hash;
                    e.content_elided = true;
                }
                e.raw_hash = raw_hash;
                e.item_hash = item_hashes.get(i).copied();
                e
            })
            .collect();
        if shares_identity(&entries, &left_out) {
            skipping = false;
            continue;
        }
        let mut keys = assign_keys(&mut entries, mode);
        if !left_out.is_empty() {
            // An exact repeat of a left-out entry (same key: for entries
            // without guid or link, the same content) goes, as a repeat
            // inside one document does.
            let kept: HashSet<&str> = left_out.iter().map(|k| k.key.as_str()).collect();
            let before = entries.len();
            entries.retain(|e| !kept.contains(e.key.as_str()));
            keys.exact_duplicates += before - entries.len();
        }
        for e in entries.iter_mut().filter(|e| !e.content_elided) {
            let print = crate::dedup::story::fingerprint(e.published_title(), &e.content_text)
                .dated(e.published);
            if print.words() >= crate::dedup::story::MIN_WORDS {
                e.story_print = Some(print.to_bytes().to_vec());
            }
        }
        let mut meta = parsed.meta;
        let text = |s: &str, max: usize| {
            let cut = crate::clean::caps::cut_bytes(s, 16 * max);
            crate::clean::truncate_chars(&crate::clean::inline_text(cut), max)
        };
        meta.title = meta
            .title
            .map(|t| text(&t, crate::clean::MAX_TITLE_CHARS))
            .filter(|t| !t.is_empty());
        meta.description = meta
            .description
            .map(|d| text(&d, crate::clean::MAX_DESCRIPTION_CHARS));
        meta.site_url = site
            .map(String::from)
            .filter(|s| s.len() <= crate::clean::MAX_URL_BYTES);
        return Ok(Processed {
            meta,
            entries,
            kept: left_out.into_iter().map(|k| k.key.clone()).collect(),
            keys,
            entries_dropped: parsed.entries_dropped,
            cleaning: cleaner.report(),
            attributes,
        });
    }
}

/// Whether a new entry shares a guid or a link with an entry left out
/// (which, in the whole document, would have keyed both differently).
fn shares_identity(entries: &[Entry], left_out: &[&KnownItem]) -> bool {
    if left_out.is_empty() {
        return false;
    }
    let guids: HashSet<&str> = left_out.iter().filter_map(|k| k.guid.as_deref()).collect();
    let mut links: HashSet<String> = HashSet::new();
    for url in left_out.iter().filter_map(|k| k.url.as_deref()) {
        if let Some(c) = Url::parse(url)
            .ok()
            .as_ref()
            .and_then(crate::clean::canonical_url)
        {
            links.insert(c);
        }
        links.insert(url.to_string());
    }
    entries.iter().any(|e| {
        e.guid.as_deref().is_some_and(|g| guids.contains(g))
            || [e.url.as_deref(), e.canonical_url.as_deref()]
                .into_iter()
                .flatten()
                .any(|l| links.contains(l))
    })
}

/// The hash of a raw entry together with what cleaning resolves it
/// against: the same value means cleaning would make the same entry.
fn raw_entry_hash(raw: &parse::RawEntry, doc_url: Option<&Url>, site: Option<&Url>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    CLEAN_VERSION.hash(&mut h);
    raw.hash(&mut h);
    doc_url.map(Url::as_str).hash(&mut h);
    site.map(Url::as_str).hash(&mut h);
    h.finish()
}
