//! The schema as an append-only list of migrations, keyed on SQLite's
//! `user_version` (the number of migrations applied).
//!
//! **Never edit or reorder a shipped migration**: databases in the field
//! have run it. Change the schema by appending a new one. The schema is a
//! public interface (people query it with `sqlite3`), documented in
//! `docs/schema.md`; keep that file in step.
//!
//! Times are stored as RFC 3339 text in UTC (`2026-11-25T18:00:00Z`): they
//! sort correctly as text and SQLite's date functions read them.

/// Migration 1: feeds, entries, articles, the fetch log, full-text search
/// and the views for the common questions.
const V1: &str = r#"
-- One row per configured feed, with its fetch state. Feeds removed from the
-- config are kept (active = 0) so their articles stay attributed.
CREATE TABLE feeds (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    url                 TEXT NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1,
    dedup               INTEGER NOT NULL DEFAULT 1,
    title               TEXT,
    site_url            TEXT,
    description         TEXT,
    format              TEXT,
    identity_mode       TEXT NOT NULL DEFAULT 'guid',
    etag                TEXT,
    last_modified       TEXT,
    final_url           TEXT,
    status              TEXT NOT NULL DEFAULT 'new',
    last_fetch_at       TEXT,
    last_success_at     TEXT,
    last_new_entry_at   TEXT,
    last_http_status    INTEGER,
    last_error          TEXT,
    consecutive_errors  INTEGER NOT NULL DEFAULT 0,
    next_check_at       TEXT,
    next_check_reason   TEXT,
    created_at          TEXT NOT NULL,
    removed_at          TEXT
);

CREATE TABLE feed_tags (
    feed_id  INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (feed_id, tag)
) WITHOUT ROWID;
CREATE INDEX feed_tags_by_tag ON feed_tags(tag);

-- One row per distinct page: the same article reached through several
-- feeds or URLs is one row here and several rows in entries.
CREATE TABLE articles (
    id             INTEGER PRIMARY KEY,
    canonical_url  TEXT,
    url            TEXT,
    title          TEXT NOT NULL,
    authors        TEXT NOT NULL DEFAULT '',
    summary_html   TEXT,
    content_html   TEXT,
    content_text   TEXT NOT NULL DEFAULT '',
    content_hash   TEXT NOT NULL,
    published_at   TEXT NOT NULL,
    updated_at     TEXT,
    first_seen_at  TEXT NOT NULL,
    changed_at     TEXT,
    categories     TEXT NOT NULL DEFAULT '[]',
    enclosures     TEXT NOT NULL DEFAULT '[]',
    story_id       INTEGER
);
CREATE INDEX articles_by_canonical_url ON articles(canonical_url) WHERE canonical_url IS NOT NULL;
CREATE INDEX articles_by_content_hash ON articles(content_hash);
CREATE INDEX articles_by_first_seen ON articles(first_seen_at, id);
CREATE INDEX articles_by_published ON articles(published_at, id);

-- What one feed published once. UNIQUE(feed_id, entry_key) is what makes
-- re-fetching never add a row.
CREATE TABLE entries (
    id              INTEGER PRIMARY KEY,
    feed_id         INTEGER NOT NULL REFERENCES feeds(id),
    entry_key       TEXT NOT NULL,
    key_kind        TEXT NOT NULL,
    guid            TEXT,
    url             TEXT,
    article_id      INTEGER NOT NULL REFERENCES articles(id),
    match_reason    TEXT NOT NULL,
    title           TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    published_at    TEXT NOT NULL,
    first_seen_at   TEXT NOT NULL,
    updated_at      TEXT,
    update_count    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (feed_id, entry_key)
);
CREATE INDEX entries_by_article ON entries(article_id);
CREATE INDEX entries_by_feed_url ON entries(feed_id, url);

-- Keys of entries removed by retention, so they never come back while the
-- feed still lists them.
CREATE TABLE entry_tombstones (
    feed_id    INTEGER NOT NULL REFERENCES feeds(id),
    entry_key  TEXT NOT NULL,
    pruned_at  TEXT NOT NULL,
    PRIMARY KEY (feed_id, entry_key)
) WITHOUT ROWID;

