//! The subscriber's requests to hubs: subscribe when a feed announces a
//! hub, renew before the lease ends, retry with backoff, unsubscribe
//! feeds that left the config. What each request changed is in the store
//! (`websub_subscriptions`); the hub's answers come to the callback
//! routes (`server::websub`).
//!
//! A hub is contacted like the feed that named it is fetched: through the
//! same client, with the same address rules (a feed configured at a
//! public address cannot make Tributary post to a private one).

use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};
use url::Url;

use super::{
    random_hex, retry_delay, GIVE_UP, REQUEST_TIMEOUT, SECRET_BYTES, TOKEN_BYTES, VERIFY_WAIT,
};
use crate::config::FeedConfig;
use crate::fetch::{Fetcher, Outgoing};
use crate::refresh::Announced;
use crate::store::{self, NewSubscription, SharedStore, Subscription};

/// Sends subscription requests; cheap to clone.
#[derive(Clone)]
pub struct Subscriber {
    fetcher: Fetcher,
    store: SharedStore,
    /// `[server] base_url`: callbacks are `{base_url}websub/{token}`.
    base_url: Url,
    /// The lease asked for.
    lease: Duration,
}

/// The callback URL of `token` under `base_url`.
pub fn callback(base_url: &Url, token: &str) -> Url {
    base_url
        .join(&format!("websub/{token}"))
        .expect("a token is a path segment")
}

impl Subscriber {
    /// A subscriber whose callbacks live under `base_url`, asking hubs for
    /// leases of `lease`.
    pub fn new(fetcher: Fetcher, store: SharedStore, base_url: Url, lease: Duration) -> Subscriber {
        Subscriber {
            fetcher,
            store,
            base_url,
            lease,
        }
    }

    /// After a fetch of `feed` announced `hub`: subscribes, unless the
    /// feed is subscribed (or being subscribed) to that hub and topic.
    pub async fn ensure(&self, feed: &FeedConfig, hub: &Announced) -> store::Result<()> {
        let name = feed.name.clone();
        let row = self.store.call(move |s| s.feed_by_name(&name)).await?;
        let Some(row) = row else { return Ok(()) };
        let id = row.id;
        let current = self.store.call(move |s| s.subscription_of(id)).await?;
        if current.is_some_and(|s| s.hub == hub.hub.as_str() && s.topic == hub.topic.as_str()) {
            return Ok(());
        }
        let new = NewSubscription {
            feed_id: id,
            hub: hub.hub.to_string(),
            topic: hub.topic.to_string(),
            token: random_hex(TOKEN_BYTES),
            secret: random_hex(SECRET_BYTES),
        };
        info!(feed = %feed.name, hub = %hub.hub, topic = %hub.topic, "subscribing to the feed's WebSub hub");
        let tried = Tried {
            feed: feed.name.clone(),
            attempts: 0,
            unverified: false,
        };
        self.subscribe(&feed.url, feed.http.internal, new, tried)
            .await
    }

    /// Acts on a subscription that is due (see
    /// `Store::subscriptions_due`): `feed` is its feed's config, `None`
    /// when the feed left the config (or subscribing was turned off).
    pub async fn act(
        &self,
        sub: Subscription,
        feed: Option<&FeedConfig>,
        now: DateTime<Utc>,
    ) -> store::Result<()> {
        let Some(feed) = feed.filter(|_| sub.feed_active) else {
            return self.unsubscribe(sub, now).await;
        };
        // A request the hub never verified counts as a failure.
        let unverified = sub.pending.is_some();
        if unverified {
            warn!(feed = %sub.feed, hub = %sub.hub, "the hub did not verify the subscription in time: asking again");
        } else if sub.state == "active" {
            info!(feed = %sub.feed, hub = %sub.hub, "renewing the WebSub lease");
        }
        let tried = Tried {
            feed: sub.feed.clone(),
            attempts: sub.attempts,
            unverified,
        };
        let new = NewSubscription {
            feed_id: sub.feed_id,
            hub: sub.hub,
            topic: sub.topic,
            token: sub.token,
            secret: sub.secret,
        };
        self.subscribe(&feed.url, feed.http.internal, new, tried)
            .await
    }

