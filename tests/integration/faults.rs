//! Misbehaving servers and hostile documents against the real daemon.
//!
//! Each test runs one `tributary run` with every fault configured at once
//! beside two healthy feeds on another server, on a seconds schedule, and
//! then checks: the daemon stayed up and exits cleanly; its peak memory
//! (`VmHWM`) stayed under a ceiling; every faulty feed has a clear error in
//! the fetch log and in `tributary feeds`; the healthy feeds were polled
//! on schedule throughout; the database is intact and each fetch stored
//! all its entries or none.

#[path = "faults/rogue.rs"]
pub(crate) mod rogue;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rogue::{Act, Rogue};

use crate::child::{integrity, wait_for, Daemon};
use crate::util::*;

/// Every second; back off 1–2 s; faults time out after 2 s; no per-host
/// queueing (all feeds share 127.0.0.1).
const FAST: &str = "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\nbackoff_base = \"1s\"\n\
                    backoff_max = \"2s\"\nshutdown_grace = \"1s\"\n\
                    [fetch]\nhost_gap = \"0s\"\ntimeout = \"2s\"\nper_host = 32\nconcurrency = 32\n";

/// Peak resident memory allowed to the daemon, in KiB.
const CEILING_KIB: u64 = 200 * 1024;

fn feed(name: &str, url: &str, extra: &str) -> String {
    format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n")
}

/// Two healthy feeds on their own server, polled every second.
fn healthy() -> (FeedServer, String) {
    let server = FeedServer::start();
    for i in 1..=2 {
        let items: Vec<(String, String)> = (0..5)
            .map(|j| (format!("h{i}-{j}"), format!("Healthy {i} item {j}")))
            .collect();
        let refs: Vec<(Option<&str>, Option<&str>, &str)> = items
            .iter()
            .map(|(g, t)| (Some(g.as_str()), None, t.as_str()))
            .collect();
        server.set(
            &format!("/h{i}.xml"),
            Route::feed(rss("H", &refs)).etag(&format!("\"h{i}\"")),
        );
    }
    let cfg = feed("healthy-1", &server.url("/h1.xml"), "")
        + &feed("healthy-2", &server.url("/h2.xml"), "");
    (server, cfg)
}

/// The healthy feeds were polled at least `min` times each, never more
/// than `max_gap` apart, and hold their 5 entries each. (The gap allows
/// for the test build: a debug daemon on two shared cores parses the
/// hostile documents about ten times slower than a release build.)
fn assert_healthy(server: &FeedServer, s: &Scratch, min: usize, max_gap: Duration) {
    for i in 1..=2 {
        let hits = server.hits(&format!("/h{i}.xml"));
        assert!(hits.len() >= min, "healthy-{i} polled {} times", hits.len());
        for w in hits.windows(2) {
            let gap = w[1].at - w[0].at;
            assert!(gap < max_gap, "healthy-{i} waited {gap:?}");
        }
        assert_eq!(
            s.count(&format!("SELECT count(*) FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE f.name = 'healthy-{i}'")),
            5
        );
    }
}

/// `tributary feeds --json`, by feed name.
fn feeds_json(s: &Scratch) -> serde_json::Map<String, serde_json::Value> {
    let out = s.tributary(&["feeds", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["name"].as_str().unwrap().to_string(), v))
        .collect()
}

