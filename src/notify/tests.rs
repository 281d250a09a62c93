use std::path::Path;

use chrono::{TimeZone, Utc};

use super::message::{self, header_text, Notice, Subject};
use super::*;
use crate::config::Config;
use crate::model::KeyKind;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

/// The config's targets, with feeds `a` (tag `news`) and `b`.
fn targets(notify: &str) -> Config {
    let text = format!(
        "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\ntags = [\"news\"]\n\
         [[feeds]]\nname = \"b\"\nurl = \"https://b.example/f\"\n\
         [[rules]]\nthen = {{ mark = \"hot\" }}\n[rules.if]\ntitle = \"(?i)breaking\"\n{notify}"
    );
    Config::parse(&text, Path::new("/etc/tributary/t.toml")).unwrap()
}

fn entry(title: &str, text: &str) -> Entry {
    Entry {
        key: title.to_string(),
        key_kind: KeyKind::Guid,
        guid: Some(title.to_string()),
        url: Some("https://a.example/story".into()),
        canonical_url: None,
        title: title.to_string(),
        title_derived: false,
        title_original: None,
        authors: vec!["Ann".into()],
        summary_html: None,
        content_html: None,
        content_hash: 1,
        content_text: text.to_string(),
        story_print: None,
        published: now(),
        published_from_feed: true,
        updated: None,
        categories: vec![],
        enclosures: vec![],
        raw_hash: 1,
        content_elided: false,
        item_hash: None,
    }
}

fn wanted(c: &Config, feed: &str, e: &Entry, marks: &[String]) -> Vec<String> {
    let tags = c.feed(feed).unwrap().tags.clone();
    let cand = Candidate {
        feed,
        feed_tags: &tags,
        language: Some("en"),
        entry: e,
        rule_tags: &[],
        marks,
    };
    c.notify
        .iter()
        .filter(|t| wants(t, &cand, now()))
        .map(|t| t.name.clone())
        .collect()
}

#[test]
fn targets_select_with_scope_matchers_keywords_and_marks() {
    let c = targets(
        "[[notify]]\nname = \"all\"\nkind = \"ntfy\"\ntopic = \"t\"\n\
         [[notify]]\nname = \"news\"\nkind = \"ntfy\"\ntopic = \"t\"\ntags = [\"news\"]\n\
         [[notify]]\nname = \"kw\"\nkind = \"ntfy\"\ntopic = \"t\"\nkeywords = [\"Bridge\", \"c++\"]\n\
         [[notify]]\nname = \"hot\"\nkind = \"ntfy\"\ntopic = \"t\"\nmarks = [\"hot\"]\n\
         [[notify]]\nname = \"english\"\nkind = \"ntfy\"\ntopic = \"t\"\nfeeds = [\"b\"]\n\
         [notify.if]\nlanguage = \"en\"\nauthor = \"^Ann$\"\n\
         [[notify]]\nname = \"health\"\nkind = \"ntfy\"\ntopic = \"t\"\narticles = false\n\
         [notify.health]\ngone = true\n",
    );
    let plain = entry("Budget passes", "The budget passed.");
    assert_eq!(wanted(&c, "a", &plain, &[]), ["all", "news"]);
    assert_eq!(wanted(&c, "b", &plain, &[]), ["all", "english"]);
    // Keywords are whole words in the title or the text, any case,
    // taken literally.
    let bridge = entry("Harbour news", "A new bridge opens; C++ devs cheer.");
    assert!(wanted(&c, "b", &bridge, &[]).contains(&"kw".to_string()));
    let bridges = entry("Bridges", "Cooking with bridgework, c+ only.");
    assert!(!wanted(&c, "b", &bridges, &[]).contains(&"kw".to_string()));
    assert!(wanted(&c, "b", &plain, &["hot".into()]).contains(&"hot".to_string()));
}

