//! What outputs show: the latest stories of a selection of feeds, each with
//! the feeds that carried it, and the change token that tells a cache when
//! to render again.
//!
//! # Selection and order
//! An output selects feeds by name and by tag (either matching is enough;
//! neither given means every feed). An article is in the selection when any
//! of its entries comes from a selected feed. Articles are walked newest
//! first by `first_seen_at` or `published_at`; ties are broken by the other
//! of the two times, then by row id, so that articles first seen in one
//! fetch come newest first and the order never changes between renders.
//! The walk uses the `articles_by_first_seen` / `articles_by_published`
//! indexes (both times and the id) with keyset paging (never `OFFSET`).
//!
//! # One item per story
//! Articles sharing a `story_id` are one story. A story takes the place of
//! its newest article in the walk, and is represented by its earliest
//! article (lowest id) in the selection that passes the output's filter, so
//! the item and its id do not change when later articles join the story.
//!
//! # Performance
//! On a store of a million articles:
//! - every feed, no filter: reads `limit` index entries and rows.
//! - a selection: scans the index in growing pages (up to [`SCAN_PAGE`]),
//!   checking each article's entries (`entries_by_article`); a selection
//!   too sparse to fill the output within [`SCAN_BUDGET`] articles switches
//!   to reading the selected feeds' entries and sorting their articles,
//!   which costs the size of the selection (small, since it was sparse;
//!   the exception is a large selection with nothing recent, such as a
//!   busy feed that stopped years ago, which costs a sort of its articles).
//! - a filter (`include` / `exclude`): reads titles and texts of at most
//!   [`FILTER_BUDGET`] selected articles; an output whose filter matches
//!   fewer than `limit` of them shows fewer items.
//!
//! # Change token
//! [`Store::content_generation`] reads one row that moves whenever
//! something an output can show changes: triggers bump it on updates and
//! deletes (see migration 5 in `schema.rs`), and the writer once per
//! transaction that adds entries ([`content_added`]; an insert trigger
//! would cost every new row a statement journal, see migration
//! `WRITER_GENERATION`). It costs one primary-key lookup, is the same for every
//! connection (unlike `PRAGMA data_version`), and never moves on fetches
//! that change nothing shown (a 304, a fetch-log row, a next-check time).

use std::collections::{HashMap, HashSet};

use rusqlite::params;

use super::{Result, Store};
use crate::model::OutputOrder;

mod rows;

pub use rows::{FeedRef, OutputArticle, OutputStory, Sighting};

/// Most index entries examined per page when walking a selection; pages
/// start at twice the output's limit and double up to this.
pub const SCAN_PAGE: usize = 1_000;
/// Index entries a selection may scan before switching to its entries.
/// About √(limit × articles) for 50 items of a million articles, which
/// balances the two ways: past it, the selection holds under 1 % of the
/// recent articles and sorting its own is cheaper.
pub const SCAN_BUDGET: usize = 5_000;
/// Most articles whose title and text an output's filter reads per render.
pub const FILTER_BUDGET: usize = 5_000;

/// Accepts or refuses an article by its title and plain text.
pub type ArticleFilter<'a> = &'a dyn Fn(&str, &str) -> bool;

/// What one output asks for.
#[derive(Clone, Copy)]
pub struct OutputQuery<'a> {
    /// Feed names selected (any of).
    pub feeds: &'a [String],
    /// Tags selected (any of); with `feeds` empty too, every feed.
    pub tags: &'a [String],
    /// Newest first by which time.
    pub order: OutputOrder,
    /// Most stories returned.
    pub limit: usize,
    /// Articles the output keeps (its `include` / `exclude`), if any.
    pub filter: Option<ArticleFilter<'a>>,
    /// Only articles rules labelled so (empty: any).
    pub labels: LabelQuery<'a>,
}

/// The rule tags and marks an output selects on (see `crate::rules`).
#[derive(Clone, Copy, Default)]
pub struct LabelQuery<'a> {
    /// Any of these tags (empty: any article).
    pub rule_tags: &'a [String],
    /// And any of these marks (empty: any article).
    pub marks: &'a [String],
}

