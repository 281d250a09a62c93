use chrono::{TimeZone, Utc};

use super::*;
use crate::store::ts;

/// A store with feeds `a` (tag `x`), `b` (tags `x`, `y`) and `c`.
fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db")).unwrap();
    for (name, tags) in [("a", "[\"x\"]"), ("b", "[\"x\",\"y\"]"), ("c", "[]")] {
        store
            .conn
            .execute(
                "INSERT INTO feeds (name, url, title, created_at) VALUES (?1, ?2, ?3, '2026-01-01T00:00:00Z')",
                params![name, format!("https://{name}.example/feed"), name.to_uppercase()],
            )
            .unwrap();
        store
            .conn
            .execute(
                "INSERT INTO feed_tags (feed_id, tag) SELECT (SELECT id FROM feeds WHERE name = ?1), value FROM json_each(?2)",
                params![name, tags],
            )
            .unwrap();
    }
    (dir, store)
}

fn minute(m: i64) -> String {
    ts(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(m))
}

/// Adds an article first seen at minute `seen`, published at minute
/// `published`, carried by `feeds` (in that order).
fn article(store: &Store, title: &str, seen: i64, published: i64, feeds: &[&str]) -> i64 {
    store
        .conn
        .execute(
            "INSERT INTO articles (url, canonical_url, title, content_text, content_hash, published_at, first_seen_at)
             VALUES (?1, ?1, ?2, ?3, ?2, ?4, ?5)",
            params![
                format!("https://news.example/{title}"),
                title,
                format!("text of {title}"),
                minute(published),
                minute(seen)
            ],
        )
        .unwrap();
    let id = store.conn.last_insert_rowid();
    // Articles written by hand enter the search index by hand.
    store
        .conn
        .execute(
            "INSERT INTO articles_fts (rowid, title, content_text) SELECT id, title, content_text FROM articles WHERE id = ?1",
            [id],
        )
        .unwrap();
    for (i, feed) in feeds.iter().enumerate() {
        store
            .conn
            .execute(
                "INSERT INTO entries (feed_id, entry_key, key_kind, url, article_id, match_reason, title,
                     content_hash, published_at, first_seen_at)
                 VALUES ((SELECT id FROM feeds WHERE name = ?1), ?2, 'guid', ?3, ?4, 'new', ?2, '', ?5, ?6)",
                params![
                    feed,
                    title,
                    format!("https://{feed}.example/{title}"),
                    id,
                    minute(published),
                    minute(seen + i as i64)
                ],
            )
            .unwrap();
    }
    id
}

fn story(store: &Store, articles: &[i64], story: i64) {
    for a in articles {
        store
            .conn
            .execute(
                "UPDATE articles SET story_id = ?2 WHERE id = ?1",
                params![a, story],
            )
            .unwrap();
    }
}

fn titles(store: &Store, query: &OutputQuery<'_>) -> Vec<String> {
    store
        .output_stories(query)
        .unwrap()
        .into_iter()
        .map(|s| s.lead.title)
        .collect()
}

fn everything(limit: usize) -> OutputQuery<'static> {
    OutputQuery {
        feeds: &[],
        tags: &[],
        order: OutputOrder::FirstSeen,
        limit,
        filter: None,
        labels: Default::default(),
    }
}

#[test]
fn orders_by_first_seen_or_published_with_id_breaking_ties() {
    let (_dir, s) = store();
    article(&s, "old-news-seen-late", 30, 1, &["a"]);
    article(&s, "fresh", 20, 20, &["a"]);
    article(&s, "tie-1", 10, 10, &["a"]);
    article(&s, "tie-2", 10, 10, &["a"]);
    assert_eq!(
        titles(&s, &everything(10)),
        ["old-news-seen-late", "fresh", "tie-2", "tie-1"]
    );
    let published = OutputQuery {
        order: OutputOrder::Published,
        ..everything(10)
    };
    assert_eq!(
        titles(&s, &published),
        ["fresh", "tie-2", "tie-1", "old-news-seen-late"]
    );
    assert_eq!(titles(&s, &everything(2)), ["old-news-seen-late", "fresh"]);
    assert!(titles(&s, &everything(0)).is_empty());
}

