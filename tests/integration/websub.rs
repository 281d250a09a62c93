//! WebSub against the real daemon: a hub written here, on 127.0.0.1, that
//! follows the recommendation (takes subscription requests, verifies
//! intent with a challenge, distributes signed and unsigned content,
//! grants short leases), and a feed that names it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::child::{wait_for, Daemon};
use crate::util::*;

/// A hub: records the form of every request it gets, answers 202.
struct Hub {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
    runtime: tokio::runtime::Runtime,
}

impl Hub {
    fn start() -> Hub {
        tributary::fetch::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let requests: Arc<Mutex<Vec<HashMap<String, String>>>> = Arc::default();
        let seen = Arc::clone(&requests);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/hub",
            axum::routing::post(move |body: Bytes| {
                let seen = Arc::clone(&seen);
                async move {
                    let form = url::form_urlencoded::parse(&body).into_owned().collect();
                    seen.lock().unwrap().push(form);
                    (axum::http::StatusCode::ACCEPTED, "")
                }
            }),
        );
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Hub {
            addr,
            requests,
            runtime,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hub", self.addr)
    }

    /// The `n`th request (0-based) of `mode`, waiting up to `limit`.
    fn request(&self, mode: &str, n: usize, limit: Duration) -> Option<HashMap<String, String>> {
        let found = || {
            self.requests
                .lock()
                .unwrap()
                .iter()
                .filter(|r| r.get("hub.mode").map(String::as_str) == Some(mode))
                .nth(n)
                .cloned()
        };
        wait_for(limit, || found().is_some());
        found()
    }

