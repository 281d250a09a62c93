//! The HTTP server: the outputs in every format and the index page.
//!
//! # Routes
//! | path | what |
//! |---|---|
//! | `/` (and `/index.html`) | the HTML index: outputs, latest items, feed health |
//! | `/feed.atom`, `/feed.rss`, `/feed.json` | the default output, `all` |
//! | `/feeds/{name}.atom` / `.rss` / `.json` | the output called `name` |
//! | `/digests/{name}.{ext}`, `/digests/{name}/{latest,id}.html` | a digest's feed and pages |
//! | `/healthz`, `/readyz`, `/metrics`, `/opml` | operations (`ops`) |
//! | `/search?q=…` | a search as a feed ([`search`]) |
//! | `/websub/{token}` | WebSub callbacks: GET intent verification, POST pushed documents ([`websub`]) |
//! | `/websub/hub` | POST: subscribing to the outputs at Tributary's own WebSub hub (`[websub] serve_hub`) |
//!
//! Only these: a name is looked up among the configured outputs, never on
//! disk, so no path can reach anything else; a digest id only in the one
//! spelling its links use. Unknown paths and names are 404; methods other
//! than GET and HEAD are 405 (but POST on the WebSub routes).
//!
//! # Answers
//! `Content-Type` with charset, a strong `ETag` (a hash of the bytes sent)
//! and `Last-Modified`; `304 Not Modified` for a current `If-None-Match`
//! or `If-Modified-Since`; gzip when the client accepts it; HEAD like GET
//! without the body. Documents come from the [`cache`] and are rendered
//! again only when the store's content changed, so polling readers cost a
//! map lookup.
//!
//! # Limits
//! Hyper's HTTP/1 connection with a timer: request heads must arrive
//! within [`HEADER_TIMEOUT`] and fit in [`MAX_REQUEST_HEAD`]; a connection
//! lives at most [`CONNECTION_LIFETIME`] (a client that stops reading
//! cannot hold it longer); at most [`MAX_CONNECTIONS`] are served at once.
//! Searches are bounded in shape, time and number and run on connections
//! of their own (see [`search`]), so they never delay the feeds, the
//! digests, the index page or `/healthz`; nothing kept in memory grows
//! with the number of distinct requests (see [`cache`]). The index page
//! shows a feed's error by kind only (its words may name internal
//! addresses and paths).
//!
//! # Shutdown
//! When the `shutdown` future given to [`serve`] completes, the listener
//! closes, idle connections close, requests in flight get [`GRACE`] to
//! finish, and `serve` returns.

pub mod cache;
mod negotiation;
mod ops;
pub mod search;
pub mod websub;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::config::{Config, DEFAULT_OUTPUT};
use crate::output::Site;
use crate::store::{self, SearchLimits, Store};
use crate::syndication::Format;
use cache::{Cache, RenderError, Rendered};
use search::Searches;

/// Time a client has to send a whole request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head accepted (request line and headers), in bytes.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Most headers in one request.
pub const MAX_HEADERS: usize = 64;
/// Longest life of one connection, keep-alive included.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// Connections served at once; more wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1024;
/// Time requests in flight get to finish at shutdown.
pub const GRACE: Duration = Duration::from_secs(5);

