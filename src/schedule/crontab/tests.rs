//! Fire times of crontab expressions, computed by hand; the weekday of each
//! date is given in its comment.

use super::*;
use chrono_tz::{America::New_York, Europe::Berlin, UTC};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The next `count` fire times after `after`.
fn fires(expression: &str, tz: Tz, after: &str, count: usize) -> Vec<DateTime<Utc>> {
    let schedule = CronSchedule::parse(expression).unwrap();
    let mut after = at(after);
    let mut fires = Vec::new();
    for _ in 0..count {
        after = schedule.next_after(after, tz).unwrap();
        fires.push(after);
    }
    fires
}

fn times(texts: &[&str]) -> Vec<DateTime<Utc>> {
    texts.iter().map(|text| at(text)).collect()
}

fn error(expression: &str) -> String {
    CronSchedule::parse(expression).unwrap_err().to_string()
}

#[test]
fn sunday_is_zero_seven_or_its_name() {
    // After Wednesday 2026-03-04: Sunday 2026-03-08, then Sunday 2026-03-15.
    let sundays = times(&["2026-03-08T09:00:00Z", "2026-03-15T09:00:00Z"]);
    for expression in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN", "0 9 * * sun"] {
        assert_eq!(
            fires(expression, UTC, "2026-03-04T12:00:00Z", 2),
            sundays,
            "{expression}"
        );
    }
}

#[test]
fn weekday_ranges_by_number_and_name() {
    // After Friday 2026-03-06 10:00: Monday 2026-03-09, Tuesday 2026-03-10.
    let expected = times(&["2026-03-09T09:00:00Z", "2026-03-10T09:00:00Z"]);
    assert_eq!(
        fires("0 9 * * 1-5", UTC, "2026-03-06T10:00:00Z", 2),
        expected
    );
    assert_eq!(
        fires("0 9 * * Mon-Fri", UTC, "2026-03-06T10:00:00Z", 2),
        expected
    );
    // 5-7 is Friday to Sunday: Saturday 03-07, Sunday 03-08, Friday 03-13.
    let weekend = times(&[
        "2026-03-07T09:00:00Z",
        "2026-03-08T09:00:00Z",
        "2026-03-13T09:00:00Z",
    ]);
    assert_eq!(
        fires("0 9 * * 5-7", UTC, "2026-03-06T10:00:00Z", 3),
        weekend
    );
}

#[test]
fn restricted_day_fields_combine_with_or() {
    // The 1st, the 15th and every Monday, from Tuesday 2026-03-31.
    let expected = times(&[
        "2026-04-01T00:00:00Z", // Wednesday, the 1st
        "2026-04-06T00:00:00Z", // Monday
        "2026-04-13T00:00:00Z", // Monday
        "2026-04-15T00:00:00Z", // Wednesday, the 15th
        "2026-04-20T00:00:00Z", // Monday
        "2026-04-27T00:00:00Z", // Monday
        "2026-05-01T00:00:00Z", // Friday, the 1st
        "2026-05-04T00:00:00Z", // Monday
    ]);
    let got = fires("0 0 1,15 * MON", UTC, "2026-03-31T00:00:00Z", 8);
    assert_eq!(got, expected);
}

#[test]
fn starred_day_field_combines_with_and() {
    // `*/2` starts with `*`, so crontab ANDs: odd days that are Mondays.
    // Mondays in March 2026: 2, 9, 16, 23, 30; in April: 6, 13, 20, 27.
    let expected = times(&[
        "2026-03-09T00:00:00Z",
        "2026-03-23T00:00:00Z",
        "2026-04-13T00:00:00Z",
        "2026-04-27T00:00:00Z",
    ]);
    assert_eq!(
        fires("0 0 */2 * MON", UTC, "2026-03-01T00:00:00Z", 4),
        expected
    );
    // A starred weekday leaves the day of the month alone.
    let firsts = times(&["2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"]);
    assert_eq!(fires("0 0 1 * *", UTC, "2026-03-01T00:00:00Z", 2), firsts);
}

