//! The render phase: a store of a million articles, the time to produce
//! the default output from it — its stories read by
//! [`Site::stories`](crate::output::Site::stories), made a channel and
//! rendered by [`syndication::render`] — and the time the output server takes
//! to answer a conditional request for it from its cache.
//!
//! Filling and rendering run in separate child processes, so the render's
//! peak memory is its own. The fill writes straight into the tables through
//! [`Store::bulk_insert`] (no identity lookups: the synthetic articles are
//! distinct by construction), 50,000 rows per transaction, with the FTS
//! triggers firing as in normal ingest. The newest `full_bodies` articles
//! get full 1–5 KB bodies, the older ones a one-paragraph body, so the file
//! stays a few gigabytes smaller while everything the output reads is full
//! size.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::corpus::BASE_EPOCH;
use super::{prose, usage};
use crate::config::Config;
use crate::model::{Entry, FeedId, FeedSpec, KeyKind};
use crate::output::Site;
use crate::server::{self, ServerState};
use crate::store::{BulkRow, Store};
use crate::syndication::{self, Format};

/// Conditional requests timed against the output server.
const CONDITIONAL_REQUESTS: usize = 200;

/// What filling the store cost.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct FillCost {
    /// Wall seconds.
    pub wall_s: f64,
    /// User + system CPU seconds.
    pub cpu_s: f64,
    /// Peak resident set, bytes.
    pub peak_rss: u64,
    /// Articles written.
    pub articles: u64,
    /// Size of the database file afterwards.
    pub db_bytes: u64,
}

/// Timings of one output format over the iterations.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct FormatTiming {
    /// `atom`, `rss` or `json`.
    pub format: String,
    /// The first iteration (fresh connection): read + build + render, ms.
    pub first_ms: f64,
    /// Median of the rest, ms.
    pub median_ms: f64,
    /// Slowest of the rest, ms.
    pub max_ms: f64,
    /// Median time of the store read alone, ms.
    pub query_ms: f64,
    /// Median time of `syndication::render` alone, ms.
    pub render_ms: f64,
    /// Document size in bytes.
    pub bytes: u64,
}

/// What rendering cost.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RenderCost {
    /// Articles in the store.
    pub articles: u64,
    /// Items in the default output.
    pub items: usize,
    /// Iterations per format.
    pub iterations: usize,
    /// Per format.
    pub formats: Vec<FormatTiming>,
    /// The output server answering `If-None-Match` from its cache.
    pub conditional: ConditionalTiming,
    /// Peak resident set of the render process, bytes.
    pub peak_rss: u64,
}

/// The output server's cached conditional answers for the default Atom
/// output, seen from a keep-alive client on the same machine.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ConditionalTiming {
    /// The first request (the server reads the store and renders), ms.
    pub first_ms: f64,
    /// Requests with the ETag just received.
    pub requests: usize,
    /// How many of them were answered 304.
    pub not_modified: usize,
    /// Median round trip, ms.
    pub median_ms: f64,
    /// 99th percentile round trip, ms.
    pub p99_ms: f64,
}

/// Fills a new store at `db` with `articles` articles spread over `feeds`
/// feeds, one new article per second of first-seen time.
pub fn fill(
    db: &Path,
    seed: u64,
    articles: u64,
    feeds: u64,
    full_bodies: u64,
) -> anyhow::Result<FillCost> {
    let started = Instant::now();
    let mut store = Store::open(db).context("opening the store")?;
    let specs: Vec<FeedSpec> = (1..=feeds.max(1))
        .map(|i| FeedSpec {
            name: format!("r{i:05}"),
            url: format!("https://site{i:05}.example.com/feed.xml"),
            tags: Vec::new(),
            dedup: true,
        })
        .collect();
    store.reconcile(&specs, Utc::now())?;
    let ids: Vec<FeedId> = store.feeds()?.into_iter().map(|f| f.id).collect();
    let rows = (0..articles).map(|n| {
        let aid = n + 1;
        let feed = ids[(n % ids.len() as u64) as usize];
        let seen = at(BASE_EPOCH + n as i64);
        let html = if n + full_bodies >= articles {
            prose::html(seed, aid)
        } else {
            prose::paragraph(seed, aid)
        };
        BulkRow {
            feed,
            first_seen: seen,
            entry: synthetic_entry(seed, aid, feed, html, seen),
        }
    });
    let written = store.bulk_insert(rows, 50_000)?;
    let (user, sys) = usage::cpu_seconds();
    let wall_s = started.elapsed().as_secs_f64();
    drop(store);
    let db_bytes = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    Ok(FillCost {
        wall_s,
        cpu_s: user + sys,
        peak_rss: usage::peak_rss_bytes(),
        articles: written,
        db_bytes,
    })
}

