//! `tributary fetch`: one round over the configured feeds, then exit.
//!
//! On a terminal (stdout and stderr both) a progress bar on stderr shows
//! feeds done out of all, the rate and the failures so far; the per-feed
//! lines print above it. Piped or redirected, there is no bar at all.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;

use super::open_store;
use crate::config::{Config, FeedConfig};
use crate::fetch::Fetcher;
use crate::jobs::feed_specs;
use crate::jobs::round::{self, Round};
use crate::refresh::FeedReport;
use crate::store::SharedStore;

/// Polls the feeds (all, or those named in `only`) once.
pub(super) fn run(config: Config, only: &[String], json: bool) -> anyhow::Result<ExitCode> {
    for name in only {
        if config.feed(name).is_none() {
            eprintln!("error: no feed named `{name}` in {}", config.path.display());
            return Ok(ExitCode::from(2));
        }
    }
    let mut store = open_store(&config)?;
    // What this round brings is queued for the notification targets.
    store.set_notify_targets(&config.notify);
    let rows = round::feed_rows(&mut store, &feed_specs(&config), Utc::now())?;
    let chosen = |f: &FeedConfig| only.is_empty() || only.contains(&f.name);
    let total = config.feeds.iter().filter(|f| chosen(f)).count();
    let fetcher = Fetcher::new(&config.fetch).context("setting up the HTTP client")?;
    let shared = SharedStore::new(store);
    let runtime = crate::jobs::threads::runtime()?;
    let stdout = std::io::stdout();
    let bar = progress_bar(total as u64, json);
    let (mut feeds, mut new, mut updated, mut failed) = (0, 0, 0, 0);
    let settings = Round {
        configs: &config.feeds,
        dedup: &config.dedup,
        schedule: &config.schedule,
    };
    runtime.block_on(round::run(&fetcher, &shared, settings, rows, chosen, |r| {
        let print = || {
            let mut out = stdout.lock();
            let _ = if json {
                print_json(&mut out, r)
            } else {
                print_line(&mut out, r)
            };
        };
        feeds += 1;
        new += r.new;
        updated += r.updated;
        failed += usize::from(r.error.is_some());
        match &bar {
            Some(bar) => {
                bar.suspend(print);
                bar.set_message(format!("{failed} failed"));
                bar.inc(1);
            }
            None => print(),
        }
    }));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if !json {
        println!("{feeds} feeds: {new} new, {updated} updated, {failed} failed");
    }
    // Full text for the new articles of full-text feeds, after the round
    // (so that no feed waits for another's pages).
    if config.feeds.iter().any(|f| f.full_text.is_some()) {
        let robots = crate::extract::robots::RobotsCache::default();
        match runtime.block_on(crate::extract::worker::pass(
            &shared, &fetcher, &config, &robots,
        )) {
            Ok(p) => {
                let line = format!(
                    "full text: {} extracted, {} failed, {} to retry later, {} unchanged (304)",
                    p.done, p.failed, p.retried, p.unchanged
                );
                // JSON output is one object per line: the summary goes aside.
                if json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
            Err(e) => tracing::warn!(error = %e, "full-text extraction stopped"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a round shows a progress bar: stdout and stderr are both
/// terminals.
pub(super) fn shows_bar() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// A bar on stderr when [`shows_bar`].
fn progress_bar(total: u64, json: bool) -> Option<indicatif::ProgressBar> {
    if json || !shows_bar() {
        return None;
    }
    let style = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} feeds  {rate}  {msg}  {elapsed}",
    )
    .ok()?
    .with_key(
        "rate",
        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.1} feeds/s", s.per_sec());
        },
    );
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    )
    .with_style(style)
    .with_message("0 failed");
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    Some(bar)
}

fn print_line(out: &mut impl Write, r: &FeedReport) -> std::io::Result<()> {
    let http = r.http_status.map(|s| format!(" {s}")).unwrap_or_default();
    match &r.error {
        None => writeln!(
            out,
            "{:<24} {}{http}  {} new, {} updated",
            r.name, r.status, r.new, r.updated
        ),
        Some(e) => writeln!(out, "{:<24} {}{http}  error: {e}", r.name, r.status),
    }
}

fn print_json(out: &mut impl Write, r: &FeedReport) -> std::io::Result<()> {
    let v = serde_json::json!({
        "name": r.name,
        "url": r.url,
        "status": r.status,
        "http_status": r.http_status,
        "new": r.new,
        "updated": r.updated,
        "error": r.error,
    });
    writeln!(out, "{v}")
}
