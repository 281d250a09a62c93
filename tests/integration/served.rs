//! Fixtures for the republishing tests: a config with tagged feeds and
//! outputs, the library's server running on 127.0.0.1 with its own runtime,
//! and a plain HTTP client that shows exactly what the server sent.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use tributary::config::Config;
use tributary::server::{serve, ServerState};
use tributary::store::SearchLimits;

use crate::util::Scratch;

/// One `[[feeds]]` entry.
pub struct Feed<'a> {
    pub name: &'a str,
    pub url: String,
    pub tags: &'a [&'a str],
}

pub fn feed<'a>(name: &'a str, url: impl Into<String>, tags: &'a [&'a str]) -> Feed<'a> {
    Feed {
        name,
        url: url.into(),
        tags,
    }
}

/// A bundled sample feed's path.
pub fn sample(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/samples")
        .join(file)
        .display()
        .to_string()
}

/// The five bundled samples, tagged as in the example config.
pub fn samples() -> Vec<Feed<'static>> {
    vec![
        feed("world-news", sample("world-news.rss"), &["news", "world"]),
        feed("wire", sample("wire.rss"), &["news"]),
        feed("tech-blog", sample("tech-blog.atom"), &["tech"]),
        feed("science", sample("science.json"), &["science"]),
        feed("releases", sample("releases.rdf"), &["tech", "releases"]),
    ]
}

/// Writes the scratch config: the store, `extra` TOML (sections such as
/// `[server]` or `[[outputs]]`), then the feeds.
pub fn write_config(scratch: &Scratch, extra: &str, feeds: &[Feed<'_>]) {
    let mut text = format!("[store]\npath = \"tributary.db\"\n\n{extra}\n");
    for f in feeds {
        let tags: Vec<String> = f.tags.iter().map(|t| format!("\"{t}\"")).collect();
        text.push_str(&format!(
            "[[feeds]]\nname = \"{}\"\nurl = \"{}\"\ntags = [{}]\n\n",
            f.name,
            f.url,
            tags.join(", ")
        ));
    }
    std::fs::write(scratch.config_path(), text).unwrap();
}

/// Runs `tributary fetch` and insists that it worked.
pub fn fetch(scratch: &Scratch) -> String {
    let out = scratch.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    crate::util::stdout(&out)
}

/// What the server answered.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// The server of the scratch config, on 127.0.0.1 with its own runtime
/// thread; stops (through the shutdown future) when dropped.
pub struct Running {
    pub addr: SocketAddr,
    state: ServerState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Running {
    pub fn start(config: &Path) -> Running {
        Running::start_state(ServerState::new(&Config::load(config).unwrap()).unwrap())
    }

    /// The server of the config at `config`, its searches within `limits`.
    pub fn start_with_search_limits(config: &Path, limits: SearchLimits) -> Running {
        let state = ServerState::new(&Config::load(config).unwrap()).unwrap();
        Running::start_state(state.with_search_limits(limits))
    }

    fn start_state(state: ServerState) -> Running {
        let served = state.clone();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let shutdown = async {
                    let _ = stopped.await;
                };
                serve(listener, served, shutdown).await.unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        // No automatic decompression: tests see the bytes as sent. No
        // pooled connections: one the server closed while idle would fail
        // the next request.
        tributary::fetch::install_crypto_provider();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Running {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
            client,
            runtime,
        }
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            Answer {
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                body: response.bytes().await.unwrap().to_vec(),
            }
        })
    }

    /// Serves the outputs of the config at `path` from now on.
    pub fn reload(&self, path: &Path) {
        let config = Config::load(path).unwrap();
        self.runtime.block_on(self.state.reload(&config));
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, &[])
    }

    /// GETs `path` until `done` holds (the server notices store changes
    /// within its check interval), failing after ten seconds.
    pub fn get_until(&self, path: &str, done: impl Fn(&Answer) -> bool) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = self.get(path);
            if done(&answer) {
                return answer;
            }
            assert!(Instant::now() < deadline, "{path} never changed");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Item ids of a JSON Feed document, in order.
pub fn json_ids(answer: &Answer) -> Vec<String> {
    answer.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Item titles of a JSON Feed document, in order.
pub fn json_titles(answer: &Answer) -> Vec<String> {
    answer.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Writes `bytes` to a file named `name` in `dir`.
pub fn save(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
