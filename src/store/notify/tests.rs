use std::path::Path;

use chrono::Duration;

use super::super::story::tests::{copy, fetch, flushing_at, now, query, OTHER, REPORT, THIRD};
use super::*;
use crate::config::Config;

/// A store with feeds f1 to f4 and the `[[notify]]` targets `notify`.
fn store(notify: &str) -> (tempfile::TempDir, Store) {
    let (dir, mut s) = flushing_at(1_000);
    let mut text = String::new();
    for i in 1..=4 {
        text.push_str(&format!(
            "[[feeds]]\nname = \"f{i}\"\nurl = \"https://f{i}.example/\"\n"
        ));
    }
    text.push_str(notify);
    let c = Config::parse(&text, Path::new("/etc/tributary/t.toml")).unwrap();
    s.set_notify_targets(&c.notify);
    (dir, s)
}

const HOOK: &str =
    "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"https://h.example/\"\n";

#[test]
fn the_outbox_commits_and_rolls_back_with_the_articles_it_announces() {
    let (_d, mut s) = store(HOOK);
    // The feed's first fetch is its backlog: stored, not announced.
    s.record_fetch(&fetch(1, "a", OTHER, false)).unwrap();
    assert_eq!(query(&s, "SELECT count(*) FROM entries"), 1);
    assert_eq!(query(&s, "SELECT count(*) FROM notify_outbox"), 0);
    s.record_fetch(&fetch(1, "b", THIRD, false)).unwrap();
    assert_eq!(
        query(
            &s,
            "SELECT count(*) FROM notify_outbox WHERE kind = 'article'"
        ),
        1
    );
    // A fetch the store refuses leaves neither its entries nor their
    // notifications behind.
    let mut bad = fetch(1, "c", REPORT, false);
    bad.kept = vec!["not stored".into()];
    assert!(s.record_fetch(&bad).is_err());
    assert_eq!(query(&s, "SELECT count(*) FROM entries"), 2);
    assert_eq!(query(&s, "SELECT count(*) FROM notify_outbox"), 1);
    let b = query(
        &s,
        "SELECT article_id FROM entries WHERE entry_key LIKE '%/b'",
    );
    // A feed whose entries retention removed is not new: what it brings
    // next is announced.
    s.conn
        .execute("DELETE FROM entries WHERE feed_id = 1", [])
        .unwrap();
    s.record_fetch(&fetch(1, "d", &copy(5), false)).unwrap();
    assert_eq!(query(&s, "SELECT count(*) FROM notify_outbox"), 2);
    s.conn
        .execute("DELETE FROM notify_outbox WHERE id = 2", [])
        .unwrap();
    let rows = s.notify_pending("hook", 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].article_id, Some(b));
    assert_eq!(rows[0].attempts, 0);
}

#[test]
fn an_article_or_story_is_announced_once_however_many_feeds_carry_it() {
    let story = "[[notify]]\nname = \"big\"\nkind = \"webhook\"\nurl = \"https://h.example/\"\nmin_story_feeds = 3\n";
    let (_d, mut s) = store(&format!("{HOOK}{story}"));
    for feed in 1..=4 {
        s.record_fetch(&fetch(feed, "seed", OTHER, true)).unwrap();
    }
    assert_eq!(query(&s, "SELECT count(*) FROM notify_outbox"), 0);
    // The same report through three feeds, then a fourth: one story.
    s.record_fetch(&fetch(1, "r", REPORT, true)).unwrap();
    s.record_fetch(&fetch(2, "r", &copy(1), true)).unwrap();
    assert_eq!(
        query(
            &s,
            "SELECT count(*) FROM notify_outbox WHERE target = 'big'"
        ),
        0
    );
    s.record_fetch(&fetch(3, "r", &copy(2), true)).unwrap();
    s.record_fetch(&fetch(4, "r", &copy(3), true)).unwrap();
    let story = "(SELECT story_id FROM articles WHERE id = (SELECT max(id) FROM articles))";
    let members = format!("SELECT count(*) FROM articles WHERE story_id = {story}");
    assert_eq!(query(&s, &members), 4, "the four copies are one story");
    let big = s.notify_pending("big", 10).unwrap();
    assert_eq!(big.len(), 1, "{big:?}");
    assert_eq!(big[0].story_feeds, Some(3));
    // The lead (first article) of the story is the one announced.
    let lead = format!("SELECT min(id) FROM articles WHERE story_id = {story}");
    assert_eq!(big[0].article_id, Some(query(&s, &lead)));
    // Each article once for the plain target (four articles: the copies differ).
    assert_eq!(
        query(
            &s,
            "SELECT count(*) FROM notify_outbox WHERE target = 'hook'"
        ),
        4
    );
    // The same article again from another feed adds no row.
    let mut same = fetch(2, "r", REPORT, true);
    same.entries[0].key = "other-key".into();
    same.entries[0].url = Some("https://f1.example/r".into());
    same.entries[0].canonical_url = same.entries[0].url.clone();
    s.record_fetch(&same).unwrap();
    assert_eq!(
        query(
            &s,
            "SELECT count(*) FROM notify_outbox WHERE target = 'hook'"
        ),
        4
    );
}

