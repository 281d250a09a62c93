//! What cleaning may add to what came in.
//!
//! Sanitizing can make HTML larger than its input: relative URLs are made
//! absolute (one `<img src=x>` against an 8 KiB link became 8 KiB, so
//! 5,000 of them in a 93 KB feed stored 40 MB), `rel` is added to every
//! link, text is escaped (`&` becomes `&amp;`) and implied end tags are
//! written out. So every body and every document has a budget:
//!
//! - a body (an entry's content or summary) of `n` bytes becomes at most
//!   [`HTML_GROWTH`]` × n + `[`HTML_SLACK`] bytes of HTML. Relative URLs
//!   are made absolute while that allows; the ones past it are left out.
//!   HTML that would still be larger is kept as its plain text (escaped,
//!   at most `5 × n + 7` bytes);
//! - over one document, the bytes bodies and URLs use beyond
//!   [`HTML_GROWTH`]` × n` add up to at most [`DOC_SLACK`]; once it is
//!   spent, a body gets only the proportional part, and an entry's link or
//!   enclosure that would grow by resolving is left out.
//!
//! The serializer writes into a buffer that refuses to grow past the
//! body's budget, so no step holds more than the budget in memory either.
//! What was left out is counted in [`CleanReport`], which the refresh
//! turns into a note on the feed.

use std::io;

use url::Url;

/// Cleaned HTML of a body is at most this many times its bytes (plus
/// [`HTML_SLACK`]); five covers escaping every `&` as `&amp;`.
pub const HTML_GROWTH: usize = 5;
/// Bytes a body's HTML may have beyond [`HTML_GROWTH`] times its input
/// (room for a few absolute URLs in a short summary).
pub const HTML_SLACK: usize = 4 * 1024;
/// Bytes all of a document's bodies and URLs together may use beyond
/// [`HTML_GROWTH`] times their input.
pub const DOC_SLACK: usize = 1024 * 1024;

/// What cleaning one document left out to stay within its budget.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CleanReport {
    /// Bodies, links and enclosures with relative URLs left out because
    /// resolving them would have grown past the budget.
    pub urls_left_out: usize,
    /// Bodies kept as plain text: their HTML would have grown past the
    /// budget, or its shape would make the HTML parser do more than
    /// linear work.
    pub bodies_as_text: usize,
}

