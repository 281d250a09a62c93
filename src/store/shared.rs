//! The store shared by the tasks of an async program (the daemon, a
//! `tributary fetch` round, the full-text worker): one connection behind a
//! lock, used on the blocking thread pool, and fetch results written with
//! group commit.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Applied, FetchRecord, Store};

/// The store behind a lock, shared by the tasks of a refresh round; writes
/// run on the blocking pool one at a time (SQLite has one writer anyway).
///
/// Fetch results are written with group commit ([`SharedStore::record`]):
/// each result joins a queue, and one writer task on the blocking pool
/// writes everything queued in one transaction (a failing fetch is retried
/// alone, see `Store::record_fetches`), then whatever gathered meanwhile,
/// until the queue is empty. While one group commits, the next one
/// gathers. At most one writer task exists: a task per fetch made a round
/// of 1,000 answers 304 wake 1,000 blocking threads, nearly all of which
/// found their fetch already written.
///
/// A group is written once it holds [`GROUP_ENTRIES`] entries, or as many
/// fetches as there are documents still being prepared for the store (see
/// [`SharedStore::preparing`]), or when its first fetch has waited
/// [`LINGER`]: a lone fetch is written at once, and a busy round, whose
/// documents arrive one by one from the processing stage, is not written
/// one commit per document (each commit writes the index pages it touched
/// to the WAL again). Waiting for every document in flight would make the
/// round a relay, fetches then writes then fetches, since a fetch keeps
/// its slot until its record is written.
#[derive(Clone)]
pub struct SharedStore(Arc<Shared>);

/// Entries a group gathers before it is written while documents are still
/// being prepared.
pub const GROUP_ENTRIES: usize = 512;

/// Longest a fetch waits for others to join its group.
pub const LINGER: Duration = Duration::from_millis(100);

struct Shared {
    store: Mutex<Store>,
    queue: Mutex<Queue>,
    /// Signalled when a fetch joins the queue or a document stops being
    /// prepared.
    changed: Condvar,
}

/// Fetch results waiting to be written.
#[derive(Default)]
struct Queue {
    waiting: Vec<Queued>,
    /// Entries of the records in `waiting`.
    entries: usize,
    /// When the first of `waiting` joined.
    since: Option<Instant>,
    /// Documents being prepared for the store (see `Preparing`).
    preparing: usize,
    /// Whether a writer task exists that will take `waiting`.
    writer: bool,
}

/// A document being prepared for the store: while one is, a small group
/// waits for it (see [`SharedStore`]). Dropped, or given to
/// [`SharedStore::record_prepared`], once it is.
pub struct Preparing(Arc<Shared>);

impl Drop for Preparing {
    fn drop(&mut self) {
        lock(&self.0.queue).preparing -= 1;
        self.0.changed.notify_all();
    }
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
            changed: Condvar::new(),
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

    /// Says that a document is being prepared for the store, until the
    /// guard is dropped or its record stored with [`Self::record_prepared`].
    pub fn preparing(&self) -> Preparing {
        lock(&self.0.queue).preparing += 1;
        Preparing(Arc::clone(&self.0))
    }

    /// Stores one fetch, possibly in one transaction with others queued at
    /// the same time (see the type's docs).
    pub async fn record(&self, rec: FetchRecord) -> super::Result<Applied> {
        self.record_prepared(rec, None).await
    }

    /// Stores one fetch whose document was being `prepared` (see
    /// [`Self::preparing`]), as [`Self::record`].
    pub async fn record_prepared(
        &self,
        rec: FetchRecord,
        prepared: Option<Preparing>,
    ) -> super::Result<Applied> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        let start_writer = {
            let mut queue = lock(&self.0.queue);
            queue.entries += rec.entries.len();
            queue.since.get_or_insert_with(Instant::now);
            queue.waiting.push((rec, done));
            !std::mem::replace(&mut queue.writer, true)
        };
        // Queued: no longer being prepared (and the writer is told).
        drop(prepared);
        self.0.changed.notify_all();
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
        if !gathered(inner) {
            // Under the queue's lock: a fetch queued after this saw no
            // writer and started one.
            std::mem::forget(done);
            return;
        }
        // The store is taken per group, and not while the group gathers,
        // so other users of it (reading a feed's known entries before
        // processing a document) get their turn between groups.
        let mut store = lock(&inner.store);
        let group = {
            let mut queue = lock(&inner.queue);
            queue.entries = 0;
            queue.since = None;
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

/// Waits until the next group is ready to be written (see [`SharedStore`]).
/// Returns false, with the writer gone, when nothing is queued.
fn gathered(inner: &Shared) -> bool {
    let mut queue = lock(&inner.queue);
    loop {
        if queue.waiting.is_empty() {
            queue.writer = false;
            return false;
        }
        let waited = queue.since.map_or(LINGER, |t| t.elapsed());
        // Half of the documents in flight, queued, is enough: the other
        // half keeps the processing stage busy while this group is
        // written (their fetches' slots are held until theirs is).
        let enough = queue.waiting.len() >= queue.preparing;
        if enough || queue.entries >= GROUP_ENTRIES || waited >= LINGER {
            return true;
        }
        queue = inner
            .changed
            .wait_timeout(queue, LINGER - waited)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// Locks `m`, even after a panic elsewhere (the store's state is SQLite's,
/// which a panic cannot leave half-written).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests;
