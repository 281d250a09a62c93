//! The retention run (daily in the daemon, and `tributary prune`):
//! `[retention]` → [`PrunePolicy`] → [`Store::prune`]. Articles that a
//! digest has not covered yet are never pruned. It always has work: with
//! no entry limits it still trims the fetch log.
//!
//! It opens its own connection rather than borrowing the daemon's shared
//! store, so the daemon's fetches keep committing between prune batches
//! (each batch is one short transaction; SQLite's busy timeout orders the
//! two writers). Call it on the blocking pool.

use chrono::{DateTime, Utc};
use tracing::info;

use crate::config::{RetentionConfig, StoreConfig};
use crate::store::{self, PrunePolicy, PruneReport, Store};

/// The store's pruning policy for `[retention]`, protecting everything
/// first seen from `protect_from` on (the start of the oldest digest period
/// not yet made, from [`Store::digest_protection`]).
pub fn prune_policy(
    retention: &RetentionConfig,
    protect_from: Option<DateTime<Utc>>,
) -> PrunePolicy {
    PrunePolicy {
        max_age: retention.max_age,
        max_per_feed: retention.max_per_feed,
        // The policy keeps what was first seen *after* the bound.
        keep_first_seen_after: protect_from.map(|t| t - chrono::Duration::seconds(1)),
        fetch_log_max_age: Some(retention.fetch_log_max_age),
        tombstone_max_age: Some(retention.tombstone_max_age),
    }
}

/// Prunes the store at `path` as `[retention]` says and logs what went.
pub fn prune_store(
    store: &StoreConfig,
    retention: &RetentionConfig,
    digests: &[String],
    now: DateTime<Utc>,
) -> store::Result<PruneReport> {
    let mut store = Store::open_with(&store.path, store.access)?;
    let protect = store.digest_protection(digests)?;
    let report = store.prune(&prune_policy(retention, protect), now)?;
    info!(
        entries = report.entries,
        articles = report.articles,
        fetch_log = report.fetch_log,
        notifications = report.notifications,
        tombstones = report.tombstones,
        vacuum = report.compaction.vacuum,
        bytes_before = report.compaction.bytes_before,
        bytes_after = report.compaction.bytes_after,
        "retention: pruned"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_carries_every_limit() {
        let r = RetentionConfig {
            max_age: Some(std::time::Duration::from_secs(86_400)),
            max_per_feed: Some(7),
            fetch_log_max_age: std::time::Duration::from_secs(3_600),
            tombstone_max_age: std::time::Duration::from_secs(7_200),
        };
        let at = Utc::now();
        let p = prune_policy(&r, Some(at));
        assert_eq!(p.max_age, r.max_age);
        assert_eq!(p.max_per_feed, Some(7));
        assert_eq!(p.fetch_log_max_age, Some(r.fetch_log_max_age));
        assert_eq!(p.tombstone_max_age, Some(r.tombstone_max_age));
        assert_eq!(
            p.keep_first_seen_after,
            Some(at - chrono::Duration::seconds(1))
        );
    }
}
