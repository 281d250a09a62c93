//! Writing one fetch: entries and articles, the feed's fetch state and the
//! fetch-log row, all in one transaction.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension, Transaction};

use super::articles::{find_article, insert_article, update_article};
use super::record::{Applied, FetchRecord, Outcome};
use super::{ts, ts_ceil, Result, Store};
use crate::model::{Entry, KeyKind};

/// Fetches in a row that must end in the same permanent redirect before
/// the feed's URL is updated.
pub const REDIRECTS_TO_MOVE: i64 = 3;

/// After this many entries of one fetch are seen under new guids, the feed
/// is switched to link identity.
const GUID_CHANGES_TO_SWITCH: usize = 2;

impl Store {
    /// Stores one fetch in one transaction (see the module docs of `store`).
    pub fn record_fetch(&mut self, rec: &FetchRecord) -> Result<Applied> {
        self.record_fetches(std::slice::from_ref(rec))
            .pop()
            .expect("one result per record")
    }

    /// Stores several fetches in one transaction. Returns one result per
    /// record, in order.
    ///
    /// One commit for several fetches is what makes a busy round cheap: a
    /// commit writes every page the transaction touched to the WAL, and
    /// consecutive fetches touch the same index pages again and again.
    /// Durability is unchanged: a crash loses the whole group or none of
    /// it, and a fetch's validators still commit with its entries.
    ///
    /// When one record of the group cannot be stored, the group is rolled
    /// back and each record is stored again in a transaction of its own,
    /// so a failure stays with its fetch. (Savepoints would do the same,
    /// but copy every page a fetch touches into the statement journal.)
    pub fn record_fetches(&mut self, recs: &[FetchRecord]) -> Vec<Result<Applied>> {
        match self.write_group(recs) {
            Ok(applied) => applied.into_iter().map(Ok).collect(),
            Err(e) if recs.len() == 1 => vec![Err(e)],
            Err(_) => recs
                .iter()
                .map(|rec| {
                    self.write_group(std::slice::from_ref(rec))
                        .map(|mut a| a.remove(0))
                })
                .collect(),
        }
    }

    fn write_group(&mut self, recs: &[FetchRecord]) -> Result<Vec<Applied>> {
        let stories = recs.iter().find_map(|r| Some((r.story.as_ref()?, r.now)));
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let recent = &mut self.recent;
            if let Some((policy, now)) = stories {
                // Index rows that left the story window go once in a while.
                super::story::prune_bands_if_due(&tx, policy, now)?;
                recent.sync(&tx)?;
            }
            let surveys = match stories {
                Some(_) => super::story::survey_group(&tx, recent, recs)?,
                None => Vec::new(),
            };
            let mut unindexed = None;
            let applied = recs
                .iter()
                .enumerate()
                .map(|(i, rec)| {
                    let surveys = surveys.get(i).map_or(&[][..], |s| &s[..]);
                    write_fetch(&tx, rec, surveys, &mut unindexed, recent)
                })
                .collect::<Result<Vec<_>>>()?;
            index_new_articles(&tx, &mut unindexed)?;
            if let Some((policy, now)) = stories.filter(|_| recent.full()) {
                let start = super::story::window_start(&tx, policy, now)?;
                recent.flush(&tx, start)?;
            }
            tx.commit()?;
            Ok(applied)
        })();
        match &result {
            Ok(_) => {
                self.recent.committed();
                self.after_commit();
            }
            // What the recent tier gained may have been rolled back.
            Err(_) => self.recent.invalidate(),
        }
        result
    }
}

