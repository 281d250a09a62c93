//! The migrations that make the store smaller without changing what it
//! holds. Each is documented where it is defined; `schema::MIGRATIONS`
//! orders them.

/// Migration: one copy of each text.
///
/// An article's plain text is made from its HTML (`clean::html_to_text`),
/// so it is no longer stored beside it: `articles.content_text` is `''`
/// where the text is the HTML's own, and is derived on reading by the SQL
/// function `html_text`, which Tributary registers on its connections (see
/// `store::text`). A text that cannot be derived (an article without
/// HTML, or one whose stored text differs from its HTML's, as older
/// cleaning may have made it) stays stored, so nothing read changes.
///
/// The view `article_text` gives every article's text either way, and is
/// the external content of the search index, which is rebuilt from it
/// once (it indexes the same text as before). Its triggers derive the old
/// text the same way, so an edit or a deletion removes exactly what was
/// indexed; an edit of `content_html` now re-indexes the article too.
/// `articles.excerpt` keeps the first 200 characters of a text that is
/// not stored (NULL where it is), so that `latest_articles` (which gives
/// them) stays readable in a plain `sqlite3` shell, which has no
/// `html_text`.
///
/// The rows shrink in place: the pages freed are reused by new rows, and
/// given back to the file system by the next retention run
/// (`Store::compact`).
pub(super) const ONE_COPY: &str = r#"
DROP VIEW latest_articles;
DROP TRIGGER articles_fts_delete;
DROP TRIGGER articles_fts_update;
DROP TABLE articles_fts;

ALTER TABLE articles ADD COLUMN excerpt TEXT;
UPDATE articles SET content_text = '', excerpt = substr(content_text, 1, 200)
WHERE content_html IS NOT NULL AND content_text != '' AND content_text = html_text(content_html);

CREATE VIEW article_text AS
SELECT a.id, a.title,
       CASE WHEN a.content_text = '' THEN coalesce(html_text(a.content_html), '')
            ELSE a.content_text END AS content_text,
       a.extracted_text
FROM articles a;

CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, content_text, extracted_text,
    content = 'article_text', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text, extracted_text)
        VALUES ('delete', old.id, old.title,
                CASE WHEN old.content_text = '' THEN coalesce(html_text(old.content_html), '')
                     ELSE old.content_text END,
                old.extracted_text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, content_html, content_text, extracted_text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text, extracted_text)
        VALUES ('delete', old.id, old.title,
                CASE WHEN old.content_text = '' THEN coalesce(html_text(old.content_html), '')
                     ELSE old.content_text END,
                old.extracted_text);
    INSERT INTO articles_fts(rowid, title, content_text, extracted_text)
        VALUES (new.id, new.title,
                CASE WHEN new.content_text = '' THEN coalesce(html_text(new.content_html), '')
                     ELSE new.content_text END,
                new.extracted_text);
END;

CREATE VIEW latest_articles AS
SELECT a.id, a.title, a.url, a.published_at, a.first_seen_at,
       (SELECT group_concat(name, ', ') FROM (
            SELECT DISTINCT f.name FROM entries e JOIN feeds f ON f.id = e.feed_id
            WHERE e.article_id = a.id ORDER BY e.id)) AS feeds,
       a.authors,
       CASE WHEN a.content_text = '' THEN coalesce(a.excerpt, '')
            ELSE substr(a.content_text, 1, 200) END AS excerpt,
       a.title_derived
FROM articles a
ORDER BY a.first_seen_at DESC, a.published_at DESC, a.id DESC;
"#;

