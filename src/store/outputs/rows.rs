//! Loading what an output shows of the stories the walk chose: the lead
//! articles, the other articles of their stories, and every entry of those
//! with its feed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{json, Feeds};
use crate::model::ArticleId;
use crate::store::{parse_ts, Result, Store};

/// One story as an output shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputStory {
    /// The article that represents the story.
    pub lead: OutputArticle,
    /// Every entry of the story's articles: the lead's first, in the order
    /// stored, then the other articles', oldest article first.
    pub sightings: Vec<Sighting>,
}

/// An article, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputArticle {
    /// Row id; the base of the item's permanent id.
    pub id: ArticleId,
    /// Plain-text title.
    pub title: String,
    /// Whether Tributary derived the title (the feed gave none).
    pub title_derived: bool,
    /// Link as first seen.
    pub url: Option<String>,
    /// Link without tracking parameters.
    pub canonical_url: Option<String>,
    /// Comma-separated author names.
    pub authors: String,
    /// Sanitized HTML summary.
    pub summary_html: Option<String>,
    /// Sanitized HTML content.
    pub content_html: Option<String>,
    /// Plain text of the content.
    pub content_text: String,
    /// As the feed said.
    pub published_at: DateTime<Utc>,
    /// As the feed said.
    pub updated_at: Option<DateTime<Utc>>,
    /// When Tributary first stored it.
    pub first_seen_at: DateTime<Utc>,
    /// When its content last changed.
    pub changed_at: Option<DateTime<Utc>>,
    /// JSON array of category terms.
    pub categories: String,
    /// JSON array of enclosures (`model::Enclosure`).
    pub enclosures: String,
}

/// One entry of a story: a feed that carried one of its articles.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    /// The article the entry belongs to.
    pub article: ArticleId,
    /// The feed.
    pub feed: FeedRef,
    /// The entry's link as published.
    pub url: Option<String>,
    /// Whether the feed is in the output's selection.
    pub selected: bool,
    /// When the entry was first stored.
    pub first_seen_at: DateTime<Utc>,
}

/// A feed as an output names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedRef {
    /// Configured name.
    pub name: String,
    /// Title from the document.
    pub title: Option<String>,
    /// Home page from the document.
    pub site_url: Option<String>,
    /// Where it is polled (after a confirmed permanent move, the new URL).
    pub url: String,
    /// The language it declares.
    pub language: Option<String>,
    /// When the document last said it was updated, else when it last
    /// brought a new entry.
    pub updated: Option<DateTime<Utc>>,
}

impl Store {
    /// The stories led by `leads`, in that order, with their sightings.
    pub(super) fn stories(&self, leads: &[i64], feeds: &Feeds) -> Result<Vec<OutputStory>> {
        let mut articles = self.articles(leads)?;
        let members = self.story_members(leads)?;
        let all: Vec<i64> = leads
            .iter()
            .chain(members.values().flatten())
            .copied()
            .collect();
        let mut sightings = self.sightings(&all, feeds)?;
        let mut out = Vec::with_capacity(leads.len());
        for lead in leads {
            let Some(article) = articles.remove(lead) else {
                continue;
            };
            let mut seen = sightings.remove(lead).unwrap_or_default();
            for other in members.get(lead).into_iter().flatten() {
                seen.extend(sightings.remove(other).unwrap_or_default());
            }
            out.push(OutputStory {
                lead: article,
                sightings: seen,
            });
        }
        Ok(out)
    }

    /// For each lead that belongs to a story, the story's other articles,
    /// oldest first.
    fn story_members(&self, leads: &[i64]) -> Result<HashMap<i64, Vec<i64>>> {
        let mut st = self.conn.prepare_cached(
            "SELECT l.id, a.id FROM articles l JOIN articles a ON a.story_id = l.story_id
             WHERE l.id IN (SELECT value FROM json_each(?1)) AND l.story_id IS NOT NULL
               AND a.id <> l.id
             ORDER BY l.id, a.id",
        )?;
        let rows = st.query_map([json(leads)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
        for row in rows {
            let (lead, member) = row?;
            out.entry(lead).or_default().push(member);
        }
        Ok(out)
    }

    fn articles(&self, ids: &[i64]) -> Result<HashMap<i64, OutputArticle>> {
        // The texts are inflated once per article here (the SQL of
        // `article_html` would inflate them once per column), and the
        // fuller of the feed's text and the page's (full text) chosen as
        // `store::extract::FULLER_TEXT` chooses in SQL (`extract::fuller`).
        let sql = format!(
            "SELECT id, title, url, canonical_url, authors, {}, a.content_text,
                    a.extracted_html, a.extracted_text, published_at, updated_at,
                    first_seen_at, changed_at, categories, enclosures, title_derived
             FROM articles a WHERE id IN (SELECT value FROM json_each(?1))",
            crate::store::html::STORED_TEXTS,
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let time = |s: String| parse_ts(&s).unwrap_or(DateTime::UNIX_EPOCH);
        let rows = st.query_map([json(ids)], |r| {
            let id: i64 = r.get(0)?;
            let (html, summary_html) = crate::store::html::stored_texts(r, 5)?;
            let text = crate::store::text::read(r.get(9)?, html.as_deref());
            let (content_html, content_text) =
                crate::store::extract::fuller((html, text), (r.get(10)?, r.get(11)?));
            Ok((
                id,
                OutputArticle {
                    id: ArticleId(id),
                    title: r.get(1)?,
                    url: r.get(2)?,
                    canonical_url: r.get(3)?,
                    authors: r.get(4)?,
                    summary_html,
                    content_html,
                    content_text,
                    published_at: time(r.get(12)?),
                    updated_at: r.get::<_, Option<String>>(13)?.map(time),
                    first_seen_at: time(r.get(14)?),
                    changed_at: r.get::<_, Option<String>>(15)?.map(time),
                    categories: r.get(16)?,
                    enclosures: r.get(17)?,
                    title_derived: r.get(18)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Entries of `ids` with their feeds, grouped by article, in the order
    /// stored.
    fn sightings(&self, ids: &[i64], feeds: &Feeds) -> Result<HashMap<i64, Vec<Sighting>>> {
        let mut st = self.conn.prepare_cached(
            "SELECT e.article_id, e.feed_id, e.url, e.first_seen_at,
                    f.name, f.title, f.site_url, coalesce(f.moved_to, f.url), f.language,
                    coalesce(f.source_updated_at, f.last_new_entry_at)
             FROM entries e JOIN feeds f ON f.id = e.feed_id
             WHERE e.article_id IN (SELECT value FROM json_each(?1))
             ORDER BY e.article_id, e.id",
        )?;
        let rows = st.query_map([json(ids)], |r| {
            let article: i64 = r.get(0)?;
            let feed: i64 = r.get(1)?;
            Ok((
                article,
                Sighting {
                    article: ArticleId(article),
                    url: r.get(2)?,
                    first_seen_at: parse_ts(&r.get::<_, String>(3)?)
                        .unwrap_or(DateTime::UNIX_EPOCH),
                    selected: feeds.contains(feed),
                    feed: FeedRef {
                        name: r.get(4)?,
                        title: r.get(5)?,
                        site_url: r.get(6)?,
                        url: r.get(7)?,
                        language: r.get(8)?,
                        updated: r.get::<_, Option<String>>(9)?.and_then(|t| parse_ts(&t)),
                    },
                },
            ))
        })?;
        let mut out: HashMap<i64, Vec<Sighting>> = HashMap::new();
        for row in rows {
            let (article, sighting) = row?;
            out.entry(article).or_default().push(sighting);
        }
        Ok(out)
    }
}
