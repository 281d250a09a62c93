//! `tributary doctor [FEED]`: what is wrong with each failing feed, in
//! words, and what to do about it.
//!
//! The judgement is `diagnosis::diagnose` over the store (the feed's row
//! and its recent fetches). Where a live look adds something, one request
//! is made with the feed's own settings (never for 410 or 429: asking again
//! is what the server asked us not to do): the failure may have passed; a
//! web page is searched for the feeds it announces or recognised as a bot
//! check; a broken document is located by line and column; after a 404 the
//! site's home page is searched for the feed's new address. `--offline`
//! skips it. Healthy feeds get one line, `NAME: ok`.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use url::Url;

use super::open_store;
use crate::config::{Config, FeedConfig};
use crate::diagnosis::{self, Diagnosis, Probe};
use crate::fetch::{credentials, Fetched, Fetcher, Redactor, Request};
use crate::model::Validators;
use crate::store::FeedRow;

/// Fetch-log rows read for each feed's history.
const HISTORY: usize = 20;

/// Diagnoses every active feed, or the one named.
pub(super) fn run(config: &Config, only: Option<&str>, offline: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let rows = store.feeds()?;
    let chosen: Vec<&FeedRow> = match only {
        Some(name) => match rows.iter().find(|r| r.name == name) {
            Some(r) => vec![r],
            None if config.feed(name).is_some() => {
                println!("{name}: not fetched yet: run `tributary fetch --feed {name}`, or wait for the daemon");
                return Ok(ExitCode::SUCCESS);
            }
            None => {
                eprintln!("error: no feed named `{name}` in {}", config.path.display());
                return Ok(ExitCode::from(2));
            }
        },
        None => rows.iter().filter(|r| r.active).collect(),
    };
    let fetcher = (!offline)
        .then(|| Fetcher::new(&config.fetch))
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let now = Utc::now();
    let mut out = std::io::stdout().lock();
    let mut troubled = 0;
    for row in &chosen {
        let mut redirect = store.redirect_streak(row.id)?;
        let feed = config.feed(&row.name);
        if let (Some(feed), Some(to)) = (feed, redirect.target.as_deref()) {
            redirect.held = Url::parse(to).ok().and_then(|to| {
                credentials::move_held(&feed.url, &feed.http, &to, &config.fetch.url_secrets)
            });
        }
        let log = store.recent_fetches(row.id, HISTORY)?;
        let d = diagnosis::diagnose(row, &redirect, &log, now);
        if d.is_ok() {
            writeln!(out, "{}: ok", row.name)?;
            continue;
        }
        troubled += 1;
        let mut text = report(row, &d);
        if let (Some(fetcher), Some(feed)) = (&fetcher, feed) {
            let probed = runtime.block_on(probe(fetcher, config, feed, row, d.probe));
            let redactor = Redactor::new(&feed.http, &feed.url, &config.fetch.url_secrets);
            for line in probed {
                let line = redactor.text(&line);
                // Lines that start indented continue the one before.
                let bullet = if line.starts_with(' ') { "  " } else { "  - " };
                text.push_str(&format!("{bullet}{line}\n"));
            }
        }
        write!(out, "{text}")?;
    }
    if only.is_none() {
        writeln!(
            out,
            "{} feeds: {} ok, {troubled} need attention",
            chosen.len(),
            chosen.len() - troubled
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn report(row: &FeedRow, d: &Diagnosis) -> String {
    let mut s = format!("{} ({})\n", row.name, row.url);
    for f in &d.findings {
        s.push_str(&format!("  - {}\n", f.what));
        if let Some(todo) = &f.todo {
            s.push_str(&format!("    what to do: {todo}\n"));
        }
    }
    if let Some(h) = &d.history {
        s.push_str(&format!("  - {h}\n"));
    }
    s
}

/// One live look, as lines of text.
async fn probe(
    fetcher: &Fetcher,
    config: &Config,
    feed: &FeedConfig,
    row: &FeedRow,
    what: Probe,
) -> Vec<String> {
    let url = match what {
        Probe::None => return Vec::new(),
        // The store keeps URLs redacted: the one polled comes from the config.
        Probe::Url => polled(config, feed, row),
        Probe::Site => match polled(config, feed, row) {
            mut u if u.scheme() != "file" => {
                u.set_path("/");
                u.set_query(None);
                u
            }
            _ => return Vec::new(),
        },
    };
    let validators = Validators::default();
    let req = Request {
        url: &url,
        configured: &feed.url,
        validators: &validators,
        timeout: feed.timeout.unwrap_or(config.fetch.timeout),
        max_body: feed.max_body.unwrap_or(config.fetch.max_body),
        user_agent: feed.user_agent.as_deref(),
        http: &feed.http,
        min_gap: std::time::Duration::ZERO,
        truncate: false,
        hops: None,
    };
    let (body, content_type, meta) = match fetcher.fetch(&req).await {
        Err(e) if what == Probe::Site => {
            return vec![format!(
                "checked now: the site's home page {url} fails too ({e})"
            )]
        }
        Err(e) => return vec![format!("checked now: still failing: {e}")],
        Ok(Fetched::NotModified { .. }) => {
            return vec!["checked now: answers (304 Not Modified)".into()]
        }
        Ok(Fetched::Body {
            body,
            content_type,
            meta,
        }) => (body, content_type, meta),
    };
    let page_url = meta.final_url.clone().unwrap_or_else(|| url.clone());
    let mut lines = Vec::new();
    if meta.permanently_moved() && what == Probe::Url {
        lines.push(format!("checked now: redirects permanently to {page_url}"));
    }
    let parsed = crate::parse::parse(&body, content_type.as_deref(), Some(page_url.as_str()));
    let text = crate::parse::decode(&body, content_type.as_deref());
    match parsed {
        Ok(doc) if what == Probe::Url => lines.push(format!(
            "checked now: a valid feed with {} entries: the failure may have passed (the next fetch will tell)",
            doc.entries.len()
        )),
        Ok(_) => lines.push(format!("checked now: {page_url} is itself a feed: use it as the url")),
        Err(e) => {
            if let Some(who) = diagnosis::bot_wall(&text) {
                lines.push(format!(
                    "checked now: blocked: {page_url} answers with a {who} page (a check for browsers) instead of the feed; ask the publisher, or use another source"
                ));
            } else if crate::discover::looks_like_html(&text) {
                lines.extend(announced(&text, &page_url));
            } else if what == Probe::Url {
                match diagnosis::error_position(&text) {
                    Some(p) => {
                        lines.push(format!("checked now: it breaks at line {}, column {}: {}", p.line, p.column, p.message));
                        lines.push(format!("    {}", p.excerpt));
                    }
                    None => lines.push(format!("checked now: still not readable: {e}")),
                }
            }
        }
    }
    lines
}

/// The URL the next refresh of `feed` polls.
fn polled(config: &Config, feed: &FeedConfig, row: &FeedRow) -> Url {
    credentials::polled_url(
        &feed.url,
        &feed.http,
        row.moved_to.as_deref(),
        &config.fetch.url_secrets,
    )
}

/// The feeds a page announces, as lines.
fn announced(html: &str, page: &Url) -> Vec<String> {
    let links = crate::discover::links(html, page);
    if links.is_empty() {
        return vec![format!(
            "checked now: {page} is a web page that announces no feed; `tributary add {page}` also tries the usual places (/feed, /rss.xml, …)"
        )];
    }
    let mut lines = vec![format!(
        "checked now: {page} is a web page announcing {} feed{}; put one of them in the config as the url:",
        links.len(),
        if links.len() == 1 { "" } else { "s" }
    )];
    for l in links {
        let title = l.title.map(|t| format!(", \"{t}\"")).unwrap_or_default();
        lines.push(format!("    {} ({}{title})", l.url, l.media_type));
    }
    lines
}
