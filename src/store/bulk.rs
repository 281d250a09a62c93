//! Bulk loading, for the benchmark: many articles, each with one entry,
//! written straight into the tables in large transactions.
//!
//! This skips what ingest does per entry (the identity lookups, cross-feed
//! merging, tombstones, the fetch log), so it is only for filling a store
//! whose content is known to be distinct — a synthetic one — quickly. The
//! rows it writes are the same shape ingest writes, and each batch enters
//! the search index as ingest's do, so the store is a real one afterwards.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{ts, Result, Store};
use crate::model::{Entry, FeedId};

/// One article to load, with the entry of the feed that carried it.
#[derive(Debug, Clone)]
pub struct BulkRow {
    /// The feed that published it.
    pub feed: FeedId,
    /// When it was first seen (the order of the default output).
    pub first_seen: DateTime<Utc>,
    /// The entry, keyed and cleaned as ingest would hand it over.
    pub entry: Entry,
}

impl Store {
    /// Inserts every row as a new article with one entry, `batch` rows per
    /// transaction. Returns the number of rows written.
    pub fn bulk_insert(
        &mut self,
        rows: impl IntoIterator<Item = BulkRow>,
        batch: usize,
    ) -> Result<u64> {
        let mut written = 0u64;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let first: i64 =
                tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM articles", [], |r| {
                    r.get(0)
                })?;
            {
                let mut article = tx.prepare_cached(
                    "INSERT INTO articles (canonical_url, url, title, authors, summary_html,
                         content_html, content_text, content_hash, published_at, updated_at,
                         first_seen_at, categories, enclosures)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )?;
                let mut entry = tx.prepare_cached(
                    "INSERT INTO entries (feed_id, entry_key, key_kind, guid, url, article_id,
                         match_reason, title, content_hash, published_at, first_seen_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'new', ?7, ?8, ?9, ?10)",
                )?;
                for row in rows.by_ref().take(batch.max(1)) {
                    let e = &row.entry;
                    let hash = format!("{:016x}", e.content_hash);
                    let seen = ts(row.first_seen);
                    let published = ts(e.published);
                    let id = article.insert(params![
                        e.canonical_url,
                        e.url,
                        e.title,
                        e.authors.join(", "),
                        e.summary_html,
                        e.content_html,
                        e.content_text,
                        hash,
                        published,
                        e.updated.map(ts),
                        seen,
                        serde_json::to_string(&e.categories).unwrap_or_else(|_| "[]".into()),
                        serde_json::to_string(&e.enclosures).unwrap_or_else(|_| "[]".into()),
                    ])?;
                    entry.execute(params![
                        row.feed.0,
                        e.key,
                        e.key_kind.as_str(),
                        e.guid,
                        e.url,
                        id,
                        e.title,
                        hash,
                        published,
                        seen,
                    ])?;
                    written += 1;
                }
            }
            super::ingest::index_articles_from(&tx, first)?;
            tx.commit()?;
        }
        Ok(written)
    }
}
