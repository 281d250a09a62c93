//! The guard that keeps hostile HTML from making the sanitizer's parser
//! do more than linear work.
//!
//! HTML parsers (html5ever, under ammonia) do work per tag that grows with
//! the number of open elements, and re-open unclosed formatting elements
//! (`<b>`, `<a>`, `<font>`, …) after every block: 20 KB of
//! `<p><b id=1>…<b id=100>` followed by `<p>x` repeated became 3.5 MB and
//! 11 s of work, 100,000 nested `<div>`s did not finish in 5 minutes, and
//! 20,000 `<div></x>` (a stray end tag closes nothing) took 2.3 s.
//! [`html_is_tame`] estimates both costs in one linear scan that reads
//! tags the way the parser's tokenizer does (quoted attribute values,
//! comments, the raw text of `<script>`, `<textarea>` and the like), and
//! closes elements only where the parser would: an end tag closes the
//! nearest open element of its name, unless an element that stops it
//! (any "special" one for an ordinary end tag, a table or cell for a
//! block's) comes first. HTML that fails it is kept as plain text.
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

/// Elements an HTML parser re-opens after a block when left unclosed.
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Elements that never nest: void elements, and those whose end tag the
/// next sibling implies.
const FLAT: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup",
    "caption", "keygen", "basefont", "bgsound", "frame",
];

/// Elements whose start tag closes an open one of them only when that one
/// is the current node (`option`, `optgroup`), or only inside a `ruby`
/// (`rb`, `rt`, `rp`, `rtc`): anywhere else they nest, however many come.
const NESTING_SIBLINGS: &[&str] = &["option", "optgroup", "rb", "rt", "rp", "rtc"];

/// Start tags that may not make an element where text goes (outside a
/// table, or in one but outside its cells), so text around them may end
/// up in one node.
const MERGING: &[&str] = &[
    "html", "body", "head", "frameset", "frame", "col", "colgroup", "tbody", "thead", "tfoot",
    "tr", "td", "th", "caption", "form", "table",
];

/// Elements with no content, which close nothing.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements whose content the tokenizer reads as text up to their end tag.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// The parser's "special" elements (besides the flat ones): an end tag of
/// another name stops at them.
const SPECIAL: &[&str] = &[
    "address",
    "applet",
    "article",
    "aside",
    "blockquote",
    "body",
    "button",
    "center",
    "details",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "html",
    "listing",
    "main",
    "marquee",
    "menu",
    "nav",
    "object",
    "ol",
    "pre",
    "search",
    "section",
    "select",
    "summary",
    "table",
    "template",
    "ul",
    "svg",
    "math",
    "foreignobject",
    "desc",
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext",
];

/// Elements an end tag of a special element does not look past (the
/// parser's "scope" boundaries).
const SCOPE: &[&str] = &[
    "applet",
    "caption",
    "td",
    "th",
    "html",
    "marquee",
    "object",
    "table",
    "template",
    "foreignobject",
    "desc",
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext",
];

fn is_one_of(name: &str, list: &[&str]) -> bool {
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
    while let Some(found) = bytes[i..].iter().position(|&b| b == b'<') {
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
                if bytes.get(lt + 1).is_none_or(|b| *b != b'!' && *b != b'?') {
                    // A `<` of text: the serializer's search stops there.
                    escape.run = 0;
                    tree.reconstruct();
                }
                continue;
            }
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

/// Start tags the parser ignores outside a table.
const TABLE_PARTS: &[&str] = &[
    "caption", "col", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr",
];

/// Start tags that close an open `p` (in button scope) and do not re-open
/// formatting elements first.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "search",
    "section",
    "summary",
    "ul",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "listing",
    "form",
    "hr",
    "xmp",
    "plaintext",
    "li",
    "dd",
    "dt",
    "table",
];

/// An element on the stack of open elements: its name, for a formatting
/// element the id of its entry in the active list, and whether it is of
/// the SVG or MathML namespace.
struct Open<'a> {
    name: &'a str,
    formatting: Option<u32>,
    foreign: bool,
}

/// Foreign elements whose content is parsed as HTML ("integration
/// points").
const INTEGRATION_POINTS: &[&str] = &[
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext",
    "annotation-xml",
    "foreignobject",
    "desc",
    "title",
];

