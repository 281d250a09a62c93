//! The configuration file: TOML text → a validated [`Config`].
//!
//! Reading happens in two steps, as in ripgrep's low/high arguments: serde
//! deserializes the raw file (unknown keys are errors), then `Config::from_raw`
//! checks meaning (URLs, duplicate names, sizes, durations) and produces the
//! only type the rest of the program sees. Every error names the file, line
//! and column and says what is wrong, so `tributary check` can point at it.
//!
//! Relative paths (the store, local feed files) resolve against the folder of
//! the config file, not the working directory, so a config works wherever the
//! daemon is started from.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::schedule::CronSchedule;

mod dedup;
mod digests;
mod edit;
mod full_text;
mod polling;
mod reach;
mod retention;
mod rules;

pub use dedup::{DedupConfig, DEFAULT_STORY_WINDOW};
pub use digests::{DigestConfig, EmailConfig, GroupBy, Selection, SmtpTls, DEFAULT_DIGEST_ITEMS};
pub use edit::{
    is_valid_name, name_from, name_from_url, unique_name, ConfigFile, EditError, NewFeed,
};
pub use polling::{
    FeedHttp, HostGroup, ScheduleConfig, Secret, DEFAULT_HOST_GAP, DEFAULT_SCHEDULE,
    DEFAULT_SHUTDOWN_GRACE, DEFAULT_STARTUP_SPREAD,
};
mod publishing;
pub use full_text::{FullTextConfig, DEFAULT_QUEUE_MAX};
pub use publishing::{
    OutputConfig, PublishConfig, ServerConfig, DEFAULT_DESCRIPTION, DEFAULT_ID_DATE, DEFAULT_LIMIT,
    DEFAULT_LISTEN, DEFAULT_OUTPUT, DEFAULT_TITLE, MAX_LIMIT,
};
pub use reach::{ProxyMode, UrlSecrets, SECRET_PARAM_WORDS};
pub use retention::RetentionConfig;
pub use rules::{MAX_RULE_TEXT, REGEX_DFA_LIMIT, REGEX_SIZE_LIMIT};

/// Where the config is looked for when no `--config` is given.
pub const DEFAULT_CONFIG_PATHS: &[&str] =
    &["config/tributary.toml", "/etc/tributary/tributary.toml"];
/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "TRIBUTARY_CONFIG";
/// Default `User-Agent` of every request.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "Tributary/",
    env!("CARGO_PKG_VERSION"),
    " (feed aggregator)"
);
/// Default limit on one whole request, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on establishing a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on a (decompressed) response body.
pub const DEFAULT_MAX_BODY: u64 = 16 * 1024 * 1024;
/// Default number of feeds fetched at once.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Default number of requests in flight to one host.
pub const DEFAULT_PER_HOST: usize = 2;
/// Default number of redirects followed before giving up.
pub const DEFAULT_MAX_REDIRECTS: usize = 10;

/// A configuration problem, located in its file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The config file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is wrong at a place.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, in one line.
        message: String,
    },
    /// No config file was given and none of the default places has one.
    #[error("no config file: pass --config PATH, set {CONFIG_ENV}, or create one of {paths}")]
    NotFound {
        /// The places that were tried.
        paths: String,
    },
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The SQLite store.
    pub store: StoreConfig,
    /// HTTP behaviour shared by all feeds.
    pub fetch: FetchConfig,
    /// When feeds are polled.
    pub schedule: ScheduleConfig,
    /// Cross-feed merging.
    pub dedup: DedupConfig,
    /// How much history the store keeps.
    pub retention: RetentionConfig,
    /// The feeds to poll, in file order.
    pub feeds: Vec<FeedConfig>,
    /// Periodic digests.
    pub digests: Vec<DigestConfig>,
    /// `[server]`: where the outputs are served.
    pub server: ServerConfig,
    /// `[publish]` and `[[outputs]]`: what is republished.
    pub publish: PublishConfig,
    /// `[[rules]]`, in file order (each feed has its own in
    /// [`FeedConfig::rules`]).
    pub rules: Vec<std::sync::Arc<crate::rules::Rule>>,
    /// `[full_text]`: per-tag extraction settings, the queue's bound.
    pub full_text: FullTextConfig,
}

