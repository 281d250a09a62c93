//! Cleaning: sanitized HTML, plain text, canonical URLs, sane dates.
//!
//! Everything that leaves this module is safe to republish: HTML has been
//! through ammonia (no scripts, event handlers, `javascript:`/`data:` URLs,
//! styles, forms or frames; relative URLs made absolute), and every string is
//! free of characters XML 1.0 forbids. Times are UTC; a missing date becomes
//! the first-seen time and a date far in the future is clamped to now, so a
//! misconfigured publisher cannot pin an item to the top of the river.
//!
//! The canonical URL (tracking parameters, fragment and default port
//! removed; scheme and host lower-cased) is the key that later merges the
//! same page reached through several feeds.
//!
//! This file holds the sanitizer ([`Cleaner`]: ammonia's policy, URL
//! resolution within the budget, the entry's fields); URLs live in `url`,
//! the content hash in `hash`, text from HTML and back in `text`.
//!
//! Every field is capped (see [`caps`]: titles, HTML bodies, URLs, guids,
//! lists); what cleaning adds to a body or a document is bounded by its
//! input (see [`growth`]); and HTML whose shape would make the sanitizer's
//! parser do more than linear work is kept as plain text instead (see
//! [`tame`]).

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard};

use ::url::Url;
use chrono::{DateTime, Duration, Utc};

use crate::model::{Entry, KeyKind};
use crate::parse::RawEntry;

pub mod caps;
pub mod growth;
mod hash;
pub mod tame;
mod text;
pub mod title;
mod url;

pub use caps::{
    truncate_chars, MAX_DESCRIPTION_CHARS, MAX_GUID_BYTES, MAX_HTML_BYTES, MAX_LIST_ITEMS,
    MAX_NAME_CHARS, MAX_TITLE_CHARS, MAX_URL_BYTES,
};
pub use growth::{CleanReport, DOC_SLACK, HTML_GROWTH, HTML_SLACK};
pub use tame::MAX_HTML_DEPTH;

use self::url::absolute;
pub use self::url::{canonical_url, TRACKING_PARAMS};
use growth::Budget;
pub use hash::content_hash;
use hash::content_hash_of_collapsed;
pub use text::{html_to_text, inline_text, one_line, xml_safe};
use text::{looks_like_markup, text_to_html};

/// How far in the future a publication date may be before it is clamped.
pub const MAX_FUTURE: Duration = Duration::days(1);

/// Sanitizes entry HTML; one per feed document (it keeps the document's
/// budget and the base URL of the entry being cleaned, so it is not
/// shared between threads or documents).
pub struct Cleaner {
    builder: ammonia::Builder<'static>,
    budget: Arc<Mutex<Budget>>,
}

impl Default for Cleaner {
    fn default() -> Self {
        Cleaner::new()
    }
}

/// Which attributes beyond the sanitizing policy's a [`Cleaner`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Attributes {
    /// The policy's own: what is stored and republished.
    #[default]
    Policy,
    /// The policy's plus `class` and `id`, for the rules' `remove`
    /// selectors to match on; [`Cleaner::html`] with a [`Cleaner::new`]
    /// takes them out again once the rules have run.
    WithClassAndId,
}

impl Cleaner {
    /// A cleaner with Tributary's sanitizing policy.
    pub fn new() -> Cleaner {
        Cleaner::keeping(Attributes::Policy)
    }

    /// A cleaner with Tributary's sanitizing policy, keeping `attributes`.
    pub fn keeping(attributes: Attributes) -> Cleaner {
        let budget: Arc<Mutex<Budget>> = Arc::default();
        let for_eval = Arc::clone(&budget);
        let for_srcset = Arc::clone(&budget);
        let mut builder = ammonia::Builder::default();
        builder
            .add_tags([
                "figure",
                "figcaption",
                "picture",
                "audio",
                "video",
                "source",
                "track",
                "mark",
                "time",
            ])
            .add_tag_attributes("audio", ["src", "controls"])
            .add_tag_attributes("video", ["src", "controls", "poster", "width", "height"])
            .add_tag_attributes("source", ["src", "type", "srcset", "media"])
            .add_tag_attributes("img", ["srcset", "loading"])
            .add_tag_attributes("time", ["datetime"])
            .add_generic_attributes(match attributes {
                Attributes::Policy => &[][..],
                Attributes::WithClassAndId => &["class", "id"][..],
            })
            .link_rel(Some("noopener noreferrer nofollow"))
            .url_relative(ammonia::UrlRelative::Custom(Box::new(Resolver(for_eval))))
            .attribute_filter(move |_, attr, value| {
                if attr != "srcset" {
                    return Some(Cow::Borrowed(value));
                }
                let mut budget = lock(&for_srcset);
                growth::srcset(value, |rel| budget.resolve(rel)).map(Cow::Owned)
            });
        Cleaner { builder, budget }
    }

