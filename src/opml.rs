//! OPML 2.0 subscription lists: reading one ([`parse`]) and writing one
//! ([`render`]). Pure: bytes or values in, values or text out.
//!
//! # Reading
//! Every `<outline>` inside `<body>` with an `xmlUrl` is a feed; outlines
//! without one are folders, and the folders a feed sits in become its tags
//! (their `text`, else `title`, lower-cased), followed by the entries of its
//! own `category` attribute (comma-separated; an entry starting with `/`
//! is a path whose parts are tags). Attribute names are matched without
//! regard to case (`xmlurl` is common). The document is decoded like a feed
//! (byte-order mark, XML declaration, else UTF-8 or Windows-1252), and
//! entities XML does not define (`&nbsp;`, a bare `&`) are read the way a
//! browser would rather than refusing the list. Broken XML is refused with
//! its line and column; a document whose root is not `<opml>`, or that has
//! no `<body>`, is refused as not a subscription list.
//!
//! # Writing
//! One `<outline type="rss">` per feed, `text` = the feed's name (so that
//! reading the list back gives the same names), `title` = its title when
//! known, `category` = all its tags, grouped in folder outlines by their
//! first tag (untagged feeds last, at the top level). Everything is
//! XML-escaped and stripped of characters XML forbids; the output depends
//! only on the input, `now` included.

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Reader;

use crate::config::FeedConfig;

/// A feed as a subscription list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// `xmlUrl`, as written (trimmed).
    pub xml_url: String,
    /// `text`, when present and not blank.
    pub text: Option<String>,
    /// `title`, when present and not blank.
    pub title: Option<String>,
    /// `htmlUrl`, when present and not blank.
    pub html_url: Option<String>,
    /// Folder names and categories, lower-case, without duplicates.
    pub tags: Vec<String>,
}

/// A parsed subscription list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opml {
    /// `head/title`.
    pub title: Option<String>,
    /// The feeds, in document order.
    pub feeds: Vec<Outline>,
}

/// Why a document is not a usable subscription list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpmlError {
    /// Broken XML.
    #[error("malformed XML at line {line}, column {column}: {message}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What the XML reader said.
        message: String,
    },
    /// Well-formed, but not OPML.
    #[error("not an OPML subscription list: {0}")]
    NotOpml(String),
}

/// A feed to write into a subscription list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The feed's name (written as `text`).
    pub name: String,
    /// Its URL (`xmlUrl`).
    pub url: String,
    /// Its tags; the first one is its folder.
    pub tags: Vec<String>,
    /// Its title, when known (`title`; else the name).
    pub title: Option<String>,
    /// Its web site, when known (`htmlUrl`).
    pub site_url: Option<String>,
}

impl From<&FeedConfig> for Subscription {
    fn from(f: &FeedConfig) -> Subscription {
        Subscription {
            name: f.name.clone(),
            url: f.url.to_string(),
            tags: f.tags.clone(),
            title: None,
            site_url: None,
        }
    }
}

