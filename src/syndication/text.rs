//! Text cleaning shared by every format: which characters may be published,
//! how attribute-sized values are kept short, and the shapes of email
//! addresses, media types and language tags.
//!
//! Every function returns borrowed text when the input is already clean,
//! which is the common case, so cleaning costs one scan and no copy.

use std::borrow::Cow;

/// Longest attribute-like value written (category terms, link titles,
/// versions), in characters. Longer values are cut: they are never
/// meaningful, and some XML parsers refuse huge attributes.
pub(crate) const MAX_SHORT_CHARS: usize = 1024;

/// Whether `c` may appear in published text: XML 1.0 characters minus the
/// other control characters (DEL and C1), which XML only discourages but
/// which never carry meaning in feed text.
fn is_publishable(c: char) -> bool {
    !matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

/// Whether `s` holds a character that [`is_publishable`] rejects, by
/// looking at UTF-8 bytes (no decoding): C0 and DEL are single bytes, C1 is
/// `C2 80..9F`, U+FFFE/U+FFFF are `EF BF BE/BF`.
///
/// Text is scanned in blocks with a branch-free test that the compiler
/// vectorizes; only a block holding a suspect byte (a control character or
/// the lead byte `C2`/`EF`, which also start many harmless characters) is
/// looked at closely. Bodies of whole articles go through here, twice per
/// render of every item, so this is the hot loop of publishing.
fn needs_cleaning(s: &str) -> bool {
    const BLOCK: usize = 64;
    let bytes = s.as_bytes();
    let suspect = |b: u8| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) | (b == 0x7f) | (b == 0xc2) | (b == 0xef)
    };
    bytes.chunks(BLOCK).enumerate().any(|(block, chunk)| {
        chunk.iter().fold(false, |found, &b| found | suspect(b))
            && has_forbidden(bytes, block * BLOCK, block * BLOCK + chunk.len())
    })
}

/// Whether a character starting in `bytes[from..to]` is not publishable.
fn has_forbidden(bytes: &[u8], from: usize, to: usize) -> bool {
    (from..to).any(|i| match bytes[i] {
        0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f => true,
        0xc2 => matches!(bytes.get(i + 1), Some(0x80..=0x9f)),
        0xef => bytes.get(i + 1) == Some(&0xbf) && matches!(bytes.get(i + 2), Some(0xbe | 0xbf)),
        _ => false,
    })
}

