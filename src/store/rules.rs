//! What the rules decided, kept: the entries they dropped (so that they are
//! not judged again on every fetch, and so that `tributary explain` can say
//! why they are missing) and the tags and marks they added to articles.
//! Also the stored entries `tributary rules test` judges again.

use std::collections::HashSet;

use rusqlite::{params, Transaction};

use super::{parse_ts, Result, Store};
use crate::model::{Entry, FeedId, KeyKind, KnownEntries, KnownItem};

/// An entry a rule dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    /// Its key.
    pub key: String,
    /// Its guid, if any.
    pub guid: Option<String>,
    /// Its link, if any.
    pub url: Option<String>,
    /// Its title.
    pub title: String,
    /// The rule that dropped it (see `rules::Verdict::dropped_by`).
    pub rule: String,
    /// Its content hash.
    pub content_hash: u64,
    /// Its raw hash (a re-fetch skips cleaning it).
    pub raw_hash: u64,
    /// Its item hash (a re-fetch skips parsing it).
    pub item_hash: Option<u64>,
}

/// The tags and marks rules gave one entry of a fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    /// The entry's key.
    pub key: String,
    /// `(tag, rule)` pairs.
    pub tags: Vec<(String, String)>,
    /// `(mark, rule)` pairs.
    pub marks: Vec<(String, String)>,
}

/// Everything the rules decided about one fetch's entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judged {
    /// Entries dropped (not in `FetchRecord::entries`).
    pub dropped: Vec<Dropped>,
    /// Labels of entries in `FetchRecord::entries`.
    pub labels: Vec<Labels>,
}

/// A dropped entry as `tributary explain` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DroppedRow {
    /// The feed's name.
    pub feed: String,
    /// The entry's key.
    pub key: String,
    /// Its guid.
    pub guid: Option<String>,
    /// Its link.
    pub url: Option<String>,
    /// Its title.
    pub title: String,
    /// The rule that dropped it.
    pub rule: String,
    /// When.
    pub dropped_at: String,
}

/// Writes what the rules decided, inside the fetch's transaction: dropped
/// entries (unless the feed stored the entry before: rules never remove
/// what is stored) and labels of stored entries' articles. Returns the
/// number of entries newly recorded as dropped.
pub(super) fn write(tx: &Transaction<'_>, feed: i64, j: &Judged, now: &str) -> Result<usize> {
    let mut dropped = 0;
    if !j.dropped.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO dropped_entries (feed_id, entry_key, guid, url, title, rule,
                 dropped_at, content_hash, raw_hash, item_hash)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
             WHERE NOT EXISTS (SELECT 1 FROM entries WHERE feed_id = ?1 AND entry_key = ?2)",
        )?;
        for d in &j.dropped {
            dropped += st.execute(params![
                feed,
                d.key,
                d.guid,
                d.url,
                d.title,
                d.rule,
                now,
                format!("{:016x}", d.content_hash),
                d.raw_hash as i64,
                d.item_hash.map(|h| h as i64),
            ])?;
        }
    }
    let mut st = tx.prepare_cached(
        "INSERT OR IGNORE INTO article_labels (article_id, kind, label, rule)
         SELECT article_id, ?3, ?4, ?5 FROM entries WHERE feed_id = ?1 AND entry_key = ?2",
    )?;
    for l in &j.labels {
        for (kind, list) in [("tag", &l.tags), ("mark", &l.marks)] {
            for (label, rule) in list {
                st.execute(params![feed, l.key, kind, label, rule])?;
            }
        }
    }
    Ok(dropped)
}

/// Adds the feed's dropped entries to what a re-fetch may skip.
pub(super) fn known_dropped(
    conn: &rusqlite::Connection,
    feed: FeedId,
    known: &mut KnownEntries,
) -> Result<()> {
    let mut st = conn.prepare_cached(
        "SELECT entry_key, guid, url, content_hash, raw_hash, item_hash
         FROM dropped_entries WHERE feed_id = ?1",
    )?;
    let mut rows = st.query([feed.0])?;
    while let Some(r) = rows.next()? {
        let key: String = r.get(0)?;
        let hash: String = r.get(3)?;
        if let (Some(raw), Ok(hash)) = (r.get::<_, Option<i64>>(4)?, u64::from_str_radix(&hash, 16))
        {
            known.by_raw.insert(raw as u64, hash);
        }
        if let Some(item) = r.get::<_, Option<i64>>(5)? {
            known.by_item.insert(
                item as u64,
                KnownItem {
                    key: key.clone(),
                    guid: r.get(1)?,
                    url: r.get(2)?,
                },
            );
        }
        known.dropped.insert(key);
    }
    Ok(())
}

