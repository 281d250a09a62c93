//! The daemon driven in-process through `daemon::run`'s control channel,
//! which is all that `tributary run`'s signal handlers feed: it starts and
//! polls, reloads its config when told (a feed added is polled, a broken
//! config is refused and the old one keeps running), and stops when told
//! or when nobody can tell it anything any more, leaving a store closed
//! cleanly.

use std::time::{Duration, Instant};

use tributary::daemon::{close_store, run, Control};

use crate::util::*;

/// Every second, no start-up spread, no host gap; server off.
const FAST: &str =
    "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\nshutdown_grace = \"1s\"\n\
                    [fetch]\nhost_gap = \"0s\"\ntimeout = \"10s\"\n[server]\nenabled = false\n";

fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

#[test]
fn the_daemon_reloads_and_stops_when_told() {
    let server = FeedServer::start();
    let a = rss("A", &[(Some("a1"), Some("https://a.example/1"), "One")]);
    let b = rss("B", &[(Some("b1"), Some("https://b.example/1"), "Two")]);
    server.set("/a.xml", Route::feed(a));
    server.set("/b.xml", Route::feed(b));
    let s = Scratch::new();
    s.write_config(FAST, &[("a", &server.url("/a.xml"))]);
    let config = tributary::config::Config::load(&s.config_path()).unwrap();
    let runtime = tributary::jobs::threads::runtime().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let daemon = runtime.spawn(run(s.config_path(), config, rx));
    let entries = || s.count_opt("SELECT count(*) FROM entries").unwrap_or(0);

    assert!(
        wait_for(Duration::from_secs(60), || entries() == 1),
        "feed a polled"
    );
    assert_eq!(server.arrivals("/b.xml"), 0);

    // A broken config is refused: the daemon goes on with the old one.
    std::fs::write(s.config_path(), "[[feeds]]\nname = \n").unwrap();
    runtime.block_on(tx.send(Control::Reload)).unwrap();
    let polled = server.arrivals("/a.xml");
    assert!(
        wait_for(Duration::from_secs(60), || server.arrivals("/a.xml")
            > polled),
        "feed a still polled after a refused reload"
    );
    assert!(!daemon.is_finished());

    // A feed added and reloaded is polled.
    s.write_config(
        FAST,
        &[("a", &server.url("/a.xml")), ("b", &server.url("/b.xml"))],
    );
    runtime.block_on(tx.send(Control::Reload)).unwrap();
    assert!(
        wait_for(Duration::from_secs(60), || entries() == 2),
        "feed b polled after the reload"
    );

    // Told to stop, it returns its store; closed, no write-ahead log is left.
    runtime.block_on(tx.send(Control::Stop)).unwrap();
    let store = runtime
        .block_on(daemon)
        .unwrap()
        .expect("the daemon stops without an error");
    drop(runtime);
    close_store(store);
    let wal = s.db_path().with_extension("db-wal");
    assert!(!wal.exists(), "{} left behind", wal.display());
    let check: String = s
        .db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    // With every sender gone it stops too.
    let config = tributary::config::Config::load(&s.config_path()).unwrap();
    let runtime = tributary::jobs::threads::runtime().unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let daemon = runtime.spawn(run(s.config_path(), config, rx));
    drop(tx);
    let store = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(60), daemon).await })
        .expect("stopped when its control channel closed")
        .unwrap()
        .unwrap();
    drop(runtime);
    close_store(store);
}
