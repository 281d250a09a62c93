//! WebSub subscriptions: one row per feed subscribed to a hub (see the
//! `WEBSUB` migration for the columns), and the state changes the
//! subscriber makes: a request sent, its intent verified or denied, a
//! renewal due, a push received.

use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

use super::{parse_ts, ts, Result, Store};
use crate::model::FeedId;

/// One feed's subscription to a hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The feed.
    pub feed_id: FeedId,
    /// The feed's name.
    pub feed: String,
    /// Whether the feed is still in the config.
    pub feed_active: bool,
    /// The hub's URL.
    pub hub: String,
    /// The topic subscribed to (the feed's `rel="self"` URL).
    pub topic: String,
    /// The callback's secret path segment.
    pub token: String,
    /// The `hub.secret` pushed content is signed with.
    pub secret: String,
    /// `subscribing`, `active`, `unsubscribing`, `denied` or `failed`.
    pub state: String,
    /// The request awaiting the hub's intent verification, if any.
    pub pending: Option<String>,
    /// When the last request was sent.
    pub requested_at: Option<DateTime<Utc>>,
    /// The lease the hub granted, in seconds.
    pub lease_seconds: Option<i64>,
    /// When the lease ends.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When the hub first verified the subscription (renewals keep it):
    /// pushed since then.
    pub verified_at: Option<DateTime<Utc>>,
    /// When the hub last pushed a document that was taken.
    pub last_push_at: Option<DateTime<Utc>>,
    /// When the daemon acts on it next (retry, renewal).
    pub next_action_at: Option<DateTime<Utc>>,
    /// Failed requests in a row.
    pub attempts: u32,
    /// What went wrong last, if anything.
    pub last_error: Option<String>,
}

impl Subscription {
    /// Whether pushes for it are taken at `now`: verified, lease running.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.state == "active" && self.lease_expires_at.is_some_and(|end| end > now)
    }
}

const COLUMNS: &str = "s.feed_id, f.name, f.active, s.hub, s.topic, s.token, s.secret, s.state,
     s.pending, s.requested_at, s.lease_seconds, s.lease_expires_at, s.verified_at,
     s.last_push_at, s.next_action_at, s.attempts, s.last_error";

fn row(r: &Row<'_>) -> rusqlite::Result<Subscription> {
    let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(r.get::<_, Option<String>>(i)?.as_deref().and_then(parse_ts))
    };
    Ok(Subscription {
        feed_id: FeedId(r.get(0)?),
        feed: r.get(1)?,
        feed_active: r.get(2)?,
        hub: r.get(3)?,
        topic: r.get(4)?,
        token: r.get(5)?,
        secret: r.get(6)?,
        state: r.get(7)?,
        pending: r.get(8)?,
        requested_at: time(9)?,
        lease_seconds: r.get(10)?,
        lease_expires_at: time(11)?,
        verified_at: time(12)?,
        last_push_at: time(13)?,
        next_action_at: time(14)?,
        attempts: r.get(15)?,
        last_error: r.get(16)?,
    })
}

/// A subscription request about to be sent.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// The feed.
    pub feed_id: FeedId,
    /// The hub.
    pub hub: String,
    /// The topic.
    pub topic: String,
    /// The callback's secret path segment.
    pub token: String,
    /// The HMAC secret.
    pub secret: String,
}

impl Store {
    fn subscription_where(
        &self,
        condition: &str,
        arg: &dyn rusqlite::ToSql,
    ) -> Result<Vec<Subscription>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM websub_subscriptions s JOIN feeds f ON f.id = s.feed_id
             WHERE {condition} ORDER BY f.name"
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map([arg], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The subscription whose callback path is `token`.
    pub fn subscription_by_token(&self, token: &str) -> Result<Option<Subscription>> {
        Ok(self.subscription_where("s.token = ?1", &token)?.pop())
    }

    /// The subscription of a feed.
    pub fn subscription_of(&self, feed: FeedId) -> Result<Option<Subscription>> {
        Ok(self.subscription_where("s.feed_id = ?1", &feed.0)?.pop())
    }

    /// Every subscription, by feed name.
    pub fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.subscription_where("?1", &1)
    }

    /// Subscriptions the daemon must act on at `now`: due for a retry or
    /// renewal, or of a feed that left the config and not yet being
    /// unsubscribed.
    pub fn subscriptions_due(&self, now: DateTime<Utc>) -> Result<Vec<Subscription>> {
        self.subscription_where(
            "s.next_action_at <= ?1 OR (f.active = 0 AND s.state <> 'unsubscribing')",
            &ts(now),
        )
    }

