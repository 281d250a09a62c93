//! The leniency everyday feed readers have, applied to the decoded text
//! before feed-rs reads it: `<rss>` without (or with an unknown) `version`
//! read as RSS 2.0, RSS 0.90 and 1.0 and Atom 0.3 recognised by their
//! namespaces, Atom text constructs with a MIME-style `type` mapped to the
//! three types Atom defines, base64 text decoded, `dc:title` standing in
//! for a missing title; and, after parsing, FeedBurner's `origLink` kept.
//! An HTML page or an empty body is refused here with a clear error.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::{ParseError, RawEntry};

static ROOT: LazyLock<Regex> = LazyLock::new(|| {
    // The first element tag after the prolog (declaration, comments, doctype).
    Regex::new(r#"(?s)^(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)([^>]*)>"#)
        .expect("valid regex")
});
static VERSION_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bversion\s*=\s*["']([^"']*)["']"#).expect("valid regex"));
const RSS090_NS: &str = "http://my.netscape.com/rdf/simple/0.9/";
const RSS10_NS: &str = "http://purl.org/rss/1.0/";
const ATOM03_NS: &str = "http://purl.org/atom/ns#";
const ATOM10_NS: &str = "http://www.w3.org/2005/Atom";
/// Atom 0.3 element names that Atom 1.0 renamed.
static ATOM03_ELEMENTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<(/?)([A-Za-z_][\w.\-]*:)?(modified|issued|tagline|copyright)\b")
        .expect("valid regex")
});
static TEXT_TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<((?:[A-Za-z_][\w.\-]*:)?(?:title|subtitle|summary|rights|tagline|copyright|info|content))(\s[^>]*?\btype\s*=[^>]*)>"#)
        .expect("valid regex")
});
static TYPE_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\btype\s*=\s*(["'])([^"']*)["']"#).expect("valid regex"));
static SRC_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bsrc\s*="#).expect("valid regex"));
static BASE64_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<((?:[A-Za-z_][\w.\-]*:)?(?:title|subtitle|summary|content|tagline|info|copyright))(\s[^>]*\bmode\s*=\s*["']base64["'][^>]*)>([^<]*)</"#)
        .expect("valid regex")
});
static MODE_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\s*\bmode\s*=\s*["']base64["']"#).expect("valid regex"));
static DEFAULT_NS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bxmlns\s*=\s*["']([^"']*)["']"#).expect("valid regex"));
static CHANNEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<(?:[A-Za-z_][\w.\-]*:)?channel\b").expect("valid regex"));
static DC_TITLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<dc:title\b[^>]*>([^<]*)</dc:title>").expect("valid regex"));

pub(super) fn lenient_xml(doc: &str) -> Result<Cow<'_, str>, ParseError> {
    let Some(root) = ROOT.captures(doc) else {
        return Err(ParseError::Malformed {
            format: "XML",
            message: "no root element found".into(),
        });
    };
    let name = root.get(2).map_or("", |m| m.as_str());
    let attrs = root.get(3).expect("group 3 always matches");
    let mut doc = Cow::Borrowed(doc);
    match name.to_ascii_lowercase().as_str() {
        "html" => return Err(ParseError::HtmlPage),
        "rss" => {
            let version = VERSION_ATTR
                .captures(attrs.as_str())
                .map(|c| c[1].trim().to_string());
            let fixed_attrs = match version.as_deref() {
                Some("2.0" | "0.91" | "0.92") => None,
                Some(_) => Some(
                    VERSION_ATTR
                        .replace(attrs.as_str(), r#"version="2.0""#)
                        .into_owned(),
                ),
                None => Some(format!(r#" version="2.0"{}"#, attrs.as_str())),
            };
            // Items straight under <rss>, or no channel at all: wrap them.
            let needs_channel = !CHANNEL.is_match(&doc[attrs.end()..]);
            if fixed_attrs.is_some() || needs_channel {
                let tag_end = attrs.end() + 1; // past '>'
                let mut s = String::with_capacity(doc.len() + 40);
                s.push_str(&doc[..attrs.start()]);
                s.push_str(fixed_attrs.as_deref().unwrap_or(attrs.as_str()));
                let self_closing = attrs.as_str().ends_with('/');
                if needs_channel && !self_closing {
                    s.push('>');
                    s.push_str("<channel>");
                    let rest = &doc[tag_end..];
                    match rest.rfind("</rss") {
                        Some(close) => {
                            s.push_str(&rest[..close]);
                            s.push_str("</channel>");
                            s.push_str(&rest[close..]);
                        }
                        None => s.push_str(rest),
                    }
                } else {
                    s.push_str(&doc[attrs.end()..]);
                }
                doc = Cow::Owned(s);
            }
        }
        "rdf" if doc.contains(RSS090_NS) => {
            doc = Cow::Owned(doc.replace(RSS090_NS, RSS10_NS));
        }
        "feed" if doc.contains(ATOM03_NS) || is_foreign_atom03(attrs.as_str()) => {
            let root_attrs = attrs.as_str();
            if let Some(ns) = DEFAULT_NS.captures(root_attrs).map(|c| c[1].to_string()) {
                if ns != ATOM10_NS && ns != ATOM03_NS {
                    let fixed_root = root_attrs.replacen(&ns, ATOM10_NS, 1);
                    doc = Cow::Owned(format!(
                        "{}{}{}",
                        &doc[..attrs.start()],
                        fixed_root,
                        &doc[attrs.end()..]
                    ));
                }
            }
            let renamed = ATOM03_ELEMENTS.replace_all(&doc, |c: &regex::Captures<'_>| {
                let new = match &c[3] {
                    "modified" => "updated",
                    "issued" => "published",
                    "tagline" => "subtitle",
                    "copyright" => "rights",
                    other => other,
                };
                format!("<{}{}{new}", &c[1], c.get(2).map_or("", |m| m.as_str()))
            });
            let mut fixed = renamed.replace(ATOM03_NS, ATOM10_NS);
            if BASE64_TEXT.is_match(&fixed) {
                fixed = decode_base64_text(&fixed).into_owned();
            }
            if TEXT_TYPE.is_match(&fixed) {
                fixed = fix_text_types(&fixed).into_owned();
            }
            doc = Cow::Owned(fixed);
        }
        "feed" if TEXT_TYPE.is_match(&doc) => {
            doc = Cow::Owned(fix_text_types(&doc).into_owned());
        }
        _ => {}
    }
    Ok(doc)
}

/// Maps MIME-style `type` values of Atom text constructs to the three
/// types Atom defines.
fn fix_text_types(doc: &str) -> Cow<'_, str> {
    TEXT_TYPE.replace_all(doc, |c: &regex::Captures<'_>| {
        let (name, attrs) = (&c[1], &c[2]);
        // Out-of-line content keeps its MIME type: it names the linked file.
        if name.ends_with("content") && SRC_ATTR.is_match(attrs) {
            return format!("<{name}{attrs}>");
        }
        let attrs = TYPE_ATTR.replace(attrs, |t: &regex::Captures<'_>| {
            let v = t[2].trim().to_ascii_lowercase();
            let atom_type = match v.as_str() {
                "text" | "html" | "xhtml" | "text/html" => v.as_str(),
                "application/xhtml+xml" => "xhtml",
                _ if v.contains("html") => "html",
                _ => "text",
            };
            format!("type={q}{atom_type}{q}", q = &t[1])
        });
        format!("<{name}{attrs}>")
    })
}