    /// What cleaning left out so far to stay within the document's budget.
    pub fn report(&self) -> CleanReport {
        lock(&self.budget).report
    }

    /// Sanitized HTML of `html` (its first [`MAX_HTML_BYTES`]), relative
    /// URLs resolved against `base` (dropped when there is no usable
    /// base, or past the budget: see [`growth`]). HTML that fails
    /// [`tame::html_is_tame`], or that would grow past the budget, comes
    /// back as its plain text, escaped.
    pub fn html(&self, html: &str, base: Option<&Url>) -> String {
        let html = caps::cut_bytes(html, MAX_HTML_BYTES);
        let n = html.len();
        if !tame::html_is_tame(html) {
            lock(&self.budget).report.bodies_as_text += 1;
            return text_to_html(&html_to_text(html));
        }
        let limit = {
            let mut budget = lock(&self.budget);
            budget.start_body(n, base);
            budget.body_limit(n)
        };
        // Serialized straight into one buffer (`to_string` would serialize
        // into one and copy it into another), which stops at the limit.
        let mut out = growth::Bounded::new(limit, n + n / 8);
        let written = self.builder.clean(html).write_to(&mut out);
        let mut budget = lock(&self.budget);
        if written.is_err() {
            budget.end_body(n, 0);
            budget.report.bodies_as_text += 1;
            return text_to_html(&html_to_text(html));
        }
        budget.end_body(n, out.buf.len());
        let out = String::from_utf8(out.buf).expect("html5ever writes UTF-8");
        match xml_safe(&out) {
            Cow::Borrowed(_) => out,
            Cow::Owned(safe) => safe,
        }
    }

    /// `href` made absolute against `base` ([`absolute`]), if what that
    /// adds fits the document's budget.
    fn url(&self, href: &str, base: Option<&Url>) -> Option<String> {
        let url = absolute(href, base)?;
        lock(&self.budget)
            .charge_url(href.trim(), &url)
            .then_some(url)
    }

