use super::*;

/// A store with one feed holding `n` entries, one article each (with a
/// story fingerprint), the entry `i` first seen `n - i` days before `now`.
fn store_with(n: i64, now: DateTime<Utc>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    s.conn
        .execute(
            "INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'f', 'https://f.example/', ?1)",
            [ts(now)],
        )
        .unwrap();
    for i in 1..=n {
        let seen = ts(now - chrono::Duration::days(n - i));
        s.conn
            .execute(
                "INSERT INTO articles (id, title, content_text, content_hash, published_at, first_seen_at, story_id)
                 VALUES (?1, 't' || ?1, 'text', ?1, ?2, ?2, ?1)",
                params![i, seen],
            )
            .unwrap();
        s.conn
            .execute(
                "INSERT INTO entries (feed_id, entry_key, key_kind, article_id, match_reason, title, content_hash, published_at, first_seen_at)
                 VALUES (1, 'guid:' || ?1, 'guid', ?1, 'new', 't', ?1, ?2, ?2)",
                params![i, seen],
            )
            .unwrap();
        s.conn
            .execute(
                "INSERT INTO story_prints (article_id, fingerprint) VALUES (?1, x'01')",
                [i],
            )
            .unwrap();
    }
    // Articles written by hand enter the search index by hand.
    s.conn
        .execute_batch("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        .unwrap();
    (dir, s)
}

fn count(s: &Store, sql: &str) -> i64 {
    s.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn max_age_and_max_per_feed_prune_and_tombstone() {
    let now = Utc::now();
    let (_d, mut s) = store_with(10, now);
    // Articles 2 and 3 are one story named after 2.
    s.conn
        .execute_batch("UPDATE articles SET story_id = 2 WHERE id IN (2, 3)")
        .unwrap();
    let policy = PrunePolicy {
        max_age: Some(Duration::from_secs(8 * 86_400 + 60)),
        ..PrunePolicy::default()
    };
    let r = s.prune(&policy, now).unwrap();
    // Entries 1 (9 days) goes; 2 (8 days) stays.
    assert_eq!((r.entries, r.articles), (1, 1));
    let policy = PrunePolicy {
        max_per_feed: Some(7),
        ..PrunePolicy::default()
    };
    let r = s.prune(&policy, now).unwrap();
    assert_eq!((r.entries, r.articles, r.stories_renamed), (2, 2, 0));
    assert_eq!(count(&s, "SELECT count(*) FROM entries"), 7);
    assert_eq!(count(&s, "SELECT count(*) FROM entry_tombstones"), 3);
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'text'"
        ),
        7
    );
    assert_eq!(count(&s, "SELECT min(id) FROM articles"), 4);
    // A pruned article's fingerprint goes with it.
    assert_eq!(count(&s, "SELECT count(*) FROM story_prints"), 7);
    assert_eq!(count(&s, "SELECT min(article_id) FROM story_prints"), 4);
    // Pruning again changes nothing.
    assert_eq!(s.prune(&policy, now).unwrap().entries, 0);
}

#[test]
fn the_fetch_log_loses_old_rows_in_batches_and_nothing_else() {
    let now = Utc::now();
    let (_d, mut s) = store_with(3, now);
    // 12,000 fetches an hour apart, oldest first (more than two
    // batches to delete), then one that started 40 days ago but ended
    // after a newer one (out of id order: it waits for the next run).
    let n = 12_000;
    for i in 0..n {
        s.conn
            .execute(
                "INSERT INTO fetch_log (feed_id, started_at, url, outcome) VALUES (1, ?1, 'u', 'ok')",
                [ts(now - chrono::Duration::hours(n - i))],
            )
            .unwrap();
    }
    s.conn
        .execute(
            "INSERT INTO fetch_log (feed_id, started_at, url, outcome) VALUES (1, ?1, 'u', 'ok')",
            [ts(now - chrono::Duration::days(40))],
        )
        .unwrap();
    let policy = PrunePolicy {
        fetch_log_max_age: Some(Duration::from_secs(30 * 86_400)),
        ..PrunePolicy::default()
    };
    let r = s.prune(&policy, now).unwrap();
    // Fetches started 30 days ago or later: hours 1..=720 before now.
    assert_eq!(r.fetch_log, (n - 720) as usize);
    assert_eq!(count(&s, "SELECT count(*) FROM fetch_log"), 721);
    let cutoff = ts(now - chrono::Duration::days(30));
    assert_eq!(
        s.conn
            .query_row(
                "SELECT count(*) FROM fetch_log WHERE started_at < ?1",
                [&cutoff],
                |r| r.get::<_, i64>(0)
            )
            .unwrap(),
        1,
        "only the row out of id order is left"
    );
    // Entries have no limit here: all stay.
    assert_eq!((r.entries, r.articles), (0, 0));
    assert_eq!(count(&s, "SELECT count(*) FROM entries"), 3);
    // Run again at once: nothing more (the row out of order sits after
    // rows that stay).
    let r = s.prune(&policy, now).unwrap();
    assert_eq!(r.fetch_log, 0);
    // Without a limit the log is left alone.
    let r = s
        .prune(&PrunePolicy::default(), now + chrono::Duration::days(365))
        .unwrap();
    assert_eq!(r.fetch_log, 0);
    assert_eq!(count(&s, "SELECT count(*) FROM fetch_log"), 721);
    // A year on, every row is older than the limit.
    let r = s.prune(&policy, now + chrono::Duration::days(365)).unwrap();
    assert_eq!(r.fetch_log, 721);
}

