//! Each rule of the next check, with `now` fixed at Monday 2026-03-09 10:00 UTC
//! unless a test says otherwise.

use super::*;
use chrono::Weekday;
use chrono_tz::{Europe::Berlin, UTC};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

const NOW: &str = "2026-03-09T10:00:00Z";

/// The next check of a feed on `expression` (in UTC), with the default policy.
fn check(expression: &str, hints: &Hints, history: &History<'_>) -> NextCheck {
    check_with(expression, hints, history, &Policy::default(), 0.5)
}

fn check_with(
    expression: &str,
    hints: &Hints,
    history: &History<'_>,
    policy: &Policy,
    random: f64,
) -> NextCheck {
    let schedule = CronSchedule::parse(expression).unwrap();
    next_check(at(NOW), &schedule, UTC, hints, history, policy, random).unwrap()
}

fn expect(at_text: &str, reason: NextReason) -> NextCheck {
    NextCheck {
        at: at(at_text),
        reason,
    }
}

const QUARTER: &str = "*/15 * * * *";

#[test]
fn without_hints_the_schedule_decides() {
    let next = check(QUARTER, &Hints::default(), &History::default());
    assert_eq!(next, expect("2026-03-09T10:15:00Z", NextReason::Schedule));
}

#[test]
fn a_hint_shorter_than_the_schedule_changes_nothing() {
    for max_age in [minutes(5), minutes(15)] {
        let hints = Hints {
            max_age: Some(max_age),
            ..Hints::default()
        };
        let next = check(QUARTER, &hints, &History::default());
        assert_eq!(next, expect("2026-03-09T10:15:00Z", NextReason::Schedule));
    }
}

#[test]
fn max_age_pushes_to_the_next_fire_after_it() {
    let hints = Hints {
        max_age: Some(minutes(20)),
        ..Hints::default()
    };
    let next = check(QUARTER, &hints, &History::default());
    assert_eq!(
        next,
        expect("2026-03-09T10:30:00Z", NextReason::CacheHeader)
    );
}

#[test]
fn expires_counts_unless_max_age_is_given() {
    let expires = Hints {
        expires: Some(at("2026-03-09T11:05:00Z")),
        ..Hints::default()
    };
    let next = check(QUARTER, &expires, &History::default());
    assert_eq!(
        next,
        expect("2026-03-09T11:15:00Z", NextReason::CacheHeader)
    );
    let both = Hints {
        max_age: Some(minutes(20)),
        ..expires
    };
    let next = check(QUARTER, &both, &History::default());
    assert_eq!(
        next,
        expect("2026-03-09T10:30:00Z", NextReason::CacheHeader)
    );
    let past = Hints {
        expires: Some(at("2026-03-09T09:00:00Z")),
        ..Hints::default()
    };
    let next = check(QUARTER, &past, &History::default());
    assert_eq!(next, expect("2026-03-09T10:15:00Z", NextReason::Schedule));
}

#[test]
fn retry_after_is_honoured_up_to_the_hint_cap() {
    let hints = Hints {
        retry_after: Some(at("2026-03-09T10:40:00Z")),
        ..Hints::default()
    };
    let next = check(QUARTER, &hints, &History::default());
    assert_eq!(next, expect("2026-03-09T10:45:00Z", NextReason::RetryAfter));
    // Three days is more than the default 24 h cap.
    let hints = Hints {
        retry_after: Some(at("2026-03-12T10:00:00Z")),
        ..Hints::default()
    };
    let next = check(QUARTER, &hints, &History::default());
    assert_eq!(next, expect("2026-03-10T10:00:00Z", NextReason::RetryAfter));
}

#[test]
fn feed_ttl_and_update_period() {
    let ttl = Hints {
        ttl: Some(minutes(60)),
        ..Hints::default()
    };
    let next = check(QUARTER, &ttl, &History::default());
    assert_eq!(next, expect("2026-03-09T11:00:00Z", NextReason::FeedTtl));
    let period = Hints {
        update_period: Some(hours(2)),
        ..Hints::default()
    };
    let next = check(QUARTER, &period, &History::default());
    assert_eq!(
        next,
        expect("2026-03-09T12:00:00Z", NextReason::UpdatePeriod)
    );
}

#[test]
fn the_latest_hint_wins_and_ties_go_by_precedence() {
    let hints = Hints {
        max_age: Some(minutes(20)),
        ttl: Some(minutes(60)),
        ..Hints::default()
    };
    let next = check(QUARTER, &hints, &History::default());
    assert_eq!(next, expect("2026-03-09T11:00:00Z", NextReason::FeedTtl));
    let tie = Hints {
        max_age: Some(minutes(30)),
        retry_after: Some(at("2026-03-09T10:30:00Z")),
        ..Hints::default()
    };
    let next = check(QUARTER, &tie, &History::default());
    assert_eq!(next, expect("2026-03-09T10:30:00Z", NextReason::RetryAfter));
}

