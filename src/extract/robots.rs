//! robots.txt for article pages (RFC 9309), consulted before a page is
//! fetched for full text; feed fetches never consult it (a feed is
//! published to be polled).
//!
//! The file is parsed with [`texting_robots`] for the product token
//! [`AGENT`] (`User-agent: tributary`, else the `*` group), once per
//! origin: the rules become prefix, star or small regex matchers, so a
//! page's check is linear in its path. It was chosen over `robotstxt` (a
//! port of Google's parser) because that crate parses the whole file again
//! for every check and its pattern matcher does quadratic work on long
//! paths; `texting_robots` also reads `Crawl-delay` and has been run over
//! millions of real files without a panic.
//!
//! What a response means, as Google treats it:
//! - 2xx: the rules (the first [`MAX_ROBOTS_BYTES`] of a larger file);
//! - 4xx (but 429), or a redirect chain that ends nowhere: no rules, every
//!   page may be fetched;
//! - 5xx, 429, a timeout or no connection: nothing may be fetched for now;
//!   the page is retried later like any transient failure, and the file is
//!   asked for again after [`UNREACHABLE_TTL`].
//!
//! Each origin's answer is kept for the cache's TTL (default
//! [`DEFAULT_TTL`]) in a cache of at most [`MAX_ORIGINS`] origins (the
//! least recently used goes first). Pages of one origin wait for one
//! fetch of its file rather than each asking. `Crawl-delay` is honoured up
//! to [`MAX_CRAWL_DELAY`], as a gap between requests to the host (the
//! larger of it and `[fetch] host_gap`).
//!
//! A page's redirects are followed only where the target's own
//! robots.txt allows it ([`RobotsGate`], asked by the fetcher before each
//! hop is requested).
//!
//! The cache's clock is the caller's `now`, so tests move time without
//! sleeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use texting_robots::Robot;
use url::Url;

use crate::config::FeedHttp;
use crate::fetch::{ErrorClass, FetchError, Fetched, Fetcher, HopGate, Request};
use crate::model::Validators;
use futures_util::future::BoxFuture;

/// The product token Tributary obeys in robots.txt.
pub const AGENT: &str = "tributary";

/// Largest part of a robots.txt read (RFC 9309: at least 500 KiB).
pub const MAX_ROBOTS_BYTES: u64 = 500 * 1024;

/// How long an origin's answer is kept by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

/// How long an unreachable robots.txt blocks its origin before it is
/// asked for again (shorter than the first retry of a page).
pub const UNREACHABLE_TTL: Duration = Duration::from_secs(5 * 60);

/// Most origins kept in the cache.
pub const MAX_ORIGINS: usize = 1_000;

/// Longest `Crawl-delay` honoured: a longer one would hold the
/// extraction worker (and the host's feed fetches) for as long.
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);

/// Most `Disallow` patterns kept per origin for naming the rule that
/// refused a page.
const MAX_NAMED_RULES: usize = 256;

/// What one origin's robots.txt says for Tributary.
#[derive(Debug)]
pub enum Policy {
    /// No rules (4xx, or nothing usable): every page may be fetched.
    AllowAll,
    /// The file's rules for [`AGENT`].
    Rules {
        /// The parsed rules (for [`AGENT`] or `*`).
        robot: Robot,
        /// The `Disallow` patterns of the groups that apply, longest
        /// first: to name the rule that refused a page.
        disallows: Vec<String>,
    },
    /// The file could not be had (5xx, 429, timeout, connection): nothing
    /// may be fetched for now. Says why.
    Unreachable(String),
}

/// Whether a page may be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Yes; wait at least this long between requests to the host.
    Allowed(Duration),
    /// No: the rule that refused it (`Disallow: /path`), when it can be
    /// named.
    Disallowed(Option<String>),
    /// Not now: robots.txt could not be had (why).
    Unreachable(String),
}

impl Policy {
    /// The rules in a robots.txt body.
    pub fn parse(body: &[u8]) -> Policy {
        match Robot::new(AGENT, body) {
            Ok(robot) => Policy::Rules {
                robot,
                disallows: disallow_patterns(&String::from_utf8_lossy(body)),
            },
            // The parser gives up on almost nothing; what it cannot read
            // carries no rule.
            Err(_) => Policy::AllowAll,
        }
    }

    /// What a fetch of robots.txt means.
    pub fn from_fetch(result: Result<Fetched, FetchError>) -> Policy {
        match result {
            Ok(Fetched::Body { body, .. }) => Policy::parse(&body),
            Ok(Fetched::NotModified { .. }) => Policy::AllowAll,
            Err(e @ FetchError::Status { status: 429, .. }) => Policy::Unreachable(e.to_string()),
            Err(FetchError::Status { status, .. }) if (400..500).contains(&status) => {
                Policy::AllowAll
            }
            Err(e) if e.class() == ErrorClass::Transient => Policy::Unreachable(e.to_string()),
            // Too many redirects, a refused address, an unsupported URL:
            // no file to obey (a refused page address is refused again
            // when the page itself is fetched).
            Err(_) => Policy::AllowAll,
        }
    }

