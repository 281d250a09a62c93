//! One ingest phase, run in a child process: what `tributary fetch` does
//! for every feed — open the store, reconcile the feeds table, fetch,
//! parse, clean, identify and store, plan the next checks: the round of
//! `jobs::round` — and what it cost.
//!
//! The child reads its feed list from a file (`name<TAB>url` per line) and
//! prints one JSON [`PhaseCost`] on stdout. Wall time runs from the child's
//! start of work to the feeds' next checks stored; the store's row counts
//! are read after the clock stops.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::Utc;

use super::usage;
use crate::config::{DedupConfig, FeedConfig, FetchConfig, ScheduleConfig};
use crate::fetch::Fetcher;
use crate::jobs::round::{self, Round};
use crate::model::FeedSpec;
use crate::store::SharedStore;
use crate::store::Store;

/// How the child fetches.
#[derive(Debug, Clone, Copy)]
pub struct Knobs {
    /// Cross-feed merging on for every feed.
    pub dedup: bool,
    /// Feeds fetched at once (`[fetch] concurrency`).
    pub concurrency: usize,
    /// Requests in flight per host (`[fetch] per_host`).
    pub per_host: usize,
}

/// What one phase did and cost, as the child measured it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PhaseCost {
    /// Wall seconds.
    pub wall_s: f64,
    /// User CPU seconds (the whole child process).
    pub user_s: f64,
    /// System CPU seconds.
    pub sys_s: f64,
    /// Peak resident set of the child, bytes.
    pub peak_rss: u64,
    /// Feeds refreshed.
    pub feeds: u64,
    /// Feeds whose fetch failed.
    pub failed: u64,
    /// Entries added.
    pub new_entries: u64,
    /// Entries updated in place.
    pub updated_entries: u64,
    /// New entries that joined an article already stored.
    pub merged: u64,
    /// Body bytes the fetcher received.
    pub body_bytes: u64,
    /// Rows in `entries` afterwards.
    pub entries_total: u64,
    /// Rows in `articles` afterwards.
    pub articles_total: u64,
    /// The first few errors, for diagnosis.
    pub errors: Vec<String>,
}

impl PhaseCost {
    /// User + system CPU seconds.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }
}

/// Reads `name<TAB>url` lines.
pub fn read_feed_list(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the feed list {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(n, u)| (n.to_owned(), u.to_owned()))
        .collect())
}

/// Runs one ingest phase against the store at `db` (created if missing).
pub fn ingest(db: &Path, feed_list: &Path, knobs: Knobs) -> anyhow::Result<PhaseCost> {
    let started = Instant::now();
    let list = read_feed_list(feed_list)?;
    let mut configs = Vec::with_capacity(list.len());
    let mut specs = Vec::with_capacity(list.len());
    for (name, url) in list {
        specs.push(FeedSpec {
            name: name.clone(),
            url: url.clone(),
            tags: Vec::new(),
            dedup: knobs.dedup,
        });
        configs.push(FeedConfig {
            name,
            url: url.parse().context("a feed URL")?,
            tags: Vec::new(),
            dedup: knobs.dedup,
            timeout: None,
            max_body: None,
            user_agent: None,
            schedule: None,
            http: Default::default(),
            rules: Vec::new(),
            full_text: None,
        });
    }
    let mut store = Store::open(db).context("opening the store")?;
    let rows = round::feed_rows(&mut store, &specs, Utc::now())?;
    drop(specs);
    let fetch = FetchConfig {
        concurrency: knobs.concurrency,
        per_host: knobs.per_host,
        // The synthetic corpus is served by one loopback host: no pause
        // between requests to it.
        host_gap: std::time::Duration::ZERO,
        ..FetchConfig::default()
    };
    let fetcher = Fetcher::new(&fetch).context("setting up the HTTP client")?;
    let shared = SharedStore::new(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dedup = DedupConfig {
        enabled: knobs.dedup,
        ..DedupConfig::default()
    };
    let schedule = ScheduleConfig::default();
    let settings = Round {
        configs: &configs,
        dedup: &dedup,
        schedule: &schedule,
    };
    let mut cost = PhaseCost::default();
    runtime.block_on(round::run(
        &fetcher,
        &shared,
        settings,
        rows,
        |_| true,
        |r| {
            cost.feeds += 1;
            cost.new_entries += r.new as u64;
            cost.updated_entries += r.updated as u64;
            cost.merged += r.merged as u64;
            cost.body_bytes += r.bytes;
            if let Some(e) = &r.error {
                cost.failed += 1;
                if cost.errors.len() < 5 {
                    cost.errors.push(format!("{}: {e}", r.name));
                }
            }
        },
    ));
    cost.wall_s = started.elapsed().as_secs_f64();
    (cost.user_s, cost.sys_s) = usage::cpu_seconds();
    cost.peak_rss = usage::peak_rss_bytes();
    let (_, entries, articles) = runtime.block_on(shared.call(|s| s.counts()))?;
    cost.entries_total = entries as u64;
    cost.articles_total = articles as u64;
    Ok(cost)
}
