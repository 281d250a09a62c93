//! `tributary add URL [--name N] [--tags a,b]`: finds the feed behind a
//! URL, checks that it is one, and appends it to the config file (its
//! comments and layout kept).
//!
//! A URL that serves a feed is taken as it is (or where it permanently
//! redirects). A web page is searched for the feeds it announces
//! (`<link rel="alternate">`), and when it announces none the usual places
//! (`/feed`, `/rss.xml`, …) are tried; the first candidate that parses as a
//! feed is taken. Each candidate is fetched once, through the same fetcher
//! and parser the daemon uses. Nothing is written to the store: the daemon
//! adds the feed when it reloads its config.

use std::process::ExitCode;

use anyhow::{bail, Context};
use url::Url;

use crate::config::{self, Config, ConfigFile, FeedHttp, NewFeed};
use crate::discover;
use crate::fetch::{Fetched, Fetcher, Request};
use crate::model::Validators;
use crate::parse::{self, ParsedFeed};

/// The reload hint printed after every change to the config file.
pub(super) const RELOAD_HINT: &str =
    "A running daemon picks this up when it reloads: systemctl reload tributary (or kill -HUP the `tributary run` process).";

/// A feed found and checked.
struct Found {
    url: Url,
    doc: ParsedFeed,
    /// How it was found, when not directly.
    via: Option<String>,
}

/// Adds the feed at (or announced by) `raw_url`.
pub(super) fn run(
    config: &Config,
    raw_url: &str,
    name: Option<String>,
    tags: &[String],
) -> anyhow::Result<ExitCode> {
    let url = input_url(raw_url)?;
    refuse_known(config, &url)?;
    if let Some(n) = &name {
        if !config::is_valid_name(n) {
            bail!("feed name `{n}` may hold only letters, digits, `-`, `_` and `.`");
        }
        if config.feed(n).is_some() {
            bail!("a feed named `{n}` is already in {}", config.path.display());
        }
    }
    let fetcher = Fetcher::new(&config.fetch).context("setting up the HTTP client")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let found = runtime.block_on(find(&fetcher, config, &url))?;
    refuse_known(config, &found.url)?;
    let title = found
        .doc
        .meta
        .title
        .clone()
        .filter(|t| !t.trim().is_empty());
    let name = match name {
        Some(n) => n,
        None => {
            let base = title
                .as_deref()
                .and_then(config::name_from)
                .unwrap_or_else(|| config::name_from_url(&found.url));
            config::unique_name(&base, |n| config.feed(n).is_some())
        }
    };
    let mut clean_tags: Vec<String> = Vec::new();
    for t in tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
    {
        if !clean_tags.contains(&t) {
            clean_tags.push(t);
        }
    }
    let mut file = ConfigFile::read(&config.path)?;
    file.append_feeds(&[NewFeed {
        name: name.clone(),
        url: found.url.to_string(),
        tags: clean_tags.clone(),
    }])?;
    file.save()?;
    println!("added {name}: {}", found.url);
    let kind = match found.doc.meta.format {
        "atom" => "Atom feed",
        "json" => "JSON Feed",
        "" => "feed",
        _ => "RSS feed",
    };
    let title = title.map(|t| format!(" \"{t}\"")).unwrap_or_default();
    println!("  {kind}{title}, {} entries", found.doc.entries.len());
    if let Some(via) = &found.via {
        println!("  {via}");
    }
    if !clean_tags.is_empty() {
        println!("  tags: {}", clean_tags.join(", "));
    }
    println!("{RELOAD_HINT}");
    Ok(ExitCode::SUCCESS)
}

