//! The recent tier of the story band index: the band keys of the newest
//! articles, held in memory and written to `story_bands` in one sorted
//! batch (see the `story` module docs).

use std::collections::HashMap;

use rusqlite::{params, Transaction};

use crate::dedup::story::{index_keys, Fingerprint};
use crate::store::Result;

/// How many articles' band keys the recent tier gathers before they are
/// written to `story_bands`: 20 postings of 16 bytes each and their map
/// entries, about 2 MiB in all. Larger batches rewrite the table's pages
/// less often; at 1,000 × 50 in the benchmark, 2,048 cost as little CPU as
/// 4,096 or 8,192 and 3–7 MiB less peak memory, and 512 cost 10 % more.
pub const FLUSH_AT: usize = 2048;

/// One band key of one recent article (16 bytes).
#[derive(Debug, Clone, Copy)]
pub(super) struct Posting {
    pub(super) key: i64,
    /// The article, as an offset from the tier's base.
    pub(super) article: u32,
    /// The previous posting with the same key (an index into `rows`), or
    /// [`NO_POSTING`].
    pub(super) prev: u32,
}

pub(super) const NO_POSTING: u32 = u32::MAX;

/// The recent tier of the band index: the band keys of the articles after
/// `story_index.through`, in memory (see the module docs).
#[derive(Debug)]
pub(crate) struct RecentBands {
    /// Articles gathered before a flush ([`FLUSH_AT`]; tests use less).
    pub(super) flush_at: usize,
    /// The `story_index.through` this tier sits on; `None` until loaded,
    /// and again after a failed transaction (it is then read back).
    pub(super) base: Option<i64>,
    /// The newest article this tier has looked at.
    pub(super) seen: i64,
    /// Postings in article order.
    pub(super) rows: Vec<Posting>,
    /// For each key, its newest posting.
    pub(super) heads: HashMap<i64, u32>,
    /// Articles with keys in `rows`.
    pub(super) articles: usize,
    /// Set by [`RecentBands::flush`] until the commit.
    pub(super) flushed: Option<i64>,
}

impl Default for RecentBands {
    fn default() -> Self {
        RecentBands {
            flush_at: FLUSH_AT,
            base: None,
            seen: 0,
            rows: Vec::new(),
            heads: HashMap::new(),
            articles: 0,
            flushed: None,
        }
    }
}

impl RecentBands {
    /// Brings the tier up to date with the file inside a write transaction:
    /// reloads it when `story_index.through` is not what it sits on
    /// (another process flushed, or a transaction failed), then reads the
    /// fingerprints of articles it has not seen (written by another
    /// process, or before this store opened).
    pub(in crate::store) fn sync(&mut self, tx: &Transaction<'_>) -> Result<()> {
        let through: i64 = tx
            .prepare_cached("SELECT through FROM story_index")?
            .query_row([], |r| r.get(0))?;
        if self.base != Some(through) {
            self.reset(Some(through));
        }
        let mut st = tx.prepare_cached(
            "SELECT id, fingerprint FROM articles INDEXED BY articles_story_prints
             WHERE fingerprint IS NOT NULL AND id > ?1 ORDER BY id",
        )?;
        let mut rows = st.query([self.seen])?;
        let mut keys = Vec::with_capacity(crate::dedup::story::BANDS);
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            keys.clear();
            if let Some(print) = r
                .get_ref(1)?
                .as_blob_or_null()
                .map_err(rusqlite::Error::from)?
                .and_then(|b| Fingerprint::from_bytes(b).ok())
            {
                keys.extend(index_keys(&print).map(|k| k as i64));
            }
            self.add(id, &keys);
        }
        Ok(())
    }

    /// Adds the keys of article `id` (newer than any before it).
    pub(super) fn add(&mut self, id: i64, keys: &[i64]) {
        self.seen = self.seen.max(id);
        let base = self.base.unwrap_or(0);
        let (Some(article), false) = (u32::try_from(id - base).ok(), keys.is_empty()) else {
            // No keys, or an id below the base (an id reused after its
            // article was pruned): nothing to find it by.
            return;
        };
        if self.rows.capacity() == 0 {
            // Sized once: no doubling while the tier fills.
            let postings = self.flush_at * crate::dedup::story::BANDS;
            self.rows.reserve_exact(postings);
            self.heads.reserve(postings);
        }
        self.articles += 1;
        for &key in keys {
            let at = u32::try_from(self.rows.len()).expect("the tier is flushed long before");
            let prev = self.heads.insert(key, at).unwrap_or(NO_POSTING);
            self.rows.push(Posting { key, article, prev });
        }
    }

    /// Articles of the window under `key` newer than `after`, newest
    /// first, into `out` (at most `limit`).
    pub(super) fn postings(
        &self,
        key: i64,
        window_start: i64,
        after: i64,
        limit: usize,
        out: &mut Vec<i64>,
    ) {
        let base = self.base.unwrap_or(0);
        let mut at = self.heads.get(&key).copied().unwrap_or(NO_POSTING);
        while at != NO_POSTING && out.len() < limit {
            let p = self.rows[at as usize];
            let article = base + i64::from(p.article);
            if article < window_start || article <= after {
                break;
            }
            out.push(article);
            at = p.prev;
        }
    }

    /// Whether enough articles have gathered to be written out.
    pub(in crate::store) fn full(&self) -> bool {
        self.articles >= self.flush_at
    }

    /// Writes the tier to `story_bands`, sorted by key (so each page of the
    /// table is written once), and moves `story_index.through`. The tier is
    /// emptied by [`RecentBands::committed`] once the transaction commits.
    pub(in crate::store) fn flush(
        &mut self,
        tx: &Transaction<'_>,
        window_start: i64,
    ) -> Result<()> {
        let base = self.base.unwrap_or(0);
        let mut rows: Vec<(i64, i64)> = self
            .rows
            .iter()
            .map(|p| (p.key, base + i64::from(p.article)))
            .filter(|(_, article)| *article >= window_start)
            .collect();
        rows.sort_unstable();
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO story_bands (band_key, article_id) VALUES (?1, ?2)",
        )?;
        for (key, article) in rows {
            st.execute(params![key, article])?;
        }
        tx.prepare_cached("UPDATE story_index SET through = ?1")?
            .execute([self.seen])?;
        self.flushed = Some(self.seen);
        Ok(())
    }

    /// The transaction committed: a flushed tier starts over on the new
    /// `through`.
    pub(in crate::store) fn committed(&mut self) {
        if let Some(through) = self.flushed.take() {
            self.reset(Some(through));
        }
    }

    /// Empties the tier, to sit on `base` (`None`: read it back first).
    pub(super) fn reset(&mut self, base: Option<i64>) {
        self.base = base;
        self.seen = base.unwrap_or(0);
        // Capacity is kept: the tier fills again to the same size, and
        // allocating and freeing it at every flush fragments the heap.
        self.rows.clear();
        self.heads.clear();
        self.articles = 0;
        self.flushed = None;
    }

    /// The transaction failed: what the tier holds may not be in the file,
    /// so it is read back at the next [`RecentBands::sync`].
    pub(in crate::store) fn invalidate(&mut self) {
        self.reset(None);
    }
}
