//! Delivering the notification outbox, target by target (the daemon's
//! delivery task runs [`deliver`] whenever something was queued or a wait
//! ends; `tributary notify send` runs it once), and the test message of
//! `tributary notify test`.
//!
//! For each target: nothing is sent while it waits after a failure
//! (`retry_at`), while its batch window is open (it opens with the oldest
//! waiting notification, and a full batch does not wait), or while its
//! rate limit is used up; otherwise one message carries its oldest
//! waiting notifications, up to `max_batch`. The answer is recorded in
//! the store (delivered, or the next attempt after [`notify::backoff`]
//! or the receiver's `Retry-After`).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::{Config, NotifyConfig};
use crate::metrics::Metrics;
use crate::notify;
use crate::notify::message::{self, Notice, Subject};
use crate::notify::send::{SendError, Sender};
use crate::store::{Attempt, OutboxRow, SharedStore};

/// What one delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// Messages accepted, and the notifications they carried.
    pub messages: usize,
    /// See `messages`.
    pub delivered: usize,
    /// Attempts that failed.
    pub failed: usize,
    /// When something is next due (a window closing, a retry, a slot of
    /// the rate limit), if anything waits.
    pub next: Option<DateTime<Utc>>,
}

/// What a delivery pass works with.
pub struct Delivering<'a> {
    /// The store holding the outbox.
    pub store: &'a SharedStore,
    /// Sends the messages.
    pub sender: &'a Sender,
    /// The targets (and the ids of items).
    pub config: &'a Arc<Config>,
    /// Counters to keep, in the daemon.
    pub metrics: Option<&'a Metrics>,
    /// Do not wait for batch windows (a one-off `notify send`).
    pub now_or_never: bool,
}

/// One pass over every target, the targets side by side (a slow receiver
/// does not hold the others back).
pub async fn deliver(cx: &Delivering<'_>) -> Pass {
    let passes =
        futures_util::future::join_all(cx.config.notify.iter().map(|t| deliver_target(cx, t)))
            .await;
    passes.into_iter().fold(Pass::default(), |a, b| Pass {
        messages: a.messages + b.messages,
        delivered: a.delivered + b.delivered,
        failed: a.failed + b.failed,
        next: earliest(a.next, b.next),
    })
}

