//! One feed, once: fetch → parse → clean → identify → store, and its
//! fetch-log row. Also [`refresh_all`], which does that for many feeds at
//! once under the configured concurrency limit.
//!
//! The parts:
//! - `process` (pure): bytes to a cleaned and keyed [`Processed`] document;
//! - `judge` (pure): the rules the operator wrote, run on a document;
//! - `response` (pure): what a fetch's result makes of its fetch record
//!   (a 304, a failure's outcome, notes, a permanent move);
//! - `document`: a fetched document into the record and the record into
//!   the store (the known entries looked up, processing on the blocking
//!   pool, the second pass when the store refuses a skipped entry);
//! - this file: one feed's fetch, its log line and [`FeedReport`], and
//!   [`refresh_all`].
//!
//! Parsing and cleaning run on the blocking thread pool (they are CPU work
//! and must not stall the fetches in flight), inside the panic guard of
//! `parse`, so one strange document cannot disturb another feed. Every
//! outcome, failures included, ends as one fetch-log row and one
//! [`FeedReport`].

use chrono::Utc;
use tokio::task::JoinSet;
use tracing::{debug, info, warn, Instrument};
use url::Url;

use crate::config::{DedupConfig, FeedConfig};
use crate::fetch::credentials;
use crate::fetch::{Fetched, Fetcher, Redactor, Request, ResponseMeta, Stopwatch};
use crate::store::{FeedRow, Outcome, SharedStore, StoryPolicy};

mod document;
mod judge;
mod process;
mod push;
mod response;
pub use judge::judge;
pub use process::{process, process_with, Processed};
pub use push::{ingest_pushed, Pushed};
pub use response::REDIRECTS_TO_MOVE;

/// What happened to one feed, for the command line and the scheduler.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedReport {
    /// Feed name.
    pub name: String,
    /// Configured URL.
    pub url: String,
    /// How the fetch ended (`permanent` too when its result could not be
    /// stored).
    pub status: Outcome,
    /// HTTP status, when there was one.
    pub http_status: Option<u16>,
    /// Entries added.
    pub new: usize,
    /// Entries updated in place.
    pub updated: usize,
    /// New entries that joined an article another feed or URL already had.
    pub merged: usize,
    /// What went wrong.
    pub error: Option<String>,
    /// Body bytes.
    pub bytes: u64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Response facts (cache headers, redirects) for scheduling.
    #[serde(skip)]
    pub response: Option<ResponseMeta>,
    /// The new URL, when this fetch confirmed a permanent move.
    #[serde(skip)]
    pub moved_to: Option<String>,
    /// The WebSub hub the document announced, if any.
    #[serde(skip)]
    pub hub: Option<Announced>,
    /// Whether a hub pushed the document (no fetch happened).
    #[serde(skip)]
    pub pushed: bool,
}

/// A WebSub hub a feed announced, and the topic to subscribe to there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// The hub.
    pub hub: Url,
    /// The topic (the feed's `rel="self"` URL).
    pub topic: Url,
}

/// How the feed's new articles find their stories: `None` when merging is
/// off, globally (`[dedup] enabled`) or for the feed (its `dedup`).
pub fn story_policy(feed: &FeedConfig, dedup: &DedupConfig) -> Option<StoryPolicy> {
    (feed.dedup && dedup.enabled).then_some(StoryPolicy {
        threshold: dedup.story_threshold,
        window: dedup.story_window,
    })
}

/// Fetches, processes and stores one feed; never fails (failures are
/// recorded and reported). `dedup` is the global `[dedup]` setting (the
/// feed's own `dedup` can only turn merging off).
pub async fn refresh_feed(
    fetcher: &Fetcher,
    store: &SharedStore,
    feed: &FeedConfig,
    state: &FeedRow,
    dedup: &DedupConfig,
) -> FeedReport {
    let span = tracing::info_span!("feed", feed = %feed.name);
    refresh_inner(fetcher, store, feed, state, dedup)
        .instrument(span)
        .await
}

