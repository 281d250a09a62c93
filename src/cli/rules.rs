//! `tributary rules test FEED`: what the current rules would do to the
//! entries the store holds for a feed, without changing anything.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;

use super::open_store;
use crate::clean::Cleaner;
use crate::config::Config;
use crate::rules::{self, Context};

/// Default number of stored entries judged.
pub const DEFAULT_TEST_ENTRIES: usize = 50;

/// What `tributary rules` was asked.
#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// Show what the rules would do to FEED's stored entries, newest
    /// first (nothing is changed: rules apply to what arrives next).
    Test {
        /// The feed's name.
        feed: String,
        /// How many of its latest entries to judge.
        #[arg(long, default_value_t = DEFAULT_TEST_ENTRIES)]
        limit: usize,
        /// One JSON object per entry per line.
        #[arg(long)]
        json: bool,
    },
}

/// One judged entry, as `--json` prints it.
#[derive(serde::Serialize)]
struct Judgement<'a> {
    key: &'a str,
    title: &'a str,
    url: Option<&'a str>,
    /// `drop` or `store`.
    outcome: &'static str,
    dropped_by: Option<&'a str>,
    rules: Vec<(&'a str, &'static str)>,
    new_title: Option<&'a str>,
    new_url: Option<&'a str>,
    tags: Vec<&'a str>,
    marks: Vec<&'a str>,
    refused: &'a [String],
}

/// Runs the command.
pub(super) fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let Args::Test { feed, limit, json } = args;
    let Some(cfg) = config.feed(&feed) else {
        eprintln!("error: no feed named `{feed}` in {}", config.path.display());
        return Ok(ExitCode::from(2));
    };
    let store = open_store(config)?;
    let Some(row) = store.feed_by_name(&feed)? else {
        eprintln!(
            "error: feed `{feed}` has nothing stored yet (run `tributary fetch --feed {feed}`)"
        );
        return Ok(ExitCode::from(1));
    };
    let entries = store.stored_entries(row.id, limit)?;
    let cleaner = Cleaner::new();
    let cx = Context {
        // The store does not keep the feed's language.
        language: None,
        now: Utc::now(),
        cleaner: &cleaner,
    };
    let mut out = std::io::stdout().lock();
    if !json {
        writeln!(
            out,
            "feed {feed}: {} rules apply; judging its {} latest stored entries",
            cfg.rules.len(),
            entries.len()
        )?;
        if cfg.rules.iter().any(|r| !r.when.language.is_empty()) {
            writeln!(
                out,
                "note: language conditions are judged as not matching here (the store does not keep the feed's language)"
            )?;
        }
    }
    let (mut dropped, mut changed) = (0, 0);
    for original in &entries {
        let mut e = original.clone();
        let v = rules::apply(&cfg.rules, &mut e, &cx);
        let new_title = (e.title != original.title).then_some(e.title.as_str());
        let new_url = (e.url != original.url)
            .then_some(e.url.as_deref())
            .flatten();
        dropped += usize::from(v.dropped_by.is_some());
        changed += usize::from(v.changed || new_url.is_some());
        if json {
            let j = Judgement {
                key: &original.key,
                title: &original.title,
                url: original.url.as_deref(),
                outcome: if v.dropped_by.is_some() {
                    "drop"
                } else {
                    "store"
                },
                dropped_by: v.dropped_by.as_deref(),
                rules: v.matched.iter().map(|(n, a)| (n.as_str(), *a)).collect(),
                new_title,
                new_url,
                tags: v.tags.iter().map(|(t, _)| t.as_str()).collect(),
                marks: v.marks.iter().map(|(m, _)| m.as_str()).collect(),
                refused: &v.refused,
            };
            writeln!(out, "{}", serde_json::to_string(&j)?)?;
            continue;
        }
        let verdict = match &v.dropped_by {
            Some(rule) => format!("DROP  ({rule})"),
            None => "store".to_string(),
        };
        writeln!(out, "{verdict:<6} {}", one_line(&original.title))?;
        writeln!(out, "       {}", original.url.as_deref().unwrap_or("-"))?;
        for (name, action) in &v.matched {
            writeln!(out, "       rule {name}: {action}")?;
        }
        if let Some(t) = new_title {
            writeln!(out, "       title → {}", one_line(t))?;
        }
        if let Some(u) = new_url {
            writeln!(out, "       link  → {u}")?;
        }
        for (kind, list) in [("tag", &v.tags), ("mark", &v.marks)] {
            if !list.is_empty() {
                let names: Vec<&str> = list.iter().map(|(l, _)| l.as_str()).collect();
                writeln!(out, "       {kind}: {}", names.join(", "))?;
            }
        }
        for r in &v.refused {
            writeln!(
                out,
                "       rewrite not applied (output over the bound): {r}"
            )?;
        }
    }
    if !json {
        writeln!(
            out,
            "{} entries: {dropped} would be dropped, {changed} rewritten; nothing was changed",
            entries.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn one_line(s: &str) -> String {
    crate::clean::truncate_chars(&crate::clean::one_line(s), 120)
}
