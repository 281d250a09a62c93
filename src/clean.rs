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
//! Every field is capped (see [`caps`]: titles, HTML bodies, URLs, guids,
//! lists); what cleaning adds to a body or a document is bounded by its
//! input (see [`growth`]); and HTML whose shape would make the sanitizer's
//! parser do more than linear work is kept as plain text instead (see
//! [`tame`]).

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use url::Url;

use crate::model::{Entry, KeyKind};
use crate::parse::RawEntry;

pub mod caps;
pub mod growth;
pub mod tame;
pub mod title;

pub use caps::{
    truncate_chars, MAX_DESCRIPTION_CHARS, MAX_GUID_BYTES, MAX_HTML_BYTES, MAX_LIST_ITEMS,
    MAX_NAME_CHARS, MAX_TITLE_CHARS, MAX_URL_BYTES,
};
pub use growth::{CleanReport, DOC_SLACK, HTML_GROWTH, HTML_SLACK};
pub use tame::MAX_HTML_DEPTH;

use growth::Budget;

/// Query parameters that only track the reader; removed from canonical URLs.
/// Names are compared case-insensitively; `utm_*` is matched by prefix.
pub const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "__hstc",
    "__hssc",
    "__hsfp",
    "hsctatracking",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "rb_clickid",
    "s_cid",
    "vero_conv",
    "vero_id",
    "wickedid",
    "_ga",
    "_gl",
    "ncid",
    "cmpid",
    "ref_src",
    "ref_url",
    "at_medium",
    "at_campaign",
    "at_custom1",
    "at_custom2",
    "at_custom3",
    "at_custom4",
    "ito",
    "xtor",
    "__twitter_impression",
    "sr_share",
    "share",
];

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

impl Cleaner {
    /// A cleaner with Tributary's sanitizing policy.
    pub fn new() -> Cleaner {
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

/// `href` made absolute against `base`, keeping only http(s) URLs of at
/// most [`MAX_URL_BYTES`].
fn absolute(href: &str, base: Option<&Url>) -> Option<String> {
    let href = href.trim();
    if href.len() > MAX_URL_BYTES {
        return None;
    }
    let url = match Url::parse(href) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(href).ok()?,
        Err(_) => return None,
    };
    let web = matches!(url.scheme(), "http" | "https");
    let url: String = url.into();
    (web && url.len() <= MAX_URL_BYTES).then_some(url)
}

/// The canonical form of an http(s) URL: lower-case scheme and host (the
/// URL parser does that), default port and fragment dropped, tracking
/// parameters removed. Other schemes have no canonical form.
pub fn canonical_url(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let mut u = url.clone();
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(u.into())
}

fn is_tracking_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || TRACKING_PARAMS.contains(&lower.as_str())
}

/// Hash of the normalized title and text: equal for equal content whatever
/// the whitespace and case.
///
/// The hashed bytes are each word (as `str::split_whitespace` finds them)
/// lower-cased and followed by a space, with a newline between title and
/// text. They are built in one buffer in one pass: ASCII words lower-cased
/// byte by byte as they are copied; a word with other characters goes
/// through `str::to_lowercase` whole, as it always did (Greek final sigma
/// depends on where the word ends), so stored hashes stay valid.
pub fn content_hash(title: &str, text: &str) -> u64 {
    fn push_words(s: &str, buf: &mut Vec<u8>) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let space = space_len(bytes, i);
            if space > 0 {
                i += space;
                continue;
            }
            let start = i;
            // A stop byte that is not white space is part of the word.
            loop {
                i = word_end(bytes, i);
                if i == bytes.len() || space_len(bytes, i) > 0 {
                    break;
                }
                i += 1;
            }
            let word = &s[start..i];
            if word.is_ascii() {
                let copied = buf.len();
                buf.extend_from_slice(word.as_bytes());
                buf[copied..].make_ascii_lowercase();
            } else {
                buf.extend_from_slice(word.to_lowercase().as_bytes());
            }
            buf.push(b' ');
        }
    }
    hash_words(title, text, push_words)
}

/// The hash both content hashes share: the title's words, a newline, the
/// text's words, each word written into one buffer by `push_words`.
fn hash_words(title: &str, text: &str, push_words: fn(&str, &mut Vec<u8>)) -> u64 {
    let mut buf: Vec<u8> = Vec::with_capacity(title.len() + text.len() + 2);
    push_words(title, &mut buf);
    buf.push(b'\n');
    push_words(text, &mut buf);
    xxhash_rust::xxh3::xxh3_64(&buf)
}

