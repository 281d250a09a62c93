//! Digests: what arrived since the last one, grouped for reading.
//!
//! [`build`] is pure: it takes the articles a period covers (from the
//! store), the digest's config and the period, and returns a [`Digest`]
//! that [`render`] turns into HTML, plain text and Markdown. Delivery by
//! email is in [`email`]; when digests are made is the daemon's business.
//!
//! A period is defined by article ids, not times: a digest takes every
//! article with an id above the previous digest's last one. Ids grow in
//! commit order, so an article committed just after a digest was cut still
//! lands in the next one: none is skipped, none is taken twice.

pub mod email;
pub mod render;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::{DigestConfig, GroupBy};
use crate::model::DigestHead;
use crate::store::DigestArticle;

/// Characters of plain text in an item's excerpt.
pub const EXCERPT_CHARS: usize = 280;

/// Where a story was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The feed's title (or name).
    pub feed: String,
    /// The article's link in that feed.
    pub url: Option<String>,
}

/// One story in a digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Title of the story's first article.
    pub title: String,
    /// Its link.
    pub url: Option<String>,
    /// Every feed that carried the story, first first.
    pub sources: Vec<Source>,
    /// When it was first seen.
    pub time: Option<DateTime<Utc>>,
    /// A short plain-text excerpt.
    pub excerpt: String,
    /// `(article_id, story_id)` of every article shown as this item.
    pub articles: Vec<(i64, i64)>,
}

/// A section (a feed, a tag, or the whole digest).
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Heading; `None` when the digest is not grouped.
    pub heading: Option<String>,
    /// Stories, newest first.
    pub items: Vec<Item>,
}

/// A digest ready to render and store.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// Which digest, when made, the period covered.
    pub head: DigestHead,
    /// The content.
    pub sections: Vec<Section>,
    /// Stories left out by `max_items`.
    pub omitted: usize,
}

impl Digest {
    /// Stories shown.
    pub fn stories(&self) -> usize {
        self.sections.iter().map(|s| s.items.len()).sum()
    }

    /// `(article_id, story_id)` of everything shown, in display order.
    pub fn articles(&self) -> Vec<(i64, i64)> {
        self.sections
            .iter()
            .flat_map(|s| s.items.iter().flat_map(|i| i.articles.iter().copied()))
            .collect()
    }

    /// Whether nothing is shown.
    pub fn is_empty(&self) -> bool {
        self.stories() == 0
    }
}

/// Builds the digest of `articles` (all articles of the period, oldest
/// first) under `cfg`: selected, one item per story with all its sources,
/// the newest `max_items` stories, grouped as configured.
pub fn build(
    cfg: &DigestConfig,
    articles: &[DigestArticle],
    period_start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    last_article_id: i64,
) -> Digest {
    // Stories in order of their first article.
    let mut stories: Vec<Vec<&DigestArticle>> = Vec::new();
    let mut index: BTreeMap<i64, usize> = BTreeMap::new();
    for a in articles.iter().filter(|a| {
        cfg.selection.accepts(&a.feeds, &a.tags, &a.title, &a.text)
            && cfg.selection.accepts_labels(&a.rule_tags, &a.marks)
    }) {
        match index.get(&a.story_id) {
            Some(&i) => stories[i].push(a),
            None => {
                index.insert(a.story_id, stories.len());
                stories.push(vec![a]);
            }
        }
    }
    let omitted = stories.len().saturating_sub(cfg.max_items);
    let kept = &stories[omitted..];
    let mut items: Vec<(String, String, Item)> = kept
        .iter()
        .map(|members| {
            let first = members[0];
            let mut sources: Vec<Source> = Vec::new();
            for m in members {
                for feed in &m.feed_titles {
                    if !sources.iter().any(|s| &s.feed == feed) {
                        sources.push(Source {
                            feed: feed.clone(),
                            url: m.url.clone(),
                        });
                    }
                }
            }
            let item = Item {
                title: if first.title.is_empty() {
                    "(untitled)".into()
                } else {
                    first.title.clone()
                },
                url: first.url.clone(),
                sources,
                time: first.published_at.or(first.first_seen_at),
                excerpt: excerpt(&first.text, EXCERPT_CHARS),
                articles: members.iter().map(|m| (m.id, m.story_id)).collect(),
            };
            let feed = first.feed_titles.first().cloned().unwrap_or_default();
            let tag = first.tags.first().cloned().unwrap_or_default();
            (feed, tag, item)
        })
        .collect();
    // Newest first within every section: by first-seen time (the order
    // things arrived), then by publication time.
    items.reverse();
    items.sort_by_key(|(_, _, i)| std::cmp::Reverse(i.time));
    let sections = match cfg.group_by {
        GroupBy::Story => vec![Section {
            heading: None,
            items: items.into_iter().map(|(_, _, i)| i).collect(),
        }],
        GroupBy::Feed | GroupBy::Tag => {
            let mut groups: BTreeMap<String, Vec<Item>> = BTreeMap::new();
            for (feed, tag, item) in items {
                let key = if cfg.group_by == GroupBy::Feed {
                    feed
                } else {
                    tag
                };
                let key = if key.is_empty() {
                    "Other".to_string()
                } else {
                    key
                };
                groups.entry(key).or_default().push(item);
            }
            groups
                .into_iter()
                .map(|(heading, items)| Section {
                    heading: Some(heading),
                    items,
                })
                .collect()
        }
    };
    Digest {
        head: DigestHead {
            name: cfg.name.clone(),
            title: cfg.title.clone(),
            made_at: now,
            period_start,
            period_end: now,
            last_article_id,
        },
        sections,
        omitted,
    }
}

