//! One entry of a fetch into the store: updated in place when it is
//! stored under its key (or under a guid the feed changed), left out when
//! it was pruned and is only still listed, else added with its article
//! (an existing one of the same page, or a new one placed in its story).

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension, Transaction};

use super::{index_new_articles, Writing};
use crate::model::{Entry, KeyKind};
use crate::store::articles::{find_article, insert_article, update_article};
use crate::store::record::Applied;
use crate::store::{story, ts, Result, StoreError};

fn hex(h: u64) -> String {
    format!("{h:016x}")
}

/// An entry's row as a re-fetch finds it.
struct Stored {
    id: i64,
    content_hash: String,
    article_id: i64,
}

/// Writes entry `e`, the `index`-th of its record (see the module docs).
/// An entry whose cleaning was skipped (`content_elided`) must be stored
/// as it was, else [`StoreError::ContentElided`] asks for a full pass.
pub(super) fn upsert<'a>(
    tx: &Transaction<'_>,
    w: &mut Writing<'a, '_>,
    index: usize,
    e: &'a Entry,
) -> Result<()> {
    let feed = w.rec.feed_id.0;
    let hash = hex(e.content_hash);
    let existing = match stored(tx, feed, e)? {
        Some(s) => Some(s),
        None if tombstoned(tx, w, e)? => {
            w.applied.tombstoned += 1;
            return Ok(());
        }
        None if w.has_entries => rekeyed(tx, feed, e, &w.doc_keys, &mut w.applied)?,
        None => None,
    };
    let elided = || StoreError::ContentElided { key: e.key.clone() };
    match existing {
        Some(s) if s.content_hash == hash => Ok(()),
        Some(_) if e.content_elided => Err(elided()),
        Some(s) => update(tx, w, e, &s, &hash),
        None if e.content_elided => Err(elided()),
        None => add(tx, w, index, e, &hash),
    }
}

/// The row stored under `e`'s key, with its raw and item hashes brought up
/// to date: remembered on the first fetch after the upgrade that added
/// them, or after a change that cleans to the same content (an elided
/// entry's raw form is the stored one).
fn stored(tx: &Transaction<'_>, feed: i64, e: &Entry) -> Result<Option<Stored>> {
    let found: Option<(Stored, Option<i64>, Option<i64>)> = tx
        .prepare_cached(
            "SELECT id, content_hash, article_id, raw_hash, item_hash
             FROM entries WHERE feed_id = ?1 AND entry_key = ?2",
        )?
        .query_row(params![feed, e.key], |r| {
            let s = Stored {
                id: r.get(0)?,
                content_hash: r.get(1)?,
                article_id: r.get(2)?,
            };
            Ok((s, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((s, raw, item)) = found else {
        return Ok(None);
    };
    let raw_hash = e.raw_hash as i64;
    let item_hash = e.item_hash.map(|h| h as i64);
    let raw_moved = raw != Some(raw_hash) && !e.content_elided;
    if raw_moved || item != item_hash {
        tx.prepare_cached(
            "UPDATE entries SET raw_hash = CASE WHEN ?2 THEN ?3 ELSE raw_hash END,
                 item_hash = ?4
             WHERE id = ?1",
        )?
        .execute(params![s.id, raw_moved, raw_hash, item_hash])?;
    }
    Ok(Some(s))
}

/// Whether `e` was pruned and is still listed: it stays pruned, and its
/// tombstone records that it was listed (retention keeps tombstones
/// whose key is still listed).
fn tombstoned(tx: &Transaction<'_>, w: &Writing<'_, '_>, e: &Entry) -> Result<bool> {
    if !w.has_tombstones {
        return Ok(false);
    }
    let listed = tx
        .prepare_cached(
            "UPDATE entry_tombstones SET last_listed_at = ?3
             WHERE feed_id = ?1 AND entry_key = ?2",
        )?
        .execute(params![w.rec.feed_id.0, e.key, w.now])?;
    Ok(listed > 0)
}

/// A stored entry whose content changed: the entry and its article take
/// the new version.
fn update(
    tx: &Transaction<'_>,
    w: &mut Writing<'_, '_>,
    e: &Entry,
    s: &Stored,
    hash: &str,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE entries SET title = ?2, content_hash = ?3, updated_at = ?4,
             update_count = update_count + 1, url = ?5
         WHERE id = ?1",
    )?
    .execute(params![s.id, e.title, hash, w.now, e.url])?;
    if w.unindexed
        .first()
        .is_some_and(|(from, _)| s.article_id >= *from)
    {
        // The search index's update trigger expects the old text to be
        // indexed already.
        index_new_articles(tx, w.unindexed)?;
    }
    update_article(tx, s.article_id, (e, &w.rec.packed_texts), hash, &w.now)?;
    w.applied.updated += 1;
    Ok(())
}

/// A new entry: it joins the article of the same page (when the feed takes
/// part in merging), or a new article is placed in its story and inserted.
fn add<'a>(
    tx: &Transaction<'_>,
    w: &mut Writing<'a, '_>,
    index: usize,
    e: &'a Entry,
    hash: &str,
) -> Result<()> {
    let rec = w.rec;
    let (article_id, reason) = match rec
        .dedup
        .then(|| find_article(tx, e, hash))
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
            let placed = story::place(
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
            insert_article(tx, id, (e, &rec.packed_texts), print, hash, &w.now, &placed)?;
            story::index(tx, id, &placed, w.recent)?;
            w.unindexed.push((id, e));
            if placed.matched.is_some() {
                w.applied.story_merges += 1;
            }
            (id, "new")
        }
    };
    let row = NewEntry {
        feed: rec.feed_id.0,
        article_id,
        reason,
        hash,
        now: &w.now,
        raw_hash: e.raw_hash as i64,
        item_hash: e.item_hash.map(|h| h as i64),
    };
    insert_entry(tx, e, &row)?;
    w.fresh.push((index, article_id));
    w.applied.new += 1;
    Ok(())
}

/// What an entry's row holds besides the entry itself.
pub(in crate::store) struct NewEntry<'a> {
    pub feed: i64,
    pub article_id: i64,
    /// `match_reason`: how it joined its article.
    pub reason: &'a str,
    /// The content hash, as stored (hex).
    pub hash: &'a str,
    /// `first_seen_at`, as stored.
    pub now: &'a str,
    pub raw_hash: i64,
    pub item_hash: Option<i64>,
}

/// Inserts `e`'s row (the one statement that writes new entries, ingest's
/// and the bulk loader's).
pub(in crate::store) fn insert_entry(
    tx: &Transaction<'_>,
    e: &Entry,
    row: &NewEntry<'_>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO entries (feed_id, entry_key, key_kind, guid, url, article_id, match_reason, title,
             content_hash, published_at, first_seen_at, raw_hash, item_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        row.feed,
        e.key,
        e.key_kind.as_str(),
        e.guid,
        e.url,
        row.article_id,
        row.reason,
        e.title,
        row.hash,
        ts(e.published),
        row.now,
        row.raw_hash,
        row.item_hash,
    ])?;
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
) -> Result<Option<Stored>> {
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
            found = Some(Stored {
                id: r.get(0)?,
                content_hash: r.get(1)?,
                article_id: r.get(2)?,
            });
            break;
        }
    }
    drop(rows);
    drop(st);
    if let Some(Stored { id, .. }) = &found {
        tx.prepare_cached("UPDATE entries SET entry_key = ?2, guid = ?3 WHERE id = ?1")?
            .execute(params![id, e.key, e.guid])?;
        applied.guid_changes += 1;
    }
    Ok(found)
}