/// Start tags that, in foreign content, close the foreign elements and
/// are HTML (`font` only with one of the attributes `color`, `face`,
/// `size`).
const BREAKOUT: &[&str] = &[
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "center",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "i",
    "img",
    "li",
    "listing",
    "menu",
    "meta",
    "nobr",
    "ol",
    "p",
    "pre",
    "ruby",
    "s",
    "small",
    "span",
    "strong",
    "strike",
    "sub",
    "sup",
    "table",
    "tt",
    "u",
    "ul",
    "var",
];

/// Whether start tag `name` (written `tag`) leaves foreign content.
fn breaks_out(name: &str, tag: &str) -> bool {
    if name.eq_ignore_ascii_case("font") {
        let lower = tag.to_ascii_lowercase();
        return ["color", "face", "size"].iter().any(|a| {
            lower
                .match_indices(a)
                .any(|(at, _)| lower[..at].ends_with(is_tag_space_char))
        });
    }
    is_one_of(name, BREAKOUT)
}

fn is_tag_space_char(c: char) -> bool {
    c.is_ascii() && is_tag_space(c as u8)
}

/// An entry of the list of active formatting elements, or a marker (a
/// cell, caption or the like was opened: entries before it are not
/// re-opened inside it).
struct Active<'a> {
    /// The whole start tag; empty for a marker.
    tag: &'a str,
    id: u32,
    on_stack: bool,
}

/// The parser's stack of open elements and list of active formatting
/// elements, as far as they bear on its work.
#[derive(Default)]
struct Tree<'a> {
    stack: Vec<Open<'a>>,
    active: Vec<Active<'a>>,
    next_id: u32,
    /// Bytes of formatting tags re-opened so far.
    reopened: usize,
    /// Open `table` elements.
    tables: usize,
}

impl<'a> Tree<'a> {
    fn has_open(&self, names: &[&str]) -> bool {
        self.stack.iter().any(|o| is_one_of(o.name, names))
    }

