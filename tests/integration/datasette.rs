//! Datasette, as people browse Tributary's database with it: with the
//! plugin in `scripts/datasette`, the view `article_html` gives every
//! article's HTML, the same bytes Tributary reads.
//!
//! Needs Python's `datasette` (`pip install datasette`); says so and
//! passes without it (CI installs it, and a skip fails there).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The body of `GET path` from 127.0.0.1:`port`, once it answers 200.
fn get(port: u16, path: &str, server: &mut Served) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(server.0.try_wait().unwrap().is_none(), "datasette exited");
        if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
            write!(c, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
            let mut answer = String::new();
            c.read_to_string(&mut answer).unwrap();
            if let Some((head, body)) = answer.split_once("\r\n\r\n") {
                assert!(
                    head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
                    "{head}\n{body}"
                );
                return body.to_string();
            }
        }
        assert!(Instant::now() < deadline, "datasette never answered");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn datasette_reads_the_articles_html_with_the_plugin() {
    if !crate::publish::available("python3", &["-c", "import datasette"]) {
        return;
    }
    let server = FeedServer::start();
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/config/samples");
    let mut feeds = Vec::new();
    for name in [
        "world-news.rss",
        "tech-blog.atom",
        "science.json",
        "releases.rdf",
    ] {
        let body = std::fs::read(format!("{samples}/{name}")).unwrap();
        server.set(&format!("/{name}"), Route::feed(body));
        feeds.push((name.replace('.', "-"), server.url(&format!("/{name}"))));
    }
    let s = Scratch::new();
    let pairs: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str()))
        .collect();
    s.write_config("", &pairs);
    let out = s.tributary(&["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));

    type Html = (i64, Option<String>, Option<String>);
    let want: Vec<Html> = {
        let c = s.db();
        let mut st = c
            .prepare("SELECT id, content_html, summary_html FROM article_html ORDER BY id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let compressed = s.count("SELECT count(*) FROM articles WHERE texts_size > length(texts_zlib)");
    let summaries = want
        .iter()
        .filter(|(_, _, summary)| summary.is_some())
        .count();
    assert!(
        want.len() >= 20 && compressed >= 10 && summaries >= 5,
        "{} articles, {compressed} compressed, {summaries} with a summary",
        want.len()
    );

    let port = free_port();
    let mut served = Served(
        Command::new("python3")
            .args(["-m", "datasette", "serve", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--plugins-dir")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/datasette"))
            .arg(s.db_path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let db = s
        .db_path()
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body = get(
        port,
        &format!("/{db}/article_html.json?_shape=array&_size=max&_sort=id"),
        &mut served,
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let got: Vec<Html> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["content_html"].as_str().map(str::to_owned),
                r["summary_html"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(got, want);
}
