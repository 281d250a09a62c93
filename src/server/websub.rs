//! `/websub/{token}`: the subscriber's callbacks (see `crate::websub`).
//!
//! - `GET` is a hub's intent verification: `hub.challenge` is echoed only
//!   when the request pending on that token has the same mode and topic
//!   (anything else is 404); `hub.mode=denied` marks a pending
//!   subscription denied.
//! - `POST` is content distribution: for a live subscription only (else
//!   404), the body read up to its feed's `max_body` (else 413), at most
//!   `MAX_PUSHES_READING` at once (else 503). A body without a valid
//!   `X-Hub-Signature` is refused and logged with the feed's name, and
//!   answered `202` as the recommendation asks (a hub retries any other
//!   answer, which would not make the signature valid). A signed body is
//!   handed to the daemon, which stores it like a polled document, one
//!   document per feed at a time: when one already waits for the feed,
//!   the answer is `503` with `Retry-After` and the hub retries later.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tracing::{debug, info, warn};

use super::ServerState;
use crate::store::SharedStore;
use crate::websub::hub::{read_request, Hub, MAX_REQUEST};
use crate::websub::{self, MAX_CHALLENGE, MAX_PUSHES_READING};

/// A signed document for the daemon, and where its answer goes.
#[derive(Debug)]
pub struct Push {
    /// The feed's name.
    pub feed: String,
    /// The document.
    pub pushed: crate::refresh::Pushed,
    /// Whether the daemon took it.
    pub taken: oneshot::Sender<Taken>,
}

/// What the daemon did with a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Stored now or queued behind the feed's refresh in flight.
    Yes,
    /// The feed already has a document waiting: try later.
    Busy,
    /// The feed is not in the config.
    Unknown,
}

/// What the callback routes need.
pub struct Callbacks {
    store: SharedStore,
    pushes: mpsc::Sender<Push>,
    /// Each feed's body cap (its `max_body`, else `[fetch] max_body`).
    caps: RwLock<HashMap<String, u64>>,
    /// The lease assumed when a hub verifies without `hub.lease_seconds`.
    lease_seconds: i64,
    reading: Semaphore,
    /// Tributary's own hub, when it serves one.
    hub: Option<Arc<Hub>>,
    /// The output URLs that may be subscribed to at the hub.
    topics: RwLock<HashSet<String>>,
}

impl Callbacks {
    /// Callbacks answering from `store`, handing documents to `pushes`.
    pub fn new(
        store: SharedStore,
        pushes: mpsc::Sender<Push>,
        config: &crate::config::Config,
        hub: Option<Arc<Hub>>,
    ) -> Callbacks {
        let callbacks = Callbacks {
            hub,
            topics: RwLock::default(),
            store,
            pushes,
            caps: RwLock::default(),
            lease_seconds: config.websub.lease.as_secs() as i64,
            reading: Semaphore::new(MAX_PUSHES_READING),
        };
        callbacks.reload(config);
        callbacks
    }

    /// Takes the body caps of a reloaded config.
    pub fn reload(&self, config: &crate::config::Config) {
        let caps = config
            .feeds
            .iter()
            .map(|f| (f.name.clone(), f.max_body.unwrap_or(config.fetch.max_body)))
            .collect();
        *self.caps.write().unwrap_or_else(|p| p.into_inner()) = caps;
        let topics = crate::websub::river::topics(&crate::output::Site::new(config));
        *self.topics.write().unwrap_or_else(|p| p.into_inner()) = topics;
    }

    fn cap(&self, feed: &str) -> Option<u64> {
        self.caps
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(feed)
            .copied()
    }
}

fn status(code: StatusCode, text: &'static str) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn retry_later() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, "10"),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        "busy: retry later\n",
    )
        .into_response()
}

/// `GET /websub/{token}`: intent verification.
pub(super) async fn verify(
    State(state): State<ServerState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(callbacks) = state.websub.clone().filter(|_| websub::is_token(&token)) else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .take(16)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let get = |k: &str| params.get(k).map(String::as_str);
    let (Some(mode), Some(topic)) = (get("hub.mode"), get("hub.topic")) else {
        return status(
            StatusCode::BAD_REQUEST,
            "hub.mode and hub.topic are required\n",
        );
    };
    let (mode, topic, now) = (mode.to_owned(), topic.to_owned(), Utc::now());
    if mode == "denied" {
        let reason = get("hub.reason")
            .unwrap_or("no reason given")
            .chars()
            .take(200)
            .collect::<String>();
        let retry = now + websub::AFTER_DENIAL;
        let (t, why) = (token.clone(), reason.clone());
        let denied = callbacks
            .store
            .call(move |s| {
                let found = s.subscription_by_token(&t)?;
                Ok(s.subscription_denied(&t, &topic, &why, retry)?
                    .then_some(found)
                    .flatten())
            })
            .await;
        return match denied {
            Ok(Some(sub)) => {
                warn!(feed = %sub.feed, hub = %sub.hub, %reason, "the hub denied the WebSub subscription");
                status(StatusCode::OK, "")
            }
            Ok(None) => status(StatusCode::NOT_FOUND, "not found\n"),
            Err(e) => store_failed(e),
        };
    }
    if mode != "subscribe" && mode != "unsubscribe" {
        return status(StatusCode::BAD_REQUEST, "unknown hub.mode\n");
    }
    let Some(challenge) =
        get("hub.challenge").filter(|c| !c.is_empty() && c.len() <= MAX_CHALLENGE)
    else {
        return status(
            StatusCode::BAD_REQUEST,
            "hub.challenge missing or too long\n",
        );
    };
    let challenge = challenge.to_owned();
    let lease = get("hub.lease_seconds")
        .and_then(|l| l.trim().parse::<i64>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(callbacks.lease_seconds)
        .min(crate::config::MAX_LEASE.as_secs() as i64);
    let t = token.clone();
    let verified = callbacks
        .store
        .call(move |s| {
            let found = s.subscription_by_token(&t)?;
            let renew = websub::renew_at(now, lease);
            Ok(
                s.subscription_verified(&t, &mode, &topic, lease, now, renew)?
                    .then_some(found)
                    .flatten()
                    .map(|sub| (sub, mode)),
            )
        })
        .await;
    match verified {
        Ok(Some((sub, mode))) => {
            info!(feed = %sub.feed, hub = %sub.hub, %mode, lease_seconds = lease, "the hub verified the WebSub request");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                challenge,
            )
                .into_response()
        }
        Ok(None) => {
            debug!("intent verification for no pending request");
            status(StatusCode::NOT_FOUND, "not found\n")
        }
        Err(e) => store_failed(e),
    }
}