#[test]
fn steps_and_lists() {
    let quarter = times(&[
        "2026-03-09T10:15:00Z",
        "2026-03-09T10:30:00Z",
        "2026-03-09T10:45:00Z",
        "2026-03-09T11:00:00Z",
    ]);
    assert_eq!(
        fires("*/15 * * * *", UTC, "2026-03-09T10:07:00Z", 4),
        quarter
    );
    // 1-30/10 is minutes 1, 11 and 21.
    let stepped_range = times(&["2026-03-09T10:21:00Z", "2026-03-09T11:01:00Z"]);
    assert_eq!(
        fires("1-30/10 * * * *", UTC, "2026-03-09T10:11:00Z", 2),
        stepped_range
    );
    // 5/20 runs from 5 to the end of the hour: 5, 25, 45.
    let from_five = times(&["2026-03-09T10:25:00Z", "2026-03-09T10:45:00Z"]);
    assert_eq!(
        fires("5/20 * * * *", UTC, "2026-03-09T10:05:00Z", 2),
        from_five
    );
    let list = times(&[
        "2026-03-09T12:00:00Z",
        "2026-03-09T12:30:00Z",
        "2026-03-09T18:00:00Z",
        "2026-03-09T18:30:00Z",
        "2026-03-10T08:00:00Z",
    ]);
    assert_eq!(
        fires("0,30 8,12,18 * * *", UTC, "2026-03-09T10:00:00Z", 5),
        list
    );
}

#[test]
fn month_names_in_any_case() {
    let expected = times(&["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"]);
    assert_eq!(
        fires("0 0 1 JAN,jul *", UTC, "2026-03-01T00:00:00Z", 2),
        expected
    );
    let spring = times(&[
        "2026-04-01T00:00:00Z",
        "2026-05-01T00:00:00Z",
        "2027-03-01T00:00:00Z",
    ]);
    assert_eq!(
        fires("0 0 1 Mar-May *", UTC, "2026-03-01T00:00:00Z", 3),
        spring
    );
}

#[test]
fn shorthands() {
    // After Wednesday 2026-03-04 12:00.
    let after = "2026-03-04T12:00:00Z";
    let first = |expression: &str| fires(expression, UTC, after, 1)[0];
    assert_eq!(first("@hourly"), at("2026-03-04T13:00:00Z"));
    assert_eq!(first("@daily"), at("2026-03-05T00:00:00Z"));
    assert_eq!(first("@midnight"), at("2026-03-05T00:00:00Z"));
    assert_eq!(first("@weekly"), at("2026-03-08T00:00:00Z")); // Sunday
    assert_eq!(first("@monthly"), at("2026-04-01T00:00:00Z"));
    assert_eq!(first("@yearly"), at("2027-01-01T00:00:00Z"));
    assert_eq!(first("@Annually"), at("2027-01-01T00:00:00Z"));
}

#[test]
fn six_fields_put_seconds_first() {
    let expected = times(&["2026-03-09T10:00:30Z", "2026-03-09T10:05:30Z"]);
    assert_eq!(
        fires("30 */5 * * * *", UTC, "2026-03-09T10:00:00Z", 2),
        expected
    );
}

#[test]
fn next_is_strictly_after() {
    let schedule = CronSchedule::parse("*/15 * * * *").unwrap();
    let next = schedule.next_after(at("2026-03-09T10:15:00Z"), UTC);
    assert_eq!(next, Some(at("2026-03-09T10:30:00Z")));
    let next = schedule.next_after(at("2026-03-09T10:14:59.999Z"), UTC);
    assert_eq!(next, Some(at("2026-03-09T10:15:00Z")));
}

#[test]
fn display_gives_back_the_text() {
    for text in ["*/15 * * * *", "@weekly", "0 9 * * mon-fri"] {
        assert_eq!(CronSchedule::parse(text).unwrap().to_string(), text);
    }
    assert_eq!(
        "@daily".parse::<CronSchedule>().unwrap().to_string(),
        "@daily"
    );
}

