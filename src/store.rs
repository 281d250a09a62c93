//! The SQLite store: the schema, its migrations, and every SQL statement
//! Tributary runs. No other module writes SQL.
//!
//! # Concurrency
//! People open the database with `sqlite3` while the daemon runs, so the
//! connection uses WAL (readers never block the writer, nor it them), a
//! busy timeout, and short write transactions: one per group of fetches
//! that finished while the previous group was being written
//! ([`Store::record_fetches`]; usually one fetch when the daemon is idle, up
//! to the fetch concurrency in a busy round). The daemon has exactly one
//! writing [`Store`]; readers may open their own.
//!
//! # Durability
//! All writes of one fetch — entries, articles, the feed's new validators
//! and the fetch-log row — commit in one transaction (with the other
//! fetches of its group). The validators are
//! therefore never saved without the entries they vouch for, and a crash or
//! `kill -9` at any moment leaves either the whole fetch or none of it.
//! `synchronous = NORMAL` in WAL mode keeps the file consistent on power
//! loss, at the price of possibly losing the last transactions (which the
//! next fetch brings back).

mod articles;
#[cfg(feature = "bench")]
mod bulk;
mod checkpoint;
mod digests;
mod explain;
pub(crate) mod extract;
mod feeds;
mod health;
mod html;
pub use html::PackedTexts;
mod ingest;
mod known;
mod notify;
mod outputs;
mod record;
mod restory;
mod retention;
mod river;
mod rules;
mod schema;
mod search;
mod search_limits;
mod shared;
mod story;
mod text;
mod websub;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags};

use crate::private_files::Access;

#[cfg(feature = "bench")]
pub use bulk::BulkRow;
pub use digests::{DigestArticle, DigestRow, DigestState, NewDigest};
pub use explain::{EntryWhy, Evidence, Explanation, StoryMember};
pub use extract::{ExtractOutcome, QueuedPage};
pub use feeds::{FeedRow, Reconciled};
pub use health::{FetchLogRow, RedirectStreak};
pub use notify::{Attempt, OutboxRow, TargetQueue};
pub use outputs::{
    ArticleFilter, FeedRef, LabelQuery, OutputArticle, OutputQuery, OutputStory, Sighting,
    FILTER_BUDGET, SCAN_BUDGET, SCAN_PAGE,
};
pub use record::{Applied, FetchRecord, Outcome, StoryPolicy};
pub use retention::{Compaction, PrunePolicy, PruneReport};
pub use river::RiverSubscriber;
pub use rules::{Dropped, DroppedRow, Judged, Labels};
pub use search::{SearchError, SearchHit, SearchResults, MATCH_END, MATCH_START};
pub use search_limits::{QueryRefused, QueryShape, SearchLimits};
pub use shared::{Preparing, SharedStore};
pub use websub::{NewSubscription, Subscription};

/// How long a statement waits for a lock held by another connection.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Size, in bytes, of the pages written to the WAL between two
/// checkpoints (run by a thread of their own: see `checkpoint`), and the
/// size the WAL file is cut back to when SQLite starts it over after a
/// long read let it grow. The writer checkpoints itself at four times this
/// (`wal_autocheckpoint`, counted in pages of the file's size).
pub const WAL_SIZE_LIMIT: i64 = 32 * 1024 * 1024;

/// Page size of a new database. An article's row (its compressed HTML,
/// summary and excerpt) is one to a few KiB: 4 KiB pages hold one or
/// two and leave a third of the table's leaf pages unused. Existing
/// databases keep theirs (changing it takes a full `VACUUM` out of WAL
/// mode); everything that counts pages reads the file's own.
pub const PAGE_SIZE: i64 = 16 * 1024;

