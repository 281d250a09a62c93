//! The river as subscribers see it: real feed readers subscribed to the
//! outputs the real server serves on 127.0.0.1 (`/feed.atom`, `/feed.rss`,
//! `/feed.json`, per-tag outputs and the digest feed), on a river made from
//! the bundled samples and one made from the shared real-world corpus
//! (served over HTTP from 127.0.0.1, every oddity included).
//!
//! The readers: newsboat (`newsboat -x reload`, then its SQLite cache),
//! Python feedparser and, from npm, `rss-parser` (Atom and RSS) and
//! `@extractus/feed-extractor` (JSON Feed), each run through a small script
//! in `tests/clients/` that prints what the reader shows. For every item of
//! every document each reader must show: the item (none lost), the
//! title the river published (never empty), its link, a date, the source
//! feed named, and the body taken as HTML. The documents themselves hold
//! no empty element, the Atom ones are valid against RFC 4287's schema and
//! the JSON ones against JSON Feed 1.1's.
//!
//! Each reader that is not installed is skipped visibly (SKIPPED …);
//! `.ci/run` installs them all (the npm packages into `target/clients`, or
//! wherever `TRIBUTARY_NODE_MODULES` points).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::publish::{available, run, validators};
use crate::served::*;
use crate::util::skip;
use crate::util::*;

/// What a reader showed of one item.
#[derive(Debug, Deserialize)]
struct Shown {
    id: String,
    title: String,
    link: String,
    date: bool,
    source: String,
    html: bool,
}

/// What a reader showed of one document.
#[derive(Debug, Deserialize)]
struct Document {
    url: String,
    #[serde(default)]
    error: String,
    items: Vec<Shown>,
}

/// What the river published for one item, from its JSON Feed twin.
#[derive(Debug)]
struct Published {
    title: String,
    url: Option<String>,
    source: String,
}

/// The published items of the output at `path` (any format), by id.
fn published(server: &Running, path: &str) -> HashMap<String, Published> {
    let json_path = format!("{}.json", path.rsplit_once('.').unwrap().0);
    let json = server.get(&json_path).json();
    json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let source = &i["_tributary"]["source"];
            (
                i["id"].as_str().unwrap().to_owned(),
                Published {
                    title: i["title"].as_str().unwrap_or_default().to_owned(),
                    url: i["url"].as_str().map(str::to_owned),
                    source: source["title"].as_str().unwrap_or_default().to_owned(),
                },
            )
        })
        .collect()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tallies of what went wrong, per reader and document.
#[derive(Default, Debug)]
struct Tally {
    items: usize,
    missing: usize,
    empty_titles: usize,
    wrong_titles: usize,
    no_link: usize,
    no_date: usize,
    no_source: usize,
    not_html: usize,
}

impl Tally {
    fn bad(&self) -> usize {
        self.missing
            + self.empty_titles
            + self.wrong_titles
            + self.no_link
            + self.no_date
            + self.no_source
            + self.not_html
    }
}

/// Compares what a reader showed with what was published.
fn tally(shown: &Document, expected: &HashMap<String, Published>) -> Tally {
    let mut t = Tally {
        items: shown.items.len(),
        ..Tally::default()
    };
    let by_id: HashMap<&str, &Shown> = shown.items.iter().map(|i| (i.id.as_str(), i)).collect();
    t.missing = expected
        .keys()
        .filter(|id| !by_id.contains_key(id.as_str()))
        .count();
    for item in &shown.items {
        let Some(want) = expected.get(&item.id) else {
            t.missing += 1;
            continue;
        };
        t.empty_titles += usize::from(item.title.trim().is_empty());
        t.wrong_titles += usize::from(
            !item.title.trim().is_empty() && one_line(&item.title) != one_line(&want.title),
        );
        t.no_link += usize::from(want.url.as_deref().is_some_and(|u| item.link != u));
        t.no_date += usize::from(!item.date);
        t.no_source += usize::from(one_line(&item.source) != one_line(&want.source));
        t.not_html += usize::from(!item.html);
    }
    t
}

