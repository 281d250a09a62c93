//! The HTML index page (pure): plain server-rendered HTML with a little
//! inline CSS and no script.
//!
//! The page is a maud template, which escapes every value it is given for
//! its place (text or attribute): an unescaped field would have to be
//! written `PreEscaped`, which only the page's own CSS is. Characters HTML
//! forbids are dropped from what comes from a feed or the config, and
//! only absolute `http(s)` URLs become links, so
//! a hostile feed can neither inject markup nor a `javascript:` link. The
//! server adds a `Content-Security-Policy` that forbids scripts anyway.

use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::Site;
use crate::store::FeedRow;
use crate::syndication::{Format, Item};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{margin-bottom:0}h2{margin-top:2rem;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eee;vertical-align:top}\
ol{padding-left:1.5rem}li{margin:.4rem 0}.meta{color:#666;font-size:.875rem}\
.ok{color:#175e1e}.transient{color:#8a5a00}.permanent,.gone{color:#a11}code{font-size:.875rem}";

/// The index page of `site`, listing `latest` items and `feeds`.
pub fn index(site: &Site, latest: &[Item], feeds: &[(FeedRow, i64)]) -> String {
    let all = site.default_output();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (text(&all.title)) }
                @for output in site.outputs() {
                    @for format in Format::ALL {
                        link rel="alternate" type=(format.media_type())
                            title={ (text(&output.title)) " (" (format_name(format)) ")" }
                            href=(site.feed_url(&output.name, format));
                    }
                }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (text(&all.title)) }
                    @if !all.description.is_empty() {
                        p { (text(&all.description)) }
                    }
                }
                (outputs(site))
                (items(latest))
                (sources(feeds))
                footer.meta { p { "Tributary " (env!("CARGO_PKG_VERSION")) } }
            }
        }
    };
    page.into_string()
}