fn failure(feed: i64, at: chrono::DateTime<Utc>) -> FetchRecord {
    let mut r = fetch(feed, "x", OTHER, false);
    r.entries.clear();
    r.outcome = Outcome::Transient;
    r.http_status = Some(500);
    r.error = Some("HTTP 500".into());
    r.started_at = at;
    r.now = at;
    r
}

#[test]
fn a_failing_feed_is_announced_once_per_outage_after_the_set_time() {
    let (_d, mut s) = store(
        "[[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"https://h.example/\"\narticles = false\n\
         [notify.health]\nfailing_for = \"1h\"\n",
    );
    s.record_fetch(&fetch(1, "a", OTHER, false)).unwrap();
    let events = |s: &Store| {
        query(
            s,
            "SELECT count(*) FROM notify_outbox WHERE kind = 'health'",
        )
    };
    s.record_fetch(&failure(1, now() + Duration::minutes(30)))
        .unwrap();
    assert_eq!(events(&s), 0, "not failing long enough");
    s.record_fetch(&failure(1, now() + Duration::hours(2)))
        .unwrap();
    assert_eq!(events(&s), 1);
    s.record_fetch(&failure(1, now() + Duration::hours(3)))
        .unwrap();
    assert_eq!(events(&s), 1, "one event per outage");
    let row = &s.notify_pending("ops", 10).unwrap()[0];
    assert_eq!(
        row.event,
        Some(HealthEvent::Failing {
            feed: "f1".into(),
            since: now(),
            error: Some("HTTP 500".into()),
        })
    );
    // Back, then failing again: a new outage.
    let mut ok = fetch(1, "b", THIRD, false);
    (ok.started_at, ok.now) = (now() + Duration::hours(4), now() + Duration::hours(4));
    s.record_fetch(&ok).unwrap();
    s.record_fetch(&failure(1, now() + Duration::hours(6)))
        .unwrap();
    assert_eq!(events(&s), 2);
    // A feed that never worked fails from when it was added, once.
    s.record_fetch(&failure(2, now() + Duration::hours(1)))
        .unwrap();
    s.record_fetch(&failure(2, now() + Duration::hours(2)))
        .unwrap();
    s.record_fetch(&failure(2, now() + Duration::hours(3)))
        .unwrap();
    assert_eq!(events(&s), 3);
    // A gone feed, for the targets whose scope covers it.
    let (_d, mut s) = store(
        "[[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"https://h.example/\"\n\
         [notify.health]\ngone = true\n\
         [[notify]]\nname = \"f3-only\"\nkind = \"webhook\"\nurl = \"https://h.example/\"\n\
         feeds = [\"f3\"]\n[notify.health]\ngone = true\n",
    );
    let mut gone = failure(2, now());
    gone.outcome = Outcome::Gone;
    s.record_fetch(&gone).unwrap();
    assert_eq!(events(&s), 1);
    assert_eq!(s.notify_pending("ops", 10).unwrap().len(), 1);
    assert!(s.notify_pending("f3-only", 10).unwrap().is_empty());
}

#[test]
fn attempts_are_logged_and_delivered_rows_pruned_by_age() {
    let (_d, mut s) = store(HOOK);
    s.record_fetch(&fetch(1, "a", OTHER, false)).unwrap();
    s.record_fetch(&fetch(1, "b", THIRD, false)).unwrap();
    s.record_fetch(&fetch(1, "c", REPORT, false)).unwrap();
    let ids: Vec<i64> = s
        .notify_pending("hook", 10)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids.len(), 2);
    let retry = now() + Duration::seconds(30);
    let attempt = |result| Attempt {
        target: "hook",
        rows: &ids,
        message_key: "k",
        at: now(),
        duration_ms: 5,
        result,
    };
    s.notify_attempted(&attempt(Err(("HTTP 503".into(), retry))))
        .unwrap();
    let rows = s.notify_pending("hook", 10).unwrap();
    assert!(rows
        .iter()
        .all(|r| r.attempts == 1 && r.retry_at == Some(retry)));
    let q = &s.notify_queues().unwrap()[0];
    assert_eq!(
        (q.pending, q.messages_failed, q.retry_at),
        (2, 1, Some(retry))
    );
    assert_eq!(q.last_error.as_deref(), Some("HTTP 503"));
    s.notify_attempted(&attempt(Ok(()))).unwrap();
    assert!(s.notify_pending("hook", 10).unwrap().is_empty());
    let q = &s.notify_queues().unwrap()[0];
    assert_eq!(
        (q.pending, q.delivered, q.messages_ok, q.last_error.clone()),
        (0, 2, 1, None)
    );
    assert_eq!(
        s.notify_sent_since("hook", now() - Duration::minutes(1))
            .unwrap()
            .len(),
        2
    );
    // Retention: delivered rows and the log go once older than the bound.
    assert_eq!(s.prune_notifications(&ts(now())).unwrap(), 0);
    assert_eq!(
        s.prune_notifications(&ts(now() + Duration::seconds(1)))
            .unwrap(),
        4
    );
    assert_eq!(query(&s, "SELECT count(*) FROM notify_outbox"), 0);
}
