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

use std::fmt;
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
    let cpu = || {
        let (user, sys) = usage::cpu_seconds();
        user + sys
    };
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