/// Reads a subscription list.
pub fn parse(bytes: &[u8]) -> Result<Opml, OpmlError> {
    let text = crate::parse::decode(bytes, None);
    let mut reader = Reader::from_str(&text);
    let malformed = |reader: &Reader<&[u8]>, message: String| {
        let (line, column) = line_col(&text, reader.error_position() as usize);
        OpmlError::Malformed {
            line,
            column,
            message,
        }
    };
    let mut out = Opml {
        title: None,
        feeds: Vec::new(),
    };
    let mut root_seen = false;
    let (mut in_body, mut body_seen, mut in_head_title) = (false, false, false);
    // One entry per open outline: the folder name it adds, if any.
    let mut folders: Vec<Option<String>> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(&reader, e.to_string()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().into_inner().to_ascii_lowercase();
                if !root_seen {
                    root_seen = true;
                    if name != "opml" {
                        return Err(OpmlError::NotOpml(format!(
                            "the root element is <{name}>, not <opml>"
                        )));
                    }
                    continue;
                }
                match name.as_str() {
                    "body" if !empty => {
                        in_body = true;
                        body_seen = true;
                    }
                    "body" => body_seen = true,
                    "title" if !in_body && !empty => in_head_title = true,
                    "outline" if in_body => {
                        let attrs = attributes(e);
                        let get = |n: &str| {
                            attrs
                                .iter()
                                .find(|(k, _)| k == n)
                                .map(|(_, v)| v.trim().to_string())
                                .filter(|v| !v.is_empty())
                        };
                        let (text_attr, title) = (get("text"), get("title"));
                        let folder = match get("xmlurl") {
                            Some(xml_url) => {
                                let mut tags: Vec<String> = Vec::new();
                                let from_folders = folders.iter().flatten().cloned();
                                let from_category =
                                    get("category").into_iter().flat_map(|c| categories(&c));
                                for t in from_folders.chain(from_category) {
                                    if !tags.contains(&t) {
                                        tags.push(t);
                                    }
                                }
                                out.feeds.push(Outline {
                                    xml_url,
                                    text: text_attr,
                                    title,
                                    html_url: get("htmlurl"),
                                    tags,
                                });
                                None
                            }
                            None => text_attr.or(title).map(|f| f.to_lowercase()),
                        };
                        if !empty {
                            folders.push(folder);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => match e.local_name().into_inner().to_ascii_lowercase().as_str() {
                "body" => in_body = false,
                "title" => in_head_title = false,
                "outline" if in_body => {
                    folders.pop();
                }
                _ => {}
            },
            Event::Text(ref t) if in_head_title => {
                let s: &str = t;
                let title = out.title.get_or_insert_with(String::new);
                title.push_str(&html_escape::decode_html_entities(&s));
            }
            Event::GeneralRef(ref r) if in_head_title => {
                let s = format!("&{};", &**r);
                let title = out.title.get_or_insert_with(String::new);
                title.push_str(&html_escape::decode_html_entities(&s));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(OpmlError::NotOpml("the document has no elements".into()));
    }
    if !body_seen {
        return Err(OpmlError::NotOpml("it has no <body>".into()));
    }
    out.title = out
        .title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    Ok(out)
}

/// Attribute names (lower-case) and values (entities decoded).
fn attributes(e: &BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .map(|a| {
            let key = a.key.local_name().into_inner().to_ascii_lowercase();
            let value = match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                Ok(v) => v.into_owned(),
                // Unknown entities or a bare `&`: read it as a browser would.
                Err(_) => html_escape::decode_html_entities(&a.value).into_owned(),
            };
            (key, value)
        })
        .collect()
}

/// Tags from a `category` attribute.
fn categories(attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in attr.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if let Some(path) = entry.strip_prefix('/') {
            out.extend(
                path.split('/')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_lowercase),
            );
        } else {
            out.push(entry.to_lowercase());
        }
    }
    out
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// An OPML 2.0 document listing `feeds`, created at `now`.
pub fn render(feeds: &[Subscription], now: DateTime<Utc>) -> String {
    let mut groups: Vec<(&str, Vec<&Subscription>)> = Vec::new();
    let mut untagged: Vec<&Subscription> = Vec::new();
    for f in feeds {
        match f.tags.first() {
            Some(tag) => match groups.iter_mut().find(|(t, _)| *t == tag.as_str()) {
                Some((_, list)) => list.push(f),
                None => groups.push((tag, vec![f])),
            },
            None => untagged.push(f),
        }
    }
    let mut w = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec<u8> cannot fail.
    let mut write = |e: Event<'_>| w.write_event(e).expect("writing into a Vec cannot fail");
    write(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    write(Event::Start(
        BytesStart::new("opml").with_attributes([("version", "2.0")]),
    ));
    write(Event::Start(BytesStart::new("head")));
    for (name, value) in [
        ("title", "Tributary feeds".to_string()),
        (
            "dateCreated",
            now.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        ),
        ("docs", "http://opml.org/spec2.opml".to_string()),
    ] {
        write(Event::Start(BytesStart::new(name)));
        write(Event::Text(BytesText::new(&value)));
        write(Event::End(BytesEnd::new(name)));
    }
    write(Event::End(BytesEnd::new("head")));
    write(Event::Start(BytesStart::new("body")));
    for (tag, list) in &groups {
        let tag = xml_chars(tag);
        write(Event::Start(BytesStart::new("outline").with_attributes([
            ("text", tag.as_str()),
            ("title", tag.as_str()),
        ])));
        for f in list {
            write(Event::Empty(outline(f)));
        }
        write(Event::End(BytesEnd::new("outline")));
    }
    for f in &untagged {
        write(Event::Empty(outline(f)));
    }
    write(Event::End(BytesEnd::new("body")));
    write(Event::End(BytesEnd::new("opml")));
    let mut out = String::from_utf8(w.into_inner()).expect("the writer was given only UTF-8");
    out.push('\n');
    out
}

fn outline(f: &Subscription) -> BytesStart<'static> {
    let mut e = BytesStart::new("outline");
    let name = xml_chars(&f.name);
    let title = f
        .title
        .as_deref()
        .map(xml_chars)
        .unwrap_or_else(|| name.clone());
    e.push_attribute(("type", "rss"));
    e.push_attribute(("text", name.as_str()));
    e.push_attribute(("title", title.as_str()));
    e.push_attribute(("xmlUrl", xml_chars(&f.url).as_str()));
    if let Some(site) = &f.site_url {
        e.push_attribute(("htmlUrl", xml_chars(site).as_str()));
    }
    if !f.tags.is_empty() {
        let tags: Vec<String> = f.tags.iter().map(|t| xml_chars(t)).collect();
        e.push_attribute(("category", tags.join(",").as_str()));
    }
    e
}

/// `s` without the characters XML 1.0 cannot carry.
fn xml_chars(s: &str) -> String {
    s.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(name: &str, url: &str, tags: &[&str]) -> Subscription {
        Subscription {
            name: name.into(),
            url: url.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            title: None,
            site_url: None,
        }
    }

    #[test]
    fn nested_folders_become_tags() {
        let doc = br#"<?xml version="1.0"?>
<opml version="1.0"><head><title>Mine &amp; yours</title></head><body>
  <outline type="rss" xmlUrl="https://a.example/f" title="A" category="Extra,/Boston/Weather"/>
  <outline text="Blogs" title="ignored">
    <outline xmlURL=" https://b.example/f " text="B &nbsp;x" htmlUrl="https://b.example/"/>
    <outline title="Friends"><outline xmlUrl="https://c.example/f?a=1&amp;b=2" title="C"/></outline>
  </outline>
  <outline title="empty folder"/>
</body></opml>"#;
        let o = parse(doc).unwrap();
        assert_eq!(o.title.as_deref(), Some("Mine & yours"));
        let got: Vec<(&str, Vec<&str>)> = o
            .feeds
            .iter()
            .map(|f| {
                (
                    f.xml_url.as_str(),
                    f.tags.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("https://a.example/f", vec!["extra", "boston", "weather"]),
                ("https://b.example/f", vec!["blogs"]),
                ("https://c.example/f?a=1&b=2", vec!["blogs", "friends"]),
            ]
        );
        assert_eq!(o.feeds[1].text.as_deref(), Some("B \u{a0}x"));
        assert_eq!(o.feeds[1].html_url.as_deref(), Some("https://b.example/"));
    }

    #[test]
    fn broken_and_foreign_documents_are_refused_clearly() {
        let e = parse(b"<opml>\n<body>\n<outline xmlUrl=\"x\">\n</body></opml>").unwrap_err();
        assert!(matches!(e, OpmlError::Malformed { line: 4, .. }), "{e}");
        let e = parse(b"<rss version=\"2.0\"><channel/></rss>").unwrap_err();
        assert_eq!(
            e.to_string(),
            "not an OPML subscription list: the root element is <rss>, not <opml>"
        );
        let e = parse(b"<opml version=\"2.0\"><head/></opml>").unwrap_err();
        assert_eq!(
            e.to_string(),
            "not an OPML subscription list: it has no <body>"
        );
        assert!(matches!(parse(b"").unwrap_err(), OpmlError::NotOpml(_)));
    }

    #[test]
    fn render_groups_by_first_tag_and_escapes() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let feeds = [
            sub("a", "https://a.example/f?x=1&y=\"2\"", &["news", "world"]),
            sub("b", "https://b.example/f", &[]),
            sub("c", "https://c.example/f", &["tech"]),
            sub("d<", "https://d.example/f", &["news"]),
        ];
        let xml = render(&feeds, now);
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<dateCreated>Wed, 25 Nov 2026 18:00:00 GMT</dateCreated>"),
            "{xml}"
        );
        assert!(
            xml.contains("xmlUrl=\"https://a.example/f?x=1&amp;y=&quot;2&quot;\""),
            "{xml}"
        );
        assert!(xml.contains("text=\"d&lt;\""), "{xml}");
        let news = xml.find("text=\"news\"").unwrap();
        let tech = xml.find("text=\"tech\"").unwrap();
        let b = xml.find("text=\"b\"").unwrap();
        let d = xml.find("text=\"d&lt;\"").unwrap();
        assert!(news < d && d < tech && tech < b, "{xml}");
        assert_eq!(render(&feeds, now), xml);
    }

    #[test]
    fn round_trip_keeps_urls_names_and_tags() {
        let now = Utc::now();
        let feeds = [
            sub(
                "World_News.1",
                "https://a.example/f?x=1&y=2",
                &["news", "world"],
            ),
            sub("b", "https://b.example/f", &[]),
            sub("c", "https://c.example/f", &["tech", "news"]),
        ];
        let back = parse(render(&feeds, now).as_bytes()).unwrap();
        let got: Vec<Subscription> = back
            .feeds
            .into_iter()
            .map(|o| Subscription {
                name: o.text.unwrap(),
                url: o.xml_url,
                tags: o.tags,
                title: None,
                site_url: None,
            })
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let mut want_sorted = feeds.to_vec();
        want_sorted.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(got_sorted, want_sorted);
    }
}
