//! Article rows: finding the article an entry belongs to (same canonical
//! URL, or identical title and text), inserting and updating it.

use rusqlite::{params, Transaction};

use super::html::Texts;
use super::{ts, Result};
use crate::dedup::article::{self, MatchReason};
use crate::model::Entry;

/// An article already stored for the same page, found by the keys
/// `dedup::article` gives (in their order), and how. Articles held only by
/// feeds with dedup off are never joined.
pub(super) fn find_article(
    tx: &Transaction<'_>,
    e: &Entry,
    hash: &str,
) -> Result<Option<(i64, &'static str)>> {
    const JOINABLE: &str = "EXISTS (SELECT 1 FROM entries x JOIN feeds f ON f.id = x.feed_id
                                    WHERE x.article_id = a.id AND f.dedup = 1)";
    for (reason, key) in article::keys(e, hash) {
        let column = match reason {
            MatchReason::CanonicalUrl => "canonical_url",
            MatchReason::ContentHash => "content_hash",
        };
        // The smallest id is taken here, not with `ORDER BY a.id LIMIT 1`:
        // SQLite (built with STAT4) marks that plan as depending on the
        // bound value, and rusqlite clears the bindings of a statement it
        // takes back into its cache, so the statement was compiled again
        // at every use (8 % of the CPU of a cold round). A page has few
        // articles.
        let sql = format!("SELECT a.id FROM articles a WHERE a.{column} = ?1 AND {JOINABLE}");
        let mut st = tx.prepare_cached(&sql)?;
        let mut rows = st.query([key])?;
        let mut first: Option<i64> = None;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            first = Some(first.map_or(id, |f| f.min(id)));
        }
        if let Some(id) = first {
            return Ok(Some((id, reason.as_str())));
        }
    }
    Ok(None)
}

/// Inserts article `id` made from entry `e`; its texts as `packed` holds
/// them compressed (or compressed now, see `store::PackedTexts`).
pub(super) fn insert_article(
    tx: &Transaction<'_>,
    id: i64,
    (e, packed): (&Entry, &super::PackedTexts),
    print: Option<&[u8]>,
    hash: &str,
    now: &str,
    placed: &super::story::Placement,
) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO articles (id, canonical_url, url, title, authors, summary_html_size, texts_zlib,
             content_text, content_hash, published_at, updated_at, first_seen_at, categories, enclosures,
             story_id, story_match_id, story_score, title_derived, title_original, texts_size,
             content_html_size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                 ?21)",
    )?;
    let texts = Texts::of(e);
    let texts = texts.as_ref();
    st.execute(params![
        id,
        e.canonical_url,
        e.url,
        e.title,
        e.authors.join(", "),
        texts.and_then(Texts::summary_size),
        texts.map(|t| packed.get(&e.key, t)),
        super::text::stored(e.content_html.as_deref(), &e.content_text),
        hash,
        ts(e.published),
        e.updated.map(ts),
        now,
        json_list(&e.categories),
        json_list(&e.enclosures),
        placed.story.unwrap_or(id),
        placed.matched.map(|(m, _)| m),
        placed.matched.map(|(_, score)| score),
        e.title_derived,
        e.title_original,
        texts.map(|t| t.bytes().len()),
        texts.and_then(Texts::content_size),
    ])?;
    if let Some(print) = print {
        super::story::keep_print(tx, id, print)?;
    }
    Ok(())
}

pub(super) fn update_article(
    tx: &Transaction<'_>,
    id: i64,
    (e, packed): (&Entry, &super::PackedTexts),
    hash: &str,
    now: &str,
) -> Result<()> {
    let mut st = tx.prepare_cached(
        "UPDATE articles SET title = ?2, authors = ?3, summary_html_size = ?4, texts_zlib = ?5,
             content_text = ?6, content_hash = ?7, updated_at = coalesce(?8, updated_at),
             changed_at = ?9, categories = ?10, enclosures = ?11, title_derived = ?12,
             title_original = ?13, texts_size = ?14, content_html_size = ?15
         WHERE id = ?1",
    )?;
    let texts = Texts::of(e);
    let texts = texts.as_ref();
    st.execute(params![
        id,
        e.title,
        e.authors.join(", "),
        texts.and_then(Texts::summary_size),
        texts.map(|t| packed.get(&e.key, t)),
        super::text::stored(e.content_html.as_deref(), &e.content_text),
        hash,
        e.updated.map(ts),
        now,
        json_list(&e.categories),
        json_list(&e.enclosures),
        e.title_derived,
        e.title_original,
        texts.map(|t| t.bytes().len()),
        texts.and_then(Texts::content_size),
    ])?;
    Ok(())
}

fn json_list<T: serde::Serialize>(v: &[T]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}
