//! JSON Feed 1.1 documents, serialized by serde straight into the output
//! buffer: the structs below borrow from the channel and items are
//! produced one at a time while the array is written.
//!
//! Tributary's own data goes in the `_tributary` extension object of each
//! item (JSON Feed's rule for extensions: a key starting with `_`):
//! `source` (the feed the item was taken from: `id`, `feed_name`, `title`,
//! `site_url`, `feed_url`, `updated`), `also_in` (other feeds that carried
//! the same story, each with the article `url` there) and `title_derived`
//! (present when the feed gave no title and Tributary made one).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::body::{body, Body};
use super::byline::{bylines, Byline};
use super::channel::{Channel, Enclosure, Item, Mention, Source};
use super::{date, href, text, Format};

const VERSION: &str = "https://jsonfeed.org/version/1.1";

/// Writes `channel` as a JSON Feed document into `out`.
pub(crate) fn write(channel: &Channel, mut out: Vec<u8>) -> Vec<u8> {
    let feed = Feed {
        version: VERSION,
        title: text::clean(&channel.title),
        home_page_url: channel.home_page_url.as_deref().and_then(href::web_url),
        feed_url: channel
            .feed_urls
            .get(Format::JsonFeed)
            .and_then(href::web_url),
        description: Some(&channel.description)
            .filter(|d| !text::is_blank(d))
            .map(|d| text::clean(d)),
        language: channel.language.as_deref().and_then(text::language),
        hubs: channel
            .hubs
            .iter()
            .filter_map(|h| href::web_url(h))
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .collect(),
        items: Items(
            &channel.items,
            channel.language.as_deref().and_then(text::language),
        ),
    };
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"  ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Nothing here can fail: the sink is a Vec, every map key is a string,
    // and the Display impls used never return an error.
    feed.serialize(&mut serializer)
        .expect("serializing a feed into a Vec<u8> cannot fail");
    out.push(b'\n');
    out
}

#[derive(Serialize)]
struct Feed<'a> {
    version: &'static str,
    title: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    home_page_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Items<'a>,
}

/// A WebSub hub of the feed (JSON Feed `hubs`).
#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: Cow<'a, str>,
}

/// The items, each turned into its JSON shape only while it is written,
/// with the feed's language (items name theirs only where it differs).
struct Items<'a>(&'a [Item], Option<Cow<'a, str>>);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .iter()
                .map(|item| JsonItem::new(item, self.1.as_deref())),
        )
    }
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Cow<'a, str>>,
    title: Cow<'a, str>,
    content_html: Html<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Cow<'a, str>>,
    date_published: Rfc3339,
    date_modified: Rfc3339,
    authors: Authors<'a>,
    #[serde(skip_serializing_if = "Tags::is_empty")]
    tags: Tags<'a>,
    #[serde(skip_serializing_if = "Attachments::is_empty")]
    attachments: Attachments<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<Cow<'a, str>>,
    #[serde(rename = "_tributary")]
    extension: Extension<'a>,
}

impl<'a> JsonItem<'a> {
    fn new(item: &'a Item, language: Option<&str>) -> JsonItem<'a> {
        let non_blank = |s: &'a str| (!text::is_blank(s)).then(|| text::clean(s));
        JsonItem {
            id: text::clean(&item.id),
            url: item.url.as_deref().and_then(href::web_url),
            title: item.shown_title(),
            content_html: Html(body(item)),
            summary: item.summary_text.as_deref().and_then(non_blank),
            date_published: Rfc3339(item.published),
            date_modified: Rfc3339(item.updated),
            authors: Authors(item),
            tags: Tags(&item.categories),
            attachments: Attachments(&item.enclosures),
            language: item
                .language
                .as_deref()
                .and_then(text::language)
                .filter(|own| Some(own.as_ref()) != language),
            extension: Extension {
                title_derived: item.title_derived,
                source: JsonSource::new(&item.source, None),
                also_in: Mentions(&item.also_in),
            },
        }
    }
}

/// The item body, streamed into the JSON string without being joined first.
struct Html<'a>(Body<'a>);

impl Serialize for Html<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

struct Rfc3339(DateTime<Utc>);

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&date::rfc3339(self.0))
    }
}

struct Authors<'a>(&'a Item);

impl Serialize for Authors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(bylines(self.0).map(JsonAuthor::new))
    }
}

/// JSON Feed has no email field; the name is never blank, which also
/// satisfies the schema's "at least one property".
#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Cow<'a, str>>,
}

impl<'a> JsonAuthor<'a> {
    fn new(byline: Byline<'a>) -> JsonAuthor<'a> {
        JsonAuthor {
            name: byline.name,
            url: byline.url,
        }
    }
}

struct Tags<'a>(&'a [String]);

impl Tags<'_> {
    fn names(&self) -> impl Iterator<Item = Cow<'_, str>> {
        self.0
            .iter()
            .map(|c| text::short(c))
            .filter(|c| !c.is_empty())
    }

    fn is_empty(&self) -> bool {
        self.names().next().is_none()
    }
}

impl Serialize for Tags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

struct Attachments<'a>(&'a [Enclosure]);

impl Attachments<'_> {
    fn usable(&self) -> impl Iterator<Item = JsonAttachment<'_>> {
        self.0.iter().filter_map(|enclosure| {
            Some(JsonAttachment {
                url: href::web_url(&enclosure.url)?,
                mime_type: enclosure
                    .mime_type
                    .as_deref()
                    .and_then(text::media_type)
                    .unwrap_or(text::UNKNOWN_MEDIA_TYPE),
                size_in_bytes: enclosure.length,
            })
        })
    }

    fn is_empty(&self) -> bool {
        self.usable().next().is_none()
    }
}

impl Serialize for Attachments<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.usable())
    }
}

#[derive(Serialize)]
struct JsonAttachment<'a> {
    url: Cow<'a, str>,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
}

#[derive(Serialize)]
struct Extension<'a> {
    /// Present (and true) when Tributary derived the title.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    title_derived: bool,
    source: JsonSource<'a>,
    #[serde(skip_serializing_if = "Mentions::is_empty")]
    also_in: Mentions<'a>,
}

struct Mentions<'a>(&'a [Mention]);

impl Mentions<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Mentions<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.0
                .iter()
                .map(|m| JsonSource::new(&m.source, m.url.as_deref())),
        )
    }
}

/// A source feed; `url` is the story's article in that feed (mentions only).
#[derive(Serialize)]
struct JsonSource<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Cow<'a, str>>,
    feed_name: Cow<'a, str>,
    title: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<Rfc3339>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Cow<'a, str>>,
}

impl<'a> JsonSource<'a> {
    fn new(source: &'a Source, url: Option<&'a str>) -> JsonSource<'a> {
        JsonSource {
            id: source.id.as_deref().map(text::short),
            feed_name: text::short(&source.feed_name),
            title: text::short(source.display_name()),
            site_url: source.site_url.as_deref().and_then(href::web_url),
            feed_url: source.feed_url.as_deref().and_then(href::web_url),
            updated: source.updated.map(Rfc3339),
            url: url.and_then(href::web_url),
        }
    }
}
