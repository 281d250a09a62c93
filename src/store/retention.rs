//! Retention: pruning old entries (and the articles only they held), then
//! giving the space back.
//!
//! # What is pruned
//! An entry goes when it was first seen longer ago than `max_age`, or when
//! its feed has more than `max_per_feed` newer entries (newest by first-seen
//! time, then publication time). Its key is written to `entry_tombstones`,
//! so it never comes back while the feed still lists it. An article goes
//! with its last entry; its full-text row goes with it (trigger) and its
//! band-index rows too (`ON DELETE CASCADE`). When the article a story is
//! named after goes while others of the story stay, the story takes the
//! smallest remaining id (the rule `store::story` keeps). `story_match_id`
//! of the articles that remain is evidence and is kept, even when it names
//! a pruned article.
//!
//! # Tombstones
//! A tombstone goes once the entry is no longer listed by its feed, for
//! long enough: when the last fetch whose document listed the key (or the
//! pruning, when none has since) is older than
//! [`PrunePolicy::tombstone_max_age`], and a complete fetch of the feed
//! (outcome `ok`, no note in the fetch log: the whole document was read)
//! started after that. Every fetch that lists a tombstoned key records it
//! (`last_listed_at`, in the fetch's transaction), so a feed that keeps
//! listing an old entry keeps its tombstone however long it does; a feed
//! that answers "not modified" still lists what it listed, and a feed that
//! fails says nothing, so neither lets a tombstone go. Without the fetch
//! log's evidence (its rows pruned, a feed no longer polled) tombstones
//! stay. The table thus holds, per feed, at most the keys its documents
//! listed within `tombstone_max_age`, plus those of feeds no longer polled.
//!
//! The fetch log loses the rows of fetches started longer ago than
//! [`PrunePolicy::fetch_log_max_age`]. Its ids grow with time, so the
//! oldest rows are deleted by id range, [`FETCH_LOG_BATCH`] at a time,
//! up to the first row that is recent enough.
//!
//! Nothing first seen after [`PrunePolicy::keep_first_seen_after`] is
//! pruned, whatever its age or rank: digests (to come) will set it to the
//! start of the oldest period not yet made, so an article can never vanish
//! before its digest. Until then callers pass `None`.
//!
//! # Locking
//! The daemon writes while pruning runs, so deletions happen in batches of
//! [`BATCH`] entries, one short transaction each.
//!
//! # Giving space back
//! After pruning, [`Store::compact`] runs. The WAL is checkpointed and
//! truncated. Freed pages sit on SQLite's freelist and are reused by new
//! rows; the file shrinks only by vacuuming:
//! - a database in `auto_vacuum = INCREMENTAL` mode gives its free pages
//!   back with `PRAGMA incremental_vacuum`, in steps that are each a short
//!   transaction;
//! - a database in the default mode (no auto-vacuum) is left alone until
//!   free pages reach a quarter of a file of at least [`VACUUM_MIN_BYTES`];
//!   then one `VACUUM` switches it to `INCREMENTAL` (switching needs
//!   a full `VACUUM`) and from then on the step above applies. That one
//!   `VACUUM` rewrites the whole file, needs as much free disk (its copy
//!   is a temporary file, not memory: `Store::on_temporary_files`), and holds
//!   the write lock until done: a daemon writing meanwhile waits up to its
//!   busy timeout and then records that fetch as failed (the next fetch
//!   brings the same entries).

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{ts, Result, Store};

/// Entries deleted per transaction.
pub const BATCH: usize = 500;
/// Fetch-log rows deleted per transaction (small rows, no triggers).
pub const FETCH_LOG_BATCH: i64 = 5_000;
/// Files smaller than this (in bytes) are never fully vacuumed.
pub const VACUUM_MIN_BYTES: i64 = 8 * 1024 * 1024;
/// Bytes of pages given back per `incremental_vacuum` step.
const VACUUM_STEP_BYTES: i64 = 4 * 1024 * 1024;

/// What to prune.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrunePolicy {
    /// Entries first seen longer ago than this go.
    pub max_age: Option<Duration>,
    /// Only the newest this many entries of each feed stay.
    pub max_per_feed: Option<usize>,
    /// Nothing first seen after this time is pruned (see the module docs).
    pub keep_first_seen_after: Option<DateTime<Utc>>,
    /// Fetch-log rows of fetches started longer ago than this go.
    pub fetch_log_max_age: Option<Duration>,
    /// Tombstones of entries their feed stopped listing longer ago than
    /// this go (see the module docs); `None` keeps every tombstone.
    pub tombstone_max_age: Option<Duration>,
}

