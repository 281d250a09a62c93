//! The notification outbox (`notify_outbox`) and delivery log
//! (`notify_log`): notifications are queued in the transaction that
//! stores what they announce ([`enqueue`], called by the ingest writer),
//! so a crash loses both or neither; the delivery task reads them back,
//! records each attempt, and retention trims what was delivered.
//!
//! One row per target and idempotency key (`UNIQUE (target, idem_key)`):
//! an article that a second feed carries, or a story that grows further,
//! is not queued again.

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};

use super::record::{FetchRecord, Outcome};
use super::{parse_ts, ts, Result, Store};
use crate::config::NotifyConfig;
use crate::notify::{self, Candidate, HealthEvent};

/// A queued notification.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    /// Row id.
    pub id: i64,
    /// The article announced (for `article` rows).
    pub article_id: Option<i64>,
    /// Feeds carrying the story when queued (story-size targets).
    pub story_feeds: Option<i64>,
    /// The health event (for `health` rows).
    pub event: Option<HealthEvent>,
    /// Idempotency key.
    pub key: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When it may be tried again after a failure.
    pub retry_at: Option<DateTime<Utc>>,
}

/// Where one target's queue stands.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TargetQueue {
    /// The target's name.
    pub target: String,
    /// Notifications waiting.
    pub pending: i64,
    /// When the oldest waiting one was queued.
    pub oldest: Option<DateTime<Utc>>,
    /// When the target tries again after a failure, if it failed.
    pub retry_at: Option<DateTime<Utc>>,
    /// Notifications delivered (still in the outbox; retention trims them).
    pub delivered: i64,
    /// Messages sent successfully, and failed attempts, in the log.
    pub messages_ok: i64,
    /// See `messages_ok`.
    pub messages_failed: i64,
    /// When the last message was accepted.
    pub last_ok_at: Option<DateTime<Utc>>,
    /// The last failure, when the last attempt failed.
    pub last_error: Option<String>,
}

/// One delivery attempt, as the log keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt<'a> {
    /// The target.
    pub target: &'a str,
    /// The outbox rows the message carried.
    pub rows: &'a [i64],
    /// The message's key.
    pub message_key: &'a str,
    /// When it started.
    pub at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: u64,
    /// `Ok`, or what failed and when to try again.
    pub result: std::result::Result<(), (String, DateTime<Utc>)>,
}

