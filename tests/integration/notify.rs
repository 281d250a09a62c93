//! Notifications (`[[notify]]`): the real daemon against a loopback feed
//! server and loopback receivers playing a webhook endpoint and an ntfy
//! server, plus a command target. What arrives, what is selected, feed
//! health, delivery after SIGKILL and after an outage (batched), the rate
//! limit, SIGHUP, and config errors.

use std::process::Command;
use std::time::Duration;

use crate::child::{wait_for, Daemon};
use crate::util::*;

mod receiver;

use receiver::Receiver;

const FAST: &str = "[schedule]\ndefault = \"* * * * * *\"\nstartup_spread = \"100ms\"\nbackoff_base = \"1s\"\n\
                    backoff_max = \"2s\"\nshutdown_grace = \"1s\"\n[fetch]\nhost_gap = \"0s\"\ntimeout = \"10s\"\n\
                    [server]\nenabled = false\n";

/// Serves `titles` as feed `path`, each with its own guid and link.
fn publish(server: &FeedServer, path: &str, titles: &[&str]) {
    let items: Vec<(String, String)> = titles
        .iter()
        .map(|t| {
            let slug = t.to_lowercase().replace(' ', "-");
            (slug.clone(), format!("https://news.example/{slug}"))
        })
        .collect();
    let refs: Vec<(Option<&str>, Option<&str>, &str)> = items
        .iter()
        .zip(titles)
        .map(|((g, l), t)| (Some(g.as_str()), Some(l.as_str()), *t))
        .collect();
    server.set(path, Route::feed(rss("Wire", &refs)));
}

/// Writes the config: `FAST`, one `[[feeds]]` per (name, url, tags), then
/// `notify` (the `[[notify]]` tables).
fn configure(s: &Scratch, feeds: &[(&str, String, &[&str])], notify: &str) {
    let mut text = format!("[store]\npath = \"tributary.db\"\n{FAST}\n");
    for (name, url, tags) in feeds {
        let tags: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
        text.push_str(&format!(
            "[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\ntags = [{}]\n\n",
            tags.join(", ")
        ));
    }
    text.push_str(notify);
    std::fs::write(s.config_path(), text).unwrap();
}

/// Waits until every feed was fetched once (its first document is the
/// backlog, which is not announced).
fn fetched_once(s: &Scratch, feeds: i64) {
    assert!(
        wait_for(Duration::from_secs(15), || {
            s.count_opt("SELECT count(*) FROM feeds WHERE last_fetch_at IS NOT NULL") == Some(feeds)
        }),
        "feeds were not fetched"
    );
}

fn titles(r: &receiver::Request) -> Vec<String> {
    let mut t: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

/// `GET /metrics` from the daemon's server on `port`.
fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    c.read_to_string(&mut text).unwrap();
    text
}

/// The value of the sample `name` (with its labels) in a scrape.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

