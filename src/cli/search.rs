//! `tributary search QUERY`: full-text search over stored articles, best
//! match first, each with its feeds, date, link and the passage that
//! matched (matched words in bold on a terminal, in `[…]` otherwise),
//! within [`SearchLimits::COMMAND_LINE`].

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use super::open_store;
use crate::config::Config;
use crate::store::SearchLimits;

/// Prints the `limit` best matches for `query`.
pub(super) fn run(
    config: &Config,
    query: &str,
    limit: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let results = store.search(query, limit, &SearchLimits::COMMAND_LINE)?;
    if let Some(q) = &results.retried_as {
        eprintln!(
            "note: `{query}` is not valid search syntax; searched for the words instead: {q}"
        );
    }
    let mut out = std::io::stdout().lock();
    if json {
        for h in &results.hits {
            let v = serde_json::json!({
                "article_id": h.article_id, "title": h.title, "url": h.url, "feeds": h.feeds,
                "published_at": h.published_at, "first_seen_at": h.first_seen_at,
                "snippet": h.snippet_marked("", ""), "snippet_html": h.snippet_html(),
                "score": h.score,
            });
            writeln!(out, "{v}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if results.hits.is_empty() {
        writeln!(out, "no matches")?;
        return Ok(ExitCode::SUCCESS);
    }
    let (open, close) = if std::io::stdout().is_terminal() {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    for (i, h) in results.hits.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let date = h
            .published_at
            .or(h.first_seen_at)
            .map_or("-".to_string(), |t| t.format("%Y-%m-%d").to_string());
        writeln!(out, "{}  (article {})", h.title, h.article_id)?;
        writeln!(
            out,
            "  {date}  {}  {}",
            h.feeds.join(", "),
            h.url.as_deref().unwrap_or("-")
        )?;
        let snippet = h
            .snippet_marked(open, close)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !snippet.is_empty() {
            writeln!(out, "  {snippet}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