/// `[store]`
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The database file (absolute, resolved against the config's folder).
    pub path: PathBuf,
    /// Who may read the database and its backups: the owner, and the
    /// group named by `group` if any (see [`crate::private_files`]).
    pub access: crate::private_files::Access,
}

/// `[fetch]`
#[derive(Debug, Clone, PartialEq)]
pub struct FetchConfig {
    /// `User-Agent` header.
    pub user_agent: String,
    /// Limit on one whole request, body included.
    pub timeout: Duration,
    /// Limit on establishing a connection.
    pub connect_timeout: Duration,
    /// Cap on a response body after decompression, in bytes.
    pub max_body: u64,
    /// Feeds fetched at once.
    pub concurrency: usize,
    /// Requests in flight to one host at once.
    pub per_host: usize,
    /// Redirects followed before the fetch fails.
    pub max_redirects: usize,
    /// Minimum time between the start of two requests to one host.
    pub host_gap: Duration,
    /// Hosts that share one limit (e.g. every `*.tumblr.com` blog).
    pub host_groups: Vec<HostGroup>,
    /// Refuse feed URLs and redirects to loopback, private, link-local and
    /// other non-public addresses, and `file://` feeds (for daemons whose
    /// feed list other people write; see `fetch::guard`).
    pub block_private_addresses: bool,
    /// Whether the environment's proxies (`HTTP_PROXY`, …) are used.
    pub proxy: ProxyMode,
    /// Which query parameters of feed URLs are redacted.
    pub url_secrets: UrlSecrets,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            concurrency: DEFAULT_CONCURRENCY,
            per_host: DEFAULT_PER_HOST,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            host_gap: DEFAULT_HOST_GAP,
            host_groups: Vec::new(),
            block_private_addresses: false,
            proxy: ProxyMode::None,
            url_secrets: UrlSecrets::default(),
        }
    }
}

/// One `[[feeds]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    /// Unique name; what people and the store call the feed.
    pub name: String,
    /// `http(s)://` or `file://` (local paths are turned into `file://` URLs).
    pub url: Url,
    /// Free-form labels used to select outputs and digests.
    pub tags: Vec<String>,
    /// Whether this feed's entries take part in cross-feed merging.
    pub dedup: bool,
    /// Per-feed request timeout (overrides `[fetch] timeout`).
    pub timeout: Option<Duration>,
    /// Per-feed body cap (overrides `[fetch] max_body`).
    pub max_body: Option<u64>,
    /// Per-feed `User-Agent` (overrides `[fetch] user_agent`).
    pub user_agent: Option<String>,
    /// The feed's own schedule, when it has one (see
    /// [`ScheduleConfig::for_feed`] for the one in force).
    pub schedule: Option<CronSchedule>,
    /// Credentials, extra headers, proxy.
    pub http: FeedHttp,
    /// The rules that apply to this feed (global, its tags', its own), in
    /// file order.
    pub rules: crate::rules::Rules,
    /// Full text in force (the feed's own `full_text`, else its tags'):
    /// `None` when the feed's own text is kept as it is.
    pub full_text: Option<crate::extract::Recipe>,
}

