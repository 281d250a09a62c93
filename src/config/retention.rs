//! `[retention]`: how much history the store keeps. Both keys are
//! optional; without either, everything is kept forever.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{count, duration, ConfigError, Locator};

/// `[retention]`, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Entries first seen longer ago than this are pruned.
    pub max_age: Option<Duration>,
    /// Only the newest this many entries of each feed are kept.
    pub max_per_feed: Option<usize>,
}

impl RetentionConfig {
    /// True when no limit is set: nothing is ever pruned.
    pub fn keeps_everything(&self) -> bool {
        self.max_age.is_none() && self.max_per_feed.is_none()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    max_age: Option<Spanned<String>>,
    max_per_feed: Option<Spanned<i64>>,
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
    fn absent_keeps_everything() {
        assert!(parse("").unwrap().retention.keeps_everything());
        assert!(parse("[retention]\n").unwrap().retention.keeps_everything());
    }

    #[test]
    fn keys_are_read_and_checked() {
        let c = parse("[retention]\nmax_age = \"90d\"\nmax_per_feed = 1000\n").unwrap();
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
        let e = parse("[retention]\nmax_items = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `max_items`"), "{e}");
    }
}