/// `s` without the characters that may not be published.
pub(crate) fn clean(s: &str) -> Cow<'_, str> {
    if needs_cleaning(s) {
        Cow::Owned(s.chars().filter(|&c| is_publishable(c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// `s` cleaned, on one line (tabs and line breaks become spaces, which is
/// what an XML parser would make of them in an attribute anyway), trimmed,
/// and cut to [`MAX_SHORT_CHARS`]. Empty when nothing is left.
pub(crate) fn short(s: &str) -> Cow<'_, str> {
    let trimmed = s.trim();
    let fits = trimmed.len() <= MAX_SHORT_CHARS || trimmed.chars().count() <= MAX_SHORT_CHARS;
    if fits && !trimmed.contains(['\t', '\n', '\r']) {
        return match clean(trimmed) {
            Cow::Borrowed(text) => Cow::Borrowed(text),
            Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
        };
    }
    let one_line: String = trimmed
        .chars()
        .filter(|&c| is_publishable(c))
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .take(MAX_SHORT_CHARS)
        .collect();
    Cow::Owned(one_line.trim().to_owned())
}

/// Media type written where a format requires one and the real one is
/// unknown or malformed.
pub(crate) const UNKNOWN_MEDIA_TYPE: &str = "application/octet-stream";

/// `s` as an email address, or `None` when it is not shaped like one
/// (`local@domain`, nothing that needs quoting or escaping).
pub(crate) fn email(s: &str) -> Option<&str> {
    let s = s.trim();
    let (local, domain) = s.split_once('@')?;
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| is_publishable(c) && !c.is_whitespace() && !"@<>()[]\\,;:\"".contains(c))
    };
    (s.len() <= 254 && plain(local) && plain(domain)).then_some(s)
}

/// The `type/subtype` of a media type (parameters dropped), or `None` when
/// it is not one.
pub(crate) fn media_type(s: &str) -> Option<&str> {
    let essence = s.split(';').next().unwrap_or_default().trim();
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let (kind, subtype) = essence.split_once('/')?;
    (essence.len() <= 255 && token(kind) && token(subtype)).then_some(essence)
}

/// `s` as a language tag (`en`, `pt-BR`; `_` read as `-`), or `None` when
/// it does not have the shape RFC 4646 and the Atom schema require.
pub(crate) fn language(s: &str) -> Option<Cow<'_, str>> {
    let s = s.trim();
    let mut subtags = s.split(['-', '_']);
    let primary = subtags.next()?;
    let primary_ok =
        (1..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    let rest_ok =
        subtags.all(|t| (1..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !(primary_ok && rest_ok) {
        None
    } else if s.contains('_') {
        Some(Cow::Owned(s.replace('_', "-")))
    } else {
        Some(Cow::Borrowed(s))
    }
}

/// Whether `s` has nothing to show once cleaned.
pub(crate) fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || !is_publishable(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        let s = "Ünïcödé, tabs\tand\r\nnewlines, emoji 🦀, <b>&amp;</b>";
        assert!(matches!(clean(s), Cow::Borrowed(_)));
    }

    #[test]
    fn forbidden_characters_are_removed() {
        let s =
            "a\u{0}b\u{8}c\u{b}d\u{1f}e\u{7f}f\u{85}g\u{9f}h\u{fffe}i\u{ffff}j\u{fffd}\u{10ffff}";
        assert_eq!(clean(s), "abcdefghij\u{fffd}\u{10ffff}");
        // Characters next to the forbidden ones in UTF-8 survive.
        assert_eq!(clean("\u{a0}\u{fdd0}\u{fffd}"), "\u{a0}\u{fdd0}\u{fffd}");
    }

    #[test]
    fn short_text_is_one_trimmed_line_and_capped() {
        assert_eq!(short("  a\tb\nc\u{1} "), "a b c");
        assert_eq!(short("\u{1}  x  "), "x");
        let long = "é".repeat(MAX_SHORT_CHARS * 3);
        assert_eq!(short(&long).chars().count(), MAX_SHORT_CHARS);
        assert!(matches!(short("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn email_shapes() {
        assert_eq!(email(" ann@example.org "), Some("ann@example.org"));
        for bad in [
            "",
            "ann",
            "@example.org",
            "ann@",
            "a b@c",
            "a@b@c",
            "<a@b>",
            "a@b\u{1}",
        ] {
            assert_eq!(email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn media_type_shapes() {
        assert_eq!(media_type("audio/mpeg"), Some("audio/mpeg"));
        assert_eq!(media_type(" text/html; charset=utf-8"), Some("text/html"));
        for bad in [
            "",
            "audio",
            "/mpeg",
            "audio/",
            "a b/c",
            "a/b/c",
            "audio/mp\"eg",
        ] {
            assert_eq!(media_type(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn language_shapes() {
        assert_eq!(language("en").as_deref(), Some("en"));
        assert_eq!(language("pt_BR").as_deref(), Some("pt-BR"));
        for bad in ["", "-", "en-", "englishlanguage", "e n", "1en"] {
            assert_eq!(language(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn forbidden_characters_are_found_in_any_block() {
        for at in [0, 1, 62, 63, 64, 65, 127, 128, 200] {
            for bad in ["\u{1}", "\u{7f}", "\u{85}", "\u{ffff}"] {
                let mut s = "é©\u{feff}\n".repeat(60);
                let at = s
                    .char_indices()
                    .map(|(i, _)| i)
                    .find(|&i| i >= at)
                    .unwrap_or(s.len());
                s.insert_str(at, bad);
                assert!(needs_cleaning(&s), "{bad:?} at {at}");
                assert!(!clean(&s).contains(bad));
            }
        }
        assert!(!needs_cleaning(&"é©\u{feff}\u{fffd}\t\r\n".repeat(60)));
    }

    #[test]
    fn blank_text() {
        assert!(is_blank(" \t\u{1}\n"));
        assert!(!is_blank(" x "));
    }
}