/// What the writes of one record share across its entries.
struct Writing<'a> {
    rec: &'a FetchRecord,
    /// Keys of every entry in the document.
    doc_keys: HashSet<&'a str>,
    /// `rec.now`, formatted.
    now: String,
    /// The id the next new article gets. Ids are given explicitly (the
    /// largest so far plus one, as SQLite would) so that a new article's
    /// story id is known when it is inserted.
    next_article: i64,
    /// The first article of the group not yet in the search index (see
    /// [`index_new_articles`]).
    unindexed_from: &'a mut Option<i64>,
    /// The first article id of the story window (see `story::window_start`).
    window_start: i64,
    /// The recent tier of the story index (see `story`).
    recent: &'a mut super::story::RecentBands,
    /// Story surveys of the record's entries, by entry; empty when there
    /// were none (see `story::survey_group`).
    surveys: &'a [Option<super::story::Survey>],
    /// Whether the feed has any tombstone (else none is looked up).
    has_tombstones: bool,
    /// Whether the feed has any entry stored (else no entry is looked for
    /// under an old guid).
    has_entries: bool,
    applied: Applied,
}

fn write_fetch<'a>(
    tx: &Transaction<'_>,
    rec: &'a FetchRecord,
    surveys: &'a [Option<super::story::Survey>],
    unindexed_from: &mut Option<i64>,
    recent: &mut super::story::RecentBands,
) -> Result<Applied> {
    let mut w = Writing {
        rec,
        doc_keys: rec
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .chain(rec.kept.iter().map(String::as_str))
            .collect(),
        now: ts(rec.now),
        next_article: 0,
        unindexed_from,
        window_start: 0,
        recent,
        surveys,
        has_tombstones: false,
        has_entries: false,
        applied: Applied::default(),
    };
    if !rec.entries.is_empty() {
        if let Some(policy) = &rec.story {
            w.window_start = super::story::window_start(tx, policy, rec.now)?;
        }
        let feed = rec.feed_id.0;
        (w.next_article, w.has_tombstones, w.has_entries) = tx
            .prepare_cached(
                "SELECT (SELECT coalesce(max(id), 0) + 1 FROM articles),
                        EXISTS (SELECT 1 FROM entry_tombstones WHERE feed_id = ?1),
                        EXISTS (SELECT 1 FROM entries WHERE feed_id = ?1)",
            )?
            .query_row([feed], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    }
    for (i, e) in rec.entries.iter().enumerate() {
        upsert_entry(tx, &mut w, i, e)?;
    }
    // Entries left out before parsing must be here as they were.
    if !rec.kept.is_empty() {
        let mut here =
            tx.prepare_cached("SELECT 1 FROM entries WHERE feed_id = ?1 AND entry_key = ?2")?;
        for key in &rec.kept {
            if !here.exists(params![rec.feed_id.0, key])? {
                return Err(super::Error::ContentElided { key: key.clone() });
            }
        }
    }
    let mut applied = w.applied;
    let now = w.now;
    applied.dropped = super::rules::write(tx, rec.feed_id.0, &rec.judged, &now)?;
    let feed = rec.feed_id.0;
    if rec.pushed {
        // A pushed document says nothing of the feed's URL, validators or
        // health: only what it brought is recorded.
        tx.prepare_cached(
            "UPDATE feeds SET
                last_new_entry_at = CASE WHEN ?2 > 0 THEN ?3 ELSE last_new_entry_at END,
                identity_mode = CASE WHEN ?4 THEN 'link' ELSE identity_mode END
             WHERE id = ?1",
        )?
        .execute(params![
            feed,
            applied.new,
            now,
            applied.guid_changes >= GUID_CHANGES_TO_SWITCH
        ])?;
        tx.prepare_cached("UPDATE websub_subscriptions SET last_push_at = ?2 WHERE feed_id = ?1")?
            .execute(params![feed, now])?;
    } else if rec.outcome.is_success() {
        let v = rec.validators.clone().unwrap_or_default();
        let m = rec.meta.clone().unwrap_or_default();
        tx.prepare_cached(
            "UPDATE feeds SET
                etag = ?2, last_modified = ?3, final_url = coalesce(?4, final_url),
                title = coalesce(?5, title), site_url = coalesce(?6, site_url),
                description = coalesce(?7, description), format = coalesce(?8, format),
                status = 'ok', last_fetch_at = ?9, last_success_at = ?9, last_http_status = ?10,
                last_error = CASE WHEN ?14 AND status = 'ok' THEN last_error ELSE ?13 END,
                consecutive_errors = 0,
                last_new_entry_at = CASE WHEN ?11 > 0 THEN ?9 ELSE last_new_entry_at END,
                identity_mode = CASE WHEN ?12 THEN 'link' ELSE identity_mode END,
                retry_after_until = NULL,
                language = coalesce(?15, language),
                source_updated_at = coalesce(?16, source_updated_at)
             WHERE id = ?1",
        )?
        .execute(params![
            feed,
            v.etag,
            v.last_modified,
            rec.final_url,
            m.title,
            m.site_url,
            m.description,
            (!m.format.is_empty()).then_some(m.format),
            now,
            rec.http_status,
            applied.new,
            applied.guid_changes >= GUID_CHANGES_TO_SWITCH,
            // A note on a successful fetch (entries left out), else NULL;
            // a 304 keeps the note of the unchanged document it confirms.
            rec.error,
            rec.outcome == Outcome::NotModified,
            m.language,
            // Not after this fetch: a clock ahead would pin it.
            m.updated.map(|u| ts(u.min(rec.started_at))),
        ])?;
        if let Some(m) = &rec.meta {
            let h = &m.hints;
            let list = |v: &[u8]| v.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
            tx.prepare_cached(
                "UPDATE feeds SET hint_ttl_minutes = ?2, hint_skip_hours = ?3, hint_skip_days = ?4,
                     hint_update_seconds = ?5
                 WHERE id = ?1",
            )?
            .execute(params![
                feed,
                h.ttl_minutes,
                list(&h.skip_hours),
                list(&h.skip_days),
                h.update_interval_secs.map(|s| s as i64),
            ])?;
        }
    } else {
        tx.prepare_cached(
            "UPDATE feeds SET status = ?2, last_fetch_at = ?3, last_http_status = ?4,
                last_error = ?5, consecutive_errors = consecutive_errors + 1,
                retry_after_until = ?6,
                next_check_at = CASE WHEN ?2 = 'gone' THEN NULL ELSE next_check_at END,
                next_check_reason = CASE WHEN ?2 = 'gone' THEN 'retired' ELSE next_check_reason END
             WHERE id = ?1",
        )?
        .execute(params![
            feed,
            rec.outcome.as_str(),
            now,
            rec.http_status,
            rec.error,
            rec.retry_after_until.map(ts_ceil),
        ])?;
    }
    if !rec.pushed {
        applied.moved_to = track_redirects(tx, rec)?;
    }
    tx.prepare_cached(
        "INSERT INTO fetch_log (feed_id, started_at, url, final_url, outcome, http_status, bytes,
             duration_ms, new_entries, updated_entries, error, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        feed,
        ts(rec.started_at),
        rec.url,
        rec.final_url,
        rec.outcome.as_str(),
        rec.http_status,
        rec.bytes as i64,
        rec.duration_ms as i64,
        applied.new,
        applied.updated,
        rec.error,
        if rec.pushed { "push" } else { "poll" },
    ])?;
    Ok(applied)
}

