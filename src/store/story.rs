//! Placing a new article in its story: candidates from the band index
//! (an indexed equality lookup, never all pairs), the decision from
//! `dedup::story`, and the evidence kept on the article.
//!
//! Order independence: a story's id is the smallest article id in it, and
//! when a new article matches articles of several stories, those stories
//! are merged into the smallest. So the same articles form the same stories
//! whatever order they arrive in (the ids themselves depend on the order).
//!
//! The index holds an article's band keys and, when it has enough facts
//! to be matched by them, its fact keys (`dedup::story::index_keys`): a
//! re-telling is found through a figure both tell, like a copy through a
//! band. Everything below applies to both kinds of key.
//!
//! The band index has two tiers. Every article with a fingerprint has 20
//! band keys; written one article at a time, they land at 20 random places
//! in `story_bands`, so nearly every commit rewrote pages all over the
//! table. Instead the keys of the newest articles are held in memory
//! ([`RecentBands`]) and written to `story_bands` in one sorted batch once
//! `recent::FLUSH_AT` articles have gathered; `story_index.through` records the
//! last article the table covers. Memory holds nothing that the file does not: the recent tier is
//! the fingerprints of the articles after `through`, read back when a store
//! opens and whenever another process has written (so a crash, a `kill -9`
//! or two writers lose nothing). A lookup asks both tiers. Measured in the
//! benchmark's cold phase: a fifth less CPU and a third less wall time.
//!
//! Beside the recent tier, memory holds a filter over the table tier's
//! keys (`filter`, at most 4 MiB, rebuilt from the table when a process
//! has looked up enough keys, after a prune, and after another
//! connection's commit): most keys are in no other article, and a key the
//! filter has never seen is not sought in the table. It never hides a key
//! the table holds, so a lookup finds what it found without it, and the
//! cost of a new article no longer grows with the table.
//!
//! Lookups go a group at a time. Before a group of fetches writes anything,
//! [`survey_group`] looks up the band keys of all its articles that may be
//! new, in key order, and reads their candidates' fingerprints in id
//! order, each once ([`Survey`]); then [`place`] completes each survey with
//! the articles the group wrote before it, which are all in the recent
//! tier. One lookup after another then lands on pages the cache still
//! holds, instead of on a different part of the table each time: in the
//! benchmark's cold phase, 15–20 % less CPU and wall time.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{ts, Result};
use crate::dedup::story::{index_keys, verdict, Fingerprint};

use super::record::StoryPolicy;

mod filter;
mod recent;
pub(super) mod rekey;
pub(crate) use recent::RecentBands;
#[cfg(test)]
pub(super) use recent::FLUSH_AT;

/// Band keys with more recent postings than this are not used to find
/// candidates (see `place`): bounds the work of one insert whatever the
/// size of the store.
pub const HOT_BAND: usize = 32;

/// Recent postings of one band key, newest first, one more than
/// [`HOT_BAND`] (so a hot key is recognised without reading it all).
const POSTINGS_SQL: &str =
    "SELECT article_id FROM story_bands WHERE band_key = ?1 AND article_id >= ?2
     ORDER BY article_id DESC LIMIT 33";
const _: () = assert!(HOT_BAND + 1 == 33);

/// Where a new article goes, decided before it is inserted (so its row is
/// written once, story included).
#[derive(Debug, Default)]
pub(super) struct Placement {
    /// The story it joins; `None`: a story of its own (its own id).
    pub story: Option<i64>,
    /// The most similar article and the score, when it joins a story.
    pub matched: Option<(i64, f64)>,
    /// Other stories it matched, to be merged into `story`.
    pub merge: Vec<i64>,
    /// Its band keys, for the index.
    pub keys: Vec<i64>,
}

/// Finds the story of a new article (id `id`, not inserted yet, with
/// fingerprint `story_print`): an existing one when a recent article is similar enough, else its
/// own. `survey`, when the group was surveyed (see [`survey_group`]),
/// holds what the store had to say before the group's writes; only the
/// articles written since are looked up here.
pub(super) fn place(
    tx: &Transaction<'_>,
    id: i64,
    story_print: Option<&[u8]>,
    policy: Option<&StoryPolicy>,
    window_start: i64,
    recent: &RecentBands,
    survey: Option<&Survey>,
) -> Result<Placement> {
    let (Some(policy), Some(bytes)) = (policy, story_print) else {
        return Ok(Placement::default());
    };
    let Ok(print) = Fingerprint::from_bytes(bytes) else {
        return Ok(Placement::default());
    };
    let fresh;
    let survey = match survey.filter(|s| s.window_start == window_start) {
        Some(s) => s,
        None => {
            fresh = self::survey(tx, &print, policy.threshold, window_start, recent)?;
            &fresh
        }
    };
    resolve(tx, id, &print, policy.threshold, survey, recent)
}

