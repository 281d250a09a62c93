//! Writing fetches: each one's entries and articles (`entry`), the feed's
//! fetch state and the fetch-log row (`feed_state`), all in one
//! transaction per group of fetches, with the group's new articles added
//! to the search index in one statement.

use std::collections::HashSet;

use rusqlite::{params, Transaction};

use super::record::{Applied, FetchRecord};
use super::{ts, Result, Store};

mod entry;
mod feed_state;

#[cfg(feature = "bench")]
pub(super) use entry::{insert_entry, NewEntry};

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
        // The story index is read only when something may be placed in it:
        // a group of 304s and failures (every record of an unchanged round)
        // neither syncs the recent tier nor surveys.
        let stories = recs
            .iter()
            .filter(|r| !r.entries.is_empty())
            .find_map(|r| Some((r.story.as_ref()?, r.now)));
        let targets = std::sync::Arc::clone(&self.notify);
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let recent = &mut self.recent;
            if let Some((policy, now)) = stories {
                // Index rows that left the story window go once in a while.
                super::story::prune_bands_if_due(&tx, policy, now, recent)?;
                recent.sync(&tx)?;
            }
            let mut windows = super::story::Windows::default();
            let surveys = match stories {
                Some(_) => super::story::survey_group(&tx, recent, recs, &mut windows)?,
                None => Vec::new(),
            };
            let mut unindexed = Vec::new();
            let applied = recs
                .iter()
                .enumerate()
                .map(|(i, rec)| {
                    let surveys = surveys.get(i).map_or(&[][..], |s| &s[..]);
                    write_fetch(
                        &tx,
                        rec,
                        surveys,
                        &mut unindexed,
                        recent,
                        &mut windows,
                        &targets,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            index_new_articles(&tx, &mut unindexed)?;
            if applied.iter().any(|a| a.new > 0) {
                super::outputs::content_added(&tx)?;
            }
            if let Some((policy, now)) = stories.filter(|_| recent.full()) {
                let start = windows.start(&tx, policy, now)?;
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
struct Writing<'a, 'u> {
    rec: &'a FetchRecord,
    /// Keys of every entry in the document.
    doc_keys: HashSet<&'a str>,
    /// `rec.now`, formatted.
    now: String,
    /// The id the next new article gets. Ids are given explicitly (the
    /// largest so far plus one, as SQLite would) so that a new article's
    /// story id is known when it is inserted.
    next_article: i64,
    /// The group's new articles not yet in the search index, with the
    /// entries they were made of (see [`index_new_articles`]).
    unindexed: &'u mut Unindexed<'a>,
    /// The first article id of the story window (see `story::window_start`).
    window_start: i64,
    /// The recent tier of the story index (see `story`).
    recent: &'u mut super::story::RecentBands,
    /// Story surveys of the record's entries, by entry; empty when there
    /// were none (see `story::survey_group`).
    surveys: &'a [Option<super::story::Survey>],
    /// Whether the feed has any tombstone (else none is looked up).
    has_tombstones: bool,
    /// Whether the feed has any entry stored (else no entry is looked for
    /// under an old guid).
    has_entries: bool,
    /// New entries, as (index in `rec.entries`, article id), for the
    /// notification outbox.
    fresh: Vec<(usize, i64)>,
    applied: Applied,
}

fn write_fetch<'a>(
    tx: &Transaction<'_>,
    rec: &'a FetchRecord,
    surveys: &'a [Option<super::story::Survey>],
    unindexed: &mut Unindexed<'a>,
    recent: &mut super::story::RecentBands,
    windows: &mut super::story::Windows,
    targets: &[crate::config::NotifyConfig],
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
        unindexed,
        window_start: 0,
        recent,
        surveys,
        has_tombstones: false,
        has_entries: false,
        fresh: Vec::new(),
        applied: Applied::default(),
    };
    if !rec.entries.is_empty() {
        if let Some(policy) = &rec.story {
            w.window_start = windows.start(tx, policy, rec.now)?;
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
        entry::upsert(tx, &mut w, i, e)?;
    }
    // Entries left out before parsing must be here as they were.
    if !rec.kept.is_empty() {
        let mut here =
            tx.prepare_cached("SELECT 1 FROM entries WHERE feed_id = ?1 AND entry_key = ?2")?;
        for key in &rec.kept {
            if !here.exists(params![rec.feed_id.0, key])? {
                return Err(super::StoreError::ContentElided { key: key.clone() });
            }
        }
    }
    let (mut applied, fresh, backlog) = (w.applied, w.fresh, !w.has_entries);
    applied.dropped = super::rules::write(tx, rec.feed_id.0, &rec.judged, &w.now)?;
    feed_state::update(tx, rec, &applied, &w.now)?;
    if !rec.pushed {
        applied.moved_to = feed_state::track_redirects(tx, rec)?;
    }
    let moved = applied.moved_to.as_deref();
    super::notify::enqueue(tx, targets, rec, &fresh, backlog, moved)?;
    feed_state::log(tx, rec, &applied)?;
    Ok(applied)
}

/// New articles not yet in the search index, by id (ascending), each with
/// the entry it was inserted from.
type Unindexed<'a> = Vec<(i64, &'a crate::model::Entry)>;

/// Most articles one statement adds to the search index (three parameters
/// each, well within SQLite's 32,766).
const INDEX_ROWS: usize = 512;

/// Adds the group's new articles to the search index, one statement for
/// up to [`INDEX_ROWS`] of them. (A trigger per inserted row made FTS5
/// flush a segment per article at every statement's savepoint, and then
/// merge them: a third of all ingest time. One statement for a group's
/// articles writes one segment.)
///
/// Each is indexed with the title and text it was inserted with, which
/// are what the index's content, the view `article_text`, gives for it:
/// the entry's title, and its text, which is its HTML's own (what
/// `html_text` derives; see `store::text::stored`) or stored as it is.
/// New articles have no extracted text yet. Reading them back through the
/// view would derive each text from its HTML a second time.
fn index_new_articles(tx: &Transaction<'_>, new: &mut Unindexed<'_>) -> Result<()> {
    for rows in new.chunks(INDEX_ROWS) {
        let sql = format!(
            "INSERT INTO articles_fts (rowid, title, content_text, extracted_text) VALUES {}",
            vec!["(?, ?, ?, NULL)"; rows.len()].join(", ")
        );
        let params = rows.iter().flat_map(|(id, e)| {
            [
                id as &dyn rusqlite::ToSql,
                &e.title as &dyn rusqlite::ToSql,
                &e.content_text as &dyn rusqlite::ToSql,
            ]
        });
        let params = rusqlite::params_from_iter(params);
        // A full chunk's statement is kept; the last, of another size each
        // time, is not.
        if rows.len() == INDEX_ROWS {
            tx.prepare_cached(&sql)?.execute(params)?;
        } else {
            tx.prepare(&sql)?.execute(params)?;
        }
    }
    new.clear();
    Ok(())
}

/// Adds every article with an id of at least `from` to the search index
/// (the articles a writer just inserted; ids only grow), through
/// `article_text`: the benchmark's bulk loader, which has no entries at
/// hand ([`index_new_articles`] is the fetch's way).
#[cfg(feature = "bench")]
pub(super) fn index_articles_from(conn: &rusqlite::Connection, from: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO articles_fts (rowid, title, content_text, extracted_text)
         SELECT id, title, content_text, extracted_text FROM article_text WHERE id >= ?1",
    )?
    .execute([from])?;
    Ok(())
}

#[cfg(test)]
mod tests;
