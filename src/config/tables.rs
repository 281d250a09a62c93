//! Where the `[[feeds]]` tables of a config are, found with TOML's own
//! lexer, so that each feed can be deserialized on its own.
//!
//! The `toml` crate deserializes a document by first building a tree of the
//! whole of it (every key and value with its span); for a config of
//! 100,000 feeds that tree was most of a 200 MB peak. Cut at its
//! `[[feeds]]` tables, the document is read as the rest (the feeds cut
//! out; `Locator` maps its spans back to the file) and then one feed at a
//! time. A feed's table runs from its `[[feeds]]` header to
//! the next header that is not one of its own sub-tables (`[feeds.x]`,
//! `[[feeds.x]]`), or to the end of the file.
//!
//! Tokens, not lines, are read: a header is a `[` that starts a line
//! outside any value, so a `[[feeds]]` line inside a multi-line string or
//! a multi-line array is not one.

use std::ops::Range;

use toml_parser::lexer::TokenKind;
use toml_parser::Source;

/// The byte ranges of the `[[feeds]]` tables of `text`, in file order.
pub(super) fn feed_tables(text: &str) -> Vec<Range<usize>> {
    let source = Source::new(text);
    let mut tokens = source.lex().peekable();
    let mut tables: Vec<Range<usize>> = Vec::new();
    // The open feed table's start.
    let mut open: Option<usize> = None;
    // Brackets and braces open inside a value.
    let mut depth = 0usize;
    // Only whitespace since the last newline (or the start), outside values.
    let mut line_start = true;
    while let Some(token) = tokens.next() {
        let span = token.span();
        match token.kind() {
            TokenKind::Eof => break,
            TokenKind::Whitespace => continue,
            TokenKind::Comment => continue,
            TokenKind::Newline => {
                line_start = depth == 0;
                continue;
            }
            TokenKind::LeftSquareBracket if line_start && depth == 0 => {
                let array = tokens
                    .next_if(|t| t.kind() == TokenKind::LeftSquareBracket)
                    .is_some();
                // The header's key, up to its closing bracket (on this line).
                let mut first: Option<&str> = None;
                let mut only = true;
                while let Some(t) = tokens.next_if(|t| {
                    !matches!(
                        t.kind(),
                        TokenKind::RightSquareBracket | TokenKind::Newline | TokenKind::Eof
                    )
                }) {
                    match t.kind() {
                        TokenKind::Whitespace => {}
                        TokenKind::Dot => only = false,
                        _ if first.is_none() => first = Some(key_text(text, t)),
                        _ => {}
                    }
                }
                let feeds = first == Some("feeds");
                if array && feeds && only {
                    if let Some(start) = open.take() {
                        tables.push(start..span.start());
                    }
                    open = Some(span.start());
                } else if !feeds {
                    if let Some(start) = open.take() {
                        tables.push(start..span.start());
                    }
                }
                line_start = false;
                continue;
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket if !line_start => {
                depth += 1;
            }
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        line_start = false;
    }
    if let Some(start) = open {
        tables.push(start..text.len());
    }
    tables
}

/// A key's text: bare, or a quoted string without escapes.
fn key_text(text: &str, token: toml_parser::lexer::Token) -> &str {
    let span = token.span();
    let raw = text.get(span.start()..span.end()).unwrap_or("");
    match token.kind() {
        TokenKind::BasicString | TokenKind::LiteralString if !raw.contains('\\') => {
            raw.get(1..raw.len().saturating_sub(1)).unwrap_or("")
        }
        _ => raw,
    }
}

/// `text` without the `tables` (the `Locator` maps its offsets back to
/// the file's). A table starts a line and ends where a header or the file
/// starts, so what follows a cut still starts a line. (Blanked out instead,
/// the rest was as long as the file, and toml's lexer reserves seven bytes
/// of tokens per byte of text.)
pub(super) fn cut_out(text: &str, tables: &[Range<usize>]) -> String {
    let mut rest =
        String::with_capacity(text.len() - tables.iter().map(|t| t.len()).sum::<usize>());
    let mut from = 0;
    for t in tables {
        rest.push_str(&text[from..t.start]);
        from = t.end;
    }
    rest.push_str(&text[from..]);
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        feed_tables(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn each_feed_table_runs_to_the_next_other_header() {
        let text = "[store]\npath = \"x\"\n\n[[feeds]]\nname = \"a\"\n[feeds.headers]\nX = \"1\"\n  [[feeds]] # b\nname = \"b\"\n[server]\nenabled = true\n[[feeds]]\nname = \"c\"\n";
        assert_eq!(
            pieces(text),
            [
                "[[feeds]]\nname = \"a\"\n[feeds.headers]\nX = \"1\"\n  ",
                "[[feeds]] # b\nname = \"b\"\n",
                "[[feeds]]\nname = \"c\"\n",
            ]
        );
        let rest = cut_out(text, &feed_tables(text));
        assert_eq!(rest, "[store]\npath = \"x\"\n\n[server]\nenabled = true\n");
    }

    #[test]
    fn headers_inside_values_and_other_arrays_are_not_cuts() {
        let text = "[[feeds]]\nname = \"a\"\nx = \"\"\"\n[[feeds]]\n\"\"\"\ntags = [\n[\"not\"],\n]\n[[outputs]]\nname = \"o\"\n[[\"feeds\"]]\nname = 'b'\n[[feeds.sub]]\n[feedsx]\n";
        assert_eq!(
            pieces(text),
            [
                "[[feeds]]\nname = \"a\"\nx = \"\"\"\n[[feeds]]\n\"\"\"\ntags = [\n[\"not\"],\n]\n",
                "[[\"feeds\"]]\nname = 'b'\n[[feeds.sub]]\n",
            ]
        );
        assert!(feed_tables("[fetch]\nx = 1\n").is_empty());
        assert!(feed_tables("").is_empty());
    }
}