fn hup(d: &Daemon) {
    let ok = Command::new("kill")
        .arg("-HUP")
        .arg(d.pid().to_string())
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn a_webhook_gets_new_articles_as_json_feed_items_with_keys_once() {
    let server = FeedServer::start();
    let hook = Receiver::start();
    publish(&server, "/wire.xml", &["Old news"]);
    let s = Scratch::new();
    configure(
        &s,
        &[("wire", server.url("/wire.xml"), &["news"])],
        &format!(
            "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\nbatch_window = \"1s\"\n\
             headers = {{ X-Token = {{ env = \"HOOK_TOKEN\" }} }}\n",
            hook.url("/hook")
        ),
    );
    let d = Daemon::start(&s, "tributary=debug", &[("HOOK_TOKEN", "t0ken")]);
    fetched_once(&s, 1);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        s.count("SELECT count(*) FROM notify_outbox"),
        0,
        "the backlog is not news"
    );
    assert!(hook.requests().is_empty());

    publish(
        &server,
        "/wire.xml",
        &["Old news", "Harbour bridge opens", "Ferry strike ends"],
    );
    assert!(
        wait_for(Duration::from_secs(15), || hook.accepted_keys().len() >= 2),
        "nothing delivered:\n{}",
        d.log()
    );
    // Further polls find nothing new: nothing more is sent.
    std::thread::sleep(Duration::from_secs(3));
    let (_, log) = d.stop();
    let got = hook.requests();
    assert_eq!(
        got.len(),
        1,
        "both arrived in one fetch, so one message:\n{log}"
    );
    let r = &got[0];
    assert_eq!(r.path, "/hook");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("x-token"),
        Some("t0ken"),
        "headers from the environment"
    );
    let doc = r.json();
    assert_eq!(doc["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(titles(r), ["Ferry strike ends", "Harbour bridge opens"]);
    let keys = r.item_keys();
    assert!(keys
        .iter()
        .all(|k| k.len() == 32 && k.chars().all(|c| c.is_ascii_hexdigit())));
    assert_ne!(keys[0], keys[1]);
    let header_key = r.header("idempotency-key").expect("Idempotency-Key");
    assert_eq!(doc["_tributary"]["notify"]["key"], header_key);
    assert_eq!(doc["_tributary"]["notify"]["count"], 2);
    for item in doc["items"].as_array().unwrap() {
        assert_eq!(item["_tributary"]["notify"]["kind"], "article");
        assert!(item["url"]
            .as_str()
            .unwrap()
            .starts_with("https://news.example/"));
    }
    // The outbox says so, and so does the status command.
    assert_eq!(
        s.count(
            "SELECT count(*) FROM notify_outbox WHERE delivered_at IS NOT NULL AND attempts = 0"
        ),
        2
    );
    assert_eq!(
        s.count("SELECT count(*) FROM notify_log WHERE ok AND items = 2"),
        1
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .args(["notify", "status"])
        .env("HOOK_TOKEN", "t0ken")
        .output()
        .unwrap();
    let status = stdout(&out);
    assert!(
        status.contains("hook (webhook): 0 waiting"),
        "{status}{}",
        stderr(&out)
    );
    assert!(status.contains("2 delivered in 1 message(s)"), "{status}");
}

#[test]
fn ntfy_gets_title_tags_click_and_text_and_a_command_gets_json_on_stdin() {
    let server = FeedServer::start();
    let ntfy = Receiver::start();
    publish(&server, "/wire.xml", &["Old news"]);
    let s = Scratch::new();
    let out_dir = s.dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    configure(
        &s,
        &[("wire", server.url("/wire.xml"), &[])],
        &format!(
            "[[notify]]\nname = \"phone\"\nkind = \"ntfy\"\nserver = \"{}\"\ntopic = \"alerts\"\npriority = 4\n\
             token = {{ env = \"NTFY_TOKEN\" }}\nbatch_window = \"0s\"\n\n\
             [[notify]]\nname = \"script\"\nkind = \"command\"\nbatch_window = \"0s\"\n\
             command = [\"sh\", \"-c\", \"cat > {}/$TRIBUTARY_NOTIFY_KEY.json\"]\n",
            ntfy.url(""),
            out_dir.display()
        ),
    );
    let d = Daemon::start(&s, "", &[("NTFY_TOKEN", "tk_secret")]);
    fetched_once(&s, 1);
    publish(&server, "/wire.xml", &["Old news", "Café owners protest"]);
    assert!(
        wait_for(Duration::from_secs(15), || {
            !ntfy.accepted().is_empty() && std::fs::read_dir(&out_dir).unwrap().count() == 1
        }),
        "not delivered:\n{}",
        d.log()
    );
    d.stop();
    let got = ntfy.requests();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.path, "/alerts");
    // Non-ASCII titles travel as an RFC 2047 encoded word, as ntfy reads them.
    assert_eq!(
        r.header("title"),
        Some("=?UTF-8?B?Q2Fmw6kgb3duZXJzIHByb3Rlc3Q=?=")
    );
    assert_eq!(r.header("tags"), Some("wire"));
    let link = "https://news.example/caf%C3%A9-owners-protest";
    assert_eq!(r.header("click"), Some(link));
    assert_eq!(r.header("priority"), Some("4"));
    assert_eq!(r.header("authorization"), Some("Bearer tk_secret"));
    assert!(r.header("idempotency-key").is_some());
    let text = String::from_utf8(r.body.clone()).unwrap();
    assert!(text.contains("Body of Café owners protest."), "{text}");
    assert!(text.ends_with(link), "{text}");

    let file = std::fs::read_dir(&out_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let key = file
        .path()
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
    assert_eq!(doc["items"][0]["title"], "Café owners protest");
    assert_eq!(doc["items"][0]["_tributary"]["notify"]["key"], key.as_str());
    assert_eq!(doc["_tributary"]["notify"]["target"], "script");
}

#[test]
fn targets_select_by_keywords_matchers_tags_and_story_size() {
    let server = FeedServer::start();
    let rx = Receiver::start();
    publish(&server, "/wire.xml", &["Wire seed"]);
    publish(&server, "/blog.xml", &["Blog seed"]);
    publish(&server, "/mirror.xml", &["Mirror seed"]);
    let s = Scratch::new();
    let hook = |name: &str, extra: &str| {
        format!(
            "[[notify]]\nname = \"{name}\"\nkind = \"webhook\"\nurl = \"{}\"\nbatch_window = \"0s\"\n{extra}\n",
            rx.url(&format!("/{name}"))
        )
    };
    configure(
        &s,
        &[
            ("wire", server.url("/wire.xml"), &["news"]),
            ("blog", server.url("/blog.xml"), &["tech"]),
            ("mirror", server.url("/mirror.xml"), &["news"]),
        ],
        &[
            hook("kw", "keywords = [\"bridge\", \"tunnel\"]"),
            hook(
                "tech",
                "tags = [\"tech\"]\n[notify.if]\ntitle = \"(?i)rust\"",
            ),
            hook("big", "min_story_feeds = 2"),
        ]
        .concat(),
    );
    let d = Daemon::start(&s, "", &[]);
    fetched_once(&s, 3);
    publish(
        &server,
        "/wire.xml",
        &["Wire seed", "Harbour bridge opens", "Budget passes"],
    );
    publish(
        &server,
        "/blog.xml",
        &[
            "Blog seed",
            "Rust 2.0 released",
            "Cooking with bridges of flavour",
        ],
    );
    publish(&server, "/mirror.xml", &["Mirror seed", "Budget passes"]);
    assert!(
        wait_for(Duration::from_secs(20), || {
            ["/kw", "/tech", "/big"]
                .iter()
                .all(|p| rx.accepted().iter().any(|r| r.path == *p))
        }),
        "not every target got its message:\n{}",
        d.log()
    );
    std::thread::sleep(Duration::from_secs(3));
    d.stop();
    let of = |path: &str| -> Vec<String> {
        let mut t: Vec<String> = rx
            .accepted()
            .iter()
            .filter(|r| r.path == path)
            .flat_map(titles)
            .collect();
        t.sort();
        t
    };
    // Whole words, any case: "bridges" is not "bridge".
    assert_eq!(of("/kw"), ["Harbour bridge opens"]);
    assert_eq!(of("/tech"), ["Rust 2.0 released"]);
    // Carried by wire and mirror (the same link): announced once, as a story.
    assert_eq!(of("/big"), ["Budget passes"]);
    let big = rx
        .accepted()
        .into_iter()
        .find(|r| r.path == "/big")
        .unwrap();
    assert_eq!(
        big.json()["items"][0]["_tributary"]["notify"]["story_feeds"],
        2
    );
}

#[test]
fn feed_health_events_are_announced_once_each() {
    let server = FeedServer::start();
    let rx = Receiver::start();
    publish(&server, "/flaky.xml", &["Flaky seed"]);
    server.set("/old.xml", Route::feed("gone").status(410));
    server.set(
        "/moving.xml",
        Route::feed("")
            .status(301)
            .header("Location", &server.url("/moved.xml")),
    );
    publish(&server, "/moved.xml", &["Moved seed"]);
    let s = Scratch::new();
    configure(
        &s,
        &[
            ("flaky", server.url("/flaky.xml"), &[]),
            ("old", server.url("/old.xml"), &[]),
            ("moving", server.url("/moving.xml"), &[]),
        ],
        &format!(
            "[[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{}\"\nbatch_window = \"0s\"\narticles = false\n\
             [notify.health]\nfailing_for = \"3s\"\nmoved = true\ngone = true\n",
            rx.url("/ops")
        ),
    );
    let d = Daemon::start(&s, "", &[]);
    fetched_once(&s, 3);
    server.set("/flaky.xml", Route::feed("down").status(500));
    let events = || -> Vec<(String, String)> {
        let mut e: Vec<(String, String)> = rx
            .accepted()
            .iter()
            .flat_map(|r| r.json()["items"].as_array().unwrap().clone())
            .map(|i| {
                let ev = &i["_tributary"]["notify"]["event"];
                (
                    ev["event"].as_str().unwrap().to_string(),
                    ev["feed"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        e.sort();
        e
    };
    assert!(
        wait_for(Duration::from_secs(25), || events().len() >= 3),
        "events so far: {:?}\n{}",
        events(),
        d.log()
    );
    // More failing fetches, more redirects: no repeat.
    std::thread::sleep(Duration::from_secs(4));
    d.stop();
    assert_eq!(
        events(),
        [
            ("failing".to_string(), "flaky".to_string()),
            ("gone".to_string(), "old".to_string()),
            ("moved".to_string(), "moving".to_string()),
        ]
    );
    let failing = rx
        .accepted()
        .iter()
        .flat_map(|r| r.json()["items"].as_array().unwrap().clone())
        .find(|i| i["_tributary"]["notify"]["event"]["event"] == "failing")
        .unwrap();
    assert!(failing["title"]
        .as_str()
        .unwrap()
        .starts_with("Feed flaky failing for"));
    assert!(
        failing["summary"].as_str().unwrap().contains("HTTP 500"),
        "{failing}"
    );
}

/// A feed `wire` serving "Seed", and a scratch config with the webhook
/// target `hook` (at `/hook` of `hook`) with `extra` settings.
fn wire_and_hook(hook: &Receiver, extra: &str) -> (FeedServer, Scratch) {
    let server = FeedServer::start();
    publish(&server, "/wire.xml", &["Seed"]);
    let s = Scratch::new();
    configure(
        &s,
        &[("wire", server.url("/wire.xml"), &[])],
        &format!(
            "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n{extra}\n",
            hook.url("/hook")
        ),
    );
    (server, s)
}

/// Starts the daemon again and checks that the `n` notifications queued
/// arrive, each key accepted exactly once, and leave the outbox.
fn restart_and_expect_each_once(s: &Scratch, hook: &Receiver, n: usize) {
    let d = Daemon::start(s, "", &[]);
    assert!(
        wait_for(Duration::from_secs(20), || hook.distinct_keys().len() == n),
        "not delivered after the restart:\n{}",
        d.log()
    );
    std::thread::sleep(Duration::from_secs(2));
    d.stop();
    assert_eq!(hook.accepted_keys().len(), n, "each key exactly once");
    assert_eq!(
        s.count("SELECT count(*) FROM notify_outbox WHERE delivered_at IS NULL"),
        0
    );
}

/// Publishes three new items after the daemon's first fetch and waits
/// until the outbox holds them (committed, not delivered).
fn three_queued(s: &Scratch, server: &FeedServer) {
    fetched_once(s, 1);
    publish(server, "/wire.xml", &["Seed", "One", "Two", "Three"]);
    assert!(
        wait_for(Duration::from_secs(10), || {
            s.count_opt("SELECT count(*) FROM notify_outbox WHERE delivered_at IS NULL") == Some(3)
        }),
        "nothing queued"
    );
}

#[test]
fn a_notification_survives_sigkill_between_commit_and_delivery_and_arrives_once() {
    let hook = Receiver::start();
    let (server, s) = wire_and_hook(&hook, "batch_window = \"6s\"");
    let d = Daemon::start(&s, "", &[]);
    three_queued(&s, &server);
    d.kill9();
    assert!(hook.requests().is_empty(), "killed inside the batch window");
    restart_and_expect_each_once(&s, &hook, 3);
}

#[test]
fn a_receiver_down_across_a_sigkill_gets_everything_afterwards_once() {
    let hook = Receiver::start();
    hook.answer(503);
    let (server, s) = wire_and_hook(
        &hook,
        "batch_window = \"0s\"\nbackoff_base = \"1s\"\nbackoff_max = \"2s\"",
    );
    let d = Daemon::start(&s, "", &[]);
    three_queued(&s, &server);
    assert!(wait_for(Duration::from_secs(10), || {
        s.count_opt("SELECT count(*) FROM notify_log WHERE NOT ok")
            .unwrap_or(0)
            >= 1
    }));
    d.kill9();
    // The failure and the next attempt's time are in the store.
    assert!(s.count("SELECT max(attempts) FROM notify_outbox") >= 1);
    assert_eq!(
        s.count("SELECT count(*) FROM notify_outbox WHERE next_attempt_at IS NOT NULL"),
        3
    );
    hook.answer(200);
    restart_and_expect_each_once(&s, &hook, 3);
    assert!(hook.requests().iter().any(|r| r.status == 503));
}

#[test]
fn a_receiver_down_for_a_while_gets_everything_afterwards_batched() {
    let hook = Receiver::start();
    hook.answer(503);
    let (server, s) = wire_and_hook(
        &hook,
        "batch_window = \"0s\"\nmax_batch = 50\nbackoff_base = \"1s\"\nbackoff_max = \"2s\"",
    );
    // The server on, for /metrics.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(s.config_path()).unwrap();
    let text = text.replace(
        "[server]\nenabled = false",
        &format!("[server]\nlisten = \"127.0.0.1:{port}\""),
    );
    std::fs::write(s.config_path(), text).unwrap();
    let d = Daemon::start(&s, "", &[]);
    fetched_once(&s, 1);
    let mut titles_now = vec!["Seed".to_string()];
    for round in 0..4 {
        titles_now.push(format!("Round {round} first"));
        titles_now.push(format!("Round {round} second"));
        let refs: Vec<&str> = titles_now.iter().map(String::as_str).collect();
        publish(&server, "/wire.xml", &refs);
        std::thread::sleep(Duration::from_millis(1500));
    }
    assert!(wait_for(Duration::from_secs(10), || {
        s.count_opt("SELECT count(*) FROM notify_outbox")
            .unwrap_or(0)
            == 8
    }));
    assert!(
        hook.requests().len() >= 2,
        "the receiver was tried while down"
    );
    assert!(hook.accepted().is_empty());
    let sample =
        |name: &str| -> f64 { metric(&scrape(port), &format!("{name}{{target=\"hook\"}}")) };
    assert_eq!(sample("tributary_notify_pending"), 8.0);
    assert!(sample("tributary_notify_failed_attempts_total") >= 2.0);
    hook.answer(200);
    assert!(
        wait_for(Duration::from_secs(15), || hook.distinct_keys().len() == 8),
        "not everything arrived:\n{}",
        d.log()
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(sample("tributary_notify_delivered_total"), 8.0);
    assert!(
        !scrape(port).contains("tributary_notify_pending{"),
        "nothing waits"
    );
    d.stop();
    let messages = hook.accepted().len();
    assert_eq!(hook.accepted_keys().len(), 8, "each item once");
    assert!(messages < 8, "batched: {messages} messages for 8 items");
    assert_eq!(messages, 1, "all that waited went in one message");
}

#[test]
fn the_rate_limit_holds_messages_back() {
    let hook = Receiver::start();
    let (server, s) = wire_and_hook(
        &hook,
        "batch_window = \"0s\"\nmax_batch = 1\nmax_per_minute = 2",
    );
    let d = Daemon::start(&s, "", &[]);
    fetched_once(&s, 1);
    publish(&server, "/wire.xml", &["Seed", "A", "B", "C", "D", "E"]);
    assert!(wait_for(Duration::from_secs(10), || hook.requests().len() == 2));
    std::thread::sleep(Duration::from_secs(4));
    d.stop();
    assert_eq!(hook.requests().len(), 2, "two messages a minute");
    assert_eq!(
        s.count("SELECT count(*) FROM notify_outbox WHERE delivered_at IS NULL"),
        3
    );
    let status = stdout(&s.tributary(&["notify", "status"]));
    assert!(status.contains("hook (webhook): 3 waiting"), "{status}");
}

#[test]
fn sighup_replaces_the_targets() {
    let server = FeedServer::start();
    let rx = Receiver::start();
    publish(&server, "/wire.xml", &["Seed"]);
    let s = Scratch::new();
    let target = |name: &str| {
        format!(
            "[[notify]]\nname = \"{name}\"\nkind = \"webhook\"\nurl = \"{}\"\nbatch_window = \"0s\"\n",
            rx.url(&format!("/{name}"))
        )
    };
    let feeds = [("wire", server.url("/wire.xml"), &[][..])];
    configure(&s, &feeds, &target("first"));
    let d = Daemon::start(&s, "", &[]);
    fetched_once(&s, 1);
    publish(&server, "/wire.xml", &["Seed", "Before"]);
    assert!(wait_for(Duration::from_secs(10), || rx.accepted().len() == 1));

    configure(&s, &feeds, &target("second"));
    hup(&d);
    assert!(wait_for(Duration::from_secs(10), || d
        .log()
        .contains("config reloaded")));
    publish(&server, "/wire.xml", &["Seed", "Before", "After"]);
    assert!(
        wait_for(Duration::from_secs(10), || rx.accepted().len() == 2),
        "{}",
        d.log()
    );
    std::thread::sleep(Duration::from_secs(2));
    d.stop();
    let got: Vec<(String, Vec<String>)> = rx
        .accepted()
        .iter()
        .map(|r| (r.path.clone(), titles(r)))
        .collect();
    assert_eq!(
        got,
        [
            ("/first".to_string(), vec!["Before".to_string()]),
            ("/second".to_string(), vec!["After".to_string()]),
        ]
    );
}

#[test]
fn notify_test_sends_one_message_and_says_when_it_is_refused() {
    let rx = Receiver::start();
    let s = Scratch::new();
    s.write_config(
        &format!(
            "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n\
             template = '{{\"text\": \"{{{{title}}}}: {{{{count}}}} item\"}}'\n",
            rx.url("/t")
        ),
        &[],
    );
    let out = s.tributary(&["notify", "test", "hook"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = rx.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].json(),
        serde_json::json!({"text": "Tributary test notification: 1 item"})
    );
    rx.answer(500);
    let out = s.tributary(&["notify", "test", "hook"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("HTTP 500"), "{}", stderr(&out));
    let out = s.tributary(&["notify", "test", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_bad_target_is_refused_with_its_place() {
    let s = Scratch::new();
    let cases = [
        ("[[notify]]\nname = \"x\"\nkind = \"pager\"\n", "unknown notify kind `pager`"),
        ("[[notify]]\nname = \"x\"\nkind = \"webhook\"\n", "needs `url`"),
        (
            "[[notify]]\nname = \"x\"\nkind = \"webhook\"\nurl = \"http://h/\"\ntopic = \"t\"\n",
            "`topic` is for kind = ntfy",
        ),
        (
            "[[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"t\"\nfeeds = [\"nope\"]\n",
            "no feed named `nope`",
        ),
        (
            "[[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"t\"\n[notify.if]\ntitle = \"(\"\n",
            "invalid regular expression",
        ),
        (
            "[[notify]]\nname = \"x\"\nkind = \"command\"\ncommand = []\n",
            "command is a list",
        ),
    ];
    for (toml, why) in cases {
        s.write_config(toml, &[]);
        let out = s.tributary(&["check"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{toml}: {err}");
        assert!(err.contains("tributary.toml:"), "{err}");
        assert!(err.contains(why), "{toml}: {err}");
    }
}

#[test]
fn tributary_fetch_queues_and_notify_send_delivers_without_a_daemon() {
    let hook = Receiver::start();
    // The default batch window (10 s) is not waited for by `notify send`.
    let (server, s) = wire_and_hook(&hook, "");
    let fetch = |s: &Scratch| {
        let out = s.tributary(&["fetch"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    fetch(&s);
    publish(
        &server,
        "/wire.xml",
        &["Seed", "Late edition", "Night owls"],
    );
    fetch(&s);
    assert_eq!(
        s.count("SELECT count(*) FROM notify_outbox WHERE delivered_at IS NULL"),
        2
    );
    assert!(hook.requests().is_empty(), "a fetch only queues");
    let out = s.tributary(&["notify", "send"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 message(s) sent with 2 notification(s); 0 attempt(s) failed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(titles(&hook.accepted()[0]), ["Late edition", "Night owls"]);
    // Nothing waits any more; a refusal is an exit status 1 and stays queued.
    let out = s.tributary(&["notify", "send"]);
    assert!(stdout(&out).starts_with("0 message(s)"), "{}", stdout(&out));
    publish(
        &server,
        "/wire.xml",
        &["Seed", "Late edition", "Night owls", "Dawn"],
    );
    fetch(&s);
    hook.answer(500);
    let out = s.tributary(&["notify", "send"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        s.count("SELECT count(*) FROM notify_outbox WHERE delivered_at IS NULL"),
        1
    );
    let status = stdout(&s.tributary(&["notify", "status"]));
    assert!(
        status.contains("1 waiting") && status.contains("last error: HTTP 500"),
        "{status}"
    );
}

#[test]
fn a_slow_target_holds_no_other_back_and_a_stop_ends_its_command() {
    let hook = Receiver::start();
    let (server, s) = wire_and_hook(
        &hook,
        "batch_window = \"0s\"\n[[notify]]\nname = \"slow\"\nkind = \"command\"\n\
         command = [\"sleep\", \"60\"]\ntimeout = \"120s\"\nbatch_window = \"0s\"",
    );
    let d = Daemon::start(&s, "", &[]);
    fetched_once(&s, 1);
    publish(&server, "/wire.xml", &["Seed", "Quick news"]);
    assert!(
        wait_for(Duration::from_secs(10), || hook.accepted().len() == 1),
        "the webhook waited for the command:\n{}",
        d.log()
    );
    // The command runs: a `sleep` whose parent is the daemon.
    let pid = d.pid().to_string();
    let running = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|p| {
            std::fs::read_to_string(p.path().join("stat")).is_ok_and(|st| {
                let fields: Vec<&str> = st.split_whitespace().collect();
                fields.get(1) == Some(&"(sleep)") && fields.get(3) == Some(&pid.as_str())
            })
        })
    };
    assert!(
        wait_for(Duration::from_secs(5), running),
        "the command did not start"
    );
    let started = std::time::Instant::now();
    let (code, log) = d.stop();
    assert!(!running(), "the command outlived the daemon");
    assert_eq!(code, Some(0), "{log}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // The command's notification was not delivered: it waits for next time.
    assert_eq!(
        s.count(
            "SELECT count(*) FROM notify_outbox WHERE target = 'slow' AND delivered_at IS NULL"
        ),
        1
    );
}