/// [`content_hash`] of a title and text that [`collapse`] made: their
/// only white space is the single space or newline between words (two in
/// a row, or one at an end, where a word of only forbidden characters was
/// left out).
///
/// Then, as long as no word is empty, the hashed bytes are the string
/// itself with its newlines made spaces and a final space, lower-cased:
/// runs of ASCII in bulk, and each word holding other characters through
/// `str::to_lowercase`, as [`content_hash`] does. That is a few quick
/// passes instead of work per word.
fn content_hash_of_collapsed(title: &str, text: &str) -> u64 {
    fn push_words(s: &str, buf: &mut Vec<u8>) {
        debug_assert!(!s.contains(|c: char| c.is_whitespace() && c != ' ' && c != '\n'));
        let bytes = s.as_bytes();
        let sep = |b: u8| (b == b' ') | (b == b'\n');
        let empty_word = bytes.first().is_some_and(|&b| sep(b))
            || bytes.last().is_some_and(|&b| sep(b))
            || bytes[..bytes.len().saturating_sub(1)]
                .chunks(64)
                .zip(bytes.get(1..).unwrap_or_default().chunks(64))
                .any(|(a, b)| {
                    a.iter()
                        .zip(b)
                        .fold(false, |found, (&x, &y)| found | (sep(x) & sep(y)))
                });
        if empty_word {
            for word in s.split([' ', '\n']).filter(|w| !w.is_empty()) {
                buf.extend_from_slice(word.to_lowercase().as_bytes());
                buf.push(b' ');
            }
            return;
        }
        let start = buf.len();
        let push_ascii = |buf: &mut Vec<u8>, ascii: &[u8]| {
            let at = buf.len();
            buf.extend_from_slice(ascii);
            buf[at..].make_ascii_lowercase();
        };
        // ASCII in bulk; each word holding other characters through
        // `str::to_lowercase` (which goes a character at a time once it
        // meets one, so is not given the whole text).
        let mut done = 0;
        while let Some(found) = bytes[done..].iter().position(|&b| b >= 0x80) {
            let at = done + found;
            let word_start = bytes[done..at]
                .iter()
                .rposition(|&b| sep(b))
                .map_or(done, |p| done + p + 1);
            let word_end = bytes[at..]
                .iter()
                .position(|&b| sep(b))
                .map_or(bytes.len(), |p| at + p);
            push_ascii(buf, &bytes[done..word_start]);
            buf.extend_from_slice(s[word_start..word_end].to_lowercase().as_bytes());
            done = word_end;
        }
        push_ascii(buf, &bytes[done..]);
        for b in &mut buf[start..] {
            if *b == b'\n' {
                *b = b' ';
            }
        }
        if !s.is_empty() {
            buf.push(b' ');
        }
    }
    hash_words(title, text, push_words)
}

/// ASCII white space as `char::is_whitespace` sees it (which, unlike
/// `u8::is_ascii_whitespace`, counts the vertical tab).
const ASCII_SPACE: [bool; 128] = {
    let mut table = [false; 128];
    let mut i = 0;
    while i < 128 {
        table[i] = matches!(i as u8, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
        i += 1;
    }
    table
};

/// Bytes that may end a word: ASCII white space and controls, and the
/// first bytes of the other white space characters and of U+FFFE and
/// U+FFFF. Any other byte is part of the word it is in.
const STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i <= 0x20 || matches!(i, 0xc2 | 0xe1 | 0xe2 | 0xe3 | 0xef);
        i += 1;
    }
    table
};

/// The first stop byte at or after `i` (or the end).
fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && !STOP[usize::from(bytes[i])] {
        i += 1;
    }
    i
}

/// The length in bytes of the character at `bytes[i]` if it is white
/// space (`char::is_whitespace`), else 0. `i` must start a character or
/// be inside one; a continuation byte is never white space.
///
/// Reads the UTF-8 bytes instead of decoding: besides ASCII, white space
/// is U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F,
/// U+205F and U+3000 (checked against `char::is_whitespace` for every
/// character in the tests).
fn space_len(bytes: &[u8], i: usize) -> usize {
    let b = bytes[i];
    if b < 0x80 {
        return usize::from(ASCII_SPACE[usize::from(b)]);
    }
    let next = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
    let space = match b {
        0xc2 => return if matches!(next(1), 0x85 | 0xa0) { 2 } else { 0 },
        0xe1 => next(1) == 0x9a && next(2) == 0x80,
        0xe2 => match next(1) {
            0x80 => matches!(next(2), 0x80..=0x8a | 0xa8 | 0xa9 | 0xaf),
            0x81 => next(2) == 0x9f,
            _ => false,
        },
        0xe3 => next(1) == 0x80 && next(2) == 0x80,
        _ => false,
    };
    if space {
        3
    } else {
        0
    }
}

