//! Digests in the store: where each digest name stands, the articles a new
//! digest may take, and the digests made (with their email state).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{parse_ts, ts, Result, Store};
use crate::model::DigestHead;

/// An article as a digest sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestArticle {
    /// Article id.
    pub id: i64,
    /// Its story.
    pub story_id: i64,
    /// Title.
    pub title: String,
    /// Link (canonical when known).
    pub url: Option<String>,
    /// Plain text (for excerpts and include/exclude patterns).
    pub text: String,
    /// Publication time.
    pub published_at: Option<DateTime<Utc>>,
    /// When Tributary first saw it.
    pub first_seen_at: Option<DateTime<Utc>>,
    /// Names of the feeds that carried it, first first.
    pub feeds: Vec<String>,
    /// Titles of those feeds (or their names).
    pub feed_titles: Vec<String>,
    /// Tags of those feeds.
    pub tags: Vec<String>,
    /// Tags rules added to it.
    pub rule_tags: Vec<String>,
    /// Marks rules added to it.
    pub marks: Vec<String>,
}

/// Where a digest name stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestState {
    /// The last article already covered.
    pub last_article_id: i64,
    /// When the last digest was made (`None`: none yet).
    pub last_made_at: Option<DateTime<Utc>>,
    /// When the digest name was first seen.
    pub created_at: DateTime<Utc>,
}

/// A digest to store.
#[derive(Debug, Clone)]
pub struct NewDigest {
    /// Which digest, when made, the period covered.
    pub head: DigestHead,
    /// `(article_id, story_id)` in display order.
    pub items: Vec<(i64, i64)>,
    /// Stories shown.
    pub stories: usize,
    /// Renderings.
    pub html: String,
    /// Plain text rendering.
    pub text: String,
    /// Markdown rendering.
    pub markdown: String,
    /// Whether email delivery is pending.
    pub email: bool,
}

/// A stored digest.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DigestRow {
    /// Row id.
    pub id: i64,
    /// Digest name.
    pub name: String,
    /// Heading.
    pub title: String,
    /// When made.
    pub made_at: String,
    /// Period covered.
    pub period_start: Option<String>,
    /// End of the period.
    pub period_end: String,
    /// Stories shown.
    pub items: i64,
    /// Articles covered.
    pub articles: i64,
    /// `pending`, `sent`, or `None` (no email).
    pub email_status: Option<String>,
    /// Delivery attempts so far.
    pub email_attempts: i64,
    /// Last delivery error.
    pub email_error: Option<String>,
    /// When the next attempt is due.
    pub email_next_try_at: Option<String>,
    /// `Message-ID` used (stable across retries).
    pub message_id: Option<String>,
    /// HTML rendering.
    #[serde(skip)]
    pub html: String,
    /// Text rendering.
    #[serde(skip)]
    pub text: String,
    /// Markdown rendering.
    #[serde(skip)]
    pub markdown: String,
}

const DIGEST_COLUMNS: &str =
    "id, name, title, made_at, period_start, period_end, items, articles, email_status,
     email_attempts, email_error, email_next_try_at, message_id, html, text, markdown";

fn digest_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DigestRow> {
    Ok(DigestRow {
        id: r.get(0)?,
        name: r.get(1)?,
        title: r.get(2)?,
        made_at: r.get(3)?,
        period_start: r.get(4)?,
        period_end: r.get(5)?,
        items: r.get(6)?,
        articles: r.get(7)?,
        email_status: r.get(8)?,
        email_attempts: r.get(9)?,
        email_error: r.get(10)?,
        email_next_try_at: r.get(11)?,
        message_id: r.get(12)?,
        html: r.get(13)?,
        text: r.get(14)?,
        markdown: r.get(15)?,
    })
}

fn list(s: Option<String>) -> Vec<String> {
    s.map(|s| s.split('\u{1f}').map(str::to_string).collect())
        .unwrap_or_default()
}

