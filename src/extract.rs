//! Full text: an article page's bytes → its body, cleaned exactly like
//! feed content (pure; the page fetch lives in [`page`]).
//!
//! Two ways to find the body:
//! - **Readability** (the default): [`dom_smoothie`], a close port of
//!   Mozilla's readability.js (the algorithm behind Firefox's reader view)
//!   on an html5ever DOM. Chosen over the `readability` crate (an older
//!   port of the same algorithm, unmaintained since 2023, which pulls in
//!   `reqwest` with OpenSSL by default) and `readable-readability` (last
//!   released 2019, on an old html5ever): `dom_smoothie` is maintained,
//!   follows readability.js's current test pages, and on the fixture pages
//!   (publisher templates with navigation, video notices, captions,
//!   related links, cookie banners, newsletter boxes and comments) keeps
//!   the article's sentences and leaves out the boilerplate (measured in
//!   the `extraction_precision_and_recall` test; see docs/full-text.md).
//! - **A CSS selector** the operator names for sites where Readability
//!   fails: the matching elements, in document order.
//!
//! Either way, elements matching the operator's `remove` selectors are
//! taken out first, and so are newsletter sign-up boxes (the small block
//! around an e-mail field), and the result goes through [`Cleaner::html`] (the
//! feed-content sanitizer: no scripts, styles or forms, URLs made absolute
//! against the page's address, the HTML cap), then to text with
//! [`html_to_text`].
//!
//! Bounds: a page over [`MAX_PAGE_BYTES`] is refused before parsing; a
//! page whose nesting or formatting elements would make the tree
//! expensive ([`tame::html_is_tame`]: depth at most
//! [`crate::clean::MAX_HTML_DEPTH`]) is refused, and so is one of more
//! than [`MAX_ELEMENTS`] elements. Parsing is linear in the page; the
//! scoring walks each element's ancestors (at most the depth cap), so the
//! whole is linear in the page's size times a constant.
//!
//! Around it: [`page`] fetches one page (conditionally when it was
//! fetched before), [`robots`] says whether the site lets Tributary fetch
//! it, and [`worker`] works the queue.

pub mod page;
pub mod robots;
pub mod worker;

use dom_query::{Document, Matcher};
use dom_smoothie::{Config as ReadabilityConfig, Readability};
use url::Url;

use crate::clean::{html_to_text, tame, Cleaner};

/// Largest page extracted (decoded bytes); larger pages are refused.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Most elements in a page handed to Readability.
pub const MAX_ELEMENTS: usize = 60_000;

/// Shortest extracted text (characters) taken for an article; less means
/// the extractor found navigation or a paywall stub, not the article.
pub const MIN_TEXT_CHARS: usize = 140;

/// How to fetch a page and find its article body (from the config's
/// `full_text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// Take the elements matching this CSS selector instead of running
    /// Readability.
    pub selector: Option<String>,
    /// Remove the elements matching these CSS selectors first.
    pub remove: Vec<String>,
    /// Consult the site's robots.txt before fetching the page (see
    /// [`robots`]); on unless the config turns it off.
    pub robots: bool,
}

impl Default for Recipe {
    fn default() -> Self {
        Recipe {
            selector: None,
            remove: Vec::new(),
            robots: true,
        }
    }
}

impl Recipe {
    /// Checks that every selector parses; the error names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        self.selector
            .iter()
            .chain(&self.remove)
            .try_for_each(|s| matcher(s).map(|_| ()))
    }
}

/// What extraction found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Sanitized HTML of the article body.
    pub html: String,
    /// Its plain text (block elements on lines of their own).
    pub text: String,
    /// The page's title as Readability saw it (empty with a selector).
    pub title: String,
}

/// Why a page yielded no article.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The response is not an HTML page.
    #[error("not an HTML page ({0})")]
    NotHtml(String),
    /// The page exceeds [`MAX_PAGE_BYTES`].
    #[error("page larger than the {} KiB extraction cap", MAX_PAGE_BYTES / 1024)]
    TooLarge,
    /// The page's markup is too deep or too many elements to extract from
    /// within bounds.
    #[error("page too complex to extract from: {0}")]
    TooComplex(String),
    /// A selector in the recipe does not parse.
    #[error("bad CSS selector: {0}")]
    BadSelector(String),
    /// The selector matched nothing.
    #[error("the selector `{0}` matched nothing on the page")]
    NoMatch(String),
    /// Nothing that looks like an article (or too little text).
    #[error("no article found on the page{0}")]
    NoArticle(String),
}

