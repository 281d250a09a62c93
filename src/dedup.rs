//! Sameness at three levels: the **entry** (what one feed published once),
//! the **article** (one page, whatever feeds and URLs led to it) and the
//! **story** (the same news told by several articles).
//!
//! One module per level: [`entry`] (the key that makes a re-fetch add no
//! row), [`article`] (the keys under which an entry joins a stored
//! article), [`story`] (near-duplicate fingerprints and the decision).
//!
//! Everything here is pure: it maps values to keys and decisions. The store
//! applies them (`UNIQUE(feed_id, entry_key)` has the final word on entries;
//! `store::articles` looks article keys up, `store::story` the band index).

pub mod article;
pub mod entry;
pub mod story;