#[test]
fn skip_hours_move_to_the_first_open_fire() {
    let hints = Hints {
        skip_hours: vec![10, 11, 12],
        ..Hints::default()
    };
    let next = check(QUARTER, &hints, &History::default());
    assert_eq!(next, expect("2026-03-09T13:00:00Z", NextReason::SkipHours));
}

#[test]
fn skip_hours_are_gmt_whatever_the_schedule_zone() {
    // 12:30 in Berlin is 11:30 UTC until Sunday 2026-03-29, when summer time
    // makes it 10:30 UTC. Hour 11 GMT is skipped, so the first open fire is
    // that Sunday's.
    let schedule = CronSchedule::parse("30 12 * * *").unwrap();
    let hints = Hints {
        skip_hours: vec![11],
        ..Hints::default()
    };
    let (history, policy) = (History::default(), Policy::default());
    let next = next_check(at(NOW), &schedule, Berlin, &hints, &history, &policy, 0.5);
    assert_eq!(
        next,
        Some(expect("2026-03-29T10:30:00Z", NextReason::SkipHours))
    );
}

#[test]
fn a_schedule_firing_only_in_skipped_hours_still_fires() {
    let hints = Hints {
        skip_hours: vec![11],
        ..Hints::default()
    };
    let next = check("30 11 * * *", &hints, &History::default());
    assert_eq!(next, expect("2026-03-09T11:30:00Z", NextReason::Schedule));
}

#[test]
fn skip_days() {
    // From Monday 23:30, the next hourly fire is Tuesday 00:00; Tuesday is
    // skipped, so Wednesday 2026-03-11 00:00.
    let schedule = CronSchedule::parse("0 * * * *").unwrap();
    let hints = Hints {
        skip_days: vec![Weekday::Tue],
        ..Hints::default()
    };
    let now = at("2026-03-09T23:30:00Z");
    let next = next_check(
        now,
        &schedule,
        UTC,
        &hints,
        &History::default(),
        &Policy::default(),
        0.5,
    );
    assert_eq!(
        next,
        Some(expect("2026-03-11T00:00:00Z", NextReason::SkipDays))
    );
}

#[test]
fn skipping_everything_is_ignored() {
    let hints = Hints {
        skip_hours: (0..24).collect(),
        skip_days: vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ],
        ..Hints::default()
    };
    let next = check(QUARTER, &hints, &History::default());
    assert_eq!(next, expect("2026-03-09T10:15:00Z", NextReason::Schedule));
}

#[test]
fn skip_hour_24_is_midnight() {
    let hints = Hints {
        skip_hours: vec![24],
        ..Hints::default()
    };
    let next = check("0 0 * * *", &hints, &History::default());
    assert_eq!(next, expect("2026-03-10T00:00:00Z", NextReason::Schedule));
    let next = check("0 0,6 * * *", &hints, &History::default());
    assert_eq!(next, expect("2026-03-10T06:00:00Z", NextReason::SkipHours));
}

#[test]
fn backoff_doubles_with_each_error() {
    let policy = Policy::default();
    let delays: Vec<_> = (1..=4).map(|n| backoff(n, &policy, 0.5)).collect();
    let expected = [5, 10, 20, 40].map(|m| Some(minutes(m)));
    assert_eq!(delays, expected);
}

#[test]
fn backoff_jitter_stays_within_twenty_percent() {
    let policy = Policy::default();
    assert_eq!(backoff(1, &policy, 0.0), Some(minutes(4)));
    let longest = backoff(1, &policy, 0.999).unwrap();
    assert!(
        longest > Duration::from_secs(359) && longest < minutes(6),
        "{longest:?}"
    );
    // Out-of-range random values are clamped, not trusted.
    assert_eq!(backoff(1, &policy, -3.0), Some(minutes(4)));
    assert_eq!(backoff(1, &policy, f64::NAN), Some(minutes(5)));
}

#[test]
fn backoff_is_capped_jitter_included() {
    let policy = Policy::default();
    assert_eq!(backoff(20, &policy, 0.5), Some(hours(24)));
    assert_eq!(backoff(20, &policy, 0.999), Some(hours(24)));
    let shortest = backoff(20, &policy, 0.0).unwrap();
    assert!(shortest.abs_diff(hours(24) * 4 / 5) < Duration::from_millis(1));
    assert_eq!(backoff(u32::MAX, &policy, 0.5), Some(hours(24)));
    let tight = Policy {
        backoff_max: hours(1),
        ..Policy::default()
    };
    assert_eq!(backoff(10, &tight, 0.999), Some(hours(1)));
}

#[test]
fn no_backoff_after_a_success() {
    assert_eq!(backoff(0, &Policy::default(), 0.999), None);
    let next = check("* * * * *", &Hints::default(), &History::default());
    assert_eq!(next, expect("2026-03-09T10:01:00Z", NextReason::Schedule));
}

