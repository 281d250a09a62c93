//! Plain text from HTML and HTML from plain text: tags stripped (blocks
//! as line breaks), entities decoded, whitespace folded, and characters
//! XML 1.0 forbids removed.

use std::borrow::Cow;

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

pub(crate) fn looks_like_markup(s: &str) -> bool {
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
pub(crate) fn collapse(s: &str, keep_lines: bool) -> String {
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

pub(crate) const BLOCK_TAGS: &[&str] = &[
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
pub(crate) fn strip_tags(html: &str, blocks: bool) -> String {
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
pub(crate) fn push_text(text: &mut Vec<u8>, t: &str, blocks: bool) {
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
pub(crate) fn find_ignore_ascii_case(hay: &str, needle: &str) -> Option<usize> {
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

pub(crate) fn text_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        out.push_str("<p>");
        out.push_str(&html_escape::encode_text(&xml_safe(para)).replace('\n', "<br>"));
        out.push_str("</p>");
    }
    out
}

/// ASCII white space as `char::is_whitespace` sees it (which, unlike
/// `u8::is_ascii_whitespace`, counts the vertical tab).
pub(crate) const ASCII_SPACE: [bool; 128] = {
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
pub(crate) const STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i <= 0x20 || matches!(i, 0xc2 | 0xe1 | 0xe2 | 0xe3 | 0xef);
        i += 1;
    }
    table
};

/// The first stop byte at or after `i` (or the end).
pub(crate) fn word_end(bytes: &[u8], mut i: usize) -> usize {
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
pub(crate) fn space_len(bytes: &[u8], i: usize) -> usize {
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
