//! Counters the daemon keeps while it runs, and the Prometheus text format
//! the server renders from them (plus gauges read from the store at scrape
//! time: feeds by state, articles, stories, database size).
//!
//! Labels have bounded cardinality: a fetch is labelled by its result class
//! (`ok`, `not_modified`, `transient`, `permanent`, `gone`) and its host
//! group (the `[[fetch.host_groups]]` it belongs to, else `other`), never
//! by feed or URL.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the fetch-duration histogram's buckets.
pub const DURATION_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Live counters, shared between the daemon (which writes) and the server
/// (which reads).
#[derive(Debug, Default)]
pub struct Metrics {
    fetches: Mutex<BTreeMap<(String, String), u64>>,
    bytes_fetched: AtomicU64,
    bytes_saved: AtomicU64,
    /// Body size of each feed's last full response (what a 304 saves).
    last_size: Mutex<HashMap<String, u64>>,
    duration_buckets: [AtomicU64; DURATION_BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_ms: AtomicU64,
    new_entries: AtomicU64,
    updated_entries: AtomicU64,
    article_merges: AtomicU64,
    /// How late (ms) the latest fetch started after it was due.
    scheduler_lag_ms: AtomicI64,
    /// Unix time of the scheduler's last turn.
    scheduler_turn: AtomicI64,
    /// Whether the last write probe succeeded.
    store_writable: AtomicBool,
    digests_made: AtomicU64,
}

/// One finished fetch, as the metrics see it.
#[derive(Debug, Clone, Copy)]
pub struct FetchSample<'a> {
    /// The feed (for the 304 savings estimate; never a label).
    pub feed: &'a str,
    /// Result class.
    pub outcome: &'a str,
    /// Host group label.
    pub host_group: &'a str,
    /// Body bytes received.
    pub bytes: u64,
    /// Wall time.
    pub duration_ms: u64,
    /// Entries added.
    pub new: usize,
    /// Entries updated.
    pub updated: usize,
    /// Entries that joined an existing article.
    pub merged: usize,
}

/// Store-derived gauges, read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct StoreGauges {
    /// Active feeds by status.
    pub feeds_by_state: Vec<(String, i64)>,
    /// Articles stored.
    pub articles: i64,
    /// Entries stored.
    pub entries: i64,
    /// Stories of more than one article.
    pub merged_stories: i64,
    /// Articles that joined a story by similarity.
    pub story_merges: i64,
    /// Database file size in bytes (pages × page size).
    pub database_bytes: i64,
}

impl Metrics {
    /// Records a finished fetch.
    pub fn fetched(&self, s: FetchSample<'_>) {
        *self
            .fetches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((s.outcome.to_string(), s.host_group.to_string()))
            .or_default() += 1;
        self.bytes_fetched.fetch_add(s.bytes, Ordering::Relaxed);
        {
            let mut sizes = self.last_size.lock().unwrap_or_else(|p| p.into_inner());
            if s.outcome == "not_modified" {
                let saved = sizes.get(s.feed).copied().unwrap_or(0);
                self.bytes_saved.fetch_add(saved, Ordering::Relaxed);
            } else if s.outcome == "ok" && s.bytes > 0 {
                sizes.insert(s.feed.to_string(), s.bytes);
            }
        }
        let secs = s.duration_ms as f64 / 1000.0;
        for (i, bound) in DURATION_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.duration_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_ms
            .fetch_add(s.duration_ms, Ordering::Relaxed);
        self.new_entries.fetch_add(s.new as u64, Ordering::Relaxed);
        self.updated_entries
            .fetch_add(s.updated as u64, Ordering::Relaxed);
        self.article_merges
            .fetch_add(s.merged as u64, Ordering::Relaxed);
    }

    /// Records how late a fetch started (`lag_ms` ≥ 0).
    pub fn started_late(&self, lag_ms: i64) {
        self.scheduler_lag_ms
            .store(lag_ms.max(0), Ordering::Relaxed);
    }

    /// Records a scheduler turn at unix time `now`.
    pub fn turn(&self, now: i64) {
        self.scheduler_turn.store(now, Ordering::Relaxed);
    }

    /// Unix time of the scheduler's last turn (0: never).
    pub fn last_turn(&self) -> i64 {
        self.scheduler_turn.load(Ordering::Relaxed)
    }

    /// Records the result of a write probe.
    pub fn set_store_writable(&self, ok: bool) {
        self.store_writable.store(ok, Ordering::Relaxed);
    }

    /// Whether the last write probe succeeded.
    pub fn store_writable(&self) -> bool {
        self.store_writable.load(Ordering::Relaxed)
    }

