//! A fetched document into its fetch's record, and the record into the
//! store: the I/O around `process` and `judge`. The entries the store holds
//! unchanged are looked up first (so that they are not cleaned again);
//! processing runs on the blocking pool, inside `parse`'s panic guard; and
//! when the store finds that an entry whose cleaning was skipped changed
//! meanwhile, the document is processed again in full and stored again.
//!
//! # A pipeline of two stages
//!
//! Processing documents (parsing, cleaning, fingerprints, compressing)
//! and writing them (the store's one writer, see `store::SharedStore`) are
//! the two stages a busy round's CPU goes to. Documents are processed at
//! most [`processors`] at a time, process-wide: as many as the machine has
//! cores. Without a limit, the sixteen fetches of a round each parsed on a
//! thread of their own, the writer got a seventeenth of the CPU while they
//! ran, the round waited on the writer all the same, and every one of the
//! sixteen held a document's parse in memory at once. With one processor
//! fewer than the cores (so that the writer kept a core of its own), a
//! cold round on two cores became bound by its one processor once the
//! writer got lighter (migration `WRITER_GENERATION`): the writer's core
//! idled a third of the time. With one per core the scheduler shares the
//! cores between the stages as their work comes, and a writer that falls
//! behind holds its fetches' slots, so processing waits for it. Fetches
//! still run at the configured concurrency; only their CPU work takes
//! turns, and the records waiting for the writer are bounded by that
//! concurrency.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tracing::debug;
use url::Url;

use super::{judge, process_with, response};
use crate::config::FeedConfig;
use crate::model::{IdentityMode, KnownEntries, Validators};
use crate::parse::ParseError;
use crate::rules;
use crate::store::{self, FeedRow, FetchRecord, Judged, SharedStore};

/// Documents processed at once on a machine with `cores` cores: one per
/// core (see the module docs), at least one.
pub fn processors(cores: usize) -> usize {
    cores.max(1)
}

/// Runs `f`, CPU work on a document, on the blocking pool once one of the
/// [`processors`] is free.
async fn on_a_processor<T, F>(f: F) -> Result<T, tokio::task::JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    static PROCESSORS: std::sync::LazyLock<Semaphore> = std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(processors(cores))
    });
    let _turn = PROCESSORS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(f).await
}

/// A processed document on its way to the store, for [`store_fetch`].
pub(super) struct Prepared {
    /// The document, when entries were skipped as known, for a second,
    /// full pass.
    again: Option<Reprocess>,
    /// Tells the store's writer that the record is coming (see
    /// `store::SharedStore`).
    preparing: store::Preparing,
}

/// A fetched document, kept for processing again in full.
pub(super) struct Reprocess {
    body: Vec<u8>,
    content_type: Option<String>,
    doc_url: Url,
    mode: IdentityMode,
    now: DateTime<Utc>,
    rules: rules::Rules,
    dropped: HashSet<String>,
}

impl Reprocess {
    /// Processes the document in full (nothing skipped) and judges it.
    fn run(self) -> Result<(super::Processed, Judged), ParseError> {
        let mut doc = process_with(
            &self.body,
            self.content_type.as_deref(),
            Some(&self.doc_url),
            self.mode,
            self.now,
            &KnownEntries::default(),
            rules::attributes_needed(&self.rules),
        )?;
        let judged = judge(&mut doc, &self.rules, &self.dropped, self.now);
        Ok((doc, judged))
    }
}

/// Processes `body` (from `doc_url`) for `feed`, whose stored state is
/// `state`, into `rec`, at `rec.now`: its entries and notes, or why it
/// could not be read. `validators` are those of the response. Returns what
/// [`store_fetch`] needs besides the record.
pub(super) async fn process_into(
    rec: &mut FetchRecord,
    store: &SharedStore,
    feed: &FeedConfig,
    state: &FeedRow,
    fetched: (Vec<u8>, Option<String>, Url),
    validators: Validators,
) -> Prepared {
    let preparing = store.preparing();
    let (body, content_type, doc_url) = fetched;
    let (mode, now) = (state.identity_mode, rec.now);
    // Entries the store holds unchanged are not cleaned again (a feed
    // fetched before; nothing to skip on a first fetch).
    let known = match state.last_success_at {
        Some(_) => {
            let id = state.id;
            store
                .call(move |s| s.known_entries(id))
                .await
                .unwrap_or_default()
        }
        None => KnownEntries::default(),
    };
    let again = Reprocess {
        body,
        content_type,
        doc_url,
        mode,
        now,
        rules: feed.rules.clone(),
        dropped: known.dropped.clone(),
    };
    let skipping = !known.is_empty();
    let (processed, again) = on_a_processor(move || {
        let processed = process_with(
            &again.body,
            again.content_type.as_deref(),
            Some(&again.doc_url),
            mode,
            now,
            &known,
            rules::attributes_needed(&again.rules),
        )
        .map(|mut doc| {
            let judged = judge(&mut doc, &again.rules, &again.dropped, now);
            // Compressed here, on a processor, rather than by the one
            // thread that writes (see `store::PackedTexts`).
            let packed = store::PackedTexts::of(&doc.entries);
            (doc, judged, packed)
        });
        // Kept for a second, full pass should the store refuse an entry
        // it no longer holds as it was.
        (processed, skipping.then_some(again))
    })
    .await
    .unwrap_or_else(|e| (Err(ParseError::Panic(e.to_string())), None));
    match processed {
        Ok((doc, judged, packed)) => {
            if !judged.dropped.is_empty() {
                debug!(dropped = judged.dropped.len(), "entries dropped by rules");
            }
            response::document(rec, doc, judged, validators);
            rec.packed_texts = packed;
        }
        Err(e) => response::unreadable(rec, &e),
    }
    Prepared { again, preparing }
}

/// Stores `rec`. When the store refuses an entry whose cleaning was skipped
/// (it no longer holds it as it was), the document is processed again in
/// full, from what `prepared` kept, and stored again.
pub(super) async fn store_fetch(
    store: &SharedStore,
    mut rec: FetchRecord,
    prepared: Option<Prepared>,
) -> store::Result<store::Applied> {
    let skipped =
        |rec: &FetchRecord| !rec.kept.is_empty() || rec.entries.iter().any(|e| e.content_elided);
    let (again, preparing) = match prepared {
        Some(p) => (p.again.filter(|_| skipped(&rec)), Some(p.preparing)),
        None => (None, None),
    };
    let Some(again) = again else {
        return store.record_prepared(rec, preparing).await;
    };
    // The record without its entries, cheap to copy, for the second try.
    let entries = std::mem::take(&mut rec.entries);
    let mut second = rec.clone();
    rec.entries = entries;
    match store.record_prepared(rec, preparing).await {
        Err(store::StoreError::ContentElided { key }) => {
            debug!(entry = %key, "a skipped entry changed in the store; processing the document in full");
            let failed =
                |e: String| store::StoreError::Group(format!("processing again failed: {e}"));
            let (doc, judged) = on_a_processor(move || again.run())
                .await
                .map_err(|e| failed(e.to_string()))?
                .map_err(|e| failed(e.to_string()))?;
            second.entries = doc.entries;
            second.kept = doc.kept;
            second.judged = judged;
            store.record(second).await
        }
        other => other,
    }
}

#[cfg(test)]
mod tests;