impl LabelQuery<'_> {
    fn is_empty(&self) -> bool {
        self.rule_tags.is_empty() && self.marks.is_empty()
    }
}

/// A page of the articles carrying the labels in `?3` (tags) and `?4`
/// (marks), each marked when one of its entries comes from the feeds in
/// `?5` (with `all`, every article is): driven by `article_labels`, so it
/// costs the size of the labelled set, however large the store. `?6` page.
fn labelled_sql((column, tie): (&str, &str), labels: &LabelQuery<'_>, all: bool) -> String {
    let has = |kind: &str, param: &str, empty: bool| {
        if empty {
            format!("json_array_length({param}) = 0")
        } else {
            format!(
                "a.id IN (SELECT article_id FROM article_labels WHERE kind = '{kind}'
                          AND label IN (SELECT value FROM json_each({param})))"
            )
        }
    };
    let selected = if all {
        "?6 IS NOT NULL".to_string()
    } else {
        "EXISTS (SELECT 1 FROM entries e WHERE e.article_id = a.id
                 AND e.feed_id IN (SELECT value FROM json_each(?6)))"
            .to_string()
    };
    format!(
        "SELECT a.id, a.{column}, a.{tie}, {selected} FROM articles a
         WHERE {} AND {} AND (a.{column}, a.{tie}, a.id) < (?1, ?2, ?3)
         ORDER BY a.{column} DESC, a.{tie} DESC, a.id DESC LIMIT ?7",
        has("tag", "?4", labels.rule_tags.is_empty()),
        has("mark", "?5", labels.marks.is_empty()),
    )
}

/// Which feeds an output's articles come from.
pub(super) enum Feeds {
    /// Every feed: no check needed.
    All,
    /// These feeds, as a JSON array for `json_each`, and as a set.
    Some(String, HashSet<i64>),
}

impl Feeds {
    pub(super) fn contains(&self, feed: i64) -> bool {
        match self {
            Feeds::All => true,
            Feeds::Some(_, ids) => ids.contains(&feed),
        }
    }
}

/// The SQL pieces of one order: the column sorted by and the one that
/// breaks its ties (an index holds both, then the id).
fn order_columns(order: OutputOrder) -> (&'static str, &'static str) {
    match order {
        OutputOrder::FirstSeen => ("first_seen_at", "published_at"),
        OutputOrder::Published => ("published_at", "first_seen_at"),
    }
}

/// Every article, newest first from a cursor: `?1` key, `?2` tie, `?3` id,
/// `?4` page.
fn latest_sql((column, tie): (&str, &str)) -> String {
    format!(
        "SELECT id, {column}, {tie}, 1 FROM articles WHERE ({column}, {tie}, id) < (?1, ?2, ?3)
         ORDER BY {column} DESC, {tie} DESC, id DESC LIMIT ?4"
    )
}

/// A page of the index walk, each article marked when one of its entries
/// comes from the feeds in the JSON array `?4`; `?5` page size.
fn selection_sql((column, tie): (&str, &str)) -> String {
    format!(
        "SELECT a.id, a.{column}, a.{tie},
                EXISTS (SELECT 1 FROM entries e WHERE e.article_id = a.id
                        AND e.feed_id IN (SELECT value FROM json_each(?4)))
         FROM articles a WHERE (a.{column}, a.{tie}, a.id) < (?1, ?2, ?3)
         ORDER BY a.{column} DESC, a.{tie} DESC, a.id DESC LIMIT ?5"
    )
}

/// The selected feeds' articles, sorted: for sparse selections.
fn sparse_selection_sql((column, tie): (&str, &str)) -> String {
    format!(
        "SELECT a.id, a.{column}, a.{tie}, 1 FROM articles a
         WHERE a.id IN (SELECT e.article_id FROM entries e
                        WHERE e.feed_id IN (SELECT value FROM json_each(?4)))
           AND (a.{column}, a.{tie}, a.id) < (?1, ?2, ?3)
         ORDER BY a.{column} DESC, a.{tie} DESC, a.id DESC LIMIT ?5"
    )
}

