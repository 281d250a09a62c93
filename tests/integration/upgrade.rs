//! A store made by the release before migration 17 (one copy of each
//! text; see `tests/fixtures/stores/release-d0649b3/README.md`), opened by
//! this build: it is migrated in place, and every article, entry, story,
//! search result, output and explanation is what the release gave for it.
//! A migration killed halfway leaves the release's store as it was.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rusqlite::types::Value;

use crate::util::{stdout, Scratch};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/stores/release-d0649b3"
);

/// The release's schema version, and this build's.
const RELEASE_VERSION: i64 = 16;
const MIGRATED_VERSION: i64 = 23;

/// The release's store, unpacked to `to`.
fn unpack(to: &Path) {
    let gz = std::fs::read(format!("{FIXTURE}/tributary.db.gz")).unwrap();
    let mut db = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut db)
        .unwrap();
    std::fs::write(to, db).unwrap();
}

/// A scratch folder with the release's store and a config naming its
/// feeds as the release's did (`[server]` as when its outputs were made).
/// The feeds' URLs are read from the store: the release wrote them where
/// its checkout stood.
fn scratch() -> Scratch {
    let s = Scratch::new();
    unpack(&s.db_path());
    let feeds: Vec<(String, String)> = {
        let c = rusqlite::Connection::open(s.db_path()).unwrap();
        let mut st = c
            .prepare("SELECT name, url FROM feeds ORDER BY id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(feeds.len(), 4, "{feeds:?}");
    let pairs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str()))
        .collect();
    s.write_config("[server]\nout_dir = \"public\"\n", &pairs);
    s
}

