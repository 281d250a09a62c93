//! Several fetches stored in one transaction (`Store::record_fetches`, what
//! `SharedStore::record` does when fetches finish together): each keeps its
//! own result, a fetch that cannot be stored fails alone, and the articles
//! of the group are searchable once it commits.

use chrono::{DateTime, TimeZone, Utc};
use tributary::config::Config;
use tributary::model::FeedId;
use tributary::store::{SearchLimits, Store};

use crate::util::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()
}

fn record(feed: FeedId, name: &str, titles: &[&str]) -> tributary::store::FetchRecord {
    fetch_record(feed, name, titles, now())
}

#[test]
fn a_group_keeps_each_fetch_apart_and_a_failure_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::parse(
        "[store]\npath = \"t.db\"\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/feed\"\n\
         [[feeds]]\nname = \"b\"\nurl = \"https://b.example/feed\"\n",
        &dir.path().join("t.toml"),
    )
    .unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    store
        .reconcile(&tributary::jobs::feed_specs(&cfg), now())
        .unwrap();
    let a = store.feed_by_name("a").unwrap().unwrap().id;
    let b = store.feed_by_name("b").unwrap().unwrap().id;

    // A whole group commits: both fetches' entries, counted apart.
    let results = store.record_fetches(&[
        record(a, "a", &["Harbour ferry resumes", "Bridge vote delayed"]),
        record(b, "b", &["Library opens late"]),
    ]);
    let news: Vec<usize> = results.iter().map(|r| r.as_ref().unwrap().new).collect();
    assert_eq!(news, [2, 1]);
    let hits = store
        .search("ferry OR library", 10, &SearchLimits::SERVER)
        .unwrap()
        .hits;
    let mut titles: Vec<&str> = hits.iter().map(|h| h.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["Harbour ferry resumes", "Library opens late"]);

    // A fetch for a feed the store does not have (its entries break a
    // foreign key) fails; the others of its group are still stored.
    let results = store.record_fetches(&[
        record(a, "a", &["Harbour ferry resumes", "Market moves indoors"]),
        record(FeedId(9_999), "ghost", &["Never stored"]),
        record(b, "b", &["Library opens late", "Pool closes for repairs"]),
    ]);
    assert_eq!(results[0].as_ref().unwrap().new, 1);
    assert!(results[1].is_err(), "{:?}", results[1]);
    assert_eq!(results[2].as_ref().unwrap().new, 1);
    let (_, entries, articles) = store.counts().unwrap();
    assert_eq!((entries, articles), (5, 5));
    assert!(store
        .search("never", 10, &SearchLimits::SERVER)
        .unwrap()
        .hits
        .is_empty());
    let hits = store
        .search("market OR pool", 10, &SearchLimits::SERVER)
        .unwrap()
        .hits;
    assert_eq!(hits.len(), 2);
    assert!(store.integrity_ok().unwrap());
}
