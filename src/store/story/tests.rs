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

/// Runs migration `version` (1-based, as `user_version` counts) on the
/// store at `path` by itself, with the functions the store registers
/// while it migrates; `marks` is a word of its SQL, which says it is the
/// one meant.
fn run_migration(path: &std::path::Path, version: usize, marks: &str) {
    let sql = crate::store::schema::MIGRATIONS[version - 1];
    assert!(
        sql.contains(marks),
        "migration {version} is not the one meant"
    );
    let c = rusqlite::Connection::open(path).unwrap();
    crate::store::register_sql_functions(&c).unwrap();
    super::rekey::register(&c).unwrap();
    c.execute_batch(sql).unwrap();
}

/// The fingerprint stored for article `id`, as its bytes.
fn stored_print(s: &Store, id: i64) -> Vec<u8> {
    s.conn
        .query_row(
            "SELECT fingerprint FROM story_prints WHERE article_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn version_1_prints_are_re_encoded_and_the_table_tier_rekeyed_by_the_upgrade() {
    use crate::dedup::story::tests::v1_bytes;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let first = copy(0);
    {
        let mut s = open(&path);
        s.record_fetch(&fetch(1, "first", &first, true)).unwrap();
        // As schema 19 left it: a version 1 print, and the article in the
        // table tier under keys of that version (one stands for them).
        s.conn
            .execute(
                "UPDATE story_prints SET fingerprint = ?1 WHERE article_id = 1",
                [v1_bytes("Cycle route approved", &first, true)],
            )
            .unwrap();
        s.conn
            .execute_batch(
                "DELETE FROM story_bands; INSERT INTO story_bands VALUES (42, 1);
                 UPDATE story_index SET through = 1;",
            )
            .unwrap();
    }
    // The upgrade to schema 20, as `Store::open` runs it (the later
    // migrations, already applied here, leave these tables alone).
    run_migration(&path, 20, "story_print_current");
    let mut s = open(&path);
    let print = fingerprint("Cycle route approved", &first);
    assert_eq!(stored_print(&s, 1), print.to_bytes());
    let mut keys: Vec<i64> = crate::dedup::story::index_keys(&print)
        .map(i64::from)
        .collect();
    keys.sort_unstable();
    let mut st = s
        .conn
        .prepare("SELECT band_key FROM story_bands WHERE article_id = 1 ORDER BY band_key")
        .unwrap();
    let rows: Vec<i64> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    drop(st);
    assert_eq!(rows, keys);
    assert_eq!(query(&s, "SELECT count(*) FROM story_bands"), BANDS as i64);
    // A copy arriving after the upgrade finds it through the new keys.
    s.record_fetch(&fetch(2, "second", &copy(1), true)).unwrap();
    assert_eq!(story_of(&s, "second"), story_of(&s, "first"));
}

#[test]
fn schema_21_prints_are_made_compact_and_the_table_tier_rekeyed_by_the_upgrade() {
    use crate::dedup::story::tests::{fixed_bytes, wide_keys, WIRE};
    use crate::store::schema::MIGRATIONS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    // Two articles in the table tier (one with fact keys), one after it.
    let texts = [
        ("wire", WIRE.to_owned()),
        ("first", copy(0)),
        ("other", OTHER.to_owned()),
    ];
    let prints: Vec<Fingerprint>;
    {
        let mut s = open(&path);
        for (feed, (item, text)) in (1..).zip(&texts) {
            s.record_fetch(&fetch(feed, item, text, true)).unwrap();
        }
        prints = (1..=3)
            .map(|id| Fingerprint::from_bytes(&stored_print(&s, id)).unwrap())
            .collect();
        // As schema 21 left them: prints in the fixed layout, and the
        // first two articles in the table tier under 64-bit keys.
        let tx = s.conn.transaction().unwrap();
        tx.execute("DELETE FROM story_bands", []).unwrap();
        for (id, print) in (1..).zip(&prints) {
            tx.execute(
                "UPDATE story_prints SET fingerprint = ?2 WHERE article_id = ?1",
                rusqlite::params![id, fixed_bytes(print)],
            )
            .unwrap();
            for key in wide_keys(print).into_iter().filter(|_| id <= 2) {
                tx.execute(
                    "INSERT INTO story_bands (band_key, article_id) VALUES (?1, ?2)",
                    [key, id],
                )
                .unwrap();
            }
        }
        tx.execute("UPDATE story_index SET through = 2", [])
            .unwrap();
        // Only the upgrade to 22 to run, as `Store::open` runs it.
        assert!(MIGRATIONS[21].contains("story_prints_compact"));
        tx.pragma_update(None, "user_version", 21).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            query(&s, "SELECT min(length(fingerprint)) FROM story_prints"),
            292
        );
        assert!(
            query(
                &s,
                "SELECT count(*) FROM story_bands WHERE band_key > 2147483647"
            ) > 0
        );
    }
    let mut s = open(&path);
    assert_eq!(s.schema_version().unwrap(), 22);
    assert_eq!(MIGRATIONS.len(), 22);
    for (id, print) in (1..).zip(&prints) {
        let stored = stored_print(&s, id);
        assert_eq!(stored, print.to_bytes(), "article {id}");
        assert!(stored.len() < 292);
        assert_eq!(Fingerprint::from_bytes(&stored).as_ref(), Ok(print));
    }
    // The table holds exactly the new keys of the articles it held.
    let mut want: Vec<(i64, i64)> = (1..)
        .zip(&prints[..2])
        .flat_map(|(id, p)| crate::dedup::story::index_keys(p).map(move |k| (i64::from(k), id)))
        .collect();
    want.sort_unstable();
    assert!(want.len() > 2 * BANDS, "the wire report has fact keys");
    let mut st = s
        .conn
        .prepare("SELECT band_key, article_id FROM story_bands ORDER BY 1, 2")
        .unwrap();
    let rows: Vec<(i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    drop(st);
    assert_eq!(rows, want);
    // Every key fits in 32 bits.
    assert!(rows.iter().all(|(k, _)| i32::try_from(*k).is_ok()));
    // Copies arriving after the upgrade find them, in the table tier and
    // in the recent one.
    s.record_fetch(&fetch(4, "second", &copy(1), true)).unwrap();
    assert_eq!(story_of(&s, "second"), story_of(&s, "first"));
    let trees = format!("{OTHER}\n\nShare this article");
    s.record_fetch(&fetch(4, "trees", &trees, true)).unwrap();
    assert_eq!(story_of(&s, "trees"), story_of(&s, "other"));
    assert_ne!(story_of(&s, "trees"), story_of(&s, "first"));
}
