//! Tombstones of pruned entries: a feed that keeps listing an old pruned
//! entry never gets it back, however long it lists it; the tombstones of
//! entries a feed stopped listing go after `tombstone_max_age`, so the
//! table stays bounded; a feed that answers "not modified" or whose
//! document was not read whole keeps its tombstones. Real ingest and real
//! retention on a real SQLite file, over 120 simulated days.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use tributary::config::Config;
use tributary::model::FeedId;
use tributary::store::{FetchRecord, Outcome, PrunePolicy, Store};

use crate::util::*;

const DAYS: i64 = 120;
const WINDOW_DAYS: u64 = 30;

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap() + chrono::Duration::days(d)
}

/// The feed's daily items listed on day `d`: the last five.
fn rolling(name: &str, d: i64) -> Vec<String> {
    ((d - 4).max(0)..=d)
        .map(|i| format!("{name} item {i}"))
        .collect()
}

fn record(feed: FeedId, name: &str, titles: &[String], now: DateTime<Utc>) -> FetchRecord {
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    fetch_record(feed, name, &titles, now)
}

fn count(store: &Store, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(store.path()).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn tombstones(store: &Store, feed: FeedId) -> i64 {
    count(
        store,
        &format!(
            "SELECT count(*) FROM entry_tombstones WHERE feed_id = {}",
            feed.0
        ),
    )
}

/// Runs the 120 days with `max_per_feed = 3` and the given tombstone
/// rule; returns the tombstones left per feed (keeps, drops, quiet, noted).
fn simulate(tombstone_max_age: Option<Duration>) -> [i64; 4] {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::parse(
        "[store]\npath = \"t.db\"\n\
         [[feeds]]\nname = \"keeps\"\nurl = \"https://keeps.example/feed\"\n\
         [[feeds]]\nname = \"drops\"\nurl = \"https://drops.example/feed\"\n\
         [[feeds]]\nname = \"quiet\"\nurl = \"https://quiet.example/feed\"\n\
         [[feeds]]\nname = \"noted\"\nurl = \"https://noted.example/feed\"\n",
        &dir.path().join("t.toml"),
    )
    .unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    store
        .reconcile(&tributary::jobs::feed_specs(&cfg), day(-2))
        .unwrap();
    let id = |s: &Store, n: &str| s.feed_by_name(n).unwrap().unwrap().id;
    let (keeps, drops, quiet, noted) = (
        id(&store, "keeps"),
        id(&store, "drops"),
        id(&store, "quiet"),
        id(&store, "noted"),
    );
    let policy = PrunePolicy {
        max_per_feed: Some(3),
        tombstone_max_age,
        fetch_log_max_age: Some(Duration::from_secs(90 * 86_400)),
        ..PrunePolicy::default()
    };
    let pinned = "keeps pinned announcement".to_string();
    let noted_items: Vec<String> = (0..6).map(|i| format!("noted item {i}")).collect();
    let quiet_items: Vec<String> = (0..6).map(|i| format!("quiet item {i}")).collect();
    // The pinned entry is the oldest of its feed.
    let r = store.record_fetches(&[record(
        keeps,
        "keeps",
        std::slice::from_ref(&pinned),
        day(-1),
    )]);
    assert_eq!(r[0].as_ref().unwrap().new, 1);
    let mut pinned_pruned_on = None;
    for d in 0..DAYS {
        let now = day(d);
        let mut listed = rolling("keeps", d);
        listed.push(pinned.clone());
        let mut recs = vec![
            record(keeps, "keeps", &listed, now),
            record(drops, "drops", &rolling("drops", d), now),
        ];
        if d == 0 {
            recs.push(record(quiet, "quiet", &quiet_items, now));
            recs.push(record(noted, "noted", &noted_items, now));
        } else {
            // "Not modified": the same document, still listing all six.
            let mut nm = record(quiet, "quiet", &[], now);
            nm.outcome = Outcome::NotModified;
            nm.http_status = Some(304);
            nm.meta = None;
            recs.push(nm);
            // A document not read whole (a note on the fetch), which
            // listed only the newest three before the cut.
            let mut cut = record(noted, "noted", &noted_items[3..], now);
            cut.error = Some("only the first 3 entries kept; 3 more left out".into());
            recs.push(cut);
        }
        for r in store.record_fetches(&recs) {
            r.unwrap();
        }
        let stored = count(
            &store,
            &format!(
                "SELECT count(*) FROM entries WHERE feed_id = {} AND title = '{pinned}'",
                keeps.0
            ),
        );
        if pinned_pruned_on.is_some() {
            assert_eq!(stored, 0, "day {d}: the pinned entry came back");
        }
        store
            .prune(&policy, now + chrono::Duration::hours(1))
            .unwrap();
        if pinned_pruned_on.is_none()
            && count(
                &store,
                &format!("SELECT count(*) FROM entries WHERE title = '{pinned}'"),
            ) == 0
        {
            pinned_pruned_on = Some(d);
        }
    }
    // Day 2: three newer entries of the feed are stored.
    assert_eq!(pinned_pruned_on, Some(2));
    // Still pinned, still listed, still a tombstone.
    assert_eq!(
        count(
            &store,
            &format!(
                "SELECT count(*) FROM entry_tombstones WHERE feed_id = {} AND entry_key = 'guid:{pinned}'",
                keeps.0
            )
        ),
        1
    );
    [
        tombstones(&store, keeps),
        tombstones(&store, drops),
        tombstones(&store, quiet),
        tombstones(&store, noted),
    ]
}

#[test]
fn tombstones_stay_while_listed_and_go_once_unlisted_for_long_enough() {
    let without = simulate(None);
    let with = simulate(Some(Duration::from_secs(WINDOW_DAYS * 86_400)));
    println!(
        "tombstones after {DAYS} days (keeps, drops, quiet, noted): {without:?} kept forever, {with:?} with a {WINDOW_DAYS}-day rule"
    );
    // Without the rule every pruned entry stays a tombstone: one a day.
    assert!(without[1] >= DAYS - 4, "{without:?}");
    // With it a feed holds the tombstones of what it listed within the
    // window (five listed, three stored: the window's days plus a few).
    let bound = WINDOW_DAYS as i64 + 5;
    assert!(
        with[1] <= bound && with[1] >= WINDOW_DAYS as i64 - 5,
        "{with:?}"
    );
    // The pinned entry's tombstone is one more.
    assert!(with[0] <= bound + 1 && with[0] >= 2, "{with:?}");
    // "Not modified" and cut documents are no evidence: all kept.
    assert_eq!(with[2], 3);
    assert_eq!(with[3], 3);
}
