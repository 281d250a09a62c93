//! The plain text of an article, kept once.
//!
//! Since the migration `ONE_COPY` (see `schema::compact`), an article
//! whose content is HTML stores only the HTML: `articles.content_text` is
//! `''`, and the text (what search indexes, fingerprints and the text
//! outputs read) is derived from its HTML (`store::html`) by the SQL function
//! `html_text`, which every connection of Tributary registers
//! ([`register`]) and which gives exactly what cleaning gave
//! (`clean::html_to_text`). Only a text that cannot be derived is stored:
//! an article without HTML, or one written by hand whose text differs
//! from its HTML's. [`TEXT`] is the expression that reads it either way,
//! and the view `article_text` gives it for every article.

use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

/// [`TEXT`] as a string literal, for statements put together with
/// `concat!`.
macro_rules! text_sql {
    () => {
        concat!(
            "CASE WHEN a.content_text = '' THEN coalesce(html_text(",
            $crate::store::html::html_sql!(),
            "), '') ELSE a.content_text END"
        )
    };
}
pub(super) use text_sql;

/// The text of the article aliased `a`: the stored `content_text`, or,
/// when none is stored, the text of its `content_html`.
pub(super) const TEXT: &str = text_sql!();

/// The text of an article read in the program, as [`TEXT`] reads it in
/// SQL: the `stored` `content_text`, or, when none is stored, the text of
/// its `html` (`''` without either).
pub(super) fn read(stored: String, html: Option<&str>) -> String {
    if stored.is_empty() {
        html.map(crate::clean::html_to_text).unwrap_or_default()
    } else {
        stored
    }
}

/// What to store in `content_text` for an article of `html` whose text is
/// `text`: nothing (`''`) when the text is the HTML's own, derived again
/// on reading.
pub(super) fn stored<'t>(html: Option<&str>, text: &'t str) -> &'t str {
    match html {
        // Cleaning makes the text from the HTML (`clean::Cleaner::entry`,
        // and rules' rewrites); checked in debug builds, which the tests
        // run.
        Some(html) => {
            debug_assert_eq!(crate::clean::html_to_text(html), text);
            ""
        }
        None => text,
    }
}

/// Characters of the text kept as the excerpt of `latest_articles`.
pub(super) const EXCERPT_CHARS: usize = 200;

/// The excerpt stored with an article's HTML (the last of its texts in
/// `articles.texts_zlib`, see `store::html`): the first [`EXCERPT_CHARS`]
/// characters of its text (as SQLite's `substr(text, 1, 200)` counts
/// them), so that `latest_articles` reads in a plain `sqlite3` shell,
/// which cannot derive the text from the HTML; nothing without HTML
/// (the text itself is stored then).
pub(super) fn excerpt(html: Option<&str>, text: &str) -> Option<String> {
    html.map(|_| text.chars().take(EXCERPT_CHARS).collect())
}

/// Registers `html_text(html)`: the plain text of sanitized HTML (text,
/// or a BLOB of UTF-8 such as `sqlar_uncompress` gives), as cleaning
/// makes it (NULL for NULL). Deterministic, so SQLite may use it in
/// indexes and views, and innocuous (it reads nothing else).
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "html_text",
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let html = match ctx.get_raw(0) {
                rusqlite::types::ValueRef::Blob(b) => Some(
                    std::str::from_utf8(b)
                        .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?,
                ),
                other => other.as_str_or_null()?,
            };
            Ok(html.map(crate::clean::html_to_text))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_text_is_the_cleaners_text() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let html = "<p>Harbour <b>bridge</b> &amp; ferry</p><p>Second</p>";
        let got: Option<String> = conn
            .query_row("SELECT html_text(?1)", [html], |r| r.get(0))
            .unwrap();
        assert_eq!(
            got.as_deref(),
            Some(crate::clean::html_to_text(html).as_str())
        );
        let null: Option<String> = conn
            .query_row("SELECT html_text(NULL)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(null, None);
    }

    #[test]
    fn a_text_is_read_as_stored_or_from_its_html() {
        let html = "<p>a <i>b</i></p>";
        assert_eq!(read("kept".into(), Some(html)), "kept");
        assert_eq!(
            read(String::new(), Some(html)),
            crate::clean::html_to_text(html)
        );
        assert_eq!(read(String::new(), None), "");
    }

    #[test]
    fn only_a_text_without_html_is_stored() {
        let html = "<p>a <i>b</i></p>";
        let text = crate::clean::html_to_text(html);
        assert_eq!(stored(Some(html), &text), "");
        assert_eq!(stored(None, "plain words"), "plain words");
        assert_eq!(excerpt(None, "plain words"), None);
        let long = "é".repeat(300);
        assert_eq!(excerpt(Some("<p>x</p>"), &long), Some("é".repeat(200)));
    }
}