-- One row per fetch attempt.
CREATE TABLE fetch_log (
    id               INTEGER PRIMARY KEY,
    feed_id          INTEGER NOT NULL REFERENCES feeds(id),
    started_at       TEXT NOT NULL,
    url              TEXT NOT NULL,
    final_url        TEXT,
    outcome          TEXT NOT NULL,
    http_status      INTEGER,
    bytes            INTEGER NOT NULL DEFAULT 0,
    duration_ms      INTEGER NOT NULL DEFAULT 0,
    new_entries      INTEGER NOT NULL DEFAULT 0,
    updated_entries  INTEGER NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX fetch_log_by_feed ON fetch_log(feed_id, started_at);

CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, content_text,
    content = 'articles', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, content_text) VALUES (new.id, new.title, new.content_text);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text) VALUES ('delete', old.id, old.title, old.content_text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, content_text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text) VALUES ('delete', old.id, old.title, old.content_text);
    INSERT INTO articles_fts(rowid, title, content_text) VALUES (new.id, new.title, new.content_text);
END;

-- Articles, newest first seen first, with the feeds that carried them.
CREATE VIEW latest_articles AS
SELECT a.id, a.title, a.url, a.published_at, a.first_seen_at,
       (SELECT group_concat(name, ', ') FROM (
            SELECT DISTINCT f.name FROM entries e JOIN feeds f ON f.id = e.feed_id
            WHERE e.article_id = a.id ORDER BY e.id)) AS feeds,
       a.authors, substr(a.content_text, 1, 200) AS excerpt
FROM articles a
ORDER BY a.first_seen_at DESC, a.id DESC;

-- One row per feed: is it working, and what has it brought?
CREATE VIEW feed_health AS
SELECT f.name, f.active, f.status, f.url, f.final_url, f.title,
       f.last_fetch_at, f.last_success_at, f.last_new_entry_at,
       f.last_http_status, f.consecutive_errors, f.last_error,
       f.next_check_at, f.next_check_reason,
       (SELECT count(*) FROM entries e WHERE e.feed_id = f.id) AS entries,
       (SELECT group_concat(tag, ',') FROM feed_tags t WHERE t.feed_id = f.id) AS tags
FROM feeds f
ORDER BY f.name;
"#;

/// Migration 2: what the scheduler needs to remember between fetches:
/// publisher hints from the last document, permanent redirects, retirement.
const V2: &str = r#"
-- Polling hints from the last document: RSS <ttl> (minutes), <skipHours>
-- (comma-separated GMT hours), <skipDays> (comma-separated, 0 = Monday),
-- sy:updatePeriod/updateFrequency (seconds).
ALTER TABLE feeds ADD COLUMN hint_ttl_minutes INTEGER;
ALTER TABLE feeds ADD COLUMN hint_skip_hours TEXT;
ALTER TABLE feeds ADD COLUMN hint_skip_days TEXT;
ALTER TABLE feeds ADD COLUMN hint_update_seconds INTEGER;
-- Consecutive fetches that ended in a permanent redirect (301/308) to the
-- same place; after three, moved_to holds the new URL and is polled instead.
ALTER TABLE feeds ADD COLUMN redirect_streak INTEGER NOT NULL DEFAULT 0;
ALTER TABLE feeds ADD COLUMN redirect_target TEXT;
ALTER TABLE feeds ADD COLUMN moved_to TEXT;
-- A server's Retry-After (429/503), honoured until this time.
ALTER TABLE feeds ADD COLUMN retry_after_until TEXT;
"#;

/// Migration 3: stories. Every article belongs to a story (`story_id` is
/// the id of the story's first article; its own id when it stands alone),
/// with the evidence that put it there.
const V3: &str = r#"
-- The article's near-duplicate fingerprint (NULL: too short to compare).
ALTER TABLE articles ADD COLUMN fingerprint BLOB;
-- The article whose likeness put this one in its story, and how alike they
-- are (0-1); NULL for the first article of a story.
ALTER TABLE articles ADD COLUMN story_match_id INTEGER;
ALTER TABLE articles ADD COLUMN story_score REAL;
UPDATE articles SET story_id = id WHERE story_id IS NULL;
CREATE INDEX articles_by_story ON articles(story_id);

-- The near-duplicate index: each recent article under each of its band
-- keys; articles sharing a key are candidates for the same story. Rows
-- older than the story window are dropped.
CREATE TABLE story_bands (
    band_key       INTEGER NOT NULL,
    article_id     INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    first_seen_at  TEXT NOT NULL,
    PRIMARY KEY (band_key, article_id)
) WITHOUT ROWID;
CREATE INDEX story_bands_by_time ON story_bands(first_seen_at);

-- Why things were merged: one row per entry that joined an article another
-- entry made (match: canonical_url or content_hash), and one per article
-- that joined a story (match: story, with the similarity).
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

-- Stories with more than one article, and their members.
CREATE VIEW stories AS
SELECT a.story_id, count(*) AS articles,
       (SELECT title FROM articles s WHERE s.id = a.story_id) AS title,
       min(a.first_seen_at) AS first_seen_at, max(a.first_seen_at) AS last_seen_at
