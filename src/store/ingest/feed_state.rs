//! What one fetch changes in its feed's row and in the fetch log: the
//! fetch state after a success or a failure, the count of permanent
//! redirects that moves a feed, and the fetch-log row.

use rusqlite::{params, Transaction};

use crate::store::record::{Applied, FetchRecord, Outcome};
use crate::store::{ts, ts_ceil, Result};

/// Brings the feed's row up to the fetch `rec`, whose entries became
/// `applied`, at `now` (as stored): validators, document metadata and
/// status after a success (and the switch to link identity when guids
/// changed); status, error count and `Retry-After` after a failure. A
/// pushed document (WebSub) records only what it brought, and when.
pub(super) fn update(
    tx: &Transaction<'_>,
    rec: &FetchRecord,
    applied: &Applied,
    now: &str,
) -> Result<()> {
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
            crate::dedup::entry::switches_to_links(applied.guid_changes)
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
            crate::dedup::entry::switches_to_links(applied.guid_changes),
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
    Ok(())
}

/// Counts permanent redirects to the same target; the record's
/// `moves_after`-th in a row moves the feed. Any other outcome that reached the server resets the count.
pub(super) fn track_redirects(tx: &Transaction<'_>, rec: &FetchRecord) -> Result<Option<String>> {
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
        !rec.move_held && streak >= i64::from(rec.moves_after) && moved.as_deref() != Some(target);
    tx.prepare_cached(
        "UPDATE feeds SET redirect_streak = ?2, redirect_target = ?3,
             moved_to = CASE WHEN ?4 THEN ?3 ELSE moved_to END
         WHERE id = ?1",
    )?
    .execute(params![feed, streak, target, newly_moved])?;
    Ok(newly_moved.then(|| target.clone()))
}

/// The fetch's row in the fetch log (`kind`: `poll`, or `push` for a
/// document a hub pushed).
pub(super) fn log(tx: &Transaction<'_>, rec: &FetchRecord, applied: &Applied) -> Result<()> {
    let feed = rec.feed_id.0;
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
    Ok(())
}