/// Removes characters XML 1.0 forbids (controls other than tab, newline and
/// carriage return; U+FFFE and U+FFFF). Borrows when there are none.
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    fn ok(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    }
    // The forbidden characters are ASCII controls and U+FFFE/U+FFFF (whose
    // UTF-8 starts with 0xEF): most strings have neither byte, and bytes
    // are quicker to check than characters.
    // Bitwise and in blocks, so that many bytes are checked at once.
    let suspect = |block: &[u8]| {
        block.iter().fold(false, |found, &b| {
            found | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0xef)
        })
    };
    if !s.as_bytes().chunks(64).any(suspect) || s.chars().all(ok) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|c| ok(*c)).collect())
    }
}

/// Collapses all whitespace to single spaces, trims, and makes it XML-safe.
pub fn one_line(s: &str) -> String {
    collapse(s, false)
}

fn looks_like_markup(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
        || (s.contains('&') && s.contains(';'))
}

/// Plain text of an inline HTML fragment (a title): tags removed, entities
/// decoded, one line.
pub fn inline_text(html: &str) -> String {
    collapse(&strip_tags(html, false), false)
}

/// Plain text of (sanitized) HTML: tags removed, entities decoded, block
/// elements on lines of their own, whitespace collapsed within lines.
pub fn html_to_text(html: &str) -> String {
    collapse(&strip_tags(html, true), true)
}

/// Words of `s` (runs of non-white-space, as `str::split_whitespace` sees
/// them) joined by one space, or by a newline where a line break came
/// between them and `keep_lines` is set; characters XML 1.0 forbids are
/// left out.
///
/// One pass over the bytes. A forbidden character is part of its word (as
/// it was when words were split first and the result filtered), so a word
/// of only such characters still counts as one: `"a \u{1} b"` gives
/// `"a  b"`, exactly as before.
fn collapse(s: &str, keep_lines: bool) -> String {
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    // Whether a word was seen (kept or not), whether we are in one, and
    // whether the white space since the last word held a line break.
    let mut seen_word = false;
    let mut in_word = false;
    let mut broke_line = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let space = if STOP[usize::from(b)] {
            space_len(bytes, i)
        } else {
            0
        };
        if space > 0 {
            in_word = false;
            broke_line |= b == b'\n';
            i += space;
            continue;
        }
        if !in_word {
            if seen_word {
                out.push(if keep_lines && broke_line {
                    b'\n'
                } else {
                    b' '
                });
            }
            seen_word = true;
            in_word = true;
            broke_line = false;
        }
        if !STOP[usize::from(b)] {
            // Ordinary word bytes: copy the run.
            let end = word_end(bytes, i + 1);
            out.extend_from_slice(&bytes[i..end]);
            i = end;
        } else if b < 0x20 {
            // An ASCII control other than white space: forbidden.
            i += 1;
        } else if bytes
            .get(i..i + 3)
            .is_some_and(|c| matches!(c, [0xef, 0xbf, 0xbe | 0xbf]))
        {
            // U+FFFE or U+FFFF: forbidden.
            i += 3;
        } else {
            // The first byte of some other character; the rest follow.
            out.push(b);
            i += 1;
        }
    }
    // Only whole characters were left out, and only ASCII added.
    String::from_utf8(out).expect("collapsing keeps UTF-8 valid")
}

const BLOCK_TAGS: &[&str] = &[
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "hr",
    "table",
    "dd",
    "dt",
    "section",
    "article",
    "header",
    "footer",
];

