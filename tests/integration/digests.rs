//! Digests: exact partition of articles across digests and restarts, the
//! catch-up of a missed schedule, and delivery to a real SMTP server on
//! 127.0.0.1 (Python's aiosmtpd, started by the test; skipped visibly when
//! it is not installed), including a server that is down at first.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use tributary::config::Config;
use tributary::jobs::digests;
use tributary::store::Store;

use crate::util::*;

fn at(day: u32, hour: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, min, 0).unwrap()
}

/// Stores a document with `titles` as new entries of feed `name`, as of `now`.
fn ingest(store: &mut Store, name: &str, titles: &[&str], now: DateTime<Utc>) {
    let feed = store.feed_by_name(name).unwrap().unwrap();
    store
        .record_fetch(&fetch_record(feed.id, name, titles, now))
        .unwrap();
}

fn config(dir: &Path, extra: &str) -> Config {
    let text = format!(
        "[store]\npath = \"t.db\"\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/feed\"\n\
         [[feeds]]\nname = \"b\"\nurl = \"https://b.example/feed\"\n{extra}"
    );
    Config::parse(&text, &dir.join("t.toml")).unwrap()
}

fn titles_of(store: &Store, digest_id: i64) -> BTreeSet<String> {
    let d = store.digest(digest_id).unwrap().unwrap();
    d.text
        .lines()
        .filter_map(|l| l.strip_prefix("* ").map(str::to_string))
        .collect()
}

#[test]
fn consecutive_digests_partition_the_articles_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "[[digests]]\nname = \"daily\"\nschedule = \"0 7 * * *\"\nmax_items = 1000\n",
    );
    let d = &cfg.digests[0];
    let sched = &cfg.schedule;
    let db = dir.path().join("t.db");
    let specs = tributary::jobs::feed_specs(&cfg);
    let mut store = Store::open(&db).unwrap();
    store.reconcile(&specs, at(1, 0, 0)).unwrap();
    // The digest is configured on day 1 at 06:00: its first one covers one
    // period back, so an article from the day before that is not in it.
    ingest(
        &mut store,
        "a",
        &["Too old"],
        at(1, 5, 0) - chrono::Duration::days(2),
    );
    digests::state(&mut store, d, sched, at(1, 6, 0)).unwrap();
    ingest(&mut store, "a", &["A1", "A2"], at(1, 6, 30));
    ingest(&mut store, "b", &["B1"], at(1, 6, 45));
    let (first, _) = digests::make(&mut store, d, sched, at(1, 7, 0))
        .unwrap()
        .unwrap();
    // Arrivals after the cut, then a restart (the store is closed and opened again).
    ingest(&mut store, "a", &["A3"], at(1, 9, 0));
    drop(store);
    let mut store = Store::open(&db).unwrap();
    ingest(&mut store, "b", &["B2", "B3"], at(1, 20, 0));
    let (second, _) = digests::make(&mut store, d, sched, at(2, 7, 0))
        .unwrap()
        .unwrap();
    // Nothing new: no digest.
    assert!(digests::make(&mut store, d, sched, at(3, 7, 0))
        .unwrap()
        .is_none());

    let a = titles_of(&store, first);
    let b = titles_of(&store, second);
    assert_eq!(a, ["A1", "A2", "B1"].map(String::from).into());
    assert_eq!(b, ["A3", "B2", "B3"].map(String::from).into());
    assert!(a.is_disjoint(&b));
    // The items table says the same: every article exactly once.
    let items: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(DISTINCT article_id) || '/' || count(*) FROM digest_items",
            [],
            |r| r.get::<_, String>(0),
        )
        .map(|s| {
            s.split('/')
                .map(|n| n.parse::<i64>().unwrap())
                .fold(0, |acc, n| {
                    if acc == 0 {
                        n
                    } else {
                        assert_eq!(acc, n);
                        n
                    }
                })
        })
        .unwrap();
    assert_eq!(items, 6);
}

#[test]
fn a_missed_schedule_is_caught_up_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "[[digests]]\nname = \"daily\"\nschedule = \"0 7 * * *\"\nsend_empty = true\n",
    );
    let d = &cfg.digests[0];
    let sched = &cfg.schedule;
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    digests::state(&mut store, d, sched, at(1, 6, 0)).unwrap();
    digests::make(&mut store, d, sched, at(1, 7, 0))
        .unwrap()
        .unwrap();
    // The daemon was down from day 1 to day 4 at noon: three 07:00s missed.
    let now = at(4, 12, 0);
    let state = digests::state(&mut store, d, sched, now).unwrap();
    let due = digests::next_due(d, &state, sched).unwrap();
    assert_eq!(due, at(2, 7, 0), "due in the past: made at start");
    digests::make(&mut store, d, sched, now).unwrap().unwrap();
    let state = digests::state(&mut store, d, sched, now).unwrap();
    assert_eq!(
        digests::next_due(d, &state, sched).unwrap(),
        at(5, 7, 0),
        "caught up once, not three times"
    );
    assert_eq!(store.digests(Some("daily"), 10).unwrap().len(), 2);
}

