//! Authors as feed-rs 3 reads them: the display name taken from its
//! `Person`, and a guard that keeps its name/address splitting from
//! crashing on a whole feed.
//!
//! feed-rs splits the text of RSS `<author>`, `<managingEditor>`,
//! `<webMaster>`, Dublin Core `<creator>` and JSON Feed author names into a
//! name and an e-mail address, and in doing so cuts one byte either side of
//! the address. Where the character next to the address is more than one
//! byte long (`山田（taro@example.jp）`, `«a@b.example»`) that cut falls
//! inside a character and feed-rs panics, which would cost the whole feed.
//! So before feed-rs reads an XML document, an address touching such a
//! character inside one of those elements gets an ASCII space on that side
//! (a bound: one byte added per side of each address; only the text
//! around each `@` is looked at). JSON Feed names are decoded
//! strings, so they are spaced the same way in a second reading after a
//! crash ([`spaced_json`]).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// The elements feed-rs splits into name and address (local names).
const PERSONS: [&str; 4] = ["author", "creator", "managingEditor", "webMaster"];

/// An address as feed-rs's pattern finds one, its optional `<[(`,
/// `mailto:` and `>])` included, so that its cut lands where ours does.
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:<\[\()?(?:mailto:)?[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:>\]\))?")
        .expect("valid regex")
});

/// The display name of an author: the name feed-rs found, else the address
/// (RSS `<author>` is an address, with the name in parentheses after it),
/// without the brackets that enclosed it or were left over from the cut.
pub fn display_name(name: Option<String>, email: Option<String>) -> Option<String> {
    name.as_deref()
        .and_then(unbracketed)
        .or_else(|| email.as_deref().and_then(unbracketed))
}

/// `raw` trimmed, without one pair of brackets around it or one bracket
/// dangling at an end; `None` when nothing is left.
fn unbracketed(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    const PAIRS: [(char, char); 5] = [('(', ')'), ('<', '>'), ('[', ']'), ('（', '）'), ('«', '»')];
    for (open, close) in PAIRS {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            if !inner.contains([open, close]) {
                s = inner.trim();
            }
        } else if let Some(rest) = s.strip_suffix(open) {
            s = rest.trim_end();
        } else if let Some(rest) = s.strip_prefix(close) {
            s = rest.trim_start();
        }
    }
    Some(s.to_string()).filter(|s| !s.is_empty())
}

/// `doc` (XML) with a space between every address in a person element and
/// a neighbouring character of more than one byte (written as itself or as
/// a character reference); borrowed when nothing needed one. Only the
/// surroundings of each `@` are looked at.
pub fn spaced_xml(doc: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    // Each text run is looked at once, from its first `@`: linear time.
    let mut scanned = 0;
    for (at, _) in doc.match_indices('@') {
        if at < scanned {
            continue;
        }
        // The text run around the `@`: from the tag before it to the next.
        let mut start = doc[..at].rfind(['<', '>']).map_or(0, |i| i + 1);
        if doc[..start].ends_with('<') && doc[start..].starts_with("![CDATA[") {
            start += "![CDATA[".len();
        }
        let end = doc[at..].find('<').map_or(doc.len(), |i| at + i);
        scanned = end;
        if start < copied || !in_person(&doc[..start]) {
            continue;
        }
        let run = &doc[start..end];
        if let Cow::Owned(spaced) = space(run, wide_before_xml, wide_after_xml) {
            out.push_str(&doc[copied..start]);
            out.push_str(&spaced);
            copied = end;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(doc);
    }
    out.push_str(&doc[copied..]);
    Cow::Owned(out)
}

/// Whether `head` ends with the start tag of a person element (or of a
/// CDATA section directly inside one).
fn in_person(head: &str) -> bool {
    let head = head.strip_suffix("<![CDATA[").unwrap_or(head);
    let Some(tag) = head
        .strip_suffix('>')
        .and_then(|h| h.rfind('<').map(|i| &h[i + 1..]))
    else {
        return false;
    };
    if tag.starts_with(['/', '!', '?']) || tag.ends_with('/') {
        return false;
    }
    let name = tag.split(|c: char| c.is_whitespace()).next().unwrap_or("");
    let local = name.rsplit(':').next().unwrap_or(name);
    PERSONS.contains(&local)
}

/// `doc` (JSON Feed) with its author names spaced like [`spaced_xml`]
/// does, or `None` when no name needed it (or the document is not JSON).
pub fn spaced_json(doc: &str) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(doc).ok()?;
    let mut changed = space_authors(&mut v);
    if let Some(items) = v.get_mut("items").and_then(|i| i.as_array_mut()) {
        for item in items {
            changed |= space_authors(item);
        }
    }
    changed.then(|| v.to_string())
}

