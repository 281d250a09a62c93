//! A search as a feed (`/search?q=…`): the best-matching articles, so a
//! saved search can be subscribed to in any reader.

use chrono::{DateTime, Utc};

use super::Site;
use crate::store::SearchHit;
use crate::syndication::{Channel, FeedUrls, Generator, Item, Source};

impl Site {
    /// The channel of the search `query` with `hits` (pure).
    pub fn search_channel(&self, query: &str, hits: &[SearchHit]) -> Channel {
        let mut self_url = self.base_url.join("search").ok();
        if let Some(u) = &mut self_url {
            u.query_pairs_mut().append_pair("q", query);
        }
        let with_format = |f: &str| {
            self_url.clone().map(|mut u| {
                u.query_pairs_mut().append_pair("format", f);
                u.to_string()
            })
        };
        let updated = hits
            .iter()
            .filter_map(|h| h.first_seen_at)
            .max()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        Channel {
            id: self.publish.ids.channel(&format!("search/{query}")),
            title: format!("Search: {query}"),
            description: format!("Articles matching “{query}”, best first"),
            language: None,
            home_page_url: Some(self.base_url.to_string()),
            feed_urls: FeedUrls {
                atom: with_format("atom"),
                rss: with_format("rss"),
                json_feed: with_format("json"),
            },
            hubs: Vec::new(),
            updated,
            generator: Generator::tributary(),
            items: hits
                .iter()
                .map(|h| {
                    let when = h.published_at.or(h.first_seen_at).unwrap_or(updated);
                    let feed = h.feeds.first().cloned().unwrap_or_default();
                    Item {
                        id: self.publish.ids.item(h.article_id),
                        title: h.title.clone(),
                        title_derived: false,
                        language: None,
                        url: h.url.clone(),
                        content_html: Some(format!("<p>{}</p>", h.snippet_html())),
                        summary_text: Some(h.snippet_marked("", "")),
                        published: when,
                        updated: h.first_seen_at.unwrap_or(when),
                        authors: Vec::new(),
                        categories: Vec::new(),
                        enclosures: Vec::new(),
                        source: Source {
                            id: Some(self.publish.ids.source(&feed)),
                            feed_name: feed.clone(),
                            title: feed,
                            site_url: None,
                            feed_url: None,
                            updated: None,
                        },
                        also_in: Vec::new(),
                    }
                })
                .collect(),
        }
    }
}