    /// Whether the current node is a foreign element whose content is not
    /// parsed as HTML.
    fn in_foreign(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|o| o.foreign && !is_one_of(o.name, INTEGRATION_POINTS))
    }

    fn push(&mut self, name: &'a str, formatting: Option<u32>, foreign: bool) {
        if !foreign && name.eq_ignore_ascii_case("table") {
            self.tables += 1;
        }
        self.stack.push(Open {
            name,
            formatting,
            foreign,
        });
    }

    fn push_formatting(&mut self, tag: &'a str) {
        let id = self.next_id;
        self.next_id += 1;
        self.push(tag_name(tag), Some(id), false);
        self.active.push(Active {
            tag,
            id,
            on_stack: true,
        });
    }

    /// Re-opens the active formatting elements after the last marker or
    /// open one, as the parser does before text and inline tags.
    fn reconstruct(&mut self) {
        let mut from = self.active.len();
        while from > 0 && !self.active[from - 1].tag.is_empty() && !self.active[from - 1].on_stack {
            from -= 1;
        }
        for k in from..self.active.len() {
            let tag = self.active[k].tag;
            let id = self.next_id;
            self.next_id += 1;
            self.active[k].id = id;
            self.active[k].on_stack = true;
            self.reopened += tag.len();
            self.push(tag_name(tag), Some(id), false);
        }
    }

    /// Pops the stack down to `len` elements, as closing an element does.
    fn truncate(&mut self, len: usize) {
        while self.stack.len() > len {
            let open = self.stack.pop().expect("longer than len");
            if !open.foreign && open.name.eq_ignore_ascii_case("table") {
                self.tables -= 1;
            }
            if let Some(id) = open.formatting {
                if let Some(a) = self
                    .active
                    .iter_mut()
                    .find(|a| a.id == id && !a.tag.is_empty())
                {
                    a.on_stack = false;
                }
            } else if is_one_of(open.name, MARKERS) {
                // Leaving a cell or the like drops the entries opened in it.
                let marker = self.active.iter().rposition(|a| a.tag.is_empty());
                self.active.truncate(marker.unwrap_or(0));
            }
        }
    }

    /// The position of the nearest open element named one of `names`, if
    /// no element for which `stops` holds comes first.
    fn in_scope(&self, names: &[&str], stops: impl Fn(&str) -> bool) -> Option<usize> {
        for at in (0..self.stack.len()).rev() {
            let open = self.stack[at].name;
            if is_one_of(open, names) {
                return Some(at);
            }
            if stops(open) {
                return None;
            }
        }
        None
    }

    /// An HTML start tag (outside foreign content).
    fn start_tag(&mut self, name: &'a str, tag: &'a str) {
        if is_one_of(name, BLOCK) {
            if let Some(at) = self.in_scope(&["p"], |n| {
                is_one_of(n, SCOPE) || n.eq_ignore_ascii_case("button")
            }) {
                self.truncate(at);
            }
            if is_one_of(name, &["li"]) {
                if let Some(at) = self.in_scope(&["li"], stops_list_items) {
                    self.truncate(at);
                }
            } else if is_one_of(name, &["dd", "dt"]) {
                if let Some(at) = self.in_scope(&["dd", "dt"], stops_list_items) {
                    self.truncate(at);
                }
            } else if is_one_of(name, HEADINGS)
                && self
                    .stack
                    .last()
                    .is_some_and(|o| is_one_of(o.name, HEADINGS))
            {
                self.stack.pop();
            }
        } else if is_one_of(name, &["td", "th"]) {
            if let Some(at) = self.in_scope(&["td", "th", "tr"], |n| is_one_of(n, TABLE_SCOPE)) {
                if is_one_of(self.stack[at].name, &["td", "th"]) {
                    self.truncate(at);
                }
            }
        } else if is_one_of(name, &["tr"]) {
            if let Some(at) = self.in_scope(&["tr"], |n| is_one_of(n, TABLE_SCOPE)) {
                self.truncate(at);
            }
        } else if is_one_of(
            name,
            &["tbody", "thead", "tfoot", "caption", "colgroup", "col"],
        ) {
            if let Some(at) = self.in_scope(&["table"], |_| false) {
                self.truncate(at + 1);
            }
        } else {
            if is_one_of(name, NESTING_SIBLINGS) {
                self.implied_close(name);
            }
            self.reconstruct();
            // An `a` while one is active, a `nobr` while one is open,
            // first end that one.
            let after = self
                .active
                .iter()
                .rposition(|a| a.tag.is_empty())
                .map_or(0, |m| m + 1);
            if (name.eq_ignore_ascii_case("a")
                && self.active[after..]
                    .iter()
                    .any(|a| tag_name(a.tag).eq_ignore_ascii_case("a")))
                || (name.eq_ignore_ascii_case("nobr")
                    && self.in_scope(&["nobr"], |n| is_one_of(n, SCOPE)).is_some())
            {
                self.end_tag(name);
                self.reconstruct();
            }
        }
        if is_one_of(name, FORMATTING) {
            // Noah's Ark: at most three identical entries after the last
            // marker; the earliest goes from the list (not the stack).
            let after = self
                .active
                .iter()
                .rposition(|a| a.tag.is_empty())
                .map_or(0, |m| m + 1);
            let same: Vec<usize> = (after..self.active.len())
                .filter(|&k| self.active[k].tag == tag)
                .collect();
            if same.len() >= 3 {
                self.active.remove(same[0]);
            }
            self.push_formatting(tag);
            return;
        }
        if is_one_of(name, VOID) || name.eq_ignore_ascii_case("col") {
            return;
        }
        let foreign = is_one_of(name, &["svg", "math"]);
        if foreign && tag.trim_end_matches('>').ends_with('/') {
            return;
        }
        self.push(name, None, foreign);
        if is_one_of(name, MARKERS) {
            self.active.push(Active {
                tag: "",
                id: u32::MAX,
                on_stack: false,
            });
        }
    }

    /// What the start tag of one of [`NESTING_SIBLINGS`] closes before it
    /// is opened itself: an `option` that is the current node, or, inside
    /// a `ruby`, the ruby parts on top of the stack.
    fn implied_close(&mut self, name: &str) {
        if is_one_of(name, &["option", "optgroup"]) {
            if self
                .stack
                .last()
                .is_some_and(|o| o.name.eq_ignore_ascii_case("option"))
            {
                self.truncate(self.stack.len() - 1);
            }
        } else if self.has_open(&["ruby"]) {
            while self
                .stack
                .last()
                .is_some_and(|o| is_one_of(o.name, &["rb", "rt", "rp", "rtc"]))
            {
                self.truncate(self.stack.len() - 1);
            }
        }
    }

    /// Closes the current node if it is `name` (a raw-text element whose
    /// end tag the scan skipped to).
    fn close_current(&mut self, name: &str) {
        if self
            .stack
            .last()
            .is_some_and(|o| o.name.eq_ignore_ascii_case(name))
        {
            self.truncate(self.stack.len() - 1);
        }
    }

    /// What an end tag closes: for a formatting element with an active
    /// entry, that element (the "adoption agency": the stack keeps its
    /// depth when a special element was opened inside it); otherwise the
    /// nearest open element of that name and all above it, unless the
    /// parser would stop first.
    fn end_tag(&mut self, name: &str) {
        if self.stack.last().is_some_and(|o| o.foreign) {
            // Foreign content: the nearest element of the name among the
            // foreign ones on top closes; past them, HTML rules apply.
            for at in (0..self.stack.len()).rev() {
                if !self.stack[at].foreign {
                    break;
                }
                if self.stack[at].name.eq_ignore_ascii_case(name) {
                    self.truncate(at);
                    return;
                }
            }
        }
        if is_one_of(name, FORMATTING) {
            let after = self
                .active
                .iter()
                .rposition(|a| a.tag.is_empty())
                .map_or(0, |m| m + 1);
            if let Some(k) = (after..self.active.len())
                .rev()
                .find(|&k| tag_name(self.active[k].tag).eq_ignore_ascii_case(name))
            {
                let entry = self.active.remove(k);
                if entry.on_stack {
                    if let Some(at) = self
                        .stack
                        .iter()
                        .rposition(|o| o.formatting == Some(entry.id))
                    {
                        if self.stack[at + 1..].iter().any(|o| is_special(o.name)) {
                            // A furthest block: the element is cloned
                            // into it, or the tag ignored past a table.
                            // Either way the stack keeps its depth.
                            self.active.insert(k, entry);
                        } else {
                            self.truncate(at);
                        }
                    }
                }
                return;
            }
        }
        let stop = if is_one_of(name, TABLE_PARTS) || name.eq_ignore_ascii_case("table") {
            TABLE_SCOPE
        } else if is_special(name) {
            SCOPE
        } else {
            SPECIAL
        };
        for at in (0..self.stack.len()).rev() {
            let open = self.stack[at].name;
            if open.eq_ignore_ascii_case(name) && !self.stack[at].foreign {
                self.truncate(at);
                return;
            }
            if is_one_of(open, stop) || (stop == SPECIAL && is_special(open)) {
                return;
            }
        }
    }
}

