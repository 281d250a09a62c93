//! One `[[feeds]]` table: its raw shape and its validation into a
//! [`FeedConfig`]. Each table is deserialized and checked on its own (see
//! `tables`), so a config of many feeds never holds them all raw at once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::values::{duration, feed_url, non_empty, size, Locator};
use super::{full_text, polling, ConfigError, FeedConfig, FeedHttp, FullTextConfig, Secret, Size};

/// One `[[feeds]]` table read on its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OneFeed {
    pub(super) feeds: Vec<RawFeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFeed {
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

/// One `[[feeds]]` table, validated; `names` holds the names so far, each
/// with where it was first used, and `plain` is the HTTP settings that
/// feeds without any of their own share.
pub(super) fn feed(
    at: &Locator<'_>,
    f: RawFeed,
    names: &mut HashMap<String, usize>,
    base: &Path,
    full_text: &FullTextConfig,
    plain: &Arc<FeedHttp>,
) -> Result<FeedConfig, ConfigError> {
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
    if let Some(&first) = names.get(&name) {
        let (line, _) = at.file_line_col(first);
        return Err(at.error(
            f.name.span(),
            &format!("duplicate feed name `{name}` (first used on line {line})"),
        ));
    }
    names.insert(name.clone(), at.file_offset(f.name.span().start));
    let url = feed_url(at, &f.url, base)?;
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
    Ok(FeedConfig {
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
            .map(|s| polling::cron(at, s).map(Box::new))
            .transpose()?,
        http: match feed_http(at, &f, base)? {
            http if http == **plain => Arc::clone(plain),
            http => Arc::new(http),
        },
        rules: Vec::new(),
        full_text: recipe.map(Box::new),
    })
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
    http.headers = polling::headers(at, &f.headers, base)?;
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