#[test]
fn bad_targets_are_refused_with_file_line_and_column() {
    let err = |notify: &str| {
        Config::parse(
            &format!("[[feeds]]\nname = \"a\"\nurl = \"https://a.example/f\"\n{notify}"),
            Path::new("/etc/tributary/t.toml"),
        )
        .unwrap_err()
        .to_string()
    };
    let e = err("[[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"a/b\"\n");
    assert!(
        e.starts_with("/etc/tributary/t.toml:7:9: an ntfy topic"),
        "{e}"
    );
    let e = err("[[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"t\"\nmarks = [\"nope\"]\n");
    assert!(
        e.contains(":8:") && e.contains("no rule adds the mark `nope`"),
        "{e}"
    );
    let e = err("[[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"t\"\nmin_story_feeds = 1\n");
    assert!(e.contains("1 is out of range 2..=1000"), "{e}");
    let e = err("[[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"t\"\narticles = false\n");
    assert!(e.contains("announces nothing"), "{e}");
    let e = err("[[notify]]\nname = \"x\"\nkind = \"webhook\"\nurl = \"file:///etc/passwd\"\n");
    assert!(e.contains("is not an http(s) URL"), "{e}");
    let e = err("[[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"t\"\n\
         [[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"u\"\n");
    assert!(e.contains("duplicate notify name `x`"), "{e}");
    let e =
        err("[[notify]]\nname = \"x\"\nkind = \"ntfy\"\ntopic = \"t\"\nbackoff_base = \"2h\"\n");
    assert!(e.contains("backoff_max is shorter"), "{e}");
}

