//! `[[notify]]`: where notifications go (a webhook, an ntfy topic, a
//! command), what each target selects (the rules' matchers, keywords,
//! story size, feed-health events) and how it is delivered (batching, rate
//! limit). Reading only; what happens with them is `crate::notify`, the
//! shape is in `docs/notifications.md`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::polling::{RawValue, Secret};
use super::rules::{conditions, RawIf};
use super::{count, duration, non_empty, ConfigError, FeedConfig, Locator};
use crate::rules::Conditions;

mod kind;

/// Default time a target waits after the first pending notification so
/// that others arriving meanwhile go in the same message.
pub const DEFAULT_BATCH_WINDOW: Duration = Duration::from_secs(10);
/// Default most items in one message.
pub const DEFAULT_MAX_BATCH: usize = 20;
/// Default limit on one delivery (request or command).
pub const DEFAULT_NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default ntfy server.
pub const DEFAULT_NTFY_SERVER: &str = "https://ntfy.sh";
/// Longest webhook template accepted, in bytes.
pub const MAX_TEMPLATE: usize = 16 * 1024;

/// One `[[notify]]` target.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Unique name; what the outbox and the commands call it.
    pub name: String,
    /// Where and how messages go.
    pub kind: NotifyKind,
    /// Which articles it announces.
    pub select: NotifySelect,
    /// Which feed-health events it announces.
    pub health: HealthEvents,
    /// Messages: batching and rate limit.
    pub delivery: Delivery,
}

/// Where a target's messages go.
#[derive(Debug, Clone)]
pub enum NotifyKind {
    /// An HTTP POST of a JSON Feed document (or of `template`).
    Webhook {
        /// Where to POST.
        url: Url,
        /// Extra request headers (values may come from env or a file).
        headers: Vec<(String, Secret)>,
        /// A body template instead of the JSON Feed document.
        template: Option<String>,
        /// The body's media type.
        content_type: String,
    },
    /// A message published to an ntfy topic.
    Ntfy {
        /// The topic's URL (`server/topic`).
        url: Url,
        /// Extra request headers (an access token, usually).
        headers: Vec<(String, Secret)>,
        /// ntfy priority, 1 to 5.
        priority: Option<u8>,
    },
    /// A program run with the JSON Feed document on its standard input.
    Command {
        /// Program and arguments (no shell).
        argv: Vec<String>,
    },
}

impl NotifyKind {
    /// The config word.
    pub fn as_str(&self) -> &'static str {
        match self {
            NotifyKind::Webhook { .. } => "webhook",
            NotifyKind::Ntfy { .. } => "ntfy",
            NotifyKind::Command { .. } => "command",
        }
    }
}

/// Which articles a target announces: all of the given conditions hold.
#[derive(Debug, Clone, Default)]
pub struct NotifySelect {
    /// Whether articles are announced at all (`articles = false` leaves
    /// only health events).
    pub articles: bool,
    /// From any of these feeds (empty with `tags`: any feed).
    pub feeds: Vec<String>,
    /// From a feed with any of these tags.
    pub tags: Vec<String>,
    /// The rules' matchers (`[notify.if]`).
    pub when: Arc<Conditions>,
    /// Any of these words in the title or text (case-insensitive, whole
    /// words), compiled.
    pub keywords: Option<regex::Regex>,
    /// Only articles a rule tagged with any of these.
    pub rule_tags: Vec<String>,
    /// Only articles a rule marked with any of these.
    pub marks: Vec<String>,
    /// Announce a story once it is carried by this many feeds (instead of
    /// each new article).
    pub min_story_feeds: Option<usize>,
}

impl NotifySelect {
    /// Whether the target's `feeds` / `tags` scope covers a feed with this
    /// name and these tags (no scope: every feed).
    pub fn covers(&self, feed: &str, tags: &[String]) -> bool {
        (self.feeds.is_empty() && self.tags.is_empty())
            || self.feeds.iter().any(|f| f == feed)
            || self.tags.iter().any(|t| tags.contains(t))
    }
}

/// Feed-health events a target announces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthEvents {
    /// A feed failing (no successful fetch) for longer than this.
    pub failing_for: Option<Duration>,
    /// A feed that moved (permanent redirect confirmed).
    pub moved: bool,
    /// A feed that is gone (410).
    pub gone: bool,
}

impl HealthEvents {
    /// Whether any event is asked for.
    pub fn any(&self) -> bool {
        self.failing_for.is_some() || self.moved || self.gone
    }
}

/// How a target's messages are paced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Wait after the first pending notification before sending.
    pub batch_window: Duration,
    /// Most items in one message.
    pub max_batch: usize,
    /// Most messages in any minute.
    pub max_per_minute: Option<u32>,
    /// Most messages in any hour.
    pub max_per_hour: Option<u32>,
    /// Limit on one request or command run.
    pub timeout: Duration,
    /// Wait after a first failure; it doubles with each failure in a row.
    pub backoff_base: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    name: Spanned<String>,
    kind: Spanned<String>,
    url: Option<Spanned<String>>,
    server: Option<Spanned<String>>,
    topic: Option<Spanned<String>>,
    command: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    headers: BTreeMap<String, Spanned<RawValue>>,
    token: Option<Spanned<RawValue>>,
    priority: Option<Spanned<i64>>,
    template: Option<Spanned<String>>,
    content_type: Option<Spanned<String>>,
    articles: Option<bool>,
    #[serde(default)]
    feeds: Vec<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(rename = "if")]
    when: Option<RawIf>,
    #[serde(default)]
    keywords: Vec<Spanned<String>>,
    #[serde(default)]
    rule_tags: Vec<Spanned<String>>,
    #[serde(default)]
    marks: Vec<Spanned<String>>,
    min_story_feeds: Option<Spanned<i64>>,
    health: Option<RawHealth>,
    batch_window: Option<Spanned<String>>,
    max_batch: Option<Spanned<i64>>,
    max_per_minute: Option<Spanned<i64>>,
    max_per_hour: Option<Spanned<i64>>,
    timeout: Option<Spanned<String>>,
    backoff_base: Option<Spanned<String>>,
    backoff_max: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    failing_for: Option<Spanned<String>>,
    moved: Option<bool>,
    gone: Option<bool>,
}

