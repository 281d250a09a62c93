//! A round: every chosen feed fetched once, and each one's next check
//! planned and stored. `tributary fetch` runs one and exits; the
//! benchmark's ingest phase runs the same one. (The daemon fetches each
//! feed when it is due instead, through `refresh::refresh_feed`, and plans
//! it with [`super::store_next_checks`] as it ends.)
//!
//! Memory follows the concurrency limit, not the number of feeds: configs
//! are paired with their stored rows as the round draws them, each row
//! read then through a connection of its own ([`FeedRows`]; every feed's
//! row at once was a third of the peak at 100,000 feeds), and the next
//! checks are planned and stored while the round goes on, [`PLAN_BATCH`]
//! feeds at a time, from each report's feed and cache headers (every
//! feed's name and response were held until the round's end, then a clone
//! of every feed's config).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{DedupConfig, FeedConfig, ScheduleConfig};
use crate::fetch::{Fetcher, ResponseMeta};
use crate::model::FeedSpec;
use crate::refresh::{refresh_all, FeedReport};
use crate::store::{self, FeedRow, SharedStore, Store};

/// Brings the store's feeds table to `specs` at `now` and opens a reader
/// of the rows, which the round reads [`ROWS_AT_ONCE`] at a time as it
/// draws the feeds.
pub fn feed_rows(
    store: &mut Store,
    specs: &[FeedSpec],
    now: DateTime<Utc>,
) -> store::Result<FeedRows> {
    store.reconcile(specs, now)?;
    Ok(FeedRows(Store::open_read_only(store.path())?))
}

/// Configured feeds paired with their rows per read: one read transaction
/// for this many lookups (one transaction per lookup was a tenth of an
/// unchanged round's CPU), and no more rows held than this.
pub const ROWS_AT_ONCE: usize = 64;

/// The stored feed rows, read by name through a read-only connection of
/// their own (the round's writes go through the shared store meanwhile).
pub struct FeedRows(Store);

impl FeedRows {
    /// Each of `configs` with its stored row, in order, all read in one
    /// snapshot; a feed without a row (or whose row cannot be read) is
    /// left out.
    pub fn paired<'c>(
        &self,
        configs: impl IntoIterator<Item = &'c FeedConfig>,
    ) -> Vec<(FeedConfig, FeedRow)> {
        let configs: Vec<&FeedConfig> = configs.into_iter().collect();
        let pair = |s: &Store, f: &FeedConfig| match s.feed_by_name(&f.name) {
            Ok(row) => row.map(|r| (f.clone(), r)),
            Err(e) => {
                tracing::warn!(feed = f.name, error = %e, "reading the feed's row");
                None
            }
        };
        let each = |s: &Store| configs.iter().filter_map(|f| pair(s, f)).collect();
        self.0.snapshot(|s| Ok(each(s))).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading the feeds' rows in one snapshot");
            each(&self.0)
        })
    }
}

/// Feeds planned and stored per trip to the store: the next checks are
/// planned while the round goes on, as this many feeds have finished (and
/// the rest at its end), so that what planning needs is never held for
/// every feed at once.
pub const PLAN_BATCH: usize = 1024;

/// What a round fetches, and with which settings.
pub struct Round<'a> {
    /// The configured feeds; those `chosen` are fetched, in this order.
    pub configs: &'a [FeedConfig],
    /// The global `[dedup]` settings.
    pub dedup: &'a DedupConfig,
    /// `[schedule]`, for planning each feed's next check.
    pub schedule: &'a ScheduleConfig,
}

/// Refreshes the feeds of `round` that `chosen` picks and that have a row
/// in `rows` (see [`feed_rows`]), handing each report to `on_done` as its
/// feed finishes, and plans and stores each feed's next check (in batches,
/// the last once every feed is done), so that `tributary feeds` and a
/// daemon started later agree on when it is due.
pub async fn run(
    fetcher: &Fetcher,
    store: &SharedStore,
    round: Round<'_>,
    rows: FeedRows,
    chosen: impl Fn(&FeedConfig) -> bool,
    mut on_done: impl FnMut(&FeedReport),
) {
    let by_name: HashMap<&str, &FeedConfig> =
        round.configs.iter().map(|f| (f.name.as_str(), f)).collect();
    let work = round
        .configs
        .chunks(ROWS_AT_ONCE)
        .flat_map(|chunk| rows.paired(chunk.iter().filter(|f| chosen(f))));
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    let fetch = refresh_all(fetcher, store, work, round.dedup, move |r| {
        on_done(&r);
        if let Some(feed) = by_name.get(r.name.as_str()) {
            // Planning reads only the cache headers of the response.
            let response = r.response.map(|m| ResponseMeta {
                cache_control: m.cache_control,
                expires: m.expires,
                ..ResponseMeta::default()
            });
            let _ = done.send(((*feed).clone(), response));
        }
    });
    let plan = async {
        // Grown as answers arrive: a round of a few feeds does not hold
        // room for a whole batch.
        let mut batch = Vec::new();
        loop {
            let room = PLAN_BATCH - batch.len();
            let more = finished.recv_many(&mut batch, room).await > 0;
            if batch.len() < PLAN_BATCH && more {
                continue;
            }
            if !batch.is_empty() {
                let refreshed = std::mem::take(&mut batch);
                let schedule = round.schedule.clone();
                if let Err(e) = super::store_next_checks(store, refreshed, schedule).await {
                    tracing::warn!(error = %e, "storing the feeds' next checks failed");
                }
            }
            if !more {
                break;
            }
        }
    };
    futures_util::future::join(fetch, plan).await;
    drop(rows);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    /// Rows are read a chunk at a time: every configured feed with a row
    /// is paired with its own, in order, whichever chunk it falls in, and
    /// a feed without a row (not yet reconciled) is left out.
    #[test]
    fn configs_are_paired_with_their_own_rows_in_order_across_chunks() {
        let n = 2 * ROWS_AT_ONCE + 3;
        let toml: String = (0..n)
            .map(|i| format!("[[feeds]]\nname = \"f{i}\"\nurl = \"https://f{i}.example/\"\n"))
            .collect();
        let config = Config::parse(&toml, Path::new("t.toml")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        // Every seventh feed has no row.
        let specs: Vec<FeedSpec> = config
            .feeds
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 7 != 3)
            .map(|(_, f)| FeedSpec {
                name: f.name.clone(),
                url: f.url.to_string(),
                tags: vec![],
                dedup: true,
            })
            .collect();
        let rows = feed_rows(&mut store, &specs, Utc::now()).unwrap();
        let paired: Vec<(String, String, String)> = config
            .feeds
            .chunks(ROWS_AT_ONCE)
            .flat_map(|chunk| rows.paired(chunk))
            .map(|(f, row)| (f.name, row.name, row.url))
            .collect();
        let expected: Vec<(String, String, String)> = specs
            .iter()
            .map(|s| (s.name.clone(), s.name.clone(), s.url.clone()))
            .collect();
        assert_eq!(paired, expected);
    }
}
