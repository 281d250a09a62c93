//! The write of one fetch, on a real SQLite file: entries added, updated
//! in place and left alone; a skipped entry that changed refused; guids
//! that change on every fetch; a feed moved after permanent redirects;
//! pruned entries that stay pruned.

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