/// What the store says about one new article's story up to a point (the
/// newest article the recent tier held): for each band key, how many
/// postings it has, and the candidates found through the keys that are not
/// hot which tell the same story. Taken for a whole group before its
/// writes ([`survey_group`]), or for one article as it is placed.
#[derive(Debug, PartialEq)]
pub(super) struct Survey {
    /// The story window it looked in.
    window_start: i64,
    /// The newest article it covers.
    upto: i64,
    /// The article's band keys.
    keys: Vec<i64>,
    /// Postings under each key, at most [`HOT_BAND`] + 1.
    counts: Vec<usize>,
    /// Candidates that tell the same story: id, the keys that found it
    /// (bit `i` for `keys[i]`) and the similarity.
    matches: Vec<(i64, u32, f64)>,
}

/// Surveys the store through `conn` for one article (see [`Survey`]).
fn survey(
    conn: &rusqlite::Connection,
    print: &Fingerprint,
    threshold: f64,
    window_start: i64,
    recent: &RecentBands,
) -> Result<Survey> {
    let job = Job {
        print,
        keys: index_keys(print).map(i64::from).collect(),
        window_start,
        threshold,
    };
    Ok(survey_all(conn, recent, vec![job])?
        .pop()
        .expect("a survey per article"))
}

/// One article to survey.
struct Job<'a> {
    print: &'a Fingerprint,
    /// Its band keys.
    keys: Vec<i64>,
    window_start: i64,
    threshold: f64,
}

/// Surveys `jobs` together, a survey per job in their order.
///
/// Each key's postings are looked up once, in key order, from the earliest
/// window that asks for it (a later window's postings are a prefix of the
/// same list), and each candidate's fingerprint is read once, in id order,
/// and compared with every article that found it: consecutive lookups
/// share index pages. A band key shared by very many recent articles
/// ([`HOT_BAND`]) says little (boilerplate, templates) and would make every
/// insert compare against a growing crowd: it finds no candidates. Real
/// copies share several bands, so they are still found through the others.
fn survey_all(
    conn: &rusqlite::Connection,
    recent: &RecentBands,
    jobs: Vec<Job<'_>>,
) -> Result<Vec<Survey>> {
    // All lists in one buffer (`spans`: key, start, length), so that a
    // group's survey makes a few large allocations, not thousands of small
    // ones.
    let mut wanted: Vec<(i64, i64)> = jobs
        .iter()
        .flat_map(|j| j.keys.iter().map(|k| (*k, j.window_start)))
        .collect();
    wanted.sort_unstable();
    wanted.dedup_by_key(|(k, _)| *k);
    let mut spans: Vec<(i64, usize, usize)> = Vec::with_capacity(wanted.len());
    let mut all: Vec<i64> = Vec::new();
    {
        // The limit is a literal, not a parameter, and the connection keeps
        // one plan for every key bound (`store::plan_once`): a statement
        // planned again at each lookup cost as much as a fresh prepare.
        let mut st = conn.prepare_cached(POSTINGS_SQL)?;
        let mut list = Vec::with_capacity(HOT_BAND + 1);
        for (key, window_start) in wanted {
            list.clear();
            key_postings(&mut st, recent, key, window_start, &mut list)?;
            spans.push((key, all.len(), list.len()));
            all.extend_from_slice(&list);
        }
    }
    let postings_of = |key: i64| -> &[i64] {
        let at = spans
            .binary_search_by_key(&key, |s| s.0)
            .expect("every key was looked up");
        let (_, start, len) = spans[at];
        &all[start..start + len]
    };
    // Each job's counts, and its (candidate, job, keys) pairs, in its own
    // window.
    let mut counts: Vec<Vec<usize>> = Vec::with_capacity(jobs.len());
    let mut pairs: Vec<(i64, usize, u32)> = Vec::new();
    let mut candidates = Vec::new();
    for (n, j) in jobs.iter().enumerate() {
        let mut mine = Vec::with_capacity(j.keys.len());
        candidates.clear();
        for (i, k) in j.keys.iter().enumerate() {
            let list = postings_of(*k);
            let within = list.partition_point(|a| *a >= j.window_start);
            mine.push(within);
            if within <= HOT_BAND {
                add_candidates(&mut candidates, &list[..within], 1 << i);
            }
        }
        counts.push(mine);
        pairs.extend(candidates.iter().map(|&(c, found_by)| (c, n, found_by)));
    }
    pairs.sort_unstable_by_key(|p| p.0);
    let mut matches: Vec<Vec<(i64, u32, f64)>> = jobs.iter().map(|_| Vec::new()).collect();
    // Taken from the statement cache once for the group's reads (a few
    // thousand per group in a cold round): taking it and handing it back
    // for each read was about a seventh of a read's CPU (a profile of the
    // benchmark's cold phase).
    let mut prints = conn.prepare_cached(PRINT_SQL)?;
    for same in pairs.chunk_by(|a, b| a.0 == b.0) {
        let Some(other) = read_print(&mut prints, same[0].0)? else {
            continue;
        };
        for &(c, n, found_by) in same {
            if let Some(score) = verdict(jobs[n].print, &other, jobs[n].threshold).accepted() {
                matches[n].push((c, found_by, score));
            }
        }
    }
    Ok(jobs
        .into_iter()
        .zip(counts)
        .zip(matches)
        .map(|((j, counts), matches)| Survey {
            window_start: j.window_start,
            upto: recent.seen,
            keys: j.keys,
            counts,
            matches,
        })
        .collect())
}

