//! The full-text queue and results: which articles wait for their page to
//! be extracted, and what extraction found (`articles.extracted_*`).
//!
//! New articles of full-text feeds are found by scanning entries past
//! `extract_scan.through` (one indexed range per scan), so nothing the
//! ingest path writes has to know about extraction, and an article
//! written while the worker was down is still found when it comes back.
//! The queue holds one row per article (its primary key), so an article
//! carried by several feeds is extracted once, and it is bounded: beyond
//! `max` rows the oldest are dropped, recording why on the article.
//!
//! An article is queued again when its feed text changes after its last
//! extraction attempt (`articles.changed_at`, found through a partial
//! index from `extract_scan.changed_since`, minus [`CHANGE_MARGIN`] for
//! fetches that committed late). Its page is then fetched with the stored
//! validators: a 304 keeps the extraction and records the check
//! (`page_checked_at`). A successful extraction re-places the article in
//! its story on the fuller text (see `restory`).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{ts, Result, Store, StoryPolicy};
use crate::model::{FeedId, Validators};

/// How far before the last scan changed articles are looked at again: a
/// change is stamped with its fetch's start, which may precede a scan
/// that ran before the fetch committed.
pub const CHANGE_MARGIN: chrono::Duration = chrono::Duration::hours(1);

/// The article's text for digests and explanations: the text extracted
/// from its page when it is longer (in characters) than the feed's, which
/// is that of `store::text::TEXT` (for an article aliased `a`). Outputs
/// choose their HTML and text by the same rule ([`fuller`]).
pub(super) const FULLER_TEXT: &str = concat!(
    "CASE WHEN a.extracted_text IS NOT NULL AND length(a.extracted_text) > length(",
    super::text::text_sql!(),
    ") THEN a.extracted_text ELSE ",
    super::text::text_sql!(),
    " END"
);

/// An article's HTML and text for outputs, chosen as [`FULLER_TEXT`]
/// chooses the text in SQL: the page's (`extracted_html`,
/// `extracted_text`) when its text is longer in characters than the
/// feed's, else the feed's.
pub(super) fn fuller(
    feed: (Option<String>, String),
    page: (Option<String>, Option<String>),
) -> (Option<String>, String) {
    match page {
        // SQL's `length` counts characters.
        (html, Some(text)) if text.chars().count() > feed.1.chars().count() => (html, text),
        _ => feed,
    }
}

/// One article waiting for extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPage {
    /// `articles.id`.
    pub article_id: i64,
    /// The feed whose settings apply.
    pub feed_id: FeedId,
    /// The page (the article's link as first seen).
    pub url: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// Validators of the page the stored extraction came from (empty when
    /// there is none).
    pub validators: Validators,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractOutcome {
    /// The article body, sanitized, and its text.
    Done {
        /// `extracted_html`.
        html: String,
        /// `extracted_text`.
        text: String,
        /// The page's validators, for the next fetch.
        validators: Validators,
    },
    /// The page answered 304 to the stored validators: the extraction
    /// stays, and the check is recorded.
    Unchanged,
    /// Worth trying again at `retry_at`.
    Retry {
        /// Why it failed this time.
        error: String,
        /// When to try again.
        retry_at: DateTime<Utc>,
    },
    /// Given up: the feed's text stays, `error` says why.
    Failed {
        /// Why.
        error: String,
    },
}