/// Validates every `[[notify]]` target.
pub(super) fn targets(
    at: &Locator<'_>,
    raw: Vec<RawNotify>,
    feeds: &[FeedConfig],
    rules: &[Arc<crate::rules::Rule>],
    base: &Path,
) -> Result<Vec<NotifyConfig>, ConfigError> {
    let mut out: Vec<NotifyConfig> = Vec::with_capacity(raw.len());
    for n in raw {
        let name = non_empty(at, &n.name, "notify name")?;
        if name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(at.error(
                n.name.span(),
                &format!("notify name `{name}`: 1 to 64 ASCII letters, digits, `-`, `_` or `.`"),
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(at.error(n.name.span(), &format!("duplicate notify name `{name}`")));
        }
        let kind = kind::kind(at, &n, base)?;
        let select = select(at, &n, feeds, rules)?;
        let health = match &n.health {
            None => HealthEvents::default(),
            Some(h) => HealthEvents {
                failing_for: h
                    .failing_for
                    .as_ref()
                    .map(|d| duration(at, d))
                    .transpose()?,
                moved: h.moved.unwrap_or(false),
                gone: h.gone.unwrap_or(false),
            },
        };
        if !select.articles && !health.any() {
            return Err(at.error(
                n.name.span(),
                &format!("notify `{name}` announces nothing: articles = false and no [notify.health] event"),
            ));
        }
        let per = |v: &Option<Spanned<i64>>| -> Result<Option<u32>, ConfigError> {
            v.as_ref()
                .map(|v| count(at, v, 1, 100_000).map(|n| n as u32))
                .transpose()
        };
        let delivery = Delivery {
            batch_window: match &n.batch_window {
                Some(w) if w.get_ref().trim() == "0s" => Duration::ZERO,
                Some(w) => duration(at, w)?,
                None => DEFAULT_BATCH_WINDOW,
            },
            max_batch: match &n.max_batch {
                Some(m) => count(at, m, 1, 1_000)?,
                None => DEFAULT_MAX_BATCH,
            },
            max_per_minute: per(&n.max_per_minute)?,
            max_per_hour: per(&n.max_per_hour)?,
            timeout: match &n.timeout {
                Some(t) => duration(at, t)?,
                None => DEFAULT_NOTIFY_TIMEOUT,
            },
            backoff_base: match &n.backoff_base {
                Some(t) => duration(at, t)?,
                None => crate::notify::FIRST_BACKOFF,
            },
            backoff_max: match &n.backoff_max {
                Some(t) => duration(at, t)?,
                None => crate::notify::MAX_BACKOFF,
            },
        };
        if delivery.backoff_max < delivery.backoff_base {
            let span = n.backoff_max.as_ref().map_or(0..0, Spanned::span);
            return Err(at.error(span, "backoff_max is shorter than backoff_base"));
        }
        out.push(NotifyConfig {
            name,
            kind,
            select,
            health,
            delivery,
        });
    }
    Ok(out)
}

fn select(
    at: &Locator<'_>,
    n: &RawNotify,
    feeds: &[FeedConfig],
    rules: &[Arc<crate::rules::Rule>],
) -> Result<NotifySelect, ConfigError> {
    let mut s = NotifySelect {
        articles: n.articles.unwrap_or(true),
        ..NotifySelect::default()
    };
    for f in &n.feeds {
        let feed = f.get_ref().trim();
        if !feeds.iter().any(|c| c.name == feed) {
            return Err(at.error(f.span(), &format!("no feed named `{feed}`")));
        }
        s.feeds.push(feed.to_string());
    }
    for t in &n.tags {
        let tag = t.get_ref().trim().to_lowercase();
        if !feeds.iter().any(|c| c.tags.contains(&tag)) {
            return Err(at.error(t.span(), &format!("no feed has the tag `{tag}`")));
        }
        s.tags.push(tag);
    }
    if let Some(w) = &n.when {
        s.when = Arc::new(conditions(at, w, &mut Vec::new())?);
    }
    if !n.keywords.is_empty() {
        let mut words = Vec::new();
        for k in &n.keywords {
            let w = k.get_ref().trim();
            if w.is_empty() || w.len() > 200 {
                return Err(at.error(k.span(), "a keyword is 1 to 200 bytes"));
            }
            words.push(regex::escape(w));
        }
        let pattern = format!(r"(?i)\b(?:{})\b", words.join("|"));
        let first = n.keywords[0].span();
        s.keywords = Some(super::rules::regex(&pattern).map_err(|e| at.error(first, &e))?);
    }
    s.rule_tags = super::rules::added(at, &n.rule_tags, rules, false)?;
    s.marks = super::rules::added(at, &n.marks, rules, true)?;
    s.min_story_feeds = n
        .min_story_feeds
        .as_ref()
        .map(|m| count(at, m, 2, 1_000))
        .transpose()?;
    Ok(s)
}