    /// Records a subscription request sent (or about to be) for a feed,
    /// replacing any other subscription of the feed.
    pub fn subscription_requested(
        &mut self,
        new: &NewSubscription,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO websub_subscriptions
                     (feed_id, hub, topic, token, secret, state, pending, requested_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'subscribing', 'subscribe', ?6, ?6)
                 ON CONFLICT (feed_id) DO UPDATE SET
                     hub = ?2, topic = ?3, token = ?4, secret = ?5,
                     state = CASE WHEN state = 'active' AND hub = ?2 AND topic = ?3
                                  THEN 'active' ELSE 'subscribing' END,
                     pending = 'subscribe', requested_at = ?6",
            )?
            .execute(params![
                new.feed_id.0,
                new.hub,
                new.topic,
                new.token,
                new.secret,
                ts(now)
            ])?;
        Ok(())
    }

    /// Records that an unsubscription request is sent for a feed.
    pub fn unsubscription_requested(&mut self, feed: FeedId, now: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE websub_subscriptions
                 SET state = 'unsubscribing', pending = 'unsubscribe', requested_at = ?2
                 WHERE feed_id = ?1",
            )?
            .execute(params![feed.0, ts(now)])?;
        Ok(())
    }

    /// What the hub answered a request: `error` when it refused or could
    /// not be reached; `next` is when to look again (a retry, or a check
    /// that the hub verified). After `give_up` failures in a row the
    /// subscription is marked `failed` (an unsubscription is dropped).
    pub fn subscription_answered(
        &mut self,
        feed: FeedId,
        error: Option<&str>,
        next: DateTime<Utc>,
        give_up: u32,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "UPDATE websub_subscriptions
             SET next_action_at = ?2, last_error = coalesce(?3, last_error),
                 attempts = CASE WHEN ?3 IS NULL THEN attempts ELSE attempts + 1 END
             WHERE feed_id = ?1",
        )?
        .execute(params![feed.0, ts(next), error])?;
        if error.is_some() {
            tx.prepare_cached(
                "DELETE FROM websub_subscriptions
                 WHERE feed_id = ?1 AND state = 'unsubscribing' AND attempts >= ?2",
            )?
            .execute(params![feed.0, give_up])?;
            tx.prepare_cached(
                "UPDATE websub_subscriptions SET state = 'failed', pending = NULL
                 WHERE feed_id = ?1 AND state = 'subscribing' AND attempts >= ?2",
            )?
            .execute(params![feed.0, give_up])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The hub verified the intent of the pending request `mode` for
    /// `topic` on the callback `token`. A subscription becomes `active`
    /// with a lease of `lease_seconds`, to renew at `renew_at`; an
    /// unsubscription is deleted. Returns false (and changes nothing) when
    /// no such request is pending.
    pub fn subscription_verified(
        &mut self,
        token: &str,
        mode: &str,
        topic: &str,
        lease_seconds: i64,
        now: DateTime<Utc>,
        renew_at: DateTime<Utc>,
    ) -> Result<bool> {
        let changed = if mode == "unsubscribe" {
            self.conn
                .prepare_cached(
                    "DELETE FROM websub_subscriptions
                     WHERE token = ?1 AND pending = 'unsubscribe' AND topic = ?2",
                )?
                .execute(params![token, topic])?
        } else {
            let end = now + chrono::Duration::seconds(lease_seconds);
            self.conn
                .prepare_cached(
                    "UPDATE websub_subscriptions
                     SET state = 'active', pending = NULL, lease_seconds = ?4,
                         verified_at = CASE WHEN state = 'active' THEN verified_at ELSE ?3 END,
                         lease_expires_at = ?5, next_action_at = ?6, attempts = 0, last_error = NULL
                     WHERE token = ?1 AND pending = 'subscribe' AND topic = ?2",
                )?
                .execute(params![
                    token,
                    topic,
                    ts(now),
                    lease_seconds,
                    ts(end),
                    ts(renew_at)
                ])?
        };
        Ok(changed == 1)
    }

    /// The hub denied the pending subscription on `token` for `topic`,
    /// saying `reason`; it is tried again at `retry_at`. Returns false when
    /// no subscription was pending there.
    pub fn subscription_denied(
        &mut self,
        token: &str,
        topic: &str,
        reason: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE websub_subscriptions
                 SET state = 'denied', pending = NULL, last_error = ?3, next_action_at = ?4
                 WHERE token = ?1 AND topic = ?2 AND pending = 'subscribe'",
            )?
            .execute(params![token, topic, reason, ts(retry_at)])?;
        Ok(changed == 1)
    }

    /// Forgets a feed's subscription.
    pub fn drop_subscription(&mut self, feed: FeedId) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM websub_subscriptions WHERE feed_id = ?1")?
            .execute([feed.0])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FeedSpec;

    fn store_with_feed() -> (tempfile::TempDir, Store, FeedId) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let spec = FeedSpec {
            name: "a".into(),
            url: "https://a.example/feed".into(),
            tags: vec![],
            dedup: true,
        };
        store.reconcile(&[spec], Utc::now()).unwrap();
        let id = store.feed_by_name("a").unwrap().unwrap().id;
        (dir, store, id)
    }

    fn new(feed: FeedId) -> NewSubscription {
        NewSubscription {
            feed_id: feed,
            hub: "https://hub.example/".into(),
            topic: "https://a.example/feed".into(),
            token: "t0k".into(),
            secret: "s3cret".into(),
        }
    }

    #[test]
    fn verification_needs_the_pending_mode_and_topic() {
        let (_dir, mut store, feed) = store_with_feed();
        let now = Utc::now();
        store.subscription_requested(&new(feed), now).unwrap();
        let renew = now + chrono::Duration::seconds(80);
        // Wrong mode, wrong topic, wrong token: nothing changes.
        assert!(!store
            .subscription_verified(
                "t0k",
                "unsubscribe",
                "https://a.example/feed",
                100,
                now,
                renew
            )
            .unwrap());
        assert!(!store
            .subscription_verified(
                "t0k",
                "subscribe",
                "https://other.example/",
                100,
                now,
                renew
            )
            .unwrap());
        assert!(!store
            .subscription_verified(
                "nope",
                "subscribe",
                "https://a.example/feed",
                100,
                now,
                renew
            )
            .unwrap());
        let s = store.subscription_of(feed).unwrap().unwrap();
        assert_eq!(s.state, "subscribing");
        assert!(!s.live(now));
        assert!(store
            .subscription_verified(
                "t0k",
                "subscribe",
                "https://a.example/feed",
                100,
                now,
                renew
            )
            .unwrap());
        let s = store.subscription_of(feed).unwrap().unwrap();
        assert_eq!((s.state.as_str(), s.pending.as_deref()), ("active", None));
        assert!(s.live(now));
        assert!(!s.live(now + chrono::Duration::seconds(101)));
        // Verified once: a replayed verification is refused.
        assert!(!store
            .subscription_verified(
                "t0k",
                "subscribe",
                "https://a.example/feed",
                100,
                now,
                renew
            )
            .unwrap());
        assert!(store.subscriptions_due(now).unwrap().is_empty());
        assert_eq!(store.subscriptions_due(renew).unwrap().len(), 1);
    }

    #[test]
    fn renewal_keeps_pushes_flowing_and_unsubscription_deletes() {
        let (_dir, mut store, feed) = store_with_feed();
        let now = Utc::now();
        store.subscription_requested(&new(feed), now).unwrap();
        store
            .subscription_verified("t0k", "subscribe", "https://a.example/feed", 100, now, now)
            .unwrap();
        // A renewal leaves the subscription active while it is pending.
        store.subscription_requested(&new(feed), now).unwrap();
        let s = store.subscription_of(feed).unwrap().unwrap();
        assert_eq!(
            (s.state.as_str(), s.pending.as_deref()),
            ("active", Some("subscribe"))
        );
        store.unsubscription_requested(feed, now).unwrap();
        assert!(!store
            .subscription_verified("t0k", "subscribe", "https://a.example/feed", 100, now, now)
            .unwrap());
        assert!(store
            .subscription_verified("t0k", "unsubscribe", "https://a.example/feed", 0, now, now)
            .unwrap());
        assert!(store.subscription_of(feed).unwrap().is_none());
    }

    #[test]
    fn failures_count_and_give_up() {
        let (_dir, mut store, feed) = store_with_feed();
        let now = Utc::now();
        store.subscription_requested(&new(feed), now).unwrap();
        store
            .subscription_answered(feed, Some("HTTP 500"), now, 2)
            .unwrap();
        let s = store.subscription_of(feed).unwrap().unwrap();
        assert_eq!((s.state.as_str(), s.attempts), ("subscribing", 1));
        store
            .subscription_answered(feed, Some("HTTP 500"), now, 2)
            .unwrap();
        let s = store.subscription_of(feed).unwrap().unwrap();
        assert_eq!((s.state.as_str(), s.attempts), ("failed", 2));
        assert_eq!(s.last_error.as_deref(), Some("HTTP 500"));
        assert!(store
            .subscription_denied("t0k", "https://a.example/feed", "no", now)
            .is_ok_and(|d| !d));
        // A pending request can be denied; it is asked again at the given time.
        store.subscription_requested(&new(feed), now).unwrap();
        let later = now + chrono::Duration::hours(24);
        assert!(!store
            .subscription_denied("t0k", "https://other.example/", "no", later)
            .unwrap());
        assert!(store
            .subscription_denied("t0k", "https://a.example/feed", "not welcome", later)
            .unwrap());
        let s = store.subscription_of(feed).unwrap().unwrap();
        assert_eq!((s.state.as_str(), s.pending.as_deref()), ("denied", None));
        assert_eq!(s.last_error.as_deref(), Some("not welcome"));
        assert!(store.subscriptions_due(now).unwrap().is_empty());
        assert_eq!(store.subscriptions_due(later).unwrap().len(), 1);
    }
}