    /// Whether `url` may be fetched.
    pub fn verdict(&self, url: &Url) -> Verdict {
        match self {
            Policy::AllowAll => Verdict::Allowed(Duration::ZERO),
            Policy::Unreachable(why) => Verdict::Unreachable(why.clone()),
            Policy::Rules { robot, disallows } => {
                if robot.allowed(url.as_str()) {
                    Verdict::Allowed(self.crawl_delay())
                } else {
                    Verdict::Disallowed(name_rule(disallows, url))
                }
            }
        }
    }

    /// The `Crawl-delay` for [`AGENT`], at most [`MAX_CRAWL_DELAY`].
    pub fn crawl_delay(&self) -> Duration {
        match self {
            Policy::Rules { robot, .. } => robot
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f32(d.min(MAX_CRAWL_DELAY.as_secs_f32())))
                .unwrap_or(Duration::ZERO),
            _ => Duration::ZERO,
        }
    }

    /// How long this answer is kept, given the cache's TTL.
    fn ttl(&self, ttl: Duration) -> Duration {
        match self {
            Policy::Unreachable(_) => ttl.min(UNREACHABLE_TTL),
            _ => ttl,
        }
    }
}

/// The `Disallow` patterns of the groups that apply to [`AGENT`] (the
/// groups naming it, else those of `*`, else every rule when the file has
/// no `User-agent` line), longest first, at most [`MAX_NAMED_RULES`]. Used
/// only to name the rule behind a verdict the parser already gave.
fn disallow_patterns(body: &str) -> Vec<String> {
    // (agents of the group, its disallow patterns)
    let mut groups: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    let mut in_agents = false;
    for line in body.lines() {
        let line = line.split('#').next().unwrap_or("");
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        match key.as_str() {
            "user-agent" => {
                if !in_agents {
                    groups.push((Vec::new(), Vec::new()));
                    in_agents = true;
                }
                if let Some(g) = groups.last_mut() {
                    g.0.push(value.to_ascii_lowercase());
                }
            }
            "disallow" | "allow" => {
                in_agents = false;
                if groups.is_empty() {
                    groups.push((Vec::new(), Vec::new()));
                }
                if key == "disallow" && !value.is_empty() {
                    if let Some(g) = groups.last_mut() {
                        g.1.push(value.to_string());
                    }
                }
            }
            _ => in_agents = false,
        }
    }
    let named = |a: &str| {
        groups
            .iter()
            .any(|(agents, _)| agents.iter().any(|x| x == a))
    };
    let wanted = if named(AGENT) {
        Some(AGENT)
    } else if named("*") {
        Some("*")
    } else {
        None
    };
    let mut out: Vec<String> = groups
        .into_iter()
        .filter(|(agents, _)| wanted.is_none_or(|w| agents.iter().any(|a| a == w)))
        .flat_map(|(_, d)| d)
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out.truncate(MAX_NAMED_RULES);
    out
}

/// The longest of `disallows` that refuses `url` on its own, as
/// `Disallow: pattern`.
fn name_rule(disallows: &[String], url: &Url) -> Option<String> {
    disallows.iter().find_map(|pattern| {
        let one = format!("User-agent: *\nDisallow: {pattern}\n");
        let robot = Robot::new(AGENT, one.as_bytes()).ok()?;
        (!robot.allowed(url.as_str())).then(|| format!("Disallow: {pattern}"))
    })
}

/// `scheme://host:port` of a page: the scope of a robots.txt.
pub fn origin(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or("").to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// One origin's answer and until when it holds.
struct Cached {
    policy: Arc<Policy>,
    fetched_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl Cached {
    /// Still good at `now` (a clock set back makes it stale).
    fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.fetched_at <= now && now < self.expires_at
    }
}

/// An origin's place in the cache: its answer, behind an async lock so
/// that pages of one origin wait for one fetch of the file.
struct Slot {
    cached: tokio::sync::Mutex<Option<Cached>>,
}

/// Origins' answers, bounded in entries (see the module docs). Shared by
/// the passes of the extraction worker.
pub struct RobotsCache {
    ttl: Duration,
    max: usize,
    /// By origin: the slot and when it was last used (a tick).
    origins: Mutex<HashMap<String, (Arc<Slot>, u64)>>,
    tick: std::sync::atomic::AtomicU64,
}

impl Default for RobotsCache {
    fn default() -> Self {
        RobotsCache::new(DEFAULT_TTL, MAX_ORIGINS)
    }
}

impl std::fmt::Debug for RobotsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobotsCache")
            .field("ttl", &self.ttl)
            .field("max", &self.max)
            .field("origins", &self.len())
            .finish()
    }
}