/// Runs a reader script over `urls`: one [`Document`] per line.
fn script(program: &str, file: &str, urls: &[String], env: &[(&str, &Path)]) -> Vec<Document> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(file);
    let mut command = Command::new(program);
    command.arg(path).args(urls);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{file}: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn node_modules() -> Option<PathBuf> {
    let dir = std::env::var_os("TRIBUTARY_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/clients/node_modules")
        });
    let ok = dir.join("rss-parser").is_dir() && dir.join("@extractus/feed-extractor").is_dir();
    if !ok {
        skip(&format!(
            "rss-parser, feed-extractor: not installed in {} (see .ci/run)",
            dir.display()
        ));
    }
    (ok && available("node", &["--version"])).then_some(dir)
}

/// What newsboat shows of `url`, read from its cache after `newsboat -x
/// reload` (one cache per document: newsboat keys items by guid across
/// feeds, and the outputs share ids).
fn newsboat(url: &str, dir: &Path) -> Document {
    let home = tempfile::tempdir_in(dir).unwrap();
    let urls = home.path().join("urls");
    std::fs::write(&urls, format!("{url}\n")).unwrap();
    let config = home.path().join("config");
    std::fs::write(&config, "").unwrap();
    let cache = home.path().join("cache.db");
    let out = Command::new("newsboat")
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_DATA_HOME", home.path())
        .arg("-u")
        .arg(&urls)
        .arg("-C")
        .arg(&config)
        .arg("-c")
        .arg(&cache)
        .args(["-x", "reload"])
        .output()
        .unwrap();
    assert!(out.status.success(), "newsboat: {}", stderr(&out));
    let db = rusqlite::Connection::open(&cache).unwrap();
    let mut st = db
        .prepare("SELECT guid, title, url, pubDate, content FROM rss_item ORDER BY id")
        .unwrap();
    let items = st
        .query_map([], |r| {
            let content: String = r.get(4)?;
            // newsboat shows no source field: the body's credit line
            // ("Via …") is where its reader sees the source.
            let source = credited(&content);
            Ok(Shown {
                id: r.get(0)?,
                title: r.get(1)?,
                link: r.get(2)?,
                date: r.get::<_, i64>(3)? > 0,
                source,
                html: content.contains("</p>") || content.contains("<br"),
            })
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    Document {
        url: url.to_owned(),
        error: String::new(),
        items,
    }
}

/// The source a body's credit line names: `<p>Via <a href="…">Name</a>.`
/// or `<p>Via Name.` (see `syndication::body`).
fn credited(html: &str) -> String {
    let Some((_, credit)) = html.rsplit_once("<p>Via ") else {
        return String::new();
    };
    let name = match credit.strip_prefix("<a ") {
        Some(link) => link
            .split_once('>')
            .and_then(|(_, rest)| rest.split_once("</a>"))
            .map_or("", |(name, _)| name),
        None => credit
            .split_once(". Also in: ")
            .or_else(|| credit.rsplit_once(".</p>"))
            .map_or("", |(name, _)| name),
    };
    html_escape::decode_html_entities(name).into_owned()
}

/// Elements with nothing inside (`<title></title>`, `<content …/>`);
/// links, enclosures and categories carry their data in attributes.
fn empty_elements(xml: &str) -> Vec<String> {
    let empty =
        regex::Regex::new(r"<([A-Za-z:]+)(\s[^>]*)?>\s*</([A-Za-z:]+)>|<([A-Za-z:]+)(\s[^>]*)?/>")
            .unwrap();
    empty
        .captures_iter(xml)
        .filter_map(|c| {
            let name = c.get(1).or(c.get(4))?.as_str();
            let paired = c.get(3).is_none_or(|close| close.as_str() == name);
            let attribute_only = matches!(name, "link" | "atom:link" | "enclosure" | "category");
            (paired && !attribute_only).then(|| name.to_owned())
        })
        .collect()
}

/// Checks the served documents and every reader against `paths`; returns
/// a line per reader and document for the report.
fn check_river(label: &str, server: &Running, paths: &[String]) -> Vec<String> {
    let scratch = tempfile::tempdir().unwrap();
    let url = |p: &str| format!("http://{}{p}", server.addr);
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    let schemas = validators();
    // What was published, read before the readers run (they take a while,
    // and the server may close an idle connection meanwhile).
    let expected: HashMap<&str, HashMap<String, Published>> = paths
        .iter()
        .map(|p| (p.as_str(), published(server, p)))
        .collect();
    for path in paths {
        let doc = server.get(path);
        assert_eq!(doc.status, 200, "{path}");
        let text = doc.text();
        let file = scratch
            .path()
            .join(path.trim_start_matches('/').replace('/', "_"));
        std::fs::write(&file, &text).unwrap();
        if path.ends_with(".json") {
            if let Some(dir) = &schemas {
                if available("check-jsonschema", &["--version"]) {
                    let schema = dir.join("jsonfeed-v1.1.schema.json");
                    let (ok, report) = run(
                        "check-jsonschema",
                        &[
                            "--schemafile".as_ref(),
                            schema.as_os_str(),
                            file.as_os_str(),
                        ],
                    );
                    if !ok {
                        failures.push(format!("{path}: {report}"));
                    }
                }
            }
            continue;
        }
        let empty = empty_elements(&text);
        lines.push(format!("{label} {path}: {} empty elements", empty.len()));
        if !empty.is_empty() {
            let mut names = empty.clone();
            names.sort();
            names.dedup();
            failures.push(format!(
                "{path}: {} empty elements ({names:?})",
                empty.len()
            ));
        }
        if path.ends_with(".atom") {
            if let Some(dir) = &schemas {
                if available("xmllint", &["--version"]) {
                    let rng = dir.join("atom.rng");
                    let (ok, report) = run(
                        "xmllint",
                        &[
                            "--noout".as_ref(),
                            "--relaxng".as_ref(),
                            rng.as_os_str(),
                            file.as_os_str(),
                        ],
                    );
                    if !ok {
                        let report: String = report.lines().take(5).collect::<Vec<_>>().join("\n");
                        failures.push(format!("{path}: not valid Atom: {report}"));
                    }
                }
            }
        }
    }

    let xml: Vec<String> = paths
        .iter()
        .filter(|p| !p.ends_with(".json"))
        .map(|p| url(p))
        .collect();
    let json: Vec<String> = paths
        .iter()
        .filter(|p| p.ends_with(".json"))
        .map(|p| url(p))
        .collect();
    let mut readers: Vec<(&str, Vec<Document>)> = Vec::new();
    if available("python3", &["-c", "import feedparser"]) {
        readers.push((
            "feedparser",
            script("python3", "feedparser_items.py", &xml, &[]),
        ));
    }
    if let Some(modules) = node_modules() {
        let env = [("NODE_PATH", modules.as_path())];
        readers.push((
            "rss-parser",
            script("node", "rss_parser_items.js", &xml, &env),
        ));
        readers.push((
            "feed-extractor",
            script("node", "feed_extractor_items.js", &json, &env),
        ));
    }
    if available("newsboat", &["--version"]) {
        let docs = xml.iter().map(|u| newsboat(u, scratch.path())).collect();
        readers.push(("newsboat", docs));
    }
    for (reader, docs) in &readers {
        for doc in docs {
            let path = doc.url.trim_start_matches(&url(""));
            let expected = &expected[path];
            let t = tally(doc, expected);
            lines.push(format!(
                "{label} {reader:14} {path:28} items {:4}/{:4}  empty titles {}  other titles {}  \
                 no link {}  no date {}  no source {}  not HTML {}",
                t.items,
                expected.len(),
                t.empty_titles,
                t.wrong_titles,
                t.no_link,
                t.no_date,
                t.no_source,
                t.not_html
            ));
            if t.bad() > 0 || !doc.error.is_empty() || expected.is_empty() {
                failures.push(format!("{reader} {path}: {t:?} {}", doc.error));
            }
        }
    }
    for line in &lines {
        print_line(line);
    }
    assert!(failures.is_empty(), "{label}:\n{}", failures.join("\n"));
    lines
}

/// The outputs each river is read through: the default output, the
/// per-tag outputs named, and the digest feed.
fn paths(tags: &[&str]) -> Vec<String> {
    let mut paths = Vec::new();
    for ext in ["atom", "rss", "json"] {
        paths.push(format!("/feed.{ext}"));
        for tag in tags {
            paths.push(format!("/feeds/{tag}.{ext}"));
        }
        paths.push(format!("/digests/daily.{ext}"));
    }
    paths
}

const DIGEST: &str = "[[digests]]\nname = \"daily\"\nschedule = \"0 7 * * *\"\nmax_items = 1000\n";

#[test]
fn readers_show_every_item_of_the_samples_titled_and_credited() {
    let s = Scratch::new();
    write_config(
        &s,
        &format!(
            "[river]\nlimit = 1000\n\
             [[outputs]]\nname = \"news\"\ntags = [\"news\"]\n\
             [[outputs]]\nname = \"tech\"\ntags = [\"tech\"]\n{DIGEST}"
        ),
        &samples(),
    );
    fetch(&s);
    let out = s.tributary(&["digest", "daily"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let server = Running::start(&s.config_path());
    check_river("samples", &server, &paths(&["news", "tech"]));
}

/// The shared corpus, every input served from 127.0.0.1 with the headers
/// its manifest names.
fn serve_corpus(server: &FeedServer) -> Option<Vec<(String, String, String)>> {
    let dir = std::env::var_os("TRIBUTARY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.jsonl")).ok()?;
    let mut feeds = Vec::new();
    for line in manifest.lines() {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        if rec["role"] != "input" {
            continue;
        }
        let path = rec["path"].as_str().unwrap();
        let body = std::fs::read(dir.join(path)).unwrap();
        let content_type = rec["expectation"]["http_headers"]
            .as_array()
            .and_then(|hs| {
                hs.iter().find_map(|h| {
                    let (k, v) = (h[0].as_str()?, h[1].as_str()?);
                    k.eq_ignore_ascii_case("content-type").then(|| v.to_owned())
                })
            })
            .unwrap_or_else(|| {
                if path.ends_with(".json") {
                    "application/feed+json".into()
                } else {
                    "application/xml".into()
                }
            });
        let route = format!("/c{}", feeds.len());
        server.set(
            &route,
            Route {
                content_type,
                ..Route::feed(body)
            },
        );
        let tag = rec["source"].as_str().unwrap().to_owned();
        feeds.push((format!("c{}", feeds.len()), server.url(&route), tag));
    }
    Some(feeds)
}

#[test]
fn readers_show_every_item_of_a_corpus_river_titled_and_credited() {
    let feed_server = FeedServer::start();
    let Some(corpus) = serve_corpus(&feed_server) else {
        skip("readers_show_every_item_of_a_corpus_river_titled_and_credited: no corpus (set TRIBUTARY_CORPUS or place it at ../shared/corpus)");
        return;
    };
    let s = Scratch::new();
    let tags = ["feedparser", "w3c-feedvalidator"];
    let mut extra = String::from(
        "[fetch]\nhost_gap = \"0s\"\nper_host = 16\nconcurrency = 16\n[river]\nlimit = 1000\n",
    );
    for tag in tags {
        extra.push_str(&format!(
            "[[outputs]]\nname = \"{tag}\"\ntags = [\"{tag}\"]\nlimit = 1000\n"
        ));
    }
    extra.push_str(DIGEST);
    // Each feed tagged with the corpus source it came from.
    let tags_of: Vec<[&str; 1]> = corpus.iter().map(|(_, _, tag)| [tag.as_str()]).collect();
    let feeds: Vec<Feed<'_>> = corpus
        .iter()
        .zip(&tags_of)
        .map(|((name, url, _), tags)| feed(name, url.clone(), tags))
        .collect();
    write_config(&s, &extra, &feeds);
    // Feeds the corpus holds to be broken fail; the rest must be stored.
    let out = s.tributary(&["fetch"]);
    let summary = stdout(&out);
    assert!(
        summary.lines().last().is_some_and(|l| l.contains(" new,")),
        "{summary}"
    );
    let out = s.tributary(&["digest", "daily"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let server = Running::start(&s.config_path());
    check_river("corpus", &server, &paths(&tags));
}

/// A figure line, straight to stderr (the harness captures `eprintln!`).
fn print_line(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}