/// Queues what `rec` brings for the targets, inside the transaction that
/// stores it: new articles (`fresh`: index in `rec.entries`, article id),
/// unless they are the backlog of a feed's first successful fetch
/// (`backlog`: the feed had no entry stored), and the feed's health events.
pub(super) fn enqueue(
    tx: &Transaction<'_>,
    targets: &[NotifyConfig],
    rec: &FetchRecord,
    fresh: &[(usize, i64)],
    backlog: bool,
    moved_to: Option<&str>,
) -> Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let feed = rec.feed_id.0;
    let (name, language, last_success, created, tags): (
        String,
        Option<String>,
        Option<String>,
        String,
        String,
    ) = tx
        .prepare_cached(
            "SELECT name, language, last_success_at, created_at,
                    (SELECT json_group_array(tag) FROM feed_tags WHERE feed_id = ?1)
             FROM feeds WHERE id = ?1",
        )?
        .query_row([feed], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
    let tags: Vec<String> = serde_json::from_str(&tags).unwrap_or_default();
    let now = ts(rec.now);
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO notify_outbox
             (target, kind, article_id, story_feeds, event, idem_key, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    // A feed with no entry stored may have lost them all to retention: it
    // is new only if no fetch of it succeeded before.
    let backlog = backlog
        && !fresh.is_empty()
        && !tx
            .prepare_cached(
                "SELECT 1 FROM fetch_log WHERE feed_id = ?1 AND outcome IN ('ok', 'not_modified')",
            )?
            .exists([feed])?;
    if !backlog {
        for &(i, article) in fresh {
            let Some(entry) = rec.entries.get(i) else {
                continue;
            };
            let labels = rec.judged.labels.iter().find(|l| l.key == entry.key);
            let pick =
                |v: &[(String, String)]| v.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>();
            let rule_tags = labels.map(|l| pick(&l.tags)).unwrap_or_default();
            let marks = labels.map(|l| pick(&l.marks)).unwrap_or_default();
            let c = Candidate {
                feed: &name,
                feed_tags: &tags,
                language: rec
                    .meta
                    .as_ref()
                    .and_then(|m| m.language.as_deref())
                    .or(language.as_deref()),
                entry,
                rule_tags: &rule_tags,
                marks: &marks,
            };
            // Read once per article, and only when a target wants it.
            let (mut story, mut seen): (Option<(i64, i64, String)>, Option<String>) = (None, None);
            for t in targets.iter().filter(|t| notify::wants(t, &c, rec.now)) {
                let Some(min) = t.select.min_story_feeds else {
                    if seen.is_none() {
                        seen = Some(
                            tx.prepare_cached("SELECT first_seen_at FROM articles WHERE id = ?1")?
                                .query_row([article], |r| r.get(0))?,
                        );
                    }
                    let seen = seen.as_deref().unwrap_or_default();
                    let key = notify::key(&t.name, &format!("article\u{0}{article}\u{0}{seen}"));
                    insert.execute(params![
                        t.name,
                        "article",
                        article,
                        None::<i64>,
                        None::<String>,
                        key,
                        now
                    ])?;
                    continue;
                };
                if story.is_none() {
                    story = Some(story_size(tx, article)?);
                }
                let (lead, feeds, seen) = story.clone().expect("just computed");
                if feeds >= min as i64 {
                    let key = notify::key(&t.name, &format!("story\u{0}{lead}\u{0}{seen}"));
                    insert.execute(params![
                        t.name,
                        "article",
                        lead,
                        feeds,
                        None::<String>,
                        key,
                        now
                    ])?;
                }
            }
        }
    }
    let mut events = Vec::new();
    if let Some(to) = moved_to {
        events.push(HealthEvent::Moved {
            feed: name.clone(),
            to: to.to_string(),
        });
    }
    if rec.outcome == Outcome::Gone {
        events.push(HealthEvent::Gone {
            feed: name.clone(),
            url: rec.url.clone(),
        });
    }
    let failing = matches!(rec.outcome, Outcome::Transient | Outcome::Permanent);
    if failing && targets.iter().any(|t| t.health.failing_for.is_some()) {
        // Both stay the same for the whole outage, and so does the key.
        let since = last_success
            .as_deref()
            .and_then(parse_ts)
            .or_else(|| parse_ts(&created))
            .unwrap_or(rec.now)
            .min(rec.started_at);
        events.push(HealthEvent::Failing {
            feed: name.clone(),
            since,
            error: rec.error.clone(),
        });
    }
    for e in &events {
        let text = serde_json::to_string(e).unwrap_or_default();
        for t in targets.iter().filter(|t| e.wanted_by(t, &tags)) {
            if let (HealthEvent::Failing { since, .. }, Some(limit)) = (e, t.health.failing_for) {
                if (rec.now - *since).to_std().unwrap_or_default() < limit {
                    continue;
                }
            }
            let key = notify::key(&t.name, &e.subject());
            insert.execute(params![
                t.name,
                "health",
                None::<i64>,
                None::<i64>,
                text,
                key,
                now
            ])?;
        }
    }
    Ok(())
}

/// The story of `article`: its lead (earliest article), how many feeds
/// carry it, and when its lead was first seen.
fn story_size(tx: &Transaction<'_>, article: i64) -> Result<(i64, i64, String)> {
    Ok(tx
        .prepare_cached(
            "WITH s AS (SELECT coalesce(story_id, id) AS story FROM articles WHERE id = ?1),
                  members AS (SELECT id FROM articles WHERE id = ?1 OR story_id = (SELECT story FROM s))
             SELECT (SELECT min(id) FROM members),
                    (SELECT count(DISTINCT feed_id) FROM entries WHERE article_id IN members),
                    (SELECT first_seen_at FROM articles WHERE id = (SELECT min(id) FROM members))",
        )?
        .query_row([article], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
}

fn outbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    let event: Option<String> = r.get(3)?;
    Ok(OutboxRow {
        id: r.get(0)?,
        article_id: r.get(1)?,
        story_feeds: r.get(2)?,
        event: event.and_then(|e| serde_json::from_str(&e).ok()),
        key: r.get(4)?,
        created_at: r
            .get::<_, String>(5)
            .ok()
            .as_deref()
            .and_then(parse_ts)
            .unwrap_or_default(),
        attempts: r.get(6)?,
        retry_at: r.get::<_, Option<String>>(7)?.as_deref().and_then(parse_ts),
    })
}

impl Store {
    /// The oldest `limit` notifications waiting for `target`.
    pub fn notify_pending(&self, target: &str, limit: usize) -> Result<Vec<OutboxRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, article_id, story_feeds, event, idem_key, created_at, attempts,
                 next_attempt_at FROM notify_outbox WHERE target = ?1 AND delivered_at IS NULL ORDER BY id LIMIT ?2",
        )?;
        let rows = st.query_map(params![target, limit as i64], outbox_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every target with something queued, delivered or logged, by name.
    pub fn notify_queues(&self) -> Result<Vec<TargetQueue>> {
        let mut st = self.conn.prepare_cached(
            "WITH names AS (SELECT target FROM notify_outbox UNION SELECT target FROM notify_log)
             SELECT n.target,
                (SELECT count(*) FROM notify_outbox o WHERE o.target = n.target AND o.delivered_at IS NULL),
                (SELECT min(created_at) FROM notify_outbox o WHERE o.target = n.target AND o.delivered_at IS NULL),
                (SELECT max(next_attempt_at) FROM notify_outbox o WHERE o.target = n.target AND o.delivered_at IS NULL),
                (SELECT count(*) FROM notify_outbox o WHERE o.target = n.target AND o.delivered_at IS NOT NULL),
                (SELECT count(*) FROM notify_log l WHERE l.target = n.target AND l.ok),
                (SELECT count(*) FROM notify_log l WHERE l.target = n.target AND NOT l.ok),
                (SELECT max(at) FROM notify_log l WHERE l.target = n.target AND l.ok),
                (SELECT CASE WHEN ok THEN NULL ELSE error END FROM notify_log l
                 WHERE l.target = n.target ORDER BY id DESC LIMIT 1)
             FROM names n ORDER BY n.target",
        )?;
        let time = |r: &rusqlite::Row<'_>, i: usize| -> Option<DateTime<Utc>> {
            r.get::<_, Option<String>>(i)
                .ok()
                .flatten()
                .as_deref()
                .and_then(parse_ts)
        };
        let rows = st.query_map([], |r| {
            Ok(TargetQueue {
                target: r.get(0)?,
                pending: r.get(1)?,
                oldest: time(r, 2),
                retry_at: time(r, 3),
                delivered: r.get(4)?,
                messages_ok: r.get(5)?,
                messages_failed: r.get(6)?,
                last_ok_at: time(r, 7),
                last_error: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// When `target` sent its messages since `since` (for its rate limit).
    pub fn notify_sent_since(
        &self,
        target: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>> {
        let mut st = self.conn.prepare_cached(
            "SELECT at FROM notify_log WHERE target = ?1 AND at > ?2 ORDER BY at",
        )?;
        let rows = st.query_map(params![target, ts(since)], |r| r.get::<_, String>(0))?;
        Ok(rows
            .filter_map(|r| r.ok().as_deref().and_then(parse_ts))
            .collect())
    }

    /// Records one attempt: the log row, and the rows it carried marked
    /// delivered, or given their next attempt, in one transaction.
    pub fn notify_attempted(&mut self, a: &Attempt<'_>) -> Result<()> {
        let tx = self.conn.transaction()?;
        let ids = serde_json::to_string(a.rows).unwrap_or_else(|_| "[]".into());
        match &a.result {
            Ok(()) => tx.execute(
                "UPDATE notify_outbox SET delivered_at = ?2, next_attempt_at = NULL
                 WHERE id IN (SELECT value FROM json_each(?1))",
                params![ids, ts(a.at)],
            )?,
            Err((error, retry)) => tx.execute(
                "UPDATE notify_outbox SET attempts = attempts + 1, next_attempt_at = ?2,
                     last_error = ?3
                 WHERE id IN (SELECT value FROM json_each(?1))",
                params![ids, super::ts_ceil(*retry), error],
            )?,
        };
        tx.execute(
            "INSERT INTO notify_log (target, at, items, message_key, ok, duration_ms, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                a.target,
                ts(a.at),
                a.rows.len() as i64,
                a.message_key,
                a.result.is_ok(),
                a.duration_ms as i64,
                a.result.as_ref().err().map(|(e, _)| e.as_str()),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The newest article's id (for a test message).
    pub fn newest_article_id(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT max(id) FROM articles", [], |r| r.get(0))?)
    }

    /// Takes notifications that can no longer be sent out of the queue
    /// (their article was removed by retention), saying why.
    pub fn notify_drop(&mut self, rows: &[i64], why: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE notify_outbox SET delivered_at = ?2, last_error = ?3
             WHERE id IN (SELECT value FROM json_each(?1))",
            params![
                serde_json::to_string(rows).unwrap_or_default(),
                ts(now),
                why
            ],
        )?;
        Ok(())
    }

    /// Deletes delivered notifications and log rows older than `before`.
    pub(super) fn prune_notifications(&mut self, before: &str) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "DELETE FROM notify_outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?1",
            [before],
        )? + tx.execute("DELETE FROM notify_log WHERE at < ?1", [before])?;
        tx.commit()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
