//! The element-name sets of the HTML parsing algorithm that the cleaning
//! guard needs: what nests, what closes what, where searches stop.

/// Elements an HTML parser re-opens after a block when left unclosed.
pub(super) const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Elements that never nest: void elements, and those whose end tag the
/// next sibling implies.
pub(super) const FLAT: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup",
    "caption", "keygen", "basefont", "bgsound", "frame",
];

/// Elements whose start tag closes an open one of them only when that one
/// is the current node (`option`, `optgroup`), or only inside a `ruby`
/// (`rb`, `rt`, `rp`, `rtc`): anywhere else they nest, however many come.
pub(super) const NESTING_SIBLINGS: &[&str] = &["option", "optgroup", "rb", "rt", "rp", "rtc"];

/// Start tags that may not make an element where text goes (outside a
/// table, or in one but outside its cells), so text around them may end
/// up in one node.
pub(super) const MERGING: &[&str] = &[
    "html", "body", "head", "frameset", "frame", "col", "colgroup", "tbody", "thead", "tfoot",
    "tr", "td", "th", "caption", "form", "table",
];

/// Elements with no content, which close nothing.
pub(super) const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements whose content the tokenizer reads as text up to their end tag.
pub(super) const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// The parser's "special" elements (besides the flat ones): an end tag of
/// another name stops at them.
pub(super) const SPECIAL: &[&str] = &[
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
pub(super) const SCOPE: &[&str] = &[
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

/// Start tags the parser ignores outside a table.
pub(super) const TABLE_PARTS: &[&str] = &[
    "caption", "col", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr",
];

/// Start tags that close an open `p` (in button scope) and do not re-open
/// formatting elements first.
pub(super) const BLOCK: &[&str] = &[
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

/// Foreign elements whose content is parsed as HTML ("integration
/// points").
pub(super) const INTEGRATION_POINTS: &[&str] = &[
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
pub(super) const BREAKOUT: &[&str] = &[
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

/// Elements whose opening puts a marker in the active formatting list.
pub(super) const MARKERS: &[&str] = &[
    "td", "th", "caption", "applet", "object", "marquee", "template",
];

/// Headings, which close a heading that is the current node.
pub(super) const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];

/// Where a search for an open table part stops ("table scope").
pub(super) const TABLE_SCOPE: &[&str] = &["html", "table", "template"];