/// Where a robots.txt may be fetched from and how (the page's request).
#[derive(Debug, Clone, Copy)]
pub struct Asking<'a> {
    /// The page's feed's configured URL: bounds where the request may go.
    pub configured: &'a Url,
    /// The feed is `internal = true`.
    pub internal: bool,
    /// Limit on the exchange.
    pub timeout: Duration,
    /// `User-Agent` override (the feed's).
    pub user_agent: Option<&'a str>,
}

/// A redirect's target is followed only when its site's robots.txt allows
/// it (through `cache`, so each origin's file is fetched once): a page may
/// not reach a refused one by a redirect.
pub struct RobotsGate<'a> {
    /// The answers per origin.
    pub cache: &'a RobotsCache,
    /// Fetches robots.txt files not in the cache.
    pub fetcher: &'a Fetcher,
    /// Who asks, with which limits.
    pub asking: Asking<'a>,
    /// The cache's clock.
    pub now: DateTime<Utc>,
}

impl std::fmt::Debug for RobotsGate<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RobotsGate")
    }
}

impl HopGate for RobotsGate<'_> {
    fn allow<'a>(&'a self, to: &'a Url) -> BoxFuture<'a, Result<(), (ErrorClass, String)>> {
        Box::pin(async move {
            match self
                .cache
                .check(self.fetcher, to, &self.asking, self.now)
                .await
            {
                Verdict::Allowed(_) => Ok(()),
                Verdict::Disallowed(rule) => Err((
                    ErrorClass::Permanent,
                    format!(
                        "refused by robots.txt{}",
                        rule.map(|r| format!(" ({r})")).unwrap_or_default()
                    ),
                )),
                Verdict::Unreachable(why) => Err((
                    ErrorClass::Transient,
                    format!("robots.txt unreachable, retried later: {why}"),
                )),
            }
        })
    }
}

impl RobotsCache {
    /// A cache keeping answers for `ttl`, of at most `max` origins.
    pub fn new(ttl: Duration, max: usize) -> RobotsCache {
        RobotsCache {
            ttl,
            max: max.max(1),
            origins: Mutex::new(HashMap::new()),
            tick: Default::default(),
        }
    }

    /// Origins held.
    pub fn len(&self) -> usize {
        self.origins.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no origin is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot of `origin`, made (and the least recently used others
    /// dropped beyond the bound) when missing.
    fn slot(&self, origin: &str) -> Arc<Slot> {
        let tick = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A std mutex: never held across an await.
        let mut map = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((slot, used)) = map.get_mut(origin) {
            *used = tick;
            return Arc::clone(slot);
        }
        while map.len() >= self.max {
            let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            map.remove(&oldest);
        }
        let slot = Arc::new(Slot {
            cached: tokio::sync::Mutex::new(None),
        });
        map.insert(origin.to_string(), (Arc::clone(&slot), tick));
        slot
    }

    /// Whether `page` may be fetched at `now`: the origin's answer from
    /// the cache, or its robots.txt fetched through `fetcher` with the
    /// page's address rules, timeout and user agent.
    pub async fn check(
        &self,
        fetcher: &Fetcher,
        page: &Url,
        asking: &Asking<'_>,
        now: DateTime<Utc>,
    ) -> Verdict {
        let slot = self.slot(&origin(page));
        let mut cached = slot.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.fresh(now)) {
            return c.policy.verdict(page);
        }
        let policy = Arc::new(fetch_policy(fetcher, page, asking).await);
        let ttl = chrono::Duration::from_std(policy.ttl(self.ttl)).unwrap_or_default();
        *cached = Some(Cached {
            policy: Arc::clone(&policy),
            fetched_at: now,
            expires_at: now + ttl,
        });
        policy.verdict(page)
    }
}

/// Fetches and reads the robots.txt of `page`'s origin.
async fn fetch_policy(fetcher: &Fetcher, page: &Url, asking: &Asking<'_>) -> Policy {
    let Ok(url) = page.join("/robots.txt") else {
        return Policy::AllowAll;
    };
    let validators = Validators::default();
    // Only where the request may go comes from the feed; never credentials.
    let http = FeedHttp {
        internal: asking.internal,
        ..FeedHttp::default()
    };
    let req = Request {
        url: &url,
        configured: asking.configured,
        validators: &validators,
        timeout: asking.timeout,
        max_body: MAX_ROBOTS_BYTES,
        user_agent: asking.user_agent,
        http: &http,
        min_gap: Duration::ZERO,
        truncate: true,
        hops: None,
    };
    Policy::from_fetch(fetcher.fetch(&req).await)
}

#[cfg(test)]
mod tests;
