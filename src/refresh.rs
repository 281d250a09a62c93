//! One feed, once: fetch → parse → clean → identify → store, and its
//! fetch-log row. Also [`refresh_all`], which does that for many feeds at
//! once under the configured concurrency limit.
//!
//! The pure part, bytes to a cleaned and keyed [`Document`], is
//! `process`; the rules the operator wrote run in `judge`.
//!
//! Parsing and cleaning run on the blocking thread pool (they are CPU work
//! and must not stall the fetches in flight), inside the panic guard of
//! `parse`, so one strange document cannot disturb another feed. Every
//! outcome, failures included, ends as one fetch-log row and one
//! [`FeedReport`].

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tracing::{debug, info, warn, Instrument};
use url::Url;

use crate::config::{DedupConfig, FeedConfig};
use crate::fetch::credentials;
use crate::fetch::{FetchError, Fetched, Fetcher, Redactor, Request, ResponseMeta, Stopwatch};
use crate::model::{IdentityMode, KnownEntries, Validators};
use crate::parse::{self, ParseError};
use crate::schedule::hints::parse_retry_after;
use crate::store::{self, FeedRow, FetchRecord, Outcome, SharedStore, StoryPolicy};

mod judge;
mod process;
mod push;
pub use judge::judge;
pub use process::{process, process_with, Document};
pub use push::{ingest_pushed, Pushed};

/// What happened to one feed, for the command line and the scheduler.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedReport {
    /// Feed name.
    pub name: String,
    /// Configured URL.
    pub url: String,
    /// `ok`, `not_modified`, `transient` or `permanent`.
    pub status: &'static str,
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
    let validators = state.validators.clone();
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
        validators: &validators,
        timeout: feed.timeout.unwrap_or(cfg.timeout),
        max_body: feed.max_body.unwrap_or(cfg.max_body),
        user_agent: feed.user_agent.as_deref(),
        http: &feed.http,
        min_gap: std::time::Duration::ZERO,
        truncate: false,
    };
    let story = story_policy(feed, dedup);
    let merging = story.is_some();
    let mut rec = FetchRecord {
        feed_id: state.id,
        started_at,
        url: redactor.url(&url),
        final_url: None,
        outcome: Outcome::Ok,
        http_status: None,
        bytes: 0,
        duration_ms: 0,
        validators: None,
        meta: None,
        entries: Vec::new(),
        kept: Vec::new(),
        error: None,
        dedup: merging,
        story,
        permanent_redirect: None,
        move_held: false,
        retry_after_until: None,
        now: started_at,
        judged: Default::default(),
        pushed: false,
    };
    let mut response = None;
    let mut full_pass = None;
    let mut hub = None;
    match fetcher.fetch(&req).await {
        Ok(Fetched::NotModified { meta }) => {
            debug!("not modified");
            rec.outcome = Outcome::NotModified;
            rec.http_status = http_status(meta.status);
            rec.final_url = meta.final_url.as_ref().map(|u| redactor.url(u));
            rec.validators = Some(merge_validators(&validators, &meta.validators));
            response = Some(meta);
        }
        Ok(Fetched::Body {
            body,
            content_type,
            meta,
        }) => {
            rec.http_status = http_status(meta.status);
            rec.bytes = body.len() as u64;
            rec.final_url = meta.final_url.as_ref().map(|u| redactor.url(u));
            let doc_url = meta.final_url.clone().unwrap_or_else(|| feed.url.clone());
            full_pass = take_body(store, feed, state, &mut rec, body, content_type, &doc_url).await;
            if rec.outcome == Outcome::Ok {
                rec.validators = Some(meta.validators.clone());
                hub = announced(&meta, rec.meta.as_ref(), &doc_url);
            }
            response = Some(meta);
        }
        Err(e) => {
            rec.outcome = match e.class() {
                _ if e.http_status() == Some(410) => Outcome::Gone,
                crate::fetch::ErrorClass::Transient => Outcome::Transient,
                crate::fetch::ErrorClass::Permanent => Outcome::Permanent,
            };
            rec.http_status = e.http_status();
            if let FetchError::Status {
                retry_after: Some(ra),
                status: 429 | 503,
                ..
            } = &e
            {
                // Seconds count from the answer, not from the start of
                // the request (which may have queued or taken long).
                rec.retry_after_until = parse_retry_after(ra, Utc::now());
            }
            rec.error = Some(match credentials::stranded(&feed.url, &feed.http, &e) {
                Some(to) => format!(
                    "{e} at {to}, where a redirect led and the feed's credentials are not sent: if the feed moved, change its url in the config"
                ),
                None => e.to_string(),
            });
        }
    }
    let moved = response.as_ref().and_then(permanent_target);
    if let Some(to) = moved {
        let shown = redactor.url(&to);
        rec.permanent_redirect = Some(shown.clone());
        if let Some(why) = credentials::move_held(&feed.url, &feed.http, &to, &cfg.url_secrets) {
            // Tracked, never followed: the operator decides.
            rec.move_held = true;
            let note = format!(
                "permanently redirected to {shown}, not followed ({why}): to move the feed, change its url in the config"
            );
            warn!(to = %shown, "{note}");
            rec.error = Some(match rec.error.take() {
                Some(e) => format!("{e}; {note}"),
                None => note,
            });
        }
    }
    // A careless server may echo credentials into an error's URL.
    if let Some(text) = rec.error.as_deref() {
        if let std::borrow::Cow::Owned(clean) = redactor.text(text) {
            rec.error = Some(clean);
        }
    }
    rec.duration_ms = watch.millis();
    let outcome = rec.outcome;
    let (http, bytes, duration_ms) = (rec.http_status, rec.bytes, rec.duration_ms);
    // A note on a successful fetch is not a failure.
    let mut error = rec
        .error
        .clone()
        .filter(|_| rec.outcome != store::Outcome::Ok);
    let permanent_redirect = rec.permanent_redirect.clone();
    let applied = match store_fetch(store, rec, full_pass).await {
        Ok(a) => a,
        Err(e) => {
            error = Some(format!("storing failed: {e}"));
            Default::default()
        }
    };
    if let Some(to) = &applied.moved_to {
        warn!(from = %redactor.url(&url), to = %to, "feed moved permanently (3 fetches in a row): now polling the new URL; update the config");
    } else if let Some(to) = &permanent_redirect {
        info!(to = %to, "permanent redirect seen");
    }
    // Each fetch at `debug`; `info` only when it brought something, since
    // thousands of unchanged fetches a minute would flood the journal (and
    // trip its rate limit, which then drops errors too). The daemon logs a
    // summary of each round at `info`.
    match &error {
        None if applied.new > 0 || applied.updated > 0 => info!(
            status = outcome.as_str(),
            new = applied.new,
            updated = applied.updated,
            ms = duration_ms,
            "fetched"
        ),
        None => debug!(
            status = outcome.as_str(),
            new = applied.new,
            updated = applied.updated,
            dropped = applied.dropped,
            ms = duration_ms,
            "fetched"
        ),
        Some(err) => warn!(status = outcome.as_str(), http = http, error = %err, "fetch failed"),
    }
    FeedReport {
        name: feed.name.clone(),
        url: redactor.url(&feed.url),
        status: if error.is_some() && outcome.as_str() == "ok" {
            "permanent"
        } else {
            outcome.as_str()
        },
        http_status: http,
        new: applied.new,
        updated: applied.updated,
        merged: applied.merged,
        error,
        bytes,
        duration_ms,
        response,
        moved_to: applied.moved_to,
        hub,
        pushed: false,
    }
}

