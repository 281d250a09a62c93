//! Black-box tests of publishing: each format is parsed back by a real feed
//! parser, checked by the published schemas, and fed hostile input.
//!
//! Validator tests find the schemas in `$TRIBUTARY_VALIDATORS` (default:
//! `../shared/validators` beside the package) and use `xmllint`,
//! `check-jsonschema` and Python `feedparser` from `PATH`; each one says
//! so on stderr and passes when its tool or folder is missing.

#[path = "publish/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::{at, hostile_channel, sample_channel};
use tributary::syndication::{render, Channel, Format};

fn rendered(channel: &Channel, format: Format) -> String {
    String::from_utf8(render(channel, format)).expect("output is UTF-8")
}

fn parsed(channel: &Channel, format: Format) -> feed_rs::model::Feed {
    let document = render(channel, format);
    feed_rs::parser::parse(document.as_slice()).unwrap_or_else(|e| {
        panic!(
            "{format:?} does not parse: {e}\n{}",
            String::from_utf8_lossy(&document)
        )
    })
}

fn link_hrefs(links: &[feed_rs::model::Link], rel: &str) -> Vec<String> {
    links
        .iter()
        .filter(|l| l.rel.as_deref() == Some(rel))
        .map(|l| l.href.clone())
        .collect()
}

fn author_names(entry: &feed_rs::model::Entry) -> Vec<String> {
    entry
        .authors
        .iter()
        .map(|a| a.name.clone().unwrap_or_default())
        .collect()
}

fn category_terms(entry: &feed_rs::model::Entry) -> Vec<String> {
    entry.categories.iter().map(|c| c.term.clone()).collect()
}

#[test]
fn atom_round_trips_through_a_feed_parser() {
    let channel = sample_channel();
    let feed = parsed(&channel, Format::Atom);
    assert_eq!(feed.id, channel.id);
    assert_eq!(feed.title.unwrap().content, "Tech & Science <river>");
    assert_eq!(
        feed.updated,
        Some(at(2026, 3, 2, 9, 30, 0)),
        "latest item update wins"
    );
    assert_eq!(
        link_hrefs(&feed.links, "self"),
        ["https://river.example/tech.atom"]
    );
    assert_eq!(
        link_hrefs(&feed.links, "alternate"),
        ["https://river.example/tech"]
    );
    assert_eq!(feed.generator.unwrap().content, "Tributary");
    assert_eq!(feed.language.as_deref(), Some("en"));
    assert_eq!(feed.entries.len(), 3);

    let [first, second, third] = &feed.entries[..] else {
        unreachable!()
    };
    assert_eq!(first.id, channel.items[0].id);
    assert_eq!(first.title.as_ref().unwrap().content, "Rust 2026 & <you>");
    assert_eq!(first.published, Some(at(2026, 3, 1, 8, 0, 0)));
    assert_eq!(first.updated, Some(at(2026, 3, 2, 9, 30, 0)));
    assert_eq!(
        link_hrefs(&first.links, "alternate"),
        ["https://lwn.example/a/1"]
    );
    assert_eq!(
        link_hrefs(&first.links, "related"),
        ["https://hn.example/item?id=9", "https://blog.example/"]
    );
    let enclosure = first
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("enclosure"))
        .unwrap();
    assert_eq!(enclosure.href, "https://cdn.example/ep1.mp3");
    assert_eq!(enclosure.media_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(enclosure.length, Some(12_345_678));
    assert_eq!(author_names(first), ["Ann Author", "Bo"]);
    assert_eq!(
        first.authors[0].uri.as_deref(),
        Some("https://ann.example/")
    );
    assert_eq!(first.authors[0].email.as_deref(), Some("ann@example.org"));
    assert_eq!(category_terms(first), ["rust", "feeds"]);
    let content = first.content.as_ref().unwrap().body.as_deref().unwrap();
    assert!(
        content.starts_with("<p>Hello <b>world</b> &amp; ]]> friends</p>"),
        "{content}"
    );
    assert!(
        content.ends_with(
            "<p>Via <a href=\"https://lwn.example/\">LWN.net</a>. \
             Also in: <a href=\"https://hn.example/item?id=9\">Hacker News</a>, \
             <a href=\"https://blog.example/\">A Blog</a>.</p>"
        ),
        "{content}"
    );
    assert_eq!(first.summary.as_ref().unwrap().content, "Rust in 2026.");

    assert_eq!(
        author_names(second),
        ["LWN.net"],
        "source feed stands in for the author"
    );
    assert_eq!(
        second.authors[0].uri.as_deref(),
        Some("https://lwn.example/")
    );
    let content = second.content.as_ref().unwrap().body.as_deref().unwrap();
    assert_eq!(
        content,
        "<p>Only a summary &lt;here&gt;.</p><p>Via <a href=\"https://lwn.example/\">LWN.net</a>.</p>"
    );

    assert!(third.links.is_empty());
    assert!(
        third.content.is_some(),
        "without a link, an entry keeps (empty) content"
    );
}

