//! Deduplication: deciding when two items are the same entry, article or story.
//!
//! Pure functions over values; the store keeps what they compute.

pub mod story;
