//! The operator's rules end to end: the real binary fetching from a
//! loopback server into a real store, with rules from a real config file:
//! every action, scope, dropped entries remembered and explained,
//! `rules test`, outputs selecting on rule tags and marks, config errors
//! with file:line, and a new rule taking effect after SIGHUP.

use std::path::Path;
use std::time::Duration;

use crate::child::{wait_for, Daemon};
use crate::util::*;

/// RSS with items `(guid, link, title, text)`.
fn feed_doc(items: &[(&str, &str, &str, &str)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>T</title>\
         <link>https://site.example/</link><description>d</description><language>en-us</language>\n",
    );
    for (guid, link, title, text) in items {
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><link>{link}</link><title>{title}</title>\
             <description>{text}</description><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

fn write(s: &Scratch, news: &str, other: &str, rules: &str) {
    let text = format!(
        "[store]\npath = \"tributary.db\"\n[server]\nlisten = \"127.0.0.1:0\"\n\
         [[feeds]]\nname = \"news\"\nurl = \"{news}\"\ntags = [\"tech\"]\n\
         [[feeds]]\nname = \"other\"\nurl = \"{other}\"\n{rules}"
    );
    std::fs::write(s.config_path(), text).unwrap();
}

const RULES: &str = r#"
[[rules]]
name = "no-ads"
tags = ["tech"]
if.title = "^Sponsored"
then = "drop"

[[rules]]
name = "rust"
if = { title = "(?i)rust", language = "en" }
then.tag = "rust"

[[rules]]
name = "star"
feeds = ["news"]
if.text = "important"
then.mark = "starred"

[[rules]]
name = "tidy"
feeds = ["news"]
then.rewrite = { title = { find = '^Rust (\d)', replace = 'Rust lang $1' }, strip_query = ["ref"] }

[[outputs]]
name = "rusty"
rule_tags = ["rust"]

[[outputs]]
name = "starred"
marks = ["starred"]
"#;

fn titles(path: &Path) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

fn rows(s: &Scratch, sql: &str) -> Vec<String> {
    let db = s.db();
    let mut st = db.prepare(sql).unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn rules_drop_tag_mark_rewrite_and_are_remembered_and_explained() {
    let server = FeedServer::start();
    let news = [
        (
            "n1",
            "https://site.example/1",
            "Sponsored: buy a thing",
            "ad",
        ),
        (
            "n2",
            "https://site.example/2?ref=rss&amp;id=2",
            "Rust 2 released",
            "an important release",
        ),
        ("n3", "https://site.example/3", "Weather today", "sunny"),
    ];
    server.set("/news.xml", Route::feed(feed_doc(&news)));
    server.set(
        "/other.xml",
        Route::feed(feed_doc(&[(
            "o1",
            "https://other.example/1",
            "Sponsored: Rust elsewhere",
            "rust",
        )])),
    );
    let s = Scratch::new();
    write(
        &s,
        &server.url("/news.xml"),
        &server.url("/other.xml"),
        RULES,
    );
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // drop, scoped by tag: the ad of `news` is gone, the one of `other` stays.
    assert_eq!(
        rows(&s, "SELECT title FROM entries ORDER BY title"),
        [
            "Rust lang 2 released",
            "Sponsored: Rust elsewhere",
            "Weather today"
        ]
    );
    assert_eq!(
        rows(
            &s,
            "SELECT rule || ' ' || guid || ' ' || url FROM dropped_entries"
        ),
        ["no-ads n1 https://site.example/1"]
    );
    // rewrite: title and link (the query parameter `ref` only).
    assert_eq!(
        rows(&s, "SELECT url FROM entries WHERE guid = 'n2'"),
        ["https://site.example/2?id=2"]
    );
    // tag (global, on both feeds) and mark (on `news` only).
    assert_eq!(
        rows(
            &s,
            "SELECT kind || ':' || label || ':' || a.title FROM article_labels l
             JOIN articles a ON a.id = l.article_id ORDER BY kind, a.title"
        ),
        [
            "mark:starred:Rust lang 2 released",
            "tag:rust:Rust lang 2 released",
            "tag:rust:Sponsored: Rust elsewhere",
        ]
    );

    // Outputs select on rule tags and marks.
    let dir = tempfile::tempdir().unwrap();
    let out = s.tributary(&["publish", "--out", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut rusty = titles(&dir.path().join("feeds/rusty.json"));
    rusty.sort();
    assert_eq!(rusty, ["Rust lang 2 released", "Sponsored: Rust elsewhere"]);
    assert_eq!(
        titles(&dir.path().join("feeds/starred.json")),
        ["Rust lang 2 released"]
    );

    // explain, by link or guid of the dropped entry: which rule, when.
    for what in ["https://site.example/1", "n1"] {
        let out = s.tributary(&["explain", what]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("dropped by a rule: Sponsored: buy a thing"),
            "{text}"
        );
        assert!(text.contains("rule:          no-ads"), "{text}");
        assert!(text.contains("feed:          news"), "{text}");
    }
    // explain by the link of a stored entry shows its article and labels.
    let out = s.tributary(&["explain", "https://site.example/2?id=2"]);
    let text = stdout(&out);
    assert!(
        text.contains("Rust lang 2 released") && text.contains("rule star"),
        "{text}"
    );
    let out = s.tributary(&["explain", "https://nowhere.example/"]);
    assert_eq!(out.status.code(), Some(1));

    // New rules apply to what arrives next: the ad stays dropped though no
    // rule drops it now (it is not judged again), the stored weather
    // report stays stored, and a new weather report is dropped.
    let changed = r#"
[[rules]]
name = "weather"
if.title = "^Weather"
then = "drop"
"#;
    write(
        &s,
        &server.url("/news.xml"),
        &server.url("/other.xml"),
        changed,
    );
    // The ad's text changed too: judged by key, it is still not judged
    // again (its bytes no longer let the re-fetch skip it).
    let mut more = news.to_vec();
    more[0].3 = "ad, now with more words";
    more.push(("n4", "https://site.example/4", "Weather tomorrow", "rain"));
    server.set("/news.xml", Route::feed(feed_doc(&more)));
    let before = s.count("SELECT count(*) FROM dropped_entries WHERE guid = 'n1'");
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(before, 1);
    assert_eq!(
        rows(
            &s,
            "SELECT guid || ' ' || rule FROM dropped_entries ORDER BY guid"
        ),
        ["n1 no-ads", "n4 weather"]
    );
    assert_eq!(
        rows(&s, "SELECT guid FROM entries WHERE feed_id = (SELECT id FROM feeds WHERE name = 'news') ORDER BY guid"),
        ["n2", "n3"]
    );

    // `rules test` judges what is stored with the current rules and
    // changes nothing.
    let snapshot = |s: &Scratch| {
        (
            rows(
                s,
                "SELECT entry_key || title || url FROM entries ORDER BY id",
            ),
            rows(
                s,
                "SELECT entry_key || rule FROM dropped_entries ORDER BY entry_key",
            ),
        )
    };
    let was = snapshot(&s);
    let out = s.tributary(&["rules", "test", "news"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("DROP  (weather) Weather today"), "{text}");
    assert!(text.contains("rule weather: drop"), "{text}");
    assert!(text.contains("store  Rust lang 2 released"), "{text}");
    assert!(text.contains("2 entries: 1 would be dropped"), "{text}");
    assert_eq!(snapshot(&s), was);
    let out = s.tributary(&["rules", "test", "news", "--json"]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines
        .iter()
        .any(|l| l["outcome"] == "drop" && l["dropped_by"] == "weather"));
    // A rewrite shows the new title.
    write(
        &s,
        &server.url("/news.xml"),
        &server.url("/other.xml"),
        "[[rules]]\nname = \"shout\"\nthen.rewrite.title = { find = 'Weather', replace = 'WEATHER' }\n",
    );
    let text = stdout(&s.tributary(&["rules", "test", "news"]));
    assert!(text.contains("title → WEATHER today"), "{text}");
    let out = s.tributary(&["rules", "test", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn keep_rules_drop_everything_else_in_their_scope() {
    let server = FeedServer::start();
    server.set(
        "/news.xml",
        Route::feed(feed_doc(&[
            ("n1", "https://site.example/1", "Rust news", "x"),
            ("n2", "https://site.example/2", "Go news", "x"),
        ])),
    );
    server.set(
        "/other.xml",
        Route::feed(feed_doc(&[(
            "o1",
            "https://other.example/1",
            "Go too",
            "x",
        )])),
    );
    let s = Scratch::new();
    write(
        &s,
        &server.url("/news.xml"),
        &server.url("/other.xml"),
        "[[rules]]\nname = \"rust-only\"\nfeeds = [\"news\"]\nif.title = \"Rust\"\nthen = \"keep\"\n",
    );
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        rows(&s, "SELECT title FROM entries ORDER BY title"),
        ["Go too", "Rust news"]
    );
    assert_eq!(
        rows(&s, "SELECT rule FROM dropped_entries"),
        ["not kept by rust-only"]
    );
}

/// `remove` selectors see the content as published, `class` and `id`
/// included, though what is stored has neither (the sanitizing policy
/// drops them, with or without such a rule).
#[test]
fn remove_selectors_match_classes_and_ids_the_store_never_keeps() {
    let server = FeedServer::start();
    let html = "&lt;p class=\"lead\"&gt;The bridge reopens on Monday.&lt;/p&gt;\
                &lt;div class=\"ad wide\"&gt;Buy the new phone&lt;/div&gt;\
                &lt;aside id=\"promo\"&gt;Subscribe for more&lt;/aside&gt;\
                &lt;p&gt;Repairs took &lt;span class=\"ad\"&gt;[advert]&lt;/span&gt;two years.&lt;/p&gt;";
    server.set(
        "/news.xml",
        Route::feed(feed_doc(&[(
            "n1",
            "https://site.example/1",
            "Bridge",
            html,
        )])),
    );
    server.set(
        "/other.xml",
        Route::feed(feed_doc(&[(
            "o1",
            "https://other.example/1",
            "Bridge too",
            html,
        )])),
    );
    let s = Scratch::new();
    write(
        &s,
        &server.url("/news.xml"),
        &server.url("/other.xml"),
        "[[rules]]\nname = \"tidy\"\nfeeds = [\"news\"]\n\
         then.rewrite.remove = [\".ad\", \"aside#promo\"]\n",
    );
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html_of = |guid: &str| {
        rows(
            &s,
            &format!(
                "SELECT coalesce(h.summary_html, '') || coalesce(h.content_html, '') \
                 FROM articles a JOIN article_html h ON h.id = a.id JOIN entries e ON e.article_id = a.id WHERE e.guid = '{guid}'"
            ),
        )
        .remove(0)
    };
    let news = html_of("n1");
    assert!(news.contains("The bridge reopens on Monday."), "{news}");
    assert!(news.contains("two years."), "{news}");
    for gone in ["Buy the new phone", "Subscribe for more", "[advert]"] {
        assert!(!news.contains(gone), "{gone} left in {news}");
    }
    // The feed without the rule keeps everything; neither keeps the
    // attributes.
    let other = html_of("o1");
    for kept in ["Buy the new phone", "Subscribe for more", "[advert]"] {
        assert!(other.contains(kept), "{kept} missing from {other}");
    }
    for stored in [&news, &other] {
        assert!(
            !stored.contains("class=") && !stored.contains("id="),
            "{stored}"
        );
    }
    // The text (search, dedup) follows the removal.
    let text = rows(
        &s,
        "SELECT t.content_text FROM article_text t JOIN entries e ON e.article_id = t.id \
         WHERE e.guid = 'n1'",
    )
    .remove(0);
    assert!(
        !text.contains("Buy the new phone") && text.contains("Monday"),
        "{text}"
    );
}

#[test]
fn bad_rules_are_config_errors_with_file_and_line() {
    let s = Scratch::new();
    let cases = [
        (
            "[[rules]]\nif.title = \"(oops\"\nthen = \"drop\"\n",
            ":13:12: invalid regular expression `(oops`",
        ),
        (
            "[[rules]]\nthen.rewrite.remove = \"p > > a\"\n",
            ":13:1: invalid selector `p > > a`",
        ),
        ("[[rules]]\nif.titel = \"x\"\nthen = \"drop\"\n", ":13:"),
        (
            "[[outputs]]\nname = \"x\"\nmarks = [\"starred\"]\n",
            ":14:10: no rule adds the mark `starred`",
        ),
    ];
    for (rules, want) in cases {
        write(&s, "https://a.example/f", "https://b.example/f", rules);
        let out = s.tributary(&["check"]);
        assert_eq!(out.status.code(), Some(2), "{rules}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("tributary.toml{want}")),
            "{rules}\nwant {want}\ngot {err}"
        );
    }
}

#[test]
fn a_rule_added_on_sighup_drops_items_of_the_next_fetch() {
    let server = FeedServer::start();
    let first = [("n1", "https://site.example/1", "Quiet news", "x")];
    server.set("/news.xml", Route::feed(feed_doc(&first)));
    server.set(
        "/other.xml",
        Route::feed(feed_doc(&[("o1", "https://other.example/1", "Other", "x")])),
    );
    let s = Scratch::new();
    let schedule = "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\n\
                    shutdown_grace = \"1s\"\n[fetch]\nhost_gap = \"0s\"\n";
    write(
        &s,
        &server.url("/news.xml"),
        &server.url("/other.xml"),
        schedule,
    );
    let daemon = Daemon::start(&s, "tributary=info", &[]);
    assert!(
        wait_for(Duration::from_secs(20), || s
            .count_opt("SELECT count(*) FROM entries")
            == Some(2)),
        "first fetch stored: {}",
        daemon.log()
    );
    write(
        &s,
        &server.url("/news.xml"),
        &server.url("/other.xml"),
        &format!(
            "{schedule}[[rules]]\nname = \"loud\"\nif.title = \"^BREAKING\"\nthen = \"drop\"\n"
        ),
    );
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &daemon.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    assert!(
        wait_for(Duration::from_secs(20), || daemon
            .log()
            .contains("config reloaded")),
        "{}",
        daemon.log()
    );
    let mut next = first.to_vec();
    next.push(("n2", "https://site.example/2", "BREAKING: loud", "x"));
    next.push(("n3", "https://site.example/3", "Calm follow-up", "x"));
    server.set("/news.xml", Route::feed(feed_doc(&next)));
    assert!(
        wait_for(Duration::from_secs(20), || s
            .count_opt("SELECT count(*) FROM entries WHERE guid = 'n3'")
            == Some(1)),
        "{}",
        daemon.log()
    );
    assert_eq!(
        rows(&s, "SELECT guid || ' ' || rule FROM dropped_entries"),
        ["n2 loud"]
    );
    assert_eq!(s.count("SELECT count(*) FROM entries WHERE guid = 'n2'"), 0);
    let (code, _) = daemon.stop();
    assert_eq!(code, Some(0));
}
