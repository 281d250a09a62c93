//! The guard that keeps hostile HTML from making the sanitizer's parser
//! do more than linear work.
//!
//! HTML parsers (html5ever, under ammonia) do work per tag that grows with
//! the number of open elements, and re-open unclosed formatting elements
//! (`<b>`, `<a>`, `<font>`, …) after every block: 20 KB of
//! `<p><b id=1>…<b id=100>` followed by `<p>x` repeated became 3.5 MB and
//! 11 s of work, 100,000 nested `<div>`s did not finish in 5 minutes, and
//! 20,000 `<div></x>` (a stray end tag closes nothing) took 2.3 s.
//! [`html_is_tame`] estimates both costs in one linear scan: `read`
//! reads tags the way the parser's tokenizer does (quoted attribute
//! values, comments, the raw text of `<script>`, `<textarea>` and the
//! like), and `tree` keeps the parser's stack of open elements and list of
//! active formatting elements as the HTML parsing algorithm does, with
//! the element-name sets of `names`. HTML that fails it is kept as plain
//! text.
//!
//! The same scan bounds the serializer's work: html5ever, escaping a text
//! node or an attribute value, searches the rest of it for `<`, `>` (and
//! `"`) again after each `&` or U+0080–U+00BF character, so 16,000 `&`
//! in a row took 3.9 s (unoptimized), four times as many sixteen times
//! as long. The scan adds up, for each such character, the bytes of text
//! that may follow it in the same node, and that sum must stay within
//! [`ESCAPE_WORK_PER_BYTE`] per input byte (plus a constant).
//!
//! The scan errs on the safe side: where it cannot tell, it counts an
//! element as still open.

/// Deepest element nesting sanitized as HTML; deeper HTML becomes text.
pub const MAX_HTML_DEPTH: usize = 256;

/// Bytes the serializer may search per input byte (see the module docs),
/// beyond [`ESCAPE_WORK_SLACK`].
pub const ESCAPE_WORK_PER_BYTE: usize = 256;
/// Bytes the serializer may search in any body.
pub const ESCAPE_WORK_SLACK: usize = 1 << 20;

mod names;
mod read;
mod tree;

use names::{MERGING, RAW_TEXT, TABLE_PARTS};
use read::{read_tag, skip_raw_text, Kind};
use tree::{breaks_out, Tree};

pub(super) fn is_one_of(name: &str, list: &[&str]) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether `html` can be given to the HTML parser: elements nested at
/// most [`MAX_HTML_DEPTH`] deep, at most as many formatting elements
/// active, and re-opened formatting elements adding at most twice the
/// input's bytes (plus 10,000). The scan keeps the parser's two lists the
/// way the parser keeps them: the stack of open elements (formatting ones
/// included) and the list of active formatting elements, which the parser
/// re-opens ("reconstructs") before text and inline tags once something
/// closed them. An element leaves the stack only when a tag certainly
/// closes it; where the scan cannot tell, it stays. The serializer's work
/// is bounded as the module docs say. Ordinary HTML, even sloppy, stays
/// far inside all of these.
pub fn html_is_tame(html: &str) -> bool {
    let bytes = html.as_bytes();
    let budget = 2 * html.len() + 10_000;
    let escape_budget = ESCAPE_WORK_PER_BYTE * html.len() + ESCAPE_WORK_SLACK;
    let mut escape = Escape::default();
    let mut tree = Tree::default();
    let mut i = 0;
    while let Some(found) = memchr::memchr(b'<', &bytes[i..]) {
        let lt = i + found;
        if lt > i {
            tree.reconstruct();
        }
        escape.text(&bytes[i..lt]);
        let Some(tag) = read_tag(html, lt) else {
            break;
        };
        i = tag.end;
        escape.work = escape.work.saturating_add(tag.attribute_work);
        let (name, closing) = match tag.kind {
            Kind::Text => {
                // A `<` of text: the serializer's search stops there.
                escape.run = 0;
                tree.reconstruct();
                continue;
            }
            Kind::Skip => continue,
            Kind::Start(name) => (name, false),
            Kind::End(name) => (name, true),
        };
        let in_table = tree.tables > 0;
        if !closing
            && (!is_one_of(name, MERGING)
                || (in_table && is_one_of(name, &["td", "th", "caption"])))
        {
            // Text after it goes into a new node.
            escape.run = 0;
        }
        let text = &html[lt..tag.end];
        if closing {
            tree.end_tag(name);
        } else if tree.in_foreign() && !breaks_out(name, text) {
            // An element of the SVG or MathML namespace.
            if !tag.self_closing {
                tree.push(name, None, true);
            }
        } else if is_one_of(name, TABLE_PARTS) && !in_table {
            // Ignored by the parser outside a table.
        } else {
            // An HTML start tag in foreign content first closes the
            // foreign elements around it.
            while tree.in_foreign() {
                tree.truncate(tree.stack.len() - 1);
            }
            tree.start_tag(name, text);
            if tree.in_foreign() {
                // `<svg>` or `<math>` just opened: nothing raw inside.
            } else if is_one_of(name, RAW_TEXT) {
                let end = skip_raw_text(html, i, name);
                escape.run = 0;
                escape.text(&bytes[i..end.unwrap_or(bytes.len())]);
                escape.run = 0;
                match end {
                    Some(end) => {
                        i = end;
                        tree.close_current(name);
                    }
                    None => {
                        i = bytes.len();
                        break;
                    }
                }
            } else if name.eq_ignore_ascii_case("plaintext") {
                break;
            }
        }
        if tree.stack.len() > MAX_HTML_DEPTH
            || tree.active.len() > MAX_HTML_DEPTH
            || tree.reopened > budget
            || escape.work > escape_budget
        {
            return false;
        }
    }
    if i < bytes.len() {
        tree.reconstruct();
    }
    escape.text(&bytes[i.min(bytes.len())..]);
    tree.stack.len() <= MAX_HTML_DEPTH && tree.reopened <= budget && escape.work <= escape_budget
}

/// An estimate of the serializer's escaping work (see the module docs).
#[derive(Default)]
pub(super) struct Escape {
    /// Characters in the current text node that make it search on.
    pub(super) run: usize,
    /// Bytes searched so far.
    pub(super) work: usize,
}

impl Escape {
    /// Text between tags (raw, before entities are decoded): each
    /// character that makes the serializer search on searches up to the
    /// next `<` or `>` (written as such or as a character reference).
    pub(super) fn text(&mut self, text: &[u8]) {
        let mut from = 0;
        // The bytes that matter are rare in text: found with memchr.
        for i in memchr::memchr3_iter(b'>', b'&', 0xc2, text) {
            let b = text[i];
            if b == b'>' || (b == b'&' && is_angle_reference(&text[i + 1..])) {
                self.add(i - from);
                self.run = 0;
                from = i;
            } else {
                // `&` of another reference, or U+0080–U+00BF's first byte.
                self.run += 1;
            }
        }
        self.add(text.len() - from);
    }

    fn add(&mut self, searched: usize) {
        self.work = self.work.saturating_add(self.run.saturating_mul(searched));
    }
}

/// Whether a character reference (after its `&`) stands for `<` or `>`.
fn is_angle_reference(rest: &[u8]) -> bool {
    let head = &rest[..rest.len().min(6)];
    [&b"lt"[..], b"gt", b"#60", b"#62", b"#x3c", b"#x3e"]
        .iter()
        .any(|r| head.len() >= r.len() && head[..r.len()].eq_ignore_ascii_case(r))
}

#[cfg(test)]
mod tests;