#[test]
fn rss_round_trips_through_a_feed_parser() {
    let channel = sample_channel();
    let feed = parsed(&channel, Format::Rss);
    assert_eq!(feed.title.unwrap().content, "Tech & Science <river>");
    assert_eq!(feed.updated, Some(at(2026, 3, 2, 9, 30, 0)));
    assert_eq!(feed.links[0].href, "https://river.example/tech");
    assert_eq!(feed.language.as_deref(), Some("en"));
    assert_eq!(feed.entries.len(), 3);

    let first = &feed.entries[0];
    assert_eq!(first.id, channel.items[0].id, "guid is the stable id");
    assert_eq!(first.title.as_ref().unwrap().content, "Rust 2026 & <you>");
    assert_eq!(first.links[0].href, "https://lwn.example/a/1");
    assert_eq!(first.published, Some(at(2026, 3, 1, 8, 0, 0)));
    assert_eq!(category_terms(first), ["rust", "feeds"]);
    let names = author_names(first);
    assert!(
        names.contains(&"Ann Author".to_owned()) && names.contains(&"Bo".to_owned()),
        "{names:?}"
    );
    let media = &first.media[0].content[0];
    assert_eq!(
        media.url.as_ref().unwrap().as_str(),
        "https://cdn.example/ep1.mp3"
    );
    assert_eq!(media.size, Some(12_345_678));
    assert_eq!(
        media.content_type.as_ref().unwrap().to_string(),
        "audio/mpeg"
    );
    let description = first.summary.as_ref().unwrap().content.as_str();
    assert!(
        description.starts_with("<p>Hello <b>world</b>"),
        "{description}"
    );
    assert!(description.contains("Also in: <a href=\"https://hn.example/item?id=9\">"));

    assert_eq!(author_names(&feed.entries[1]), ["LWN.net"]);
    assert_eq!(feed.entries[2].id, channel.items[2].id);

    let rss = rendered(&channel, Format::Rss);
    assert!(rss.contains("<guid isPermaLink=\"false\">tag:river.example,2026:item/1</guid>"));
    assert!(rss.contains("<pubDate>Sun, 01 Mar 2026 08:00:00 GMT</pubDate>"));
    assert!(rss.contains("<lastBuildDate>Mon, 02 Mar 2026 09:30:00 GMT</lastBuildDate>"));
    assert!(rss.contains("<author>ann@example.org (Ann Author)</author>"));
    assert!(rss.contains("<source url=\"https://lwn.example/feed\">LWN.net</source>"));
    assert!(rss.contains(
        "<atom:link href=\"https://river.example/tech.rss\" rel=\"self\" type=\"application/rss+xml\"/>"
    ));
    assert!(rss.contains("<generator>Tributary "));
}

#[test]
fn json_feed_round_trips_through_a_feed_parser() {
    let channel = sample_channel();
    let feed = parsed(&channel, Format::JsonFeed);
    assert_eq!(feed.title.unwrap().content, "Tech & Science <river>");
    let first = &feed.entries[0];
    assert_eq!(first.id, channel.items[0].id);
    assert_eq!(first.title.as_ref().unwrap().content, "Rust 2026 & <you>");
    assert_eq!(first.published, Some(at(2026, 3, 1, 8, 0, 0)));
    assert_eq!(first.updated, Some(at(2026, 3, 2, 9, 30, 0)));
    assert_eq!(author_names(first), ["Ann Author", "Bo"]);
    assert_eq!(category_terms(first), ["rust", "feeds"]);
    assert!(first
        .links
        .iter()
        .any(|l| l.href == "https://lwn.example/a/1"));
    let attachment = first
        .links
        .iter()
        .find(|l| l.href.ends_with(".mp3"))
        .unwrap();
    assert_eq!(attachment.media_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(attachment.length, Some(12_345_678));
    assert_eq!(author_names(&feed.entries[1]), ["LWN.net"]);

    let json: serde_json::Value =
        serde_json::from_slice(&render(&channel, Format::JsonFeed)).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["feed_url"], "https://river.example/tech.json");
    assert_eq!(json["home_page_url"], "https://river.example/tech");
    let item = &json["items"][0];
    assert_eq!(item["date_published"], "2026-03-01T08:00:00Z");
    assert_eq!(item["summary"], "Rust in 2026.");
    let extension = &item["_tributary"];
    assert_eq!(extension["source"]["feed_name"], "lwn");
    assert_eq!(extension["source"]["title"], "LWN.net");
    assert_eq!(extension["source"]["feed_url"], "https://lwn.example/feed");
    assert_eq!(extension["also_in"][0]["title"], "Hacker News");
    assert_eq!(
        extension["also_in"][0]["url"],
        "https://hn.example/item?id=9"
    );
    assert_eq!(extension["also_in"][1]["site_url"], "https://blog.example/");
    assert!(
        json["items"][2]["content_html"].is_string(),
        "every item has content_html"
    );
}

