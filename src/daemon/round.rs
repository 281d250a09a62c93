//! The summary of a round of fetches: one `info` line for each burst of
//! fetches, logged when none is left in flight, and at most once per
//! [`SUMMARY_EVERY`] (the fetches of a quieter moment join the next
//! summary). Each fetch itself logs at `debug`, so that 10,000 feeds polled
//! every minute make one line a minute, not 10,000 (journald's default
//! rate limit is 10,000 messages per 30 s, past which it drops messages,
//! errors included). Failures and fetches that brought new entries still
//! log a line each (see `refresh`). Each one is also counted in the
//! metrics here.

use std::time::{Duration, Instant};

use tracing::info;

use crate::config::FeedConfig;
use crate::refresh::FeedReport;
use crate::store::Outcome;

impl super::Daemon {
    /// Counts a finished refresh (or pushed document) in the metrics.
    pub(super) fn count_metrics(&self, feed: &FeedConfig, report: &FeedReport) {
        if report.pushed {
            let result = if report.error.is_some() {
                "failed"
            } else {
                "stored"
            };
            let (new, updated, merged) = (report.new, report.updated, report.merged);
            return self.metrics.pushed(result, new, updated, merged);
        }
        self.metrics.fetched(crate::metrics::FetchSample {
            feed: &feed.name,
            outcome: report.status.as_str(),
            host_group: &self.host_group(feed),
            bytes: report.bytes,
            duration_ms: report.duration_ms,
            new: report.new,
            updated: report.updated,
            merged: report.merged,
        });
    }

    /// The host-group label of a feed's URL (bounded: configured groups only).
    fn host_group(&self, feed: &FeedConfig) -> String {
        let host = feed.url.host_str().unwrap_or("");
        self.config
            .fetch
            .host_groups
            .iter()
            .find(|g| g.matches(host))
            .and_then(|g| g.hosts.first().cloned())
            .unwrap_or_else(|| "other".into())
    }
}

/// Least time between two summaries.
pub(super) const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// Counts since the last summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Round {
    fetches: u64,
    unchanged: u64,
    failed: u64,
    new: u64,
    updated: u64,
    bytes: u64,
    last_summary: Option<Instant>,
}

impl Round {
    /// Counts a finished fetch.
    pub(super) fn record(&mut self, report: &FeedReport) {
        self.fetches += 1;
        self.unchanged += u64::from(report.status == Outcome::NotModified);
        self.failed += u64::from(report.error.is_some());
        self.new += report.new as u64;
        self.updated += report.updated as u64;
        self.bytes += report.bytes;
    }

    /// Logs the summary and starts counting again, when no fetch is in
    /// flight (`idle`) and the last summary is old enough. Returns whether
    /// it did.
    pub(super) fn summarize_if_due(&mut self, idle: bool, now: Instant) -> bool {
        let due = self
            .last_summary
            .is_none_or(|at| now.duration_since(at) >= SUMMARY_EVERY);
        if !idle || !due || self.fetches == 0 {
            return false;
        }
        info!(
            fetches = self.fetches,
            unchanged = self.unchanged,
            failed = self.failed,
            new = self.new,
            updated = self.updated,
            bytes = self.bytes,
            "round done"
        );
        *self = Round {
            last_summary: Some(now),
            ..Round::default()
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: Outcome, new: usize, error: bool) -> FeedReport {
        FeedReport {
            name: "f".into(),
            url: "https://f.example/".into(),
            status,
            http_status: Some(200),
            new,
            updated: 0,
            merged: 0,
            error: error.then(|| "boom".into()),
            bytes: 10,
            duration_ms: 1,
            response: None,
            moved_to: None,
            hub: None,
            pushed: false,
        }
    }

    #[test]
    fn one_summary_per_round_and_at_most_one_a_minute() {
        let start = Instant::now();
        let mut round = Round::default();
        for _ in 0..1000 {
            round.record(&report(Outcome::NotModified, 0, false));
        }
        round.record(&report(Outcome::Ok, 3, false));
        round.record(&report(Outcome::Transient, 0, true));
        assert!(!round.summarize_if_due(false, start), "fetches in flight");
        assert_eq!(
            (round.fetches, round.unchanged, round.failed, round.new),
            (1002, 1000, 1, 3)
        );
        assert!(round.summarize_if_due(true, start));
        assert_eq!(round.fetches, 0);
        round.record(&report(Outcome::Ok, 0, false));
        assert!(!round.summarize_if_due(true, start + Duration::from_secs(30)));
        assert_eq!(round.fetches, 1, "kept for the next summary");
        assert!(round.summarize_if_due(true, start + SUMMARY_EVERY));
        assert!(
            !round.summarize_if_due(true, start + 3 * SUMMARY_EVERY),
            "nothing to say"
        );
    }
}