/// The URL as typed: a URL, a local file, or a host and path without a
/// scheme (then `https://`).
fn input_url(raw: &str) -> anyhow::Result<Url> {
    let raw = raw.trim();
    let url = if raw.contains("://") {
        Url::parse(raw).with_context(|| format!("`{raw}` is not a valid URL"))?
    } else if std::path::Path::new(raw).exists() {
        let abs = std::path::absolute(raw)?;
        Url::from_file_path(&abs)
            .map_err(|()| anyhow::anyhow!("cannot turn {raw} into a file URL"))?
    } else {
        Url::parse(&format!("https://{raw}"))
            .with_context(|| format!("`{raw}` is not a valid URL"))?
    };
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(url),
        "file" => Ok(url),
        other => bail!("unsupported URL scheme `{other}` (use http, https or a file)"),
    }
}

fn refuse_known(config: &Config, url: &Url) -> anyhow::Result<()> {
    if let Some(f) = config.feeds.iter().find(|f| f.url == *url) {
        bail!("{url} is already in the config as `{}`", f.name);
    }
    Ok(())
}

/// Fetches `url` (redirects followed) and parses it as a feed; `given` is
/// the address the operator gave, whose origin and reach bound the fetch
/// (a page on a public address cannot announce a feed on a private one).
async fn fetch_feed(
    fetcher: &Fetcher,
    config: &Config,
    url: &Url,
    given: &Url,
) -> anyhow::Result<(Url, Result<ParsedFeed, (parse::ParseError, String)>)> {
    let validators = Validators::default();
    let http = FeedHttp::default();
    let req = Request {
        url,
        configured: given,
        validators: &validators,
        timeout: config.fetch.timeout,
        max_body: config.fetch.max_body,
        user_agent: None,
        http: &http,
        min_gap: std::time::Duration::ZERO,
        truncate: false,
        hops: None,
    };
    let (body, content_type, meta) = match fetcher
        .fetch(&req)
        .await
        .with_context(|| format!("fetching {url}"))?
    {
        Fetched::Body {
            body,
            content_type,
            meta,
        } => (body, content_type, meta),
        Fetched::NotModified { .. } => bail!("{url} answered 304 Not Modified to a plain request"),
    };
    let final_url = meta.final_url.clone().unwrap_or_else(|| url.clone());
    // Keep the address given unless the server says it moved for good.
    let keep = if meta.permanently_moved() {
        final_url.clone()
    } else {
        url.clone()
    };
    let parsed =
        parse::parse(&body, content_type.as_deref(), Some(final_url.as_str())).map_err(|e| {
            (
                e,
                parse::decode(&body, content_type.as_deref()).into_owned(),
            )
        });
    Ok((if parsed.is_ok() { keep } else { final_url }, parsed))
}

async fn find(fetcher: &Fetcher, config: &Config, url: &Url) -> anyhow::Result<Found> {
    let (page_url, parsed) = fetch_feed(fetcher, config, url, url).await?;
    let (error, text) = match parsed {
        Ok(doc) => {
            return Ok(Found {
                url: page_url,
                doc,
                via: None,
            })
        }
        Err(e) => e,
    };
    if !discover::looks_like_html(&text) {
        bail!("{url} is not a feed: {error}");
    }
    let announced: Vec<Url> = discover::links(&text, &page_url)
        .into_iter()
        .map(|l| l.url)
        .collect();
    let (candidates, how) = if announced.is_empty() {
        (
            discover::common_paths(&page_url),
            "found at a usual place; the page announces no feed",
        )
    } else {
        (announced, "announced by the page")
    };
    let mut tried = Vec::new();
    for candidate in candidates {
        match fetch_feed(fetcher, config, &candidate, url).await {
            Ok((feed_url, Ok(doc))) => {
                return Ok(Found {
                    url: feed_url,
                    doc,
                    via: Some(format!("{how} {page_url}")),
                })
            }
            Ok((_, Err((e, _)))) => tried.push(format!("{candidate}: {e}")),
            Err(e) => tried.push(format!("{candidate}: {}", e.root_cause())),
        }
    }
    bail!(
        "{url} is a web page and no feed was found for it (tried: {})",
        tried.join("; ")
    )
}
