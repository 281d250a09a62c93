//! Full-text extraction's cost (`--extract-pages N`): N generated article
//! pages served over loopback, each wrapped in a publisher's furniture
//! (navigation, cookie banner, "most read", footer), linked from feeds of
//! 50 teasers each, with a robots.txt on every host.
//!
//! Two figures:
//! - **pure extraction**: [`extract`] (Readability and cleaning, no
//!   fetch) over every page on one thread, in the parent: pages per CPU
//!   second;
//! - **the worker**: in a child process, the feeds are ingested (not
//!   timed), then one [`worker::pass`] extracts every new article as the
//!   daemon would: robots.txt, the page fetch, extraction, the store's
//!   write and the article's placing in its story on the fuller text. Its
//!   wall time gives pages per second, its CPU time (the child's, server
//!   apart) the added cost per new article.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::Utc;

use super::phase::read_feed_list;
use super::prose;
use super::server::{CorpusServer, Served};
use super::usage;
use crate::clean::Cleaner;
use crate::config::{Config, FeedConfig};
use crate::extract::robots::RobotsCache;
use crate::extract::{extract, worker, Recipe};
use crate::fetch::Fetcher;
use crate::model::FeedSpec;
use crate::refresh::refresh_all;
use crate::store::SharedStore;
use crate::store::Store;

/// Teasers per feed document.
const PER_FEED: usize = 50;

/// What extraction cost.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExtractCost {
    /// Pages generated.
    pub pages: usize,
    /// Their average size, bytes.
    pub page_bytes: usize,
    /// Pure extraction over every page: CPU seconds (one thread).
    pub pure_cpu_s: f64,
    /// The worker's pass: articles extracted.
    pub extracted: usize,
    /// The worker's pass: articles that failed.
    pub failed: usize,
    /// The worker's pass: wall seconds.
    pub wall_s: f64,
    /// The worker's pass: CPU seconds of the child (user + system).
    pub cpu_s: f64,
    /// Peak resident set of the child, bytes.
    pub peak_rss: u64,
}

impl ExtractCost {
    /// Pure extraction: pages per CPU second.
    pub fn pure_pages_per_s(&self) -> f64 {
        self.pages as f64 / self.pure_cpu_s.max(1e-9)
    }

    /// The worker: pages per wall second.
    pub fn pages_per_s(&self) -> f64 {
        self.extracted as f64 / self.wall_s.max(1e-9)
    }

    /// The worker: CPU milliseconds added per new article.
    pub fn cpu_ms_per_article(&self) -> f64 {
        self.cpu_s * 1e3 / self.extracted.max(1) as f64
    }
}

impl fmt::Display for ExtractCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "extraction: {} pages of {:.1} KiB; pure extraction {:.0} pages/s (one thread); \
             the worker {:.0} pages/s over loopback, {:.2} ms CPU per new article \
             (robots.txt, fetch, extraction, store, story), {} failed, peak RSS {:.0} MiB",
            self.pages,
            self.page_bytes as f64 / 1024.0,
            self.pure_pages_per_s(),
            self.pages_per_s(),
            self.cpu_ms_per_article(),
            self.failed,
            self.peak_rss as f64 / (1024.0 * 1024.0)
        )
    }
}

/// Page `i`: an article of the corpus's prose inside a publisher's
/// furniture.
fn page(seed: u64, i: u64) -> String {
    let title = prose::title(seed, i);
    let body = prose::html(seed, i);
    let most_read: String = (1..=5)
        .map(|k| {
            format!(
                "<li><a href=\"/p/{}.html\">{}</a></li>",
                i + k,
                prose::title(seed, i + k)
            )
        })
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} | The Bench Herald</title>\
         <script>window.dataLayer = [];</script></head><body>\
         <header><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a> <a href=\"/business\">Business</a> \
         <a href=\"/tech\">Technology</a> <a href=\"/sport\">Sport</a></nav></header>\
         <div class=\"cookie-banner\" role=\"dialog\"><p>We use cookies to improve your experience. \
         By continuing you agree to our use of cookies.</p><button>Accept</button></div>\
         <main><article><h1>{title}</h1><p class=\"byline\">By {}</p>{body}\
         <p class=\"share\">Share this article</p></article>\
         <aside><h2>Most read</h2><ol>{most_read}</ol></aside></main>\
         <footer><p>Copyright 2026 The Bench Herald. All rights reserved.</p>\
         <p><a href=\"/privacy\">Privacy</a> <a href=\"/terms\">Terms</a></p></footer></body></html>",
        prose::author(seed, i)
    )
}

