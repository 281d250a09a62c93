//! Tags read the way the HTML tokenizer reads them: quoted attribute
//! values, comments, bogus comments, and the raw text of `<script>`,
//! `<textarea>` and the like.

use super::Escape;

pub(super) enum Kind<'a> {
    /// A `<` that is text (not followed by a tag name, `/`, `!` or `?`).
    Text,
    /// A comment, a bogus comment (`<!x>`, `<?x>`, `</ x>`) or `</>`:
    /// nothing opens or closes, and no text is there.
    Skip,
    Start(&'a str),
    End(&'a str),
}

pub(super) struct Tag<'a> {
    pub(super) kind: Kind<'a>,
    /// Where the scan goes on.
    pub(super) end: usize,
    /// Written `<x/>` (which only foreign content honours).
    pub(super) self_closing: bool,
    /// The serializer's escaping work on its attribute values.
    pub(super) attribute_work: usize,
}

pub(super) fn is_tag_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/' | b'>')
}

/// Reads what starts at `html[lt]` (a `<`) as the tokenizer does; `None`
/// when the document ends inside a tag or comment (the parser drops it).
pub(super) fn read_tag(html: &str, lt: usize) -> Option<Tag<'_>> {
    let bytes = html.as_bytes();
    let after = lt + 1;
    let skip = |end| Tag {
        kind: Kind::Skip,
        end,
        self_closing: false,
        attribute_work: 0,
    };
    let find = |from: usize, needle: &[u8]| {
        bytes[from.min(bytes.len())..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| from + p)
    };
    match bytes.get(after) {
        Some(b'!') if bytes[after..].starts_with(b"!--") => {
            // `<!-->` and `<!--->` are whole (empty) comments.
            let from = after + 3;
            if bytes[from..].starts_with(b">") {
                return Some(skip(from + 1));
            }
            if bytes[from..].starts_with(b"->") {
                return Some(skip(from + 2));
            }
            find(from, b"-->").map(|e| skip(e + 3))
        }
        Some(b'!' | b'?') => find(after, b">").map(|e| skip(e + 1)),
        Some(b'/') => match bytes.get(after + 1) {
            Some(b) if b.is_ascii_alphabetic() => {
                let (name, end, _, _) = read_rest(html, after + 1)?;
                Some(Tag {
                    kind: Kind::End(name),
                    end,
                    self_closing: false,
                    attribute_work: 0,
                })
            }
            // `</>` is dropped; `</ x>` and the like are bogus comments.
            Some(_) => find(after, b">").map(|e| skip(e + 1)),
            None => None,
        },
        Some(b) if b.is_ascii_alphabetic() => {
            let (name, end, self_closing, attribute_work) = read_rest(html, after)?;
            Some(Tag {
                kind: Kind::Start(name),
                end,
                self_closing,
                attribute_work,
            })
        }
        _ => Some(Tag {
            kind: Kind::Text,
            end: after,
            self_closing: false,
            attribute_work: 0,
        }),
    }
}

/// Reads a tag's name (from `at`) and attributes up to its `>`: the name,
/// where the tag ends, whether it ends in `/>`, and the serializer's
/// escaping work on its attribute values.
fn read_rest(html: &str, at: usize) -> Option<(&str, usize, bool, usize)> {
    let bytes = html.as_bytes();
    let name_end = at
        + bytes[at..]
            .iter()
            .take_while(|b| !is_tag_space(**b))
            .count();
    let name = &html[at..name_end];
    let mut i = name_end;
    let mut slash = false;
    let mut work = 0usize;
    loop {
        let b = *bytes.get(i)?;
        match b {
            b'>' => return Some((name, i + 1, slash, work)),
            b'/' => {
                slash = true;
                i += 1;
            }
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => i += 1,
            _ => {
                slash = false;
                // An attribute name, then perhaps `=` and a value.
                i += 1;
                while bytes
                    .get(i)
                    .is_some_and(|b| !is_tag_space(*b) && *b != b'=')
                {
                    i += 1;
                }
                while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                if bytes.get(i) != Some(&b'=') {
                    continue;
                }
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                let value = match bytes.get(i) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let close = bytes[i + 1..].iter().position(|&b| b == q)?;
                        i += close + 2;
                        &bytes[i - close - 1..i - 1]
                    }
                    _ => {
                        let from = i;
                        while bytes
                            .get(i)
                            .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                        {
                            i += 1;
                        }
                        &bytes[from..i]
                    }
                };
                let mut escape = Escape::default();
                escape.text(value);
                work = work.saturating_add(escape.work);
            }
        }
    }
}

/// Where the raw text of element `name` (which started before `from`)
/// ends: just after its end tag; `None` when it runs to the end.
pub(super) fn skip_raw_text(html: &str, from: usize, name: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(p) = bytes[at..].windows(2).position(|w| w == b"</") {
        let start = at + p + 2;
        let end = start + name.len();
        if bytes
            .get(start..end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            && bytes.get(end).is_none_or(|b| is_tag_space(*b))
        {
            return Some(
                bytes[end..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map_or(bytes.len(), |g| end + g + 1),
            );
        }
        at = start;
    }
    None
}
