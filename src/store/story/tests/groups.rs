//! A group of fetches and the story index: each window read once, the
//! window's start sought, postings planned once, surveys before writes,
//! a failed group forgotten.

use super::*;

/// Records of a group whose windows start in the same second share one
/// reading of it, and that reading is what the file says after the group
/// wrote (an empty window starts at the group's first article).
#[test]
fn a_group_reads_each_story_window_once_and_the_file_agrees() {
    let (_dir, mut s) = flushing_at(FLUSH_AT);
    let policy = fetch(1, "a", REPORT, true).story.unwrap();
    let mut windows = Windows::default();
    let tx = s.conn.transaction().unwrap();
    let start = windows.start(&tx, &policy, now()).unwrap();
    let later = now() + chrono::Duration::milliseconds(400);
    assert_eq!(windows.start(&tx, &policy, later).unwrap(), start);
    assert_eq!(windows.0.len(), 1);
    assert_eq!(window_start(&tx, &policy, now()).unwrap(), start);
    drop(tx);
    let group = [fetch(1, "a", REPORT, true), fetch(2, "b", OTHER, true)];
    assert!(s.record_fetches(&group).iter().all(Result::is_ok));
    let tx = s.conn.transaction().unwrap();
    assert_eq!(window_start(&tx, &policy, later).unwrap(), start);
    let next_second = now() + chrono::Duration::seconds(1);
    windows.start(&tx, &policy, next_second).unwrap();
    assert_eq!(windows.0.len(), 2);
}

/// Finding where the window starts does not read the window: the
/// statement's steps do not grow with the articles in it.
#[test]
fn the_window_start_is_sought_not_scanned() {
    let mut steps = Vec::new();
    for articles in [200, 2000] {
        let (_dir, s) = flushing_at(FLUSH_AT);
        s.conn
            .execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                 INSERT INTO articles (id, title, content_hash, first_seen_at, published_at)
                 SELECT i, 't', 'h' || i,
                        strftime('%Y-%m-%dT%H:%M:%SZ', '2026-11-19T00:00:00', '+' || i || ' seconds'),
                        '2026-11-19T00:00:00Z'
                 FROM n",
                [articles],
            )
            .unwrap();
        let mut st = s.conn.prepare(WINDOW_SQL).unwrap();
        let start: i64 = st
            .query_row(["2026-11-19T00:00:10Z"], |r| r.get(0))
            .unwrap();
        assert_eq!(start, 10);
        steps.push(st.get_status(rusqlite::StatementStatus::VmStep));
    }
    assert_eq!(steps[0], steps[1], "{steps:?}");
}

/// A band key's postings are looked up with one plan for every key (each
/// new key bound made SQLite parse and plan the statement again).
#[test]
fn postings_are_looked_up_with_one_plan() {
    let (_dir, mut s) = flushing_at(1);
    s.recent.build_after = u64::MAX;
    let first = [fetch(1, "a", REPORT, true), fetch(2, "b", OTHER, true)];
    let again = [fetch(3, "c", &copy(1), true), fetch(4, "d", THIRD, true)];
    for group in [&first[..], &again[..]] {
        assert!(s.record_fetches(group).iter().all(Result::is_ok));
    }
    let st = s.conn.prepare_cached(POSTINGS_SQL).unwrap();
    assert!(st.get_status(rusqlite::StatementStatus::Run) > 2 * BANDS as i32);
    assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0);
    drop(st);
    assert_eq!(story_of(&s, "c"), story_of(&s, "a"));
}

/// A group with nothing to place (an unchanged round: 304s, failures)
/// leaves the story index alone: the recent tier is not read back. The
/// next group with entries reads it, and finds what another writer wrote
/// in between.
#[test]
fn a_group_without_entries_does_not_read_the_story_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut one = open(&path);
    let mut two = open(&path);
    two.record_fetch(&fetch(2, "first", &copy(0), true))
        .unwrap();
    let not_modified = |feed: i64| {
        let mut rec = fetch(feed, "unused", REPORT, true);
        rec.entries.clear();
        rec.http_status = Some(304);
        rec.outcome = Outcome::NotModified;
        rec
    };
    let results = one.record_fetches(&[not_modified(1), not_modified(3)]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(one.recent.base, None, "the tier was read for nothing");
    assert_eq!(one.recent.seen, 0);
    one.record_fetch(&fetch(3, "second", &copy(1), true))
        .unwrap();
    assert_eq!(one.recent.base, Some(0));
    assert_eq!(story_of(&one, "second"), story_of(&one, "first"));
}

/// A group's articles are surveyed together before its writes; a copy
/// of an article the same group wrote earlier is still found (in the
/// recent tier, after the survey), and one of an older article in
/// either tier.
#[test]
fn a_surveyed_group_finds_copies_of_older_articles_and_of_its_own() {
    for flush_at in [1, FLUSH_AT] {
        let (_dir, mut s) = flushing_at(flush_at);
        s.record_fetch(&fetch(1, "first", &copy(0), true)).unwrap();
        // Twice the same report, then another story twice: the second
        // copy of each is found only among the group's own articles,
        // or (for the report) in the file as well.
        let tour = |n: usize| {
            format!(
                "{THIRD}\n\nShare this article{}",
                "\nAdvertisement".repeat(n)
            )
        };
        let group = [
            fetch(2, "second", &copy(1), true),
            fetch(3, "trees", OTHER, true),
            fetch(4, "tour", &tour(0), true),
            fetch(2, "tour-again", &tour(1), true),
            fetch(3, "third", &copy(2), true),
        ];
        for r in s.record_fetches(&group) {
            r.unwrap();
        }
        let report = story_of(&s, "first");
        assert_eq!(story_of(&s, "second"), report, "flush at {flush_at}");
        assert_eq!(story_of(&s, "third"), report, "flush at {flush_at}");
        let tours = story_of(&s, "tour");
        assert_eq!(story_of(&s, "tour-again"), tours, "flush at {flush_at}");
        assert_ne!(tours, report);
        assert_ne!(story_of(&s, "trees"), report);
        assert_ne!(story_of(&s, "trees"), tours);
    }
}

#[test]
fn a_failed_group_forgets_what_it_held_and_reads_the_file_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut s = open(&path);
    // The group fails (feed 99 does not exist) and is retried one by
    // one: the first fetch is stored, the ghost's article (id 2) is
    // rolled back.
    let results = s.record_fetches(&[
        fetch(1, "first", &copy(0), true),
        fetch(99, "ghost", THIRD, true),
    ]);
    assert!(results[0].is_ok() && results[1].is_err());
    // Another writer's article takes id 2; the tier must not believe
    // it has seen it.
    open(&path)
        .record_fetch(&fetch(2, "trees", OTHER, true))
        .unwrap();
    s.record_fetch(&fetch(
        3,
        "more-trees",
        &format!("{OTHER}\n\nAdvertisement"),
        true,
    ))
    .unwrap();
    assert_eq!(story_of(&s, "more-trees"), story_of(&s, "trees"));
    s.record_fetch(&fetch(4, "second", &copy(2), true)).unwrap();
    assert_eq!(story_of(&s, "second"), story_of(&s, "first"));
    assert_eq!(query(&s, "SELECT count(*) FROM articles"), 4);
}