/// A feed of teasers for pages `from..to` on `server`.
fn feed(seed: u64, k: usize, links: &[(u64, String)]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Bench Herald {k}</title><link>https://herald.example/</link><description>d</description>\n"
    );
    for (i, url) in links {
        let teaser = prose::summary(&prose::paragraph(seed, *i));
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">page-{i}</guid><link>{url}</link><title>{}</title>\
             <description>{}</description></item>\n",
            html_escape::encode_text(&prose::title(seed, *i)),
            html_escape::encode_text(&teaser)
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// Runs the extraction phase: serves the pages, measures pure extraction
/// here and the worker in a child (`spawn` runs `args` with the feed list
/// appended).
pub fn run(
    seed: u64,
    pages: usize,
    hosts: usize,
    dir: &Path,
    spawn: impl FnOnce(&[String]) -> anyhow::Result<ExtractCost>,
) -> anyhow::Result<ExtractCost> {
    let bodies: Vec<String> = (0..pages as u64).map(|i| page(seed, i)).collect();
    let feeds = pages.div_ceil(PER_FEED);
    let mut docs: Vec<(String, Served)> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let doc = Served::new(b.clone(), "text/html; charset=utf-8", 0);
            (format!("/p/{i}.html"), doc)
        })
        .collect();
    docs.push((
        "/robots.txt".into(),
        Served::new(
            "User-agent: *\nDisallow: /private/\nDisallow: /search\n".into(),
            "text/plain",
            0,
        ),
    ));
    // Feed documents are written once the server's ports are known.
    for k in 0..feeds {
        docs.push((format!("/feed/{k}.xml"), Served::new(String::new(), "", 0)));
    }
    let server = CorpusServer::start(docs, hosts).context("starting the page server")?;
    let mut list = String::new();
    for k in 0..feeds {
        let links: Vec<(u64, String)> = (k * PER_FEED..((k + 1) * PER_FEED).min(pages))
            .map(|i| (i as u64, server.url(i, &format!("/p/{i}.html"))))
            .collect();
        let path = format!("/feed/{k}.xml");
        server.replace(
            &path,
            Served::new(feed(seed, k, &links), "application/rss+xml", 0),
        );
        list.push_str(&format!("herald-{k}\t{}\n", server.url(k, &path)));
    }
    let feed_list = dir.join("extract-feeds.tsv");
    std::fs::write(&feed_list, list)?;

    // Pure extraction, one thread, the server idle.
    let cleaner = Cleaner::new();
    let base = url::Url::parse("https://herald.example/p/1.html")?;
    let before = usage::cpu_seconds();
    for b in &bodies {
        extract(
            b.as_bytes(),
            Some("text/html"),
            &base,
            &Recipe::default(),
            &cleaner,
        )
        .context("extracting a generated page")?;
    }
    let after = usage::cpu_seconds();
    let pure_cpu_s = (after.0 + after.1) - (before.0 + before.1);

    let db = dir.join("extract.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let mut cost = spawn(&[
        "child-extract".to_owned(),
        "--db".into(),
        db.display().to_string(),
        "--feed-list".into(),
        feed_list.display().to_string(),
    ])?;
    drop(server);
    cost.pages = pages;
    cost.page_bytes = bodies.iter().map(String::len).sum::<usize>() / pages.max(1);
    cost.pure_cpu_s = pure_cpu_s;
    Ok(cost)
}

/// The child: ingests the feeds of `feed_list` into `db` with full text
/// on, then times one pass of the extraction worker.
pub fn child(db: &Path, feed_list: &Path) -> anyhow::Result<ExtractCost> {
    let list = read_feed_list(feed_list)?;
    // The pages are served by loopback hosts: no pause between requests.
    let mut config = Config::parse("[fetch]\nhost_gap = \"0s\"\n", &db.with_extension("toml"))
        .context("the phase's config")?;
    let mut specs = Vec::new();
    for (name, url) in list {
        specs.push(FeedSpec {
            name: name.clone(),
            url: url.clone(),
            tags: Vec::new(),
            dedup: true,
        });
        config.feeds.push(FeedConfig {
            name,
            url: url.parse().context("a feed URL")?,
            tags: Vec::new(),
            dedup: true,
            timeout: None,
            max_body: None,
            user_agent: None,
            schedule: None,
            http: Default::default(),
            rules: Vec::new(),
            full_text: Some(Box::default()),
        });
    }
    let mut store = Store::open(db).context("opening the store")?;
    store.reconcile(&specs, Utc::now())?;
    let rows = store.feeds()?;
    let fetcher = Fetcher::new(&config.fetch).context("setting up the HTTP client")?;
    let shared = SharedStore::new(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let work = config.feeds.iter().cloned().filter_map(|c| {
        let row = rows.iter().find(|r| r.name == c.name)?.clone();
        Some((c, row))
    });
    runtime.block_on(refresh_all(&fetcher, &shared, work, &config.dedup, |_| {}));
    let robots = RobotsCache::default();
    let before = usage::cpu_seconds();
    let started = Instant::now();
    let pass = runtime.block_on(worker::pass(&shared, &fetcher, &config, &robots))?;
    let wall_s = started.elapsed().as_secs_f64();
    let after = usage::cpu_seconds();
    Ok(ExtractCost {
        extracted: pass.done,
        failed: pass.failed + pass.retried,
        wall_s,
        cpu_s: (after.0 + after.1) - (before.0 + before.1),
        peak_rss: usage::peak_rss_bytes(),
        ..ExtractCost::default()
    })
}
