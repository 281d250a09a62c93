//! The retention run (daily in the daemon, and `tributary prune`):
//! `[retention]` → [`PrunePolicy`] → [`Store::prune`]. Articles that a
//! digest has not covered yet are never pruned.
//!
//! It opens its own connection rather than borrowing the daemon's shared
//! store, so the daemon's fetches keep committing between prune batches
//! (each batch is one short transaction; SQLite's busy timeout orders the
//! two writers). Call it on the blocking pool.

use std::path::Path;

use chrono::{DateTime, Utc};
use tracing::info;

use crate::config::RetentionConfig;
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
    }
}

/// Prunes the store at `path` as `[retention]` says and logs what went;
/// `None` when `[retention]` keeps everything (nothing is touched then).
pub fn prune_store(
    path: &Path,
    retention: &RetentionConfig,
    digests: &[String],
    now: DateTime<Utc>,
) -> store::Result<Option<PruneReport>> {
    if retention.keeps_everything() {
        return Ok(None);
    }
    let mut store = Store::open(path)?;
    let protect = store.digest_protection(digests)?;
    let report = store.prune(&prune_policy(retention, protect), now)?;
    info!(
        entries = report.entries,
        articles = report.articles,
        vacuum = report.compaction.vacuum,
        bytes_before = report.compaction.bytes_before,
        bytes_after = report.compaction.bytes_after,
        "retention: pruned"
    );
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_limits_touch_nothing_and_limits_prune() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let now = Utc::now();
        assert!(prune_store(&path, &RetentionConfig::default(), &[], now)
            .unwrap()
            .is_none());
        assert!(
            !path.exists(),
            "keeping everything must not even open the store"
        );
        let r = RetentionConfig {
            max_age: Some(std::time::Duration::from_secs(86_400)),
            max_per_feed: None,
        };
        let report = prune_store(&path, &r, &[], now).unwrap().unwrap();
        assert_eq!(report.entries, 0);
        assert_eq!(prune_policy(&r, None).max_age, r.max_age);
    }
}
