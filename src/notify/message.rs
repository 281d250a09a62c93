//! One message for a target out of a batch of pending notifications
//! (pure): the JSON Feed document (webhook, command), a template's body
//! (webhook), or an ntfy message (title, text and headers).
//!
//! Every item of the JSON Feed document carries `_tributary.notify` with
//! its `key` (the idempotency key, the same on every attempt), its `kind`
//! (`article` or `health`), and `story_feeds` or the health `event`; the
//! document's own `_tributary.notify` names the `target`, the message's
//! `key` and the item `count`.

use std::fmt::Write as _;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::HealthEvent;
use crate::config::{NotifyConfig, NotifyKind};
use crate::store::OutputStory;
use crate::syndication::{self, Channel, Format, Item, Source, TagUri};

/// Most bytes of an ntfy message's text (ntfy turns longer ones into an
/// attachment).
pub const NTFY_MAX_TEXT: usize = 3_900;
/// Most characters of an article's text quoted in a short message.
const SUMMARY_CHARS: usize = 280;

/// What a notification announces.
#[derive(Debug, Clone)]
pub enum Subject {
    /// An article (the lead of its story), and how many feeds carry its
    /// story when the target asked for a story size.
    Article {
        /// The article's story as outputs show it.
        story: Box<OutputStory>,
        /// Feeds carrying the story, for story-size targets.
        story_feeds: Option<i64>,
    },
    /// A feed-health event.
    Health(HealthEvent),
    /// The test message of `tributary notify test` in an empty store.
    Test,
}

/// One pending notification, ready to be put in a message.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Its idempotency key.
    pub key: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// What it announces.
    pub subject: Subject,
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The request body, or a command's standard input.
    pub body: Vec<u8>,
    /// Its media type.
    pub content_type: String,
    /// Headers besides the target's own (`Idempotency-Key`, ntfy's).
    pub headers: Vec<(String, String)>,
    /// The message's key: the item's key for one item, else one made of
    /// every item's key.
    pub key: String,
    /// Items in it.
    pub count: usize,
}

