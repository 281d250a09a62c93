//! Bytes to UTF-8 text, before any parser sees a document: the
//! byte-order mark, then the XML declaration, then the HTTP charset (only
//! where the document declares none), then UTF-8 if valid, else
//! Windows-1252; UTF-32 is recognised by hand (`encoding_rs` does not
//! decode it). Undecodable bytes become U+FFFD rather than losing the
//! feed, and the declaration is rewritten to say UTF-8 so that nothing
//! decodes twice. Also used on OPML files and on pages `tributary add`
//! and `doctor` look into.

use std::borrow::Cow;
use std::sync::LazyLock;

use encoding_rs::Encoding;
use regex::Regex;

static XML_DECL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*<\?xml[^>]*?\?>"#).expect("valid regex"));
static DECL_ENCODING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']"#).expect("valid regex")
});

/// Decodes `body` to UTF-8 (see the module docs for the order of evidence)
/// and rewrites any XML declaration to declare UTF-8.
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    if let Some(text) = decode_utf32(body) {
        return redeclare(Cow::Owned(text));
    }
    let (encoding, bom_len) = match Encoding::for_bom(body) {
        Some((enc, len)) => (enc, len),
        None => (sniff_encoding(body, content_type), 0),
    };
    let (text, _had_errors) = encoding.decode_without_bom_handling(&body[bom_len..]);
    redeclare(text)
}

/// Rewrites an XML declaration's encoding to UTF-8 (the text is UTF-8 now).
fn redeclare(text: Cow<'_, str>) -> Cow<'_, str> {
    match XML_DECL.find(&text) {
        Some(m) if DECL_ENCODING.is_match(m.as_str()) => {
            let fixed = DECL_ENCODING
                .replace(m.as_str(), "encoding=\"utf-8\"")
                .into_owned();
            let mut out = String::with_capacity(text.len());
            out.push_str(&text[..m.start()]);
            out.push_str(&fixed);
            out.push_str(&text[m.end()..]);
            Cow::Owned(out)
        }
        _ => text,
    }
}

/// UTF-32 (which encoding_rs does not decode), recognised by its byte-order
/// mark or by a `<` in the first code unit; invalid code points become U+FFFD.
fn decode_utf32(body: &[u8]) -> Option<String> {
    let (big_endian, skip) = match body {
        [0, 0, 0xFE, 0xFF, ..] => (true, 4),
        [0xFF, 0xFE, 0, 0, ..] => (false, 4),
        [0, 0, 0, b'<', ..] => (true, 0),
        [b'<', 0, 0, 0, ..] => (false, 0),
        _ => return None,
    };
    Some(
        body[skip..]
            .chunks_exact(4)
            .map(|c| {
                let b = [c[0], c[1], c[2], c[3]];
                let n = if big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                };
                char::from_u32(n).unwrap_or('\u{FFFD}')
            })
            .collect(),
    )
}

fn sniff_encoding(body: &[u8], content_type: Option<&str>) -> &'static Encoding {
    // UTF-16 without a byte-order mark: "<\0" or "\0<".
    match body {
        [0, b'<', ..] => return encoding_rs::UTF_16BE,
        [b'<', 0, ..] => return encoding_rs::UTF_16LE,
        _ => {}
    }
    let head = &body[..body.len().min(512)];
    if head.starts_with(b"<?xml") || head.trim_ascii_start().starts_with(b"<?xml") {
        let head = String::from_utf8_lossy(head);
        if let Some(end) = head.find("?>") {
            if let Some(c) = DECL_ENCODING.captures(&head[..end]) {
                if let Some(enc) = Encoding::for_label(c[1].as_bytes()) {
                    // A UTF-16 label on bytes that read as ASCII is a lie.
                    if enc != encoding_rs::UTF_16LE && enc != encoding_rs::UTF_16BE {
                        return enc.output_encoding();
                    }
                }
            }
        }
    }
    if let Some(charset) = content_type.and_then(http_charset) {
        if let Some(enc) = Encoding::for_label(charset.as_bytes()) {
            if enc != encoding_rs::UTF_16LE && enc != encoding_rs::UTF_16BE {
                return enc.output_encoding();
            }
        }
    }
    if std::str::from_utf8(body).is_ok() {
        encoding_rs::UTF_8
    } else {
        encoding_rs::WINDOWS_1252
    }
}

fn http_charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}
