//! `tributary run` as a child process against a loopback server: schedules,
//! HTTP meaning (304, Retry-After, 410, 301), reload on SIGHUP, clean stop
//! on SIGTERM, and the sd_notify conversation.

use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// Every second, spread overdue feeds over 100 ms, back off from 1 s.
const FAST: &str = "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\nbackoff_base = \"1s\"\n\
                    backoff_max = \"2s\"\nshutdown_grace = \"1s\"\n[fetch]\nhost_gap = \"0s\"\ntimeout = \"10s\"\n\
                    [server]\nlisten = \"127.0.0.1:0\"\n";

fn start(s: &Scratch, envs: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tributary"));
    cmd.arg("--config").arg(s.config_path()).arg("run");
    cmd.env("RUST_LOG", "tributary=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start tributary run")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Polls `cond` for up to `limit`.
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

/// Stops the child with SIGTERM and returns (exit code, stderr).
fn stop(mut child: Child) -> (Option<i32>, String) {
    signal(&child, "TERM");
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "daemon did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

#[test]
fn daemon_polls_politely_and_honours_http_meaning() {
    let server = FeedServer::start();
    server.set(
        "/a.xml",
        Route::feed(rss("A", &[(Some("a1"), None, "A one")])).etag("\"a\""),
    );
    server.set(
        "/limited.xml",
        Route::feed("slow down")
            .status(429)
            .header("retry-after", "3"),
    );
    server.set("/gone.xml", Route::feed("gone").status(410));
    server.set(
        "/old.xml",
        Route::feed("").status(301).header("location", "/new.xml"),
    );
    server.set(
        "/new.xml",
        Route::feed(rss("N", &[(Some("n1"), None, "New home")])),
    );
    let s = Scratch::new();
    s.write_config(
        FAST,
        &[
            ("a", &server.url("/a.xml")),
            ("limited", &server.url("/limited.xml")),
            ("gone", &server.url("/gone.xml")),
            ("moved", &server.url("/old.xml")),
        ],
    );
    let child = start(&s, &[]);

    // Polled on the seconds schedule, conditionally.
    assert!(
        wait_for(Duration::from_secs(20), || server.hits("/a.xml").len() >= 4),
        "a polled repeatedly"
    );
    // 301 three times in a row: then the new URL is polled directly.
    assert!(wait_for(Duration::from_secs(20), || server
        .hits("/new.xml")
        .len()
        >= 5));
    let (code, log) = stop(child);
    assert_eq!(code, Some(0), "{log}");

    let a = server.hits("/a.xml");
    assert!(
        a[1..]
            .iter()
            .all(|h| h.if_none_match.as_deref() == Some("\"a\"") && h.status == 304),
        "{a:?}"
    );
    // Never more often than the schedule (every second; the first poll at
    // start is off the grid).
    for w in a[1..].windows(2) {
        assert!(
            w[1].at - w[0].at >= Duration::from_millis(700),
            "{:?}",
            w[1].at - w[0].at
        );
    }
    // 429 + Retry-After: 3 → no request for 3 s after each refusal.
    let limited = server.hits("/limited.xml");
    assert!(!limited.is_empty());
    for w in limited.windows(2) {
        assert!(
            w[1].at - w[0].at >= Duration::from_millis(2900),
            "{:?}",
            w[1].at - w[0].at
        );
    }
    // 410: polled once, then retired.
    assert_eq!(server.hits("/gone.xml").len(), 1);
    // 301: exactly three fetches through the old URL, then the new one.
    assert_eq!(server.hits("/old.xml").len(), 3);
    assert!(log.contains("feed moved permanently"), "{log}");

    let db = s.db();
    let (status, reason): (String, String) = db
        .query_row(
            "SELECT status, next_check_reason FROM feeds WHERE name = 'gone'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), reason.as_str()), ("gone", "retired"));
    let moved: String = db
        .query_row("SELECT moved_to FROM feeds WHERE name = 'moved'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(moved, server.url("/new.xml"));
    assert_eq!(s.count("SELECT count(*) FROM entries"), 2);
    assert_eq!(s.count("SELECT count(*) FROM feeds WHERE next_check_at IS NOT NULL AND next_check_reason IS NOT NULL"), 3);
    let out = s.tributary(&["feeds"]);
    let table = stdout(&out);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("gone") && l.contains("gone") && l.contains("HTTP 410")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("limited") && l.contains("retry-after")),
        "{table}"
    );
}

#[test]
fn sighup_reloads_and_a_broken_config_is_refused() {
    let server = FeedServer::start();
    server.set(
        "/a.xml",
        Route::feed(rss("A", &[(Some("a1"), None, "A one")])).etag("\"a\""),
    );
    server.set(
        "/b.xml",
        Route::feed(rss("B", &[(Some("b1"), None, "B one")])).etag("\"b\""),
    );
    let s = Scratch::new();
    s.write_config(FAST, &[("a", &server.url("/a.xml"))]);
    let child = start(&s, &[]);
    assert!(wait_for(Duration::from_secs(15), || !server
        .hits("/a.xml")
        .is_empty()));

    // A feed added to the config file gets polled after SIGHUP.
    s.write_config(
        FAST,
        &[("a", &server.url("/a.xml")), ("b", &server.url("/b.xml"))],
    );
    signal(&child, "HUP");
    assert!(
        wait_for(Duration::from_secs(15), || !server
            .hits("/b.xml")
            .is_empty()),
        "b polled after reload"
    );

    // A broken config is refused; polling goes on with the old one.
    std::fs::write(
        s.config_path(),
        "[schedule]\ndefault = \"every so often\"\n",
    )
    .unwrap();
    signal(&child, "HUP");
    let before = server.hits("/b.xml").len();
    assert!(
        wait_for(Duration::from_secs(15), || server.hits("/b.xml").len()
            >= before + 2),
        "polling goes on"
    );
    let (code, log) = stop(child);
    assert_eq!(code, Some(0));
    assert!(log.contains("config reload refused"), "{log}");
    assert!(log.contains("invalid schedule `every so often`"), "{log}");
}

#[test]
fn sigterm_during_fetches_exits_cleanly() {
    let server = FeedServer::start();
    let items: Vec<(Option<String>, Option<String>, String)> = (0..300)
        .map(|i| (Some(format!("g{i}")), None, format!("Item {i}")))
        .collect();
    let refs: Vec<(Option<&str>, Option<&str>, &str)> = items
        .iter()
        .map(|(g, l, t)| (g.as_deref(), l.as_deref(), t.as_str()))
        .collect();
    server.set(
        "/slow.xml",
        Route::feed(rss("S", &refs)).delay(Duration::from_secs(60)),
    );
    server.set("/fast.xml", Route::feed(rss("F", &refs)));
    let s = Scratch::new();
    // The fetch timeout is longer than the answer's delay, so only the
    // grace (1 s) can end the slow fetch before its answer comes.
    s.write_config(
        &FAST.replace("timeout = \"10s\"", "timeout = \"120s\""),
        &[
            ("slow", &server.url("/slow.xml")),
            ("fast", &server.url("/fast.xml")),
        ],
    );
    let child = start(&s, &[]);
    // The slow fetch is in flight when SIGTERM comes: its request has
    // arrived and is not answered (the answer waits 60 s).
    assert!(wait_for(Duration::from_secs(30), || server
        .arrivals("/slow.xml")
        > 0));
    assert!(wait_for(Duration::from_secs(30), || !server
        .hits("/fast.xml")
        .is_empty()));
    assert!(server.hits("/slow.xml").is_empty());
    let started = Instant::now();
    let (code, log) = stop(child);
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        server.hits("/slow.xml").is_empty(),
        "the slow fetch was answered"
    );
    // The grace ended it: it was cancelled, not left to time out.
    assert!(
        log.contains("grace period over: cancelling fetches in flight"),
        "{log}"
    );
    // Grace is 1 s: the slow fetch is cancelled, not awaited for 60 s
    // (stopping takes about 1.5 s; `stop` gives up at 15 s).
    assert!(took < Duration::from_secs(15), "{took:?}");
    let ok: String = s
        .db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    // Each feed is either fully stored or not at all.
    let per_feed = s.count("SELECT count(*) FROM (SELECT feed_id, count(*) AS n FROM entries GROUP BY feed_id HAVING n != 300)");
    assert_eq!(per_feed, 0);
}

#[test]
fn sd_notify_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let server = FeedServer::start();
    server.set(
        "/a.xml",
        Route::feed(rss("A", &[(Some("a1"), None, "A one")])),
    );
    let s = Scratch::new();
    s.write_config(FAST, &[("a", &server.url("/a.xml"))]);
    let sock_env = sock_path.to_str().unwrap().to_string();
    let child = start(
        &s,
        &[("NOTIFY_SOCKET", &sock_env), ("WATCHDOG_USEC", "1000000")],
    );

    let mut messages: Vec<String> = Vec::new();
    let mut collect = |until: &dyn Fn(&[String]) -> bool, limit: Duration| {
        let end = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while Instant::now() < end && !until(&messages) {
            if let Ok(n) = sock.recv(&mut buf) {
                messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    };
    let has = |m: &[String], what: &str| {
        m.iter()
            .any(|x| x.lines().any(|l| l == what || l.starts_with(what)))
    };
    collect(
        &|m| has(m, "READY=1") && has(m, "WATCHDOG=1") && has(m, "STATUS="),
        Duration::from_secs(10),
    );
    signal(&child, "HUP");
    collect(
        &|m| m.iter().filter(|x| x.contains("READY=1")).count() >= 2,
        Duration::from_secs(10),
    );
    let (code, log) = stop(child);
    collect(&|m| has(m, "STOPPING=1"), Duration::from_secs(5));
    assert_eq!(code, Some(0), "{log}");

    // The order: READY, WATCHDOG, STATUS, RELOADING (with MONOTONIC_USEC), READY, STOPPING.
    let pos = |pred: &dyn Fn(&str) -> bool, from: usize| {
        messages
            .iter()
            .skip(from)
            .position(|m| pred(m))
            .map(|p| p + from)
    };
    let ready = pos(&|m| m.contains("READY=1"), 0).expect("READY");
    let wd = pos(&|m| m.contains("WATCHDOG=1"), ready).expect("WATCHDOG after READY");
    let status = pos(&|m| m.contains("STATUS=") && !m.contains("READY=1"), ready).expect("STATUS");
    let reloading = pos(
        &|m| m.contains("RELOADING=1") && m.contains("MONOTONIC_USEC="),
        wd.max(status),
    )
    .expect("RELOADING");
    let ready2 = pos(&|m| m.contains("READY=1"), reloading).expect("READY after reload");
    let stopping = pos(&|m| m.contains("STOPPING=1"), ready2).expect("STOPPING last");
    assert!(
        ready < wd && wd < reloading && reloading < ready2 && ready2 < stopping,
        "{messages:#?}"
    );
}

#[test]
fn a_reader_subscribed_to_the_daemon_sees_new_items() {
    let server = FeedServer::start();
    let first = (Some("a1"), Some("https://a.example/1"), "First item");
    server.set("/a.xml", Route::feed(rss("A", &[first])).etag("\"1\""));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Scratch::new();
    let cfg = FAST.replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    s.write_config(&cfg, &[("a", &server.url("/a.xml"))]);
    let child = start(&s, &[]);

    // A reader: GET, remember the ETag, then ask conditionally.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tributary::fetch::install_crypto_provider();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/feed.atom");
    let get = |etag: Option<&str>| -> Option<(u16, Option<String>, String)> {
        rt.block_on(async {
            let mut req = client.get(&url);
            if let Some(e) = etag {
                req = req.header("if-none-match", e);
            }
            let resp = req.send().await.ok()?;
            let status = resp.status().as_u16();
            let etag = resp
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_string());
            Some((status, etag, resp.text().await.ok()?))
        })
    };
    let mut first_answer = None;
    assert!(wait_for(Duration::from_secs(20), || {
        first_answer = get(None).filter(|(st, _, body)| *st == 200 && body.contains("First item"));
        first_answer.is_some()
    }));
    let (_, etag, body1) = first_answer.unwrap();
    let etag = etag.expect("an ETag");
    assert_eq!(get(Some(&etag)).unwrap().0, 304, "nothing changed: 304");

    // The publisher adds an item: the reader's next conditional poll gets it.
    let second = (Some("a2"), Some("https://a.example/2"), "Second item");
    server.set(
        "/a.xml",
        Route::feed(rss("A", &[second, first])).etag("\"2\""),
    );
    let mut changed = None;
    assert!(wait_for(Duration::from_secs(20), || {
        changed = get(Some(&etag)).filter(|(st, _, _)| *st == 200);
        changed.is_some()
    }));
    let (_, etag2, body2) = changed.unwrap();
    let (code, log) = stop(child);
    assert_eq!(code, Some(0), "{log}");
    assert_ne!(etag2.as_deref(), Some(etag.as_str()));
    assert!(body2.contains("Second item") && body2.contains("First item"));
    // The first item kept its id.
    let id = |b: &str, title: &str| -> String {
        let at = b.find(title).unwrap();
        let entry = b[..at].rfind("<entry").unwrap();
        let start = b[entry..].find("<id>").unwrap() + entry + 4;
        let end = b[start..].find("</id>").unwrap() + start;
        b[start..end].to_string()
    };
    assert_eq!(id(&body1, "First item"), id(&body2, "First item"));
}

#[test]
fn health_metrics_opml_and_search_endpoints() {
    let server = FeedServer::start();
    server.set(
        "/a.xml",
        Route::feed(rss(
            "A",
            &[
                (Some("a1"), Some("https://a.example/1"), "Ferry strike ends"),
                (Some("a2"), Some("https://a.example/2"), "Bridge reopens"),
            ],
        ))
        .etag("\"1\""),
    );
    server.set("/missing.xml", Route::feed("gone away").status(404));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Scratch::new();
    let cfg = FAST.replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    s.write_config(
        &cfg,
        &[
            ("a", &server.url("/a.xml")),
            ("broken", &server.url("/missing.xml")),
            ("private", "https://private.example/feed?token=s3cret"),
        ],
    );
    let child = start(&s, &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tributary::fetch::install_crypto_provider();
    let get = |path: &str| -> (u16, String) {
        rt.block_on(async {
            match reqwest::get(format!("http://127.0.0.1:{port}{path}")).await {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(_) => (0, String::new()),
            }
        })
    };
    // Wait until "a" was fetched twice (once 200, then 304).
    assert!(wait_for(Duration::from_secs(20), || server
        .hits("/a.xml")
        .iter()
        .any(|h| h.status == 304)));
    assert_eq!(get("/healthz"), (200, "ok\n".to_string()));
    assert_eq!(get("/readyz").0, 200);

    let scrape = || {
        let (status, text) = get("/metrics");
        assert_eq!(status, 200);
        let parsed =
            prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
        (parsed, text)
    };
    let metric = |scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                _ => 0.0,
            })
            .sum()
    };
    // The server answers before the daemon counts: wait until the 304
    // and the 404 are counted (then the first 200 is too).
    assert!(wait_for(Duration::from_secs(20), || {
        let (now, _) = scrape();
        metric(
            &now,
            "tributary_fetches_total",
            &[("result", "not_modified")],
        ) >= 1.0
            && metric(&now, "tributary_fetches_total", &[("result", "permanent")]) >= 1.0
    }));
    let (scrape, text) = scrape();
    let value = |name: &str, labels: &[(&str, &str)]| metric(&scrape, name, labels);
    assert_eq!(
        value(
            "tributary_fetches_total",
            &[("result", "ok"), ("host_group", "other")]
        ),
        1.0,
        "{text}"
    );
    assert!(value("tributary_fetches_total", &[("result", "not_modified")]) >= 1.0);
    assert!(
        value("tributary_fetches_total", &[("result", "permanent")]) >= 1.0,
        "the 404"
    );
    assert_eq!(value("tributary_new_entries_total", &[]), 2.0);
    assert_eq!(value("tributary_articles", &[]), 2.0);
    assert_eq!(value("tributary_feeds", &[("state", "permanent")]), 1.0);
    assert!(value("tributary_fetched_bytes_total", &[]) > 0.0);
    assert!(
        value("tributary_not_modified_saved_bytes_total", &[]) > 0.0,
        "304s save the body size"
    );
    assert!(value("tributary_database_bytes", &[]) > 0.0);
    assert!(text.contains("tributary_fetch_duration_seconds_bucket{le=\"+Inf\"}"));

    let (status, opml) = get("/opml");
    assert_eq!(status, 200);
    let parsed = tributary::opml::parse(opml.as_bytes()).unwrap();
    let urls: Vec<String> = parsed.feeds.iter().map(|f| f.xml_url.clone()).collect();
    assert!(
        urls.contains(&server.url("/a.xml")) && urls.contains(&server.url("/missing.xml")),
        "{opml}"
    );
    assert!(
        !opml.contains("s3cret"),
        "private feed URLs are not republished"
    );

    let (status, atom) = get("/search?q=ferry");
    assert_eq!(status, 200);
    assert!(
        atom.contains("Ferry strike ends") && !atom.contains("Bridge reopens"),
        "{atom}"
    );
    let (status, json) = get("/search?q=bridge&format=json");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(get("/search").0, 400);
    let (code, log) = stop(child);
    assert_eq!(code, Some(0), "{log}");
}