fn store_failed(e: crate::store::StoreError) -> Response {
    warn!(error = %e, "WebSub callback: the store failed");
    retry_later()
}

/// `POST /websub/{token}`: content distribution.
pub(super) async fn distribute(
    State(state): State<ServerState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(callbacks) = state.websub.clone().filter(|_| websub::is_token(&token)) else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let now = Utc::now();
    let found = callbacks
        .store
        .call(move |s| s.subscription_by_token(&token))
        .await;
    let sub = match found {
        Ok(Some(sub)) if sub.live(now) => sub,
        Ok(_) => return status(StatusCode::NOT_FOUND, "not found\n"),
        Err(e) => return store_failed(e),
    };
    let Some(cap) = callbacks.cap(&sub.feed) else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let encoded = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    if encoded {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the document without Content-Encoding\n",
        );
    }
    let count = |result| {
        if let Some(m) = &state.metrics {
            m.pushed(result, 0, 0, 0);
        }
    };
    let Ok(_reading) = callbacks.reading.try_acquire() else {
        count("busy");
        return retry_later();
    };
    let bytes = match axum::body::to_bytes(body, usize::try_from(cap).unwrap_or(usize::MAX)).await {
        Ok(b) => b,
        Err(_) => {
            warn!(feed = %sub.feed, cap, "pushed document refused: larger than the feed's max_body (or cut off)");
            count("too_large");
            return status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "larger than this feed's max_body\n",
            );
        }
    };
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    if let Err(e) = websub::verify_signature(signature, sub.secret.as_bytes(), &bytes) {
        warn!(feed = %sub.feed, hub = %sub.hub, bytes = bytes.len(), "pushed document refused: {e}");
        count("refused");
        return status(StatusCode::ACCEPTED, "refused: signature\n");
    }
    let Ok(topic) = url::Url::parse(&sub.topic) else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let (taken, answer) = oneshot::channel();
    let push = Push {
        feed: sub.feed.clone(),
        pushed: crate::refresh::Pushed {
            body: bytes.to_vec(),
            content_type: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            topic,
        },
        taken,
    };
    if callbacks.pushes.send(push).await.is_err() {
        return retry_later();
    }
    match answer.await {
        Ok(Taken::Yes) => status(StatusCode::ACCEPTED, "accepted\n"),
        Ok(Taken::Unknown) => status(StatusCode::NOT_FOUND, "not found\n"),
        Ok(Taken::Busy) | Err(_) => {
            debug!(feed = %sub.feed, "pushed document deferred: one already waits for this feed");
            count("busy");
            retry_later()
        }
    }
}

/// `POST /websub/hub`: a reader subscribes to (or unsubscribes from) an
/// output at Tributary's own hub (see `websub::hub`).
pub(super) async fn hub(State(state): State<ServerState>, body: Body) -> Response {
    let Some((callbacks, hub)) = state
        .websub
        .as_ref()
        .and_then(|c| Some((c, Arc::clone(c.hub.as_ref()?))))
    else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let Ok(form) = axum::body::to_bytes(body, MAX_REQUEST).await else {
        return status(StatusCode::PAYLOAD_TOO_LARGE, "request too large\n");
    };
    let read = {
        let topics = callbacks.topics.read().unwrap_or_else(|p| p.into_inner());
        read_request(&form, &topics)
    };
    let req = match read {
        Ok(req) => req,
        Err(why) => {
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{why}\n"),
            )
                .into_response()
        }
    };
    match hub.accept(req).await {
        Ok(()) => status(
            StatusCode::ACCEPTED,
            "accepted: the callback will be verified\n",
        ),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, "60"),
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            ],
            format!("{why}\n"),
        )
            .into_response(),
    }
}

impl ServerState {
    /// The same state, answering WebSub callbacks with `callbacks`.
    pub fn with_websub(mut self, callbacks: Arc<Callbacks>) -> ServerState {
        self.websub = Some(callbacks);
        self
    }
}