/// Migration: the articles' HTML compressed, as the `sqlite3` shell reads
/// it.
///
/// `articles.content_html` becomes `content_html_zlib`, the HTML's bytes
/// zlib-compressed (or as they are, where that would not shrink them),
/// and `content_html_size`, their length, as SQLite archives store files:
/// the shell's `sqlar_uncompress(content_html_zlib, content_html_size)`
/// reads it, and Tributary registers the same function (see
/// `store::html`). The view `article_html` gives every article's HTML as
/// text; `article_text` and the search index's triggers derive the text
/// from it, so the index (the same text as before) is kept as it is.
///
/// Dropping the old column rewrites the table once; the pages the HTML
/// filled are reused by new rows and given back to the file system by
/// the next retention run (`Store::compact`).
pub(super) const PACKED_HTML: &str = r#"
DROP VIEW article_text;
DROP TRIGGER articles_fts_delete;
DROP TRIGGER articles_fts_update;

ALTER TABLE articles ADD COLUMN content_html_zlib BLOB;
ALTER TABLE articles ADD COLUMN content_html_size INTEGER;
UPDATE articles SET content_html_zlib = sqlar_compress(CAST(content_html AS BLOB)),
                    content_html_size = length(CAST(content_html AS BLOB))
WHERE content_html IS NOT NULL;
ALTER TABLE articles DROP COLUMN content_html;

CREATE VIEW article_html AS
SELECT a.id, CAST(sqlar_uncompress(a.content_html_zlib, a.content_html_size) AS TEXT) AS content_html
FROM articles a;

CREATE VIEW article_text AS
SELECT a.id, a.title,
       CASE WHEN a.content_text = ''
            THEN coalesce(html_text(CAST(sqlar_uncompress(a.content_html_zlib, a.content_html_size) AS TEXT)), '')
            ELSE a.content_text END AS content_text,
       a.extracted_text
FROM articles a;

CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text, extracted_text)
        VALUES ('delete', old.id, old.title,
                CASE WHEN old.content_text = ''
                     THEN coalesce(html_text(CAST(sqlar_uncompress(old.content_html_zlib, old.content_html_size) AS TEXT)), '')
                     ELSE old.content_text END,
                old.extracted_text);
END;
CREATE TRIGGER articles_fts_update
AFTER UPDATE OF title, content_html_zlib, content_html_size, content_text, extracted_text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text, extracted_text)
        VALUES ('delete', old.id, old.title,
                CASE WHEN old.content_text = ''
                     THEN coalesce(html_text(CAST(sqlar_uncompress(old.content_html_zlib, old.content_html_size) AS TEXT)), '')
                     ELSE old.content_text END,
                old.extracted_text);
    INSERT INTO articles_fts(rowid, title, content_text, extracted_text)
        VALUES (new.id, new.title,
                CASE WHEN new.content_text = ''
                     THEN coalesce(html_text(CAST(sqlar_uncompress(new.content_html_zlib, new.content_html_size) AS TEXT)), '')
                     ELSE new.content_text END,
                new.extracted_text);
END;
"#;

/// Migration: one copy of each fingerprint.
///
/// An article's story fingerprint (about 400 bytes) was stored twice: in
/// `articles.fingerprint`, and in the covering index `articles_story_prints`
/// through which story lookups read candidates without walking the
/// article's row. It moves to a table of its own, `story_prints`, keyed by
/// the article's id: a lookup reads it there as it read the index, the
/// articles' rows are narrower, and a tenth of the store goes (25 MB of
/// 269 at 1,000 × 50). The print goes with its article (trigger).
///
/// Dropping the column rewrites `articles` once; the pages freed are
/// reused by new rows and given back to the file system by the next
/// retention run (`Store::compact`).
pub(super) const ONE_PRINT: &str = r#"
CREATE TABLE story_prints (
    article_id   INTEGER PRIMARY KEY,
    fingerprint  BLOB NOT NULL
);
INSERT INTO story_prints (article_id, fingerprint)
SELECT id, fingerprint FROM articles WHERE fingerprint IS NOT NULL;
DROP INDEX articles_story_prints;
ALTER TABLE articles DROP COLUMN fingerprint;

CREATE TRIGGER story_prints_article_delete AFTER DELETE ON articles BEGIN
    DELETE FROM story_prints WHERE article_id = old.id;
END;
"#;

