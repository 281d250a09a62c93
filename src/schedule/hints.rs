//! What publishers say about when to come back, and reading it from header values.
//!
//! Owns [`Hints`], the publisher's side of scheduling (HTTP caching headers,
//! `Retry-After`, RSS `<ttl>`, `<skipHours>`, `<skipDays>`, and the
//! syndication module's `sy:updatePeriod`/`sy:updateFrequency`), and pure
//! parsers for the header values. Hints can only slow polling down; how they
//! combine with the schedule is [`super::timing`]'s business.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc, Weekday};

/// What the publisher said about when to check a feed again.
///
/// Relative hints count from the `now` given to [`super::next_check`], which
/// is the moment the response carrying them arrived.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hints {
    /// `Cache-Control: max-age`; when present, `expires` is ignored (RFC 9111 §5.3).
    pub max_age: Option<Duration>,
    /// `Expires`: the response is fresh until then.
    pub expires: Option<DateTime<Utc>>,
    /// `Retry-After` on a 429 or 503 response, as an instant (see [`parse_retry_after`]).
    pub retry_after: Option<DateTime<Utc>>,
    /// RSS `<ttl>`: minutes the channel may be cached.
    pub ttl: Option<Duration>,
    /// `sy:updatePeriod` divided by `sy:updateFrequency` (see [`update_interval`]).
    pub update_period: Option<Duration>,
    /// RSS `<skipHours>`: hours of the day, in GMT (0-23; 24 is read as 0), not to check.
    pub skip_hours: Vec<u8>,
    /// RSS `<skipDays>`: days, taken in GMT like the hours, not to check.
    pub skip_days: Vec<Weekday>,
}

/// The `max-age` of a `Cache-Control` header value.
///
/// `None` when the response may not be reused without asking (`no-cache`,
/// `no-store`) or carries no usable `max-age`. `s-maxage` is ignored: it
/// addresses shared caches, and a feed reader is a private one.
pub fn cache_max_age(cache_control: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in cache_control.split(',') {
        let (name, argument) = match directive.split_once('=') {
            Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            return None;
        }
        if name.eq_ignore_ascii_case("max-age") && max_age.is_none() {
            max_age = argument.and_then(delay_seconds);
        }
    }
    max_age
}

/// An HTTP date (`Expires`, `Retry-After`, `Last-Modified`) as an instant.
///
/// Reads the preferred form `Sun, 06 Nov 1994 08:49:37 GMT` and the two
/// obsolete forms RFC 9110 still asks recipients to accept: RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
/// `None` for anything else, such as the `Expires: 0` servers send to mean
/// "already expired".
pub fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

/// A `Retry-After` header value, either delay-seconds or an HTTP date, as an instant.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value.trim();
    match delay_seconds(value) {
        Some(delay) => chrono::TimeDelta::from_std(delay)
            .ok()
            .and_then(|delay| now.checked_add_signed(delay)),
        None => parse_http_date(value),
    }
}

/// The interval the syndication module (`sy:`) announces: the period
/// (`hourly`, `daily`, `weekly`, `monthly`, `yearly`; `daily` when absent)
/// divided by the frequency (updates per period; 1 when absent).
///
/// `None` for an unknown period or a zero frequency. Months count 30 days and
/// years 365.
pub fn update_interval(period: Option<&str>, frequency: Option<u32>) -> Option<Duration> {
    const HOUR: u64 = 3600;
    let period = period.map(|period| period.trim().to_ascii_lowercase());
    let hours = match period.as_deref().unwrap_or("daily") {
        "hourly" => 1,
        "daily" => 24,
        "weekly" => 7 * 24,
        "monthly" => 30 * 24,
        "yearly" => 365 * 24,
        _ => return None,
    };
    match frequency.unwrap_or(1) {
        0 => None,
        frequency => Some(Duration::from_secs(hours * HOUR) / frequency),
    }
}

/// A non-negative whole number of seconds, the only delay form HTTP allows.
fn delay_seconds(text: &str) -> Option<Duration> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Too many digits for a u64 is still a valid, if absurd, delay.
    Some(Duration::from_secs(text.parse().unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn max_age_is_read_among_other_directives() {
        let max_age = cache_max_age("public, max-age=600, must-revalidate");
        assert_eq!(max_age, Some(Duration::from_secs(600)));
        assert_eq!(
            cache_max_age("MAX-AGE=\"60\""),
            Some(Duration::from_secs(60))
        );
        assert_eq!(cache_max_age("max-age=0"), Some(Duration::ZERO));
    }

    #[test]
    fn no_cache_and_no_store_give_no_hint() {
        assert_eq!(cache_max_age("no-cache, max-age=600"), None);
        assert_eq!(cache_max_age("max-age=600, no-store"), None);
    }

    #[test]
    fn shared_cache_age_and_garbage_are_ignored() {
        assert_eq!(cache_max_age("s-maxage=600"), None);
        assert_eq!(cache_max_age("max-age=-5"), None);
        assert_eq!(cache_max_age("max-age=soon"), None);
        assert_eq!(cache_max_age(""), None);
        let first_wins = cache_max_age("max-age=60, max-age=6000");
        assert_eq!(first_wins, Some(Duration::from_secs(60)));
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        let expected = Some(at("1994-11-06T08:49:37Z"));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
        // A numeric zone is not HTTP, but some servers send it.
        let eastern = parse_http_date("Sun, 06 Nov 1994 03:49:37 -0500");
        assert_eq!(eastern, expected);
    }

    #[test]
    fn invalid_http_dates_are_no_hint() {
        assert_eq!(parse_http_date("0"), None);
        assert_eq!(parse_http_date("-1"), None);
        assert_eq!(parse_http_date("tomorrow"), None);
        // 2026-03-09 is a Monday, not a Sunday.
        assert_eq!(parse_http_date("Sun, 09 Mar 2026 10:00:00 GMT"), None);
    }

    #[test]
    fn retry_after_in_seconds_counts_from_now() {
        let now = at("2026-03-09T10:00:00Z");
        let retry = parse_retry_after(" 120 ", now);
        assert_eq!(retry, Some(at("2026-03-09T10:02:00Z")));
    }

    #[test]
    fn retry_after_as_a_date() {
        let now = at("2026-03-09T10:00:00Z");
        // 2026-03-09 is a Monday.
        let retry = parse_retry_after("Mon, 09 Mar 2026 11:30:00 GMT", now);
        assert_eq!(retry, Some(at("2026-03-09T11:30:00Z")));
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("later", now), None);
    }

    #[test]
    fn update_interval_divides_the_period() {
        let hours = |h: u64| Some(Duration::from_secs(h * 3600));
        assert_eq!(update_interval(Some("hourly"), None), hours(1));
        assert_eq!(update_interval(None, None), hours(24));
        assert_eq!(update_interval(Some("daily"), Some(2)), hours(12));
        assert_eq!(update_interval(Some("weekly"), Some(7)), hours(24));
        assert_eq!(update_interval(Some("daily"), Some(0)), None);
        assert_eq!(update_interval(Some("fortnightly"), None), None);
    }
}