impl Store {
    /// Queues the articles of new entries of `feeds` (entries past the
    /// last scan) that have no extraction yet, and the articles of `feeds`
    /// whose feed text changed since their last extraction attempt, then
    /// trims the queue to `max` rows, oldest dropped. Returns (queued,
    /// dropped).
    pub fn enqueue_new_articles(
        &mut self,
        feeds: &[FeedId],
        max: usize,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let through: i64 = tx.query_row("SELECT through FROM extract_scan", [], |r| r.get(0))?;
        let newest: i64 =
            tx.query_row("SELECT coalesce(max(id), 0) FROM entries", [], |r| r.get(0))?;
        // In entry order: an article carried by several feeds takes the
        // settings of the first feed that stored it.
        let ids: Vec<i64> = feeds.iter().map(|f| f.0).collect();
        let queued = tx.execute(
            "INSERT OR IGNORE INTO extract_queue (article_id, feed_id, queued_at)
             SELECT e.article_id, e.feed_id, ?4 FROM entries e
             JOIN articles a ON a.id = e.article_id
             WHERE e.id > ?2 AND e.id <= ?3
               AND e.feed_id IN (SELECT value FROM json_each(?1))
               AND a.extracted_at IS NULL AND a.url IS NOT NULL
             ORDER BY e.id",
            params![
                serde_json::to_string(&ids).unwrap_or_default(),
                through,
                newest,
                ts(now)
            ],
        )?;
        // Articles that went through extraction and whose feed text
        // changed since: queued again (their page is fetched
        // conditionally).
        let since: Option<String> =
            tx.query_row("SELECT changed_since FROM extract_scan", [], |r| r.get(0))?;
        let requeued = tx.execute(
            "INSERT OR IGNORE INTO extract_queue (article_id, feed_id, queued_at)
             SELECT a.id, e.feed_id, ?3 FROM articles a INDEXED BY articles_by_changed
             JOIN entries e ON e.article_id = a.id
             WHERE a.changed_at >= ?2 AND a.url IS NOT NULL AND a.extracted_at IS NOT NULL
               AND a.changed_at >= max(a.extracted_at, coalesce(a.page_checked_at, ''))
               AND e.feed_id IN (SELECT value FROM json_each(?1))
             ORDER BY e.id",
            params![
                serde_json::to_string(&ids).unwrap_or_default(),
                since.unwrap_or_default(),
                ts(now)
            ],
        )?;
        let queued = queued + requeued;
        tx.execute(
            "UPDATE extract_scan SET through = ?1, changed_since = ?2",
            params![newest, ts(now - CHANGE_MARGIN)],
        )?;
        let len: i64 = tx.query_row("SELECT count(*) FROM extract_queue", [], |r| r.get(0))?;
        let excess = (len - max as i64).max(0);
        if excess > 0 {
            tx.execute(
                "CREATE TEMP TABLE IF NOT EXISTS extract_dropped (article_id INTEGER PRIMARY KEY)",
                [],
            )?;
            tx.execute("DELETE FROM temp.extract_dropped", [])?;
            tx.execute(
                "INSERT INTO temp.extract_dropped SELECT article_id FROM extract_queue
                 ORDER BY queued_at, article_id LIMIT ?1",
                [excess],
            )?;
            tx.execute(
                "UPDATE articles SET extract_error = 'not extracted: the queue was full', extracted_at = ?1
                 WHERE id IN (SELECT article_id FROM temp.extract_dropped)",
                [ts(now)],
            )?;
            tx.execute(
                "DELETE FROM extract_queue WHERE article_id IN (SELECT article_id FROM temp.extract_dropped)",
                [],
            )?;
        }
        tx.commit()?;
        Ok((queued, excess as usize))
    }

