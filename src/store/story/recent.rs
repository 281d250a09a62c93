//! The recent tier of the story band index: the band keys of the newest
//! articles, held in memory and written to `story_bands` in one sorted
//! batch (see the `story` module docs), and the filter over the keys of
//! the table tier ([`KeyFilter`]).

use std::cell::Cell;
use std::collections::HashMap;

use rusqlite::{params, Transaction};

use super::filter::{KeyFilter, BUILD_AFTER};
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
    /// The filter over the table tier's keys, once built.
    pub(super) filter: Option<KeyFilter>,
    /// Table lookups made without a usable filter since it was last
    /// built: it is built (again) at `build_after`.
    pub(super) unfiltered: Cell<u64>,
    /// [`BUILD_AFTER`]; tests use other values.
    pub(super) build_after: u64,
    /// The table was pruned: the filter is built again at the next sync.
    pub(super) pruned: bool,
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
            filter: None,
            unfiltered: Cell::new(0),
            build_after: BUILD_AFTER,
            pruned: false,
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
        self.sync_filter(tx)?;
        let through: i64 = tx
            .prepare_cached("SELECT through FROM story_index")?
            .query_row([], |r| r.get(0))?;
        if self.base != Some(through) {
            self.reset(Some(through));
        }
        let mut st = tx.prepare_cached(
            "SELECT article_id, fingerprint FROM story_prints
             WHERE article_id > ?1 ORDER BY article_id",
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
                keys.extend(index_keys(&print).map(i64::from));
            }
            self.add(id, &keys);
        }
        Ok(())
    }

    /// Brings the filter up to date at the start of a write transaction:
    /// notes other connections' commits, and builds it (again) from the
    /// table when it has grown past its size, when the table was pruned,
    /// or when enough lookups went without it (see `filter`).
    fn sync_filter(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if let Some(f) = &mut self.filter {
            f.check(tx)?;
        }
        let unfiltered = self.unfiltered.get() >= self.build_after;
        let rebuild = match &self.filter {
            None => unfiltered,
            Some(f) if f.stale() => unfiltered || self.pruned,
            Some(f) => f.crowded() || self.pruned,
        };
        if rebuild {
            // The old one goes first: both at once would double the peak.
            self.filter = None;
            let more = self.flush_at * crate::dedup::story::BANDS;
            self.filter = Some(KeyFilter::build(tx, more)?);
            self.unfiltered.set(0);
        }
        self.pruned = false;
        Ok(())
    }

    /// Whether the table tier may hold postings of `key`: `false` only
    /// when the filter is sure it does not.
    pub(super) fn maybe_in_table(&self, key: i64) -> bool {
        match &self.filter {
            Some(f) if !f.stale() => f.may_contain(key),
            _ => {
                self.unfiltered.set(self.unfiltered.get() + 1);
                true
            }
        }
    }

    /// Rows with `keys` were written to the table outside a flush (an
    /// extraction's re-placement): the filter learns them.
    pub(in crate::store) fn written_to_table(&mut self, keys: &[i64]) {
        if let Some(f) = &mut self.filter {
            keys.iter().for_each(|k| f.add(*k));
        }
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
        if let Some(f) = &mut self.filter {
            rows.iter().for_each(|(key, _)| f.add(*key));
        }
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
    /// so it is read back at the next [`RecentBands::sync`]; the filter
    /// is dropped (a rebuild inside the transaction may have missed rows
    /// the rollback brought back) and built again at the next sync.
    pub(in crate::store) fn invalidate(&mut self) {
        self.reset(None);
        if self.filter.take().is_some() {
            self.unfiltered.set(self.build_after);
        }
    }
}
