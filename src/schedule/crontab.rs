//! Crontab expressions with the meaning `crontab(5)` gives them.
//!
//! Owns parsing a schedule string into a [`CronSchedule`] and asking it for the
//! next fire time in a time zone. It reads no clock: every question takes the
//! instant to count from.
//!
//! The `cron` crate does the calendar walking, but its dialect differs from
//! crontab: it wants a seconds field, numbers weekdays from 1 = Sunday, and
//! always ANDs day-of-month with day-of-week. So this module parses the crontab
//! text itself, expands every field to the explicit set of values it names, and
//! hands `cron` lists it cannot misread (weekdays as names). When both day
//! fields are restricted, crontab fires on days matching *either*; that union
//! is kept as two `cron` schedules whose earlier next time wins.
//!
//! Invariant: a parsed schedule fires at least once (a day-of-month that never
//! occurs in the chosen months is rejected), so `next_after` only returns
//! `None` past the last year `cron` knows (2100).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::wall_clock::{self, Cadence};

/// A crontab schedule, such as `*/15 * * * *` or `@daily`.
///
/// Equality compares the text the user wrote.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    /// The text as the user wrote it, given back by `Display`.
    source: String,
    /// One schedule, or two whose union is the crontab meaning when both day
    /// fields are restricted (one keeps day-of-month, one day-of-week).
    parts: Vec<cron::Schedule>,
    /// How the schedule crosses daylight-saving changes.
    cadence: Cadence,
}

/// A field of a crontab expression, named in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Seconds, present only in the six-field form.
    Second,
    /// Minute of the hour, 0-59.
    Minute,
    /// Hour of the day, 0-23.
    Hour,
    /// Day of the month, 1-31.
    DayOfMonth,
    /// Month, 1-12 or `JAN`-`DEC`.
    Month,
    /// Day of the week, 0-7 (0 and 7 are Sunday) or `SUN`-`SAT`.
    DayOfWeek,
}

/// What is wrong with one field of a crontab expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    /// A number outside the field's range.
    #[error("value {value} out of range {min}-{max}")]
    OutOfRange {
        /// The number as written.
        value: String,
        /// The smallest allowed value.
        min: u32,
        /// The largest allowed value.
        max: u32,
    },
    /// Something that is neither a number nor a name this field knows.
    #[error("`{item}` is not {expected}")]
    NotAValue {
        /// The text that could not be read.
        item: String,
        /// What the field accepts.
        expected: &'static str,
    },
    /// A step (`/n`) that is not a positive number.
    #[error("step `{0}` is not a positive number")]
    BadStep(String),
    /// A range whose start is after its end, such as `5-1`.
    #[error("range {start}-{end} runs backwards")]
    Backwards {
        /// The start of the range.
        start: u32,
        /// The end of the range.
        end: u32,
    },
    /// An empty list item or range end, as in `1,,2` or `-5`.
    #[error("missing value")]
    Empty,
}

/// Why a string is not a crontab schedule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// The expression has too few or too many fields.
    #[error(
        "expected 5 fields (minute hour day-of-month month day-of-week) \
         or 6 (second first), found {found}"
    )]
    FieldCount {
        /// How many whitespace-separated fields there were.
        found: usize,
    },
    /// An `@` name that is not one of the known shorthands.
    #[error(
        "unknown shorthand `{0}`: expected @hourly, @daily, @midnight, \
         @weekly, @monthly, @yearly or @annually"
    )]
    UnknownShorthand(String),
    /// One field is malformed or out of range.
    #[error("{field} field `{text}`: {problem}")]
    Field {
        /// Which field.
        field: Field,
        /// The field as written.
        text: String,
        /// What is wrong with it.
        problem: FieldProblem,
    },
    /// The days of the month never occur in the months chosen, as in `0 0 30 2 *`.
    #[error("day-of-month field `{day_of_month}` never occurs in month field `{month}`")]
    NeverFires {
        /// The day-of-month field as written.
        day_of_month: String,
        /// The month field as written.
        month: String,
    },
    /// The translated expression was refused by the calendar engine; a bug here.
    #[error("cannot translate `{expression}`: {message}")]
    Translation {
        /// The translated expression.
        expression: String,
        /// The engine's complaint.
        message: String,
    },
}

