//! Tributary: a feed aggregator daemon. Many feeds go in (RSS 0.9x/1.0/2.0,
//! Atom, JSON Feed); one clean, deduplicated river comes out, stored in
//! SQLite for anyone to query.
//!
//! # Layout
//! The pure core takes values (and `now`) and returns values; a thin shell
//! does I/O around it.
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | plain types shared by every stage |
//! | [`config`] | TOML → validated [`config::Config`], errors with file:line:column |
//! | [`fetch`] | one HTTP or file request: conditional GET, redirects, caps, classification |
//! | [`parse`] | bytes → feed metadata and raw entries (feed-rs plus leniency) |
//! | [`clean`] | sanitized HTML, plain text, canonical URLs, dates |
//! | [`diagnosis`] | why a feed is not working, in words, and what to do (pure) |
//! | [`discover`] | a web page → the feeds it announces, and where else to look (pure) |
//! | [`extract`] | full text: an article page → its body (Readability or a CSS selector), cleaned; robots.txt for page fetches; the queue's worker |
//! | [`dedup`] | identity of entries, articles and stories |
//! | [`digest`] | digests: which articles, grouped and rendered (pure); email delivery |
//! | [`store`] | the SQLite schema and every SQL statement |
//! | [`private_files`] | files created readable by their owner (or a named group) only, whatever the umask |
//! | [`syndication`] | articles → Atom 1.0 / RSS 2.0 / JSON Feed 1.1 documents (pure) |
//! | [`output`] | the republished feeds: config + store → channels, index page, static files |
//! | [`metrics`] | live counters and the Prometheus text format |
//! | [`notify`] | `[[notify]]`: which targets want an article or a feed-health event, keys, backoff, rate limits, messages (pure); sending them |
//! | [`server`] | HTTP: the outputs with ETag/304 and gzip, the index page |
//! | [`opml`] | OPML 2.0 subscription lists: reading and rendering (pure) |
//! | [`schedule`] | crontab expressions, publisher hints, backoff: when a feed is next due (pure) |
//! | [`rules`] | the operator's drop / keep / tag / mark / rewrite rules, run on cleaned entries (pure) |
//! | [`refresh`] | one feed through fetch → parse → clean → rules → dedup → store |
//! | [`jobs`] | what the commands and the daemon share: feeds as the store knows them, planning next checks, digests, retention, the runtime |
//! | [`websub`] | WebSub: subscribing to the hubs feeds name, signatures; the outputs' hub (advertised, pinged, or served) |
//! | [`daemon`] | `tributary run`: the plan of due feeds, signals, sd_notify, shutdown |
//! | [`cli`] | the commands |
//! | `bench` | the benchmark command (feature `bench`): synthetic corpus, loopback server, phases |
//!
//! Conventions: a module with parts is `name.rs` beside a `name/` folder
//! of its parts; a module whose callers branch on its failures has one
//! error enum, named for it (`FetchError`, `ParseError`, `StoreError`,
//! `ConfigError`, …), and commands wrap errors in `anyhow` at the edge; unit tests sit in an inline `mod tests` at the end of the
//! file, or, when they would make the file hard to read whole, in
//! `name/tests.rs` (`#[cfg(test)] mod tests;`). Integration tests, which
//! run the real binary against real servers and files, are in
//! `tests/integration/`.
//!
//! # Glossary
//! - **feed**: a source named in the config.
//! - **entry**: what one feed published once; keyed by guid → link → hash.
//! - **article**: one page, however many feeds or URLs carried it.
//! - **story**: the same news told by several articles.
//! - **fetch**: one attempt to get a feed's document; every fetch is logged.
//! - **validators**: `ETag` / `Last-Modified`, kept for conditional requests.
//! - **output**: a combined feed Tributary republishes: the articles of a
//!   selection of feeds, filtered, one item per story, in Atom, RSS and
//!   JSON Feed. The output `all` carries every feed.
#![deny(missing_docs)]

pub mod allocator;
#[cfg(feature = "bench")]
pub mod bench;
pub mod clean;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dedup;
pub mod diagnosis;
pub mod digest;
pub mod discover;
pub mod extract;
pub mod fetch;
pub mod jobs;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod opml;
pub mod output;
pub mod parse;
pub mod private_files;
pub mod refresh;
pub mod rules;
pub mod schedule;
pub mod server;
pub mod store;
pub mod syndication;
pub mod websub;
