//! The default output's read: the latest articles by first-seen time, with
//! every feed that carried each of them.
//!
//! Two statements whatever the store's size: the newest `limit` articles
//! walk the `articles_by_first_seen` index backwards, and their entries
//! come through `entries_by_article`. So the cost follows `limit`, not the
//! number of articles stored.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{parse_ts, Result, Store};
use crate::model::{ArticleId, Enclosure};

/// One article of the output, with its sources.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestArticle {
    /// Row id.
    pub id: ArticleId,
    /// Plain-text title.
    pub title: String,
    /// The page.
    pub url: Option<String>,
    /// Sanitized HTML body.
    pub content_html: Option<String>,
    /// The first 300 characters of the plain text.
    pub excerpt: String,
    /// Publication time.
    pub published: DateTime<Utc>,
    /// Last update the feed stated.
    pub updated: Option<DateTime<Utc>>,
    /// When Tributary first saw it.
    pub first_seen: DateTime<Utc>,
    /// Author names.
    pub authors: Vec<String>,
    /// Category terms.
    pub categories: Vec<String>,
    /// Attached media.
    pub enclosures: Vec<Enclosure>,
    /// The feeds that carried it, first one first.
    pub sources: Vec<ArticleSource>,
}

/// A feed that carried an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSource {
    /// The feed's configured name.
    pub feed_name: String,
    /// The feed's own title.
    pub feed_title: Option<String>,
    /// Its web site.
    pub site_url: Option<String>,
    /// The feed document's URL.
    pub feed_url: String,
    /// The link this feed gave the article.
    pub entry_url: Option<String>,
}

impl Store {
    /// The newest `limit` articles by first-seen time (ties: newest row
    /// first), each with the feeds that carried it.
    pub fn latest_articles(&self, limit: usize) -> Result<Vec<LatestArticle>> {
        let time = |s: String| parse_ts(&s).unwrap_or_default();
        let mut st = self.conn.prepare_cached(
            "SELECT id, title, url, content_html, substr(content_text, 1, 300), published_at,
                    updated_at, first_seen_at, authors, categories, enclosures
             FROM articles ORDER BY first_seen_at DESC, id DESC LIMIT ?1",
        )?;
        let mut out: Vec<LatestArticle> = st
            .query_map([limit as i64], |r| {
                let authors: String = r.get(8)?;
                Ok(LatestArticle {
                    id: ArticleId(r.get(0)?),
                    title: r.get(1)?,
                    url: r.get(2)?,
                    content_html: r.get(3)?,
                    excerpt: r.get(4)?,
                    published: time(r.get(5)?),
                    updated: r.get::<_, Option<String>>(6)?.as_deref().and_then(parse_ts),
                    first_seen: time(r.get(7)?),
                    authors: authors
                        .split(", ")
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    categories: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
                    enclosures: serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or_default(),
                    sources: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut st = self.conn.prepare_cached(
            "SELECT e.article_id, f.name, f.title, f.site_url, f.url, e.url
             FROM entries e JOIN feeds f ON f.id = e.feed_id
             WHERE e.article_id IN (SELECT id FROM articles
                                    ORDER BY first_seen_at DESC, id DESC LIMIT ?1)
             ORDER BY e.article_id, e.id",
        )?;
        let mut rows = st.query(params![limit as i64])?;
        while let Some(r) = rows.next()? {
            let article = ArticleId(r.get(0)?);
            if let Some(a) = out.iter_mut().find(|a| a.id == article) {
                a.sources.push(ArticleSource {
                    feed_name: r.get(1)?,
                    feed_title: r.get(2)?,
                    site_url: r.get(3)?,
                    feed_url: r.get(4)?,
                    entry_url: r.get(5)?,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::BulkRow;
    use super::*;
    use crate::model::{Entry, FeedSpec, KeyKind};

    fn entry(n: u32) -> Entry {
        Entry {
            key: format!("k{n}"),
            key_kind: KeyKind::Guid,
            guid: Some(format!("k{n}")),
            url: Some(format!("https://a.example/{n}")),
            canonical_url: Some(format!("https://a.example/{n}")),
            title: format!("Article {n}"),
            authors: vec!["Ana Silva".into()],
            summary_html: None,
            content_html: Some(format!("<p>Body {n}</p>")),
            content_text: format!("Body {n}"),
            content_hash: u64::from(n),
            published: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            published_from_feed: true,
            updated: None,
            categories: vec!["Rust".into()],
            enclosures: vec![],
        }
    }

    #[test]
    fn newest_first_with_sources() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let spec = |name: &str| FeedSpec {
            name: name.into(),
            url: format!("https://{name}.example/feed"),
            tags: vec![],
            dedup: true,
        };
        s.reconcile(&[spec("a")], Utc::now()).unwrap();
        let feed = s.feed_by_name("a").unwrap().unwrap().id;
        let rows = (0..10u32).map(|n| BulkRow {
            feed,
            first_seen: Utc
                .timestamp_opt(1_700_000_000 + i64::from(n) * 60, 0)
                .unwrap(),
            entry: entry(n),
        });
        assert_eq!(s.bulk_insert(rows, 4).unwrap(), 10);
        let latest = s.latest_articles(3).unwrap();
        let titles: Vec<&str> = latest.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["Article 9", "Article 8", "Article 7"]);
        assert_eq!(latest[0].sources.len(), 1);
        assert_eq!(latest[0].sources[0].feed_name, "a");
        assert_eq!(latest[0].authors, ["Ana Silva"]);
        assert_eq!(latest[0].categories, ["Rust"]);
        assert_eq!(s.counts().unwrap(), (1, 10, 10));
    }
}