impl CronSchedule {
    /// Parses a crontab expression.
    ///
    /// Accepts five fields (minute hour day-of-month month day-of-week), six
    /// (a seconds field first), and `@hourly`, `@daily`/`@midnight`,
    /// `@weekly`, `@monthly`, `@yearly`/`@annually`. Fields take `*`, numbers,
    /// ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (from `a` to the field's
    /// end), and comma lists. Months and weekdays also take three-letter names
    /// in any case; weekdays 0 and 7 are both Sunday.
    ///
    /// As in crontab, when day-of-month and day-of-week are both restricted
    /// (neither starts with `*`), a day matching either fires; otherwise both
    /// must match (so `0 0 */2 * MON` means odd-numbered days that are Mondays).
    pub fn parse(text: &str) -> Result<CronSchedule, CronError> {
        let trimmed = text.trim();
        let expanded;
        let fields: Vec<&str> = if let Some(name) = trimmed.strip_prefix('@') {
            expanded =
                shorthand(name).ok_or_else(|| CronError::UnknownShorthand(trimmed.into()))?;
            expanded.split_whitespace().collect()
        } else {
            trimmed.split_whitespace().collect()
        };
        let (second, rest) = match fields.len() {
            5 => ("0", &fields[..]),
            6 => (fields[0], &fields[1..]),
            found => return Err(CronError::FieldCount { found }),
        };
        let second = FieldSet::parse(Field::Second, second)?;
        let minute = FieldSet::parse(Field::Minute, rest[0])?;
        let hour = FieldSet::parse(Field::Hour, rest[1])?;
        let day_of_month = FieldSet::parse(Field::DayOfMonth, rest[2])?;
        let month = FieldSet::parse(Field::Month, rest[3])?;
        let day_of_week = FieldSet::parse(Field::DayOfWeek, rest[4])?;

        let either_day = !day_of_month.starred && !day_of_week.starred;
        if !either_day && !day_occurs_in_months(day_of_month.mask, month.mask) {
            return Err(CronError::NeverFires {
                day_of_month: rest[2].into(),
                month: rest[3].into(),
            });
        }
        let cadence = if hour.is_all(Field::Hour) {
            Cadence::EveryHour
        } else {
            Cadence::FixedHours
        };
        let times = format!(
            "{} {} {}",
            second.to_cron(Field::Second),
            minute.to_cron(Field::Minute),
            hour.to_cron(Field::Hour)
        );
        let month = month.to_cron(Field::Month);
        let build = |dom: &str, dow: &str| {
            let expression = format!("{times} {dom} {month} {dow}");
            cron::Schedule::from_str(&expression).map_err(|err| CronError::Translation {
                message: err.to_string(),
                expression,
            })
        };
        let dom = day_of_month.to_cron(Field::DayOfMonth);
        let dow = day_of_week.to_cron(Field::DayOfWeek);
        let parts = if either_day {
            vec![build(&dom, "*")?, build("*", &dow)?]
        } else {
            vec![build(&dom, &dow)?]
        };
        Ok(CronSchedule {
            source: text.into(),
            parts,
            cadence,
        })
    }

    /// The first fire time strictly after `after`, reading the fields as
    /// wall-clock time in `tz`.
    ///
    /// Across daylight-saving changes it behaves like cron daemons do:
    /// - A schedule pinned to certain hours fires once per matching wall-clock
    ///   time: a time skipped by spring-forward fires at the first instant after
    ///   the gap (02:30 on a day that jumps from 02:00 to 03:00 fires at 03:00),
    ///   and a time repeated by fall-back fires at its first occurrence only.
    /// - A schedule whose hour field takes every hour (`*`) follows elapsed
    ///   time: skipped wall-clock times are not made up, and repeated ones
    ///   fire in both passes.
    ///
    /// `None` only past the year 2100.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.parts
            .iter()
            .filter_map(|part| wall_clock::next_after(part, self.cadence, after, tz))
            .min()
    }
}