/// Processes a document's `body` (fetched or pushed) into `rec`: the
/// known entries skipped, parse, clean, key, the operator's rules, the
/// notes on what was left out; a document that cannot be read makes the
/// record `permanent`. Returns what a second, full pass needs, when
/// entries were skipped.
async fn take_body(
    store: &SharedStore,
    feed: &FeedConfig,
    state: &FeedRow,
    rec: &mut FetchRecord,
    body: Vec<u8>,
    content_type: Option<String>,
    doc_url: &Url,
) -> Option<Reprocess> {
    let doc_url = doc_url.clone();
    let mode = state.identity_mode;
    let now = rec.started_at;
    // Entries the store holds unchanged are not cleaned again
    // (a feed fetched before; nothing to skip on a first fetch).
    let known = match state.last_success_at {
        Some(_) => {
            let id = state.id;
            store
                .call(move |s| s.known_entries(id))
                .await
                .unwrap_or_default()
        }
        None => KnownEntries::default(),
    };
    let skipping = !known.is_empty();
    let rules = feed.rules.clone();
    let dropped_before = known.dropped.clone();
    let (rules_again, dropped_again) = (rules.clone(), dropped_before.clone());
    let processed = tokio::task::spawn_blocking(move || {
        let doc = process_with(
            &body,
            content_type.as_deref(),
            Some(&doc_url),
            mode,
            now,
            &known,
        )
        .map(|mut doc| {
            let judged = judge(&mut doc, &rules, &dropped_before, now);
            (doc, judged)
        });
        // Kept for a second, full pass should the store refuse an
        // entry it no longer holds as it was.
        (doc, skipping.then_some((body, content_type, doc_url)))
    })
    .await
    .unwrap_or_else(|e| (Err(ParseError::Panic(e.to_string())), None));
    let (processed, kept) = processed;
    let full_pass = kept.map(|(body, content_type, doc_url)| Reprocess {
        body,
        content_type,
        doc_url,
        mode,
        now,
        rules: rules_again,
        dropped: dropped_again,
    });
    match processed {
        Ok((doc, judged)) => {
            if !judged.dropped.is_empty() {
                debug!(dropped = judged.dropped.len(), "entries dropped by rules");
            }
            rec.judged = judged;
            if doc.keys.repeated_guids > 0 {
                warn!(
                    entries = doc.keys.repeated_guids,
                    "guid repeated inside the document; keyed by guid and link"
                );
            }
            // Notes on a successful fetch, in the fetch log and
            // the feed's last error.
            let mut notes = Vec::new();
            if doc.entries_dropped > 0 {
                let note = format!(
                    "only the first {} entries kept; {} more left out",
                    parse::MAX_ENTRIES,
                    doc.entries_dropped
                );
                warn!(dropped = doc.entries_dropped, "{note}");
                notes.push(note);
            }
            if let Some(note) = doc.cleaning.note() {
                warn!(
                    urls_left_out = doc.cleaning.urls_left_out,
                    bodies_as_text = doc.cleaning.bodies_as_text,
                    "{note}"
                );
                notes.push(note);
            }
            if !notes.is_empty() {
                rec.error = Some(notes.join("; "));
            }
            rec.meta = Some(doc.meta);
            rec.entries = doc.entries;
            rec.kept = doc.kept;
        }
        Err(e) => {
            rec.outcome = Outcome::Permanent;
            rec.error = Some(e.to_string());
        }
    }
    full_pass
}

