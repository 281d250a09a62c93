//! What a fetch hands the store ([`FetchRecord`]) and what writing it did
//! ([`Applied`]).

use chrono::{DateTime, Utc};

use crate::model::{Entry, FeedId, FeedMeta, Validators};

/// How a fetch ended, as the fetch log and the feed status record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A document was fetched and parsed.
    Ok,
    /// 304, or an unchanged local file.
    NotModified,
    /// A failure that may pass by itself.
    Transient,
    /// A failure that needs someone to act.
    Permanent,
    /// 410 Gone: the feed is retired until its config entry changes.
    Gone,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotModified => "not_modified",
            Outcome::Transient => "transient",
            Outcome::Permanent => "permanent",
            Outcome::Gone => "gone",
        }
    }

    pub(super) fn is_success(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::NotModified)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything one fetch of one feed produced.
#[derive(Debug, Clone)]
pub struct FetchRecord {
    /// The feed.
    pub feed_id: FeedId,
    /// When the fetch began.
    pub started_at: DateTime<Utc>,
    /// The URL requested.
    pub url: String,
    /// Where redirects ended.
    pub final_url: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// HTTP status, when there was one.
    pub http_status: Option<u16>,
    /// Body size in bytes (decompressed).
    pub bytes: u64,
    /// Wall time of the fetch, parse included.
    pub duration_ms: u64,
    /// Validators to keep for the next conditional request (successes only).
    pub validators: Option<Validators>,
    /// Feed metadata from the document.
    pub meta: Option<FeedMeta>,
    /// Entries of the document, keyed.
    pub entries: Vec<Entry>,
    /// Keys of stored entries the document still holds unchanged, left out
    /// of `entries` before parsing (see `refresh::process_with`).
    pub kept: Vec<String>,
    /// What went wrong, in one line; on a successful fetch, a note on what
    /// was left out (entries beyond the cap).
    pub error: Option<String>,
    /// Whether this feed's entries may merge with other feeds' articles.
    pub dedup: bool,
    /// How new articles find their story; `None` keeps each article a
    /// story of its own (dedup off for the feed or globally).
    pub story: Option<StoryPolicy>,
    /// Where the fetch ended when every redirect on the way was permanent
    /// (301/308); `None` when there was no redirect or a temporary one.
    pub permanent_redirect: Option<String>,
    /// Whether the feed must not move to `permanent_redirect` on its own
    /// (it carries credentials bound to another origin, or the target
    /// carries a secret): the streak is counted, `moved_to` never set.
    pub move_held: bool,
    /// Fetches in a row that must end in the same permanent redirect
    /// before the feed's URL is moved (the refresh stage's policy:
    /// `refresh::REDIRECTS_TO_MOVE`).
    pub moves_after: u32,
    /// A server's `Retry-After`, as an absolute time.
    pub retry_after_until: Option<DateTime<Utc>>,
    /// The time to record as "now" (first-seen times).
    pub now: DateTime<Utc>,
    /// What the operator's rules decided about the document's entries.
    pub judged: super::Judged,
    /// The entries' texts, compressed where they were processed
    /// ([`PackedTexts::of`](super::PackedTexts::of)); empty, the writer
    /// compresses them.
    pub packed_texts: super::PackedTexts,
    /// Whether a hub pushed the document (WebSub) rather than a fetch
    /// getting it: logged as `push`, and the feed's fetch state (validators,
    /// status, redirects) is left as it was.
    pub pushed: bool,
}

/// How a new article looks for the story it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoryPolicy {
    /// Similarity from which two articles are one story.
    pub threshold: f64,
    /// How far back to look.
    pub window: std::time::Duration,
}

/// What storing a fetch changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Entries added.
    pub new: usize,
    /// Entries whose content changed and was updated in place.
    pub updated: usize,
    /// New entries that joined an article already stored (another feed or
    /// URL carried the same page).
    pub merged: usize,
    /// Entries skipped because retention removed them before.
    pub tombstoned: usize,
    /// Known entries seen under a new guid (see `dedup::entry`).
    pub guid_changes: usize,
    /// Set when this fetch confirmed a permanent move: the new URL.
    pub moved_to: Option<String>,
    /// New articles that joined an existing story.
    pub story_merges: usize,
    /// Entries newly recorded as dropped by a rule.
    pub dropped: usize,
}
