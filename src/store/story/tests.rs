//! Tests of the story index: shared fixtures, and the two tiers (where
//! copies are found, read back, pruned); a group's reads and surveys in
//! `groups`, the upgrades that re-encode prints and re-key the index in
//! `upgrades`.

use chrono::TimeZone;

use super::*;
use crate::dedup::story::{fingerprint, BANDS};
use crate::model::{Entry, FeedId, KeyKind};
use crate::store::{FetchRecord, Outcome, Store};

pub(in crate::store) const REPORT: &str =
    "The city council approved a new cycle route along the river on \
    Tuesday, after three years of consultation with residents and traders.\n\n\
    The route will run from the railway station to the university campus and is \
    expected to be paid for mostly by a government grant.\n\n\
    Work will start in the spring and should be finished within two years, the \
    council's transport chief told the meeting.";

pub(in crate::store) const OTHER: &str =
    "Volunteers planted four hundred oak saplings on the hillside \
    above the village at the weekend, the first step of a plan to restore the old \
    woodland that was cleared for grazing a century ago. Children from the primary \
    school labelled each tree, and the parish will water them through the summer.";

pub(in crate::store) const THIRD: &str =
    "The regional orchestra will tour five coastal towns this \
    winter with a programme of folk songs arranged for strings and brass, and \
    every concert will end with a short workshop where local musicians can join \
    the players on stage for the last piece of the evening.";

pub(in crate::store) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()
}

/// A fresh store (see [`open`]) whose recent tier flushes at `flush_at`,
/// with the table tier's filter.
pub(in crate::store) fn flushing_at(flush_at: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("t.db"));
    s.recent.flush_at = flush_at;
    // The table tier's filter from the first lookup, so that every test
    // of the index runs through it.
    s.recent.build_after = 0;
    (dir, s)
}

/// A store with feeds 1 to 4.
fn open(path: &std::path::Path) -> Store {
    let s = Store::open(path).unwrap();
    for id in 1..=4 {
        s.conn
            .execute(
                "INSERT OR IGNORE INTO feeds (id, name, url, created_at)
                 VALUES (?1, 'f' || ?1, 'https://f' || ?1 || '.example/', '2026-11-01T00:00:00Z')",
                [id],
            )
            .unwrap();
    }
    s
}

/// A fetch of `feed` holding one item (its own link) with `text`.
pub(in crate::store) fn fetch(feed: i64, item: &str, text: &str, merging: bool) -> FetchRecord {
    let url = format!("https://f{feed}.example/{item}");
    let title = "Cycle route approved".to_string();
    let print = fingerprint(&title, text);
    let entry = Entry {
        key: format!("guid:{url}"),
        key_kind: KeyKind::Guid,
        guid: Some(url.clone()),
        url: Some(url.clone()),
        canonical_url: Some(url.clone()),
        content_hash: crate::clean::content_hash(&title, text),
        title,
        title_derived: false,
        title_original: None,
        authors: vec![],
        summary_html: None,
        content_html: None,
        content_text: text.to_string(),
        story_print: Some(print.to_bytes().to_vec()),
        published: now(),
        published_from_feed: true,
        updated: None,
        categories: vec![],
        enclosures: vec![],
        raw_hash: 0,
        content_elided: false,
        item_hash: None,
    };
    FetchRecord {
        feed_id: FeedId(feed),
        started_at: now(),
        url,
        final_url: None,
        outcome: Outcome::Ok,
        http_status: Some(200),
        bytes: text.len() as u64,
        duration_ms: 1,
        validators: None,
        meta: None,
        entries: vec![entry],
        kept: Vec::new(),
        error: None,
        dedup: merging,
        story: merging.then(|| StoryPolicy {
            threshold: crate::dedup::story::DEFAULT_THRESHOLD,
            window: std::time::Duration::from_secs(7 * 86_400),
        }),
        permanent_redirect: None,
        move_held: false,
        moves_after: 3,
        retry_after_until: None,
        now: now(),
        judged: Default::default(),
        packed_texts: Default::default(),
        pushed: false,
    }
}

/// The same report with other page furniture: another article (its
/// content hash differs), the same story.
pub(in crate::store) fn copy(n: usize) -> String {
    format!(
        "{REPORT}\n\nShare this article{}",
        "\nAdvertisement".repeat(n)
    )
}

