//! A document a WebSub hub pushed: through the same pipeline as a fetched
//! one (decode, parse, clean, identity, rules, dedup, store), logged in
//! the fetch log as `push`. The feed's fetch state (validators, status,
//! redirects) is left to polling.

use chrono::Utc;
use tracing::{info, warn, Instrument};

use super::{document, response, story_policy, FeedReport};
use crate::config::{DedupConfig, FeedConfig, UrlSecrets};
use crate::fetch::{Redactor, Stopwatch};
use crate::store::{FeedRow, Outcome, SharedStore};

/// A document a hub pushed for a feed.
#[derive(Debug)]
pub struct Pushed {
    /// The body, already checked against the feed's `max_body` and the
    /// subscription's signature.
    pub body: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// The topic it was pushed for (its base URL).
    pub topic: url::Url,
}

/// Stores a pushed document for `feed` (stored state `state`); never fails
/// (failures are logged and reported).
pub async fn ingest_pushed(
    store: &SharedStore,
    feed: &FeedConfig,
    state: &FeedRow,
    dedup: &DedupConfig,
    secrets: &UrlSecrets,
    pushed: Pushed,
) -> FeedReport {
    let span = tracing::info_span!("feed", feed = %feed.name);
    ingest(store, feed, state, dedup, secrets, pushed)
        .instrument(span)
        .await
}

async fn ingest(
    store: &SharedStore,
    feed: &FeedConfig,
    state: &FeedRow,
    dedup: &DedupConfig,
    secrets: &UrlSecrets,
    pushed: Pushed,
) -> FeedReport {
    let started_at = Utc::now();
    let watch = Stopwatch::start();
    let redactor = Redactor::new(&feed.http, &feed.url, secrets);
    let story = story_policy(feed, dedup);
    let mut rec = response::new_record(state.id, redactor.url(&pushed.topic), story, started_at);
    rec.pushed = true;
    rec.bytes = pushed.body.len() as u64;
    let bytes = rec.bytes;
    let fetched = (pushed.body, pushed.content_type, pushed.topic);
    let prepared = Some(
        document::process_into(&mut rec, store, feed, state, fetched, Default::default()).await,
    );
    rec.duration_ms = watch.millis();
    let duration_ms = rec.duration_ms;
    let outcome = rec.outcome;
    let mut error = rec.error.clone().filter(|_| outcome != Outcome::Ok);
    let applied = match document::store_fetch(store, rec, prepared).await {
        Ok(a) => a,
        Err(e) => {
            error = Some(format!("storing failed: {e}"));
            Default::default()
        }
    };
    match &error {
        None => info!(
            new = applied.new,
            updated = applied.updated,
            ms = duration_ms,
            "pushed document stored"
        ),
        Some(e) => warn!(error = %e, "pushed document not stored"),
    }
    FeedReport {
        name: feed.name.clone(),
        url: redactor.url(&feed.url),
        status: if error.is_some() {
            Outcome::Permanent
        } else {
            Outcome::Ok
        },
        http_status: None,
        new: applied.new,
        updated: applied.updated,
        merged: applied.merged,
        error,
        bytes,
        duration_ms,
        response: None,
        moved_to: None,
        hub: None,
        pushed: true,
    }
}
