//! `[retention]`: how much history the store keeps. `max_age` and
//! `max_per_feed` limit entries (and the articles only they hold); without
//! either every entry is kept forever. `fetch_log_max_age` limits the
//! fetch log, one row per fetch, which would otherwise grow by thousands of
//! rows a day whatever is kept of the entries: [`DEFAULT_FETCH_LOG_MAX_AGE`]
//! unless set. `tombstone_max_age` says how long the key of a pruned entry
//! is remembered once its feed no longer lists it:
//! [`DEFAULT_TOMBSTONE_MAX_AGE`] unless set (see `store::retention`).

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{count, duration, ConfigError, Locator};

/// How long fetch-log rows are kept when `fetch_log_max_age` is not set.
pub const DEFAULT_FETCH_LOG_MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);

/// How long a pruned entry's key is remembered after its feed stopped
/// listing it, when `tombstone_max_age` is not set.
pub const DEFAULT_TOMBSTONE_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// `[retention]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Entries first seen longer ago than this are pruned.
    pub max_age: Option<Duration>,
    /// Only the newest this many entries of each feed are kept.
    pub max_per_feed: Option<usize>,
    /// Fetch-log rows of fetches started longer ago than this are deleted.
    pub fetch_log_max_age: Duration,
    /// Tombstones of entries their feed stopped listing longer ago than
    /// this are deleted.
    pub tombstone_max_age: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            max_age: None,
            max_per_feed: None,
            fetch_log_max_age: DEFAULT_FETCH_LOG_MAX_AGE,
            tombstone_max_age: DEFAULT_TOMBSTONE_MAX_AGE,
        }
    }
}

impl RetentionConfig {
    /// True when no entry limit is set: no entry or article is ever pruned
    /// (the fetch log still is).
    pub fn keeps_every_entry(&self) -> bool {
        self.max_age.is_none() && self.max_per_feed.is_none()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    max_age: Option<Spanned<String>>,
    max_per_feed: Option<Spanned<i64>>,
    fetch_log_max_age: Option<Spanned<String>>,
    tombstone_max_age: Option<Spanned<String>>,
}

impl RetentionConfig {
    pub(super) fn from_raw(
        raw: Option<RawRetention>,
        at: &Locator<'_>,
    ) -> Result<RetentionConfig, ConfigError> {
        let Some(raw) = raw else {
            return Ok(RetentionConfig::default());
        };
        Ok(RetentionConfig {
            max_age: raw.max_age.as_ref().map(|d| duration(at, d)).transpose()?,
            max_per_feed: raw
                .max_per_feed
                .as_ref()
                .map(|n| count(at, n, 1, i64::from(u32::MAX)))
                .transpose()?,
            fetch_log_max_age: raw
                .fetch_log_max_age
                .as_ref()
                .map(|d| duration(at, d))
                .transpose()?
                .unwrap_or(DEFAULT_FETCH_LOG_MAX_AGE),
            tombstone_max_age: raw
                .tombstone_max_age
                .as_ref()
                .map(|d| duration(at, d))
                .transpose()?
                .unwrap_or(DEFAULT_TOMBSTONE_MAX_AGE),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/tributary/t.toml"))
    }

    #[test]
    fn absent_keeps_every_entry_and_90_days_of_fetch_log() {
        for text in ["", "[retention]\n"] {
            let r = parse(text).unwrap().retention;
            assert!(r.keeps_every_entry());
            assert_eq!(r.fetch_log_max_age, Duration::from_secs(90 * 86_400));
            assert_eq!(r.tombstone_max_age, Duration::from_secs(30 * 86_400));
        }
    }

    #[test]
    fn keys_are_read_and_checked() {
        let c = parse(
            "[retention]\nmax_age = \"90d\"\nmax_per_feed = 1000\nfetch_log_max_age = \"2 weeks\"\ntombstone_max_age = \"1y\"\n",
        )
        .unwrap();
        assert_eq!(
            c.retention.fetch_log_max_age,
            Duration::from_secs(14 * 24 * 3600)
        );
        assert!(!c.retention.keeps_every_entry());
        assert_eq!(c.retention.tombstone_max_age.as_secs() / 86_400, 365);
        assert_eq!(
            c.retention.max_age,
            Some(Duration::from_secs(90 * 24 * 3600))
        );
        assert_eq!(c.retention.max_per_feed, Some(1000));
        let e = parse("[retention]\nmax_per_feed = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/etc/tributary/t.toml:2:16: 0 is out of range"),
            "{e}"
        );
        let e = parse("[retention]\nmax_age = \"forever\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid duration `forever`"), "{e}");
        let e = parse("[retention]\nfetch_log_max_age = \"0s\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/etc/tributary/t.toml:2:21: duration must be longer than zero"),
            "{e}"
        );
        let e = parse("[retention]\nmax_items = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `max_items`"), "{e}");
    }
}
