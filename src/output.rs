//! Outputs: the combined feeds Tributary republishes, built from the
//! configuration and the store and rendered by [`crate::syndication`].
//!
//! # Owns
//! - [`Site`]: the configured outputs, where each is published
//!   (`/feed.atom`, `/feeds/{name}.rss`, …) and how their ids are minted;
//! - turning stored stories into a [`Channel`] (pure, in `item`);
//! - the HTML index page (pure, in `page`);
//! - the static copy on disk ([`write_static`], in `files`).
//!
//! # Must not do
//! SQL (the store answers [`Store::output_stories`]) or HTTP (the `server`
//! module serves what this module renders).
//!
//! # Ids that never change
//! A channel's id is `tag:{authority},{date}:channel/{name}` and an item's
//! `tag:{authority},{date}:item/{article id}`, where the authority is the
//! host of `[server] base_url` (or `[river] id_authority`) and the date
//! `[river] id_date` (default 2026). The article id is the store's row
//! id of the story's lead article: it survives restarts, re-renders and
//! edits of the article's content, and is never reused, so a reader never
//! sees an item twice nor two items under one id. Changing the authority
//! or the date changes every id: pin `id_authority` before moving hosts.
//!
//! # Determinism
//! Rendering reads no clock: a channel's `updated` time is the latest
//! stored time among its items (arrivals and content changes), so the same
//! store gives the same bytes, and an ETag derived from them is stable.

mod digests;
mod files;
pub(crate) mod item;
mod page;
mod search;

use chrono::{DateTime, Utc};
use url::Url;

pub use files::{write_static, WriteError, Written};
pub use item::public_feed_url;

use crate::config::{Config, OutputConfig, PublishConfig, DEFAULT_OUTPUT};
use crate::store::{self, LabelQuery, OutputQuery, OutputStory, Store};
use crate::syndication::{self, Channel, FeedUrls, Format, Generator};

/// Items of the default output listed on the index page.
pub const INDEX_ITEMS: usize = 30;

/// Everything republished: the outputs, where they live, their ids.
#[derive(Debug, Clone)]
pub struct Site {
    /// Public URL of the root, ending in `/`.
    pub base_url: Url,
    /// Outputs and ids.
    pub publish: PublishConfig,
    /// Digest names and titles (each has a feed and pages).
    pub digests: Vec<(String, String)>,
    /// The subscriptions, for `/opml` (private feed URLs left out).
    pub subscriptions: Vec<crate::opml::Subscription>,
    /// The WebSub hubs the outputs advertise (see
    /// [`crate::websub::river`]).
    pub hubs: Vec<String>,
}

/// A file of the static site: a document and where it goes, relative to
/// the site's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// Path under the root, `/`-separated (`feeds/tech.atom`, `index.html`).
    pub path: String,
    /// The document.
    pub bytes: Vec<u8>,
}

impl Site {
    /// The site a configuration describes.
    pub fn new(config: &Config) -> Site {
        Site {
            base_url: config.server.base_url.clone(),
            publish: config.publish.clone(),
            digests: config
                .digests
                .iter()
                .map(|d| (d.name.clone(), d.title.clone()))
                .collect(),
            subscriptions: config
                .feeds
                .iter()
                .filter_map(|f| {
                    let mut s = crate::opml::Subscription::from(f);
                    s.url = item::public_feed_url(&s.url)?;
                    Some(s)
                })
                .collect(),
            hubs: crate::websub::river::hubs(config),
        }
    }

    /// Every output; the first is the default one (`all`).
    pub fn outputs(&self) -> &[OutputConfig] {
        &self.publish.outputs
    }

    /// The output called `name`.
    pub fn output(&self, name: &str) -> Option<&OutputConfig> {
        self.publish.output(name)
    }

    /// The default output, which carries every feed.
    pub fn default_output(&self) -> &OutputConfig {
        &self.publish.outputs[0]
    }

    /// Where `output` is published in `format`, relative to the root: the
    /// default output at `feed.{ext}`, the others at `feeds/{name}.{ext}`
    /// (the default is also served at `feeds/all.{ext}`).
    pub fn feed_path(output: &str, format: Format) -> String {
        if output == DEFAULT_OUTPUT {
            format!("feed.{}", format.extension())
        } else {
            format!("feeds/{output}.{}", format.extension())
        }
    }

