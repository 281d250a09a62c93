//! Wall-clock times in a time zone, turned into instants across daylight-saving changes.
//!
//! Owns the one hard question of schedule math: which instants a local time
//! such as "02:30" stands for on a day when the clock jumps. The calendar
//! walking itself is left to the `cron` crate, run on a zone without changes
//! (UTC standing in for naive local time), so it yields wall-clock readings in
//! order; this module maps each reading to zero, one or two instants.
//!
//! Why not let `cron` walk the zone itself: in a repeated hour it can return a
//! time before the one asked about, and it silently drops skipped times.

use chrono::{DateTime, Datelike, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// How a schedule crosses a daylight-saving change; decided by its hour field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cadence {
    /// Pinned to certain hours: every matching wall-clock time fires exactly
    /// once. A skipped time fires when the gap ends; a repeated one fires on
    /// its first occurrence.
    FixedHours,
    /// Hour field taking every hour (`*`): the schedule follows elapsed time. A skipped time is
    /// not made up, and a repeated one fires in both passes.
    EveryHour,
}

/// The largest amount a clock is ever set back (real changes are one hour,
/// or half an hour on Lord Howe Island); bounds how far back to look.
const MAX_FOLD: TimeDelta = TimeDelta::hours(3);

/// The `cron` crate knows no year after this one.
const LAST_YEAR: i32 = 2100;

/// The first instant strictly after `after` at which `schedule`, read as
/// wall-clock time in `tz`, fires.
pub(super) fn next_after(
    schedule: &cron::Schedule,
    cadence: Cadence,
    after: DateTime<Utc>,
    tz: Tz,
) -> Option<DateTime<Utc>> {
    if after.year() > LAST_YEAR {
        return None;
    }
    // When the clock is about to be set back, wall-clock readings earlier than
    // the present one will come round again; start the walk that far back.
    let offsets = Offsets::around(after, tz);
    let lookback = (offsets.now - offsets.soon).max(TimeDelta::zero());
    let local_after = after.with_timezone(&tz).naive_local();
    let mut best: Option<DateTime<Utc>> = None;
    for reading in schedule.after(&(local_after - lookback).and_utc()) {
        let reading = reading.naive_utc();
        if let Some(found) = best {
            // A reading maps to an instant no earlier than itself minus the
            // largest offset in force, so past this one none can beat `found`.
            if reading > found.naive_utc() + offsets.now.max(offsets.soon) {
                break;
            }
        }
        for instant in instants(reading, cadence, tz).into_iter().flatten() {
            if instant > after && best.is_none_or(|found| instant < found) {
                best = Some(instant);
            }
        }
    }
    best
}

/// The zone's offset from UTC now and `MAX_FOLD` later: they differ when
/// the clock is about to change.
struct Offsets {
    now: TimeDelta,
    soon: TimeDelta,
}

impl Offsets {
    fn around(at: DateTime<Utc>, tz: Tz) -> Offsets {
        let offset = |t: DateTime<Utc>| {
            let seconds = tz
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc();
            TimeDelta::seconds(i64::from(seconds))
        };
        Offsets {
            now: offset(at),
            soon: offset(at.checked_add_signed(MAX_FOLD).unwrap_or(at)),
        }
    }
}

/// The instants a wall-clock reading stands for under `cadence`.
fn instants(reading: NaiveDateTime, cadence: Cadence, tz: Tz) -> [Option<DateTime<Utc>>; 2] {
    use chrono::LocalResult;
    let utc = |t: DateTime<Tz>| Some(t.with_timezone(&Utc));
    match (tz.from_local_datetime(&reading), cadence) {
        (LocalResult::Single(t), _) => [utc(t), None],
        (LocalResult::Ambiguous(first, second), Cadence::EveryHour) => [utc(first), utc(second)],
        (LocalResult::Ambiguous(first, second), Cadence::FixedHours) => {
            [utc(first.min(second)), None]
        }
        (LocalResult::None, Cadence::EveryHour) => [None, None],
        (LocalResult::None, Cadence::FixedHours) => [gap_end(reading, tz), None],
    }
}

/// The first instant whose wall-clock reading in `tz` is later than
/// `reading`: for a reading skipped by spring-forward, the moment the gap ends.
fn gap_end(reading: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    let target = reading.and_utc().timestamp();
    let shows_later = |ts: i64| {
        let Some(t) = DateTime::from_timestamp(ts, 0) else {
            return true;
        };
        let offset = tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        ts + i64::from(offset.local_minus_utc()) > target
    };
    // Offsets stay within a day of UTC, so the answer lies within a day of
    // the reading taken as UTC; bisect to the second (changes fall on whole seconds).
    const DAY: i64 = 86_400;
    let (mut early, mut late) = (target - DAY, target + DAY);
    while late - early > 1 {
        let middle = early + (late - early) / 2;
        if shows_later(middle) {
            late = middle;
        } else {
            early = middle;
        }
    }
    DateTime::from_timestamp(late, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::Berlin};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn wall(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    #[test]
    fn gap_end_is_the_moment_the_clock_jumps() {
        // 2026-03-08: New York jumps from 02:00 EST to 03:00 EDT at 07:00 UTC.
        let end = gap_end(wall("2026-03-08T02:30:00"), New_York);
        assert_eq!(end, Some(at("2026-03-08T07:00:00Z")));
        // 2026-03-29: Berlin jumps from 02:00 CET to 03:00 CEST at 01:00 UTC.
        let end = gap_end(wall("2026-03-29T02:00:00"), Berlin);
        assert_eq!(end, Some(at("2026-03-29T01:00:00Z")));
    }

    #[test]
    fn offsets_see_the_coming_setback() {
        // 2026-11-01: New York falls back from 02:00 EDT to 01:00 EST at 06:00 UTC.
        let (edt, est) = (TimeDelta::hours(-4), TimeDelta::hours(-5));
        let before = Offsets::around(at("2026-11-01T04:30:00Z"), New_York);
        assert_eq!((before.now, before.soon), (edt, est));
        let after = Offsets::around(at("2026-11-01T06:00:00Z"), New_York);
        assert_eq!((after.now, after.soon), (est, est));
    }

    #[test]
    fn repeated_reading_maps_by_cadence() {
        // 2026-10-25 02:30 in Berlin happens at 00:30 UTC (CEST) and 01:30 UTC (CET).
        let reading = wall("2026-10-25T02:30:00");
        let first = Some(at("2026-10-25T00:30:00Z"));
        let second = Some(at("2026-10-25T01:30:00Z"));
        assert_eq!(
            instants(reading, Cadence::FixedHours, Berlin),
            [first, None]
        );
        assert_eq!(
            instants(reading, Cadence::EveryHour, Berlin),
            [first, second]
        );
    }

    #[test]
    fn skipped_reading_maps_by_cadence() {
        let reading = wall("2026-03-29T02:30:00");
        let end = Some(at("2026-03-29T01:00:00Z"));
        assert_eq!(instants(reading, Cadence::FixedHours, Berlin), [end, None]);
        assert_eq!(instants(reading, Cadence::EveryHour, Berlin), [None, None]);
    }

    #[test]
    fn gives_up_after_the_last_year() {
        let schedule: cron::Schedule = "0 0 0 * * *".parse().unwrap();
        let next = next_after(
            &schedule,
            Cadence::FixedHours,
            at("2100-12-31T12:00:00Z"),
            Berlin,
        );
        assert_eq!(next, None);
    }
}
