//! Bytes → feed metadata and raw entries, for RSS 0.9x/1.0/2.0, Atom
//! 0.3/1.0 and JSON Feed 1.0/1.1, with feed-rs doing the format work.
//!
//! Before feed-rs sees a document this module:
//! - **decodes it to UTF-8** itself: byte-order mark, then the XML
//!   declaration, then the HTTP charset (only where the document declares
//!   none), then UTF-8 if valid, else Windows-1252; undecodable bytes become
//!   U+FFFD rather than losing the feed. The declaration is rewritten to say
//!   UTF-8 so nothing decodes twice ([`decode()`], in `parse/decode.rs`);
//! - **adds the leniency everyday readers have**: `<rss>` without (or with an
//!   unknown) `version` is read as RSS 2.0, and Atom text constructs with a
//!   MIME-style `type` (`text/plain`, `application/xhtml+xml`, `HTML`) are
//!   mapped to the three types Atom defines instead of failing the whole feed
//!   (in `parse/lenient.rs`, with the rest of that leniency);
//! - **refuses non-feeds clearly** (an HTML page, an empty body);
//! - **bounds what parsing costs** (see [`limits`]): documents nested deeper
//!   than [`MAX_DEPTH`] are refused, and only the first [`MAX_ENTRIES`]
//!   entries are kept;
//! - **leaves out the entries a caller already has** (see [`skim`]): each
//!   entry's bytes are hashed where the bounding scan found them, and the
//!   entries whose hash the caller knows are cut out before feed-rs reads
//!   the rest.
//!
//! Entries come out as [`RawEntry`]: still-unsanitized HTML, links resolved
//! by feed-rs against `xml:base`/the feed URL, no identity yet (the
//! `clean` and `dedup` modules do that). feed-rs invents a random id for
//! entries without one; we tell it not to, so a missing guid stays missing.
//!
//! A panic inside the parsing libraries is caught here and reported as a
//! parse error of that one feed.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use feed_rs::model::{self, FeedType};
use regex::Regex;

use crate::model::{Enclosure, FeedHints, FeedMeta};

mod authors;
mod decode;
mod lenient;
pub mod limits;
pub mod skim;

pub use decode::decode;
use lenient::{add_orig_links, dc_title, lenient_xml};

pub use limits::{MAX_DEPTH, MAX_ENTRIES};

/// Why a document could not be read as a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body was empty or only whitespace.
    #[error("empty document")]
    Empty,
    /// A web page was served where a feed was expected.
    #[error("not a feed: an HTML page")]
    HtmlPage,
    /// Well-formed input that is no known feed format.
    #[error("not a feed: {0}")]
    NotAFeed(String),
    /// The document is broken.
    #[error("malformed {format}: {message}")]
    Malformed {
        /// `XML` or `JSON`.
        format: &'static str,
        /// What the parser said.
        message: String,
    },
    /// A parsing library panicked on this input (contained).
    #[error("parser crashed on this document: {0}")]
    Panic(String),
}

/// One entry as the document had it, before cleaning.
#[derive(Debug, Clone, Default, PartialEq, Hash)]
pub struct RawEntry {
    /// guid / Atom id / JSON Feed id; `None` when the entry had none.
    pub guid: Option<String>,
    /// The entry's main link (alternate or first), absolute where possible.
    pub link: Option<String>,
    /// The title; `title_is_html` tells whether it may hold markup.
    pub title: Option<String>,
    /// Whether `title` is HTML (Atom `type="html"`/`xhtml`).
    pub title_is_html: bool,
    /// Author names.
    pub authors: Vec<String>,
    /// Summary / description.
    pub summary: Option<String>,
    /// Whether `summary` is plain text rather than HTML.
    pub summary_is_text: bool,
    /// Full content.
    pub content: Option<String>,
    /// Whether `content` is plain text rather than HTML.
    pub content_is_text: bool,
    /// Publication time.
    pub published: Option<DateTime<Utc>>,
    /// Update time.
    pub updated: Option<DateTime<Utc>>,
    /// Category terms (labels where given).
    pub categories: Vec<String>,
    /// Enclosures / attachments / media content.
    pub enclosures: Vec<Enclosure>,
    /// Base URL for relative links in the content (`xml:base`), when set.
    pub base: Option<String>,
    /// The page's real address where the entry names it besides its link:
    /// `feedburner:origLink` (the link is then a redirect wrapper) or a
    /// `rel="canonical"` link.
    pub canonical_link: Option<String>,
}