fn outputs(site: &Site) -> Markup {
    html! {
        section #subscribe {
            h2 { "Subscribe" }
            table {
                tr { th { "Feed" } th { "Carries" } th { "Formats" } }
                @for output in site.outputs() {
                    tr {
                        td {
                            strong { (text(&output.title)) }
                            @if !output.description.is_empty() {
                                br; span.meta { (text(&output.description)) }
                            }
                        }
                        td { (text(&carries(output).join("; "))) }
                        td {
                            @for (n, format) in Format::ALL.into_iter().enumerate() {
                                @if n > 0 { " · " }
                                a href=(site.feed_url(&output.name, format)) type=(format.media_type()) {
                                    (format_name(format))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What an output carries, in words.
fn carries(output: &crate::config::OutputConfig) -> Vec<String> {
    let mut carries = Vec::new();
    if !output.feeds.is_empty() {
        carries.push(format!("feeds {}", output.feeds.join(", ")));
    }
    if !output.tags.is_empty() {
        carries.push(format!("tags {}", output.tags.join(", ")));
    }
    if carries.is_empty() {
        carries.push("every feed".to_owned());
    }
    if output.has_filter() {
        carries.push("filtered".to_owned());
    }
    carries
}

fn items(latest: &[Item]) -> Markup {
    html! {
        section #latest {
            h2 { "Latest" }
            @if latest.is_empty() {
                p { "Nothing yet." }
            } @else {
                ol {
                    @for item in latest {
                        @let title = if item.title.trim().is_empty() { "(untitled)" } else { &item.title };
                        li {
                            @match item.url.as_deref().and_then(web_url) {
                                Some(url) => a href=(url) { (text(title)) },
                                None => (text(title)),
                            }
                            br;
                            span.meta {
                                (text(item.source.display_name())) " · " (time(item.published))
                                @if !item.also_in.is_empty() {
                                    @let names: Vec<&str> = item.also_in.iter().map(|m| m.source.display_name()).collect();
                                    " · also in " (text(&names.join(", ")))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn sources(feeds: &[(FeedRow, i64)]) -> Markup {
    html! {
        section #feeds {
            h2 { "Sources" }
            table {
                tr {
                    th { "Feed" } th { "Status" } th { "Last success" } th { "Entries" }
                    th { "Errors" } th { "Last error" }
                }
                @for (feed, entries) in feeds.iter().filter(|(f, _)| f.active) {
                    @let title = feed.title.as_deref().filter(|t| !t.trim().is_empty());
                    tr {
                        td {
                            @match (title, feed.site_url.as_deref().and_then(web_url)) {
                                (Some(t), Some(url)) => a href=(url) { (text(t)) },
                                (Some(t), None) => (text(t)),
                                (None, _) => (text(&feed.name)),
                            }
                            br; code { (text(&feed.name)) }
                        }
                        td class=(class_name(&feed.status)) { (text(&feed.status)) }
                        td {
                            @match feed.last_success_at {
                                Some(t) => (time(t)),
                                None => "never",
                            }
                        }
                        td { (entries) }
                        td { (feed.consecutive_errors) }
                        td { (error_class(&feed.status, feed.last_error.as_deref(), feed.last_http_status)) }
                    }
                }
            }
            p.meta {
                "Errors are shown by kind; " code { "tributary feeds" } " and "
                code { "tributary doctor" } " on the server tell the details."
            }
        }
    }
}

/// The kind of a feed's last error, which is all the page shows of it: the
/// error's words can name internal addresses, file paths and what a server
/// answered, and the page is public.
fn error_class(status: &str, error: Option<&str>, http: Option<u16>) -> &'static str {
    use crate::diagnosis::{classify, Kind};
    let Some(error) = error else {
        return "";
    };
    if matches!(status, "ok" | "not_modified") {
        // A note on a successful fetch (entries left out).
        return "note";
    }
    match classify(error, http) {
        Kind::Timeout => "timeout",
        Kind::Dns => "DNS error",
        Kind::Tls => "TLS error",
        Kind::Refused => "refused",
        Kind::Connect => "connection error",
        Kind::Unauthorized => "HTTP 401",
        Kind::Blocked if http == Some(403) => "HTTP 403",
        Kind::Blocked => "blocked",
        Kind::NotFound => "HTTP 404",
        Kind::Gone => "HTTP 410",
        Kind::RateLimited => "rate-limited",
        Kind::ServerError => "HTTP 5xx",
        Kind::HttpError => "HTTP 4xx",
        Kind::NotAFeed => "not a feed",
        Kind::ParseError => "parse error",
        Kind::Empty => "empty document",
        Kind::TooLarge => "too large",
        Kind::Redirects => "redirect error",
        Kind::File => "file error",
        Kind::Crash => "parser crash",
        _ => "error",
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Atom => "Atom",
        Format::Rss => "RSS",
        Format::JsonFeed => "JSON Feed",
    }
}

fn time(t: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.format("%Y-%m-%dT%H:%M:%SZ")) { (t.format("%Y-%m-%d %H:%M UTC")) }
    }
}

/// `s` without characters HTML forbids (controls other than whitespace,
/// noncharacters); the template escapes it for its place.
fn text(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            let control = c.is_control() && !matches!(c, '\t' | '\n' | '\r');
            let noncharacter = matches!(c, '\u{fdd0}'..='\u{fdef}' | '\u{fffe}' | '\u{ffff}');
            !control && !noncharacter
        })
        .collect()
}

/// `url` when it is an absolute `http(s)` URL without credentials, in its
/// normalized (percent-encoded) form; anything else is not linked.
fn web_url(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    ok.then(|| parsed.into())
}

/// A status as a CSS class name (letters only).
fn class_name(status: &str) -> String {
    status.chars().filter(char::is_ascii_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped_and_cleaned() {
        assert_eq!(text("<b>&</b>\u{1}\u{7}x\u{fffe}"), "<b>&</b>x");
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("//evil.example/"), None);
        assert_eq!(web_url("https://u:p@a.example/"), None);
        assert_eq!(
            web_url("https://a.example/a b\"c").as_deref(),
            Some("https://a.example/a%20b%22c")
        );
        assert_eq!(class_name("ok\" onclick=\"x"), "okonclickx");
    }

    #[test]
    fn errors_show_their_kind_only() {
        let cases = [
            (
                "transient",
                None,
                "timed out after 30 s connecting to 10.0.0.7:8080",
                "timeout",
            ),
            (
                "transient",
                None,
                "cannot connect to http://192.168.1.2/feed: Connection refused (os error 111)",
                "refused",
            ),
            (
                "permanent",
                Some(404),
                "HTTP 404 Not Found from http://intranet.local/x",
                "HTTP 404",
            ),
            (
                "transient",
                Some(503),
                "HTTP 503 Service Unavailable",
                "HTTP 5xx",
            ),
            (
                "permanent",
                None,
                "malformed document at line 3, column 9: feeds/x.xml",
                "parse error",
            ),
            (
                "permanent",
                None,
                "cannot read private/feed.xml: permission denied",
                "file error",
            ),
            (
                "transient",
                None,
                "something nobody foresaw at op/secret",
                "error",
            ),
            (
                "ok",
                Some(200),
                "12 entries left out (over the limit)",
                "note",
            ),
        ];
        for (status, http, error, shown) in cases {
            assert_eq!(error_class(status, Some(error), http), shown, "{error}");
        }
        assert_eq!(error_class("ok", None, Some(200)), "");
    }
}
