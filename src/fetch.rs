//! One request for one feed: HTTP(S) or a local file → [`Fetched`] body,
//! [`Fetched::NotModified`], or a classified [`FetchError`].
//!
//! Owns everything about talking to servers: conditional requests (ETag /
//! Last-Modified), decompression, redirects (followed by hand so that every
//! hop and its status is recorded: a 301 means something different from a
//! 302 to the scheduler), the body cap enforced while streaming (so a
//! decompression bomb stops at the cap, not at the end of memory), the total
//! time limit (which also bounds slow-drip servers), and the per-host limit
//! on requests in flight. It knows nothing of feed formats or SQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::config::{FeedHttp, FetchConfig, HostGroup};
use crate::model::Validators;

/// What a request may carry and how much it may cost.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Where to go.
    pub url: &'a Url,
    /// Validators from the last stored response (sent as `If-None-Match` /
    /// `If-Modified-Since`).
    pub validators: &'a Validators,
    /// Limit on the whole exchange, redirects and body included.
    pub timeout: Duration,
    /// Cap on the decompressed body.
    pub max_body: u64,
    /// `User-Agent` override.
    pub user_agent: Option<&'a str>,
    /// Credentials, extra headers, proxy.
    pub http: &'a FeedHttp,
}

/// One hop of a redirect chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
    /// Where it pointed.
    pub to: Url,
}

/// Response facts the scheduler and the store need besides the body.
#[derive(Debug, Clone, Default)]
pub struct ResponseMeta {
    /// Final HTTP status (200, 304; 0 for local files).
    pub status: u16,
    /// Validators to store for the next conditional request.
    pub validators: Validators,
    /// `Cache-Control`, verbatim.
    pub cache_control: Option<String>,
    /// `Expires`, verbatim.
    pub expires: Option<String>,
    /// The redirect chain that led here, in order.
    pub redirects: Vec<Redirect>,
    /// Where the body finally came from.
    pub final_url: Option<Url>,
}

impl ResponseMeta {
    /// True when every hop of the chain was a permanent redirect (301/308).
    pub fn permanently_moved(&self) -> bool {
        !self.redirects.is_empty() && self.redirects.iter().all(|r| matches!(r.status, 301 | 308))
    }
}

/// A successful fetch.
#[derive(Debug)]
pub enum Fetched {
    /// The server sent a (new) body.
    Body {
        /// The bytes, decompressed, exactly as the server sent them otherwise.
        body: Vec<u8>,
        /// `Content-Type` header, for the charset of documents that declare none.
        content_type: Option<String>,
        /// Everything else.
        meta: ResponseMeta,
    },
    /// 304: what we have is current.
    NotModified {
        /// Headers of the 304 (validators may be refreshed).
        meta: ResponseMeta,
    },
}

/// Transient errors are worth retrying later as they are; permanent ones
/// need someone to change something (the URL, credentials, the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Timeouts, connection failures, 5xx, 429, truncated bodies.
    Transient,
    /// 4xx, bodies over the cap, redirect loops, missing files, bad URLs.
    Permanent,
}

impl ErrorClass {
    /// `transient` / `permanent`, as stored in the fetch log.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The whole exchange took longer than allowed.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// No connection (refused, DNS, TLS).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server answered with an error status.
    #[error("HTTP {status}{}", reason(*.status))]
    Status {
        /// The status code.
        status: u16,
        /// `Retry-After`, verbatim, on 429 and 503.
        retry_after: Option<String>,
        /// The chain of redirects before the error.
        redirects: Vec<Redirect>,
    },
    /// The body would exceed the cap.
    #[error("body larger than the {limit}-byte cap")]
    TooLarge {
        /// The cap in force.
        limit: u64,
    },
    /// Redirects went round in a circle or on for too long.
    #[error("{0}")]
    Redirects(String),
    /// The connection broke while reading the body, or the encoding was bad.
    #[error("reading the body failed: {0}")]
    Body(String),
    /// A local file could not be read.
    #[error("cannot read {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What the OS said.
        message: String,
    },
    /// The URL cannot be fetched at all.
    #[error("unsupported url `{0}`")]
    Unsupported(String),
}

