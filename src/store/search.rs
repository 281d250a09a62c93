//! Full-text search over articles (`articles_fts`, FTS5): best matches
//! first by BM25 (a title match weighs more than one in the text), each
//! with the passage that matched.
//!
//! People type queries, not FTS5 syntax: `C++`, `covid-19` or `http://x`
//! are FTS5 syntax errors. A query is first run as typed (so `bridge OR
//! ferry`, `"exact phrase"`, `title:bridge` and `harb*` work); when FTS5
//! refuses it, every word is quoted and the query runs again as plain
//! words that must all occur. [`SearchResults::retried_as`] says when that
//! happened.
//!
//! Every search is bounded by [`SearchLimits`]: its shape is checked before
//! it runs, and SQLite is interrupted when it runs past the time limit (the
//! retry included).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::search_limits::{QueryRefused, SearchLimits};
use super::{parse_ts, Store};

/// Marks the start of a matched term inside [`SearchHit::snippet`]. A
/// control character, so it can never be part of stored text (cleaning
/// removes those), and callers choose how to show it.
pub const MATCH_START: char = '\u{2}';
/// Marks the end of a matched term inside [`SearchHit::snippet`].
pub const MATCH_END: char = '\u{3}';

/// One matching article.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    /// Article id.
    pub article_id: i64,
    /// Title.
    pub title: String,
    /// The article's link without tracking parameters (`canonical_url`),
    /// as the outputs and digests give it; else the link as first seen.
    pub url: Option<String>,
    /// Names of the feeds that carried it.
    pub feeds: Vec<String>,
    /// Publication time.
    pub published_at: Option<DateTime<Utc>>,
    /// When Tributary first saw it.
    pub first_seen_at: Option<DateTime<Utc>>,
    /// The best-matching passage (of the text, else the title), with
    /// matched terms between [`MATCH_START`] and [`MATCH_END`].
    pub snippet: String,
    /// BM25 score: lower is a better match (SQLite's convention).
    pub score: f64,
}

impl SearchHit {
    /// The snippet with matched terms between `open` and `close`.
    pub fn snippet_marked(&self, open: &str, close: &str) -> String {
        self.snippet
            .replace(MATCH_START, open)
            .replace(MATCH_END, close)
    }

    /// The snippet as HTML text, matched terms in `<mark>`.
    pub fn snippet_html(&self) -> String {
        let escaped = html_escape::encode_text(&self.snippet);
        escaped
            .replace(MATCH_START, "<mark>")
            .replace(MATCH_END, "</mark>")
    }
}

/// Why a search gave no results.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query is over the limits of its shape; it did not run.
    #[error("{0}")]
    Refused(#[from] QueryRefused),
    /// It ran past the time limit and SQLite was interrupted.
    #[error("the search took longer than {} s and was stopped; search for fewer or longer words", .0.as_secs_f32())]
    TimedOut(Duration),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

/// What a search found, and how the query was read.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Best match first.
    pub hits: Vec<SearchHit>,
    /// `Some(query)` when FTS5 refused the query as typed and it was run as
    /// this (every word quoted) instead.
    pub retried_as: Option<String>,
}

const SEARCH_SQL: &str = "
    SELECT a.id, a.title, coalesce(a.canonical_url, a.url), a.published_at, a.first_seen_at,
           (SELECT group_concat(name, char(10)) FROM (
                SELECT DISTINCT f.name FROM entries e JOIN feeds f ON f.id = e.feed_id
                WHERE e.article_id = a.id ORDER BY f.name)),
           snippet(articles_fts, -1, char(2), char(3), '…', 16),
           bm25(articles_fts, 4.0, 1.0, 1.0) AS score
    FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
    WHERE articles_fts MATCH ?1
    ORDER BY score, a.first_seen_at DESC
    LIMIT ?2";

