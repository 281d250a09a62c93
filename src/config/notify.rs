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

use super::polling::{resolve, RawValue, Secret};
use super::rules::{conditions, RawIf};
use super::{count, duration, non_empty, ConfigError, FeedConfig, Locator};
use crate::rules::Conditions;

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
        let kind = kind(at, &n, base)?;
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

fn kind(at: &Locator<'_>, n: &RawNotify, base: &Path) -> Result<NotifyKind, ConfigError> {
    let word = n.kind.get_ref().trim();
    // Keys that belong to one kind only are refused on the others.
    let only = |key: &str, given: Option<std::ops::Range<usize>>, kinds: &[&str]| match given {
        Some(span) if !kinds.contains(&word) => Err(at.error(
            span,
            &format!("`{key}` is for kind = {}", kinds.join(" or ")),
        )),
        _ => Ok(()),
    };
    only("url", n.url.as_ref().map(Spanned::span), &["webhook"])?;
    only("server", n.server.as_ref().map(Spanned::span), &["ntfy"])?;
    only("topic", n.topic.as_ref().map(Spanned::span), &["ntfy"])?;
    only("token", n.token.as_ref().map(Spanned::span), &["ntfy"])?;
    only(
        "priority",
        n.priority.as_ref().map(Spanned::span),
        &["ntfy"],
    )?;
    only(
        "command",
        n.command.as_ref().map(Spanned::span),
        &["command"],
    )?;
    only(
        "template",
        n.template.as_ref().map(Spanned::span),
        &["webhook"],
    )?;
    let content_span = n.content_type.as_ref().map(Spanned::span);
    only("content_type", content_span, &["webhook"])?;
    let header_span = n.headers.values().next().map(Spanned::span);
    only("headers", header_span, &["webhook", "ntfy"])?;
    let missing = |key: &str| at.error(n.kind.span(), &format!("kind = \"{word}\" needs `{key}`"));
    match word {
        "webhook" => {
            let url = http_url(at, n.url.as_ref().ok_or_else(|| missing("url"))?)?;
            let template = n
                .template
                .as_ref()
                .map(|t| {
                    if t.get_ref().len() > MAX_TEMPLATE {
                        Err(at.error(
                            t.span(),
                            &format!("template longer than {MAX_TEMPLATE} bytes"),
                        ))
                    } else {
                        Ok(t.get_ref().clone())
                    }
                })
                .transpose()?;
            let content_type = match &n.content_type {
                Some(c) => {
                    let c = non_empty(at, c, "content_type")?;
                    if reqwest::header::HeaderValue::from_str(&c).is_err() {
                        let span = n.content_type.as_ref().map_or(0..0, Spanned::span);
                        return Err(at.error(span, "content_type is not a valid header value"));
                    }
                    c
                }
                None => "application/json".to_string(),
            };
            Ok(NotifyKind::Webhook {
                url,
                headers: headers(at, n, base)?,
                template,
                content_type,
            })
        }
        "ntfy" => {
            let topic = n.topic.as_ref().ok_or_else(|| missing("topic"))?;
            let t = topic.get_ref().trim();
            if t.is_empty()
                || t.len() > 64
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            {
                return Err(at.error(
                    topic.span(),
                    "an ntfy topic is 1 to 64 ASCII letters, digits, `-` or `_`",
                ));
            }
            let server = match &n.server {
                Some(s) => http_url(at, s)?,
                None => Url::parse(DEFAULT_NTFY_SERVER).expect("a valid URL"),
            };
            let mut url = server.clone();
            url.path_segments_mut()
                .map_err(|_| missing("an http(s) server"))?
                .pop_if_empty()
                .push(t);
            let mut headers = headers(at, n, base)?;
            if let Some(token) = &n.token {
                let secret = resolve(at, token, base, "token")?;
                header_value(at, token.span(), &format!("Bearer {}", secret.expose()))?;
                headers.push((
                    "Authorization".into(),
                    Secret(format!("Bearer {}", secret.expose())),
                ));
            }
            Ok(NotifyKind::Ntfy {
                url,
                headers,
                priority: n
                    .priority
                    .as_ref()
                    .map(|p| count(at, p, 1, 5).map(|p| p as u8))
                    .transpose()?,
            })
        }
        "command" => {
            let argv = n.command.as_ref().ok_or_else(|| missing("command"))?;
            if argv.get_ref().is_empty() || argv.get_ref()[0].trim().is_empty() {
                return Err(at.error(
                    argv.span(),
                    "command is a list: the program, then its arguments",
                ));
            }
            Ok(NotifyKind::Command {
                argv: argv.get_ref().clone(),
            })
        }
        other => Err(at.error(
            n.kind.span(),
            &format!("unknown notify kind `{other}`: use \"webhook\", \"ntfy\" or \"command\""),
        )),
    }
}

fn http_url(at: &Locator<'_>, v: &Spanned<String>) -> Result<Url, ConfigError> {
    let s = v.get_ref().trim();
    match Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(u),
        Ok(_) => Err(at.error(v.span(), &format!("`{s}` is not an http(s) URL"))),
        Err(e) => Err(at.error(v.span(), &format!("invalid URL `{s}`: {e}"))),
    }
}

fn header_value(
    at: &Locator<'_>,
    span: std::ops::Range<usize>,
    v: &str,
) -> Result<(), ConfigError> {
    reqwest::header::HeaderValue::from_str(v)
        .map(|_| ())
        .map_err(|_| at.error(span, "not a valid header value"))
}

fn headers(
    at: &Locator<'_>,
    n: &RawNotify,
    base: &Path,
) -> Result<Vec<(String, Secret)>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in &n.headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(at.error(
                value.span(),
                &format!("`{name}` is not a valid header name"),
            ));
        }
        let v = resolve(at, value, base, &format!("header `{name}`"))?;
        header_value(at, value.span(), v.expose())?;
        out.push((name.clone(), v));
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
