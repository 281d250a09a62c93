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
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::schedule::CronSchedule;

mod dedup;
mod digests;
mod display;
mod edit;
mod feed;
mod full_text;
mod notify;
mod polling;
mod reach;
mod retention;
mod rules;
mod tables;
mod values;
mod websub;

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
pub use notify::{Delivery, HealthEvents, NotifyConfig, NotifyKind, NotifySelect};
pub use publishing::{
    OutputConfig, PublishConfig, ServerConfig, DEFAULT_DESCRIPTION, DEFAULT_ID_DATE, DEFAULT_LIMIT,
    DEFAULT_LISTEN, DEFAULT_OUTPUT, DEFAULT_TITLE, MAX_LIMIT,
};
pub use reach::{ProxyMode, UrlSecrets, SECRET_PARAM_WORDS};
pub use retention::RetentionConfig;
pub use rules::{MAX_RULE_TEXT, REGEX_DFA_LIMIT, REGEX_SIZE_LIMIT};
use values::{count, duration, lexical_clean, non_empty, size, Locator};
pub use values::{parse_size, span};
pub use websub::{WebSubConfig, DEFAULT_LEASE, DEFAULT_PUSHED_POLL, MAX_LEASE};

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
    /// `[river]` and `[[outputs]]`: what is republished.
    pub publish: PublishConfig,
    /// `[[rules]]`, in file order (each feed has its own in
    /// [`FeedConfig::rules`]).
    pub rules: Vec<std::sync::Arc<crate::rules::Rule>>,
    /// `[full_text]`: per-tag extraction settings, the queue's bound.
    pub full_text: FullTextConfig,
    /// `[[notify]]`: notification targets, in file order.
    pub notify: Vec<NotifyConfig>,
    /// `[websub]`: pushed feeds, and the hub of the outputs.
    pub websub: WebSubConfig,
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
    /// [`ScheduleConfig::for_feed`] for the one in force). Boxed, as are
    /// the other settings few feeds have: a config holds one of these per
    /// feed, and its size is most of a large config's memory.
    pub schedule: Option<Box<CronSchedule>>,
    /// Credentials, extra headers, proxy; feeds without any share one.
    pub http: std::sync::Arc<FeedHttp>,
    /// The rules that apply to this feed (global, its tags', its own), in
    /// file order.
    pub rules: crate::rules::Rules,
    /// Full text in force (the feed's own `full_text`, else its tags'):
    /// `None` when the feed's own text is kept as it is.
    pub full_text: Option<Box<crate::extract::Recipe>>,
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
    /// Only as `feeds = [...]`: `[[feeds]]` tables are read on their own.
    feeds: Option<Vec<feed::RawFeed>>,
    #[serde(default)]
    digests: Vec<digests::RawDigest>,
    server: Option<publishing::RawServer>,
    /// `[river]`; `[publish]`, its earlier name, is still read.
    #[serde(alias = "publish")]
    river: Option<publishing::RawRiver>,
    #[serde(default)]
    outputs: Vec<publishing::RawOutput>,
    #[serde(default)]
    rules: Vec<Spanned<rules::RawRule>>,
    full_text: Option<full_text::RawSection>,
    #[serde(default)]
    notify: Vec<notify::RawNotify>,
    websub: Option<websub::RawWebSub>,
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
        // The feeds are read one table at a time (see `tables`), the rest
        // with them cut out.
        let feed_tables = tables::feed_tables(text);
        let at = Locator {
            text,
            path,
            offset: 0,
            cuts: &feed_tables,
        };
        let rest = match feed_tables.is_empty() {
            true => std::borrow::Cow::Borrowed(text),
            false => std::borrow::Cow::Owned(tables::cut_out(text, &feed_tables)),
        };
        let raw: RawConfig = toml::from_str(&rest).map_err(|e| toml_error(&at, &e))?;
        drop(rest);
        if let (Some(first), Some(_)) = (feed_tables.first(), &raw.feeds) {
            // `feeds = [...]` and `[[feeds]]` in one file, as toml refuses it.
            return Err(at.at(0).error(first.clone(), "duplicate key"));
        }
        Config::from_raw(raw, &feed_tables, &at)
    }

    fn from_raw(
        raw: RawConfig,
        feed_tables: &[Range<usize>],
        at: &Locator<'_>,
    ) -> Result<Config, ConfigError> {
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
        let mut schedule = ScheduleConfig::from_raw(raw.schedule, at)?;
        let dedup = DedupConfig::from_raw(raw.dedup, at)?;
        let retention = RetentionConfig::from_raw(raw.retention, at)?;
        let full_text = full_text::from_raw(raw.full_text, at)?;

        let listed = raw.feeds.unwrap_or_default();
        let mut feeds = Vec::with_capacity(listed.len() + feed_tables.len());
        let mut names: HashMap<String, usize> = HashMap::new();
        let plain = std::sync::Arc::new(FeedHttp::default());
        let mut add = |f: feed::RawFeed, at: &Locator<'_>| -> Result<(), ConfigError> {
            let feed = feed::feed(at, f, &mut names, &base, &full_text, &plain)?;
            feeds.push(feed);
            Ok(())
        };
        for f in listed {
            add(f, at)?;
        }
        for table in feed_tables {
            let at = at.at(table.start);
            let piece = &at.text[table.clone()];
            let one: feed::OneFeed = toml::from_str(piece).map_err(|e| toml_error(&at, &e))?;
            for f in one.feeds {
                add(f, &at)?;
            }
        }
        let rules = rules::rules(at, raw.rules, &feeds)?;
        for feed in &mut feeds {
            feed.rules = rules::for_feed(&rules, &feed.name, &feed.tags);
        }
        let names: Vec<String> = feeds.iter().map(|f| f.name.clone()).collect();
        let digests = digests::digests(at, raw.digests, &names, &base, &rules)?;
        let notify = notify::targets(at, raw.notify, &feeds, &rules, &base)?;
        let base_url_set = raw.server.as_ref().is_some_and(|s| s.base_url_set());
        let (server, publish) =
            publishing::from_raw(raw.server, raw.river, raw.outputs, &feeds, &rules, at)?;
        let websub = websub::from_raw(raw.websub, base_url_set, server.enabled, at)?;
        schedule.pushed_poll = websub.subscribe.then_some(websub.poll_every);
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
            notify,
            websub,
        })
    }

    /// The feed called `name`.
    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name == name)
    }
}

/// A toml error at its place in the file.
fn toml_error(at: &Locator<'_>, e: &toml::de::Error) -> ConfigError {
    let span = e.span().unwrap_or(0..0);
    at.error(span, e.message().trim_end())
}

#[cfg(test)]
mod tests;
