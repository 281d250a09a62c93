//! Reading feed health back for people: what each feed brought, its recent
//! fetches, and the redirect evidence (`tributary feeds`, `tributary
//! doctor`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{parse_ts, Result, Store};
use crate::model::FeedId;

/// One row of the fetch log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FetchLogRow {
    /// When the fetch began.
    pub started_at: Option<DateTime<Utc>>,
    /// The URL requested.
    pub url: String,
    /// Where redirects ended.
    pub final_url: Option<String>,
    /// `ok`, `not_modified`, `transient`, `permanent` or `gone`.
    pub outcome: String,
    /// HTTP status, when there was one.
    pub http_status: Option<u16>,
    /// Body bytes.
    pub bytes: i64,
    /// Wall time.
    pub duration_ms: i64,
    /// Entries it added.
    pub new_entries: i64,
    /// What went wrong.
    pub error: Option<String>,
}

impl FetchLogRow {
    /// Whether the fetch succeeded (a document or "not modified").
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome.as_str(), "ok" | "not_modified")
    }
}

/// Consecutive fetches that ended in the same permanent redirect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedirectStreak {
    /// How many in a row.
    pub count: u32,
    /// Where they pointed.
    pub target: Option<String>,
    /// Why the feed does not follow them on its own, when it does not
    /// (decided from the config by the caller, not stored).
    pub held: Option<&'static str>,
}

impl Store {
    /// The `limit` most recent fetches of `feed`, newest first.
    pub fn recent_fetches(&self, feed: FeedId, limit: usize) -> Result<Vec<FetchLogRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT started_at, url, final_url, outcome, http_status, bytes, duration_ms, new_entries, error
             FROM fetch_log WHERE feed_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![feed.0, limit as i64], |r| {
            Ok(FetchLogRow {
                started_at: r.get::<_, String>(0).ok().as_deref().and_then(parse_ts),
                url: r.get(1)?,
                final_url: r.get(2)?,
                outcome: r.get(3)?,
                http_status: r.get(4)?,
                bytes: r.get(5)?,
                duration_ms: r.get(6)?,
                new_entries: r.get(7)?,
                error: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Entries stored per feed (feeds without any are absent).
    pub fn entry_counts(&self) -> Result<HashMap<FeedId, i64>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT feed_id, count(*) FROM entries GROUP BY feed_id")?;
        let rows = st.query_map([], |r| Ok((FeedId(r.get(0)?), r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many distinct articles each feed's stored entries point at.
    pub fn article_counts(&self) -> Result<HashMap<FeedId, i64>> {
        let mut st = self.conn.prepare_cached(
            "SELECT feed_id, count(DISTINCT article_id) FROM entries GROUP BY feed_id",
        )?;
        let rows = st.query_map([], |r| Ok((FeedId(r.get(0)?), r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The permanent-redirect evidence of `feed` (see `moved_to`).
    pub fn redirect_streak(&self, feed: FeedId) -> Result<RedirectStreak> {
        Ok(self.conn.query_row(
            "SELECT redirect_streak, redirect_target FROM feeds WHERE id = ?1",
            [feed.0],
            |r| {
                Ok(RedirectStreak {
                    count: r.get::<_, i64>(0)?.max(0) as u32,
                    target: r.get(1)?,
                    held: None,
                })
            },
        )?)
    }
}