#[test]
fn a_story_keeps_going_under_its_next_article() {
    let now = Utc::now();
    let (_d, mut s) = store_with(4, now);
    s.conn
        .execute_batch("UPDATE articles SET story_id = 1, story_match_id = 1 WHERE id IN (1, 3, 4)")
        .unwrap();
    let r = s
        .prune(
            &PrunePolicy {
                max_per_feed: Some(3),
                ..PrunePolicy::default()
            },
            now,
        )
        .unwrap();
    assert_eq!((r.entries, r.stories_renamed), (1, 1));
    assert_eq!(
        count(&s, "SELECT count(*) FROM articles WHERE story_id = 3"),
        2
    );
    assert_eq!(
        count(&s, "SELECT count(*) FROM articles WHERE story_id = 1"),
        0
    );
}

#[test]
fn nothing_after_the_keep_bound_is_pruned() {
    let now = Utc::now();
    let (_d, mut s) = store_with(10, now);
    let policy = PrunePolicy {
        max_per_feed: Some(1),
        keep_first_seen_after: Some(now - chrono::Duration::days(5) - chrono::Duration::hours(1)),
        ..PrunePolicy::default()
    };
    let r = s.prune(&policy, now).unwrap();
    // Entries first seen 9..=6 days ago go; 5 days ago and newer stay.
    assert_eq!(r.entries, 4);
    assert_eq!(count(&s, "SELECT count(*) FROM entries"), 6);
}

#[test]
fn compaction_switches_to_incremental_once_free_space_is_large() {
    let now = Utc::now();
    let (_d, mut s) = store_with(1, now);
    let big = "x".repeat(4000);
    for i in 0..3000 {
        s.conn
            .execute(
                "INSERT INTO feed_tags (feed_id, tag) VALUES (1, ?1)",
                [format!("{i}{big}")],
            )
            .unwrap();
    }
    s.conn.execute("DELETE FROM feed_tags", []).unwrap();
    let c = s.compact().unwrap();
    assert_eq!(c.vacuum, "full");
    assert!(c.checkpointed);
    assert!(c.bytes_after < c.bytes_before / 4, "{c:?}");
    assert_eq!(count(&s, "PRAGMA auto_vacuum"), 2);
    for i in 0..100 {
        s.conn
            .execute(
                "INSERT INTO feed_tags (feed_id, tag) VALUES (1, ?1)",
                [format!("{i}{big}")],
            )
            .unwrap();
    }
    s.conn.execute("DELETE FROM feed_tags", []).unwrap();
    let c = s.compact().unwrap();
    assert_eq!(c.vacuum, "incremental");
    assert_eq!(count(&s, "PRAGMA freelist_count"), 0);
}

#[test]
fn vacuum_into_makes_a_sound_copy() {
    let now = Utc::now();
    let (d, s) = store_with(3, now);
    let copy = d.path().join("copy.db");
    s.vacuum_into(&copy).unwrap();
    let c = Store::open_read_only(&copy).unwrap();
    assert!(c.integrity_ok().unwrap());
    assert_eq!(count(&c, "SELECT count(*) FROM entries"), 3);
    assert!(s.vacuum_into(&copy).is_err());
}