impl Store {
    /// The state of digest `name`. The first time the name is seen it is
    /// created so that the first digest covers the articles first seen from
    /// `first_period_start` on (one schedule period back).
    pub fn digest_state(
        &mut self,
        name: &str,
        now: DateTime<Utc>,
        first_period_start: DateTime<Utc>,
    ) -> Result<DigestState> {
        self.conn.execute(
            "INSERT OR IGNORE INTO digest_state (name, last_article_id, created_at)
             VALUES (?1, (SELECT coalesce(max(id), 0) FROM articles WHERE first_seen_at < ?3), ?2)",
            params![name, ts(now), ts(first_period_start)],
        )?;
        Ok(self.conn.query_row(
            "SELECT last_article_id, last_made_at, created_at FROM digest_state WHERE name = ?1",
            [name],
            |r| {
                Ok(DigestState {
                    last_article_id: r.get(0)?,
                    last_made_at: r.get::<_, Option<String>>(1)?.as_deref().and_then(parse_ts),
                    created_at: parse_ts(&r.get::<_, String>(2)?).unwrap_or(now),
                })
            },
        )?)
    }

    /// The first-seen time of the oldest article a digest of `names` has
    /// not covered yet: retention must keep everything from then on.
    /// `None` when no digest waits for anything.
    pub fn digest_protection(&self, names: &[String]) -> Result<Option<DateTime<Utc>>> {
        let mut oldest: Option<i64> = None;
        for n in names {
            let last: Option<i64> = self
                .conn
                .query_row(
                    "SELECT last_article_id FROM digest_state WHERE name = ?1",
                    [n],
                    |r| r.get(0),
                )
                .optional()?;
            // A digest not started yet will start from now: nothing to keep.
            if let Some(last) = last {
                oldest = Some(oldest.map_or(last, |o: i64| o.min(last)));
            }
        }
        let Some(after) = oldest else {
            return Ok(None);
        };
        let t: Option<String> = self.conn.query_row(
            "SELECT min(first_seen_at) FROM articles WHERE id > ?1",
            [after],
            |r| r.get(0),
        )?;
        Ok(t.as_deref().and_then(parse_ts))
    }

