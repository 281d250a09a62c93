//! Limits on a document's shape, enforced before feed-rs builds its model.
//!
//! The body cap bounds a document's bytes, not what parsing them costs.
//! Two shapes cost far more than their size, so one cheap scan looks for
//! them first:
//! - **deep nesting**: feed-rs and its XML reader keep state per open
//!   element (about 1.7 KB each, and quick-xml's nesting counter is 16
//!   bits), so 100,000 nested elements in 700 KB took 170 MB and then
//!   overflowed. Documents nested deeper than [`MAX_DEPTH`] are refused.
//! - **very many entries**: feed-rs holds about 1.6 KB per entry, so a
//!   16 MB document of empty `<item/>`s would need gigabytes. Only the
//!   first [`MAX_ENTRIES`] entries (in document order: feeds list the
//!   newest first) are kept; the rest of the list is cut off before
//!   parsing, and [`super::ParsedFeed::entries_dropped`] says how many.
//!
//! - **long `xml:base`**: feed-rs resolves every link against the
//!   `xml:base` in scope, so a 200 KB base on the root and 200 entries
//!   with two relative links each held 80 MB of links from a 215 KB
//!   document. Each element inside an `xml:base` scope is counted as if
//!   it held a link resolved against it; documents where that adds more
//!   than [`MAX_BASE_GROWTH`] times their size (plus
//!   [`BASE_GROWTH_SLACK`]) are refused.
//!
//! - **XML declarations naming another encoding**: the text is UTF-8
//!   by now (see `decode`), but feed-rs hands the encoding of every
//!   declaration it meets to quick-xml, which decodes the rest with it
//!   (mojibake) or, past the first 64 bytes, panics. A second declaration
//!   inside the document (`<item><description>… <?xml version='1.0'
//!   encoding='iso-8859-1'?>`, as a concatenating feed script makes), or a
//!   first one whose label `decode` did not read (`encoding=" latin1 "`),
//!   is turned into a processing instruction (`<?XML …?>`, same length),
//!   which feed-rs ignores.
//!
//! The scan never judges well-formedness: where it cannot read on, it
//! stops and leaves the document as it was, for feed-rs to report.
//!
//! The same scan notes where each kept entry sits in the document
//! (`EntrySpan`), which [`super::skim`] uses to leave known entries out
//! before feed-rs reads the rest.

use std::borrow::Cow;
use std::ops::Range;

use quick_xml::events::Event;

use super::ParseError;

/// Deepest element (or JSON value) nesting accepted. Real feeds stay
/// below 20; XHTML content adds a few levels.
pub const MAX_DEPTH: usize = 256;

/// Entries kept from one document; later ones are dropped.
pub const MAX_ENTRIES: usize = 5_000;

/// Bytes links resolved against `xml:base` may add, per document byte.
pub const MAX_BASE_GROWTH: usize = 4;
/// Bytes links resolved against `xml:base` may add to any document.
pub const BASE_GROWTH_SLACK: usize = 4 << 20;

/// A document within the limits.
#[derive(Debug)]
pub(super) struct Bounded<'a> {
    /// The document, cut after the last kept entry when it had too many.
    pub doc: Cow<'a, str>,
    /// Entries cut off.
    pub dropped: usize,
    /// Where each kept entry sits in `doc`, in document order. Complete
    /// only for a document the scan could read to its end.
    pub entries: Vec<EntrySpan>,
    /// JSON: the inside of the root's `items` array (between the brackets).
    pub items: Option<Range<usize>>,
}

/// Where one entry sits in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EntrySpan {
    /// The entry's bytes: from its start tag's `<` to its end tag's `>`
    /// (XML), or its object (JSON).
    pub at: Range<usize>,
    /// The start tags of the elements enclosing it (XML: the root and, for
    /// RSS, the channel), which can change what its bytes mean (namespace
    /// prefixes, `xml:base`); empty for JSON.
    pub context: Vec<Range<usize>>,
}

fn too_deep(format: &'static str) -> ParseError {
    ParseError::Malformed {
        format,
        message: format!("nested deeper than {MAX_DEPTH} levels"),
    }
}