/// The parser's special elements: [`SPECIAL`] and the non-void [`FLAT`]
/// ones.
fn is_special(name: &str) -> bool {
    is_one_of(name, SPECIAL) || (is_one_of(name, FLAT) && !is_one_of(name, VOID))
}

/// Elements whose opening puts a marker in the active formatting list.
const MARKERS: &[&str] = &[
    "td", "th", "caption", "applet", "object", "marquee", "template",
];

/// Headings, which close a heading that is the current node.
const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

/// Where a search for an open table part stops ("table scope").
const TABLE_SCOPE: &[&str] = &["html", "table", "template"];

/// Where a search for an open `li`, `dd` or `dt` stops: at a special
/// element other than `address`, `div` and `p`.
fn stops_list_items(name: &str) -> bool {
    is_special(name) && !is_one_of(name, &["address", "div", "p"])
}

/// An estimate of the serializer's escaping work (see the module docs).
#[derive(Default)]
struct Escape {
    /// Characters in the current text node that make it search on.
    run: usize,
    /// Bytes searched so far.
    work: usize,
}

impl Escape {
    /// Text between tags (raw, before entities are decoded): each
    /// character that makes the serializer search on searches up to the
    /// next `<` or `>` (written as such or as a character reference).
    fn text(&mut self, text: &[u8]) {
        let mut from = 0;
        for (i, &b) in text.iter().enumerate() {
            if b == b'>' || (b == b'&' && is_angle_reference(&text[i + 1..])) {
                self.add(i - from);
                self.run = 0;
                from = i;
            } else if b == b'&' || b == 0xc2 {
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

/// The tag name at the start of a formatting element's tag text.
fn tag_name(tag: &str) -> &str {
    let t = &tag[1..];
    let len = t.bytes().take_while(|b| !is_tag_space(*b)).count();
    &t[..len]
}

enum Kind<'a> {
    /// Not a tag (a comment, a stray `<`): nothing opens or closes.
    Text,
    Start(&'a str),
    End(&'a str),
}

struct Tag<'a> {
    kind: Kind<'a>,
    /// Where the scan goes on.
    end: usize,
    /// Written `<x/>` (which only foreign content honours).
    self_closing: bool,
    /// The serializer's escaping work on its attribute values.
    attribute_work: usize,
}

fn is_tag_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/' | b'>')
}

/// Reads what starts at `html[lt]` (a `<`) as the tokenizer does; `None`
/// when the document ends inside a tag or comment (the parser drops it).
fn read_tag(html: &str, lt: usize) -> Option<Tag<'_>> {
    let bytes = html.as_bytes();
    let after = lt + 1;
    let text = |end| Tag {
        kind: Kind::Text,
        end,
        self_closing: false,
        attribute_work: 0,
    };
    let find = |from: usize, needle: &[u8]| {
        bytes[from.min(bytes.len())..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| from + p)
    };
    match bytes.get(after) {
        Some(b'!') if bytes[after..].starts_with(b"!--") => {
            // `<!-->` and `<!--->` are whole (empty) comments.
            let from = after + 3;
            if bytes[from..].starts_with(b">") {
                return Some(text(from + 1));
            }
            if bytes[from..].starts_with(b"->") {
                return Some(text(from + 2));
            }
            find(from, b"-->").map(|e| text(e + 3))
        }
        Some(b'!' | b'?') => find(after, b">").map(|e| text(e + 1)),
        Some(b'/') => match bytes.get(after + 1) {
            Some(b) if b.is_ascii_alphabetic() => {
                let (name, end, _, _) = read_rest(html, after + 1)?;
                Some(Tag {
                    kind: Kind::End(name),
                    end,
                    self_closing: false,
                    attribute_work: 0,
                })
            }
            // `</>` is dropped; `</ x>` and the like are bogus comments.
            Some(_) => find(after, b">").map(|e| text(e + 1)),
            None => None,
        },
        Some(b) if b.is_ascii_alphabetic() => {
            let (name, end, self_closing, attribute_work) = read_rest(html, after)?;
            Some(Tag {
                kind: Kind::Start(name),
                end,
                self_closing,
                attribute_work,
            })
        }
        _ => Some(text(after)),
    }
}

/// Reads a tag's name (from `at`) and attributes up to its `>`: the name,
/// where the tag ends, whether it ends in `/>`, and the serializer's
/// escaping work on its attribute values.
fn read_rest(html: &str, at: usize) -> Option<(&str, usize, bool, usize)> {
    let bytes = html.as_bytes();
    let name_end = at
        + bytes[at..]
            .iter()
            .take_while(|b| !is_tag_space(**b))
            .count();
    let name = &html[at..name_end];
    let mut i = name_end;
    let mut slash = false;
    let mut work = 0usize;
    loop {
        let b = *bytes.get(i)?;
        match b {
            b'>' => return Some((name, i + 1, slash, work)),
            b'/' => {
                slash = true;
                i += 1;
            }
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => i += 1,
            _ => {
                slash = false;
                // An attribute name, then perhaps `=` and a value.
                i += 1;
                while bytes
                    .get(i)
                    .is_some_and(|b| !is_tag_space(*b) && *b != b'=')
                {
                    i += 1;
                }
                while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                if bytes.get(i) != Some(&b'=') {
                    continue;
                }
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                let value = match bytes.get(i) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let close = bytes[i + 1..].iter().position(|&b| b == q)?;
                        i += close + 2;
                        &bytes[i - close - 1..i - 1]
                    }
                    _ => {
                        let from = i;
                        while bytes
                            .get(i)
                            .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                        {
                            i += 1;
                        }
                        &bytes[from..i]
                    }
                };
                let mut escape = Escape::default();
                escape.text(value);
                work = work.saturating_add(escape.work);
            }
        }
    }
}