/// The first `max` characters of `text`, cut at a word boundary, with an
/// ellipsis when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|i| *i > max / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end_matches([',', ';', ':', '.', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Selection;
    use crate::schedule::CronSchedule;

    fn cfg(group_by: GroupBy, max_items: usize) -> DigestConfig {
        DigestConfig {
            name: "daily".into(),
            title: "Daily".into(),
            schedule: CronSchedule::parse("@daily").unwrap(),
            selection: Selection::default(),
            max_items,
            group_by,
            send_empty: false,
            email: None,
        }
    }

    fn art(id: i64, story: i64, feed: &str, tag: &str) -> DigestArticle {
        DigestArticle {
            id,
            story_id: story,
            title: format!("Title {id}"),
            url: Some(format!("https://{feed}.example/{id}")),
            text: "word ".repeat(100),
            published_at: None,
            first_seen_at: Some(Utc::now()),
            feeds: vec![feed.into()],
            feed_titles: vec![feed.to_uppercase()],
            tags: vec![tag.into()],
            rule_tags: vec![],
            marks: vec![],
        }
    }

    #[test]
    fn one_item_per_story_with_all_sources() {
        let arts = vec![
            art(1, 1, "a", "x"),
            art(2, 2, "b", "y"),
            art(3, 1, "c", "x"),
        ];
        let d = build(&cfg(GroupBy::Story, 10), &arts, None, Utc::now(), 3);
        assert_eq!(d.stories(), 2);
        let story1 = d.sections[0]
            .items
            .iter()
            .find(|i| i.title == "Title 1")
            .unwrap();
        let feeds: Vec<&str> = story1.sources.iter().map(|s| s.feed.as_str()).collect();
        assert_eq!(feeds, ["A", "C"]);
        assert_eq!(story1.articles, vec![(1, 1), (3, 1)]);
        // Newest story first.
        assert_eq!(d.sections[0].items[0].title, "Title 2");
    }

    #[test]
    fn grouping_and_limits() {
        let arts = vec![
            art(1, 1, "a", "x"),
            art(2, 2, "b", "y"),
            art(3, 3, "a", "y"),
        ];
        let d = build(&cfg(GroupBy::Feed, 10), &arts, None, Utc::now(), 3);
        let heads: Vec<_> = d
            .sections
            .iter()
            .map(|s| s.heading.clone().unwrap())
            .collect();
        assert_eq!(heads, ["A", "B"]);
        let d = build(&cfg(GroupBy::Tag, 2), &arts, None, Utc::now(), 3);
        assert_eq!(d.omitted, 1);
        assert_eq!(d.stories(), 2);
        assert_eq!(d.articles().len(), 2);
    }

    #[test]
    fn excerpts_cut_at_words() {
        assert_eq!(excerpt("short  text", 280), "short text");
        let e = excerpt(&"alpha beta ".repeat(50), 30);
        assert!(e.ends_with('…') && e.chars().count() <= 31, "{e}");
        assert!(!e.contains("  "));
    }
}