pub(in crate::store) fn query(s: &Store, sql: &str) -> i64 {
    s.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

pub(in crate::store) fn story_of(s: &Store, item: &str) -> i64 {
    s.conn
        .query_row(
            "SELECT a.story_id FROM entries e JOIN articles a ON a.id = e.article_id
             WHERE e.url LIKE '%/' || ?1",
            [item],
            |r| r.get(0),
        )
        .unwrap()
}

mod groups;
mod upgrades;

#[test]
fn copies_are_found_in_either_tier_and_a_flush_moves_the_mark() {
    for flush_at in [1, FLUSH_AT] {
        let (_dir, mut s) = flushing_at(flush_at);
        s.record_fetch(&fetch(1, "first", &copy(0), true)).unwrap();
        s.record_fetch(&fetch(2, "trees", OTHER, true)).unwrap();
        s.record_fetch(&fetch(3, "second", &copy(1), true)).unwrap();
        let story = story_of(&s, "first");
        assert_eq!(story_of(&s, "second"), story, "flush at {flush_at}");
        assert_ne!(story_of(&s, "trees"), story);
        let (rows, through) = (
            query(&s, "SELECT count(*) FROM story_bands"),
            query(&s, "SELECT through FROM story_index"),
        );
        if flush_at == 1 {
            // Every article went to the table, sorted, at its commit.
            assert_eq!((rows, through), (3 * BANDS as i64, 3));
            assert_eq!(s.recent.articles, 0);
        } else {
            assert_eq!((rows, through), (0, 0));
            assert_eq!(s.recent.articles, 3);
        }
    }
}

#[test]
fn retellings_are_found_through_fact_keys_in_either_tier() {
    use crate::dedup::story::tests::{RETOLD, WIRE};
    use crate::dedup::story::FACT_KEYS;
    for flush_at in [1, FLUSH_AT] {
        let (_dir, mut s) = flushing_at(flush_at);
        s.record_fetch(&fetch(1, "wire", WIRE, true)).unwrap();
        s.record_fetch(&fetch(2, "trees", OTHER, true)).unwrap();
        s.record_fetch(&fetch(3, "retold", RETOLD, true)).unwrap();
        let story = story_of(&s, "wire");
        assert_eq!(story_of(&s, "retold"), story, "flush at {flush_at}");
        assert_ne!(story_of(&s, "trees"), story);
        if flush_at == 1 {
            // Both re-tellings' fact keys are in the table, tagged 31,
            // and all others under bands 0–19.
            assert_eq!(
                query(
                    &s,
                    "SELECT count(*) FROM story_bands WHERE (band_key >> 27) & 31 = 31"
                ),
                2 * FACT_KEYS as i64
            );
            assert_eq!(
                query(
                    &s,
                    "SELECT count(*) FROM story_bands WHERE (band_key >> 27) & 31 < 20"
                ),
                3 * BANDS as i64
            );
        }
    }
}

#[test]
fn the_recent_tier_is_read_back_by_a_new_store_and_beside_another_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut one = open(&path);
    let mut two = open(&path);
    one.record_fetch(&fetch(1, "first", &copy(0), true))
        .unwrap();
    // Written by `one`, held in its memory only: `two` reads it back
    // from the article's fingerprint.
    two.record_fetch(&fetch(2, "second", &copy(1), true))
        .unwrap();
    let story = story_of(&one, "first");
    assert_eq!(story_of(&two, "second"), story);
    // `two` flushes; `one` sees the mark move and reloads.
    two.recent.flush_at = 1;
    two.record_fetch(&fetch(2, "trees", OTHER, true)).unwrap();
    assert_eq!(query(&two, "SELECT through FROM story_index"), 3);
    one.record_fetch(&fetch(3, "third", &copy(2), true))
        .unwrap();
    assert_eq!(story_of(&one, "third"), story);
    assert_eq!(one.recent.base, Some(3));
    // A store opened later (after a crash, say) finds them all.
    drop((one, two));
    let mut three = open(&path);
    three
        .record_fetch(&fetch(4, "fourth", &copy(3), true))
        .unwrap();
    assert_eq!(story_of(&three, "fourth"), story);
    assert_eq!(
        query(
            &three,
            &format!("SELECT count(*) FROM articles WHERE story_id = {story}")
        ),
        4
    );
}

#[test]
fn rows_that_left_the_window_go_at_most_hourly_whichever_process_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let later = |item: &str, minutes: i64| {
        let mut rec = fetch(1, item, &copy(minutes as usize), true);
        rec.now += chrono::Duration::minutes(minutes);
        rec.started_at = rec.now;
        rec
    };
    let mut s = open(&path);
    s.record_fetch(&later("first", 0)).unwrap();
    // A row of an article before the window (ids start at 1).
    s.conn
        .execute(
            "INSERT INTO story_bands (band_key, article_id) VALUES (42, 0)",
            [],
        )
        .unwrap();
    let stale = |s: &Store| query(s, "SELECT count(*) FROM story_bands WHERE band_key = 42");
    // Not due: neither this store nor a new one (a new process) scans.
    s.record_fetch(&later("second", 10)).unwrap();
    drop(s);
    let mut s = open(&path);
    s.record_fetch(&later("third", 20)).unwrap();
    assert_eq!(stale(&s), 1);
    // An hour after the last prune, the next write drops it.
    s.record_fetch(&later("fourth", 61)).unwrap();
    assert_eq!(stale(&s), 0);
    let pruned: String = s
        .conn
        .query_row("SELECT pruned_at FROM story_index", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pruned, ts(now() + chrono::Duration::minutes(61)));
}

#[test]
fn articles_outside_story_matching_keep_no_fingerprint_and_are_never_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("t.db"));
    s.record_fetch(&fetch(1, "apart", &copy(0), false)).unwrap();
    s.record_fetch(&fetch(2, "first", &copy(1), true)).unwrap();
    assert_eq!(
        query(
            &s,
            "SELECT count(*) FROM articles WHERE id NOT IN (SELECT article_id FROM story_prints)"
        ),
        1
    );
    assert_ne!(story_of(&s, "first"), story_of(&s, "apart"));
}
