//! Commands that edit the config file through the real binary: `add`
//! (with feed discovery), `remove`, `import-opml` and `export-opml`, and a
//! running daemon picking an added feed up on SIGHUP.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// A config with comments and blank lines in places an editor must keep.
fn commented_config(s: &Scratch, feeds: &str) -> String {
    let text = format!(
        "# Tributary, hand-written.\n[store]\npath = \"tributary.db\"   # beside this file\n\n\
         [fetch]\nhost_gap = \"0s\"\n\n# --- feeds ---\n{feeds}\n# (end)\n"
    );
    std::fs::write(s.config_path(), &text).unwrap();
    text
}

fn read(s: &Scratch) -> String {
    std::fs::read_to_string(s.config_path()).unwrap()
}

fn page(links: &str) -> Route {
    let mut r = Route::feed(format!(
        "<!DOCTYPE html><html><head><title>Notes</title>{links}</head><body>hi</body></html>"
    ));
    r.content_type = "text/html; charset=utf-8".into();
    r
}

#[test]
fn add_discovers_checks_names_and_keeps_the_layout_then_remove_restores_it() {
    let server = FeedServer::start();
    server.set(
        "/blog/",
        page(r#"<link rel="alternate" type="application/rss+xml" href="feed.xml">"#),
    );
    server.set(
        "/blog/feed.xml",
        Route::feed(rss(
            "Harbour Notes: All",
            &[(Some("1"), Some("https://h.example/1"), "One")],
        )),
    );
    let s = Scratch::new();
    let original = commented_config(&s, "");

    let out = s.tributary(&["add", &server.url("/blog/"), "--tags", "News, local"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("added harbour-notes-all:") && text.contains("announced by the page"),
        "{text}"
    );
    assert!(
        text.contains("systemctl reload tributary") && text.contains("kill -HUP"),
        "{text}"
    );
    let feed_url = server.url("/blog/feed.xml");
    assert_eq!(
        read(&s),
        format!("{original}\n[[feeds]]\nname = \"harbour-notes-all\"\nurl = \"{feed_url}\"\ntags = [\"news\", \"local\"]\n")
    );
    assert!(s.tributary(&["check"]).status.success());

    // The same feed again, by its page or its own URL, or the same name: refused.
    for args in [
        vec!["add", feed_url.as_str()],
        vec!["add", &server.url("/blog/")],
    ] {
        let out = s.tributary(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("already in the config as `harbour-notes-all`"),
            "{}",
            stderr(&out)
        );
    }
    server.set(
        "/other.xml",
        Route::feed(rss("Other", &[(Some("1"), None, "x")])),
    );
    let out = s.tributary(&[
        "add",
        &server.url("/other.xml"),
        "--name",
        "harbour-notes-all",
    ]);
    assert!(stderr(&out).contains("already"), "{}", stderr(&out));
    // Without --name, a title already taken gets a suffix.
    server.set(
        "/same-title.xml",
        Route::feed(rss("Harbour Notes: All", &[(Some("1"), None, "x")])),
    );
    let out = s.tributary(&["add", &server.url("/same-title.xml")]);
    assert!(
        stdout(&out).contains("added harbour-notes-all-2:"),
        "{}",
        stdout(&out)
    );

    // A page that announces nothing: the usual places are tried.
    server.set("/quiet/", page(""));
    server.set(
        "/quiet/rss.xml",
        Route::feed(rss("Quiet", &[(Some("1"), None, "x")])),
    );
    let out = s.tributary(&["add", &server.url("/quiet/")]);
    assert!(
        stdout(&out).contains(&format!("added quiet: {}", server.url("/quiet/rss.xml"))),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // Not a feed and no feed to find: refused, config untouched.
    let before = read(&s);
    server.set("/nothing/", page(""));
    let out = s.tributary(&["add", &server.url("/nothing/")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no feed was found"),
        "{}",
        stderr(&out)
    );
    let mut text_route = Route::feed("just some words");
    text_route.content_type = "text/plain".into();
    server.set("/words.txt", text_route);
    let out = s.tributary(&["add", &server.url("/words.txt")]);
    assert!(
        stderr(&out).contains("is not a feed: not a feed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&s), before);

    // Removing everything that was added gives back the original bytes.
    for name in ["quiet", "harbour-notes-all-2", "harbour-notes-all"] {
        let out = s.tributary(&["remove", name]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("systemctl reload tributary"));
    }
    assert_eq!(read(&s), original);
    let out = s.tributary(&["remove", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

const OPML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="News">
      <outline type="rss" text="Wire &amp; Co" title="Wire &amp; Co" xmlUrl="URL/wire.xml"/>
      <outline text="World">
        <outline type="rss" title="Globe" xmlUrl="URL/globe.xml" htmlUrl="https://globe.example/"/>
      </outline>
    </outline>
    <outline type="rss" text="loose" xmlUrl="URL/loose.xml" category="Misc"/>
    <outline type="rss" text="again" xmlUrl="URL/loose.xml"/>
    <outline type="rss" text="bad" xmlUrl="javascript:alert(1)"/>
  </body>
</opml>
"#;

fn feeds_of(s: &Scratch) -> Vec<(String, String, Vec<String>)> {
    let c = tributary::config::Config::load(&s.config_path()).unwrap();
    let mut v: Vec<_> = c
        .feeds
        .iter()
        .map(|f| (f.name.clone(), f.url.to_string(), f.tags.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn opml_import_export_round_trip_loses_nothing() {
    let s = Scratch::new();
    let original = commented_config(
        &s,
        "[[feeds]]\nname = \"kept\"\nurl = \"https://kept.example/f\"\n",
    );
    let opml = s.dir.path().join("subs.opml");
    std::fs::write(&opml, OPML.replace("URL", "https://feeds.example")).unwrap();
    let out = s.tributary(&["import-opml", opml.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("3 feeds added") && text.contains("2 skipped"),
        "{text}"
    );
    assert!(
        text.contains("skipped https://feeds.example/loose.xml: already there as `loose`"),
        "{text}"
    );
    assert!(
        text.contains("skipped javascript:alert(1): not an http(s) URL"),
        "{text}"
    );
    assert!(read(&s).starts_with(&original), "{}", read(&s));
    assert_eq!(
        feeds_of(&s),
        [
            (
                "globe".into(),
                "https://feeds.example/globe.xml".into(),
                vec!["news".into(), "world".into()]
            ),
            ("kept".into(), "https://kept.example/f".into(), vec![]),
            (
                "loose".into(),
                "https://feeds.example/loose.xml".into(),
                vec!["misc".into()]
            ),
            (
                "wire-co".into(),
                "https://feeds.example/wire.xml".into(),
                vec!["news".into()]
            ),
        ]
    );
    // Importing the same list again adds nothing.
    let out = s.tributary(&["import-opml", opml.to_str().unwrap()]);
    assert!(stdout(&out).contains("0 feeds added"), "{}", stdout(&out));

    // Export, then import into a fresh config: the same feeds, names and tags.
    let out = s.tributary(&["export-opml"]);
    assert!(out.status.success());
    let exported = stdout(&out);
    assert!(
        exported.contains("<opml version=\"2.0\">") && exported.contains("<dateCreated>"),
        "{exported}"
    );
    let fresh = Scratch::new();
    commented_config(&fresh, "");
    let file = fresh.dir.path().join("exported.opml");
    std::fs::write(&file, &exported).unwrap();
    let out = fresh.tributary(&["import-opml", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(feeds_of(&fresh), feeds_of(&s));
}

#[test]
fn malformed_opml_is_refused_clearly() {
    let s = Scratch::new();
    let original = commented_config(&s, "");
    let bad = s.dir.path().join("bad.opml");
    for (doc, says) in [
        ("<opml version=\"2.0\"><body>\n<outline xmlUrl=\"https://x.example/f\">\n</body></opml>", "malformed XML at line 3"),
        ("<rss version=\"2.0\"><channel/></rss>", "not an OPML subscription list"),
        ("<opml version=\"2.0\"><body/></opml>", "no feeds"),
    ] {
        std::fs::write(&bad, doc).unwrap();
        let out = s.tributary(&["import-opml", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{doc}");
        let err = stderr(&out);
        assert!(err.starts_with("error: ") && err.contains(says) && err.lines().count() == 1, "{err}");
    }
    assert_eq!(read(&s), original);
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TRIBUTARY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.join("MANIFEST.jsonl").is_file().then_some(dir)
}

#[test]
fn corpus_opml_files_import_or_are_refused_clearly() {
    let Some(dir) = corpus_dir() else {
        skip("corpus_opml_files_import_or_are_refused_clearly: no corpus (set TRIBUTARY_CORPUS or place it at ../shared/corpus)");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.jsonl")).unwrap();
    let (mut imported, mut refused) = (0, 0);
    for line in manifest.lines() {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        if rec["format"] != "opml" || rec["role"] != "input" {
            continue;
        }
        let path = dir.join(rec["path"].as_str().unwrap());
        let s = Scratch::new();
        commented_config(&s, "");
        let out = s.tributary(&["import-opml", path.to_str().unwrap()]);
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{}: {err}", path.display());
        match out.status.code() {
            Some(0) => {
                imported += 1;
                assert!(
                    s.tributary(&["check"]).status.success(),
                    "{}",
                    path.display()
                );
            }
            Some(1) => {
                refused += 1;
                assert!(
                    err.starts_with("error: ") && err.lines().count() == 1,
                    "{}: {err}",
                    path.display()
                );
            }
            other => panic!("{}: exit {other:?}: {err}", path.display()),
        }
    }
    eprintln!("corpus OPML: {imported} imported, {refused} refused with an error");
    assert!(imported > 0);
}

#[test]
fn a_running_daemon_picks_up_an_added_feed_on_reload() {
    let server = FeedServer::start();
    server.set(
        "/a.xml",
        Route::feed(rss("A", &[(Some("a1"), None, "a one")])),
    );
    server.set(
        "/b.xml",
        Route::feed(rss(
            "Bee",
            &[(Some("b1"), None, "b one"), (Some("b2"), None, "b two")],
        )),
    );
    let s = Scratch::new();
    s.write_config(
        "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\n[fetch]\nhost_gap = \"0s\"\n",
        &[("a", &server.url("/a.xml"))],
    );
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_remove("NOTIFY_SOCKET")
        .spawn()
        .unwrap();
    let wait = |sql: &str, want: i64| {
        let until = Instant::now() + Duration::from_secs(15);
        while Instant::now() < until {
            if s.count_opt(sql) == Some(want) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    assert!(wait("SELECT count(*) FROM entries", 1));
    let out = s.tributary(&["add", &server.url("/b.xml")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let hup = Command::new("kill")
        .arg("-HUP")
        .arg(daemon.id().to_string())
        .status()
        .unwrap();
    assert!(hup.success());
    let picked_up = wait(
        "SELECT count(*) FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE f.name = 'bee'",
        2,
    );
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(daemon.id().to_string())
        .status();
    let _ = daemon.wait();
    assert!(picked_up, "the added feed was not fetched after SIGHUP");
}