#[test]
fn rendering_is_deterministic() {
    for format in Format::ALL {
        let once = render(&sample_channel(), format);
        assert_eq!(once, render(&sample_channel(), format), "{format:?}");
        assert_eq!(
            render(&hostile_channel(), format),
            render(&hostile_channel(), format)
        );
    }
}

#[test]
fn hostile_input_stays_well_formed_and_defused() {
    let channel = hostile_channel();
    for format in Format::ALL {
        let document = rendered(&channel, format);
        let forbidden = document
            .chars()
            .find(|&c| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}'));
        assert_eq!(forbidden, None, "{format:?}");
        let feed = parsed(&channel, format);
        assert_eq!(feed.entries.len(), channel.items.len(), "{format:?}");
        if format != Format::JsonFeed {
            assert!(!document.contains("<script"), "{format:?} leaks raw markup");
            assert!(!document.contains("]]>"), "{format:?} leaks a CDATA end");
            assert!(!document.contains("<![CDATA["), "{format:?} writes CDATA");
            assert!(
                !document.contains("javascript:"),
                "{format:?} publishes a script URL"
            );
            // Every attribute value (and every quoted HTML value) stays short.
            for after_quote in document.split("=\"").skip(1) {
                let len = after_quote.find('"').unwrap_or(after_quote.len());
                assert!(len < 10_000, "{format:?} writes a {len}-byte attribute");
            }
        }
    }
    let atom = rendered(&channel, Format::Atom);
    assert!(atom.contains("<updated>9999-12-31T23:59:59Z</updated>"));
    assert!(atom.contains("<published>0001-01-01T00:00:00Z</published>"));
    assert!(
        !atom.contains("xml:lang"),
        "a malformed language is left out"
    );
    assert!(
        !atom.contains("user:secret"),
        "credentials are never published"
    );
    assert!(atom.contains(
        "<link rel=\"alternate\" type=\"text/html\" href=\"https://bad.example/a%20b%7Cc\"/>"
    ));
}

#[test]
fn every_atom_entry_has_an_author_and_content_or_link() {
    for channel in [sample_channel(), hostile_channel()] {
        let feed = parsed(&channel, Format::Atom);
        for entry in &feed.entries {
            assert!(!entry.authors.is_empty(), "{}", entry.id);
            assert!(entry
                .authors
                .iter()
                .all(|a| a.name.as_deref().is_some_and(|n| !n.trim().is_empty())));
            let alternate = entry
                .links
                .iter()
                .any(|l| l.rel.as_deref() == Some("alternate"));
            assert!(alternate || entry.content.is_some(), "{}", entry.id);
        }
    }
}

/// The validators folder, or `None` (with a note) when it is absent.
pub(crate) fn validators() -> Option<PathBuf> {
    let dir = std::env::var_os("TRIBUTARY_VALIDATORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/validators"));
    if dir.is_dir() {
        Some(dir)
    } else {
        crate::util::skip(&format!(
            "no validators folder at {} (set TRIBUTARY_VALIDATORS)",
            dir.display()
        ));
        None
    }
}

/// Whether `program` runs, noting a skip when it does not.
pub(crate) fn available(program: &str, probe: &[&str]) -> bool {
    let runs = Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|out| out.status.success());
    if !runs {
        crate::util::skip(&format!("`{program}` is not installed"));
    }
    runs
}

/// Renders each channel in `format` into files in a fresh folder.
fn written(channels: &[Channel], format: Format) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = channels
        .iter()
        .enumerate()
        .map(|(i, channel)| {
            let path = dir.path().join(format!("feed{i}.{}", format.extension()));
            std::fs::write(&path, render(channel, format)).unwrap();
            path
        })
        .collect();
    (dir, paths)
}