/// Counts permanent redirects to the same target; the third in a row moves
/// the feed. Any other outcome that reached the server resets the count.
fn track_redirects(tx: &Transaction<'_>, rec: &FetchRecord) -> Result<Option<String>> {
    let feed = rec.feed_id.0;
    let Some(target) = &rec.permanent_redirect else {
        if rec.http_status.is_some() {
            tx.prepare_cached(
                "UPDATE feeds SET redirect_streak = 0, redirect_target = NULL WHERE id = ?1",
            )?
            .execute([feed])?;
        }
        return Ok(None);
    };
    let (streak, old_target, moved): (i64, Option<String>, Option<String>) = tx
        .prepare_cached(
            "SELECT redirect_streak, redirect_target, moved_to FROM feeds WHERE id = ?1",
        )?
        .query_row([feed], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let streak = if old_target.as_deref() == Some(target) {
        streak + 1
    } else {
        1
    };
    let newly_moved =
        !rec.move_held && streak >= REDIRECTS_TO_MOVE && moved.as_deref() != Some(target);
    tx.prepare_cached(
        "UPDATE feeds SET redirect_streak = ?2, redirect_target = ?3,
             moved_to = CASE WHEN ?4 THEN ?3 ELSE moved_to END
         WHERE id = ?1",
    )?
    .execute(params![feed, streak, target, newly_moved])?;
    Ok(newly_moved.then(|| target.clone()))
}

fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// An entry's row as a re-fetch finds it.
struct Stored {
    id: i64,
    content_hash: String,
    article_id: i64,
    raw_hash: Option<i64>,
    item_hash: Option<i64>,
}

fn upsert_entry(tx: &Transaction<'_>, w: &mut Writing<'_>, index: usize, e: &Entry) -> Result<()> {
    let rec = w.rec;
    let feed = rec.feed_id.0;
    let hash = hex(e.content_hash);
    let found = tx
        .prepare_cached(
            "SELECT id, content_hash, article_id, raw_hash, item_hash
             FROM entries WHERE feed_id = ?1 AND entry_key = ?2",
        )?
        .query_row(params![feed, e.key], |r| {
            Ok(Stored {
                id: r.get(0)?,
                content_hash: r.get(1)?,
                article_id: r.get(2)?,
                raw_hash: r.get(3)?,
                item_hash: r.get(4)?,
            })
        })
        .optional()?;
    let raw_hash = e.raw_hash as i64;
    let item_hash = e.item_hash.map(|h| h as i64);
    if let Some(stored) = &found {
        // Remember the raw form and the bytes (first fetch after the
        // upgrade that added them, or a change that cleans to the same
        // content). An elided entry's raw form is the stored one.
        let raw_moved = stored.raw_hash != Some(raw_hash) && !e.content_elided;
        if raw_moved || stored.item_hash != item_hash {
            tx.prepare_cached(
                "UPDATE entries SET raw_hash = CASE WHEN ?2 THEN ?3 ELSE raw_hash END,
                     item_hash = ?4
                 WHERE id = ?1",
            )?
            .execute(params![stored.id, raw_moved, raw_hash, item_hash])?;
        }
    }
    let existing = found.map(|s| (s.id, s.content_hash, s.article_id));
    let existing = match existing {
        Some(x) => Some(x),
        None => {
            // A pruned entry the feed still lists stays pruned, and its
            // tombstone records that it was listed (retention keeps
            // tombstones whose key is still listed).
            let tomb = w.has_tombstones
                && tx
                    .prepare_cached(
                        "UPDATE entry_tombstones SET last_listed_at = ?3
                         WHERE feed_id = ?1 AND entry_key = ?2",
                    )?
                    .execute(params![feed, e.key, w.now])?
                    > 0;
            if tomb {
                w.applied.tombstoned += 1;
                return Ok(());
            }
            if w.has_entries {
                rekeyed(tx, feed, e, &w.doc_keys, &mut w.applied)?
            } else {
                None
            }
        }
    };
    let elided = || super::Error::ContentElided { key: e.key.clone() };
    if let Some((entry_id, old_hash, article_id)) = existing {
        if old_hash != hash && e.content_elided {
            return Err(elided());
        }
        if old_hash != hash {
            tx.prepare_cached(
                "UPDATE entries SET title = ?2, content_hash = ?3, updated_at = ?4,
                     update_count = update_count + 1, url = ?5
                 WHERE id = ?1",
            )?
            .execute(params![entry_id, e.title, hash, w.now, e.url])?;
            if w.unindexed_from.is_some_and(|from| article_id >= from) {
                // The search index's update trigger expects the old text
                // to be indexed already.
                index_new_articles(tx, w.unindexed_from)?;
            }
            update_article(tx, article_id, e, &hash, &w.now)?;
            w.applied.updated += 1;
        }
        return Ok(());
    }

    if e.content_elided {
        return Err(elided());
    }
    let (article_id, reason) = match rec
        .dedup
        .then(|| find_article(tx, e, &hash))
        .transpose()?
        .flatten()
    {
        Some((id, reason)) => {
            w.applied.merged += 1;
            (id, reason)
        }
        None => {
            let id = w.next_article;
            w.next_article += 1;
            let survey = w.surveys.get(index).and_then(Option::as_ref);
            let placed = super::story::place(
                tx,
                id,
                e.story_print.as_deref(),
                rec.story.as_ref(),
                w.window_start,
                w.recent,
                survey,
            )?;
            // The fingerprint is kept only where the article takes part in
            // story matching: the recent tier of the story index is read
            // back from the fingerprints (see `story`).
            let print = rec.story.as_ref().and(e.story_print.as_deref());
            insert_article(tx, id, e, print, &hash, &w.now, &placed)?;
            super::story::index(tx, id, &placed, w.recent)?;
            w.unindexed_from.get_or_insert(id);
            if placed.matched.is_some() {
                w.applied.story_merges += 1;
            }
            (id, "new")
        }
    };
    tx.prepare_cached(
        "INSERT INTO entries (feed_id, entry_key, key_kind, guid, url, article_id, match_reason, title,
             content_hash, published_at, first_seen_at, raw_hash, item_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        feed,
        e.key,
        e.key_kind.as_str(),
        e.guid,
        e.url,
        article_id,
        reason,
        e.title,
        hash,
        ts(e.published),
        w.now,
        raw_hash,
        item_hash,
    ])?;
    w.applied.new += 1;
    Ok(())
}