/// A parsed document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    /// Feed-level facts.
    pub meta: FeedMeta,
    /// Entries in document order.
    pub entries: Vec<RawEntry>,
    /// Entries cut off because the document had more than [`MAX_ENTRIES`].
    pub entries_dropped: usize,
    /// With a [`Skim`]: the hash of each entry's bytes ([`skim`]), one per
    /// entry of `entries`; empty when the document's entries could not be
    /// told apart by their bytes.
    pub item_hashes: Vec<u64>,
    /// With a [`Skim`]: the hashes of the known entries left out, in
    /// document order (they are not in `entries`).
    pub skipped: Vec<u64>,
}

/// How to hash entries' bytes and which of them to leave out (see
/// [`skim`]).
pub struct Skim<'a> {
    /// Mixed into every hash; a new value makes every entry unknown.
    pub seed: u64,
    /// Whether an entry with this hash is known, and may be left out.
    pub known: &'a (dyn Fn(u64) -> bool + std::panic::RefUnwindSafe),
}

/// Parses `body`. `content_type` is the HTTP header (for its charset);
/// `base` is the URL the document came from (for relative links).
pub fn parse(
    body: &[u8],
    content_type: Option<&str>,
    base: Option<&str>,
) -> Result<ParsedFeed, ParseError> {
    parse_skimming(body, content_type, base, None)
}

/// [`parse`], also hashing each entry's bytes and leaving out the entries
/// `skim` knows ([`ParsedFeed::item_hashes`], [`ParsedFeed::skipped`]).
pub fn parse_skimming(
    body: &[u8],
    content_type: Option<&str>,
    base: Option<&str>,
    skim: Option<&Skim<'_>>,
) -> Result<ParsedFeed, ParseError> {
    let result = std::panic::catch_unwind(|| parse_inner(body, content_type, base, skim));
    match result {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(ParseError::Panic(msg))
        }
    }
}

fn parse_inner(
    body: &[u8],
    content_type: Option<&str>,
    base: Option<&str>,
    skim: Option<&Skim<'_>>,
) -> Result<ParsedFeed, ParseError> {
    let text = decode(body, content_type);
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if trimmed.is_empty() {
        return Err(ParseError::Empty);
    }
    let (bounded, format) = if trimmed.starts_with('{') {
        (limits::json(trimmed)?, "JSON")
    } else if trimmed.starts_with('<') {
        let lenient = lenient_xml(trimmed)?;
        let limits::Bounded {
            doc,
            dropped,
            entries,
            items,
        } = limits::xml(&lenient)?;
        let cut = match doc {
            Cow::Owned(cut) => Some(cut),
            Cow::Borrowed(_) => None,
        };
        let doc = cut.map_or(lenient, Cow::Owned);
        let bounded = limits::Bounded {
            doc,
            dropped,
            entries,
            items,
        };
        (bounded, "XML")
    } else if trimmed.starts_with('[') {
        return Err(ParseError::NotAFeed(
            "a JSON array, not a JSON Feed object".into(),
        ));
    } else {
        return Err(ParseError::NotAFeed("neither XML nor JSON".into()));
    };
    let doc = &bounded.doc;
    let Some(skim) = skim else {
        return read(doc, format, base, bounded.dropped);
    };
    let hashes = skim::hashes(doc, &bounded.entries, base, skim.seed);
    let cut: Vec<bool> = hashes.iter().map(|h| (skim.known)(*h)).collect();
    if cut.contains(&true) && skim::cuttable(doc, &bounded.entries) {
        let rest = skim::without(doc, &bounded.entries, &cut, bounded.items.as_ref());
        // Read in full after all where the rest does not read as the
        // entries left (a scan that misjudged the document's shape).
        if let Ok(mut parsed) = read(&rest, format, base, bounded.dropped) {
            let (skipped, kept): (Vec<_>, Vec<_>) = hashes.iter().zip(&cut).partition(|(_, c)| **c);
            if parsed.entries.len() == kept.len() {
                parsed.item_hashes = kept.into_iter().map(|(h, _)| *h).collect();
                parsed.skipped = skipped.into_iter().map(|(h, _)| *h).collect();
                return Ok(parsed);
            }
        }
    }
    let mut parsed = read(doc, format, base, bounded.dropped)?;
    if parsed.entries.len() == hashes.len() {
        parsed.item_hashes = hashes;
    }
    Ok(parsed)
}

