//! A POST (WebSub requests to hubs and deliveries to subscribers' callbacks) or a
//! GET whose body only matters up to a small cap (intent verification): the same clients,
//! address rules and per-host limits as a fetch, redirects not followed,
//! the answer read up to a small cap.

use std::time::Duration;

use reqwest::header;
use url::Url;

use super::{classify_reqwest, guard, FetchError, Fetcher};
use crate::config::FeedHttp;

/// The most of an answer's body that is read (hubs answer with a line or
/// two; a challenge echo is short).
pub const MAX_ANSWER: u64 = 4096;

/// What a server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body, at most [`MAX_ANSWER`] bytes of it.
    pub body: Vec<u8>,
}

/// One outgoing request.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// Where it goes.
    pub url: &'a Url,
    /// The URL that bounds where it may go (see [`guard::Reach`]): the
    /// feed's configured URL for a hub it names, the callback itself for a
    /// subscriber's callback.
    pub configured: &'a Url,
    /// Whether `configured` is marked `internal`.
    pub internal: bool,
    /// `None`: a GET; else a POST of this body.
    pub body: Option<(&'static str, Vec<u8>)>,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Limit on the whole exchange.
    pub timeout: Duration,
}

impl Fetcher {
    /// Sends `req` and reads the answer (up to [`MAX_ANSWER`] bytes). A
    /// redirect is an answer like any other: it is not followed.
    pub async fn send(&self, req: &Outgoing<'_>) -> Result<Answer, FetchError> {
        let rules = guard::Rules {
            guard: self.config.block_private_addresses,
            reach: guard::reach(req.configured, req.internal),
        };
        rules.check(req.url).map_err(|b| FetchError::Blocked(b.0))?;
        if !matches!(req.url.scheme(), "http" | "https") {
            return Err(FetchError::Unsupported(req.url.to_string()));
        }
        let client = self.client_for(&FeedHttp::default(), rules)?;
        let exchange = async {
            let _permit = self.hosts.acquire(req.url, Duration::ZERO).await;
            let mut rb = match &req.body {
                Some((content_type, body)) => client
                    .post(req.url.clone())
                    .header(header::CONTENT_TYPE, *content_type)
                    .body(body.clone()),
                None => client.get(req.url.clone()),
            };
            for (name, value) in &req.headers {
                rb = rb.header(*name, value);
            }
            let mut resp = rb
                .timeout(req.timeout)
                .send()
                .await
                .map_err(|e| classify_reqwest(&e, req.timeout, rules))?;
            let status = resp.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| classify_reqwest(&e, req.timeout, rules))?
            {
                let room = (MAX_ANSWER as usize).saturating_sub(body.len());
                body.extend_from_slice(&chunk[..room.min(chunk.len())]);
                if room <= chunk.len() {
                    break;
                }
            }
            Ok(Answer { status, body })
        };
        match tokio::time::timeout(req.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(req.timeout)),
        }
    }
}