/// The text of `html` with tags and comments removed (and the contents of
/// `script` and `style`), entities decoded. With `blocks`, block elements
/// start and end lines, and line breaks in the text become spaces.
///
/// Not a parser: good for sanitized HTML (which is well-formed) and for
/// titles. Tag names are read in place, without allocating.
fn strip_tags(html: &str, blocks: bool) -> String {
    // Bytes, so that line breaks can be replaced in place; only whole
    // pieces of `html` and ASCII are put in, so it stays UTF-8.
    let mut text: Vec<u8> = Vec::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut text, &rest[..lt], blocks);
        let after = &rest[lt + 1..];
        // Comments, and the contents of script and style, are not text.
        if let Some(body) = after.strip_prefix("!--") {
            rest = body.find("-->").map_or("", |end| &body[end + 3..]);
            continue;
        }
        let Some(gt) = after.find('>') else {
            // A lone '<' is text.
            text.push(b'<');
            rest = after;
            continue;
        };
        let tag = &after[..gt];
        let unslashed = tag.trim_start_matches('/');
        let name_len = unslashed
            .bytes()
            .take_while(u8::is_ascii_alphanumeric)
            .count();
        let name = &unslashed[..name_len];
        rest = &after[gt + 1..];
        if !tag.starts_with('/') {
            let close = if name.eq_ignore_ascii_case("script") {
                Some("</script")
            } else if name.eq_ignore_ascii_case("style") {
                Some("</style")
            } else {
                None
            };
            if let Some(close) = close {
                rest = match find_ignore_ascii_case(rest, close) {
                    Some(i) => rest[i..].find('>').map_or("", |g| &rest[i + g + 1..]),
                    None => "",
                };
                continue;
            }
        }
        if blocks && BLOCK_TAGS.iter().any(|b| b.eq_ignore_ascii_case(name)) {
            text.push(b'\n');
        }
    }
    push_text(&mut text, rest, blocks);
    let text = String::from_utf8(text).expect("pieces of a str and ASCII are UTF-8");
    match html_escape::decode_html_entities(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(decoded) => decoded,
    }
}

/// Appends text found between tags. In HTML a line break in text is just
/// white space; with `blocks`, lines of the result come from block
/// elements only, so the text's own breaks become spaces.
fn push_text(text: &mut Vec<u8>, t: &str, blocks: bool) {
    let at = text.len();
    text.extend_from_slice(t.as_bytes());
    if blocks {
        for b in &mut text[at..] {
            if matches!(b, b'\n' | b'\r') {
                *b = b' ';
            }
        }
    }
}