/// The articles of the window under `key`, newest first (the recent tier,
/// then the table through `st`, a prepared [`POSTINGS_SQL`]), into `out`:
/// at most [`HOT_BAND`] + 1, enough to tell a hot key.
fn key_postings(
    st: &mut rusqlite::CachedStatement<'_>,
    recent: &RecentBands,
    key: i64,
    window_start: i64,
    out: &mut Vec<i64>,
) -> Result<()> {
    recent.postings(key, window_start, i64::MIN, HOT_BAND + 1, out);
    if out.len() <= HOT_BAND && recent.maybe_in_table(key) {
        let mut rows = st.query(params![key, window_start])?;
        while let Some(r) = rows.next()? {
            out.push(r.get(0)?);
            if out.len() > HOT_BAND {
                break;
            }
        }
    }
    Ok(())
}

/// Adds `postings`, found by the key of bit `key_bit`, to `candidates`.
fn add_candidates(candidates: &mut Vec<(i64, u32)>, postings: &[i64], key_bit: u32) {
    for &a in postings {
        match candidates.iter_mut().find(|(c, _)| *c == a) {
            Some((_, found_by)) => *found_by |= key_bit,
            None => candidates.push((a, key_bit)),
        }
    }
}

/// Compares article `candidate` with `print` (its fingerprint read with
/// `prints`, a prepared [`PRINT_SQL`]): the similarity when they tell the
/// same story. `None` as well when the candidate is gone (a band posting
/// may outlive its article, pruned by retention, until the window drops
/// it).
fn compare(
    prints: &mut rusqlite::CachedStatement<'_>,
    candidate: i64,
    print: &Fingerprint,
    threshold: f64,
) -> Result<Option<f64>> {
    Ok(match read_print(prints, candidate)? {
        Some(other) => verdict(print, &other, threshold).accepted(),
        None => None,
    })
}

/// An article's fingerprint, when it has one (read from `story_prints`,
/// not from the article's wide row).
const PRINT_SQL: &str = "SELECT fingerprint FROM story_prints WHERE article_id = ?1";

/// Keeps `print` (encoded) as article `id`'s fingerprint, in place of any
/// it had: what story lookups compare it by and the recent tier is read
/// back from.
pub(super) fn keep_print(tx: &Transaction<'_>, id: i64, print: &[u8]) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO story_prints (article_id, fingerprint) VALUES (?1, ?2)",
    )?
    .execute(params![id, print])?;
    Ok(())
}

/// The fingerprint of article `id`, when it has one, read with `prints`
/// (a prepared [`PRINT_SQL`]) and decoded straight from SQLite's buffer.
fn read_print(prints: &mut rusqlite::CachedStatement<'_>, id: i64) -> Result<Option<Fingerprint>> {
    Ok(prints
        .query_row([id], |r| {
            Ok(r.get_ref(0)?
                .as_blob_or_null()?
                .and_then(|b| Fingerprint::from_bytes(b).ok()))
        })
        .optional()?
        .flatten())
}