FROM articles a
GROUP BY a.story_id
HAVING count(*) > 1;
"#;

/// Migration 4: digests: each one made, its items, and per digest name where
/// the next one starts.
const V4: &str = r#"
-- Per digest name: the last article already covered (the next digest takes
-- articles with a larger id: ids grow in commit order, so none is skipped
-- or taken twice), and when the last one was made.
CREATE TABLE digest_state (
    name             TEXT PRIMARY KEY,
    last_article_id  INTEGER NOT NULL,
    last_made_at     TEXT,
    created_at       TEXT NOT NULL
);

-- One row per digest made.
CREATE TABLE digests (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    title             TEXT NOT NULL,
    made_at           TEXT NOT NULL,
    period_start      TEXT,
    period_end        TEXT NOT NULL,
    first_article_id  INTEGER,
    last_article_id   INTEGER NOT NULL,
    items             INTEGER NOT NULL,
    articles          INTEGER NOT NULL,
    html              TEXT NOT NULL,
    text              TEXT NOT NULL,
    markdown          TEXT NOT NULL,
    -- Email: NULL (not configured), 'pending', 'sent'.
    email_status      TEXT,
    email_attempts    INTEGER NOT NULL DEFAULT 0,
    email_next_try_at TEXT,
    email_sent_at     TEXT,
    email_error       TEXT,
    message_id        TEXT
);
CREATE INDEX digests_by_name ON digests(name, id);

-- The articles of each digest, in order; `story_id` groups the sources of
-- one story shown as one item.
CREATE TABLE digest_items (
    digest_id   INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    article_id  INTEGER NOT NULL,
    story_id    INTEGER NOT NULL,
    PRIMARY KEY (digest_id, position)
) WITHOUT ROWID;
"#;

/// Migration 5: republishing (outputs): a counter that tells output caches
/// when to render again, and the index that finds a story's articles.
const V5: &str = r#"
-- One number that grows whenever something an output shows changes: an
-- article is added, edited, removed or moved to another story; an entry is
-- added, removed or moved; a feed's name, title, site or URL changes; a
-- feed's tags change. Output caches re-render when it moves and only then.
-- The triggers below keep it, so every writer (the daemon, retention,
-- someone with sqlite3) keeps it right without knowing about it.
CREATE TABLE content_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO content_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER content_generation_article_insert AFTER INSERT ON articles BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_article_update AFTER UPDATE ON articles BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_article_delete AFTER DELETE ON articles BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_entry_insert AFTER INSERT ON entries BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_entry_update AFTER UPDATE OF article_id, feed_id, url ON entries
WHEN old.article_id IS NOT new.article_id OR old.feed_id IS NOT new.feed_id OR old.url IS NOT new.url
BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_entry_delete AFTER DELETE ON entries BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
-- Every successful fetch rewrites title and site_url with the same values:
-- only a real change counts.
CREATE TRIGGER content_generation_feed_update AFTER UPDATE OF name, title, site_url, url, moved_to ON feeds
WHEN old.name IS NOT new.name OR old.title IS NOT new.title OR old.site_url IS NOT new.site_url
  OR old.url IS NOT new.url OR old.moved_to IS NOT new.moved_to
BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_tag_insert AFTER INSERT ON feed_tags BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
CREATE TRIGGER content_generation_tag_delete AFTER DELETE ON feed_tags BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;

-- The articles of one story (outputs show a story once).
CREATE INDEX IF NOT EXISTS articles_by_story ON articles(story_id) WHERE story_id IS NOT NULL;
"#;

/// Migration 6: ingest cost.
///
/// New articles enter the search index when their fetch is stored, in one
/// statement per group of fetches written together, instead of through a
/// trigger per row (which made FTS5 write, and later merge, one index
/// segment per article). Edits and deletions still go through triggers.
///
/// `story_bands` keeps only `(band_key, article_id)`: every new article
/// writes 20 rows at random places in it, so the row size is the cost of
/// ingest. The window is an article id (the first article first seen in
/// it), the time index goes, and so does the foreign key (a check per row;
/// a row whose article was pruned is skipped at lookup and dropped with
/// the window).
///
/// `entries.raw_hash` lets a re-fetch skip cleaning the entries it already
/// has (see `refresh::process_with`).
///
/// Candidates' fingerprints are read through a covering index: the
/// `fingerprint` column sits after the article's text, so reading it from
/// the table walked the text's overflow pages for every candidate.
const V6: &str = r#"
DROP TRIGGER articles_fts_insert;

