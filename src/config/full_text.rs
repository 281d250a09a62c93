//! `full_text`: which feeds have their article pages fetched and extracted
//! (see [`crate::extract`]), per feed (`full_text = true`, or
//! `full_text = { selector = "...", remove = ["..."] }`) or per tag
//! (`[full_text.tags] news = true`). A feed's own setting wins over its
//! tags' (`full_text = false` turns it off for one feed); among tags, the
//! first of the feed's tags that has a setting. Selectors are parsed at
//! load, so a bad one is a config error with its line.
//!
//! robots.txt is honoured for page fetches unless `[full_text] robots =
//! false` (for every feed) or `robots = false` in a feed's or tag's table
//! (`full_text = { robots = false }`); a table's own `robots` wins over
//! the section's.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};
use crate::extract::Recipe;

/// Default bound on the extraction queue (articles waiting).
pub const DEFAULT_QUEUE_MAX: usize = 10_000;

/// `[full_text]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullTextConfig {
    /// Settings by tag.
    pub tags: BTreeMap<String, Option<Recipe>>,
    /// Most articles waiting for extraction; beyond it, the oldest waiting
    /// are dropped from the queue (they keep the feed's text).
    pub queue_max: usize,
    /// Whether robots.txt is consulted before page fetches, where a feed's
    /// or tag's own setting does not say.
    pub robots: bool,
}

impl Default for FullTextConfig {
    fn default() -> Self {
        FullTextConfig {
            tags: BTreeMap::new(),
            queue_max: DEFAULT_QUEUE_MAX,
            robots: true,
        }
    }
}

impl FullTextConfig {
    /// The recipe in force for a feed with `own` setting and `tags`.
    pub fn for_feed(&self, own: Option<&Option<Recipe>>, tags: &[String]) -> Option<Recipe> {
        match own {
            Some(r) => r.clone(),
            None => tags
                .iter()
                .find_map(|t| self.tags.get(t))
                .cloned()
                .flatten(),
        }
    }
}

/// `true`, `false`, or a table.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawFullText {
    On(bool),
    Recipe(RawRecipe),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecipe {
    selector: Option<String>,
    #[serde(default)]
    remove: Vec<String>,
    robots: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    #[serde(default)]
    tags: BTreeMap<String, Spanned<RawFullText>>,
    queue_max: Option<Spanned<i64>>,
    robots: Option<bool>,
}

/// One `full_text` value: `None` for off, the recipe for on. `robots`
/// is the section's setting, for a value that does not say.
pub(super) fn recipe(
    at: &Locator<'_>,
    v: &Spanned<RawFullText>,
    robots: bool,
) -> Result<Option<Recipe>, ConfigError> {
    let recipe = match v.get_ref() {
        RawFullText::On(false) => return Ok(None),
        RawFullText::On(true) => Recipe {
            robots,
            ..Recipe::default()
        },
        RawFullText::Recipe(r) => Recipe {
            selector: r.selector.clone(),
            remove: r.remove.clone(),
            robots: r.robots.unwrap_or(robots),
        },
    };
    recipe
        .validate()
        .map_err(|e| at.error(v.span(), &format!("full_text: bad CSS selector {e}")))?;
    Ok(Some(recipe))
}

/// `[full_text]`, validated.
pub(super) fn from_raw(
    raw: Option<RawSection>,
    at: &Locator<'_>,
) -> Result<FullTextConfig, ConfigError> {
    let mut c = FullTextConfig::default();
    let Some(raw) = raw else {
        return Ok(c);
    };
    if let Some(robots) = raw.robots {
        c.robots = robots;
    }
    for (tag, v) in &raw.tags {
        c.tags
            .insert(tag.trim().to_lowercase(), recipe(at, v, c.robots)?);
    }
    if let Some(n) = &raw.queue_max {
        c.queue_max = super::count(at, n, 1, 10_000_000)?;
    }
    Ok(c)
}
