//! The store shared by the tasks of an async program (the daemon, a
//! `tributary fetch` round, the full-text worker): one connection behind a
//! lock, used on the blocking thread pool, and fetch results written with
//! group commit.

use std::sync::{Arc, Mutex};

use super::{Applied, FetchRecord, Store};

/// The store behind a lock, shared by the tasks of a refresh round; writes
/// run on the blocking pool one at a time (SQLite has one writer anyway).
///
/// Fetch results are written with group commit ([`SharedStore::record`]):
/// each result joins a queue, and one writer task on the blocking pool
/// writes everything queued in one transaction (a failing fetch is retried
/// alone, see `Store::record_fetches`), then whatever gathered meanwhile,
/// until the queue is empty. While one group commits, the next one
/// gathers; nothing waits for a batch to fill, so a lone fetch is written
/// at once. At most one writer task exists: a task per fetch made a round
/// of 1,000 answers 304 wake 1,000 blocking threads, nearly all of which
/// found their fetch already written.
#[derive(Clone)]
pub struct SharedStore(Arc<Shared>);

struct Shared {
    store: Mutex<Store>,
    queue: Mutex<Queue>,
}

/// Fetch results waiting to be written.
#[derive(Default)]
struct Queue {
    waiting: Vec<Queued>,
    /// Whether a writer task exists that will take `waiting`.
    writer: bool,
}

/// A fetch result waiting to be written, and where its outcome goes.
type Queued = (
    FetchRecord,
    tokio::sync::oneshot::Sender<super::Result<Applied>>,
);

impl SharedStore {
    /// Shares `store`.
    pub fn new(store: Store) -> SharedStore {
        SharedStore(Arc::new(Shared {
            store: Mutex::new(store),
            queue: Mutex::new(Queue::default()),
        }))
    }

    /// The store, unless another task still shares it.
    pub fn into_inner(self) -> Option<Store> {
        Arc::try_unwrap(self.0)
            .ok()
            .map(|s| s.store.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `f` with the store on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> super::Result<T>
    where
        F: FnOnce(&mut Store) -> super::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let inner = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.store)))
            .await
            .expect("store task panicked")
    }

    /// Stores one fetch, possibly in one transaction with others queued at
    /// the same time (see the type's docs).
    pub async fn record(&self, rec: FetchRecord) -> super::Result<Applied> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        let start_writer = {
            let mut queue = lock(&self.0.queue);
            queue.waiting.push((rec, done));
            !std::mem::replace(&mut queue.writer, true)
        };
        if start_writer {
            let inner = Arc::clone(&self.0);
            // Not awaited: the outcome comes through `done`. Should the
            // writer panic, the senders it held are dropped and their
            // callers get an error (below).
            tokio::task::spawn_blocking(move || write_queued(&inner));
        }
        outcome.await.unwrap_or_else(|_| {
            Err(super::StoreError::Group(
                "the store task ended early".into(),
            ))
        })
    }
}

/// The writer task: writes the queue group by group until it is empty.
fn write_queued(inner: &Shared) {
    /// Should the task panic: fails what is still queued (the callers get
    /// an error rather than wait for a writer that is gone) and lets the
    /// next fetch start a new writer.
    struct Done<'a>(&'a Shared);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            let mut queue = lock(&self.0.queue);
            queue.writer = false;
            queue.waiting.clear();
        }
    }
    let done = Done(inner);
    loop {
        // The store is taken per group, so other users of it (reading a
        // feed's known entries before processing a document) get their
        // turn between groups.
        let mut store = lock(&inner.store);
        let group = {
            let mut queue = lock(&inner.queue);
            if queue.waiting.is_empty() {
                // Under the queue's lock: a fetch queued after this sees
                // no writer and starts one.
                queue.writer = false;
                std::mem::forget(done);
                return;
            }
            std::mem::take(&mut queue.waiting)
        };
        let (recs, senders): (Vec<FetchRecord>, Vec<_>) = group.into_iter().unzip();
        let results = store.record_fetches(&recs);
        drop(store);
        for (sender, result) in senders.into_iter().zip(results) {
            // The caller may have gone (a cancelled refresh); the data is
            // stored either way.
            let _ = sender.send(result);
        }
    }
}

/// Locks `m`, even after a panic elsewhere (the store's state is SQLite's,
/// which a panic cannot leave half-written).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
