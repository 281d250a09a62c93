//! After a fetch: when is the feed due next, and why. Joins what the store
//! remembers (errors, hints from the document, Retry-After, retirement) with
//! what the response said (cache headers) and hands it to the pure rule in
//! `schedule::timing`.

use chrono::{DateTime, Utc, Weekday};

use crate::config::{FeedConfig, ScheduleConfig};
use crate::fetch::ResponseMeta;
use crate::schedule::hints::{cache_max_age, parse_http_date};
use crate::schedule::{next_check, Hints, History};
use crate::store::FeedRow;

/// How many recent entries the adaptive mode looks at.
pub const ADAPTIVE_SAMPLE: usize = 20;

/// A feed's next check: `None` when it is retired (410 Gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// When.
    pub at: Option<DateTime<Utc>>,
    /// Why then (`schedule`, `backoff`, `retry-after`, …, or `retired`).
    pub reason: String,
}

/// Computes the next check of `feed` (state `row`, just refreshed, whose
/// response was `response`) at `now`; `random` in `[0, 1)` jitters backoff.
pub fn next_due(
    now: DateTime<Utc>,
    feed: &FeedConfig,
    row: &FeedRow,
    response: Option<&ResponseMeta>,
    recent_entries: &[DateTime<Utc>],
    schedule: &ScheduleConfig,
    random: f64,
) -> Due {
    if row.status == "gone" {
        return Due {
            at: None,
            reason: "retired".into(),
        };
    }
    let h = &row.hints;
    let hints = Hints {
        max_age: response
            .and_then(|r| r.cache_control.as_deref())
            .and_then(cache_max_age),
        expires: response
            .and_then(|r| r.expires.as_deref())
            .and_then(parse_http_date),
        retry_after: row.retry_after_until.filter(|t| *t > now),
        ttl: h
            .ttl_minutes
            .map(|m| std::time::Duration::from_secs(u64::from(m) * 60)),
        update_period: h.update_interval_secs.map(std::time::Duration::from_secs),
        skip_hours: h.skip_hours.clone(),
        skip_days: h
            .skip_days
            .iter()
            .filter_map(|d| Weekday::try_from(*d).ok())
            .collect(),
    };
    let history = History {
        consecutive_errors: row.consecutive_errors,
        recent_entries,
    };
    let cron = schedule.for_feed(feed.schedule.as_ref(), &feed.tags);
    match next_check(
        now,
        cron,
        schedule.timezone,
        &hints,
        &history,
        &schedule.policy,
        random,
    ) {
        Some(n) => Due {
            at: Some(n.at),
            reason: n.reason.as_str().to_string(),
        },
        None => Due {
            at: None,
            reason: "schedule never fires again".into(),
        },
    }
}

/// The next check of a feed whose hub pushes its documents (its lease
/// ends at `lease_end`): polled every `every` as a safety net rather than
/// when `due` says, but polled when the lease ends if that comes first
/// (a hub that stops renewing leaves the feed polled as before).
pub fn while_pushed(
    due: Due,
    now: DateTime<Utc>,
    every: std::time::Duration,
    lease_end: Option<DateTime<Utc>>,
) -> Due {
    let (Some(at), Some(end)) = (due.at, lease_end) else {
        return due;
    };
    let safety = now + every;
    // Polled as before when the schedule comes first anyway, or when the
    // lease ends before it would.
    if at >= safety || end <= at {
        return due;
    }
    Due {
        at: Some(safety.min(end)),
        reason: "pushed".into(),
    }
}

/// The first check of a feed never fetched, or after a schedule change:
/// the next fire of its schedule.
pub fn on_schedule(
    now: DateTime<Utc>,
    feed: &FeedConfig,
    schedule: &ScheduleConfig,
) -> Option<DateTime<Utc>> {
    schedule
        .for_feed(feed.schedule.as_ref(), &feed.tags)
        .next_after(now, schedule.timezone)
}

/// A number in `[0, 1)` that differs per feed and per moment, for jitter
/// (no global random state needed).
pub fn jitter_seed(name: &str, now: DateTime<Utc>) -> f64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(name.as_bytes());
    h.update(&now.timestamp_nanos_opt().unwrap_or(0).to_le_bytes());
    (h.digest() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod pushed_tests {
    use super::*;

    #[test]
    fn pushed_feeds_wait_for_the_safety_net_or_the_lease() {
        let now = Utc::now();
        let min = |m: i64| now + chrono::Duration::minutes(m);
        let due = |m: i64| Due {
            at: Some(min(m)),
            reason: "schedule".into(),
        };
        let every = std::time::Duration::from_secs(3600);
        // Lease beyond the safety net: polled at the safety net.
        let d = while_pushed(due(10), now, every, Some(min(600)));
        assert_eq!((d.at, d.reason.as_str()), (Some(min(60)), "pushed"));
        // Lease ending before the safety net: polled when it ends.
        let d = while_pushed(due(10), now, every, Some(min(30)));
        assert_eq!((d.at, d.reason.as_str()), (Some(min(30)), "pushed"));
        // Lease ending before the schedule, or a schedule past the safety
        // net, or no lease: as before.
        assert_eq!(while_pushed(due(10), now, every, Some(min(5))), due(10));
        assert_eq!(while_pushed(due(90), now, every, Some(min(600))), due(90));
        assert_eq!(while_pushed(due(10), now, every, None), due(10));
    }
}
