//! Requests as an attacker would make them, against the library's server on
//! 127.0.0.1 over a real store of a few thousand articles (fetched from
//! feed files by the real binary): expensive searches are refused or
//! interrupted with a clear answer and never delay the feeds, distinct
//! requests by the thousand leave the server's caches as they were, and
//! the public index page tells what kind of error a feed has, never its
//! words.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tributary::store::SearchLimits;

use crate::served::Running;
use crate::util::*;

/// Feed files and articles in each.
const FEEDS: usize = 5;
const PER_FEED: usize = 500;

/// One GET over a plain HTTP/1.1 connection: the status, and the whole
/// response (head and body) as text.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    (status, response)
}

/// Milliseconds one GET of `path` takes (it must succeed).
fn time_get(addr: SocketAddr, path: &str) -> f64 {
    let started = Instant::now();
    let (status, _) = get(addr, path);
    assert_eq!(status, 200, "{path}");
    started.elapsed().as_secs_f64() * 1000.0
}

/// Made-up words over every initial letter, so that one-letter prefixes
/// read much of the search index (a deterministic generator).
fn words(seed: u64) -> impl FnMut() -> String {
    const SYLLABLES: [&str; 30] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "do", "pe", "ar", "ol", "in", "es", "um",
        "bra", "cli", "fro", "gre", "pla", "sto", "tri", "zen", "qu", "ex", "yo", "ju", "he", "fi",
        "wa",
    ];
    let mut state = seed;
    let mut next = move |m: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % m
    };
    move || {
        (0..2 + next(3))
            .map(|_| SYLLABLES[next(SYLLABLES.len())])
            .collect()
    }
}

/// A folder with the feed files and a store holding their articles,
/// fetched once for every test here.
fn corpus() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let s = Scratch::new();
        let mut word = words(7);
        let mut feeds = Vec::new();
        for f in 0..FEEDS {
            let items: Vec<String> = (0..PER_FEED)
                .map(|i| {
                    let n = f * PER_FEED + i;
                    let title: Vec<String> = (0..6).map(|_| word()).collect();
                    let text: Vec<String> = (0..100).map(|_| word()).collect();
                    format!(
                        "<item><title>{} {n}</title><link>https://news.example/{n}</link>\
                         <guid>https://news.example/{n}</guid><description>{}</description></item>",
                        title.join(" "),
                        text.join(" ")
                    )
                })
                .collect();
            let path = s.dir.path().join(format!("feed{f}.rss"));
            std::fs::write(&path, rss_document(&items.concat())).unwrap();
            feeds.push((format!("f{f}"), path.display().to_string()));
        }
        let feeds: Vec<(&str, &str)> = feeds
            .iter()
            .map(|(n, u)| (n.as_str(), u.as_str()))
            .collect();
        s.write_config("", &feeds);
        let out = s.tributary(&["fetch"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            s.count("SELECT count(*) FROM articles"),
            (FEEDS * PER_FEED) as i64
        );
        s.dir
    })
    .path()
}

fn rss_document(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title>\
         <link>https://news.example/</link><description>d</description>{items}</channel></rss>"
    )
}

/// A scratch folder with a copy of the corpus store and `extra` config.
fn scratch_with_corpus(extra: &str) -> Scratch {
    let s = Scratch::new();
    std::fs::copy(corpus().join("tributary.db"), s.db_path()).unwrap();
    let feeds: Vec<(String, PathBuf)> = (0..FEEDS)
        .map(|f| (format!("f{f}"), corpus().join(format!("feed{f}.rss"))))
        .collect();
    let feeds: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(n, p)| (n.as_str(), p.to_str().unwrap()))
        .collect();
    s.write_config(extra, &feeds);
    s
}

