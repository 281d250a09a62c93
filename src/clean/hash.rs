//! The content hash: a fingerprint of an entry's words (title and text,
//! lower-cased, whitespace folded) that tells a changed entry from a
//! re-fetched one. Stored in the database: its bytes must not change.

use super::text::{space_len, word_end};

/// Hash of the normalized title and text: equal for equal content whatever
/// the whitespace and case.
///
/// The hashed bytes are each word (as `str::split_whitespace` finds them)
/// lower-cased and followed by a space, with a newline between title and
/// text. They are built in one buffer in one pass: ASCII words lower-cased
/// byte by byte as they are copied; a word with other characters goes
/// through `str::to_lowercase` whole, as it always did (Greek final sigma
/// depends on where the word ends), so stored hashes stay valid.
pub fn content_hash(title: &str, text: &str) -> u64 {
    fn push_words(s: &str, buf: &mut Vec<u8>) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let space = space_len(bytes, i);
            if space > 0 {
                i += space;
                continue;
            }
            let start = i;
            // A stop byte that is not white space is part of the word.
            loop {
                i = word_end(bytes, i);
                if i == bytes.len() || space_len(bytes, i) > 0 {
                    break;
                }
                i += 1;
            }
            let word = &s[start..i];
            if word.is_ascii() {
                let copied = buf.len();
                buf.extend_from_slice(word.as_bytes());
                buf[copied..].make_ascii_lowercase();
            } else {
                buf.extend_from_slice(word.to_lowercase().as_bytes());
            }
            buf.push(b' ');
        }
    }
    hash_words(title, text, push_words)
}

/// The hash both content hashes share: the title's words, a newline, the
/// text's words, each word written into one buffer by `push_words`.
pub(crate) fn hash_words(title: &str, text: &str, push_words: fn(&str, &mut Vec<u8>)) -> u64 {
    let mut buf: Vec<u8> = Vec::with_capacity(title.len() + text.len() + 2);
    push_words(title, &mut buf);
    buf.push(b'\n');
    push_words(text, &mut buf);
    xxhash_rust::xxh3::xxh3_64(&buf)
}

/// [`content_hash`] of a title and text that [`collapse`] made: their
/// only white space is the single space or newline between words (two in
/// a row, or one at an end, where a word of only forbidden characters was
/// left out).
///
/// Then, as long as no word is empty, the hashed bytes are the string
/// itself with its newlines made spaces and a final space, lower-cased:
/// runs of ASCII in bulk, and each word holding other characters through
/// `str::to_lowercase`, as [`content_hash`] does. That is a few quick
/// passes instead of work per word.
pub(crate) fn content_hash_of_collapsed(title: &str, text: &str) -> u64 {
    fn push_words(s: &str, buf: &mut Vec<u8>) {
        debug_assert!(!s.contains(|c: char| c.is_whitespace() && c != ' ' && c != '\n'));
        let bytes = s.as_bytes();
        let sep = |b: u8| (b == b' ') | (b == b'\n');
        let empty_word = bytes.first().is_some_and(|&b| sep(b))
            || bytes.last().is_some_and(|&b| sep(b))
            || bytes[..bytes.len().saturating_sub(1)]
                .chunks(64)
                .zip(bytes.get(1..).unwrap_or_default().chunks(64))
                .any(|(a, b)| {
                    a.iter()
                        .zip(b)
                        .fold(false, |found, (&x, &y)| found | (sep(x) & sep(y)))
                });
        if empty_word {
            for word in s.split([' ', '\n']).filter(|w| !w.is_empty()) {
                buf.extend_from_slice(word.to_lowercase().as_bytes());
                buf.push(b' ');
            }
            return;
        }
        let start = buf.len();
        let push_ascii = |buf: &mut Vec<u8>, ascii: &[u8]| {
            let at = buf.len();
            buf.extend_from_slice(ascii);
            buf[at..].make_ascii_lowercase();
        };
        // ASCII in bulk; each word holding other characters through
        // `str::to_lowercase` (which goes a character at a time once it
        // meets one, so is not given the whole text).
        let mut done = 0;
        while let Some(found) = bytes[done..].iter().position(|&b| b >= 0x80) {
            let at = done + found;
            let word_start = bytes[done..at]
                .iter()
                .rposition(|&b| sep(b))
                .map_or(done, |p| done + p + 1);
            let word_end = bytes[at..]
                .iter()
                .position(|&b| sep(b))
                .map_or(bytes.len(), |p| at + p);
            push_ascii(buf, &bytes[done..word_start]);
            buf.extend_from_slice(s[word_start..word_end].to_lowercase().as_bytes());
            done = word_end;
        }
        push_ascii(buf, &bytes[done..]);
        for b in &mut buf[start..] {
            if *b == b'\n' {
                *b = b' ';
            }
        }
        if !s.is_empty() {
            buf.push(b' ');
        }
    }
    hash_words(title, text, push_words)
}