impl Store {
    /// Dropped entries whose key, link or guid is `what`.
    pub fn dropped_entries(&self, what: &str) -> Result<Vec<DroppedRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT f.name, d.entry_key, d.guid, d.url, d.title, d.rule, d.dropped_at
             FROM dropped_entries d JOIN feeds f ON f.id = d.feed_id
             WHERE d.url = ?1 OR d.guid = ?1
                OR d.entry_key = ?1
             ORDER BY d.dropped_at, f.name",
        )?;
        let rows = st.query_map([what], |r| {
            Ok(DroppedRow {
                feed: r.get(0)?,
                key: r.get(1)?,
                guid: r.get(2)?,
                url: r.get(3)?,
                title: r.get(4)?,
                rule: r.get(5)?,
                dropped_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Articles with an entry whose key, link or guid is `what`.
    pub fn articles_of_entry(&self, what: &str) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT DISTINCT article_id FROM entries
             WHERE url = ?1 OR guid = ?1 OR entry_key = ?1 ORDER BY article_id",
        )?;
        let ids = st.query_map([what], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// The tags and marks rules gave an article.
    pub fn article_labels(&self, article: i64) -> Result<Vec<(String, String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT kind, label, rule FROM article_labels WHERE article_id = ?1
             ORDER BY kind DESC, label",
        )?;
        let rows = st.query_map([article], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Up to `limit` of the feed's stored entries, newest first, as the
    /// rules saw them (with their articles' content), for judging them
    /// again without changing anything.
    pub fn stored_entries(&self, feed: FeedId, limit: usize) -> Result<Vec<Entry>> {
        let mut st = self.conn.prepare_cached(concat!(
            "SELECT e.entry_key, e.key_kind, e.guid, e.url, a.canonical_url, e.title, a.authors, ",
            super::html::summary_sql!(),
            ", ",
            super::html::html_sql!(),
            ", ",
            super::text::text_sql!(),
            ", e.content_hash, e.published_at,
                    a.updated_at, a.categories
             FROM entries e JOIN articles a ON a.id = e.article_id
             WHERE e.feed_id = ?1 ORDER BY e.first_seen_at DESC, e.id DESC LIMIT ?2"
        ))?;
        let rows = st.query_map(params![feed.0, limit as i64], |r| {
            let authors: String = r.get(6)?;
            let categories: String = r.get(13)?;
            let published: String = r.get(11)?;
            let hash: String = r.get(10)?;
            Ok(Entry {
                key: r.get(0)?,
                key_kind: match r.get::<_, String>(1)?.as_str() {
                    "guid" => KeyKind::Guid,
                    "link" => KeyKind::Link,
                    _ => KeyKind::Hash,
                },
                guid: r.get(2)?,
                url: r.get(3)?,
                canonical_url: r.get(4)?,
                title: r.get(5)?,
                title_derived: false,
                title_original: None,
                authors: authors
                    .split(", ")
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect(),
                summary_html: r.get(7)?,
                content_html: r.get(8)?,
                content_text: r.get(9)?,
                content_hash: u64::from_str_radix(&hash, 16).unwrap_or(0),
                story_print: None,
                published: parse_ts(&published).unwrap_or_default(),
                published_from_feed: true,
                updated: r
                    .get::<_, Option<String>>(12)?
                    .as_deref()
                    .and_then(parse_ts),
                categories: serde_json::from_str(&categories).unwrap_or_default(),
                enclosures: Vec::new(),
                raw_hash: 0,
                content_elided: false,
                item_hash: None,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Keys of the feed's dropped entries (for tests and `rules test`).
    pub fn dropped_keys(&self, feed: FeedId) -> Result<HashSet<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT entry_key FROM dropped_entries WHERE feed_id = ?1")?;
        let keys = st.query_map([feed.0], |r| r.get(0))?;
        Ok(keys.collect::<rusqlite::Result<_>>()?)
    }
}
