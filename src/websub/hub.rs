//! Tributary as a WebSub hub for its own outputs (`[websub] serve_hub`),
//! at `{base_url}websub/hub`, which the outputs advertise.
//!
//! A reader POSTs `hub.mode=subscribe` (or `unsubscribe`) with its
//! `hub.callback`, a `hub.topic` that is one of the outputs' URLs, and
//! optionally `hub.lease_seconds` and `hub.secret`; the hub answers `202`
//! and verifies the intent with a GET to the callback carrying a
//! `hub.challenge`, which the callback must echo. When an output
//! document changes, the new document is POSTed to each subscriber of its
//! URL, with `Link` headers naming the hub and the topic and, when a
//! secret was given, `X-Hub-Signature: sha256=…`. A failed delivery is
//! retried after [`RETRIES`]; a newer document for the same subscriber
//! replaces one still waiting; `410 Gone` ends the subscription.
//!
//! # Bounds
//! The callback is an untrusted URL: it is called through the fetch
//! client with the address rules of a feed configured at a public address
//! (loopback and private addresses refused) unless `[websub]
//! private_callbacks = true`; `[fetch] block_private_addresses` applies
//! either way. A request body is at most [`MAX_REQUEST`] bytes; a callback
//! at most `MAX_URL`; a secret under 200 bytes; leases at most
//! [`MAX_LEASE`]; at most [`MAX_SUBSCRIBERS`] subscriptions, at most
//! [`MAX_VERIFYING`] verifications and [`MAX_DELIVERING`] deliveries at
//! once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Semaphore;
use tracing::{info, warn};
use url::Url;

use super::river::Changed;
use super::{random_hex, sign, MAX_CHALLENGE, MAX_URL, REQUEST_TIMEOUT};
use crate::config::Config;
use crate::fetch::{FetchError, Fetcher, Outgoing};
use crate::store::{RiverSubscriber, SharedStore};

/// Where the hub answers, under `[server] base_url`.
pub const HUB_PATH: &str = "websub/hub";
/// Largest subscription request body.
pub const MAX_REQUEST: usize = 8 * 1024;
/// Longest `hub.secret` (the recommendation: under 200 bytes).
pub const MAX_SECRET: usize = 199;
/// The lease when a subscriber asks for none.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10 * 24 * 3600);
/// The longest lease granted.
pub const MAX_LEASE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Most subscriptions held.
pub const MAX_SUBSCRIBERS: usize = 10_000;
/// Intent verifications at once.
pub const MAX_VERIFYING: usize = 16;
/// Deliveries at once.
pub const MAX_DELIVERING: usize = 4;
/// Waits before each new try of a failed delivery.
pub const RETRIES: [Duration; 5] = [
    Duration::from_secs(2),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(1800),
];

/// The hub's URL under `base_url`.
pub fn hub_url(base_url: &Url) -> Url {
    base_url.join(HUB_PATH).expect("a fixed path joins")
}

/// A subscriber's request, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Subscribing (else unsubscribing).
    pub subscribe: bool,
    /// Where to call back.
    pub callback: Url,
    /// The output URL.
    pub topic: String,
    /// The secret to sign deliveries with.
    pub secret: Option<String>,
    /// The lease granted, in seconds.
    pub lease_seconds: u64,
}

/// Reads a subscription request's form; `topics` are the URLs that may be
/// subscribed to. The error is the answer's text.
pub fn read_request(form: &[u8], topics: &HashSet<String>) -> Result<Request, &'static str> {
    let fields: HashMap<String, String> = url::form_urlencoded::parse(form)
        .take(32)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| fields.get(k).map(String::as_str);
    let subscribe = match get("hub.mode") {
        Some("subscribe") => true,
        Some("unsubscribe") => false,
        _ => return Err("hub.mode must be subscribe or unsubscribe"),
    };
    let callback = get("hub.callback")
        .filter(|c| c.len() <= MAX_URL)
        .and_then(|c| Url::parse(c).ok())
        .filter(|c| matches!(c.scheme(), "http" | "https") && c.host_str().is_some())
        .filter(|c| c.username().is_empty() && c.password().is_none())
        .ok_or("hub.callback must be an http(s) URL")?;
    let topic = get("hub.topic")
        .filter(|t| topics.contains(*t))
        .ok_or("hub.topic is not a feed of this hub")?
        .to_string();
    let secret = match get("hub.secret") {
        Some(s) if s.len() > MAX_SECRET => return Err("hub.secret must be under 200 bytes"),
        Some("") | None => None,
        Some(s) => Some(s.to_string()),
    };
    let lease_seconds = match get("hub.lease_seconds") {
        None => DEFAULT_LEASE.as_secs(),
        Some(l) => l
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|l| *l > 0)
            .ok_or("hub.lease_seconds must be a positive number")?
            .min(MAX_LEASE.as_secs()),
    };
    Ok(Request {
        subscribe,
        callback,
        topic,
        secret,
        lease_seconds,
    })
}

