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
//! | [`dedup`] | identity of entries, articles and stories |
//! | [`store`] | the SQLite schema and every SQL statement |
//! | [`publish`] | articles → Atom 1.0 / RSS 2.0 / JSON Feed 1.1 documents (pure) |
//! | [`schedule`] | crontab expressions, publisher hints, backoff: when a feed is next due (pure) |
//! | [`refresh`] | one feed through fetch → parse → clean → dedup → store |
//! | [`cli`] | the commands |
//! | `bench` | the benchmark command (feature `bench`): synthetic corpus, loopback server, phases |
//!
//! # Glossary
//! - **feed**: a source named in the config.
//! - **entry**: what one feed published once; keyed by guid → link → hash.
//! - **article**: one page, however many feeds or URLs carried it.
//! - **story**: the same news told by several articles.
//! - **fetch**: one attempt to get a feed's document; every fetch is logged.
//! - **validators**: `ETag` / `Last-Modified`, kept for conditional requests.
#![deny(missing_docs)]

#[cfg(feature = "bench")]
pub mod bench;
pub mod clean;
pub mod cli;
pub mod config;
pub mod dedup;
pub mod fetch;
pub mod model;
pub mod parse;
pub mod publish;
pub mod refresh;
pub mod schedule;
pub mod store;
