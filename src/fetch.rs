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
//!
//! Helpers live beside it: [`guard`], where a fetch may go (the optional
//! refusal of private addresses, and the rule that keeps feeds configured
//! at public addresses on public ones); [`credentials`], which keeps a
//! feed's credentials on the origin of its configured URL; [`redact`], which
//! scrubs secrets from every URL and message that is kept or shown; `file`
//! for `file://` feeds; `hosts` for the per-host limits.
//!
//! Proxies named by the environment (`HTTP_PROXY`, `HTTPS_PROXY`,
//! `ALL_PROXY`) are ignored unless `[fetch] proxy = "env"`: a proxy
//! resolves names itself, out of reach of the address checks.

pub mod credentials;
mod error;
mod file;
pub mod guard;
mod hosts;
mod post;
pub mod redact;
mod tls;

pub use error::{ErrorClass, FetchError};
pub use post::{Answer, Outgoing, MAX_ANSWER};
pub use redact::{url_has_secret, Redactor};
pub use tls::{client_builder, install_crypto_provider};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use url::Url;

use crate::config::{FeedHttp, FetchConfig, ProxyMode};
use crate::model::Validators;
use guard::Rules;
use hosts::HostLimits;

/// What a request may carry and how much it may cost.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Where to go.
    pub url: &'a Url,
    /// The URL in the config (or the one the operator gave): credentials
    /// belong to its origin, and its address bounds where hops may go
    /// (see [`guard::Reach`]). `url` itself differs after a move.
    pub configured: &'a Url,
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
    /// At least this long between the starts of two requests to the host
    /// after this one (a `Crawl-delay`); the larger of it and
    /// `[fetch] host_gap` applies. Zero: `host_gap` alone.
    pub min_gap: Duration,
    /// Keep the first `max_body` bytes of a larger body instead of failing
    /// (robots.txt: RFC 9309 has crawlers read the first 500 KiB).
    pub truncate: bool,
    /// Asked before each redirect is followed (article pages: the
    /// target's robots.txt); `None` follows every hop the address rules
    /// allow.
    pub hops: Option<&'a dyn HopGate>,
}

/// Decides whether a redirect may be followed, before its target is
/// requested.
pub trait HopGate: Send + Sync + std::fmt::Debug {
    /// `Err((class, why))` ends the chain with [`FetchError::HopRefused`].
    fn allow<'a>(
        &'a self,
        to: &'a Url,
    ) -> futures_util::future::BoxFuture<'a, Result<(), (ErrorClass, String)>>;
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
    /// The WebSub links of the `Link` header(s).
    pub links: crate::websub::Links,
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

/// Makes requests; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Fetcher {
    /// For feeds that may reach any address.
    client: reqwest::Client,
    /// For feeds that must stay on public addresses: names resolve through
    /// the guard's resolver.
    public: reqwest::Client,
    /// Clients for feeds with their own proxy, made on first use.
    proxied: Arc<Mutex<HashMap<String, reqwest::Client>>>,
    config: Arc<FetchConfig>,
    hosts: Arc<HostLimits>,
}

impl Fetcher {
    /// A fetcher with the limits of `config`.
    pub fn new(config: &FetchConfig) -> Result<Fetcher, FetchError> {
        Ok(Fetcher {
            client: build_client(config, None, false)?,
            public: build_client(config, None, true)?,
            proxied: Arc::default(),
            config: Arc::new(config.clone()),
            hosts: Arc::new(HostLimits::new(config)),
        })
    }

    fn client_for(&self, http: &FeedHttp, rules: Rules) -> Result<reqwest::Client, FetchError> {
        let Some(proxy) = &http.proxy else {
            return Ok(if rules.public_only() {
                self.public.clone()
            } else {
                self.client.clone()
            });
        };
        let mut map = self.proxied.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get(proxy.expose()) {
            return Ok(c.clone());
        }
        let c = build_client(&self.config, Some(proxy.expose()), false)?;
        map.insert(proxy.expose().to_string(), c.clone());
        Ok(c)
    }
}