/// Atom 0.3 text constructs with `mode="base64"`: decoded in place (as
/// escaped text), since Atom 1.0 and feed-rs have no such mode.
fn decode_base64_text(doc: &str) -> Cow<'_, str> {
    use base64::Engine as _;
    BASE64_TEXT.replace_all(doc, |c: &regex::Captures<'_>| {
        let compact: String = c[3].chars().filter(|ch| !ch.is_whitespace()).collect();
        match base64::engine::general_purpose::STANDARD.decode(compact) {
            Ok(bytes) => {
                let attrs = MODE_ATTR.replace(&c[2], "");
                let text = String::from_utf8_lossy(&bytes);
                format!(
                    "<{}{attrs}>{}</{}>",
                    &c[1],
                    html_escape::encode_text(&text),
                    &c[1]
                )
            }
            Err(_) => c[0].to_string(),
        }
    })
}

/// An Atom 0.3 root (`version="0.3"`) whose default namespace is neither
/// Atom's: early implementations used their own URIs.
fn is_foreign_atom03(root_attrs: &str) -> bool {
    VERSION_ATTR
        .captures(root_attrs)
        .is_some_and(|c| c[1].trim() == "0.3")
        && DEFAULT_NS
            .captures(root_attrs)
            .is_some_and(|c| &c[1] != ATOM10_NS)
}

static ITEM_BLOCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<(?:\w+:)?(?:item|entry)\b.*?</(?:\w+:)?(?:item|entry)>").expect("valid regex")
});
static ORIG_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<feedburner:origLink>\s*([^<\s]+)\s*</feedburner:origLink>").expect("valid regex")
});

/// FeedBurner wraps links in its own redirector and keeps the real one in
/// `feedburner:origLink`, which feed-rs does not read. Items are matched by
/// position, and only when the document's items and the parsed entries
/// line up one to one.
pub(super) fn add_orig_links(doc: &str, entries: &mut [RawEntry]) {
    let blocks: Vec<&str> = ITEM_BLOCK.find_iter(doc).map(|m| m.as_str()).collect();
    if blocks.len() != entries.len() {
        return;
    }
    for (block, entry) in blocks.iter().zip(entries.iter_mut()) {
        if let Some(c) = ORIG_LINK.captures(block) {
            entry.canonical_link = Some(html_escape::decode_html_entities(&c[1]).into_owned());
        }
    }
}

/// The Dublin Core title in the channel head, for a document whose
/// `<title>` is missing.
pub(super) fn dc_title(doc: &str) -> Option<String> {
    let head = &doc[..doc.find("<item").unwrap_or(doc.len())];
    DC_TITLE
        .captures(head)
        .map(|c| c[1].trim().to_string())
        .filter(|t| !t.is_empty())
}
