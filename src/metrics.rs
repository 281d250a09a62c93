//! Counters the daemon keeps while it runs, and the exposition the server
//! renders from them (plus gauges read from the store at scrape time: feeds
//! by state, articles, stories, database size), in the OpenMetrics text
//! format that Prometheus scrapes, written by the Prometheus project's own
//! client library (`prometheus-client`).
//!
//! Labels have bounded cardinality: a fetch is labelled by its result class
//! (`ok`, `not_modified`, `transient`, `permanent`, `gone`) and its host
//! group (the `[[fetch.host_groups]]` it belongs to, else `other`), never
//! by feed or URL. Notifications are labelled by `[[notify]]` target,
//! which the config bounds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds (seconds) of the fetch-duration histogram's buckets.
pub const DURATION_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The labels of a fetch.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FetchLabels {
    result: String,
    host_group: String,
}

/// The result of a document a WebSub hub pushed.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PushLabels {
    result: &'static str,
}

/// The label of a feed state.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The labels of a notification count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotifyLabels {
    target: String,
}

/// Live counters, shared between the daemon (which writes) and the server
/// (which reads).
#[derive(Debug)]
pub struct Metrics {
    fetches: Family<FetchLabels, Counter>,
    bytes_fetched: Counter,
    bytes_saved: Counter,
    /// Body size of each feed's last full response (what a 304 saves).
    last_size: Mutex<HashMap<String, u64>>,
    duration: Histogram,
    new_entries: Counter,
    updated_entries: Counter,
    article_merges: Counter,
    /// How late (ms) the latest fetch started after it was due.
    scheduler_lag_ms: AtomicI64,
    /// Unix time of the scheduler's last turn.
    scheduler_turn: AtomicI64,
    /// Whether the last write probe succeeded.
    store_writable: AtomicBool,
    digests_made: Counter,
    /// Notifications delivered, by target.
    notify_delivered: Family<NotifyLabels, Counter>,
    /// Failed delivery attempts, by target.
    notify_failed: Family<NotifyLabels, Counter>,
    pushes: Family<PushLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            fetches: Family::default(),
            bytes_fetched: Counter::default(),
            bytes_saved: Counter::default(),
            last_size: Mutex::default(),
            duration: Histogram::new(DURATION_BUCKETS),
            new_entries: Counter::default(),
            updated_entries: Counter::default(),
            article_merges: Counter::default(),
            scheduler_lag_ms: AtomicI64::default(),
            scheduler_turn: AtomicI64::default(),
            store_writable: AtomicBool::default(),
            digests_made: Counter::default(),
            notify_delivered: Family::default(),
            notify_failed: Family::default(),
            pushes: Family::default(),
        }
    }
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
    /// Notifications waiting, by target.
    pub notify_pending: Vec<(String, i64)>,
}

impl Metrics {
    /// Records a delivery attempt of `items` notifications to `target`.
    pub fn notified(&self, target: &str, items: usize, ok: bool) {
        let label = NotifyLabels {
            target: target.to_string(),
        };
        if ok {
            self.notify_delivered
                .get_or_create(&label)
                .inc_by(items as u64);
        } else {
            self.notify_failed.get_or_create(&label).inc();
        }
    }

    /// Records a finished fetch.
    pub fn fetched(&self, s: FetchSample<'_>) {
        self.fetches
            .get_or_create(&FetchLabels {
                result: s.outcome.to_string(),
                host_group: s.host_group.to_string(),
            })
            .inc();
        self.bytes_fetched.inc_by(s.bytes);
        {
            let mut sizes = self.last_size.lock().unwrap_or_else(|p| p.into_inner());
            if s.outcome == "not_modified" {
                self.bytes_saved
                    .inc_by(sizes.get(s.feed).copied().unwrap_or(0));
            } else if s.outcome == "ok" && s.bytes > 0 {
                sizes.insert(s.feed.to_string(), s.bytes);
            }
        }
        self.duration.observe(s.duration_ms as f64 / 1000.0);
        self.new_entries.inc_by(s.new as u64);
        self.updated_entries.inc_by(s.updated as u64);
        self.article_merges.inc_by(s.merged as u64);
    }

    /// Records a document a WebSub hub pushed: `result` is `stored`,
    /// `failed` (taken but not stored), `refused` (no or a bad signature),
    /// `too_large` or `busy` (told to retry); a stored one's entries count
    /// like a fetch's.
    pub fn pushed(&self, result: &'static str, new: usize, updated: usize, merged: usize) {
        self.pushes.get_or_create(&PushLabels { result }).inc();
        self.new_entries.inc_by(new as u64);
        self.updated_entries.inc_by(updated as u64);
        self.article_merges.inc_by(merged as u64);
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
        self.digests_made.inc();
    }

    /// The OpenMetrics text exposition ([`CONTENT_TYPE`]): the live
    /// counters, and gauges made for this scrape from `g` and `now`.
    pub fn render(&self, g: &StoreGauges, now: i64) -> String {
        self.render_with(g, now, |_| {})
    }

