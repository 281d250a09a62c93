//! A `[[notify]]` target's kind and where its messages go: the webhook's
//! URL, headers and template, the ntfy topic and token, the command.

use std::path::Path;

use toml::Spanned;
use url::Url;

use super::super::polling::{headers, resolve, Secret};
use super::super::{count, non_empty, ConfigError, Locator};
use super::{NotifyKind, RawNotify, DEFAULT_NTFY_SERVER, MAX_TEMPLATE};

pub(super) fn kind(
    at: &Locator<'_>,
    n: &RawNotify,
    base: &Path,
) -> Result<NotifyKind, ConfigError> {
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
                headers: headers(at, &n.headers, base)?,
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
            let mut headers = headers(at, &n.headers, base)?;
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
