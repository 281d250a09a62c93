//! `tributary import-opml FILE` and `tributary export-opml`: subscription
//! lists in and out of the config file.
//!
//! Import appends one `[[feeds]]` table per new feed (comments and layout
//! of the file kept): folders become tags, names come from the outline's
//! `text` or `title`. Feeds whose URL the config already has, or that the
//! list names twice, are skipped and reported; outlines whose `xmlUrl` is
//! not an http(s) or file URL are skipped and reported too. Export prints
//! the configured feeds, with their titles from the store when there is one.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use url::Url;

use crate::config::{self, Config, ConfigFile, NewFeed};
use crate::opml::{self, Outline, Subscription};
use crate::store::Store;

/// Adds the feeds of the OPML file at `path` to the config.
pub(super) fn import(config: &Config, path: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let list = opml::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if list.feeds.is_empty() {
        bail!(
            "{}: the list holds no feeds (no <outline> with an xmlUrl)",
            path.display()
        );
    }
    let mut added: Vec<NewFeed> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut urls: Vec<(Url, String)> = config
        .feeds
        .iter()
        .map(|f| (f.url.clone(), f.name.clone()))
        .collect();
    for outline in &list.feeds {
        let url = match Url::parse(&outline.xml_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
            Ok(u) if u.scheme() == "file" => u,
            _ => {
                skipped.push(format!("{}: not an http(s) URL", outline.xml_url));
                continue;
            }
        };
        if let Some((_, name)) = urls.iter().find(|(u, _)| *u == url) {
            skipped.push(format!("{url}: already there as `{name}`"));
            continue;
        }
        let base = name_for(outline, &url);
        let name = config::unique_name(&base, |n| {
            config.feed(n).is_some() || added.iter().any(|a| a.name == n)
        });
        urls.push((url.clone(), name.clone()));
        added.push(NewFeed {
            name,
            url: url.to_string(),
            tags: outline.tags.clone(),
        });
    }
    if !added.is_empty() {
        let mut file = ConfigFile::read(&config.path)?;
        file.append_feeds(&added)?;
        file.save()?;
    }
    println!(
        "{}: {} feed{} added to {}, {} skipped",
        path.display(),
        added.len(),
        if added.len() == 1 { "" } else { "s" },
        config.path.display(),
        skipped.len()
    );
    for a in &added {
        let tags = if a.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", a.tags.join(", "))
        };
        println!("  + {:<24} {}{tags}", a.name, a.url);
    }
    for s in &skipped {
        println!("  - skipped {s}");
    }
    if !added.is_empty() {
        println!("{}", super::add::RELOAD_HINT);
    }
    Ok(ExitCode::SUCCESS)
}

/// The outline's `text` when it is a valid name as it stands (so a list
/// Tributary exported, which writes names there, comes back with the same
/// names), else a slug of its title or text, else one made from the URL's
/// host.
fn name_for(outline: &Outline, url: &Url) -> String {
    if let Some(n) = outline
        .text
        .as_deref()
        .filter(|t| config::is_valid_name(t) && t.chars().count() <= 48)
    {
        return n.to_string();
    }
    [outline.title.as_deref(), outline.text.as_deref()]
        .iter()
        .flatten()
        .find_map(|t| config::name_from(t))
        .unwrap_or_else(|| config::name_from_url(url))
}

/// Prints the configured feeds as OPML 2.0.
pub(super) fn export(config: &Config) -> anyhow::Result<ExitCode> {
    let mut subs: Vec<Subscription> = config.feeds.iter().map(Subscription::from).collect();
    // Titles and sites from the store, when it exists; the list is complete without them.
    if config.store.path.exists() {
        if let Ok(rows) = Store::open_read_only(&config.store.path).and_then(|s| s.feeds()) {
            for sub in &mut subs {
                if let Some(row) = rows.iter().find(|r| r.name == sub.name) {
                    sub.title = row.title.clone();
                    sub.site_url = row.site_url.clone();
                }
            }
        }
    }
    print!("{}", opml::render(&subs, chrono::Utc::now()));
    Ok(ExitCode::SUCCESS)
}