/// Spaces the names under `author` and `authors` of one JSON object.
fn space_authors(v: &mut serde_json::Value) -> bool {
    let mut changed = false;
    let mut fix = |person: &mut serde_json::Value| {
        if let Some(serde_json::Value::String(name)) = person.get_mut("name") {
            if let Cow::Owned(spaced) = space(name, wide_before_text, wide_after_text) {
                *name = spaced;
                changed = true;
            }
        }
    };
    if let Some(author) = v.get_mut("author") {
        fix(author);
    }
    if let Some(authors) = v.get_mut("authors").and_then(|a| a.as_array_mut()) {
        authors.iter_mut().for_each(&mut fix);
    }
    changed
}

/// `text` with a space on each side of an address where `wide_before` /
/// `wide_after` say the neighbouring character is more than one byte.
fn space(text: &str, wide_before: fn(&str) -> bool, wide_after: fn(&str) -> bool) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    for m in ADDRESS.find_iter(text) {
        let before = wide_before(&text[..m.start()]);
        let after = wide_after(&text[m.end()..]);
        if before || after {
            out.push_str(&text[copied..m.start()]);
            if before {
                out.push(' ');
            }
            out.push_str(m.as_str());
            if after {
                out.push(' ');
            }
            copied = m.end();
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

fn wide_before_text(head: &str) -> bool {
    head.chars().next_back().is_some_and(|c| c.len_utf8() > 1)
}

fn wide_after_text(tail: &str) -> bool {
    tail.chars().next().is_some_and(|c| c.len_utf8() > 1)
}

/// Whether the XML before an address ends with a wide character or a
/// reference to one.
fn wide_before_xml(head: &str) -> bool {
    if wide_before_text(head) {
        return true;
    }
    let Some(body) = head.strip_suffix(';') else {
        return false;
    };
    match body.rfind('&') {
        Some(amp) if body.len() - amp <= 12 => reference_is_wide(&body[amp + 1..]),
        _ => false,
    }
}

/// Whether the XML after an address starts with a wide character or a
/// reference to one.
fn wide_after_xml(tail: &str) -> bool {
    if wide_after_text(tail) {
        return true;
    }
    let Some(rest) = tail.strip_prefix('&') else {
        return false;
    };
    match rest.find(';') {
        Some(end) if end <= 12 => reference_is_wide(&rest[..end]),
        _ => false,
    }
}

/// Whether the reference `name` (between `&` and `;`) stands for a
/// character of more than one byte; unknown names count as wide.
fn reference_is_wide(name: &str) -> bool {
    let code = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if let Some(dec) = name.strip_prefix('#') {
        dec.parse().ok()
    } else {
        return !matches!(name, "lt" | "gt" | "amp" | "quot" | "apos");
    };
    code.is_none_or(|c| c > 0x7f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_lose_the_brackets_around_or_left_from_an_address() {
        let name = |n: &str| display_name(Some(n.to_string()), None);
        assert_eq!(name("(Lawyer Boyer)").as_deref(), Some("Lawyer Boyer"));
        assert_eq!(name("山田太郎（").as_deref(), Some("山田太郎"));
        assert_eq!(name("Jane Doe <").as_deref(), Some("Jane Doe"));
        assert_eq!(name("Jane (Editor)").as_deref(), Some("Jane (Editor)"));
        assert_eq!(name("(a) and (b)").as_deref(), Some("(a) and (b)"));
        assert_eq!(name(" ( ) "), None);
        assert_eq!(
            display_name(None, Some("jane@example.com".into())).as_deref(),
            Some("jane@example.com")
        );
        assert_eq!(
            display_name(Some("»".into()), Some("a@b.example".into())).as_deref(),
            Some("a@b.example")
        );
        assert_eq!(display_name(None, None), None);
    }

    #[test]
    fn only_addresses_touching_wide_characters_in_person_elements_are_spaced() {
        let doc = "<item><author>山田（taro@example.jp）</author>\
                   <description>山田（taro@example.jp）</description>\
                   <dc:creator>Jane &lt;jane@example.com&gt;</dc:creator>\
                   <dc:creator>&#xFF08;a@b.example&#12289;</dc:creator>\
                   <author><![CDATA[«a@b.example»]]></author></item>";
        let spaced = spaced_xml(doc);
        assert_eq!(
            spaced,
            "<item><author>山田（ taro@example.jp ）</author>\
             <description>山田（taro@example.jp）</description>\
             <dc:creator>Jane &lt;jane@example.com&gt;</dc:creator>\
             <dc:creator>&#xFF08; a@b.example &#12289;</dc:creator>\
             <author><![CDATA[« a@b.example »]]></author></item>"
        );
        let plain = "<item><author>jane@example.com (Jane)</author></item>";
        let empty = "<author/>«a@b.example»<author>x</author>";
        assert!(matches!(spaced_xml(empty), Cow::Borrowed(_)));
        assert!(matches!(spaced_xml(plain), Cow::Borrowed(_)));
    }

    #[test]
    fn json_names_are_spaced_where_they_touch_wide_characters() {
        let doc = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t",
            "authors":[{"name":"«a@b.example»"}],
            "items":[{"id":"1","content_text":"«a@b.example»","author":{"name":"\u5c71（taro@example.jp）"}}]}"#;
        let spaced: serde_json::Value = serde_json::from_str(&spaced_json(doc).unwrap()).unwrap();
        assert_eq!(spaced["authors"][0]["name"], "« a@b.example »");
        assert_eq!(
            spaced["items"][0]["author"]["name"],
            "山（ taro@example.jp ）"
        );
        assert_eq!(spaced["items"][0]["content_text"], "«a@b.example»");
        assert_eq!(spaced_json(r#"{"authors":[{"name":"Jane"}]}"#), None);
    }

    #[test]
    fn spacing_adds_at_most_two_bytes_per_address() {
        let one = "<author>«a@b.example»</author>";
        let doc = one.repeat(1000);
        let spaced = spaced_xml(&doc);
        assert_eq!(spaced.len(), doc.len() + 2 * 1000);
    }

    #[test]
    fn feeds_whose_author_text_crashed_feed_rs_are_read() {
        let cases = [
            ("山田太郎（taro@example.jp）", "山田太郎"),
            ("taro@example.jp（山田太郎）", "山田太郎"),
            ("«a@b.example»", "a@b.example"),
            ("&#xAB;a@b.example&#xBB;", "a@b.example"),
            ("lawyer@boyer.example (Lawyer Boyer)", "Lawyer Boyer"),
        ];
        for (text, want) in cases {
            let doc = format!(
                "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>T</title>\
                 <item><title>A</title><author>{text}</author><dc:creator>{text}</dc:creator></item>\
                 </channel></rss>"
            );
            let feed = crate::parse::parse(doc.as_bytes(), None, None)
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(feed.entries[0].authors, [want, want], "{text}");
        }
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t",
            "items":[{"id":"1","content_text":"x","authors":[{"name":"\u5c71\u7530（taro@example.jp）"}]}]}"#;
        let feed = crate::parse::parse(json.as_bytes(), None, None).unwrap();
        assert_eq!(feed.entries[0].authors, ["山田"]);
    }

    #[test]
    fn a_long_run_of_at_signs_is_looked_at_once() {
        // Quadratic rescanning would take hours on this; a linear pass,
        // milliseconds.
        let doc = format!("<item><author>{}</author></item>", "@«".repeat(1 << 20));
        let t = std::time::Instant::now();
        assert!(matches!(spaced_xml(&doc), Cow::Borrowed(_)));
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "{:?}",
            t.elapsed()
        );
    }
}
