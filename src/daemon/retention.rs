//! The daily retention run, ready for the daemon's loop to call (it is not
//! scheduled yet): `[retention]` → [`PrunePolicy`] → [`Store::prune`].
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

/// The store's pruning policy for `[retention]`. Nothing is protected
/// yet (`keep_first_seen_after: None`): once digests exist, pass the start
/// of the oldest digest period not yet made.
pub fn prune_policy(retention: &RetentionConfig) -> PrunePolicy {
    PrunePolicy {
        max_age: retention.max_age,
        max_per_feed: retention.max_per_feed,
        keep_first_seen_after: None,
    }
}

/// Prunes the store at `path` as `[retention]` says and logs what went;
/// `None` when `[retention]` keeps everything (nothing is touched then).
pub fn prune_store(
    path: &Path,
    retention: &RetentionConfig,
    now: DateTime<Utc>,
) -> store::Result<Option<PruneReport>> {
    if retention.keeps_everything() {
        return Ok(None);
    }
    let mut store = Store::open(path)?;
    let report = store.prune(&prune_policy(retention), now)?;
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
        assert!(prune_store(&path, &RetentionConfig::default(), now)
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
        let report = prune_store(&path, &r, now).unwrap().unwrap();
        assert_eq!(report.entries, 0);
        assert_eq!(prune_policy(&r).max_age, r.max_age);
    }
}