CREATE TABLE story_bands_v6 (
    band_key    INTEGER NOT NULL,
    article_id  INTEGER NOT NULL,
    PRIMARY KEY (band_key, article_id)
) WITHOUT ROWID;
INSERT INTO story_bands_v6 (band_key, article_id) SELECT band_key, article_id FROM story_bands;
DROP TABLE story_bands;
ALTER TABLE story_bands_v6 RENAME TO story_bands;

CREATE INDEX articles_story_prints ON articles(id, story_id, fingerprint)
    WHERE fingerprint IS NOT NULL;

-- A hash of the entry as the document had it: when a re-fetched document
-- holds an entry with the same hash, cleaning it again is skipped.
ALTER TABLE entries ADD COLUMN raw_hash INTEGER;
"#;

/// Migration 7: the story index in two tiers (see `store::story`).
///
/// `story_index.through` is the last article whose band keys are in
/// `story_bands`; the keys of later articles are held in memory by the
/// writing process and written in sorted batches. Every article stored so
/// far is in `story_bands` already. `story_index.pruned_at` is when rows
/// that left the window were last dropped (a scan of the whole table, so
/// at most hourly, and no longer once per process: a `tributary fetch` run
/// from cron paid it every time).
///
/// Articles of feeds that take no part in merging (`dedup = false`) never
/// had band keys; from now on they keep no fingerprint either, since the
/// recent tier is read back from fingerprints. (Older such articles keep
/// theirs; they lie before `through` and are never read back.)
const V7: &str = r#"
CREATE TABLE story_index (
    only       INTEGER PRIMARY KEY CHECK (only = 1),
    through    INTEGER NOT NULL,
    pruned_at  TEXT
);
INSERT INTO story_index (only, through) SELECT 1, coalesce(max(id), 0) FROM articles;
"#;

/// Migration 8: `entries.item_hash`, the hash of the entry's bytes as the
/// document had them (with what surrounds them). A re-fetched document's
/// entries with a known hash are left out before it is parsed (see
/// `parse::skim`); NULL where the document's entries could not be told
/// apart by their bytes.
///
/// `entries_by_feed_time`: planning a feed's next check reads the
/// first-seen times of its latest entries, which without it meant reading
/// and sorting all of the feed's entry rows (a fifth of an unchanged
/// `tributary fetch` of 1,000 feeds).
const V8: &str = r#"
ALTER TABLE entries ADD COLUMN item_hash INTEGER;
CREATE INDEX entries_by_feed_time ON entries(feed_id, first_seen_at);
"#;

/// Migration: the writer counts its own inserts into `content_generation`.
///
/// An `INSERT` with a trigger is a "multi-write" statement to SQLite, and
/// one that may also abort (every explicit rowid, `NOT NULL`, `UNIQUE` or
/// foreign key) then copies each page it touches into a statement journal
/// first, so that it could be undone alone: in a cold import that was 6 %
/// of all CPU, every page of `entries`, `articles` and their indexes
/// copied once per row. The store's writer never needs a statement undone
/// alone (a failed statement rolls back the whole group), so the two
/// insert triggers go, and the writer bumps the generation itself, once
/// per transaction that added entries (`store::outputs::content_added`).
/// Updates and deletes keep their triggers: they are rarer, and a hand
/// edit in `sqlite3` (a deleted article, a corrected title) still moves
/// the generation.
const WRITER_GENERATION: &str = r#"
DROP TRIGGER IF EXISTS content_generation_article_insert;
DROP TRIGGER IF EXISTS content_generation_entry_insert;
"#;

mod compact;
mod features;
use compact::{COMPACT_KEYS, ONE_COPY, ONE_PRINT, PACKED_HTML, PACKED_TEXTS, PRINTS_V2};
use features::{
    NOTIFY, READERS, RULES, TOMBSTONES_LISTED, V_FULL_TEXT, V_PAGE_VALIDATORS, V_SEARCH_EXTRACTED,
    WEBSUB,
};

/// Every migration, in order. Append only.
pub const MIGRATIONS: &[&str] = &[
    V1,
    V2,
    V3,
    V4,
    V5,
    V6,
    V7,
    V8,
    RULES,
    TOMBSTONES_LISTED,
    READERS,
    V_FULL_TEXT,
    V_PAGE_VALIDATORS,
    V_SEARCH_EXTRACTED,
    NOTIFY,
    WEBSUB,
    ONE_COPY,
    PACKED_HTML,
    ONE_PRINT,
    PRINTS_V2,
    PACKED_TEXTS,
    COMPACT_KEYS,
    WRITER_GENERATION,
];