impl Store {
    /// The `limit` articles that best match `query` (see the module docs
    /// for how queries are read), within `limits`. A blank query finds
    /// nothing.
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        limits: &SearchLimits,
    ) -> Result<SearchResults, SearchError> {
        limits.check(query)?;
        if query.trim().is_empty() || limit == 0 {
            return Ok(SearchResults {
                hits: Vec::new(),
                retried_as: None,
            });
        }
        // A watch thread interrupts SQLite at the time limit unless told
        // the search is over (rusqlite 0.38+ sets a progress handler only
        // through `&mut Connection`; the interrupt handle needs `&`).
        let interrupt = self.conn.get_interrupt_handle();
        let (over, wait) = std::sync::mpsc::channel::<()>();
        let time_limit = limits.time_limit;
        let watch = std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(time_limit) {
                interrupt.interrupt();
            }
        });
        let found = self.search_as_typed_then_quoted(query, limit);
        drop(over);
        let _ = watch.join();
        found.map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                SearchError::TimedOut(limits.time_limit)
            }
            e => SearchError::Store(e.into()),
        })
    }

    fn search_as_typed_then_quoted(
        &self,
        query: &str,
        limit: usize,
    ) -> rusqlite::Result<SearchResults> {
        match self.run_search(query, limit) {
            Ok(hits) => Ok(SearchResults {
                hits,
                retried_as: None,
            }),
            Err(e) if is_query_error(&e) => {
                let quoted = quote_words(query);
                let hits = self.run_search(&quoted, limit)?;
                Ok(SearchResults {
                    hits,
                    retried_as: Some(quoted),
                })
            }
            Err(e) => Err(e),
        }
    }

    fn run_search(&self, query: &str, limit: usize) -> rusqlite::Result<Vec<SearchHit>> {
        let mut st = self.conn.prepare_cached(SEARCH_SQL)?;
        let rows = st.query_map(params![query, limit as i64], |r| {
            let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
                Ok(r.get::<_, Option<String>>(i)?.as_deref().and_then(parse_ts))
            };
            Ok(SearchHit {
                article_id: r.get(0)?,
                title: r.get(1)?,
                url: r.get(2)?,
                published_at: time(3)?,
                first_seen_at: time(4)?,
                feeds: r
                    .get::<_, Option<String>>(5)?
                    .map(|s| s.split('\n').map(str::to_string).collect())
                    .unwrap_or_default(),
                snippet: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                score: r.get(7)?,
            })
        })?;
        rows.collect()
    }
}

/// Whether SQLite refused the MATCH expression itself (as opposed to the
/// database failing).
fn is_query_error(e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => {
            msg.starts_with("fts5:")
                || msg.contains("no such column")
                || msg.contains("unterminated string")
                || msg.contains("unknown special query")
        }
        _ => false,
    }
}

