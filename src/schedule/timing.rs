//! The next check of a feed: its schedule, slowed down by what the publisher
//! and past fetches said, and the reason for the time chosen.
//!
//! Owns the rule combining them:
//! 1. The cron schedule is the most often a feed is checked.
//! 2. Every other input is a "not before" time: publisher hints
//!    ([`Hints`]; each capped at [`Policy::hint_max`] from now), backoff after
//!    consecutive errors, and the optional adaptive interval for quiet feeds.
//! 3. The next check is the first schedule fire at or after the latest of
//!    those, so checks stay on the cron grid; the reason names the input that
//!    pushed it there, or [`NextReason::Schedule`] if none did.
//! 4. A fire in an hour or on a day the feed asks to skip (in GMT) moves to the
//!    first fire outside them.
//!
//! Also the pure helpers behind rule 2 ([`backoff`], [`adaptive_interval`]) and
//! [`spread_overdue`] for catching up after downtime. Nothing here reads the
//! clock or draws random numbers: the caller passes `now` and a random value.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use super::crontab::CronSchedule;
use super::hints::Hints;

/// Default delay after the first consecutive error; it doubles with each further one.
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_secs(5 * 60);
/// Default longest delay after errors: a failing feed is still tried daily, never given up.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(24 * 3600);
/// Default spread of backoff delays: ±20 %, so feeds failing together drift apart.
pub const DEFAULT_JITTER: f64 = 0.2;
/// Default longest delay a publisher hint may impose, so a stray
/// `max-age` of a year cannot silence a feed.
pub const DEFAULT_HINT_MAX: Duration = Duration::from_secs(24 * 3600);
/// Default longest interval the adaptive mode may stretch a quiet feed to.
pub const DEFAULT_ADAPTIVE_MAX: Duration = Duration::from_secs(24 * 3600);
/// Default share of a feed's publishing interval to wait between checks.
pub const DEFAULT_ADAPTIVE_SHARE: f64 = 0.5;

/// Why a feed's next check is at the time chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NextReason {
    /// The next fire of the cron schedule; nothing slowed it down.
    Schedule,
    /// `Cache-Control: max-age` or `Expires`.
    CacheHeader,
    /// `Retry-After`.
    RetryAfter,
    /// RSS `<ttl>`.
    FeedTtl,
    /// `sy:updatePeriod` / `sy:updateFrequency`.
    UpdatePeriod,
    /// Waiting longer after consecutive errors.
    Backoff,
    /// The feed publishes rarely, so it is checked less often.
    Adaptive,
    /// RSS `<skipHours>`.
    SkipHours,
    /// RSS `<skipDays>`.
    SkipDays,
}

impl NextReason {
    /// A stable lowercase name for logs and the database, such as `cache-header`.
    pub fn as_str(self) -> &'static str {
        match self {
            NextReason::Schedule => "schedule",
            NextReason::CacheHeader => "cache-header",
            NextReason::RetryAfter => "retry-after",
            NextReason::FeedTtl => "feed-ttl",
            NextReason::UpdatePeriod => "update-period",
            NextReason::Backoff => "backoff",
            NextReason::Adaptive => "adaptive",
            NextReason::SkipHours => "skip-hours",
            NextReason::SkipDays => "skip-days",
        }
    }
}

impl fmt::Display for NextReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When to check a feed next, and why then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextCheck {
    /// The moment of the check, always a fire time of the feed's schedule.
    pub at: DateTime<Utc>,
    /// What put the check there.
    pub reason: NextReason,
}

/// The operator's knobs for slowing feeds down.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Delay after the first consecutive error; the n-th waits `base × 2^(n−1)`.
    pub backoff_base: Duration,
    /// Longest delay after errors, jitter included.
    pub backoff_max: Duration,
    /// Relative spread of backoff delays, 0.2 for ±20 %; clamped to 0..=1.
    pub jitter: f64,
    /// Longest delay any one publisher hint may impose.
    pub hint_max: Duration,
    /// Check rarely-publishing feeds less often; `None` turns it off.
    pub adaptive: Option<Adaptive>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_max: DEFAULT_BACKOFF_MAX,
            jitter: DEFAULT_JITTER,
            hint_max: DEFAULT_HINT_MAX,
            adaptive: None,
        }
    }
}

/// Settings of the adaptive mode, which stretches the interval for quiet feeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Adaptive {
    /// The interval never grows beyond this.
    pub max_interval: Duration,
    /// The share of the feed's publishing interval to wait, 0.5 for half.
    pub share: f64,
}