/// What pruning did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    /// Entries deleted (and tombstoned).
    pub entries: usize,
    /// Articles deleted with their last entry.
    pub articles: usize,
    /// Stories that took a new id because the article they were named
    /// after was deleted.
    pub stories_renamed: usize,
    /// Fetch-log rows deleted.
    pub fetch_log: usize,
    /// Delivered notifications and notification-log rows deleted (as old
    /// as the fetch log's).
    pub notifications: usize,
    /// Tombstones deleted: their entries are no longer listed.
    pub tombstones: usize,
    /// What compaction did afterwards.
    pub compaction: Compaction,
}

/// What [`Store::compact`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Compaction {
    /// The WAL was fully checkpointed and truncated (false when a reader
    /// kept part of it in use; the next checkpoint finishes the job).
    pub checkpointed: bool,
    /// Free pages before vacuuming.
    pub free_pages: i64,
    /// `none`, `incremental` or `full` (the one-time switch to incremental).
    pub vacuum: &'static str,
    /// Database file plus WAL, in bytes, before and after.
    pub bytes_before: u64,
    /// See `bytes_before`.
    pub bytes_after: u64,
}

/// The stored timestamp `age` before `now`, when there is one.
fn ago(now: DateTime<Utc>, age: Duration) -> Option<String> {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .map(ts)
}

