//! Sameness at three levels: the **entry** (what one feed published once),
//! the **article** (one page, whatever feeds and URLs led to it) and the
//! **story** (the same news told by several articles).
//!
//! Everything here is pure: it maps values to keys and decisions. The store
//! applies them (`UNIQUE(feed_id, entry_key)` has the final word on entries).

pub mod entry;
pub mod story;
