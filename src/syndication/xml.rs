//! The XML writing shared by Atom and RSS: one indented `quick-xml` writer
//! over the output buffer, and text that is cleaned and escaped on the way
//! in.
//!
//! Text is escaped by `quick-xml` (`<`, `>`, `&` in text, which also
//! defuses `]]>`; quotes as well in attributes), never wrapped in CDATA.
//! Attribute values must already be cleaned by the caller: they are URLs,
//! media types, numbers or [`text::short`] values.

use std::io;

use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::text;

/// The writer both XML formats use.
pub(crate) type Xml = Writer<Vec<u8>>;

/// Starts a document in `out`, with the XML declaration written.
pub(crate) fn start_document(out: Vec<u8>) -> io::Result<Xml> {
    let mut xml = Writer::new_with_indent(out, b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    Ok(xml)
}

/// The finished document. `Writer` reports `io::Error` because it is
/// generic over its sink, but writing into a `Vec<u8>` cannot fail (short
/// of running out of memory, which aborts anyway).
pub(crate) fn finish(written: io::Result<Xml>) -> Vec<u8> {
    let mut out = written
        .expect("writing XML into a Vec<u8> cannot fail")
        .into_inner();
    out.push(b'\n');
    out
}

/// `raw` as escaped XML text, cleaned of characters XML forbids.
pub(crate) fn text(raw: &str) -> BytesText<'_> {
    BytesText::from_escaped(partial_escape(text::clean(raw)))
}

/// Text that [`text::clean`] already went over, escaped inside the element
/// being written (item bodies are cleaned once for every format).
///
/// Bodies are most of a document, so they are escaped straight into the
/// output buffer rather than through an escaped copy: an empty text event
/// first tells the writer that the element holds text (so it adds no
/// indentation before the closing tag), then `html-escape` appends the
/// text with `&`, `<` and `>` escaped, which is exactly XML text escaping.
pub(crate) fn write_clean_text(xml: &mut Xml, clean: &str) -> io::Result<()> {
    xml.write_event(Event::Text(BytesText::from_escaped("")))?;
    html_escape::encode_text_to_vec(clean, xml.get_mut());
    Ok(())
}

/// `<name>raw</name>`
pub(crate) fn text_element(xml: &mut Xml, name: &str, raw: &str) -> io::Result<()> {
    xml.create_element(name).write_text_content(text(raw))?;
    Ok(())
}

/// Opens `element` (with its attributes); close it with [`close`].
pub(crate) fn open(xml: &mut Xml, element: BytesStart<'_>) -> io::Result<()> {
    xml.write_event(Event::Start(element))
}

/// `</name>`
pub(crate) fn close(xml: &mut Xml, name: &str) -> io::Result<()> {
    xml.write_event(Event::End(BytesEnd::new(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut Xml) -> io::Result<()>) -> String {
        let mut xml = Writer::new(Vec::new());
        f(&mut xml).unwrap();
        String::from_utf8(xml.into_inner()).unwrap()
    }

    #[test]
    fn text_is_cleaned_and_escaped_without_cdata() {
        let out = written(|xml| text_element(xml, "t", "a]]>b<c>&d\"e'\u{0}\u{b}f"));
        assert_eq!(out, "<t>a]]&gt;b&lt;c&gt;&amp;d\"e'f</t>");
    }

    #[test]
    fn clean_text_is_escaped_in_place_without_indentation() {
        let mut xml = Writer::new_with_indent(Vec::new(), b' ', 2);
        xml.create_element("content")
            .write_inner_content(|xml| {
                write_clean_text(xml, "<p>a & b ]]> c</p>")?;
                write_clean_text(xml, "\"d\"")
            })
            .unwrap();
        let out = String::from_utf8(xml.into_inner()).unwrap();
        assert_eq!(
            out,
            "<content>&lt;p&gt;a &amp; b ]]&gt; c&lt;/p&gt;\"d\"</content>"
        );
    }

    #[test]
    fn attributes_escape_quotes() {
        let out = written(|xml| {
            xml.create_element("a")
                .with_attribute(("title", "\"q\" & 'r' <s>"))
                .write_empty()?;
            Ok(())
        });
        assert_eq!(
            out,
            "<a title=\"&quot;q&quot; &amp; &apos;r&apos; &lt;s&gt;\"/>"
        );
    }
}