#[test]
fn selects_by_feed_name_or_tag() {
    let (_dir, s) = store();
    article(&s, "in-a", 1, 1, &["a"]);
    article(&s, "in-b", 2, 2, &["b"]);
    article(&s, "in-c", 3, 3, &["c"]);
    article(&s, "in-c-and-a", 4, 4, &["c", "a"]);
    let tag_y = ["y".to_string()];
    let feed_c = ["c".to_string()];
    let tag_x = ["x".to_string()];
    let q = |feeds: &'static [String], tags: &'static [String]| OutputQuery {
        feeds,
        tags,
        ..everything(10)
    };
    let leak = |v: &[String]| -> &'static [String] { Box::leak(v.to_vec().into_boxed_slice()) };
    assert_eq!(titles(&s, &q(&[], leak(&tag_y))), ["in-b"]);
    assert_eq!(titles(&s, &q(leak(&feed_c), &[])), ["in-c-and-a", "in-c"]);
    assert_eq!(
        titles(&s, &q(leak(&feed_c), leak(&tag_y))),
        ["in-c-and-a", "in-c", "in-b"]
    );
    assert_eq!(
        titles(&s, &q(&[], leak(&tag_x))),
        ["in-c-and-a", "in-b", "in-a"]
    );
    let unknown = ["nope".to_string()];
    assert!(titles(&s, &q(leak(&unknown), &[])).is_empty());
}

#[test]
fn sightings_name_every_feed_and_mark_the_selected() {
    let (_dir, s) = store();
    article(&s, "shared", 1, 1, &["c", "a"]);
    let tag_x = ["x".to_string()];
    let stories = s
        .output_stories(&OutputQuery {
            tags: &tag_x,
            ..everything(10)
        })
        .unwrap();
    let seen: Vec<(&str, bool)> = stories[0]
        .sightings
        .iter()
        .map(|x| (x.feed.name.as_str(), x.selected))
        .collect();
    assert_eq!(seen, [("c", false), ("a", true)]);
    assert_eq!(stories[0].sightings[1].feed.title.as_deref(), Some("A"));
    assert_eq!(
        stories[0].sightings[1].url.as_deref(),
        Some("https://a.example/shared")
    );
}

#[test]
fn a_story_is_shown_once_through_its_earliest_article() {
    let (_dir, s) = store();
    let first = article(&s, "first-telling", 1, 1, &["a"]);
    article(&s, "unrelated", 2, 2, &["a"]);
    let follow_up = article(&s, "follow-up", 3, 3, &["b"]);
    story(&s, &[first, follow_up], 77);
    let stories = s.output_stories(&everything(10)).unwrap();
    let leads: Vec<&str> = stories.iter().map(|x| x.lead.title.as_str()).collect();
    // The story takes its newest article's place, told by its first.
    assert_eq!(leads, ["first-telling", "unrelated"]);
    let feeds: Vec<(&str, i64)> = stories[0]
        .sightings
        .iter()
        .map(|x| (x.feed.name.as_str(), x.article.0))
        .collect();
    assert_eq!(feeds, [("a", first), ("b", follow_up)]);
    // Limits count stories, not articles.
    assert_eq!(titles(&s, &everything(1)), ["first-telling"]);
    // Outside the first article's feeds, the story is told by the next.
    let tag_y = ["y".to_string()];
    let q = OutputQuery {
        tags: &tag_y,
        ..everything(10)
    };
    assert_eq!(titles(&s, &q), ["follow-up"]);
}

