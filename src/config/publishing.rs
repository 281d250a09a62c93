//! The republishing part of the configuration: `[server]`, `[river]` and
//! `[[outputs]]`, read like the rest of the file (raw serde shapes, then
//! validation with file:line:column errors).
//!
//! An output is one combined feed: a selection of feeds (by name and tag),
//! optional regular-expression filters, an order and a length. The output
//! `all` (every feed), the river, always exists and is set up by `[river]`
//! (`[publish]`, its earlier name, is still read); item and
//! channel ids are checked here as `tag:` URIs so that a bad authority
//! fails at start-up rather than in a reader.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{count, lexical_clean, ConfigError, FeedConfig, Locator};
use crate::model::OutputOrder;
use crate::syndication::TagUri;

/// Where the server listens unless told otherwise: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Name of the output that carries every feed.
pub const DEFAULT_OUTPUT: &str = "all";
/// Title of the default output unless `[river] title` says otherwise.
pub const DEFAULT_TITLE: &str = "Tributary";
/// Description of the default output unless `[river] description` says
/// otherwise.
pub const DEFAULT_DESCRIPTION: &str = "Every feed, newest first";
/// Items in an output unless its `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 50;
/// Most items an output may hold.
pub const MAX_LIMIT: usize = 1000;
/// Date part of item ids (`tag:host,2026:item/…`) unless `[river]
/// id_date` says otherwise. A constant, so ids never depend on the clock.
pub const DEFAULT_ID_DATE: &str = "2026";

/// `[server]`: how the outputs are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Whether `tributary run` serves HTTP at all (static files in
    /// `out_dir` are written either way).
    pub enabled: bool,
    /// Address and port the HTTP server binds.
    pub listen: SocketAddr,
    /// Public URL of the server's root, ending in `/`: the base of
    /// `rel="self"` links, subscribe links and, by default, of item ids.
    pub base_url: Url,
    /// Folder that `tributary publish` (and the daemon after a refresh
    /// round) writes the outputs into as static files, if any.
    pub out_dir: Option<PathBuf>,
}

/// `[river]` and `[[outputs]]`: what is republished.
#[derive(Debug, Clone)]
pub struct PublishConfig {
    /// Mints channel and item ids; built from `id_authority` and `id_date`.
    pub ids: TagUri,
    /// Every output; the first is always [`DEFAULT_OUTPUT`].
    pub outputs: Vec<OutputConfig>,
}

impl PublishConfig {
    /// The output called `name`.
    pub fn output(&self, name: &str) -> Option<&OutputConfig> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

/// One output feed.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    /// Unique, URL-safe name: `/feeds/{name}.atom`.
    pub name: String,
    /// Title readers show.
    pub title: String,
    /// One line about it (may be empty).
    pub description: String,
    /// Feeds selected by name (any of).
    pub feeds: Vec<String>,
    /// Feeds selected by tag (any of); with `feeds` also empty, every feed.
    pub tags: Vec<String>,
    /// An article is kept only if one of these matches its title or text
    /// (when there are any).
    pub include: Vec<Regex>,
    /// An article is dropped if one of these matches its title or text.
    pub exclude: Vec<Regex>,
    /// Only articles a rule tagged with any of these (empty: any).
    pub rule_tags: Vec<String>,
    /// Only articles a rule marked with any of these (empty: any).
    pub marks: Vec<String>,
    /// Most items shown.
    pub limit: usize,
    /// Newest first by first-seen or by published time.
    pub order: OutputOrder,
}

impl OutputConfig {
    /// Whether `include` / `exclude` are set (they cost a read of the text).
    pub fn has_filter(&self) -> bool {
        !self.include.is_empty() || !self.exclude.is_empty()
    }

