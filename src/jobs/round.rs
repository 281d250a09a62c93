//! A round: every chosen feed fetched once, then each one's next check
//! planned and stored. `tributary fetch` runs one and exits; the
//! benchmark's ingest phase runs the same one. (The daemon fetches each
//! feed when it is due instead, through `refresh::refresh_feed`, and plans
//! it with [`super::store_next_checks`] as it ends.)
//!
//! Memory follows the concurrency limit, not the number of feeds: configs
//! are paired with their stored rows as the round draws them, each row
//! read then through a connection of its own ([`FeedRows`]; every feed's
//! row at once was a third of the peak at 100,000 feeds), of each report
//! only the feed's name and the response's cache headers are kept, for
//! planning, and the next checks are planned and stored
//! [`PLAN_BATCH`] feeds at a time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::{DedupConfig, FeedConfig, ScheduleConfig};
use crate::fetch::{Fetcher, ResponseMeta};
use crate::model::FeedSpec;
use crate::refresh::{refresh_all, FeedReport};
use crate::store::{self, FeedRow, SharedStore, Store};

/// Brings the store's feeds table to `specs` at `now` and opens a reader
/// of the rows, which the round reads one by one as it draws the feeds.
pub fn feed_rows(
    store: &mut Store,
    specs: &[FeedSpec],
    now: DateTime<Utc>,
) -> store::Result<FeedRows> {
    store.reconcile(specs, now)?;
    Ok(FeedRows(Store::open_read_only(store.path())?))
}

/// The stored feed rows, read by name through a read-only connection of
/// their own (the round's writes go through the shared store meanwhile).
pub struct FeedRows(Store);

impl FeedRows {
    /// The row of the feed called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<FeedRow> {
        self.0
            .feed_by_name(name)
            .inspect_err(|e| tracing::warn!(feed = name, error = %e, "reading the feed's row"))
            .ok()
            .flatten()
    }
}

/// What planning needs of a report: the feed's name and the response's
/// cache headers (a whole report or response per feed, held until the
/// round ends, was hundreds of bytes each).
struct Answered {
    name: Box<str>,
    /// `Cache-Control` and `Expires`, when there was a response.
    headers: Option<CacheHeaders>,
}

/// `Cache-Control` and `Expires`, each when sent.
type CacheHeaders = (Option<Box<str>>, Option<Box<str>>);

impl Answered {
    fn of(report: FeedReport) -> Answered {
        Answered {
            name: report.name.into_boxed_str(),
            headers: report.response.map(|m| {
                (
                    m.cache_control.map(String::into_boxed_str),
                    m.expires.map(String::into_boxed_str),
                )
            }),
        }
    }

    /// The response as planning reads it ([`super::plan::next_due`]).
    fn response(self) -> Option<ResponseMeta> {
        self.headers.map(|(cache_control, expires)| ResponseMeta {
            cache_control: cache_control.map(String::from),
            expires: expires.map(String::from),
            ..ResponseMeta::default()
        })
    }
}

/// Feeds planned and stored per trip to the store after a round.
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
/// feed finishes; then plans and stores each feed's next check, so that
/// `tributary feeds` and a daemon started later agree on when it is due.
pub async fn run(
    fetcher: &Fetcher,
    store: &SharedStore,
    round: Round<'_>,
    rows: FeedRows,
    chosen: impl Fn(&FeedConfig) -> bool,
    mut on_done: impl FnMut(&FeedReport),
) {
    let work = round
        .configs
        .iter()
        .filter(|f| chosen(f))
        .filter_map(|f| rows.get(&f.name).map(|r| (f.clone(), r)));
    let mut responses: Vec<Answered> = Vec::new();
    refresh_all(fetcher, store, work, round.dedup, |r| {
        on_done(&r);
        responses.push(Answered::of(r));
    })
    .await;
    drop(rows);
    let by_name: HashMap<&str, &FeedConfig> =
        round.configs.iter().map(|f| (f.name.as_str(), f)).collect();
    let mut responses = responses.into_iter().peekable();
    while responses.peek().is_some() {
        let refreshed = responses
            .by_ref()
            .take(PLAN_BATCH)
            .filter_map(|a| {
                let feed = (*by_name.get(&*a.name)?).clone();
                Some((feed, a.response()))
            })
            .collect();
        if let Err(e) = super::store_next_checks(store, refreshed, round.schedule.clone()).await {
            tracing::warn!(error = %e, "storing the feeds' next checks failed");
        }
    }
}