#[test]
fn fields_are_wall_clock_time_in_the_zone() {
    // 09:00 in Berlin is 08:00 UTC in winter (CET) and 07:00 UTC in summer (CEST).
    assert_eq!(
        fires("0 9 * * *", Berlin, "2026-01-10T00:00:00Z", 1)[0],
        at("2026-01-10T08:00:00Z")
    );
    assert_eq!(
        fires("0 9 * * *", Berlin, "2026-07-10T00:00:00Z", 1)[0],
        at("2026-07-10T07:00:00Z")
    );
}

#[test]
fn us_spring_forward_fires_a_skipped_time_when_the_gap_ends() {
    // Sunday 2026-03-08: New York jumps from 02:00 EST to 03:00 EDT (07:00 UTC).
    let expected = times(&[
        "2026-03-08T07:00:00Z", // 03:00 EDT, standing in for 02:30
        "2026-03-09T06:30:00Z", // Monday 02:30 EDT
    ]);
    assert_eq!(
        fires("30 2 * * *", New_York, "2026-03-07T12:00:00Z", 2),
        expected
    );
}

#[test]
fn us_spring_forward_every_hour_skips_the_missing_hour() {
    // 01:30 EST, then 03:30 EDT: one real hour later.
    let expected = times(&["2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"]);
    assert_eq!(
        fires("30 * * * *", New_York, "2026-03-08T06:00:00Z", 2),
        expected
    );
}

#[test]
fn us_fall_back_fires_a_repeated_time_once() {
    // Sunday 2026-11-01: New York falls back from 02:00 EDT to 01:00 EST (06:00 UTC).
    let expected = times(&[
        "2026-11-01T05:30:00Z", // 01:30 EDT; 01:30 EST at 06:30 UTC is skipped
        "2026-11-02T06:30:00Z", // Monday 01:30 EST
    ]);
    assert_eq!(
        fires("30 1 * * *", New_York, "2026-11-01T04:00:00Z", 2),
        expected
    );
    // Asked during the second pass, it does not fire again.
    let from_second_pass = fires("30 1 * * *", New_York, "2026-11-01T06:10:00Z", 1);
    assert_eq!(from_second_pass, times(&["2026-11-02T06:30:00Z"]));
}

#[test]
fn us_fall_back_every_hour_fires_in_both_passes() {
    let expected = times(&[
        "2026-11-01T05:00:00Z", // 01:00 EDT
        "2026-11-01T06:00:00Z", // 01:00 EST
        "2026-11-01T07:00:00Z", // 02:00 EST
    ]);
    assert_eq!(
        fires("0 * * * *", New_York, "2026-11-01T04:30:00Z", 3),
        expected
    );
    let every_twenty = times(&[
        "2026-11-01T05:40:00Z", // 01:40 EDT
        "2026-11-01T06:00:00Z", // 01:00 EST
        "2026-11-01T06:20:00Z", // 01:20 EST
    ]);
    assert_eq!(
        fires("*/20 * * * *", New_York, "2026-11-01T05:30:00Z", 3),
        every_twenty
    );
    let from_second_pass = fires("0 * * * *", New_York, "2026-11-01T06:10:00Z", 1);
    assert_eq!(from_second_pass, times(&["2026-11-01T07:00:00Z"]));
}

#[test]
fn eu_spring_forward_fires_a_skipped_time_when_the_gap_ends() {
    // Sunday 2026-03-29: Berlin jumps from 02:00 CET to 03:00 CEST (01:00 UTC).
    let expected = times(&[
        "2026-03-29T01:00:00Z", // 03:00 CEST, standing in for 02:30
        "2026-03-30T00:30:00Z", // Monday 02:30 CEST
    ]);
    assert_eq!(
        fires("30 2 * * *", Berlin, "2026-03-28T12:00:00Z", 2),
        expected
    );
}

