//! Ingest through the real `tributary fetch` binary.

use std::time::Duration;

use crate::util::*;

#[test]
fn refetch_is_conditional_and_adds_only_new_entries() {
    let server = FeedServer::start();
    let items = [
        (Some("a-1"), Some("https://site.example/1"), "First"),
        (Some("a-2"), Some("https://site.example/2"), "Second"),
        (Some("a-3"), Some("https://site.example/3"), "Third"),
    ];
    server.set("/etag.xml", Route::feed(rss("E", &items)).etag("\"v1\""));
    server.set(
        "/lm.xml",
        Route::feed(rss("L", &items[..2])).last_modified("Mon, 23 Nov 2026 10:00:00 GMT"),
    );
    let s = Scratch::new();
    s.write_config(
        "",
        &[
            ("etag", &server.url("/etag.xml")),
            ("lm", &server.url("/lm.xml")),
        ],
    );

    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.count("SELECT count(*) FROM entries"), 5);
    assert!(
        stdout(&out).contains("2 feeds: 5 new, 0 updated, 0 failed"),
        "{}",
        stdout(&out)
    );

    let out = s.tributary(&["fetch"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("2 feeds: 0 new, 0 updated, 0 failed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(s.count("SELECT count(*) FROM entries"), 5);
    let second = &server.hits("/etag.xml")[1];
    assert_eq!(second.if_none_match.as_deref(), Some("\"v1\""));
    assert_eq!(second.status, 304);
    let second = &server.hits("/lm.xml")[1];
    assert_eq!(
        second.if_modified_since.as_deref(),
        Some("Mon, 23 Nov 2026 10:00:00 GMT")
    );
    assert_eq!(second.status, 304);
    assert_eq!(
        s.count(
            "SELECT count(*) FROM fetch_log WHERE outcome = 'not_modified' AND http_status = 304"
        ),
        2
    );

    // The publisher adds two entries: exactly those are added.
    let mut more = items.to_vec();
    more.push((Some("a-4"), Some("https://site.example/4"), "Fourth"));
    more.insert(0, (Some("a-0"), Some("https://site.example/0"), "Zeroth"));
    server.set("/etag.xml", Route::feed(rss("E", &more)).etag("\"v2\""));
    let out = s.tributary(&["fetch", "--feed", "etag"]);
    assert!(
        stdout(&out).contains("1 feeds: 2 new, 0 updated"),
        "{}",
        stdout(&out)
    );
    let titles: Vec<String> = {
        let db = s.db();
        let mut st = db
            .prepare("SELECT e.title FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE f.name = 'etag' ORDER BY e.title")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(titles, ["First", "Fourth", "Second", "Third", "Zeroth"]);
}

#[test]
fn entries_without_guid_or_link_are_not_duplicated() {
    let server = FeedServer::start();
    let items = [(None, None, "Fog warning"), (None, None, "Markets close")];
    server.set("/f.xml", Route::feed(rss("F", &items)).etag("\"1\""));
    let s = Scratch::new();
    s.write_config("", &[("f", &server.url("/f.xml"))]);
    s.tributary(&["fetch"]);
    // A new ETag forces a full re-parse of the same entries.
    server.set("/f.xml", Route::feed(rss("F", &items)).etag("\"2\""));
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("0 new, 0 updated"),
        "{}",
        stdout(&out)
    );
    assert_eq!(s.count("SELECT count(*) FROM entries"), 2);
    assert_eq!(
        s.count("SELECT count(*) FROM entries WHERE key_kind = 'hash'"),
        2
    );
}

#[test]
fn changed_content_updates_in_place() {
    let server = FeedServer::start();
    server.set(
        "/f.xml",
        Route::feed(rss("F", &[(Some("g"), None, "Old title")])).etag("\"1\""),
    );
    let s = Scratch::new();
    s.write_config("", &[("f", &server.url("/f.xml"))]);
    s.tributary(&["fetch"]);
    server.set(
        "/f.xml",
        Route::feed(rss("F", &[(Some("g"), None, "New title")])).etag("\"2\""),
    );
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("0 new, 1 updated"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        s.count("SELECT count(*) FROM entries WHERE title = 'New title' AND update_count = 1"),
        1
    );
    assert_eq!(
        s.count(
            "SELECT count(*) FROM articles WHERE title = 'New title' AND changed_at IS NOT NULL"
        ),
        1
    );
}

#[test]
fn gzip_bodies_are_decoded() {
    let server = FeedServer::start();
    server.set(
        "/z.xml",
        Route::feed(rss("Z", &[(Some("z"), None, "Zipped")])).gzip(),
    );
    let s = Scratch::new();
    s.write_config("", &[("z", &server.url("/z.xml"))]);
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("1 new"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn bad_feeds_are_reported_and_the_others_ingested() {
    let server = FeedServer::start();
    server.set(
        "/good.xml",
        Route::feed(rss("G", &[(Some("g1"), None, "Good one")])),
    );
    server.set(
        "/broken.xml",
        Route::feed("<rss version=\"2.0\"><channel><title>x</title><item><title>y</chan"),
    );
    server.set(
        "/big.xml",
        Route::feed(rss("B", &[(Some("b"), None, &"x".repeat(4096))])),
    );
    server.set(
        "/slow.xml",
        Route::feed(rss("S", &[(Some("s"), None, "Slow")])).delay(Duration::from_secs(60)),
    );
    server.set(
        "/html",
        Route::feed("<!DOCTYPE html><html><body>Hi</body></html>"),
    );
    let s = Scratch::new();
    let cfg = format!(
        "[[feeds]]\nname = \"good\"\nurl = \"{}\"\n\n\
         [[feeds]]\nname = \"missing\"\nurl = \"{}\"\n\n\
         [[feeds]]\nname = \"broken\"\nurl = \"{}\"\n\n\
         [[feeds]]\nname = \"big\"\nurl = \"{}\"\nmax_body = 1024\n\n\
         [[feeds]]\nname = \"slow\"\nurl = \"{}\"\ntimeout = \"1s\"\n\n\
         [[feeds]]\nname = \"page\"\nurl = \"{}\"\n",
        server.url("/good.xml"),
        server.url("/missing.xml"),
        server.url("/broken.xml"),
        server.url("/big.xml"),
        server.url("/slow.xml"),
        server.url("/html"),
    );
    s.write_config(&cfg, &[]);
    let started = std::time::Instant::now();
    let out = s.tributary(&["fetch", "--json"]);
    assert!(
        out.status.success(),
        "exit 0 even when feeds fail: {}",
        stderr(&out)
    );
    // The slow feed costs its own timeout (1 s), not the server's 60 s:
    // the whole run takes about 1.5 s.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by = |name: &str| lines.iter().find(|v| v["name"] == name).unwrap().clone();
    assert_eq!(lines.len(), 6);
    assert_eq!(by("good")["status"], "ok");
    assert_eq!(by("good")["new"], 1);
    assert_eq!(by("missing")["http_status"], 404);
    assert_eq!(by("missing")["error"], "HTTP 404 Not Found");
    assert_eq!(by("broken")["status"], "permanent");
    assert!(
        by("broken")["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed XML"),
        "{}",
        by("broken")
    );
    assert_eq!(
        by("big")["error"],
        "body larger than the 1 KiB cap (max_body)"
    );
    assert_eq!(by("slow")["status"], "transient");
    assert_eq!(by("slow")["error"], "timed out after 1s");
    assert_eq!(by("page")["error"], "not a feed: an HTML page");
    for v in &lines {
        for key in [
            "name",
            "url",
            "status",
            "http_status",
            "new",
            "updated",
            "error",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
    }
    // Every failure is in the fetch log and on the feed.
    assert_eq!(
        s.count("SELECT count(*) FROM fetch_log WHERE error IS NOT NULL"),
        5
    );
    assert_eq!(
        s.count(
            "SELECT count(*) FROM feeds WHERE consecutive_errors = 1 AND last_error IS NOT NULL"
        ),
        5
    );
    assert_eq!(s.count("SELECT count(*) FROM entries"), 1);
    // The human format says the same.
    let out = s.tributary(&["fetch", "--feed", "missing"]);
    assert!(
        stdout(&out).contains("missing                  permanent 404  error: HTTP 404 Not Found"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_config_is_one_line_with_file_and_line() {
    let s = Scratch::new();
    std::fs::write(
        s.config_path(),
        "[store]\npath = \"t.db\"\n\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\ntagz = [\"x\"]\n",
    )
    .unwrap();
    for cmd in [&["check"][..], &["fetch"][..]] {
        let out = s.tributary(cmd);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        let expected = format!(
            "error: {}:7:1: unknown field `tagz`",
            s.config_path().display()
        );
        assert!(err.starts_with(&expected), "{err}");
    }
}

#[test]
fn config_is_the_source_of_truth_for_feeds() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss("A", &[(Some("a"), None, "A1")])));
    server.set("/b.xml", Route::feed(rss("B", &[(Some("b"), None, "B1")])));
    let s = Scratch::new();
    s.write_config(
        "",
        &[("a", &server.url("/a.xml")), ("b", &server.url("/b.xml"))],
    );
    s.tributary(&["fetch"]);
    // a renamed (same URL), b removed.
    s.write_config("", &[("a-renamed", &server.url("/a.xml"))]);
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success());
    let out = s.tributary(&["feeds", "--json"]);
    let feeds: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let a = feeds.iter().find(|f| f["name"] == "a-renamed").unwrap();
    assert_eq!(a["active"], true);
    assert_eq!(a["entries"], 1, "history follows the rename");
    let b = feeds.iter().find(|f| f["name"] == "b").unwrap();
    assert_eq!(b["active"], false);
    assert_eq!(b["entries"], 1, "articles of removed feeds are kept");
    assert_eq!(
        server.hits("/b.xml").len(),
        1,
        "removed feeds are not polled"
    );
}

/// A scratch copy of the example config (bundled samples, scratch store),
/// with `edit` applied to its text.
fn samples_config(edit: impl Fn(String) -> String) -> Scratch {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = Scratch::new();
    let text = std::fs::read_to_string(manifest.join("config/tributary.toml")).unwrap();
    let samples = manifest.join("config/samples");
    let text = text
        .replace("path = \"../data/tributary.db\"", "path = \"tributary.db\"")
        .replace(
            "url = \"samples/",
            &format!("url = \"{}/", samples.display()),
        );
    std::fs::write(s.config_path(), edit(text)).unwrap();
    s
}

#[test]
fn bundled_samples_ingest_and_merge_the_shared_article() {
    let s = samples_config(|t| t);
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 failed"), "{}", stdout(&out));
    let entries = s.count("SELECT count(*) FROM entries");
    let articles = s.count("SELECT count(*) FROM articles");
    assert!(entries >= 30, "{entries}");
    // The harbour-bridge article appears in two feeds under different URLs.
    assert_eq!(
        s.count(
            "SELECT count(DISTINCT e.feed_id) FROM entries e JOIN articles a ON a.id = e.article_id \
             WHERE a.canonical_url = 'https://news.example.com/world/2026/11/20/harbour-bridge-reopens'"
        ),
        2
    );
    assert_eq!(entries - articles, 1);
    // Sanitized: no script survived anywhere.
    assert_eq!(s.count("SELECT count(*) FROM article_html WHERE content_html LIKE '%<script%' OR content_html LIKE '%onclick%'"), 0);
    // Relative image URLs were made absolute.
    assert_eq!(
        s.count("SELECT count(*) FROM article_html WHERE content_html LIKE '%src=\"/%'"),
        0
    );
    // Full-text search works.
    assert!(s.count("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'bridge'") >= 1);
    // The views answer.
    assert_eq!(
        s.count("SELECT count(*) FROM feed_health WHERE status = 'ok'"),
        5
    );
    assert_eq!(s.count("SELECT count(*) FROM latest_articles"), articles);
}

#[test]
fn a_reader_process_succeeds_while_fetch_writes() {
    let Ok(probe) = std::process::Command::new("sqlite3")
        .arg("--version")
        .output()
    else {
        skip("a_reader_process_succeeds_while_fetch_writes: no sqlite3 command (apt-get install sqlite3)");
        return;
    };
    assert!(probe.status.success());
    let server = FeedServer::start();
    let s = Scratch::new();
    let mut feeds = Vec::new();
    for i in 0..40 {
        let items: Vec<(Option<String>, Option<String>, String)> = (0..200)
            .map(|j| {
                (
                    Some(format!("{i}-{j}")),
                    Some(format!("https://site.example/{i}/{j}")),
                    format!("Item {i} {j}"),
                )
            })
            .collect();
        let refs: Vec<(Option<&str>, Option<&str>, &str)> = items
            .iter()
            .map(|(g, l, t)| (g.as_deref(), l.as_deref(), t.as_str()))
            .collect();
        server.set(&format!("/{i}.xml"), Route::feed(rss("F", &refs)));
        feeds.push((format!("f{i}"), server.url(&format!("/{i}.xml"))));
    }
    let refs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str()))
        .collect();
    s.write_config("", &refs);
    // Create the schema first so the reader has tables to read.
    assert!(s.tributary(&["feeds"]).status.success());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("fetch")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reads = 0;
    let mut seen_rows = std::collections::BTreeSet::new();
    loop {
        let done = child.try_wait().unwrap().is_some();
        let out = std::process::Command::new("sqlite3")
            .arg(s.db_path())
            .arg(".timeout 5000")
            .arg("SELECT count(*) FROM entries; SELECT count(*) FROM latest_articles;")
            .output()
            .unwrap();
        assert!(out.status.success(), "reader failed: {}", stderr(&out));
        let first: i64 = stdout(&out).lines().next().unwrap().trim().parse().unwrap();
        seen_rows.insert(first);
        reads += 1;
        if done {
            break;
        }
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(s.count("SELECT count(*) FROM entries"), 8000);
    assert!(reads >= 2, "{reads}");
    eprintln!(
        "{reads} reads saw {} distinct counts while writing",
        seen_rows.len()
    );
}

#[test]
fn credentials_and_headers_reach_only_their_feed_and_never_print() {
    let server = FeedServer::start();
    server.set(
        "/private.xml",
        Route::feed(rss("P", &[(Some("p"), None, "Private")])),
    );
    server.set(
        "/public.xml",
        Route::feed(rss("Q", &[(Some("q"), None, "Public")])),
    );
    let s = Scratch::new();
    std::fs::write(s.dir.path().join("pw"), "hunter2-secret\n").unwrap();
    let cfg = format!(
        "[[feeds]]\nname = \"private\"\nurl = \"{}\"\nusername = \"reader\"\npassword = {{ file = \"pw\" }}\n\
         headers = {{ \"X-Api-Key\" = {{ env = \"TRIBUTARY_IT_KEY\" }} }}\n\n\
         [[feeds]]\nname = \"public\"\nurl = \"{}\"\n",
        server.url("/private.xml"),
        server.url("/public.xml")
    );
    s.write_config(&cfg, &[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("fetch")
        .env("TRIBUTARY_IT_KEY", "key-secret-42")
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let private = &server.hits("/private.xml")[0];
    // "reader:hunter2-secret" in base64.
    assert_eq!(
        private.authorization.as_deref(),
        Some("Basic cmVhZGVyOmh1bnRlcjItc2VjcmV0")
    );
    assert_eq!(private.api_key.as_deref(), Some("key-secret-42"));
    let public = &server.hits("/public.xml")[0];
    assert_eq!(
        (public.authorization.as_deref(), public.api_key.as_deref()),
        (None, None)
    );
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("check")
        .env("TRIBUTARY_IT_KEY", "key-secret-42")
        .output()
        .unwrap();
    let everything = format!(
        "{}{}{}{}",
        stdout(&out),
        stderr(&out),
        stdout(&check),
        stderr(&check)
    );
    assert!(
        stdout(&check).contains("(basic auth) (headers: X-Api-Key)"),
        "{}",
        stdout(&check)
    );
    for secret in ["hunter2", "key-secret-42", "cmVhZGVy"] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
}

#[test]
fn one_host_gets_one_request_at_a_time() {
    let server = FeedServer::start();
    let mut feeds = Vec::new();
    for i in 0..3 {
        let path = format!("/h{i}.xml");
        server.set(
            &path,
            Route::feed(rss("H", &[(Some("h"), None, "H")])).delay(Duration::from_millis(400)),
        );
        feeds.push((format!("h{i}"), server.url(&path)));
    }
    let s = Scratch::new();
    let refs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str()))
        .collect();
    s.write_config("[fetch]\nper_host = 1\nhost_gap = \"0s\"\n", &refs);
    assert!(s.tributary(&["fetch"]).status.success());
    let mut done: Vec<std::time::Instant> = (0..3)
        .map(|i| server.hits(&format!("/h{i}.xml"))[0].at)
        .collect();
    done.sort();
    // Answers take 400 ms each; one at a time, they finish 400 ms apart.
    for w in done.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(350),
            "{:?}",
            w[1] - w[0]
        );
    }
}

#[test]
fn samples_merge_one_story_and_explain_it() {
    let s = samples_config(|t| t);
    assert!(s.tributary(&["fetch"]).status.success());
    // The wire's syndicated copy of the fisheries story joins world-news's.
    let (story, members): (i64, i64) = s
        .db()
        .query_row("SELECT story_id, articles FROM stories", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(members, 2);
    // Release notes differ only in numbers: never one story.
    assert_eq!(
        s.count("SELECT count(DISTINCT story_id) FROM articles WHERE title LIKE 'Version %'"),
        s.count("SELECT count(*) FROM articles WHERE title LIKE 'Version %'")
    );
    let joined: i64 = s
        .db()
        .query_row(
            "SELECT max(id) FROM articles WHERE story_id = ?1",
            [story],
            |r| r.get(0),
        )
        .unwrap();
    let out = s.tributary(&["explain", &joined.to_string()]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("story {story} (2 articles):")),
        "{text}"
    );
    assert!(
        text.contains("similar to") && text.contains(" text, ") && text.contains(" facts"),
        "{text}"
    );
    let out = s.tributary(&["explain", &joined.to_string(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(v["story"][1]["score"].as_f64().unwrap() >= 0.5);
    // The merges view says the same as explain.
    assert_eq!(
        s.count("SELECT count(*) FROM merges WHERE level = 'story'"),
        1
    );
    assert_eq!(
        s.count(
            "SELECT count(*) FROM merges WHERE level = 'article' AND matched_by = 'canonical_url'"
        ),
        1
    );
    assert_eq!(s.tributary(&["explain", "999999"]).status.code(), Some(1));
}

#[test]
fn dedup_can_be_turned_off_per_feed_and_globally() {
    let per_feed = samples_config(|t| t.replacen("url = \"/", "dedup = false\nurl = \"/", 2));
    assert!(per_feed.tributary(&["fetch"]).status.success());
    // world-news and wire keep every item apart.
    assert_eq!(
        per_feed.count("SELECT count(*) FROM entries"),
        per_feed.count("SELECT count(*) FROM articles")
    );
    assert_eq!(per_feed.count("SELECT count(*) FROM stories"), 0);
    let global = samples_config(|t| t.replace("\nenabled = true\n", "\nenabled = false\n"));
    assert!(global.tributary(&["fetch"]).status.success());
    assert_eq!(
        global.count("SELECT count(*) FROM entries"),
        global.count("SELECT count(*) FROM articles")
    );
    assert_eq!(global.count("SELECT count(*) FROM stories"), 0);
    let check = stdout(&global.tributary(&["check"]));
    assert!(check.contains("dedup:       off"), "{check}");
}

#[test]
fn unchanged_entries_are_not_cleaned_again_and_a_stale_skip_falls_back() {
    let server = FeedServer::start();
    let items = |n: usize| -> Vec<(Option<String>, Option<String>, String)> {
        (1..=n)
            .map(|i| (Some(format!("g{i}")), None, format!("Item {i}")))
            .collect()
    };
    let doc = |n: usize| {
        let owned = items(n);
        let refs: Vec<(Option<&str>, Option<&str>, &str)> = owned
            .iter()
            .map(|(g, l, t)| (g.as_deref(), l.as_deref(), t.as_str()))
            .collect();
        rss("F", &refs)
    };
    server.set("/f.xml", Route::feed(doc(3)).etag("\"1\""));
    let s = Scratch::new();
    s.write_config("", &[("f", &server.url("/f.xml"))]);
    s.tributary(&["fetch"]);
    // Every entry remembers its raw form.
    assert_eq!(
        s.count("SELECT count(*) FROM entries WHERE raw_hash IS NOT NULL"),
        3
    );

    // One new entry among the three known ones: only it is added.
    server.set("/f.xml", Route::feed(doc(4)).etag("\"2\""));
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("1 new, 0 updated"),
        "{}",
        stdout(&out)
    );

    // A stored entry changed behind this fetch's back (here by hand; in
    // life a switch of the feed's identity mode re-keys its entries): its
    // raw form is known, so cleaning was skipped, but the store cannot
    // find it under its key any more. The document is processed again in
    // full and the entry stored as any new one would be (it joins its old
    // article by identical content): nothing is stored without content.
    // (Its bytes are forgotten too, else it would not be parsed at all.)
    s.db()
        .execute_batch(
            "UPDATE entries SET entry_key = 'moved', title = 'Renamed', item_hash = NULL
             WHERE entry_key LIKE '%g2%'",
        )
        .unwrap();
    server.set("/f.xml", Route::feed(doc(4)).etag("\"3\""));
    let out = s.tributary(&["fetch"]);
    assert!(
        stdout(&out).contains("1 new, 0 updated"),
        "{}",
        stdout(&out)
    );
    assert_eq!(s.count("SELECT count(*) FROM entries"), 5);
    assert_eq!(
        s.count("SELECT count(*) FROM entries WHERE match_reason = 'content_hash'"),
        1
    );
    assert_eq!(
        s.count("SELECT count(*) FROM article_text WHERE content_text LIKE 'Body of Item%'"),
        4
    );
}

/// A re-fetched document's known entries are left out before parsing, by
/// their bytes; the rest is read as before, and anything that could make
/// the left-out entries mean something else reads the document in full.
#[test]
fn known_entries_are_left_out_before_parsing_unless_that_could_change_the_rest() {
    use tributary::model::IdentityMode;
    use tributary::refresh::{process, process_with};
    let dir = tempfile::tempdir().unwrap();
    let cfg = tributary::config::Config::parse(
        "[store]\npath = \"t.db\"\n[[feeds]]\nname = \"f\"\nurl = \"https://f.example/feed\"\n",
        &dir.path().join("t.toml"),
    )
    .unwrap();
    let mut store = tributary::store::Store::open(&dir.path().join("t.db")).unwrap();
    let now = chrono::Utc::now();
    store
        .reconcile(&tributary::jobs::feed_specs(&cfg), now)
        .unwrap();
    let feed = store.feed_by_name("f").unwrap().unwrap().id;
    let url = url::Url::parse("https://f.example/feed").unwrap();
    let doc = |items: &[(&str, Option<&str>, &str)], site: &str| {
        let items: Vec<(Option<&str>, Option<&str>, &str)> =
            items.iter().map(|(g, l, t)| (Some(*g), *l, *t)).collect();
        rss("F", &items).replace("https://site.example/", site)
    };
    let site = "https://site.example/";
    let old = [
        ("g1", Some("https://site.example/1"), "Ferry resumes"),
        ("g2", Some("https://site.example/2"), "Bridge vote delayed"),
        ("g3", Some("https://site.example/3"), "Library opens late"),
    ];
    let record = |store: &mut tributary::store::Store, d: tributary::refresh::Processed| {
        let mut rec = fetch_record(feed, "f", &[], now);
        rec.meta = Some(d.meta);
        rec.entries = d.entries;
        rec.kept = d.kept;
        store.record_fetch(&rec)
    };
    let first = process(
        doc(&old, site).as_bytes(),
        None,
        Some(&url),
        IdentityMode::Guid,
        now,
    )
    .unwrap();
    assert!(first.entries.iter().all(|e| e.item_hash.is_some()));
    record(&mut store, first).unwrap();
    let known = store.known_entries(feed).unwrap();
    assert_eq!(known.by_item.len(), 3);

    let reread = |doc: &str, mode, known: &tributary::model::KnownEntries| {
        process_with(
            doc.as_bytes(),
            None,
            Some(&url),
            mode,
            now,
            known,
            tributary::clean::Attributes::Policy,
        )
        .unwrap()
    };

    // A new entry first, a changed head: only the new entry is parsed.
    let mut items = vec![("g4", Some("https://site.example/4"), "Tram line extended")];
    items.extend(old);
    let newer = doc(&items, site).replace("<title>F</title>", "<title>F, renamed</title>");
    let d = reread(&newer, IdentityMode::Guid, &known);
    let titles: Vec<&str> = d.entries.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["Tram line extended"]);
    assert_eq!(d.kept, ["guid:g1", "guid:g2", "guid:g3"]);
    assert_eq!(d.meta.title.as_deref(), Some("F, renamed"));
    let applied = record(&mut store, d).unwrap();
    assert_eq!((applied.new, applied.updated), (1, 0));
    let stored = |sql: &str| -> i64 {
        rusqlite::Connection::open(dir.path().join("t.db"))
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        stored("SELECT count(*) FROM entries WHERE item_hash IS NOT NULL"),
        4
    );
    let known = store.known_entries(feed).unwrap();

    // An entry edited in place is not known by its bytes: it is read,
    // and updated.
    let edited = newer.replace(
        "Body of Bridge vote delayed.",
        "Body of Bridge vote delayed again.",
    );
    let d = reread(&edited, IdentityMode::Guid, &known);
    assert_eq!(d.entries.len(), 1);
    assert_eq!(d.kept.len(), 3);

    // An entry repeated byte for byte is one entry, left out once.
    let g3 = newer.find("<item><guid isPermaLink=\"false\">g3").unwrap();
    let g3 = &newer[g3..g3 + newer[g3..].find("</item>").unwrap() + "</item>".len()];
    let repeated = newer.replace(g3, &format!("{g3}\n{g3}"));
    let d = reread(&repeated, IdentityMode::Guid, &known);
    assert_eq!(d.kept, ["guid:g4", "guid:g1", "guid:g2", "guid:g3"]);
    assert!(d.entries.is_empty());

    // The site the entries were cleaned against moved: all are read.
    let moved = doc(&items, "https://elsewhere.example/");
    let d = reread(&moved, IdentityMode::Guid, &known);
    assert_eq!((d.entries.len(), d.kept.len()), (4, 0));

    // A new entry repeating a left-out entry's guid or link keys both
    // differently in the whole document: all are read.
    for repeat in [
        ("g2", Some("https://site.example/5"), "Second bridge story"),
        ("g5", Some("https://site.example/2"), "Bridge, the sequel"),
    ] {
        let mut more = vec![repeat];
        more.extend(items.iter().copied());
        let d = reread(&doc(&more, site), IdentityMode::Guid, &known);
        assert_eq!((d.entries.len(), d.kept.len()), (5, 0), "{repeat:?}");
    }

    // Another identity mode keys entries differently: all are read.
    let d = reread(&newer, IdentityMode::Link, &known);
    assert_eq!((d.entries.len(), d.kept.len()), (4, 0));

    // A left-out entry the store lost meanwhile is refused, so the fetch
    // can be read again in full: nothing is lost.
    let d = reread(&newer, IdentityMode::Guid, &known);
    assert_eq!(d.kept.len(), 4);
    rusqlite::Connection::open(dir.path().join("t.db"))
        .unwrap()
        .execute("DELETE FROM entries WHERE entry_key = 'guid:g3'", [])
        .unwrap();
    assert!(matches!(
        record(&mut store, d),
        Err(tributary::store::StoreError::ContentElided { key }) if key == "guid:g3"
    ));
}
