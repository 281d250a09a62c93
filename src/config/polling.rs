//! The polling parts of the configuration: `[schedule]` (cron schedules,
//! time zone, backoff, adaptive mode), host groups under `[fetch]`, and the
//! per-feed HTTP options (credentials, headers, proxy) with their secrets.
//!
//! Secrets are read from an environment variable or a file when the config
//! is loaded, so a missing secret is a config error with a location, not a
//! failure at 3 a.m. They are held in [`Secret`], whose `Debug` and
//! `Display` never show the value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{duration, ConfigError, Locator};
use crate::schedule::{CronSchedule, Policy};

/// Default schedule: every 30 minutes.
pub const DEFAULT_SCHEDULE: &str = "*/30 * * * *";
/// Default window over which feeds overdue at start are spread.
pub const DEFAULT_STARTUP_SPREAD: Duration = Duration::from_secs(60);
/// Default time in-flight fetches get to finish on shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Default minimum gap between two requests to one host.
pub const DEFAULT_HOST_GAP: Duration = Duration::from_millis(250);

/// `[schedule]`, validated.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// Used by feeds with no own or tag schedule.
    pub default: CronSchedule,
    /// Schedules by tag; a feed takes the first of its tags that has one.
    pub tags: BTreeMap<String, CronSchedule>,
    /// Zone in which cron fields are read.
    pub timezone: chrono_tz::Tz,
    /// Backoff, jitter, hint cap, adaptive mode.
    pub policy: Policy,
    /// Overdue feeds at start are spread over this window.
    pub startup_spread: Duration,
    /// How long in-flight fetches may take to finish on shutdown.
    pub shutdown_grace: Duration,
    /// `[websub] poll_every` when subscribing is on: how often a feed with
    /// a live WebSub subscription is still polled.
    pub pushed_poll: Option<Duration>,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            default: CronSchedule::parse(DEFAULT_SCHEDULE).expect("the default schedule parses"),
            tags: BTreeMap::new(),
            timezone: chrono_tz::UTC,
            policy: Policy::default(),
            startup_spread: DEFAULT_STARTUP_SPREAD,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            pushed_poll: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    default: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    backoff_base: Option<Spanned<String>>,
    backoff_max: Option<Spanned<String>>,
    adaptive: Option<bool>,
    adaptive_max: Option<Spanned<String>>,
    startup_spread: Option<Spanned<String>>,
    shutdown_grace: Option<Spanned<String>>,
    #[serde(default)]
    tags: BTreeMap<String, Spanned<String>>,
}

pub(super) fn cron(at: &Locator<'_>, v: &Spanned<String>) -> Result<CronSchedule, ConfigError> {
    CronSchedule::parse(v.get_ref()).map_err(|e| {
        at.error(
            v.span(),
            &format!("invalid schedule `{}`: {e}", v.get_ref()),
        )
    })
}

impl ScheduleConfig {
    pub(super) fn from_raw(
        raw: Option<RawSchedule>,
        at: &Locator<'_>,
    ) -> Result<ScheduleConfig, ConfigError> {
        let mut c = ScheduleConfig::default();
        let Some(raw) = raw else {
            return Ok(c);
        };
        if let Some(d) = &raw.default {
            c.default = cron(at, d)?;
        }
        if let Some(tz) = &raw.timezone {
            c.timezone = tz.get_ref().trim().parse().map_err(|_| {
                at.error(tz.span(), &format!("unknown time zone `{}` (use an IANA name such as \"Europe/Berlin\" or \"UTC\")", tz.get_ref()))
            })?;
        }
        if let Some(d) = &raw.backoff_base {
            c.policy.backoff_base = duration(at, d)?;
        }
        if let Some(d) = &raw.backoff_max {
            c.policy.backoff_max = duration(at, d)?;
        }
        if c.policy.backoff_max < c.policy.backoff_base {
            let span = raw
                .backoff_max
                .as_ref()
                .or(raw.backoff_base.as_ref())
                .map_or(0..0, |s| s.span());
            return Err(at.error(span, "backoff_max is shorter than backoff_base"));
        }
        if raw.adaptive.unwrap_or(false) {
            let mut a = crate::schedule::Adaptive::default();
            if let Some(d) = &raw.adaptive_max {
                a.max_interval = duration(at, d)?;
            }
            c.policy.adaptive = Some(a);
        }
        if let Some(d) = &raw.startup_spread {
            c.startup_spread = duration(at, d)?;
        }
        if let Some(d) = &raw.shutdown_grace {
            c.shutdown_grace = duration(at, d)?;
        }
        for (tag, s) in &raw.tags {
            c.tags.insert(tag.trim().to_lowercase(), cron(at, s)?);
        }
        Ok(c)
    }

