//! Group commit on a real SQLite file: a small group waits for documents
//! still being prepared, until half of those in flight are queued, and
//! never longer than the linger.

use std::time::Duration;

use super::*;
use crate::store::story::tests::{fetch, flushing_at, REPORT};

fn count(store: &SharedStore) -> i64 {
    let inner = lock(&store.0.store);
    inner
        .conn
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_group_waits_for_documents_being_prepared_up_to_half_of_them() {
    let (_dir, s) = flushing_at(1_000);
    let store = SharedStore::new(s);
    let (first_prepared, second_prepared) = (store.preparing(), store.preparing());
    let first = tokio::spawn({
        let store = store.clone();
        async move { store.record(fetch(1, "a", REPORT, false)).await }
    });
    // Within the linger, the lone record waits for the two being prepared.
    tokio::time::sleep(LINGER / 4).await;
    assert_eq!(count(&store), 0, "written before the group gathered");
    // One of them joins: two queued, one still being prepared, and the
    // two are written together without waiting for the third.
    let second = store
        .record_prepared(fetch(2, "b", REPORT, false), Some(first_prepared))
        .await
        .unwrap();
    assert_eq!(second.new, 1);
    assert_eq!(first.await.unwrap().unwrap().new, 1);
    assert_eq!(count(&store), 2);
    drop(second_prepared);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_waits_at_most_the_linger_and_not_at_all_when_nothing_is_coming() {
    let (_dir, s) = flushing_at(1_000);
    let store = SharedStore::new(s);
    // Nothing being prepared: written at once (well within the linger,
    // however slow the machine, since nothing makes it wait).
    store.record(fetch(1, "a", REPORT, false)).await.unwrap();
    assert_eq!(count(&store), 1);
    // Documents that never come hold a record back for the linger only.
    let _forever = (store.preparing(), store.preparing());
    let started = std::time::Instant::now();
    let written = tokio::time::timeout(
        Duration::from_secs(30),
        store.record(fetch(2, "b", REPORT, false)),
    )
    .await
    .expect("written although a document is still being prepared");
    assert_eq!(written.unwrap().new, 1);
    assert!(started.elapsed() >= LINGER, "{:?}", started.elapsed());
}
