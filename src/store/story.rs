//! Placing a new article in its story: candidates from the band index
//! (`story_bands`, an indexed equality lookup, never all pairs), the
//! decision from `dedup::story`, and the evidence kept on the article.
//!
//! Order independence: a story's id is the smallest article id in it, and
//! when a new article matches articles of several stories, those stories
//! are merged into the smallest. So the same articles form the same stories
//! whatever order they arrive in (the ids themselves depend on the order).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{ts, Result};
use crate::dedup::story::{band_keys, verdict, Fingerprint, Verdict};
use crate::model::Entry;

use super::ingest::StoryPolicy;

/// Band keys with more recent postings than this are not used to find
/// candidates (see `place`): bounds the work of one insert whatever the
/// size of the store.
pub const HOT_BAND: usize = 32;

/// Recent postings of one band key, newest first, one more than
/// [`HOT_BAND`] (so a hot key is recognised without reading it all).
const POSTINGS_SQL: &str =
    "SELECT article_id FROM story_bands WHERE band_key = ?1 AND article_id >= ?2
     ORDER BY article_id DESC LIMIT 33";
const _: () = assert!(HOT_BAND + 1 == 33);

/// Where a new article goes, decided before it is inserted (so its row is
/// written once, story included).
#[derive(Debug, Default)]
pub(super) struct Placement {
    /// The story it joins; `None`: a story of its own (its own id).
    pub story: Option<i64>,
    /// The most similar article and the score, when it joins a story.
    pub matched: Option<(i64, f64)>,
    /// Other stories it matched, to be merged into `story`.
    merge: Vec<i64>,
    /// Its band keys, for the index.
    keys: Vec<i64>,
}

/// Finds the story of a new article (id `id`, not inserted yet, made from
/// `e`): an existing one when a recent article is similar enough, else its
/// own.
pub(super) fn place(
    tx: &Transaction<'_>,
    id: i64,
    e: &Entry,
    policy: Option<&StoryPolicy>,
    window_start: i64,
) -> Result<Placement> {
    let mut placed = Placement::default();
    let (Some(policy), Some(bytes)) = (policy, e.story_print.as_deref()) else {
        return Ok(placed);
    };
    let Ok(print) = Fingerprint::from_bytes(bytes) else {
        return Ok(placed);
    };
    placed.keys = band_keys(&print).map(|k| k as i64).collect();
    if placed.keys.is_empty() {
        return Ok(placed);
    }
    // Candidates: recent articles sharing at least one band key.
    let mut candidates: Vec<i64> = Vec::new();
    {
        // The limit is a literal, not a parameter: SQLite re-prepares a
        // statement whenever a parameter it planned with (LIMIT ?) is bound
        // again, which made this lookup cost as much as a fresh prepare.
        let mut st = tx.prepare_cached(POSTINGS_SQL)?;
        let mut postings: Vec<i64> = Vec::with_capacity(HOT_BAND + 1);
        for k in &placed.keys {
            // A band key shared by very many recent articles says little
            // (boilerplate, templates) and would make every insert compare
            // against a growing crowd: skip it. Real copies share several
            // bands, so they are still found through the others.
            postings.clear();
            let mut rows = st.query(params![k, window_start])?;
            while let Some(r) = rows.next()? {
                postings.push(r.get(0)?);
            }
            if postings.len() > HOT_BAND {
                continue;
            }
            for &a in &postings {
                if a != id && !candidates.contains(&a) {
                    candidates.push(a);
                }
            }
        }
    }
    let mut best: Option<(i64, f64)> = None;
    let mut stories: Vec<i64> = Vec::new();
    {
        // Through the narrow covering index (see migration 6).
        let mut st = tx.prepare_cached(
            "SELECT story_id, fingerprint FROM articles INDEXED BY articles_story_prints
             WHERE id = ?1 AND fingerprint IS NOT NULL",
        )?;
        for c in &candidates {
            // A band row may outlive its article (pruned by retention)
            // until the window drops it.
            // Decoded straight from SQLite's buffer (no copy of the blob).
            let Some((story, other)) = st
                .query_row([c], |r| {
                    let print = r.get_ref(1)?.as_blob_or_null()?;
                    Ok((
                        r.get::<_, i64>(0)?,
                        print.and_then(|b| Fingerprint::from_bytes(b).ok()),
                    ))
                })
                .optional()?
            else {
                continue;
            };
            let Some(other) = other else {
                continue;
            };
            if let Verdict::Same(score) = verdict(&print, &other, policy.threshold) {
                if !stories.contains(&story) {
                    stories.push(story);
                }
                // Best match; ties go to the older article, for stability.
                if best.is_none_or(|(b, s)| score > s || (score == s && *c < b)) {
                    best = Some((*c, score));
                }
            }
        }
    }
    if let Some((matched, score)) = best {
        let story = *stories.iter().min().expect("a match has a story");
        placed.story = Some(story);
        placed.matched = Some((matched, (score * 1000.0).round() / 1000.0));
        placed.merge = stories.into_iter().filter(|s| *s != story).collect();
    }
    Ok(placed)
}

/// After article `id` is inserted as `placed` says: its band keys go into
/// the index, and the other stories it matched merge into its story.
pub(super) fn index(tx: &Transaction<'_>, id: i64, placed: &Placement) -> Result<()> {
    if !placed.keys.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO story_bands (band_key, article_id) VALUES (?1, ?2)",
        )?;
        for k in &placed.keys {
            st.execute(params![k, id])?;
        }
    }
    if let Some(story) = placed.story {
        for other in &placed.merge {
            tx.prepare_cached("UPDATE articles SET story_id = ?1 WHERE story_id = ?2")?
                .execute(params![story, other])?;
        }
    }
    Ok(())
}

/// The first article of the story window: the oldest article first seen
/// at or after `now - window`, or the next id to come when there is none.
/// (Ids grow in commit order, so "id at least this" is "first seen in the
/// window", give or take the order of fetches committed together.)
pub(super) fn window_start(
    tx: &Transaction<'_>,
    policy: &StoryPolicy,
    now: DateTime<Utc>,
) -> Result<i64> {
    let since =
        ts(now - chrono::Duration::from_std(policy.window).unwrap_or(chrono::Duration::days(7)));
    Ok(tx
        .prepare_cached(
            "SELECT coalesce(
                 (SELECT id FROM articles WHERE first_seen_at >= ?1 ORDER BY first_seen_at, id LIMIT 1),
                 (SELECT coalesce(max(id), 0) + 1 FROM articles))",
        )?
        .query_row([since], |r| r.get(0))?)
}

/// Drops index rows older than the window, so the index stays the size of
/// the recent past. It reads the whole index, so the store runs it once in
/// a while ([`PRUNE_EVERY`]), not with every fetch.
pub(super) fn prune_bands(tx: &Transaction<'_>, window_start: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM story_bands WHERE article_id < ?1")?
        .execute([window_start])?;
    Ok(())
}

/// How often a writing store drops index rows that left the window.
pub(super) const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);
