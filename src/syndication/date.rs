//! Timestamps as the formats want them, written without allocating:
//! RFC 3339 for Atom and JSON Feed, RFC 2822 for RSS.
//!
//! Both are in UTC and whole seconds (a leap second reads as `:59`), and
//! the year is clamped to 0001–9999 because both formats have four-digit
//! years and readers reject anything else.

use std::ops::Deref;

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z as Unix seconds.
const FIRST_SECOND: i64 = -62_135_596_800;
const LAST_SECOND: i64 = 253_402_300_799;

/// A formatted timestamp held inline; derefs to `str`.
pub(crate) struct Stamp {
    bytes: [u8; 29],
    len: usize,
}

impl Stamp {
    fn new() -> Stamp {
        Stamp {
            bytes: [0; 29],
            len: 0,
        }
    }

    fn push(&mut self, text: &[u8]) {
        self.bytes[self.len..self.len + text.len()].copy_from_slice(text);
        self.len += text.len();
    }

    /// Appends `value` as exactly `width` decimal digits.
    fn digits(&mut self, value: u32, width: u32) {
        for position in (0..width).rev() {
            let digit = (value / 10u32.pow(position)) % 10;
            self.push(&[b'0' + digit as u8]);
        }
    }
}

impl Deref for Stamp {
    type Target = str;

    fn deref(&self) -> &str {
        // Only ASCII is ever pushed, so the bytes are valid UTF-8.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// `time` moved into the years 0001–9999, truncated to whole seconds.
fn clamp(time: DateTime<Utc>) -> DateTime<Utc> {
    let second = time.timestamp().clamp(FIRST_SECOND, LAST_SECOND);
    DateTime::from_timestamp(second, 0).unwrap_or_default()
}

/// `2024-05-01T11:00:00Z`
pub(crate) fn rfc3339(time: DateTime<Utc>) -> Stamp {
    let time = clamp(time);
    let mut stamp = Stamp::new();
    stamp.digits(time.year() as u32, 4);
    stamp.push(b"-");
    stamp.digits(time.month(), 2);
    stamp.push(b"-");
    stamp.digits(time.day(), 2);
    stamp.push(b"T");
    clock(&mut stamp, time);
    stamp.push(b"Z");
    stamp
}

/// `Wed, 01 May 2024 11:00:00 GMT`
pub(crate) fn rfc2822(time: DateTime<Utc>) -> Stamp {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let time = clamp(time);
    let mut stamp = Stamp::new();
    stamp.push(match time.weekday() {
        Weekday::Mon => b"Mon",
        Weekday::Tue => b"Tue",
        Weekday::Wed => b"Wed",
        Weekday::Thu => b"Thu",
        Weekday::Fri => b"Fri",
        Weekday::Sat => b"Sat",
        Weekday::Sun => b"Sun",
    });
    stamp.push(b", ");
    stamp.digits(time.day(), 2);
    stamp.push(b" ");
    stamp.push(MONTHS[time.month0() as usize]);
    stamp.push(b" ");
    stamp.digits(time.year() as u32, 4);
    stamp.push(b" ");
    clock(&mut stamp, time);
    stamp.push(b" GMT");
    stamp
}

/// `HH:MM:SS`
fn clock(stamp: &mut Stamp, time: DateTime<Utc>) {
    stamp.digits(time.hour(), 2);
    stamp.push(b":");
    stamp.digits(time.minute(), 2);
    stamp.push(b":");
    stamp.digits(time.second(), 2);
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn formats_match_chrono() {
        for time in [
            at(2024, 5, 1, 11, 0, 0),
            at(1970, 1, 1, 0, 0, 0),
            at(2000, 2, 29, 23, 59, 59),
            at(1999, 12, 31, 9, 5, 7),
        ] {
            assert_eq!(
                &*rfc3339(time),
                time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            let parsed = DateTime::parse_from_rfc2822(&rfc2822(time)).unwrap();
            assert_eq!(parsed, time);
        }
        assert_eq!(
            &*rfc2822(at(2024, 5, 1, 11, 0, 0)),
            "Wed, 01 May 2024 11:00:00 GMT"
        );
    }

    #[test]
    fn fractions_and_leap_seconds_truncate() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 1_500))
            .unwrap()
            .and_utc();
        assert_eq!(&*rfc3339(leap), "2016-12-31T23:59:59Z");
    }

    #[test]
    fn years_are_clamped_to_four_digits() {
        assert_eq!(&*rfc3339(DateTime::<Utc>::MIN_UTC), "0001-01-01T00:00:00Z");
        assert_eq!(&*rfc3339(DateTime::<Utc>::MAX_UTC), "9999-12-31T23:59:59Z");
        assert_eq!(
            &*rfc2822(DateTime::<Utc>::MIN_UTC),
            "Mon, 01 Jan 0001 00:00:00 GMT"
        );
        assert_eq!(
            &*rfc2822(DateTime::<Utc>::MAX_UTC),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }
}
