//! Test fixtures: a loopback feed server whose answers each test sets, a
//! scratch directory with a config, and a runner for the real binary.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode};

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub delay: Duration,
    pub headers: Vec<(String, String)>,
    pub gzip: bool,
}

impl Route {
    pub fn feed(body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            body: body.into(),
            content_type: "application/rss+xml; charset=utf-8".into(),
            etag: None,
            last_modified: None,
            delay: Duration::ZERO,
            headers: vec![],
            gzip: false,
        }
    }

    pub fn etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.into());
        self
    }

    pub fn last_modified(mut self, lm: &str) -> Route {
        self.last_modified = Some(lm.into());
        self
    }

    pub fn status(mut self, s: u16) -> Route {
        self.status = s;
        self
    }

    pub fn delay(mut self, d: Duration) -> Route {
        self.delay = d;
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Route {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn gzip(mut self) -> Route {
        self.gzip = true;
        self
    }
}

/// What the server saw.
#[derive(Clone, Debug)]
pub struct Hit {
    pub at: std::time::Instant,
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub authorization: Option<String>,
    pub api_key: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    /// Answered requests, recorded when the answer goes out (after any delay).
    hits: Vec<Hit>,
    /// Paths of requests as they arrive, before any delay.
    arrivals: Vec<String>,
}

/// A feed server on 127.0.0.1 with its own runtime thread; stops when dropped.
pub struct FeedServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl FeedServer {
    pub fn start() -> FeedServer {
        FeedServer::start_in(None)
    }

    /// A server inside the network namespace at `netns` (a path such as
    /// `/var/run/netns/NAME`), listening on every address there; `None`
    /// is [`FeedServer::start`].
    pub fn start_in(netns: Option<&Path>) -> FeedServer {
        let netns = netns.map(Path::to_path_buf);
        let state: Arc<Mutex<State>> = Arc::default();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let st = Arc::clone(&state);
        std::thread::spawn(move || {
            let bind = match &netns {
                Some(path) => {
                    use std::os::fd::AsRawFd as _;
                    let ns = std::fs::File::open(path).unwrap();
                    // SAFETY: a valid namespace file descriptor; only this
                    // thread (and the runtime it starts) enters it.
                    let entered = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(entered, 0, "setns {}", path.display());
                    "0.0.0.0:0"
                }
                None => "127.0.0.1:0",
            };
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(move |req: Request<Body>| {
                    let st = Arc::clone(&st);
                    async move { answer(st, req).await }
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        FeedServer {
            addr,
            state,
            _shutdown: stop_tx,
        }
    }

    pub fn set(&self, path: &str, route: Route) {
        self.state.lock().unwrap().routes.insert(path.into(), route);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many requests for `path` have arrived, answered or not (a
    /// request still in its route's delay counts here, not in `hits`).
    pub fn arrivals(&self, path: &str) -> usize {
        let state = self.state.lock().unwrap();
        state.arrivals.iter().filter(|p| *p == path).count()
    }

    /// How many requests have arrived, for any path.
    pub fn arrivals_total(&self) -> usize {
        self.state.lock().unwrap().arrivals.len()
    }

    pub fn hits(&self, path: &str) -> Vec<Hit> {
        self.state
            .lock()
            .unwrap()
            .hits
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }
}

async fn answer(state: Arc<Mutex<State>>, req: Request<Body>) -> Response<Body> {
    let path = req.uri().path().to_string();
    state.lock().unwrap().arrivals.push(path.clone());
    let headers: &HeaderMap = req.headers();
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let inm = get("if-none-match");
    let ims = get("if-modified-since");
    let authorization = get("authorization");
    let api_key = get("x-api-key");
    let user_agent = get("user-agent");
    let route = state.lock().unwrap().routes.get(&path).cloned();
    let Some(route) = route else {
        state.lock().unwrap().hits.push(Hit {
            at: std::time::Instant::now(),
            path,
            if_none_match: inm,
            if_modified_since: ims,
            authorization,
            api_key,
            user_agent,
            status: 404,
        });
        return Response::builder()
            .status(404)
            .body(Body::from("not found"))
            .unwrap();
    };
    if !route.delay.is_zero() {
        tokio::time::sleep(route.delay).await;
    }
    let not_modified = route.status == 200
        && ((route.etag.is_some() && inm == route.etag)
            || (route.etag.is_none()
                && route.last_modified.is_some()
                && ims == route.last_modified));
    let status = if not_modified { 304 } else { route.status };
    state.lock().unwrap().hits.push(Hit {
        at: std::time::Instant::now(),
        path,
        if_none_match: inm,
        if_modified_since: ims,
        authorization,
        api_key,
        user_agent,
        status,
    });
    let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap());
    if let Some(e) = &route.etag {
        b = b.header("etag", e);
    }
    if let Some(l) = &route.last_modified {
        b = b.header("last-modified", l);
    }
    for (k, v) in &route.headers {
        b = b.header(k, v);
    }
    if not_modified {
        return b.body(Body::empty()).unwrap();
    }
    b = b.header("content-type", &route.content_type);
    let body = if route.gzip {
        b = b.header("content-encoding", "gzip");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&route.body).unwrap();
        enc.finish().unwrap()
    } else {
        route.body.clone()
    };
    b.body(Body::from(body)).unwrap()
}

/// A scratch folder holding `tributary.toml` and the store.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("tributary.toml")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("tributary.db")
    }

    /// Writes a config with `[store] path = "tributary.db"`, `extra` TOML
    /// and one `[[feeds]]` per `(name, url)`.
    /// Unless `extra` configures `[server]`, the daemon's HTTP server listens
    /// on an ephemeral port, so that daemons of concurrent tests never
    /// compete for the default one.
    pub fn write_config(&self, extra: &str, feeds: &[(&str, &str)]) {
        let server = if extra.contains("[server]") {
            ""
        } else {
            "[server]\nlisten = \"127.0.0.1:0\"\n"
        };
        let mut s = format!("[store]\npath = \"tributary.db\"\n{extra}\n{server}");
        for (name, url) in feeds {
            s.push_str(&format!(
                "[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n\n"
            ));
        }
        std::fs::write(self.config_path(), s).unwrap();
    }

    pub fn tributary(&self, args: &[&str]) -> Output {
        tributary(&self.config_path(), args)
    }

    /// A connection of its own, with the schema's SQL functions (the
    /// articles' text is derived by one).
    pub fn db(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.db_path()).unwrap();
        c.busy_timeout(Duration::from_secs(10)).unwrap();
        tributary::store::register_sql_functions(&c).unwrap();
        c
    }

    pub fn count_opt(&self, sql: &str) -> Option<i64> {
        let c = rusqlite::Connection::open(self.db_path()).ok()?;
        c.busy_timeout(Duration::from_secs(5)).ok()?;
        tributary::store::register_sql_functions(&c).ok()?;
        c.query_row(sql, [], |r| r.get(0)).ok()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// Runs the real binary with `--config`.
pub fn tributary(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run tributary")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An RSS 2.0 document with `items` as (guid, link, title) triples; `None`
/// leaves the element out.
pub fn rss(title: &str, items: &[(Option<&str>, Option<&str>, &str)]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>{title}</title>\
         <link>https://site.example/</link><description>d</description>\n"
    );
    for (guid, link, t) in items {
        s.push_str("<item>");
        if let Some(g) = guid {
            s.push_str(&format!("<guid isPermaLink=\"false\">{g}</guid>"));
        }
        if let Some(l) = link {
            s.push_str(&format!("<link>{l}</link>"));
        }
        s.push_str(&format!(
            "<title>{t}</title><description>&lt;p&gt;Body of {t}.&lt;/p&gt;</description>\
             <pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// A successful fetch of feed `feed` (named `name`) whose document is an
/// RSS feed of `titles` (each its own guid), processed as of `now`: what
/// `refresh` hands the store.
pub fn fetch_record(
    feed: tributary::model::FeedId,
    name: &str,
    titles: &[&str],
    now: chrono::DateTime<chrono::Utc>,
) -> tributary::store::FetchRecord {
    let items: Vec<(Option<&str>, Option<&str>, &str)> =
        titles.iter().map(|t| (Some(*t), None, *t)).collect();
    fetch_record_of(feed, name, &rss(name, &items), now)
}

/// A successful fetch of feed `feed` (named `name`) that brought `doc`,
/// processed by `refresh::process` as of `now`.
pub fn fetch_record_of(
    feed: tributary::model::FeedId,
    name: &str,
    doc: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> tributary::store::FetchRecord {
    let processed = tributary::refresh::process(
        doc.as_bytes(),
        None,
        None,
        tributary::model::IdentityMode::Guid,
        now,
    )
    .unwrap();
    tributary::store::FetchRecord {
        feed_id: feed,
        started_at: now,
        url: format!("https://{name}.example/feed"),
        final_url: None,
        outcome: tributary::store::Outcome::Ok,
        http_status: Some(200),
        bytes: doc.len() as u64,
        duration_ms: 1,
        validators: None,
        meta: Some(processed.meta),
        entries: processed.entries,
        kept: processed.kept,
        error: None,
        dedup: true,
        story: None,
        permanent_redirect: None,
        move_held: false,
        moves_after: 3,
        retry_after_until: None,
        now,
        judged: Default::default(),
        packed_texts: Default::default(),
        pushed: false,
    }
}

/// A test that cannot run because something outside the repository is
/// missing (`../shared`, a validator, a command): says `SKIPPED {what}` on
/// stderr so a plain `cargo test` shows it, and fails instead when
/// `TRIBUTARY_REQUIRE_SHARED=1` (CI sets it, so nothing it is meant to
/// have can go missing in silence).
pub fn skip(what: &str) {
    use std::io::Write as _;
    if std::env::var_os("TRIBUTARY_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("SKIPPED {what}, and TRIBUTARY_REQUIRE_SHARED=1 makes a skip a failure");
    }
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The rows of `sql` as the `sqlite3` shell gives them (`-json`), or
/// `None` (said with [`skip`]) where there is no `sqlite3` command. The
/// shell must answer: a shell that cannot (built without zlib, so without
/// `sqlar_uncompress`) fails the test.
pub fn sqlite3_json(db: &Path, sql: &str) -> Option<Vec<serde_json::Value>> {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        skip("reading with the sqlite3 shell: no sqlite3 command (apt-get install sqlite3)");
        return None;
    }
    let out = Command::new("sqlite3")
        .args(["-json", "-readonly"])
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    if text.trim().is_empty() {
        return Some(Vec::new());
    }
    Some(serde_json::from_str(&text).unwrap())
}

/// Runs the real binary with `--config` and `args`, which must succeed,
/// and returns its peak resident memory in KiB.
// The child is reaped by `wait4`, which also reports its peak memory.
#[allow(clippy::zombie_processes)]
pub fn peak_kib(s: &Scratch, args: &[&str]) -> u64 {
    let child = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(s.config_path())
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be filled in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, once, with valid pointers.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "tributary {args:?} failed"
    );
    usage.ru_maxrss as u64
}