/// Completes `survey` inside the write transaction with the articles
/// written after it (all in the recent tier), and decides. The result is
/// what surveying everything inside the transaction gives: a key whose
/// postings, old and new together, are more than [`HOT_BAND`] is skipped,
/// and the stories of the matches are read now (stories merge).
fn resolve(
    tx: &Transaction<'_>,
    id: i64,
    print: &Fingerprint,
    threshold: f64,
    survey: &Survey,
    recent: &RecentBands,
) -> Result<Placement> {
    let mut hot = 0u32;
    let mut candidates: Vec<(i64, u32)> = Vec::new();
    let mut postings: Vec<i64> = Vec::with_capacity(HOT_BAND + 1);
    for (i, (k, old)) in survey.keys.iter().zip(&survey.counts).enumerate() {
        postings.clear();
        if *old <= HOT_BAND {
            recent.postings(
                *k,
                survey.window_start,
                survey.upto,
                HOT_BAND + 1,
                &mut postings,
            );
        }
        if old + postings.len() > HOT_BAND {
            hot |= 1 << i;
            continue;
        }
        add_candidates(&mut candidates, &postings, 1 << i);
    }
    let mut matched: Vec<(i64, f64)> = survey
        .matches
        .iter()
        .filter(|(_, found_by, _)| found_by & !hot != 0)
        .map(|&(c, _, score)| (c, score))
        .collect();
    let mut prints = tx.prepare_cached(PRINT_SQL)?;
    for (c, _) in candidates {
        if let Some(score) = compare(&mut prints, c, print, threshold)? {
            matched.push((c, score));
        }
    }
    let mut placed = Placement {
        keys: survey.keys.clone(),
        ..Placement::default()
    };
    let mut best: Option<(i64, f64)> = None;
    let mut stories: Vec<i64> = Vec::new();
    let mut story_of = tx.prepare_cached("SELECT story_id FROM articles WHERE id = ?1")?;
    for (c, score) in matched {
        if c == id {
            continue;
        }
        let Some(story) = story_of.query_row([c], |r| r.get::<_, i64>(0)).optional()? else {
            continue;
        };
        if !stories.contains(&story) {
            stories.push(story);
        }
        // Best match; ties go to the older article, for stability.
        if best.is_none_or(|(b, s)| score > s || (score == s && c < b)) {
            best = Some((c, score));
        }
    }
    if let Some((matched, score)) = best {
        let story = *stories.iter().min().expect("a match has a story");
        placed.story = Some(story);
        placed.matched = Some((matched, (score * 1000.0).round() / 1000.0));
        placed.merge = stories.into_iter().filter(|s| *s != story).collect();
    }
    Ok(placed)
}

/// Fewest articles a group must have for [`survey_group`] (one alone is
/// surveyed as it is placed).
const SURVEY_FROM: usize = 2;

/// Surveys the articles of a group that may be new (entries with a
/// fingerprint, not elided) inside its transaction, before any is written:
/// `surveys[record][entry]`, or nothing for a group of fewer than
/// [`SURVEY_FROM`].
///
/// Placing articles one by one looked up each band key and read each
/// candidate's fingerprint in the order the articles came, so nearly
/// every lookup landed on an index page the 8 MiB cache had dropped since.
/// A group's lookups go in key order instead, and its candidates'
/// fingerprints are read in id order, each once: consecutive lookups share
/// pages. [`place`] then completes a survey with the articles the group
/// itself wrote before (all in the recent tier).
pub(super) fn survey_group(
    tx: &Transaction<'_>,
    recent: &RecentBands,
    recs: &[super::FetchRecord],
    windows: &mut Windows,
) -> Result<Vec<Vec<Option<Survey>>>> {
    // The articles that may be new: (record, entry, fingerprint, policy
    // and window).
    let mut found = Vec::new();
    for (r, rec) in recs.iter().enumerate() {
        let Some(policy) = rec.story.as_ref() else {
            continue;
        };
        let mut window = None;
        for (i, e) in rec.entries.iter().enumerate() {
            let Some(print) = e
                .story_print
                .as_deref()
                .filter(|_| !e.content_elided)
                .and_then(|b| Fingerprint::from_bytes(b).ok())
            else {
                continue;
            };
            let window_start = match window {
                Some(w) => w,
                None => *window.insert(windows.start(tx, policy, rec.now)?),
            };
            found.push((r, i, print, policy.threshold, window_start));
        }
    }
    if found.len() < SURVEY_FROM {
        return Ok(Vec::new());
    }
    let jobs = found
        .iter()
        .map(|(_, _, print, threshold, window_start)| Job {
            print,
            keys: index_keys(print).map(i64::from).collect(),
            window_start: *window_start,
            threshold: *threshold,
        })
        .collect();
    let mut surveys: Vec<Vec<Option<Survey>>> = recs
        .iter()
        .map(|r| r.entries.iter().map(|_| None).collect())
        .collect();
    for ((r, i, ..), survey) in found.iter().zip(survey_all(tx, recent, jobs)?) {
        surveys[*r][*i] = Some(survey);
    }
    Ok(surveys)
}