/// Every one-letter prefix: the whole index, every word a phrase to score.
fn every_letter() -> String {
    ('a'..='z')
        .map(|c| format!("{c}*"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn query(q: &str) -> String {
    format!(
        "/search?q={}",
        url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    )
}

/// A Prometheus sample's value in a `/metrics` text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

#[test]
fn search_load_does_not_delay_the_feeds_or_the_health_check() {
    let s = scratch_with_corpus("");
    // Searches as expensive as the command line allows, so that each one
    // holds its connection for a long time.
    let limits = SearchLimits {
        time_limit: Duration::from_secs(10),
        ..SearchLimits::COMMAND_LINE
    };
    let server = Running::start_with_search_limits(&s.config_path(), limits);
    let addr = server.addr;
    for path in ["/feed.atom", "/", "/healthz"] {
        get(addr, path);
    }
    // Requests spread over more than the cache's check interval, so that
    // some of them read the store: their mean and their slowest.
    let sample = |path: &str| -> Latency {
        let times: Vec<f64> = (0..30)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(40));
                time_get(addr, path)
            })
            .collect();
        Latency {
            mean: times.iter().sum::<f64>() / times.len() as f64,
            max: times.iter().copied().fold(0.0, f64::max),
        }
    };
    let idle_feed = sample("/feed.atom");
    let idle_health = sample("/healthz");
    let expensive = query(&every_letter());
    let one_search = time_get(addr, &expensive);
    let stop = AtomicBool::new(false);
    let (searched, busy) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let started = Instant::now();
    let (loaded_feed, loaded_health, loaded_index) = std::thread::scope(|scope| {
        for _ in 0..6 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    match get(addr, &expensive).0 {
                        200 => searched.fetch_add(1, Ordering::Relaxed),
                        503 => {
                            // Both slots taken: try again soon (not in a
                            // tight loop, which would only measure how the
                            // test's own threads share the cores).
                            std::thread::sleep(Duration::from_millis(10));
                            busy.fetch_add(1, Ordering::Relaxed)
                        }
                        other => panic!("search answered {other}"),
                    };
                }
            });
        }
        // Wait until both search slots are taken.
        let deadline = Instant::now() + Duration::from_secs(20);
        while get(addr, "/metrics")
            .1
            .contains("\ntributary_searches_running 0")
        {
            assert!(Instant::now() < deadline, "the searches never started");
        }
        let feed = sample("/feed.atom");
        let health = sample("/healthz");
        let index = sample("/");
        stop.store(true, Ordering::Relaxed);
        (feed, health, index)
    });
    let loaded_for = started.elapsed();
    let (searched, busy) = (searched.into_inner(), busy.into_inner());
    println!(
        "one search alone {one_search:.0} ms; /feed.atom {idle_feed} idle, {loaded_feed} under \
         load; /healthz {idle_health} idle, {loaded_health} under load; / {loaded_index} under \
         load; {searched} searches answered and {busy} refused as busy in {loaded_for:?}"
    );
    assert!(searched >= 2, "the searches ran ({searched})");
    assert!(busy > 0, "six clients, two slots: some were turned away");
    // Nothing waits for a search: on average a request takes at most a few
    // times its idle time (plus scheduling noise on cores the searches keep
    // busy), and none waits anywhere near as long as one search takes.
    for (path, idle, loaded) in [
        ("/feed.atom", idle_feed, loaded_feed),
        ("/healthz", idle_health, loaded_health),
        ("/", idle_feed, loaded_index),
    ] {
        assert!(
            loaded.mean <= 10.0 * idle.mean + 50.0 && loaded.max < one_search / 2.0,
            "{path}: {loaded} under search load, {idle} idle; one search takes {one_search:.0} ms"
        );
    }
}

/// Milliseconds a series of requests took.
#[derive(Debug, Clone, Copy)]
struct Latency {
    mean: f64,
    max: f64,
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mean {:.1} ms, max {:.1} ms", self.mean, self.max)
    }
}

