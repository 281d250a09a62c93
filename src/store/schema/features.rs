//! The migrations of what came after the first store layout (migrations 1
//! to 8, in `schema`): rules, tombstones listed, what readers see, full
//! text, search over it, notifications, WebSub. Each is documented where
//! it is defined; `schema::MIGRATIONS` orders them.

/// Migration: the operator's rules (see `crate::rules`).
///
/// `dropped_entries` remembers each entry a rule dropped, so that it is
/// not judged again on every fetch (its key is skipped, and its raw and
/// item hashes let a re-fetch skip cleaning and parsing it) and so that
/// `tributary explain` can say why it is missing. `article_labels` holds
/// the tags and marks rules added, which outputs and digests select on.
pub(super) const RULES: &str = r#"
-- Entries a rule dropped: never stored in entries, never judged again.
CREATE TABLE dropped_entries (
    feed_id       INTEGER NOT NULL REFERENCES feeds(id),
    entry_key     TEXT NOT NULL,
    guid          TEXT,
    url           TEXT,
    title         TEXT NOT NULL,
    -- The rule's name (`line N` when it has none), or `not kept by ...`.
    rule          TEXT NOT NULL,
    dropped_at    TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    raw_hash      INTEGER,
    item_hash     INTEGER,
    PRIMARY KEY (feed_id, entry_key)
) WITHOUT ROWID;
CREATE INDEX dropped_entries_by_url ON dropped_entries(url) WHERE url IS NOT NULL;
CREATE INDEX dropped_entries_by_guid ON dropped_entries(guid) WHERE guid IS NOT NULL;

-- Tags (kind 'tag') and marks (kind 'mark') rules added to articles.
CREATE TABLE article_labels (
    article_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('tag', 'mark')),
    label       TEXT NOT NULL,
    rule        TEXT NOT NULL,
    PRIMARY KEY (article_id, kind, label)
) WITHOUT ROWID;
CREATE INDEX article_labels_by_label ON article_labels(kind, label, article_id);
CREATE TRIGGER article_labels_article_delete AFTER DELETE ON articles BEGIN
    DELETE FROM article_labels WHERE article_id = old.id;
END;
CREATE TRIGGER content_generation_label_insert AFTER INSERT ON article_labels BEGIN
    UPDATE content_generation SET generation = generation + 1;
END;
"#;

/// Migration: tombstones remember when a fetch last listed their key
/// (NULL: not since pruning, `pruned_at`), so that retention can delete
/// those of entries their feed no longer lists (see `store::retention`).
pub(super) const TOMBSTONES_LISTED: &str = r#"
ALTER TABLE entry_tombstones ADD COLUMN last_listed_at TEXT;
"#;

/// Migration: what a reader of the published river sees.
///
/// - `articles.title_derived`: 1 when the feed gave the entry no title and
///   `title` was made by Tributary from the text or link (see
///   `clean::title`); 0 for the publisher's own. Older rows keep 0 (and
///   their blank titles, which publishing derives the same way).
/// - `articles.title_original`: the title as the document had it (markup,
///   entities) when that differs from the plain-text `title`; else NULL.
/// - `feeds.language`: the language the feed declares (RSS `language`,
///   Atom `xml:lang`, JSON Feed `language`), carried into the outputs.
/// - `feeds.source_updated_at`: when the feed document says it was last
///   updated, as published in each item's `atom:source`.
/// - The two order indexes gain the publication date: articles first seen
///   at the same moment (one fetch) are listed newest first, not in the
///   order the document happened to hold them.
pub(super) const READERS: &str = r#"
ALTER TABLE articles ADD COLUMN title_derived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN title_original TEXT;
ALTER TABLE feeds ADD COLUMN language TEXT;
ALTER TABLE feeds ADD COLUMN source_updated_at TEXT;
DROP INDEX articles_by_first_seen;
CREATE INDEX articles_by_first_seen ON articles(first_seen_at, published_at, id);
DROP INDEX articles_by_published;
CREATE INDEX articles_by_published ON articles(published_at, first_seen_at, id);
DROP VIEW latest_articles;
CREATE VIEW latest_articles AS
SELECT a.id, a.title, a.url, a.published_at, a.first_seen_at,
       (SELECT group_concat(name, ', ') FROM (
            SELECT DISTINCT f.name FROM entries e JOIN feeds f ON f.id = e.feed_id
            WHERE e.article_id = a.id ORDER BY e.id)) AS feeds,
       a.authors, substr(a.content_text, 1, 200) AS excerpt, a.title_derived
FROM articles a
ORDER BY a.first_seen_at DESC, a.published_at DESC, a.id DESC;
"#;

/// Migration: full text (see `store::extract`).
///
/// `articles.extracted_html` / `extracted_text`: the article body taken
/// from its page (sanitized like feed content), beside the feed's own
/// `content_html` / `content_text`, which stay as the feed sent them.
/// `extracted_at` is when extraction last finished, `extract_error` why it
/// failed (NULL after a success).
///
/// `extract_queue`: articles waiting for extraction, one row per article
/// however many feeds carry it; `feed_id` is the feed whose settings apply
/// (the first that asked), `not_before` the earliest retry after a
/// transient failure. `extract_scan.through` is the last entry looked at
/// for new articles of full-text feeds; it starts at the newest entry, so
/// that history is not extracted when the feature is turned on.
pub(super) const V_FULL_TEXT: &str = r#"
ALTER TABLE articles ADD COLUMN extracted_html TEXT;
ALTER TABLE articles ADD COLUMN extracted_text TEXT;
ALTER TABLE articles ADD COLUMN extracted_at TEXT;
ALTER TABLE articles ADD COLUMN extract_error TEXT;
CREATE TABLE extract_queue (
    article_id  INTEGER PRIMARY KEY,
    feed_id     INTEGER NOT NULL,
    queued_at   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TEXT
);
CREATE TABLE extract_scan (
    only     INTEGER PRIMARY KEY CHECK (only = 1),
    through  INTEGER NOT NULL
);
INSERT INTO extract_scan (only, through) SELECT 1, coalesce(max(id), 0) FROM entries;
"#;

