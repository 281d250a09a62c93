//! `[dedup]`: whether and how articles and stories are merged across feeds.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{duration, ConfigError, Locator};
use crate::dedup::story::DEFAULT_THRESHOLD;

/// Default window in which a new article looks for its story.
pub const DEFAULT_STORY_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// `[dedup]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupConfig {
    /// Cross-feed merging of articles and stories at all (per-feed
    /// `dedup = false` turns it off for one feed).
    pub enabled: bool,
    /// Similarity (0–1) from which two articles are one story.
    pub story_threshold: f64,
    /// How far back a new article looks for its story.
    pub story_window: Duration,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            enabled: true,
            story_threshold: DEFAULT_THRESHOLD,
            story_window: DEFAULT_STORY_WINDOW,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDedup {
    enabled: Option<bool>,
    story_threshold: Option<Spanned<f64>>,
    story_window: Option<Spanned<String>>,
}

impl DedupConfig {
    pub(super) fn from_raw(
        raw: Option<RawDedup>,
        at: &Locator<'_>,
    ) -> Result<DedupConfig, ConfigError> {
        let mut c = DedupConfig::default();
        let Some(raw) = raw else {
            return Ok(c);
        };
        if let Some(e) = raw.enabled {
            c.enabled = e;
        }
        if let Some(t) = &raw.story_threshold {
            let v = *t.get_ref();
            // Below about 0.45 the band index, not the threshold, decides
            // (see dedup::story), so such values would not mean what they say.
            if !(0.45..=1.0).contains(&v) {
                return Err(at.error(
                    t.span(),
                    &format!("story_threshold {v} is outside 0.45..=1.0"),
                ));
            }
            c.story_threshold = v;
        }
        if let Some(w) = &raw.story_window {
            c.story_window = duration(at, w)?;
        }
        Ok(c)
    }
}
