//! A round: every chosen feed fetched once, then each one's next check
//! planned and stored. `tributary fetch` runs one and exits; the
//! benchmark's ingest phase runs the same one. (The daemon fetches each
//! feed when it is due instead, through `refresh::refresh_feed`, and plans
//! it with [`super::store_next_checks`] as it ends.)
//!
//! Memory follows the concurrency limit, not the number of feeds: configs
//! are paired with their stored rows as the round draws them (a list of
//! every feed's config and row was the largest allocation of a round), and
//! of each report only the feed's name and response are kept, for
//! planning.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{DedupConfig, FeedConfig, ScheduleConfig};
use crate::fetch::{Fetcher, ResponseMeta};
use crate::model::FeedSpec;
use crate::refresh::{refresh_all, FeedReport};
use crate::store::{self, FeedRow, SharedStore, Store};

/// The stored rows of the configured feeds, by name, once the store's
/// feeds table is brought to `specs` at `now` (by name once: a search per
/// feed was quadratic in the feed count).
pub fn feed_rows(
    store: &mut Store,
    specs: &[FeedSpec],
    now: DateTime<Utc>,
) -> store::Result<HashMap<String, FeedRow>> {
    store.reconcile(specs, now)?;
    Ok(store
        .feeds()?
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect())
}

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
/// feed finishes; then plans and stores each feed's next check, so that
/// `tributary feeds` and a daemon started later agree on when it is due.
pub async fn run(
    fetcher: &Fetcher,
    store: &SharedStore,
    round: Round<'_>,
    mut rows: HashMap<String, FeedRow>,
    chosen: impl Fn(&FeedConfig) -> bool,
    mut on_done: impl FnMut(&FeedReport),
) {
    let work = round
        .configs
        .iter()
        .filter(|f| chosen(f))
        .filter_map(|f| rows.remove(&f.name).map(|r| (f.clone(), r)));
    let mut responses: Vec<(String, Option<ResponseMeta>)> = Vec::new();
    refresh_all(fetcher, store, work, round.dedup, |r| {
        on_done(&r);
        responses.push((r.name, r.response));
    })
    .await;
    drop(rows);
    let by_name: HashMap<&str, &FeedConfig> =
        round.configs.iter().map(|f| (f.name.as_str(), f)).collect();
    let refreshed = responses
        .into_iter()
        .filter_map(|(name, response)| Some(((*by_name.get(name.as_str())?).clone(), response)))
        .collect();
    if let Err(e) = super::store_next_checks(store, refreshed, round.schedule.clone()).await {
        tracing::warn!(error = %e, "storing the feeds' next checks failed");
    }
}