    /// Intent verification: GET the callback; (status, body).
    fn verify(
        &self,
        callback: &str,
        mode: &str,
        topic: &str,
        challenge: &str,
        lease: u64,
    ) -> (u16, String) {
        let mut url = url::Url::parse(callback).unwrap();
        url.query_pairs_mut()
            .append_pair("hub.mode", mode)
            .append_pair("hub.topic", topic)
            .append_pair("hub.challenge", challenge)
            .append_pair("hub.lease_seconds", &lease.to_string());
        self.runtime.block_on(async {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    }

    /// Content distribution: POST `body` to the callback, signed with
    /// `signature` when given; the status.
    fn push(&self, callback: &str, body: &str, signature: Option<String>) -> u16 {
        self.runtime.block_on(async {
            let mut rb = reqwest::Client::new()
                .post(callback)
                .header("content-type", "application/rss+xml")
                .body(body.to_string());
            if let Some(s) = signature {
                rb = rb.header("x-hub-signature", s);
            }
            rb.send().await.unwrap().status().as_u16()
        })
    }
}

/// An RSS document that names `hub` and its own URL `topic`.
fn feed_doc(hub: &str, topic: &str, items: &[(&str, &str)]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>\
         <title>Pushed</title><link>https://site.example/</link><description>d</description>\
         <atom:link rel=\"hub\" href=\"{hub}\"/><atom:link rel=\"self\" href=\"{topic}\"/>\n"
    );
    for (guid, title) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><link>https://site.example/{guid}</link><title>{title}</title>\
             <description>{title} in a few words of text.</description></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

fn sign(secret: &str, body: &str) -> String {
    tributary::websub::sign(secret.as_bytes(), body.as_bytes())
}

/// A daemon polling hourly, serving on `port`, with `extra` config.
fn config(port: u16, feeds: &str, extra: &str) -> String {
    format!(
        "[store]\npath = \"tributary.db\"\n\
         [server]\nlisten = \"127.0.0.1:{port}\"\nbase_url = \"http://127.0.0.1:{port}/\"\n\
         [schedule]\ndefault = \"0 0 * * * *\"\nstartup_spread = \"100ms\"\nshutdown_grace = \"1s\"\n\
         [fetch]\nhost_gap = \"0s\"\ntimeout = \"10s\"\n{extra}\n{feeds}"
    )
}

struct Setup {
    s: Scratch,
    hub: Hub,
    /// Serves the feed.
    feeds: FeedServer,
    daemon: Daemon,
    topic: String,
    port: u16,
}

/// A daemon with one feed, `news`, that names the hub; waits for its
/// subscription request.
fn setup(extra: &str) -> (Setup, HashMap<String, String>) {
    setup_on("0 0 * * * *", extra, false)
}

/// [`setup`] with the default schedule `cron`; with `via_header`, the feed
/// names its hub and itself in a `Link` header rather than in the document.
fn setup_on(cron: &str, extra: &str, via_header: bool) -> (Setup, HashMap<String, String>) {
    let hub = Hub::start();
    let feeds = FeedServer::start();
    let topic = feeds.url("/news.xml");
    let doc = feed_doc(&hub.url(), &topic, &[("a", "First story")]);
    let route = if via_header {
        let bare = doc
            .replace(
                &format!("<atom:link rel=\"hub\" href=\"{}\"/>", hub.url()),
                "",
            )
            .replace(&format!("<atom:link rel=\"self\" href=\"{topic}\"/>"), "");
        assert!(!bare.contains("rel=\"hub\""));
        let link = format!("<{}>; rel=\"hub\", <{topic}>; rel=\"self\"", hub.url());
        Route::feed(bare).header("link", &link)
    } else {
        Route::feed(doc)
    };
    feeds.set("/news.xml", route);
    let port = free_port();
    let s = Scratch::new();
    let feed = format!("[[feeds]]\nname = \"news\"\nurl = \"{topic}\"\nmax_body = \"64 KiB\"\n");
    let text = config(port, &feed, extra).replace("0 0 * * * *", cron);
    std::fs::write(s.config_path(), text).unwrap();
    let daemon = Daemon::start(&s, "info", &[]);
    let request = hub.request("subscribe", 0, Duration::from_secs(20));
    let request = request.unwrap_or_else(|| panic!("no subscription request: {}", daemon.log()));
    (
        Setup {
            s,
            hub,
            feeds,
            daemon,
            topic,
            port,
        },
        request,
    )
}

fn entries(s: &Scratch) -> i64 {
    s.count("SELECT count(*) FROM entries")
}

#[test]
fn a_hub_verifies_and_pushes_signed_content_into_the_store() {
    let (t, request) = setup("[websub]\nlease = \"10m\"\npoll_every = \"2h\"\n");
    let callback = request["hub.callback"].clone();
    let secret = request["hub.secret"].clone();
    let base = format!("http://127.0.0.1:{}/websub/", t.port);
    let token = callback
        .strip_prefix(&base)
        .unwrap_or_else(|| panic!("{callback}"));
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    assert_eq!(secret.len(), 64, "a 256-bit secret");
    assert_eq!(request["hub.topic"], t.topic);
    assert_eq!(request["hub.lease_seconds"], "600");
    assert!(wait_for(Duration::from_secs(10), || entries(&t.s) == 1));

    let pushed = feed_doc(&t.hub.url(), &t.topic, &[("b", "Second story")]);
    // Not verified yet: no push is taken.
    assert_eq!(
        t.hub.push(&callback, &pushed, Some(sign(&secret, &pushed))),
        404
    );
    // Intent verification answers only the pending request: its mode, its
    // topic, its token.
    assert_eq!(
        t.hub
            .verify(&callback, "subscribe", "http://other.example/", "c1", 300)
            .0,
        404
    );
    assert_eq!(
        t.hub
            .verify(&callback, "unsubscribe", &t.topic, "c2", 300)
            .0,
        404
    );
    let guessed = format!("{base}{}", "0".repeat(32));
    assert_eq!(
        t.hub.verify(&guessed, "subscribe", &t.topic, "c3", 300).0,
        404
    );
    let (status, echo) = t
        .hub
        .verify(&callback, "subscribe", &t.topic, "challenge-4711", 10_800);
    assert_eq!((status, echo.as_str()), (200, "challenge-4711"));
    // Verified once: a replay is not answered.
    assert_eq!(
        t.hub
            .verify(&callback, "subscribe", &t.topic, "again", 300)
            .0,
        404
    );

    // Unsigned and badly signed content: acknowledged, refused, logged.
    assert_eq!(t.hub.push(&callback, &pushed, None), 202);
    assert_eq!(
        t.hub
            .push(&callback, &pushed, Some(sign("not the secret", &pushed))),
        202
    );
    let tampered = pushed.replace("Second story", "Forged story");
    assert_eq!(
        t.hub
            .push(&callback, &tampered, Some(sign(&secret, &pushed))),
        202
    );
    assert_eq!(
        t.hub.push(&guessed, &pushed, Some(sign(&secret, &pushed))),
        404
    );
    // Larger than the feed's max_body (64 KiB).
    let big = feed_doc(&t.hub.url(), &t.topic, &[("big", &"x".repeat(70 * 1024))]);
    assert_eq!(t.hub.push(&callback, &big, Some(sign(&secret, &big))), 413);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(entries(&t.s), 1, "refused pushes stored nothing");
    assert_eq!(
        t.s.count("SELECT count(*) FROM fetch_log WHERE kind = 'push'"),
        0
    );
    let log = t.daemon.log();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("pushed document refused") && l.contains("news"))
            .count(),
        4,
        "{log}"
    );
    assert!(
        log.contains("unsigned") && log.contains("bad signature"),
        "{log}"
    );

