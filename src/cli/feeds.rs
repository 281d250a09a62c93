//! `tributary feeds`: every feed with its state, as a table that fits 120
//! columns (times relative to now, long names and errors cut with `…`), or
//! as JSON lines with exact times.
//!
//! The config is the source of truth: a feed just added (`add`,
//! `import-opml`) is listed before any round has stored it, as never
//! fetched and due at once (the daemon checks a new feed when it starts or
//! reloads its config, `tributary fetch` on its next run).

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::open_store;
use crate::config::Config;
use crate::diagnosis::span;
use crate::store::{FeedRow, Subscription};

/// Width of the whole table row.
const WIDTH: usize = 120;

/// Prints the feeds table (or JSON lines).
pub(super) fn run(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let rows = with_configured(store.feeds()?, config, Utc::now());
    let entries = store.entry_counts()?;
    let articles = store.article_counts()?;
    let pushed: std::collections::HashMap<String, Subscription> = store
        .subscriptions()?
        .into_iter()
        .map(|s| (s.feed.clone(), s))
        .collect();
    let now = Utc::now();
    let mut out = std::io::stdout().lock();
    if json {
        for f in &rows {
            let v = serde_json::json!({
                "name": f.name, "url": f.url, "active": f.active, "status": f.status,
                "title": f.title, "tags": f.tags,
                "last_fetch_at": f.last_fetch_at, "last_success_at": f.last_success_at,
                "last_new_entry_at": f.last_new_entry_at, "http_status": f.last_http_status,
                "consecutive_errors": f.consecutive_errors, "last_error": f.last_error,
                "next_check_at": f.next_check_at, "next_check_reason": f.next_check_reason,
                "entries": entries.get(&f.id).copied().unwrap_or(0),
                "articles": articles.get(&f.id).copied().unwrap_or(0),
                "moved_to": f.moved_to, "retry_after_until": f.retry_after_until,
                "never_fetched": f.last_fetch_at.is_none(),
                "websub": pushed.get(&f.name).map(|s| serde_json::json!({
                    "pushed": s.live(now), "state": s.state, "hub": s.hub, "topic": s.topic,
                    "since": s.verified_at, "lease_expires_at": s.lease_expires_at,
                    "last_push_at": s.last_push_at, "error": s.last_error,
                })),
            });
            writeln!(out, "{v}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let head = format!(
        "{:<20} {:<9} {:<8} {:<8} {:<22} {:>7} {:>8} {:>4}  ",
        "NAME", "STATUS", "FETCHED", "NEW", "NEXT CHECK", "ENTRIES", "ARTICLES", "ERRS"
    );
    let error_width = WIDTH.saturating_sub(head.chars().count());
    writeln!(out, "{head}LAST ERROR")?;
    for f in &rows {
        let line = format!(
            "{:<20} {:<9} {:<8} {:<8} {:<22} {:>7} {:>8} {:>4}  {}",
            cut(&f.name, 20),
            status(f),
            f.last_fetch_at.map_or("never".into(), |t| ago(t, now)),
            f.last_new_entry_at.map_or("-".into(), |t| ago(t, now)),
            cut(&next_check(f, now), 22),
            entries.get(&f.id).copied().unwrap_or(0),
            articles.get(&f.id).copied().unwrap_or(0),
            f.consecutive_errors,
            cut(f.last_error.as_deref().unwrap_or(""), error_width),
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    let mut subscribed: Vec<&Subscription> = pushed.values().filter(|s| s.feed_active).collect();
    subscribed.sort_by(|a, b| a.feed.cmp(&b.feed));
    if !subscribed.is_empty() {
        writeln!(out, "\nWEBSUB (pushed by a hub)")?;
        for s in subscribed {
            writeln!(out, "{}", push_line(s, now).trim_end())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One subscription: `name  pushed since 2h ago, lease ends in 6d, last push 5m ago  hub`.
fn push_line(s: &Subscription, now: DateTime<Utc>) -> String {
    let state = if s.live(now) {
        let since = s.verified_at.map_or("-".into(), |t| ago(t, now));
        let end = s
            .lease_expires_at
            .map_or("-".into(), |t| span((t - now).num_seconds()));
        let last = s.last_push_at.map_or("never".into(), |t| ago(t, now));
        format!("pushed since {since}, lease ends in {end}, last push {last}")
    } else {
        let why = s
            .last_error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        format!("{}{why}", s.state)
    };
    format!(
        "{:<20} {}  {}",
        cut(&s.feed, 20),
        cut(&state, 70),
        cut(&s.hub, 28)
    )
}

/// `rows` plus a row for each configured feed the store does not hold
/// yet: never fetched, due `now` as a new feed. Sorted as the store sorts
/// (active first, then by name).
fn with_configured(mut rows: Vec<FeedRow>, config: &Config, now: DateTime<Utc>) -> Vec<FeedRow> {
    let known: std::collections::HashSet<String> = rows.iter().map(|r| r.name.clone()).collect();
    for feed in config.feeds.iter().filter(|f| !known.contains(&f.name)) {
        rows.push(FeedRow {
            id: crate::model::FeedId(0),
            name: feed.name.clone(),
            url: feed.url.to_string(),
            active: true,
            dedup: feed.dedup,
            title: None,
            site_url: None,
            identity_mode: Default::default(),
            validators: Default::default(),
            final_url: None,
            status: "new".into(),
            last_fetch_at: None,
            last_success_at: None,
            last_new_entry_at: None,
            last_http_status: None,
            last_error: None,
            consecutive_errors: 0,
            next_check_at: Some(now),
            next_check_reason: Some("new feed".into()),
            tags: feed.tags.clone(),
            moved_to: None,
            hints: Default::default(),
            retry_after_until: None,
        });
    }
    rows.sort_by(|a, b| b.active.cmp(&a.active).then_with(|| a.name.cmp(&b.name)));
    rows
}

fn status(f: &FeedRow) -> &str {
    if !f.active {
        "removed"
    } else {
        f.status.as_str()
    }
}

/// `in 12m schedule`, `due backoff`, `retired`.
fn next_check(f: &FeedRow, now: DateTime<Utc>) -> String {
    let why = f.next_check_reason.as_deref().unwrap_or("");
    match f.next_check_at {
        _ if !f.active => "-".into(),
        None if why == "retired" => "retired".into(),
        None => "-".into(),
        Some(t) if t <= now => format!("due {why}").trim_end().to_string(),
        Some(t) => format!("in {} {why}", span((t - now).num_seconds()))
            .trim_end()
            .to_string(),
    }
}

fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    if secs < 5 {
        "now".into()
    } else {
        format!("{} ago", span(secs))
    }
}

/// `s` cut to `width` characters, the last one `…` when cut.
fn cut(s: &str, width: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= width {
        return s;
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("a very long error message", 10), "a very lo…");
        assert_eq!(cut("a very long error message", 10).chars().count(), 10);
        assert_eq!(cut("line\nbreak", 20), "line break");
    }
}
