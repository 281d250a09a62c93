//! Rendered documents kept in memory, with their gzip encoding and
//! validators, and rendered again only when the store's content generation
//! moves.
//!
//! # Invariants
//! - The generation is read *before* the documents it stands for are
//!   rendered, so a write landing in between makes the cache render once
//!   more at the next check, never keep stale bytes under a new generation.
//! - The generation is read at most once per [`CHECK_INTERVAL`]; between
//!   checks a request costs a lock, a map lookup and a reference count.
//!   The index page, which also shows feed health (which changes on every
//!   fetch without moving the generation), is re-rendered at most once per
//!   [`INDEX_MAX_AGE`].
//! - All SQLite work runs on the blocking thread pool through the server's
//!   own read-only connection (WAL: it never blocks the daemon's writer).
//! - A document's `Last-Modified` is when this process first produced its
//!   bytes (whole seconds, always later than the previous version's), so
//!   an unchanged re-render keeps it and `If-Modified-Since` stays honest.
//!
//! # Bounds
//! Nothing here grows with the requests made, only with what is configured
//! and stored: rendered outputs are kept by configured name only (an
//! unknown name renders nothing and is not kept), and the validators kept
//! across re-renders (`Stamps`) are for paths that name a document that
//! exists, in its one canonical spelling, and at most [`MAX_STAMPS`] of
//! them in at most [`MAX_STAMP_BYTES`], the least recently used forgotten
//! first (a forgotten path's next version is dated when it is made).

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tracing::{debug, warn};

use crate::output::Site;
use crate::store::{self, Store};
use crate::syndication::Format;

/// Longest time a change in the store takes to reach the served documents.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(500);
/// Longest time the index page's feed health may lag behind the store.
pub const INDEX_MAX_AGE: Duration = Duration::from_secs(10);
/// Most paths whose validators are kept across re-renders.
pub const MAX_STAMPS: usize = 1_024;
/// Most bytes of paths and validators kept across re-renders.
pub const MAX_STAMP_BYTES: usize = 256 * 1024;

/// One rendered document and everything needed to answer for it.
#[derive(Debug)]
pub struct Rendered {
    /// The document.
    pub body: Bytes,
    /// Its gzip encoding, when that is smaller.
    pub gzip: Option<Bytes>,
    /// Strong validator of `body`: a hash of its bytes.
    pub etag: String,
    /// Strong validator of `gzip` (another representation, another tag).
    pub gzip_etag: String,
    /// When this process first produced these bytes.
    pub last_modified: DateTime<Utc>,
    /// `Content-Type` header value.
    pub content_type: &'static str,
}

/// Why a document could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The rendering task panicked or was cancelled.
    #[error("rendering failed: {0}")]
    Task(String),
}

/// The cache; shared by every request.
pub struct Cache {
    /// The server's own read-only connection; used only on the blocking
    /// pool, one task at a time.
    reader: Arc<Mutex<Store>>,
    state: tokio::sync::Mutex<State>,
}

struct State {
    /// The site served; swapped whole by a reload, under this lock, so a
    /// request sees either the old site or the new one.
    site: Arc<Site>,
    generation: Option<i64>,
    checked_at: Option<Instant>,
    /// Rendered outputs by name, one document per format.
    outputs: HashMap<String, Arc<[Arc<Rendered>; 3]>>,
    index: Option<(Instant, Arc<Rendered>)>,
    /// Validators of the last version of each document, by path, kept
    /// across invalidations so that identical bytes keep their date.
    stamps: Stamps,
}

/// What the cache holds, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Rendered documents kept (each output in each format, the index).
    pub documents: usize,
    /// Their bytes (plain and gzip).
    pub document_bytes: usize,
    /// Paths whose validators are kept.
    pub stamps: usize,
    /// Bytes of those paths and validators.
    pub stamp_bytes: usize,
}

impl Cache {
    /// An empty cache of `site` over `reader`.
    pub fn new(site: Site, reader: Store) -> Cache {
        Cache {
            reader: Arc::new(Mutex::new(reader)),
            state: tokio::sync::Mutex::new(State {
                site: Arc::new(site),
                generation: None,
                checked_at: None,
                outputs: HashMap::new(),
                index: None,
                stamps: Stamps::default(),
            }),
        }
    }

