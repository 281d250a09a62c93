//! The view model that publishing reads: plain owned values, filled by the
//! caller from the store, with no behaviour beyond small lookups.
//!
//! Fields hold the data as stored; rendering does the format-specific
//! cleaning (see the invariants in the module above), so a caller never has
//! to pre-escape or pre-validate anything.

use chrono::{DateTime, Utc};

use super::{text, Format};

/// One output feed: its own identity and metadata, and the items it shows,
/// newest first as the caller orders them (rendering keeps the order).
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// Stable identity of this output feed, a URI: the Atom `id`. It must
    /// never change once published, or readers see a new feed; a `tag:` URI
    /// from [`TagUri::channel`](super::TagUri::channel) is a good choice.
    pub id: String,
    /// Human title of the feed (plain text).
    pub title: String,
    /// One-line description (plain text): Atom `subtitle`, RSS
    /// `description`, JSON Feed `description`. May be empty.
    pub description: String,
    /// Language tag (RFC 5646, e.g. `en` or `pt-BR`) of the content, if
    /// known; a value that is not a well-formed tag is left out.
    pub language: Option<String>,
    /// Absolute URL of the HTML page that shows this feed, if there is one.
    pub home_page_url: Option<String>,
    /// Absolute URL at which each format of this feed is served, so that
    /// each document names itself (`rel="self"`, `feed_url`) and its siblings.
    pub feed_urls: FeedUrls,
    /// WebSub hubs readers may subscribe to for this feed (`rel="hub"`;
    /// JSON Feed `hubs`), absolute URLs.
    pub hubs: Vec<String>,
    /// When the channel last changed (an item added, edited or removed).
    /// The document's own updated time is the latest of this and its items'
    /// `updated`. Pass a stored time, never the clock, or every render
    /// differs.
    pub updated: DateTime<Utc>,
    /// The software that made the document.
    pub generator: Generator,
    /// The items, in the order they are to appear.
    pub items: Vec<Item>,
}

/// Where each format of a channel is served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedUrls {
    /// URL of the Atom document.
    pub atom: Option<String>,
    /// URL of the RSS document.
    pub rss: Option<String>,
    /// URL of the JSON Feed document.
    pub json_feed: Option<String>,
}

impl FeedUrls {
    /// The URL at which `format` is served, if known.
    pub fn get(&self, format: Format) -> Option<&str> {
        match format {
            Format::Atom => self.atom.as_deref(),
            Format::Rss => self.rss.as_deref(),
            Format::JsonFeed => self.json_feed.as_deref(),
        }
    }
}

/// The software named in the document's `generator`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    /// Product name.
    pub name: String,
    /// Product version, if it should be shown.
    pub version: Option<String>,
    /// Product home page, if any.
    pub url: Option<String>,
}

impl Generator {
    /// This crate, at the version being built.
    pub fn tributary() -> Generator {
        Generator {
            name: "Tributary".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            url: None,
        }
    }
}

impl Default for Generator {
    fn default() -> Generator {
        Generator::tributary()
    }
}

/// One item of the output feed: in practice one story, shown through the
/// article chosen to represent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable identity, a URI (Atom `id`, RSS `guid`, JSON Feed `id`). It
    /// must not change when the item is edited, nor be reused; see
    /// [`TagUri::item`](super::TagUri::item).
    pub id: String,
    /// Title (plain text, not HTML). A blank one is never published: the
    /// source feed's name stands in (see [`Item::shown_title`]).
    pub title: String,
    /// Whether Tributary derived the title (the feed gave none); JSON Feed
    /// says so in `_tributary`.
    pub title_derived: bool,
    /// Language tag of the item, if known; written where it differs from
    /// the channel's.
    pub language: Option<String>,
    /// Absolute URL of the article's page.
    pub url: Option<String>,
    /// The article body as HTML that has already been sanitized.
    pub content_html: Option<String>,
    /// A short plain-text summary. When there is no `content_html`, it also
    /// becomes the body, so every item has one.
    pub summary_text: Option<String>,
    /// When the article was first published.
    pub published: DateTime<Utc>,
    /// When the article last changed.
    pub updated: DateTime<Utc>,
    /// The article's authors. People without a usable name (blank after
    /// cleaning, and no email address) are skipped; when none is left the
    /// source feed is named as the author, since Atom requires an author on
    /// every entry and readers show a byline.
    pub authors: Vec<Person>,
    /// Category or tag names (plain text); blank ones are skipped.
    pub categories: Vec<String>,
    /// Attached media (podcast audio, video, …).
    pub enclosures: Vec<Enclosure>,
    /// The feed the representing article came from.
    pub source: Source,
    /// Other feeds in which the same story was seen, in the order given.
    pub also_in: Vec<Mention>,
}

/// An author.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// Display name (plain text).
    pub name: String,
    /// The person's home page.
    pub url: Option<String>,
    /// Email address; RSS's `author` element can only carry a person who
    /// has one (JSON Feed has no field for it).
    pub email: Option<String>,
}

/// A media file attached to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enclosure {
    /// Absolute URL of the file; an enclosure without a usable URL is left out.
    pub url: String,
    /// Media type such as `audio/mpeg`; when unknown or malformed, RSS and
    /// JSON Feed (which require one) say `application/octet-stream`.
    pub mime_type: Option<String>,
    /// Size in bytes; RSS requires a length and gets `0` when unknown.
    pub length: Option<u64>,
}

/// A subscribed feed, as named in an output item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// A stable URI for the feed (Atom `source/id`): its public URL, or a
    /// `tag:` URI where that may not be published (see
    /// [`TagUri::source`](super::TagUri::source)).
    pub id: Option<String>,
    /// The feed's short, stable name in the configuration.
    pub feed_name: String,
    /// The feed's own title (plain text); `feed_name` stands in when blank.
    pub title: String,
    /// The feed's HTML home page.
    pub site_url: Option<String>,
    /// The feed document's URL; it also identifies the source (Atom
    /// `source/id`).
    pub feed_url: Option<String>,
    /// When the source feed itself says it was last updated, if it does.
    /// Not a fetch time: that would change the output on every fetch.
    pub updated: Option<DateTime<Utc>>,
}

impl Item {
    /// The title as published: the item's own (cleaned, on one line), or,
    /// when that is blank, `From {source}`, so that no reader shows an
    /// empty row.
    pub fn shown_title(&self) -> std::borrow::Cow<'_, str> {
        let title = text::short(&self.title);
        if !title.is_empty() {
            return title;
        }
        let name = text::short(self.source.display_name());
        if name.is_empty() {
            std::borrow::Cow::Borrowed("Untitled")
        } else {
            std::borrow::Cow::Owned(format!("From {name}"))
        }
    }
}

impl Source {
    /// The name to show for this source: its title, or its configured name
    /// when the title is blank.
    pub fn display_name(&self) -> &str {
        if text::is_blank(&self.title) {
            &self.feed_name
        } else {
            &self.title
        }
    }
}

/// The same story as published by another feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mention {
    /// The other feed.
    pub source: Source,
    /// The URL of the story's article in that feed, when it differs from
    /// the item's own; links fall back to the feed's home page.
    pub url: Option<String>,
}
