//! Digests as published documents: per digest name, a feed of its digests
//! (each digest one entry, in the three formats) and an HTML page per
//! digest plus `latest.html`.
//!
//! Paths: `digests/{name}.atom|.rss|.json`, `digests/{name}/latest.html`,
//! `digests/{name}/{id}.html`.

use chrono::{DateTime, Utc};

use super::{Site, SiteFile};
use crate::store::{self, DigestRow, Store};
use crate::syndication::{self, Channel, FeedUrls, Format, Generator, Item, Source};

/// Digests shown in a digest feed.
pub const DIGEST_FEED_ITEMS: usize = 20;

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The inside of a digest page's `<body>`, for a feed entry's content.
fn body_of(html: &str) -> &str {
    let start = html
        .find("<body")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1));
    let end = html.rfind("</body>");
    match (start, end) {
        (Some(s), Some(e)) if s <= e => &html[s..e],
        _ => html,
    }
}

impl Site {
    /// Path of a digest feed.
    pub fn digest_feed_path(name: &str, format: Format) -> String {
        format!("digests/{name}.{}", format.extension())
    }

    /// Path of one digest's page (`latest` or its id).
    pub fn digest_page_path(name: &str, page: &str) -> String {
        format!("digests/{name}/{page}.html")
    }

    fn absolute(&self, path: &str) -> String {
        self.base_url
            .join(path)
            .map_or_else(|_| self.base_url.to_string(), String::from)
    }

    /// The feed of digests called `name` (pure).
    pub fn digest_channel(&self, name: &str, title: &str, rows: &[DigestRow]) -> Channel {
        let url = |format| Some(self.absolute(&Site::digest_feed_path(name, format)));
        let feed_urls = FeedUrls {
            atom: url(Format::Atom),
            rss: url(Format::Rss),
            json_feed: url(Format::JsonFeed),
        };
        let source = Source {
            id: Some(self.publish.ids.channel(&format!("digest/{name}"))),
            feed_name: name.to_string(),
            title: title.to_string(),
            site_url: Some(self.base_url.to_string()),
            feed_url: feed_urls.atom.clone(),
            updated: rows.first().map(|r| time(&r.made_at)),
        };
        Channel {
            id: self.publish.ids.channel(&format!("digest/{name}")),
            title: title.to_string(),
            description: format!("Every {title} digest, one entry each."),
            language: None,
            home_page_url: Some(self.absolute(&Site::digest_page_path(name, "latest"))),
            feed_urls,
            hubs: Vec::new(),
            updated: rows
                .first()
                .map_or(DateTime::<Utc>::UNIX_EPOCH, |r| time(&r.made_at)),
            generator: Generator::tributary(),
            items: rows
                .iter()
                .map(|r| Item {
                    id: self.publish.ids.digest(r.id),
                    title_derived: false,
                    language: None,
                    title: format!(
                        "{} — {}",
                        r.title,
                        &r.period_end[..r.period_end.len().min(10)]
                    ),
                    url: Some(self.absolute(&Site::digest_page_path(name, &r.id.to_string()))),
                    content_html: Some(body_of(&r.html).to_string()),
                    summary_text: Some(format!("{} stories", r.items)),
                    published: time(&r.made_at),
                    updated: time(&r.made_at),
                    authors: Vec::new(),
                    categories: Vec::new(),
                    enclosures: Vec::new(),
                    source: source.clone(),
                    also_in: Vec::new(),
                })
                .collect(),
        }
    }

    /// The digest feed `name` in every format; `None` for an unknown name.
    pub fn digest_feed(&self, store: &Store, name: &str) -> store::Result<Option<[Vec<u8>; 3]>> {
        let Some((_, title)) = self.digests.iter().find(|(n, _)| n == name) else {
            return Ok(None);
        };
        let rows = store.digests(Some(name), DIGEST_FEED_ITEMS)?;
        let channel = self.digest_channel(name, title, &rows);
        Ok(Some(
            Format::ALL.map(|format| syndication::render(&channel, format)),
        ))
    }

    /// The page of digest `page` (`latest` or an id) of `name`.
    pub fn digest_page(
        &self,
        store: &Store,
        name: &str,
        page: &str,
    ) -> store::Result<Option<Vec<u8>>> {
        if !self.digests.iter().any(|(n, _)| n == name) {
            return Ok(None);
        }
        let row = if page == "latest" {
            store.digests(Some(name), 1)?.into_iter().next()
        } else {
            // Only the id as the digest's links spell it: `0001` and `+1`
            // name nothing, so no two paths name one page.
            match page.parse::<i64>() {
                Ok(id) if id.to_string() == page => store.digest(id)?.filter(|r| r.name == name),
                _ => None,
            }
        };
        Ok(row.map(|r| r.html.into_bytes()))
    }

    /// Every digest document: feeds, the latest page, and the pages of the
    /// digests the feeds list.
    pub fn digest_files(&self, store: &Store) -> store::Result<Vec<SiteFile>> {
        let mut out = Vec::new();
        for (name, title) in &self.digests {
            let rows = store.digests(Some(name), DIGEST_FEED_ITEMS)?;
            let channel = self.digest_channel(name, title, &rows);
            for format in Format::ALL {
                out.push(SiteFile {
                    path: Site::digest_feed_path(name, format),
                    bytes: syndication::render(&channel, format),
                });
            }
            if let Some(latest) = rows.first() {
                out.push(SiteFile {
                    path: Site::digest_page_path(name, "latest"),
                    bytes: latest.html.clone().into_bytes(),
                });
            }
            for r in &rows {
                out.push(SiteFile {
                    path: Site::digest_page_path(name, &r.id.to_string()),
                    bytes: r.html.clone().into_bytes(),
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_cut_out_of_the_page() {
        assert_eq!(
            body_of("<html><body style=\"x\">inside</body></html>"),
            "inside"
        );
        assert_eq!(body_of("no body"), "no body");
    }
}
