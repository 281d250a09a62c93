//! Syndication formats: renders a [`Channel`] (a plain view of what the store holds for
//! one output feed) as an Atom 1.0, RSS 2.0 or JSON Feed 1.1 document.
//!
//! # Owns
//! - the view model the caller fills ([`Channel`], [`Item`], [`Source`], …);
//! - the three document formats and their media types ([`Format`]);
//! - `tag:` URIs for stable ids ([`TagUri`]).
//!
//! # Must not do
//! Any I/O, store access or clock read. `render` is a pure function of its
//! input: the same [`Channel`] always gives byte-identical output, so the
//! server can derive an ETag from it. The times in the output are the ones
//! the caller passes in.
//!
//! # Invariants, whatever the input holds
//! - XML output is well-formed and the Atom output is valid against the
//!   RFC 4287 schema; JSON output is valid JSON Feed 1.1. Text loses the
//!   characters XML 1.0 forbids plus the other control characters (the same
//!   cleaning in every format, so the formats agree). `<`, `&`, `>` and, in
//!   attributes, quotes are escaped; no CDATA is ever written.
//! - Every URL written is an absolute `http`/`https` URL in RFC 3986 syntax
//!   without credentials; anything else (relative, `javascript:`,
//!   unparseable, longer than 8 KiB) is dropped, and whatever needed it
//!   (an enclosure, a link) is left out.
//! - Dates are clamped to the years 0001–9999 and written in whole seconds,
//!   in UTC: RFC 3339 (`2024-05-01T11:00:00Z`) for Atom and JSON Feed,
//!   RFC 2822 (`Wed, 01 May 2024 11:00:00 GMT`) for RSS.
//! - Every item carries at least one author: its own, or else its source
//!   feed named as the author (see [`Item::authors`]).
//! - An item's other sources ([`Item::also_in`]) are shown as a closing
//!   "Also in: …" paragraph of its HTML in every format, as
//!   `<link rel="related">` in Atom, and as the `_tributary` extension
//!   object in JSON Feed.

mod atom;
mod body;
mod byline;
mod channel;
mod date;
mod href;
mod json_feed;
mod rss;
mod tag;
mod text;
mod xml;

pub use channel::{Channel, Enclosure, FeedUrls, Generator, Item, Mention, Person, Source};
pub use tag::{InvalidTag, TagUri};

/// The document formats a channel is published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Atom 1.0 (RFC 4287).
    Atom,
    /// RSS 2.0, with the Atom and Dublin Core extensions.
    Rss,
    /// JSON Feed 1.1.
    JsonFeed,
}

impl Format {
    /// Every format, in a fixed order (for serving or writing all of them).
    pub const ALL: [Format; 3] = [Format::Atom, Format::Rss, Format::JsonFeed];

    /// The `Content-Type` header value for a document in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::JsonFeed => "application/feed+json; charset=utf-8",
        }
    }

    /// The bare media type, as used in `type` attributes of links.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml",
            Format::Rss => "application/rss+xml",
            Format::JsonFeed => "application/feed+json",
        }
    }

    /// The file name extension (without the dot) for files on disk.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::JsonFeed => "json",
        }
    }

    /// The format whose [`extension`](Format::extension) is `extension`.
    pub fn from_extension(extension: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|format| format.extension() == extension)
    }
}

/// Renders `channel` as one UTF-8 document in `format`.
///
/// Pure and deterministic: no clock, no I/O, and the same input gives the
/// same bytes. The buffer is sized once from the input, so rendering makes
/// no per-item documents.
pub fn render(channel: &Channel, format: Format) -> Vec<u8> {
    let out = Vec::with_capacity(estimated_len(channel));
    match format {
        Format::Atom => atom::write(channel, out),
        Format::Rss => rss::write(channel, out),
        Format::JsonFeed => json_feed::write(channel, out),
    }
}

/// A generous guess of the document's size, so that the buffer is not
/// reallocated: escaping grows markup-dense HTML by about a quarter, and
/// each item carries a few hundred bytes of elements around its text.
fn estimated_len(channel: &Channel) -> usize {
    const PER_DOCUMENT: usize = 2048;
    const PER_ITEM: usize = 1024;
    channel.items.iter().fold(PER_DOCUMENT, |len, item| {
        let html = item.content_html.as_ref().map_or(0, String::len);
        let summary = item.summary_text.as_ref().map_or(0, String::len);
        len + PER_ITEM + html + html / 3 + 2 * summary + item.title.len()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_round_trip_and_differ() {
        for format in Format::ALL {
            assert_eq!(Format::from_extension(format.extension()), Some(format));
            assert!(format.content_type().starts_with(format.media_type()));
        }
        assert_eq!(Format::from_extension("html"), None);
    }
}
