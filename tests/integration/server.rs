//! The HTTP server against a store filled by the real `tributary fetch`:
//! formats, validators and real feed readers, conditional requests, gzip,
//! HEAD, unknown names and methods.

use std::io::Read as _;

use crate::publish::{available, run, validate_files};
use crate::served::*;
use crate::util::*;

#[test]
fn every_format_is_served_valid_and_readable() {
    let s = Scratch::new();
    write_config(&s, "", &samples());
    fetch(&s);
    let server = Running::start(&s.config_path());
    let atom = server.get("/feed.atom");
    let rss = server.get("/feed.rss");
    let json = server.get("/feed.json");
    for (answer, content_type) in [
        (&atom, "application/atom+xml; charset=utf-8"),
        (&rss, "application/rss+xml; charset=utf-8"),
        (&json, "application/feed+json; charset=utf-8"),
    ] {
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), Some(content_type));
        assert_eq!(answer.header("vary"), Some("Accept-Encoding"));
        assert!(answer.header("etag").unwrap().starts_with('"'));
        assert!(answer.header("last-modified").unwrap().ends_with(" GMT"));
    }
    // The default output is also served under its name.
    assert_eq!(server.get("/feeds/all.atom").body, atom.body);
    let ids = json_ids(&json);
    assert_eq!(
        ids.len(),
        35,
        "37 entries: one article carried twice, one story told twice"
    );
    assert!(ids
        .iter()
        .all(|id| id.starts_with("tag:127.0.0.1,2026:item/")));

    let dir = tempfile::tempdir().unwrap();
    let atom_file = save(dir.path(), "feed.atom", &atom.body);
    let rss_file = save(dir.path(), "feed.rss", &rss.body);
    let json_file = save(dir.path(), "feed.json", &json.body);

    // RSS: the elements RSS 2.0 requires, one item per story.
    let rss_text = rss.text();
    for required in [
        "<rss version=\"2.0\"",
        "<channel>",
        "<title>",
        "<link>",
        "<description>",
    ] {
        assert!(rss_text.contains(required), "RSS lacks {required}");
    }
    assert_eq!(rss_text.matches("<item>").count(), 35);
    assert_eq!(
        rss_text.matches("<guid isPermaLink=\"false\">tag:").count(),
        35
    );

    validate_files(&atom_file, &rss_file, &json_file);

    if available("python3", &["-c", "import feedparser"]) {
        const SCRIPT: &str = "import sys, json, feedparser\n\
            out = []\n\
            for path in sys.argv[1:]:\n\
            \x20   d = feedparser.parse(path)\n\
            \x20   if d.bozo: sys.exit('%s: %r' % (path, d.get('bozo_exception')))\n\
            \x20   out.append([e.id for e in d.entries])\n\
            print(json.dumps(out))\n";
        let (ok, report) = run(
            "python3",
            &[
                "-c".as_ref(),
                SCRIPT.as_ref(),
                atom_file.as_os_str(),
                rss_file.as_os_str(),
            ],
        );
        assert!(ok, "feedparser: {report}");
        let parsed: Vec<Vec<String>> = serde_json::from_str(report.trim()).unwrap();
        assert_eq!(parsed[0], ids, "feedparser finds the Atom items and ids");
        assert_eq!(parsed[1], ids, "feedparser finds the RSS items and ids");
    } else {
        crate::util::skip("feedparser checks of served feeds");
    }
}

#[test]
fn conditional_requests_answer_304_until_new_articles_arrive() {
    let feeds = FeedServer::start();
    let items = [
        (Some("g-1"), Some("https://site.example/1"), "First"),
        (Some("g-2"), Some("https://site.example/2"), "Second"),
    ];
    feeds.set("/f.xml", Route::feed(rss("F", &items)));
    let s = Scratch::new();
    write_config(&s, "", &[feed("f", feeds.url("/f.xml"), &[])]);
    fetch(&s);
    let server = Running::start(&s.config_path());

    let first = server.get("/feed.json");
    let etag = first.header("etag").unwrap().to_owned();
    let last_modified = first.header("last-modified").unwrap().to_owned();
    assert_eq!(json_titles(&first), ["Second", "First"]);

    let again = server.request("GET", "/feed.json", &[("if-none-match", &etag)]);
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert!(again.body.is_empty());
    let weak = format!("W/{etag}");
    let again = server.request("GET", "/feed.json", &[("if-none-match", &weak)]);
    assert_eq!(again.status, 304, "If-None-Match compares weakly");
    let again = server.request(
        "GET",
        "/feed.json",
        &[("if-modified-since", &last_modified)],
    );
    assert_eq!(again.status, 304);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let other = server.request(
        "GET",
        "/feed.json",
        &[("if-none-match", "\"something-else\"")],
    );
    assert_eq!(other.status, 200);

    // A fetch that brings nothing new changes nothing served.
    fetch(&s);
    std::thread::sleep(std::time::Duration::from_millis(700));
    let same = server.request("GET", "/feed.json", &[("if-none-match", &etag)]);
    assert_eq!(same.status, 304);

    let mut more = items.to_vec();
    more.insert(0, (Some("g-3"), Some("https://site.example/3"), "Third"));
    feeds.set("/f.xml", Route::feed(rss("F", &more)));
    assert!(fetch(&s).contains("1 new"));
    let changed = server.get_until("/feed.json", |a| a.header("etag") != Some(etag.as_str()));
    assert_eq!(changed.status, 200);
    assert_eq!(json_titles(&changed), ["Third", "Second", "First"]);
    let old_ids = json_ids(&first);
    assert_eq!(
        json_ids(&changed)[1..],
        old_ids[..],
        "old items keep their ids"
    );
    let stale = server.request("GET", "/feed.json", &[("if-none-match", &etag)]);
    assert_eq!(stale.status, 200, "the old ETag no longer matches");
}

