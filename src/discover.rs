//! Feed discovery: from a web page to the feeds it offers (pure; the
//! caller fetches).
//!
//! A page announces its feeds with `<link rel="alternate"
//! type="application/rss+xml|atom+xml|feed+json|rdf+xml" href="…">`.
//! [`links`] finds them with a small tokenizer-level scan of the HTML rather
//! than a full parser: it walks tags with their quoted attributes (so a `>`
//! or `<link` inside an attribute value or a comment, script or style is
//! not mistaken for a tag), decodes character references in attribute
//! values, and resolves `href` against `<base href>` or the page URL. Pages
//! that announce nothing often still serve a feed at a conventional place:
//! [`common_paths`] lists those to probe, in order.

use url::Url;

/// Conventional feed locations, probed in this order when a page announces
/// no feed.
pub const COMMON_PATHS: &[&str] = &[
    "/feed",
    "/rss.xml",
    "/atom.xml",
    "/feed.xml",
    "/index.xml",
    "/rss",
];

/// A feed a page announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLink {
    /// Absolute URL of the feed.
    pub url: Url,
    /// The link's `type`, lower-case (`application/rss+xml`, …).
    pub media_type: String,
    /// The link's `title`, when it has one.
    pub title: Option<String>,
}

/// Media types of feeds in `<link rel="alternate">`.
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
];

/// The feeds `html` (served from `page`) announces, in document order,
/// without duplicates. Only `http(s)` URLs are returned.
pub fn links(html: &str, page: &Url) -> Vec<FeedLink> {
    let mut base = page.clone();
    let mut out: Vec<FeedLink> = Vec::new();
    for tag in Tags::new(html) {
        match tag.name.as_str() {
            "base" => {
                if let Some(b) = tag.attr("href").and_then(|h| page.join(h.trim()).ok()) {
                    base = b;
                }
            }
            "link" => {
                let rel_alternate = tag.attr("rel").is_some_and(|rel| {
                    rel.split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("alternate"))
                });
                let media_type = tag
                    .attr("type")
                    .map(|t| {
                        t.split(';')
                            .next()
                            .unwrap_or("")
                            .trim()
                            .to_ascii_lowercase()
                    })
                    .unwrap_or_default();
                if !rel_alternate || !FEED_TYPES.contains(&media_type.as_str()) {
                    continue;
                }
                let Some(url) = tag.attr("href").and_then(|h| base.join(h.trim()).ok()) else {
                    continue;
                };
                if !matches!(url.scheme(), "http" | "https") || out.iter().any(|l| l.url == url) {
                    continue;
                }
                let title = tag
                    .attr("title")
                    .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|t| !t.is_empty());
                out.push(FeedLink {
                    url,
                    media_type,
                    title,
                });
            }
            _ => {}
        }
    }
    out
}

/// URLs to probe when a page announces no feed: [`COMMON_PATHS`] under the
/// page's folder (when it is not the site root), then under the root.
pub fn common_paths(page: &Url) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    let folder = page
        .path()
        .trim_end_matches(|c| c != '/')
        .trim_end_matches('/');
    let mut prefixes = vec![""];
    if !folder.is_empty() {
        prefixes.insert(0, folder);
    }
    for prefix in prefixes {
        for path in COMMON_PATHS {
            let mut u = page.clone();
            u.set_path(&format!("{prefix}{path}"));
            u.set_query(None);
            u.set_fragment(None);
            if !out.contains(&u) {
                out.push(u);
            }
        }
    }
    out
}

/// Whether a document that failed to parse as a feed is a web page (and so
/// worth looking into for the feeds it announces).
pub fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    head.contains("<html") || head.contains("<!doctype html") || head.contains("<head")
}

/// One start tag: its lower-case name and attributes (names lower-case,
/// values with character references decoded).
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The start tags of an HTML document, skipping comments, declarations,
/// end tags, and the contents of `<script>`, `<style>`, `<textarea>` and
/// `<title>` (raw text where a `<link>` means nothing).
struct Tags<'a> {
    html: &'a str,
    pos: usize,
}

impl<'a> Tags<'a> {
    fn new(html: &'a str) -> Tags<'a> {
        Tags { html, pos: 0 }
    }

    /// Moves past the next occurrence of `needle` (ASCII, case-insensitive).
    fn skip_past(&mut self, needle: &str) {
        let hay = &self.html.as_bytes()[self.pos..];
        let n = needle.as_bytes();
        self.pos = hay
            .windows(n.len())
            .position(|w| w.eq_ignore_ascii_case(n))
            .map_or(self.html.len(), |i| self.pos + i + n.len());
    }
}

impl Iterator for Tags<'_> {
    type Item = Tag;

    fn next(&mut self) -> Option<Tag> {
        let bytes = self.html.as_bytes();
        loop {
            let lt = self.html[self.pos..].find('<')? + self.pos;
            self.pos = lt + 1;
            let rest = &self.html[self.pos..];
            if rest.starts_with("!--") {
                self.skip_past("-->");
                continue;
            }
            if rest.starts_with('!') || rest.starts_with('?') || rest.starts_with('/') {
                self.skip_past(">");
                continue;
            }
            let name_len = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b':')
                .count();
            if name_len == 0 || !bytes[self.pos].is_ascii_alphabetic() {
                continue;
            }
            let name = rest[..name_len].to_ascii_lowercase();
            self.pos += name_len;
            let attrs = self.attributes()?;
            if matches!(name.as_str(), "script" | "style" | "textarea" | "title") {
                self.skip_past(&format!("</{name}"));
            }
            return Some(Tag { name, attrs });
        }
    }
}