// ---- raw file shape -------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<RawStore>,
    fetch: Option<RawFetch>,
    schedule: Option<polling::RawSchedule>,
    dedup: Option<dedup::RawDedup>,
    retention: Option<retention::RawRetention>,
    #[serde(default)]
    feeds: Vec<RawFeed>,
    #[serde(default)]
    digests: Vec<digests::RawDigest>,
    server: Option<publishing::RawServer>,
    publish: Option<publishing::RawPublish>,
    #[serde(default)]
    outputs: Vec<publishing::RawOutput>,
    #[serde(default)]
    rules: Vec<Spanned<rules::RawRule>>,
    full_text: Option<full_text::RawSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    path: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    user_agent: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<Size>>,
    concurrency: Option<Spanned<i64>>,
    per_host: Option<Spanned<i64>>,
    max_redirects: Option<Spanned<i64>>,
    host_gap: Option<Spanned<String>>,
    #[serde(default)]
    host_groups: Vec<polling::RawHostGroup>,
    block_private_addresses: Option<bool>,
    proxy: Option<Spanned<String>>,
    #[serde(default)]
    public_params: Vec<String>,
    #[serde(default)]
    secret_params: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    name: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    dedup: Option<bool>,
    timeout: Option<Spanned<String>>,
    max_body: Option<Spanned<Size>>,
    user_agent: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password: Option<Spanned<polling::RawValue>>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, Spanned<polling::RawValue>>,
    proxy: Option<Spanned<String>>,
    internal: Option<bool>,
    full_text: Option<Spanned<full_text::RawFullText>>,
}

/// A size written as a number of bytes or a string such as `"16 MiB"`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(i64),
    Text(String),
}

// ---- loading --------------------------------------------------------------