/// A parsed CSS selector, or the error naming it.
fn matcher(selector: &str) -> Result<Matcher, String> {
    Matcher::new(selector).map_err(|e| {
        let kind = format!("{:?}", e.kind);
        let kind = kind
            .strip_prefix("Custom(")
            .and_then(|k| k.strip_suffix(')'))
            .unwrap_or(&kind);
        format!("`{selector}`: {kind}")
    })
}

/// Most e-mail fields whose sign-up boxes are looked for (each looks at a
/// few ancestors and the text of one box).
const MAX_SIGNUP_FIELDS: usize = 16;

/// Largest text (bytes) of a block taken for a sign-up box.
const MAX_SIGNUP_TEXT: usize = 600;

/// Removes newsletter and sign-up boxes: the nearest `div`, `aside` or
/// `section` around an e-mail input field, when it holds little text.
/// Readability drops the form but keeps the pitch around it when the box
/// sits inside the article body, as publishers place them.
fn remove_signup_boxes(doc: &Document) {
    let fields = doc.select("input[type=email]");
    for field in fields.nodes().iter().take(MAX_SIGNUP_FIELDS) {
        let block = field
            .ancestors_it(Some(6))
            .find(|a| a.has_name("div") || a.has_name("aside") || a.has_name("section"));
        if let Some(block) = block {
            if block.text().len() <= MAX_SIGNUP_TEXT {
                block.remove_from_parent();
            }
        }
    }
}

/// Whether a response with this `Content-Type` (or, without one, this
/// text) is an HTML page.
fn is_html(content_type: Option<&str>, text: &str) -> Result<(), ExtractError> {
    match content_type {
        Some(ct) => {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if matches!(mime.as_str(), "text/html" | "application/xhtml+xml") {
                Ok(())
            } else {
                Err(ExtractError::NotHtml(mime))
            }
        }
        None if crate::discover::looks_like_html(text) => Ok(()),
        None => Err(ExtractError::NotHtml("no Content-Type, no markup".into())),
    }
}

/// Extracts the article body from a page's bytes. `url` is where the page
/// came from (the base for its relative links).
pub fn extract(
    body: &[u8],
    content_type: Option<&str>,
    url: &Url,
    recipe: &Recipe,
    cleaner: &Cleaner,
) -> Result<Extracted, ExtractError> {
    if body.len() > MAX_PAGE_BYTES {
        return Err(ExtractError::TooLarge);
    }
    let text = crate::parse::decode(body, content_type);
    is_html(content_type, &text)?;
    if !tame::html_is_tame(&text) {
        return Err(ExtractError::TooComplex(format!(
            "nesting deeper than {} elements",
            crate::clean::MAX_HTML_DEPTH
        )));
    }
    let remove = recipe
        .remove
        .iter()
        .map(|s| matcher(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ExtractError::BadSelector)?;
    let doc = Document::from(text.as_ref());
    for m in &remove {
        doc.select_matcher(m).remove();
    }
    remove_signup_boxes(&doc);
    let (raw, title) = match &recipe.selector {
        Some(selector) => {
            let m = matcher(selector).map_err(ExtractError::BadSelector)?;
            let found = doc.select_matcher(&m);
            if found.is_empty() {
                return Err(ExtractError::NoMatch(selector.clone()));
            }
            // Nested matches would repeat text: keep the outermost (each
            // match looks up its ancestors, at most the depth cap).
            let ids: std::collections::HashSet<_> = found.nodes().iter().map(|n| n.id).collect();
            let mut raw = String::new();
            for node in found.nodes() {
                if !node.ancestors_it(None).any(|a| ids.contains(&a.id)) {
                    raw.push_str(&node.html());
                }
            }
            (raw, String::new())
        }
        None => {
            let cfg = ReadabilityConfig {
                max_elements_to_parse: MAX_ELEMENTS,
                ..ReadabilityConfig::default()
            };
            let mut r = Readability::with_document(doc, Some(url.as_str()), Some(cfg))
                .map_err(|e| ExtractError::NoArticle(format!(": {e}")))?;
            let article = r.parse().map_err(|e| match e {
                dom_smoothie::ReadabilityError::TooManyElements(n, max) => {
                    ExtractError::TooComplex(format!("{n} elements (at most {max})"))
                }
                e => ExtractError::NoArticle(format!(": {e}")),
            })?;
            (article.content.to_string(), article.title)
        }
    };
    let html = cleaner.html(&raw, Some(url));
    let text = html_to_text(&html);
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    if chars < MIN_TEXT_CHARS && recipe.selector.is_none() {
        return Err(ExtractError::NoArticle(format!(
            " (only {chars} characters of text)"
        )));
    }
    if chars == 0 {
        return Err(ExtractError::NoArticle(
            " (the selection has no text)".into(),
        ));
    }
    Ok(Extracted { html, text, title })
}

#[cfg(test)]
mod tests;
