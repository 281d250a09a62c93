//! `/search?q=…`: a saved search as a feed, run so that no search can
//! stall the rest of the server.
//!
//! # Bounds
//! - The query's shape is checked first ([`SearchLimits::SERVER`]: its
//!   length, words, prefix terms and their length); a refused query is
//!   `400` with the reason, and never reaches SQLite.
//! - At most [`SEARCH_SLOTS`] searches run at once, each on a read-only
//!   connection of its own (never the one the feeds, digests and the index
//!   page are rendered through, so those never wait behind a search). A
//!   search that finds every slot taken is `503` with `Retry-After`.
//! - SQLite is interrupted when a search runs past the time limit: `503`
//!   with the advice to search for fewer or longer words. A client that
//!   goes away does not stop its search, but the time limit does, and the
//!   slot stays taken until then.
//! - A search's document is not remembered: nothing the server keeps grows
//!   with the number of distinct queries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tracing::{debug, warn};

use super::cache::document;
use super::{answer, ServerState, FEED_CACHE_CONTROL};
use crate::store::{self, SearchError, SearchLimits, SearchResults, Store};
use crate::syndication::{self, Format};

/// Most results a search feed holds.
pub const SEARCH_LIMIT: usize = 50;
/// Searches running at once; more are answered `503`.
pub const SEARCH_SLOTS: usize = 2;
/// `Retry-After` (seconds) of a search refused for lack of a slot or time.
pub const SEARCH_RETRY_AFTER: u64 = 2;

/// The connections searches run on and what became of searches.
pub struct Searches {
    path: std::path::PathBuf,
    limits: SearchLimits,
    pool: Mutex<Pool>,
    /// Searches answered, by result.
    pub counts: SearchCounts,
}

/// Searches by result, since the server started.
#[derive(Debug, Default)]
pub struct SearchCounts {
    /// Answered with results (or none).
    pub ok: AtomicU64,
    /// Refused for their shape.
    pub refused: AtomicU64,
    /// Refused because every slot was taken.
    pub busy: AtomicU64,
    /// Interrupted at the time limit.
    pub timed_out: AtomicU64,
}

struct Pool {
    /// Connections not in use (opened on first need, kept after).
    idle: Vec<Store>,
    /// Slots not in use.
    free: usize,
}

/// A taken slot, with its connection once opened; gives both back when
/// dropped (on the blocking thread, when the search has ended).
struct Slot {
    searches: Arc<Searches>,
    store: Option<Store>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut pool = self.searches.pool.lock().unwrap_or_else(|p| p.into_inner());
        pool.free += 1;
        pool.idle.extend(self.store.take());
    }
}

impl Searches {
    /// Searches over the store at `path` (read-only), within `limits`.
    pub fn new(path: &std::path::Path, limits: SearchLimits) -> Searches {
        Searches {
            path: path.to_path_buf(),
            limits,
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                free: SEARCH_SLOTS,
            }),
            counts: SearchCounts::default(),
        }
    }

    /// The store searched.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Searches running now.
    pub fn running(&self) -> usize {
        SEARCH_SLOTS - self.pool.lock().unwrap_or_else(|p| p.into_inner()).free
    }

    fn take(self: &Arc<Searches>) -> Option<Slot> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.free == 0 {
            return None;
        }
        pool.free -= 1;
        Some(Slot {
            searches: Arc::clone(self),
            store: pool.idle.pop(),
        })
    }

    /// Runs `query` on a free slot's connection (blocking pool); `None`
    /// when every slot is taken.
    async fn run(
        self: &Arc<Searches>,
        query: String,
    ) -> Option<Result<SearchResults, SearchError>> {
        let mut slot = self.take()?;
        let limits = self.limits;
        let path = self.path.clone();
        let ran = tokio::task::spawn_blocking(move || {
            let store = match slot.store.take() {
                Some(store) => store,
                None => Store::open_read_only(&path)?,
            };
            let store = slot.store.insert(store);
            store.search(&query, SEARCH_LIMIT, &limits)
        })
        .await;
        Some(
            ran.unwrap_or_else(|e| {
                Err(store::StoreError::Group(format!("search task: {e}")).into())
            }),
        )
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn unavailable(body: String) -> Response {
    let mut response = text(StatusCode::SERVICE_UNAVAILABLE, body);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, SEARCH_RETRY_AFTER.into());
    response
}

/// `/search?q=…[&format=atom|rss|json]`: the best matches as a feed, so a
/// saved search can be subscribed to.
pub async fn search(State(state): State<ServerState>, uri: Uri, headers: HeaderMap) -> Response {
    let searches = &state.searches;
    let mut q = None;
    let mut format_name = None;
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "q" => q = Some(v.into_owned()),
            "format" => format_name = Some(v.into_owned()),
            _ => {}
        }
    }
    let Some(q) = q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "give a query: /search?q=words\n".into(),
        );
    };
    let Some(format) = Format::from_extension(format_name.as_deref().unwrap_or("atom")) else {
        return text(
            StatusCode::BAD_REQUEST,
            "format is atom, rss or json\n".into(),
        );
    };
    if let Err(refused) = searches.limits.check(&q) {
        searches.counts.refused.fetch_add(1, Ordering::Relaxed);
        return text(
            StatusCode::BAD_REQUEST,
            format!("search refused: {refused}\n"),
        );
    }
    let results = match searches.run(q.clone()).await {
        None => {
            searches.counts.busy.fetch_add(1, Ordering::Relaxed);
            debug!("search refused: every slot taken");
            return unavailable("too many searches at once; try again in a moment\n".into());
        }
        Some(Ok(results)) => results,
        Some(Err(SearchError::Refused(refused))) => {
            searches.counts.refused.fetch_add(1, Ordering::Relaxed);
            return text(
                StatusCode::BAD_REQUEST,
                format!("search refused: {refused}\n"),
            );
        }
        Some(Err(e @ SearchError::TimedOut(_))) => {
            searches.counts.timed_out.fetch_add(1, Ordering::Relaxed);
            warn!(
                query_bytes = q.len(),
                "search interrupted at its time limit"
            );
            return unavailable(format!("{e}\n"));
        }
        Some(Err(SearchError::Store(e))) => return super::failure(e.into()),
    };
    searches.counts.ok.fetch_add(1, Ordering::Relaxed);
    let channel = state.cache.search_channel(&q, &results.hits).await;
    let document = document(
        syndication::render(&channel, format),
        format.content_type(),
        Utc::now(),
    );
    answer(&headers, &document, FEED_CACHE_CONTROL, None)
}