impl CleanReport {
    /// A note for the feed's fetch log, when anything was left out.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.urls_left_out > 0 {
            parts.push(format!(
                "{} bodies or links had relative URLs left out (resolving them would have grown the entry past its budget)",
                self.urls_left_out
            ));
        }
        if self.bodies_as_text > 0 {
            parts.push(format!(
                "{} bodies kept as plain text (their HTML was too large or too deep to clean)",
                self.bodies_as_text
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// The budget state of one document, shared with the sanitizer's URL
/// callbacks.
#[derive(Debug)]
pub(super) struct Budget {
    /// What relative URLs are resolved against, for the body being cleaned.
    pub base: Option<Url>,
    /// Bytes resolving URLs may still add to the body being cleaned.
    pub left: usize,
    /// Whether a URL of the body being cleaned was left out for `left`.
    pub dropped: bool,
    /// What is left of [`DOC_SLACK`].
    pub slack: usize,
    /// What was left out so far.
    pub report: CleanReport,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            base: None,
            left: 0,
            dropped: false,
            slack: DOC_SLACK,
            report: CleanReport::default(),
        }
    }
}

impl Budget {
    /// The most bytes of HTML a body of `n` bytes may become now.
    pub fn body_limit(&self, n: usize) -> usize {
        HTML_GROWTH * n + HTML_SLACK.min(self.slack)
    }

    /// Starts a body of `n` bytes resolved against `base`.
    pub fn start_body(&mut self, n: usize, base: Option<&Url>) {
        self.base = base.cloned();
        self.left = self.body_limit(n).saturating_sub(n);
        self.dropped = false;
    }

    /// Ends a body of `n` bytes that became `out` bytes of HTML.
    pub fn end_body(&mut self, n: usize, out: usize) {
        self.slack = self
            .slack
            .saturating_sub(out.saturating_sub(HTML_GROWTH * n));
        if self.dropped {
            self.report.urls_left_out += 1;
        }
        self.base = None;
    }

    /// A relative URL of the body being cleaned made absolute, if it is
    /// http(s) and the body's budget allows what it adds.
    pub fn resolve(&mut self, rel: &str) -> Option<String> {
        let joined = self.base.as_ref()?.join(rel).ok()?;
        if !matches!(joined.scheme(), "http" | "https") {
            return None;
        }
        let joined: String = joined.into();
        let added = joined.len().saturating_sub(rel.len());
        if added > self.left {
            self.dropped = true;
            return None;
        }
        self.left -= added;
        Some(joined)
    }

    /// Charges what resolving an entry's link or enclosure adds to the
    /// document's slack: whether it may be kept.
    pub fn charge_url(&mut self, written: &str, resolved: &str) -> bool {
        let added = resolved.len().saturating_sub(written.len());
        if added > self.slack {
            self.report.urls_left_out += 1;
            return false;
        }
        self.slack -= added;
        true
    }
}

/// A `srcset` value with each candidate's URL checked like any other:
/// absolute http(s) URLs kept, relative ones (`x.png`, `//host/x.png`)
/// given to `resolve`, the rest (`javascript:`, `data:`) left out.
/// `None` when no candidate is left.
pub(super) fn srcset(
    value: &str,
    mut resolve: impl FnMut(&str) -> Option<String>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let url_end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let written = &rest[..url_end];
        let (url, descriptor) = if let Some(url) = written.strip_suffix(',') {
            rest = &rest[url_end..];
            (url.trim_end_matches(','), "")
        } else {
            let after = &rest[url_end..];
            let end = after.find(',').unwrap_or(after.len());
            rest = &after[end..];
            (written, after[..end].trim())
        };
        let kept = match Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(url.to_string()),
            Ok(_) => None,
            Err(url::ParseError::RelativeUrlWithoutBase) => resolve(url),
            Err(_) => None,
        };
        if let Some(kept) = kept {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&kept);
            if !descriptor.is_empty() {
                out.push(' ');
                out.push_str(descriptor);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A buffer that refuses writes past `limit` bytes (the serializer then
/// stops with an error).
pub(super) struct Bounded {
    pub buf: Vec<u8>,
    limit: usize,
}

impl Bounded {
    pub fn new(limit: usize, expected: usize) -> Bounded {
        Bounded {
            buf: Vec::with_capacity(expected.min(limit)),
            limit,
        }
    }
}

impl io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            return Err(io::Error::other("over the cleaned HTML budget"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(base: &str) -> impl FnMut(&str) -> Option<String> {
        let base = Url::parse(base).unwrap();
        move |rel| base.join(rel).ok().map(String::from)
    }

    #[test]
    fn srcset_candidates_are_resolved_or_left_out() {
        let r = resolver("https://site.example/blog/post");
        assert_eq!(
            srcset("a.png 1x, //cdn.example/b.png 2x", r).as_deref(),
            Some("https://site.example/blog/a.png 1x, https://cdn.example/b.png 2x")
        );
        let r = resolver("https://site.example/");
        assert_eq!(
            srcset("javascript:alert(1) 1x, data:image/png;base64,AAAA 2x", r),
            None
        );
        let r = resolver("https://site.example/");
        assert_eq!(
            srcset("https://a.example/x.png 480w,y.png,  ,", r).as_deref(),
            Some("https://a.example/x.png 480w, https://site.example/y.png")
        );
    }

    #[test]
    fn resolution_stops_at_the_body_budget() {
        let mut b = Budget::default();
        let base = Url::parse(&format!("https://e.example/{}/", "a".repeat(8000))).unwrap();
        b.start_body(100, Some(&base));
        assert!(b.resolve("x").is_none(), "8 KB added to 100 bytes");
        assert!(b.dropped);
        b.end_body(100, 100);
        assert_eq!(b.report.urls_left_out, 1);
        let short = Url::parse("https://e.example/").unwrap();
        b.start_body(100, Some(&short));
        assert_eq!(b.resolve("x").as_deref(), Some("https://e.example/x"));
        assert_eq!(b.resolve("javascript:x"), None);
    }

    #[test]
    fn the_document_slack_is_spent_once() {
        let mut b = Budget::default();
        let long = format!("https://e.example/{}", "a".repeat(8000));
        let mut kept = 0;
        while b.charge_url("x", &long) {
            kept += 1;
        }
        assert_eq!(kept, DOC_SLACK / (long.len() - 1));
        assert!(b.slack < long.len());
        assert_eq!(b.body_limit(10), HTML_GROWTH * 10 + HTML_SLACK.min(b.slack));
    }
}