/// feed-rs and what this module adds to it, on a bounded document.
fn read(
    doc: &str,
    format: &'static str,
    base: Option<&str>,
    dropped: usize,
) -> Result<ParsedFeed, ParseError> {
    let parser = feed_rs::parser::Builder::new()
        .sanitize_content(false)
        .id_generator(|_, _, _| String::new())
        .base_uri(base)
        .build();
    let feed = if format == "XML" {
        parser.parse(authors::spaced_xml(doc).as_bytes())
    } else {
        // A JSON Feed author name that crashes feed-rs: read again with
        // the names spaced (see `parse/authors.rs`).
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parser.parse(doc.as_bytes())
        }));
        match first {
            Ok(result) => result,
            Err(panic) => match authors::spaced_json(doc) {
                Some(spaced) => parser.parse(spaced.as_bytes()),
                None => std::panic::resume_unwind(panic),
            },
        }
    }
    .map_err(|e| map_error(e, format))?;
    let hints = if format == "XML" {
        scan_hints(doc, feed.ttl)
    } else {
        FeedHints::default()
    };
    let mut parsed = convert(feed, hints);
    parsed.entries_dropped = dropped;
    if format == "XML" && doc.contains("origLink") {
        add_orig_links(doc, &mut parsed.entries);
    }
    if parsed.meta.title.is_none() && format == "XML" {
        parsed.meta.title = dc_title(doc);
    }
    Ok(parsed)
}

fn map_error(e: feed_rs::parser::ParseFeedError, format: &'static str) -> ParseError {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError as E};
    match e {
        E::ParseError(ParseErrorKind::NoFeedRoot) => {
            ParseError::NotAFeed("no RSS, Atom or JSON Feed root element".into())
        }
        E::JsonUnsupportedVersion(v) => {
            ParseError::NotAFeed(format!("unsupported JSON Feed version `{v}`"))
        }
        other => ParseError::Malformed {
            format,
            message: other.to_string(),
        },
    }
}

// ---- hints ----------------------------------------------------------------

static SKIP_HOURS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<skipHours\b[^>]*>(.*?)</skipHours>").expect("valid regex"));
static SKIP_DAYS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<skipDays\b[^>]*>(.*?)</skipDays>").expect("valid regex"));
static INNER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<(?:hour|day)\b[^>]*>\s*([^<]*?)\s*<").expect("valid regex"));
static SY_PERIOD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<sy:updatePeriod\b[^>]*>\s*(\w+)\s*<").expect("valid regex"));
static SY_FREQ: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<sy:updateFrequency\b[^>]*>\s*(\d+)\s*<").expect("valid regex"));

/// Polling hints feed-rs does not model: RSS `skipHours`/`skipDays` and the
/// syndication module's update period.
fn scan_hints(doc: &str, ttl: Option<u32>) -> FeedHints {
    // Hints live in the channel head: stop looking at the first item.
    let head_end = doc
        .find("<item")
        .or_else(|| doc.find("<entry"))
        .unwrap_or(doc.len());
    let head = &doc[..head_end];
    let mut hints = FeedHints {
        ttl_minutes: ttl.filter(|t| *t > 0),
        ..FeedHints::default()
    };
    if let Some(c) = SKIP_HOURS.captures(head) {
        hints.skip_hours = INNER
            .captures_iter(&c[1])
            .filter_map(|h| h[1].parse::<u8>().ok())
            .map(|h| h % 24)
            .collect();
    }
    if let Some(c) = SKIP_DAYS.captures(head) {
        const DAYS: [&str; 7] = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        hints.skip_days = INNER
            .captures_iter(&c[1])
            .filter_map(|d| {
                DAYS.iter()
                    .position(|n| n.eq_ignore_ascii_case(d[1].trim()))
            })
            .map(|i| i as u8)
            .collect();
    }
    if let Some(p) = SY_PERIOD.captures(head) {
        let period: u64 = match p[1].to_ascii_lowercase().as_str() {
            "hourly" => 3600,
            "daily" => 86_400,
            "weekly" => 7 * 86_400,
            "monthly" => 30 * 86_400,
            "yearly" => 365 * 86_400,
            _ => 0,
        };
        let freq: u64 = SY_FREQ
            .captures(head)
            .and_then(|f| f[1].parse().ok())
            .filter(|f| *f > 0)
            .unwrap_or(1);
        if period > 0 {
            hints.update_interval_secs = Some(period / freq);
        }
    }
    hints
}

// ---- feed-rs model → ours -------------------------------------------------