    /// Records a digest made.
    pub fn digest_made(&self) {
        self.digests_made.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, g: &StoreGauges, now: i64) -> String {
        let mut o = String::with_capacity(4096);
        let mut family = |name: &str, kind: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(
            "tributary_fetches_total",
            "counter",
            "Fetches by result class and host group.",
        );
        for ((outcome, group), n) in self
            .fetches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                o,
                "tributary_fetches_total{{result=\"{}\",host_group=\"{}\"}} {n}",
                label(outcome),
                label(group)
            );
        }
        let counter = |o: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        let gauge = |o: &mut String, name: &str, help: &str, v: String| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        counter(
            &mut o,
            "tributary_fetched_bytes_total",
            "Body bytes received (decompressed).",
            self.bytes_fetched.load(Ordering::Relaxed),
        );
        counter(&mut o, "tributary_not_modified_saved_bytes_total", "Bytes not transferred thanks to 304 answers (the feed's last full body size each time).", self.bytes_saved.load(Ordering::Relaxed));
        let _ = writeln!(o, "# HELP tributary_fetch_duration_seconds Wall time of fetches, parsing and storing included.\n# TYPE tributary_fetch_duration_seconds histogram");
        for (i, bound) in DURATION_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                o,
                "tributary_fetch_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                self.duration_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.duration_count.load(Ordering::Relaxed);
        let _ = writeln!(
            o,
            "tributary_fetch_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            o,
            "tributary_fetch_duration_seconds_sum {}",
            self.duration_sum_ms.load(Ordering::Relaxed) as f64 / 1000.0
        );
        let _ = writeln!(o, "tributary_fetch_duration_seconds_count {count}");
        counter(
            &mut o,
            "tributary_new_entries_total",
            "Entries added.",
            self.new_entries.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "tributary_updated_entries_total",
            "Entries whose content changed.",
            self.updated_entries.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "tributary_article_merges_total",
            "New entries that joined an article another feed or URL had.",
            self.article_merges.load(Ordering::Relaxed),
        );
        counter(
            &mut o,
            "tributary_digests_made_total",
            "Digests made.",
            self.digests_made.load(Ordering::Relaxed),
        );
        gauge(
            &mut o,
            "tributary_scheduler_lag_seconds",
            "How late the latest fetch started after it was due.",
            format!(
                "{}",
                self.scheduler_lag_ms.load(Ordering::Relaxed) as f64 / 1000.0
            ),
        );
        let turn = self.last_turn();
        gauge(
            &mut o,
            "tributary_scheduler_idle_seconds",
            "Seconds since the scheduler's last turn.",
            format!("{}", if turn == 0 { 0 } else { (now - turn).max(0) }),
        );
        let _ = writeln!(
            o,
            "# HELP tributary_feeds Active feeds by state.\n# TYPE tributary_feeds gauge"
        );
        for (state, n) in &g.feeds_by_state {
            let _ = writeln!(o, "tributary_feeds{{state=\"{}\"}} {n}", label(state));
        }
        gauge(
            &mut o,
            "tributary_articles",
            "Articles stored.",
            g.articles.to_string(),
        );
        gauge(
            &mut o,
            "tributary_entries",
            "Entries stored.",
            g.entries.to_string(),
        );
        gauge(
            &mut o,
            "tributary_stories_merged",
            "Stories told by more than one article.",
            g.merged_stories.to_string(),
        );
        gauge(
            &mut o,
            "tributary_story_merges",
            "Articles that joined a story by similarity.",
            g.story_merges.to_string(),
        );
        gauge(
            &mut o,
            "tributary_database_bytes",
            "Size of the SQLite database file.",
            g.database_bytes.to_string(),
        );
        o
    }
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn savings_count_the_last_full_body() {
        let m = Metrics::default();
        let s = |outcome, bytes| FetchSample {
            feed: "a",
            outcome,
            host_group: "other",
            bytes,
            duration_ms: 120,
            new: 0,
            updated: 0,
            merged: 0,
        };
        m.fetched(s("ok", 5000));
        m.fetched(s("not_modified", 0));
        m.fetched(s("not_modified", 0));
        let text = m.render(&StoreGauges::default(), 0);
        assert!(
            text.contains("tributary_not_modified_saved_bytes_total 10000"),
            "{text}"
        );
        assert!(
            text.contains(
                "tributary_fetches_total{result=\"not_modified\",host_group=\"other\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("tributary_fetch_duration_seconds_bucket{le=\"0.25\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("tributary_fetch_duration_seconds_bucket{le=\"0.1\"} 0"),
            "{text}"
        );
    }
}
