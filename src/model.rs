//! Plain values shared by every stage: ids, entries as the pipeline hands them
//! from parsing to the store, and HTTP validators.
//!
//! Nothing here does I/O or knows about SQL, HTTP or feed formats; the types
//! are the vocabulary of the glossary in the crate docs.

use chrono::{DateTime, Utc};

/// Row id of a feed in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedId(pub i64);

/// Row id of an entry (what one feed published once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(pub i64);

/// Row id of an article (one page, however many feeds carried it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArticleId(pub i64);

/// HTTP cache validators remembered per feed for conditional requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` of the last stored response.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last stored response, verbatim.
    pub last_modified: Option<String>,
}

impl Validators {
    /// True when there is nothing to send in a conditional request.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// Which rung of the identity ladder produced an entry's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// The feed's own guid / Atom id / JSON Feed id.
    Guid,
    /// The entry's link (the guid was missing or untrustworthy).
    Link,
    /// A hash of title and content (neither guid nor link).
    Hash,
}

impl KeyKind {
    /// The name stored in `entries.key_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Guid => "guid",
            KeyKind::Link => "link",
            KeyKind::Hash => "hash",
        }
    }
}

/// How a feed's entries are identified; degrades when a feed's guids prove
/// untrustworthy (see `dedup::entry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdentityMode {
    /// guid → link → hash (the normal ladder).
    #[default]
    Guid,
    /// The feed's guids change on every fetch: link → hash.
    Link,
}

impl IdentityMode {
    /// The name stored in `feeds.identity_mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityMode::Guid => "guid",
            IdentityMode::Link => "link",
        }
    }

    /// Parses the stored name; unknown names fall back to the normal ladder.
    pub fn from_stored(s: &str) -> IdentityMode {
        match s {
            "link" => IdentityMode::Link,
            _ => IdentityMode::Guid,
        }
    }
}

/// A media file attached to an entry (podcast audio, an image).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Enclosure {
    /// Absolute URL of the file.
    pub url: String,
    /// MIME type as the feed declared it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mime_type: Option<String>,
    /// Size in bytes as the feed declared it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub length: Option<u64>,
}

/// One entry after parsing and cleaning: what the store receives.
///
/// All HTML is already sanitized, all strings are free of characters that
/// XML forbids, and all times are UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Identity within its feed (the `UNIQUE(feed_id, entry_key)` value).
    pub key: String,
    /// Which rung of the ladder produced `key`.
    pub key_kind: KeyKind,
    /// The guid/id as published, when there was one.
    pub guid: Option<String>,
    /// The link as published (resolved to an absolute URL).
    pub url: Option<String>,
    /// `url` with tracking parameters, fragment and default port removed;
    /// the key that merges the same page seen through several feeds.
    pub canonical_url: Option<String>,
    /// Plain-text title (entities decoded, tags removed); when the feed
    /// gave none, one derived from the text or link (`title_derived`).
    pub title: String,
    /// True when `title` was derived by Tributary, not published.
    pub title_derived: bool,
    /// The title as the document had it (markup and entities included),
    /// when that differs from `title`.
    pub title_original: Option<String>,
    /// Author names, in feed order.
    pub authors: Vec<String>,
    /// Sanitized HTML summary, when the feed had one besides the content.
    pub summary_html: Option<String>,
    /// Sanitized HTML content (or the summary when that is all there was).
    pub content_html: Option<String>,
    /// Plain text of the content, for search and fingerprints.
    pub content_text: String,
    /// Hash of the normalized title + text; equal hashes mean equal content.
    pub content_hash: u64,
    /// Encoded near-duplicate fingerprint (see `dedup::story`); `None` when
    /// the text is too short to compare.
    pub story_print: Option<Vec<u8>>,
    /// Publication time (UTC); the first-seen time when the feed had none.
    pub published: DateTime<Utc>,
    /// True when `published` came from the feed, false when it was filled in.
    pub published_from_feed: bool,
    /// Last-updated time as the feed stated it.
    pub updated: Option<DateTime<Utc>>,
    /// Category terms.
    pub categories: Vec<String>,
    /// Attached media.
    pub enclosures: Vec<Enclosure>,
    /// Hash of the entry as the document had it (before cleaning), with
    /// the addresses its links resolve against: equal hashes mean cleaning
    /// would give the same entry again (see `refresh::process_with`).
    pub raw_hash: u64,
    /// True when the store already holds this very entry (same raw hash)
    /// and cleaning was skipped: summary, content, text and fingerprint
    /// are left empty and `content_hash` is the stored one. The store only
    /// accepts such an entry where it finds it unchanged.
    pub content_elided: bool,
    /// Hash of the entry's bytes as the document had them, in context (see
    /// `parse::skim`); `None` when the document's entries could not be
    /// told apart by their bytes.
    pub item_hash: Option<u64>,
}

