//! `[fetch] block_private_addresses`: with it on, feeds on loopback (as a
//! literal IP or a `localhost` name; names that resolve there are tested in
//! `reach`, inside a network namespace) and `file://` feeds
//! are refused before any request; with it off (the default), the same
//! feeds are fetched. Only 127.0.0.1 is ever contacted.

use crate::util::*;

fn config(server: &FeedServer, file: &std::path::Path, guard: bool) -> String {
    let port = server.addr.port();
    format!(
        "[fetch]\nblock_private_addresses = {guard}\nhost_gap = \"0s\"\n\
         [[feeds]]\nname = \"literal\"\nurl = \"http://127.0.0.1:{port}/a.xml\"\n\
         [[feeds]]\nname = \"named\"\nurl = \"http://localhost:{port}/b.xml\"\n\
         [[feeds]]\nname = \"redirected\"\nurl = \"http://127.0.0.1:{port}/r\"\n\
         [[feeds]]\nname = \"file\"\nurl = \"{}\"\n",
        url::Url::from_file_path(file).unwrap()
    )
}

fn run(s: &Scratch) -> Vec<serde_json::Value> {
    let out = s.tributary(&["fetch", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn private_addresses_are_refused_only_when_asked() {
    let server = FeedServer::start();
    server.set("/a.xml", Route::feed(rss("A", &[(Some("a"), None, "A")])));
    server.set("/b.xml", Route::feed(rss("B", &[(Some("b"), None, "B")])));
    server.set(
        "/r",
        Route::feed("").status(302).header("location", "/a.xml"),
    );
    let s = Scratch::new();
    let file = s.dir.path().join("local.xml");
    std::fs::write(&file, rss("F", &[(Some("f"), None, "F")])).unwrap();

    s.write_config(&config(&server, &file, true), &[]);
    let check = stdout(&s.tributary(&["check"]));
    assert!(
        check.contains("private addresses and file:// refused"),
        "{check}"
    );
    for r in run(&s) {
        let error = r["error"].as_str().unwrap_or_default();
        assert_eq!(r["status"], "permanent", "{r}");
        assert!(
            error.starts_with("refused: ") && error.ends_with("(block_private_addresses)"),
            "{r}"
        );
    }
    let errors: Vec<String> = run(&s)
        .iter()
        .map(|r| r["error"].as_str().unwrap().to_string())
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("127.0.0.1 is a loopback address")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("localhost is a loopback name")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("file:// feeds are not allowed")),
        "{errors:?}"
    );
    assert!(
        server.hits("/a.xml").is_empty()
            && server.hits("/b.xml").is_empty()
            && server.hits("/r").is_empty()
    );
    assert_eq!(s.count("SELECT count(*) FROM entries"), 0);

    // Off (the default): the same feeds are fetched.
    let s = Scratch::new();
    s.write_config(&config(&server, &file, false), &[]);
    for r in run(&s) {
        assert_eq!(r["status"], "ok", "{r}");
    }
    assert_eq!(s.count("SELECT count(*) FROM entries"), 4);
}

/// `HTTP_PROXY` and friends are ignored unless `[fetch] proxy = "env"`: a
/// proxy resolves the names it is sent, so it would take a feed named
/// `localhost` past `block_private_addresses`. A recording server stands
/// in for the proxy.
#[test]
fn environment_proxies_are_used_only_when_configured() {
    let proxy = FeedServer::start();
    let target = FeedServer::start();
    for server in [&proxy, &target] {
        server.set("/a.xml", Route::feed(rss("A", &[(Some("a"), None, "A")])));
        server.set("/far.xml", Route::feed(rss("F", &[(Some("f"), None, "F")])));
    }
    let proxy_url = format!("http://{}", proxy.addr);
    let fetch = |s: &Scratch| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"));
        c.arg("--config")
            .arg(s.config_path())
            .args(["fetch", "--json"]);
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
        ] {
            c.env(var, &proxy_url);
        }
        let out = c
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| (v["name"].as_str().unwrap().to_string(), v))
            .collect::<std::collections::HashMap<_, _>>()
    };
    let feeds = format!(
        "[[feeds]]\nname = \"named\"\nurl = \"http://localhost:{}/a.xml\"\n\
         [[feeds]]\nname = \"far\"\nurl = \"http://feeds.invalid/far.xml\"\n",
        target.addr.port()
    );

    // The guard on, the environment not named: the proxy sees nothing, and
    // the name is refused by the guard.
    let s = Scratch::new();
    s.write_config(
        &format!("[fetch]\nblock_private_addresses = true\nhost_gap = \"0s\"\n{feeds}"),
        &[],
    );
    let r = fetch(&s);
    assert!(
        r["named"]["error"]
            .as_str()
            .is_some_and(|e| e.ends_with("(block_private_addresses)")),
        "{}",
        r["named"]
    );
    assert_ne!(r["far"]["status"], "ok", "{}", r["far"]);
    assert!(proxy.hits("/a.xml").is_empty() && proxy.hits("/far.xml").is_empty());
    assert!(target.hits("/a.xml").is_empty());

    // Named: requests go through the proxy.
    let s = Scratch::new();
    s.write_config(
        &format!("[fetch]\nproxy = \"env\"\nhost_gap = \"0s\"\n{feeds}"),
        &[],
    );
    assert!(stdout(&s.tributary(&["check"])).contains("proxy:       from the environment"));
    let r = fetch(&s);
    assert_eq!(r["far"]["status"], "ok", "{}", r["far"]);
    assert_eq!(proxy.hits("/far.xml").len(), 1);
}