/// Migration: fingerprints of version 2, 16 bits per MinHash slot.
///
/// Every stored print is re-encoded (`story_print_current`: a version 1
/// print reads back as exactly the version 2 print of the same text, so
/// no text is read again), 120 bytes shorter. The band keys are hashes of
/// the slots, so every one changes: the table tier of the story index is
/// rebuilt from the prints of the articles it held (`story_index_keys`),
/// in key order; the recent tier is read back from the prints when a
/// process opens the store. Both functions are registered on the
/// migrating connection only (`store::story::rekey`).
pub(super) const PRINTS_V2: &str = concat!(
    r#"
UPDATE story_prints SET fingerprint = story_print_current(fingerprint);
"#,
    rebuild_bands!()
);

/// Migration: an article's texts compressed together.
///
/// The summary's HTML (`articles.summary_html`) and the excerpt that
/// `latest_articles` shows (`articles.excerpt`) were stored as they are
/// beside the compressed content: a fifth of the store at 1,000 × 50. A
/// summary is most often the start of the content (a feed's description
/// is its article's first paragraph), and the excerpt always is the start
/// of its text, so the three are now compressed together, one after the
/// other, into `texts_zlib` (`texts_size` bytes inflated), where the
/// stream stores what repeats once: `content_html_size` and the new
/// `summary_html_size` say where each ends (see `store::html`). The views
/// `article_html` (which now gives `summary_html` too), `article_text`
/// and `latest_articles` cut them apart with `substr`, which a plain
/// `sqlite3` shell has, as it has `sqlar_uncompress`.
///
/// `articles` is made again, as SQLite's "twelve steps" make a table
/// with another layout: a new table, every row copied in id order, the
/// old one dropped, the new one renamed, then its indexes, triggers and
/// the views that read it made again as they were. Changing the rows in
/// place instead (adding the new column, filling it, dropping the old
/// ones) left the table's pages half empty, 192 MB for 88 MB of rows at
/// 1,000 × 50, since rows that grow split their pages and rows that
/// shrink do not join them again. The old table's pages go to the free
/// list, reused by new rows and given back to the file system by the
/// next retention run (`Store::compact`). Foreign keys are off while
/// migrations run and checked before they commit (`Store::migrate`).
pub(super) const PACKED_TEXTS: &str = r#"
DROP VIEW latest_articles;
DROP VIEW article_text;
DROP VIEW article_html;
DROP VIEW stories;
DROP VIEW merges;

CREATE TABLE articles_packed (
    id                  INTEGER PRIMARY KEY,
    canonical_url       TEXT,
    url                 TEXT,
    title               TEXT NOT NULL,
    authors             TEXT NOT NULL DEFAULT '',
    content_text        TEXT NOT NULL DEFAULT '',
    content_hash        TEXT NOT NULL,
    published_at        TEXT NOT NULL,
    updated_at          TEXT,
    first_seen_at       TEXT NOT NULL,
    changed_at          TEXT,
    categories          TEXT NOT NULL DEFAULT '[]',
    enclosures          TEXT NOT NULL DEFAULT '[]',
    story_id            INTEGER,
    story_match_id      INTEGER,
    story_score         REAL,
    title_derived       INTEGER NOT NULL DEFAULT 0,
    title_original      TEXT,
    extracted_html      TEXT,
    extracted_text      TEXT,
    extracted_at        TEXT,
    extract_error       TEXT,
    page_etag           TEXT,
    page_last_modified  TEXT,
    page_checked_at     TEXT,
    content_html_size   INTEGER,
    summary_html_size   INTEGER,
    texts_zlib          BLOB,
    texts_size          INTEGER
);
INSERT INTO articles_packed
SELECT id, canonical_url, url, title, authors, content_text, content_hash, published_at,
       updated_at, first_seen_at, changed_at, categories, enclosures, story_id,
       story_match_id, story_score, title_derived, title_original, extracted_html,
       extracted_text, extracted_at, extract_error, page_etag, page_last_modified,
       page_checked_at, content_html_size, length(CAST(summary_html AS BLOB)),
       sqlar_compress(CAST(texts AS BLOB)), length(CAST(texts AS BLOB))
