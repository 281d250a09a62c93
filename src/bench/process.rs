//! The document pipeline alone: [`refresh::process`] over every document
//! of the corpus, on one thread, with no fetching and no store, so its
//! cost per entry can be read apart from the ingest phases (where it is
//! mixed with HTTP, SQLite and story matching).
//!
//! Two passes over the same documents: [`parse::parse`] alone (feed-rs and
//! the decoding and leniency around it), then the whole of `process()`
//! (parse, sanitize, text, keys, story fingerprints). The difference is
//! what cleaning and fingerprinting cost. Each pass is timed with the
//! process's CPU clock and the wall clock; both are reported, and on a
//! quiet machine they agree.
//!
//! [`floor`] times the libraries the pipeline is built on, alone and at
//! their cheapest, over the same documents: `feed_rs::parser::parse`,
//! `ammonia::clean` (its default policy) on every entry's HTML, and SQLite
//! inserting every entry into a plain table and into an FTS5 index, each in
//! one transaction with one prepared statement. Their sum is a lower bound
//! on a cold ingest of the corpus that parses, sanitizes, stores and makes
//! searchable, whatever is built around them.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use chrono::Utc;
use url::Url;

use super::server::Served;
use super::usage;
use crate::model::IdentityMode;
use crate::{parse, refresh};

/// What the document pipeline cost over the corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ProcessCost {
    /// Documents processed.
    pub documents: usize,
    /// Entries that came out of them.
    pub entries: usize,
    /// Parsing alone: CPU seconds for all documents.
    pub parse_cpu_s: f64,
    /// The whole of `process()`: CPU seconds for all documents.
    pub process_cpu_s: f64,
    /// The whole of `process()`: wall seconds for all documents.
    pub process_wall_s: f64,
}

impl ProcessCost {
    /// Microseconds of CPU per entry for `process()`.
    pub fn us_per_entry(&self) -> f64 {
        self.process_cpu_s * 1e6 / self.entries.max(1) as f64
    }

    /// Microseconds of CPU per entry for parsing alone.
    pub fn parse_us_per_entry(&self) -> f64 {
        self.parse_cpu_s * 1e6 / self.entries.max(1) as f64
    }
}

impl fmt::Display for ProcessCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "process(): {} documents, {} entries, {:.2} s CPU ({:.2} s wall) = {:.1} µs/entry \
             (parse {:.1} µs, the rest {:.1} µs)",
            self.documents,
            self.entries,
            self.process_cpu_s,
            self.process_wall_s,
            self.us_per_entry(),
            self.parse_us_per_entry(),
            self.us_per_entry() - self.parse_us_per_entry(),
        )
    }
}

/// Runs the document pipeline over `docs` (as `render_all` returns them:
/// index, URL path, document), on this thread. Documents that fail to
/// parse count as processed, with no entries.
pub fn measure(docs: &[(usize, String, Served)]) -> ProcessCost {
    // Where each document would have come from, for relative links.
    let inputs: Vec<(&[u8], &'static str, Option<Url>)> = docs
        .iter()
        .map(|(_, path, d)| {
            let url = Url::parse("http://127.0.0.1/").and_then(|u| u.join(path));
            (&d.body[..], d.content_type, url.ok())
        })
        .collect();
    let now = Utc::now();

    let before = cpu();
    for (body, content_type, url) in &inputs {
        let parsed = parse::parse(body, Some(content_type), url.as_ref().map(Url::as_str));
        std::hint::black_box(parsed.ok());
    }
    let parse_cpu_s = cpu() - before;

    let mut entries = 0;
    let started = Instant::now();
    let before = cpu();
    for (body, content_type, url) in &inputs {
        let doc = refresh::process(
            body,
            Some(content_type),
            url.as_ref(),
            IdentityMode::Guid,
            now,
        );
        entries += doc.map_or(0, |d| std::hint::black_box(d).entries.len());
    }
    ProcessCost {
        documents: docs.len(),
        entries,
        parse_cpu_s,
        process_cpu_s: cpu() - before,
        process_wall_s: started.elapsed().as_secs_f64(),
    }
}

/// CPU seconds this process has used (user + system).
fn cpu() -> f64 {
    let (user, sys) = usage::cpu_seconds();
    user + sys
}

/// What the libraries cost alone over the corpus, on one thread (see the
/// module docs): the least a cold ingest of it can cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Floor {
    /// Entries `feed_rs` found in the documents.
    pub entries: usize,
    /// Bytes of entry HTML given to ammonia.
    pub html_bytes: usize,
    /// `feed_rs::parser::parse` of every document: CPU seconds.
    pub feed_rs_cpu_s: f64,
    /// `ammonia::clean` of every entry's HTML: CPU seconds.
    pub ammonia_cpu_s: f64,
    /// Every entry (title, link, sanitized HTML, text) into a plain table,
    /// one transaction: CPU seconds.
    pub insert_cpu_s: f64,
    /// Every entry's title and text into an FTS5 index, one transaction:
    /// CPU seconds.
    pub fts_cpu_s: f64,
}

