//! The store's size after the cold phase, against what it stores: the
//! corpus' entry content.
//!
//! **Entry content** is, over every entry of every document served in the
//! cold phase (cross-feed copies included, each time it is served), the
//! UTF-8 bytes of its title, its content HTML and its summary (where its
//! format carries one: RSS with `content:encoded`, Atom, JSON Feed), as
//! the document gives them once unescaped: the text a feed reader is
//! handed, without the XML or JSON around it, links, dates, authors or
//! categories. The store's size is the database file once its WAL is
//! checkpointed into it (what a clean stop leaves), every table and index
//! included.

use std::fmt;
use std::path::Path;

use super::corpus::{Corpus, SourceFormat};
use super::prose;

/// How big the store came out, and of what.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StoreSize {
    /// The database file, WAL checkpointed, in bytes.
    pub db_bytes: u64,
    /// The corpus' entry content (see the module docs), in bytes.
    pub entry_content_bytes: u64,
    /// Entries that content came from.
    pub entries: u64,
    /// Bytes per table or index (SQLite's `dbstat`), largest first.
    pub objects: Vec<(String, u64)>,
}

impl StoreSize {
    /// `db_bytes / entry_content_bytes`.
    pub fn ratio(&self) -> f64 {
        self.db_bytes as f64 / self.entry_content_bytes.max(1) as f64
    }

    /// Checkpoints the WAL of the store at `db` into it and measures it.
    pub fn measure(db: &Path, entry_content_bytes: u64, entries: u64) -> anyhow::Result<Self> {
        let conn = rusqlite::Connection::open(db)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let mut st =
            conn.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC, 1")?;
        let objects = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(st);
        drop(conn);
        Ok(StoreSize {
            db_bytes: std::fs::metadata(db)?.len(),
            entry_content_bytes,
            entries,
            objects,
        })
    }
}

/// The entry content of the corpus as it stands (see the module docs),
/// and the number of entries.
pub fn entry_content(corpus: &Corpus) -> (u64, u64) {
    let seed = corpus.params.seed;
    let (mut bytes, mut entries) = (0u64, 0u64);
    for feed in &corpus.feeds {
        let has_summary = match feed.format {
            SourceFormat::Rss => feed.traits.rss_encoded,
            SourceFormat::Atom | SourceFormat::Json => true,
        };
        for e in &feed.entries {
            let html = prose::html(seed, e.aid);
            let summary = if has_summary {
                prose::summary(&html).len()
            } else {
                0
            };
            bytes += (prose::title(seed, e.aid).len() + html.len() + summary) as u64;
            entries += 1;
        }
    }
    (bytes, entries)
}

impl fmt::Display for StoreSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mb = |b: u64| b as f64 / 1e6;
        writeln!(
            f,
            "store after cold: {:.1} MB for {:.1} MB of entry content ({} entries: titles, content HTML, summaries): {:.2} ×",
            mb(self.db_bytes),
            mb(self.entry_content_bytes),
            self.entries,
            self.ratio()
        )?;
        let top: Vec<String> = self
            .objects
            .iter()
            .take(8)
            .map(|(name, b)| format!("{name} {:.1}", mb(*b)))
            .collect();
        write!(f, "  largest (MB): {}", top.join(", "))
    }
}
