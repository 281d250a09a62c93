//! Making and delivering digests: the shell around the pure `digest` core.
//! Used by the daemon on each digest's schedule and by `tributary digest`.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::{Config, DigestConfig, ScheduleConfig};
use crate::digest::{self, email, render, Digest};
use crate::schedule::timing::backoff;
use crate::store::SharedStore;
use crate::store::{self, NewDigest, Store};

/// Makes the next digest of `cfg` now: every selected article since the
/// previous one. Returns its id and content, or `None` when the period was
/// empty and `send_empty` is off (the period still moves on).
pub fn make(
    store: &mut Store,
    cfg: &DigestConfig,
    schedule: &ScheduleConfig,
    now: DateTime<Utc>,
) -> store::Result<Option<(i64, Digest)>> {
    let state = state(store, cfg, schedule, now)?;
    let upto = store.max_article_id()?;
    let articles = store.digest_articles(state.last_article_id, upto)?;
    let d = digest::build(cfg, &articles, state.last_made_at, now, upto);
    if d.is_empty() && !cfg.send_empty {
        store.skip_digest(&cfg.name, upto, now)?;
        return Ok(None);
    }
    let id = store.save_digest(&NewDigest {
        head: d.head.clone(),
        items: d.articles(),
        stories: d.stories(),
        html: render::html(&d),
        text: render::text(&d),
        markdown: render::markdown(&d),
        email: cfg.email.is_some(),
    })?;
    Ok(Some((id, d)))
}

/// Where digest `cfg` stands; created on first use so that the first
/// digest covers one schedule period back from `now`.
pub fn state(
    store: &mut Store,
    cfg: &DigestConfig,
    schedule: &ScheduleConfig,
    now: DateTime<Utc>,
) -> store::Result<store::DigestState> {
    store.digest_state(&cfg.name, now, now - period(cfg, schedule, now))
}

/// The length of one schedule period around `now` (a day for a daily digest).
fn period(cfg: &DigestConfig, schedule: &ScheduleConfig, now: DateTime<Utc>) -> chrono::Duration {
    let tz = schedule.timezone;
    match cfg
        .schedule
        .next_after(now, tz)
        .and_then(|a| Some((a, cfg.schedule.next_after(a, tz)?)))
    {
        Some((a, b)) => b - a,
        None => chrono::Duration::days(1),
    }
}

/// When digest `cfg` is next due, given where the store says it stands: a
/// time in the past means a digest fell due while the daemon was down, and
/// one digest is made at once to cover the whole gap.
pub fn next_due(
    cfg: &DigestConfig,
    state: &store::DigestState,
    schedule: &ScheduleConfig,
) -> Option<DateTime<Utc>> {
    let anchor = state.last_made_at.unwrap_or(state.created_at);
    cfg.schedule.next_after(anchor, schedule.timezone)
}

/// Sends every digest whose email is pending and due. A failed attempt is
/// retried later with the feeds' backoff; a digest is marked sent only when
/// the server accepted it. Returns how many were sent.
pub async fn deliver_pending(store: &SharedStore, config: &Config) -> store::Result<usize> {
    let now = Utc::now();
    let pending = store.call(move |s| s.pending_emails(now)).await?;
    let mut sent = 0;
    for row in pending {
        let Some(cfg) = config.digests.iter().find(|d| d.name == row.name) else {
            continue;
        };
        let Some(mail) = &cfg.email else {
            continue;
        };
        let id = row.id;
        let mid = email::message_id(id, &row.name, &mail.from);
        let subject = format!(
            "{} ({})",
            row.title,
            &row.period_end[..10.min(row.period_end.len())]
        );
        let content = email::Content {
            title: &row.title,
            subject: &subject,
            text: &row.text,
            html: &row.html,
        };
        let result = match email::message(mail, id, &row.name, &content) {
            Ok(m) => email::send(mail, m).await,
            Err(e) => Err(e),
        };
        let now = Utc::now();
        let error = result.as_ref().err().map(|e| e.to_string());
        let attempts = u32::try_from(row.email_attempts + 1).unwrap_or(u32::MAX);
        let wait = backoff(
            attempts,
            &config.schedule.policy,
            super::plan::jitter_seed(&row.name, now),
        )
        .unwrap_or(config.schedule.policy.backoff_base);
        let next = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::minutes(5));
        match &error {
            None => {
                info!(digest = %row.name, id, to = %mail.to.join(", "), "digest sent");
                sent += 1;
            }
            Some(e) => {
                warn!(digest = %row.name, id, attempt = attempts, retry_at = %next, error = %e, "sending the digest failed; will retry")
            }
        }
        let err = error.clone();
        store
            .call(move |s| s.email_attempt(id, &mid, err.as_deref(), now, next))
            .await?;
    }
    Ok(sent)
}