/// The message announcing `notices` (at least one) to `target`.
pub fn build(target: &NotifyConfig, notices: &[Notice], ids: &TagUri) -> Message {
    let key = match notices {
        [one] => one.key.clone(),
        many => super::key(
            &target.name,
            &many
                .iter()
                .map(|n| n.key.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
    };
    let items: Vec<Item> = notices.iter().map(|n| item(n, ids)).collect();
    let mut headers = vec![("Idempotency-Key".to_string(), key.clone())];
    let (body, content_type) = match &target.kind {
        NotifyKind::Ntfy { priority, .. } => {
            headers.extend(ntfy_headers(&items, notices, *priority));
            (
                ntfy_text(&items).into_bytes(),
                "text/plain; charset=utf-8".into(),
            )
        }
        NotifyKind::Webhook {
            template: Some(t),
            content_type,
            ..
        } => (
            render_template(t, content_type.contains("json"), target, &items, &key).into_bytes(),
            content_type.clone(),
        ),
        NotifyKind::Webhook { content_type, .. } => (
            json_feed(target, notices, items, ids, &key),
            content_type.clone(),
        ),
        NotifyKind::Command { .. } => (
            json_feed(target, notices, items, ids, &key),
            "application/feed+json".into(),
        ),
    };
    Message {
        body,
        content_type,
        headers,
        key,
        count: notices.len(),
    }
}

fn item(n: &Notice, ids: &TagUri) -> Item {
    match &n.subject {
        Subject::Article { story, .. } => crate::output::item::item(ids, story),
        Subject::Test => Item {
            id: format!("urn:tributary:notify:{}", n.key),
            title: "Tributary test notification".into(),
            title_derived: false,
            language: None,
            url: None,
            content_html: None,
            summary_text: Some("Sent by `tributary notify test`: this target works.".into()),
            published: n.created_at,
            updated: n.created_at,
            authors: Vec::new(),
            categories: Vec::new(),
            enclosures: Vec::new(),
            source: Source::default(),
            also_in: Vec::new(),
        },
        Subject::Health(e) => {
            let (feed, url) = match e {
                HealthEvent::Failing { feed, .. } => (feed, None),
                HealthEvent::Moved { feed, to } => (feed, Some(to.clone())),
                HealthEvent::Gone { feed, url } => (feed, Some(url.clone())),
            };
            let detail = match e {
                HealthEvent::Failing { since, error, .. } => format!(
                    "No successful fetch since {}. Last error: {}. `tributary doctor {feed}` says more.",
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    error.as_deref().unwrap_or("none recorded")
                ),
                HealthEvent::Moved { to, .. } => format!(
                    "The feed answered with a permanent redirect to {to} several times in a row; it is polled there now. Update its url in the config."
                ),
                HealthEvent::Gone { .. } => "The server answered 410 Gone: the feed is no longer polled. Remove it from the config, or change its url.".to_string(),
            };
            Item {
                id: format!("urn:tributary:notify:{}", n.key),
                title: e.title(n.created_at),
                title_derived: false,
                language: None,
                url,
                content_html: None,
                summary_text: Some(detail),
                published: n.created_at,
                updated: n.created_at,
                authors: Vec::new(),
                categories: vec!["feed-health".into()],
                enclosures: Vec::new(),
                source: Source {
                    feed_name: feed.clone(),
                    title: feed.clone(),
                    ..Source::default()
                },
                also_in: Vec::new(),
            }
        }
    }
}

/// The JSON Feed document, with each notice's key and kind added.
fn json_feed(
    target: &NotifyConfig,
    notices: &[Notice],
    items: Vec<Item>,
    ids: &TagUri,
    key: &str,
) -> Vec<u8> {
    let channel = Channel {
        id: ids.channel(&format!("notify/{}", target.name)),
        title: format!("Tributary notifications: {}", target.name),
        description: String::new(),
        language: None,
        home_page_url: None,
        feed_urls: Default::default(),
        hubs: Vec::new(),
        updated: notices
            .iter()
            .map(|n| n.created_at)
            .max()
            .unwrap_or_default(),
        generator: Default::default(),
        items,
    };
    let doc = syndication::render(&channel, Format::JsonFeed);
    let Ok(mut v) = serde_json::from_slice::<Value>(&doc) else {
        return doc;
    };
    if let Some(list) = v.get_mut("items").and_then(Value::as_array_mut) {
        for (item, n) in list.iter_mut().zip(notices) {
            let mut note = json!({ "key": n.key });
            match &n.subject {
                Subject::Article { story_feeds, .. } => {
                    note["kind"] = json!("article");
                    if let Some(s) = story_feeds {
                        note["story_feeds"] = json!(s);
                    }
                }
                Subject::Health(e) => {
                    note["kind"] = json!("health");
                    note["event"] = serde_json::to_value(e).unwrap_or_default();
                }
                Subject::Test => note["kind"] = json!("test"),
            }
            if let Some(obj) = item.as_object_mut() {
                let ext = obj.entry("_tributary").or_insert_with(|| json!({}));
                if let Some(ext) = ext.as_object_mut() {
                    ext.insert("notify".into(), note);
                }
            }
        }
    }
    v["_tributary"] = json!({
        "notify": { "target": target.name, "key": key, "count": notices.len() }
    });
    let mut out = serde_json::to_vec_pretty(&v).unwrap_or(doc);
    out.push(b'\n');
    out
}

fn summary(item: &Item) -> String {
    let text = match (&item.summary_text, &item.content_html) {
        (Some(s), _) => s.clone(),
        (None, Some(html)) => crate::clean::html_to_text(html),
        (None, None) => String::new(),
    };
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(SUMMARY_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

fn ntfy_text(items: &[Item]) -> String {
    let mut out = String::new();
    if let [one] = items {
        out = summary(one);
        if let Some(url) = &one.url {
            let _ = write!(out, "{}{url}", if out.is_empty() { "" } else { "\n" });
        }
    } else {
        for (i, item) in items.iter().enumerate() {
            let mut line = format!("• {} ({})", item.shown_title(), item.source.display_name());
            if let Some(url) = &item.url {
                let _ = write!(line, "\n  {url}");
            }
            if out.len() + line.len() + 1 > NTFY_MAX_TEXT {
                let _ = write!(out, "\n… and {} more", items.len() - i);
                break;
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&line);
        }
    }
    truncate(&mut out, NTFY_MAX_TEXT);
    out
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}

fn ntfy_headers(items: &[Item], notices: &[Notice], priority: Option<u8>) -> Vec<(String, String)> {
    let health = notices
        .iter()
        .all(|n| matches!(n.subject, Subject::Health(_)));
    let title = match items {
        [one] => one.shown_title().into_owned(),
        many if health => format!("{} feed-health events", many.len()),
        many => format!("{} new articles", many.len()),
    };
    let mut h = vec![("Title".to_string(), header_text(&title))];
    let mut tags: Vec<String> = Vec::new();
    if notices
        .iter()
        .any(|n| matches!(n.subject, Subject::Health(_)))
    {
        tags.push("warning".into());
    }
    for item in items {
        let name = item.source.feed_name.clone();
        if !name.is_empty() && !tags.contains(&name) && tags.len() < 5 {
            tags.push(name);
        }
    }
    if !tags.is_empty() {
        h.push(("Tags".into(), header_text(&tags.join(","))));
    }
    if let [Item { url: Some(url), .. }] = items {
        if url.is_ascii() {
            h.push(("Click".into(), url.clone()));
        }
    }
    if let Some(p) = priority {
        h.push(("Priority".into(), p.to_string()));
    }
    h
}

/// A header value: plain ASCII as it is, anything else as an RFC 2047
/// encoded word (which ntfy decodes); at most 250 characters, one line.
pub fn header_text(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(250)
        .collect();
    if one_line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        one_line
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(one_line.as_bytes())
        )
    }
}

/// A webhook template with its placeholders filled: `{{title}}`,
/// `{{url}}`, `{{feed}}` and `{{summary}}` of the first item, `{{list}}`
/// (every item, one `title url` line each), `{{count}}`, `{{key}}` and
/// `{{target}}`. In a JSON body (`json`) the values are escaped as JSON
/// string contents, so `"{{title}}"` stays valid JSON.
pub fn render_template(
    template: &str,
    json: bool,
    target: &NotifyConfig,
    items: &[Item],
    key: &str,
) -> String {
    let first = items.first();
    let list = items
        .iter()
        .map(|i| match &i.url {
            Some(u) => format!("{} {u}", i.shown_title()),
            None => i.shown_title().into_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let values = [
        ("title", first.map(|i| i.shown_title().into_owned())),
        ("url", first.and_then(|i| i.url.clone())),
        ("feed", first.map(|i| i.source.display_name().to_string())),
        ("summary", first.map(summary)),
        ("list", Some(list)),
        ("count", Some(items.len().to_string())),
        ("key", Some(key.to_string())),
        ("target", Some(target.name.clone())),
    ];
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = after[..end].trim();
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                let v = v.clone().unwrap_or_default();
                if json {
                    let quoted = serde_json::to_string(&v).unwrap_or_default();
                    out.push_str(&quoted[1..quoted.len() - 1]);
                } else {
                    out.push_str(&v);
                }
            }
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}
