//! Operating Tributary through the real binary: `feeds`, `doctor`,
//! `search`, `prune`, `backup`, the fetch progress bar, the man page and
//! completions. (Commands that edit the config are in `ops_config`.)

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::*;

fn items(prefix: &str, n: usize) -> String {
    let owned: Vec<(String, String, String)> = (1..=n)
        .map(|i| {
            (
                format!("{prefix}-{i}"),
                format!("https://site.example/{prefix}/{i}"),
                format!("{prefix} story number {i} about the harbour"),
            )
        })
        .collect();
    let refs: Vec<(Option<&str>, Option<&str>, &str)> = owned
        .iter()
        .map(|(g, l, t)| (Some(g.as_str()), Some(l.as_str()), t.as_str()))
        .collect();
    rss(&format!("Feed {prefix}"), &refs)
}

#[test]
fn feeds_table_fits_and_json_keeps_its_keys() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(items("a", 3)));
    let broken = "<rss version=\"2.0\"><channel><title>x</title><item><title>t</title></iten></channel></rss>";
    server.set("/broken.xml", Route::feed(broken));
    let s = Scratch::new();
    let long_name = "a-feed-with-a-remarkably-long-name-indeed";
    s.write_config(
        "",
        &[
            ("a", &server.url("/a.xml")),
            (long_name, &server.url("/broken.xml")),
        ],
    );
    assert!(s.tributary(&["fetch"]).status.success());

    let out = s.tributary(&["feeds"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in text.lines() {
        assert!(line.chars().count() <= 120, "too wide: {line:?}");
    }
    let head = text.lines().next().unwrap();
    for col in [
        "NAME",
        "STATUS",
        "FETCHED",
        "NEW",
        "NEXT CHECK",
        "ENTRIES",
        "ARTICLES",
        "ERRS",
        "LAST ERROR",
    ] {
        assert!(head.contains(col), "{head}");
    }
    let a = text.lines().find(|l| l.starts_with("a ")).unwrap();
    assert!(
        a.contains(" ok ") && a.contains("now") && a.contains("schedule"),
        "{a}"
    );
    let b = text.lines().find(|l| l.starts_with("a-feed-with")).unwrap();
    assert!(
        b.contains("permanent") && b.contains("malformed XML") && b.ends_with('…'),
        "{b}"
    );
    assert!(b.contains("a-feed-with-a-remar…"), "{b}");

    let out = s.tributary(&["feeds", "--json"]);
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let a = rows.iter().find(|r| r["name"] == "a").unwrap();
    for key in [
        "name",
        "url",
        "active",
        "status",
        "title",
        "tags",
        "last_fetch_at",
        "last_success_at",
        "last_new_entry_at",
        "http_status",
        "consecutive_errors",
        "last_error",
        "next_check_at",
        "next_check_reason",
        "entries",
        "articles",
        "moved_to",
        "retry_after_until",
    ] {
        assert!(a.get(key).is_some(), "missing {key}: {a}");
    }
    assert_eq!(
        (a["entries"].as_i64(), a["articles"].as_i64()),
        (Some(3), Some(3))
    );
}

const PAGE: &str = r#"<!DOCTYPE html><html><head><title>Harbour Notes</title>
<link rel="alternate" type="application/rss+xml" title="Harbour Notes" href="/real.xml">
</head><body><p>Hello</p></body></html>"#;

#[test]
fn doctor_explains_each_broken_feed_and_what_to_do() {
    let server = FeedServer::start();
    server.set("/ok.xml", Route::feed(items("ok", 2)));
    server.set("/real.xml", Route::feed(items("real", 2)));
    server.set(
        "/old.xml",
        Route::feed("").status(301).header("location", "/new.xml"),
    );
    server.set("/new.xml", Route::feed(items("new", 2)));
    server.set("/gone.xml", Route::feed("").status(410));
    server.set(
        "/limited.xml",
        Route::feed("").status(429).header("retry-after", "3600"),
    );
    server.set("/forbidden.xml", Route::feed("").status(403));
    let mut page = Route::feed(PAGE);
    page.content_type = "text/html; charset=utf-8".into();
    server.set("/page.html", page.clone());
    let mut wall = Route::feed("<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate\"></script></body></html>");
    wall.content_type = "text/html".into();
    server.set("/wall.xml", wall);
    server.set("/", page);
    server.set("/broken.xml", Route::feed("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>B</title>\n<item><title>x</title></iten>\n</channel></rss>\n"));
    server.set(
        "/slow.xml",
        Route::feed(items("slow", 1)).delay(Duration::from_secs(4)),
    );
    let s = Scratch::new();
    let tls = format!("https://{}/tls.xml", server.addr);
    let slow = server.url("/slow.xml");
    s.write_config(
        "[fetch]\nhost_gap = \"0s\"\nper_host = 16\n",
        &[
            ("ok", &server.url("/ok.xml")),
            ("moved", &server.url("/old.xml")),
            ("gone", &server.url("/gone.xml")),
            ("limited", &server.url("/limited.xml")),
            ("forbidden", &server.url("/forbidden.xml")),
            ("page", &server.url("/page.html")),
            ("broken", &server.url("/broken.xml")),
            ("missing", &server.url("/missing.xml")),
            ("tls", &tls),
            ("refused", "http://127.0.0.1:1/feed.xml"),
            ("wall", &server.url("/wall.xml")),
        ],
    );
    let text = std::fs::read_to_string(s.config_path()).unwrap()
        + &format!("[[feeds]]\nname = \"slow\"\nurl = \"{slow}\"\ntimeout = \"1s\"\n");
    std::fs::write(s.config_path(), text).unwrap();
    assert!(s.tributary(&["fetch"]).status.success());
    let hits_before = (
        server.hits("/gone.xml").len(),
        server.hits("/limited.xml").len(),
    );

    let out = s.tributary(&["doctor"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // One block per feed: its first line, then the lines indented under it.
    let mut blocks: Vec<String> = Vec::new();
    for line in text.lines() {
        match blocks.last_mut() {
            Some(b) if line.starts_with("  ") => {
                b.push_str(line);
                b.push('\n');
            }
            _ => blocks.push(format!("{line}\n")),
        }
    }
    let section = |name: &str| -> String {
        blocks
            .iter()
            .find(|b| b.starts_with(&format!("{name} (")) || b.starts_with(&format!("{name}: ")))
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };
    assert!(text.contains("ok: ok\n"), "{text}");
    let moved = section("moved");
    assert!(
        moved.contains("permanent redirect")
            && moved.contains(&format!("url = \"{}\"", server.url("/new.xml"))),
        "{moved}"
    );
    assert!(section("gone").contains("HTTP 410"), "{text}");
    let limited = section("limited");
    assert!(
        limited.contains("rate-limited") && limited.contains("until"),
        "{limited}"
    );
    assert!(section("forbidden").contains("blocked"), "{text}");
    let page = section("page");
    assert!(
        page.contains("web page") && page.contains(&server.url("/real.xml")),
        "{page}"
    );
    let broken = section("broken");
    assert!(
        broken.contains("line 3, column 23") && broken.contains("</iten>"),
        "{broken}"
    );
    let missing = section("missing");
    assert!(
        missing.contains("HTTP 404") && missing.contains(&server.url("/real.xml")),
        "{missing}"
    );
    assert!(section("slow").contains("timeouts"), "{text}");
    assert!(section("tls").contains("TLS"), "{text}");
    assert!(section("refused").contains("refuses connections"), "{text}");
    let wall = section("wall");
    assert!(
        wall.contains("blocked") && wall.contains("Cloudflare"),
        "{wall}"
    );
    assert!(text.contains("12 feeds: 1 ok, 11 need attention"), "{text}");
    // Asking again is what 410 and 429 said not to do.
    assert_eq!(
        (
            server.hits("/gone.xml").len(),
            server.hits("/limited.xml").len()
        ),
        hits_before
    );

    let out = s.tributary(&["doctor", "--offline", "page"]);
    let text = stdout(&out);
    assert!(
        text.contains("web page") && !text.contains("checked now"),
        "{text}"
    );
    let out = s.tributary(&["doctor", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn search_ranks_snippets_and_survives_syntax() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(items("a", 3)));
    let s = Scratch::new();
    s.write_config("", &[("a", &server.url("/a.xml"))]);
    assert!(s.tributary(&["fetch"]).status.success());
    let out = s.tributary(&["search", "number", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("a story number 2 about the harbour"),
        "{text}"
    );
    assert!(
        text.contains("https://site.example/a/2") && text.contains("[number]"),
        "{text}"
    );
    let out = s.tributary(&["search", "harbour", "--limit", "2", "--json"]);
    let hits: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0]["feeds"], serde_json::json!(["a"]));
    for q in ["C++", "\"unbalanced", "story-number", "title:", "AND OR"] {
        let out = s.tributary(&["search", q]);
        assert!(out.status.success(), "{q}: {}", stderr(&out));
    }
    let out = s.tributary(&["search", "story-number"]);
    assert!(
        stderr(&out).contains("searched for the words instead"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("story number"), "{}", stdout(&out));
    // Bounded too, more generously than the server.
    let out = s.tributary(&["search", &"a* ".repeat(65)]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("65 prefix searches (word*); at most 64"),
        "{}",
        stderr(&out)
    );
    assert!(s.tributary(&["search", &"a* ".repeat(64)]).status.success());
}

#[test]
fn pruned_entries_do_not_come_back_while_the_feed_lists_them() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(items("a", 5)));
    let s = Scratch::new();
    s.write_config(
        "[retention]\nmax_per_feed = 2\n",
        &[("a", &server.url("/a.xml"))],
    );
    assert!(s.tributary(&["fetch"]).status.success());
    assert_eq!(s.count("SELECT count(*) FROM entries"), 5);
    let out = s.tributary(&["prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("pruned 3 entries"),
        "{}",
        stdout(&out)
    );
    // The fetch log keeps 90 days by default: the one fetch so far stays.
    assert!(
        stdout(&out).contains("deleted 0 fetch-log rows older than 90 days"),
        "{}",
        stdout(&out)
    );
    assert_eq!(s.count("SELECT count(*) FROM fetch_log"), 1);
    assert_eq!(s.count("SELECT count(*) FROM entries"), 2);
    assert_eq!(s.count("SELECT count(*) FROM articles"), 2);
    assert_eq!(s.count("SELECT count(*) FROM entry_tombstones"), 3);
    assert_eq!(
        s.count("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'harbour'"),
        2
    );
    // The feed still lists all five (no validators: a full body every time).
    let out = s.tributary(&["fetch"]);
    assert!(stdout(&out).contains("1 feeds: 0 new"), "{}", stdout(&out));
    assert_eq!(s.count("SELECT count(*) FROM entries"), 2);
    assert_eq!(
        server
            .hits("/a.xml")
            .iter()
            .filter(|h| h.status == 200)
            .count(),
        2
    );
    // Without entry limits no entry goes; the fetch log keeps what is
    // younger than its own limit.
    s.write_config("", &[("a", &server.url("/a.xml"))]);
    s.db()
        .execute(
            "UPDATE fetch_log SET started_at = '2020-01-01T00:00:00.000Z' WHERE id = 1",
            [],
        )
        .unwrap();
    let out = s.tributary(&["prune"]);
    assert!(
        stdout(&out).contains("every entry is kept"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("deleted 1 fetch-log rows older than 90 days"),
        "{}",
        stdout(&out)
    );
    assert_eq!(s.count("SELECT count(*) FROM entries"), 2);
    assert_eq!(s.count("SELECT count(*) FROM fetch_log"), 1);
}

#[test]
fn backup_is_consistent_while_writing_and_never_overwrites_silently() {
    let server = FeedServer::start();
    for i in 0..20 {
        server.set(
            &format!("/f{i}.xml"),
            Route::feed(items(&format!("f{i}"), 20)).delay(Duration::from_millis(20)),
        );
    }
    let s = Scratch::new();
    let feeds: Vec<(String, String)> = (0..20)
        .map(|i| (format!("f{i}"), server.url(&format!("/f{i}.xml"))))
        .collect();
    let refs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    s.write_config("[fetch]\nhost_gap = \"0s\"\n", &refs);
    assert!(s.tributary(&["fetch", "--feed", "f0"]).status.success());
    let mut writer = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("fetch")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dest = s.dir.path().join("copy.db");
    let out = s.tributary(&["backup", dest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("integrity ok"), "{}", stdout(&out));
    writer.wait().unwrap();
    let copy = rusqlite::Connection::open(&dest).unwrap();
    let ok: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let entries: i64 = copy
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    let logged: i64 = copy
        .query_row("SELECT sum(new_entries) FROM fetch_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(entries, logged, "the copy is one consistent moment");
    drop(copy);

    let out = s.tributary(&["backup", dest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = s.tributary(&["backup", "--force", dest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let copy = rusqlite::Connection::open(&dest).unwrap();
    let entries: i64 = copy
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(entries, 400);
    let leftovers = std::fs::read_dir(s.dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("partial")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn piped_fetch_shows_no_progress_bar() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(items("a", 2)));
    let s = Scratch::new();
    s.write_config(
        "",
        &[
            ("a", &server.url("/a.xml")),
            ("b", &server.url("/missing.xml")),
        ],
    );
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        !err.contains('\r') && !err.contains('\x1b') && !err.contains("feeds  "),
        "{err:?}"
    );
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
}

#[test]
fn man_page_and_completions_come_from_the_commands() {
    // No config anywhere: these describe the program only.
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("TRIBUTARY_CONFIG")
            .output()
            .unwrap()
    };
    let out = run(&["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let roff = stdout(&out);
    assert!(roff.contains(".TH tributary 1"), "{roff}");
    for cmd in [
        "doctor",
        "import\\-opml",
        "search",
        "prune",
        "backup",
        "add",
        "remove",
    ] {
        assert!(roff.contains(&format!("\\fB{cmd}\\fR")), "{cmd} missing");
    }
    let page = dir.path().join("tributary.1");
    std::fs::write(&page, &roff).unwrap();
    match Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
    {
        Ok(o) if o.status.success() => {
            // Drop the overstrike (x BACKSPACE x) that bold becomes in a pipe.
            let mut text = String::new();
            for c in stdout(&o).chars() {
                if c == '\u{8}' {
                    text.pop();
                } else {
                    text.push(c);
                }
            }
            assert!(
                text.contains("TRIBUTARY DOCTOR") && text.contains("--offline"),
                "{text}"
            );
        }
        // `man` ran and failed: the page does not render, which is a failure.
        Ok(o) => panic!("man -l failed ({}) on the page:\n{}", o.status, stderr(&o)),
        Err(_) => skip("rendering with man -l: no man command here"),
    }
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = stdout(&out);
        for cmd in ["doctor", "import-opml", "export-opml", "search", "backup"] {
            assert!(script.contains(cmd), "{shell}: {cmd} missing");
        }
    }
    let help = stdout(&run(&["--help"]));
    assert!(
        !help.contains("completions") && !help.contains("  man "),
        "hidden commands show: {help}"
    );
}

#[test]
fn feeds_lists_every_configured_feed_even_before_its_first_fetch() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(items("a", 2)));
    let s = Scratch::new();
    s.write_config("", &[("a", &server.url("/a.xml"))]);
    // Before any round: the store does not exist yet.
    let out = s.tributary(&["feeds"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let a = stdout(&out);
    let a = a.lines().find(|l| l.starts_with("a ")).expect("a listed");
    assert!(
        a.contains(" new ") && a.contains("never") && a.contains("due new feed"),
        "{a}"
    );
    assert!(s.tributary(&["fetch"]).status.success());
    // A feed added to the config after the round.
    s.write_config(
        "",
        &[
            ("a", &server.url("/a.xml")),
            ("later", &server.url("/later.xml")),
        ],
    );
    let out = s.tributary(&["feeds"]);
    let text = stdout(&out);
    let a = text.lines().find(|l| l.starts_with("a ")).unwrap();
    assert!(a.contains(" ok ") && !a.contains("never"), "{a}");
    let later = text
        .lines()
        .find(|l| l.starts_with("later "))
        .expect("later listed");
    assert!(
        later.contains("never") && later.contains("due new feed"),
        "{later}"
    );
    let out = s.tributary(&["feeds", "--json"]);
    let later: serde_json::Value = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["name"] == "later")
        .unwrap();
    assert_eq!(later["never_fetched"], true);
    assert_eq!(later["status"], "new");
}
