//! Hostile documents against the real daemon: entity expansion, external
//! entities, broken and wide encodings, a 10 MB title, 100,000 entries,
//! deep nesting, HTML pages and empty bodies. Refused with a clear error,
//! or accepted within the caps; never a crash or a memory blow-up.

use super::{assert_healthy, feed, feeds_json, fetches, healthy, run_until_fetched, FAST};
use std::time::Duration;

use crate::child::integrity;
use crate::util::*;

fn utf16(doc: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian {
            &[0xFE, 0xFF]
        } else {
            &[0xFF, 0xFE]
        });
    }
    for u in doc.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn hostile_documents_are_refused_or_capped() {
    let (good, mut cfg) = healthy();
    let s = Scratch::new();
    let docs = FeedServer::start();
    let marker = "XXE-MARKER-7f3a9c";
    let secret_file = s.dir.path().join("secret.txt");
    std::fs::write(&secret_file, marker).unwrap();

    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n");
    laughs.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..10 {
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]>\n<rss version=\"2.0\"><channel><title>&lol9;</title><item><guid>a</guid><title>Laughs &lol9;</title><description>&lol9;</description></item></channel></rss>");
    let xxe = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY file SYSTEM \"file://{}\">\n<!ENTITY net SYSTEM \"{}\">\n<!ENTITY % remote SYSTEM \"{}\">\n%remote;]>\n\
         <rss version=\"2.0\"><channel><title>X &file;</title><item><guid>x</guid><title>XXE &file; &net;</title><description>&file;&net;</description></item></channel></rss>",
        secret_file.display(),
        docs.url("/xxe-probe"),
        docs.url("/xxe-dtd"),
    );
    let mut invalid_utf8 = rss("Bad bytes", &[(Some("u"), None, "caf\u{e9}")]).into_bytes();
    let at = invalid_utf8
        .windows(5)
        .position(|w| w == "caf\u{e9}".as_bytes())
        .unwrap();
    invalid_utf8.splice(at + 3..at + 5, [0xff, 0xfe, 0xc3]);
    let utf16_doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>Ünï</title><item><guid>w</guid><title>Wide ünïcode</title></item></channel></rss>";
    let big_title = format!(
        "<rss version=\"2.0\"><channel><title>T</title><item><guid>t</guid><title>{}</title></item></channel></rss>",
        "word ".repeat(2_000_000)
    );
    let mut many = String::from("<rss version=\"2.0\"><channel><title>Many</title>");
    for i in 0..100_000 {
        many.push_str(&format!(
            "<item><guid>m{i}</guid><title>Item {i}</title></item>"
        ));
    }
    many.push_str("</channel></rss>");
    let deep_json = format!(
        "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{{\"id\":\"1\",\"x\":{}{}}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_xml = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><guid>a</guid><foo>{}{}</foo></item></channel></rss>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let mut reopen = String::from("<p>");
    for i in 0..200 {
        reopen.push_str(&format!("<b id={i}>"));
    }
    reopen.push_str(&"<p>x".repeat(20_000));
    let deep_html = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><guid>d</guid><title>Deep</title><description>{}</description></item>\
         <item><guid>r</guid><title>Reopen</title><description>{}</description></item></channel></rss>",
        html_escape::encode_text(&format!("{}deep text{}", "<div>".repeat(20_000), "</div>".repeat(20_000))),
        html_escape::encode_text(&reopen),
    );

    // The per-entry caps: a long feed description, guid and link, 2 MiB
    // of HTML, 60 authors (one with a long name), categories, enclosures.
    let mut caps = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>Caps</title><id>urn:caps</id><updated>2026-11-23T10:00:00Z</updated>\
         <subtitle>{}</subtitle><entry><id>{}</id><title>Long guid</title>\
         <updated>2026-11-23T10:00:00Z</updated><link rel=\"alternate\" href=\"https://site.example/{}\"/>",
        "words ".repeat(3_000),
        "g".repeat(2_000),
        "x".repeat(9_000),
    );
    for i in 0..60 {
        let name = if i == 0 {
            "n".repeat(300)
        } else {
            format!("Author {i}")
        };
        caps.push_str(&format!(
            "<author><name>{name}</name></author><category term=\"cat{i}\"/>\
             <link rel=\"enclosure\" type=\"audio/mpeg\" href=\"https://cdn.example/{i}.mp3\"/>"
        ));
    }
    caps.push_str(&format!(
        "<content type=\"html\">{}</content></entry>\
         <entry><id>short-guid</id><title>Short</title><updated>2026-11-23T10:00:00Z</updated>\
         <link href=\"https://site.example/ok\"/></entry></feed>",
        html_escape::encode_text(&"<p>word word word word</p>".repeat(80_000)),
    ));

    // name, body, expected outcome, error (or note) text, entries stored.
    let cases: Vec<(&str, Vec<u8>, &str, &str, i64)> = vec![
        ("laughs", laughs.into_bytes(), "ok", "", 1),
        ("xxe", xxe.into_bytes(), "ok", "", 1),
        ("invalid-utf8", invalid_utf8, "ok", "", 1),
        ("utf16-le-bom", utf16(utf16_doc, false, true), "ok", "", 1),
        ("utf16-be", utf16(utf16_doc, true, false), "ok", "", 1),
        ("big-title", big_title.into_bytes(), "ok", "", 1),
        (
            "many",
            many.into_bytes(),
            "ok",
            "only the first 5000 entries kept; 95000 more left out",
            5000,
        ),
        (
            "deep-json",
            deep_json.into_bytes(),
            "permanent",
            "malformed JSON: nested deeper than 256 levels",
            0,
        ),
        (
            "deep-xml",
            deep_xml.into_bytes(),
            "permanent",
            "malformed XML: nested deeper than 256 levels",
            0,
        ),
        (
            "deep-html",
            deep_html.into_bytes(),
            "ok",
            "2 bodies kept as plain text (their HTML was too large or too deep to clean)",
            2,
        ),
        ("caps", caps.into_bytes(), "ok", "", 2),
        (
            "html-page",
            b"<!DOCTYPE html>\n<html><head><title>Home</title></head><body>Hi</body></html>"
                .to_vec(),
            "permanent",
            "not a feed: an HTML page",
            0,
        ),
        ("empty", Vec::new(), "permanent", "empty document", 0),
    ];
    for (name, body, _, _, _) in &cases {
        // An ETag, so that the large documents are parsed once.
        docs.set(
            &format!("/{name}"),
            Route::feed(body.clone()).etag(&format!("\"{name}\"")),
        );
        cfg.push_str(&feed(name, &docs.url(&format!("/{name}")), ""));
    }
    s.write_config(&format!("{FAST}\n{cfg}"), &[]);
    let names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let (_, log) = run_until_fetched(&s, &good, &names, 1);

    assert_eq!(integrity(&s), "ok");
    assert_healthy(&good, &s, 5, Duration::from_secs(25));
    let table = feeds_json(&s);
    for (name, _, outcome, error, entries) in &cases {
        let rows = fetches(&s, name);
        let (o, e) = &rows[0];
        assert_eq!(
            (o.as_str(), e.as_str()),
            (*outcome, *error),
            "{name}\n{log}"
        );
        assert!(
            rows[1..]
                .iter()
                .all(|(o, _)| o == "not_modified" || o == outcome),
            "{name}: {rows:?}"
        );
        if !error.is_empty() {
            assert_eq!(table[*name]["last_error"], *error, "{name}");
        }
        let stored = s.count(&format!(
            "SELECT count(*) FROM entries e JOIN feeds f ON f.id = e.feed_id WHERE f.name = '{name}'"
        ));
        assert_eq!(stored, *entries, "{name}");
    }
    let title = |guid: &str| -> String {
        s.db()
            .query_row("SELECT title FROM entries WHERE guid = ?1", [guid], |r| {
                r.get(0)
            })
            .unwrap()
    };
    // Entities are never expanded, inside or outside the document.
    assert!(!title("a").contains("lollol"), "{}", title("a"));
    assert!(docs.hits("/xxe-probe").is_empty() && docs.hits("/xxe-dtd").is_empty());
    let mut stored = std::fs::read(s.db_path()).unwrap();
    stored.extend(std::fs::read(s.dir.path().join("tributary.db-wal")).unwrap_or_default());
    assert!(
        !stored.windows(marker.len()).any(|w| w == marker.as_bytes()),
        "file content stored"
    );
    // Undecodable bytes become U+FFFD; UTF-16 either way round is read.
    // (Each of the three bad bytes is one U+FFFD: not dropped, not Latin-1.)
    assert_eq!(title("u"), "caf\u{FFFD}\u{FFFD}\u{FFFD}");
    assert_eq!(title("w"), "Wide ünïcode");
    assert_eq!(s.count("SELECT count(*) FROM entries WHERE guid = 'w'"), 2);
    // The 10 MB title is cut to 1,000 characters.
    assert_eq!(title("t").chars().count(), 1000);
    // Hostile HTML shapes are kept as text, quickly.
    let deep: String = s
        .db()
        .query_row("SELECT h.content_html FROM article_html h JOIN entries e ON e.article_id = h.id WHERE e.guid = 'd'", [], |r| r.get(0))
        .unwrap();
    assert!(
        deep.contains("deep text") && !deep.contains("<div>"),
        "{}",
        &deep[..deep.len().min(200)]
    );
    assert_caps(&s);
}