#[test]
fn eu_fall_back() {
    // Sunday 2026-10-25: Berlin falls back from 03:00 CEST to 02:00 CET (01:00 UTC).
    let daily = times(&[
        "2026-10-25T00:30:00Z", // 02:30 CEST; 02:30 CET at 01:30 UTC is skipped
        "2026-10-26T01:30:00Z", // Monday 02:30 CET
    ]);
    assert_eq!(
        fires("30 2 * * *", Berlin, "2026-10-24T12:00:00Z", 2),
        daily
    );
    let hourly = times(&[
        "2026-10-25T00:00:00Z", // 02:00 CEST
        "2026-10-25T01:00:00Z", // 02:00 CET
        "2026-10-25T02:00:00Z", // 03:00 CET
    ]);
    assert_eq!(
        fires("0 * * * *", Berlin, "2026-10-24T23:30:00Z", 3),
        hourly
    );
}

#[test]
fn wrong_field_count() {
    let expected = "expected 5 fields (minute hour day-of-month month day-of-week) \
                    or 6 (second first), found 4";
    assert_eq!(error("* * * *"), expected);
    assert!(error("0 0 0 * * * 2026").ends_with("found 7"));
    assert!(error("").ends_with("found 0"));
    assert!(error("hello world").ends_with("found 2"));
}

#[test]
fn out_of_range_values() {
    assert_eq!(
        error("0 0 * * 8"),
        "day-of-week field `8`: value 8 out of range 0-7"
    );
    assert_eq!(
        error("60 * * * *"),
        "minute field `60`: value 60 out of range 0-59"
    );
    assert_eq!(
        error("* 24 * * *"),
        "hour field `24`: value 24 out of range 0-23"
    );
    assert_eq!(
        error("* * 0 * *"),
        "day-of-month field `0`: value 0 out of range 1-31"
    );
    assert_eq!(
        error("* * * 1,13 *"),
        "month field `1,13`: value 13 out of range 1-12"
    );
    assert_eq!(
        error("61 * * * * *"),
        "second field `61`: value 61 out of range 0-59"
    );
    let huge = error("99999999999 * * * *");
    assert_eq!(
        huge,
        "minute field `99999999999`: value 99999999999 out of range 0-59"
    );
}

#[test]
fn garbage_in_fields() {
    assert_eq!(
        error("* * * * FOO"),
        "day-of-week field `FOO`: `FOO` is not a number or a weekday name (SUN-SAT)"
    );
    assert_eq!(
        error("* * * JANUARY *"),
        "month field `JANUARY`: `JANUARY` is not a number or a month name (JAN-DEC)"
    );
    assert_eq!(
        error("MON * * * *"),
        "minute field `MON`: `MON` is not a number"
    );
    assert_eq!(error("? * * * *"), "minute field `?`: `?` is not a number");
    assert_eq!(
        error("*/0 * * * *"),
        "minute field `*/0`: step `0` is not a positive number"
    );
    assert_eq!(
        error("*/x * * * *"),
        "minute field `*/x`: step `x` is not a positive number"
    );
    assert_eq!(
        error("5-1 * * * *"),
        "minute field `5-1`: range 5-1 runs backwards"
    );
    assert_eq!(error("1,,2 * * * *"), "minute field `1,,2`: missing value");
    assert_eq!(error("-5 * * * *"), "minute field `-5`: missing value");
}

#[test]
fn unknown_shorthand() {
    assert!(error("@reboot").starts_with("unknown shorthand `@reboot`"));
}

#[test]
fn impossible_dates_are_refused() {
    assert_eq!(
        error("0 0 30 2 *"),
        "day-of-month field `30` never occurs in month field `2`"
    );
    assert_eq!(
        error("0 0 31 APR,JUN *"),
        "day-of-month field `31` never occurs in month field `APR,JUN`"
    );
    // The 29th of February does occur, every four years: 2028-02-29.
    assert_eq!(
        fires("0 0 29 2 *", UTC, "2026-03-01T00:00:00Z", 1)[0],
        at("2028-02-29T00:00:00Z")
    );
    // With a weekday restricted too, the weekday alone can fire.
    assert!(CronSchedule::parse("0 0 30 2 MON").is_ok());
}
