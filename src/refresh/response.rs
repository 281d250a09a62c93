//! What a fetch's result makes of its [`FetchRecord`] (pure: values in,
//! the record changed): a 304, a body received, a failure classified, the
//! notes on a successful document, a permanent move, and the status a
//! report shows. The shell in `refresh` fetches and stores; everything it
//! decides about the record is here, with its unit tests.

use chrono::{DateTime, Utc};
use tracing::warn;
use url::Url;

use super::Processed;
use crate::config::{FeedConfig, UrlSecrets};
use crate::fetch::{credentials, ErrorClass, FetchError, Redactor, ResponseMeta};
use crate::model::{FeedId, Validators};
use crate::parse;
use crate::schedule::hints::parse_retry_after;
use crate::store::{FetchRecord, Judged, Outcome, StoryPolicy};

/// Fetches in a row that must end in the same permanent redirect before
/// the feed's URL is moved: one could be a mistake being fixed.
pub const REDIRECTS_TO_MOVE: u32 = 3;

/// The record of a fetch of feed `feed_id` from `url` (redacted), before
/// anything is known of its result.
pub(super) fn new_record(
    feed_id: FeedId,
    url: String,
    story: Option<StoryPolicy>,
    started_at: DateTime<Utc>,
) -> FetchRecord {
    FetchRecord {
        feed_id,
        started_at,
        url,
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
        dedup: story.is_some(),
        story,
        permanent_redirect: None,
        move_held: false,
        moves_after: REDIRECTS_TO_MOVE,
        retry_after_until: None,
        now: started_at,
        judged: Judged::default(),
        packed_texts: Default::default(),
        pushed: false,
    }
}

/// A 304: nothing new; the validators are those of the answer, or the
/// stored ones where it omits them.
pub(super) fn not_modified(
    rec: &mut FetchRecord,
    meta: &ResponseMeta,
    stored: &Validators,
    redactor: &Redactor<'_>,
) {
    rec.outcome = Outcome::NotModified;
    rec.http_status = http_status(meta.status);
    rec.final_url = meta.final_url.as_ref().map(|u| redactor.url(u));
    rec.validators = Some(Validators {
        etag: meta.validators.etag.clone().or_else(|| stored.etag.clone()),
        last_modified: meta
            .validators
            .last_modified
            .clone()
            .or_else(|| stored.last_modified.clone()),
    });
}

/// A body of `bytes` bytes arrived with `meta`.
pub(super) fn received(
    rec: &mut FetchRecord,
    meta: &ResponseMeta,
    bytes: usize,
    redactor: &Redactor<'_>,
) {
    rec.http_status = http_status(meta.status);
    rec.bytes = bytes as u64;
    rec.final_url = meta.final_url.as_ref().map(|u| redactor.url(u));
}

/// A processed document, with what the rules made of it: its entries go
/// into the record, with the validators of the response that carried it.
/// What processing left out becomes a note (the fetch log's `error`, and
/// the feed's last error, on a successful fetch).
pub(super) fn document(
    rec: &mut FetchRecord,
    doc: Processed,
    judged: Judged,
    validators: Validators,
) {
    let mut notes = Vec::new();
    if doc.keys.repeated_guids > 0 {
        warn!(
            entries = doc.keys.repeated_guids,
            "guid repeated inside the document; keyed by guid and link"
        );
    }
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
    rec.judged = judged;
    rec.validators = Some(validators);
    rec.meta = Some(doc.meta);
    rec.entries = doc.entries;
    rec.kept = doc.kept;
}

/// A document that could not be read.
pub(super) fn unreadable(rec: &mut FetchRecord, error: &parse::ParseError) {
    rec.outcome = Outcome::Permanent;
    rec.error = Some(error.to_string());
}

/// A fetch that failed at `now`: its outcome (a 410 retires the feed), the
/// `Retry-After` of a 429 or 503 (counted from the answer), and the
/// message, which says so when the failure came where a redirect led and
/// the feed's credentials are not sent.
pub(super) fn failed(rec: &mut FetchRecord, e: &FetchError, feed: &FeedConfig, now: DateTime<Utc>) {
    rec.outcome = match e.class() {
        _ if e.http_status() == Some(410) => Outcome::Gone,
        ErrorClass::Transient => Outcome::Transient,
        ErrorClass::Permanent => Outcome::Permanent,
    };
    rec.http_status = e.http_status();
    if let FetchError::Status {
        retry_after: Some(ra),
        status: 429 | 503,
        ..
    } = e
    {
        rec.retry_after_until = parse_retry_after(ra, now);
    }
    rec.error = Some(match credentials::stranded(&feed.url, &feed.http, e) {
        Some(to) => format!(
            "{e} at {to}, where a redirect led and the feed's credentials are not sent: if the feed moved, change its url in the config"
        ),
        None => e.to_string(),
    });
}

/// A chain of only permanent redirects (301/308): tracked (the store
/// moves the feed after several in a row), or held with a note where the
/// feed's credentials would not follow it (the operator decides).
pub(super) fn permanent_move(
    rec: &mut FetchRecord,
    response: Option<&ResponseMeta>,
    feed: &FeedConfig,
    redactor: &Redactor<'_>,
    url_secrets: &UrlSecrets,
) {
    let Some(to) = response.and_then(permanent_target) else {
        return;
    };
    let shown = redactor.url(&to);
    rec.permanent_redirect = Some(shown.clone());
    if let Some(why) = credentials::move_held(&feed.url, &feed.http, &to, url_secrets) {
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

/// The record's message without credentials a careless server may have
/// echoed into it.
pub(super) fn redact_error(rec: &mut FetchRecord, redactor: &Redactor<'_>) {
    if let Some(text) = rec.error.as_deref() {
        if let std::borrow::Cow::Owned(clean) = redactor.text(text) {
            rec.error = Some(clean);
        }
    }
}

/// The status a report shows: the fetch's outcome, except that a fetch
/// whose result could not be stored failed (`stored` is false).
pub(super) fn report_status(outcome: Outcome, stored: bool) -> Outcome {
    match outcome {
        Outcome::Ok if !stored => Outcome::Permanent,
        o => o,
    }
}

/// The hub a fetched document announced, from the response's `Link`
/// header or the document's links, with the topic to subscribe to (its
/// `rel="self"`, else where it was fetched from).
pub(super) fn announced(
    meta: &ResponseMeta,
    doc: Option<&crate::model::FeedMeta>,
    doc_url: &Url,
) -> Option<super::Announced> {
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
    Some(super::Announced {
        hub: Url::parse(&hub).ok()?,
        topic: Url::parse(&topic).ok()?,
    })
}

/// Where a chain of only permanent redirects (301/308) ended.
fn permanent_target(meta: &ResponseMeta) -> Option<Url> {
    meta.permanently_moved()
        .then(|| meta.final_url.clone())
        .flatten()
}

/// A status of 0 (a local file) is no HTTP status.
fn http_status(s: u16) -> Option<u16> {
    (s != 0).then_some(s)
}

#[cfg(test)]
mod tests;