    /// Up to `limit` queued articles due at `now`, oldest first.
    pub fn due_pages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedPage>> {
        let mut st = self.conn.prepare_cached(
            "SELECT q.article_id, q.feed_id, a.url, q.attempts,
                    CASE WHEN a.extracted_text IS NOT NULL THEN a.page_etag END,
                    CASE WHEN a.extracted_text IS NOT NULL THEN a.page_last_modified END
             FROM extract_queue q
             JOIN articles a ON a.id = q.article_id
             WHERE q.not_before IS NULL OR q.not_before <= ?1
             ORDER BY q.queued_at, q.article_id LIMIT ?2",
        )?;
        let rows = st.query_map(params![ts(now), limit as i64], |r| {
            Ok(QueuedPage {
                article_id: r.get(0)?,
                feed_id: FeedId(r.get(1)?),
                url: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                attempts: r.get(3)?,
                validators: Validators {
                    etag: r.get(4)?,
                    last_modified: r.get(5)?,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Number of articles waiting.
    pub fn queue_len(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM extract_queue", [], |r| r.get(0))?)
    }

    /// Records what one attempt gave and takes the article off the queue
    /// (or pushes it back to `retry_at`). After a success, an article of a
    /// feed in story matching (`story`) is placed again in its story on
    /// the fuller text.
    pub fn record_extraction(
        &mut self,
        article_id: i64,
        outcome: &ExtractOutcome,
        story: Option<&StoryPolicy>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            write_outcome(&tx, article_id, outcome, now)?;
            if let (ExtractOutcome::Done { .. }, Some(policy)) = (outcome, story) {
                self.recent.sync(&tx)?;
                super::restory::replace(&tx, article_id, policy, now, &mut self.recent)?;
            }
            tx.commit()?;
            Ok(())
        })();
        match &result {
            Ok(()) => {
                self.recent.committed();
                self.after_commit();
            }
            Err(_) => self.recent.invalidate(),
        }
        result
    }

    /// The extraction of one article: (extracted_text, extract_error).
    pub fn extraction_of(
        &self,
        article_id: i64,
    ) -> Result<Option<(Option<String>, Option<String>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT extracted_text, extract_error FROM articles WHERE id = ?1",
                [article_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}

/// Writes one attempt's outcome on the article and the queue.
fn write_outcome(
    tx: &rusqlite::Transaction<'_>,
    article_id: i64,
    outcome: &ExtractOutcome,
    now: DateTime<Utc>,
) -> Result<()> {
    match outcome {
        ExtractOutcome::Done {
            html,
            text,
            validators,
        } => {
            tx.execute(
                "UPDATE articles SET extracted_html = ?2, extracted_text = ?3,
                     extracted_at = ?4, extract_error = NULL, page_etag = ?5,
                     page_last_modified = ?6, page_checked_at = ?4 WHERE id = ?1",
                params![
                    article_id,
                    html,
                    text,
                    ts(now),
                    validators.etag,
                    validators.last_modified
                ],
            )?;
            tx.execute(
                "DELETE FROM extract_queue WHERE article_id = ?1",
                [article_id],
            )?;
        }
        ExtractOutcome::Unchanged => {
            tx.execute(
                "UPDATE articles SET page_checked_at = ?2, extract_error = NULL WHERE id = ?1",
                params![article_id, ts(now)],
            )?;
            tx.execute(
                "DELETE FROM extract_queue WHERE article_id = ?1",
                [article_id],
            )?;
        }
        ExtractOutcome::Retry { error, retry_at } => {
            tx.execute(
                "UPDATE articles SET extract_error = ?2 WHERE id = ?1",
                params![article_id, error],
            )?;
            tx.execute(
                "UPDATE extract_queue SET attempts = attempts + 1, not_before = ?2
                     WHERE article_id = ?1",
                params![article_id, ts(*retry_at)],
            )?;
        }
        ExtractOutcome::Failed { error } => {
            tx.execute(
                "UPDATE articles SET extract_error = ?2, extracted_at = ?3 WHERE id = ?1",
                params![article_id, error, ts(now)],
            )?;
            tx.execute(
                "DELETE FROM extract_queue WHERE article_id = ?1",
                [article_id],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fuller` and `FULLER_TEXT` pick the same text, counting characters
    /// (not bytes) on both sides, on a real store.
    #[test]
    fn fuller_chooses_as_the_sql_does() {
        let dir = tempfile::tempdir().unwrap();
        let s = crate::store::Store::open(&dir.path().join("t.db")).unwrap();
        let cases = [
            ("short", Some("a longer page text")),
            // Longer in characters, shorter in bytes.
            ("éééé", Some("abcde")),
            // Shorter in characters, longer in bytes.
            ("abcdef", Some("éééé")),
            ("same", Some("size")),
            ("no page", None),
        ];
        for (id, (feed, page)) in (1..).zip(cases) {
            s.conn
                .execute(
                    "INSERT INTO articles (id, title, content_text, content_hash, published_at,
                         first_seen_at, extracted_text, extracted_html)
                     VALUES (?1, 't', ?2, 'h', 'x', 'x', ?3, ?4)",
                    rusqlite::params![id, feed, page, page.map(|p| format!("<p>{p}</p>"))],
                )
                .unwrap();
            let in_sql: String = s
                .conn
                .query_row(
                    &format!("SELECT {FULLER_TEXT} FROM articles a WHERE id = ?1"),
                    [id],
                    |r| r.get(0),
                )
                .unwrap();
            let feed_html = Some(format!("<p>{feed}</p>"));
            let page_html = page.map(|p| format!("<p>{p}</p>"));
            let (html, text) = fuller(
                (feed_html.clone(), feed.to_owned()),
                (page_html.clone(), page.map(str::to_owned)),
            );
            assert_eq!(text, in_sql, "{feed} / {page:?}");
            let expected = if text == feed { feed_html } else { page_html };
            assert_eq!(html, expected, "the HTML goes with its text");
        }
    }
}