async fn refresh_inner(
    fetcher: &Fetcher,
    store: &SharedStore,
    feed: &FeedConfig,
    state: &FeedRow,
    dedup: &DedupConfig,
) -> FeedReport {
    let started_at = Utc::now();
    let watch = Stopwatch::start();
    let cfg = fetcher.config();
    // Every URL and message kept or logged goes through it.
    let redactor = Redactor::new(&feed.http, &feed.url, &cfg.url_secrets);
    // After a confirmed permanent redirect the new URL is polled, when
    // the feed may move there.
    let url = credentials::polled_url(
        &feed.url,
        &feed.http,
        state.moved_to.as_deref(),
        &cfg.url_secrets,
    );
    let req = Request {
        url: &url,
        configured: &feed.url,
        validators: &state.validators,
        timeout: feed.timeout.unwrap_or(cfg.timeout),
        max_body: feed.max_body.unwrap_or(cfg.max_body),
        user_agent: feed.user_agent.as_deref(),
        http: &feed.http,
        min_gap: std::time::Duration::ZERO,
        truncate: false,
        hops: None,
    };
    let story = story_policy(feed, dedup);
    let mut rec = response::new_record(state.id, redactor.url(&url), story, started_at);
    let mut meta = None;
    let mut prepared = None;
    let mut hub = None;
    match fetcher.fetch(&req).await {
        Ok(Fetched::NotModified { meta: m }) => {
            debug!("not modified");
            response::not_modified(&mut rec, &m, &state.validators, &redactor);
            meta = Some(m);
        }
        Ok(Fetched::Body {
            body,
            content_type,
            meta: m,
        }) => {
            response::received(&mut rec, &m, body.len(), &redactor);
            let doc_url = m.final_url.clone().unwrap_or_else(|| feed.url.clone());
            let fetched = (body, content_type, doc_url.clone());
            prepared = Some(
                document::process_into(&mut rec, store, feed, state, fetched, m.validators.clone())
                    .await,
            );
            if rec.outcome == Outcome::Ok {
                hub = response::announced(&m, rec.meta.as_ref(), &doc_url);
            }
            meta = Some(m);
        }
        // Seconds of a `Retry-After` count from the answer, not from the
        // start of the request (which may have queued or taken long).
        Err(e) => response::failed(&mut rec, &e, feed, Utc::now()),
    }
    response::permanent_move(&mut rec, meta.as_ref(), feed, &redactor, &cfg.url_secrets);
    response::redact_error(&mut rec, &redactor);
    rec.duration_ms = watch.millis();
    let mut report = FeedReport {
        name: feed.name.clone(),
        url: redactor.url(&feed.url),
        status: rec.outcome,
        http_status: rec.http_status,
        new: 0,
        updated: 0,
        merged: 0,
        // A note on a successful fetch is not a failure.
        error: rec.error.clone().filter(|_| rec.outcome != Outcome::Ok),
        bytes: rec.bytes,
        duration_ms: rec.duration_ms,
        response: meta,
        moved_to: None,
        hub,
        pushed: false,
    };
    let permanent_redirect = rec.permanent_redirect.clone();
    match document::store_fetch(store, rec, prepared).await {
        Ok(applied) => {
            report.new = applied.new;
            report.updated = applied.updated;
            report.merged = applied.merged;
            report.moved_to = applied.moved_to;
            log_fetch(&report, applied.dropped);
        }
        Err(e) => {
            report.error = Some(format!("storing failed: {e}"));
            report.status = response::report_status(report.status, false);
            log_fetch(&report, 0);
        }
    }
    if let Some(to) = &report.moved_to {
        warn!(
            from = %redactor.url(&url),
            to = %to,
            "feed moved permanently ({} fetches in a row): now polling the new URL; update the config",
            response::REDIRECTS_TO_MOVE
        );
    } else if let Some(to) = &permanent_redirect {
        info!(to = %to, "permanent redirect seen");
    }
    report
}

/// Each fetch at `debug`; `info` only when it brought something, since
/// thousands of unchanged fetches a minute would flood the journal (and
/// trip its rate limit, which then drops errors too). The daemon logs a
/// summary of each round at `info`.
fn log_fetch(r: &FeedReport, dropped: usize) {
    let status = r.status.as_str();
    match &r.error {
        None if r.new > 0 || r.updated > 0 => info!(
            status,
            new = r.new,
            updated = r.updated,
            ms = r.duration_ms,
            "fetched"
        ),
        None => debug!(
            status,
            new = r.new,
            updated = r.updated,
            dropped,
            ms = r.duration_ms,
            "fetched"
        ),
        Some(err) => warn!(status, http = r.http_status, error = %err, "fetch failed"),
    }
}

/// Refreshes `feeds` (with their stored state) at most
/// `fetcher.config().concurrency` at a time, handing each report to
/// `on_done` as its feed finishes (in completion order).
///
/// Memory follows the concurrency limit, not the number of feeds: a
/// feed's task is spawned only when a slot is free (spawning all of
/// 10,000 feeds up front added about 24 MB to the peak resident set),
/// `feeds` is drawn from only then (a caller can pair configs with stored
/// rows lazily instead of building a list of both), and no report is kept
/// here (a caller keeps what it needs of each).
pub async fn refresh_all(
    fetcher: &Fetcher,
    store: &SharedStore,
    feeds: impl IntoIterator<Item = (FeedConfig, FeedRow)>,
    dedup: &DedupConfig,
    mut on_done: impl FnMut(FeedReport),
) {
    let limit = fetcher.config().concurrency.max(1);
    let mut waiting = feeds.into_iter();
    let mut tasks = JoinSet::new();
    let spawn = |tasks: &mut JoinSet<FeedReport>, (feed, state): (FeedConfig, FeedRow)| {
        let fetcher = fetcher.clone();
        let store = store.clone();
        let dedup = dedup.clone();
        // Boxed: a feed's refresh is a future of several kilobytes, which
        // tokio would otherwise copy whole each time it moves the task
        // (spawning, polling, reading its output): a fifth of the
        // instructions of an unchanged round of 1,000 feeds.
        tasks.spawn(Box::pin(async move {
            refresh_feed(&fetcher, &store, &feed, &state, &dedup).await
        }));
    };
    for next in waiting.by_ref().take(limit) {
        spawn(&mut tasks, next);
    }
    while let Some(joined) = tasks.join_next().await {
        if let Some(next) = waiting.next() {
            spawn(&mut tasks, next);
        }
        match joined {
            Ok(report) => on_done(report),
            Err(e) => warn!(error = %e, "a refresh task failed"),
        }
    }
}
