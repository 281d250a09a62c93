//! Bulk loading, for the benchmark: many articles, each with one entry,
//! written straight into the tables in large transactions.
//!
//! This skips what ingest does per entry (the identity lookups, cross-feed
//! merging, tombstones, the fetch log), so it is only for filling a store
//! whose content is known to be distinct — a synthetic one — quickly. The
//! rows are written by ingest's own statements (each article a story of
//! its own, without a fingerprint), and each batch enters the search index
//! as ingest's do, so the store is a real one afterwards.

use chrono::{DateTime, Utc};

use super::articles::insert_article;
use super::ingest::{insert_entry, NewEntry};
use super::story::Placement;
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
            for (id, row) in (first..).zip(rows.by_ref().take(batch.max(1))) {
                let e = &row.entry;
                let hash = format!("{:016x}", e.content_hash);
                let seen = ts(row.first_seen);
                // A story of its own: the content is distinct.
                let alone = Placement::default();
                insert_article(
                    &tx,
                    id,
                    (e, &Default::default()),
                    None,
                    &hash,
                    &seen,
                    &alone,
                )?;
                let new = NewEntry {
                    feed: row.feed.0,
                    article_id: id,
                    reason: "new",
                    hash: &hash,
                    now: &seen,
                    raw_hash: e.raw_hash as i64,
                    item_hash: None,
                };
                insert_entry(&tx, e, &new)?;
                written += 1;
            }
            super::ingest::index_articles_from(&tx, first)?;
            super::outputs::content_added(&tx)?;
            tx.commit()?;
        }
        Ok(written)
    }
}