impl Config {
    /// Finds the config file: `explicit` (from `--config`), else
    /// `$TRIBUTARY_CONFIG`, else the first of [`DEFAULT_CONFIG_PATHS`] that exists.
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
        if let Some(p) = explicit {
            return Ok(p.to_path_buf());
        }
        if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        DEFAULT_CONFIG_PATHS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| ConfigError::NotFound {
                paths: DEFAULT_CONFIG_PATHS.join(", "),
            })
    }

    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Validates `text` as if read from `path` (which anchors relative paths
    /// and names the file in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let at = Locator { text, path };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at.error(span, e.message().trim_end())
        })?;
        Config::from_raw(raw, &at)
    }

    fn from_raw(raw: RawConfig, at: &Locator<'_>) -> Result<Config, ConfigError> {
        let base = at.base_dir();
        let (raw_path, raw_group) = raw.store.map_or((None, None), |s| (s.path, s.group));
        let store = StoreConfig {
            path: match raw_path {
                Some(p) if p.get_ref().trim().is_empty() => {
                    return Err(at.error(p.span(), "store path is empty"))
                }
                Some(p) => lexical_clean(&base.join(p.get_ref())),
                None => base.join("tributary.db"),
            },
            access: match raw_group {
                None => crate::private_files::Access::OWNER,
                Some(g) => crate::private_files::group_id(g.get_ref().trim())
                    .map(crate::private_files::Access::group)
                    .ok_or_else(|| {
                        at.error(g.span(), &format!("no group named `{}`", g.get_ref()))
                    })?,
            },
        };

        let mut fetch = FetchConfig::default();
        if let Some(f) = raw.fetch {
            if let Some(ua) = f.user_agent {
                fetch.user_agent = non_empty(at, &ua, "user_agent")?;
            }
            if let Some(t) = f.timeout {
                fetch.timeout = duration(at, &t)?;
            }
            if let Some(t) = f.connect_timeout {
                fetch.connect_timeout = duration(at, &t)?;
            }
            if let Some(s) = f.max_body {
                fetch.max_body = size(at, &s)?;
            }
            if let Some(n) = f.concurrency {
                fetch.concurrency = count(at, &n, 1, 1024)?;
            }
            if let Some(n) = f.per_host {
                fetch.per_host = count(at, &n, 1, 64)?;
            }
            if let Some(n) = f.max_redirects {
                fetch.max_redirects = count(at, &n, 0, 50)?;
            }
            if let Some(g) = f.host_gap {
                fetch.host_gap = humantime::parse_duration(g.get_ref()).map_err(|e| {
                    at.error(
                        g.span(),
                        &format!("invalid duration `{}`: {e}", g.get_ref()),
                    )
                })?;
            }
            fetch.block_private_addresses = f.block_private_addresses.unwrap_or(false);
            if let Some(p) = &f.proxy {
                fetch.proxy = reach::proxy_mode(at, p)?;
            }
            fetch.url_secrets = reach::url_secrets(&f.public_params, &f.secret_params);
            for g in &f.host_groups {
                let group = polling::host_group(at, g, fetch.per_host)?;
                fetch.host_groups.push(group);
            }
        }
        let schedule = ScheduleConfig::from_raw(raw.schedule, at)?;
        let dedup = DedupConfig::from_raw(raw.dedup, at)?;
        let retention = RetentionConfig::from_raw(raw.retention, at)?;
        let full_text = full_text::from_raw(raw.full_text, at)?;

        let mut feeds = Vec::with_capacity(raw.feeds.len());
        let mut names: HashMap<String, Range<usize>> = HashMap::new();
        for f in raw.feeds {
            let name = f.name.get_ref().trim().to_string();
            if name.is_empty() {
                return Err(at.error(f.name.span(), "feed name is empty"));
            }
            if !name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(at.error(
                    f.name.span(),
                    &format!("feed name `{name}` may hold only letters, digits, `-`, `_` and `.` (it becomes part of URLs and file names)"),
                ));
            }
            if let Some(first) = names.get(&name) {
                let (line, _) = at.line_col(first.start);
                return Err(at.error(
                    f.name.span(),
                    &format!("duplicate feed name `{name}` (first used on line {line})"),
                ));
            }
            names.insert(name.clone(), f.name.span());
            let url = feed_url(at, &f.url, &base)?;
            let mut tags = Vec::with_capacity(f.tags.len());
            for t in &f.tags {
                let tag = t.get_ref().trim().to_lowercase();
                if tag.is_empty() {
                    return Err(at.error(t.span(), "empty tag"));
                }
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            let own_full_text = f
                .full_text
                .as_ref()
                .map(|v| full_text::recipe(at, v, full_text.robots))
                .transpose()?;
            let recipe = full_text.for_feed(own_full_text.as_ref(), &tags);
            feeds.push(FeedConfig {
                name,
                url,
                tags,
                dedup: f.dedup.unwrap_or(true),
                timeout: f.timeout.as_ref().map(|t| duration(at, t)).transpose()?,
                max_body: f.max_body.as_ref().map(|s| size(at, s)).transpose()?,
                user_agent: f
                    .user_agent
                    .as_ref()
                    .map(|u| non_empty(at, u, "user_agent"))
                    .transpose()?,
                schedule: f
                    .schedule
                    .as_ref()
                    .map(|s| polling::cron(at, s))
                    .transpose()?,
                http: feed_http(at, &f, &base)?,
                rules: Vec::new(),
                full_text: recipe,
            });
        }
        let rules = rules::rules(at, raw.rules, &feeds)?;
        for feed in &mut feeds {
            feed.rules = rules::for_feed(&rules, &feed.name, &feed.tags);
        }
        let names: Vec<String> = feeds.iter().map(|f| f.name.clone()).collect();
        let digests = digests::digests(at, raw.digests, &names, &base, &rules)?;
        let (server, publish) =
            publishing::from_raw(raw.server, raw.publish, raw.outputs, &feeds, &rules, at)?;
        Ok(Config {
            path: at.path.to_path_buf(),
            store,
            fetch,
            schedule,
            dedup,
            retention,
            feeds,
            digests,
            server,
            publish,
            rules,
            full_text,
        })
    }

    /// The feed called `name`.
    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name == name)
    }
}