impl Entry {
    /// The title as the publisher gave it (plain text): empty when
    /// [`Entry::title`] was derived. Identity and likeness read this one,
    /// so that deriving a title changes neither.
    pub fn published_title(&self) -> &str {
        if self.title_derived {
            ""
        } else {
            &self.title
        }
    }
}

/// What a feed's store already holds, for a re-fetch to skip.
#[derive(Debug, Clone, Default)]
pub struct KnownEntries {
    /// Raw hashes of the stored entries, each with its content hash
    /// ([`Entry::raw_hash`] → [`Entry::content_hash`]): the entries a
    /// re-fetch need not clean again.
    pub by_raw: std::collections::HashMap<u64, u64>,
    /// Item hashes of the stored entries ([`Entry::item_hash`]): the
    /// entries a re-fetch need not even parse.
    pub by_item: std::collections::HashMap<u64, KnownItem>,
    /// The site address stored for the feed, which the entries left out
    /// were cleaned against.
    pub site_url: Option<String>,
    /// Keys of entries a rule dropped (their hashes are in `by_raw` and
    /// `by_item` too): they are not judged again.
    pub dropped: std::collections::HashSet<String>,
}

/// A stored entry as a re-fetch that leaves it out needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownItem {
    /// Its key.
    pub key: String,
    /// Its guid, as stored.
    pub guid: Option<String>,
    /// Its link, as stored.
    pub url: Option<String>,
}

impl KnownEntries {
    /// Whether nothing is known (a first fetch).
    pub fn is_empty(&self) -> bool {
        self.by_raw.is_empty() && self.by_item.is_empty()
    }
}

/// Publisher hints a feed document carries about how often to poll it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedHints {
    /// RSS `<ttl>` in minutes.
    pub ttl_minutes: Option<u32>,
    /// RSS `<skipHours>` (0–23, GMT).
    pub skip_hours: Vec<u8>,
    /// RSS `<skipDays>` as weekday numbers, Monday = 0.
    pub skip_days: Vec<u8>,
    /// `sy:updatePeriod` / `sy:updateFrequency` as an interval in seconds.
    pub update_interval_secs: Option<u64>,
}

/// Feed-level metadata from the document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedMeta {
    /// The feed's title.
    pub title: Option<String>,
    /// The web site the feed belongs to.
    pub site_url: Option<String>,
    /// The feed's description / subtitle (plain text).
    pub description: Option<String>,
    /// Which format it was (`rss2`, `atom`, `json`, `rss1`, `rss0`).
    pub format: &'static str,
    /// When the document says the feed was last updated.
    pub updated: Option<DateTime<Utc>>,
    /// Polling hints.
    pub hints: FeedHints,
    /// The language the document declares (RSS `<language>`, Atom
    /// `xml:lang`, JSON Feed `language`), as written: what rules match
    /// `language` on, and what the outputs carry (publishing checks its
    /// shape).
    pub language: Option<String>,
    /// The WebSub hub the document names (`<link rel="hub">`), absolute.
    pub hub: Option<String>,
    /// The feed's own URL as the document names it (`<link rel="self">`),
    /// absolute: the topic to subscribe to at the hub.
    pub self_url: Option<String>,
}

/// What a digest is: which one, when it was made and the period it
/// covers. The digest as built (`digest::Digest`) and as stored
/// (`store::NewDigest`) both carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestHead {
    /// Digest name.
    pub name: String,
    /// Heading.
    pub title: String,
    /// When it was made.
    pub made_at: DateTime<Utc>,
    /// Start of the period (the previous digest), when there was one.
    pub period_start: Option<DateTime<Utc>>,
    /// End of the period.
    pub period_end: DateTime<Utc>,
    /// The last article id the period covers (the next digest starts
    /// after it).
    pub last_article_id: i64,
}

/// A feed as the configuration defines it: what the store reconciles its
/// feeds table to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSpec {
    /// Unique name.
    pub name: String,
    /// The configured URL.
    pub url: String,
    /// Tags, lower-case.
    pub tags: Vec<String>,
    /// Whether its entries take part in cross-feed merging.
    pub dedup: bool,
}

/// In which order an output lists its items, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OutputOrder {
    /// By when Tributary first stored the article. A feed added today with
    /// years of back-dated entries cannot push today's news out of the river.
    #[default]
    FirstSeen,
    /// By the publication date the feed gave.
    Published,
}

impl OutputOrder {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputOrder::FirstSeen => "first_seen",
            OutputOrder::Published => "published",
        }
    }
}