/// Adds the articles inserted since `from` to the search index, in one
/// statement, once per group of fetches. (A trigger per inserted row made
/// FTS5 flush a segment per article at every statement's savepoint, and
/// then merge them: a third of all ingest time. One statement for a
/// group's articles writes one segment.)
fn index_new_articles(tx: &Transaction<'_>, from: &mut Option<i64>) -> Result<()> {
    match from.take() {
        Some(from) => index_articles_from(tx, from),
        None => Ok(()),
    }
}

/// Adds every article with an id of at least `from` to the search index
/// (the articles a writer just inserted; ids only grow).
pub(super) fn index_articles_from(conn: &rusqlite::Connection, from: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO articles_fts (rowid, title, content_text)
         SELECT id, title, content_text FROM articles WHERE id >= ?1",
    )?
    .execute([from])?;
    Ok(())
}

/// A guid-keyed entry not found by key may be a known entry whose guid
/// changed (feeds that regenerate guids on every fetch): same feed, same
/// link, same title, and its old key no longer in the document. Such an
/// entry is re-keyed instead of added again.
fn rekeyed(
    tx: &Transaction<'_>,
    feed: i64,
    e: &Entry,
    doc_keys: &HashSet<&str>,
    applied: &mut Applied,
) -> Result<Option<(i64, String, i64)>> {
    if e.key_kind != KeyKind::Guid || e.published_title().is_empty() {
        return Ok(None);
    }
    let Some(url) = e.url.as_deref() else {
        return Ok(None);
    };
    let mut st = tx.prepare_cached(
        "SELECT id, content_hash, article_id, entry_key FROM entries
         WHERE feed_id = ?1 AND url = ?2 AND title = ?3 AND key_kind = 'guid' ORDER BY id",
    )?;
    let mut rows = st.query(params![feed, url, e.title])?;
    let mut found = None;
    while let Some(r) = rows.next()? {
        let key: String = r.get(3)?;
        if !doc_keys.contains(key.as_str()) {
            found = Some((r.get(0)?, r.get(1)?, r.get(2)?));
            break;
        }
    }
    drop(rows);
    drop(st);
    if let Some((id, _, _)) = &found {
        tx.prepare_cached("UPDATE entries SET entry_key = ?2, guid = ?3 WHERE id = ?1")?
            .execute(params![id, e.key, e.guid])?;
        applied.guid_changes += 1;
    }
    Ok(found)
}