/// A client with `config`'s limits; `public_only` makes names resolve to
/// public addresses only (unless a proxy resolves them).
fn build_client(
    config: &FetchConfig,
    proxy: Option<&str>,
    public_only: bool,
) -> Result<reqwest::Client, FetchError> {
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
        let mut b = client_builder()
            .default_headers(headers)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.per_host);
        if let Some(p) = proxy {
            // The proxy URL may carry credentials: keep it out of errors.
            let proxy = reqwest::Proxy::all(p)
                .map_err(|_| FetchError::Unsupported("invalid proxy url".into()))?;
            b = b.no_proxy().proxy(proxy);
        } else if config.proxy == ProxyMode::Env {
            // reqwest reads HTTP_PROXY and friends by default; the proxy
            // then resolves the names it is sent (literal IPs are still
            // checked before each hop).
        } else {
            b = b.no_proxy();
            if public_only {
                b = b.dns_resolver(Arc::new(guard::PublicOnly));
            }
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
        let rules = self.rules(req);
        rules.check(req.url).map_err(|b| FetchError::Blocked(b.0))?;
        match req.url.scheme() {
            "file" if req.configured.scheme() == "file" => file::fetch(req).await,
            "http" | "https" => {
                match tokio::time::timeout(req.timeout, self.fetch_http(req, rules)).await {
                    Ok(r) => r,
                    Err(_) => Err(FetchError::Timeout(req.timeout)),
                }
            }
            _ => Err(FetchError::Unsupported(req.url.to_string())),
        }
    }

    /// The address rules for `req`: the guard, and the reach of the feed's
    /// configured URL.
    fn rules(&self, req: &Request<'_>) -> Rules {
        Rules {
            guard: self.config.block_private_addresses,
            reach: guard::reach(req.configured, req.http.internal),
        }
    }

    async fn fetch_http(&self, req: &Request<'_>, rules: Rules) -> Result<Fetched, FetchError> {
        let mut url = req.url.clone();
        let mut redirects: Vec<Redirect> = Vec::new();
        let client = self.client_for(req.http, rules)?;
        loop {
            // Every hop: a public server may redirect inwards.
            rules.check(&url).map_err(|b| FetchError::Blocked(b.0))?;
            let _permit = self.hosts.acquire(&url, req.min_gap).await;
            // User info is never sent in the URL; it is a credential, sent
            // (as the configured credentials are) only to the configured
            // origin.
            let mut rb = client
                .get(credentials::without_userinfo(&url))
                .timeout(req.timeout);
            if let Some(ua) = req.user_agent {
                rb = rb.header(header::USER_AGENT, ua);
            }
            let creds = credentials::for_hop(req.configured, &url, req.http);
            if let Some((user, password)) = &creds.basic {
                rb = rb.basic_auth(user, password.as_deref());
            }
            for (name, value) in creds.headers {
                rb = rb.header(name, value);
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
                .map_err(|e| classify_reqwest(&e, req.timeout, rules))?;
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
                if let Some(gate) = req.hops {
                    gate.allow(&to)
                        .await
                        .map_err(|(class, why)| FetchError::HopRefused {
                            to: to.to_string(),
                            why,
                            class,
                        })?;
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
                links: crate::websub::links_in_headers(headers),
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
                if len > req.max_body
                    && headers.get(header::CONTENT_ENCODING).is_none()
                    && !req.truncate
                {
                    return Err(FetchError::TooLarge {
                        limit: req.max_body,
                    });
                }
            }
            let body = read_capped(resp, req.max_body, req.truncate, req.timeout, rules).await?;
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
    truncate: bool,
    timeout: Duration,
    rules: Rules,
) -> Result<Vec<u8>, FetchError> {
    let hint = resp.content_length().unwrap_or(0).min(cap) as usize;
    let mut body = Vec::with_capacity(hint);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > cap {
                    if truncate {
                        let room = (cap as usize).saturating_sub(body.len());
                        body.extend_from_slice(&chunk[..room.min(chunk.len())]);
                        return Ok(body);
                    }
                    return Err(FetchError::TooLarge { limit: cap });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(classify_reqwest(&e, timeout, rules)),
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

fn classify_reqwest(e: &reqwest::Error, timeout: Duration, rules: Rules) -> FetchError {
    if let Some(blocked) = guard::find_blocked(e) {
        FetchError::Blocked(format!("{} {}", blocked.0, rules.because()))
    } else if e.is_timeout() {
        FetchError::Timeout(timeout)
    } else if e.is_connect() {
        FetchError::Connect(error_chain(e))
    } else if e.is_body() || e.is_decode() {
        FetchError::Body(error_chain(e))
    } else if e.is_request() {
        // Connected, but what came back was not an HTTP response: name the
        // innermost cause ("message head is too large"), not the layers.
        FetchError::Response(innermost(e))
    } else {
        FetchError::Connect(error_chain(e))
    }
}

/// The last message of the `source()` chain.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
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
mod tests;