FROM (SELECT *,
             CASE WHEN content_html_zlib IS NOT NULL OR summary_html IS NOT NULL THEN
                 coalesce(CAST(sqlar_uncompress(content_html_zlib, content_html_size) AS TEXT), '')
                 || coalesce(summary_html, '')
                 || CASE WHEN content_html_zlib IS NULL THEN ''
                         ELSE coalesce(excerpt, substr(content_text, 1, 200)) END
             END AS texts
      FROM articles)
ORDER BY id;
DROP TABLE articles;
ALTER TABLE articles_packed RENAME TO articles;

CREATE INDEX articles_by_canonical_url ON articles(canonical_url) WHERE canonical_url IS NOT NULL;
CREATE INDEX articles_by_content_hash ON articles(content_hash);
CREATE INDEX articles_by_story ON articles(story_id);
CREATE INDEX articles_by_first_seen ON articles(first_seen_at, published_at, id);
CREATE INDEX articles_by_published ON articles(published_at, first_seen_at, id);
CREATE INDEX articles_by_changed ON articles(changed_at) WHERE changed_at IS NOT NULL;

CREATE TRIGGER content_generation_article_insert AFTER INSERT ON articles BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_article_update AFTER UPDATE ON articles BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_article_delete AFTER DELETE ON articles BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER article_labels_article_delete AFTER DELETE ON articles BEGIN
    DELETE FROM article_labels WHERE article_id = old.id;
END;
CREATE TRIGGER story_prints_article_delete AFTER DELETE ON articles BEGIN
    DELETE FROM story_prints WHERE article_id = old.id;
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text, extracted_text)
        VALUES ('delete', old.id, old.title,
                CASE WHEN old.content_text = ''
                     THEN coalesce(html_text(CAST(substr(sqlar_uncompress(old.texts_zlib, old.texts_size), 1, old.content_html_size) AS TEXT)), '')
                     ELSE old.content_text END,
                old.extracted_text);
END;
CREATE TRIGGER articles_fts_update
AFTER UPDATE OF title, texts_zlib, texts_size, content_html_size, content_text, extracted_text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text, extracted_text)
        VALUES ('delete', old.id, old.title,
                CASE WHEN old.content_text = ''
                     THEN coalesce(html_text(CAST(substr(sqlar_uncompress(old.texts_zlib, old.texts_size), 1, old.content_html_size) AS TEXT)), '')
                     ELSE old.content_text END,
                old.extracted_text);
    INSERT INTO articles_fts(rowid, title, content_text, extracted_text)
        VALUES (new.id, new.title,
                CASE WHEN new.content_text = ''
                     THEN coalesce(html_text(CAST(substr(sqlar_uncompress(new.texts_zlib, new.texts_size), 1, new.content_html_size) AS TEXT)), '')
                     ELSE new.content_text END,
                new.extracted_text);
END;

CREATE VIEW article_html AS
SELECT a.id,
       CASE a.content_html_size WHEN 0 THEN '' ELSE
       CAST(substr(sqlar_uncompress(a.texts_zlib, a.texts_size), 1, a.content_html_size) AS TEXT)
       END AS content_html,
       CASE a.summary_html_size WHEN 0 THEN '' ELSE
       CAST(substr(sqlar_uncompress(a.texts_zlib, a.texts_size),
                   coalesce(a.content_html_size, 0) + 1, a.summary_html_size) AS TEXT)
       END AS summary_html
FROM articles a;

CREATE VIEW article_text AS
SELECT a.id, a.title,
       CASE WHEN a.content_text = ''
            THEN coalesce(html_text(CAST(substr(sqlar_uncompress(a.texts_zlib, a.texts_size), 1, a.content_html_size) AS TEXT)), '')
            ELSE a.content_text END AS content_text,
       a.extracted_text
FROM articles a;