fn at(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

fn synthetic_entry(seed: u64, aid: u64, feed: FeedId, html: String, seen: DateTime<Utc>) -> Entry {
    let url = format!("https://site{:05}.example.com/a/{aid}", feed.0);
    let title = prose::title(seed, aid);
    // As cleaning makes it (the store derives it from the HTML again).
    let text = crate::clean::html_to_text(&html);
    Entry {
        key: url.clone(),
        key_kind: KeyKind::Link,
        guid: None,
        canonical_url: Some(url.clone()),
        url: Some(url),
        content_hash: crate::clean::content_hash(&title, &text),
        story_print: None,
        title,
        title_derived: false,
        title_original: None,
        authors: vec![prose::author(seed, aid)],
        summary_html: None,
        content_html: Some(html),
        content_text: text,
        published: seen - chrono::Duration::minutes(10),
        published_from_feed: true,
        updated: None,
        categories: prose::tags(seed, aid)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        enclosures: Vec::new(),
        raw_hash: 0,
        content_elided: false,
        item_hash: None,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Renders the default output `iterations` times in each format, each time
/// from a fresh read of the store (the first read on a fresh connection),
/// then times conditional requests against the output server.
pub fn render(db: &Path, iterations: usize) -> anyhow::Result<RenderCost> {
    let iterations = iterations.max(2);
    // Brings a store made by an older build up to the current schema.
    drop(Store::open(db).context("opening the store")?);
    let config_text = format!(
        "[store]\npath = \"{}\"\n",
        db.display()
            .to_string()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
    );
    let config = Config::parse(&config_text, &db.with_extension("toml"))?;
    let site = Site::new(&config);
    let output = site.default_output().clone();
    let mut cost = RenderCost {
        iterations,
        ..RenderCost::default()
    };
    for (format, name) in [
        (Format::Atom, "atom"),
        (Format::Rss, "rss"),
        (Format::JsonFeed, "json"),
    ] {
        let store = Store::open_read_only(db).context("opening the store")?;
        let (mut totals, mut queries, mut renders) = (Vec::new(), Vec::new(), Vec::new());
        let mut timing = FormatTiming {
            format: name.into(),
            ..FormatTiming::default()
        };
        for i in 0..iterations {
            let t0 = Instant::now();
            let stories = site.stories(&store, &output)?;
            let t1 = Instant::now();
            let channel = site.channel(&output, &stories);
            let t2 = Instant::now();
            let doc = syndication::render(&channel, format);
            let t3 = Instant::now();
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
            if i == 0 {
                timing.first_ms = ms(t0, t3);
                timing.bytes = doc.len() as u64;
                cost.items = channel.items.len();
                continue;
            }
            totals.push(ms(t0, t3));
            queries.push(ms(t0, t1));
            renders.push(ms(t2, t3));
        }
        timing.median_ms = median(&mut totals);
        timing.max_ms = totals.last().copied().unwrap_or(0.0);
        timing.query_ms = median(&mut queries);
        timing.render_ms = median(&mut renders);
        cost.formats.push(timing);
        if cost.articles == 0 {
            cost.articles = store.counts()?.2 as u64;
        }
    }
    let reader = Store::open_read_only(db).context("opening the store")?;
    cost.conditional = conditional(ServerState::with_reader(site, reader))?;
    cost.peak_rss = usage::peak_rss_bytes();
    Ok(cost)
}

/// Serves `state` on 127.0.0.1 and times `GET /feed.atom` with the ETag
/// of the first answer, over one keep-alive connection.
fn conditional(state: ServerState) -> anyhow::Result<ConditionalTiming> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}/feed.atom", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        let client = crate::fetch::client_builder().build()?;
        let t0 = Instant::now();
        let first = client.get(&url).send().await?.error_for_status()?;
        let etag = first
            .headers()
            .get(reqwest::header::ETAG)
            .context("the output server sent no ETag")?
            .clone();
        first.bytes().await?;
        let mut timing = ConditionalTiming {
            first_ms: t0.elapsed().as_secs_f64() * 1e3,
            requests: CONDITIONAL_REQUESTS,
            ..ConditionalTiming::default()
        };
        let mut times = Vec::with_capacity(CONDITIONAL_REQUESTS);
        for _ in 0..CONDITIONAL_REQUESTS {
            let t = Instant::now();
            let resp = client
                .get(&url)
                .header(reqwest::header::IF_NONE_MATCH, etag.clone())
                .send()
                .await?;
            let status = resp.status();
            resp.bytes().await?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if status == reqwest::StatusCode::NOT_MODIFIED {
                timing.not_modified += 1;
            }
        }
        times.sort_by(f64::total_cmp);
        timing.median_ms = times[times.len() / 2];
        timing.p99_ms = times[(times.len() * 99 / 100).min(times.len() - 1)];
        let _ = stop.send(());
        let _ = serving.await;
        anyhow::Ok(timing)
    })
}
