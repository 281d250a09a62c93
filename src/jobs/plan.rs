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
    let cron = schedule.for_feed(feed.schedule.as_deref(), &feed.tags);
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
        .for_feed(feed.schedule.as_deref(), &feed.tags)
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
mod tests {
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;
    use crate::config::Config;
    use crate::model::FeedSpec;
    use crate::store::Store;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 10, 7, 0).unwrap()
    }

    /// The feed `f` every 30 minutes, and its row in a real store after
    /// `sql` set its state.
    fn feed_and_row(sql: &str) -> (Config, FeedRow) {
        let config = Config::parse(
            "[[feeds]]\nname = \"f\"\nurl = \"https://f.example/feed\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).unwrap();
        let spec = FeedSpec {
            name: "f".into(),
            url: "https://f.example/feed".into(),
            tags: vec![],
            dedup: true,
        };
        store.reconcile(&[spec], now()).unwrap();
        // As an operator would, beside the open store.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let row = store.feed_by_name("f").unwrap().unwrap();
        (config, row)
    }

    fn due(sql: &str, response: Option<&ResponseMeta>) -> Due {
        let (config, row) = feed_and_row(sql);
        next_due(
            now(),
            &config.feeds[0],
            &row,
            response,
            &[],
            &config.schedule,
            0.5,
        )
    }

    #[test]
    fn a_healthy_feed_is_due_at_its_schedule() {
        let d = due("", None);
        assert_eq!(d.reason, "schedule");
        assert_eq!(
            d.at,
            Some(Utc.with_ymd_and_hms(2026, 12, 3, 10, 30, 0).unwrap())
        );
    }

    #[test]
    fn a_retired_feed_is_never_due() {
        let d = due("UPDATE feeds SET status = 'gone'", None);
        assert_eq!(
            d,
            Due {
                at: None,
                reason: "retired".into()
            }
        );
    }

    #[test]
    fn retry_after_and_cache_headers_push_the_check_later() {
        let d = due(
            "UPDATE feeds SET retry_after_until = '2026-12-03T12:00:00Z'",
            None,
        );
        assert_eq!(d.reason, "retry-after");
        assert_eq!(
            d.at,
            Some(Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap())
        );
        // A Retry-After already past counts for nothing.
        let d = due(
            "UPDATE feeds SET retry_after_until = '2026-12-03T09:00:00Z'",
            None,
        );
        assert_eq!(d.reason, "schedule");
        let meta = ResponseMeta {
            status: 200,
            validators: Default::default(),
            cache_control: Some("public, max-age=7200".into()),
            expires: None,
            redirects: vec![],
            final_url: None,
            links: Default::default(),
        };
        let d = due("", Some(&meta));
        assert_eq!(d.reason, "cache-header");
        assert!(d.at.unwrap() >= now() + chrono::Duration::hours(2), "{d:?}");
    }

    #[test]
    fn failures_back_off() {
        let d = due("UPDATE feeds SET consecutive_errors = 4", None);
        assert_eq!(d.reason, "backoff");
        assert!(
            d.at.unwrap() > now() + chrono::Duration::minutes(30),
            "{d:?}"
        );
    }

    #[test]
    fn jitter_seeds_differ_per_feed_and_stay_below_one() {
        let seeds: Vec<f64> = (0..1000)
            .map(|i| jitter_seed(&format!("f{i}"), now()))
            .collect();
        assert!(seeds.iter().all(|s| (0.0..1.0).contains(s)));
        let mut distinct = seeds.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert_eq!(distinct.len(), seeds.len());
        assert_eq!(jitter_seed("f", now()), jitter_seed("f", now()));
    }

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