/// Every whitespace-separated word as an FTS5 string (`"` doubled), so
/// nothing in it is syntax; the words must all occur.
fn quote_words(query: &str) -> String {
    query
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(articles: &[(&str, &str)]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.db")).unwrap();
        s.conn
            .execute(
                "INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'wire', 'https://w.example/f', '2026-01-01T00:00:00Z')",
                [],
            )
            .unwrap();
        for (i, (title, text)) in articles.iter().enumerate() {
            let id = i as i64 + 1;
            s.conn
                .execute(
                    "INSERT INTO articles (id, title, content_text, content_hash, published_at, first_seen_at, url)
                     VALUES (?1, ?2, ?3, ?1, '2026-11-20T10:00:00Z', '2026-11-20T10:00:00Z', 'https://w.example/' || ?1)",
                    params![id, title, text],
                )
                .unwrap();
            s.conn
                .execute(
                    "INSERT INTO entries (feed_id, entry_key, key_kind, article_id, match_reason, title, content_hash, published_at, first_seen_at)
                     VALUES (1, 'k' || ?1, 'guid', ?1, 'new', ?2, ?1, '2026-11-20T10:00:00Z', '2026-11-20T10:00:00Z')",
                    params![id, title],
                )
                .unwrap();
        }
        // Articles written by hand enter the search index by hand.
        s.conn
            .execute_batch("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
            .unwrap();
        (dir, s)
    }

    #[test]
    fn best_match_first_with_marked_snippets() {
        let (_d, s) = store_with(&[
            (
                "Ferry timetable",
                "The harbour ferry runs hourly. A bridge is planned.",
            ),
            (
                "Harbour bridge reopens",
                "The bridge reopened after repairs to the bridge deck.",
            ),
            ("Weather", "Sunny."),
        ]);
        let r = s.search("bridge", 10, &SearchLimits::COMMAND_LINE).unwrap();
        assert_eq!(r.retried_as, None);
        let ids: Vec<i64> = r.hits.iter().map(|h| h.article_id).collect();
        assert_eq!(ids, [2, 1]);
        let hit = &r.hits[0];
        assert_eq!(hit.feeds, ["wire"]);
        assert!(
            hit.snippet_marked("[", "]").contains("[bridge]"),
            "{}",
            hit.snippet
        );
        assert!(hit.snippet_html().contains("<mark>bridge</mark>"));
        // The link without tracking parameters when the store has one.
        assert_eq!(hit.url.as_deref(), Some("https://w.example/2"));
        s.conn
            .execute(
                "UPDATE articles SET url = url || '?utm_source=rss', canonical_url = url WHERE id = 2",
                [],
            )
            .unwrap();
        let hit = &s
            .search("bridge", 1, &SearchLimits::COMMAND_LINE)
            .unwrap()
            .hits[0];
        assert_eq!(hit.url.as_deref(), Some("https://w.example/2"));
        assert_eq!(
            s.search("bridge", 1, &SearchLimits::COMMAND_LINE)
                .unwrap()
                .hits
                .len(),
            1
        );
        assert_eq!(
            s.search("bridge OR sunny", 10, &SearchLimits::COMMAND_LINE)
                .unwrap()
                .hits
                .len(),
            3
        );
        assert!(s
            .search("  ", 10, &SearchLimits::COMMAND_LINE)
            .unwrap()
            .hits
            .is_empty());
    }

    #[test]
    fn fts_syntax_in_user_input_is_retried_as_words() {
        let (_d, s) = store_with(&[
            (
                "C++ release notes",
                "What is new in C++ and covid-19 \"quotes\" data.",
            ),
            ("Other", "nothing here"),
        ]);
        for q in [
            "C++",
            "covid-19",
            "\"quotes",
            "AND",
            "title:",
            "http://x.example/ c",
            "NEAR(",
            "*",
        ] {
            let r = s.search(q, 10, &SearchLimits::COMMAND_LINE);
            assert!(r.is_ok(), "{q}: {r:?}");
        }
        let r = s
            .search("covid-19", 10, &SearchLimits::COMMAND_LINE)
            .unwrap();
        assert_eq!(r.retried_as.as_deref(), Some("\"covid-19\""));
        assert_eq!(r.hits.len(), 1);
        let r = s
            .search("c++ release", 10, &SearchLimits::COMMAND_LINE)
            .unwrap();
        assert_eq!(r.hits.len(), 1);
        assert!(r.retried_as.is_some());
    }

    /// `n` articles of made-up words: a vocabulary of thousands of words
    /// over every initial letter, so that one-letter prefixes read much of
    /// the index.
    fn store_of_made_up_words(n: usize) -> (tempfile::TempDir, Store) {
        let syllables = [
            "ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "do", "pe", "ar", "ol", "in", "es",
            "um", "bra", "cli", "fro", "gre", "pla", "sto", "tri", "zen", "qu", "ex", "yo", "ju",
            "he", "fi", "wa",
        ];
        let mut seed = 7u64;
        let mut next = move |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % m
        };
        let mut word = || {
            (0..2 + next(3))
                .map(|_| syllables[next(syllables.len())])
                .collect::<String>()
        };
        let texts: Vec<(String, String)> = (0..n)
            .map(|_| {
                let title = (0..6).map(|_| word()).collect::<Vec<_>>().join(" ");
                let text = (0..100).map(|_| word()).collect::<Vec<_>>().join(" ");
                (title, text)
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = texts
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        store_with(&borrowed)
    }

    #[test]
    fn refused_shapes_do_not_run_and_slow_searches_are_interrupted() {
        let (_d, s) = store_of_made_up_words(1_500);
        let refused = s.search("a* OR b* OR c* OR d* OR e*", 50, &SearchLimits::SERVER);
        assert!(
            matches!(
                refused,
                Err(SearchError::Refused(QueryRefused::TooManyPrefixes { .. }))
            ),
            "{refused:?}"
        );
        // Twenty-six one-letter prefixes: the whole index, every word a
        // phrase to score.
        let letters: Vec<String> = ('a'..='z').map(|c| format!("{c}*")).collect();
        let expensive = letters.join(" OR ");
        let started = std::time::Instant::now();
        let full = s
            .search(&expensive, 50, &SearchLimits::COMMAND_LINE)
            .unwrap();
        let full_time = started.elapsed();
        assert_eq!(full.hits.len(), 50);
        let tight = SearchLimits {
            time_limit: full_time / 10,
            ..SearchLimits::COMMAND_LINE
        };
        let started = std::time::Instant::now();
        let stopped = s.search(&expensive, 50, &tight);
        let stopped_time = started.elapsed();
        eprintln!("whole search {full_time:?}, interrupted after {stopped_time:?}");
        assert!(
            matches!(stopped, Err(SearchError::TimedOut(_))),
            "{stopped:?}"
        );
        assert!(
            stopped_time < full_time / 2,
            "interrupted after {stopped_time:?}; the whole search takes {full_time:?}"
        );
        // The connection is usable afterwards, without the deadline.
        assert_eq!(
            s.search("bra*", 5, &SearchLimits::SERVER)
                .unwrap()
                .hits
                .len(),
            5
        );
    }
}