    /// Turns one raw entry into a clean [`Entry`] (without identity: see
    /// `dedup::entry`). `doc_url` is where the document came from and
    /// `site_url` the feed's web site; they are bases for relative links.
    pub fn entry(
        &self,
        raw: RawEntry,
        doc_url: Option<&Url>,
        site_url: Option<&Url>,
        now: DateTime<Utc>,
    ) -> Entry {
        let http_doc = doc_url.filter(|u| matches!(u.scheme(), "http" | "https"));
        let xml_base = raw
            .base
            .as_deref()
            .and_then(|b| match http_doc.or(site_url) {
                Some(d) => d.join(b).ok(),
                None => Url::parse(b).ok(),
            });
        let link = raw
            .link
            .as_deref()
            .and_then(|l| self.url(l, xml_base.as_ref().or(http_doc).or(site_url)));
        let link_url = link.as_deref().and_then(|l| Url::parse(l).ok());
        let base = xml_base
            .as_ref()
            .or(link_url.as_ref())
            .or(site_url)
            .or(http_doc);

        let to_html = |body: &str, is_text: bool| -> String {
            if is_text {
                text_to_html(caps::cut_bytes(body, MAX_HTML_BYTES))
            } else {
                self.html(body, base)
            }
        };
        let content_html = raw
            .content
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(|c| to_html(c, raw.content_is_text));
        let summary_html = raw
            .summary
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| to_html(s, raw.summary_is_text));
        let (content_html, summary_html) = match (content_html, summary_html) {
            (Some(c), Some(s)) if c == s => (Some(c), None),
            (Some(c), s) => (Some(c), s),
            (None, s) => (s, None),
        };
        let content_text = content_html
            .as_deref()
            .map(html_to_text)
            .unwrap_or_default();
        let title = raw
            .title
            .as_deref()
            .map(|t| {
                // Markup and spaces may shrink it: read a generous prefix.
                let t = caps::cut_bytes(t, 16 * MAX_TITLE_CHARS);
                let text = if raw.title_is_html || looks_like_markup(t) {
                    inline_text(t)
                } else {
                    one_line(t)
                };
                truncate_chars(&text, MAX_TITLE_CHARS)
            })
            .unwrap_or_default();
        let (published, published_from_feed) = match raw.published.or(raw.updated) {
            Some(p) if p > now + MAX_FUTURE => (now, false),
            Some(p) => (p, true),
            None => (now, false),
        };
        let updated = raw.updated.map(|u| u.min(now + MAX_FUTURE));
        // The page's real address, where the entry gives one besides a
        // (possibly wrapped) link, is the better key.
        let declared = raw
            .canonical_link
            .as_deref()
            .and_then(|c| self.url(c, base))
            .and_then(|c| Url::parse(&c).ok());
        let canonical = declared
            .as_ref()
            .or(link_url.as_ref())
            .and_then(canonical_url);
        // The hash covers the publisher's title only, so that deriving one
        // never makes a stored entry look changed.
        let content_hash = content_hash_of_collapsed(&title, &content_text);
        let title_original = raw
            .title
            .as_deref()
            .map(|t| caps::cut_bytes(t.trim(), 16 * MAX_TITLE_CHARS))
            .filter(|t| *t != title)
            .map(|t| xml_safe(t).into_owned());
        let derived = title
            .is_empty()
            .then(|| title::derive(&content_text, link.as_deref()))
            .flatten();
        let title_derived = derived.is_some();
        let title = derived.unwrap_or(title);
        Entry {
            key: String::new(),
            key_kind: KeyKind::Hash,
            guid: raw.guid.map(|g| caps::bounded_guid(&xml_safe(g.trim()))),
            url: link,
            canonical_url: canonical,
            title,
            title_derived,
            title_original,
            authors: short_list(&raw.authors),
            summary_html,
            content_html,
            content_text,
            content_hash,
            story_print: None,
            published,
            published_from_feed,
            updated,
            categories: short_list(&raw.categories),
            enclosures: raw
                .enclosures
                .into_iter()
                .filter_map(|mut e| {
                    e.url = self.url(&e.url, base)?;
                    e.mime_type = e
                        .mime_type
                        .map(|m| truncate_chars(&one_line(caps::cut_bytes(&m, 1024)), 255));
                    Some(e)
                })
                .take(MAX_LIST_ITEMS)
                .collect(),
            raw_hash: 0,
            content_elided: false,
            item_hash: None,
        }
    }
}

/// The budget, whether or not a thread panicked holding it.
fn lock(budget: &Mutex<Budget>) -> MutexGuard<'_, Budget> {
    budget.lock().unwrap_or_else(|p| p.into_inner())
}

/// Resolves relative URLs in sanitized HTML against the current base;
/// drops them when there is none, the result is not http(s), or the
/// body's budget is spent.
struct Resolver(Arc<Mutex<Budget>>);

impl<'a> ammonia::UrlRelativeEvaluate<'a> for Resolver {
    fn evaluate<'url>(&self, rel: &'url str) -> Option<Cow<'url, str>> {
        lock(&self.0).resolve(rel).map(Cow::Owned)
    }
}

/// At most [`MAX_LIST_ITEMS`] names, each one line of at most
/// [`MAX_NAME_CHARS`] characters, empty ones left out.
fn short_list(names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            truncate_chars(
                &one_line(caps::cut_bytes(n, 4 * MAX_NAME_CHARS)),
                MAX_NAME_CHARS,
            )
        })
        .filter(|n| !n.is_empty())
        .take(MAX_LIST_ITEMS)
        .collect()
}

#[cfg(test)]
mod tests;