    /// Serves `site` from now on (after a config reload): what was rendered
    /// is forgotten; the validators of documents that come out the same
    /// are kept.
    pub async fn replace_site(&self, site: Site) {
        let mut state = self.state.lock().await;
        state.site = Arc::new(site);
        state.outputs.clear();
        state.index = None;
    }

    /// The output called `name` in `format`; `None` when there is none.
    pub async fn output(
        &self,
        name: &str,
        format: Format,
    ) -> Result<Option<Arc<Rendered>>, RenderError> {
        let mut state = self.state.lock().await;
        self.check(&mut state).await;
        if let Some(rendered) = state.outputs.get(name) {
            return Ok(Some(Arc::clone(&rendered[position(format)])));
        }
        let site = Arc::clone(&state.site);
        let wanted = name.to_owned();
        let rendered = self
            .blocking(move |store| {
                let output = site.output(&wanted);
                output.map(|output| site.render(store, output)).transpose()
            })
            .await?;
        let Some(rendered) = rendered else {
            return Ok(None);
        };
        let now = Utc::now();
        let mut documents = Vec::with_capacity(Format::ALL.len());
        for (format, bytes) in Format::ALL.into_iter().zip(rendered) {
            let path = Site::feed_path(name, format);
            let document = stamp(&mut state.stamps, path, bytes, format.content_type(), now);
            documents.push(Arc::new(document));
        }
        let documents: [Arc<Rendered>; 3] = documents.try_into().expect("one document per format");
        let documents = Arc::new(documents);
        state
            .outputs
            .insert(name.to_owned(), Arc::clone(&documents));
        debug!(output = %name, "rendered");
        Ok(Some(Arc::clone(&documents[position(format)])))
    }

    /// A digest feed (`name` in `format`); `None` for an unknown digest.
    /// Rendered on each request: digests are few and made rarely, and the
    /// bytes' hash keeps validators stable.
    pub async fn digest_feed(
        &self,
        name: &str,
        format: Format,
    ) -> Result<Option<Arc<Rendered>>, RenderError> {
        let site = Arc::clone(&self.state.lock().await.site);
        let wanted = name.to_owned();
        let Some(rendered) = self
            .blocking(move |store| site.digest_feed(store, &wanted))
            .await?
        else {
            return Ok(None);
        };
        let bytes = rendered
            .into_iter()
            .nth(position(format))
            .expect("one document per format");
        let mut state = self.state.lock().await;
        let path = Site::digest_feed_path(name, format);
        Ok(Some(Arc::new(stamp(
            &mut state.stamps,
            path,
            bytes,
            format.content_type(),
            Utc::now(),
        ))))
    }

    /// A digest's HTML page (`latest` or its id); `None` when there is none.
    pub async fn digest_page(
        &self,
        name: &str,
        page: &str,
    ) -> Result<Option<Arc<Rendered>>, RenderError> {
        let site = Arc::clone(&self.state.lock().await.site);
        let (n, p) = (name.to_owned(), page.to_owned());
        let Some(bytes) = self
            .blocking(move |store| site.digest_page(store, &n, &p))
            .await?
        else {
            return Ok(None);
        };
        let mut state = self.state.lock().await;
        let path = Site::digest_page_path(name, page);
        Ok(Some(Arc::new(stamp(
            &mut state.stamps,
            path,
            bytes,
            "text/html; charset=utf-8",
            Utc::now(),
        ))))
    }