/// Where the raw text of element `name` (which started before `from`)
/// ends: just after its end tag; `None` when it runs to the end.
fn skip_raw_text(html: &str, from: usize, name: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(p) = bytes[at..].windows(2).position(|w| w == b"</") {
        let start = at + p + 2;
        let end = start + name.len();
        if bytes
            .get(start..end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            && bytes.get(end).is_none_or(|b| is_tag_space(*b))
        {
            return Some(
                bytes[end..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map_or(bytes.len(), |g| end + g + 1),
            );
        }
        at = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_html_is_tame() {
        // Long, and sloppy: an <i> left open in every paragraph.
        let article =
            "<p>Some <b>bold</b> and <a href=\"/x\">a link</a>.</p><ul><li>one<li>two</ul>\
                       <p>unclosed <i>italic<p>next<br><img src=x><div>box</div>"
                .repeat(5000);
        assert!(html_is_tame(&article));
        let nested = format!("{}x{}", "<div>".repeat(200), "</div>".repeat(200));
        assert!(html_is_tame(&nested));
        let table = "<table><tr><td>a<td>b</table>".repeat(5000);
        assert!(html_is_tame(&table));
        let svg = format!("<svg>{}</svg>", "<path d=\"M0 0\"/>".repeat(1000));
        assert!(html_is_tame(&svg));
        let script = format!("<script>{}</script>", "<div>".repeat(1000));
        assert!(html_is_tame(&script));
    }

    #[test]
    fn deep_or_reopening_html_is_not() {
        let nested = format!("{}x{}", "<div>".repeat(300), "</div>".repeat(300));
        assert!(!html_is_tame(&nested));
        let mut reopen = String::from("<p>");
        for i in 0..100 {
            reopen.push_str(&format!("<b id={i}>"));
        }
        reopen.push_str(&"<p>x".repeat(5000));
        assert!(!html_is_tame(&reopen));
        let distinct: String = (0..300).map(|i| format!("<font size={i}>")).collect();
        assert!(!html_is_tame(&distinct));
        // Identical ones are kept three times, but each nests.
        assert!(!html_is_tame(&"<b class=x>".repeat(300)));
        // Three long identical tags closed by the next paragraph and
        // re-opened in every one after: counted by their bytes. Left open
        // outside a paragraph, nothing closes them and nothing re-opens.
        let long = format!("<b title=\"{}\">", "t".repeat(1000)).repeat(3);
        assert!(!html_is_tame(&format!("<p>{long}{}", "<p>x".repeat(2000))));
        assert!(html_is_tame(&format!("{long}{}", "<p>x".repeat(2000))));
        // Formatting left open across tags that close nothing nests.
        for piece in [
            "<</math>\"<math><pre>\u{a0}<form>",
            "<b></div>",
            "<b><div></div>",
            "<b><br>",
            "<b><td>",
            "<i></p>x",
            "<dt><li><span></ul>",
        ] {
            assert!(!html_is_tame(&piece.repeat(300)), "{piece}");
        }
    }

    #[test]
    fn escaping_work_is_bounded() {
        // Fine: many entities, in paragraphs, cells, or next to a `<`.
        let prose = "<p>Tom &amp; Jerry &#8217;s caf\u{e9} \u{a9} 2024</p>".repeat(20_000);
        assert!(html_is_tame(&prose));
        let cells = "<table>".to_string() + &"<tr><td>a &amp; b<td>&copy;".repeat(20_000);
        assert!(html_is_tame(&cells));
        assert!(html_is_tame(&"&amp; &lt; ".repeat(2_000)));
        // Not: one long node or value of them.
        assert!(!html_is_tame(&"&amp; ".repeat(200_000)));
        assert!(!html_is_tame(&"\u{a0}".repeat(200_000)));
        assert!(
            !html_is_tame(&"&</x>".repeat(200_000)),
            "stray end tags merge text"
        );
        let attr = format!("<img alt=\"{}\">", "&amp;".repeat(200_000));
        assert!(!html_is_tame(&attr));
        let area = format!("<textarea>{}</textarea>", "&".repeat(200_000));
        assert!(!html_is_tame(&area));
    }

    #[test]
    fn end_tags_close_only_what_the_parser_closes() {
        for piece in [
            "<div></x>",
            "<div/>",
            "<div><i title=\"></div>\">",
            "<div><textarea></div></textarea>",
            "<div><!-- </div> -->",
            "<span><div></span>",
            "<div><table></div>",
            "<div></ div>",
        ] {
            assert!(!html_is_tame(&piece.repeat(300)), "{piece}");
        }
        // Siblings that close each other only as the current node or in a
        // ruby nest when formatting comes between them or no ruby is open.
        for piece in ["<i class=a><option>", "<b><optgroup>", "<rb>", "<rt>x"] {
            assert!(!html_is_tame(&piece.repeat(300)), "{piece}");
        }
        for piece in [
            "<div></div>",
            "<div><span></div>",
            "<ul><li>x</ul>",
            "<select><option>a<option>b<optgroup><option>c</select>",
            "<ruby>a<rb>b<rt>c<rp>d</ruby>",
            "<svg><p></svg>",
            "<math><mi><b>x</b></mi></math>",
        ] {
            assert!(html_is_tame(&piece.repeat(3000)), "{piece}");
        }
    }
}
