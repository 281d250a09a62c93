//! The feeds table: reconciling it to the configuration, and reading feed
//! state back for fetching and for reports.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::{parse_ts, ts, Result, Store};
use crate::model::{FeedHints, FeedId, FeedSpec, IdentityMode, Validators};

/// What reconciling the feeds table to the config changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// Names of feeds added.
    pub added: Vec<String>,
    /// `(old, new)` names of feeds renamed (same URL, new name).
    pub renamed: Vec<(String, String)>,
    /// Names of feeds whose URL changed (fetch state reset).
    pub moved: Vec<String>,
    /// Names of feeds no longer in the config (kept, marked inactive).
    pub removed: Vec<String>,
}

/// One feed with its fetch state, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    /// Row id.
    pub id: FeedId,
    /// Unique name.
    pub name: String,
    /// Configured URL.
    pub url: String,
    /// False once removed from the config.
    pub active: bool,
    /// Cross-feed merging enabled.
    pub dedup: bool,
    /// Title from the document.
    pub title: Option<String>,
    /// Web site from the document.
    pub site_url: Option<String>,
    /// How entries are identified.
    pub identity_mode: IdentityMode,
    /// For the next conditional request.
    pub validators: Validators,
    /// Where the last successful fetch ended after redirects.
    pub final_url: Option<String>,
    /// `new`, `ok`, `not_modified`, `transient`, `permanent`.
    pub status: String,
    /// Last fetch attempt.
    pub last_fetch_at: Option<DateTime<Utc>>,
    /// Last successful fetch.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last time a fetch brought a new entry.
    pub last_new_entry_at: Option<DateTime<Utc>>,
    /// HTTP status of the last fetch.
    pub last_http_status: Option<u16>,
    /// Error of the last fetch, if it failed.
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_errors: u32,
    /// When the feed is next due.
    pub next_check_at: Option<DateTime<Utc>>,
    /// Why then.
    pub next_check_reason: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The URL polled instead of `url` after a confirmed permanent redirect.
    pub moved_to: Option<String>,
    /// Publisher hints from the last document.
    pub hints: FeedHints,
    /// A server's Retry-After, honoured until then.
    pub retry_after_until: Option<DateTime<Utc>>,
}

impl FeedRow {
    /// The URL to poll: the configured one, or where it permanently moved.
    pub fn fetch_url(&self) -> &str {
        self.moved_to.as_deref().unwrap_or(&self.url)
    }
}

const FEED_COLUMNS: &str = "f.id, f.name, f.url, f.active, f.dedup, f.title, f.site_url, f.identity_mode,
    f.etag, f.last_modified, f.final_url, f.status, f.last_fetch_at, f.last_success_at,
    f.last_new_entry_at, f.last_http_status, f.last_error, f.consecutive_errors,
    f.next_check_at, f.next_check_reason,
    (SELECT group_concat(tag, ',') FROM (SELECT tag FROM feed_tags t WHERE t.feed_id = f.id ORDER BY tag)),
    f.moved_to, f.hint_ttl_minutes, f.hint_skip_hours, f.hint_skip_days, f.hint_update_seconds,
    f.retry_after_until";

fn feed_row(r: &Row<'_>) -> rusqlite::Result<FeedRow> {
    let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(r.get::<_, Option<String>>(i)?.as_deref().and_then(parse_ts))
    };
    Ok(FeedRow {
        id: FeedId(r.get(0)?),
        name: r.get(1)?,
        url: r.get(2)?,
        active: r.get(3)?,
        dedup: r.get(4)?,
        title: r.get(5)?,
        site_url: r.get(6)?,
        identity_mode: IdentityMode::from_stored(&r.get::<_, String>(7)?),
        validators: Validators {
            etag: r.get(8)?,
            last_modified: r.get(9)?,
        },
        final_url: r.get(10)?,
        status: r.get(11)?,
        last_fetch_at: time(12)?,
        last_success_at: time(13)?,
        last_new_entry_at: time(14)?,
        last_http_status: r.get(15)?,
        last_error: r.get(16)?,
        consecutive_errors: r.get(17)?,
        next_check_at: time(18)?,
        next_check_reason: r.get(19)?,
        tags: r
            .get::<_, Option<String>>(20)?
            .map(|t| t.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        moved_to: r.get(21)?,
        hints: FeedHints {
            ttl_minutes: r.get(22)?,
            skip_hours: numbers(r.get::<_, Option<String>>(23)?),
            skip_days: numbers(r.get::<_, Option<String>>(24)?),
            update_interval_secs: r.get::<_, Option<i64>>(25)?.map(|s| s.max(0) as u64),
        },
        retry_after_until: time(26)?,
    })
}