    /// The schedule of a feed with `own` schedule and `tags`.
    pub fn for_feed<'a>(
        &'a self,
        own: Option<&'a CronSchedule>,
        tags: &[String],
    ) -> &'a CronSchedule {
        own.or_else(|| tags.iter().find_map(|t| self.tags.get(t)))
            .unwrap_or(&self.default)
    }
}

/// A secret value (password, token); never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(crate) String);

impl Secret {
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A value written in the config, or read from the environment or a file.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawValue {
    Plain(String),
    Source(RawSource),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    env: Option<String>,
    file: Option<String>,
}

/// Extra request headers (of a feed or a notification target): valid
/// names, values resolved (plain, env or file) and valid as header values.
pub(super) fn headers(
    at: &Locator<'_>,
    raw: &BTreeMap<String, Spanned<RawValue>>,
    base: &Path,
) -> Result<Vec<(String, Secret)>, ConfigError> {
    let mut out = Vec::with_capacity(raw.len());
    for (name, value) in raw {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(at.error(
                value.span(),
                &format!("`{name}` is not a valid header name"),
            ));
        }
        let v = resolve(at, value, base, &format!("header `{name}`"))?;
        if reqwest::header::HeaderValue::from_str(v.expose()).is_err() {
            return Err(at.error(
                value.span(),
                &format!("header `{name}`: value is not a valid header value"),
            ));
        }
        out.push((name.clone(), v));
    }
    Ok(out)
}

/// Resolves a value that may be a secret source; `secret` marks values that
/// must not be written in the file itself (they are refused there).
pub(super) fn resolve(
    at: &Locator<'_>,
    v: &Spanned<RawValue>,
    base: &Path,
    what: &str,
) -> Result<Secret, ConfigError> {
    let err = |m: String| at.error(v.span(), &m);
    match v.get_ref() {
        RawValue::Plain(s) => Ok(Secret(s.clone())),
        RawValue::Source(RawSource {
            env: Some(var),
            file: None,
        }) => std::env::var(var)
            .map(Secret)
            .map_err(|_| err(format!("{what}: environment variable `{var}` is not set"))),
        RawValue::Source(RawSource {
            env: None,
            file: Some(path),
        }) => {
            let p = base.join(path);
            std::fs::read_to_string(&p)
                .map(|s| Secret(s.trim_end_matches(['\n', '\r']).to_string()))
                .map_err(|e| err(format!("{what}: cannot read `{}`: {e}", p.display())))
        }
        RawValue::Source(_) => Err(err(format!("{what}: give exactly one of `env` or `file`"))),
    }
}

/// One `[[fetch.host_groups]]`: hosts that share one limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGroup {
    /// Host patterns: `example.com` or `*.example.com` (the domain and
    /// every subdomain).
    pub hosts: Vec<String>,
    /// Requests in flight to the whole group at once.
    pub limit: usize,
}

impl HostGroup {
    /// Whether `host` belongs to the group.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|p| match p.strip_prefix("*.") {
            Some(domain) => host == domain || host.ends_with(&format!(".{domain}")),
            None => host == *p,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHostGroup {
    hosts: Vec<Spanned<String>>,
    limit: Option<Spanned<i64>>,
}

pub(super) fn host_group(
    at: &Locator<'_>,
    raw: &RawHostGroup,
    per_host: usize,
) -> Result<HostGroup, ConfigError> {
    let mut hosts = Vec::new();
    for h in &raw.hosts {
        let p = h.get_ref().trim().to_ascii_lowercase();
        let bare = p.strip_prefix("*.").unwrap_or(&p);
        if bare.is_empty() || bare.contains(['/', ':', '*', ' ']) {
            return Err(at.error(
                h.span(),
                &format!("host pattern `{p}` must be a host name or `*.domain`"),
            ));
        }
        hosts.push(p);
    }
    let limit = match &raw.limit {
        Some(l) => super::count(at, l, 1, 64)?,
        None => per_host,
    };
    Ok(HostGroup { hosts, limit })
}

/// Per-feed HTTP options for private and picky feeds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedHttp {
    /// Basic-auth user name.
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<Secret>,
    /// Extra request headers (values may be secrets).
    pub headers: Vec<(String, Secret)>,
    /// Proxy URL for this feed (`http://`, `https://` or `socks5://`);
    /// secret, since it may carry credentials.
    pub proxy: Option<Secret>,
    /// `internal = true`: the feed lives on the local network, so it may be
    /// fetched from (and redirected to) loopback, private and link-local
    /// addresses even when its URL names a host (see `fetch::guard`).
    pub internal: bool,
}
