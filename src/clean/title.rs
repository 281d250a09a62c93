//! Titles for entries that have none (microblog posts, many JSON Feeds,
//! podcasts that only describe): a short line a reader can scan, taken from
//! the entry's text, else from its link.
//!
//! A derived title is marked as such in the store (`articles.title_derived`)
//! so that it is never mistaken for the publisher's.
//!
//! Bound: at most [`SCAN_CHARS`] characters of the text are read, whatever
//! its length, and the result holds at most [`DERIVED_TITLE_CHARS`]
//! characters plus an ellipsis.

use url::Url;

/// Longest derived title, in characters (before the ellipsis): about what a
/// reader's list row shows.
pub const DERIVED_TITLE_CHARS: usize = 80;

/// Characters of the text looked at: enough for the first sentence or the
/// cut, never the whole of a long article.
pub const SCAN_CHARS: usize = 4 * DERIVED_TITLE_CHARS;

/// A title for an entry whose own title is blank: the first sentence of
/// `text` (plain text) when it is short, else its beginning cut at a word
/// boundary with an ellipsis; without text, a readable form of `link`.
/// `None` when there is neither.
pub fn derive(text: &str, link: Option<&str>) -> Option<String> {
    from_text(text).or_else(|| link.and_then(from_link))
}

/// The first sentence or the cut beginning of `text`, on one line.
fn from_text(text: &str) -> Option<String> {
    let mut words: Vec<&str> = Vec::new();
    let mut scanned = 0;
    for word in text.split_whitespace() {
        scanned += word.chars().take(SCAN_CHARS + 1).count() + 1;
        if scanned > SCAN_CHARS && !words.is_empty() {
            break;
        }
        words.push(word);
    }
    if words.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut chars = 0;
    for word in &words {
        let len = word.chars().take(SCAN_CHARS + 1).count();
        let sep = usize::from(!out.is_empty());
        if chars + sep + len > DERIVED_TITLE_CHARS {
            if out.is_empty() {
                // One very long word (a URL, a run of symbols): cut inside it.
                out.extend(word.chars().take(DERIVED_TITLE_CHARS));
            }
            out.push('…');
            return Some(out);
        }
        if sep == 1 {
            out.push(' ');
        }
        out.push_str(word);
        chars += sep + len;
        if ends_sentence(word) {
            trim_full_stop(&mut out);
            return Some(out);
        }
    }
    Some(out)
}

/// Whether `word` closes a sentence (`.`, `!`, `?`, `…` or the CJK full
/// stops), not counting a closing quote or bracket after it. A full stop after one or two letters (`Dr.`, `St.`) or inside an
/// abbreviation (`U.S.`) is not taken for the end.
fn ends_sentence(word: &str) -> bool {
    let word = word.trim_end_matches(['"', '\'', ')', ']', '”', '’', '»']);
    match word.strip_suffix('.') {
        Some(stem) if !stem.ends_with('.') => stem.chars().count() > 2 && !stem.contains('.'),
        Some(_) => true,
        None => word.ends_with(['!', '?', '…', '。', '！', '？']),
    }
}

/// A single full stop ending the sentence is dropped, as in headlines;
/// `?`, `!` and `...` are kept.
fn trim_full_stop(title: &mut String) {
    if title.ends_with('.') && !title.ends_with("..") {
        title.pop();
    }
}

/// `https://news.example/2024/05/harbour-bridge-reopens.html` →
/// `Harbour bridge reopens (news.example)`; the host alone when the path
/// says nothing.
fn from_link(link: &str) -> Option<String> {
    let url = Url::parse(link).ok()?;
    let host = url.host_str()?.trim_start_matches("www.");
    let segment = url
        .path_segments()
        .into_iter()
        .flatten()
        .rev()
        .find(|s| s.chars().any(char::is_alphabetic))
        .unwrap_or("");
    // Escapes decode to any character: controls (`%00`, `%0A`) become
    // spaces or go, as in any title.
    let decoded = super::one_line(&percent_decode(segment));
    let stem = decoded
        .rsplit_once('.')
        .filter(|(_, ext)| ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
        .map_or(decoded.as_str(), |(stem, _)| stem);
    let words: Vec<&str> = stem
        .split(['-', '_', '+', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Some(host.to_owned());
    }
    let phrase = from_text(&words.join(" "))?;
    let mut chars = phrase.chars();
    let first = chars.next()?.to_uppercase();
    Some(format!("{first}{} ({host})", chars.as_str()))
}

/// `%XX` escapes decoded where they form UTF-8; left as they are otherwise.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_short_sentence_is_the_title() {
        assert_eq!(
            derive(
                "Bridge reopens today. Traffic is expected to be heavy.",
                None
            )
            .as_deref(),
            Some("Bridge reopens today")
        );
        assert_eq!(
            derive("  Is this  the end?\nMore text follows.", None).as_deref(),
            Some("Is this the end?")
        );
        // An abbreviation of two letters does not end a sentence.
        assert_eq!(
            derive("Dr. Who returns. Fans cheer.", None).as_deref(),
            Some("Dr. Who returns")
        );
    }

    #[test]
    fn long_text_is_cut_at_a_word_with_an_ellipsis() {
        let text = "word ".repeat(1000);
        let title = derive(&text, None).unwrap();
        assert!(title.ends_with("word…"), "{title}");
        assert!(title.chars().count() <= DERIVED_TITLE_CHARS + 1);
        let long_word = "x".repeat(500);
        let title = derive(&long_word, None).unwrap();
        assert_eq!(title.chars().count(), DERIVED_TITLE_CHARS + 1);
        // Exactly one sentence-free line that fits is kept whole.
        assert_eq!(derive("just a note", None).as_deref(), Some("just a note"));
    }

    #[test]
    fn without_text_the_link_names_the_item() {
        assert_eq!(
            derive(
                " ",
                Some("https://www.news.example/2024/05/harbour-bridge-reopens.html")
            )
            .as_deref(),
            Some("Harbour bridge reopens (news.example)")
        );
        assert_eq!(
            derive("", Some("https://social.example/@ann/1131")).as_deref(),
            Some("@ann (social.example)")
        );
        assert_eq!(
            derive("", Some("https://x.example/123/456")).as_deref(),
            Some("x.example")
        );
        assert_eq!(
            derive("", Some("https://x.example/caf%C3%A9-cr%C3%A8me")).as_deref(),
            Some("Café crème (x.example)")
        );
        // Controls (which XML forbids) are not decoded into a title; the
        // fuzzer found `<link>http\0\0…\x01le.com/</link>`.
        assert_eq!(
            derive("", Some("https://x.example/http%00%00%01le%0Ab")).as_deref(),
            Some("Httple b (x.example)")
        );
        assert_eq!(derive("", Some("not a url")), None);
        assert_eq!(derive("", None), None);
    }

    #[test]
    fn reads_a_bounded_prefix_of_any_text() {
        // No sentence end in a megabyte of text: the title is still short.
        let text = "a".repeat(1 << 20);
        assert!(derive(&text, None).unwrap().chars().count() <= DERIVED_TITLE_CHARS + 1);
        let text = "ab ".repeat(1 << 18);
        assert!(derive(&text, None).unwrap().chars().count() <= DERIVED_TITLE_CHARS + 1);
    }
}