impl Tags<'_> {
    /// Reads attributes up to and including the tag's closing `>`; `None`
    /// when the document ends first (a tag cut short is no tag, as in
    /// HTML: a truncated page must not yield half a feed URL).
    fn attributes(&mut self) -> Option<Vec<(String, String)>> {
        let b = self.html.as_bytes();
        let mut attrs = Vec::new();
        loop {
            while self.pos < b.len() && (b[self.pos].is_ascii_whitespace() || b[self.pos] == b'/') {
                self.pos += 1;
            }
            if self.pos >= b.len() {
                return None;
            }
            if b[self.pos] == b'>' {
                self.pos += 1;
                return Some(attrs);
            }
            let start = self.pos;
            while self.pos < b.len()
                && !b[self.pos].is_ascii_whitespace()
                && !matches!(b[self.pos], b'=' | b'>' | b'/')
            {
                self.pos += 1;
            }
            let name = self.html[start..self.pos].to_ascii_lowercase();
            while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            let mut value = String::new();
            if self.pos < b.len() && b[self.pos] == b'=' {
                self.pos += 1;
                while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
                    self.pos += 1;
                }
                let raw = if self.pos < b.len() && matches!(b[self.pos], b'"' | b'\'') {
                    let quote = b[self.pos] as char;
                    let from = self.pos + 1;
                    let to = self.html[from..].find(quote).map_or(b.len(), |i| from + i);
                    self.pos = (to + 1).min(b.len());
                    &self.html[from..to]
                } else {
                    let from = self.pos;
                    while self.pos < b.len()
                        && !b[self.pos].is_ascii_whitespace()
                        && b[self.pos] != b'>'
                    {
                        self.pos += 1;
                    }
                    &self.html[from..self.pos]
                };
                value = html_escape::decode_html_entities(raw).into_owned();
            }
            if !name.is_empty() {
                attrs.push((name, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://blog.example/posts/2026/hello.html").unwrap()
    }

    fn urls(html: &str) -> Vec<String> {
        links(html, &page())
            .into_iter()
            .map(|l| l.url.to_string())
            .collect()
    }

    #[test]
    fn finds_alternate_feed_links_resolved_against_the_page() {
        let html = r#"<!DOCTYPE html><html><head><title>Blog</title>
            <link rel="stylesheet" href="/s.css">
            <LINK REL="Alternate" TYPE="application/RSS+xml" title="  All   posts " HREF="/feed.xml">
            <link rel=alternate type=application/atom+xml href=atom.xml>
            <link rel="alternate feed" type="application/feed+json; charset=utf-8" href='https://cdn.example/f.json?a=1&amp;b=2'/>
            <link rel="alternate" type="text/html" href="/other.html">
            <link rel="alternate" type="application/rss+xml" href="/feed.xml">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            </head><body></body></html>"#;
        let found = links(html, &page());
        let got: Vec<_> = found.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            got,
            [
                "https://blog.example/feed.xml",
                "https://blog.example/posts/2026/atom.xml",
                "https://cdn.example/f.json?a=1&b=2",
            ]
        );
        assert_eq!(found[0].title.as_deref(), Some("All posts"));
        assert_eq!(found[0].media_type, "application/rss+xml");
    }

    #[test]
    fn ignores_links_inside_comments_scripts_and_attribute_values() {
        let html = r#"<html><head>
            <!-- <link rel="alternate" type="application/rss+xml" href="/commented.xml"> -->
            <script>var s = '<link rel="alternate" type="application/rss+xml" href="/script.xml">';</script>
            <meta content='<link rel="alternate" type="application/rss+xml" href="/attr.xml">'>
            <link rel="alternate" type="application/atom+xml" href="/real.xml">
            </head></html>"#;
        assert_eq!(urls(html), ["https://blog.example/real.xml"]);
    }

    #[test]
    fn base_href_changes_resolution() {
        let html = r#"<head><base href="https://static.example/sub/"><link rel="alternate" type="application/rss+xml" href="rss"></head>"#;
        assert_eq!(urls(html), ["https://static.example/sub/rss"]);
    }

    #[test]
    fn truncated_html_finds_nothing() {
        let whole = r#"<link rel=alternate type=application/rss+xml href="/feed.xml">"#;
        assert_eq!(urls(whole), ["https://blog.example/feed.xml"]);
        // Every cut of a link element, and other unfinished markup.
        let cuts = (0..whole.len() - 1).map(|n| &whole[..n]);
        for html in cuts.chain(["<!--", "<script>", "<a b='", "<link rel=\"alternate"]) {
            assert!(links(html, &page()).is_empty(), "{html}");
        }
    }

    #[test]
    fn common_paths_under_the_folder_then_the_root() {
        let got: Vec<String> = common_paths(&page()).iter().map(Url::to_string).collect();
        assert_eq!(got[0], "https://blog.example/posts/2026/feed");
        assert_eq!(got[6], "https://blog.example/feed");
        assert_eq!(got.len(), 12);
        let root = common_paths(&Url::parse("https://blog.example/?x=1").unwrap());
        assert_eq!(root.len(), 6);
        assert_eq!(root[1].as_str(), "https://blog.example/rss.xml");
    }

    #[test]
    fn html_is_recognised() {
        assert!(looks_like_html("\n<!DOCTYPE html>\n<html>"));
        assert!(looks_like_html(
            "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\">"
        ));
        assert!(!looks_like_html(
            "<?xml version=\"1.0\"?><rss version=\"2.0\">"
        ));
    }
}