fn reason(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

impl FetchError {
    /// Whether waiting alone may fix it.
    pub fn class(&self) -> ErrorClass {
        match self {
            FetchError::Timeout(_) | FetchError::Connect(_) | FetchError::Body(_) => {
                ErrorClass::Transient
            }
            FetchError::Status { status, .. } => match status {
                408 | 425 | 429 | 500..=599 => ErrorClass::Transient,
                _ => ErrorClass::Permanent,
            },
            FetchError::TooLarge { .. }
            | FetchError::Redirects(_)
            | FetchError::File { .. }
            | FetchError::Unsupported(_) => ErrorClass::Permanent,
        }
    }

    /// The HTTP status, when the server gave one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Makes requests; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    /// Clients for feeds with their own proxy, made on first use.
    proxied: Arc<Mutex<HashMap<String, reqwest::Client>>>,
    config: Arc<FetchConfig>,
    hosts: Arc<HostLimits>,
}

impl Fetcher {
    /// A fetcher with the limits of `config`.
    pub fn new(config: &FetchConfig) -> Result<Fetcher, FetchError> {
        Ok(Fetcher {
            client: build_client(config, None)?,
            proxied: Arc::default(),
            config: Arc::new(config.clone()),
            hosts: Arc::new(HostLimits::new(config)),
        })
    }

    fn client_for(&self, http: &FeedHttp) -> Result<reqwest::Client, FetchError> {
        let Some(proxy) = &http.proxy else {
            return Ok(self.client.clone());
        };
        let mut map = self.proxied.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get(proxy.expose()) {
            return Ok(c.clone());
        }
        let c = build_client(&self.config, Some(proxy.expose()))?;
        map.insert(proxy.expose().to_string(), c.clone());
        Ok(c)
    }
}

fn build_client(config: &FetchConfig, proxy: Option<&str>) -> Result<reqwest::Client, FetchError> {
    {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/atom+xml, application/rss+xml, application/feed+json, \
                 application/rdf+xml;q=0.9, application/json;q=0.9, application/xml;q=0.9, \
                 text/xml;q=0.9, */*;q=0.8",
            ),
        );
        let mut b = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.per_host);
        if let Some(p) = proxy {
            // The proxy URL may carry credentials: keep it out of errors.
            let proxy = reqwest::Proxy::all(p)
                .map_err(|_| FetchError::Unsupported("invalid proxy url".into()))?;
            b = b.proxy(proxy);
        }
        b.build().map_err(|e| FetchError::Connect(error_chain(&e)))
    }
}

impl Fetcher {
    /// The shared fetch settings.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Fetches `req.url`, following redirects, within `req.timeout`.
    pub async fn fetch(&self, req: &Request<'_>) -> Result<Fetched, FetchError> {
        match req.url.scheme() {
            "file" => fetch_file(req).await,
            "http" | "https" => {
                match tokio::time::timeout(req.timeout, self.fetch_http(req)).await {
                    Ok(r) => r,
                    Err(_) => Err(FetchError::Timeout(req.timeout)),
                }
            }
            _ => Err(FetchError::Unsupported(req.url.to_string())),
        }
    }

    async fn fetch_http(&self, req: &Request<'_>) -> Result<Fetched, FetchError> {
        let mut url = req.url.clone();
        let mut redirects: Vec<Redirect> = Vec::new();
        loop {
            let _permit = self.hosts.acquire(&url).await;
            let mut rb = self
                .client_for(req.http)?
                .get(url.clone())
                .timeout(req.timeout);
            if let Some(ua) = req.user_agent {
                rb = rb.header(header::USER_AGENT, ua);
            }
            // Credentials go to the configured host only, never along a
            // redirect to another one.
            let same_host = url.host_str() == req.url.host_str();
            if let (Some(user), true) = (&req.http.username, same_host) {
                rb = rb.basic_auth(user, req.http.password.as_ref().map(|p| p.expose()));
            }
            for (name, value) in &req.http.headers {
                if same_host {
                    rb = rb.header(name.as_str(), value.expose());
                }
            }
            if let Some(etag) = &req.validators.etag {
                rb = rb.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &req.validators.last_modified {
                rb = rb.header(header::IF_MODIFIED_SINCE, lm);
            }
            let resp = rb
                .send()
                .await
                .map_err(|e| classify_reqwest(&e, req.timeout))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let to = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| url.join(loc).ok())
                    .ok_or_else(|| {
                        FetchError::Redirects(format!(
                            "HTTP {} without a usable Location",
                            status.as_u16()
                        ))
                    })?;
                if to == url || redirects.iter().any(|r| r.to == to) || to == *req.url {
                    return Err(FetchError::Redirects(format!("redirect loop at {to}")));
                }
                if redirects.len() >= self.config.max_redirects {
                    return Err(FetchError::Redirects(format!(
                        "more than {} redirects (last: {to})",
                        self.config.max_redirects
                    )));
                }
                if !matches!(to.scheme(), "http" | "https") {
                    return Err(FetchError::Redirects(format!(
                        "redirect to unsupported url {to}"
                    )));
                }
                redirects.push(Redirect {
                    status: status.as_u16(),
                    to: to.clone(),
                });
                url = to;
                continue;
            }
            let headers = resp.headers();
            let mut meta = ResponseMeta {
                status: status.as_u16(),
                validators: Validators {
                    etag: header_str(headers, header::ETAG),
                    last_modified: header_str(headers, header::LAST_MODIFIED),
                },
                cache_control: header_str(headers, header::CACHE_CONTROL),
                expires: header_str(headers, header::EXPIRES),
                redirects,
                final_url: Some(url.clone()),
            };
            if status == StatusCode::NOT_MODIFIED {
                if meta.validators.is_empty() {
                    meta.validators = req.validators.clone();
                }
                return Ok(Fetched::NotModified { meta });
            }
            if !status.is_success() {
                let retry_after = header_str(headers, header::RETRY_AFTER);
                return Err(FetchError::Status {
                    status: status.as_u16(),
                    retry_after,
                    redirects: meta.redirects,
                });
            }
            let content_type = header_str(headers, header::CONTENT_TYPE);
            if let Some(len) = resp.content_length() {
                // Only trust a declared length when nothing will be inflated.
                if len > req.max_body && headers.get(header::CONTENT_ENCODING).is_none() {
                    return Err(FetchError::TooLarge {
                        limit: req.max_body,
                    });
                }
            }
            let body = read_capped(resp, req.max_body, req.timeout).await?;
            return Ok(Fetched::Body {
                body,
                content_type,
                meta,
            });
        }
    }
}

async fn read_capped(
    mut resp: reqwest::Response,
    cap: u64,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    let hint = resp.content_length().unwrap_or(0).min(cap) as usize;
    let mut body = Vec::with_capacity(hint);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > cap {
                    return Err(FetchError::TooLarge { limit: cap });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(classify_reqwest(&e, timeout)),
        }
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn classify_reqwest(e: &reqwest::Error, timeout: Duration) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout(timeout)
    } else if e.is_connect() {
        FetchError::Connect(error_chain(e))
    } else if e.is_body() || e.is_decode() {
        FetchError::Body(error_chain(e))
    } else {
        FetchError::Connect(error_chain(e))
    }
}

/// The whole `source()` chain in one line, most specific last, without
/// repeating the URL (reqwest puts it in the first message).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

async fn fetch_file(req: &Request<'_>) -> Result<Fetched, FetchError> {
    let path = req
        .url
        .to_file_path()
        .map_err(|()| FetchError::Unsupported(req.url.to_string()))?;
    let file_err = |e: std::io::Error| FetchError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let md = tokio::fs::metadata(&path).await.map_err(file_err)?;
    let mtime = md.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let nanos = mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let validators = Validators {
        etag: Some(format!("\"{nanos:x}-{:x}\"", md.len())),
        last_modified: None,
    };
    let meta = ResponseMeta {
        status: 0,
        validators: validators.clone(),
        final_url: Some(req.url.clone()),
        ..ResponseMeta::default()
    };
    if req.validators.etag.is_some() && req.validators.etag == validators.etag {
        return Ok(Fetched::NotModified { meta });
    }
    if md.len() > req.max_body {
        return Err(FetchError::TooLarge {
            limit: req.max_body,
        });
    }
    let body = tokio::fs::read(&path).await.map_err(file_err)?;
    Ok(Fetched::Body {
        body,
        content_type: None,
        meta,
    })
}

/// A cap on requests in flight per host (or host group), and a minimum gap
/// between the starts of two requests to it, so that many feeds on one
/// server are fetched a few at a time while other hosts proceed.
struct HostLimits {
    per_host: usize,
    gap: Duration,
    groups: Vec<HostGroup>,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
}

struct HostSlot {
    in_flight: Arc<Semaphore>,
    /// Earliest start of the next request.
    next_start: tokio::sync::Mutex<Instant>,
}

impl HostLimits {
    fn new(config: &FetchConfig) -> HostLimits {
        HostLimits {
            per_host: config.per_host.max(1),
            gap: config.host_gap,
            groups: config.host_groups.clone(),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    async fn acquire(&self, url: &Url) -> OwnedSemaphorePermit {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let (key, limit) = match self.groups.iter().position(|g| g.matches(&host)) {
            Some(i) => (format!("group#{i}"), self.groups[i].limit),
            None => (
                format!("{host}:{}", url.port_or_known_default().unwrap_or(0)),
                self.per_host,
            ),
        };
        let slot = {
            // A std mutex is fine: it is never held across an await.
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(HostSlot {
                        in_flight: Arc::new(Semaphore::new(limit.max(1))),
                        next_start: tokio::sync::Mutex::new(Instant::now()),
                    })
                })
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = Arc::clone(&slot.in_flight)
            .acquire_owned()
            .await
            .expect("host semaphore is never closed");
        if !self.gap.is_zero() {
            let mut next = slot.next_start.lock().await;
            let now = Instant::now();
            if *next > now {
                tokio::time::sleep_until((*next).into()).await;
            }
            *next = Instant::now() + self.gap;
        }
        permit
    }
}

/// Measures how long something took, for the fetch log.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Milliseconds since start.
    pub fn millis(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let s = |status| FetchError::Status {
            status,
            retry_after: None,
            redirects: vec![],
        };
        assert_eq!(s(503).class(), ErrorClass::Transient);
        assert_eq!(s(429).class(), ErrorClass::Transient);
        assert_eq!(s(404).class(), ErrorClass::Permanent);
        assert_eq!(s(410).class(), ErrorClass::Permanent);
        assert_eq!(s(404).to_string(), "HTTP 404 Not Found");
        assert_eq!(
            FetchError::Timeout(Duration::from_secs(2)).class(),
            ErrorClass::Transient
        );
        assert_eq!(
            FetchError::TooLarge { limit: 1 }.class(),
            ErrorClass::Permanent
        );
    }
}