/// After article `id` is inserted as `placed` says: its band keys go into
/// the recent tier, and the other stories it matched merge into its story.
pub(super) fn index(
    tx: &Transaction<'_>,
    id: i64,
    placed: &Placement,
    recent: &mut RecentBands,
) -> Result<()> {
    recent.add(id, &placed.keys);
    if let Some(story) = placed.story {
        merge(tx, story, &placed.merge)?;
    }
    Ok(())
}

/// Stories `others` join story `into` (every article of theirs takes its
/// id).
pub(super) fn merge(tx: &Transaction<'_>, into: i64, others: &[i64]) -> Result<()> {
    let mut st = tx.prepare_cached("UPDATE articles SET story_id = ?1 WHERE story_id = ?2")?;
    for other in others.iter().filter(|o| **o != into) {
        st.execute(params![into, other])?;
    }
    Ok(())
}

/// The first article of the story window: the oldest article first seen
/// at or after `now - window`, or the next id to come when there is none.
/// (Ids grow in commit order, so "id at least this" is "first seen in the
/// window", give or take the order of fetches committed together.)
pub(super) fn window_start(
    tx: &Transaction<'_>,
    policy: &StoryPolicy,
    now: DateTime<Utc>,
) -> Result<i64> {
    window_start_since(tx, &window_since(policy, now))
}

/// The earliest first-seen time of the story window at `now`, as stored.
fn window_since(policy: &StoryPolicy, now: DateTime<Utc>) -> String {
    ts(now - chrono::Duration::from_std(policy.window).unwrap_or(chrono::Duration::days(7)))
}

/// The story window's first article id for each window asked in one write
/// transaction, each asked of the file once.
///
/// A group's records start their windows within a second or two of each
/// other, and times are stored to the second, so most records of a group
/// ask for the same window. Reading it costs a walk over every article
/// first seen in the window's first second (after a first import, several
/// thousand): it was a sixth of an updated round's instructions when each
/// record asked twice. Within one transaction the answer for a window
/// does not change (articles the group inserts are first seen after it
/// starts, and an empty window starts at the first of them either way).
#[derive(Debug, Default)]
pub(super) struct Windows(Vec<(String, i64)>);

impl Windows {
    /// [`window_start`], asked of the file once per window.
    pub(super) fn start(
        &mut self,
        tx: &Transaction<'_>,
        policy: &StoryPolicy,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let since = window_since(policy, now);
        if let Some((_, start)) = self.0.iter().find(|(s, _)| *s == since) {
            return Ok(*start);
        }
        let start = window_start_since(tx, &since)?;
        self.0.push((since, start));
        Ok(start)
    }
}

/// The first article of the window that starts at `?1`: the smallest id
/// among the articles first seen earliest in it (a walk over those that
/// share that second), or the next id when the window is empty.
const WINDOW_SQL: &str = "SELECT coalesce(
     (SELECT min(id) FROM articles WHERE first_seen_at =
         (SELECT min(first_seen_at) FROM articles WHERE first_seen_at >= ?1)),
     (SELECT coalesce(max(id), 0) + 1 FROM articles))";

fn window_start_since(tx: &Transaction<'_>, since: &str) -> Result<i64> {
    Ok(tx
        .prepare_cached(WINDOW_SQL)?
        .query_row([since], |r| r.get(0))?)
}

/// Drops index rows older than the window, so the index stays the size of
/// the recent past. It reads the whole table, so it runs at most once per
/// [`PRUNE_EVERY`], whichever process writes: `story_index.pruned_at`
/// says when it last ran (a clock set back makes it due).
pub(super) fn prune_bands_if_due(
    tx: &Transaction<'_>,
    policy: &StoryPolicy,
    now: DateTime<Utc>,
    recent: &mut RecentBands,
) -> Result<()> {
    let due: bool = tx
        .prepare_cached(
            "SELECT pruned_at IS NULL OR pruned_at <= ?1 OR pruned_at > ?2 FROM story_index",
        )?
        .query_row([ts(now - PRUNE_EVERY), ts(now)], |r| r.get(0))?;
    if due {
        let start = window_start(tx, policy, now)?;
        tx.prepare_cached("DELETE FROM story_bands WHERE article_id < ?1")?
            .execute([start])?;
        // The filter still holds the keys that left: built again.
        recent.pruned = true;
        tx.prepare_cached("UPDATE story_index SET pruned_at = ?1")?
            .execute([ts(now)])?;
    }
    Ok(())
}

/// How often the index rows that left the window are dropped.
pub(super) const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

#[cfg(test)]
pub(super) mod tests;