pub(crate) fn run(program: &str, args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new(program).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn every_channel() -> Vec<Channel> {
    let mut empty = sample_channel();
    empty.items.clear();
    empty.description.clear();
    empty.feed_urls = Default::default();
    empty.home_page_url = None;
    vec![sample_channel(), hostile_channel(), empty]
}

#[test]
fn atom_is_valid_against_the_rfc_4287_schema() {
    let Some(dir) = validators() else { return };
    if !available("xmllint", &["--version"]) {
        return;
    }
    let schema = dir.join("atom.rng");
    let (_dir, files) = written(&every_channel(), Format::Atom);
    for file in &files {
        let (ok, report) = run(
            "xmllint",
            &[
                "--noout".as_ref(),
                "--relaxng".as_ref(),
                schema.as_os_str(),
                file.as_os_str(),
            ],
        );
        assert!(ok, "{report}\n{}", std::fs::read_to_string(file).unwrap());
    }
}

#[test]
fn rss_is_well_formed_xml() {
    if !available("xmllint", &["--version"]) {
        return;
    }
    let (_dir, files) = written(&every_channel(), Format::Rss);
    for file in &files {
        let (ok, report) = run("xmllint", &["--noout".as_ref(), file.as_os_str()]);
        assert!(ok, "{report}");
    }
}

#[test]
fn json_feed_is_valid_against_the_json_feed_1_1_schema() {
    let Some(dir) = validators() else { return };
    if !available("check-jsonschema", &["--version"]) {
        return;
    }
    let schema = dir.join("jsonfeed-v1.1.schema.json");
    let (folder, files) = written(&every_channel(), Format::JsonFeed);
    // The `uri` format is only enforced when the validator has an RFC 3986
    // checker installed; say so rather than pass silently.
    let probe = folder.path().join("probe.json");
    std::fs::write(&probe, r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","feed_url":"not a uri","items":[]}"#).unwrap();
    if run(
        "check-jsonschema",
        &[
            "--schemafile".as_ref(),
            schema.as_os_str(),
            probe.as_os_str(),
        ],
    )
    .0
    {
        crate::util::skip(
            "the `uri` format checks: check-jsonschema does not enforce them (pip install rfc3986-validator)",
        );
    }
    let mut args: Vec<&std::ffi::OsStr> = vec!["--schemafile".as_ref(), schema.as_os_str()];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let (ok, report) = run("check-jsonschema", &args);
    assert!(ok, "{report}");
}

#[test]
fn feedparser_reads_atom_and_rss_without_complaint() {
    if !available("python3", &["-c", "import feedparser"]) {
        return;
    }
    const SCRIPT: &str = "import sys, feedparser\n\
        for path in sys.argv[1:]:\n\
        \x20   d = feedparser.parse(path)\n\
        \x20   if d.bozo or not d.version: sys.exit('%s: %s %r' % (path, d.version, d.get('bozo_exception')))\n\
        \x20   if len(d.entries) and not d.entries[0].get('id'): sys.exit(path + ': entry without id')\n";
    for format in [Format::Atom, Format::Rss] {
        let (_dir, files) = written(&every_channel(), format);
        let mut args: Vec<&std::ffi::OsStr> = vec!["-c".as_ref(), SCRIPT.as_ref()];
        args.extend(files.iter().map(|f| f.as_os_str()));
        let (ok, report) = run("python3", &args);
        assert!(ok, "{format:?}: {report}");
    }
}

/// Validates rendered files: Atom against RFC 4287's RELAX NG schema, RSS as
/// well-formed XML, JSON Feed against its 1.1 schema. Each check is skipped
/// (visibly) when its tool or the validators folder is missing.
pub(crate) fn validate_files(atom: &Path, rss: &Path, json: &Path) {
    let Some(schemas) = validators() else { return };
    let cut = |r: &str| r.chars().take(2000).collect::<String>();
    if available("xmllint", &["--version"]) {
        let rng = schemas.join("atom.rng");
        let (ok, report) = run(
            "xmllint",
            &[
                "--noout".as_ref(),
                "--relaxng".as_ref(),
                rng.as_os_str(),
                atom.as_os_str(),
            ],
        );
        assert!(ok, "{} is not valid Atom: {}", atom.display(), cut(&report));
        let (ok, report) = run("xmllint", &["--noout".as_ref(), rss.as_os_str()]);
        assert!(ok, "{} is not well-formed: {}", rss.display(), cut(&report));
    }
    if available("check-jsonschema", &["--version"]) {
        let schema = schemas.join("jsonfeed-v1.1.schema.json");
        let (ok, report) = run(
            "check-jsonschema",
            &[
                "--schemafile".as_ref(),
                schema.as_os_str(),
                json.as_os_str(),
            ],
        );
        assert!(
            ok,
            "{} is not a valid JSON Feed: {}",
            json.display(),
            cut(&report)
        );
    }
}
