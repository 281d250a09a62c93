//! Concurrent readers: while `tributary run` writes continuously, other
//! processes query the database as a person with `sqlite3` would, one of
//! them with a query that runs for seconds and so pins a snapshot. No
//! reader and no write may fail, and once the long read ends the WAL file,
//! which grew while the read pinned it, is cut back to
//! [`tributary::store::WAL_SIZE_LIMIT`] (SQLite's `journal_size_limit`).
//!
//! Needs the `sqlite3` command; says so and passes without it.

use std::path::Path;
use std::process::Command;
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

/// Publishes feed `f` with its items `from..to`.
fn publish(server: &FeedServer, f: usize, to: usize) {
    let items: Vec<(String, String)> = (to.saturating_sub(30)..to)
        .map(|j| {
            (
                format!("f{f}-{j}"),
                format!("Feed {f} item {j} of the river"),
            )
        })
        .collect();
    let refs: Vec<(Option<&str>, Option<&str>, &str)> = items
        .iter()
        .map(|(g, t)| (Some(g.as_str()), None, t.as_str()))
        .collect();
    server.set(&format!("/r{f}.xml"), Route::feed(rss("R", &refs)));
}

#[test]
fn sqlite3_readers_and_a_long_read_do_not_disturb_the_writer() {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED sqlite3_readers_and_a_long_read_do_not_disturb_the_writer: no sqlite3 command (apt-get install sqlite3)"
        );
        return;
    }
    let server = Arc::new(FeedServer::start());
    let mut cfg = String::from(
        "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\n\
         [fetch]\nhost_gap = \"0s\"\nper_host = 16\n",
    );
    for f in 0..FEEDS {
        publish(&server, f, 30);
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
    // Feeds keep publishing: three new items each, every 300 ms.
    let publisher = {
        let (server, stop) = (Arc::clone(&server), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut n = 30;
            while !stop.load(Ordering::Relaxed) {
                n += 3;
                for f in 0..FEEDS {
                    publish(&server, f, n);
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

    // One long read: a recursive CTE that also reads a table, so its
    // snapshot is held for the whole statement.
    std::thread::sleep(Duration::from_secs(1));
    let before = wal_size(&db);
    let peak = Arc::new(Mutex::new(before));
    let sampler = {
        let (db, stop, peak) = (db.clone(), Arc::clone(&stop), Arc::clone(&peak));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let w = wal_size(&db);
                let mut p = peak.lock().unwrap();
                *p = (*p).max(w);
                drop(p);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let t = Instant::now();
    let long = sqlite3(
        &db,
        "WITH RECURSIVE c(x) AS (SELECT (SELECT count(*) FROM entries) UNION ALL SELECT x + 1 FROM c \
         WHERE x < 3000000) SELECT count(*) FROM c, (SELECT count(*) FROM articles);",
    );
    let long_took = t.elapsed();
    let during = *peak.lock().unwrap();
    assert!(long.status.success(), "{}", stderr(&long));
    let entries_after_long = s.count("SELECT count(*) FROM entries");

    // Writing goes on after the long read: the WAL must stop growing.
    std::thread::sleep(Duration::from_secs(5));
    let after = wal_size(&db);
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().unwrap();
    publisher.join().unwrap();
    sampler.join().unwrap();
    let (code, log) = daemon.stop();

    eprintln!(
        "readers: {reads} sqlite3 reads; long read {:.1} s; WAL {} KiB before, {} KiB at most during, {} KiB 5 s after",
        long_took.as_secs_f64(),
        before / 1024,
        during / 1024,
        after / 1024
    );
    assert_eq!(code, Some(0), "{log}");
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "reader errors: {failures:?}");
    assert!(reads >= 3, "{reads}");
    for bad in ["database is locked", "ERROR", "storing failed"] {
        assert!(!log.contains(bad), "daemon log has `{bad}`:\n{log}");
    }
    // The daemon kept writing during and after the long read.
    assert!(s.count("SELECT count(*) FROM entries") > entries_after_long);
    assert_eq!(integrity(&s), "ok");
    // Cut back to the limit (plus what the last seconds appended).
    assert!(
        after <= tributary::store::WAL_SIZE_LIMIT as u64 + (1 << 20),
        "WAL not cut back after the long read: {during} → {after}"
    );
}