fn numbers(list: Option<String>) -> Vec<u8> {
    list.unwrap_or_default()
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

impl Store {
    /// Makes the feeds table match the configuration: new feeds are added;
    /// a known URL under a new name is a rename (its history follows it); a
    /// changed URL resets the fetch state; feeds no longer configured are
    /// marked inactive and keep their articles.
    pub fn reconcile(&mut self, specs: &[FeedSpec], now: DateTime<Utc>) -> Result<Reconciled> {
        let mut out = Reconciled::default();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Each configured feed is looked up by name (an index); only the
        // rows whose name is no longer configured (usually none) are held,
        // with a map by URL for renames. A config of 100,000 feeds used to
        // hold every row and three maps of them (a fifth of the peak). Rows
        // and tags are written only where they change: an unchanged config
        // writes nothing (and so does not move the content generation
        // through the tag triggers).
        let configured: HashSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let orphans: Vec<(i64, String, String, bool, bool)> = {
            let mut st = tx.prepare("SELECT id, name, url, active, dedup FROM feeds")?;
            let mut rows = st.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let name: String = r.get(1)?;
                if !configured.contains(name.as_str()) {
                    out.push((r.get(0)?, name, r.get(2)?, r.get(3)?, r.get(4)?));
                }
            }
            out
        };
        let mut tags: HashMap<i64, BTreeSet<String>> = HashMap::new();
        {
            let mut st = tx.prepare("SELECT feed_id, tag FROM feed_tags")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                tags.entry(r.get(0)?).or_default().insert(r.get(1)?);
            }
        }
        let mut by_url: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, f) in orphans.iter().enumerate() {
            by_url.entry(f.2.as_str()).or_default().push(i);
        }
        let mut claimed: HashSet<i64> = HashSet::new();
        for spec in specs {
            let known: Option<(i64, String, bool, bool)> = tx
                .prepare_cached("SELECT id, url, active, dedup FROM feeds WHERE name = ?1")?
                .query_row([&spec.name], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let (id, state) = match known {
                Some((id, url, active, dedup)) => {
                    if url != spec.url {
                        tx.prepare_cached(
                            "UPDATE feeds SET url = ?2, etag = NULL, last_modified = NULL, final_url = NULL,
                                 status = 'new', consecutive_errors = 0, last_error = NULL,
                                 next_check_at = NULL, next_check_reason = NULL, identity_mode = 'guid',
                                 moved_to = NULL, redirect_streak = 0, redirect_target = NULL,
                                 retry_after_until = NULL
                             WHERE id = ?1",
                        )?
                        .execute(params![id, spec.url])?;
                        out.moved.push(spec.name.clone());
                    }
                    (id, Some((active, dedup)))
                }
                None => {
                    let renamed = by_url
                        .get(spec.url.as_str())
                        .into_iter()
                        .flatten()
                        .map(|&i| &orphans[i])
                        .find(|(id, ..)| !claimed.contains(id));
                    match renamed {
                        Some((id, old, _, active, dedup)) => {
                            tx.prepare_cached("UPDATE feeds SET name = ?2 WHERE id = ?1")?
                                .execute(params![id, spec.name])?;
                            out.renamed.push((old.clone(), spec.name.clone()));
                            claimed.insert(*id);
                            (*id, Some((*active, *dedup)))
                        }
                        None => {
                            tx.prepare_cached(
                                "INSERT INTO feeds (name, url, created_at) VALUES (?1, ?2, ?3)",
                            )?
                            .execute(params![
                                spec.name,
                                spec.url,
                                ts(now)
                            ])?;
                            out.added.push(spec.name.clone());
                            (tx.last_insert_rowid(), None)
                        }
                    }
                }
            };
            if state != Some((true, spec.dedup)) {
                tx.prepare_cached(
                    "UPDATE feeds SET active = 1, removed_at = NULL, dedup = ?2 WHERE id = ?1",
                )?
                .execute(params![id, spec.dedup])?;
            }
            let wanted: BTreeSet<&str> = spec.tags.iter().map(String::as_str).collect();
            let held = tags.get(&id);
            if !wanted
                .iter()
                .copied()
                .eq(held.into_iter().flatten().map(String::as_str))
            {
                tx.prepare_cached("DELETE FROM feed_tags WHERE feed_id = ?1")?
                    .execute([id])?;
                for tag in wanted {
                    tx.prepare_cached(
                        "INSERT OR IGNORE INTO feed_tags (feed_id, tag) VALUES (?1, ?2)",
                    )?
                    .execute(params![id, tag])?;
                }
            }
        }
        for (id, name, _, active, _) in &orphans {
            if !claimed.contains(id) && *active {
                tx.prepare_cached("UPDATE feeds SET active = 0, removed_at = ?2 WHERE id = ?1")?
                    .execute(params![id, ts(now)])?;
                out.removed.push(name.clone());
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Every feed, active first, by name.
    pub fn feeds(&self) -> Result<Vec<FeedRow>> {
        let sql = format!("SELECT {FEED_COLUMNS} FROM feeds f ORDER BY f.active DESC, f.name");
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map([], feed_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records when each feed is next due and why (shown by `tributary
    /// feeds` and the `feed_health` view), in one transaction.
    pub fn set_next_checks(
        &mut self,
        plans: &[(FeedId, Option<DateTime<Utc>>, String)],
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare_cached(
                "UPDATE feeds SET next_check_at = ?2, next_check_reason = ?3 WHERE id = ?1",
            )?;
            for (feed, at, reason) in plans {
                st.execute(params![feed.0, at.map(ts), reason])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// First-seen times of a feed's most recent `limit` entries, newest
    /// first (for the adaptive schedule).
    pub fn recent_entry_times(&self, feed: FeedId, limit: usize) -> Result<Vec<DateTime<Utc>>> {
        // The index is named: without statistics SQLite takes the other
        // index on `feed_id` and sorts all of the feed's rows. The limit is
        // part of the text, not a parameter, and the connection keeps one
        // plan for every feed bound (`store::plan_once`): SQLite planned
        // the statement again at each run (one per feed after each round).
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT first_seen_at FROM entries INDEXED BY entries_by_feed_time
             WHERE feed_id = ?1 ORDER BY first_seen_at DESC LIMIT {limit}"
        ))?;
        let rows = st.query_map([feed.0], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(t) = parse_ts(&r?) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// The feed called `name`.
    pub fn feed_by_name(&self, name: &str) -> Result<Option<FeedRow>> {
        let sql = format!("SELECT {FEED_COLUMNS} FROM feeds f WHERE f.name = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([name], feed_row)
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, url: &str, tags: &[&str]) -> FeedSpec {
        FeedSpec {
            name: name.into(),
            url: url.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            dedup: true,
        }
    }

    #[test]
    fn reconcile_adds_renames_moves_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let now = Utc::now();
        let r = s
            .reconcile(
                &[
                    spec("a", "https://a.example/f", &["x"]),
                    spec("b", "https://b.example/f", &[]),
                ],
                now,
            )
            .unwrap();
        assert_eq!(r.added, vec!["a", "b"]);
        let a_id = s.feed_by_name("a").unwrap().unwrap().id;

        // a renamed to a2 (same URL), b's URL changed, c added.
        let r = s
            .reconcile(
                &[
                    spec("a2", "https://a.example/f", &["y", "x"]),
                    spec("b", "https://b.example/new", &[]),
                    spec("c", "https://c.example/f", &[]),
                ],
                now,
            )
            .unwrap();
        assert_eq!(r.renamed, vec![("a".to_string(), "a2".to_string())]);
        assert_eq!(r.moved, vec!["b"]);
        assert_eq!(r.added, vec!["c"]);
        let a2 = s.feed_by_name("a2").unwrap().unwrap();
        assert_eq!(a2.id, a_id);
        assert_eq!(a2.tags, vec!["x", "y"]);

        // c removed: kept but inactive.
        let r = s
            .reconcile(
                &[
                    spec("a2", "https://a.example/f", &[]),
                    spec("b", "https://b.example/new", &[]),
                ],
                now,
            )
            .unwrap();
        assert_eq!(r.removed, vec!["c"]);
        let c = s.feed_by_name("c").unwrap().unwrap();
        assert!(!c.active);
        // Reconciling again changes nothing.
        let r = s
            .reconcile(
                &[
                    spec("a2", "https://a.example/f", &[]),
                    spec("b", "https://b.example/new", &[]),
                ],
                now,
            )
            .unwrap();
        assert_eq!(r, Reconciled::default());
    }

    #[test]
    fn an_unchanged_config_writes_nothing_and_a_change_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let now = Utc::now();
        let mut specs = vec![
            spec("a", "https://a.example/f", &["x", "y"]),
            spec("b", "https://b.example/f", &["x"]),
        ];
        s.reconcile(&specs, now).unwrap();
        let generation = |s: &Store| -> i64 {
            s.conn
                .query_row("SELECT generation FROM content_generation", [], |r| {
                    r.get(0)
                })
                .unwrap()
        };
        let before = (generation(&s), s.conn.total_changes());
        // Tags listed in another order are the same tags.
        specs[0].tags.reverse();
        s.reconcile(&specs, now).unwrap();
        assert_eq!((generation(&s), s.conn.total_changes()), before);
        // A feed's own dedup and tags change; the other feed is untouched.
        specs[1].dedup = false;
        specs[1].tags = vec!["z".into()];
        s.reconcile(&specs, now).unwrap();
        assert!(generation(&s) > before.0, "tags moved the generation");
        let b = s.feed_by_name("b").unwrap().unwrap();
        assert_eq!((b.dedup, b.tags), (false, vec!["z".to_string()]));
        assert_eq!(s.feed_by_name("a").unwrap().unwrap().tags, vec!["x", "y"]);
    }
}