/// `file://` feeds read regular files only, and at most `max_body` bytes:
/// a FIFO with no writer and `/dev/zero` would otherwise be read without
/// end. Each is refused at once, and a regular feed beside them is read.
#[test]
fn file_feeds_read_regular_files_within_max_body() {
    let s = Scratch::new();
    let fifo = s.dir.path().join("feed.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let big = s.dir.path().join("big.xml");
    std::fs::write(&big, rss("B", &[(Some("b"), None, &"x".repeat(70_000))])).unwrap();
    let small = s.dir.path().join("small.xml");
    std::fs::write(&small, rss("S", &[(Some("s"), None, "S")])).unwrap();
    s.write_config(
        "[fetch]\nmax_body = \"64 KiB\"\n",
        &[
            ("fifo", fifo.to_str().unwrap()),
            ("zero", "/dev/zero"),
            ("big", big.to_str().unwrap()),
            ("small", small.to_str().unwrap()),
        ],
    );
    let out = s.tributary(&["fetch", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: std::collections::HashMap<String, serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["name"].as_str().unwrap().to_string(), v))
        .collect();
    for (name, says) in [
        ("fifo", "not a regular file (a FIFO)"),
        ("zero", "not a regular file (a character device)"),
        ("big", "larger than the 64 KiB cap"),
    ] {
        let error = r[name]["error"].as_str().unwrap_or_default();
        assert!(
            r[name]["status"] == "permanent" && error.contains(says),
            "{}",
            r[name]
        );
    }
    assert_eq!(r["small"]["status"], "ok", "{}", r["small"]);
}

/// With the guard on, feeds with their own proxy (the loopback server
/// plays the proxy, so names never resolve here): a feed on a name is left
/// to the proxy and fetched, one on a literal private IP is refused, and a
/// redirect from an allowed first hop to a private address is refused at
/// that later hop, while a redirect to another name is followed.
#[test]
fn a_later_redirect_hop_is_checked_and_proxied_names_are_left_to_the_proxy() {
    let server = FeedServer::start();
    let port = server.addr.port();
    server.set("/b.xml", Route::feed(rss("B", &[(Some("b"), None, "B")])));
    server.set("/a.xml", Route::feed(rss("A", &[(Some("a"), None, "A")])));
    server.set(
        "/start",
        Route::feed("")
            .status(302)
            .header("location", &format!("http://127.0.0.1:{port}/a.xml")),
    );
    server.set(
        "/onward",
        Route::feed("")
            .status(302)
            .header("location", "http://other.example/b.xml"),
    );
    let proxy = format!("proxy = \"http://127.0.0.1:{port}\"");
    let s = Scratch::new();
    s.write_config(
        &format!(
            "[fetch]\nblock_private_addresses = true\nhost_gap = \"0s\"\n\
             [[feeds]]\nname = \"hop\"\nurl = \"http://feeds.example/start\"\n{proxy}\n\
             [[feeds]]\nname = \"onward\"\nurl = \"http://feeds.example/onward\"\n{proxy}\n\
             [[feeds]]\nname = \"named\"\nurl = \"http://intranet.example/b.xml\"\n{proxy}\n\
             [[feeds]]\nname = \"literal\"\nurl = \"http://10.0.0.1/b.xml\"\n{proxy}\n"
        ),
        &[],
    );
    let results: std::collections::HashMap<String, serde_json::Value> = run(&s)
        .into_iter()
        .map(|r| (r["name"].as_str().unwrap_or_default().to_string(), r))
        .collect();
    let result = |feed: &str| -> (String, String) {
        let r = &results[feed];
        let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        (field("status"), field("error"))
    };
    // The first hop went out (through the proxy); the second never did.
    assert_eq!(
        result("hop"),
        (
            "permanent".into(),
            "refused: 127.0.0.1 is a loopback address (block_private_addresses)".into()
        ),
        "{results:?}"
    );
    assert_eq!(server.hits("/start").len(), 1);
    assert!(server.hits("/a.xml").is_empty());
    // A hop to another name is followed.
    assert_eq!(result("onward").0, "ok", "{results:?}");
    // Names are the proxy's to resolve; literal private IPs are refused.
    assert_eq!(result("named").0, "ok", "{results:?}");
    assert_eq!(
        result("literal"),
        (
            "permanent".into(),
            "refused: 10.0.0.1 is a private address (block_private_addresses)".into()
        ),
        "{results:?}"
    );
    assert_eq!(server.hits("/b.xml").len(), 2);
    assert_eq!(s.count("SELECT count(*) FROM entries"), 2);
}