fn version(c: &rusqlite::Connection) -> i64 {
    c.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// Every row of `sql`, every column.
fn rows(c: &rusqlite::Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut st = c.prepare(sql).unwrap();
    let n = st.column_count();
    st.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Everything of the articles but their stored text and HTML, every
/// entry, the stories and the merges: what must not move, read with no
/// function but the `sqlite3` shell's. `{print}` is where the article's
/// fingerprint is read, `{summary}` its summary: [`BEFORE`] or [`AFTER`].
const KEPT: [&str; 5] = [
    "SELECT id, canonical_url, url, title, authors, {summary}, content_hash,
            published_at, updated_at, first_seen_at, changed_at, categories, enclosures,
            story_id, {print}, story_match_id, story_score, title_derived, title_original,
            extracted_html, extracted_text, extracted_at, extract_error
     FROM articles ORDER BY id",
    "SELECT * FROM entries ORDER BY id",
    "SELECT * FROM stories ORDER BY story_id",
    "SELECT * FROM merges ORDER BY level, article_id, entry_id",
    "SELECT * FROM latest_articles",
];

/// How the fingerprint and the summary are read: in the release's schema;
/// and in this build's (the fingerprint in a table of its own, migration
/// 19, with 16-bit MinHash slots, migration 20; the summary compressed
/// with the HTML, migration 21; the fingerprint compact, migration 22).
struct Layout {
    print: &'static str,
    summary: &'static str,
}
const BEFORE: Layout = Layout {
    print: "fingerprint",
    summary: "summary_html",
};
const AFTER: Layout = Layout {
    print: "(SELECT p.fingerprint FROM story_prints p WHERE p.article_id = articles.id)",
    summary: "(SELECT h.summary_html FROM article_html h WHERE h.id = articles.id)",
};

/// Every row of every [`KEPT`] query, read as `layout` says.
fn kept(c: &rusqlite::Connection, layout: &Layout) -> Vec<Vec<Vec<Value>>> {
    KEPT.iter()
        .map(|q| {
            let q = q
                .replace("{print}", layout.print)
                .replace("{summary}", layout.summary);
            rows(c, &q)
        })
        .collect()
}

fn fts_check(c: &rusqlite::Connection) {
    // With rank 1, FTS5 also checks the index against its content.
    c.execute(
        "INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .unwrap();
}

#[test]
fn the_releases_store_migrates_in_place_and_reads_the_same() {
    let s = scratch();
    let (before, texts) = {
        let c = rusqlite::Connection::open(s.db_path()).unwrap();
        assert_eq!(version(&c), RELEASE_VERSION);
        let kept = kept(&c, &BEFORE);
        let texts = rows(&c, "SELECT id, content_text FROM articles ORDER BY id");
        let html = rows(&c, "SELECT id, content_html FROM articles ORDER BY id");
        (kept, (texts, html))
    };
    let (texts, html) = texts;
    assert_eq!(texts.len(), 24);
    assert!(
        html.iter()
            .filter(|r| matches!(&r[1], Value::Text(h) if h.len() > 200))
            .count()
            >= 10,
        "the fixture's articles have HTML"
    );
    assert_eq!(before[2].len(), 1, "the fixture holds a story");
    let printed = |kept: &[Vec<Vec<Value>>]| {
        kept[0]
            .iter()
            .filter(|r| {
                matches!(&r[14], Value::Blob(b)
                    if tributary::dedup::story::Fingerprint::from_bytes(b).is_ok())
            })
            .count()
    };
    assert!(
        printed(&before) >= 10,
        "the fixture's articles have fingerprints"
    );

    // The river, as the release rendered it (opening the store migrates it).
    let out = s.tributary(&["publish"]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let public = s.dir.path().join("public");
    assert_eq!(
        std::fs::read_to_string(public.join("feed.json")).unwrap(),
        std::fs::read_to_string(format!("{FIXTURE}/river.json")).unwrap()
    );
    let sums = std::fs::read_to_string(format!("{FIXTURE}/outputs.sha256")).unwrap();
    for line in sums.lines() {
        let (sum, file) = line.split_once("  ").unwrap();
        let bytes = std::fs::read(public.join(file)).unwrap();
        let got = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let hex: String = got.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, sum, "{file} differs from the release's");
    }

    // The views people read with sqlite3 need no function of Tributary's,
    // only the shell's own (`sqlar_uncompress`).
    let plain = rusqlite::Connection::open(s.db_path()).unwrap();
    tributary::store::register_shell_functions(&plain).unwrap();
    assert_eq!(version(&plain), MIGRATED_VERSION);
    let after = kept(&plain, &AFTER);
    // Each fingerprint is the release's, in the current encoding (the
    // release's 32-bit slots cut to their low 16 bits: what this build
    // makes of the same text), and stored once: in `story_prints` only.
    let mut current = before.clone();
    for row in &mut current[0] {
        if let Value::Blob(b) = &row[14] {
            let print = tributary::dedup::story::Fingerprint::from_bytes(b).unwrap();
            row[14] = Value::Blob(print.to_bytes());
        }
    }
    assert_eq!(after, current);
    assert_eq!(printed(&after), printed(&before));
    // Compact: the facts each print holds, no empty slot.
    assert!(after[0].iter().all(|r| match &r[14] {
        Value::Blob(b) => {
            let print = tributary::dedup::story::Fingerprint::from_bytes(b).unwrap();
            let facts = print.facts().names().len() + print.facts().figures().len();
            b.len() == tributary::dedup::story::Fingerprint::LEXICAL_LEN + 7 + 4 * facts
        }
        _ => true,
    }));
    assert_eq!(
        plain
            .query_row(
                "SELECT (SELECT count(*) FROM pragma_table_info('articles') WHERE name = 'fingerprint')
                      + (SELECT count(*) FROM sqlite_master WHERE name = 'articles_story_prints')",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap(),
        0
    );
    drop(plain);
    let c = s.db();
    // Every text reads as before, and none is stored twice any more.
    assert_eq!(
        rows(&c, "SELECT id, content_text FROM article_text ORDER BY id"),
        texts
    );
    // Every HTML reads as before, and is stored compressed where that
    // makes it smaller (all but the shortest).
    assert_eq!(
        rows(&c, "SELECT id, content_html FROM article_html ORDER BY id"),
        html
    );
    let (packed, of): (i64, i64) = c
        .query_row(
            "SELECT sum(length(texts_zlib)), sum(texts_size) FROM articles",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(packed * 3 < of * 2, "{packed} bytes stored for {of}");
    // The sqlite3 shell reads the same HTML, summaries and excerpts with
    // its own zlib.
    let text = |v: &Value| match v {
        Value::Text(h) => serde_json::Value::from(h.as_str()),
        _ => serde_json::Value::Null,
    };
    if let Some(shell) = crate::util::sqlite3_json(
        &s.db_path(),
        "SELECT h.id, h.content_html, h.summary_html, l.excerpt
         FROM article_html h JOIN latest_articles l USING (id) ORDER BY h.id",
    ) {
        let excerpt = |id: &Value| &before[4].iter().find(|r| &r[0] == id).unwrap()[7];
        let want: Vec<serde_json::Value> = html
            .iter()
            .zip(&before[0])
            .map(|(r, article)| {
                let Value::Integer(id) = r[0] else { panic!() };
                assert_eq!(article[0], r[0]);
                serde_json::json!({
                    "id": id,
                    "content_html": text(&r[1]),
                    "summary_html": text(&article[5]),
                    "excerpt": text(excerpt(&r[0])),
                })
            })
            .collect();
        assert_eq!(shell, want);
    }
    assert_eq!(
        c.query_row(
            "SELECT count(*) FROM articles WHERE content_html_size IS NOT NULL AND content_text != ''",
            [],
            |r| r.get::<_, i64>(0)
        )
        .unwrap(),
        0
    );
    fts_check(&c);

    // Search (the extracted text included) and explain, as the release.
    let saved = std::fs::read_to_string(format!("{FIXTURE}/search.txt")).unwrap();
    let mut queries = 0;
    for block in saved.split("## ").skip(1) {
        let (query, expected) = block.split_once('\n').unwrap();
        let mut args = vec!["search", "--json", "-n", "50"];
        args.extend(query.split(' '));
        let out = s.tributary(&args);
        assert_eq!(stdout(&out), expected, "search {query}");
        queries += 1;
    }
    assert_eq!(queries, 8);
    assert!(saved.contains("## lighthouse\n{\"article_id\""));
    let mut explained = String::new();
    for id in 1..=24 {
        explained.push_str(&stdout(&s.tributary(&[
            "explain",
            "--json",
            &id.to_string(),
        ])));
    }
    assert_eq!(
        explained,
        std::fs::read_to_string(format!("{FIXTURE}/explain.jsonl")).unwrap()
    );

    // Deleting an article (as retention does) takes it out of the index,
    // exactly: the index still checks against its content.
    c.execute_batch("DELETE FROM entries WHERE article_id = 2; DELETE FROM articles WHERE id = 2;")
        .unwrap();
    fts_check(&c);
    let out = s.tributary(&["search", "--json", "bridge"]);
    assert_eq!(stdout(&out), "");
}

/// The release's store, made bigger (every article copied `copies` times
/// and indexed, in the release's layout), so that migrating it takes a
/// while.
fn inflate(db: &Path, copies: usize) {
    let c = rusqlite::Connection::open(db).unwrap();
    let tx = c.unchecked_transaction().unwrap();
    for _ in 0..copies {
        tx.execute_batch(
            "INSERT INTO articles (canonical_url, url, title, authors, summary_html, content_html,
                 content_text, content_hash, published_at, first_seen_at, categories, enclosures)
             SELECT canonical_url || '#' || id, url, title, authors, summary_html, content_html,
                 content_text, content_hash, published_at, first_seen_at, categories, enclosures
             FROM articles WHERE id <= 24;",
        )
        .unwrap();
    }
    tx.execute_batch(
        "UPDATE articles SET story_id = id WHERE story_id IS NULL;
         INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');",
    )
    .unwrap();
    tx.commit().unwrap();
}

#[test]
fn a_migration_killed_halfway_leaves_the_releases_store() {
    let s = scratch();
    inflate(&s.db_path(), 500);
    let pristine = s.dir.path().join("pristine.db");
    std::fs::copy(s.db_path(), &pristine).unwrap();
    let search = |c: &rusqlite::Connection| -> i64 {
        c.query_row(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'bridge OR lighthouse'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (articles, found) = {
        let c = rusqlite::Connection::open(s.db_path()).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
            .unwrap();
        (n, search(&c))
    };
    assert!(articles > 12_000 && found > 500, "{articles} {found}");

    let mut cut_short = 0;
    // Killed once the migration's transaction has spilled this many bytes
    // of pages into the WAL (or, the last time, after it committed).
    for spilled in [64 * 1024u64, 1 << 20, 4 << 20, 16 << 20, u64::MAX] {
        std::fs::copy(&pristine, s.db_path()).unwrap();
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", s.db_path().display()));
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["--config", s.config_path().to_str().unwrap(), "publish"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let wal_path = format!("{}-wal", s.db_path().display());
        let started = std::time::Instant::now();
        let mut wal = 0;
        while child.try_wait().unwrap().is_none()
            && wal < spilled
            && started.elapsed() < Duration::from_secs(120)
        {
            std::thread::sleep(Duration::from_millis(2));
            wal = std::fs::metadata(&wal_path).map_or(0, |m| m.len());
        }
        let killed = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let _ = child.wait();

        let c = rusqlite::Connection::open(s.db_path()).unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        let v = version(&c);
        eprintln!("killed: {killed}, WAL {wal} bytes, version {v}");
        if v == RELEASE_VERSION {
            // Nothing of the migration is left: the release's layout,
            // every text stored, the release's index answering.
            let stored: i64 = c
                .query_row(
                    "SELECT count(*) FROM articles WHERE content_text != ''",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(stored, articles);
            assert_eq!(search(&c), found);
            cut_short += usize::from(killed);
        } else {
            assert_eq!(v, MIGRATED_VERSION);
        }
        drop(c);
        // Either way, this build opens it and finds the same.
        let out = s.tributary(&["search", "-n", "1", "lighthouse"]);
        assert!(out.status.success(), "{}", crate::util::stderr(&out));
        let c = s.db();
        assert_eq!(version(&c), MIGRATED_VERSION);
        assert_eq!(search(&c), found);
        fts_check(&c);
        // The articles' table was made again, not changed in place: its
        // pages are full (rows of a few KiB in 16 KiB pages leave about
        // half a row free per page), where rows grown and shrunk in place
        // left them half empty.
        let (size, unused): (i64, i64) = c
            .query_row(
                "SELECT sum(pgsize), sum(unused) FROM dbstat WHERE name = 'articles'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(unused * 5 < size, "{unused} of {size} bytes unused");
    }
    assert!(cut_short > 0, "no kill landed inside the migration");
}

/// What the daemon tells systemd up to `READY=1`.
fn notifications_until_ready(s: &Scratch) -> Vec<String> {
    let sock_path = s.dir.path().join("notify.sock");
    let _ = std::fs::remove_file(&sock_path);
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let daemon =
        crate::child::Daemon::start(s, "", &[("NOTIFY_SOCKET", sock_path.to_str().unwrap())]);
    let mut messages = Vec::new();
    let end = std::time::Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 4096];
    while std::time::Instant::now() < end
        && !messages.iter().any(|m: &String| m.contains("READY=1"))
    {
        if let Ok(n) = sock.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        messages.iter().any(|m| m.contains("READY=1")),
        "{messages:?}\n{log}"
    );
    messages
}

#[test]
fn an_upgrade_at_start_asks_systemd_for_more_time_first() {
    let s = scratch();
    let first = notifications_until_ready(&s);
    // Before READY, and before the upgrade's transaction: more time, and
    // why.
    assert_eq!(
        first[0],
        format!(
            "EXTEND_TIMEOUT_USEC=3600000000\nSTATUS=upgrading the store from schema {RELEASE_VERSION} to {MIGRATED_VERSION}\n"
        ),
        "{first:?}"
    );
    assert_eq!(version(&s.db()), MIGRATED_VERSION);
    // Upgraded once: the next start asks for nothing.
    let second = notifications_until_ready(&s);
    assert!(
        second.iter().all(|m| !m.contains("EXTEND_TIMEOUT_USEC")),
        "{second:?}"
    );
}

#[test]
fn an_upgrade_takes_memory_that_does_not_grow_with_the_store() {
    let s = scratch();
    inflate(&s.db_path(), 1500);
    let table: i64 = rusqlite::Connection::open(s.db_path())
        .unwrap()
        .query_row(
            "SELECT sum(pgsize) FROM dbstat WHERE name = 'articles'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(table > 48 << 20, "the articles table is {table} bytes");
    // Upgrading rewrites every row of it; the same command on the
    // upgraded store is the baseline.
    let upgrading = crate::util::peak_kib(&s, &["publish"]);
    assert_eq!(version(&s.db()), MIGRATED_VERSION);
    let after = crate::util::peak_kib(&s, &["publish"]);
    eprintln!("upgrade of a {table}-byte table: {upgrading} KiB; then {after} KiB");
    assert!(
        upgrading < after + 16 * 1024,
        "{upgrading} KiB upgrading, {after} KiB after, for a table of {} MiB",
        table >> 20
    );
    // Free pages (as the upgrade of a store whose HTML compresses well
    // leaves) are given back by the next retention run's one full VACUUM,
    // which copies the whole file: on disk too.
    s.db()
        .execute_batch(
            "CREATE TABLE filler AS
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 80000)
                 SELECT randomblob(1000) AS b FROM n;
             DROP TABLE filler;
             PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .unwrap();
    let file = std::fs::metadata(s.db_path()).unwrap().len();
    let vacuuming = crate::util::peak_kib(&s, &["prune"]);
    let c = s.db();
    let mode: i64 = c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, 2, "vacuumed into incremental mode");
    let shrunk = std::fs::metadata(s.db_path()).unwrap().len();
    eprintln!("vacuum of a {file}-byte file to {shrunk}: {vacuuming} KiB");
    assert!(shrunk < file * 3 / 4, "{file} -> {shrunk}");
    assert!(
        vacuuming < after + 16 * 1024,
        "{vacuuming} KiB vacuuming a file of {} MiB, {after} KiB publishing",
        file >> 20
    );
}
