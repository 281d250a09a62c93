//! Concurrent readers: while `tributary run` writes continuously, other
//! processes query the database as a person with `sqlite3` would, one of
//! them holding a read transaction open for seconds, which pins a
//! snapshot. No reader and no write may fail; while the snapshot is held
//! the WAL grows past [`tributary::store::WAL_SIZE_LIMIT`], and once the
//! read ends it is cut back to that size (SQLite's `journal_size_limit`).
//!
//! Needs the `sqlite3` command; says so and passes without it.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::child::{integrity, wait_for, Daemon};
use crate::util::*;

const FEEDS: usize = 10;

fn sqlite3(db: &Path, sql: &str) -> std::process::Output {
    Command::new("sqlite3")
        .arg(db)
        .arg(".timeout 5000")
        .arg(sql)
        .output()
        .unwrap()
}

fn wal_size(db: &Path) -> u64 {
    let wal = db.with_extension("db-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

/// Publishes feed `f` with its items up to `to`: the last 30 with short
/// bodies, or (`big`) the last 12 with about 18 KB of text each, so that
/// every fetch writes megabytes.
fn publish(server: &FeedServer, f: usize, to: usize, big: bool) {
    let window = if big { 12 } else { 30 };
    let mut doc = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>R</title>\
         <link>https://site.example/</link><description>d</description>\n",
    );
    for j in to.saturating_sub(window)..to {
        let body = if big {
            (0..1_500).map(|k| format!("w{f}x{j}y{k} ")).collect()
        } else {
            format!("Body of item {j}.")
        };
        doc.push_str(&format!(
            "<item><guid isPermaLink=\"false\">f{f}-{j}</guid><title>Feed {f} item {j} of the river</title>\
             <description>&lt;p&gt;{body}&lt;/p&gt;</description>\
             <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>\n"
        ));
    }
    doc.push_str("</channel></rss>\n");
    server.set(&format!("/r{f}.xml"), Route::feed(doc));
}

#[test]
fn sqlite3_readers_and_a_long_read_do_not_disturb_the_writer() {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        skip("sqlite3_readers_and_a_long_read_do_not_disturb_the_writer: no sqlite3 command (apt-get install sqlite3)");
        return;
    }
    let server = Arc::new(FeedServer::start());
    let mut cfg = String::from(
        "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\n\
         [fetch]\nhost_gap = \"0s\"\nper_host = 16\n",
    );
    for f in 0..FEEDS {
        publish(&server, f, 30, false);
        cfg.push_str(&format!(
            "[[feeds]]\nname = \"r{f}\"\nurl = \"{}\"\n",
            server.url(&format!("/r{f}.xml"))
        ));
    }
    let s = Scratch::new();
    s.write_config(&cfg, &[]);
    let db = s.db_path();
    let daemon = Daemon::start(&s, "tributary=info", &[]);
    assert!(wait_for(Duration::from_secs(20), || {
        s.count_opt("SELECT count(*) FROM entries").unwrap_or(0) >= (FEEDS * 30) as i64
    }));

    let stop = Arc::new(AtomicBool::new(false));
    let big = Arc::new(AtomicBool::new(false));
    // Feeds keep publishing: three new items each, every 300 ms.
    let publisher = {
        let (server, stop, big) = (Arc::clone(&server), Arc::clone(&stop), Arc::clone(&big));
        std::thread::spawn(move || {
            let mut n = 30;
            while !stop.load(Ordering::Relaxed) {
                n += 3;
                for f in 0..FEEDS {
                    publish(&server, f, n, big.load(Ordering::Relaxed));
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    // A person looking around, over and over.
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let reader = {
        let (db, stop, failures) = (db.clone(), Arc::clone(&stop), Arc::clone(&failures));
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                let out = sqlite3(
                    &db,
                    "SELECT count(*) FROM entries; SELECT title, feeds FROM latest_articles LIMIT 20; \
                     SELECT name, status, last_error FROM feed_health; \
                     SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'river';",
                );
                let err = String::from_utf8_lossy(&out.stderr).into_owned();
                if !out.status.success() || !err.is_empty() {
                    failures.lock().unwrap().push(err);
                }
                reads += 1;
            }
            reads
        })
    };

    // One long read: a `sqlite3` session that opens a transaction, reads,
    // and keeps the transaction (and so its snapshot) open while the
    // daemon writes megabytes, until the WAL has grown past the limit.
    let limit = tributary::store::WAL_SIZE_LIMIT as u64;
    let before = wal_size(&db);
    let mut long = Command::new("sqlite3")
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut session = long.stdin.take().unwrap();
    let t = Instant::now();
    writeln!(
        session,
        ".timeout 5000\nBEGIN;\nSELECT count(*) FROM entries;"
    )
    .unwrap();
    session.flush().unwrap();
    big.store(true, Ordering::Relaxed);
    let grew = wait_for(Duration::from_secs(180), || {
        wal_size(&db) > limit + (4 << 20)
    });
    let during = wal_size(&db);
    let entries_during = s.count("SELECT count(*) FROM entries");
    writeln!(session, "SELECT count(*) FROM entries;\nCOMMIT;").unwrap();
    drop(session);
    let long = long.wait_with_output().unwrap();
    let long_took = t.elapsed();
    assert!(
        grew,
        "the WAL did not pass {limit} bytes under the long read: {during}"
    );
    assert!(
        long.status.success() && long.stderr.is_empty(),
        "{}",
        stderr(&long)
    );
    // Both reads of the transaction saw its snapshot, not the writes made
    // meanwhile: the read really pinned the WAL.
    let counts: Vec<i64> = stdout(&long).lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert_eq!(counts[0], counts[1]);
    assert!(entries_during > counts[0], "{entries_during} vs {counts:?}");
    assert!(long_took >= Duration::from_secs(1), "{long_took:?}");

    // Writing goes on after the long read: the next checkpoint starts the
    // WAL over and cuts the file back to the limit.
    let cut = Instant::now();
    let cut_back = wait_for(Duration::from_secs(180), || wal_size(&db) <= limit);
    let cut_took = cut.elapsed();
    let after = wal_size(&db);
    let entries_after_long = s.count("SELECT count(*) FROM entries");
    big.store(false, Ordering::Relaxed);
    // The daemon keeps writing after the cut.
    assert!(wait_for(Duration::from_secs(60), || {
        s.count("SELECT count(*) FROM entries") > entries_after_long
    }));
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().unwrap();
    publisher.join().unwrap();
    let (code, log) = daemon.stop();

    eprintln!(
        "readers: {reads} sqlite3 reads; long read {:.1} s; WAL {} KiB before, {} KiB during, \
         {} KiB {:.1} s after",
        long_took.as_secs_f64(),
        before / 1024,
        during / 1024,
        after / 1024,
        cut_took.as_secs_f64(),
    );
    assert!(
        cut_back,
        "WAL not cut back after the long read: {during} → {after}"
    );
    assert_eq!(code, Some(0), "{log}");
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "reader errors: {failures:?}");
    assert!(reads >= 3, "{reads}");
    for bad in ["database is locked", "ERROR", "storing failed"] {
        assert!(!log.contains(bad), "daemon log has `{bad}`:\n{log}");
    }
    assert_eq!(integrity(&s), "ok");
}