/// Whether an element at this depth, with this local name, is a feed entry:
/// `rss/channel/item`, `rdf:RDF/item`, `feed/entry` (the parent chain is at
/// most two elements long).
fn is_entry(local: &[u8], open: usize) -> bool {
    open <= 2 && (local == b"item" || local == b"entry")
}

/// Checks the depth of an XML document and cuts its entry list at
/// [`MAX_ENTRIES`], closing the elements left open at the cut.
pub(super) fn xml(doc: &str) -> Result<Bounded<'_>, ParseError> {
    let mut reader = quick_xml::Reader::from_str(doc);
    reader.config_mut().check_end_names = false;
    let mut depth = 0usize;
    // Qualified names of the open elements of the first two levels: the
    // ones to close at a cut (entries are at most two levels down), and
    // where their start tags are.
    let mut outer: Vec<(Vec<u8>, Range<usize>)> = Vec::new();
    let mut entries = 0usize;
    let mut spans = Vec::new();
    // The kept entry being read: where it starts, its depth, its context.
    let mut open: Option<(usize, usize, Vec<Range<usize>>)> = None;
    let mut complete = false;
    let mut cut: Option<(usize, Vec<Vec<u8>>)> = None;
    // The `xml:base` values in scope (the depth that set each, its
    // length), their total length, and what links could add.
    let mut bases: Vec<(usize, usize)> = Vec::new();
    let mut base_len = 0usize;
    let mut base_growth = 0usize;
    let max_base_growth = MAX_BASE_GROWTH * doc.len() + BASE_GROWTH_SLACK;
    // Where the declarations naming an encoding other than UTF-8 start.
    let mut foreign_decls: Vec<usize> = Vec::new();
    loop {
        let at = reader.buffer_position() as usize;
        let (start, empty) = match reader.read_event() {
            Ok(Event::Start(s)) => (s, false),
            Ok(Event::Empty(s)) => (s, true),
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                while bases.last().is_some_and(|(d, _)| *d > depth) {
                    base_len -= bases.pop().map_or(0, |(_, len)| len);
                }
                if open.as_ref().is_some_and(|(_, d, _)| *d == depth) {
                    let (from, _, context) = open.take().expect("checked");
                    let to = reader.buffer_position() as usize;
                    spans.push(EntrySpan {
                        at: from..to,
                        context,
                    });
                }
                continue;
            }
            Ok(Event::Eof) => {
                complete = true;
                break;
            }
            Ok(Event::Decl(d)) => {
                let label = d.encoding().and_then(Result::ok);
                let other = label
                    .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
                    .is_some_and(|e| e != encoding_rs::UTF_8);
                if other {
                    foreign_decls.push(at);
                }
                continue;
            }
            Err(_) => break,
            Ok(_) => continue,
        };
        let own_base = xml_base_len(&start);
        base_growth = base_growth.saturating_add(base_len + own_base);
        if base_growth > max_base_growth {
            return Err(ParseError::Malformed {
                format: "XML",
                message: format!(
                    "xml:base values would make links larger than {MAX_BASE_GROWTH} times the document"
                ),
            });
        }
        if !empty && own_base > 0 {
            bases.push((depth + 1, own_base));
            base_len += own_base;
        }
        if open.is_none() && is_entry(start.local_name().into_inner().as_bytes(), depth) {
            entries += 1;
            if entries == MAX_ENTRIES + 1 {
                cut = Some((
                    at,
                    outer.iter().take(depth).map(|(n, _)| n.clone()).collect(),
                ));
            } else if entries <= MAX_ENTRIES {
                let context = outer.iter().take(depth).map(|(_, r)| r.clone()).collect();
                if empty {
                    spans.push(EntrySpan {
                        at: at..reader.buffer_position() as usize,
                        context,
                    });
                } else {
                    open = Some((at, depth, context));
                }
            }
        }
        if !empty {
            if depth < 2 {
                outer.truncate(depth);
                outer.push((
                    start.name().into_inner().as_bytes().to_vec(),
                    at..reader.buffer_position() as usize,
                ));
            }
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(too_deep("XML"));
            }
        }
    }
    if !complete || open.is_some() {
        spans.clear();
    }
    let doc = without_foreign_decls(doc, &foreign_decls);
    let Some((at, open)) = cut else {
        return Ok(Bounded {
            doc,
            dropped: 0,
            entries: spans,
            items: None,
        });
    };
    let mut out = String::with_capacity(at + 64);
    out.push_str(&doc[..at]);
    for name in open.iter().rev() {
        out.push_str("</");
        out.push_str(&String::from_utf8_lossy(name));
        out.push('>');
    }
    Ok(Bounded {
        doc: Cow::Owned(out),
        dropped: entries - MAX_ENTRIES,
        entries: spans,
        items: None,
    })
}