fn feed_http(at: &Locator<'_>, f: &RawFeed, base: &Path) -> Result<FeedHttp, ConfigError> {
    let mut http = FeedHttp {
        username: f.username.as_ref().map(|u| u.get_ref().clone()),
        internal: f.internal.unwrap_or(false),
        ..FeedHttp::default()
    };
    if let Some(p) = &f.password {
        if http.username.is_none() {
            return Err(at.error(p.span(), "password without username"));
        }
        http.password = Some(polling::resolve(at, p, base, "password")?);
    }
    for (name, value) in &f.headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(at.error(
                value.span(),
                &format!("`{name}` is not a valid header name"),
            ));
        }
        let v = polling::resolve(at, value, base, &format!("header `{name}`"))?;
        if reqwest::header::HeaderValue::from_str(v.expose()).is_err() {
            return Err(at.error(
                value.span(),
                &format!("header `{name}`: value is not a valid header value"),
            ));
        }
        http.headers.push((name.clone(), v));
    }
    if let Some(p) = &f.proxy {
        let url = Url::parse(p.get_ref().trim()).map_err(|e| {
            at.error(
                p.span(),
                &format!("invalid proxy url `{}`: {e}", p.get_ref()),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
            return Err(at.error(p.span(), "proxy url must be http://, https:// or socks5://"));
        }
        http.proxy = Some(Secret(url.to_string()));
    }
    Ok(http)
}

/// Turns byte offsets into file:line:column errors.
struct Locator<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Locator<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn error(&self, span: Range<usize>, message: &str) -> ConfigError {
        let (line, column) = self.line_col(span.start);
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.replace('\n', " "),
        }
    }

    fn base_dir(&self) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        lexical_clean(&std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()))
    }
}

/// Folds `.` and `..` components without touching the file system, so
/// resolved paths print the way people expect.
fn lexical_clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn non_empty(at: &Locator<'_>, v: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
    let s = v.get_ref().trim();
    if s.is_empty() {
        return Err(at.error(v.span(), &format!("{key} is empty")));
    }
    Ok(s.to_string())
}

fn duration(at: &Locator<'_>, v: &Spanned<String>) -> Result<Duration, ConfigError> {
    match humantime::parse_duration(v.get_ref()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(at.error(v.span(), "duration must be longer than zero")),
        Err(e) => Err(at.error(
            v.span(),
            &format!(
                "invalid duration `{}`: {e} (write e.g. \"30s\", \"5m\", \"1h 30m\")",
                v.get_ref()
            ),
        )),
    }
}

/// A configured span as people write it: whole days as days ("90 days",
/// not humantime's "2months 29days 2h 1m 12s"), whole hours as hours, and
/// anything else as humantime writes it.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    match (s % 86_400, s % 3_600, d.subsec_nanos()) {
        (0, _, 0) if s == 86_400 => "1 day".into(),
        (0, _, 0) => format!("{} days", s / 86_400),
        (_, 0, 0) => format!("{}h", s / 3_600),
        _ => humantime::format_duration(d).to_string(),
    }
}

fn count(at: &Locator<'_>, v: &Spanned<i64>, min: i64, max: i64) -> Result<usize, ConfigError> {
    let n = *v.get_ref();
    if n < min || n > max {
        return Err(at.error(v.span(), &format!("{n} is out of range {min}..={max}")));
    }
    Ok(n as usize)
}

fn size(at: &Locator<'_>, v: &Spanned<Size>) -> Result<u64, ConfigError> {
    let bad = |why: &str| at.error(v.span(), why);
    let n = match v.get_ref() {
        Size::Bytes(n) if *n > 0 => *n as u64,
        Size::Bytes(_) => return Err(bad("size must be more than zero bytes")),
        Size::Text(s) => parse_size(s).ok_or_else(|| {
            bad(&format!(
                "invalid size `{s}` (write bytes as a number, or e.g. \"512 KiB\", \"16 MiB\")"
            ))
        })?,
    };
    Ok(n)
}

/// Parses `"16 MiB"`, `"500KB"`, `"1048576"`; binary and decimal units.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = num * mult;
    (bytes >= 1.0 && bytes.is_finite()).then_some(bytes as u64)
}

