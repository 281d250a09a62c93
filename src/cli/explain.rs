//! `tributary explain`: why an article is what it is, or why an entry is
//! missing (a rule dropped it).

use std::io::Write;
use std::process::ExitCode;

use super::open_store;
use crate::config::Config;
use crate::store::{Explanation, Store};

/// Explains `what`: an article id, or the link, guid or key of entries
/// (stored: their articles; dropped by a rule: which rule, when).
pub(super) fn run(config: &Config, what: &str, json: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let by_id = match what.trim().parse::<i64>() {
        Ok(id) => store.explain(id)?,
        Err(_) => None,
    };
    if let Some(x) = by_id {
        if json {
            println!("{}", serde_json::to_string_pretty(&x)?);
            return Ok(ExitCode::SUCCESS);
        }
        article(&store, &x)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut articles = Vec::new();
    for id in store.articles_of_entry(what)? {
        articles.extend(store.explain(id)?);
    }
    let dropped = store.dropped_entries(what)?;
    if articles.is_empty() && dropped.is_empty() {
        eprintln!("error: no article, entry or dropped entry `{what}`");
        return Ok(ExitCode::from(1));
    }
    if json {
        let both = serde_json::json!({ "articles": articles, "dropped": dropped });
        println!("{}", serde_json::to_string_pretty(&both)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    for d in &dropped {
        writeln!(out, "dropped by a rule: {}", d.title)?;
        writeln!(out, "  feed:          {}", d.feed)?;
        writeln!(out, "  link:          {}", d.url.as_deref().unwrap_or("-"))?;
        writeln!(out, "  key:           {}", d.key)?;
        writeln!(out, "  rule:          {}", d.rule)?;
        writeln!(out, "  dropped at:    {}", d.dropped_at)?;
        writeln!(
            out,
            "  (not stored, and not judged again while the feed lists it; rule changes apply to new entries)"
        )?;
    }
    drop(out);
    for x in &articles {
        article(&store, x)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints one article's explanation.
fn article(store: &Store, x: &Explanation) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "article {}: {}", x.article_id, x.title)?;
    writeln!(out, "  link:          {}", x.url.as_deref().unwrap_or("-"))?;
    writeln!(
        out,
        "  canonical:     {}",
        x.canonical_url.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "  content hash:  {}", x.content_hash)?;
    for (kind, label, rule) in store.article_labels(x.article_id)? {
        writeln!(out, "  {kind}:{:<9} {label}  (rule {rule})", "")?;
    }
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
            let why = match (m.matched_article_id, m.score, &m.evidence) {
                (Some(other), _, Some(e)) => evidence(other, e),
                (Some(other), Some(score), None) => {
                    format!("similar to {other} (similarity {score:.3})")
                }
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
    Ok(())
}

/// One line on why an article joined a story: the rule, both scores and the
/// shared facts ("told in other words than 12: 0.15 text, 0.82 facts: 90
/// settlements, 1,250 square, Pokrovsk").
fn evidence(other: i64, e: &crate::store::Evidence) -> String {
    let how = match e.rule {
        "text" => "similar to",
        "facts" => "told in other words than",
        _ => "joined (the rules would not merge them today)",
    };
    let mut line = format!("{how} {other}: {:.2} text, {:.2} facts", e.text, e.facts);
    if !e.shared.is_empty() {
        const SHOWN: usize = 12;
        line.push_str(": ");
        line.push_str(
            &e.shared
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        );
        if e.shared.len() > SHOWN {
            line.push_str(&format!(" (+{} more)", e.shared.len() - SHOWN));
        }
    }
    line
}