CREATE VIEW latest_articles AS
SELECT a.id, a.title, a.url, a.published_at, a.first_seen_at,
       (SELECT group_concat(name, ', ') FROM (
            SELECT DISTINCT f.name FROM entries e JOIN feeds f ON f.id = e.feed_id
            WHERE e.article_id = a.id ORDER BY e.id)) AS feeds,
       a.authors,
       CASE WHEN a.content_text = ''
            THEN coalesce(CAST(substr(sqlar_uncompress(a.texts_zlib, a.texts_size),
                                      coalesce(a.content_html_size, 0) + coalesce(a.summary_html_size, 0) + 1) AS TEXT), '')
            ELSE substr(a.content_text, 1, 200) END AS excerpt,
       a.title_derived
FROM articles a
ORDER BY a.first_seen_at DESC, a.published_at DESC, a.id DESC;

CREATE VIEW stories AS
SELECT a.story_id, count(*) AS articles,
       (SELECT title FROM articles s WHERE s.id = a.story_id) AS title,
       min(a.first_seen_at) AS first_seen_at, max(a.first_seen_at) AS last_seen_at
FROM articles a
GROUP BY a.story_id
HAVING count(*) > 1;

CREATE VIEW merges AS
SELECT 'article' AS level, e.article_id AS article_id, f.name AS feed, e.id AS entry_id,
       e.match_reason AS matched_by, NULL AS matched_article_id, NULL AS score,
       e.first_seen_at AS at
FROM entries e JOIN feeds f ON f.id = e.feed_id
WHERE e.match_reason != 'new'
UNION ALL
SELECT 'story', a.id, NULL, NULL, 'similarity', a.story_match_id, a.story_score, a.first_seen_at
FROM articles a
WHERE a.story_match_id IS NOT NULL;
"#;

/// Migration: compact fingerprints and 32-bit index keys.
///
/// A print's facts were stored in a fixed layout, every slot of both
/// sketches written whether used or not (151 bytes, mostly zeros); they
/// are now stored with the names and figures they hold only (7 bytes and 4
/// per fact). Every print is re-encoded (`story_print_current`; the fixed
/// layout still reads, as the same print) and `story_prints` is written
/// again in id order, so that its pages are full (updated in place, the
/// shorter rows would leave each page half empty); its old pages are
/// freed. An index key was 64 bits (the band number in the top six, 63
/// for fact keys), 8 bytes in SQLite; it is now 32 bits (the band number
/// in the top five, 31 for fact keys, read as a signed number), 4 bytes:
/// every key changes, and the table tier of the story index is rebuilt
/// from the prints of the articles it held (`story_index_keys`), in key
/// order, as `PRINTS_V2` did. Stories and decisions do not change (see
/// `dedup::story::index_key`).
pub(super) const COMPACT_KEYS: &str = concat!(
    r#"
CREATE TEMP TABLE story_prints_compact AS
SELECT article_id, story_print_current(fingerprint) AS fingerprint FROM story_prints;
DELETE FROM story_prints;
INSERT INTO story_prints (article_id, fingerprint)
SELECT article_id, fingerprint FROM temp.story_prints_compact ORDER BY article_id;
DROP TABLE temp.story_prints_compact;
"#,
    rebuild_bands!()
);

/// The statements that rebuild the table tier of the story index from the
/// prints of the articles it holds, in key order (`PRINTS_V2`,
/// `COMPACT_KEYS`). Their working table keeps the name migration 20 gave
/// it: `PRINTS_V2`'s text is as shipped.
macro_rules! rebuild_bands {
    () => {
        r#"
CREATE TABLE story_bands_v2 (
    band_key    INTEGER NOT NULL,
    article_id  INTEGER NOT NULL,
    PRIMARY KEY (band_key, article_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO story_bands_v2 (band_key, article_id)
SELECT k.value, p.article_id
FROM story_prints p, json_each(story_index_keys(p.fingerprint)) k
WHERE p.article_id IN (SELECT article_id FROM story_bands)
ORDER BY 1, 2;
DROP TABLE story_bands;
ALTER TABLE story_bands_v2 RENAME TO story_bands;
"#
    };
}
use rebuild_bands;