    /// The public URL of `output` in `format`.
    pub fn feed_url(&self, output: &str, format: Format) -> String {
        self.base_url
            .join(&Site::feed_path(output, format))
            .map_or_else(|_| self.base_url.to_string(), String::from)
    }

    /// The channel of `output` holding `stories` (pure).
    pub fn channel(&self, output: &OutputConfig, stories: &[OutputStory]) -> Channel {
        let url = |format| Some(self.feed_url(&output.name, format));
        let items: Vec<_> = stories
            .iter()
            .map(|story| item::item(&self.publish.ids, story))
            .collect();
        Channel {
            id: self.publish.ids.channel(&output.name),
            title: output.title.clone(),
            description: output.description.clone(),
            language: common_language(&items),
            home_page_url: Some(self.base_url.to_string()),
            feed_urls: FeedUrls {
                atom: url(Format::Atom),
                rss: url(Format::Rss),
                json_feed: url(Format::JsonFeed),
            },
            hubs: self.hubs.clone(),
            updated: stories
                .iter()
                .map(item::last_change)
                .max()
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            generator: Generator::tributary(),
            items,
        }
    }

    /// The stories `output` shows now.
    pub fn stories(&self, store: &Store, output: &OutputConfig) -> store::Result<Vec<OutputStory>> {
        let keeps = |title: &str, text: &str| output.keeps(title, text);
        store.output_stories(&OutputQuery {
            feeds: &output.feeds,
            tags: &output.tags,
            order: output.order,
            limit: output.limit,
            filter: output.has_filter().then_some(&keeps as _),
            labels: LabelQuery {
                rule_tags: &output.rule_tags,
                marks: &output.marks,
            },
        })
    }

    /// The channel `output` shows now.
    pub fn load(&self, store: &Store, output: &OutputConfig) -> store::Result<Channel> {
        Ok(self.channel(output, &self.stories(store, output)?))
    }

    /// `output` in every format, in the order of [`Format::ALL`].
    pub fn render(&self, store: &Store, output: &OutputConfig) -> store::Result<[Vec<u8>; 3]> {
        let channel = self.load(store, output)?;
        Ok(Format::ALL.map(|format| syndication::render(&channel, format)))
    }

    /// The HTML index page: the outputs with their subscribe links, the
    /// latest items, and the feeds with their health.
    pub fn index(&self, store: &Store) -> store::Result<Vec<u8>> {
        let mut latest = self.default_output().clone();
        latest.limit = INDEX_ITEMS;
        let channel = self.load(store, &latest)?;
        let entries = store.entry_counts()?;
        let feeds: Vec<_> = store
            .feeds()?
            .into_iter()
            .map(|f| {
                let n = entries.get(&f.id).copied().unwrap_or(0);
                (f, n)
            })
            .collect();
        Ok(page::index(self, &channel.items, &feeds).into_bytes())
    }

    /// Every document of the site: each output in each format (the default
    /// one also under `feeds/all.*`), and `index.html`.
    pub fn files(&self, store: &Store) -> store::Result<Vec<SiteFile>> {
        let mut out = Vec::new();
        for output in self.outputs() {
            let rendered = self.render(store, output)?;
            for (format, bytes) in Format::ALL.into_iter().zip(rendered) {
                if output.name == DEFAULT_OUTPUT {
                    out.push(SiteFile {
                        path: format!("feeds/{DEFAULT_OUTPUT}.{}", format.extension()),
                        bytes: bytes.clone(),
                    });
                }
                out.push(SiteFile {
                    path: Site::feed_path(&output.name, format),
                    bytes,
                });
            }
        }
        out.push(SiteFile {
            path: "index.html".into(),
            bytes: self.index(store)?,
        });
        out.extend(self.digest_files(store)?);
        Ok(out)
    }
}

/// The language every item shares (compared without regard to case), if
/// they all declare the same one: the channel's own (RSS `language`, the
/// feed's `xml:lang`, JSON Feed `language`).
fn common_language(items: &[syndication::Item]) -> Option<String> {
    let first = items.first()?.language.as_deref()?;
    items
        .iter()
        .all(|i| {
            i.language
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(first))
        })
        .then(|| first.to_owned())
}