    /// Runs `f` on the server's read connection (blocking pool).
    pub async fn read<T, F>(&self, f: F) -> Result<T, RenderError>
    where
        F: FnOnce(&Store) -> store::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.blocking(f).await
    }

    /// Wraps `bytes` as the document at `path` (hash, gzip, date).
    pub async fn stamped(
        &self,
        path: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Rendered {
        let mut state = self.state.lock().await;
        stamp(
            &mut state.stamps,
            path.to_string(),
            bytes,
            content_type,
            Utc::now(),
        )
    }

    /// The subscriptions as OPML.
    pub async fn opml(&self) -> String {
        let site = Arc::clone(&self.state.lock().await.site);
        crate::opml::render(&site.subscriptions, Utc::now())
    }

    /// The channel of a search's `hits`.
    pub async fn search_channel(
        &self,
        query: &str,
        hits: &[crate::store::SearchHit],
    ) -> crate::syndication::Channel {
        let site = Arc::clone(&self.state.lock().await.site);
        site.search_channel(query, hits)
    }

    /// What the cache holds now.
    pub async fn usage(&self) -> Usage {
        let state = self.state.lock().await;
        let documents = state
            .outputs
            .values()
            .flat_map(|d| d.iter())
            .chain(state.index.iter().map(|(_, d)| d));
        let (mut count, mut bytes) = (0, 0);
        for d in documents {
            count += 1;
            bytes += d.body.len() + d.gzip.as_ref().map_or(0, |z| z.len());
        }
        Usage {
            documents: count,
            document_bytes: bytes,
            stamps: state.stamps.len(),
            stamp_bytes: state.stamps.bytes,
        }
    }

    /// The HTML index page.
    pub async fn index(&self) -> Result<Arc<Rendered>, RenderError> {
        let mut state = self.state.lock().await;
        self.check(&mut state).await;
        if let Some((at, document)) = &state.index {
            if at.elapsed() < INDEX_MAX_AGE {
                return Ok(Arc::clone(document));
            }
        }
        let site = Arc::clone(&state.site);
        let bytes = self.blocking(move |store| site.index(store)).await?;
        let document = Arc::new(stamp(
            &mut state.stamps,
            "index.html".into(),
            bytes,
            "text/html; charset=utf-8",
            Utc::now(),
        ));
        state.index = Some((Instant::now(), Arc::clone(&document)));
        Ok(document)
    }

    /// Forgets the rendered documents when the generation moved since the
    /// last check (at most one check per [`CHECK_INTERVAL`]). A failed
    /// check keeps serving what is cached.
    async fn check(&self, state: &mut State) {
        if state
            .checked_at
            .is_some_and(|at| at.elapsed() < CHECK_INTERVAL)
        {
            return;
        }
        match self.blocking(Store::content_generation).await {
            Ok(generation) => {
                if state.generation != Some(generation) {
                    state.generation = Some(generation);
                    state.outputs.clear();
                    state.index = None;
                }
                state.checked_at = Some(Instant::now());
            }
            Err(e) => {
                warn!(error = %e, "cannot read the content generation; serving cached documents")
            }
        }
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, RenderError>
    where
        F: FnOnce(&Store) -> store::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let store = reader.lock().unwrap_or_else(|p| p.into_inner());
            f(&store)
        })
        .await
        .map_err(|e| RenderError::Task(e.to_string()))?
        .map_err(RenderError::from)
    }
}

fn position(format: Format) -> usize {
    Format::ALL
        .iter()
        .position(|f| *f == format)
        .expect("every format is in ALL")
}

/// Wraps freshly rendered `bytes` as the document at `path`: hashes them,
/// compresses them, and dates them (see the module docs).
fn stamp(
    stamps: &mut Stamps,
    path: String,
    bytes: Vec<u8>,
    content_type: &'static str,
    now: DateTime<Utc>,
) -> Rendered {
    let mut document = document(bytes, content_type, now);
    let now = document.last_modified;
    document.last_modified = match stamps.get(&path) {
        Some((previous, at)) if *previous == document.etag => at,
        Some((_, at)) => now.max(at + TimeDelta::seconds(1)),
        None => now,
    };
    stamps.insert(path, document.etag.clone(), document.last_modified);
    document
}

/// `bytes` as a document dated `now` (whole seconds), with its hash and
/// its gzip encoding when that is smaller; remembers nothing.
pub fn document(bytes: Vec<u8>, content_type: &'static str, now: DateTime<Utc>) -> Rendered {
    let hash = xxhash_rust::xxh3::xxh3_128(&bytes);
    let gzip = gzip(&bytes).filter(|z| z.len() < bytes.len());
    Rendered {
        body: Bytes::from(bytes),
        gzip: gzip.map(Bytes::from),
        gzip_etag: format!("\"{hash:032x}-gzip\""),
        etag: format!("\"{hash:032x}\""),
        last_modified: now.duration_trunc(TimeDelta::seconds(1)).unwrap_or(now),
        content_type,
    }
}