/// (outcome, error) of every fetch of `name`.
fn fetches(s: &Scratch, name: &str) -> Vec<(String, String)> {
    let db = s.db();
    let mut st = db
        .prepare("SELECT l.outcome, coalesce(l.error, '') FROM fetch_log l JOIN feeds f ON f.id = l.feed_id WHERE f.name = ?1 ORDER BY l.id")
        .unwrap();
    st.query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Runs the daemon until every feed of `names` was fetched `times` times
/// and the healthy feeds 5 times (or 40 s), checking it stays up; returns
/// its peak memory and log.
fn run_until_fetched(
    s: &Scratch,
    good: &FeedServer,
    names: &[&str],
    times: usize,
) -> (u64, String) {
    let mut daemon = Daemon::start(s, "tributary=info", &[]);
    let started = Instant::now();
    let done = wait_for(Duration::from_secs(40), || {
        assert!(daemon.alive(), "daemon died:\n{}", daemon.log());
        (1..=2).all(|i| good.hits(&format!("/h{i}.xml")).len() >= 5)
            && names.iter().all(|n| {
            s.count_opt(&format!(
                "SELECT count(*) FROM fetch_log l JOIN feeds f ON f.id = l.feed_id WHERE f.name = '{n}'"
            ))
            .unwrap_or(0)
                >= times as i64
        })
    });
    let (peak, _) = daemon.memory_kib();
    let (code, log) = daemon.stop();
    assert!(
        done,
        "not every feed was fetched {times} times in 40 s:\n{log}"
    );
    assert_eq!(code, Some(0), "{log}");
    eprintln!(
        "faults: {} feeds fetched {times}+ times in {:.1} s; daemon peak memory {} MiB",
        names.len(),
        started.elapsed().as_secs_f64(),
        peak / 1024
    );
    assert!(peak < CEILING_KIB, "peak memory {peak} KiB\n{log}");
    (peak, log)
}

#[test]
fn misbehaving_servers_leave_the_daemon_and_other_feeds_alone() {
    let (good, mut cfg) = healthy();
    let rogue = Rogue::start();
    let feed_doc = rss("R", &[(Some("r1"), None, "Rogue item")]).into_bytes();
    rogue.set("/never", Act::Never);
    rogue.set(
        "/reset",
        Act::Reset {
            declared: 100_000,
            sent: feed_doc[..40].to_vec(),
        },
    );
    rogue.set(
        "/drip",
        Act::Drip {
            every: Duration::from_millis(100),
        },
    );
    rogue.set(
        "/lying-long",
        Act::Lying {
            declared: feed_doc.len() + 5000,
            body: feed_doc.clone(),
        },
    );
    rogue.set(
        "/lying-short",
        Act::Lying {
            declared: 60,
            body: feed_doc.clone(),
        },
    );
    let t = Instant::now();
    let (gzip, deflate, brotli) = (
        rogue::gzip_bomb(1),
        rogue::deflate_bomb(1),
        rogue::brotli_bomb(4),
    );
    eprintln!(
        "bombs: gzip {} KiB, deflate {} KiB → 1 GiB; brotli {} KiB → 4 GiB (made in {:?})",
        gzip.len() / 1024,
        deflate.len() / 1024,
        brotli.len() / 1024,
        t.elapsed()
    );
    for (path, encoding, body) in [
        ("/gzip-bomb", "gzip", gzip),
        ("/deflate-bomb", "deflate", deflate),
        ("/brotli-bomb", "br", brotli),
    ] {
        rogue.set(
            path,
            Act::Encoded {
                encoding,
                body: Arc::new(body),
            },
        );
    }
    rogue.set("/chunked-50mb", Act::Chunked { total: 50 << 20 });
    rogue.set("/endless-headers", Act::EndlessHeaders);
    rogue.set("/retry-date", Act::TooManyUntil { secs: 4 });

    let plain = FeedServer::start();
    plain.set("/big-50mb", Route::feed(vec![b' '; 50 << 20]));
    plain.set(
        "/loop-a",
        Route::feed("").status(301).header("location", "/loop-b"),
    );
    plain.set(
        "/loop-b",
        Route::feed("").status(302).header("location", "/loop-a"),
    );
    for i in 0..15 {
        plain.set(
            &format!("/chain-{i}"),
            Route::feed("")
                .status(302)
                .header("location", &format!("/chain-{}", i + 1)),
        );
    }
    plain.set(
        "/to-file",
        Route::feed("")
            .status(302)
            .header("location", "file:///etc/passwd"),
    );
    plain.set("/e500", Route::feed("oops").status(500));
    plain.set("/e502", Route::feed("bad gateway").status(502));
    plain.set("/e503", Route::feed("later").status(503));
    plain.set(
        "/retry-secs",
        Route::feed("slow down")
            .status(429)
            .header("retry-after", "3"),
    );

    // name, url, extra config, expected outcome, expected error text.
    let bomb_time = "timeout = \"30s\"";
    let faults: Vec<(&str, String, &str, &str, &str)> = vec![
        (
            "never",
            rogue.url("/never"),
            "",
            "transient",
            "timed out after 2s",
        ),
        (
            "reset",
            rogue.url("/reset"),
            "",
            "transient",
            "reading the body failed",
        ),
        (
            "drip",
            rogue.url("/drip"),
            "",
            "transient",
            "timed out after 2s",
        ),
        (
            "lying-long",
            rogue.url("/lying-long"),
            "",
            "transient",
            "reading the body failed",
        ),
        (
            "lying-short",
            rogue.url("/lying-short"),
            "",
            "permanent",
            "malformed XML",
        ),
        (
            "gzip-bomb",
            rogue.url("/gzip-bomb"),
            bomb_time,
            "permanent",
            "body larger than the 16 MiB cap",
        ),
        (
            "deflate-bomb",
            rogue.url("/deflate-bomb"),
            bomb_time,
            "permanent",
            "body larger than the 16 MiB cap",
        ),
        (
            "brotli-bomb",
            rogue.url("/brotli-bomb"),
            bomb_time,
            "permanent",
            "body larger than the 16 MiB cap",
        ),
        (
            "chunked-50mb",
            rogue.url("/chunked-50mb"),
            bomb_time,
            "permanent",
            "body larger than the 16 MiB cap",
        ),
        (
            "endless-headers",
            rogue.url("/endless-headers"),
            "",
            "transient",
            "invalid response: message head is too large",
        ),
        (
            "retry-date",
            rogue.url("/retry-date"),
            "",
            "transient",
            "HTTP 429 Too Many Requests",
        ),
        (
            "big-50mb",
            plain.url("/big-50mb"),
            "",
            "permanent",
            "body larger than the 16 MiB cap",
        ),
        (
            "loop",
            plain.url("/loop-a"),
            "",
            "permanent",
            "redirect loop at",
        ),
        (
            "chain",
            plain.url("/chain-0"),
            "",
            "permanent",
            "more than 10 redirects",
        ),
        (
            "to-file",
            plain.url("/to-file"),
            "",
            "permanent",
            "redirect to unsupported url file:///etc/passwd",
        ),
        (
            "e500",
            plain.url("/e500"),
            "",
            "transient",
            "HTTP 500 Internal Server Error",
        ),
        (
            "e502",
            plain.url("/e502"),
            "",
            "transient",
            "HTTP 502 Bad Gateway",
        ),
        (
            "e503",
            plain.url("/e503"),
            "",
            "transient",
            "HTTP 503 Service Unavailable",
        ),
        (
            "retry-secs",
            plain.url("/retry-secs"),
            "",
            "transient",
            "HTTP 429 Too Many Requests",
        ),
    ];
    for (name, url, extra, _, _) in &faults {
        cfg.push_str(&feed(name, url, extra));
    }
    let s = Scratch::new();
    s.write_config(&format!("{FAST}\n{cfg}"), &[]);
    let names: Vec<&str> = faults.iter().map(|f| f.0).collect();
    let (_, log) = run_until_fetched(&s, &good, &names, 2);

    assert_eq!(integrity(&s), "ok");
    assert_healthy(&good, &s, 5, Duration::from_secs(5));
    let table = feeds_json(&s);
    for (name, _, _, outcome, error) in &faults {
        let rows = fetches(&s, name);
        // Under load any request may also time out; nothing else may happen.
        for (o, e) in &rows {
            let timed_out = o == "transient" && e.starts_with("timed out after");
            assert!(o == outcome || timed_out, "{name}: {o} {e}\n{log}");
        }
        assert!(
            rows.iter().any(|(_, e)| e.contains(error)),
            "{name}: {rows:?} lack `{error}`"
        );
        let last = &rows.last().unwrap().1;
        assert_eq!(table[*name]["last_error"], last.as_str(), "{name}");
        assert_eq!(
            s.count(&format!("SELECT count(*) FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE f.name = '{name}'")),
            0,
            "{name} stored nothing"
        );
    }
    // Retry-After, in seconds and as a date, was honoured.
    for (hits, wait) in [
        (
            plain
                .hits("/retry-secs")
                .iter()
                .map(|h| h.at)
                .collect::<Vec<_>>(),
            2900,
        ),
        (rogue.hits("/retry-date"), 2900),
    ] {
        assert!(hits.len() >= 2);
        for w in hits.windows(2) {
            assert!(
                w[1] - w[0] >= Duration::from_millis(wait),
                "Retry-After not honoured: {:?}",
                w[1] - w[0]
            );
        }
    }
}

fn utf16(doc: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian {
            &[0xFE, 0xFF]
        } else {
            &[0xFF, 0xFE]
        });
    }
    for u in doc.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn hostile_documents_are_refused_or_capped() {
    let (good, mut cfg) = healthy();
    let s = Scratch::new();
    let docs = FeedServer::start();
    let marker = "XXE-MARKER-7f3a9c";
    let secret_file = s.dir.path().join("secret.txt");
    std::fs::write(&secret_file, marker).unwrap();

    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n");
    laughs.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..10 {
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]>\n<rss version=\"2.0\"><channel><title>&lol9;</title><item><guid>a</guid><title>Laughs &lol9;</title><description>&lol9;</description></item></channel></rss>");
    let xxe = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY file SYSTEM \"file://{}\">\n<!ENTITY net SYSTEM \"{}\">\n<!ENTITY % remote SYSTEM \"{}\">\n%remote;]>\n\
         <rss version=\"2.0\"><channel><title>X &file;</title><item><guid>x</guid><title>XXE &file; &net;</title><description>&file;&net;</description></item></channel></rss>",
        secret_file.display(),
        docs.url("/xxe-probe"),
        docs.url("/xxe-dtd"),
    );
    let mut invalid_utf8 = rss("Bad bytes", &[(Some("u"), None, "caf\u{e9}")]).into_bytes();
    let at = invalid_utf8
        .windows(5)
        .position(|w| w == "caf\u{e9}".as_bytes())
        .unwrap();
    invalid_utf8.splice(at + 3..at + 5, [0xff, 0xfe, 0xc3]);
    let utf16_doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>Ünï</title><item><guid>w</guid><title>Wide ünïcode</title></item></channel></rss>";
    let big_title = format!(
        "<rss version=\"2.0\"><channel><title>T</title><item><guid>t</guid><title>{}</title></item></channel></rss>",
        "word ".repeat(2_000_000)
    );
    let mut many = String::from("<rss version=\"2.0\"><channel><title>Many</title>");
    for i in 0..100_000 {
        many.push_str(&format!(
            "<item><guid>m{i}</guid><title>Item {i}</title></item>"
        ));
    }
    many.push_str("</channel></rss>");
    let deep_json = format!(
        "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{{\"id\":\"1\",\"x\":{}{}}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_xml = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><guid>a</guid><foo>{}{}</foo></item></channel></rss>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let mut reopen = String::from("<p>");
    for i in 0..200 {
        reopen.push_str(&format!("<b id={i}>"));
    }
    reopen.push_str(&"<p>x".repeat(20_000));
    let deep_html = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><guid>d</guid><title>Deep</title><description>{}</description></item>\
         <item><guid>r</guid><title>Reopen</title><description>{}</description></item></channel></rss>",
        html_escape::encode_text(&format!("{}deep text{}", "<div>".repeat(20_000), "</div>".repeat(20_000))),
        html_escape::encode_text(&reopen),
    );

    // name, body, expected outcome, error (or note) text, entries stored.
    let cases: Vec<(&str, Vec<u8>, &str, &str, i64)> = vec![
        ("laughs", laughs.into_bytes(), "ok", "", 1),
        ("xxe", xxe.into_bytes(), "ok", "", 1),
        ("invalid-utf8", invalid_utf8, "ok", "", 1),
        ("utf16-le-bom", utf16(utf16_doc, false, true), "ok", "", 1),
        ("utf16-be", utf16(utf16_doc, true, false), "ok", "", 1),
        ("big-title", big_title.into_bytes(), "ok", "", 1),
        (
            "many",
            many.into_bytes(),
            "ok",
            "only the first 5000 entries kept; 95000 more left out",
            5000,
        ),
        (
            "deep-json",
            deep_json.into_bytes(),
            "permanent",
            "malformed JSON: nested deeper than 256 levels",
            0,
        ),
        (
            "deep-xml",
            deep_xml.into_bytes(),
            "permanent",
            "malformed XML: nested deeper than 256 levels",
            0,
        ),
        ("deep-html", deep_html.into_bytes(), "ok", "", 2),
        (
            "html-page",
            b"<!DOCTYPE html>\n<html><head><title>Home</title></head><body>Hi</body></html>"
                .to_vec(),
            "permanent",
            "not a feed: an HTML page",
            0,
        ),
        ("empty", Vec::new(), "permanent", "empty document", 0),
    ];
    for (name, body, _, _, _) in &cases {
        // An ETag, so that the large documents are parsed once.
        docs.set(
            &format!("/{name}"),
            Route::feed(body.clone()).etag(&format!("\"{name}\"")),
        );
        cfg.push_str(&feed(name, &docs.url(&format!("/{name}")), ""));
    }
    s.write_config(&format!("{FAST}\n{cfg}"), &[]);
    let names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let (_, log) = run_until_fetched(&s, &good, &names, 1);

    assert_eq!(integrity(&s), "ok");
    assert_healthy(&good, &s, 5, Duration::from_secs(10));
    let table = feeds_json(&s);
    for (name, _, outcome, error, entries) in &cases {
        let rows = fetches(&s, name);
        let (o, e) = &rows[0];
        assert_eq!(
            (o.as_str(), e.as_str()),
            (*outcome, *error),
            "{name}\n{log}"
        );
        assert!(
            rows[1..]
                .iter()
                .all(|(o, _)| o == "not_modified" || o == outcome),
            "{name}: {rows:?}"
        );
        if !error.is_empty() {
            assert_eq!(table[*name]["last_error"], *error, "{name}");
        }
        let stored = s.count(&format!(
            "SELECT count(*) FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE f.name = '{name}'"
        ));
        assert_eq!(stored, *entries, "{name}");
    }
    let title = |guid: &str| -> String {
        s.db()
            .query_row("SELECT title FROM entries WHERE guid = ?1", [guid], |r| {
                r.get(0)
            })
            .unwrap()
    };
    // Entities are never expanded, inside or outside the document.
    assert!(!title("a").contains("lollol"), "{}", title("a"));
    assert!(docs.hits("/xxe-probe").is_empty() && docs.hits("/xxe-dtd").is_empty());
    let mut stored = std::fs::read(s.db_path()).unwrap();
    stored.extend(std::fs::read(s.dir.path().join("tributary.db-wal")).unwrap_or_default());
    assert!(
        !stored.windows(marker.len()).any(|w| w == marker.as_bytes()),
        "file content stored"
    );
    // Undecodable bytes become U+FFFD; UTF-16 either way round is read.
    assert!(title("u").starts_with("caf"), "{}", title("u"));
    assert_eq!(title("w"), "Wide ünïcode");
    assert_eq!(s.count("SELECT count(*) FROM entries WHERE guid = 'w'"), 2);
    // The 10 MB title is cut to 1,000 characters.
    assert_eq!(title("t").chars().count(), 1000);
    // Hostile HTML shapes are kept as text, quickly.
    let deep: String = s
        .db()
        .query_row("SELECT a.content_html FROM articles a JOIN entries e ON e.article_id = a.id WHERE e.guid = 'd'", [], |r| r.get(0))
        .unwrap();
    assert!(
        deep.contains("deep text") && !deep.contains("<div>"),
        "{}",
        &deep[..deep.len().min(200)]
    );
}