impl Store {
    /// Prunes what `policy` says (see the module docs), then compacts.
    pub fn prune(&mut self, policy: &PrunePolicy, now: DateTime<Utc>) -> Result<PruneReport> {
        let mut report = PruneReport::default();
        let ids = self.prune_candidates(policy, now)?;
        let stamp = ts(now);
        for chunk in ids.chunks(BATCH) {
            let list = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into());
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT OR IGNORE INTO entry_tombstones (feed_id, entry_key, pruned_at)
                 SELECT feed_id, entry_key, ?2 FROM entries WHERE id IN (SELECT value FROM json_each(?1))",
                params![list, stamp],
            )?;
            let articles: Vec<i64> = {
                let mut st = tx.prepare(
                    "SELECT DISTINCT article_id FROM entries WHERE id IN (SELECT value FROM json_each(?1))",
                )?;
                let rows = st.query_map([&list], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            report.entries += tx.execute(
                "DELETE FROM entries WHERE id IN (SELECT value FROM json_each(?1))",
                [&list],
            )?;
            let orphans = serde_json::to_string(&articles).unwrap_or_else(|_| "[]".into());
            report.articles += tx.execute(
                "DELETE FROM articles WHERE id IN (SELECT value FROM json_each(?1))
                   AND NOT EXISTS (SELECT 1 FROM entries WHERE article_id = articles.id)",
                [&orphans],
            )?;
            // Stories named after a deleted article take their smallest
            // remaining id.
            let headless: Vec<i64> = {
                let mut st = tx.prepare(
                    "SELECT DISTINCT story_id FROM articles
                     WHERE story_id IN (SELECT value FROM json_each(?1))
                       AND story_id NOT IN (SELECT id FROM articles)",
                )?;
                let rows = st.query_map([&orphans], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for story in headless {
                tx.execute(
                    "UPDATE articles SET story_id = (SELECT min(id) FROM articles WHERE story_id = ?1)
                     WHERE story_id = ?1",
                    [story],
                )?;
                report.stories_renamed += 1;
            }
            tx.commit()?;
        }
        // Before the fetch log: its rows are the evidence.
        if let Some(before) = policy.tombstone_max_age.and_then(|age| ago(now, age)) {
            report.tombstones = self.prune_tombstones(&before)?;
        }
        if let Some(before) = policy.fetch_log_max_age.and_then(|age| ago(now, age)) {
            report.fetch_log = self.prune_fetch_log(&before)?;
            report.notifications = self.prune_notifications(&before)?;
        }
        report.compaction = self.compact()?;
        Ok(report)
    }

    /// Deletes the tombstones whose key was last listed before `before` (a
    /// stored timestamp) and before the start of the feed's latest
    /// complete fetch (see the module docs), one feed per transaction.
    fn prune_tombstones(&mut self, before: &str) -> Result<usize> {
        let feeds: Vec<(i64, Option<String>)> = {
            let mut st = self.conn.prepare(
                "SELECT t.feed_id,
                        (SELECT max(l.started_at) FROM fetch_log l
                         WHERE l.feed_id = t.feed_id AND l.outcome = 'ok' AND l.error IS NULL
                           AND l.kind = 'poll')
                 FROM (SELECT DISTINCT feed_id FROM entry_tombstones) t",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut deleted = 0;
        for (feed, complete) in feeds {
            let Some(complete) = complete else { continue };
            deleted += self.conn.execute(
                "DELETE FROM entry_tombstones
                 WHERE feed_id = ?1 AND coalesce(last_listed_at, pruned_at) < ?2
                   AND coalesce(last_listed_at, pruned_at) < ?3",
                params![feed, before, complete],
            )?;
        }
        Ok(deleted)
    }

    /// Deletes the fetch-log rows of fetches started before `before` (a
    /// stored timestamp), oldest first, in short transactions (see the
    /// module docs). A row out of id order (a fetch that started before
    /// `before` but ended after a later one) waits for the next run.
    fn prune_fetch_log(&mut self, before: &str) -> Result<usize> {
        // The first row recent enough to stay: everything below it goes.
        // Found by walking up from the oldest row, so the cost follows
        // what is deleted, not the size of the log.
        let end: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM fetch_log WHERE started_at >= ?1 ORDER BY id LIMIT 1",
                [before],
                |r| r.get(0),
            )
            .optional()?;
        let end = match end {
            Some(end) => end,
            None => {
                self.conn
                    .query_row("SELECT coalesce(max(id), 0) + 1 FROM fetch_log", [], |r| {
                        r.get(0)
                    })?
            }
        };
        let mut deleted = 0;
        let mut from: i64 =
            self.conn
                .query_row("SELECT coalesce(min(id), 0) FROM fetch_log", [], |r| {
                    r.get(0)
                })?;
        while from < end {
            let to = (from + FETCH_LOG_BATCH).min(end);
            deleted += self.conn.execute(
                "DELETE FROM fetch_log WHERE id >= ?1 AND id < ?2 AND started_at < ?3",
                params![from, to, before],
            )?;
            from = to;
        }
        Ok(deleted)
    }

    /// Ids of the entries `policy` prunes, ascending.
    fn prune_candidates(&self, policy: &PrunePolicy, now: DateTime<Utc>) -> Result<Vec<i64>> {
        let keep_after = policy.keep_first_seen_after.map(ts);
        let mut ids: BTreeSet<i64> = BTreeSet::new();
        if let Some(age) = policy.max_age {
            if let Some(cutoff) = ago(now, age) {
                let mut st = self.conn.prepare(
                    "SELECT id FROM entries
                     WHERE first_seen_at < ?1 AND (?2 IS NULL OR first_seen_at <= ?2)",
                )?;
                for id in st.query_map(params![cutoff, keep_after], |r| r.get(0))? {
                    ids.insert(id?);
                }
            }
        }
        if let Some(n) = policy.max_per_feed {
            let mut st = self.conn.prepare(
                "SELECT id FROM (
                     SELECT id, first_seen_at, row_number() OVER (
                         PARTITION BY feed_id ORDER BY first_seen_at DESC, published_at DESC, id DESC) AS rank
                     FROM entries)
                 WHERE rank > ?1 AND (?2 IS NULL OR first_seen_at <= ?2)",
            )?;
            for id in st.query_map(params![n as i64, keep_after], |r| r.get(0))? {
                ids.insert(id?);
            }
        }
        Ok(ids.into_iter().collect())
    }

    /// Checkpoints and truncates the WAL, and gives free pages back to the
    /// file system as the module docs describe.
    pub fn compact(&mut self) -> Result<Compaction> {
        let bytes_before = self.file_bytes();
        let pragma = |s: &Store, name: &str| -> Result<i64> {
            Ok(s.conn.pragma_query_value(None, name, |r| r.get(0))?)
        };
        let free_pages = pragma(self, "freelist_count")?;
        let pages = pragma(self, "page_count")?;
        let mode = pragma(self, "auto_vacuum")?;
        let page_size = pragma(self, "page_size")?;
        let step = (VACUUM_STEP_BYTES / page_size).max(1);
        let vacuum = if free_pages == 0 {
            "none"
        } else if mode == 2 {
            loop {
                let before = pragma(self, "freelist_count")?;
                if before == 0 {
                    break;
                }
                self.conn
                    .execute_batch(&format!("PRAGMA incremental_vacuum({step})"))?;
                if pragma(self, "freelist_count")? >= before {
                    break;
                }
            }
            "incremental"
        } else if mode == 0 && pages * page_size >= VACUUM_MIN_BYTES && free_pages * 4 >= pages {
            // The copy VACUUM makes is as large as the file: on disk.
            self.on_temporary_files(|s| {
                Ok(s.conn
                    .execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")?)
            })?;
            "full"
        } else {
            "none"
        };
        let (busy, _, _): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        Ok(Compaction {
            checkpointed: busy == 0,
            free_pages,
            vacuum,
            bytes_before,
            bytes_after: self.file_bytes(),
        })
    }

    /// Size of the database file and its WAL.
    fn file_bytes(&self) -> u64 {
        let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        size(&self.path) + size(std::path::Path::new(&wal))
    }

    /// Writes a consistent copy of the database to `dest` (which must not
    /// exist) with `VACUUM INTO`: a snapshot taken in one read transaction,
    /// so it is safe while the daemon writes, and compact.
    pub fn vacuum_into(&self, dest: &std::path::Path) -> Result<()> {
        self.conn
            .execute("VACUUM INTO ?1", [dest.to_string_lossy().as_ref()])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