/// The hub a fetched document announced, from the response's `Link`
/// header or the document's links, with the topic to subscribe to (its
/// `rel="self"`, else where it was fetched from).
fn announced(
    meta: &ResponseMeta,
    doc: Option<&crate::model::FeedMeta>,
    doc_url: &Url,
) -> Option<Announced> {
    let hub = meta
        .links
        .hub
        .clone()
        .or_else(|| doc.and_then(|d| d.hub.clone()))?;
    let topic = meta
        .links
        .self_url
        .clone()
        .or_else(|| doc.and_then(|d| d.self_url.clone()))
        .unwrap_or_else(|| doc_url.to_string());
    Some(Announced {
        hub: Url::parse(&hub).ok()?,
        topic: Url::parse(&topic).ok()?,
    })
}

/// A fetched document, kept for processing again in full.
struct Reprocess {
    body: Vec<u8>,
    content_type: Option<String>,
    doc_url: Url,
    mode: IdentityMode,
    now: DateTime<Utc>,
    rules: crate::rules::Rules,
    dropped: HashSet<String>,
}

/// Stores `rec`. When the store refuses an entry whose cleaning was skipped
/// (it no longer holds it as it was), the document is processed again in
/// full, from `full_pass`, and stored again.
async fn store_fetch(
    store: &SharedStore,
    mut rec: FetchRecord,
    full_pass: Option<Reprocess>,
) -> store::Result<store::Applied> {
    let skipped =
        |rec: &FetchRecord| !rec.kept.is_empty() || rec.entries.iter().any(|e| e.content_elided);
    let Some(again) = full_pass.filter(|_| skipped(&rec)) else {
        return store.record(rec).await;
    };
    // The record without its entries, cheap to copy, for the second try.
    let entries = std::mem::take(&mut rec.entries);
    let mut second = rec.clone();
    rec.entries = entries;
    match store.record(rec).await {
        Err(store::Error::ContentElided { key }) => {
            debug!(entry = %key, "a skipped entry changed in the store; processing the document in full");
            let doc = tokio::task::spawn_blocking(move || {
                process(
                    &again.body,
                    again.content_type.as_deref(),
                    Some(&again.doc_url),
                    again.mode,
                    again.now,
                )
                .map(|mut doc| {
                    let judged = judge(&mut doc, &again.rules, &again.dropped, again.now);
                    (doc, judged)
                })
            })
            .await
            .map_err(|e| store::Error::Group(format!("processing again failed: {e}")))?
            .map_err(|e| store::Error::Group(format!("processing again failed: {e}")))?;
            let (doc, judged) = doc;
            second.entries = doc.entries;
            second.kept = doc.kept;
            second.judged = judged;
            store.record(second).await
        }
        other => other,
    }
}

/// Where a chain of only permanent redirects (301/308) ended.
fn permanent_target(meta: &ResponseMeta) -> Option<Url> {
    meta.permanently_moved()
        .then(|| meta.final_url.clone())
        .flatten()
}

fn http_status(s: u16) -> Option<u16> {
    (s != 0).then_some(s)
}

/// A 304 may omit validators; keep the old ones then.
fn merge_validators(old: &Validators, new: &Validators) -> Validators {
    Validators {
        etag: new.etag.clone().or_else(|| old.etag.clone()),
        last_modified: new
            .last_modified
            .clone()
            .or_else(|| old.last_modified.clone()),
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
        tasks.spawn(async move { refresh_feed(&fetcher, &store, &feed, &state, &dedup).await });
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