    async fn subscribe(
        &self,
        configured: &Url,
        internal: bool,
        new: NewSubscription,
        tried: Tried,
    ) -> store::Result<()> {
        let now = Utc::now();
        let recorded = new.clone();
        self.store
            .call(move |s| s.subscription_requested(&recorded, now))
            .await?;
        let form = form(&[
            (
                "hub.callback",
                callback(&self.base_url, &new.token).as_str(),
            ),
            ("hub.mode", "subscribe"),
            ("hub.topic", &new.topic),
            ("hub.lease_seconds", &self.lease.as_secs().to_string()),
            ("hub.secret", &new.secret),
        ]);
        let sent = self.post(&new.hub, configured, internal, form).await;
        self.answered(new.feed_id, sent, tried, now).await
    }

    async fn unsubscribe(&self, sub: Subscription, now: DateTime<Utc>) -> store::Result<()> {
        let id = sub.feed_id;
        if sub.state != "active" && sub.state != "subscribing" && sub.state != "unsubscribing" {
            // Never verified: nothing at the hub to undo.
            return self.store.call(move |s| s.drop_subscription(id)).await;
        }
        info!(feed = %sub.feed, hub = %sub.hub, "unsubscribing from the WebSub hub: the feed left the config");
        self.store
            .call(move |s| s.unsubscription_requested(id, now))
            .await?;
        let form = form(&[
            (
                "hub.callback",
                callback(&self.base_url, &sub.token).as_str(),
            ),
            ("hub.mode", "unsubscribe"),
            ("hub.topic", &sub.topic),
        ]);
        // The feed's config is gone: the hub, which was reached for it
        // before, bounds where this request may go.
        let hub = Url::parse(&sub.hub).ok();
        let sent = match &hub {
            Some(hub) => self.post(hub.as_str(), hub, false, form).await,
            None => Err(format!("invalid hub URL {}", sub.hub)),
        };
        let tried = Tried {
            feed: sub.feed,
            attempts: sub.attempts,
            unverified: sub.state == "unsubscribing",
        };
        self.answered(id, sent, tried, now).await
    }

    /// Records what the hub answered: when it accepted, the next look is
    /// after [`VERIFY_WAIT`]; when not, a retry after a backoff. A request
    /// sent again because the hub never verified the previous one counts
    /// as a failure even when accepted, so that a hub that accepts and
    /// never verifies is given up on after [`GIVE_UP`] tries.
    async fn answered(
        &self,
        id: crate::model::FeedId,
        sent: Result<(), String>,
        tried: Tried,
        now: DateTime<Utc>,
    ) -> store::Result<()> {
        let backoff = retry_delay(tried.attempts);
        let (error, next) = match sent {
            Ok(()) if tried.unverified => (
                Some("the hub did not verify the previous request".to_string()),
                now + VERIFY_WAIT.max(backoff),
            ),
            Ok(()) => (None, now + VERIFY_WAIT),
            Err(e) => (Some(e), now + backoff),
        };
        if let Some(e) = &error {
            warn!(feed = %tried.feed, error = %e, "WebSub request failed");
        }
        let feed = id;
        self.store
            .call(move |s| s.subscription_answered(feed, error.as_deref(), next, GIVE_UP))
            .await
    }

    /// POSTs `form` to `hub`; a 2xx answer is acceptance.
    async fn post(
        &self,
        hub: &str,
        configured: &Url,
        internal: bool,
        form: Vec<u8>,
    ) -> Result<(), String> {
        let url = Url::parse(hub).map_err(|e| format!("invalid hub URL {hub}: {e}"))?;
        let answer = self
            .fetcher
            .send(&Outgoing {
                url: &url,
                configured,
                internal,
                body: Some(("application/x-www-form-urlencoded", form)),
                headers: Vec::new(),
                timeout: REQUEST_TIMEOUT,
            })
            .await
            .map_err(|e| format!("hub {url}: {e}"))?;
        if (200..300).contains(&answer.status) {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&answer.body);
        let said: String = said
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        Err(format!("hub {url} answered HTTP {}: {said}", answer.status)
            .trim_end_matches([':', ' '])
            .to_string())
    }
}

/// A request about to be sent again, or for the first time.
struct Tried {
    /// The feed's name (for the log).
    feed: String,
    /// Failures in a row so far.
    attempts: u32,
    /// Whether the hub never verified the previous request.
    unverified: bool,
}

/// `pairs` as an `application/x-www-form-urlencoded` body.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}