#[test]
fn gzip_head_unknown_names_and_methods() {
    let feeds = FeedServer::start();
    feeds.set("/broken.xml", Route::feed("oops").status(503));
    let s = Scratch::new();
    let mut all = samples();
    all.push(feed("broken", feeds.url("/broken.xml"), &[]));
    write_config(
        &s,
        "[[outputs]]\nname = \"tech\"\ntags = [\"tech\"]\n",
        &all,
    );
    fetch(&s);
    let server = Running::start(&s.config_path());

    let plain = server.get("/feeds/tech.atom");
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = server.request(
        "GET",
        "/feeds/tech.atom",
        &[("accept-encoding", "br, gzip")],
    );
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(zipped.body.len() < plain.body.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped.body[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);
    assert_ne!(
        zipped.header("etag"),
        plain.header("etag"),
        "each encoding has its own tag"
    );
    let refused = server.request(
        "GET",
        "/feeds/tech.atom",
        &[("accept-encoding", "gzip;q=0")],
    );
    assert_eq!(refused.header("content-encoding"), None);
    let zipped_again = server.request(
        "GET",
        "/feeds/tech.atom",
        &[
            ("accept-encoding", "gzip"),
            ("if-none-match", zipped.header("etag").unwrap()),
        ],
    );
    assert_eq!(zipped_again.status, 304);

    let head = server.request("HEAD", "/feeds/tech.atom", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), plain.header("etag"));
    assert_eq!(head.header("content-type"), plain.header("content-type"));
    let length = plain.body.len().to_string();
    assert_eq!(head.header("content-length"), Some(length.as_str()));

    for path in [
        "/feeds/nope.atom",
        "/feeds/tech.html",
        "/feeds/tech",
        "/feeds/..%2Fconfig.atom",
        "/feeds/../tributary.toml",
        "/feed.xml",
        "/tributary.db",
        "/feeds/tech.atom/x",
    ] {
        let answer = server.get(path);
        assert_eq!(answer.status, 404, "{path}");
    }
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let answer = server.request(method, "/feed.atom", &[]);
        assert_eq!(answer.status, 405, "{method}");
        assert!(answer.header("allow").unwrap().contains("GET"));
    }

    // A request head over the limit is refused before any handler runs.
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    let huge = "x".repeat(20 * 1024);
    let request = format!("GET /feed.atom HTTP/1.1\r\nHost: a\r\nX-Big: {huge}\r\n\r\n");
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");

    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(server.get("/index.html").body, page.body);
    let html = page.text();
    assert!(html.contains(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"tech (Atom)\" href=\"http://127.0.0.1:8080/feeds/tech.atom\">"
    ));
    assert!(html.contains("href=\"http://127.0.0.1:8080/feed.json\""));
    assert!(html.contains("Harbour bridge reopens"));
    assert!(
        html.contains("<code>releases</code>"),
        "feeds are listed with their health"
    );
    let broken = html.split("<code>broken</code>").nth(1).unwrap();
    assert!(
        broken.starts_with("</td><td class=\"transient\">transient</td><td>never</td>"),
        "{broken}"
    );
    let page_again = server.request(
        "GET",
        "/",
        &[("if-none-match", page.header("etag").unwrap())],
    );
    assert_eq!(page_again.status, 304);
}

#[test]
fn a_reload_changes_the_outputs_on_the_same_listener() {
    let s = Scratch::new();
    write_config(
        &s,
        "[[outputs]]\nname = \"tech\"\ntags = [\"tech\"]\n",
        &samples(),
    );
    fetch(&s);
    let server = Running::start(&s.config_path());
    assert_eq!(server.get("/feeds/tech.rss").status, 200);
    assert_eq!(server.get("/feeds/science.rss").status, 404);
    let all = server.get("/feed.json");

    write_config(
        &s,
        "[river]\ntitle = \"Renamed\"\n[[outputs]]\nname = \"science\"\ntags = [\"science\"]\n",
        &samples(),
    );
    server.reload(&s.config_path());
    assert_eq!(server.get("/feeds/tech.rss").status, 404);
    let science = server.get("/feeds/science.json");
    assert_eq!(science.status, 200);
    assert_eq!(json_titles(&science).len(), 7);
    let renamed = server.get("/feed.json");
    assert_eq!(renamed.json()["title"], "Renamed");
    assert_ne!(renamed.header("etag"), all.header("etag"));
    assert!(server.get("/").text().contains("/feeds/science.atom"));
}