/// Migration: revalidating article pages, and re-extraction.
///
/// `articles.page_etag` / `page_last_modified`: the validators of the page
/// the stored extraction came from, sent when the page is fetched again
/// (`If-None-Match` / `If-Modified-Since`); `page_checked_at` is when the
/// page was last fetched or confirmed unchanged by a 304.
/// `extract_scan.changed_since`: articles whose feed text changed at or
/// after it are looked at for re-extraction (`articles_by_changed` finds
/// them); it starts at the latest change already stored.
pub(super) const V_PAGE_VALIDATORS: &str = r#"
ALTER TABLE articles ADD COLUMN page_etag TEXT;
ALTER TABLE articles ADD COLUMN page_last_modified TEXT;
ALTER TABLE articles ADD COLUMN page_checked_at TEXT;
ALTER TABLE extract_scan ADD COLUMN changed_since TEXT;
UPDATE extract_scan SET changed_since = (SELECT max(changed_at) FROM articles);
CREATE INDEX articles_by_changed ON articles(changed_at) WHERE changed_at IS NOT NULL;
"#;

/// Migration: the search index covers the extracted full text.
///
/// `articles_fts` gains the column `extracted_text` (external content,
/// like the others: it indexes `articles.extracted_text` and stores no
/// copy), so a search finds an article by its whole text where only a
/// teaser came in the feed. The index is rebuilt once, from the articles.
/// New articles enter it with their fetch (`index_new_articles`); an
/// extraction, like any edit of an indexed column, re-indexes the article
/// through the update trigger.
pub(super) const V_SEARCH_EXTRACTED: &str = r#"
DROP TRIGGER articles_fts_delete;
DROP TRIGGER articles_fts_update;
DROP TABLE articles_fts;
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, content_text, extracted_text,
    content = 'articles', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text, extracted_text)
        VALUES ('delete', old.id, old.title, old.content_text, old.extracted_text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, content_text, extracted_text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text, extracted_text)
        VALUES ('delete', old.id, old.title, old.content_text, old.extracted_text);
    INSERT INTO articles_fts(rowid, title, content_text, extracted_text)
        VALUES (new.id, new.title, new.content_text, new.extracted_text);
END;
"#;

/// Migration: notifications (`[[notify]]`; see docs/schema.md).
/// `notify_outbox`: a notification per row, queued in the transaction
/// that stores what it announces; `idem_key` is unique per target.
/// `notify_log`: one row per message sent or attempted.
pub(super) const NOTIFY: &str = r#"
CREATE TABLE notify_outbox (
    id               INTEGER PRIMARY KEY,
    target           TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('article', 'health')),
    article_id       INTEGER,
    story_feeds      INTEGER,
    event            TEXT,
    idem_key         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    delivered_at     TEXT,
    last_error       TEXT,
    UNIQUE (target, idem_key)
);
CREATE INDEX notify_outbox_pending ON notify_outbox(target, id) WHERE delivered_at IS NULL;
CREATE INDEX notify_outbox_delivered ON notify_outbox(delivered_at) WHERE delivered_at IS NOT NULL;
CREATE TABLE notify_log (
    id           INTEGER PRIMARY KEY,
    target       TEXT NOT NULL,
    at           TEXT NOT NULL,
    items        INTEGER NOT NULL,
    message_key  TEXT NOT NULL,
    ok           INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    error        TEXT
);
CREATE INDEX notify_log_by_target ON notify_log(target, at);
"#;

/// Migration: WebSub (pushed feeds).
///
/// `fetch_log.kind`: `poll` for a fetch, `push` for a document a hub
/// pushed. `websub_subscriptions`: one row per feed subscribed to a hub:
/// the hub and topic, the callback's secret path `token` (128 random
/// bits, hex) and the HMAC `secret`, the `state` (`subscribing`,
/// `active`, `unsubscribing`, `denied`, `failed`), the request awaiting
/// the hub's intent verification (`pending`: `subscribe` or
/// `unsubscribe`), the lease, and when the daemon acts next
/// (`next_action_at`: retry, renewal). `websub_river_subscribers`: the
/// readers subscribed to Tributary's own hub, one row per callback and
/// topic (an output URL), with their secret and lease.
pub(super) const WEBSUB: &str = r#"
ALTER TABLE fetch_log ADD COLUMN kind TEXT NOT NULL DEFAULT 'poll';
CREATE TABLE websub_subscriptions (
    feed_id           INTEGER PRIMARY KEY,
    hub               TEXT NOT NULL,
    topic             TEXT NOT NULL,
    token             TEXT NOT NULL UNIQUE,
    secret            TEXT NOT NULL,
    state             TEXT NOT NULL,
    pending           TEXT,
    requested_at      TEXT,
    lease_seconds     INTEGER,
    lease_expires_at  TEXT,
    verified_at       TEXT,
    last_push_at      TEXT,
    next_action_at    TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX websub_by_next_action ON websub_subscriptions(next_action_at);
CREATE TABLE websub_river_subscribers (
    callback          TEXT NOT NULL,
    topic             TEXT NOT NULL,
    secret            TEXT,
    lease_expires_at  TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    last_delivery_at  TEXT,
    last_error        TEXT,
    PRIMARY KEY (topic, callback)
);
"#;