/// The articles of story `?1`, oldest first, with their feeds, and their
/// text for a filter.
const STORY_SQL: &str = concat!(
    "SELECT a.id, a.title, ",
    super::text::text_sql!(),
    ", group_concat(e.feed_id)
     FROM articles a JOIN entries e ON e.article_id = a.id
     WHERE a.story_id = ?1 GROUP BY a.id ORDER BY a.id"
);

/// [`STORY_SQL`] without the text, where no filter reads it (deriving it
/// from the HTML costs).
const STORY_SQL_NO_TEXT: &str = "SELECT a.id, a.title, '', group_concat(e.feed_id)
     FROM articles a JOIN entries e ON e.article_id = a.id
     WHERE a.story_id = ?1 GROUP BY a.id ORDER BY a.id";

/// One row of a page of the walk: id, sort key, tie key, selected.
type Page = (i64, String, String, bool);

/// What the walk needs to know of an article it passes.
struct Candidate {
    story: Option<i64>,
    /// Title and text: empty unless a filter reads them.
    title: String,
    text: String,
}

/// A position in the walk: articles strictly before it come next.
#[derive(Debug, Clone)]
struct Cursor {
    key: String,
    tie: String,
    id: i64,
    /// The selection was too sparse for the index walk; read its entries.
    by_entries: bool,
    scanned: usize,
    /// Index entries to examine in the next page of a selection.
    page: usize,
}

impl Cursor {
    /// Before every stored time (`~` sorts after every digit).
    fn start(limit: usize) -> Cursor {
        Cursor {
            key: "~".into(),
            tie: "~".into(),
            id: i64::MAX,
            by_entries: false,
            scanned: 0,
            page: (2 * limit).clamp(1, SCAN_PAGE),
        }
    }
}

impl Store {
    /// Gauges for `/metrics`: feeds by state, articles, entries, stories,
    /// database size.
    pub fn gauges(&self) -> Result<crate::metrics::StoreGauges> {
        let mut g = crate::metrics::StoreGauges::default();
        let mut st = self.conn.prepare_cached(
            "SELECT status, count(*) FROM feeds WHERE active = 1 GROUP BY status ORDER BY status",
        )?;
        g.feeds_by_state = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        (g.articles, g.entries, g.story_merges) = self.conn.query_row(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM entries),
                    (SELECT count(*) FROM articles WHERE story_match_id IS NOT NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        g.merged_stories = self.conn.query_row(
            "SELECT count(DISTINCT story_id) FROM articles WHERE story_match_id IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        let mut st = self.conn.prepare_cached(
            "SELECT target, count(*) FROM notify_outbox WHERE delivered_at IS NULL
             GROUP BY target ORDER BY target",
        )?;
        g.notify_pending = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        g.database_bytes = self.conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )?;
        Ok(g)
    }

    /// The stories led by `leads` (article ids), in that order, every
    /// feed's sightings included; ids no longer stored are left out.
    pub fn stories_of(&self, leads: &[i64]) -> Result<Vec<OutputStory>> {
        self.stories(leads, &Feeds::All)
    }

