//! The extraction queue's worker: finds new articles of full-text feeds,
//! fetches and extracts their pages, records the result. Run by its own
//! task in the daemon (so polling never waits for it) and by
//! `tributary fetch` after its round.
//!
//! Politeness: pages go through the feeds' [`Fetcher`] (per-host limits
//! and host groups, user agent, timeouts, size caps, address rules), at
//! most `[fetch] concurrency` at once. A transient failure (timeout,
//! connection, 5xx, 429) is retried up to [`MAX_ATTEMPTS`] times with a
//! growing delay; any other failure is recorded on the article at once,
//! and the article keeps the feed's own text.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tracing::{debug, warn};
use url::Url;

use super::page::{fetch_and_extract, PageError, PageRequest};
use crate::config::{Config, FeedConfig};
use crate::fetch::{ErrorClass, Fetcher};
use crate::model::FeedId;
use crate::refresh::SharedStore;
use crate::store::{self, ExtractOutcome, QueuedPage};

/// Attempts per article before a transient failure is final.
pub const MAX_ATTEMPTS: i64 = 3;

/// First delay before a retry; doubled per attempt.
pub const RETRY_BASE: Duration = Duration::from_secs(600);

/// Articles taken from the queue per batch.
const BATCH: usize = 64;

/// What one pass over the queue did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Articles newly queued.
    pub queued: usize,
    /// Articles dropped because the queue was full.
    pub dropped: usize,
    /// Extracted.
    pub done: usize,
    /// To be tried again later.
    pub retried: usize,
    /// Given up (the feed's text stays).
    pub failed: usize,
}

/// The outcome of one attempt, decided from its result (pure).
pub fn outcome(
    result: Result<super::Extracted, PageError>,
    attempts: i64,
    now: DateTime<Utc>,
) -> ExtractOutcome {
    match result {
        Ok(e) => ExtractOutcome::Done {
            html: e.html,
            text: e.text,
        },
        Err(PageError::Fetch(e))
            if e.class() == ErrorClass::Transient && attempts + 1 < MAX_ATTEMPTS =>
        {
            let delay = RETRY_BASE * 2u32.pow(attempts.clamp(0, 16) as u32);
            ExtractOutcome::Retry {
                error: e.to_string(),
                retry_at: now + chrono::Duration::from_std(delay).unwrap_or_default(),
            }
        }
        Err(e) => ExtractOutcome::Failed {
            error: e.to_string(),
        },
    }
}

/// Queues the new articles of full-text feeds, then works through every
/// page due now. Returns what it did.
pub async fn pass(store: &SharedStore, fetcher: &Fetcher, config: &Config) -> store::Result<Pass> {
    let rows = store.call(|s| s.feeds()).await?;
    let by_name: HashMap<&str, &FeedConfig> =
        config.feeds.iter().map(|f| (f.name.as_str(), f)).collect();
    let feeds: HashMap<FeedId, &FeedConfig> = rows
        .iter()
        .filter_map(|r| by_name.get(r.name.as_str()).map(|f| (r.id, *f)))
        .collect();
    let asking: Vec<FeedId> = feeds
        .iter()
        .filter(|(_, f)| f.full_text.is_some())
        .map(|(id, _)| *id)
        .collect();
    let max = config.full_text.queue_max;
    let now = Utc::now();
    let (queued, dropped) = store
        .call(move |s| s.enqueue_new_articles(&asking, max, now))
        .await?;
    let mut report = Pass {
        queued,
        dropped,
        ..Pass::default()
    };
    if dropped > 0 {
        warn!(
            dropped,
            "full-text queue full: the oldest waiting articles keep the feed's text"
        );
    }
    loop {
        let now = Utc::now();
        let due = store.call(move |s| s.due_pages(now, BATCH)).await?;
        if due.is_empty() {
            return Ok(report);
        }
        let results: Vec<(i64, ExtractOutcome)> = stream::iter(due)
            .map(|page| attempt(fetcher, config, &feeds, page))
            .buffer_unordered(config.fetch.concurrency.max(1))
            .collect()
            .await;
        for (article_id, outcome) in results {
            match &outcome {
                ExtractOutcome::Done { .. } => report.done += 1,
                ExtractOutcome::Retry { .. } => report.retried += 1,
                ExtractOutcome::Failed { error } => {
                    debug!(article_id, %error, "full text not extracted");
                    report.failed += 1;
                }
            }
            let now = Utc::now();
            store
                .call(move |s| s.record_extraction(article_id, &outcome, now))
                .await?;
        }
    }
}

/// One page: fetched with its feed's settings, extracted with its recipe.
async fn attempt(
    fetcher: &Fetcher,
    config: &Config,
    feeds: &HashMap<FeedId, &FeedConfig>,
    page: QueuedPage,
) -> (i64, ExtractOutcome) {
    let now = Utc::now();
    let failed = |error: String| ExtractOutcome::Failed { error };
    let Some(feed) = feeds.get(&page.feed_id) else {
        return (
            page.article_id,
            failed("its feed is no longer in the config".into()),
        );
    };
    let Some(recipe) = &feed.full_text else {
        return (
            page.article_id,
            failed("full_text is off for its feed".into()),
        );
    };
    let url = match Url::parse(&page.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => {
            return (
                page.article_id,
                failed("the article has no http(s) link".into()),
            )
        }
    };
    let req = PageRequest {
        url: &url,
        configured: &feed.url,
        internal: feed.http.internal,
        timeout: feed.timeout.unwrap_or(config.fetch.timeout),
        max_body: feed.max_body.unwrap_or(config.fetch.max_body),
        user_agent: feed.user_agent.as_deref(),
    };
    let result = fetch_and_extract(fetcher, &req, recipe)
        .await
        .map(|(_, e)| e);
    (page.article_id, outcome(result, page.attempts, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::FetchError;

    #[test]
    fn transient_failures_are_retried_with_growing_delays_then_given_up() {
        let now = Utc::now();
        let timeout = || {
            Err(PageError::Fetch(FetchError::Timeout(Duration::from_secs(
                30,
            ))))
        };
        let at = |attempts| match outcome(timeout(), attempts, now) {
            ExtractOutcome::Retry { retry_at, error } => {
                assert!(error.contains("timed out"), "{error}");
                (retry_at - now).num_seconds()
            }
            o => panic!("{o:?}"),
        };
        assert_eq!(at(0), 600);
        assert_eq!(at(1), 1200);
        assert!(matches!(
            outcome(timeout(), MAX_ATTEMPTS - 1, now),
            ExtractOutcome::Failed { .. }
        ));
        // Permanent at once: a 404, a page that is not HTML.
        let gone = Err(PageError::Fetch(FetchError::Status {
            status: 404,
            retry_after: None,
            redirects: vec![],
        }));
        assert!(
            matches!(outcome(gone, 0, now), ExtractOutcome::Failed { error } if error.contains("404"))
        );
        let pdf = Err(PageError::Extract(super::super::ExtractError::NotHtml(
            "application/pdf".into(),
        )));
        assert!(matches!(
            outcome(pdf, 0, now),
            ExtractOutcome::Failed { .. }
        ));
    }
}
