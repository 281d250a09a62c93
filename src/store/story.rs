//! Placing a new article in its story: candidates from the band index
//! (`story_bands`, an indexed equality lookup, never all pairs), the
//! decision from `dedup::story`, and the evidence kept on the article.
//!
//! Order independence: a story's id is the smallest article id in it, and
//! when a new article matches articles of several stories, those stories
//! are merged into the smallest. So the same articles form the same stories
//! whatever order they arrive in (the ids themselves depend on the order).

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};

use super::{ts, Result};
use crate::dedup::story::{band_keys, verdict, Fingerprint, Verdict};
use crate::model::Entry;

use super::ingest::StoryPolicy;

/// Band keys with more recent postings than this are not used to find
/// candidates (see `place`): bounds the work of one insert whatever the
/// size of the store.
pub const HOT_BAND: usize = 32;

/// Puts article `id` (just inserted from `e`) in a story: an existing one
/// when a recent article is similar enough, else its own. Returns whether
/// it joined an existing story.
pub(super) fn place(
    tx: &Transaction<'_>,
    id: i64,
    e: &Entry,
    policy: Option<&StoryPolicy>,
    now: DateTime<Utc>,
) -> Result<bool> {
    tx.prepare_cached("UPDATE articles SET story_id = ?1 WHERE id = ?1")?
        .execute([id])?;
    let (Some(policy), Some(bytes)) = (policy, e.story_print.as_deref()) else {
        return Ok(false);
    };
    let Ok(print) = Fingerprint::from_bytes(bytes) else {
        return Ok(false);
    };
    let keys: Vec<i64> = band_keys(&print).map(|k| k as i64).collect();
    if keys.is_empty() {
        return Ok(false);
    }
    let since =
        ts(now - chrono::Duration::from_std(policy.window).unwrap_or(chrono::Duration::days(7)));

    // Candidates: recent articles sharing at least one band key.
    let mut candidates: Vec<i64> = Vec::new();
    {
        let mut st = tx.prepare_cached(
            "SELECT article_id FROM story_bands WHERE band_key = ?1 AND first_seen_at >= ?2
             ORDER BY article_id DESC LIMIT ?3",
        )?;
        for k in &keys {
            // A band key shared by very many recent articles says little
            // (boilerplate, templates) and would make every insert compare
            // against a growing crowd: skip it. Real copies share several
            // bands, so they are still found through the others.
            let postings: Vec<i64> = st
                .query_map(params![k, since, (HOT_BAND + 1) as i64], |r| {
                    r.get::<_, i64>(0)
                })?
                .collect::<rusqlite::Result<_>>()?;
            if postings.len() > HOT_BAND {
                continue;
            }
            let rows = postings.into_iter().map(Ok::<i64, rusqlite::Error>);
            for r in rows {
                let a = r?;
                if a != id && !candidates.contains(&a) {
                    candidates.push(a);
                }
            }
        }
    }
    let mut best: Option<(i64, f64)> = None;
    let mut stories: Vec<i64> = Vec::new();
    {
        let mut st =
            tx.prepare_cached("SELECT story_id, fingerprint FROM articles WHERE id = ?1")?;
        for c in &candidates {
            let (story, other): (i64, Option<Vec<u8>>) =
                st.query_row([c], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let Some(other) = other.and_then(|b| Fingerprint::from_bytes(&b).ok()) else {
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
    {
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO story_bands (band_key, article_id, first_seen_at) VALUES (?1, ?2, ?3)",
        )?;
        let seen = ts(now);
        for k in &keys {
            st.execute(params![k, id, seen])?;
        }
    }
    let Some((matched, score)) = best else {
        return Ok(false);
    };
    let story = *stories.iter().min().expect("a match has a story");
    tx.prepare_cached(
        "UPDATE articles SET story_id = ?2, story_match_id = ?3, story_score = ?4 WHERE id = ?1",
    )?
    .execute(params![
        id,
        story,
        matched,
        (score * 1000.0).round() / 1000.0
    ])?;
    for other in stories.iter().filter(|s| **s != story) {
        tx.prepare_cached("UPDATE articles SET story_id = ?1 WHERE story_id = ?2")?
            .execute(params![story, other])?;
    }
    Ok(true)
}

/// Drops index rows older than the window, so the index stays the size of
/// the recent past.
pub(super) fn prune_bands(
    tx: &Transaction<'_>,
    policy: &StoryPolicy,
    now: DateTime<Utc>,
) -> Result<()> {
    let since =
        ts(now - chrono::Duration::from_std(policy.window).unwrap_or(chrono::Duration::days(7)));
    tx.prepare_cached("DELETE FROM story_bands WHERE first_seen_at < ?1")?
        .execute([since])?;
    Ok(())
}