#[test]
fn the_filter_sees_title_and_text() {
    let (_dir, s) = store();
    article(&s, "rust-news", 1, 1, &["a"]);
    article(&s, "other", 2, 2, &["a"]);
    article(&s, "more-other", 3, 3, &["a"]);
    let only_rust = |title: &str, text: &str| title.contains("rust") && text.contains("text of");
    let q = OutputQuery {
        filter: Some(&only_rust),
        ..everything(10)
    };
    assert_eq!(titles(&s, &q), ["rust-news"]);
    let none = |_: &str, _: &str| false;
    let q = OutputQuery {
        filter: Some(&none),
        ..everything(10)
    };
    assert!(titles(&s, &q).is_empty());
}

#[test]
fn a_sparse_selection_is_found_past_the_scan_budget() {
    let (_dir, s) = store();
    article(&s, "rare-old", 0, 0, &["c"]);
    s.conn.execute_batch("BEGIN").unwrap();
    for i in 0..(SCAN_BUDGET as i64 + 2 * SCAN_PAGE as i64) {
        article(&s, &format!("busy-{i}"), 10 + i, 10 + i, &["a"]);
    }
    s.conn.execute_batch("COMMIT").unwrap();
    article(&s, "rare-new", 100_000, 100_000, &["c"]);
    let feed_c = ["c".to_string()];
    let q = OutputQuery {
        feeds: &feed_c,
        ..everything(5)
    };
    assert_eq!(titles(&s, &q), ["rare-new", "rare-old"]);
}

#[test]
fn the_generation_moves_only_when_shown_content_changes() {
    let (_dir, s) = store();
    // Written by hand, without the writer's bump for what it adds (see
    // `ingest::tests::a_write_that_adds_entries_moves_the_content_generation_once`).
    let id = article(&s, "one", 1, 1, &["a"]);
    let g1 = s.content_generation().unwrap();
    // A fetch that changes nothing shown: same title, fetch state, a log row.
    s.conn
        .execute_batch(
            "UPDATE feeds SET title = title, site_url = site_url, last_fetch_at = 'x', status = 'ok';
             UPDATE entries SET url = url, first_seen_at = first_seen_at;
             INSERT INTO fetch_log (feed_id, started_at, url, outcome) VALUES (1, 'x', 'u', 'not_modified');",
        )
        .unwrap();
    assert_eq!(s.content_generation().unwrap(), g1);
    for change in [
        "UPDATE feeds SET title = 'New title' WHERE name = 'a'",
        "UPDATE articles SET content_text = 'edited' WHERE id = 1",
        "UPDATE articles SET story_id = 5 WHERE id = 1",
        "DELETE FROM feed_tags WHERE feed_id = 1",
        "INSERT INTO feed_tags (feed_id, tag) VALUES (1, 'z')",
    ] {
        let before = s.content_generation().unwrap();
        s.conn.execute_batch(change).unwrap();
        assert!(s.content_generation().unwrap() > before, "{change}");
    }
    let before = s.content_generation().unwrap();
    s.conn
        .execute("DELETE FROM entries WHERE article_id = ?1", [id])
        .unwrap();
    assert!(s.content_generation().unwrap() > before);
}

#[test]
fn output_queries_use_the_indexes() {
    let (_dir, s) = store();
    for i in 0..50 {
        article(&s, &format!("t{i}"), i, i, &["a", "b"]);
    }
    let plans = s.output_query_plans().unwrap();
    let all = plans.join("\n");
    for label in ["latest", "selection", "sparse selection", "story"] {
        assert!(all.contains(&format!("{label}: ")), "{all}");
    }
    for line in &plans {
        let step = line.split_once(": ").unwrap().1;
        let table_scan = step.starts_with("SCAN ") && !step.contains("INDEX");
        assert!(!table_scan, "a full table scan: {line}\n{all}");
        if !line.starts_with("sparse selection") {
            assert!(!step.contains("TEMP B-TREE"), "a sort: {line}\n{all}");
        }
    }
    assert!(all.contains("latest: SEARCH articles USING COVERING INDEX articles_by_first_seen"));
    assert!(all.contains("latest: SEARCH articles USING COVERING INDEX articles_by_published"));
    assert!(
        all.contains("INDEX articles_by_story (story_id=?)"),
        "{all}"
    );
}
