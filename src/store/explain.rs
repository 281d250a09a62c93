//! Reading back why articles were merged: the data behind `tributary explain`.

use rusqlite::{params, OptionalExtension};

use super::{Result, Store};
use crate::dedup::story::{self, facts, Fingerprint, Verdict};

/// One entry of an article: which feed carried it, and how it joined.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntryWhy {
    /// The feed's name.
    pub feed: String,
    /// The entry's guid, when it had one.
    pub guid: Option<String>,
    /// The entry's link.
    pub url: Option<String>,
    /// `new` (it created the article), `canonical_url` or `content_hash`.
    pub matched_by: String,
    /// When it was first seen.
    pub first_seen_at: String,
}

/// One article of a story.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoryMember {
    /// Article id.
    pub article_id: i64,
    /// Its title.
    pub title: String,
    /// Feeds that carried it.
    pub feeds: String,
    /// The article whose likeness put it in the story (`None` for the first).
    pub matched_article_id: Option<i64>,
    /// Similarity with that article.
    pub score: Option<f64>,
    /// How the two compare now, by wording and by facts (`None` for the
    /// first, or when either fingerprint is gone).
    pub evidence: Option<Evidence>,
}

/// Why two articles are one story: both signals, and the facts they share.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Evidence {
    /// `text` (their wording) or `facts` (a re-telling); `none` when the
    /// rules would no longer merge them (a stored fingerprint of an older
    /// version, or another threshold).
    pub rule: &'static str,
    /// Estimated share of wording in common, 0–1.
    pub text: f64,
    /// Facts score, 0–1 (see `dedup::story::FactMatch`).
    pub facts: f64,
    /// The figures and names both tell, as the article writes them.
    pub shared: Vec<String>,
}

/// Everything known about one article's sameness.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Explanation {
    /// Article id.
    pub article_id: i64,
    /// Title.
    pub title: String,
    /// Link as first seen.
    pub url: Option<String>,
    /// Canonical link (the article-level key).
    pub canonical_url: Option<String>,
    /// Content hash (the other article-level key).
    pub content_hash: String,
    /// Its entries.
    pub entries: Vec<EntryWhy>,
    /// Its story's id.
    pub story_id: i64,
    /// Every article of the story, this one included, oldest first.
    pub story: Vec<StoryMember>,
}

impl Store {
    /// Why article `id` is what it is; `None` when there is no such article.
    pub fn explain(&self, id: i64) -> Result<Option<Explanation>> {
        type Head = (String, Option<String>, Option<String>, String, i64);
        let head: Option<Head> = self
            .conn
            .query_row(
                "SELECT title, url, canonical_url, content_hash, coalesce(story_id, id) FROM articles WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((title, url, canonical_url, content_hash, story_id)) = head else {
            return Ok(None);
        };
        let mut st = self.conn.prepare_cached(
            "SELECT f.name, e.guid, e.url, e.match_reason, e.first_seen_at
             FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE e.article_id = ?1 ORDER BY e.id",
        )?;
        let entries = st
            .query_map([id], |r| {
                Ok(EntryWhy {
                    feed: r.get(0)?,
                    guid: r.get(1)?,
                    url: r.get(2)?,
                    matched_by: r.get(3)?,
                    first_seen_at: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut st = self.conn.prepare_cached(
            "SELECT a.id, a.title,
                    (SELECT group_concat(name, ', ') FROM (SELECT DISTINCT f.name FROM entries e
                       JOIN feeds f ON f.id = e.feed_id WHERE e.article_id = a.id)),
                    a.story_match_id, a.story_score
             FROM articles a WHERE coalesce(a.story_id, a.id) = ?1 ORDER BY a.id",
        )?;
        let story = st
            .query_map(params![story_id], |r| {
                Ok(StoryMember {
                    article_id: r.get(0)?,
                    title: r.get(1)?,
                    feeds: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    matched_article_id: r.get(3)?,
                    score: r.get(4)?,
                    evidence: None,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut story = story;
        for m in &mut story {
            if let Some(other) = m.matched_article_id {
                m.evidence = self.evidence(m.article_id, other)?;
            }
        }
        Ok(Some(Explanation {
            article_id: id,
            title,
            url,
            canonical_url,
            content_hash,
            entries,
            story_id,
            story,
        }))
    }

    /// How articles `a` and `b` compare: both scores from their stored
    /// fingerprints, and the facts they share from their texts (what was
    /// fingerprinted: the fuller of feed and extracted text).
    fn evidence(&self, a: i64, b: i64) -> Result<Option<Evidence>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT p.fingerprint, CASE WHEN a.title_derived THEN '' ELSE a.title END, {}
             FROM articles a LEFT JOIN story_prints p ON p.article_id = a.id WHERE a.id = ?1",
            super::extract::FULLER_TEXT
        ))?;
        let mut read = |id: i64| -> Result<Option<(Fingerprint, String, String)>> {
            let row: Option<(Option<Vec<u8>>, String, String)> = st
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            Ok(row.and_then(|(print, title, text)| {
                let print = Fingerprint::from_bytes(&print?).ok()?;
                Some((print, title, text))
            }))
        };
        let (Some(x), Some(y)) = (read(a)?, read(b)?) else {
            return Ok(None);
        };
        let m = story::fact_overlap(&x.0, &y.0);
        let rule = match story::verdict(&x.0, &y.0, story::DEFAULT_THRESHOLD) {
            Verdict::Same(_) => "text",
            Verdict::SameFacts(..) => "facts",
            _ => "none",
        };
        let shared = facts::shared((&x.1, &x.2), (&y.1, &y.2))
            .into_iter()
            .map(|(_, shown)| shown)
            .collect();
        Ok(Some(Evidence {
            rule,
            text: story::similarity(&x.0, &y.0),
            facts: m.score,
            shared,
        }))
    }
}
