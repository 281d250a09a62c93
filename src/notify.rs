//! Notifications: telling people what matters without them opening a
//! reader (see `docs/notifications.md`).
//!
//! Owns the decisions, pure (values and `now` in, values out): which
//! `[[notify]]` targets want an article ([`wants`]) or a feed-health
//! event ([`HealthEvent`]), the idempotency key of each notification
//! ([`key`]), when a failed target tries again ([`backoff`]) and when its
//! rate limit lets it send ([`next_slot`]); the messages themselves are
//! [`message`], sending them is [`send`]. The outbox they wait in is
//! `store::notify` (written in the transaction of the articles they
//! announce), and the daemon's delivery task is `daemon::outbox`.
//!
//! # Delivery
//! At least once: a notification leaves the outbox only once its target
//! accepted it (a 2xx answer, or a command's exit status 0). A failed
//! attempt is logged and the target waits [`backoff`] (30 s doubling up
//! to an hour by default, with ±20 % jitter), a schedule kept in the store,
//! so restarts keep it. Each notification carries a key that is the same
//! on every attempt, so a receiver can drop repeats.
//!
//! # Bounds
//! A message holds at most `max_batch` items (1,000 at most); a request or
//! command runs at most `timeout`; a receiver's answer is read up to
//! [`MAX_RESPONSE`] bytes (the rest is not read) and a command's standard
//! error likewise; a health event names one feed. Targets are written by
//! the operator, so private addresses are allowed for them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Delivery, NotifyConfig};
use crate::model::Entry;

pub mod message;
pub mod send;

/// Default longest wait between two attempts of a failing target.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Default first wait after a failure.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(30);
/// Most bytes of a receiver's answer (or a command's standard error) read.
pub const MAX_RESPONSE: usize = 4096;

/// An article as a target's selection sees it.
pub struct Candidate<'a> {
    /// The feed that carried it.
    pub feed: &'a str,
    /// That feed's tags.
    pub feed_tags: &'a [String],
    /// The feed's language.
    pub language: Option<&'a str>,
    /// The entry as cleaned (and rewritten by the rules).
    pub entry: &'a Entry,
    /// Tags the rules gave it.
    pub rule_tags: &'a [String],
    /// Marks the rules gave it.
    pub marks: &'a [String],
}

/// Whether `target` announces the article `c` (story size aside: that is
/// the caller's count, see [`NotifySelect::min_story_feeds`](crate::config::NotifySelect)).
pub fn wants(target: &NotifyConfig, c: &Candidate<'_>, now: DateTime<Utc>) -> bool {
    let s = &target.select;
    let any =
        |want: &[String], have: &[String]| want.is_empty() || have.iter().any(|h| want.contains(h));
    s.articles
        && s.covers(c.feed, c.feed_tags)
        && crate::rules::holds(&s.when, c.entry, c.language, now)
        && s.keywords
            .as_ref()
            .is_none_or(|k| k.is_match(&c.entry.title) || k.is_match(&c.entry.content_text))
        && any(&s.rule_tags, c.rule_tags)
        && any(&s.marks, c.marks)
}

/// The idempotency key of a notification: the same for a target and a
/// subject (an article, a story, a feed's outage) on every attempt and
/// across restarts; 32 hex digits.
pub fn key(target: &str, subject: &str) -> String {
    let h = xxhash_rust::xxh3::xxh3_128(format!("{target}\u{0}{subject}").as_bytes());
    format!("{h:032x}")
}

/// A change in a feed's health, as stored in the outbox and announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum HealthEvent {
    /// No successful fetch for longer than the target's `failing_for`.
    Failing {
        /// The feed's name.
        feed: String,
        /// Since when (the last success, or when the feed was added).
        since: DateTime<Utc>,
        /// The last error.
        error: Option<String>,
    },
    /// A permanent redirect was confirmed: the feed is polled at `to`.
    Moved {
        /// The feed's name.
        feed: String,
        /// The new URL.
        to: String,
    },
    /// The server said 410 Gone: the feed is no longer polled.
    Gone {
        /// The feed's name.
        feed: String,
        /// The URL that answered.
        url: String,
    },
}

impl HealthEvent {
    /// The event's word (`failing`, `moved`, `gone`).
    pub fn word(&self) -> &'static str {
        match self {
            HealthEvent::Failing { .. } => "failing",
            HealthEvent::Moved { .. } => "moved",
            HealthEvent::Gone { .. } => "gone",
        }
    }

    /// What the key is made of: one event per outage, move or retirement.
    pub fn subject(&self) -> String {
        match self {
            HealthEvent::Failing { feed, since, .. } => {
                format!("failing\u{0}{feed}\u{0}{}", since.timestamp())
            }
            HealthEvent::Moved { feed, to } => format!("moved\u{0}{feed}\u{0}{to}"),
            HealthEvent::Gone { feed, url } => format!("gone\u{0}{feed}\u{0}{url}"),
        }
    }

    /// One line for people.
    pub fn title(&self, now: DateTime<Utc>) -> String {
        match self {
            HealthEvent::Failing { feed, since, .. } => {
                let d = (now - *since).to_std().unwrap_or_default();
                let d = Duration::from_secs(d.as_secs() / 60 * 60);
                format!(
                    "Feed {feed} failing for {}",
                    crate::config::span(d.max(Duration::from_secs(60)))
                )
            }
            HealthEvent::Moved { feed, to } => format!("Feed {feed} moved to {to}"),
            HealthEvent::Gone { feed, .. } => format!("Feed {feed} is gone (410)"),
        }
    }

    /// Whether `target` asked for this kind of event about a feed with
    /// these tags (`failing` is checked against the target's time by the
    /// caller).
    pub fn wanted_by(&self, target: &NotifyConfig, tags: &[String]) -> bool {
        let feed = match self {
            HealthEvent::Failing { feed, .. }
            | HealthEvent::Moved { feed, .. }
            | HealthEvent::Gone { feed, .. } => feed,
        };
        target.select.covers(feed, tags)
            && match self {
                HealthEvent::Failing { .. } => target.health.failing_for.is_some(),
                HealthEvent::Moved { .. } => target.health.moved,
                HealthEvent::Gone { .. } => target.health.gone,
            }
    }
}

/// The wait after the `attempts`-th failure in a row (1-based): the
/// target's `backoff_base` doubling up to its `backoff_max`, scaled by
/// `jitter` (a number in 0..1 from the caller, mapped to ±20 %).
pub fn backoff(d: &Delivery, attempts: u32, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    let base = d
        .backoff_base
        .saturating_mul(1 << doublings)
        .min(d.backoff_max);
    base.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
}

/// A number in 0..1 that differs between calls, for [`backoff`]'s jitter.
pub fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let h = xxhash_rust::xxh3::xxh3_64(&nanos.to_le_bytes());
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// When a target may send its next message under its rate limit, given
/// the times of the messages it sent in the last hour (any order): `None`
/// when it may send now.
pub fn next_slot(
    sent: &[DateTime<Utc>],
    d: &Delivery,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let limits = [
        (d.max_per_minute, chrono::Duration::minutes(1)),
        (d.max_per_hour, chrono::Duration::hours(1)),
    ];
    limits
        .into_iter()
        .filter_map(|(max, span)| {
            let max = max? as usize;
            let mut recent: Vec<DateTime<Utc>> =
                sent.iter().copied().filter(|t| *t > now - span).collect();
            if recent.len() < max {
                return None;
            }
            // The slot frees when the oldest message that keeps the window
            // full leaves it.
            recent.sort_unstable();
            Some(recent[recent.len() - max] + span)
        })
        .max()
}

#[cfg(test)]
mod tests;