/// Size, in bytes, of the writing connection's page cache.
pub const CACHE_SIZE: i64 = 8 * 1024 * 1024;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was made by a newer Tributary.
    #[error("database schema version {found} is newer than this Tributary understands ({supported}); upgrade Tributary")]
    NewerSchema {
        /// `user_version` of the file.
        found: i64,
        /// Number of migrations this build knows.
        supported: i64,
    },
    /// The migrations would have left rows pointing at rows that are not
    /// there (`PRAGMA foreign_key_check`); they were rolled back.
    #[error("upgrading the database to schema {version} would leave {rows} rows pointing at missing rows; it was left as it was")]
    MigrationKeys {
        /// The schema version the migrations were to reach.
        version: i64,
        /// Rows `foreign_key_check` reported.
        rows: i64,
    },
    /// A fetch carried an entry whose cleaning (or parsing) was skipped
    /// because the store held it unchanged, but the store no longer does
    /// (it was re-keyed, edited or removed meanwhile): the document must
    /// be processed again in full.
    #[error("entry {key:?} was not cleaned (it looked stored and unchanged) but needs to be")]
    ContentElided {
        /// The entry's key.
        key: String,
    },
    /// Storing failed around SQLite rather than in it: the task writing a
    /// group of fetches ended before it answered, a document could not be
    /// processed again for a second try, or the checkpoint thread could
    /// not start.
    #[error("{0}")]
    Group(String),
    /// The database file's mode or group could not be set.
    #[error("cannot set the access of {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The database directory could not be created.
    #[error("cannot create {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// `path` with `suffix` appended to its file name (`x.db` → `x.db-wal`).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Store result.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Registers on `conn` the SQL functions the schema uses (`html_text`,
/// through which the view `article_text`, the search index and its
/// triggers read an article's text, and `sqlar_uncompress`, through which
/// they and the views `article_html` and `latest_articles` read its HTML,
/// summary and excerpt: see `docs/schema.md`), for a program that opens
/// the database itself. Tributary's own connections have them.
pub fn register_sql_functions(conn: &Connection) -> rusqlite::Result<()> {
    text::register(conn)?;
    register_shell_functions(conn)
}

/// Registers on `conn` only the functions of the schema that the `sqlite3`
/// shell has too (`sqlar_compress` and `sqlar_uncompress`, with the
/// shell's meaning): what reads the database as the shell does.
pub fn register_shell_functions(conn: &Connection) -> rusqlite::Result<()> {
    html::register(conn)
}

