//! What the logs say at their default levels: Tributary's own messages
//! only (no library's notes about its internals), and under the daemon one
//! summary per round of fetches instead of a line per fetch.

use std::time::Duration;

use crate::child::{wait_for, Daemon};
use crate::util::*;

/// An item whose HTML makes html5ever "foster parent" (text and blocks
/// directly inside a table), which it notes as a warning of its own.
const ODD_TABLE: &str = "&lt;table&gt;&lt;tr&gt;&lt;td&gt;x&lt;/td&gt;&lt;/tr&gt;stray text\
                         &lt;p&gt;para&lt;/p&gt;&lt;/table&gt;";

#[test]
fn a_plain_fetch_prints_no_library_notes() {
    let server = FeedServer::start();
    let feed = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>\
         <link>https://t.example/</link><description>d</description>\
         <item><guid>a</guid><title>A</title><link>https://t.example/a</link>\
         <description>{ODD_TABLE}</description></item></channel></rss>"
    );
    server.set("/t.xml", Route::feed(feed));
    let s = Scratch::new();
    s.write_config("", &[("t", &server.url("/t.xml"))]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("fetch")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.count("SELECT count(*) FROM entries"), 1);
    let err = stderr(&out);
    assert!(!err.contains("html5ever"), "{err}");
    assert!(err.is_empty(), "nothing to warn about, yet: {err}");
}

#[test]
fn the_daemon_logs_rounds_not_each_unchanged_fetch() {
    const FEEDS: usize = 12;
    let server = FeedServer::start();
    let mut feeds = Vec::new();
    for f in 0..FEEDS {
        let path = format!("/f{f}.xml");
        let title = format!("Feed {f} item");
        server.set(&path, Route::feed(rss("F", &[(Some("g1"), None, &title)])));
        feeds.push((format!("f{f}"), server.url(&path)));
    }
    let s = Scratch::new();
    let refs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str()))
        .collect();
    s.write_config(
        "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\n\
         [fetch]\nhost_gap = \"0s\"\nper_host = 16\n",
        &refs,
    );
    let mut daemon = Daemon::start(&s, "", &[]);
    // Every feed fetched at least four times: once with its entry, then
    // unchanged.
    let fetched = wait_for(Duration::from_secs(60), || {
        assert!(daemon.alive(), "{}", daemon.log());
        s.count_opt(
            "SELECT count(*) FROM (SELECT feed_id FROM fetch_log GROUP BY feed_id HAVING count(*) >= 4)",
        )
        .unwrap_or(0)
            == FEEDS as i64
    });
    let (code, log) = daemon.stop();
    assert!(fetched, "{log}");
    assert_eq!(code, Some(0), "{log}");
    let fetches = s.count("SELECT count(*) FROM fetch_log");
    let per_fetch = log.lines().filter(|l| l.contains(" fetched")).count();
    eprintln!(
        "logs: {fetches} fetches, {per_fetch} per-fetch lines, {} lines in all",
        log.lines().count()
    );
    // One line for each fetch that brought the entry, none for the others.
    assert_eq!(per_fetch, FEEDS, "{log}");
    assert!(log.contains("round done"), "{log}");
    assert!(
        (log.lines().count() as i64) < fetches,
        "{fetches} fetches:\n{log}"
    );
    assert!(!log.contains("WARN") && !log.contains("ERROR"), "{log}");
}