/// The hub: verifications and deliveries. Cheap to share.
pub struct Hub {
    fetcher: Fetcher,
    store: SharedStore,
    url: Url,
    private_callbacks: bool,
    verifying: Arc<Semaphore>,
    delivering: Arc<Semaphore>,
    /// The latest document number per (callback, topic): a delivery whose
    /// number is no longer the latest stops retrying.
    latest: Mutex<HashMap<(String, String), u64>>,
    sequence: std::sync::atomic::AtomicU64,
}

/// Placeholder "configured" URL of a callback: a public one, so that the
/// rules of a feed configured at a public address apply.
const PUBLIC: &str = "https://callback.invalid/";

impl Hub {
    /// The hub of `config`, when `[websub] serve_hub` is on.
    pub fn for_config(config: &Config, store: SharedStore) -> Result<Option<Arc<Hub>>, FetchError> {
        if !config.websub.serve_hub {
            return Ok(None);
        }
        Ok(Some(Arc::new(Hub {
            fetcher: Fetcher::new(&config.fetch)?,
            store,
            url: hub_url(&config.server.base_url),
            private_callbacks: config.websub.private_callbacks,
            verifying: Arc::new(Semaphore::new(MAX_VERIFYING)),
            delivering: Arc::new(Semaphore::new(MAX_DELIVERING)),
            latest: Mutex::default(),
            sequence: Default::default(),
        })))
    }

