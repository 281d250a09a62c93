//! What the outputs hold: selection by feed and tag, filters, order and
//! limit, one item per article, ids that never change, the static copy
//! written by `tributary publish`, and hostile feeds defused.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::publish::{available, run};
use crate::served::*;
use crate::util::*;

/// An RSS 2.0 document with items `(guid, title, description, pubDate)`.
fn dated_rss(items: &[(&str, &str, &str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>T</title>\
         <link>https://site.example/</link><description>d</description>\n",
    );
    for (guid, title, text, date) in items {
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><link>https://site.example/{guid}</link>\
             <title>{title}</title><description>{text}</description><pubDate>{date}</pubDate></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

#[test]
fn outputs_select_filter_order_and_limit() {
    let feeds = FeedServer::start();
    let old = "Tue, 01 Jan 2019 10:00:00 GMT";
    let new = |hour: u32| format!("Mon, 23 Nov 2026 {hour:02}:00:00 GMT");
    feeds.set(
        "/daily.xml",
        Route::feed(dated_rss(&[
            ("d1", "Daily one", "about Rust", &new(9)),
            ("d2", "Daily two", "about Go", &new(10)),
            ("d3", "Daily three", "Rust, sponsored", &new(11)),
        ])),
    );
    feeds.set(
        "/other.xml",
        Route::feed(dated_rss(&[("o1", "Other RUST news", "plain", &new(8))])),
    );
    feeds.set(
        "/archive.xml",
        Route::feed(dated_rss(&[
            ("a1", "Archive one", "old", old),
            ("a2", "Archive two", "old", old),
        ])),
    );
    let s = Scratch::new();
    write_config(
        &s,
        "[[outputs]]\nname = \"daily\"\ntags = [\"daily\"]\n\
         [[outputs]]\nname = \"mixed\"\nfeeds = [\"other\"]\ntags = [\"archive\"]\n\
         [[outputs]]\nname = \"rusty\"\ninclude = [\"(?i)\\\\brust\\\\b\"]\nexclude = [\"sponsored\"]\n\
         [[outputs]]\nname = \"by-date\"\norder = \"published\"\nlimit = 3\n\
         [[outputs]]\nname = \"two\"\nlimit = 2\n",
        &[
            feed("daily", feeds.url("/daily.xml"), &["daily"]),
            feed("other", feeds.url("/other.xml"), &[]),
            feed("archive", feeds.url("/archive.xml"), &["archive"]),
        ],
    );
    // The archive is added last, with years-old entries.
    let out = s.tributary(&["fetch", "--feed", "daily", "--feed", "other"]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::thread::sleep(Duration::from_millis(1100));
    let out = s.tributary(&["fetch", "--feed", "archive"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let server = Running::start(&s.config_path());
    let titles = |path: &str| json_titles(&server.get(path));
    let all = titles("/feed.json");
    assert_eq!(all.len(), 6);
    assert_eq!(
        all[..2],
        ["Archive two", "Archive one"],
        "first seen first: the new feed's back-dated entries lead, briefly"
    );
    assert_eq!(
        titles("/feeds/daily.json"),
        ["Daily three", "Daily two", "Daily one"]
    );
    assert_eq!(
        titles("/feeds/mixed.json"),
        ["Archive two", "Archive one", "Other RUST news"]
    );
    let mut rusty = titles("/feeds/rusty.json");
    rusty.sort();
    assert_eq!(rusty, ["Daily one", "Other RUST news"]);
    assert_eq!(
        titles("/feeds/by-date.json"),
        ["Daily three", "Daily two", "Daily one"],
        "by publication date the archive sinks"
    );
    assert_eq!(titles("/feeds/two.json").len(), 2);
    let json = server.get("/feeds/daily.json").json();
    assert_eq!(json["title"], "daily");
    assert_eq!(json["feed_url"], "http://127.0.0.1:8080/feeds/daily.json");
}

#[test]
fn an_article_in_two_feeds_appears_once_naming_the_other() {
    let s = Scratch::new();
    write_config(&s, "", &samples());
    fetch(&s);
    let server = Running::start(&s.config_path());
    let json = server.get("/feed.json").json();
    let bridges: Vec<&serde_json::Value> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["title"] == "Harbour bridge reopens to traffic after 14-month restoration")
        .collect();
    assert_eq!(bridges.len(), 1);
    let extension = &bridges[0]["_tributary"];
    let source = extension["source"]["feed_name"].as_str().unwrap();
    let also: Vec<&str> = extension["also_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["feed_name"].as_str().unwrap())
        .collect();
    let mut both = vec![source, also[0]];
    both.sort();
    assert_eq!(both, ["wire", "world-news"]);
    assert_eq!(also.len(), 1);
    assert_eq!(
        bridges[0]["url"], "https://news.example.com/world/2026/11/20/harbour-bridge-reopens",
        "the link without tracking parameters"
    );
    assert!(bridges[0]["content_html"]
        .as_str()
        .unwrap()
        .contains("Also in: "));
    let atom = server.get("/feed.atom").text();
    assert_eq!(atom.matches("<title>Harbour bridge reopens").count(), 1);
}

#[test]
fn item_ids_survive_restarts_rerenders_and_edits() {
    let feeds = FeedServer::start();
    let date = "Mon, 23 Nov 2026 10:00:00 GMT";
    let items = |text: &str| dated_rss(&[("g-1", "One", text, date), ("g-2", "Two", "two", date)]);
    feeds.set("/f.xml", Route::feed(items("first version")));
    let s = Scratch::new();
    write_config(&s, "", &[feed("f", feeds.url("/f.xml"), &[])]);
    fetch(&s);
    let (ids, first_etag) = {
        let server = Running::start(&s.config_path());
        let answer = server.get("/feed.json");
        (json_ids(&answer), answer.header("etag").unwrap().to_owned())
    };
    assert_eq!(ids.len(), 2);

    // A restart renders the same bytes under the same validator.
    let server = Running::start(&s.config_path());
    let again = server.get("/feed.json");
    assert_eq!(json_ids(&again), ids);
    assert_eq!(again.header("etag"), Some(first_etag.as_str()));
    drop(server);

    // An edit changes the content, never the id.
    feeds.set("/f.xml", Route::feed(items("second version")));
    assert!(fetch(&s).contains("1 updated"));
    let server = Running::start(&s.config_path());
    let edited = server.get("/feed.json");
    assert_eq!(json_ids(&edited), ids);
    assert_ne!(edited.header("etag"), Some(first_etag.as_str()));
    let body = edited.json()["items"][1]["content_html"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("second version"), "{body}");

    // The static copy is the same render.
    let dir = tempfile::tempdir().unwrap();
    let out = s.tributary(&["publish", "--out", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.path().join("feed.json")).unwrap(),
        edited.body
    );
}

fn mtimes(dir: &Path) -> HashMap<String, SystemTime> {
    let mut out = HashMap::new();
    for sub in ["", "feeds"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                let name = Path::new(sub).join(entry.file_name()).display().to_string();
                out.insert(name, entry.metadata().unwrap().modified().unwrap());
            }
        }
    }
    out
}

#[test]
fn publish_writes_every_document_and_leaves_unchanged_files_alone() {
    let feeds = FeedServer::start();
    let date = "Mon, 23 Nov 2026 10:00:00 GMT";
    feeds.set(
        "/live.xml",
        Route::feed(dated_rss(&[("l1", "Live one", "x", date)])),
    );
    let s = Scratch::new();
    let mut all = samples();
    all.push(feed("live", feeds.url("/live.xml"), &[]));
    write_config(
        &s,
        "[[outputs]]\nname = \"tech\"\ntags = [\"tech\"]\n",
        &all,
    );
    fetch(&s);

    let out = s.tributary(&["publish"]);
    assert_eq!(out.status.code(), Some(2), "no folder configured or given");
    assert!(
        stderr(&out).contains("--out DIR or set [server] out_dir"),
        "{}",
        stderr(&out)
    );

    let site = s.dir.path().join("site");
    std::fs::write(
        s.config_path(),
        std::fs::read_to_string(s.config_path())
            .unwrap()
            .replace("[[outputs]]", "[server]\nout_dir = \"site\"\n\n[[outputs]]"),
    )
    .unwrap();
    let out = s.tributary(&["publish"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains("wrote      feeds/tech.atom"), "{printed}");
    assert!(printed.contains("10 files in "), "{printed}");
    let before = mtimes(&site);
    let mut names: Vec<&str> = before.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "feed.atom",
            "feed.json",
            "feed.rss",
            "feeds/all.atom",
            "feeds/all.json",
            "feeds/all.rss",
            "feeds/tech.atom",
            "feeds/tech.json",
            "feeds/tech.rss",
            "index.html"
        ],
        "and no temporary file is left"
    );
    assert!(std::fs::read_to_string(site.join("index.html"))
        .unwrap()
        .contains("<!DOCTYPE html>"));

    std::thread::sleep(Duration::from_millis(1100));
    let out = s.tributary(&["publish"]);
    assert!(
        stdout(&out).contains("0 written, 10 unchanged"),
        "{}",
        stdout(&out)
    );
    assert_eq!(mtimes(&site), before, "unchanged files are not touched");

    // A new article in an untagged feed changes `all` and the index only.
    feeds.set(
        "/live.xml",
        Route::feed(dated_rss(&[
            ("l1", "Live one", "x", date),
            ("l2", "Live two", "y", date),
        ])),
    );
    assert!(fetch(&s).contains("1 new"));
    let out = s.tributary(&["publish"]);
    assert!(
        stdout(&out).contains("7 written, 3 unchanged"),
        "{}",
        stdout(&out)
    );
    let after = mtimes(&site);
    for (name, time) in &after {
        let changed = *time != before[name];
        assert_eq!(changed, !name.starts_with("feeds/tech"), "{name}");
    }
    let feed = std::fs::read_to_string(site.join("feed.atom")).unwrap();
    assert!(feed.contains("<title>Live two</title>"));
}

#[test]
fn hostile_feed_content_reaches_no_output() {
    let feeds = FeedServer::start();
    let hostile = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "<script>alert('feed')</script>Evil feed",
        "home_page_url": "javascript:alert('home')",
        "items": [
            {
                "id": "h1",
                "title": "Evil ]]> title <script>alert(1)</script>\u{1}\u{7}bell",
                "url": "javascript:alert(2)",
                "content_html": "<p onclick=\"steal()\">Hi<script>alert(3)</script>\
                    <a href=\"javascript:alert(4)\">link</a><img src=\"x\" onerror=\"alert(5)\">]]></p>",
                "authors": [{"name": "<b>Mallory</b>\u{8}"}],
                "date_published": "2026-11-23T10:00:00Z"
            },
            {
                "id": "h2",
                "title": "Framed",
                "url": "https://ok.example/a",
                "content_html": "<p>fine</p><style>body{display:none}</style><iframe src=\"https://evil.example/\"></iframe>",
                "date_published": "2026-11-23T11:00:00Z"
            }
        ]
    });
    feeds.set(
        "/evil.json",
        Route::feed(hostile.to_string()).header("content-type", "application/feed+json"),
    );
    let s = Scratch::new();
    write_config(&s, "", &[feed("evil", feeds.url("/evil.json"), &[])]);
    assert!(fetch(&s).contains("2 new"));
    let server = Running::start(&s.config_path());

    let forbidden_char = |s: &str| {
        s.chars()
            .find(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    };
    let dir = tempfile::tempdir().unwrap();
    for path in ["/feed.atom", "/feed.rss", "/"] {
        let text = server.get(path).text();
        for bad in [
            "<script",
            "javascript:",
            "onclick",
            "onerror",
            "<iframe",
            "display:none",
            "]]>",
            "<b>Mallory",
        ] {
            assert!(!text.contains(bad), "{path} carries {bad}:\n{text}");
        }
        let own_style = usize::from(path == "/");
        assert_eq!(text.matches("<style").count(), own_style, "{path}");
        assert_eq!(forbidden_char(&text), None, "{path}");
        if path != "/" && available("python3", &["-c", "import feedparser"]) {
            let file = save(dir.path(), "doc.xml", text.as_bytes());
            let script = "import sys, feedparser\nd = feedparser.parse(sys.argv[1])\n\
                          sys.exit(1 if d.bozo or len(d.entries) != 2 else 0)";
            let (ok, report) = run(
                "python3",
                &["-c".as_ref(), script.as_ref(), file.as_os_str()],
            );
            assert!(ok, "{path}: {report}");
        }
    }
    let json = server.get("/feed.json");
    let text = json.text();
    assert_eq!(forbidden_char(&text), None);
    for bad in ["javascript:", "onclick", "onerror", "<iframe", "<script"] {
        assert!(!text.contains(bad), "JSON Feed carries {bad}:\n{text}");
    }
    assert_eq!(json.json()["items"].as_array().unwrap().len(), 2);
    let page = server.get("/").text();
    assert!(
        page.contains("Evil ]]&gt; title"),
        "titles are shown escaped"
    );
}

#[test]
fn items_first_seen_together_come_newest_first() {
    let feeds = FeedServer::start();
    // Listed newest first, as most feeds do; stored in one fetch, so they
    // share their first-seen time.
    let day = |d: u32| format!("Mon, {d:02} Nov 2026 10:00:00 GMT");
    feeds.set(
        "/batch.xml",
        Route::feed(dated_rss(&[
            ("b3", "Third of November", "c", &day(3)),
            ("b9", "Ninth of November", "a", &day(9)),
            ("b1", "First of November", "d", &day(1)),
            ("b5", "Fifth of November", "b", &day(5)),
        ])),
    );
    let s = Scratch::new();
    write_config(&s, "", &[feed("batch", feeds.url("/batch.xml"), &[])]);
    fetch(&s);
    let server = Running::start(&s.config_path());
    let first = server.get("/feed.json");
    assert_eq!(
        json_titles(&first),
        [
            "Ninth of November",
            "Fifth of November",
            "Third of November",
            "First of November"
        ]
    );
    // The same order, byte for byte, on every render.
    assert_eq!(server.get("/feed.json").body, first.body);
}

#[test]
fn untitled_entries_get_a_marked_title_and_the_feed_language_is_carried() {
    let feeds = FeedServer::start();
    feeds.set(
        "/fr.xml",
        Route::feed(
            "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Le Fil</title>\
             <link>https://fil.example/</link><description>d</description><language>fr</language>\
             <lastBuildDate>Mon, 23 Nov 2026 12:00:00 GMT</lastBuildDate>\
             <item><guid>n1</guid><link>https://fil.example/n1</link>\
             <description>Le pont rouvre aujourd'hui. La circulation reprend lundi.</description>\
             <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>\
             <item><guid>n2</guid><link>https://fil.example/n2</link>\
             <title>&lt;b&gt;Gras&lt;/b&gt; &amp;amp; maigre</title><description>x</description>\
             <pubDate>Mon, 23 Nov 2026 09:00:00 GMT</pubDate></item>\
             </channel></rss>\n",
        ),
    );
    let s = Scratch::new();
    write_config(&s, "", &[feed("fil", feeds.url("/fr.xml"), &[])]);
    fetch(&s);
    let db = s.db();
    let row = |guid: &str| -> (String, bool, Option<String>) {
        db.query_row(
            "SELECT a.title, a.title_derived, a.title_original FROM articles a
             JOIN entries e ON e.article_id = a.id WHERE e.guid = ?1",
            [guid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    assert_eq!(row("n1"), ("Le pont rouvre aujourd'hui".into(), true, None));
    assert_eq!(
        row("n2"),
        (
            "Gras & maigre".into(),
            false,
            Some("<b>Gras</b> &amp; maigre".into())
        )
    );

    let server = Running::start(&s.config_path());
    let json = server.get("/feed.json").json();
    assert_eq!(json["language"], "fr");
    let first = &json["items"][0];
    assert_eq!(first["title"], "Le pont rouvre aujourd'hui");
    assert_eq!(first["_tributary"]["title_derived"], true);
    assert!(json["items"][1]["_tributary"]
        .get("title_derived")
        .is_none());
    let rss = server.get("/feed.rss").text();
    assert!(rss.contains("<language>fr</language>"), "{rss}");
    assert!(rss.contains("<source url=\"http://127.0.0.1"), "{rss}");
    let atom = server.get("/feed.atom").text();
    assert!(atom.contains("xml:lang=\"fr\""), "{atom}");
    let source = &atom[atom.find("<source>").unwrap()..atom.find("</source>").unwrap()];
    for part in [
        "<id>http://127.0.0.1",
        "<title>Le Fil</title>",
        "<updated>2026-11-23T12:00:00Z</updated>",
        "rel=\"self\"",
        "rel=\"alternate\" type=\"text/html\" href=\"https://fil.example/\"",
    ] {
        assert!(source.contains(part), "{part} in {source}");
    }
}