    /// [`Metrics::render`], with the families `more` registers after ours
    /// (the server's own figures).
    pub fn render_with(
        &self,
        g: &StoreGauges,
        now: i64,
        more: impl FnOnce(&mut Registry),
    ) -> String {
        // A registry per scrape: the counters are shared handles, the
        // gauges are this scrape's values (a feed state that is gone is
        // gone from the output too).
        let mut r = Registry::default();
        r.register(
            "tributary_fetches",
            "Fetches by result class and host group",
            self.fetches.clone(),
        );
        r.register(
            "tributary_websub_pushes",
            "Documents WebSub hubs pushed, by result (stored, failed, refused, too_large, busy)",
            self.pushes.clone(),
        );
        r.register(
            "tributary_fetched_bytes",
            "Body bytes received (decompressed)",
            self.bytes_fetched.clone(),
        );
        r.register(
            "tributary_not_modified_saved_bytes",
            "Bytes not transferred thanks to 304 answers (the feed's last full body size each time)",
            self.bytes_saved.clone(),
        );
        r.register(
            "tributary_fetch_duration_seconds",
            "Wall time of fetches, parsing and storing included",
            self.duration.clone(),
        );
        r.register(
            "tributary_new_entries",
            "Entries added",
            self.new_entries.clone(),
        );
        r.register(
            "tributary_updated_entries",
            "Entries whose content changed",
            self.updated_entries.clone(),
        );
        r.register(
            "tributary_article_merges",
            "New entries that joined an article another feed or URL had",
            self.article_merges.clone(),
        );
        r.register(
            "tributary_digests_made",
            "Digests made",
            self.digests_made.clone(),
        );
        let lag = Gauge::<f64, AtomicU64>::default();
        lag.set(self.scheduler_lag_ms.load(Ordering::Relaxed) as f64 / 1000.0);
        r.register(
            "tributary_scheduler_lag_seconds",
            "How late the latest fetch started after it was due",
            lag,
        );
        let turn = self.last_turn();
        r.register(
            "tributary_scheduler_idle_seconds",
            "Seconds since the scheduler's last turn",
            gauge(if turn == 0 { 0 } else { (now - turn).max(0) }),
        );
        let feeds = Family::<StateLabels, Gauge>::default();
        for (state, n) in &g.feeds_by_state {
            feeds
                .get_or_create(&StateLabels {
                    state: state.clone(),
                })
                .set(*n);
        }
        r.register("tributary_feeds", "Active feeds by state", feeds);
        r.register("tributary_articles", "Articles stored", gauge(g.articles));
        r.register("tributary_entries", "Entries stored", gauge(g.entries));
        r.register(
            "tributary_stories_merged",
            "Stories told by more than one article",
            gauge(g.merged_stories),
        );
        r.register(
            "tributary_story_merges",
            "Articles that joined a story by similarity",
            gauge(g.story_merges),
        );
        r.register(
            "tributary_database_bytes",
            "Size of the SQLite database file",
            gauge(g.database_bytes),
        );
        r.register(
            "tributary_notify_delivered",
            "Notifications delivered, by target",
            self.notify_delivered.clone(),
        );
        r.register(
            "tributary_notify_failed_attempts",
            "Failed notification deliveries, by target",
            self.notify_failed.clone(),
        );
        let pending = Family::<NotifyLabels, Gauge>::default();
        for (target, n) in &g.notify_pending {
            pending
                .get_or_create(&NotifyLabels {
                    target: target.clone(),
                })
                .set(*n);
        }
        r.register(
            "tributary_notify_pending",
            "Notifications waiting for delivery, by target",
            pending,
        );
        more(&mut r);
        let mut out = String::with_capacity(4096);
        prometheus_client::encoding::text::encode(&mut out, &r)
            .expect("writing to a String does not fail");
        out
    }
}

/// A gauge holding `v`.
pub fn gauge(v: i64) -> Gauge {
    let g = Gauge::default();
    g.set(v);
    g
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

    #[test]
    fn the_sample_names_dashboards_read_are_kept() {
        let m = Metrics::default();
        m.fetched(FetchSample {
            feed: "a",
            outcome: "ok",
            host_group: "other",
            bytes: 10,
            duration_ms: 3000,
            new: 1,
            updated: 0,
            merged: 0,
        });
        let g = StoreGauges {
            feeds_by_state: vec![("ok".into(), 1)],
            ..StoreGauges::default()
        };
        let text = m.render(&g, 0);
        assert!(text.ends_with("# EOF\n"), "{text}");
        let scrape =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        let names: std::collections::BTreeSet<&str> =
            scrape.samples.iter().map(|s| s.metric.as_str()).collect();
        let want = [
            "tributary_article_merges_total",
            "tributary_articles",
            "tributary_database_bytes",
            "tributary_digests_made_total",
            "tributary_entries",
            "tributary_feeds",
            "tributary_fetch_duration_seconds",
            "tributary_fetch_duration_seconds_count",
            "tributary_fetch_duration_seconds_sum",
            "tributary_fetched_bytes_total",
            "tributary_fetches_total",
            "tributary_new_entries_total",
            "tributary_not_modified_saved_bytes_total",
            "tributary_scheduler_idle_seconds",
            "tributary_scheduler_lag_seconds",
            "tributary_stories_merged",
            "tributary_story_merges",
            "tributary_updated_entries_total",
        ];
        assert_eq!(names.into_iter().collect::<Vec<_>>(), want, "{text}");
        assert!(
            text.contains("tributary_fetch_duration_seconds_bucket{le=\"2.5\"} 0")
                && text.contains("tributary_fetch_duration_seconds_bucket{le=\"5.0\"} 1")
                && text.contains("tributary_fetch_duration_seconds_sum 3.0"),
            "{text}"
        );
    }
}
