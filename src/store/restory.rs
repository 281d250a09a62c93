//! Placing an article again in its story once its page was extracted:
//! story matching uses the fuller text when there is one. Ingest places an
//! article on the feed's text (often a teaser too short to compare); after
//! extraction the article's fingerprint is made from its title and the
//! extracted text, and it leaves its story and is placed as ingest places
//! a new article ([`story::place`]: the same band index, window, hot-key
//! cap and threshold), joining the story it now matches, merging the
//! stories it bridges, or standing alone.
//!
//! Bounds and limits: one article's lookup, as at ingest. Articles outside
//! the story window, and extractions no longer than the feed's text, are
//! left where they are. When the article leaves a story, the others stay
//! together (they matched each other, or matched it when they came; the
//! merges it once caused are not undone), under the smallest of their
//! ids. Its new band keys go to the table tier of the index at once; the
//! old ones stay until the window drops them, and only ever lead to a
//! comparison with its new fingerprint.

use rusqlite::{params, OptionalExtension, Transaction};

use super::story::{self, RecentBands};
use super::{Result, StoryPolicy};
use crate::dedup::story::{fingerprint, MIN_WORDS};

/// Places article `id` again on its extracted text (see the module docs).
pub(super) fn replace(
    tx: &Transaction<'_>,
    id: i64,
    policy: &StoryPolicy,
    now: chrono::DateTime<chrono::Utc>,
    recent: &mut RecentBands,
) -> Result<()> {
    type Row = (String, bool, String, Option<String>, i64, String);
    let row: Option<Row> = tx
        .prepare_cached(&format!(
            "SELECT a.title, a.title_derived, {}, a.extracted_text, a.story_id, a.published_at
                 FROM articles a WHERE a.id = ?1",
            super::text::TEXT
        ))?
        .query_row([id], |r| Row::try_from(r))
        .optional()?;
    let Some((title, derived, feed_text, Some(text), old_story, published)) = row else {
        return Ok(());
    };
    // The fuller text, chosen as outputs choose it (see `FULLER_TEXT`).
    if text.chars().count() <= feed_text.chars().count() {
        return Ok(());
    }
    let mut print = fingerprint(if derived { "" } else { &title }, &text);
    if let Some(at) = super::parse_ts(&published) {
        print = print.dated(at);
    }
    if print.words() < MIN_WORDS {
        return Ok(());
    }
    let window_start = story::window_start(tx, policy, now)?;
    if id < window_start {
        return Ok(());
    }
    leave(tx, id, old_story)?;
    let bytes = print.to_bytes();
    let placed = story::place(
        tx,
        id,
        Some(&bytes),
        Some(policy),
        window_start,
        &*recent,
        None,
    )?;
    // The story is named by its smallest article id, this one included.
    let joined: Vec<i64> = placed.story.into_iter().chain(placed.merge).collect();
    let story = joined.iter().copied().chain([id]).min().unwrap_or(id);
    story::merge(tx, story, &joined)?;
    tx.prepare_cached(
        "UPDATE articles SET story_id = ?2, story_match_id = ?3, story_score = ?4 WHERE id = ?1",
    )?
    .execute(params![
        id,
        story,
        placed.matched.map(|(m, _)| m),
        placed.matched.map(|(_, score)| score),
    ])?;
    story::keep_print(tx, id, &bytes)?;
    let mut index = tx.prepare_cached(
        "INSERT OR IGNORE INTO story_bands (band_key, article_id) VALUES (?1, ?2)",
    )?;
    for key in &placed.keys {
        index.execute(params![key, id])?;
    }
    recent.written_to_table(&placed.keys);
    Ok(())
}

/// Takes article `id` out of `story`: it becomes a story of its own, and
/// when it named the story, the others take the smallest of their ids.
fn leave(tx: &Transaction<'_>, id: i64, story: i64) -> Result<()> {
    if story == id {
        let next: Option<i64> = tx
            .prepare_cached("SELECT min(id) FROM articles WHERE story_id = ?1 AND id != ?1")?
            .query_row([id], |r| r.get(0))?;
        if let Some(next) = next {
            tx.prepare_cached(
                "UPDATE articles SET story_id = ?2 WHERE story_id = ?1 AND id != ?1",
            )?
            .execute(params![id, next])?;
        }
    } else {
        tx.prepare_cached("UPDATE articles SET story_id = ?1 WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::story::tests::{
        copy, fetch, flushing_at, now, query, story_of, OTHER, THIRD,
    };
    use super::super::story::FLUSH_AT;
    use crate::dedup::story::DEFAULT_THRESHOLD;
    use crate::store::{ExtractOutcome, StoryPolicy};

    /// An article whose page tells another story than its feed text leaves
    /// its story (the one left keeps a story named by itself) and joins the
    /// story of its fuller text, in either tier of the band index.
    #[test]
    fn an_extraction_moves_the_article_to_the_story_of_its_fuller_text() {
        let policy = StoryPolicy {
            threshold: DEFAULT_THRESHOLD,
            window: std::time::Duration::from_secs(7 * 86_400),
        };
        for flush_at in [1, FLUSH_AT] {
            let (_dir, mut s) = flushing_at(flush_at);
            s.record_fetch(&fetch(1, "first", &copy(0), true)).unwrap();
            s.record_fetch(&fetch(2, "second", &copy(1), true)).unwrap();
            s.record_fetch(&fetch(3, "trees", OTHER, true)).unwrap();
            assert_eq!(story_of(&s, "first"), 1);
            assert_eq!(story_of(&s, "second"), 1);
            assert_eq!(story_of(&s, "trees"), 3);
            let page = |text: String| ExtractOutcome::Done {
                html: String::new(),
                text,
                validators: Default::default(),
            };
            // No longer than the feed's text: nothing moves.
            s.record_extraction(1, &page(OTHER.into()), Some(&policy), now())
                .unwrap();
            assert_eq!(story_of(&s, "second"), 1);
            let longer = format!("{OTHER}{}", "\nAdvertisement".repeat(200));
            s.record_extraction(1, &page(longer), Some(&policy), now())
                .unwrap();
            assert_eq!(story_of(&s, "second"), 2, "flush at {flush_at}");
            assert_eq!(story_of(&s, "first"), 1);
            assert_eq!(story_of(&s, "trees"), 1);
            assert_eq!(
                query(&s, "SELECT story_match_id FROM articles WHERE id = 1"),
                3
            );
            // The second's page tells a third story, of no other article:
            // it stays alone, and its new band keys find it for a later
            // copy.
            let third = format!("{THIRD}{}", "\nAdvertisement".repeat(200));
            s.record_extraction(2, &page(third), Some(&policy), now())
                .unwrap();
            assert_eq!(story_of(&s, "second"), 2);
            s.record_fetch(&fetch(4, "more", THIRD, true)).unwrap();
            assert_eq!(story_of(&s, "more"), 2, "flush at {flush_at}");
        }
    }
}