    /// The content generation: it moves whenever something an output shows
    /// changed, and only then (see the module docs).
    pub fn content_generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT generation FROM content_generation WHERE id = 1")?
            .query_row([], |r| r.get(0))?)
    }

    /// The latest stories of an output, newest first (see the module docs).
    /// Its queries run in one read transaction, so they see one state of
    /// the database even while the daemon writes.
    pub fn output_stories(&self, query: &OutputQuery<'_>) -> Result<Vec<OutputStory>> {
        // Inside a caller's transaction, that one already holds the state.
        let _snapshot = if self.conn.is_autocommit() {
            Some(self.conn.unchecked_transaction()?)
        } else {
            None
        };
        self.walk(query)
    }

    fn walk(&self, query: &OutputQuery<'_>) -> Result<Vec<OutputStory>> {
        let feeds = self.selected_feeds(query.feeds, query.tags)?;
        let column = order_columns(query.order);
        let mut cursor = Cursor::start(query.limit);
        let mut seen_stories: HashSet<i64> = HashSet::new();
        let mut leads: Vec<i64> = Vec::new();
        let mut filtered = 0;
        while leads.len() < query.limit {
            let page = if query.labels.is_empty() {
                self.candidates(&feeds, column, &mut cursor, query.limit)?
            } else {
                self.labelled(&feeds, column, &mut cursor, query)?
            };
            let Some(page) = page else {
                break;
            };
            let details = self.candidate_details(&page, query.filter.is_some())?;
            for id in page {
                let Some(candidate) = details.get(&id) else {
                    continue;
                };
                if let Some(story) = candidate.story {
                    if !seen_stories.insert(story) {
                        continue;
                    }
                    if let Some(lead) = self.story_lead(story, &feeds, query.filter)? {
                        leads.push(lead);
                    }
                } else if query
                    .filter
                    .is_none_or(|keep| keep(&candidate.title, &candidate.text))
                {
                    leads.push(id);
                }
                if leads.len() == query.limit {
                    break;
                }
            }
            filtered += details.len();
            if query.filter.is_some() && filtered >= FILTER_BUDGET {
                break;
            }
        }
        self.stories(&leads, &feeds)
    }

    /// Ids of the feeds named or tagged; `All` when neither is given.
    fn selected_feeds(&self, names: &[String], tags: &[String]) -> Result<Feeds> {
        if names.is_empty() && tags.is_empty() {
            return Ok(Feeds::All);
        }
        let mut st = self.conn.prepare_cached(
            "SELECT id FROM feeds WHERE name IN (SELECT value FROM json_each(?1))
             UNION SELECT feed_id FROM feed_tags WHERE tag IN (SELECT value FROM json_each(?2))",
        )?;
        let ids = st
            .query_map(params![json(names), json(tags)], |r| r.get(0))?
            .collect::<rusqlite::Result<HashSet<i64>>>()?;
        let list = json(&ids.iter().collect::<Vec<_>>());
        Ok(Feeds::Some(list, ids))
    }

    /// The selected article ids of the next page, in order, moving `cursor`
    /// past the page; `None` at the end. A page may select none.
    fn candidates(
        &self,
        feeds: &Feeds,
        column: (&str, &str),
        cursor: &mut Cursor,
        limit: usize,
    ) -> Result<Option<Vec<i64>>> {
        let page = limit.clamp(1, SCAN_PAGE) as i64;
        let (key, tie, id) = (&cursor.key, &cursor.tie, cursor.id);
        let rows = match feeds {
            Feeds::All => self.page(&latest_sql(column), params![key, tie, id, page])?,
            Feeds::Some(list, _) if cursor.by_entries => self.page(
                &sparse_selection_sql(column),
                params![key, tie, id, list, page],
            )?,
            Feeds::Some(list, _) => {
                let page = cursor.page as i64;
                cursor.page = (cursor.page * 2).min(SCAN_PAGE);
                self.page(&selection_sql(column), params![key, tie, id, list, page])?
            }
        };
        let Some((id, key, tie, _)) = rows.last() else {
            return Ok(None);
        };
        cursor.key.clone_from(key);
        cursor.tie.clone_from(tie);
        cursor.id = *id;
        cursor.scanned += rows.len();
        if matches!(feeds, Feeds::Some(..)) && cursor.scanned >= SCAN_BUDGET {
            cursor.by_entries = true;
        }
        Ok(Some(
            rows.into_iter()
                .filter_map(|(id, _, _, selected)| selected.then_some(id))
                .collect(),
        ))
    }

    /// Like [`Store::candidates`], for an output that selects on labels.
    fn labelled(
        &self,
        feeds: &Feeds,
        column: (&str, &str),
        cursor: &mut Cursor,
        query: &OutputQuery<'_>,
    ) -> Result<Option<Vec<i64>>> {
        let (list, all) = match feeds {
            Feeds::All => ("[]".to_string(), true),
            Feeds::Some(list, _) => (list.clone(), false),
        };
        let sql = labelled_sql(column, &query.labels, all);
        let page = query.limit.clamp(1, SCAN_PAGE) as i64;
        let rows = self.page(
            &sql,
            params![
                cursor.key,
                cursor.tie,
                cursor.id,
                json(query.labels.rule_tags),
                json(query.labels.marks),
                list,
                page
            ],
        )?;
        let Some((id, key, tie, _)) = rows.last() else {
            return Ok(None);
        };
        cursor.key.clone_from(key);
        cursor.tie.clone_from(tie);
        cursor.id = *id;
        Ok(Some(
            rows.into_iter()
                .filter_map(|(id, _, _, selected)| selected.then_some(id))
                .collect(),
        ))
    }

    fn page(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Page>> {
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Story id, and title and text when a filter needs them, of `ids`.
    fn candidate_details(&self, ids: &[i64], with_text: bool) -> Result<HashMap<i64, Candidate>> {
        let sql = if with_text {
            concat!(
                "SELECT a.id, a.story_id, a.title, ",
                super::text::text_sql!(),
                " FROM articles a WHERE a.id IN (SELECT value FROM json_each(?1))"
            )
        } else {
            "SELECT id, story_id, '', '' FROM articles WHERE id IN (SELECT value FROM json_each(?1))"
        };
        let mut st = self.conn.prepare_cached(sql)?;
        let rows = st.query_map([json(ids)], |r| {
            let candidate = Candidate {
                story: r.get(1)?,
                title: r.get(2)?,
                text: r.get(3)?,
            };
            Ok((r.get(0)?, candidate))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The earliest article of `story` in the selection that the filter
    /// keeps, if any.
    fn story_lead(
        &self,
        story: i64,
        feeds: &Feeds,
        filter: Option<ArticleFilter<'_>>,
    ) -> Result<Option<i64>> {
        let sql = if filter.is_some() {
            STORY_SQL
        } else {
            STORY_SQL_NO_TEXT
        };
        let mut st = self.conn.prepare_cached(sql)?;
        let mut rows = st.query([story])?;
        while let Some(r) = rows.next()? {
            let feed_ids: String = r.get(3)?;
            let selected = feed_ids
                .split(',')
                .filter_map(|f| f.parse().ok())
                .any(|f| feeds.contains(f));
            if selected
                && filter.is_none_or(|keep| {
                    keep(
                        r.get_ref(1)
                            .ok()
                            .and_then(|v| v.as_str().ok())
                            .unwrap_or(""),
                        r.get_ref(2)
                            .ok()
                            .and_then(|v| v.as_str().ok())
                            .unwrap_or(""),
                    )
                })
            {
                return Ok(Some(r.get(0)?));
            }
        }
        Ok(None)
    }

    /// `EXPLAIN QUERY PLAN` of each output query, as `label: step` lines,
    /// for checking that they use the indexes. Labels: `latest`,
    /// `selection` (the index walk), `sparse selection` (the fallback,
    /// which sorts the selection by design) and `story`.
    pub fn output_query_plans(&self) -> Result<Vec<String>> {
        let mut queries = Vec::new();
        for order in [OutputOrder::FirstSeen, OutputOrder::Published] {
            let column = order_columns(order);
            queries.push(("latest", latest_sql(column)));
            queries.push(("selection", selection_sql(column)));
            queries.push(("sparse selection", sparse_selection_sql(column)));
        }
        queries.push(("story", STORY_SQL.to_owned()));
        let mut plans = Vec::new();
        for (label, sql) in queries {
            // Parameters left unbound are NULL; the plan does not depend on them.
            let mut st = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let mut rows = st.raw_query();
            while let Some(row) = rows.next()? {
                plans.push(format!("{label}: {}", row.get::<_, String>(3)?));
            }
        }
        Ok(plans)
    }
}

/// Moves the content generation for entries (and articles) a transaction
/// added. The writers that insert call it once per transaction instead of
/// an insert trigger per row (see the module docs).
pub(super) fn content_added(tx: &rusqlite::Connection) -> Result<()> {
    tx.prepare_cached("UPDATE content_generation SET generation = generation + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

/// `values` as a JSON array, for `json_each`.
pub(super) fn json<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests;
