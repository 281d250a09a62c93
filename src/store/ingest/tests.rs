//! The write of one fetch, on a real SQLite file: entries added, updated
//! in place and left alone; a skipped entry that changed refused; guids
//! that change on every fetch; a feed moved after permanent redirects;
//! pruned entries that stay pruned; the content generation moved once per
//! write that adds entries.

use crate::store::story::tests::{fetch, flushing_at, OTHER, REPORT};
use crate::store::{Outcome, Store, StoreError};

fn one(s: &Store, sql: &str) -> i64 {
    s.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn text(s: &Store, sql: &str) -> Option<String> {
    s.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn an_entry_is_added_once_then_updated_in_place() {
    let (_dir, mut s) = flushing_at(1_000);
    let first = s.record_fetch(&fetch(1, "a", REPORT, false)).unwrap();
    assert_eq!((first.new, first.updated), (1, 0));
    let again = s.record_fetch(&fetch(1, "a", REPORT, false)).unwrap();
    assert_eq!((again.new, again.updated), (0, 0), "the same entry again");
    let changed = s.record_fetch(&fetch(1, "a", OTHER, false)).unwrap();
    assert_eq!((changed.new, changed.updated), (0, 1));
    assert_eq!(one(&s, "SELECT count(*) FROM entries"), 1);
    assert_eq!(one(&s, "SELECT update_count FROM entries"), 1);
    assert_eq!(
        text(&s, "SELECT content_text FROM articles").as_deref(),
        Some(OTHER)
    );
    // Every fetch has its log row, and the feed its state.
    assert_eq!(
        one(&s, "SELECT count(*) FROM fetch_log WHERE outcome = 'ok'"),
        3
    );
    assert_eq!(
        text(&s, "SELECT status FROM feeds WHERE id = 1").as_deref(),
        Some("ok")
    );
}

#[test]
fn a_skipped_entry_the_store_no_longer_holds_as_it_was_is_refused() {
    let (_dir, mut s) = flushing_at(1_000);
    s.record_fetch(&fetch(1, "a", REPORT, false)).unwrap();
    let mut skipped = fetch(1, "a", OTHER, false);
    skipped.entries[0].content_elided = true;
    let refused = s.record_fetch(&skipped).unwrap_err();
    assert!(
        matches!(refused, StoreError::ContentElided { ref key } if key.ends_with("/a")),
        "{refused}"
    );
    // Nothing of the refused fetch was written.
    assert_eq!(one(&s, "SELECT count(*) FROM fetch_log"), 1);
    // A skipped entry never stored is refused too.
    let mut unknown = fetch(1, "b", OTHER, false);
    unknown.entries[0].content_elided = true;
    assert!(matches!(
        s.record_fetch(&unknown),
        Err(StoreError::ContentElided { .. })
    ));
}

#[test]
fn guids_that_change_on_every_fetch_rekey_and_switch_the_feed_to_links() {
    let (_dir, mut s) = flushing_at(1_000);
    let mut rec = fetch(1, "a", REPORT, false);
    let mut second = rec.entries[0].clone();
    second.url = Some("https://f1.example/b".into());
    second.canonical_url = second.url.clone();
    second.key = "guid:b-1".into();
    second.guid = Some("b-1".into());
    rec.entries[0].key = "guid:a-1".into();
    rec.entries[0].guid = Some("a-1".into());
    rec.entries.push(second);
    s.record_fetch(&rec).unwrap();
    // One guid changed: re-keyed, the feed keeps guid identity.
    let mut one_change = rec.clone();
    one_change.entries[0].key = "guid:a-2".into();
    one_change.entries[0].guid = Some("a-2".into());
    let applied = s.record_fetch(&one_change).unwrap();
    assert_eq!((applied.new, applied.guid_changes), (0, 1));
    assert_eq!(
        text(&s, "SELECT identity_mode FROM feeds WHERE id = 1").as_deref(),
        Some("guid")
    );
    // Both changed: the feed switches to link identity.
    let mut both = one_change.clone();
    for (e, g) in both.entries.iter_mut().zip(["a-3", "b-3"]) {
        e.key = format!("guid:{g}");
        e.guid = Some(g.into());
    }
    let applied = s.record_fetch(&both).unwrap();
    assert_eq!((applied.new, applied.guid_changes), (0, 2));
    assert_eq!(
        text(&s, "SELECT identity_mode FROM feeds WHERE id = 1").as_deref(),
        Some("link")
    );
    assert_eq!(one(&s, "SELECT count(*) FROM entries"), 2);
}

#[test]
fn a_feed_moves_after_its_record_s_count_of_permanent_redirects() {
    let (_dir, mut s) = flushing_at(1_000);
    let moved = |moves_after: u32, held: bool| {
        let mut rec = fetch(2, "a", REPORT, false);
        rec.entries.clear();
        rec.outcome = Outcome::NotModified;
        rec.permanent_redirect = Some("https://new.example/feed".into());
        rec.moves_after = moves_after;
        rec.move_held = held;
        rec
    };
    for _ in 0..2 {
        assert_eq!(s.record_fetch(&moved(3, false)).unwrap().moved_to, None);
    }
    assert_eq!(
        s.record_fetch(&moved(3, false))
            .unwrap()
            .moved_to
            .as_deref(),
        Some("https://new.example/feed")
    );
    // Held: counted, never moved.
    for _ in 0..3 {
        assert_eq!(s.record_fetch(&moved(1, true)).unwrap().moved_to, None);
    }
    assert_eq!(one(&s, "SELECT redirect_streak FROM feeds WHERE id = 2"), 6);
    // A fetch without the redirect that reached the server resets the count.
    let mut plain = moved(3, false);
    plain.permanent_redirect = None;
    s.record_fetch(&plain).unwrap();
    assert_eq!(one(&s, "SELECT redirect_streak FROM feeds WHERE id = 2"), 0);
}

#[test]
fn a_pruned_entry_still_listed_stays_pruned() {
    let (_dir, mut s) = flushing_at(1_000);
    let rec = fetch(3, "a", REPORT, false);
    s.conn
        .execute(
            "INSERT INTO entry_tombstones (feed_id, entry_key, pruned_at, last_listed_at)
             VALUES (3, ?1, '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
            [&rec.entries[0].key],
        )
        .unwrap();
    let applied = s.record_fetch(&rec).unwrap();
    assert_eq!((applied.new, applied.tombstoned), (0, 1));
    assert_eq!(one(&s, "SELECT count(*) FROM entries"), 0);
    assert_eq!(
        text(&s, "SELECT last_listed_at FROM entry_tombstones").as_deref(),
        Some("2026-11-20T08:00:00Z")
    );
}

/// Words found by the search index in `title`, `content_text` and
/// `extracted_text` together.
fn found(s: &Store, query: &str) -> i64 {
    s.conn
        .query_row(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?1",
            [query],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn the_search_index_holds_what_the_articles_hold_however_a_group_writes_them() {
    let (_dir, mut s) = flushing_at(100_000);
    // One group: more new articles than one index statement takes, an
    // article with HTML (its text is not stored, only derived), one
    // without, and an article inserted and then updated in the same group.
    let mut records: Vec<_> = (0..super::INDEX_ROWS + 3)
        .map(|i| {
            fetch(
                1 + i as i64 % 4,
                &format!("n{i}"),
                &format!("{REPORT} item{i}"),
                false,
            )
        })
        .collect();
    let html = "<p>Ferries <b>resume</b> at dawn</p>";
    let e = &mut records[1].entries[0];
    e.content_html = Some(html.into());
    e.content_text = crate::clean::html_to_text(html);
    e.content_hash = crate::clean::content_hash(&e.title, &e.content_text);
    let mut changed = fetch(1, "n0", "Bridge closed for repairs", false);
    changed.entries[0].title = "Bridge closed".into();
    records.push(changed);
    for (i, applied) in s.record_fetches(&records).into_iter().enumerate() {
        applied.unwrap_or_else(|e| panic!("record {i}: {e}"));
    }
    let articles = super::INDEX_ROWS as i64 + 3;
    assert_eq!(one(&s, "SELECT count(*) FROM articles"), articles);
    assert_eq!(
        one(&s, "SELECT count(*) FROM articles WHERE content_text = ''"),
        1
    );
    // The index is exactly its content, the view `article_text` (FTS5
    // compares every indexed token with the content's).
    s.conn
        .execute(
            "INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .unwrap();
    assert_eq!(found(&s, "ferries AND dawn"), 1, "the derived text");
    assert_eq!(
        found(&s, &format!("item{}", super::INDEX_ROWS + 2)),
        1,
        "past the first statement"
    );
    assert_eq!(found(&s, "repairs AND title:bridge"), 1, "the update");
    assert_eq!(found(&s, "item0"), 0, "the text the update replaced");
    assert_eq!(
        found(&s, "item1"),
        0,
        "the HTML article's text replaced the report"
    );
}

#[test]
fn a_write_that_adds_entries_moves_the_content_generation_once() {
    let (_dir, mut s) = flushing_at(1_000);
    let g0 = s.content_generation().unwrap();
    let mut two = fetch(1, "a", REPORT, false);
    let mut second = two.entries[0].clone();
    second.key = "guid:https://f1.example/b".into();
    second.guid = Some("https://f1.example/b".into());
    second.url = Some("https://f1.example/b".into());
    second.canonical_url = second.url.clone();
    second.content_text = OTHER.into();
    second.content_hash ^= 1;
    two.entries.push(second);
    let applied = s.record_fetches(&[two.clone(), fetch(2, "c", OTHER, true)]);
    let news: Vec<usize> = applied.into_iter().map(|a| a.unwrap().new).collect();
    assert_eq!(news, [2, 1]);
    // One group, three entries and three articles: moved, and once.
    let g1 = s.content_generation().unwrap();
    assert_eq!(g1, g0 + 1);
    // The same entries again add nothing, and nothing shown changed.
    s.record_fetches(&[two]).pop().unwrap().unwrap();
    assert_eq!(s.content_generation().unwrap(), g1);
    // An entry that joins another feed's article is still something shown.
    let joined = s.record_fetch(&fetch(3, "c", OTHER, true)).unwrap();
    assert_eq!((joined.new, joined.merged), (1, 1));
    assert!(s.content_generation().unwrap() > g1);
}

#[test]
fn no_trigger_fires_on_inserting_entries_or_articles() {
    // An insert trigger makes each new row copy the pages it touches into
    // a statement journal (migration `WRITER_GENERATION`): the writer
    // moves the content generation itself instead.
    let (_dir, s) = flushing_at(1_000);
    let mut st = s
        .conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger'
               AND tbl_name IN ('entries', 'articles') AND sql LIKE '%AFTER INSERT ON%'",
        )
        .unwrap();
    let names: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(names.is_empty(), "{names:?}");
}