#[test]
fn an_ntfy_topic_url_joins_the_server_and_the_topic() {
    let c = targets(
        "[[notify]]\nname = \"p\"\nkind = \"ntfy\"\nserver = \"https://ntfy.example/base/\"\ntopic = \"alerts\"\n\
         token = \"tk\"\n[[notify]]\nname = \"q\"\nkind = \"ntfy\"\ntopic = \"x\"\n",
    );
    match &c.notify[0].kind {
        crate::config::NotifyKind::Ntfy { url, headers, .. } => {
            assert_eq!(url.as_str(), "https://ntfy.example/base/alerts");
            assert_eq!(headers[0].0, "Authorization");
            assert_eq!(headers[0].1.expose(), "Bearer tk");
        }
        other => panic!("{other:?}"),
    }
    match &c.notify[1].kind {
        crate::config::NotifyKind::Ntfy { url, .. } => {
            assert_eq!(url.as_str(), "https://ntfy.sh/x")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn keys_are_stable_and_differ_by_target_and_subject() {
    assert_eq!(key("a", "article\u{0}1"), key("a", "article\u{0}1"));
    assert_ne!(key("a", "article\u{0}1"), key("b", "article\u{0}1"));
    assert_ne!(key("a", "article\u{0}1"), key("a", "article\u{0}2"));
    assert_eq!(key("a", "x").len(), 32);
    let since = now();
    let failing = |s| HealthEvent::Failing {
        feed: "f".into(),
        since: s,
        error: Some("boom".into()),
    };
    // One event per outage, whatever the error says.
    assert_eq!(failing(since).subject(), failing(since).subject());
    assert_ne!(
        failing(since).subject(),
        failing(since + chrono::Duration::seconds(1)).subject()
    );
}

#[test]
fn backoff_doubles_from_the_base_up_to_the_cap_with_bounded_jitter() {
    let d = targets("[[notify]]\nname = \"p\"\nkind = \"ntfy\"\ntopic = \"t\"\n").notify[0]
        .delivery
        .clone();
    assert_eq!(backoff(&d, 1, 0.5), Duration::from_secs(30));
    assert_eq!(backoff(&d, 2, 0.5), Duration::from_secs(60));
    assert_eq!(backoff(&d, 4, 0.5), Duration::from_secs(240));
    assert_eq!(backoff(&d, 40, 0.5), MAX_BACKOFF);
    assert_eq!(backoff(&d, 1, 0.0), Duration::from_secs(24));
    assert_eq!(backoff(&d, 1, 1.0), Duration::from_secs(36));
    assert_eq!(
        backoff(&d, 1, 7.0),
        Duration::from_secs(36),
        "jitter is clamped"
    );
    let j: Vec<f64> = (0..50).map(|_| jitter()).collect();
    assert!(j.iter().all(|x| (0.0..1.0).contains(x)));
}

#[test]
fn the_rate_limit_frees_a_slot_when_the_oldest_message_leaves_the_window() {
    let mut d = targets("[[notify]]\nname = \"p\"\nkind = \"ntfy\"\ntopic = \"t\"\nmax_per_minute = 2\nmax_per_hour = 3\n")
        .notify[0]
        .delivery
        .clone();
    let at = |s: i64| now() - chrono::Duration::seconds(s);
    assert_eq!(next_slot(&[at(10)], &d, now()), None);
    // Two in the last minute: the one sent 50 s ago leaves it in 10 s.
    assert_eq!(
        next_slot(&[at(10), at(50)], &d, now()),
        Some(now() + chrono::Duration::seconds(10))
    );
    // Three in the hour: the hour's limit decides.
    assert_eq!(
        next_slot(&[at(10), at(600), at(1200)], &d, now()),
        Some(at(1200) + chrono::Duration::hours(1))
    );
    d.max_per_minute = None;
    d.max_per_hour = None;
    assert_eq!(next_slot(&[at(1); 100], &d, now()), None);
}

#[test]
fn header_text_is_one_ascii_line() {
    assert_eq!(header_text("Plain title"), "Plain title");
    assert_eq!(header_text("a\r\nb"), "a  b");
    assert_eq!(header_text("Café"), "=?UTF-8?B?Q2Fmw6k=?=");
    assert_eq!(header_text(&"x".repeat(1000)).len(), 250);
}

fn health(n: usize) -> Vec<Notice> {
    (0..n)
        .map(|i| Notice {
            key: key("t", &i.to_string()),
            created_at: now(),
            subject: Subject::Health(HealthEvent::Gone {
                feed: format!("feed-{i}-{}", "long".repeat(20)),
                url: format!("https://gone.example/{i}"),
            }),
        })
        .collect()
}

#[test]
fn an_ntfy_batch_is_one_bounded_message_listing_its_items() {
    let c = targets("[[notify]]\nname = \"p\"\nkind = \"ntfy\"\ntopic = \"t\"\n");
    let m = message::build(&c.notify[0], &health(3), &c.publish.ids);
    let header = |n: &str| {
        m.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("Title").as_deref(), Some("3 feed-health events"));
    assert!(header("Tags").unwrap().starts_with("warning,feed-0-"));
    assert_eq!(header("Click"), None, "no single link for a batch");
    let text = String::from_utf8(m.body.clone()).unwrap();
    assert_eq!(text.matches("• Feed feed-").count(), 3, "{text}");
    assert_eq!(m.count, 3);
    assert_eq!(header("Idempotency-Key"), Some(m.key.clone()));
    // Hundreds of items still make one message within ntfy's limit.
    let m = message::build(&c.notify[0], &health(400), &c.publish.ids);
    let text = String::from_utf8(m.body).unwrap();
    assert!(text.len() <= message::NTFY_MAX_TEXT, "{}", text.len());
    assert!(text.contains("more"), "{text}");
}

#[test]
fn a_template_fills_placeholders_escaped_for_json() {
    let c = targets(
        "[[notify]]\nname = \"chat\"\nkind = \"webhook\"\nurl = \"https://chat.example/hook\"\n\
         template = '{\"text\": \"{{count}}: {{ title }} {{unknown}}\", \"list\": \"{{list}}\"}'\n",
    );
    let mut notices = health(2);
    if let Subject::Health(HealthEvent::Gone { feed, .. }) = &mut notices[0].subject {
        *feed = "say \"hi\"".into();
    }
    let m = message::build(&c.notify[0], &notices, &c.publish.ids);
    let v: serde_json::Value = serde_json::from_slice(&m.body).expect("valid JSON");
    assert_eq!(v["text"], "2: Feed say \"hi\" is gone (410) {{unknown}}");
    assert_eq!(
        v["list"].as_str().unwrap().lines().count(),
        2,
        "one line per item"
    );
    assert_eq!(m.content_type, "application/json");
}

#[test]
fn a_command_or_webhook_gets_a_json_feed_with_each_key() {
    let c = targets("[[notify]]\nname = \"cmd\"\nkind = \"command\"\ncommand = [\"true\"]\n");
    let notices = health(2);
    let m = message::build(&c.notify[0], &notices, &c.publish.ids);
    let v: serde_json::Value = serde_json::from_slice(&m.body).unwrap();
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(v["_tributary"]["notify"]["count"], 2);
    assert_eq!(v["_tributary"]["notify"]["key"], m.key.as_str());
    for (item, n) in v["items"].as_array().unwrap().iter().zip(&notices) {
        assert_eq!(item["_tributary"]["notify"]["key"], n.key.as_str());
        assert_eq!(item["_tributary"]["notify"]["event"]["event"], "gone");
    }
    // A batch's key is made of its items' keys.
    let again = message::build(&c.notify[0], &notices, &c.publish.ids);
    assert_eq!(again.key, m.key);
    let other = message::build(&c.notify[0], &notices[..1], &c.publish.ids);
    assert_eq!(other.key, notices[0].key);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn command_target(argv: &str, timeout: &str) -> Config {
    targets(&format!(
        "[[notify]]\nname = \"cmd\"\nkind = \"command\"\ncommand = {argv}\ntimeout = \"{timeout}\"\n"
    ))
}

fn send_to(c: &Config) -> Result<(), send::SendError> {
    let m = message::build(&c.notify[0], &health(1), &c.publish.ids);
    let sender = send::Sender::new("test", Duration::from_secs(5)).unwrap();
    runtime().block_on(sender.send(&c.notify[0], &m))
}

#[test]
fn a_command_is_delivered_on_exit_status_zero_and_killed_at_its_timeout() {
    assert_eq!(
        send_to(&command_target(r#"["sh", "-c", "cat > /dev/null"]"#, "5s")),
        Ok(())
    );
    // A refusal says why, in a bounded excerpt of standard error.
    let e = send_to(&command_target(
        r#"["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; exit 3"]"#,
        "5s",
    ))
    .unwrap_err();
    assert!(e.message.contains("exit status: 3"), "{}", e.message);
    assert!(e.message.len() < 300, "{}", e.message.len());
    // A program that hangs (and one it started) ends at the timeout.
    let started = std::time::Instant::now();
    let e = send_to(&command_target(
        r#"["sh", "-c", "sleep 30 & sleep 30"]"#,
        "300ms",
    ))
    .unwrap_err();
    assert!(e.message.contains("killed"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(5));
    // A program that does not read its input still counts.
    assert_eq!(send_to(&command_target(r#"["true"]"#, "5s")), Ok(()));
    let e = send_to(&command_target(r#"["/nonexistent/program"]"#, "5s")).unwrap_err();
    assert!(e.message.contains("cannot run"), "{}", e.message);
}

#[test]
fn an_http_refusal_is_read_only_in_part_and_its_retry_after_kept() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let mut conn = conn.unwrap();
            let mut buf = [0u8; 65536];
            let _ = conn.read(&mut buf);
            let body = "y".repeat(4 << 20);
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 429 Too Many\r\nRetry-After: 120\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    let c = targets(&format!(
        "[[notify]]\nname = \"h\"\nkind = \"webhook\"\nurl = \"http://{addr}/hook\"\n"
    ));
    let e = send_to(&c).unwrap_err();
    assert!(e.message.starts_with("HTTP 429"), "{}", e.message);
    assert!(e.message.len() < 300);
    assert_eq!(e.retry_after, Some(Duration::from_secs(120)));
}