    /// Takes a checked request: `Err` (the answer's text) when the hub is
    /// full or busy; else the intent is verified in a task of its own.
    pub async fn accept(self: &Arc<Hub>, req: Request) -> Result<(), &'static str> {
        let Ok(permit) = Arc::clone(&self.verifying).try_acquire_owned() else {
            return Err("busy: retry later");
        };
        if req.subscribe {
            let count = self.store.call(|s| s.river_subscriber_count()).await;
            if count.map_or(true, |n| n >= MAX_SUBSCRIBERS) {
                return Err("this hub takes no more subscriptions");
            }
        }
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            let _permit = permit;
            hub.verify(req).await;
        });
        Ok(())
    }

    fn outgoing<'a>(&self, callback: &'a Url, configured: &'a Url) -> Outgoing<'a> {
        Outgoing {
            url: callback,
            configured: if self.private_callbacks {
                callback
            } else {
                configured
            },
            internal: self.private_callbacks,
            body: None,
            headers: Vec::new(),
            timeout: REQUEST_TIMEOUT,
        }
    }

    async fn verify(&self, req: Request) {
        let challenge = random_hex(16);
        let mode = if req.subscribe {
            "subscribe"
        } else {
            "unsubscribe"
        };
        let mut url = req.callback.clone();
        url.query_pairs_mut()
            .append_pair("hub.mode", mode)
            .append_pair("hub.topic", &req.topic)
            .append_pair("hub.challenge", &challenge)
            .append_pair("hub.lease_seconds", &req.lease_seconds.to_string());
        let public = Url::parse(PUBLIC).expect("a fixed URL parses");
        let answer = self.fetcher.send(&self.outgoing(&url, &public)).await;
        let confirmed = match &answer {
            Ok(a) => {
                (200..300).contains(&a.status)
                    && a.body.len() <= MAX_CHALLENGE
                    && a.body.trim_ascii() == challenge.as_bytes()
            }
            Err(_) => false,
        };
        if !confirmed {
            let why = match answer {
                Ok(a) => format!("HTTP {} without the challenge", a.status),
                Err(e) => e.to_string(),
            };
            return warn!(callback = %req.callback, topic = %req.topic, %mode, error = %why, "hub: intent not verified");
        }
        let now = Utc::now();
        let sub = RiverSubscriber {
            callback: req.callback.to_string(),
            topic: req.topic.clone(),
            secret: req.secret,
            lease_expires_at: Some(now + chrono::Duration::seconds(req.lease_seconds as i64)),
        };
        let stored = if req.subscribe {
            self.store.call(move |s| s.river_subscribe(&sub, now)).await
        } else {
            self.store
                .call(move |s| s.river_unsubscribe(&sub.callback, &sub.topic).map(drop))
                .await
        };
        match stored {
            Ok(()) => {
                info!(callback = %req.callback, topic = %req.topic, %mode, lease_seconds = req.lease_seconds, "hub: subscription verified")
            }
            Err(e) => warn!(error = %e, "hub: storing a subscription failed"),
        }
    }

    /// Delivers each changed document to the subscribers of its URL, each
    /// in a task of its own (bounded by [`MAX_DELIVERING`] at once).
    pub async fn deliver(self: &Arc<Hub>, changed: Vec<Changed>) {
        for doc in changed {
            let topic = doc.url.clone();
            let now = Utc::now();
            let subscribers = match self
                .store
                .call(move |s| s.river_subscribers(&topic, now))
                .await
            {
                Ok(s) => s,
                Err(e) => {
                    warn!(error = %e, "hub: reading the subscribers failed");
                    continue;
                }
            };
            let bytes: Arc<[u8]> = doc.bytes.into();
            for sub in subscribers {
                let seq = self
                    .sequence
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.latest
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert((sub.callback.clone(), sub.topic.clone()), seq);
                let (hub, bytes, format) = (Arc::clone(self), Arc::clone(&bytes), doc.format);
                tokio::spawn(
                    async move { hub.deliver_one(sub, bytes, format.media_type(), seq).await },
                );
            }
        }
    }

    fn is_latest(&self, sub: &RiverSubscriber, seq: u64) -> bool {
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(sub.callback.clone(), sub.topic.clone()))
            == Some(&seq)
    }

    /// Drops the bookkeeping of a delivery that ended, unless a newer one
    /// for the same subscriber is under way.
    fn forget_if_latest(&self, sub: &RiverSubscriber, seq: u64) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let key = (sub.callback.clone(), sub.topic.clone());
        if latest.get(&key) == Some(&seq) {
            latest.remove(&key);
        }
    }

    async fn deliver_one(
        &self,
        sub: RiverSubscriber,
        bytes: Arc<[u8]>,
        content_type: &'static str,
        seq: u64,
    ) {
        let Ok(callback) = Url::parse(&sub.callback) else {
            return;
        };
        let public = Url::parse(PUBLIC).expect("a fixed URL parses");
        let mut headers = vec![(
            "link",
            format!("<{}>; rel=\"hub\", <{}>; rel=\"self\"", self.url, sub.topic),
        )];
        if let Some(secret) = &sub.secret {
            headers.push(("x-hub-signature", sign(secret.as_bytes(), &bytes)));
        }
        let mut waits = RETRIES.iter();
        loop {
            let answer = {
                let Ok(_slot) = self.delivering.acquire().await else {
                    return;
                };
                let mut req = self.outgoing(&callback, &public);
                req.body = Some((content_type, bytes.to_vec()));
                req.headers = headers.clone();
                self.fetcher.send(&req).await
            };
            let error = match answer {
                Ok(a) if (200..300).contains(&a.status) => None,
                Ok(a) if a.status == 410 => {
                    info!(callback = %sub.callback, topic = %sub.topic, "hub: the subscriber is gone (410)");
                    let (c, t) = (sub.callback.clone(), sub.topic.clone());
                    let _ = self.store.call(move |s| s.river_unsubscribe(&c, &t)).await;
                    return;
                }
                Ok(a) => Some(format!("HTTP {}", a.status)),
                Err(e) => Some(e.to_string()),
            };
            let (c, t, e) = (sub.callback.clone(), sub.topic.clone(), error.clone());
            let _ = self
                .store
                .call(move |s| s.river_delivered(&c, &t, e.as_deref(), Utc::now()))
                .await;
            let Some(error) = error else {
                self.forget_if_latest(&sub, seq);
                return;
            };
            let Some(wait) = waits.next() else {
                self.forget_if_latest(&sub, seq);
                return warn!(callback = %sub.callback, topic = %sub.topic, %error, "hub: delivery given up");
            };
            warn!(callback = %sub.callback, topic = %sub.topic, %error, retry_in = ?wait, "hub: delivery failed");
            tokio::time::sleep(*wait).await;
            if !self.is_latest(&sub, seq) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> HashSet<String> {
        ["https://river.example/feed.atom".to_string()].into()
    }

    #[test]
    fn requests_are_checked() {
        let ok = read_request(
            b"hub.mode=subscribe&hub.callback=https%3A%2F%2Freader.example%2Fcb&hub.topic=https%3A%2F%2Friver.example%2Ffeed.atom&hub.secret=s&hub.lease_seconds=99999999",
            &topics(),
        )
        .unwrap();
        assert!(ok.subscribe);
        assert_eq!(ok.callback.as_str(), "https://reader.example/cb");
        assert_eq!(ok.secret.as_deref(), Some("s"));
        assert_eq!(ok.lease_seconds, MAX_LEASE.as_secs());
        let topic = "&hub.topic=https%3A%2F%2Friver.example%2Ffeed.atom";
        let cb = "&hub.callback=https%3A%2F%2Freader.example%2Fcb";
        let bad = [
            format!("hub.mode=publish{cb}{topic}"),
            format!("hub.mode=subscribe{topic}"),
            format!("hub.mode=subscribe&hub.callback=file%3A%2F%2F%2Fetc%2Fpasswd{topic}"),
            format!(
                "hub.mode=subscribe&hub.callback=https%3A%2F%2Fu%3Ap%40reader.example%2F{topic}"
            ),
            format!("hub.mode=subscribe{cb}&hub.topic=https%3A%2F%2Felsewhere.example%2F"),
            format!(
                "hub.mode=subscribe{cb}{topic}&hub.secret={}",
                "s".repeat(200)
            ),
            format!("hub.mode=subscribe{cb}{topic}&hub.lease_seconds=-1"),
        ];
        for form in bad {
            assert!(read_request(form.as_bytes(), &topics()).is_err(), "{form}");
        }
        let unsub = read_request(
            format!("hub.mode=unsubscribe{cb}{topic}").as_bytes(),
            &topics(),
        )
        .unwrap();
        assert!(!unsub.subscribe);
        assert_eq!(unsub.lease_seconds, DEFAULT_LEASE.as_secs());
    }
}
