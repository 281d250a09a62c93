//! The parser's two lists, as the cleaning guard keeps them: the stack of
//! open elements (formatting elements on it) and the list of active
//! formatting elements, with the element-name sets of the HTML parsing
//! algorithm that decide what opens, closes and re-opens.

use super::is_one_of;
use super::names::*;
use super::read::is_tag_space;

/// An element on the stack of open elements: its name, for a formatting
/// element the id of its entry in the active list, and whether it is of
/// the SVG or MathML namespace.
pub(super) struct Open<'a> {
    name: &'a str,
    formatting: Option<u32>,
    foreign: bool,
}

/// Whether start tag `name` (written `tag`) leaves foreign content.
pub(super) fn breaks_out(name: &str, tag: &str) -> bool {
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
pub(super) struct Active<'a> {
    /// The whole start tag; empty for a marker.
    tag: &'a str,
    id: u32,
    on_stack: bool,
}

/// The parser's stack of open elements and list of active formatting
/// elements, as far as they bear on its work.
#[derive(Default)]
pub(super) struct Tree<'a> {
    pub(super) stack: Vec<Open<'a>>,
    pub(super) active: Vec<Active<'a>>,
    pub(super) next_id: u32,
    /// Bytes of formatting tags re-opened so far.
    pub(super) reopened: usize,
    /// Open `table` elements.
    pub(super) tables: usize,
}

impl<'a> Tree<'a> {
    /// Where the active entries after the last marker begin.
    fn after_marker(&self) -> usize {
        self.active
            .iter()
            .rposition(|a| a.tag.is_empty())
            .map_or(0, |m| m + 1)
    }

    pub(super) fn has_open(&self, names: &[&str]) -> bool {
        self.stack.iter().any(|o| is_one_of(o.name, names))
    }

    /// Whether the current node is a foreign element whose content is not
    /// parsed as HTML.
    pub(super) fn in_foreign(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|o| o.foreign && !is_one_of(o.name, INTEGRATION_POINTS))
    }

    pub(super) fn push(&mut self, name: &'a str, formatting: Option<u32>, foreign: bool) {
        if !foreign && name.eq_ignore_ascii_case("table") {
            self.tables += 1;
        }
        self.stack.push(Open {
            name,
            formatting,
            foreign,
        });
    }

    pub(super) fn push_formatting(&mut self, tag: &'a str) {
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
    pub(super) fn reconstruct(&mut self) {
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
    pub(super) fn truncate(&mut self, len: usize) {
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
    pub(super) fn in_scope(&self, names: &[&str], stops: impl Fn(&str) -> bool) -> Option<usize> {
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
    pub(super) fn start_tag(&mut self, name: &'a str, tag: &'a str) {
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
            let after = self.after_marker();
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
            let after = self.after_marker();
            let mut same = (after..self.active.len()).filter(|&k| self.active[k].tag == tag);
            if let Some(first) = same.next() {
                if same.count() >= 2 {
                    self.active.remove(first);
                }
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
    pub(super) fn implied_close(&mut self, name: &str) {
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
    pub(super) fn close_current(&mut self, name: &str) {
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
    pub(super) fn end_tag(&mut self, name: &str) {
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
            let after = self.after_marker();
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
        // Where the parser's search for the element stops: a table part's
        // table scope; for `li` list item scope and for `p` button scope
        // (scope, and `ol`/`ul` or `button`: an `</li>` inside a nested
        // list closes nothing); for another special element its scope;
        // for any other element the nearest special one.
        let stops = |open: &str| {
            if is_one_of(name, TABLE_PARTS) || name.eq_ignore_ascii_case("table") {
                is_one_of(open, TABLE_SCOPE)
            } else if name.eq_ignore_ascii_case("li") {
                is_one_of(open, SCOPE) || is_one_of(open, &["ol", "ul"])
            } else if name.eq_ignore_ascii_case("p") {
                is_one_of(open, SCOPE) || open.eq_ignore_ascii_case("button")
            } else if is_special(name) {
                is_one_of(open, SCOPE)
            } else {
                is_special(open)
            }
        };
        for at in (0..self.stack.len()).rev() {
            let open = self.stack[at].name;
            if open.eq_ignore_ascii_case(name) && !self.stack[at].foreign {
                self.truncate(at);
                return;
            }
            if stops(open) {
                return;
            }
        }
    }
}

/// The parser's special elements: [`SPECIAL`] and the non-void [`FLAT`]
/// ones.
pub(super) fn is_special(name: &str) -> bool {
    is_one_of(name, SPECIAL) || (is_one_of(name, FLAT) && !is_one_of(name, VOID))
}

/// Where a search for an open `li`, `dd` or `dt` stops: at a special
/// element other than `address`, `div` and `p`.
fn stops_list_items(name: &str) -> bool {
    is_special(name) && !is_one_of(name, &["address", "div", "p"])
}

/// The tag name at the start of a formatting element's tag text.
pub(super) fn tag_name(tag: &str) -> &str {
    let t = &tag[1..];
    let len = t.bytes().take_while(|b| !is_tag_space(*b)).count();
    &t[..len]
}