/// `doc` with the XML declarations starting at `decls` turned into
/// processing instructions (`<?xml` → `<?XML`), which feed-rs skips; the
/// length and every offset stay as they were.
fn without_foreign_decls<'a>(doc: &'a str, decls: &[usize]) -> Cow<'a, str> {
    if decls.is_empty() {
        return Cow::Borrowed(doc);
    }
    let mut bytes = doc.as_bytes().to_vec();
    for &at in decls {
        debug_assert_eq!(&bytes[at..at + 5], b"<?xml");
        bytes[at + 2..at + 5].make_ascii_uppercase();
    }
    Cow::Owned(String::from_utf8(bytes).expect("ASCII letters replaced by ASCII letters"))
}

/// The length of an element's `xml:base` value (0 without one).
fn xml_base_len(start: &quick_xml::events::BytesStart<'_>) -> usize {
    let raw: &str = start.as_ref();
    if !raw.contains("xml:base") {
        return 0;
    }
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == "xml:base")
        .map_or(0, |a| a.value.len())
}

/// Checks the depth of a JSON document and cuts the top-level `items`
/// array after [`MAX_ENTRIES`] elements (the rest of the object is kept).
pub(super) fn json(doc: &str) -> Result<Bounded<'_>, ParseError> {
    let b = doc.as_bytes();
    let mut depth = 0usize;
    // The last string seen at depth 1 (a key of the root object).
    let mut key: &[u8] = b"";
    // Depth of the root's `items` array while inside it.
    let mut in_items = false;
    let mut elements = 0usize;
    let mut expect_element = false;
    // Where the cut starts (the comma before the first dropped element)
    // and ends (the array's closing bracket).
    let mut cut_from: Option<usize> = None;
    let mut cut_to: Option<usize> = None;
    let mut last_comma = 0usize;
    // The kept elements, and the inside of the array.
    let mut spans: Vec<EntrySpan> = Vec::new();
    let mut element_from: Option<usize> = None;
    let mut items_from = 0usize;
    let mut items: Option<Range<usize>> = None;
    let end_element = |from: &mut Option<usize>, to: usize, spans: &mut Vec<EntrySpan>| {
        if let Some(from) = from.take() {
            let to = from + doc[from..to].trim_end().len();
            spans.push(EntrySpan {
                at: from..to,
                context: Vec::new(),
            });
        }
    };
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        if in_items && depth == 2 && expect_element && !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            expect_element = false;
            if c != b']' {
                elements += 1;
                if elements == MAX_ENTRIES + 1 {
                    cut_from = Some(last_comma);
                } else if elements <= MAX_ENTRIES {
                    element_from = Some(i);
                }
            }
        }
        match c {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 {
                    key = &b[start..i.min(b.len())];
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep("JSON"));
                }
                if c == b'[' && depth == 2 && key == b"items" && items.is_none() {
                    in_items = true;
                    expect_element = true;
                    items_from = i + 1;
                }
            }
            b'}' | b']' => {
                if in_items && depth == 2 {
                    in_items = false;
                    end_element(&mut element_from, i, &mut spans);
                    items = Some(items_from..i);
                    if cut_from.is_some() && cut_to.is_none() {
                        cut_to = Some(i);
                    }
                }
                depth = depth.saturating_sub(1);
            }
            b',' if in_items && depth == 2 => {
                end_element(&mut element_from, i, &mut spans);
                last_comma = i;
                expect_element = true;
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 || items.is_none() {
        spans.clear();
        items = None;
    }
    match (cut_from, cut_to) {
        (Some(from), Some(to)) => {
            let mut out = String::with_capacity(doc.len() - (to - from));
            out.push_str(&doc[..from]);
            out.push_str(&doc[to..]);
            Ok(Bounded {
                doc: Cow::Owned(out),
                dropped: elements - MAX_ENTRIES,
                entries: spans,
                items: items.map(|r| r.start..from),
            })
        }
        _ => Ok(Bounded {
            doc: Cow::Borrowed(doc),
            dropped: 0,
            entries: spans,
            items,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_xml_base_over_many_links_is_refused() {
        let entries = "<entry><link href=\"x\"/></entry>".repeat(2000);
        let atom = |base: &str| {
            format!(
                "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"{base}\">{entries}</feed>"
            )
        };
        let long = format!("https://e.example/{}/", "a".repeat(8000));
        assert!(matches!(
            xml(&atom(&long)),
            Err(ParseError::Malformed { .. })
        ));
        assert!(xml(&atom("https://e.example/blog/2024/")).is_ok());
        // Nested bases add up; a closed scope stops counting.
        let nested = format!(
            "<feed xml:base=\"{long}\"><e xml:base=\"{long}\"/></feed>{}",
            "<x/>".repeat(2000)
        );
        assert!(xml(&nested).is_ok());
    }

    #[test]
    fn declarations_naming_another_encoding_are_skipped() {
        let doc = "<?xml version=\"1.0\" encoding=\" latin1 \"?>\n<rss><channel><item>\
                   <description>a <?xml version='1.0' encoding='iso-8859-1'?> b</description>\
                   </item><?xml version=\"1.0\" encoding=\"UTF-8\"?></channel></rss>";
        let b = xml(doc).unwrap();
        assert_eq!(b.doc.len(), doc.len());
        assert_eq!(b.doc.matches("<?XML").count(), 2, "{}", b.doc);
        assert_eq!(
            b.doc
                .matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                .count(),
            1
        );
        assert_eq!(b.entries.len(), 1);
        // As text, in CDATA or a comment, it is left alone.
        let text =
            "<rss><![CDATA[<?xml encoding='latin1'?>]]><!-- <?xml encoding='latin1'?> --></rss>";
        assert!(matches!(xml(text).unwrap().doc, Cow::Borrowed(_)));
    }

    #[test]
    fn deep_xml_is_refused_and_shallow_passes() {
        let deep = format!("<rss>{}{}</rss>", "<a>".repeat(300), "</a>".repeat(300));
        assert!(matches!(xml(&deep), Err(ParseError::Malformed { .. })));
        let ok = format!("<rss>{}{}</rss>", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(xml(&ok).unwrap().dropped, 0);
    }

    #[test]
    fn long_entry_lists_are_cut_and_closed() {
        let items = "<item><title>t</title></item>\n".repeat(MAX_ENTRIES + 7);
        let doc = format!(
            "<rss version=\"2.0\"><channel><title>c</title>{items}<ttl>5</ttl></channel></rss>"
        );
        let b = xml(&doc).unwrap();
        assert_eq!(b.dropped, 7);
        assert!(
            b.doc.ends_with("</channel></rss>"),
            "{}",
            &b.doc[b.doc.len() - 60..]
        );
        assert_eq!(b.doc.matches("<item>").count(), MAX_ENTRIES);
        let atom = format!(
            "<a:feed xmlns:a=\"http://www.w3.org/2005/Atom\">{}</a:feed>",
            "<a:entry/>".repeat(MAX_ENTRIES + 1)
        );
        let b = xml(&atom).unwrap();
        assert_eq!(
            (b.dropped, b.doc.ends_with("<a:entry/></a:feed>")),
            (1, true)
        );
    }

    #[test]
    fn json_items_are_cut_keeping_the_rest() {
        let items = vec!["{\"id\":\"x\",\"t\":[1,{\"a\":\"]\"}]}"; MAX_ENTRIES + 3].join(",");
        let doc = format!("{{\"version\":\"v\",\"items\":[{items}],\"title\":\"T\"}}");
        let b = json(&doc).unwrap();
        assert_eq!(b.dropped, 3);
        let v: serde_json::Value = serde_json::from_str(&b.doc).unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), MAX_ENTRIES);
        assert_eq!(v["title"], "T");
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(300), "]".repeat(300));
        assert!(json(&deep).is_err());
        assert_eq!(json("{\"items\":[]}").unwrap().dropped, 0);
    }
}