impl Floor {
    /// The four together.
    pub fn total_cpu_s(&self) -> f64 {
        self.feed_rs_cpu_s + self.ammonia_cpu_s + self.insert_cpu_s + self.fts_cpu_s
    }
}

impl fmt::Display for Floor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "libraries alone: feed-rs {:.2} s, ammonia {:.2} s ({:.0} MB of HTML), \
             SQLite inserts {:.2} s, FTS5 {:.2} s; together {:.2} s CPU for {} entries \
             = {:.1} µs/entry",
            self.feed_rs_cpu_s,
            self.ammonia_cpu_s,
            self.html_bytes as f64 / 1e6,
            self.insert_cpu_s,
            self.fts_cpu_s,
            self.total_cpu_s(),
            self.entries,
            self.total_cpu_s() * 1e6 / self.entries.max(1) as f64,
        )
    }
}

/// Times the libraries alone over `docs` (see [`Floor`]), on this thread,
/// with a scratch database in `dir` (removed afterwards).
pub fn floor(docs: &[(usize, String, Served)], dir: &Path) -> anyhow::Result<Floor> {
    let before = cpu();
    for (_, _, d) in docs {
        std::hint::black_box(feed_rs::parser::parse(&d.body[..]).ok());
    }
    let feed_rs_cpu_s = cpu() - before;

    // What the entries carry, gathered outside the timed passes.
    let mut items: Vec<(String, String, String)> = Vec::new();
    for (_, _, d) in docs {
        let Ok(feed) = feed_rs::parser::parse(&d.body[..]) else {
            continue;
        };
        for e in feed.entries {
            let title = e.title.map(|t| t.content).unwrap_or_default();
            let link = e
                .links
                .into_iter()
                .next()
                .map(|l| l.href)
                .unwrap_or_default();
            let html = e
                .content
                .and_then(|c| c.body)
                .or_else(|| e.summary.map(|s| s.content))
                .unwrap_or_default();
            items.push((title, link, html));
        }
    }
    let html_bytes = items.iter().map(|(_, _, h)| h.len()).sum();

    let before = cpu();
    let clean: Vec<String> = items.iter().map(|(_, _, h)| ammonia::clean(h)).collect();
    let ammonia_cpu_s = cpu() - before;
    let texts: Vec<String> = clean
        .iter()
        .map(|h| crate::clean::html_to_text(h))
        .collect();

    let path = dir.join("floor.db");
    let _ = std::fs::remove_file(&path);
    let mut conn = rusqlite::Connection::open(&path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, title TEXT, url TEXT, html TEXT, text TEXT);
         CREATE VIRTUAL TABLE f USING fts5(title, text, tokenize = 'unicode61 remove_diacritics 2');",
    )?;
    let before = cpu();
    {
        let tx = conn.transaction()?;
        let mut st =
            tx.prepare("INSERT INTO t (title, url, html, text) VALUES (?1, ?2, ?3, ?4)")?;
        for ((title, url, _), (html, text)) in items.iter().zip(clean.iter().zip(&texts)) {
            st.execute((title, url, html, text))?;
        }
        drop(st);
        tx.commit()?;
    }
    let insert_cpu_s = cpu() - before;
    let before = cpu();
    {
        let tx = conn.transaction()?;
        let mut st = tx.prepare("INSERT INTO f (title, text) VALUES (?1, ?2)")?;
        for ((title, _, _), text) in items.iter().zip(&texts) {
            st.execute((title, text))?;
        }
        drop(st);
        tx.commit()?;
    }
    let fts_cpu_s = cpu() - before;
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("floor.db{suffix}")));
    }
    Ok(Floor {
        entries: items.len(),
        html_bytes,
        feed_rs_cpu_s,
        ammonia_cpu_s,
        insert_cpu_s,
        fts_cpu_s,
    })
}

#[cfg(test)]
mod tests {
    use super::super::corpus::{Corpus, Params};
    use super::*;

    #[test]
    fn both_measurements_see_every_entry_and_leave_no_scratch_file() {
        let corpus = Corpus::plan(Params::new(5, 12, 6));
        let docs = super::super::render_all(&corpus, None);
        let entries: usize = corpus.feeds.iter().map(|f| f.entries.len()).sum();
        let dir = tempfile::tempdir().unwrap();

        let cost = measure(&docs);
        assert_eq!((cost.documents, cost.entries), (docs.len(), entries));

        let floor = floor(&docs, dir.path()).unwrap();
        assert_eq!(floor.entries, entries);
        // Every entry of this corpus carries 1–5 KB of HTML.
        assert!(floor.html_bytes > entries * 1000, "{floor:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