fn convert(feed: model::Feed, hints: FeedHints) -> ParsedFeed {
    let format = match feed.feed_type {
        FeedType::Atom => "atom",
        FeedType::JSON => "json",
        FeedType::RSS0 => "rss0",
        FeedType::RSS1 => "rss1",
        FeedType::RSS2 => "rss2",
    };
    let site_url = pick_link(&feed.links);
    let rel = |name: &str| {
        feed.links
            .iter()
            .find(|l| l.rel.as_deref() == Some(name))
            .map(|l| l.href.trim().to_string())
            .filter(|h| {
                h.len() <= crate::websub::MAX_URL
                    && (h.starts_with("http://") || h.starts_with("https://"))
            })
    };
    let (hub, self_url) = (rel("hub"), rel("self"));
    let meta = FeedMeta {
        hub,
        self_url,
        title: feed
            .title
            .map(|t| t.content)
            .filter(|t| !t.trim().is_empty()),
        site_url,
        description: feed
            .description
            .map(|d| d.content)
            .filter(|d| !d.trim().is_empty()),
        format,
        updated: feed.updated,
        hints,
        language: feed
            .language
            .map(|l| crate::clean::truncate_chars(l.trim(), 35))
            .filter(|l| !l.is_empty()),
    };
    let entries = feed.entries.into_iter().map(convert_entry).collect();
    ParsedFeed {
        meta,
        entries,
        ..ParsedFeed::default()
    }
}

fn pick_link(links: &[model::Link]) -> Option<String> {
    links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| links.iter().find(|l| l.rel.as_deref() != Some("self")))
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty())
}

fn is_text(mime: &mime_type::Mime) -> bool {
    mime.ty == "text" && mime.subty == "plain"
}

/// A tiny view of feed-rs's media type, so the rest of the module does not
/// depend on the `mediatype` crate's API.
mod mime_type {
    pub struct Mime {
        pub ty: String,
        pub subty: String,
    }

    pub fn of(m: &impl std::fmt::Display) -> Mime {
        let s = m.to_string();
        let (ty, subty) = s.split_once('/').unwrap_or((s.as_str(), ""));
        let subty = subty.split(';').next().unwrap_or("").trim();
        Mime {
            ty: ty.trim().to_ascii_lowercase(),
            subty: subty.to_ascii_lowercase(),
        }
    }
}

fn convert_entry(e: model::Entry) -> RawEntry {
    let guid = Some(e.id.trim().to_string()).filter(|s| !s.is_empty());
    let title_is_html = e
        .title
        .as_ref()
        .is_some_and(|t| !is_text(&mime_type::of(&t.content_type)));
    let title = e.title.map(|t| t.content);
    let (summary, summary_is_text) = match e.summary {
        Some(s) => {
            let text = is_text(&mime_type::of(&s.content_type));
            (Some(s.content), text)
        }
        None => (None, false),
    };
    let (content, content_is_text) = match e.content {
        Some(c) => {
            let text = is_text(&mime_type::of(&c.content_type));
            (c.body, text)
        }
        None => (None, false),
    };
    let mut enclosures: Vec<Enclosure> = Vec::new();
    for m in &e.media {
        for c in &m.content {
            if let Some(url) = &c.url {
                let enc = Enclosure {
                    url: url.to_string(),
                    mime_type: c.content_type.as_ref().map(|t| t.to_string()),
                    length: c.size,
                };
                if !enclosures.iter().any(|x| x.url == enc.url) {
                    enclosures.push(enc);
                }
            }
        }
    }
    for l in e
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
    {
        if !enclosures.iter().any(|x| x.url == l.href) {
            enclosures.push(Enclosure {
                url: l.href.clone(),
                mime_type: l.media_type.clone(),
                length: l.length,
            });
        }
    }
    let link = pick_link(&e.links);
    let canonical_link = e
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("canonical"))
        .map(|l| l.href.trim().to_string());
    RawEntry {
        guid,
        link,
        title,
        title_is_html,
        authors: e
            .authors
            .into_iter()
            .filter_map(|p| authors::display_name(p.name, p.email))
            .collect(),
        summary,
        summary_is_text,
        content,
        content_is_text,
        published: e.published,
        updated: e.updated,
        categories: e
            .categories
            .into_iter()
            .map(|c| c.label.unwrap_or(c.term).trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        enclosures,
        base: e.base,
        canonical_link,
    }
}

#[cfg(test)]
mod tests;