impl FromStr for CronSchedule {
    type Err = CronError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CronSchedule::parse(text)
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for CronSchedule {}

impl Field {
    /// The name used in messages, such as `day-of-week`.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// The smallest and largest value the field accepts.
    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    /// Names in order, the first standing for `name_base`.
    fn names(self) -> (&'static [&'static str], u32, &'static str) {
        match self {
            Field::Month => (&MONTHS, 1, "a number or a month name (JAN-DEC)"),
            Field::DayOfWeek => (&WEEKDAYS, 0, "a number or a weekday name (SUN-SAT)"),
            _ => (&[], 0, "a number"),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The five-field form of an `@` shorthand.
fn shorthand(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "hourly" => "0 * * * *",
        "daily" | "midnight" => "0 0 * * *",
        "weekly" => "0 0 * * 0",
        "monthly" => "0 0 1 * *",
        "yearly" | "annually" => "0 0 1 1 *",
        _ => return None,
    })
}

/// Whether some day in `days` exists in some month in `months` (February
/// counting its leap day). Bit n of each mask stands for value n.
fn day_occurs_in_months(days: u64, months: u64) -> bool {
    const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let first_day = days.trailing_zeros();
    (1..=12).any(|month| months & (1 << month) != 0 && first_day <= LONGEST[month as usize - 1])
}

/// The values one field matches, as a bit set.
struct FieldSet {
    /// Bit n set when the field matches value n; weekday 7 is folded into 0.
    mask: u64,
    /// The field starts with `*`, which crontab reads as "unrestricted" when
    /// deciding whether day-of-month and day-of-week combine with OR.
    starred: bool,
}

impl FieldSet {
    fn parse(field: Field, text: &str) -> Result<FieldSet, CronError> {
        let fail = |problem| CronError::Field {
            field,
            text: text.into(),
            problem,
        };
        let (min, max) = field.bounds();
        let mut mask = 0u64;
        for item in text.split(',') {
            let (span, step) = match item.split_once('/') {
                Some((span, step)) => match step.parse::<u32>() {
                    Ok(step) if step > 0 => (span, Some(step)),
                    _ => return Err(fail(FieldProblem::BadStep(step.into()))),
                },
                None => (item, None),
            };
            let (start, end) = if span == "*" {
                (min, max)
            } else if let Some((start, end)) = span.split_once('-') {
                let start = value(field, start).map_err(fail)?;
                let end = value(field, end).map_err(fail)?;
                if start > end {
                    return Err(fail(FieldProblem::Backwards { start, end }));
                }
                (start, end)
            } else {
                let start = value(field, span).map_err(fail)?;
                (start, if step.is_some() { max } else { start })
            };
            for v in (start..=end).step_by(step.unwrap_or(1) as usize) {
                mask |= 1 << v;
            }
        }
        if field == Field::DayOfWeek && mask & (1 << 7) != 0 {
            mask = (mask & !(1 << 7)) | 1;
        }
        Ok(FieldSet {
            mask,
            starred: text.starts_with('*'),
        })
    }

    fn is_all(&self, field: Field) -> bool {
        let (min, max) = field.bounds();
        let max = if field == Field::DayOfWeek { 6 } else { max };
        (min..=max).all(|v| self.mask & (1 << v) != 0)
    }

    /// The field in the `cron` crate's syntax: `*` or an explicit list, with
    /// weekdays as names because `cron` numbers them from 1 = Sunday.
    fn to_cron(&self, field: Field) -> String {
        if self.is_all(field) {
            return "*".into();
        }
        let (min, max) = field.bounds();
        let values = (min..=max).filter(|v| self.mask & (1 << v) != 0);
        let words: Vec<String> = if field == Field::DayOfWeek {
            values.map(|v| WEEKDAYS[v as usize].to_string()).collect()
        } else {
            values.map(|v| v.to_string()).collect()
        };
        words.join(",")
    }
}

/// One value of a field: a number in range or, for months and weekdays, a name.
fn value(field: Field, item: &str) -> Result<u32, FieldProblem> {
    let (min, max) = field.bounds();
    let (names, base, expected) = field.names();
    if item.is_empty() {
        return Err(FieldProblem::Empty);
    }
    if item.bytes().all(|b| b.is_ascii_digit()) {
        return match item.parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(FieldProblem::OutOfRange {
                value: item.into(),
                min,
                max,
            }),
        };
    }
    names
        .iter()
        .position(|name| name.eq_ignore_ascii_case(item))
        .map(|index| index as u32 + base)
        .ok_or_else(|| FieldProblem::NotAValue {
            item: item.into(),
            expected,
        })
}

#[cfg(test)]
mod tests;