impl Default for Adaptive {
    fn default() -> Self {
        Adaptive {
            max_interval: DEFAULT_ADAPTIVE_MAX,
            share: DEFAULT_ADAPTIVE_SHARE,
        }
    }
}

/// What past fetches of the feed said.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct History<'a> {
    /// Failed fetches since the last success; 0 after a success.
    pub consecutive_errors: u32,
    /// When the feed's recent entries appeared (first-seen times are safer
    /// than publisher dates); any order. Only the adaptive mode reads them.
    pub recent_entries: &'a [DateTime<Utc>],
}

/// When to check a feed next, counted from `now`, the moment its last check
/// finished.
///
/// `random` is a uniform random number in `[0, 1)` from the caller, used only
/// to jitter backoff. `None` only if the schedule never fires again (past 2100).
pub fn next_check(
    now: DateTime<Utc>,
    schedule: &CronSchedule,
    tz: Tz,
    hints: &Hints,
    history: &History<'_>,
    policy: &Policy,
    random: f64,
) -> Option<NextCheck> {
    let hint = |at: Option<DateTime<Utc>>| at.map(|at| at.min(later(now, policy.hint_max)));
    let hint_for = |delay: Option<Duration>| hint(delay.map(|delay| later(now, delay)));
    // In order of precedence: on a tie, the first one listed is reported.
    let not_before = [
        (hint(hints.retry_after), NextReason::RetryAfter),
        (
            backoff(history.consecutive_errors, policy, random).map(|delay| later(now, delay)),
            NextReason::Backoff,
        ),
        (
            hint_for(hints.max_age).or(hint(hints.expires)),
            NextReason::CacheHeader,
        ),
        (hint_for(hints.ttl), NextReason::FeedTtl),
        (hint_for(hints.update_period), NextReason::UpdatePeriod),
        (
            policy
                .adaptive
                .as_ref()
                .and_then(|adaptive| adaptive_interval(history.recent_entries, now, adaptive))
                .map(|interval| later(now, interval)),
            NextReason::Adaptive,
        ),
    ];
    let mut latest = (now, NextReason::Schedule);
    for (at, reason) in not_before {
        if let Some(at) = at.filter(|at| *at > latest.0) {
            latest = (at, reason);
        }
    }

    let on_schedule = schedule.next_after(now, tz)?;
    let mut next = NextCheck {
        at: on_schedule,
        reason: NextReason::Schedule,
    };
    if latest.0 > on_schedule {
        next = NextCheck {
            at: fire_at_or_after(schedule, latest.0, tz)?,
            reason: latest.1,
        };
    }
    Some(Skipped::from(hints).avoid(next, schedule, tz))
}

/// The delay before retrying a feed after `consecutive_errors` failures in a
/// row: `base × 2^(n−1)`, capped at `backoff_max`, spread by ±`jitter` using
/// `random` in `[0, 1)` (0 gives the shortest, towards 1 the longest), and
/// capped again so jitter never exceeds the maximum. `None` when the last
/// fetch succeeded.
pub fn backoff(consecutive_errors: u32, policy: &Policy, random: f64) -> Option<Duration> {
    let doublings = consecutive_errors.checked_sub(1)?;
    let cap = policy.backoff_max.as_secs_f64();
    // 2^1023 is the largest finite power; any capped delay saturates long before.
    let exponent = doublings.min(1023) as i32;
    let delay = (policy.backoff_base.as_secs_f64() * 2f64.powi(exponent)).min(cap);
    let random = if random.is_nan() {
        0.5
    } else {
        random.clamp(0.0, 1.0)
    };
    let factor = 1.0 + policy.jitter.clamp(0.0, 1.0) * (2.0 * random - 1.0);
    Some(Duration::try_from_secs_f64((delay * factor).min(cap)).unwrap_or(policy.backoff_max))
}