/// Keeps each statement's plan for all the values bound to it.
///
/// Without this, SQLite plans a statement again whenever a value is bound
/// to a parameter compared with an indexed column of a query that is also
/// ordered by that index (every per-feed and per-key lookup here that reads
/// its rows newest first: a feed's recent entry times, a band key's
/// postings). Each re-plan parses the statement anew: a tenth of an
/// unchanged round's instructions, about 37,000 per lookup. The plans
/// here never depend on the values (no `LIKE ?`, no statistics tables),
/// so the planner's stability guarantee costs nothing.
fn plan_once(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// An open, migrated database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The recent tier of the story index (see `story`).
    recent: story::RecentBands,
    /// Checkpoints off the writer's thread (see `checkpoint`).
    checkpoints: checkpoint::Checkpoints,
    /// The notification targets new articles and health events are
    /// queued for (see `notify`).
    notify: std::sync::Arc<Vec<crate::config::NotifyConfig>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, readable by its
    /// owner only, applies the connection settings and runs pending
    /// migrations.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, Access::OWNER)
    }

    /// [`Store::open`], the database and its `-wal` and `-shm` given
    /// `access` (SQLite creates those two with the database's mode, and,
    /// when run by root, its owner).
    pub fn open_with(path: &Path, access: Access) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file_err = |source| StoreError::File {
            path: path.to_path_buf(),
            source,
        };
        // Created with its mode before SQLite opens it (SQLite would make
        // it 0644 less the umask); an existing file is given it too.
        // Someone other than its owner (with write access through a
        // group) cannot change that, and is told so rather than refused.
        match access.create_new(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                for p in [
                    path.to_path_buf(),
                    sidecar(path, "-wal"),
                    sidecar(path, "-shm"),
                ] {
                    if let Err(e) = access.enforce(&p) {
                        tracing::warn!(file = %p.display(), error = %e, "cannot make the database file private");
                    }
                }
            }
            Err(e) => return Err(file_err(e)),
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            recent: story::RecentBands::default(),
            checkpoints: checkpoint::Checkpoints::default(),
            notify: Default::default(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// The schema versions an existing database at `path` would be
    /// migrated from and to by [`Store::open`], when it would be (`None`:
    /// no file yet, or nothing to apply). Opening runs every pending
    /// migration in one transaction, which on a large store can take
    /// minutes (the daemon tells systemd so first).
    pub fn pending_migrations(path: &Path) -> Result<Option<(i64, i64)>> {
        if !path.exists() {
            return Ok(None);
        }
        let found = Store::open_read_only(path)?.schema_version()?;
        let to = schema::MIGRATIONS.len() as i64;
        Ok((found > 0 && found < to).then_some((found, to)))
    }

    /// Opens an existing database for reading only (for commands that only
    /// look, like `tributary feeds`), without migrating it.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        register_sql_functions(&conn)?;
        plan_once(&conn)?;
        Ok(Store {
            recent: story::RecentBands::default(),
            checkpoints: checkpoint::Checkpoints::default(),
            notify: Default::default(),
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Closes the store at a clean stop: stops the checkpoint thread,
    /// copies the WAL into the database and truncates it
    /// (`wal_checkpoint(TRUNCATE)`), and closes the connection, after which
    /// SQLite deletes the `-wal` and `-shm` files, unless another
    /// connection (someone's `sqlite3`) still has the database open. Call
    /// it after every other connection of this process is closed: a
    /// read-only connection closing last cannot delete them.
    pub fn close(self) -> Result<()> {
        let Store {
            conn, checkpoints, ..
        } = self;
        drop(checkpoints);
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.close().map_err(|(_, e)| StoreError::Sqlite(e))
    }

    /// After a commit of fetches: asks the checkpoint thread for a
    /// checkpoint once [`WAL_SIZE_LIMIT`] bytes of pages have been written
    /// since the last one (see `checkpoint`).
    /// Sets the notification targets the writes from now on queue for.
    pub fn set_notify_targets(&mut self, targets: &[crate::config::NotifyConfig]) {
        self.notify = std::sync::Arc::new(targets.to_vec());
    }

    fn after_commit(&mut self) {
        self.checkpoints.after_commit(&self.conn, &self.path);
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&mut self) -> Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        register_sql_functions(&self.conn)?;
        // Only a new (empty) database takes it; an existing one keeps the
        // page size it was made with.
        self.conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        let page: i64 = self
            .conn
            .pragma_query_value(None, "page_size", |r| r.get(0))?;
        self.checkpoints.every = WAL_SIZE_LIMIT / page;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        // A long read (someone's sqlite3 query) pins the WAL, which then
        // grows; once the read ends the WAL is reused, and this cuts the
        // file back to its usual size when it is.
        self.conn
            .pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        // Statement journals (a statement that fires triggers keeps one)
        // stay in memory instead of a temporary file per statement.
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Ingest touches index pages all over the file (the story index
        // above all); a cache of a few MiB keeps the hot ones, and its
        // size, not the store's, bounds the memory it takes.
        self.conn
            .pragma_update(None, "cache_size", -(CACHE_SIZE / 1024))?;
        // Checkpoints copy each page once however many commits changed it
        // since the last one: fewer, larger checkpoints copy less (with
        // SQLite's default of 1,000 pages, a busy round checkpointed after
        // nearly every commit and spent a quarter of its time copying).
        // The checkpoint thread runs them at `WAL_SIZE_LIMIT`; this one,
        // on the writer's thread, only bounds the WAL (see `checkpoint`).
        self.conn
            .pragma_update(None, "wal_autocheckpoint", 4 * WAL_SIZE_LIMIT / page)?;
        self.conn.set_prepared_statement_cache_capacity(64);
        plan_once(&self.conn)?;
        Ok(())
    }

    /// Applies the migrations this database has not run yet, each batch in
    /// one immediate transaction with the version bump.
    ///
    /// A migration's statement that rewrites every row of a table keeps a
    /// statement journal of the pages it changes, as large as the table:
    /// in memory (`temp_store = MEMORY`, the writer's setting) a 380 MB
    /// store took 280 MB of RAM to upgrade. While migrating, temporary
    /// data goes to files (in `SQLITE_TMPDIR` or `/var/tmp`; the unit's
    /// private one under systemd), and memory stays at the page cache.
    ///
    /// Foreign keys are not enforced while migrations run: a migration
    /// that gives a table another layout makes it again (SQLite's "twelve
    /// steps": new table, copy, drop, rename), and dropping the old table
    /// would otherwise delete its rows under the rows that point at them.
    /// They are checked as a whole before the migrations commit.
    fn migrate(&mut self) -> Result<()> {
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let out = self.on_temporary_files(Store::migrate_on_files);
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        out
    }

    /// Runs `f` with SQLite's temporary data (statement journals, the copy
    /// `VACUUM` makes) in files rather than memory, for statements whose
    /// temporary data grows with the store.
    fn on_temporary_files<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.conn.pragma_update(None, "temp_store", "FILE")?;
        let out = f(self);
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        out
    }

    fn migrate_on_files(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = schema::MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::NewerSchema {
                found: version,
                supported,
            });
        }
        if version < supported {
            // Functions only a migration calls (see `story::rekey`).
            story::rekey::register(&tx)?;
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        if version < supported {
            let rows: i64 =
                tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if rows > 0 {
                return Err(StoreError::MigrationKeys {
                    version: supported,
                    rows,
                });
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `reads` on one snapshot of the file: one read transaction for
    /// all its statements instead of one each. A read transaction takes
    /// and drops a lock on the WAL index (two system calls); a thousand
    /// point lookups in a row spent a third of their time there.
    pub fn snapshot<T>(&self, reads: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let tx = self.conn.unchecked_transaction()?;
        let out = reads(self)?;
        tx.commit()?;
        Ok(out)
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// A trivial query: the store answers.
    pub fn ping(&self) -> Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// Whether a write transaction can be started (and rolled back).
    pub fn probe_write(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.rollback()?;
        Ok(())
    }

    /// `PRAGMA integrity_check` == "ok".
    pub fn integrity_ok(&self) -> Result<bool> {
        let s: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(s == "ok")
    }

    /// Row counts of the main tables, for summaries: (feeds, entries, articles).
    pub fn counts(&self) -> Result<(i64, i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM feeds WHERE active = 1),
                    (SELECT count(*) FROM entries),
                    (SELECT count(*) FROM articles)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }
}

/// The stored text form of a time.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The stored text form of a time that must not be moved earlier (a
/// "not before" time): rounded up to the whole second.
pub(crate) fn ts_ceil(t: DateTime<Utc>) -> String {
    use chrono::{DurationRound, TimeDelta};
    let up = t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t);
    ts(if up < t {
        up + TimeDelta::seconds(1)
    } else {
        up
    })
}

/// Reads a stored time back.
pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        let s = Store::open(&p).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
        drop(s);
        let s = Store::open(&p).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
        assert!(s.integrity_ok().unwrap());
    }

    #[test]
    fn a_version_5_store_keeps_its_story_index_and_search_through_migrations_6_and_7() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        let c = Connection::open(&p).unwrap();
        for sql in &schema::MIGRATIONS[..5] {
            c.execute_batch(sql).unwrap();
        }
        // A fingerprint as that version wrote it (32-bit slots, no facts).
        let text = "The harbour ferry runs hourly from the old quay to the island, \
            and the council says a second boat will join it next summer, when the \
            timetable changes and the new pier at the north beach opens to visitors. \
            Tickets for residents stay at the same price, the operator said on Monday.";
        let print = crate::dedup::story::tests::v1_bytes("Ferry timetable", text, false);
        c.execute(
            "INSERT INTO articles (id, title, content_text, content_hash, published_at, first_seen_at, story_id, fingerprint)
             VALUES (1, 'Ferry timetable', ?1, 'h', '2026-11-20T10:00:00Z', '2026-11-20T10:00:00Z', 1, ?2)",
            rusqlite::params![text, print],
        )
        .unwrap();
        c.execute_batch(
            "PRAGMA user_version = 5;
             INSERT INTO story_bands (band_key, article_id, first_seen_at) VALUES (42, 1, '2026-11-20T10:00:00Z');",
        )
        .unwrap();
        drop(c);
        let s = Store::open(&p).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::MIGRATIONS.len() as i64);
        // Migration 7: every article stored so far is in the table tier.
        let through: i64 = s
            .conn
            .query_row("SELECT through FROM story_index", [], |r| r.get(0))
            .unwrap();
        assert_eq!(through, 1);
        // Migration 20: the table tier is keyed again from the prints.
        let (bands, triggers, prints): (i64, i64, i64) = s
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM story_bands WHERE article_id = 1 AND band_key != 42),
                        (SELECT count(*) FROM sqlite_master WHERE name = 'articles_fts_insert'),
                        (SELECT count(*) FROM sqlite_master WHERE name = 'story_prints')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (bands, triggers, prints),
            (crate::dedup::story::BANDS as i64, 0, 1)
        );
        // Indexed by the old trigger, still found; edits still re-index.
        assert_eq!(
            s.search("harbour", 5, &SearchLimits::COMMAND_LINE)
                .unwrap()
                .hits
                .len(),
            1
        );
        s.conn
            .execute(
                "UPDATE articles SET content_text = 'The bridge opens.' WHERE id = 1",
                [],
            )
            .unwrap();
        assert!(s
            .search("harbour", 5, &SearchLimits::COMMAND_LINE)
            .unwrap()
            .hits
            .is_empty());
        assert_eq!(
            s.search("bridge", 5, &SearchLimits::COMMAND_LINE)
                .unwrap()
                .hits
                .len(),
            1
        );
        assert!(s.integrity_ok().unwrap());
    }

    #[test]
    fn checkpoints_run_on_their_own_thread_once_enough_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        // Made, then opened again: the schema's pages are not counted.
        drop(Store::open(&p).unwrap());
        let mut s = Store::open(&p).unwrap();
        // About 400 KB: more than the first batch below, less than both.
        s.checkpoints.every = 400_000 / PAGE_SIZE;
        let file_len = || std::fs::metadata(&p).unwrap().len();
        let before = file_len();
        s.conn
            .execute_batch(
                "CREATE TABLE filler (x);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
                 INSERT INTO filler SELECT randomblob(1000) FROM n;",
            )
            .unwrap();
        s.after_commit();
        assert!(
            s.checkpoints.thread.is_none(),
            "not yet: about 50 KB written"
        );
        s.conn
            .execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
                 INSERT INTO filler SELECT randomblob(1000) FROM n;",
            )
            .unwrap();
        s.after_commit();
        let c = s.checkpoints.thread.as_ref().expect("started");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while c.done() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(c.done(), 1);
        // The pages are in the database file now, not only in the WAL (the
        // writer's own checkpoint is far off).
        assert!(file_len() > before + 400_000, "{before} -> {}", file_len());
        drop(s);
        assert!(Store::open(&p).unwrap().integrity_ok().unwrap());
    }

    #[test]
    fn the_wal_is_bounded_by_its_limits() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.db")).unwrap();
        let pragma = |name: &str| -> i64 {
            s.conn
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap()
        };
        // Cut back to the limit when it starts over; checkpointed by the
        // writer itself at four times the limit (in 4 KiB pages).
        assert_eq!(pragma("journal_size_limit"), WAL_SIZE_LIMIT);
        assert_eq!(pragma("page_size"), PAGE_SIZE);
        assert_eq!(pragma("wal_autocheckpoint"), 4 * WAL_SIZE_LIMIT / PAGE_SIZE);
        assert_eq!(s.checkpoints.every, WAL_SIZE_LIMIT / PAGE_SIZE);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        drop(Store::open(&p).unwrap());
        let c = Connection::open(&p).unwrap();
        c.pragma_update(None, "user_version", 999).unwrap();
        drop(c);
        assert!(matches!(
            Store::open(&p),
            Err(StoreError::NewerSchema { found: 999, .. })
        ));
    }

    /// A lookup ordered by the index it seeks in keeps its plan whatever
    /// value is bound (SQLite planned it again at each new value).
    #[test]
    fn lookups_are_planned_once_for_every_value_bound() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        for s in [Store::open(&p).unwrap(), Store::open_read_only(&p).unwrap()] {
            let mut st = s
                .conn
                .prepare(
                    "SELECT first_seen_at FROM entries INDEXED BY entries_by_feed_time
                     WHERE feed_id = ?1 ORDER BY first_seen_at DESC LIMIT 20",
                )
                .unwrap();
            for feed in 1..=4 {
                st.query([feed]).unwrap().next().unwrap();
            }
            assert_eq!(st.get_status(rusqlite::StatementStatus::Run), 4);
            assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0);
        }
    }

    #[test]
    fn times_round_trip() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(t), "2026-11-25T18:00:00Z");
        assert_eq!(parse_ts(&ts(t)), Some(t));
    }
}