/// Validators by path, bounded by [`MAX_STAMPS`] and [`MAX_STAMP_BYTES`]:
/// the least recently used go first.
#[derive(Debug, Default)]
struct Stamps {
    /// Path → (ETag, date, last use).
    by_path: HashMap<String, (String, DateTime<Utc>, u64)>,
    /// Last use → path, oldest first.
    by_use: BTreeMap<u64, String>,
    uses: u64,
    /// Bytes of paths and tags held.
    bytes: usize,
}

impl Stamps {
    fn len(&self) -> usize {
        self.by_path.len()
    }

    fn get(&self, path: &str) -> Option<(&str, DateTime<Utc>)> {
        self.by_path
            .get(path)
            .map(|(tag, at, _)| (tag.as_str(), *at))
    }

    fn insert(&mut self, path: String, etag: String, at: DateTime<Utc>) {
        self.remove(&path);
        self.uses += 1;
        self.bytes += path.len() + etag.len();
        self.by_use.insert(self.uses, path.clone());
        self.by_path.insert(path, (etag, at, self.uses));
        while self.by_path.len() > MAX_STAMPS || self.bytes > MAX_STAMP_BYTES {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            self.remove(&oldest);
        }
    }

    fn remove(&mut self, path: &str) {
        if let Some((etag, _, used)) = self.by_path.remove(path) {
            self.by_use.remove(&used);
            self.bytes -= path.len() + etag.len();
        }
    }
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::default(),
    );
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_bytes_keep_their_date_and_changed_bytes_move_it() {
        let mut stamps = Stamps::default();
        let t0 = Utc::now();
        let text = b"<feed>same</feed>".repeat(100);
        let first = stamp(&mut stamps, "feed.atom".into(), text.clone(), "x", t0);
        assert!(first.etag.starts_with('"') && first.etag.len() == 34);
        assert!(first.gzip.as_ref().unwrap().len() < first.body.len());
        assert_ne!(first.etag, first.gzip_etag);
        let later = t0 + TimeDelta::minutes(5);
        let again = stamp(&mut stamps, "feed.atom".into(), text, "x", later);
        assert_eq!(
            (again.etag.as_str(), again.last_modified),
            (first.etag.as_str(), first.last_modified)
        );
        // Changed within the same second: still dated later.
        let changed = stamp(&mut stamps, "feed.atom".into(), b"other".to_vec(), "x", t0);
        assert_ne!(changed.etag, first.etag);
        assert!(changed.last_modified > again.last_modified);
        assert!(
            changed.gzip.is_none(),
            "gzip is dropped when it does not help"
        );
    }

    #[test]
    fn stamps_stay_within_their_bounds_and_forget_the_least_recently_used() {
        let mut stamps = Stamps::default();
        let t0 = Utc::now();
        stamp(&mut stamps, "feed.atom".into(), b"kept".to_vec(), "x", t0);
        for i in 0..MAX_STAMPS * 5 {
            stamp(
                &mut stamps,
                format!("digests/d/{i}.html"),
                vec![b'a'; 10],
                "x",
                t0,
            );
            if i % 100 == 0 {
                // In use all along: never the least recently used.
                stamp(&mut stamps, "feed.atom".into(), b"kept".to_vec(), "x", t0);
            }
            assert!(stamps.len() <= MAX_STAMPS && stamps.bytes <= MAX_STAMP_BYTES);
        }
        assert_eq!(stamps.len(), MAX_STAMPS);
        assert!(stamps.get("feed.atom").is_some());
        assert!(stamps.get("digests/d/0.html").is_none());
        // Long paths: the byte bound holds before the count does.
        for i in 0..MAX_STAMPS {
            let path = format!("{i}{}", "p".repeat(1_000));
            stamp(&mut stamps, path, vec![b'a'; 10], "x", t0);
            assert!(stamps.bytes <= MAX_STAMP_BYTES);
        }
        assert!(stamps.len() < MAX_STAMP_BYTES / 1_000);
        let held: usize = stamps
            .by_path
            .iter()
            .map(|(p, (t, _, _))| p.len() + t.len())
            .sum();
        assert_eq!(held, stamps.bytes);
        assert_eq!(stamps.by_use.len(), stamps.len());
    }
}