/// How long to wait between checks of a feed that publishes at the pace of
/// `recent_entries`: `share` of its publishing interval, at most `max_interval`.
///
/// The publishing interval is the mean gap between the entries or, when the
/// feed has gone quiet since, the time since its newest entry, so a dormant
/// feed is checked less and less often. Entries dated after `now` are
/// ignored. `None` without any entry to judge by.
pub fn adaptive_interval(
    recent_entries: &[DateTime<Utc>],
    now: DateTime<Utc>,
    adaptive: &Adaptive,
) -> Option<Duration> {
    let mut past = recent_entries.iter().copied().filter(|at| *at <= now);
    let first = past.next()?;
    let (oldest, newest, count) = past.fold((first, first, 1i64), |(oldest, newest, count), at| {
        (oldest.min(at), newest.max(at), count + 1)
    });
    let mean_gap = if count > 1 {
        (newest - oldest).num_seconds() / (count - 1)
    } else {
        0
    };
    let silence = (now - newest).num_seconds();
    let interval = mean_gap.max(silence) as f64 * adaptive.share.max(0.0);
    let interval = Duration::try_from_secs_f64(interval).unwrap_or(adaptive.max_interval);
    Some(interval.min(adaptive.max_interval))
}

/// Start times for `count` overdue feeds (after downtime, say), spread evenly
/// over `window` from `now` so they are not all fetched at once: the i-th
/// starts at `now + window × i / count`.
pub fn spread_overdue(now: DateTime<Utc>, count: usize, window: Duration) -> Vec<DateTime<Utc>> {
    let window = window.as_nanos();
    (0..count)
        .map(|index| {
            let offset = window * index as u128 / count as u128;
            later(
                now,
                Duration::from_nanos(offset.try_into().unwrap_or(u64::MAX)),
            )
        })
        .collect()
}

/// `at + delay`, saturating instead of overflowing.
fn later(at: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(delay)
        .ok()
        .and_then(|delay| at.checked_add_signed(delay))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The first fire of `schedule` at or after `at`.
fn fire_at_or_after(schedule: &CronSchedule, at: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let just_before = at
        .checked_sub_signed(TimeDelta::nanoseconds(1))
        .unwrap_or(at);
    schedule.next_after(just_before, tz)
}

/// The GMT hours and weekdays a feed asks not to be checked in.
struct Skipped {
    /// Bit h set to skip hour h.
    hours: u32,
    /// Bit d set to skip the weekday d days from Monday.
    days: u8,
}

impl Skipped {
    /// A feed asking to skip every hour, or every day, is ignored on that
    /// count: hints slow a feed down but never silence it.
    fn from(hints: &Hints) -> Skipped {
        const EVERY_HOUR: u32 = (1 << 24) - 1;
        const EVERY_DAY: u8 = (1 << 7) - 1;
        let hours = hints
            .skip_hours
            .iter()
            .filter(|hour| **hour <= 24)
            .fold(0, |hours, hour| hours | 1 << (hour % 24));
        let days = hints
            .skip_days
            .iter()
            .fold(0, |days, day| days | 1 << day.num_days_from_monday());
        Skipped {
            hours: if hours == EVERY_HOUR { 0 } else { hours },
            days: if days == EVERY_DAY { 0 } else { days },
        }
    }

    /// Why `at` is skipped, if it is.
    fn reason(&self, at: DateTime<Utc>) -> Option<NextReason> {
        if self.hours & 1 << at.hour() != 0 {
            Some(NextReason::SkipHours)
        } else if self.days & 1 << at.weekday().num_days_from_monday() != 0 {
            Some(NextReason::SkipDays)
        } else {
            None
        }
    }

    /// The start of the first hour after `at` that is not skipped.
    fn next_open_hour(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let hour_start = at.timestamp() - at.timestamp().rem_euclid(3600);
        let hour_start = DateTime::from_timestamp(hour_start, 0).unwrap_or(at);
        // Some hour of some day is open, so a week and a day always reach it.
        (1..=24 * 8)
            .map(|hours| hour_start + TimeDelta::hours(hours))
            .find(|hour| self.reason(*hour).is_none())
            .unwrap_or(at)
    }

    /// `next` moved to the first schedule fire outside the skipped hours and
    /// days, with the skip as its reason. Left alone if no fire within many
    /// tries is open: then the schedule only fires in skipped hours, and the
    /// schedule wins.
    fn avoid(&self, next: NextCheck, schedule: &CronSchedule, tz: Tz) -> NextCheck {
        const TRIES: usize = 1000;
        let Some(reason) = self.reason(next.at) else {
            return next;
        };
        let mut at = next.at;
        for _ in 0..TRIES {
            if self.reason(at).is_none() {
                return NextCheck { at, reason };
            }
            match fire_at_or_after(schedule, self.next_open_hour(at), tz) {
                Some(fire) => at = fire,
                None => break,
            }
        }
        next
    }
}

#[cfg(test)]
mod tests;