/// What the `caps` feed left in the store: each cap of the table in
/// docs/robustness.md applied.
fn assert_caps(s: &Scratch) {
    let db = s.db();
    let description: String = db
        .query_row(
            "SELECT description FROM feeds WHERE name = 'caps'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        description.chars().count(),
        4_000,
        "feed description cut to 4,000"
    );
    assert!(description.ends_with('…'));
    let (guid, url, html, authors, categories, enclosures): (
        String,
        Option<String>,
        String,
        String,
        i64,
        i64,
    ) = db
        .query_row(
            "SELECT e.guid, e.url, h.content_html, a.authors, json_array_length(a.categories),
                    json_array_length(a.enclosures)
             FROM entries e JOIN articles a ON a.id = e.article_id JOIN article_html h ON h.id = a.id
             JOIN feeds f ON f.id = e.feed_id
             WHERE f.name = 'caps' AND e.title = 'Long guid'",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    // A 2,000-byte guid becomes `sha:` and 32 hex digits.
    assert!(guid.starts_with("sha:") && guid.len() == 36, "{guid}");
    // The 9 KiB link is dropped, a short one kept.
    assert_eq!(url, None);
    let short: Option<String> = db
        .query_row(
            "SELECT url FROM entries WHERE guid = 'short-guid'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(short.as_deref(), Some("https://site.example/ok"));
    // 2 MiB of HTML is cut to its first MiB before sanitizing.
    assert!(
        (1 << 20) - (64 << 10) <= html.len() && html.len() <= (1 << 20) + (64 << 10),
        "{} bytes of HTML",
        html.len()
    );
    // 60 of each become 50; a 300-character name becomes 200.
    let names: Vec<&str> = authors.split(", ").collect();
    assert_eq!(names.len(), 50, "{authors}");
    assert_eq!(names[0].chars().count(), 200, "{}", names[0]);
    assert_eq!((categories, enclosures), (50, 50));
}
