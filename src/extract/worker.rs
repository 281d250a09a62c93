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
//!
//! Before a page is fetched, its site's robots.txt is consulted (unless
//! the feed's `full_text` turns it off; see [`super::robots`]): a refused
//! page fails at once, naming the rule; an unreachable robots.txt counts
//! as a transient failure. A page fetched before is asked for with its
//! stored validators, and a 304 keeps the stored extraction. After a
//! success, the article is placed again in its story on the fuller text
//! when its feed takes part in story matching.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tracing::{debug, warn};
use url::Url;

use super::page::{fetch_page, Page, PageError, PageRequest};
use super::robots::{Asking, RobotsCache, RobotsGate, Verdict};
use crate::config::{Config, FeedConfig};
use crate::fetch::HopGate;
use crate::fetch::{ErrorClass, Fetcher};
use crate::model::FeedId;
use crate::store::SharedStore;
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
    /// Fetched again and unchanged (304): the extraction stays.
    pub unchanged: usize,
    /// To be tried again later.
    pub retried: usize,
    /// Given up (the feed's text stays).
    pub failed: usize,
}

/// The outcome of one attempt, decided from its result (pure).
pub fn outcome(
    result: Result<Page, PageError>,
    attempts: i64,
    now: DateTime<Utc>,
) -> ExtractOutcome {
    let transient = |e: &PageError| match e {
        PageError::Fetch(e) => e.class() == ErrorClass::Transient,
        PageError::RobotsUnreachable(_) => true,
        PageError::Extract(_) | PageError::Robots(_) => false,
    };
    match result {
        Ok(Page::Extracted {
            extracted,
            validators,
            ..
        }) => ExtractOutcome::Done {
            html: extracted.html,
            text: extracted.text,
            validators,
        },
        Ok(Page::NotModified) => ExtractOutcome::Unchanged,
        Err(e) if transient(&e) && attempts + 1 < MAX_ATTEMPTS => {
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

/// Queues the new (and changed) articles of full-text feeds, then works
/// through every page due now. `robots` keeps the sites' robots.txt
/// between passes. Returns what it did.
pub async fn pass(
    store: &SharedStore,
    fetcher: &Fetcher,
    config: &Config,
    robots: &RobotsCache,
) -> store::Result<Pass> {
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
        let results: Vec<(i64, FeedId, ExtractOutcome)> = stream::iter(due)
            .map(|page| attempt(fetcher, config, &feeds, robots, page))
            .buffer_unordered(config.fetch.concurrency.max(1))
            .collect()
            .await;
        for (article_id, feed_id, outcome) in results {
            match &outcome {
                ExtractOutcome::Done { .. } => report.done += 1,
                ExtractOutcome::Unchanged => report.unchanged += 1,
                ExtractOutcome::Retry { .. } => report.retried += 1,
                ExtractOutcome::Failed { error } => {
                    debug!(article_id, %error, "full text not extracted");
                    report.failed += 1;
                }
            }
            let story = feeds
                .get(&feed_id)
                .and_then(|f| crate::refresh::story_policy(f, &config.dedup));
            let now = Utc::now();
            store
                .call(move |s| s.record_extraction(article_id, &outcome, story.as_ref(), now))
                .await?;
        }
    }
}

/// One page: robots.txt consulted, fetched with its feed's settings,
/// extracted with its recipe. Returns the article, its feed and the
/// outcome.
async fn attempt(
    fetcher: &Fetcher,
    config: &Config,
    feeds: &HashMap<FeedId, &FeedConfig>,
    robots: &RobotsCache,
    page: QueuedPage,
) -> (i64, FeedId, ExtractOutcome) {
    let now = Utc::now();
    let done = |outcome| (page.article_id, page.feed_id, outcome);
    let failed = |error: &str| {
        done(ExtractOutcome::Failed {
            error: error.into(),
        })
    };
    let Some(feed) = feeds.get(&page.feed_id) else {
        return failed("its feed is no longer in the config");
    };
    let Some(recipe) = &feed.full_text else {
        return failed("full_text is off for its feed");
    };
    let url = match Url::parse(&page.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => return failed("the article has no http(s) link"),
    };
    let timeout = feed.timeout.unwrap_or(config.fetch.timeout);
    let asking = || Asking {
        configured: &feed.url,
        internal: feed.http.internal,
        timeout,
        user_agent: feed.user_agent.as_deref(),
    };
    let mut min_gap = Duration::ZERO;
    if recipe.robots {
        let refused = match robots.check(fetcher, &url, &asking(), now).await {
            Verdict::Allowed(delay) => {
                min_gap = delay;
                None
            }
            Verdict::Disallowed(rule) => Some(PageError::Robots(rule)),
            Verdict::Unreachable(why) => Some(PageError::RobotsUnreachable(why)),
        };
        if let Some(e) = refused {
            return done(outcome(Err(e), page.attempts, now));
        }
    }
    // A redirect's target must be allowed by its own site's robots.txt.
    let gate = recipe.robots.then(|| RobotsGate {
        cache: robots,
        fetcher,
        asking: asking(),
        now,
    });
    let req = PageRequest {
        url: &url,
        configured: &feed.url,
        internal: feed.http.internal,
        timeout,
        max_body: feed.max_body.unwrap_or(config.fetch.max_body),
        user_agent: feed.user_agent.as_deref(),
        min_gap,
        hops: gate.as_ref().map(|g| g as &dyn HopGate),
    };
    let result = fetch_page(fetcher, &req, recipe, &page.validators).await;
    done(outcome(result, page.attempts, now))
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

    #[test]
    fn robots_refusals_are_final_and_an_unreachable_file_is_retried() {
        let now = Utc::now();
        let refused = Err(PageError::Robots(Some("Disallow: /private/".into())));
        assert_eq!(
            outcome(refused, 0, now),
            ExtractOutcome::Failed {
                error: "refused by robots.txt (Disallow: /private/)".into()
            }
        );
        let down = || {
            Err(PageError::RobotsUnreachable(
                "HTTP 503 Service Unavailable".into(),
            ))
        };
        assert!(matches!(
            outcome(down(), 0, now),
            ExtractOutcome::Retry { error, .. } if error.starts_with("robots.txt unreachable")
        ));
        assert!(matches!(
            outcome(down(), MAX_ATTEMPTS - 1, now),
            ExtractOutcome::Failed { .. }
        ));
        assert_eq!(
            outcome(Ok(Page::NotModified), 0, now),
            ExtractOutcome::Unchanged
        );
    }
}
