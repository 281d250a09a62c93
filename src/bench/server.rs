//! The loopback HTTP server that publishes the synthetic corpus.
//!
//! Documents are held in memory, each with an `ETag` (a hash of its bytes)
//! and a `Last-Modified`; a request whose `If-None-Match` names the current
//! ETag gets `304 Not Modified`, and so does one with only an
//! `If-Modified-Since` no older than the document (when both are sent the
//! ETag decides, as RFC 9110 says). The server counts requests, 200 and 304
//! answers and body bytes, so each phase can report what crossed the wire.
//!
//! It listens on several ports of 127.0.0.1, one per simulated host: the
//! fetcher limits requests in flight per host (`per_host`), and a real
//! subscription list spreads over many hosts, not one. It runs on its own
//! single-threaded runtime in the benchmark's parent process, so its work
//! never counts towards the CPU time or memory of the measured phase.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Response, StatusCode, Uri};

/// One document as served.
#[derive(Debug, Clone)]
pub struct Served {
    /// The bytes.
    pub body: Bytes,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// When it last changed (Unix seconds): its `Last-Modified`.
    pub modified_at: i64,
    /// Quoted content hash.
    pub etag: String,
}

impl Served {
    /// `body` with its ETag computed.
    pub fn new(body: String, content_type: &'static str, modified_at: i64) -> Served {
        let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body.as_bytes()));
        Served {
            body: Bytes::from(body),
            content_type,
            modified_at,
            etag,
        }
    }
}

/// What the server answered since the last [`CorpusServer::take_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    /// Requests.
    pub requests: u64,
    /// `200 OK` answers.
    pub ok: u64,
    /// `304 Not Modified` answers.
    pub not_modified: u64,
    /// Anything else (404).
    pub other: u64,
    /// Body bytes sent.
    pub bytes: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    ok: AtomicU64,
    not_modified: AtomicU64,
    other: AtomicU64,
    bytes: AtomicU64,
}

struct Library {
    docs: RwLock<Vec<Arc<Served>>>,
    by_path: HashMap<String, usize>,
    counters: Counters,
}

/// The running server; stops when dropped.
pub struct CorpusServer {
    ports: Vec<u16>,
    library: Arc<Library>,
    // Dropping the runtime stops the listeners.
    _runtime: tokio::runtime::Runtime,
}

impl CorpusServer {
    /// Serves `docs` (URL path, document) on `hosts` ports of 127.0.0.1.
    pub fn start(docs: Vec<(String, Served)>, hosts: usize) -> std::io::Result<CorpusServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("corpus-server")
            .enable_all()
            .build()?;
        let mut by_path = HashMap::with_capacity(docs.len());
        let mut served = Vec::with_capacity(docs.len());
        for (i, (path, doc)) in docs.into_iter().enumerate() {
            by_path.insert(path, i);
            served.push(Arc::new(doc));
        }
        let library = Arc::new(Library {
            docs: RwLock::new(served),
            by_path,
            counters: Counters::default(),
        });
        let mut ports = Vec::with_capacity(hosts.max(1));
        for _ in 0..hosts.max(1) {
            let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))?;
            ports.push(listener.local_addr()?.port());
            let app = axum::Router::new()
                .fallback(answer)
                .with_state(Arc::clone(&library));
            runtime.spawn(async move {
                // Serving ends only when the runtime is dropped.
                let _ = axum::serve(listener, app).await;
            });
        }
        Ok(CorpusServer {
            ports,
            library,
            _runtime: runtime,
        })
    }

    /// The URL of `path` on simulated host number `host`.
    pub fn url(&self, host: usize, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}{path}",
            self.ports[host % self.ports.len()]
        )
    }

    /// Replaces the document at `path` (an update of the feed).
    pub fn replace(&self, path: &str, doc: Served) {
        if let Some(&i) = self.library.by_path.get(path) {
            let mut docs = self.library.docs.write().unwrap_or_else(|p| p.into_inner());
            docs[i] = Arc::new(doc);
        }
    }

    /// The counters since the last call, which zeroes them.
    pub fn take_stats(&self) -> Traffic {
        let c = &self.library.counters;
        Traffic {
            requests: c.requests.swap(0, Ordering::Relaxed),
            ok: c.ok.swap(0, Ordering::Relaxed),
            not_modified: c.not_modified.swap(0, Ordering::Relaxed),
            other: c.other.swap(0, Ordering::Relaxed),
            bytes: c.bytes.swap(0, Ordering::Relaxed),
        }
    }
}

/// An HTTP date (`Sat, 01 Jun 2024 00:00:00 GMT`).
pub fn http_date(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn not_modified(doc: &Served, headers: &HeaderMap) -> bool {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(inm) = get(header::IF_NONE_MATCH) {
        return inm
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == doc.etag);
    }
    get(header::IF_MODIFIED_SINCE)
        .and_then(|s| chrono::DateTime::parse_from_rfc2822(s).ok())
        .is_some_and(|since| doc.modified_at <= since.timestamp())
}

async fn answer(State(lib): State<Arc<Library>>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let c = &lib.counters;
    c.requests.fetch_add(1, Ordering::Relaxed);
    let doc = lib.by_path.get(uri.path()).map(|&i| {
        let docs = lib.docs.read().unwrap_or_else(|p| p.into_inner());
        Arc::clone(&docs[i])
    });
    let Some(doc) = doc else {
        c.other.fetch_add(1, Ordering::Relaxed);
        let mut resp = Response::new(Body::from("not found"));
        *resp.status_mut() = StatusCode::NOT_FOUND;
        return resp;
    };
    let fresh = not_modified(&doc, &headers);
    let body = if fresh {
        c.not_modified.fetch_add(1, Ordering::Relaxed);
        Body::empty()
    } else {
        c.ok.fetch_add(1, Ordering::Relaxed);
        c.bytes.fetch_add(doc.body.len() as u64, Ordering::Relaxed);
        Body::from(doc.body.clone())
    };
    let mut resp = Response::new(body);
    if fresh {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = resp.headers_mut();
    let value = |s: &str| s.parse().expect("an ASCII header value");
    h.insert(header::ETAG, value(&doc.etag));
    h.insert(header::LAST_MODIFIED, value(&http_date(doc.modified_at)));
    if !fresh {
        h.insert(header::CONTENT_TYPE, value(doc.content_type));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_and_date_decide_not_modified() {
        let doc = Served::new("<rss/>".into(), "application/rss+xml", 1_717_200_000);
        let mut h = HeaderMap::new();
        assert!(!not_modified(&doc, &h));
        h.insert(
            header::IF_MODIFIED_SINCE,
            http_date(1_717_200_000).parse().unwrap(),
        );
        assert!(not_modified(&doc, &h));
        // The ETag wins over the date when both are sent.
        h.insert(header::IF_NONE_MATCH, "\"other\"".parse().unwrap());
        assert!(!not_modified(&doc, &h));
        h.insert(header::IF_NONE_MATCH, doc.etag.parse().unwrap());
        assert!(not_modified(&doc, &h));
        let mut old = HeaderMap::new();
        old.insert(
            header::IF_MODIFIED_SINCE,
            http_date(1_717_199_999).parse().unwrap(),
        );
        assert!(!not_modified(&doc, &old));
    }
}