#[test]
fn search_load_does_not_starve_the_watchdog() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = scratch_with_corpus(&format!("[server]\nlisten = \"127.0.0.1:{port}\"\n"));
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    // systemd kills a unit whose pings are further apart than this.
    let watchdog = Duration::from_secs(4);
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .arg("run")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", watchdog.as_micros().to_string())
        .env_remove("WATCHDOG_PID")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the daemon never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The heaviest searches the server allows, without pause, for three
    // watchdog intervals.
    let heavy = query(
        "bra* OR sto* OR tri* OR pla* OR kalo OR mine OR sate OR ruvi OR dope OR arol \
         OR inne OR esum OR fro OR gre OR cli OR zen",
    );
    let stop = AtomicBool::new(false);
    let searched = AtomicUsize::new(0);
    let mut pings = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..6 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if get(addr, &heavy).0 != 503 {
                        searched.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        let until = Instant::now() + watchdog * 3;
        let mut buf = [0u8; 4096];
        while Instant::now() < until {
            if let Ok(n) = socket.recv(&mut buf) {
                if String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .any(|l| l == "WATCHDOG=1")
                {
                    pings.push(Instant::now());
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    let _ = std::process::Command::new("kill")
        .arg(daemon.id().to_string())
        .status();
    daemon.wait().unwrap();
    let gaps: Vec<Duration> = pings.windows(2).map(|w| w[1] - w[0]).collect();
    let searched = searched.into_inner();
    println!(
        "{searched} searches; watchdog pings {} apart",
        gaps.iter()
            .map(|g| format!("{g:.1?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(searched > 0, "the searches ran");
    assert!(
        pings.len() >= 4,
        "{} pings in {:?}",
        pings.len(),
        watchdog * 3
    );
    assert!(
        gaps.iter().all(|g| *g < watchdog),
        "a watchdog ping came late: {gaps:?}"
    );
}

#[test]
fn expensive_searches_are_refused_or_interrupted_with_a_clear_answer() {
    let s = scratch_with_corpus("");
    let server = Running::start(&s.config_path());
    let addr = server.addr;
    // The shape of the request that took seconds: 494 bytes of one-letter
    // prefixes.
    let mut prefixes = String::new();
    for c in ('a'..='z').cycle() {
        if prefixes.len() + 6 > 494 {
            break;
        }
        if !prefixes.is_empty() {
            prefixes.push_str(" OR ");
        }
        prefixes.push(c);
        prefixes.push('*');
    }
    let refusals = [
        (prefixes.as_str(), "longer than 256 bytes"),
        (&every_letter()[..40], "prefix searches (word*); at most 4"),
        ("ab* OR bridge", "at least 3 letters before the *"),
        ("fe * OR kal *", "at least 3 letters"),
        (&"word ".repeat(17), "17 words; at most 16"),
    ];
    for (q, why) in refusals {
        let (status, response) = get(addr, &query(q));
        assert_eq!(status, 400, "{q}");
        assert!(
            response.contains("search refused: ") && response.contains(why),
            "{q}: {response}"
        );
    }
    // Within the limits, it runs.
    let (status, response) = get(addr, &query("bra* OR kalo OR sto*"));
    assert_eq!(status, 200, "{response}");
    assert!(response.contains("<entry>"));
    let metrics = get(addr, "/metrics").1;
    assert_eq!(
        metric(&metrics, "tributary_searches_total{result=\"refused\"}"),
        5.0
    );
    assert_eq!(
        metric(&metrics, "tributary_searches_total{result=\"ok\"}"),
        1.0
    );
    drop(server);

    // Past its time limit a search is stopped, and says so.
    let quick = SearchLimits {
        time_limit: Duration::from_millis(1),
        ..SearchLimits::SERVER
    };
    let server = Running::start_with_search_limits(&s.config_path(), quick);
    // A search that beats the 1 ms deadline (a quiet moment, a warm cache)
    // is answered, and rightly: ask again until one is stopped, counting
    // the answered ones, which must be whole answers.
    let mut answered = 0.0;
    let (status, response) = loop {
        let (status, response) = get(server.addr, &query("bra* OR sto* OR kal* OR zen*"));
        if status != 200 || answered >= 20.0 {
            break (status, response);
        }
        assert!(response.contains("</feed>"), "{response}");
        answered += 1.0;
    };
    assert_eq!(status, 503, "never stopped in 21 tries: {response}");
    assert!(response.contains("\r\nretry-after: 2\r\n"), "{response}");
    assert!(
        response.contains("was stopped; search for fewer or longer words"),
        "{response}"
    );
    assert_eq!(
        metric(
            &get(server.addr, "/metrics").1,
            "tributary_searches_total{result=\"timed_out\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &get(server.addr, "/metrics").1,
            "tributary_searches_total{result=\"ok\"}"
        ),
        answered
    );
    drop(server);

    // Two searches at a time: a third is turned away at once.
    let slow = SearchLimits {
        time_limit: Duration::from_secs(30),
        ..SearchLimits::COMMAND_LINE
    };
    let server = Running::start_with_search_limits(&s.config_path(), slow);
    let addr = server.addr;
    let expensive = query(&format!("{} OR {}", every_letter(), every_letter()));
    std::thread::scope(|scope| {
        let running: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| get(addr, &expensive).0))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !get(addr, "/metrics")
            .1
            .contains("\ntributary_searches_running 2")
        {
            assert!(Instant::now() < deadline, "the searches never started");
        }
        let (status, response) = get(addr, &query("bra*"));
        assert_eq!(status, 503, "{response}");
        assert!(
            response.contains("\r\nretry-after: 2\r\n")
                && response.contains("too many searches at once")
        );
        let statuses: Vec<u16> = running.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(statuses, [200, 200]);
    });
    // The slots are free again.
    assert_eq!(get(addr, &query("bra*")).0, 200);
}

#[test]
fn distinct_requests_by_the_thousand_leave_the_caches_as_they_were() {
    let s = scratch_with_corpus("[[digests]]\nname = \"daily\"\nschedule = \"0 7 * * *\"\n");
    let made = s.tributary(&["digest", "daily"]);
    assert!(
        stdout(&made).starts_with("digest 1 (daily): "),
        "{}",
        stdout(&made)
    );
    let server = Running::start(&s.config_path());
    let addr = server.addr;
    // Every document there is, once.
    for path in [
        "/",
        "/feed.atom",
        "/feed.rss",
        "/feed.json",
        "/opml",
        "/digests/daily.atom",
        "/digests/daily/latest.html",
        "/digests/daily/1.html",
        "/search?q=bra*",
    ] {
        assert_eq!(get(addr, path).0, 200, "{path}");
    }
    let gauges = |m: &str| {
        [
            "tributary_server_cache_documents",
            "tributary_server_cache_document_bytes",
            "tributary_server_cache_stamps",
            "tributary_server_cache_stamp_bytes",
        ]
        .map(|name| metric(m, name))
    };
    let before = gauges(&get(addr, "/metrics").1);
    let filler = "q".repeat(150);
    for i in 0..3_000 {
        let (status, _) = get(addr, &query(&format!("zz{i}{filler}")));
        assert_eq!(status, 200);
    }
    for i in 0..500 {
        // Other spellings of digest 1, and names of nothing.
        let alias = ["0", "00", "+", "+0", "000"][i % 5];
        for path in [
            format!("/digests/daily/{alias}{}1.html", "0".repeat(i / 5)),
            format!("/feeds/nothing{i}.atom"),
            format!("/digests/nothing{i}.json"),
        ] {
            assert_eq!(get(addr, &path).0, 404, "{path}");
        }
    }
    let after = gauges(&get(addr, "/metrics").1);
    println!("server cache before and after 4,500 distinct requests: {before:?} → {after:?}");
    assert_eq!(after, before);
    assert!(after[2] <= tributary::server::cache::MAX_STAMPS as f64);
    assert!(after[3] <= tributary::server::cache::MAX_STAMP_BYTES as f64);
}

#[test]
fn the_index_page_tells_the_kind_of_error_never_its_words() {
    let s = Scratch::new();
    let feed = FeedServer::start();
    feed.set(
        "/internal/feed.xml",
        Route::feed("no such feed").status(404),
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let missing = s.dir.path().join("private-folder/feed.xml");
    let internal = feed.url("/internal/feed.xml");
    let down = format!("http://{closed}/feed.xml");
    s.write_config(
        "",
        &[
            ("gone-file", missing.to_str().unwrap()),
            ("intranet", &internal),
            ("down", &down),
        ],
    );
    let out = s.tributary(&["fetch"]);
    assert!(!out.status.success() || stdout(&out).contains("failed"));
    // The detail is kept for the command line.
    let feeds = stdout(&s.tributary(&["feeds", "--json"]));
    assert!(
        feeds.contains("private-folder") && feeds.contains(&closed.to_string()),
        "{feeds}"
    );
    let server = Running::start(&s.config_path());
    let page = server.get("/").text();
    let published = s.dir.path().join("public");
    let out = s.tributary(&["publish", "--out", published.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::fs::read_to_string(published.join("index.html")).unwrap();
    let (address, closed) = (feed.addr.to_string(), closed.to_string());
    for html in [&page, &file] {
        assert!(
            html.contains("intranet") && html.contains("gone-file"),
            "{html}"
        );
        for secret in [
            "private-folder",
            s.dir.path().to_str().unwrap(),
            &address,
            &closed,
        ] {
            assert!(
                !html.contains(secret),
                "{secret} is on the public page:\n{html}"
            );
        }
        for kind in [
            "<td>HTTP 404</td>",
            "<td>file error</td>",
            "<td>refused</td>",
        ] {
            assert!(html.contains(kind), "{kind} missing:\n{html}");
        }
    }
}