fn feed_url(at: &Locator<'_>, v: &Spanned<String>, base: &Path) -> Result<Url, ConfigError> {
    let raw = v.get_ref().trim();
    if raw.is_empty() {
        return Err(at.error(v.span(), "feed url is empty"));
    }
    let looks_like_url = raw.contains("://");
    if looks_like_url {
        let url = Url::parse(raw)
            .map_err(|e| at.error(v.span(), &format!("invalid feed url `{raw}`: {e}")))?;
        return match url.scheme() {
            "http" | "https" if url.host_str().is_some() => Ok(url),
            "http" | "https" => Err(at.error(v.span(), &format!("feed url `{raw}` has no host"))),
            "file" => Ok(url),
            other => Err(at.error(
                v.span(),
                &format!(
                    "unsupported url scheme `{other}` in `{raw}` (use http, https, file or a path)"
                ),
            )),
        };
    }
    let path = lexical_clean(&base.join(raw));
    Url::from_file_path(&path).map_err(|()| {
        at.error(
            v.span(),
            &format!("cannot turn path `{raw}` into a file url"),
        )
    })
}

impl fmt::Display for Config {
    /// The resolved configuration, as `tributary check` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "config:      {}", self.path.display())?;
        write!(f, "store:       {}", self.store.path.display())?;
        match self.store.access.gid() {
            Some(gid) => writeln!(f, " (mode 0640, group {gid})")?,
            None => writeln!(f, " (mode 0600)")?,
        }
        let fc = &self.fetch;
        writeln!(f, "user agent:  {}", fc.user_agent)?;
        writeln!(
            f,
            "limits:      timeout {}, connect {}, body {} bytes, {} feeds at once, {} per host, {} redirects",
            humantime::format_duration(fc.timeout),
            humantime::format_duration(fc.connect_timeout),
            fc.max_body,
            fc.concurrency,
            fc.per_host,
            fc.max_redirects
        )?;
        if fc.block_private_addresses {
            writeln!(
                f,
                "guard:       private addresses and file:// refused (block_private_addresses)"
            )?;
        }
        if fc.proxy == ProxyMode::Env {
            writeln!(
                f,
                "proxy:       from the environment (HTTP_PROXY, HTTPS_PROXY)"
            )?;
        }
        let sc = &self.schedule;
        writeln!(
            f,
            "schedule:    {} ({}), backoff {} up to {}{}",
            sc.default,
            sc.timezone,
            humantime::format_duration(sc.policy.backoff_base),
            humantime::format_duration(sc.policy.backoff_max),
            if sc.policy.adaptive.is_some() {
                ", adaptive"
            } else {
                ""
            }
        )?;
        for (tag, s) in &sc.tags {
            writeln!(f, "  tag {tag:<20} {s}")?;
        }
        if self.dedup.enabled {
            writeln!(
                f,
                "dedup:       articles and stories (similarity ≥ {}, within {})",
                self.dedup.story_threshold,
                humantime::format_duration(self.dedup.story_window)
            )?;
        } else {
            writeln!(f, "dedup:       off")?;
        }
        for d in &self.digests {
            let email = d
                .email
                .as_ref()
                .map(|e| format!(", email to {}", e.to.join(", ")))
                .unwrap_or_default();
            writeln!(
                f,
                "digest:      {} every `{}`, up to {} items by {}{email}",
                d.name,
                d.schedule,
                d.max_items,
                d.group_by.as_str()
            )?;
        }
        let r = &self.retention;
        let mut keep = Vec::new();
        if let Some(age) = r.max_age {
            keep.push(format!("entries first seen in the last {}", span(age)));
        }
        if let Some(n) = r.max_per_feed {
            keep.push(format!("the newest {n} of each feed"));
        }
        let log = format!(
            "{}; pruned entries' keys until unlisted for {}",
            span(r.fetch_log_max_age),
            span(r.tombstone_max_age)
        );
        if keep.is_empty() {
            writeln!(
                f,
                "retention:   every entry; the fetch log of the last {log}"
            )?;
        } else {
            writeln!(
                f,
                "retention:   keep {}; the fetch log of the last {log}",
                keep.join(" and ")
            )?;
        }
        writeln!(f, "feeds:       {}", self.feeds.len())?;
        for feed in &self.feeds {
            let tags = if feed.tags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", feed.tags.join(", "))
            };
            let dedup = if feed.dedup { "" } else { " (no dedup)" };
            let schedule = sc.for_feed(feed.schedule.as_ref(), &feed.tags);
            let mut extra = String::new();
            if feed.http.username.is_some() {
                extra.push_str(" (basic auth)");
            }
            if !feed.http.headers.is_empty() {
                let names: Vec<&str> = feed.http.headers.iter().map(|(n, _)| n.as_str()).collect();
                extra.push_str(&format!(" (headers: {})", names.join(", ")));
            }
            if feed.http.proxy.is_some() {
                extra.push_str(" (proxy)");
            }
            if feed.http.internal {
                extra.push_str(" (internal)");
            }
            if let Some(r) = &feed.full_text {
                let selectors = r.selector.is_some() || !r.remove.is_empty();
                extra.push_str(match (selectors, r.robots) {
                    (true, true) => " (full text, selectors)",
                    (true, false) => " (full text, selectors, robots.txt ignored)",
                    (false, true) => " (full text)",
                    (false, false) => " (full text, robots.txt ignored)",
                });
            }
            let url =
                crate::fetch::Redactor::new(&feed.http, &feed.url, &fc.url_secrets).url(&feed.url);
            writeln!(
                f,
                "  {:<24} {url}{tags}{dedup}  every `{schedule}`{extra}",
                feed.name
            )?;
        }
        for r in &self.rules {
            writeln!(f, "rule:        {} (line {}) {}", r.name, r.line, r.summary)?;
        }
        write!(f, "{}{}", self.server, self.publish)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/tributary/t.toml"))
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn minimal_config_gets_defaults_and_resolves_paths() {
        let c = parse(
            "[[feeds]]\nname = \"a\"\nurl = \"samples/a.xml\"\ntags = [\"News\", \"news\"]\n",
        )
        .unwrap();
        assert_eq!(c.store.path, Path::new("/etc/tributary/tributary.db"));
        assert_eq!(c.fetch.timeout, DEFAULT_TIMEOUT);
        assert_eq!(
            c.feeds[0].url.as_str(),
            "file:///etc/tributary/samples/a.xml"
        );
        assert_eq!(c.feeds[0].tags, vec!["news"]);
        assert!(c.feeds[0].dedup);
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let e = err("[fetch]\ntimeout = \"5s\"\ntimeuot = \"5s\"\n");
        assert!(e.starts_with("/etc/tributary/t.toml:3:1: "), "{e}");
        assert!(e.contains("timeuot"), "{e}");
    }

    #[test]
    fn duplicate_names_point_at_second_and_first() {
        let e = err("[[feeds]]\nname = \"a\"\nurl = \"https://x.example/f\"\n[[feeds]]\nname = \"a\"\nurl = \"https://y.example/f\"\n");
        assert!(
            e.starts_with(
                "/etc/tributary/t.toml:5:8: duplicate feed name `a` (first used on line 2)"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_url_and_scheme_are_refused() {
        let e = err("[[feeds]]\nname = \"a\"\nurl = \"https://\"\n");
        assert!(
            e.starts_with("/etc/tributary/t.toml:3:7: invalid feed url"),
            "{e}"
        );
        let e = err("[[feeds]]\nname = \"a\"\nurl = \"ftp://x.example/f\"\n");
        assert!(e.contains("unsupported url scheme `ftp`"), "{e}");
    }

    #[test]
    fn wrong_type_is_located() {
        let e = err("[fetch]\nconcurrency = \"many\"\n");
        assert!(e.starts_with("/etc/tributary/t.toml:2:15: "), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn sizes_and_durations() {
        let c = parse("[fetch]\nmax_body = \"2 MiB\"\ntimeout = \"1m 30s\"\n").unwrap();
        assert_eq!(c.fetch.max_body, 2 * 1024 * 1024);
        assert_eq!(c.fetch.timeout, Duration::from_secs(90));
        assert!(err("[fetch]\nmax_body = \"lots\"\n").contains("invalid size `lots`"));
        assert!(err("[fetch]\ntimeout = \"soon\"\n").contains("invalid duration `soon`"));
        assert_eq!(parse_size("500KB"), Some(500_000));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("0"), None);
    }

    #[test]
    fn schedules_resolve_feed_then_tag_then_default() {
        let c = parse(
            "[schedule]\ndefault = \"@hourly\"\ntimezone = \"Europe/Berlin\"\n[schedule.tags]\nnews = \"*/10 * * * *\"\n\
             [[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\ntags = [\"news\"]\n\
             [[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\ntags = [\"news\"]\nschedule = \"0 6 * * MON-FRI\"\n\
             [[feeds]]\nname = \"c\"\nurl = \"https://c.example/f\"\n",
        )
        .unwrap();
        let s = &c.schedule;
        assert_eq!(s.timezone, chrono_tz::Europe::Berlin);
        let of = |n: &str| {
            let f = c.feed(n).unwrap();
            s.for_feed(f.schedule.as_ref(), &f.tags).to_string()
        };
        assert_eq!(of("a"), "*/10 * * * *");
        assert_eq!(of("b"), "0 6 * * MON-FRI");
        assert_eq!(of("c"), "@hourly");
        let e = err(
            "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\nschedule = \"0 0 * * 8\"\n",
        );
        assert!(
            e.starts_with("/etc/tributary/t.toml:4:12: invalid schedule `0 0 * * 8`"),
            "{e}"
        );
        assert!(err("[schedule]\ntimezone = \"Mars/Olympus\"\n").contains("unknown time zone"));
    }

    #[test]
    fn secrets_come_from_env_or_file_and_never_print() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret-file\n").unwrap();
        // SAFETY: the variable name is unique to this test.
        unsafe { std::env::set_var("TRIBUTARY_TEST_TOKEN_7", "s3cret-env") };
        let text = "[[feeds]]\nname = \"p\"\nurl = \"https://p.example/f\"\nusername = \"me\"\n\
                    password = { file = \"pw\" }\nheaders = { \"X-Token\" = { env = \"TRIBUTARY_TEST_TOKEN_7\" }, \"Accept-Language\" = \"en\" }\n\
                    proxy = \"http://user:pw@proxy.example:3128\"\n";
        let c = Config::parse(text, &dir.path().join("t.toml")).unwrap();
        let http = &c.feeds[0].http;
        assert_eq!(http.password.as_ref().unwrap().expose(), "s3cret-file");
        assert_eq!(http.headers[1].1.expose(), "s3cret-env");
        for shown in [c.to_string(), format!("{c:?}")] {
            assert!(
                !shown.contains("s3cret") && !shown.contains("user:pw"),
                "{shown}"
            );
        }
        let missing = text.replace("TRIBUTARY_TEST_TOKEN_7", "TRIBUTARY_TEST_UNSET_7");
        let e = Config::parse(&missing, &dir.path().join("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(":6:") && e.contains("`TRIBUTARY_TEST_UNSET_7` is not set"),
            "{e}"
        );
    }

    #[test]
    fn host_groups_match_domains() {
        let c = parse("[fetch]\nhost_gap = \"1s\"\n[[fetch.host_groups]]\nhosts = [\"*.tumblr.com\"]\nlimit = 1\n").unwrap();
        let g = &c.fetch.host_groups[0];
        assert!(
            g.matches("staff.tumblr.com") && g.matches("tumblr.com") && !g.matches("nottumblr.com")
        );
        assert_eq!(g.limit, 1);
        assert_eq!(c.fetch.host_gap, Duration::from_secs(1));
    }

    #[test]
    fn bad_name_is_refused() {
        let e = err("[[feeds]]\nname = \"a b\"\nurl = \"https://x.example/f\"\n");
        assert!(e.contains("may hold only letters"), "{e}");
    }
}