/// Where `needle` (which starts with `<`) first occurs in `hay`, ignoring
/// ASCII case; a linear scan (lower-casing the rest of the document for
/// each `<script>` made many of them quadratic).
fn find_ignore_ascii_case(hay: &str, needle: &str) -> Option<usize> {
    debug_assert!(needle.starts_with('<'));
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let mut from = 0;
    while let Some(i) = hay[from..].find('<') {
        let at = from + i;
        if h.get(at..at + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn text_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        out.push_str("<p>");
        out.push_str(&html_escape::encode_text(&xml_safe(para)).replace('\n', "<br>"));
        out.push_str("</p>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash as first written (one allocation per word); stored hashes
    /// were made with it, so the faster version must agree with it.
    fn content_hash_reference(title: &str, text: &str) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for word in title.split_whitespace() {
            h.update(word.to_lowercase().as_bytes());
            h.update(b" ");
        }
        h.update(b"\n");
        for word in text.split_whitespace() {
            h.update(word.to_lowercase().as_bytes());
            h.update(b" ");
        }
        h.digest()
    }

    /// Text extraction as first written (a pass per step, an allocation per
    /// tag); stored texts were made with it, so the one-pass version must
    /// agree with it.
    mod reference {
        use super::super::{xml_safe, BLOCK_TAGS};

        pub fn one_line(s: &str) -> String {
            let mut out = String::with_capacity(s.len());
            for w in s.split_whitespace() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(w);
            }
            xml_safe(&out).into_owned()
        }

        pub fn inline_text(html: &str) -> String {
            one_line(&strip_tags(html, false))
        }

        pub fn html_to_text(html: &str) -> String {
            let raw = strip_tags(html, true);
            let mut out = String::with_capacity(raw.len());
            for line in raw.lines() {
                let mut first = true;
                for w in line.split_whitespace() {
                    if first {
                        if !out.is_empty() {
                            out.push('\n');
                        }
                        first = false;
                    } else {
                        out.push(' ');
                    }
                    out.push_str(w);
                }
            }
            xml_safe(&out).into_owned()
        }

        fn strip_tags(html: &str, blocks: bool) -> String {
            let mut text = String::with_capacity(html.len());
            let push_text = |text: &mut String, t: &str| {
                if blocks {
                    text.extend(
                        t.chars()
                            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
                    );
                } else {
                    text.push_str(t);
                }
            };
            let mut rest = html;
            while let Some(lt) = rest.find('<') {
                push_text(&mut text, &rest[..lt]);
                let after = &rest[lt + 1..];
                if let Some(body) = after.strip_prefix("!--") {
                    rest = body.find("-->").map_or("", |end| &body[end + 3..]);
                    continue;
                }
                let Some(gt) = after.find('>') else {
                    text.push('<');
                    rest = after;
                    continue;
                };
                let tag = &after[..gt];
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                rest = &after[gt + 1..];
                if !tag.starts_with('/') && (name == "script" || name == "style") {
                    let close = format!("</{name}");
                    let lower = rest.to_ascii_lowercase();
                    rest = match lower.find(&close) {
                        Some(i) => rest[i..].find('>').map_or("", |g| &rest[i + g + 1..]),
                        None => "",
                    };
                    continue;
                }
                if blocks && BLOCK_TAGS.contains(&name.as_str()) {
                    text.push('\n');
                }
            }
            push_text(&mut text, rest);
            html_escape::decode_html_entities(&text).into_owned()
        }
    }

    /// Pieces of HTML, text and white space that text extraction treats
    /// specially.
    fn html_piece() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            prop::sample::select(vec![
                "<p>",
                "</p>",
                "<P class=\"x\">",
                "<br>",
                "<br/>",
                "<BR />",
                "</div>",
                "<h2>",
                "<li>",
                "</LI>",
                "<b>",
                "</b>",
                "<a href=\"/x?a=1&amp;b=2\">",
                "</a>",
                "<script>",
                "</script>",
                "</SCRIPT >",
                "<Style>",
                "</style",
                "<!--",
                "-->",
                "<!DOCTYPE html>",
                "<",
                ">",
                "</",
                "//",
                "<h1x>",
                "<scripts>",
                "&amp;",
                "&lt;",
                "&gt;",
                "&nbsp;",
                "&#10;",
                "&#13;",
                "&#x1;",
                "&#0;",
                "&",
                "&am",
                "p;",
                ";",
                " ",
                "  ",
                "\n",
                "\r\n",
                "\r",
                "\t",
                "\u{a0}",
                "\u{b}",
                "\u{c}",
                "\u{0}",
                "\u{1}",
                "\u{1f}",
                "\u{7f}",
                "\u{85}",
                "\u{2028}",
                "\u{3000}",
                "\u{FFFE}",
                "\u{FFFF}",
                "\u{1680}",
                "\u{200a}",
                "\u{2029}",
                "\u{202f}",
                "\u{205f}",
                "\u{200b}",
                "é",
                "Σ",
                "ΣΑΣ",
                "İ",
                "東京",
                "word",
                "Two",
                "CAFÉ",
                ".",
            ])
            .prop_map(str::to_string),
            "[a-z<>/&; \n]{1,6}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]

        #[test]
        fn content_hash_is_unchanged_by_the_one_pass_version(
            pieces in proptest::collection::vec(html_piece(), 0..40)
        ) {
            let text = pieces.concat();
            proptest::prop_assert_eq!(
                content_hash(&text, &text),
                content_hash_reference(&text, &text)
            );
        }

        #[test]
        fn collapsed_text_hashes_as_any_text(
            title in proptest::collection::vec(html_piece(), 0..10),
            body in proptest::collection::vec(html_piece(), 0..40),
        ) {
            let title = inline_text(&title.concat());
            let text = html_to_text(&body.concat());
            proptest::prop_assert_eq!(
                content_hash_of_collapsed(&title, &text),
                content_hash(&title, &text)
            );
        }

        #[test]
        fn text_extraction_is_unchanged_by_the_one_pass_version(
            pieces in proptest::collection::vec(html_piece(), 0..40)
        ) {
            let html = pieces.concat();
            proptest::prop_assert_eq!(html_to_text(&html), reference::html_to_text(&html));
            proptest::prop_assert_eq!(inline_text(&html), reference::inline_text(&html));
            proptest::prop_assert_eq!(one_line(&html), reference::one_line(&html));
        }
    }

    #[test]
    fn space_len_agrees_with_char_is_whitespace() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let mut buf = [0; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let expected = if c.is_whitespace() { bytes.len() } else { 0 };
            assert_eq!(space_len(bytes, 0), expected, "{c:?}");
            // No continuation byte reads as white space.
            for i in 1..bytes.len() {
                assert_eq!(space_len(bytes, i), 0, "{c:?} at {i}");
            }
        }
    }

    #[test]
    fn content_hash_is_unchanged_by_the_fast_path() {
        let cases = [
            ("", ""),
            ("Hello World", "Some TEXT\n\twith  spaces"),
            ("ΟΔΥΣΣΕΥΣ ΣΑΣ", "İstanbul ǅemal Straße ΣΊΣΥΦΟΣ naïve CAFÉ"),
            ("mixed ASCII and Ünïcödé", "x\u{a0}y z\u{2003}w"),
        ];
        for (title, text) in cases {
            assert_eq!(
                content_hash(title, text),
                content_hash_reference(title, text),
                "{title:?} / {text:?}"
            );
        }
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn canonical_url_drops_tracking_fragment_and_default_port() {
        let c = canonical_url(&u(
            "HTTPS://News.Example.COM:443/a/b?utm_source=x&id=7&fbclid=abc&UTM_Medium=rss#comments",
        ));
        assert_eq!(c.as_deref(), Some("https://news.example.com/a/b?id=7"));
        let c = canonical_url(&u("http://example.com:8080/p?utm_campaign=z"));
        assert_eq!(c.as_deref(), Some("http://example.com:8080/p"));
        assert_eq!(canonical_url(&u("mailto:a@example.com")), None);
    }

    #[test]
    fn canonical_url_is_idempotent() {
        for s in [
            "https://e.com/?a=1&utm_x=2&b=%20c",
            "http://e.com/x#y",
            "https://e.com/p?q",
        ] {
            let once = canonical_url(&u(s)).unwrap();
            let twice = canonical_url(&u(&once)).unwrap();
            assert_eq!(once, twice);
        }
    }

    #[test]
    fn sanitizing_removes_scripts_and_resolves_relative_urls() {
        let c = Cleaner::new();
        let out = c.html(
            r#"<p onclick="x()">Hi <a href="/about">about</a><script>alert(1)</script><img src="i.png"><a href="javascript:alert(1)">j</a></p>"#,
            Some(&u("https://site.example/blog/post")),
        );
        assert!(
            !out.contains("script") && !out.contains("onclick") && !out.contains("javascript"),
            "{out}"
        );
        assert!(
            out.contains(r#"href="https://site.example/about""#),
            "{out}"
        );
        assert!(
            out.contains(r#"src="https://site.example/blog/i.png""#),
            "{out}"
        );
    }

    #[test]
    fn text_from_html_keeps_blocks_apart() {
        let t = html_to_text(
            "<p>One &amp; <b>two</b></p><p>three\n  four</p><ul><li>a</li><li>b</li></ul>",
        );
        assert_eq!(t, "One & two\nthree four\na\nb");
    }

    #[test]
    fn illegal_xml_chars_are_removed() {
        assert_eq!(xml_safe("a\u{0}b\u{1b}c\td\u{FFFE}"), "abc\td");
        assert!(matches!(xml_safe("fine"), Cow::Borrowed(_)));
    }

    #[test]
    fn entry_dates_are_filled_and_clamped() {
        let now = Utc::now();
        let c = Cleaner::new();
        let e = c.entry(RawEntry::default(), None, None, now);
        assert_eq!(e.published, now);
        assert!(!e.published_from_feed);
        let raw = RawEntry {
            published: Some(now + Duration::days(400)),
            ..RawEntry::default()
        };
        assert_eq!(c.entry(raw, None, None, now).published, now);
    }

    #[test]
    fn script_and_comments_are_not_title_text() {
        assert_eq!(
            inline_text("safe<script>alert(1);</script> description"),
            "safe description"
        );
        assert_eq!(
            inline_text("safe<!-- hidden --> text<!-- unclosed"),
            "safe text"
        );
    }

    #[test]
    fn declared_canonical_link_unwraps_redirectors() {
        let raw = RawEntry {
            link: Some("http://feedproxy.google.com/~r/x/~3/abc/".into()),
            canonical_link: Some("https://Blog.example.org/a?utm_source=feedburner".into()),
            ..RawEntry::default()
        };
        let e = Cleaner::new().entry(raw, None, None, Utc::now());
        assert_eq!(
            e.canonical_url.as_deref(),
            Some("https://blog.example.org/a")
        );
        assert_eq!(
            e.url.as_deref(),
            Some("http://feedproxy.google.com/~r/x/~3/abc/")
        );
    }

    #[test]
    fn html_titles_become_text() {
        let c = Cleaner::new();
        let raw = RawEntry {
            title: Some("Ben &amp; Jerry&#39;s <em>new</em>\n flavour".into()),
            ..RawEntry::default()
        };
        assert_eq!(
            c.entry(raw, None, None, Utc::now()).title,
            "Ben & Jerry's new flavour"
        );
    }
}