    // Signed: in the store within a second.
    let started = Instant::now();
    assert_eq!(
        t.hub.push(&callback, &pushed, Some(sign(&secret, &pushed))),
        202
    );
    assert!(
        wait_for(Duration::from_secs(1), || entries(&t.s) == 2),
        "the pushed item did not arrive within a second: {}",
        t.daemon.log()
    );
    let took = started.elapsed();
    assert_eq!(
        t.s.count("SELECT count(*) FROM entries WHERE title = 'Second story'"),
        1
    );
    assert_eq!(
        t.s.count("SELECT count(*) FROM entries WHERE title = 'Forged story'"),
        0
    );
    assert!(wait_for(Duration::from_secs(5), || {
        t.s.count("SELECT count(*) FROM fetch_log WHERE kind = 'push' AND outcome = 'ok' AND new_entries = 1") == 1
    }));
    eprintln!("pushed item stored {} ms after the push", took.as_millis());
    // A hub pushing in a tight loop: one document per feed at a time, one
    // waiting; the rest are told to retry (503). Nothing accepted is lost.
    let burst: Vec<(String, String)> = (0..12)
        .map(|i| {
            let doc = feed_doc(
                &t.hub.url(),
                &t.topic,
                &[(&format!("burst-{i}"), &format!("Burst {i}"))],
            );
            let signature = sign(&secret, &doc);
            (doc, signature)
        })
        .collect();
    let statuses: Vec<u16> = t.hub.runtime.block_on(async {
        let client = reqwest::Client::new();
        let sends = burst.iter().map(|(doc, signature)| {
            client
                .post(&callback)
                .header("x-hub-signature", signature)
                .body(doc.clone())
                .send()
        });
        futures_util::future::join_all(sends)
            .await
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect()
    });
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 503),
        "{statuses:?}"
    );
    let accepted: Vec<usize> = (0..12).filter(|i| statuses[*i] == 202).collect();
    assert!(!accepted.is_empty(), "{statuses:?}");
    let all_in = wait_for(Duration::from_secs(5), || {
        t.s.count("SELECT count(*) FROM fetch_log WHERE kind = 'push'") == 1 + accepted.len() as i64
    });
    assert!(all_in, "{statuses:?}");
    for i in &accepted {
        let sql = format!("SELECT count(*) FROM entries WHERE title = 'Burst {i}'");
        assert_eq!(
            t.s.count(&sql),
            1,
            "accepted push {i} was lost: {statuses:?}"
        );
    }
    eprintln!("burst of 12 pushes: {statuses:?}");
    // Polled on the slower cadence while pushed.
    assert!(wait_for(Duration::from_secs(5), || {
        t.s.count(
            "SELECT count(*) FROM feeds WHERE next_check_reason = 'pushed'
               AND julianday(next_check_at) > julianday('now', '+110 minutes')",
        ) == 1
    }));

    // The metrics count each push by result (a stored one once the
    // daemon's loop has seen it end).
    let count = |metrics: &str, result: &str| -> f64 {
        let line = format!("tributary_websub_pushes_total{{result=\"{result}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .map_or(0.0, |v| v.trim().parse().unwrap())
    };
    let stored = 1.0 + accepted.len() as f64;
    assert!(wait_for(Duration::from_secs(3), || {
        count(&get(&t.hub, t.port, "/metrics"), "stored") == stored
    }));
    let metrics = get(&t.hub, t.port, "/metrics");
    assert_eq!(count(&metrics, "refused"), 3.0, "{metrics}");
    assert_eq!(count(&metrics, "too_large"), 1.0, "{metrics}");
    assert_eq!(
        count(&metrics, "busy"),
        (12 - accepted.len()) as f64,
        "{metrics}"
    );
    let out = t.s.tributary(&["feeds"]);
    let table = stdout(&out);
    assert!(table.contains("WEBSUB"), "{table}");
    let line = table
        .lines()
        .find(|l| l.starts_with("news ") && l.contains("pushed since"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        line.contains("lease ends in") && line.contains("last push now"),
        "{line}"
    );
    let json = stdout(&t.s.tributary(&["feeds", "--json"]));
    let v: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(v["websub"]["pushed"], true, "{v}");
    assert_eq!(v["websub"]["hub"], t.hub.url(), "{v}");
    assert!(v["websub"]["lease_expires_at"].is_string(), "{v}");
    let (code, log) = t.daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn leases_are_renewed_and_removed_feeds_unsubscribed() {
    let (t, request) = setup("");
    let callback = request["hub.callback"].clone();
    // A 5-second lease: renewed after four.
    let (status, _) = t.hub.verify(&callback, "subscribe", &t.topic, "x", 5);
    assert_eq!(status, 200);
    let verified = Instant::now();
    let renewal = t.hub.request("subscribe", 1, Duration::from_secs(10));
    let renewal = renewal.unwrap_or_else(|| panic!("no renewal: {}", t.daemon.log()));
    let after = verified.elapsed();
    assert!(
        after >= Duration::from_secs(3) && after < Duration::from_secs(5),
        "renewed {after:?} after a 5 s lease began"
    );
    assert_eq!(renewal["hub.callback"], callback, "same callback");
    assert_eq!(renewal["hub.secret"], request["hub.secret"]);
    assert_eq!(
        t.hub.verify(&callback, "subscribe", &t.topic, "y", 600).0,
        200
    );
    // Pushes still flow after the first lease's end.
    std::thread::sleep(Duration::from_secs(2));
    let pushed = feed_doc(&t.hub.url(), &t.topic, &[("later", "Later story")]);
    let signed = sign(&request["hub.secret"], &pushed);
    assert_eq!(t.hub.push(&callback, &pushed, Some(signed)), 202);
    assert!(wait_for(Duration::from_secs(2), || entries(&t.s) == 2));

    // The feed leaves the config: SIGHUP unsubscribes it.
    std::fs::write(t.s.config_path(), config(t.port, "", "")).unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &t.daemon.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let gone = t.hub.request("unsubscribe", 0, Duration::from_secs(10));
    let gone = gone.unwrap_or_else(|| panic!("no unsubscription: {}", t.daemon.log()));
    assert_eq!(gone["hub.callback"], callback);
    assert_eq!(gone["hub.topic"], t.topic);
    assert!(!gone.contains_key("hub.secret"));
    // Pushes for it are no longer taken; the hub's verification is answered.
    assert_eq!(
        t.s.count("SELECT count(*) FROM websub_subscriptions WHERE state = 'unsubscribing'"),
        1
    );
    let (status, echo) = t.hub.verify(&callback, "unsubscribe", &t.topic, "bye", 0);
    assert_eq!((status, echo.as_str()), (200, "bye"));
    assert_eq!(t.s.count("SELECT count(*) FROM websub_subscriptions"), 0);
    let pushed = feed_doc(&t.hub.url(), &t.topic, &[("after", "After story")]);
    let signed = sign(&request["hub.secret"], &pushed);
    assert_eq!(t.hub.push(&callback, &pushed, Some(signed)), 404);
    let (code, log) = t.daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn a_feed_whose_lease_lapses_is_polled_as_before() {
    // Polled every 2 s on its schedule; every 2 h while pushed.
    let (t, request) = setup_on("*/2 * * * * *", "[websub]\npoll_every = \"2h\"\n", true);
    let callback = request["hub.callback"].clone();
    let secret = request["hub.secret"].clone();
    assert_eq!(
        t.hub.verify(&callback, "subscribe", &t.topic, "x", 9).0,
        200
    );
    let doc = feed_doc(&t.hub.url(), &t.topic, &[("p", "Pushed story")]);
    assert_eq!(t.hub.push(&callback, &doc, Some(sign(&secret, &doc))), 202);
    assert!(wait_for(Duration::from_secs(3), || {
        t.s.count("SELECT count(*) FROM feeds WHERE next_check_reason = 'pushed'") == 1
    }));
    // While pushed, the schedule's polls wait for the lease's end.
    let polls = t.feeds.arrivals("/news.xml");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(t.feeds.arrivals("/news.xml"), polls, "polled while pushed");
    // The hub takes the renewal but never verifies it: the lease lapses,
    // the feed is polled at its end and on its schedule again.
    assert!(t
        .hub
        .request("subscribe", 1, Duration::from_secs(5))
        .is_some());
    let polled = wait_for(Duration::from_secs(8), || {
        t.feeds.arrivals("/news.xml") >= polls + 2
    });
    assert!(polled, "{}", t.daemon.log());
    assert_eq!(
        t.s.count("SELECT count(*) FROM feeds WHERE next_check_reason = 'pushed'"),
        0
    );
    let doc = feed_doc(&t.hub.url(), &t.topic, &[("q", "Too late")]);
    assert_eq!(t.hub.push(&callback, &doc, Some(sign(&secret, &doc))), 404);
    let (code, log) = t.daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn without_base_url_nothing_is_subscribed() {
    let hub = Hub::start();
    let feeds = FeedServer::start();
    let topic = feeds.url("/news.xml");
    feeds.set(
        "/news.xml",
        Route::feed(feed_doc(&hub.url(), &topic, &[("a", "A")])),
    );
    let s = Scratch::new();
    s.write_config(
        "[schedule]\ndefault = \"0 0 * * * *\"\nstartup_spread = \"100ms\"\n[fetch]\nhost_gap = \"0s\"\n",
        &[("news", &topic)],
    );
    let daemon = Daemon::start(&s, "info", &[]);
    assert!(wait_for(Duration::from_secs(10), || s
        .count_opt("SELECT count(*) FROM entries")
        == Some(1)));
    std::thread::sleep(Duration::from_millis(500));
    assert!(hub.requests.lock().unwrap().is_empty());
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}

/// A GET of the daemon's `path`: the body.
fn get(hub: &Hub, port: u16, path: &str) -> String {
    let url = format!("http://127.0.0.1:{port}{path}");
    hub.runtime
        .block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

fn publish_pings(hub: &Hub) -> Vec<String> {
    hub.requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.get("hub.mode").map(String::as_str) == Some("publish"))
        .map(|r| r["hub.url"].clone())
        .collect()
}

/// A daemon polling one feed, `plain`, every second, with `extra` config;
/// returns once its first entry is stored.
fn river_daemon(extra: &str) -> (FeedServer, Scratch, u16, Daemon) {
    let feeds = FeedServer::start();
    feeds.set(
        "/plain.xml",
        Route::feed(rss("Plain", &[(Some("a"), None, "A one")])),
    );
    let port = free_port();
    let s = Scratch::new();
    let feed = format!(
        "[[feeds]]\nname = \"plain\"\nurl = \"{}\"\n",
        feeds.url("/plain.xml")
    );
    let every_second = config(port, &feed, extra).replace("0 0 * * * *", "* * * * * *");
    std::fs::write(s.config_path(), every_second).unwrap();
    let daemon = Daemon::start(&s, "info", &[]);
    let stored = wait_for(Duration::from_secs(10), || {
        s.count_opt("SELECT count(*) FROM entries") == Some(1)
    });
    assert!(stored, "{}", daemon.log());
    (feeds, s, port, daemon)
}

#[test]
fn outputs_advertise_the_hub_and_ping_it_when_they_change() {
    let hub = Hub::start();
    let extra = format!("[websub]\nsubscribe = false\nhub = \"{}\"\n", hub.url());
    let (feeds, _s, port, daemon) = river_daemon(&extra);

    let atom = get(&hub, port, "/feed.atom");
    assert!(
        atom.contains(&format!("<link rel=\"hub\" href=\"{}\"/>", hub.url())),
        "{atom}"
    );
    assert!(atom.contains(&format!("<link rel=\"self\" type=\"application/atom+xml\" href=\"http://127.0.0.1:{port}/feed.atom\"/>")), "{atom}");
    let rss_doc = get(&hub, port, "/feed.rss");
    assert!(
        rss_doc.contains(&format!("<atom:link href=\"{}\" rel=\"hub\"/>", hub.url())),
        "{rss_doc}"
    );
    let json: serde_json::Value = serde_json::from_str(&get(&hub, port, "/feed.json")).unwrap();
    assert_eq!(
        json["hubs"],
        serde_json::json!([{"type": "WebSub", "url": hub.url()}])
    );
    // Polled every second, unchanged: no ping.
    std::thread::sleep(Duration::from_millis(2500));
    let before = publish_pings(&hub).len();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(publish_pings(&hub).len(), before, "pinged without a change");

    feeds.set(
        "/plain.xml",
        Route::feed(rss(
            "Plain",
            &[(Some("a"), None, "A one"), (Some("b"), None, "B two")],
        )),
    );
    let expected: Vec<String> = ["atom", "rss", "json"]
        .iter()
        .map(|ext| format!("http://127.0.0.1:{port}/feed.{ext}"))
        .collect();
    let pinged = wait_for(Duration::from_secs(10), || {
        let pings = publish_pings(&hub);
        expected.iter().all(|u| pings[before..].contains(u))
    });
    assert!(pinged, "{:?}\n{}", publish_pings(&hub), daemon.log());
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}

/// What a reader of the river received at its callback.
#[derive(Default)]
struct Received {
    verifications: Vec<HashMap<String, String>>,
    /// (signature, link header, content type, body) of each delivery.
    deliveries: Vec<(Option<String>, String, String, String)>,
}

/// A reader's callback on 127.0.0.1: echoes challenges, takes deliveries
/// (the first one of the document with "B two" answered 500, so that the
/// hub has to retry).
fn reader_callback(rt: &tokio::runtime::Runtime) -> (String, Arc<Mutex<Received>>) {
    use axum::http::HeaderMap;
    let received: Arc<Mutex<Received>> = Arc::default();
    let (seen, took) = (Arc::clone(&received), Arc::clone(&received));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::get(move |q: axum::extract::RawQuery| {
            let seen = Arc::clone(&seen);
            async move {
                let q: HashMap<String, String> =
                    url::form_urlencoded::parse(q.0.unwrap_or_default().as_bytes())
                        .into_owned()
                        .collect();
                let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
                seen.lock().unwrap().verifications.push(q);
                challenge
            }
        })
        .post(move |headers: HeaderMap, body: Bytes| {
            let took = Arc::clone(&took);
            async move {
                let h = |k: &str| headers.get(k).map(|v| v.to_str().unwrap().to_string());
                let mut r = took.lock().unwrap();
                r.deliveries.push((
                    h("x-hub-signature"),
                    h("link").unwrap_or_default(),
                    h("content-type").unwrap_or_default(),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                let b_two = |d: &(Option<String>, String, String, String)| d.3.contains("B two");
                if r.deliveries.iter().filter(|d| b_two(d)).count() == 1
                    && b_two(r.deliveries.last().unwrap())
                {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/cb"), received)
}

/// A reader's subscription request to the hub at `own`: the status.
fn subscribe_at(hub: &Hub, own: &str, topic: &str, callback: &str) -> u16 {
    let form = tributary::websub::subscriber::form(&[
        ("hub.mode", "subscribe"),
        ("hub.callback", callback),
        ("hub.topic", topic),
        ("hub.secret", "reader-secret"),
        ("hub.lease_seconds", "3600"),
    ]);
    hub.runtime.block_on(async {
        reqwest::Client::new()
            .post(own)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn the_hub_does_not_call_private_addresses_unless_allowed() {
    let hub = Hub::start();
    let (_feeds, s, port, daemon) = river_daemon("[websub]\nsubscribe = false\nserve_hub = true\n");
    let (callback, received) = reader_callback(&hub.runtime);
    let own = format!("http://127.0.0.1:{port}/websub/hub");
    let topic = format!("http://127.0.0.1:{port}/feed.rss");
    // Accepted for verification, which is then refused before any request.
    assert_eq!(subscribe_at(&hub, &own, &topic, &callback), 202);
    let refused = wait_for(Duration::from_secs(5), || {
        daemon.log().contains("hub: intent not verified")
    });
    assert!(refused, "{}", daemon.log());
    assert!(
        daemon.log().contains("127.0.0.1 is a loopback address"),
        "{}",
        daemon.log()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(received.lock().unwrap().verifications.is_empty());
    assert_eq!(s.count("SELECT count(*) FROM websub_river_subscribers"), 0);
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn a_reader_of_the_river_gets_signed_pushes_from_tributarys_own_hub() {
    let hub = Hub::start(); // the test's runtime and client
    let extra = "[websub]\nsubscribe = false\nserve_hub = true\nprivate_callbacks = true\n";
    let (feeds, s, port, daemon) = river_daemon(extra);
    let own = format!("http://127.0.0.1:{port}/websub/hub");
    let atom = get(&hub, port, "/feed.atom");
    assert!(
        atom.contains(&format!("<link rel=\"hub\" href=\"{own}\"/>")),
        "{atom}"
    );

    // The first item's change is announced before the reader subscribes.
    std::thread::sleep(Duration::from_millis(2500));
    let (callback, received) = reader_callback(&hub.runtime);
    let topic = format!("http://127.0.0.1:{port}/feed.atom");
    let subscribe = |topic: &str, callback: &str| subscribe_at(&hub, &own, topic, callback);
    // Only the outputs can be subscribed to, only with a usable callback.
    assert_eq!(
        subscribe("http://127.0.0.1:1/elsewhere.atom", &callback),
        400
    );
    assert_eq!(subscribe(&topic, "ftp://127.0.0.1/cb"), 400);
    assert_eq!(subscribe(&topic, &callback), 202);
    assert!(wait_for(Duration::from_secs(5), || {
        s.count("SELECT count(*) FROM websub_river_subscribers") == 1
    }));
    {
        let r = received.lock().unwrap();
        assert_eq!(r.verifications.len(), 1);
        let v = &r.verifications[0];
        assert_eq!(
            (v["hub.mode"].as_str(), v["hub.topic"].as_str()),
            ("subscribe", topic.as_str())
        );
        assert_eq!(v["hub.lease_seconds"], "3600");
        assert!(v["hub.challenge"].len() >= 16);
    }

    // The river changes: the reader gets the new document, signed; the
    // first delivery fails and is retried.
    feeds.set(
        "/plain.xml",
        Route::feed(rss(
            "Plain",
            &[(Some("a"), None, "A one"), (Some("b"), None, "B two")],
        )),
    );
    let b_two = || -> Vec<(Option<String>, String, String, String)> {
        let r = received.lock().unwrap();
        r.deliveries
            .iter()
            .filter(|d| d.3.contains("B two"))
            .cloned()
            .collect()
    };
    let delivered = wait_for(Duration::from_secs(15), || b_two().len() >= 2);
    assert!(delivered, "{}", daemon.log());
    let tries = b_two();
    let (signature, link, content_type, body) = &tries[1];
    assert_eq!(tries[0].3, *body, "the retry carries the same document");
    assert!(body.contains("B two") && body.contains("<feed"), "{body}");
    assert_eq!(content_type, "application/atom+xml");
    assert!(
        link.contains(&format!("<{own}>; rel=\"hub\""))
            && link.contains(&format!("<{topic}>; rel=\"self\"")),
        "{link}"
    );
    let expected = tributary::websub::sign(b"reader-secret", body.as_bytes());
    assert_eq!(signature.as_deref(), Some(expected.as_str()));
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}