    /// Whether an article with this title and plain text belongs in the output.
    pub fn keeps(&self, title: &str, text: &str) -> bool {
        let hit = |r: &Regex| r.is_match(title) || r.is_match(text);
        (self.include.is_empty() || self.include.iter().any(hit)) && !self.exclude.iter().any(hit)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    enabled: Option<bool>,
    listen: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    out_dir: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRiver {
    title: Option<Spanned<String>>,
    description: Option<Spanned<String>>,
    limit: Option<Spanned<i64>>,
    order: Option<Spanned<String>>,
    id_authority: Option<Spanned<String>>,
    id_date: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    name: Spanned<String>,
    title: Option<Spanned<String>>,
    description: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(default)]
    feeds: Vec<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    rule_tags: Vec<Spanned<String>>,
    #[serde(default)]
    marks: Vec<Spanned<String>>,
    limit: Option<Spanned<i64>>,
    order: Option<Spanned<String>>,
}

impl RawServer {
    /// Whether `base_url` is written (rather than guessed from `listen`).
    pub(super) fn base_url_set(&self) -> bool {
        self.base_url.is_some()
    }
}

/// Validates the three sections against the feeds already read.
pub(super) fn from_raw(
    server: Option<RawServer>,
    river: Option<RawRiver>,
    outputs: Vec<RawOutput>,
    feeds: &[FeedConfig],
    rules: &[std::sync::Arc<crate::rules::Rule>],
    at: &Locator<'_>,
) -> Result<(ServerConfig, PublishConfig), ConfigError> {
    let server = server.unwrap_or(RawServer {
        enabled: None,
        listen: None,
        base_url: None,
        out_dir: None,
    });
    let listen = match &server.listen {
        Some(v) => v.get_ref().trim().parse().map_err(|_| {
            at.error(
                v.span(),
                &format!(
                    "listen must be an IP address and port such as \"127.0.0.1:8080\" or \"[::]:8080\", not `{}`",
                    v.get_ref()
                ),
            )
        })?,
        None => DEFAULT_LISTEN.parse().expect("the default listen address parses"),
    };
    // Where errors about the public URL point when it was left to default.
    let url_span = server
        .base_url
        .as_ref()
        .or(server.listen.as_ref())
        .map_or(0..0, Spanned::span);
    let server = ServerConfig {
        enabled: server.enabled.unwrap_or(true),
        listen,
        base_url: base_url(at, server.base_url.as_ref(), listen, &url_span)?,
        out_dir: match &server.out_dir {
            Some(p) if p.get_ref().trim().is_empty() => {
                return Err(at.error(p.span(), "out_dir is empty"))
            }
            Some(p) => Some(lexical_clean(&at.base_dir().join(p.get_ref().trim()))),
            None => None,
        },
    };

    let river = river.unwrap_or(RawRiver {
        title: None,
        description: None,
        limit: None,
        order: None,
        id_authority: None,
        id_date: None,
    });
    let ids = ids(at, &river, &server, url_span)?;
    let mut all = vec![OutputConfig {
        name: DEFAULT_OUTPUT.to_owned(),
        title: text(&river.title).unwrap_or_else(|| DEFAULT_TITLE.to_owned()),
        description: text(&river.description).unwrap_or_else(|| DEFAULT_DESCRIPTION.to_owned()),
        feeds: vec![],
        tags: vec![],
        include: vec![],
        exclude: vec![],
        rule_tags: vec![],
        marks: vec![],
        limit: limit(at, &river.limit)?,
        order: order(at, &river.order)?,
    }];
    let mut names: HashMap<String, usize> = HashMap::new();
    for raw in outputs {
        let output = output(at, raw, feeds, rules, &mut names)?;
        all.push(output);
    }
    Ok((server, PublishConfig { ids, outputs: all }))
}

fn base_url(
    at: &Locator<'_>,
    raw: Option<&Spanned<String>>,
    listen: SocketAddr,
    listen_span: &std::ops::Range<usize>,
) -> Result<Url, ConfigError> {
    let Some(raw) = raw else {
        if listen.ip().is_unspecified() {
            return Err(at.error(
                listen_span.clone(),
                &format!("[server] listen = \"{listen}\" accepts every interface, so Tributary cannot guess its public URL: set [server] base_url"),
            ));
        }
        return Ok(Url::parse(&format!("http://{listen}/")).expect("an address makes a URL"));
    };
    let bad = |why: &str| at.error(raw.span(), why);
    let mut url = Url::parse(raw.get_ref().trim())
        .map_err(|e| bad(&format!("invalid base_url `{}`: {e}", raw.get_ref())))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("base_url must be an http or https URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad(
            "base_url may not hold a query, a fragment or credentials",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn ids(
    at: &Locator<'_>,
    river: &RawRiver,
    server: &ServerConfig,
    url_span: std::ops::Range<usize>,
) -> Result<TagUri, ConfigError> {
    let date = river
        .id_date
        .as_ref()
        .map_or(DEFAULT_ID_DATE, |d| d.get_ref().as_str());
    let (authority, span) = match &river.id_authority {
        Some(a) => (a.get_ref().clone(), a.span()),
        None => (
            server.base_url.host_str().unwrap_or_default().to_owned(),
            url_span,
        ),
    };
    TagUri::new(&authority, date).map_err(|e| {
        let date_error = matches!(e, crate::syndication::InvalidTag::Date(_));
        let span = match &river.id_date {
            Some(d) if date_error => d.span(),
            _ => span,
        };
        let hint = if river.id_authority.is_none() && !date_error {
            " (it comes from base_url's host; set [river] id_authority to a domain you own)"
        } else {
            ""
        };
        at.error(span, &format!("item ids: {e}{hint}"))
    })
}

fn output(
    at: &Locator<'_>,
    raw: RawOutput,
    feeds: &[FeedConfig],
    rules: &[std::sync::Arc<crate::rules::Rule>],
    names: &mut HashMap<String, usize>,
) -> Result<OutputConfig, ConfigError> {
    let name = raw.name.get_ref().trim().to_owned();
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(at.error(
            raw.name.span(),
            &format!("output name `{name}` must be 1 to 64 ASCII letters, digits, `-` or `_` (it becomes part of URLs and file names)"),
        ));
    }
    if name == DEFAULT_OUTPUT {
        return Err(at.error(
            raw.name.span(),
            "the output `all` always exists (every feed); set its title and description in [river]",
        ));
    }
    if let Some(offset) = names.get(&name) {
        let (line, _) = at.line_col(*offset);
        return Err(at.error(
            raw.name.span(),
            &format!("duplicate output name `{name}` (first used on line {line})"),
        ));
    }
    names.insert(name.clone(), raw.name.span().start);
    let mut selected_feeds = Vec::new();
    for f in &raw.feeds {
        let feed = f.get_ref().trim();
        if !feeds.iter().any(|c| c.name == feed) {
            return Err(at.error(f.span(), &format!("no feed named `{feed}`")));
        }
        selected_feeds.push(feed.to_owned());
    }
    let mut tags = Vec::new();
    for t in &raw.tags {
        let tag = t.get_ref().trim().to_lowercase();
        if !feeds.iter().any(|c| c.tags.contains(&tag)) {
            return Err(at.error(t.span(), &format!("no feed has the tag `{tag}`")));
        }
        tags.push(tag);
    }
    Ok(OutputConfig {
        title: text(&raw.title).unwrap_or_else(|| name.clone()),
        description: text(&raw.description).unwrap_or_default(),
        name,
        feeds: selected_feeds,
        tags,
        include: patterns(at, &raw.include)?,
        exclude: patterns(at, &raw.exclude)?,
        rule_tags: super::rules::added(at, &raw.rule_tags, rules, false)?,
        marks: super::rules::added(at, &raw.marks, rules, true)?,
        limit: limit(at, &raw.limit)?,
        order: order(at, &raw.order)?,
    })
}

fn text(v: &Option<Spanned<String>>) -> Option<String> {
    v.as_ref().map(|s| s.get_ref().trim().to_owned())
}

fn limit(at: &Locator<'_>, v: &Option<Spanned<i64>>) -> Result<usize, ConfigError> {
    v.as_ref()
        .map_or(Ok(DEFAULT_LIMIT), |n| count(at, n, 1, MAX_LIMIT as i64))
}

fn order(at: &Locator<'_>, v: &Option<Spanned<String>>) -> Result<OutputOrder, ConfigError> {
    match v.as_ref().map(|o| (o.get_ref().trim(), o.span())) {
        None | Some(("first_seen", _)) => Ok(OutputOrder::FirstSeen),
        Some(("published", _)) => Ok(OutputOrder::Published),
        Some((other, span)) => Err(at.error(
            span,
            &format!("order must be \"first_seen\" or \"published\", not `{other}`"),
        )),
    }
}

fn patterns(at: &Locator<'_>, raw: &[Spanned<String>]) -> Result<Vec<Regex>, ConfigError> {
    raw.iter()
        .map(|p| {
            Regex::new(p.get_ref()).map_err(|e| {
                let why = match e {
                    regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().to_owned(),
                    other => other.to_string(),
                };
                at.error(
                    p.span(),
                    &format!(
                        "invalid regular expression `{}`: {}",
                        p.get_ref(),
                        why.trim()
                    ),
                )
            })
        })
        .collect()
}

impl fmt::Display for ServerConfig {
    /// The server's settings, as `tributary check` prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "server:      {} (public URL {})",
            self.listen, self.base_url
        )?;
        if let Some(dir) = &self.out_dir {
            writeln!(f, "static:      {}", dir.display())?;
        }
        Ok(())
    }
}

impl fmt::Display for PublishConfig {
    /// The outputs, as `tributary check` prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "outputs:     {}", self.outputs.len())?;
        for o in &self.outputs {
            let mut what: Vec<String> = Vec::new();
            if !o.feeds.is_empty() {
                what.push(format!("feeds {}", o.feeds.join(", ")));
            }
            if !o.tags.is_empty() {
                what.push(format!("tags {}", o.tags.join(", ")));
            }
            if what.is_empty() {
                what.push("every feed".into());
            }
            if !o.rule_tags.is_empty() {
                what.push(format!("tagged {}", o.rule_tags.join(", ")));
            }
            if !o.marks.is_empty() {
                what.push(format!("marked {}", o.marks.join(", ")));
            }
            if o.has_filter() {
                what.push(format!(
                    "{} include, {} exclude patterns",
                    o.include.len(),
                    o.exclude.len()
                ));
            }
            writeln!(
                f,
                "  {:<24} {}; {} items by {}",
                o.name,
                what.join("; "),
                o.limit,
                o.order.as_str()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
