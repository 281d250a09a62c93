//! `tributary explain`: why an article is what it is.

use std::io::Write;
use std::process::ExitCode;

use super::open_store;
use crate::config::Config;

/// Prints the entries and story of article `id`.
pub(super) fn run(config: &Config, id: i64, json: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let Some(x) = store.explain(id)? else {
        eprintln!("error: no article {id}");
        return Ok(ExitCode::from(1));
    };
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&x)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "article {}: {}", x.article_id, x.title)?;
    writeln!(out, "  link:          {}", x.url.as_deref().unwrap_or("-"))?;
    writeln!(
        out,
        "  canonical:     {}",
        x.canonical_url.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "  content hash:  {}", x.content_hash)?;
    writeln!(out, "entries ({}):", x.entries.len())?;
    for e in &x.entries {
        let how = match e.matched_by.as_str() {
            "new" => "first seen here: created the article".to_string(),
            "canonical_url" => "joined: same canonical URL".to_string(),
            "content_hash" => "joined: identical title and text".to_string(),
            other => other.to_string(),
        };
        writeln!(
            out,
            "  {:<20} {}  ({how})",
            e.feed,
            e.url.as_deref().or(e.guid.as_deref()).unwrap_or("-")
        )?;
    }
    if x.story.len() <= 1 {
        writeln!(out, "story {}: this article alone", x.story_id)?;
    } else {
        writeln!(out, "story {} ({} articles):", x.story_id, x.story.len())?;
        for m in &x.story {
            let why = match (m.matched_article_id, m.score) {
                (Some(other), Some(score)) => format!("similar to {other} (similarity {score:.3})"),
                _ => "first of the story".to_string(),
            };
            let here = if m.article_id == x.article_id {
                "*"
            } else {
                " "
            };
            writeln!(
                out,
                " {here}{:>7}  {}  [{}]  {why}",
                m.article_id, m.title, m.feeds
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
