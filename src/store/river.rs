//! The readers subscribed to Tributary's own WebSub hub (see
//! `websub::hub`): one row per callback and topic.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{parse_ts, ts, Result, Store};

/// A reader subscribed to an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiverSubscriber {
    /// Where documents are delivered.
    pub callback: String,
    /// The output URL subscribed to.
    pub topic: String,
    /// The `hub.secret` deliveries are signed with, if one was given.
    pub secret: Option<String>,
    /// When the lease ends.
    pub lease_expires_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Records a verified subscription (a renewal replaces the lease and
    /// the secret).
    pub fn river_subscribe(&mut self, s: &RiverSubscriber, now: DateTime<Utc>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO websub_river_subscribers (callback, topic, secret, lease_expires_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (topic, callback) DO UPDATE SET secret = ?3, lease_expires_at = ?4",
            )?
            .execute(params![
                s.callback,
                s.topic,
                s.secret,
                s.lease_expires_at.map(ts),
                ts(now)
            ])?;
        Ok(())
    }

    /// Forgets a subscription; false when there was none.
    pub fn river_unsubscribe(&mut self, callback: &str, topic: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "DELETE FROM websub_river_subscribers WHERE callback = ?1 AND topic = ?2",
            )?
            .execute(params![callback, topic])?
            == 1)
    }

    /// The subscribers of `topic` whose lease runs at `now`; subscriptions
    /// whose lease ended are deleted.
    pub fn river_subscribers(
        &mut self,
        topic: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<RiverSubscriber>> {
        self.conn
            .prepare_cached("DELETE FROM websub_river_subscribers WHERE lease_expires_at <= ?1")?
            .execute([ts(now)])?;
        let mut st = self.conn.prepare_cached(
            "SELECT callback, topic, secret, lease_expires_at FROM websub_river_subscribers
             WHERE topic = ?1 ORDER BY callback",
        )?;
        let rows = st.query_map([topic], |r| {
            Ok(RiverSubscriber {
                callback: r.get(0)?,
                topic: r.get(1)?,
                secret: r.get(2)?,
                lease_expires_at: r.get::<_, String>(3).ok().as_deref().and_then(parse_ts),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many subscriptions the hub holds.
    pub fn river_subscriber_count(&self) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM websub_river_subscribers")?
            .query_row([], |r| r.get(0))?)
    }

    /// Records a delivery to a subscriber: `error` when it failed.
    pub fn river_delivered(
        &mut self,
        callback: &str,
        topic: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE websub_river_subscribers
                 SET last_delivery_at = CASE WHEN ?3 IS NULL THEN ?4 ELSE last_delivery_at END,
                     last_error = ?3
                 WHERE callback = ?1 AND topic = ?2",
            )?
            .execute(params![callback, topic, error, ts(now)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_renew_expire_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let now = Utc::now();
        let sub = |lease: i64, secret: &str| RiverSubscriber {
            callback: "https://reader.example/cb".into(),
            topic: "https://river.example/feed.atom".into(),
            secret: Some(secret.into()),
            lease_expires_at: Some(now + chrono::Duration::seconds(lease)),
        };
        store.river_subscribe(&sub(10, "a"), now).unwrap();
        store.river_subscribe(&sub(100, "b"), now).unwrap();
        assert_eq!(store.river_subscriber_count().unwrap(), 1);
        let topic = "https://river.example/feed.atom";
        let live = store
            .river_subscribers(topic, now + chrono::Duration::seconds(50))
            .unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].secret.as_deref(), Some("b"));
        assert!(store
            .river_subscribers("https://river.example/feed.rss", now)
            .unwrap()
            .is_empty());
        // The lease ends: gone.
        assert!(store
            .river_subscribers(topic, now + chrono::Duration::seconds(101))
            .unwrap()
            .is_empty());
        assert_eq!(store.river_subscriber_count().unwrap(), 0);
        store.river_subscribe(&sub(100, "c"), now).unwrap();
        assert!(store
            .river_unsubscribe("https://reader.example/cb", topic)
            .unwrap());
        assert!(!store
            .river_unsubscribe("https://reader.example/cb", topic)
            .unwrap());
    }
}