#[test]
fn errors_back_off_on_the_schedule_grid() {
    let failing = |consecutive_errors| History {
        consecutive_errors,
        ..History::default()
    };
    // Five minutes is within the quarter hour: the schedule still decides.
    let next = check(QUARTER, &Hints::default(), &failing(1));
    assert_eq!(next, expect("2026-03-09T10:15:00Z", NextReason::Schedule));
    let next = check(QUARTER, &Hints::default(), &failing(3));
    assert_eq!(next, expect("2026-03-09T10:30:00Z", NextReason::Backoff));
    let next = check("* * * * *", &Hints::default(), &failing(1));
    assert_eq!(next, expect("2026-03-09T10:05:00Z", NextReason::Backoff));
    // However many errors, the feed is tried again within the cap.
    let next = check(QUARTER, &Hints::default(), &failing(1000));
    assert_eq!(next, expect("2026-03-10T10:00:00Z", NextReason::Backoff));
}

fn adaptive_policy() -> Policy {
    Policy {
        adaptive: Some(Adaptive::default()),
        ..Policy::default()
    }
}

#[test]
fn adaptive_waits_half_the_publishing_interval() {
    // Daily entries, the newest an hour ago: wait half a day.
    let entries: Vec<_> = (0..5)
        .map(|day| at("2026-03-09T09:00:00Z") - TimeDelta::days(day))
        .collect();
    let history = History {
        recent_entries: &entries,
        ..History::default()
    };
    let next = check_with(
        QUARTER,
        &Hints::default(),
        &history,
        &adaptive_policy(),
        0.5,
    );
    assert_eq!(next, expect("2026-03-09T22:00:00Z", NextReason::Adaptive));
}

#[test]
fn adaptive_never_beyond_its_maximum_nor_below_the_schedule() {
    let weekly: Vec<_> = (0..4)
        .map(|week| at("2026-03-09T09:00:00Z") - TimeDelta::weeks(week))
        .collect();
    let history = History {
        recent_entries: &weekly,
        ..History::default()
    };
    let next = check_with(
        QUARTER,
        &Hints::default(),
        &history,
        &adaptive_policy(),
        0.5,
    );
    assert_eq!(next, expect("2026-03-10T10:00:00Z", NextReason::Adaptive));
    let busy: Vec<_> = (0..10)
        .map(|n| at("2026-03-09T09:58:00Z") - TimeDelta::minutes(2 * n))
        .collect();
    let history = History {
        recent_entries: &busy,
        ..History::default()
    };
    let next = check_with(
        QUARTER,
        &Hints::default(),
        &history,
        &adaptive_policy(),
        0.5,
    );
    assert_eq!(next, expect("2026-03-09T10:15:00Z", NextReason::Schedule));
}

#[test]
fn adaptive_slows_down_a_feed_gone_quiet() {
    let adaptive = Adaptive {
        max_interval: hours(24 * 30),
        ..Adaptive::default()
    };
    // Hourly entries, but the newest is four days old: wait two days.
    let entries: Vec<_> = (0..5)
        .map(|n| at("2026-03-05T10:00:00Z") - TimeDelta::hours(n))
        .collect();
    assert_eq!(
        adaptive_interval(&entries, at(NOW), &adaptive),
        Some(hours(48))
    );
    // Entries dated in the future do not count.
    let future = [at("2026-03-05T10:00:00Z"), at("2026-04-01T00:00:00Z")];
    assert_eq!(
        adaptive_interval(&future, at(NOW), &adaptive),
        Some(hours(48))
    );
    assert_eq!(adaptive_interval(&[], at(NOW), &adaptive), None);
}

#[test]
fn adaptive_is_off_by_default() {
    let entries = [at("2026-03-01T00:00:00Z")];
    let history = History {
        recent_entries: &entries,
        ..History::default()
    };
    let next = check(QUARTER, &Hints::default(), &history);
    assert_eq!(next, expect("2026-03-09T10:15:00Z", NextReason::Schedule));
}

#[test]
fn overdue_feeds_are_spread_over_the_window() {
    let starts = spread_overdue(at(NOW), 4, hours(1));
    let expected: Vec<_> = [
        "2026-03-09T10:00:00Z",
        "2026-03-09T10:15:00Z",
        "2026-03-09T10:30:00Z",
        "2026-03-09T10:45:00Z",
    ]
    .iter()
    .map(|text| at(text))
    .collect();
    assert_eq!(starts, expected);
    assert_eq!(spread_overdue(at(NOW), 1, hours(1)), vec![at(NOW)]);
    assert!(spread_overdue(at(NOW), 0, hours(1)).is_empty());
}

#[test]
fn reasons_have_stable_names() {
    assert_eq!(NextReason::CacheHeader.to_string(), "cache-header");
    assert_eq!(NextReason::SkipHours.as_str(), "skip-hours");
    assert_eq!(NextReason::Schedule.as_str(), "schedule");
}