/// A Python aiosmtpd server writing to a Maildir; killed when dropped.
struct Smtp {
    child: Child,
    maildir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aiosmtpd_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success())
}

fn start_smtp(port: u16) -> Smtp {
    let maildir = tempfile::tempdir().unwrap();
    let child = Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(maildir.path().join("mail"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Smtp { child, maildir }
}

impl Smtp {
    fn messages(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.maildir.path().join("mail/new"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

/// Parses a message with Python's email package into JSON.
fn parse_mail(path: &Path) -> serde_json::Value {
    let script = r#"
import email, email.policy, json, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
parts = {p.get_content_type(): p.get_content() for p in m.walk() if not p.is_multipart()}
print(json.dumps({
  'headers': {k: str(v) for k, v in m.items()},
  'type': m.get_content_type(),
  'parts': parts,
  'links': re.findall(r'href="([^"]+)"', parts.get('text/html', '')),
}))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn digest_config(server: &FeedServer, port: u16) -> String {
    format!(
        "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\nbackoff_base = \"1s\"\nbackoff_max = \"2s\"\n\
         [fetch]\nhost_gap = \"0s\"\n[server]\nenabled = false\n\
         [[feeds]]\nname = \"wire\"\nurl = \"{}\"\n\
         [[digests]]\nname = \"daily\"\ntitle = \"Wire daily\"\nschedule = \"*/2 * * * * *\"\n\
         [digests.email]\nto = [\"reader@example.net\"]\nfrom = \"Tributary <digests@example.org>\"\n\
         smtp_host = \"127.0.0.1\"\nsmtp_port = {port}\ntls = \"none\"\n",
        server.url("/wire.xml")
    )
}

fn wire_server() -> FeedServer {
    let server = FeedServer::start();
    server.set(
        "/wire.xml",
        Route::feed(rss(
            "Wire",
            &[
                (
                    Some("w1"),
                    Some("https://wire.example/one"),
                    "First &amp; foremost",
                ),
                (Some("w2"), Some("https://wire.example/two"), "Second story"),
            ],
        )),
    );
    server
}

fn run_daemon(s: &Scratch) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("run")
        .env("RUST_LOG", "tributary=info")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(s.dir.path().join("daemon.log")).unwrap())
        .spawn()
        .unwrap()
}

fn log(s: &Scratch) -> String {
    std::fs::read_to_string(s.dir.path().join("daemon.log")).unwrap_or_default()
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    assert!(status.success());
}

fn wait(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn digest_email_reaches_a_real_smtp_server() {
    if !aiosmtpd_available() {
        skip("digest_email_reaches_a_real_smtp_server: python3 -m pip install aiosmtpd");
        return;
    }
    let port = free_port();
    let smtp = start_smtp(port);
    let server = wire_server();
    let s = Scratch::new();
    s.write_config(&digest_config(&server, port), &[]);
    let child = run_daemon(&s);
    assert!(
        wait(Duration::from_secs(30), || !smtp.messages().is_empty()),
        "no mail arrived: {}",
        log(&s)
    );
    stop(child);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one digest, one message");
    let m = parse_mail(&messages[0]);
    let h = &m["headers"];
    assert_eq!(m["type"], "multipart/alternative");
    assert!(
        h["Subject"].as_str().unwrap().starts_with("Wire daily ("),
        "{h}"
    );
    assert_eq!(h["From"], "Tributary <digests@example.org>");
    assert_eq!(h["To"], "reader@example.net");
    assert!(
        h["Date"]
            .as_str()
            .is_some_and(|d| d.contains("2026") || d.len() > 20),
        "{h}"
    );
    assert_eq!(h["Message-ID"], "<digest-1.daily@example.org>");
    assert_eq!(h["List-Id"], "\"Wire daily\" <daily.digests.example.org>");
    let text = m["parts"]["text/plain"].as_str().unwrap();
    let html = m["parts"]["text/html"].as_str().unwrap();
    for title in ["First & foremost", "Second story"] {
        assert!(text.contains(title), "{text}");
    }
    assert!(
        html.contains("First &amp; foremost") && !html.contains("<script"),
        "{html}"
    );
    let links: Vec<&str> = m["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(!links.is_empty());
    for l in &links {
        assert!(
            ["https://wire.example/one", "https://wire.example/two"].contains(l),
            "unexpected link {l}"
        );
        assert!(text.contains(l), "text part lacks {l}");
    }
    assert_eq!(
        s.count("SELECT count(*) FROM digests WHERE email_status = 'sent' AND email_attempts = 1"),
        1
    );
}

#[test]
fn digest_email_is_retried_until_the_server_takes_it() {
    if !aiosmtpd_available() {
        skip("digest_email_is_retried_until_the_server_takes_it: python3 -m pip install aiosmtpd");
        return;
    }
    let port = free_port();
    let server = wire_server();
    let s = Scratch::new();
    s.write_config(&digest_config(&server, port), &[]);
    let child = run_daemon(&s);
    // The SMTP server is down: the digest is made, its email fails and stays pending.
    assert!(
        wait(Duration::from_secs(30), || {
            s.count_opt("SELECT count(*) FROM digests WHERE email_status = 'pending' AND email_attempts >= 2 AND email_error IS NOT NULL")
            .unwrap_or(0)
            == 1
        }),
        "{}",
        log(&s)
    );
    let smtp = start_smtp(port);
    assert!(
        wait(Duration::from_secs(30), || !smtp.messages().is_empty()),
        "the retry never arrived"
    );
    std::thread::sleep(Duration::from_secs(2));
    stop(child);
    assert_eq!(smtp.messages().len(), 1, "sent once");
    assert_eq!(
        s.count("SELECT count(*) FROM digests"),
        1,
        "no digest lost, none doubled"
    );
    assert_eq!(s.count("SELECT count(*) FROM digests WHERE email_status = 'sent' AND email_sent_at IS NOT NULL"), 1);
    let m = parse_mail(&smtp.messages()[0]);
    assert_eq!(m["headers"]["Message-ID"], "<digest-1.daily@example.org>");
}

#[test]
fn digests_are_published_as_feeds_and_pages() {
    use crate::publish::validate_files;
    use crate::served::{samples, save, write_config, Running};
    let s = Scratch::new();
    write_config(
        &s,
        "[[digests]]\nname = \"daily\"\ntitle = \"Daily <river>\"\nschedule = \"0 7 * * *\"\n",
        &samples(),
    );
    assert!(s.tributary(&["fetch"]).status.success());
    let made = s.tributary(&["digest", "daily"]);
    assert!(
        stdout(&made).starts_with("digest 1 (daily): "),
        "{}",
        stdout(&made)
    );
    let server = Running::start(&s.config_path());
    let latest = server.get("/digests/daily/latest.html");
    assert_eq!(latest.status, 200);
    assert_eq!(
        latest.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = latest.text();
    assert!(page.contains("Harbour bridge reopens") && page.contains("Daily &lt;river&gt;"));
    assert!(
        !page.contains("<script") && !page.contains("<link") && !page.contains("src=\"http"),
        "no scripts or external assets"
    );
    assert_eq!(server.get("/digests/daily/1.html").body, latest.body);
    assert_eq!(server.get("/digests/daily/2.html").status, 404);
    assert_eq!(server.get("/digests/weekly/latest.html").status, 404);
    let etag = latest.header("etag").unwrap().to_string();
    assert_eq!(
        server
            .request(
                "GET",
                "/digests/daily/latest.html",
                &[("if-none-match", &etag)]
            )
            .status,
        304
    );

    let atom = server.get("/digests/daily.atom");
    let json = server.get("/digests/daily.json");
    let rss = server.get("/digests/daily.rss");
    assert_eq!(
        atom.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    assert_eq!(json.json()["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        json.json()["items"][0]["url"],
        format!("http://127.0.0.1:8080/digests/daily/1.html")
    );
    assert!(rss.text().contains("<item>"));
    let dir = tempfile::tempdir().unwrap();
    let (atom_file, json_file) = (
        save(dir.path(), "d.atom", &atom.body),
        save(dir.path(), "d.json", &json.body),
    );
    let rss_file = save(dir.path(), "d.rss", &rss.body);
    validate_files(&atom_file, &rss_file, &json_file);
    // And as files.
    let out = tempfile::tempdir().unwrap();
    let published = s.tributary(&["publish", "--out", out.path().to_str().unwrap()]);
    assert!(published.status.success(), "{}", stderr(&published));
    for f in [
        "digests/daily.atom",
        "digests/daily.rss",
        "digests/daily.json",
        "digests/daily/latest.html",
        "digests/daily/1.html",
    ] {
        assert!(out.path().join(f).is_file(), "{f} not written");
    }
}

#[test]
fn retention_never_drops_what_a_digest_has_not_covered() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "[[digests]]\nname = \"daily\"\nschedule = \"0 7 * * *\"\n",
    );
    let (d, sched) = (&cfg.digests[0], &cfg.schedule);
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    let specs = tributary::jobs::feed_specs(&cfg);
    store.reconcile(&specs, at(1, 0, 0)).unwrap();
    digests::state(&mut store, d, sched, at(1, 6, 0)).unwrap();
    ingest(&mut store, "a", &["Waiting for the digest"], at(1, 6, 30));
    let retention = tributary::config::RetentionConfig {
        max_age: Some(Duration::from_secs(86_400)),
        ..Default::default()
    };
    let names = vec!["daily".to_string()];
    // Ten days on, the article is past max_age but no digest has covered it.
    let protect = store.digest_protection(&names).unwrap();
    let report = store
        .prune(
            &tributary::jobs::retention::prune_policy(&retention, protect),
            at(10, 12, 0),
        )
        .unwrap();
    assert_eq!(report.entries, 0, "kept for the digest");
    digests::make(&mut store, d, sched, at(10, 12, 0))
        .unwrap()
        .unwrap();
    let protect = store.digest_protection(&names).unwrap();
    assert_eq!(protect, None, "nothing waits any more");
    let report = store
        .prune(
            &tributary::jobs::retention::prune_policy(&retention, protect),
            at(10, 12, 0),
        )
        .unwrap();
    assert_eq!(report.entries, 1, "pruned once the digest has it");
}