/// Empties one target's queue message by message until it must wait.
async fn deliver_target(cx: &Delivering<'_>, target: &NotifyConfig) -> Pass {
    let mut pass = Pass::default();
    loop {
        match deliver_one(cx, target).await {
            // Only notifications whose articles are gone: none sent.
            Ok(Step::Sent(0)) => {}
            Ok(Step::Sent(n)) => {
                pass.messages += 1;
                pass.delivered += n;
            }
            Ok(Step::Failed(retry)) => {
                pass.failed += 1;
                pass.next = Some(retry);
                return pass;
            }
            Ok(Step::Wait(at)) => {
                pass.next = at;
                return pass;
            }
            Err(e) => {
                warn!(target = %target.name, error = %e, "notification outbox unreadable");
                return pass;
            }
        }
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

enum Step {
    /// A message went out with this many notifications.
    Sent(usize),
    /// The attempt failed; the next one is at this time.
    Failed(DateTime<Utc>),
    /// Nothing to send now; something is due then (`None`: nothing waits).
    Wait(Option<DateTime<Utc>>),
}

async fn deliver_one(cx: &Delivering<'_>, target: &NotifyConfig) -> crate::store::Result<Step> {
    let (store, sender, config) = (cx.store, cx.sender, cx.config);
    let now = Utc::now();
    let d = target.delivery.clone();
    let name = target.name.clone();
    let rows = store
        .call(move |s| s.notify_pending(&name, d.max_batch))
        .await?;
    let Some(oldest) = rows.first().map(|r| r.created_at) else {
        return Ok(Step::Wait(None));
    };
    if let Some(retry) = rows.iter().filter_map(|r| r.retry_at).max() {
        if retry > now {
            return Ok(Step::Wait(Some(retry)));
        }
    }
    let window = chrono::Duration::from_std(target.delivery.batch_window).unwrap_or_default();
    if !cx.now_or_never && rows.len() < target.delivery.max_batch && oldest + window > now {
        return Ok(Step::Wait(Some(oldest + window)));
    }
    let name = target.name.clone();
    let sent = store
        .call(move |s| s.notify_sent_since(&name, now - chrono::Duration::hours(1)))
        .await?;
    if let Some(slot) = notify::next_slot(&sent, &target.delivery, now) {
        return Ok(Step::Wait(Some(slot)));
    }
    let (notices, ids, gone) = notices(store, rows).await?;
    if !gone.is_empty() {
        warn!(target = %target.name, count = gone.len(), "notifications dropped: their articles were removed by retention");
        store
            .call(move |s| s.notify_drop(&gone, "the article was removed before delivery", now))
            .await?;
    }
    if notices.is_empty() {
        return Ok(Step::Sent(0));
    }
    let msg = message::build(target, &notices, &config.publish.ids);
    let started = Instant::now();
    let result = sender.send(target, &msg).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let attempts = notices_attempts(&ids.1);
    let outcome = match &result {
        Ok(()) => Ok(()),
        Err(SendError {
            message,
            retry_after,
        }) => {
            let wait = retry_after.unwrap_or_else(|| {
                notify::backoff(&target.delivery, attempts + 1, notify::jitter())
            });
            Err((
                message.clone(),
                now + chrono::Duration::from_std(wait).unwrap_or_default(),
            ))
        }
    };
    if let Some(m) = cx.metrics {
        m.notified(&target.name, msg.count, result.is_ok());
    }
    match &outcome {
        Ok(()) => {
            info!(target = %target.name, items = msg.count, key = %msg.key, "notification delivered")
        }
        Err((e, retry)) => {
            warn!(target = %target.name, items = msg.count, error = %e, retry = %retry, "notification not delivered")
        }
    }
    let (target_name, key, step) = (
        target.name.clone(),
        msg.key.clone(),
        match &outcome {
            Ok(()) => Step::Sent(msg.count),
            Err((_, retry)) => Step::Failed(*retry),
        },
    );
    store
        .call(move |s| {
            s.notify_attempted(&Attempt {
                target: &target_name,
                rows: &ids.0,
                message_key: &key,
                at: now,
                duration_ms,
                result: outcome,
            })
        })
        .await?;
    Ok(step)
}

/// Consecutive failures of the batch so far (its most tried row).
fn notices_attempts(attempts: &[i64]) -> u32 {
    attempts.iter().copied().max().unwrap_or(0).clamp(0, 64) as u32
}

/// The notices for `rows`, with the ids and attempt counts of the rows
/// they came from, and the rows whose article is gone.
async fn notices(
    store: &SharedStore,
    rows: Vec<OutboxRow>,
) -> crate::store::Result<(Vec<Notice>, (Vec<i64>, Vec<i64>), Vec<i64>)> {
    let leads: Vec<i64> = rows.iter().filter_map(|r| r.article_id).collect();
    let stories = store.call(move |s| s.stories_of(&leads)).await?;
    let mut notices = Vec::with_capacity(rows.len());
    let (mut ids, mut attempts, mut gone) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        let subject = match (&r.event, r.article_id) {
            (Some(e), _) => Subject::Health(e.clone()),
            (None, Some(a)) => match stories.iter().find(|s| s.lead.id.0 == a) {
                Some(story) => Subject::Article {
                    story: Box::new(story.clone()),
                    story_feeds: r.story_feeds,
                },
                None => {
                    gone.push(r.id);
                    continue;
                }
            },
            (None, None) => {
                gone.push(r.id);
                continue;
            }
        };
        ids.push(r.id);
        attempts.push(r.attempts);
        notices.push(Notice {
            key: r.key,
            created_at: r.created_at,
            subject,
        });
    }
    Ok((notices, (ids, attempts), gone))
}

/// Sends `target` a test message at once (not through the outbox): the
/// newest stored article, or, in an empty store, a notice saying it is a
/// test. Returns the message's key.
pub async fn send_test(
    store: &SharedStore,
    sender: &Sender,
    config: &Config,
    target: &NotifyConfig,
) -> Result<String, SendError> {
    let now = Utc::now();
    let newest = store.call(|s| s.newest_article_id()).await.ok().flatten();
    let stories = match newest {
        Some(id) => store
            .call(move |s| s.stories_of(&[id]))
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let subject = match stories.into_iter().next() {
        Some(story) => Subject::Article {
            story: Box::new(story),
            story_feeds: None,
        },
        None => Subject::Test,
    };
    let notice = Notice {
        key: notify::key(
            &target.name,
            &format!("test\u{0}{}", now.timestamp_nanos_opt().unwrap_or_default()),
        ),
        created_at: now,
        subject,
    };
    let msg = message::build(target, &[notice], &config.publish.ids);
    sender.send(target, &msg).await.map(|()| msg.key)
}