/// `Cache-Control` of the feeds: shared caches may keep them a minute.
const FEED_CACHE_CONTROL: &str = "public, max-age=60";
/// The index shows live feed health: always revalidate.
const PAGE_CACHE_CONTROL: &str = "no-cache";
/// The index page needs no script, frame or form, and gets none.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the server needs: the site and its document cache. Cheap to clone.
#[derive(Clone)]
pub struct ServerState {
    cache: Arc<Cache>,
    /// Searches, on connections of their own.
    searches: Arc<Searches>,
    /// The daemon's live counters, when a daemon runs in this process.
    metrics: Option<Arc<crate::metrics::Metrics>>,
    /// WebSub callbacks, when the daemon subscribes to hubs.
    websub: Option<Arc<websub::Callbacks>>,
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store could not be opened for reading.
    #[error("opening the store for the server: {0}")]
    Store(#[from] store::StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// `[server] listen`.
        address: SocketAddr,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// Serving failed.
    #[error("server: {0}")]
    Io(#[from] io::Error),
}

impl ServerState {
    /// The state for `config`: its site, and a read-only connection of its
    /// own to the store, which must exist and be migrated (open the
    /// writing [`Store`] first).
    pub fn new(config: &Config) -> Result<ServerState, store::StoreError> {
        let reader = Store::open_read_only(&config.store.path)?;
        Ok(ServerState::with_reader(Site::new(config), reader))
    }

    /// The state for `site`, reading through `reader`.
    pub fn with_reader(site: Site, reader: Store) -> ServerState {
        let searches = Searches::new(reader.path(), SearchLimits::SERVER);
        ServerState {
            cache: Arc::new(Cache::new(site, reader)),
            searches: Arc::new(searches),
            metrics: None,
            websub: None,
        }
    }

    /// The same state, running searches within `limits` instead of
    /// [`SearchLimits::SERVER`].
    pub fn with_search_limits(mut self, limits: SearchLimits) -> ServerState {
        self.searches = Arc::new(Searches::new(self.searches.path(), limits));
        self
    }

    /// The same state, reporting the daemon's `metrics` on `/metrics` and
    /// `/readyz`.
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> ServerState {
        self.metrics = Some(metrics);
        self
    }

    /// Serves the outputs of a reloaded `config` from now on, on the same
    /// listener and connections. The store stays the one opened at start
    /// (a changed `[store] path` or `[server] listen` needs a new server).
    pub async fn reload(&self, config: &Config) {
        self.cache.replace_site(Site::new(config)).await;
        if let Some(callbacks) = &self.websub {
            callbacks.reload(config);
        }
    }
}

/// Binds `[server] listen` and serves until `shutdown` completes: what the
/// daemon runs.
pub async fn run(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let state = ServerState::new(config)?;
    let address = config.server.listen;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| ServerError::Bind { address, source })?;
    info!(%address, base_url = %config.server.base_url, "serving outputs");
    Ok(serve(listener, state, shutdown).await?)
}

/// Serves `state` on `listener` until `shutdown` completes (see the module
/// docs for limits and shutdown).
pub async fn serve(
    listener: TcpListener,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = router(state);
    let (stop, stopped) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            // The semaphore is never closed, so acquiring cannot fail.
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("semaphore never closed"),
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, a connection reset before it
                    // was accepted: wait a moment and go on.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(app.clone());
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_REQUEST_HEAD)
                .max_headers(MAX_HEADERS);
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let ended = tokio::select! {
                result = connection.as_mut() => Some(result),
                _ = stopped.changed() => None,
                () = tokio::time::sleep(CONNECTION_LIFETIME) => None,
            };
            let result = match ended {
                Some(result) => result,
                None => {
                    connection.as_mut().graceful_shutdown();
                    tokio::time::timeout(GRACE, connection)
                        .await
                        .unwrap_or(Ok(()))
                }
            };
            if let Err(e) = result {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(GRACE * 2, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/{file}", get(root_file))
        .route("/feeds/{file}", get(output_file))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/opml", get(ops::opml))
        .route("/search", get(search::search))
        .route("/digests/{file}", get(digest_feed))
        .route("/digests/{name}/{file}", get(digest_page))
        .route(
            "/websub/{token}",
            get(websub::verify).post(websub::distribute),
        )
        .route("/websub/hub", axum::routing::post(websub::hub))
        .fallback(not_found)
        .with_state(state)
}

async fn index(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    match state.cache.index().await {
        Ok(document) => answer(&headers, &document, PAGE_CACHE_CONTROL, Some(PAGE_POLICY)),
        Err(e) => failure(e),
    }
}

/// `/index.html` and the default output's `/feed.{ext}`.
async fn root_file(
    state: State<ServerState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if file == "index.html" {
        return index(state, headers).await;
    }
    match file.strip_prefix("feed.").and_then(Format::from_extension) {
        Some(format) => feed(&state, DEFAULT_OUTPUT, format, &headers).await,
        None => not_found().await,
    }
}

/// `name.ext` → the name and the format its extension names.
fn feed_file(file: &str) -> Option<(&str, Format)> {
    let (name, extension) = file.rsplit_once('.')?;
    Some((name, Format::from_extension(extension)?))
}

/// `/feeds/{name}.{ext}`.
async fn output_file(
    state: State<ServerState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let found = feed_file(&file);
    match found {
        Some((name, format)) => feed(&state, name, format, &headers).await,
        None => not_found().await,
    }
}

/// `/digests/{name}.{ext}`: the feed of a digest's digests.
async fn digest_feed(
    state: State<ServerState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let found = feed_file(&file);
    let Some((name, format)) = found else {
        return not_found().await;
    };
    match state.cache.digest_feed(name, format).await {
        Ok(Some(document)) => answer(&headers, &document, FEED_CACHE_CONTROL, None),
        Ok(None) => not_found().await,
        Err(e) => failure(e),
    }
}

/// `/digests/{name}/latest.html` and `/digests/{name}/{id}.html`.
async fn digest_page(
    state: State<ServerState>,
    Path((name, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(page) = file.strip_suffix(".html") else {
        return not_found().await;
    };
    match state.cache.digest_page(&name, page).await {
        Ok(Some(document)) => answer(&headers, &document, PAGE_CACHE_CONTROL, Some(PAGE_POLICY)),
        Ok(None) => not_found().await,
        Err(e) => failure(e),
    }
}

/// The output `name` in `format`; names are looked up among the configured
/// outputs only.
async fn feed(state: &ServerState, name: &str, format: Format, headers: &HeaderMap) -> Response {
    match state.cache.output(name, format).await {
        Ok(Some(document)) => answer(headers, &document, FEED_CACHE_CONTROL, None),
        Ok(None) => not_found().await,
        Err(e) => failure(e),
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found\n",
    )
        .into_response()
}

/// Answers with freshly made `bytes` for `path` (validators from their hash).
async fn answer_bytes(
    headers: &HeaderMap,
    path: &str,
    bytes: Vec<u8>,
    content_type: &'static str,
    state: &ServerState,
) -> Response {
    let document = state.cache.stamped(path, bytes, content_type).await;
    answer(headers, &document, FEED_CACHE_CONTROL, None)
}

fn failure(e: RenderError) -> Response {
    error!(error = %e, "cannot render");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "the feed cannot be rendered right now\n",
    )
        .into_response()
}

/// The response for `document`: gzip if accepted, 304 if the client's copy
/// is current, the validators and caching headers either way.
fn answer(
    headers: &HeaderMap,
    document: &Rendered,
    cache_control: &'static str,
    policy: Option<&'static str>,
) -> Response {
    let gzip = document
        .gzip
        .as_ref()
        .filter(|_| negotiation::accepts_gzip(headers));
    let etag = if gzip.is_some() {
        &document.gzip_etag
    } else {
        &document.etag
    };
    let fresh = negotiation::not_modified(headers, etag, document.last_modified);
    let mut response = Response::builder()
        .status(if fresh {
            StatusCode::NOT_MODIFIED
        } else {
            StatusCode::OK
        })
        .header(header::ETAG, etag.as_str())
        .header(
            header::LAST_MODIFIED,
            negotiation::http_date(document.last_modified),
        )
        .header(header::CACHE_CONTROL, cache_control)
        .header(header::VARY, "Accept-Encoding")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if let Some(policy) = policy {
        response = response.header(header::CONTENT_SECURITY_POLICY, policy);
    }
    if fresh {
        return response.body(Body::empty()).unwrap_or_default();
    }
    let body = gzip.unwrap_or(&document.body).clone();
    response = response
        .header(header::CONTENT_TYPE, document.content_type)
        .header(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if gzip.is_some() {
        response = response.header(header::CONTENT_ENCODING, "gzip");
    }
    response.body(Body::from(body)).unwrap_or_default()
}