    /// The newest article id (0 when there is none).
    pub fn max_article_id(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(id), 0) FROM articles", [], |r| {
                r.get(0)
            })?)
    }

    /// Articles with `after < id <= upto`, oldest first, with their feeds and tags.
    pub fn digest_articles(&self, after: i64, upto: i64) -> Result<Vec<DigestArticle>> {
        self.articles_where("a.id > ?1 AND a.id <= ?2", params![after, upto])
    }

    /// Articles first seen at or after `since`, oldest first (for one-off digests).
    pub fn articles_since(&self, since: DateTime<Utc>) -> Result<Vec<DigestArticle>> {
        self.articles_where("a.first_seen_at >= ?1", params![ts(since)])
    }

    fn articles_where(&self, cond: &str, p: impl rusqlite::Params) -> Result<Vec<DigestArticle>> {
        let sql = format!(
            "SELECT a.id, a.story_id, a.title, coalesce(a.canonical_url, a.url), {fuller},
                    a.published_at, a.first_seen_at,
                    (SELECT group_concat(f.name, char(31)) FROM (SELECT DISTINCT f.name, min(e.id) AS o FROM entries e
                        JOIN feeds f ON f.id = e.feed_id WHERE e.article_id = a.id GROUP BY f.name ORDER BY o) f),
                    (SELECT group_concat(t, char(31)) FROM (SELECT coalesce(f.title, f.name) AS t, min(e.id) AS o FROM entries e
                        JOIN feeds f ON f.id = e.feed_id WHERE e.article_id = a.id GROUP BY f.id ORDER BY o)),
                    (SELECT group_concat(tag, char(31)) FROM (SELECT DISTINCT t.tag FROM entries e
                        JOIN feed_tags t ON t.feed_id = e.feed_id WHERE e.article_id = a.id ORDER BY t.tag)),
                    (SELECT group_concat(label, char(31)) FROM article_labels WHERE article_id = a.id AND kind = 'tag'),
                    (SELECT group_concat(label, char(31)) FROM article_labels WHERE article_id = a.id AND kind = 'mark')
             FROM articles a WHERE {cond} ORDER BY a.id",
            fuller = super::extract::FULLER_TEXT
        );
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(p, |r| {
            Ok(DigestArticle {
                id: r.get(0)?,
                story_id: r.get::<_, Option<i64>>(1)?.unwrap_or(r.get(0)?),
                title: r.get(2)?,
                url: r.get(3)?,
                text: r.get(4)?,
                published_at: r.get::<_, Option<String>>(5)?.as_deref().and_then(parse_ts),
                first_seen_at: r.get::<_, Option<String>>(6)?.as_deref().and_then(parse_ts),
                feeds: list(r.get(7)?),
                feed_titles: list(r.get(8)?),
                tags: list(r.get(9)?),
                rule_tags: list(r.get(10)?),
                marks: list(r.get(11)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores a digest and moves the name's state past its period, in one
    /// transaction (so a crash leaves either both or neither).
    pub fn save_digest(&mut self, d: &NewDigest) -> Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO digests (name, title, made_at, period_start, period_end, first_article_id,
                 last_article_id, items, articles, html, text, markdown, email_status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                d.head.name,
                d.head.title,
                ts(d.head.made_at),
                d.head.period_start.map(ts),
                ts(d.head.period_end),
                d.items.iter().map(|(a, _)| *a).min(),
                d.head.last_article_id,
                d.stories as i64,
                d.items.len() as i64,
                d.html,
                d.text,
                d.markdown,
                d.email.then_some("pending"),
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO digest_items (digest_id, position, article_id, story_id) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (pos, (article, story)) in d.items.iter().enumerate() {
                st.execute(params![id, pos as i64, article, story])?;
            }
        }
        tx.execute(
            "UPDATE digest_state SET last_article_id = max(last_article_id, ?2), last_made_at = ?3 WHERE name = ?1",
            params![d.head.name, d.head.last_article_id, ts(d.head.made_at)],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Marks that digest `name` fell due at `at` with nothing to show (and
    /// `send_empty` off): the period moves on, no digest is stored.
    pub fn skip_digest(
        &mut self,
        name: &str,
        last_article_id: i64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE digest_state SET last_article_id = max(last_article_id, ?2), last_made_at = ?3 WHERE name = ?1",
            params![name, last_article_id, ts(at)],
        )?;
        Ok(())
    }

    /// The most recent digests (of `name`, or of all), newest first.
    pub fn digests(&self, name: Option<&str>, limit: usize) -> Result<Vec<DigestRow>> {
        let sql = format!(
            "SELECT {DIGEST_COLUMNS} FROM digests WHERE (?1 IS NULL OR name = ?1) ORDER BY id DESC LIMIT ?2"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(params![name, limit as i64], digest_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One digest.
    pub fn digest(&self, id: i64) -> Result<Option<DigestRow>> {
        let sql = format!("SELECT {DIGEST_COLUMNS} FROM digests WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], digest_row).optional()?)
    }

    /// Digests whose email is pending and due by `now`.
    pub fn pending_emails(&self, now: DateTime<Utc>) -> Result<Vec<DigestRow>> {
        let sql = format!(
            "SELECT {DIGEST_COLUMNS} FROM digests WHERE email_status = 'pending'
               AND (email_next_try_at IS NULL OR email_next_try_at <= ?1) ORDER BY id"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map([ts(now)], digest_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The earliest time a pending email is due again.
    pub fn next_email_try(&self) -> Result<Option<DateTime<Utc>>> {
        let t: Option<String> = self.conn.query_row(
            "SELECT min(coalesce(email_next_try_at, made_at)) FROM digests WHERE email_status = 'pending'",
            [],
            |r| r.get(0),
        )?;
        Ok(t.as_deref().and_then(parse_ts))
    }

    /// Records a delivery attempt: accepted by the server (`error` = None)
    /// or failed (retried at `next_try`).
    pub fn email_attempt(
        &mut self,
        id: i64,
        message_id: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
        next_try: DateTime<Utc>,
    ) -> Result<()> {
        match error {
            None => self.conn.execute(
                "UPDATE digests SET email_status = 'sent', email_sent_at = ?2, email_attempts = email_attempts + 1,
                     email_error = NULL, email_next_try_at = NULL, message_id = ?3 WHERE id = ?1",
                params![id, ts(now), message_id],
            )?,
            Some(e) => self.conn.execute(
                "UPDATE digests SET email_attempts = email_attempts + 1, email_error = ?2,
                     email_next_try_at = ?3, message_id = ?4 WHERE id = ?1",
                params![id, e, ts(next_try), message_id],
            )?,
        };
        Ok(())
    }
}
